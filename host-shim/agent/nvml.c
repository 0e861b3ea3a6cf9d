/*
 * nvml.c -- the few NVML calls the agent makes, through dlopen/dlsym.  The
 * types are declared here with NVML's published layouts (nvml.h of the CUDA
 * toolkit) because the header is not installed where the agent builds.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dlsym_fn.h"
#include "nvml.h"

typedef int nvret;
typedef void *nvdev;
typedef struct { unsigned long long total, free, used; } nv_memory;
typedef struct { unsigned gpu, memory; } nv_util;
typedef struct {
	unsigned multiprocessorCount, sharedCopyEngineCount, sharedDecoderCount,
	    sharedEncoderCount, sharedJpegCount, sharedOfaCount,
	    gpuInstanceSliceCount, computeInstanceSliceCount;
	unsigned long long memorySizeMB;
} nv_attrs;

enum { NV_OK = 0, NV_CLOCK_SM = 1, NV_TEMP_GPU = 0,
       NV_THRESH_SHUTDOWN = 0, NV_THRESH_SLOWDOWN = 1 };
/* nvmlClocksThrottleReasons: the ones that mean the device is too hot or
 * drawing too much, not idle or capped by an application setting. */
#define NV_SLOWDOWN (0x8ull | 0x20ull | 0x40ull | 0x80ull)

struct ag_nvml {
	void *so;
	nvret (*init)(void);
	nvret (*shutdown)(void);
	nvret (*count)(unsigned *);
	nvret (*handle)(unsigned, nvdev *);
	nvret (*name)(nvdev, char *, unsigned);
	nvret (*memory)(nvdev, nv_memory *);
	nvret (*cc)(nvdev, int *, int *);
	nvret (*attrs)(nvdev, nv_attrs *);
	nvret (*cores)(nvdev, unsigned *);
	nvret (*max_clock)(nvdev, int, unsigned *);
	nvret (*clock)(nvdev, int, unsigned *);
	nvret (*power_limit)(nvdev, unsigned *);
	nvret (*util)(nvdev, nv_util *);
	nvret (*temp)(nvdev, int, unsigned *);
	nvret (*threshold)(nvdev, int, unsigned *);
	nvret (*throttle)(nvdev, unsigned long long *);
	nvret (*driver)(char *, unsigned);
	nvret (*cuda)(int *);
};

ag_nvml *ag_nvml_open(const char *lib, int *unloadable, char *err, size_t n)
{
	ag_nvml *nv = calloc(1, sizeof *nv);

	*unloadable = 0;
	if (!nv) {
		snprintf(err, n, "out of memory");
		return NULL;
	}
	nv->so = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
	if (!nv->so) {
		const char *e = dlerror();
		snprintf(err, n, "%s", e ? e : "cannot be loaded");
		*unloadable = 1;
		free(nv);
		return NULL;
	}
	ag_dlsym(nv->so, "nvmlInit_v2", &nv->init);
	ag_dlsym(nv->so, "nvmlShutdown", &nv->shutdown);
	ag_dlsym(nv->so, "nvmlDeviceGetCount_v2", &nv->count);
	ag_dlsym(nv->so, "nvmlDeviceGetHandleByIndex_v2", &nv->handle);
	ag_dlsym(nv->so, "nvmlDeviceGetName", &nv->name);
	ag_dlsym(nv->so, "nvmlDeviceGetMemoryInfo", &nv->memory);
	ag_dlsym(nv->so, "nvmlDeviceGetCudaComputeCapability", &nv->cc);
	ag_dlsym(nv->so, "nvmlDeviceGetAttributes_v2", &nv->attrs);
	ag_dlsym(nv->so, "nvmlDeviceGetNumGpuCores", &nv->cores);
	ag_dlsym(nv->so, "nvmlDeviceGetMaxClockInfo", &nv->max_clock);
	ag_dlsym(nv->so, "nvmlDeviceGetClockInfo", &nv->clock);
	ag_dlsym(nv->so, "nvmlDeviceGetPowerManagementLimit", &nv->power_limit);
	ag_dlsym(nv->so, "nvmlDeviceGetUtilizationRates", &nv->util);
	ag_dlsym(nv->so, "nvmlDeviceGetTemperature", &nv->temp);
	ag_dlsym(nv->so, "nvmlDeviceGetTemperatureThreshold", &nv->threshold);
	ag_dlsym(nv->so, "nvmlDeviceGetCurrentClocksThrottleReasons", &nv->throttle);
	ag_dlsym(nv->so, "nvmlSystemGetDriverVersion", &nv->driver);
	ag_dlsym(nv->so, "nvmlSystemGetCudaDriverVersion_v2", &nv->cuda);
	if (!nv->init || !nv->shutdown || !nv->count || !nv->handle) {
		snprintf(err, n, "%s lacks nvmlInit_v2, nvmlShutdown, "
		         "nvmlDeviceGetCount_v2 or nvmlDeviceGetHandleByIndex_v2", lib);
		*unloadable = 1;
	} else if (nv->init() != NV_OK) {
		snprintf(err, n, "%s: nvmlInit_v2 failed (no NVIDIA driver "
		         "loaded?)", lib);
	} else {
		return nv;
	}
	dlclose(nv->so);
	free(nv);
	return NULL;
}

