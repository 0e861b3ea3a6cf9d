/*
 * test_orch.c -- multi-device workloads (issue 20): graph validation with
 * its one-line messages, the order of ready subtasks, upward ranks and the
 * critical path on a hand-worked graph, every recovery strategy through the
 * real plugin's schedulers, and aggregation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "choose.h"
#include "drive.h"
#include "orch.h"
#include "support.h"

static char err[1024];

static orch *load(const char *json)
{
	orch *o = orch_load(json, strlen(json), "g.json", NULL, 7, err, sizeof err);
	if (!o)
		fprintf(stderr, "load failed: %s\n", err);
	return o;
}

/* The error orch_load gives, or "loaded". */
static const char *refusal(const char *json)
{
	orch *o = orch_load(json, strlen(json), "g.json", NULL, 7, err, sizeof err);
	if (o) {
		orch_free(o);
		return "loaded";
	}
	CHECK(!strchr(err, '\n'));
	return err;
}

static void test_validation(void)
{
	CHECK_STR(refusal("{\"subtasks\": {\"a\": {\"dependencies\": [\"b\"]}, "
	                  "\"b\": {\"dependencies\": [\"c\"]}, \"c\": {\"dependencies\": [\"a\"]}}}"),
	          "g.json: subtask 'a': is on a dependency cycle (the graph must be acyclic)");
	/* A subtask behind a cycle is not named; one on it is. */
	CHECK_STR(refusal("{\"subtasks\": {\"x\": {\"dependencies\": [\"b\"]}, "
	                  "\"b\": {\"dependencies\": [\"c\"]}, \"c\": {\"dependencies\": [\"b\"]}}}"),
	          "g.json: subtask 'b': is on a dependency cycle (the graph must be acyclic)");
	CHECK_STR(refusal("{\"subtasks\": {\"a\": {\"dependencies\": [\"a\"]}}}"),
	          "g.json: subtask 'a': depends on itself (a cycle)");
	CHECK_STR(refusal("{\"subtasks\": {\"a\": {}, \"b\": {\"dependencies\": [\"nope\"]}}}"),
	          "g.json: subtask 'b': depends on 'nope', which the graph does not have");
	CHECK_STR(refusal("{\"subtasks\": {\"a\": {\"dependencies\": \"b\"}}}"),
	          "g.json: subtask 'a': field 'dependencies': must be an array of subtask ids");
	CHECK_CONTAINS(refusal("{\"subtasks\": {\"a\": {\"requirements\": "
	                       "{\"minimum_memory\": \"lots\"}}}}"),
	               "g.json: subtask 'a': requirements: field 'minimum_memory'");
	CHECK_CONTAINS(refusal("{\"subtasks\": {\"a\": {\"criticality\": \"urgent\"}}}"),
	               "g.json: subtask 'a': field 'criticality': must be one of critical");
	CHECK_CONTAINS(refusal("{\"aggregation_method\": \"vote\", \"subtasks\": {\"a\": {}}}"),
	               "g.json: field 'aggregation_method': must be one of concat");
	CHECK_CONTAINS(refusal("{\"subtasks\": {\"a\": {\"recovery\": {\"strategy\": \"pray\"}}}}"),
	               "field 'recovery.strategy': must be one of retry");
	CHECK_CONTAINS(refusal("{\"subtasks\": {\"a\": {\"criticality\": \"critical\", "
	                       "\"recovery\": {\"strategy\": \"skip\"}}}}"),
	               "subtask 'a': field 'recovery.strategy': 'skip' is for non-critical");
	CHECK_STR(refusal("{\"subtasks\": {\"a\": {\"recovery\": {\"strategy\": \"alternate\"}}}}"),
	          "g.json: subtask 'a': field 'recovery.strategy': 'alternate' needs 'alternates'");
	/* The graph's alternate, inherited by a subtask with no alternates,
	 * was an immediate retry; a subtask that has them, or its own
	 * strategy, is fine. */
	CHECK_STR(refusal("{\"recovery\": {\"strategy\": \"alternate\"}, \"subtasks\": {"
	                  "\"a\": {\"alternates\": [{}]}, \"b\": {}}}"),
	          "g.json: subtask 'b': field 'recovery.strategy': 'alternate' (the graph's) needs "
	          "'alternates': give the subtask alternates or a strategy of its own");
	CHECK_STR(refusal("{\"recovery\": {\"strategy\": \"alternate\"}, \"subtasks\": {"
	                  "\"a\": {\"alternates\": [{}]}, "
	                  "\"b\": {\"recovery\": {\"strategy\": \"retry\"}}}}"),
	          "loaded");
	CHECK_CONTAINS(refusal("{\"subtasks\": {\"a\": {\"recovery\": {\"max_attempts\": 0}}}}"),
	               "field 'recovery.max_attempts'");
	CHECK_CONTAINS(refusal("{\"subtasks\": {\"a\": {\"recovery\": {\"max_attempts\": 2.5}}}}"),
	               "field 'recovery.max_attempts': must be a whole number of runs, got 2.5");
	CHECK_CONTAINS(refusal("{\"subtasks\": {\"a\": {\"priority\": 9}}}"),
	               "g.json: subtask 'a': field 'priority'");
	/* out of range and not whole: one wording, the records' */
	CHECK_STR(refusal("{\"subtasks\": {\"a\": {\"priority\": 0}}}"),
	          "g.json: subtask 'a': field 'priority': must be an integer in 1..5, got 0");
	CHECK_STR(refusal("{\"subtasks\": {\"a\": {\"priority\": 2.5}}}"),
	          "g.json: subtask 'a': field 'priority': must be an integer in 1..5, got 2.5");
	CHECK_CONTAINS(refusal("{\"subtasks\": [{\"subtask_id\": \"a\"}, {\"subtask_id\": \"a\"}]}"),
	               "g.json: subtask 'a': appears twice in the graph");
	CHECK_CONTAINS(refusal("{\"subtasks\": [{\"dependencies\": []}]}"),
	               "g.json: subtasks[0]: field 'subtask_id': required");
	/* Not an object at all: said so, as the object form says it, not
	 * asked for the subtask_id it could never hold. */
	CHECK_STR(refusal("{\"subtasks\": [\"a\"]}"), "g.json: subtasks[0]: must be a JSON object");
	CHECK_STR(refusal("{\"subtasks\": [{\"subtask_id\": \"a\"}, null]}"),
	          "g.json: subtasks[1]: must be a JSON object");
	CHECK_STR(refusal("{\"subtasks\": {\"a\": 1}}"), "g.json: subtask 'a': must be a JSON object");
	/* The id is the problem, not the test_id it defaults to. */
	CHECK_STR(refusal("{\"subtasks\": {\"a\xff\": {\"requirements\": {}}}}"),
	          "g.json: subtask 'a\\xff': its id must be valid UTF-8");
	CHECK_STR(refusal("{\"subtasks\": [{\"subtask_id\": \"a\xff\"}]}"),
	          "g.json: subtasks[0]: field 'subtask_id': must be valid UTF-8, got \"a\\xff\"");
	/* A key given its own subtask_id: one of the two would be ignored. */
	CHECK_STR(refusal("{\"subtasks\": {\"a\": {\"subtask_id\": \"b\"}}}"),
	          "g.json: subtask 'a': field 'subtask_id': 'b' differs from its key; in the "
	          "object form the key is the id");
	CHECK_STR(refusal("{\"subtasks\": {\"a\": {\"subtask_id\": \"a\"}}}"), "loaded");
	/* A cap below the base: the one the document at hand gave is named. */
	CHECK_STR(refusal("{\"recovery\": {\"backoff_base_s\": 10, \"backoff_cap_s\": 1}, "
	                  "\"subtasks\": {\"a\": {}}}"),
	          "g.json: field 'recovery.backoff_cap_s': 1 s is below backoff_base_s, 10 s");
	CHECK_STR(refusal("{\"recovery\": {\"backoff_cap_s\": 5}, "
	                  "\"subtasks\": {\"a\": {\"recovery\": {\"backoff_base_s\": 10}}}}"),
	          "g.json: subtask 'a': field 'recovery.backoff_base_s': 10 s is above the "
	          "backoff_cap_s in force, 5 s (the graph's or the default; give a backoff_cap_s "
	          "of at least 10 s)");
	/* The default cap, 30 s, which the document never wrote */
	CHECK_STR(refusal("{\"recovery\": {\"backoff_base_s\": 60}, \"subtasks\": {\"a\": {}}}"),
	          "g.json: field 'recovery.backoff_base_s': 60 s is above the backoff_cap_s in "
	          "force, 30 s (the graph's or the default; give a backoff_cap_s of at least 60 s)");
	{
		/* An over-long key of the object form is a key, not subtasks[0]. */
		char doc[CONV_MAX_STRING + 64];
		int len = snprintf(doc, sizeof doc, "{\"subtasks\": {\"");
		memset(doc + len, 'k', CONV_MAX_STRING + 1);
		snprintf(doc + len + CONV_MAX_STRING + 1, sizeof doc - (size_t)len - CONV_MAX_STRING - 1,
		         "\": {}}}");
		CHECK_CONTAINS(refusal(doc), "g.json: field 'subtasks': the key 'kkkk");
		CHECK_CONTAINS(refusal(doc), "' is 4097 bytes long, more than 4096 (a subtask id)");
	}
	CHECK_CONTAINS(refusal("{\"subtasks\": {}}"), "at least one subtask");
	CHECK_CONTAINS(refusal("[1, 2]"), "a graph must be a JSON object");
	CHECK_CONTAINS(refusal("{\"subtasks\": {\"a\": {}},"), "g.json");
	CHECK_STR(refusal("{\"subtasks\": {\"a\": {}, \"b\": {\"dependencies\": [\"a\"]}}}"),
	          "loaded");
	{
		orch *o = load("{\"subtasks\": {\"a\": {\"priority\": 1, \"requirements\": "
		               "{\"priority\": 4}, \"alternates\": [{\"priority\": 5}]}}}");
		CHECK(o && orch_workload(o, 0)->priority == 1);
		orch_free(o);
	}
}

