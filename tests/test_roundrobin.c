/*
 * test_roundrobin.c -- the "round-robin" scheduler through the real plugin:
 * a true rotation over the eligible workers, no starvation when requests
 * alternate between subsets (the original's drifting index), exclusions,
 * shards, config errors, and explain / score / stats.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "check.h"
#include "support.h"

/* w2 is overloaded (95%) and w5 has too little memory for the 4 GB tests
 * below, so 4 of the 6 are eligible: w1 w3 w4 w6. */
static const char *FLEET6 =
	"[{\"worker_id\": \"w1\", \"supported_backends\": [\"cpu\"], \"cpu_cores\": 8, \"available_memory\": 16},"
	" {\"worker_id\": \"w2\", \"supported_backends\": [\"cpu\"], \"cpu_cores\": 8, \"available_memory\": 16,"
	"  \"load\": {\"cpu_utilization\": 95, \"memory_utilization\": 95, \"gpu_utilization\": 95,"
	"            \"io_utilization\": 95, \"network_utilization\": 95}},"
	" {\"worker_id\": \"w3\", \"supported_backends\": [\"cpu\"], \"cpu_cores\": 8, \"available_memory\": 16},"
	" {\"worker_id\": \"w4\", \"supported_backends\": [\"cpu\"], \"cpu_cores\": 8, \"available_memory\": 16},"
	" {\"worker_id\": \"w5\", \"supported_backends\": [\"cpu\"], \"cpu_cores\": 8, \"available_memory\": 1},"
	" {\"worker_id\": \"w6\", \"supported_backends\": [\"cpu\"], \"cpu_cores\": 8, \"available_memory\": 16}]";

static const char *TEST4GB =
	"{\"test_id\": \"t\", \"test_type\": \"vision_classification\", \"minimum_memory\": 4}";

static char reason[512];

/*
 * Select through the host and return the chosen ids joined by ",", "none"
 * or "error:<status>".  Unlike pick(), a host fallback (the host rejected
 * the plugin's answer and chose itself) is a failed check: it would hide
 * exactly the bugs these tests look for.
 */
static const char *choose_in(shim_sched *s, const lbs_workload *wl,
                             const lbs_worker *const *workers, uint32_t n)
{
	static char out[1024];
	uint32_t idx[16];
	const char *ids[16];
	lbs_selection sel = { .struct_size = sizeof(sel), .capacity = 16,
	                      .indices = idx, .ids = ids, .reason = reason,
	                      .reason_len = sizeof(reason) };
	int fell_back = 0;
	lbs_status st = sched_select(s, wl, workers, n, &sel, &fell_back);
	size_t used = 0;

	CHECK_INT(fell_back, 0);
	if (st == LBS_NO_WORKER)
		return "none";
	if (st != LBS_OK) {
		snprintf(out, sizeof(out), "error:%d", (int)st);
		return out;
	}
	CHECK(sel.cookie != 0);
	out[0] = '\0';
	for (uint32_t i = 0; i < sel.n_selected; i++)
		used += (size_t)snprintf(out + used, sizeof(out) - used, "%s%s",
		                         i ? "," : "", sel.ids[i]);
	return out;
}

static const char *choose(shim_sched *s, const lbs_workload *wl, const fleet *f)
{
	return choose_in(s, wl, (const lbs_worker *const *)f->workers, f->n);
}

static void test_rotation(void)
{
	fleet f = fleet_parse(FLEET6);
	lbs_workload wl = workload_parse(f.arena, TEST4GB);
	shim_sched *s = test_sched("round-robin", NULL);
	static const char *const order[] = { "w1", "w3", "w4", "w6" };

	/* Three full cycles, each eligible worker exactly once per cycle and
	 * in fleet order. */
	for (int i = 0; i < 12; i++)
		CHECK_STR(choose(s, &wl, &f), order[i % 4]);
	CHECK_CONTAINS(reason, "round-robin: next eligible worker in rotation");
	/* w4 -> w6 skipped w5 (too little memory). */
	CHECK_CONTAINS(reason, "position 6 of 6, 1 ineligible skipped");
	CHECK_STR(choose(s, &wl, &f), "w1");
	CHECK_CONTAINS(reason, "position 1 of 6, 0 ineligible skipped");
	/* w1 -> w3 skips the overloaded w2. */
	CHECK_STR(choose(s, &wl, &f), "w3");
	CHECK_CONTAINS(reason, "position 3 of 6, 1 ineligible skipped");
	sched_close(s);
	fleet_free(&f);
}

