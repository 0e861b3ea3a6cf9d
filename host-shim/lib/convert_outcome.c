/*
 * convert_outcome.c -- outcomes (what happened to a test on a worker) to an
 * lbs_outcome: conv_outcome, conv_outcome_text.
 */
#include <stdio.h>

#include "convert_field.h"
#include "taxonomy.h"

/* ===== Outcomes =========================================================== */

static const char *const outcome_keys[] = {
	"test_id", "worker_id", "success", "result", "duration",
	"execution_time", "status", "test_type", "workload_type",
	"expected_duration", "cookie",
	/* the original's WorkerAssignment, whole */
	"test_requirements", "assigned_at", "started_at", "completed_at", NULL,
};

/*
 * The original's WorkerAssignment as an outcome: its status is a word,
 * "completed" or "failed" once the test ended (mark_completed(success)
 * sets one by the other), its result a free-form dict of the test's, and
 * its test's type and expected duration are in its test_requirements.
 * *ok: 1 completed, 0 failed, -1 not such a record (status absent or a
 * number, the host's code).  The type (when *typed is 0; then set if
 * found) and the duration (when `timed` is 0) fill only what the top level
 * leaves unsaid.  test_requirements is the test as it was decided, so it
 * is read by conv_workload's rules: its workload_type overrides its
 * test_type, and without an expected_duration it is the original's
 * default, the figure the test was ranked by; else one record would be
 * decided as one type and learned as another.
 */
static int assignment(cv *v, const cJSON *obj, int *ok, int *typed, int timed,
                      lbs_outcome *o)
{
	const cJSON *st = item(obj, "status"), *req = NULL;
	const char *tt = NULL;
	uint32_t type = LBS_WL_MIXED;
	double dur;
	int said;
	char g[200];

	*ok = -1;
	if (cJSON_IsString(st)) {
		if (ieq(st->valuestring, "completed"))
			*ok = 1;
		else if (ieq(st->valuestring, "failed"))
			*ok = 0;
		else if (ieq(st->valuestring, "assigned") || ieq(st->valuestring, "running"))
			return cv_fail(v, "status", "is %s: the test has not ended, so there is no "
			               "outcome to learn yet", cv_got(g, sizeof g, st));
		else
			return cv_fail(v, "status", "must be an integer (the host's status code) or "
			               "the original's \"completed\" or \"failed\", got %s",
			               cv_got(g, sizeof g, st));
	}
	if (cv_get_obj(v, obj, "test_requirements", NULL, NULLABLE, &req) < 0)
		return -1;
	if (!req)
		return 0;
	/* Checked even where the top level speaks: a bad value is bad input. */
	if ((said = cv_work_type(v, req, "test_requirements", &tt, &type)) < 0 ||
	    cv_work_duration(v, req, "test_requirements", &dur) < 0)
		return -1;
	if (said && !*typed) {
		o->test_type = tt;
		o->workload_type = type;
		*typed = 1;
	}
	if (!timed)
		o->expected_duration_s = dur;
	return 0;
}

