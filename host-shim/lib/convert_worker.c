/*
 * convert_worker.c -- worker capabilities (the original's WorkerCapabilities)
 * to an lbs_worker with its devices, given or derived: conv_worker, and
 * conv_fleet for a whole fleet document.
 */
#include <stdio.h>
#include <stdlib.h>

#include "convert_field.h"
#include "hash.h"
#include "taxonomy.h"
#include "text.h"

static uint32_t accel_count(const char *const *kinds, const uint32_t *counts,
                            uint32_t n, const char *kind)
{
	for (uint32_t i = 0; i < n; i++)
		if (strcmp(kinds[i], kind) == 0)
			return counts[i];
	return 0;
}

/* The names of an array of backend names that the taxonomy does not know
 * (their bits, OTHER, come from cv_name_set). */
static int unknown_backends(cv *v, const cJSON *obj, const char *key,
                            const char *prefix, names *l)
{
	const cJSON *arr = item(obj, key);
	path p;

	for (const cJSON *e = cJSON_IsArray(arr) ? arr->child : NULL; e; e = e->next)
		if (cJSON_IsString(e) && !tax_backend_parse(e->valuestring) &&
		    cv_names_add(v, l, cv_sub(&p, prefix, key), e->valuestring) < 0)
			return -1;
	return 0;
}

/* ===== Workers ============================================================ */

static const char *const worker_keys[] = {
	"worker_id", "hostname", "hardware_specs", "software_versions",
	"supported_backends", "browser_support", "has_gpu", "has_webgpu",
	"has_webnn", "network_bandwidth", "storage_capacity",
	"available_accelerators", "available_memory", "available_disk",
	"cpu_cores", "cpu_threads", "last_updated", "capacity", "devices",
	"load", NULL,
};

/* The keys read, then the ones lbsched-agent writes for people and other
 * tools (docs/AGENT.md), accepted unread.  Any other key is warned about:
 * a misspelt one ("gpu_memroy_gb") silently gave the card the host's
 * memory. */
static const char *const spec_keys[] = {
	"cpu_arch", "architecture", "cpu_vendor", "cpu_clock_mhz",
	"cpu_features", "cpu_tdp_watts", "total_memory_gb", "gpu_vendor",
	"gpu_name", "gpu_memory_gb", "gpu_compute_units", "gpu_clock_mhz",
	"gpu_tensor_cores", "gpu_tdp_watts", "tpu_cores", "tpu_memory_gb",
	"npu_vendor", "npu_compute_units", "npu_memory_gb",
	"cpu_model", "cpu_isa", "total_memory_kb", "cpu_sockets", "numa_nodes",
	"cpu_caches", "pci_devices", "pci_devices_total", "gpus",
	/* The original example's own sections ({"cpu": {"model": ...,
	 * "cores": 8}, "gpu": {"model": ..., "memory": "12GB"}, ...}):
	 * descriptions, which the original reads no more than any of
	 * hardware_specs; its records are a user's, and said nothing wrong. */
	"cpu", "memory", "os", "gpu", "tpu", "browser", "mobile", NULL,
};

static const char *const device_keys[] = {
	"class", "architecture", "vendor", "model_name", "backends",
	"precisions", "features", "memory_gb", "memory_available_gb",
	"compute_units", "clock_mhz", "tdp_watts", NULL,
};

/* What hardware_specs says; -1 = not given, since valid values are >= 0. */
struct specs {
	uint32_t cpu_arch, cpu_vendor, gpu_vendor, npu_vendor;
	int has_cpu_arch, has_cpu_vendor, has_gpu_vendor, has_npu_vendor;
	double cpu_clock, cpu_tdp, total_mem_gb;
	uint32_t cpu_features;
	const char *gpu_name;
	double gpu_mem_gb, gpu_cu, gpu_clock, gpu_tdp;
	int gpu_tensor; /* -1 not given */
	double tpu_cores, tpu_mem_gb;
	double npu_cu, npu_mem_gb;
};

