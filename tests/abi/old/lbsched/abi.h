/*
 * An OLDER, SMALLER copy of lbsched/abi.h, frozen for the compatibility
 * test: a plugin built against it must keep loading and working in the
 * current host.  Compared with the current header its scheduler descriptor
 * stops after the required slots (no score, report, workers_changed, stats,
 * explain) and it knows only a prefix of the worker, device and workload
 * structs.  Every field it does have sits at the same offset as in the
 * current header; never edit this file except to mirror a real old release.
 */
#ifndef LBSCHED_ABI_H
#define LBSCHED_ABI_H

#include <stddef.h>
#include <stdint.h>

#define LBS_ABI_MAJOR 1
#define LBS_ABI_MINOR 0
#define LBS_EXPORT __attribute__((visibility("default")))

typedef int32_t lbs_status;
#define LBS_OK 0
#define LBS_NO_WORKER 1
#define LBS_EINVAL (-1)
#define LBS_ENOMEM (-2)
#define LBS_ECONFIG (-3)

typedef struct lbs_device {
	uint32_t struct_size;
	uint32_t hw_class;
	uint32_t arch;
	uint32_t vendor;
	const char *model_name;
	uint64_t backends;
	uint32_t precisions;
	uint32_t features;
	uint64_t mem_total_bytes;
	uint64_t mem_available_bytes;
} lbs_device;

typedef struct lbs_worker {
	uint32_t struct_size;
	uint32_t n_devices;
	const char *id;
	const lbs_device *const *devices;
} lbs_worker;

typedef struct lbs_workload {
	uint32_t struct_size;
	uint32_t type;
	const char *id;
	const char *test_type;
	const char *model_id;
	uint64_t required_backends;
	uint32_t required_precisions;
	uint32_t required_features;
	uint64_t min_memory_bytes;
	uint32_t min_compute_units;
	uint32_t n_required_accels;
	const char *const *required_accel_kinds;
	const uint32_t *required_accel_counts;
	const char *const *exclude_ids;
	uint32_t n_exclude;
} lbs_workload;

typedef struct lbs_selection {
	uint32_t struct_size;
	uint32_t capacity;
	uint32_t *indices;
	const char **ids;
	uint32_t n_selected;
	uint32_t reserved0;
	uint64_t cookie;
	char *reason;
	size_t reason_len;
} lbs_selection;

typedef struct lbs_host_api {
	uint32_t struct_size;
	uint32_t abi_major;
	uint32_t abi_minor;
	uint32_t reserved0;
	const char *host_name;
	const char *host_version;
	void *host_data;
	void (*log)(void *host_data, int32_t level, const char *msg);
	uint64_t (*now_ns)(void *host_data);
} lbs_host_api;

typedef struct lbs_scheduler_desc {
	uint32_t struct_size;
	uint32_t reserved0;
	const char *name;
	const char *description;
	uint64_t caps;
	lbs_status (*create)(const lbs_host_api *host, const char *config,
	                     size_t config_len, void **out, char *err, size_t errlen);
	void (*destroy)(void *inst);
	lbs_status (*select)(void *inst, const lbs_workload *workload,
	                     const lbs_worker *const *workers, uint32_t n_workers,
	                     lbs_selection *out);
} lbs_scheduler_desc;

typedef struct lbs_plugin_entry {
	uint32_t struct_size;
	uint32_t abi_major;
	uint32_t abi_minor;
	uint32_t reserved0;
	const char *plugin_name;
	const char *plugin_version;
	lbs_status (*init)(const lbs_host_api *host, char *err, size_t errlen);
	void (*deinit)(void);
	uint32_t (*scheduler_count)(void);
	const lbs_scheduler_desc *(*scheduler_get)(uint32_t index);
	const lbs_scheduler_desc *(*scheduler_find)(const char *name);
} lbs_plugin_entry;

#endif
