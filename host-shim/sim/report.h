/*
 * report.h -- the HTML report of `lbsched-shim simulate` (docs/REPORT.md).
 *
 * One self-contained page: inline CSS and static inline SVG, no scripts, no
 * network, so it opens offline and can be mailed or archived as one file.
 */
#ifndef LBS_REPORT_H
#define LBS_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

/*
 * Write the whole HTML document for a simulate result (the object that
 * `simulate --json` writes) to out.
 *
 * The result is checked in full before the first byte is written, so a bad
 * result leaves out untouched.  Returns 0, or -1 with one line in err naming
 * the field and the problem ("runs[1].curve: expected an array of [tests,
 * seconds] pairs, got a string"), or the write error.  Every string from the
 * result is escaped for HTML.  Never crashes on any input, NULL included.
 *
 * Thread rule: none; the result is only read.
 */
int report_html(FILE *out, const cJSON *result, char *err, size_t errlen);

/* One run of a subtask on a worker, for a graph's timeline. */
typedef struct report_bar {
	uint32_t lane;      /* index into lanes */
	const char *label;  /* the subtask */
	double start, finish;
	int ok;             /* 0: the run failed */
	int critical;       /* on the critical path */
} report_bar;

/* The end of a lane's name for a worker's extra row (the runs it had at
 * once): "<worker id> ·".  A long id is cut before it, never the mark. */
#define REPORT_LANE_MORE " \xc2\xb7"

/*
 * A workload graph's timeline (simulate --graphs --report): one lane per
 * worker, one bar per run, critical-path subtasks and failed runs marked,
 * on the same self-contained page style as report_html.  title and labels
 * are escaped; a lane's label shows at most 22 characters of its name (the
 * id, cut, and REPORT_LANE_MORE), the whole name in its tooltip.  0, or -1
 * with err (bad lane index, write error).
 */
int report_gantt_html(FILE *out, const char *title, const char *const *lanes, uint32_t n_lanes,
                      const report_bar *bars, size_t n, double makespan_s, char *err,
                      size_t errlen);

#endif