/* 100,000 subtasks are refused by their count, before any is converted:
 * the bound is the count, checked right after the parse (no timing). */
/* The graph's name starts every message: one of 2,182 bytes (a deep path,
 * a Python workload id) filled the buffer, the subtask and the problem cut
 * off.  Past ORCH_NAME_WHOLE bytes it is cut as ids are; up to it, whole. */
static void test_long_name(void)
{
	static const char g[] = "{\"subtasks\": {\"a\": {\"dependencies\": [\"zz\"]}}}";
	char name[2183], big[4096];
	orch *o;

	memset(name, 'd', sizeof name - 1);
	name[sizeof name - 1] = '\0';
	o = orch_load(g, strlen(g), name, NULL, 1, big, sizeof big);
	CHECK(!o);
	CHECK_INT((int)strlen(big), 64 + 3 + (int)strlen(": subtask 'a': depends on 'zz', which the "
	                                                 "graph does not have"));
	CHECK_CONTAINS(big, "ddd...: subtask 'a': depends on 'zz', which the graph does not have");
	o = orch_load("{", 1, name, NULL, 1, big, sizeof big);
	CHECK(!o && strlen(big) < 200 && strstr(big, "ddd...: not valid JSON"));
	/* a worded error of a host's, as the graph's own */
	o = orch_load("{\"subtasks\": {\"a\": {}}}", 23, name, NULL, 1, big, sizeof big);
	CHECK(o && orch_error(o, "a", big, sizeof big, "no") == -1);
	CHECK(strlen(big) < 100 && strstr(big, "ddd...: subtask 'a': no"));
	orch_free(o);
	name[ORCH_NAME_WHOLE] = '\0';
	o = orch_load(g, strlen(g), name, NULL, 1, big, sizeof big);
	CHECK(!o && !strncmp(big, name, ORCH_NAME_WHOLE) &&
	      !strcmp(big + ORCH_NAME_WHOLE, ": subtask 'a': depends on 'zz', which the graph does "
	                                     "not have"));
}

static void test_oversized(void)
{
	const uint32_t n = 100000;
	size_t cap = (size_t)n * 48 + 64, len = 0;
	char *text = malloc(cap);

	len += (size_t)snprintf(text + len, cap - len, "{\"subtasks\": {");
	len += (size_t)snprintf(text + len, cap - len, "\"s0\": {\"dependencies\": []}");
	for (uint32_t i = 1; i < n; i++)
		len += (size_t)snprintf(text + len, cap - len, ",\"s%u\": {\"dependencies\": [\"s%u\"]}",
		                        i, i - 1);
	len += (size_t)snprintf(text + len, cap - len, "}}");
	CHECK_STR(refusal(text),
	          "g.json: field 'subtasks': 100000 subtasks, more than the 10000 a graph may have");
	free(text);
}

/*
 * The hand-worked graph:  A(2) -> B(3) -> D(1);  A -> C(4) -> D;  E(5);  G(4).
 * Upward ranks: D 1, B 4, C 5, A 7, E 5, G 4.  Critical path A, C, D (7 s).
 */
static const char hand[] =
	"{\"name\": \"hand\", \"subtasks\": {"
	"\"A\": {\"requirements\": {\"expected_duration\": 2}},"
	"\"B\": {\"requirements\": {\"expected_duration\": 3}, \"dependencies\": [\"A\"]},"
	"\"C\": {\"requirements\": {\"expected_duration\": 4}, \"dependencies\": [\"A\"]},"
	"\"D\": {\"requirements\": {\"expected_duration\": 1}, \"dependencies\": [\"B\", \"C\"]},"
	"\"G\": {\"requirements\": {\"expected_duration\": 4}},"
	"\"E\": {\"requirements\": {\"expected_duration\": 5}}}}";

static void run_ok(orch *o, const char *id)
{
	int i = orch_find(o, id);
	orch_result r = {1, 1.0, NULL, 0, 0};
	CHECK(orch_start(o, (uint32_t)i, "w") == 0);
	CHECK(orch_cookie(o, (uint32_t)i) == 0); /* the host chose: no selection */
	CHECK(orch_record(o, (uint32_t)i, &r, err, sizeof err) == 0);
}

static const char *ready_ids(orch *o, double now)
{
	static char buf[256];
	uint32_t idx[16], n = orch_ready(o, now, idx, 16);
	buf[0] = 0;
	for (uint32_t k = 0; k < n; k++) {
		strcat(buf, k ? "," : "");
		strcat(buf, orch_id(o, idx[k]));
	}
	return buf;
}

