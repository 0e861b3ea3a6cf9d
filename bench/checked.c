/*
 * checked.c -- a benchmark's select (checked.h).
 */
#include "checked.h"

#include <stdio.h>
#include <stdlib.h>

lbs_status bench_select(shim_sched *s, const lbs_workload *wl,
                        const lbs_worker *const *workers, uint32_t n, lbs_selection *out)
{
	int fell_back = 0;
	lbs_status st = sched_select(s, wl, workers, n, out, &fell_back);

	if (fell_back || (st != LBS_OK && st != LBS_NO_WORKER)) {
		fprintf(stderr, "bench: scheduler '%s': %s (status %d); a host's answer is no "
		        "measure of the plugin: no figure\n", sched_desc(s)->name,
		        fell_back ? "its answer was refused and the host chose instead"
		                  : "select failed", (int)st);
		exit(1);
	}
	return st;
}
