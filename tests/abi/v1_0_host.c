/*
 * v1_0_host.c -- a host built against the frozen 1.0 header alone
 * (tests/abi/v1.0/lbsched/abi.h), without the shim: it loads the current
 * plugin ($LBS_PLUGIN) the way abi.h's "HOW A HOST LOADS A PLUGIN" says, and
 * drives every scheduler it offers with structs of the 1.0 sizes.  A plugin
 * built against a newer header must keep working for it, and must not read
 * the fields a newer header appended: every worker, device and workload is
 * a heap block of exactly LBS_*_SIZE_V1_0 bytes, so that under ASan a read
 * past one is an error, not a read of the next array element.
 *
 * Its own answer check is deliberately simple (index in range, id equal to
 * that worker's): what is asserted is which worker was chosen.
 */
#define HOST_NAME "v1.0 host"
#include "abi_host.h"

/* The fleet: two CPU boxes (one with little memory) and a box with a CPU
 * and a CUDA GPU; templates, copied into exact-size blocks by fleet_new. */
static const lbs_device cpu_big = {
	.struct_size = sizeof(lbs_device), .hw_class = LBS_CLASS_CPU, .arch = LBS_ARCH_X86_64,
	.vendor = LBS_VENDOR_INTEL, .model_name = "xeon",
	.backends = LBS_BACKEND_CPU | LBS_BACKEND_PYTORCH | LBS_BACKEND_ONNX,
	.precisions = LBS_PREC_FP32 | LBS_PREC_INT8, .features = LBS_FEAT_AVX2,
	.mem_total_bytes = 64 * GB, .mem_available_bytes = 32 * GB, .compute_units = 16,
	.clock_mhz = 2900, .tdp_watts = 200,
};
static const lbs_device cpu_small = {
	.struct_size = sizeof(lbs_device), .hw_class = LBS_CLASS_CPU, .arch = LBS_ARCH_X86_64,
	.vendor = LBS_VENDOR_AMD, .backends = LBS_BACKEND_CPU | LBS_BACKEND_PYTORCH | LBS_BACKEND_ONNX,
	.precisions = LBS_PREC_FP32, .mem_total_bytes = 8 * GB, .mem_available_bytes = 4 * GB,
	.compute_units = 4,
};
static const lbs_device host_cpu = {
	.struct_size = sizeof(lbs_device), .hw_class = LBS_CLASS_CPU, .arch = LBS_ARCH_X86_64,
	.vendor = LBS_VENDOR_AMD, .backends = LBS_BACKEND_CPU | LBS_BACKEND_PYTORCH,
	.precisions = LBS_PREC_FP32, .mem_total_bytes = 128 * GB, .mem_available_bytes = 64 * GB,
	.compute_units = 8,
};
static const lbs_device gpu = {
	.struct_size = sizeof(lbs_device), .hw_class = LBS_CLASS_GPU, .arch = LBS_ARCH_GPU_CUDA,
	.vendor = LBS_VENDOR_NVIDIA, .model_name = "a100",
	.backends = LBS_BACKEND_CUDA | LBS_BACKEND_PYTORCH | LBS_BACKEND_TENSORRT | LBS_BACKEND_GPU,
	.precisions = LBS_PREC_FP32 | LBS_PREC_FP16 | LBS_PREC_BF16 | LBS_PREC_INT8,
	.features = LBS_FEAT_TENSOR_CORES, .mem_total_bytes = 40 * GB,
	.mem_available_bytes = 40 * GB, .compute_units = 108, .clock_mhz = 1410, .tdp_watts = 400,
};
#define N_WORKERS 3u
static const char *const worker_ids[N_WORKERS] = {"cpu-1", "gpu-1", "cpu-2"};
static const lbs_device *const worker_devs[N_WORKERS][2] = {
	{&cpu_big, NULL}, {&host_cpu, &gpu}, {&cpu_small, NULL}};

typedef struct fleet {
	const lbs_worker *workers[N_WORKERS];
	const lbs_device *devs[N_WORKERS][2];
} fleet;

