/*
 * convert_load.c -- a worker's load (the original's WorkerLoad), from JSON
 * or from numbers: conv_fleet_load, conv_fleet_load_values and the table
 * conv_load_fields that both follow.
 */
#include <math.h>
#include <stdio.h>

#include "convert_field.h"
#include "text.h"

/* ===== Loads ==============================================================
 * A worker's "load": what changes on every decision, read either from the
 * object inside its record or, for a host that keeps its fleet converted,
 * from numbers (conv_fleet_load_values).  Both go through cv_load_apply() so
 * that they check the same things in the same order with the same words.
 */

const conv_field conv_load_fields[] = {
	/* the numeric form's slots, in the order they are checked */
	{"cpu_utilization", CONV_NUMBER, 0, 100, "percent"},
	{"memory_utilization", CONV_NUMBER, 0, 100, "percent"},
	{"gpu_utilization", CONV_NUMBER, 0, 100, "percent"},
	{"io_utilization", CONV_NUMBER, 0, 100, "percent"},
	{"network_utilization", CONV_NUMBER, 0, 100, "percent"},
	{"active_tests", CONV_INTEGER, 0, MAX_COUNT, NULL},
	{"queued_tests", CONV_INTEGER, 0, MAX_COUNT, NULL},
	{"reserved_memory", CONV_NUMBER, 0, MAX_GB, "GB"},
	{"warming_state", CONV_BOOL, 0, 0, NULL},
	{"cooling_state", CONV_BOOL, 0, 0, NULL},
	{"performance_level", CONV_NUMBER, 0, 1, NULL},
	{"temperature", CONV_NUMBER, 0, 1, NULL},
	/* the original WorkerLoad's bookkeeping, checked and ignored */
	{"queue_depth", CONV_INTEGER, CONV_NULLABLE, MAX_COUNT, NULL},
	/* lbsched's own: the work ahead in seconds (ABI 1.1 pending_work_s);
	 * absent or null = not known */
	{"pending_work", CONV_NUMBER, CONV_NULLABLE, MAX_SECONDS, "s"},
	/* not numbers: only in a JSON load */
	{"reserved_accelerators", CONV_OBJECT, CONV_NULLABLE, 0, NULL},
	/* the original WorkerLoad's bookkeeping, checked and ignored */
	{"worker_id", CONV_STRING, CONV_NULLABLE, 0, NULL},
	{"last_updated", CONV_SCALAR, CONV_NULLABLE, 0, NULL},
	{"active_test_ids", CONV_ARRAY, CONV_NULLABLE, 0, NULL},
	{"warming_until", CONV_SCALAR, CONV_NULLABLE, 0, NULL},
	{"cooling_until", CONV_SCALAR, CONV_NULLABLE, 0, NULL},
	{NULL, 0, 0, 0, NULL},
};

enum {
	LD_CPU, LD_MEMORY, LD_GPU, LD_IO, LD_NETWORK, LD_ACTIVE, LD_QUEUED,
	LD_RESERVED, LD_WARMING, LD_COOLING, LD_PERF, LD_TEMP, LD_QUEUE_DEPTH,
	LD_PENDING, LD_SLOTS
};

_Static_assert(LD_SLOTS == CONV_LOAD_SLOTS, "conv_load_fields and LD_* agree");

#define LD_BITS ((UINT32_C(1) << LD_SLOTS) - 1)

/* A slot's value from the numeric form: what the JSON reader would have
 * accepted, or its message with the number as given. */
static int slot_value(cv *v, const conv_field *sl, const fld *f, double d,
                      double *out)
{
	char g[40];

	if (sl->kind == CONV_BOOL) {
		if (d == 0 || d == 1) {
			*out = d;
			return 1;
		}
		return cv_failf(v, f, "must be true or false, got %s",
		                cv_fmt_num(g, sizeof g, d));
	}
	if (num_in(d, 0, sl->hi, sl->kind == CONV_INTEGER)) {
		*out = d;
		return 1;
	}
	return cv_num_bad(v, f, 0, sl->hi, sl->unit, sl->kind == CONV_INTEGER,
	                  cv_fmt_num(g, sizeof g, d));
}

/* The same from a JSON member; 0 when absent. */
static int slot_json(cv *v, const conv_field *sl, const fld *f,
                     const cJSON *ld, double *out)
{
	const cJSON *it = item(ld, sl->name);
	int r = cv_absent(v, it, f, sl->flags, "");
	int b;

	if (r)
		return r < 0 ? -1 : 0;
	if (sl->kind != CONV_BOOL)
		return cv_num_value(v, it, f, 0, sl->hi, sl->unit,
		                    sl->kind == CONV_INTEGER, out);
	if (cv_bool_value(v, it, f, &b) < 0)
		return -1;
	*out = b;
	return 1;
}

