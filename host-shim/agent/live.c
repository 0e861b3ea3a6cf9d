/*
 * live.c -- one sample of a machine's state.  Rules (docs/AGENT.md):
 * temperature is the hottest device relative to its own limit (NVML's
 * slowdown threshold, hwmon's max, else crit), so 1.0 means "at the point
 * where it throttles"; a GPU NVML reports slowed down for heat or power is
 * cooling, at performance_level = SM clock / maximum; clocks rising under
 * load, not yet at their maximum, are warming until they reach it or the
 * load goes; clocks falling while hot are cooling until it is no longer hot
 * or they are back at their maximum.
 */
#include <dirent.h>
#include <math.h>
#include <sensors/error.h>
#include <sensors/sensors.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cgroup.h"
#include "live.h"

#define CLOCK_STEP 0.05  /* a clock change smaller than this is noise */
#define HOT 0.9          /* of the limit: falling clocks are thermal */
#define BUSY 10.0        /* percent: rising clocks are a warm-up */
#define MAX_CPUFREQ 64   /* CPUs whose frequency is read each sample, at most */
#define CLOCK_HOLD 3     /* samples a lost clock or temperature reading is held for */

static int proc_stat(const ag_env *env, unsigned long long *busy,
                     unsigned long long *total)
{
	char b[512];
	unsigned long long v[10] = {0};

	if (ag_read(env, "/proc/stat", b, sizeof b) <= 0 ||
	    sscanf(b, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1],
	           &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) < 4)
		return -1;
	*total = 0;
	for (int i = 0; i < 8; i++)
		*total += v[i];
	*busy = *total - v[3] - v[4]; /* idle and iowait */
	return 0;
}

static double mem_used_percent(const ag_env *env)
{
	char b[4096];
	const char *t, *a;

	if (ag_read(env, "/proc/meminfo", b, sizeof b) <= 0 ||
	    !(t = strstr(b, "MemTotal:")) || !(a = strstr(b, "MemAvailable:")))
		return -1;
	double total = strtod(t + 9, NULL), avail = strtod(a + 13, NULL);
	return total > 0 && avail <= total ? 100 * (1 - avail / total) : -1;
}

/* A chip that measures the CPUs themselves (docs/AGENT.md): Intel's
 * coretemp, AMD's k10temp and k8temp (and the out-of-tree zenpower), VIA's
 * via_cputemp, and the thermal zones ARM SoCs give their CPUs, which the
 * kernel names after the zone, its '-' made '_' (cpu_thermal, cpu0_thermal,
 * soc_thermal; cpu-thermal in older kernels).  Every other chip (a
 * GPU's, a drive's, a memory module's such as spd5118 or jc42, a wifi
 * card's, the board's acpitz) counts in the published temperature, not in
 * judging the CPUs' clocks: a DDR5 module's limit of 55 C made its sensor
 * the CPUs' heat, and their falling clocks cooling. */
static int cpu_chip(const char *name)
{
	static const char *const cpus[] = { "coretemp", "k10temp", "k8temp", "zenpower",
		                            "via_cputemp" };
	size_t n = name ? strlen(name) : 0;

	for (size_t i = 0; n && i < sizeof cpus / sizeof *cpus; i++)
		if (!strcmp(name, cpus[i]))
			return 1;
	/* "cpu...thermal" or "soc...thermal", the suffix after '_' or '-' */
	return n >= 11 && (!strncmp(name, "cpu", 3) || !strncmp(name, "soc", 3)) &&
	       !strcmp(name + n - 7, "thermal") &&
	       (name[n - 8] == '_' || name[n - 8] == '-');
}

/* The hottest hwmon sensor against its own limit, read from sysfs: for a
 * recorded tree, or where libsensors found no chip; *cpu the hottest of
 * the chips cpu_chip() names. */
