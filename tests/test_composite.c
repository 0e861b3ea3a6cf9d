/*
 * test_composite.c -- the "composite" scheduler through the real plugin:
 * weights (1, 0, 0) answer exactly as the first child alone, 0.7/0.2/0.1
 * reproduces a blend computed here from the children's own score slots, a
 * third party's scheduler without a score slot votes (and a vote is not a
 * veto unless the config says so), nothing eligible gives "none" (bug F5), vote mode is the original's weighted voting,
 * routing by test type (in the plugin and in the host), nesting, report
 * fan-out, and one-line errors for bad configs.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "check.h"
#include "composite.h"
#include "eligible.h"
#include "loader.h"
#include "routing.h"
#include "support.h"
#include "text.h"

/*
 * Four workers on which the three schedulers disagree for a vision test of
 * priority 3: hardware-aware takes the big GPU, priority (balanced, no
 * history) the idle CPU, round-robin the first worker; the 0.7/0.2/0.1
 * blend takes the small idle GPU, which none of them takes alone.
 */
static const char *disagree_fleet =
	"[{\"worker_id\": \"cpu_mid\", \"cpu_cores\": 16, \"available_memory\": 64,"
	"  \"supported_backends\": [\"cpu\", \"pytorch\"],"
	"  \"load\": {\"cpu_utilization\": 30, \"memory_utilization\": 30}},"
	" {\"worker_id\": \"gpu_busy\", \"cpu_cores\": 32, \"available_memory\": 256,"
	"  \"supported_backends\": [\"cpu\", \"cuda\", \"pytorch\"], \"has_gpu\": true,"
	"  \"available_accelerators\": {\"gpu\": 4},"
	"  \"hardware_specs\": {\"gpu_vendor\": \"nvidia\", \"gpu_memory_gb\": 80,"
	"    \"gpu_compute_units\": 108, \"gpu_clock_mhz\": 1410, \"gpu_tensor_cores\": true},"
	"  \"load\": {\"cpu_utilization\": 50, \"memory_utilization\": 50, \"gpu_utilization\": 50}},"
	" {\"worker_id\": \"cpu_idle\", \"cpu_cores\": 8, \"available_memory\": 32,"
	"  \"supported_backends\": [\"cpu\", \"pytorch\"]},"
	" {\"worker_id\": \"gpu_small\", \"cpu_cores\": 16, \"available_memory\": 64,"
	"  \"supported_backends\": [\"cpu\", \"cuda\", \"pytorch\"], \"has_gpu\": true,"
	"  \"available_accelerators\": {\"gpu\": 1},"
	"  \"hardware_specs\": {\"gpu_vendor\": \"nvidia\", \"gpu_memory_gb\": 16,"
	"    \"gpu_compute_units\": 56, \"gpu_clock_mhz\": 1500},"
	"  \"load\": {\"cpu_utilization\": 5, \"memory_utilization\": 5}}]";

/*
 * The fixture's workloads as the converter makes them, less the expected
 * duration it fills in when a test states none (the original's 60 s): with
 * a duration hardware-aware ranks by estimated completion, in which
 * gpu_busy's utilisation counts as a wait (docs/SCORING.md).  These tests
 * are about blending, voting and routing, and docs/COMPOSITE.md's worked
 * example is this fixture, so they keep hardware-aware on its suitability;
 * test_one_zero_zero also runs the timed workloads.
 */
static lbs_workload fixture_workload(arena *a, const char *json)
{
	lbs_workload wl = workload_parse(a, json);

	wl.est_duration_s = 0.0;
	return wl;
}

static const char *vision_test =
	"{\"test_id\": \"v1\", \"test_type\": \"vision_classification\","
	" \"minimum_memory\": 2, \"priority\": 3}";

#define STD_BLEND                                                             \
	"{\"children\": [{\"scheduler\": \"hardware-aware\", \"weight\": 0.7},"  \
	" {\"scheduler\": \"priority\", \"weight\": 0.2},"                        \
	" {\"scheduler\": \"round-robin\", \"weight\": 0.1}]}"

static const char *three(double a, double b, double c)
{
	static char cfg[512];

	snprintf(cfg, sizeof cfg,
	         "{\"children\": [{\"scheduler\": \"hardware-aware\", \"weight\": %g},"
	         " {\"scheduler\": \"priority\", \"weight\": %g},"
	         " {\"scheduler\": \"round-robin\", \"weight\": %g}]}", a, b, c);
	return cfg;
}

/* A scheduler's own score slot on a fresh instance, outside any composite. */
static void child_scores_with(const char *name, const char *config, const lbs_workload *wl,
                              const fleet *f, double *out)
{
	loaded_plugin *p;
	const lbs_host_api *api;
	const lbs_scheduler_desc *d;
	char err[512];
	void *inst = NULL;

	CHECK_INT(host_load(test_host(), getenv("LBS_PLUGIN"), &p, &api, err, sizeof err), LBS_OK);
	d = loader_find(p, name, err, sizeof err);
	CHECK(d && d->score);
	CHECK_INT(d->create(api, config, config ? strlen(config) : 0, &inst, err, sizeof err),
	          LBS_OK);
	CHECK_INT(d->score(inst, wl, (const lbs_worker *const *)f->workers, f->n, out), LBS_OK);
	d->destroy(inst);
}

static void child_scores(const char *name, const lbs_workload *wl, const fleet *f,
                         double *out)
{
	child_scores_with(name, NULL, wl, f, out);
}

/* The composite's own score slot, through a fresh instance. */
static lbs_status composite_scores(const char *config, const lbs_workload *wl,
                                   const fleet *f, double *out)
{
	loaded_plugin *p;
	const lbs_host_api *api;
	const lbs_scheduler_desc *d;
	char err[512];
	void *inst = NULL;
	lbs_status st;

	host_load(test_host(), getenv("LBS_PLUGIN"), &p, &api, err, sizeof err);
	d = loader_find(p, "composite", err, sizeof err);
	CHECK_INT(d->create(api, config, strlen(config), &inst, err, sizeof err), LBS_OK);
	st = d->score(inst, wl, (const lbs_worker *const *)f->workers, f->n, out);
	d->destroy(inst);
	return st;
}

static char text[65536];
static size_t text_len;

static int collect(void *ctx, const char *data, size_t len)
{
	(void)ctx;
	if (text_len + len < sizeof text) {
		memcpy(text + text_len, data, len);
		text_len += len;
		text[text_len] = '\0';
	}
	return 0;
}

static cJSON *explain_of(shim_sched *s, const lbs_workload *wl, const fleet *f)
{
	text_len = 0;
	text[0] = '\0';
	CHECK_INT(sched_explain(s, wl, (const lbs_worker *const *)f->workers, f->n, collect, NULL),
	          LBS_OK);
	return cJSON_Parse(text);
}

static cJSON *stats_of(shim_sched *s)
{
	text_len = 0;
	text[0] = '\0';
	CHECK_INT(sched_stats(s, collect, NULL), LBS_OK);
	return cJSON_Parse(text);
}

static const cJSON *by_worker(const cJSON *arr, const char *id)
{
	const cJSON *o;

	cJSON_ArrayForEach(o, arr) {
		const cJSON *w = cJSON_GetObjectItem(o, "worker");
		if (cJSON_IsString(w) && !strcmp(w->valuestring, id))
			return o;
	}
	return NULL;
}

static double num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItem(o, key);

	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static const char *str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItem(o, key);

	return cJSON_IsString(v) ? v->valuestring : "(missing)";
}

/* One select of a fresh composite with `config`. */
static const char *pick_once(const char *config, const lbs_workload *wl, const fleet *f)
{
	static char out[256];
	shim_sched *s = test_sched("composite", config);

	snprintf(out, sizeof out, "%s", pick(s, wl, f));
	sched_close(s);
	return out;
}

static const char *pick_alone(const char *name, const lbs_workload *wl, const fleet *f)
{
	static char out[256];
	shim_sched *s = test_sched(name, NULL);

	snprintf(out, sizeof out, "%s", pick(s, wl, f));
	sched_close(s);
	return out;
}

static const char *create_error(const char *config)
{
	static char err[1024];
	shim_sched *s = NULL;

	err[0] = '\0';
	if (sched_open(test_host(), getenv("LBS_PLUGIN"), "composite", config, strlen(config),
	               &s, err, sizeof err) == LBS_OK) {
		sched_close(s);
		return "ok";
	}
	return err;
}

/* ===== The pure blend ===================================================== */

static void test_pure_blend(void)
{
	/* Three workers: child 0 scores, child 1 scores and rejects worker 2,
	 * child 2 votes for worker 0. */
	double s0[3] = { 0.2, 0.6, 0.4 }, s1[3] = { 5.0, 5.0, -1.0 };
	uint32_t v[1] = { 0 };
	comp_child c[3] = {
		{ .weight = 0.5, .scores = s0 },
		{ .weight = 0.3, .scores = s1 },
		{ .weight = 0.2, .picks = v, .n_picks = 1 },
	};
	uint8_t ok[3];
	double blend[3];

	CHECK_INT(comp_admit(c, 3, 3, ok), 2);
	CHECK(ok[0] && ok[1] && !ok[2]);
	/* min-max over the admitted workers only: 0.2..0.6, not 0.4's range */
	CHECK_NEAR(c[0].lo, 0.2, 1e-12);
	CHECK_NEAR(c[0].hi, 0.6, 1e-12);
	CHECK_NEAR(comp_normalised(&c[0], 0.4), 0.5, 1e-12);
	/* all equal: every admitted worker is 1 */
	CHECK_NEAR(comp_normalised(&c[1], 5.0), 1.0, 1e-12);
	comp_blend(c, 3, 3, ok, blend);
	CHECK_NEAR(blend[0], 0.5 * 0.0 + 0.3 * 1.0 + 0.2 * 1.0, 1e-12);
	CHECK_NEAR(blend[1], 0.5 * 1.0 + 0.3 * 1.0 + 0.2 * 0.0, 1e-12);

	/* A child whose scores differ by a denormal still normalises to
	 * 0..1: w / range would overflow, and infinity x 0 made a NaN blend. */
	{
		double t0[3] = { 0.0, 4.9e-324, 0.0 }, t1[3] = { 0.5, 0.5, 0.9 };
		comp_child d[2] = { { .weight = 0.7, .scores = t0 }, { .weight = 0.3, .scores = t1 } };
		double b[3];

		CHECK_INT(comp_admit(d, 2, 3, ok), 3);
		comp_blend(d, 2, 3, ok, b);
		CHECK(b[0] == 0.0);
		CHECK_NEAR(b[1], 0.7, 1e-12);
		CHECK_NEAR(b[2], 0.3, 1e-12);
		d[0].weight = 0.3;
		d[1].weight = 0.7;
		comp_blend(d, 2, 3, ok, b); /* the narrow child second */
		CHECK_NEAR(b[1], 0.3, 1e-12);
		CHECK_NEAR(b[2], 0.7, 1e-12);
	}

	/* NaN and infinity reject like a negative score */
	s1[0] = NAN;
	s1[1] = INFINITY;
	CHECK_INT(comp_admit(c, 3, 3, ok), 0);

	/* a voting child that found nothing abstains: the scorers decide */
	s1[0] = s1[1] = 1.0;
	c[2].n_picks = 0;
	CHECK_INT(comp_admit(c, 3, 3, ok), 2);
	CHECK(ok[0] && ok[1] && !ok[2]);
	comp_blend(c, 3, 3, ok, blend);
	CHECK_NEAR(blend[1], 0.5 * 1.0 + 0.3 * 1.0, 1e-12);
	/* ... unless it vetoes: then nothing is admitted */
	c[2].veto = 1;
	CHECK_INT(comp_admit(c, 3, 3, ok), 0);
	/* a veto that picked worker 1 admits worker 1 alone */
	c[2].n_picks = 1;
	v[0] = 1;
	CHECK_INT(comp_admit(c, 3, 3, ok), 1);
	CHECK(!ok[0] && ok[1] && !ok[2]);
	c[2].veto = 0;

	/* voters only: only voted workers are candidates */
	{
		uint32_t p1[2] = { 2, 2 }, p2[1] = { 1 };
		comp_child vv[2] = { { .weight = 0.6, .picks = p1, .n_picks = 2 },
		                     { .weight = 0.4, .picks = p2, .n_picks = 1 } };

		CHECK_INT(comp_admit(vv, 2, 3, ok), 2);
		CHECK(!ok[0] && ok[1] && ok[2]);
		comp_blend(vv, 2, 3, ok, blend);
		CHECK_NEAR(blend[2], 0.6, 1e-12); /* a duplicate pick counts once */
		CHECK_NEAR(blend[1], 0.4, 1e-12);
		CHECK_INT(comp_tally(vv, 2, 3, ok, blend), 2);
		CHECK_NEAR(blend[2], 0.6, 1e-12);
		CHECK_NEAR(blend[0], 0.0, 1e-12);
		/* vote mode: a lighter vetoing child bounds the candidates */
		vv[1].veto = 1;
		CHECK_INT(comp_tally(vv, 2, 3, ok, blend), 1);
		CHECK(!ok[0] && ok[1] && !ok[2]);
		CHECK_INT(comp_admit(vv, 2, 3, ok), 1);
		CHECK(!ok[0] && ok[1] && !ok[2]);
		vv[1].n_picks = 0;
		CHECK_INT(comp_tally(vv, 2, 3, ok, blend), 0);
	}
}

static void test_pure_routes(void)
{
	comp_route r[] = {
		{ "vision_", 1 },
		{ "vision_detection", 0 },
		{ "vision_det", 1 },
		{ "nlp", 0 },
	};

	CHECK_INT(comp_route_find(r, 4, "vision_classification"), 0);
	/* exact beats every prefix, wherever it is listed */
	CHECK_INT(comp_route_find(r, 4, "vision_detection"), 1);
	/* the longest prefix wins */
	CHECK_INT(comp_route_find(r, 4, "vision_detection_small"), 2);
	/* an exact name is not a prefix */
	CHECK_INT(comp_route_find(r, 4, "nlp_bert"), -1);
	CHECK_INT(comp_route_find(r, 4, "nlp"), 3);
	CHECK_INT(comp_route_find(r, 4, "Vision_x"), -1);
	CHECK_INT(comp_route_find(r, 4, NULL), -1);
	CHECK_INT(comp_route_repeat(r, 4), -1);
	{
		comp_route twice[] = { { "a", 1 }, { "a", 0 }, { "a", 1 } };
		CHECK_INT(comp_route_repeat(twice, 2), -1); /* exact and prefix differ */
		CHECK_INT(comp_route_repeat(twice, 3), 2);
	}
	{
		/* the last against those before it only: an earlier pair was
		 * checked when its second was added (all of them again, at each
		 * route, made a 4,096-route table cubic to load) */
		comp_route earlier[] = { { "a", 1 }, { "a", 1 }, { "b", 1 } };
		CHECK_INT(comp_route_repeat(earlier, 3), -1);
		CHECK_INT(comp_route_repeat(earlier, 2), 1);
	}
}

/* ===== Weights ============================================================ */

static void test_children_disagree(void)
{
	fleet f = fleet_parse(disagree_fleet);
	lbs_workload wl = fixture_workload(f.arena, vision_test);

	CHECK_STR(pick_alone("hardware-aware", &wl, &f), "gpu_busy");
	CHECK_STR(pick_alone("priority", &wl, &f), "cpu_idle");
	CHECK_STR(pick_alone("round-robin", &wl, &f), "cpu_mid");
	fleet_free(&f);
}

static void test_one_zero_zero(void)
{
	fleet f = fleet_parse(disagree_fleet);
	const char *tests[] = {
		vision_test,
		"{\"test_id\": \"n\", \"test_type\": \"nlp\", \"minimum_memory\": 4, \"priority\": 1}",
		"{\"test_id\": \"c\", \"test_type\": \"vision\", \"required_backend\": \"cuda\"}",
		"{\"test_id\": \"b\", \"test_type\": \"audio\", \"priority\": 5}",
		"{\"test_id\": \"x\", \"test_type\": \"nlp\", \"minimum_memory\": 100}",
	};

	for (size_t t = 0; t < 2 * sizeof tests / sizeof tests[0]; t++) {
		size_t k = t % (sizeof tests / sizeof tests[0]);
		/* the second round as timed work (completion ranking) */
		lbs_workload wl = t == k ? fixture_workload(f.arena, tests[k])
		                         : workload_parse(f.arena, tests[k]);
		char alone[256];

		snprintf(alone, sizeof alone, "%s", pick_alone("hardware-aware", &wl, &f));
		CHECK_STR(pick_once(three(1, 0, 0), &wl, &f), alone);
		snprintf(alone, sizeof alone, "%s", pick_alone("priority", &wl, &f));
		CHECK_STR(pick_once(three(0, 1, 0), &wl, &f), alone);
		snprintf(alone, sizeof alone, "%s", pick_alone("round-robin", &wl, &f));
		CHECK_STR(pick_once(three(0, 0, 1), &wl, &f), alone);
	}
	{
		lbs_workload wl = fixture_workload(f.arena, vision_test);
		CHECK_STR(pick_once(three(1, 0, 0), &wl, &f), "gpu_busy");
		/* weights are relative: (5, 0, 0) is (1, 0, 0) */
		CHECK_STR(pick_once(three(5, 0, 0), &wl, &f), "gpu_busy");
	}
	fleet_free(&f);
}