void ag_nvml_close(ag_nvml *nv)
{
	if (!nv)
		return;
	nv->shutdown();
	dlclose(nv->so);
	free(nv);
}

int ag_nvml_answers(ag_nvml *nv)
{
	unsigned n;

	return nv->count(&n) == NV_OK;
}

static nvdev device(ag_nvml *nv, unsigned i)
{
	nvdev d = NULL;

	return nv->handle(i, &d) == NV_OK ? d : NULL;
}

/* CUDA cores per SM by compute capability (CUDA C Programming Guide,
 * "Arithmetic Instructions" throughput table), for drivers without
 * nvmlDeviceGetAttributes_v2's SM count. */
static unsigned cores_per_sm(int major, int minor)
{
	switch (major) {
	case 3: return 192;
	case 5: return 128;
	case 6: return minor == 0 ? 64 : 128;
	case 7: return 64;
	case 8: return minor == 0 ? 64 : 128;
	case 9: return 128;
	default: return 0;
	}
}

unsigned ag_nvml_detect(ag_nvml *nv, const ag_env *env, ag_caps *c)
{
	unsigned count = 0, listed = 0;
	char buf[96];

	if (nv->driver && nv->driver(buf, sizeof buf) == NV_OK) {
		buf[sizeof buf - 1] = 0;
		/* a string from the driver, cleaned as its GPU names are */
		ag_text(c->nv_driver, sizeof c->nv_driver, buf);
		ag_why(env, "software_versions.nvidia_driver",
		       "nvmlSystemGetDriverVersion");
	}
	int cv = 0;
	if (nv->cuda && nv->cuda(&cv) == NV_OK && cv > 0 && cv < 1000000) {
		snprintf(c->cuda, sizeof c->cuda, "%d.%d", cv / 1000, cv % 1000 / 10);
		ag_why(env, "software_versions.cuda",
		       "nvmlSystemGetCudaDriverVersion_v2 (%d)", cv);
	}
	if (nv->count(&count) != NV_OK)
		return 0;
	if (count > AG_MAX_GPU_COUNT) {
		ag_warn("NVML says this machine has %u GPUs, more than %d: not believed, its GPUs "
		        "are left out", count, AG_MAX_GPU_COUNT);
		return 0;
	}
	for (unsigned i = 0; i < count; i++) {
		if (c->n_gpus == AG_MAX_GPUS) {
			c->gpus_over += count - i;
			break;
		}
		nvdev d = device(nv, i);
		ag_gpu *g = &c->gpus[c->n_gpus];
		nv_memory m;
		unsigned u;

		if (!d)
			continue;
		memset(g, 0, sizeof *g);
		g->mem_gb = g->clock_mhz = g->tdp_w = -1;
		g->sm = g->cc_major = g->cc_minor = g->tensor = -1;
		snprintf(g->vendor, sizeof g->vendor, "nvidia");
		snprintf(g->source, sizeof g->source, "nvml");
		g->index = i;
		if (nv->name && nv->name(d, buf, sizeof buf) == NV_OK) {
			buf[sizeof buf - 1] = 0;
			ag_name(g->name, buf);
		} else {
			snprintf(g->name, sizeof g->name, "NVIDIA GPU");
		}
		if (nv->memory && nv->memory(d, &m) == NV_OK && m.total > 0)
			g->mem_gb = (double)m.total / (1024.0 * 1024 * 1024);
		if (nv->cc && nv->cc(d, &g->cc_major, &g->cc_minor) == NV_OK &&
		    g->cc_major >= 0 && g->cc_major < 100 && g->cc_minor >= 0 &&
		    g->cc_minor < 100)
			/* Tensor cores came with Volta, compute capability 7.0. */
			g->tensor = g->cc_major >= 7;
		else
			g->cc_major = g->cc_minor = -1;
		nv_attrs a;
		memset(&a, 0, sizeof a);
		if (nv->attrs && nv->attrs(d, &a) == NV_OK && a.multiprocessorCount)
			g->sm = (int)(a.multiprocessorCount % 100000);
		else if (nv->cores && nv->cores(d, &u) == NV_OK &&
		         cores_per_sm(g->cc_major, g->cc_minor))
			g->sm = (int)(u / cores_per_sm(g->cc_major, g->cc_minor));
		if (nv->max_clock && nv->max_clock(d, NV_CLOCK_SM, &u) == NV_OK)
			g->clock_mhz = u;
		if (nv->power_limit && nv->power_limit(d, &u) == NV_OK && u > 0)
			g->tdp_w = u / 1000.0;
		c->n_gpus++;
		listed++;
	}
	if (listed) {
		ag_why(env, "hardware_specs.gpu_name", "nvmlDeviceGetName (GPU 0)");
		ag_why(env, "hardware_specs.gpu_memory_gb",
		       "nvmlDeviceGetMemoryInfo total (GPU 0)");
		ag_why(env, "hardware_specs.gpu_compute_units",
		       "nvmlDeviceGetAttributes_v2 SM count, else "
		       "nvmlDeviceGetNumGpuCores / cores per SM (GPU 0)");
		ag_why(env, "hardware_specs.gpu_clock_mhz",
		       "nvmlDeviceGetMaxClockInfo SM (GPU 0)");
		ag_why(env, "hardware_specs.gpu_tdp_watts",
		       "nvmlDeviceGetPowerManagementLimit (GPU 0)");
		ag_why(env, "hardware_specs.gpu_tensor_cores",
		       "compute capability >= 7.0 (Volta and later), from "
		       "nvmlDeviceGetCudaComputeCapability");
		ag_why(env, "available_accelerators.gpu",
		       "nvmlDeviceGetCount_v2 (%u NVIDIA)", listed);
	}
	return listed;
}

