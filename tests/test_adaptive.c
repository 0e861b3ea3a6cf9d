/*
 * test_adaptive.c -- the "adaptive" scheduler through the real plugin:
 * with nothing measured it follows the original's load rule (low load
 * affinity, mid priority, high weighted round-robin or, for urgent work,
 * performance); once the outcomes of a child's decisions are worse than
 * another's in a context, the other decides there; exploration is a seeded,
 * reproducible share; reports reach the children; explain and the reason
 * say which child decided and why; config errors name the field.
 */
#include "choose.h"

static const char *FLEET =
	"[{\"worker_id\": \"w1\", \"cpu_cores\": 8, \"available_memory\": 16},"
	" {\"worker_id\": \"w2\", \"cpu_cores\": 8, \"available_memory\": 16},"
	" {\"worker_id\": \"w3\", \"cpu_cores\": 8, \"available_memory\": 16}]";

static const char *NO_EXPLORE = "{\"epsilon\": 0}";

static void set_all(fleet *f, double x)
{
	for (uint32_t i = 0; i < f->n; i++) {
		lbs_worker *w = f->workers[i];

		w->util_cpu = w->util_memory = w->util_gpu = w->util_io = w->util_network = x;
	}
}

static void test_load_rule(void)
{
	fleet f = fleet_parse(FLEET);
	lbs_workload normal = workload_parse(f.arena,
		"{\"test_id\": \"t\", \"model_id\": \"bert-base\", \"priority\": 3}");
	lbs_workload urgent = workload_parse(f.arena,
		"{\"test_id\": \"u\", \"model_id\": \"bert-base\", \"priority\": 1}");
	shim_sched *s = test_sched("adaptive", NO_EXPLORE);

	set_all(&f, 0.1);
	CHECK(strcmp(choose(s, &normal, &f), "none") != 0);
	CHECK_CONTAINS(reason, "adaptive: affinity decided (the load rule's choice for low load, "
	                       "normal (fleet load 0.10), none measured better: value 0.60 from 0 "
	                       "outcomes): affinity: model 'bert-base'");
	set_all(&f, 0.5);
	choose(s, &normal, &f);
	CHECK_CONTAINS(reason, "adaptive: priority decided (the load rule's choice for mid load");
	CHECK_CONTAINS(reason, "): priority 3 (balanced)");
	set_all(&f, 0.85);
	choose(s, &normal, &f);
	CHECK_CONTAINS(reason, "adaptive: weighted-round-robin decided (the load rule's choice "
	                       "for high load, normal");
	choose(s, &urgent, &f);
	CHECK_CONTAINS(reason, "adaptive: performance decided (the load rule's choice for high "
	                       "load, urgent");
	sched_close(s);
	fleet_free(&f);
}

/* Affinity's decisions fail at low load: after three, its value 6/13 is
 * under the 0.5 of the unmeasured children and performance (first in the
 * list) decides; its successes then keep it there. */
