/*
 * sched_roundrobin.c -- the "round-robin" scheduler: a true rotation over
 * the workers eligible for each request (scheduler-algos/roundrobin.h).
 *
 * Config: {"load_ceiling": 0.9}  (0..1; 1 = no ceiling)
 * Learns nothing, so it has no report slot.  score(): 1 for the worker it
 * would choose next, then (E - d) / E by rotation distance d over the E
 * eligible workers; -1 for ineligible ones.
 */
#include <stdlib.h>

#include "config.h"
#include "eligible.h"
#include "roundrobin.h"
#include "sched_util.h"
#include "timed.h"

#define NAME "round-robin"

typedef struct rr_inst {
	const lbs_host_api *host;
	double ceiling;
	uint64_t cookie;
	rr_state rot;
	sched_counters n;
} rr_inst;

static const char *const known_fields[] = { "load_ceiling", NULL };

static void rr_destroy(void *p)
{
	free(p);
}

static lbs_status rr_configure(void *p, const lbs_host_api *host, const cJSON *cfg,
                               char *err, size_t errlen)
{
	rr_inst *inst = p;
	lbs_status st = cfg_load_ceiling(cfg, &inst->ceiling, err, errlen);

	if (st != LBS_OK)
		return st;
	inst->host = host;
	rr_init(&inst->rot);
	sc_log(host, LBS_LOG_DEBUG, NAME ": created, load_ceiling %g", inst->ceiling);
	return LBS_OK;
}

static lbs_status rr_create(const lbs_host_api *host, const char *config, size_t config_len,
                            void **out, char *err, size_t errlen)
{
	return sc_create(NAME, sizeof(rr_inst), known_fields, rr_configure, rr_destroy, host,
	                 config, config_len, out, err, errlen);
}

/* The reason sentence for result res_ among *n_ workers; cheap enough to
 * write on every select. */
static void rr_reason(lbs_selection *out, const void *res_, const void *n_)
{
	const rr_result *res = res_;
	uint32_t n = *(const uint32_t *)n_;

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
	uint32_t want, need = 0;
	rr_result res = { 0 };
	lbs_status st;

	st = sc_check_select(wl, workers, n, out);
	if (st == LBS_OK) {
		sc_shards(wl, out->capacity, &want, &need);
		st = rr_pick(&inst->rot, wl, workers, n, inst->ceiling, want,
		             out->indices, &res);
	}
	st = sc_select_end(&inst->n, st, out, NAME, wl, workers, n, inst->ceiling, res.n_found,
	                   need, &inst->cookie);
	if (st != LBS_OK)
		return st;
	rr_commit(&inst->rot, &res, workers, out->indices[res.n_found - 1]);
	rr_reason(out, &res, &n);
	return LBS_OK;
}

static lbs_status rr_score_slot(void *p, const lbs_workload *wl,
                                const lbs_worker *const *workers, uint32_t n,
                                double *scores)
{
	rr_inst *inst = p;
	lbs_status st = sc_check_score(wl, workers, n, scores);
	const double *load;
	const uint8_t *hard;

	if (st != LBS_OK)
		return st;
	/* In a composite's decision, the hard filter a completion pass
	 * already ran (plugin/timed.h). */
	hard = timed_hard(wl, workers, n, &load);
	return rr_score_hard(&inst->rot, wl, workers, n, inst->ceiling, hard, load, scores);
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
	uint32_t *idx, want, need, eligible = 0;
	double *scores;
	lbs_status st;
	rr_result res;
	sc_explain e;

	if (sc_explain_args(wl, workers, n, write, &want, &need) != LBS_OK)
		return LBS_EINVAL;
	st = sc_explain_scratch(n, &scores, &idx);
	if (st == LBS_OK)
		st = rr_score(&inst->rot, wl, workers, n, inst->ceiling, scores);
	if (st == LBS_OK)
		st = rr_pick(&inst->rot, wl, workers, n, inst->ceiling, want, idx, &res);
	st = sc_explain_open(&e, NAME, st, scores, idx);
	if (st != LBS_OK)
		return st;

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
			sc_explain_reject_worker(&e, wl, workers[i], inst->ceiling);
	}
	return sc_explain_close(&e, NAME, wl, workers, n, inst->ceiling, idx, res.n_found, need,
	                          rr_reason, &res, &n, write, ctx);
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