/* A composite whose config names no children is 0.7 hardware-aware, 0.2
 * priority, 0.1 round-robin: the same children in explain, and the same
 * picks as that config written out, select after select (round-robin's
 * rotation included). */
static void test_bare_is_the_blend(void)
{
	fleet f = fleet_parse(disagree_fleet);
	const char *tests[] = {
		vision_test,
		"{\"test_id\": \"n\", \"test_type\": \"nlp\", \"minimum_memory\": 4, \"priority\": 1}",
		"{\"test_id\": \"b\", \"test_type\": \"audio\", \"priority\": 5}",
	};
	shim_sched *bare = test_sched("composite", "{}");
	shim_sched *none = test_sched("composite", NULL);
	shim_sched *written = test_sched("composite", three(0.7, 0.2, 0.1));
	lbs_workload wl = fixture_workload(f.arena, vision_test);
	cJSON *doc = explain_of(bare, &wl, &f);
	const cJSON *kids = cJSON_GetObjectItem(doc, "children");

	CHECK_INT(cJSON_GetArraySize(kids), 3);
	CHECK_STR(str(cJSON_GetArrayItem(kids, 0), "scheduler"), "hardware-aware");
	CHECK_NEAR(num(cJSON_GetArrayItem(kids, 0), "weight"), 0.7, 1e-12);
	CHECK_STR(str(cJSON_GetArrayItem(kids, 1), "scheduler"), "priority");
	CHECK_NEAR(num(cJSON_GetArrayItem(kids, 1), "weight"), 0.2, 1e-12);
	CHECK_STR(str(cJSON_GetArrayItem(kids, 2), "scheduler"), "round-robin");
	CHECK_NEAR(num(cJSON_GetArrayItem(kids, 2), "weight"), 0.1, 1e-12);
	cJSON_Delete(doc);
	for (size_t t = 0; t < 3 * sizeof tests / sizeof tests[0]; t++) {
		size_t k = t % (sizeof tests / sizeof tests[0]);
		lbs_workload w = t < 3 ? fixture_workload(f.arena, tests[k])
		                       : workload_parse(f.arena, tests[k]);
		char want[256];

		snprintf(want, sizeof want, "%s", pick(written, &w, &f));
		CHECK_STR(pick(bare, &w, &f), want);
		CHECK_STR(pick(none, &w, &f), want);
	}
	sched_close(bare);
	sched_close(none);
	sched_close(written);
	fleet_free(&f);
}

static void test_hand_blend(void)
{
	fleet f = fleet_parse(disagree_fleet);
	lbs_workload wl = fixture_workload(f.arena, vision_test);
	const char *names[3] = { "hardware-aware", "priority", "round-robin" };
	const double w[3] = { 0.7, 0.2, 0.1 };
	double raw[3][4], lo[3], hi[3], blend[4];
	uint32_t best = 0;
	shim_sched *s;
	cJSON *ex;

	for (int j = 0; j < 3; j++) {
		child_scores(names[j], &wl, &f, raw[j]);
		lo[j] = hi[j] = raw[j][0];
		for (uint32_t i = 0; i < f.n; i++) {
			CHECK(raw[j][i] >= 0.0); /* everyone eligible here */
			lo[j] = fmin(lo[j], raw[j][i]);
			hi[j] = fmax(hi[j], raw[j][i]);
		}
	}
	for (uint32_t i = 0; i < f.n; i++) {
		blend[i] = 0.0;
		for (int j = 0; j < 3; j++)
			blend[i] += w[j] * (raw[j][i] - lo[j]) / (hi[j] - lo[j]);
		if (blend[i] > blend[best])
			best = i;
	}
	CHECK_STR(f.workers[best]->id, "gpu_small");
	/* round-robin's scores are its rotation: 1, 3/4, 1/2, 1/4 */
	CHECK_NEAR(raw[2][0], 1.0, 1e-12);
	CHECK_NEAR(raw[2][3], 0.25, 1e-12);

	s = test_sched("composite", STD_BLEND);
	ex = explain_of(s, &wl, &f);
	CHECK(ex != NULL);
	CHECK_STR(str(ex, "mode"), "blend");
	CHECK_STR(cJSON_GetArrayItem(cJSON_GetObjectItem(ex, "chosen"), 0)->valuestring,
	          "gpu_small");
	CHECK_CONTAINS(str(ex, "reason"), "blend 0.82");
	for (uint32_t i = 0; i < f.n; i++) {
		const cJSON *c = by_worker(cJSON_GetObjectItem(ex, "candidates"), f.workers[i]->id);
		const cJSON *parts = cJSON_GetObjectItem(c, "children");

		CHECK(c != NULL);
		CHECK_NEAR(num(c, "score"), blend[i], 2e-6);
		CHECK_INT(cJSON_GetArraySize(parts), 3);
		for (int j = 0; j < 3; j++) {
			const cJSON *p = cJSON_GetArrayItem(parts, j);
			double norm = (raw[j][i] - lo[j]) / (hi[j] - lo[j]);

			CHECK_STR(str(p, "scheduler"), names[j]);
			CHECK_NEAR(num(p, "weight"), w[j], 1e-6);
			CHECK_NEAR(num(p, "raw"), raw[j][i], 1e-6);
			CHECK_NEAR(num(p, "normalised"), norm, 1e-6);
			CHECK_NEAR(num(p, "weighted"), w[j] * norm, 1e-6);
		}
	}
	/* candidates are listed best first */
	CHECK_STR(str(cJSON_GetArrayItem(cJSON_GetObjectItem(ex, "candidates"), 0), "worker"),
	          "gpu_small");
	CHECK_STR(str(cJSON_GetArrayItem(cJSON_GetObjectItem(ex, "candidates"), 1), "worker"),
	          "gpu_busy");
	cJSON_Delete(ex);
	/* the explanation is the decision */
	CHECK_STR(pick(s, &wl, &f), "gpu_small");
	CHECK_CONTAINS(pick_reason(), "composite: blend 0.82");
	CHECK_CONTAINS(pick_reason(), "hardware-aware 0.70 x 0.90");
	sched_close(s);

	/* the composite's own score slot is the blend */
	{
		double got[4];

		CHECK_INT(composite_scores(STD_BLEND, &wl, &f, got), LBS_OK);
		for (uint32_t i = 0; i < f.n; i++)
			CHECK_NEAR(got[i], blend[i], 1e-9);
	}
	fleet_free(&f);
}

/* Round-robin does not learn, so the composite lets it select too: its
 * rotation moves on, and equal workers take turns. */
static void test_rotation_moves_on(void)
{
	fleet f = fleet_parse(
		"[{\"worker_id\": \"a\", \"cpu_cores\": 8, \"available_memory\": 32},"
		" {\"worker_id\": \"b\", \"cpu_cores\": 8, \"available_memory\": 32},"
		" {\"worker_id\": \"c\", \"cpu_cores\": 8, \"available_memory\": 32}]");
	lbs_workload wl = fixture_workload(f.arena, "{\"test_id\": \"t\", \"test_type\": \"nlp\"}");
	shim_sched *s = test_sched("composite", three(0.7, 0.2, 0.1));
	shim_sched *still = test_sched("composite",
		"{\"children\": [{\"scheduler\": \"hardware-aware\", \"weight\": 0.7},"
		" {\"scheduler\": \"round-robin\", \"weight\": 0.3, \"advance\": false}]}");

	CHECK_STR(pick(s, &wl, &f), "a");
	CHECK_STR(pick(s, &wl, &f), "b");
	CHECK_STR(pick(s, &wl, &f), "c");
	CHECK_STR(pick(s, &wl, &f), "a");
	/* "advance": false keeps it still: the same favourite every time */
	CHECK_STR(pick(still, &wl, &f), "a");
	CHECK_STR(pick(still, &wl, &f), "a");
	sched_close(s);
	sched_close(still);

	/* A third party's rotation with a report slot but no LBS_CAP_LEARNS
	 * (it counts outcomes): moved on all the same.  Taken by its slot
	 * for a learner, it scored "a" best for good. */
	char cfg[1024];
	snprintf(cfg, sizeof cfg, "{\"children\": [{\"scheduler\": \"org.example.counter\","
	         " \"plugin\": \"%s\", \"weight\": 1}]}", getenv("LBS_COUNTER_PLUGIN"));
	s = test_sched("composite", cfg);
	CHECK_STR(pick(s, &wl, &f), "a");
	CHECK_STR(pick(s, &wl, &f), "b");
	CHECK_STR(pick(s, &wl, &f), "c");
	sched_close(s);
	fleet_free(&f);
}

/* The composite's seed reaches a child of this plugin named by its path,
 * as one named without it (nginx seeds each process with its pid: such a
 * child drew alike in every process). */
static void test_seed_reaches_pathed_child(void)
{
	fleet f = fleet_parse(
		"[{\"worker_id\": \"a\", \"cpu_cores\": 8, \"available_memory\": 32},"
		" {\"worker_id\": \"b\", \"cpu_cores\": 8, \"available_memory\": 32},"
		" {\"worker_id\": \"c\", \"cpu_cores\": 8, \"available_memory\": 32},"
		" {\"worker_id\": \"d\", \"cpu_cores\": 8, \"available_memory\": 32},"
		" {\"worker_id\": \"e\", \"cpu_cores\": 8, \"available_memory\": 32},"
		" {\"worker_id\": \"f\", \"cpu_cores\": 8, \"available_memory\": 32}]");
	lbs_workload wl = fixture_workload(f.arena, "{\"test_id\": \"t\", \"test_type\": \"nlp\","
	                                   " \"priority\": 5}");
	char cfg[3][1024], seq[3][64] = {"", "", ""};

	snprintf(cfg[0], sizeof cfg[0], "{\"seed\": 7, \"children\": [{\"scheduler\": "
	         "\"priority\", \"vote\": true}]}");
	snprintf(cfg[1], sizeof cfg[1], "{\"seed\": 7, \"children\": [{\"scheduler\": "
	         "\"priority\", \"vote\": true, \"plugin\": \"%s\"}]}", getenv("LBS_PLUGIN"));
	snprintf(cfg[2], sizeof cfg[2], "{\"seed\": 8, \"children\": [{\"scheduler\": "
	         "\"priority\", \"vote\": true}]}");
	for (int k = 0; k < 3; k++) {
		shim_sched *s = test_sched("composite", cfg[k]);

		for (int i = 0; i < 24; i++)
			strncat(seq[k], pick(s, &wl, &f), 1);
		sched_close(s);
	}
	CHECK_STR(seq[1], seq[0]);
	CHECK(strcmp(seq[2], seq[0]) != 0); /* the seed decides the draws */
	fleet_free(&f);
}

/* ===== A third party's voting child ====================================== */

static const char *with_voter(double w_hw, double w_voter, const char *prefer)
{
	static char cfg[2048];
	char pref[128] = "";

	if (prefer)
		snprintf(pref, sizeof pref, ", \"config\": {\"prefer\": \"%s\"}", prefer);
	snprintf(cfg, sizeof cfg,
	         "{\"children\": [{\"scheduler\": \"hardware-aware\", \"weight\": %g},"
	         " {\"scheduler\": \"org.example.voter\", \"plugin\": \"%s\", \"weight\": %g%s}]}",
	         w_hw, getenv("LBS_VOTER_PLUGIN"), w_voter, pref);
	return cfg;
}

static void test_voter(void)
{
	fleet f = fleet_parse(disagree_fleet);
	lbs_workload wl = fixture_workload(f.arena, vision_test);
	lbs_workload cuda = fixture_workload(f.arena,
		"{\"test_id\": \"c\", \"test_type\": \"vision\", \"required_backend\": \"cuda\"}");
	char voter_only[1024];
	shim_sched *s;
	cJSON *ex;

	/* Its vote (1 x 0.5) beats hardware-aware's margin: cpu_mid's blend is
	 * 0.5 + 0.5 x 0.09, the big GPU's 0.5 x 1. */
	CHECK_STR(pick_once(with_voter(0.5, 0.5, "cpu_mid"), &wl, &f), "cpu_mid");
	/* a small vote does not */
	CHECK_STR(pick_once(with_voter(0.9, 0.1, "cpu_mid"), &wl, &f), "gpu_busy");
	/* without "prefer" it votes for the last worker */
	CHECK_STR(pick_once(with_voter(0.5, 0.5, NULL), &wl, &f), "gpu_small");
	/* a vote for a worker that fails a hard requirement counts for nothing */
	CHECK_STR(pick_once(with_voter(0.1, 0.9, "cpu_idle"), &cuda, &f), "gpu_busy");
	/* a voter that finds no worker abstains: hardware-aware decides */
	CHECK_STR(pick_once(with_voter(0.5, 0.5, "ghost"), &wl, &f), "gpu_busy");

	snprintf(voter_only, sizeof voter_only,
	         "{\"children\": [{\"scheduler\": \"org.example.voter\", \"plugin\": \"%s\","
	         " \"config\": {\"prefer\": \"cpu_idle\"}}]}", getenv("LBS_VOTER_PLUGIN"));
	CHECK_STR(pick_once(voter_only, &wl, &f), "cpu_idle");
	/* only a vote for an unfit worker: the composite invents none */
	CHECK_STR(pick_once(voter_only, &cuda, &f), "none");

	s = test_sched("composite", with_voter(0.5, 0.5, "cpu_mid"));
	ex = explain_of(s, &wl, &f);
	{
		const cJSON *kids = cJSON_GetObjectItem(ex, "children");
		const cJSON *c = by_worker(cJSON_GetObjectItem(ex, "candidates"), "cpu_mid");
		const cJSON *vote = cJSON_GetArrayItem(cJSON_GetObjectItem(c, "children"), 1);

		CHECK_STR(str(cJSON_GetArrayItem(kids, 1), "uses"), "vote");
		CHECK_STR(str(cJSON_GetArrayItem(kids, 0), "uses"), "score");
		CHECK_STR(str(vote, "scheduler"), "org.example.voter");
		/* Explain moves no child, and only the voter's select (it has
		 * no score slot) would say its vote: it is not asked, votes
		 * for none here, and explain says so; "chosen" is the rest's
		 * (test_explain_unasked_voter). */
		CHECK_STR(str(cJSON_GetArrayItem(kids, 1), "asked"), "not asked");
		CHECK(cJSON_IsNull(cJSON_GetObjectItem(vote, "vote")));
		CHECK_NEAR(num(vote, "weighted"), 0.0, 0);
		CHECK_CONTAINS(str(ex, "reason"), "org.example.voter 0.50 x not asked");
		CHECK_CONTAINS(str(ex, "reason"), "not asked (a voter without a score slot");
	}
	cJSON_Delete(ex);
	CHECK_STR(pick(s, &wl, &f), "cpu_mid");
	CHECK_CONTAINS(pick_reason(), "org.example.voter 0.50 x vote 1.00");
	sched_close(s);
	fleet_free(&f);
}

/* The issue's blend: 0.6 hardware-aware, 0.3 priority, 0.1 a third party's
 * voter (with `extra` inside its child object). */
static const char *with_small_voter(const char *prefer, const char *extra)
{
	static char cfg[2048];

	snprintf(cfg, sizeof cfg,
	         "{\"children\": [{\"scheduler\": \"hardware-aware\", \"weight\": 0.6},"
	         " {\"scheduler\": \"priority\", \"weight\": 0.3},"
	         " {\"scheduler\": \"org.example.voter\", \"plugin\": \"%s\", \"weight\": 0.1,"
	         "  \"config\": {\"prefer\": \"%s\"}%s}]}",
	         getenv("LBS_VOTER_PLUGIN"), prefer, extra);
	return cfg;
}

/* A vote is not a veto: a CUDA test that only gpu_busy can take, and a
 * voter of weight 0.1 that finds no worker.  It abstains and the
 * composite places the test; only "veto": true lets it block. */
