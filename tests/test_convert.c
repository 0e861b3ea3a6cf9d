/*
 * test_convert.c -- the original's JSON records to ABI structs: what each
 * field becomes, which inputs are refused and with what message, and which
 * only warn.  The converters are called directly on parsed cJSON, the way a
 * host does; every cJSON tree is deleted before the result is checked, so
 * a string left pointing into it is a use-after-free the sanitizers see.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "arena.h"
#include "check.h"
#include "convert.h"
#include "taxonomy.h"

#define GIB (UINT64_C(1) << 30)

static arena *A;
static char err[1024];
static char warns[8192];
static int n_warns;

static void on_warn(void *ctx, const char *msg)
{
	size_t used = strlen(warns);

	(void)ctx;
	n_warns++;
	/* every warning is one line */
	CHECK(strchr(msg, '\n') == NULL);
	snprintf(warns + used, sizeof warns - used, "%s\n", msg);
}

static conv_ctx fresh(void)
{
	err[0] = '\0';
	warns[0] = '\0';
	n_warns = 0;
	return (conv_ctx){A, on_warn, NULL, err, sizeof err, NULL};
}

static cJSON *parse(const char *json)
{
	cJSON *obj = cJSON_Parse(json);

	if (!obj) {
		fprintf(stderr, "test fixture is not JSON: %s\n", json);
		exit(99);
	}
	return obj;
}

/* Workload from JSON text, as line 3 of tests.jsonl. */
static int wl(const char *json, lbs_workload *out)
{
	conv_ctx c = fresh();
	cJSON *obj = parse(json);
	int rc;

	memset(out, 0xa5, sizeof *out);
	rc = conv_workload(&c, obj, "tests.jsonl:3", out);
	cJSON_Delete(obj);
	/* an error is one line and names where it happened */
	if (rc) {
		CHECK(strchr(err, '\n') == NULL);
		CHECK(strncmp(err, "tests.jsonl:3: ", 15) == 0);
	}
	return rc;
}

static int wk(const char *json, lbs_worker *out)
{
	conv_ctx c = fresh();
	cJSON *obj = parse(json);
	int rc;

	rc = conv_worker(&c, obj, "fleet.json: workers[0]", out);
	cJSON_Delete(obj);
	if (rc) {
		CHECK(strchr(err, '\n') == NULL);
		CHECK(strncmp(err, "fleet.json: workers[0]: ", 24) == 0);
	}
	return rc;
}

static int fl(const char *json, lbs_worker ***ws, uint32_t *n)
{
	conv_ctx c = fresh();

	return conv_fleet(&c, json, strlen(json), "fleet.json", ws, n);
}

static int oc(const char *json, lbs_outcome *out)
{
	conv_ctx c = fresh();
	cJSON *obj = parse(json);
	int rc = conv_outcome(&c, obj, "outcomes.jsonl:1", out);

	cJSON_Delete(obj);
	return rc;
}

static const lbs_device *dev_of(const lbs_worker *w, uint32_t cls)
{
	for (uint32_t i = 0; i < w->n_devices; i++)
		if (w->devices[i]->hw_class == cls)
			return w->devices[i];
	return NULL;
}

static int count_class(const lbs_worker *w, uint32_t cls)
{
	int n = 0;

	for (uint32_t i = 0; i < w->n_devices; i++)
		n += w->devices[i]->hw_class == cls;
	return n;
}

/* ===== Workloads ========================================================== */

static void test_seed_case(void)
{
	lbs_workload w;

	/* seed-behaviour §e, test_test_requirement_conversion */
	CHECK_INT(wl("{\"test_id\": \"test1\", \"test_type\": \"vision_classification\","
	             " \"minimum_memory\": 2, \"expected_duration\": 60, \"priority\": 3}",
	             &w), 0);
	CHECK_STR(w.id, "test1");
	CHECK_STR(w.test_type, "vision_classification");
	CHECK_INT(w.type, LBS_WL_VISION);
	CHECK(w.min_memory_bytes == 2 * GIB);
	CHECK_INT(w.priority, 3);
	CHECK_INT(w.struct_size, sizeof(lbs_workload));
	CHECK_INT(n_warns, 0);

	/* priority is copied, not defaulted */
	CHECK_INT(wl("{\"test_id\": \"t\", \"priority\": 1}", &w), 0);
	CHECK_INT(w.priority, 1);
	CHECK_INT(wl("{\"test_id\": \"t\", \"priority\": 5}", &w), 0);
	CHECK_INT(w.priority, 5);
	CHECK_INT(wl("{\"test_id\": \"t\", \"minimum_memory\": 0.25}", &w), 0);
	CHECK(w.min_memory_bytes == GIB / 4);
}

static void test_defaults(void)
{
	lbs_workload w;

	CHECK_INT(wl("{\"test_id\": \"t\"}", &w), 0);
	CHECK(w.min_memory_bytes == GIB / 2); /* the original's 0.5 GB */
	CHECK_NEAR(w.est_duration_s, 60, 0);
	CHECK_NEAR(w.compute_intensity, 0.5, 0);
	CHECK_NEAR(w.memory_intensity, 0.5 / 16, 1e-12);
	CHECK_NEAR(w.io_intensity, 0.5, 0);
	CHECK_NEAR(w.network_intensity, 0.5, 0);
	CHECK_NEAR(w.latency_sensitivity, 0.5, 0);
	CHECK_NEAR(w.throughput_sensitivity, 0.5, 0);
	CHECK_NEAR(w.energy_sensitivity, 0, 0);
	CHECK_NEAR(w.deadline_s, 0, 0);
	CHECK_INT(w.priority, 3);
	CHECK_INT(w.type, LBS_WL_MIXED);
	CHECK(w.test_type == NULL);
	CHECK(w.model_id == NULL);
	CHECK_INT(w.allocation, LBS_ALLOC_SINGLE);
	CHECK_INT(w.min_shards, 1);
	CHECK_INT(w.max_shards, 1);
	CHECK(w.required_backends == 0 && w.preferred_backends == 0);
	CHECK_INT(w.required_precisions, 0);
	CHECK_INT(w.required_features, 0);
	CHECK_INT(w.n_required_accels, 0);
	CHECK_INT(w.n_exclude, 0);
	CHECK_INT(w.preferred_class, 0);
	CHECK_INT(w.preferred_arch, 0);
	CHECK_INT(w.reserved0, 0);
	CHECK_INT(w.min_compute_units, 0);

	/* the original's intensity table */
	CHECK_INT(wl("{\"test_id\": \"t\", \"expected_duration\": 121}", &w), 0);
	CHECK_NEAR(w.compute_intensity, 0.8, 0);
	CHECK_INT(wl("{\"test_id\": \"t\", \"expected_duration\": 120}", &w), 0);
	CHECK_NEAR(w.compute_intensity, 0.5, 0);
	CHECK_INT(wl("{\"test_id\": \"t\", \"expected_duration\": 10}", &w), 0);
	CHECK_NEAR(w.compute_intensity, 0.5, 0);
	CHECK_INT(wl("{\"test_id\": \"t\", \"expected_duration\": 9.5}", &w), 0);
	CHECK_NEAR(w.compute_intensity, 0.3, 0);
	CHECK_NEAR(w.est_duration_s, 9.5, 0);
	CHECK_INT(wl("{\"test_id\": \"t\", \"minimum_memory\": 8}", &w), 0);
	CHECK_NEAR(w.memory_intensity, 0.5, 1e-12);
	CHECK_INT(wl("{\"test_id\": \"t\", \"minimum_memory\": 40}", &w), 0);
	CHECK_NEAR(w.memory_intensity, 1, 0);
}

static void test_backends(void)
{
	lbs_workload w, w2;

	/* a preference is not a requirement (the original made it one) */
	CHECK_INT(wl("{\"test_id\": \"t\", \"preferred_backend\": \"cuda\"}", &w), 0);
	CHECK(w.required_backends == 0);
	CHECK(w.preferred_backends == LBS_BACKEND_CUDA);

	CHECK_INT(wl("{\"test_id\": \"t\", \"required_backend\": \"cuda\"}", &w), 0);
	CHECK_INT(wl("{\"test_id\": \"t\", \"required_backend\": \"CUDA\"}", &w2), 0);
	CHECK(w.required_backends == LBS_BACKEND_CUDA);
	CHECK(w2.required_backends == w.required_backends);
	CHECK(w.preferred_backends == 0);

	/* "cpu", "gpu", "tpu" are requirements we can express */
	CHECK_INT(wl("{\"test_id\": \"t\", \"required_backend\": \"tpu\"}", &w), 0);
	CHECK(w.required_backends == LBS_BACKEND_TPU);

	/* outside the taxonomy: required by name (ABI 1.1), lower-cased, with
	 * a warning naming file, field and name; no OTHER bit, which nothing
	 * would meet */
	CHECK_INT(wl("{\"test_id\": \"t\", \"required_backend\": \"Foo\"}", &w), 0);
	CHECK(w.required_backends == 0);
	CHECK_INT(w.n_required_backend_names, 1);
	CHECK_STR(w.required_backend_names[0], "foo");
	CHECK_INT(n_warns, 1);
	CHECK_CONTAINS(warns, "tests.jsonl:3: field 'required_backend': backend "
	                      "'Foo' is not in the taxonomy, required by name");
	CHECK_INT(wl("{\"test_id\": \"t\", \"required_backend\": \"cuda\"}", &w), 0);
	CHECK_INT(w.n_required_backend_names, 0);
	CHECK(w.required_backend_names == NULL);

	/* an unknown preference is dropped, with a warning */
	CHECK_INT(wl("{\"test_id\": \"t\", \"preferred_backend\": \"foo\"}", &w), 0);
	CHECK(w.preferred_backends == 0);
	CHECK(w.required_backends == 0);
	CHECK_INT(n_warns, 1);
	CHECK_CONTAINS(warns, "field 'preferred_backend': unknown backend 'foo'");

	CHECK_INT(wl("{\"test_id\": \"t\", \"required_backend\": null,"
	             " \"preferred_backend\": \"\"}", &w), 0);
	CHECK(w.required_backends == 0 && w.preferred_backends == 0);

	/* required_software: a known backend is a requirement by bit, others
	 * by name, each once */
	CHECK_INT(wl("{\"test_id\": \"t\", \"required_backend\": \"jax\","
	             " \"required_software\": {\"cuda\": \"12.0\", \"LibFoo\": \"1.2\","
	             " \"JAX\": \"0.4\"}}", &w), 0);
	CHECK(w.required_backends == LBS_BACKEND_CUDA);
	CHECK_INT(w.n_required_backend_names, 2);
	CHECK_STR(w.required_backend_names[0], "jax");
	CHECK_STR(w.required_backend_names[1], "libfoo");
	/* the backend field's name is said; most software is no backend
	 * (numpy), and a warning on every test that needs it buried the
	 * typos: said only for one typo from a backend */
	CHECK_INT(n_warns, 1);
	CHECK_CONTAINS(warns, "field 'required_backend': backend 'jax' is not in the taxonomy");
	CHECK_INT(wl("{\"test_id\": \"t\", \"required_software\": {\"cudaa\": \"12.0\"}}", &w), 0);
	CHECK_INT(w.n_required_backend_names, 1);
	CHECK_STR(w.required_backend_names[0], "cudaa");
	CHECK_INT(n_warns, 1);
	CHECK_CONTAINS(warns, "field 'required_software.cudaa': required_software 'cudaa' is not "
	                      "in the taxonomy, required by name (one typo from 'cuda')");
	CHECK_INT(wl("{\"test_id\": \"t\", \"required_software\": {\"\": \"1\"}}",
	             &w), -1);
	CHECK_STR(err, "tests.jsonl:3: field 'required_software': has an empty "
	               "software name");
	CHECK_INT(wl("{\"test_id\": \"t\", \"required_software\": {\"cuda\": 12}}",
	             &w), -1);
	CHECK_CONTAINS(err, "field 'required_software.cuda': must be a string");
	CHECK_INT(wl("{\"test_id\": \"t\", \"required_software\": {\"LibFoo\": \"1\","
	             " \"cuda\": \"12\", \"LibFoo\": \"2\"}}", &w), -1);
	CHECK_STR(err, "tests.jsonl:3: field 'required_software.LibFoo': is given more than "
	               "once");
}

static void test_accelerators_and_excludes(void)
{
	lbs_workload w;

	CHECK_INT(wl("{\"test_id\": \"t\", \"required_accelerators\":"
	             " {\"TPU\": 1, \"gpu\": 0}}", &w), 0);
	CHECK_INT(w.n_required_accels, 1);
	CHECK_STR(w.required_accel_kinds[0], "tpu");
	CHECK_INT(w.required_accel_counts[0], 1);
	CHECK_STR(warns, "");
	/* a kind that is no device class is kept, matched by name, and said:
	 * a typo meets no worker */
	CHECK_INT(wl("{\"test_id\": \"t\", \"required_accelerators\": {\"gpuu\": 1, \"cuda\": 1,"
	             " \"FPGA\": 1}}", &w), 0);
	CHECK_INT(w.n_required_accels, 3);
	CHECK_STR(w.required_accel_kinds[0], "gpuu");
	CHECK_STR(warns, "tests.jsonl:3: field 'required_accelerators.gpuu': accelerator kind 'gpuu' "
	                 "is not a device class (cpu, gpu, tpu, npu, dsp, fpga, asic) or cuda, "
	                 "matched by name\n");

	CHECK_INT(wl("{\"test_id\": \"t\", \"required_accelerators\":"
	             " {\"gpu\": 1, \"GPU\": 2}}", &w), -1);
	CHECK_CONTAINS(err, "field 'required_accelerators.GPU'");
	CHECK_INT(wl("{\"test_id\": \"t\", \"required_accelerators\": {\"gpu\": 1.5}}",
	             &w), -1);
	CHECK_CONTAINS(err, "field 'required_accelerators.gpu': must be an integer");
	/* the original's TestRequirements copies the counts into the limit:
	 * the error names the field the user wrote */
	CHECK_INT(wl("{\"test_id\": \"t\", \"required_accelerators\": {\"gpu\": -1},"
	             " \"required_accelerator_limit\": {\"gpu\": -1}}", &w), -1);
	CHECK_CONTAINS(err, "field 'required_accelerators.gpu'");
	CHECK_INT(wl("{\"test_id\": \"t\", \"required_accelerators\": [\"gpu\"]}",
	             &w), -1);
	CHECK_CONTAINS(err, "field 'required_accelerators': must be an object or null, "
	                    "got an array");
	/* null is none, as for the other maps (it was "must be an object,
	 * got null", where null hardware_specs were taken) */
	CHECK_INT(wl("{\"test_id\": \"t\", \"required_accelerators\": null,"
	             " \"required_accelerator_limit\": null, \"required_software\": null}", &w), 0);
	CHECK_INT(w.n_required_accels, 0);
	CHECK_INT(w.n_required_backend_names, 0);

	CHECK_INT(wl("{\"test_id\": \"t\", \"exclude_workers\": [\"a_1\", \"b\"],"
	             " \"deadline\": 30}", &w), 0);
	CHECK_INT(w.n_exclude, 2);
	CHECK_STR(w.exclude_ids[0], "a_1");
	CHECK_STR(w.exclude_ids[1], "b");
	CHECK_NEAR(w.deadline_s, 30, 0);
	CHECK_INT(wl("{\"test_id\": \"t\", \"exclude_workers\": [\"a\", 3]}", &w), -1);
	CHECK_CONTAINS(err, "field 'exclude_workers[1]'");
}

