/*
 * routing.h -- per-test-type routing in the host, the original's
 * set_scheduler_for_test_type: a routing document maps test types (exact
 * names, and prefixes) to scheduler configs, with a default.
 *
 *   {"routes": [{"test_type": "vision_classification",
 *                "scheduler": "hardware-aware", "plugin": "/x.so",
 *                "config": {...}},
 *               {"prefix": "vision_", "scheduler": ..., "config": {...}}],
 *    "default": {"scheduler": "hardware-aware", "config": {...}}}
 *
 * An exact name wins over any prefix, the longest prefix over shorter ones,
 * else the default (scheduler-algos/composite.h, comp_route_find).  Targets
 * with the same plugin, scheduler and config share one scheduler instance,
 * so what it learns or rotates is shared too.  The composite scheduler
 * reads the same document as its config and routes inside the plugin.
 */
#ifndef LBS_ROUTING_H
#define LBS_ROUTING_H

#include <stddef.h>

#include <lbsched/abi.h>

#include "host.h"
#include "scheduler.h"

typedef struct shim_router shim_router;

/* A scheduler to open: plugin NULL is the router's default plugin,
 * config NULL means all defaults. */
typedef struct router_target {
	const char *plugin;
	const char *scheduler;
	const char *config;
	size_t config_len;
	/* As a fallback: how the user named it ("--scheduler priority"), or
	 * NULL for a default nobody chose.  A document with its own "default"
	 * then is refused: one of the two would be ignored without a word. */
	const char *given;
	/* The file the config was read from (--config), or NULL: a config
	 * the scheduler refuses is named by it, not by the document's
	 * "default", where it is not. */
	const char *config_name;
} router_target;

/*
 * Read a routing document (`len` bytes, named `doc_name` in messages) and
 * open its schedulers in `h`.  `plugin` is the plugin of targets that name
 * none (NULL: host_default_plugin()).  `fallback` is the default route
 * when the document has no "default" (NULL: the document must have one;
 * one the user gave, `given`, and a "default" too: LBS_ECONFIG).
 * Errors: LBS_ECONFIG (the document; err names it and the field),
 * LBS_EINVAL / LBS_EVERSION (a plugin or scheduler, as sched_open),
 * LBS_ENOMEM.  One line in err.
 */
lbs_status router_open(shim_host *h, const char *doc, size_t len,
                       const char *doc_name, const char *plugin,
                       const router_target *fallback, shim_router **out,
                       char *err, size_t errlen);

/* The scheduler for test_type (NULL: the default's), never NULL.  *route
 * (when route is not NULL) names the route taken, e.g. "prefix 'vision_'"
 * or "default"; valid until router_close. */
shim_sched *router_pick(const shim_router *r, const char *test_type,
                        const char **route);

/* Closes every scheduler it opened. */
void router_close(shim_router *r);

#endif