static int hardware_specs(cv *v, const cJSON *obj, struct specs *sp)
{
	const char *pre = "hardware_specs";
	const cJSON *hs;
	uint64_t feats = 0;
	int r;

	sp->cpu_clock = sp->cpu_tdp = sp->total_mem_gb = -1;
	sp->gpu_mem_gb = sp->gpu_cu = sp->gpu_clock = sp->gpu_tdp = -1;
	sp->tpu_cores = sp->tpu_mem_gb = sp->npu_cu = sp->npu_mem_gb = -1;
	sp->gpu_tensor = -1;
	r = cv_get_obj(v, obj, "hardware_specs", NULL, NULLABLE, &hs);
	if (r <= 0)
		return r;
	/* With "devices" the whole object goes unread, which is said once
	 * (worker()); a word on each of its keys would only repeat it. */
	if (cv_check_keys(v, hs, pre, spec_keys, !cJSON_IsArray(item(obj, "devices"))) < 0)
		return -1;

	if (item(hs, "cpu_arch") && item(hs, "architecture"))
		return cv_failf(v, FLD(pre, "architecture"),
		               "the same as 'cpu_arch': give one of them");
	r = cv_scalar_name(v, hs, "cpu_arch", pre, SC_ARCH, 0, &sp->cpu_arch);
	if (r == 0)
		r = cv_scalar_name(v, hs, "architecture", pre, SC_ARCH, 0,
		                   &sp->cpu_arch);
	if (r < 0)
		return -1;
	sp->has_cpu_arch = r > 0;
	if ((r = cv_scalar_name(v, hs, "cpu_vendor", pre, SC_VENDOR, 0,
	                        &sp->cpu_vendor)) < 0)
		return -1;
	sp->has_cpu_vendor = r > 0;
	if ((r = cv_scalar_name(v, hs, "gpu_vendor", pre, SC_VENDOR, 0,
	                        &sp->gpu_vendor)) < 0)
		return -1;
	sp->has_gpu_vendor = r > 0;
	if ((r = cv_scalar_name(v, hs, "npu_vendor", pre, SC_VENDOR, 0,
	                        &sp->npu_vendor)) < 0)
		return -1;
	sp->has_npu_vendor = r > 0;
	if (cv_name_set(v, hs, "cpu_features", pre, S_FEATURE, 0, &feats) < 0)
		return -1;
	sp->cpu_features = (uint32_t)feats;
	if (cv_get_str(v, hs, "gpu_name", pre, NULLABLE, &sp->gpu_name) < 0 ||
	    cv_get_bool(v, hs, "gpu_tensor_cores", pre, NULLABLE, &sp->gpu_tensor) < 0)
		return -1;

	struct {
		const char *key;
		double hi;
		const char *unit;
		int integer;
		double *out;
	} nums[] = {
		{"cpu_clock_mhz", MAX_MHZ, "MHz", 0, &sp->cpu_clock},
		{"cpu_tdp_watts", MAX_WATTS, "W", 0, &sp->cpu_tdp},
		{"total_memory_gb", MAX_GB, "GB", 0, &sp->total_mem_gb},
		{"gpu_memory_gb", MAX_GB, "GB", 0, &sp->gpu_mem_gb},
		{"gpu_compute_units", MAX_COUNT, NULL, 1, &sp->gpu_cu},
		{"gpu_clock_mhz", MAX_MHZ, "MHz", 0, &sp->gpu_clock},
		{"gpu_tdp_watts", MAX_WATTS, "W", 0, &sp->gpu_tdp},
		{"tpu_cores", MAX_COUNT, NULL, 1, &sp->tpu_cores},
		{"tpu_memory_gb", MAX_GB, "GB", 0, &sp->tpu_mem_gb},
		{"npu_compute_units", MAX_COUNT, NULL, 1, &sp->npu_cu},
		{"npu_memory_gb", MAX_GB, "GB", 0, &sp->npu_mem_gb},
	};
	for (size_t i = 0; i < sizeof nums / sizeof *nums; i++) {
		r = nums[i].integer
		        ? cv_get_int(v, hs, nums[i].key, pre, 0, nums[i].hi,
		                     NULLABLE, nums[i].out)
		        : cv_get_num(v, hs, nums[i].key, pre, 0, nums[i].hi,
		                     nums[i].unit, NULLABLE, nums[i].out);
		if (r < 0)
			return -1;
	}
	return 0;
}

static lbs_device *dev_new(cv *v, uint32_t cls, const char *model)
{
	lbs_device *d = arena_alloc(v->c->arena, sizeof *d);

	if (!d)
		return NULL;
	d->struct_size = sizeof *d;
	d->hw_class = cls;
	d->model_name = arena_strdup(v->c->arena, model);
	return d->model_name ? d : NULL;
}

static const char *first_name(uint64_t set, const uint64_t *order, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (set & order[i])
			return tax_backend_name(order[i]);
	return NULL;
}

#define FRAMEWORKS                                                            \
	(LBS_BACKEND_PYTORCH | LBS_BACKEND_TENSORFLOW | LBS_BACKEND_ONNX |    \
	 LBS_BACKEND_OPENVINO | LBS_BACKEND_TVM | LBS_BACKEND_TFLITE |        \
	 LBS_BACKEND_COREML | LBS_BACKEND_DIRECTML | LBS_BACKEND_NNAPI)
#define GPU_RUNTIMES                                                          \
	(LBS_BACKEND_CUDA | LBS_BACKEND_ROCM | LBS_BACKEND_MPS |               \
	 LBS_BACKEND_METAL | LBS_BACKEND_GPU | LBS_BACKEND_TENSORRT)

struct facts {
	uint64_t listed; /* supported_backends as bits, OTHER for unknown */
	uint64_t software; /* software_versions' names as bits */
	int has_gpu, has_webgpu, has_webnn;
	double mem_gb, cpu_cores;
	const char *const *kinds;
	const uint32_t *counts;
	uint32_t n_kinds;
};

/*
 * One device per kind of hardware the record reveals (the original made one
 * per backend string, so ["cuda","gpu"] became two GPUs, and matched "gpu"
 * inside "webgpu", so browsers became CUDA GPUs: bug F3).
 */
