/*
 * test_hwaware.c -- the hardware-aware scheduler: which worker it picks and
 * why.  Each of the original's bugs (F1-F4, F14) has a test that ours does
 * the right thing; then the hardware preferences an operator would expect,
 * load and thermal adjustment, multi-worker allocation, config errors,
 * explain, determinism, the learned preference, and the worked example of
 * docs/SCORING.md computed by hand.
 *
 * Most tests go through the real plugin (support.h); the numeric ones and a
 * randomised consistency check call scheduler-algos/hwaware.h directly.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "check.h"
#include "eligible.h"
#include "history.h"
#include "hwaware.h"
#include "priority.h"
#include "roundrobin.h"
#include "support.h"

#define GIB (UINT64_C(1) << 30)

static shim_sched *hw;

static lbs_workload wl_of(arena *a, const char *json)
{
	return workload_parse(a, json);
}

/* ===== Explain as parsed JSON ============================================= */

typedef struct buf {
	char *p;
	size_t len, cap;
} buf;

static int buf_write(void *ctx, const char *data, size_t len)
{
	buf *b = ctx;

	if (b->len + len + 1 > b->cap) {
		b->cap = (b->len + len + 1) * 2;
		b->p = realloc(b->p, b->cap);
		if (!b->p)
			abort();
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
	b->p[b->len] = '\0';
	return 0;
}

/* The plugin's explain object for this decision; cJSON_Delete it. */
static cJSON *explain(shim_sched *s, const lbs_workload *wl, const fleet *f)
{
	buf b = {0};
	cJSON *j;

	CHECK_INT(sched_explain(s, wl, (const lbs_worker *const *)f->workers, f->n,
	                        buf_write, &b), LBS_OK);
	j = b.p ? cJSON_Parse(b.p) : NULL;
	CHECK(j != NULL);
	free(b.p);
	return j;
}

static const cJSON *find_by_worker(const cJSON *arr, const char *id)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, arr) {
		const cJSON *w = cJSON_GetObjectItemCaseSensitive(e, "worker");

		if (cJSON_IsString(w) && strcmp(w->valuestring, id) == 0)
			return e;
	}
	return NULL;
}

static double num(const cJSON *o, const char *key)
{
	const cJSON *v = o ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;

	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static const char *str(const cJSON *o, const char *key)
{
	const cJSON *v = o ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* ===== F1: a required backend matches exactly the workers with it ======== */

static const char *mixed_fleet =
	"[{\"worker_id\":\"cpu-a\",\"cpu_cores\":8,\"available_memory\":16,"
	"  \"supported_backends\":[\"pytorch\",\"onnx\"]},"
	" {\"worker_id\":\"gpu-a\",\"cpu_cores\":8,\"available_memory\":32,"
	"  \"supported_backends\":[\"pytorch\",\"cuda\"]},"
	" {\"worker_id\":\"rocm-a\",\"cpu_cores\":8,\"available_memory\":32,"
	"  \"supported_backends\":[\"pytorch\",\"rocm\"]},"
	" {\"worker_id\":\"gpu-b\",\"cpu_cores\":8,\"available_memory\":32,"
	"  \"supported_backends\":[\"cuda\"]},"
	" {\"worker_id\":\"browser-a\",\"available_memory\":8,\"has_webgpu\":true,"
	"  \"supported_backends\":[\"webgpu\"]}]";

static void test_f1_required_backend(void)
{
	fleet f = fleet_parse(mixed_fleet);
	lbs_workload wl = wl_of(f.arena, "{\"test_id\":\"t1\",\"test_type\":\"nlp\","
	                                 "\"required_backend\":\"cuda\"}");
	lbs_workload ex1 = wl_of(f.arena, "{\"test_id\":\"t1\",\"test_type\":\"nlp\","
	                                  "\"required_backend\":\"cuda\","
	                                  "\"exclude_workers\":[\"gpu-a\"]}");
	lbs_workload ex2 = wl_of(f.arena, "{\"test_id\":\"t1\",\"test_type\":\"nlp\","
	                                  "\"required_backend\":\"cuda\","
	                                  "\"exclude_workers\":[\"gpu-a\",\"gpu-b\"]}");
	lbs_workload rocm = wl_of(f.arena, "{\"test_id\":\"t2\",\"required_backend\":\"rocm\"}");
	lbs_workload webgpu = wl_of(f.arena, "{\"test_id\":\"t3\",\"required_backend\":\"webgpu\"}");
	cJSON *j;

	/* The original refused every test with a required backend (F1). */
	CHECK_STR(pick(hw, &wl, &f), "gpu-a");
	CHECK_STR(pick(hw, &ex1, &f), "gpu-b");
	CHECK_STR(pick(hw, &ex2, &f), "none");
	CHECK_STR(pick(hw, &rocm, &f), "rocm-a");
	CHECK_STR(pick(hw, &webgpu, &f), "browser-a");

	/* Exactly the two CUDA workers are candidates; the others are
	 * rejected for the backend, named. */
	j = explain(hw, &wl, &f);
	CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItem(j, "candidates")), 2);
	CHECK(find_by_worker(cJSON_GetObjectItem(j, "candidates"), "gpu-a") != NULL);
	CHECK(find_by_worker(cJSON_GetObjectItem(j, "candidates"), "gpu-b") != NULL);
	CHECK_STR(str(find_by_worker(cJSON_GetObjectItem(j, "rejected"), "cpu-a"), "reason"),
	          "lacks a required backend (needs cuda)");
	CHECK_STR(str(find_by_worker(cJSON_GetObjectItem(j, "rejected"), "browser-a"), "reason"),
	          "lacks a required backend (needs cuda)");
	cJSON_Delete(j);
	fleet_free(&f);
}

/* ===== F2: an id with "_" is selectable =================================== */

static void test_f2_underscore_id(void)
{
	fleet f = fleet_parse(
		"[{\"worker_id\":\"cpu_node_1\",\"cpu_cores\":4,\"available_memory\":8},"
		" {\"worker_id\":\"gpu_node_1\",\"cpu_cores\":8,\"available_memory\":32,"
		"  \"supported_backends\":[\"cuda\",\"pytorch\"]}]");
	lbs_workload wl = wl_of(f.arena, "{\"test_id\":\"t\",\"test_type\":\"vision\"}");
	lbs_workload plain = wl_of(f.arena, "{\"test_id\":\"t\",\"test_type\":\"audio\","
	                                    "\"exclude_workers\":[\"gpu_node_1\"]}");

	CHECK_STR(pick(hw, &wl, &f), "gpu_node_1");
	CHECK_STR(pick(hw, &plain, &f), "cpu_node_1");
	fleet_free(&f);
}

/* ===== F3: a WebGPU browser is not a CUDA GPU ============================= */

static void test_f3_browser_is_not_cuda(void)
{
	fleet f = fleet_parse(
		"[{\"worker_id\":\"browser-1\",\"available_memory\":16,\"has_webgpu\":true,"
		"  \"supported_backends\":[\"webgpu\"]},"
		" {\"worker_id\":\"gpu-1\",\"cpu_cores\":8,\"available_memory\":16,"
		"  \"supported_backends\":[\"cuda\",\"pytorch\"]}]");
	lbs_workload wl = wl_of(f.arena, "{\"test_id\":\"long\",\"test_type\":\"text_generation\","
	                                 "\"expected_duration\":600}");
	lbs_workload cuda = wl_of(f.arena, "{\"test_id\":\"c\",\"required_backend\":\"cuda\"}");
	const cJSON *b;
	cJSON *j;

	CHECK_INT(f.workers[0]->n_devices, 1);
	CHECK_INT(f.workers[0]->devices[0]->hw_class, LBS_CLASS_HYBRID);
	CHECK(!(f.workers[0]->devices[0]->backends & LBS_BACKEND_CUDA));
	/* Registered first and idle, yet the long compute-heavy test goes to
	 * the real GPU (the original sent it to the browser). */
	CHECK_STR(pick(hw, &wl, &f), "gpu-1");
	CHECK_CONTAINS(pick_reason(), "on GPU device 1");
	CHECK_STR(pick(hw, &cuda, &f), "gpu-1");

	j = explain(hw, &wl, &f);
	b = find_by_worker(cJSON_GetObjectItem(j, "candidates"), "browser-1");
	CHECK_STR(str(b, "class"), "HYBRID");
	CHECK_NEAR(num(b, "throughput"), 3.0, 1e-9);
	CHECK(num(b, "score") < num(find_by_worker(cJSON_GetObjectItem(j, "candidates"),
	                                           "gpu-1"), "score"));
	cJSON_Delete(j);
	fleet_free(&f);
}

/* ===== F4: a TPU-required test never lands on a CPU-only worker ========== */

static void test_f4_tpu_required(void)
{
	fleet cpus = fleet_parse(
		"[{\"worker_id\":\"cpu-1\",\"cpu_cores\":64,\"available_memory\":256},"
		" {\"worker_id\":\"cpu-2\",\"cpu_cores\":8,\"available_memory\":16}]");
	fleet mixed = fleet_parse(
		"[{\"worker_id\":\"cpu-1\",\"cpu_cores\":64,\"available_memory\":256},"
		" {\"worker_id\":\"tpu-1\",\"cpu_cores\":8,\"available_memory\":64,"
		"  \"available_accelerators\":{\"tpu\":1},\"supported_backends\":[\"tpu\"]},"
		" {\"worker_id\":\"cpu-2\",\"cpu_cores\":8,\"available_memory\":16}]");
	lbs_workload wl = wl_of(cpus.arena, "{\"test_id\":\"tpu\",\"test_type\":\"nlp\","
	                                    "\"required_accelerators\":{\"tpu\":1}}");
	cJSON *j;

	CHECK_STR(pick(hw, &wl, &cpus), "none");
	CHECK_CONTAINS(pick_reason(), "accelerator 2");
	CHECK_STR(pick(hw, &wl, &mixed), "tpu-1");

	j = explain(hw, &wl, &mixed);
	CHECK_STR(str(find_by_worker(cJSON_GetObjectItem(j, "rejected"), "cpu-1"), "reason"),
	          "lacks a required accelerator (needs 1 tpu, has 0 free)");
	CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItem(j, "candidates")), 1);
	cJSON_Delete(j);
	fleet_free(&cpus);
	fleet_free(&mixed);
}

/* ===== F14: a short vision test on an idle fleet goes to the GPU ========== */

static void test_f14_vision_to_gpu(void)
{
	fleet f = fleet_parse(
		"[{\"worker_id\":\"cpu-1\",\"cpu_cores\":16,\"available_memory\":32},"
		" {\"worker_id\":\"cpu-2\",\"cpu_cores\":32,\"available_memory\":64},"
		" {\"worker_id\":\"gpu-1\",\"cpu_cores\":8,\"available_memory\":32,"
		"  \"supported_backends\":[\"cuda\",\"pytorch\"]}]");
	lbs_workload wl = wl_of(f.arena, "{\"test_id\":\"v\",\"test_type\":\"vision_classification\","
	                                 "\"minimum_memory\":2,\"expected_duration\":60}");

	/* The original's score saturated at 1.0 for this test, so the first
	 * registered CPU won. */
	CHECK_STR(pick(hw, &wl, &f), "gpu-1");
	fleet_free(&f);
}

/* ===== Hardware an operator would pick ==================================== */

static void test_tensor_cores_for_nlp(void)
{
	fleet f = fleet_parse(
		"[{\"worker_id\":\"gpu-plain\",\"cpu_cores\":8,\"available_memory\":32,"
		"  \"supported_backends\":[\"cuda\"],\"hardware_specs\":{\"gpu_tensor_cores\":false}},"
		" {\"worker_id\":\"gpu-tc\",\"cpu_cores\":8,\"available_memory\":32,"
		"  \"supported_backends\":[\"cuda\"],\"hardware_specs\":{\"gpu_tensor_cores\":true}}]");
	lbs_workload wl = wl_of(f.arena, "{\"test_id\":\"n\",\"test_type\":\"nlp_generation\","
	                                 "\"expected_duration\":900,\"minimum_memory\":4}");

	CHECK_STR(pick(hw, &wl, &f), "gpu-tc");
	fleet_free(&f);
}

static void test_int8_inference_prefers_npu(void)
{
	fleet f = fleet_parse(
		"[{\"worker_id\":\"phone-cpu\",\"cpu_cores\":8,\"available_memory\":8,"
		"  \"supported_backends\":[\"tflite\"],\"hardware_specs\":{\"cpu_arch\":\"arm64\"}},"
		" {\"worker_id\":\"phone-gpu\",\"cpu_cores\":8,\"available_memory\":8,\"has_gpu\":true,"
		"  \"supported_backends\":[\"tflite\",\"vulkan\"],"
		"  \"hardware_specs\":{\"cpu_arch\":\"arm64\",\"gpu_compute_units\":8,"
		"                      \"gpu_clock_mhz\":900}},"
		" {\"worker_id\":\"phone-npu\",\"cpu_cores\":8,\"available_memory\":8,"
		"  \"supported_backends\":[\"tflite\",\"qnn\"],\"hardware_specs\":{\"cpu_arch\":\"arm64\"}}]");
	lbs_workload wl = wl_of(f.arena, "{\"test_id\":\"q\",\"test_type\":\"mobile_inference\","
	                                 "\"expected_duration\":5,"
	                                 "\"custom_properties\":{\"required_precisions\":[\"int8\"]}}");

	CHECK_STR(pick(hw, &wl, &f), "phone-npu");
	CHECK_CONTAINS(pick_reason(), "on NPU device 1");
	fleet_free(&f);
}

/* Two identical GPU machines differing only in their load object. */
static const char *twin_fleet_fmt =
	"[{\"worker_id\":\"a\",\"cpu_cores\":8,\"available_memory\":32,"
	"  \"supported_backends\":[\"cuda\"],\"load\":{%s}},"
	" {\"worker_id\":\"b\",\"cpu_cores\":8,\"available_memory\":32,"
	"  \"supported_backends\":[\"cuda\"],\"load\":{%s}}]";

static const char *twins(const char *la, const char *lb)
{
	static fleet f;
	static char json[2048];
	arena *a = arena_new();
	lbs_workload wl;
	const char *r;

	snprintf(json, sizeof json, twin_fleet_fmt, la, lb);
	f = fleet_parse(json);
	wl = wl_of(a, "{\"test_id\":\"t\",\"test_type\":\"vision\",\"expected_duration\":60}");
	r = pick(hw, &wl, &f);
	fleet_free(&f);
	arena_free(a);
	return r;
}

static void test_cooler_less_loaded_wins(void)
{
	CHECK_STR(twins("\"temperature\":0.8", "\"temperature\":0.2"), "b");
	CHECK_STR(twins("\"temperature\":0.2", "\"temperature\":0.8"), "a");
	CHECK_STR(twins("\"cpu_utilization\":60,\"gpu_utilization\":50",
	                "\"cpu_utilization\":10,\"gpu_utilization\":5"), "b");
	CHECK_STR(twins("\"cpu_utilization\":5", "\"cpu_utilization\":50"), "a");
	/* Warming at 60 % throughput loses to a normal twin. */
	CHECK_STR(twins("\"warming_state\":true,\"performance_level\":0.6", ""), "b");
	CHECK_STR(twins("", "\"cooling_state\":true,\"performance_level\":0.7"), "a");
	/* A queue counts against a worker. */
	CHECK_STR(twins("\"active_tests\":1,\"queued_tests\":2", "\"active_tests\":1"), "b");
	/* Identical in every way: the first in the array. */
	CHECK_STR(twins("\"cpu_utilization\":20", "\"cpu_utilization\":20"), "a");
}

static void test_preferred_backend(void)
{
	fleet with = fleet_parse(
		"[{\"worker_id\":\"plain\",\"cpu_cores\":8,\"available_memory\":16,"
		"  \"supported_backends\":[\"pytorch\"]},"
		" {\"worker_id\":\"ov\",\"cpu_cores\":8,\"available_memory\":16,"
		"  \"supported_backends\":[\"pytorch\",\"openvino\"]}]");
	fleet without = fleet_parse(
		"[{\"worker_id\":\"plain\",\"cpu_cores\":8,\"available_memory\":16,"
		"  \"supported_backends\":[\"pytorch\"]},"
		" {\"worker_id\":\"plain-2\",\"cpu_cores\":8,\"available_memory\":16,"
		"  \"supported_backends\":[\"pytorch\"]}]");
	lbs_workload wl = wl_of(with.arena, "{\"test_id\":\"p\",\"test_type\":\"audio\","
	                                    "\"preferred_backend\":\"openvino\"}");
	lbs_workload none = wl_of(with.arena, "{\"test_id\":\"p\",\"test_type\":\"audio\"}");

	CHECK_STR(pick(hw, &wl, &with), "ov");
	CHECK_STR(pick(hw, &none, &with), "plain");
	/* A preference, not a requirement (the original made it one). */
	CHECK_STR(pick(hw, &wl, &without), "plain");
	fleet_free(&with);
	fleet_free(&without);
}

/* ===== Multi-worker allocation ============================================ */

static const char *gpu5 =
	"[{\"worker_id\":\"g1\",\"cpu_cores\":8,\"available_memory\":32,"
	"  \"supported_backends\":[\"cuda\"],\"load\":{\"cpu_utilization\":50}},"
	" {\"worker_id\":\"g2\",\"cpu_cores\":8,\"available_memory\":32,"
	"  \"supported_backends\":[\"cuda\"],\"load\":{\"cpu_utilization\":10}},"
	" {\"worker_id\":\"g3\",\"cpu_cores\":8,\"available_memory\":32,"
	"  \"supported_backends\":[\"cuda\"],\"load\":{\"cpu_utilization\":30}},"
	" {\"worker_id\":\"c1\",\"cpu_cores\":8,\"available_memory\":32},"
	" {\"worker_id\":\"g4\",\"cpu_cores\":8,\"available_memory\":32,"
	"  \"supported_backends\":[\"cuda\"],\"load\":{\"cpu_utilization\":20}}]";

static void test_multi(void)
{
	fleet f = fleet_parse(gpu5);
	lbs_workload sharded = wl_of(f.arena,
		"{\"test_id\":\"s\",\"test_type\":\"training\",\"required_backend\":\"cuda\","
		"\"custom_properties\":{\"allocation_strategy\":\"sharded\",\"is_shardable\":true,"
		"\"min_shards\":2,\"max_shards\":3}}");
	lbs_workload replicated = wl_of(f.arena,
		"{\"test_id\":\"r\",\"test_type\":\"inference\",\"required_backend\":\"cuda\","
		"\"custom_properties\":{\"allocation_strategy\":\"replicated\","
		"\"min_shards\":2,\"max_shards\":8}}");
	lbs_workload too_many = wl_of(f.arena,
		"{\"test_id\":\"m\",\"test_type\":\"inference\",\"required_backend\":\"cuda\","
		"\"custom_properties\":{\"allocation_strategy\":\"replicated\","
		"\"min_shards\":5,\"max_shards\":6}}");
	lbs_workload any = wl_of(f.arena,
		"{\"test_id\":\"a\",\"test_type\":\"inference\","
		"\"custom_properties\":{\"allocation_strategy\":\"replicated\","
		"\"min_shards\":5,\"max_shards\":6}}");
	lbs_workload not_shardable = wl_of(f.arena,
		"{\"test_id\":\"s\",\"test_type\":\"training\",\"required_backend\":\"cuda\","
		"\"custom_properties\":{\"allocation_strategy\":\"sharded\","
		"\"min_shards\":2,\"max_shards\":3}}");
	const cJSON *ch;
	cJSON *j;

	/* Identical GPUs: best first means least loaded first. */
	CHECK_STR(pick(hw, &sharded, &f), "g2,g4,g3");
	CHECK_CONTAINS(pick_reason(), "3 workers");
	CHECK_STR(pick(hw, &replicated, &f), "g2,g4,g3,g1");
	CHECK_STR(pick(hw, &too_many, &f), "none");
	CHECK_CONTAINS(pick_reason(), "only 4 eligible");
	/* The idle CPU comes last: for inference a 80-SM GPU at 50 % load
	 * still beats 8 free cores. */
	CHECK_STR(pick(hw, &any, &f), "g2,g4,g3,g1,c1");
	CHECK_STR(pick(hw, &not_shardable, &f), "g2");

	/* explain tells the same decision. */
	j = explain(hw, &sharded, &f);
	ch = cJSON_GetObjectItem(j, "chosen");
	CHECK_INT(cJSON_GetArraySize(ch), 3);
	CHECK_STR(cJSON_GetArrayItem(ch, 0)->valuestring, "g2");
	CHECK_STR(cJSON_GetArrayItem(ch, 1)->valuestring, "g4");
	CHECK_STR(cJSON_GetArrayItem(ch, 2)->valuestring, "g3");
	CHECK_CONTAINS(str(j, "reason"), "3 workers");
	cJSON_Delete(j);
	j = explain(hw, &too_many, &f);
	CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItem(j, "chosen")), 0);
	CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItem(j, "candidates")), 4);
	CHECK_CONTAINS(str(j, "reason"), "only 4 eligible");
	cJSON_Delete(j);
	fleet_free(&f);
}

