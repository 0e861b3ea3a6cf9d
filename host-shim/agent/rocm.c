/*
 * rocm.c -- the few ROCm SMI calls the agent makes, through dlopen/dlsym.
 * The prototypes are those of rocm_smi.h (ROCm SMI library reference),
 * declared here because the header is not installed where the agent
 * builds; only calls whose arguments are plain integers are used.
 */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dlsym_fn.h"
#include "rocm.h"

typedef int rsret;
enum { RS_OK = 0, RS_MEM_VRAM = 0, RS_TEMP_EDGE = 0, RS_TEMP_CURRENT = 0,
       RS_TEMP_MAX = 1, RS_TEMP_CRITICAL = 5 };

struct ag_rocm {
	void *so;
	rsret (*init)(uint64_t);
	rsret (*shutdown)(void);
	rsret (*count)(uint32_t *);
	rsret (*name)(uint32_t, char *, size_t);
	rsret (*mem_total)(uint32_t, int, uint64_t *);
	rsret (*mem_used)(uint32_t, int, uint64_t *);
	rsret (*busy)(uint32_t, uint32_t *);
	rsret (*temp)(uint32_t, uint32_t, int, int64_t *);
	rsret (*power_cap)(uint32_t, uint32_t, uint64_t *);
};

ag_rocm *ag_rocm_open(const char *lib, int *unloadable, char *err, size_t n)
{
	ag_rocm *r = calloc(1, sizeof *r);

	*unloadable = 0;
	if (!r) {
		snprintf(err, n, "out of memory");
		return NULL;
	}
	r->so = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
	if (!r->so) {
		const char *e = dlerror();
		snprintf(err, n, "%s", e ? e : "cannot be loaded");
		*unloadable = 1;
		free(r);
		return NULL;
	}
	ag_dlsym(r->so, "rsmi_init", &r->init);
	ag_dlsym(r->so, "rsmi_shut_down", &r->shutdown);
	ag_dlsym(r->so, "rsmi_num_monitor_devices", &r->count);
	ag_dlsym(r->so, "rsmi_dev_name_get", &r->name);
	ag_dlsym(r->so, "rsmi_dev_memory_total_get", &r->mem_total);
	ag_dlsym(r->so, "rsmi_dev_memory_usage_get", &r->mem_used);
	ag_dlsym(r->so, "rsmi_dev_busy_percent_get", &r->busy);
	ag_dlsym(r->so, "rsmi_dev_temp_metric_get", &r->temp);
	ag_dlsym(r->so, "rsmi_dev_power_cap_get", &r->power_cap);
	if (!r->init || !r->shutdown || !r->count) {
		snprintf(err, n, "%s lacks rsmi_init, rsmi_shut_down or "
		         "rsmi_num_monitor_devices", lib);
		*unloadable = 1;
	} else if (r->init(0) != RS_OK) {
		snprintf(err, n, "%s: rsmi_init failed (no amdgpu driver loaded?)", lib);
	} else {
		return r;
	}
	dlclose(r->so);
	free(r);
	return NULL;
}

void ag_rocm_close(ag_rocm *r)
{
	if (!r)
		return;
	r->shutdown();
	dlclose(r->so);
	free(r);
}

int ag_rocm_answers(ag_rocm *r)
{
	uint32_t n;

	return r->count(&n) == RS_OK;
}

unsigned ag_rocm_detect(ag_rocm *r, const ag_env *env, ag_caps *c)
{
	uint32_t count = 0;
	unsigned listed = 0;
	char buf[128];

	if (r->count(&count) != RS_OK)
		return 0;
	if (count > AG_MAX_GPU_COUNT) {
		ag_warn("ROCm SMI says this machine has %u GPUs, more than %d: not believed, its "
		        "GPUs are left out", (unsigned)count, AG_MAX_GPU_COUNT);
		return 0;
	}
	for (uint32_t i = 0; i < count; i++) {
		if (c->n_gpus == AG_MAX_GPUS) {
			c->gpus_over += count - i;
			break;
		}
		ag_gpu *g = &c->gpus[c->n_gpus];
		uint64_t v;

		memset(g, 0, sizeof *g);
		g->mem_gb = g->clock_mhz = g->tdp_w = -1;
		g->sm = g->cc_major = g->cc_minor = g->tensor = -1;
		snprintf(g->vendor, sizeof g->vendor, "amd");
		snprintf(g->source, sizeof g->source, "rocm-smi");
		g->index = i;
		if (r->name && r->name(i, buf, sizeof buf) == RS_OK) {
			buf[sizeof buf - 1] = 0;
			ag_name(g->name, buf);
		} else {
			snprintf(g->name, sizeof g->name, "AMD GPU");
		}
		if (r->mem_total && r->mem_total(i, RS_MEM_VRAM, &v) == RS_OK && v > 0)
			g->mem_gb = (double)v / (1024.0 * 1024 * 1024);
		/* microwatts */
		if (r->power_cap && r->power_cap(i, 0, &v) == RS_OK && v > 0)
			g->tdp_w = (double)v / 1e6;
		c->n_gpus++;
		listed++;
	}
	if (listed) {
		ag_why(env, "gpus (AMD)", "rsmi_dev_name_get, rsmi_dev_memory_total_get VRAM, "
		       "rsmi_dev_power_cap_get");
		ag_why(env, "available_accelerators.gpu", "rsmi_num_monitor_devices (%u AMD)",
		       listed);
	}
	return listed;
}

int ag_rocm_live(ag_rocm *r, unsigned i, ag_gpu_live *o)
{
	uint32_t busy;
	uint64_t used, total;
	int64_t t, lim;

	o->util = o->mem_used = o->mem_total = -1;
	o->temp = o->temp_limit = o->clock = o->clock_max = -1;
	o->throttled = 0;
	if (r->busy && r->busy(i, &busy) == RS_OK && busy <= 100)
		o->util = busy;
	if (r->mem_used && r->mem_total && r->mem_used(i, RS_MEM_VRAM, &used) == RS_OK &&
	    r->mem_total(i, RS_MEM_VRAM, &total) == RS_OK && used <= total) {
		o->mem_used = (double)used;
		o->mem_total = (double)total;
	}
	/* millidegrees Celsius */
	if (r->temp && r->temp(i, RS_TEMP_EDGE, RS_TEMP_CURRENT, &t) == RS_OK &&
	    t >= 0 && t < 1000000)
		o->temp = (double)t / 1000;
	/* as hwmon: its maximum, else its critical temperature */
	if (r->temp &&
	    ((r->temp(i, RS_TEMP_EDGE, RS_TEMP_MAX, &lim) == RS_OK && lim > 0) ||
	     (r->temp(i, RS_TEMP_EDGE, RS_TEMP_CRITICAL, &lim) == RS_OK && lim > 0)) &&
	    lim < 1000000)
		o->temp_limit = (double)lim / 1000;
	return 0;
}