static void test_measured(void)
{
	fleet f = fleet_parse(FLEET);
	lbs_workload wl = workload_parse(f.arena,
		"{\"test_id\": \"t\", \"model_id\": \"bert-base\", \"priority\": 3,"
		" \"expected_duration\": 10}");
	shim_sched *s = test_sched("adaptive", NO_EXPLORE);
	const cJSON *kids, *k;
	cJSON *doc;
	const char *w;

	set_all(&f, 0.1);
	for (int i = 0; i < 3; i++) {
		w = choose(s, &wl, &f);
		CHECK_CONTAINS(reason, "adaptive: affinity decided");
		CHECK_INT(report_to(s, wl.type, w, last_cookie, LBS_RESULT_FAILURE, 1, 10), LBS_OK);
	}
	CHECK_STR(choose(s, &wl, &f), "w2");
	CHECK_CONTAINS(reason, "adaptive: performance decided (best measured in low load, normal "
	                       "(fleet load 0.10): value 0.50 from 0 outcomes, the load rule's "
	                       "affinity 0.46)");
	/* The test run on w1 instead (a host's retry elsewhere): not this
	 * decision's outcome, not rewarded. */
	CHECK_INT(report_to(s, wl.type, "w1", last_cookie, LBS_RESULT_FAILURE, 10, 10), LBS_OK);
	CHECK_INT(report_to(s, wl.type, "w2", last_cookie, LBS_RESULT_SUCCESS, 10, 10), LBS_OK);
	/* The same decision reported again (a sharded placement's second
	 * worker, a host delivering twice): rewarded once, below "from 1
	 * outcomes"; the children still hear it. */
	CHECK_INT(report_to(s, wl.type, "w2", last_cookie, LBS_RESULT_SUCCESS, 10, 10), LBS_OK);
	/* A cancelled run is nobody's fault: it counts nowhere. */
	w = choose(s, &wl, &f);
	CHECK_INT(report_to(s, wl.type, w, last_cookie, LBS_RESULT_CANCELLED, 1, 10), LBS_OK);
	/* A report whose cookie is not one of ours still reaches the children. */
	CHECK_INT(report_to(s, wl.type, "w2", 999999, LBS_RESULT_SUCCESS, 10, 10), LBS_OK);

	doc = explain_doc(s, &wl, &f);
	CHECK_STR(doc_str(doc, "scheduler"), "adaptive");
	CHECK_STR(doc_str(doc, "child"), "performance");
	CHECK_STR(doc_str(doc, "why"), "measured");
	CHECK_STR(doc_str(doc, "context"), "low load, normal");
	CHECK_NEAR(doc_num(doc, "fleet_load"), 0.1, 1e-9);
	CHECK_CONTAINS(doc_str(doc, "reason"), "adaptive: performance decided (best measured");
	CHECK_CONTAINS(doc_str(doc, "reason"), "value 0.55 from 1 outcomes");
	/* The child's own candidates, with its factors. */
	CHECK(doc_num(candidate(doc, "w1"), "samples") > 0);
	kids = cJSON_GetObjectItem(doc, "children");
	CHECK_INT(cJSON_GetArraySize(kids), 4);
	k = cJSON_GetArrayItem(kids, 2);
	CHECK_STR(doc_str(k, "scheduler"), "affinity");
	CHECK(cJSON_IsTrue(cJSON_GetObjectItem(k, "rule")));
	CHECK_NEAR(doc_num(k, "outcomes"), 3, 0);
	/* three failures, the older ones faded by the memory (1000) */
	CHECK_NEAR(doc_num(k, "value"), 6.0 / (1.0 + 0.999 + 0.999 * 0.999 + 10.0), 1e-9);
	k = cJSON_GetArrayItem(kids, 0);
	CHECK_NEAR(doc_num(k, "decisions"), 2, 0);
	CHECK_NEAR(doc_num(k, "outcomes"), 1, 0);
	CHECK_NEAR(doc_num(k, "value"), 6.0 / 11.0, 1e-9);
	cJSON_Delete(doc);

	json_len = 0;
	CHECK_INT(sched_stats(s, collect, NULL), LBS_OK);
	CHECK_CONTAINS(json, "\"scheduler\":\"adaptive\"");
	/* the run on w1, and the cookie not ours */
	CHECK_CONTAINS(json, "\"unmatched_reports\":2");
	CHECK_CONTAINS(json, "{\"scheduler\":\"affinity\",\"decisions\":3,\"outcomes\":3,"
	                     "\"mean_reward\":0.0000}");
	CHECK_CONTAINS(json, "{\"scheduler\":\"performance\",\"decisions\":2,\"outcomes\":1,"
	                     "\"mean_reward\":1.0000}");
	CHECK_CONTAINS(json, "\"reports\":8");
	sched_close(s);
	fleet_free(&f);
}

/* The wait of worker id in explain doc, in runs of the work there. */
static double wait_runs(const cJSON *doc, const char *id)
{
	return doc_num(candidate(doc, id), "wait_s") / doc_num(candidate(doc, id), "run_s");
}