/* A worker with several devices is still one worker: the original put two
 * profiles of one worker into one plan. */
static void test_multi_distinct(void)
{
	fleet f = fleet_parse(
		"[{\"worker_id\":\"big\",\"cpu_cores\":64,\"available_memory\":256,"
		"  \"supported_backends\":[\"cuda\",\"tpu\",\"qnn\"]},"
		" {\"worker_id\":\"small\",\"cpu_cores\":4,\"available_memory\":8}]");
	lbs_workload wl = wl_of(f.arena,
		"{\"test_id\":\"r\",\"test_type\":\"inference\","
		"\"custom_properties\":{\"allocation_strategy\":\"replicated\","
		"\"min_shards\":1,\"max_shards\":4}}");
	lbs_workload two = wl_of(f.arena,
		"{\"test_id\":\"r\",\"test_type\":\"inference\",\"required_backend\":\"cuda\","
		"\"custom_properties\":{\"allocation_strategy\":\"replicated\","
		"\"min_shards\":2,\"max_shards\":4}}");

	CHECK_INT(f.workers[0]->n_devices, 4);
	CHECK_STR(pick(hw, &wl, &f), "big,small");
	CHECK_STR(pick(hw, &two, &f), "none");
	fleet_free(&f);
}

/* ===== Config ============================================================= */

static const char *create_error(const char *config)
{
	static char err[512];
	shim_sched *s = NULL;
	lbs_status st;

	err[0] = '\0';
	st = sched_open(test_host(), getenv("LBS_PLUGIN"), "hardware-aware", config,
	                strlen(config), &s, err, sizeof err);
	if (st == LBS_OK) {
		sched_close(s);
		return "ok";
	}
	return err;
}

static void test_config(void)
{
	CHECK_STR(create_error("{}"), "ok");
	CHECK_STR(create_error(
		"{\"weights\":{\"compute\":1,\"memory\":0,\"preference\":0,\"energy\":0.5},"
		"\"load_penalty\":0.5,\"temperature_penalty\":0,\"queue_penalty\":1,"
		"\"learned_weight\":0,\"compute_reference\":16,\"load_ceiling\":1,"
		"\"specialisation\":{\"tensor_cores\":2,\"npu_training\":0}}"), "ok");
	CHECK_CONTAINS(create_error("{\"weights\":{\"compute\":-1}}"),
	               "config field 'weights.compute'");
	CHECK_CONTAINS(create_error("{\"weights\":{\"compute\":-1}}"), "got -1");
	CHECK_CONTAINS(create_error("{\"weights\":{\"speed\":1}}"),
	               "config field 'weights.speed': unknown factor (known: compute, memory, "
	               "preference, energy)");
	CHECK_CONTAINS(create_error("{\"specialisation\":{\"gpu_audio\":2}}"),
	               "config field 'specialisation.gpu_audio': unknown factor");
	CHECK_CONTAINS(create_error("{\"weights\":{\"compute\":0,\"memory\":0,"
	                            "\"preference\":0,\"energy\":0}}"),
	               "config field 'weights': at least one weight must be > 0");
	CHECK_CONTAINS(create_error("{\"weights\":{\"compute\":1,\"compute\":2}}"),
	               "config field 'weights.compute': given more than once");
	CHECK_CONTAINS(create_error("{\"weights\":[1,2]}"), "config field 'weights'");
	CHECK_CONTAINS(create_error("{\"weights\":{\"memory\":\"high\"}}"),
	               "config field 'weights.memory'");
	CHECK_CONTAINS(create_error("{\"load_penalty\":1.5}"), "config field 'load_penalty'");
	CHECK_CONTAINS(create_error("{\"learned_weight\":-0.1}"),
	               "config field 'learned_weight'");
	CHECK_CONTAINS(create_error("{\"compute_reference\":0}"),
	               "config field 'compute_reference'");
	CHECK_CONTAINS(create_error("{\"specialisation\":{\"quantised\":-2}}"),
	               "config field 'specialisation.quantised'");
	CHECK_CONTAINS(create_error("{\"speed\":1}"), "config field 'speed': unknown field");
	CHECK_CONTAINS(create_error("{\"load_ceiling\":90}"), "config field 'load_ceiling'");
	CHECK_CONTAINS(create_error("[1]"), "config");
	CHECK_STR(create_error("{\"completion\":{\"enabled\":false,\"prior_weight\":0,"
	                       "\"prior_scale\":1.5}}"), "ok");
	CHECK_STR(create_error("{\"completion\":{}}"), "ok");
	CHECK_CONTAINS(create_error("{\"completion\":true}"), "config field 'completion'");
	CHECK_CONTAINS(create_error("{\"completion\":{\"enabled\":\"yes\"}}"),
	               "config field 'completion.enabled': must be true or false, got a string");
	CHECK_CONTAINS(create_error("{\"completion\":{\"prior_weight\":-1}}"),
	               "config field 'completion.prior_weight': must be a number in 0..1000, got -1");
	CHECK_CONTAINS(create_error("{\"completion\":{\"failure_cost\":0.5}}"),
	               "config field 'completion.failure_cost': must be a number in 1..100, got 0.5");
	CHECK_CONTAINS(create_error("{\"completion\":{\"prior_scale\":0}}"),
	               "config field 'completion.prior_scale': must be a number > 0, at most 100, "
	               "got 0");
	CHECK_CONTAINS(create_error("{\"completion\":{\"prior_scale\":101}}"),
	               "config field 'completion.prior_scale': must be a number > 0, at most 100, "
	               "got 101");
	CHECK_CONTAINS(create_error("{\"compute_reference\":-1}"),
	               "config field 'compute_reference': must be a number > 0, at most "
	               "1000000000, got -1");
	CHECK_STR(create_error("{\"scan\":\"full\"}"), "ok");
	CHECK_STR(create_error("{\"scan\":\"sampled\",\"sample\":8}"), "ok");
	CHECK_STR(create_error("{\"scan\":\"auto\"}"), "ok");
	CHECK_CONTAINS(create_error("{\"scan\":\"fast\"}"),
	          "config field 'scan': must be \"full\", \"sampled\" or \"auto\", got \"fast\"");
	CHECK_CONTAINS(create_error("{\"scan\":1}"), "config field 'scan': must be a non-empty string");
	/* a sample size nothing reads is refused, not ignored */
	CHECK_CONTAINS(create_error("{\"scan\":\"full\",\"sample\":7}"),
	               "config field 'sample': \"scan\": \"full\" reads every worker and draws no "
	               "sample; leave 'sample' out, or scan \"sampled\" or \"auto\"");
	CHECK_CONTAINS(create_error("{\"sample\":0}"),
	          "config field 'sample': must be an integer in 1..65536, got 0");
	CHECK_CONTAINS(create_error("{\"sample\":1.5}"),
	               "config field 'sample': must be an integer in 1..65536, got 1.5");
	CHECK_CONTAINS(create_error("{\"completion\":{\"prior\":2}}"),
	               "config field 'completion.prior': unknown field (known: enabled, "
	               "prior_weight, prior_scale, failure_cost)");
}

/* A config changes decisions: with only the memory weight, the worker with
 * the most free memory wins over the faster GPU. */
static void test_config_changes_choice(void)
{
	fleet f = fleet_parse(
		"[{\"worker_id\":\"gpu\",\"cpu_cores\":8,\"available_memory\":16,"
		"  \"supported_backends\":[\"cuda\"],\"hardware_specs\":{\"gpu_memory_gb\":8}},"
		" {\"worker_id\":\"bigmem\",\"cpu_cores\":8,\"available_memory\":512}]");
	lbs_workload wl = wl_of(f.arena, "{\"test_id\":\"v\",\"test_type\":\"vision\","
	                                 "\"minimum_memory\":4}");
	shim_sched *mem = test_sched("hardware-aware",
	                             "{\"weights\":{\"compute\":0,\"memory\":1,"
	                             "\"preference\":0,\"energy\":0}}");

	CHECK_STR(pick(hw, &wl, &f), "gpu");
	CHECK_STR(pick(mem, &wl, &f), "bigmem");
	sched_close(mem);
	fleet_free(&f);
}

/* ===== Explain ============================================================ */

static void test_explain(void)
{
	fleet f = fleet_parse(
		"[{\"worker_id\":\"cpu-1\",\"cpu_cores\":16,\"available_memory\":32},"
		" {\"worker_id\":\"gpu-1\",\"cpu_cores\":8,\"available_memory\":64,"
		"  \"supported_backends\":[\"cuda\"]},"
		" {\"worker_id\":\"tiny\",\"cpu_cores\":2,\"available_memory\":1},"
		" {\"worker_id\":\"busy\",\"cpu_cores\":8,\"available_memory\":32,"
		"  \"load\":{\"cpu_utilization\":100,\"memory_utilization\":100,"
		"  \"gpu_utilization\":100,\"io_utilization\":100,\"network_utilization\":100}}]");
	lbs_workload wl = wl_of(f.arena, "{\"test_id\":\"e1\",\"test_type\":\"vision\","
	                                 "\"minimum_memory\":4}");
	static const char *const factors[] = {
		"device", "class", "model", "throughput", "compute", "memory", "preference",
		"energy", "efficiency", "effective_load", "load_factor", "temperature_factor",
		"queue_factor", "learned", "suitability", "score",
	};
	/* The test states no duration, so the converter gives the original's
	 * 60 s and the ranking is by estimated completion. */
	static const char *const timed[] = {
		"prior_speed", "ratio_n", "learned_speed", "speed", "reliability", "run_s",
		"wait_s", "completion_s",
	};
	const cJSON *cands, *rej, *c, *wlj;
	cJSON *j = explain(hw, &wl, &f);

	CHECK_NEAR(wl.est_duration_s, 60, 0);
	CHECK_STR(str(j, "scheduler"), "hardware-aware");
	wlj = cJSON_GetObjectItem(j, "workload");
	CHECK_STR(str(wlj, "type"), "VISION");
	CHECK_STR(str(wlj, "id"), "e1");
	CHECK_STR(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "chosen"), 0)->valuestring, "gpu-1");
	CHECK_CONTAINS(str(j, "reason"), "hardware-aware: est. ");
	cands = cJSON_GetObjectItem(j, "candidates");
	/* Timed work has no load ceiling: "busy" is a candidate, charged a
	 * wait of one whole run for the test its full load stands for. */
	CHECK_INT(cJSON_GetArraySize(cands), 3);
	/* Best first, and every factor present. */
	CHECK_STR(str(cJSON_GetArrayItem(cands, 0), "worker"), "gpu-1");
	CHECK_STR(str(cJSON_GetArrayItem(cands, 1), "worker"), "cpu-1");
	CHECK_STR(str(cJSON_GetArrayItem(cands, 2), "worker"), "busy");
	CHECK_NEAR(num(cJSON_GetArrayItem(cands, 2), "wait_s"),
	           num(cJSON_GetArrayItem(cands, 2), "run_s"), 1e-6);
	cJSON_ArrayForEach(c, cands) {
		for (size_t i = 0; i < sizeof factors / sizeof *factors; i++)
			if (!cJSON_GetObjectItem(c, factors[i])) {
				fprintf(stderr, "candidate lacks '%s'\n", factors[i]);
				CHECK(0);
			}
		for (size_t i = 0; i < sizeof timed / sizeof *timed; i++)
			if (!cJSON_GetObjectItem(c, timed[i])) {
				fprintf(stderr, "candidate lacks '%s'\n", timed[i]);
				CHECK(0);
			}
		/* Nothing learned: the speed is the prior, the completion the
		 * run, and the score est / (est + completion). */
		CHECK_NEAR(num(c, "ratio_n"), 0, 0);
		CHECK_NEAR(num(c, "speed"), num(c, "prior_speed"), 1e-6);
		CHECK_NEAR(num(c, "run_s"), 60 / num(c, "speed"), 1e-4);
		CHECK_NEAR(num(c, "completion_s"), num(c, "wait_s") + num(c, "run_s"), 1e-4);
		CHECK_NEAR(num(c, "score"), 60 / (60 + num(c, "completion_s")), 1e-6);
	}
	/* The earliest completion is first. */
	CHECK(num(cJSON_GetArrayItem(cands, 0), "completion_s") <
	      num(cJSON_GetArrayItem(cands, 1), "completion_s"));
	c = cJSON_GetArrayItem(cands, 0);
	CHECK_NEAR(num(c, "device"), 1, 0);
	CHECK_STR(str(c, "class"), "GPU");
	CHECK_STR(str(c, "model"), "GPU-cuda");
	CHECK_NEAR(num(c, "learned"), 0.5, 0);
	rej = cJSON_GetObjectItem(j, "rejected");
	CHECK_INT(cJSON_GetArraySize(rej), 1);
	CHECK_STR(str(find_by_worker(rej, "tiny"), "reason"),
	          "has too little free memory (needs 4.00 GB, at most 1.00 GB free on a "
	          "suitable device)");
	cJSON_Delete(j);
	/* Without a duration the ceiling bars it, as in the original. */
	wl.est_duration_s = 0;
	j = explain(hw, &wl, &f);
	CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItem(j, "candidates")), 2);
	CHECK_STR(str(find_by_worker(cJSON_GetObjectItem(j, "rejected"), "busy"), "reason"),
	          "is over the load ceiling (load 1.00 above 0.90)");
	cJSON_Delete(j);
	wl.est_duration_s = 60;

	/* The reason sentence of select gives the estimate, the device and
	 * where the speed came from. */
	CHECK_STR(pick(hw, &wl, &f), "gpu-1");
	CHECK_CONTAINS(pick_reason(), "hardware-aware: est. ");
	CHECK_CONTAINS(pick_reason(), " s (wait 0.0 + run ");
	CHECK_CONTAINS(pick_reason(), ") on GPU device 1 of gpu-1, speed ");
	CHECK_CONTAINS(pick_reason(), " (prior)");
	/* Without a duration, the suitability and its sentence. */
	wl.est_duration_s = 0;
	CHECK_STR(pick(hw, &wl, &f), "gpu-1");
	CHECK_CONTAINS(pick_reason(), "hardware-aware: best score 0.");
	CHECK_CONTAINS(pick_reason(), "on GPU device 1 (compute 0.82, memory 0.94, load 0.00, reliability 1.00)");
	j = explain(hw, &wl, &f);
	c = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "candidates"), 0);
	CHECK(cJSON_GetObjectItem(c, "speed") == NULL);
	CHECK_NEAR(num(c, "score"), num(c, "suitability"), 0);
	cJSON_Delete(j);
	fleet_free(&f);
}

/* ===== Determinism and ties =============================================== */

static void test_determinism(void)
{
	fleet f = fleet_parse(mixed_fleet);
	lbs_workload wl = wl_of(f.arena, "{\"test_id\":\"d\",\"test_type\":\"embedding\"}");
	shim_sched *other = test_sched("hardware-aware", NULL);
	char first[256];

	snprintf(first, sizeof first, "%s", pick(hw, &wl, &f));
	CHECK(strcmp(first, "none") != 0);
	for (int i = 0; i < 5; i++)
		CHECK_STR(pick(hw, &wl, &f), first);
	CHECK_STR(pick(other, &wl, &f), first);
	sched_close(other);
	fleet_free(&f);
}

/* ===== Learning =========================================================== */

static void report(shim_sched *s, const char *worker, int32_t result)
{
	lbs_outcome o = {
		.struct_size = sizeof o,
		.workload_type = LBS_WL_VISION,
		.worker_id = worker,
		.result = result,
		.duration_s = 10,
		.expected_duration_s = 10,
	};

	CHECK_INT(sched_report(s, &o), LBS_OK);
}

static void test_learned_preference(void)
{
	fleet f = fleet_parse(
		"[{\"worker_id\":\"g1\",\"cpu_cores\":8,\"available_memory\":32,"
		"  \"supported_backends\":[\"cuda\"]},"
		" {\"worker_id\":\"g2\",\"cpu_cores\":8,\"available_memory\":32,"
		"  \"supported_backends\":[\"cuda\"]}]");
	lbs_workload vis = wl_of(f.arena, "{\"test_id\":\"v\",\"test_type\":\"vision\"}");
	lbs_workload nlp = wl_of(f.arena, "{\"test_id\":\"n\",\"test_type\":\"nlp\"}");
	shim_sched *s = test_sched("hardware-aware", NULL);
	const cJSON *c;
	cJSON *j;

	CHECK_STR(pick(s, &vis, &f), "g1");
	for (int i = 0; i < 3; i++)
		report(s, "g1", LBS_RESULT_FAILURE);
	CHECK_STR(pick(s, &vis, &f), "g2");
	/* Learned per workload type: NLP knows nothing yet. */
	CHECK_STR(pick(s, &nlp, &f), "g1");
	j = explain(s, &vis, &f);
	c = find_by_worker(cJSON_GetObjectItem(j, "candidates"), "g1");
	/* The neutral prior (7/3 at 0.5) and three failures (store.alpha
	 * 0.3; docs/STORE.md): (7/6) / (7/3 + 3). */
	CHECK_NEAR(num(c, "learned"), (7.0 / 6) / (7.0 / 3 + 3), 1e-4); /* wall-clock decay: test_store */
	cJSON_Delete(j);
	sched_close(s);
	fleet_free(&f);
}

/* ===== Completion ========================================================= */

/* n noise-free outcomes of `type` on `worker`: each run of 40 s declared
 * took 40 / speed. */
static void learn_speed(shim_sched *s, uint32_t type, const char *worker, double speed,
                        int n)
{
	lbs_outcome o = {
		.struct_size = sizeof o,
		.workload_type = type,
		.worker_id = worker,
		.result = LBS_RESULT_SUCCESS,
		.duration_s = 40 / speed,
		.expected_duration_s = 40,
	};

	for (int i = 0; i < n; i++)
		CHECK_INT(sched_report(s, &o), LBS_OK);
}

/* Two identical GPU machines, A and B, each with a load object. */
static fleet gpu_twins(const char *la, const char *lb)
{
	char json[2048];

	snprintf(json, sizeof json,
	         "[{\"worker_id\":\"A\",\"cpu_cores\":8,\"available_memory\":32,"
	         "  \"supported_backends\":[\"cuda\"],\"load\":{%s}},"
	         " {\"worker_id\":\"B\",\"cpu_cores\":8,\"available_memory\":32,"
	         "  \"supported_backends\":[\"cuda\"],\"load\":{%s}}]", la, lb);
	return fleet_parse(json);
}

/* The explain candidate of `id` for wl on f; cJSON_Delete *doc. */
static const cJSON *candidate(shim_sched *s, const lbs_workload *wl, const fleet *f,
                              const char *id, cJSON **doc)
{
	*doc = explain(s, wl, f);
	return find_by_worker(cJSON_GetObjectItem(*doc, "candidates"), id);
}

/*
 * What was learned decides between identical machines: B runs vision four
 * times as fast as declared, A as declared.  B takes the work while its
 * queue is short, and A once B's queue would finish it later; for NLP
 * nothing was learned, and the twins tie.
 */
/* The worked numbers below use a prior worth 2 runs, not the default 16, so
 * a few reported runs already move the speed. */
#define K2 "{\"completion\":{\"prior_weight\":2}}"

