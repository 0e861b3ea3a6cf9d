/*
 * report_data.h -- a simulate result (the --json object) read and checked
 * into plain arrays, so the page renderer (report.c) draws from data it can
 * trust: every index in range, every matrix the right shape, every number
 * finite.  docs/REPORT.md describes the format.
 */
#ifndef LBS_REPORT_DATA_H
#define LBS_REPORT_DATA_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "arena.h"

/* A JSON null number reads as NAN; report_missing() tells. */
#define report_missing(d) ((d) != (d))

typedef struct report_xy {
	double x, y;
} report_xy;

typedef struct report_series {
	report_xy *p;
	size_t n;
} report_series;

typedef struct report_duration {
	double expected_s, actual_s;
	size_t type, worker;
} report_duration;

typedef struct report_run {
	const char *scheduler;
	double tests, completed, failures, deadline_misses, unplaced;
	/* NAN when null (no completed tests, or no oracle for the ratio) */
	double mean_s, p95_s, mean_after_warmup_s, makespan_s, throughput_per_s,
	       ratio_to_oracle, ratio_to_lower_bound;
	double *assignments;      /* [worker * ntypes + type]: tests placed */
	double *efficiency;       /* [type * nworkers + worker]: NAN when none ran */
	report_series curve;      /* x tests finished, y rolling mean s */
	report_series *thermal;   /* [worker]: x t_s, y temperature 0..1 */
	report_series *throttled; /* [worker]: x start_s, y end_s */
	report_duration *durations;
	size_t ndurations;
} report_run;

typedef struct report_result {
	/* scenario; NULL / NAN where the result has null */
	const char *workers_file, *truth_file, *mix_file, *tests_file;
	double tests, rate_per_s, seed, warmup, noise_sigma;
	double lower_bound_s; /* NAN when absent (a result from before it existed) */
	double curve_window;
	const char **worker_id; /* [nworkers] */
	double *capacity;       /* [nworkers] */
	const char **type;      /* [ntypes] */
	report_run *run;        /* [nruns], at least one */
	size_t nworkers, ntypes, nruns;
} report_result;

/*
 * Read `json` into *out.  Arrays live in `a`; strings point into `json`,
 * which must outlive *out.  Returns 0, or -1 with one line in err naming
 * the field and the problem ("runs[1].curve[3]: expected a [tests, seconds]
 * pair of numbers, got \"x\"").
 */
int report_read(const cJSON *json, arena *a, report_result *out,
                char *err, size_t errlen);

#endif