/* A sharded placement's every worker reports its outcome: each reaches the
 * deciding child with the child's own cookie, so hardware-aware's ledger
 * closes that worker's open work; none is unmatched, and the decision is
 * rewarded once, by its first worker's.  Every worker has 8 tests ahead,
 * sized by the ledger where it has open work: the placed workers wait
 * longer than the third until their outcomes come. */
static void test_sharded_outcomes(void)
{
	fleet f = fleet_parse(FLEET);
	lbs_workload wl = workload_parse(f.arena,
		"{\"test_id\": \"s\", \"model_id\": \"m\", \"priority\": 3,"
		" \"expected_duration\": 100, \"custom_properties\": {\"is_shardable\": true,"
		" \"allocation_strategy\": \"sharded\", \"min_shards\": 2}}");
	/* Half as long: open work of 100 s ahead is two of its runs, and a
	 * test ahead of unknown size one. */
	lbs_workload half = workload_parse(f.arena,
		"{\"test_id\": \"h\", \"model_id\": \"m\", \"priority\": 3,"
		" \"expected_duration\": 50}");
	shim_sched *s = test_sched("adaptive",
		"{\"epsilon\": 0, \"children\": [\"hardware-aware\"]}");
	char picked[64], *second;
	const char *third = "w3";
	uint64_t cookie;
	cJSON *doc;

	set_all(&f, 0.1);
	for (uint32_t i = 0; i < f.n; i++)
		f.workers[i]->active_tests = 8;
	snprintf(picked, sizeof(picked), "%s", choose(s, &wl, &f));
	cookie = last_cookie;
	second = strchr(picked, ',');
	CHECK(second != NULL);
	if (!second)
		goto out;
	*second++ = '\0';
	for (uint32_t i = 0; i < f.n; i++)
		if (strcmp(f.workers[i]->id, picked) && strcmp(f.workers[i]->id, second))
			third = f.workers[i]->id;
	doc = explain_doc(s, &half, &f);
	CHECK(wait_runs(doc, second) > wait_runs(doc, third) * 1.1);
	CHECK(wait_runs(doc, picked) > wait_runs(doc, third) * 1.1);
	cJSON_Delete(doc);
	CHECK_INT(report_to(s, wl.type, second, cookie, LBS_RESULT_SUCCESS, 50, 100), LBS_OK);
	CHECK_INT(report_to(s, wl.type, picked, cookie, LBS_RESULT_SUCCESS, 50, 100), LBS_OK);
	doc = explain_doc(s, &half, &f);
	CHECK_NEAR(wait_runs(doc, second), wait_runs(doc, third), 1e-6);
	CHECK_NEAR(wait_runs(doc, picked), wait_runs(doc, third), 1e-6);
	cJSON_Delete(doc);
	json_len = 0;
	CHECK_INT(sched_stats(s, collect, NULL), LBS_OK);
	CHECK_CONTAINS(json, "\"unmatched_reports\":0");
	CHECK_CONTAINS(json, "{\"scheduler\":\"hardware-aware\",\"decisions\":1,"
	                     "\"outcomes\":1,\"mean_reward\":");
out:
	sched_close(s);
	fleet_free(&f);
}

/* Exploration: a seeded share of requests goes to another child; two
 * instances with the same seed explore on the same requests. */
static void test_explore(void)
{
	fleet f = fleet_parse(FLEET);
	lbs_workload wl = workload_parse(f.arena, "{\"test_id\": \"t\", \"priority\": 3}");
	shim_sched *a = test_sched("adaptive", "{\"epsilon\": 0.3, \"seed\": 7}");
	shim_sched *b = test_sched("adaptive", "{\"epsilon\": 0.3, \"seed\": 7}");
	shim_sched *all = test_sched("adaptive", "{\"epsilon\": 1}");
	char first[512];
	int explored = 0;

	set_all(&f, 0.5);
	for (int i = 0; i < 40; i++) {
		choose(a, &wl, &f);
		snprintf(first, sizeof(first), "%s", reason);
		choose(b, &wl, &f);
		CHECK_STR(reason, first);
		explored += strstr(first, "exploring: draw") != NULL;
	}
	CHECK(explored > 4 && explored < 24);
	for (int i = 0; i < 10; i++) {
		choose(all, &wl, &f);
		CHECK_CONTAINS(reason, "exploring: draw");
		CHECK(strstr(reason, "adaptive: priority decided") == NULL);
	}
	sched_close(a);
	sched_close(b);
	sched_close(all);
	fleet_free(&f);
}

