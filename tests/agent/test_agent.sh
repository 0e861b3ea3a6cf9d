#!/usr/bin/env bash
# test_agent.sh -- lbsched-agent (docs/AGENT.md): detection on this machine
# against nproc, lscpu and /proc/meminfo; on recorded trees (fixtures/*.json
# expanded by mkroot.py) of a 2-socket AVX-512 Xeon, an ARM box with
# NEON/SVE, a laptop with an NPU and a TPU host; NVIDIA GPUs through the
# test-only NVML (fake_nvml.c, really dlopen()ed); the fleet file of `run`,
# its mode, its atomic replacement and the bounds on what it holds.
set -u
. "$LBS_SRCDIR/tests/testlib.sh"
agent=$LBS_AGENT
shim=$LBS_SHIM
here=$LBS_SRCDIR/tests/agent
unset LBSCHED_AGENT_ROOT LBSCHED_AGENT_NVML LBSCHED_AGENT_ROCM LBSCHED_AGENT_BROWSER_PATH
export LBSCHED_AGENT_NVML=none # never this machine's driver
export LBSCHED_AGENT_ROCM=none
# A PATH without browsers unless a test gives it some.
nobrowser=$tmp/bin
mkdir -p "$nobrowser"
for t in python3 sleep cat; do ln -s "$(command -v $t)" "$nobrowser/$t"; done

# jget FILE EXPR: a Python expression over the document d, printed.
jget() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); v=eval(sys.argv[2]); print(json.dumps(v) if isinstance(v,(list,dict,bool)) or v is None else v)' "$1" "$2"; }
# eq WHAT GOT WANT
# accepted FILE: lbsched-shim decide reads it as a fleet without a word on stderr
accepted() {
	echo '{"test_id": "t1", "minimum_memory": 1}' >"$tmp/t.jsonl"
	if "$shim" decide --workers "$1" --tests "$tmp/t.jsonl" >"$tmp/dec.out" 2>"$tmp/dec.err" &&
		grep -q '"status":"ok"' "$tmp/dec.out" && [ ! -s "$tmp/dec.err" ]; then ok
	else bad "decide refused $1: $(cat "$tmp/dec.out" "$tmp/dec.err")"; fi
}
as_fleet() { { echo '{"workers": ['; cat "$1"; echo ']}'; } >"$2"; }
root() { rm -rf "$tmp/root-$1"; python3 "$here/mkroot.py" "$here/fixtures/$1.json" "$tmp/root-$1"; }

# ---- this machine: exact agreement with nproc, lscpu, /proc/meminfo
expect_rc 0 env PATH="$nobrowser" "$agent" detect
cp "$tmp/out" "$tmp/me.json"
eq "threads vs nproc" "$(jget "$tmp/me.json" 'd["cpu_threads"]')" "$(nproc)"
eq "threads vs lscpu online" "$(jget "$tmp/me.json" 'd["cpu_threads"]')" \
	"$(lscpu -p=CPU | grep -vc '^#')"
eq "cores vs lscpu cores" "$(jget "$tmp/me.json" 'd["cpu_cores"]')" \
	"$(lscpu -p=CORE,SOCKET | grep -v '^#' | sort -u | wc -l)"
eq "sockets vs lscpu" "$(jget "$tmp/me.json" 'd["hardware_specs"]["cpu_sockets"]')" \
	"$(lscpu -p=SOCKET | grep -v '^#' | sort -u | wc -l)"
memkb=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)
eq "memory vs /proc/meminfo" "$(jget "$tmp/me.json" 'd["hardware_specs"]["total_memory_kb"]')" "$memkb"
# what the worker offers: MemTotal, or the limit of the cgroup the agent
# runs in when one is lower (a CI container's), which --explain names
lim=$(env PATH="$nobrowser" "$agent" detect --explain 2>&1 >/dev/null |
	sed -n 's|^available_memory: \(/sys/fs/cgroup/[^ ]*\) in GB.*|\1|p')
eq "memory GB${lim:+ (the limit in $lim)}" "$(jget "$tmp/me.json" 'd["available_memory"]')" \
	"$(python3 -c 'import sys; v = round(int(sys.argv[1]) / 1073741824, 2); print(int(v) if v == int(v) else v)' \
		"$(if [ -n "$lim" ]; then cat "$lim"; else echo $((memkb * 1024)); fi)")"
want=$(awk -F: '/^(flags|Features)/ {print $2; exit}' /proc/cpuinfo | python3 -c '
import sys
f = set(sys.stdin.read().split())
out = [n for n, has in (("avx", "avx" in f), ("avx2", "avx2" in f), ("avx512", "avx512f" in f),
       ("neon", "asimd" in f or "neon" in f), ("sve", "sve" in f)) if has]
print(" ".join(out))')
[ "$(lscpu -p=CPU | grep -vc '^#')" -gt "$(lscpu -p=CORE,SOCKET | grep -v '^#' | sort -u | wc -l)" ] && want="$want smt"
grep -qw rtm /proc/cpuinfo && want="$want tsx"
eq "flags vs /proc/cpuinfo" "$(jget "$tmp/me.json" '" ".join(d["hardware_specs"]["cpu_features"])')" "$want"
as_fleet "$tmp/me.json" "$tmp/me-fleet.json"
accepted "$tmp/me-fleet.json"
# --explain names a source for each field, on stderr; stdout stays the record
expect_rc 0 env PATH="$nobrowser" "$agent" detect --explain
has "$tmp/err" "cpu_cores: hwloc"
has "$tmp/err" "hardware_specs.total_memory_kb: /proc/meminfo MemTotal"
has "$tmp/err" "NVML: not used"
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$tmp/out" && ok || bad "explain broke stdout"

# ---- uname -m of other machines (fake_uname.so): a 32-bit ARM's armv6l or
# armv8l is published as it is and read as ARM without a word (the converter
# warned "unknown architecture 'armv6l', treated as OTHER"); a machine the
# taxonomy has no architecture for is published as OTHER, which it is read
# as anyway, not as a name every reader warns about
for m in armv6l:armv6l armv8l:armv8l s390x:OTHER loongarch64:OTHER; do
	expect_rc 0 env LD_PRELOAD="$LBS_FAKE_UNAME" FAKE_UNAME_MACHINE="${m%%:*}" \
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
		PATH="$nobrowser" "$agent" detect --explain
	eq "uname ${m%%:*}" "$(jget "$tmp/out" 'd["hardware_specs"]["cpu_arch"]')" "${m#*:}"
	as_fleet "$tmp/out" "$tmp/uname-fleet.json"
	accepted "$tmp/uname-fleet.json"
done
has "$tmp/err" "hardware_specs.cpu_arch: uname() machine 'loongarch64', which the taxonomy has no architecture for"

# ---- a 2-socket Xeon Gold 6248 with AVX-512; a BMC VGA (ast) that is no GPU
root xeon-2s-avx512
x=$tmp/root-xeon-2s-avx512
expect_rc 0 env PATH="$nobrowser" "$agent" detect --root "$x"
cp "$tmp/out" "$tmp/xeon.json"
eq "xeon cores" "$(jget "$tmp/xeon.json" 'd["cpu_cores"]')" 40
eq "xeon threads" "$(jget "$tmp/xeon.json" 'd["cpu_threads"]')" 80
eq "xeon id" "$(jget "$tmp/xeon.json" 'd["worker_id"]')" xeon-6248-2s
eq "xeon specs" "$(jget "$tmp/xeon.json" '[d["hardware_specs"][k] for k in ("cpu_arch","cpu_vendor","cpu_sockets","cpu_clock_mhz","total_memory_kb")]')" \
	'["x86_64", "intel", 2, 3900, 395936760]'
eq "xeon features" "$(jget "$tmp/xeon.json" 'd["hardware_specs"]["cpu_features"]')" \
	'["avx", "avx2", "avx512", "smt", "tsx"]'
eq "xeon isa has vnni" "$(jget "$tmp/xeon.json" '"avx512_vnni" in d["hardware_specs"]["cpu_isa"]')" true
eq "xeon numa" "$(jget "$tmp/xeon.json" '[n["memory_gb"] for n in d["hardware_specs"]["numa_nodes"]]')" '[188.8, 188.8]'
eq "xeon caches" "$(jget "$tmp/xeon.json" '[(c["level"],c["size_kb"],c["count"],c["type"]) for c in d["hardware_specs"]["cpu_caches"]]')" \
	'[[1, 32, 40, "data"], [1, 32, 40, "instruction"], [2, 1024, 40, "unified"], [3, 28160, 2, "unified"]]'
eq "xeon pci" "$(jget "$tmp/xeon.json" '[(p["vendor_id"],p["class_id"]) for p in d["hardware_specs"]["pci_devices"]]')" \
	'[["0x8086", "0x0600"], ["0x1a03", "0x0300"], ["0x10de", "0x0302"], ["0x15b3", "0x0207"]]'
# without NVML the NVIDIA card is seen in /sys/class/drm; the ast BMC is not a GPU
eq "xeon drm gpus" "$(jget "$tmp/xeon.json" '[d["available_accelerators"], d["has_gpu"], d["hardware_specs"]["gpu_vendor"]]')" \
	'[{"gpu": 1}, true, "nvidia"]'
eq "xeon no cuda without NVML" "$(jget "$tmp/xeon.json" 'd["supported_backends"]')" '["cpu"]'
# a Hyper-V or Azure VM's synthetic video (hyperv_drm, VMBus vendor 0x1414)
# is no GPU either: it was listed as "other GPU 1414:5353"
cp -a "$x" "$tmp/hyperv"
mkdir -p "$tmp/hyperv/sys/class/drm/card3/device"
echo 0x1414 >"$tmp/hyperv/sys/class/drm/card3/device/vendor"
echo 0x5353 >"$tmp/hyperv/sys/class/drm/card3/device/device"
ln -s ../../../bus/vmbus/drivers/hyperv_drm "$tmp/hyperv/sys/class/drm/card3/device/driver"
expect_rc 0 env PATH="$nobrowser" "$agent" detect --root "$tmp/hyperv"
eq "hyperv video is no gpu" "$(jget "$tmp/out" '[d["available_accelerators"], [g["name"] for g in d["hardware_specs"]["gpus"] if "1414" in g["name"]]]')" \
	'[{"gpu": 1}, []]'
as_fleet "$tmp/xeon.json" "$tmp/xeon-fleet.json"
accepted "$tmp/xeon-fleet.json"
# more GPUs than a record describes: all counted, the first 64 listed, and
# said (a 16-card host read as 16 GPUs for its first 16, without a word)
cp -a "$x" "$tmp/many"
for k in $(seq 10 79); do
	mkdir -p "$tmp/many/sys/class/drm/card$k/device"
	echo 0x10de >"$tmp/many/sys/class/drm/card$k/device/vendor"
	echo 0x20b0 >"$tmp/many/sys/class/drm/card$k/device/device"
done
expect_rc 0 env PATH="$nobrowser" "$agent" detect --root "$tmp/many"
eq "many gpus" "$(jget "$tmp/out" '[d["available_accelerators"]["gpu"], len(d["hardware_specs"]["gpus"])]')" '[71, 64]'
has "$tmp/err" "lbsched-agent: warning: 71 GPUs, more than the 64 a record describes"
as_fleet "$tmp/out" "$tmp/many-fleet.json"
accepted "$tmp/many-fleet.json"
# sockets of two models: an L3 of 96 MB and one of 27.5 MB are two entries,
# not 2 x 96 MB (the first cache's size times the count of all)
cp -a "$x" "$tmp/mixed"
for c in $(seq 0 19) $(seq 40 59); do echo 98304K >"$tmp/mixed/sys/devices/system/cpu/cpu$c/cache/index3/size"; done
expect_rc 0 env PATH="$nobrowser" "$agent" detect --root "$tmp/mixed"
eq "mixed L3" "$(jget "$tmp/out" '[(c["level"],c["size_kb"],c["count"]) for c in d["hardware_specs"]["cpu_caches"] if c["level"] == 3]')" \
	'[[3, 98304, 1], [3, 28160, 1]]'
as_fleet "$tmp/out" "$tmp/mixed-fleet.json"
accepted "$tmp/mixed-fleet.json"
# a record that cannot be written to stdout is said, in one line
expect_rc 1 env PATH="$nobrowser" /bin/sh -c '"$0" detect --root "$1" >/dev/full' "$agent" "$x"
lines "$tmp/err" 1
has "$tmp/err" "lbsched-agent: cannot write the record to stdout: No space left on device"

# ---- the same Xeon with two NVIDIA GPUs through the test NVML
cat >"$tmp/nvml.txt" <<'NV'
count 2
driver 550.54.15
cuda 12040
name.0 NVIDIA A100-SXM4-80GB
mem_total.0 85899345920
mem_used.0 42949672960
cc.0 8.0
sm.0 108
max_clock.0 1410
clock.0 1410
power_limit.0 400000
util.0 50
temp.0 45
slowdown.0 90
throttle.0 0
name.1 Tesla P100-PCIE-16GB
mem_total.1 17179869184
cc.1 6.0
cuda_cores.1 3584
max_clock.1 1328
power_limit.1 250000
util.1 30
NV
export FAKE_NVML=$tmp/nvml.txt
expect_rc 0 env PATH="$nobrowser" "$agent" detect --root "$x" --nvml "$LBS_FAKE_NVML" --explain
cp "$tmp/out" "$tmp/gpu.json"
has "$tmp/err" "nvmlDeviceGetCount_v2 (2 NVIDIA)"
eq "nvml gpus" "$(jget "$tmp/gpu.json" '[d["available_accelerators"], d["supported_backends"], d["software_versions"]]')" \
	'[{"gpu": 2}, ["cpu", "cuda"], {"nvidia_driver": "550.54.15", "cuda": "12.4"}]'
eq "nvml gpu 0" "$(jget "$tmp/gpu.json" '[d["hardware_specs"][k] for k in ("gpu_vendor","gpu_name","gpu_memory_gb","gpu_compute_units","gpu_clock_mhz","gpu_tensor_cores","gpu_tdp_watts")]')" \
	'["nvidia", "NVIDIA A100-SXM4-80GB", 80, 108, 1410, true, 400]'
# P100: compute capability 6.0, no tensor cores, SMs from CUDA cores / 64
eq "nvml gpu 1" "$(jget "$tmp/gpu.json" '[d["hardware_specs"]["gpus"][1][k] for k in ("name","compute_capability","tensor_cores","compute_units","memory_gb","tdp_watts")]')" \
	'["Tesla P100-PCIE-16GB", "6.0", false, 56, 16, 250]'
as_fleet "$tmp/gpu.json" "$tmp/gpu-fleet.json"
accepted "$tmp/gpu-fleet.json"
# an NVML that refuses to start: the drm card is all there is, truthfully
echo "fail_init 1" >"$tmp/nvml-fail.txt"
FAKE_NVML=$tmp/nvml-fail.txt expect_rc 0 env PATH="$nobrowser" "$agent" detect --root "$x" --nvml "$LBS_FAKE_NVML" --explain
has "$tmp/err" "nvmlInit_v2 failed"
eq "nvml refused" "$(jget "$tmp/out" 'd["available_accelerators"]')" '{"gpu": 1}'

# an NVML whose device count is no machine's (a broken library): not
# believed, rather than walked (billions of failing calls spun for seconds)
echo "count 4294967295" >"$tmp/nvml-huge.txt"
FAKE_NVML=$tmp/nvml-huge.txt expect_rc 0 env PATH="$nobrowser" "$agent" detect --root "$x" --nvml "$LBS_FAKE_NVML"
has "$tmp/err" "lbsched-agent: warning: NVML says this machine has 4294967295 GPUs, more than 4096: not believed, its GPUs are left out"
eq "nvml count not believed" "$(jget "$tmp/out" 'd["available_accelerators"]')" '{"gpu": 1}'

# an NVML that answers 0 for memory and power limit: unknown, left out, not 0
sed -e 's/^mem_total.0 .*/mem_total.0 0/' -e 's/^power_limit.0 .*/power_limit.0 0/' "$tmp/nvml.txt" >"$tmp/nvml-zero.txt"
FAKE_NVML=$tmp/nvml-zero.txt expect_rc 0 env PATH="$nobrowser" "$agent" detect --root "$x" --nvml "$LBS_FAKE_NVML"
eq "nvml zeros left out" "$(jget "$tmp/out" '[k in d["hardware_specs"] for k in ("gpu_memory_gb", "gpu_tdp_watts")] + [k in d["hardware_specs"]["gpus"][0] for k in ("memory_gb", "tdp_watts")]')" \
	'[false, false, false, false]'

# ---- a MemTotal the agent cannot read as the kernel writes it: the memory
# fields are left out, never published as 0, and --explain says why
cp -r "$x" "$tmp/mem"
for m in none empty garbage unit; do
	case $m in
	none) grep -v '^MemTotal:' "$x/proc/meminfo" ;;
	empty) sed 's/^MemTotal:.*/MemTotal:/' "$x/proc/meminfo" ;;
	garbage) sed 's/^MemTotal:.*/MemTotal: garbage kB/' "$x/proc/meminfo" ;;
	unit) sed 's/^MemTotal:.*/MemTotal: 395936760 MB/' "$x/proc/meminfo" ;;
	esac >"$tmp/mem/proc/meminfo"
	expect_rc 0 env PATH="$nobrowser" "$agent" detect --root "$tmp/mem" --explain
	eq "MemTotal $m: no memory fields" "$(jget "$tmp/out" '["available_memory" in d, "total_memory_gb" in d["hardware_specs"], "total_memory_kb" in d["hardware_specs"]]')" \
		'[false, false, false]'
	has "$tmp/err" "available_memory: none: /proc/meminfo"