static void test_completion_learned_speed(void)
{
	arena *a = arena_new();
	lbs_workload vis = wl_of(a, "{\"test_id\":\"v\",\"test_type\":\"vision\","
	                            "\"expected_duration\":40}");
	lbs_workload nlp = wl_of(a, "{\"test_id\":\"n\",\"test_type\":\"nlp\","
	                            "\"expected_duration\":40}");
	shim_sched *s = test_sched("hardware-aware", K2);
	int switched = 0, was_a = 0;
	char lb[128];
	cJSON *doc;
	const cJSON *c;
	fleet f;

	learn_speed(s, LBS_WL_VISION, "A", 1, 20);
	learn_speed(s, LBS_WL_VISION, "B", 4, 20);

	f = gpu_twins("", "");
	c = candidate(s, &vis, &f, "B", &doc);
	CHECK_NEAR(num(c, "ratio_n"), 20, 0);
	CHECK_NEAR(num(c, "learned_speed"), 4, 1e-9);
	/* 20 samples against the prior's 2: mostly the learned speed. */
	CHECK_NEAR(log(num(c, "speed")),
	           (20 * log(4.0) + 2 * log(num(c, "prior_speed"))) / 22, 1e-6);
	CHECK_NEAR(num(find_by_worker(cJSON_GetObjectItem(doc, "candidates"), "A"),
	               "learned_speed"), 1, 1e-9);
	cJSON_Delete(doc);
	CHECK_STR(pick(s, &vis, &f), "B");
	CHECK_CONTAINS(pick_reason(), "of B, speed ");
	CHECK_CONTAINS(pick_reason(), "(learned from 20 runs)");
	CHECK_STR(pick(s, &nlp, &f), "A");
	CHECK_CONTAINS(pick_reason(), "(prior)");
	fleet_free(&f);

	/* B busy with one test (capacity 1): it still finishes first. */
	f = gpu_twins("", "\"active_tests\":1");
	CHECK_STR(pick(s, &vis, &f), "B");
	CHECK_CONTAINS(pick_reason(), "(wait ");
	fleet_free(&f);
	/* B with three more queued: A, which would finish sooner. */
	f = gpu_twins("", "\"active_tests\":1,\"queued_tests\":3");
	CHECK_STR(pick(s, &vis, &f), "A");
	fleet_free(&f);

	/* Growing B's queue moves the work to A exactly once, where B's
	 * estimated completion passes A's. */
	for (int q = 0; q <= 6; q++) {
		double ca, cb;
		const char *got;

		snprintf(lb, sizeof lb, "\"active_tests\":1,\"queued_tests\":%d", q);
		f = gpu_twins("", lb);
		c = candidate(s, &vis, &f, "B", &doc);
		cb = num(c, "completion_s");
		CHECK_NEAR(num(c, "wait_s"), (1 + q) * num(c, "run_s"), 1e-5);
		ca = num(find_by_worker(cJSON_GetObjectItem(doc, "candidates"), "A"),
		         "completion_s");
		cJSON_Delete(doc);
		got = pick(s, &vis, &f);
		CHECK_STR(got, cb < ca ? "B" : "A");
		if (!strcmp(got, "A") && !was_a) {
			switched++;
			was_a = 1;
		}
		CHECK(!(was_a && strcmp(got, "A")));
		fleet_free(&f);
	}
	CHECK_INT(switched, 1);

	/* A speed learned beyond any prior: A runs audio sixteen times as
	 * fast as declared.  The select's bound on learned speeds has to
	 * know it, or a queued A would be skipped unseen once B is the one
	 * to beat: B is looked at first (it won last), A's queue shrinks. */
	learn_speed(s, LBS_WL_AUDIO, "A", 16, 20);
	for (int q = 8; q >= 0; q -= 2) {
		lbs_workload aud = wl_of(a, "{\"test_id\":\"a\",\"test_type\":\"audio\","
		                            "\"expected_duration\":40}");
		double ca, cb;

		snprintf(lb, sizeof lb, "\"active_tests\":1,\"queued_tests\":%d", q);
		f = gpu_twins(lb, "");
		c = candidate(s, &aud, &f, "A", &doc);
		ca = num(c, "completion_s");
		CHECK_NEAR(num(c, "learned_speed"), 16, 1e-9);
		CHECK(num(c, "speed") > 4 * num(c, "prior_speed"));
		cb = num(find_by_worker(cJSON_GetObjectItem(doc, "candidates"), "B"),
		         "completion_s");
		cJSON_Delete(doc);
		CHECK_STR(pick(s, &aud, &f), ca < cb ? "A" : "B");
		fleet_free(&f);
	}
	sched_close(s);
	arena_free(a);
}

/* Nothing learned: the capability prior decides, and a queue weighs
 * against it run for run. */
static void test_completion_prior(void)
{
	fleet idle = fleet_parse(
		"[{\"worker_id\":\"cpu\",\"cpu_cores\":16,\"available_memory\":32},"
		" {\"worker_id\":\"gpu\",\"cpu_cores\":8,\"available_memory\":32,"
		"  \"supported_backends\":[\"cuda\"]}]");
	fleet queued = fleet_parse(
		"[{\"worker_id\":\"cpu\",\"cpu_cores\":16,\"available_memory\":32},"
		" {\"worker_id\":\"gpu\",\"cpu_cores\":8,\"available_memory\":32,"
		"  \"supported_backends\":[\"cuda\"],"
		"  \"load\":{\"active_tests\":1,\"queued_tests\":1}}]");
	lbs_workload vis = wl_of(idle.arena, "{\"test_id\":\"v\",\"test_type\":\"vision\","
	                                     "\"expected_duration\":30}");
	/* Its own instance: the shared one holds earlier tests' placements
	 * in its ledger, which size the work ahead. */
	shim_sched *hw = test_sched("hardware-aware", NULL);
	const cJSON *gpu, *cpu;
	cJSON *doc;

	CHECK_STR(pick(hw, &vis, &idle), "gpu");
	gpu = candidate(hw, &vis, &idle, "gpu", &doc);
	cpu = find_by_worker(cJSON_GetObjectItem(doc, "candidates"), "cpu");
	/* The prior is prior_scale 4 x the efficiency. */
	CHECK_NEAR(num(gpu, "prior_speed"), 4 * num(gpu, "efficiency"), 1e-6);
	CHECK_NEAR(num(gpu, "speed"), num(gpu, "prior_speed"), 0);
	CHECK(num(gpu, "speed") > num(cpu, "speed"));
	cJSON_Delete(doc);

	/* Two tests ahead on one slot: two runs of waiting, which the
	 * GPU's speed does not make up for. */
	gpu = candidate(hw, &vis, &queued, "gpu", &doc);
	cpu = find_by_worker(cJSON_GetObjectItem(doc, "candidates"), "cpu");
	CHECK_NEAR(num(gpu, "wait_s"), 2 * num(gpu, "run_s"), 1e-9);
	CHECK(num(gpu, "speed") < 3 * num(cpu, "speed"));
	CHECK_STR(cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "chosen"), 0)->valuestring, "cpu");
	cJSON_Delete(doc);
	CHECK_STR(pick(hw, &vis, &queued), "cpu");
	sched_close(hw);
	fleet_free(&idle);
	fleet_free(&queued);
}

/*
 * Without a duration (est_duration_s 0), or with "completion" off, the
 * suitability ranks exactly as before completion existed.  On this fleet
 * the two disagree: the big GPU is half busy by its utilisation, which
 * completion counts as a wait and the suitability as load.
 */
static void test_completion_off(void)
{
	fleet f = fleet_parse(
		"[{\"worker_id\":\"gpu_busy\",\"cpu_cores\":32,\"available_memory\":256,"
		"  \"supported_backends\":[\"cpu\",\"cuda\",\"pytorch\"],\"has_gpu\":true,"
		"  \"available_accelerators\":{\"gpu\":4},\"capacity\":1,"
		"  \"hardware_specs\":{\"gpu_vendor\":\"nvidia\",\"gpu_memory_gb\":80,"
		"    \"gpu_compute_units\":108,\"gpu_clock_mhz\":1410,\"gpu_tensor_cores\":true},"
		"  \"load\":{\"cpu_utilization\":50,\"memory_utilization\":50,\"gpu_utilization\":50}},"
		" {\"worker_id\":\"gpu_small\",\"cpu_cores\":16,\"available_memory\":64,"
		"  \"supported_backends\":[\"cpu\",\"cuda\",\"pytorch\"],\"has_gpu\":true,"
		"  \"available_accelerators\":{\"gpu\":1},"
		"  \"hardware_specs\":{\"gpu_vendor\":\"nvidia\",\"gpu_memory_gb\":16,"
		"    \"gpu_compute_units\":56,\"gpu_clock_mhz\":1500},"
		"  \"load\":{\"cpu_utilization\":5,\"memory_utilization\":5}}]");
	lbs_workload timed = wl_of(f.arena, "{\"test_id\":\"v\","
	                                    "\"test_type\":\"vision_classification\","
	                                    "\"minimum_memory\":2,\"expected_duration\":60}");
	lbs_workload untimed = timed;
	shim_sched *off = test_sched("hardware-aware", "{\"completion\":{\"enabled\":false}}");
	hw_params p;
	hw_state *st;
	hw_eval ev[2];
	cJSON *doc;
	const cJSON *c;

	untimed.est_duration_s = 0;
	CHECK_STR(pick(hw, &timed, &f), "gpu_small");
	CHECK_STR(pick(hw, &untimed, &f), "gpu_busy");
	CHECK_CONTAINS(pick_reason(), "hardware-aware: best score");
	CHECK_STR(pick(off, &timed, &f), "gpu_busy");
	CHECK_STR(pick(off, &untimed, &f), "gpu_busy");

	/* The untimed score is the suitability of docs/SCORING.md 1-5. */
	c = candidate(hw, &untimed, &f, "gpu_busy", &doc);
	CHECK_NEAR(num(c, "score"), 0.7 * num(c, "adjusted") + 0.3 * 0.5, 1e-6);
	CHECK(cJSON_GetObjectItem(c, "completion_s") == NULL);
	cJSON_Delete(doc);
	/* The same at the pure API, and a NaN or infinite duration is none. */
	hw_params_default(&p);
	st = hw_new(&p);
	untimed.est_duration_s = NAN;
	CHECK_INT(hw_evaluate(st, &untimed, (const lbs_worker *const *)f.workers, f.n, NULL, ev),
	          LBS_OK);
	CHECK_INT(ev[0].f.timed, 0);
	CHECK_NEAR(ev[0].f.score, ev[0].f.suitability, 0);
	untimed.est_duration_s = INFINITY;
	CHECK_INT(hw_evaluate(st, &untimed, (const lbs_worker *const *)f.workers, f.n, NULL, ev),
	          LBS_OK);
	CHECK_INT(ev[1].f.timed, 0);
	hw_free(st);
	sched_close(off);
	fleet_free(&f);
}

/*
 * The load ceiling and completion (docs/SCORING.md, "The load ceiling"): a
 * full worker is charged its wait, not barred.  A fast GPU running one test
 * at full load still finishes a 600 s test before an idle CPU; a fleet
 * that is all full still gets its timed work placed (nginx cannot queue
 * it), on whoever finishes it first.  Untimed work keeps the original's
 * guard: nothing over 0.9.
 */
static void test_ceiling_timed(void)
{
	static const char *fmt =
		"[{\"worker_id\":\"fast\",\"cpu_cores\":32,\"available_memory\":256,"
		"  \"supported_backends\":[\"cpu\",\"cuda\",\"pytorch\"],\"has_gpu\":true,"
		"  \"available_accelerators\":{\"gpu\":1},"
		"  \"hardware_specs\":{\"gpu_vendor\":\"nvidia\",\"gpu_memory_gb\":80,"
		"    \"gpu_compute_units\":108,\"gpu_clock_mhz\":1410,\"gpu_tensor_cores\":true},"
		"  \"load\":{\"active_tests\":1,\"cpu_utilization\":100,\"memory_utilization\":100,"
		"   \"gpu_utilization\":100,\"io_utilization\":100,\"network_utilization\":100}},"
		" {\"worker_id\":\"slow\",\"cpu_cores\":16,\"available_memory\":64,"
		"  \"supported_backends\":[\"cpu\",\"pytorch\"],"
		"  \"load\":{%s}}]";
	static const char *full =
		"\"active_tests\":1,\"cpu_utilization\":100,\"memory_utilization\":100,"
		"\"gpu_utilization\":100,\"io_utilization\":100,\"network_utilization\":100";
	char json[2048];
	fleet one, all;
	lbs_workload wl, untimed;
	shim_sched *s = test_sched("hardware-aware", NULL);
	shim_sched *s2 = test_sched("hardware-aware", NULL);
	const cJSON *fast, *slow;
	cJSON *doc;

	snprintf(json, sizeof json, fmt, "");
	one = fleet_parse(json);
	snprintf(json, sizeof json, fmt, full);
	all = fleet_parse(json);
	wl = wl_of(one.arena, "{\"test_id\":\"t\",\"test_type\":\"training\","
	                      "\"expected_duration\":600}");
	untimed = wl;
	untimed.est_duration_s = 0;

	/* The full GPU's wait plus run is less than the idle CPU's run. */
	fast = candidate(s, &wl, &one, "fast", &doc);
	slow = find_by_worker(cJSON_GetObjectItem(doc, "candidates"), "slow");
	CHECK(fast != NULL && slow != NULL);
	CHECK(num(fast, "wait_s") > 0);
	CHECK(num(fast, "completion_s") < num(slow, "completion_s"));
	cJSON_Delete(doc);
	CHECK_STR(pick(s, &wl, &one), "fast");
	CHECK_CONTAINS(pick_reason(), "(wait ");
	CHECK_STR(pick(s2, &untimed, &one), "slow");

	/* All full: timed work still has a worker, the one finishing
	 * first; untimed work has none, with the ceiling as the reason. */
	CHECK_STR(pick(s2, &wl, &all), "fast");
	CHECK_STR(pick(s2, &untimed, &all), "none");
	CHECK_CONTAINS(pick_reason(), "overloaded 2");
	sched_close(s);
	sched_close(s2);
	fleet_free(&one);
	fleet_free(&all);
}

/* A throttled worker runs at its performance level, on top of what was
 * learned; failures make a worker as slow as the retries they cost. */
static void test_completion_throttle_and_failures(void)
{
	arena *a = arena_new();
	lbs_workload vis = wl_of(a, "{\"test_id\":\"v\",\"test_type\":\"vision\","
	                            "\"expected_duration\":40}");
	fleet f = gpu_twins("", "\"cooling_state\":true,\"performance_level\":0.5");
	shim_sched *s = test_sched("hardware-aware", K2);
	const cJSON *ca, *cb;
	cJSON *doc;

	/* Nothing learned: B at half speed loses. */
	CHECK_STR(pick(s, &vis, &f), "A");
	cb = candidate(s, &vis, &f, "B", &doc);
	CHECK_NEAR(num(cb, "speed"), 0.5 * num(cb, "prior_speed"), 1e-9);
	cJSON_Delete(doc);
	/* B learned four times as fast: at half of that it still wins. */
	learn_speed(s, LBS_WL_VISION, "A", 1, 10);
	learn_speed(s, LBS_WL_VISION, "B", 4, 10);
	CHECK_STR(pick(s, &vis, &f), "B");
	cb = candidate(s, &vis, &f, "B", &doc);
	CHECK_NEAR(log(num(cb, "speed") / 0.5),
	           (10 * log(4.0) + 2 * log(num(cb, "prior_speed"))) / 12, 1e-6);
	cJSON_Delete(doc);
	fleet_free(&f);

	sched_close(s);

	/* A fails as often as it succeeds, B never: equal speed.  A's failure
	 * rate q = 12 / (22 + 2) = 0.5 at a failure cost of 3 runs (the
	 * default) gives a reliability of 1 / (1 + 3 q / (1 - q)) = 1/4: four
	 * times B's estimate. */
	f = gpu_twins("", "");
	s = test_sched("hardware-aware", K2);
	learn_speed(s, LBS_WL_VISION, "A", 1, 10);
	for (int i = 0; i < 12; i++)
		report(s, "A", LBS_RESULT_FAILURE);
	learn_speed(s, LBS_WL_VISION, "B", 1, 10);
	CHECK_STR(pick(s, &vis, &f), "B");
	CHECK_CONTAINS(pick_reason(), "of B");
	ca = candidate(s, &vis, &f, "A", &doc);
	cb = find_by_worker(cJSON_GetObjectItem(doc, "candidates"), "B");
	CHECK_NEAR(num(ca, "reliability"), 1.0 / 4, 1e-6);
	CHECK_NEAR(num(cb, "reliability"), 1, 0);
	CHECK_NEAR(num(ca, "speed"), num(cb, "speed"), 1e-9);
	CHECK_NEAR(num(ca, "completion_s"), 4 * num(cb, "completion_s"), 1e-4);
	cJSON_Delete(doc);
	sched_close(s);
	fleet_free(&f);
	arena_free(a);
}

/*
 * A twin that fails 30 % of its runs loses to its healthy twin even when
 * the healthy one has a run of waiting ahead (two tests on two slots, half
 * a run each way): a failure costs three runs (failure_cost), so B's 70 %
 * successes weigh as 44 %.  Counted as bare expected runs (failure_cost 1,
 * as before), the flaky twin took the work.
 */
static void test_flaky_twin_avoided(void)
{
	arena *a = arena_new();
	lbs_workload vis = wl_of(a, "{\"test_id\":\"v\",\"test_type\":\"vision\","
	                            "\"expected_duration\":40}");
	fleet f = fleet_parse(
		"[{\"worker_id\":\"A\",\"cpu_cores\":8,\"available_memory\":32,\"capacity\":2,"
		"  \"supported_backends\":[\"cuda\"],\"load\":{\"active_tests\":2}},"
		" {\"worker_id\":\"B\",\"cpu_cores\":8,\"available_memory\":32,\"capacity\":2,"
		"  \"supported_backends\":[\"cuda\"]}]");
	shim_sched *s = test_sched("hardware-aware", K2);
	shim_sched *one = test_sched("hardware-aware",
	                             "{\"completion\":{\"prior_weight\":2,\"failure_cost\":1}}");
	const cJSON *cb;
	cJSON *doc;

	for (shim_sched **x = (shim_sched *[]){s, one, NULL}; *x; x++) {
		learn_speed(*x, LBS_WL_VISION, "A", 1, 100);
		learn_speed(*x, LBS_WL_VISION, "B", 1, 70);
		for (int i = 0; i < 30; i++)
			report(*x, "B", LBS_RESULT_FAILURE);
	}
	CHECK_STR(pick(s, &vis, &f), "A");
	cb = candidate(s, &vis, &f, "B", &doc);
	/* q = 30 / 102, p = (1 - q) / (1 - q + 3 q). */
	CHECK_NEAR(num(cb, "reliability"), (72.0 / 102) / (72.0 / 102 + 90.0 / 102), 1e-6);
	cJSON_Delete(doc);
	CHECK_STR(pick(one, &vis, &f), "B");
	sched_close(s);
	sched_close(one);
	fleet_free(&f);
	arena_free(a);
}

/*
 * Latency alone: requests that declare no duration, on three identical
 * workers, the first of which answers in 50 ms and the others in 1 ms.
 * Relative to its peers' latency the slow one keeps a fiftieth of its
 * learned preference, and loses the traffic; before this, every success
 * raised its preference and it kept all 2,000 requests.
 */
static void test_latency_alone(void)
{
	fleet f = fleet_parse(
		"[{\"worker_id\":\"slow\",\"cpu_cores\":8,\"available_memory\":32},"
		" {\"worker_id\":\"fast1\",\"cpu_cores\":8,\"available_memory\":32},"
		" {\"worker_id\":\"fast2\",\"cpu_cores\":8,\"available_memory\":32}]");
	lbs_workload req = wl_of(f.arena, "{\"test_id\":\"r\",\"test_type\":\"inference\"}");
	shim_sched *s = test_sched("hardware-aware", NULL);
	int slow = 0;

	/* What a proxy sends: no duration at all. */
	req.est_duration_s = 0;
	for (int i = 0; i < 2000; i++) {
		const char *got = pick(s, &req, &f);
		lbs_outcome o = {
			.struct_size = sizeof o,
			.workload_type = req.type,
			.worker_id = got,
			.result = LBS_RESULT_SUCCESS,
			.duration_s = strcmp(got, "slow") == 0 ? 0.050 : 0.001,
		};

		slow += strcmp(got, "slow") == 0;
		CHECK_INT(sched_report(s, &o), LBS_OK);
	}
	CHECK(slow <= 200);
	CHECK(slow >= 1); /* it was tried */
	sched_close(s);
	fleet_free(&f);
}

/* ===== The worked example of docs/SCORING.md ============================== */

static const char *example_fleet =
	"[{\"worker_id\":\"cpu-1\",\"cpu_cores\":16,\"available_memory\":32,"
	"  \"supported_backends\":[\"pytorch\"],"
	"  \"load\":{\"cpu_utilization\":20,\"memory_utilization\":30}},"
	" {\"worker_id\":\"gpu-1\",\"cpu_cores\":8,\"available_memory\":64,"
	"  \"supported_backends\":[\"pytorch\",\"cuda\"],"
	"  \"hardware_specs\":{\"gpu_memory_gb\":24},"
	"  \"capacity\":2,"
	"  \"load\":{\"cpu_utilization\":50,\"memory_utilization\":40,"
	"            \"gpu_utilization\":60,\"temperature\":0.5,\"active_tests\":1}},"
	" {\"worker_id\":\"browser-1\",\"available_memory\":8,\"has_webgpu\":true,"
	"  \"supported_backends\":[\"webgpu\"]}]";

static const char *example_test =
	"{\"test_id\":\"vis-1\",\"test_type\":\"vision_classification\","
	"\"minimum_memory\":2,\"expected_duration\":60}";

/* docs/SCORING.md's "Then learning": gpu-1's vision runs took half their
 * declared time, ten times. */
static const lbs_history *worked_history(void *ctx, uint32_t type, const char *id)
{
	static const lbs_history ten = {.samples = 10, .successes = 10, .preference = 0.5,
	                                .mean_duration = 30, .ratio_n = 10,
	                                .log_ratio_mean = -0.69314718055994531};

	(void)ctx;
	(void)type;
	return strcmp(id, "gpu-1") ? NULL : &ten;
}

