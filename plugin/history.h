/*
 * history.h -- what the plugin has learned, per (workload type, worker id):
 * an in-memory store of lbs_history fed by outcomes.
 *
 * The interface is kept small (new / free / get / apply / count, plus the
 * per-record rule and a bulk load) so that a database (plugin/store.c,
 * LMDB) can stand behind it: it applies the same hist_learn() to the record
 * it reads inside its write transaction, and loads views with hist_put().
 * Not thread-safe: the caller serialises (the ABI's [data] rule does, for
 * schedulers without LBS_CAP_CONCURRENT).
 *
 * Learning rules, one outcome at a time (hist_learn):
 *   - LBS_RESULT_CANCELLED counts nowhere (the host gave up; the worker did
 *     nothing wrong or right) and creates no entry.
 *   - SUCCESS: samples and successes + 1; duration enters the Welford mean
 *     and variance (population variance: var = M2 / successes).  When the
 *     duration and the expected duration are both > 0, ln(duration /
 *     expected) enters the Welford mean and variance of the speed ratio
 *     (ratio_n, log_ratio_mean, log_ratio_var) the same way, clamped to
 *     +-HIST_LOG_RATIO_MAX.
 *   - anything else, including unknown values: samples and failures + 1.
 *   - preference: EMA with weight alpha (default 0.3) starting at 0.5, fed
 *     with the run's efficiency: on success clamp01(expected / duration)
 *     when both are > 0, else 1; on failure 0.
 */
#ifndef LBS_PLUGIN_HISTORY_H
#define LBS_PLUGIN_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include <lbsched/abi.h>

/* By path: this file's own name would otherwise shadow the algos' header. */
#include "learned.h"

typedef struct hist_store hist_store;

#define HIST_ALPHA_DEFAULT 0.3
#define HIST_PREF_START 0.5

/* A record that has learned nothing: zeros, preference HIST_PREF_START. */
void hist_init(lbs_history *h);

/* Apply one valid outcome (see hist_apply) to a record; `alpha` is the
 * EMA weight of the new outcome, `now` unix seconds.  Cancelled outcomes
 * leave it unchanged. */
void hist_learn(lbs_history *h, const lbs_outcome *o, double alpha, double now);

/* NULL when out of memory. */
hist_store *hist_new(void);
void hist_free(hist_store *s); /* NULL is fine */

/* The entry for a pair, NULL when nothing is known.  Valid until the next
 * hist_apply on the same store (the table may move when it grows). */
const lbs_history *hist_get(const hist_store *s, uint32_t wl_type,
                            const char *worker_id);

/* hist_get in the shape of lbs_history_fn; ctx is the store. */
const lbs_history *hist_lookup(void *ctx, uint32_t wl_type,
                               const char *worker_id);

/*
 * Learn from one outcome: hist_learn with HIST_ALPHA_DEFAULT on the pair's
 * entry, made if new.  `now` is unix seconds.
 * Returns LBS_OK; LBS_EINVAL when the outcome is NULL, smaller than
 * LBS_OUTCOME_SIZE_V1_0, has no worker_id, or a duration that is not a
 * finite number >= 0 (nothing is learned then); LBS_ENOMEM.
 */
lbs_status hist_apply(hist_store *s, const lbs_outcome *o, double now);

/* The same with the EMA weight given (a store configured with its own). */
lbs_status hist_apply_alpha(hist_store *s, const lbs_outcome *o, double alpha,
                            double now);

/* Set a pair's record, replacing what was there (loading from storage).
 * LBS_OK, LBS_EINVAL (NULL store or id), LBS_ENOMEM. */
lbs_status hist_put(hist_store *s, uint32_t wl_type, const char *worker_id,
                    const lbs_history *h);

/* Pairs known.  0 lets a scheduler skip lookups altogether. */
size_t hist_count(const hist_store *s);

/* hist_store's lbs_speed_ub_fn: no pair of the type has a learned speed
 * above it.  It only grows (a speed that falls leaves it where it was),
 * which keeps it a bound at the cost of one exp per update. */
double hist_speed_ub(void *ctx, uint32_t wl_type);

/* A number that changes whenever what the store answers may change (every
 * hist_apply / hist_put) and that no other store, live or freed, has had:
 * while it stays the same, an answer once looked up may be remembered.
 * Never 0 for a store; 0 for NULL. */
uint64_t hist_generation(const hist_store *s);

/* Over the pairs of this workload type that learned latency alone (no
 * speed against declared durations: ratio_n 0, successes > 0): the mean of
 * ln(mean_duration) weighted by successes, or NaN when there are none.
 * The shape of lbs_latency_ref_fn; ctx is the store.  Kept as sums over
 * the records, so any view (a load, a merge) has it. */
double hist_latency_ref(void *ctx, uint32_t wl_type);

#endif
