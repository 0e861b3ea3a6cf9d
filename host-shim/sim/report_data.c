/*
 * report_data.c -- read and check a simulate result for the report.
 *
 * Everything is checked before anything is drawn, so the renderer never
 * meets a short row, an index out of range or a string where a number
 * belongs, and a bad file produces no half-written page.
 */
#include "report_data.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define FORMAT_VERSION 1

#define NULLABLE 1u /* null reads as NAN */
#define NONNEG 2u
#define OPTIONAL 4u /* absent reads as NAN (or NULL for strings) */

typedef struct rd {
	arena *a;
	char *err;
	size_t errlen;
} rd;

/* A path into the document, for messages: "runs[1].curve[3]".  The
 * document's own keys are never part of it, so it stays short; a cut one
 * would still say where. */
typedef struct path {
	char s[160];
} path;

static path key(const char *parent, const char *k)
{
	path p;
	if (snprintf(p.s, sizeof p.s, "%s%s%s", parent, *parent ? "." : "", k) < 0)
		p.s[0] = '\0';
	return p;
}

static path idx(const char *parent, size_t i)
{
	path p;
	if (snprintf(p.s, sizeof p.s, "%s[%zu]", parent, i) < 0)
		p.s[0] = '\0';
	return p;
}

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int fail(rd *r, const char *where, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (r->errlen)
		snprintf(r->err, r->errlen, "%s: %s", *where ? where : "result", msg);
	return -1;
}

static int oom(rd *r, const char *where)
{
	return fail(r, where, "out of memory");
}

static const char *what(const cJSON *it)
{
	if (!it)
		return "nothing";
	if (cJSON_IsNumber(it))
		return isfinite(it->valuedouble) ? "a number" : "a number out of range";
	if (cJSON_IsString(it))
		return "a string";
	if (cJSON_IsBool(it))
		return "a boolean";
	if (cJSON_IsNull(it))
		return "null";
	if (cJSON_IsArray(it))
		return "an array";
	if (cJSON_IsObject(it))
		return "an object";
	return "an invalid value";
}

static void *alloc_array(rd *r, size_t n, size_t size, const char *where)
{
	void *p;

	if (n && size > SIZE_MAX / n) {
		oom(r, where);
		return NULL;
	}
	p = arena_alloc(r->a, n ? n * size : 1);
	if (!p)
		oom(r, where);
	return p;
}

static int count(const cJSON *arr)
{
	return cJSON_GetArraySize(arr);
}

static int num(rd *r, const cJSON *it, const char *where, unsigned flags,
               double *out)
{
	if ((!it && (flags & OPTIONAL)) || (cJSON_IsNull(it) && (flags & NULLABLE))) {
		*out = NAN;
		return 0;
	}
	if (!it)
		return fail(r, where, "missing");
	if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble))
		return fail(r, where, "expected a number%s, got %s",
		            flags & NULLABLE ? " or null" : "", what(it));
	if ((flags & NONNEG) && it->valuedouble < 0)
		return fail(r, where, "expected a number >= 0, got %g",
		            it->valuedouble);
	*out = it->valuedouble;
	return 0;
}

static int get_num(rd *r, const cJSON *obj, const char *parent, const char *k,
                   unsigned flags, double *out)
{
	return num(r, cJSON_GetObjectItemCaseSensitive(obj, k), key(parent, k).s,
	           flags, out);
}

static int get_str(rd *r, const cJSON *obj, const char *parent, const char *k,
                   unsigned flags, const char **out)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, k);

	*out = NULL;
	if ((!it && (flags & OPTIONAL)) || (cJSON_IsNull(it) && (flags & NULLABLE)))
		return 0;
	if (!it)
		return fail(r, key(parent, k).s, "missing");
	if (!cJSON_IsString(it))
		return fail(r, key(parent, k).s, "expected a string%s, got %s",
		            flags & NULLABLE ? " or null" : "", what(it));
	*out = it->valuestring;
	return 0;
}

/* The array at obj.k, which must exist. */
static const cJSON *get_arr(rd *r, const cJSON *obj, const char *parent,
                            const char *k, const char *of)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, k);

	if (!it) {
		fail(r, key(parent, k).s, "missing");
		return NULL;
	}
	if (!cJSON_IsArray(it)) {
		fail(r, key(parent, k).s, "expected an array of %s, got %s", of,
		     what(it));
		return NULL;
	}
	return it;
}