static void test_vote_not_veto(void)
{
	fleet f = fleet_parse(disagree_fleet);
	lbs_workload cuda2 = fixture_workload(f.arena,
		"{\"test_id\": \"c\", \"test_type\": \"vision\", \"required_backend\": \"cuda\","
		" \"required_accelerators\": {\"gpu\": 2}}");
	lbs_workload wl = fixture_workload(f.arena, vision_test);
	shim_sched *s;
	cJSON *ex;

	CHECK_STR(pick_alone("hardware-aware", &cuda2, &f), "gpu_busy");
	CHECK_STR(pick_once(with_small_voter("ghost", ""), &cuda2, &f), "gpu_busy");
	CHECK_STR(pick_once(with_small_voter("ghost", ", \"veto\": false"), &cuda2, &f),
	          "gpu_busy");
	/* with the veto its "no worker" is the answer, and the reason says whose */
	s = test_sched("composite", with_small_voter("ghost", ", \"veto\": true"));
	CHECK_STR(pick(s, &cuda2, &f), "none");
	CHECK_CONTAINS(pick_reason(), "the children reject 1 (first: 'org.example.voter')");
	ex = explain_of(s, &cuda2, &f);
	CHECK_STR(str(cJSON_GetArrayItem(cJSON_GetObjectItem(ex, "children"), 2), "uses"), "veto");
	/* explain cannot ask it (no score slot): it vetoes nothing there,
	 * and explain names it as not asked */
	CHECK_STR(str(cJSON_GetArrayItem(cJSON_GetObjectItem(ex, "children"), 2), "asked"),
	          "not asked");
	CHECK_CONTAINS(text, "child 2 'org.example.voter'");
	cJSON_Delete(ex);
	sched_close(s);
	/* a veto that names a worker keeps the answer to its picks, however
	 * light its weight: as a mere vote it does not move the blend */
	CHECK_STR(pick_once(with_small_voter("cpu_idle", ""), &wl, &f), "gpu_small");
	CHECK_STR(pick_once(with_small_voter("cpu_idle", ", \"veto\": true"), &wl, &f),
	          "cpu_idle");
	CHECK_CONTAINS(create_error("{\"children\": [{\"scheduler\": \"priority\", \"veto\": true}]}"),
	               "config field 'children[0].veto': only a voting child can veto");
	CHECK_STR(create_error("{\"children\": [{\"scheduler\": \"priority\", \"vote\": true,"
	                       " \"veto\": true}]}"), "ok");
	CHECK_STR(create_error("{\"mode\": \"vote\", \"children\": [{\"scheduler\": \"priority\","
	                       " \"veto\": true}]}"), "ok");
	CHECK_CONTAINS(create_error("{\"children\": [{\"scheduler\": \"priority\", \"vote\": true,"
	                            " \"veto\": 1}]}"),
	               "config field 'children[0].veto': must be true or false");
	fleet_free(&f);
}

/* ===== No worker ========================================================== */

static void test_none(void)
{
	fleet f = fleet_parse(disagree_fleet);
	lbs_workload tpu = fixture_workload(f.arena,
		"{\"test_id\": \"t\", \"test_type\": \"nlp\", \"required_accelerators\": {\"tpu\": 1}}");
	lbs_workload huge = fixture_workload(f.arena,
		"{\"test_id\": \"h\", \"test_type\": \"nlp\", \"minimum_memory\": 5000}");
	shim_sched *s = test_sched("composite", STD_BLEND);
	shim_sched *v = test_sched("composite", "{\"mode\": \"vote\", \"children\": ["
		"{\"scheduler\": \"hardware-aware\"}, {\"scheduler\": \"round-robin\"}]}");
	double scores[4];

	CHECK_STR(pick(s, &tpu, &f), "none");
	CHECK_CONTAINS(pick_reason(), "composite: no eligible worker among 4");
	CHECK_CONTAINS(pick_reason(), "accelerator 4");
	CHECK_STR(pick(s, &huge, &f), "none");
	/* the original's vote returned the first worker here (F5) */
	CHECK_STR(pick(v, &tpu, &f), "none");
	CHECK_INT(composite_scores(STD_BLEND, &tpu, &f, scores), LBS_OK);
	for (int i = 0; i < 4; i++)
		CHECK_NEAR(scores[i], -1.0, 0);
	{
		/* every worker overloaded for the children: their ceilings */
		fleet hot = fleet_parse(
			"[{\"worker_id\": \"h1\", \"cpu_cores\": 8, \"available_memory\": 32,"
			"  \"load\": {\"cpu_utilization\": 99, \"memory_utilization\": 99,"
			"   \"gpu_utilization\": 99, \"io_utilization\": 99, \"network_utilization\": 99}}]");
		lbs_workload wl = fixture_workload(hot.arena, "{\"test_id\": \"x\"}");

		lbs_workload timed = workload_parse(hot.arena,
			"{\"test_id\": \"y\", \"expected_duration\": 60, \"priority\": 1}");
		lbs_workload bgt = workload_parse(hot.arena,
			"{\"test_id\": \"z\", \"expected_duration\": 60, \"priority\": 5}");

		CHECK_STR(pick(s, &wl, &hot), "none");
		CHECK_CONTAINS(pick_reason(), "the children reject 1 (first: 'hardware-aware')");
		shim_sched *two = test_sched("composite", "{\"children\": ["
			"{\"scheduler\": \"hardware-aware\", \"weight\": 0.7},"
			" {\"scheduler\": \"priority\", \"weight\": 0.3}]}");

		/* Timed work: hardware-aware and urgent priority rank by
		 * completion, which has no ceiling (docs/SCORING.md): a blend
		 * of the two places it on the full worker. */
		CHECK_STR(pick(two, &timed, &hot), "h1");
		/* Background work too: priority's spread finds nobody under
		 * the ceiling, and its score falls to completion's. */
		CHECK_STR(pick(two, &bgt, &hot), "h1");
		/* Round-robin has no completion, but for timed work its
		 * ceiling is a vote against the worker, not a veto: a 0.1
		 * child cannot keep timed work off the only worker. */
		CHECK_STR(pick(s, &timed, &hot), "h1");
		CHECK_CONTAINS(pick_reason(), "round-robin 0.10 x 1.00");
		/* Untimed work: the ceiling still bars it. */
		CHECK_STR(pick(s, &wl, &hot), "none");
		sched_close(two);
		fleet_free(&hot);
	}
	sched_close(s);
	sched_close(v);
	fleet_free(&f);
}

/* ===== Vote mode ========================================================== */

static void test_vote_mode(void)
{
	fleet f = fleet_parse(disagree_fleet);
	lbs_workload wl = fixture_workload(f.arena, vision_test);
	char cfg[512];

	snprintf(cfg, sizeof cfg, "{\"mode\": \"vote\", \"children\": ["
	         "{\"scheduler\": \"hardware-aware\", \"weight\": 0.5},"
	         "{\"scheduler\": \"priority\", \"weight\": 0.3},"
	         "{\"scheduler\": \"round-robin\", \"weight\": 0.2}]}");
	/* each child picks its own: the heaviest vote wins */
	CHECK_STR(pick_once(cfg, &wl, &f), "gpu_busy");
	/* a tie (0.4 each for cpu_idle and cpu_mid) goes to the earlier
	 * worker in the array, as in the original */
	snprintf(cfg, sizeof cfg, "{\"mode\": \"vote\", \"children\": ["
	         "{\"scheduler\": \"hardware-aware\", \"weight\": 0.2},"
	         "{\"scheduler\": \"priority\", \"weight\": 0.4},"
	         "{\"scheduler\": \"round-robin\", \"weight\": 0.4}]}");
	CHECK_STR(pick_once(cfg, &wl, &f), "cpu_mid");
	{
		shim_sched *s = test_sched("composite", cfg);

		pick(s, &wl, &f);
		CHECK_CONTAINS(pick_reason(), "composite (vote): 0.40 of the weight voted for it");
		sched_close(s);
	}
	/* the same weights blended: scores, not votes, decide */
	CHECK_STR(pick_once(three(0.7, 0.2, 0.1), &wl, &f), "gpu_small");
	fleet_free(&f);
}

/* ===== Several workers ==================================================== */

static void test_multi(void)
{
	fleet f = fleet_parse(disagree_fleet);
	lbs_workload sharded = fixture_workload(f.arena,
		"{\"test_id\": \"s\", \"test_type\": \"vision_x\", \"priority\": 3,"
		" \"custom_properties\": {\"allocation_strategy\": \"sharded\", \"is_shardable\": true,"
		" \"min_shards\": 2, \"max_shards\": 3}}");
	lbs_workload cuda3 = fixture_workload(f.arena,
		"{\"test_id\": \"c\", \"test_type\": \"vision_x\", \"required_backend\": \"cuda\","
		" \"custom_properties\": {\"allocation_strategy\": \"replicated\","
		" \"min_shards\": 3, \"max_shards\": 3}}");
	shim_sched *s = test_sched("composite", STD_BLEND);
	cJSON *ex = explain_of(s, &sharded, &f);
	const cJSON *chosen = cJSON_GetObjectItem(ex, "chosen");
	char expect[256];

	/* the top three by blend, best first, as explain ranks them */
	CHECK_INT(cJSON_GetArraySize(chosen), 3);
	snprintf(expect, sizeof expect, "%s,%s,%s",
	         cJSON_GetArrayItem(chosen, 0)->valuestring,
	         cJSON_GetArrayItem(chosen, 1)->valuestring,
	         cJSON_GetArrayItem(chosen, 2)->valuestring);
	CHECK_STR(expect, "gpu_small,gpu_busy,cpu_mid");
	CHECK_STR(pick(s, &sharded, &f), expect);
	/* two CUDA workers cannot make three replicas */
	CHECK_STR(pick(s, &cuda3, &f), "none");
	CHECK_CONTAINS(pick_reason(), "only 2 eligible workers, the workload needs at least 3");
	cJSON_Delete(ex);
	sched_close(s);
	fleet_free(&f);
}

/* ===== Routing ============================================================ */

#define ROUTES                                                                \
	"{\"routes\": ["                                                      \
	"  {\"prefix\": \"vision_\", \"scheduler\": \"hardware-aware\"},"      \
	"  {\"test_type\": \"vision_special\", \"scheduler\": \"round-robin\"}," \
	"  {\"prefix\": \"vision_seg\", \"scheduler\": \"hardware-aware\"}],"  \
	" \"default\": {\"scheduler\": \"priority\"}}"

static void test_routes_in_plugin(void)
{
	fleet f = fleet_parse(disagree_fleet);
	lbs_workload vision = fixture_workload(f.arena, vision_test);
	lbs_workload special = fixture_workload(f.arena,
		"{\"test_id\": \"s\", \"test_type\": \"vision_special\", \"priority\": 3}");
	lbs_workload nlp = fixture_workload(f.arena,
		"{\"test_id\": \"n\", \"test_type\": \"nlp_bert\", \"priority\": 3}");
	lbs_workload untyped = fixture_workload(f.arena, "{\"test_id\": \"u\", \"priority\": 3}");
	shim_sched *s = test_sched("composite", ROUTES);
	lbs_outcome o = { .struct_size = sizeof o, .workload_type = LBS_WL_VISION,
	                  .test_type = "vision_classification", .worker_id = "gpu_busy",
	                  .result = LBS_RESULT_SUCCESS, .duration_s = 10 };
	cJSON *ex, *st;

	CHECK_STR(pick(s, &vision, &f), "gpu_busy");
	CHECK_CONTAINS(pick_reason(), "composite route prefix 'vision_' -> hardware-aware:");
	CHECK_STR(pick(s, &special, &f), "cpu_mid");
	CHECK_CONTAINS(pick_reason(), "route test type 'vision_special' -> round-robin:");
	CHECK_STR(pick(s, &nlp, &f), "cpu_idle");
	CHECK_CONTAINS(pick_reason(), "route default -> priority");
	CHECK_STR(pick(s, &untyped, &f), "cpu_idle");

	ex = explain_of(s, &vision, &f);
	CHECK_STR(str(ex, "mode"), "route");
	CHECK_STR(str(ex, "route"), "prefix 'vision_'");
	CHECK_STR(str(ex, "target"), "hardware-aware");
	CHECK_STR(str(cJSON_GetObjectItem(ex, "explain"), "scheduler"), "hardware-aware");
	cJSON_Delete(ex);

	/* the outcome teaches the scheduler of its route only */
	CHECK_INT(sched_report(s, &o), LBS_OK);
	st = stats_of(s);
	CHECK(st != NULL);
	CHECK_STR(str(st, "mode"), "route");
	CHECK_NEAR(num(st, "selects"), 4, 0);
	/* the two identical hardware-aware targets share one instance */
	CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItem(st, "children")), 3);
	CHECK_NEAR(num(cJSON_GetArrayItem(cJSON_GetObjectItem(st, "children"), 0), "reports"), 1, 0);
	CHECK_NEAR(num(cJSON_GetArrayItem(cJSON_GetObjectItem(st, "children"), 2), "reports"), 0, 0);
	cJSON_Delete(st);
	sched_close(s);
	fleet_free(&f);
}

static void test_routes_in_host(void)
{
	fleet f = fleet_parse(disagree_fleet);
	lbs_workload vision = fixture_workload(f.arena, vision_test);
	lbs_workload nlp = fixture_workload(f.arena,
		"{\"test_id\": \"n\", \"test_type\": \"nlp_bert\", \"priority\": 3}");
	const char *plugin = getenv("LBS_PLUGIN");
	router_target rr = { .scheduler = "round-robin" };
	shim_router *r = NULL;
	const char *route;
	char err[1024];
	const char *doc = ROUTES;

	CHECK_INT(router_open(test_host(), doc, strlen(doc), "routes.json", plugin, NULL, &r, err,
	                      sizeof err), LBS_OK);
	CHECK_STR(pick(router_pick(r, "vision_classification", &route), &vision, &f), "gpu_busy");
	CHECK_STR(route, "prefix 'vision_'");
	CHECK_STR(pick(router_pick(r, "nlp_bert", &route), &nlp, &f), "cpu_idle");
	CHECK_STR(route, "default");
	router_pick(r, "vision_segmentation", &route);
	CHECK_STR(route, "prefix 'vision_seg'");
	CHECK(router_pick(r, "vision_seg", NULL) == router_pick(r, "vision_x", NULL));
	router_close(r);

	/* without "default" the caller's scheduler is the default */
	doc = "{\"routes\": [{\"prefix\": \"vision_\", \"scheduler\": \"hardware-aware\"}]}";
	CHECK_INT(router_open(test_host(), doc, strlen(doc), "r.json", plugin, &rr, &r, err,
	                      sizeof err), LBS_OK);
	CHECK_STR(pick(router_pick(r, "nlp_bert", NULL), &nlp, &f), "cpu_mid");
	router_close(r);
	CHECK_INT(router_open(test_host(), doc, strlen(doc), "r.json", plugin, NULL, &r, err,
	                      sizeof err), LBS_ECONFIG);
	CHECK_CONTAINS(err, "r.json: field 'default': required");

	doc = "{\"routes\": [{\"prefix\": \"v\", \"scheduler\": \"nope\"}], \"default\": {\"scheduler\": \"priority\"}}";
	CHECK(router_open(test_host(), doc, strlen(doc), "r.json", plugin, NULL, &r, err,
	                  sizeof err) != LBS_OK);
	CHECK_CONTAINS(err, "r.json: field 'routes[0]': ");
	CHECK_CONTAINS(err, "no scheduler named 'nope'");
	doc = "{\"routes\": [{\"prefix\": \"v\", \"test_type\": \"v\", \"scheduler\": \"priority\"}],"
	      " \"default\": {\"scheduler\": \"priority\"}}";
	CHECK_INT(router_open(test_host(), doc, strlen(doc), "r.json", plugin, NULL, &r, err,
	                      sizeof err), LBS_ECONFIG);
	CHECK_CONTAINS(err, "r.json: field 'routes[0]': give either 'test_type'");
	doc = "{\"routes\": [{\"prefix\": \"v\", \"scheduler\": \"priority\"},"
	      " {\"prefix\": \"v\", \"scheduler\": \"round-robin\"}], \"default\": {\"scheduler\": \"priority\"}}";
	CHECK_INT(router_open(test_host(), doc, strlen(doc), "r.json", plugin, NULL, &r, err,
	                      sizeof err), LBS_ECONFIG);
	CHECK_CONTAINS(err, "r.json: field 'routes[1]': prefix 'v' is routed twice");
	/* the file's own text in a message: escaped, cut whole, one line */
	doc = "{\"routes\": [{\"test_type\": \"a\", \"scheduler\": \"priority\","
	      " \"bad\\nlbsched-shim: FORGED\": 1}], \"default\": {\"scheduler\": \"priority\"}}";
	CHECK_INT(router_open(test_host(), doc, strlen(doc), "r.json", plugin, NULL, &r, err,
	                      sizeof err), LBS_ECONFIG);
	CHECK_STR(err, "r.json: field 'routes[0].bad\\x0albsched-shim: FORGED': unknown field");
	{
		char big[400] = "{\"routes\": [{\"test_type\": \"a\", \"scheduler\": \"priority\", \"";
		for (int k = 0; k < 60; k++)
			strcat(big, "\xc3\xa9");
		strcat(big, "\": 1}], \"default\": {\"scheduler\": \"priority\"}}");
		CHECK_INT(router_open(test_host(), big, strlen(big), "r.json", plugin, NULL, &r, err,
		                      sizeof err), LBS_ECONFIG);
		CHECK(txt_utf8_valid(err));
		CHECK_CONTAINS(err, "...': unknown field");
		doc = "{\"routes\": [{\"test_type\": \"t\\u0001\", \"scheduler\": \"priority\"},"
		      " {\"test_type\": \"t\\u0001\", \"scheduler\": \"priority\"}],"
		      " \"default\": {\"scheduler\": \"priority\"}}";
		CHECK_INT(router_open(test_host(), doc, strlen(doc), "r.json", plugin, NULL, &r, err,
		                      sizeof err), LBS_ECONFIG);
		CHECK_STR(err, "r.json: field 'routes[1]': test type 't\\x01' is routed twice");
	}
	doc = "{\"routes\": [], \"default\": {\"scheduler\": \"priority\", \"confg\": {}}}";
	CHECK_INT(router_open(test_host(), doc, strlen(doc), "r.json", plugin, NULL, &r, err,
	                      sizeof err), LBS_ECONFIG);
	CHECK_CONTAINS(err, "r.json: field 'default.confg': unknown field");
	doc = "{\"routes\": [], \"default\": {\"scheduler\": \"priority\", \"config\": {\"seed\": -1}}}";
	CHECK_INT(router_open(test_host(), doc, strlen(doc), "r.json", plugin, NULL, &r, err,
	                      sizeof err), LBS_ECONFIG);
	CHECK_CONTAINS(err, "r.json: field 'default': scheduler 'priority': config field 'seed'");
	/* a document that routes nothing: every test would go to the default */
	doc = "{\"routes\": [], \"default\": {\"scheduler\": \"priority\"}}";
	CHECK_INT(router_open(test_host(), doc, strlen(doc), "r.json", plugin, NULL, &r, err,
	                      sizeof err), LBS_ECONFIG);
	CHECK_STR(err, "r.json: field 'routes': required: a list of at least one route (without "
	          "one every test goes to the default)");
	doc = "{\"default\": {\"scheduler\": \"priority\"}}";
	CHECK_INT(router_open(test_host(), doc, strlen(doc), "r.json", plugin, NULL, &r, err,
	                      sizeof err), LBS_ECONFIG);
	CHECK_CONTAINS(err, "r.json: field 'routes': required");
	fleet_free(&f);
}

