/*
 * sched_roundrobin.c -- the "round-robin" scheduler: a true rotation over
 * the workers eligible for each request (scheduler-algos/roundrobin.h).
 *
 * Config: {"load_ceiling": 0.9}  (0..1; 1 = no ceiling)
 * Learns nothing, so it has no report slot.  score(): 1 for the worker it
 * would choose next, then (E - d) / E by rotation distance d over the E
 * eligible workers; -1 for ineligible ones.
 */
#include <stdio.h>
#include <stdlib.h>

#include "config.h"
#include "eligible.h"
#include "roundrobin.h"
#include "sched_util.h"

#define NAME "round-robin"

typedef struct rr_inst {
	const lbs_host_api *host;
	double ceiling;
	uint64_t cookie;
	rr_state rot;
	sched_counters n;
} rr_inst;

static const char *const known_fields[] = { "load_ceiling", NULL };

static lbs_status rr_create(const lbs_host_api *host, const char *config,
                            size_t config_len, void **out, char *err,
                            size_t errlen)
{
	cJSON *cfg = NULL;
	double ceiling;
	rr_inst *inst;
	lbs_status st;

	if (!out)
		return LBS_EINVAL;
	*out = NULL;
	st = cfg_parse(config, config_len, &cfg, err, errlen);
	if (st == LBS_OK)
		st = cfg_check_fields(cfg, known_fields, err, errlen);
	if (st == LBS_OK)
		st = cfg_load_ceiling(cfg, &ceiling, err, errlen);
	cJSON_Delete(cfg);
	if (st != LBS_OK)
		return st;

	inst = calloc(1, sizeof(*inst));
	if (!inst) {
		if (err && errlen)
			snprintf(err, errlen, NAME ": out of memory");
		return LBS_ENOMEM;
	}
	inst->host = host;
	inst->ceiling = ceiling;
	rr_init(&inst->rot);
	sc_log(host, LBS_LOG_DEBUG, NAME ": created, load_ceiling %g", ceiling);
	*out = inst;
	return LBS_OK;
}

static void rr_destroy(void *p)
{
	free(p);
}

/* The reason sentence; cheap enough to write on every select. */
static void rr_reason(lbs_selection *out, const rr_result *res, uint32_t n)
{
	if (res->n_found == 1)
		sc_reason(out, NAME ": next eligible worker in rotation "
		          "(position %u of %u, %u ineligible skipped)",
		          out->indices[0] + 1, n, res->skipped);
	else
		sc_reason(out, NAME ": next %u eligible workers in rotation "
		          "from position %u of %u (%u ineligible skipped)",
		          res->n_found, out->indices[0] + 1, n, res->skipped);
}

static lbs_status rr_select(void *p, const lbs_workload *wl,
                            const lbs_worker *const *workers, uint32_t n,
                            lbs_selection *out)
{
	rr_inst *inst = p;
	uint32_t want, need;
	rr_result res;
	lbs_status st;

	st = sc_check_select(wl, workers, n, out);
	if (st == LBS_OK) {
		sc_shards(wl, out->capacity, &want, &need);
		st = rr_pick(&inst->rot, wl, workers, n, inst->ceiling, want,
		             out->indices, &res);
	}
	if (st != LBS_OK) {
		sc_bump(&inst->n.errors);
		return st;
	}
	sc_bump(&inst->n.selects);
	if (res.n_found == 0 || res.n_found < need) {
		sc_bump(&inst->n.no_worker);
		sc_reason_none(out, NAME, wl, workers, n, inst->ceiling,
		               res.n_found, need);
		return LBS_NO_WORKER;
	}
	rr_commit(&inst->rot, &res, workers, out->indices[res.n_found - 1]);
	sc_fill(out, workers, res.n_found, ++inst->cookie);
	rr_reason(out, &res, n);
	return LBS_OK;
}