/* An array of [x, y] pairs ("[tests, seconds]"). */
static int read_pairs(rd *r, const cJSON *it, const char *where,
                      const char *pair, report_series *out)
{
	const cJSON *e;
	size_t i = 0;

	if (!cJSON_IsArray(it))
		return fail(r, where, "expected an array of %s pairs, got %s", pair,
		            what(it));
	out->n = (size_t)count(it);
	out->p = alloc_array(r, out->n, sizeof *out->p, where);
	if (!out->p)
		return -1;
	cJSON_ArrayForEach(e, it) {
		const cJSON *x = cJSON_GetArrayItem(e, 0), *y = cJSON_GetArrayItem(e, 1);
		if (!cJSON_IsArray(e))
			return fail(r, idx(where, i).s, "expected a %s pair, got %s", pair,
			            what(e));
		if (count(e) != 2)
			return fail(r, idx(where, i).s, "expected a %s pair, got %d value%s",
			            pair, count(e), count(e) == 1 ? "" : "s");
		if (!cJSON_IsNumber(x) || !cJSON_IsNumber(y) ||
		    !isfinite(x->valuedouble) || !isfinite(y->valuedouble))
			return fail(r, idx(where, i).s, "expected a %s pair of numbers, got [%s, %s]",
			            pair, what(x), what(y));
		out->p[i].x = x->valuedouble;
		out->p[i].y = y->valuedouble;
		i++;
	}
	return 0;
}

/* A rows x cols matrix of numbers ("one per worker"). */
static int read_matrix(rd *r, const cJSON *obj, const char *parent,
                       const char *k, size_t rows, const char *row_is,
                       size_t cols, const char *col_is, unsigned flags,
                       double *out)
{
	const cJSON *m = get_arr(r, obj, parent, k, "rows"), *row;
	path where = key(parent, k);
	size_t i = 0;

	if (!m)
		return -1;
	if ((size_t)count(m) != rows)
		return fail(r, where.s, "expected %zu rows (one per %s), got %d",
		            rows, row_is, count(m));
	cJSON_ArrayForEach(row, m) {
		path rw = idx(where.s, i);
		const cJSON *e;
		size_t j = 0;
		if (!cJSON_IsArray(row) || (size_t)count(row) != cols)
			return fail(r, rw.s, "expected an array of %zu numbers (one per %s), got %s",
			            cols, col_is, what(row));
		cJSON_ArrayForEach(e, row) {
			if (num(r, e, idx(rw.s, j).s, flags, &out[i * cols + j]))
				return -1;
			j++;
		}
		i++;
	}
	return 0;
}

/* One series per worker ("thermal", "throttled"). */
static int read_per_worker(rd *r, const cJSON *obj, const char *parent,
                           const char *k, size_t nworkers, const char *pair,
                           report_series **out)
{
	const cJSON *arr = get_arr(r, obj, parent, k, "one list per worker"), *e;
	path where = key(parent, k);
	size_t i = 0;

	if (!arr)
		return -1;
	if ((size_t)count(arr) != nworkers)
		return fail(r, where.s, "expected %zu lists (one per worker), got %d",
		            nworkers, count(arr));
	*out = alloc_array(r, nworkers, sizeof **out, where.s);
	if (!*out)
		return -1;
	cJSON_ArrayForEach(e, arr) {
		if (read_pairs(r, e, idx(where.s, i).s, pair, &(*out)[i]))
			return -1;
		i++;
	}
	return 0;
}

/* An index into workers or types, given as a JSON number. */
static int read_index(rd *r, const cJSON *it, const char *where, size_t n,
                      const char *of, size_t *out)
{
	/* num() sets it whenever it returns 0; GCC's release build cannot
	 * see that, and a NaN would fail the range test below anyway. */
	double d = NAN;

	if (num(r, it, where, 0, &d))
		return -1;
	if (d < 0 || d != floor(d) || d >= (double)n)
		return fail(r, where, "%s index %g out of range (%zu %ss)", of, d, n,
		            of);
	*out = (size_t)d;
	return 0;
}