static int derive(cv *v, const struct facts *f, const struct specs *sp,
                  lbs_device **devs, uint32_t *n_out)
{
	uint64_t L = f->listed;
	uint64_t fw = L & FRAMEWORKS;
	uint64_t mem = gb_bytes(f->mem_gb);
	lbs_device *cpu = NULL, *rest[4];
	uint32_t n_rest = 0;
	char model[64];

	/* The original's CPU profile ran the three common frameworks, named
	 * or not; a worker that names any framework (software_versions
	 * included, where records usually name them) runs those it names,
	 * or a test's required_software tensorflow went to a torch-only
	 * host. */
	if (!fw && !(f->software & FRAMEWORKS))
		fw = LBS_BACKEND_PYTORCH | LBS_BACKEND_TENSORFLOW | LBS_BACKEND_ONNX;

	uint32_t gpus = accel_count(f->kinds, f->counts, f->n_kinds, "gpu");
	uint32_t cudas = accel_count(f->kinds, f->counts, f->n_kinds, "cuda");
	if ((L & GPU_RUNTIMES) || f->has_gpu || gpus || cudas) {
		static const uint64_t order[] = {
			LBS_BACKEND_CUDA, LBS_BACKEND_TENSORRT, LBS_BACKEND_ROCM,
			LBS_BACKEND_MPS, LBS_BACKEND_METAL,
		};
		double count = gpus ? gpus : cudas ? cudas : 1;
		const char *rt = first_name(L, order, sizeof order / sizeof *order);
		snprintf(model, sizeof model, "GPU%s%s", rt ? "-" : "",
		         rt ? rt : "");
		lbs_device *d = dev_new(v, LBS_CLASS_GPU,
		                        sp->gpu_name ? sp->gpu_name : model);
		if (!d)
			return cv_oom(v);
		if (L & (LBS_BACKEND_CUDA | LBS_BACKEND_TENSORRT)) {
			d->vendor = LBS_VENDOR_NVIDIA;
			d->arch = LBS_ARCH_GPU_CUDA;
		} else if (L & LBS_BACKEND_ROCM) {
			d->vendor = LBS_VENDOR_AMD;
			d->arch = LBS_ARCH_GPU_ROCM;
		} else if (L & (LBS_BACKEND_MPS | LBS_BACKEND_METAL)) {
			d->vendor = LBS_VENDOR_APPLE;
			d->arch = LBS_ARCH_GPU_METAL;
		} else {
			d->vendor = sp->has_gpu_vendor ? sp->gpu_vendor
			                               : LBS_VENDOR_UNKNOWN;
			d->arch = LBS_ARCH_UNKNOWN;
		}
		d->backends = LBS_BACKEND_GPU | (L & GPU_RUNTIMES) | fw |
		              (L & (LBS_BACKEND_VULKAN | LBS_BACKEND_OPENCL));
		d->precisions = LBS_PREC_FP32 | LBS_PREC_FP16 | LBS_PREC_INT8;
		d->features = LBS_FEAT_COMPUTE_SHADERS | LBS_FEAT_SIMT;
		if (sp->gpu_tensor == 1 ||
		    (sp->gpu_tensor < 0 && d->arch == LBS_ARCH_GPU_CUDA)) {
			d->features |= LBS_FEAT_TENSOR_CORES;
			d->precisions |= LBS_PREC_BF16;
		}
		d->compute_units = u32_sat((sp->gpu_cu >= 0 ? sp->gpu_cu : 80) * count);
		d->clock_mhz = u32_sat(sp->gpu_clock >= 0 ? sp->gpu_clock : 1500);
		d->mem_total_bytes = sp->gpu_mem_gb >= 0
		                             ? gb_bytes(sp->gpu_mem_gb * count)
		                             : mem;
		d->mem_available_bytes = d->mem_total_bytes;
		d->tdp_watts = u32_sat((sp->gpu_tdp >= 0 ? sp->gpu_tdp : 250) * count);
		rest[n_rest++] = d;
	}

	uint32_t tpus = accel_count(f->kinds, f->counts, f->n_kinds, "tpu");
	if ((L & LBS_BACKEND_TPU) || tpus) {
		double count = tpus ? tpus : 1;
		lbs_device *d = dev_new(v, LBS_CLASS_TPU, "TPU");
		if (!d)
			return cv_oom(v);
		d->vendor = LBS_VENDOR_GOOGLE;
		d->arch = LBS_ARCH_TPU;
		/* The original's TPU profile's frameworks, unless the worker
		 * names its own (listed here; software_versions' come with
		 * software_fit), as the CPU's and GPU's: a torch-only TPU host
		 * took a test that required TensorFlow. */
		d->backends = LBS_BACKEND_TPU |
		              ((L | f->software) & FRAMEWORKS
		                       ? L & (LBS_BACKEND_TENSORFLOW | LBS_BACKEND_ONNX |
		                              LBS_BACKEND_PYTORCH)
		                       : LBS_BACKEND_TENSORFLOW | LBS_BACKEND_ONNX);
		d->precisions = LBS_PREC_FP32 | LBS_PREC_BF16 | LBS_PREC_INT8;
		d->features = LBS_FEAT_TENSOR_CORES;
		d->compute_units = u32_sat(sp->tpu_cores >= 0 ? sp->tpu_cores
		                                              : 8 * count);
		d->clock_mhz = 1000;
		d->mem_total_bytes = sp->tpu_mem_gb >= 0 ? gb_bytes(sp->tpu_mem_gb)
		                                         : mem;
		d->mem_available_bytes = d->mem_total_bytes;
		d->tdp_watts = 200;
		rest[n_rest++] = d;
	}

	uint32_t npus = accel_count(f->kinds, f->counts, f->n_kinds, "npu");
	if ((L & (LBS_BACKEND_NPU | LBS_BACKEND_QNN | LBS_BACKEND_NNAPI)) || npus) {
		static const uint64_t order[] = {LBS_BACKEND_QNN, LBS_BACKEND_NNAPI};
		const char *rt = first_name(L, order, 2);
		snprintf(model, sizeof model, "NPU%s%s", rt ? "-" : "",
		         rt ? rt : "");
		lbs_device *d = dev_new(v, LBS_CLASS_NPU, model);
		if (!d)
			return cv_oom(v);
		d->vendor = sp->has_npu_vendor       ? sp->npu_vendor
		            : (L & LBS_BACKEND_QNN) ? LBS_VENDOR_QUALCOMM
		                                    : LBS_VENDOR_UNKNOWN;
		d->arch = d->vendor == LBS_VENDOR_QUALCOMM   ? LBS_ARCH_NPU_QUALCOMM
		          : d->vendor == LBS_VENDOR_MEDIATEK ? LBS_ARCH_NPU_MEDIATEK
		          : d->vendor == LBS_VENDOR_SAMSUNG  ? LBS_ARCH_NPU_SAMSUNG
		                                             : LBS_ARCH_OTHER;
		/* ONNX as the original's NPU profile, unless the worker names
		 * its frameworks (then those, as the TPU's) */
		d->backends = LBS_BACKEND_NPU |
		              ((L | f->software) & FRAMEWORKS ? L & LBS_BACKEND_ONNX
		                                              : LBS_BACKEND_ONNX) |
		              (L & (LBS_BACKEND_QNN | LBS_BACKEND_NNAPI |
		                    LBS_BACKEND_TFLITE));
		d->precisions = LBS_PREC_FP32 | LBS_PREC_FP16 | LBS_PREC_INT8 |
		                LBS_PREC_INT4;
		d->features = LBS_FEAT_QUANTIZATION;
		d->compute_units = u32_sat(sp->npu_cu >= 0 ? sp->npu_cu : 4);
		d->clock_mhz = 800;
		d->mem_total_bytes = sp->npu_mem_gb >= 0 ? gb_bytes(sp->npu_mem_gb)
		                                         : mem;
		d->mem_available_bytes = d->mem_total_bytes;
		d->tdp_watts = 5;
		rest[n_rest++] = d;
	}

	int webgpu = (L & LBS_BACKEND_WEBGPU) || f->has_webgpu;
	int webnn = (L & LBS_BACKEND_WEBNN) || f->has_webnn;
	if (webgpu || webnn) {
		lbs_device *d = dev_new(v, LBS_CLASS_HYBRID,
		                        webgpu ? "Browser-webgpu" : "Browser-webnn");
		uint64_t two = (uint64_t)2 << 30;
		if (!d)
			return cv_oom(v);
		d->arch = webgpu ? LBS_ARCH_GPU_WEBGPU : LBS_ARCH_OTHER;
		d->vendor = LBS_VENDOR_OTHER;
		d->backends = (webgpu ? LBS_BACKEND_WEBGPU : 0) |
		              (webnn ? LBS_BACKEND_WEBNN : 0);
		d->precisions = LBS_PREC_FP32 | LBS_PREC_FP16;
		d->features = LBS_FEAT_COMPUTE_SHADERS;
		d->compute_units = 2;
		d->clock_mhz = 1000;
		d->mem_total_bytes = mem < two ? mem : two;
		d->mem_available_bytes = d->mem_total_bytes;
		d->tdp_watts = 15;
		rest[n_rest++] = d;
	}

	/* A worker that says "cpu" can run plain CPU work even when it did not
	 * report a core count. */
	if (f->cpu_cores > 0 || (L & LBS_BACKEND_CPU) || n_rest == 0) {
		double cores = f->cpu_cores > 1 ? f->cpu_cores : 1;
		snprintf(model, sizeof model, "CPU-%.0fcores", cores);
		cpu = dev_new(v, LBS_CLASS_CPU, model);
		if (!cpu)
			return cv_oom(v);
		cpu->arch = sp->has_cpu_arch ? sp->cpu_arch : LBS_ARCH_UNKNOWN;
		cpu->vendor = sp->has_cpu_vendor ? sp->cpu_vendor
		                                 : LBS_VENDOR_UNKNOWN;
		cpu->backends = LBS_BACKEND_CPU | fw;
		cpu->precisions = LBS_PREC_FP32 | LBS_PREC_INT8;
		cpu->features = LBS_FEAT_SIMD | sp->cpu_features;
		cpu->compute_units = u32_sat(cores);
		cpu->clock_mhz = u32_sat(sp->cpu_clock >= 0 ? sp->cpu_clock : 2500);
		cpu->mem_total_bytes = sp->total_mem_gb >= 0
		                               ? gb_bytes(sp->total_mem_gb)
		                               : mem;
		cpu->mem_available_bytes = mem;
		cpu->tdp_watts = u32_sat(sp->cpu_tdp >= 0 ? sp->cpu_tdp : 65);
	}

	uint32_t n = 0;
	if (cpu)
		devs[n++] = cpu;
	for (uint32_t i = 0; i < n_rest; i++)
		devs[n++] = rest[i];

	/* Backends no rule placed (vulkan, opencl, frameworks on a browser-
	 * only record...): the CPU can host them; without one, say so rather
	 * than drop them quietly. */
	uint64_t placed = 0;
	for (uint32_t i = 0; i < n; i++)
		placed |= devs[i]->backends;
	uint64_t left = L & ~placed & ~LBS_BACKEND_OTHER;
	if (cpu) {
		cpu->backends |= left;
	} else {
		for (int b = 0; b < 63; b++) {
			uint64_t bit = UINT64_C(1) << b;
			if (left & bit)
				cv_warn(v, "field 'supported_backends': backend '%s' "
				           "fits none of the devices derived for this "
				           "worker, ignored (describe them in "
				           "\"devices\")",
				        tax_backend_name(bit));
		}
	}
	if (L & LBS_BACKEND_OTHER)
		(cpu ? cpu : devs[0])->backends |= LBS_BACKEND_OTHER;
	*n_out = n;
	return 0;
}