static void test_critical_path_and_order(void)
{
	orch *o = load(hand);
	uint32_t cp[8], n;
	double len;

	CHECK(o != NULL);
	if (!o)
		return;
	CHECK_NEAR(orch_upward_rank(o, (uint32_t)orch_find(o, "D")), 1, 1e-12);
	CHECK_NEAR(orch_upward_rank(o, (uint32_t)orch_find(o, "B")), 4, 1e-12);
	CHECK_NEAR(orch_upward_rank(o, (uint32_t)orch_find(o, "C")), 5, 1e-12);
	CHECK_NEAR(orch_upward_rank(o, (uint32_t)orch_find(o, "A")), 7, 1e-12);
	CHECK_NEAR(orch_upward_rank(o, (uint32_t)orch_find(o, "E")), 5, 1e-12);
	CHECK_NEAR(orch_upward_rank(o, (uint32_t)orch_find(o, "G")), 4, 1e-12);
	CHECK_STR(orch_est_source(o, 0), "declared");
	n = orch_critical_path(o, cp, 8, &len);
	CHECK_INT(n, 3);
	CHECK_STR(orch_id(o, cp[0]), "A");
	CHECK_STR(orch_id(o, cp[1]), "C");
	CHECK_STR(orch_id(o, cp[2]), "D");
	CHECK_NEAR(len, 7, 1e-12);
	CHECK(!orch_on_critical_path(o, (uint32_t)orch_find(o, "B")));

	/* Critical path first, then rank, then id (B and G tie at 4). */
	CHECK_STR(ready_ids(o, 0), "A,E,G");
	run_ok(o, "A");
	CHECK_STR(ready_ids(o, 0), "C,E,B,G");
	run_ok(o, "B");
	CHECK_STR(ready_ids(o, 0), "C,E,G");
	run_ok(o, "C");
	CHECK_STR(ready_ids(o, 0), "D,E,G");
	CHECK_INT(orch_completed(o), 0);

	/* Estimates by hand change the path: B now 10 -> A, B, D. */
	orch_set_estimate(o, (uint32_t)orch_find(o, "B"), 10);
	orch_rank(o);
	n = orch_critical_path(o, cp, 8, &len);
	CHECK_INT(n, 3);
	CHECK_STR(orch_id(o, cp[1]), "B");
	CHECK_NEAR(len, 13, 1e-12);
	orch_free(o);

	/* A shortcut edge A -> D beside A -> B -> D keeps the path whole. */
	o = load("{\"subtasks\": {\"A\": {\"requirements\": {\"expected_duration\": 1}},"
	         "\"D\": {\"requirements\": {\"expected_duration\": 1}, \"dependencies\": [\"A\", \"B\"]},"
	         "\"B\": {\"requirements\": {\"expected_duration\": 1}, \"dependencies\": [\"A\"]}}}");
	n = o ? orch_critical_path(o, cp, 8, &len) : 0;
	CHECK_INT(n, 3);
	CHECK_NEAR(len, 3, 1e-12);
	orch_free(o);
}

/* The scheduler's own estimate: hardware-aware's run_s on the hetero fleet. */
static void test_estimate_from_scheduler(void)
{
	fleet f = fleet_load("examples/hetero/fleet.json");
	shim_sched *s = test_sched("hardware-aware", NULL), *rr = test_sched("round-robin", NULL);
	orch *o = load(hand);

	CHECK(o && orch_estimate(o, s, (const lbs_worker *const *)f.workers, f.n) == 0);
	CHECK_STR(orch_est_source(o, 0), "explain.run_s");
	/* A fast worker runs it in less than the declared 2 s. */
	CHECK(orch_est(o, 0) > 0 && orch_est(o, 0) < 2);
	/* Round-robin has no completion estimate: declared durations. */
	CHECK(orch_estimate(o, rr, (const lbs_worker *const *)f.workers, f.n) == 0);
	CHECK_STR(orch_est_source(o, 0), "declared");
	CHECK_NEAR(orch_est(o, 0), 2, 1e-12);
	orch_free(o);
	sched_close(s);
	sched_close(rr);
	fleet_free(&f);
}

/* The estimate is run_s of the worker explain() of the whole fleet chooses,
 * though orch_estimate explains only the best-scored workers: on the hetero
 * fleet backwards (the fastest last), after the fleet learned that its
 * first CPU runs vision work ten times faster than declared, for each kind
 * of work, under hardware-aware, priority, a composite (declared) and
 * adaptive, most of the fleet nearly full. */
static const char kinds[] =
	"{\"name\": \"kinds\", \"subtasks\": {"
	"\"v\": {\"requirements\": {\"test_type\": \"vision_image_classification\", \"expected_duration\": 30}},"
	"\"n\": {\"requirements\": {\"test_type\": \"nlp_text_generation\", \"expected_duration\": 20, \"minimum_memory\": 12}},"
	"\"a\": {\"requirements\": {\"test_type\": \"audio_speech_recognition\", \"expected_duration\": 9}},"
	"\"c\": {\"requirements\": {\"expected_duration\": 5, \"required_backend\": \"cpu\"}}}}";

static void test_estimate_is_explains(void)
{
	const char *names[] = {"hardware-aware", "priority", "composite", "adaptive"};
	fleet f = fleet_load("examples/hetero/fleet.json");

	for (uint32_t k = 0; k < f.n / 2; k++) {
		lbs_worker *w = f.workers[k];
		f.workers[k] = f.workers[f.n - 1 - k];
		f.workers[f.n - 1 - k] = w;
	}
	/* All but the A100s and TPUs nearly full: adaptive's context is the
	 * whole fleet's mean load (mid), where the best-scored few alone are
	 * idle (low) and its explanation would route to another child. */
	for (uint32_t k = 0; k < f.n; k++) {
		lbs_worker *w = f.workers[k];

		if (strncmp(w->id, "gpu_a100", 8) && strncmp(w->id, "tpu", 3))
			w->util_cpu = w->util_gpu = w->util_memory = w->util_io = w->util_network = 0.85;
	}
	for (int k = 0; k < 4; k++) {
		shim_sched *s = test_sched(names[k], NULL);
		orch *o = load(kinds);
		uint32_t checked = 0;

		for (int r = 0; r < 5; r++)
			CHECK_INT(report_to(s, LBS_WL_VISION, "cpu_intel_1", 0, LBS_RESULT_SUCCESS, 3, 30),
			          LBS_OK);
		CHECK(o && orch_estimate(o, s, (const lbs_worker *const *)f.workers, f.n) == 0);
		for (uint32_t i = 0; o && i < orch_count(o); i++) {
			/* as it is placed: raised by one on the critical path */
			lbs_workload wl = *orch_workload(o, i);
			if (orch_on_critical_path(o, i) && wl.priority > 1)
				wl.priority--;
			cJSON *doc = explain_doc(s, &wl, &f);
			const char *chosen = cJSON_GetStringValue(
				cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(doc, "chosen"), 0));
			const cJSON *c = chosen ? candidate(doc, chosen) : NULL;

			if (c && cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(c, "run_s"))) {
				CHECK_STR(orch_est_source(o, i), "explain.run_s");
				CHECK_NEAR(orch_est(o, i), doc_num(c, "run_s"), 1e-12);
				checked++;
			} else {
				CHECK_STR(orch_est_source(o, i), "declared");
				CHECK_NEAR(orch_est(o, i), orch_workload(o, i)->est_duration_s, 0);
			}
			cJSON_Delete(doc);
		}
		/* hardware-aware and priority estimate every kind, and so does
		 * adaptive at mid load (through priority); a composite's
		 * explain has no run_s of its own (its children's are
		 * inside). */
		CHECK_INT(checked, k == 2 ? 0 : 4);
		orch_free(o);
		sched_close(s);
	}
	fleet_free(&f);
}

/* The critical path's subtask is estimated at the priority it is placed
 * at: priority explains timed work at 1-3 with a run_s and spreads 4-5
 * without one, so a declared 4 raised to 3 was placed on a GPU for 30 s
 * and estimated at its declared 100.  The path is chosen at the declared
 * priorities: raised, a is shorter than b, which, on the path instead,
 * would be raised and a back at 100. */
