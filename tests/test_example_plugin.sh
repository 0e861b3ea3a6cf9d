#!/usr/bin/env bash
# test_example_plugin.sh -- examples/plugin/least_loaded.c, the README's
# complete example, is what the README says: built from abi/ alone, it
# loads, places every test of examples/ that the built-in hardware-aware
# scheduler places, keeps every hard requirement (the host logs no
# "plugin misbehaving"), gives sharded and replicated work its count of
# distinct workers, picks the least loaded, and keeps the contract's
# details no host command shows (a driver below calls it directly).
set -u
shim=${LBS_SHIM:?run through meson test}
plugin=${LBS_PLUGIN:?}
. "${LBS_SRCDIR:?}/tests/testlib.sh"
src=$LBS_SRCDIR/examples/plugin/least_loaded.c
fleet=$LBS_SRCDIR/examples/fleet.json
tests=$LBS_SRCDIR/examples/tests.jsonl

# Built as a third party builds it: abi/ is the only include directory,
# and it is clean C99 and C11 (C11 also runs abi.h's layout asserts).
for std in c99 c11; do
	if ${CC:-cc} -std=$std -Wall -Wextra -Werror -shared -fPIC -fvisibility=hidden \
		-I "$LBS_SRCDIR/abi" "$src" -o "$tmp/ll_$std.so" 2>"$tmp/cc.log"; then
		ok
	else
		bad "least_loaded.c does not build with -std=$std"; sed 's/^/    /' "$tmp/cc.log" >&2
	fi
done
ll=$tmp/ll_c11.so
[ -f "$ll" ] || finish test_example_plugin
syms=$(nm -D --defined-only "$ll" | awk '{print $3}' | grep -v '^_' | sort -u)
eq "exported symbols" "$syms" lbs_plugin_entry_v1

# check: the host accepts it and lists its one scheduler
expect_rc 0 "$shim" check "$ll"
has "$tmp/out" "abi: 1.2"
has "$tmp/out" "least-loaded"
lacks "$tmp/err" "misbehaving"

# decide on the project's examples, beside the built-in hardware-aware:
# as a stream (each placement loads its workers for the tests after it)
# and --independent (each test against the fleet as given, where an
# accelerator missed shows: the stream has filled the other workers by then)
for mode in stream independent; do
	flag=; [ $mode = independent ] && flag=--independent
	expect_rc 0 "$shim" decide $flag --plugin "$plugin" --workers "$fleet" --tests "$tests"
	cp "$tmp/out" "$tmp/hw_$mode.jsonl"
	for std in c99 c11; do
		expect_rc 0 "$shim" decide $flag --plugin "$tmp/ll_$std.so" --scheduler least-loaded \
			--workers "$fleet" --tests "$tests"
		lines "$tmp/out" 17
		lacks "$tmp/err" "misbehaving"
		lacks "$tmp/out" "host fallback"
	done
	cp "$tmp/out" "$tmp/ll_$mode.jsonl"

	# Every test hardware-aware places, the example places too; each
	# answer has the count of distinct workers its allocation allows;
	# every answer, no_worker included, is the example's own.
	python3 - "$tests" "$tmp/hw_$mode.jsonl" "$tmp/ll_$mode.jsonl" <<'PY' && ok || bad "the decisions of $mode"
import json, sys
tests = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
hw = {d["test_id"]: d for d in map(json.loads, open(sys.argv[2]))}
ll = {d["test_id"]: d for d in map(json.loads, open(sys.argv[3]))}
bad = []
for t in tests:
    tid, cp = t["test_id"], t.get("custom_properties", {})
    h, d = hw[tid], ll[tid]
    if h["status"] == "ok" and d["status"] != "ok":
        bad.append(f"{tid}: no_worker, hardware-aware placed it on {h['workers']}")
    if not d.get("reason", "").startswith("least-loaded: "):
        bad.append(f"{tid}: reason {d.get('reason')!r}")
    if d["status"] != "ok":
        continue
    lo, hi = (cp.get("min_shards", 1), cp.get("max_shards", 1)) \
        if cp.get("allocation_strategy") in ("sharded", "replicated") else (1, 1)
    w = d["workers"]
    if not lo <= len(w) <= hi or len(set(w)) != len(w):
        bad.append(f"{tid}: workers {w}, the test allows {lo}..{hi} distinct")
for b in bad:
    print("    " + b, file=sys.stderr)
sys.exit(1 if bad else 0)
PY
done

