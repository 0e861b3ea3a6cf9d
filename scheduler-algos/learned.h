/*
 * learned.h -- what has been learned about one (workload type, worker) pair,
 * as the schedulers read it.  Where it is stored is the plugin's business.
 */
#ifndef LBS_LEARNED_H
#define LBS_LEARNED_H

#include <math.h>
#include <stdint.h>

typedef struct lbs_history {
	uint64_t samples;      /* outcomes seen */
	uint64_t successes;
	uint64_t failures;     /* samples - successes, kept for clarity */
	double preference;     /* 0..1, EMA of outcome efficiency, 0.5 neutral */
	double mean_duration;  /* seconds, over successful samples */
	double var_duration;   /* seconds^2 */
	double last_update;    /* unix seconds */
	/* How fast the worker runs this type against what hosts declare:
	 * over the successful samples that had both a duration and an
	 * expected duration > 0, the running mean and population variance
	 * of ln(duration / expected).  exp(-log_ratio_mean) is the learned
	 * speed (2 = twice as fast as declared).  All 0 while ratio_n is. */
	uint64_t ratio_n;
	double log_ratio_mean;
	double log_ratio_var;
} lbs_history;

/* The longest worker id learning keys (bytes): LMDB's default limit on a
 * key is 511 bytes (mdb_env_get_maxkeysize), one of which is the workload
 * type.  The plugin's report() refuses a longer id with LBS_EINVAL, which
 * says no more, so a host names the likely reason with this. */
#define LBS_LEARN_ID_MAX 510

/* |ln(duration / expected)| is clamped to this before it is learned: a
 * factor of e^20 (5e8) is already no speed but a broken clock or a wrong
 * unit, and one such outcome must not own the mean.  It bounds what an
 * import accepts and what a scheduler reads from any lookup too. */
#define HIST_LOG_RATIO_MAX 20.0

/* The longest duration learned, in seconds (about 31 years): report()
 * refuses a longer one with LBS_EINVAL, and an import a longer mean.  A
 * store keeps sums of squares, and one duration past 1e154 s would make
 * them infinite and cost the pair every sample it held. */
#define HIST_DURATION_MAX 1e9

/* Look up a pair; NULL when nothing is known.  The pointer is valid until
 * the next report on the same instance. */
typedef const lbs_history *(*lbs_history_fn)(void *ctx, uint32_t wl_type,
                                             const char *worker_id);

/* One pair whose record answers differently since a generation of the
 * records (lbs_changes_fn): its workload type and its worker id's
 * wid_hash (worker_id.h); wide 1 when every record of its type may
 * answer differently too (the type's latency reference moved). */
typedef struct lbs_change {
	uint64_t id_hash;
	uint32_t wl_type;
	uint32_t wide;
} lbs_change;

/* What changed in the records since their generation `since`: up to max
 * changes into out, oldest first, and *now the generation they bring
 * the records to.  Returns how many, or -1 when they are not all known
 * (since is no generation of these records that their log still reaches,
 * or more than max changed): then any record may answer differently.
 * Lets a caller that remembers answers forget only the changed ones.
 * ctx as the lookup's; NULL (no records) answers -1. */
typedef int (*lbs_changes_fn)(void *ctx, uint64_t since, uint64_t *now, lbs_change *out,
                              int max);

/* No pair of this workload type has a learned speed, exp(-log_ratio_mean)
 * with the mean clamped to HIST_LOG_RATIO_MAX, above the answer (0 when
 * none has one).  Lets a scheduler skip a worker without looking it up. */
typedef double (*lbs_speed_ub_fn)(void *ctx, uint32_t wl_type);

/* The reference latency of a workload type for pairs that learned latency
 * alone (ratio_n 0): the successes-weighted mean of ln(mean_duration) over
 * them, NaN when there are none.  A pair's latency relative to its type's
 * is ref - ln(mean_duration): how much faster than its peers it answered. */
typedef double (*lbs_latency_ref_fn)(void *ctx, uint32_t wl_type);

/* A record's learned speed ratio (duration over expected): exp of its
 * log_ratio_mean clamped to HIST_LOG_RATIO_MAX; -1 when it has none. */
static inline double hist_speed_ratio(const lbs_history *h)
{
	double m = h->log_ratio_mean;

	if (h->ratio_n == 0 || !isfinite(m))
		return -1.0;
	m = m > HIST_LOG_RATIO_MAX ? HIST_LOG_RATIO_MAX : m < -HIST_LOG_RATIO_MAX ? -HIST_LOG_RATIO_MAX : m;
	return exp(m);
}

#endif
