/*
 * critpath.c -- estimated durations, upward ranks and the critical path.
 *
 * The estimate is the scheduler's own where it has one: explain() of
 * hardware-aware gives, for the worker it would choose, run_s -- the run
 * time from the worker's learned (or prior) speed for this kind of work.
 * Schedulers that do not explain, or explain without run_s, leave the
 * declared expected_duration.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "orch_int.h"
#include "textbuf.h"

/* run_s of the chosen worker in an explain document, or NAN. */
static double chosen_run_s(const char *text)
{
	cJSON *root = text ? cJSON_Parse(text) : NULL;
	const cJSON *chosen, *cands, *c;
	double run = NAN;

	if (!root)
		return NAN;
	chosen = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "chosen"), 0);
	cands = cJSON_GetObjectItemCaseSensitive(root, "candidates");
	if (cJSON_IsString(chosen))
		cJSON_ArrayForEach(c, cands) {
			const cJSON *w = cJSON_GetObjectItemCaseSensitive(c, "worker");
			const cJSON *r = cJSON_GetObjectItemCaseSensitive(c, "run_s");
			if (cJSON_IsString(w) && !strcmp(w->valuestring, chosen->valuestring) &&
			    cJSON_IsNumber(r) && isfinite(r->valuedouble) && r->valuedouble >= 0) {
				run = r->valuedouble;
				break;
			}
		}
	cJSON_Delete(root);
	return run;
}

/* At most this many workers go to explain() for one estimate. */
#define EXPLAIN_MAX 64

/*
 * The workers explain() is asked about for wl: those whose score is within
 * SCORE_TIE of the best, in fleet order, at most EXPLAIN_MAX, into pick;
 * how many (0: none eligible).  explain() of the whole fleet wrote every
 * candidate's factors as JSON, parsed back for one number: 39 ms a subtask
 * at 4,096 workers (a graph of 2,500 took over two minutes).  Scores cost
 * no text, and where the worker chosen for timed work is the best-scored
 * whatever else the fleet holds (scores_alone), explain() of the best
 * alone names it.  -1: the whole fleet is explained (another scheduler:
 * adaptive's explanation takes its context from the load of the workers
 * it is shown; or no score slot).
 */
#define SCORE_TIE 1e-9

static int scores_alone(shim_sched *s)
{
	const char *name = sched_desc(s)->name;

	return name && (!strcmp(name, "hardware-aware") || !strcmp(name, "priority"));
}

static int64_t best_scored(shim_sched *s, const lbs_workload *wl,
                           const lbs_worker *const *workers, uint32_t n, double *scores,
                           const lbs_worker **pick)
{
	double best = -1;
	uint32_t m = 0;

	if (!scores_alone(s) || sched_score(s, wl, workers, n, scores) != LBS_OK)
		return -1;
	for (uint32_t i = 0; i < n; i++)
		if (isfinite(scores[i]) && scores[i] > best)
			best = scores[i];
	if (best < 0)
		return 0;
	for (uint32_t i = 0; i < n && m < EXPLAIN_MAX; i++)
		if (isfinite(scores[i]) && scores[i] >= best - SCORE_TIE)
			pick[m++] = workers[i];
	return m;
}

static void rank_values(orch *o, int base);
static void path(orch *o);

/* Subtask i's run as s explains it (NULL: none) for the requirements its
 * placement passes, at its raised priority or not; the declared duration
 * when there is no run_s.  0, or -1 when out of memory. */
static int estimate_at(const orch *o, uint32_t i, int raised, shim_sched *s,
                       const lbs_worker *const *workers, uint32_t n, double *scores,
                       double *est, const char **source)
{
	const lbs_worker *pick[EXPLAIN_MAX];
	lbs_workload wl;
	textbuf tb = {0};
	double run = NAN;
	int64_t m;
	lbs_status st = LBS_NO_WORKER;

	orch_placed(o, i, raised, &wl);
	m = s ? best_scored(s, &wl, workers, n, scores, pick) : 0;
	if (m < 0)
		st = sched_explain(s, &wl, workers, n, textbuf_write, &tb);
	else if (m > 0)
		st = sched_explain(s, &wl, pick, (uint32_t)m, textbuf_write, &tb);
	if (st == LBS_OK) {
		if (tb.failed) {
			textbuf_free(&tb);
			return -1;
		}
		run = chosen_run_s(tb.p);
	}
	textbuf_free(&tb);
	*est = isfinite(run) ? run : wl.est_duration_s;
	*source = isfinite(run) ? "explain.run_s" : "declared";
	return 0;
}

/* Whether the path raises i's priority: on it, and not at 1 already. */
static int raised(const orch *o, uint32_t i)
{
	return o->t[i].on_cp && orch_workload(o, i)->priority > 1;
}

/*
 * Each estimate at the priority its subtask is placed at, the path chosen:
 * the path's raised (priority explains timed work at 1-3 and spreads at
 * 4-5, with no run_s, so a subtask declared at 4 and placed at 3 was
 * estimated at its declared 100 s and ran in 30), the others' back to
 * their declared priority's; then the ranks from these.  The path stays:
 * chosen on the raised estimates, a subtask the raise shortens would leave
 * it, its estimate lengthen again, and the path come back.  0, or -1 when
 * out of memory.
 */
static int raise_path(orch *o, shim_sched *s, const lbs_worker *const *workers, uint32_t n,
                      double *scores)
{
	for (uint32_t i = 0; i < o->n; i++) {
		orch_task *t = &o->t[i];
		int r = raised(o, i);

		if (r == t->est_raised)
			continue;
		if (r && estimate_at(o, i, 1, s, workers, n, scores, &t->est_s, &t->est_source))
			return -1;
		if (!r)
			t->est_s = t->est_base, t->est_source = t->base_source;
		t->est_raised = r;
	}
	rank_values(o, 0);
	return 0;
}

