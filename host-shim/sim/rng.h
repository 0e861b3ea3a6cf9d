/*
 * rng.h -- a small deterministic random source for the simulator: the same
 * seed gives the same numbers on every machine and every libc (rand() and
 * drand48() do not promise that).  splitmix64 underneath.
 */
#ifndef LBS_RNG_H
#define LBS_RNG_H

#include <stdint.h>

typedef struct rng {
	uint64_t s;
} rng;

void rng_seed(rng *r, uint64_t seed);
uint64_t rng_next(rng *r);
double rng_unit(rng *r);                        /* uniform in (0, 1) */
double rng_range(rng *r, double lo, double hi); /* uniform in [lo, hi] */
double rng_normal(rng *r);                      /* standard normal */
double rng_exp(rng *r, double rate);            /* exponential, mean 1/rate */

#endif
