/*
 * lbsched_py.h -- the C side of the Python binding (liblbsched-py.so), a
 * tiny API for ctypes that speaks JSON text so that conversion goes through
 * the shim's own converters (host-shim/convert.h), never a second copy.
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

#define LBSPY_OK 0
#define LBSPY_EINPUT 1       /* bad input or config: the message says which field */
#define LBSPY_EREFUSED 2     /* the plugin was refused (ABI major, sizes, entry) */
#define LBSPY_EOPEN 3        /* the plugin file could not be opened */
#define LBSPY_EUNSUPPORTED 4 /* the scheduler lacks that slot (report, explain) */
#define LBSPY_ENOMEM 5
#define LBSPY_EFAILED 6      /* the scheduler refused the call */

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

/* One outcome object (convert.h conv_outcome). */
int lbspy_report(lbspy *h, const char *outcome_json, char *err, size_t errlen);

/* The plugin's explanation JSON for this test and fleet. */
int lbspy_explain(lbspy *h, const char *test_json, const char *workers_json,
                  char **out, char *err, size_t errlen);

/* The scheduler's stats JSON. */
int lbspy_stats(lbspy *h, char **out, char *err, size_t errlen);

/*
 * Benchmark support: convert once, then time `iters` selects in C through
 * the same handle.  *ns_per_select = mean nanoseconds per sched_select.
 */
int lbspy_bench(lbspy *h, const char *test_json, const char *workers_json,
                unsigned iters, double *ns_per_select, char *err, size_t errlen);

void lbspy_free(void *p);

#endif
