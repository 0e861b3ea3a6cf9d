/*
 * test_eligible.c -- the hard filter and the load figures: every rejection
 * reason on hand-built workers (and a few parsed from the original's JSON),
 * the order the reasons are reported in, and hand-computed load numbers.
 */
#include <math.h>
#include <string.h>

#include "check.h"
#include "eligible.h"
#include "support.h"

#define GIB (UINT64_C(1) << 30)

/* A worker with up to two devices and two accelerator kinds, built by hand
 * so that every field a check reads is set on purpose. */
typedef struct hw {
	lbs_worker w;
	lbs_device d[2];
	const lbs_device *dp[2];
	const char *kinds[2];
	uint32_t counts[2];
	uint32_t reserved[2];
} hw;

/* One CPU device: cpu + pytorch + onnx, fp32 + int8, simd + avx2, 16 GiB
 * free, 8 cores; idle; no accelerators. */
static void hw_init(hw *h, const char *id)
{
	memset(h, 0, sizeof(*h));
	h->d[0].struct_size = sizeof(lbs_device);
	h->d[0].hw_class = LBS_CLASS_CPU;
	h->d[0].backends = LBS_BACKEND_CPU | LBS_BACKEND_PYTORCH | LBS_BACKEND_ONNX;
	h->d[0].precisions = LBS_PREC_FP32 | LBS_PREC_INT8;
	h->d[0].features = LBS_FEAT_SIMD | LBS_FEAT_AVX2;
	h->d[0].mem_total_bytes = 32 * GIB;
	h->d[0].mem_available_bytes = 16 * GIB;
	h->d[0].compute_units = 8;
	h->dp[0] = &h->d[0];
	h->dp[1] = &h->d[1];
	h->w.struct_size = sizeof(lbs_worker);
	h->w.id = id;
	h->w.devices = h->dp;
	h->w.n_devices = 1;
	h->w.performance_level = 1.0;
	h->w.accel_kinds = h->kinds;
	h->w.accel_counts = h->counts;
}

/* Add a CUDA GPU with `mem` bytes free and 80 SMs as device 1. */
static void hw_add_gpu(hw *h, uint64_t mem)
{
	h->d[1].struct_size = sizeof(lbs_device);
	h->d[1].hw_class = LBS_CLASS_GPU;
	h->d[1].backends = LBS_BACKEND_CUDA | LBS_BACKEND_GPU | LBS_BACKEND_PYTORCH;
	h->d[1].precisions = LBS_PREC_FP32 | LBS_PREC_FP16 | LBS_PREC_INT8;
	h->d[1].features = LBS_FEAT_TENSOR_CORES | LBS_FEAT_SIMT;
	h->d[1].mem_total_bytes = mem;
	h->d[1].mem_available_bytes = mem;
	h->d[1].compute_units = 80;
	h->w.n_devices = 2;
}

static void hw_accel(hw *h, const char *kind, uint32_t count)
{
	h->kinds[h->w.n_accels] = kind;
	h->counts[h->w.n_accels] = count;
	h->w.n_accels++;
}

static void set_util(lbs_worker *w, double u)
{
	w->util_cpu = w->util_memory = w->util_gpu = w->util_io = w->util_network = u;
}

static lbs_workload wl_plain(void)
{
	lbs_workload wl;

	memset(&wl, 0, sizeof(wl));
	wl.struct_size = sizeof(wl);
	wl.priority = 3;
	wl.min_shards = wl.max_shards = 1;
	return wl;
}

static enum elig_reason check(const lbs_workload *wl, const hw *h)
{
	return elig_check(wl, &h->w, 0.9, NULL);
}

static void test_excluded(void)
{
	const char *ex[] = { "w10", "w1" };
	lbs_workload wl = wl_plain();
	hw a, b, c;

	hw_init(&a, "w1");
	hw_init(&b, "w");
	hw_init(&c, "w100");
	wl.exclude_ids = ex;
	wl.n_exclude = 2;
	CHECK_INT(check(&wl, &a), ELIG_EXCLUDED);
	/* Whole ids only: neither a prefix nor an extension matches. */
	CHECK_INT(check(&wl, &b), ELIG_OK);
	CHECK_INT(check(&wl, &c), ELIG_OK);
	CHECK(elig_is_excluded(&wl, "w10"));
	CHECK(!elig_is_excluded(&wl, "W1"));
	/* Excluded comes first, before a requirement it also fails. */
	wl.required_backends = LBS_BACKEND_CUDA;
	CHECK_INT(check(&wl, &a), ELIG_EXCLUDED);
}

