/*
 * convert_workload.c -- test requirements (the original's TestRequirements)
 * to an lbs_workload: conv_workload, conv_workload_text.
 */
#include <stdio.h>

#include "convert_field.h"
#include "taxonomy.h"
#include "text.h"

/* ===== Workloads ========================================================== */

static const char *const workload_keys[] = {
	"test_id", "model_id", "model_family", "test_type", "workload_type",
	"minimum_memory", "required_memory_limit", "preferred_backend",
	"required_backend", "expected_duration", "priority",
	"required_accelerators", "required_accelerator_limit",
	"required_software", "timeout", "retries", "concurrency_key",
	"deadline", "exclude_workers", "custom_properties", NULL,
};

static const char *const custom_keys[] = {
	"is_shardable", "min_shards", "max_shards", "allocation_strategy",
	"preferred_class", "preferred_architecture", "preferred_vendors",
	"preferred_backends", "required_precisions", "required_features",
	"metrics", "deadline", "workload_profile", NULL,
};

/* The metrics the ABI carries, in lbs_workload order... */
static const char *const metric_names[] = {
	"compute_intensity", "memory_intensity", "io_intensity",
	"network_intensity", "latency_sensitivity", "throughput_sensitivity",
	"energy_sensitivity",
};

/* ...and the original's others, which have no place in the ABI. */
static const char *const metric_unused[] = {
	"model_size", "batch_size", "parallelism", "temperature", NULL,
};

static double *metric_slot(lbs_workload *w, size_t i)
{
	double *slots[] = {
		&w->compute_intensity,   &w->memory_intensity,
		&w->io_intensity,        &w->network_intensity,
		&w->latency_sensitivity, &w->throughput_sensitivity,
		&w->energy_sensitivity,
	};
	return slots[i];
}

static int metrics(cv *v, const cJSON *cp, lbs_workload *w)
{
	const char *prefix = "custom_properties.metrics";
	const cJSON *m;
	unsigned seen = 0;
	path p;
	int r = cv_get_obj(v, cp, "metrics", "custom_properties", NULLABLE, &m);

	if (r <= 0)
		return r;
	for (const cJSON *e = m->child; e; e = e->next) {
		const char *k = e->string ? e->string : "";
		const fld field = {prefix, k, NULL, -1};
		size_t i;
		double d;

		for (i = 0; i < sizeof metric_names / sizeof *metric_names; i++)
			if (ieq(k, metric_names[i]))
				break;
		if (i == sizeof metric_names / sizeof *metric_names) {
			int unused = 0;
			for (const char *const *u = metric_unused; *u; u++)
				unused |= ieq(k, *u);
			if (!unused)
				return cv_failf(v, &field,
				                "unknown metric (known: "
				                "compute_intensity, memory_intensity, "
				                "io_intensity, network_intensity, "
				                "latency_sensitivity, "
				                "throughput_sensitivity, "
				                "energy_sensitivity)");
			if (cv_num_value(v, e, &field, 0, 1, NULL, 0, &d) < 0)
				return -1;
			cv_warn(v, "field '%s': metric not used by lbsched, ignored",
			        cv_fld_str(&p, &field));
			continue;
		}
		if (seen & (1u << i))
			return cv_failf(v, &field, "metric given more than once "
			                           "(names ignore case)");
		seen |= 1u << i;
		if (cv_num_value(v, e, &field, 0, 1, NULL, 0, &d) < 0)
			return -1;
		*metric_slot(w, i) = d;
	}
	return 1;
}

/* Deadline at top level or in custom_properties; both is ambiguous unless
 * they agree. */
static int deadline(cv *v, const cJSON *obj, const cJSON *cp, double *out)
{
	double top = 0, inner = 0;
	int rt = cv_get_num(v, obj, "deadline", NULL, 0, MAX_SECONDS, "s",
	                    NULLABLE, &top);
	int ri = cp ? cv_get_num(v, cp, "deadline", "custom_properties", 0,
	                         MAX_SECONDS, "s", NULLABLE, &inner)
	            : 0;

	if (rt < 0 || ri < 0)
		return -1;
	if (rt > 0 && ri > 0 && top != inner)
		return cv_fail(v, "custom_properties.deadline",
		               "disagrees with the top-level deadline");
	*out = rt > 0 ? top : ri > 0 ? inner : 0;
	return 0;
}