/* `l` as a device's backend names. */
static void set_names(lbs_device *d, const names *l)
{
	d->backend_names = l->n ? l->v : NULL;
	d->n_backend_names = l->n;
}

/*
 * software_versions (name -> version): the names outside the taxonomy, for
 * every device of the worker, since software is installed on the host, not
 * on one of its devices; the names in it as bits in *bits (software_fit).
 * The versions are informational (the original never compared them
 * either), but each is a string all the same, as the original's
 * Dict[str, str] and the agent's records have it, and each name is given
 * once.
 */
static int software_names(cv *v, const cJSON *obj, names *l, uint64_t *bits)
{
	const cJSON *m;
	const char *ver;
	int r = cv_get_obj(v, obj, "software_versions", NULL, NULLABLE, &m);

	if (r <= 0)
		return r;
	for (const cJSON *e = m->child; e; e = e->next) {
		const char *name = e->string ? e->string : "";
		const fld field = {"software_versions", name, NULL, -1};

		if (cv_key_name(v, FLD(NULL, "software_versions"), &field, name,
		                "software name") < 0)
			return -1;
		if (item(m, name) != e)
			return cv_failf(v, &field, "is given more than once");
		if (cv_str_value(v, e, &field, 0, &ver) < 0)
			return -1;
		uint64_t bit = tax_backend_parse(name);
		*bits |= bit;
		if (bit)
			continue;
		/* only a likely typo: most software ("nvidia_driver", a
		 * browser, as the agent writes them) is no backend at all */
		if (tax_backend_near(name)) {
			path p;
			cv_named(v, cv_fld_str(&p, &field), "software", name);
		}
		if (cv_names_add(v, l, "software_versions", name) < 0)
			return -1;
	}
	return 0;
}

