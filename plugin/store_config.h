/*
 * store_config.h -- open a learning scheduler's store from its config, and
 * report the store in stats().  See store_config.c for the fields.
 */
#ifndef LBS_PLUGIN_STORE_CONFIG_H
#define LBS_PLUGIN_STORE_CONFIG_H

#include <stddef.h>

#include <cjson/cJSON.h>
#include <lbsched/abi.h>

#include "sched_util.h"
#include "store.h"

/* The scheduler's known_fields must include "store".  Without a "store"
 * object the store is memory-only (logged at info).  Errors: LBS_ECONFIG
 * ("config field 'store.alpha': ..."), LBS_EIO (the store would not open),
 * LBS_ENOMEM. */
lbs_status store_config_open(const cJSON *cfg, const lbs_host_api *host,
                             const char *who, store **out, char *err,
                             size_t errlen);

/* store_config_open() for a store of keys alone (affinity's): its
 * fields of learning (alpha, half_life_s, batch_*, block_ms, queue_max,
 * max_pairs, fleet) are refused as unread ("config field 'store.alpha':
 * unread: ..."), and it sets and meets no other scheduler's rules of
 * learning on a shared directory.  store_config_keys_only() takes those
 * fields out of a store object handed on to such a scheduler. */
lbs_status store_config_open_keys(const cJSON *cfg, const lbs_host_api *host,
                                  const char *who, store **out, char *err, size_t errlen);
void store_config_keys_only(cJSON *store);
/* The first field of learning a store object has, or NULL. */
const char *store_config_learn_field(const cJSON *store);

/* The "store" object of cfg into o, its "fleet" checked but left aside
 * (o->fleet NULL); the strings point into cfg.  LBS_ECONFIG without one,
 * or without its "path" when need_path. */
lbs_status store_config_read(const cJSON *cfg, store_opts *o, int need_path, char *err,
                             size_t errlen);

/* A child that learns each outcome into a store: its name, the config
 * field that gives it the store and the store's path. */
typedef struct store_learner {
	const char *who;
	const char *field;
	const char *path;
	int group; /* 0, or a router's: one route's learners never see another's outcomes */
} store_learner;

/* Children that each get every outcome (adaptive's, a blend's) must learn
 * into different stores, or each outcome counts twice.  Paths are
 * compared by the directory they name (a trailing '/', "./", a relative
 * path against an absolute one, a symbolic link), whether or not it exists
 * yet.  LBS_ECONFIG naming the later child's field and the earlier one. */
lbs_status store_learners_apart(const store_learner *l, size_t n, char *err, size_t errlen);

/* The learners of an adaptive config as store_learners_apart takes them
 * (each child that learns outcomes, with the store it learns into: its
 * own config's or the shared one it is given), at most 8, into l with
 * their fields ("store" or "config.NAME.store") in fields.  For a
 * composite's check of its children; a config adaptive would refuse gives
 * what can be read of it (adaptive's create names the fault). */
size_t adapt_store_learners(const cJSON *cfg, store_learner *l, char (*fields)[64]);

/* Whether two store paths name one directory, as store_learners_apart
 * compares them. */
int store_same_dir(const char *a, const char *b);

/* report() of a learning scheduler: into its store, counted in `n`. */
lbs_status store_learn(store *s, sched_counters *n, const lbs_outcome *o);

/* stats() of a learning scheduler: its counters plus
 * ",\"learned_pairs\":N,\"store\":{...}" and `extra` (",\"key\":value...",
 * or NULL). */
lbs_status store_sched_stats(const char *name, store *s, const sched_counters *n,
                             const char *extra, lbs_write_fn write, void *ctx);

#endif
