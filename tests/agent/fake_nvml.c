/*
 * fake_nvml.c -- a test-only NVML: the functions lbsched-agent dlopen()s,
 * answering from the file named by $FAKE_NVML, re-read on every call so a
 * test can change a GPU's state while the agent runs.  Lines are
 * "key value" or "key.N value" for GPU N:
 *   count 2              driver 550.54.15        cuda 12040
 *   name.0 NVIDIA A100-SXM4-80GB   mem_total.0 85899345920   mem_used.0 ...
 *   cc.0 8.0   sm.0 108   max_clock.0 1410   clock.0 1410   power_limit.0 400000
 *   util.0 55  temp.0 60  slowdown.0 90  shutdown.0 95  throttle.0 0
 *   fail_init 1          (nvmlInit_v2 fails)
 *   fail_handle.0 1      (no handle for GPU 0, as for a GPU fallen off the bus)
 * A "driver" line changed after nvmlInit_v2 is a driver upgraded under the
 * agent: the count, the handles and the driver's version fail until the
 * library is initialised again.
 * A key that is absent makes its function answer NVML_ERROR_NOT_SUPPORTED.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OK 0
#define NOT_SUPPORTED 3
#define RM_MISMATCH 18 /* NVML_ERROR_LIB_RM_VERSION_MISMATCH */
#define EXPORT __attribute__((visibility("default")))

typedef struct { unsigned long long total, free, used; } nv_memory;
typedef struct { unsigned gpu, memory; } nv_util;
typedef struct {
	unsigned multiprocessorCount, sharedCopyEngineCount, sharedDecoderCount,
	    sharedEncoderCount, sharedJpegCount, sharedOfaCount,
	    gpuInstanceSliceCount, computeInstanceSliceCount;
	unsigned long long memorySizeMB;
} nv_attrs;

#define FAKE_ENV "FAKE_NVML"
#include "fake_values.h"

static long dev_index(void *d)
{
	return (long)(intptr_t)d - 1;
}

EXPORT int nvmlInit_v2(void)
{
	unsigned long long v;
	if (num("fail_init", -1, &v) == 0 && v)
		return 999;
	driver_remember();
	return OK;
}

EXPORT int nvmlShutdown(void) { return OK; }

EXPORT int nvmlDeviceGetCount_v2(unsigned *n)
{
	unsigned long long v = 0;
	if (driver_changed())
		return RM_MISMATCH;
	num("count", -1, &v);
	*n = (unsigned)v;
	return OK;
}

EXPORT int nvmlDeviceGetHandleByIndex_v2(unsigned i, void **d)
{
	unsigned n;
	nvmlDeviceGetCount_v2(&n);
	unsigned long long fail = 0;
	if (driver_changed())
		return RM_MISMATCH;
	if (i >= n)
		return 2; /* NVML_ERROR_INVALID_ARGUMENT */
	if (num("fail_handle", i, &fail) == 0 && fail)
		return 15; /* NVML_ERROR_GPU_IS_LOST */
	*d = (void *)(intptr_t)(i + 1);
	return OK;
}

EXPORT int nvmlDeviceGetName(void *d, char *name, unsigned len)
{
	return get("name", dev_index(d), name, len) == 0 ? OK : NOT_SUPPORTED;
}

EXPORT int nvmlDeviceGetMemoryInfo(void *d, nv_memory *m)
{
	unsigned long long t, u = 0;
	if (num("mem_total", dev_index(d), &t) < 0)
		return NOT_SUPPORTED;
	num("mem_used", dev_index(d), &u);
	m->total = t;
	m->used = u;
	m->free = t - u;
	return OK;
}

EXPORT int nvmlDeviceGetCudaComputeCapability(void *d, int *major, int *minor)
{
	char b[32];
	if (get("cc", dev_index(d), b, sizeof b) < 0 || sscanf(b, "%d.%d", major, minor) != 2)
		return NOT_SUPPORTED;
	return OK;
}

EXPORT int nvmlDeviceGetAttributes_v2(void *d, nv_attrs *a)
{
	unsigned long long v;
	if (num("sm", dev_index(d), &v) < 0)
		return NOT_SUPPORTED;
	memset(a, 0, sizeof *a);
	a->multiprocessorCount = (unsigned)v;
	return OK;
}

EXPORT int nvmlDeviceGetNumGpuCores(void *d, unsigned *n)
{
	unsigned long long v;
	if (num("cuda_cores", dev_index(d), &v) < 0)
		return NOT_SUPPORTED;
	*n = (unsigned)v;
	return OK;
}

static int uint_key(const char *key, void *d, unsigned *out)
{
	unsigned long long v;
	if (num(key, dev_index(d), &v) < 0)
		return NOT_SUPPORTED;
	*out = (unsigned)v;
	return OK;
}

EXPORT int nvmlDeviceGetMaxClockInfo(void *d, int type, unsigned *mhz)
{
	return type == 1 ? uint_key("max_clock", d, mhz) : NOT_SUPPORTED;
}

EXPORT int nvmlDeviceGetClockInfo(void *d, int type, unsigned *mhz)
{
	return type == 1 ? uint_key("clock", d, mhz) : NOT_SUPPORTED;
}

EXPORT int nvmlDeviceGetPowerManagementLimit(void *d, unsigned *mw)
{
	return uint_key("power_limit", d, mw);
}

EXPORT int nvmlDeviceGetUtilizationRates(void *d, nv_util *u)
{
	u->memory = 0;
	return uint_key("util", d, &u->gpu);
}

EXPORT int nvmlDeviceGetTemperature(void *d, int sensor, unsigned *t)
{
	return sensor == 0 ? uint_key("temp", d, t) : NOT_SUPPORTED;
}

EXPORT int nvmlDeviceGetTemperatureThreshold(void *d, int which, unsigned *t)
{
	return uint_key(which == 1 ? "slowdown" : which == 0 ? "shutdown" : "none", d, t);
}

EXPORT int nvmlDeviceGetCurrentClocksThrottleReasons(void *d, unsigned long long *r)
{
	return num("throttle", dev_index(d), r) == 0 ? OK : NOT_SUPPORTED;
}

EXPORT int nvmlSystemGetDriverVersion(char *buf, unsigned len)
{
	if (driver_changed())
		return RM_MISMATCH;
	return get("driver", -1, buf, len) == 0 ? OK : NOT_SUPPORTED;
}

EXPORT int nvmlSystemGetCudaDriverVersion_v2(int *v)
{
	unsigned long long x;
	if (num("cuda", -1, &x) < 0)
		return NOT_SUPPORTED;
	*v = (int)x;
	return OK;
}
