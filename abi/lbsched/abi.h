/*
 * lbsched/abi.h -- the lbsched plugin ABI, version 1.2.
 *
 * This header is the whole contract between a load balancer (the HOST) and
 * a shared object that chooses workers for it (the PLUGIN).  A third party
 * can write a plugin with this file alone.
 *
 * VERSION HISTORY (each minor only appends; see VERSIONING)
 *
 *   1.0  the first release.
 *   1.1  what the host knows beyond test counts, appended at the ends of
 *        three structs (see "READING THE 1.1 FIELDS" below):
 *          lbs_worker.pending_work_s     work ahead, in nominal seconds,
 *                                        LBS_WORK_UNKNOWN when not known
 *          lbs_worker.accel_reserved     accelerators promised to running
 *                                        work, parallel to accel_kinds
 *          lbs_device.backend_names      backends and software by name,
 *          lbs_device.n_backend_names      beyond the LBS_BACKEND_* bits
 *          lbs_workload.required_backend_names     required by name
 *          lbs_workload.n_required_backend_names
 *        and LBS_WORK_UNKNOWN, LBS_*_SIZE_V1_1.
 *   1.2  the fleet extension, "lbs.ext.fleet/1" (LBS_EXT_FLEET and
 *        lbs_ext_fleet, "Extension: the fleet" below): a fleet's learned
 *        totals in Redis and a one-shot sync, for a host tool with no
 *        Redis client of its own.  It was declared in lbsched/fleet.h
 *        beside the frozen 1.1 header; that header is gone, the layout is
 *        the same, so what was built with it keeps working.  No 1.1 struct
 *        changed.
 *
 * ---------------------------------------------------------------------------
 * HOW A HOST LOADS A PLUGIN
 *
 *   1. Open the file with dlopen, flags RTLD_NOW | RTLD_LOCAL.
 *   2. dlsym(LBS_ENTRY_SYMBOL) and call it.  The entry function does no work;
 *      it returns a pointer to static data.
 *   3. Check entry->struct_size >= LBS_ENTRY_SIZE_V1_0 and
 *      entry->abi_major == LBS_ABI_MAJOR BEFORE calling anything else.
 *   4. entry->init(host, err, errlen).  From here the plugin's schedulers
 *      can be listed (scheduler_count / scheduler_get / scheduler_find).
 *   5. desc->create(...) makes an instance; select / score / report / ...
 *      run on it; desc->destroy(...) frees it.
 *   6. entry->deinit() once per successful init, then dlclose.
 *
 * ---------------------------------------------------------------------------
 * VERSIONING
 *
 *   The major version is part of the entry symbol's name
 *   (lbs_plugin_entry_v1).  An incompatible ABI is a new symbol, so a host
 *   that meets a plugin of another major gets "symbol not found", never a
 *   crash.
 *
 *   Within one major, every plugin loads in every host, both ways.  A minor
 *   release may only:
 *     - append fields at the END of a struct (never insert, reorder, retype);
 *     - append optional (NULL-able) slots at the end of a vtable;
 *     - add constants and bits;
 *     - add extensions: a new get_extension() id with a struct of its own.
 *   Every struct that crosses the boundary starts with uint32_t struct_size.
 *   The writer of a struct sets struct_size to its own sizeof; a reader uses
 *   LBS_HAS_FIELD() before touching any member past the struct's
 *   LBS_*_SIZE_V1_0: the fields added after 1.0, and the optional slots
 *   that 1.0 had but its minimum sizes end before (lbs_host_api's
 *   find_scheduler and release_scheduler; lbs_scheduler_desc's score,
 *   report, workers_changed, stats and explain; lbs_plugin_entry's
 *   get_extension).  A member the writer's struct_size leaves out is
 *   absent: a slot there counts as NULL, however its bytes read.  For output
 *   structs (lbs_selection) the CALLER sets struct_size and the callee writes
 *   only fields that fit.
 *
 *   Unknown values are tolerated: unknown bits are ignored, an unknown
 *   hardware class / architecture / vendor is treated as "other", an unknown
 *   outcome result is treated as a failure, an unknown status as an error.
 *
 *   Only fixed-width integers, double and const char * (UTF-8, NUL-ended)
 *   cross the boundary.  No C enums, no bit-fields, no struct by value,
 *   no array of structs: arrays are arrays of pointers so structs can grow.
 *
 * ---------------------------------------------------------------------------
 * READING THE 1.1 FIELDS
 *
 *   A 1.1 plugin still meets 1.0 hosts, whose lbs_worker, lbs_device and
 *   lbs_workload end where 1.0 ended: struct_size is LBS_*_SIZE_V1_0 and
 *   the memory past it is not the host's to read.  So every read of a 1.1
 *   field is guarded, per struct (a host may mix sizes):
 *
 *     double ahead = LBS_HAS_FIELD(w, lbs_worker, pending_work_s)
 *                    ? w->pending_work_s : LBS_WORK_UNKNOWN;
 *     const uint32_t *res = LBS_HAS_FIELD(w, lbs_worker, accel_reserved)
 *                           ? w->accel_reserved : NULL;
 *     uint32_t n = LBS_HAS_FIELD(d, lbs_device, n_backend_names)
 *                  ? d->n_backend_names : 0;
 *
 *   What a 1.0 writer means by leaving a field out is its 1.0 behaviour:
 *   pending work unknown, nothing reserved, no names offered or required.
 *   A plugin that needs several fields of one struct may test once against
 *   LBS_WORKER_SIZE_V1_1 (and the like) instead.
 *
 *   Names (backend_names, required_backend_names) are matched by one case
 *   rule: they are lower-case, and compared byte for byte.  The HOST folds
 *   ASCII case before it passes a name ("JAX" -> "jax"); a plugin never
 *   folds, so two plugins cannot disagree about a match.  Names are for
 *   what the bit sets cannot say: a host passes a backend the taxonomy
 *   knows as its LBS_BACKEND_* bit, and only others by name.  A required
 *   name is met by a device that lists it AND meets the workload's other
 *   device requirements (bits, memory, compute units); a NULL name or
 *   array where a count says there are names is never met.
 *
 *   pending_work_s is what the host knows of the work already ahead of a
 *   new workload on that worker: the rest of what runs plus what is
 *   queued, in the unit of est_duration_s.  A host that does not know it
 *   passes LBS_WORK_UNKNOWN (any negative value reads the same), never 0:
 *   0 says the worker has nothing ahead, and a plugin may believe it.  The
 *   plugin then estimates the wait itself (from active_tests, queued_tests
 *   and capacity, or from what it placed).
 *
 *   accel_reserved counts, per accelerator kind, the accelerators promised
 *   to work already running; a workload's required_accel_counts are met by
 *   the free ones (count - reserved).  A count reserved above its kind's
 *   count reads as all reserved.
 *
 * ---------------------------------------------------------------------------
 * OWNERSHIP
 *
 *   - Everything the host passes in (config text, workload, workers, outcome)
 *     is BORROWED for the duration of the call.  A plugin copies what it keeps.
 *   - Everything the plugin returns through its entry (the entry, scheduler
 *     descriptors, names, descriptions) is static plugin data, valid until
 *     the matching deinit().
 *   - Instances are created only by create() and freed only by destroy().
 *   - Neither side ever free()s the other's memory.  Text leaves the plugin
 *     through caller-provided buffers (always NUL-terminated, truncated when
 *     too small) or through an lbs_write_fn callback.
 *
 * ---------------------------------------------------------------------------
 * THREADS (each function below carries one of these tags)
 *
 *   [load]     entry, init, deinit: one thread, never concurrent with any
 *              other call into the plugin.
 *   [control]  create, destroy, workers_changed: serialised per instance by
 *              the host; destroy is never concurrent with anything on that
 *              instance.
 *   [data]     select, score, report, explain: the host serialises them per
 *              instance unless the scheduler sets LBS_CAP_CONCURRENT, in which
 *              case they may run on one instance from several threads at once.
 *              They must not sleep (but for a wait the user asked for
 *              in the instance's config), and select must not do I/O.
 *   [any]      stats, host log, host now_ns: may run concurrently with
 *              anything.
 *
 *   A plugin may start threads only inside create() and must join them in
 *   destroy(): forking hosts (nginx) load plugins in a master process and
 *   fork workers afterwards.  No C++ exception or Rust panic may cross this
 *   boundary.
 *
 * ---------------------------------------------------------------------------
 * BUILDING A PLUGIN
 *
 *   cc -shared -fPIC -fvisibility=hidden myplugin.c -o myplugin.so
 *   and mark only the entry function LBS_EXPORT.  Do no work in constructors.
 */
