/*
 * cpu.c -- the CPU side of a machine: topology from hwloc (cores, threads,
 * packages, NUMA nodes, caches, PCI devices), instruction-set flags and
 * vendor from /proc/cpuinfo, memory from /proc/meminfo.
 */
#include <errno.h>
#include <math.h>
#include <hwloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "agent.h"
#include "cgroup.h"
#include "file.h"
#include "taxonomy.h"
#include "text.h"

/* The flags worth publishing: what a scheduler or an operator can act on.
 * /proc/cpuinfo's "flags" (x86) and "Features" (ARM) carry a hundred more. */
static const char *const notable[] = {
	"sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw",
	"avx512cd", "avx512dq", "avx512vl", "avx512_vnni", "avx512_bf16",
	"avx512_fp16", "amx_tile", "amx_bf16", "amx_int8", "avx_vnni", "aes",
	"sha_ni", "rtm", "hle", "neon", "asimd", "asimdhp", "asimddp", "sve",
	"sve2", "sme", "bf16", "i8mm", "fphp", NULL,
};

static int is_notable(const char *w)
{
	for (int i = 0; notable[i]; i++)
		if (strcmp(notable[i], w) == 0)
			return 1;
	return 0;
}

/* The value of the first "key<blanks>: value" line in cpuinfo, in buf. */
static const char *cpuinfo_value(const char *text, const char *key,
                                 char *buf, size_t n)
{
	size_t kl = strlen(key);

	for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : l) {
		if (strncmp(l, key, kl) != 0)
			continue;
		const char *p = l + kl;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != ':')
			continue;
		p++;
		while (*p == ' ')
			p++;
		size_t len = strcspn(p, "\n");
		if (len >= n)
			len = n - 1;
		memcpy(buf, p, len);
		buf[len] = 0;
		return buf;
	}
	return NULL;
}

/* ARM's "CPU implementer" codes (Arm's MIDR_EL1 register description) that
 * the taxonomy has a vendor for. */
static const char *arm_vendor(unsigned code)
{
	switch (code) {
	case 0x41: return "arm";
	case 0x48: return "huawei";
	case 0x4e: return "nvidia";
	case 0x51: return "qualcomm";
	case 0x53: return "samsung";
	case 0x61: return "apple";
	default: return "other";
	}
}

static void flags(const ag_env *env, const char *info, ag_caps *c)
{
	static char line[16384];
	const char *src = "flags";
	const char *f = cpuinfo_value(info, "flags", line, sizeof line);
	size_t used = 0;

	if (!f) {
		src = "Features";
		f = cpuinfo_value(info, "Features", line, sizeof line);
	}
	if (!f) {
		ag_why(env, "hardware_specs.cpu_features",
		       "none: /proc/cpuinfo has no flags or Features line");
		return;
	}
	for (char *save = NULL, *w = strtok_r(line, " \t", &save); w;
	     w = strtok_r(NULL, " \t", &save)) {
		if (!strcmp(w, "avx"))
			c->feats |= AG_F_AVX;
		else if (!strcmp(w, "avx2"))
			c->feats |= AG_F_AVX2;
		else if (!strcmp(w, "avx512f"))
			c->feats |= AG_F_AVX512;
		else if (!strcmp(w, "asimd") || !strcmp(w, "neon"))
			c->feats |= AG_F_NEON;
		else if (!strcmp(w, "sve"))
			c->feats |= AG_F_SVE;
		else if (!strcmp(w, "rtm"))
			c->feats |= AG_F_TSX;
		if (is_notable(w) && used + strlen(w) + 2 < sizeof c->isa) {
			used += (size_t)sprintf(c->isa + used, "%s%s", used ? " " : "", w);
		}
	}
	ag_why(env, "hardware_specs.cpu_features",
	       "/proc/cpuinfo '%s' of the first CPU (avx512 = avx512f, neon = "
	       "asimd, tsx = rtm; smt = more threads than cores)", src);
	ag_why(env, "hardware_specs.cpu_isa", "the notable words of /proc/cpuinfo '%s'", src);
}

