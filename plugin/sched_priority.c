/*
 * sched_priority.c -- the "priority" scheduler: speed for urgent work,
 * balance for normal work, a load-weighted random spread for background
 * work, deadline-aware once history exists (scheduler-algos/priority.h).
 *
 * Config: {"load_ceiling": 0.9, "seed": 1, "completion": true, "scan": "auto",
 *          "sample": 64}
 *   load_ceiling  0..1; 1 = no ceiling.
 *   seed          unsigned integer; the spread draws of an instance are a
 *                 fixed sequence for a given seed.
 *   completion    timed work of priority <= 3 ranks by estimated
 *                 completion (below); false: by the history formula of
 *                 priority.h, as before.
 *   scan, sample  how the completion ranking scans a giant fleet, as in
 *                 hardware-aware (plugin/timed.h); the other modes scan
 *                 every worker.
 * report() feeds the in-memory history (plugin/history.h).  While nothing
 * has been learned, select does no history lookups at all.
 *
 * Urgent and normal work (priority <= 3) that declares its duration
 * (est_duration_s > 0) is ranked by estimated completion,
 * hardware-aware's estimate with its default parameters and this load
 * ceiling (plugin/timed.h): speed first means finishing first, and a
 * ranking blind to queues piles urgent work on the fastest worker until it
 * is the slowest (17-52x the oracle's mean completion on a heterogeneous
 * fleet at 70 % load); a completion ranking balances by the queues it
 * sees.  A deadline changes nothing there: the earliest completion meets
 * it if any worker's estimate does (the history formula's deadline tiers
 * judged only workers with history, so a deadline sent urgent work to an
 * idle slow worker the same work without one was kept off).  Background
 * work (priority >= 4) keeps the spread.  Timed work
 * that those find no worker for (every eligible one over the ceiling)
 * falls to completion, which has no ceiling (falls_to_completion()).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "config.h"
#include "eligible.h"
#include "history.h"
#include "store_config.h"
#include "priority.h"
#include "sched_util.h"
#include "taxonomy.h"
#include "timed.h"

#define NAME "priority"

typedef struct prio_inst {
	const lbs_host_api *host;
	double ceiling;
	uint64_t rng;    /* splitmix64 state, advanced once per spread select */
	uint64_t cookie;
	store *store; /* learned history: LMDB, or memory-only */
	timed t;      /* urgent timed work: completion and the ledger */
	int completion; /* config "completion" */
	sched_counters n;
} prio_inst;

/* Ranked by estimated completion (see the top of this file). */
/* Work whose duration the completion estimate can use. */
static int timed_work(const prio_inst *inst, const lbs_workload *wl)
{
	return inst->completion && wl->est_duration_s > 0.0 && wl->est_duration_s < 1e300;
}

static int by_completion(const prio_inst *inst, const lbs_workload *wl)
{
	return timed_work(inst, wl) && prio_mode_of(wl->priority) != PRIO_SPREAD;
}

/* A completion reason's word on the deadline: the earliest estimate meets
 * it, or none does. */
static const char *deadline_note(char *buf, size_t n, const lbs_workload *wl, double completion_s)
{
	if (!(wl->deadline_s > 0.0))
		return "";
	snprintf(buf, n, completion_s <= wl->deadline_s ? "; meets the %.0f s deadline"
	                                                : "; no estimate meets the %.0f s deadline",
	         wl->deadline_s);
	return buf;
}

/*
 * Timed work the history formula or the spread finds no worker for (all
 * over the ceiling, or fewer than its shards need) goes by completion,
 * which has no ceiling: a full fleet must not turn work that has eligible
 * workers into no_worker, a 502 in nginx, when the wait can be scored
 * (docs/SCORING.md, "The load ceiling").  Work with a hard-filter miss
 * gets no worker there either.
 */
static int falls_to_completion(const prio_inst *inst, const lbs_workload *wl,
                               const prio_result *res, uint32_t need)
{
	return (res->n_found == 0 || res->n_found < need) && timed_work(inst, wl);
}

static const char *const known_fields[] = { "load_ceiling", "seed", "completion", "store",
                                            "scan", "sample", NULL };

