/*
 * lbsched_orch_py.c -- the orchestrator (host-shim/orch/orch.h) in
 * liblbsched-py.so, as JSON text for the package's MultiDeviceOrchestrator
 * (docs/PYTHON.md, docs/ORCHESTRATE.md).  API in lbsched_py.h.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "arena.h"
#include "convert.h"
#include "learned.h"
#include "orch.h"
#include "scheduler.h"
#include "textbuf.h"
#include "lbsched_py.h"

#define LBSPY_EXPORT __attribute__((visibility("default")))

static int oom(char *err, size_t errlen)
{
	snprintf(err, errlen, "lbsched: out of memory");
	return LBSPY_ENOMEM;
}

/* cJSON to malloc'd text in *out (which lbspy_free frees). */
static int give(cJSON *j, char **out, char *err, size_t errlen)
{
	*out = j ? cJSON_PrintUnformatted(j) : NULL;
	cJSON_Delete(j);
	return *out ? LBSPY_OK : oom(err, errlen);
}

static int find(lbspy_orch *o, const char *id, char *err, size_t errlen)
{
	int i = id ? orch_find(o, id) : -1;
	if (i < 0)
		orch_error(o, id, err, errlen, id ? "the workload has no such subtask" : "no subtask id");
	return i;
}

/* Warnings as lines of one text, for the package to raise as UserWarning. */
static void warn_lines(void *ctx, const char *msg)
{
	textbuf *t = ctx;
	if (t->len)
		textbuf_write(t, "\n", 1);
	textbuf_write(t, msg, strlen(msg));
}

LBSPY_EXPORT int lbspy_orch_new(const char *graph_json, const char *name, lbspy_orch **out,
                                char **warnings, char *err, size_t errlen)
{
	textbuf tb = {0};
	conv_warns cw = {0};
	orch_warn w = {warn_lines, &tb, &cw};

	if (warnings)
		*warnings = NULL;
	if (!graph_json || !out) {
		snprintf(err, errlen, "lbsched: no graph");
		return LBSPY_EINPUT;
	}
	*out = orch_load(graph_json, strlen(graph_json), name ? name : "workload", &w, 1, err,
	                 errlen);
	if (*out) {
		conv_ctx c = {NULL, warn_lines, &tb, NULL, 0, &cw};
		conv_warn_summary(&c);
	}
	if (warnings && *out && tb.p && !tb.failed)
		*warnings = tb.p;
	else
		textbuf_free(&tb);
	return *out ? LBSPY_OK : LBSPY_EINPUT;
}

LBSPY_EXPORT void lbspy_orch_free(lbspy_orch *o)
{
	orch_free(o);
}

LBSPY_EXPORT int lbspy_orch_ready(lbspy_orch *o, double now, char **out, char *err,
                                  size_t errlen)
{
	uint32_t n = orch_count(o), *idx = malloc((n + 1) * sizeof *idx), k;
	cJSON *arr = cJSON_CreateArray();

	if (!idx || !arr) {
		free(idx);
		cJSON_Delete(arr);
		return oom(err, errlen);
	}
	k = orch_ready(o, now, idx, n);
	for (uint32_t j = 0; j < k; j++) {
		cJSON *e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "subtask_id", orch_id(o, idx[j]));
		cJSON_AddBoolToObject(e, "critical_path", orch_on_critical_path(o, idx[j]));
		cJSON_AddNumberToObject(e, "upward_rank", orch_upward_rank(o, idx[j]));
		cJSON_AddNumberToObject(e, "est_s", orch_est(o, idx[j]));
		cJSON_AddNumberToObject(e, "attempts", orch_attempts(o, idx[j]));
		cJSON_AddNumberToObject(e, "alternate", orch_alternate(o, idx[j]));
		cJSON_AddItemToArray(arr, e);
	}
	free(idx);
	return give(arr, out, err, errlen);
}

typedef struct place_ctx {
	lbspy_orch *o;
	lbspy *h;
	uint32_t i;
	lbs_worker **workers;
	uint32_t n;
	uint32_t chosen;
	lbs_status st;
} place_ctx;