/*
 * A child that finds no worker does not refuse the request while another
 * places it: every worker is over the load ceiling, which bars the load
 * rule's weighted-round-robin at high load, while priority places timed
 * work on busy workers by their completion.  select, score and explain
 * agree on the child that decides.
 */
static void test_fallback(void)
{
	fleet f = fleet_parse(FLEET);
	lbs_workload wl = workload_parse(f.arena,
		"{\"test_id\": \"t\", \"priority\": 3, \"expected_duration\": 60}");
	shim_sched *s = test_sched("adaptive", NO_EXPLORE);
	double scores[3];
	cJSON *doc;

	set_all(&f, 0.95);
	CHECK(strcmp(choose(s, &wl, &f), "none") != 0);
	CHECK_CONTAINS(reason, "adaptive: priority decided, as weighted-round-robin found no "
	                       "worker (the load rule's choice for high load, normal");
	CHECK_CONTAINS(reason, "): priority 3");
	CHECK_INT(sched_score(s, &wl, (const lbs_worker *const *)f.workers, f.n, scores), LBS_OK);
	CHECK(scores[0] >= 0.0 || scores[1] >= 0.0 || scores[2] >= 0.0);
	doc = explain_doc(s, &wl, &f);
	CHECK_STR(doc_str(doc, "child"), "priority");
	CHECK_CONTAINS(doc_str(doc, "reason"), "adaptive: priority decided, as "
	                                       "weighted-round-robin found no worker");
	CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(doc, "chosen")), 1);
	cJSON_Delete(doc);
	/* one no child places: the rule's sentence, and the last child's */
	wl = workload_parse(f.arena, "{\"test_id\": \"m\", \"minimum_memory\": 999}");
	CHECK_STR(choose(s, &wl, &f), "none");
	CHECK_CONTAINS(reason, "adaptive: none of its 4 children found a worker "
	                       "(weighted-round-robin chosen: the load rule's choice");
	sched_close(s);
	fleet_free(&f);
}

/* At high load the rule's weighted-round-robin weighs workers by 1 - load,
 * as the original did: the least loaded takes the most (weights 0.12,
 * 0.12, 0.30 share 30 picks 7, 7, 16 or so; by capacity, equal here, it
 * was 10 each), unless the child's config names its weights. */
static void test_high_load_weights(void)
{
	fleet f = fleet_parse(FLEET);
	lbs_workload wl = workload_parse(f.arena, "{\"test_id\": \"t\", \"priority\": 3}");
	shim_sched *s = test_sched("adaptive", NO_EXPLORE);
	shim_sched *cap = test_sched("adaptive", "{\"epsilon\": 0, \"config\": "
	                                         "{\"weighted-round-robin\": {\"weights_from\": "
	                                         "\"capabilities\"}}}");
	int cool = 0, cool_cap = 0;

	set_all(&f, 0.88);
	f.workers[2]->util_cpu = f.workers[2]->util_memory = f.workers[2]->util_gpu =
		f.workers[2]->util_io = f.workers[2]->util_network = 0.70;
	for (int i = 0; i < 30; i++) {
		cool += strcmp(choose(s, &wl, &f), "w3") == 0;
		cool_cap += strcmp(choose(cap, &wl, &f), "w3") == 0;
	}
	CHECK_CONTAINS(reason, "adaptive: weighted-round-robin decided (the load rule's choice "
	                       "for high load, normal");
	CHECK(cool >= 15 && cool <= 18);
	CHECK_INT(cool_cap, 10);
	sched_close(s);
	sched_close(cap);
	fleet_free(&f);
}

