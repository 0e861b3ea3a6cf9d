/*
 * test_priority.c -- the "priority" scheduler through the real plugin:
 * speed picks the best history after report()s, balanced prefers the less
 * loaded and no longer lets "no history" beat a good history, spread is a
 * deterministic, load-weighted draw for a seed, deadlines demote workers
 * expected to miss them, and report() refuses bad outcomes.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "check.h"
#include "eligible.h"
#include "priority.h"
#include "support.h"

static char reason[512];

/* As pick(), but a host fallback (the host rejected the plugin's answer)
 * fails the test instead of hiding the bug. */
static const char *choose(shim_sched *s, const lbs_workload *wl, const fleet *f)
{
	static char out[1024];
	uint32_t idx[16];
	const char *ids[16];
	lbs_selection sel = { .struct_size = sizeof(sel), .capacity = 16,
	                      .indices = idx, .ids = ids, .reason = reason,
	                      .reason_len = sizeof(reason) };
	int fell_back = 0;
	lbs_status st = sched_select(s, wl, (const lbs_worker *const *)f->workers,
	                             f->n, &sel, &fell_back);
	size_t used = 0;

	CHECK_INT(fell_back, 0);
	if (st == LBS_NO_WORKER)
		return "none";
	if (st != LBS_OK) {
		snprintf(out, sizeof(out), "error:%d", (int)st);
		return out;
	}
	out[0] = '\0';
	for (uint32_t i = 0; i < sel.n_selected; i++)
		used += (size_t)snprintf(out + used, sizeof(out) - used, "%s%s",
		                         i ? "," : "", sel.ids[i]);
	return out;
}

static char json[32768];
static size_t json_len;

static int collect(void *ctx, const char *data, size_t len)
{
	(void)ctx;
	if (json_len + len < sizeof(json)) {
		memcpy(json + json_len, data, len);
		json_len += len;
		json[json_len] = '\0';
	}
	return 0;
}

static lbs_status report(shim_sched *s, const lbs_workload *wl, const char *worker,
                         int32_t result, double duration, double expected)
{
	lbs_outcome o = { .struct_size = sizeof(o), .workload_type = wl->type,
	                  .worker_id = worker, .result = result,
	                  .duration_s = duration, .expected_duration_s = expected };

	return sched_report(s, &o);
}

static void report_n(shim_sched *s, const lbs_workload *wl, const char *worker,
                     int n, int32_t result, double duration)
{
	for (int i = 0; i < n; i++)
		CHECK_INT(report(s, wl, worker, result, duration, 60), LBS_OK);
}

/* Three identical workers at 20% load; only their histories will differ. */
static const char *FLEET3 =
	"[{\"worker_id\": \"slow\", \"cpu_cores\": 8, \"available_memory\": 16,"
	"  \"load\": {\"cpu_utilization\": 20, \"memory_utilization\": 20}},"
	" {\"worker_id\": \"failing\", \"cpu_cores\": 8, \"available_memory\": 16,"
	"  \"load\": {\"cpu_utilization\": 20, \"memory_utilization\": 20}},"
	" {\"worker_id\": \"fast\", \"cpu_cores\": 8, \"available_memory\": 16,"
	"  \"load\": {\"cpu_utilization\": 20, \"memory_utilization\": 20}}]";

/* The history formula for timed work of priority <= 3 (completion ranks
 * it by default; test_deadline shows the difference). */
#define HISTORY "{\"completion\": false}"

static void test_speed_learns(void)
{
	fleet f = fleet_parse(FLEET3);
	lbs_workload urgent = workload_parse(f.arena,
		"{\"test_id\": \"u\", \"test_type\": \"vision_classification\","
		" \"expected_duration\": 60, \"priority\": 1}");
	lbs_workload other_type = workload_parse(f.arena,
		"{\"test_id\": \"o\", \"test_type\": \"audio_transcription\","
		" \"expected_duration\": 60, \"priority\": 1}");
	shim_sched *s = test_sched("priority", HISTORY);

	CHECK(urgent.type != other_type.type);
	/* Nothing learned: equal scores, the lowest position wins. */
	CHECK_STR(choose(s, &urgent, &f), "slow");
	CHECK_CONTAINS(reason, "priority 1 (speed)");
	CHECK_CONTAINS(reason, "no history yet");

	/* fast: done in half the expected time; slow: 2.5x the expected time
	 * (time factor 0.5); failing: never finishes. */
	report_n(s, &urgent, "fast", 5, LBS_RESULT_SUCCESS, 30);
	report_n(s, &urgent, "slow", 5, LBS_RESULT_SUCCESS, 150);
	report_n(s, &urgent, "failing", 5, LBS_RESULT_FAILURE, 10);
	CHECK_STR(choose(s, &urgent, &f), "fast");
	/* speed: h = (0.2*1 + 0.6*1)/0.8 = 1, score 0.8 + 0.2*(1 - 0.12) */
	CHECK_CONTAINS(reason, "best score 0.98 (success 1.00, time 1.00, load 0.12)");

	/* A failing worker's mean duration of 0 s must not read as "very
	 * fast": with the formula alone its time factor would be 1 and it
	 * would beat slow (0.78 against 0.68).  fast, unknown here, sits
	 * between them at 0.58. */
	{
		shim_sched *t = test_sched("priority", HISTORY);

		report_n(t, &urgent, "failing", 5, LBS_RESULT_FAILURE, 10);
		report_n(t, &urgent, "slow", 5, LBS_RESULT_SUCCESS, 150);
		CHECK_STR(choose(t, &urgent, &f), "slow");
		CHECK_CONTAINS(reason, "success 1.00, time 0.50");
		sched_close(t);
	}

	/* History is per workload type: for audio nothing is known. */
	CHECK_STR(choose(s, &other_type, &f), "slow");
	CHECK_CONTAINS(reason, "no history yet");
	sched_close(s);

	/* A workload type holds tests of several sizes: "fast" ran 600 s
	 * tests on time, and a 30 s one is judged by that speed, not by its
	 * mean of 600 s against 30 (time 0, and the untried "slow" won). */
	{
		shim_sched *t = test_sched("priority", HISTORY);
		lbs_workload big = workload_parse(f.arena,
			"{\"test_id\": \"b\", \"test_type\": \"vision_classification\","
			" \"expected_duration\": 600, \"priority\": 1}");

		for (int i = 0; i < 3; i++)
			CHECK_INT(report(t, &big, "fast", LBS_RESULT_SUCCESS, 600, 600), LBS_OK);
		CHECK_STR(choose(t, &urgent, &f), "fast");
		CHECK_CONTAINS(reason, "success 1.00, time 1.00");
		sched_close(t);
	}
	fleet_free(&f);
}