# The least loaded, worked out from examples/fleet.json (capacity: the
# largest accelerator count, else 1; decide counts each placement as one
# more active test for the tests after it):
#   vision_resnet50_001 (2 GB): cpu_xeon_1, first in the file, runs 2 on 1
#     slot; cpu_epyc_2 runs none.
#   vision_yolo_002 (cuda, 8 GB): gpu_a100_1 runs 3 of 4, gpu_p100_legacy_1
#     none (hardware-aware takes the faster A100).
#   embed_replicated_012 (2 copies): by then the only idle workers able to
#     take 2 GB are browser_firefox_2 and mobile_galaxy_s24.
has "$tmp/ll_stream.jsonl" '{"test_id":"vision_resnet50_001","status":"ok","workers":["cpu_epyc_2"]'
has "$tmp/ll_stream.jsonl" '{"test_id":"vision_yolo_002","status":"ok","workers":["gpu_p100_legacy_1"]'
has "$tmp/ll_stream.jsonl" '"test_id":"embed_replicated_012","status":"ok","workers":["browser_firefox_2","mobile_galaxy_s24"]'
has "$tmp/ll_stream.jsonl" '{"test_id":"vision_huge_017","status":"no_worker","workers":[],"reason":"least-loaded: 0 of 12'
# Against the fleet as given, ties go to the earlier worker: the three idle
# ones first in the file with pytorch and 40 GB on one device; and
# train_t5_tpu_008 goes to tpu_v4_host_1, the one worker with a TPU, though
# cpu_epyc_2 is as idle and earlier.
has "$tmp/ll_independent.jsonl" '{"test_id":"train_t5_tpu_008","status":"ok","workers":["tpu_v4_host_1"],"reason":"least-loaded: '
has "$tmp/ll_independent.jsonl" '"test_id":"llm_sharded_011","status":"ok","workers":["cpu_epyc_2","cpu_graviton_1","gpu_p100_legacy_1"]'

