/*
 * sched_util.h -- the glue every scheduler of this plugin shares: create(),
 * argument checks, the shard count, filling lbs_selection, counters for
 * stats(), the explain() JSON skeleton, logging through the host.
 */
#ifndef LBS_PLUGIN_SCHED_UTIL_H
#define LBS_PLUGIN_SCHED_UTIL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <lbsched/abi.h>

/*
 * Counters for stats().  stats() is [any] and may read while a [data] call
 * writes, so they are atomics; the [data] calls of an instance are
 * serialised by the host (no LBS_CAP_CONCURRENT), so there is one writer at
 * a time and sc_bump can be a relaxed load and store instead of a locked
 * read-modify-write on the select path.  A scheduler that sets
 * LBS_CAP_CONCURRENT must switch to atomic_fetch_add.
 */
typedef struct sched_counters {
	_Atomic uint64_t selects;   /* select calls answered OK or NO_WORKER */
	_Atomic uint64_t no_worker; /* of those, NO_WORKER */
	_Atomic uint64_t errors;    /* select calls that returned an error */
	_Atomic uint64_t reports;   /* outcomes accepted by report() */
} sched_counters;

static inline void sc_bump(_Atomic uint64_t *c)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1,
	                      memory_order_relaxed);
}

/* Write {"scheduler":name,"selects":N,"no_worker":N,"errors":N,"reports":N}
 * plus `extra` (",\"key\":value..." or NULL) before the closing brace. */
lbs_status sc_stats(const char *name, const sched_counters *c,
                    const char *extra, lbs_write_fn write, void *ctx);

/* Reads a scheduler's config (NULL: all defaults; its fields checked)
 * into inst, a zeroed instance; a one-line message in err on error. */
typedef lbs_status (*sc_configure_fn)(void *inst, const lbs_host_api *host, const cJSON *cfg,
                                      char *err, size_t errlen);

/*
 * create() for every scheduler: LBS_EINVAL without `out`; a zeroed
 * instance of `size` bytes ("<who>: out of memory" and LBS_ENOMEM when
 * there is no room); the config parsed and checked against `known` (a
 * NULL-terminated list); configure.  On an error the instance goes to
 * `destroy` and *out stays NULL.  The instance comes before the config so
 * that configure can read straight into it.
 */
lbs_status sc_create(const char *who, size_t size, const char *const *known,
                     sc_configure_fn configure, void (*destroy)(void *),
                     const lbs_host_api *host, const char *config, size_t config_len,
                     void **out, char *err, size_t errlen);

/* LBS_EINVAL unless wl is a usable workload: not NULL, at least
 * LBS_WORKLOAD_SIZE_V1_0, no NULL array with a nonzero count, and for
 * SHARDED / REPLICATED max_shards >= min_shards. */
lbs_status sc_check_workload(const lbs_workload *wl);

/* sc_check_workload plus the worker array and the caller's lbs_selection
 * (at least LBS_SELECTION_SIZE_V1_0, indices and ids set).  Sets
 * out->n_selected = 0 and out->cookie = 0 whenever out is usable, so an
 * error leaves no stale answer.  Workers themselves are checked by the
 * algorithms as they reach them, which keeps an O(1) select O(1). */
lbs_status sc_check_select(const lbs_workload *wl,
                           const lbs_worker *const *workers, uint32_t n,
                           lbs_selection *out);

/* score()'s argument check: sc_check_workload, and the worker and score
 * arrays whenever n is not 0. */
lbs_status sc_check_score(const lbs_workload *wl, const lbs_worker *const *workers, uint32_t n,
                          const double *scores);

/*
 * How many workers to look for: SINGLE (and unknown allocations) 1;
 * SHARDED / REPLICATED up to min(max_shards, capacity), needing at least
 * max(1, min_shards).  A select that finds fewer than *need answers
 * LBS_NO_WORKER.
 */
void sc_shards(const lbs_workload *wl, uint32_t capacity, uint32_t *want,
               uint32_t *need);

/* ids[i] = workers[indices[i]]->id for i < k, n_selected = k, cookie. */
void sc_fill(lbs_selection *out, const lbs_worker *const *workers, uint32_t k,
             uint64_t cookie);

/*
 * The workers a decision placed work on after its first, by their ids'
 * hashes (wid_hash), for a scheduler that passes a child the child's own
 * cookie with each outcome of a sharded placement (adaptive, composite):
 * the child's ledger closes each worker's open work by it.  One ring for
 * every decision, which keeps where its hashes start and how many (at most
 * SC_PICKS_MAX); once the ring has gone round past them, those workers'
 * outcomes reach the child as ones without a decision.
 */
#define SC_PICKS 16384u
#define SC_PICKS_MAX 64u
typedef struct sc_picks {
	uint64_t h[SC_PICKS];
	uint64_t seq; /* hashes ever kept */
} sc_picks;

static inline void sc_picks_put(sc_picks *p, uint64_t h)
{
	p->h[p->seq++ % SC_PICKS] = h;
}

/* 1 when h is among the k hashes kept from `at` (p->seq then) and the
 * ring still holds them. */
int sc_picks_has(const sc_picks *p, uint64_t at, uint32_t k, uint64_t h);