/*
 * The taxonomy backends of software_versions that a device of this class
 * runs.  The original met a test's required_software by the name alone;
 * here a known name is a backend bit, as the test's requirement is, so it
 * goes to the devices it runs on (TensorRT on the GPU, a framework on any
 * processor), never makes a device of its own: CUDA installed on a host
 * with no GPU runs nothing.
 */
static uint64_t software_fit(uint64_t sw, uint32_t hw_class)
{
	switch (hw_class) {
	case LBS_CLASS_CPU:
		return sw & (FRAMEWORKS | LBS_BACKEND_CPU | LBS_BACKEND_OPENCL);
	case LBS_CLASS_GPU:
		return sw & (FRAMEWORKS | GPU_RUNTIMES | LBS_BACKEND_VULKAN | LBS_BACKEND_OPENCL);
	case LBS_CLASS_TPU:
		return sw & (LBS_BACKEND_TPU | LBS_BACKEND_PYTORCH | LBS_BACKEND_TENSORFLOW |
		             LBS_BACKEND_ONNX);
	case LBS_CLASS_NPU:
		return sw & (LBS_BACKEND_NPU | LBS_BACKEND_QNN | LBS_BACKEND_NNAPI |
		             LBS_BACKEND_TFLITE | LBS_BACKEND_ONNX);
	case LBS_CLASS_HYBRID:
		return sw & (LBS_BACKEND_WEBGPU | LBS_BACKEND_WEBNN);
	default:
		return sw & FRAMEWORKS;
	}
}

/* An explicit device's names: the worker's software, plus the device's
 * own backends outside the taxonomy (in a copy, so that devices do not
 * share what they add). */
static int device_names(cv *v, const cJSON *dev, const char *pre,
                        const names *software, lbs_device *d)
{
	const cJSON *arr = item(dev, "backends");
	names own = {NULL, 0, 0};
	int unknown = 0;

	for (const cJSON *e = cJSON_IsArray(arr) ? arr->child : NULL; e; e = e->next)
		unknown |= cJSON_IsString(e) && !tax_backend_parse(e->valuestring);
	if (!unknown) {
		set_names(d, software);
		return 0;
	}
	if (software->n) {
		own.v = arena_alloc(v->c->arena, software->n * sizeof *own.v);
		if (!own.v)
			return cv_oom(v);
		memcpy(own.v, software->v, software->n * sizeof *own.v);
		own.n = own.cap = software->n;
	}
	if (unknown_backends(v, dev, "backends", pre, &own) < 0)
		return -1;
	set_names(d, &own);
	return 0;
}

