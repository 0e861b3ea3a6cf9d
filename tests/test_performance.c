/*
 * test_performance.c -- the "performance" scheduler through the real
 * plugin: with nothing learned the least loaded wins; learned success and
 * speed decide after report()s, per workload type; a worker with a perfect
 * record beats an untried one and a failing one loses to it; a queue
 * discounts a worker as the wait would; what was
 * learned survives a restart in the shared LMDB store; explain shows every
 * factor; config errors name the field.
 */
#include <unistd.h>

#include "choose.h"

/* Three identical workers at 20% load, one at 50%. */
static const char *FLEET =
	"[{\"worker_id\": \"good\", \"cpu_cores\": 8, \"available_memory\": 16,"
	"  \"load\": {\"cpu_utilization\": 20, \"memory_utilization\": 20}},"
	" {\"worker_id\": \"bad\", \"cpu_cores\": 8, \"available_memory\": 16,"
	"  \"load\": {\"cpu_utilization\": 20, \"memory_utilization\": 20}},"
	" {\"worker_id\": \"fresh\", \"cpu_cores\": 8, \"available_memory\": 16,"
	"  \"load\": {\"cpu_utilization\": 20, \"memory_utilization\": 20}},"
	" {\"worker_id\": \"idle\", \"cpu_cores\": 8, \"available_memory\": 16}]";

static const char *VISION =
	"{\"test_id\": \"v\", \"test_type\": \"vision_classification\", \"expected_duration\": 60}";
static const char *NLP =
	"{\"test_id\": \"n\", \"test_type\": \"nlp_text_classification\", \"expected_duration\": 60}";

static void teach(shim_sched *s, uint32_t type)
{
	for (int i = 0; i < 10; i++) {
		CHECK_INT(report_to(s, type, "good", 0, LBS_RESULT_SUCCESS, 30, 60), LBS_OK);
		CHECK_INT(report_to(s, type, "bad", 0, LBS_RESULT_FAILURE, 5, 60), LBS_OK);
		/* idle is slow: four times what was expected. */
		CHECK_INT(report_to(s, type, "idle", 0, LBS_RESULT_SUCCESS, 240, 60), LBS_OK);
	}
}

static void test_learns(void)
{
	fleet f = fleet_parse(FLEET);
	lbs_workload vision = workload_parse(f.arena, VISION);
	lbs_workload nlp = workload_parse(f.arena, NLP);
	shim_sched *s = test_sched("performance", NULL);

	/* Nothing learned: every worker is neutral, the least loaded wins. */
	CHECK_STR(choose(s, &vision, &f), "idle");
	CHECK_CONTAINS(reason, "performance: best score 0.65 (no history yet, load 0.00)");
	teach(s, vision.type);
	CHECK_STR(choose(s, &vision, &f), "good");
	CHECK_CONTAINS(reason, "(success 0.92, time 1.00 over 10 outcomes, load 0.12)");
	/* The untried "fresh" beats the failing "bad" at the same load. */
	{
		lbs_workload no_good = workload_parse(f.arena,
			"{\"test_id\": \"v\", \"test_type\": \"vision_classification\","
			" \"expected_duration\": 60, \"exclude_workers\": [\"good\", \"idle\"]}");

		CHECK_STR(choose(s, &no_good, &f), "fresh");
	}
	/* Another workload type learned nothing: least loaded again. */
	CHECK_STR(choose(s, &nlp, &f), "idle");
	sched_close(s);
	fleet_free(&f);
}

/* Work that states no duration (0; absent, the converter gives the
 * original's 60 s): a worker's mean latency is judged
 * against its type's reference, as priority judges it (0.5 at it, 1 at a
 * quarter, 0 at four times).  Every worker's time was 0.5, and "idle", 25
 * times slower than "good", won on its lower load. */
static void test_untimed_latency(void)
{
	fleet f = fleet_parse(FLEET);
	lbs_workload q = workload_parse(f.arena, "{\"test_id\": \"q\", \"expected_duration\": 0, "
	                                         "\"test_type\": \"nlp_text_classification\"}");
	shim_sched *s = test_sched("performance", NULL);

	for (int i = 0; i < 10; i++) {
		CHECK_INT(report_to(s, q.type, "good", 0, LBS_RESULT_SUCCESS, 2, 0), LBS_OK);
		CHECK_INT(report_to(s, q.type, "idle", 0, LBS_RESULT_SUCCESS, 50, 0), LBS_OK);
	}
	CHECK_STR(choose(s, &q, &f), "good");
	CHECK_CONTAINS(reason, "(success 0.92, time 1.00 over 10 outcomes, load 0.12)");
	/* without "good": "idle" judged 0, four times its type's reference
	 * or more (it still wins "fresh", untried, on its lower load) */
	{
		lbs_workload no_good = workload_parse(f.arena,
			"{\"test_id\": \"q\", \"test_type\": \"nlp_text_classification\","
			" \"expected_duration\": 0, \"exclude_workers\": [\"good\"]}");

		CHECK_STR(choose(s, &no_good, &f), "idle");
		CHECK_CONTAINS(reason, "(success 0.92, time 0.00 over 10 outcomes, load 0.00)");
	}
	sched_close(s);
	fleet_free(&f);
}

/* The original ignored queues, so its best worker drew every test while
 * its queue grew (46x the oracle's completion time in bench/run simulate,
 * hetero).  Three tests ahead of a new one on a 1-slot worker: its
 * performance counts a quarter, and the untried "fresh" takes the test. */