static void test_children_and_errors(void)
{
	fleet f = fleet_parse(FLEET);
	lbs_workload wl = workload_parse(f.arena, "{\"test_id\": \"t\", \"priority\": 3}");
	shim_sched *s = test_sched("adaptive",
		"{\"epsilon\": 0, \"children\": [\"hardware-aware\", \"round-robin\"]}");
	char err[512];

	/* Without the rule's child in the list, the first child is the prior. */
	set_all(&f, 0.5);
	choose(s, &wl, &f);
	CHECK_CONTAINS(reason, "adaptive: hardware-aware decided");
	sched_close(s);

	CHECK_INT(open_err("adaptive", "{\"children\": [\"adaptive\"]}", err, sizeof(err)),
	          LBS_ECONFIG);
	CHECK_CONTAINS(err, "config field 'children[0]': not a scheduler adaptive can use, got "
	                    "\"adaptive\"");
	CHECK_INT(open_err("adaptive", "{\"children\": [\"affinity\", \"affinity\"]}", err,
	                   sizeof(err)), LBS_ECONFIG);
	CHECK_CONTAINS(err, "config field 'children[1]': listed twice");
	/* a child that is not a name says what it is (it said "?") */
	CHECK_INT(open_err("adaptive", "{\"children\": [1]}", err, sizeof(err)), LBS_ECONFIG);
	CHECK_CONTAINS(err, "config field 'children[0]': must be a scheduler name, got 1 (known:");
	CHECK_INT(open_err("adaptive", "{\"config\": {\"performance\": {\"load_weight\": 3}}}",
	                   err, sizeof(err)), LBS_ECONFIG);
	CHECK_CONTAINS(err, "config field 'config.performance.load_weight': must be a number in "
	                    "0..1, got 3");
	CHECK_INT(open_err("adaptive", "{\"config\": {\"round-robin\": {}}}", err, sizeof(err)),
	          LBS_ECONFIG);
	CHECK_CONTAINS(err, "config field 'config.round-robin': not one of the children");
	CHECK_INT(open_err("adaptive", "{\"epsilon\": 2}", err, sizeof(err)), LBS_ECONFIG);
	CHECK_CONTAINS(err, "config field 'epsilon': must be a number in 0..1, got 2");
	CHECK_INT(open_err("adaptive", "{\"memory\": 0.5}", err, sizeof(err)), LBS_ECONFIG);
	CHECK_CONTAINS(err, "config field 'memory': must be a number in 1..1000000000, got 0.5");
	/* priority given the store performance learns into: every outcome
	 * twice in one store (refused before any store is opened) */
	CHECK_INT(open_err("adaptive", "{\"store\": {\"path\": \"/nonexistent/s\"}, \"config\": "
	                   "{\"priority\": {\"store\": {\"path\": \"/nonexistent/s\"}}}}",
	                   err, sizeof(err)), LBS_ECONFIG);
	CHECK_CONTAINS(err, "config field 'config.priority.store': priority learns into the same "
	                    "store '/nonexistent/s' as performance (config field 'store'), so each "
	                    "outcome would count twice; give one of them another path");
	/* the same directory spelled otherwise */
	CHECK_INT(open_err("adaptive", "{\"store\": {\"path\": \"/nonexistent/s/\"}, \"config\": "
	                   "{\"priority\": {\"store\": {\"path\": \"/nonexistent/./s\"}}}}",
	                   err, sizeof(err)), LBS_ECONFIG);
	CHECK_CONTAINS(err, "config field 'config.priority.store': priority learns into the same "
	                    "store as performance (config field 'store'): '/nonexistent/./s' and "
	                    "'/nonexistent/s/' are one directory, so each outcome would count "
	                    "twice");
	/* without performance the store goes to the first learner listed,
	 * hardware-aware here, unless another learns into it by its own
	 * config: then nobody else is given it */
	CHECK_INT(open_err("adaptive", "{\"store\": {\"path\": \"/nonexistent/s\"}, \"children\": "
	                   "[\"hardware-aware\", \"priority\"], \"config\": {\"priority\": "
	                   "{\"store\": {\"path\": \"/nonexistent/./s\"}}}}", err, sizeof(err)),
	          LBS_EIO);
	CHECK(!strstr(err, "learns into the same store"));
	/* a store no child keeps is refused, not dropped */
	CHECK_INT(open_err("adaptive", "{\"store\": {\"path\": \"/nonexistent/s\"}, \"children\": "
	                   "[\"round-robin\", \"weighted-round-robin\"]}", err, sizeof(err)),
	          LBS_ECONFIG);
	CHECK_CONTAINS(err, "config field 'store': no child keeps it");
	/* ... and its fields are checked whoever takes it */
	CHECK_INT(open_err("adaptive", "{\"store\": {\"path\": \"/nonexistent/s\", \"bogus\": 1}, "
	                   "\"children\": [\"priority\", \"hardware-aware\"]}", err, sizeof(err)),
	          LBS_ECONFIG);
	CHECK_CONTAINS(err, "config field 'store.bogus': unknown field (known: path, ");
	CHECK_INT(open_err("adaptive", "{\"store\": {\"alpha\": 0.5}, \"children\": "
	                   "[\"round-robin\"]}", err, sizeof(err)), LBS_ECONFIG);
	CHECK_CONTAINS(err, "config field 'store.path': required");
	/* a child's config given twice: which one counts would be a guess */
	CHECK_INT(open_err("adaptive", "{\"config\": {\"performance\": {\"load_weight\": 0.1}, "
	                   "\"performance\": {\"load_weight\": 7}}}", err, sizeof(err)),
	          LBS_ECONFIG);
	CHECK_CONTAINS(err, "config field 'config.performance': given more than once");
	/* performance second: its path is the shared store's, named so */
	CHECK_INT(open_err("adaptive", "{\"store\": {\"path\": \"/nonexistent/s\"}, \"children\": "
	                   "[\"priority\", \"performance\"], \"config\": {\"priority\": "
	                   "{\"store\": {\"path\": \"/nonexistent/s\"}}}}", err, sizeof(err)),
	          LBS_ECONFIG);
	CHECK_CONTAINS(err, "config field 'store': performance learns into the same store "
	                    "'/nonexistent/s' as priority");
	/* performance learning into the shared store by its own config keeps
	 * it, as such configs always did: priority is not given it too */
	CHECK_INT(open_err("adaptive", "{\"store\": {\"path\": \"/nonexistent/s\"}, \"config\": "
	                   "{\"performance\": {\"store\": {\"path\": \"/nonexistent/s\"}}}}",
	                   err, sizeof(err)), LBS_EIO);
	CHECK(!strstr(err, "learns into the same store"));
	/* ... its directory, not the shared object's settings, which went
	 * unread (max_pairs 1 let it learn every pair): refused */
	CHECK_INT(open_err("adaptive", "{\"store\": {\"path\": \"/nonexistent/s\", \"max_pairs\": 1}, "
	                   "\"children\": [\"performance\", \"round-robin\"], \"config\": "
	                   "{\"performance\": {\"store\": {\"path\": \"/nonexistent/s\"}}}}",
	                   err, sizeof(err)), LBS_ECONFIG);
	CHECK_STR(err, "scheduler 'adaptive': config field 'store.max_pairs': unread: no child "
	               "that learns outcomes is given the shared store, since performance learns "
	               "into its directory by its own config.performance.store, with that "
	               "object's settings; give it there");
	/* affinity listed takes the shared object, and reads no max_pairs:
	 * the learner is named, not "no child learns" */
	CHECK_INT(open_err("adaptive", "{\"store\": {\"path\": \"/nonexistent/s\", \"max_pairs\": 1}, "
	                   "\"children\": [\"performance\", \"affinity\"], \"config\": "
	                   "{\"performance\": {\"store\": {\"path\": \"/nonexistent/s\"}}}}",
	                   err, sizeof(err)), LBS_ECONFIG);
	CHECK_CONTAINS(err, "config field 'store.max_pairs': unread: no child that learns outcomes "
	                    "is given the shared store, since performance learns into its "
	                    "directory by its own config.performance.store");
	/* affinity by its own config in that directory is no learner to
	 * give the settings to (it refuses them) */
	CHECK_INT(open_err("adaptive", "{\"store\": {\"path\": \"/nonexistent/s\", \"max_pairs\": 1}, "
	                   "\"children\": [\"affinity\", \"round-robin\"], \"config\": "
	                   "{\"affinity\": {\"store\": {\"path\": \"/nonexistent/s\"}}}}",
	                   err, sizeof(err)), LBS_ECONFIG);
	CHECK_STR(err, "scheduler 'adaptive': config field 'store.max_pairs': unread: no child "
	               "learns outcomes into the shared store (affinity keeps only its keys in it)");
	/* its path alone: affinity keeps its keys there, performance learns */
	CHECK_INT(open_err("adaptive", "{\"store\": {\"path\": \"/nonexistent/s\"}, "
	                   "\"children\": [\"performance\", \"affinity\"], \"config\": "
	                   "{\"performance\": {\"store\": {\"path\": \"/nonexistent/s\"}}}}",
	                   err, sizeof(err)), LBS_EIO);
	CHECK(!strstr(err, "unread"));
	/* affinity alone takes it, and reads no field of learning */
	CHECK_INT(open_err("adaptive", "{\"store\": {\"path\": \"/nonexistent/s\", \"alpha\": 0.5}, "
	                   "\"children\": [\"affinity\", \"round-robin\"]}", err, sizeof(err)),
	          LBS_ECONFIG);
	CHECK_STR(err, "scheduler 'adaptive': config field 'store.alpha': unread: no child learns "
	               "outcomes into the shared store (affinity keeps only its keys in it)");
	/* beside a learner, affinity is given the store without them (it
	 * would refuse them), the learner with them: the store opens */
	{
		char dir[] = "/tmp/lbs-ad-XXXXXX", cfg[256], cmd[300];

		CHECK(mkdtemp(dir) != NULL);
		snprintf(cfg, sizeof(cfg), "{\"store\": {\"path\": \"%s/s\", \"alpha\": 0.5, "
		         "\"max_pairs\": 10}}", dir);
		CHECK_INT(open_err("adaptive", cfg, err, sizeof(err)), LBS_OK);
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		CHECK_INT(system(cmd), 0);
	}
	fleet_free(&f);
}