static const uint32_t no_reservations_;
#define NO_RESERVATIONS (&no_reservations_)

/*
 * load.reserved_accelerators (kind -> count) as counts parallel to w's
 * accel_kinds, in the arena; *out stays NULL when the field is absent or
 * null, and is NO_RESERVATIONS when nothing is reserved.  Each kind must be
 * one the worker has (ignoring case, as its available_accelerators) and
 * its count at most the worker's, except that reserving 0 of anything is
 * nothing.
 */
static int reserved_accels(cv *v, const cJSON *ld, const lbs_worker *w,
                           const uint32_t **out)
{
	const cJSON *m;
	char s[160];
	uint32_t *counts = NULL;
	size_t n = 0;
	int r = cv_get_obj(v, ld, "reserved_accelerators", "load", NULLABLE, &m);

	if (r <= 0)
		return r;
	/* counted first, as cv_accel_map does: the check of kinds given
	 * twice is quadratic */
	for (const cJSON *e = m->child; e; e = e->next)
		n++;
	if (n > MAX_ACCEL_KINDS)
		return cv_failf(v, FLD("load", "reserved_accelerators"),
		                "has %zu kinds, more than %d", n, MAX_ACCEL_KINDS);
	for (const cJSON *e = m->child; e; e = e->next) {
		const char *kind = e->string ? e->string : "";
		const fld field = {"load.reserved_accelerators", kind, NULL, -1};
		uint32_t j = 0;
		double d;

		if (cv_key_name(v, FLD("load", "reserved_accelerators"), &field, kind,
		                "accelerator kind") < 0 ||
		    cv_num_value(v, e, &field, 0, MAX_COUNT, NULL, 1, &d) < 0)
			return -1;
		for (const cJSON *f = m->child; f != e; f = f->next)
			if (ieq(f->string ? f->string : "", kind))
				return cv_failf(v, &field, "accelerator kind given more "
				                           "than once (kinds ignore case)");
		while (j < w->n_accels && !ieq(w->accel_kinds[j], kind))
			j++;
		if (d == 0)
			continue;
		/* The original's live records hold both (a TPU test it placed
		 * on a worker without one reserves it there, seed-behaviour
		 * F4; its service over-commits, F11): what the worker lacks
		 * reserves nothing, and more than it has is all of it.
		 * Refused, one worker's load stopped the whole fleet. */
		if (j == w->n_accels) {
			cv_warn(v, "field 'load.reserved_accelerators.%s': the worker has no '%s' "
			        "accelerator (available_accelerators): ignored",
			        txt_show(s, sizeof s, kind), s);
			continue;
		}
		if (d > w->accel_counts[j]) {
			cv_warn(v, "field 'load.reserved_accelerators.%s': reserves %.0f, more "
			        "than the %u the worker has: taken as all of them",
			        txt_show(s, sizeof s, kind), d, w->accel_counts[j]);
			d = w->accel_counts[j];
		}
		if (!counts && !(counts = arena_alloc(v->c->arena, w->n_accels *
		                                                   sizeof *counts)))
			return cv_oom(v);
		counts[j] = (uint32_t)d;
	}
	*out = counts ? counts : NO_RESERVATIONS;
	return 1;
}

/*
 * One load onto w: from the object `ld`, or (ld NULL) from `vals`, the
 * values of the slots `given` has bits for, in slot order.  Everything is
 * checked before w changes.  Fields not given leave w as it was, except
 * the thermal state, which every load sets (neither flag: normal).
 */