done
has "$tmp/err" "MemTotal '395936760 MB' is not a positive number of kB"

# ---- a container's memory: the worker offers its cgroup's limit (the
# lowest on its path), not the machine's MemTotal, and its memory use is
# the cgroup's working set of that limit (it published the node's 377 GB)
cg() { mkdir -p "$(dirname "$tmp/cg/$1")" && printf '%s\n' "$2" >"$tmp/cg/$1"; }
rm -rf "$tmp/cg" && cp -r "$x" "$tmp/cg"
cg proc/self/cgroup "0::/kubepods/pod1/ctr"
cg sys/fs/cgroup/kubepods/memory.max 17179869184
cg sys/fs/cgroup/kubepods/pod1/memory.max 8589934592
cg sys/fs/cgroup/kubepods/pod1/ctr/memory.max max
cg sys/fs/cgroup/kubepods/pod1/memory.current 4294967296
cg sys/fs/cgroup/kubepods/pod1/memory.stat "$(printf 'anon 3221225472\nfile 1073741824\ninactive_file 1073741824')"
expect_rc 0 env PATH="$nobrowser" "$agent" detect --root "$tmp/cg" --explain
eq "cgroup v2: the pod's 8 GiB offered, the machine's memory kept as its spec" \
	"$(jget "$tmp/out" '[d["available_memory"], d["hardware_specs"]["total_memory_kb"]]')" '[8, 395936760]'
has "$tmp/err" "available_memory: /sys/fs/cgroup/kubepods/pod1/memory.max in GB: the limit of the cgroup the agent runs in"
expect_rc 0 env PATH="$nobrowser" "$agent" run --root "$tmp/cg" --file "$tmp/cg.json" --once --interval 0.1
eq "... its memory use: 4 GiB less 1 GiB of inactive cache, of 8 GiB" \
	"$(jget "$tmp/cg.json" 'd["workers"][0]["load"]["memory_utilization"]')" 37.5
# v1 (a hybrid machine lists "0::/" too), in a container without a cgroup
# namespace: the host's path is not under the container's mount, whose
# root is its own cgroup
rm -rf "$tmp/cg/sys/fs/cgroup"
cg proc/self/cgroup "$(printf '4:memory:/docker/abc\n1:cpu,cpuacct:/docker/abc\n0::/')"
cg sys/fs/cgroup/memory/memory.limit_in_bytes 2147483648
cg sys/fs/cgroup/memory/memory.usage_in_bytes 1073741824
cg sys/fs/cgroup/memory/memory.stat "$(printf 'cache 0\ntotal_inactive_file 0')"
expect_rc 0 env PATH="$nobrowser" "$agent" run --root "$tmp/cg" --file "$tmp/cg.json" --once --interval 0.1
eq "cgroup v1: the container's 2 GiB and half of it used" \
	"$(jget "$tmp/cg.json" '[d["workers"][0]["available_memory"], d["workers"][0]["load"]["memory_utilization"]]')" '[2, 50]'
# v1's "no limit" is a huge number: the machine's memory, its use from /proc/meminfo
cg sys/fs/cgroup/memory/memory.limit_in_bytes 9223372036854771712
expect_rc 0 env PATH="$nobrowser" "$agent" run --root "$tmp/cg" --file "$tmp/cg.json" --once --interval 0.1
eq "cgroup v1 without a limit: the machine's memory and use" \
	"$(jget "$tmp/cg.json" '[d["workers"][0]["available_memory"], d["workers"][0]["load"]["memory_utilization"]]')" '[377.59, 4.03]'

# ---- a container's CPU quota: as many cores and threads as it can keep
# busy (2.5 CPUs, rounded up), and its CPU use is the cgroup's CPU time of
# the quota's (it published the Xeon's 40 cores and the node's use)
rm -rf "$tmp/cg" && cp -r "$x" "$tmp/cg"
cg proc/self/cgroup "0::/kubepods/pod2/ctr"
cg sys/fs/cgroup/kubepods/pod2/cpu.max "250000 100000"
cg sys/fs/cgroup/kubepods/pod2/ctr/cpu.max "max 100000"
cg sys/fs/cgroup/kubepods/pod2/cpu.stat "$(printf 'usage_usec 1000000\nuser_usec 800000\nsystem_usec 200000')"
expect_rc 0 env PATH="$nobrowser" "$agent" detect --root "$tmp/cg" --explain
eq "cgroup v2, a quota of 2.5 CPUs: 3 cores and 3 threads of the Xeon's 40 and 80" \
	"$(jget "$tmp/out" '[d["cpu_cores"], d["cpu_threads"]]')" '[3, 3]'
has "$tmp/err" "cpu_cores: at most 3: the CPU quota of the cgroup the agent runs in, 2.50 CPUs (/sys/fs/cgroup/kubepods/pod2/cpu.max), rounded up"
# its CPU use is the cgroup's time (the recorded /proc/stat stands still,
# which gave no figure): none used, 0; ten CPUs' worth a second, which any
# delay of the writer under load still keeps past the quota's 2.5, 100
expect_rc 0 env PATH="$nobrowser" "$agent" run --root "$tmp/cg" --file "$tmp/cg.json" --once --interval 0.5
eq "cgroup v2: an idle container's CPU use" "$(jget "$tmp/cg.json" 'd["workers"][0]["load"].get("cpu_utilization")')" 0
python3 -c '
import os, sys, time
p, t0 = sys.argv[1], time.monotonic()
while time.monotonic() - t0 < 30:
    with open(p + ".new", "w") as f:
        f.write("usage_usec %d\nuser_usec 0\nsystem_usec 0\n" % (1000000 + 10000000 * (time.monotonic() - t0)))
    os.replace(p + ".new", p)
    time.sleep(0.01)' "$tmp/cg/sys/fs/cgroup/kubepods/pod2/cpu.stat" &
writer=$!
expect_rc 0 env PATH="$nobrowser" "$agent" run --root "$tmp/cg" --file "$tmp/cg.json" --once --interval 1
kill $writer 2>/dev/null; wait $writer 2>/dev/null
eq "cgroup v2: a container busy past its quota" "$(jget "$tmp/cg.json" 'd["workers"][0]["load"].get("cpu_utilization")')" 100
# v1: cpu.cfs_quota_us over cpu.cfs_period_us, the time in cpuacct
rm -rf "$tmp/cg/sys/fs/cgroup"
cg proc/self/cgroup "$(printf '3:cpu,cpuacct:/docker/abc\n4:memory:/docker/abc\n0::/')"
cg sys/fs/cgroup/cpu/cpu.cfs_quota_us 150000
cg sys/fs/cgroup/cpu/cpu.cfs_period_us 100000
cg sys/fs/cgroup/cpuacct/cpuacct.usage 5000000000
expect_rc 0 env PATH="$nobrowser" "$agent" run --root "$tmp/cg" --file "$tmp/cg.json" --once --interval 0.1
eq "cgroup v1, a quota of 1.5 CPUs: 2 cores, 2 threads, and an idle container" \
	"$(jget "$tmp/cg.json" '[d["workers"][0][k] for k in ("cpu_cores", "cpu_threads")] + [d["workers"][0]["load"].get("cpu_utilization")]')" '[2, 2, 0]'
# cpu and cpuacct as two hierarchies, the agent's cgroup not the same path
# in each: the time is read in cpuacct's own (it was looked for at cpu's
# path, and the figure went missing)
rm -rf "$tmp/cg/sys/fs/cgroup"
cg proc/self/cgroup "$(printf '3:cpuacct:/b\n2:cpu:/a\n0::/')"
cg sys/fs/cgroup/cpu/a/cpu.cfs_quota_us 150000
cg sys/fs/cgroup/cpu/a/cpu.cfs_period_us 100000
cg sys/fs/cgroup/cpuacct/b/cpuacct.usage 5000000000
expect_rc 0 env PATH="$nobrowser" "$agent" run --root "$tmp/cg" --file "$tmp/cg.json" --once --interval 0.1
eq "cgroup v1, cpu and cpuacct apart: the time from cpuacct's own cgroup" \
	"$(jget "$tmp/cg.json" '[d["workers"][0]["cpu_cores"], d["workers"][0]["load"].get("cpu_utilization")]')" '[2, 0]'