static void test_no_device(void)
{
	lbs_workload wl = wl_plain();
	hw h;

	hw_init(&h, "w1");
	h.w.n_devices = 0;
	CHECK_INT(check(&wl, &h), ELIG_NO_DEVICE);
	/* A device from a writer older than 1.0 cannot be read safely. */
	hw_init(&h, "w1");
	h.d[0].struct_size = 8;
	CHECK_INT(check(&wl, &h), ELIG_NO_DEVICE);
	hw_init(&h, "w1");
	h.dp[0] = NULL;
	CHECK_INT(check(&wl, &h), ELIG_NO_DEVICE);
}

static void test_device_requirements(void)
{
	lbs_workload wl = wl_plain();
	hw h;

	hw_init(&h, "w1");
	CHECK_INT(check(&wl, &h), ELIG_OK);

	wl.required_backends = LBS_BACKEND_PYTORCH | LBS_BACKEND_ONNX;
	CHECK_INT(check(&wl, &h), ELIG_OK);
	wl.required_backends = LBS_BACKEND_PYTORCH | LBS_BACKEND_CUDA;
	CHECK_INT(check(&wl, &h), ELIG_BACKEND);

	wl = wl_plain();
	wl.required_precisions = LBS_PREC_INT8;
	CHECK_INT(check(&wl, &h), ELIG_OK);
	wl.required_precisions = LBS_PREC_FP16;
	CHECK_INT(check(&wl, &h), ELIG_PRECISION);

	wl = wl_plain();
	wl.required_features = LBS_FEAT_AVX2;
	CHECK_INT(check(&wl, &h), ELIG_OK);
	wl.required_features = LBS_FEAT_AVX512;
	CHECK_INT(check(&wl, &h), ELIG_FEATURE);

	wl = wl_plain();
	wl.min_compute_units = 8;
	CHECK_INT(check(&wl, &h), ELIG_OK);
	wl.min_compute_units = 9;
	CHECK_INT(check(&wl, &h), ELIG_COMPUTE);
}

static void test_memory_reservation(void)
{
	lbs_workload wl = wl_plain();
	hw h;

	hw_init(&h, "w1");
	wl.min_memory_bytes = 10 * GIB;
	CHECK_INT(check(&wl, &h), ELIG_OK);
	/* 16 GiB free but 8 promised to running work: 8 left. */
	h.w.reserved_memory_bytes = 8 * GIB;
	CHECK_INT(check(&wl, &h), ELIG_MEMORY);
	wl.min_memory_bytes = 8 * GIB;
	CHECK_INT(check(&wl, &h), ELIG_OK);
	wl.min_memory_bytes = 8 * GIB + 1;
	CHECK_INT(check(&wl, &h), ELIG_MEMORY);
	/* More reserved than available saturates at 0, it does not wrap
	 * round to a huge number. */
	h.w.reserved_memory_bytes = 20 * GIB;
	wl.min_memory_bytes = 1;
	CHECK_INT(check(&wl, &h), ELIG_MEMORY);
	wl.min_memory_bytes = 0;
	CHECK_INT(check(&wl, &h), ELIG_OK);
}

static void test_furthest_device(void)
{
	lbs_workload wl = wl_plain();
	uint64_t mask = 99;
	hw h;

	hw_init(&h, "w1");
	hw_add_gpu(&h, 4 * GIB);
	/* The CPU fails at the backend, the GPU gets as far as memory: the
	 * worker is reported by the furthest check reached. */
	wl.required_backends = LBS_BACKEND_CUDA;
	wl.min_memory_bytes = 8 * GIB;
	CHECK_INT(elig_check(&wl, &h.w, 0.9, &mask), ELIG_MEMORY);
	CHECK_INT(mask, 0);
	wl.min_memory_bytes = 2 * GIB;
	CHECK_INT(elig_check(&wl, &h.w, 0.9, &mask), ELIG_OK);
	CHECK_INT(mask, 2);
	/* Both devices pass a plain pytorch workload. */
	wl = wl_plain();
	wl.required_backends = LBS_BACKEND_PYTORCH;
	CHECK_INT(elig_check(&wl, &h.w, 0.9, &mask), ELIG_OK);
	CHECK_INT(mask, 3);
	/* All requirements on ONE device: fp16 is only on the GPU and avx2
	 * only on the CPU. */
	wl.required_precisions = LBS_PREC_FP16;
	wl.required_features = LBS_FEAT_AVX2;
	CHECK_INT(elig_check(&wl, &h.w, 0.9, &mask), ELIG_FEATURE);
}