static void test_balanced(void)
{
	fleet f = fleet_parse(
		"[{\"worker_id\": \"busy\", \"cpu_cores\": 8, \"available_memory\": 16,"
		"  \"load\": {\"cpu_utilization\": 60, \"memory_utilization\": 60}},"
		" {\"worker_id\": \"idle\", \"cpu_cores\": 8, \"available_memory\": 16,"
		"  \"load\": {\"cpu_utilization\": 20, \"memory_utilization\": 20}}]");
	fleet g = fleet_parse(
		"[{\"worker_id\": \"new\", \"cpu_cores\": 8, \"available_memory\": 16},"
		" {\"worker_id\": \"proven\", \"cpu_cores\": 8, \"available_memory\": 16}]");
	lbs_workload normal = workload_parse(f.arena,
		"{\"test_id\": \"n\", \"test_type\": \"nlp_text\", \"expected_duration\": 60, \"priority\": 3}");
	shim_sched *s = test_sched("priority", HISTORY);

	/* No history on either: the less loaded wins although it comes second. */
	CHECK_STR(choose(s, &normal, &f), "idle");
	CHECK_CONTAINS(reason, "priority 3 (balanced)");
	/* Equal histories: still the less loaded. */
	report_n(s, &normal, "busy", 4, LBS_RESULT_SUCCESS, 60);
	report_n(s, &normal, "idle", 4, LBS_RESULT_SUCCESS, 60);
	CHECK_STR(choose(s, &normal, &f), "idle");
	/* A much better history outweighs some load: busy at 0.36 load, all
	 * successes; idle at 0.12, half failures. */
	report_n(s, &normal, "idle", 4, LBS_RESULT_FAILURE, 60);
	CHECK_STR(choose(s, &normal, &f), "busy");
	sched_close(s);

	/* The original's balanced history part peaked at 0.6 against 0.5 for
	 * "no history", so a good-but-not-perfect worker (success 1, time
	 * 0.6: 132 s runs for 60 s expected) lost to an unknown one. */
	s = test_sched("priority", HISTORY);
	report_n(s, &normal, "proven", 3, LBS_RESULT_SUCCESS, 132);
	CHECK_STR(choose(s, &normal, &g), "proven");
	CHECK_CONTAINS(reason, "time 0.60");
	sched_close(s);
	fleet_free(&f);
	fleet_free(&g);
}

/* w0..w3 eligible at loads 10/30/50/70%; "hot" is over the ceiling and
 * "gone" is excluded by the workload. */
static const char *FLEET_SPREAD =
	"[{\"worker_id\": \"w0\", \"cpu_cores\": 8, \"available_memory\": 16,"
	"  \"load\": {\"cpu_utilization\": 10, \"memory_utilization\": 10, \"gpu_utilization\": 10,"
	"            \"io_utilization\": 10, \"network_utilization\": 10}},"
	" {\"worker_id\": \"hot\", \"cpu_cores\": 8, \"available_memory\": 16,"
	"  \"load\": {\"cpu_utilization\": 99, \"memory_utilization\": 99, \"gpu_utilization\": 99,"
	"            \"io_utilization\": 99, \"network_utilization\": 99}},"
	" {\"worker_id\": \"w1\", \"cpu_cores\": 8, \"available_memory\": 16,"
	"  \"load\": {\"cpu_utilization\": 30, \"memory_utilization\": 30, \"gpu_utilization\": 30,"
	"            \"io_utilization\": 30, \"network_utilization\": 30}},"
	" {\"worker_id\": \"gone\", \"cpu_cores\": 8, \"available_memory\": 16},"
	" {\"worker_id\": \"w2\", \"cpu_cores\": 8, \"available_memory\": 16,"
	"  \"load\": {\"cpu_utilization\": 50, \"memory_utilization\": 50, \"gpu_utilization\": 50,"
	"            \"io_utilization\": 50, \"network_utilization\": 50}},"
	" {\"worker_id\": \"w3\", \"cpu_cores\": 8, \"available_memory\": 16,"
	"  \"load\": {\"cpu_utilization\": 70, \"memory_utilization\": 70, \"gpu_utilization\": 70,"
	"            \"io_utilization\": 70, \"network_utilization\": 70}}]";