# where the hierarchies are mounted is read from /proc/self/mountinfo: a
# hybrid machine's v2 under /sys/fs/cgroup/unified (memory given to v2,
# cgroup_no_v1=memory), and a container's v1 mount whose root is its own
# cgroup (the host's path to it in /proc/self/cgroup)
rm -rf "$tmp/cg/sys/fs/cgroup"
cg proc/self/cgroup "$(printf '2:cpu,cpuacct:/docker/abc\n0::/user.slice/u.scope')"
cg proc/self/mountinfo "$(printf '%s\n' \
	'25 20 0:22 / /sys/fs/cgroup rw,nosuid - tmpfs tmpfs ro,mode=755' \
	'26 25 0:23 / /sys/fs/cgroup/unified rw,nosuid - cgroup2 cgroup2 rw' \
	'31 25 0:28 /docker/abc /sys/fs/cgroup/cpu,cpuacct rw,nosuid - cgroup cgroup rw,cpu,cpuacct')"
cg sys/fs/cgroup/unified/user.slice/memory.max 3221225472
cg sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us 350000
cg sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us 100000
cg sys/fs/cgroup/cpu,cpuacct/docker/cpu.cfs_quota_us 50000
cg sys/fs/cgroup/cpu,cpuacct/docker/cpu.cfs_period_us 100000
expect_rc 0 env PATH="$nobrowser" "$agent" detect --root "$tmp/cg" --explain
eq "mounts from mountinfo: v2 memory under unified (3 GiB), the container's own quota (3.5 CPUs)" \
	"$(jget "$tmp/out" '[d["available_memory"], d["cpu_cores"]]')" '[3, 4]'
has "$tmp/err" "available_memory: /sys/fs/cgroup/unified/user.slice/memory.max in GB"
has "$tmp/err" "cpu_cores: at most 4: the CPU quota of the cgroup the agent runs in, 3.50 CPUs (/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us over cpu.cfs_period_us), rounded up"
# a mount point with a space in its name, which mountinfo writes as \040:
# it was looked for under the escape, and the limit went unread
rm -rf "$tmp/cg/sys/fs/cgroup" "$tmp/cg/proc/self/mountinfo"
cg proc/self/cgroup "$(printf '0::/user.slice/u.scope')"
cg proc/self/mountinfo "$(printf '%s\n' '26 25 0:23 / /sys/fs/cgroup/my\040v2 rw,nosuid - cgroup2 cgroup2 rw')"
cg "sys/fs/cgroup/my v2/user.slice/memory.max" 2147483648
expect_rc 0 env PATH="$nobrowser" "$agent" detect --root "$tmp/cg" --explain
eq "a mount point with a space (\\040 in mountinfo)" "$(jget "$tmp/out" 'd["available_memory"]')" 2
has "$tmp/err" "available_memory: /sys/fs/cgroup/my v2/user.slice/memory.max in GB"
# the agent run by its own systemd unit: the unit's MemoryMax (here 64M)
# and CPUQuota=5% limit the agent, not the worker (they were published as
# 0.06 GB and 1 core, and its own CPU time as the load); a limit on the
# slice above still counts
rm -rf "$tmp/cg/sys/fs/cgroup" "$tmp/cg/proc/self/mountinfo"
cg proc/self/cgroup "0::/"
expect_rc 0 env PATH="$nobrowser" "$agent" detect --root "$tmp/cg"
whole=$(jget "$tmp/out" '[d["available_memory"], d["cpu_cores"]]')
cg proc/self/cgroup "0::/system.slice/lbsched-agent.service"
cg sys/fs/cgroup/system.slice/lbsched-agent.service/memory.max 67108864
cg sys/fs/cgroup/system.slice/lbsched-agent.service/cpu.max "5000 100000"
expect_rc 0 env PATH="$nobrowser" "$agent" detect --root "$tmp/cg" --explain
eq "under its own unit, the machine's memory and cores" "$(jget "$tmp/out" '[d["available_memory"], d["cpu_cores"]]')" "$whole"
lacks "$tmp/err" "lbsched-agent.service/"
cg sys/fs/cgroup/system.slice/memory.max 1073741824
expect_rc 0 env PATH="$nobrowser" "$agent" detect --root "$tmp/cg" --explain
eq "under its own unit, its slice's limit" "$(jget "$tmp/out" 'd["available_memory"]')" 1
has "$tmp/err" "available_memory: /sys/fs/cgroup/system.slice/memory.max in GB"

# A library named with --nvml, --rocm or their variables that cannot be
# loaded is a mistake, said at the start; only the default may be absent
# quietly, and "none" uses none
expect_rc 1 env PATH="$nobrowser" "$agent" detect --root "$x" --nvml "$tmp/no-such-nvml.so"
lines "$tmp/err" 1
has "$tmp/err" "lbsched-agent: --nvml: $tmp/no-such-nvml.so: cannot open shared object file"
expect_rc 1 env PATH="$nobrowser" LBSCHED_AGENT_ROCM="$LBS_FAKE_NVML" "$agent" detect --root "$x"
has "$tmp/err" "lbsched-agent: LBSCHED_AGENT_ROCM: $LBS_FAKE_NVML lacks rsmi_init"
expect_rc 1 env PATH="$nobrowser" "$agent" run --root "$x" --nvml "$tmp/no-such-nvml.so" --file "$tmp/nolib.json" --once --interval 0.1
has "$tmp/err" "lbsched-agent: --nvml: $tmp/no-such-nvml.so: cannot open shared object file"
[ -e "$tmp/nolib.json" ] && bad "run with an unloadable --nvml wrote its file" || ok
expect_rc 0 env PATH="$nobrowser" "$agent" detect --root "$x" --nvml none --explain
has "$tmp/err" "NVML: not used: --nvml none"
expect_rc 0 env PATH="$nobrowser" LBSCHED_AGENT_NVML=none "$agent" detect --root "$x" --explain
has "$tmp/err" "NVML: not used: LBSCHED_AGENT_NVML=none"

# ---- an AMD GPU through the test-only ROCm SMI (fake_rocm.c, really dlopen()ed):
# listed once, by ROCm SMI, and not again as its drm card
cp -r "$x" "$tmp/amd"
mkdir -p "$tmp/amd/sys/class/drm/card2/device"
echo 0x1002 >"$tmp/amd/sys/class/drm/card2/device/vendor"
echo 0x740f >"$tmp/amd/sys/class/drm/card2/device/device"
ln -s ../../../bus/pci/drivers/amdgpu "$tmp/amd/sys/class/drm/card2/device/driver"
cat >"$tmp/rocm.txt" <<'RS'
count 1
name.0 AMD Instinct MI210
vram_total.0 68719476736
vram_used.0 34359738368
busy.0 70
temp.0 95000
temp_max.0 100000
temp_crit.0 105000
power_cap.0 300000000
RS
FAKE_ROCM=$tmp/rocm.txt expect_rc 0 env PATH="$nobrowser" "$agent" detect --root "$tmp/amd" --rocm "$LBS_FAKE_ROCM" --explain
cp "$tmp/out" "$tmp/amd.json"
has "$tmp/err" "rsmi_num_monitor_devices (1 AMD)"
eq "rocm gpus" "$(jget "$tmp/amd.json" '[d["available_accelerators"], d["supported_backends"]]')" \
	'[{"gpu": 2}, ["cpu", "rocm"]]'
eq "rocm gpu 0" "$(jget "$tmp/amd.json" '[d["hardware_specs"]["gpus"][0][k] for k in ("vendor","name","memory_gb","tdp_watts")]')" \
	'["amd", "AMD Instinct MI210", 64, 300]'
eq "amd drm card not twice" "$(jget "$tmp/amd.json" '[g["name"] for g in d["hardware_specs"]["gpus"] if "1002" in g["name"]]')" '[]'
as_fleet "$tmp/amd.json" "$tmp/amd-fleet.json"
accepted "$tmp/amd-fleet.json"
# its utilisation and temperature against its own maximum in the live state
FAKE_ROCM=$tmp/rocm.txt expect_rc 0 env PATH="$nobrowser" "$agent" run --root "$tmp/amd" --rocm "$LBS_FAKE_ROCM" \
	--file "$tmp/amd-live.json" --once --interval 0.1
eq "rocm live" "$(jget "$tmp/amd-live.json" '[d["workers"][0]["load"][k] for k in ("gpu_utilization","temperature")]')" '[70, 0.95]'
# The default ROCm SMI: Debian's runtime package (librocm-smi64-1) ships
# only the versioned name, librocm_smi64.so.1, which is tried first; the
# unversioned one (a -dev package, AMD's ROCm) after it.  The fake stands
# for each, found through LD_LIBRARY_PATH as dlopen() finds a library.
# The default is this machine's library, so this machine is detected.
for so in librocm_smi64.so.1 librocm_smi64.so; do
	mkdir -p "$tmp/lib-$so"
	ln -s "$LBS_FAKE_ROCM" "$tmp/lib-$so/$so"
	FAKE_ROCM=$tmp/rocm.txt expect_rc 0 env -u LBSCHED_AGENT_ROCM LD_LIBRARY_PATH="$tmp/lib-$so" PATH="$nobrowser" \
		"$agent" detect --explain
	has "$tmp/err" "ROCm SMI: $so"
	eq "default ROCm SMI as $so" "$(jget "$tmp/out" 'd["supported_backends"]')" '["cpu", "rocm"]'
done
# neither there: not used, quietly, and both names said (unless this
# machine has ROCm SMI installed)
if ! ldconfig -p 2>/dev/null | grep -q librocm_smi64; then
	mkdir -p "$tmp/lib-none"
	expect_rc 0 env -u LBSCHED_AGENT_ROCM LD_LIBRARY_PATH="$tmp/lib-none" PATH="$nobrowser" \
		"$agent" detect --explain
	has "$tmp/err" "ROCm SMI: not used: librocm_smi64.so.1: cannot open shared object file"
	has "$tmp/err" "; librocm_smi64.so: cannot open shared object file"
fi
# A recorded tree is another machine: the default libraries are this
# machine's driver, whose GPUs went into that machine's record; there
# only a library named by --nvml, --rocm or their variables is used
mkdir -p "$tmp/lib-nvml"
ln -s "$LBS_FAKE_NVML" "$tmp/lib-nvml/libnvidia-ml.so.1"
FAKE_ROCM=$tmp/rocm.txt expect_rc 0 env -u LBSCHED_AGENT_ROCM -u LBSCHED_AGENT_NVML \
	LD_LIBRARY_PATH="$tmp/lib-nvml:$tmp/lib-librocm_smi64.so.1" PATH="$nobrowser" \
	"$agent" detect --root "$tmp/amd" --explain
eq "no default library in a tree" "$(jget "$tmp/out" '[d["supported_backends"], [g["name"] for g in d["hardware_specs"]["gpus"] if "A100" in g["name"] or "MI210" in g["name"]]]')" \
	'[["cpu"], []]'
has "$tmp/err" "NVML: not used: a recorded tree (--root) without --nvml or LBSCHED_AGENT_NVML: the default library is this machine's"
has "$tmp/err" "ROCm SMI: not used: a recorded tree (--root) without --rocm or LBSCHED_AGENT_ROCM: the default library is this machine's"
# ... and the same libraries named are used
FAKE_ROCM=$tmp/rocm.txt expect_rc 0 env -u LBSCHED_AGENT_ROCM -u LBSCHED_AGENT_NVML \
	LD_LIBRARY_PATH="$tmp/lib-nvml:$tmp/lib-librocm_smi64.so.1" PATH="$nobrowser" \
	"$agent" detect --root "$tmp/amd" --nvml libnvidia-ml.so.1 --rocm librocm_smi64.so.1
eq "named libraries in a tree" "$(jget "$tmp/out" 'd["supported_backends"]')" '["cpu", "cuda", "rocm"]'
# no ROCm SMI (or one that refuses to start): the drm card, truthfully
echo "fail_init 1" >"$tmp/rocm-fail.txt"
FAKE_ROCM=$tmp/rocm-fail.txt expect_rc 0 env PATH="$nobrowser" "$agent" detect --root "$tmp/amd" --rocm "$LBS_FAKE_ROCM" --explain
has "$tmp/err" "rsmi_init failed"
eq "rocm refused" "$(jget "$tmp/out" '[d["available_accelerators"], d["supported_backends"], [g["name"] for g in d["hardware_specs"]["gpus"] if "1002" in g["name"]]]')" \
	'[{"gpu": 2}, ["cpu"], ["amd GPU 1002:740f (amdgpu)"]]'