/* The highest cpuinfo_max_freq over the present CPUs, 0 without cpufreq:
 * CPU 0 of a big.LITTLE SoC is a little core (an RK3588's cpu0-3 reach
 * 1.8 GHz, its cpu4-7 2.4 GHz), and the record is the machine's peak.  A
 * CPU without cpufreq (offline) is passed over, as cpu_clock_ratio() does. */
static uint64_t max_freq_khz(const ag_env *env, unsigned *fastest, unsigned *with_freq)
{
	unsigned n = ag_cpus_present(env);
	uint64_t best = 0;

	*fastest = 0;
	*with_freq = 0;
	for (unsigned i = 0; i < n; i++) {
		char rel[128];
		uint64_t khz;
		snprintf(rel, sizeof rel, "/sys/devices/system/cpu/cpu%u/cpufreq/cpuinfo_max_freq", i);
		if (ag_read_u64(env, rel, &khz) < 0 || !khz || khz >= 100000000)
			continue;
		++*with_freq;
		if (khz > best) {
			best = khz;
			*fastest = i;
		}
	}
	return best;
}

static void identity(const ag_env *env, const char *info, ag_caps *c)
{
	char v[256];
	uint64_t khz;
	unsigned fastest, with_freq;

	if (cpuinfo_value(info, "vendor_id", v, sizeof v)) {
		snprintf(c->vendor, sizeof c->vendor, "%s",
		         !strcmp(v, "GenuineIntel")   ? "intel"
		         : !strcmp(v, "AuthenticAMD") ? "amd"
		                                      : "other");
		ag_why(env, "hardware_specs.cpu_vendor", "/proc/cpuinfo vendor_id '%s'", v);
	} else if (cpuinfo_value(info, "CPU implementer", v, sizeof v)) {
		unsigned code = (unsigned)strtoul(v, NULL, 0);
		snprintf(c->vendor, sizeof c->vendor, "%s", arm_vendor(code));
		ag_why(env, "hardware_specs.cpu_vendor",
		       "/proc/cpuinfo CPU implementer %s", v);
	}
	if (cpuinfo_value(info, "model name", v, sizeof v)) {
		ag_name(c->model, v);
		ag_why(env, "hardware_specs.cpu_model", "/proc/cpuinfo model name");
	}

	if (!env->root[0]) {
		struct utsname u;
		int got = uname(&u) == 0 && u.machine[0];
		if (got && tax_arch_parse(u.machine) >= 0) {
			snprintf(c->arch, sizeof c->arch, "%.23s", u.machine);
			ag_why(env, "hardware_specs.cpu_arch", "uname() machine");
		} else if (got) {
			/* A machine the taxonomy has no architecture for (s390x,
			 * loongarch64) is read as OTHER whatever its name, and the
			 * name drew the converter's "unknown architecture" warning
			 * at every reader: the agent says OTHER itself. */
			snprintf(c->arch, sizeof c->arch, "%s", tax_arch_name(LBS_ARCH_OTHER));
			ag_why(env, "hardware_specs.cpu_arch", "uname() machine '%.64s', which the "
			       "taxonomy has no architecture for", u.machine);
		}
	} else if (cpuinfo_value(info, "flags", v, sizeof v)) {
		/* a recorded tree has no uname: x86 long mode says 64-bit */
		snprintf(c->arch, sizeof c->arch, "%s",
		         strstr(info, " lm ") ? "x86_64" : "x86");
		ag_why(env, "hardware_specs.cpu_arch", "/proc/cpuinfo flags (lm: x86_64)");
	} else if (cpuinfo_value(info, "CPU architecture", v, sizeof v)) {
		snprintf(c->arch, sizeof c->arch, "%s",
		         strtoul(v, NULL, 10) >= 8 ? "aarch64" : "arm");
		ag_why(env, "hardware_specs.cpu_arch", "/proc/cpuinfo CPU architecture %s", v);
	}

	if ((khz = max_freq_khz(env, &fastest, &with_freq)) > 0) {
		c->clock_mhz = (double)(khz / 1000);
		ag_why(env, "hardware_specs.cpu_clock_mhz",
		       "/sys/devices/system/cpu/cpu%u/cpufreq/cpuinfo_max_freq, the highest "
		       "over the %u CPUs with cpufreq", fastest, with_freq);
	} else if (cpuinfo_value(info, "cpu MHz", v, sizeof v)) {
		double mhz = strtod(v, NULL);
		if (mhz > 0 && mhz < 100000) {
			c->clock_mhz = (double)(long)(mhz + 0.5);
			ag_why(env, "hardware_specs.cpu_clock_mhz",
			       "/proc/cpuinfo cpu MHz of the first CPU (no cpufreq "
			       "maximum; a current, not a peak, frequency)");
		}
	}
}