static void test_spread(void)
{
	fleet f = fleet_parse(FLEET_SPREAD);
	lbs_workload bg = workload_parse(f.arena,
		"{\"test_id\": \"b\", \"priority\": 5, \"exclude_workers\": [\"gone\"]}");
	lbs_workload bg_multi = workload_parse(f.arena,
		"{\"test_id\": \"m\", \"priority\": 4, \"exclude_workers\": [\"gone\"],"
		" \"custom_properties\": {\"allocation_strategy\": \"replicated\","
		"  \"min_shards\": 2, \"max_shards\": 3}}");
	shim_sched *a = test_sched("priority", "{\"seed\": 42}");
	shim_sched *b = test_sched("priority", "{\"seed\": 42}");
	shim_sched *c = test_sched("priority", "{\"seed\": 43}");
	int counts[4], bad = 0;

	/* Twice: with nothing learned (the fast path), then after a report
	 * for another workload type (history lookups, no effect on spread). */
	for (int round = 0; round < 2; round++) {
		int same = 1, differs = 0;
		char first[32];

		memset(counts, 0, sizeof(counts));
		for (int i = 0; i < 200; i++) {
			const char *x = choose(a, &bg, &f);
			const char *y;

			snprintf(first, sizeof(first), "%s", x);
			if (strlen(first) == 2 && first[0] == 'w' && first[1] >= '0' &&
			    first[1] <= '3')
				counts[first[1] - '0']++;
			else
				bad++;
			y = choose(b, &bg, &f);
			same &= strcmp(first, y) == 0;
			differs |= strcmp(first, choose(c, &bg, &f)) != 0;
		}
		CHECK_CONTAINS(reason, "priority 5 (spread): weighted draw");
		/* Same seed, same sequence; another seed, another sequence. */
		CHECK(same);
		CHECK(differs);
		/* Never the overloaded or the excluded worker. */
		CHECK_INT(bad, 0);
		/* Everyone eligible gets work, the idle more than the busy:
		 * expected 75 / 58 / 42 / 25 of 200 for weights .9 .7 .5 .3. */
		for (int i = 0; i < 4; i++)
			CHECK(counts[i] >= 10);
		CHECK(counts[0] >= 2 * counts[3]);
		CHECK(counts[0] + counts[1] > counts[2] + counts[3] + 30);

		{
			lbs_outcome o = { .struct_size = sizeof(o),
			                  .workload_type = LBS_WL_AUDIO,
			                  .worker_id = "w3", .duration_s = 1 };

			CHECK(bg.type != LBS_WL_AUDIO);
			CHECK_INT(sched_report(a, &o), LBS_OK);
			CHECK_INT(sched_report(b, &o), LBS_OK);
			CHECK_INT(sched_report(c, &o), LBS_OK);
		}
	}

	/* Several at once: distinct, never the ineligible ones, and drawn
	 * by weight without replacement: in 3 of 4, w0 is in about 90% of
	 * the samples and w3 in about 51% (uniform draws: 75% each). */
	memset(counts, 0, sizeof(counts));
	for (int i = 0; i < 200; i++) {
		char got[64];
		char *save = NULL, *tok;
		int seen[4] = { 0 }, n = 0;

		snprintf(got, sizeof(got), "%s", choose(a, &bg_multi, &f));
		for (tok = strtok_r(got, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			n++;
			if (strlen(tok) == 2 && tok[0] == 'w' && tok[1] >= '0' && tok[1] <= '3') {
				seen[tok[1] - '0']++;
				counts[tok[1] - '0']++;
			} else {
				bad++;
			}
		}
		CHECK_INT(n, 3);
		for (int k = 0; k < 4; k++)
			CHECK(seen[k] <= 1);
	}
	CHECK_INT(bad, 0);
	CHECK(counts[0] > counts[3] + 40);
	CHECK(counts[3] > 0);

	/* explain() shows the draw select is about to make, without
	 * consuming it. */
	for (int i = 0; i < 5; i++) {
		cJSON *doc;
		char shown[32] = "";

		json_len = 0;
		CHECK_INT(sched_explain(a, &bg, (const lbs_worker *const *)f.workers, f.n,
		                        collect, NULL), LBS_OK);
		doc = cJSON_Parse(json);
		snprintf(shown, sizeof(shown), "%s",
		         cJSON_GetStringValue(cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "chosen"), 0)));
		cJSON_Delete(doc);
		CHECK_STR(choose(a, &bg, &f), shown);
	}
	sched_close(a);
	sched_close(b);
	sched_close(c);
	fleet_free(&f);
}

/* When every eligible worker has no spare capacity (cooling at performance
 * 0: effective load 1), the original took the last compatible one; here
 * the least loaded. */
static void test_spread_saturated(void)
{
	fleet f = fleet_parse(
		"[{\"worker_id\": \"a\", \"cpu_cores\": 8, \"available_memory\": 16,"
		"  \"load\": {\"cpu_utilization\": 50, \"cooling_state\": true, \"performance_level\": 0}},"
		" {\"worker_id\": \"b\", \"cpu_cores\": 8, \"available_memory\": 16,"
		"  \"load\": {\"cpu_utilization\": 10, \"cooling_state\": true, \"performance_level\": 0}},"
		" {\"worker_id\": \"c\", \"cpu_cores\": 8, \"available_memory\": 16,"
		"  \"load\": {\"cpu_utilization\": 30, \"cooling_state\": true, \"performance_level\": 0}}]");
	lbs_workload bg = workload_parse(f.arena, "{\"test_id\": \"b\", \"priority\": 5}");
	shim_sched *s = test_sched("priority", NULL);

	for (int i = 0; i < 5; i++)
		CHECK_STR(choose(s, &bg, &f), "b");
	CHECK_CONTAINS(reason, "least loaded");
	sched_close(s);
	fleet_free(&f);
}

/*
 * "quick" has the better history (every run 10 s, all successes) but 10
 * tests ahead of it: (5 + 5) / 1 * 10 + 10 = 110 s.  "steady" is slower
 * (40 s runs, one failure in four) and idle: 40 s.  "fresh" has no
 * history, so no expected completion, and the lowest score (0.6).
 */
static void test_deadline(void)
{
	fleet f = fleet_parse(
		"[{\"worker_id\": \"quick\", \"cpu_cores\": 8, \"available_memory\": 16,"
		"  \"load\": {\"active_tests\": 5, \"queued_tests\": 5}},"
		" {\"worker_id\": \"steady\", \"cpu_cores\": 8, \"available_memory\": 16},"
		" {\"worker_id\": \"fresh\", \"cpu_cores\": 8, \"available_memory\": 16}]");
	const char *base = "\"test_id\": \"d\", \"test_type\": \"nlp_inference\","
	                   " \"expected_duration\": 60, \"priority\": 1";
	char text[256];
	lbs_workload none, d60, d200, d20;
	shim_sched *s = test_sched("priority", HISTORY), *c = test_sched("priority", NULL);

	snprintf(text, sizeof(text), "{%s}", base);
	none = workload_parse(f.arena, text);
	snprintf(text, sizeof(text), "{%s, \"deadline\": 60}", base);
	d60 = workload_parse(f.arena, text);
	snprintf(text, sizeof(text), "{%s, \"deadline\": 200}", base);
	d200 = workload_parse(f.arena, text);
	snprintf(text, sizeof(text), "{%s, \"deadline\": 20}", base);
	d20 = workload_parse(f.arena, text);
	CHECK_NEAR(d60.deadline_s, 60, 0);

	/* The history formula's tiers.  No history: deadlines cannot be
	 * judged, the tie goes to position 0. */
	CHECK_STR(choose(s, &d60, &f), "quick");
	/* By completion, the default, a deadline changes nothing: quick has
	 * ten tests ahead, the idle steady finishes first (the tiers sent
	 * the work to quick because nothing was known). */
	CHECK_STR(choose(c, &d60, &f), "steady");
	CHECK_CONTAINS(reason, "earliest completion, est. ");
	CHECK_CONTAINS(reason, "on CPU of steady; meets the 60 s deadline");
	for (int k = 0; k < 2; k++) {
		shim_sched *t = k ? c : s;
		report_n(t, &none, "quick", 4, LBS_RESULT_SUCCESS, 10);
		report_n(t, &none, "steady", 3, LBS_RESULT_SUCCESS, 40);
		report_n(t, &none, "steady", 1, LBS_RESULT_FAILURE, 40);
	}

	CHECK_STR(choose(s, &d200, &f), "quick");
	/* quick is expected at 110 s: it would miss 60 s, steady would not. */
	CHECK_STR(choose(s, &d60, &f), "steady");
	CHECK_CONTAINS(reason, "1 expected to miss the 60 s deadline ranked last");
	/* Nobody is expected to make 20 s: nobody is demoted (not even below
	 * "fresh", which is not expected to miss), the best score wins. */
	CHECK_STR(choose(s, &d20, &f), "quick");

	/* By completion: quick (6x as fast as declared) has ten tests ahead,
	 * 110 s; fresh is idle, 47 s by its prior, with or without a
	 * deadline, and the reason says whether the estimate meets it. */
	CHECK_STR(choose(c, &none, &f), "fresh");
	CHECK_CONTAINS(reason, "priority 1 (speed): earliest completion, est. 47");
	CHECK_STR(choose(c, &d200, &f), "fresh");
	CHECK_CONTAINS(reason, "; meets the 200 s deadline");
	CHECK_STR(choose(c, &d60, &f), "fresh");
	CHECK_STR(choose(c, &d20, &f), "fresh");
	CHECK_CONTAINS(reason, "; no estimate meets the 20 s deadline");
	sched_close(s);
	sched_close(c);
	fleet_free(&f);
}

