/*
 * test_wrr.c -- the "weighted-round-robin" scheduler through the real
 * plugin: nginx's smooth order for weights 5/1/1, deterministic where the
 * original drew at random, only eligible workers take part, a rotation
 * per eligibility class (shares hold in each set under any interleaving
 * of requests with different sets), weights from
 * capacity, config or load, shards, explain / score / stats, config errors,
 * and reachable as a composite child.
 */
#include <errno.h>
#include <math.h>
#include <sys/wait.h>
#include <unistd.h>

#include "choose.h"

/* c has too little memory for the 4 GB test: never eligible for it. */
static const char *FLEET =
	"[{\"worker_id\": \"a\", \"cpu_cores\": 8, \"available_memory\": 16},"
	" {\"worker_id\": \"b\", \"cpu_cores\": 8, \"available_memory\": 16},"
	" {\"worker_id\": \"c\", \"cpu_cores\": 8, \"available_memory\": 16},"
	" {\"worker_id\": \"small\", \"cpu_cores\": 8, \"available_memory\": 1}]";

static const char *W511 = "{\"weights\": {\"a\": 5, \"b\": 1, \"c\": 1, \"small\": 1}}";

static void test_smooth_order(void)
{
	fleet f = fleet_parse(FLEET);
	lbs_workload wl = workload_parse(f.arena, "{\"test_id\": \"t\", \"minimum_memory\": 4}");
	shim_sched *s = test_sched("weighted-round-robin", W511);
	shim_sched *twin = test_sched("weighted-round-robin", W511);
	static const char *const order[] = { "a", "a", "b", "a", "c", "a", "a" };

	/* nginx's sequence for 5, 1, 1, spread out, twice over; "small"
	 * (weight 1, too little memory) never takes part. */
	for (int i = 0; i < 14; i++) {
		CHECK_STR(choose(s, &wl, &f), order[i % 7]);
		CHECK_STR(choose(twin, &wl, &f), order[i % 7]);
	}
	CHECK_CONTAINS(reason, "weighted-round-robin: most due of 3 eligible");
	CHECK_CONTAINS(reason, "weight 5.00, total 7.00 (weights from config)");
	sched_close(s);
	sched_close(twin);
	fleet_free(&f);
}

/* The original drew with probability 1 - load; here the spare-load
 * weights give a fixed order: 0.8 vs 0.2 is four picks to one. */
static void test_load_weights(void)
{
	fleet f = fleet_parse(
		"[{\"worker_id\": \"idle\", \"cpu_cores\": 8, \"available_memory\": 16,"
		"  \"load\": {\"cpu_utilization\": 20, \"memory_utilization\": 20, \"gpu_utilization\": 20,"
		"            \"io_utilization\": 20, \"network_utilization\": 20}},"
		" {\"worker_id\": \"busy\", \"cpu_cores\": 8, \"available_memory\": 16,"
		"  \"load\": {\"cpu_utilization\": 80, \"memory_utilization\": 80, \"gpu_utilization\": 80,"
		"            \"io_utilization\": 80, \"network_utilization\": 80}}]");
	lbs_workload wl = workload_parse(f.arena, "{\"test_id\": \"t\"}");
	shim_sched *s = test_sched("weighted-round-robin", "{\"weights_from\": \"load\"}");
	int idle = 0;

	for (int i = 0; i < 10; i++)
		idle += !strcmp(choose(s, &wl, &f), "idle");
	CHECK_INT(idle, 8);
	CHECK_CONTAINS(reason, "(weights from load)");
	sched_close(s);
	fleet_free(&f);
}

/* Default weights: each worker's capacity (tests it runs at once). */
static void test_capacity_weights(void)
{
	fleet f = fleet_parse(
		"[{\"worker_id\": \"big\", \"cpu_cores\": 8, \"available_memory\": 16, \"capacity\": 3},"
		" {\"worker_id\": \"one\", \"cpu_cores\": 8, \"available_memory\": 16}]");
	lbs_workload wl = workload_parse(f.arena, "{\"test_id\": \"t\"}");
	shim_sched *s = test_sched("weighted-round-robin", NULL);
	static const char *const order[] = { "big", "big", "one", "big" };

	for (int i = 0; i < 8; i++)
		CHECK_STR(choose(s, &wl, &f), order[i % 4]);
	CHECK_CONTAINS(reason, "(weights from capabilities)");
	sched_close(s);
	fleet_free(&f);
}

/* A worker not eligible for a request neither gains nor loses: after a run
 * of requests "a" could not take, it is exactly as due as before. */
static void test_ineligible_keep_weight(void)
{
	fleet f = fleet_parse(FLEET);
	lbs_workload wl = workload_parse(f.arena, "{\"test_id\": \"t\", \"minimum_memory\": 4}");
	lbs_workload not_a = workload_parse(f.arena,
		"{\"test_id\": \"t\", \"minimum_memory\": 4, \"exclude_workers\": [\"a\"]}");
	shim_sched *s = test_sched("weighted-round-robin", W511);

	CHECK_STR(choose(s, &wl, &f), "a");
	CHECK_STR(choose(s, &wl, &f), "a");
	CHECK_STR(choose(s, &not_a, &f), "b");
	CHECK_STR(choose(s, &not_a, &f), "c");
	/* b and c are back at 0, a at -4: a 1, b 1, c 1 -> b, as in step 3
	 * of the plain sequence. */
	CHECK_STR(choose(s, &wl, &f), "b");
	sched_close(s);
	fleet_free(&f);
}

/* Current weights follow the worker ids, not positions: after a, a the
 * weights are a -4, b 2, c 2; with the array reversed the next step is
 * a 1, b 3, c 3, and the tie goes to the first in this array, c.  (Kept by
 * position, the reversed array would have handed a's -4 to c and picked
 * a.) */
static void test_array_moves(void)
{
	fleet f = fleet_parse(FLEET);
	lbs_workload wl = workload_parse(f.arena, "{\"test_id\": \"t\", \"minimum_memory\": 4}");
	shim_sched *s = test_sched("weighted-round-robin", W511);
	lbs_worker *w;

	CHECK_STR(choose(s, &wl, &f), "a");
	CHECK_STR(choose(s, &wl, &f), "a");
	for (uint32_t i = 0; i < f.n / 2; i++) {
		w = f.workers[i];
		f.workers[i] = f.workers[f.n - 1 - i];
		f.workers[f.n - 1 - i] = w;
	}
	CHECK_STR(choose(s, &wl, &f), "c");
	CHECK_STR(choose(s, &wl, &f), "a"); /* a 6, b 4, c -3 */
	sched_close(s);
	fleet_free(&f);
}

