/*
 * hwaware.h -- the hardware-aware scheduler's scoring and selection.
 *
 * For each eligible device d of a worker (the hard filter of eligible.h):
 *
 *   T   throughput in CPU-core equivalents: max(1, compute units) x a
 *       per-unit base by class x clamp(clock / class reference clock,
 *       0.25, 4), times the class specialisations that apply to this kind
 *       of work (tensor cores for matrix-heavy work, GPU for vision, ...).
 *   f_c = T / (T + compute_reference)             how fast
 *   f_m = r / (1 + r), r = free memory / max(min memory, 1 GiB)
 *   f_p = preferences matched / preferences set, 0.5 when none is set
 *   f_e = ppw / (ppw + 0.5), ppw = T / max(1, TDP watts)
 *
 *   efficiency = weighted mean of the four, the compute and memory weights
 *   scaled by (0.5 + intensity) and the energy weight by the workload's
 *   energy sensitivity.
 *
 * A worker scores as its best device, then
 *
 *   adjusted = efficiency x (1 - load_penalty x effective load)
 *                         x (1 - temperature_penalty x temperature)
 *                         / (1 + queue_penalty x (active + queued) / capacity)
 *   score    = (1 - learned_weight) x adjusted + learned_weight x learned
 *
 * where `learned` is the preference learned for (workload type, worker),
 * 0.5 while nothing is known.  That is the worker's *suitability*.
 *
 * Completion.  For work that declares how long it takes (est_duration_s >
 * 0) and with `completion` on (the default), workers are ranked by when
 * they would finish it instead, and the suitability only breaks ties:
 *
 *   prior speed  sp = max(0.1, prior_scale x efficiency)
 *   speed        s  = exp((n x -log_ratio_mean + k x ln sp) / (n + k)) x perf,
 *                     n the pair's ratio_n, k = prior_weight: the learned
 *                     speed, shrunk towards the prior while n is small;
 *                     perf the performance_level while WARMING/COOLING
 *                     (at least 0.01), else 1
 *   reliability  p  = 1 / (1 + F x q / (1 - q)), q = failures /
 *                     (samples + k) the failure rate under a prior of k
 *                     successes (HW_RELIABILITY_PRIOR), F = failure_cost
 *                     (the runs a failure costs: the one wasted, its
 *                     re-dispatch once the failure is seen, the rerun);
 *                     at least 0.001.  F = 1 is 1 / expected runs.
 *   run_s           = est_duration_s / s
 *   wait_s          = (work ahead / s) x max(0, ahead + 1 - c) / (ahead c),
 *                     c = capacity, ahead = max(active + queued, load x c);
 *                     the work ahead in nominal seconds is the host's
 *                     pending_work_s when it gives one, else ahead x the
 *                     mean size of the open work the plugin placed there
 *                     (hw_learned.open_work), else ahead x est_duration_s
 *                     (then wait_s = run_s x max(0, ahead + 1 - c) / c);
 *                     with the host's pending_work_s, wait_s is x (2 +
 *                     ahead / c), a congestion charge: the work that will
 *                     queue behind the new test (worker_wait in hwaware.c)
 *   completion_s    = (wait_s + run_s) / p
 *   score           = est / (est + completion_s) = s p / (s p + 1 + g),
 *                     g = wait_s / run_s
 *
 * Latency alone.  A pair that learned no speed against declared durations
 * (ratio_n 0) but has successes says only how long it took.  Against its
 * workload type's reference (hw_learned.latency_ref: the mean log latency
 * over such pairs, weighted by successes), its learned preference is
 * multiplied by min(1, exp(ref - ln mean_duration)): a worker 50x slower
 * than its peers keeps a fiftieth of it.  While a type has such pairs, a
 * worker with no record of that type has a learned preference of 1, not
 * 0.5, so that each is tried before the learned ones are compared (the
 * preference of successful work tends to 1).
 *
 * Every score is in 0..1.  docs/SCORING.md has the full formulas, the
 * defaults and worked examples.
 *
 * Ranking: score descending; scores within HW_TIE_EPS are a tie, broken by
 * the higher suitability (the same within HW_TIE_EPS), then lower effective
 * load, then by lower position in the array.  The same input always gives
 * the same answer.
 *
 * Cost.  Nothing about the hardware is cached per worker or device (the
 * learned preferences may be: hw_remember).  A cache keyed by device
 * pointer would go stale when a host frees a device and another is
 * allocated at the same address (a fleet reload does that), and one keyed
 * by the fields themselves measured slower than recomputing from them:
 * they are in the cache line the hard filter reads anyway, and the class
 * specialisations for every kind of work are a table built by hw_new, so a
 * device costs a table lookup, a few multiplies and one division.  A
 * select also skips every worker whose score is bounded below the best so
 * far, from its temperature and queue, then its load, then its devices,
 * before the hard filter runs (for completion, from its queue and learned
 * speed, then its devices); the answer is exactly the one a full
 * evaluation gives (screen() and screen_timed() in hwaware.c have the
 * bounds).
 *
 * Pure: libc and libm only, no I/O.  hw_select allocates only for a
 * SHARDED / REPLICATED choice, and only when it needs a longer best-k list
 * than ever before (at most the fleet size), and for the per-worker memory
 * of learned preferences (hw_remember) when the fleet is larger than ever
 * before.  Not thread-safe; the caller serialises calls on one hw_state.
 */