static void test_custom_properties(void)
{
	lbs_workload w;

	CHECK_INT(wl("{\"test_id\": \"s\", \"custom_properties\": {\"is_shardable\": true,"
	             " \"allocation_strategy\": \"sharded\", \"min_shards\": 2,"
	             " \"max_shards\": 3}}", &w), 0);
	CHECK_INT(w.allocation, LBS_ALLOC_SHARDED);
	CHECK_INT(w.min_shards, 2);
	CHECK_INT(w.max_shards, 3);
	CHECK_INT(n_warns, 0);

	CHECK_INT(wl("{\"test_id\": \"s\", \"custom_properties\": {"
	             " \"allocation_strategy\": \"REPLICATED\", \"min_shards\": 2}}",
	             &w), 0);
	CHECK_INT(w.allocation, LBS_ALLOC_REPLICATED);
	CHECK_INT(w.min_shards, 2);
	CHECK_INT(w.max_shards, 2);

	/* sharded without is_shardable: single, and the user is told */
	CHECK_INT(wl("{\"test_id\": \"s\", \"custom_properties\": {"
	             " \"allocation_strategy\": \"sharded\", \"max_shards\": 3}}",
	             &w), 0);
	CHECK_INT(w.allocation, LBS_ALLOC_SINGLE);
	CHECK_INT(w.min_shards, 1);
	CHECK_INT(w.max_shards, 1);
	CHECK_INT(n_warns, 1);
	CHECK_CONTAINS(warns, "without is_shardable");

	CHECK_INT(wl("{\"test_id\": \"s\", \"custom_properties\": {"
	             " \"allocation_strategy\": \"scattered\"}}", &w), -1);
	CHECK_CONTAINS(err, "tests.jsonl:3: field 'custom_properties.allocation_strategy': ");
	CHECK_CONTAINS(err, "scattered");
	CHECK_INT(wl("{\"test_id\": \"s\", \"custom_properties\": {"
	             " \"min_shards\": 3, \"max_shards\": 2,"
	             " \"allocation_strategy\": \"replicated\"}}", &w), -1);
	CHECK_CONTAINS(err, "field 'custom_properties.max_shards': must be >= min_shards");
	CHECK_INT(wl("{\"test_id\": \"s\", \"custom_properties\": {\"min_shards\": 0}}",
	             &w), -1);
	CHECK_CONTAINS(err, "field 'custom_properties.min_shards': must be an integer in 1..1024, got 0");

	CHECK_INT(wl("{\"test_id\": \"m\", \"custom_properties\": {"
	             " \"required_precisions\": [\"int8\"],"
	             " \"required_features\": [\"tensor_cores\", \"warp\"],"
	             " \"preferred_class\": \"gpu\", \"preferred_architecture\": \"aarch64\","
	             " \"preferred_vendors\": [\"nvidia\", \"acme\"],"
	             " \"preferred_backends\": [\"onnx\"],"
	             " \"metrics\": {\"COMPUTE_INTENSITY\": 0.9, \"energy_sensitivity\": 1},"
	             " \"deadline\": 12.5, \"note\": \"free-form\"}}", &w), 0);
	CHECK_INT(w.required_precisions, LBS_PREC_INT8);
	CHECK_INT(w.required_features, LBS_FEAT_TENSOR_CORES | LBS_FEAT_OTHER);
	CHECK_INT(w.preferred_class, LBS_CLASS_GPU);
	CHECK_INT(w.preferred_arch, LBS_ARCH_ARM64);
	CHECK(w.preferred_vendors == (UINT64_C(1) << LBS_VENDOR_NVIDIA));
	CHECK(w.preferred_backends == LBS_BACKEND_ONNX);
	CHECK_NEAR(w.compute_intensity, 0.9, 0);
	CHECK_NEAR(w.energy_sensitivity, 1, 0);
	CHECK_NEAR(w.deadline_s, 12.5, 0);
	CHECK_INT(n_warns, 2); /* 'warp' and 'acme'; 'note' is free-form */
	CHECK_CONTAINS(warns, "field 'custom_properties.required_features[1]': "
	                      "unknown feature 'warp', treated as OTHER");
	CHECK_CONTAINS(warns, "'acme'");

	CHECK_INT(wl("{\"test_id\": \"m\", \"custom_properties\": {"
	             " \"metrics\": {\"wattage\": 0.5}}}", &w), -1);
	CHECK_CONTAINS(err, "field 'custom_properties.metrics.wattage': unknown metric");
	CHECK_INT(wl("{\"test_id\": \"m\", \"custom_properties\": {"
	             " \"metrics\": {\"io_intensity\": 1.5}}}", &w), -1);
	CHECK_CONTAINS(err, "field 'custom_properties.metrics.io_intensity': must be "
	                    "a finite number in 0..1, got 1.5");
	CHECK_INT(wl("{\"test_id\": \"m\", \"deadline\": 5,"
	             " \"custom_properties\": {\"deadline\": 6}}", &w), -1);
	CHECK_CONTAINS(err, "deadline");

	/* explicit workload_type overrides the substring rule */
	CHECK_INT(wl("{\"test_id\": \"t\", \"test_type\": \"vision_x\","
	             " \"workload_type\": \"training\"}", &w), 0);
	CHECK_INT(w.type, LBS_WL_TRAINING);
	CHECK_STR(w.test_type, "vision_x");
	CHECK_INT(wl("{\"test_id\": \"t\", \"workload_type\": \"HOLOGRAPHIC\"}", &w), -1);
	CHECK_CONTAINS(err, "field 'workload_type': unknown workload type");
	/* an empty test_type is no type: refused, not MIXED without a word */
	CHECK_INT(wl("{\"test_id\": \"t\", \"test_type\": \"\"}", &w), -1);
	CHECK_STR(err, "tests.jsonl:3: field 'test_type': must be a non-empty string or null, "
	               "got \"\"");
}

static void test_workload_errors(void)
{
	lbs_workload w;

	/* the brief's own example, verbatim */
	CHECK_INT(wl("{\"test_id\": \"t\", \"minimum_memory\": -2}", &w), -1);
	CHECK_STR(err, "tests.jsonl:3: field 'minimum_memory': must be a finite "
	               "number in 0..1000000 GB, got -2");
	CHECK_INT(wl("{\"test_id\": \"t\", \"minimum_memory\": \"2\"}", &w), -1);
	CHECK_CONTAINS(err, "field 'minimum_memory': must be a finite number");
	CHECK_CONTAINS(err, "got \"2\"");
	/* digits no double holds: "inf" is in no file */
	CHECK_INT(wl("{\"test_id\": \"t\", \"minimum_memory\": 1e999}", &w), -1);
	CHECK_STR(err, "tests.jsonl:3: field 'minimum_memory': must be a finite number in "
	               "0..1000000 GB, got a number beyond +-1.8e308");
	CHECK_INT(wl("{\"test_id\": \"t\", \"minimum_memory\": 1e300}", &w), -1);
	CHECK_CONTAINS(err, "field 'minimum_memory'");
	CHECK_INT(wl("{\"test_id\": \"t\", \"expected_duration\": -1e999}", &w), -1);
	CHECK_CONTAINS(err, "field 'expected_duration'");
	CHECK_INT(wl("{\"test_id\": \"t\", \"expected_duration\": null}", &w), -1);
	CHECK_CONTAINS(err, "field 'expected_duration'");
	CHECK_CONTAINS(err, "got null");

	/* NaN cannot be written in JSON, but a host can build one */
	{
		conv_ctx c = fresh();
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "test_id", "t");
		cJSON_AddNumberToObject(o, "expected_duration", NAN);
		CHECK_INT(conv_workload(&c, o, "tests.jsonl:3", &w), -1);
		CHECK_CONTAINS(err, "field 'expected_duration'");
		CHECK_CONTAINS(err, "got nan");
		cJSON_Delete(o);
	}

	CHECK_INT(wl("{\"test_id\": \"t\", \"priority\": 0}", &w), -1);
	CHECK_STR(err, "tests.jsonl:3: field 'priority': must be an integer in 1..5, got 0");
	CHECK_INT(wl("{\"test_id\": \"t\", \"priority\": 6}", &w), -1);
	CHECK_CONTAINS(err, "field 'priority'");
	CHECK_CONTAINS(err, "got 6");
	CHECK_INT(wl("{\"test_id\": \"t\", \"priority\": 2.5}", &w), -1);
	CHECK_CONTAINS(err, "field 'priority': must be an integer");
	CHECK_INT(wl("{\"test_id\": \"t\", \"priority\": true}", &w), -1);
	CHECK_CONTAINS(err, "got true");

	CHECK_INT(wl("{\"test_type\": \"vision\"}", &w), -1);
	CHECK_CONTAINS(err, "field 'test_id': is required");
	CHECK_INT(wl("{\"test_id\": \"\"}", &w), -1);
	CHECK_CONTAINS(err, "field 'test_id': must be a non-empty string");
	CHECK_INT(wl("{\"test_id\": 7}", &w), -1);
	CHECK_CONTAINS(err, "field 'test_id'");
	CHECK_INT(wl("[1, 2]", &w), -1);
	CHECK_CONTAINS(err, "must be a JSON object");
	CHECK_INT(wl("{\"test_id\": \"t\", \"test_id\": \"u\"}", &w), -1);
	CHECK_CONTAINS(err, "field 'test_id': is given more than once");
	CHECK_INT(wl("{\"test_id\": \"t\", \"timeout\": \"soon\"}", &w), -1);
	CHECK_CONTAINS(err, "field 'timeout'");
	CHECK_INT(wl("{\"test_id\": \"t\", \"custom_properties\": 3}", &w), -1);
	CHECK_CONTAINS(err, "field 'custom_properties': must be an object");

	/* the original's ignored fields are accepted without a word */
	CHECK_INT(wl("{\"test_id\": \"t\", \"timeout\": 3600, \"retries\": 3,"
	             " \"concurrency_key\": null, \"required_memory_limit\": 1000,"
	             " \"required_accelerator_limit\": {\"gpu\": 2},"
	             " \"model_family\": \"bert\", \"model_id\": \"bert-base\"}", &w), 0);
	CHECK_INT(n_warns, 0);
	CHECK_STR(w.model_id, "bert-base");

	/* an unknown field is not silently dropped */
	CHECK_INT(wl("{\"test_id\": \"t\", \"prority\": 1}", &w), 0);
	CHECK_INT(n_warns, 1);
	CHECK_CONTAINS(warns, "tests.jsonl:3: unknown field 'prority' ignored");
	CHECK_INT(w.priority, 3);

	/* hostile text in a message stays on one line */
	CHECK_INT(wl("{\"test_id\": \"t\", \"x\\ny\": 1, \"priority\": \"a\\nb\"}", &w), -1);
	CHECK(strchr(err, '\n') == NULL);
	CHECK(strchr(warns, '\n') == warns + strlen(warns) - 1);
}

/* ===== Workers ============================================================ */

static void test_worker_basics(void)
{
	lbs_worker w;
	const lbs_device *cpu, *gpu;

	/* the seed fixture's worker2: CPU plus ["cuda","gpu"] */
	CHECK_INT(wk("{\"worker_id\": \"worker_2\", \"supported_backends\": [\"cpu\","
	             " \"cuda\", \"gpu\"], \"available_accelerators\": {\"gpu\": 1},"
	             " \"available_memory\": 16, \"cpu_cores\": 8}", &w), 0);
	CHECK_STR(w.id, "worker_2"); /* bug F2: kept whole */
	CHECK_INT(w.struct_size, sizeof(lbs_worker));
	CHECK_INT(w.n_devices, 2);
	CHECK_INT(count_class(&w, LBS_CLASS_GPU), 1); /* not one per string */
	cpu = dev_of(&w, LBS_CLASS_CPU);
	gpu = dev_of(&w, LBS_CLASS_GPU);
	CHECK(cpu && gpu);
	if (cpu && gpu) {
		CHECK(w.devices[0] == cpu); /* CPU first, as the original */
		CHECK_INT(cpu->struct_size, sizeof(lbs_device));
		CHECK_INT(cpu->compute_units, 8);
		CHECK(cpu->mem_available_bytes == 16 * GIB);
		CHECK(cpu->backends & LBS_BACKEND_CPU);
		CHECK(cpu->backends & LBS_BACKEND_PYTORCH); /* assumed frameworks */
		CHECK(!(cpu->backends & LBS_BACKEND_CUDA));
		CHECK_INT(cpu->features & LBS_FEAT_SIMD, LBS_FEAT_SIMD);
		CHECK_STR(cpu->model_name, "CPU-8cores");
		CHECK_INT(gpu->vendor, LBS_VENDOR_NVIDIA);
		CHECK_INT(gpu->arch, LBS_ARCH_GPU_CUDA);
		CHECK(gpu->backends & LBS_BACKEND_CUDA);
		CHECK(gpu->backends & LBS_BACKEND_GPU);
		CHECK(gpu->backends & LBS_BACKEND_PYTORCH);
		CHECK(gpu->features & LBS_FEAT_TENSOR_CORES);
		CHECK(gpu->precisions & LBS_PREC_BF16);
		CHECK_INT(gpu->compute_units, 80);
		CHECK_INT(gpu->clock_mhz, 1500);
		CHECK_INT(gpu->tdp_watts, 250);
		CHECK_STR(gpu->model_name, "GPU-cuda");
	}
	CHECK_INT(w.n_accels, 1);
	CHECK_STR(w.accel_kinds[0], "gpu");
	CHECK_INT(w.accel_counts[0], 1);
	CHECK_NEAR(w.performance_level, 1.0, 0);
	CHECK_INT(w.thermal_state, LBS_THERMAL_NORMAL);
	CHECK_INT(w.capacity, 1); /* one GPU: one test at a time */
	CHECK(w.pending_work_s == LBS_WORK_UNKNOWN);
	CHECK(w.accel_reserved == NULL);
	CHECK_INT(n_warns, 0);

	/* "CUDA" and "cuda" are the same backend */
	CHECK_INT(wk("{\"worker_id\": \"w\", \"supported_backends\": [\"CUDA\"]}", &w), 0);
	gpu = dev_of(&w, LBS_CLASS_GPU);
	CHECK(gpu && (gpu->backends & LBS_BACKEND_CUDA));
}

/* A hardware_specs key the converter does not know is said, as any
 * other record's is: "gpu_memroy_gb" was dropped without a word, and the
 * 8 GB card stood for the host's 256 GB, taking a 40 GB CUDA test.  The
 * keys lbsched-agent writes for people and other tools stay unsaid. */