static int custom_properties(cv *v, const cJSON *cp, lbs_workload *w)
{
	const char *pre = "custom_properties";
	const char *strategy = NULL;
	char s[160];
	int shardable = 0;
	double min = 1, max = 1;
	uint64_t set;
	int rmin, rmax, fell_back = 0;

	if (cv_check_keys(v, cp, pre, custom_keys, 0) < 0)
		return -1;
	if (item(cp, "workload_profile"))
		cv_warn(v, "field 'custom_properties.workload_profile': not "
		           "supported by lbsched, ignored (give the fields "
		           "directly)");
	if (cv_get_bool(v, cp, "is_shardable", pre, NULLABLE, &shardable) < 0)
		return -1;
	rmin = cv_get_int(v, cp, "min_shards", pre, 1, MAX_SHARDS, NULLABLE, &min);
	if (rmin < 0)
		return -1;
	rmax = cv_get_int(v, cp, "max_shards", pre, 1, MAX_SHARDS, NULLABLE, &max);
	if (rmax < 0)
		return -1;
	if (!rmax)
		max = min; /* "min_shards: 2" alone means exactly two */
	if (max < min)
		return cv_fail(v, "custom_properties.max_shards",
		               "must be >= min_shards (%.0f), got %.0f", min, max);
	if (cv_get_str(v, cp, "allocation_strategy", pre, NULLABLE, &strategy) < 0)
		return -1;

	w->allocation = LBS_ALLOC_SINGLE;
	if (strategy && ieq(strategy, "sharded")) {
		if (shardable) {
			w->allocation = LBS_ALLOC_SHARDED;
		} else {
			cv_warn(v, "field 'custom_properties.allocation_strategy': "
			           "'sharded' without is_shardable true, placed on "
			           "a single worker");
			fell_back = 1;
		}
	} else if (strategy && ieq(strategy, "replicated")) {
		w->allocation = LBS_ALLOC_REPLICATED;
	} else if (strategy && !ieq(strategy, "single")) {
		return cv_fail(v, "custom_properties.allocation_strategy",
		               "must be \"single\", \"sharded\" or \"replicated\", "
		               "got \"%s\"", txt_show(s, sizeof s, strategy));
	}
	if (w->allocation == LBS_ALLOC_SINGLE) {
		if (!fell_back && rmin > 0 && min != 1)
			cv_warn(v, "field 'custom_properties.min_shards': ignored, "
			           "the workload runs on a single worker");
		if (!fell_back && rmax > 0 && max != 1)
			cv_warn(v, "field 'custom_properties.max_shards': ignored, "
			           "the workload runs on a single worker");
		w->min_shards = w->max_shards = 1;
	} else {
		w->min_shards = (uint32_t)min;
		w->max_shards = (uint32_t)max;
	}

	if (cv_scalar_name(v, cp, "preferred_class", pre, SC_CLASS, 1,
	                   &w->preferred_class) < 0 ||
	    cv_scalar_name(v, cp, "preferred_architecture", pre, SC_ARCH, 1,
	                   &w->preferred_arch) < 0)
		return -1;

	/* Vendors are a set of (1 << vendor), not a taxonomy bit set. */
	const cJSON *vendors;
	if (cv_get_arr(v, cp, "preferred_vendors", pre, NULLABLE, &vendors) < 0)
		return -1;
	size_t i = 0;
	for (const cJSON *e = vendors ? vendors->child : NULL; e; e = e->next, i++) {
		path p;
		const char *name;
		const fld field = {"custom_properties.preferred_vendors", NULL,
		                   NULL, (long)i};
		if (cv_str_value(v, e, &field, NONEMPTY, &name) < 0)
			return -1;
		int vd = tax_vendor_parse(name);
		if (vd < 0)
			cv_warn(v, "field '%s': unknown vendor '%s', preference "
			           "ignored", cv_fld_str(&p, &field),
			        txt_show(s, sizeof s, name));
		else
			w->preferred_vendors |= UINT64_C(1) << vd;
	}

	set = 0;
	if (cv_name_set(v, cp, "preferred_backends", pre, S_BACKEND, 1, &set) < 0)
		return -1;
	w->preferred_backends |= set;
	set = 0;
	if (cv_name_set(v, cp, "required_precisions", pre, S_PRECISION, 0, &set) < 0)
		return -1;
	w->required_precisions = (uint32_t)set;
	set = 0;
	if (cv_name_set(v, cp, "required_features", pre, S_FEATURE, 0, &set) < 0)
		return -1;
	w->required_features = (uint32_t)set;
	return metrics(v, cp, w) < 0 ? -1 : 0;
}