static int cookie(cv *v, const cJSON *obj, uint64_t *out)
{
	const cJSON *it = item(obj, "cookie");
	char g[200];
	double d;

	if (!it || cJSON_IsNull(it))
		return 0;
	/* A decimal string carries all 64 bits; a JSON number only 53. */
	if (cJSON_IsString(it)) {
		const char *s = it->valuestring;
		uint64_t x = 0;
		if (!s || !*s)
			goto bad;
		for (; *s; s++) {
			if (*s < '0' || *s > '9' ||
			    x > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
				goto bad;
			x = x * 10 + (uint64_t)(*s - '0');
		}
		*out = x;
		return 0;
	}
	if (cv_num_value(v, it, FLD(NULL, "cookie"), 0, 9007199254740992.0, NULL, 1,
	                 &d) < 0)
		return -1;
	*out = (uint64_t)d;
	return 0;
bad:
	return cv_fail(v, "cookie", "must be an integer >= 0 (or a decimal string "
	                            "of one), got %s", cv_got(g, sizeof g, it));
}

static int outcome_read(conv_ctx *c, const cJSON *obj, const char *where, lbs_outcome *out,
                        int *said_type)
{
	cv v = CV(c, where ? where : "outcome");
	cv *vp = &v;
	lbs_outcome o;
	const char *s = NULL, *res = NULL;
	double d = 0, d2 = 0, st = 0;
	int ok = 0, rs, rr, r1, r2, ended, typed, timed, dict;
	char g[200];

	if (!c || !out)
		return -1;
	if (!cJSON_IsObject(obj))
		return cv_fail(vp, NULL, "must be a JSON object, got %s",
		               cv_got(g, sizeof g, obj));
	memset(&o, 0, sizeof o);
	o.struct_size = sizeof o;
	if (cv_check_keys(vp, obj, NULL, outcome_keys, 1) < 0)
		return -1;

	if (cv_get_str(vp, obj, "test_id", NULL, NULLABLE, &s) < 0)
		return -1;
	if (s && !(o.workload_id = arena_strdup(c->arena, s)))
		return cv_oom(vp);
	if (cv_get_str(vp, obj, "worker_id", NULL, REQUIRED | NONEMPTY, &s) < 0)
		return -1;
	if (!(o.worker_id = arena_strdup(c->arena, s)))
		return cv_oom(vp);
	if ((typed = cv_work_type(vp, obj, NULL, &o.test_type, &o.workload_type)) < 0)
		return -1;
	/* Unlike a test's, an outcome's expected_duration has no default: one
	 * that states none claims no speed, so no ratio is learned from it. */
	if ((timed = cv_get_num(vp, obj, "expected_duration", NULL, 0, MAX_SECONDS, "s", 0,
	                        &o.expected_duration_s)) < 0)
		return -1;
	/* The original's, not read: checked for a sane type and size. */
	if (cv_loose(vp, obj, "assigned_at", NULL, L_SCALAR) < 0 ||
	    cv_loose(vp, obj, "started_at", NULL, L_SCALAR) < 0 ||
	    cv_loose(vp, obj, "completed_at", NULL, L_SCALAR) < 0)
		return -1;

	rs = cv_get_bool(vp, obj, "success", NULL, 0, &ok);
	/* The original's result is a dict of the test's own: not a result
	 * name, and nothing this learns from; or null, its default (a
	 * WorkerAssignment marked done with no result). */
	dict = cJSON_IsObject(item(obj, "result"));
	rr = dict ? cv_loose(vp, obj, "result", NULL, L_OBJECT)
	          : cv_get_str(vp, obj, "result", NULL, NONEMPTY | NULLABLE, &res);
	if (rs < 0 || rr < 0 || assignment(vp, obj, &ended, &typed, timed, &o) < 0)
		return -1;
	rr = rr && !dict;
	if (ended >= 0 && rs && ok != ended)
		return cv_fail(vp, "success", "disagrees with 'status'");
	if (!rs && !rr && ended < 0)
		return cv_fail(vp, "success",
		               dict ? "is required (true or false), or give 'status' (this "
		                      "'result' is the test's own dict, not how it ended)"
		                    : "is required (true or false), or give 'result'");
	if (!rs && ended >= 0)
		ok = ended;
	o.result = ok ? LBS_RESULT_SUCCESS : LBS_RESULT_FAILURE;
	if (rr) {
		static const char *const names[] = {
			"success", "failure", "timeout", "rejected", "cancelled",
		};
		int found = -1;
		for (int i = 0; i < 5; i++)
			if (ieq(res, names[i]))
				found = i;
		if (found < 0)
			return cv_fail(vp, "result",
			               "must be \"success\", \"failure\", \"timeout\", "
			               "\"rejected\" or \"cancelled\", got %s",
			               cv_got(g, sizeof g, item(obj, "result")));
		if ((rs || ended >= 0) && (found == LBS_RESULT_SUCCESS) != ok)
			return cv_fail(vp, "result", "disagrees with '%s'", rs ? "success" : "status");
		o.result = found;
	}

	r1 = cv_get_num(vp, obj, "duration", NULL, 0, MAX_SECONDS, "s", 0, &d);
	r2 = cv_get_num(vp, obj, "execution_time", NULL, 0, MAX_SECONDS, "s", 0, &d2);
	if (r1 < 0 || r2 < 0)
		return -1;
	if (!r1 && !r2)
		return cv_fail(vp, "duration", "is required (seconds), or give "
		                               "'execution_time'");
	if (r1 && r2 && d != d2)
		return cv_fail(vp, "execution_time", "disagrees with 'duration'");
	o.duration_s = r1 ? d : d2;

	if (ended < 0 && cv_get_int(vp, obj, "status", NULL, INT32_MIN, INT32_MAX, 0, &st) < 0)
		return -1;
	o.status_code = (int32_t)st;
	if (cookie(vp, obj, &o.cookie) < 0)
		return -1;
	*out = o;
	if (said_type)
		*said_type = typed;
	return 0;
}

int conv_outcome(conv_ctx *c, const cJSON *obj, const char *where, lbs_outcome *out)
{
	return outcome_read(c, obj, where, out, NULL);
}

int conv_outcome_text_typed(conv_ctx *c, const char *text, size_t len, const char *where,
                            lbs_outcome *out, int *said_type)
{
	cJSON *obj = cv_parse_object(c, text, len, where);
	int r = obj ? outcome_read(c, obj, where, out, said_type) : -1;

	cJSON_Delete(obj);
	return r;
}

int conv_outcome_text(conv_ctx *c, const char *text, size_t len, const char *where,
                      lbs_outcome *out)
{
	return conv_outcome_text_typed(c, text, len, where, out, NULL);
}

int conv_outcome_wordless(const lbs_outcome *o)
{
	return conv_type_wordless(o->test_type, o->workload_type);
}