static void test_worker_spec_keys(void)
{
	lbs_worker w;
	const lbs_device *gpu;

	CHECK_INT(wk("{\"worker_id\": \"g1\", \"supported_backends\": [\"cuda\"],"
	             " \"has_gpu\": true, \"available_memory\": 256, \"cpu_cores\": 8,"
	             " \"hardware_specs\": {\"gpu_memroy_gb\": 8}}", &w), 0);
	CHECK_INT(n_warns, 1);
	CHECK_STR(warns, "fleet.json: workers[0]: unknown field 'hardware_specs.gpu_memroy_gb' "
	                 "ignored\n");
	/* spelt right, the card has its own memory */
	CHECK_INT(wk("{\"worker_id\": \"g1\", \"supported_backends\": [\"cuda\"],"
	             " \"has_gpu\": true, \"available_memory\": 256, \"cpu_cores\": 8,"
	             " \"hardware_specs\": {\"gpu_memory_gb\": 8}}", &w), 0);
	CHECK_INT(n_warns, 0);
	gpu = dev_of(&w, LBS_CLASS_GPU);
	CHECK(gpu && gpu->mem_total_bytes == 8 * GIB);

	/* what lbsched-agent detect writes (tests/agent), every key of it */
	CHECK_INT(wk("{\"worker_id\": \"xeon\", \"supported_backends\": [\"cpu\", \"cuda\"],"
	             " \"has_gpu\": true, \"available_memory\": 377.6, \"cpu_cores\": 64,"
	             " \"hardware_specs\": {\"cpu_arch\": \"x86_64\", \"cpu_vendor\": \"intel\","
	             " \"cpu_model\": \"Intel(R) Xeon(R) Platinum 8358\", \"cpu_clock_mhz\": 3400,"
	             " \"cpu_features\": [\"avx\", \"avx2\", \"avx512\", \"smt\"],"
	             " \"cpu_isa\": [\"avx512_vnni\", \"amx_tile\"], \"total_memory_gb\": 377.6,"
	             " \"total_memory_kb\": 395939840, \"cpu_sockets\": 2,"
	             " \"numa_nodes\": [{\"node\": 0, \"memory_gb\": 188.8}],"
	             " \"cpu_caches\": [{\"level\": 3, \"type\": \"unified\", \"size_kb\": 49152,"
	             " \"count\": 2}],"
	             " \"pci_devices\": [{\"address\": \"0000:17:00.0\", \"vendor_id\": \"0x10de\","
	             " \"device_id\": \"0x20b0\", \"class_id\": \"0x0302\"}],"
	             " \"pci_devices_total\": 1, \"gpu_vendor\": \"nvidia\","
	             " \"gpu_name\": \"NVIDIA A100\", \"gpu_memory_gb\": 40,"
	             " \"gpu_compute_units\": 108, \"gpu_clock_mhz\": 1410,"
	             " \"gpu_tensor_cores\": true, \"gpu_tdp_watts\": 400,"
	             " \"gpus\": [{\"vendor\": \"nvidia\", \"name\": \"NVIDIA A100\","
	             " \"source\": \"nvml\", \"memory_gb\": 40}], \"npu_vendor\": \"intel\"}}",
	             &w), 0);
	CHECK_INT(n_warns, 0);
	CHECK_STR(warns, "");

	/* a known key given twice is still refused, an unknown one too */
	CHECK_INT(wk("{\"worker_id\": \"g1\", \"hardware_specs\": {\"cpu_model\": \"a\","
	             " \"cpu_model\": \"b\"}}", &w), -1);
	CHECK_STR(err, "fleet.json: workers[0]: field 'hardware_specs.cpu_model': is given "
	               "more than once");
	/* with "devices" the object is not read, which is said once, not
	 * again for each of its keys */
	CHECK_INT(wk("{\"worker_id\": \"d\", \"hardware_specs\": {\"gpu_memroy_gb\": 8},"
	             " \"devices\": [{\"class\": \"cpu\", \"memory_gb\": 8, \"compute_units\": 2}]}", &w), 0);
	CHECK_INT(n_warns, 1);
	CHECK_CONTAINS(warns, "field 'hardware_specs': not read, since \"devices\" describes");
	/* a null "devices" describes nothing: the specs are read, and said */
	CHECK_INT(wk("{\"worker_id\": \"d\", \"cpu_cores\": 2, \"available_memory\": 8, \"devices\": null,"
	             " \"hardware_specs\": {\"cpu_clok_mhz\": 3000}}", &w), 0);
	CHECK_INT(n_warns, 1);
	CHECK_CONTAINS(warns, "unknown field 'hardware_specs.cpu_clok_mhz' ignored");
	/* the original example's descriptive sections: 7 warnings a worker
	 * were said of its own records (19 for its fleet of four); taken, not
	 * read, as the original reads none of hardware_specs */
	CHECK_INT(wk("{\"worker_id\": \"e\", \"cpu_cores\": 8, \"available_memory\": 28,"
	             " \"supported_backends\": [\"cpu\", \"cuda\"],"
	             " \"available_accelerators\": {\"gpu\": 1}, \"hardware_specs\": {"
	             " \"cpu\": {\"model\": \"Intel Core i7\", \"cores\": 8, \"threads\": 16},"
	             " \"memory\": {\"total_gb\": 32, \"type\": \"DDR4\"},"
	             " \"os\": {\"name\": \"Linux\", \"version\": \"Ubuntu 22.04\"},"
	             " \"gpu\": {\"model\": \"NVIDIA RTX 3080\", \"memory\": \"12GB\","
	             "  \"cuda_cores\": 8704, \"tensor_cores\": 272},"
	             " \"tpu\": {\"cores\": 8}, \"browser\": {\"name\": \"Chrome\"},"
	             " \"mobile\": {\"chipset\": \"Snapdragon\"}}}", &w), 0);
	CHECK_INT(n_warns, 0);
	/* ... while a key beside them is still a typo */
	CHECK_INT(wk("{\"worker_id\": \"e\", \"cpu_cores\": 8, \"available_memory\": 28,"
	             " \"hardware_specs\": {\"os\": {\"name\": \"Linux\"}, \"gpuu\": {}}}", &w), 0);
	CHECK_INT(n_warns, 1);
	CHECK_CONTAINS(warns, "unknown field 'hardware_specs.gpuu' ignored");
}

static void test_worker_f3_browser(void)
{
	lbs_worker w;
	const lbs_device *b;

	/* bug F3: "webgpu" contains "gpu", and the original made it a CUDA GPU */
	CHECK_INT(wk("{\"worker_id\": \"browser_chrome_1\", \"supported_backends\":"
	             " [\"webgpu\", \"webnn\"], \"has_webgpu\": true, \"has_webnn\": true,"
	             " \"available_memory\": 8, \"cpu_cores\": 4}", &w), 0);
	CHECK_STR(w.id, "browser_chrome_1");
	CHECK_INT(count_class(&w, LBS_CLASS_GPU), 0);
	CHECK_INT(count_class(&w, LBS_CLASS_HYBRID), 1);
	for (uint32_t i = 0; i < w.n_devices; i++) {
		CHECK(!(w.devices[i]->backends & (LBS_BACKEND_CUDA | LBS_BACKEND_GPU)));
		CHECK(w.devices[i]->arch != LBS_ARCH_GPU_CUDA);
		CHECK(w.devices[i]->vendor != LBS_VENDOR_NVIDIA);
	}
	b = dev_of(&w, LBS_CLASS_HYBRID);
	CHECK(b != NULL);
	if (b) {
		CHECK_INT(b->arch, LBS_ARCH_GPU_WEBGPU);
		CHECK(b->backends == (LBS_BACKEND_WEBGPU | LBS_BACKEND_WEBNN));
		CHECK(b->mem_total_bytes == 2 * GIB);
		CHECK_INT(b->compute_units, 2);
		CHECK_STR(b->model_name, "Browser-webgpu");
	}

	/* has_webgpu alone, no cores: only the browser device */
	CHECK_INT(wk("{\"worker_id\": \"b\", \"has_webgpu\": true, \"available_memory\": 1}",
	             &w), 0);
	CHECK_INT(w.n_devices, 1);
	CHECK_INT(w.devices[0]->hw_class, LBS_CLASS_HYBRID);
	CHECK(w.devices[0]->mem_total_bytes == GIB);
}

static void test_worker_accelerators(void)
{
	lbs_worker w;
	const lbs_device *d;

	CHECK_INT(wk("{\"worker_id\": \"w\", \"available_memory\": 8, \"available_accelerators\":"
	             " {\"gpuu\": 1, \"tpu\": 0}}", &w), 0);
	CHECK_STR(warns, "fleet.json: workers[0]: field 'available_accelerators.gpuu': accelerator "
	                 "kind 'gpuu' is not a device class (cpu, gpu, tpu, npu, dsp, fpga, asic) "
	                 "or cuda, matched by name\n");
	CHECK_INT(w.n_accels, 1);
	CHECK_STR(w.accel_kinds[0], "gpuu");
	CHECK_INT(wk("{\"worker_id\": \"w\", \"available_memory\": 8, \"available_accelerators\":"
	             " null}", &w), 0);
	CHECK_INT(w.n_accels, 0);

	/* an older GPU that says it has no tensor cores, four of them */
	CHECK_INT(wk("{\"worker_id\": \"gpu_v100_2\", \"supported_backends\": [\"cuda\","
	             " \"pytorch\"], \"available_accelerators\": {\"GPU\": 4},"
	             " \"cpu_cores\": 16, \"available_memory\": 64, \"hardware_specs\": {"
	             " \"gpu_tensor_cores\": false, \"gpu_memory_gb\": 16,"
	             " \"gpu_compute_units\": 60, \"cpu_arch\": \"x86_64\","
	             " \"cpu_vendor\": \"intel\", \"cpu_features\": [\"avx2\", \"avx512\"]}}",
	             &w), 0);
	d = dev_of(&w, LBS_CLASS_GPU);
	CHECK(d != NULL);
	if (d) {
		CHECK(!(d->features & LBS_FEAT_TENSOR_CORES));
		CHECK(!(d->precisions & LBS_PREC_BF16));
		CHECK_INT(d->compute_units, 240);
		CHECK(d->mem_total_bytes == 64 * GIB);
		CHECK_INT(d->tdp_watts, 1000);
		/* a listed framework replaces the assumed ones */
		CHECK(d->backends & LBS_BACKEND_PYTORCH);
		CHECK(!(d->backends & LBS_BACKEND_TENSORFLOW));
	}
	d = dev_of(&w, LBS_CLASS_CPU);
	CHECK(d != NULL);
	if (d) {
		CHECK_INT(d->arch, LBS_ARCH_X86_64);
		CHECK_INT(d->vendor, LBS_VENDOR_INTEL);
		CHECK_INT(d->features, LBS_FEAT_SIMD | LBS_FEAT_AVX2 | LBS_FEAT_AVX512);
	}
	CHECK_STR(w.accel_kinds[0], "gpu");
	CHECK_INT(w.accel_counts[0], 4);

	/* a TPU host */
	CHECK_INT(wk("{\"worker_id\": \"tpu_v4_1\", \"supported_backends\": [\"tpu\","
	             " \"tensorflow\"], \"available_accelerators\": {\"tpu\": 4},"
	             " \"cpu_cores\": 32, \"available_memory\": 128}", &w), 0);
	d = dev_of(&w, LBS_CLASS_TPU);
	CHECK(d != NULL);
	if (d) {
		CHECK_INT(d->vendor, LBS_VENDOR_GOOGLE);
		CHECK_INT(d->arch, LBS_ARCH_TPU);
		CHECK(d->backends & LBS_BACKEND_TPU);
		CHECK(d->precisions & LBS_PREC_BF16);
		CHECK_INT(d->compute_units, 32);
	}
	CHECK_INT(count_class(&w, LBS_CLASS_GPU), 0);

	/* a phone with a Qualcomm NPU */
	CHECK_INT(wk("{\"worker_id\": \"pixel\", \"supported_backends\": [\"qnn\","
	             " \"tflite\"], \"available_memory\": 6}", &w), 0);
	d = dev_of(&w, LBS_CLASS_NPU);
	CHECK(d != NULL);
	if (d) {
		CHECK_INT(d->vendor, LBS_VENDOR_QUALCOMM);
		CHECK_INT(d->arch, LBS_ARCH_NPU_QUALCOMM);
		CHECK(d->backends & LBS_BACKEND_QNN);
		CHECK(d->precisions & LBS_PREC_INT8);
		CHECK_STR(d->model_name, "NPU-qnn");
	}
	CHECK_INT(count_class(&w, LBS_CLASS_CPU), 0); /* no cores given */

	/* a backend outside the taxonomy is offered by name (ABI 1.1), and
	 * said, as a test's is required by name; its bit is OTHER */
	CHECK_INT(wk("{\"worker_id\": \"w\", \"supported_backends\": [\"cpu\", \"Foo\"],"
	             " \"cpu_cores\": 2, \"available_memory\": 8}", &w), 0);
	CHECK_STR(warns, "fleet.json: workers[0]: field 'supported_backends[1]': backend 'Foo' is "
	                 "not in the taxonomy, offered by name\n");
	CHECK(w.devices[0]->backends & LBS_BACKEND_OTHER);
	CHECK_INT(w.devices[0]->n_backend_names, 1);
	CHECK_STR(w.devices[0]->backend_names[0], "foo");
}

/* ABI 1.1 backend_names: supported backends outside the taxonomy and
 * software names, on every device of the worker. */