static void test_shards_none(void)
{
	fleet f = fleet_parse(FLEET);
	lbs_workload sharded = workload_parse(f.arena,
		"{\"test_id\": \"s\", \"minimum_memory\": 4, \"custom_properties\":"
		" {\"allocation_strategy\": \"sharded\", \"is_shardable\": true,"
		"  \"min_shards\": 2, \"max_shards\": 2}}");
	lbs_workload too_many = workload_parse(f.arena,
		"{\"test_id\": \"r\", \"minimum_memory\": 4, \"custom_properties\":"
		" {\"allocation_strategy\": \"replicated\", \"min_shards\": 4, \"max_shards\": 4}}");
	lbs_workload single = workload_parse(f.arena, "{\"test_id\": \"t\", \"minimum_memory\": 4}");
	shim_sched *s = test_sched("weighted-round-robin", W511);

	/* Two steps: a (most due), then among b and c, b. */
	CHECK_STR(choose(s, &sharded, &f), "a,b");
	CHECK_CONTAINS(reason, "2 most due of 3 eligible");
	/* two shares each, a's 5 cut to the others' 2 (cap_shares) */
	CHECK_CONTAINS(reason, "current weight 0.00 + 2 x weight 2.00, total 4.00");
	/* Not enough workers: none, and no weight moves. */
	CHECK_STR(choose(s, &too_many, &f), "none");
	CHECK_CONTAINS(reason, "only 3 eligible workers, the workload needs at least 4");
	/* the pair: a 10 b 2 c 2, a and b lose 7 -> a 3 b -5 c 2; then
	 * a 8 b -4 c 3: a */
	CHECK_STR(choose(s, &single, &f), "a");
	sched_close(s);
	fleet_free(&f);
}

/* Pairs take shares by weight: each worker is in a request's pair in
 * proportion to its weight, one of more than half the total in every
 * pair.  Two steps of one each put b in all 300 pairs of equal workers. */
static void pair_counts(const char *config, int requests, int singles, int *got)
{
	fleet f = fleet_parse(FLEET);
	lbs_workload pair = workload_parse(f.arena,
		"{\"test_id\": \"p\", \"minimum_memory\": 4, \"custom_properties\":"
		" {\"allocation_strategy\": \"replicated\", \"min_shards\": 2, \"max_shards\": 2}}");
	shim_sched *s = test_sched("weighted-round-robin", config);

	lbs_workload one = workload_parse(f.arena, "{\"test_id\": \"t\", \"minimum_memory\": 4}");

	got[0] = got[1] = got[2] = got[3] = 0;
	for (int r = 0; r < requests; r++) {
		const char *ids = choose(s, &pair, &f);

		got[0] += strchr(ids, 'a') != NULL;
		got[1] += strchr(ids, 'b') != NULL;
		got[2] += strchr(ids, 'c') != NULL;
	}
	/* then single requests: how many of them a takes */
	for (int r = 0; r < singles; r++)
		got[3] += !strcmp(choose(s, &one, &f), "a");
	sched_close(s);
	fleet_free(&f);
}

static void test_pair_shares(void)
{
	int got[4];

	pair_counts("{\"weights\": {\"a\": 1, \"b\": 1, \"c\": 1}}", 300, 0, got);
	CHECK_INT(got[0], 200);
	CHECK_INT(got[1], 200);
	CHECK_INT(got[2], 200);
	pair_counts("{\"weights\": {\"a\": 2, \"b\": 1, \"c\": 1}}", 400, 0, got);
	CHECK_INT(got[0], 400);
	CHECK_INT(got[1], 200);
	CHECK_INT(got[2], 200);
	/* a, past half, is in every pair as a share of exactly 1: no surplus,
	 * so the single requests after are 5/1/1 at once (a's surplus of 3
	 * a pair took it the next 150) */
	pair_counts(W511, 100, 70, got);
	CHECK_INT(got[0], 100);
	CHECK_INT(got[1], 50);
	CHECK_INT(got[2], 50);
	CHECK_INT(got[3], 50);
}

/* A drained worker that fills a pair (one worker of a weight eligible)
 * moves nobody's current weight: the single requests after still take
 * turns.  By m shares of every weight, a gained 2 and lost 1 a pair, and
 * took the next 51 singles. */
static void test_drained_fills_a_pair(void)
{
	fleet f = fleet_parse(
		"[{\"worker_id\": \"a\", \"cpu_cores\": 8, \"available_memory\": 16},"
		" {\"worker_id\": \"b\", \"cpu_cores\": 8, \"available_memory\": 16},"
		" {\"worker_id\": \"c\", \"cpu_cores\": 8, \"available_memory\": 2}]");
	lbs_workload pair = workload_parse(f.arena,
		"{\"test_id\": \"p\", \"minimum_memory\": 4, \"custom_properties\":"
		" {\"allocation_strategy\": \"replicated\", \"min_shards\": 2, \"max_shards\": 2}}");
	lbs_workload one = workload_parse(f.arena, "{\"test_id\": \"t\", \"minimum_memory\": 1}");
	shim_sched *s = test_sched("weighted-round-robin",
	                           "{\"weights\": {\"a\": 1, \"b\": 0, \"c\": 1}}");
	int a = 0;

	for (int r = 0; r < 100; r++)
		CHECK_STR(choose(s, &pair, &f), "a,b");
	for (int r = 0; r < 10; r++)
		a += !strcmp(choose(s, &one, &f), "a");
	CHECK_INT(a, 5);
	sched_close(s);
	fleet_free(&f);
}