/* A composite can blend it (its score is the deciding child's). */
static void test_composite_child(void)
{
	fleet f = fleet_parse(FLEET);
	lbs_workload wl = workload_parse(f.arena, "{\"test_id\": \"t\", \"model_id\": \"m\"}");
	shim_sched *s = test_sched("composite",
		"{\"children\": [{\"scheduler\": \"adaptive\", \"weight\": 1,"
		"  \"config\": {\"epsilon\": 0}}]}");

	const char *w;

	set_all(&f, 0.1);
	f.workers[1]->util_cpu = 0.0; /* w2 least loaded: affinity's pick */
	CHECK_STR(choose(s, &wl, &f), "w2");
	/* High load: weighted-round-robin's turn.  The composite asks
	 * adaptive to select as well (advance, its default for adaptive), so
	 * the rotation moves on; scored alone it answered w1 every time. */
	set_all(&f, 0.85);
	CHECK_STR(choose(s, &wl, &f), "w1");
	CHECK_STR(choose(s, &wl, &f), "w2");
	w = choose(s, &wl, &f);
	CHECK_STR(w, "w3");
	/* The outcome reaches adaptive with its own cookie: it learns. */
	CHECK_INT(report_to(s, wl.type, w, last_cookie, LBS_RESULT_SUCCESS, 1, 1), LBS_OK);
	/* One of a worker adaptive did not pick has no decision of its. */
	choose(s, &wl, &f);
	CHECK_INT(report_to(s, wl.type, "w3", last_cookie, LBS_RESULT_SUCCESS, 1, 1), LBS_OK);
	json_len = 0;
	CHECK_INT(sched_stats(s, collect, NULL), LBS_OK);
	CHECK_CONTAINS(json, "\"unmatched_reports\":1");
	CHECK_CONTAINS(json, "{\"scheduler\":\"weighted-round-robin\",\"decisions\":4,"
	                     "\"outcomes\":1,\"mean_reward\":1.0000}");
	sched_close(s);
	fleet_free(&f);
}