static void test_other_bits(void)
{
	lbs_workload wl = wl_plain();
	hw h;

	/* The device says "some backend we could not name", and so does the
	 * requirement: they are not known to be the same thing. */
	hw_init(&h, "w1");
	h.d[0].backends |= LBS_BACKEND_OTHER;
	h.d[0].precisions |= LBS_PREC_OTHER;
	h.d[0].features |= LBS_FEAT_OTHER;
	wl.required_backends = LBS_BACKEND_OTHER;
	CHECK_INT(check(&wl, &h), ELIG_BACKEND);
	wl = wl_plain();
	wl.required_precisions = LBS_PREC_OTHER | LBS_PREC_FP32;
	CHECK_INT(check(&wl, &h), ELIG_PRECISION);
	wl = wl_plain();
	wl.required_features = LBS_FEAT_OTHER;
	CHECK_INT(check(&wl, &h), ELIG_FEATURE);
	/* The device's OTHER bits do not stop it meeting known ones. */
	wl = wl_plain();
	wl.required_backends = LBS_BACKEND_CPU;
	CHECK_INT(check(&wl, &h), ELIG_OK);
}

static void test_accelerators(void)
{
	const char *kinds[] = { "gpu", "tpu" };
	uint32_t counts[] = { 2, 1 };
	lbs_workload wl = wl_plain();
	hw cpu, gpu;

	hw_init(&cpu, "cpu-only");
	hw_init(&gpu, "gpu-box");
	hw_accel(&gpu, "gpu", 4);

	wl.required_accel_kinds = kinds + 1;
	wl.required_accel_counts = counts + 1;
	wl.n_required_accels = 1;
	CHECK_INT(check(&wl, &cpu), ELIG_ACCEL);
	CHECK_INT(check(&wl, &gpu), ELIG_ACCEL);

	wl.required_accel_kinds = kinds;
	wl.required_accel_counts = counts;
	wl.n_required_accels = 1;
	CHECK_INT(check(&wl, &gpu), ELIG_OK);
	counts[0] = 4;
	CHECK_INT(check(&wl, &gpu), ELIG_OK);
	counts[0] = 5;
	CHECK_INT(check(&wl, &gpu), ELIG_ACCEL);
	counts[0] = 2;
	/* Both kinds required: the gpu box has no tpu. */
	wl.n_required_accels = 2;
	CHECK_INT(check(&wl, &gpu), ELIG_ACCEL);
	hw_accel(&gpu, "tpu", 1);
	CHECK_INT(check(&wl, &gpu), ELIG_OK);
	/* Kinds are lower-case names and compare exactly. */
	kinds[0] = "GPU";
	wl.n_required_accels = 1;
	CHECK_INT(check(&wl, &gpu), ELIG_ACCEL);
}

/* A required accelerator whose kind names a device class keeps the work's
 * devices to that class: a test that asks for a GPU was scored on the
 * worker's faster host CPU, and said to run there. */
static void test_accelerator_devices(void)
{
	const char *kinds[] = { "gpu", "tpu", "fpga-x" };
	uint32_t counts[] = { 1, 1, 1 };
	lbs_workload wl = wl_plain();
	uint64_t mask;
	hw h;

	hw_init(&h, "gpu-box");
	hw_add_gpu(&h, 16 * GIB);
	hw_accel(&h, "gpu", 1);
	hw_accel(&h, "tpu", 1);
	CHECK_INT(elig_check(&wl, &h.w, 0.9, &mask), ELIG_OK);
	CHECK_INT(mask, 3);
	wl.required_accel_kinds = kinds;
	wl.required_accel_counts = counts;
	wl.n_required_accels = 1;
	CHECK_INT(elig_check(&wl, &h.w, 0.9, &mask), ELIG_OK);
	CHECK_INT(mask, 2);
	/* A count of 0 asks for nothing. */
	counts[0] = 0;
	CHECK_INT(elig_check(&wl, &h.w, 0.9, &mask), ELIG_OK);
	CHECK_INT(mask, 3);
	counts[0] = 1;
	/* The GPU device fails the memory: the work cannot go on it, and the
	 * accelerator counts alone keep it; the CPU is what passes. */
	wl.min_memory_bytes = 20 * GIB;
	h.d[0].mem_available_bytes = 24 * GIB;
	CHECK_INT(elig_check(&wl, &h.w, 0.9, &mask), ELIG_OK);
	CHECK_INT(mask, 1);
	wl.min_memory_bytes = 0;
	/* A tpu listed with no TPU device: the devices stay as they were. */
	wl.required_accel_kinds = kinds + 1;
	CHECK_INT(elig_check(&wl, &h.w, 0.9, &mask), ELIG_OK);
	CHECK_INT(mask, 3);
	/* A kind that names no class does not narrow them (the worker's
	 * second kind, for the moment). */
	h.kinds[1] = "fpga-x";
	wl.required_accel_kinds = kinds + 2;
	CHECK_INT(elig_check(&wl, &h.w, 0.9, &mask), ELIG_OK);
	CHECK_INT(mask, 3);
	h.kinds[1] = "tpu";
	/* Two kinds: both classes' devices. */
	wl.required_accel_kinds = kinds;
	wl.n_required_accels = 2;
	h.d[0].hw_class = LBS_CLASS_TPU;
	CHECK_INT(elig_check(&wl, &h.w, 0.9, &mask), ELIG_OK);
	CHECK_INT(mask, 3);
}