static lbs_status pr_create(const lbs_host_api *host, const char *config,
                            size_t config_len, void **out, char *err,
                            size_t errlen)
{
	cJSON *cfg = NULL;
	int completion = 1;
	double ceiling = CFG_CEILING_DEFAULT;
	prio_inst *inst;
	hw_params hp;
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
		st = cfg_bool(cfg, "completion", 1, &completion, err, errlen);
	hw_params_default(&hp);
	if (st == LBS_OK)
		st = timed_scan_config(cfg, &hp, err, errlen);
	/* how the completion ranking scans: nothing scans without it */
	for (const char *const *f = (const char *const[]){"scan", "sample", NULL};
	     st == LBS_OK && !completion && *f; f++)
		if (cJSON_GetObjectItemCaseSensitive(cfg, *f)) {
			snprintf(err, errlen, "config field '%s': only the completion ranking scans, "
			         "and \"completion\": false turns it off; leave '%s' out", *f, *f);
			st = LBS_ECONFIG;
		}
	if (st == LBS_OK)
		st = store_config_open(cfg, host, NAME, &learned, err, errlen);
	cJSON_Delete(cfg);
	if (st != LBS_OK)
		return st;

	inst = calloc(1, sizeof(*inst));
	if (inst) {
		hp.load_ceiling = ceiling;
		if (timed_init(&inst->t, &hp) != LBS_OK) {
			free(inst);
			inst = NULL;
		}
	}
	if (!inst) {
		store_close(learned);
		if (err && errlen)
			snprintf(err, errlen, NAME ": out of memory");
		return LBS_ENOMEM;
	}
	inst->host = host;
	inst->store = learned;
	inst->ceiling = ceiling;
	inst->rng = hp.seed; /* timed_scan_config's "seed": one for all its draws */
	inst->completion = completion;
	sc_log(host, LBS_LOG_DEBUG, NAME ": created, load_ceiling %g, seed %llu",
	       ceiling, (unsigned long long)hp.seed);
	*out = inst;
	return LBS_OK;
}

