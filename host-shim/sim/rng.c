/*
 * rng.c -- see rng.h.
 */
#include "rng.h"

#include <math.h>

void rng_seed(rng *r, uint64_t seed)
{
	r->s = seed;
}

uint64_t rng_next(rng *r)
{
	uint64_t z = (r->s += UINT64_C(0x9E3779B97F4A7C15));
	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

double rng_unit(rng *r)
{
	/* 53 random bits, shifted by half a step so 0 and 1 never come out:
	 * log() of it is always finite. */
	return ((double)(rng_next(r) >> 11) + 0.5) / 9007199254740992.0;
}

double rng_range(rng *r, double lo, double hi)
{
	return lo + (hi - lo) * rng_unit(r);
}

double rng_normal(rng *r)
{
	/* Box-Muller, one of the pair: simpler than keeping the spare, and
	 * the simulator draws few enough that the cost does not matter. */
	double u = rng_unit(r), v = rng_unit(r);
	return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

double rng_exp(rng *r, double rate)
{
	return -log(rng_unit(r)) / rate;
}