static void test_explain_score_stats(void)
{
	fleet f = fleet_parse(FLEET);
	lbs_workload wl = workload_parse(f.arena, "{\"test_id\": \"t\", \"minimum_memory\": 4}");
	shim_sched *s = test_sched("weighted-round-robin", W511);
	const cJSON *c, *rej;
	cJSON *doc;

	CHECK_STR(choose(s, &wl, &f), "a"); /* a -2, b 1, c 1 */
	/* b warming at 60 %: its load in explain is the effective one, 0.40
	 * (it showed the utilisation, 0, beside a weight that used 0.40) */
	f.workers[1]->thermal_state = LBS_THERMAL_WARMING;
	f.workers[1]->performance_level = 0.6;
	doc = explain_doc(s, &wl, &f);
	CHECK_NEAR(doc_num(candidate(doc, "b"), "load"), 0.4, 1e-9);
	CHECK_STR(doc_str(doc, "scheduler"), "weighted-round-robin");
	/* Next: a 3, b 2, c 2 -> a, and explain did not move anything. */
	CHECK_STR(cJSON_GetStringValue(cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "chosen"), 0)),
	          "a");
	c = candidate(doc, "a");
	CHECK_NEAR(doc_num(c, "weight"), 5, 0);
	CHECK_NEAR(doc_num(c, "current_weight"), -2, 1e-9);
	CHECK_NEAR(doc_num(c, "due"), 3, 1e-9);
	CHECK_NEAR(doc_num(c, "score"), 1, 1e-9);
	c = candidate(doc, "b");
	CHECK_NEAR(doc_num(c, "current_weight"), 1, 1e-9);
	CHECK_NEAR(doc_num(c, "score"), 0, 1e-9);
	rej = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "rejected"), 0);
	CHECK_STR(doc_str(rej, "worker"), "small");
	CHECK_CONTAINS(doc_str(doc, "reason"), "current weight -2.00 + weight 5.00, total 7.00");
	cJSON_Delete(doc);
	CHECK_STR(choose(s, &wl, &f), "a");
	json_len = 0;
	CHECK_INT(sched_stats(s, collect, NULL), LBS_OK);
	CHECK_CONTAINS(json, "\"scheduler\":\"weighted-round-robin\"");
	CHECK_CONTAINS(json, "\"selects\":2");
	CHECK_CONTAINS(json, "\"weights_from\":\"config\"");
	sched_close(s);
	fleet_free(&f);
}

static void test_config_errors(void)
{
	char err[512];

	CHECK_INT(open_err("weighted-round-robin", "{\"weights_from\": \"random\"}", err,
	                   sizeof(err)), LBS_ECONFIG);
	CHECK_CONTAINS(err, "config field 'weights_from': must be \"capabilities\", \"config\" or "
	                    "\"load\", got \"random\"");
	CHECK_INT(open_err("weighted-round-robin", "{\"weights_from\": \"config\"}", err,
	                   sizeof(err)), LBS_ECONFIG);
	CHECK_CONTAINS(err, "config field 'weights': required with \"weights_from\": \"config\"");
	CHECK_INT(open_err("weighted-round-robin",
	                   "{\"weights_from\": \"load\", \"weights\": {\"a\": 1}}", err,
	                   sizeof(err)), LBS_ECONFIG);
	CHECK_CONTAINS(err, "only used with \"weights_from\": \"config\", not \"load\"");
	CHECK_INT(open_err("weighted-round-robin", "{\"weights\": {\"a\": -1}}", err, sizeof(err)),
	          LBS_ECONFIG);
	CHECK_CONTAINS(err, "config field 'weights.a': must be a number in 0..1000000, got -1");
	CHECK_INT(open_err("weighted-round-robin", "{\"weights\": {\"a\": 1, \"a\": 2}}", err,
	                   sizeof(err)), LBS_ECONFIG);
	CHECK_CONTAINS(err, "config field 'weights.a'");
	/* a key no worker id can be, and one whose bytes would break the
	 * host's one-line message (a newline, a terminal's escape) */
	CHECK_INT(open_err("weighted-round-robin", "{\"weights\": {\"\": 1000, \"a\": 1}}", err,
	                   sizeof(err)), LBS_ECONFIG);
	CHECK_CONTAINS(err, "config field 'weights': an empty worker id");
	CHECK_INT(open_err("weighted-round-robin", "{\"weights\": {\"a\\nb\\u001b[31m\": \"x\"}}",
	                   err, sizeof(err)), LBS_ECONFIG);
	CHECK_CONTAINS(err, "config field 'weights.");
	CHECK_CONTAINS(err, "': must be a number in 0..1000000, got a string");
	CHECK(strchr(err, '\n') == NULL && strchr(err, '\x1b') == NULL);
	CHECK_INT(open_err("weighted-round-robin", "{\"default_weight\": 2}", err, sizeof(err)),
	          LBS_ECONFIG);
	CHECK_CONTAINS(err, "config field 'default_weight': only used with \"weights_from\": "
	                    "\"config\", not \"capabilities\"");
	CHECK_INT(open_err("weighted-round-robin", "{\"weight\": {}}", err, sizeof(err)),
	          LBS_ECONFIG);
	CHECK_CONTAINS(err, "config field 'weight': unknown field");
	/* every worker drained: no rotation at all */
	CHECK_INT(open_err("weighted-round-robin",
	                   "{\"weights\": {\"a\": 0, \"b\": 0}, \"default_weight\": 0}", err,
	                   sizeof(err)), LBS_ECONFIG);
	CHECK_CONTAINS(err, "config field 'weights': every weight is 0, and 'default_weight' too");
	CHECK_INT(open_err("weighted-round-robin",
	                   "{\"weights\": {\"a\": 0, \"b\": 2}, \"default_weight\": 0}", err,
	                   sizeof(err)), LBS_OK);
}

static char warned[2048];

static void keep_warning(void *ctx, int32_t level, const char *msg)
{
	size_t used = strlen(warned);

	(void)ctx;
	if (level >= LBS_LOG_WARN)
		snprintf(warned + used, sizeof(warned) - used, "%s\n", msg);
}

/* A weight for an id no worker has (a typo: the worker meant gets the
 * default) is said, once for a fleet; so is a fleet drained whole.  A
 * weight of 0 drains: that worker takes work only when no other can. */
