/*
 * least_loaded.c -- a complete third-party lbsched plugin, written from
 * abi/lbsched/abi.h alone.  One scheduler, "least-loaded": among the
 * workers that meet every hard requirement of the workload, the one with
 * the fewest tests per slot ((active + queued) / capacity), ties to the
 * earlier worker; for sharded and replicated work, the min_shards ..
 * max_shards least loaded, all distinct.  Like nginx's least_conn, it
 * knows nothing of hardware speed: it only spreads work over what fits.
 *
 * Build, from the top of the source tree (or with
 * $(pkg-config --cflags lbsched) in place of -I abi once installed):
 *
 *   cc -shared -fPIC -fvisibility=hidden -I abi \
 *       examples/plugin/least_loaded.c -o least_loaded.so
 *   lbsched-shim check least_loaded.so
 *   lbsched-shim decide --plugin ./least_loaded.so --scheduler least-loaded \
 *       --workers examples/fleet.json --tests examples/tests.jsonl
 *
 * Threads: it claims LBS_CAP_MULTI (it answers sharded and replicated
 * work) but not LBS_CAP_CONCURRENT, so the host serialises select and
 * report per instance and the one thing an instance changes, its next
 * cookie, needs no lock.  It has no global state at all, so init and
 * deinit (reference-counted by the host) have nothing to count.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lbsched/abi.h>

struct instance {
	uint64_t next_cookie; /* the name of the next decision; never 0 */
};

/* Bits a device offers must include every bit required; a required OTHER
 * bit names something unknown and is never met (abi.h's rule). */
static int bits_met(uint64_t have, uint64_t need, uint64_t other)
{
	return !(need & other) && (have & need) == need;
}

/* Device d lists backend `name`.  A 1.0 device ends before the names. */
static int device_has_name(const lbs_device *d, const char *name)
{
	if (!LBS_HAS_FIELD(d, lbs_device, n_backend_names) || !d->backend_names)
		return 0;
	for (uint32_t i = 0; i < d->n_backend_names; i++)
		if (d->backend_names[i] && strcmp(d->backend_names[i], name) == 0)
			return 1;
	return 0;
}

/* One device meets every device requirement: they must all hold on the
 * same device (a GPU's CUDA with a CPU's memory is no match). */
static int device_ok(const lbs_workload *wl, const lbs_worker *w, const lbs_device *d)
{
	/* A 1.0 workload ends before the names: none required. */
	uint32_t n_names = LBS_HAS_FIELD(wl, lbs_workload, n_required_backend_names)
	                   ? wl->n_required_backend_names : 0;
	/* free memory: available less what the worker promised to running
	 * work (reserved_memory_bytes), never below 0 */
	uint64_t mem = d->mem_available_bytes > w->reserved_memory_bytes
	               ? d->mem_available_bytes - w->reserved_memory_bytes : 0;

	if (!bits_met(d->backends, wl->required_backends, LBS_BACKEND_OTHER) ||
	    !bits_met(d->precisions, wl->required_precisions, LBS_PREC_OTHER) ||
	    !bits_met(d->features, wl->required_features, LBS_FEAT_OTHER) ||
	    wl->min_memory_bytes > mem ||
	    wl->min_compute_units > d->compute_units)
		return 0;
	if (n_names && !wl->required_backend_names)
		return 0; /* a count with no array is never met */
	for (uint32_t i = 0; i < n_names; i++)
		if (!wl->required_backend_names[i] ||
		    !device_has_name(d, wl->required_backend_names[i]))
			return 0;
	return 1;
}

/* Accelerators of `kind` on w not promised to running work.  Kinds listed
 * twice add up; a reservation above its count leaves none free. */
static uint64_t accels_free(const lbs_worker *w, const char *kind)
{
	const uint32_t *res = LBS_HAS_FIELD(w, lbs_worker, accel_reserved)
	                      ? w->accel_reserved : NULL;
	uint64_t n = 0;

	if (!w->accel_kinds || !w->accel_counts)
		return 0;
	for (uint32_t j = 0; j < w->n_accels; j++) {
		uint32_t r = res ? res[j] : 0;

		if (w->accel_kinds[j] && strcmp(w->accel_kinds[j], kind) == 0 &&
		    w->accel_counts[j] > r)
			n += w->accel_counts[j] - r;
	}
	return n;
}

/* Why a worker was turned away, counted for the reason sentence. */
enum { REJ_EXCLUDED, REJ_DEVICE, REJ_ACCEL, REJ_N };