/* A required backend outside the taxonomy: required by name.  Said for
 * a backend field always, for software only when it is a likely typo of
 * a backend: most software (numpy, a driver) is no backend at all, and
 * the original met it by the name alone, as this does. */
static int require_name(cv *v, const fld *f, const char *what,
                        const char *name, names *req, int typo_only)
{
	const char *near = tax_backend_near(name);
	path p;
	char s[160];

	if (near || !typo_only)
		cv_warn(v, "field '%s': %s '%s' is not in the taxonomy, required by name%s%s%s",
		        cv_fld_str(&p, f), what, txt_show(s, sizeof s, name),
		        near ? " (one typo from '" : "", near ? near : "", near ? "')" : "");
	return cv_names_add(v, req, cv_fld_str(&p, f), name);
}

static int required_software(cv *v, const cJSON *obj, lbs_workload *w,
                             names *req)
{
	const cJSON *m;
	const char *ver;
	int r = cv_get_obj(v, obj, "required_software", NULL, NULLABLE, &m);

	if (r <= 0)
		return r;
	for (const cJSON *e = m->child; e; e = e->next) {
		const char *name = e->string ? e->string : "";
		const fld field = {"required_software", name, NULL, -1};
		if (cv_str_value(v, e, &field, 0, &ver) < 0)
			return -1;
		if (cv_key_name(v, FLD(NULL, "required_software"), &field, name,
		                "software name") < 0)
			return -1;
		if (item(m, name) != e)
			return cv_failf(v, &field, "is given more than once");
		uint64_t bit = tax_backend_parse(name);
		if (bit)
			w->required_backends |= bit;
		else if (require_name(v, &field, "required_software", name, req, 1) < 0)
			return -1;
	}
	return 0;
}

static int exclude_workers(cv *v, const cJSON *obj, lbs_workload *w)
{
	const cJSON *arr;
	size_t n = 0, i = 0;
	int r = cv_get_arr(v, obj, "exclude_workers", NULL, NULLABLE, &arr);

	if (r <= 0)
		return r;
	for (const cJSON *e = arr->child; e; e = e->next)
		n++;
	if (!n)
		return 0;
	if (n > CONV_MAX_EXCLUDE)
		return cv_fail(v, "exclude_workers", "lists %zu ids, more than %d", n,
		               CONV_MAX_EXCLUDE);
	const char **ids = arena_alloc(v->c->arena, n * sizeof *ids);
	if (!ids)
		return cv_oom(v);
	for (const cJSON *e = arr->child; e; e = e->next, i++) {
		const char *id;
		const fld field = {"exclude_workers", NULL, NULL, (long)i};
		if (cv_str_value(v, e, &field, NONEMPTY, &id) < 0)
			return -1;
		if (!(ids[i] = arena_strdup(v->c->arena, id)))
			return cv_oom(v);
	}
	w->exclude_ids = ids;
	w->n_exclude = (uint32_t)n;
	return 0;
}

/* A backend name in required_backend / preferred_backend: "" means none,
 * as it did in the original (a falsy string).  A required one outside the
 * taxonomy goes to `req` (NULL for a preference). */
static int one_backend(cv *v, const cJSON *obj, const char *key,
                       names *req, uint64_t *out)
{
	const char *name;
	int r = cv_get_str(v, obj, key, NULL, NULLABLE, &name);

	if (r <= 0 || !*name)
		return r < 0 ? -1 : 0;
	if (req && !tax_backend_parse(name))
		return require_name(v, FLD(NULL, key), "backend", name, req, 0);
	*out |= cv_name_bit(v, FLD(NULL, key), S_BACKEND, name,
	                    req ? REQUIREMENT : PREFERENCE);
	return 0;
}

