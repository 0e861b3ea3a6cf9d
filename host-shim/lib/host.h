/*
 * host.h -- the shim's implementation of lbs_host_api: logging, a monotonic
 * clock (the coarse one where there is one: milliseconds), and a registry
 * of loaded plugins so that a composite scheduler can find children in any
 * plugin (find_scheduler / release_scheduler).
 */
#ifndef LBS_HOST_H
#define LBS_HOST_H

#include <stddef.h>

#include <lbsched/abi.h>

#include "loader.h"

typedef struct shim_host shim_host;

/* Log sink: the default writes "lbsched-shim: <level>: <msg>" to stderr
 * for levels >= min_level. */
typedef void (*host_log_fn)(void *ctx, int32_t level, const char *msg);

shim_host *host_new(const char *host_name, int32_t min_level);
/* Change the sink; thread-safe against plugins logging from their own
 * threads, and the old sink is not called once this returns. */
void host_set_log(shim_host *h, host_log_fn fn, void *ctx);
/* Unloads every plugin; every instance must be destroyed first. */
void host_free(shim_host *h);

/* How many lines of level LBS_LOG_ERROR or above were logged so far (a
 * caller compares two counts to tell whether a step, such as the store's
 * last commits as an instance ends, went wrong). */
uint64_t host_errors(shim_host *h);

/* Log through the host's sink (printf-style). */
void host_logf(shim_host *h, int32_t level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Load (or find already loaded: by the path as given, then by real path) a
 * plugin and return it with the host API to pass to its schedulers'
 * create().  Errors as loader_open.
 */
lbs_status host_load(shim_host *h, const char *path, loaded_plugin **out,
                     const lbs_host_api **api, char *err, size_t errlen);

/* $LBSCHED_PLUGIN when set and not empty, else the plugin built alongside
 * this program (next to the executable in a build tree), else the
 * installed path.  Static or environment string. */
const char *host_default_plugin(void);

/* host_default_plugin() in words, for a --plugin option's help. */
#define HOST_DEFAULT_PLUGIN_TEXT \
	"$LBSCHED_PLUGIN when set, else the one built alongside the shim, else the installed one"

#endif