/* ===== Nesting, report, stats ============================================= */

/* A config of `levels` composites, each the only child of the one above,
 * around a hardware-aware scheduler. */
static const char *nested(int levels)
{
	static char cfg[4096];
	size_t used = (size_t)snprintf(cfg, sizeof cfg, "{\"children\": [");

	for (int l = 1; l < levels; l++)
		used += (size_t)snprintf(cfg + used, sizeof cfg - used,
		                         "{\"scheduler\": \"composite\", \"config\": {\"children\": [");
	used += (size_t)snprintf(cfg + used, sizeof cfg - used, "{\"scheduler\": \"hardware-aware\"}");
	for (int l = 1; l < levels; l++)
		used += (size_t)snprintf(cfg + used, sizeof cfg - used, "]}}");
	snprintf(cfg + used, sizeof cfg - used, "]}");
	return cfg;
}

static void test_nesting(void)
{
	fleet f = fleet_parse(disagree_fleet);
	lbs_workload wl = fixture_workload(f.arena, vision_test);
	char cfg[2048];

	CHECK_STR(pick_once(nested(4), &wl, &f), "gpu_busy");
	CHECK_CONTAINS(create_error(nested(5)),
	               "config field 'children[0].config.children[0].config.children[0].config."
	               "children[0].config': composites nested more than 4 deep");
	/* composites are counted by name: an adaptive in the fourth is no
	 * fifth (its "children" were taken for one), and a fifth without a
	 * config of its own (the default blend) is one (it was let through) */
#define C3(x) "{\"children\": [{\"scheduler\": \"composite\", \"config\": {\"children\": " \
	"[{\"scheduler\": \"composite\", \"config\": {\"children\": [{\"scheduler\": " \
	"\"composite\", \"config\": {\"children\": [" x "]}}]}}]}}]}"
	CHECK_STR(create_error(C3("{\"scheduler\": \"adaptive\", \"config\": {\"children\": "
	                          "[\"priority\"]}}")), "ok");
	snprintf(cfg, sizeof cfg, "%s", C3("{\"scheduler\": \"composite\"}"));
#undef C3
	CHECK_CONTAINS(create_error(cfg),
	               "config field 'children[0].config.children[0].config.children[0].config."
	               "children[0].config': composites nested more than 4 deep");
	/* a composite of composites blends their blends */
	snprintf(cfg, sizeof cfg, "{\"children\": [{\"scheduler\": \"composite\", \"weight\": 0.9,"
	         " \"config\": %s}, {\"scheduler\": \"round-robin\", \"weight\": 0.1}]}", STD_BLEND);
	CHECK_STR(pick_once(cfg, &wl, &f), "gpu_small");
	/* routes inside a blend, and a blend inside a route */
	snprintf(cfg, sizeof cfg, "{\"routes\": [{\"prefix\": \"vision_\", \"scheduler\": \"composite\","
	         " \"config\": %s}], \"default\": {\"scheduler\": \"round-robin\"}}", STD_BLEND);
	CHECK_STR(pick_once(cfg, &wl, &f), "gpu_small");
	fleet_free(&f);
}

static void test_report_and_stats(void)
{
	fleet f = fleet_parse(disagree_fleet);
	lbs_workload wl = fixture_workload(f.arena, vision_test);
	shim_sched *s = test_sched("composite", STD_BLEND);
	lbs_outcome o = { .struct_size = sizeof o, .workload_type = LBS_WL_VISION,
	                  .worker_id = "gpu_small", .cookie = 1,
	                  .result = LBS_RESULT_SUCCESS, .duration_s = 12 };
	const cJSON *kids;
	cJSON *st;

	pick(s, &wl, &f);
	CHECK_INT(sched_report(s, &o), LBS_OK);
	CHECK_INT(sched_report(s, NULL), LBS_EINVAL);
	st = stats_of(s);
	CHECK(st != NULL);
	CHECK_STR(str(st, "scheduler"), "composite");
	CHECK_STR(str(st, "mode"), "blend");
	CHECK_NEAR(num(st, "selects"), 1, 0);
	CHECK_NEAR(num(st, "reports"), 1, 0);
	kids = cJSON_GetObjectItem(st, "children");
	CHECK_INT(cJSON_GetArraySize(kids), 3);
	/* every child that learns heard the outcome; round-robin selected
	 * once to move on, and has no report slot */
	CHECK_STR(str(cJSON_GetArrayItem(kids, 0), "scheduler"), "hardware-aware");
	CHECK_NEAR(num(cJSON_GetArrayItem(kids, 0), "reports"), 1, 0);
	CHECK_NEAR(num(cJSON_GetArrayItem(kids, 1), "reports"), 1, 0);
	CHECK_NEAR(num(cJSON_GetArrayItem(kids, 2), "selects"), 1, 0);
	CHECK_NEAR(num(cJSON_GetArrayItem(kids, 0), "selects"), 0, 0);
	cJSON_Delete(st);
	sched_close(s);
	fleet_free(&f);
}

/* The open work hardware-aware's ledger holds, from a composite's stats
 * (child i's). */
static double kid_ledger(shim_sched *s, int i, const char *key)
{
	cJSON *st = stats_of(s);
	const cJSON *kid = cJSON_GetArrayItem(cJSON_GetObjectItem(st, "children"), i);
	double v = num(cJSON_GetObjectItem(kid, "ledger"), key);

	cJSON_Delete(st);
	return v;
}

static double child_ledger(shim_sched *s, const char *key)
{
	return kid_ledger(s, 0, key);
}

/* Affinity in a blend learns where the model's work went, the blend's
 * choice: it remembered its own pick, the least loaded worker, which the
 * blend overruled, and pulled the model's next test towards a worker that
 * never ran it. */
static void test_affinity_learns_the_choice(void)
{
	fleet f = fleet_parse(disagree_fleet);
	lbs_workload wl = workload_parse(f.arena,
		"{\"test_id\": \"v\", \"test_type\": \"vision_classification\","
		" \"model_id\": \"resnet50\", \"minimum_memory\": 2, \"priority\": 3}");
	shim_sched *s = test_sched("composite", "{\"children\": [{\"scheduler\": "
	                                        "\"hardware-aware\", \"weight\": 0.7}, "
	                                        "{\"scheduler\": \"affinity\", \"weight\": 0.3}]}");
	shim_sched *alone = test_sched("affinity", NULL);
	char placed[64], own[64];
	const cJSON *c;
	cJSON *ex;

	snprintf(own, sizeof own, "%s", pick(alone, &wl, &f));
	snprintf(placed, sizeof placed, "%s", pick(s, &wl, &f));
	/* the case: affinity alone would have chosen another worker */
	CHECK(strcmp(own, placed) != 0);
	ex = explain_of(s, &wl, &f);
	c = NULL;
	for (const cJSON *k = cJSON_GetObjectItem(ex, "candidates")->child; k; k = k->next)
		if (!strcmp(str(k, "worker"), placed))
			c = cJSON_GetArrayItem(cJSON_GetObjectItem(k, "children"), 1);
	CHECK(c != NULL);
	if (c) {
		CHECK_STR(str(c, "scheduler"), "affinity");
		CHECK_NEAR(num(c, "raw"), 1, 0); /* the model's worker */
	}
	CHECK_STR(pick(s, &wl, &f), placed);
	cJSON_Delete(ex);
	sched_close(alone);
	sched_close(s);
	fleet_free(&f);
}

/* A router's cookies are its own: its targets number theirs alike (both
 * decisions were cookie 1), and an outcome that names no test type went
 * to the default target with the other's cookie, which the target that
 * decided never heard of. */
static void test_route_cookies(void)
{
	fleet f = fleet_parse(
		"[{\"worker_id\": \"w1\", \"cpu_cores\": 8, \"available_memory\": 16},"
		" {\"worker_id\": \"w2\", \"cpu_cores\": 8, \"available_memory\": 16}]");
	lbs_workload vision = workload_parse(f.arena,
		"{\"test_id\": \"v\", \"test_type\": \"vision_classification\","
		" \"expected_duration\": 100}");
	lbs_workload nlp = workload_parse(f.arena,
		"{\"test_id\": \"n\", \"test_type\": \"nlp_bert\", \"expected_duration\": 100}");
	shim_sched *s = test_sched("composite",
		"{\"routes\": [{\"test_type\": \"vision_classification\", \"scheduler\": "
		"\"hardware-aware\"}], \"default\": {\"scheduler\": \"hardware-aware\", "
		"\"config\": {\"load_ceiling\": 0.8}}}");
	lbs_outcome o = { .struct_size = sizeof o, .workload_type = vision.type,
	                  .result = LBS_RESULT_SUCCESS, .duration_s = 100,
	                  .expected_duration_s = 100 };
	char placed[64];
	uint64_t first;

	snprintf(placed, sizeof placed, "%s", pick(s, &vision, &f));
	first = pick_cookie();
	pick(s, &nlp, &f);
	CHECK(first != 0 && pick_cookie() != 0 && pick_cookie() != first);
	CHECK_NEAR(kid_ledger(s, 0, "open"), 1, 0);
	CHECK_NEAR(kid_ledger(s, 1, "open"), 1, 0);
	o.cookie = first;
	o.worker_id = placed;
	o.test_type = NULL;
	CHECK_INT(sched_report(s, &o), LBS_OK);
	CHECK_NEAR(kid_ledger(s, 0, "closed"), 1, 0);
	CHECK_NEAR(kid_ledger(s, 0, "open"), 0, 0);
	CHECK_NEAR(kid_ledger(s, 1, "closed"), 0, 0);
	CHECK_NEAR(kid_ledger(s, 1, "open"), 1, 0);
	sched_close(s);
	fleet_free(&f);
}

/* In vote mode the child placed every worker of a sharded placement: each
 * one's outcome reaches it with its own cookie, so hardware-aware's ledger
 * closes that worker's open work.  (The cookie went with the child's first
 * pick alone: the second worker's open work stayed until it expired, and
 * its wait counted work that was done.) */
static void test_sharded_cookies(void)
{
	fleet f = fleet_parse(
		"[{\"worker_id\": \"w1\", \"cpu_cores\": 8, \"available_memory\": 16},"
		" {\"worker_id\": \"w2\", \"cpu_cores\": 8, \"available_memory\": 16},"
		" {\"worker_id\": \"w3\", \"cpu_cores\": 8, \"available_memory\": 16}]");
	lbs_workload wl = workload_parse(f.arena,
		"{\"test_id\": \"s\", \"model_id\": \"m\", \"priority\": 3,"
		" \"expected_duration\": 100, \"custom_properties\": {\"is_shardable\": true,"
		" \"allocation_strategy\": \"sharded\", \"min_shards\": 2, \"max_shards\": 2}}");
	shim_sched *s = test_sched("composite", "{\"mode\": \"vote\", \"children\": "
	                                        "[{\"scheduler\": \"hardware-aware\"}]}");
	lbs_outcome o = { .struct_size = sizeof o, .workload_type = wl.type,
	                  .result = LBS_RESULT_SUCCESS, .duration_s = 100,
	                  .expected_duration_s = 100 };
	char placed[64], *second;

	for (uint32_t i = 0; i < f.n; i++)
		f.workers[i]->active_tests = 8;
	snprintf(placed, sizeof placed, "%s", pick(s, &wl, &f));
	o.cookie = pick_cookie();
	second = strchr(placed, ',');
	CHECK(second != NULL && o.cookie != 0);
	if (!second)
		goto out;
	*second++ = '\0';
	CHECK_NEAR(child_ledger(s, "open"), 2, 0);
	/* the second worker's outcome first: it is not the child's first pick */
	o.worker_id = second;
	CHECK_INT(sched_report(s, &o), LBS_OK);
	CHECK_NEAR(child_ledger(s, "closed"), 1, 0);
	CHECK_NEAR(child_ledger(s, "open"), 1, 0);
	o.worker_id = placed;
	CHECK_INT(sched_report(s, &o), LBS_OK);
	CHECK_NEAR(child_ledger(s, "closed"), 2, 0);
	CHECK_NEAR(child_ledger(s, "open"), 0, 0);
	/* a worker the decision did not place: nothing of it to close */
	o.worker_id = strcmp(placed, "w3") && strcmp(second, "w3") ? "w3" : "w1";
	CHECK_INT(sched_report(s, &o), LBS_OK);
	CHECK_NEAR(child_ledger(s, "closed"), 2, 0);
out:
	sched_close(s);
	fleet_free(&f);
}

/* A voting child's pick the vote overruled is placed nowhere: its ledger
 * entry is closed at once, as a cancelled outcome.  Left open, it stayed
 * work ahead of that worker in the child's eyes for up to 24 h. */
static void test_overruled_pick_closed(void)
{
	fleet f = fleet_parse(disagree_fleet);
	lbs_workload wl = workload_parse(f.arena,
		"{\"test_id\": \"v\", \"test_type\": \"vision_classification\","
		" \"minimum_memory\": 2, \"priority\": 3, \"expected_duration\": 100}");
	shim_sched *s = test_sched("composite", "{\"mode\": \"vote\", \"children\": "
	                                        "[{\"scheduler\": \"hardware-aware\", \"weight\": 1},"
	                                        " {\"scheduler\": \"round-robin\", \"weight\": 2}]}");
	shim_sched *alone = test_sched("hardware-aware", NULL);
	char own[64], placed[64];

	snprintf(own, sizeof own, "%s", pick(alone, &wl, &f));
	snprintf(placed, sizeof placed, "%s", pick(s, &wl, &f));
	/* the case: round-robin's vote outweighs hardware-aware's pick */
	CHECK(strcmp(own, placed) != 0);
	CHECK_NEAR(kid_ledger(s, 0, "opened"), 1, 0);
	CHECK_NEAR(kid_ledger(s, 0, "closed"), 1, 0);
	CHECK_NEAR(kid_ledger(s, 0, "open"), 0, 0);
	/* a decision the child's pick won keeps its entry for the outcome */
	sched_close(s);
	s = test_sched("composite", "{\"mode\": \"vote\", \"children\": "
	                            "[{\"scheduler\": \"hardware-aware\", \"weight\": 2},"
	                            " {\"scheduler\": \"round-robin\", \"weight\": 1}]}");
	CHECK_STR(pick(s, &wl, &f), own);
	CHECK_NEAR(kid_ledger(s, 0, "open"), 1, 0);
	CHECK_NEAR(kid_ledger(s, 0, "closed"), 0, 0);
	sched_close(alone);
	sched_close(s);
	fleet_free(&f);
}