#ifndef LBSCHED_ABI_H
#define LBSCHED_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ===== Versions and the entry symbol ===================================== */

#define LBS_ABI_MAJOR 1
#define LBS_ABI_MINOR 2

/* The one exported symbol; its name carries the major version. */
#define LBS_ENTRY_SYMBOL "lbs_plugin_entry_v1"

#if defined(_WIN32)
#define LBS_EXPORT __declspec(dllexport)
#elif defined(__GNUC__)
#define LBS_EXPORT __attribute__((visibility("default")))
#else
#define LBS_EXPORT
#endif

/* True when the struct at p, written by the other side, has `field`. */
#define LBS_HAS_FIELD(p, type, field)                                         \
	((p)->struct_size >= offsetof(type, field) + sizeof(((type *)0)->field))

/* ===== Status codes ======================================================= */

/*
 * Every function that can fail returns an lbs_status.  0 is success,
 * LBS_NO_WORKER is a normal answer (not an error), negatives are errors.
 * A host treats any other negative value as LBS_EINTERNAL.
 */
typedef int32_t lbs_status;
#define LBS_OK 0
#define LBS_NO_WORKER 1        /* no worker is eligible for this workload */
#define LBS_EINVAL (-1)        /* a bad argument (NULL, size too small, ...) */
#define LBS_ENOMEM (-2)        /* allocation failed */
#define LBS_ECONFIG (-3)       /* the JSON config is invalid; see errbuf */
#define LBS_EUNSUPPORTED (-4)  /* the call is not supported by this plugin */
#define LBS_EINTERNAL (-5)     /* a bug in the plugin */
#define LBS_EIO (-6)           /* the plugin's own storage failed */
#define LBS_EVERSION (-7)      /* incompatible versions */

/* ===== Taxonomy: hardware classes, architectures, vendors ================ */

/* Values of lbs_device.hw_class and lbs_workload.preferred_class.
 * 0 means "not known" in a device and "no preference" in a workload. */
#define LBS_CLASS_UNKNOWN 0
#define LBS_CLASS_CPU 1
#define LBS_CLASS_GPU 2
#define LBS_CLASS_TPU 3
#define LBS_CLASS_NPU 4
#define LBS_CLASS_DSP 5
#define LBS_CLASS_FPGA 6
#define LBS_CLASS_ASIC 7
#define LBS_CLASS_HYBRID 8 /* e.g. a browser: WebGPU/WebNN over mixed hw */
#define LBS_CLASS_COUNT 9

/* Values of lbs_device.arch and lbs_workload.preferred_arch.
 * 0 = not known / no preference; OTHER = a named architecture we do not
 * know, which never equals a preference by accident. */
#define LBS_ARCH_UNKNOWN 0
#define LBS_ARCH_X86 1
#define LBS_ARCH_X86_64 2
#define LBS_ARCH_ARM 3
#define LBS_ARCH_ARM64 4
#define LBS_ARCH_PPC 5
#define LBS_ARCH_PPC64 6
#define LBS_ARCH_MIPS 7
#define LBS_ARCH_RISCV 8
#define LBS_ARCH_GPU_CUDA 9
#define LBS_ARCH_GPU_ROCM 10
#define LBS_ARCH_GPU_METAL 11
#define LBS_ARCH_GPU_WEBGPU 12
#define LBS_ARCH_TPU 13
#define LBS_ARCH_NPU_QUALCOMM 14
#define LBS_ARCH_NPU_MEDIATEK 15
#define LBS_ARCH_NPU_SAMSUNG 16
#define LBS_ARCH_DSP_HEXAGON 17
#define LBS_ARCH_FPGA_INTEL 18
#define LBS_ARCH_FPGA_XILINX 19
#define LBS_ARCH_OTHER 20
#define LBS_ARCH_COUNT 21

/* Values of lbs_device.vendor.  Same 0 / OTHER rule as architectures.
 * lbs_workload.preferred_vendors is a set: bit (1 << vendor). */
#define LBS_VENDOR_UNKNOWN 0
#define LBS_VENDOR_INTEL 1
#define LBS_VENDOR_AMD 2
#define LBS_VENDOR_NVIDIA 3
#define LBS_VENDOR_ARM 4
#define LBS_VENDOR_APPLE 5
#define LBS_VENDOR_QUALCOMM 6
#define LBS_VENDOR_MEDIATEK 7
#define LBS_VENDOR_SAMSUNG 8
#define LBS_VENDOR_GOOGLE 9
#define LBS_VENDOR_IBM 10
#define LBS_VENDOR_MICROSOFT 11
#define LBS_VENDOR_AMAZON 12
#define LBS_VENDOR_XILINX 13
#define LBS_VENDOR_ALTERA 14
#define LBS_VENDOR_HUAWEI 15
#define LBS_VENDOR_OTHER 16
#define LBS_VENDOR_COUNT 17

/* ===== Taxonomy: capability sets (bits) =================================== */

/* Software backends: lbs_device.backends, lbs_workload.required_backends and
 * preferred_backends.  OTHER marks "some backend we could not name".  A
 * requirement that holds an OTHER bit is never met, whatever the device
 * holds, so two unnamed things never match by accident:
 *
 *     met = !(req & LBS_BACKEND_OTHER) && (dev & req) == req;
 *
 * The precision and feature sets below follow the same rule with their
 * own OTHER bit.  A plugin never sees OTHER in a requirement, as 1.0
 * promised: a required precision or feature a host cannot map is met by
 * no worker, and the host answers that workload no_worker itself, calling
 * neither select() nor explain().  A required backend a host cannot map
 * comes by name instead (required_backend_names, 1.1), met as READING THE
 * 1.1 FIELDS says.  Devices do carry OTHER (something they hold that the
 * host could not name). */