/* ABI 1.1: backend names beyond the bits, on the device that meets the rest. */
static void test_backend_names(void)
{
	const char *jax[] = { "jax" }, *both[] = { "triton", "jax" };
	const char *upper[] = { "JAX" }, *unreadable[] = { NULL };
	const char *dev_names[] = { "triton", "jax" };
	lbs_workload wl = wl_plain();
	hw h, plain;

	hw_init(&h, "jax-box");
	hw_add_gpu(&h, 40 * GIB);
	h.d[1].backend_names = dev_names;
	h.d[1].n_backend_names = 2;
	hw_init(&plain, "plain");

	wl.required_backend_names = jax;
	wl.n_required_backend_names = 1;
	CHECK_INT(check(&wl, &h), ELIG_OK);
	CHECK_INT(check(&wl, &plain), ELIG_BACKEND);
	CHECK_STR(elig_missing_name(&wl, &plain.w), "jax");
	CHECK(elig_missing_name(&wl, &h.w) == NULL);
	wl.required_backend_names = both;
	wl.n_required_backend_names = 2;
	CHECK_INT(check(&wl, &h), ELIG_OK);
	/* The device with the names must meet the other requirements too:
	 * the GPU has jax but not 64 GB, the CPU neither jax nor 64 GB. */
	wl.min_memory_bytes = 64 * GIB;
	CHECK(check(&wl, &h) != ELIG_OK);
	wl.min_memory_bytes = 0;
	/* Names and bits on one device: the names are on the GPU, onnx only
	 * on the CPU. */
	wl.required_backends = LBS_BACKEND_ONNX;
	CHECK_INT(check(&wl, &h), ELIG_BACKEND);
	wl.required_backends = LBS_BACKEND_CUDA;
	CHECK_INT(check(&wl, &h), ELIG_OK);
	wl.required_backends = 0;
	/* Byte for byte: a host folds case, the filter does not. */
	wl.required_backend_names = upper;
	wl.n_required_backend_names = 1;
	CHECK_INT(check(&wl, &h), ELIG_BACKEND);
	/* A requirement that cannot be read is never met. */
	wl.required_backend_names = unreadable;
	CHECK_INT(check(&wl, &h), ELIG_BACKEND);
	CHECK_STR(elig_missing_name(&wl, &h.w), "");
	wl.required_backend_names = NULL;
	CHECK_INT(check(&wl, &h), ELIG_BACKEND);
	/* A device from a 1.0 writer has no names, whatever lies past it. */
	wl.required_backend_names = jax;
	h.d[1].struct_size = LBS_DEVICE_SIZE_V1_0;
	CHECK_INT(check(&wl, &h), ELIG_BACKEND);
	/* A 1.0 workload requires no names, whatever lies past it. */
	wl.struct_size = LBS_WORKLOAD_SIZE_V1_0;
	CHECK_INT(check(&wl, &plain), ELIG_OK);
	CHECK(!elig_needs_full(&wl));
	CHECK(elig_missing_name(&wl, &plain.w) == NULL);
}

/* ABI 1.1: reserved accelerators are not free. */
static void test_reserved_accelerators(void)
{
	const char *kinds[] = { "gpu" };
	uint32_t counts[] = { 1 };
	lbs_workload wl = wl_plain();
	hw h;

	hw_init(&h, "gpu-box");
	hw_accel(&h, "gpu", 4);
	hw_accel(&h, "tpu", 2);
	wl.required_accel_kinds = kinds;
	wl.required_accel_counts = counts;
	wl.n_required_accels = 1;
	h.w.accel_reserved = h.reserved;
	h.reserved[0] = 3;
	CHECK_INT(elig_accel_free(&h.w, "gpu"), 1);
	CHECK_INT(check(&wl, &h), ELIG_OK);
	counts[0] = 2;
	CHECK_INT(check(&wl, &h), ELIG_ACCEL);
	counts[0] = 1;
	/* All reserved: no GPU work, and other kinds stay free. */
	h.reserved[0] = 4;
	CHECK_INT(check(&wl, &h), ELIG_ACCEL);
	CHECK_INT(elig_accel_free(&h.w, "tpu"), 2);
	/* More reserved than there are is none free, not a wrap-around. */
	h.reserved[0] = 9;
	CHECK_INT(elig_accel_free(&h.w, "gpu"), 0);
	/* NULL means none reserved. */
	h.w.accel_reserved = NULL;
	CHECK_INT(check(&wl, &h), ELIG_OK);
	/* A 1.0 worker ends before accel_reserved: never read. */
	h.w.accel_reserved = h.reserved;
	h.w.struct_size = LBS_WORKER_SIZE_V1_0;
	CHECK_INT(elig_accel_free(&h.w, "gpu"), 4);
	CHECK_INT(check(&wl, &h), ELIG_OK);
}

