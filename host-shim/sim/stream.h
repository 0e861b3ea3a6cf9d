/*
 * stream.h -- the simulator's arriving tests: drawn from a mix (a Poisson
 * process at a rate, types by share, values uniform in ranges), or replayed
 * from JSON Lines of test requirements with an "arrival_s" each; either way
 * every test goes through the real converter (convert.h) into an
 * lbs_workload, exactly as a host would build it.
 *
 * MIX.json: [{"test_type": "vision_image_classification", "share": 0.2,
 *             "minimum_memory": [0.5, 4.0], "expected_duration": [15, 60],
 *             "priority": [1, 5], "required_backend": "cuda",
 *             "required_accelerators": {"npu": 1}, "deadline": [60, 300]}, ...]
 * A range may also be a single number.  Shares are relative weights.
 */
#ifndef LBS_STREAM_H
#define LBS_STREAM_H

#include <stdint.h>
#include <stdio.h>

#include <lbsched/abi.h>

#include "convert.h"

typedef struct sim_test {
	lbs_workload wl;     /* what the scheduler sees */
	double arrival_s;
	uint32_t type_index; /* into stream.types */
	/* Drawn once per test, so every scheduler of a comparison meets the
	 * same luck: the noise z (standard normal) and the failure draw u in
	 * (0, 1). */
	double z, u;
} sim_test;

typedef struct stream {
	sim_test *t;        /* n, by arrival (arena) */
	uint32_t n;
	const char **types; /* n_types test_type names, first seen first; "" for none */
	uint32_t n_types;
} stream;

/* The latest arrival_s a tests file may give, and so a generated stream:
 * past it the durations drown in the arrivals' rounding. */
#define STREAM_MAX_ARRIVAL_S 1e9

/*
 * n_tests from the mix document at `rate` tests per second, seeded.  When
 * `dump` is not NULL every test is also written to it as a JSON Lines
 * record that stream_from_lines reads back to the same stream.
 * 0, or -1 with c->err naming the file and field, or -2 when a test
 * would arrive past STREAM_MAX_ARRIVAL_S, c->err "test N would arrive at
 * T s" (n_tests and rate are at fault, not the file).
 */
int stream_from_mix(conv_ctx *c, const char *text, size_t len, const char *file,
                    uint32_t n_tests, double rate, uint64_t seed, FILE *dump,
                    stream *out);

/* The tests of a JSON Lines document (len bytes and a NUL, as file_read
 * gives; arrival_s required, never going back in time); `seed` draws the
 * noise and failures.  0, or -1 with c->err naming file:line and field. */
int stream_from_lines(conv_ctx *c, char *text, size_t len, const char *file, uint64_t seed,
                      FILE *dump, stream *out);

#endif
