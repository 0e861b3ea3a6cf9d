/*
 * agent.h -- what lbsched-agent detects and measures, and the places it
 * reads from.  Every size here is a bound on what the agent publishes
 * (docs/AGENT.md): a machine with more is reported up to the bound.
 */
#ifndef LBS_AGENT_H
#define LBS_AGENT_H

#include <stdint.h>
#include <stdio.h>

#define AG_NAME 128       /* names, models, ids: cut and made one line */
#define AG_MAX_GPUS 64
/* A GPU library's device count above this is no machine's: garbage from a
 * broken or fake library, whose walk (one failing call a device, billions
 * of them) spun for seconds at every detection. */
#define AG_MAX_GPU_COUNT 4096
#define AG_MAX_PCI 64
#define AG_MAX_CACHES 16 /* (level, type, size) entries: hybrid CPUs have several per level */
#define AG_MAX_BROWSERS 8
/* The longest a browser's `--version` is waited for (browsers.c). */
#define AG_VERSION_WAIT_MS 5000
#define AG_FIRST_SAMPLE_S 1.0 /* run's first sample, at most this after the start */
#define AG_MAX_NUMA 64
#define AG_MAX_RECORD (64u << 10) /* the published document, in bytes */
#define AG_MAX_REPLY (64u << 10)  /* a Redis reply to the agent, in bytes */

/* Where the agent looks: tests point these at fixture trees. */
typedef struct ag_env {
	const char *root;  /* "" for this machine, else a tree with proc/ and sys/ */
	const char *nvml;  /* the NVML library dlopen()ed */
	const char *path;  /* searched for browsers; NULL: none looked for */
	FILE *why;         /* --explain: where each value came from; NULL off */
	const char *rocm;  /* the ROCm SMI library dlopen()ed */
	/* The option or variable that named nvml (rocm), for its error; NULL
	 * for the default name, which may be absent without a word.  A
	 * library named "none" is not used. */
	const char *nvml_from, *rocm_from;
	/* LBSCHED_AGENT_BROWSER_PATH when path is that, else NULL (PATH) */
	const char *path_from;
} ag_env;

/* "field: source" on env->why, when explaining; made one line as
 * ag_error's are (it names paths under --root and what they hold). */