static void test_weights_against_fleet(void)
{
	fleet f = fleet_parse(FLEET);
	lbs_workload wl = workload_parse(f.arena, "{\"test_id\": \"t\", \"minimum_memory\": 4}");
	lbs_workload any = workload_parse(f.arena, "{\"test_id\": \"u\"}");
	shim_sched *s = test_sched("weighted-round-robin",
	                           "{\"weights\": {\"a\": 0, \"B\": 3, \"cc\": 1}}");

	warned[0] = '\0';
	host_set_log(test_host(), keep_warning, NULL);
	CHECK_STR(choose(s, &wl, &f), "b");
	CHECK_STR(choose(s, &wl, &f), "c");
	CHECK_STR(choose(s, &wl, &f), "b");
	CHECK_STR(warned, "weighted-round-robin: config field 'weights' names 2 ids that no worker "
	                  "of the 4 has, the first 'B' (ids must match exactly)\n");
	sched_close(s);

	/* drained "a" still serves what only it can take */
	s = test_sched("weighted-round-robin",
	               "{\"weights\": {\"a\": 0, \"b\": 0, \"c\": 0}, \"default_weight\": 1}");
	warned[0] = '\0';
	CHECK_STR(choose(s, &any, &f), "small");
	CHECK_STR(choose(s, &wl, &f), "a");
	CHECK_STR(warned, "");
	sched_close(s);

	s = test_sched("weighted-round-robin",
	               "{\"weights\": {\"a\": 0, \"b\": 0, \"c\": 0, \"small\": 0, \"x\": 1}}");
	warned[0] = '\0';
	CHECK_STR(choose(s, &wl, &f), "a");
	CHECK_CONTAINS(warned, "weighted-round-robin: every worker of the 4 has weight 0 (drained)");
	sched_close(s);

	/* Hosts pass subsets (the workers available now): said once, and an
	 * id seen in any fleet is not absent. */
	{
		fleet bc = fleet_parse("[{\"worker_id\": \"b\", \"cpu_cores\": 8, \"available_memory\": 16},"
		                       " {\"worker_id\": \"c\", \"cpu_cores\": 8, \"available_memory\": 16}]");
		fleet ab = fleet_parse("[{\"worker_id\": \"a\", \"cpu_cores\": 8, \"available_memory\": 16},"
		                       " {\"worker_id\": \"b\", \"cpu_cores\": 8, \"available_memory\": 16}]");
		lbs_workload wbc = workload_parse(bc.arena, "{\"test_id\": \"t\"}");
		lbs_workload wab = workload_parse(ab.arena, "{\"test_id\": \"t\"}");

		s = test_sched("weighted-round-robin", "{\"weights\": {\"a\": 0, \"b\": 1, \"c\": 3}}");
		warned[0] = '\0';
		CHECK_STR(choose(s, &wbc, &bc), "c");
		CHECK_STR(choose(s, &wbc, &bc), "b");
		CHECK_STR(warned, "weighted-round-robin: config field 'weights' names 1 id that no worker "
		                  "of the 2 has: 'a' (ids must match exactly)\n");
		/* b is behind (current -2) and drained a at 0: b all the same */
		CHECK_STR(choose(s, &wab, &ab), "b");
		CHECK_STR(choose(s, &wab, &ab), "b");
		/* the 4 GB requests ask no hardware apart: memory is no part
		 * of a class (client-chosen sizes made unbounded classes), so
		 * they take the same rotation, as before classes: c 3 times */
		CHECK_STR(choose(s, &wl, &f), "c");
		CHECK_STR(choose(s, &wbc, &bc), "c");
		CHECK_STR(choose(s, &wl, &f), "c");
		CHECK_INT((int)(strchr(warned, '\n') - warned + 1), (int)strlen(warned));
		sched_close(s);
		fleet_free(&bc);
		fleet_free(&ab);
	}
	host_set_log(test_host(), NULL, NULL);
	fleet_free(&f);
}

/* A bad worker is refused before the weights are checked against it. */
static void test_bad_worker(void)
{
	fleet f = fleet_parse(FLEET);
	lbs_workload wl = workload_parse(f.arena, "{\"test_id\": \"t\"}");
	shim_sched *s = test_sched("weighted-round-robin", W511);
	const lbs_scheduler_desc *d = sched_desc(s);
	const lbs_host_api *api;
	loaded_plugin *p;
	void *inst = NULL;
	char err[256];
	uint32_t idx[1];
	const char *ids[1];
	const lbs_worker *ws[2] = { f.workers[0], NULL };
	lbs_selection sel = { .struct_size = sizeof(sel), .capacity = 1,
	                      .indices = idx, .ids = ids };

	CHECK_INT(host_load(test_host(), getenv("LBS_PLUGIN"), &p, &api, err, sizeof(err)), LBS_OK);
	CHECK_INT(d->create(api, W511, strlen(W511), &inst, err, sizeof(err)), LBS_OK);
	CHECK_INT(d->select(inst, &wl, ws, 2, &sel), LBS_EINVAL);
	CHECK_INT(sel.n_selected, 0);
	d->destroy(inst);
	sched_close(s);
	fleet_free(&f);
}

/* a, c plain; b, d with CUDA: the reviewer's fleet. */
static const char *CUDA_FLEET =
	"[{\"worker_id\": \"a\", \"cpu_cores\": 8, \"available_memory\": 16,"
	"  \"supported_backends\": [\"cpu\"]},"
	" {\"worker_id\": \"b\", \"cpu_cores\": 8, \"available_memory\": 16,"
	"  \"supported_backends\": [\"cpu\", \"cuda\"], \"has_gpu\": true},"
	" {\"worker_id\": \"c\", \"cpu_cores\": 8, \"available_memory\": 16,"
	"  \"supported_backends\": [\"cpu\"]},"
	" {\"worker_id\": \"d\", \"cpu_cores\": 8, \"available_memory\": 16,"
	"  \"supported_backends\": [\"cpu\", \"cuda\"], \"has_gpu\": true}]";

/* Requests of different eligible sets interleaved: plain tests (all four
 * eligible) and CUDA tests (b and d).  Each set takes turns of its own:
 * the plain ones a b c d a b c d ..., the CUDA ones b d b d ...  With one
 * rotation for every request, d's turns went to plain tests and b took
 * all 12 CUDA tests: a 3, b 12, c 3, d 6. */
static void test_classes_interleaved(void)
{
	fleet f = fleet_parse(CUDA_FLEET);
	lbs_workload plain = workload_parse(f.arena, "{\"test_id\": \"p\"}");
	lbs_workload cuda = workload_parse(f.arena,
		"{\"test_id\": \"g\", \"required_backend\": \"cuda\"}");
	shim_sched *s = test_sched("weighted-round-robin", NULL);
	static const char *const plain_order[] = { "a", "b", "c", "d" };
	static const char *const cuda_order[] = { "b", "d" };
	int got[2][4] = { { 0 } };

	for (int i = 0; i < 24; i++) {
		int g = i % 2;
		const char *id = choose(s, g ? &cuda : &plain, &f);

		CHECK_STR(id, g ? cuda_order[(i / 2) % 2] : plain_order[(i / 2) % 4]);
		if (id[0] >= 'a' && id[0] <= 'd')
			got[g][id[0] - 'a']++;
	}
	CHECK_INT(got[0][0], 3);
	CHECK_INT(got[0][1], 3);
	CHECK_INT(got[0][2], 3);
	CHECK_INT(got[0][3], 3);
	CHECK_INT(got[1][1], 6);
	CHECK_INT(got[1][3], 6);
	sched_close(s);
	fleet_free(&f);
}

