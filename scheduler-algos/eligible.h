/*
 * eligible.h -- the hard filter every scheduler shares, and the load figure.
 *
 * A worker is eligible for a workload when it is not excluded, it is not
 * over the load ceiling, it has every required accelerator, and at least one
 * of its devices passes every device requirement (backends, precisions,
 * features, memory, compute units).  No I/O, no allocation.
 */
#ifndef LBS_ELIGIBLE_H
#define LBS_ELIGIBLE_H

#include <stdint.h>

#include <lbsched/abi.h>

/* Why a worker was rejected, in the order the checks run. */
enum elig_reason {
	ELIG_OK = 0,
	ELIG_EXCLUDED,    /* in the workload's exclude list */
	ELIG_NO_DEVICE,   /* the worker has no devices */
	ELIG_BACKEND,     /* no device has every required backend */
	ELIG_PRECISION,   /* ... every required precision */
	ELIG_FEATURE,     /* ... every required feature */
	ELIG_MEMORY,      /* ... enough free memory */
	ELIG_COMPUTE,     /* ... enough compute units */
	ELIG_ACCEL,       /* the worker lacks a required accelerator count */
	ELIG_OVERLOADED   /* load above the ceiling */
};

/*
 * Check one worker.  `ceiling` is the load above which a worker takes no
 * more work (default 0.9; > 1 disables the check).  When `device_mask` is
 * not NULL it receives bit i set for each device i (i < 64) that passes the
 * device requirements.  Returns ELIG_OK or the reason of the check that
 * failed; for device checks, the furthest check any device reached.
 */
enum elig_reason elig_check(const lbs_workload *wl, const lbs_worker *w,
                            double ceiling, uint64_t *device_mask);

/* A plain-words sentence fragment for a reason, e.g. "lacks a required
 * backend".  Static string. */
const char *elig_reason_text(enum elig_reason r);

/* True when `id` is in the workload's exclude list. */
int elig_is_excluded(const lbs_workload *wl, const char *id);

/*
 * Load of a worker, 0..1: 0.3 cpu + 0.3 memory + 0.2 gpu + 0.1 io + 0.1
 * network, each clamped to 0..1 (NaN counts as 1, a sick worker).
 */
double worker_load(const lbs_worker *w);

/*
 * Effective load: the load plus the throughput lost while warming or
 * cooling, (1 - performance_level), capped at 1.
 */
double worker_effective_load(const lbs_worker *w);

/* Clamp to 0..1; NaN -> `nan_as`. */
double clamp01(double x, double nan_as);

#endif
