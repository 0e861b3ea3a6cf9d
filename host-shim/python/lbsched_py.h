/*
 * lbsched_py.h -- the C side of the Python binding (liblbsched-py.so), a
 * tiny API for ctypes that speaks JSON text so that conversion goes through
 * the shim's own converters (host-shim/lib/convert.h), never a second copy.
 *
 * Every call returns an LBSPY_* code; on error `err` holds the shim's
 * one-line message.  Results are malloc'd NUL-terminated JSON returned
 * through `out`; free them with lbspy_free().
 *
 * Thread safety: a handle has its own mutex, so several threads may call
 * select/report/explain/stats on one handle; calls are serialised.  Close a
 * handle only when no other thread uses it.  Different handles run in
 * parallel (each has its own host and plugin instance).
 */
#ifndef LBSCHED_PY_H
#define LBSCHED_PY_H

#include <stddef.h>
#include <stdint.h>

#define LBSPY_OK 0
#define LBSPY_EINPUT 1       /* bad input or config: the message says which field */
#define LBSPY_EREFUSED 2     /* the plugin was refused (ABI major, sizes, entry) */
#define LBSPY_EOPEN 3        /* the plugin file, or the store, could not be opened */
#define LBSPY_EUNSUPPORTED 4 /* the scheduler lacks that slot (report, explain) */
#define LBSPY_ENOMEM 5
#define LBSPY_EFAILED 6      /* the scheduler refused the call */
#define LBSPY_EWARNED 7      /* LBSPY_HOLD_WARNED: the records warned, nothing chosen */

typedef struct lbspy lbspy;

/* plugin_path NULL = the plugin built or installed with this library;
 * config_json may be NULL. */
int lbspy_open(const char *plugin_path, const char *scheduler,
               const char *config_json, lbspy **out, char *err, size_t errlen);
void lbspy_close(lbspy *h);

/*
 * test_json: one TestRequirements object.  workers_json: what conv_fleet
 * takes (an array of WorkerCapabilities objects, each with an optional
 * "load").  max: at most this many ids in the answer, 0 = all.
 * *out = {"status":"ok"|"no_worker","workers":[...],"reason":"...",
 *         "fell_back":bool}.
 */
int lbspy_select(lbspy *h, const char *test_json, const char *workers_json,
                 unsigned max, char **out, char *err, size_t errlen);

/*
 * The fleet apart from its loads, for callers that select many times over
 * the same workers (the Python package does): capabilities are converted
 * once by lbspy_fleet_set, and each lbspy_select_fleet sends only the
 * loads, which change every call.
 *
 * lbspy_fleet_set: workers_json as lbspy_select takes it (a "load" in a
 * record is part of the worker as set: a call's load goes on top of it).
 * It replaces the handle's fleet; on error the previous fleet stays.
 */
int lbspy_fleet_set(lbspy *h, const char *workers_json, char *err, size_t errlen);

/*
 * One select over the handle's fleet.  workers_json, if not NULL, replaces
 * the fleet first (as lbspy_fleet_set, after the test is converted, so a
 * bad test is reported before a bad worker as lbspy_select does); NULL
 * keeps the fleet set last.  This call's loads come in one of two forms,
 * or neither (the fleet as set):
 *   - numbers: given[i] says which load fields worker i has, a bit per
 *     slot of lbspy_load_layout (LBSPY_LOAD_GIVEN alone: a load without
 *     any; 0: no load); vals holds the given slots' values, worker after
 *     worker, in slot order (true/false as 1/0), n_vals of them.
 *   - loads_json: a JSON array with one load object (or null) per worker.
 * A load goes onto a fresh copy of the worker as set, so it is checked and
 * applied exactly as a "load" inside the worker's record, with the same
 * messages ("available_workers: workers[3]: field 'load.cpu_utilization':
 * ...").  picked: room for LBSPY_MAX_PICKED indices into the fleet;
 * *n_picked of them are set, at most `max` (0 = all chosen), none when no
 * worker is eligible.  reason (may be NULL): the scheduler's one-line
 * reason, or "no eligible worker".
 */
#define LBSPY_MAX_PICKED 1024
#define LBSPY_LOAD_GIVEN (1u << 31)
/* Or'ed into max: given and vals are the buffers this handle's last
 * lbspy_select_fleet took, n_vals as then, and hold what they held then;
 * the loads applied then stand and are not read again.  Without the very
 * same buffers and count (or after another call put other loads) the
 * loads are read as without it. */