/* Weights 3:1 within the CUDA pair (b 3, d 1; a and c 1) hold under an
 * irregular interleaving with plain tests: every 4 CUDA tests b takes 3
 * and d 1, every 6 plain tests a 1, b 3, c 1, d 1, in nginx's order for
 * each set (the CUDA class, made as a copy of the shared rotation after
 * plain tests, enters its cycle where that copy puts it: a fixed cycle of
 * 4, not nginx's b b d b from zero).  With one rotation, the CUDA tests
 * went b 37, d 11 of 48, out of nginx's order. */
static void test_classes_weighted(void)
{
	fleet f = fleet_parse(CUDA_FLEET);
	lbs_workload plain = workload_parse(f.arena, "{\"test_id\": \"p\"}");
	lbs_workload cuda = workload_parse(f.arena,
		"{\"test_id\": \"g\", \"required_backend\": \"cuda\"}");
	shim_sched *s = test_sched("weighted-round-robin",
	                           "{\"weights\": {\"a\": 1, \"b\": 3, \"c\": 1, \"d\": 1}}");
	/* nginx's orders: b 3 d 1 is b b d b (ties to b, first in the array);
	 * 1 3 1 1 is b a b c d b */
	const char *cuda_order[4] = { 0 };
	static const char *const plain_order[] = { "b", "a", "b", "c", "d", "b" };
	int n_cuda = 0, n_plain = 0, b = 0, d = 0;
	uint64_t x = 12345;

	for (int i = 0; i < 96; i++) {
		int g;
		const char *id;

		x = x * 6364136223846793005u + 1442695040888963407u;
		g = (int)(x >> 62) & 1; /* runs of either, unequal */
		id = choose(s, g ? &cuda : &plain, &f);
		if (g) {
			if (n_cuda < 4)
				cuda_order[n_cuda] = id;
			CHECK_STR(id, cuda_order[n_cuda % 4]);
			n_cuda++;
			b += !strcmp(id, "b");
			d += !strcmp(id, "d");
			if (n_cuda % 4 == 0) {
				CHECK_INT(b, 3 * n_cuda / 4);
				CHECK_INT(d, n_cuda / 4);
			}
		} else {
			CHECK_STR(id, plain_order[n_plain % 6]);
			n_plain++;
		}
	}
	/* the interleaving had both, in runs */
	CHECK(n_cuda >= 24 && n_plain >= 24);
	sched_close(s);
	fleet_free(&f);
}

/* Four equal workers with software n0 .. n5 (any subset of the names is
 * a class every worker meets). */
static const char *NAMES_FLEET =
	"[{\"worker_id\": \"a\", \"cpu_cores\": 8, \"available_memory\": 16, \"software_versions\":"
	"  {\"n0\": \"1\", \"n1\": \"1\", \"n2\": \"1\", \"n3\": \"1\", \"n4\": \"1\", \"n5\": \"1\"}},"
	" {\"worker_id\": \"b\", \"cpu_cores\": 8, \"available_memory\": 16, \"software_versions\":"
	"  {\"n0\": \"1\", \"n1\": \"1\", \"n2\": \"1\", \"n3\": \"1\", \"n4\": \"1\", \"n5\": \"1\"}},"
	" {\"worker_id\": \"c\", \"cpu_cores\": 8, \"available_memory\": 16, \"software_versions\":"
	"  {\"n0\": \"1\", \"n1\": \"1\", \"n2\": \"1\", \"n3\": \"1\", \"n4\": \"1\", \"n5\": \"1\"}},"
	" {\"worker_id\": \"d\", \"cpu_cores\": 8, \"available_memory\": 16, \"software_versions\":"
	"  {\"n0\": \"1\", \"n1\": \"1\", \"n2\": \"1\", \"n3\": \"1\", \"n4\": \"1\", \"n5\": \"1\"}}]";

static const char *const NAME_SET[] = { "n0", "n1", "n2", "n3", "n4", "n5" };

/* The names of subset `bits` (1 .. 63) of NAME_SET into names[]. */
static lbs_workload with_names(const lbs_workload *base, unsigned bits, const char **names)
{
	lbs_workload wl = *base;
	uint32_t n = 0;

	for (unsigned i = 0; i < 6; i++)
		if (bits >> i & 1)
			names[n++] = NAME_SET[i];
	wl.required_backend_names = names;
	wl.n_required_backend_names = n;
	return wl;
}

/* More classes in turn than WRR_CLASSES (32) are kept: each is dropped
 * before it comes back, and comes back as a copy of the shared rotation,
 * so the decisions are the one rotation's, a b c d ...  Made from zero
 * (as it was), every class's first pick was the first worker: a took all
 * 160. */
static void test_classes_bounded(void)
{
	fleet f = fleet_parse(NAMES_FLEET);
	lbs_workload base = workload_parse(f.arena, "{\"test_id\": \"t\"}");
	shim_sched *s = test_sched("weighted-round-robin", NULL);
	static const char *const order[] = { "a", "b", "c", "d" };
	const char *names[6];
	int got[4] = { 0 };

	for (int i = 0; i < 160; i++) {
		lbs_workload wl = with_names(&base, 1 + (unsigned)(i % 40), names);
		const char *id = choose(s, &wl, &f);

		CHECK_STR(id, order[i % 4]);
		if (id[0] >= 'a' && id[0] <= 'd')
			got[id[0] - 'a']++;
	}
	for (int k = 0; k < 4; k++)
		CHECK_INT(got[k], 40);
	sched_close(s);
	fleet_free(&f);
}

/* The reviewer's case: tests of minimum memory 2^k bytes, k = 0 .. 31,
 * and one of 0, in turn 4 times on 4 equal workers.  Memory is no part of
 * a class: one rotation, 33 each.  As 33 classes by power of two (each
 * dropped before it came back, each made from zero), a took 132 of 132. */
