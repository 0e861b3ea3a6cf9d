/*
 * choose.h -- what the tests of the weighted-round-robin, performance,
 * affinity and adaptive schedulers share: select through the host (a host
 * fallback is a failed check: it would hide the bugs looked for), collect
 * explain / stats JSON, report an outcome, open with a config that should
 * fail.  Included by one test file each, so static.
 */
#ifndef LBS_TEST_CHOOSE_H
#define LBS_TEST_CHOOSE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "check.h"
#include "support.h"

static char reason[512];
static uint64_t last_cookie;

static inline const char *choose(shim_sched *s, const lbs_workload *wl, const fleet *f)
{
	static char out[1024];
	uint32_t idx[16];
	const char *ids[16];
	lbs_selection sel = { .struct_size = sizeof(sel), .capacity = 16, .indices = idx,
		              .ids = ids, .reason = reason, .reason_len = sizeof(reason) };
	int fell_back = 0;
	lbs_status st = sched_select(s, wl, (const lbs_worker *const *)f->workers, f->n, &sel,
	                             &fell_back);
	size_t used = 0;

	CHECK_INT(fell_back, 0);
	last_cookie = sel.cookie;
	if (st == LBS_NO_WORKER)
		return "none";
	if (st != LBS_OK) {
		snprintf(out, sizeof(out), "error:%d", (int)st);
		return out;
	}
	out[0] = '\0';
	for (uint32_t i = 0; i < sel.n_selected; i++)
		used += (size_t)snprintf(out + used, sizeof(out) - used, "%s%s", i ? "," : "",
		                         sel.ids[i]);
	return out;
}

static char json[65536];
static size_t json_len;

static inline int collect(void *ctx, const char *data, size_t len)
{
	(void)ctx;
	if (json_len + len < sizeof(json)) {
		memcpy(json + json_len, data, len);
		json_len += len;
		json[json_len] = '\0';
	}
	return 0;
}

/* explain() as a parsed document (NULL on failure, a failed check). */
static inline cJSON *explain_doc(shim_sched *s, const lbs_workload *wl, const fleet *f)
{
	cJSON *doc;

	json_len = 0;
	json[0] = '\0';
	CHECK_INT(sched_explain(s, wl, (const lbs_worker *const *)f->workers, f->n, collect,
	                        NULL), LBS_OK);
	doc = cJSON_Parse(json);
	CHECK(doc != NULL);
	return doc;
}

static inline const char *doc_str(const cJSON *obj, const char *key)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(obj, key));
}

static inline double doc_num(const cJSON *obj, const char *key)
{
	return cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(obj, key));
}

/* The candidate object of worker `id` in an explain document. */
static inline const cJSON *candidate(const cJSON *doc, const char *id)
{
	const cJSON *c;

	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(doc, "candidates"))
		if (doc_str(c, "worker") && !strcmp(doc_str(c, "worker"), id))
			return c;
	return NULL;
}

static inline lbs_status report_to(shim_sched *s, uint32_t type, const char *worker, uint64_t cookie,
                            int32_t result, double duration, double expected)
{
	lbs_outcome o = { .struct_size = sizeof(o), .workload_type = type, .worker_id = worker,
		          .cookie = cookie, .result = result, .duration_s = duration,
		          .expected_duration_s = expected };

	return sched_report(s, &o);
}

/* Open `name` with `config`, expecting failure; returns the status. */
static inline lbs_status open_err(const char *name, const char *config, char *err, size_t errlen)
{
	shim_sched *s = NULL;
	lbs_status st;

	err[0] = '\0';
	st = sched_open(test_host(), getenv("LBS_PLUGIN"), name, config, strlen(config), &s, err,
	                errlen);
	sched_close(s);
	return st;
}

#endif
