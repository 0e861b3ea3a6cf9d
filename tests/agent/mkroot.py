#!/usr/bin/env python3
"""mkroot.py BOX.json DIR -- a recorded /proc and /sys tree for lbsched-agent's
tests, expanded from a box description (tests/agent/fixtures/*.json).

The files follow the kernel's documented formats: Documentation/ABI/stable/
sysfs-devices-system-cpu (topology, cache), sysfs-devices-node, sysfs-bus-pci,
sysfs-class-hwmon (Documentation/hwmon/sysfs-interface.rst), drm and accel
class directories, proc(5) for cpuinfo, meminfo, stat.  Per-CPU and per-cache
files are generated (a 2-socket Xeon has 80 CPUs x 40 files); the texts that
are recorded verbatim (a cpuinfo block, meminfo, stat) sit in the box file.
"""
import json
import os
import sys


def write(root, rel, text):
    path = os.path.join(root, rel.lstrip("/"))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text if text.endswith("\n") else text + "\n")


def mask(cpus, ncpu):
    """The kernel's cpumap format: 32-bit hex groups, most significant first."""
    v = 0
    for c in cpus:
        v |= 1 << c
    groups = max(1, (ncpu + 31) // 32)
    return ",".join("%08x" % ((v >> (32 * g)) & 0xFFFFFFFF) for g in reversed(range(groups)))


def cpulist(cpus):
    cpus = sorted(cpus)
    out, i = [], 0
    while i < len(cpus):
        j = i
        while j + 1 < len(cpus) and cpus[j + 1] == cpus[j] + 1:
            j += 1
        out.append(str(cpus[i]) if i == j else "%d-%d" % (cpus[i], cpus[j]))
        i = j + 1
    return ",".join(out)


def main(box_file, root):
    box = json.load(open(box_file))
    S, C, T = box["sockets"], box["cores_per_socket"], box["threads_per_core"]
    n = S * C * T
    # Linux numbers the first thread of every core first, then the siblings.
    cpu = {}
    for t in range(T):
        for s in range(S):
            for c in range(C):
                cpu[t * S * C + s * C + c] = (s, c, t)
    sysc = "/sys/devices/system/cpu"
    write(root, sysc + "/online", "0-%d" % (n - 1))
    write(root, sysc + "/possible", "0-%d" % (n - 1))
    write(root, sysc + "/present", "0-%d" % (n - 1))
    for i, (s, c, t) in cpu.items():
        core = [j for j, v in cpu.items() if v[0] == s and v[1] == c]
        pkg = [j for j, v in cpu.items() if v[0] == s]
        d = "%s/cpu%d" % (sysc, i)
        top = d + "/topology"
        write(root, top + "/physical_package_id", str(s))
        write(root, top + "/core_id", str(c))
        # the kernel also has *_list twins and the older thread_siblings
        # and core_siblings names; hwloc reads these masks first
        for name, group in (("core_cpus", core), ("package_cpus", pkg)):
            write(root, top + "/" + name, mask(group, n))
        for k, cache in enumerate(box["caches"]):
            shared = core if cache["shared"] == "core" else pkg
            cd = "%s/cache/index%d" % (d, k)
            write(root, cd + "/level", str(cache["level"]))
            write(root, cd + "/type", cache["type"])
            write(root, cd + "/size", "%dK" % cache["size_kb"])
            write(root, cd + "/shared_cpu_map", mask(shared, n))
            write(root, cd + "/coherency_line_size", "64")
            write(root, cd + "/ways_of_associativity", str(cache.get("ways", 8)))
        if "cpufreq_max_khz" in box:
            # one number for all CPUs, or a list by CPU number (big.LITTLE)
            for key, name in (("cpufreq_max_khz", "cpuinfo_max_freq"),
                              ("cpufreq_cur_khz", "scaling_cur_freq")):
                v = box[key]
                write(root, d + "/cpufreq/" + name, str(v[i] if isinstance(v, list) else v))
    nodes = box.get("numa_kb", [])
    if nodes:
        write(root, "/sys/devices/system/node/online", "0-%d" % (len(nodes) - 1))
        write(root, "/sys/devices/system/node/possible", "0-%d" % (len(nodes) - 1))
        for k, kb in enumerate(nodes):
            mine = [j for j, v in cpu.items() if v[0] == k]
            nd = "/sys/devices/system/node/node%d" % k
            write(root, nd + "/cpumap", mask(mine, n))
            write(root, nd + "/cpulist", cpulist(mine))
            write(root, nd + "/meminfo",
                  "Node %d MemTotal:       %d kB\nNode %d MemFree:        %d kB\n"
                  % (k, kb, k, kb // 2))
            write(root, nd + "/distance",
                  " ".join("10" if j == k else "21" for j in range(len(nodes))))
    info = []
    for i in range(n):
        s, c, t = cpu[i]
        block = box["cpuinfo_block"].replace("@N@", str(i)).replace(
            "@S@", str(s)).replace("@C@", str(c)).replace("@SIB@", str(C * T)).replace(
            "@CORES@", str(C))
        info.append(block.rstrip("\n") + "\n")
    write(root, "/proc/cpuinfo", "\n".join(info))
    write(root, "/proc/meminfo", box["meminfo"])
    write(root, "/proc/stat", box.get("stat", "cpu  100 0 100 800 0 0 0 0 0 0\n"))
    write(root, "/proc/sys/kernel/hostname", box["hostname"])
    for dev in box.get("pci", []):
        d = "/sys/bus/pci/devices/" + dev["address"]
        write(root, d + "/vendor", dev["vendor"])
        write(root, d + "/device", dev["device"])
        write(root, d + "/class", dev["class"])
        write(root, d + "/subsystem_vendor", dev["vendor"])
        write(root, d + "/subsystem_device", dev["device"])
        write(root, d + "/revision", "0x01")
        write(root, d + "/local_cpus", mask(range(n), n))
        if dev.get("driver"):
            drv = os.path.join(root, "sys/bus/pci/drivers", dev["driver"])
            os.makedirs(drv, exist_ok=True)
            os.symlink(drv, os.path.join(root, d.lstrip("/"), "driver"))
        for cls, name in dev.get("classes", {}).items():
            # /sys/class/<cls>/<name>/device is a link to the PCI device
            cd = os.path.join(root, "sys/class", cls, name)
            os.makedirs(cd, exist_ok=True)
            os.symlink(os.path.join(root, d.lstrip("/")), os.path.join(cd, "device"))
        for attr, val in dev.get("attrs", {}).items():
            write(root, d + "/" + attr, val)
    for k, mon in enumerate(box.get("hwmon", [])):
        for attr, val in mon.items():
            write(root, "/sys/class/hwmon/hwmon%d/%s" % (k, attr), str(val))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: mkroot.py BOX.json DIR")
    main(sys.argv[1], sys.argv[2])