/* Subtasks [from, to) estimated afresh at their declared priorities, then
 * the path found and raised again over all of them. */
static int estimate_range(orch *o, uint32_t from, uint32_t to, shim_sched *s,
                          const lbs_worker *const *workers, uint32_t n)
{
	double *scores = s ? malloc((n + 1) * sizeof *scores) : NULL;
	int rc = 0;

	if (s && !scores)
		return -1;
	for (uint32_t i = from; i < to && !rc; i++) {
		orch_task *t = &o->t[i];
		rc = estimate_at(o, i, 0, s, workers, n, scores, &t->est_base, &t->base_source);
		t->est_s = t->est_base, t->est_source = t->base_source, t->est_raised = 0;
	}
	if (!rc) {
		path(o);
		rc = raise_path(o, s, workers, n, scores);
	}
	free(scores);
	return rc;
}

int orch_estimate(orch *o, shim_sched *s, const lbs_worker *const *workers, uint32_t n)
{
	return estimate_range(o, 0, o->n, s, workers, n);
}

int orch_reestimate(orch *o, uint32_t i, shim_sched *s, const lbs_worker *const *workers,
                    uint32_t n)
{
	return i < o->n ? estimate_range(o, i, i + 1, s, workers, n) : 0;
}

void orch_declared(orch *o, uint32_t i)
{
	orch_task *t = &o->t[i];

	t->est_s = t->est_base = orch_workload(o, i)->est_duration_s;
	t->est_source = t->base_source = "declared";
	t->est_raised = 0;
}

double orch_est_on(const orch *o, shim_sched *s, uint32_t i, const lbs_worker *w)
{
	textbuf tb = {0};
	lbs_workload wl;
	double run = NAN;

	orch_placed(o, i, o->t[i].on_cp, &wl);
	if (s && sched_explain(s, &wl, &w, 1, textbuf_write, &tb) == LBS_OK && !tb.failed)
		run = chosen_run_s(tb.p);
	textbuf_free(&tb);
	return isfinite(run) ? run : orch_est(o, i);
}

void orch_set_estimate(orch *o, uint32_t i, double est_s)
{
	if (i < o->n && isfinite(est_s) && est_s >= 0) {
		orch_task *t = &o->t[i];
		/* the host's model, the same at any priority */
		t->est_s = t->est_base = est_s;
		t->est_source = t->base_source = "given";
		t->est_raised = 0;
	}
}

/* Ranks from the last subtask of the topological order back, each after
 * its dependants, on the declared priorities' estimates (base) or the
 * placed ones. */
static void rank_values(orch *o, int base)
{
	for (uint32_t j = o->n; j-- > 0;) {
		orch_task *t = &o->t[o->topo[j]];
		double m = 0;
		for (uint32_t k = 0; k < t->n_succ; k++)
			if (o->t[t->succ[k]].rank > m)
				m = o->t[t->succ[k]].rank;
		t->rank = (base ? t->est_base : t->est_s) + m;
	}
}

/* The path on the declared priorities' estimates, as the original raises
 * the priority of the path it found: the entry of highest rank (first in
 * document order on a tie), then each time the dependant of highest rank. */
static void path(orch *o)
{
	uint32_t start = 0;
	double best = -1;

	o->cp_start = 0;
	for (uint32_t i = 0; i < o->n; i++)
		o->t[i].on_cp = 0, o->t[i].cp_next = UINT32_MAX;
	rank_values(o, 1);
	for (uint32_t i = 0; i < o->n; i++)
		if (!o->t[i].n_deps && o->t[i].rank > best)
			best = o->t[i].rank, start = i;
	o->cp_start = start;
	for (uint32_t i = start;;) {
		orch_task *t = &o->t[i];
		double m = -1;
		uint32_t next = UINT32_MAX;
		t->on_cp = 1;
		for (uint32_t k = 0; k < t->n_succ; k++)
			if (o->t[t->succ[k]].rank > m)
				m = o->t[t->succ[k]].rank, next = t->succ[k];
		t->cp_next = next;
		if (next == UINT32_MAX)
			break;
		i = next;
	}
}

void orch_rank(orch *o)
{
	path(o);
	/* Without a scheduler only the declared estimates follow the path: a
	 * subtask off it is back at its own priority's; one the path reaches
	 * anew keeps its estimate until orch_estimate(). */
	for (uint32_t i = 0; i < o->n; i++) {
		orch_task *t = &o->t[i];
		if (t->est_raised && !raised(o, i))
			t->est_s = t->est_base, t->est_source = t->base_source, t->est_raised = 0;
	}
	rank_values(o, 0);
}

double orch_est(const orch *o, uint32_t i)
{
	return i < o->n ? o->t[i].est_s : NAN;
}

const char *orch_est_source(const orch *o, uint32_t i)
{
	return i < o->n ? o->t[i].est_source : NULL;
}

double orch_upward_rank(const orch *o, uint32_t i)
{
	return i < o->n ? o->t[i].rank : NAN;
}

int orch_on_critical_path(const orch *o, uint32_t i)
{
	return i < o->n && o->t[i].on_cp;
}

uint32_t orch_critical_path(const orch *o, uint32_t *out, uint32_t cap, double *len_s)
{
	uint32_t n = 0;

	if (len_s)
		*len_s = o->n ? o->t[o->cp_start].rank : 0;
	for (uint32_t i = o->n ? o->cp_start : UINT32_MAX; i != UINT32_MAX; i = o->t[i].cp_next) {
		if (n < cap)
			out[n] = i;
		n++;
	}
	return n;
}