/*
 * The original advanced one index modulo the length of each request's own
 * compatible list.  Alternating "any worker" with "GPU workers only" over
 * A B C D (A, B with GPUs), the original and a single shared cursor both
 * lock into X -> B, Y -> A forever: C and D never get work.  Per kind of
 * request, every eligible worker must get exactly its turn.
 */
static void test_alternating_subsets(void)
{
	fleet f = fleet_parse(
		"[{\"worker_id\": \"A\", \"cpu_cores\": 8, \"available_memory\": 16, \"available_accelerators\": {\"gpu\": 1}},"
		" {\"worker_id\": \"B\", \"cpu_cores\": 8, \"available_memory\": 16, \"available_accelerators\": {\"gpu\": 1}},"
		" {\"worker_id\": \"C\", \"cpu_cores\": 8, \"available_memory\": 16},"
		" {\"worker_id\": \"D\", \"cpu_cores\": 8, \"available_memory\": 16}]");
	lbs_workload any = workload_parse(f.arena, "{\"test_id\": \"x\"}");
	lbs_workload gpu = workload_parse(f.arena,
		"{\"test_id\": \"y\", \"required_accelerators\": {\"gpu\": 1}}");
	shim_sched *s = test_sched("round-robin", NULL);
	int x_count[4] = { 0 }, y_count[4] = { 0 };

	for (int i = 0; i < 40; i++) {
		const char *x = choose(s, &any, &f);
		const char *y;

		if (strlen(x) == 1 && x[0] >= 'A' && x[0] <= 'D')
			x_count[x[0] - 'A']++;
		y = choose(s, &gpu, &f);
		CHECK(strcmp(y, "A") == 0 || strcmp(y, "B") == 0);
		if (strlen(y) == 1 && y[0] >= 'A' && y[0] <= 'D')
			y_count[y[0] - 'A']++;
	}
	for (int i = 0; i < 4; i++)
		CHECK_INT(x_count[i], 10);
	CHECK_INT(y_count[0], 20);
	CHECK_INT(y_count[1], 20);
	sched_close(s);
	fleet_free(&f);
}

/* The same with a backend required by name (ABI 1.1): "jax" work is a
 * kind of request of its own, with its own turn. */
static void test_alternating_named(void)
{
	fleet f = fleet_parse(
		"[{\"worker_id\": \"A\", \"cpu_cores\": 8, \"available_memory\": 16, \"supported_backends\": [\"cpu\", \"jax\"]},"
		" {\"worker_id\": \"B\", \"cpu_cores\": 8, \"available_memory\": 16, \"software_versions\": {\"jax\": \"0.4\"}},"
		" {\"worker_id\": \"C\", \"cpu_cores\": 8, \"available_memory\": 16},"
		" {\"worker_id\": \"D\", \"cpu_cores\": 8, \"available_memory\": 16}]");
	lbs_workload any = workload_parse(f.arena, "{\"test_id\": \"x\"}");
	lbs_workload jax = workload_parse(f.arena, "{\"test_id\": \"y\", \"required_backend\": \"jax\"}");
	shim_sched *s = test_sched("round-robin", NULL);
	int x_count[4] = { 0 }, y_count[4] = { 0 };

	for (int i = 0; i < 40; i++) {
		const char *x = choose(s, &any, &f);
		const char *y;

		if (strlen(x) == 1 && x[0] >= 'A' && x[0] <= 'D')
			x_count[x[0] - 'A']++;
		y = choose(s, &jax, &f);
		if (strlen(y) == 1 && y[0] >= 'A' && y[0] <= 'D')
			y_count[y[0] - 'A']++;
	}
	for (int i = 0; i < 4; i++)
		CHECK_INT(x_count[i], 10);
	CHECK_INT(y_count[0], 20);
	CHECK_INT(y_count[1], 20);
	sched_close(s);
	fleet_free(&f);
}