static void test_estimate_at_the_priority_placed(void)
{
	fleet f = fleet_load("examples/fleet.json");
	shim_sched *s = test_sched("priority", NULL);
	orch *o = load("{\"subtasks\": {\"a\": {\"priority\": 4, \"requirements\": "
	               "{\"expected_duration\": 100}}, \"b\": {\"priority\": 4, "
	               "\"requirements\": {\"expected_duration\": 50}}}}");
	lbs_workload wl;
	uint32_t cp[4], n;
	double len;

	CHECK(o && orch_estimate(o, s, (const lbs_worker *const *)f.workers, f.n) == 0);
	if (o) {
		cJSON *doc;
		const cJSON *c;

		wl = *orch_workload(o, 0);
		wl.priority = 3;
		doc = explain_doc(s, &wl, &f);
		c = candidate(doc, cJSON_GetStringValue(cJSON_GetArrayItem(
			cJSON_GetObjectItemCaseSensitive(doc, "chosen"), 0)));
		n = orch_critical_path(o, cp, 4, &len);
		CHECK_INT(n, 1);
		CHECK_INT(cp[0], 0);
		CHECK_STR(orch_est_source(o, 0), "explain.run_s");
		CHECK(c && doc_num(c, "run_s") < 100);
		CHECK_NEAR(orch_est(o, 0), c ? doc_num(c, "run_s") : -1, 1e-12);
		CHECK_NEAR(len, orch_est(o, 0), 1e-12);
		CHECK_NEAR(orch_upward_rank(o, 0), orch_est(o, 0), 1e-12);
		/* off the path: its own priority, 4, spreads, and says no run_s */
		CHECK_STR(orch_est_source(o, 1), "declared");
		CHECK_NEAR(orch_est(o, 1), 50, 0);
		CHECK_NEAR(orch_upward_rank(o, 1), 50, 0);
		/* a plan's run on the worker chosen: the same requirements */
		for (uint32_t w = 0; c && w < f.n; w++)
			if (!strcmp(f.workers[w]->id, cJSON_GetStringValue(
				    cJSON_GetObjectItemCaseSensitive(c, "worker"))))
				CHECK_NEAR(orch_est_on(o, s, 0, f.workers[w]), orch_est(o, 0), 1e-12);
		cJSON_Delete(doc);
	}
	orch_free(o);
	sched_close(s);
	fleet_free(&f);
}

static void test_fleet_check(void)
{
	fleet f = fleet_load("examples/hetero/fleet.json");
	orch *o = load("{\"subtasks\": {\"ok\": {}, \"big\": {\"requirements\": "
	               "{\"minimum_memory\": 100000}}}}");

	CHECK(o && orch_check_fleet(o, (const lbs_worker *const *)f.workers, f.n, err,
	                            sizeof err) < 0);
	CHECK_STR(err, "g.json: subtask 'big': no worker in the fleet can run it "
	               "(has too little free memory)");
	orch_free(o);
	/* An alternate that fits makes it placeable. */
	o = load("{\"subtasks\": {\"big\": {\"requirements\": {\"minimum_memory\": 100000},"
	         "\"alternates\": [{\"minimum_memory\": 4}]}}}");
	CHECK(o && orch_check_fleet(o, (const lbs_worker *const *)f.workers, f.n, err,
	                            sizeof err) == 0);
	orch_free(o);
	fleet_free(&f);
}

static const char three_cpus[] =
	"[{\"worker_id\": \"c1\", \"supported_backends\": [\"cpu\"], \"available_memory\": 16, \"cpu_cores\": 8},"
	" {\"worker_id\": \"c2\", \"supported_backends\": [\"cpu\"], \"available_memory\": 16, \"cpu_cores\": 8},"
	" {\"worker_id\": \"c3\", \"supported_backends\": [\"cpu\"], \"available_memory\": 16, \"cpu_cores\": 8},"
	" {\"worker_id\": \"t1\", \"supported_backends\": [\"cpu\", \"tpu\"], \"available_memory\": 64, \"cpu_cores\": 8}]";

static void fail_run(orch *o, uint32_t i, double progress)
{
	orch_result r = {0, 3.0, NULL, progress, 0};
	CHECK(orch_record(o, i, &r, err, sizeof err) == 0);
}

static void test_retry(void)
{
	orch *o = load("{\"recovery\": {\"strategy\": \"retry\", \"max_attempts\": 4, "
	               "\"backoff_base_s\": 2, \"backoff_cap_s\": 5, \"jitter\": 0}, "
	               "\"subtasks\": {\"a\": {}}}");
	double d;
	const double want[] = {2, 4, 5};

	for (int k = 0; o && k < 3; k++) {
		CHECK(orch_start(o, 0, "w") == 0);
		fail_run(o, 0, 0);
		CHECK_INT(orch_recover(o, 0, 100, &d), ORCH_RETRY);
		CHECK_NEAR(d, want[k], 1e-12);
		/* Not ready before its backoff ends. */
		CHECK_STR(ready_ids(o, 100 + d - 0.001), "");
		CHECK_STR(ready_ids(o, 100 + d), "a");
	}
	/* The fourth run fails: no attempts left, the workload fails. */
	CHECK(o && orch_start(o, 0, "w") == 0);
	fail_run(o, 0, 0);
	CHECK_INT(orch_recover(o, 0, 100, &d), ORCH_NO_RECOVERY);
	CHECK_INT(orch_state_of(o, 0), ORCH_LOST);
	CHECK_INT(orch_completed(o), -1);
	orch_free(o);

	/* Jitter: the last half of each delay is random, within its bounds. */
	o = load("{\"recovery\": {\"max_attempts\": 50, \"backoff_base_s\": 8, "
	         "\"backoff_cap_s\": 8, \"jitter\": 0.5}, \"subtasks\": {\"a\": {}}}");
	{
		int differ = 0;
		double first = -1;
		for (int k = 0; o && k < 20; k++) {
			orch_start(o, 0, "w");
			fail_run(o, 0, 0);
			orch_recover(o, 0, 0, &d);
			CHECK(d >= 4 && d <= 8);
			if (first < 0)
				first = d;
			else if (d != first)
				differ = 1;
		}
		CHECK(differ);
	}
	orch_free(o);
}

/* Reassign: each failure excludes its worker, and no placement ever goes
 * back to one; when every worker has failed it, the subtask is lost. */
static void test_reassign(void)
{
	fleet f = fleet_parse(three_cpus);
	shim_sched *s = test_sched("round-robin", NULL);
	orch *o = load("{\"subtasks\": {\"a\": {\"requirements\": {\"required_backend\": \"cpu\"},"
	               "\"recovery\": {\"strategy\": \"reassign\", \"max_attempts\": 10}}}}");
	const char *used[8];
	uint32_t w;

	for (int k = 0; o && k < 4; k++) {
		CHECK_INT(orch_place(o, 0, s, (const lbs_worker *const *)f.workers, f.n, 1, &w, NULL),
		          LBS_OK);
		used[k] = f.workers[w]->id;
		for (int j = 0; j < k; j++)
			CHECK(strcmp(used[j], used[k]) != 0);
		CHECK_STR(orch_worker(o, 0), used[k]);
		fail_run(o, 0, 0);
		CHECK_INT(orch_recover(o, 0, 0, NULL), ORCH_REASSIGN);
		CHECK_INT(orch_n_excluded(o, 0), k + 1);
		CHECK_STR(orch_excluded(o, 0, (uint32_t)k), used[k]);
	}
	/* All four workers tried: nowhere left. */
	CHECK_INT(orch_place(o, 0, s, (const lbs_worker *const *)f.workers, f.n, 1, &w, NULL),
	          LBS_NO_WORKER);
	CHECK_INT(orch_state_of(o, 0), ORCH_LOST);
	orch_free(o);
	sched_close(s);
	fleet_free(&f);
}

/* A host's workers available now are not the fleet: when none of them is
 * left to reassign to, the subtask waits for another rather than being
 * lost (it was, for a worker the caller had not passed yet). */