static void test_worked_example(void)
{
	fleet f = fleet_parse(example_fleet);
	lbs_workload wl = wl_of(f.arena, example_test);
	hw_params p;
	hw_state *s;
	hw_eval ev[3];
	uint32_t order[3], tmp[3];
	/* docs/SCORING.md, by hand: weights 0.5, 0.125, 0.2, 0 (sum 0.825). */
	double sum = 0.825;
	double cpu_eff = (0.5 * 16.0 / 80 + 0.125 * 16.0 / 17 + 0.2 * 0.5) / sum;
	double gpu_eff = (0.5 * 288.0 / 352 + 0.125 * 12.0 / 13 + 0.2 * 0.5) / sum;
	double br_eff = (0.5 * 3.0 / 67 + 0.125 * 0.5 + 0.2 * 0.5) / sum;
	double cpu_adj = cpu_eff * (1 - 0.3 * 0.15);
	double gpu_adj = gpu_eff * (1 - 0.3 * 0.39) * (1 - 0.3 * 0.5) / (1 + 0.5 * 0.5);

	/* Section 10, completion: prior speed 4 x efficiency; cpu-1's
	 * utilisation is a 0.15 share of a test ahead on its one slot,
	 * gpu-1's running test takes one of its two slots. */
	double sp[3] = {4 * cpu_eff, 4 * gpu_eff, 4 * br_eff};
	double g[3] = {0.15, 0, 0};

	hw_params_default(&p);
	s = hw_new(&p);
	CHECK_INT(hw_evaluate(s, &wl, (const lbs_worker *const *)f.workers, f.n, NULL, ev),
	          LBS_OK);
	CHECK_NEAR(ev[0].f.throughput, 16, 1e-12);
	CHECK_NEAR(ev[0].f.compute, 0.2, 1e-12);
	CHECK_NEAR(ev[0].f.memory, 16.0 / 17, 1e-12);
	CHECK_NEAR(ev[0].f.efficiency, cpu_eff, 1e-12);
	CHECK_NEAR(ev[0].f.effective_load, 0.15, 1e-12);
	CHECK_NEAR(ev[0].f.suitability, 0.7 * cpu_adj + 0.15, 1e-12);

	CHECK_INT(ev[1].f.device, 1);
	CHECK_NEAR(ev[1].f.throughput, 288, 1e-9);
	CHECK_NEAR(ev[1].f.efficiency, gpu_eff, 1e-12);
	CHECK_NEAR(ev[1].f.effective_load, 0.39, 1e-12);
	CHECK_NEAR(ev[1].f.temperature_factor, 0.85, 1e-12);
	CHECK_NEAR(ev[1].f.queue_factor, 0.8, 1e-12);
	CHECK_NEAR(ev[1].f.suitability, 0.7 * gpu_adj + 0.15, 1e-12);

	CHECK_NEAR(ev[2].f.throughput, 3, 1e-12);
	CHECK_NEAR(ev[2].f.memory, 0.5, 1e-12);
	CHECK_NEAR(ev[2].f.suitability, 0.7 * br_eff + 0.15, 1e-12);

	/* The rounded numbers printed in the document. */
	CHECK_NEAR(ev[0].f.suitability, 0.407390, 5e-7);
	CHECK_NEAR(ev[1].f.suitability, 0.468148, 5e-7);
	CHECK_NEAR(ev[2].f.suitability, 0.306875, 5e-7);

	for (int i = 0; i < 3; i++) {
		CHECK_INT(ev[i].f.timed, 1);
		CHECK_NEAR(ev[i].f.prior_speed, sp[i], 1e-12);
		CHECK_NEAR(ev[i].f.speed, sp[i], 1e-12);
		CHECK_NEAR(ev[i].f.reliability, 1, 0);
		CHECK_NEAR(ev[i].f.run_s, 60 / sp[i], 1e-9);
		CHECK_NEAR(ev[i].f.wait_s, g[i] * 60 / sp[i], 1e-9);
		CHECK_NEAR(ev[i].f.completion_s, (1 + g[i]) * 60 / sp[i], 1e-9);
		CHECK_NEAR(ev[i].f.score, sp[i] / (sp[i] + 1 + g[i]), 1e-12);
	}
	CHECK_NEAR(ev[0].f.completion_s, 44.802, 5e-4);
	CHECK_NEAR(ev[1].f.completion_s, 19.817, 5e-4);
	CHECK_NEAR(ev[2].f.completion_s, 66.932, 5e-4);
	CHECK_NEAR(ev[0].f.score, 0.572508, 5e-7);
	CHECK_NEAR(ev[1].f.score, 0.751723, 5e-7);
	CHECK_NEAR(ev[2].f.score, 0.472693, 5e-7);

	CHECK_INT(hw_rank(ev, 3, order, tmp), 3);
	CHECK_INT(order[0], 1);
	CHECK_INT(order[1], 0);
	CHECK_INT(order[2], 2);
	CHECK_STR(pick(hw, &wl, &f), "gpu-1");

	/* "Then learning": gpu-1 ran ten of these in half their declared
	 * time and has two more queued behind its running one.  Ten runs
	 * against the prior's weight of 16: speed 2.581401, 23.2 s a run,
	 * 46.5 s to finish; cpu-1's 44.8 s is sooner. */
	{
		hw_learned l = {worked_history, NULL, NULL, NULL, NULL, 0.0, NULL, NULL, NULL};
		double sk = exp((10 * log(2.0) + 16 * log(sp[1])) / 26);

		f.workers[1]->queued_tests = 2;
		CHECK_INT(hw_evaluate(s, &wl, (const lbs_worker *const *)f.workers, f.n, &l, ev),
		          LBS_OK);
		CHECK_NEAR(ev[1].f.learned_speed, 2, 1e-12);
		CHECK_NEAR(ev[1].f.speed, sk, 1e-12);
		CHECK_NEAR(ev[1].f.speed, 2.581401, 5e-7);
		CHECK_NEAR(ev[1].f.run_s, 23.2432, 5e-5);
		CHECK_NEAR(ev[1].f.wait_s, 23.2432, 5e-5);
		CHECK_NEAR(ev[1].f.completion_s, 46.4864, 5e-5);
		CHECK_NEAR(ev[1].f.score, 0.563452, 5e-7);
		CHECK_NEAR(ev[0].f.completion_s, 44.802, 5e-4);
		CHECK_INT(hw_rank(ev, 3, order, tmp), 3);
		CHECK_INT(order[0], 0);
		f.workers[1]->queued_tests = 0;
	}

	/* A device that gives no compute units has the throughput of one. */
	{
		lbs_device d0 = *f.workers[0]->devices[0], d1 = d0;
		const lbs_device *dp0[1] = {&d0}, *dp1[1] = {&d1};
		lbs_worker w0 = *f.workers[0], w1 = w0;
		const lbs_worker *ws0[1] = {&w0}, *ws1[1] = {&w1};
		hw_eval e0, e1;

		d0.compute_units = 0;
		d1.compute_units = 1;
		w0.n_devices = w1.n_devices = 1;
		w0.devices = dp0;
		w1.devices = dp1;
		CHECK_INT(hw_evaluate(s, &wl, ws0, 1, NULL, &e0), LBS_OK);
		CHECK_INT(hw_evaluate(s, &wl, ws1, 1, NULL, &e1), LBS_OK);
		CHECK(e0.f.throughput > 0.0);
		CHECK(e0.f.throughput == e1.f.throughput);
	}
	/* The clock's ratio to the class's reference (cpu-1's is a CPU's,
	 * 2,500 MHz) is clamped to 0.25..4, and is 1 without a clock
	 * (throughput_of's MAXSD and MINSD, and its row's clock column). */
	{
		static const uint32_t mhz[] = {0, 2500, 1, 624, 625, 1250, 10000, 10001, 4000000000u};
		static const double ratio[] = {1, 1, 0.25, 0.25, 0.25, 0.5, 4, 4, 4};
		lbs_device d = *f.workers[0]->devices[0];
		const lbs_device *dp[1] = {&d};
		lbs_worker w = *f.workers[0];
		const lbs_worker *ws[1] = {&w};
		double t1 = 0.0;

		w.n_devices = 1;
		w.devices = dp;
		for (size_t i = 0; i < sizeof mhz / sizeof mhz[0]; i++) {
			hw_eval e;

			d.clock_mhz = mhz[i];
			CHECK_INT(hw_evaluate(s, &wl, ws, 1, NULL, &e), LBS_OK);
			if (i == 0)
				t1 = e.f.throughput;
			CHECK(t1 > 0.0);
			CHECK(e.f.throughput == t1 * ratio[i]);
		}
	}
	hw_free(s);
	fleet_free(&f);
}

/* ===== The pure API directly ============================================== */

/* The warming loss is in the effective load once, not multiplied in again
 * as performance_level (the original's double penalty). */
static void test_no_double_thermal_penalty(void)
{
	fleet f = fleet_parse(
		"[{\"worker_id\":\"w\",\"cpu_cores\":8,\"available_memory\":16,"
		"  \"load\":{\"cpu_utilization\":30,\"warming_state\":true,"
		"            \"performance_level\":0.7}}]");
	lbs_workload wl = wl_of(f.arena, "{\"test_id\":\"t\"}");
	hw_params p;
	hw_state *s;
	hw_factors b;
	uint32_t idx[1], k;

	hw_params_default(&p);
	s = hw_new(&p);
	CHECK_INT(hw_select(s, &wl, (const lbs_worker *const *)f.workers, 1, NULL, 1, 1, idx,
	                    &k, &b), LBS_OK);
	CHECK_NEAR(b.effective_load, 0.09 + 0.3, 1e-12);
	CHECK_NEAR(b.load_factor, 1 - 0.3 * 0.39, 1e-12);
	CHECK_NEAR(b.adjusted, b.efficiency * (1 - 0.3 * 0.39), 1e-12);
	hw_free(s);
	fleet_free(&f);
}

/* Random fleets: select (running best, top-k, learned pruning, device
 * cache) must agree with a full evaluation ranked by hw_rank. */
typedef struct rnd_worker {
	lbs_worker w;
	lbs_device d[4];
	const lbs_device *dp[4];
	char id[16];
} rnd_worker;


/*
 * A random workload for the random-fleet tests: INT8 required one time in
 * int8_1_in, 0..mem_steps-1 GiB of memory, timed unless the draw of
 * untimed_1_in is 0, then 10 s x 1..dur_steps (coarse, so completions tie).
 */
static lbs_workload rnd_workload(uint32_t int8_1_in, uint32_t mem_steps, uint32_t untimed_1_in,
                                 uint32_t dur_steps)
{
	lbs_workload wl = {
		.struct_size = sizeof wl,
		.type = rnd(LBS_WL_COUNT),
		.compute_intensity = rnd(5) / 4.0,
		.memory_intensity = rnd(5) / 4.0,
		.energy_sensitivity = rnd(3) / 2.0,
		.required_backends = rnd(3) == 0 ? LBS_BACKEND_CUDA : 0,
		.required_precisions = rnd(int8_1_in) == 0 ? LBS_PREC_INT8 : 0,
		.min_memory_bytes = rnd(mem_steps) * GIB,
		.preferred_class = rnd(3) == 0 ? LBS_CLASS_GPU : 0,
		.est_duration_s = rnd(untimed_1_in) ? 10.0 * (1 + rnd(dur_steps)) : 0.0,
	};

	return wl;
}

/* rnd_workload()'s timed work that every device may take: no backend,
 * class or energy term, so that the screens' bounds are the ones tested. */
static lbs_workload open_workload(void)
{
	lbs_workload wl = rnd_workload(3, 2, 1000000, 3);

	wl.required_backends = 0;
	wl.preferred_class = 0;
	wl.energy_sensitivity = 0.0;
	return wl;
}

static const lbs_history *fake_history(void *ctx, uint32_t type, const char *id)
{
	static lbs_history h;
	size_t len = strlen(id);
	unsigned v = (unsigned)(id[len - 1] + id[len - 2] + type);

	(void)ctx;
	/* A few workers known, with preferences spread over 0..1, speeds
	 * from e^-2 to e^2 times as declared (some not learned), and some
	 * failures. */
	if ((id[len - 1] - '0') % 3 != 0)
		return NULL;
	h.preference = (v % 11) / 10.0;
	h.ratio_n = v % 4 == 0 ? 0 : v % 7;
	h.log_ratio_mean = h.ratio_n ? ((double)(v % 9) - 4.0) / 2.0 : 0.0;
	h.samples = h.ratio_n + v % 3;
	h.successes = h.ratio_n;
	h.failures = h.samples - h.successes;
	return &h;
}

/* fake_history as a fleet learned to be slow: speeds at most as declared,
 * which leaves the priors to decide who could win. */
static const lbs_history *fake_slow_history(void *ctx, uint32_t type, const char *id)
{
	static lbs_history h;
	const lbs_history *f = fake_history(ctx, type, id);

	if (!f)
		return NULL;
	h = *f;
	h.log_ratio_mean = fabs(h.log_ratio_mean);
	return &h;
}

static double fake_slow_speed_ub(void *ctx, uint32_t type)
{
	(void)ctx;
	(void)type;
	return 1.0;
}

/* fake_history's speeds are e^2 at most: a bound, and nearly tight. */
static double fake_speed_ub(void *ctx, uint32_t type)
{
	(void)ctx;
	(void)type;
	return 7.39;
}

static void make_random(rnd_worker *r, uint32_t i)
{
	static const uint32_t classes[] = {LBS_CLASS_CPU, LBS_CLASS_GPU, LBS_CLASS_TPU,
	                                   LBS_CLASS_NPU, LBS_CLASS_HYBRID};

	memset(r, 0, sizeof *r);
	snprintf(r->id, sizeof r->id, "w%02u", i);
	r->w.struct_size = sizeof r->w;
	r->w.id = r->id;
	r->w.n_devices = 1 + rnd(4);
	r->w.devices = r->dp;
	for (uint32_t d = 0; d < r->w.n_devices; d++) {
		lbs_device *x = &r->d[d];

		x->struct_size = sizeof *x;
		x->hw_class = classes[rnd(5)];
		x->backends = LBS_BACKEND_PYTORCH | (rnd(2) ? LBS_BACKEND_CUDA : 0);
		x->precisions = LBS_PREC_FP32 | (rnd(2) ? LBS_PREC_INT8 : 0);
		x->features = (rnd(2) ? LBS_FEAT_TENSOR_CORES : 0) |
		              (rnd(2) ? LBS_FEAT_QUANTIZATION : 0);
		/* Now and then so much memory that the memory term is all
		 * but 1, which makes the bounds on the others tight. */
		x->mem_available_bytes = rnd(6) ? (1 + rnd(4)) * GIB : UINT64_C(1) << 55;
		x->compute_units = rnd(3) ? 1 + rnd(100) : 0;
		x->clock_mhz = rnd(3) ? 500 + rnd(3000) : 0;
		x->tdp_watts = rnd(20) * 10;
		r->dp[d] = x;
	}
	/* Coarse loads so that exact ties happen. */
	r->w.util_cpu = rnd(4) / 4.0;
	r->w.util_memory = rnd(2) / 2.0;
	r->w.temperature = rnd(3) / 2.0;
	r->w.thermal_state = rnd(4) == 0 ? LBS_THERMAL_WARMING : LBS_THERMAL_NORMAL;
	r->w.performance_level = 0.5 + rnd(2) / 2.0;
	r->w.active_tests = rnd(3);
	r->w.queued_tests = rnd(4) == 0 ? rnd(4) : 0;
	r->w.capacity = rnd(3);
	/* Mostly a host that does not know its pending work (then the
	 * fake ledger below sizes it), now and then one that does. */
	r->w.pending_work_s = rnd(4) ? LBS_WORK_UNKNOWN : rnd(4) * 20.0;
	/* A worker in three has accelerators, as the converter gives every
	 * record with available_accelerators: the fast scans take it as
	 * the usual worker.  By position, not drawn, so that the draws
	 * above stay the fleets they were. */
	if (i % 3 == 0) {
		static const char *const kinds[] = {"gpu"};
		static const uint32_t counts[] = {2};

		r->w.accel_kinds = kinds;
		r->w.accel_counts = counts;
		r->w.n_accels = 1;
	}
}

/* A ledger's answer: by the id's last digit, 3..19 s (below the new
 * work's 10..30, so that waits shrink), none for 0 and 5; never below 3,
 * the bound given with it. */
static double fake_open(void *ctx, uint32_t pos, const char *id)
{
	size_t n = strlen(id);
	int d = id[n - 1] - '0';

	(void)ctx;
	(void)pos;
	return d % 5 == 0 ? -1.0 : 1.0 + d * 2.0;
}

/* The learned states the random-fleet tests draw from: records only;
 * records with speed bounds and the ledger's open work; slow records. */
static const hw_learned learned = {fake_history, NULL, NULL, NULL, NULL, 0.0, NULL, NULL, NULL};
static const hw_learned bounded = {fake_history, NULL, fake_speed_ub, fake_open, NULL, 3.0, NULL, NULL, NULL};
static const hw_learned slow = {fake_slow_history, NULL, fake_slow_speed_ub, fake_open, NULL,
                                 3.0, NULL, NULL, NULL};
/* Nothing learned but work open: the timed select's scan without records
 * (select_one_fresh), at the ledger's least size. */
static const hw_learned open_only = {NULL, NULL, NULL, fake_open, NULL, 3.0, NULL, NULL, NULL};

/* Workers a select_vs_rank() round may have. */
#define RANK_MAX 64

/*
 * One round of select against the full evaluation: hw_select() must
 * answer the first places of hw_rank()'s order (left in order[] for the
 * caller, the evaluation in ev[]).  Returns the places where they differ,
 * or -1 when fewer than need workers are eligible: then select says
 * LBS_NO_WORKER and, asked for several, counts the eligible exactly.
 */
static int select_vs_rank(hw_state *s, const lbs_workload *wl, const lbs_worker *const *ws,
                          uint32_t n, const hw_learned *l, uint32_t want, uint32_t need,
                          hw_eval *ev, uint32_t *order)
{
	uint32_t tmp[RANK_MAX], idx[RANK_MAX], k = 0, m;
	lbs_status st;
	int diff = 0;

	if (n > RANK_MAX || want > RANK_MAX) {
		CHECK(!"select_vs_rank: too many workers");
		return -1;
	}
	CHECK_INT(hw_evaluate(s, wl, ws, n, l, ev), LBS_OK);
	m = hw_rank(ev, n, order, tmp);
	st = hw_select(s, wl, ws, n, l, want, need, idx, &k, NULL);
	if (m < need) {
		CHECK_INT(st, LBS_NO_WORKER);
		if (want > 1)
			CHECK_INT(k, m);
		return -1;
	}
	CHECK_INT(st, LBS_OK);
	CHECK_INT(k, want < m ? want : m);
	for (uint32_t i = 0; i < k; i++)
		diff += idx[i] != order[i];
	return diff;
}