static double hwmon(const ag_env *env, double *cpu)
{
	char dir[4096], rel[512];
	DIR *d, *h;
	struct dirent *e, *f;
	double hot = -1;

	*cpu = -1;
	if (ag_path(env, "/sys/class/hwmon", dir, sizeof dir) < 0 || !(d = opendir(dir)))
		return -1;
	while ((e = readdir(d)) != NULL) {
		char sub[4400];
		if (strncmp(e->d_name, "hwmon", 5) != 0)
			continue;
		snprintf(sub, sizeof sub, "%s/%s", dir, e->d_name);
		if (!(h = opendir(sub)))
			continue;
		char name[64] = "";
		snprintf(rel, sizeof rel, "/sys/class/hwmon/%s/name", e->d_name);
		if (ag_read(env, rel, name, sizeof name) == 0)
			name[strcspn(name, "\n")] = '\0';
		int cpu_own = cpu_chip(name);
		while ((f = readdir(h)) != NULL) {
			unsigned n;
			char tail[16];
			int64_t in, lim;
			if (sscanf(f->d_name, "temp%u_%15s", &n, tail) != 2 ||
			    strcmp(tail, "input") != 0)
				continue;
			snprintf(rel, sizeof rel, "/sys/class/hwmon/%s/temp%u_input", e->d_name, n);
			if (ag_read_s64(env, rel, &in) < 0)
				continue;
			snprintf(rel, sizeof rel, "/sys/class/hwmon/%s/temp%u_max", e->d_name, n);
			if (ag_read_s64(env, rel, &lim) < 0 || lim <= 0) {
				snprintf(rel, sizeof rel, "/sys/class/hwmon/%s/temp%u_crit",
				         e->d_name, n);
				if (ag_read_s64(env, rel, &lim) < 0 || lim <= 0)
					continue; /* no limit: nothing to normalise to */
			}
			/* below freezing is as far from the limit as it gets */
			double t = in > 0 ? (double)in / (double)lim : 0;
			if (t > hot)
				hot = t;
			if (cpu_own && t > *cpu)
				*cpu = t;
		}
		closedir(h);
	}
	closedir(d);
	return hot;
}

static double sensors_hot(double *cpu)
{
	const sensors_chip_name *chip;
	int c = 0;
	double hot = -1;

	*cpu = -1;
	while ((chip = sensors_get_detected_chips(NULL, &c)) != NULL) {
		const sensors_feature *ft;
		int f = 0, cpu_own = cpu_chip(chip->prefix);
		while ((ft = sensors_get_features(chip, &f)) != NULL) {
			const sensors_subfeature *in, *lim;
			double t, l = 0;
			if (ft->type != SENSORS_FEATURE_TEMP)
				continue;
			in = sensors_get_subfeature(chip, ft, SENSORS_SUBFEATURE_TEMP_INPUT);
			if (!in || sensors_get_value(chip, in->number, &t) != 0)
				continue;
			lim = sensors_get_subfeature(chip, ft, SENSORS_SUBFEATURE_TEMP_MAX);
			if (!lim || sensors_get_value(chip, lim->number, &l) != 0 || l <= 0) {
				lim = sensors_get_subfeature(chip, ft, SENSORS_SUBFEATURE_TEMP_CRIT);
				if (!lim || sensors_get_value(chip, lim->number, &l) != 0)
					continue;
			}
			if (l > 0 && fmax(t, 0) / l > hot)
				hot = fmax(t, 0) / l;
			if (l > 0 && cpu_own && fmax(t, 0) / l > *cpu)
				*cpu = fmax(t, 0) / l;
		}
	}
	return hot;
}

/* Mean current/maximum CPU frequency from cpufreq; < 0 without cpufreq.
 * At most MAX_CPUFREQ CPUs a sample, spread over all n of them, so that a
 * second socket's throttle shows on a machine of more; a CPU without
 * cpufreq (offline) is passed over, not the end. */
static double cpu_clock_ratio(const ag_env *env, unsigned n)
{
	unsigned reads = n < MAX_CPUFREQ ? n : MAX_CPUFREQ;
	double sum = 0;
	int got = 0;

	for (unsigned k = 0; k < reads; k++) {
		unsigned i = (unsigned)((unsigned long long)k * n / reads);
		char rel[128];
		uint64_t cur, max;
		snprintf(rel, sizeof rel, "/sys/devices/system/cpu/cpu%u/cpufreq/scaling_cur_freq", i);
		if (ag_read_u64(env, rel, &cur) < 0)
			continue;
		snprintf(rel, sizeof rel, "/sys/devices/system/cpu/cpu%u/cpufreq/cpuinfo_max_freq", i);
		if (ag_read_u64(env, rel, &max) < 0 || !max)
			continue;
		sum += (double)cur / (double)max;
		got++;
	}
	return got ? fmin(1, sum / got) : -1;
}