/* The scratch grows with the fleet and the answers stay right. */
static void test_fleet_grows(void)
{
	static char json[200000];
	size_t used = 0;
	shim_sched *s = test_sched("composite", STD_BLEND);
	fleet small = fleet_parse(disagree_fleet), big;
	lbs_workload wl = fixture_workload(small.arena, vision_test);

	CHECK_STR(pick(s, &wl, &small), "gpu_small");
	used += (size_t)snprintf(json + used, sizeof json - used, "[");
	for (int i = 0; i < 300; i++)
		used += (size_t)snprintf(json + used, sizeof json - used,
		                         "%s{\"worker_id\": \"w%03d\", \"cpu_cores\": %d,"
		                         " \"available_memory\": 32}", i ? "," : "", i, 4 + i % 13);
	snprintf(json + used, sizeof json - used, "]");
	big = fleet_parse(json);
	{
		char alone[64];
		double raw[300];
		int best = 0;

		/* hardware-aware dominates and its best is unique by cores */
		child_scores("hardware-aware", &wl, &big, raw);
		for (int i = 1; i < 300; i++)
			if (raw[i] > raw[best])
				best = i;
		snprintf(alone, sizeof alone, "%s", big.workers[best]->id);
		CHECK_STR(pick_once(three(1, 0, 0), &wl, &big), alone);
		CHECK(strncmp(pick(s, &wl, &big), "w", 1) == 0);
	}
	CHECK_STR(pick(s, &wl, &small), "gpu_small");
	sched_close(s);
	fleet_free(&big);
	fleet_free(&small);
}

/* ===== Random fleets: the composite against a blend computed here ====== */

typedef struct rnd_worker {
	lbs_worker w;
	lbs_device d[3];
	const lbs_device *dp[3];
	char id[16];
} rnd_worker;


#define GIB_U64 UINT64_C(1073741824)

/* Coarse values, so that exact ties (and so the tie rule) happen. */
static void make_random(rnd_worker *r, uint32_t i)
{
	static const uint32_t classes[] = {LBS_CLASS_CPU, LBS_CLASS_GPU, LBS_CLASS_TPU,
	                                   LBS_CLASS_NPU};

	memset(r, 0, sizeof *r);
	snprintf(r->id, sizeof r->id, "w%03u", i);
	r->w.struct_size = sizeof r->w;
	r->w.id = r->id;
	r->w.n_devices = 1 + rnd(3);
	r->w.devices = r->dp;
	for (uint32_t d = 0; d < r->w.n_devices; d++) {
		lbs_device *x = &r->d[d];

		x->struct_size = sizeof *x;
		x->hw_class = classes[rnd(4)];
		x->backends = LBS_BACKEND_PYTORCH | (rnd(2) ? LBS_BACKEND_CUDA : 0);
		x->precisions = LBS_PREC_FP32;
		x->mem_available_bytes = (1 + rnd(4)) * GIB_U64;
		x->compute_units = 1 + rnd(4) * 16;
		x->clock_mhz = 1000 + rnd(3) * 500;
		x->tdp_watts = rnd(4) * 100;
		r->dp[d] = x;
	}
	r->w.util_cpu = rnd(5) / 4.0;
	r->w.util_memory = rnd(2) / 2.0;
	r->w.temperature = rnd(3) / 4.0;
	r->w.performance_level = 1.0;
	r->w.active_tests = rnd(3);
	r->w.queued_tests = rnd(3) == 0 ? rnd(3) : 0;
	r->w.capacity = 1 + rnd(2);
	r->w.pending_work_s = LBS_WORK_UNKNOWN;
}

static lbs_workload random_workload(void)
{
	static const uint32_t types[] = {LBS_WL_VISION, LBS_WL_NLP, LBS_WL_TRAINING,
	                                 LBS_WL_INFERENCE};
	lbs_workload wl = {.struct_size = sizeof wl, .id = "t", .test_type = "random"};

	wl.type = types[rnd(4)];
	wl.priority = 1 + rnd(5);
	wl.est_duration_s = rnd(2) ? 10.0 * (1 + rnd(30)) : 0.0;
	wl.min_memory_bytes = rnd(4) * GIB_U64;
	wl.required_backends = rnd(3) == 0 ? LBS_BACKEND_CUDA : 0;
	wl.compute_intensity = rnd(3) / 2.0;
	wl.min_shards = wl.max_shards = 1;
	return wl;
}

/*
 * docs/COMPOSITE.md's blend written out plainly, from each child's own
 * score slot (NULL: it votes for `vote`): the child's rejections made a
 * lowest score for timed work when it is one of ours (`own`), admission,
 * min-max per child, the weighted sum, and the best admitted worker that
 * passes the hard filter by blend, then effective load, then position.
 * Returns its position, or -1.
 */
static int reference_blend(const lbs_workload *wl, const lbs_worker *const *ws, uint32_t n,
                           uint32_t k, const double *weight, double **sc, const int *own,
                           int vote)
{
	double lo[4], hi[4], blend, best_blend = 0.0, best_load = 0.0;
	int best = -1;

	for (uint32_t j = 0; j < k; j++) {
		double low = 1.0;

		if (!sc[j] || !own[j] || !(wl->est_duration_s > 0.0))
			continue;
		for (uint32_t i = 0; i < n; i++)
			if (sc[j][i] >= 0.0 && sc[j][i] < low)
				low = sc[j][i];
		for (uint32_t i = 0; i < n; i++)
			if (!(sc[j][i] >= 0.0) && elig_check(wl, ws[i], 2.0, NULL) == ELIG_OK)
				sc[j][i] = low;
	}
	for (uint32_t j = 0; j < k; j++) {
		lo[j] = INFINITY;
		hi[j] = -INFINITY;
		for (uint32_t i = 0; sc[j] && i < n; i++) {
			int admitted = 1;

			for (uint32_t q = 0; q < k; q++)
				if (sc[q] && !(sc[q][i] >= 0.0 && isfinite(sc[q][i])))
					admitted = 0;
			if (admitted) {
				lo[j] = fmin(lo[j], sc[j][i]);
				hi[j] = fmax(hi[j], sc[j][i]);
			}
		}
	}
	for (uint32_t i = 0; i < n; i++) {
		double load;
		int admitted = 1;

		blend = 0.0;
		for (uint32_t j = 0; j < k; j++) {
			if (!sc[j]) {
				blend += (int)i == vote ? weight[j] : 0.0;
				continue;
			}
			if (!(sc[j][i] >= 0.0 && isfinite(sc[j][i])))
				admitted = 0;
			else if (hi[j] > lo[j])
				blend += weight[j] / (hi[j] - lo[j]) * (sc[j][i] - lo[j]);
			else
				blend += weight[j];
		}
		if (!admitted || elig_check(wl, ws[i], 1.0, NULL) != ELIG_OK)
			continue;
		load = elig_effective_load(ws[i], elig_load(ws[i]));
		if (best < 0 || blend > best_blend + COMP_TIE_EPS ||
		    (blend >= best_blend - COMP_TIE_EPS && load < best_load)) {
			best = (int)i;
			best_blend = blend;
			best_load = load;
		}
	}
	return best;
}

/* The id a reference answer names, as pick() spells it. */
static const char *id_or_none(const lbs_worker *const *ws, int i)
{
	return i < 0 ? "none" : ws[i]->id;
}

/*
 * Whatever the composite does to be quick, each answer in full mode is the
 * plain evaluation's: 0.7/0.2/0.1 of our three, the same with a third
 * party's voter that filters nothing and gives no bounds, and vote mode,
 * on random fleets and workloads (timed and not, every priority, with
 * hard requirements that leave some or no worker eligible).
 */
/*
 * Urgent timed work: priority scores by completion as hardware-aware does,
 * and within one decision the composite lets the second reuse the first's
 * pass when their parameters and inputs are the same (plugin/timed.h).
 * Against the blend of each child's own score slot on random fleets: with
 * the same parameters (shared), and with hardware-aware's weights changed
 * (which must not be shared, or priority would score with them).
 */
static void test_shared_completion(void)
{
	enum { N = 40, ROUNDS = 120 };
	static rnd_worker rw[N];
	const lbs_worker *ws[N];
	static double raw[3][N];
	const char *hw_cfg[2] = { NULL, "{\"weights\": {\"compute\": 0.9, \"memory\": 0.05}}" };
	const char *blend_cfg[2] = {
		"{\"children\": [{\"scheduler\": \"hardware-aware\", \"weight\": 0.5},"
		" {\"scheduler\": \"priority\", \"weight\": 0.4},"
		" {\"scheduler\": \"round-robin\", \"weight\": 0.1}]}",
		"{\"children\": [{\"scheduler\": \"hardware-aware\", \"weight\": 0.5,"
		" \"config\": {\"weights\": {\"compute\": 0.9, \"memory\": 0.05}}},"
		" {\"scheduler\": \"priority\", \"weight\": 0.4},"
		" {\"scheduler\": \"round-robin\", \"weight\": 0.1}]}",
	};
	const char *names[3] = { "hardware-aware", "priority", "round-robin" };
	const double weight[3] = { 0.5, 0.4, 0.1 };
	const int own[3] = { 1, 1, 1 };
	int mismatches = 0, differ = 0;

	for (int round = 0; round < ROUNDS; round++) {
		uint32_t n = 2 + rnd(N - 1);
		lbs_workload wl = random_workload();
		fleet f = { NULL, NULL, n };
		double *sc[3] = { raw[0], raw[1], raw[2] };
		int v = round % 2;
		const char *got, *want;

		wl.priority = 1 + rnd(2);
		wl.est_duration_s = 10.0 * (1 + rnd(30));
		for (uint32_t i = 0; i < n; i++) {
			make_random(&rw[i], i);
			ws[i] = &rw[i].w;
		}
		f.workers = (lbs_worker **)ws;
		child_scores_with(names[0], hw_cfg[v], &wl, &f, raw[0]);
		child_scores(names[1], &wl, &f, raw[1]);
		child_scores(names[2], &wl, &f, raw[2]);
		for (uint32_t i = 0; i < n; i++)
			differ += raw[0][i] != raw[1][i];
		want = id_or_none(ws, reference_blend(&wl, ws, n, 3, weight, sc, own, -1));
		got = pick_once(blend_cfg[v], &wl, &f);
		if (strcmp(got, want)) {
			mismatches++;
			fprintf(stderr, "round %d (%s): composite %s, plain %s\n", round,
			        v ? "other weights" : "same parameters", got, want);
		}
	}
	CHECK_INT(mismatches, 0);
	/* The changed weights did change hardware-aware's scores. */
	CHECK(differ > 0);
}

static void test_random_against_plain(void)
{
	enum { N = 48, ROUNDS = 150 };
	static rnd_worker rw[N];
	const lbs_worker *ws[N];
	static double raw[3][N];
	const char *names[3] = { "hardware-aware", "priority", "round-robin" };
	const double weight[3] = { 0.7, 0.2, 0.1 };
	const int own[3] = { 1, 1, 1 };
	char voter_cfg[1024];
	int mismatches = 0, nones = 0;

	snprintf(voter_cfg, sizeof voter_cfg,
	         "{\"children\": [{\"scheduler\": \"hardware-aware\", \"weight\": 0.6},"
	         " {\"scheduler\": \"priority\", \"weight\": 0.3},"
	         " {\"scheduler\": \"org.example.voter\", \"plugin\": \"%s\", \"weight\": 0.1}]}",
	         getenv("LBS_VOTER_PLUGIN"));
	for (int round = 0; round < ROUNDS; round++) {
		uint32_t n = 2 + rnd(N - 1);
		lbs_workload wl = random_workload();
		fleet f = { NULL, NULL, n };
		double *sc[3] = { raw[0], raw[1], raw[2] };
		double tally[N] = { 0 };
		const char *got, *want;
		int best = -1;

		for (uint32_t i = 0; i < n; i++) {
			make_random(&rw[i], i);
			ws[i] = &rw[i].w;
		}
		f.workers = (lbs_worker **)ws;

		/* The three of ours, each scoring. */
		for (int j = 0; j < 3; j++)
			child_scores(names[j], &wl, &f, raw[j]);
		want = id_or_none(ws, reference_blend(&wl, ws, n, 3, weight, sc, own, -1));
		got = pick_once("{\"children\": ["
		                "{\"scheduler\": \"hardware-aware\", \"weight\": 0.7},"
		                " {\"scheduler\": \"priority\", \"weight\": 0.2},"
		                " {\"scheduler\": \"round-robin\", \"weight\": 0.1}]}", &wl, &f);
		nones += !strcmp(want, "none");
		if (strcmp(got, want)) {
			mismatches++;
			fprintf(stderr, "round %d blend: composite %s, plain %s\n", round, got, want);
		}

		/* A voter without a score slot, bounds or a filter: it picks
		 * the last worker, eligible or not. */
		{
			const double w3[3] = { 0.6, 0.3, 0.1 };
			double *sv[3] = { raw[0], raw[1], NULL };

			child_scores("hardware-aware", &wl, &f, raw[0]);
			child_scores("priority", &wl, &f, raw[1]);
			want = id_or_none(ws, reference_blend(&wl, ws, n, 3, w3, sv, own,
			                                      (int)n - 1));
			got = pick_once(voter_cfg, &wl, &f);
			if (strcmp(got, want)) {
				mismatches++;
				fprintf(stderr, "round %d voter: composite %s, plain %s\n", round,
				        got, want);
			}
		}

		/* Vote mode: each child's own select on a fresh instance is a
		 * vote of its weight; most weight wins, then the earlier
		 * position; a winner must pass the hard filter. */
		for (int j = 0; j < 3; j++) {
			const char *id = pick_alone(names[j], &wl, &f);

			for (uint32_t i = 0; i < n; i++)
				if (!strcmp(ws[i]->id, id))
					tally[i] += weight[j];
		}
		for (uint32_t i = 0; i < n; i++)
			if (tally[i] > 0.0 && elig_check(&wl, ws[i], 1.0, NULL) == ELIG_OK &&
			    (best < 0 || tally[i] > tally[best] + COMP_TIE_EPS))
				best = (int)i;
		want = id_or_none(ws, best);
		got = pick_once("{\"mode\": \"vote\", \"children\": ["
		                "{\"scheduler\": \"hardware-aware\", \"weight\": 0.7},"
		                " {\"scheduler\": \"priority\", \"weight\": 0.2},"
		                " {\"scheduler\": \"round-robin\", \"weight\": 0.1}]}", &wl, &f);
		if (strcmp(got, want)) {
			mismatches++;
			fprintf(stderr, "round %d vote: composite %s, plain %s\n", round, got, want);
		}
	}
	CHECK_INT(mismatches, 0);
	/* The rounds cover fleets with no eligible worker, and many with. */
	CHECK(nones > 0 && nones < ROUNDS / 2);
}

/* ===== The blend's fast paths against the plain ones ====================== */

/* A score from a small set, so that ties, -0 against 0, rejections, NaN
 * and infinity all turn up. */
static double awkward_score(void)
{
	static const double v[] = {0.0, -0.0, 0.25, 0.5, 0.5 + 4e-13, 1.0, -1.0, 0.75,
	                           0.125, 0.3};

	switch (rnd(40)) {
	case 0: return NAN;
	case 1: return INFINITY;
	case 2: return 1e300;
	default: return v[rnd(sizeof v / sizeof v[0])];
	}
}

static int same_bits(double a, double b)
{
	return !memcmp(&a, &b, sizeof a);
}

/* comp_lowest as one chain, the way the composite's ceiling rule found it
 * before it took two lanes at a time. */
static double lowest_plain(const double *s, uint32_t n, int *rejects)
{
	double low = 1.0;

	*rejects = 0;
	for (uint32_t i = 0; i < n; i++) {
		if (s[i] >= 0.0 && s[i] < low)
			low = s[i];
		*rejects |= !(s[i] >= 0.0);
	}
	return low;
}

/*
 * The composite's one-pass paths against the plain ones, bit for bit:
 * admission and bounds with every child scoring (1 to 4 children: the
 * fused pass) against the general pass (the same children and a fifth, a
 * copy of the first, which admits alike); comp_lowest against one chain;
 * comp_any_unfiltered_reject against one worker at a time; the one-pass
 * blend against the pass per child;
 * a single choice, which skips blocks of workers below the best, against
 * comp_best_few's first (the same rule, one worker at a time), on blends
 * with near-ties.
 */
