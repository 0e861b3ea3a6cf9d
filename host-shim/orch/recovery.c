/*
 * recovery.c -- what a failed subtask does next, by its strategy: retry
 * after a capped exponential backoff with jitter, reassign away from the
 * workers it failed on, skip, switch to an alternate, or resume from its
 * last checkpoint.  Every strategy is bounded by max_attempts runs, so a
 * subtask that keeps failing ends the workload instead of looping.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "orch_int.h"

/* Remember that i failed on its last worker; reassign never goes back. */
static int exclude_last(orch *o, orch_task *t)
{
	if (!t->worker)
		return 0;
	for (uint32_t k = 0; k < t->n_excluded; k++)
		if (!strcmp(t->excluded[k], t->worker))
			return 0;
	if (t->n_excluded == t->cap_excluded) {
		uint32_t cap = t->cap_excluded ? 2 * t->cap_excluded : 4;
		const char **p = realloc(t->excluded, cap * sizeof *p);
		if (!p)
			return -1;
		t->excluded = p;
		t->cap_excluded = cap;
	}
	t->excluded[t->n_excluded++] = t->worker; /* arena copy: lives with o */
	(void)o;
	return 0;
}

/* The backoff before run k+1 after k runs: min(cap, base * 2^(k-1)), the
 * last `jitter` fraction of it random so that subtasks failing together
 * do not come back together. */
static double backoff(orch *o, const orch_recovery *r, uint32_t runs)
{
	double d = r->base_s * ldexp(1.0, runs > 0 ? (int)(runs - 1 < 60 ? runs - 1 : 60) : 0);

	if (d > r->cap_s)
		d = r->cap_s;
	return d * (1.0 - r->jitter) + d * r->jitter * rng_unit(&o->rng);
}

enum orch_strategy orch_strategy_of(const orch *o, uint32_t i)
{
	const orch_task *t;

	if (i >= o->n)
		return ORCH_NO_RECOVERY;
	t = &o->t[i];
	/* A graph-wide "skip" cannot skip what the graph needs: critical
	 * subtasks retry instead (a subtask's own "skip" is refused at load). */
	if (t->rec.strategy == ORCH_SKIP && t->critical)
		return ORCH_RETRY;
	return t->rec.strategy;
}

uint32_t orch_set_recovery(orch *o, int strategy, uint32_t max_attempts)
{
	uint32_t bare = 0;

	for (uint32_t i = 0; i < o->n; i++) {
		if (strategy >= 0 && strategy < ORCH_NO_RECOVERY)
			o->t[i].rec.strategy = (enum orch_strategy)strategy;
		if (max_attempts)
			o->t[i].rec.max_attempts = max_attempts;
		bare += strategy == ORCH_ALTERNATE && !o->t[i].n_alt;
	}
	return bare;
}

enum orch_strategy orch_recover(orch *o, uint32_t i, double now, double *delay_s)
{
	orch_task *t;
	enum orch_strategy s;

	if (delay_s)
		*delay_s = 0;
	if (i >= o->n || o->t[i].state != ORCH_FAILED)
		return ORCH_NO_RECOVERY;
	t = &o->t[i];
	s = orch_strategy_of(o, i);
	if (s == ORCH_SKIP) {
		t->state = ORCH_SKIPPED;
		return s;
	}
	if (t->attempts >= t->rec.max_attempts) {
		t->state = ORCH_LOST;
		return ORCH_NO_RECOVERY;
	}
	switch (s) {
	case ORCH_RETRY:
		t->not_before = now + backoff(o, &t->rec, t->attempts);
		if (delay_s)
			*delay_s = t->not_before - now;
		break;
	case ORCH_REASSIGN:
		if (exclude_last(o, t)) {
			t->state = ORCH_LOST;
			return ORCH_NO_RECOVERY;
		}
		break;
	case ORCH_ALTERNATE:
		/* Past the last alternate, the last one is run again. */
		if (t->alt_used < t->n_alt) {
			t->alt_used++;
			/* The old estimate was of requirements it no longer has,
			 * and the ranks and path with it; without a scheduler
			 * here, the new ones' declared duration (orch_drive,
			 * which has one, estimates it again). */
			orch_declared(o, i);
			orch_rank(o);
		}
		break;
	case ORCH_CHECKPOINT: /* progress was kept by orch_record */
	default:
		break;
	}
	t->state = ORCH_PENDING;
	return s;
}

uint32_t orch_attempts(const orch *o, uint32_t i)
{
	return i < o->n ? o->t[i].attempts : 0;
}

double orch_remaining(const orch *o, uint32_t i)
{
	if (i >= o->n)
		return 0;
	/* Only checkpoint resumes; the other strategies start over. */
	return orch_strategy_of(o, i) == ORCH_CHECKPOINT ? 1.0 - o->t[i].progress : 1.0;
}

uint32_t orch_n_excluded(const orch *o, uint32_t i)
{
	return i < o->n ? o->t[i].n_excluded : 0;
}

const char *orch_excluded(const orch *o, uint32_t i, uint32_t k)
{
	return i < o->n && k < o->t[i].n_excluded ? o->t[i].excluded[k] : NULL;
}
