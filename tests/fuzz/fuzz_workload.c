/*
 * fuzz_workload.c -- one JSON Lines record as the shim reads it, both as
 * test requirements (conv_workload_text, what `decide --tests` and the
 * Python binding read) and as an outcome (conv_outcome_text, `--feedback`).
 *
 * A record that converts is a workload the host will hand to a plugin, so
 * it is then placed on the example fleet through the shim's checked
 * select, and explained, by one of the schedulers: the input's length
 * picks which, so that each input always meets the same one (libFuzzer
 * needs that) and the four cost a quarter of what all of them would.  An
 * outcome naming a fleet worker is reported to that scheduler.  A record that does not convert
 * must be refused with one line naming it.
 */
#include <stdint.h>
#include <string.h>

#include "convert.h"
#include "fuzz_env.h"

#define WHERE "tests.jsonl:1"

static shim_sched *scheds[4];
static lbs_worker **fleet;
static uint32_t n_fleet;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_sandbox(argc, argv);
	fuzz_fleet("fleet.json", &fleet, &n_fleet);
	fuzz_four_scheds(scheds, 0);
	return 0;
}

static void warned(void *ctx, const char *msg)
{
	(void)ctx;
	fuzz_check_error(msg, strlen(msg) + 1, WHERE, "a converter warning");
}

static int in_fleet(const char *id)
{
	for (uint32_t i = 0; i < n_fleet; i++)
		if (!strcmp(fleet[i]->id, id))
			return 1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	char err[512];
	arena *a = arena_new();
	conv_ctx c = {a, warned, NULL, err, sizeof err, NULL};
	lbs_workload wl;
	lbs_outcome o;
	shim_sched *s = scheds[size % (sizeof scheds / sizeof scheds[0])];

	if (!a)
		fuzz_fail("out of memory");
	err[0] = '\0';
	if (conv_workload_text(&c, text, size, WHERE, &wl) == 0) {
		fuzz_select(s, &wl, fleet, n_fleet);
	} else {
		fuzz_check_error(err, sizeof err, WHERE, "conv_workload_text");
	}
	err[0] = '\0';
	if (conv_outcome_text(&c, text, size, WHERE, &o) == 0) {
		/* Only fleet workers: learned state must not grow with every
		 * id the fuzzer invents. */
		if (o.worker_id && in_fleet(o.worker_id)) {
			lbs_status st = sched_report(s, &o);
			if (st != LBS_OK && st != LBS_EUNSUPPORTED)
				fuzz_fail("%s: report of a converted outcome failed with %d",
				          sched_desc(s)->name, (int)st);
		}
	} else {
		fuzz_check_error(err, sizeof err, WHERE, "conv_outcome_text");
	}
	arena_free(a);
	return 0;
}