/* -1 when w meets every hard requirement, else the REJ_* it failed. */
static int rejected(const lbs_workload *wl, const lbs_worker *w)
{
	int device = 0;

	for (uint32_t i = 0; i < wl->n_exclude; i++)
		if (wl->exclude_ids[i] && strcmp(wl->exclude_ids[i], w->id) == 0)
			return REJ_EXCLUDED;
	for (uint32_t i = 0; i < w->n_devices && !device; i++)
		device = device_ok(wl, w, w->devices[i]);
	if (!device)
		return REJ_DEVICE;
	if (wl->n_required_accels &&
	    (!wl->required_accel_kinds || !wl->required_accel_counts))
		return REJ_ACCEL; /* a requirement we cannot read is not met */
	for (uint32_t i = 0; i < wl->n_required_accels; i++) {
		uint32_t need = wl->required_accel_counts[i];

		if (need && (!wl->required_accel_kinds[i] ||
		             accels_free(w, wl->required_accel_kinds[i]) < need))
			return REJ_ACCEL;
	}
	return -1;
}

/* Tests per slot.  capacity 0 means 1.  Division is exact enough: equal
 * fractions (1/2, 2/4) give equal doubles, so ties stay ties. */
static double load_of(const lbs_worker *w)
{
	uint32_t cap = w->capacity ? w->capacity : 1;

	return ((double)w->active_tests + (double)w->queued_tests) / cap;
}

/* A worker the host should never have sent: EINVAL rather than reading
 * past the end of a struct or through a NULL. */
static int worker_valid(const lbs_worker *w)
{
	if (!w || w->struct_size < LBS_WORKER_SIZE_V1_0 || !w->id || !w->id[0] ||
	    (w->n_devices && !w->devices))
		return 0;
	for (uint32_t i = 0; i < w->n_devices; i++)
		if (!w->devices[i] || w->devices[i]->struct_size < LBS_DEVICE_SIZE_V1_0)
			return 0;
	return 1;
}

/* Put worker i into the best-first list best[0 .. *n), at most `keep`
 * long.  i comes after every worker already listed, so it goes behind
 * those of equal load: ties go to the earlier position. */
static void keep_best(uint32_t *best, uint32_t *n, uint32_t keep,
                      const lbs_worker *const *workers, uint32_t i)
{
	double load = load_of(workers[i]);
	uint32_t at = *n;

	while (at > 0 && load_of(workers[best[at - 1]]) > load)
		at--;
	if (at >= keep)
		return;
	if (*n < keep)
		(*n)++;
	memmove(&best[at + 1], &best[at], (*n - 1 - at) * sizeof *best);
	best[at] = i;
}

static lbs_status ll_select(void *inst, const lbs_workload *wl,
                            const lbs_worker *const *workers, uint32_t n_workers,
                            lbs_selection *out)
{
	struct instance *self = inst;
	uint32_t lo = 1, hi = 1, n = 0, eligible = 0, rej[REJ_N] = {0};

	/* The selection is checked first: it is where every answer goes. */
	if (!self || !out || out->struct_size < LBS_SELECTION_SIZE_V1_0)
		return LBS_EINVAL;
	out->n_selected = 0;
	if (out->reason && out->reason_len)
		out->reason[0] = '\0';
	if (!wl || wl->struct_size < LBS_WORKLOAD_SIZE_V1_0 || (n_workers && !workers) ||
	    (wl->n_exclude && !wl->exclude_ids) || wl->allocation > LBS_ALLOC_REPLICATED)
		return LBS_EINVAL; /* an allocation a later minor adds: never a guess */
	if (wl->allocation != LBS_ALLOC_SINGLE) {
		/* SINGLE is one worker whatever the shard fields say */
		if (wl->min_shards < 1 || wl->max_shards < wl->min_shards)
			return LBS_EINVAL;
		lo = wl->min_shards;
		hi = wl->max_shards;
	}
	if (out->capacity < lo || !out->indices || !out->ids)
		return LBS_EINVAL;
	if (hi > out->capacity)
		hi = out->capacity; /* never write past the caller's arrays */

	/* One pass: the caller's indices array holds the best so far, so
	 * select allocates nothing. */
	for (uint32_t i = 0; i < n_workers; i++) {
		int why;

		if (!worker_valid(workers[i]))
			return LBS_EINVAL;
		if ((why = rejected(wl, workers[i])) >= 0) {
			rej[why]++;
			continue;
		}
		eligible++;
		keep_best(out->indices, &n, hi, workers, i);
	}
	if (n < lo) {
		if (out->reason && out->reason_len)
			snprintf(out->reason, out->reason_len,
			         "least-loaded: %u of %u workers meet every requirement, %u "
			         "needed (%u excluded, %u without a matching device, %u "
			         "without the accelerators)", eligible, n_workers, lo,
			         rej[REJ_EXCLUDED], rej[REJ_DEVICE], rej[REJ_ACCEL]);
		return LBS_NO_WORKER;
	}
	for (uint32_t k = 0; k < n; k++)
		out->ids[k] = workers[out->indices[k]]->id; /* the host's own text */
	out->n_selected = n;
	/* 0 is the host's "not yours": skip it when the counter wraps. */
	out->cookie = self->next_cookie++;
	if (out->cookie == 0)
		out->cookie = self->next_cookie++;
	if (out->reason && out->reason_len) {
		const lbs_worker *w = workers[out->indices[0]];

		snprintf(out->reason, out->reason_len,
		         "least-loaded: %s, %u running and %u queued on %u slot(s), the "
		         "least loaded of %u eligible (%u chosen)", w->id, w->active_tests,
		         w->queued_tests, w->capacity ? w->capacity : 1, eligible, n);
	}
	return LBS_OK;
}