static int place_locked(shim_sched *s, void *ctx)
{
	place_ctx *p = ctx;
	/* The caller's workers available now, not the fleet: no worker among
	 * them is no reason to lose the subtask (orch_place). */
	p->st = orch_place(p->o, p->i, s, (const lbs_worker *const *)p->workers, p->n, 0,
	                   &p->chosen, NULL);
	/* its outcome, reported by record or by the package's report(), is
	 * matched to this decision and learned under its type */
	if (p->st == LBS_OK)
		lbspy_keep_locked(p->h, orch_workload(p->o, p->i), p->workers[p->chosen]->id,
		                  orch_cookie(p->o, p->i));
	return 0;
}

typedef struct report_ctx {
	const lbs_outcome *out;
	lbs_status st;
} report_ctx;

static int report_locked(shim_sched *s, void *ctx)
{
	report_ctx *r = ctx;
	r->st = sched_report(s, r->out);
	return 0;
}

typedef struct est_ctx {
	lbspy_orch *o;
	lbs_worker **workers;
	uint32_t n;
} est_ctx;

static int estimate_locked(shim_sched *s, void *ctx)
{
	est_ctx *e = ctx;
	return orch_estimate(e->o, s, (const lbs_worker *const *)e->workers, e->n)
	       ? LBSPY_ENOMEM : LBSPY_OK;
}

LBSPY_EXPORT int lbspy_orch_place(lbspy_orch *o, lbspy *h, const char *id, double now,
                                  const char *workers_json, int hold, char **out, char *err,
                                  size_t errlen)
{
	arena *a = arena_new();
	place_ctx p = {o, h, 0, NULL, 0, 0, LBS_OK};
	cJSON *res;
	int i, rc;

	if (!a)
		return oom(err, errlen);
	if ((i = find(o, id, err, errlen)) < 0 || !h) {
		arena_free(a);
		if (!h)
			snprintf(err, errlen, "lbsched: no scheduler");
		return LBSPY_EINPUT;
	}
	p.i = (uint32_t)i;
	/* orch_place() does not look at the clock: a subtask waiting for its
	 * retry's backoff was placed, and its attempt spent, although
	 * get_ready_subtasks did not list it. */
	if (!orch_is_ready(o, p.i, now)) {
		orch_error(o, id, err, errlen, "is not ready to place");
		arena_free(a);
		return LBSPY_EINPUT;
	}
	if ((rc = lbspy_fleet_locked(h, a, workers_json, hold, &p.workers, &p.n, place_locked, &p,
	                             err, errlen))) {
		arena_free(a);
		return rc;
	}
	if (p.st == LBS_EINVAL) {
		orch_error(o, id, err, errlen, "is not ready to place");
		arena_free(a);
		return LBSPY_EINPUT;
	}
	/* A failure is not "no worker fits": out of memory, or the
	 * scheduler's own error, is raised. */
	if (p.st != LBS_OK && p.st != LBS_NO_WORKER) {
		orch_error(o, id, err, errlen, "placing it failed with status %d", (int)p.st);
		arena_free(a);
		return lbspy_code_of(p.st);
	}
	res = cJSON_CreateObject();
	cJSON_AddStringToObject(res, "status", p.st == LBS_OK ? "ok" : "no_worker");
	if (p.st == LBS_OK) {
		const char *tid = orch_workload(o, p.i)->id;

		cJSON_AddStringToObject(res, "worker", p.workers[p.chosen]->id);
		if (tid)
			cJSON_AddStringToObject(res, "test_id", tid);
		else
			cJSON_AddNullToObject(res, "test_id");
	} else {
		cJSON_AddNullToObject(res, "worker");
	}
	arena_free(a);
	return give(res, out, err, errlen);
}

static const char *state_name(enum orch_state s)
{
	static const char *const names[] = {"pending", "running", "completed", "failed",
	                                    "skipped", "lost"};
	return (unsigned)s <= ORCH_LOST ? names[s] : "lost";
}