static void test_random_consistency(void)
{
	enum { N = 40 };
	static rnd_worker rw[N];
	const lbs_worker *ws[N];
	hw_params p, p0;
	hw_state *states[2], *s;
	hw_eval ev[N];
	uint32_t order[N];
	int mismatches = 0, short_rounds = 0, timed_rounds = 0;

	hw_params_default(&p);
	/* With prior_weight 0 one learned run is the whole speed. */
	p0 = p;
	p0.prior_weight = 0;
	states[0] = hw_new(&p);
	states[1] = hw_new(&p0);
	for (int round = 0; round < 600; round++) {
		/* Half the rounds timed, with coarse durations so that
		 * completions tie too. */
		lbs_workload wl = rnd_workload(3, 3, 2, 3);
		const hw_learned *l = round % 4 == 2 ? &open_only : round % 2 == 0 ? NULL
		                      : round % 6 == 1 ? &learned : round % 6 == 3 ? &bounded : &slow;
		int strict = rnd(3) == 0;
		/* Half the rounds want one worker: the loops of a single
		 * select are the specialised ones. */
		uint32_t want = rnd(2) ? 1 : 1 + rnd(6), need = 1 + rnd(want);
		const char *excl[1];
		int d;

		/* Some rounds leave only a handful eligible, so that "fewer
		 * than need" happens too. */
		if (strict) {
			wl.required_backends = LBS_BACKEND_CUDA;
			wl.required_features = LBS_FEAT_TENSOR_CORES;
			wl.required_precisions = LBS_PREC_INT8;
			wl.min_memory_bytes = 4 * GIB;
		}
		/* Rebuild some workers in place between rounds. */
		for (uint32_t i = 0; i < N; i++) {
			if (round == 0 || rnd(10) == 0)
				make_random(&rw[i], i);
			ws[i] = &rw[i].w;
		}
		/* Some twins of earlier workers that differ only in their
		 * temperature: the same completion, another suitability, so
		 * that the tie-breaks run and a bound a hair too tight shows. */
		for (uint32_t i = N / 2; i < N; i++) {
			const rnd_worker *o = &rw[i - N / 2];

			if (rnd(3))
				continue;
			memcpy(rw[i].d, o->d, sizeof o->d);
			rw[i].w.n_devices = o->w.n_devices;
			rw[i].w.util_cpu = o->w.util_cpu;
			rw[i].w.util_memory = o->w.util_memory;
			rw[i].w.thermal_state = o->w.thermal_state;
			rw[i].w.performance_level = o->w.performance_level;
			rw[i].w.active_tests = o->w.active_tests;
			rw[i].w.queued_tests = o->w.queued_tests;
			rw[i].w.capacity = o->w.capacity;
			rw[i].w.temperature = rnd(3) / 2.0;
			/* Now and then another count of running tests or
			 * another load as well: the queue's divisor and the
			 * load's factor of the suitability, which the scans'
			 * bound on a tie (tie_below) must not take for less
			 * than they are. */
			if (rnd(2))
				rw[i].w.active_tests = rnd(o->w.capacity ? o->w.capacity + 1 : 2);
			if (rnd(3) == 0)
				rw[i].w.util_cpu = rnd(4) / 4.0;
		}
		/* With work open and nothing learned, busy workers warming
		 * or cooling: select_one_fresh hands them to
		 * fresh_below_busy, which must leave those the ledger is to
		 * size to screen_timed. */
		if (l == &open_only)
			for (uint32_t i = 0; i < N; i++)
				if (rnd(3) == 0) {
					rw[i].w.thermal_state = rnd(2) ? LBS_THERMAL_WARMING
					                               : LBS_THERMAL_COOLING;
					rw[i].w.active_tests = rw[i].w.capacity ? rw[i].w.capacity : 1;
				}
		/* An exclude list takes select off its inline fast path
		 * onto elig_check. */
		if (rnd(3) == 0) {
			excl[0] = rw[rnd(N)].id;
			wl.exclude_ids = excl;
			wl.n_exclude = 1;
		}
		s = states[rnd(4) == 0];
		/* The fake lookups answer the same for ever: a generation
		 * each may vouch for them, so the rounds with a store use the
		 * per-worker memo. */
		hw_remember(states[0], l == &slow ? 8 : 7);
		timed_rounds += wl.est_duration_s > 0;
		d = select_vs_rank(s, &wl, ws, N, l, want, need, ev, order);
		if (d < 0) {
			short_rounds++;
			continue;
		}
		mismatches += d;
		/* score() agrees with explain's numbers. */
		{
			double sc[N];

			CHECK_INT(hw_score(s, &wl, ws, N, l, sc), LBS_OK);
			for (uint32_t i = 0; i < N; i++)
				mismatches += ev[i].reason == ELIG_OK ? sc[i] != ev[i].f.score
				                                      : sc[i] != -1.0;
		}
	}
	CHECK_INT(mismatches, 0);
	CHECK(short_rounds > 10);
	CHECK(timed_rounds > 200);
	hw_free(states[0]);
	hw_free(states[1]);
}

/* Open work of 1..200 s by the id's last digit, none for 8; never below
 * 1, the bound given with it. */
static double wide_open(void *ctx, uint32_t pos, const char *id)
{
	static const double size[10] = {1, 2, 5, 10, 20, 50, 100, 200, -1, 3};

	(void)ctx;
	(void)pos;
	return size[(id[strlen(id) - 1] - '0') % 10];
}

/* Now and then a worker from a host whose struct ends before
 * pending_work_s (fresh_next sends it to fresh_below_other), with a number
 * behind its end that would decide if it were read: none, or a queue of
 * work far longer than the new one. */
static void older_host(lbs_worker *w)
{
	if (rnd(6))
		return;
	w->struct_size = LBS_WORKER_SIZE_V1_0;
	w->pending_work_s = rnd(2) ? 0.0 : 1e6;
}

/*
 * With nothing learned, select_one_fresh asks the ledger about a busy
 * worker at full speed itself (fresh_below_looked), not in screen_timed:
 * the same answer as a full evaluation on fleets where nearly every worker
 * is busy, so that the winner is the one whose ledger says its queue is
 * short, and a size read wrong there shows.
 */
static void test_fresh_busy_consistency(void)
{
	enum { N = 40 };
	static const hw_learned open_wide = {NULL, NULL, NULL, wide_open, NULL, 1.0, NULL, NULL, NULL};
	static rnd_worker rw[N];
	const lbs_worker *ws[N];
	hw_params p;
	hw_state *s;
	hw_eval ev[N];
	uint32_t order[N];
	int mismatches = 0, rounds = 0, busy_won = 0;

	hw_params_default(&p);
	s = hw_new(&p);
	for (int round = 0; round < 500; round++) {
		lbs_workload wl = rnd_workload(3, 3, 1000000, 3);
		int d;

		for (uint32_t i = 0; i < N; i++) {
			make_random(&rw[i], i);
			/* Full speed, no pending work from the host: the
			 * usual busy worker of fresh_below. */
			rw[i].w.thermal_state = LBS_THERMAL_NORMAL;
			rw[i].w.pending_work_s = LBS_WORK_UNKNOWN;
			if (rnd(10)) {
				uint32_t cap = rw[i].w.capacity ? rw[i].w.capacity : 1;

				rw[i].w.active_tests = cap;
				rw[i].w.queued_tests = rnd(3);
			}
			older_host(&rw[i].w);
			ws[i] = &rw[i].w;
		}
		d = select_vs_rank(s, &wl, ws, N, &open_wide, 1, 1, ev, order);
		if (d < 0)
			continue;
		rounds++;
		mismatches += d;
		busy_won += ws[order[0]]->active_tests > 0;
	}
	CHECK_INT(mismatches, 0);
	CHECK(rounds > 400);
	CHECK(busy_won > 100);
	hw_free(s);
}

/*
 * A malformed worker fails a timed select with nothing learned wherever it
 * stands (fresh_next hands it back unscreened, and select_one_fresh, which
 * takes a FRESH_LOOK worker as valid, must still refuse it), also among
 * busy workers at full speed whose queues send the others to the ledger.
 */
static void test_fresh_invalid(void)
{
	enum { N = 40 };
	static const hw_learned open_wide = {NULL, NULL, NULL, wide_open, NULL, 1.0, NULL, NULL, NULL};
	static rnd_worker rw[N];
	static const uint32_t at[] = {0, 1, 17, N - 1};
	const char *kinds[1] = {"gpu"};
	const lbs_worker *ws[N];
	uint32_t idx[1], found;
	hw_params p;
	hw_state *s;

	hw_params_default(&p);
	s = hw_new(&p);
	for (int round = 0; round < 40; round++) {
		lbs_workload wl = rnd_workload(3, 3, 1000000, 3);

		for (uint32_t i = 0; i < N; i++) {
			make_random(&rw[i], i);
			if (round % 2) {
				rw[i].w.thermal_state = LBS_THERMAL_NORMAL;
				rw[i].w.pending_work_s = LBS_WORK_UNKNOWN;
				rw[i].w.active_tests = rw[i].w.capacity ? rw[i].w.capacity : 1;
			}
			ws[i] = &rw[i].w;
		}
		CHECK_INT(hw_select(s, &wl, ws, N, &open_wide, 1, 1, idx, &found, NULL), LBS_OK);
		for (uint32_t a = 0; a < sizeof at / sizeof at[0]; a++) {
			uint32_t i = at[a];
			lbs_worker bad = rw[i].w;

			for (int kind = 0; kind < 5; kind++) {
				bad = rw[i].w;
				ws[i] = &bad;
				if (kind == 0)
					ws[i] = NULL;
				else if (kind == 1)
					bad.struct_size = 8;
				else if (kind == 2)
					bad.id = NULL;
				else if (kind == 3)
					bad.devices = NULL;
				else {
					bad.n_accels = 1;
					bad.accel_kinds = kinds;
					bad.accel_counts = NULL;
				}
				CHECK_INT(hw_select(s, &wl, ws, N, &open_wide, 1, 1, idx, &found, NULL),
				          LBS_EINVAL);
			}
			ws[i] = &rw[i].w;
		}
	}
	hw_free(s);
}

/* w idle at full speed: nothing running or queued, no pending work the
 * host knows of, cool and unloaded (the fresh scan's idle case). */
static void idle_cool(lbs_worker *w)
{
	w->thermal_state = LBS_THERMAL_NORMAL;
	w->pending_work_s = LBS_WORK_UNKNOWN;
	w->performance_level = 1.0;
	w->util_cpu = 0.0;
	w->util_memory = 0.0;
	w->temperature = 0.0;
	w->active_tests = 0;
	w->queued_tests = 0;
}

/*
 * select_one_fresh screens an idle worker's devices by their throughput
 * against the cut (fresh_below, device_reaches).  Idle fleets of devices
 * at four times their reference clock (the ratio's clamp) with the
 * class's best feature bits, compute units a step apart and memory that
 * makes the other bounds tight, put many of them next to the cut: a
 * device screen that drops one the full evaluation keeps picks another
 * worker here (a cheaper screen tried with a bound 1e-6 too low did).
 */
static void test_fresh_idle_consistency(void)
{
	enum { N = 40 };
	static const uint32_t ref_mhz[] = {[LBS_CLASS_CPU] = 2500, [LBS_CLASS_GPU] = 1500,
	                                   [LBS_CLASS_TPU] = 1000, [LBS_CLASS_NPU] = 800,
	                                   [LBS_CLASS_HYBRID] = 1000};
	static rnd_worker rw[N];
	const lbs_worker *ws[N];
	hw_params p;
	hw_state *s;
	hw_eval ev[N];
	uint32_t order[N];
	int mismatches = 0, rounds = 0;

	hw_params_default(&p);
	s = hw_new(&p);
	for (int round = 0; round < 1000; round++) {
		lbs_workload wl = open_workload();
		int d;

		for (uint32_t i = 0; i < N; i++) {
			make_random(&rw[i], i);
			idle_cool(&rw[i].w);
			rw[i].w.capacity = 1;
			older_host(&rw[i].w);
			for (uint32_t d = 0; d < rw[i].w.n_devices; d++) {
				lbs_device *x = &rw[i].d[d];

				/* The memory term all but 1: the bounds on
				 * throughput are then tight. */
				x->mem_available_bytes = UINT64_C(1) << 55;
				x->features = LBS_FEAT_TENSOR_CORES | LBS_FEAT_QUANTIZATION;
				x->compute_units = 20 + rnd(4);
				/* At the clamp of 4 mostly, just below it, or unknown. */
				x->clock_mhz = rnd(4) ? 4 * ref_mhz[x->hw_class] + rnd(2) * 1000
				                      : rnd(2) ? 4 * ref_mhz[x->hw_class] - 1 : 0;
			}
			ws[i] = &rw[i].w;
		}
		d = select_vs_rank(s, &wl, ws, N, &open_only, 1, 1, ev, order);
		if (d < 0)
			continue;
		rounds++;
		mismatches += d;
	}
	CHECK_INT(mismatches, 0);
	CHECK(rounds > 900);
	hw_free(s);
}

/*
 * From 128 workers on fresh_next prefetches the structs of workers a few
 * places ahead, in a loop of its own that stops short of the stretch's
 * end, and screens the rest of the stretch in a second loop.  Fleets of
 * 300 against the full evaluation, two selects a workload (the second
 * starts at the first's answer, the hint, and scans around it), with one
 * strong idle worker among the last ten places, where the loops meet.
 */
static void test_fresh_far(void)
{
	enum { N = 300 };
	static rnd_worker rw[N];
	static hw_eval ev[N];
	static uint32_t order[N], tmp[N];
	const lbs_worker *ws[N];
	hw_params p;
	hw_state *s;
	int mismatches = 0, rounds = 0, tail_won = 0;

	hw_params_default(&p);
	s = hw_new(&p);
	for (int round = 0; round < 300; round++) {
		lbs_workload wl = rnd_workload(3, 3, 1000000, 3);
		uint32_t strong = N - 1 - rnd(10);

		for (uint32_t i = 0; i < N; i++) {
			make_random(&rw[i], i);
			ws[i] = &rw[i].w;
		}
		idle_cool(&rw[strong].w);
		for (uint32_t d = 0; d < rw[strong].w.n_devices; d++) {
			lbs_device *x = &rw[strong].d[d];

			x->hw_class = LBS_CLASS_GPU;
			x->features = LBS_FEAT_TENSOR_CORES | LBS_FEAT_QUANTIZATION;
			x->precisions |= LBS_PREC_INT8;
			x->backends |= LBS_BACKEND_CUDA;
			x->compute_units = 100 + rnd(100);
			x->clock_mhz = 6000;
			x->mem_available_bytes = UINT64_C(1) << 40;
		}
		for (int again = 0; again < 2; again++) {
			uint32_t idx[1], k = 0, m;
			lbs_status st;

			CHECK_INT(hw_evaluate(s, &wl, ws, N, &open_only, ev), LBS_OK);
			m = hw_rank(ev, N, order, tmp);
			st = hw_select(s, &wl, ws, N, &open_only, 1, 1, idx, &k, NULL);
			if (!m) {
				CHECK_INT(st, LBS_NO_WORKER);
				continue;
			}
			CHECK_INT(st, LBS_OK);
			rounds++;
			mismatches += idx[0] != order[0];
			tail_won += order[0] >= N - 10;
		}
	}
	CHECK_INT(mismatches, 0);
	CHECK(rounds > 500);
	CHECK(tail_won > 300);
	hw_free(s);
}

/* Workers of more than 64 devices in the scan without records: only
 * devices 0..63 count (the hard filter's), so a strong device at place
 * 63 must win and one at 64 or 65 must not.  Each worker has one strong
 * device among 66 weak ones' pointers; select against the full
 * evaluation, idle and busy workers (device_reaches() serves both). */
static void test_fresh_many_devices(void)
{
	enum { N = 8, ND = 66 };
	static lbs_worker w[N];
	static lbs_device weak, strong[N];
	static const lbs_device *dp[N][ND];
	static char ids[N][8];
	const lbs_worker *ws[N];
	hw_params p;
	hw_state *s;
	hw_eval ev[N];
	uint32_t order[N];
	int mismatches = 0, rounds = 0, at63 = 0;

	memset(&weak, 0, sizeof weak);
	weak.struct_size = sizeof weak;
	weak.hw_class = LBS_CLASS_CPU;
	weak.backends = LBS_BACKEND_PYTORCH;
	weak.precisions = LBS_PREC_FP32 | LBS_PREC_INT8;
	weak.mem_available_bytes = UINT64_C(1) << 55;
	weak.compute_units = 1;
	hw_params_default(&p);
	s = hw_new(&p);
	for (int round = 0; round < 300; round++) {
		lbs_workload wl = open_workload();
		int d;

		for (uint32_t i = 0; i < N; i++) {
			uint32_t at = 60 + rnd(6);

			strong[i] = weak;
			strong[i].hw_class = LBS_CLASS_GPU;
			strong[i].features = LBS_FEAT_TENSOR_CORES | LBS_FEAT_QUANTIZATION;
			strong[i].compute_units = 40 + rnd(40);
			strong[i].clock_mhz = 1000 + rnd(2000);
			for (uint32_t j = 0; j < ND; j++)
				dp[i][j] = j == at ? &strong[i] : &weak;
			memset(&w[i], 0, sizeof w[i]);
			snprintf(ids[i], sizeof ids[i], "m%u", i);
			w[i].struct_size = sizeof w[i];
			w[i].id = ids[i];
			w[i].n_devices = ND;
			w[i].devices = dp[i];
			w[i].performance_level = 1.0;
			w[i].pending_work_s = LBS_WORK_UNKNOWN;
			w[i].capacity = 1;
			w[i].active_tests = rnd(3) == 0;
			at63 += at == 63;
			ws[i] = &w[i];
		}
		d = select_vs_rank(s, &wl, ws, N, &open_only, 1, 1, ev, order);
		if (d < 0)
			continue;
		rounds++;
		mismatches += d;
	}
	CHECK_INT(mismatches, 0);
	CHECK(rounds > 250);
	CHECK(at63 > 100);
	hw_free(s);
}

/* Every worker's open work at the ledger's least size, 4 s. */
static double least_open(void *ctx, uint32_t pos, const char *id)
{
	(void)ctx;
	(void)pos;
	(void)id;
	return 4.0;
}

/* The fleets of the screens-at-cut tests: every worker at full speed,
 * idle or busy (every one busy in odd rounds, so that busy workers win)
 * at capacities 1 and 2, devices at their clock's clamp a compute unit
 * apart with memory `big` (now and then 2 GiB, below the reservation the
 * bound takes at its best), and twins of the first half: the same devices
 * and queue, another temperature (the same record too where a test's
 * records go by the id's number). */
static void cut_fleet(rnd_worker *rw, const lbs_worker **ws, uint32_t n, int round, uint64_t big)
{
	static const uint32_t ref_mhz[] = {[LBS_CLASS_CPU] = 2500, [LBS_CLASS_GPU] = 1500,
	                                   [LBS_CLASS_TPU] = 1000, [LBS_CLASS_NPU] = 800,
	                                   [LBS_CLASS_HYBRID] = 1000};

	for (uint32_t i = 0; i < n; i++) {
		make_random(&rw[i], i);
		rw[i].w.thermal_state = LBS_THERMAL_NORMAL;
		rw[i].w.pending_work_s = LBS_WORK_UNKNOWN;
		rw[i].w.performance_level = 1.0;
		rw[i].w.util_cpu = 0.0;
		rw[i].w.util_memory = 0.0;
		rw[i].w.temperature = 0.0;
		rw[i].w.capacity = 1 + rnd(2);
		rw[i].w.active_tests = round % 2 || rnd(2) ? rw[i].w.capacity : 0;
		rw[i].w.queued_tests = rw[i].w.active_tests ? rnd(2) : 0;
		for (uint32_t d = 0; d < rw[i].w.n_devices; d++) {
			lbs_device *x = &rw[i].d[d];

			x->mem_available_bytes = rnd(8) ? big : 2 * GIB;
			x->features = LBS_FEAT_TENSOR_CORES | LBS_FEAT_QUANTIZATION;
			x->compute_units = 20 + rnd(4);
			x->clock_mhz = rnd(4) ? 4 * ref_mhz[x->hw_class] + rnd(2) * 1000
			                      : rnd(2) ? 4 * ref_mhz[x->hw_class] - 1 : 0;
		}
		ws[i] = &rw[i].w;
	}
	for (uint32_t i = n / 2; i < n; i++) {
		const rnd_worker *o = &rw[i - n / 2];

		if (rnd(2))
			continue;
		memcpy(rw[i].d, o->d, sizeof o->d);
		rw[i].w.n_devices = o->w.n_devices;
		rw[i].w.capacity = o->w.capacity;
		rw[i].w.active_tests = o->w.active_tests;
		rw[i].w.queued_tests = o->w.queued_tests;
		rw[i].w.temperature = rnd(3) / 2.0;
		/* An idle twin, now and then with a test running or a load:
		 * the same score, and a suitability lowered by the queue's
		 * divisor or the load's factor, which tie_below() bounds. */
		if (o->w.active_tests < o->w.capacity && rnd(2)) {
			rw[i].w.active_tests = rnd(o->w.capacity);
			rw[i].w.util_cpu = rnd(3) / 4.0;
		}
	}
}

/*
 * select_one_fresh screens the usual busy worker's devices at the ledger's
 * least size before it asks the ledger (fresh_prior_below), drops a busy
 * worker whose queue is at least one its capacity's queue bound dropped
 * (fresh_below's q_drop), and an idle worker whose devices' throughput
 * reaches the cut by its efficiency at a wait of 0 (fresh_idle_below).
 * Fleets where every worker's open work is that least size (so the screen
 * before the lookup sees the wait the lookup gives), idle and busy
 * workers of two capacities and two queue lengths, devices at their
 * clock's clamp a compute unit apart and memory that makes the
 * throughput's bound tight, and twins that tie: a screen a hair too
 * strict (1e-8 on the devices, beyond throughput_needed()'s own slack),
 * or a queue one shorter dropped, drops a worker the full evaluation
 * ranks first.  A quarter of them throttled, at a performance_level of 1
 * or a hair below, which fresh_below drops on q_drop before it reads
 * their thermal state.
 */