#ifndef LBS_HWAWARE_H
#define LBS_HWAWARE_H

#include <stdint.h>

#include <lbsched/abi.h>

#include "eligible.h"
#include "learned.h"

/* Outcomes the reliability prior (one success and one failure's worth of
 * doubt) is worth: a failing worker must lose its place within a few runs,
 * while a speed estimate is better shrunk harder (prior_weight). */
#define HW_RELIABILITY_PRIOR 2.0

/* Scores closer than this are equal; see the ranking rule above. */
#define HW_TIE_EPS 1e-12

/* Every tunable number.  hw_params_default() gives the documented defaults;
 * the caller validates its own changes (hw_params_check). */
typedef struct hw_params {
	/* Weights of the efficiency terms, each >= 0, not all 0. */
	double w_compute;    /* 0.5 */
	double w_memory;     /* 0.2 */
	double w_preference; /* 0.2 */
	double w_energy;     /* 0.1 */

	double load_penalty;        /* 0.3, in 0..1 */
	double temperature_penalty; /* 0.3, in 0..1 */
	double queue_penalty;       /* 0.5, >= 0 */
	double learned_weight;      /* 0.3, in 0..1 */
	double compute_reference;   /* 64 core-equivalents, > 0 */
	double load_ceiling;        /* 0.9, in 0..1 (1 disables the check); bars
	                               only untimed work (docs/SCORING.md) */

	/* Ranking by estimated completion, for work with est_duration_s > 0. */
	int completion;             /* 1: on; 0: the suitability ranks */
	double prior_weight;        /* 16: k, learned samples the prior is worth, >= 0 */
	double prior_scale;         /* 4: prior speed per unit of efficiency, > 0 */
	double failure_cost;        /* 3: runs a failed run costs, >= 1 */

	/* Exploration (hw_explore): a pair with fewer learned runs than
	 * explore_samples is unexplored; 0 turns exploration off. */
	double explore_samples;     /* see hw_params_default, >= 0 */
	double explore_budget;      /* share of timed selects that may explore, 0..1 */
	double explore_optimism;    /* >= 1: how much faster than its estimate an
	                               unexplored worker may turn out */

	/* Throughput multipliers, each >= 0. */
	double tensor_cores;         /* 1.5: tensor cores, matrix-heavy work */
	double gpu_vision;           /* 1.2: GPU, VISION */
	double gpu_nlp_tensor_cores; /* 1.2: GPU with tensor cores, NLP */
	double tpu_large_nlp_vision; /* 1.3: TPU, NLP or VISION, large work */
	double npu_inference;        /* 1.2: NPU, INFERENCE */
	double quantised;            /* 1.5: INT8/INT4 work, QUANTIZATION */
	double npu_training;         /* 0.25: NPU, TRAINING */
	double browser_training;     /* 0.5: HYBRID, TRAINING */

	/* Giant fleets (see "Sampled selects" above hw_select): a single
	 * select over at least sample_from workers looks at `sample` of them
	 * drawn at random, plus last time's winner.  sample_from
	 * HW_SCAN_FULL: never (every select scans every worker). */
	uint64_t seed;               /* 1: the draws' sequence (any value) */
	uint32_t sample;             /* 64, >= 1 */
	uint32_t sample_from;        /* HW_SAMPLE_FROM (the "auto" default) */
} hw_params;