/* libsensors writes a bad line of its configuration to stderr itself,
 * unprefixed, and then will not start: through ag_warn instead. */
static void sensors_conf_error(const char *err, const char *file, int line)
{
	ag_warn("libsensors: %s:%d: %s", file ? file : "its configuration", line, err ? err : "?");
}

/* The quota's cgroup's CPU time now, and when (cg_at -1: unread). */
static void cg_cpu_mark(ag_live *lv)
{
	struct timespec ts;

	lv->cg_used = ag_cgroup_cpu_seconds(lv->env, &lv->cgcpu);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	lv->cg_at = lv->cg_used >= 0 ? (double)ts.tv_sec + ts.tv_nsec / 1e9 : -1;
}

void ag_live_init(ag_live *lv, const ag_env *env)
{
	memset(lv, 0, sizeof *lv);
	lv->env = env;
	lv->clock_ratio = -1;
	lv->temperature = -1;
	lv->cpu = -1;
	lv->cg_at = -1;
	lv->n_cpus = ag_cpus_present(env);
	/* libsensors reads this machine's /sys only; a recorded tree is read
	 * by hwmon() instead */
	if (!env->root[0]) {
		sensors_parse_error_wfn = sensors_conf_error;
		if (sensors_init(NULL) == 0)
			lv->sensors = 1;
		else
			ag_warn("libsensors would not start: temperatures are read from "
			        "/sys/class/hwmon directly");
	}
	proc_stat(env, &lv->busy, &lv->total);
}

void ag_live_detected(ag_live *lv, const ag_caps *c, ag_nvml *nv, ag_rocm *rocm)
{
	lv->cg = c->cg;
	/* a quota found (or changed) is measured from now, as /proc/stat is
	 * from ag_live_init: the first sample has a figure */
	if (c->cgcpu.cpus != lv->cgcpu.cpus || strcmp(c->cgcpu.usage, lv->cgcpu.usage)) {
		lv->cgcpu = c->cgcpu;
		cg_cpu_mark(lv);
	}
	lv->nv = nv;
	lv->rocm = rocm;
	lv->n_gpus = lv->n_rocm = 0;
	for (unsigned i = 0; i < c->n_gpus && i < AG_MAX_GPUS; i++) {
		if (!strcmp(c->gpus[i].source, "nvml"))
			lv->nv_index[lv->n_gpus++] = c->gpus[i].index;
		else if (!strcmp(c->gpus[i].source, "rocm-smi"))
			lv->rocm_index[lv->n_rocm++] = c->gpus[i].index;
	}
}

void ag_live_close(ag_live *lv)
{
	if (lv->sensors)
		sensors_cleanup();
	lv->sensors = 0;
}

