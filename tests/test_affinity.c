/*
 * test_affinity.c -- the "affinity" scheduler through the real plugin: a
 * model sticks to the worker that ran it, a new model of the same family
 * joins it, a busy remembered worker gives way for the moment and keeps the
 * model, an ineligible or departed one loses it, the memory survives a
 * restart in the LMDB store (and only there), explain says which rule
 * chose and why.
 */
#include "choose.h"

static const char *FLEET =
	"[{\"worker_id\": \"w1\", \"cpu_cores\": 8, \"available_memory\": 16},"
	" {\"worker_id\": \"w2\", \"cpu_cores\": 8, \"available_memory\": 16},"
	" {\"worker_id\": \"w3\", \"cpu_cores\": 8, \"available_memory\": 64}]";

static const char *BERT = "{\"test_id\": \"t\", \"model_id\": \"bert-base-uncased\"}";

/* Every utilisation of worker i at x: load and effective load x. */
static void set_load(fleet *f, uint32_t i, double x)
{
	lbs_worker *w = f->workers[i];

	w->util_cpu = w->util_memory = w->util_gpu = w->util_io = w->util_network = x;
}

static void test_sticks_and_family(void)
{
	fleet f = fleet_parse(FLEET);
	lbs_workload bert = workload_parse(f.arena, BERT);
	lbs_workload large = workload_parse(f.arena,
		"{\"test_id\": \"t\", \"model_id\": \"google/BERT-large-cased\"}");
	lbs_workload gpt = workload_parse(f.arena, "{\"test_id\": \"t\", \"model_id\": \"gpt2\"}");
	lbs_workload anon = workload_parse(f.arena, "{\"test_id\": \"t\"}");
	shim_sched *s = test_sched("affinity", NULL);

	set_load(&f, 0, 0.5);
	set_load(&f, 1, 0.2);
	set_load(&f, 2, 0.4);
	CHECK_STR(choose(s, &bert, &f), "w2");
	CHECK_CONTAINS(reason, "model 'bert-base-uncased': first seen: the least loaded of 3 "
	                       "eligible (load 0.20)");
	/* Now w1 is the least loaded; bert stays where its weights are. */
	set_load(&f, 0, 0.0);
	set_load(&f, 1, 0.6);
	CHECK_STR(choose(s, &bert, &f), "w2");
	CHECK_CONTAINS(reason, "model 'bert-base-uncased' stays on the worker that ran it "
	                       "(load 0.60)");
	/* Same family ("bert", after the org and case folded). */
	CHECK_STR(choose(s, &large, &f), "w2");
	CHECK_CONTAINS(reason, "goes to the worker of its family 'bert'");
	/* Another family: least loaded, w1. */
	CHECK_STR(choose(s, &gpt, &f), "w1");
	/* No model id: least loaded, nothing remembered. */
	CHECK_STR(choose(s, &anon, &f), "w1");
	CHECK_CONTAINS(reason, "affinity: no model id: least loaded of 3 eligible");
	json_len = 0;
	CHECK_INT(sched_stats(s, collect, NULL), LBS_OK);
	/* m:bert-base-uncased, f:bert, m:google/BERT-large-cased, m:gpt2, f:gpt2 */
	CHECK_CONTAINS(json, "\"remembered\":5");
	CHECK_CONTAINS(json, "\"persistent\":false");
	sched_close(s);
	fleet_free(&f);
}

/* A model id longer than the store's keys (the converter takes 4,096
 * bytes): it was dropped, and its model was "first seen" on every test
 * and its family never matched.  Two long ids that share their first 600
 * bytes stay apart. */
static void test_long_model_ids(void)
{
	fleet f = fleet_parse(FLEET);
	char one[1024], two[1024], cousin[1024];
	lbs_workload a, b, c;
	shim_sched *s = test_sched("affinity", NULL);

	snprintf(one, sizeof one, "{\"test_id\": \"t\", \"model_id\": \"llama-%0600d-one\"}", 0);
	snprintf(two, sizeof two, "{\"test_id\": \"t\", \"model_id\": \"llama-%0600d-two\"}", 0);
	snprintf(cousin, sizeof cousin, "{\"test_id\": \"t\", \"model_id\": \"LLAMA-%0700d\"}", 1);
	a = workload_parse(f.arena, one);
	b = workload_parse(f.arena, two);
	c = workload_parse(f.arena, cousin);
	set_load(&f, 0, 0.5);
	set_load(&f, 1, 0.2);
	set_load(&f, 2, 0.4);
	CHECK_STR(choose(s, &a, &f), "w2");
	CHECK_CONTAINS(reason, "first seen");
	set_load(&f, 1, 0.6); /* w3 is the least loaded now */
	CHECK_STR(choose(s, &a, &f), "w2");
	CHECK_CONTAINS(reason, "stays on the worker that ran it");
	/* the same 600 bytes first, another model: its family's worker,
	 * not the model's own */
	CHECK_STR(choose(s, &b, &f), "w2");
	CHECK_CONTAINS(reason, "goes to the worker of its family 'llama'");
	CHECK_STR(choose(s, &c, &f), "w2");
	CHECK_CONTAINS(reason, "goes to the worker of its family 'llama'");
	sched_close(s);
	fleet_free(&f);
}