/* Urgent timed work ranks by completion, which charges a full worker its
 * wait instead of barring it (docs/SCORING.md, "The load ceiling"): a
 * fleet all over the ceiling still places it, on the worker finishing
 * first.  Background work keeps the ceiling while a worker is
 * under it, and fall to completion when none is; untimed work has no
 * wait to score and gets no worker. */
static void test_ceiling_completion(void)
{
	fleet f = fleet_parse(
		"[{\"worker_id\": \"cpu\", \"cpu_cores\": 8, \"available_memory\": 16,"
		"  \"load\": {\"active_tests\": 1, \"cpu_utilization\": 100, \"memory_utilization\": 100,"
		"   \"gpu_utilization\": 100, \"io_utilization\": 100, \"network_utilization\": 100}},"
		" {\"worker_id\": \"gpu\", \"cpu_cores\": 8, \"available_memory\": 64,"
		"  \"supported_backends\": [\"cuda\"],"
		"  \"load\": {\"active_tests\": 1, \"cpu_utilization\": 100, \"memory_utilization\": 100,"
		"   \"gpu_utilization\": 100, \"io_utilization\": 100, \"network_utilization\": 100}}]");
	lbs_workload urgent = workload_parse(f.arena,
		"{\"test_id\": \"u\", \"test_type\": \"vision\", \"expected_duration\": 60,"
		" \"priority\": 1}");
	lbs_workload untimed = urgent;
	lbs_workload bg = workload_parse(f.arena,
		"{\"test_id\": \"b\", \"test_type\": \"vision\", \"expected_duration\": 60,"
		" \"priority\": 5}");
	lbs_workload due = workload_parse(f.arena,
		"{\"test_id\": \"d\", \"test_type\": \"vision\", \"expected_duration\": 60,"
		" \"priority\": 2, \"deadline\": 600}");
	lbs_workload bg_untimed = bg;
	fleet one = fleet_parse(
		"[{\"worker_id\": \"gpu\", \"cpu_cores\": 8, \"available_memory\": 64,"
		"  \"supported_backends\": [\"cuda\"],"
		"  \"load\": {\"active_tests\": 1, \"cpu_utilization\": 100, \"memory_utilization\": 100,"
		"   \"gpu_utilization\": 100, \"io_utilization\": 100, \"network_utilization\": 100}},"
		" {\"worker_id\": \"cpu\", \"cpu_cores\": 8, \"available_memory\": 16}]");
	shim_sched *s = test_sched("priority", NULL);

	untimed.est_duration_s = 0;
	bg_untimed.est_duration_s = 0;
	CHECK_STR(choose(s, &urgent, &f), "gpu");
	CHECK_CONTAINS(reason, "earliest completion");
	CHECK_STR(choose(s, &bg, &f), "gpu");
	CHECK_CONTAINS(reason, "priority 5 (spread): earliest completion");
	CHECK_STR(choose(s, &due, &f), "gpu");
	CHECK_CONTAINS(reason, "earliest completion");
	CHECK_STR(choose(s, &untimed, &f), "none");
	CHECK_STR(choose(s, &bg_untimed, &f), "none");
	CHECK_CONTAINS(reason, "overloaded 2");
	/* While a worker is under the ceiling, the spread keeps to it. */
	for (int i = 0; i < 20; i++)
		CHECK_STR(choose(s, &bg, &one), "cpu");
	sched_close(s);
	fleet_free(&f);
	fleet_free(&one);
}

/* Work that states no duration (nginx without X-Expected-Duration): a
 * worker's mean is compared with the type's reference latency, not with
 * 1 s, so a perfect record of 30 s wins over none at every priority (it
 * is the reference: time 0.5), and among records the faster ranks first
 * for urgent work. */
static void test_unknown_duration(void)
{
	fleet f = fleet_parse(FLEET3);
	lbs_workload w = workload_parse(f.arena,
		"{\"test_id\": \"u\", \"test_type\": \"nlp\", \"expected_duration\": 0,"
		" \"priority\": 1}");
	shim_sched *s = test_sched("priority", NULL);

	/* outcomes without an expected duration: latency alone */
	for (int i = 0; i < 20; i++)
		CHECK_INT(report(s, &w, "fast", LBS_RESULT_SUCCESS, 30, 0), LBS_OK);
	for (uint32_t p = 1; p <= 3; p++) {
		w.priority = p;
		CHECK_STR(choose(s, &w, &f), "fast");
		CHECK_CONTAINS(reason, "time 0.50");
	}
	/* slow answers in 120 s: the reference, their geometric mean, is
	 * 60 s; fast is twice as fast as it (time 0.75), slow twice as slow */
	for (int i = 0; i < 20; i++)
		CHECK_INT(report(s, &w, "slow", LBS_RESULT_SUCCESS, 120, 0), LBS_OK);
	w.priority = 1;
	CHECK_STR(choose(s, &w, &f), "fast");
	CHECK_CONTAINS(reason, "time 0.75");
	sched_close(s);
	fleet_free(&f);
}

