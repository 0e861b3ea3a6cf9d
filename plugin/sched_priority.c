/*
 * sched_priority.c -- the "priority" scheduler: speed for urgent work,
 * balance for normal work, a load-weighted random spread for background
 * work, deadline-aware once history exists (scheduler-algos/priority.h).
 *
 * Config: {"load_ceiling": 0.9, "seed": 1}
 *   load_ceiling  0..1; 1 = no ceiling.
 *   seed          unsigned integer; the spread draws of an instance are a
 *                 fixed sequence for a given seed.
 * report() feeds the in-memory history (plugin/history.h).  While nothing
 * has been learned, select does no history lookups at all.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "config.h"
#include "eligible.h"
#include "history.h"
#include "store_config.h"
#include "priority.h"
#include "sched_util.h"

#define NAME "priority"
#define DEFAULT_SEED 1

typedef struct prio_inst {
	const lbs_host_api *host;
	double ceiling;
	uint64_t rng;    /* splitmix64 state, advanced once per spread select */
	uint64_t cookie;
	store *store; /* learned history: LMDB, or memory-only */
	sched_counters n;
} prio_inst;

static const char *const known_fields[] = { "load_ceiling", "seed", "store", NULL };

static lbs_status pr_create(const lbs_host_api *host, const char *config,
                            size_t config_len, void **out, char *err,
                            size_t errlen)
{
	cJSON *cfg = NULL;
	uint64_t seed = DEFAULT_SEED;
	double ceiling = CFG_CEILING_DEFAULT;
	prio_inst *inst;
	store *learned = NULL;
	lbs_status st;

	if (!out)
		return LBS_EINVAL;
	*out = NULL;
	st = cfg_parse(config, config_len, &cfg, err, errlen);
	if (st == LBS_OK)
		st = cfg_check_fields(cfg, known_fields, err, errlen);
	if (st == LBS_OK)
		st = cfg_load_ceiling(cfg, &ceiling, err, errlen);
	if (st == LBS_OK)
		st = cfg_uint(cfg, "seed", DEFAULT_SEED, &seed, err, errlen);
	if (st == LBS_OK)
		st = store_config_open(cfg, host, NAME, &learned, err, errlen);
	cJSON_Delete(cfg);
	if (st != LBS_OK)
		return st;

	inst = calloc(1, sizeof(*inst));
	if (!inst) {
		store_close(learned);
		if (err && errlen)
			snprintf(err, errlen, NAME ": out of memory");
		return LBS_ENOMEM;
	}
	inst->host = host;
	inst->store = learned;
	inst->ceiling = ceiling;
	inst->rng = seed;
	sc_log(host, LBS_LOG_DEBUG, NAME ": created, load_ceiling %g, seed %llu",
	       ceiling, (unsigned long long)seed);
	*out = inst;
	return LBS_OK;
}

static void pr_destroy(void *p)
{
	prio_inst *inst = p;

	if (!inst)
		return;
	store_close(inst->store);
	free(inst);
}

/* Parameters for one call.  `draw` advances the generator (select);
 * explain peeks at the same value without advancing it. */
static prio_params params_for(prio_inst *inst, const lbs_workload *wl, int draw)
{
	prio_params p = { .ceiling = inst->ceiling };
	uint64_t state = inst->rng;

	const hist_store *view = store_view(inst->store);

	/* The fast path: with nothing learned every lookup would miss. */
	if (hist_count(view) > 0) {
		p.history = hist_lookup;
		p.history_ctx = (void *)view;
	}
	/* Only spread selects consume draws, so the spread sequence of a
	 * seed does not depend on how many urgent requests came between. */
	if (prio_mode_of(wl->priority) == PRIO_SPREAD) {
		p.draw_seed = prio_rand_next(&state);
		if (draw)
			inst->rng = state;
	}
	return p;
}

static void pr_reason(lbs_selection *out, const lbs_workload *wl,
                      const prio_result *res)
{
	enum prio_mode mode = prio_mode_of(wl->priority);
	const prio_factors *b = &res->best;
	char what[160], dl[96] = "";

	/* Formatting doubles costs more than the whole selection. */
	if (!out->reason || out->reason_len == 0)
		return;
	if (mode == PRIO_SPREAD) {
		if (b->score > 0.0)
			snprintf(what, sizeof(what),
			         "weighted draw, weight %.2f of %.2f over %u eligible",
			         b->score, res->total_weight, res->n_eligible);
		else
			snprintf(what, sizeof(what),
			         "no spare capacity among %u eligible, least loaded taken",
			         res->n_eligible);
	} else if (b->samples > 0) {
		snprintf(what, sizeof(what),
		         "best score %.2f (success %.2f, time %.2f, load %.2f)",
		         b->score, b->success, b->time, b->load);
	} else {
		snprintf(what, sizeof(what),
		         "best score %.2f (no history yet, load %.2f)",
		         b->score, b->load);
	}
	if (res->demoted)
		snprintf(dl, sizeof(dl), "; %u expected to miss the %.0f s deadline ranked last",
		         res->n_missing, wl->deadline_s);
	if (res->n_found > 1)
		sc_reason(out, NAME " %u (%s): %u workers, first by %s%s",
		          wl->priority, prio_mode_name(mode), res->n_found, what, dl);
	else
		sc_reason(out, NAME " %u (%s): %s%s", wl->priority,
		          prio_mode_name(mode), what, dl);
}