static void test_memory_sizes_one_class(void)
{
	fleet f = fleet_parse(NAMES_FLEET);
	lbs_workload wl = workload_parse(f.arena, "{\"test_id\": \"t\"}");
	shim_sched *s = test_sched("weighted-round-robin", NULL);
	int got[4] = { 0 };

	for (int i = 0; i < 132; i++) {
		int k = i % 33;
		const char *id;

		wl.min_memory_bytes = k == 32 ? 0 : UINT64_C(1) << k;
		id = choose(s, &wl, &f);
		if (id[0] >= 'a' && id[0] <= 'd')
			got[id[0] - 'a']++;
	}
	for (int k = 0; k < 4; k++)
		CHECK(got[k] >= 32 && got[k] <= 34);
	sched_close(s);
	fleet_free(&f);
}

/* a, c plain; b, d with software foo and bar. */
static const char *FOO_FLEET =
	"[{\"worker_id\": \"a\", \"cpu_cores\": 8, \"available_memory\": 16},"
	" {\"worker_id\": \"b\", \"cpu_cores\": 8, \"available_memory\": 16,"
	"  \"software_versions\": {\"foo\": \"1\", \"bar\": \"1\"}},"
	" {\"worker_id\": \"c\", \"cpu_cores\": 8, \"available_memory\": 16},"
	" {\"worker_id\": \"d\", \"cpu_cores\": 8, \"available_memory\": 16,"
	"  \"software_versions\": {\"foo\": \"1\", \"bar\": \"1\"}}]";

/* A select that finds no worker makes no class and drops none: 32
 * requests for names no worker has, amid plain and foo tests, leave every
 * later pick as a twin without them has it.  (Each made a class before
 * its pick, and the foo class, dropped, came back as something else: a
 * copy of the shared rotation went d d b, not d b d.) */
static void test_no_worker_makes_no_class(void)
{
	fleet f = fleet_parse(FOO_FLEET);
	lbs_workload plain = workload_parse(f.arena, "{\"test_id\": \"p\"}");
	lbs_workload foo = workload_parse(f.arena,
		"{\"test_id\": \"g\", \"required_software\": {\"foo\": \"1\"}}");
	shim_sched *s = test_sched("weighted-round-robin", NULL);
	shim_sched *twin = test_sched("weighted-round-robin", NULL);
	static const char *const before[] = { "a", "b", "b", "c" };
	static const char *const after[] = { "d", "b", "d", "d", "a" };
	const char *missing[1];
	char buf[32][8];

	for (int i = 0; i < 4; i++) {
		lbs_workload *wl = i == 1 ? &foo : &plain;

		CHECK_STR(choose(s, wl, &f), before[i]);
		CHECK_STR(choose(twin, wl, &f), before[i]);
	}
	for (int k = 0; k < 32; k++) {
		lbs_workload none = plain;

		snprintf(buf[k], sizeof(buf[k]), "x%d", k);
		missing[0] = buf[k];
		none.required_backend_names = missing;
		none.n_required_backend_names = 1;
		CHECK_STR(choose(s, &none, &f), "none");
	}
	for (int i = 0; i < 5; i++) {
		lbs_workload *wl = i < 3 ? &foo : &plain;

		CHECK_STR(choose(s, wl, &f), after[i]);
		CHECK_STR(choose(twin, wl, &f), after[i]);
	}
	sched_close(s);
	sched_close(twin);
	fleet_free(&f);
}

/* Names and accelerator kinds are sets to eligibility: on a, c and b, d
 * (which have `has`), tests asking `one` and `other` (the same set in two
 * orders, n items) alternated go b d b d; hashed in order they were two
 * classes, each made from zero: b b b b. */
static void any_order(const char *has, const char *one, const char *other, int accels)
{
	char fleet_text[600], a_text[200], b_text[200];
	const char *field = accels ? "required_accelerators" : "required_software";

	snprintf(fleet_text, sizeof fleet_text,
	         "[{\"worker_id\": \"a\", \"cpu_cores\": 8, \"available_memory\": 16},"
	         " {\"worker_id\": \"b\", \"cpu_cores\": 8, \"available_memory\": 16, %s},"
	         " {\"worker_id\": \"c\", \"cpu_cores\": 8, \"available_memory\": 16},"
	         " {\"worker_id\": \"d\", \"cpu_cores\": 8, \"available_memory\": 16, %s}]",
	         has, has);
	snprintf(a_text, sizeof a_text, "{\"test_id\": \"t\", \"%s\": %s}", field, one);
	snprintf(b_text, sizeof b_text, "{\"test_id\": \"u\", \"%s\": %s}", field, other);

	fleet f = fleet_parse(fleet_text);
	lbs_workload x = workload_parse(f.arena, a_text), y = workload_parse(f.arena, b_text);
	shim_sched *s = test_sched("weighted-round-robin", NULL);

	/* the two really are in two orders */
	if (accels) {
		CHECK_INT((int)x.n_required_accels, 2);
		CHECK(strcmp(x.required_accel_kinds[0], y.required_accel_kinds[0]) != 0);
	} else {
		CHECK_INT((int)x.n_required_backend_names, 2);
		CHECK(strcmp(x.required_backend_names[0], y.required_backend_names[0]) != 0);
	}
	for (int i = 0; i < 8; i++)
		CHECK_STR(choose(s, i % 2 ? &y : &x, &f), i % 2 ? "d" : "b");
	sched_close(s);
	fleet_free(&f);
}

static void test_names_any_order(void)
{
	any_order("\"software_versions\": {\"foo\": \"1\", \"bar\": \"1\"}",
	          "{\"foo\": \"1\", \"bar\": \"1\"}", "{\"bar\": \"1\", \"foo\": \"1\"}", 0);
}

static void test_accels_any_order(void)
{
	any_order("\"available_accelerators\": {\"gpu\": 1, \"tpu\": 1}",
	          "{\"gpu\": 1, \"tpu\": 1}", "{\"tpu\": 1, \"gpu\": 1}", 1);
}

/* ===== Explain and score rank as select does ============================== */


/* One random fleet (3 to 7 workers, weights 0 to 6 from config, memory 4
 * to 16 GB) and a run of random requests of 1 to 4 workers, some with a
 * memory floor.  Before each select, explain and score: the workers select
 * takes must be the ones they rank first, as many as it takes.  (Explain
 * ranked by one share of the weights while a request of m took m, so a
 * light worker far along its turn outranked a heavy one select took.) */
