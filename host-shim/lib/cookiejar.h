/*
 * cookiejar.h -- the selection cookies of a host's recent decisions, by
 * test id and worker.
 *
 * A scheduler matches an outcome to the decision that placed it by the
 * cookie of that selection (abi.h, lbs_outcome.cookie): adaptive credits
 * the child that decided, the ledger closes the placement at once instead
 * of letting it expire.  A host that learns of an outcome by its test id
 * alone -- the Python package's report(test_id, worker_id, ...), the
 * original framework's interface -- keeps each decision's cookie here under
 * the test id and each worker it chose, and finds it again by the two: a
 * test placed on A, then again on B, reports A's outcome to the first
 * decision and B's to the second.
 *
 * Bounded: JAR_ENTRIES cookies, kept by sets of JAR_WAYS; a new pair takes
 * the place of the oldest of its set.  A pair whose decision was given up,
 * or never made here, has no cookie (0): its outcome is learned as one
 * without, which every scheduler takes.  The last decision for a pair is
 * the one kept.  Not thread-safe: the caller's lock covers it.
 */
#ifndef LBS_COOKIEJAR_H
#define LBS_COOKIEJAR_H

#include <stdint.h>

#define JAR_WAYS 4
#define JAR_ENTRIES 8192 /* 24 bytes each */

typedef struct cookiejar cookiejar;

/* An empty jar; NULL when out of memory. */
cookiejar *jar_new(void);
void jar_free(cookiejar *j);

/* Keep cookie as the decision that put test_id on worker_id (either NULL
 * or "" keeps nothing).  Cookie 0, a placement no plugin decision made
 * (the host's fallback), forgets the pair's earlier cookie: the outcome
 * of this placement must not close that decision. */
void jar_put(cookiejar *j, const char *test_id, const char *worker_id, uint64_t cookie);

/* The cookie kept for test_id on worker_id, 0 when none. */
uint64_t jar_get(const cookiejar *j, const char *test_id, const char *worker_id);

#endif
