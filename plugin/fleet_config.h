/*
 * fleet_config.h -- the "fleet" object of a store's config (see
 * fleet_config.c for the fields).
 */
#ifndef LBS_PLUGIN_FLEET_CONFIG_H
#define LBS_PLUGIN_FLEET_CONFIG_H

#include <stddef.h>

#include <cjson/cJSON.h>
#include <lbsched/abi.h>

#include "fleet_sync.h"

/* Read `obj` into o (which fleet_opts_free frees, also after an error).
 * LBS_ECONFIG with "config field 'fleet.address': ..." (one line), or
 * LBS_ENOMEM. */
lbs_status fleet_config_read(const cJSON *obj, fleet_opts *o, char *err, size_t errlen);

void fleet_opts_free(fleet_opts *o);

#endif
