/*
 * plugin.c -- the entry point: the one exported symbol, init / deinit, and
 * the table of schedulers this plugin offers.
 *
 * To add a scheduler, define its `const lbs_scheduler_desc <name>` in its
 * own file (listed in meson.build) and add one X(<name>) line below.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <lbsched/abi.h>

#include "fleet_ext.h"
#include "store_ext.h"

#define PLUGIN_NAME "lbsched"
/* Informational only (hosts compare ABI versions, never this); keep it in
 * step with project() in the top-level meson.build. */
#define PLUGIN_VERSION "0.1.0"

#define SCHEDULERS(X)              \
	X(sched_roundrobin_desc)   \
	X(sched_priority_desc)     \
	X(sched_hwaware_desc)      \
	X(sched_composite_desc)    \
	X(sched_wrr_desc)          \
	X(sched_performance_desc)  \
	X(sched_affinity_desc)     \
	X(sched_adaptive_desc)

#define DECLARE(d) extern const lbs_scheduler_desc d;
SCHEDULERS(DECLARE)
#undef DECLARE

#define ENTRY(d) &d,
static const lbs_scheduler_desc *const schedulers[] = { SCHEDULERS(ENTRY) };
#undef ENTRY

#define N_SCHEDULERS ((uint32_t)(sizeof(schedulers) / sizeof(schedulers[0])))

/* How many inits are outstanding: one of the plugin's few mutable globals
 * (docs/SECURITY.md lists them all).  [load] calls are never concurrent
 * within one host, but two hosts in one process may each init the same
 * loaded copy, so it is guarded anyway. */
static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned init_count;

static lbs_status plugin_init(const lbs_host_api *host, char *err, size_t errlen)
{
	if (!host) {
		if (err && errlen)
			snprintf(err, errlen, PLUGIN_NAME ": init: host is NULL");
		return LBS_EINVAL;
	}
	if (host->struct_size < LBS_HOST_SIZE_V1_0 ||
	    host->abi_major != LBS_ABI_MAJOR) {
		if (err && errlen)
			snprintf(err, errlen,
			         PLUGIN_NAME " " PLUGIN_VERSION ": needs a host of ABI "
			         "%d.x (host API of at least %zu bytes); this host "
			         "offers ABI %u.%u (%u bytes)",
			         LBS_ABI_MAJOR, (size_t)LBS_HOST_SIZE_V1_0,
			         host->abi_major, host->abi_minor, host->struct_size);
		return LBS_EVERSION;
	}
	pthread_mutex_lock(&init_lock);
	init_count++;
	pthread_mutex_unlock(&init_lock);
	return LBS_OK;
}

static void plugin_deinit(void)
{
	pthread_mutex_lock(&init_lock);
	/* An unmatched deinit is a host bug; ignoring it keeps the count
	 * from wrapping. */
	if (init_count > 0)
		init_count--;
	pthread_mutex_unlock(&init_lock);
}

static uint32_t scheduler_count(void)
{
	return N_SCHEDULERS;
}

static const lbs_scheduler_desc *scheduler_get(uint32_t index)
{
	return index < N_SCHEDULERS ? schedulers[index] : NULL;
}

static const lbs_scheduler_desc *scheduler_find(const char *name)
{
	if (!name)
		return NULL;
	for (uint32_t i = 0; i < N_SCHEDULERS; i++)
		if (strcmp(schedulers[i]->name, name) == 0)
			return schedulers[i];
	return NULL;
}

static const void *get_extension(const char *id)
{
	if (id && !strcmp(id, LBS_EXT_STORE))
		return &store_ext;
	if (id && !strcmp(id, LBS_EXT_FLEET))
		return &fleet_ext;
	return NULL;
}

static const lbs_plugin_entry entry = {
	.struct_size = sizeof(lbs_plugin_entry),
	.abi_major = LBS_ABI_MAJOR,
	.abi_minor = LBS_ABI_MINOR,
	.reserved0 = 0,
	.plugin_name = PLUGIN_NAME,
	.plugin_version = PLUGIN_VERSION,
	.init = plugin_init,
	.deinit = plugin_deinit,
	.scheduler_count = scheduler_count,
	.scheduler_get = scheduler_get,
	.scheduler_find = scheduler_find,
	.get_extension = get_extension,
};

LBS_EXPORT const lbs_plugin_entry *lbs_plugin_entry_v1(void);

LBS_EXPORT const lbs_plugin_entry *lbs_plugin_entry_v1(void)
{
	return &entry;
}