static void test_overloaded(void)
{
	const char *kinds[] = { "tpu" };
	uint32_t counts[] = { 1 };
	lbs_workload wl = wl_plain();
	hw h;

	hw_init(&h, "w1");
	set_util(&h.w, 0.91);
	CHECK_NEAR(worker_load(&h.w), 0.91, 1e-12);
	CHECK_INT(check(&wl, &h), ELIG_OVERLOADED);
	set_util(&h.w, 0.89);
	CHECK_INT(check(&wl, &h), ELIG_OK);
	/* Exactly at the ceiling is still allowed ("above" rejects): an idle
	 * worker passes a ceiling of 0, a barely busy one does not. */
	set_util(&h.w, 0.0);
	CHECK_INT(elig_check(&wl, &h.w, 0.0, NULL), ELIG_OK);
	h.w.util_io = 0.01;
	CHECK_INT(elig_check(&wl, &h.w, 0.0, NULL), ELIG_OVERLOADED);
	/* A ceiling of 1 never rejects: the load cannot exceed 1. */
	set_util(&h.w, 1.0);
	CHECK_INT(elig_check(&wl, &h.w, 1.0, NULL), ELIG_OK);
	CHECK_INT(elig_check(&wl, &h.w, 0.9, NULL), ELIG_OVERLOADED);
	/* The overload check is the last: a missing accelerator wins. */
	wl.required_accel_kinds = kinds;
	wl.required_accel_counts = counts;
	wl.n_required_accels = 1;
	CHECK_INT(check(&wl, &h), ELIG_ACCEL);
	/* A NaN utilisation counts as busy, so it cannot slip under. */
	wl = wl_plain();
	set_util(&h.w, 0.0);
	h.w.util_cpu = NAN;
	h.w.util_memory = NAN;
	h.w.util_gpu = NAN;
	h.w.util_io = NAN;
	CHECK_NEAR(worker_load(&h.w), 0.9, 1e-12);
	h.w.util_network = 0.1;
	CHECK_INT(check(&wl, &h), ELIG_OVERLOADED);
}

static void test_loads(void)
{
	hw h;

	hw_init(&h, "w1");
	/* 0.3*0.3 + 0.3*0.5 + 0.2*0.2 + 0.1*0.1 + 0.1*0.05 = 0.295 */
	h.w.util_cpu = 0.3;
	h.w.util_memory = 0.5;
	h.w.util_gpu = 0.2;
	h.w.util_io = 0.1;
	h.w.util_network = 0.05;
	CHECK_NEAR(worker_load(&h.w), 0.295, 1e-12);
	/* Out-of-range utilisations are clamped, not extrapolated. */
	h.w.util_cpu = 1.5;
	h.w.util_gpu = -3.0;
	CHECK_NEAR(worker_load(&h.w), 0.3 + 0.15 + 0.0 + 0.01 + 0.005, 1e-12);

	/* The seed's example: L0 = 0.308, cooling at performance 0.7 gives
	 * Le = 0.608.  0.3*0.36 + 0.3*0.4 + 0.2*0.2 + 0.1*0.2 + 0.1*0.2. */
	h.w.util_cpu = 0.36;
	h.w.util_memory = 0.4;
	h.w.util_gpu = 0.2;
	h.w.util_io = 0.2;
	h.w.util_network = 0.2;
	CHECK_NEAR(worker_load(&h.w), 0.308, 1e-12);
	h.w.performance_level = 0.7;
	CHECK_NEAR(worker_effective_load(&h.w), 0.308, 1e-12); /* normal */
	h.w.thermal_state = LBS_THERMAL_COOLING;
	CHECK_NEAR(worker_effective_load(&h.w), 0.608, 1e-12);
	h.w.thermal_state = LBS_THERMAL_WARMING;
	h.w.performance_level = 0.6;
	CHECK_NEAR(worker_effective_load(&h.w), 0.708, 1e-12);
	/* Capped at 1. */
	h.w.performance_level = 0.1;
	CHECK_NEAR(worker_effective_load(&h.w), 1.0, 1e-12);

	CHECK_NEAR(clamp01(NAN, 0.25), 0.25, 0);
	CHECK_NEAR(clamp01(-0.5, 1), 0.0, 0);
	CHECK_NEAR(clamp01(7, 0), 1.0, 0);
	CHECK_NEAR(clamp01(0.4, 0), 0.4, 0);
}