LBSPY_EXPORT int lbspy_orch_record(lbspy_orch *o, lbspy *h, const char *id, int success,
                                   double duration_s, const char *payload_json,
                                   double progress, const char *worker_id, double now,
                                   char **out, char *err, size_t errlen)
{
	int i = find(o, id, err, errlen);
	orch_result r = {success, duration_s, payload_json, progress, 0};
	enum orch_strategy s = ORCH_NO_RECOVERY;
	double delay = 0;
	cJSON *res;
	lbs_outcome oc;
	report_ctx rep = {&oc, LBS_EUNSUPPORTED};
	char why[160] = "";

	if (i < 0)
		return LBSPY_EINPUT;
	/* The outcome of the run h placed, as simulate --graphs reports one:
	 * the requirements it placed (not an alternate a failure moves to). */
	if (h && orch_state_of(o, (uint32_t)i) == ORCH_RUNNING) {
		const lbs_workload *wl = orch_workload(o, (uint32_t)i);
		const char *placed = orch_worker(o, (uint32_t)i);

		oc = (lbs_outcome){.struct_size = sizeof oc, .workload_type = wl->type,
		                   .workload_id = wl->id, .test_type = wl->test_type,
		                   .worker_id = worker_id ? worker_id : placed,
		                   .result = success ? LBS_RESULT_SUCCESS : LBS_RESULT_FAILURE,
		                   .duration_s = duration_s,
		                   /* a resumed run did what its checkpoint left */
		                   .expected_duration_s = wl->est_duration_s *
		                                          orch_remaining(o, (uint32_t)i)};
		/* a run the caller says was elsewhere is no decision of h's */
		if (placed && oc.worker_id && !strcmp(oc.worker_id, placed))
			oc.cookie = orch_cookie(o, (uint32_t)i);
		if (!oc.worker_id)
			h = NULL;
	} else {
		h = NULL;
	}
	/* The original's flow records results without placing through us.  A
	 * result is checked before such a start: refused, it must leave the
	 * subtask pending, or the workload stalls for good. */
	if (orch_state_of(o, (uint32_t)i) == ORCH_PENDING) {
		if (orch_result_check(o, (uint32_t)i, &r, err, errlen))
			return LBSPY_EINPUT;
		if (orch_start(o, (uint32_t)i, worker_id ? worker_id : "(host)")) {
			orch_error(o, id, err, errlen, "is not ready: a dependency has no result yet");
			return LBSPY_EINPUT;
		}
	}
	/* A run the caller says was on another worker failed there: that is
	 * the worker reassign excludes, not the one placed. */
	if (worker_id && orch_state_of(o, (uint32_t)i) == ORCH_RUNNING) {
		/* a result refused leaves the subtask as it was */
		if (orch_result_check(o, (uint32_t)i, &r, err, errlen))
			return LBSPY_EINPUT;
		if (orch_ran_on(o, (uint32_t)i, worker_id))
			return oom(err, errlen);
	}
	if (orch_record(o, (uint32_t)i, &r, err, errlen))
		return LBSPY_EINPUT;
	/* recorded first: a result the orchestrator refuses teaches nothing */
	if (h) {
		lbspy_locked_sched(h, report_locked, &rep);
		if (rep.st == LBS_EINVAL && strlen(oc.worker_id) > LBS_LEARN_ID_MAX)
			snprintf(why, sizeof why, "field 'worker_id': is %zu bytes long, more than "
			         "the %d a scheduler learns from (a store's longest key)",
			         strlen(oc.worker_id), LBS_LEARN_ID_MAX);
		else if (rep.st != LBS_OK && rep.st != LBS_EUNSUPPORTED)
			snprintf(why, sizeof why, "the scheduler refused the outcome (status %d)",
			         (int)rep.st);
	}
	if (!success)
		s = orch_recover(o, (uint32_t)i, now, &delay);
	res = cJSON_CreateObject();
	cJSON_AddStringToObject(res, "state", state_name(orch_state_of(o, (uint32_t)i)));
	if (success)
		cJSON_AddNullToObject(res, "recovery");
	else
		cJSON_AddStringToObject(res, "recovery", orch_strategy_name(s));
	cJSON_AddNumberToObject(res, "delay_s", delay);
	cJSON_AddBoolToObject(res, "reported", rep.st == LBS_OK);
	if (why[0])
		cJSON_AddStringToObject(res, "report_error", why);
	return give(res, out, err, errlen);
}