static void test_fresh_screens_at_cut(void)
{
	enum { N = 40 };
	static const hw_learned open_least = {NULL, NULL, NULL, least_open, NULL, 4.0, NULL, NULL, NULL};
	static rnd_worker rw[N];
	const lbs_worker *ws[N];
	hw_params p;
	hw_state *s;
	hw_eval ev[N];
	uint32_t order[N];
	int mismatches = 0, rounds = 0, busy_won = 0;

	hw_params_default(&p);
	s = hw_new(&p);
	for (int round = 0; round < 1000; round++) {
		lbs_workload wl = open_workload();
		int d;

		cut_fleet(rw, ws, N, round, UINT64_C(1) << 55);
		/* Throttled workers at full speed or a hair below, which a
		 * queue bound the usual busy worker set drops (q_drop) too. */
		for (uint32_t i = 0; i < N; i++) {
			if (rnd(4))
				continue;
			rw[i].w.thermal_state = rnd(2) ? LBS_THERMAL_WARMING : LBS_THERMAL_COOLING;
			rw[i].w.performance_level = rnd(2) ? 1.0 : 0.999;
		}
		d = select_vs_rank(s, &wl, ws, N, &open_least, 1, 1, ev, order);
		if (d < 0)
			continue;
		rounds++;
		mismatches += d;
		busy_won += ws[order[0]]->active_tests > 0;
	}
	CHECK_INT(mismatches, 0);
	CHECK(rounds > 900);
	CHECK(busy_won > 100);
	hw_free(s);
}

/*
 * The store bench_store measures (issue 19): every worker of the fleet
 * learned, latency alone (ratio_n 0, so no learned speed: speed_ub 0) and
 * a reliability below 1, most with the same counts; a few workers with
 * none.  An id starting with 'n' was never seen; "w05", "w10", ... neither
 * (the number after 'w' says).
 */
static const lbs_history *latency_history(void *ctx, uint32_t type, const char *id)
{
	static lbs_history h;
	unsigned v;

	(void)ctx;
	if (id[0] != 'w')
		return NULL;
	v = (unsigned)atoi(id + 1);
	if (v % 5 == 0)
		return NULL;
	memset(&h, 0, sizeof h);
	h.samples = 20;
	/* Mostly 18 of 20 (one reliability shared by many records), now
	 * and then all or half of them. */
	h.successes = v % 7 == 1 ? 20 : v % 7 == 2 ? 10 : 18;
	h.failures = h.samples - h.successes;
	h.preference = ((v * 7 + type) % 11) / 10.0;
	h.mean_duration = 5.0 + (v * 13 + type) % 100;
	return &h;
}

static double no_speed_ub(void *ctx, uint32_t type)
{
	(void)ctx;
	(void)type;
	return 0.0;
}

static double latency_ref(void *ctx, uint32_t type)
{
	(void)ctx;
	(void)type;
	return log(40.0);
}

/*
 * The plugin's own history (plugin/history.c, linked in) wired as
 * plugin/timed.c wires it: the records, their latency references, their
 * log of changes, the fade's step in the generation.  Lookups counted.
 */
#define FADE_STEP 60.0

static unsigned lookups;

static const lbs_history *counted_lookup(void *ctx, uint32_t type, const char *id)
{
	lookups++;
	return hist_lookup(ctx, type, id);
}

static hw_learned learned_of(hw_state *s, hist_store *v, double now, int with_log)
{
	hw_learned l = {NULL, NULL, NULL, NULL, NULL, 0.0, NULL, NULL, NULL};
	uint64_t gen = hist_generation(v);

	if (hist_count(v) > 0) {
		l.lookup = counted_lookup;
		l.ctx = v;
		l.speed_ub = hist_speed_ub;
		l.latency_ref = hist_latency_ref;
		l.changes = with_log ? hist_changes : NULL;
	} else {
		now = 0.0;
	}
	hw_fade(s, now, now > 0.0 ? 600.0 : 0.0);
	hw_remember(s, gen ^ (uint64_t)(now / FADE_STEP) * UINT64_C(0x9E3779B97F4A7C15));
	return l;
}

static int copy_pair(void *ctx, uint32_t type, const char *id, const hist_sums *c)
{
	return hist_put(ctx, type, id, c) != LBS_OK;
}

enum { MN = 64 };
static char mids[MN][48];

/* An outcome of a random pair: a speed learned, latency alone (its
 * type's reference moves), or a failure; types past the ABI's too. */
static void some_outcome(hist_store *v, double now)
{
	uint32_t t = rnd(12);
	lbs_outcome o = {.struct_size = sizeof o, .workload_type = t < 9 ? t % 3 : LBS_WL_COUNT + t,
	                 .worker_id = mids[rnd(MN)],
	                 .result = rnd(5) ? LBS_RESULT_SUCCESS : LBS_RESULT_FAILURE,
	                 .duration_s = rnd(2) ? 1.0 + rnd(3) : 500.0 + rnd(500)};

	o.expected_duration_s = rnd(2) ? 0.0 : 1.0 + rnd(50);
	CHECK_INT(hist_apply(v, &o, now - rnd(4000)), LBS_OK);
}

/* A host reports between selects: each report moves the records'
 * generation, and the memo forgot every record at each (every worker
 * looked up again, 60 us a select at 512 workers with a report a select).
 * With the records' log it forgets the changed ones alone (their type at
 * every position when the type's latency reference moved, everything
 * after more changes than it asks for, a new fade step or a new view):
 * the answers those of a state that remembers nothing, with far fewer
 * lookups than one that forgets all. */
static void test_memo_forgets_changed(void)
{
	static rnd_worker rw[MN];
	const lbs_worker *ws[MN];
	hw_params p;
	hw_state *s, *fresh, *forgets;
	hist_store *v = hist_new();
	double now = 1.7e9;
	unsigned logged = 0, all = 0;
	int mismatches = 0, few = 0, many = 0, swaps = 0;

	if (!v)
		return;
	hw_params_default(&p);
	s = hw_new(&p);
	fresh = hw_new(&p);
	forgets = hw_new(&p);
	for (uint32_t i = 0; i < MN; i++) {
		make_random(&rw[i], i);
		/* one in seven past what the memo keeps (MEMO_ID) */
		if (i % 7 == 0)
			snprintf(mids[i], sizeof mids[i], "a-rather-long-worker-identifier-%02u", i);
		else
			snprintf(mids[i], sizeof mids[i], "w%02u", i);
		rw[i].w.id = mids[i];
		ws[i] = &rw[i].w;
	}
	for (int i = 0; i < 200; i++)
		some_outcome(v, now);
	for (int round = 0; round < 3000; round++) {
		lbs_workload wl = rnd_workload(3, 3, 2, 3);
		uint32_t want = rnd(4) ? 1 : 1 + rnd(4), need = 1 + rnd(want);
		uint32_t a[8], b[8], ka = 0, kb = 0, changes = rnd(6) ? rnd(3) : rnd(30);
		hw_learned l;
		lbs_status sa, sb;
		int quiet = 1;

		wl.type = rnd(10) ? rnd(3) : LBS_WL_COUNT + 1;
		for (uint32_t c = 0; c < changes; c++)
			some_outcome(v, now);
		if (rnd(50) == 0) {
			now += FADE_STEP;
			quiet = 0;
		}
		/* the flusher's new view, maybe where the old one was */
		if (rnd(40) == 0) {
			hist_store *n = hist_new();

			if (n) {
				hist_each(v, copy_pair, n);
				hist_free(v);
				v = n;
				swaps++;
				quiet = 0;
			}
		}
		for (uint32_t i = 0; i < MN; i++)
			if (rnd(40) == 0) {
				make_random(&rw[i], i);
				rw[i].w.id = mids[i];
			}
		few += changes <= 16;
		many += changes > 16;
		quiet = quiet && changes <= 2;
		l = learned_of(s, v, now, 1);
		lookups = 0;
		sa = hw_select(s, &wl, ws, MN, &l, want, need, a, &ka, NULL);
		if (quiet)
			logged += lookups;
		l = learned_of(forgets, v, now, 0);
		lookups = 0;
		(void)hw_select(forgets, &wl, ws, MN, &l, want, need, b, &kb, NULL);
		if (quiet)
			all += lookups;
		l = learned_of(fresh, v, now, 1);
		hw_remember(fresh, 0);
		sb = hw_select(fresh, &wl, ws, MN, &l, want, need, b, &kb, NULL);
		if (sa != sb || ka != kb) {
			mismatches++;
			continue;
		}
		for (uint32_t i = 0; i < ka; i++)
			mismatches += a[i] != b[i];
	}
	CHECK_INT(mismatches, 0);
	CHECK(few > 2000 && many > 100 && swaps > 30);
	/* a third of the lookups or fewer here: the changed records, those
	 * a select of the type had not looked at yet, and all after a wide
	 * change or too many */
	CHECK(logged * 2 < all);
	hist_free(v);
	hw_free(s);
	hw_free(fresh);
	hw_free(forgets);
}

/* A success of (type, id) taking duration s against expected (0: none). */
static void learn(hist_store *v, uint32_t type, const char *id, double duration,
                  double expected)
{
	lbs_outcome o = {.struct_size = sizeof o, .workload_type = type, .worker_id = id,
	                 .result = LBS_RESULT_SUCCESS, .duration_s = duration,
	                 .expected_duration_s = expected};

	CHECK_INT(hist_apply(v, &o, 1.7e9), LBS_OK);
}

/* The lookups one select of all 8 workers (ranked) makes through s's memo. */
static unsigned memo_lookups(hw_state *s, hist_store *v, const lbs_workload *wl,
                             const lbs_worker *const *ws)
{
	hw_learned l = learned_of(s, v, 1.7e9, 1);
	uint32_t idx[8], k;

	lookups = 0;
	CHECK_INT(hw_select(s, wl, ws, 8, &l, 8, 1, idx, &k, NULL), LBS_OK);
	return lookups;
}

/* What the memo forgets, counted in lookups: a select after a change of
 * another type's record looks nothing up again, after a speed learned by
 * one pair that pair alone, and after latency alone (its type's reference
 * moves, and with it every latency record's preference) every record of
 * the type. */
static void test_memo_forgets_by_kind(void)
{
	static rnd_worker rw[8];
	const lbs_worker *ws[8];
	hw_params p;
	hw_state *s;
	hist_store *v = hist_new();
	lbs_workload wl = rnd_workload(3, 3, 2, 3);
	unsigned first;

	if (!v)
		return;
	hw_params_default(&p);
	s = hw_new(&p);
	wl.type = LBS_WL_NLP;
	wl.est_duration_s = 0.0;
	wl.required_backends = 0;
	wl.required_features = 0;
	wl.required_precisions = 0;
	wl.min_memory_bytes = 0;
	for (uint32_t i = 0; i < 8; i++) {
		make_random(&rw[i], i);
		snprintf(mids[i], sizeof mids[i], "w%02u", i);
		rw[i].w.id = mids[i];
		ws[i] = &rw[i].w;
		learn(v, LBS_WL_NLP, mids[i], 5.0 + 10.0 * i, 0.0);
	}
	first = memo_lookups(s, v, &wl, ws);
	CHECK_INT(first, 8); /* all 8 chosen, ranked: every record read */
	/* another type's record */
	learn(v, LBS_WL_VISION, mids[3], 5.0, 10.0);
	CHECK_INT(memo_lookups(s, v, &wl, ws), 0);
	/* a speed learned by a pair of none before: itself */
	learn(v, LBS_WL_NLP, "w99", 5.0, 10.0);
	CHECK_INT(memo_lookups(s, v, &wl, ws), 0);
	/* latency alone: the type's reference moves, every record looked up again */
	learn(v, LBS_WL_NLP, mids[2], 500.0, 0.0);
	CHECK_INT(memo_lookups(s, v, &wl, ws), 8);
	hist_free(v);
	hw_free(s);
}

static void test_random_latency_store(void)
{
	enum { N = 64 };
	static rnd_worker rw[N];
	const lbs_worker *ws[N];
	/* The third learned speeds as well (fake_history, bounded): the
	 * select's scan through the memo (select_one_learned) then meets
	 * records whose learned speed may reach the cut. */
	static const hw_learned views[3] = {
		{latency_history, NULL, no_speed_ub, NULL, NULL, 0.0, latency_ref, NULL, NULL},
		{latency_history, NULL, no_speed_ub, fake_open, NULL, 3.0, latency_ref, NULL, NULL},
		{fake_history, NULL, fake_speed_ub, fake_open, NULL, 3.0, NULL, NULL, NULL},
	};
	hw_params p;
	hw_state *s;
	hw_eval ev[N];
	uint32_t order[N];
	int mismatches = 0, timed_rounds = 0, renamed = 0;

	hw_params_default(&p);
	s = hw_new(&p);
	for (int round = 0; round < 1500; round++) {
		lbs_workload wl = rnd_workload(3, 3, 4, 3);
		/* A view for 50 rounds at a time, so that the memo (one
		 * generation per kind of record) holds records between them. */
		const hw_learned *l = &views[round / 50 % 3];
		uint32_t want = rnd(3) ? 1 : 1 + rnd(6), need = 1 + rnd(want);
		int d;

		/* One round in four every worker is busy, most at full
		 * speed, so that one of them wins and the scan's drops of busy
		 * workers on their record (learned_below) decide who else
		 * could. */
		int busy = rnd(4) == 0;

		/* Three types, as a few kinds of work fill a memo's records. */
		wl.type = rnd(3);

		for (uint32_t i = 0; i < N; i++) {
			if (round == 0 || rnd(20) == 0)
				make_random(&rw[i], i);
			if (busy) {
				/* A third throttled: learned_below_busy. */
				rw[i].w.thermal_state = rnd(3) ? LBS_THERMAL_NORMAL
				                               : LBS_THERMAL_COOLING;
				rw[i].w.capacity = 1 + rnd(2);
				rw[i].w.active_tests = rw[i].w.capacity;
				rw[i].w.queued_tests = rnd(3);
				rw[i].w.pending_work_s = LBS_WORK_UNKNOWN;
			} else if (rnd(2)) {
				/* Mostly idle at full speed, as bench_store's
				 * fleet is half the time: the cut's own
				 * bounds. */
				rw[i].w.thermal_state = LBS_THERMAL_NORMAL;
				rw[i].w.active_tests = 0;
				rw[i].w.queued_tests = 0;
				rw[i].w.capacity = 2;
				rw[i].w.pending_work_s = LBS_WORK_UNKNOWN;
			}
			ws[i] = &rw[i].w;
		}
		/* The memo keeps records by position and id pointer: the same
		 * pointer now and then holds another id, one never seen (rel
		 * 1) or another worker's (another record). */
		for (uint32_t j = 0; j < 2; j++) {
			uint32_t i = rnd(N), v = rnd(N);

			/* Longer and shorter ids too: the compare's tail. */
			switch (rnd(4)) {
			case 0:
				snprintf(rw[i].id, sizeof rw[i].id, "n%02u", i);
				break;
			case 1:
				snprintf(rw[i].id, sizeof rw[i].id, "w%02u", v);
				break;
			case 2:
				snprintf(rw[i].id, sizeof rw[i].id, "w%u", v + 100 * rnd(2));
				break;
			default:
				snprintf(rw[i].id, sizeof rw[i].id, "w%02u-%u", v, rnd(1000000));
				break;
			}
			renamed++;
		}
		/* The lookups answer by id for ever: a generation per kind of
		 * record vouches for them, so later rounds read the memo. */
		hw_remember(s, l == &views[2] ? 23 : 19);
		timed_rounds += wl.est_duration_s > 0;
		d = select_vs_rank(s, &wl, ws, N, l, want, need, ev, order);
		if (d < 0)
			continue;
		mismatches += d;
	}
	CHECK_INT(mismatches, 0);
	CHECK(timed_rounds > 1000);
	CHECK(renamed > 0);
	hw_free(s);
}

/* latency_history's records with every worker's open work at the
 * ledger's least size (least_open), and the same with learned speeds
 * (fake_history). */
static const hw_learned latency_least = {latency_history, NULL, no_speed_ub, least_open, NULL,
                                         4.0, latency_ref, NULL, NULL};
static const hw_learned fake_least = {fake_history, NULL, fake_speed_ub, least_open, NULL, 4.0,
                                      NULL, NULL, NULL};

/*
 * test_fresh_screens_at_cut for select_one_learned, through the memo:
 * learned_next drops an idle worker with a record (the memo's, or any
 * when no learned speed reaches the cut) on its devices' efficiency at a
 * wait of 0 (learned_idle_below), screens the usual busy worker's devices
 * at the ledger's least size with its record before the lookup, and
 * drops a busy worker whose queue is at least one its capacity's queue
 * bound dropped.  The same fleets (every worker's open work the least
 * size, devices at their clock's clamp, twins that tie), the ids the
 * same from round to round so that the memo holds their records: a
 * screen a hair too strict drops a worker the full evaluation ranks
 * first.
 */
static void test_learned_screens_at_cut(void)
{
	enum { N = 40 };
	static rnd_worker rw[N];
	const lbs_worker *ws[N];
	hw_params p;
	hw_state *s;
	hw_eval ev[N];
	uint32_t order[N];
	int mismatches = 0, rounds = 0, busy_won = 0, idle_won = 0;

	hw_params_default(&p);
	s = hw_new(&p);
	for (int round = 0; round < 1600; round++) {
		lbs_workload wl = open_workload();
		/* Learned speeds one round in four. */
		const hw_learned *l = round % 4 == 3 ? &fake_least : &latency_least;
		int d;

		wl.type = rnd(2);
		/* Memory so large that its term is 1 but for 1e-10, as the
		 * throughput's bound takes it. */
		cut_fleet(rw, ws, N, round, UINT64_C(1) << 62);
		/* One generation per view: the memo keeps the records. */
		hw_remember(s, l == &fake_least ? 31 : 29);
		d = select_vs_rank(s, &wl, ws, N, l, 1, 1, ev, order);
		if (d < 0)
			continue;
		rounds++;
		mismatches += d;
		busy_won += ws[order[0]]->active_tests > 0;
		idle_won += ws[order[0]]->active_tests == 0;
	}
	CHECK_INT(mismatches, 0);
	CHECK(rounds > 1400);
	CHECK(busy_won > 100);
	CHECK(idle_won > 100);
	hw_free(s);
}

/*
 * One round of the random fleets the score tests share: a workload (three
 * in four timed), a fifth of the workers rebuilt in place, and one in three
 * rounds an exclude list (which puts the hard filter on elig_check).
 */
static lbs_workload score_round(rnd_worker *rw, const lbs_worker **ws, uint32_t n, int round,
                                const char **excl)
{
	lbs_workload wl = rnd_workload(4, 4, 4, 5);

	for (uint32_t i = 0; i < n; i++) {
		if (round == 0 || rnd(5) == 0)
			make_random(&rw[i], i);
		ws[i] = &rw[i].w;
	}
	if (rnd(3) == 0) {
		excl[0] = rw[rnd(n)].id;
		wl.exclude_ids = excl;
		wl.n_exclude = 1;
	}
	return wl;
}

/*
 * hw_score() is what a blend reads for every worker of every decision, and
 * for timed work it skips the select's bounds and tie keys (score_timed in
 * hwaware.c).  Every score must equal explain's full evaluation to the bit
 * (-1 exactly when the worker is ineligible), with and without learned
 * records, the ledger's open work, the host's pending work, exclude lists
 * (the hard filter through elig_check) and strict requirements.
 */
static void test_score_against_evaluate(void)
{
	/* More than one block of the score pass's divisions (DIV_BLOCK 64). */
	enum { N = 100 };
	static rnd_worker rw[N];
	const lbs_worker *ws[N];
	hw_params p;
	hw_state *s;
	hw_eval ev[N];
	double sc[N];
	int mismatches = 0, eligible = 0, ineligible = 0;

	hw_params_default(&p);
	s = hw_new(&p);
	for (int round = 0; round < 800; round++) {
		const hw_learned *l = round % 4 == 0 ? NULL : round % 4 == 1 ? &learned
		                      : round % 4 == 2 ? &bounded : &slow;
		const char *excl[1];
		lbs_workload wl = score_round(rw, ws, N, round, excl);
		CHECK_INT(hw_evaluate(s, &wl, ws, N, l, ev), LBS_OK);
		CHECK_INT(hw_score(s, &wl, ws, N, l, sc), LBS_OK);
		for (uint32_t i = 0; i < N; i++) {
			int bad = ev[i].reason == ELIG_OK ? sc[i] != ev[i].f.score : sc[i] != -1.0;

			eligible += ev[i].reason == ELIG_OK;
			ineligible += ev[i].reason != ELIG_OK;
			if (bad && mismatches++ < 5)
				fprintf(stderr, "round %d worker %u: score %.17g, evaluate %.17g (%s)\n",
				        round, i, sc[i], ev[i].f.score,
				        wl.est_duration_s > 0 ? "timed" : "untimed");
		}
	}
	CHECK_INT(mismatches, 0);
	CHECK(eligible > 1000 && ineligible > 1000);
	hw_free(s);
}

/*
 * The usual workload of a blend (timed, nothing learned, the device checks
 * as the whole hard filter, no preference named, no energy weight) takes a
 * pass of its own in hw_score (plain_best and plain_rest in hwaware.c),
 * which must give the very bits of the general one: against explain's
 * evaluation, with and
 * without the ledger's open work, with the host's pending work, throttled
 * workers, malformed devices, memory below the reservation or beyond 2^63
 * bytes, and requirements on backends, precisions, features and units.
 */