int conv_workload(conv_ctx *c, const cJSON *obj, const char *where,
                  lbs_workload *out)
{
	cv v = CV(c, where ? where : "workload");
	cv *vp = &v;
	lbs_workload w;
	names req = {NULL, 0, 0};
	const char *s = NULL;
	const cJSON *cp = NULL;
	double d, gb = 0.5, dur, prio = 3;
	char g[200];

	if (!c || !out)
		return -1;
	if (!cJSON_IsObject(obj))
		return cv_fail(vp, NULL, "must be a JSON object, got %s",
		               cv_got(g, sizeof g, obj));
	memset(&w, 0, sizeof w);
	w.struct_size = sizeof w;
	w.min_shards = w.max_shards = 1;
	w.io_intensity = w.network_intensity = 0.5;
	w.latency_sensitivity = w.throughput_sensitivity = 0.5;

	if (cv_check_keys(vp, obj, NULL, workload_keys, 1) < 0)
		return -1;

	if (cv_get_str(vp, obj, "test_id", NULL, REQUIRED | NONEMPTY, &s) < 0)
		return -1;
	if (!(w.id = arena_strdup(c->arena, s)))
		return cv_oom(vp);
	s = NULL;
	if (cv_get_str(vp, obj, "model_id", NULL, NULLABLE, &s) < 0)
		return -1;
	if (s && !(w.model_id = arena_strdup(c->arena, s)))
		return cv_oom(vp);
	if (cv_loose(vp, obj, "model_family", NULL, L_STRING) < 0)
		return -1;
	s = NULL;
	if (cv_work_type(vp, obj, NULL, &w.test_type, &w.type) < 0)
		return -1;

	if (cv_get_num(vp, obj, "minimum_memory", NULL, 0, MAX_GB, "GB", 0, &gb) < 0)
		return -1;
	w.min_memory_bytes = gb_bytes(gb);
	w.memory_intensity = tax_memory_intensity(gb);

	/* Original fields the ABI has no use for: checked, not warned. */
	if (cv_get_num(vp, obj, "required_memory_limit", NULL, 0, MAX_GB, "GB", 0,
	               &d) < 0 ||
	    cv_get_num(vp, obj, "timeout", NULL, 0, MAX_SECONDS, "s", 0, &d) < 0 ||
	    cv_get_int(vp, obj, "retries", NULL, 0, MAX_COUNT, 0, &d) < 0 ||
	    cv_loose(vp, obj, "concurrency_key", NULL, L_STRING) < 0)
		return -1;

	if (one_backend(vp, obj, "required_backend", &req, &w.required_backends) < 0 ||
	    one_backend(vp, obj, "preferred_backend", NULL, &w.preferred_backends) < 0)
		return -1;

	if (cv_work_duration(vp, obj, NULL, &dur) < 0)
		return -1;
	w.est_duration_s = dur;
	w.compute_intensity = tax_compute_intensity(dur);

	if (cv_get_int(vp, obj, "priority", NULL, 1, 5, 0, &prio) < 0)
		return -1;
	w.priority = (uint32_t)prio;

	/* The original's __post_init__ copies required_accelerators into
	 * the limit: a bad count is the user's field, named first. */
	if (cv_accel_map(vp, obj, "required_accelerators", NULL,
	                 &w.required_accel_kinds, &w.required_accel_counts,
	                 &w.n_required_accels) < 0 ||
	    cv_accel_map(vp, obj, "required_accelerator_limit", NULL, NULL, NULL,
	                 NULL) < 0)
		return -1;
	if (required_software(vp, obj, &w, &req) < 0 ||
	    exclude_workers(vp, obj, &w) < 0)
		return -1;
	w.required_backend_names = req.v;
	w.n_required_backend_names = req.n;

	if (cv_get_obj(vp, obj, "custom_properties", NULL, NULLABLE, &cp) < 0)
		return -1;
	if (cp && custom_properties(vp, cp, &w) < 0)
		return -1;
	if (deadline(vp, obj, cp, &w.deadline_s) < 0)
		return -1;
	if (conv_type_wordless(w.test_type, w.type))
		cv_wordless(vp, w.test_type);

	*out = w;
	return 0;
}

int conv_workload_text(conv_ctx *c, const char *text, size_t len, const char *where,
                       lbs_workload *out)
{
	cJSON *obj = cv_parse_object(c, text, len, where);
	int r = obj ? conv_workload(c, obj, where, out) : -1;

	cJSON_Delete(obj);
	return r;
}
