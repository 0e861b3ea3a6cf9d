/*
 * eligible.c -- the hard filter and the load figure.
 *
 * This runs for every worker on every select, so the common case (a worker
 * that passes) is kept to a handful of compares: optional checks are skipped
 * when the workload asks for nothing, and the device loop stops at the first
 * device that passes unless the caller wants the full device mask.
 */
#include "eligible.h"

#include <string.h>

#include "taxonomy.h"

double worker_load(const lbs_worker *w)
{
	return elig_load(w);
}

double worker_effective_load(const lbs_worker *w)
{
	return worker_effective_load_of(w, worker_load(w));
}

double worker_effective_load_of(const lbs_worker *w, double load)
{
	return elig_effective_load(w, load);
}

int elig_is_excluded(const lbs_workload *wl, const char *id)
{
	if (!id || !wl->exclude_ids)
		return 0;
	for (uint32_t i = 0; i < wl->n_exclude; i++) {
		const char *x = wl->exclude_ids[i];

		/* Comparing the first byte first keeps long exclude lists
		 * cheap: most entries differ there. */
		if (x && x[0] == id[0] && strcmp(x, id) == 0)
			return 1;
	}
	return 0;
}

/* `name` is among the device's backend names; a device from a 1.0 writer
 * has none. */
static int device_has_name(const lbs_device *d, const char *name)
{
	if (!LBS_HAS_FIELD(d, lbs_device, n_backend_names) || !d->backend_names)
		return 0;
	for (uint32_t i = 0; i < d->n_backend_names; i++) {
		const char *b = d->backend_names[i];

		if (b && b[0] == name[0] && strcmp(b, name) == 0)
			return 1;
	}
	return 0;
}

/* The first required name d lacks; "" for a requirement that cannot be
 * read (NULL array or name), which no device meets. */
static const char *name_missing(const lbs_workload *wl, const lbs_device *d)
{
	uint32_t n = elig_n_names(wl);

	if (n && !wl->required_backend_names)
		return "";
	for (uint32_t i = 0; i < n; i++) {
		const char *name = wl->required_backend_names[i];

		if (!name)
			return "";
		if (!device_has_name(d, name))
			return name;
	}
	return NULL;
}

/* How far one device gets through the device checks: ELIG_OK when it passes
 * them all, else the reason of the first it fails. */
static enum elig_reason device_check(const lbs_workload *wl, const lbs_worker *w,
                                     const lbs_device *d)
{
	uint64_t need_backends = wl->required_backends;
	uint32_t need_prec = wl->required_precisions;
	uint32_t need_feat = wl->required_features;
	uint64_t avail;

	/* An OTHER bit in a requirement names something we could not parse;
	 * a device's OTHER bit names something else we could not parse, so
	 * the two must never be taken as equal. */
	if ((need_backends & LBS_BACKEND_OTHER) ||
	    (d->backends & need_backends) != need_backends ||
	    (elig_n_names(wl) && name_missing(wl, d)))
		return ELIG_BACKEND;
	if ((need_prec & LBS_PREC_OTHER) ||
	    (d->precisions & need_prec) != need_prec)
		return ELIG_PRECISION;
	if ((need_feat & LBS_FEAT_OTHER) ||
	    (d->features & need_feat) != need_feat)
		return ELIG_FEATURE;
	avail = elig_free_memory(w, d);
	if (wl->min_memory_bytes > avail)
		return ELIG_MEMORY;
	if (wl->min_compute_units > d->compute_units)
		return ELIG_COMPUTE;
	return ELIG_OK;
}

/* Every device through device_check: ELIG_OK when one passes, else the
 * furthest reason any device reached. */
static enum elig_reason devices_check(const lbs_workload *wl, const lbs_worker *w,
                                      uint64_t *device_mask)
{
	enum elig_reason furthest = ELIG_BACKEND;
	uint64_t mask = 0;
	int usable = 0, passed = 0;

	for (uint32_t i = 0; i < w->n_devices; i++) {
		const lbs_device *d = w->devices[i];
		enum elig_reason r;

		/* A device from a writer older than 1.0 is malformed; it is
		 * skipped rather than read past its end. */
		if (!d || d->struct_size < LBS_DEVICE_SIZE_V1_0)
			continue;
		usable = 1;
		r = device_check(wl, w, d);
		if (r == ELIG_OK) {
			passed = 1;
			if (!device_mask)
				break;
			if (i < 64)
				mask |= UINT64_C(1) << i;
		} else if (r > furthest) {
			furthest = r;
		}
	}
	if (!usable)
		return ELIG_NO_DEVICE;
	if (device_mask)
		*device_mask = mask;
	return passed ? ELIG_OK : furthest;
}

uint64_t elig_accel_free(const lbs_worker *w, const char *kind)
{
	/* A 1.0 writer's worker ends before accel_reserved: nothing reserved. */
	const uint32_t *reserved = LBS_HAS_FIELD(w, lbs_worker, accel_reserved)
	                           ? w->accel_reserved : NULL;
	uint64_t have = 0;

	if (!kind || !w->accel_kinds || !w->accel_counts)
		return 0;
	/* Duplicate kinds add up: a converter may list a kind once per card
	 * model. */
	for (uint32_t j = 0; j < w->n_accels; j++) {
		const char *k = w->accel_kinds[j];
		uint32_t r = reserved ? reserved[j] : 0;

		if (k && strcmp(k, kind) == 0 && w->accel_counts[j] > r)
			have += w->accel_counts[j] - r;
	}
	return have;
}