static int read_durations(rd *r, const cJSON *obj, const char *parent,
                          const report_result *res, report_run *run)
{
	const cJSON *arr = get_arr(r, obj, parent, "durations",
	                           "[expected_s, actual_s, type, worker]"), *e;
	path where = key(parent, "durations");
	size_t i = 0;

	if (!arr)
		return -1;
	run->ndurations = (size_t)count(arr);
	run->durations = alloc_array(r, run->ndurations, sizeof *run->durations,
	                             where.s);
	if (!run->durations)
		return -1;
	cJSON_ArrayForEach(e, arr) {
		path ew = idx(where.s, i);
		report_duration *d = &run->durations[i];
		if (!cJSON_IsArray(e) || count(e) != 4)
			return fail(r, ew.s,
			            "expected [expected_s, actual_s, type index, worker index], got %s",
			            what(e));
		if (num(r, cJSON_GetArrayItem(e, 0), idx(ew.s, 0).s, NONNEG, &d->expected_s) ||
		    num(r, cJSON_GetArrayItem(e, 1), idx(ew.s, 1).s, NONNEG, &d->actual_s) ||
		    read_index(r, cJSON_GetArrayItem(e, 2), idx(ew.s, 2).s, res->ntypes,
		               "type", &d->type) ||
		    read_index(r, cJSON_GetArrayItem(e, 3), idx(ew.s, 3).s, res->nworkers,
		               "worker", &d->worker))
			return -1;
		i++;
	}
	return 0;
}

static int read_run(rd *r, const cJSON *obj, const char *where,
                    const report_result *res, report_run *run)
{
	static const struct {
		const char *key;
		size_t off;
		unsigned flags;
	} nums[] = {
		{"tests", offsetof(report_run, tests), NONNEG},
		{"completed", offsetof(report_run, completed), NONNEG},
		{"failures", offsetof(report_run, failures), NONNEG},
		{"deadline_misses", offsetof(report_run, deadline_misses), NONNEG},
		{"unplaced", offsetof(report_run, unplaced), NONNEG},
		{"mean_completion_s", offsetof(report_run, mean_s), NULLABLE},
		{"p95_completion_s", offsetof(report_run, p95_s), NULLABLE},
		{"mean_completion_after_warmup_s",
		 offsetof(report_run, mean_after_warmup_s), NULLABLE},
		{"makespan_s", offsetof(report_run, makespan_s), NULLABLE},
		{"throughput_per_s", offsetof(report_run, throughput_per_s), NULLABLE},
		{"ratio_to_oracle", offsetof(report_run, ratio_to_oracle), NULLABLE},
		{"ratio_to_lower_bound", offsetof(report_run, ratio_to_lower_bound),
		 NULLABLE | OPTIONAL},
	};
	size_t nw = res->nworkers, nt = res->ntypes, i;

	if (!cJSON_IsObject(obj))
		return fail(r, where, "expected an object, got %s", what(obj));
	if (get_str(r, obj, where, "scheduler", 0, &run->scheduler))
		return -1;
	for (i = 0; i < sizeof nums / sizeof nums[0]; i++)
		if (get_num(r, obj, where, nums[i].key, nums[i].flags,
		            (double *)(void *)((char *)run + nums[i].off)))
			return -1;
	run->assignments = alloc_array(r, nw * nt, sizeof(double), where);
	run->efficiency = alloc_array(r, nw * nt, sizeof(double), where);
	if (!run->assignments || !run->efficiency)
		return -1;
	if (read_matrix(r, obj, where, "assignments", nw, "worker", nt, "type",
	                NONNEG, run->assignments) ||
	    read_matrix(r, obj, where, "efficiency", nt, "type", nw, "worker",
	                NULLABLE | NONNEG, run->efficiency))
		return -1;
	{
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(obj, "curve");
		path cw = key(where, "curve");
		if (!c)
			return fail(r, cw.s, "missing");
		if (read_pairs(r, c, cw.s, "[tests, seconds]", &run->curve))
			return -1;
	}
	if (read_per_worker(r, obj, where, "thermal", nw, "[t_s, temperature]",
	                    &run->thermal) ||
	    read_per_worker(r, obj, where, "throttled", nw, "[start_s, end_s]",
	                    &run->throttled))
		return -1;
	return read_durations(r, obj, where, res, run);
}