#define LBS_BACKEND_PYTORCH (UINT64_C(1) << 0)
#define LBS_BACKEND_TENSORFLOW (UINT64_C(1) << 1)
#define LBS_BACKEND_ONNX (UINT64_C(1) << 2)
#define LBS_BACKEND_WEBNN (UINT64_C(1) << 3)
#define LBS_BACKEND_WEBGPU (UINT64_C(1) << 4)
#define LBS_BACKEND_DIRECTML (UINT64_C(1) << 5)
#define LBS_BACKEND_OPENVINO (UINT64_C(1) << 6)
#define LBS_BACKEND_QNN (UINT64_C(1) << 7)
#define LBS_BACKEND_CUDA (UINT64_C(1) << 8)
#define LBS_BACKEND_ROCM (UINT64_C(1) << 9)
#define LBS_BACKEND_MPS (UINT64_C(1) << 10)
#define LBS_BACKEND_VULKAN (UINT64_C(1) << 11)
#define LBS_BACKEND_METAL (UINT64_C(1) << 12)
#define LBS_BACKEND_OPENCL (UINT64_C(1) << 13)
#define LBS_BACKEND_TVM (UINT64_C(1) << 14)
#define LBS_BACKEND_NNAPI (UINT64_C(1) << 15)
#define LBS_BACKEND_COREML (UINT64_C(1) << 16)
#define LBS_BACKEND_TFLITE (UINT64_C(1) << 17)
#define LBS_BACKEND_TENSORRT (UINT64_C(1) << 18)
#define LBS_BACKEND_CPU (UINT64_C(1) << 19) /* plain CPU execution */
#define LBS_BACKEND_TPU (UINT64_C(1) << 20) /* a TPU runtime (XLA, ...) */
#define LBS_BACKEND_NPU (UINT64_C(1) << 21) /* some NPU runtime */
#define LBS_BACKEND_GPU (UINT64_C(1) << 22) /* any GPU compute runtime */
#define LBS_BACKEND_OTHER (UINT64_C(1) << 63)

/* Numeric precisions: lbs_device.precisions, lbs_workload.required_precisions. */
#define LBS_PREC_FP32 (UINT32_C(1) << 0)
#define LBS_PREC_FP16 (UINT32_C(1) << 1)
#define LBS_PREC_BF16 (UINT32_C(1) << 2)
#define LBS_PREC_INT8 (UINT32_C(1) << 3)
#define LBS_PREC_INT4 (UINT32_C(1) << 4)
#define LBS_PREC_INT2 (UINT32_C(1) << 5)
#define LBS_PREC_INT1 (UINT32_C(1) << 6)
#define LBS_PREC_MIXED (UINT32_C(1) << 7)
#define LBS_PREC_OTHER (UINT32_C(1) << 31)

/* Accelerator features: lbs_device.features, lbs_workload.required_features. */
#define LBS_FEAT_TENSOR_CORES (UINT32_C(1) << 0)
#define LBS_FEAT_RAY_TRACING (UINT32_C(1) << 1)
#define LBS_FEAT_NEURAL_ENGINE (UINT32_C(1) << 2)
#define LBS_FEAT_QUANTIZATION (UINT32_C(1) << 3)
#define LBS_FEAT_SPARSITY (UINT32_C(1) << 4)
#define LBS_FEAT_DYNAMIC_PRECISION (UINT32_C(1) << 5)
#define LBS_FEAT_MULTI_INSTANCE (UINT32_C(1) << 6)
#define LBS_FEAT_SHARED_MEMORY (UINT32_C(1) << 7)
#define LBS_FEAT_UNIFIED_MEMORY (UINT32_C(1) << 8)
#define LBS_FEAT_DEDICATED_MEMORY (UINT32_C(1) << 9)
#define LBS_FEAT_COMPUTE_SHADERS (UINT32_C(1) << 10)
#define LBS_FEAT_SIMD (UINT32_C(1) << 11)
#define LBS_FEAT_SIMT (UINT32_C(1) << 12)
#define LBS_FEAT_AVX (UINT32_C(1) << 13)
#define LBS_FEAT_AVX2 (UINT32_C(1) << 14)
#define LBS_FEAT_AVX512 (UINT32_C(1) << 15)
#define LBS_FEAT_NEON (UINT32_C(1) << 16)
#define LBS_FEAT_SVE (UINT32_C(1) << 17)
#define LBS_FEAT_SMT (UINT32_C(1) << 18)
#define LBS_FEAT_TSX (UINT32_C(1) << 19)
#define LBS_FEAT_OTHER (UINT32_C(1) << 31)

/* Workload types: lbs_workload.type and lbs_outcome.workload_type. */
#define LBS_WL_MIXED 0
#define LBS_WL_VISION 1
#define LBS_WL_NLP 2
#define LBS_WL_AUDIO 3
#define LBS_WL_MULTIMODAL 4
#define LBS_WL_TRAINING 5
#define LBS_WL_INFERENCE 6
#define LBS_WL_EMBEDDING 7
#define LBS_WL_CONVERSATIONAL 8
#define LBS_WL_COUNT 9

/* ===== Workers ============================================================ */

/* One hardware profile of a worker: a worker with a CPU and a GPU has two.
 * Static capabilities only; a worker's dynamic state is in lbs_worker. */
typedef struct lbs_device {
	uint32_t struct_size;   /* sizeof(lbs_device) of the writer */
	uint32_t hw_class;      /* LBS_CLASS_* */
	uint32_t arch;          /* LBS_ARCH_* */
	uint32_t vendor;        /* LBS_VENDOR_* */
	const char *model_name; /* informational, may be NULL */
	uint64_t backends;      /* LBS_BACKEND_* set this device can run */
	uint32_t precisions;    /* LBS_PREC_* set */
	uint32_t features;      /* LBS_FEAT_* set */
	uint64_t mem_total_bytes;
	uint64_t mem_available_bytes; /* free for new work, before reservations */
	uint32_t compute_units; /* CPU cores, GPU SMs, TPU cores, NPU units; >= 0 */
	uint32_t clock_mhz;     /* 0 = not known */
	uint32_t tdp_watts;     /* thermal design power, 0 = not known */
	uint32_t reserved0;     /* must be 0 */

	/* Added in 1.1 (read only when LBS_HAS_FIELD says the writer has them).
	 * Backends and software this device runs, by name, beyond the
	 * LBS_BACKEND_* bits: e.g. {"jax", "triton"}.  Names are lower-case
	 * (UTF-8, NUL-ended); a host folds ASCII case before it passes them,
	 * and a plugin compares them byte for byte.  NULL with
	 * n_backend_names 0 = none; a NULL entry names nothing. */
	const char *const *backend_names;
	uint32_t n_backend_names;
	uint32_t reserved1;     /* must be 0 */
} lbs_device;

/* Values of lbs_worker.thermal_state. */
#define LBS_THERMAL_NORMAL 0
#define LBS_THERMAL_WARMING 1 /* ramping up; runs at performance_level */
#define LBS_THERMAL_COOLING 2 /* throttled; runs at performance_level */

/*
 * A worker the host may send work to, with its devices and current load.
 * Identity is `id`, stable for the worker's life; the position of a worker
 * in the array passed to select() means nothing beyond that one call.
 */
typedef struct lbs_worker {
	uint32_t struct_size; /* sizeof(lbs_worker) of the writer */
	uint32_t n_devices;   /* >= 1 for a usable worker */
	const char *id;       /* stable, unique in the array, non-empty */
	const lbs_device *const *devices;

	/* Dynamic state.  Utilisations are fractions 0..1 (not percent). */
	double util_cpu;
	double util_memory;
	double util_gpu;
	double util_io;
	double util_network;
	uint32_t active_tests;  /* running now */
	uint32_t queued_tests;  /* waiting on this worker */
	uint64_t reserved_memory_bytes; /* promised to running work */
	double temperature;     /* 0 (cold) .. 1 (at its thermal limit) */
	uint32_t thermal_state; /* LBS_THERMAL_* */
	uint32_t capacity;      /* tests it runs at once; 0 means 1 */
	double performance_level; /* 0..1, 1 = full speed */

	/* Accelerators the worker has: n_accels parallel entries, e.g.
	 * kinds {"gpu","tpu"} counts {4,1}.  Kinds are lower-case names. */
	const char *const *accel_kinds;
	const uint32_t *accel_counts;
	uint32_t n_accels;
	uint32_t reserved1; /* must be 0 */

	/* Added in 1.1 (read only when LBS_HAS_FIELD says the writer has them). */
	/* The host's estimate of the work already ahead of new work on this
	 * worker (running remainder plus queue), in nominal seconds: the unit
	 * of lbs_workload.est_duration_s.  LBS_WORK_UNKNOWN (any negative
	 * value, also NaN) = the host does not know; 0 = nothing ahead.  A
	 * host that zero-fills its structs must set LBS_WORK_UNKNOWN here. */
	double pending_work_s;
	/* Accelerators already promised to running work, parallel to
	 * accel_kinds / accel_counts (n_accels entries, each <= its count):
	 * a workload's required_accel_counts are met by count - reserved.
	 * NULL = none reserved. */
	const uint32_t *accel_reserved;
} lbs_worker;

