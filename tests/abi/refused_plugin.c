/*
 * A plugin whose one scheduler no host may use: its select slot is NULL,
 * so the loader refuses it, and `lbsched-shim check` must say the plugin
 * is unusable rather than exit 0.
 */
#include <stdlib.h>

#include <lbsched/abi.h>

static lbs_status r_create(const lbs_host_api *host, const char *config, size_t len,
                           void **out, char *err, size_t errlen)
{
	(void)host;
	(void)config;
	(void)len;
	(void)err;
	(void)errlen;
	*out = NULL;
	return LBS_OK;
}

static void r_destroy(void *inst)
{
	(void)inst;
}

static const lbs_scheduler_desc refused = {
	.struct_size = sizeof(lbs_scheduler_desc),
	.name = "no-select",
	.description = "a scheduler without select",
	.create = r_create,
	.destroy = r_destroy,
};

#define PLUGIN_NAME "refused"
#define THE_SCHEDULER refused
#include "one_scheduler.h"