static lbs_status rr_score_slot(void *p, const lbs_workload *wl,
                                const lbs_worker *const *workers, uint32_t n,
                                double *scores)
{
	rr_inst *inst = p;
	lbs_status st = sc_check_workload(wl);

	if (st != LBS_OK)
		return st;
	if (n && (!workers || !scores))
		return LBS_EINVAL;
	return rr_score(&inst->rot, wl, workers, n, inst->ceiling, scores);
}

static lbs_status rr_stats(void *p, lbs_write_fn write, void *ctx)
{
	rr_inst *inst = p;

	return sc_stats(NAME, &inst->n, NULL, write, ctx);
}

static lbs_status rr_explain(void *p, const lbs_workload *wl,
                             const lbs_worker *const *workers, uint32_t n,
                             lbs_write_fn write, void *ctx)
{
	rr_inst *inst = p;
	uint32_t *idx = NULL, want, need, eligible = 0;
	double *scores = NULL;
	char reason[256] = "";
	lbs_selection sel;
	lbs_status st;
	rr_result res;
	sc_explain e;

	if (!write || sc_check_workload(wl) != LBS_OK || (n && !workers))
		return LBS_EINVAL;
	sc_shards(wl, UINT32_MAX, &want, &need);
	if (want > n)
		want = n;
	if (n) {
		scores = malloc(n * sizeof(*scores));
		idx = malloc(n * sizeof(*idx));
		if (!scores || !idx) {
			free(scores);
			free(idx);
			return LBS_ENOMEM;
		}
	}
	st = rr_score(&inst->rot, wl, workers, n, inst->ceiling, scores);
	if (st == LBS_OK)
		st = rr_pick(&inst->rot, wl, workers, n, inst->ceiling, want, idx, &res);
	if (st == LBS_OK)
		st = sc_explain_begin(&e, NAME);
	if (st != LBS_OK) {
		free(scores);
		free(idx);
		return st;
	}

	/* Candidates in the order the rotation would take them, each with
	 * its distance from the cursor. */
	for (uint32_t k = 0, i = res.start; k < n; k++, i = i + 1 < n ? i + 1 : 0) {
		const lbs_worker *w = workers[i];
		cJSON *c;

		if (scores[i] < 0.0)
			continue;
		c = sc_explain_candidate(&e, w->id, scores[i]);
		sc_explain_num(&e, c, "rotation", eligible++);
		sc_explain_num(&e, c, "load", worker_load(w));
	}
	for (uint32_t i = 0; i < n; i++) {
		if (scores[i] < 0.0)
			sc_explain_reject(&e, workers[i]->id,
			                  elig_reason_text(elig_check(wl, workers[i],
			                                              inst->ceiling, NULL)));
	}

	/* The same sentence select would write, from a scratch selection. */
	sel = (lbs_selection){ .struct_size = sizeof(sel), .capacity = UINT32_MAX,
	                       .indices = idx, .reason = reason,
	                       .reason_len = sizeof(reason) };
	if (res.n_found == 0 || res.n_found < need) {
		sc_reason_none(&sel, NAME, wl, workers, n, inst->ceiling,
		               res.n_found, need);
	} else {
		for (uint32_t i = 0; i < res.n_found; i++)
			sc_explain_chosen(&e, workers[idx[i]]->id);
		rr_reason(&sel, &res, n);
	}
	sc_explain_reason(&e, reason);
	free(scores);
	free(idx);
	return sc_explain_end(&e, write, ctx);
}

const lbs_scheduler_desc sched_roundrobin_desc = {
	.struct_size = sizeof(lbs_scheduler_desc),
	.name = NAME,
	.description = "A true rotation over the workers eligible for each "
	               "request, one cursor per kind of request.",
	.caps = LBS_CAP_MULTI,
	.create = rr_create,
	.destroy = rr_destroy,
	.select = rr_select,
	.score = rr_score_slot,
	.report = NULL,
	.workers_changed = NULL,
	.stats = rr_stats,
	.explain = rr_explain,
};