static void test_pure_fast_paths(void)
{
	enum { N = 37, ROUNDS = 400 };
	static rnd_worker rw[N];
	const lbs_worker *ws[N];
	double s[5][N], blend[N], eload[N];
	uint8_t ok_fast[N], ok_plain[N];
	uint32_t order[N], tmp[N];
	int bad = 0;

	for (uint32_t i = 0; i < N; i++) {
		make_random(&rw[i], i);
		ws[i] = &rw[i].w;
	}
	for (int round = 0; round < ROUNDS; round++) {
		uint32_t n = rnd(N + 1), k = 1 + rnd(4), m_fast, m_plain, got, want, found;
		comp_child fast[4], plain[5];
		lbs_workload wl = {.struct_size = sizeof wl, .id = "t", .test_type = "x"};
		int r1, r2;
		double l1, l2;

		/* Half the rounds with a rare awkward score, so that blocks
		 * of sixteen are wholly admitted or hold one rejection. */
		uint32_t rate = rnd(2) ? 3 : 30;

		for (uint32_t j = 0; j < 4; j++)
			for (uint32_t i = 0; i < N; i++)
				s[j][i] = rnd(rate) ? 0.1 * (1 + rnd(8)) : awkward_score();
		for (uint32_t j = 0; j < 5; j++) {
			plain[j] = (comp_child){.weight = 0.2, .scores = s[j < k ? j : 0]};
			if (j < 4)
				fast[j] = (comp_child){.weight = 0.2, .scores = s[j]};
		}
		m_fast = comp_admit(fast, k, n, ok_fast);
		m_plain = comp_admit(plain, 5, n, ok_plain);
		bad += m_fast != m_plain || (n && memcmp(ok_fast, ok_plain, n));
		for (uint32_t j = 0; j < k; j++)
			bad += !same_bits(fast[j].lo, plain[j].lo) || !same_bits(fast[j].hi, plain[j].hi);

		l1 = comp_lowest(s[0], n, &r1);
		l2 = lowest_plain(s[0], n, &r2);
		bad += !same_bits(l1, l2) || r1 != r2;

		/* The one-pass blend against the pass per child (a voter of
		 * weight 0 that picked no one takes comp_blend off its fused
		 * path and adds nothing), on the admitted workers, with
		 * now and then a range of denormals (a scale that overflows). */
		{
			double b1[N], b2[N], d[4][N];
			comp_child f2[4], g[5];

			for (uint32_t j = 0; j < k; j++) {
				for (uint32_t i = 0; i < N; i++)
					d[j][i] = rnd(6) ? s[j][i] : rnd(2) ? 5e-324 : 1e-310;
				f2[j] = (comp_child){.weight = 0.1 * (1 + rnd(5)), .scores = d[j]};
			}
			if (comp_admit(f2, k, n, ok_plain) > 0) {
				for (uint32_t j = 0; j < k; j++)
					g[j] = f2[j];
				g[k] = (comp_child){.weight = 0.0};
				comp_blend(f2, k, n, ok_plain, b1);
				comp_blend(g, k + 1, n, ok_plain, b2);
				for (uint32_t i = 0; i < n; i++)
					bad += ok_plain[i] && !same_bits(b1[i], b2[i]);
			}
		}

		/* The ceiling rule's shortcut: a rejection the facts do not
		 * explain, against one worker at a time, with rejections
		 * mostly where the filter fails (as a completion pass makes
		 * them) and now and then where it passes or is unknown. */
		{
			uint8_t hard[N];
			int any = 0;

			for (uint32_t i = 0; i < n; i++) {
				hard[i] = s[0][i] >= 0.0 ? (uint8_t)(rnd(8) ? 1 : 2)
				          : (uint8_t)(rnd(12) ? 0 : 1 + rnd(2));
				any |= !(s[0][i] >= 0.0) && hard[i] != 0;
			}
			bad += comp_any_unfiltered_reject(s[0], hard, n) != any;
			/* One unexplained rejection at each place in turn, so
			 * that every lane of the eight-wide test is the only
			 * one that answers. */
			for (uint32_t i = 0; i < n; i++)
				if (!(s[0][i] >= 0.0))
					hard[i] = 0;
			for (uint32_t i = 0; i < n; i++) {
				if (s[0][i] >= 0.0)
					continue;
				hard[i] = (uint8_t)(1 + rnd(2));
				bad += comp_any_unfiltered_reject(s[0], hard, n) != 1;
				hard[i] = 0;
			}
			bad += comp_any_unfiltered_reject(s[0], hard, n) != 0;
		}

		/* Blends a few tie margins apart, so that ties chain. */
		for (uint32_t i = 0; i < n; i++) {
			blend[i] = rnd(4) ? 0.5 + (double)rnd(5) * 0.6e-12 : 0.1 * rnd(6);
			ok_fast[i] = rnd(5) != 0;
		}
		CHECK_INT(comp_best_few(ws, n, ok_fast, blend, 1, 1, &want, eload, &found),
		          LBS_OK);
		if (found == 0)
			want = UINT32_MAX;
		else if (!elig_pass(&wl, ws[want], 1.0, &l1))
			continue; /* the hard filter's guard, not the ranking */
		CHECK_INT(comp_choose(&wl, ws, n, ok_fast, blend, 1, 1, &got, order, tmp, eload,
		                      &found), LBS_OK);
		bad += want == UINT32_MAX ? found != 0 : found != 1 || got != want;
	}
	if (bad)
		fprintf(stderr, "test_pure_fast_paths: %d mismatches\n", bad);
	CHECK_INT(bad, 0);
}

/* ===== Giant fleets: sampled decisions ===================================== */

/* The candidate set: kept positions first, each position once, all in the
 * fleet; and its best few are comp_rank's first few. */
static void test_pure_sample(void)
{
	enum { N = 40 };
	static rnd_worker rw[N];
	const lbs_worker *ws[N];
	uint32_t kept[COMP_KEEP] = { 7, UINT32_MAX, 7, 99 }, pos[COMP_KEEP + 64];
	uint32_t order[N], tmp[N], top[COMP_KEEP], m, ranked, few;
	double blend[N], eload[N];
	uint8_t ok[N], seen[100] = { 0 };
	uint64_t r = 1;

	uint64_t slots[256] = { 0 };
	comp_seen set = { slots, 255, UINT32_MAX - 1 };

	/* Twice, the second across the stamp's wrap: a decision's set
	 * starts empty whatever the one before drew. */
	for (int again = 0; again < 2; again++) {
		memset(seen, 0, sizeof seen);
		m = comp_sample(&r, kept, COMP_KEEP, 100, 64, pos, &set);
		CHECK(m > 30 && m <= 65);
		CHECK_INT(pos[0], 7);
		for (uint32_t q = 0; q < m; q++) {
			CHECK(pos[q] < 100 && !seen[pos[q] % 100]);
			seen[pos[q] % 100] = 1;
		}
	}
	CHECK_INT(set.stamp, 1);
	for (int round = 0; round < 50; round++) {
		for (uint32_t i = 0; i < N; i++) {
			make_random(&rw[i], i);
			ws[i] = &rw[i].w;
			ok[i] = rnd(4) != 0;
			blend[i] = rnd(6) / 5.0; /* ties, broken by load and position */
		}
		for (int by_load = 0; by_load < 2; by_load++) {
			CHECK_INT(comp_rank(ws, N, ok, blend, by_load, order, tmp, eload, &ranked),
			          LBS_OK);
			CHECK_INT(comp_best_few(ws, N, ok, blend, by_load, COMP_KEEP, top, eload, &few),
			          LBS_OK);
			CHECK_INT(few, ranked < COMP_KEEP ? ranked : COMP_KEEP);
			for (uint32_t q = 0; q < few; q++)
				CHECK_INT(top[q], order[q]);
		}
	}
}

/* n workers of which only position `at` (if < n) has CUDA. */
static fleet one_cuda_fleet(uint32_t n, uint32_t at, rnd_worker *rw, const lbs_worker **ws)
{
	fleet f = { NULL, (lbs_worker **)ws, n };

	for (uint32_t i = 0; i < n; i++) {
		make_random(&rw[i], i);
		snprintf(rw[i].id, sizeof rw[i].id, "w%05u", i);
		for (uint32_t d = 0; d < rw[i].w.n_devices; d++)
			rw[i].d[d].backends = LBS_BACKEND_PYTORCH |
			                      (i == at && d == 0 ? LBS_BACKEND_CUDA : 0);
		ws[i] = &rw[i].w;
	}
	return f;
}

/*
 * A worker of 65 devices whose only CUDA device is the 65th: a completion
 * pass sees 64 of them and scores it -1, though it passes the hard filter.
 * The ceiling rule must look at it (the pass's rejections are not all the
 * filter's then): hardware-aware's -1 becomes its lowest score, a vote
 * against, and the blend still has the one eligible worker to give.
 */
static void test_unknown_filter_votes(void)
{
	enum { N = 4, ND = 65 };
	static rnd_worker rw[N];
	static lbs_device big[ND];
	static const lbs_device *bigp[ND];
	const lbs_worker *ws[N];
	fleet f = one_cuda_fleet(N, N, rw, ws);
	lbs_workload wl = random_workload();
	shim_sched *s = test_sched("composite", STD_BLEND);

	for (uint32_t d = 0; d < ND; d++) {
		big[d] = rw[0].d[0];
		big[d].backends = LBS_BACKEND_PYTORCH | (d == ND - 1 ? LBS_BACKEND_CUDA : 0);
		bigp[d] = &big[d];
	}
	rw[0].w.devices = bigp;
	rw[0].w.n_devices = ND;
	wl.required_backends = LBS_BACKEND_CUDA;
	wl.min_memory_bytes = 0;
	wl.est_duration_s = 60.0;
	for (uint32_t prio = 1; prio <= 5; prio++) {
		wl.priority = prio;
		CHECK_STR(pick(s, &wl, &f), rw[0].id);
	}
	sched_close(s);
	/* hardware-aware alone scores its first 64 devices, and says so when
	 * that leaves none (it said "no eligible worker among 1 ()") */
	{
		fleet one = f;
		shim_sched *hw = test_sched("hardware-aware", NULL);

		one.n = 1;
		CHECK_STR(pick(hw, &wl, &one), "none");
		CHECK_CONTAINS(pick_reason(), "hardware-aware: no eligible worker among 1 (only a "
		                              "device past the 64th (unscored) 1)");
		sched_close(hw);
	}
}

/*
 * From 4,096 workers ("scan": "auto", the default) or always ("sampled"),
 * a single choice is made among a sample that every child sees; the hard
 * filter is never sampled away: one eligible worker among 6,000 is found
 * whatever the draw, and "none" still means that none is eligible.
 */
static void test_sampled(void)
{
	enum { N = 6000 };
	static rnd_worker rw[N];
	static const lbs_worker *ws[N];
	lbs_workload wl = random_workload();
	shim_sched *s = test_sched("composite", STD_BLEND);
	shim_sched *v = test_sched("composite", "{\"mode\": \"vote\", \"scan\": \"sampled\","
	                           " \"sample\": 8, \"children\": ["
	                           "{\"scheduler\": \"hardware-aware\", \"weight\": 0.7},"
	                           " {\"scheduler\": \"priority\", \"weight\": 0.2},"
	                           " {\"scheduler\": \"round-robin\", \"weight\": 0.1}]}");
	fleet f = one_cuda_fleet(N, 4321, rw, ws);
	char want[16];

	wl.required_backends = LBS_BACKEND_CUDA;
	wl.min_memory_bytes = 0;
	snprintf(want, sizeof want, "%s", ws[4321]->id);
	for (int k = 0; k < 3; k++) {
		CHECK_STR(pick(s, &wl, &f), want);
		CHECK_STR(pick(v, &wl, &f), want);
	}
	f = one_cuda_fleet(N, N, rw, ws);
	CHECK_STR(pick(s, &wl, &f), "none");
	CHECK_STR(pick(v, &wl, &f), "none");

	/* Every worker eligible: the answer is one of the sample, and says so. */
	wl.required_backends = 0;
	CHECK(strncmp(pick(s, &wl, &f), "w", 1) == 0);
	CHECK(strstr(pick_reason(), "in a sample of 6000 workers") != NULL);
	sched_close(s);
	sched_close(v);
	/* "scan": "full" sees every worker, as before: with all the weight
	 * on hardware-aware, its answer (untimed, where its tie rule is the
	 * composite's). */
	wl.est_duration_s = 0.0;
	s = test_sched("composite", "{\"scan\": \"full\", \"children\": [{\"scheduler\":"
	               " \"hardware-aware\", \"weight\": 1, \"config\": {\"scan\": \"full\"}}]}");
	v = test_sched("hardware-aware", "{\"scan\": \"full\"}");
	snprintf(want, sizeof want, "%s", pick(v, &wl, &f));
	CHECK_STR(pick(s, &wl, &f), want);
	CHECK(strstr(pick_reason(), "sample") == NULL);
	sched_close(s);
	sched_close(v);
}

/*
 * A weighted rotation alone scores two equal workers alike; its select,
 * which moves it on, takes the first.  The tie went to the less loaded
 * worker every time while the rotation counted its turns to the other:
 * now the tie goes to the rotation's own pick, and they take turns.
 */
static void test_rotation_tie_takes_turns(void)
{
	fleet f = fleet_parse(
		"[{\"worker_id\": \"a\", \"cpu_cores\": 8, \"available_memory\": 16,"
		"  \"load\": {\"cpu_utilization\": 30}},"
		" {\"worker_id\": \"b\", \"cpu_cores\": 8, \"available_memory\": 16,"
		"  \"load\": {\"cpu_utilization\": 10}}]");
	lbs_workload wl = fixture_workload(f.arena, "{\"test_id\": \"t\"}");
	static const char *const kids[] = {
		"{\"children\": [{\"scheduler\": \"weighted-round-robin\", \"weight\": 1}]}",
		"{\"children\": [{\"scheduler\": \"round-robin\", \"weight\": 1}]}",
	};

	for (int k = 0; k < 2; k++) {
		shim_sched *s = test_sched("composite", kids[k]);
		int a = 0, b = 0;

		for (int i = 0; i < 8; i++) {
			const char *got = pick(s, &wl, &f);

			a += !strcmp(got, "a");
			b += !strcmp(got, "b");
		}
		CHECK_INT(a, 4);
		CHECK_INT(b, 4);
		sched_close(s);
	}
	fleet_free(&f);
}

/*
 * Two eligible workers among 6,000, neither in the sample: the whole fleet
 * decides, and a rotation child moves on there, since it found nothing in
 * the sample.  The retry told it not to, and the same worker took every
 * request.
 */
static void test_sampled_rotation_moves(void)
{
	enum { N = 6000 };
	static rnd_worker rw[N];
	static const lbs_worker *ws[N];
	lbs_workload wl = {.struct_size = sizeof wl, .id = "t", .test_type = "plain",
	                   .type = LBS_WL_MIXED, .priority = 3, .min_shards = 1, .max_shards = 1,
	                   .required_backends = LBS_BACKEND_CUDA};
	shim_sched *s = test_sched("composite", "{\"children\": [{\"scheduler\": \"round-robin\","
	                           " \"weight\": 1}]}");
	fleet f = one_cuda_fleet(N, 17, rw, ws);
	int seen17 = 0, seen4321 = 0;

	rw[4321].d[0].backends |= LBS_BACKEND_CUDA;
	for (uint32_t i = 0; i < N; i++) {
		rw[i].w.util_cpu = rw[i].w.util_memory = 0.0;
		rw[i].w.active_tests = rw[i].w.queued_tests = 0;
	}
	for (int k = 0; k < 6; k++) {
		const char *got = pick(s, &wl, &f);

		seen17 += !strcmp(got, "w00017");
		seen4321 += !strcmp(got, "w04321");
	}
	CHECK_INT(seen17, 3);
	CHECK_INT(seen4321, 3);
	sched_close(s);
}

/* ===== Bad configs ======================================================== */

/* ===== Two learning children on one store ================================= */

/* {"children": [hardware-aware on store a, priority on store b]} */
static const char *two_stores(char *buf, size_t len, const char *a, const char *b)
{
	snprintf(buf, len, "{\"children\": [{\"scheduler\": \"hardware-aware\", \"config\": "
	         "{\"store\": {\"path\": \"%s\"}}}, {\"scheduler\": \"round-robin\"}, "
	         "{\"scheduler\": \"priority\", \"config\": {\"store\": {\"path\": \"%s\"}}}]}",
	         a, b);
	return buf;
}