static void test_report_validation(void)
{
	fleet f = fleet_parse(FLEET3);
	lbs_workload urgent = workload_parse(f.arena,
		"{\"test_id\": \"u\", \"expected_duration\": 60, \"priority\": 1}");
	shim_sched *s = test_sched("priority", HISTORY);
	lbs_outcome o = { .struct_size = sizeof(o), .workload_type = urgent.type,
	                  .worker_id = "fast", .result = LBS_RESULT_SUCCESS,
	                  .duration_s = 5 };

	CHECK_INT(report(s, &urgent, "fast", LBS_RESULT_SUCCESS, NAN, 60), LBS_EINVAL);
	CHECK_INT(report(s, &urgent, "fast", LBS_RESULT_SUCCESS, INFINITY, 60), LBS_EINVAL);
	CHECK_INT(report(s, &urgent, "fast", LBS_RESULT_SUCCESS, -1, 60), LBS_EINVAL);
	CHECK_INT(report(s, &urgent, NULL, LBS_RESULT_SUCCESS, 5, 60), LBS_EINVAL);
	o.struct_size = 16;
	CHECK_INT(sched_report(s, &o), LBS_EINVAL);
	/* None of those taught anything. */
	CHECK_STR(choose(s, &urgent, &f), "slow");
	CHECK_CONTAINS(reason, "no history yet");

	/* Cancelled outcomes count nowhere. */
	report_n(s, &urgent, "fast", 5, LBS_RESULT_CANCELLED, 5);
	CHECK_STR(choose(s, &urgent, &f), "slow");
	CHECK_CONTAINS(reason, "no history yet");
	/* An unknown result is a failure: "slow" now has the worst history. */
	report_n(s, &urgent, "slow", 3, 99, 5);
	CHECK_STR(choose(s, &urgent, &f), "failing");

	sched_close(s);
	fleet_free(&f);
}

static void test_explain_stats(void)
{
	fleet f = fleet_parse(FLEET3);
	lbs_workload urgent = workload_parse(f.arena,
		"{\"test_id\": \"u\", \"expected_duration\": 60, \"priority\": 2,"
		" \"exclude_workers\": [\"failing\"]}");
	shim_sched *s = test_sched("priority", HISTORY);
	const cJSON *cands, *c0, *rej;
	cJSON *doc;

	/* Learned: 2 successes of 30 and 90 s (mean 60, population sd 30),
	 * one failure, one cancelled run that counts nowhere.  Preference:
	 * 0.5 -> 0.7*0.5 + 0.3*1 = 0.65 -> 0.7*0.65 + 0.3*(60/90) = 0.655
	 * -> 0.7*0.655 + 0 = 0.4585. */
	CHECK_INT(report(s, &urgent, "fast", LBS_RESULT_SUCCESS, 30, 60), LBS_OK);
	CHECK_INT(report(s, &urgent, "fast", LBS_RESULT_SUCCESS, 90, 60), LBS_OK);
	CHECK_INT(report(s, &urgent, "fast", LBS_RESULT_CANCELLED, 30, 60), LBS_OK);
	CHECK_INT(report(s, &urgent, "fast", LBS_RESULT_FAILURE, 5, 60), LBS_OK);
	json_len = 0;
	CHECK_INT(sched_explain(s, &urgent, (const lbs_worker *const *)f.workers, f.n,
	                        collect, NULL), LBS_OK);
	doc = cJSON_Parse(json);
	CHECK(doc != NULL);
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(doc, "scheduler")), "priority");
	CHECK_STR(cJSON_GetStringValue(cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "chosen"), 0)), "fast");
	cands = cJSON_GetObjectItem(doc, "candidates");
	CHECK_INT(cJSON_GetArraySize(cands), 2);
	c0 = cJSON_GetArrayItem(cands, 1);
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(c0, "worker")), "fast");
	CHECK_NEAR(cJSON_GetNumberValue(cJSON_GetObjectItem(c0, "samples")), 3, 0);
	CHECK_NEAR(cJSON_GetNumberValue(cJSON_GetObjectItem(c0, "success")), 2.0 / 3.0, 1e-6);
	CHECK_NEAR(cJSON_GetNumberValue(cJSON_GetObjectItem(c0, "time")), 1.0, 1e-9);
	CHECK_NEAR(cJSON_GetNumberValue(cJSON_GetObjectItem(c0, "mean_duration_s")), 60, 1e-6);
	CHECK_NEAR(cJSON_GetNumberValue(cJSON_GetObjectItem(c0, "duration_sd_s")), 30, 1e-6);
	/* The prior 7/3 at 0.5, then efficiencies 1, 2/3 and 0 (the
	 * cancelled run counts nowhere): (7/6 + 5/3) / (7/3 + 3). */
	CHECK_NEAR(cJSON_GetNumberValue(cJSON_GetObjectItem(c0, "preference")), 0.53125, 1e-4); /* wall-clock decay: test_store */
	CHECK_NEAR(cJSON_GetNumberValue(cJSON_GetObjectItem(c0, "load")), 0.12, 1e-9);
	/* speed: h = (0.2 * 2/3 + 0.6) / 0.8, score 0.8 h + 0.2 * 0.88 */
	CHECK_NEAR(cJSON_GetNumberValue(cJSON_GetObjectItem(c0, "score")),
	           0.8 * ((0.2 * 2.0 / 3.0 + 0.6) / 0.8) + 0.2 * 0.88, 1e-6);
	/* No history: no learned figures, only the neutral parts. */
	c0 = cJSON_GetArrayItem(cands, 0);
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(c0, "worker")), "slow");
	CHECK_NEAR(cJSON_GetNumberValue(cJSON_GetObjectItem(c0, "history")), 0.5, 0);
	CHECK(cJSON_GetObjectItem(c0, "preference") == NULL);
	rej = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "rejected"), 0);
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(rej, "worker")), "failing");
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(rej, "reason")),
	          "is in the workload's exclude list");
	CHECK_CONTAINS(cJSON_GetStringValue(cJSON_GetObjectItem(doc, "reason")), "priority 2 (speed)");
	cJSON_Delete(doc);

	CHECK_STR(choose(s, &urgent, &f), "fast");
	json_len = 0;
	CHECK_INT(sched_stats(s, collect, NULL), LBS_OK);
	CHECK_CONTAINS(json, "\"scheduler\":\"priority\"");
	CHECK_CONTAINS(json, "\"selects\":1");
	CHECK_CONTAINS(json, "\"reports\":4");
	CHECK_CONTAINS(json, "\"learned_pairs\":1");

	/* The store grows (it starts with room for 44 pairs) and still finds
	 * what it knew: the same pair per type, other types apart. */
	for (int i = 0; i < 300; i++) {
		char id[16];
		lbs_outcome o = { .struct_size = sizeof(o), .workload_type = (uint32_t)(i % 3),
		                  .worker_id = id, .result = LBS_RESULT_SUCCESS,
		                  .duration_s = 1 };

		snprintf(id, sizeof(id), "x%d", i / 2);
		CHECK_INT(sched_report(s, &o), LBS_OK);
	}
	json_len = 0;
	CHECK_INT(sched_stats(s, collect, NULL), LBS_OK);
	CHECK_CONTAINS(json, "\"learned_pairs\":301");
	json_len = 0;
	CHECK_INT(sched_explain(s, &urgent, (const lbs_worker *const *)f.workers, f.n,
	                        collect, NULL), LBS_OK);
	doc = cJSON_Parse(json);
	c0 = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "candidates"), 1);
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(c0, "worker")), "fast");
	CHECK_NEAR(cJSON_GetNumberValue(cJSON_GetObjectItem(c0, "samples")), 3, 0);
	cJSON_Delete(doc);
	CHECK(sched_desc(s)->caps & LBS_CAP_LEARNS);
	CHECK(sched_desc(s)->caps & LBS_CAP_MULTI);
	sched_close(s);
	fleet_free(&f);
}

