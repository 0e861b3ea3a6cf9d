/*
 * orch.h -- multi-device workloads (issue 20): a graph of subtasks with
 * dependencies, placed one ready subtask at a time through any lbsched
 * scheduler, with critical-path priority, recovery strategies and result
 * aggregation.  The original framework's MultiDeviceOrchestrator, host-side,
 * as a library any host can link (docs/ORCHESTRATE.md).
 *
 * A graph document, in the original's field names:
 *   {"name": "LLM inference", "aggregation_method": "concat",
 *    "recovery": {"strategy": "retry", "max_attempts": 4,
 *                 "backoff_base_s": 1, "backoff_cap_s": 30, "jitter": 0.5},
 *    "subtasks": {
 *      "tokenize": {"requirements": {TestRequirements...}, "dependencies": [],
 *                   "criticality": "critical"},
 *      "generate": {"requirements": {...}, "dependencies": ["tokenize"],
 *                   "alternates": [{TestRequirements...}],
 *                   "recovery": {"strategy": "alternate"}}}}
 * "subtasks" may also be an array of objects with "subtask_id".
 *
 * Lifetime: orch_load() makes an orch that owns its graph and state;
 * orch_free() frees it.  Not thread-safe: one orch per thread, or a lock.
 * Errors are one line, "<file>: subtask '<id>': <problem>" (or field),
 * the id shown as conv_show() shows it, and the file's name too when it is
 * longer than ORCH_NAME_WHOLE bytes.
 */
#ifndef LBS_ORCH_H
#define LBS_ORCH_H

#include <stddef.h>
#include <stdint.h>

#include <lbsched/abi.h>

#include "convert.h"
#include "scheduler.h"

/* A graph is refused above these, before any per-subtask work beyond
 * counting, so a 100,000-subtask document costs one pass of the parser. */
#define ORCH_MAX_SUBTASKS 10000
#define ORCH_MAX_EDGES 200000 /* dependencies, summed over subtasks */
#define ORCH_MAX_ALTERNATES 16
/* A graph's name (orch_load's `file`: a path, "G.jsonl:LINE", a Python
 * workload id) longer than this is cut as ids are in its messages: whole,
 * it filled them before the subtask and the problem.  Up to it, whole, as
 * the cut keeps only the first 64 bytes, a path's directories; a message
 * then fits the 2,048 bytes the CLI and the Python package give it. */
#define ORCH_NAME_WHOLE 1024

typedef struct orch orch;

/* A subtask's state. */
enum orch_state {
	ORCH_PENDING = 0, /* waiting for dependencies (or a backoff) */
	ORCH_RUNNING,     /* placed, no result yet */
	ORCH_DONE,        /* succeeded */
	ORCH_FAILED,      /* failed; orch_recover decides what next */
	ORCH_SKIPPED,     /* failed and skipped (non-critical) */
	ORCH_LOST         /* failed beyond recovery: the workload fails */
};

/* Recovery strategies (orch_recover). */
enum orch_strategy {
	ORCH_RETRY = 0,   /* again, after an exponential backoff with jitter */
	ORCH_REASSIGN,    /* again at once, never on a worker it failed on */
	ORCH_SKIP,        /* give up on it; dependants go on without it */
	ORCH_ALTERNATE,   /* again with its next alternate requirements */
	ORCH_CHECKPOINT,  /* again from its last recorded progress */
	ORCH_NO_RECOVERY  /* what orch_recover returns when none is left */
};

/* Aggregation methods (orch_aggregate). */
enum orch_agg { ORCH_AGG_CONCAT = 0, ORCH_AGG_MERGE, ORCH_AGG_SUM, ORCH_AGG_AVERAGE,
	        ORCH_AGG_MAX, ORCH_AGG_MIN };

/* Where warnings go (unknown fields, as for any record of convert.h). */
typedef struct orch_warn {
	conv_warn_fn fn;
	void *ctx;
	conv_warns *warns; /* may be NULL */
} orch_warn;