/* elig_busy01, whichever way it is compiled, is bit for bit the two
 * selections it stands for, at the values where a min/max could differ:
 * NaN, signed zeros, infinities, the bounds and a hair past them. */
static void test_busy01_exact(void)
{
	const double xs[] = { NAN, -NAN, 0.0, -0.0, 1.0, -1.0, INFINITY, -INFINITY,
	                      0.5, 1.0 + 0x1.0p-52, 1.0 - 0x1.0p-53, 0x1.0p-1074,
	                      -0x1.0p-1074, 1e300, -1e300, 0.3 };

	for (size_t i = 0; i < sizeof xs / sizeof xs[0]; i++) {
		double x = xs[i], want = x < 1.0 ? x : 1.0, got = elig_busy01(x);

		want = want > 0.0 ? want : 0.0;
		CHECK(memcmp(&got, &want, sizeof got) == 0);
	}
}

/* elig_load, packed two figures to an instruction where SSE2 is, is bit
 * for bit the weighted sum of elig_busy01() it stands for, in its order:
 * each figure in turn among awkward values, the others random. */
static void test_load_exact(void)
{
	const double xs[] = { NAN, -0.0, 0.0, 1.0, -1.0, INFINITY, -INFINITY,
	                      1.0 + 0x1.0p-52, 0x1.0p-1074, 0.3, 0.7, 1e300 };
	uint64_t r = 12345;

	for (int round = 0; round < 2000; round++) {
		lbs_worker w = { .struct_size = sizeof w };
		double u[5], want, got;

		for (int f = 0; f < 5; f++) {
			r = r * 6364136223846793005ull + 1442695040888963407ull;
			u[f] = (round % 3 == 0) ? xs[(r >> 33) % (sizeof xs / sizeof xs[0])]
			                        : (double)(r >> 11) * 0x1.0p-53 * 1.2 - 0.1;
		}
		w.util_cpu = u[0];
		w.util_memory = u[1];
		w.util_gpu = u[2];
		w.util_io = u[3];
		w.util_network = u[4];
		want = 0.3 * elig_busy01(u[0]) + 0.3 * elig_busy01(u[1]) +
		       0.2 * elig_busy01(u[2]) + 0.1 * elig_busy01(u[3]) +
		       0.1 * elig_busy01(u[4]);
		got = elig_load(&w);
		CHECK(memcmp(&got, &want, sizeof got) == 0);
	}
}

static void test_reason_texts(void)
{
	CHECK_STR(elig_reason_text(ELIG_BACKEND), "lacks a required backend");
	for (int a = ELIG_OK; a <= ELIG_OVERLOADED; a++) {
		CHECK(elig_reason_text((enum elig_reason)a)[0] != '\0');
		for (int b = a + 1; b <= ELIG_OVERLOADED; b++)
			CHECK(strcmp(elig_reason_text((enum elig_reason)a),
			             elig_reason_text((enum elig_reason)b)) != 0);
	}
}

static uint64_t lcg(uint64_t *s)
{
	*s = *s * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
	return *s >> 33;
}

/* Index 0 (the easy value) most of the time, else any of n. */
static uint64_t mostly0(uint64_t *s, uint64_t n)
{
	return lcg(s) % 10 < 6 ? 0 : lcg(s) % n;
}

/*
 * elig_pass() is an inline copy of the common case of elig_check(), for
 * scan loops; the two must never disagree.  Random workers and workloads
 * over small value sets, so that every branch of both is hit often.
 */