void ag_live_sample(ag_live *lv, ag_load *o)
{
	unsigned long long busy, total;
	double gpu_sum = 0, ratio, gpu_ratio = -1, hot = -1;
	int gpus = 0, throttled = 0;

	memset(o, 0, sizeof *o);
	o->cpu = o->memory = o->gpu = o->temperature = -1;
	o->performance_level = 1;
	o->now = time(NULL);
	/* In a container, of its quota: the cgroup's CPU time since the last
	 * sample.  /proc/stat is read all the same, so that a cgroup file
	 * that cannot be read falls back on a figure of this interval. */
	double used = lv->cg_used, at = lv->cg_at;
	int quota = lv->cgcpu.cpus > 0;

	if (quota)
		cg_cpu_mark(lv);
	/* a figure of this interval's, or none: a read that failed, or a
	 * counter that went back, leaves it to /proc/stat */
	if (quota && lv->cg_at >= 0 && at >= 0 && lv->cg_at > at && lv->cg_used >= used) {
		lv->cpu = fmin(100, 100 * (lv->cg_used - used) / ((lv->cg_at - at) * lv->cgcpu.cpus));
		o->cpu = lv->cpu;
	}
	if (proc_stat(lv->env, &busy, &total) == 0) {
		/* no tick counted since the last sample (an interval shorter
		 * than the kernel's accounting): the last figure still holds */
		if (o->cpu < 0 && total > lv->total && busy >= lv->busy)
			lv->cpu = fmin(100, 100.0 * (double)(busy - lv->busy) /
			                        (double)(total - lv->total));
		if (o->cpu < 0)
			o->cpu = lv->cpu;
		lv->busy = busy;
		lv->total = total;
	}
	/* in a container, of what it may use */
	o->memory = lv->cg.limit ? ag_cgroup_used_percent(lv->env, &lv->cg)
	                         : mem_used_percent(lv->env);

	/* NVML's GPUs, then ROCm SMI's */
	for (unsigned i = 0; i < lv->n_gpus + lv->n_rocm; i++) {
		ag_gpu_live g;
		if (i < lv->n_gpus ? !lv->nv || ag_nvml_live(lv->nv, lv->nv_index[i], &g) < 0
		                   : !lv->rocm ||
		                     ag_rocm_live(lv->rocm, lv->rocm_index[i - lv->n_gpus], &g) < 0)
			continue;
		if (g.util >= 0) {
			gpu_sum += g.util;
			gpus++;
		}
		if (g.temp >= 0 && g.temp_limit > 0 && g.temp / g.temp_limit > hot)
			hot = g.temp / g.temp_limit;
		/* A GPU says itself when it throttles: its clock then, and
		 * only then (a healthy one's stood for the machine and hid the
		 * CPUs' throttling). */
		if (g.throttled && g.clock >= 0 && g.clock_max > 0) {
			double r = fmin(1, g.clock / g.clock_max);
			if (gpu_ratio < 0 || r < gpu_ratio)
				gpu_ratio = r;
		}
		throttled |= g.throttled;
	}
	if (gpus)
		o->gpu = gpu_sum / gpus;

	double cpu_h = -1, h = lv->sensors ? sensors_hot(&cpu_h) : -1;
	if (h < 0)
		h = hwmon(lv->env, &cpu_h);
	if (h > hot)
		hot = h;
	/* The CPUs' heat, held as a lost clock reading is, below (every
	 * source failing at once, a file read while rewritten). */
	if (cpu_h < 0 && lv->temperature >= 0 && ++lv->temp_misses <= CLOCK_HOLD)
		cpu_h = lv->temperature;
	else if (cpu_h >= 0)
		lv->temp_misses = 0;
	lv->temperature = cpu_h;
	if (cpu_h > hot)
		hot = cpu_h;
	if (hot >= 0)
		o->temperature = fmin(1, hot);

	/* The CPUs: cpufreq's clock judged by their own heat and work (a
	 * hot busy GPU beside idle CPUs, whose clocks wander, is no cooling
	 * of theirs). */
	ratio = cpu_clock_ratio(lv->env, lv->n_cpus);
	/* A reading lost for a sample or two (a file read while it was
	 * rewritten, every source failing at once) holds the last one: taken
	 * as "unknown", it ended a cooling state that still held, and with no
	 * previous ratio the next reading could not see the fall that starts
	 * one. */
	if (ratio < 0 && lv->clock_ratio >= 0 && ++lv->clock_misses <= CLOCK_HOLD)
		ratio = lv->clock_ratio;
	else if (ratio >= 0)
		lv->clock_misses = 0;
	/* A state lasts while its cause does: cooling while still hot with
	 * clocks under their maximum, warming while still busy and climbing
	 * or holding below it. */
	int have = ratio >= 0 && lv->clock_ratio >= 0;
	int below = ratio >= 0 && ratio < 1 - CLOCK_STEP;
	int falling = have && ratio < lv->clock_ratio - CLOCK_STEP;
	int rising = have && ratio > lv->clock_ratio + CLOCK_STEP;
	int hot_now = cpu_h >= HOT;
	if (hot_now && (falling || (lv->state == AG_COOLING && below)))
		lv->state = AG_COOLING;
	else if (below && o->cpu >= BUSY && !falling && (rising || lv->state == AG_WARMING))
		lv->state = AG_WARMING;
	else
		lv->state = AG_NORMAL;
	lv->clock_ratio = ratio;
	/* The machine: cooling when either side is, at the slower of the
	 * two; warming when the CPUs are and no GPU throttles. */
	o->cooling = throttled || lv->state == AG_COOLING;
	o->warming = !o->cooling && lv->state == AG_WARMING;
	if ((lv->state == AG_COOLING || o->warming) && ratio >= 0)
		o->performance_level = ratio;
	if (throttled && gpu_ratio >= 0 && gpu_ratio < o->performance_level)
		o->performance_level = gpu_ratio;
}