static lbs_status open_with(const char *config, char *err, size_t errlen)
{
	shim_sched *s = NULL;
	lbs_status st = sched_open(test_host(), getenv("LBS_PLUGIN"), "priority",
	                           config, strlen(config), &s, err, errlen);

	sched_close(s);
	return st;
}

static void test_config(void)
{
	char err[512];

	CHECK_INT(open_with("{\"seed\": -3}", err, sizeof(err)), LBS_ECONFIG);
	CHECK_CONTAINS(err, "config field 'seed': must be an unsigned integer");
	CHECK_CONTAINS(err, "got -3");
	CHECK_INT(open_with("{\"seed\": 1.5}", err, sizeof(err)), LBS_ECONFIG);
	CHECK_CONTAINS(err, "got 1.5");
	/* 2^53 + 1 parses as 2^53: a seed the stats would not show as given */
	CHECK_INT(open_with("{\"seed\": 9007199254740993}", err, sizeof(err)), LBS_ECONFIG);
	CHECK_CONTAINS(err, "config field 'seed': must be an unsigned integer up to 2^53 - 1");
	CHECK_INT(open_with("{\"seed\": \"7\"}", err, sizeof(err)), LBS_ECONFIG);
	CHECK_CONTAINS(err, "got a string");
	CHECK_INT(open_with("{\"sed\": 1}", err, sizeof(err)), LBS_ECONFIG);
	CHECK_CONTAINS(err, "config field 'sed': unknown field (known: load_ceiling, seed, completion, store, "
	               "scan, sample)");
	/* The completion ranking's scan of a giant fleet (plugin/timed.h). */
	CHECK_INT(open_with("{\"scan\": \"sampled\", \"sample\": 16}", err, sizeof(err)), LBS_OK);
	CHECK_INT(open_with("{\"scan\": \"half\"}", err, sizeof(err)), LBS_ECONFIG);
	CHECK_CONTAINS(err, "config field 'scan': must be \"full\", \"sampled\" or \"auto\", got \"half\"");
	CHECK_INT(open_with("{\"sample\": 70000}", err, sizeof(err)), LBS_ECONFIG);
	CHECK_CONTAINS(err, "config field 'sample': must be an integer in 1..65536, got 70000");
	/* without the completion ranking nothing scans: said, not ignored */
	CHECK_INT(open_with("{\"completion\": false, \"scan\": \"sampled\"}", err, sizeof(err)),
	          LBS_ECONFIG);
	CHECK_CONTAINS(err, "config field 'scan': only the completion ranking scans, and "
	               "\"completion\": false turns it off; leave 'scan' out");
	CHECK_INT(open_with("{\"completion\": false, \"sample\": 7}", err, sizeof(err)),
	          LBS_ECONFIG);
	CHECK_CONTAINS(err, "config field 'sample': only the completion ranking scans");
	CHECK_INT(open_with("{\"completion\": false, \"seed\": 7}", err, sizeof(err)), LBS_OK);
	CHECK_INT(open_with("{\"load_ceiling\": 1.5}", err, sizeof(err)), LBS_ECONFIG);
	CHECK_CONTAINS(err, "config field 'load_ceiling': must be a number in 0..1, got 1.5");
	CHECK_INT(open_with("{\"load_ceiling\": 0.5, \"seed\": 9007199254740991}", err,
	                    sizeof(err)), LBS_OK);
}

/* Random fleets: what select chooses is what explain ranks first from a
 * full evaluation of every worker.  Urgent and normal timed work go
 * through hardware-aware's pruned completion ranking (bounds that skip
 * workers which cannot win), so a bound a hair too tight shows here; the
 * reports give some workers learned speeds and failures, and every select
 * opens work in the ledger, so that the learned and the queue bounds run
 * too. */
typedef struct prio_rnd {
	lbs_worker w;
	lbs_device d[3];
	const lbs_device *dp[3];
	char id[16];
} prio_rnd;

static uint64_t prio_rng = 99;

static uint32_t prnd(uint32_t n)
{
	prio_rng ^= prio_rng << 13;
	prio_rng ^= prio_rng >> 7;
	prio_rng ^= prio_rng << 17;
	return (uint32_t)(prio_rng % n);
}

