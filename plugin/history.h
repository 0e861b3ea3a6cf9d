/*
 * history.h -- what the plugin has learned, per (workload type, worker id):
 * an in-memory store of lbs_history fed by outcomes.
 *
 * The interface is kept small (new / free / get / apply / count, plus the
 * per-record rule and a bulk load) so that a database (plugin/store.c,
 * LMDB) can stand behind it: it applies the same hist_sums_learn() to the record
 * it reads inside its write transaction, and loads views with hist_put().
 * Not thread-safe: the caller serialises (the ABI's [data] rule does, for
 * schedulers without LBS_CAP_CONCURRENT).
 *
 * What is kept per pair is a hist_sums: counts and sums only, so that the
 * evidence of several hosts (or processes) merges in any order and grouping
 * to the same totals (hist_sums_merge).  The lbs_history the schedulers read
 * is derived from it (hist_derive).
 *
 * Learning rules, one outcome at a time (hist_sums_learn):
 *   - LBS_RESULT_CANCELLED counts nowhere (the host gave up; the worker did
 *     nothing wrong or right) and creates no entry.
 *   - SUCCESS: samples and successes + 1; the duration and its square are
 *     summed (mean and population variance derive from the sums).  When the
 *     duration and the expected duration are both > 0, ln(duration /
 *     expected), clamped to +-HIST_LOG_RATIO_MAX, is summed the same way
 *     (ratio_n, sum_log_ratio, sum_log_ratio_sq).
 *   - anything else, including unknown values: samples and failures + 1.
 *   - preference: the run's efficiency (on success clamp01(expected /
 *     duration) when both are > 0, else 1; on failure 0) enters two sums
 *     decayed in time with a half-life: the weight and the weighted
 *     efficiency; preference = their ratio.  Decay is against absolute
 *     time, so every host fades the same evidence the same way.  A pair's
 *     first outcome on a host also adds a neutral prior (efficiency 0.5) of
 *     weight (1 - alpha) / alpha, so one outcome moves a fresh preference as
 *     far as the EMA it replaces did (0.5 -> 0.35 + 0.3 x efficiency).
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
/* Seconds after which an outcome weighs half as much in the preference. */
#define HIST_HALF_LIFE_DEFAULT 600.0

/*
 * A pair's evidence, every field a sum (or, for the times, a maximum), so
 * that two hosts' hist_sums merge commutatively and associatively.  This is
 * also the 96-byte record of the store's schema 3 (docs/STORE.md).
 */
typedef struct hist_sums {
	uint64_t samples, successes, failures;
	double sum_duration, sum_duration_sq;   /* over successes */
	uint64_t ratio_n;
	double sum_log_ratio, sum_log_ratio_sq; /* each term clamped to +-20 */
	double pref_time;   /* unix s: the two decayed sums are as of then */
	double pref_weight; /* sum of 2^((t_i - pref_time) / half_life) */
	double pref_sum;    /* the same, each times the outcome's efficiency */
	double last_update; /* unix s, the latest outcome */
} hist_sums;

/* How a store learns: the neutral prior's weight and the half-life. */
typedef struct hist_rules {
	double prior;     /* (1 - alpha) / alpha */
	double half_life; /* seconds, > 0 */
} hist_rules;

/* The latest time (s since the epoch, the year 5138) a record may hold:
 * what an import takes, and what the store reads. */
#define HIST_TIME_MAX 1e11

/* The prior of alpha 0, and of any weight this large: the preference
 * learns nothing (hist_sums_one adds no preference evidence), and reads
 * its neutral 0.5 however long the pair has been idle. */
#define HIST_PRIOR_FROZEN 1e12

/* The rules for an EMA weight alpha (0..1) and a half-life in seconds. */
hist_rules hist_rules_make(double alpha, double half_life);

/* Whether c's next outcome comes with the neutral prior: c holds no
 * preference evidence, whatever its counts (a new pair, or one learned
 * under alpha 0, which adds none: a store switched from alpha 0 to 0.3
 * gave such a pair no prior, and its next outcome set the preference
 * alone). */
static inline int hist_sums_wants_prior(const hist_sums *c)
{
	return c->pref_weight == 0.0 && c->pref_sum == 0.0;
}

/* One outcome's evidence (cancelled: none) learned at `now`, with the
 * neutral prior when asked (the pair's first outcome on this host). */
void hist_sums_one(hist_sums *c, const lbs_outcome *o, const hist_rules *r, double now,
                   int with_prior);