static void test_worker_backend_names(void)
{
	lbs_worker w;

	CHECK_INT(wk("{\"worker_id\": \"w\", \"supported_backends\": [\"cuda\", \"JAX\"],"
	             " \"cpu_cores\": 4, \"available_memory\": 8, \"software_versions\": {\"Triton\": \"2.1\","
	             " \"pytorch\": \"2.2\", \"jax\": \"0.4\"}}", &w), 0);
	/* software outside the taxonomy is most software: not said */
	CHECK_STR(warns, "fleet.json: workers[0]: field 'supported_backends[1]': backend 'JAX' is "
	                 "not in the taxonomy, offered by name\n");
	CHECK_INT(w.n_devices, 2); /* CPU and GPU */
	for (uint32_t i = 0; i < w.n_devices; i++) {
		const lbs_device *d = w.devices[i];

		/* known software (pytorch) is a bit, not a name */
		CHECK_INT(d->n_backend_names, 2);
		if (d->n_backend_names == 2) {
			CHECK_STR(d->backend_names[0], "triton");
			CHECK_STR(d->backend_names[1], "jax");
		}
	}
	/* nothing outside the taxonomy: no names */
	CHECK_INT(wk("{\"worker_id\": \"w\", \"supported_backends\": [\"cuda\"],"
	             " \"software_versions\": {\"cuda\": \"12\"}}", &w), 0);
	CHECK(w.devices[0]->backend_names == NULL);
	CHECK_INT(w.devices[0]->n_backend_names, 0);
	/* explicit devices: the software on each, a device's own unknown
	 * backends on that one only */
	CHECK_INT(wk("{\"worker_id\": \"w\", \"software_versions\": {\"jax\": \"1\"},"
	             " \"devices\": [{\"class\": \"gpu\", \"backends\": [\"cuda\", \"XLA\"],"
	             " \"memory_gb\": 8}, {\"class\": \"cpu\", \"backends\": [\"cpu\"],"
	             " \"memory_gb\": 8}]}", &w), 0);
	CHECK_INT(w.devices[0]->n_backend_names, 2);
	CHECK_STR(w.devices[0]->backend_names[0], "jax");
	CHECK_STR(w.devices[0]->backend_names[1], "xla");
	CHECK_INT(w.devices[1]->n_backend_names, 1);
	CHECK_STR(w.devices[1]->backend_names[0], "jax");
	CHECK_CONTAINS(warns, "fleet.json: workers[0]: field 'devices[0].backends[1]': backend "
	                      "'XLA' is not in the taxonomy, offered by name\n");
	/* a typo is kept by name all the same, and said with the name it
	 * is one typo from; in software_versions only a typo is said */
	CHECK_INT(wk("{\"worker_id\": \"w\", \"supported_backends\": [\"cpu\", \"tensorflowx\"],"
	             " \"software_versions\": {\"cudaa\": \"12\", \"nvidia_driver\": \"550\","
	             " \"Triton\": \"2\", \"pytroch\": \"2\", \"mpi\": \"4\"},"
	             " \"available_memory\": 8}", &w), 0);
	CHECK_STR(warns, "fleet.json: workers[0]: field 'software_versions.cudaa': software 'cudaa' "
	                 "is not in the taxonomy, offered by name (one typo from 'cuda')\n"
	                 "fleet.json: workers[0]: field 'software_versions.pytroch': software "
	                 "'pytroch' is not in the taxonomy, offered by name (one typo from "
	                 "'pytorch')\n"
	                 "fleet.json: workers[0]: field 'supported_backends[1]': backend "
	                 "'tensorflowx' is not in the taxonomy, offered by name (one typo from "
	                 "'tensorflow')\n");
	CHECK_INT(wk("{\"worker_id\": \"w\", \"devices\": [{\"class\": \"gpu\", \"backends\": "
	             "[\"cudaa\"], \"memory_gb\": 8, \"compute_units\": 80}]}", &w), 0);
	CHECK_STR(warns, "fleet.json: workers[0]: field 'devices[0].backends[0]': backend 'cudaa' "
	                 "is not in the taxonomy, offered by name (one typo from 'cuda')\n");
	/* names of the taxonomy: nothing to say */
	CHECK_INT(wk("{\"worker_id\": \"w\", \"supported_backends\": [\"CUDA\", \"torch\"],"
	             " \"software_versions\": {\"tensorrt\": \"8\", \"onnxruntime\": \"1\"},"
	             " \"available_memory\": 8}",
	             &w), 0);
	CHECK_STR(warns, "");
	CHECK_INT(wk("{\"worker_id\": \"w\", \"devices\": [{\"class\": \"gpu\", \"backends\": "
	             "[\"cuda\", \"trt\"], \"memory_gb\": 8, \"compute_units\": 80}]}", &w), 0);
	CHECK_STR(warns, "");
	/* known software is a backend of the devices it runs on: TensorRT
	 * and OpenVINO installed meet a test's required_software (a bit);
	 * CUDA on a host without a GPU makes no GPU and goes nowhere */
	CHECK_INT(wk("{\"worker_id\": \"w\", \"supported_backends\": [\"cpu\", \"cuda\"],"
	             " \"software_versions\": {\"tensorrt\": \"8.6\", \"openvino\": \"1\"}}",
	             &w), 0);
	CHECK_INT(w.n_devices, 2);
	CHECK_INT(w.devices[0]->hw_class, LBS_CLASS_CPU);
	CHECK(!(w.devices[0]->backends & LBS_BACKEND_TENSORRT));
	CHECK(w.devices[0]->backends & LBS_BACKEND_OPENVINO);
	CHECK_INT(w.devices[1]->hw_class, LBS_CLASS_GPU);
	CHECK(w.devices[1]->backends & LBS_BACKEND_TENSORRT);
	CHECK(w.devices[1]->backends & LBS_BACKEND_OPENVINO);
	/* a worker that names a framework runs those it names: torch alone
	 * is no TensorFlow host (a required_software tensorflow went there);
	 * one that names none runs the original CPU profile's three */
	CHECK_INT(wk("{\"worker_id\": \"w\", \"cpu_cores\": 8,"
	             " \"software_versions\": {\"torch\": \"2.1\"}}", &w), 0);
	CHECK_INT(w.n_devices, 1);
	CHECK(w.devices[0]->backends & LBS_BACKEND_PYTORCH);
	CHECK(!(w.devices[0]->backends & LBS_BACKEND_TENSORFLOW));
	CHECK(!(w.devices[0]->backends & LBS_BACKEND_ONNX));
	CHECK_INT(wk("{\"worker_id\": \"w\", \"cpu_cores\": 8, \"software_versions\": {}}",
	             &w), 0);
	CHECK((w.devices[0]->backends & (LBS_BACKEND_PYTORCH | LBS_BACKEND_TENSORFLOW |
	                                 LBS_BACKEND_ONNX)) ==
	      (LBS_BACKEND_PYTORCH | LBS_BACKEND_TENSORFLOW | LBS_BACKEND_ONNX));
	CHECK_INT(wk("{\"worker_id\": \"w\", \"cpu_cores\": 8,"
	             " \"software_versions\": {\"cuda\": \"12\"}}", &w), 0);
	CHECK_INT(w.n_devices, 1);
	CHECK(!(w.devices[0]->backends & LBS_BACKEND_CUDA));
	/* so do its TPU and NPU (they ran TensorFlow and ONNX whatever the
	 * worker named: a test that required TensorFlow went to a torch-only
	 * TPU host); naming none, the original's profiles */
	{
		static const struct {
			const char *json;
			uint32_t hw_class;
			uint64_t has, lacks;
		} acc[] = {
			{"{\"worker_id\": \"t\", \"supported_backends\": [\"tpu\", \"pytorch\"],"
			 " \"software_versions\": {\"torch\": \"2.1\"}, \"cpu_cores\": 8,"
			 " \"available_accelerators\": {\"tpu\": 4}}",
			 LBS_CLASS_TPU, LBS_BACKEND_PYTORCH, LBS_BACKEND_TENSORFLOW | LBS_BACKEND_ONNX},
			{"{\"worker_id\": \"t\", \"supported_backends\": [\"tpu\"], \"cpu_cores\": 8}",
			 LBS_CLASS_TPU, LBS_BACKEND_TENSORFLOW | LBS_BACKEND_ONNX, LBS_BACKEND_PYTORCH},
			{"{\"worker_id\": \"n\", \"supported_backends\": [\"qnn\", \"tflite\"],"
			 " \"cpu_cores\": 8, \"available_accelerators\": {\"npu\": 1}}",
			 LBS_CLASS_NPU, LBS_BACKEND_QNN | LBS_BACKEND_TFLITE, LBS_BACKEND_ONNX},
			{"{\"worker_id\": \"n\", \"supported_backends\": [\"qnn\"], \"cpu_cores\": 8}",
			 LBS_CLASS_NPU, LBS_BACKEND_QNN | LBS_BACKEND_ONNX, 0},
		};

		for (size_t i = 0; i < sizeof acc / sizeof *acc; i++) {
			const lbs_device *d = NULL;

			CHECK_INT(wk(acc[i].json, &w), 0);
			for (uint32_t j = 0; j < w.n_devices; j++)
				if (w.devices[j]->hw_class == acc[i].hw_class)
					d = w.devices[j];
			CHECK(d != NULL);
			if (!d)
				continue;
			CHECK((d->backends & acc[i].has) == acc[i].has);
			CHECK(!(d->backends & acc[i].lacks));
		}
	}
	/* explicit devices too */
	CHECK_INT(wk("{\"worker_id\": \"w\", \"software_versions\": {\"tensorrt\": \"8\"},"
	             " \"devices\": [{\"class\": \"cpu\", \"backends\": [\"cpu\"], \"memory_gb\": 8},"
	             " {\"class\": \"gpu\", \"backends\": [\"cuda\"], \"memory_gb\": 8}]}", &w), 0);
	CHECK(!(w.devices[0]->backends & LBS_BACKEND_TENSORRT));
	CHECK(w.devices[1]->backends & LBS_BACKEND_TENSORRT);
	/* bad software names: one line naming the field */
	CHECK_INT(wk("{\"worker_id\": \"w\", \"software_versions\": {\"\": \"1\"}}", &w), -1);
	CHECK_STR(err, "fleet.json: workers[0]: field 'software_versions': has an "
	               "empty software name");
	CHECK_INT(wk("{\"worker_id\": \"w\", \"software_versions\": [\"jax\"]}", &w), -1);
	CHECK_CONTAINS(err, "field 'software_versions': must be an object");
	/* a version is a string of at most CONV_MAX_STRING bytes, as every
	 * string is (informational or not), and a name is given once */
	CHECK_INT(wk("{\"worker_id\": \"w\", \"software_versions\": {\"pytorch\":"
	             " {\"x\": [1, 2]}}}", &w), -1);
	CHECK_STR(err, "fleet.json: workers[0]: field 'software_versions.pytorch': must be a "
	               "string, got an object");
	CHECK_INT(wk("{\"worker_id\": \"w\", \"software_versions\": {\"onnx\": 1e999}}",
	             &w), -1);
	CHECK_STR(err, "fleet.json: workers[0]: field 'software_versions.onnx': must be a "
	               "string, got a number beyond +-1.8e308");
	CHECK_INT(wk("{\"worker_id\": \"w\", \"software_versions\": {\"jax\": null}}",
	             &w), -1);
	CHECK_STR(err, "fleet.json: workers[0]: field 'software_versions.jax': must be a "
	               "string, got null");
	CHECK_INT(wk("{\"worker_id\": \"w\", \"software_versions\": {\"pytorch\": \"2\","
	             " \"onnx\": \"1\", \"pytorch\": null}}", &w), -1);
	CHECK_STR(err, "fleet.json: workers[0]: field 'software_versions.pytorch': is given "
	               "more than once");
	{
		char big[4200];

		snprintf(big, sizeof big, "{\"worker_id\": \"w\", \"software_versions\":"
		         " {\"jax\": \"%04097d\"}}", 0);
		CHECK_INT(wk(big, &w), -1);
		CHECK_STR(err, "fleet.json: workers[0]: field 'software_versions.jax': is 4097 "
		               "bytes long, more than 4096");
	}
}

/* Without "capacity", the largest accelerator count, at least 1. */
static void test_worker_capacity_default(void)
{
	lbs_worker w;

	CHECK_INT(wk("{\"worker_id\": \"w\", \"cpu_cores\": 8}", &w), 0);
	CHECK_INT(w.capacity, 1);
	CHECK_INT(wk("{\"worker_id\": \"w\", \"available_accelerators\": {\"gpu\": 8}}",
	             &w), 0);
	CHECK_INT(w.capacity, 8);
	CHECK_INT(wk("{\"worker_id\": \"w\", \"available_accelerators\":"
	             " {\"gpu\": 2, \"tpu\": 4, \"npu\": 0}}", &w), 0);
	CHECK_INT(w.capacity, 4);
	/* a capacity given wins */
	CHECK_INT(wk("{\"worker_id\": \"w\", \"available_accelerators\": {\"gpu\": 8},"
	             " \"capacity\": 2}", &w), 0);
	CHECK_INT(w.capacity, 2);
}

static void test_worker_devices_and_load(void)
{
	lbs_worker w;

	CHECK_INT(wk("{\"worker_id\": \"fpga_1\", \"devices\": [{\"class\": \"fpga\","
	             " \"architecture\": \"fpga_xilinx\", \"vendor\": \"xilinx\","
	             " \"model_name\": \"U250\", \"backends\": [\"opencl\"],"
	             " \"precisions\": [\"int8\", \"int4\"], \"features\": [\"quantization\"],"
	             " \"memory_gb\": 64, \"compute_units\": 12, \"clock_mhz\": 300,"
	             " \"tdp_watts\": 225}], \"supported_backends\": [\"cuda\"],"
	             " \"capacity\": 4}", &w), 0);
	CHECK_INT(w.n_devices, 1); /* devices replace the derivation */
	CHECK_INT(w.devices[0]->hw_class, LBS_CLASS_FPGA);
	CHECK_INT(w.devices[0]->arch, LBS_ARCH_FPGA_XILINX);
	CHECK_INT(w.devices[0]->vendor, LBS_VENDOR_XILINX);
	CHECK_STR(w.devices[0]->model_name, "U250");
	CHECK(w.devices[0]->backends == LBS_BACKEND_OPENCL);
	CHECK_INT(w.devices[0]->precisions, LBS_PREC_INT8 | LBS_PREC_INT4);
	CHECK(w.devices[0]->mem_available_bytes == 64 * GIB);
	CHECK_INT(w.devices[0]->compute_units, 12);
	CHECK_INT(w.capacity, 4);
	CHECK_INT(wk("{\"worker_id\": \"x\", \"devices\": []}", &w), -1);
	CHECK_CONTAINS(err, "field 'devices'");
	CHECK_INT(wk("{\"worker_id\": \"x\", \"devices\": [{\"class\": \"gpu\", \"memory_gb\": 1,"
	             " \"memory_available_gb\": 2}]}", &w), -1);
	CHECK_CONTAINS(err, "field 'devices[0].memory_available_gb'");
	/* a device says its class and its memory: without them it would
	 * match nothing by class, or refuse every test that asks for memory */
	CHECK_INT(wk("{\"worker_id\": \"x\", \"devices\": [{\"memory_gb\": 1}]}", &w), -1);
	CHECK_STR(err, "fleet.json: workers[0]: field 'devices[0].class': required (cpu, gpu, "
	               "tpu, npu, dsp, fpga, asic or hybrid)");
	CHECK_INT(wk("{\"worker_id\": \"x\", \"devices\": [{\"class\": null, \"memory_gb\": 1}]}",
	             &w), -1);
	CHECK_STR(err, "fleet.json: workers[0]: field 'devices[0].class': required (cpu, gpu, "
	               "tpu, npu, dsp, fpga, asic or hybrid)");
	CHECK_INT(wk("{\"worker_id\": \"x\", \"devices\": [{\"class\": \"gpu\"}]}", &w), -1);
	CHECK_STR(err, "fleet.json: workers[0]: field 'devices[0].memory_gb': required (the "
	               "device's memory in GB; 0 for none)");
	CHECK_INT(wk("{\"worker_id\": \"x\", \"devices\": [{\"class\": \"gpu\","
	             " \"memory_available_gb\": 3}]}", &w), 0);
	CHECK(w.devices[0]->mem_total_bytes == 3 * GIB);
	/* the fields a derivation reads are said not to be read */
	CHECK_INT(wk("{\"worker_id\": \"x\", \"cpu_cores\": 8, \"hardware_specs\": {},"
	             " \"devices\": [{\"class\": \"cpu\", \"memory_gb\": 4, \"compute_units\": 8}]}", &w), 0);
	CHECK_INT(n_warns, 2);
	CHECK_CONTAINS(warns, "field 'cpu_cores': not read, since \"devices\" describes");
	CHECK_CONTAINS(warns, "field 'hardware_specs': not read, since \"devices\" describes");
	/* more devices than hardware-aware scores: taken, and said */
	{
		char doc[4096] = "{\"worker_id\": \"x\", \"devices\": [";

		for (int d = 0; d < 65; d++)
			strcat(doc, d ? ", {\"class\": \"cpu\", \"memory_gb\": 1, \"compute_units\": 1}"
			              : "{\"class\": \"cpu\", \"memory_gb\": 1, \"compute_units\": 1}");
		strcat(doc, "]}");
		CHECK_INT(wk(doc, &w), 0);
		CHECK_INT(w.n_devices, 65);
		CHECK_INT(n_warns, 1);
		CHECK_CONTAINS(warns, "fleet.json: workers[0]: field 'devices': lists 65 devices; "
		                      "hardware-aware, and priority for work with a duration, score "
		                      "a worker's first 64");
	}
	/* cpu_arch and its alias: one of them */
	CHECK_INT(wk("{\"worker_id\": \"x\", \"cpu_cores\": 2, \"hardware_specs\":"
	             " {\"cpu_arch\": \"x86_64\", \"architecture\": 7}}", &w), -1);
	CHECK_STR(err, "fleet.json: workers[0]: field 'hardware_specs.architecture': the same "
	               "as 'cpu_arch': give one of them");

	CHECK_INT(wk("{\"worker_id\": \"w\", \"cpu_cores\": 4, \"available_memory\": 8, \"load\": {"
	             " \"cpu_utilization\": 50, \"memory_utilization\": 25,"
	             " \"gpu_utilization\": 0, \"io_utilization\": 100,"
	             " \"network_utilization\": 10, \"active_tests\": 2,"
	             " \"queued_tests\": 1, \"reserved_memory\": 3, \"cooling_state\": true,"
	             " \"performance_level\": 0.7, \"temperature\": 0.4}}", &w), 0);
	CHECK_NEAR(w.util_cpu, 0.5, 1e-12);
	CHECK_NEAR(w.util_memory, 0.25, 1e-12);
	CHECK_NEAR(w.util_io, 1.0, 1e-12);
	CHECK_NEAR(w.util_network, 0.1, 1e-12);
	CHECK_INT(w.active_tests, 2);
	CHECK_INT(w.queued_tests, 1);
	CHECK(w.reserved_memory_bytes == 3 * GIB);
	CHECK_INT(w.thermal_state, LBS_THERMAL_COOLING);
	CHECK_NEAR(w.performance_level, 0.7, 0);
	CHECK_NEAR(w.temperature, 0.4, 0);

	CHECK_INT(wk("{\"worker_id\": \"w\", \"load\": {\"cpu_utilization\": 150}}", &w), -1);
	CHECK_STR(err, "fleet.json: workers[0]: field 'load.cpu_utilization': must be "
	               "a finite number in 0..100 percent, got 150");
	CHECK_INT(wk("{\"worker_id\": \"w\", \"load\": {\"warming_state\": true,"
	             " \"cooling_state\": true}}", &w), -1);
	CHECK_CONTAINS(err, "field 'load.cooling_state'");
	CHECK_INT(wk("{\"worker_id\": \"w\", \"load\": {\"performance_level\": 2}}", &w), -1);
	CHECK_CONTAINS(err, "field 'load.performance_level'");
	CHECK_INT(wk("{\"worker_id\": \"w\", \"load\": {\"active_tests\": -1}}", &w), -1);
	CHECK_CONTAINS(err, "field 'load.active_tests'");
	CHECK_INT(wk("{\"worker_id\": \"w\", \"load\": {\"cpu_load\": 3}}", &w), 0);
	CHECK_CONTAINS(warns, "unknown field 'load.cpu_load' ignored");
}