/* sample_from for "every select scans every worker". */
#define HW_SCAN_FULL UINT32_MAX
/* The fleet size from which "auto" samples: a full scan's cost grows with
 * the fleet, a sample's does not (docs/SCHEDULERS.md has the figures). */
#define HW_SAMPLE_FROM 4096
#define HW_SAMPLE_DEFAULT 64

void hw_params_default(hw_params *p);

/* NULL when p is usable, else the config name of the first bad field
 * ("weights.compute", "weights" for all weights zero,
 * "completion.prior_weight") with *problem set to a static phrase, e.g.
 * "must be a finite number >= 0". */
const char *hw_params_check(const hw_params *p, const char **problem);

/* Where the learned preference and speed come from.  lookup NULL (or a
 * NULL hw_learned pointer) means nothing has been learned: every worker's
 * learned preference is 0.5, its speed the prior, and no lookup is made. */
typedef struct hw_learned {
	lbs_history_fn lookup;
	void *ctx;
	/* May be NULL.  A bound on the learned speeds, so that a select of
	 * timed work skips a worker on its queue alone, before its lookup. */
	lbs_speed_ub_fn speed_ub;
	/* May be NULL.  The mean nominal work (seconds, the unit of
	 * est_duration_s) of the tests the caller placed on a worker that
	 * are still running or queued, or < 0 when it knows of none: the
	 * size of the work ahead when the worker does not give its
	 * pending_work_s (see worker_wait in hwaware.c).  pos is the
	 * worker's position in this call's array: a hint the lookup may
	 * cache by, never a different answer. */
	double (*open_work)(void *ctx, uint32_t pos, const char *worker_id);
	void *open_ctx;
	/* With open_work: no answer of it is below this (a bound, so that a
	 * select may skip a worker before its lookup). */
	double open_min;
	/* May be NULL (then latency alone teaches nothing).  With ctx as for
	 * lookup: latency learned without declared durations, see
	 * "Latency alone" above. */
	lbs_latency_ref_fn latency_ref;
	/* May be NULL.  With open_work: start fetching what open_work reads
	 * first for position pos, so that a sampled select of a giant fleet
	 * overlaps that miss with its workers' (a hint: no answer changes). */
	void (*open_prefetch)(void *ctx, uint32_t pos);
	/* May be NULL.  With ctx as for lookup: what changed since an earlier
	 * generation of the records, so that the memo of hw_remember forgets
	 * only those when its generation moves (without it, all of them: a
	 * host reporting as often as it selects looked every worker up
	 * again at every select). */
	lbs_changes_fn changes;
} hw_learned;

/* Every factor of one worker's score, for explain and the reason. */
typedef struct hw_factors {
	uint32_t device;        /* index of its best device */
	uint32_t hw_class;      /* that device's LBS_CLASS_* */
	double throughput;      /* T of that device */
	double compute;         /* f_c */
	double memory;          /* f_m */
	double preference;      /* f_p */
	double energy;          /* f_e (computed even when its weight is 0) */
	double efficiency;      /* 0..1 */
	double effective_load;  /* worker_effective_load */
	double load_factor;     /* 1 - load_penalty x effective load */
	double temperature_factor;
	double queue_factor;    /* 1 / (1 + queue_penalty x q) */
	double adjusted;        /* efficiency x the three factors */
	double learned;         /* learned preference used, 0.5 unknown */
	double suitability;     /* the blend of adjusted and learned, 0..1 */
	double score;           /* final, 0..1: the suitability, or the
	                           completion score when timed */

	/* Completion (see above); set only when timed is 1. */
	int timed;              /* 1: ranked by estimated completion */
	double prior_speed;     /* sp */
	double ratio_n;         /* learned speed samples, n */
	double learned_speed;   /* exp(-log_ratio_mean), 0 while n is 0 */
	double speed;           /* s */
	double reliability;     /* p */
	double run_s;
	double wait_s;
	double completion_s;
} hw_factors;