static int explicit_devices(cv *v, const cJSON *arr, const names *software,
                            lbs_device ***out, uint32_t *n_out)
{
	size_t n = 0, i = 0;
	path p;

	for (const cJSON *e = arr->child; e; e = e->next)
		n++;
	if (!n)
		return cv_fail(v, "devices", "must list at least one device");
	if (n > 4096)
		return cv_fail(v, "devices", "lists %zu devices, more than 4096", n);
	if (n > 64)
		cv_warn(v, "field 'devices': lists %zu devices; hardware-aware, and priority for "
		        "work with a duration, score a worker's first 64, and never choose it for "
		        "work that only a later one meets", n);
	lbs_device **devs = arena_alloc(v->c->arena, n * sizeof *devs);
	if (!devs)
		return cv_oom(v);
	for (const cJSON *e = arr->child; e; e = e->next, i++) {
		char pre[32];
		char g[200];
		const char *name = NULL;
		uint64_t set;
		double total = -1, avail = -1, cu = 0, clock = 0, tdp = 0;
		int rt, ra, rc;

		snprintf(pre, sizeof pre, "devices[%zu]", i);
		if (!cJSON_IsObject(e))
			return cv_fail(v, pre, "must be an object, got %s",
			               cv_got(g, sizeof g, e));
		if (cv_check_keys(v, e, pre, device_keys, 1) < 0)
			return -1;
		if (cv_get_str(v, e, "model_name", pre, NULLABLE, &name) < 0)
			return -1;
		lbs_device *d = arena_alloc(v->c->arena, sizeof *d);
		if (!d || (name && !(d->model_name = arena_strdup(v->c->arena, name))))
			return cv_oom(v);
		d->struct_size = sizeof *d;
		/* a device of no class would match nothing by class and
		 * quietly score as one */
		if (!item(e, "class") || cJSON_IsNull(item(e, "class")))
			return cv_fail(v, cv_sub(&p, pre, "class"),
			               "required (cpu, gpu, tpu, npu, dsp, fpga, asic or hybrid)");
		if (cv_scalar_name(v, e, "class", pre, SC_CLASS, 0, &d->hw_class) < 0 ||
		    cv_scalar_name(v, e, "architecture", pre, SC_ARCH, 0, &d->arch) < 0 ||
		    cv_scalar_name(v, e, "vendor", pre, SC_VENDOR, 0, &d->vendor) < 0)
			return -1;
		set = 0;
		if (cv_name_set(v, e, "backends", pre, S_BACKEND, NAMED_CAPABILITY,
		                &set) < 0 ||
		    device_names(v, e, pre, software, d) < 0)
			return -1;
		d->backends = set;
		set = 0;
		if (cv_name_set(v, e, "precisions", pre, S_PRECISION, 0, &set) < 0)
			return -1;
		d->precisions = (uint32_t)set;
		set = 0;
		if (cv_name_set(v, e, "features", pre, S_FEATURE, 0, &set) < 0)
			return -1;
		d->features = (uint32_t)set;
		rt = cv_get_num(v, e, "memory_gb", pre, 0, MAX_GB, "GB", 0, &total);
		ra = cv_get_num(v, e, "memory_available_gb", pre, 0, MAX_GB, "GB", 0,
		                &avail);
		if (rt < 0 || ra < 0)
			return -1;
		/* without it the device would have none, and every test that
		 * asks for memory would be refused for a reason the file hid */
		if (!rt && !ra)
			return cv_fail(v, cv_sub(&p, pre, "memory_gb"),
			               "required (the device's memory in GB; 0 for none)");
		if (rt > 0 && ra > 0 && avail > total)
			return cv_fail(v, cv_sub(&p, pre, "memory_available_gb"),
			               "must be <= memory_gb (%s)",
			               cv_fmt_num(g, sizeof g, total));
		if (!rt)
			total = ra > 0 ? avail : 0;
		if (!ra)
			avail = total;
		d->mem_total_bytes = gb_bytes(total);
		d->mem_available_bytes = gb_bytes(avail);
		if ((rc = cv_get_int(v, e, "compute_units", pre, 0, MAX_COUNT, 0, &cu)) < 0 ||
		    cv_get_num(v, e, "clock_mhz", pre, 0, MAX_MHZ, "MHz", 0, &clock) < 0 ||
		    cv_get_num(v, e, "tdp_watts", pre, 0, MAX_WATTS, "W", 0, &tdp) < 0)
			return -1;
		/* Scoring reads a missing count as one unit (docs/SCORING.md): a
		 * GPU so given would lose every test to a plain CPU for a reason
		 * the file hid.  (A missing clock is the class's reference.) */
		if (!rc)
			cv_warn(v, "field '%s.compute_units': not given, so the device is "
			        "scored as one unit of its class (docs/SCORING.md)", pre);
		d->compute_units = (uint32_t)cu;
		d->clock_mhz = u32_sat(clock);
		d->tdp_watts = u32_sat(tdp);
		devs[i] = d;
	}
	*out = devs;
	*n_out = (uint32_t)n;
	return 0;
}

/* Without a "capacity", a worker runs as many tests at once as it has of
 * its most numerous accelerator (an 8-GPU host runs 8), at least 1
 * (docs/SCORING.md). */
static uint32_t default_capacity(const lbs_worker *w)
{
	uint32_t cap = 1;

	for (uint32_t i = 0; i < w->n_accels; i++)
		cap = w->accel_counts[i] > cap ? w->accel_counts[i] : cap;
	return cap;
}