void elig_hold(const lbs_workload *wl, lbs_worker *w, uint32_t *res)
{
	w->reserved_memory_bytes = w->reserved_memory_bytes > UINT64_MAX - wl->min_memory_bytes
	                                   ? UINT64_MAX
	                                   : w->reserved_memory_bytes + wl->min_memory_bytes;
	if (!res || !w->accel_kinds || !w->accel_counts)
		return;
	for (uint32_t k = 0; k < wl->n_required_accels; k++) {
		uint32_t need = wl->required_accel_counts[k];
		/* duplicate kinds add up, as elig_accel_free counts them */
		for (uint32_t j = 0; j < w->n_accels && need; j++) {
			uint32_t take;
			if (!wl->required_accel_kinds[k] || !w->accel_kinds[j] ||
			    strcmp(w->accel_kinds[j], wl->required_accel_kinds[k]) ||
			    w->accel_counts[j] <= res[j])
				continue;
			take = w->accel_counts[j] - res[j] < need ? w->accel_counts[j] - res[j] : need;
			res[j] += take;
			need -= take;
		}
	}
}

const char *elig_missing_name(const lbs_workload *wl, const lbs_worker *w)
{
	const char *first = NULL;

	if (!elig_n_names(wl) || !w->devices)
		return NULL;
	for (uint32_t i = 0; i < w->n_devices; i++) {
		const lbs_device *d = w->devices[i];
		const char *m;

		if (!d || d->struct_size < LBS_DEVICE_SIZE_V1_0)
			continue;
		if (!(m = name_missing(wl, d)))
			return NULL;
		if (!first)
			first = m;
	}
	return first;
}

static int has_accels(const lbs_workload *wl, const lbs_worker *w)
{
	if (!wl->required_accel_kinds || !wl->required_accel_counts)
		return 0; /* a requirement we cannot read is not met */
	for (uint32_t i = 0; i < wl->n_required_accels; i++) {
		const char *kind = wl->required_accel_kinds[i];
		uint32_t need = wl->required_accel_counts[i];

		if (need == 0)
			continue;
		if (!kind || elig_accel_free(w, kind) < need)
			return 0;
	}
	return 1;
}

/*
 * Of the devices in mask, those a required accelerator names by its class
 * ("tpu": the worker's TPUs; "cuda": its GPUs, as the converter counts
 * them): the work runs on the accelerator it asks for,
 * so it is scored there, not on a faster device of another class (a host
 * CPU).  A kind that names no class, or a class no device in mask has (an
 * accelerator the worker lists with no device for it), leaves mask as it
 * is.
 */
static uint64_t accel_devices(const lbs_workload *wl, const lbs_worker *w, uint64_t mask)
{
	uint32_t classes = 0, nd = w->n_devices < 64 ? w->n_devices : 64;
	uint64_t of = 0;

	for (uint32_t i = 0; i < wl->n_required_accels; i++) {
		int cls = wl->required_accel_counts[i]
		                  ? tax_accel_class_parse(wl->required_accel_kinds[i])
		                  : -1;

		if (cls > LBS_CLASS_UNKNOWN)
			classes |= 1u << cls;
	}
	for (uint32_t j = 0; classes && j < nd; j++)
		if (mask >> j & 1 && w->devices[j]->hw_class < 32 &&
		    classes >> w->devices[j]->hw_class & 1)
			of |= UINT64_C(1) << j;
	return of ? of : mask;
}

enum elig_reason elig_check(const lbs_workload *wl, const lbs_worker *w,
                            double ceiling, uint64_t *device_mask)
{
	enum elig_reason r;

	if (device_mask)
		*device_mask = 0;
	if (wl->n_exclude && elig_is_excluded(wl, w->id))
		return ELIG_EXCLUDED;
	if (w->n_devices == 0 || !w->devices)
		return ELIG_NO_DEVICE;

	/* Fast path: the first device that passes everything settles it.
	 * Only a failure needs the slow loop, to name the furthest reason. */
	if (!device_mask && !elig_n_names(wl) &&
	    !((wl->required_backends & LBS_BACKEND_OTHER) |
	      (wl->required_precisions & LBS_PREC_OTHER) |
	      (wl->required_features & LBS_FEAT_OTHER))) {
		for (uint32_t i = 0; i < w->n_devices; i++) {
			const lbs_device *d = w->devices[i];

			if (d && d->struct_size >= LBS_DEVICE_SIZE_V1_0 &&
			    elig_device_ok(wl, w, d))
				goto worker_checks;
		}
	}
	r = devices_check(wl, w, device_mask);
	if (r != ELIG_OK)
		return r;

worker_checks:
	if (wl->n_required_accels && !has_accels(wl, w))
		return ELIG_ACCEL;
	if (device_mask && wl->n_required_accels)
		*device_mask = accel_devices(wl, w, *device_mask);
	/* The load is at most 1, so a ceiling of 1 or more can never be
	 * exceeded and the load need not be computed. */
	if (ceiling < 1.0 && elig_load(w) > ceiling)
		return ELIG_OVERLOADED;
	return ELIG_OK;
}

const char *elig_reason_text(enum elig_reason r)
{
	switch (r) {
	case ELIG_OK:
		return "eligible";
	case ELIG_EXCLUDED:
		return "is in the workload's exclude list";
	case ELIG_NO_DEVICE:
		return "has no usable device";
	case ELIG_BACKEND:
		return "lacks a required backend";
	case ELIG_PRECISION:
		return "lacks a required precision";
	case ELIG_FEATURE:
		return "lacks a required feature";
	case ELIG_MEMORY:
		return "has too little free memory";
	case ELIG_COMPUTE:
		return "has too few compute units";
	case ELIG_ACCEL:
		return "lacks a required accelerator";
	case ELIG_OVERLOADED:
		return "is over the load ceiling";
	}
	return "is not eligible";
}