/* uname -m of a 32-bit ARM (armv6l: a Pi Zero; armv8l: a 32-bit userland
 * on a 64-bit core) is ARM without a word, as a worker's and as a
 * preference: it read as OTHER, with a warning, and never matched. */
static void test_worker_arch_names(void)
{
	static const char *const arm32[] = {"armv6l", "armv7l", "armv8l", "armhf"};
	lbs_worker w;
	lbs_workload wlo;

	for (size_t i = 0; i < sizeof arm32 / sizeof *arm32; i++) {
		char j[256];

		snprintf(j, sizeof j, "{\"worker_id\": \"pi\", \"cpu_cores\": 4,"
		         " \"available_memory\": 1, \"hardware_specs\": {\"cpu_arch\": \"%s\"}}",
		         arm32[i]);
		CHECK_INT(wk(j, &w), 0);
		CHECK_INT(n_warns, 0);
		CHECK_INT(w.devices[0]->arch, LBS_ARCH_ARM);
		snprintf(j, sizeof j, "{\"test_id\": \"t\", \"custom_properties\":"
		         " {\"preferred_architecture\": \"%s\"}}", arm32[i]);
		CHECK_INT(wl(j, &wlo), 0);
		CHECK_INT(n_warns, 0);
		CHECK_INT(wlo.preferred_arch, LBS_ARCH_ARM);
	}
}

static void test_worker_errors(void)
{
	lbs_worker w;

	CHECK_INT(wk("{\"hostname\": \"h\"}", &w), -1);
	CHECK_CONTAINS(err, "field 'worker_id': is required");
	CHECK_INT(wk("{\"worker_id\": \"w\", \"supported_backends\": \"cuda\"}", &w), -1);
	CHECK_CONTAINS(err, "field 'supported_backends': must be an array");
	CHECK_INT(wk("{\"worker_id\": \"w\", \"supported_backends\": [\"cuda\", 1]}", &w), -1);
	CHECK_CONTAINS(err, "field 'supported_backends[1]'");
	CHECK_INT(wk("{\"worker_id\": \"w\", \"available_memory\": -1}", &w), -1);
	CHECK_CONTAINS(err, "field 'available_memory'");
	CHECK_INT(wk("{\"worker_id\": \"w\", \"cpu_cores\": 8.5}", &w), -1);
	CHECK_CONTAINS(err, "field 'cpu_cores': must be an integer");
	CHECK_INT(wk("{\"worker_id\": \"w\", \"cpu_cores\": 1e12}", &w), -1);
	CHECK_CONTAINS(err, "field 'cpu_cores'");
	CHECK_INT(wk("{\"worker_id\": \"w\", \"has_gpu\": \"yes\"}", &w), -1);
	CHECK_CONTAINS(err, "field 'has_gpu': must be true or false");
	CHECK_INT(wk("{\"worker_id\": \"w\", \"hardware_specs\": {\"gpu_memory_gb\": \"lots\"}}",
	             &w), -1);
	CHECK_CONTAINS(err, "field 'hardware_specs.gpu_memory_gb'");
	CHECK_INT(wk("{\"worker_id\": \"w\", \"available_accelerators\": {\"gpu\": -1}}", &w), -1);
	CHECK_CONTAINS(err, "field 'available_accelerators.gpu'");
	CHECK_INT(wk("{\"worker_id\": \"w\", \"capacity\": 0}", &w), -1);
	CHECK_CONTAINS(err, "field 'capacity'");
	/* Fields lbsched does not read keep the rules every value keeps
	 * (docs/SECURITY.md): finite, bounded, UTF-8, at most 4096 bytes. */
	CHECK_INT(wk("{\"worker_id\": \"w\", \"last_updated\": 1e999}", &w), -1);
	CHECK_CONTAINS(err, "field 'last_updated': must be a finite number within +-1e19, got a "
	                    "number beyond +-1.8e308");
	CHECK_INT(wk("{\"worker_id\": \"w\", \"last_updated\": 1733378400000000000}", &w), 0);
	CHECK_INT(wk("{\"worker_id\": \"w\", \"last_updated\": \"\xff\"}", &w), -1);
	CHECK_CONTAINS(err, "field 'last_updated': must be valid UTF-8");
	CHECK_INT(wk("{\"worker_id\": \"w\", \"browser_support\": [\"chrome\", {}]}", &w), -1);
	CHECK_CONTAINS(err, "field 'browser_support[1]': must be a string or a number, got an object");
	CHECK_INT(wk("{\"worker_id\": \"w\", \"last_updated\": \"2026-12-05T05:00:00\","
	             " \"browser_support\": [\"chrome\", \"firefox\"]}", &w), 0);
	{
		char big[4200];

		snprintf(big, sizeof big, "{\"worker_id\": \"w\", \"browser_support\": [\"%04097d\"]}", 0);
		CHECK_INT(wk(big, &w), -1);
		CHECK_CONTAINS(err, "field 'browser_support[0]': is 4097 bytes long, more than 4096");
	}

	/* unknown taxonomy names in specs warn; the worker still converts */
	CHECK_INT(wk("{\"worker_id\": \"w\", \"cpu_cores\": 2, \"available_memory\": 8,"
	             " \"hardware_specs\": {\"cpu_arch\": \"vax\", \"cpu_vendor\": \"dec\"}}", &w), 0);
	CHECK_INT(w.devices[0]->arch, LBS_ARCH_OTHER);
	CHECK_INT(w.devices[0]->vendor, LBS_VENDOR_OTHER);
	CHECK_INT(n_warns, 2);
	CHECK_CONTAINS(warns, "field 'hardware_specs.cpu_arch': unknown architecture 'vax'");
}

/* ===== Fleets ============================================================= */

static void test_fleet(void)
{
	lbs_worker **ws;
	uint32_t n;

	CHECK_INT(fl("[{\"worker_id\": \"a_1\", \"cpu_cores\": 2},"
	             " {\"worker_id\": \"a_2\", \"cpu_cores\": 4}]", &ws, &n), 0);
	CHECK_INT(n, 2);
	CHECK_STR(ws[0]->id, "a_1");
	CHECK_STR(ws[1]->id, "a_2");
	CHECK_INT(fl("{\"workers\": [{\"worker_id\": \"a\"}]}\n", &ws, &n), 0);
	CHECK_INT(n, 1);

	CHECK_INT(fl("[{\"worker_id\": \"a\"}, {\"worker_id\": \"b\"},"
	             " {\"worker_id\": \"a\"}]", &ws, &n), -1);
	CHECK_STR(err, "fleet.json: workers[2]: field 'worker_id': 'a' is also the id "
	               "of workers[0]");
	CHECK(ws == NULL && n == 0);

	CHECK_INT(fl("[]", &ws, &n), -1);
	CHECK_STR(err, "fleet.json: the fleet has no workers");
	CHECK_INT(fl("{\"workers\": []}", &ws, &n), -1);
	CHECK_STR(err, "fleet.json: the fleet has no workers");
	CHECK_INT(fl("[{\"worker_id\": \"a\",}]", &ws, &n), -1);
	CHECK_CONTAINS(err, "fleet.json: not valid JSON near byte ");
	CHECK_INT(fl("[{\"worker_id\": \"a\"}] trailing", &ws, &n), -1);
	CHECK_CONTAINS(err, "fleet.json: text after the JSON document at byte 21");
	CHECK_INT(fl("", &ws, &n), -1);
	CHECK_CONTAINS(err, "fleet.json: ");
	CHECK_INT(fl("42", &ws, &n), -1);
	CHECK_CONTAINS(err, "must be a JSON array of workers");
	CHECK_INT(fl("{\"fleet\": []}", &ws, &n), -1);
	CHECK_CONTAINS(err, "field 'workers': is required");
	/* the original's available_workers, a dict by id: one line, which
	 * says what a fleet is (a warning for each id came first) */
	CHECK_INT(fl("{\"w1\": {\"worker_id\": \"w1\"}, \"w2\": {\"worker_id\": \"w2\"}}", &ws, &n), -1);
	CHECK_STR(err, "fleet.json: is an object of workers keyed by id ('w1': {...}); a fleet is "
	               "a JSON array of workers or {\"workers\": [...]}");
	CHECK_INT(n_warns, 0);
	CHECK_INT(fl("[{\"worker_id\": \"a\"}, 3]", &ws, &n), -1);
	CHECK_CONTAINS(err, "fleet.json: workers[1]: must be a JSON object");

	/* text need not be NUL-terminated: only len bytes are read */
	{
		const char doc[] = "[{\"worker_id\": \"a\"}]XXXX";
		conv_ctx c = fresh();
		CHECK_INT(conv_fleet(&c, doc, sizeof doc - 5, "fleet.json", &ws, &n), 0);
		CHECK_INT(n, 1);
	}
}

/* ===== Limits on one document (SECURITY.md F1, F2) ========================= */

/* `n` copies of `item` joined by commas, between `head` and `tail`. */
static char *repeat(const char *head, const char *item, size_t n, const char *tail)
{
	size_t li = strlen(item), len = strlen(head) + n * (li + 1) + strlen(tail) + 1;
	char *s = malloc(len), *p = s;

	if (!s) {
		fprintf(stderr, "out of memory\n");
		exit(99);
	}
	p += sprintf(p, "%s", head);
	for (size_t i = 0; i < n; i++)
		p += sprintf(p, "%s%s", i ? "," : "", item);
	sprintf(p, "%s", tail);
	return s;
}

static void test_limits(void)
{
	lbs_workload w;
	lbs_worker **ws;
	uint32_t n;
	char *doc;

	/* a string of CONV_MAX_STRING bytes is taken, one more is not */
	{
		size_t len = CONV_MAX_STRING + 1;
		char *id = malloc(len + 1), *json = malloc(len + 128);
		memset(id, 'x', len);
		id[len] = '\0';
		sprintf(json, "{\"test_id\": \"%s\"}", id);
		CHECK_INT(wl(json, &w), -1);
		CHECK_STR(err, "tests.jsonl:3: field 'test_id': is 4097 bytes long, more than 4096");
		id[len - 1] = '\0';
		sprintf(json, "{\"test_id\": \"%s\"}", id);
		CHECK_INT(wl(json, &w), 0);
		CHECK_INT((int)strlen(w.id), CONV_MAX_STRING);
		sprintf(json, "[{\"worker_id\": \"%sy\"}]", id);
		CHECK_INT(fl(json, &ws, &n), -1);
		CHECK_STR(err, "fleet.json: workers[0]: field 'worker_id': is 4097 bytes long, "
		               "more than 4096");
		/* so is every string, e.g. an id to exclude */
		sprintf(json, "{\"test_id\": \"t\", \"exclude_workers\": [\"%sy\"]}", id);
		CHECK_INT(wl(json, &w), -1);
		CHECK_CONTAINS(err, "field 'exclude_workers[0]': is 4097 bytes long");
		/* and every name that is a key: software and accelerator kinds
		 * (a 4096-byte one is taken) */
		sprintf(json, "{\"test_id\": \"t\", \"required_software\": {\"%s\": \"1\"}}", id);
		CHECK_INT(wl(json, &w), 0);
		sprintf(json, "{\"test_id\": \"t\", \"required_software\": {\"%sy\": \"1\"}}", id);
		CHECK_INT(wl(json, &w), -1);
		CHECK_STR(err, "tests.jsonl:3: field 'required_software': has a name 4097 bytes "
		               "long, more than 4096");
		sprintf(json, "{\"test_id\": \"t\", \"required_accelerators\": {\"%sy\": 1}}", id);
		CHECK_INT(wl(json, &w), -1);
		CHECK_STR(err, "tests.jsonl:3: field 'required_accelerators': has a kind 4097 bytes "
		               "long, more than 4096");
		sprintf(json, "[{\"worker_id\": \"w\", \"software_versions\": {\"%sy\": \"1\"}}]",
		        id);
		CHECK_INT(fl(json, &ws, &n), -1);
		CHECK_STR(err, "fleet.json: workers[0]: field 'software_versions': has a name 4097 "
		               "bytes long, more than 4096");
		sprintf(json, "[{\"worker_id\": \"w\", \"available_accelerators\": {\"%sy\": 1}}]",
		        id);
		CHECK_INT(fl(json, &ws, &n), -1);
		CHECK_STR(err, "fleet.json: workers[0]: field 'available_accelerators': has a kind "
		               "4097 bytes long, more than 4096");
		/* reserving 0 of a kind the worker lacks is nothing, but the
		 * name is still held to the bound */
		sprintf(json, "[{\"worker_id\": \"w\", \"load\": {\"reserved_accelerators\":"
		        " {\"%sy\": 0}}}]", id);
		CHECK_INT(fl(json, &ws, &n), -1);
		CHECK_STR(err, "fleet.json: workers[0]: field 'load.reserved_accelerators': has a "
		               "kind 4097 bytes long, more than 4096");
		free(id);
		free(json);
	}

	/* exclude_workers: CONV_MAX_EXCLUDE ids */
	doc = repeat("{\"test_id\": \"t\", \"exclude_workers\": [", "\"w\"", CONV_MAX_EXCLUDE, "]}");
	CHECK_INT(wl(doc, &w), 0);
	CHECK_INT((int)w.n_exclude, CONV_MAX_EXCLUDE);
	free(doc);
	doc = repeat("{\"test_id\": \"t\", \"exclude_workers\": [", "\"w\"", CONV_MAX_EXCLUDE + 1,
	             "]}");
	CHECK_INT(wl(doc, &w), -1);
	CHECK_STR(err, "tests.jsonl:3: field 'exclude_workers': lists 65537 ids, more than 65536");
	free(doc);

	/* load.reserved_accelerators: at most 256 kinds, as every accelerator
	 * map (reserving 0 of kinds the worker lacks took any number, each
	 * compared with all before it) */
	{
		char *json = malloc(300 * 16 + 128), *p = json;

		p += sprintf(p, "[{\"worker_id\": \"w\", \"load\": {\"reserved_accelerators\": {");
		for (int i = 0; i < 257; i++)
			p += sprintf(p, "%s\"k%d\": 0", i ? ", " : "", i);
		sprintf(p, "}}}]");
		CHECK_INT(fl(json, &ws, &n), -1);
		CHECK_STR(err, "fleet.json: workers[0]: field 'load.reserved_accelerators': has 257 "
		               "kinds, more than 256");
		free(json);
	}

	/* a fleet: CONV_MAX_WORKERS records are counted, one more is refused
	 * before any is read (here none is a worker, so the first fails) */
	doc = repeat("[", "0", CONV_MAX_WORKERS + 1, "]");
	CHECK_INT(fl(doc, &ws, &n), -1);
	CHECK_STR(err, "fleet.json: the fleet has 1048577 workers, more than 1048576");
	free(doc);
	doc = repeat("[", "0", CONV_MAX_WORKERS, "]");
	CHECK_INT(fl(doc, &ws, &n), -1);
	CHECK_STR(err, "fleet.json: workers[0]: must be a JSON object, got 0");
	free(doc);
}