/*
 * The end of a select that picked out->indices[0..found): counts it in c
 * and answers st when st is an error, LBS_NO_WORKER with sc_reason_none's
 * sentence when found is 0 or under `need`, else LBS_OK with out filled
 * in (sc_fill, cookie ++*cookie) for the caller to add its reason.  found
 * and need are not read when st is an error.
 */
lbs_status sc_select_end(sched_counters *c, lbs_status st, lbs_selection *out, const char *who,
                         const lbs_workload *wl, const lbs_worker *const *workers, uint32_t n,
                         double ceiling, uint32_t found, uint32_t need, uint64_t *cookie);

/* One sentence into out->reason when the caller gave a buffer. */
void sc_reason(lbs_selection *out, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * The reason for LBS_NO_WORKER: "<who>: no eligible worker among 6
 * (excluded 2, accelerator 4)", or when some were eligible but fewer than
 * the workload needs, "<who>: only 2 eligible workers, the workload needs
 * at least 3", or when out->capacity is below `need`, says so.  Scans the
 * workers only when out->reason is set.
 */
void sc_reason_none(lbs_selection *out, const char *who,
                    const lbs_workload *wl, const lbs_worker *const *workers,
                    uint32_t n, double ceiling, uint32_t found, uint32_t need);

/* explain(): {"scheduler", "reason", "chosen": [], "candidates": [],
 * "rejected": []}. */
typedef struct sc_explain {
	cJSON *root;
	cJSON *chosen;
	cJSON *candidates;
	cJSON *rejected;
	int oom; /* an add failed; reported by sc_explain_end */
	double *scores; /* scratch taken by sc_explain_open, freed by sc_explain_end */
	uint32_t *idx;
} sc_explain;

lbs_status sc_explain_begin(sc_explain *e, const char *scheduler);
/* A candidate object {"worker": id, "score": x}; add factors with
 * sc_explain_num / sc_explain_str.  NULL (and e->oom) when out of memory. */
cJSON *sc_explain_candidate(sc_explain *e, const char *id, double score);
void sc_explain_num(sc_explain *e, cJSON *obj, const char *key, double v);
void sc_explain_str(sc_explain *e, cJSON *obj, const char *key, const char *v);
void sc_explain_reject(sc_explain *e, const char *id, const char *reason);
void sc_explain_chosen(sc_explain *e, const char *id);
void sc_explain_reason(sc_explain *e, const char *reason);
/* Print, write through `write`, free (the scratch sc_explain_open took
 * too).  LBS_ENOMEM when anything failed. */
lbs_status sc_explain_end(sc_explain *e, lbs_write_fn write, void *ctx);

/* explain()'s argument check (LBS_EINVAL) and the workers select would
 * look for: *want at most n, *need the workload's minimum. */
lbs_status sc_explain_args(const lbs_workload *wl, const lbs_worker *const *workers, uint32_t n,
                           lbs_write_fn write, uint32_t *want, uint32_t *need);

/* scores[n] and idx[n] for an explain() that ranks like its select; both
 * NULL when n is 0.  LBS_ENOMEM with nothing allocated. */
lbs_status sc_explain_scratch(uint32_t n, double **scores, uint32_t **idx);

/* sc_explain_begin when st, the status of the work before it, is LBS_OK;
 * the explain then owns scores and idx (sc_explain_scratch's) and
 * sc_explain_end frees them.  Otherwise, or when begin fails, frees them
 * and returns the error, so that an explain() has one exit for failure. */
lbs_status sc_explain_open(sc_explain *e, const char *scheduler, lbs_status st, double *scores,
                           uint32_t *idx);

/* A rejected worker with the first requirement it failed. */
void sc_explain_reject_worker(sc_explain *e, const lbs_workload *wl, const lbs_worker *w,
                              double ceiling);

/* Writes a scheduler's reason sentence for sel (indices, n_selected set). */
typedef void (*sc_reason_fn)(lbs_selection *sel, const void *a, const void *b);

/*
 * The end of an explain() whose select would answer idx[0..found): the
 * chosen workers and the sentence select would write -- sc_reason_none when
 * found is 0 or under `need`, else reason(sel, a, b) -- then
 * sc_explain_end.
 */
lbs_status sc_explain_close(sc_explain *e, const char *who, const lbs_workload *wl,
                            const lbs_worker *const *workers, uint32_t n, double ceiling,
                            uint32_t *idx, uint32_t found, uint32_t need, sc_reason_fn reason,
                            const void *a, const void *b, lbs_write_fn write, void *ctx);

/*
 * A scheduler's explain() for these workers, parsed, into *doc (the
 * caller's, to cJSON_Delete): a composite or adaptive reading a child's
 * decision without moving it.  The child's error; LBS_ENOMEM out of
 * memory; LBS_EINTERNAL when its text is not JSON.
 */
lbs_status sc_explain_doc(const lbs_scheduler_desc *d, void *inst, const lbs_workload *wl,
                          const lbs_worker *const *workers, uint32_t n, cJSON **doc);

/* Log through the host when it offers a logger (host may be NULL). */
void sc_log(const lbs_host_api *host, int32_t level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