/* lbs_worker.pending_work_s when the host does not know. */
#define LBS_WORK_UNKNOWN (-1.0)

/* ===== Workloads ========================================================== */

/* Values of lbs_workload.allocation.  A plugin answers LBS_EINVAL for
 * any other value (a kind a later minor may add), never a guess. */
#define LBS_ALLOC_SINGLE 0     /* one worker */
#define LBS_ALLOC_SHARDED 1    /* split over min_shards..max_shards workers */
#define LBS_ALLOC_REPLICATED 2 /* copies on min_shards..max_shards workers */

/*
 * One unit of work to place (a test, a request).  Metrics are 0..1; a host
 * that does not know one leaves it at 0.5 (neutral), except
 * energy_sensitivity, which is 0 unless the work says it cares.
 */
typedef struct lbs_workload {
	uint32_t struct_size; /* sizeof(lbs_workload) of the writer */
	uint32_t type;        /* LBS_WL_* */
	const char *id;       /* the test / request id; may be NULL */
	const char *test_type;/* the host's own type name, e.g.
	                         "vision_classification"; may be NULL */
	const char *model_id; /* may be NULL */

	/* Hard requirements: a worker lacking any of these is never chosen. */
	uint64_t required_backends;   /* all must be on one device */
	uint32_t required_precisions; /* all must be on that device */
	uint32_t required_features;   /* all must be on that device */
	uint64_t min_memory_bytes;    /* <= that device's available - reserved */
	uint32_t min_compute_units;   /* <= that device's compute units */
	uint32_t n_required_accels;   /* entries in the two arrays below */
	const char *const *required_accel_kinds;   /* lower-case names */
	const uint32_t *required_accel_counts;     /* how many of each */
	const char *const *exclude_ids; /* workers already tried: never chosen */
	uint32_t n_exclude;

	/* Soft preferences: they raise a score, they never filter. */
	uint32_t preferred_class;     /* LBS_CLASS_*, 0 = none */
	uint32_t preferred_arch;      /* LBS_ARCH_*, 0 = none */
	uint32_t reserved0;           /* must be 0 */
	uint64_t preferred_vendors;   /* set of (1 << LBS_VENDOR_*), 0 = none */
	uint64_t preferred_backends;  /* LBS_BACKEND_* set, 0 = none */

	/* Metrics, each 0..1. */
	double compute_intensity;
	double memory_intensity;
	double io_intensity;
	double network_intensity;
	double latency_sensitivity;
	double throughput_sensitivity;
	double energy_sensitivity;

	uint32_t priority;            /* 1 (highest) .. 5 (lowest) */
	uint32_t allocation;          /* LBS_ALLOC_* */
	double deadline_s;            /* seconds from now it must finish; 0 = none */
	double est_duration_s;        /* expected run time in seconds; 0 = unknown */
	uint32_t min_shards;          /* >= 1; for SINGLE both are 1 */
	uint32_t max_shards;          /* >= min_shards */

	/* Added in 1.1 (read only when LBS_HAS_FIELD says the writer has them).
	 * Hard requirements by name, beyond the bit sets: each name must be in
	 * lbs_device.backend_names of the device that meets the other device
	 * requirements.  Same case rule as backend_names (lower-case, compared
	 * byte for byte).  NULL with n_required_backend_names 0 = none; a
	 * name that is NULL, or a NULL array with a count, is never met. */
	const char *const *required_backend_names;
	uint32_t n_required_backend_names;
	uint32_t reserved1;           /* must be 0 */
} lbs_workload;

/* ===== The answer ========================================================= */

/*
 * Filled by select().  The CALLER owns this struct and its arrays: it sets
 * struct_size, points `indices` and `ids` at arrays of `capacity` entries
 * (capacity >= the workload's max_shards), and may give a reason buffer.
 * The plugin writes n_selected entries, best first, with distinct workers.
 * ids[i] must equal workers[indices[i]]->id (the pointer may be either the
 * host's string or the plugin's copy; the host compares the text).  A copy
 * must stay valid until the next call on the same instance: hosts read
 * ids after select returns.  The reason, when written, is one sentence
 * ending in a NUL inside reason_len; it may be written on LBS_NO_WORKER
 * too (a host that gave a buffer shows it as the reason none was found; a
 * balancer's hot path may give none, reason NULL or reason_len 0, and
 * then nothing is written).
 *
 * The cookie is the plugin's name for this decision, returned in the
 * lbs_outcome of every placement it made.  0 is reserved for "no decision
 * of yours": never issue it (hosts send 0 for placements the plugin did
 * not make, e.g. a host's own fallback choice, and for unknown ones).
 * report() must also accept a cookie it never issued, or one that another
 * instance issued, as an outcome it cannot match.
 */
typedef struct lbs_selection {
	uint32_t struct_size; /* set by the caller */
	uint32_t capacity;    /* entries available in indices / ids */
	uint32_t *indices;    /* positions in this call's workers array */
	const char **ids;     /* the chosen workers' ids */
	uint32_t n_selected;  /* written by the plugin, <= capacity */
	uint32_t reserved0;
	uint64_t cookie;      /* the plugin's, never 0; returned in lbs_outcome */
	char *reason;         /* caller buffer for one sentence, may be NULL */
	size_t reason_len;    /* its size in bytes */
} lbs_selection;

/* ===== Feedback =========================================================== */

/* Values of lbs_outcome.result.  Unknown values mean LBS_RESULT_FAILURE. */
#define LBS_RESULT_SUCCESS 0
#define LBS_RESULT_FAILURE 1   /* the work ran and failed */
#define LBS_RESULT_TIMEOUT 2   /* it did not finish in time */
#define LBS_RESULT_REJECTED 3  /* the worker refused or was unreachable */
#define LBS_RESULT_CANCELLED 4 /* the host gave up; not the worker's fault */

/* What happened to one placed workload, reported through report(). */
typedef struct lbs_outcome {
	uint32_t struct_size;   /* sizeof(lbs_outcome) of the writer */
	uint32_t workload_type; /* LBS_WL_* */
	const char *workload_id;/* may be NULL */
	const char *test_type;  /* may be NULL */
	const char *worker_id;  /* non-NULL */
	uint64_t cookie;        /* from the lbs_selection, 0 if unknown */
	int32_t result;         /* LBS_RESULT_* */
	int32_t status_code;    /* host-specific, e.g. an HTTP status; 0 = none */
	double duration_s;      /* wall time of the work, >= 0 */
	double expected_duration_s; /* what the host expected, 0 = unknown */
} lbs_outcome;

/* ===== Host services ====================================================== */

/* Log levels for lbs_host_api.log. */
#define LBS_LOG_DEBUG 0
#define LBS_LOG_INFO 1
#define LBS_LOG_WARN 2
#define LBS_LOG_ERROR 3
#define LBS_LOG_PLUGIN_MISBEHAVING 4 /* the host reports a contract breach */

/* Receives text (JSON) from the plugin.  `data` is not NUL-terminated;
 * it is valid only during the call.  Return 0 to go on, nonzero to stop. */
typedef int (*lbs_write_fn)(void *ctx, const char *data, size_t len);