static void ranked_as_selected(int requests)
{
	char fleet_json[2048], config[512];
	size_t fu = 0, cu = 0;
	uint32_t n = 3 + rnd(5);
	int positive = 0;
	fleet f;
	shim_sched *s;

	fu += (size_t)snprintf(fleet_json + fu, sizeof fleet_json - fu, "[");
	cu += (size_t)snprintf(config + cu, sizeof config - cu, "{\"weights\": {");
	for (uint32_t i = 0; i < n; i++) {
		uint32_t w = rnd(7);

		positive |= w > 0;
		if (i == n - 1 && !positive)
			w = 1; /* all drained is refused by the config */
		fu += (size_t)snprintf(fleet_json + fu, sizeof fleet_json - fu,
		                       "%s{\"worker_id\": \"w%u\", \"cpu_cores\": 8, "
		                       "\"available_memory\": %u}", i ? "," : "", i, 4u << rnd(3));
		cu += (size_t)snprintf(config + cu, sizeof config - cu, "%s\"w%u\": %u",
		                       i ? ", " : "", i, w);
	}
	snprintf(fleet_json + fu, sizeof fleet_json - fu, "]");
	snprintf(config + cu, sizeof config - cu, "}}");
	f = fleet_parse(fleet_json);
	s = test_sched("weighted-round-robin", config);
	for (int r = 0; r < requests; r++) {
		uint32_t idx[8], m = 1 + rnd(4), picked[8] = { 0 }, got;
		const char *ids[8];
		lbs_selection sel = { .struct_size = sizeof(sel), .capacity = 8, .indices = idx,
			              .ids = ids };
		double explained[8], scored[8], lo_picked = INFINITY, hi_left = -INFINITY;
		char json[256];
		lbs_workload wl;
		cJSON *doc;
		int fell_back = 0;
		lbs_status st;

		snprintf(json, sizeof json,
		         "{\"test_id\": \"t\", \"minimum_memory\": %u, \"custom_properties\":"
		         " {\"allocation_strategy\": \"replicated\", \"min_shards\": 1,"
		         " \"max_shards\": %u}}", rnd(3) ? 0u : 6u, m);
		wl = workload_parse(f.arena, json);
		doc = explain_doc(s, &wl, &f);
		CHECK_INT(sched_score(s, &wl, (const lbs_worker *const *)f.workers, f.n, scored),
		          LBS_OK);
		for (uint32_t i = 0; i < n; i++) {
			const cJSON *c = candidate(doc, f.workers[i]->id);

			explained[i] = c ? doc_num(c, "score") : -1.0;
			CHECK_NEAR(scored[i], explained[i], 1e-6); /* explain's 6 places */
		}
		cJSON_Delete(doc);
		st = sched_select(s, &wl, (const lbs_worker *const *)f.workers, f.n, &sel,
		                  &fell_back);
		CHECK_INT(fell_back, 0);
		if (st != LBS_OK)
			continue; /* nobody eligible (the memory floor) */
		got = sel.n_selected;
		for (uint32_t k = 0; k < got; k++)
			picked[idx[k]] = 1;
		for (uint32_t i = 0; i < n; i++) {
			if (picked[i])
				lo_picked = explained[i] < lo_picked ? explained[i] : lo_picked;
			else if (explained[i] >= 0.0)
				hi_left = explained[i] > hi_left ? explained[i] : hi_left;
		}
		if (!(lo_picked >= hi_left - 1e-6)) {
			CHECK(lo_picked >= hi_left - 1e-6);
			fprintf(stderr, "    fleet %s, config %s, request %d of %u: picked down to "
			        "score %.4f, left one at %.4f\n", fleet_json, config, r, m,
			        lo_picked, hi_left);
			break;
		}
	}
	sched_close(s);
	fleet_free(&f);
}

static void test_explain_ranks_as_select(void)
{
	for (int i = 0; i < 40; i++)
		ranked_as_selected(30);
}

/* ===== An allocation failing in the middle of a rotation ================== */

/* "gone" takes turns, then leaves for longer than the plugin's forget age
 * (1024 selects): after workers_changed, the next select drops it from
 * the shared rotation and the plain tests' class, compacting both.  Tests
 * asking for k GPUs, each k once, come only after that: each is a class
 * read from the shared rotation as the forget left it, and selected for
 * once, so that a class that could not be made changes nothing after. */
static const char *LEAVER_FLEET =
	"[{\"worker_id\": \"gone\", \"cpu_cores\": 8, \"available_memory\": 16, \"capacity\": 2,"
	"  \"available_accelerators\": {\"gpu\": 16}},"
	" {\"worker_id\": \"a\", \"cpu_cores\": 8, \"available_memory\": 16, \"capacity\": 3,"
	"  \"available_accelerators\": {\"gpu\": 16}},"
	" {\"worker_id\": \"b\", \"cpu_cores\": 8, \"available_memory\": 16, \"capacity\": 2,"
	"  \"available_accelerators\": {\"gpu\": 16}},"
	" {\"worker_id\": \"c\", \"cpu_cores\": 8, \"available_memory\": 16,"
	"  \"available_accelerators\": {\"gpu\": 16}},"
	" {\"worker_id\": \"d\", \"cpu_cores\": 8, \"available_memory\": 16,"
	"  \"available_accelerators\": {\"gpu\": 16}}]";

#define LEAVER_LOG 16384

/* A select that failed (one allocation failing: the host fell back) is
 * asked again.  It must have left the rotation as it was, so the picks
 * are those of a run where nothing failed.  Returns 0, or -1 when the
 * select failed twice or found no worker. */
static int leaver_choose(shim_sched *s, const lbs_workload *wl, const fleet *f, char *log,
                         size_t *used)
{
	uint32_t idx[4];
	const char *ids[4];
	lbs_selection sel = { .struct_size = sizeof(sel), .capacity = 4, .indices = idx,
		              .ids = ids };
	int fell_back = 0;
	lbs_status st;

	for (int tries = 0; tries < 2; tries++) {
		st = sched_select(s, wl, (const lbs_worker *const *)f->workers, f->n, &sel,
		                  &fell_back);
		if (!fell_back)
			break;
	}
	if (fell_back || st != LBS_OK || sel.n_selected != 1) {
		fprintf(stderr, "select: status %d, %u workers, fell back %d\n", (int)st,
		        sel.n_selected, fell_back);
		return -1;
	}
	*used += (size_t)snprintf(log + *used, LEAVER_LOG - *used, "%s ", ids[0]);
	return *used < LEAVER_LOG ? 0 : -1;
}