static void test_fast_path_agrees(void)
{
	static const uint64_t backends[] = { 0, LBS_BACKEND_CPU, LBS_BACKEND_CUDA,
	                                     LBS_BACKEND_CPU | LBS_BACKEND_PYTORCH,
	                                     LBS_BACKEND_OTHER };
	static const uint32_t bits[] = { 0, 1, 2, 3, UINT32_C(1) << 31 };
	static const double utils[] = { 0.0, 0.5, 0.95, 1.5, -1.0, NAN };
	static const double ceilings[] = { 0.5, 0.9, 1.0 };
	const char *ex[] = { "w1" };
	const char *kinds[] = { "gpu" };
	const char *names[] = { "jax", "triton" };
	uint32_t counts[] = { 2 };
	uint64_t seed = 12345;
	int disagree = 0, passed = 0, load_wrong = 0;

	for (int round = 0; round < 20000; round++) {
		lbs_workload wl = wl_plain();
		double ceiling = ceilings[lcg(&seed) % 3], load = -1;
		hw h;
		int fast;

		hw_init(&h, lcg(&seed) % 2 ? "w1" : "w2");
		if (lcg(&seed) % 2)
			hw_add_gpu(&h, (lcg(&seed) % 4) * GIB);
		h.w.n_devices = (uint32_t)(lcg(&seed) % 3);
		if (lcg(&seed) % 8 == 0)
			h.dp[0] = NULL;
		if (lcg(&seed) % 8 == 0)
			h.d[1].struct_size = 8;
		for (int d = 0; d < 2; d++) {
			h.d[d].backends = backends[lcg(&seed) % 5];
			h.d[d].precisions = bits[lcg(&seed) % 5];
			h.d[d].features = bits[lcg(&seed) % 5];
			h.d[d].mem_available_bytes = (lcg(&seed) % 4) * GIB;
			h.d[d].compute_units = (uint32_t)(lcg(&seed) % 3);
		}
		h.w.reserved_memory_bytes = mostly0(&seed, 3) * GIB;
		h.w.util_cpu = utils[mostly0(&seed, 6)];
		h.w.util_memory = utils[mostly0(&seed, 6)];
		h.w.util_gpu = utils[mostly0(&seed, 6)];
		if (lcg(&seed) % 3 == 0)
			hw_accel(&h, "gpu", (uint32_t)(lcg(&seed) % 4));
		if (lcg(&seed) % 3 == 0) {
			h.reserved[0] = (uint32_t)(lcg(&seed) % 3);
			h.w.accel_reserved = h.reserved;
		}
		for (int d = 0; d < 2; d++) {
			h.d[d].backend_names = names + lcg(&seed) % 2;
			h.d[d].n_backend_names = (uint32_t)(lcg(&seed) % 2);
		}
		wl.required_backends = backends[mostly0(&seed, 5)];
		wl.required_precisions = bits[mostly0(&seed, 5)];
		wl.required_features = bits[mostly0(&seed, 5)];
		wl.min_memory_bytes = mostly0(&seed, 3) * GIB;
		wl.min_compute_units = (uint32_t)mostly0(&seed, 3);
		if (lcg(&seed) % 4 == 0) {
			wl.exclude_ids = ex;
			wl.n_exclude = 1;
		}
		if (lcg(&seed) % 4 == 0) {
			wl.required_accel_kinds = kinds;
			wl.required_accel_counts = counts;
			wl.n_required_accels = 1;
		}
		if (lcg(&seed) % 4 == 0) {
			wl.required_backend_names = names;
			wl.n_required_backend_names = 1;
		}

		fast = elig_pass(&wl, &h.w, ceiling, &load);
		disagree += fast != (elig_check(&wl, &h.w, ceiling, NULL) == ELIG_OK);
		passed += fast;
		if (fast && load != worker_load(&h.w))
			load_wrong++;
	}
	CHECK_INT(disagree, 0);
	CHECK_INT(load_wrong, 0);
	/* The sample reaches both answers often enough to mean something. */
	CHECK(passed > 1000);
	CHECK(passed < 19000);
}

/*
 * elig_pass_simple_as(1, ...), for a workload whose only device
 * requirement is memory, tests available >= reserved + min instead of
 * the free memory against min: it must agree with elig_check(), also
 * where the sum passes 2^64 - 1 and where min is 0.
 */
static void test_memory_only_agrees(void)
{
	static const uint64_t big[] = { 0, 1, 3 * GIB, UINT64_MAX - GIB, UINT64_MAX - 1,
	                                UINT64_MAX };
	uint64_t seed = 777;
	int disagree = 0, passed = 0;

	for (int round = 0; round < 20000; round++) {
		lbs_workload wl = wl_plain();
		double load;
		hw h;
		int fast;

		hw_init(&h, "w1");
		if (lcg(&seed) % 2)
			hw_add_gpu(&h, 0);
		h.w.n_devices = (uint32_t)(lcg(&seed) % 3);
		if (lcg(&seed) % 8 == 0)
			h.dp[0] = NULL;
		if (lcg(&seed) % 8 == 0)
			h.d[1].struct_size = 8;
		for (int d = 0; d < 2; d++)
			h.d[d].mem_available_bytes = lcg(&seed) % 2 ? (lcg(&seed) % 4) * GIB
			                                           : big[lcg(&seed) % 6];
		h.w.reserved_memory_bytes = lcg(&seed) % 2 ? mostly0(&seed, 3) * GIB
		                                           : big[lcg(&seed) % 6];
		wl.min_memory_bytes = lcg(&seed) % 2 ? mostly0(&seed, 3) * GIB : big[lcg(&seed) % 6];
		CHECK(elig_memory_only(&wl) && !elig_needs_full(&wl));
		fast = elig_pass_simple_as(1, &wl, &h.w, 1.0, &load);
		disagree += fast != (elig_check(&wl, &h.w, 1.0, NULL) == ELIG_OK);
		disagree += fast != elig_devices_pass_as(1, &wl, &h.w);
		passed += fast;
	}
	CHECK_INT(disagree, 0);
	CHECK(passed > 2000);
	CHECK(passed < 18000);
}