static void pr_destroy(void *p)
{
	prio_inst *inst = p;

	if (!inst)
		return;
	timed_free(&inst->t);
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
		if (!(wl->est_duration_s > 0.0)) {
			p.ref_log_s = hist_latency_ref((void *)view, wl->type);
			p.has_ref = isfinite(p.ref_log_s);
		}
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

/* select() for timed work of priority <= 3: hardware-aware's completion
 * ranking. */
static lbs_status pr_select_timed(prio_inst *inst, const lbs_workload *wl,
                                  const lbs_worker *const *workers, uint32_t n,
                                  lbs_selection *out)
{
	uint32_t want, need, found = 0;
	int say = out->reason && out->reason_len;
	double now = timed_now(inst->host);
	hw_learned l = timed_learned(&inst->t, inst->store);
	hw_factors b;
	lbs_status st;

	sc_shards(wl, out->capacity, &want, &need);
	st = want < need ? LBS_NO_WORKER
	     : hw_select(inst->t.hw, wl, workers, n, &l, want, need, out->indices, &found,
	                 say ? &b : NULL);
	if (st != LBS_OK && st != LBS_NO_WORKER) {
		sc_bump(&inst->n.errors);
		return st;
	}
	sc_bump(&inst->n.selects);
	if (st == LBS_NO_WORKER) {
		sc_bump(&inst->n.no_worker);
		sc_reason_none(out, NAME, wl, workers, n, inst->ceiling, found, need);
		return LBS_NO_WORKER;
	}
	sc_fill(out, workers, found, ++inst->cookie);
	timed_placed(&inst->t, out, wl, now);
	if (say) {
		char dl[64];
		sc_reason(out, NAME " %u (%s): earliest completion, est. %.1f s (wait %.1f + "
		          "run %.1f) on %s of %s%s", wl->priority,
		          prio_mode_name(prio_mode_of(wl->priority)), b.completion_s, b.wait_s, b.run_s,
		          tax_class_name(b.hw_class), workers[out->indices[0]]->id,
		          deadline_note(dl, sizeof dl, wl, b.completion_s));
	}
	return LBS_OK;
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
	if (st == LBS_OK && by_completion(inst, wl))
		return pr_select_timed(inst, wl, workers, n, out);
	if (st == LBS_OK) {
		sc_shards(wl, out->capacity, &want, &need);
		prm = params_for(inst, wl, 1);
		/* pr_reason is all that reads res.best. */
		prm.skip_best = !out->reason || !out->reason_len;
		st = prio_select(&prm, wl, workers, n, want, out->indices, &res);
	}
	if (st != LBS_OK) {
		sc_bump(&inst->n.errors);
		return st;
	}
	if (falls_to_completion(inst, wl, &res, need))
		return pr_select_timed(inst, wl, workers, n, out);
	sc_bump(&inst->n.selects);
	if (res.n_found == 0 || res.n_found < need) {
		sc_bump(&inst->n.no_worker);
		sc_reason_none(out, NAME, wl, workers, n, inst->ceiling,
		               res.n_found, need);
		return LBS_NO_WORKER;
	}
	sc_fill(out, workers, res.n_found, ++inst->cookie);
	/* Hosts that want no reason (a balancer's hot path) skip the call. */
	if (!prm.skip_best)
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
	if (by_completion(inst, wl))
		return timed_score(&inst->t, inst->store, wl, workers, n, scores);
	prm = params_for(inst, wl, 0);
	/* In a composite's decision, the hard filter a completion pass
	 * already ran (plugin/timed.h). */
	prm.hard = timed_hard(wl, workers, n, &prm.hard_load);
	st = prio_score(&prm, wl, workers, n, scores);
	if (st == LBS_OK && timed_work(inst, wl)) {
		uint32_t i = 0;

		while (i < n && !(scores[i] >= 0.0))
			i++;
		if (i == n && n)
			return timed_score(&inst->t, inst->store, wl, workers, n, scores);
	}
	return st;
}

static lbs_status pr_report(void *p, const lbs_outcome *o)
{
	prio_inst *inst = p;

	timed_reported(&inst->t, o);
	return store_learn(inst->store, &inst->n, o);
}

static lbs_status pr_stats(void *p, lbs_write_fn write, void *ctx)
{
	prio_inst *inst = p;
	char extra[384];

	timed_stats(&inst->t, extra, sizeof extra);
	return store_sched_stats(NAME, inst->store, &inst->n, extra, write, ctx);
}

static const char *deadline_word(int d)
{
	return d == PRIO_DL_MEETS ? "meets" : d == PRIO_DL_MISSES ? "misses" : "unknown";
}

/* explain() for timed work of priority <= 3: the completion ranking
 * select uses. */
static lbs_status pr_explain_timed(prio_inst *inst, const lbs_workload *wl,
                                   const lbs_worker *const *workers, uint32_t n,
                                   lbs_write_fn write, void *ctx)
{
	hw_learned l = timed_learned(&inst->t, inst->store);
	uint32_t *order = NULL, *tmp = NULL, want, need, m = 0, k;
	hw_eval *ev = NULL;
	char reason[256] = "";
	lbs_selection sel;
	lbs_status st = LBS_OK;
	sc_explain e;

	sc_shards(wl, UINT32_MAX, &want, &need);
	if (n) {
		ev = malloc(n * sizeof(*ev));
		order = malloc(n * sizeof(*order));
		tmp = malloc(n * sizeof(*tmp));
		st = ev && order && tmp ? hw_evaluate(inst->t.hw, wl, workers, n, &l, ev)
		     : LBS_ENOMEM;
		if (st == LBS_OK)
			m = hw_rank(ev, n, order, tmp);
	}
	if (st == LBS_OK)
		st = sc_explain_begin(&e, NAME);
	if (st != LBS_OK)
		goto out;
	k = m < want ? m : want;
	sel = (lbs_selection){ .struct_size = sizeof(sel), .capacity = want, .indices = order,
	                       .reason = reason, .reason_len = sizeof(reason) };
	if (k == 0 || k < need) {
		sc_reason_none(&sel, NAME, wl, workers, n, inst->ceiling, want > 1 ? m : 0, need);
	} else {
		const hw_factors *b = &ev[order[0]].f;
		char dl[64];

		for (uint32_t i = 0; i < k; i++)
			sc_explain_chosen(&e, workers[order[i]]->id);
		sc_reason(&sel, NAME " %u (%s): earliest completion, est. %.1f s (wait %.1f + "
		          "run %.1f) on %s of %s%s", wl->priority,
		          prio_mode_name(prio_mode_of(wl->priority)), b->completion_s, b->wait_s,
		          b->run_s, tax_class_name(b->hw_class), workers[order[0]]->id,
		          deadline_note(dl, sizeof dl, wl, b->completion_s));
	}
	for (uint32_t i = 0; i < m; i++) {
		const hw_factors *f = &ev[order[i]].f;
		cJSON *c = sc_explain_candidate(&e, workers[order[i]]->id, f->score);

		sc_explain_num(&e, c, "completion_s", f->completion_s);
		sc_explain_num(&e, c, "wait_s", f->wait_s);
		sc_explain_num(&e, c, "run_s", f->run_s);
		sc_explain_num(&e, c, "speed", f->speed);
		sc_explain_num(&e, c, "reliability", f->reliability);
	}
	for (uint32_t i = 0; i < n; i++)
		if (ev[i].reason != ELIG_OK)
			sc_explain_reject(&e, workers[i]->id, elig_reason_text(ev[i].reason));
	sc_explain_reason(&e, reason);
	st = sc_explain_end(&e, write, ctx);
out:
	free(ev);
	free(order);
	free(tmp);
	return st;
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
	if (by_completion(inst, wl))
		return pr_explain_timed(inst, wl, workers, n, write, ctx);
	spread = prio_mode_of(wl->priority) == PRIO_SPREAD;
	sc_shards(wl, UINT32_MAX, &want, &need);
	if (want > n)
		want = n;
	if (n && !(idx = malloc(n * sizeof(*idx))))
		return LBS_ENOMEM;
	prm = params_for(inst, wl, 0);
	st = prio_select(&prm, wl, workers, n, want, idx, &res);
	if (st == LBS_OK && falls_to_completion(inst, wl, &res, need)) {
		free(idx);
		return pr_explain_timed(inst, wl, workers, n, write, ctx);
	}
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