static void test_reassign_among_workers_available(void)
{
	fleet f = fleet_parse(three_cpus);
	shim_sched *s = test_sched("round-robin", NULL);
	orch *o = load("{\"subtasks\": {\"a\": {\"requirements\": {\"required_backend\": \"cpu\"},"
	               "\"recovery\": {\"strategy\": \"reassign\", \"max_attempts\": 10}}}}");
	const lbs_worker *first[1];
	uint32_t w;

	if (!o)
		return;
	CHECK_INT(orch_place(o, 0, s, (const lbs_worker *const *)f.workers, f.n, 1, &w, NULL),
	          LBS_OK);
	first[0] = f.workers[w];
	fail_run(o, 0, 0);
	CHECK_INT(orch_recover(o, 0, 0, NULL), ORCH_REASSIGN);
	/* Only the worker it failed on is available: none for it, still pending. */
	CHECK_INT(orch_place(o, 0, s, first, 1, 0, &w, NULL), LBS_NO_WORKER);
	CHECK_INT(orch_state_of(o, 0), ORCH_PENDING);
	CHECK_INT(orch_completed(o), 0);
	/* The others come back: placed on one of them. */
	CHECK_INT(orch_place(o, 0, s, (const lbs_worker *const *)f.workers, f.n, 0, &w, NULL),
	          LBS_OK);
	CHECK(strcmp(f.workers[w]->id, first[0]->id) != 0);
	/* Given as the whole fleet, the same one worker means nowhere left. */
	fail_run(o, 0, 0);
	CHECK_INT(orch_recover(o, 0, 0, NULL), ORCH_REASSIGN);
	CHECK_INT(orch_place(o, 0, s, first, 1, 1, &w, NULL), LBS_NO_WORKER);
	CHECK_INT(orch_state_of(o, 0), ORCH_LOST);
	orch_free(o);
	sched_close(s);
	fleet_free(&f);
}

/* The workload's own exclusions and the failed workers go together: past
 * 4,096 ids in all they were cut (the converter takes 65,536), the
 * workload's last ones first, then the failed workers, and a subtask went
 * to a worker it excludes or back to one it failed on. */
static void test_reassign_past_4096_exclusions(void)
{
	fleet f = fleet_parse(
		"[{\"worker_id\": \"A\", \"supported_backends\": [\"cpu\"], \"available_memory\": 16, \"cpu_cores\": 8},"
		" {\"worker_id\": \"B\", \"supported_backends\": [\"cpu\"], \"available_memory\": 16, \"cpu_cores\": 8},"
		" {\"worker_id\": \"C\", \"supported_backends\": [\"cpu\"], \"available_memory\": 16, \"cpu_cores\": 8}]");
	shim_sched *s = test_sched("round-robin", NULL);
	size_t cap = 4096 * 16 + 512, len = 0;
	char *json = malloc(cap);
	const char *want[] = {"A", "B"};
	orch *o = NULL;
	uint32_t w;

	if (!json)
		return;
	len += (size_t)snprintf(json + len, cap - len,
	                        "{\"subtasks\": {\"a\": {\"recovery\": {\"strategy\": "
	                        "\"reassign\", \"max_attempts\": 10}, \"requirements\": "
	                        "{\"exclude_workers\": [");
	for (int k = 0; k < 4096; k++)
		len += (size_t)snprintf(json + len, cap - len, "\"dummy%d\",", k);
	snprintf(json + len, cap - len, "\"C\"]}}}}");
	o = load(json);
	free(json);
	CHECK_INT(o != NULL, 1); /* load() says why */
	if (!o) {
		sched_close(s);
		fleet_free(&f);
		return;
	}
	for (int k = 0; k < 2; k++) {
		CHECK_INT(orch_place(o, 0, s, (const lbs_worker *const *)f.workers, f.n, 1, &w, NULL),
		          LBS_OK);
		CHECK_STR(f.workers[w]->id, want[k]);
		fail_run(o, 0, 0);
		CHECK_INT(orch_recover(o, 0, 0, NULL), ORCH_REASSIGN);
	}
	/* A and B failed it, C is excluded: nowhere left. */
	CHECK_INT(orch_place(o, 0, s, (const lbs_worker *const *)f.workers, f.n, 1, &w, NULL),
	          LBS_NO_WORKER);
	CHECK_INT(orch_state_of(o, 0), ORCH_LOST);
	orch_free(o);
	sched_close(s);
	fleet_free(&f);
}

/* orch_drive's runs for test_drive_stops_at_a_loss: every run on worker 0
 * fails, gen 5 % of the way through its 1000 s; worker 1's succeed. */
static double full_runs(void *ctx, const orch *o, uint32_t i, uint32_t w, int *fails,
                        double *at)
{
	(void)ctx, (void)w;
	*fails = 0;
	*at = 1;
	return orch_workload(o, i)->est_duration_s;
}

typedef struct drive_log {
	double start[16];
	uint32_t n;
} drive_log;

static double fail_on_0(void *ctx, const orch *o, uint32_t i, uint32_t w, int *fails,
                        double *at)
{
	(void)ctx;
	*fails = w == 0;
	*at = 0.05;
	return orch_workload(o, i)->est_duration_s;
}

static void log_run(void *ctx, const orch *o, uint32_t i, uint32_t w, double start,
                    double finish, int ok)
{
	drive_log *l = ctx;

	(void)o, (void)i, (void)w, (void)finish, (void)ok;
	if (l->n < 16)
		l->start[l->n++] = start;
}

/* A graph lost places nothing more, not even the rest of the round in
 * which it was lost: gen, out of workers to reassign to at 50 s, left x2
 * bound to worker 0 at that moment (3 placements, 2 failures). */
static void test_drive_stops_at_a_loss(void)
{
	fleet f = fleet_parse(
		"[{\"worker_id\": \"gpu\", \"supported_backends\": [\"cpu\", \"cuda\"], \"has_gpu\": true,"
		"  \"available_accelerators\": {\"gpu\": 1}, \"available_memory\": 64, \"cpu_cores\": 8,"
		"  \"capacity\": 1},"
		" {\"worker_id\": \"tpu\", \"supported_backends\": [\"cpu\", \"tpu\"],"
		"  \"available_memory\": 64, \"cpu_cores\": 8, \"capacity\": 1}]");
	shim_sched *s = test_sched("round-robin", NULL);
	orch *o = load("{\"subtasks\": {"
	               "\"gen\": {\"requirements\": {\"required_backend\": \"cuda\","
	               "  \"expected_duration\": 1000},"
	               "  \"recovery\": {\"strategy\": \"reassign\", \"max_attempts\": 5}},"
	               "\"x1\": {\"requirements\": {\"expected_duration\": 100}},"
	               "\"x2\": {\"requirements\": {\"expected_duration\": 100}},"
	               "\"x3\": {\"requirements\": {\"expected_duration\": 100}},"
	               "\"x4\": {\"requirements\": {\"expected_duration\": 100}}}}");
	drive_log l = {{0}, 0};
	orch_exec x = {fail_on_0, log_run, &l, NULL};
	orch_drive_result r;

	if (!o)
		return;
	CHECK(orch_estimate(o, NULL, (const lbs_worker *const *)f.workers, f.n) == 0);
	CHECK(orch_drive(o, s, f.workers, f.n, &x, &r, err, sizeof err) == 0);
	CHECK_INT(r.completed, -1);
	CHECK_INT(orch_state_of(o, (uint32_t)orch_find(o, "gen")), ORCH_LOST);
	/* gen on the GPU and x1 on the TPU, both at 0; the loss at 50 s */
	CHECK_INT(r.placements, 2);
	CHECK_INT(r.failures, 1);
	CHECK_INT(l.n, 2);
	for (uint32_t k = 0; k < l.n; k++)
		CHECK(l.start[k] < 50);
	orch_free(o);
	sched_close(s);
	fleet_free(&f);
}