void ag_why(const ag_env *env, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* "lbsched-agent: " (ag_warn: "lbsched-agent: warning: ") and the
 * formatted text on stderr, as one line: control bytes become '?'
 * (txt_one_line), so that a path, an option's value, a name read from a
 * --root tree or a Redis error with a newline or an escape sequence in it
 * cannot forge a second line or reach the terminal.  Every stderr line of
 * the agent is written through these. */
void ag_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ag_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* root + rel (rel starts with '/') into buf; -1 when it does not fit. */
int ag_path(const ag_env *env, const char *rel, char *buf, size_t n);

/* At most n-1 bytes of root+rel, NUL-terminated, trailing newline and
 * spaces cut; the count, or -1 when the file cannot be read.  For the small
 * /sys attributes and /proc files read every interval, without an
 * allocation (host-shim/lib/file.c reads whole documents). */
int ag_read(const ag_env *env, const char *rel, char *buf, size_t n);

/* An integer from root+rel as sysfs writes it: unsigned decimal (u64),
 * decimal with an optional '-' (s64: temp*_input and its limits are signed
 * millidegrees), or 0x and hexadecimal digits (hex: PCI ids).  -1 when
 * unreadable, in another form, or out of range. */
int ag_read_u64(const ag_env *env, const char *rel, uint64_t *out);
int ag_read_s64(const ag_env *env, const char *rel, int64_t *out);
int ag_read_hex(const ag_env *env, const char *rel, uint64_t *out);

/* 1 + the highest CPU number of /sys/devices/system/cpu/present ("0-79",
 * "0-3,8-11"): the CPUs to walk are 0 to that - 1, some perhaps offline.
 * AG_CPUS_UNREAD when it cannot be read. */
#define AG_CPUS_UNREAD 64
unsigned ag_cpus_present(const ag_env *env);

/* Copy a name for publishing: cut to AG_NAME - 1 bytes, one line. */
void ag_name(char dst[AG_NAME], const char *src);
/* The same into size bytes (a version string's shorter field). */
void ag_text(char *dst, size_t size, const char *src);

enum { AG_F_AVX = 1, AG_F_AVX2 = 2, AG_F_AVX512 = 4, AG_F_NEON = 8,
       AG_F_SVE = 16, AG_F_SMT = 32, AG_F_TSX = 64 };

typedef struct ag_cache {
	unsigned level, count;
	char type[12];      /* "data", "instruction", "unified" */
	uint64_t size;      /* bytes, one instance */
} ag_cache;

typedef struct ag_pci {
	char addr[16];      /* 0000:3b:00.0 */
	unsigned vendor, device, class_id; /* class_id: base<<8 | subclass */
} ag_pci;

#define AG_PCI_GOOGLE 0x1ae0

/* Google's PCI devices that are not a network or storage controller (its
 * gVNIC is one) are its TPUs. */
static inline int ag_pci_is_tpu(unsigned vendor, unsigned class_id)
{
	unsigned base = class_id >> 8;

	return vendor == AG_PCI_GOOGLE && base != 0x01 && base != 0x02;
}

typedef struct ag_gpu {
	char vendor[16], name[AG_NAME], source[16];
	double mem_gb, clock_mhz, tdp_w; /* < 0: unknown */
	int sm;                          /* < 0: unknown */
	int cc_major, cc_minor;          /* < 0: unknown */
	int tensor;                      /* -1 unknown, 0, 1 */
	unsigned index;                  /* NVML's or ROCm SMI's device index */
} ag_gpu;

/* One GPU's state now, from NVML or ROCm SMI; what the library does not
 * give is negative. */
typedef struct ag_gpu_live {
	double util;              /* percent */
	double mem_used, mem_total; /* bytes */
	double temp, temp_limit;  /* Celsius; limit: the device's own */
	double clock, clock_max;  /* MHz */
	int throttled;            /* thermal or power-brake slowdown */
} ag_gpu_live;

typedef struct ag_browser {
	char name[24], version[48];
} ag_browser;

/* A cgroup's path in /proc/self/cgroup, at most (Kubernetes' run near 200
 * bytes); a longer one is not followed. */
#define AG_CG_PATH 512

/* cgroup.c's: a container's memory limit */
typedef struct ag_cgmem {
	uint64_t limit;          /* bytes; 0: none below the machine's memory */
	char dir[AG_CG_PATH + 32]; /* the limiting cgroup's directory */
	int v2;                  /* cgroup v2 (memory.max), else v1 */
} ag_cgmem;

/* cgroup.c's: a container's CPU quota */
typedef struct ag_cgcpu {
	double cpus;                  /* quota / period; 0: none below the CPUs */
	char limit[AG_CG_PATH + 288]; /* the limiting file */
	char usage[AG_CG_PATH + 288]; /* the cgroup's CPU time; "" unknown */
	int v2;
} ag_cgcpu;

typedef struct ag_caps {
	char id[AG_NAME], host[AG_NAME];
	char arch[24], vendor[24], model[AG_NAME];
	unsigned cores, threads, sockets, numa;
	double clock_mhz;                 /* < 0: unknown */
	uint64_t mem_kb, numa_kb[AG_MAX_NUMA];
	ag_cgmem cg;                      /* a limit below mem_kb, or none */
	ag_cgcpu cgcpu;                   /* a quota below threads, or none */
	unsigned feats;                   /* AG_F_* */
	char isa[512];                    /* the notable flags, space separated */
	ag_cache caches[AG_MAX_CACHES];
	unsigned n_caches;
	ag_pci pci[AG_MAX_PCI];
	unsigned n_pci, pci_total;
	/* TPUs over every PCI device, not only the first AG_MAX_PCI that
	 * are published: n_tpu_pci counts them all, tpu_pci holds the first */
	ag_pci tpu_pci[AG_MAX_PCI];
	unsigned n_tpu_pci;
	ag_gpu gpus[AG_MAX_GPUS];
	unsigned n_gpus;
	unsigned gpus_over; /* found past AG_MAX_GPUS: counted, not described */
	unsigned npus, tpus;
	char npu_vendor[16];
	ag_browser browsers[AG_MAX_BROWSERS];
	unsigned n_browsers;
	char nv_driver[32], cuda[16];
} ag_caps;

/* cpu.c: hwloc topology, /proc/cpuinfo, /proc/meminfo.  -1 with err. */
int ag_detect_cpu(const ag_env *env, ag_caps *c, char *err, size_t n);

/* accel.c: GPUs in /sys/class/drm, NPUs in /sys/class/accel, TPUs by PCI
 * vendor; NVIDIA (AMD) cards are skipped when NVML (ROCm SMI) already
 * listed them. */
void ag_detect_accel(const ag_env *env, ag_caps *c, int nvml_listed, int rocm_listed);

/* browsers.c: browsers on env->path, with their versions; none without
 * a path (a recorded tree's record holds none of this machine's). */
void ag_detect_browsers(const ag_env *env, ag_caps *c);

#endif