/*
 * An outcome a child refuses as bad (an infinite duration) teaches adaptive
 * nothing: it was rewarded in full first, and the decision marked, so the
 * valid report that followed was not learned.
 */
static void test_refused_outcome(void)
{
	fleet f = fleet_parse(FLEET);
	lbs_workload wl = workload_parse(f.arena,
		"{\"test_id\": \"t\", \"model_id\": \"bert-base\", \"priority\": 3,"
		" \"expected_duration\": 10}");
	shim_sched *s = test_sched("adaptive", NO_EXPLORE);
	char w[64];

	set_all(&f, 0.1);
	snprintf(w, sizeof w, "%s", choose(s, &wl, &f));
	CHECK_CONTAINS(reason, "adaptive: affinity decided");
	CHECK_INT(report_to(s, wl.type, w, last_cookie, LBS_RESULT_SUCCESS, INFINITY, 10),
	          LBS_EINVAL);
	json_len = 0;
	CHECK_INT(sched_stats(s, collect, NULL), LBS_OK);
	CHECK_CONTAINS(json, "{\"scheduler\":\"affinity\",\"decisions\":1,\"outcomes\":0,");
	CHECK_INT(report_to(s, wl.type, w, last_cookie, LBS_RESULT_SUCCESS, 20, 10), LBS_OK);
	json_len = 0;
	CHECK_INT(sched_stats(s, collect, NULL), LBS_OK);
	CHECK_CONTAINS(json, "{\"scheduler\":\"affinity\",\"decisions\":1,\"outcomes\":1,"
	                     "\"mean_reward\":0.5000}");
	sched_close(s);
	fleet_free(&f);
}