/* Every child of a blend gets every outcome: two on one store would count
 * each twice (samples 2 an outcome), however the path is spelled. */
static void test_one_store_twice(void)
{
	char base[] = "/tmp/lbs-comp-store-XXXXXXXX", cwd[4096], cfg[4096], a[256], b[256];
	const char *lead = "config field 'children[2].config.store': priority learns into the "
	                   "same store as hardware-aware (config field "
	                   "'children[0].config.store'): '";
	struct stat st;

	if (!mkdtemp(base) || !getcwd(cwd, sizeof cwd)) {
		fprintf(stderr, "test fixture broken: mkdtemp or getcwd\n");
		exit(99);
	}
	/* the same string */
	CHECK_CONTAINS(create_error(two_stores(cfg, sizeof cfg, "/nonexistent/ce",
	                                       "/nonexistent/ce")),
	               "config field 'children[2].config.store': priority learns into the same "
	               "store '/nonexistent/ce' as hardware-aware (config field "
	               "'children[0].config.store'), so each outcome would count twice; give "
	               "one of them another path");
	/* spelled otherwise, before the directory exists */
	CHECK_CONTAINS(create_error(two_stores(cfg, sizeof cfg, "/nonexistent/ce",
	                                       "/nonexistent/ce/")),
	               "'/nonexistent/ce/' and '/nonexistent/ce' are one directory, so each "
	               "outcome would count twice");
	CHECK_CONTAINS(create_error(two_stores(cfg, sizeof cfg, "/nonexistent//x/../ce",
	                                       "/nonexistent/./ce")), lead);
	snprintf(a, sizeof a, "%s/ce", base);
	snprintf(b, sizeof b, "%s/sub/../ce", base);
	mkdir(strcat(strcpy(cfg, base), "/sub"), 0700);
	CHECK_CONTAINS(create_error(two_stores(cfg, sizeof cfg, a, b)), lead);
	CHECK_INT(stat(a, &st), -1); /* refused before any store was made */
	/* relative against absolute */
	CHECK_INT(chdir(base), 0);
	CHECK_CONTAINS(create_error(two_stores(cfg, sizeof cfg, a, "./ce")), lead);
	CHECK_CONTAINS(create_error(two_stores(cfg, sizeof cfg, "ce", a)), lead);
	CHECK_INT(chdir(cwd), 0);
	/* a link to a store that exists */
	CHECK_INT(mkdir(a, 0700), 0);
	snprintf(b, sizeof b, "%s/link", base);
	CHECK_INT(symlink(a, b), 0);
	CHECK_CONTAINS(create_error(two_stores(cfg, sizeof cfg, a, b)), lead);
	/* a "plugin" naming this plugin is this plugin: the check holds
	 * (it was passed over as another plugin's child, each outcome
	 * counted twice) */
	snprintf(cfg, sizeof cfg,
	         "{\"children\": [{\"scheduler\": \"hardware-aware\", \"config\": "
	         "{\"store\": {\"path\": \"%s\"}}}, {\"scheduler\": \"priority\", \"plugin\": "
	         "\"%s\", \"config\": {\"store\": {\"path\": \"%s\"}}}]}",
	         a, getenv("LBS_PLUGIN"), a);
	CHECK_CONTAINS(create_error(cfg), "config field 'children[1].config.store': priority "
	                                  "learns into the same store");
	/* so does an adaptive's store, and a nested blend's child's (each
	 * outcome reaches them too); a nested router's routes may share one,
	 * as only the route that decided learns */
	snprintf(cfg, sizeof cfg,
	         "{\"children\": [{\"scheduler\": \"hardware-aware\", \"config\": "
	         "{\"store\": {\"path\": \"%s\"}}}, {\"scheduler\": \"adaptive\", \"config\": "
	         "{\"store\": {\"path\": \"%s\"}}}]}", a, a);
	CHECK_CONTAINS(create_error(cfg), "config field 'children[1].config.store': performance "
	                                  "learns into the same store");
	/* an adaptive's child by its own config, by adaptive's rules; and its
	 * shared store given to affinity alone (which learns no outcome)
	 * beside a sibling's is no second learner */
	snprintf(cfg, sizeof cfg,
	         "{\"children\": [{\"scheduler\": \"hardware-aware\", \"config\": "
	         "{\"store\": {\"path\": \"%s\"}}}, {\"scheduler\": \"adaptive\", \"config\": "
	         "{\"children\": [\"priority\", \"round-robin\"], \"config\": {\"priority\": "
	         "{\"store\": {\"path\": \"%s\"}}}}}]}", a, a);
	CHECK_CONTAINS(create_error(cfg), "config field 'children[1].config.config.priority.store'"
	                                  ": priority learns into the same store");
	snprintf(cfg, sizeof cfg,
	         "{\"children\": [{\"scheduler\": \"hardware-aware\", \"config\": "
	         "{\"store\": {\"path\": \"%s\"}}}, {\"scheduler\": \"adaptive\", \"config\": "
	         "{\"children\": [\"affinity\", \"priority\"], \"store\": {\"path\": \"%s\"}, "
	         "\"config\": {\"priority\": {\"store\": {\"path\": \"%s/other\"}}}}}]}", a, a, base);
	CHECK_STR(create_error(cfg), "ok");
	snprintf(cfg, sizeof cfg,
	         "{\"children\": [{\"scheduler\": \"hardware-aware\", \"config\": "
	         "{\"store\": {\"path\": \"%s\"}}}, {\"scheduler\": \"composite\", \"config\": "
	         "{\"children\": [{\"scheduler\": \"priority\", \"config\": {\"store\": "
	         "{\"path\": \"%s\"}}}]}}]}", a, a);
	CHECK_CONTAINS(create_error(cfg), "config field 'children[1].config.children[0].config."
	                                  "store': priority learns into the same store");
	snprintf(cfg, sizeof cfg,
	         "{\"children\": [{\"scheduler\": \"round-robin\"}, {\"scheduler\": "
	         "\"composite\", \"config\": {\"routes\": [{\"prefix\": \"v\", \"scheduler\": "
	         "\"priority\", \"config\": {\"store\": {\"path\": \"%s\"}}}, {\"prefix\": \"n\", "
	         "\"scheduler\": \"priority\", \"config\": {\"store\": {\"path\": \"%s\"}}}], "
	         "\"default\": {\"scheduler\": \"round-robin\"}}}]}", a, a);
	CHECK_STR(create_error(cfg), "ok");
	/* ... but a route's learner against the router's sibling is counted
	 * twice for each outcome of its type */
	snprintf(cfg, sizeof cfg,
	         "{\"children\": [{\"scheduler\": \"hardware-aware\", \"config\": "
	         "{\"store\": {\"path\": \"%s\"}}}, {\"scheduler\": \"composite\", \"config\": "
	         "{\"routes\": [{\"prefix\": \"v\", \"scheduler\": \"priority\", \"config\": "
	         "{\"store\": {\"path\": \"%s\"}}}], \"default\": {\"scheduler\": "
	         "\"round-robin\"}}}]}", a, a);
	CHECK_CONTAINS(create_error(cfg), "config field 'children[1].config.routes[0].config."
	                                  "store': priority learns into the same store");
	/* two stores are fine */
	snprintf(b, sizeof b, "%s/other", base);
	CHECK_STR(create_error(two_stores(cfg, sizeof cfg, a, b)), "ok");
	snprintf(cfg, sizeof cfg, "rm -rf '%s'", base);
	CHECK_INT(system(cfg), 0);
}

static void test_bad_configs(void)
{
	char cfg[1024];

	CHECK_STR(create_error(STD_BLEND), "ok");
	CHECK_CONTAINS(create_error(three(0.7, -0.2, 0.1)),
	               "config field 'children[1].weight': must be a number in 0..1000000, got -0.2");
	CHECK_CONTAINS(create_error(three(0, 0, 0)), "config field 'children': every weight is 0");
	{
		/* at most 4,096 children, as routes */
		size_t len = 40 + 4097 * 32, used;
		char *many = malloc(len);

		if (!many) {
			fprintf(stderr, "test fixture broken: out of memory\n");
			exit(99);
		}
		used = (size_t)snprintf(many, len, "{\"children\": [");
		for (int k = 0; k < 4097; k++)
			used += (size_t)snprintf(many + used, len - used, "%s{\"scheduler\": "
			                         "\"round-robin\"}", k ? "," : "");
		snprintf(many + used, len - used, "]}");
		CHECK_CONTAINS(create_error(many),
		               "config field 'children': 4097 children, at most 4096");
		free(many);
	}
	{
		/* a child's long message, two composites down, keeps its
		 * problem (it was cut inside the path, at 512 bytes a level) */
		char path[700], deep[1024];

		snprintf(path, sizeof path, "/nonexistent/%0200d/%0200d/%0200d/store", 1, 2, 3);
		snprintf(deep, sizeof deep, "{\"children\": [{\"scheduler\": \"composite\", "
		         "\"config\": {\"children\": [{\"scheduler\": \"hardware-aware\", "
		         "\"config\": {\"store\": {\"path\": \"%s\"}}}]}}]}", path);
		CHECK_CONTAINS(create_error(deep), "config field 'children[0].config.children[0]' "
		                                   "(hardware-aware): store '/nonexistent/");
		CHECK_CONTAINS(create_error(deep), "/store': cannot create the directory: its "
		                                   "parent does not exist");
	}
	CHECK_CONTAINS(create_error("{\"children\": [{\"scheduler\": \"hardware-aware\", "
	                            "\"weight\": 1e999}]}"),
	               "config field 'children[0].weight': must be a number");
	CHECK_CONTAINS(create_error("{\"children\": [{\"scheduler\": \"nope\"}]}"),
	               "config field 'children[0]': ");
	CHECK_CONTAINS(create_error("{\"children\": [{\"scheduler\": \"nope\"}]}"),
	               "no scheduler named 'nope'; it has: round-robin, priority, hardware-aware, composite");
	CHECK_CONTAINS(create_error("{\"children\": [{\"scheduler\": \"x\", \"plugin\": "
	                            "\"/nonexistent/other.so\"}]}"),
	               "config field 'children[0]': /nonexistent/other.so: cannot load plugin");
	snprintf(cfg, sizeof cfg, "{\"children\": [{\"scheduler\": \"round-robin\", \"plugin\": \"%s\"}]}",
	         getenv("LBS_VOTER_PLUGIN"));
	CHECK_CONTAINS(create_error(cfg), "no scheduler named 'round-robin'; it has: org.example.voter");
	snprintf(cfg, sizeof cfg, "{\"children\": [{\"scheduler\": \"first-fit\", \"plugin\": \"%s\"}]}",
	         getenv("LBS_V2_PLUGIN"));
	CHECK_CONTAINS(create_error(cfg), "refused");
	/* the default children, with a field of the blend's own */
	CHECK_STR(create_error("{\"mode\": \"vote\"}"), "ok");
	CHECK_CONTAINS(create_error("{\"children\": []}"), "config field 'children': must be a non-empty list");
	CHECK_CONTAINS(create_error("{\"children\": [3]}"), "config field 'children[0]': must be an object");
	CHECK_CONTAINS(create_error("{\"children\": [{\"weight\": 1}]}"),
	               "config field 'children[0].scheduler': required");
	CHECK_CONTAINS(create_error("{\"children\": [{\"scheduler\": \"priority\", \"wieght\": 1}]}"),
	               "config field 'children[0].wieght': unknown field");
	CHECK_CONTAINS(create_error("{\"children\": [{\"scheduler\": \"priority\", \"vote\": 1}]}"),
	               "config field 'children[0].vote': must be true or false");
	CHECK_CONTAINS(create_error("{\"children\": [{\"scheduler\": \"round-robin\","
	                            " \"config\": {\"load_ceiling\": 2}}]}"),
	               "config field 'children[0].config.load_ceiling': must be a number in 0..1");
	CHECK_CONTAINS(create_error("{\"children\": [{\"scheduler\": \"round-robin\", \"config\": 3}]}"),
	               "config field 'children[0].config': must be an object");
	CHECK_CONTAINS(create_error("{\"scan\": \"some\", \"children\": [{\"scheduler\": \"priority\"}]}"),
	               "config field 'scan': must be \"full\", \"sampled\" or \"auto\", got \"some\"");
	CHECK_CONTAINS(create_error("{\"sample\": 0, \"children\": [{\"scheduler\": \"priority\"}]}"),
	               "config field 'sample': must be an integer in 1..65536, got 0");
	CHECK_CONTAINS(create_error("{\"scan\": \"full\", \"routes\": [],"
	                            " \"default\": {\"scheduler\": \"priority\"}}"),
	               "config field 'scan': only a blend or a vote samples");
	CHECK_CONTAINS(create_error("{\"mode\": \"average\", \"children\": [{\"scheduler\": \"priority\"}]}"),
	               "config field 'mode': must be \"blend\" or \"vote\", got \"average\"");
	CHECK_CONTAINS(create_error("{\"children\": [{\"scheduler\": \"priority\"}], \"extra\": 1}"),
	               "config field 'extra': unknown field");
	CHECK_CONTAINS(create_error("{\"children\": [{\"scheduler\": \"priority\"}], "
	                            "\"default\": {\"scheduler\": \"priority\"}}"),
	               "config field 'children': a composite either blends or votes 'children' "
	               "('mode') or routes test types ('routes' and 'default'), not both");
	CHECK_CONTAINS(create_error("{\"mode\": \"vote\", \"routes\": [],"
	                            " \"default\": {\"scheduler\": \"priority\"}}"),
	               "config field 'mode': a composite either blends or votes");
	CHECK_CONTAINS(create_error("{\"routes\": []}"), "config field 'default': required with 'routes'");
	/* a router's own 'seed', which it hands to the targets that draw: named
	 * as written, not as a route's config field, nor dropped when no target
	 * draws */
	CHECK_CONTAINS(create_error("{\"routes\": [{\"test_type\": \"vision\", \"scheduler\": "
	                            "\"hardware-aware\"}], \"default\": {\"scheduler\": "
	                            "\"round-robin\"}, \"seed\": 1.5}"),
	               "composite': config field 'seed': must be");
	CHECK_CONTAINS(create_error("{\"routes\": [{\"test_type\": \"vision\", \"scheduler\": "
	                            "\"round-robin\"}], \"default\": {\"scheduler\": "
	                            "\"round-robin\"}, \"seed\": \"x\"}"),
	               "composite': config field 'seed': must be");
	CHECK_CONTAINS(create_error("{\"routes\": [{\"prefix\": \"a\", \"scheduler\": \"priority\"},"
	                            " {\"prefix\": \"a\", \"scheduler\": \"priority\"}],"
	                            " \"default\": {\"scheduler\": \"priority\"}}"),
	               "config field 'routes[1]': prefix 'a' is routed twice");
	CHECK_CONTAINS(create_error("{\"routes\": [{\"scheduler\": \"priority\"}],"
	                            " \"default\": {\"scheduler\": \"priority\"}}"),
	               "config field 'routes[0]': give one of 'test_type' (an exact name) or 'prefix'");
	CHECK_CONTAINS(create_error("{\"routes\": [], \"default\": {\"scheduler\": \"nope\"}}"),
	               "config field 'default': ");
	CHECK_STR(create_error("{\"routes\": [], \"default\": {\"scheduler\": \"priority\"}}"),
	          "scheduler 'composite': config field 'routes': required: a list of at "
	          "least one route (without one every test goes to the default)");
	CHECK_CONTAINS(create_error("{\"default\": {\"scheduler\": \"priority\"}}"),
	               "config field 'routes': required");
	CHECK_CONTAINS(create_error("not json"), "config: not valid JSON");
}

/* ===== Children that misbehave (issue 15) ================================= */

/* A child's create error that fills its buffer without a terminator: the
 * composite reports the buffer's text, and reads no byte past it (ASan). */
static void test_child_unterminated_error(void)
{
	char cfg[1024];
	const char *err, *text;

	snprintf(cfg, sizeof cfg, "{\"children\": [{\"scheduler\": \"liar\", \"plugin\": \"%s\","
	         " \"config\": {\"mode\": \"unterminated_error\"}}]}", getenv("LBS_LIAR_PLUGIN"));
	err = create_error(cfg);
	CHECK_CONTAINS(err, "config field 'children[0]' (liar): EEEE");
	text = strstr(err, "(liar): ");
	if (text) {
		text += strlen("(liar): ");
		/* Only E's to the end, cut where the host's buffer ends. */
		CHECK_INT(strspn(text, "E"), strlen(text));
		CHECK(strlen(text) > 100);
	}
}