static void test_queue(void)
{
	fleet f = fleet_parse(FLEET);
	lbs_workload vision = workload_parse(f.arena, VISION);
	shim_sched *s = test_sched("performance", NULL);
	cJSON *doc;

	teach(s, vision.type);
	f.workers[0]->active_tests = 1;
	f.workers[0]->queued_tests = 2;
	f.workers[3]->queued_tests = 5; /* idle, slow */
	CHECK_STR(choose(s, &vision, &f), "fresh");
	doc = explain_doc(s, &vision, &f);
	CHECK_NEAR(doc_num(candidate(doc, "good"), "ahead"), 3, 0);
	CHECK_NEAR(doc_num(candidate(doc, "good"), "performance"), (11.0 / 12.0 + 1) / 2 / 4, 1e-6);
	CHECK_NEAR(doc_num(candidate(doc, "fresh"), "ahead"), 0, 0);
	cJSON_Delete(doc);
	/* A second slot: one round less to wait. */
	f.workers[0]->capacity = 4;
	CHECK_STR(choose(s, &vision, &f), "good");
	sched_close(s);
	fleet_free(&f);
}

static void test_explain(void)
{
	fleet f = fleet_parse(FLEET);
	lbs_workload vision = workload_parse(f.arena, VISION);
	shim_sched *s = test_sched("performance", NULL);
	const cJSON *c;
	cJSON *doc;

	teach(s, vision.type);
	doc = explain_doc(s, &vision, &f);
	CHECK_STR(doc_str(doc, "scheduler"), "performance");
	CHECK_STR(cJSON_GetStringValue(cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "chosen"), 0)),
	          "good");
	c = candidate(doc, "good");
	CHECK_NEAR(doc_num(c, "samples"), 10, 0);
	CHECK_NEAR(doc_num(c, "success"), 11.0 / 12.0, 1e-6);
	CHECK_STR(doc_str(c, "time_from"), "speed_ratio");
	CHECK_NEAR(doc_num(c, "duration_ratio"), 0.5, 1e-6);
	CHECK_NEAR(doc_num(c, "time"), 1, 1e-9);
	CHECK_NEAR(doc_num(c, "confidence"), 1, 1e-9);
	CHECK_NEAR(doc_num(c, "performance"), (11.0 / 12.0 + 1) / 2, 1e-6);
	CHECK_NEAR(doc_num(c, "score"),
	           0.7 * (11.0 / 12.0 + 1) / 2 + 0.3 * (1 - doc_num(c, "load")), 1e-6);
	c = candidate(doc, "bad");
	CHECK_STR(doc_str(c, "time_from"), "never_succeeded");
	CHECK_NEAR(doc_num(c, "success"), 1.0 / 12.0, 1e-6);
	c = candidate(doc, "idle");
	CHECK_NEAR(doc_num(c, "duration_ratio"), 4, 1e-6);
	CHECK_NEAR(doc_num(c, "time"), 0, 1e-9);
	c = candidate(doc, "fresh");
	CHECK_NEAR(doc_num(c, "performance"), 0.5, 0);
	CHECK_STR(doc_str(c, "time_from"), "none");
	CHECK_CONTAINS(doc_str(doc, "reason"), "performance: best score");
	cJSON_Delete(doc);
	json_len = 0;
	CHECK_INT(sched_stats(s, collect, NULL), LBS_OK);
	CHECK_CONTAINS(json, "\"reports\":30");
	CHECK_CONTAINS(json, "\"learned_pairs\":3");
	CHECK(sched_desc(s)->caps & LBS_CAP_LEARNS);
	sched_close(s);
	fleet_free(&f);
}

/* What was learned is in the LMDB store the other learning schedulers
 * use, so a new instance (a restart) decides the same. */
static void test_store_survives(void)
{
	char dir[] = "/tmp/lbs-perf-XXXXXX", cfg[256];
	fleet f = fleet_parse(FLEET);
	lbs_workload vision = workload_parse(f.arena, VISION);
	shim_sched *s;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(cfg, sizeof(cfg), "{\"store\": {\"path\": \"%s/prefs\"}}", dir);
	s = test_sched("performance", cfg);
	teach(s, vision.type);
	CHECK_STR(choose(s, &vision, &f), "good");
	sched_close(s);
	s = test_sched("performance", cfg);
	CHECK_STR(choose(s, &vision, &f), "good");
	CHECK_CONTAINS(reason, "over 10 outcomes");
	sched_close(s);
	/* priority reads the same records. */
	s = test_sched("priority", cfg);
	{
		lbs_workload urgent = workload_parse(f.arena,
			"{\"test_id\": \"v\", \"test_type\": \"vision_classification\","
			" \"expected_duration\": 60, \"priority\": 1}");

		CHECK_STR(choose(s, &urgent, &f), "good");
	}
	sched_close(s);
	{
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		CHECK_INT(system(cmd), 0);
	}
	fleet_free(&f);
}

static void test_config_errors(void)
{
	char err[512];

	CHECK_INT(open_err("performance", "{\"load_weight\": 2}", err, sizeof(err)), LBS_ECONFIG);
	CHECK_CONTAINS(err, "config field 'load_weight': must be a number in 0..1, got 2");
	CHECK_INT(open_err("performance", "{\"confidence_samples\": 0}", err, sizeof(err)),
	          LBS_ECONFIG);
	CHECK_CONTAINS(err, "config field 'confidence_samples'");
	CHECK_INT(open_err("performance", "{\"store\": {\"alpah\": 1}}", err, sizeof(err)),
	          LBS_ECONFIG);
	CHECK_CONTAINS(err, "config field 'store.alpah'");
}

int main(void)
{
	test_learns();
	test_untimed_latency();
	test_queue();
	test_explain();
	test_store_survives();
	test_config_errors();
	return check_done("test_performance");
}