/* ===== Loads apart from capabilities ======================================= */

/* Workers[1] of a two-worker fleet whose second record carries `load` (a
 * JSON object text, or NULL for none): the in-record reading that
 * conv_fleet_load and conv_fleet_load_values must agree with.  0 or -1. */
static int in_record(const char *load, lbs_worker *out)
{
	char doc[2048];
	lbs_worker **ws;
	uint32_t n;

	snprintf(doc, sizeof doc, "[{\"worker_id\": \"a\", \"cpu_cores\": 2},"
	         " {\"worker_id\": \"b\", \"cpu_cores\": 4, \"available_memory\": 16%s%s}]",
	         load ? ", \"load\": " : "", load ? load : "");
	if (fl(doc, &ws, &n))
		return -1;
	*out = *ws[1];
	return 0;
}

/* The same load applied afterwards to a fleet converted without it. */
static int afterwards(const char *load, lbs_worker *out)
{
	conv_ctx c;
	cJSON *obj;
	int rc;

	if (in_record(NULL, out))
		return -2;
	c = fresh();
	obj = parse(load);
	rc = conv_fleet_load(&c, "fleet.json", 1, obj, out);
	cJSON_Delete(obj);
	return rc;
}

static int from_values(uint32_t given, const double *vals, lbs_worker *out)
{
	conv_ctx c;

	if (in_record(NULL, out))
		return -2;
	c = fresh();
	return conv_fleet_load_values(&c, "fleet.json", 1, given, vals, out);
}

static int slot_of(const char *name)
{
	for (int i = 0; i < CONV_LOAD_SLOTS; i++)
		if (strcmp(conv_load_fields[i].name, name) == 0)
			return i;
	return -1;
}

/* The three readings, field by field. */
static void check_same_load(const lbs_worker *a, const lbs_worker *b)
{
	CHECK_NEAR(a->util_cpu, b->util_cpu, 0);
	CHECK_NEAR(a->util_memory, b->util_memory, 0);
	CHECK_NEAR(a->util_gpu, b->util_gpu, 0);
	CHECK_NEAR(a->util_io, b->util_io, 0);
	CHECK_NEAR(a->util_network, b->util_network, 0);
	CHECK_INT(a->active_tests, b->active_tests);
	CHECK_INT(a->queued_tests, b->queued_tests);
	CHECK(a->reserved_memory_bytes == b->reserved_memory_bytes);
	CHECK_INT(a->thermal_state, b->thermal_state);
	CHECK_NEAR(a->performance_level, b->performance_level, 0);
	CHECK_NEAR(a->temperature, b->temperature, 0);
	CHECK_NEAR(a->pending_work_s, b->pending_work_s, 0);
	CHECK_STR(a->id, b->id);
	CHECK_INT(a->n_devices, b->n_devices);
}

static void test_fleet_loads(void)
{
	static const char full[] =
		"{\"cpu_utilization\": 50, \"memory_utilization\": 25,"
		" \"gpu_utilization\": 5, \"io_utilization\": 100,"
		" \"network_utilization\": 10, \"active_tests\": 2,"
		" \"queued_tests\": 1, \"reserved_memory\": 3, \"warming_state\": false,"
		" \"cooling_state\": true, \"performance_level\": 0.7,"
		" \"temperature\": 0.4, \"queue_depth\": 3, \"pending_work\": 45}";
	/* the same in slot order */
	const double vals[CONV_LOAD_SLOTS] = {50, 25, 5, 100, 10, 2, 1, 3, 0, 1, 0.7, 0.4, 3,
	                                      45};
	const uint32_t all = (UINT32_C(1) << CONV_LOAD_SLOTS) - 1;
	lbs_worker rec, json, num, before;
	char want[1024];

	CHECK_INT(in_record(full, &rec), 0);
	CHECK_NEAR(rec.util_cpu, 0.5, 1e-12);
	CHECK_INT(rec.thermal_state, LBS_THERMAL_COOLING);
	CHECK_NEAR(rec.pending_work_s, 45, 0);
	CHECK_INT(afterwards(full, &json), 0);
	check_same_load(&rec, &json);
	CHECK_INT(from_values(all, vals, &num), 0);
	check_same_load(&rec, &num);
	CHECK_INT(conv_load_count(all | CONV_LOAD_GIVEN), CONV_LOAD_SLOTS);
	CHECK_INT(conv_load_count(CONV_LOAD_GIVEN), 0);

	/* some slots: the values of those only, in slot order; the others
	 * keep the worker's (performance_level stays 1) */
	{
		const uint32_t given = UINT32_C(1) << slot_of("active_tests") |
		                       UINT32_C(1) << slot_of("temperature");
		const double two[] = {7, 0.9};
		CHECK_INT(conv_load_count(given), 2);
		CHECK_INT(from_values(given, two, &num), 0);
		CHECK_INT(in_record("{\"active_tests\": 7, \"temperature\": 0.9}", &rec), 0);
		check_same_load(&rec, &num);
		CHECK_INT(num.active_tests, 7);
		CHECK_NEAR(num.performance_level, 1.0, 0);
	}

	/* no load leaves the worker as conv_fleet made it; a load without
	 * fields still sets the thermal state, as an empty object does */
	CHECK_INT(in_record(NULL, &before), 0);
	CHECK_INT(from_values(0, NULL, &num), 0);
	check_same_load(&before, &num);
	CHECK_INT(afterwards("null", &json), 0);
	check_same_load(&before, &json);
	{
		conv_ctx c = fresh();
		num = rec;
		num.thermal_state = LBS_THERMAL_WARMING;
		CHECK_INT(conv_fleet_load_values(&c, "fleet.json", 1, CONV_LOAD_GIVEN, NULL, &num), 0);
		CHECK_INT(num.thermal_state, LBS_THERMAL_NORMAL);
		CHECK_INT(num.active_tests, rec.active_tests);
	}

	/* Every refusal reads as the in-record one, and leaves w unchanged. */
	static const struct {
		const char *json;   /* the load object */
		const char *slot;   /* the same in the numeric form (NULL: none) */
		double value;
		const char *message;
	} bad[] = {
		{"{\"cpu_utilization\": 150}", "cpu_utilization", 150,
		 "fleet.json: workers[1]: field 'load.cpu_utilization': must be a "
		 "finite number in 0..100 percent, got 150"},
		{"{\"active_tests\": 2.5}", "active_tests", 2.5,
		 "fleet.json: workers[1]: field 'load.active_tests': must be an "
		 "integer in 0..1000000, got 2.5"},
		{"{\"reserved_memory\": -1}", "reserved_memory", -1,
		 "fleet.json: workers[1]: field 'load.reserved_memory': must be a "
		 "finite number in 0..1000000 GB, got -1"},
		/* digits no double holds (a double of the numeric form that
		 * is one, infinity, is "inf", below) */
		{"{\"temperature\": 1e999}", NULL, 0,
		 "fleet.json: workers[1]: field 'load.temperature': must be a "
		 "finite number in 0..1, got a number beyond +-1.8e308"},
		{"{\"queue_depth\": -3}", "queue_depth", -3,
		 "fleet.json: workers[1]: field 'load.queue_depth': must be an "
		 "integer in 0..1000000, got -3"},
		{"{\"warming_state\": 2}", "warming_state", 2,
		 "fleet.json: workers[1]: field 'load.warming_state': must be true "
		 "or false, got 2"},
		{"{\"performance_level\": null}", NULL, 0,
		 "fleet.json: workers[1]: field 'load.performance_level': must be a "
		 "finite number in 0..1, got null"},
		{"{\"worker_id\": 5}", NULL, 0,
		 "fleet.json: workers[1]: field 'load.worker_id': must be a string "
		 "or null, got 5"},
		{"{\"active_test_ids\": \"t1\"}", NULL, 0,
		 "fleet.json: workers[1]: field 'load.active_test_ids': must be an "
		 "array or null, got \"t1\""},
		{"{\"cpu_utilization\": 1, \"cpu_utilization\": 2}", NULL, 0,
		 "fleet.json: workers[1]: field 'load.cpu_utilization': is given "
		 "more than once"},
		{"5", NULL, 0,
		 "fleet.json: workers[1]: field 'load': must be an object or null, got 5"},
	};
	CHECK_INT(in_record(NULL, &before), 0);
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		CHECK_INT(in_record(bad[i].json, &rec), -1);
		CHECK_STR(err, bad[i].message);
		snprintf(want, sizeof want, "%s", err);
		CHECK_INT(afterwards(bad[i].json, &json), -1);
		CHECK_STR(err, want);
		check_same_load(&before, &json);
		if (bad[i].slot) {
			int k = slot_of(bad[i].slot);
			CHECK(k >= 0);
			CHECK_INT(from_values(UINT32_C(1) << k, &bad[i].value, &num), -1);
			CHECK_STR(err, want);
			check_same_load(&before, &num);
		}
	}

	/* a refusal after a good field: nothing of the load is kept */
	{
		const double two[] = {50, 2.5};
		const uint32_t given = UINT32_C(1) << slot_of("cpu_utilization") |
		                       UINT32_C(1) << slot_of("active_tests");
		const char *load = "{\"cpu_utilization\": 50, \"active_tests\": 2.5}";
		CHECK_INT(afterwards(load, &json), -1);
		CHECK_CONTAINS(err, "field 'load.active_tests'");
		check_same_load(&before, &json);
		CHECK_INT(from_values(given, two, &num), -1);
		CHECK_CONTAINS(err, "field 'load.active_tests'");
		check_same_load(&before, &num);
	}

	/* both thermal flags: refused at cooling_state, in every form */
	{
		const double both[] = {1, 1};
		const uint32_t given = UINT32_C(1) << slot_of("warming_state") |
		                       UINT32_C(1) << slot_of("cooling_state");
		const char *two = "{\"warming_state\": true, \"cooling_state\": true}";
		CHECK_INT(in_record(two, &rec), -1);
		CHECK_STR(err, "fleet.json: workers[1]: field 'load.cooling_state': "
		               "cannot be true together with warming_state");
		CHECK_INT(afterwards(two, &json), -1);
		CHECK_CONTAINS(err, "field 'load.cooling_state'");
		CHECK_INT(from_values(given, both, &num), -1);
		CHECK_CONTAINS(err, "field 'load.cooling_state'");
	}

	/* NaN cannot be written in JSON, nor infinity; the numeric form
	 * names them */
	{
		const double inf1[] = {INFINITY};
		int k = slot_of("temperature");

		CHECK(k >= 0);
		CHECK_INT(from_values(UINT32_C(1) << k, inf1, &num), -1);
		CHECK_STR(err, "fleet.json: workers[1]: field 'load.temperature': "
		               "must be a finite number in 0..1, got inf");
	}
	{
		const double nan1[] = {NAN};
		CHECK_INT(from_values(1, nan1, &num), -1);
		CHECK_STR(err, "fleet.json: workers[1]: field 'load.cpu_utilization': "
		               "must be a finite number in 0..100 percent, got nan");
	}
	CHECK_INT(from_values(UINT32_C(1) << 20, vals, &num), -1);
	CHECK_CONTAINS(err, "fleet.json: workers[1]: field 'load': the given mask");

	/* warnings are the in-record ones too */
	CHECK_INT(afterwards("{\"cpu_load\": 3, \"worker_id\": \"z\"}", &json), 0);
	CHECK_CONTAINS(warns, "fleet.json: workers[1]: unknown field 'load.cpu_load' ignored");
	CHECK_CONTAINS(warns, "fleet.json: workers[1]: field 'load.worker_id': 'z' is "
	                      "not this worker's id");

	/* the table is every field a load object takes: a value of each
	 * field's kind converts without a warning */
	{
		char doc[2048] = "{";
		for (const conv_field *f = conv_load_fields; f->name; f++) {
			static const char *const value[] = {
				[CONV_NUMBER] = "0", [CONV_INTEGER] = "0",
				[CONV_BOOL] = "false", [CONV_STRING] = "\"b\"",
				[CONV_SCALAR] = "\"2024-01-01\"", [CONV_ARRAY] = "[]",
				[CONV_OBJECT] = "{}",
			};
			size_t used = strlen(doc);
			snprintf(doc + used, sizeof doc - used, "%s\"%s\": %s",
			         used > 1 ? ", " : "", f->name, value[f->kind]);
			CHECK((f - conv_load_fields < CONV_LOAD_SLOTS) ==
			      (f->kind <= CONV_BOOL));
		}
		strcat(doc, "}");
		CHECK_INT(afterwards(doc, &json), 0);
		CHECK_INT(n_warns, 0);
	}
}

/* load.reserved_accelerators (ABI 1.1 accel_reserved) and load.pending_work
 * (pending_work_s). */
/* Memory a record contradicts itself about is refused, naming the field;
 * memory or compute a record leaves out is read as the original did (or
 * as scoring does) and said, not taken quietly. */