# What no host command shows: cookies, errors, struct sizes, reservations.
cat >"$tmp/driver.c" <<'C'
#include <stdio.h>
#include <string.h>
#include <lbsched/abi.h>
const lbs_plugin_entry *lbs_plugin_entry_v1(void);
static int fails;
#define CHECK(c) do { if (!(c)) { fails++; fprintf(stderr, "    line %d: %s\n", __LINE__, #c); } } while (0)
int main(void)
{
	const lbs_plugin_entry *e = lbs_plugin_entry_v1();
	lbs_host_api host = {.struct_size = sizeof host, .abi_major = LBS_ABI_MAJOR,
	                     .abi_minor = LBS_ABI_MINOR, .host_name = "driver"};
	char err[128] = "", reason[256];
	const lbs_scheduler_desc *d;
	void *in = NULL;
	/* two workers, one GPU each; the second has its GPU reserved */
	lbs_device dev = {.struct_size = sizeof dev, .backends = LBS_BACKEND_CUDA,
	                  .mem_available_bytes = 100};
	const lbs_device *devs[] = {&dev};
	const char *gpu[] = {"gpu"};
	uint32_t one[] = {1}, all[] = {1};
	lbs_worker a = {.struct_size = sizeof a, .n_devices = 1, .id = "a", .devices = devs,
	                .active_tests = 1, .accel_kinds = gpu, .accel_counts = one, .n_accels = 1};
	lbs_worker b = a;
	const lbs_worker *ws[] = {&a, &b};
	lbs_workload wl = {.struct_size = sizeof wl, .required_backends = LBS_BACKEND_CUDA,
	                   .min_memory_bytes = 10, .min_shards = 1, .max_shards = 1,
	                   .n_required_accels = 1, .required_accel_kinds = gpu,
	                   .required_accel_counts = one};
	uint32_t idx[3];
	const char *ids[3];
	lbs_selection out = {.struct_size = sizeof out, .capacity = 3, .indices = idx,
	                     .ids = ids, .reason = reason, .reason_len = sizeof reason};
	uint64_t cookies[4];
	const char *ex[] = {"a"};

	b.id = "b";
	b.active_tests = 0;
	b.accel_reserved = all;
	CHECK(e->init(&host, err, sizeof err) == LBS_OK);
	CHECK((d = e->scheduler_find("least-loaded")) != NULL);
	if (!d)
		return 1;
	CHECK(d->create(&host, "{\"x\": 1}", 8, &in, err, sizeof err) == LBS_ECONFIG && err[0]);
	CHECK(d->create(&host, "{", 1, &in, err, sizeof err) == LBS_ECONFIG && err[0]);
	CHECK(d->create(&host, NULL, 0, NULL, err, sizeof err) == LBS_EINVAL);
	/* config_len bytes only: what follows "{}" is not the config's */
	CHECK(d->create(&host, "{} trailing", 2, &in, err, sizeof err) == LBS_OK && in);

	/* b is idle but its one GPU is reserved: a, the busier, is chosen */
	CHECK(d->select(in, &wl, ws, 2, &out) == LBS_OK && out.n_selected == 1 &&
	      idx[0] == 0 && strcmp(ids[0], "a") == 0 && out.cookie != 0);
	cookies[0] = out.cookie;
	/* a 1.0 worker ends before accel_reserved: what lies there is not read */
	b.struct_size = LBS_WORKER_SIZE_V1_0;
	CHECK(d->select(in, &wl, ws, 2, &out) == LBS_OK && idx[0] == 1);
	cookies[1] = out.cookie;
	b.struct_size = sizeof b;
	/* excluded, a is never chosen: no worker, and a reason that says so */
	wl.exclude_ids = ex;
	wl.n_exclude = 1;
	reason[0] = '\0';
	CHECK(d->select(in, &wl, ws, 2, &out) == LBS_NO_WORKER && out.n_selected == 0 &&
	      strstr(reason, "least-loaded") && strstr(reason, "1 excluded"));
	wl.n_exclude = 0;
	/* a required name the devices lack, in a 1.0 workload: not read */
	{
		const char *jax[] = {"jax"};
		wl.required_backend_names = jax;
		wl.n_required_backend_names = 1;
		CHECK(d->select(in, &wl, ws, 2, &out) == LBS_NO_WORKER);
		wl.struct_size = LBS_WORKLOAD_SIZE_V1_0;
		CHECK(d->select(in, &wl, ws, 2, &out) == LBS_OK);
		cookies[2] = out.cookie;
		wl.struct_size = sizeof wl;
		wl.n_required_backend_names = 0;
	}
	/* replicated on 2..3 without accelerators: both, least loaded first */
	wl.n_required_accels = 0;
	wl.allocation = LBS_ALLOC_REPLICATED;
	wl.max_shards = 3;
	wl.min_shards = 2;
	CHECK(d->select(in, &wl, ws, 2, &out) == LBS_OK && out.n_selected == 2 &&
	      idx[0] == 1 && idx[1] == 0);
	cookies[3] = out.cookie;
	for (int i = 0; i < 4; i++)
		for (int j = 0; j < i; j++)
			CHECK(cookies[i] != 0 && cookies[i] != cookies[j]);
	/* 3 needed, 2 workers: no worker */
	wl.min_shards = 3;
	CHECK(d->select(in, &wl, ws, 2, &out) == LBS_NO_WORKER && out.n_selected == 0);
	/* room for fewer than min_shards, a bad shard range, an unknown
	 * allocation, a short selection: LBS_EINVAL */
	out.capacity = 2;
	CHECK(d->select(in, &wl, ws, 2, &out) == LBS_EINVAL);
	out.capacity = 3;
	wl.min_shards = 0;
	CHECK(d->select(in, &wl, ws, 2, &out) == LBS_EINVAL);
	wl.min_shards = 1;
	wl.allocation = 3;
	CHECK(d->select(in, &wl, ws, 2, &out) == LBS_EINVAL);
	wl.allocation = LBS_ALLOC_SINGLE;
	out.struct_size = 8;
	CHECK(d->select(in, &wl, ws, 2, &out) == LBS_EINVAL);
	out.struct_size = sizeof out;
	CHECK(d->select(in, NULL, ws, 2, &out) == LBS_EINVAL);
	CHECK(d->select(in, &wl, NULL, 2, &out) == LBS_EINVAL);
	/* no reason buffer is fine */
	out.reason = NULL;
	CHECK(d->select(in, &wl, ws, 2, &out) == LBS_OK);
	/* report: a cookie never issued, or 0, is an outcome it cannot match */
	{
		lbs_outcome o = {.struct_size = sizeof o, .worker_id = "a", .cookie = 12345};
		CHECK(d->report(in, &o) == LBS_OK);
		o.cookie = 0;
		CHECK(d->report(in, &o) == LBS_OK);
		CHECK(d->report(in, NULL) == LBS_EINVAL);
	}
	d->destroy(in);
	e->deinit();
	return fails != 0;
}
C
if ${CC:-cc} -std=c99 -Wall -Wextra -Werror -I "$LBS_SRCDIR/abi" "$tmp/driver.c" "$ll" \
	-Wl,-rpath,"$tmp" -o "$tmp/driver" 2>"$tmp/cc.log"; then
	ok
	"$tmp/driver" && ok || bad "the driver's checks of the contract (lines above)"
else
	bad "the driver does not build"; sed 's/^/    /' "$tmp/cc.log" >&2
fi

finish test_example_plugin
