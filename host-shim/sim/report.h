/*
 * report.h -- the HTML report of `lbsched-shim simulate` (docs/REPORT.md).
 *
 * One self-contained page: inline CSS and static inline SVG, no scripts, no
 * network, so it opens offline and can be mailed or archived as one file.
 */
#ifndef LBS_REPORT_H
#define LBS_REPORT_H

#include <stddef.h>
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

#endif