static void prio_make(prio_rnd *r, uint32_t i)
{
	static const uint32_t classes[] = { LBS_CLASS_CPU, LBS_CLASS_GPU, LBS_CLASS_TPU,
	                                    LBS_CLASS_NPU };

	memset(r, 0, sizeof *r);
	snprintf(r->id, sizeof r->id, "w%02u", i);
	r->w.struct_size = sizeof r->w;
	r->w.id = r->id;
	r->w.n_devices = 1 + prnd(3);
	r->w.devices = r->dp;
	for (uint32_t d = 0; d < r->w.n_devices; d++) {
		lbs_device *x = &r->d[d];

		x->struct_size = sizeof *x;
		x->hw_class = classes[prnd(4)];
		x->backends = LBS_BACKEND_PYTORCH | (prnd(2) ? LBS_BACKEND_CUDA : 0);
		x->precisions = LBS_PREC_FP32;
		x->features = prnd(2) ? LBS_FEAT_TENSOR_CORES : 0;
		/* Now and then so much memory that the memory term is all
		 * but 1, which makes the bounds on the others tight. */
		x->mem_available_bytes = prnd(4) ? (uint64_t)(1 + prnd(8)) << 30 : UINT64_C(1) << 55;
		x->compute_units = prnd(4) ? 1 + prnd(100) : 0;
		x->clock_mhz = prnd(3) ? 500 + prnd(3000) : 0;
		x->tdp_watts = prnd(20) * 10;
		r->dp[d] = x;
	}
	/* Coarse figures, so that exact ties happen. */
	r->w.util_cpu = prnd(4) / 4.0;
	r->w.util_memory = prnd(2) / 2.0;
	r->w.temperature = prnd(3) / 2.0;
	r->w.thermal_state = prnd(4) == 0 ? LBS_THERMAL_COOLING : LBS_THERMAL_NORMAL;
	r->w.performance_level = 0.5 + prnd(2) / 2.0;
	r->w.active_tests = prnd(3);
	r->w.queued_tests = prnd(4) == 0 ? prnd(3) : 0;
	r->w.capacity = prnd(3);
	r->w.pending_work_s = prnd(4) ? LBS_WORK_UNKNOWN : prnd(4) * 20.0;
}

/* The first id of explain's "chosen", "none" when it has none. */
static const char *explained(shim_sched *s, const lbs_workload *wl,
                             const lbs_worker *const *ws, uint32_t n)
{
	static char out[32];
	cJSON *doc, *first;

	json_len = 0;
	json[0] = '\0';
	CHECK_INT(sched_explain(s, wl, ws, n, collect, NULL), LBS_OK);
	doc = cJSON_Parse(json);
	CHECK(doc != NULL);
	first = doc ? cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "chosen"), 0) : NULL;
	snprintf(out, sizeof out, "%s", first ? cJSON_GetStringValue(first) : "none");
	cJSON_Delete(doc);
	return out;
}

static void test_random_pruned_vs_full(void)
{
	enum { N = 24 };
	static prio_rnd rw[N];
	lbs_worker *ws[N];
	fleet f = { 0 };
	shim_sched *s = test_sched("priority", NULL);
	int mismatches = 0, timed = 0;

	f.workers = ws;
	f.n = N;
	for (int round = 0; round < 400; round++) {
		lbs_workload wl = {
			.struct_size = sizeof wl,
			.type = LBS_WL_VISION + prnd(3),
			.priority = 1 + prnd(3),
			.compute_intensity = prnd(5) / 4.0,
			.memory_intensity = prnd(5) / 4.0,
			.required_backends = prnd(3) == 0 ? LBS_BACKEND_CUDA : 0,
			.min_memory_bytes = (uint64_t)prnd(3) << 30,
			.est_duration_s = prnd(4) ? 10.0 * (1 + prnd(3)) : 0.0,
			.min_shards = 1,
			.max_shards = 1,
		};
		char want[32];

		for (uint32_t i = 0; i < N; i++) {
			if (round == 0 || prnd(8) == 0)
				prio_make(&rw[i], i);
			ws[i] = &rw[i].w;
		}
		/* Twins of the first half that differ only in temperature: the
		 * same completion, another suitability, so that the
		 * tie-breaks decide and a bound too tight drops the winner. */
		for (uint32_t i = N / 2; i < N; i++) {
			if (prnd(3))
				continue;
			memcpy(rw[i].d, rw[i - N / 2].d, sizeof rw[i].d);
			rw[i].w.n_devices = rw[i - N / 2].w.n_devices;
			rw[i].w.util_cpu = rw[i - N / 2].w.util_cpu;
			rw[i].w.util_memory = rw[i - N / 2].w.util_memory;
			rw[i].w.thermal_state = rw[i - N / 2].w.thermal_state;
			rw[i].w.performance_level = rw[i - N / 2].w.performance_level;
			rw[i].w.active_tests = rw[i - N / 2].w.active_tests;
			rw[i].w.queued_tests = rw[i - N / 2].w.queued_tests;
			rw[i].w.capacity = rw[i - N / 2].w.capacity;
			rw[i].w.pending_work_s = rw[i - N / 2].w.pending_work_s;
			rw[i].w.temperature = prnd(3) / 2.0;
		}
		/* Some learned speeds (x0.5 .. x2 of declared) and failures. */
		if (prnd(3) == 0) {
			const char *id = rw[prnd(N)].id;
			double expected = 20.0;

			CHECK_INT(report(s, &wl, id, prnd(4) ? LBS_RESULT_SUCCESS : LBS_RESULT_FAILURE,
			                 expected * (0.5 + prnd(4) / 2.0), expected), LBS_OK);
		}
		timed += wl.est_duration_s > 0.0;
		snprintf(want, sizeof want, "%s",
		         explained(s, &wl, (const lbs_worker *const *)ws, N));
		mismatches += strcmp(choose(s, &wl, &f), want) != 0;
	}
	CHECK_INT(mismatches, 0);
	CHECK(timed > 200);
	sched_close(s);
}

/* The spread's draw for position i, as scheduler-algos/priority.c makes
 * it: splitmix64's finaliser keyed by the seed and the position. */
static double ref_draw(uint64_t seed, uint32_t i)
{
	uint64_t z = seed + (uint64_t)(i + 1) * UINT64_C(0x9e3779b97f4a7c15);

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	z ^= z >> 31;
	return (double)(z >> 11) * 0x1.0p-53;
}

/*
 * prio_select with nothing learned (its fast paths) against the rules
 * written out plainly: for the spread, the reservoir in one pass (keep
 * worker i with probability weight / total so far, the least loaded of
 * the weightless when nobody has a weight); for speed and balanced, the
 * first best score.  Fleets up to 700 workers, so that the fast path's runs
 * (a bounded stack buffer) fill more than once; workloads with and
 * without an exclude list (the filter's inline and full paths), and of
 * memory alone or with precisions, features and compute units too (the
 * inline path's two copies), on workers that reserve memory now and then;
 * a position off by one, a total summed in another order or a run
 * searched the wrong way picks another worker.
 */
