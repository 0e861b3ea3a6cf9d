/*
 * performance.h -- choose by what was learned about each worker: how often
 * its runs of this workload type succeed and how fast they are, blended
 * with its load.
 *
 * After the original PerformanceBased algorithm (seed-behaviour.md §b), with
 * its history part made a proper estimate.  For an eligible worker with
 * effective load Le and history H for the workload's type:
 *
 *   success     (successes + 1) / (samples + 2): one failure in one run does
 *               not condemn a worker for ever, and no history is 0.5.
 *   time        r = how long its runs take against what was expected: the
 *               learned speed ratio exp(log_ratio_mean) when H has one,
 *               else mean_duration / est_duration_s when both are known;
 *               time = clamp01(1 - (r - 1) / 3): 1 at or under the
 *               estimate, 0 at four times it (the original's curve).
 *               No duration stated: the mean against the type's
 *               reference latency (latency_time(), as priority's).
 *               0.5 when none is known; 0 when H has samples but no
 *               success.
 *   confidence  c = min(1, samples / confidence_samples) (default 10; the
 *               original's "experience").
 *   ahead       rounds of work a new test waits for:
 *               max(0, active + queued + 1 - cap) / cap, cap = capacity
 *               (0 counts as 1).
 *   perf        ((1 - c) 0.5 + c (success + time) / 2) / (1 + ahead): an
 *               unknown worker is neutral, history moves it as evidence
 *               accumulates, and a queue discounts it as the wait would.
 *               In the original the history part peaked at 0.7, so a
 *               worker with a perfect record scored about the same as one
 *               never tried; and it ignored queues, so the best worker
 *               drew every test while its queue grew.
 *   score       (1 - load_weight) perf + load_weight (1 - Le), default
 *               load_weight 0.3 as in the original.
 *
 * Highest score first; equal scores go to the lowest array index.
 * Pure: no allocation, no I/O; history is read through a callback.
 */
#ifndef LBS_PERFORMANCE_H
#define LBS_PERFORMANCE_H

#include <stdint.h>

#include <lbsched/abi.h>

#include "learned.h"

typedef struct perf_params {
	double ceiling;            /* as in elig_check() */
	lbs_history_fn history;    /* NULL: nothing learned, no lookups */
	void *history_ctx;
	double confidence_samples; /* > 0 */
	double load_weight;        /* 0..1 */
	/* For work that states no duration: the type's reference latency
	 * (ln s, lbs_latency_ref_fn) a worker's mean is judged against, when
	 * has_ref; else its time is neutral. */
	int has_ref;
	double ref_log_s;
} perf_params;

/* Where perf_factors.time came from. */
#define PERF_TIME_NONE 0  /* nothing to judge by: 0.5 */
#define PERF_TIME_RATIO 1 /* the learned speed ratio */
#define PERF_TIME_MEAN 2  /* mean duration against the workload's estimate */
#define PERF_TIME_NEVER 3 /* samples, but no success: 0 */
#define PERF_TIME_LATENCY 4 /* no duration stated: mean against the type's reference */

typedef struct perf_factors {
	uint64_t samples;
	double success, time, confidence, ahead, perf, load, score;
	double ratio; /* r, or -1 when unknown */
	int time_from; /* PERF_TIME_* */
} perf_factors;

/* Factors of one worker, which must be valid and eligible. */
void perf_factors_of(const perf_params *p, const lbs_workload *wl, const lbs_worker *w,
                     perf_factors *f);

/*
 * scores[i] for every worker: -1 when not eligible, else its score.
 * Returns LBS_OK, or LBS_EINVAL for a NULL, short or id-less worker.
 */
lbs_status perf_score(const perf_params *p, const lbs_workload *wl,
                      const lbs_worker *const *workers, uint32_t n, double *scores);

/*
 * The `want` best positions by scores[] (from perf_score; consumed: taken
 * entries are overwritten) into idx[], best first; *found = how many.
 */
void perf_top(double *scores, uint32_t n, uint32_t want, uint32_t *idx, uint32_t *found);

#endif
