/*
 * store_config.h -- open a learning scheduler's store from its config, and
 * report the store in stats().  See store_config.c for the fields.
 */
#ifndef LBS_PLUGIN_STORE_CONFIG_H
#define LBS_PLUGIN_STORE_CONFIG_H

#include <stddef.h>

#include <cjson/cJSON.h>
#include <lbsched/abi.h>

#include "store.h"

/* The scheduler's known_fields must include "store".  Without a "store"
 * object the store is memory-only (logged at info).  Errors: LBS_ECONFIG
 * ("config field 'store.alpha': ..."), LBS_EIO (the store would not open),
 * LBS_ENOMEM. */
lbs_status store_config_open(const cJSON *cfg, const lbs_host_api *host,
                             const char *who, store **out, char *err,
                             size_t errlen);

/* ",\"learned_pairs\":N,\"store\":{...}" for sc_stats's `extra`. */
void store_stats_json(store *s, char *buf, size_t len);

#endif