/* MemTotal as the kernel writes it, "MemTotal:   395936760 kB": any other
 * form (empty, another unit, a sign, junk) is not a size the agent can
 * publish, so the memory fields are left out and --explain says why. */
static void memory(const ag_env *env, ag_caps *c)
{
	static const char *const fields[] = {"available_memory", "hardware_specs.total_memory_gb",
	                                     "hardware_specs.total_memory_kb"};
	char b[4096], shown[64];
	const char *p;
	char *end;

	c->mem_kb = 0;
	memset(&c->cg, 0, sizeof c->cg);
	if (ag_read(env, "/proc/meminfo", b, sizeof b) <= 0) {
		for (size_t i = 0; i < 3; i++)
			ag_why(env, fields[i], "none: /proc/meminfo cannot be read");
		return;
	}
	if (!(p = strstr(b, "MemTotal:"))) {
		for (size_t i = 0; i < 3; i++)
			ag_why(env, fields[i], "none: /proc/meminfo has no MemTotal line");
		return;
	}
	p += 9;
	while (*p == ' ' || *p == '\t')
		p++;
	errno = 0;
	unsigned long long kb = *p >= '0' && *p <= '9' ? strtoull(p, &end, 10) : 0;
	if (kb && !errno && !strncmp(end, " kB", 3) && (end[3] == '\n' || !end[3])) {
		c->mem_kb = kb;
		ag_why(env, "hardware_specs.total_memory_kb", "/proc/meminfo MemTotal");
		ag_why(env, "hardware_specs.total_memory_gb",
		       "/proc/meminfo MemTotal / 1048576, 2 decimals");
		if (kb <= UINT64_MAX / 1024 && ag_cgroup_memory(env, kb * 1024, &c->cg))
			ag_why(env, "available_memory",
			       "%s/%s in GB: the limit of the cgroup the agent runs in, "
			       "below /proc/meminfo MemTotal; what is free now is "
			       "load.memory_utilization, of that limit", c->cg.dir,
			       c->cg.v2 ? "memory.max" : "memory.limit_in_bytes");
		else
			ag_why(env, "available_memory",
			       "/proc/meminfo MemTotal in GB (no cgroup memory limit below "
			       "it): what the worker offers; what is free now is "
			       "load.memory_utilization");
		return;
	}
	snprintf(shown, sizeof shown, "%.*s", (int)strcspn(p, "\n"), p);
	txt_one_line(shown);
	for (size_t i = 0; i < 3; i++)
		ag_why(env, fields[i], "none: /proc/meminfo MemTotal '%s' is not a positive "
		       "number of kB", shown);
}