LBSPY_EXPORT int lbspy_orch_subtask(lbspy_orch *o, const char *id, char **out, char *err,
                                    size_t errlen)
{
	int i = find(o, id, err, errlen);
	cJSON *res, *deps;
	const char *worker;

	if (i < 0)
		return LBSPY_EINPUT;
	res = cJSON_CreateObject();
	cJSON_AddStringToObject(res, "subtask_id", orch_id(o, (uint32_t)i));
	cJSON_AddStringToObject(res, "state", state_name(orch_state_of(o, (uint32_t)i)));
	cJSON_AddNumberToObject(res, "priority", orch_workload(o, (uint32_t)i)->priority);
	cJSON_AddNumberToObject(res, "attempts", orch_attempts(o, (uint32_t)i));
	cJSON_AddNumberToObject(res, "alternate", orch_alternate(o, (uint32_t)i));
	cJSON_AddBoolToObject(res, "critical_path", orch_on_critical_path(o, (uint32_t)i));
	worker = orch_worker(o, (uint32_t)i);
	if (worker)
		cJSON_AddStringToObject(res, "worker", worker);
	else
		cJSON_AddNullToObject(res, "worker");
	deps = cJSON_AddArrayToObject(res, "dependencies");
	for (uint32_t k = 0; deps && k < orch_n_deps(o, (uint32_t)i); k++)
		cJSON_AddItemToArray(deps, cJSON_CreateString(orch_id(o, orch_dep(o, (uint32_t)i, k))));
	return give(res, out, err, errlen);
}

LBSPY_EXPORT int lbspy_orch_set_priority(lbspy_orch *o, const char *id, double priority,
                                         char *err, size_t errlen)
{
	int i = find(o, id, err, errlen);

	if (i < 0)
		return LBSPY_EINPUT;
	if (!(priority >= 1 && priority <= 5) || priority != floor(priority) ||
	    orch_set_priority(o, (uint32_t)i, (uint32_t)priority)) {
		orch_error(o, id, err, errlen, "field 'priority': must be an integer in 1..5, got %g",
		           priority);
		return LBSPY_EINPUT;
	}
	return LBSPY_OK;
}

LBSPY_EXPORT int lbspy_orch_completed(lbspy_orch *o)
{
	return orch_completed(o);
}

LBSPY_EXPORT int lbspy_orch_aggregate(lbspy_orch *o, char **out, char *err, size_t errlen)
{
	*out = orch_aggregate(o, err, errlen);
	return *out ? LBSPY_OK : LBSPY_EINPUT;
}

LBSPY_EXPORT int lbspy_orch_critical_path(lbspy_orch *o, char **out, char *err, size_t errlen)
{
	uint32_t n = orch_count(o), *cp = malloc((n + 1) * sizeof *cp), len;
	cJSON *res = cJSON_CreateObject(), *path, *ranks;
	double len_s;

	if (!cp || !res) {
		free(cp);
		cJSON_Delete(res);
		return oom(err, errlen);
	}
	len = orch_critical_path(o, cp, n, &len_s);
	path = cJSON_AddArrayToObject(res, "path");
	for (uint32_t k = 0; path && k < len && k < n; k++)
		cJSON_AddItemToArray(path, cJSON_CreateString(orch_id(o, cp[k])));
	cJSON_AddNumberToObject(res, "length_s", len_s);
	ranks = cJSON_AddObjectToObject(res, "ranks");
	for (uint32_t i = 0; ranks && i < n; i++)
		cJSON_AddNumberToObject(ranks, orch_id(o, i), orch_upward_rank(o, i));
	free(cp);
	return give(res, out, err, errlen);
}

LBSPY_EXPORT int lbspy_orch_estimate(lbspy_orch *o, lbspy *h, const char *workers_json,
                                     int hold, char *err, size_t errlen)
{
	arena *a = arena_new();
	est_ctx e = {o, NULL, 0};
	int rc;

	if (!a)
		return oom(err, errlen);
	if (!h) {
		arena_free(a);
		snprintf(err, errlen, "lbsched: no scheduler");
		return LBSPY_EINPUT;
	}
	rc = lbspy_fleet_locked(h, a, workers_json, hold, &e.workers, &e.n, estimate_locked, &e, err,
	                        errlen);
	if (rc == LBSPY_ENOMEM)
		rc = oom(err, errlen);
	arena_free(a);
	return rc;
}