static void test_skip_and_aggregate(void)
{
	orch *o = load("{\"name\": \"g\", \"recovery\": {\"strategy\": \"skip\"}, \"subtasks\": {"
	               "\"a\": {}, \"b\": {\"dependencies\": [\"a\"]},"
	               "\"c\": {\"criticality\": \"critical\"},"
	               "\"d\": {\"dependencies\": [\"b\", \"c\"]}}}");
	orch_result ok = {1, 1, "{\"text\": \"A\"}", 0, 0};
	char *agg;
	double d;

	if (!o)
		return;
	CHECK(orch_start(o, 0, "w") == 0);
	CHECK(orch_record(o, 0, &ok, err, sizeof err) == 0);
	CHECK(orch_start(o, 1, "w") == 0);
	fail_run(o, 1, 0);
	CHECK_INT(orch_recover(o, 1, 0, NULL), ORCH_SKIP);
	CHECK_INT(orch_state_of(o, 1), ORCH_SKIPPED);
	/* The graph's "skip" does not skip the critical c: it retries. */
	CHECK(orch_start(o, 2, "w") == 0);
	fail_run(o, 2, 0);
	CHECK_INT(orch_recover(o, 2, 0, &d), ORCH_RETRY);
	CHECK_STR(ready_ids(o, 1000), "c");
	CHECK(orch_start(o, 2, "w") == 0);
	ok.payload_json = "{\"text\": \"C\"}";
	CHECK(orch_record(o, 2, &ok, err, sizeof err) == 0);
	/* d runs without b, whose result is missing. */
	CHECK_STR(ready_ids(o, 1000), "d");
	CHECK(orch_start(o, 3, "w") == 0);
	ok.payload_json = "[1, 2]";
	CHECK(orch_record(o, 3, &ok, err, sizeof err) == 0);
	CHECK_INT(orch_completed(o), 1);
	agg = orch_aggregate(o, err, sizeof err);
	CHECK_STR(agg, "{\"name\":\"g\",\"aggregation_method\":\"concat\",\"completed\":true,"
	               "\"result\":[{\"text\":\"A\"},{\"text\":\"C\"},[1,2]],"
	               "\"skipped\":[\"b\"],\"lost\":[]}");
	free(agg);
	/* A payload that is not JSON is refused, naming the subtask. */
	orch_free(o);
}

/* Run every subtask of a fresh graph with these payloads, then aggregate. */
static char *aggregate_of(const char *method, const char *const *payloads, int n)
{
	char doc[512];
	orch *o;
	char *agg;
	int len = snprintf(doc, sizeof doc, "{\"aggregation_method\": \"%s\", \"subtasks\": {", method);

	for (int i = 0; i < n; i++)
		len += snprintf(doc + len, sizeof doc - (size_t)len, "%s\"s%d\": {}", i ? "," : "", i);
	snprintf(doc + len, sizeof doc - (size_t)len, "}}");
	o = load(doc);
	if (!o)
		return NULL;
	for (int i = 0; i < n; i++) {
		orch_result r = {1, 1, payloads[i], 0, 0};
		orch_start(o, (uint32_t)i, "w");
		CHECK(orch_record(o, (uint32_t)i, &r, err, sizeof err) == 0);
	}
	agg = orch_aggregate(o, err, sizeof err);
	orch_free(o);
	return agg;
}

static void test_aggregation(void)
{
	const char *nums[] = {"3", "{\"value\": 5, \"unit\": \"s\"}", "1"};
	const char *objs[] = {"{\"a\": 1, \"b\": 2}", "{\"b\": 3}", "null"};
	const char *bad[] = {"1", "\"text\""};
	const char *huge[] = {"1e308", "1e308"};
	const char *mixed[] = {"-1e308", "-1.5e308", "-0.5e308"};
	const char *inf[] = {"1", "1e999"};
	char *a;

	a = aggregate_of("sum", nums, 3);
	CHECK_CONTAINS(a, "\"aggregation_method\":\"sum\",\"completed\":true,\"result\":9,");
	free(a);
	a = aggregate_of("average", nums, 3);
	CHECK_CONTAINS(a, "\"result\":3,");
	free(a);
	a = aggregate_of("max", nums, 3);
	CHECK_CONTAINS(a, "\"result\":5,");
	free(a);
	a = aggregate_of("min", nums, 3);
	CHECK_CONTAINS(a, "\"result\":1,");
	free(a);
	a = aggregate_of("merge", objs, 3);
	CHECK_CONTAINS(a, "\"result\":{\"a\":1,\"b\":3},");
	free(a);
	/* The plain sum overflows: it was null, the average too. */
	a = aggregate_of("average", huge, 2);
	CHECK_CONTAINS(a, "\"result\":1e+308,");
	free(a);
	a = aggregate_of("average", mixed, 3);
	CHECK_CONTAINS(a, "\"result\":-1e+308,");
	free(a);
	a = aggregate_of("sum", huge, 2);
	CHECK(a == NULL);
	CHECK_STR(err, "g.json: aggregation_method 'sum': the results add up to beyond the range "
	               "of a double (about +-1.8e308)");
	/* Past the largest double on the way, back in range at the end. */
	{
		const char *back[] = {"1e308", "1e308", "-1e308", "-0.5e308"};

		a = aggregate_of("sum", back, 4);
		CHECK_CONTAINS(a, "\"result\":5e+307,");
		free(a);
	}
	a = aggregate_of("max", inf, 2);
	CHECK(a == NULL);
	CHECK_STR(err, "g.json: subtask 's1': payload's number is beyond the range of a double");
	a = aggregate_of("sum", bad, 2);
	CHECK(a == NULL);
	CHECK_STR(err, "g.json: subtask 's1': payload must be a number (or an object with a "
	               "number \"value\") to sum");
	/* A result for a subtask that is not running, a payload that is not JSON. */
	{
		orch *o = load("{\"subtasks\": {\"a\": {}}}");
		orch_result r = {1, 1, "{oops", 0, 0};
		CHECK(orch_record(o, 0, &r, err, sizeof err) < 0);
		CHECK_STR(err, "g.json: subtask 'a': has no run to record a result for");
		orch_start(o, 0, "w");
		CHECK(orch_record(o, 0, &r, err, sizeof err) < 0);
		CHECK_STR(err, "g.json: subtask 'a': payload is not one JSON value");
		/* text after the value, and a number JSON does not allow: their
		 * text is handed on as it is, so it must be JSON */
		r.payload_json = "1 2";
		CHECK(orch_record(o, 0, &r, err, sizeof err) < 0);
		CHECK_STR(err, "g.json: subtask 'a': payload is not one JSON value");
		r.payload_json = "{\"n\": 01}";
		CHECK(orch_record(o, 0, &r, err, sizeof err) < 0);
		CHECK_CONTAINS(err, "g.json: subtask 'a': payload: ");
		CHECK_CONTAINS(err, "01 at byte 6 is not a JSON number");
		/* whitespace cJSON takes and JSON does not (a form feed, which
		 * made the member scan run past the text), a raw control byte
		 * in a string, a byte order mark */
		r.payload_json = "{\f\"a\": 1}";
		CHECK(orch_record(o, 0, &r, err, sizeof err) < 0);
		CHECK_STR(err, "g.json: subtask 'a': payload: control byte 0x0c at byte 1 (JSON allows "
		               "only a tab, CR or LF between tokens, and none in a string)");
		r.payload_json = "[\"a\tb\"]";
		CHECK(orch_record(o, 0, &r, err, sizeof err) < 0);
		CHECK_CONTAINS(err, "control byte 0x09 at byte 3");
		r.payload_json = "\xef\xbb\xbf" "1";
		CHECK(orch_record(o, 0, &r, err, sizeof err) < 0);
		CHECK_CONTAINS(err, "g.json: subtask 'a': payload: ");
		CHECK_CONTAINS(err, "byte order mark");
		orch_free(o);
	}
	/* Results come back as recorded: a number a double cannot hold, and
	 * the digits cJSON's print leaves out (0.30000000000000004 as 0.3);
	 * in a merge too, and a sum in every digit it needs. */
	{
		const char *exact[] = {"1733390000123456789", "0.30000000000000004",
		                       "{\"ts\": 12345678901234567891, \"s\": \"a\\\"}\"}"};
		const char *merged[] = {"{\"a\": 1733390000123456789, \"b\": [1, {\"c\": 0.1}]}",
		                        " { \"b\" : 0.30000000000000004 } "};
		const char *tenths[] = {"0.1", "0.2"};

		a = aggregate_of("concat", exact, 3);
		CHECK_CONTAINS(a, "\"result\":[1733390000123456789,0.30000000000000004,"
		                  "{\"ts\":12345678901234567891,\"s\":\"a\\\"}\"}],");
		free(a);
		a = aggregate_of("merge", merged, 2);
		CHECK_CONTAINS(a, "\"result\":{\"a\":1733390000123456789,\"b\":0.30000000000000004},");
		free(a);
		a = aggregate_of("sum", tenths, 2);
		CHECK_CONTAINS(a, "\"result\":0.30000000000000004,");
		free(a);
		/* a string ending in a backslash: the strings after it keep their
		 * spaces and "//" (cJSON_Minify lost count of the quotes) */
		{
			const char *paths[] = {"{\"dir\": \"C:\\\\\", \"msg\": \"hello world\", "
			                       "\"url\": \"http://x/y\"}"};

			a = aggregate_of("concat", paths, 1);
			CHECK_CONTAINS(a, "\"result\":[{\"dir\":\"C:\\\\\",\"msg\":\"hello world\","
			                  "\"url\":\"http://x/y\"}],");
			free(a);
			a = aggregate_of("merge", paths, 1);
			CHECK_CONTAINS(a, "\"result\":{\"dir\":\"C:\\\\\",\"msg\":\"hello world\","
			                  "\"url\":\"http://x/y\"},");
			free(a);
		}
	}
}