int ag_nvml_live(ag_nvml *nv, unsigned i, ag_gpu_live *o)
{
	nvdev d = device(nv, i);
	nv_util ut;
	nv_memory m;
	unsigned u;
	unsigned long long why;

	o->util = o->mem_used = o->mem_total = -1;
	o->temp = o->temp_limit = o->clock = o->clock_max = -1;
	o->throttled = 0;
	if (!d)
		return -1;
	if (nv->util && nv->util(d, &ut) == NV_OK && ut.gpu <= 100)
		o->util = ut.gpu;
	if (nv->memory && nv->memory(d, &m) == NV_OK && m.used <= m.total) {
		o->mem_used = (double)m.used;
		o->mem_total = (double)m.total;
	}
	if (nv->temp && nv->temp(d, NV_TEMP_GPU, &u) == NV_OK && u < 1000)
		o->temp = u;
	if (nv->threshold &&
	    ((nv->threshold(d, NV_THRESH_SLOWDOWN, &u) == NV_OK && u > 0) ||
	     (nv->threshold(d, NV_THRESH_SHUTDOWN, &u) == NV_OK && u > 0)) &&
	    u < 1000)
		o->temp_limit = u;
	if (nv->clock && nv->clock(d, NV_CLOCK_SM, &u) == NV_OK)
		o->clock = u;
	if (nv->max_clock && nv->max_clock(d, NV_CLOCK_SM, &u) == NV_OK && u > 0)
		o->clock_max = u;
	if (nv->throttle && nv->throttle(d, &why) == NV_OK)
		o->throttled = (why & NV_SLOWDOWN) != 0;
	return 0;
}
