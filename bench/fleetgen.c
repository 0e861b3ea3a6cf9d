/*
 * fleetgen.c -- see fleetgen.h.
 */
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <time.h>

#include "fleetgen.h"

#define GIB (UINT64_C(1) << 30)

static uint64_t next(uint64_t *s)
{
	/* splitmix64: small, fast, and the same on every machine. */
	uint64_t z = (*s += UINT64_C(0x9E3779B97F4A7C15));
	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

static double unit(uint64_t *s)
{
	return (double)(next(s) >> 11) / 9007199254740992.0;
}

typedef struct worker_mem {
	lbs_worker w;
	lbs_device dev[4];
	const lbs_device *devp[4];
	char id[24];
} worker_mem;

static void set_device(lbs_device *d, uint32_t cls, uint64_t *s)
{
	memset(d, 0, sizeof *d);
	d->struct_size = sizeof *d;
	d->hw_class = cls;
	switch (cls) {
	case LBS_CLASS_GPU:
		d->arch = LBS_ARCH_GPU_CUDA;
		d->vendor = LBS_VENDOR_NVIDIA;
		d->backends = LBS_BACKEND_CUDA | LBS_BACKEND_GPU | LBS_BACKEND_PYTORCH | LBS_BACKEND_ONNX;
		d->precisions = LBS_PREC_FP32 | LBS_PREC_FP16 | LBS_PREC_INT8;
		d->features = LBS_FEAT_SIMT | LBS_FEAT_COMPUTE_SHADERS |
		              (next(s) & 1 ? LBS_FEAT_TENSOR_CORES : 0);
		d->mem_total_bytes = (16 + next(s) % 65) * GIB;
		d->compute_units = 40 + (uint32_t)(next(s) % 100);
		d->clock_mhz = 1400;
		d->tdp_watts = 300;
		break;
	case LBS_CLASS_TPU:
		d->arch = LBS_ARCH_TPU;
		d->vendor = LBS_VENDOR_GOOGLE;
		d->backends = LBS_BACKEND_TPU | LBS_BACKEND_TENSORFLOW | LBS_BACKEND_ONNX;
		d->precisions = LBS_PREC_FP32 | LBS_PREC_BF16 | LBS_PREC_INT8;
		d->features = LBS_FEAT_TENSOR_CORES;
		d->mem_total_bytes = 32 * GIB;
		d->compute_units = 8;
		d->clock_mhz = 1000;
		d->tdp_watts = 200;
		break;
	case LBS_CLASS_NPU:
		d->arch = LBS_ARCH_NPU_QUALCOMM;
		d->vendor = LBS_VENDOR_QUALCOMM;
		d->backends = LBS_BACKEND_NPU | LBS_BACKEND_QNN | LBS_BACKEND_ONNX;
		d->precisions = LBS_PREC_FP16 | LBS_PREC_INT8 | LBS_PREC_INT4;
		d->features = LBS_FEAT_QUANTIZATION;
		d->mem_total_bytes = 8 * GIB;
		d->compute_units = 4;
		d->clock_mhz = 800;
		d->tdp_watts = 5;
		break;
	case LBS_CLASS_HYBRID:
		d->arch = LBS_ARCH_GPU_WEBGPU;
		d->vendor = LBS_VENDOR_OTHER;
		d->backends = LBS_BACKEND_WEBGPU | LBS_BACKEND_WEBNN;
		d->precisions = LBS_PREC_FP32 | LBS_PREC_FP16;
		d->features = LBS_FEAT_COMPUTE_SHADERS;
		d->mem_total_bytes = 2 * GIB;
		d->compute_units = 2;
		d->clock_mhz = 1000;
		d->tdp_watts = 15;
		break;
	default:
		d->arch = next(s) & 1 ? LBS_ARCH_X86_64 : LBS_ARCH_ARM64;
		d->vendor = d->arch == LBS_ARCH_X86_64 ? LBS_VENDOR_INTEL : LBS_VENDOR_AMAZON;
		d->backends = LBS_BACKEND_CPU | LBS_BACKEND_PYTORCH | LBS_BACKEND_TENSORFLOW |
		              LBS_BACKEND_ONNX;
		d->precisions = LBS_PREC_FP32 | LBS_PREC_INT8;
		d->features = LBS_FEAT_SIMD | LBS_FEAT_AVX2;
		d->mem_total_bytes = (8 + next(s) % 249) * GIB;
		d->compute_units = 4 + (uint32_t)(next(s) % 61);
		d->clock_mhz = 2000 + (uint32_t)(next(s) % 1500);
		d->tdp_watts = 65 + (uint32_t)(next(s) % 200);
		break;
	}
	d->mem_available_bytes = d->mem_total_bytes - d->mem_total_bytes / 8;
}

genfleet genfleet_make(uint32_t n, uint32_t max_devices, uint64_t seed)
{
	static const uint32_t extra[] = {LBS_CLASS_GPU, LBS_CLASS_GPU, LBS_CLASS_TPU,
	                                 LBS_CLASS_NPU, LBS_CLASS_HYBRID};
	genfleet f = {0};
	worker_mem *m = calloc(n, sizeof *m);
	uint64_t s = seed;

	f.workers = calloc(n, sizeof *f.workers);
	if (!m || !f.workers) {
		fprintf(stderr, "fleetgen: out of memory\n");
		exit(1);
	}
	if (max_devices < 1)
		max_devices = 1;
	if (max_devices > 4)
		max_devices = 4;
	for (uint32_t i = 0; i < n; i++) {
		worker_mem *wm = &m[i];
		uint32_t nd = 1 + (uint32_t)(next(&s) % max_devices);

		snprintf(wm->id, sizeof wm->id, "worker-%u", i);
		set_device(&wm->dev[0], LBS_CLASS_CPU, &s);
		for (uint32_t d = 1; d < nd; d++)
			set_device(&wm->dev[d], extra[next(&s) % 5], &s);
		for (uint32_t d = 0; d < nd; d++)
			wm->devp[d] = &wm->dev[d];
		wm->w = (lbs_worker){
			.struct_size = sizeof(lbs_worker),
			.n_devices = nd,
			.id = wm->id,
			.devices = wm->devp,
			.util_cpu = unit(&s) * 0.8,
			.util_memory = unit(&s) * 0.8,
			.util_gpu = unit(&s) * 0.8,
			.util_io = unit(&s) * 0.5,
			.util_network = unit(&s) * 0.5,
			.active_tests = (uint32_t)(next(&s) % 3),
			.queued_tests = (uint32_t)(next(&s) % 2),
			.temperature = unit(&s) * 0.6,
			.thermal_state = next(&s) % 10 == 0 ? LBS_THERMAL_COOLING : LBS_THERMAL_NORMAL,
			.capacity = 2,
			.performance_level = 0.8 + unit(&s) * 0.2,
			/* as the converter: only the counts say what is ahead */
			.pending_work_s = LBS_WORK_UNKNOWN,
		};
		f.workers[i] = &wm->w;
		f.n_devices += nd;
	}
	f.n = n;
	f.mem = m;
	return f;
}

void genfleet_free(genfleet *f)
{
	free(f->mem);
	free(f->workers);
	memset(f, 0, sizeof *f);
}

lbs_workload *genworkloads_make(uint32_t n, uint64_t seed)
{
	static const char *const types[] = {"vision_classification", "nlp_generation",
	                                    "audio_transcription", "embedding", "inference",
	                                    "training"};
	lbs_workload *wl = calloc(n, sizeof *wl);
	uint64_t s = seed;

	if (!wl) {
		fprintf(stderr, "fleetgen: out of memory\n");
		exit(1);
	}
	for (uint32_t i = 0; i < n; i++) {
		uint32_t t = (uint32_t)(next(&s) % 6);
		double dur = 5 + unit(&s) * 300;
		wl[i] = (lbs_workload){
			.struct_size = sizeof(lbs_workload),
			.type = (uint32_t[]){LBS_WL_VISION, LBS_WL_NLP, LBS_WL_AUDIO, LBS_WL_EMBEDDING,
			                     LBS_WL_INFERENCE, LBS_WL_TRAINING}[t],
			.id = "bench",
			.test_type = types[t],
			.min_memory_bytes = (uint64_t)((0.5 + unit(&s) * 3.5) * (double)GIB),
			.compute_intensity = dur > 120 ? 0.8 : dur < 10 ? 0.3 : 0.5,
			.memory_intensity = 0.2,
			.io_intensity = 0.5,
			.network_intensity = 0.5,
			.latency_sensitivity = 0.5,
			.throughput_sensitivity = 0.5,
			.priority = 1 + (uint32_t)(next(&s) % 5),
			.est_duration_s = dur,
			.min_shards = 1,
			.max_shards = 1,
		};
	}
	return wl;
}

uint32_t bare_scan(const lbs_workload *wl, const lbs_worker *const *w, uint32_t n)
{
	uint32_t best = UINT32_MAX;
	double best_load = 2.0;

	for (uint32_t i = 0; i < n; i++) {
		const lbs_worker *x = w[i];
		double load = 0.3 * x->util_cpu + 0.3 * x->util_memory + 0.2 * x->util_gpu +
		              0.1 * x->util_io + 0.1 * x->util_network;
		int fits = 0;

		for (uint32_t d = 0; d < x->n_devices; d++) {
			const lbs_device *dev = x->devices[d];
			fits |= (dev->backends & wl->required_backends) == wl->required_backends &&
			        dev->mem_available_bytes >= wl->min_memory_bytes;
		}
		if (fits && load < best_load) {
			best_load = load;
			best = i;
		}
	}
	return best;
}

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

void sort_doubles(double *v, size_t n)
{
	qsort(v, n, sizeof *v, cmp_double);
}

double median_of(double *v, size_t n)
{
	sort_doubles(v, n);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