static fleet *fleet_new(void)
{
	fleet *f = calloc(1, sizeof *f);

	if (!f)
		exit(99);
	for (uint32_t i = 0; i < N_WORKERS; i++) {
		lbs_worker w = {.struct_size = LBS_WORKER_SIZE_V1_0, .id = worker_ids[i],
		                .devices = f->devs[i], .performance_level = 1.0, .capacity = 4};

		for (uint32_t d = 0; d < 2 && worker_devs[i][d]; d++, w.n_devices++)
			f->devs[i][d] = exact(worker_devs[i][d], LBS_DEVICE_SIZE_V1_0);
		f->workers[i] = exact(&w, LBS_WORKER_SIZE_V1_0);
	}
	return f;
}

static void fleet_free(fleet *f)
{
	for (uint32_t i = 0; i < N_WORKERS; i++) {
		for (uint32_t d = 0; d < 2; d++)
			free((void *)f->devs[i][d]);
		free((void *)f->workers[i]);
	}
	free(f);
}

static fleet *F;

/* A 1.0 workload in an exact-size block; the caller frees it. */
static lbs_workload *workload(uint32_t type, const char *test_type, uint64_t backends,
                              uint64_t min_mem, double compute)
{
	lbs_workload wl = {
		.struct_size = LBS_WORKLOAD_SIZE_V1_0, .type = type, .id = "t",
		.test_type = test_type,
		.required_backends = backends, .min_memory_bytes = min_mem,
		.compute_intensity = compute, .memory_intensity = 0.5, .io_intensity = 0.5,
		.network_intensity = 0.5, .latency_sensitivity = 0.5,
		.throughput_sensitivity = 0.5, .priority = 3, .allocation = LBS_ALLOC_SINGLE,
		.min_shards = 1, .max_shards = 1,
	};
	return exact(&wl, LBS_WORKLOAD_SIZE_V1_0);
}

/* One select on the fleet. */
static const char *choose(const lbs_scheduler_desc *d, void *inst, const lbs_workload *wl)
{
	return choose_in(d, inst, wl, F->workers, N_WORKERS);
}

static void round_robin(const lbs_plugin_entry *e)
{
	const lbs_scheduler_desc *d = find(e, "round-robin");
	lbs_workload *small = workload(LBS_WL_INFERENCE, "inference", LBS_BACKEND_CPU, 1 * GB, 0.5);
	lbs_workload *big = workload(LBS_WL_INFERENCE, "inference", LBS_BACKEND_CPU, 8 * GB, 0.5);
	const char *tried[] = {"cpu-1"};
	void *inst;

	if (d && (inst = create(d, NULL))) {
		/* A true rotation over the workers that fit ... */
		CHECK_STR(choose(d, inst, small), "cpu-1");
		CHECK_STR(choose(d, inst, small), "gpu-1");
		CHECK_STR(choose(d, inst, small), "cpu-2");
		CHECK_STR(choose(d, inst, small), "cpu-1");
		/* ... cpu-2 lacks memory for 8 GB, and an excluded worker is
		 * skipped. */
		big->exclude_ids = tried;
		big->n_exclude = 1;
		CHECK_STR(choose(d, inst, big), "gpu-1");
		CHECK_STR(choose(d, inst, big), "gpu-1");
		big->required_backends = LBS_BACKEND_ONNX;
		CHECK_STR(choose(d, inst, big), "none");
		d->destroy(inst);
	}
	free(small);
	free(big);
}