struct lbs_scheduler_desc;

/*
 * What the host offers a plugin.  Owned by the host; it outlives every
 * instance created with it.
 */
typedef struct lbs_host_api {
	uint32_t struct_size;
	uint32_t abi_major;     /* LBS_ABI_MAJOR the host was built with */
	uint32_t abi_minor;
	uint32_t reserved0;
	const char *host_name;  /* e.g. "lbsched-shim", "nginx" */
	const char *host_version;
	void *host_data;        /* passed back to every function below */

	/* [any] Write one log line (no trailing newline needed).  `msg` is
	 * NUL-terminated and borrowed for the call: the host copies what it
	 * keeps. */
	void (*log)(void *host_data, int32_t level, const char *msg);

	/* [any] Monotonic clock in nanoseconds.  Its resolution may be a few
	 * milliseconds (this project's hosts read the coarse clock, as nginx
	 * caches its time for its modules): for stamps and expiry, not for
	 * timing short work. */
	uint64_t (*now_ns)(void *host_data);

	/*
	 * [control] Find a scheduler, possibly in another plugin, so that a
	 * scheduler (composite) can create children through the host.
	 * plugin_path NULL or "" means the plugin making the call.  The host
	 * loads and validates the plugin as it would its own.  On success
	 * *out points to a descriptor valid until release_scheduler(*out),
	 * and *out_host to the host API to pass to that descriptor's
	 * create() (owned by the host, valid as long as *out).
	 * Errors: LBS_EINVAL (no such scheduler), LBS_EVERSION (refused
	 * plugin), LBS_EUNSUPPORTED (the host cannot load plugins); err gets a
	 * sentence naming the file and problem.  May be NULL in hosts that
	 * offer no loading.
	 */
	lbs_status (*find_scheduler)(void *host_data, const char *plugin_path,
	                             const char *name,
	                             const struct lbs_scheduler_desc **out,
	                             const struct lbs_host_api **out_host,
	                             char *err, size_t errlen);

	/* [control] Drop a descriptor from find_scheduler after destroying
	 * every instance made from it.  May be NULL when find_scheduler is. */
	void (*release_scheduler)(void *host_data,
	                          const struct lbs_scheduler_desc *desc);
} lbs_host_api;

/* ===== Schedulers (the vtable) ============================================ */

/* Bits of lbs_scheduler_desc.caps. */
#define LBS_CAP_CONCURRENT (UINT64_C(1) << 0) /* [data] calls may overlap */
#define LBS_CAP_LEARNS (UINT64_C(1) << 1)     /* report() changes decisions */
#define LBS_CAP_MULTI (UINT64_C(1) << 2)      /* can return several workers */
/* This project's hosts (lbsched-shim, nginx, Python) do not read
 * LBS_CAP_MULTI or LBS_CAP_CONCURRENT: they serialise every call on an
 * instance, and lbsched-shim and Python send sharded and replicated work
 * to every scheduler (nginx sends single placements only).  A scheduler without MULTI still answers such work: with
 * min_shards..max_shards workers when it can, else LBS_NO_WORKER (an
 * answer outside that range is a contract breach the host replaces). */

/*
 * One scheduler type a plugin offers.  Static plugin data, valid until
 * deinit().  Required slots (create, destroy, select) are never NULL; an
 * optional slot may be NULL and the host checks before calling it.
 */
typedef struct lbs_scheduler_desc {
	uint32_t struct_size;
	uint32_t reserved0;
	const char *name;        /* e.g. "round-robin"; third parties use
	                            reverse-DNS names, "org.example.mine" */
	const char *description; /* one sentence */
	uint64_t caps;           /* LBS_CAP_* */

	/*
	 * [control] REQUIRED.  Make an instance from JSON config text.
	 *   host       services; outlives the instance.
	 *   config     JSON text, `config_len` bytes, not necessarily
	 *              NUL-terminated; NULL or empty means all defaults.
	 *   out        receives the instance on LBS_OK.
	 *   err        buffer for one sentence naming the config field and
	 *              its problem, e.g. "field 'weights.load': must be >= 0".
	 * Errors: LBS_EINVAL (out is NULL), LBS_ECONFIG (bad config),
	 * LBS_ENOMEM, LBS_EIO (storage).  A scheduler that creates others
	 * (composite) passes on a child's error, LBS_EINTERNAL included, and
	 * LBS_EVERSION for a child in a plugin the host refused.
	 */
	lbs_status (*create)(const lbs_host_api *host, const char *config,
	                     size_t config_len, void **out, char *err,
	                     size_t errlen);

	/* [control] REQUIRED.  Free an instance.  Never fails. */
	void (*destroy)(void *inst);

	/*
	 * [data] REQUIRED.  Choose workers for one workload.
	 *   workload   borrowed for the call.
	 *   workers    n_workers borrowed pointers; positions are per call.
	 *   out        caller-owned; see lbs_selection.
	 * Returns LBS_OK with out->n_selected >= 1 (between min_shards and
	 * max_shards for SHARDED / REPLICATED), LBS_NO_WORKER with
	 * n_selected 0 when no worker qualifies, or an error: LBS_EINVAL (a
	 * bad workload, workers array, worker or out), LBS_ENOMEM (room for
	 * more workers or shards than before); a composite passes on a
	 * child's.  Never chooses an excluded worker, one failing a hard
	 * requirement, or the same worker twice.  Should not allocate and
	 * must not do I/O.
	 */
	lbs_status (*select)(void *inst, const lbs_workload *workload,
	                     const lbs_worker *const *workers, uint32_t n_workers,
	                     lbs_selection *out);

	/*
	 * [data] OPTIONAL.  Score every worker for this workload without
	 * choosing, so that a composite can blend schedulers.  Writes
	 * scores[i] in 0..1 (higher is better) for workers[i], or a negative
	 * value for a worker that is not eligible.  Must not change state
	 * that select() would see.
	 *   scores     caller-owned, n_workers doubles (may be NULL when
	 *              n_workers is 0).
	 * Errors: LBS_EINVAL (a bad workload or worker; workers or scores
	 * NULL with n_workers > 0), LBS_ENOMEM; a composite passes on a
	 * child's.
	 */
	lbs_status (*score)(void *inst, const lbs_workload *workload,
	                    const lbs_worker *const *workers, uint32_t n_workers,
	                    double *scores);

	/* [data] OPTIONAL.  Learn from what happened to a placed workload.
	 * Errors: LBS_EINVAL (a bad outcome, or one the scheduler refuses),
	 * LBS_ENOMEM, LBS_EIO (storage failed); after either of the last two
	 * the outcome may be lost.  A composite passes on a child's error. */
	lbs_status (*report)(void *inst, const lbs_outcome *outcome);

	/* [control] OPTIONAL.  The fleet changed; `workers` is the new one.
	 * A scheduler may drop state of workers no longer present.
	 * Errors: a scheduler's own (a composite passes on a child's); none
	 * is fatal: state of workers gone may stay, and every later call
	 * passes its own workers anyway. */
	lbs_status (*workers_changed)(void *inst,
	                              const lbs_worker *const *workers,
	                              uint32_t n_workers);

	/* [any] OPTIONAL.  Write one JSON object of counters through write.
	 * Errors: LBS_EINVAL (write is NULL).  A nonzero return from write
	 * need not give an error: the object may end there, unclosed, with
	 * LBS_OK; a host that refused text knows the object is incomplete. */
	lbs_status (*stats)(void *inst, lbs_write_fn write, void *ctx);

	/*
	 * [data] OPTIONAL.  Write one JSON object explaining the decision
	 * select() would make now: every candidate with its score factors,
	 * every rejected worker with the first requirement it failed.  Must
	 * not change state.
	 * Errors: LBS_EINVAL (write NULL, a bad workload, workers array or
	 * worker), LBS_ENOMEM; a composite may pass on a child's.  A
	 * nonzero return from write is as in stats().
	 */
	lbs_status (*explain)(void *inst, const lbs_workload *workload,
	                      const lbs_worker *const *workers,
	                      uint32_t n_workers, lbs_write_fn write, void *ctx);
} lbs_scheduler_desc;