static void test_plain_score_against_evaluate(void)
{
	enum { N = 100 };
	static rnd_worker rw[N];
	const lbs_worker *ws[N];
	hw_params p;
	hw_state *s;
	hw_eval ev[N];
	double sc[N], load[N];
	int mismatches = 0, eligible = 0, ineligible = 0;

	hw_params_default(&p);
	s = hw_new(&p);
	for (int round = 0; round < 600; round++) {
		const hw_learned *l = round % 2 ? &open_only : NULL;
		const char *excl[1];
		int wide = -1;
		lbs_workload wl = score_round(rw, ws, N, round, excl);
		/* Without a ledger the workers' own figures go four at a
		 * time (plain_rest4): fleets that end off the four, and
		 * figures each lane must take as the scalar way does. */
		uint32_t n = N - (uint32_t)(round / 2 % 4);

		wl.exclude_ids = NULL;
		wl.n_exclude = 0;
		wl.preferred_class = 0;
		wl.energy_sensitivity = rnd(2) ? 0.0 : -1.0;
		wl.est_duration_s = 1.0 + rnd(40);
		wl.required_features = rnd(4) == 0 ? LBS_FEAT_TENSOR_CORES : 0;
		wl.min_compute_units = rnd(4) == 0 ? rnd(60) : 0;
		for (uint32_t i = 0; i < N; i++) {
			rnd_worker *r = &rw[i];

			r->w.thermal_state = rnd(5) == 0 ? LBS_THERMAL_COOLING : r->w.thermal_state;
			r->w.reserved_memory_bytes = rnd(4) == 0 ? rnd(3) * GIB : 0;
			r->w.util_gpu = rnd(5) / 4.0;
			if (rnd(20) == 0)
				r->d[0].mem_available_bytes = UINT64_MAX - rnd(3);
			if (rnd(30) == 0)
				r->d[0].struct_size = 8;
			if (rnd(30) == 0)
				r->dp[r->w.n_devices - 1] = NULL;
			if (rnd(15) == 0)
				r->w.util_cpu = rnd(2) ? NAN : -0.5;
			if (rnd(15) == 0)
				r->w.util_network = rnd(2) ? 1.5 : NAN;
			if (rnd(15) == 0)
				r->w.performance_level = rnd(2) ? NAN : 0.001;
			if (rnd(15) == 0)
				r->w.pending_work_s = rnd(2) ? NAN : rnd(2) ? INFINITY : 1e300;
			if (rnd(10) == 0)
				r->w.queued_tests = UINT32_MAX - rnd(2);
			/* A 1.0 writer's worker, which has no pending work
			 * to read. */
			r->w.struct_size = rnd(10) == 0 ? LBS_WORKER_SIZE_V1_0 : sizeof r->w;
		}
		CHECK_INT(hw_evaluate(s, &wl, ws, n, l, ev), LBS_OK);
		CHECK_INT(hw_score_loads(s, &wl, ws, n, l, sc, load, &wide), LBS_OK);
		/* Timed, and no worker beyond 4 devices. */
		CHECK_INT(wide, 0);
		for (uint32_t i = 0; i < n; i++) {
			int bad = ev[i].reason == ELIG_OK ? sc[i] != ev[i].f.score : sc[i] != -1.0;

			eligible += ev[i].reason == ELIG_OK;
			ineligible += ev[i].reason != ELIG_OK;
			if (bad && mismatches++ < 5)
				fprintf(stderr, "plain round %d worker %u: score %.17g, evaluate %.17g\n",
				        round, i, sc[i], ev[i].f.score);
			/* The load of a worker that passes is elig_load's. */
			if (ev[i].reason == ELIG_OK && load[i] != elig_load(ws[i]) && mismatches++ < 5)
				fprintf(stderr, "plain round %d worker %u: load %.17g\n", round, i,
				        load[i]);
		}
		/* The devices and sizes put back for the next round. */
		for (uint32_t i = 0; i < N; i++) {
			rw[i].w.struct_size = sizeof rw[i].w;
			rw[i].d[0].struct_size = sizeof rw[i].d[0];
			for (uint32_t d = 0; d < 4; d++)
				rw[i].dp[d] = &rw[i].d[d];
		}
	}
	CHECK_INT(mismatches, 0);
	CHECK(eligible > 1000 && ineligible > 1000);
	/* A malformed worker in the second block fails the pass, plain or
	 * not, as it fails the select. */
	{
		const char *excl[1];
		lbs_workload wl = score_round(rw, ws, N, 1, excl);
		const lbs_device *none[1] = {NULL};
		const lbs_worker *keep = ws[70];
		lbs_worker bad = rw[70].w;

		wl.exclude_ids = NULL;
		wl.n_exclude = 0;
		wl.preferred_class = 0;
		wl.energy_sensitivity = 0.0;
		wl.est_duration_s = 20.0;
		ws[70] = NULL;
		CHECK_INT(hw_score_loads(s, &wl, ws, N, NULL, sc, load, NULL), LBS_EINVAL);
		CHECK_INT(hw_score_loads(s, &wl, ws, N, &learned, sc, load, NULL), LBS_EINVAL);
		bad.id = NULL;
		ws[70] = &bad;
		CHECK_INT(hw_score_loads(s, &wl, ws, N, &open_only, sc, load, NULL), LBS_EINVAL);
		bad = rw[70].w;
		bad.n_devices = 1;
		bad.devices = NULL;
		CHECK_INT(hw_score(s, &wl, ws, N, NULL, sc), LBS_EINVAL);
		bad.devices = none;
		CHECK_INT(hw_score(s, &wl, ws, N, NULL, sc), LBS_OK);
		CHECK(sc[70] == -1.0);
		ws[70] = keep;
	}
	hw_free(s);
}

/* Round-robin's ranks as the rotation defines them, whatever pass made
 * them: the eligible, cyclically from the one at 1, score (E - r) / E for
 * r = 0, 1, ... in turn, exactly as that division rounds. */
static int rotation_wrong(const double *sc, uint32_t n)
{
	uint32_t e = 0, start = n, wrong = 0;

	for (uint32_t i = 0; i < n; i++) {
		e += sc[i] >= 0.0;
		if (sc[i] == 1.0 && start == n)
			start = i;
	}
	if (e == 0)
		return 0;
	if (start == n)
		return 1;
	for (uint32_t q = 0, r = 0; q < n; q++) {
		uint32_t i = (start + q) % n;

		if (!(sc[i] >= 0.0))
			continue;
		wrong += sc[i] != (double)(e - r) / (double)e;
		r++;
	}
	return wrong != 0;
}

/*
 * A composite's decision reads the hard filter off hardware-aware's timed
 * scores (plugin/timed.c, timed_hard): -1 exactly for a worker that fails
 * it, without a ceiling, when the worker has at most 64 devices; and the
 * load of those that pass off hw_score_loads.  Round-robin's and
 * priority's scores and the composite's ceiling rule then skip their own
 * filter.  Both claims on random fleets: the facts against elig_check, and
 * the scores with them against those without, bit for bit, at several
 * ceilings (with one worker left unknown, as one of 65 devices would be).
 */
static void test_hard_from_timed_scores(void)
{
	enum { N = 40 };
	static rnd_worker rw[N];
	static const lbs_device *many[65];
	const lbs_worker *ws[N];
	const double ceilings[3] = { 0.2, 0.3, 1.0 };
	hw_params p;
	hw_state *s;
	rr_state rr;
	double sc[N], a[N], b[N], load[N];
	uint8_t hard[N];
	int wrong = 0, pass = 0, fail = 0, timed = 0;

	hw_params_default(&p);
	s = hw_new(&p);
	rr_init(&rr);
	for (int round = 0; round < 600; round++) {
		const char *excl[1];
		lbs_workload wl = score_round(rw, ws, N, round, excl);
		int wide = -1;

		/* Throttles past the clamps, which priority's scores four
		 * at a time (known_four) must take as one at a time does. */
		for (uint32_t i = 0; i < N; i++) {
			if (rnd(8) == 0)
				rw[i].w.thermal_state = LBS_THERMAL_COOLING;
			if (rnd(8) == 0)
				rw[i].w.performance_level = rnd(3) == 0 ? NAN : rnd(2) ? -0.5 : 1.5;
		}
		/* A worker of 65 devices now and then: the pass says so
		 * (wide), and the facts are not taken from it. */
		if (round % 7 == 3) {
			uint32_t k = rnd(N), nd = rw[k].w.n_devices;
			const lbs_device *const *own = rw[k].w.devices;

			for (uint32_t d = 0; d < 65; d++)
				many[d] = own[d % nd];
			rw[k].w.devices = many;
			rw[k].w.n_devices = 65;
			CHECK_INT(hw_score_loads(s, &wl, ws, N, NULL, sc, load, &wide), LBS_OK);
			CHECK_INT(wide, 1);
			rw[k].w.devices = own;
			rw[k].w.n_devices = nd;
			continue;
		}
		CHECK_INT(hw_score_loads(s, &wl, ws, N, NULL, sc, load, &wide), LBS_OK);
		if (!hw_scores_timed(s, &wl)) {
			CHECK(!(wl.est_duration_s > 0));
			CHECK_INT(wide, 1);
			continue;
		}
		CHECK_INT(wide, 0);
		timed++;
		for (uint32_t i = 0; i < N; i++) {
			int ok = elig_check(&wl, ws[i], 2.0, NULL) == ELIG_OK;

			hard[i] = sc[i] != -1.0;
			wrong += hard[i] != ok;
			/* Every other score usable: the composite's ceiling
			 * rule skips such a pass's (timed_rejects_filtered). */
			wrong += hard[i] && !(sc[i] >= 0.0 && sc[i] <= 1.0);
			/* The load a ceiling compares, of every worker passing;
			 * 0 for the others, which round-robin reads too. */
			wrong += ok ? load[i] != elig_load(ws[i]) : load[i] != 0.0;
			pass += ok;
			fail += !ok;
		}
		hard[rnd(N)] = 2;
		for (int c = 0; c < 3; c++) {
			prio_params pp = { .ceiling = ceilings[c] };
			const double *known = rnd(2) ? load : NULL;

			CHECK_INT(rr_score(&rr, &wl, ws, N, ceilings[c], a), LBS_OK);
			CHECK_INT(rr_score_hard(&rr, &wl, ws, N, ceilings[c], hard, known, b), LBS_OK);
			wrong += memcmp(a, b, sizeof a) != 0;
			wrong += rotation_wrong(a, N);
			/* The cursor anywhere, so that the rotation's two spans
			 * start at odd and even positions. */
			{
				rr_result res;
				uint32_t idx[1];

				CHECK_INT(rr_pick(&rr, &wl, ws, N, 2.0, 1, idx, &res), LBS_OK);
				if (res.n_found)
					rr_commit(&rr, &res, ws, rnd(N));
			}
			/* Priority's own scores, with and without what it learned. */
			wl.priority = 3 + rnd(3);
			if (rnd(2))
				pp.history = fake_history;
			CHECK_INT(prio_score(&pp, &wl, ws, N, a), LBS_OK);
			pp.hard = hard;
			pp.hard_load = known;
			CHECK_INT(prio_score(&pp, &wl, ws, N, b), LBS_OK);
			wrong += memcmp(a, b, sizeof a) != 0;
		}
	}
	CHECK_INT(wrong, 0);
	CHECK(timed > 300 && pass > 1000 && fail > 1000);
	hw_free(s);
}

/*
 * Twins whose completion ties exactly, the second cooler: it must win on
 * its suitability, so the select's bounds must let it through when the
 * first set the cut.  With memory so large that the memory term is all
 * but 1, no preference and no energy weight, the bound on a device's
 * throughput is as tight as it gets.
 */
static void test_timed_twins(void)
{
	static rnd_worker rw[2];
	const lbs_worker *ws[2] = {&rw[0].w, &rw[1].w};
	hw_params p;
	hw_state *s;
	hw_eval ev[2];
	uint32_t order[2], tmp[2], idx[1], k;
	int second = 0;

	hw_params_default(&p);
	s = hw_new(&p);
	for (int round = 0; round < 200; round++) {
		lbs_workload wl = {
			.struct_size = sizeof wl,
			.type = rnd(LBS_WL_COUNT),
			.compute_intensity = rnd(5) / 4.0,
			.memory_intensity = rnd(5) / 4.0,
			.est_duration_s = 30,
		};

		make_random(&rw[0], 0);
		for (uint32_t d = 0; d < rw[0].w.n_devices; d++)
			rw[0].d[d].mem_available_bytes = UINT64_C(1) << 60;
		rw[0].w.temperature = 1;
		rw[1] = rw[0];
		snprintf(rw[1].id, sizeof rw[1].id, "w01");
		rw[1].w.id = rw[1].id;
		rw[1].w.devices = rw[1].dp;
		for (uint32_t d = 0; d < 4; d++)
			rw[1].dp[d] = &rw[1].d[d];
		rw[1].w.temperature = 0;
		CHECK_INT(hw_evaluate(s, &wl, ws, 2, NULL, ev), LBS_OK);
		if (hw_rank(ev, 2, order, tmp) < 2)
			continue;
		CHECK_NEAR(ev[0].f.score, ev[1].f.score, 0);
		CHECK_INT(order[0], 1);
		CHECK_INT(hw_select(s, &wl, ws, 2, NULL, 1, 1, idx, &k, NULL), LBS_OK);
		CHECK_INT(idx[0], order[0]);
		second += idx[0] == 1;
	}
	CHECK(second > 100);
	hw_free(s);
}

/*
 * A fleet of one kind (every worker with worker 0's devices, as a users'
 * fleet's classes are), idle at full speed: each reaches the best's very
 * score, and the suitability decides, lowered by a running test (the
 * queue's divisor), a load (the load's factor) or a temperature.  The
 * scans drop such a worker on a bound of its suitability (tie_below); a
 * bound that took the queue, the load or the heat for more than they are
 * drops the worker the full evaluation ranks first.  Nothing learned (select_one_fresh) and records through the memo
 * (select_one_learned), a want of one and of several.
 */
static void test_idle_kind(void)
{
	enum { N = 40 };
	static rnd_worker rw[N];
	const lbs_worker *ws[N];
	hw_params p;
	hw_state *s;
	hw_eval ev[N];
	uint32_t order[N];
	int mismatches = 0, rounds = 0, tied = 0;

	hw_params_default(&p);
	s = hw_new(&p);
	for (int round = 0; round < 1500; round++) {
		lbs_workload wl = open_workload();
		const hw_learned *l = round % 3 == 2 ? &latency_least : NULL;
		uint32_t want = round % 4 == 3 ? 1 + rnd(4) : 1;
		int d;

		for (uint32_t i = 0; i < N; i++) {
			lbs_worker *w = &rw[i].w;
			uint32_t cap = rnd(4);

			make_random(&rw[i], i);
			if (i > 0) {
				memcpy(rw[i].d, rw[0].d, sizeof rw[0].d);
				w->n_devices = rw[0].w.n_devices;
			}
			w->thermal_state = LBS_THERMAL_NORMAL;
			w->performance_level = 1.0;
			w->pending_work_s = LBS_WORK_UNKNOWN;
			w->capacity = cap;
			w->queued_tests = 0;
			w->active_tests = rnd(cap ? cap : 1);
			/* Spread so that few share the best suitability: a
			 * wrong drop of the one best worker shows. */
			w->util_cpu = rnd(9) / 8.0;
			w->util_memory = 0.0;
			w->temperature = rnd(5) / 4.0;
			ws[i] = w;
		}
		hw_remember(s, 37);
		d = select_vs_rank(s, &wl, ws, N, l, want, want, ev, order);
		if (d < 0)
			continue;
		rounds++;
		mismatches += d;
		tied += ev[order[0]].f.score == ev[order[1]].f.score;
	}
	CHECK_INT(mismatches, 0);
	CHECK(rounds > 1300);
	CHECK(tied > 1200);
	hw_free(s);
}

/* Nothing about a worker outlives a call: the same id with other devices
 * (a fleet reload, whatever addresses it reuses) is scored on the new ones. */
/*
 * Giant fleets (hwaware.h, "Sampled selects"): 65,536 workers, the default
 * config samples them.  The hard filter is never sampled away: with
 * exactly one eligible worker, wherever it is, that worker is the answer
 * (never no_worker), timed and untimed; with none, no_worker; with all
 * eligible, the answer is an eligible worker and a full scan of a small
 * fleet under "scan": "sampled" is the full scan's answer.
 */
enum { GIANT = 65536 };

static void giant_cuda(rnd_worker *r, int cuda)
{
	r->d[0].backends = LBS_BACKEND_PYTORCH | (cuda ? LBS_BACKEND_CUDA : 0);
	r->d[0].mem_available_bytes = 16 * GIB;
}

/* Worker "g<i>": one idle GPU of cu compute units, 16 GiB, PyTorch. */
static void gpu_worker(rnd_worker *r, uint32_t i, uint32_t cu, const lbs_worker **ws)
{
	memset(r, 0, sizeof *r);
	snprintf(r->id, sizeof r->id, "g%u", i);
	r->w.struct_size = sizeof r->w;
	r->w.id = r->id;
	r->w.n_devices = 1;
	r->w.devices = r->dp;
	r->w.capacity = 1;
	r->w.pending_work_s = LBS_WORK_UNKNOWN;
	r->d[0].struct_size = sizeof r->d[0];
	r->d[0].hw_class = LBS_CLASS_GPU;
	r->d[0].compute_units = cu;
	r->d[0].clock_mhz = 1500;
	r->dp[0] = &r->d[0];
	giant_cuda(r, 0);
	ws[i] = &r->w;
}

static void giant_make(rnd_worker *rw, const lbs_worker **ws)
{
	for (uint32_t i = 0; i < GIANT; i++) {
		gpu_worker(&rw[i], i, 10 + i % 50, ws);
		rw[i].w.capacity = 2;
		rw[i].w.util_cpu = (i % 7) / 10.0;
		rw[i].w.active_tests = i % 3;
	}
}

static const char *giant_pick(shim_sched *s, const lbs_workload *wl, const lbs_worker **ws,
                              uint32_t n)
{
	fleet f = {NULL, (lbs_worker **)ws, n};

	return pick(s, wl, &f);
}

static void test_giant_fleet_one_eligible(void)
{
	rnd_worker *rw = calloc(GIANT, sizeof *rw);
	const lbs_worker **ws = calloc(GIANT, sizeof *ws);
	shim_sched *sampled = test_sched("hardware-aware", "{\"scan\":\"sampled\",\"sample\":16}");
	shim_sched *prio = test_sched("priority", NULL);
	static const uint32_t where[] = {0, 1, 4097, 32768, GIANT - 1};
	lbs_workload untimed = {.struct_size = sizeof untimed, .type = LBS_WL_VISION,
	                        .required_backends = LBS_BACKEND_CUDA, .priority = 3};
	lbs_workload timed = untimed;
	char want[16];

	CHECK(rw && ws);
	if (!rw || !ws)
		return;
	timed.est_duration_s = 30.0;
	timed.priority = 1;
	giant_make(rw, ws);
	CHECK_STR(giant_pick(hw, &untimed, ws, GIANT), "none");
	CHECK_STR(giant_pick(hw, &timed, ws, GIANT), "none");
	for (size_t k = 0; k < sizeof where / sizeof where[0]; k++) {
		giant_cuda(&rw[where[k]], 1);
		snprintf(want, sizeof want, "g%u", where[k]);
		/* Several selects each: the sample differs every time, and
		 * last time's winner is looked at first. */
		for (int rep = 0; rep < 3; rep++) {
			CHECK_STR(giant_pick(hw, &untimed, ws, GIANT), want);
			CHECK_STR(giant_pick(hw, &timed, ws, GIANT), want);
			CHECK_STR(giant_pick(sampled, &timed, ws, GIANT), want);
			CHECK_STR(giant_pick(prio, &timed, ws, GIANT), want);
		}
		giant_cuda(&rw[where[k]], 0);
	}
	/* Everyone eligible: some worker, whichever the sample found. */
	for (uint32_t i = 0; i < GIANT; i++)
		giant_cuda(&rw[i], 1);
	CHECK_CONTAINS(giant_pick(hw, &timed, ws, GIANT), "g");
	CHECK_CONTAINS(giant_pick(sampled, &untimed, ws, GIANT), "g");
	sched_close(sampled);
	sched_close(prio);
	free(rw);
	free(ws);
}

/* 4,096 identical idle workers, sampled: 400 selects spread over the
 * fleet.  Ties went to the lowest position among the draws and the kept
 * few: the first tenth of the fleet took 58 % of an nginx upstream's
 * requests.  Now about a tenth, and most picks are distinct. */
