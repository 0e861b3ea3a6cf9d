/*
 * sched_performance.c -- the "performance" scheduler: the worker with the
 * best learned success and speed for the workload's type, blended with
 * its load (scheduler-algos/performance.h).
 *
 * Config: {"load_ceiling": 0.9, "confidence_samples": 10, "load_weight": 0.3,
 *          "store": {...}}
 *   confidence_samples  outcomes after which a worker's history counts in
 *                       full (> 0).
 *   load_weight         share of the score given to spare load, 0..1.
 *   store               the learned store every learning scheduler uses
 *                       (plugin/store_config.c; memory-only without it).
 * report() learns through the store, as priority and hardware-aware do.
 */
#include <stdio.h>
#include <stdlib.h>

#include "config.h"
#include "eligible.h"
#include "history.h"
#include "performance.h"
#include "sched_util.h"
#include "store_config.h"

#define NAME "performance"

typedef struct perf_inst {
	const lbs_host_api *host;
	perf_params p;
	store *store;
	double *scratch; /* scores of the last select, grown with the fleet */
	uint32_t scratch_cap;
	uint64_t cookie;
	sched_counters n;
} perf_inst;

static const char *const known_fields[] = { "load_ceiling", "confidence_samples",
	                                    "load_weight", "store", NULL };

static void pf_destroy(void *p)
{
	perf_inst *inst = p;

	if (!inst)
		return;
	store_close(inst->store);
	free(inst->scratch);
	free(inst);
}

static lbs_status pf_configure(void *p, const lbs_host_api *host, const cJSON *cfg,
                               char *err, size_t errlen)
{
	perf_inst *inst = p;
	perf_params *prm = &inst->p;
	lbs_status st;

	st = cfg_load_ceiling(cfg, &prm->ceiling, err, errlen);
	if (st == LBS_OK)
		st = cfg_number(cfg, "confidence_samples", 1.0, 1e6, 10.0, &prm->confidence_samples,
		                err, errlen);
	if (st == LBS_OK)
		st = cfg_number(cfg, "load_weight", 0.0, 1.0, 0.3, &prm->load_weight, err, errlen);
	if (st == LBS_OK)
		st = store_config_open(cfg, host, NAME, &inst->store, err, errlen);
	if (st != LBS_OK)
		return st;
	inst->host = host;
	sc_log(host, LBS_LOG_DEBUG, NAME ": created, load_ceiling %g, confidence_samples %g, "
	       "load_weight %g", prm->ceiling, prm->confidence_samples, prm->load_weight);
	return LBS_OK;
}

static lbs_status pf_create(const lbs_host_api *host, const char *config, size_t config_len,
                            void **out, char *err, size_t errlen)
{
	return sc_create(NAME, sizeof(perf_inst), known_fields, pf_configure, pf_destroy, host,
	                 config, config_len, out, err, errlen);
}

/* The parameters with the store's current view (no lookups while it is
 * empty: every one would miss). */
static perf_params params_for(perf_inst *inst, const lbs_workload *wl)
{
	perf_params p = inst->p;
	const hist_store *view = store_view(inst->store);

	if (hist_count(view) > 0) {
		p.history = hist_lookup;
		p.history_ctx = (void *)view;
		if (!(wl->est_duration_s > 0.0)) {
			p.ref_log_s = hist_latency_ref((void *)view, wl->type);
			p.has_ref = isfinite(p.ref_log_s);
		}
	}
	return p;
}

static lbs_status grow_scratch(perf_inst *inst, uint32_t n)
{
	double *s;

	if (n <= inst->scratch_cap)
		return LBS_OK;
	s = realloc(inst->scratch, n * sizeof(*s));
	if (!s)
		return LBS_ENOMEM;
	inst->scratch = s;
	inst->scratch_cap = n;
	return LBS_OK;
}

/* The sentence for a selection whose first worker has factors f_. */
static void pf_reason(lbs_selection *out, const void *f_, const void *unused)
{
	const perf_factors *f = f_;
	uint32_t found = out->n_selected;
	char many[48] = "";

	(void)unused;

	if (!out->reason || out->reason_len == 0)
		return;
	if (found > 1)
		snprintf(many, sizeof(many), "%u workers, first by ", found);
	if (f->samples == 0)
		sc_reason(out, NAME ": %sbest score %.2f (no history yet, load %.2f)", many,
		          f->score, f->load);
	else
		sc_reason(out, NAME ": %sbest score %.2f (success %.2f, time %.2f over %llu "
		          "outcomes, load %.2f)", many, f->score, f->success, f->time,
		          (unsigned long long)f->samples, f->load);
}