static void test_exclusions(void)
{
	fleet f = fleet_parse(FLEET6);
	lbs_workload wl = workload_parse(f.arena,
		"{\"test_id\": \"t\", \"minimum_memory\": 4, \"exclude_workers\": [\"w3\", \"w6\"]}");
	shim_sched *s = test_sched("round-robin", NULL);

	for (int i = 0; i < 6; i++)
		CHECK_STR(choose(s, &wl, &f), i % 2 ? "w4" : "w1");
	sched_close(s);
	fleet_free(&f);
}

static void test_none(void)
{
	fleet f = fleet_parse(FLEET6);
	lbs_workload tpu = workload_parse(f.arena,
		"{\"test_id\": \"t\", \"required_accelerators\": {\"tpu\": 1}}");
	lbs_workload all_excluded = workload_parse(f.arena,
		"{\"test_id\": \"t\", \"minimum_memory\": 4,"
		" \"exclude_workers\": [\"w1\", \"w3\", \"w4\", \"w6\"]}");
	shim_sched *s = test_sched("round-robin", NULL);

	CHECK_STR(choose(s, &tpu, &f), "none");
	CHECK_CONTAINS(reason, "no eligible worker among 6 (accelerator 6)");
	CHECK_STR(choose(s, &all_excluded, &f), "none");
	CHECK_CONTAINS(reason, "excluded 4");
	CHECK_CONTAINS(reason, "memory 1");
	CHECK_CONTAINS(reason, "overloaded 1");
	sched_close(s);
	fleet_free(&f);
}

static void test_shards(void)
{
	fleet f = fleet_parse(FLEET6);
	lbs_workload sharded = workload_parse(f.arena,
		"{\"test_id\": \"s\", \"minimum_memory\": 4, \"custom_properties\":"
		" {\"allocation_strategy\": \"sharded\", \"is_shardable\": true,"
		"  \"min_shards\": 2, \"max_shards\": 3}}");
	lbs_workload too_many = workload_parse(f.arena,
		"{\"test_id\": \"r\", \"minimum_memory\": 4, \"custom_properties\":"
		" {\"allocation_strategy\": \"replicated\","
		"  \"min_shards\": 5, \"max_shards\": 6}}");
	lbs_workload single = workload_parse(f.arena, TEST4GB);
	lbs_workload replicated_all = workload_parse(f.arena,
		"{\"test_id\": \"r\", \"minimum_memory\": 4, \"custom_properties\":"
		" {\"allocation_strategy\": \"replicated\","
		"  \"min_shards\": 1, \"max_shards\": 10}}");
	shim_sched *s = test_sched("round-robin", NULL);

	CHECK_INT(sharded.allocation, LBS_ALLOC_SHARDED);
	CHECK_STR(choose(s, &sharded, &f), "w1,w3,w4");
	CHECK_CONTAINS(reason, "next 3 eligible workers");
	/* The rotation goes on after the last shard, wrapping. */
	CHECK_STR(choose(s, &sharded, &f), "w6,w1,w3");
	/* 5 needed, 4 eligible: no answer, and the cursor stays put. */
	CHECK_STR(choose(s, &too_many, &f), "none");
	CHECK_CONTAINS(reason, "only 4 eligible workers, the workload needs at least 5");
	CHECK_STR(choose(s, &single, &f), "w4");
	/* Asking for 10 gets every eligible worker once. */
	CHECK_STR(choose(s, &replicated_all, &f), "w6,w1,w3,w4");
	/* min_shards and max_shards 0, outside the ABI, are one worker, as
	 * min_shards 0 alone is (not no_worker among eligible ones). */
	sharded.min_shards = sharded.max_shards = 0;
	CHECK_STR(choose(s, &sharded, &f), "w6");
	sched_close(s);
	fleet_free(&f);
}

/* Positions mean nothing across calls: when the array changes, the
 * rotation continues after the worker it chose last, found by id. */
