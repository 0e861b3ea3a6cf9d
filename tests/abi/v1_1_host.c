/*
 * v1_1_host.c -- a host built against the frozen 1.1 header alone
 * (tests/abi/v1.1/lbsched/abi.h) that uses what 1.1 added, on the current
 * plugin ($LBS_PLUGIN), through every scheduler it offers: a backend by
 * name (backend_names / required_backend_names), accelerators reserved
 * (accel_reserved) and the work ahead (pending_work_s).  Structs are heap
 * blocks of exactly their writer's size, and one worker is written at 1.0
 * size among 1.1 ones, as abi.h allows, so under ASan a plugin that reads a
 * 1.1 field without LBS_HAS_FIELD fails here.
 */
#define HOST_NAME "v1.1 host"
#include "abi_host.h"

static const char *const jax_names[] = {"jax", "flax"};

static const lbs_device cpu_dev = {
	.struct_size = sizeof(lbs_device), .hw_class = LBS_CLASS_CPU, .arch = LBS_ARCH_X86_64,
	.vendor = LBS_VENDOR_INTEL, .backends = LBS_BACKEND_CPU | LBS_BACKEND_PYTORCH,
	.precisions = LBS_PREC_FP32, .mem_total_bytes = 64 * GB, .mem_available_bytes = 32 * GB,
	.compute_units = 16, .clock_mhz = 2500,
};
/* The same CPU that also runs jax and flax, which have no LBS_BACKEND_* bit. */
static const lbs_device jax_dev = {
	.struct_size = sizeof(lbs_device), .hw_class = LBS_CLASS_CPU, .arch = LBS_ARCH_X86_64,
	.vendor = LBS_VENDOR_INTEL, .backends = LBS_BACKEND_CPU | LBS_BACKEND_PYTORCH,
	.precisions = LBS_PREC_FP32, .mem_total_bytes = 64 * GB, .mem_available_bytes = 32 * GB,
	.compute_units = 8, .clock_mhz = 2500, .backend_names = jax_names, .n_backend_names = 2,
};
static const lbs_device gpu_dev = {
	.struct_size = sizeof(lbs_device), .hw_class = LBS_CLASS_GPU, .arch = LBS_ARCH_GPU_CUDA,
	.vendor = LBS_VENDOR_NVIDIA, .backends = LBS_BACKEND_CUDA | LBS_BACKEND_GPU | LBS_BACKEND_PYTORCH,
	.precisions = LBS_PREC_FP32 | LBS_PREC_FP16, .features = LBS_FEAT_TENSOR_CORES,
	.mem_total_bytes = 40 * GB, .mem_available_bytes = 40 * GB, .compute_units = 108,
	.clock_mhz = 1410,
};

static const char *const gpu_kind[] = {"gpu"};
static const uint32_t one_gpu[] = {1}, two_gpus[] = {2};
/* Reservations per GPU worker; mutable, so a test can reserve the rest. */
static uint32_t reserved_a[] = {1}, reserved_b[] = {1}, reserved_c[] = {1};

#define N_WORKERS 5u
typedef struct fleet {
	const lbs_worker *workers[N_WORKERS];
	const lbs_device *devs[N_WORKERS][2];
} fleet;

static fleet *F;

/* cpu-old (a 1.0 writer: no names, no reservations), jax-1, and three GPU
 * boxes: gpu-a and gpu-b with their one GPU reserved, gpu-c with one of
 * two free. */