/* c taken as of `now` when it is stamped more than HIST_AHEAD_S later (a
 * clock stepped back, an import from a host whose clock ran fast), before
 * it learns at `now`: else each new outcome counts as one from the past,
 * decayed by the gap, and a record a day ahead ignored its pair's failures
 * for a day.  The slack keeps times a maximum where outcomes of two
 * threads reach a batch a moment out of order; the fleet's merge
 * (fleet_lua.c) applies the same rule by Redis's clock. */
#define HIST_AHEAD_S 1.0
void hist_sums_not_after(hist_sums *c, double now);

/* Add one outcome's evidence (cancelled: nothing) learned at `now`. */
void hist_sums_learn(hist_sums *c, const lbs_outcome *o, const hist_rules *r, double now);

/* into = into + add: commutative and associative (up to rounding), for
 * sums stamped no later than the clock of whoever merges them (see
 * hist_sums_not_after). */
void hist_sums_merge(hist_sums *into, const hist_sums *add, double half_life);

/* What the schedulers read, derived from the sums. */
void hist_derive(const hist_sums *c, lbs_history *h);

/* The sums of a record of schema 1 or 2 (the EMA's era): counts and
 * durations exactly; the preference as a weight of min(samples, 1 / alpha)
 * outcomes at the record's preference, as of last_update. */
void hist_sums_from_history(const lbs_history *h, hist_sums *c);

/* Why sums could not have been learned ("field 'pref_sum': ..."), or NULL. */
const char *hist_sums_problem(const hist_sums *c);

/*
 * Sums made by hist_sums_from_history brought within hist_sums_problem's
 * bounds, for a record of schema 1 or 2 that is read (a migration, an
 * older plugin's write in a store of schema 3).  Those records bounded a
 * mean and a variance each on its own, and the sums bound what they make
 * together, so a record each of whose fields was in range (a mean of 9e8
 * s and a variance of 5e17 s^2: a mean square of 1.31e18) made sums every
 * later read skipped, and its pair lost what it had learned and all it
 * learned after.  Bounded, the counts and the preference are kept: the
 * duration sums to 1e9 s and 1e18 s^2 a success (a mean past 1e9 s, which
 * report() no longer takes, to 1e9 s), the log ratio's to +-20 and 400 a
 * ratio, the times to HIST_TIME_MAX.  Sums within the bounds are left
 * exactly as they are.  Returns the name of the first field changed
 * ("sum_duration_sq"), or NULL when none was.
 */
const char *hist_sums_bound(hist_sums *c);

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
 * Learn from one outcome, with HIST_ALPHA_DEFAULT and HIST_HALF_LIFE_DEFAULT,
 * into the pair's entry, made if new.  `now` is unix seconds.
 * Returns LBS_OK; LBS_EINVAL when the outcome is NULL, smaller than
 * LBS_OUTCOME_SIZE_V1_0, has no worker_id, or a duration that is not a
 * finite number >= 0 (nothing is learned then); LBS_ENOMEM.
 */
lbs_status hist_apply(hist_store *s, const lbs_outcome *o, double now);

/* The same with the store's rules. */
lbs_status hist_apply_rules(hist_store *s, const lbs_outcome *o, const hist_rules *r,
                            double now);

/* Set a pair's sums, replacing what was there (loading from storage).
 * LBS_OK, LBS_EINVAL (NULL store or id), LBS_ENOMEM. */
lbs_status hist_put(hist_store *s, uint32_t wl_type, const char *worker_id,
                    const hist_sums *c);

/* Merge sums into a pair's (a fleet's totals and this host's unsent
 * evidence make one view).  The same errors. */
lbs_status hist_merge(hist_store *s, uint32_t wl_type, const char *worker_id,
                      const hist_sums *c, double half_life);

/* Called per pair with its sums; nonzero stops. */
typedef int (*hist_sums_fn)(void *ctx, uint32_t type, const char *worker,
                            const hist_sums *c);

/* Every pair, in no particular order. */
void hist_each(const hist_store *s, hist_sums_fn fn, void *ctx);

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

/* lbs_changes_fn over the store (ctx): the last HIST_CHANGES changes are
 * kept, so a generation at most that many changes old is answered. */
#define HIST_CHANGES 16
int hist_changes(void *ctx, uint64_t since, uint64_t *now, lbs_change *out, int max);

/* Over the pairs of this workload type that learned latency alone (no
 * speed against declared durations: ratio_n 0, successes > 0): the mean of
 * ln(mean_duration) weighted by successes, or NaN when there are none.
 * The shape of lbs_latency_ref_fn; ctx is the store.  Kept as sums over
 * the records, so any view (a load, a merge) has it. */
double hist_latency_ref(void *ctx, uint32_t wl_type);

#endif