static void test_fleet_changes(void)
{
	fleet f = fleet_parse(FLEET6);
	lbs_workload wl = workload_parse(f.arena, TEST4GB);
	shim_sched *s = test_sched("round-robin", NULL);
	const lbs_worker *shrunk[5], *reversed[6];

	CHECK_STR(choose(s, &wl, &f), "w1");
	CHECK_STR(choose(s, &wl, &f), "w3");
	/* w1 leaves: w3 moves from position 3 to 2; next is still w4, not
	 * whoever now stands at w3's old position + 1. */
	for (int i = 0; i < 5; i++)
		shrunk[i] = f.workers[i + 1];
	CHECK_STR(choose_in(s, &wl, shrunk, 5), "w4");
	CHECK_STR(choose_in(s, &wl, shrunk, 5), "w6");
	CHECK_STR(choose_in(s, &wl, shrunk, 5), "w3");
	/* Reversed order: after w3 come w2 (overloaded), w1. */
	for (int i = 0; i < 6; i++)
		reversed[i] = f.workers[5 - i];
	CHECK_STR(choose_in(s, &wl, reversed, 6), "w1");
	CHECK_STR(choose_in(s, &wl, reversed, 6), "w6");
	sched_close(s);
	fleet_free(&f);
}

/*
 * An entry after the chosen worker that is no worker (NULL): the select
 * stops once it has its worker and never reads it, and the rotation's
 * note of the worker after the chosen one (for a call that leaves the
 * chosen one out) must not read it either.
 */
static void test_no_worker_after_chosen(void)
{
	fleet f = fleet_parse(FLEET6);
	lbs_workload wl = workload_parse(f.arena, TEST4GB);
	shim_sched *s = test_sched("round-robin", NULL);
	const lbs_worker *two[2] = {f.workers[0], NULL};

	CHECK_STR(choose_in(s, &wl, two, 2), "w1");
	CHECK_STR(choose(s, &wl, &f), "w3");
	sched_close(s);
	fleet_free(&f);
}

/*
 * A host that passes only the workers free now leaves out the one just
 * chosen: the rotation goes on with the one after it, never skips it.
 * Among the workers the plain rotation takes (FLEET6's eligible ones),
 * each gets its share.
 */
static void test_chosen_left_out(void)
{
	fleet f = fleet_parse(FLEET6);
	lbs_workload wl = workload_parse(f.arena, TEST4GB);
	shim_sched *s = test_sched("round-robin", NULL);
	const lbs_worker *elig[6], *rest[6];
	int got[6] = {0}, taken[6] = {0}, ne = 0;
	const char *last = NULL;

	for (int k = 0; k < 12; k++) {
		last = choose(s, &wl, &f);
		for (int i = 0; i < 6; i++)
			taken[i] |= !strcmp(f.workers[i]->id, last);
	}
	for (int i = 0; i < 6; i++)
		if (taken[i])
			elig[ne++] = f.workers[i];
	CHECK(ne >= 3);
	for (int k = 0; k < 600; k++) {
		int m = 0;

		for (int i = 0; i < ne; i++)
			if (strcmp(elig[i]->id, last))
				rest[m++] = elig[i];
		last = choose_in(s, &wl, rest, (uint32_t)m);
		for (int i = 0; i < ne; i++)
			got[i] += !strcmp(elig[i]->id, last);
	}
	for (int i = 0; i < ne; i++)
		CHECK(got[i] * ne >= 600 * 8 / 10 && got[i] * ne <= 600 * 12 / 10);
	sched_close(s);
	fleet_free(&f);
}

static lbs_status open_with(const char *config, char *err, size_t errlen)
{
	shim_sched *s = NULL;
	lbs_status st = sched_open(test_host(), getenv("LBS_PLUGIN"), "round-robin",
	                           config, strlen(config), &s, err, errlen);

	sched_close(s);
	return st;
}