/* ===== The plugin entry =================================================== */

typedef struct lbs_plugin_entry {
	uint32_t struct_size;  /* sizeof(lbs_plugin_entry) of the plugin */
	uint32_t abi_major;    /* LBS_ABI_MAJOR the plugin was built with */
	uint32_t abi_minor;
	uint32_t reserved0;
	const char *plugin_name;    /* e.g. "lbsched" */
	const char *plugin_version; /* e.g. "0.1.0", informational */

	/*
	 * [load] Prepare the plugin.  Reference-counted: a host (or two hosts
	 * in one process) may call init several times; each successful init
	 * is matched by one deinit.  Starts no threads.  Of the host's
	 * services init may use log and now_ns; find_scheduler answers
	 * LBS_EUNSUPPORTED until init returns (the plugin is not the host's
	 * to search yet), so a composite finds its children in create().
	 * Errors: LBS_EINVAL (host is NULL), LBS_EVERSION if the host's ABI
	 * is unusable; err explains.
	 */
	lbs_status (*init)(const lbs_host_api *host, char *err, size_t errlen);

	/* [load] Undo one init.  After the last one, no descriptor is valid. */
	void (*deinit)(void);

	/* [load] or after init: the schedulers this plugin offers, each name
	 * once (hosts refuse a plugin with two of one name: configs reach a
	 * scheduler by name, and the second could never be reached). */
	uint32_t (*scheduler_count)(void);
	const lbs_scheduler_desc *(*scheduler_get)(uint32_t index);
	/* NULL when no scheduler has this name (compared exactly). */
	const lbs_scheduler_desc *(*scheduler_find)(const char *name);

	/*
	 * [any] OPTIONAL.  An extension interface by id ("lbs.ext.<name>/<rev>"),
	 * or NULL when the plugin does not offer it.  The pointer is static
	 * plugin data, valid until deinit.  An id's layout never changes; a
	 * new layout gets a new revision.  A slot of an extension may be NULL
	 * (the plugin does not do that part): a host tests each slot before
	 * it calls it.
	 */
	const void *(*get_extension)(const char *id);
} lbs_plugin_entry;

/* ===== Extension: the learned store ======================================= */

/*
 * "lbs.ext.store/1": read and write a plugin's learned store directly, so a
 * host can move knowledge between machines (export on one, import on the
 * other) without running a scheduler.  All functions are [control]; `dir`
 * is the store's directory, as in the scheduler config's "store.path".
 */
#define LBS_EXT_STORE "lbs.ext.store/1"

/* Flags of lbs_ext_store.import_json. */
#define LBS_IMPORT_MERGE 0   /* records in the document replace theirs; others stay */
#define LBS_IMPORT_REPLACE 1 /* the store afterwards holds exactly the document */

typedef struct lbs_ext_store {
	uint32_t struct_size;
	uint32_t reserved0;
	/*
	 * Write the whole store as one JSON document:
	 *   {"schema": N, "records": [{"workload_type": "VISION",
	 *     "worker": "gpu-1", "samples": N, "successes": N, "failures": N,
	 *     "preference": x, "mean_duration": s, "var_duration": s2,
	 *     "last_update": unix_s}, ...]}
	 * Errors: LBS_EINVAL (dir or write NULL; err is not written),
	 * LBS_EIO (cannot open or read the store, or write returned nonzero;
	 * err says why; what was written is then not a whole document).
	 */
	lbs_status (*export_json)(const lbs_host_api *host, const char *dir,
	                          lbs_write_fn write, void *ctx, char *err,
	                          size_t errlen);
	/*
	 * Load a document in the export format, in one transaction: either
	 * every record is applied or, on any error, nothing changes.
	 * Errors: LBS_EINVAL (malformed document, err names the record and
	 * field; or dir or json NULL or unknown flags, err not written),
	 * LBS_ENOMEM, LBS_EIO.
	 */
	lbs_status (*import_json)(const lbs_host_api *host, const char *dir,
	                          const char *json, size_t len, uint32_t flags,
	                          char *err, size_t errlen);
	/* Remove every learned record (the schema stays).  Errors: LBS_EINVAL
	 * (dir NULL), LBS_EIO (no store in dir, or it cannot be written; err
	 * says why). */
	lbs_status (*reset)(const lbs_host_api *host, const char *dir, char *err,
	                    size_t errlen);
} lbs_ext_store;

/* ===== Extension: the fleet (added in 1.2) ================================ */

/*
 * "lbs.ext.fleet/1": the learned totals that several hosts share through
 * Redis (a store's "fleet" object), read or synced once without running a
 * scheduler, so that a host's tool (lbsched-shim prefs --redis) needs no
 * Redis client of its own.  get_extension(LBS_EXT_FLEET) is NULL in a
 * plugin that does not learn through Redis.  The layout of this id never
 * changes (see get_extension); a host checks struct_size >=
 * sizeof(lbs_ext_fleet) before it calls a slot.
 *
 * Both functions take the same arguments:
 *   host        the host API the plugin was init()ed with; used to log.
 *   config      a scheduler config's JSON text, config_len bytes, not
 *               necessarily NUL-terminated, whose "store" object holds
 *               "fleet" (the Redis to use: address, user, password_file,
 *               prefix, timeout_ms, ...), exactly as create() reads it:
 *                 {"store": {"path": "/var/lib/lbsched/prefs",
 *                            "fleet": {"address": "127.0.0.1:6379"}}}
 *               totals_json reads store.fleet alone; sync reads the whole
 *               "store" object, as create() does.
 *   write, ctx  receive the answer, one JSON document, in pieces; ctx is
 *               passed back to write untouched.  A nonzero return from
 *               write stops the answer (LBS_EIO).
 *   err         errlen bytes for one line, on an error, naming the config
 *               field, the store or the Redis (address and reply) and the
 *               problem; NUL-terminated, truncated when too small.
 * Errors (both): LBS_EINVAL (config or write NULL; err is not written),
 *   LBS_ECONFIG (the config is not a JSON object, has no "store.fleet", or
 *   a field of it is wrong, e.g. "config field 'store.fleet.address': ..."),
 *   LBS_ENOMEM, LBS_EIO (Redis unreachable, timed out, refused the login or
 *   answered with an error; or write refused the answer).
 *
 * Threads: [control], with no instance: the host serialises calls to this
 *   extension; scheduler instances on the same store may go on serving
 *   [data] calls meanwhile.  Each function connects to Redis and waits on
 *   it, up to store.fleet.timeout_ms (default 5000) per command, so a host
 *   never calls it where a request waits.  Threads the plugin starts for
 *   the call are joined before it returns, so a forking host may call it
 *   in its master process.
 * Ownership: everything passed in is borrowed for the call; the plugin
 *   keeps nothing of it, and no connection or store stays open afterwards.
 */
#define LBS_EXT_FLEET "lbs.ext.fleet/1"