static void test_alternate(void)
{
	fleet f = fleet_parse(three_cpus);
	shim_sched *s = test_sched("hardware-aware", NULL);
	orch *o = load("{\"subtasks\": {\"gen\": {\"requirements\": {\"required_backend\": \"cpu\","
	               "\"minimum_memory\": 8},"
	               "\"alternates\": [{\"required_backend\": \"tpu\"}],"
	               "\"recovery\": {\"strategy\": \"alternate\"}}}}");
	uint64_t cookie;
	uint32_t w;

	if (!o)
		return;
	CHECK(orch_workload(o, 0)->required_backends == LBS_BACKEND_CPU);
	CHECK_INT(orch_place(o, 0, s, (const lbs_worker *const *)f.workers, f.n, 1, &w, NULL), LBS_OK);
	/* The selection's cookie, for the outcome of this run: with it the
	 * scheduler closes the placement it counts as work ahead. */
	cookie = orch_cookie(o, 0);
	CHECK(cookie != 0);
	CHECK_INT(report_to(s, orch_workload(o, 0)->type, f.workers[w]->id, cookie,
	                    LBS_RESULT_FAILURE, 1, 1), LBS_OK);
	json_len = 0;
	CHECK_INT(sched_stats(s, collect, NULL), LBS_OK);
	CHECK_CONTAINS(json, "\"closed\":1");
	fail_run(o, 0, 0);
	CHECK_INT(orch_recover(o, 0, 0, NULL), ORCH_ALTERNATE);
	CHECK(orch_workload(o, 0)->required_backends == LBS_BACKEND_TPU);
	CHECK_INT(orch_place(o, 0, s, (const lbs_worker *const *)f.workers, f.n, 1, &w, NULL), LBS_OK);
	CHECK_STR(f.workers[w]->id, "t1");
	CHECK(orch_cookie(o, 0) != 0 && orch_cookie(o, 0) != cookie);
	orch_free(o);
	sched_close(s);
	fleet_free(&f);
}

/* x's first run fails (only its). */
static double fail_x_once(void *ctx, const orch *o, uint32_t i, uint32_t w, int *fails,
                          double *at)
{
	(void)ctx;
	(void)w;
	*fails = !strcmp(orch_id(o, i), "x") && orch_attempts(o, i) == 1;
	*at = 0.5;
	return orch_workload(o, i)->est_duration_s;
}

static double fail_x_twice(void *ctx, const orch *o, uint32_t i, uint32_t w, int *fails,
                           double *at)
{
	(void)ctx;
	(void)w;
	*fails = !strcmp(orch_id(o, i), "x") && orch_attempts(o, i) <= 2;
	*at = 0.5;
	return orch_workload(o, i)->est_duration_s;
}

/* An alternate recovery moves the estimate, the ranks and the path to the
 * new requirements: they still described the 600 s ones, and x, now 5 s,
 * stayed the critical path ahead of y's 100 s. */
static void test_alternate_is_estimated_anew(void)
{
	static const char g[] =
		"{\"subtasks\": {\"x\": {\"requirements\": {\"expected_duration\": 600},"
		"\"alternates\": [{\"expected_duration\": 5}], \"recovery\": {\"strategy\": \"alternate\"}},"
		"\"y\": {\"requirements\": {\"expected_duration\": 100}}}}";
	fleet f = fleet_parse(three_cpus);
	shim_sched *s = test_sched("hardware-aware", NULL);
	orch *o = load(g);
	uint32_t cp[4];
	double len, before;
	orch_drive_result r;
	orch_exec x = {fail_x_once, NULL, NULL, NULL};

	if (!o)
		return;
	/* a host's recovery, no scheduler: the new requirements' declared 5 s */
	CHECK(orch_start(o, 0, "c1") == 0);
	fail_run(o, 0, 0);
	CHECK_INT(orch_recover(o, 0, 0, NULL), ORCH_ALTERNATE);
	CHECK_NEAR(orch_est(o, 0), 5, 0);
	CHECK_STR(orch_est_source(o, 0), "declared");
	CHECK_NEAR(orch_upward_rank(o, 0), 5, 0);
	CHECK_INT(orch_critical_path(o, cp, 4, &len), 1);
	CHECK_STR(orch_id(o, cp[0]), "y");
	CHECK_NEAR(len, 100, 0);
	CHECK(!orch_on_critical_path(o, 0));
	orch_free(o);

	/* orch_drive has the scheduler: its estimate of the alternate */
	o = load(g);
	if (!o)
		goto out;
	CHECK(orch_estimate(o, s, (const lbs_worker *const *)f.workers, f.n) == 0);
	before = orch_est(o, 0);
	CHECK_INT(orch_critical_path(o, cp, 4, NULL), 1);
	CHECK_STR(orch_id(o, cp[0]), "x");
	CHECK(orch_drive(o, s, f.workers, f.n, &x, &r, err, sizeof err) == 0);
	CHECK_INT(r.failures, 1);
	CHECK_INT(orch_alternate(o, 0), 1);
	CHECK_STR(orch_est_source(o, 0), "explain.run_s");
	CHECK(orch_est(o, 0) < before / 50);
	CHECK_NEAR(orch_upward_rank(o, 0), orch_est(o, 0), 0);
	CHECK_INT(orch_critical_path(o, cp, 4, NULL), 1);
	CHECK_STR(orch_id(o, cp[0]), "y");
	orch_free(o);

	/* A second failure moves x on to a CUDA alternate no worker here has,
	 * and back to the 5 s one it fits: estimated for that one, not left
	 * at the 1,000 s the move declared (x became the critical path). */
	o = load("{\"subtasks\": {\"x\": {\"requirements\": {\"expected_duration\": 600},"
	         "\"alternates\": [{\"expected_duration\": 5},"
	         " {\"required_backend\": \"cuda\", \"expected_duration\": 1000}],"
	         " \"recovery\": {\"strategy\": \"alternate\"}},"
	         "\"y\": {\"requirements\": {\"expected_duration\": 100}}}}");
	if (!o)
		goto out;
	CHECK(orch_estimate(o, s, (const lbs_worker *const *)f.workers, f.n) == 0);
	x.run = fail_x_twice;
	CHECK(orch_drive(o, s, f.workers, f.n, &x, &r, err, sizeof err) == 0);
	CHECK_INT(r.failures, 2);
	CHECK_INT(orch_alternate(o, 0), 1);
	CHECK_STR(orch_est_source(o, 0), "explain.run_s");
	CHECK(orch_est(o, 0) < before / 50);
	CHECK_INT(orch_critical_path(o, cp, 4, NULL), 1);
	CHECK_STR(orch_id(o, cp[0]), "y");
	orch_free(o);
out:
	sched_close(s);
	fleet_free(&f);
}