/*
 * Parse and validate a graph document (`len` bytes; `file` names it in
 * messages).  Refused with one line: not JSON, a bad or unknown-typed
 * field, a duplicate or empty subtask id, a dependency on a subtask the
 * graph lacks, a cycle (naming a subtask on it), more than
 * ORCH_MAX_SUBTASKS subtasks or ORCH_MAX_EDGES dependencies, "skip" on a
 * critical subtask, "alternate" (its own or the graph's) without
 * alternates.  Unknown fields are
 * warnings through `warn` (NULL: not shown).  `seed` drives the backoff
 * jitter.  NULL with err set, or the orch.
 */
orch *orch_load(const char *text, size_t len, const char *file, const orch_warn *warn,
                uint64_t seed, char *err, size_t errlen);
void orch_free(orch *o);

/*
 * Check that every subtask can run somewhere in this fleet: some worker
 * passes the hard filter (eligible.h, load ignored) for its requirements
 * or for one of its alternates.  0, or -1 with "<file>: subtask '<id>':
 * no worker in the fleet can run it (<first reason>)".
 */
int orch_check_fleet(const orch *o, const lbs_worker *const *workers, uint32_t n,
                     char *err, size_t errlen);
/*
 * orch_check_fleet, then make the run possible on this fleet: a subtask
 * whose current requirements no worker can take (load ignored) moves to
 * the first alternate after them that some worker can take, so a graph
 * the check accepts never stalls on requirements nobody meets
 * (orch_alternate() says which it runs).  Call before orch_estimate().
 * 0, or -1 with orch_check_fleet's message.
 */
int orch_fit_fleet(orch *o, const lbs_worker *const *workers, uint32_t n, char *err,
                   size_t errlen);
/* After an alternate recovery of subtask i: skip the alternates no worker
 * of this fleet can take (past the last that fits, that one again). */
void orch_fit_alternate(orch *o, uint32_t i, const lbs_worker *const *workers, uint32_t n);

/* A host's error about subtask `id` of o (NULL: about the graph), worded
 * as o's own: "<file>: subtask '<id>': <msg>", the id shown as conv_show
 * does, so that every message of one graph starts with its name.  -1. */
