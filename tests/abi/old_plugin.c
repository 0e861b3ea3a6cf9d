/*
 * A plugin built against tests/abi/old/lbsched/abi.h (smaller structs, no
 * optional slots).  Scheduler "first-fit": the first worker, in array
 * order, that is not excluded and whose first device has the memory.
 */
#include <stdio.h>
#include <string.h>

#include <lbsched/abi.h>

#include "excluded.h"

static lbs_status ff_create(const lbs_host_api *host, const char *config, size_t len,
                            void **out, char *err, size_t errlen)
{
	static int instance;

	(void)host;
	(void)config;
	if (len > 0 && config && strstr(config, "bad")) {
		snprintf(err, errlen, "config field 'bad': not allowed");
		return LBS_ECONFIG;
	}
	*out = &instance;
	return LBS_OK;
}

static void ff_destroy(void *inst)
{
	(void)inst;
}

static lbs_status ff_select(void *inst, const lbs_workload *wl,
                            const lbs_worker *const *workers, uint32_t n,
                            lbs_selection *out)
{
	(void)inst;
	for (uint32_t i = 0; i < n; i++) {
		const lbs_worker *w = workers[i];
		if (!w->n_devices || excluded(wl, w->id) ||
		    w->devices[0]->mem_available_bytes < wl->min_memory_bytes ||
		    (w->devices[0]->backends & wl->required_backends) != wl->required_backends)
			continue;
		out->indices[0] = i;
		out->ids[0] = w->id;
		out->n_selected = 1;
		/* a name for the decision, as the ABI asks (never 0): a
		 * composite that overrules this pick tells a child with a
		 * report slot, and this descriptor (1.0's 56 bytes) has none */
		out->cookie = (uint64_t)i + 1;
		if (out->reason && out->reason_len)
			snprintf(out->reason, out->reason_len, "first-fit: first worker that fits");
		return LBS_OK;
	}
	out->n_selected = 0;
	return LBS_NO_WORKER;
}

static const lbs_scheduler_desc first_fit = {
	.struct_size = sizeof(lbs_scheduler_desc),
	.name = "first-fit",
	.description = "first worker that fits (built against an older, smaller header)",
	.create = ff_create,
	.destroy = ff_destroy,
	.select = ff_select,
};

#define PLUGIN_NAME "old-first-fit"
#define PLUGIN_VERSION "1.0.0"
#define THE_SCHEDULER first_fit
#include "one_scheduler.h"