static void test_fast_one_vs_plain(void)
{
	enum { N = 700 };
	static prio_rnd rw[N];
	static const lbs_worker *ws[N];
	static const char *const gone[] = { "w03", "w10" };
	int mismatches = 0, multi_run = 0, weightless = 0, memory_only = 0, invalid = 0;
	uint32_t idx[1];

	for (uint32_t i = 0; i < N; i++) {
		prio_make(&rw[i], i);
		ws[i] = &rw[i].w;
	}
	for (int round = 0; round < 500; round++) {
		uint32_t n = round % 10 == 0 ? prnd(4) : 1 + prnd(N);
		lbs_workload wl = {
			.struct_size = sizeof wl,
			.type = LBS_WL_VISION,
			.priority = 1 + prnd(5),
			.required_backends = prnd(3) == 0 ? LBS_BACKEND_CUDA : 0,
			.min_memory_bytes = (uint64_t)prnd(3) << 30,
			.min_shards = 1,
			.max_shards = 1,
		};
		prio_params p = { .ceiling = prnd(4) ? 0.9 : 1.0,
		                  .draw_seed = ((uint64_t)prnd(1u << 30) << 32) | prnd(1u << 30) };
		int spread = wl.priority >= 4;
		/* Speed and balanced, nothing learned: history 0.5 each. */
		double hw = wl.priority <= 2 ? 0.8 : 0.6, lw = wl.priority <= 2 ? 0.2 : 0.4;
		double total = 0.0, zero_load = 0.0, best = -1.0;
		int64_t pick = -1, zero = -1;
		uint32_t eligible = 0, weighted = 0;
		prio_result res;

		if (prnd(4) == 0) {
			wl.exclude_ids = gone;
			wl.n_exclude = 2;
		}
		if (prnd(3) == 0) {
			wl.required_precisions = LBS_PREC_FP32;
			wl.required_features = prnd(2) ? LBS_FEAT_TENSOR_CORES : 0;
			wl.min_compute_units = prnd(2) ? 1 + prnd(60) : 0;
		}
		memory_only += elig_memory_only(&wl) && !elig_needs_full(&wl);
		/* Now and then a fleet where nobody has spare capacity. */
		for (uint32_t i = 0; i < n; i++) {
			if (prnd(16) == 0)
				prio_make(&rw[i], i);
			rw[i].w.reserved_memory_bytes = prnd(5) ? 0 : (uint64_t)prnd(4) << 30;
			if (round % 7 == 3) {
				rw[i].w.thermal_state = LBS_THERMAL_COOLING;
				rw[i].w.performance_level = 0.0;
			} else if (rw[i].w.performance_level == 0.0) {
				rw[i].w.performance_level = 1.0;
			}
		}
		/* Figures the loads' clamps must handle (NaN counts as 1),
		 * performance levels out of range and states that neither
		 * warm nor cool (the effective load's clamps and test),
		 * devices the filter skips, and now and then a worker that is
		 * not one, anywhere in a block of four or after the last. */
		for (uint32_t i = 0; i < n && round % 3 == 1; i++) {
			static const double odd[] = { -0.5, 1.5, NAN, 0.35, INFINITY };
			double *fig[] = { &rw[i].w.util_cpu, &rw[i].w.util_memory, &rw[i].w.util_gpu,
			                  &rw[i].w.util_io, &rw[i].w.util_network };

			if (prnd(4) == 0)
				*fig[prnd(5)] = odd[prnd(5)];
			if (prnd(16) == 0)
				rw[i].w.thermal_state = LBS_THERMAL_WARMING;
			else if (prnd(32) == 0)
				rw[i].w.thermal_state = prnd(2) ? 3 : UINT32_MAX;
			if (prnd(16) == 0)
				rw[i].w.performance_level = odd[prnd(5)];
			if (prnd(16) == 0)
				rw[i].dp[0] = NULL;
			else if (prnd(16) == 0)
				rw[i].d[0].struct_size = 8;
		}
		if (round % 11 == 6 && n > 0) {
			uint32_t q = prnd(n), how = prnd(3);
			const lbs_worker *keep = ws[q];

			rw[q].w.struct_size = how == 1 ? 8 : sizeof rw[q].w;
			rw[q].w.id = how == 2 ? NULL : rw[q].id;
			ws[q] = how == 0 ? NULL : keep;
			invalid += prio_select(&p, &wl, ws, n, 1, idx, &res) != LBS_EINVAL;
			ws[q] = keep;
			rw[q].w.struct_size = sizeof rw[q].w;
			rw[q].w.id = rw[q].id;
			continue;
		}
		for (uint32_t i = 0; i < n; i++) {
			double load, spare;

			if (elig_check(&wl, ws[i], p.ceiling, NULL) != ELIG_OK)
				continue;
			load = worker_load(ws[i]);
			spare = 1.0 - worker_effective_load(ws[i]);
			eligible++;
			total += spare;
			if (!spread) {
				if (hw * 0.5 + lw * spare > best) {
					best = hw * 0.5 + lw * spare;
					pick = i;
				}
			} else if (spare > 0.0) {
				weighted++;
				if (ref_draw(p.draw_seed, i) * total < spare)
					pick = i;
			} else if (zero < 0 || load < zero_load) {
				zero = i;
				zero_load = load;
			}
		}
		if (pick < 0)
			pick = zero;
		multi_run += weighted > 256;
		weightless += eligible > 0 && weighted == 0;
		idx[0] = UINT32_MAX;
		CHECK_INT(prio_select(&p, &wl, ws, n, 1, idx, &res), LBS_OK);
		mismatches += res.n_found != (pick >= 0) ||
		              (pick >= 0 && idx[0] != (uint32_t)pick) ||
		              res.n_eligible != eligible || res.total_weight != total;
	}
	CHECK_INT(mismatches, 0);
	CHECK_INT(invalid, 0);
	CHECK(multi_run > 8);
	CHECK(weightless > 2);
	CHECK(memory_only > 100 && memory_only < 400);
}

int main(void)
{
	test_speed_learns();
	test_balanced();
	test_spread();
	test_spread_saturated();
	test_deadline();
	test_ceiling_completion();
	test_unknown_duration();
	test_report_validation();
	test_explain_stats();
	test_config();
	test_random_pruned_vs_full();
	test_fast_one_vs_plain();
	return check_done("test_priority");
}
