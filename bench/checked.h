/*
 * checked.h -- a benchmark's select: the plugin's own answer, or no figure.
 */
#ifndef LBS_BENCH_CHECKED_H
#define LBS_BENCH_CHECKED_H

#include "scheduler.h"

/*
 * sched_select, for a measurement.  An answer the host refused and replaced
 * with its own rotation, or an error, is no measure of the plugin: the
 * process ends (exit 1) saying which scheduler and why, before any figure
 * is printed.  Returns LBS_OK or LBS_NO_WORKER.
 */
lbs_status bench_select(shim_sched *s, const lbs_workload *wl,
                        const lbs_worker *const *workers, uint32_t n, lbs_selection *out);

#endif