static void test_config(void)
{
	fleet f = fleet_parse(FLEET6);
	lbs_workload wl = workload_parse(f.arena, TEST4GB);
	char err[512];
	shim_sched *s;

	CHECK_INT(open_with("{\"load_ceiling\": -1}", err, sizeof(err)), LBS_ECONFIG);
	CHECK_CONTAINS(err, "config field 'load_ceiling': must be a number in 0..1, got -1");
	CHECK_INT(open_with("{\"load_ceiling\": 90}", err, sizeof(err)), LBS_ECONFIG);
	CHECK_CONTAINS(err, "got 90");
	CHECK_INT(open_with("{\"load_ceiling\": \"high\"}", err, sizeof(err)), LBS_ECONFIG);
	CHECK_CONTAINS(err, "'load_ceiling'");
	CHECK_CONTAINS(err, "got a string");
	CHECK_INT(open_with("{\"nope\": 1}", err, sizeof(err)), LBS_ECONFIG);
	CHECK_CONTAINS(err, "config field 'nope': unknown field (known: load_ceiling)");
	CHECK_INT(open_with("{\"Load_Ceiling\": 0.5}", err, sizeof(err)), LBS_ECONFIG);
	CHECK_CONTAINS(err, "'Load_Ceiling': unknown field");
	CHECK_INT(open_with("{\"load_ceiling\": 0.5, \"load_ceiling\": 0.6}", err, sizeof(err)),
	          LBS_ECONFIG);
	CHECK_CONTAINS(err, "more than once");
	CHECK_INT(open_with("{\"load_ceiling\": ", err, sizeof(err)), LBS_ECONFIG);
	CHECK_CONTAINS(err, "not valid JSON");
	CHECK_INT(open_with("[0.5]", err, sizeof(err)), LBS_ECONFIG);
	CHECK_CONTAINS(err, "must be a JSON object");
	CHECK_INT(open_with("  \n", err, sizeof(err)), LBS_OK);
	CHECK_INT(open_with("{}", err, sizeof(err)), LBS_OK);

	/* The ceiling applies: at 1 (no ceiling) the 95% worker w2 is in the
	 * rotation; at 0.94 it is still over. */
	s = test_sched("round-robin", "{\"load_ceiling\": 1}");
	CHECK_STR(choose(s, &wl, &f), "w1");
	CHECK_STR(choose(s, &wl, &f), "w2");
	sched_close(s);
	s = test_sched("round-robin", "{\"load_ceiling\": 0.94}");
	CHECK_STR(choose(s, &wl, &f), "w1");
	CHECK_STR(choose(s, &wl, &f), "w3");
	sched_close(s);
	fleet_free(&f);
}

static char json[16384];
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

static cJSON *explain(shim_sched *s, const lbs_workload *wl, const fleet *f)
{
	json_len = 0;
	json[0] = '\0';
	CHECK_INT(sched_explain(s, wl, (const lbs_worker *const *)f->workers, f->n,
	                        collect, NULL), LBS_OK);
	return cJSON_Parse(json);
}

/* The reason string an explain() gave for worker `id`, or NULL. */
static const char *rejected_reason(const cJSON *doc, const char *id)
{
	const cJSON *r;

	cJSON_ArrayForEach(r, cJSON_GetObjectItem(doc, "rejected")) {
		const cJSON *w = cJSON_GetObjectItem(r, "worker");

		if (cJSON_IsString(w) && strcmp(w->valuestring, id) == 0)
			return cJSON_GetStringValue(cJSON_GetObjectItem(r, "reason"));
	}
	return NULL;
}

static void test_explain_stats(void)
{
	fleet f = fleet_parse(FLEET6);
	lbs_workload wl = workload_parse(f.arena, TEST4GB);
	shim_sched *s = test_sched("round-robin", NULL);
	const cJSON *chosen, *cands;
	cJSON *doc;

	CHECK_STR(choose(s, &wl, &f), "w1");
	doc = explain(s, &wl, &f);
	CHECK(doc != NULL);
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(doc, "scheduler")), "round-robin");
	chosen = cJSON_GetObjectItem(doc, "chosen");
	CHECK_INT(cJSON_GetArraySize(chosen), 1);
	CHECK_STR(cJSON_GetStringValue(cJSON_GetArrayItem(chosen, 0)), "w3");
	cands = cJSON_GetObjectItem(doc, "candidates");
	CHECK_INT(cJSON_GetArraySize(cands), 4);
	/* Candidates in rotation order from the cursor, the next scoring 1. */
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(cands, 0), "worker")), "w3");
	CHECK_NEAR(cJSON_GetNumberValue(cJSON_GetObjectItem(cJSON_GetArrayItem(cands, 0), "score")), 1.0, 1e-9);
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(cands, 3), "worker")), "w1");
	CHECK_STR(rejected_reason(doc, "w2"), "is over the load ceiling");
	CHECK_STR(rejected_reason(doc, "w5"), "has too little free memory");
	CHECK(rejected_reason(doc, "w1") == NULL);
	cJSON_Delete(doc);
	/* explain() changed nothing: select still takes w3, then w4. */
	doc = explain(s, &wl, &f);
	cJSON_Delete(doc);
	CHECK_STR(choose(s, &wl, &f), "w3");
	CHECK_STR(choose(s, &wl, &f), "w4");

	json_len = 0;
	CHECK_INT(sched_stats(s, collect, NULL), LBS_OK);
	CHECK_CONTAINS(json, "\"scheduler\":\"round-robin\"");
	CHECK_CONTAINS(json, "\"selects\":3");
	CHECK_CONTAINS(json, "\"no_worker\":0");
	CHECK_CONTAINS(json, "\"reports\":0");
	/* Round-robin learns nothing: no report slot. */
	CHECK(sched_desc(s)->report == NULL);
	CHECK(sched_desc(s)->caps & LBS_CAP_MULTI);
	CHECK(!(sched_desc(s)->caps & LBS_CAP_LEARNS));
	sched_close(s);
	fleet_free(&f);
}

