/*
 * scenario.h -- a simgen scenario (bench/simgen.py) as a benchmark's input:
 * its fleet.json (the original's worker capabilities) and mix.json (its test
 * types, memory, durations from 5 s to 600 s, priorities, CUDA-only
 * training) go through the real converter, as a host's records would, so
 * that a figure is measured on what a user's scheduler sees rather than on
 * fleetgen's structs.  simgen draws the fleet's classes and mix from its
 * seed: seeds 1-5 tune, 101-105 are held out and only reported.
 */
#ifndef LBS_BENCH_SCENARIO_H
#define LBS_BENCH_SCENARIO_H

#include <stddef.h>
#include <stdint.h>

#include "fleetgen.h"

typedef struct scenario {
	genfleet f;       /* f.mem unused: everything is in `arena` */
	lbs_workload *wl; /* n_wl tests drawn from the mix */
	uint32_t n_wl;
	void *arena;
} scenario;

/*
 * DIR/fleet.json and DIR/mix.json, with n_wl tests from the mix, and the
 * fleet in the state of one at `busy` (0..1) of its slots: each slot of a
 * worker runs a test with that chance, a full worker queues up to its
 * capacity more, and every util_* field is (running + queued) / capacity
 * as the simulator sets it (at most 1); a worker in ten is throttled.
 * Drawn from `seed`.  0, or -1 with a one-line message in err naming the
 * file and field.
 */
int scenario_load(const char *dir, uint32_t n_wl, double busy, uint64_t seed, scenario *out,
                  char *err, size_t errlen);
void scenario_free(scenario *s);

#endif