static int read_scenario(rd *r, const cJSON *root, report_result *out)
{
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(root, "scenario");
	const char *w = "scenario";

	if (!s)
		return fail(r, w, "missing");
	if (!cJSON_IsObject(s))
		return fail(r, w, "expected an object, got %s", what(s));
	/* A replayed stream has no rate and no mix; a file may be absent. */
	return get_str(r, s, w, "workers_file", NULLABLE | OPTIONAL, &out->workers_file) ||
	       get_str(r, s, w, "truth_file", NULLABLE | OPTIONAL, &out->truth_file) ||
	       get_str(r, s, w, "mix_file", NULLABLE | OPTIONAL, &out->mix_file) ||
	       get_str(r, s, w, "tests_file", NULLABLE | OPTIONAL, &out->tests_file) ||
	       get_num(r, s, w, "tests", NONNEG, &out->tests) ||
	       get_num(r, s, w, "rate_per_s", NULLABLE | NONNEG, &out->rate_per_s) ||
	       get_num(r, s, w, "seed", 0, &out->seed) ||
	       get_num(r, s, w, "warmup", NONNEG, &out->warmup) ||
	       get_num(r, s, w, "noise_sigma", NULLABLE | NONNEG, &out->noise_sigma) ||
	       get_num(r, s, w, "lower_bound_after_warmup_s", NULLABLE | NONNEG | OPTIONAL,
	               &out->lower_bound_s)
	               ? -1 : 0;
}

static int read_workers(rd *r, const cJSON *root, report_result *out)
{
	const cJSON *arr = get_arr(r, root, "", "workers", "{id, capacity} objects"), *e;
	size_t i = 0;

	if (!arr)
		return -1;
	out->nworkers = (size_t)count(arr);
	if (!out->nworkers)
		return fail(r, "workers", "empty; a simulation has at least one worker");
	out->worker_id = alloc_array(r, out->nworkers, sizeof *out->worker_id, "workers");
	out->capacity = alloc_array(r, out->nworkers, sizeof *out->capacity, "workers");
	if (!out->worker_id || !out->capacity)
		return -1;
	cJSON_ArrayForEach(e, arr) {
		path w = idx("workers", i);
		if (!cJSON_IsObject(e))
			return fail(r, w.s, "expected an object, got %s", what(e));
		if (get_str(r, e, w.s, "id", 0, &out->worker_id[i]) ||
		    get_num(r, e, w.s, "capacity", NONNEG, &out->capacity[i]))
			return -1;
		i++;
	}
	return 0;
}

static int read_types(rd *r, const cJSON *root, report_result *out)
{
	const cJSON *arr = get_arr(r, root, "", "types", "test_type names"), *e;
	size_t i = 0;

	if (!arr)
		return -1;
	out->ntypes = (size_t)count(arr);
	out->type = alloc_array(r, out->ntypes, sizeof *out->type, "types");
	if (!out->type)
		return -1;
	cJSON_ArrayForEach(e, arr) {
		if (!cJSON_IsString(e))
			return fail(r, idx("types", i).s, "expected a string, got %s", what(e));
		out->type[i++] = e->valuestring;
	}
	return 0;
}

int report_read(const cJSON *json, arena *a, report_result *out,
                char *err, size_t errlen)
{
	rd r = {a, err, errlen};
	const cJSON *v, *runs, *e;
	size_t i = 0;

	memset(out, 0, sizeof *out);
	if (!cJSON_IsObject(json))
		return fail(&r, "", "expected a JSON object (lbsched-shim simulate --json), got %s",
		            what(json));
	v = cJSON_GetObjectItemCaseSensitive(json, "lbsched_simulate");
	if (!v)
		return fail(&r, "lbsched_simulate", "missing; not a simulate result");
	if (!cJSON_IsNumber(v))
		return fail(&r, "lbsched_simulate", "expected the format number %d, got %s",
		            FORMAT_VERSION, what(v));
	if (v->valuedouble != FORMAT_VERSION)
		return fail(&r, "lbsched_simulate",
		            "format %g, but this lbsched-shim reads format %d",
		            v->valuedouble, FORMAT_VERSION);
	if (read_scenario(&r, json, out) || read_workers(&r, json, out) ||
	    read_types(&r, json, out) ||
	    get_num(&r, json, "", "curve_window", NONNEG, &out->curve_window))
		return -1;
	runs = get_arr(&r, json, "", "runs", "run objects");
	if (!runs)
		return -1;
	out->nruns = (size_t)count(runs);
	if (!out->nruns)
		return fail(&r, "runs", "empty; nothing to report");
	out->run = alloc_array(&r, out->nruns, sizeof *out->run, "runs");
	if (!out->run)
		return -1;
	cJSON_ArrayForEach(e, runs) {
		if (read_run(&r, e, idx("runs", i).s, out, &out->run[i]))
			return -1;
		i++;
	}
	return 0;
}