/* A child that did well for long and then badly hands over within about
 * its memory's outcomes; on a lifetime mean 30 good ones held it for 33
 * bad ones more. */
static int rule_child_after(const char *config, int good, int bad)
{
	fleet f = fleet_parse(FLEET);
	lbs_workload wl = workload_parse(f.arena,
		"{\"test_id\": \"t\", \"model_id\": \"bert-base\", \"priority\": 3,"
		" \"expected_duration\": 10}");
	shim_sched *s = test_sched("adaptive", config);
	int still;

	set_all(&f, 0.1);
	for (int i = 0; i < good + bad; i++) {
		const char *w = choose(s, &wl, &f);

		CHECK_CONTAINS(reason, "adaptive: affinity decided");
		CHECK_INT(report_to(s, wl.type, w, last_cookie,
		                    i < good ? LBS_RESULT_SUCCESS : LBS_RESULT_FAILURE, 10, 10), LBS_OK);
	}
	choose(s, &wl, &f);
	still = strstr(reason, "adaptive: affinity decided") != NULL;
	sched_close(s);
	fleet_free(&f);
	return still;
}

static void test_memory(void)
{
	/* memory 10: after 30 successes, value (10 x 0.9^n + 6) / 20 < 0.5
	 * from the ninth failure */
	CHECK_INT(rule_child_after("{\"epsilon\": 0, \"memory\": 10}", 30, 8), 1);
	CHECK_INT(rule_child_after("{\"epsilon\": 0, \"memory\": 10}", 30, 9), 0);
	/* the default, 1000, is near the lifetime mean: 12 failures are not enough */
	CHECK_INT(rule_child_after(NO_EXPLORE, 30, 12), 1);
}

int main(void)
{
	test_load_rule();
	test_sharded_outcomes();
	test_measured();
	test_memory();
	test_explore();
	test_fallback();
	test_high_load_weights();
	test_children_and_errors();
	test_composite_child();
	test_refused_outcome();
	return check_done("test_adaptive");
}
