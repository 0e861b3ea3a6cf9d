/*
 * A plugin that holds its host to the [load] rule: init and deinit run
 * while no other call is inside the plugin.  Its scheduler "slow" takes
 * 20 ms a select; init refuses to run while a select is inside ("init
 * while a select runs"), and deinit says "BREACH" on stderr if one is.
 * With LBS_LOAD_RULE_SLOW_INIT set, init takes 300 ms (a host's fork
 * while another thread is inside it).
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lbsched/abi.h>

#include "stub_instance.h"

static atomic_int in_data;

static lbs_status s_select(void *inst, const lbs_workload *wl,
                           const lbs_worker *const *workers, uint32_t n,
                           lbs_selection *out)
{
	struct timespec t = {0, 20000000};

	(void)inst;
	(void)wl;
	atomic_fetch_add(&in_data, 1);
	nanosleep(&t, NULL);
	atomic_fetch_sub(&in_data, 1);
	if (n == 0)
		return LBS_NO_WORKER;
	out->n_selected = 1;
	out->indices[0] = 0;
	out->ids[0] = workers[0]->id;
	out->cookie = 1;
	return LBS_OK;
}

static const lbs_scheduler_desc slow = {
	.struct_size = sizeof(lbs_scheduler_desc),
	.name = "slow",
	.description = "the first worker, after 20 ms",
	.create = stub_create,
	.destroy = stub_destroy,
	.select = s_select,
};

static lbs_status rule_init(const lbs_host_api *host, char *err, size_t errlen)
{
	struct timespec t = {0, 300000000};

	(void)host;
	if (getenv("LBS_LOAD_RULE_SLOW_INIT"))
		nanosleep(&t, NULL);
	if (atomic_load(&in_data)) {
		snprintf(err, errlen, "init while a select runs");
		return LBS_EINTERNAL;
	}
	return LBS_OK;
}

static void rule_deinit(void)
{
	if (atomic_load(&in_data))
		fputs("BREACH: deinit while a select runs\n", stderr);
}

#define PLUGIN_NAME "load-rule"
#define THE_SCHEDULER slow
#define THE_INIT rule_init
#define THE_DEINIT rule_deinit
#include "one_scheduler.h"
