/*
 * A plugin built against the frozen 1.1 header (tests/abi/v1.1/lbsched/
 * abi.h) that decides by what 1.1 added, so that the current host is seen
 * to pass it: scheduler "least-pending", no config.  Among the workers that
 * are not excluded, have a device with every required backend bit and
 * name, and have the required accelerators free of reservations, the one
 * with the least pending_work_s; a worker whose pending work is unknown
 * counts as (active + queued) x est_duration_s.  The first in array order
 * on a tie.  Every 1.1 field is read behind LBS_HAS_FIELD, as abi.h says,
 * so a 1.0 host's structs work too.
 */
#include <stdio.h>
#include <string.h>

#include <lbsched/abi.h>

#include "stub_instance.h"

static int has_names(const lbs_workload *wl, const lbs_device *d)
{
	uint32_t need = LBS_HAS_FIELD(wl, lbs_workload, n_required_backend_names)
	                ? wl->n_required_backend_names : 0;
	uint32_t have = LBS_HAS_FIELD(d, lbs_device, n_backend_names) ? d->n_backend_names : 0;

	for (uint32_t i = 0; i < need; i++) {
		uint32_t j = 0;

		while (j < have && strcmp(d->backend_names[j], wl->required_backend_names[i]))
			j++;
		if (j == have)
			return 0;
	}
	return 1;
}

static int accels_free(const lbs_workload *wl, const lbs_worker *w)
{
	const uint32_t *res = LBS_HAS_FIELD(w, lbs_worker, accel_reserved) ? w->accel_reserved
	                                                                  : NULL;

	for (uint32_t i = 0; i < wl->n_required_accels; i++) {
		uint64_t free_n = 0;

		for (uint32_t j = 0; j < w->n_accels; j++)
			if (!strcmp(w->accel_kinds[j], wl->required_accel_kinds[i]))
				free_n += w->accel_counts[j] - (res ? res[j] : 0);
		if (free_n < wl->required_accel_counts[i])
			return 0;
	}
	return 1;
}

static int fits(const lbs_workload *wl, const lbs_worker *w)
{
	for (uint32_t i = 0; i < wl->n_exclude; i++)
		if (!strcmp(wl->exclude_ids[i], w->id))
			return 0;
	if (!accels_free(wl, w))
		return 0;
	for (uint32_t d = 0; d < w->n_devices; d++) {
		const lbs_device *dev = w->devices[d];

		if ((dev->backends & wl->required_backends) == wl->required_backends &&
		    has_names(wl, dev))
			return 1;
	}
	return 0;
}

/* The work ahead, in seconds; < 0 when the worker does not fit. */
static double ahead(const lbs_workload *wl, const lbs_worker *w)
{
	double p = LBS_HAS_FIELD(w, lbs_worker, pending_work_s) ? w->pending_work_s
	                                                         : LBS_WORK_UNKNOWN;

	if (!fits(wl, w))
		return -1.0;
	return p >= 0 ? p : ((double)w->active_tests + w->queued_tests) * wl->est_duration_s;
}

static lbs_status lp_select(void *inst, const lbs_workload *wl,
                            const lbs_worker *const *workers, uint32_t n, lbs_selection *out)
{
	uint32_t best = n;
	double best_s = 0;

	(void)inst;
	for (uint32_t i = 0; i < n; i++) {
		double s = ahead(wl, workers[i]);

		if (s >= 0 && (best == n || s < best_s)) {
			best = i;
			best_s = s;
		}
	}
	out->n_selected = 0;
	if (best == n)
		return LBS_NO_WORKER;
	out->indices[0] = best;
	out->ids[0] = workers[best]->id;
	out->n_selected = 1;
	if (out->reason && out->reason_len)
		snprintf(out->reason, out->reason_len, "least-pending: %.1f s ahead", best_s);
	return LBS_OK;
}

static const lbs_scheduler_desc least_pending_desc = {
	.struct_size = sizeof(lbs_scheduler_desc),
	.name = "least-pending",
	.description = "the worker with the least work ahead (built against the frozen 1.1 header)",
	.create = stub_create,
	.destroy = stub_destroy,
	.select = lp_select,
};

#define PLUGIN_NAME "v1.1-least-pending"
#define PLUGIN_VERSION "1.1.0"
#define THE_SCHEDULER least_pending_desc
#include "one_scheduler.h"