static fleet *fleet_new(void)
{
	static const struct {
		const char *id;
		const lbs_device *devs[2];
		uint32_t size, n_accels;
		const uint32_t *counts;
		uint32_t *reserved;
		double pending;
	} t[N_WORKERS] = {
		{"cpu-old", {&cpu_dev, NULL}, LBS_WORKER_SIZE_V1_0, 0, NULL, NULL, 0},
		{"jax-1", {&jax_dev, NULL}, LBS_WORKER_SIZE_V1_1, 0, NULL, NULL, 0},
		{"gpu-a", {&cpu_dev, &gpu_dev}, LBS_WORKER_SIZE_V1_1, 1, one_gpu, reserved_a,
		 LBS_WORK_UNKNOWN},
		{"gpu-b", {&cpu_dev, &gpu_dev}, LBS_WORKER_SIZE_V1_1, 1, one_gpu, reserved_b, 30},
		{"gpu-c", {&cpu_dev, &gpu_dev}, LBS_WORKER_SIZE_V1_1, 1, two_gpus, reserved_c, 120},
	};
	fleet *f = calloc(1, sizeof *f);

	if (!f)
		exit(99);
	for (uint32_t i = 0; i < N_WORKERS; i++) {
		lbs_worker w = {.struct_size = t[i].size, .id = t[i].id, .devices = f->devs[i],
		                .performance_level = 1.0, .capacity = 2,
		                .accel_kinds = t[i].n_accels ? gpu_kind : NULL,
		                .accel_counts = t[i].counts, .n_accels = t[i].n_accels,
		                .pending_work_s = t[i].pending, .accel_reserved = t[i].reserved};
		/* A 1.0 writer's devices are 1.0-sized too. */
		size_t dsize = t[i].size == LBS_WORKER_SIZE_V1_0 ? LBS_DEVICE_SIZE_V1_0
		                                                 : LBS_DEVICE_SIZE_V1_1;

		for (uint32_t d = 0; d < 2 && t[i].devs[d]; d++, w.n_devices++) {
			lbs_device *dev = exact(t[i].devs[d], dsize);

			dev->struct_size = (uint32_t)dsize;
			f->devs[i][d] = dev;
		}
		f->workers[i] = exact(&w, t[i].size);
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

/* A 1.1 workload needing `names` and `gpus` GPUs, in an exact-size block;
 * size LBS_WORKLOAD_SIZE_V1_0 writes it as a 1.0 host would. */
static lbs_workload *workload(const char *const *names, uint32_t n_names, const uint32_t *gpus,
                              size_t size)
{
	lbs_workload wl = {
		.struct_size = (uint32_t)size, .type = LBS_WL_TRAINING, .id = "t",
		.test_type = "training", .min_memory_bytes = 2 * GB, .compute_intensity = 0.5,
		.memory_intensity = 0.5, .io_intensity = 0.5, .network_intensity = 0.5,
		.latency_sensitivity = 0.5, .throughput_sensitivity = 0.5, .priority = 3,
		.allocation = LBS_ALLOC_SINGLE, .min_shards = 1, .max_shards = 1,
		.est_duration_s = 60, .n_required_accels = gpus ? 1 : 0,
		.required_accel_kinds = gpus ? gpu_kind : NULL, .required_accel_counts = gpus,
		.required_backend_names = names, .n_required_backend_names = n_names,
	};
	return exact(&wl, size);
}

static const char *choose(const lbs_scheduler_desc *d, void *inst, const lbs_workload *wl)
{
	return choose_in(d, inst, wl, F->workers, N_WORKERS);
}

static void every_scheduler(const lbs_plugin_entry *e)
{
	static const char *const jax[] = {"jax"}, *const both[] = {"flax", "jax"};
	static const char *const upper[] = {"JAX"}, *const xla[] = {"torch-xla"};
	lbs_workload *need_jax = workload(jax, 1, NULL, LBS_WORKLOAD_SIZE_V1_1);
	lbs_workload *need_both = workload(both, 2, NULL, LBS_WORKLOAD_SIZE_V1_1);
	lbs_workload *need_upper = workload(upper, 1, NULL, LBS_WORKLOAD_SIZE_V1_1);
	lbs_workload *need_xla = workload(xla, 1, NULL, LBS_WORKLOAD_SIZE_V1_1);
	lbs_workload *need_gpu = workload(NULL, 0, one_gpu, LBS_WORKLOAD_SIZE_V1_1);
	lbs_workload *need_two = workload(NULL, 0, two_gpus, LBS_WORKLOAD_SIZE_V1_1);
	lbs_workload *old_gpu = workload(NULL, 0, one_gpu, LBS_WORKLOAD_SIZE_V1_0);
	uint32_t n = e->scheduler_count(), driven = 0;

	for (uint32_t i = 0; i < n; i++) {
		const lbs_scheduler_desc *d = e->scheduler_get(i);
		double scores[N_WORKERS];
		void *inst;

		CHECK(d && d->struct_size >= LBS_DESC_SIZE_V1_0 && d->name);
		if (!d || !d->name ||
		    !(inst = create(d, strcmp(d->name, "composite") ? NULL : COMPOSITE_CONFIG)))
			continue;
		printf("v1.1 host: driving %s\n", d->name);
		/* Named backends: only jax-1 lists jax (cpu-old is a 1.0 writer
		 * and lists nothing); names are lower-case, compared exactly. */
		CHECK_STR(choose(d, inst, need_jax), "jax-1");
		CHECK_STR(choose(d, inst, need_both), "jax-1");
		CHECK_STR(choose(d, inst, need_upper), "none");
		CHECK_STR(choose(d, inst, need_xla), "none");
		if (LBS_HAS_FIELD(d, lbs_scheduler_desc, score) && d->score) {
			CHECK_INT(d->score(inst, need_jax, F->workers, N_WORKERS, scores), LBS_OK);
			CHECK(scores[0] < 0 && scores[1] >= 0 && scores[2] < 0 && scores[3] < 0 &&
			      scores[4] < 0);
		}
		/* Reserved accelerators: gpu-c has the only free GPU ... */
		CHECK_STR(choose(d, inst, need_gpu), "gpu-c");
		CHECK_STR(choose(d, inst, need_two), "none");
		/* ... and once it is reserved too, GPU work has no worker. */
		reserved_c[0] = 2;
		CHECK_STR(choose(d, inst, need_gpu), "none");
		reserved_c[0] = 1;
		/* A 1.0 workload in a 1.1 fleet: the reservations still count. */
		CHECK_STR(choose(d, inst, old_gpu), "gpu-c");
		d->destroy(inst);
		driven++;
	}
	CHECK_INT(driven, n);
	free(need_jax);
	free(need_both);
	free(need_upper);
	free(need_xla);
	free(need_gpu);
	free(need_two);
	free(old_gpu);
}

/* hardware-aware says what a rejected worker lacks, from the 1.1 fields. */
static void explained(const lbs_plugin_entry *e)
{
	static const char *const jax[] = {"jax"};
	const lbs_scheduler_desc *d = find(e, "hardware-aware");
	lbs_workload *need_jax = workload(jax, 1, NULL, LBS_WORKLOAD_SIZE_V1_1);
	lbs_workload *need_gpu = workload(NULL, 0, one_gpu, LBS_WORKLOAD_SIZE_V1_1);
	char text[4096] = "";
	void *inst;

	if (d && (inst = create(d, NULL))) {
		CHECK_INT(d->explain(inst, need_jax, F->workers, N_WORKERS, collect, text), LBS_OK);
		CHECK_CONTAINS(text, "lacks a required backend (needs jax)");
		text[0] = '\0';
		CHECK_INT(d->explain(inst, need_gpu, F->workers, N_WORKERS, collect, text), LBS_OK);
		CHECK_CONTAINS(text, "lacks a required accelerator (needs 1 gpu, has 0 free)");
		d->destroy(inst);
	}
	free(need_jax);
	free(need_gpu);
}

int main(void)
{
	const lbs_plugin_entry *e;
	void *so;

	if (!(e = open_plugin(&so)))
		return check_done("test_abi_v1_1_host");
	F = fleet_new();
	every_scheduler(e);
	explained(e);
	fleet_free(F);
	e->deinit();
	dlclose(so);
	return check_done("test_abi_v1_1_host");
}
