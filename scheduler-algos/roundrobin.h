/*
 * roundrobin.h -- a true rotation over the workers eligible for a request.
 *
 * The original kept one index into the list of workers compatible with the
 * *current* request, so its position meant something different for every
 * kind of request and some workers were never reached.  Here a cursor is a
 * position in the worker array: "the worker after the last one chosen".  A
 * select scans from the cursor, wrapping, takes the first eligible workers
 * and moves the cursor past the last one taken.  Over a stable fleet and
 * identical requests every eligible worker is chosen once per cycle, and the
 * cost is O(1) amortised when most workers are eligible.
 *
 * One cursor for all requests is still unfair when requests alternate
 * between nested subsets (every worker, then only the GPU ones): the two
 * kinds can lock into choosing the same two workers forever.  So there is
 * one cursor per request class -- the hard requirements that decide
 * eligibility, without the exclude list -- in a small LRU table, plus a
 * global cursor that a class seen for the first time starts from.  More
 * live classes than the table holds degrade to the global cursor's
 * behaviour, never to an error.
 *
 * Positions mean nothing across calls (abi.h), so each cursor also keeps a
 * hash of the id it last chose.  When the array has changed under it, the
 * cursor is found again by that id (O(n), once per change); when that worker
 * is gone, the rotation continues from the same position.
 *
 * Pure: no allocation, no I/O.  Not thread-safe; the caller serialises.
 */
#ifndef LBS_ROUNDROBIN_H
#define LBS_ROUNDROBIN_H

#include <stdint.h>

#include <lbsched/abi.h>

#define RR_SETS 16
#define RR_WAYS 4

typedef struct rr_cursor {
	uint64_t klass;   /* request class (rr_class_of), 0 in the global */
	uint64_t id_hash; /* hash of the id last chosen */
	uint64_t next_hash; /* of the id after it in that call's array */
	uint64_t used;    /* LRU stamp; 0 = empty slot */
	uint32_t last;    /* position of the worker last chosen */
	uint32_t valid;   /* 0 until something was chosen */
} rr_cursor;

typedef struct rr_state {
	rr_cursor global;                      /* last choice of any class */
	rr_cursor classes[RR_SETS * RR_WAYS];  /* RR_WAYS-way set-associative */
	uint64_t clock;                        /* LRU stamps */
} rr_state;

/* What one scan found; input to rr_commit and to the reason sentence. */
typedef struct rr_result {
	uint64_t klass;     /* the request's class */
	uint32_t start;     /* position the scan began at */
	uint32_t n_found;   /* eligible workers taken, <= want */
	uint32_t scanned;   /* workers examined */
	uint32_t skipped;   /* of those, ineligible */
	uint32_t n;         /* the array's size */
} rr_result;

void rr_init(rr_state *s);

/* The class of a request: a hash of its hard requirements except the
 * exclude list (which changes from retry to retry of the same work). */
uint64_t rr_class_of(const lbs_workload *wl);

/*
 * Take up to `want` eligible workers in rotation order into idx[] (room for
 * `want`), without moving any cursor.  `ceiling` as in elig_check().  Fewer
 * than `want` in res->n_found means the scan wrapped all the way round, so
 * n_found is then the number of eligible workers.
 * Returns LBS_OK, or LBS_EINVAL when a worker it examined is NULL, smaller
 * than LBS_WORKER_SIZE_V1_0 or without an id.  wl must be valid.
 */
lbs_status rr_pick(const rr_state *s, const lbs_workload *wl,
                   const lbs_worker *const *workers, uint32_t n,
                   double ceiling, uint32_t want, uint32_t *idx,
                   rr_result *res);

/* Move the request's class cursor (and the global one) past workers[last],
 * the last worker taken from a successful rr_pick. */
void rr_commit(rr_state *s, const rr_result *res,
               const lbs_worker *const *workers, uint32_t last);

/*
 * Score every worker without moving anything: -1 when not eligible, else
 * (E - d) / E where E is the number of eligible workers and d the worker's
 * rank in rotation order from the cursor, so the next one scores 1 and the
 * one that would come last 1/E.  Errors as rr_pick.
 */
lbs_status rr_score(const rr_state *s, const lbs_workload *wl,
                    const lbs_worker *const *workers, uint32_t n,
                    double ceiling, double *scores);

/* rr_score() with what the caller already knows of the hard filter
 * (no ceiling) for this workload and these workers: hard[i] 1 passes,
 * 0 fails, 2 unknown (checked here); NULL: nothing known.  known_load (may
 * be NULL): elig_load() of the workers that pass.  The ceiling is still
 * this scheduler's.  With both, the caller has found every worker valid
 * (LBS_EINVAL is then only for one it marked 2), and every known_load[i]
 * is a number that may be read. */
lbs_status rr_score_hard(const rr_state *s, const lbs_workload *wl,
                         const lbs_worker *const *workers, uint32_t n,
                         double ceiling, const uint8_t *hard, const double *known_load,
                         double *scores);

#endif
