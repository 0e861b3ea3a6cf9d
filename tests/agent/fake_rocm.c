/*
 * fake_rocm.c -- a test-only ROCm SMI: the functions lbsched-agent
 * dlopen()s, answering from the file named by $FAKE_ROCM (fake_values.h).
 * Lines:
 *   count 1   name.0 AMD Instinct MI210   vram_total.0 68702699520
 *   vram_used.0 ...   busy.0 70   temp.0 (millidegrees) 95000
 *   temp_max.0 100000   temp_crit.0 105000   power_cap.0 (microwatts) 300000000
 *   fail_init 1       (rsmi_init fails)
 *   driver 6.7.0      (changed after rsmi_init: the device count fails until
 *                     the library is initialised again, fake_values.h)
 * A key that is absent makes its function answer RSMI_STATUS_NOT_SUPPORTED.
 */
#include <stdint.h>

#define OK 0
#define NOT_SUPPORTED 2
#define EXPORT __attribute__((visibility("default")))
#define FAKE_ENV "FAKE_ROCM"
#include "fake_values.h"

static int answer(const char *key, uint32_t i, uint64_t *out)
{
	unsigned long long v;

	if (num(key, (long)i, &v) < 0)
		return NOT_SUPPORTED;
	*out = v;
	return OK;
}

EXPORT int rsmi_init(uint64_t flags)
{
	unsigned long long v;
	(void)flags;
	if (num("fail_init", -1, &v) == 0 && v)
		return 8;
	driver_remember();
	return OK;
}

EXPORT int rsmi_shut_down(void) { return OK; }

EXPORT int rsmi_num_monitor_devices(uint32_t *n)
{
	unsigned long long v = 0;
	if (driver_changed())
		return 8; /* RSMI_STATUS_INIT_ERROR */
	num("count", -1, &v);
	*n = (uint32_t)v;
	return OK;
}

EXPORT int rsmi_dev_name_get(uint32_t i, char *name, size_t len)
{
	return get("name", (long)i, name, len) < 0 ? NOT_SUPPORTED : OK;
}

EXPORT int rsmi_dev_memory_total_get(uint32_t i, int type, uint64_t *v)
{
	return type != 0 ? NOT_SUPPORTED : answer("vram_total", i, v);
}

EXPORT int rsmi_dev_memory_usage_get(uint32_t i, int type, uint64_t *v)
{
	return type != 0 ? NOT_SUPPORTED : answer("vram_used", i, v);
}

EXPORT int rsmi_dev_busy_percent_get(uint32_t i, uint32_t *v)
{
	uint64_t b = 0;
	int rc = answer("busy", i, &b);
	*v = (uint32_t)b;
	return rc;
}

EXPORT int rsmi_dev_temp_metric_get(uint32_t i, uint32_t sensor, int metric, int64_t *v)
{
	uint64_t t = 0;
	const char *key = metric == 0 ? "temp" : metric == 1 ? "temp_max" : metric == 5 ? "temp_crit" : "";
	int rc = sensor != 0 || !*key ? NOT_SUPPORTED : answer(key, i, &t);
	*v = (int64_t)t;
	return rc;
}

EXPORT int rsmi_dev_power_cap_get(uint32_t i, uint32_t sensor, uint64_t *v)
{
	return sensor != 0 ? NOT_SUPPORTED : answer("power_cap", i, v);
}