#define LBSPY_SAME_LOADS (1u << 31)
/* Or'ed into max: when this call's records warn, stop before the
 * scheduler chooses and return LBSPY_EWARNED, the fleet and loads taken as
 * without it.  A host that makes warnings errors (Python's -W error) then
 * raises with nothing chosen, or calls again without it. */
#define LBSPY_HOLD_WARNED (1u << 30)
/* Or'ed into max: convert and check the records, take the fleet and
 * loads, and stop there: LBSPY_OK with nothing chosen.  For a host that
 * must know the call's input is good before it changes anything else. */
#define LBSPY_CHECK (1u << 29)
int lbspy_select_fleet(lbspy *h, const char *test_json, const char *workers_json,
                       const uint32_t *given, const double *vals, size_t n_vals,
                       const char *loads_json, unsigned max, uint32_t *picked,
                       unsigned *n_picked, char *reason, size_t reason_len,
                       char *err, size_t errlen);

/*
 * The load fields, as JSON: {"slots": [[name, kind, nullable], ...],
 * "others": [...], "learn_id_max": 510, "loose_max": 1e19, "string_max":
 * 4096}.  Slots are the numeric form's, in
 * order; others are the rest of what a load object may hold.  kind:
 * "number", "integer", "bool", "string", "scalar" (string or number),
 * "array", "object".  learn_id_max: the longest worker id, in bytes, of an
 * outcome a scheduler that learns takes (lbspy_report refuses a longer
 * one with LBSPY_EINPUT).  loose_max, string_max: what a scalar or an
 * array's item of the fields the numeric form does not carry may be (a
 * number within +-loose_max, a string of at most string_max UTF-8 bytes);
 * a caller sends a load with anything else as JSON, where it is named.
 */
int lbspy_load_layout(char **out);

/* One outcome object (convert.h conv_outcome).  Without a cookie it is
 * matched to h's last decision that put its test_id on its worker; without
 * a type it takes the type of the last test of its test_id a select on h
 * read, else is learned as MIXED with a warning (lbspy_warnings).  hold:
 * when it warns (the record, or learned as mixed), LBSPY_EWARNED and
 * nothing learned, the warnings kept. */
int lbspy_report(lbspy *h, const char *outcome_json, int hold, char *err, size_t errlen);

/* The plugin's explanation JSON for this test and fleet. */
int lbspy_explain(lbspy *h, const char *test_json, const char *workers_json,
                  char **out, char *err, size_t errlen);

/* The scheduler's stats JSON. */
int lbspy_stats(lbspy *h, char **out, char *err, size_t errlen);

/* 1 when the scheduler declares LBS_CAP_LEARNS (its report() changes its
 * decisions), else 0. */
int lbspy_learns(const lbspy *h);

/*
 * Benchmark support: convert once, then time `iters` selects in C through
 * the same handle.  *ns_per_select = mean nanoseconds per sched_select.
 */
int lbspy_bench(lbspy *h, const char *test_json, const char *workers_json,
                unsigned iters, double *ns_per_select, char *err, size_t errlen);

void lbspy_free(void *p);

/*
 * The converter's warnings (an unknown field, an unknown backend, ...) are
 * never printed: a handle keeps those of its last call, at most 10 per
 * record and 100 per call, then one line counting the rest.  *out: them as
 * a JSON array of lines ("available_workers: workers[2]: unknown field
 * 'x' ignored"), or NULL for none; free with lbspy_free.  Every call on the
 * handle starts a new list.
 */
int lbspy_warnings(lbspy *h, char **out);

