/*
 * fuzz_fleet.c -- a worker-capabilities document (conv_fleet: an array of
 * workers or {"workers": [...]}, each through conv_worker), as
 * `decide --workers`, the nginx module and the Python binding read it.
 *
 * A fleet that converts is what the host hands every select, so the
 * example workloads are then placed on it through the shim's checked
 * select, and explained, by one of the schedulers: the input's length
 * picks which, so that each input always meets the same one (libFuzzer
 * needs that) and the four cost a quarter of what all of them would.  A fleet that does not convert
 * must be refused with one line naming the document.
 */
#include <stdint.h>
#include <string.h>

#include "convert.h"
#include "fuzz_env.h"

#define WHERE "fleet.json"

static shim_sched *scheds[4];
static const lbs_workload *wls;
static uint32_t n_wls;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_sandbox(argc, argv);
	fuzz_workloads(&wls, &n_wls);
	fuzz_four_scheds(scheds, 1);
	return 0;
}

static void warned(void *ctx, const char *msg)
{
	(void)ctx;
	fuzz_check_error(msg, strlen(msg) + 1, WHERE, "a converter warning");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512] = "";
	arena *a = arena_new();
	conv_ctx c = {a, warned, NULL, err, sizeof err, NULL};
	lbs_worker **w;
	uint32_t n;

	if (!a)
		fuzz_fail("out of memory");
	if (conv_fleet(&c, (const char *)data, size, WHERE, &w, &n) == 0) {
		if (n == 0)
			fuzz_fail("conv_fleet accepted an empty fleet");
		shim_sched *s = scheds[size % (sizeof scheds / sizeof scheds[0])];
		for (uint32_t k = 0; k < n_wls; k++)
			fuzz_select(s, &wls[k], w, n);
	} else {
		fuzz_check_error(err, sizeof err, WHERE, "conv_fleet");
	}
	arena_free(a);
	return 0;
}