static void test_worker_memory_said(void)
{
	lbs_worker w, later;

	/* the original's 0 GB, with a word: no test asking for memory goes there */
	CHECK_INT(wk("{\"worker_id\": \"m\", \"cpu_cores\": 4}", &w), 0);
	CHECK_INT(n_warns, 1);
	CHECK_CONTAINS(warns, "fleet.json: workers[0]: field 'available_memory': not given, so "
	                      "the worker has 0 GB free");
	CHECK(w.devices[0]->mem_available_bytes == 0);
	CHECK_INT(wk("{\"worker_id\": \"m\", \"cpu_cores\": 4, \"available_memory\": 0}",
	             &w), 0);
	CHECK_INT(n_warns, 0);

	/* more free than installed */
	CHECK_INT(wk("{\"worker_id\": \"m\", \"cpu_cores\": 4, \"available_memory\": 64,"
	             " \"hardware_specs\": {\"total_memory_gb\": 16}}", &w), -1);
	CHECK_STR(err, "fleet.json: workers[0]: field 'available_memory': 64 GB is more than "
	               "hardware_specs.total_memory_gb (16 GB)");
	CHECK_INT(wk("{\"worker_id\": \"m\", \"cpu_cores\": 4, \"available_memory\": 16,"
	             " \"hardware_specs\": {\"total_memory_gb\": 16}}", &w), 0);
	CHECK(w.devices[0]->mem_total_bytes == 16 * GIB);

	/* reserved past the free memory: the original's service over-commits
	 * (it ignores reserve_resources' answer, seed-behaviour F11), and its
	 * live records say so.  The worker is full, said in a warning (it was
	 * refused, and one worker's load stopped the whole fleet): in the
	 * record, and in a later load */
	CHECK_INT(wk("{\"worker_id\": \"m\", \"cpu_cores\": 4, \"available_memory\": 16,"
	             " \"load\": {\"reserved_memory\": 40}}", &w), 0);
	CHECK_INT(n_warns, 1);
	CHECK_CONTAINS(warns, "fleet.json: workers[0]: field 'load.reserved_memory': 40 GB is more "
	                      "than the worker's free memory (16 GB): taken as all of it");
	CHECK(w.reserved_memory_bytes == 16 * GIB);
	CHECK_INT(in_record("{\"reserved_memory\": 16}", &w), 0);
	CHECK(w.reserved_memory_bytes == 16 * GIB);
	CHECK_INT(afterwards("{\"reserved_memory\": 2, \"active_tests\": 1}", &later), 0);
	CHECK(later.reserved_memory_bytes == 2 * GIB);
	CHECK_INT(afterwards("{\"reserved_memory\": 16.5, \"active_tests\": 3}", &later), 0);
	CHECK_INT(later.active_tests, 3);
	CHECK(later.reserved_memory_bytes == 16 * GIB);
	/* with devices: against the device with the most */
	CHECK_INT(wk("{\"worker_id\": \"m\", \"devices\": [{\"class\": \"cpu\", \"memory_gb\": 8,"
	             " \"compute_units\": 4}, {\"class\": \"gpu\", \"memory_gb\": 24,"
	             " \"compute_units\": 80}], \"load\": {\"reserved_memory\": 20}}", &w), 0);
	CHECK_INT(n_warns, 0);
	CHECK(w.reserved_memory_bytes == 20 * GIB);
	CHECK_INT(wk("{\"worker_id\": \"m\", \"devices\": [{\"class\": \"cpu\", \"memory_gb\": 8,"
	             " \"compute_units\": 4}], \"load\": {\"reserved_memory\": 20}}", &w), 0);
	CHECK_CONTAINS(warns, "field 'load.reserved_memory': 20 GB is more than the worker's free "
	                      "memory (8 GB): taken as all of it");
	CHECK(w.reserved_memory_bytes == 8 * GIB);
	/* the free memory as the record gives it: the bytes of 7.2 GB read
	 * 7.199999999254942 */
	CHECK_INT(wk("{\"worker_id\": \"m\", \"cpu_cores\": 4, \"available_memory\": 7.2,"
	             " \"load\": {\"reserved_memory\": 12}}", &w), 0);
	CHECK_CONTAINS(warns, "12 GB is more than the worker's free memory (7.2 GB)");

	/* a device with no count would score as one unit: said */
	CHECK_INT(wk("{\"worker_id\": \"m\", \"devices\": [{\"class\": \"cpu\", \"memory_gb\": 8,"
	             " \"compute_units\": 4}, {\"class\": \"gpu\", \"memory_gb\": 24}]}", &w), 0);
	CHECK_INT(n_warns, 1);
	CHECK_CONTAINS(warns, "fleet.json: workers[0]: field 'devices[1].compute_units': not "
	                      "given, so the device is scored as one unit of its class");
	CHECK_INT(w.devices[1]->compute_units, 0);
}

static void test_load_reservations_and_pending(void)
{
	lbs_worker **ws;
	uint32_t n;

#define GPU_FLEET(load) "[{\"worker_id\": \"g\", \"available_accelerators\":" \
	" {\"gpu\": 2, \"TPU\": 1}, \"load\": " load "}]"
	CHECK_INT(fl(GPU_FLEET("{\"reserved_accelerators\": {\"GPU\": 2}}"), &ws, &n), 0);
	CHECK(ws[0]->accel_reserved != NULL);
	if (ws[0]->accel_reserved) {
		CHECK_STR(ws[0]->accel_kinds[0], "gpu");
		CHECK_INT(ws[0]->accel_reserved[0], 2);
		CHECK_INT(ws[0]->accel_reserved[1], 0);
	}
	/* nothing reserved, or 0 of a kind it lacks: NULL */
	CHECK_INT(fl(GPU_FLEET("{\"reserved_accelerators\": {}}"), &ws, &n), 0);
	CHECK(ws[0]->accel_reserved == NULL);
	CHECK_INT(fl(GPU_FLEET("{\"reserved_accelerators\": {\"npu\": 0}}"), &ws, &n), 0);
	CHECK(ws[0]->accel_reserved == NULL);
	/* the original's live records: a kind the worker lacks (a TPU test it
	 * placed on a worker without one, seed-behaviour F4) reserves
	 * nothing, more than it has (its over-commit, F11) is all of it; each
	 * said in a line naming file, worker, field and problem (they were
	 * refused, and the whole fleet with them) */
	CHECK_INT(fl(GPU_FLEET("{\"reserved_accelerators\": {\"npu\": 1}}"), &ws, &n), 0);
	CHECK_CONTAINS(warns, "fleet.json: workers[0]: field 'load.reserved_accelerators.npu': the "
	                      "worker has no 'npu' accelerator (available_accelerators): ignored");
	CHECK(ws[0]->accel_reserved == NULL);
	CHECK_INT(fl(GPU_FLEET("{\"reserved_accelerators\": {\"gpu\": 3}}"), &ws, &n), 0);
	CHECK_CONTAINS(warns, "fleet.json: workers[0]: field 'load.reserved_accelerators.gpu': "
	                      "reserves 3, more than the 2 the worker has: taken as all of them");
	CHECK(ws[0]->accel_reserved != NULL);
	if (ws[0]->accel_reserved)
		CHECK_INT(ws[0]->accel_reserved[0], 2);
	CHECK_INT(fl(GPU_FLEET("{\"reserved_accelerators\": {\"gpu\": 1.5}}"), &ws, &n), -1);
	CHECK_CONTAINS(err, "field 'load.reserved_accelerators.gpu': must be");
	CHECK_INT(fl(GPU_FLEET("{\"reserved_accelerators\": {\"gpu\": 1, \"GPU\": 1}}"),
	             &ws, &n), -1);
	CHECK_CONTAINS(err, "field 'load.reserved_accelerators.GPU': accelerator kind given "
	                    "more than once");
	CHECK_INT(fl(GPU_FLEET("{\"reserved_accelerators\": [\"gpu\"]}"), &ws, &n), -1);
	CHECK_CONTAINS(err, "field 'load.reserved_accelerators': must be an object");
	CHECK_INT(fl(GPU_FLEET("{\"reserved_accelerators\": {\"\": 0}}"), &ws, &n), -1);
	CHECK_STR(err, "fleet.json: workers[0]: field 'load.reserved_accelerators': has an "
	               "empty accelerator kind");

	/* pending work: unknown unless given; 0 is "nothing ahead" */
	CHECK_INT(fl(GPU_FLEET("{\"active_tests\": 1}"), &ws, &n), 0);
	CHECK(ws[0]->pending_work_s == LBS_WORK_UNKNOWN);
	CHECK_INT(fl(GPU_FLEET("{\"pending_work\": null}"), &ws, &n), 0);
	CHECK(ws[0]->pending_work_s == LBS_WORK_UNKNOWN);
	CHECK_INT(fl(GPU_FLEET("{\"pending_work\": 0}"), &ws, &n), 0);
	CHECK(ws[0]->pending_work_s == 0);
	CHECK_INT(fl(GPU_FLEET("{\"pending_work\": 120.5}"), &ws, &n), 0);
	CHECK_NEAR(ws[0]->pending_work_s, 120.5, 0);
	CHECK_INT(fl(GPU_FLEET("{\"pending_work\": -1}"), &ws, &n), -1);
	CHECK_CONTAINS(err, "fleet.json: workers[0]: field 'load.pending_work': must be");
#undef GPU_FLEET
}

/* ===== Outcomes =========================================================== */

static void test_outcome(void)
{
	lbs_outcome o;

	CHECK_INT(oc("{\"test_id\": \"t1\", \"worker_id\": \"gpu_a100_1\", \"success\": true,"
	             " \"duration\": 12.5, \"status\": 200, \"test_type\": \"nlp_text\","
	             " \"expected_duration\": 10, \"cookie\": 77}", &o), 0);
	CHECK_INT(o.struct_size, sizeof(lbs_outcome));
	CHECK_STR(o.workload_id, "t1");
	CHECK_STR(o.worker_id, "gpu_a100_1");
	CHECK_INT(o.result, LBS_RESULT_SUCCESS);
	CHECK_NEAR(o.duration_s, 12.5, 0);
	CHECK_INT(o.status_code, 200);
	CHECK_STR(o.test_type, "nlp_text");
	CHECK_INT(o.workload_type, LBS_WL_NLP);
	CHECK_NEAR(o.expected_duration_s, 10, 0);
	CHECK(o.cookie == 77);

	CHECK_INT(oc("{\"worker_id\": \"w\", \"result\": \"Timeout\","
	             " \"execution_time\": 3}", &o), 0);
	CHECK_INT(o.result, LBS_RESULT_TIMEOUT);
	CHECK_NEAR(o.duration_s, 3, 0);
	CHECK(o.workload_id == NULL);
	CHECK_INT(oc("{\"worker_id\": \"w\", \"success\": false, \"duration\": 1}", &o), 0);
	CHECK_INT(o.result, LBS_RESULT_FAILURE);
	CHECK_INT(oc("{\"worker_id\": \"w\", \"result\": \"cancelled\", \"duration\": 1,"
	             " \"cookie\": \"18446744073709551615\"}", &o), 0);
	CHECK_INT(o.result, LBS_RESULT_CANCELLED);
	CHECK(o.cookie == UINT64_MAX);

	CHECK_INT(oc("{\"success\": true, \"duration\": 1}", &o), -1);
	CHECK_CONTAINS(err, "outcomes.jsonl:1: field 'worker_id': is required");
	CHECK_INT(oc("{\"worker_id\": \"w\", \"success\": true}", &o), -1);
	CHECK_CONTAINS(err, "field 'duration': is required");
	CHECK_INT(oc("{\"worker_id\": \"w\", \"duration\": 1}", &o), -1);
	CHECK_CONTAINS(err, "field 'success'");
	CHECK_INT(oc("{\"worker_id\": \"w\", \"result\": \"meh\", \"duration\": 1}", &o), -1);
	CHECK_CONTAINS(err, "field 'result'");
	CHECK_INT(oc("{\"worker_id\": \"w\", \"success\": true, \"result\": \"failure\","
	             " \"duration\": 1}", &o), -1);
	CHECK_CONTAINS(err, "field 'result': disagrees");
	CHECK_INT(oc("{\"worker_id\": \"w\", \"success\": true, \"duration\": -3}", &o), -1);
	CHECK_CONTAINS(err, "field 'duration'");
	CHECK_INT(oc("{\"worker_id\": \"w\", \"success\": true, \"duration\": 1,"
	             " \"cookie\": -1}", &o), -1);
	CHECK_CONTAINS(err, "field 'cookie'");
	CHECK_INT(oc("{\"worker_id\": \"w\", \"success\": true, \"duration\": 1,"
	             " \"status\": 1.5}", &o), -1);
	CHECK_CONTAINS(err, "field 'status'");
	/* an empty test_type was learned as MIXED with no warning, where a
	 * missing one or a typo is warned about: refused, as a test's is */
	CHECK_INT(oc("{\"worker_id\": \"w\", \"success\": true, \"duration\": 1,"
	             " \"test_type\": \"\"}", &o), -1);
	CHECK_STR(err, "outcomes.jsonl:1: field 'test_type': must be a non-empty string or "
	               "null, got \"\"");
	CHECK_INT(oc("{\"worker_id\": \"w\", \"status\": \"completed\", \"duration\": 1,"
	             " \"test_requirements\": {\"test_type\": \"\"}}", &o), -1);
	CHECK_STR(err, "outcomes.jsonl:1: field 'test_requirements.test_type': must be a "
	               "non-empty string or null, got \"\"");
}

/* A WorkerAssignment's test_requirements is the test as it was decided:
 * the outcome learns it as the type and duration conv_workload gave it.
 * Its workload_type was read by decide and dropped here, so a test
 * decided as VISION was learned as MIXED (and said to have no type); its
 * missing expected_duration was decide's 60 s but no duration here, so a
 * test ranked as a minute's work taught no speed. */
