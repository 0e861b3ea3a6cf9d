/*
 * A complete plugin built against the frozen 1.0 header
 * (tests/abi/v1.0/lbsched/abi.h): every slot of the 1.0 descriptor is set,
 * so the current host must be able to call each of them on 1.0-sized
 * structs.  It stays small on purpose: the real plugin's sources follow the
 * current header, this one never changes.
 *
 * Scheduler "least-loaded", no config: among the workers that are not
 * excluded and have one device with the required backends and memory, the
 * one with the fewest (active + queued + failures reported) per unit of
 * capacity; the first in array order on a tie.  A reported failure counts
 * against its worker, so report() visibly changes the next decision.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lbsched/abi.h>

#define MAX_TRACKED 16

typedef struct least_loaded {
	struct {
		char id[64];
		uint32_t failures;
	} tracked[MAX_TRACKED];
	uint32_t n_tracked;
	uint64_t reports, fleet_changes;
} least_loaded;

static lbs_status ll_create(const lbs_host_api *host, const char *config, size_t len,
                            void **out, char *err, size_t errlen)
{
	least_loaded *ll;

	(void)host;
	/* Only "{}" or nothing: this scheduler has no settings. */
	for (size_t i = 0; config && i < len; i++)
		if (!strchr("{} \t\r\n", config[i])) {
			snprintf(err, errlen, "config: least-loaded has no fields");
			return LBS_ECONFIG;
		}
	ll = calloc(1, sizeof *ll);
	if (!ll)
		return LBS_ENOMEM;
	*out = ll;
	return LBS_OK;
}

static void ll_destroy(void *inst)
{
	free(inst);
}

static uint32_t *failures_of(least_loaded *ll, const char *id, int add)
{
	for (uint32_t i = 0; i < ll->n_tracked; i++)
		if (!strcmp(ll->tracked[i].id, id))
			return &ll->tracked[i].failures;
	if (!add || ll->n_tracked == MAX_TRACKED || strlen(id) >= sizeof ll->tracked[0].id)
		return NULL;
	strcpy(ll->tracked[ll->n_tracked].id, id);
	return &ll->tracked[ll->n_tracked++].failures;
}

static int fits(const lbs_workload *wl, const lbs_worker *w)
{
	for (uint32_t i = 0; i < wl->n_exclude; i++)
		if (!strcmp(wl->exclude_ids[i], w->id))
			return 0;
	for (uint32_t d = 0; d < w->n_devices; d++) {
		const lbs_device *dev = w->devices[d];
		if ((dev->backends & wl->required_backends) == wl->required_backends &&
		    dev->mem_available_bytes >= wl->min_memory_bytes + w->reserved_memory_bytes)
			return 1;
	}
	return 0;
}

/* Load per unit of capacity, counting reported failures as load; < 0 when
 * the worker does not fit. */
static double load_of(least_loaded *ll, const lbs_workload *wl, const lbs_worker *w)
{
	const uint32_t *failed = failures_of(ll, w->id, 0);
	double busy = (double)w->active_tests + w->queued_tests + (failed ? *failed : 0);

	return fits(wl, w) ? busy / (w->capacity ? w->capacity : 1) : -1.0;
}

static lbs_status ll_select(void *inst, const lbs_workload *wl,
                            const lbs_worker *const *workers, uint32_t n, lbs_selection *out)
{
	uint32_t best = n;
	double best_load = 0;

	for (uint32_t i = 0; i < n; i++) {
		double load = load_of(inst, wl, workers[i]);
		if (load >= 0 && (best == n || load < best_load)) {
			best = i;
			best_load = load;
		}
	}
	out->n_selected = 0;
	if (best == n)
		return LBS_NO_WORKER;
	out->indices[0] = best;
	out->ids[0] = workers[best]->id;
	out->n_selected = 1;
	if (out->reason && out->reason_len)
		snprintf(out->reason, out->reason_len, "least-loaded: load %.2f", best_load);
	return LBS_OK;
}

static lbs_status ll_score(void *inst, const lbs_workload *wl,
                           const lbs_worker *const *workers, uint32_t n, double *scores)
{
	for (uint32_t i = 0; i < n; i++) {
		double load = load_of(inst, wl, workers[i]);
		scores[i] = load < 0 ? -1.0 : 1.0 / (1.0 + load);
	}
	return LBS_OK;
}

static lbs_status ll_report(void *inst, const lbs_outcome *o)
{
	least_loaded *ll = inst;
	uint32_t *failed;

	if (!o->worker_id)
		return LBS_EINVAL;
	ll->reports++;
	if (o->result == LBS_RESULT_SUCCESS || o->result == LBS_RESULT_CANCELLED)
		return LBS_OK;
	failed = failures_of(ll, o->worker_id, 1);
	if (!failed)
		return LBS_EINVAL;
	(*failed)++;
	return LBS_OK;
}

static lbs_status ll_workers_changed(void *inst, const lbs_worker *const *workers, uint32_t n)
{
	(void)workers;
	(void)n;
	((least_loaded *)inst)->fleet_changes++;
	return LBS_OK;
}

static lbs_status ll_stats(void *inst, lbs_write_fn write, void *ctx)
{
	const least_loaded *ll = inst;
	char buf[128];
	int len = snprintf(buf, sizeof buf, "{\"reports\": %llu, \"fleet_changes\": %llu}",
	                   (unsigned long long)ll->reports, (unsigned long long)ll->fleet_changes);

	return write(ctx, buf, (size_t)len) ? LBS_EINVAL : LBS_OK;
}

static lbs_status ll_explain(void *inst, const lbs_workload *wl,
                             const lbs_worker *const *workers, uint32_t n, lbs_write_fn write,
                             void *ctx)
{
	char buf[160];
	int len;

	write(ctx, "{\"loads\": {", 11);
	for (uint32_t i = 0; i < n; i++) {
		len = snprintf(buf, sizeof buf, "%s\"%.64s\": %.2f", i ? ", " : "", workers[i]->id,
		               load_of(inst, wl, workers[i]));
		write(ctx, buf, (size_t)len);
	}
	write(ctx, "}}", 2);
	return LBS_OK;
}

static const lbs_scheduler_desc least_loaded_desc = {
	.struct_size = sizeof(lbs_scheduler_desc),
	.name = "least-loaded",
	.description = "the least loaded worker that fits (built against the frozen 1.0 header)",
	.create = ll_create,
	.destroy = ll_destroy,
	.select = ll_select,
	.score = ll_score,
	.report = ll_report,
	.workers_changed = ll_workers_changed,
	.stats = ll_stats,
	.explain = ll_explain,
};

#define PLUGIN_NAME "v1.0-least-loaded"
#define PLUGIN_VERSION "1.0.0"
#define THE_SCHEDULER least_loaded_desc
#include "one_scheduler.h"
