/*
 * live.h -- the live state of a machine, sampled every interval: CPU and
 * memory use from /proc, GPUs from NVML, temperature against each device's
 * own limit (NVML, libsensors or hwmon), and the thermal state.
 */
#ifndef LBS_AGENT_LIVE_H
#define LBS_AGENT_LIVE_H

#include "agent.h"
#include "nvml.h"
#include "record.h"
#include "rocm.h"

typedef struct ag_live {
	const ag_env *env;
	ag_nvml *nv;       /* may be NULL */
	unsigned nv_index[AG_MAX_GPUS], n_gpus;    /* NVML's devices sampled */
	ag_rocm *rocm;     /* may be NULL */
	unsigned rocm_index[AG_MAX_GPUS], n_rocm;  /* ROCm SMI's */
	ag_cgmem cg;                    /* the cgroup's memory limit, or none */
	ag_cgcpu cgcpu;                 /* the cgroup's CPU quota, or none */
	double cg_used, cg_at;          /* its CPU seconds and the monotonic
	                                   time at the last sample; < 0 none */
	unsigned long long busy, total; /* /proc/stat at the last sample */
	double cpu;                     /* the last CPU figure; < 0 none */
	/* The CPUs' own (cpufreq, sensors or hwmon, /proc/stat), apart from
	 * the GPUs': each clock is judged by its own device's heat and work. */
	double clock_ratio;             /* at the last sample; < 0 none */
	int clock_misses;               /* samples in a row without one */
	double temperature;             /* the hottest CPU sensor then; < 0 none */
	int temp_misses;                /* samples in a row without one */
	int sensors;                    /* libsensors initialised */
	unsigned n_cpus;                /* CPU numbers 0..n_cpus-1 present */
	enum { AG_NORMAL, AG_WARMING, AG_COOLING } state; /* the CPUs' */
} ag_live;

/* Ready to sample, no GPU yet; the first ag_live_sample measures from here. */
void ag_live_init(ag_live *lv, const ag_env *env);
/* What a detection found that is sampled from now on: the memory limit
 * of the agent's cgroup (memory_utilization is of it), and the GPUs c
 * lists, by the device index NVML or ROCm SMI gave each (a device whose
 * handle failed is not listed, so the positions in c are not the
 * library's indices).  Called after every detection, which may have found
 * NVML, ROCm SMI, GPUs or a limit that the previous one did not. */
void ag_live_detected(ag_live *lv, const ag_caps *c, ag_nvml *nv, ag_rocm *rocm);
void ag_live_sample(ag_live *lv, ag_load *out);
void ag_live_close(ag_live *lv);

#endif