/* It learns nothing, but checks what it is given: any cookie is fine,
 * one it never issued included. */
static lbs_status ll_report(void *inst, const lbs_outcome *o)
{
	if (!inst || !o || o->struct_size < LBS_OUTCOME_SIZE_V1_0 || !o->worker_id)
		return LBS_EINVAL;
	return LBS_OK;
}

static size_t skip_space(const char *s, size_t i, size_t len)
{
	while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
		i++;
	return i;
}

/* No config fields: NULL, blank, or an empty JSON object "{}".  The text
 * is config_len bytes, not necessarily NUL-terminated. */
static lbs_status ll_create(const lbs_host_api *host, const char *config,
                            size_t len, void **out, char *err, size_t errlen)
{
	struct instance *self;
	size_t i = config ? skip_space(config, 0, len) : len;

	(void)host; /* nothing to log: it needs no host service */
	if (!out)
		return LBS_EINVAL;
	*out = NULL;
	if (i < len && config[i] == '{') {
		i = skip_space(config, i + 1, len);
		/* "{" alone is no config: i stays short of len */
		i = i < len && config[i] == '}' ? skip_space(config, i + 1, len) : len + 1;
	}
	if (i != len) {
		if (err && errlen)
			snprintf(err, errlen, "config: least-loaded takes no fields; give {} "
			         "or nothing");
		return LBS_ECONFIG;
	}
	if (!(self = calloc(1, sizeof *self)))
		return LBS_ENOMEM;
	self->next_cookie = 1;
	*out = self;
	return LBS_OK;
}

static void ll_destroy(void *inst)
{
	free(inst);
}

static const lbs_scheduler_desc least_loaded = {
	.struct_size = sizeof(lbs_scheduler_desc),
	.name = "least-loaded",
	.description = "The eligible worker with the fewest tests per slot, "
	               "like nginx's least_conn.",
	.caps = LBS_CAP_MULTI,
	.create = ll_create,
	.destroy = ll_destroy,
	.select = ll_select,
	.report = ll_report, /* score, workers_changed, stats, explain: NULL */
};

static lbs_status e_init(const lbs_host_api *host, char *err, size_t errlen)
{
	if (!host)
		return LBS_EINVAL;
	if (host->struct_size < LBS_HOST_SIZE_V1_0 || host->abi_major != LBS_ABI_MAJOR) {
		if (err && errlen)
			snprintf(err, errlen, "least-loaded needs a host of ABI %d.x",
			         LBS_ABI_MAJOR);
		return LBS_EVERSION;
	}
	return LBS_OK;
}

static void e_deinit(void)
{
}

static uint32_t e_count(void)
{
	return 1;
}

static const lbs_scheduler_desc *e_get(uint32_t i)
{
	return i == 0 ? &least_loaded : NULL;
}

static const lbs_scheduler_desc *e_find(const char *name)
{
	return name && strcmp(name, least_loaded.name) == 0 ? &least_loaded : NULL;
}

static const lbs_plugin_entry entry = {
	.struct_size = sizeof(lbs_plugin_entry),
	.abi_major = LBS_ABI_MAJOR,
	.abi_minor = LBS_ABI_MINOR,
	.plugin_name = "example-least-loaded",
	.plugin_version = "1.0.0",
	.init = e_init,
	.deinit = e_deinit,
	.scheduler_count = e_count,
	.scheduler_get = e_get,
	.scheduler_find = e_find,
	/* .get_extension NULL: no extensions */
};

/* The one exported symbol (LBS_ENTRY_SYMBOL); it does no work. */
LBS_EXPORT const lbs_plugin_entry *lbs_plugin_entry_v1(void);
const lbs_plugin_entry *lbs_plugin_entry_v1(void)
{
	return &entry;
}