/* One worker as explain sees it. */
typedef struct hw_eval {
	enum elig_reason reason; /* ELIG_OK: eligible and f is filled */
	hw_factors f;
} hw_eval;

typedef struct hw_state hw_state;

/* A new state with a copy of p (which must pass hw_params_check).
 * NULL when out of memory. */
hw_state *hw_new(const hw_params *p);
void hw_free(hw_state *s);

const hw_params *hw_params_of(const hw_state *s);

/*
 * Remember learned preferences and speeds between selects.  `generation`
 * promises that the lookup given to the following hw_select calls answers
 * the same for as long as it is the same value, and that no other answers
 * ever had it; 0 (the default) promises nothing.  While it holds, hw_select
 * keeps what it read of each worker's records by position in the array,
 * taken again only for the same id pointer with the same id text, so a
 * fleet moved or replaced is looked up afresh.  When the generation moves
 * and the lookup's `changes` answers for the same ctx (and the fade's
 * `now` is the same), only the changed records are taken again.  That
 * changes the cost, never the answer.
 */
void hw_remember(hw_state *s, uint64_t generation);

/*
 * The fade of the records' evidence ("Reliability fades" in
 * docs/SCORING.md): from now on, for a record whose last_update is age
 * seconds before `now` (unix seconds), with f = 2^-(age / half_life), its
 * failure counts count x f in its reliability, and its preference is
 * 0.5 + (preference - 0.5) x f.  half_life 0 (the state's start): no
 * fade.  While
 * hw_remember's generation holds, `now` must not move: a caller that
 * remembers records passes a generation that changes with it.
 */
void hw_fade(hw_state *s, double now, double half_life);

/*
 * Sampled selects.  With want 1 and n >= sample_from, hw_select looks at
 * the best four of the last sampled select for the workload type, 16 of
 * the type's 64 standing candidates (the best by an idle score, found by
 * a pass over the fleet 8 positions a select) and `sample` positions
 * drawn from the state's own generator, more while the best of them would
 * make timed work wait (every slot taken, or a tenth of a run or more; up
 * to 4 x `sample` and the fleet's size, a batch of 32 at a time: under load
 * the draws are mostly busy workers; and only while recent selects of the
 * type found one that would not: about 20 in a row that found none stop it
 * until one finds one) (a fixed
 * sequence per state: the same calls give the same answers), and chooses
 * the best of those by the ranking rule: power-of-k choices with memory,
 * the cost flat in the fleet size.  The positions kept from select to
 * select are candidates only: whatever worker is at one is scored as it
 * is now, so a reordered fleet costs quality for a pass, never an answer.
 * The hard filter is never sampled away: when no worker looked at is
 * eligible, the select scans the whole fleet, so LBS_NO_WORKER still
 * means that no worker is eligible.  Only the workers looked at are
 * checked for LBS_EINVAL, and the memo of learned records (hw_remember)
 * is not used (it would cost a record per worker of the fleet).  Several
 * workers (want > 1) are always chosen by a full scan.
 */

/*
 * Choose for one workload: the best `want` distinct workers, best first
 * (want 1 for LBS_ALLOC_SINGLE; see sc_shards for SHARDED / REPLICATED),
 * needing at least `need`.  Writes positions into idx[] (room for `want`)
 * and their count into *n_found; when `best` is not NULL, also the factors
 * of the first one.
 * Returns LBS_OK; LBS_NO_WORKER when fewer than `need` (or no) workers are
 * eligible, with *n_found then the number that are (counted only when
 * want > 1); LBS_EINVAL for a workload or worker that is NULL, too small or
 * without an id, or want < need; LBS_ENOMEM when a best-k list longer than
 * any before cannot be allocated.
 *
 * Remembers the worker chosen per workload type and looks at it first
 * next time (the sooner a strong worker is seen, the more are skipped);
 * that changes the cost, never the answer.
 */