static void test_gives_way(void)
{
	fleet f = fleet_parse(FLEET);
	lbs_workload bert = workload_parse(f.arena, BERT);
	lbs_workload big = workload_parse(f.arena,
		"{\"test_id\": \"t\", \"model_id\": \"bert-base-uncased\", \"minimum_memory\": 32}");
	shim_sched *s = test_sched("affinity", NULL);

	set_load(&f, 0, 0.1);
	set_load(&f, 1, 0.3);
	set_load(&f, 2, 0.3);
	CHECK_STR(choose(s, &bert, &f), "w1");
	/* Busy (0.85: above give_way 0.8, under the 0.9 ceiling): another
	 * worker this time, and bert stays w1's. */
	set_load(&f, 0, 0.85);
	CHECK_STR(choose(s, &bert, &f), "w2");
	CHECK_CONTAINS(reason, "its worker is busy (load 0.85), so the least loaded of 3 "
	                       "eligible (load 0.30) this time");
	set_load(&f, 0, 0.5);
	CHECK_STR(choose(s, &bert, &f), "w1");
	/* Over the ceiling it is not even eligible for load: still busy. */
	set_load(&f, 0, 0.95);
	CHECK_STR(choose(s, &bert, &f), "w2");
	set_load(&f, 0, 0.1);
	CHECK_STR(choose(s, &bert, &f), "w1");
	/* Cannot take this work (32 GB): w3, which now holds bert. */
	CHECK_STR(choose(s, &big, &f), "w3");
	CHECK_CONTAINS(reason, "its worker cannot take this work, so the least loaded of 1 "
	                       "eligible");
	CHECK_STR(choose(s, &bert, &f), "w3");
	/* w3 leaves the fleet: bert moves to the least loaded, w1. */
	f.n = 2;
	CHECK_STR(choose(s, &bert, &f), "w1");
	CHECK_CONTAINS(reason, "its worker left the fleet");
	f.n = 3;
	set_load(&f, 0, 0.7);
	CHECK_STR(choose(s, &bert, &f), "w1");
	/* Busy, but no eligible worker is less loaded: moving bert would
	 * lose its warm caches for nothing (it moved to w2, first of the
	 * equally loaded). */
	for (uint32_t i = 0; i < 3; i++)
		set_load(&f, i, 0.85);
	CHECK_STR(choose(s, &bert, &f), "w1");
	CHECK_CONTAINS(reason, "model 'bert-base-uncased' stays on the worker that ran it "
	                       "(load 0.85)");
	sched_close(s);
	fleet_free(&f);
}

/* A host that reports counts and no utilisation (nginx's static upstreams
 * fill active_tests alone): each placement is one more test on its worker.
 * The least loaded was the first of the array for every request, and a
 * remembered worker was never busy. */