static void caches(hwloc_topology_t t, ag_caps *c)
{
	static const hwloc_obj_type_t types[] = {
		HWLOC_OBJ_L1CACHE, HWLOC_OBJ_L1ICACHE, HWLOC_OBJ_L2CACHE,
		HWLOC_OBJ_L3CACHE, HWLOC_OBJ_L4CACHE,
	};
	/* One entry per size at a level: a hybrid CPU's cores, or sockets
	 * of two models, have caches of several sizes there (96 MB and
	 * 27.5 MB of L3 were published as 2 x 96 MB). */
	for (size_t i = 0; i < sizeof types / sizeof *types; i++) {
		unsigned first = c->n_caches;
		hwloc_obj_t o = NULL;

		while ((o = hwloc_get_next_obj_by_type(t, types[i], o)) != NULL) {
			ag_cache *k = NULL;
			for (unsigned j = first; j < c->n_caches; j++)
				if (c->caches[j].size == o->attr->cache.size)
					k = &c->caches[j];
			if (!k) {
				if (c->n_caches >= AG_MAX_CACHES)
					continue;
				k = &c->caches[c->n_caches++];
				k->level = o->attr->cache.depth;
				k->count = 0;
				k->size = o->attr->cache.size;
				snprintf(k->type, sizeof k->type, "%s",
				         o->attr->cache.type == HWLOC_OBJ_CACHE_DATA ? "data"
				         : o->attr->cache.type == HWLOC_OBJ_CACHE_INSTRUCTION
				                 ? "instruction"
				                 : "unified");
			}
			k->count++;
		}
	}
}

static void pci(hwloc_topology_t t, ag_caps *c)
{
	for (hwloc_obj_t o = hwloc_get_next_pcidev(t, NULL); o;
	     o = hwloc_get_next_pcidev(t, o)) {
		ag_pci d;
		snprintf(d.addr, sizeof d.addr, "%04x:%02x:%02x.%x",
		         o->attr->pcidev.domain & 0xffff, o->attr->pcidev.bus,
		         o->attr->pcidev.dev, o->attr->pcidev.func);
		d.vendor = o->attr->pcidev.vendor_id;
		d.device = o->attr->pcidev.device_id;
		d.class_id = o->attr->pcidev.class_id;
		c->pci_total++;
		if (ag_pci_is_tpu(d.vendor, d.class_id) && c->n_tpu_pci++ < AG_MAX_PCI)
			c->tpu_pci[c->n_tpu_pci - 1] = d;
		if (c->n_pci < AG_MAX_PCI)
			c->pci[c->n_pci++] = d;
	}
}