# ---- ARM (Graviton3-like, Neoverse V1): NEON and SVE, no SMT
root arm-graviton3
expect_rc 0 env PATH="$nobrowser" "$agent" detect --root "$tmp/root-arm-graviton3"
cp "$tmp/out" "$tmp/arm.json"
eq "arm" "$(jget "$tmp/arm.json" '[d["cpu_cores"], d["cpu_threads"], d["hardware_specs"]["cpu_arch"], d["hardware_specs"]["cpu_vendor"], d["hardware_specs"]["cpu_features"]]')" \
	'[64, 64, "aarch64", "arm", ["neon", "sve"]]'
eq "arm isa" "$(jget "$tmp/arm.json" 'd["hardware_specs"]["cpu_isa"]')" \
	'["asimd", "aes", "fphp", "asimdhp", "asimddp", "sve", "i8mm", "bf16"]'
eq "arm nothing else" "$(jget "$tmp/arm.json" '[d["has_gpu"], d["available_accelerators"], "cpu_clock_mhz" in d["hardware_specs"]]')" \
	'[false, {}, false]'
as_fleet "$tmp/arm.json" "$tmp/arm-fleet.json"
accepted "$tmp/arm-fleet.json"

# ---- ARM big.LITTLE (RK3588): cpu0-3 are Cortex-A55 at 1.8 GHz, cpu4-7
# Cortex-A76 at 2.4 GHz; the record has the machine's peak, not cpu0's
# (it was 1800), and a CPU without cpufreq (offline) is passed over
root arm-rk3588
rk=$tmp/root-arm-rk3588
rm -r "$rk/sys/devices/system/cpu/cpu7/cpufreq"
expect_rc 0 env PATH="$nobrowser" "$agent" detect --root "$rk" --explain
eq "big.LITTLE clock" "$(jget "$tmp/out" 'd["hardware_specs"]["cpu_clock_mhz"]')" 2400
has "$tmp/err" "hardware_specs.cpu_clock_mhz: /sys/devices/system/cpu/cpu4/cpufreq/cpuinfo_max_freq, the highest over the 7 CPUs with cpufreq"
as_fleet "$tmp/out" "$tmp/rk-fleet.json"
accepted "$tmp/rk-fleet.json"

# ---- a laptop with an Intel NPU under /sys/class/accel and an Xe iGPU
root npu-lunarlake
n=$tmp/root-npu-lunarlake
expect_rc 0 env PATH="$nobrowser" "$agent" detect --root "$n" --explain
cp "$tmp/out" "$tmp/npu.json"
has "$tmp/err" "/sys/class/accel/accel0 (driver intel_vpu, vendor 0x8086)"
eq "npu" "$(jget "$tmp/npu.json" '[d["available_accelerators"], d["hardware_specs"]["npu_vendor"], d["hardware_specs"]["gpu_vendor"], d["hardware_specs"]["cpu_features"]]')" \
	'[{"gpu": 1, "npu": 1}, "intel", "intel", ["avx", "avx2"]]'
as_fleet "$tmp/npu.json" "$tmp/npu-fleet.json"
accepted "$tmp/npu-fleet.json"

# ---- a TPU host: four Google PCI accelerators; its NIC and NVMe are not TPUs
root tpu-v4-host
expect_rc 0 env PATH="$nobrowser" "$agent" detect --root "$tmp/root-tpu-v4-host"
cp "$tmp/out" "$tmp/tpu.json"
eq "tpu" "$(jget "$tmp/tpu.json" '[d["available_accelerators"], d["cpu_cores"], d["cpu_threads"], d["hardware_specs"]["cpu_vendor"], d["has_gpu"]]')" \
	'[{"tpu": 4}, 16, 32, "amd", false]'
as_fleet "$tmp/tpu.json" "$tmp/tpu-fleet.json"
accepted "$tmp/tpu-fleet.json"
# ... with 70 PCI devices before its TPUs: the published list stops at 64,
# the count of TPUs does not (it was 0)
python3 - "$here/fixtures/tpu-v4-host.json" "$tmp/tpu-many.json" <<'PY'
import json, sys
box = json.load(open(sys.argv[1]))
for d in box["pci"]:
    if d["address"] >= "0000:00:05.0":  # the TPUs, after everything else
        d["address"] = "0000:c0:" + d["address"][8:]
box["pci"] += [{"address": "0000:%02x:00.0" % (0x10 + k), "vendor": "0x8086",
                "device": "0x0953", "class": "0x010802"} for k in range(70)]
json.dump(box, open(sys.argv[2], "w"))
PY
python3 "$here/mkroot.py" "$tmp/tpu-many.json" "$tmp/root-tpu-many"
expect_rc 0 env PATH="$nobrowser" "$agent" detect --root "$tmp/root-tpu-many"
eq "tpu after 64 devices" "$(jget "$tmp/out" '[d["available_accelerators"], len(d["hardware_specs"]["pci_devices"]), d["hardware_specs"]["pci_devices_total"]]')" \
	'[{"tpu": 4}, 64, 77]'

# ---- a recorded tree without a host name: not "localhost" (every such
# tree's id), but none, and --id needed
cp -a "$x" "$tmp/nohost"
rm -f "$tmp/nohost/proc/sys/kernel/hostname"
expect_rc 1 env PATH="$nobrowser" "$agent" detect --root "$tmp/nohost" --nvml none
has "$tmp/err" "lbsched-agent: $tmp/nohost/proc/sys/kernel/hostname: no host name to take for the worker id; give --id"
lines "$tmp/err" 1
expect_rc 0 env PATH="$nobrowser" "$agent" detect --root "$tmp/nohost" --nvml none --id w-nohost
eq "no hostname" "$(jget "$tmp/out" '[d["worker_id"], d.get("hostname")]')" '["w-nohost", null]'

# A root that is not there: said of the root, not of the host name under it
expect_rc 2 env PATH="$nobrowser" "$agent" detect --root "$tmp/no-such-root"
has "$tmp/err" "lbsched-agent: --root '$tmp/no-such-root': No such file or directory"
expect_rc 2 env PATH="$nobrowser" LBSCHED_AGENT_ROOT="$tmp/out" "$agent" detect
has "$tmp/err" "lbsched-agent: LBSCHED_AGENT_ROOT '$tmp/out': not a directory"

# ---- browsers on PATH, versions from --version; one that hangs is stopped.
# A recorded tree's record has none of this machine's browsers (an aarch64
# Graviton3's listed this x86 VM's chromium): there they are looked for
# only on LBSCHED_AGENT_BROWSER_PATH, which the tests below name.
br=$tmp/browsers
mkdir -p "$br"
printf '#!/bin/sh\necho "Chromium 120.0.6099.224"\n' >"$br/chromium"
chmod +x "$br/chromium"
expect_rc 0 env PATH="$br:$nobrowser" "$agent" detect --root "$tmp/root-arm-graviton3" --explain
eq "no PATH browsers in a tree" "$(jget "$tmp/out" '[d["browser_support"], d.get("software_versions", {}).get("chromium")]')" '[[], null]'
has "$tmp/err" "browser_support: none looked for: a recorded tree (--root) without LBSCHED_AGENT_BROWSER_PATH; PATH is this machine's"
expect_rc 0 env PATH="$br:$nobrowser" "$agent" detect --explain
eq "PATH browsers on this machine" "$(jget "$tmp/out" 'd["software_versions"].get("chromium")')" "120.0.6099.224"
has "$tmp/err" "browser_support: $br/chromium on PATH"
expect_rc 0 env PATH="$nobrowser" LBSCHED_AGENT_BROWSER_PATH="$br" "$agent" detect --root "$x" --explain
eq "named browsers in a tree" "$(jget "$tmp/out" 'd["browser_support"]')" '["chromium"]'
has "$tmp/err" "browser_support: $br/chromium on LBSCHED_AGENT_BROWSER_PATH"
# A directory of a browser's name is no browser (access(X_OK) says yes to
# one: the worker advertised a Firefox it did not have), nor is a file
# without exec permission; the shell's lookup skips both, and goes on.
mkdir -p "$tmp/br-dir/firefox" "$tmp/br-file"
printf '#!/bin/sh\necho "Mozilla Firefox 115.6.0esr"\n' >"$tmp/br-file/firefox"
chmod +x "$tmp/br-file/firefox"
expect_rc 0 env PATH="$nobrowser" LBSCHED_AGENT_BROWSER_PATH="$tmp/br-dir" "$agent" detect --root "$x"
eq "a directory is no browser" "$(jget "$tmp/out" 'd["browser_support"]')" '[]'
expect_rc 0 env PATH="$nobrowser" LBSCHED_AGENT_BROWSER_PATH="$tmp/br-dir:$tmp/br-file" "$agent" detect --root "$x"
eq "the next on the path" "$(jget "$tmp/out" '[d["browser_support"], d["software_versions"]]')" \
	'[["firefox"], {"firefox": "115.6.0esr"}]'
rm -f "$br/chromium"
printf '#!/bin/sh\necho "Mozilla Firefox 115.6.0esr"\n' >"$br/firefox"
printf '#!/bin/sh\nexec sleep 30\n' >"$br/google-chrome"
chmod +x "$br/firefox" "$br/google-chrome"
expect_rc 0 env PATH="$nobrowser" LBSCHED_AGENT_BROWSER_PATH="$br" "$agent" detect --root "$x"
eq "browsers" "$(jget "$tmp/out" '[d["browser_support"], d["software_versions"]]')" \
	'[["chrome", "firefox"], {"firefox": "115.6.0esr"}]'
# What a browser's --version leaves running is stopped with it (a wrapper's
# child outlived the kill, one more at each --redetect), and one that
# printed its version and exited is read at once, not after the wait.
marker=lbsched-agent-test-$$
ln -s "$(command -v sleep)" "$tmp/$marker"
printf '#!/bin/sh\n%s 30 &\necho "Chromium 120.0.6099.224"\n' "$tmp/$marker" >"$br/chromium"
printf '#!/bin/sh\n%s 30 &\nexec sleep 30\n' "$tmp/$marker" >"$br/google-chrome"
chmod +x "$br/chromium" "$br/google-chrome"
expect_rc 0 env PATH="$nobrowser" LBSCHED_AGENT_BROWSER_PATH="$br" "$agent" detect --root "$x"
eq "chromium read" "$(jget "$tmp/out" 'd["software_versions"].get("chromium")')" "120.0.6099.224"
left=$(pgrep -f "$marker" || true)
[ -z "$left" ] && ok || { bad "left running after detect: $(ps -o pid,args -p "$(echo $left | tr ' ' ,)")"; kill $left; }
rm -f "$br/chromium"

# A redetection runs a browser's --version again only when its file changed
# (an upgrade): one that hangs cost its 5 s wait at every redetection, in the
# sampling loop, and the worker dropped out of the live fleet (--ttl 5 s) each
# time.  Each run of these two appends a line to its own file.
printf '#!/bin/sh\necho run >>"%s"\necho "Mozilla Firefox 115.6.0esr"\n' "$tmp/ff.runs" >"$br/firefox"
printf '#!/bin/sh\necho run >>"%s"\nexec sleep 30\n' "$tmp/gc.runs" >"$br/google-chrome"
env PATH="$nobrowser" LBSCHED_AGENT_BROWSER_PATH="$br" "$agent" run --root "$x" --file "$tmp/br.json" --interval 0.1 --redetect 1 \
	2>"$tmp/br.err" &
pid=$!
br_version() { [ "$(jget "$tmp/br.json" 'd["workers"][0]["software_versions"].get("firefox")' 2>/dev/null)" = "$1" ]; }
until_ok 30 br_version 115.6.0esr || bad "the agent never published firefox 115.6.0esr"
printf '#!/bin/sh\necho run >>"%s"\necho "Mozilla Firefox 128.5.1esr (upgraded)"\n' "$tmp/ff.runs" >"$br/firefox"
until_ok 30 br_version 128.5.1esr && ok || bad "the upgraded firefox was never read"
kill "$pid"
wait "$pid" || true
eq "each browser's --version ran once per file (firefox, chrome)" "$(wc -l <"$tmp/ff.runs") $(wc -l <"$tmp/gc.runs")" "2 1"
has "$tmp/br.err" "lbsched-agent: '$br/google-chrome --version' did not finish in 5 s: stopped; its version is left out until the file changes"
eq "said once" "$(grep -c 'did not finish' "$tmp/br.err")" 1