static void hardware_aware(const lbs_plugin_entry *e, const char *store_dir)
{
	const lbs_scheduler_desc *d = find(e, "hardware-aware");
	lbs_workload *vision = workload(LBS_WL_VISION, "vision_classification",
	                                LBS_BACKEND_PYTORCH, 8 * GB, 0.9);
	lbs_workload *onnx = workload(LBS_WL_INFERENCE, "inference", LBS_BACKEND_ONNX, 24 * GB, 0.5);
	lbs_outcome done = {.struct_size = sizeof done, .workload_type = LBS_WL_VISION,
	                    .workload_id = "t", .test_type = "vision_classification",
	                    .worker_id = "gpu-1", .result = LBS_RESULT_SUCCESS,
	                    .status_code = 200, .duration_s = 1.5, .expected_duration_s = 2.0};
	char config[1024], stats[4096] = "";
	void *inst;

	snprintf(config, sizeof config, "{\"store\": {\"path\": \"%s\", \"batch_ms\": 0}}", store_dir);
	if (!d || !(inst = create(d, config))) {
		free(vision);
		free(onnx);
		return;
	}
	CHECK(d->caps & LBS_CAP_LEARNS);
	vision->preferred_class = LBS_CLASS_GPU;
	/* Compute-heavy vision work that prefers a GPU goes to the GPU box. */
	CHECK_STR(choose(d, inst, vision), "gpu-1");
	/* ONNX with 24 GB: only cpu-1's device has both. */
	CHECK_STR(choose(d, inst, onnx), "cpu-1");
	onnx->min_memory_bytes = 48 * GB;
	CHECK_STR(choose(d, inst, onnx), "none");
	free(vision);
	free(onnx);

	CHECK(LBS_HAS_FIELD(d, lbs_scheduler_desc, report) && d->report);
	CHECK(LBS_HAS_FIELD(d, lbs_scheduler_desc, stats) && d->stats);
	if (!d->report || !d->stats) {
		d->destroy(inst);
		return;
	}
	CHECK_INT(d->report(inst, &done), LBS_OK);
	CHECK_INT(d->stats(inst, collect, stats), LBS_OK);
	CHECK_CONTAINS(stats, "\"reports\":1,");
	d->destroy(inst);
	/* The report went through the 1.0-sized outcome into the LMDB store:
	 * a new instance on that store starts out knowing the pair. */
	if (!(inst = create(d, config)))
		return;
	stats[0] = '\0';
	CHECK_INT(d->stats(inst, collect, stats), LBS_OK);
	CHECK_CONTAINS(stats, "\"reports\":0,");
	CHECK_CONTAINS(stats, "\"learned_pairs\":1,");
	d->destroy(inst);
}

/* Every scheduler the plugin lists, as a 1.0 host finds them: each one
 * selects and (with the slot) scores and explains on the 1.0-sized fleet.
 * Only cpu-1 has a device with ONNX and 24 GB; nothing has 48 GB. */
static void every_scheduler(const lbs_plugin_entry *e)
{
	lbs_workload *onnx = workload(LBS_WL_INFERENCE, "inference", LBS_BACKEND_ONNX, 24 * GB, 0.5);
	lbs_workload *huge = workload(LBS_WL_INFERENCE, "inference", LBS_BACKEND_ONNX, 48 * GB, 0.5);
	uint32_t n = e->scheduler_count(), driven = 0;

	for (uint32_t i = 0; i < n; i++) {
		const lbs_scheduler_desc *d = e->scheduler_get(i);
		const char *config;
		double scores[N_WORKERS];
		char text[4096] = "";
		void *inst;

		CHECK(d && d->struct_size >= LBS_DESC_SIZE_V1_0 && d->name);
		if (!d || !d->name)
			continue;
		config = strcmp(d->name, "composite") == 0 ? COMPOSITE_CONFIG : NULL;
		if (!(inst = create(d, config)))
			continue;
		printf("v1.0 host: driving %s\n", d->name);
		CHECK_STR(choose(d, inst, onnx), "cpu-1");
		CHECK_STR(choose(d, inst, huge), "none");
		if (LBS_HAS_FIELD(d, lbs_scheduler_desc, score) && d->score) {
			CHECK_INT(d->score(inst, onnx, F->workers, N_WORKERS, scores), LBS_OK);
			CHECK(scores[0] >= 0 && scores[1] < 0 && scores[2] < 0);
		}
		if (LBS_HAS_FIELD(d, lbs_scheduler_desc, explain) && d->explain) {
			CHECK_INT(d->explain(inst, onnx, F->workers, N_WORKERS, collect, text),
			          LBS_OK);
			CHECK_CONTAINS(text, "cpu-1");
		}
		if (LBS_HAS_FIELD(d, lbs_scheduler_desc, workers_changed) && d->workers_changed)
			CHECK_INT(d->workers_changed(inst, F->workers, N_WORKERS), LBS_OK);
		d->destroy(inst);
		driven++;
	}
	CHECK_INT(driven, n);
	free(onnx);
	free(huge);
}

int main(void)
{
	char store_dir[512];
	const lbs_plugin_entry *e;
	void *so;

	if (!make_dir(store_dir, sizeof store_dir))
		return 1;
	if (!(e = open_plugin(&so)))
		return check_done("test_abi_v1_0_host");

	F = fleet_new();
	round_robin(e);
	hardware_aware(e, store_dir);
	every_scheduler(e);
	fleet_free(F);

	e->deinit();
	dlclose(so);
	remove_dir(store_dir);
	return check_done("test_abi_v1_0_host");
}