static int topology(const ag_env *env, ag_caps *c, char *err, size_t n)
{
	hwloc_topology_t t;

	/* hwloc's Linux backend reads /proc and /sys under HWLOC_FSROOT: the
	 * same tree as every other reader of the agent.  In a recorded tree
	 * without a CPU topology hwloc would fall back to this machine's
	 * CPUID (its x86 backend), mixing two machines into one record. */
	if (env->root[0]) {
		setenv("HWLOC_FSROOT", env->root, 1);
		setenv("HWLOC_COMPONENTS", "-x86", 1);
	} else {
		unsetenv("HWLOC_FSROOT"); /* this machine means /proc and /sys */
	}
	/* errors are one line, ours, below; hwloc's own go to stderr unasked */
	setenv("HWLOC_HIDE_ERRORS", "2", 0);
	if (hwloc_topology_init(&t) < 0) {
		snprintf(err, n, "hwloc_topology_init failed");
		return -1;
	}
	hwloc_topology_set_io_types_filter(t, HWLOC_TYPE_FILTER_KEEP_ALL);
	/* hwloc leaves instruction caches out unless asked: caches() lists
	 * them as the docs say, each level of cache */
	hwloc_topology_set_icache_types_filter(t, HWLOC_TYPE_FILTER_KEEP_ALL);
	if (hwloc_topology_load(t) < 0) {
		snprintf(err, n, "hwloc_topology_load failed%s%s",
		         env->root[0] ? " under " : "", env->root);
		hwloc_topology_destroy(t);
		return -1;
	}
	/* Without the Linux backend hwloc guesses from sysconf: not a topology */
	const char *be = hwloc_obj_get_info_by_name(hwloc_get_root_obj(t), "Backend");
	if (!be || !strstr(be, "Linux")) {
		snprintf(err, n, "%s/sys/devices/system/cpu: hwloc found no CPU "
		         "topology there", env->root);
		hwloc_topology_destroy(t);
		return -1;
	}
	int cores = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_CORE);
	int pus = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_PU);
	int pkgs = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_PACKAGE);
	int numa = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_NUMANODE);
	c->threads = pus > 0 ? (unsigned)pus : 0;
	c->cores = cores > 0 ? (unsigned)cores : c->threads;
	c->sockets = pkgs > 0 ? (unsigned)pkgs : 0;
	c->numa = numa > 0 ? (unsigned)numa : 0;
	for (int i = 0; i < numa && i < AG_MAX_NUMA; i++) {
		hwloc_obj_t o = hwloc_get_obj_by_type(t, HWLOC_OBJ_NUMANODE, (unsigned)i);
		c->numa_kb[i] = o ? o->attr->numanode.local_memory / 1024 : 0;
	}
	if (!c->model[0]) {
		hwloc_obj_t p = hwloc_get_obj_by_type(t, HWLOC_OBJ_PACKAGE, 0);
		const char *m = p ? hwloc_obj_get_info_by_name(p, "CPUModel") : NULL;
		if (m) {
			ag_name(c->model, m);
			ag_why(env, "hardware_specs.cpu_model", "hwloc package info CPUModel");
		}
	}
	caches(t, c);
	pci(t, c);
	hwloc_topology_destroy(t);
	ag_why(env, "cpu_cores", "hwloc: %d Core objects%s", cores,
	       cores > 0 ? "" : " (none: one per thread)");
	ag_why(env, "cpu_threads", "hwloc: %d PU objects (hardware threads)", pus);
	/* A container's quota: the CPUs' time it may use, rounded up, is as
	 * many threads (and cores) as it can keep busy */
	if (ag_cgroup_cpus(env, c->threads, &c->cgcpu)) {
		unsigned cap = (unsigned)ceil(c->cgcpu.cpus);

		c->threads = c->threads < cap ? c->threads : cap;
		c->cores = c->cores < cap ? c->cores : cap;
		ag_why(env, "cpu_cores", "at most %u: the CPU quota of the cgroup the agent runs "
		       "in, %.2f CPUs (%s%s), rounded up", cap, c->cgcpu.cpus, c->cgcpu.limit,
		       c->cgcpu.v2 ? "" : " over cpu.cfs_period_us");
		ag_why(env, "cpu_threads", "at most %u: the same quota", cap);
		if (ag_cgroup_cpu_seconds(env, &c->cgcpu) >= 0)
			ag_why(env, "load.cpu_utilization", "%s: the cgroup's CPU time, of the "
			       "quota's", c->cgcpu.usage);
		else
			ag_why(env, "load.cpu_utilization", "/proc/stat, the machine's: the "
			       "cgroup's CPU time cannot be read%s%s", c->cgcpu.usage[0] ? " at " : "",
			       c->cgcpu.usage);
	}
	ag_why(env, "hardware_specs.cpu_sockets", "hwloc: %d Package objects", pkgs);
	ag_why(env, "hardware_specs.numa_nodes", "hwloc: %d NUMANode objects, local memory each", numa);
	ag_why(env, "hardware_specs.cpu_caches",
	       "hwloc: the cache objects of each level, size of one and count");
	ag_why(env, "hardware_specs.pci_devices",
	       "hwloc: PCI device objects (vendor, device, class), at most %d", AG_MAX_PCI);
	return 0;
}

int ag_detect_cpu(const ag_env *env, ag_caps *c, char *err, size_t n)
{
	char p[4096], e[512];
	size_t len;
	char *info;

	if (ag_path(env, "/proc/cpuinfo", p, sizeof p) < 0) {
		snprintf(err, n, "root path too long");
		return -1;
	}
	info = file_read(p, &len, e, sizeof e);
	if (!info) {
		snprintf(err, n, "%s", e);
		return -1;
	}
	identity(env, info, c);
	flags(env, info, c);
	free(info);
	memory(env, c);
	if (topology(env, c, err, n) < 0)
		return -1;
	if (c->threads > c->cores)
		c->feats |= AG_F_SMT;
	return 0;
}