/* A routed child's select reason without a terminator. */
static void test_child_unterminated_reason(void)
{
	fleet f = fleet_parse(disagree_fleet);
	lbs_workload wl = fixture_workload(f.arena, "{\"test_id\": \"u\", \"priority\": 3}");
	char cfg[1024];
	shim_sched *s;

	snprintf(cfg, sizeof cfg, "{\"routes\": [{\"prefix\": \"never_\", \"scheduler\": "
	         "\"round-robin\"}], \"default\": {\"scheduler\": \"liar\","
	         " \"plugin\": \"%s\", \"config\": {\"mode\": \"unterminated_reason\"}}}",
	         getenv("LBS_LIAR_PLUGIN"));
	s = test_sched("composite", cfg);
	CHECK(pick(s, &wl, &f) != NULL);
	CHECK_CONTAINS(pick_reason(), "composite route default -> RRRR");
	CHECK_INT(strspn(strstr(pick_reason(), "RRRR"), "R"), strlen(strstr(pick_reason(), "RRRR")));
	sched_close(s);
	fleet_free(&f);
}

/* A child score above 1.8e302 is written as a number, not null (tidy's
 * x * 1e6 overflowed). */
static void test_huge_child_score(void)
{
	fleet f = fleet_parse(disagree_fleet);
	lbs_workload wl = fixture_workload(f.arena, "{\"test_id\": \"u\", \"priority\": 3}");
	char cfg[1024];
	shim_sched *s;
	cJSON *ex;

	snprintf(cfg, sizeof cfg, "{\"children\": [{\"scheduler\": \"liar\", \"plugin\": \"%s\","
	         " \"config\": {\"mode\": \"huge_score\"}}]}", getenv("LBS_LIAR_PLUGIN"));
	s = test_sched("composite", cfg);
	ex = explain_of(s, &wl, &f);
	CHECK(ex != NULL);
	CHECK_CONTAINS(text, "\"raw\":1e+303");
	CHECK_CONTAINS(text, "\"raw\":5e+302");
	CHECK(strstr(text, "null") == NULL);
	cJSON_Delete(ex);
	sched_close(s);
	fleet_free(&f);
}

static char warned[1024];
static int warnings_seen;

static void keep_warning(void *ctx, int32_t level, const char *msg)
{
	(void)ctx;
	if (level == LBS_LOG_WARN) {
		warnings_seen++;
		snprintf(warned, sizeof warned, "%s", msg);
	}
}

/* A third party's voting child that answers a worker outside the call's
 * array votes for nobody, and the composite says so once (it dropped the
 * pick without a word). */
static void test_child_pick_out_of_range(void)
{
	shim_host *h = host_new("bad-pick", LBS_LOG_WARN);
	fleet f = fleet_parse(disagree_fleet);
	lbs_workload wl = fixture_workload(f.arena, "{\"test_id\": \"u\", \"priority\": 3}");
	uint32_t idx[2];
	const char *ids[2];
	lbs_selection sel = {.struct_size = sizeof sel, .capacity = 2, .indices = idx, .ids = ids};
	char cfg[1024], err[1024], want[160];
	shim_sched *s = NULL;

	host_set_log(h, keep_warning, NULL);
	snprintf(cfg, sizeof cfg, "{\"mode\": \"vote\", \"children\": [{\"scheduler\": \"liar\","
	         " \"plugin\": \"%s\", \"config\": {\"mode\": \"out_of_range\"}},"
	         " {\"scheduler\": \"round-robin\", \"weight\": 0.5}]}", getenv("LBS_LIAR_PLUGIN"));
	CHECK_INT(sched_open(h, getenv("LBS_PLUGIN"), "composite", cfg, strlen(cfg), &s, err,
	                     sizeof err), LBS_OK);
	for (int i = 0; s && i < 3; i++) {
		/* round-robin's vote decides: the rotation's first three */
		CHECK_INT(sched_select(s, &wl, (const lbs_worker *const *)f.workers, f.n, &sel, NULL),
		          LBS_OK);
		CHECK_STR(ids[0], f.workers[i]->id);
	}
	snprintf(want, sizeof want, "composite: child 'liar' answered index %u, outside this "
	         "call's %u workers: the pick is dropped (logged once)", f.n, f.n);
	CHECK_STR(warned, want);
	CHECK_INT(warnings_seen, 1);
	sched_close(s);

	/* the range and a failure are told apart: one does not silence the
	 * other */
	warnings_seen = 0;
	snprintf(cfg, sizeof cfg, "{\"mode\": \"vote\", \"children\": [{\"scheduler\": \"liar\","
	         " \"plugin\": \"%s\", \"config\": {\"mode\": \"range_then_error\"}},"
	         " {\"scheduler\": \"round-robin\", \"weight\": 0.5}]}", getenv("LBS_LIAR_PLUGIN"));
	CHECK_INT(sched_open(h, getenv("LBS_PLUGIN"), "composite", cfg, strlen(cfg), &s, err,
	                     sizeof err), LBS_OK);
	for (int i = 0; s && i < 3; i++)
		sched_select(s, &wl, (const lbs_worker *const *)f.workers, f.n, &sel, NULL);
	CHECK_INT(warnings_seen, 2);
	CHECK_STR(warned, "composite: child 'liar' select failed with status -5 (logged once)");
	sched_close(s);
	fleet_free(&f);
	host_free(h);
}

/* A FIFO named as a child's plugin is refused, not opened (which blocks
 * until a writer comes, that is forever). */
static void test_child_plugin_fifo(void)
{
	char dir[] = "/tmp/lbs-fifo-XXXXXX", fifo[64], cfg[1024];

	CHECK(mkdtemp(dir) != NULL);
	snprintf(fifo, sizeof fifo, "%s/child.so", dir);
	CHECK_INT(mkfifo(fifo, 0600), 0);
	snprintf(cfg, sizeof cfg, "{\"children\": [{\"scheduler\": \"x\", \"plugin\": \"%s\"}]}",
	         fifo);
	CHECK_CONTAINS(create_error(cfg), "config field 'children[0]': ");
	CHECK_CONTAINS(create_error(cfg), "cannot load plugin: it is a FIFO; a plugin must be a regular file");
	unlink(fifo);
	rmdir(dir);
}

/* ===== Explain moves no child =========================================== */

/* The reproducer's fleet: w1 cpu; w_2 cpu and cuda with a GPU; w3 cpu,
 * webgpu and webnn; 16 GB and 8 cores each. */
static const char *peek_fleet =
	"[{\"worker_id\": \"w1\", \"cpu_cores\": 8, \"available_memory\": 16,"
	"  \"supported_backends\": [\"cpu\"]},"
	" {\"worker_id\": \"w_2\", \"cpu_cores\": 8, \"available_memory\": 16,"
	"  \"supported_backends\": [\"cpu\", \"cuda\"], \"has_gpu\": true,"
	"  \"available_accelerators\": {\"gpu\": 1}},"
	" {\"worker_id\": \"w3\", \"cpu_cores\": 8, \"available_memory\": 16,"
	"  \"supported_backends\": [\"cpu\", \"webgpu\", \"webnn\"]}]";

#define PEEK_ROUNDS 6

/* explain's "chosen", comma-joined as pick() answers ("none" for none). */
static void chosen_of(const cJSON *ex, char *buf, size_t len)
{
	const cJSON *id;
	size_t used = 0;

	buf[0] = '\0';
	cJSON_ArrayForEach(id, cJSON_GetObjectItem(ex, "chosen"))
		used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? "," : "",
		                         cJSON_GetStringValue(id));
	if (!used)
		snprintf(buf, len, "none");
}

/*
 * PEEK_ROUNDS decisions of `config` for wl, by one instance alone and by
 * another that is explained before each decision (and once more after
 * it): the same decisions, each explain's "chosen" the decision that
 * follows (when `exact`).  The explained instance's last explain is left
 * in *last (the caller deletes it), for what it says of its children.
 */
static void explain_moves_nothing(const char *config, const lbs_workload *wl, const fleet *f,
                                  int exact, cJSON **last)
{
	shim_sched *alone = test_sched("composite", config);
	shim_sched *told = test_sched("composite", config);
	char plain[PEEK_ROUNDS][256], chosen[256], again[256];

	for (int r = 0; r < PEEK_ROUNDS; r++)
		snprintf(plain[r], sizeof plain[r], "%s", pick(alone, wl, f));
	for (int r = 0; r < PEEK_ROUNDS; r++) {
		cJSON *ex = explain_of(told, wl, f), *ex2;

		CHECK(ex != NULL);
		chosen_of(ex, chosen, sizeof chosen);
		/* twice in a row: the same answer */
		ex2 = explain_of(told, wl, f);
		chosen_of(ex2, again, sizeof again);
		CHECK_STR(again, chosen);
		cJSON_Delete(ex2);
		CHECK_STR(pick(told, wl, f), plain[r]);
		if (exact)
			CHECK_STR(chosen, plain[r]);
		if (r + 1 < PEEK_ROUNDS || !last)
			cJSON_Delete(ex);
		else
			*last = ex;
	}
	/* the rounds did not all give one worker: a rotation was in it */
	CHECK(strcmp(plain[0], plain[1]) || strcmp(plain[1], plain[2]));
	sched_close(alone);
	sched_close(told);
}

/* The reviewer's reproducer: a vote of round-robin and hardware-aware.
 * explain asked both to select, so it moved the rotation (and opened
 * hardware-aware's ledger entries): the decisions changed, and explain's
 * "chosen" was not the decision made. */
static void test_explain_vote_moves_nothing(void)
{
	fleet f = fleet_parse(peek_fleet);
	lbs_workload wl = workload_parse(f.arena,
		"{\"test_id\": \"t0\", \"test_type\": \"nlp\", \"minimum_memory\": 1,"
		" \"expected_duration\": 60}");
	const char *vote = "{\"mode\": \"vote\", \"children\": ["
	                   "{\"scheduler\": \"round-robin\", \"weight\": 1},"
	                   "{\"scheduler\": \"hardware-aware\", \"weight\": 1}]}";
	const char *wrr = "{\"mode\": \"vote\", \"children\": ["
	                  "{\"scheduler\": \"weighted-round-robin\", \"weight\": 1},"
	                  "{\"scheduler\": \"round-robin\", \"weight\": 1},"
	                  "{\"scheduler\": \"priority\", \"weight\": 0.5}]}";
	cJSON *ex = NULL;
	shim_sched *s;

	explain_moves_nothing(vote, &wl, &f, 1, &ex);
	/* each vote known from the child's own explain, not its select */
	CHECK_STR(str(cJSON_GetArrayItem(cJSON_GetObjectItem(ex, "children"), 0), "asked"),
	          "explain");
	CHECK_STR(str(cJSON_GetArrayItem(cJSON_GetObjectItem(ex, "children"), 1), "asked"),
	          "explain");
	cJSON_Delete(ex);
	explain_moves_nothing(wrr, &wl, &f, 1, NULL);

	/* The shim's order, two decisions: t0 w1, t1 w_2 whether or not
	 * each is explained first. */
	s = test_sched("composite", vote);
	ex = explain_of(s, &wl, &f);
	CHECK_STR(cJSON_GetStringValue(cJSON_GetArrayItem(cJSON_GetObjectItem(ex, "chosen"), 0)),
	          "w1");
	cJSON_Delete(ex);
	CHECK_STR(pick(s, &wl, &f), "w1");
	ex = explain_of(s, &wl, &f);
	CHECK_STR(cJSON_GetStringValue(cJSON_GetArrayItem(cJSON_GetObjectItem(ex, "chosen"), 0)),
	          "w_2");
	cJSON_Delete(ex);
	CHECK_STR(pick(s, &wl, &f), "w_2");
	sched_close(s);
	fleet_free(&f);
}

/* A blend whose rotation votes ("vote": true): explain asked its select,
 * and the rotation moved on for every explain. */
static void test_explain_blend_voter_moves_nothing(void)
{
	fleet f = fleet_parse(peek_fleet);
	lbs_workload wl = workload_parse(f.arena,
		"{\"test_id\": \"t0\", \"test_type\": \"nlp\", \"minimum_memory\": 1,"
		" \"expected_duration\": 60}");
	const char *blend = "{\"children\": ["
	                    "{\"scheduler\": \"round-robin\", \"weight\": 0.6, \"vote\": true},"
	                    "{\"scheduler\": \"hardware-aware\", \"weight\": 0.4}]}";
	/* the same one level down: a nested blend votes in the outer one */
	const char *nested = "{\"mode\": \"vote\", \"children\": ["
	                     "{\"scheduler\": \"composite\", \"weight\": 1, \"config\": "
	                     "{\"children\": [{\"scheduler\": \"round-robin\", \"weight\": 0.6,"
	                     " \"vote\": true}, {\"scheduler\": \"hardware-aware\", \"weight\": 0.4}]}},"
	                     "{\"scheduler\": \"priority\", \"weight\": 0.5}]}";
	cJSON *ex = NULL;

	explain_moves_nothing(blend, &wl, &f, 1, &ex);
	CHECK_STR(str(cJSON_GetArrayItem(cJSON_GetObjectItem(ex, "children"), 0), "uses"), "vote");
	CHECK_STR(str(cJSON_GetArrayItem(cJSON_GetObjectItem(ex, "children"), 0), "asked"),
	          "explain");
	cJSON_Delete(ex);
	explain_moves_nothing(nested, &wl, &f, 1, NULL);
	fleet_free(&f);
}

/* A third party's voter without a score slot (a rotation of its own, the
 * voter plugin's "rotate"): only its select would say its vote, and that
 * moves it; explain does not ask it, and says so. */
static void test_explain_unasked_voter(void)
{
	fleet f = fleet_parse(peek_fleet);
	lbs_workload wl = workload_parse(f.arena,
		"{\"test_id\": \"t0\", \"test_type\": \"nlp\", \"minimum_memory\": 1,"
		" \"expected_duration\": 60}");
	char cfg[1024];
	cJSON *ex = NULL;
	const cJSON *kid, *cand, *part;

	snprintf(cfg, sizeof cfg,
	         "{\"mode\": \"vote\", \"children\": ["
	         "{\"scheduler\": \"org.example.voter\", \"plugin\": \"%s\","
	         " \"config\": {\"rotate\": true}, \"weight\": 1},"
	         "{\"scheduler\": \"hardware-aware\", \"weight\": 0.5}]}",
	         getenv("LBS_VOTER_PLUGIN"));
	/* its vote is not known to explain: "chosen" may differ, the
	 * decisions may not */
	explain_moves_nothing(cfg, &wl, &f, 0, &ex);
	kid = cJSON_GetArrayItem(cJSON_GetObjectItem(ex, "children"), 0);
	CHECK_STR(str(kid, "scheduler"), "org.example.voter");
	CHECK_STR(str(kid, "asked"), "not asked");
	CHECK_STR(str(cJSON_GetArrayItem(cJSON_GetObjectItem(ex, "children"), 1), "asked"),
	          "explain");
	CHECK_CONTAINS(str(ex, "reason"), "not asked");
	CHECK_CONTAINS(str(ex, "reason"), "child 0 'org.example.voter'");
	/* no vote either way on any candidate */
	cJSON_ArrayForEach(cand, cJSON_GetObjectItem(ex, "candidates")) {
		part = cJSON_GetArrayItem(cJSON_GetObjectItem(cand, "children"), 0);
		CHECK(cJSON_IsNull(cJSON_GetObjectItem(part, "vote")));
		CHECK_NEAR(num(part, "weighted"), 0.0, 0);
	}
	cJSON_Delete(ex);
	fleet_free(&f);
}

int main(void)
{
	test_pure_blend();
	test_pure_routes();
	test_children_disagree();
	test_one_zero_zero();
	test_bare_is_the_blend();
	test_hand_blend();
	test_rotation_moves_on();
	test_seed_reaches_pathed_child();
	test_voter();
	test_vote_not_veto();
	test_none();
	test_vote_mode();
	test_multi();
	test_routes_in_plugin();
	test_routes_in_host();
	test_nesting();
	test_report_and_stats();
	test_sharded_cookies();
	test_overruled_pick_closed();
	test_route_cookies();
	test_affinity_learns_the_choice();
	test_fleet_grows();
	test_random_against_plain();
	test_shared_completion();
	test_unknown_filter_votes();
	test_pure_fast_paths();
	test_pure_sample();
	test_sampled();
	test_sampled_rotation_moves();
	test_rotation_tie_takes_turns();
	test_bad_configs();
	test_one_store_twice();
	test_child_unterminated_error();
	test_child_unterminated_reason();
	test_huge_child_score();
	test_child_pick_out_of_range();
	test_child_plugin_fifo();
	test_explain_vote_moves_nothing();
	test_explain_blend_voter_moves_nothing();
	test_explain_unasked_voter();
	return check_done("test_composite");
}