typedef struct lbs_ext_fleet {
	uint32_t struct_size; /* sizeof(lbs_ext_fleet) of the plugin */
	uint32_t reserved0;   /* 0 */

	/*
	 * Write the fleet's totals, every workload type and worker pair that
	 * Redis holds under store.fleet.prefix, as one document in the export
	 * format of lbs.ext.store/1 (export_json), so that it can be read as
	 * a store's export is, or imported into one.  Reads Redis only: no
	 * store is opened and store.path may be absent.  A fleet that has
	 * learned nothing yet gives "records": [].
	 */
	lbs_status (*totals_json)(const lbs_host_api *host, const char *config,
	                          size_t config_len, lbs_write_fn write, void *ctx,
	                          char *err, size_t errlen);

	/*
	 * One sync of the store at store.path with the fleet, now: push the
	 * store's evidence that Redis has not acknowledged yet (a batch Redis
	 * already applied is applied once), then pull the totals that changed
	 * into the store.  Writes the sync's state afterwards, the object a
	 * scheduler's stats() shows as store.fleet:
	 *   {"fleet": {"address": ..., "lag_ms": N, "backlog": N,
	 *              "pushes": N, "pulls": N, "errors": N, ...}}
	 * Needs store.path (LBS_ECONFIG without it).  Errors as above, and
	 * LBS_EIO when the store cannot be opened (store.on_error "memory"
	 * does not apply: a store that is not there has nothing to sync).
	 */
	lbs_status (*sync)(const lbs_host_api *host, const char *config,
	                   size_t config_len, lbs_write_fn write, void *ctx,
	                   char *err, size_t errlen);
} lbs_ext_fleet;

/*
 * Smallest struct_size a reader accepts for each struct: the size at 1.0,
 * or for the descriptor, the end of the last REQUIRED slot (a plugin built
 * against a header without the optional slots still loads).  A host passes
 * workers, devices, workloads and outcomes at least this big; a plugin
 * may reject smaller ones with LBS_EINVAL.
 */
#define LBS_ENTRY_SIZE_V1_0 (offsetof(lbs_plugin_entry, scheduler_find) + sizeof(void *))
#define LBS_DESC_SIZE_V1_0 (offsetof(lbs_scheduler_desc, select) + sizeof(void *))
#define LBS_DEVICE_SIZE_V1_0 (offsetof(lbs_device, reserved0) + sizeof(uint32_t))
#define LBS_WORKER_SIZE_V1_0 (offsetof(lbs_worker, reserved1) + sizeof(uint32_t))
#define LBS_WORKLOAD_SIZE_V1_0 (offsetof(lbs_workload, max_shards) + sizeof(uint32_t))
#define LBS_SELECTION_SIZE_V1_0 (offsetof(lbs_selection, reason_len) + sizeof(size_t))
#define LBS_OUTCOME_SIZE_V1_0 (offsetof(lbs_outcome, expected_duration_s) + sizeof(double))
#define LBS_HOST_SIZE_V1_0 (offsetof(lbs_host_api, now_ns) + sizeof(void *))
/* The sizes at 1.1, for a reader that needs every 1.1 field at once. */
#define LBS_DEVICE_SIZE_V1_1 (offsetof(lbs_device, reserved1) + sizeof(uint32_t))
#define LBS_WORKER_SIZE_V1_1 (offsetof(lbs_worker, accel_reserved) + sizeof(void *))
#define LBS_WORKLOAD_SIZE_V1_1 (offsetof(lbs_workload, reserved1) + sizeof(uint32_t))

/* The one function a plugin exports.  Returns static data; does no work. */
typedef const lbs_plugin_entry *(*lbs_plugin_entry_fn)(void);

/* ===== Layout checks ======================================================= */

/*
 * The offsets and sizes above, as the compiler sees them on LP64 (x86-64,
 * aarch64, ...), checked wherever this header is compiled, so that an
 * accidental change (a field inserted, moved or retyped, new padding) fails
 * the build instead of breaking plugins built earlier.  Appending a field in
 * a minor release changes only that struct's LBS_SIZE_ line; no LBS_AT_ line
 * and no *_SIZE_V1_0 value may ever change, nor an extension's LBS_SIZE_
 * (a new layout is a new extension id).  Skipped where _Static_assert
 * is not C (C99, C++) or pointers are not 64-bit.
 */
#if defined(__LP64__) && !defined(__cplusplus) && defined(__STDC_VERSION__) && \
	__STDC_VERSION__ >= 201112L