static void test_counts_are_load(void)
{
	fleet f = fleet_parse(FLEET);
	lbs_workload wl[4];
	const char *want[4] = {"w1", "w2", "w3", "w1"};
	lbs_workload bert = workload_parse(f.arena, BERT);
	shim_sched *s = test_sched("affinity", NULL);
	char text[64];

	for (int i = 0; i < 4; i++) {
		snprintf(text, sizeof text, "{\"test_id\": \"t\", \"model_id\": \"m%d\"}", i);
		wl[i] = workload_parse(f.arena, text);
		CHECK_STR(choose(s, &wl[i], &f), want[i]);
		for (uint32_t k = 0; k < f.n; k++)
			if (!strcmp(f.workers[k]->id, want[i]))
				f.workers[k]->active_tests++;
	}
	/* w1 runs 2, w2 and w3 one each, capacity 1: m0's worker is busy
	 * (load 2.00), so w2 this time; with capacity 4 it is not (0.50). */
	CHECK_STR(choose(s, &wl[0], &f), "w2");
	CHECK_CONTAINS(reason, "its worker is busy (load 2.00), so the least loaded of 3 eligible "
	                       "(load 1.00) this time");
	f.workers[0]->capacity = 4;
	CHECK_STR(choose(s, &wl[0], &f), "w1");
	CHECK_CONTAINS(reason, "stays on the worker that ran it (load 0.50)");
	/* A queue counts as well: w2 with 3 waiting is behind w3. */
	f.workers[0]->capacity = 1;
	f.workers[1]->queued_tests = 3;
	CHECK_STR(choose(s, &bert, &f), "w3");
	CHECK_CONTAINS(reason, "first seen: the least loaded of 3 eligible (load 1.00)");
	/* explain shows the load the choice used: w2's 1 running + 3 waiting */
	{
		cJSON *doc = explain_doc(s, &bert, &f);

		CHECK_NEAR(doc_num(candidate(doc, "w2"), "load"), 4.0, 1e-9);
		CHECK_NEAR(doc_num(candidate(doc, "w2"), "score"), 0.0, 1e-6);
		cJSON_Delete(doc);
	}
	/* full workers still score in their queues' order (a composite
	 * piled every test on the first of them): w1 (load 2) before w2 (4) */
	{
		double sc[3];

		CHECK_INT(sched_score(s, &bert, (const lbs_worker *const *)f.workers, f.n, sc),
		          LBS_OK);
		CHECK_NEAR(sc[0], 0.5e-6 / 2.0, 1e-15);
		CHECK_NEAR(sc[1], 0.5e-6 / 4.0, 1e-15);
		CHECK(sc[0] > sc[1] && sc[1] > 0.0);
	}
	sched_close(s);
	fleet_free(&f);
}

static void test_explain(void)
{
	fleet f = fleet_parse(FLEET);
	lbs_workload bert = workload_parse(f.arena, BERT);
	lbs_workload excluded = workload_parse(f.arena,
		"{\"test_id\": \"t\", \"model_id\": \"bert-base-uncased\","
		" \"exclude_workers\": [\"w1\"]}");
	shim_sched *s = test_sched("affinity", NULL);
	const cJSON *c;
	cJSON *doc;

	CHECK_STR(choose(s, &bert, &f), "w1");
	doc = explain_doc(s, &excluded, &f);
	CHECK_STR(doc_str(doc, "scheduler"), "affinity");
	CHECK_STR(doc_str(doc, "model"), "bert-base-uncased");
	CHECK_STR(doc_str(doc, "family"), "bert");
	CHECK_STR(doc_str(doc, "model_worker"), "w1");
	CHECK_STR(doc_str(doc, "model_worker_state"), "excluded");
	/* The family's worker is the same w1, excluded as well. */
	CHECK_STR(doc_str(doc, "family_worker_state"), "excluded");
	CHECK_STR(doc_str(doc, "via"), "least_loaded");
	CHECK_STR(cJSON_GetStringValue(cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "chosen"), 0)),
	          "w2");
	CHECK_CONTAINS(doc_str(doc, "reason"), "its worker is excluded for this request");
	CHECK_STR(doc_str(cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "rejected"), 0), "worker"),
	          "w1");
	cJSON_Delete(doc);
	/* Explain changed nothing, and a retry keeps bert on w1. */
	CHECK_STR(choose(s, &excluded, &f), "w2");
	doc = explain_doc(s, &bert, &f);
	CHECK_STR(doc_str(doc, "via"), "model");
	c = candidate(doc, "w1");
	CHECK_STR(doc_str(c, "remembered_for"), "model");
	CHECK_NEAR(doc_num(c, "score"), 1, 0);
	CHECK_NEAR(doc_num(candidate(doc, "w2"), "score"), 0.5, 1e-9);
	cJSON_Delete(doc);
	sched_close(s);
	fleet_free(&f);
}

