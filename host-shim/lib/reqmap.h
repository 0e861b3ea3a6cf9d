/*
 * reqmap.h -- a request's values (nginx headers or variables) to a
 * workload.  The mapping the nginx module applies to every request, kept
 * apart from nginx so that it can be tested and fuzzed on its own.
 *
 * Request values are untrusted (docs/SECURITY.md): a value that is empty,
 * longer than RQ_MAX_VALUE bytes, has a character outside
 * [A-Za-z0-9_.:/,+-], is not a number in its field's range or names an
 * unknown backend is ignored -- the field keeps its default -- and the
 * reason is returned, never an error: a client must not be able to turn a
 * request into an error page by sending a header.
 */
#ifndef LBS_REQMAP_H
#define LBS_REQMAP_H

#include <stddef.h>
#include <stdint.h>

#include <lbsched/abi.h>

#define RQ_MAX_VALUE 256 /* longest value looked at, in bytes */

/* The fields, in the order of the module's lbsched_map directive. */
enum {
	RQ_TEST_TYPE, RQ_MODEL_ID, RQ_MIN_MEMORY, RQ_PRIORITY, RQ_REQUIRED_BACKEND,
	RQ_PREFERRED_BACKEND, RQ_EXPECTED_DURATION, RQ_DEADLINE, RQ_COUNT
};

/* A field's name in a log line: "test type", "min memory", ... */
extern const char *const rq_field_name[RQ_COUNT];

/* One value as the request gave it: not NUL-terminated; len 0 is absent. */
typedef struct rq_value {
	const char *data;
	size_t len;
} rq_value;

/* Where the strings the workload keeps (test type, model id) live: it must
 * last as long as the workload. */
typedef struct rq_text {
	char test_type[RQ_MAX_VALUE + 1];
	char model_id[RQ_MAX_VALUE + 1];
} rq_text;

/*
 * Fill *w from vals[RQ_COUNT] (a whole workload: struct_size set, defaults
 * for every field not given or ignored: priority 3, single allocation,
 * intensities 0.5).  why[i] is set to a short reason ("is longer than 256
 * bytes", ...) for each value that was given but ignored, else NULL.
 * Returns how many values were ignored.  Pure: no allocation, no I/O.
 */
int rq_workload(const rq_value vals[RQ_COUNT], rq_text *text, lbs_workload *w,
                const char *why[RQ_COUNT]);

#endif