static void test_sampled_ties_spread(void)
{
	enum { N = 4096, PICKS = 400 };
	rnd_worker *rw = calloc(N, sizeof *rw);
	const lbs_worker **ws = calloc(N, sizeof *ws);
	shim_sched *s = test_sched("hardware-aware", "{\"scan\":\"sampled\"}");
	lbs_workload wl = {.struct_size = sizeof wl, .type = LBS_WL_VISION, .priority = 3};
	static unsigned char seen[N];
	uint32_t first_tenth = 0, distinct = 0;

	CHECK(rw && ws);
	if (!rw || !ws)
		return;
	for (uint32_t i = 0; i < N; i++)
		gpu_worker(&rw[i], i, 40, ws);
	for (int k = 0; k < PICKS; k++) {
		const char *id = giant_pick(s, &wl, ws, N);
		uint32_t i = (uint32_t)strtoul(id + 1, NULL, 10);

		CHECK(id[0] == 'g' && i < N);
		if (i >= N)
			break;
		first_tenth += i < N / 10;
		distinct += !seen[i];
		seen[i] = 1;
	}
	CHECK(first_tenth < PICKS / 5);
	CHECK(distinct > PICKS / 2);
	sched_close(s);
	free(rw);
	free(ws);
}

/* A sampled select under load finds what a full scan would: 4,096 eligible
 * workers of which 8 are fast, each pick busy for the next 4 picks, so 4
 * of the 8 are always free.  A sample of 64 draws one of the 8 one time in
 * 8, and the best of the last select, which it keeps, is the one just made
 * busy; the type's standing candidates (hw_elite) hold the 8 after one pass
 * over the fleet (512 selects of 8 positions) and are looked at 16 of 64
 * a select, so from then on most picks are fast.  The full scan, as the
 * reference, takes a free fast one every time. */
static void test_sampled_under_load(void)
{
	enum { N = 4096, FAST = 8, BUSY = 4, WARM = 600, PICKS = 400 };
	rnd_worker *rw = calloc(N, sizeof *rw);
	const lbs_worker **ws = calloc(N, sizeof *ws);
	shim_sched *sampled = test_sched("hardware-aware", "{\"scan\":\"sampled\"}");
	shim_sched *full = test_sched("hardware-aware", "{\"scan\":\"full\"}");
	shim_sched *both[2] = {sampled, full};
	lbs_workload wl = {.struct_size = sizeof wl, .type = LBS_WL_VISION, .priority = 3,
	                   .est_duration_s = 30.0};
	uint32_t fast[2] = {0, 0};

	CHECK(rw && ws);
	if (!rw || !ws)
		return;
	for (int k = 0; k < 2; k++) {
		uint32_t busy[BUSY], nb = 0;

		/* the fast ones spread over the fleet, not where a pass starts */
		for (uint32_t i = 0; i < N; i++)
			gpu_worker(&rw[i], i, i % (N / FAST) == N / FAST / 2 ? 140 : 10, ws);
		for (int p = 0; p < WARM + PICKS; p++) {
			const char *id = giant_pick(both[k], &wl, ws, N);
			uint32_t i = (uint32_t)strtoul(id + 1, NULL, 10);

			if (id[0] != 'g' || i >= N) {
				CHECK_STR(id, "a worker");
				break;
			}
			if (p >= WARM)
				fast[k] += rw[i].d[0].compute_units == 140;
			if (nb == BUSY)
				rw[busy[p % BUSY]].w.active_tests = 0;
			else
				nb++;
			busy[p % BUSY] = i;
			rw[i].w.active_tests = 1;
		}
	}
	CHECK_INT(fast[1], PICKS);
	if (fast[0] < PICKS * 9 / 10)
		fprintf(stderr, "    sampled: %u of %u picks fast\n", fast[0], PICKS);
	CHECK(fast[0] >= PICKS * 9 / 10);
	sched_close(sampled);
	sched_close(full);
	free(rw);
	free(ws);
}

/* A state that samples every fleet larger than `sample`. */
static hw_state *sampled_state(uint32_t sample)
{
	hw_params p;

	hw_params_default(&p);
	p.sample_from = 0;
	p.sample = sample;
	return hw_new(&p);
}

/*
 * A sampled select draws `sample` positions while the best of them would
 * not make timed work wait, and draws on, a batch at a time, to 4 x
 * `sample` while it would: every slot taken by count (16 of 16 too, a wait
 * of 1/16 run), or a load that fills the capacity (a wait of a tenth of a
 * run or more), unless the host says nothing is pending there.  Untimed work has no wait and never draws
 * more.  Every worker full: the select still answers one, and once 20 or
 * so selects found none free (a saturated fleet, 150 selects here) it
 * stops drawing on, since there is none to find.
 */
static void test_sampled_grows_while_full(void)
{
	enum { N = 4096, SELECTS = 20, SAMPLE = 64 };
	rnd_worker *rw = calloc(N, sizeof *rw);
	const lbs_worker **ws = calloc(N, sizeof *ws);
	lbs_workload timed = {.struct_size = sizeof timed, .type = LBS_WL_VISION,
	                      .est_duration_s = 30.0};
	lbs_workload plain = {.struct_size = sizeof plain, .type = LBS_WL_VISION};
	struct {
		uint32_t active;        /* every worker's running tests */
		uint32_t cap;           /* every worker's capacity, 0: 1 */
		double util;            /* every worker's util_cpu and util_gpu */
		double pending;         /* every worker's pending_work_s */
		const lbs_workload *wl;
		uint64_t drawn;         /* expected draws over SELECTS selects */
	} cases[] = {
		{0, 0, 0.0, LBS_WORK_UNKNOWN, &timed, (uint64_t)SELECTS * SAMPLE},
		{1, 0, 0.0, LBS_WORK_UNKNOWN, &timed, (uint64_t)SELECTS * SAMPLE * 4},
		{1, 0, 0.0, LBS_WORK_UNKNOWN, &plain, (uint64_t)SELECTS * SAMPLE},
		{0, 0, 1.0, LBS_WORK_UNKNOWN, &timed, (uint64_t)SELECTS * SAMPLE * 4},
		{0, 0, 0.05, LBS_WORK_UNKNOWN, &timed, (uint64_t)SELECTS * SAMPLE},
		{1, 0, 0.0, 0.0, &timed, (uint64_t)SELECTS * SAMPLE},
		{0, 0, 0.0, 120.0, &timed, (uint64_t)SELECTS * SAMPLE * 4},
		{16, 16, 0.0, LBS_WORK_UNKNOWN, &timed, (uint64_t)SELECTS * SAMPLE * 4},
		{15, 16, 0.0, LBS_WORK_UNKNOWN, &timed, (uint64_t)SELECTS * SAMPLE},
	};

	CHECK(rw && ws);
	if (!rw || !ws)
		return;
	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		hw_state *s = sampled_state(SAMPLE);
		uint64_t drawn = 0, selects;
		int answered = 0;

		for (uint32_t i = 0; i < N; i++) {
			gpu_worker(&rw[i], i, 10 + i % 50, ws);
			rw[i].w.active_tests = cases[k].active;
			if (cases[k].cap)
				rw[i].w.capacity = cases[k].cap;
			rw[i].w.util_cpu = rw[i].w.util_gpu = cases[k].util;
			rw[i].w.pending_work_s = cases[k].pending;
		}
		for (int q = 0; q < SELECTS; q++) {
			uint32_t idx = N, found = 0;

			answered += hw_select(s, cases[k].wl, ws, N, NULL, 1, 1, &idx, &found,
			                      NULL) == LBS_OK && idx < N;
		}
		selects = hw_sampled(s, &drawn);
		CHECK_INT(answered, SELECTS);
		CHECK_INT((int)selects, SELECTS);
		if (drawn != cases[k].drawn)
			fprintf(stderr, "    case %zu: %llu drawn, expected %llu\n", k,
			        (unsigned long long)drawn, (unsigned long long)cases[k].drawn);
		CHECK(drawn == cases[k].drawn);
		if (k == 1) { /* saturated: after 150 selects, no more than the sample */
			uint64_t before = 0, after = 0;

			for (int q = 0; q < 150 + SELECTS; q++) {
				uint32_t idx = N, found = 0;

				if (q == 150)
					(void)hw_sampled(s, &before);
				answered += hw_select(s, cases[k].wl, ws, N, NULL, 1, 1, &idx, &found,
				                      NULL) == LBS_OK && idx < N;
			}
			(void)hw_sampled(s, &after);
			CHECK_INT(answered, 2 * SELECTS + 150);
			CHECK_INT((int)(after - before), SELECTS * SAMPLE);
		}
		hw_free(s);
	}
	free(rw);
	free(ws);
}

/*
 * Where few workers are free and the load moves (each answer fills its
 * worker, and a drawn full one empties), a growing sample finds a free
 * one far more often than `sample` draws alone would: 32 free of 4,096,
 * 64 draws find one 40 % of the time (1 - (1 - 32/4096)^64), 256 draws
 * 87 %.  It stops at the first batch whose best is free, so it draws
 * between the sample and 4 x the sample.
 */
static void test_sampled_grows_finds_free(void)
{
	enum { N = 4096, FREE = 32, SELECTS = 200, SAMPLE = 64 };
	rnd_worker *rw = calloc(N, sizeof *rw);
	const lbs_worker **ws = calloc(N, sizeof *ws);
	lbs_workload wl = {.struct_size = sizeof wl, .type = LBS_WL_NLP, .est_duration_s = 30.0};
	uint64_t drawn = 0;
	uint32_t free_answers = 0, answered = 0;
	hw_state *s;

	CHECK(rw && ws);
	if (!rw || !ws)
		return;
	s = sampled_state(SAMPLE);
	for (uint32_t i = 0; i < N; i++) {
		gpu_worker(&rw[i], i, 10 + i % 50, ws);
		rw[i].w.active_tests = i % (N / FREE) == 7 ? 0 : 1;
	}
	for (int q = 0; q < SELECTS; q++) {
		uint32_t idx = N, found = 0, j;

		if (hw_select(s, &wl, ws, N, NULL, 1, 1, &idx, &found, NULL) != LBS_OK || idx >= N)
			continue;
		answered++;
		free_answers += rw[idx].w.active_tests == 0;
		rw[idx].w.active_tests = 1;
		do /* a full one finishes: as many free as before */
			j = rnd(N);
		while (rw[j].w.active_tests == 0);
		rw[j].w.active_tests = 0;
	}
	(void)hw_sampled(s, &drawn);
	CHECK_INT(answered, SELECTS);
	if (free_answers < SELECTS * 3 / 4 || drawn <= (uint64_t)SELECTS * SAMPLE ||
	    drawn >= (uint64_t)SELECTS * SAMPLE * 4)
		fprintf(stderr, "    %u of %u answers free, %llu drawn\n", free_answers, SELECTS,
		        (unsigned long long)drawn);
	CHECK(free_answers >= SELECTS * 3 / 4);
	CHECK(drawn > (uint64_t)SELECTS * SAMPLE && drawn < (uint64_t)SELECTS * SAMPLE * 4);
	hw_free(s);
	free(rw);
	free(ws);
}

/* A sample at least the fleet's size is a full scan: the same answers as
 * "scan": "full" on the random fleets of test_random_consistency. */
static void test_sampled_small_fleet_is_full(void)
{
	enum { N = 40 };
	static rnd_worker rw[N];
	const lbs_worker *ws[N];
	hw_params p;
	hw_state *full, *samp;
	int mismatches = 0;

	hw_params_default(&p);
	p.sample_from = HW_SCAN_FULL;
	full = hw_new(&p);
	p.sample_from = 0;
	p.sample = N;
	samp = hw_new(&p);
	for (int round = 0; round < 200; round++) {
		lbs_workload wl = {.struct_size = sizeof wl, .type = rnd(LBS_WL_COUNT),
		                   .est_duration_s = rnd(2) ? 10.0 * (1 + rnd(3)) : 0.0};
		uint32_t a = 0, b = 0, ka = 0, kb = 0;
		lbs_status sa, sb;

		for (uint32_t i = 0; i < N; i++) {
			make_random(&rw[i], i);
			ws[i] = &rw[i].w;
		}
		sa = hw_select(full, &wl, ws, N, NULL, 1, 1, &a, &ka, NULL);
		sb = hw_select(samp, &wl, ws, N, NULL, 1, 1, &b, &kb, NULL);
		mismatches += sa != sb || a != b || ka != kb;
	}
	CHECK_INT(mismatches, 0);
	hw_free(full);
	hw_free(samp);
}

static void test_fleet_reload(void)
{
	fleet cpu = fleet_parse("[{\"worker_id\":\"w\",\"cpu_cores\":4,\"available_memory\":16},"
	                        " {\"worker_id\":\"x\",\"cpu_cores\":8,\"available_memory\":16}]");
	fleet gpu = fleet_parse("[{\"worker_id\":\"w\",\"cpu_cores\":4,\"available_memory\":16,"
	                        "  \"supported_backends\":[\"cuda\"]},"
	                        " {\"worker_id\":\"x\",\"cpu_cores\":8,\"available_memory\":16}]");
	lbs_workload wl = wl_of(cpu.arena, "{\"test_id\":\"v\",\"test_type\":\"vision\"}");

	CHECK_STR(pick(hw, &wl, &cpu), "x");
	CHECK_STR(pick(hw, &wl, &gpu), "w");
	CHECK_STR(pick(hw, &wl, &cpu), "x");
	fleet_free(&cpu);
	fleet_free(&gpu);
}

/*
 * Targeted exploration (hw_explore): two CPU twins with the same declared
 * devices; "a" has shown its speed over 50 runs and wins the select, "b"
 * has never run this work.  While b is idle and unexplored it gets a test
 * now and then, never more than the budget allows; busy, explored,
 * ineligible, with untimed work or with exploration off, it gets none.
 * The same calls give the same answers.
 */
static lbs_history explore_a = {
	.samples = 50, .successes = 50, .preference = 0.7, .ratio_n = 50,
	.log_ratio_mean = -1.0,
};
static lbs_history explore_b4 = {
	.samples = 4, .successes = 4, .preference = 0.5, .ratio_n = 4,
};
static int explore_b_known;

static const lbs_history *explore_lookup(void *ctx, uint32_t type, const char *id)
{
	(void)ctx;
	(void)type;
	if (!strcmp(id, "a"))
		return &explore_a;
	return explore_b_known ? &explore_b4 : NULL;
}

static void explore_twin(rnd_worker *r, const char *id)
{
	memset(r, 0, sizeof *r);
	snprintf(r->id, sizeof r->id, "%s", id);
	r->w.struct_size = sizeof r->w;
	r->w.id = r->id;
	r->w.n_devices = 1;
	r->w.devices = r->dp;
	r->w.capacity = 2;
	r->w.pending_work_s = LBS_WORK_UNKNOWN;
	r->d[0].struct_size = sizeof r->d[0];
	r->d[0].hw_class = LBS_CLASS_CPU;
	r->d[0].compute_units = 16;
	r->d[0].clock_mhz = 2500;
	r->d[0].mem_available_bytes = 64 * GIB;
	r->d[0].backends = LBS_BACKEND_PYTORCH;
	r->dp[0] = &r->d[0];
}

/* Selects then explorations of n rounds; how many answered b in *to_b. */
static uint32_t explore_rounds(hw_state *s, const lbs_workload *wl, const lbs_worker **ws,
                               const hw_learned *l, int n, uint32_t *to_b, char *trace)
{
	uint32_t before = (uint32_t)hw_explored(s), idx[1], k;

	*to_b = 0;
	for (int i = 0; i < n; i++) {
		uint32_t at;

		CHECK_INT(hw_select(s, wl, ws, 2, l, 1, 1, idx, &k, NULL), LBS_OK);
		CHECK_INT(idx[0], 0);
		at = hw_explore(s, wl, ws, 2, l, idx[0]);
		CHECK(at < 2);
		*to_b += at == 1;
		if (trace)
			trace[i] = (char)('0' + at);
	}
	CHECK_INT((uint32_t)hw_explored(s) - before, *to_b);
	return *to_b;
}

static void test_explore(void)
{
	static rnd_worker rw[2];
	const lbs_worker *ws[2] = {&rw[0].w, &rw[1].w};
	hw_learned l = {explore_lookup, NULL, NULL, NULL, NULL, 0.0, NULL, NULL, NULL};
	lbs_workload wl = {.struct_size = sizeof wl, .type = LBS_WL_AUDIO,
	                   .est_duration_s = 60};
	lbs_workload cuda = wl, untimed = wl;
	hw_params p, off;
	hw_state *s, *s2;
	uint32_t to_b;
	char t1[200], t2[200];

	cuda.required_backends = LBS_BACKEND_CUDA;
	untimed.est_duration_s = 0;
	explore_twin(&rw[0], "a");
	explore_twin(&rw[1], "b");
	/* CUDA work: a has the backend, b not. */
	rw[0].d[0].backends |= LBS_BACKEND_CUDA;
	hw_params_default(&p);
	p.explore_samples = 4;
	p.explore_budget = 0.1;
	p.explore_optimism = 100;
	s = hw_new(&p);
	s2 = hw_new(&p);

	/* Idle and unexplored: b gets tests, at most a tenth of 200 (the
	 * bucket starts empty and holds one). */
	explore_b_known = 0;
	explore_rounds(s, &wl, ws, &l, 200, &to_b, t1);
	CHECK(to_b >= 10 && to_b <= 20);
	/* Deterministic: a second state answers the same sequence. */
	explore_rounds(s2, &wl, ws, &l, 200, &to_b, t2);
	CHECK(memcmp(t1, t2, sizeof t1) == 0);
	/* Busy: b has no free slot (its tests, or its load). */
	rw[1].w.active_tests = 2;
	CHECK_INT(explore_rounds(s, &wl, ws, &l, 100, &to_b, NULL), 0);
	rw[1].w.active_tests = 1;
	CHECK(explore_rounds(s, &wl, ws, &l, 100, &to_b, NULL) > 0);
	rw[1].w.active_tests = 0;
	rw[1].w.util_cpu = rw[1].w.util_memory = rw[1].w.util_gpu = 1.0;
	CHECK_INT(explore_rounds(s, &wl, ws, &l, 100, &to_b, NULL), 0);
	rw[1].w.util_cpu = rw[1].w.util_memory = rw[1].w.util_gpu = 0;
	/* Explored: 4 outcomes of this work learned. */
	explore_b_known = 1;
	CHECK_INT(explore_rounds(s, &wl, ws, &l, 100, &to_b, NULL), 0);
	explore_b_known = 0;
	/* Never an ineligible worker. */
	CHECK_INT(explore_rounds(s, &cuda, ws, &l, 100, &to_b, NULL), 0);
	/* Untimed work keeps the select's answer. */
	for (int i = 0; i < 50; i++)
		CHECK_INT(hw_explore(s, &untimed, ws, 2, &l, 0), 0);
	/* A candidate its own optimism cannot put near a's finish is left. */
	hw_free(s);
	p.explore_optimism = 1;
	s = hw_new(&p);
	CHECK_INT(explore_rounds(s, &wl, ws, &l, 100, &to_b, NULL), 0);
	hw_free(s);
	/* Off (samples 0). */
	off = p;
	off.explore_samples = 0;
	off.explore_optimism = 100;
	s = hw_new(&off);
	CHECK_INT(explore_rounds(s, &wl, ws, &l, 100, &to_b, NULL), 0);
	hw_free(s);
	hw_free(s2);
}

int main(void)
{
	/* These tests assert the ranking's answer; exploration, which now
	 * and then hands a test to an idle untried worker instead, has its
	 * own (test_explore). */
	hw = test_sched("hardware-aware", "{\"explore\": {\"samples\": 0}}");

	test_f1_required_backend();
	test_f2_underscore_id();
	test_f3_browser_is_not_cuda();
	test_f4_tpu_required();
	test_f14_vision_to_gpu();
	test_tensor_cores_for_nlp();
	test_int8_inference_prefers_npu();
	test_cooler_less_loaded_wins();
	test_preferred_backend();
	test_multi();
	test_multi_distinct();
	test_config();
	test_config_changes_choice();
	test_explain();
	test_determinism();
	test_learned_preference();
	test_completion_learned_speed();
	test_completion_prior();
	test_completion_off();
	test_ceiling_timed();
	test_completion_throttle_and_failures();
	test_flaky_twin_avoided();
	test_latency_alone();
	test_worked_example();
	test_no_double_thermal_penalty();
	test_random_consistency();
	test_fresh_busy_consistency();
	test_fresh_invalid();
	test_fresh_idle_consistency();
	test_fresh_many_devices();
	test_fresh_far();
	test_fresh_screens_at_cut();
	test_random_latency_store();
	test_memo_forgets_changed();
	test_memo_forgets_by_kind();
	test_learned_screens_at_cut();
	test_score_against_evaluate();
	test_plain_score_against_evaluate();
	test_hard_from_timed_scores();
	test_timed_twins();
	test_idle_kind();
	test_fleet_reload();
	test_giant_fleet_one_eligible();
	test_sampled_small_fleet_is_full();
	test_sampled_ties_spread();
	test_sampled_under_load();
	test_sampled_grows_while_full();
	test_sampled_grows_finds_free();
	test_explore();

	sched_close(hw);
	return check_done("test_hwaware");
}