/*
 * The orchestrator (host-shim/orch/orch.h) for the package's
 * MultiDeviceOrchestrator: one graph per handle, JSON text in and out.
 *
 * lbspy_orch_new: graph_json a graph document; `name` names it in
 * messages; *warnings (may be NULL) the warnings (unknown fields), one a
 * line, or NULL for none: free with lbspy_free.  lbspy_orch_ready: *out = [{"subtask_id", "critical_path",
 * "upward_rank", "est_s", "attempts", "alternate" (as lbspy_orch_subtask)}, ...] in the
 * documented order.
 * lbspy_orch_place: one select through h's scheduler over workers_json
 * (conv_fleet's input) for a subtask ready at the caller's clock `now`
 * (as lbspy_orch_ready; one waiting for its retry's backoff is not);
 * *out = {"status": "ok"|"no_worker", "worker",
 * "test_id" (the id the scheduler placed, as lbspy_report's outcomes name
 * it)}; the decision is kept as lbspy_select's are (lbspy_report).
 * workers_json is the workers available now, not the fleet: "no_worker"
 * leaves the subtask pending, a reassign one that all of them failed
 * included (orch_place's whole_fleet 0).
 * lbspy_orch_record: the result of subtask `id` (started implicitly when
 * ready and not placed), a failure recovered at once by its strategy;
 * *out = {"state", "recovery", "delay_s", "reported"}.  h (NULL: none):
 * the scheduler that placed the running subtask, to which the result is
 * also reported, as an outcome of the test it placed (its test id, type,
 * expected duration and selection cookie) on worker_id (NULL: the worker
 * it placed it on), as `simulate --graphs` reports each run; "reported"
 * true when h learned from it, and "report_error" the reason when h
 * refused it (the result is recorded all the same).  lbspy_orch_completed: 1, 0,
 * or -1 (a subtask lost).  lbspy_orch_aggregate: orch_aggregate's object.
 * lbspy_orch_critical_path: {"path": [ids], "length_s", "ranks": {id: r}}.
 * lbspy_orch_estimate: estimates from h's scheduler on workers_json.
 */
typedef struct orch lbspy_orch;
int lbspy_orch_new(const char *graph_json, const char *name, lbspy_orch **out,
                   char **warnings, char *err, size_t errlen);
void lbspy_orch_free(lbspy_orch *o);
int lbspy_orch_ready(lbspy_orch *o, double now, char **out, char *err, size_t errlen);
int lbspy_orch_place(lbspy_orch *o, lbspy *h, const char *id, double now,
                     const char *workers_json, int hold, char **out, char *err,
                     size_t errlen);
int lbspy_orch_record(lbspy_orch *o, lbspy *h, const char *id, int success, double duration_s,
                      const char *payload_json, double progress, const char *worker_id,
                      double now, char **out, char *err, size_t errlen);
/* lbspy_orch_subtask: *out = {"subtask_id", "state", "priority" (what a
 * placement starts from), "attempts", "alternate" (0: the declared
 * requirements, k: alternates[k-1]), "critical_path", "worker",
 * "dependencies"}.  lbspy_orch_set_priority: 1..5, whole. */
int lbspy_orch_subtask(lbspy_orch *o, const char *id, char **out, char *err, size_t errlen);
int lbspy_orch_set_priority(lbspy_orch *o, const char *id, double priority, char *err,
                            size_t errlen);
int lbspy_orch_completed(lbspy_orch *o);
int lbspy_orch_aggregate(lbspy_orch *o, char **out, char *err, size_t errlen);
int lbspy_orch_critical_path(lbspy_orch *o, char **out, char *err, size_t errlen);
int lbspy_orch_estimate(lbspy_orch *o, lbspy *h, const char *workers_json, int hold,
                        char *err, size_t errlen);

/* Internal to the library (not exported): fn with h's scheduler, locked. */
struct shim_sched;
int lbspy_locked_sched(lbspy *h, int (*fn)(struct shim_sched *s, void *ctx), void *ctx);
/* Keep a decision made on h's scheduler outside lbspy_select* (the
 * orchestrator's placement of test wl on worker_id, with its selection's
 * cookie) for lbspy_report's outcomes of it: its cookie and its type.
 * Under lbspy_locked_sched (h's lock held). */
struct lbs_workload;
void lbspy_keep_locked(lbspy *h, const struct lbs_workload *wl, const char *worker_id,
                       uint64_t cookie);
/* fn with h's scheduler, locked, as lbspy_locked_sched, once workers_json
 * (conv_fleet's input) is converted into a as *w, *n: its warnings kept for
 * lbspy_warnings, as a select's are (an orchestrator's misspelt field was
 * ignored without a word).  LBSPY_EINPUT (err says why) when it cannot be
 * converted, LBSPY_EWARNED without fn when hold and they warned (so that a
 * caller that makes warnings errors changes nothing), else fn's return. */
struct arena;
struct lbs_worker;
int lbspy_fleet_locked(lbspy *h, struct arena *a, const char *workers_json, int hold,
                       struct lbs_worker ***w, uint32_t *n,
                       int (*fn)(struct shim_sched *s, void *ctx), void *ctx, char *err,
                       size_t errlen);
/* The LBSPY_* code of a plugin's status (LBS_ENOMEM: LBSPY_ENOMEM, any
 * failure without a code of its own: LBSPY_EFAILED). */
int lbspy_code_of(int lbs_status);

#endif