/* The picks of the run, space-separated, into log. */
static int leaver_run(shim_sched *s, char *log)
{
	fleet f = fleet_parse(LEAVER_FLEET), left = fleet_parse(LEAVER_FLEET);
	lbs_workload plain = workload_parse(f.arena, "{\"test_id\": \"p\"}");
	size_t used = 0;
	int bad = 0;

	log[0] = '\0';
	left.workers++; /* without "gone" */
	left.n--;
	for (int i = 0; i < 10 && !bad; i++)
		bad = leaver_choose(s, &plain, &f, log, &used);
	for (int i = 0; i < 1100 && !bad; i++)
		bad = leaver_choose(s, &plain, &left, log, &used);
	if (!bad && sched_workers_changed(s, (const lbs_worker *const *)left.workers, left.n) !=
	            LBS_OK)
		bad = -1;
	for (int k = 1; k <= 16 && !bad; k++) {
		char json[96];
		lbs_workload gpus;

		snprintf(json, sizeof json,
		         "{\"test_id\": \"g\", \"required_accelerators\": {\"gpu\": %d}}", k);
		gpus = workload_parse(f.arena, json);
		bad = leaver_choose(s, &plain, &left, log, &used);
		if (!bad)
			bad = leaver_choose(s, &plain, &left, log, &used);
		if (!bad)
			bad = leaver_choose(s, &gpus, &left, log, &used);
	}
	left.workers--;
	left.n++;
	fleet_free(&left);
	fleet_free(&f);
	return bad;
}

enum { LEAVER_SAME = 0, LEAVER_DIFFERENT = 1, LEAVER_REFUSED = 10 };

/* In a child: the run with allocation #n failing, against `want`. */
static void leaver_child(const char *plugin, long n, const char *want)
{
	static char got[LEAVER_LOG];
	char env[32], err[1024] = "";
	shim_sched *s = NULL;
	size_t at = 0, pick = 0;

	snprintf(env, sizeof env, "%ld", n);
	setenv("LBS_FAULT_ALLOC_FAIL", env, 1);
	if (sched_open(test_host(), plugin, "weighted-round-robin", "{}", 2, &s, err,
	               sizeof err) != LBS_OK)
		exit(LEAVER_REFUSED);
	if (leaver_run(s, got))
		exit(LEAVER_DIFFERENT);
	sched_close(s);
	if (!strcmp(got, want))
		exit(LEAVER_SAME);
	while (got[at] && got[at] == want[at])
		at++;
	while (at && got[at - 1] != ' ')
		at--;
	for (size_t i = 0; i < at; i++)
		pick += got[i] == ' ';
	fprintf(stderr, "allocation #%ld failing: pick %zu on differs from the run without a "
	        "failure: '%.40s', expected '%.40s'\n", n, pick + 1, got + at, want + at);
	exit(LEAVER_DIFFERENT);
}

/* Every allocation of create and the run failing in turn (the plugin
 * built with plugin/fault_alloc.h): the picks must be the failure-free
 * run's, whichever failed.  A forget whose index could not be had once
 * compacted the entries under the old index: lookups then found other
 * workers' entries or none, and the rotations started over. */
static void test_alloc_failures(void)
{
	static char want[LEAVER_LOG];
	const char *plugin = getenv("LBS_FAULT_PLUGIN");
	shim_sched *s = test_sched("weighted-round-robin", NULL);
	long n, survived = 0;
	int finished = 0;

	if (!plugin) {
		fprintf(stderr, "test fixture broken: LBS_FAULT_PLUGIN not set (run through meson "
		                "test)\n");
		exit(99);
	}
	CHECK_INT(leaver_run(s, want), 0);
	sched_close(s);
	for (n = 1; n <= 1000 && !finished; n++) {
		char out[4096];
		int p[2], status, code;
		pid_t pid;

		if (pipe(p)) {
			fprintf(stderr, "test fixture broken: pipe: %s\n", strerror(errno));
			exit(99);
		}
		fflush(NULL);
		pid = fork();
		if (pid == 0) {
			close(p[0]);
			dup2(p[1], 2);
			leaver_child(plugin, n, want);
		}
		close(p[1]);
		out[0] = '\0';
		{
			size_t used = 0;
			ssize_t r;

			while ((r = read(p[0], out + used, sizeof out - 1 - used)) > 0 ||
			       (r < 0 && errno == EINTR))
				used += r > 0 ? (size_t)r : 0;
			out[used] = '\0';
		}
		close(p[0]);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		if (code != LEAVER_SAME && code != LEAVER_REFUSED) {
			CHECK(code == LEAVER_SAME || code == LEAVER_REFUSED);
			fprintf(stderr, "    allocation #%ld failing: %s %d\n%s", n,
			        WIFSIGNALED(status) ? "killed by signal" : "exit",
			        WIFSIGNALED(status) ? WTERMSIG(status) : code, out);
			continue;
		}
		if (!strstr(out, "lbs-fault: allocation #"))
			finished = 1; /* n is past the last allocation */
		else
			survived += code == LEAVER_SAME;
	}
	CHECK(finished);
	printf("malloc failure: %ld allocations to create and run, %ld failures survived with "
	       "the same picks\n", n - 2, survived);
}

/* The composite finds it by name, blends its score: 1 for the next pick. */
static void test_composite_child(void)
{
	fleet f = fleet_parse(FLEET);
	lbs_workload wl = workload_parse(f.arena, "{\"test_id\": \"t\", \"minimum_memory\": 4}");
	shim_sched *s = test_sched("composite",
		"{\"children\": [{\"scheduler\": \"weighted-round-robin\", \"weight\": 1,"
		"  \"config\": {\"weights\": {\"a\": 5, \"b\": 1, \"c\": 1}}}]}");

	CHECK_STR(choose(s, &wl, &f), "a");
	CHECK_STR(choose(s, &wl, &f), "a");
	CHECK_STR(choose(s, &wl, &f), "b");
	sched_close(s);
	fleet_free(&f);
}

int main(void)
{
	test_smooth_order();
	test_load_weights();
	test_capacity_weights();
	test_ineligible_keep_weight();
	test_array_moves();
	test_shards_none();
	test_pair_shares();
	test_drained_fills_a_pair();
	test_classes_interleaved();
	test_classes_weighted();
	test_classes_bounded();
	test_memory_sizes_one_class();
	test_no_worker_makes_no_class();
	test_names_any_order();
	test_accels_any_order();
	test_explain_score_stats();
	test_config_errors();
	test_weights_against_fleet();
	test_bad_worker();
	test_composite_child();
	test_explain_ranks_as_select();
	test_alloc_failures();
	return check_done("test_wrr");
}