int cv_load_apply(cv *v, const cJSON *ld, uint32_t given,
                  const double *vals, lbs_worker *w)
{
	double val[LD_SLOTS] = {0};
	const uint32_t *reserved = NULL;
	uint32_t have = 0;
	uint64_t resv = 0;
	const char *lid = NULL;
	char s[160];
	size_t k = 0;

	if (ld && cv_check_names(v, ld, "load", &conv_load_fields[0].name,
	                         sizeof conv_load_fields[0], 1) < 0)
		return -1;
	for (int i = 0; i < LD_SLOTS; i++) {
		const conv_field *sl = &conv_load_fields[i];
		const fld f = {"load", sl->name, NULL, -1};
		int r;

		/* the record's own id is checked before its queue depth */
		if (i == LD_QUEUE_DEPTH && ld &&
		    cv_get_str(v, ld, "worker_id", "load", NULLABLE, &lid) < 0)
			return -1;
		if (ld)
			r = slot_json(v, sl, &f, ld, &val[i]);
		else
			r = given >> i & 1 ? slot_value(v, sl, &f, vals[k++], &val[i]) : 0;
		if (r < 0)
			return -1;
		if (r)
			have |= UINT32_C(1) << i;
		if (i == LD_COOLING && val[LD_WARMING] != 0 && val[LD_COOLING] != 0)
			return cv_fail(v, "load.cooling_state",
			               "cannot be true together with warming_state");
	}
	/* Promised more than the worker has: the original's service
	 * over-commits (it ignores reserve_resources' answer,
	 * seed-behaviour F11), and its live records say so.  Such a worker
	 * is full, said in a warning; refused, one worker's load stopped
	 * the whole fleet. */
	if (have >> LD_RESERVED & 1) {
		uint64_t most = 0;
		char g[64], g2[64];

		for (uint32_t j = 0; j < w->n_devices; j++)
			if (w->devices[j] && w->devices[j]->mem_available_bytes > most)
				most = w->devices[j]->mem_available_bytes;
		resv = gb_bytes(val[LD_RESERVED]);
		if (resv > most) {
			/* to the microgigabyte: the bytes of 7.2 GB read
			 * 7.199999999254942 */
			cv_warn(v, "field 'load.reserved_memory': %s GB is more than the worker's "
			        "free memory (%s GB): taken as all of it",
			        cv_fmt_num(g, sizeof g, val[LD_RESERVED]),
			        cv_fmt_num(g2, sizeof g2, round((double)most / GIB * 1e6) / 1e6));
			resv = most;
		}
	}
	if (ld && (cv_loose(v, ld, "last_updated", "load", L_SCALAR) < 0 ||
	           cv_loose(v, ld, "active_test_ids", "load", L_ARRAY) < 0 ||
	           reserved_accels(v, ld, w, &reserved) < 0 ||
	           cv_loose(v, ld, "warming_until", "load", L_SCALAR) < 0 ||
	           cv_loose(v, ld, "cooling_until", "load", L_SCALAR) < 0))
		return -1;
	if (lid && strcmp(lid, w->id) != 0)
		cv_warn(v, "field 'load.worker_id': '%s' is not this worker's id, "
		           "the load is applied to this worker anyway",
		        txt_show(s, sizeof s, lid));

	double *util[] = {&w->util_cpu, &w->util_memory, &w->util_gpu,
	                  &w->util_io, &w->util_network};
	for (int i = LD_CPU; i <= LD_NETWORK; i++)
		if (have >> i & 1)
			*util[i - LD_CPU] = val[i] / 100;
	if (have >> LD_ACTIVE & 1)
		w->active_tests = (uint32_t)val[LD_ACTIVE];
	if (have >> LD_QUEUED & 1)
		w->queued_tests = (uint32_t)val[LD_QUEUED];
	if (have >> LD_RESERVED & 1)
		w->reserved_memory_bytes = resv;
	w->thermal_state = val[LD_WARMING] != 0   ? LBS_THERMAL_WARMING
	                   : val[LD_COOLING] != 0 ? LBS_THERMAL_COOLING
	                                          : LBS_THERMAL_NORMAL;
	if (have >> LD_PERF & 1)
		w->performance_level = val[LD_PERF];
	if (have >> LD_TEMP & 1)
		w->temperature = val[LD_TEMP];
	if (have >> LD_PENDING & 1)
		w->pending_work_s = val[LD_PENDING];
	if (reserved)
		w->accel_reserved = reserved != NO_RESERVATIONS ? reserved : NULL;
	return 0;
}

int conv_fleet_load(conv_ctx *c, const char *file, uint32_t i,
                    const cJSON *load, lbs_worker *w)
{
	cv v = {c, file ? file : "fleet", (long)i, 0};

	if (!c || !w)
		return -1;
	if (!load || cJSON_IsNull(load))
		return 0;
	if (cv_kind_value(&v, load, FLD(NULL, "load"), NULLABLE, 0) < 0)
		return -1;
	return cv_load_apply(&v, load, 0, NULL, w);
}

int conv_fleet_load_values(conv_ctx *c, const char *file, uint32_t i,
                           uint32_t given, const double *vals, lbs_worker *w)
{
	cv v = {c, file ? file : "fleet", (long)i, 0};

	if (!c || !w || ((given & LD_BITS) && !vals))
		return -1;
	if (given & ~(LD_BITS | CONV_LOAD_GIVEN))
		return cv_fail(&v, "load", "the given mask 0x%lx has bits for no "
		                           "field", (unsigned long)given);
	if (!given)
		return 0;
	return cv_load_apply(&v, NULL, given, vals, w);
}

