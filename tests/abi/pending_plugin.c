/*
 * A third party's plugin, built against abi/ alone, that decides by the
 * host's estimate of work ahead and nothing else: what a host puts in
 * lbs_worker.pending_work_s (ABI 1.1) shows in which worker it picks.
 *
 * Scheduler "org.example.least-pending", no config: the worker with the
 * least pending_work_s (the first of equals); a worker whose host struct
 * predates the field, or that says LBS_WORK_UNKNOWN, counts as 0.
 */
#include <stdlib.h>

#include <lbsched/abi.h>

#include "stub_instance.h"

static double pending(const lbs_worker *w)
{
	return LBS_HAS_FIELD(w, lbs_worker, pending_work_s) && w->pending_work_s > 0
	       ? w->pending_work_s : 0;
}

static lbs_status p_select(void *inst, const lbs_workload *wl,
                           const lbs_worker *const *w, uint32_t n,
                           lbs_selection *out)
{
	uint32_t best = 0;

	(void)inst;
	(void)wl;
	out->n_selected = 0;
	if (n == 0 || out->capacity == 0)
		return LBS_NO_WORKER;
	for (uint32_t i = 1; i < n; i++)
		if (pending(w[i]) < pending(w[best]))
			best = i;
	out->indices[0] = best;
	out->ids[0] = w[best]->id;
	out->n_selected = 1;
	return LBS_OK;
}

static const lbs_scheduler_desc pending_desc = {
	.struct_size = sizeof(lbs_scheduler_desc),
	.name = "org.example.least-pending",
	.description = "picks the worker with the least work ahead (tests only)",
	.create = stub_create,
	.destroy = stub_destroy,
	.select = p_select,
};

#define PLUGIN_NAME "example-least-pending"
#define THE_SCHEDULER pending_desc
#include "one_scheduler.h"
