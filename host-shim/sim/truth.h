/*
 * truth.h -- the simulator's hidden reality (docs/SIMULATE.md): how fast
 * each worker really runs each kind of work, how often it fails, and when
 * it throttles.  The schedulers never see it; the oracle does.
 *
 *   {"workers": {"<id>": {"speed": {"VISION": 4.0, "NLP": 2.5, "*": 1.0},
 *                         "failure_rate": 0.01,
 *                         "throttle_after_s": 600, "throttle_factor": 0.6,
 *                         "cooldown_s": 60},
 *                "*": {...}},
 *    "noise_sigma": 0.1}
 *
 * A test's real duration on a worker is
 *   expected_duration / (speed[type or "*"] x f) x exp(noise_sigma x z)
 * with z standard normal and f = throttle_factor when the test starts
 * throttle_after_s or more into the worker's heat streak, else 1.  A heat
 * streak begins when work starts on an idle worker and ends only when the
 * worker has then stayed idle for cooldown_s: a shorter pause does not cool
 * it.  A throttle_factor of 1 means the worker never throttles.
 */
#ifndef LBS_TRUTH_H
#define LBS_TRUTH_H

#include <stdint.h>

#include <lbsched/abi.h>

#include "convert.h"

/* Idle seconds that cool a throttled worker, when the truth names none:
 * a minute, about what a GPU heat sink needs to shed a sustained load. */
#define TRUTH_COOLDOWN_S 60.0

typedef struct truth_worker {
	double speed[LBS_WL_COUNT]; /* by LBS_WL_*, unnamed types at "*" */
	double failure_rate;        /* 0..1 */
	double throttle_after_s;    /* INFINITY when it never throttles */
	double throttle_factor;     /* 0 < f <= 1 */
	double cooldown_s;          /* idle seconds that end a heat streak */
} truth_worker;

typedef struct truth {
	truth_worker *w; /* one per fleet worker, in fleet order (arena) */
	uint32_t n;
	double noise_sigma;
	uint32_t named; /* bit LBS_WL_x: some entry gives a speed for type x by name */
} truth;

/*
 * Read a truth document for the given fleet.  Every fleet worker needs an
 * entry, or a "*" entry stands for those without one; an entry for a worker
 * the fleet does not have, a speed below 0.000001, an unknown workload type
 * or a value out of range is an error naming the file and field.  Results
 * live in c->arena.  0, or -1 with c->err set.
 */
int truth_load(conv_ctx *c, const char *text, size_t len, const char *file,
               const lbs_worker *const *workers, uint32_t n, truth *out);

#endif