#define LBS_AT_(type, field, off)                                              \
	_Static_assert(offsetof(type, field) == (off),                          \
	               "lbsched ABI: " #type "." #field " moved; only append fields")
#define LBS_SIZE_(type, size)                                                  \
	_Static_assert(sizeof(type) == (size),                                  \
	               "lbsched ABI: sizeof " #type " changed; update it only when appending")
_Static_assert(sizeof(lbs_status) == 4, "lbsched ABI: lbs_status is 32-bit");
LBS_AT_(lbs_device, struct_size, 0); LBS_AT_(lbs_device, hw_class, 4);
LBS_AT_(lbs_device, arch, 8); LBS_AT_(lbs_device, vendor, 12);
LBS_AT_(lbs_device, model_name, 16); LBS_AT_(lbs_device, backends, 24);
LBS_AT_(lbs_device, precisions, 32); LBS_AT_(lbs_device, features, 36);
LBS_AT_(lbs_device, mem_total_bytes, 40); LBS_AT_(lbs_device, mem_available_bytes, 48);
LBS_AT_(lbs_device, compute_units, 56); LBS_AT_(lbs_device, clock_mhz, 60);
LBS_AT_(lbs_device, tdp_watts, 64); LBS_AT_(lbs_device, reserved0, 68);
LBS_AT_(lbs_device, backend_names, 72); LBS_AT_(lbs_device, n_backend_names, 80);
LBS_AT_(lbs_device, reserved1, 84);
LBS_SIZE_(lbs_device, 88);
LBS_AT_(lbs_worker, struct_size, 0); LBS_AT_(lbs_worker, n_devices, 4);
LBS_AT_(lbs_worker, id, 8); LBS_AT_(lbs_worker, devices, 16);
LBS_AT_(lbs_worker, util_cpu, 24); LBS_AT_(lbs_worker, util_memory, 32);
LBS_AT_(lbs_worker, util_gpu, 40); LBS_AT_(lbs_worker, util_io, 48);
LBS_AT_(lbs_worker, util_network, 56); LBS_AT_(lbs_worker, active_tests, 64);
LBS_AT_(lbs_worker, queued_tests, 68); LBS_AT_(lbs_worker, reserved_memory_bytes, 72);
LBS_AT_(lbs_worker, temperature, 80); LBS_AT_(lbs_worker, thermal_state, 88);
LBS_AT_(lbs_worker, capacity, 92); LBS_AT_(lbs_worker, performance_level, 96);
LBS_AT_(lbs_worker, accel_kinds, 104); LBS_AT_(lbs_worker, accel_counts, 112);
LBS_AT_(lbs_worker, n_accels, 120); LBS_AT_(lbs_worker, reserved1, 124);
LBS_AT_(lbs_worker, pending_work_s, 128); LBS_AT_(lbs_worker, accel_reserved, 136);
LBS_SIZE_(lbs_worker, 144);
LBS_AT_(lbs_workload, struct_size, 0); LBS_AT_(lbs_workload, type, 4);
LBS_AT_(lbs_workload, id, 8); LBS_AT_(lbs_workload, test_type, 16);
LBS_AT_(lbs_workload, model_id, 24); LBS_AT_(lbs_workload, required_backends, 32);
LBS_AT_(lbs_workload, required_precisions, 40); LBS_AT_(lbs_workload, required_features, 44);
LBS_AT_(lbs_workload, min_memory_bytes, 48); LBS_AT_(lbs_workload, min_compute_units, 56);
LBS_AT_(lbs_workload, n_required_accels, 60); LBS_AT_(lbs_workload, required_accel_kinds, 64);
LBS_AT_(lbs_workload, required_accel_counts, 72); LBS_AT_(lbs_workload, exclude_ids, 80);
LBS_AT_(lbs_workload, n_exclude, 88); LBS_AT_(lbs_workload, preferred_class, 92);
LBS_AT_(lbs_workload, preferred_arch, 96); LBS_AT_(lbs_workload, reserved0, 100);
LBS_AT_(lbs_workload, preferred_vendors, 104); LBS_AT_(lbs_workload, preferred_backends, 112);
LBS_AT_(lbs_workload, compute_intensity, 120); LBS_AT_(lbs_workload, memory_intensity, 128);
LBS_AT_(lbs_workload, io_intensity, 136); LBS_AT_(lbs_workload, network_intensity, 144);
LBS_AT_(lbs_workload, latency_sensitivity, 152);
LBS_AT_(lbs_workload, throughput_sensitivity, 160);
LBS_AT_(lbs_workload, energy_sensitivity, 168); LBS_AT_(lbs_workload, priority, 176);
LBS_AT_(lbs_workload, allocation, 180); LBS_AT_(lbs_workload, deadline_s, 184);
LBS_AT_(lbs_workload, est_duration_s, 192); LBS_AT_(lbs_workload, min_shards, 200);
LBS_AT_(lbs_workload, max_shards, 204);
LBS_AT_(lbs_workload, required_backend_names, 208);
LBS_AT_(lbs_workload, n_required_backend_names, 216); LBS_AT_(lbs_workload, reserved1, 220);
LBS_SIZE_(lbs_workload, 224);
LBS_AT_(lbs_selection, struct_size, 0); LBS_AT_(lbs_selection, capacity, 4);
LBS_AT_(lbs_selection, indices, 8); LBS_AT_(lbs_selection, ids, 16);
LBS_AT_(lbs_selection, n_selected, 24); LBS_AT_(lbs_selection, reserved0, 28);
LBS_AT_(lbs_selection, cookie, 32); LBS_AT_(lbs_selection, reason, 40);
LBS_AT_(lbs_selection, reason_len, 48);
LBS_SIZE_(lbs_selection, 56);
LBS_AT_(lbs_outcome, struct_size, 0); LBS_AT_(lbs_outcome, workload_type, 4);
LBS_AT_(lbs_outcome, workload_id, 8); LBS_AT_(lbs_outcome, test_type, 16);
LBS_AT_(lbs_outcome, worker_id, 24); LBS_AT_(lbs_outcome, cookie, 32);
LBS_AT_(lbs_outcome, result, 40); LBS_AT_(lbs_outcome, status_code, 44);
LBS_AT_(lbs_outcome, duration_s, 48); LBS_AT_(lbs_outcome, expected_duration_s, 56);
LBS_SIZE_(lbs_outcome, 64);
LBS_AT_(lbs_host_api, struct_size, 0); LBS_AT_(lbs_host_api, abi_major, 4);
LBS_AT_(lbs_host_api, abi_minor, 8); LBS_AT_(lbs_host_api, reserved0, 12);
LBS_AT_(lbs_host_api, host_name, 16); LBS_AT_(lbs_host_api, host_version, 24);
LBS_AT_(lbs_host_api, host_data, 32); LBS_AT_(lbs_host_api, log, 40);
LBS_AT_(lbs_host_api, now_ns, 48); LBS_AT_(lbs_host_api, find_scheduler, 56);
LBS_AT_(lbs_host_api, release_scheduler, 64);
LBS_SIZE_(lbs_host_api, 72);
LBS_AT_(lbs_scheduler_desc, struct_size, 0); LBS_AT_(lbs_scheduler_desc, reserved0, 4);
LBS_AT_(lbs_scheduler_desc, name, 8); LBS_AT_(lbs_scheduler_desc, description, 16);
LBS_AT_(lbs_scheduler_desc, caps, 24); LBS_AT_(lbs_scheduler_desc, create, 32);
LBS_AT_(lbs_scheduler_desc, destroy, 40); LBS_AT_(lbs_scheduler_desc, select, 48);
LBS_AT_(lbs_scheduler_desc, score, 56); LBS_AT_(lbs_scheduler_desc, report, 64);
LBS_AT_(lbs_scheduler_desc, workers_changed, 72); LBS_AT_(lbs_scheduler_desc, stats, 80);
LBS_AT_(lbs_scheduler_desc, explain, 88);
LBS_SIZE_(lbs_scheduler_desc, 96);
LBS_AT_(lbs_plugin_entry, struct_size, 0); LBS_AT_(lbs_plugin_entry, abi_major, 4);
LBS_AT_(lbs_plugin_entry, abi_minor, 8); LBS_AT_(lbs_plugin_entry, reserved0, 12);
LBS_AT_(lbs_plugin_entry, plugin_name, 16); LBS_AT_(lbs_plugin_entry, plugin_version, 24);
LBS_AT_(lbs_plugin_entry, init, 32); LBS_AT_(lbs_plugin_entry, deinit, 40);
LBS_AT_(lbs_plugin_entry, scheduler_count, 48); LBS_AT_(lbs_plugin_entry, scheduler_get, 56);
LBS_AT_(lbs_plugin_entry, scheduler_find, 64); LBS_AT_(lbs_plugin_entry, get_extension, 72);
LBS_SIZE_(lbs_plugin_entry, 80);
LBS_AT_(lbs_ext_store, struct_size, 0); LBS_AT_(lbs_ext_store, reserved0, 4);
LBS_AT_(lbs_ext_store, export_json, 8); LBS_AT_(lbs_ext_store, import_json, 16);
LBS_AT_(lbs_ext_store, reset, 24);
LBS_SIZE_(lbs_ext_store, 32);
LBS_AT_(lbs_ext_fleet, struct_size, 0); LBS_AT_(lbs_ext_fleet, reserved0, 4);
LBS_AT_(lbs_ext_fleet, totals_json, 8); LBS_AT_(lbs_ext_fleet, sync, 16);
LBS_SIZE_(lbs_ext_fleet, 24);
_Static_assert(LBS_ENTRY_SIZE_V1_0 == 72, "lbsched ABI: the 1.0 entry size is fixed");
_Static_assert(LBS_DESC_SIZE_V1_0 == 56, "lbsched ABI: the 1.0 descriptor size is fixed");
_Static_assert(LBS_DEVICE_SIZE_V1_0 == 72, "lbsched ABI: the 1.0 device size is fixed");
_Static_assert(LBS_WORKER_SIZE_V1_0 == 128, "lbsched ABI: the 1.0 worker size is fixed");
_Static_assert(LBS_WORKLOAD_SIZE_V1_0 == 208, "lbsched ABI: the 1.0 workload size is fixed");
_Static_assert(LBS_SELECTION_SIZE_V1_0 == 56, "lbsched ABI: the 1.0 selection size is fixed");
_Static_assert(LBS_OUTCOME_SIZE_V1_0 == 64, "lbsched ABI: the 1.0 outcome size is fixed");
_Static_assert(LBS_HOST_SIZE_V1_0 == 56, "lbsched ABI: the 1.0 host API size is fixed");
_Static_assert(LBS_DEVICE_SIZE_V1_1 == 88, "lbsched ABI: the 1.1 device size is fixed");
_Static_assert(LBS_WORKER_SIZE_V1_1 == 144, "lbsched ABI: the 1.1 worker size is fixed");
_Static_assert(LBS_WORKLOAD_SIZE_V1_1 == 224, "lbsched ABI: the 1.1 workload size is fixed");
#undef LBS_AT_
#undef LBS_SIZE_
#endif

#ifdef __cplusplus
}
#endif

#endif /* LBSCHED_ABI_H */