# ---- run --once: the fleet file, its mode, its live state
expect_rc 0 env PATH="$nobrowser" "$agent" run --root "$n" --file "$tmp/live.json" --once --interval 0.1
eq "mode" "$(stat -c %a "$tmp/live.json")" 644
eq "live npu" "$(jget "$tmp/live.json" '[d["workers"][0]["load"][k] for k in ("temperature","memory_utilization","warming_state","cooling_state","performance_level","worker_id")]')" \
	'[0.85, 37.67, false, false, 1, "lunarlake-laptop"]'
# On this machine the first sample already has a CPU figure: /proc/stat
# is read once when the agent starts (docs/AGENT.md)
expect_rc 0 env PATH="$nobrowser" "$agent" run --file "$tmp/me-live.json" --once --interval .5
eq "first sample's cpu figure" "$(jget "$tmp/me-live.json" '"cpu_utilization" in d["workers"][0]["load"]')" true
# /proc/stat did not move between the two samples: no CPU figure, not a 0
eq "no cpu figure" "$(jget "$tmp/live.json" '"cpu_utilization" in d["workers"][0]["load"]')" false
eq "heartbeat" "$(jget "$tmp/live.json" 'd["workers"][0]["load"]["last_updated"][:2]')" 20
accepted "$tmp/live.json"
expect_rc 0 env PATH="$nobrowser" "$agent" run --root "$n" --file "$tmp/live.json" --once --interval 0.1 --mode 0600
eq "mode 0600" "$(stat -c %a "$tmp/live.json")" 600
# the target is replaced, never written through: a link to elsewhere stays intact
echo precious >"$tmp/victim"
ln -sf "$tmp/victim" "$tmp/link.json"
expect_rc 0 env PATH="$nobrowser" "$agent" run --root "$n" --file "$tmp/link.json" --once --interval 0.1
eq "victim intact" "$(cat "$tmp/victim")" precious
[ -f "$tmp/link.json" ] && [ ! -L "$tmp/link.json" ] && ok || bad "link.json not replaced by a file"
eq "no temporary left" "$(ls "$tmp" | grep -c 'live.json\.')" 0