int orch_error(const orch *o, const char *id, char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* Subtasks, in the document's order: index 0..orch_count()-1. */
uint32_t orch_count(const orch *o);
const char *orch_name(const orch *o);
const char *orch_id(const orch *o, uint32_t i);
int orch_find(const orch *o, const char *id); /* index or -1 */
enum orch_state orch_state_of(const orch *o, uint32_t i);
int orch_is_critical(const orch *o, uint32_t i); /* declared criticality */
/* The requirements a placement uses now (the current alternate, if any). */
const lbs_workload *orch_workload(const orch *o, uint32_t i);
/* Which those are: 0 the declared requirements, k the graph's alternates[k-1]. */
uint32_t orch_alternate(const orch *o, uint32_t i);
/* Subtask i's priority, 1 (highest) .. 5, for its requirements and every
 * alternate, as the graph's "priority" sets it; placement still raises it
 * by one on the critical path.  0, or -1 when out of that range. */
int orch_set_priority(orch *o, uint32_t i, uint32_t priority);
uint32_t orch_n_deps(const orch *o, uint32_t i);
uint32_t orch_dep(const orch *o, uint32_t i, uint32_t k);
/* The subtasks (orch_count() indices) in a topological order: each after
 * all of its dependencies.  Owned by o. */
const uint32_t *orch_topo(const orch *o);

/*
 * Critical path (critpath.c).  Each subtask's estimated duration on its
 * likely hardware: with a scheduler that explains (hardware-aware), the
 * run_s it gives the worker it would choose on this fleet -- its own
 * completion estimate from learned speed and hardware fit; otherwise (or
 * when it gives none) the declared expected_duration.  Then upward ranks
 * rank(i) = est(i) + max over dependants rank(j), the critical path from
 * the entry subtask of highest rank along the dependant of highest rank.
 * The path is chosen on the estimates at the declared priorities; its
 * subtasks are then estimated at the priority placement raises them to,
 * and the ranks made again from those, the path kept (docs/ORCHESTRATE.md).
 * s may be NULL (declared durations).  0, or -1 when out of memory.
 */
int orch_estimate(orch *o, shim_sched *s, const lbs_worker *const *workers, uint32_t n);
/* Subtask i's estimate again, as orch_estimate() makes it, after its
 * requirements changed (an alternate recovery), and the ranks and the path
 * from it: orch_recover() alone, having no scheduler, leaves the new
 * requirements' declared duration.  0, or -1 when out of memory. */
int orch_reestimate(orch *o, uint32_t i, shim_sched *s, const lbs_worker *const *workers,
                    uint32_t n);
/* Set one subtask's estimate by hand (tests, hosts with their own model),
 * the same at any priority; call orch_rank() afterwards, which chooses
 * the path again (a subtask it newly reaches keeps an estimate from the
 * scheduler made at its declared priority until orch_estimate()). */
void orch_set_estimate(orch *o, uint32_t i, double est_s);
void orch_rank(orch *o);
double orch_est(const orch *o, uint32_t i);
/* Subtask i's run on worker w alone, as s explains it (its run_s there),
 * else orch_est(): a plan's run on the worker it was placed on, which need
 * not be the one the estimate was of. */
double orch_est_on(const orch *o, shim_sched *s, uint32_t i, const lbs_worker *w);
const char *orch_est_source(const orch *o, uint32_t i); /* "explain.run_s" | "declared" */
double orch_upward_rank(const orch *o, uint32_t i);
int orch_on_critical_path(const orch *o, uint32_t i);
/* The critical path, entry to exit: fills up to cap indices, returns its
 * length; its estimated length in *len_s (may be NULL). */
uint32_t orch_critical_path(const orch *o, uint32_t *out, uint32_t cap, double *len_s);

/*
 * Ready subtasks at time `now` (seconds, the caller's clock): pending,
 * every dependency done or skipped, any backoff over.  Order: critical path
 * first, then higher upward rank, then id (bytewise).  Fills up to cap
 * indices, returns how many are ready.
 */
uint32_t orch_ready(orch *o, double now, uint32_t *out, uint32_t cap);
/* Whether subtask i is ready at now, as orch_ready() would list it. */
int orch_is_ready(orch *o, uint32_t i, double now);

/*
 * Place ready subtask i (ready as orch_ready says at the caller's clock;
 * this call does not look at the clock): one sched_select with its current requirements,
 * the workers it failed on (reassign) as exclude_ids, and priority raised
 * by one on the critical path.  LBS_OK with the chosen worker's index in
 * *worker (the subtask is then running), LBS_NO_WORKER (still pending),
 * LBS_EINVAL when i is not ready to place, or LBS_ENOMEM (still pending).
 * fell_back as sched_select.
 * whole_fleet: 1 when workers[] is every worker the graph may ever run on
 * (orch_drive's fleet); then a subtask that no worker of it could take
 * with its exclusions, whatever the load and what running work holds
 * (reassign has run out of workers), is lost.  0 when they are only the workers available now (a
 * host's): a worker not among them may still take it later, so it stays
 * pending.
 */
lbs_status orch_place(orch *o, uint32_t i, shim_sched *s, const lbs_worker *const *workers,
                      uint32_t n, int whole_fleet, uint32_t *worker, int *fell_back);
/*
 * orch_place() in two steps, for a host that places a subtask only when
 * its worker can start it (orch_drive): orch_choose() is the select alone
 * (the subtask stays pending; *cookie the decision's), then either
 * orch_commit() marks i running on the chosen worker with that cookie (0,
 * or -1: out of memory), or orch_withdraw() tells the scheduler the
 * decision was not used (an outcome LBS_RESULT_CANCELLED: a timed
 * scheduler no longer counts it as work ahead of that worker, and no record
 * learns from it; the select's other traces stay, as a round-robin
 * cursor's step).
 */
lbs_status orch_choose(orch *o, uint32_t i, shim_sched *s, const lbs_worker *const *workers,
                       uint32_t n, int whole_fleet, uint32_t *worker, int *fell_back,
                       uint64_t *cookie);
int orch_commit(orch *o, uint32_t i, const char *worker_id, uint64_t cookie);
void orch_withdraw(const orch *o, uint32_t i, shim_sched *s, const char *worker_id,
                   uint64_t cookie);
/* Mark i running on `worker_id` without a scheduler (a host that chose). */
int orch_start(orch *o, uint32_t i, const char *worker_id);
/* Running i ran on `worker_id` after all (the host moved it): the worker
 * its recovery excludes (reassign).  0, or -1 (not running, out of
 * memory). */
int orch_ran_on(orch *o, uint32_t i, const char *worker_id);
const char *orch_worker(const orch *o, uint32_t i); /* last placement or NULL */
/* The cookie of the last placement's selection, for the outcome the host
 * reports of that run (lbs_outcome.cookie); 0 when the host placed it. */
uint64_t orch_cookie(const orch *o, uint32_t i);

/*
 * A result for running subtask i.  payload_json: the result as JSON text
 * (may be NULL = null); progress: the fraction done at the last checkpoint
 * the run recorded, 0..1 (a failure keeps it for "checkpoint").  0, or -1
 * with err set (not running, bad payload).
 */
typedef struct orch_result {
	int success;
	double duration_s;
	const char *payload_json;
	double progress;
	/* The duration is the model's (orch_drive: a plan or a simulated
	 * truth), not a host's: only a host's is held to the converter's
	 * bound, CONV_MAX_SECONDS, on what a result may teach. */
	int modelled;
} orch_result;
int orch_record(orch *o, uint32_t i, const orch_result *r, char *err, size_t errlen);
/* orch_record's checks of the result's values alone (duration, progress,
 * payload), for subtask i whatever its state: a caller that starts the
 * run itself checks first, so a refused result changes nothing. */
int orch_result_check(const orch *o, uint32_t i, const orch_result *r, char *err,
                      size_t errlen);

/*
 * Recover failed subtask i by its strategy (its own, else the graph's):
 *   retry      pending again after min(cap, base * 2^(attempt-1)) seconds,
 *              of which the last `jitter` fraction is random;
 *   reassign   pending at once, the failed worker excluded for good;
 *   skip       skipped (non-critical only; critical ones retry);
 *   alternate  pending at once with the next alternate's requirements
 *              (past the last, the last again: running out of alternates
 *              loses nothing), estimated at their declared duration, the
 *              ranks and path made again (orch_reestimate: the scheduler's);
 *   checkpoint pending at once; orch_remaining() is 1 - last progress.
 * Beyond max_attempts runs, or with no worker left to reassign to, the
 * subtask is lost and the workload fails.  Returns the strategy applied
 * or ORCH_NO_RECOVERY; *delay_s (may be NULL) the backoff.
 */
enum orch_strategy orch_recover(orch *o, uint32_t i, double now, double *delay_s);
enum orch_strategy orch_strategy_of(const orch *o, uint32_t i);
/* Override every subtask's recovery: strategy (enum orch_strategy, or -1 to
 * keep each one's) and max_attempts (0 keeps each one's).  A critical
 * subtask never skips; it retries instead.  Returns how many subtasks it
 * gave ORCH_ALTERNATE that have no alternates (a graph that says so of
 * them is refused at load): a failed one is placed again as it was. */
uint32_t orch_set_recovery(orch *o, int strategy, uint32_t max_attempts);
uint32_t orch_attempts(const orch *o, uint32_t i);
double orch_remaining(const orch *o, uint32_t i); /* fraction of the work left */
uint32_t orch_n_excluded(const orch *o, uint32_t i);
const char *orch_excluded(const orch *o, uint32_t i, uint32_t k);

/* 1 when every subtask is done or skipped, -1 when one is lost, else 0. */
int orch_completed(const orch *o);

/*
 * The aggregated result as one JSON object (malloc'd; free()):
 *   {"name", "aggregation_method", "completed": bool, "result": ...,
 *    "skipped": [ids], "lost": [ids]}
 * concat: the payloads of done subtasks in document order, as an array;
 * merge: the object payloads' keys merged in document order (later wins);
 * sum / average / max / min: over numeric payloads (a payload object's
 * "value" counts as its number).  NULL with err when a payload does not
 * fit the method, naming the subtask.
 */
char *orch_aggregate(const orch *o, char *err, size_t errlen);
const char *orch_agg_name(enum orch_agg a);
const char *orch_strategy_name(enum orch_strategy s);

#endif
