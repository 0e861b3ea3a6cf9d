/*
 * fuzz_truth.c -- the simulator's truth file (truth_load, docs/SIMULATE.md)
 * for the fleet of examples/hetero, as `lbsched-shim simulate --truth`
 * reads it.
 *
 * A truth that is refused must say why in one line naming the file.  One
 * that is accepted must hold only what the simulator can run on: for every
 * fleet worker and workload type a finite speed > 0, a failure rate in
 * 0..1, a throttle factor in (0, 1] after a time >= 0 (or never), a
 * cooldown in 0..10^7 s, and a noise sigma in 0..5.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "convert.h"
#include "fuzz_env.h"
#include "truth.h"

#define WHERE "truth.json"

static lbs_worker **fleet;
static uint32_t n_fleet;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_sandbox(argc, argv);
	fuzz_fleet("hetero/fleet.json", &fleet, &n_fleet);
	return 0;
}

static void check(const truth *t)
{
	if (t->n != n_fleet)
		fuzz_fail("truth has %u workers, the fleet %u", t->n, n_fleet);
	if (!(t->noise_sigma >= 0 && t->noise_sigma <= 5))
		fuzz_fail("noise_sigma %g accepted", t->noise_sigma);
	for (uint32_t i = 0; i < t->n; i++) {
		const truth_worker *w = &t->w[i];
		for (uint32_t k = 0; k < LBS_WL_COUNT; k++)
			if (!(w->speed[k] > 0 && isfinite(w->speed[k])))
				fuzz_fail("worker %u: speed[%u] %g accepted", i, k, w->speed[k]);
		if (!(w->failure_rate >= 0 && w->failure_rate <= 1))
			fuzz_fail("worker %u: failure_rate %g accepted", i, w->failure_rate);
		if (!(w->throttle_factor > 0 && w->throttle_factor <= 1))
			fuzz_fail("worker %u: throttle_factor %g accepted", i, w->throttle_factor);
		if (!(w->throttle_after_s >= 0))
			fuzz_fail("worker %u: throttle_after_s %g accepted", i, w->throttle_after_s);
		if (!(w->cooldown_s >= 0 && w->cooldown_s <= 1e7))
			fuzz_fail("worker %u: cooldown_s %g accepted", i, w->cooldown_s);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512] = "";
	arena *a = arena_new();
	conv_ctx c = {a, NULL, NULL, err, sizeof err, NULL};
	truth t;

	if (!a)
		fuzz_fail("out of memory");
	if (truth_load(&c, (const char *)data, size, WHERE,
	               (const lbs_worker *const *)fleet, n_fleet, &t) == 0)
		check(&t);
	else
		fuzz_check_error(err, sizeof err, WHERE, "truth_load");
	arena_free(a);
	return 0;
}