static int worker(cv *vp, const cJSON *obj, lbs_worker *out)
{
	conv_ctx *c = vp->c;
	names software = {NULL, 0, 0};
	uint64_t sw_bits = 0;
	lbs_worker w;
	struct facts f;
	struct specs sp;
	const char *id;
	const cJSON *arr, *ld;
	double d;
	char g[200], g2[64];
	int r;

	if (!cJSON_IsObject(obj))
		return cv_fail(vp, NULL, "must be a JSON object, got %s",
		               cv_got(g, sizeof g, obj));
	memset(&w, 0, sizeof w);
	memset(&f, 0, sizeof f);
	memset(&sp, 0, sizeof sp);
	w.struct_size = sizeof w;
	w.performance_level = 1.0;
	/* 0 would say "nothing ahead"; a record that does not say is unknown. */
	w.pending_work_s = LBS_WORK_UNKNOWN;

	if (cv_check_keys(vp, obj, NULL, worker_keys, 1) < 0)
		return -1;
	if (cv_get_str(vp, obj, "worker_id", NULL, REQUIRED | NONEMPTY, &id) < 0)
		return -1;
	if (!(w.id = arena_strdup(c->arena, id)))
		return cv_oom(vp);

	if (cv_loose(vp, obj, "hostname", NULL, L_STRING) < 0 ||
	    software_names(vp, obj, &software, &sw_bits) < 0 ||
	    cv_loose(vp, obj, "browser_support", NULL, L_ARRAY) < 0 ||
	    cv_loose(vp, obj, "network_bandwidth", NULL, L_NUMBER) < 0 ||
	    cv_loose(vp, obj, "storage_capacity", NULL, L_NUMBER) < 0 ||
	    cv_loose(vp, obj, "available_disk", NULL, L_NUMBER) < 0 ||
	    cv_loose(vp, obj, "cpu_threads", NULL, L_INT) < 0 ||
	    cv_loose(vp, obj, "last_updated", NULL, L_SCALAR) < 0)
		return -1;

	if (cv_name_set(vp, obj, "supported_backends", NULL, S_BACKEND,
	                NAMED_CAPABILITY, &f.listed) < 0)
		return -1;
	if (cv_accel_map(vp, obj, "available_accelerators", NULL, &w.accel_kinds,
	                 &w.accel_counts, &w.n_accels) < 0)
		return -1;
	f.software = sw_bits;
	f.kinds = w.accel_kinds;
	f.counts = w.accel_counts;
	f.n_kinds = w.n_accels;
	if (cv_get_num(vp, obj, "available_memory", NULL, 0, MAX_GB, "GB", 0,
	               &f.mem_gb) < 0 ||
	    cv_get_int(vp, obj, "cpu_cores", NULL, 0, MAX_COUNT, 0, &f.cpu_cores) < 0 ||
	    cv_get_bool(vp, obj, "has_gpu", NULL, 0, &f.has_gpu) < 0 ||
	    cv_get_bool(vp, obj, "has_webgpu", NULL, 0, &f.has_webgpu) < 0 ||
	    cv_get_bool(vp, obj, "has_webnn", NULL, 0, &f.has_webnn) < 0)
		return -1;
	if ((r = cv_get_int(vp, obj, "capacity", NULL, 1, MAX_COUNT, 0, &d)) < 0)
		return -1;
	w.capacity = r ? (uint32_t)d : default_capacity(&w);
	if (hardware_specs(vp, obj, &sp) < 0)
		return -1;

	if (cv_get_arr(vp, obj, "devices", NULL, NULLABLE, &arr) < 0)
		return -1;
	if (arr) {
		static const char *const derived_from[] = {
			"supported_backends", "cpu_cores", "available_memory", "has_gpu",
			"has_webgpu", "has_webnn", "hardware_specs", NULL,
		};
		lbs_device **devs = NULL;
		if (explicit_devices(vp, arr, &software, &devs, &w.n_devices) < 0)
			return -1;
		/* "devices" says what the worker has; these fields only make
		 * devices when it does not, so here they are not read */
		for (const char *const *k = derived_from; *k; k++)
			if (item(obj, *k))
				cv_warn(vp, "field '%s': not read, since \"devices\" describes "
				            "this worker's hardware (give it in each device)",
				        *k);
		w.devices = (const lbs_device *const *)devs;
	} else {
		lbs_device *tmp[5];
		uint32_t n = 0;
		/* The original read a missing available_memory as 0 GB, which
		 * refuses every test that asks for memory; keep it, but say so.
		 * More free than installed is a record that contradicts itself. */
		if (!item(obj, "available_memory"))
			cv_warn(vp, "field 'available_memory': not given, so the worker has 0 GB "
			            "free (the original's default) and no test that asks for "
			            "memory goes to it");
		else if (sp.total_mem_gb >= 0 && f.mem_gb > sp.total_mem_gb)
			return cv_fail(vp, "available_memory", "%s GB is more than "
			               "hardware_specs.total_memory_gb (%s GB)",
			               cv_fmt_num(g, sizeof g, f.mem_gb),
			               cv_fmt_num(g2, sizeof g2, sp.total_mem_gb));
		/* The record does not say which device runs a backend it
		 * names, so every device does (docs/PYTHON.md). */
		if (unknown_backends(vp, obj, "supported_backends", NULL,
		                     &software) < 0 ||
		    derive(vp, &f, &sp, tmp, &n) < 0)
			return -1;
		lbs_device **devs = arena_alloc(c->arena, n * sizeof *devs);
		if (!devs)
			return cv_oom(vp);
		for (uint32_t k = 0; k < n; k++)
			set_names(tmp[k], &software);
		memcpy(devs, tmp, n * sizeof *devs);
		w.devices = (const lbs_device *const *)devs;
		w.n_devices = n;
	}

	for (uint32_t k = 0; k < w.n_devices; k++) {
		lbs_device *d = (lbs_device *)w.devices[k];
		d->backends |= software_fit(sw_bits, d->hw_class);
	}

	r = cv_get_obj(vp, obj, "load", NULL, NULLABLE, &ld);
	if (r < 0 || (r > 0 && cv_load_apply(vp, ld, 0, NULL, &w) < 0))
		return -1;
	*out = w;
	return 0;
}