static lbs_status pf_select(void *p, const lbs_workload *wl, const lbs_worker *const *workers,
                            uint32_t n, lbs_selection *out)
{
	perf_inst *inst = p;
	uint32_t want, need = 0, found = 0;
	perf_params prm;
	perf_factors f;
	lbs_status st;

	st = sc_check_select(wl, workers, n, out);
	if (st == LBS_OK)
		st = grow_scratch(inst, n);
	if (st == LBS_OK) {
		sc_shards(wl, out->capacity, &want, &need);
		prm = params_for(inst, wl);
		st = perf_score(&prm, wl, workers, n, inst->scratch);
	}
	if (st == LBS_OK)
		perf_top(inst->scratch, n, want, out->indices, &found);
	st = sc_select_end(&inst->n, st, out, NAME, wl, workers, n, inst->p.ceiling, found, need,
	                   &inst->cookie);
	if (st != LBS_OK)
		return st;
	if (out->reason && out->reason_len) {
		perf_factors_of(&prm, wl, workers[out->indices[0]], &f);
		pf_reason(out, &f, NULL);
	}
	return LBS_OK;
}

static lbs_status pf_score(void *p, const lbs_workload *wl, const lbs_worker *const *workers,
                           uint32_t n, double *scores)
{
	perf_inst *inst = p;
	lbs_status st = sc_check_score(wl, workers, n, scores);
	perf_params prm;

	if (st != LBS_OK)
		return st;
	prm = params_for(inst, wl);
	return perf_score(&prm, wl, workers, n, scores);
}

static lbs_status pf_report(void *p, const lbs_outcome *o)
{
	perf_inst *inst = p;

	return store_learn(inst->store, &inst->n, o);
}

static lbs_status pf_stats(void *p, lbs_write_fn write, void *ctx)
{
	perf_inst *inst = p;

	return store_sched_stats(NAME, inst->store, &inst->n, NULL, write, ctx);
}

static const char *const time_sources[] = { "none", "speed_ratio", "mean_vs_estimate",
	                                    "never_succeeded", "latency_vs_type" };

static lbs_status pf_explain(void *p, const lbs_workload *wl, const lbs_worker *const *workers,
                             uint32_t n, lbs_write_fn write, void *ctx)
{
	perf_inst *inst = p;
	uint32_t *idx, want, need, found = 0;
	double *scores;
	perf_params prm;
	perf_factors f;
	lbs_status st;
	sc_explain e;

	if (sc_explain_args(wl, workers, n, write, &want, &need) != LBS_OK)
		return LBS_EINVAL;
	prm = params_for(inst, wl);
	st = sc_explain_scratch(n, &scores, &idx);
	if (st == LBS_OK)
		st = perf_score(&prm, wl, workers, n, scores);
	st = sc_explain_open(&e, NAME, st, scores, idx);
	if (st != LBS_OK)
		return st;
	for (uint32_t i = 0; i < n; i++) {
		cJSON *c;

		if (scores[i] < 0.0) {
			sc_explain_reject_worker(&e, wl, workers[i], prm.ceiling);
			continue;
		}
		perf_factors_of(&prm, wl, workers[i], &f);
		c = sc_explain_candidate(&e, workers[i]->id, f.score);
		sc_explain_num(&e, c, "samples", (double)f.samples);
		sc_explain_num(&e, c, "success", f.success);
		sc_explain_num(&e, c, "time", f.time);
		sc_explain_str(&e, c, "time_from", time_sources[f.time_from]);
		if (f.ratio >= 0.0)
			sc_explain_num(&e, c, "duration_ratio", f.ratio);
		sc_explain_num(&e, c, "confidence", f.confidence);
		sc_explain_num(&e, c, "ahead", f.ahead);
		sc_explain_num(&e, c, "performance", f.perf);
		sc_explain_num(&e, c, "load", f.load);
	}
	perf_top(scores, n, want, idx, &found);
	if (found)
		perf_factors_of(&prm, wl, workers[idx[0]], &f);
	return sc_explain_close(&e, NAME, wl, workers, n, prm.ceiling, idx, found, need, pf_reason,
	                          &f, NULL, write, ctx);
}

const lbs_scheduler_desc sched_performance_desc = {
	.struct_size = sizeof(lbs_scheduler_desc),
	.name = NAME,
	.description = "The worker with the best learned success and speed for the "
	               "workload's type, blended with its load.",
	.caps = LBS_CAP_MULTI | LBS_CAP_LEARNS,
	.create = pf_create,
	.destroy = pf_destroy,
	.select = pf_select,
	.score = pf_score,
	.report = pf_report,
	.workers_changed = NULL,
	.stats = pf_stats,
	.explain = pf_explain,
};