static void test_outcome_assignment_as_decided(void)
{
	static const char *const reqs[] = {
		"{\"test_id\": \"t1\", \"test_type\": \"resnet_bench\", \"workload_type\": \"VISION\"}",
		"{\"test_id\": \"t1\", \"workload_type\": \"vision\"}",
		"{\"test_id\": \"t1\", \"test_type\": \"nlp_bert\", \"expected_duration\": 30}",
		"{\"test_id\": \"t1\", \"test_type\": \"nlp_bert\", \"workload_type\": \"AUDIO\","
		" \"expected_duration\": 0}",
		"{\"test_id\": \"t1\"}",
	};
	lbs_outcome o;
	lbs_workload w;
	char rec[512];
	int said;

	for (size_t i = 0; i < sizeof reqs / sizeof *reqs; i++) {
		CHECK_INT(wl(reqs[i], &w), 0);
		snprintf(rec, sizeof rec, "{\"worker_id\": \"w1\", \"status\": \"completed\","
		                          " \"duration\": 5, \"test_requirements\": %s}", reqs[i]);
		conv_ctx c = fresh();
		said = -1;
		CHECK_INT(conv_outcome_text_typed(&c, rec, strlen(rec), "outcomes.jsonl:1", &o,
		                                  &said), 0);
		CHECK_INT(o.workload_type, w.type);
		CHECK_NEAR(o.expected_duration_s, w.est_duration_s, 0);
		/* a test_type or a workload_type is a type said */
		CHECK_INT(said, i < 4);
		CHECK_INT(n_warns, 0);
	}
	CHECK_INT(w.type, LBS_WL_MIXED);
	CHECK_NEAR(o.expected_duration_s, 60, 0);
	/* the word kept is the test's own, the type its workload_type */
	CHECK_INT(oc("{\"worker_id\": \"w1\", \"status\": \"completed\", \"duration\": 5,"
	             " \"test_requirements\": {\"test_type\": \"resnet_bench\","
	             " \"workload_type\": \"VISION\"}}", &o), 0);
	CHECK_STR(o.test_type, "resnet_bench");
	CHECK_INT(o.workload_type, LBS_WL_VISION);
	CHECK_INT(conv_outcome_wordless(&o), 0);

	/* the top level speaks first, for the type and the duration alike */
	CHECK_INT(oc("{\"worker_id\": \"w1\", \"status\": \"completed\", \"duration\": 5,"
	             " \"test_type\": \"nlp_text\", \"expected_duration\": 10,"
	             " \"test_requirements\": {\"workload_type\": \"VISION\","
	             " \"expected_duration\": 30}}", &o), 0);
	CHECK_INT(o.workload_type, LBS_WL_NLP);
	CHECK_NEAR(o.expected_duration_s, 10, 0);
	CHECK_INT(oc("{\"worker_id\": \"w1\", \"status\": \"completed\", \"duration\": 5,"
	             " \"workload_type\": \"AUDIO\","
	             " \"test_requirements\": {\"test_type\": \"vision_x\"}}", &o), 0);
	CHECK_INT(o.workload_type, LBS_WL_AUDIO);
	CHECK(o.test_type == NULL);
	CHECK_NEAR(o.expected_duration_s, 60, 0);
	/* without test_requirements an outcome's duration has no default:
	 * it claimed no speed */
	CHECK_INT(oc("{\"worker_id\": \"w1\", \"success\": true, \"duration\": 5}", &o), 0);
	CHECK_NEAR(o.expected_duration_s, 0, 0);

	/* a bad value is refused by its field, even where the top level speaks */
	CHECK_INT(oc("{\"worker_id\": \"w1\", \"status\": \"completed\", \"duration\": 5,"
	             " \"test_requirements\": {\"workload_type\": \"VISON\"}}", &o), -1);
	CHECK_STR(err, "outcomes.jsonl:1: field 'test_requirements.workload_type': unknown "
	               "workload type \"VISON\" (one of VISION, NLP, AUDIO, MULTIMODAL, "
	               "TRAINING, INFERENCE, EMBEDDING, CONVERSATIONAL, MIXED)");
	CHECK_INT(oc("{\"worker_id\": \"w1\", \"status\": \"completed\", \"duration\": 5,"
	             " \"workload_type\": \"VISION\","
	             " \"test_requirements\": {\"workload_type\": 3}}", &o), -1);
	CHECK_CONTAINS(err, "field 'test_requirements.workload_type': must be a non-empty "
	                    "string or null");
	CHECK_INT(oc("{\"worker_id\": \"w1\", \"status\": \"completed\", \"duration\": 5,"
	             " \"expected_duration\": 10,"
	             " \"test_requirements\": {\"expected_duration\": -1}}", &o), -1);
	CHECK_CONTAINS(err, "field 'test_requirements.expected_duration': must be");
	/* the top level's unknown workload type is named as before */
	CHECK_INT(oc("{\"worker_id\": \"w1\", \"success\": true, \"duration\": 5,"
	             " \"workload_type\": \"VISON\"}", &o), -1);
	CHECK_CONTAINS(err, "outcomes.jsonl:1: field 'workload_type': unknown workload type");
}

/* ===== The shipped examples =============================================== */

static char *slurp(const char *rel, size_t *len)
{
	const char *root = getenv("LBS_SRCDIR");
	char path[4096];
	FILE *fp;
	char *buf = NULL;
	long n;

	snprintf(path, sizeof path, "%s/%s", root ? root : ".", rel);
	fp = fopen(path, "rb");
	if (!fp)
		return NULL;
	if (fseek(fp, 0, SEEK_END) == 0 && (n = ftell(fp)) >= 0 &&
	    fseek(fp, 0, SEEK_SET) == 0 && (buf = calloc(1, (size_t)n + 1)) &&
	    fread(buf, 1, (size_t)n, fp) == (size_t)n)
		*len = (size_t)n;
	else {
		free(buf);
		buf = NULL;
	}
	fclose(fp);
	return buf;
}

/* The examples are in the original's field names and convert cleanly:
 * no warnings, so nothing in them is silently ignored. */
static void test_examples(void)
{
	size_t len = 0;
	char *text = slurp("examples/fleet.json", &len);
	lbs_worker **ws;
	uint32_t n;
	int lines = 0;

	CHECK(text != NULL);
	if (text) {
		conv_ctx c = fresh();
		CHECK_INT(conv_fleet(&c, text, len, "fleet.json", &ws, &n), 0);
		CHECK_INT(n_warns, 0);
		CHECK(n >= 10);
		free(text);
	}
	static const char *const jsonl[] = {"examples/tests.jsonl",
	                                    "examples/outcomes.jsonl"};
	for (int f = 0; f < 2; f++) {
		text = slurp(jsonl[f], &len);
		CHECK(text != NULL);
		for (char *line = text, *next; line && *line; line = next) {
			next = strchr(line, '\n');
			if (next)
				*next++ = '\0';
			if (!*line)
				continue;
			cJSON *obj = cJSON_Parse(line);
			conv_ctx c = fresh();
			lbs_workload w;
			lbs_outcome o;
			int rc;
			CHECK(obj != NULL);
			rc = f == 0 ? conv_workload(&c, obj, jsonl[f], &w)
			            : conv_outcome(&c, obj, jsonl[f], &o);
			CHECK_INT(rc, 0);
			if (rc)
				fprintf(stderr, "  %s\n", err);
			CHECK_INT(n_warns, 0);
			cJSON_Delete(obj);
			lines++;
		}
		free(text);
	}
	CHECK(lines >= 20);
}

/* ===== Robustness ========================================================= */

/* Mutate a valid fleet byte by byte: whatever comes out, the converter
 * answers 0 or -1 with a one-line message, and never crashes. */
static void test_mutations(void)
{
	static const char base[] =
		"{\"workers\": [{\"worker_id\": \"gpu_1\", \"supported_backends\":"
		" [\"cuda\", \"webgpu\", \"qnn\", \"tpu\"], \"available_accelerators\":"
		" {\"gpu\": 2, \"tpu\": 1}, \"available_memory\": 32, \"cpu_cores\": 8,"
		" \"hardware_specs\": {\"cpu_arch\": \"x86_64\", \"gpu_memory_gb\": 40,"
		" \"cpu_features\": [\"avx2\"]}, \"load\": {\"cpu_utilization\": 20,"
		" \"warming_state\": true}, \"devices\": null}]}";
	static const char junk[] = "{}[]\",:0-9.eE+ntf\\\x01\xff";
	char doc[sizeof base];
	uint32_t seed = 12345;
	int ok = 0, bad = 0;

	for (int iter = 0; iter < 3000; iter++) {
		lbs_worker **ws;
		uint32_t n;
		memcpy(doc, base, sizeof base);
		for (int k = 0; k < 1 + iter % 4; k++) {
			seed = seed * 1103515245u + 12345u;
			size_t pos = (seed >> 8) % (sizeof base - 1);
			seed = seed * 1103515245u + 12345u;
			doc[pos] = junk[(seed >> 8) % (sizeof junk - 1)];
		}
		conv_ctx c = fresh();
		if (conv_fleet(&c, doc, strlen(doc), "fleet.json", &ws, &n) == 0) {
			ok++;
		} else {
			bad++;
			if (strchr(err, '\n') || strncmp(err, "fleet.json", 10)) {
				CHECK(!"one-line error naming the file");
				fprintf(stderr, "  input: %s\n  error: %s\n", doc, err);
				break;
			}
		}
	}
	CHECK(ok > 0);
	CHECK(bad > 0);
}

/* Issue 15: exactly one document, and each way of failing called by name. */
static void test_documents(void)
{
	static char deep[1200];
	lbs_workload w;
	lbs_outcome o;
	lbs_worker **ws;
	uint32_t n;
	const char *text;
	conv_ctx c = fresh();

	/* a test or outcome line */
	CHECK_INT(conv_workload_text(&c, "{\"test_id\": \"a\"}}", 17, "t.jsonl:4", &w), -1);
	CHECK_STR(err, "t.jsonl:4: text after the JSON document at byte 16");
	text = "{\"worker_id\": \"w\", \"success\": true, \"duration\": 1} {\"bogus\": 1}";
	CHECK_INT(conv_outcome_text(&c, text, strlen(text), "o.jsonl:2", &o), -1);
	CHECK_STR(err, "o.jsonl:2: text after the JSON document at byte 51");
	CHECK_INT(conv_workload_text(&c, "{\"test_id\": }", 13, "t.jsonl:5", &w), -1);
	CHECK_STR(err, "t.jsonl:5: not valid JSON near byte 12");
	CHECK_INT(conv_workload_text(&c, "[1]", 3, "t.jsonl:6", &w), -1);
	CHECK_STR(err, "t.jsonl:6: must be a JSON object, got an array");
	/* the object is the first level, so the 1000th bracket is too deep */
	memcpy(deep, "{\"a\": ", 6);
	memset(deep + 6, '[', 1000);
	deep[1006] = '\0';
	CHECK_INT(conv_workload_text(&c, deep, strlen(deep), "t.jsonl:7", &w), -1);
	CHECK_STR(err, "t.jsonl:7: nested deeper than 1000 levels at byte 1005");
	/* brackets in a string do not count: 999 deep, then a syntax error
	 * at a bracket */
	memcpy(deep, "{\"[[\": ", 7);
	memset(deep + 7, '[', 998);
	memcpy(deep + 1005, "1 [", 4);
	CHECK_INT(conv_workload_text(&c, deep, strlen(deep), "t.jsonl:8", &w), -1);
	CHECK_STR(err, "t.jsonl:8: not valid JSON near byte 1007");
	CHECK_INT(fl("[{\"worker_id\": \"a\", \"x\": [\"[\", {}]}]", &ws, &n), 0);
	/* a document of several lines also gets line and column */
	CHECK_INT(fl("[{\"worker_id\": \"a\"}]\n\n  ]", &ws, &n), -1);
	CHECK_STR(err, "fleet.json: text after the JSON document at byte 24 (line 3, column 3)");
	memset(deep, '[', 1001);
	deep[1001] = '\0';
	CHECK_INT(fl(deep, &ws, &n), -1);
	CHECK_STR(err, "fleet.json: nested deeper than 1000 levels at byte 1000");
}

/* Issue 15: warnings are capped per record and per run, then counted. */
static void test_warning_caps(void)
{
	static char rec[4096];
	size_t used;
	conv_warns run = {0};
	lbs_workload w;
	conv_ctx c = fresh();

	used = (size_t)snprintf(rec, sizeof rec, "{\"test_id\": \"w\", "
	                        "\"custom_properties\": {\"preferred_backends\": [");
	for (int i = 0; i < 25; i++)
		used += (size_t)snprintf(rec + used, sizeof rec - used, "%s\"nope%d\"", i ? "," : "", i);
	snprintf(rec + used, sizeof rec - used, "]}}");

	/* without a run's count: 10, then one line saying the rest is held */
	CHECK_INT(conv_workload_text(&c, rec, strlen(rec), "t.jsonl:1", &w), 0);
	CHECK_INT(n_warns, CONV_WARN_RECORD + 1);
	CHECK_CONTAINS(warns, "'nope9'");
	CHECK(strstr(warns, "'nope10'") == NULL);
	CHECK_CONTAINS(warns, "t.jsonl:1: more warnings about this record suppressed (10 shown)");

	/* with one: 10 per record, 100 in all, then a single summary */
	c = fresh();
	c.warns = &run;
	for (int i = 0; i < 12; i++)
		CHECK_INT(conv_workload_text(&c, rec, strlen(rec), "t.jsonl:2", &w), 0);
	CHECK_INT(n_warns, CONV_WARN_RUN);
	CHECK_INT((int)run.shown, CONV_WARN_RUN);
	CHECK_INT((int)run.suppressed, 12 * 25 - CONV_WARN_RUN);
	warns[0] = '\0'; /* 100 lines fill it */
	conv_warn_summary(&c);
	CHECK_INT(n_warns, CONV_WARN_RUN + 1);
	CHECK_CONTAINS(warns, "200 more warnings suppressed (at most 10 per record and 100 in all "
	                      "are shown)");
	conv_warn_summary(&c); /* said once */
	CHECK_INT(n_warns, CONV_WARN_RUN + 1);
}

/* A test_type with no workload word in it is decided as mixed, as the
 * original maps it: kept, and said, once for a run's stream of them. */
#define WORDLESS "no workload word in it (vision, image, nlp, text, language, audio, " \
	"speech, embedding, training, inference, conversational, multi): decided as mixed"
static void test_wordless_types(void)
{
	conv_warns run = {0};
	lbs_workload w;
	conv_ctx c;

	CHECK_INT(wl("{\"test_id\": \"t\", \"test_type\": \"vison_classification\"}", &w), 0);
	CHECK_INT(w.type, LBS_WL_MIXED);
	CHECK_STR(w.test_type, "vison_classification");
	CHECK_STR(warns, "tests.jsonl:3: field 'test_type': 'vison_classification' has " WORDLESS "\n");
	/* a type with a word, mixed named, or a workload_type over the
	 * test_type: nothing to say */
	CHECK_INT(wl("{\"test_id\": \"t\", \"test_type\": \"vision_classification\"}", &w), 0);
	CHECK_STR(warns, "");
	CHECK_INT(wl("{\"test_id\": \"t\", \"test_type\": \"Mixed\"}", &w), 0);
	CHECK_STR(warns, "");
	CHECK_INT(wl("{\"test_id\": \"t\", \"test_type\": \"smoke\", \"workload_type\": \"VISION\"}",
	             &w), 0);
	CHECK_STR(warns, "");
	CHECK_INT(wl("{\"test_id\": \"t\"}", &w), 0);
	CHECK_STR(warns, "");

	/* a run's tests: one line at its end, counting them */
	c = fresh();
	c.warns = &run;
	const char *typed = "{\"test_id\": \"a\", \"test_type\": \"vision\"}";
	const char *typo = "{\"test_id\": \"d\", \"test_type\": \"visoin\"}";

	CHECK_INT(conv_workload_text(&c, typed, strlen(typed), "t.jsonl:1", &w), 0);
	conv_warn_summary(&c);
	CHECK_STR(warns, "");
	for (int i = 2; i <= 4; i++) {
		char where[32];
		const char *rec = i == 2 ? "{\"test_id\": \"b\", \"test_type\": \"smoke\"}" : typo;

		snprintf(where, sizeof where, "t.jsonl:%d", i);
		CHECK_INT(conv_workload_text(&c, rec, strlen(rec), where, &w), 0);
	}
	CHECK_STR(warns, "");
	conv_warn_summary(&c);
	CHECK_STR(warns, "3 tests (the first at t.jsonl:2, test_type 'smoke') have a 'test_type' "
	                 "with " WORDLESS "\n");
	conv_warn_summary(&c); /* said once */
	CHECK_INT(n_warns, 1);
	/* one alone is said as it would be without a run */
	CHECK_INT(conv_workload_text(&c, typo, strlen(typo), "t.jsonl:5", &w), 0);
	conv_warn_summary(&c);
	CHECK_CONTAINS(warns, "\nt.jsonl:5: field 'test_type': 'visoin' has " WORDLESS "\n");
}

int main(void)
{
	A = arena_new();
	if (!A)
		return 99;
	test_seed_case();
	test_defaults();
	test_backends();
	test_accelerators_and_excludes();
	test_custom_properties();
	test_workload_errors();
	test_worker_basics();
	test_worker_spec_keys();
	test_worker_f3_browser();
	test_worker_accelerators();
	test_worker_backend_names();
	test_worker_capacity_default();
	test_worker_devices_and_load();
	test_worker_arch_names();
	test_worker_errors();
	test_fleet();
	test_limits();
	test_fleet_loads();
	test_load_reservations_and_pending();
	test_worker_memory_said();
	test_outcome();
	test_outcome_assignment_as_decided();
	test_examples();
	test_mutations();
	test_documents();
	test_warning_caps();
	test_wordless_types();
	arena_free(A);
	return check_done("test_convert");
}