int conv_worker(conv_ctx *c, const cJSON *obj, const char *where,
                lbs_worker *out)
{
	cv v = CV(c, where ? where : "worker");

	if (!c || !out)
		return -1;
	return worker(&v, obj, out);
}

/* ===== Fleets ============================================================= */

static int is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\0';
}

/* Duplicate ids through a hash set of positions, so a large fleet does not
 * cost n^2 comparisons. */
static int check_ids(cv *v, const char *file, lbs_worker **ws, size_t n)
{
	size_t cap = 16;

	while (cap < 2 * n)
		cap *= 2;
	size_t *slot = arena_alloc(v->c->arena, cap * sizeof *slot);
	if (!slot)
		return cv_oom(v);
	for (size_t i = 0; i < n; i++) {
		uint64_t x = lbs_fnv1a(LBS_FNV_OFFSET, ws[i]->id);
		size_t h = (size_t)(x ^ x >> 32) & (cap - 1); /* the low bits, high ones folded in */
		for (; slot[h]; h = (h + 1) & (cap - 1)) {
			size_t j = slot[h] - 1;
			if (strcmp(ws[j]->id, ws[i]->id) == 0) {
				char where[256], s[160];
				cv wv = CV(v->c, where);
				snprintf(where, sizeof where, "%s: workers[%zu]",
				         file, i);
				return cv_fail(&wv, "worker_id",
				               "'%s' is also the id of workers[%zu]",
				               txt_show(s, sizeof s, ws[i]->id), j);
			}
		}
		slot[h] = i + 1;
	}
	return 0;
}

int conv_fleet(conv_ctx *c, const char *text, size_t len, const char *file,
               lbs_worker ***workers, uint32_t *n)
{
	cv v = CV(c, file ? file : "fleet");
	const cJSON *list = NULL;
	lbs_worker **ws = NULL;
	char g[200];
	size_t count = 0, i = 0, k;
	int rc = -1;

	if (!c || !workers || !n)
		return -1;
	*workers = NULL;
	*n = 0;
	if (!text)
		len = 0;
	for (k = 0; k < len && is_space(text[k]); k++)
		;
	if (k == len)
		return cv_fail(&v, NULL, "is empty (expected a JSON array of "
		                         "workers or {\"workers\": [...]})");

	cJSON *root = conv_parse(c, text, len, v.where);
	if (!root)
		return -1;

	if (cJSON_IsArray(root)) {
		list = root;
	} else if (cJSON_IsObject(root)) {
		static const char *const keys[] = {"workers", NULL};
		/* The original's available_workers, a dict by id: one line,
		 * not a warning for each id and then a missing "workers". */
		if (!cJSON_GetObjectItemCaseSensitive(root, "workers") && cJSON_IsObject(root->child) &&
		    cJSON_GetObjectItemCaseSensitive(root->child, "worker_id")) {
			cv_fail(&v, NULL, "is an object of workers keyed by id ('%s': {...}); a fleet is "
			        "a JSON array of workers or {\"workers\": [...]}",
			        conv_show(g, sizeof g, root->child->string ? root->child->string : ""));
			goto out;
		}
		if (cv_check_keys(&v, root, NULL, keys, 1) < 0 ||
		    cv_get_arr(&v, root, "workers", NULL, REQUIRED, &list) < 0)
			goto out;
	} else {
		cv_fail(&v, NULL, "must be a JSON array of workers or an object "
		                  "{\"workers\": [...]}, got %s",
		        cv_got(g, sizeof g, root));
		goto out;
	}

	for (const cJSON *e = list->child; e; e = e->next)
		count++;
	if (!count) {
		cv_fail(&v, NULL, "the fleet has no workers");
		goto out;
	}
	if (count > CONV_MAX_WORKERS) {
		cv_fail(&v, NULL, "the fleet has %zu workers, more than %d", (size_t)count,
		        CONV_MAX_WORKERS);
		goto out;
	}
	ws = arena_alloc(c->arena, count * sizeof *ws);
	if (!ws) {
		cv_oom(&v);
		goto out;
	}
	for (const cJSON *e = list->child; e; e = e->next, i++) {
		cv wv = {c, v.where, (long)i, 0};
		ws[i] = arena_alloc(c->arena, sizeof *ws[i]);
		if (!ws[i]) {
			cv_oom(&v);
			goto out;
		}
		if (worker(&wv, e, ws[i]) < 0)
			goto out;
	}
	if (check_ids(&v, v.where, ws, count) < 0)
		goto out;
	*workers = ws;
	*n = (uint32_t)count;
	rc = 0;
out:
	cJSON_Delete(root);
	return rc;
}

static int by_id(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

const char **conv_fleet_ids(const lbs_worker *const *workers, uint32_t n)
{
	const char **ids = malloc((n ? n : 1) * sizeof *ids);

	if (!ids)
		return NULL;
	for (uint32_t i = 0; i < n; i++)
		ids[i] = workers[i]->id;
	qsort(ids, n, sizeof *ids, by_id);
	return ids;
}

int conv_fleet_has(const char *const *ids, uint32_t n, const char *id)
{
	return !ids || bsearch(&id, ids, n, sizeof *ids, by_id);
}

uint32_t conv_excluded_absent(const lbs_workload *wl, const char *const *ids, uint32_t n,
                              uint32_t *first)
{
	uint32_t absent = 0;

	for (uint32_t i = wl->n_exclude; i-- > 0;)
		if (!conv_fleet_has(ids, n, wl->exclude_ids[i])) {
			absent++;
			*first = i;
		}
	return absent;
}