lbs_status hw_select(hw_state *s, const lbs_workload *wl,
                     const lbs_worker *const *workers, uint32_t n,
                     const hw_learned *learned, uint32_t want, uint32_t need,
                     uint32_t *idx, uint32_t *n_found, hw_factors *best);

/*
 * Targeted exploration, after a single select of timed work chose
 * `chosen`: learning needs runs, and a worker whose estimate never wins
 * is never run, so nothing corrects an estimate that is too low (two
 * machines with the same declared specs, one truly far faster).  This
 * looks at up to HW_EXPLORE_SCAN workers from a cursor per workload type
 * and returns the first that is
 *   - eligible (the full hard filter, the load ceiling included),
 *   - idle for this work: a free slot, no wait (load x capacity + 1 <=
 *     capacity, active + queued + 1 <= capacity),
 *   - unexplored for this type: fewer than explore_samples outcomes
 *     learned (its record's samples; no record is none),
 *   - plausible: explore_optimism x its speed estimate would finish the
 *     work no later than the estimate of `chosen` does,
 * and `chosen` otherwise.  At most explore_budget of the timed selects
 * explore (a bucket that fills by explore_budget per call, holds at most
 * one exploration and is spent only by one): a busy fleet, with no free
 * slot, explores nothing and pays only the bucket's check.  The cursor
 * makes it deterministic: the same calls give the same answers.
 * Untimed work, explore_samples 0 and an invalid `chosen` return chosen.
 */
#define HW_EXPLORE_SCAN 8
uint32_t hw_explore(hw_state *s, const lbs_workload *wl,
                    const lbs_worker *const *workers, uint32_t n,
                    const hw_learned *learned, uint32_t chosen);

/* Explorations hw_explore has answered since hw_new. */
uint64_t hw_explored(const hw_state *s);

/* Sampled selects since hw_new; *drawn the positions they drew at random
 * (`sample` each, more under load: "Sampled selects"). */
uint64_t hw_sampled(const hw_state *s, uint64_t *drawn);

/* Does hw_score() rank this workload by completion?  Then its scores are
 * -1 exactly for the workers that fail the hard filter (no ceiling: timed
 * work has none), among workers of at most 64 devices (a device beyond
 * those cannot be scored). */
int hw_scores_timed(const hw_state *s, const lbs_workload *wl);

/* hw_score(), and when it ranks by completion (hw_scores_timed) each
 * eligible worker's load (elig_load, what a ceiling compares) into
 * loads[i] when loads is not NULL; an ineligible worker gets 0 there, a
 * number that means nothing but may be read.  *wide, when wide is not
 * NULL: 0 only when such a pass scored every worker and none has more
 * than 64 devices (then a score is -1 exactly when the worker fails the
 * hard filter), else 1. */
lbs_status hw_score_loads(const hw_state *s, const lbs_workload *wl,
                          const lbs_worker *const *workers, uint32_t n,
                          const hw_learned *learned, double *scores, double *loads,
                          int *wide);

/* scores[i] = the score of workers[i] in 0..1 (the completion score for
 * timed work), or -1 when it is not eligible.  Errors as hw_select. */
lbs_status hw_score(const hw_state *s, const lbs_workload *wl,
                    const lbs_worker *const *workers, uint32_t n,
                    const hw_learned *learned, double *scores);

/* Everything about every worker: out[i] for workers[i].  Errors as
 * hw_select. */
lbs_status hw_evaluate(const hw_state *s, const lbs_workload *wl,
                       const lbs_worker *const *workers, uint32_t n,
                       const hw_learned *learned, hw_eval *out);

/* Positions of the eligible workers of an hw_evaluate result, best first
 * by the ranking rule, into order[] (room for n); tmp[] (room for n) is
 * scratch.  Returns how many.  The first `want` of them are what
 * hw_select chooses. */
uint32_t hw_rank(const hw_eval *ev, uint32_t n, uint32_t *order,
                 uint32_t *tmp);

#endif
