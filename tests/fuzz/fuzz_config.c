/*
 * fuzz_config.c -- a scheduler's JSON config, through the shim's
 * sched_open into the plugin's create() as any host does it.  Built once
 * per scheduler: FUZZ_SCHEDULER names it ("round-robin", "priority",
 * "hardware-aware", "composite").
 *
 * A config that is refused must say why in one line.  One that is accepted
 * gives an instance that must place the example workloads on the example
 * fleet through the shim's checked select, explain, count (stats), learn
 * from an outcome, and be destroyed without leaking.
 *
 * Configs that name a plugin file, or a store directory other than one
 * letter or digit inside the sandbox, or a store queue of more than 2^20
 * outcomes, are skipped (and kept out of the corpus): the fuzzer must not
 * dlopen arbitrary files, litter the disk or spend its memory limit on a
 * queue the operator asked for.
 */
#include <stdint.h>
#include <string.h>

#include "fuzz_env.h"

#ifndef FUZZ_SCHEDULER
#error "build with -DFUZZ_SCHEDULER=\"name\""
#endif

static const lbs_host_api *api;
static lbs_worker **fleet;
static uint32_t n_fleet;
static const lbs_workload *wls;
static uint32_t n_wls;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_sandbox(argc, argv);
	fuzz_plugin(&api);
	fuzz_fleet("fleet.json", &fleet, &n_fleet);
	fuzz_workloads(&wls, &n_wls);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	char err[1024] = "";
	shim_sched *s;
	lbs_status st;
	lbs_outcome o = {
		.struct_size = sizeof o,
		.workload_type = wls[0].type,
		.workload_id = wls[0].id,
		.test_type = wls[0].test_type,
		.worker_id = fleet[0]->id,
		.result = LBS_RESULT_SUCCESS,
		.duration_s = 40,
		.expected_duration_s = 60,
	};

	if (fuzz_config_unsafe(text, size))
		return -1;
	st = sched_open(fuzz_host(), fuzz_plugin_path(), FUZZ_SCHEDULER, text, size, &s, err, sizeof err);
	if (st != LBS_OK) {
		if (st != LBS_ECONFIG && st != LBS_EIO)
			fuzz_fail("create refused a config with %d (want ECONFIG or EIO): %s", (int)st,
			          err);
		fuzz_check_error(err, sizeof err, "scheduler '" FUZZ_SCHEDULER "': ", "create");
		return 0;
	}
	for (uint32_t k = 0; k < n_wls; k++)
		fuzz_select(s, &wls[k], fleet, n_fleet);
	st = sched_report(s, &o);
	if (st != LBS_OK && st != LBS_EUNSUPPORTED)
		fuzz_fail("report of a good outcome failed with %d", (int)st);
	fuzz_stats(s);
	sched_close(s);
	return 0;
}