static lbs_status pr_select(void *p, const lbs_workload *wl,
                            const lbs_worker *const *workers, uint32_t n,
                            lbs_selection *out)
{
	prio_inst *inst = p;
	uint32_t want, need;
	prio_result res;
	prio_params prm;
	lbs_status st;

	st = sc_check_select(wl, workers, n, out);
	if (st == LBS_OK) {
		sc_shards(wl, out->capacity, &want, &need);
		prm = params_for(inst, wl, 1);
		st = prio_select(&prm, wl, workers, n, want, out->indices, &res);
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
	sc_fill(out, workers, res.n_found, ++inst->cookie);
	pr_reason(out, wl, &res);
	return LBS_OK;
}

static lbs_status pr_score(void *p, const lbs_workload *wl,
                           const lbs_worker *const *workers, uint32_t n,
                           double *scores)
{
	prio_inst *inst = p;
	lbs_status st = sc_check_workload(wl);
	prio_params prm;

	if (st != LBS_OK)
		return st;
	if (n && (!workers || !scores))
		return LBS_EINVAL;
	prm = params_for(inst, wl, 0);
	return prio_score(&prm, wl, workers, n, scores);
}

static lbs_status pr_report(void *p, const lbs_outcome *o)
{
	prio_inst *inst = p;

	return store_learn(inst->store, &inst->n, o);
}

static lbs_status pr_stats(void *p, lbs_write_fn write, void *ctx)
{
	prio_inst *inst = p;

	return store_sched_stats(NAME, inst->store, &inst->n, NULL, write, ctx);
}

static const char *deadline_word(int d)
{
	return d == PRIO_DL_MEETS ? "meets" : d == PRIO_DL_MISSES ? "misses" : "unknown";
}

static lbs_status pr_explain(void *p, const lbs_workload *wl,
                             const lbs_worker *const *workers, uint32_t n,
                             lbs_write_fn write, void *ctx)
{
	prio_inst *inst = p;
	uint32_t *idx = NULL, want, need;
	char reason[256] = "";
	lbs_selection sel;
	prio_result res;
	prio_params prm;
	lbs_status st;
	sc_explain e;
	int spread;

	if (!write || sc_check_workload(wl) != LBS_OK || (n && !workers))
		return LBS_EINVAL;
	spread = prio_mode_of(wl->priority) == PRIO_SPREAD;
	sc_shards(wl, UINT32_MAX, &want, &need);
	if (want > n)
		want = n;
	if (n && !(idx = malloc(n * sizeof(*idx))))
		return LBS_ENOMEM;
	prm = params_for(inst, wl, 0);
	st = prio_select(&prm, wl, workers, n, want, idx, &res);
	if (st == LBS_OK)
		st = sc_explain_begin(&e, NAME);
	if (st != LBS_OK) {
		free(idx);
		return st;
	}

	for (uint32_t i = 0; i < n; i++) {
		const lbs_worker *w = workers[i];
		enum elig_reason r = elig_check(wl, w, inst->ceiling, NULL);
		prio_factors f;
		cJSON *c;

		if (r != ELIG_OK) {
			sc_explain_reject(&e, w->id, elig_reason_text(r));
			continue;
		}
		prio_factors_of(&prm, wl, w, &f);
		c = sc_explain_candidate(&e, w->id, f.score);
		if (spread)
			sc_explain_num(&e, c, "weight", f.score);
		sc_explain_num(&e, c, "load", f.load);
		sc_explain_num(&e, c, "samples", (double)f.samples);
		sc_explain_num(&e, c, "success", f.success);
		sc_explain_num(&e, c, "time", f.time);
		sc_explain_num(&e, c, "history", f.history);
		if (f.samples > 0) {
			sc_explain_num(&e, c, "preference", f.preference);
			if (f.mean_s >= 0.0) {
				sc_explain_num(&e, c, "mean_duration_s", f.mean_s);
				sc_explain_num(&e, c, "duration_sd_s", f.sd_s);
			}
		}
		if (wl->deadline_s > 0.0) {
			sc_explain_str(&e, c, "deadline", deadline_word(f.deadline));
			if (f.completion_s >= 0.0)
				sc_explain_num(&e, c, "expected_completion_s",
				               f.completion_s);
		}
	}

	sel = (lbs_selection){ .struct_size = sizeof(sel), .capacity = UINT32_MAX,
	                       .indices = idx, .reason = reason,
	                       .reason_len = sizeof(reason) };
	if (res.n_found == 0 || res.n_found < need) {
		sc_reason_none(&sel, NAME, wl, workers, n, inst->ceiling,
		               res.n_found, need);
	} else {
		for (uint32_t i = 0; i < res.n_found; i++)
			sc_explain_chosen(&e, workers[idx[i]]->id);
		pr_reason(&sel, wl, &res);
	}
	sc_explain_reason(&e, reason);
	free(idx);
	return sc_explain_end(&e, write, ctx);
}

const lbs_scheduler_desc sched_priority_desc = {
	.struct_size = sizeof(lbs_scheduler_desc),
	.name = NAME,
	.description = "Speed for urgent work, balance for normal work, a "
	               "load-weighted spread for background work; learns from "
	               "outcomes and respects deadlines.",
	.caps = LBS_CAP_MULTI | LBS_CAP_LEARNS,
	.create = pr_create,
	.destroy = pr_destroy,
	.select = pr_select,
	.score = pr_score,
	.report = pr_report,
	.workers_changed = NULL,
	.stats = pr_stats,
	.explain = pr_explain,
};
