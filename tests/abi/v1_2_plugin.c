/*
 * A plugin built against the frozen 1.2 header (tests/abi/v1.2/lbsched/
 * abi.h) that offers what 1.2 added, so that the current host is seen to
 * use a third party's "lbs.ext.fleet/1": a fleet with no Redis behind it.
 * totals_json answers one learned pair, and LBS_ECONFIG for a config
 * without "fleet" (it only looks for the word); sync answers LBS_EIO with a
 * reason.  Its one scheduler, "first-listed", takes the first worker not
 * excluded.
 */
#include <stdio.h>
#include <string.h>

#include <lbsched/abi.h>

#include "excluded.h"
#include "stub_instance.h"

static lbs_status fl_select(void *inst, const lbs_workload *wl,
                            const lbs_worker *const *workers, uint32_t n, lbs_selection *out)
{
	(void)inst;
	out->n_selected = 0;
	for (uint32_t i = 0; i < n; i++)
		if (!excluded(wl, workers[i]->id)) {
			out->indices[0] = i;
			out->ids[0] = workers[i]->id;
			out->n_selected = 1;
			if (out->reason && out->reason_len)
				snprintf(out->reason, out->reason_len, "first-listed");
			return LBS_OK;
		}
	return LBS_NO_WORKER;
}

static const lbs_scheduler_desc first_listed_desc = {
	.struct_size = sizeof(lbs_scheduler_desc),
	.name = "first-listed",
	.description = "the first worker not excluded (built against the frozen 1.2 header)",
	.create = stub_create,
	.destroy = stub_destroy,
	.select = fl_select,
};

/* config names a fleet: the word "fleet" is somewhere in its len bytes. */
static int names_fleet(const char *config, size_t len)
{
	for (size_t i = 0; config && i + 5 <= len; i++)
		if (!memcmp(config + i, "fleet", 5))
			return 1;
	return 0;
}

static lbs_status fl_totals(const lbs_host_api *host, const char *config, size_t len,
                            lbs_write_fn write, void *ctx, char *err, size_t errlen)
{
	static const char doc[] =
		"{\"schema\":3,\"records\":[\n{\"workload_type\":\"VISION\",\"worker\":\"v12-gpu\","
		"\"samples\":4,\"successes\":3,\"failures\":1,\"preference\":0.75,"
		"\"mean_duration\":2,\"var_duration\":0.25,\"last_update\":1700000000}\n]}\n";

	(void)host;
	if (!config || !write)
		return LBS_EINVAL;
	if (!names_fleet(config, len)) {
		snprintf(err, errlen, "v1.2 plugin: config field 'store.fleet': required");
		return LBS_ECONFIG;
	}
	/* In two pieces: a host must take the answer in pieces. */
	if (write(ctx, doc, 20) || write(ctx, doc + 20, sizeof doc - 1 - 20))
		return LBS_EIO;
	return LBS_OK;
}

static lbs_status fl_sync(const lbs_host_api *host, const char *config, size_t len,
                          lbs_write_fn write, void *ctx, char *err, size_t errlen)
{
	(void)host;
	(void)len;
	(void)ctx;
	if (!config || !write)
		return LBS_EINVAL;
	snprintf(err, errlen, "v1.2 plugin: redis://nowhere: this plugin has no Redis");
	return LBS_EIO;
}

static const lbs_ext_fleet fleet_ext = {
	.struct_size = sizeof(lbs_ext_fleet),
	.totals_json = fl_totals,
	.sync = fl_sync,
};

static const void *fl_extension(const char *id)
{
	return id && !strcmp(id, LBS_EXT_FLEET) ? &fleet_ext : NULL;
}

#define PLUGIN_NAME "v1.2-first-listed"
#define PLUGIN_VERSION "1.2.0"
#define THE_SCHEDULER first_listed_desc
#define THE_EXTENSIONS fl_extension
#include "one_scheduler.h"