# ---- hwmon integers read as sysfs writes them: temp*_input is signed
# millidegrees (below zero is cold, not a wrapped huge number); a limit at or
# below zero is no limit; hex, octal-looking junk or trailing text is unreadable
cp -r "$n" "$tmp/th"
rm -rf "$tmp/th/sys/class/hwmon"
h=$tmp/th/sys/class/hwmon/hwmon0
mkdir -p "$h"
# hwmon_temp INPUT MAX [CRIT]: the published temperature, or None
hwmon_temp() {
	rm -f "$h"/temp1_*
	echo "$1" >"$h/temp1_input"
	echo "$2" >"$h/temp1_max"
	[ $# -gt 2 ] && echo "$3" >"$h/temp1_crit"
	env PATH="$nobrowser" "$agent" run --root "$tmp/th" --file "$tmp/th.json" --once --interval 0.1 2>"$tmp/th.err" &&
		jget "$tmp/th.json" 'd["workers"][0]["load"].get("temperature")'
}
eq "hwmon 45 of 90" "$(hwmon_temp 45000 90000)" 0.5
eq "hwmon below zero is cold" "$(hwmon_temp -5000 90000)" 0
eq "hwmon hex input" "$(hwmon_temp 0x10 90000)" null
eq "hwmon trailing text" "$(hwmon_temp '45000 C' 90000)" null
eq "hwmon negative max, no crit" "$(hwmon_temp 45000 -1)" null
eq "hwmon negative max, crit" "$(hwmon_temp 45000 -1 90000)" 0.5

# ---- a throttled GPU: cooling, at its clock ratio; temperature against its own limit
sed -e 's/^temp.0 .*/temp.0 88/' -e 's/^clock.0 .*/clock.0 1000/' -e 's/^throttle.0 .*/throttle.0 64/' \
	"$tmp/nvml.txt" >"$tmp/nvml-hot.txt"
FAKE_NVML=$tmp/nvml-hot.txt expect_rc 0 env PATH="$nobrowser" "$agent" run --root "$x" --nvml "$LBS_FAKE_NVML" \
	--file "$tmp/hot.json" --once --interval 0.1
eq "throttled" "$(jget "$tmp/hot.json" '[d["workers"][0]["load"][k] for k in ("cooling_state","warming_state","performance_level","temperature","gpu_utilization")]')" \
	'[true, false, 0.71, 0.98, 40]'
accepted "$tmp/hot.json"

# ---- a GPU whose NVML handle fails (fallen off the bus): the record lists
# the other, and the live state samples that one by its own NVML index
{ cat "$tmp/nvml.txt"; echo "fail_handle.0 1"; } >"$tmp/nvml-lost.txt"
FAKE_NVML=$tmp/nvml-lost.txt expect_rc 0 env PATH="$nobrowser" "$agent" run --root "$x" --nvml "$LBS_FAKE_NVML" \
	--file "$tmp/lost.json" --once --interval 0.1
eq "lost GPU 0" "$(jget "$tmp/lost.json" '[[g["name"] for g in d["workers"][0]["hardware_specs"]["gpus"]], d["workers"][0]["load"].get("gpu_utilization")]')" \
	'[["Tesla P100-PCIE-16GB"], 30]'

# ---- NVML that starts working after the agent did (a driver loaded late):
# the next detection lists its GPUs, and the live state samples them
cp "$tmp/nvml-fail.txt" "$tmp/nvml-late.txt"
FAKE_NVML=$tmp/nvml-late.txt env PATH="$nobrowser" "$agent" run --root "$x" --nvml "$LBS_FAKE_NVML" \
	--file "$tmp/late.json" --interval 0.1 --redetect 1 2>"$tmp/late.err" &
pid=$!
late_written() { [ -s "$tmp/late.json" ]; }
until_ok 20 late_written || bad "the agent never wrote $tmp/late.json"
cp "$tmp/nvml.txt" "$tmp/nvml-late.txt"
late_gpus() { [ "$(jget "$tmp/late.json" '[d["workers"][0]["supported_backends"], d["workers"][0]["load"].get("gpu_utilization")]')" = '[["cpu", "cuda"], 40]' ]; }
until_ok 20 late_gpus && ok || bad "GPUs found by a later detection are not sampled: $(jget "$tmp/late.json" 'd["workers"][0]["load"]')"
kill "$pid"
wait "$pid"

# ---- a driver upgraded under a running agent: the loaded NVML fails every
# call (its RM version mismatch) until it is loaded again; the next
# detection does so, and lists the GPUs with the new driver's version
cp "$tmp/nvml.txt" "$tmp/nvml-upg.txt"
FAKE_NVML=$tmp/nvml-upg.txt env PATH="$nobrowser" "$agent" run --root "$x" --nvml "$LBS_FAKE_NVML" \
	--file "$tmp/upg.json" --interval 0.1 --redetect 1 2>"$tmp/upg.err" &
pid=$!
upg_driver() { [ "$(jget "$tmp/upg.json" '[d["workers"][0]["software_versions"].get("nvidia_driver"), len(d["workers"][0]["hardware_specs"].get("gpus", []))]' 2>/dev/null)" = "[\"$1\", 2]" ]; }
until_ok 20 upg_driver 550.54.15 || bad "the agent never published driver 550.54.15: $(cat "$tmp/upg.json")"
sed -i 's/^driver .*/driver 560.35.03/' "$tmp/nvml-upg.txt"
until_ok 20 upg_driver 560.35.03 && ok || bad "after the driver's upgrade: $(jget "$tmp/upg.json" '[d["workers"][0]["software_versions"], d["workers"][0]["hardware_specs"].get("gpus")]')"
kill "$pid"
wait "$pid"
has "$tmp/upg.err" "lbsched-agent: warning: NVML stopped answering (its driver upgraded or reloaded?): loaded again"

# ---- CPU use between two samples, while the agent keeps running
cp -r "$x" "$tmp/moving"
env PATH="$nobrowser" "$agent" run --root "$tmp/moving" --file "$tmp/moving.json" --interval 0.1 2>"$tmp/run.err" &
pid=$!
for _ in $(seq 100); do [ -s "$tmp/moving.json" ] && break; sleep 0.1; done
# 300 more busy jiffies and 100 more idle: 75 %
echo "cpu  1300 0 1000 8100 0 0 0 0 0 0" >"$tmp/moving/proc/stat"
got=""
for _ in $(seq 100); do
	got=$(jget "$tmp/moving.json" 'd["workers"][0]["load"].get("cpu_utilization")' 2>/dev/null) || { bad "a reader saw a partial file"; break; }
	[ "$got" = 75 ] && break
	sleep 0.1
done
eq "cpu utilisation" "$got" 75
kill "$pid"
wait "$pid"
eq "exit on SIGTERM" "$?" 0
[ -s "$tmp/run.err" ] && bad "run wrote to stderr: $(cat "$tmp/run.err")" || ok
# a closed terminal (SIGHUP) stops it as cleanly, unless SIGHUP was ignored
# when it started (nohup, or a test run itself started under nohup): it
# keeps that.  Every wait is bounded, so a signal that does nothing fails
# the check instead of hanging the test.
ended_within() { # ended_within PID TENTHS: 0 and $ended_rc once PID exits; else kill it, 1
	local k
	for k in $(seq "$2"); do
		if ! kill -0 "$1" 2>/dev/null; then wait "$1"; ended_rc=$?; return 0; fi
		sleep 0.1
	done
	kill -9 "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 1
}
hup_ignored=$(( 0x$(awk '/^SigIgn:/ {print $2}' /proc/$$/status) & 1 ))
rm -f "$tmp/moving.json"
env PATH="$nobrowser" "$agent" run --root "$tmp/moving" --file "$tmp/moving.json" --interval 0.1 2>"$tmp/run.err" &
pid=$!
for _ in $(seq 100); do [ -s "$tmp/moving.json" ] && break; sleep 0.1; done
kill -HUP "$pid"
if [ "$hup_ignored" = 0 ]; then
	ended_within "$pid" 100 && eq "exit on SIGHUP" "$ended_rc" 0 || bad "SIGHUP did not stop the agent"
else
	echo "SKIP: SIGHUP is ignored in this run (started under nohup); the agent rightly keeps it so"
	kill "$pid"
	ended_within "$pid" 100 || bad "SIGTERM did not stop the agent"
fi
# --once stopped before its sample has published nothing: status 1, said
rm -f "$tmp/once.json"
env PATH="$nobrowser" "$agent" run --root "$n" --file "$tmp/once.json" --once --interval 3600 2>"$tmp/once.err" &
pid=$!
# SIGTERM once the agent catches it (SigCgt bit 15), not while it is
# starting; and the agent's, not the forked shell's before its exec (bash
# with an EXIT trap catches SIGTERM too: under load the kill reached it
# there, and ran the trap)
term_caught() { [ "$(cat /proc/$pid/comm 2>/dev/null)" = lbsched-agent ] &&
	[ $(( 0x$(awk '/^SigCgt:/ {print $2}' /proc/$pid/status 2>/dev/null || echo 0) & 0x4000 )) != 0 ]; }
until_ok 20 term_caught || bad "the agent never caught SIGTERM"
kill "$pid"
ended_within "$pid" 100 && eq "--once stopped before its sample" "$ended_rc" 1 || bad "SIGTERM did not stop --once"
has "$tmp/once.err" "lbsched-agent: stopped by a signal before the sample was published"
lines "$tmp/once.err" 1
[ -e "$tmp/once.json" ] && bad "--once stopped before its sample wrote $tmp/once.json" || ok
# A SIGTERM that arrives after the agent tested its stop flag and before it
# began to wait for the next sample ends that wait: it was lost for the
# whole interval (systemctl stop timed out with --interval 3600).
# signal_gap.so raises it at that moment, as the agent starts a wait of
# more than 1000 s, whatever call it waits with (an ASan build's runtime
# is then not first among the libraries, and is told that is fine).
env LD_PRELOAD="$LBS_SIGNAL_GAP" ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
	PATH="$nobrowser" "$agent" run --root "$n" --file "$tmp/gap.json" --interval 3600 2>"$tmp/gap.err" &
pid=$!
ended_within "$pid" 200 && eq "a SIGTERM just before the wait stops it" "$ended_rc" 0 ||
	bad "a SIGTERM that came just before the wait was lost for the interval"
lines "$tmp/gap.err" 0
# run's first sample does not wait for the interval: a start or a restart
# with --interval 3600 left the worker out of the fleet for an hour
rm -f "$tmp/first.json"
env PATH="$nobrowser" "$agent" run --root "$n" --file "$tmp/first.json" --interval 3600 2>"$tmp/first.err" &
pid=$!
first_written() { [ -s "$tmp/first.json" ]; }
until_ok 20 first_written && ok || bad "run --interval 3600 published nothing in its first 20 s"
kill "$pid"
ended_within "$pid" 100 && eq "run --interval 3600 stopped after its first sample" "$ended_rc" 0 ||
	bad "SIGTERM did not stop run --interval 3600"
lines "$tmp/first.err" 0
# ... and under nohup, which asked to outlive the terminal, it keeps going.
# The HUP goes only to the agent itself: while nohup has not yet set SIGHUP
# ignored and exec'd, it would kill nohup.  Its file appearing is the sign.
rm -f "$tmp/moving.json"
nohup env PATH="$nobrowser" "$agent" run --root "$tmp/moving" --file "$tmp/moving.json" --interval 0.1 \
	>/dev/null 2>"$tmp/run.err" </dev/null &
pid=$!
moving_written() { [ -s "$tmp/moving.json" ]; }
if until_ok 20 moving_written; then
	kill -HUP "$pid"
	# it goes on writing after the HUP: its file, removed, comes back twice
	# (the second time from a sample begun after the signal)
	rm -f "$tmp/moving.json"
	until_ok 20 moving_written && rm -f "$tmp/moving.json" && until_ok 20 moving_written &&
		kill -0 "$pid" 2>/dev/null && ok || bad "SIGHUP stopped an agent started under nohup"
else
	bad "the agent under nohup never wrote $tmp/moving.json"
fi
kill "$pid" 2>/dev/null
ended_within "$pid" 100 || true

# ---- CPU clocks from cpufreq: rising under load is warming, falling while hot is cooling
cp -r "$n" "$tmp/clk"
env PATH="$nobrowser" "$agent" run --root "$tmp/clk" --file "$tmp/clk.json" --interval 1 --redetect 1 2>"$tmp/clk.err" &
pid=$!
for _ in $(seq 100); do [ -s "$tmp/clk.json" ] && break; sleep 0.1; done
eq "clocks at half, steady" "$(jget "$tmp/clk.json" '[d["workers"][0]["load"][k] for k in ("warming_state","cooling_state","performance_level")]')" \
	'[false, false, 1]'
# files replaced whole: a read of sysfs is never torn
put() { printf '%s\n' "$2" >"$1.new" && mv -f "$1.new" "$1"; }
setclk() { for c in 0 1 2 3 4 5 6 7; do put "$tmp/clk/sys/devices/system/cpu/cpu$c/cpufreq/scaling_cur_freq" "$1"; done; }
# wait_state WANT: until load's state is WANT, then print it.  A sample taken
# while setclk was halfway shows the state at a ratio between the two, and
# the next one the ratio itself: wait for that, not for the first.
# clk_state FILE: the CPUs' state a fleet file's load says
clk_state() { jget "$1" '[d["workers"][0]["load"].get(k) for k in ("warming_state","cooling_state","performance_level","temperature")]'; }
state_now() { clk_state "$tmp/clk.json"; }
wait_state() {
	for _ in $(seq 150); do
		[ "$(state_now)" = "$1" ] && break
		sleep 0.1
	done
	state_now
}
put "$tmp/clk/proc/stat" "cpu  1300 0 1000 8100 0 0 0 0 0 0"
setclk 4000000
eq "warming" "$(wait_state '[true, false, 0.83, 0.85]')" '[true, false, 0.83, 0.85]'
# hot first, published, and then the clocks fall
put "$tmp/clk/sys/class/hwmon/hwmon0/temp1_input" 95000
for _ in $(seq 150); do [ "$(jget "$tmp/clk.json" "d['workers'][0]['load']['temperature']")" = 0.95 ] && break; sleep 0.1; done
setclk 2000000
eq "cooling" "$(wait_state '[false, true, 0.42, 0.95]')" '[false, true, 0.42, 0.95]'
# A clock or temperature file that cannot be read for a sample (rewritten
# under the agent) holds the last reading: the cooling state goes on.
# lost_for_two_records PATH: PATH moved away, the second record written
# after that read at once, PATH put back; one process does it all, since a
# loaded machine's python start can take longer than the hold.
lost_for_two_records() {
	python3 - "$tmp/clk.json" "$1" <<'PY'
import json, os, sys, time
p, gone = sys.argv[1], sys.argv[2]
seen, n, end = os.stat(p).st_ino, 0, time.time() + 15
os.rename(gone, gone + ".away")
try:
    while time.time() < end:
        ino = os.stat(p).st_ino
        if ino != seen:
            seen, n = ino, n + 1
            if n == 2:
                load = json.load(open(p))["workers"][0]["load"]
                print(json.dumps([load.get(k) for k in ("warming_state", "cooling_state", "performance_level", "temperature")]))
                sys.exit(0)
        time.sleep(0.02)
    print("no two records in 15 s")
finally:
    os.rename(gone + ".away", gone)
PY
}
eq "cooling through a lost clock reading" \
	"$(lost_for_two_records "$tmp/clk/sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq")" \
	'[false, true, 0.42, 0.95]'
# every sensor at once
eq "... and a lost temperature" "$(lost_for_two_records "$tmp/clk/sys/class/hwmon")" \
	'[false, true, 0.42, 0.95]'
# a second NPU appears: the record published changes with the next detection
mkdir -p "$tmp/clk/sys/class/accel/accel1/device"
echo 0x8086 >"$tmp/clk/sys/class/accel/accel1/device/vendor"
for _ in $(seq 150); do
	got=$(jget "$tmp/clk.json" 'd["workers"][0]["available_accelerators"].get("npu")')
	[ "$got" = 2 ] && break
	sleep 0.1
done
eq "record follows the machine" "$got" 2
kill "$pid"
wait "$pid"
[ -s "$tmp/clk.err" ] && bad "run wrote to stderr: $(cat "$tmp/clk.err")" || ok

# ---- a healthy GPU does not hide the CPUs' thermal throttling: the clock
# ratio is the slowest throttled GPU's, else cpufreq's (its own clock, at
# its maximum, stood for the machine and the CPUs' fall was never seen)
cp -r "$n" "$tmp/gclk"
put "$tmp/gclk/sys/class/hwmon/hwmon0/temp1_input" 95000
# From the clocks' maximum: each CPU's fall alone is past the 5 % noise
# step, so a sample taken while the eight are being set sees a fall too
# (from the tree's 0.5, one CPU moved the mean by 1 %: the fall was seen
# only when all eight landed between two samples, which a loaded machine
# did not always give).
for c in 0 1 2 3 4 5 6 7; do put "$tmp/gclk/sys/devices/system/cpu/cpu$c/cpufreq/scaling_cur_freq" 4800000; done
FAKE_NVML=$tmp/nvml.txt env PATH="$nobrowser" "$agent" run --root "$tmp/gclk" --nvml "$LBS_FAKE_NVML" \
	--file "$tmp/gclk.json" --interval 0.2 2>"$tmp/gclk.err" &
pid=$!
gclk_written() { [ -s "$tmp/gclk.json" ]; }
until_ok 20 gclk_written || bad "the agent never wrote $tmp/gclk.json"
for c in 0 1 2 3 4 5 6 7; do put "$tmp/gclk/sys/devices/system/cpu/cpu$c/cpufreq/scaling_cur_freq" 2000000; done
gclk_state() { clk_state "$tmp/gclk.json"; }
gclk_cooling() { [ "$(gclk_state)" = '[false, true, 0.42, 0.95]' ]; }
until_ok 20 gclk_cooling
eq "CPU cooling beside a healthy GPU" "$(gclk_state)" '[false, true, 0.42, 0.95]'
kill "$pid"
wait "$pid"

# ---- a machine of more than 64 CPUs (the Xeon's 80, hot): its second
# socket's throttle shows, and a CPU without cpufreq (offline) is passed
# over.  Only the first 64 were read, and the first missing one ended the
# read: CPUs 64-79 at 30 % of their clock were no cooling.
cp -r "$x" "$tmp/big"
for f in name:coretemp temp1_input:95000 temp1_max:100000 temp1_crit:100000; do
	mkdir -p "$tmp/big/sys/class/hwmon/hwmon0"
	put "$tmp/big/sys/class/hwmon/hwmon0/${f%%:*}" "${f#*:}"
done
rm -r "$tmp/big/sys/devices/system/cpu/cpu5/cpufreq"
env PATH="$nobrowser" "$agent" run --root "$tmp/big" --file "$tmp/big.json" --interval 0.2 2>"$tmp/big.err" &
pid=$!
big_written() { [ -s "$tmp/big.json" ]; }
until_ok 20 big_written || bad "the agent never wrote $tmp/big.json"
for c in $(seq 64 79); do put "$tmp/big/sys/devices/system/cpu/cpu$c/cpufreq/scaling_cur_freq" 1170000; done
big_state() { clk_state "$tmp/big.json"; }
big_cooling() { [ "$(big_state)" = '[false, true, 0.87, 0.95]' ]; }
until_ok 20 big_cooling
eq "the second socket's throttle on 80 CPUs" "$(big_state)" '[false, true, 0.87, 0.95]'
kill "$pid"
wait "$pid"

# ---- each clock is judged by its own device's heat and work: a hot, busy
# GPU that does not throttle beside cool idle CPUs whose clocks fall is no
# cooling (the GPU's temperature counted for the CPUs' clocks, and COOLING
# at an idle CPU's ratio under-rated a GPU worker)
cp -r "$n" "$tmp/gcool"
put "$tmp/gcool/sys/class/hwmon/hwmon0/temp1_input" 40000
# an AMD GPU's and a drive's hwmon chips are no CPU sensors either: hot,
# they count in the temperature, not in judging the CPUs' clocks
for chip in 7:amdgpu:95000 8:nvme:96000; do
	IFS=: read -r k name t <<<"$chip"
	mkdir -p "$tmp/gcool/sys/class/hwmon/hwmon$k"
	put "$tmp/gcool/sys/class/hwmon/hwmon$k/name" "$name"
	put "$tmp/gcool/sys/class/hwmon/hwmon$k/temp1_input" "$t"
	put "$tmp/gcool/sys/class/hwmon/hwmon$k/temp1_crit" 100000
done
for c in 0 1 2 3 4 5 6 7; do put "$tmp/gcool/sys/devices/system/cpu/cpu$c/cpufreq/scaling_cur_freq" 4800000; done
sed -e 's/^temp.0 .*/temp.0 88/' -e 's/^util.0 .*/util.0 95/' "$tmp/nvml.txt" >"$tmp/nvml-busy.txt"
FAKE_NVML=$tmp/nvml-busy.txt env PATH="$nobrowser" "$agent" run --root "$tmp/gcool" --nvml "$LBS_FAKE_NVML" \
	--file "$tmp/gcool.json" --interval 0.2 2>"$tmp/gcool.err" &
pid=$!
gcool_written() { [ -s "$tmp/gcool.json" ]; }
until_ok 20 gcool_written || bad "the agent never wrote $tmp/gcool.json"
for c in 0 1 2 3 4 5 6 7; do put "$tmp/gcool/sys/devices/system/cpu/cpu$c/cpufreq/scaling_cur_freq" 2000000; done
sleep 1.5
eq "a hot busy GPU beside cool CPUs whose clocks fell" "$(clk_state "$tmp/gcool.json")" \
	'[false, false, 1, 0.98]'
kill "$pid"
wait "$pid"

# ---- only the CPUs' own chips judge their clocks (an allow-list, not a
# deny-list of GPUs and drives): a DDR5 module's sensor (spd5118, its limit
# 55 C) near its limit beside a cool coretemp is no cooling of the CPUs when
# their clocks fall (it made cooling_state true at 0.42); it still counts
# in the published temperature.  An ARM SoC's CPU thermal zone is a CPU
# chip, and so is one named as older kernels name it (cpu0-thermal).
# cpu_heat CASE NAME:INPUT:MAX...: the laptop with only these hwmon chips,
# its clocks falling from 4.8 to 2.0 GHz while the agent runs; prints the
# load of the first sample that saw the fall whole.  /proc/stat changes
# after the clocks, and a sample reads it before them: the sample that
# counts its 75 % read the fallen clocks.
cpu_heat() {
	local r=$tmp/heat-$1 k=0 spec name t lim c got; shift
	cp -r "$n" "$r"
	rm -rf "$r/sys/class/hwmon"
	for spec in "$@"; do
		IFS=: read -r name t lim <<<"$spec"
		mkdir -p "$r/sys/class/hwmon/hwmon$k"
		echo "$name" >"$r/sys/class/hwmon/hwmon$k/name"
		echo "$t" >"$r/sys/class/hwmon/hwmon$k/temp1_input"
		echo "$lim" >"$r/sys/class/hwmon/hwmon$k/temp1_max"
		k=$((k + 1))
	done
	for c in 0 1 2 3 4 5 6 7; do put "$r/sys/devices/system/cpu/cpu$c/cpufreq/scaling_cur_freq" 4800000; done
	env PATH="$nobrowser" "$agent" run --root "$r" --file "$r.json" --interval 0.1 2>"$r.err" &
	local pid=$!
	heat_written() { [ -s "$r.json" ]; }
	until_ok 20 heat_written || bad "the agent never wrote $r.json"
	for c in 0 1 2 3 4 5 6 7; do put "$r/sys/devices/system/cpu/cpu$c/cpufreq/scaling_cur_freq" 2000000; done
	put "$r/proc/stat" "cpu  400 0 100 900 0 0 0 0 0 0"
	heat_state() { jget "$r.json" '[d["workers"][0]["load"].get(k) for k in ("cpu_utilization","warming_state","cooling_state","performance_level","temperature")]'; }
	heat_counted() { got=$(heat_state) && [ "${got#\[75, }" != "$got" ]; }
	until_ok 20 heat_counted || bad "$r: the agent never counted the new /proc/stat: $got"
	kill "$pid"
	wait "$pid"
	echo "$got"
}
eq "a hot DDR5 module beside cool CPUs whose clocks fell" \
	"$(cpu_heat ddr5 coretemp:45000:100000 spd5118:50500:55000)" '[75, false, false, 1, 0.92]'
eq "hot memory, wifi and board sensors, no CPU chip" \
	"$(cpu_heat others jc42:80000:85000 iwlwifi_1:95000:100000 acpitz:95000:100000)" '[75, false, false, 1, 0.95]'
eq "an ARM CPU thermal zone, hot" \
	"$(cpu_heat arm cpu_thermal:95000:100000 spd5118:30000:55000)" '[75, false, true, 0.42, 0.95]'
eq "an AMD Zen's k10temp, hot" \
	"$(cpu_heat zen k10temp:95000:100000 spd5118:50500:55000)" '[75, false, true, 0.42, 0.95]'
eq "a thermal zone named as older kernels name it" \
	"$(cpu_heat oldarm cpu0-thermal:95000:100000)" '[75, false, true, 0.42, 0.95]'

# ---- the host name changed while the agent runs (DHCP, hostnamectl): the
# worker id stays the one it started with (its Redis key, a reader's key for
# the file), and that is said once per new name
cp -r "$n" "$tmp/hn"
env PATH="$nobrowser" "$agent" run --root "$tmp/hn" --file "$tmp/hn.json" --interval 0.1 --redetect 1 \
	2>"$tmp/hn.err" &
pid=$!
hn_written() { [ -s "$tmp/hn.json" ]; }
until_ok 20 hn_written || bad "the agent never wrote $tmp/hn.json"
echo renamed-host >"$tmp/hn/proc/sys/kernel/hostname.new"
mv -f "$tmp/hn/proc/sys/kernel/hostname.new" "$tmp/hn/proc/sys/kernel/hostname"
hn_seen() { [ "$(jget "$tmp/hn.json" 'd["workers"][0]["hostname"]')" = renamed-host ]; }
until_ok 20 hn_seen || bad "the new host name never reached the record"
sleep 2.5 # two more detections: the change is said once, not at each
eq "worker id kept" "$(jget "$tmp/hn.json" '[d["workers"][0]["worker_id"], d["workers"][0]["load"]["worker_id"]]')" \
	'["lunarlake-laptop", "lunarlake-laptop"]'
kill "$pid"
wait "$pid"
lines "$tmp/hn.err" 1
has "$tmp/hn.err" "lbsched-agent: the host name changed from 'lunarlake-laptop' to 'renamed-host'; the worker id stays 'lunarlake-laptop' until the agent restarts"

# ---- bounds: what the agent publishes stays inside what the converter takes
long=$(printf 'X%.0s' $(seq 300))
cat >"$tmp/nvml-bad.txt" <<NV
count 1
name.0 Evil$(printf '\001\033')[31m$long
mem_total.0 18446744073709551615
util.0 250
temp.0 500
slowdown.0 90
NV
FAKE_NVML=$tmp/nvml-bad.txt expect_rc 0 env PATH="$nobrowser" "$agent" run --root "$x" --nvml "$LBS_FAKE_NVML" \
	--file "$tmp/bad.json" --once --interval 0.1
eq "name bounded" "$(jget "$tmp/bad.json" 'len(d["workers"][0]["hardware_specs"]["gpu_name"]) < 128 and all(ord(c) >= 32 for c in d["workers"][0]["hardware_specs"]["gpu_name"])')" true
eq "absurd numbers left out" "$(jget "$tmp/bad.json" '["gpu_memory_gb" in d["workers"][0]["hardware_specs"], "gpu_utilization" in d["workers"][0]["load"]]')" '[false, false]'
eq "temperature capped" "$(jget "$tmp/bad.json" 'd["workers"][0]["load"]["temperature"]')" 1
accepted "$tmp/bad.json"
# the driver's version string is cleaned as its GPU names are: invalid
# UTF-8 and control bytes made '?', and one cut to its 31 bytes inside a
# character loses the part (either made the fleet file invalid UTF-8)
for v in "$(printf '535\377\001x')":'535??x' "$(printf '%030dé' 0)":"$(printf '%030d' 0)"; do
	printf 'count 0\ndriver %s\n' "${v%%:*}" >"$tmp/nvml-drv.txt"
	FAKE_NVML=$tmp/nvml-drv.txt expect_rc 0 env PATH="$nobrowser" "$agent" run --root "$x" --nvml "$LBS_FAKE_NVML" \
		--file "$tmp/drv.json" --once --interval 0.1
	eq "driver version cleaned" "$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1],"rb").read().decode("utf-8"))["workers"][0]["software_versions"]["nvidia_driver"])' "$tmp/drv.json" 2>&1)" "${v#*:}"
	accepted "$tmp/drv.json"
done

# ---- the systemd unit: installed by meson, starting the installed binary
inst=$(meson introspect "$LBS_BUILDDIR" --installed | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(" ".join(v for k, v in sorted(d.items()) if k.endswith("/lbsched-agent") or k.endswith("/lbsched-agent.service")))')
set -- $inst
eq "installed" "${1##*/} ${2##*/}" "lbsched-agent lbsched-agent.service"
case "$2" in */lib/systemd/system/lbsched-agent.service) ok ;; *) bad "unit installed at $2" ;; esac
unit=$LBS_BUILDDIR/host-shim/agent/lbsched-agent.service
has "$unit" "ExecStart=$1 run --file /run/lbsched-agent/fleet.json --interval 1"
has "$unit" "RuntimeDirectory=lbsched-agent"
# a SIGHUP ends the agent with status 0: on-failure left it stopped for good
has "$unit" "Restart=always"
lacks "$unit" "Restart=on-failure"
# ... but not a usage error (status 2), which restarted every 5 s for ever
has "$unit" "RestartPreventExitStatus=2"
# ... and the file stays while it restarts (systemd empties the runtime
# directory at each restart by default)
has "$unit" "RuntimeDirectoryPreserve=restart"
# the worker id is the host name at the start: once DHCP or cloud-init set it
has "$unit" "Wants=network-online.target"
# systemctl help and lintian find its man page
has "$unit" "Documentation=man:lbsched-agent(1)"
grep -q '^After=.*network-online.target' "$unit" && ok || bad "the unit does not start after network-online.target"
# systemd's own check, where systemd is installed, with the built binary in place
if command -v systemd-analyze >/dev/null; then
	mkdir -p "$tmp/unit" "$tmp/man/man1"
	sed "s|^ExecStart=[^ ]*|ExecStart=$agent|" "$unit" >"$tmp/unit/lbsched-agent.service"
	# verify runs man for the unit's Documentation=man:lbsched-agent(1): the
	# page from the tree, where an install would put it
	cp "$LBS_SRCDIR/docs/lbsched-agent.1" "$tmp/man/man1/"
	# (without man, as in slim images, verify is told not to look)
	man=--man=yes
	command -v man >/dev/null || man=--man=no
	expect_rc 0 env MANPATH="$tmp/man" systemd-analyze verify "$man" "$tmp/unit/lbsched-agent.service"
	lacks "$tmp/err" "lbsched-agent.service"
fi

# ---- a tree without a CPU topology is refused, never filled in from this machine
mkdir -p "$tmp/bare/proc"
cp "$n/proc/cpuinfo" "$n/proc/meminfo" "$tmp/bare/proc/"
expect_rc 1 env PATH="$nobrowser" "$agent" detect --root "$tmp/bare" --id w-bare
lines "$tmp/err" 1
has "$tmp/err" "$tmp/bare/sys/devices/system/cpu: hwloc found no CPU topology there"

# ---- usage errors: one line each, naming the option
expect_rc 2 "$agent" run --file "$tmp/x.json" --interval 0
lines "$tmp/err" 1
has "$tmp/err" "--interval must be a number from 0.1 to 3600, got '0'"
expect_rc 2 "$agent" run --file "$tmp/x.json" --interval 0x1
has "$tmp/err" "--interval must be a number from 0.1 to 3600, got '0x1'"
expect_rc 2 "$agent" run
has "$tmp/err" "run needs --file PATH"
expect_rc 2 "$agent" detect --bogus
has "$tmp/err" "unknown option '--bogus'"
expect_rc 2 "$agent" detect --bogus --bogus
has "$tmp/err" "unknown option '--bogus'"
# the second --file would silently drop the first, an empty one names nothing
expect_rc 2 "$agent" run --file "$tmp/a.json" --file "$tmp/b.json" --once
lines "$tmp/err" 1
has "$tmp/err" "lbsched-agent: --file given twice"
[ -e "$tmp/b.json" ] && bad "a refused run wrote the second --file" || ok
expect_rc 2 "$agent" run --file '' --once
has "$tmp/err" "lbsched-agent: --file needs a value, not an empty one"
expect_rc 2 "$agent" run --file "$tmp/x.json" --mode 999
has "$tmp/err" "--mode must be octal"
# strtol would take blanks and a sign before the digits; --interval does not
expect_rc 2 "$agent" run --file "$tmp/x.json" --mode " 0644" --once --interval 0.1
has "$tmp/err" "--mode must be octal permission bits such as 0644, got ' 0644'"
expect_rc 2 "$agent" run --file "$tmp/x.json" --mode +0640 --once --interval 0.1
has "$tmp/err" "--mode must be octal permission bits such as 0644, got '+0640'"
expect_rc 2 "$agent" run --redis "redis://127.0.0.1:$(free_port)/" --mode 0600 --once --interval 0.1
has "$tmp/err" "--mode goes with --file (a Redis key has no file mode)"
# a forgotten value: the next option is not taken for it (a file named
# --once, an agent that never stops)
expect_rc 2 timeout 20 "$agent" run --file --once
lines "$tmp/err" 1
has "$tmp/err" "--file needs a value, got the option --once"
expect_rc 2 "$agent" detect --id --explain
has "$tmp/err" "--id needs a value, got the option --explain"
# -h is an option too: taken as the value, it made a file named -h
mkdir -p "$tmp/cwd"
expect_rc 2 env -C "$tmp/cwd" timeout 20 "$agent" run --file -h --once --interval 0.1
lines "$tmp/err" 1
has "$tmp/err" "--file needs a value, got the option -h"
[ -e "$tmp/cwd/-h" ] && bad "run --file -h wrote a file named -h" || ok
# help after the command, as before it
expect_rc 0 timeout 20 "$agent" run --help
has "$tmp/out" "usage: lbsched-agent detect"
expect_rc 0 "$agent" detect --root "$n" -h
has "$tmp/out" "usage: lbsched-agent detect"
# whoever writes the fleet file steers the balancer; one nobody may read
# is no fleet
expect_rc 2 "$agent" run --file "$tmp/x.json" --mode 0666
has "$tmp/err" "--mode 0666 lets every user write the file, and so steer the load balancer; drop o+w"
expect_rc 2 "$agent" run --file "$tmp/x.json" --mode 0
has "$tmp/err" "--mode 0 lets no user read the file"
[ -e "$tmp/x.json" ] && bad "a refused --mode wrote the file" || ok
expect_rc 2 "$agent" run --file "$tmp/x.json" --ttl 3
has "$tmp/err" "--ttl goes with --redis (a file has no expiry)"
# ---- what a message quotes (a path, a value, a command, a name read from
# a --root tree) is shown on one line: a newline in it forged a second
# "lbsched-agent: ..." line, an escape sequence reached the terminal.
# Control bytes are shown as '?'.
forge=$(printf 'x\nlbsched-agent: forged\033[2J')
shown='x?lbsched-agent: forged?[2J'
# one_line FILE TEXT: FILE is that one line, without an ESC byte, showing TEXT
one_line() {
	lines "$1" 1
	eq "$1 newlines" "$(tr -cd '\n' <"$1" | wc -c)" 1
	lacks "$1" "$(printf '\033')"
	has "$1" "$2"
}
expect_rc 2 env PATH="$nobrowser" "$agent" detect --root "$tmp/$forge"
one_line "$tmp/err" "lbsched-agent: --root '$tmp/$shown': No such file or directory"
expect_rc 2 env PATH="$nobrowser" LBSCHED_AGENT_ROOT="$tmp/$forge" "$agent" detect
one_line "$tmp/err" "lbsched-agent: LBSCHED_AGENT_ROOT '$tmp/$shown': No such file or directory"
expect_rc 1 timeout 20 env PATH="$nobrowser" "$agent" run --root "$n" --file "$tmp/no/$forge.json" --once --interval 0.1
one_line "$tmp/err" "lbsched-agent: $tmp/no/$shown.json: cannot create a temporary file beside it: No such file or directory"
expect_rc 2 "$agent" "$forge"
one_line "$tmp/err" "lbsched-agent: unknown command '$shown' (lbsched-agent --help)"
expect_rc 2 "$agent" detect "--$forge"
one_line "$tmp/err" "lbsched-agent: unknown option '--$shown' for this command (lbsched-agent --help)"
expect_rc 2 "$agent" run --file "$tmp/x.json" --interval "1$forge"
one_line "$tmp/err" "--interval must be a number from 0.1 to 3600, got '1$shown'"
expect_rc 2 "$agent" run --file "$tmp/x.json" --mode "0$forge"
one_line "$tmp/err" "--mode must be octal permission bits such as 0644, got '0$shown'"
expect_rc 1 env PATH="$nobrowser" "$agent" detect --root "$n" --nvml "$tmp/$forge.so"
one_line "$tmp/err" "lbsched-agent: --nvml: $tmp/$shown.so"
expect_rc 1 env PATH="$nobrowser" "$agent" detect --root "$n" --rocm "$tmp/$forge.so"
one_line "$tmp/err" "lbsched-agent: --rocm: $tmp/$shown.so"
# --explain names paths under the tree: each is one line too
cp -a "$n" "$tmp/$forge"
rm -f "$tmp/$forge/proc/sys/kernel/hostname"
expect_rc 0 env PATH="$nobrowser" "$agent" detect --root "$tmp/$forge" --id w-forged --explain
has "$tmp/err" "hostname: left out: $tmp/$shown/proc/sys/kernel/hostname has none"
lacks "$tmp/err" "$(printf '\033')"
eq "explain lines are fields" "$(grep -vc '^[A-Za-z_. ]*: ' "$tmp/err")" 0
rm -rf "$tmp/$forge"

# nginx matches a server by the exact id: one the agent had to cut or
# clean would match nothing, so it is refused, not rewritten
expect_rc 2 "$agent" detect --root "$n" --id "$(printf 'a\nb')"
lines "$tmp/err" 1
has "$tmp/err" "--id holds a control character at byte 1"
expect_rc 2 "$agent" detect --root "$n" --id ""
has "$tmp/err" "--id needs a value, not an empty one"
expect_rc 2 "$agent" detect --root "$n" --id "$(printf '%0200d' 0)"
has "$tmp/err" "--id must be 1 to 127 bytes, got 200"
expect_rc 2 "$agent" detect --root "$n" --id " w1"
has "$tmp/err" "--id begins or ends with a space"
expect_rc 2 "$agent" detect --root "$n" --id "$(printf 'w\377x')"
lines "$tmp/err" 1
has "$tmp/err" "--id is not valid UTF-8"
expect_rc 0 env PATH="$nobrowser" "$agent" detect --root "$n" --id "wörker-1"
eq "a UTF-8 id as given" "$(jget "$tmp/out" 'd["worker_id"]')" "wörker-1"
expect_rc 1 env PATH="$nobrowser" "$agent" run --root "$n" --file "$tmp/no/such/dir/f.json" --once --interval 0.1
lines "$tmp/err" 1
has "$tmp/err" "$tmp/no/such/dir/f.json: cannot create a temporary file beside it"
# ... said at the start, as an unreachable Redis is, not once and then
# forever without a write; a long interval shows it is not the first sample
expect_rc 1 timeout 20 env PATH="$nobrowser" "$agent" run --root "$n" --file "$tmp/no/such/dir/f.json" --interval 3600
lines "$tmp/err" 1
has "$tmp/err" "$tmp/no/such/dir/f.json: cannot create a temporary file beside it: No such file or directory"
# A legal name of 250 bytes: its temporary's name is cut to fit, not
# refused as "File name too long"
long=$(printf 'a%.0s' $(seq 250))
expect_rc 0 timeout 20 env PATH="$nobrowser" "$agent" run --root "$n" --file "$tmp/$long" --once --interval 0.1
has "$tmp/$long" '"worker_id":'
eq "no temporary left beside the long name" "$(ls "$tmp" | grep -c '^aaaaaaaaaa')" 1
# Another user's file in a sticky directory: a file can be made beside it,
# but the kernel refuses the rename; said at the start, with status 1 (the
# agent ran on, never writing).  Run as nobody, where nobody may run it.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null &&
	setpriv --reuid=nobody --regid=nogroup --clear-groups test -x "$agent"; then
	chmod 755 "$tmp"
	mkdir -m 1777 "$tmp/sticky"
	echo '{}' >"$tmp/sticky/f.json"
	expect_rc 1 timeout 20 setpriv --reuid=nobody --regid=nogroup --clear-groups \
		env PATH="$nobrowser" "$agent" run --root "$n" --file "$tmp/sticky/f.json" --interval 3600
	eq "sticky" "$(cat "$tmp/err")" "lbsched-agent: $tmp/sticky/f.json: cannot replace it: it belongs to user 0 in a sticky directory (only its owner may replace it there)"
	eq "the record left as it was" "$(cat "$tmp/sticky/f.json")" '{}'
else
	echo "test_agent: not root, or nobody cannot run $agent here: the sticky directory is not tried"
fi
mkdir "$tmp/adir"
expect_rc 1 timeout 20 env PATH="$nobrowser" "$agent" run --root "$n" --file "$tmp/adir" --interval 3600
has "$tmp/err" "$tmp/adir: is a directory"
eq "no temporary left at the start" "$(ls "$tmp" | grep -c '^adir\.')" 0
# A PATH that is neither a regular file nor a link is never replaced (as
# root, --file /dev/null replaced /dev/null): refused at the start ...
mkfifo "$tmp/fifo"
expect_rc 1 timeout 20 env PATH="$nobrowser" "$agent" run --root "$n" --file "$tmp/fifo" --once --interval 0.1
lines "$tmp/err" 1
has "$tmp/err" "lbsched-agent: $tmp/fifo: is a FIFO, not a regular file; not replaced"
[ -p "$tmp/fifo" ] && ok || bad "the FIFO was replaced"
python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$tmp/sock"
expect_rc 1 timeout 20 env PATH="$nobrowser" "$agent" run --root "$n" --file "$tmp/sock" --once --interval 0.1
lines "$tmp/err" 1
has "$tmp/err" "lbsched-agent: $tmp/sock: is a socket, not a regular file; not replaced"
[ -S "$tmp/sock" ] && ok || bad "the socket was replaced"
# ... and at each write, when a FIFO took the file's place meanwhile
env PATH="$nobrowser" "$agent" run --root "$n" --file "$tmp/later" --interval 0.1 2>"$tmp/later.err" &
pid=$!
later_written() { [ -f "$tmp/later" ]; }
until_ok 20 later_written || bad "the agent never wrote $tmp/later"
# made aside and renamed in: a removed file could be written again by the
# agent before mkfifo
mkfifo "$tmp/fifo-aside"
mv -f "$tmp/fifo-aside" "$tmp/later"
later_said() { grep -q "is a FIFO" "$tmp/later.err"; }
until_ok 20 later_said || bad "a FIFO in the file's place was not said"
sleep 0.5
[ -p "$tmp/later" ] && ok || bad "the agent replaced the FIFO that took its file's place"
kill "$pid"
wait "$pid"
lines "$tmp/later.err" 1
has "$tmp/later.err" "lbsched-agent: $tmp/later: is a FIFO, not a regular file; not replaced"
eq "no temporary left beside the FIFO" "$(ls "$tmp" | grep -c '^later\.[[:alnum:]]\{6\}$')" 0
# One agent a file: a second on the same file (named another way) ends at
# once with one line, and the first goes on writing its own worker; another
# file in the same directory is free, and so is the file once the first
# has gone.  Nothing is left on disk for it.
env PATH="$nobrowser" "$agent" run --root "$n" --file "$tmp/one.json" --id first --interval 0.1 2>"$tmp/one.err" &
pid=$!
one_written() { [ -f "$tmp/one.json" ]; }
until_ok 20 one_written || bad "the first agent never wrote $tmp/one.json"
expect_rc 1 timeout 20 env PATH="$nobrowser" "$agent" run --root "$n" --file "$tmp/adir/../one.json" --id second --once
lines "$tmp/err" 1
has "$tmp/err" "lbsched-agent: $tmp/adir/../one.json: another lbsched-agent (pid $pid) writes this file; one agent a file (each would replace the other's worker)"
# asked again and again (a cron job of --once): every asker ends, and
# learns the pid (the holder's queue was 1 and never taken from: the
# third asker waited for good); more than its queue of 16 holds, so the
# holder must let askers go as it writes
for k in $(seq 1 20); do
	expect_rc 1 timeout 20 env PATH="$nobrowser" "$agent" run --root "$n" --file "$tmp/one.json" --id "second$k" --once
	has "$tmp/err" "another lbsched-agent (pid $pid) writes this file"
done
sleep 0.3
has "$tmp/one.json" '"worker_id":"first"'
lacks "$tmp/one.json" '"worker_id":"second"'
expect_rc 0 timeout 20 env PATH="$nobrowser" "$agent" run --root "$n" --file "$tmp/two.json" --id second --once
kill "$pid"
wait "$pid"
lines "$tmp/one.err" 0
expect_rc 0 timeout 20 env PATH="$nobrowser" "$agent" run --root "$n" --file "$tmp/one.json" --id second --once
has "$tmp/one.json" '"worker_id":"second"'
eq "nothing beside the files" "$(ls "$tmp" | grep -c '^\(one\|two\)\.json.')" 0
# Any local user may bind the claim's name: one of another user's is said
# and passed over, not let keep the agent from starting.
# (Debian's python3: a user's own, under a home of root's, nobody may run.)
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null && [ -x /usr/bin/python3 ]; then
	chmod 755 "$tmp"
	mkdir -m 777 "$tmp/sq"
	setpriv --reuid=nobody --regid=nogroup --clear-groups /usr/bin/python3 -c '
import socket, sys, time
h = 14695981039346656037
for c in (sys.argv[1] + "/" + sys.argv[2]).encode():
    h = ((h ^ c) * 1099511628211) % (1 << 64)
s = socket.socket(socket.AF_UNIX)
s.bind(b"\0lbsched-agent/file/%016x" % h)
s.listen(1)
open(sys.argv[3], "w").close()
time.sleep(30)' "$(cd "$tmp" && pwd -P)" squat.json "$tmp/sq/bound" &
	squat=$!
	squatting() { [ -f "$tmp/sq/bound" ]; }
	until_ok 20 squatting || bad "the squatter never bound its name"
	expect_rc 0 timeout 20 env PATH="$nobrowser" "$agent" run --root "$n" --file "$tmp/squat.json" --id own --once
	lines "$tmp/err" 1
	has "$tmp/err" "lbsched-agent: warning: $tmp/squat.json: its claim is held by uid $(id -u nobody) (pid $squat), not an agent of this user's: not taken as one"
	has "$tmp/squat.json" '"worker_id":"own"'
	kill "$squat"
	wait "$squat" 2>/dev/null
fi

# A bad line in libsensors' configuration: libsensors wrote it to stderr
# itself, unprefixed; it comes as the agent's one warning line.  The
# configuration is this machine's /etc/sensors3.conf, covered for this one
# command by a bind mount in a mount namespace of its own.
if [ -e /etc/sensors3.conf ] && unshare -m true 2>/dev/null; then
	printf 'chip "coretemp-*"\n  label temp1 "x\n' >"$tmp/sensors3.conf"
	expect_rc 0 unshare -m sh -c 'mount --bind "$1" /etc/sensors3.conf && shift && exec "$@"' sh \
		"$tmp/sensors3.conf" env PATH="$nobrowser" "$agent" run --file "$tmp/sensors.json" --once --interval 0.2
	eq "libsensors' error" "$(cat "$tmp/err")" \
		"lbsched-agent: warning: libsensors: /etc/sensors3.conf:2: No matching double quote."
else
	echo "test_agent: no /etc/sensors3.conf or no mount namespace here: libsensors' configuration error is not tried"
fi

finish test_agent