/* In the store, the memory survives a restart; without one, it does not. */
static void test_survives_restart(void)
{
	char dir[] = "/tmp/lbs-aff-XXXXXX", cfg[256], cmd[300];
	fleet f = fleet_parse(FLEET);
	lbs_workload bert = workload_parse(f.arena, BERT);
	lbs_workload llama = workload_parse(f.arena,
		"{\"test_id\": \"t\", \"model_id\": \"Llama-2-7b\"}");
	shim_sched *s;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(cfg, sizeof(cfg), "{\"store\": {\"path\": \"%s/prefs\"}}", dir);
	set_load(&f, 1, 0.0);
	set_load(&f, 0, 0.3);
	set_load(&f, 2, 0.3);
	s = test_sched("affinity", cfg);
	CHECK_STR(choose(s, &bert, &f), "w2");
	sched_close(s);
	s = test_sched("affinity", NULL);
	CHECK_STR(choose(s, &bert, &f), "w2"); /* the least loaded anyway */
	sched_close(s);

	set_load(&f, 1, 0.5);
	set_load(&f, 2, 0.0);
	s = test_sched("affinity", cfg);
	CHECK_STR(choose(s, &bert, &f), "w2");
	CHECK_CONTAINS(reason, "stays on the worker that ran it");
	/* A model first seen now. */
	CHECK_STR(choose(s, &llama, &f), "w3");
	sched_close(s);
	s = test_sched("affinity", NULL);
	CHECK_STR(choose(s, &bert, &f), "w3"); /* memory-only: forgotten */
	sched_close(s);

	set_load(&f, 2, 0.6);
	set_load(&f, 0, 0.0);
	s = test_sched("affinity", cfg);
	CHECK_STR(choose(s, &bert, &f), "w2");
	CHECK_STR(choose(s, &llama, &f), "w3");
	json_len = 0;
	CHECK_INT(sched_stats(s, collect, NULL), LBS_OK);
	CHECK_CONTAINS(json, "\"persistent\":true");
	sched_close(s);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CHECK_INT(system(cmd), 0);
	fleet_free(&f);
}

/* Affinity keeps keys, and learns no outcome: a learner on its directory
 * was refused for an alpha affinity never gave ("uses it with alpha 0.3,
 * this config gives 0.5"), whichever opened first; and affinity took the
 * fields of learning, and read none. */
static void test_store_beside_a_learner(void)
{
	char dir[] = "/tmp/lbs-aff-XXXXXX", aff[256], hw[256], err[512], cmd[300];
	shim_sched *a, *h;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(aff, sizeof(aff), "{\"store\": {\"path\": \"%s/s\"}}", dir);
	snprintf(hw, sizeof(hw), "{\"store\": {\"path\": \"%s/s\", \"alpha\": 0.5}}", dir);
	a = test_sched("affinity", aff);
	CHECK_INT(open_err("hardware-aware", hw, err, sizeof(err)), LBS_OK);
	sched_close(a);
	h = test_sched("hardware-aware", hw);
	CHECK_INT(open_err("affinity", aff, err, sizeof(err)), LBS_OK);
	/* ... and it meets the file mode the directory's files have */
	snprintf(aff, sizeof(aff), "{\"store\": {\"path\": \"%s/s\", \"file_mode\": \"0640\"}}",
	         dir);
	snprintf(hw, sizeof(hw), "{\"store\": {\"path\": \"%s/s\", \"alpha\": 0.5, "
	         "\"file_mode\": \"0600\"}}", dir);
	sched_close(h);
	h = test_sched("hardware-aware", hw);
	CHECK_INT(open_err("affinity", aff, err, sizeof(err)), LBS_EIO);
	CHECK_CONTAINS(err, "refused: another scheduler in this process uses it with file_mode "
	                    "0600, this config gives 0640");
	sched_close(h);
	snprintf(aff, sizeof(aff), "{\"store\": {\"path\": \"%s/s\", \"max_pairs\": 1}}", dir);
	CHECK_INT(open_err("affinity", aff, err, sizeof(err)), LBS_ECONFIG);
	CHECK_STR(err, "scheduler 'affinity': config field 'store.max_pairs': unread: affinity "
	               "keeps only its keys in the store, and learns no outcome");
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CHECK_INT(system(cmd), 0);
}

static void test_config_errors(void)
{
	char err[512];

	CHECK_INT(open_err("affinity", "{\"give_way\": 1.5}", err, sizeof(err)), LBS_ECONFIG);
	CHECK_CONTAINS(err, "config field 'give_way': must be a number in 0..1, got 1.5");
	CHECK_INT(open_err("affinity", "{\"max_models\": 0}", err, sizeof(err)), LBS_ECONFIG);
	CHECK_CONTAINS(err, "config field 'max_models': must be an integer in 1..16777216, got 0");
	/* one range for a fraction too (it named 2^53 - 1) */
	CHECK_INT(open_err("affinity", "{\"max_models\": 1.5}", err, sizeof(err)), LBS_ECONFIG);
	CHECK_CONTAINS(err, "config field 'max_models': must be an integer in 1..16777216, got 1.5");
}

int main(void)
{
	test_sticks_and_family();
	test_long_model_ids();
	test_gives_way();
	test_counts_are_load();
	test_explain();
	test_survives_restart();
	test_store_beside_a_learner();
	test_config_errors();
	return check_done("test_affinity");
}