/* Running subtasks hold their memory and accelerators, as decide's stream
 * holds a placement's: a worker of 100 GB ran three subtasks of 60 GB at
 * once.  Held memory comes back: x, reassigned away from m2, waits for y
 * to free m1 rather than being lost for want of a worker. */
static void test_drive_holds_memory(void)
{
	fleet f = fleet_parse(
		"[{\"worker_id\": \"m1\", \"supported_backends\": [\"cpu\"], \"available_memory\": 100,"
		"  \"cpu_cores\": 8, \"capacity\": 4},"
		" {\"worker_id\": \"m2\", \"supported_backends\": [\"cpu\"], \"available_memory\": 100,"
		"  \"cpu_cores\": 8, \"capacity\": 4, \"has_gpu\": true,"
		"  \"available_accelerators\": {\"gpu\": 2}}]");
	shim_sched *s = test_sched("round-robin", NULL);
	orch *o = load("{\"subtasks\": {"
	               "\"x\": {\"requirements\": {\"minimum_memory\": 60, \"expected_duration\": 10},"
	               "  \"recovery\": {\"strategy\": \"reassign\"}},"
	               "\"y\": {\"requirements\": {\"minimum_memory\": 60, \"expected_duration\": 100}}}}");
	orch_exec x = {fail_x_once, NULL, NULL, NULL};
	drive_log l = {{0}, 0};
	orch_exec logged = {full_runs, log_run, &l, NULL};
	orch_drive_result r;

	if (!o)
		goto out;
	CHECK(orch_drive(o, s, f.workers, f.n, &x, &r, err, sizeof err) == 0);
	CHECK_INT(r.completed, 1);
	CHECK_INT(r.failures, 1);
	CHECK_NEAR(r.makespan_s, 110, 1e-9);
	CHECK_STR(orch_worker(o, 0), "m1");
	/* idle again, as the drive found the fleet */
	CHECK(f.workers[0]->reserved_memory_bytes == 0 && !f.workers[1]->accel_reserved);
	orch_free(o);

	/* three of 1 GPU on a worker of 2 (memory ample): two at once */
	o = load("{\"subtasks\": {"
	         "\"a\": {\"requirements\": {\"required_accelerators\": {\"gpu\": 1}, \"expected_duration\": 10}},"
	         "\"b\": {\"requirements\": {\"required_accelerators\": {\"gpu\": 1}, \"expected_duration\": 10}},"
	         "\"c\": {\"requirements\": {\"required_accelerators\": {\"gpu\": 1}, \"expected_duration\": 10}}}}");
	if (!o)
		goto out;
	CHECK(orch_drive(o, s, f.workers, f.n, &logged, &r, err, sizeof err) == 0);
	CHECK_INT(r.completed, 1);
	CHECK_NEAR(r.makespan_s, 20, 1e-9);
	CHECK_INT(l.n, 3);
	CHECK(l.n == 3 && l.start[0] == 0 && l.start[1] == 0 && l.start[2] == 10);
	CHECK(!f.workers[1]->accel_reserved);
	orch_free(o);
out:
	sched_close(s);
	fleet_free(&f);
}

/* orch_drive's done for test_drive_stops_on_signal: a signal's flag set
 * as the first run ends. */
static void stop_at_first(void *ctx, const orch *o, uint32_t i, uint32_t w, double start,
                          double finish, int ok)
{
	(void)o, (void)i, (void)w, (void)start, (void)finish, (void)ok;
	*(volatile sig_atomic_t *)ctx = SIGINT;
}

/* A signal ends the drive at its next event: a plan of 10,000 subtasks ran
 * on for 12 s past a SIGINT, every line printed.  Here one worker of one
 * slot and ten subtasks: stopped as the first run ends, before the next
 * round places the second; the fleet left idle. */
static void test_drive_stops_on_signal(void)
{
	fleet f = fleet_parse("[{\"worker_id\": \"c1\", \"supported_backends\": [\"cpu\"],"
	                      "  \"available_memory\": 16, \"cpu_cores\": 4, \"capacity\": 1,"
	                      "  \"reserved_memory\": 4}]");
	shim_sched *s = test_sched("round-robin", NULL);
	volatile sig_atomic_t flag = 0;
	orch_exec x = {full_runs, stop_at_first, (void *)&flag, &flag};
	orch_drive_result r;
	char g[1024];
	int len = snprintf(g, sizeof g, "{\"subtasks\": {");
	orch *o;

	for (int i = 0; i < 10; i++)
		len += snprintf(g + len, sizeof g - (size_t)len,
		                "%s\"t%d\": {\"requirements\": {\"minimum_memory\": 2,"
		                " \"expected_duration\": 10}}", i ? ", " : "", i);
	snprintf(g + len, sizeof g - (size_t)len, "}}");
	if (!(o = load(g)))
		goto out;
	CHECK(orch_drive(o, s, f.workers, f.n, &x, &r, err, sizeof err) == 0);
	CHECK_INT(r.stopped, 1);
	CHECK_INT(r.completed, 0);
	CHECK_INT(r.placements, 1);
	CHECK_NEAR(r.makespan_s, 10, 1e-9);
	CHECK(f.workers[0]->active_tests == 0 && f.workers[0]->reserved_memory_bytes == 0);
	orch_free(o);
	/* No flag: the same graph to its end, ten runs one after another. */
	flag = 0;
	x.done = NULL;
	if (!(o = load(g)))
		goto out;
	CHECK(orch_drive(o, s, f.workers, f.n, &x, &r, err, sizeof err) == 0);
	CHECK_INT(r.stopped, 0);
	CHECK_INT(r.completed, 1);
	CHECK_INT(r.placements, 10);
	CHECK_NEAR(r.makespan_s, 100, 1e-9);
	orch_free(o);
out:
	sched_close(s);
	fleet_free(&f);
}

static void test_checkpoint(void)
{
	orch *o = load("{\"subtasks\": {\"a\": {\"recovery\": {\"strategy\": \"checkpoint\"}}}}");

	if (!o)
		return;
	CHECK_NEAR(orch_remaining(o, 0), 1, 1e-12);
	orch_start(o, 0, "w");
	fail_run(o, 0, 0.5);
	CHECK_INT(orch_recover(o, 0, 0, NULL), ORCH_CHECKPOINT);
	CHECK_NEAR(orch_remaining(o, 0), 0.5, 1e-12);
	CHECK_STR(ready_ids(o, 0), "a");
	/* A later run that checkpointed less does not go backwards. */
	orch_start(o, 0, "w");
	fail_run(o, 0, 0.25);
	orch_recover(o, 0, 0, NULL);
	CHECK_NEAR(orch_remaining(o, 0), 0.5, 1e-12);
	orch_free(o);
	/* Other strategies start over. */
	o = load("{\"subtasks\": {\"a\": {\"recovery\": {\"strategy\": \"reassign\"}}}}");
	orch_start(o, 0, "w");
	fail_run(o, 0, 0.5);
	orch_recover(o, 0, 0, NULL);
	CHECK_NEAR(orch_remaining(o, 0), 1, 1e-12);
	orch_free(o);
}

int main(void)
{
	test_validation();
	test_long_name();
	test_oversized();
	test_critical_path_and_order();
	test_estimate_from_scheduler();
	test_estimate_is_explains();
	test_estimate_at_the_priority_placed();
	test_fleet_check();
	test_retry();
	test_reassign();
	test_reassign_among_workers_available();
	test_reassign_past_4096_exclusions();
	test_drive_stops_at_a_loss();
	test_skip_and_aggregate();
	test_aggregation();
	test_alternate();
	test_alternate_is_estimated_anew();
	test_drive_holds_memory();
	test_drive_stops_on_signal();
	test_checkpoint();
	return check_done("test_orch");
}