/* Through the converter, as a host would feed the original's records. */
static void test_parsed(void)
{
	fleet f = fleet_parse(
		"[{\"worker_id\": \"cpu1\", \"supported_backends\": [\"cpu\"],"
		"  \"cpu_cores\": 8, \"available_memory\": 16},"
		" {\"worker_id\": \"tpu1\", \"supported_backends\": [\"cpu\", \"tpu\"],"
		"  \"available_accelerators\": {\"tpu\": 4},"
		"  \"cpu_cores\": 8, \"available_memory\": 64},"
		" {\"worker_id\": \"busy\", \"supported_backends\": [\"cpu\"],"
		"  \"cpu_cores\": 8, \"available_memory\": 16,"
		"  \"load\": {\"cpu_utilization\": 91, \"memory_utilization\": 91,"
		"   \"gpu_utilization\": 91, \"io_utilization\": 91,"
		"   \"network_utilization\": 91}},"
		" {\"worker_id\": \"fine\", \"supported_backends\": [\"cpu\"],"
		"  \"cpu_cores\": 8, \"available_memory\": 16,"
		"  \"load\": {\"cpu_utilization\": 89, \"memory_utilization\": 89,"
		"   \"gpu_utilization\": 89, \"io_utilization\": 89,"
		"   \"network_utilization\": 89, \"reserved_memory\": 14}}]");
	lbs_workload tpu_accel, tpu_backend, plain, big;

	CHECK_INT(f.n, 4);
	tpu_accel = workload_parse(f.arena,
		"{\"test_id\": \"t1\", \"test_type\": \"nlp_training\","
		" \"required_accelerators\": {\"tpu\": 1}}");
	tpu_backend = workload_parse(f.arena,
		"{\"test_id\": \"t2\", \"test_type\": \"nlp_training\","
		" \"required_backend\": \"tpu\"}");
	plain = workload_parse(f.arena, "{\"test_id\": \"t3\"}");
	big = workload_parse(f.arena, "{\"test_id\": \"t4\", \"minimum_memory\": 4}");

	/* The original's hardware-aware path sent TPU work to CPU-only
	 * workers (bug F4). */
	CHECK_INT(elig_check(&tpu_accel, f.workers[0], 0.9, NULL), ELIG_ACCEL);
	CHECK_INT(elig_check(&tpu_accel, f.workers[1], 0.9, NULL), ELIG_OK);
	CHECK_INT(elig_check(&tpu_backend, f.workers[0], 0.9, NULL), ELIG_BACKEND);
	CHECK_INT(elig_check(&tpu_backend, f.workers[1], 0.9, NULL), ELIG_OK);
	/* Percent utilisations: 91% everywhere is over 0.9, 89% is not. */
	CHECK_NEAR(worker_load(f.workers[2]), 0.91, 1e-9);
	CHECK_INT(elig_check(&plain, f.workers[2], 0.9, NULL), ELIG_OVERLOADED);
	CHECK_INT(elig_check(&plain, f.workers[3], 0.9, NULL), ELIG_OK);
	/* 16 GB with 14 reserved leaves 2: not enough for 4. */
	CHECK_INT(elig_check(&big, f.workers[0], 0.9, NULL), ELIG_OK);
	CHECK_INT(elig_check(&big, f.workers[3], 0.9, NULL), ELIG_MEMORY);
	fleet_free(&f);
}

int main(void)
{
	test_excluded();
	test_no_device();
	test_device_requirements();
	test_memory_reservation();
	test_furthest_device();
	test_other_bits();
	test_accelerators();
	test_backend_names();
	test_reserved_accelerators();
	test_accelerator_devices();
	test_overloaded();
	test_loads();
	test_busy01_exact();
	test_load_exact();
	test_reason_texts();
	test_fast_path_agrees();
	test_memory_only_agrees();
	test_parsed();
	return check_done("test_eligible");
}