/* score() through the descriptor, with an instance of our own. */
static void test_score(void)
{
	fleet f = fleet_parse(FLEET6);
	lbs_workload wl = workload_parse(f.arena, TEST4GB);
	shim_sched *s = test_sched("round-robin", NULL);
	const lbs_scheduler_desc *d = sched_desc(s);
	const lbs_host_api *api;
	loaded_plugin *p;
	double sc[6];
	void *inst = NULL;
	char err[256];
	uint32_t idx[1];
	const char *ids[1];
	lbs_selection sel = { .struct_size = sizeof(sel), .capacity = 1,
	                      .indices = idx, .ids = ids };

	CHECK_INT(host_load(test_host(), getenv("LBS_PLUGIN"), &p, &api, err, sizeof(err)), LBS_OK);
	CHECK_INT(d->create(api, NULL, 0, &inst, err, sizeof(err)), LBS_OK);
	CHECK(d->score != NULL);
	CHECK_INT(d->score(inst, &wl, (const lbs_worker *const *)f.workers, f.n, sc), LBS_OK);
	/* Eligible w1 w3 w4 w6 score 1, 3/4, 1/2, 1/4 from the cursor. */
	CHECK_NEAR(sc[0], 1.0, 1e-12);
	CHECK(sc[1] < 0);
	CHECK_NEAR(sc[2], 0.75, 1e-12);
	CHECK_NEAR(sc[3], 0.5, 1e-12);
	CHECK(sc[4] < 0);
	CHECK_NEAR(sc[5], 0.25, 1e-12);
	CHECK_INT(d->select(inst, &wl, (const lbs_worker *const *)f.workers, f.n, &sel), LBS_OK);
	CHECK_INT(idx[0], 0);
	CHECK_INT(d->score(inst, &wl, (const lbs_worker *const *)f.workers, f.n, sc), LBS_OK);
	CHECK_NEAR(sc[2], 1.0, 1e-12);
	CHECK_NEAR(sc[0], 0.25, 1e-12);
	/* A caller's array too small for the shards the workload needs is
	 * no answer, and the reason says why. */
	{
		lbs_workload sharded = workload_parse(f.arena,
			"{\"test_id\": \"s\", \"minimum_memory\": 4, \"custom_properties\":"
			" {\"allocation_strategy\": \"replicated\", \"min_shards\": 2, \"max_shards\": 2}}");
		char why[256] = "";

		sel.reason = why;
		sel.reason_len = sizeof(why);
		CHECK_INT(d->select(inst, &sharded, (const lbs_worker *const *)f.workers, f.n, &sel),
		          LBS_NO_WORKER);
		CHECK_INT(sel.n_selected, 0);
		CHECK_CONTAINS(why, "room for 1 workers, the workload needs at least 2");
		sel.reason = NULL;
		sel.reason_len = 0;
	}
	/* Bad arguments are refused, not crashed on. */
	wl.struct_size = 8;
	CHECK_INT(d->select(inst, &wl, (const lbs_worker *const *)f.workers, f.n, &sel), LBS_EINVAL);
	CHECK_INT(sel.n_selected, 0);
	d->destroy(inst);
	sched_close(s);
	fleet_free(&f);
}

int main(void)
{
	test_rotation();
	test_alternating_subsets();
	test_alternating_named();
	test_exclusions();
	test_none();
	test_shards();
	test_fleet_changes();
	test_chosen_left_out();
	test_no_worker_after_chosen();
	test_config();
	test_explain_stats();
	test_score();
	return check_done("test_roundrobin");
}
