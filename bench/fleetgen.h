/*
 * fleetgen.h -- synthetic fleets and workloads for the benchmarks: a
 * realistic mix (CPU servers, CUDA GPU servers, TPU hosts, browsers, phones
 * with NPUs), built straight into ABI structs so the benchmark measures the
 * scheduler, not JSON parsing.  Deterministic for a given seed.
 */
#ifndef LBS_FLEETGEN_H
#define LBS_FLEETGEN_H

#include <stddef.h>
#include <stdint.h>

#include <lbsched/abi.h>

typedef struct genfleet {
	lbs_worker **workers; /* n pointers */
	uint32_t n;
	uint32_t n_devices;   /* over all workers */
	void *mem;            /* everything, freed by genfleet_free */
} genfleet;

/* n workers with 1..max_devices devices each (max_devices 1..4). */
genfleet genfleet_make(uint32_t n, uint32_t max_devices, uint64_t seed);
void genfleet_free(genfleet *f);

/* A stream of `n` mixed workloads, most of which most workers can take. */
lbs_workload *genworkloads_make(uint32_t n, uint64_t seed);

/* The reference every benchmark is compared with: one pass over the same
 * arrays that reads what a scheduler must read (load, memory, backends of
 * every device) and keeps the least loaded fitting worker. */
uint32_t bare_scan(const lbs_workload *wl, const lbs_worker *const *w, uint32_t n);

/* Monotonic nanoseconds. */
uint64_t now_ns(void);
/* The calling thread's CPU time in ns: on a loaded machine, wall time
 * also counts whatever ran while this thread waited for a core. */
uint64_t cpu_ns(void);

/* Rounds of a timing in ascending order, and their median (sorts v):
 * every benchmark reports the median round, and some its spread. */
void sort_doubles(double *v, size_t n);
double median_of(double *v, size_t n);

#endif
