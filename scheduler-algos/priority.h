/*
 * priority.h -- choose by the workload's priority: speed for urgent work,
 * balance for normal work, spread for background work.
 *
 * After the original PriorityBased algorithm (seed-behaviour.md §b), without
 * its quirks.  For an eligible worker with effective load Le:
 *
 *   history  with no history (samples == 0) the history part h is 0.5.
 *            Otherwise success = successes / samples and
 *            time = clamp01(1 - (mean / max(1, est_duration) - 1) / 3),
 *            where mean is over successful runs, or clamp01(1 - (r - 1) / 3)
 *            with the learned speed ratio r where the record has one (the
 *            mean is over the whole workload type, tests of every size,
 *            and r * est_duration stands for it in the deadline's
 *            finish too); a worker that never
 *            succeeded has time 0 (the formula would give it 1).  Work
 *            that states no duration (0) has no estimate to compare
 *            with: time = clamp01(0.5 + (ref - ln mean) / (2 ln 4)), ref
 *            the type's reference latency (0.5 at it, 1 at a quarter of
 *            it, 0 at four times it), or 0.5 without one.
 *   speed    priority <= 2:  h = (0.2 success + 0.6 time) / 0.8,
 *                            score = 0.8 h + 0.2 (1 - Le)
 *   balanced priority 3:     h = (success + time) / 2,
 *                            score = 0.6 h + 0.4 (1 - Le)
 *            Both h are normalised to 0..1 so that a worker without history
 *            (0.5) cannot beat one with perfect history, which the original
 *            allowed (its balanced history part peaked at 0.6).
 *   spread   priority >= 4:  a weighted random draw, weight 1 - Le; with
 *            several workers wanted, draws without replacement
 *            (Efraimidis-Spirakis keys log(u) / weight, which is the same
 *            distribution as successive draws).  Workers of weight 0 come
 *            after every positive weight, least loaded (worker_load) first,
 *            instead of the original's "last compatible worker".
 *
 * Highest score first; equal scores go to the lowest array index, so a
 * decision is reproducible from its inputs.
 *
 * Deadlines: when deadline_s > 0, a worker with at least one success in its
 * history is expected to finish at
 *   (active + queued) / max(1, capacity) * mean + mean
 * seconds.  If at least one eligible worker is expected to meet the
 * deadline, the workers expected to miss it rank after all others (in
 * spread mode: are drawn only after all others).  Workers without history
 * are not expected to miss.
 *
 * Pure: no allocation, no I/O; history is read through a callback.
 */
#ifndef LBS_PRIORITY_H
#define LBS_PRIORITY_H

#include <stdint.h>

#include <lbsched/abi.h>

#include "learned.h"

enum prio_mode {
	PRIO_SPEED,    /* priority <= 2 (0, outside the ABI's range, too) */
	PRIO_BALANCED, /* priority 3 */
	PRIO_SPREAD    /* priority >= 4 */
};

/* Inline: the plugin asks it several times a select, across files. */
static inline enum prio_mode prio_mode_of(uint32_t priority)
{
	return priority <= 2 ? PRIO_SPEED : priority == 3 ? PRIO_BALANCED : PRIO_SPREAD;
}

const char *prio_mode_name(enum prio_mode m); /* "speed", ... */

typedef struct prio_params {
	double ceiling;          /* load ceiling, as in elig_check() */
	lbs_history_fn history;  /* NULL: nothing learned, no lookups at all */
	void *history_ctx;
	/* Work that states no duration: its type's reference latency, ln
	 * seconds (lbs_latency_ref_fn), that a worker's mean is compared with,
	 * when has_ref; else its time is neutral. */
	int has_ref;
	double ref_log_s;
	uint64_t draw_seed;      /* spread mode: seeds this select's draws */
	/* prio_score only, may be NULL: the hard filter (no ceiling) as the
	 * caller already knows it, see elig_pass_known. */
	const uint8_t *hard;
	const double *hard_load; /* with hard, may be NULL: elig_load of those passing */
	/* prio_select only: 1 leaves prio_result.best unwritten, for a caller
	 * that gives no reason (its factors cost as much as a tenth of a
	 * select). */
	int skip_best;
} prio_params;

/* Values of prio_factors.deadline. */
#define PRIO_DL_NONE 0   /* no deadline, or nothing known to judge by */
#define PRIO_DL_MEETS 1
#define PRIO_DL_MISSES 2

/* The score of one eligible worker and what it is made of. */
typedef struct prio_factors {
	uint64_t samples;     /* history samples; 0 = no history */
	double success;       /* 0..1; 0.5 without history */
	double time;          /* 0..1; 0.5 without history */
	double history;       /* h, 0..1 */
	double load;          /* effective load Le, 0..1 */
	double score;         /* 0..1; in spread mode the weight 1 - Le */
	double completion_s;  /* expected completion, -1 when unknown */
	int deadline;         /* PRIO_DL_* */
	/* Informational, for explain(): from the history, -1 without. */
	double mean_s;        /* mean duration of successful runs */
	double sd_s;          /* their standard deviation */
	double preference;    /* the learned preference EMA */
} prio_factors;

/* Factors of one worker, which must be valid and eligible. */
void prio_factors_of(const prio_params *p, const lbs_workload *wl,
                     const lbs_worker *w, prio_factors *f);

/* What one selection saw; for the reason sentence. */
typedef struct prio_result {
	uint32_t n_found;     /* workers written to idx */
	uint32_t n_eligible;
	uint32_t n_meeting;   /* eligible and expected to meet the deadline */
	uint32_t n_missing;   /* eligible and expected to miss it */
	int demoted;          /* the missing ones were ranked last */
	double total_weight;  /* spread: sum of the eligible weights */
	prio_factors best;    /* unless skip_best: factors of idx[0] when n_found > 0, else zero */
} prio_result;

/*
 * Rank the eligible workers and write the first `want` positions, best
 * first, into idx[] (room for `want`).  Fewer than `want` in res->n_found
 * means that is every eligible worker.  O(n) for want <= 64; each further
 * 64 costs another pass.  With p->history NULL there are no lookups at all
 * and a single worker is chosen in one pass over the loads; otherwise the
 * callback runs about once per eligible worker per pass (a second pass
 * only when a deadline is set and nobody is expected to meet it).
 * Returns LBS_OK, or LBS_EINVAL when a worker is NULL, smaller than
 * LBS_WORKER_SIZE_V1_0 or without an id.  wl must be valid.
 */
lbs_status prio_select(const prio_params *p, const lbs_workload *wl,
                       const lbs_worker *const *workers, uint32_t n,
                       uint32_t want, uint32_t *idx, prio_result *res);

/*
 * Score every worker: -1 when not eligible, else its score (spread: its
 * weight).  When the deadline demotes workers, scores are mapped so their
 * order is select's order: demoted workers to score / 2, the others to
 * 0.5 + score / 2.  Errors as prio_select.
 */
lbs_status prio_score(const prio_params *p, const lbs_workload *wl,
                      const lbs_worker *const *workers, uint32_t n,
                      double *scores);

/* splitmix64: the instance's generator; advances *state. */
uint64_t prio_rand_next(uint64_t *state);

#endif
