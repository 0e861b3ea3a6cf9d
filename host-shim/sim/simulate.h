/*
 * simulate.h -- a discrete-event simulation of a fleet running a stream of
 * tests, with a scheduler deciding as a host would drive it: through the
 * real plugin and ABI (scheduler.h), or as the oracle that knows the truth.
 *
 * The model (docs/SIMULATE.md):
 *   - each test is placed when it arrives; a worker runs up to `capacity`
 *     tests at once and queues the rest first in, first out;
 *   - a placement can be made only when the scheduler answers; a test no
 *     worker can take now (every eligible one over its load ceiling) waits
 *     at the host; when a test finishes, the waiting tests the freed worker
 *     could take are offered again, oldest first, until one is placed; one
 *     no worker could ever take is counted unplaced at once;
 *   - real durations and failures follow the truth (truth.h), with each
 *     test's luck drawn once (stream.h), so every scheduler meets the same;
 *   - every decision sees the workers' dynamic state: running and queued
 *     tests, utilisation ((running + queued) / capacity, at most 1, in every
 *     util_* field), the nominal work ahead (pending_work_s), temperature
 *     (0..1, rising over a heat streak to 1 at throttle_after_s, 0 once the
 *     worker has been idle for the truth's cooldown_s) and, while
 *     throttled, LBS_THERMAL_COOLING with performance_level =
 *     throttle_factor;
 *   - every outcome is reported back at its finish time, so a learning
 *     scheduler learns exactly as in production.
 * The fleet's own load fields are ignored: a run starts idle.
 */
#ifndef LBS_SIMULATE_H
#define LBS_SIMULATE_H

#include <signal.h>
#include <stdint.h>

#include <lbsched/abi.h>

#include "scheduler.h"
#include "stream.h"
#include "truth.h"

typedef struct sim_setup {
	lbs_worker **workers; /* the fleet; its dynamic fields are overwritten */
	uint32_t n_workers;
	const truth *truth;
	const stream *stream;
	uint32_t warmup;       /* tests left out of the "after warm-up" mean */
	uint32_t curve_window; /* tests in each rolling mean */
	/* Called now and then with the fraction done; may be NULL. */
	void (*progress)(void *ctx, double done);
	void *progress_ctx;
	/* Nonzero (a signal came): the run ends before its next event; may
	 * be NULL. */
	const volatile sig_atomic_t *stop;
} sim_setup;

typedef struct sim_point {
	double x, y;
} sim_point;

typedef struct sim_series {
	sim_point *p;
	uint32_t n, cap;
} sim_series;

typedef struct sim_run {
	const char *name;
	uint32_t tests, completed, failures, deadline_misses, unplaced;
	uint32_t fell_back;     /* answers the host rejected (a misbehaving plugin) */
	double mean_s, p95_s, mean_after_warmup_s, makespan_s, throughput_per_s;
	uint32_t *assign;       /* [worker * n_types + type] tests placed */
	double *eff;            /* [type * n_workers + worker] mean expected/actual, NAN none */
	sim_series curve;       /* tests finished (arrival order) -> rolling mean s */
	sim_series *thermal;    /* per worker: (t, temperature), t since the first arrival */
	sim_series *throttled;  /* per worker: (start, end), since the first arrival */
	double (*durations)[4]; /* sample: expected, actual, type, worker */
	uint32_t n_durations;
	char *stats;            /* the scheduler's stats() after the run, or NULL */
} sim_run;

/*
 * Run the stream through one scheduler (`s`), or through the oracle when s
 * is NULL.  Fills *out (free it with sim_run_free).  0, or -1 with a one-line
 * message in err (out of memory); 1 when su->stop ended it, out->tests then
 * the tests that had arrived, and no figure made.
 */
int sim_execute(const sim_setup *su, shim_sched *s, const char *name, sim_run *out,
                char *err, size_t errlen);
void sim_run_free(sim_run *r, uint32_t n_workers);

/*
 * A lower bound on any scheduler's mean completion after warm-up: the mean
 * over the tests after warm-up that some worker could take of the test
 * run alone, at once, on its fastest eligible worker at the truth's speed
 * (no queue, no throttle, no noise).  NAN when there is no such test.
 * Reads the workers' static fields only, as a run leaves them.
 */
double sim_lower_bound(const sim_setup *su);

/* 1 when some worker, idle, could take some test of the stream (its hard
 * requirements alone), else 0; -1 out of memory. */
int sim_any_placeable(const sim_setup *su);

#endif
