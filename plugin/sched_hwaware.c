/*
 * sched_hwaware.c -- the "hardware-aware" scheduler: the hard filter, an
 * efficiency score per device, load / thermal / queue adjustment and a
 * learned preference per (workload type, worker); scheduler-algos/hwaware.h
 * has the formula, docs/SCORING.md the defaults and a worked example.
 *
 * Config (every field optional; defaults shown):
 *   {"weights": {"compute": 0.5, "memory": 0.2, "preference": 0.2,
 *                "energy": 0.1},
 *    "load_penalty": 0.3, "temperature_penalty": 0.3, "queue_penalty": 0.5,
 *    "learned_weight": 0.3, "compute_reference": 64, "load_ceiling": 0.9,
 *    "specialisation": {"tensor_cores": 1.5, "gpu_vision": 1.2,
 *                       "gpu_nlp_tensor_cores": 1.2,
 *                       "tpu_large_nlp_vision": 1.3, "npu_inference": 1.2,
 *                       "quantised": 1.5, "npu_training": 0.25,
 *                       "browser_training": 0.5},
 *    "completion": {"enabled": true, "prior_weight": 16, "prior_scale": 4,
 *                   "failure_cost": 3},
 *    "explore": {"samples": 0, "budget": 0.05, "optimism": 1.2},
 *    "scan": "auto", "sample": 64, "seed": 1}
 *
 * "scan": "full" scans every worker on every select; "sampled" looks at
 * "sample" workers drawn at random (for timed work up to 4 x as many while
 * the best drawn would make it wait; plus the last winners and standing candidates,
 * positions scored as they are now) and scans the
 * whole fleet only when none of them is eligible; "auto" samples from
 * 4,096 workers up (hwaware.h, "Sampled selects").
 *
 * report() feeds an in-memory history (plugin/history.h); while it is
 * empty select makes no lookups, every learned preference is 0.5 and
 * every speed the prior.  Nothing is kept per worker between calls that
 * is not checked against the worker's id and the store's generation
 * (hw_remember), so there is no workers_changed slot.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "eligible.h"
#include "history.h"
#include "store_config.h"
#include "hwaware.h"
#include "sched_util.h"
#include "timed.h"
#include "taxonomy.h"
#include "text.h"

#define NAME "hardware-aware"
#define GIB 1073741824.0
#define NONE UINT32_MAX

typedef struct hw_inst {
	const lbs_host_api *host;
	timed t;      /* the completion estimate and the ledger */
	store *store; /* learned history: LMDB, or memory-only */
	uint64_t cookie;
	sched_counters n;
} hw_inst;

/* ===== Config ============================================================= */

static const char *const known_fields[] = {
	"weights", "load_penalty", "temperature_penalty", "queue_penalty",
	"learned_weight", "compute_reference", "load_ceiling", "specialisation",
	"completion", "store", "scan", "sample", "seed", "explore", NULL,
};

static const char *const explore_fields[] = {
	"samples", "budget", "optimism", NULL,
};

static const char *const completion_fields[] = {
	"enabled", "prior_weight", "prior_scale", "failure_cost", NULL,
};

typedef struct factor {
	const char *name;
	size_t off; /* of the double in hw_params */
} factor;

#define F(name, field) { name, offsetof(hw_params, field) }

static const factor weight_factors[] = {
	F("compute", w_compute),
	F("memory", w_memory),
	F("preference", w_preference),
	F("energy", w_energy),
	{ NULL, 0 },
};

static const factor spec_factors[] = {
	F("tensor_cores", tensor_cores),
	F("gpu_vision", gpu_vision),
	F("gpu_nlp_tensor_cores", gpu_nlp_tensor_cores),
	F("tpu_large_nlp_vision", tpu_large_nlp_vision),
	F("npu_inference", npu_inference),
	F("quantised", quantised),
	F("npu_training", npu_training),
	F("browser_training", browser_training),
	{ NULL, 0 },
};

#undef F

/* Upper bounds: far above any sensible value, low enough that a message
 * reads "0..1000" rather than "0..1.79769e+308". */
#define WEIGHT_MAX 1000.0
#define SPEC_MAX 100.0
#define REF_MAX 1e9

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static const factor *find_factor(const factor *fs, const char *name)
{
	for (; fs->name; fs++)
		if (name && strcmp(fs->name, name) == 0)
			return fs;
	return NULL;
}

/*
 * One member of a group ("weights.compute").  The value is handed to
 * cfg_number through a reference stored under its dotted name, so that
 * config.h's checks and wording apply unchanged and the message names the
 * full path.
 */
static lbs_status group_number(cJSON *v, const char *group, const char *name,
                               double hi, double *out, char *err, size_t errlen)
{
	char dotted[96];
	cJSON *tmp = cJSON_CreateObject();
	lbs_status st;

	snprintf(dotted, sizeof(dotted), "%s.%s", group, name);
	if (!tmp || !cJSON_AddItemReferenceToObject(tmp, dotted, v)) {
		cJSON_Delete(tmp);
		set_err(err, errlen, NAME ": out of memory reading the config");
		return LBS_ENOMEM;
	}
	st = cfg_number(tmp, dotted, 0.0, hi, *out, out, err, errlen);
	cJSON_Delete(tmp); /* frees the reference, not v */
	return st;
}

/* A group of named factors: {"compute": 0.5, ...}.  Unknown and repeated
 * names are errors that list what is known. */
static lbs_status group(const cJSON *cfg, const char *gname, const factor *fs,
                        double hi, hw_params *p, char *err, size_t errlen)
{
	const cJSON *g = cfg ? cJSON_GetObjectItemCaseSensitive(cfg, gname) : NULL;
	cJSON *m;
	char shown[96];

	if (!g)
		return LBS_OK;
	if (!cJSON_IsObject(g)) {
		set_err(err, errlen, "config field '%s': must be an object of "
		        "factor names to numbers", gname);
		return LBS_ECONFIG;
	}
	cJSON_ArrayForEach(m, g) {
		const factor *f = find_factor(fs, m->string);
		lbs_status st;

		if (!f) {
			char list[256];
			size_t used = 0;

			list[0] = '\0';
			for (const factor *k = fs; k->name && used < sizeof(list); k++)
				used += (size_t)snprintf(list + used, sizeof(list) - used,
				                         "%s%s", k == fs ? "" : ", ", k->name);
			set_err(err, errlen, "config field '%s.%s': unknown factor "
			        "(known: %s)", gname, txt_show(shown, sizeof shown, m->string),
			        list);
			return LBS_ECONFIG;
		}
		for (const cJSON *q = g->child; q != m; q = q->next) {
			if (q->string && strcmp(q->string, m->string) == 0) {
				set_err(err, errlen, "config field '%s.%s': given "
				        "more than once", gname,
				        txt_show(shown, sizeof shown, m->string));
				return LBS_ECONFIG;
			}
		}
		st = group_number(m, gname, f->name, hi,
		                  (double *)((char *)p + f->off), err, errlen);
		if (st != LBS_OK)
			return st;
	}
	return LBS_OK;
}

/* "completion": {"enabled": true, "prior_weight": 16, "prior_scale": 4};
 * messages name the full path ("completion.prior_weight"). */
static lbs_status read_completion(const cJSON *cfg, hw_params *p, char *err,
                                  size_t errlen)
{
	const cJSON *o;
	lbs_status st = cfg_object(cfg, "completion", &o, err, errlen);

	if (st != LBS_OK || !o)
		return st;
	st = cfg_check_fields(o, completion_fields, err, errlen);
	if (st == LBS_OK)
		st = cfg_bool(o, "enabled", p->completion, &p->completion, err, errlen);
	if (st == LBS_OK)
		st = cfg_number(o, "prior_weight", 0, WEIGHT_MAX, p->prior_weight,
		                &p->prior_weight, err, errlen);
	if (st == LBS_OK)
		st = cfg_positive(o, "prior_scale", SPEC_MAX, p->prior_scale, &p->prior_scale,
		                  err, errlen);
	if (st == LBS_OK)
		st = cfg_number(o, "failure_cost", 1, SPEC_MAX, p->failure_cost,
		                &p->failure_cost, err, errlen);
	return cfg_nested("completion", st, err, errlen);
}

/* "explore": {"samples": .., "budget": .., "optimism": ..} (hw_explore). */
static lbs_status read_explore(const cJSON *cfg, hw_params *p, char *err, size_t errlen)
{
	const cJSON *o;
	lbs_status st = cfg_object(cfg, "explore", &o, err, errlen);

	if (st != LBS_OK || !o)
		return st;
	st = cfg_check_fields(o, explore_fields, err, errlen);
	if (st == LBS_OK)
		st = cfg_number(o, "samples", 0, WEIGHT_MAX, p->explore_samples,
		                &p->explore_samples, err, errlen);
	if (st == LBS_OK)
		st = cfg_number(o, "budget", 0, 1, p->explore_budget, &p->explore_budget,
		                err, errlen);
	if (st == LBS_OK)
		st = cfg_number(o, "optimism", 1, SPEC_MAX, p->explore_optimism,
		                &p->explore_optimism, err, errlen);
	return cfg_nested("explore", st, err, errlen);
}

/* Parse the config and open the store it names (while the config text
 * it points into is alive). */
static lbs_status parse_config(const char *text, size_t len, hw_params *p,
                               const lbs_host_api *host, store **learned,
                               char *err, size_t errlen)
{
	cJSON *cfg = NULL;
	const char *field, *problem;
	lbs_status st;

	hw_params_default(p);
	st = cfg_parse(text, len, &cfg, err, errlen);
	if (st == LBS_OK)
		st = cfg_check_fields(cfg, known_fields, err, errlen);
	if (st == LBS_OK)
		st = group(cfg, "weights", weight_factors, WEIGHT_MAX, p, err, errlen);
	if (st == LBS_OK)
		st = group(cfg, "specialisation", spec_factors, SPEC_MAX, p, err, errlen);
	if (st == LBS_OK)
		st = cfg_number(cfg, "load_penalty", 0, 1, p->load_penalty,
		                &p->load_penalty, err, errlen);
	if (st == LBS_OK)
		st = cfg_number(cfg, "temperature_penalty", 0, 1, p->temperature_penalty,
		                &p->temperature_penalty, err, errlen);
	if (st == LBS_OK)
		st = cfg_number(cfg, "queue_penalty", 0, 1, p->queue_penalty,
		                &p->queue_penalty, err, errlen);
	if (st == LBS_OK)
		st = cfg_number(cfg, "learned_weight", 0, 1, p->learned_weight,
		                &p->learned_weight, err, errlen);
	if (st == LBS_OK)
		st = cfg_positive(cfg, "compute_reference", REF_MAX, p->compute_reference,
		                  &p->compute_reference, err, errlen);
	if (st == LBS_OK)
		st = cfg_load_ceiling(cfg, &p->load_ceiling, err, errlen);
	if (st == LBS_OK)
		st = read_completion(cfg, p, err, errlen);
	if (st == LBS_OK)
		st = read_explore(cfg, p, err, errlen);
	if (st == LBS_OK)
		st = timed_scan_config(cfg, p, err, errlen);
	/* What the ranges above cannot say: a reference of 0, all weights 0,
	 * a prior scale of 0. */
	if (st == LBS_OK && (field = hw_params_check(p, &problem)) != NULL) {
		set_err(err, errlen, "config field '%s': %s", field, problem);
		st = LBS_ECONFIG;
	}
	if (st == LBS_OK)
		st = store_config_open(cfg, host, NAME, learned, err, errlen);
	cJSON_Delete(cfg);
	return st;
}

/* ===== Instance =========================================================== */

static lbs_status hwi_create(const lbs_host_api *host, const char *config,
                             size_t config_len, void **out, char *err,
                             size_t errlen)
{
	hw_params p;
	hw_inst *inst;
	store *learned = NULL;
	lbs_status st;

	if (!out)
		return LBS_EINVAL;
	*out = NULL;
	st = parse_config(config, config_len, &p, host, &learned, err, errlen);
	if (st != LBS_OK)
		return st;
	inst = calloc(1, sizeof(*inst));
	if (!inst || timed_init(&inst->t, &p) != LBS_OK) {
		store_close(learned);
		free(inst);
		set_err(err, errlen, NAME ": out of memory");
		return LBS_ENOMEM;
	}
	inst->host = host;
	inst->store = learned;
	sc_log(host, LBS_LOG_DEBUG, NAME ": created, weights %g/%g/%g/%g, "
	       "learned_weight %g, load_ceiling %g, completion %s (prior_weight %g, "
	       "prior_scale %g)", p.w_compute, p.w_memory, p.w_preference, p.w_energy,
	       p.learned_weight, p.load_ceiling, p.completion ? "on" : "off",
	       p.prior_weight, p.prior_scale);
	*out = inst;
	return LBS_OK;
}

static void hwi_destroy(void *p)
{
	hw_inst *inst = p;

	if (!inst)
		return;
	timed_free(&inst->t);
	store_close(inst->store);
	free(inst);
}


static hw_learned learned_for(hw_inst *inst)
{
	return timed_learned(&inst->t, inst->store);
}

/* "est. 45.2 s (wait 7.5 + run 37.7)": the completion the first worker
 * was chosen for, and where its speed came from. */
static void hwi_reason_timed(lbs_selection *out, const lbs_worker *const *workers,
                             uint32_t k, const hw_factors *b)
{
	char many[160] = "", rel[48] = "", from[48];

	if (k > 1)
		snprintf(many, sizeof many, "%u workers, the first ", k);
	if (b->reliability < 1.0)
		snprintf(rel, sizeof rel, ", over reliability %.2f", b->reliability);
	if (b->ratio_n > 0)
		snprintf(from, sizeof from, "learned from %.0f runs", b->ratio_n);
	else
		snprintf(from, sizeof from, "prior");
	sc_reason(out, NAME ": %sest. %.1f s (wait %.1f + run %.1f%s) on %s device %u "
	          "of %s, speed %.2f (%s)", many, b->completion_s, b->wait_s, b->run_s, rel,
	          tax_class_name(b->hw_class), b->device, workers[out->indices[0]]->id,
	          b->speed, from);
}

static void hwi_reason(lbs_selection *out, const lbs_worker *const *workers,
                       uint32_t k, const hw_factors *b)
{
	if (b->timed)
		hwi_reason_timed(out, workers, k, b);
	else if (k > 1)
		sc_reason(out, NAME ": %u workers, best score %.2f on %s device %u "
		          "of %s (compute %.2f, memory %.2f, load %.2f, reliability %.2f)",
		          k, b->score, tax_class_name(b->hw_class), b->device,
		          workers[out->indices[0]]->id, b->compute, b->memory,
		          b->effective_load, b->reliability);
	else
		sc_reason(out, NAME ": best score %.2f on %s device %u "
		          "(compute %.2f, memory %.2f, load %.2f, reliability %.2f)",
		          b->score, tax_class_name(b->hw_class), b->device,
		          b->compute, b->memory, b->effective_load, b->reliability);
}

static lbs_status hwi_select(void *p, const lbs_workload *wl,
                             const lbs_worker *const *workers, uint32_t n,
                             lbs_selection *out)
{
	hw_inst *inst = p;
	uint32_t want = 0, need = 0, found = 0, explored = NONE;
	int say = 0;
	double now = 0.0;
	hw_learned l;
	hw_factors best;
	lbs_status st;

	st = sc_check_select(wl, workers, n, out);
	if (st == LBS_OK) {
		sc_shards(wl, out->capacity, &want, &need);
		now = timed_now(inst->host);
		l = learned_for(inst);
		/* The winner's factors cost a second pass over one worker;
		 * only worth it when someone reads the sentence. */
		say = out->reason && out->reason_len;
		/* A selection with room for fewer than min_shards is answered
		 * like the other schedulers do, "no worker", with the reason. */
		st = want < need ? LBS_NO_WORKER
		     : hw_select(inst->t.hw, wl, workers, n, &l, want, need,
		                 out->indices, &found, say ? &best : NULL);
	}
	if (st != LBS_OK && st != LBS_NO_WORKER) {
		sc_bump(&inst->n.errors);
		return st;
	}
	sc_bump(&inst->n.selects);
	if (st == LBS_NO_WORKER) {
		sc_bump(&inst->n.no_worker);
		sc_reason_none(out, NAME, wl, workers, n,
		               hw_params_of(inst->t.hw)->load_ceiling, found, need);
		return LBS_NO_WORKER;
	}
	if (want == 1)
		explored = hw_explore(inst->t.hw, wl, workers, n, &l, out->indices[0]);
	if (explored != NONE && explored != out->indices[0]) {
		out->indices[0] = explored;
	} else {
		explored = NONE;
	}
	sc_fill(out, workers, found, ++inst->cookie);
	timed_placed(&inst->t, out, wl, now);
	if (say && explored != NONE)
		sc_reason(out, NAME ": exploring %s: idle, and too few runs of this "
		          "work learned to trust its estimate", workers[explored]->id);
	else if (say)
		hwi_reason(out, workers, found, &best);
	return LBS_OK;
}

static lbs_status hwi_score(void *p, const lbs_workload *wl,
                            const lbs_worker *const *workers, uint32_t n,
                            double *scores)
{
	hw_inst *inst = p;
	lbs_status st = sc_check_workload(wl);

	if (st != LBS_OK)
		return st;
	if (n && (!workers || !scores))
		return LBS_EINVAL;
	return timed_score(&inst->t, inst->store, wl, workers, n, scores);
}

static lbs_status hwi_report(void *p, const lbs_outcome *o)
{
	hw_inst *inst = p;

	/* Whatever the store makes of it, the work is no longer ahead. */
	timed_reported(&inst->t, o);
	return store_learn(inst->store, &inst->n, o);
}

static lbs_status hwi_stats(void *p, lbs_write_fn write, void *ctx)
{
	hw_inst *inst = p;
	char extra[384];

	timed_stats(&inst->t, extra, sizeof extra);
	return store_sched_stats(NAME, inst->store, &inst->n, extra, write, ctx);
}

/* ===== Explain ============================================================ */

static int device_usable(const lbs_device *d)
{
	return d && d->struct_size >= LBS_DEVICE_SIZE_V1_0;
}

/* Does d pass the device checks that run before the check r? */
static int passes_before(const lbs_workload *wl, const lbs_worker *w,
                         const lbs_device *d, enum elig_reason r)
{
	uint64_t avail = d->mem_available_bytes > w->reserved_memory_bytes
	                 ? d->mem_available_bytes - w->reserved_memory_bytes : 0;

	if (r > ELIG_BACKEND &&
	    (d->backends & wl->required_backends) != wl->required_backends)
		return 0;
	if (r > ELIG_PRECISION &&
	    (d->precisions & wl->required_precisions) != wl->required_precisions)
		return 0;
	if (r > ELIG_FEATURE &&
	    (d->features & wl->required_features) != wl->required_features)
		return 0;
	if (r > ELIG_MEMORY && avail < wl->min_memory_bytes)
		return 0;
	return 1;
}

/* The requirement bits no device of w offers at all; when every bit is on
 * some device but never all on one, the whole requirement. */
static uint64_t missing_bits(const lbs_workload *wl, const lbs_worker *w,
                             enum elig_reason r, uint64_t need, int *together)
{
	uint64_t have = 0, other = r == ELIG_BACKEND ? LBS_BACKEND_OTHER
	                           : r == ELIG_PRECISION ? LBS_PREC_OTHER
	                                                 : LBS_FEAT_OTHER;

	for (uint32_t i = 0; i < w->n_devices; i++) {
		const lbs_device *d = w->devices[i];

		if (!device_usable(d) || !passes_before(wl, w, d, r))
			continue;
		have |= r == ELIG_BACKEND ? d->backends
		        : r == ELIG_PRECISION ? d->precisions : d->features;
	}
	/* A device's OTHER is some other unparsed name: it meets nothing. */
	have &= ~other;
	*together = (need & ~have) == 0;
	return *together ? need : need & ~have;
}

/* Some usable device of w has every required backend bit: a backend
 * rejection is then about the names (ABI 1.1). */
static int bits_on_one(const lbs_workload *wl, const lbs_worker *w)
{
	for (uint32_t i = 0; i < w->n_devices; i++) {
		const lbs_device *d = w->devices[i];

		if (device_usable(d) && !(wl->required_backends & LBS_BACKEND_OTHER) &&
		    (d->backends & wl->required_backends) == wl->required_backends)
			return 1;
	}
	return 0;
}

static void reject_text(const lbs_workload *wl, const lbs_worker *w,
                        enum elig_reason r, double ceiling, char *buf,
                        size_t len)
{
	const char *base = elig_reason_text(r);
	const char *name;
	char names[160];
	int together = 0;
	uint64_t miss;
	double best_gb = 0.0;
	uint32_t best_cu = 0;

	switch (r) {
	case ELIG_BACKEND:
		if ((name = elig_missing_name(wl, w)) && bits_on_one(wl, w)) {
			snprintf(buf, len, "%s (needs %s)", base,
			         *name ? txt_show(names, sizeof names, name)
			               : "a backend name it cannot read");
			return;
		}
		miss = missing_bits(wl, w, r, wl->required_backends, &together);
		snprintf(buf, len, "%s (needs %s%s)", base,
		         tax_backends_str(miss, names, sizeof(names)),
		         together ? " on one device" : "");
		return;
	case ELIG_PRECISION:
		miss = missing_bits(wl, w, r, wl->required_precisions, &together);
		snprintf(buf, len, "%s (needs %s%s)", base,
		         tax_precisions_str((uint32_t)miss, names, sizeof(names)),
		         together ? " on one device" : "");
		return;
	case ELIG_FEATURE:
		miss = missing_bits(wl, w, r, wl->required_features, &together);
		snprintf(buf, len, "%s (needs %s%s)", base,
		         tax_features_str((uint32_t)miss, names, sizeof(names)),
		         together ? " on one device" : "");
		return;
	case ELIG_MEMORY:
		for (uint32_t i = 0; i < w->n_devices; i++) {
			const lbs_device *d = w->devices[i];
			double gb;

			if (!device_usable(d) || !passes_before(wl, w, d, r))
				continue;
			gb = d->mem_available_bytes > w->reserved_memory_bytes
			     ? (double)(d->mem_available_bytes - w->reserved_memory_bytes) / GIB
			     : 0.0;
			if (gb > best_gb)
				best_gb = gb;
		}
		snprintf(buf, len, "%s (needs %.2f GB, at most %.2f GB free on a "
		         "suitable device)", base, (double)wl->min_memory_bytes / GIB,
		         best_gb);
		return;
	case ELIG_COMPUTE:
		for (uint32_t i = 0; i < w->n_devices; i++) {
			const lbs_device *d = w->devices[i];

			if (device_usable(d) && passes_before(wl, w, d, r) &&
			    d->compute_units > best_cu)
				best_cu = d->compute_units;
		}
		snprintf(buf, len, "%s (needs %u compute units, at most %u on a "
		         "suitable device)", base, wl->min_compute_units, best_cu);
		return;
	case ELIG_ACCEL:
		for (uint32_t i = 0; i < wl->n_required_accels; i++) {
			const char *kind = wl->required_accel_kinds[i];
			uint64_t have;

			if (!kind || wl->required_accel_counts[i] == 0)
				continue;
			have = elig_accel_free(w, kind);
			if (have < wl->required_accel_counts[i]) {
				snprintf(buf, len, "%s (needs %u %s, has %llu free)", base,
				         wl->required_accel_counts[i], kind,
				         (unsigned long long)have);
				return;
			}
		}
		break;
	case ELIG_OVERLOADED:
		snprintf(buf, len, "%s (load %.2f above %.2f)", base,
		         worker_load(w), ceiling);
		return;
	default:
		break;
	}
	snprintf(buf, len, "%s", base);
}

static void explain_candidate(sc_explain *e, const lbs_worker *w,
                              const hw_factors *f)
{
	const lbs_device *d = w->devices[f->device];
	cJSON *c = sc_explain_candidate(e, w->id, f->score);

	sc_explain_num(e, c, "device", f->device);
	sc_explain_str(e, c, "class", tax_class_name(f->hw_class));
	if (d->model_name)
		sc_explain_str(e, c, "model", d->model_name);
	sc_explain_num(e, c, "throughput", f->throughput);
	sc_explain_num(e, c, "compute", f->compute);
	sc_explain_num(e, c, "memory", f->memory);
	sc_explain_num(e, c, "preference", f->preference);
	sc_explain_num(e, c, "energy", f->energy);
	sc_explain_num(e, c, "efficiency", f->efficiency);
	sc_explain_num(e, c, "effective_load", f->effective_load);
	sc_explain_num(e, c, "load_factor", f->load_factor);
	sc_explain_num(e, c, "temperature_factor", f->temperature_factor);
	sc_explain_num(e, c, "queue_factor", f->queue_factor);
	sc_explain_num(e, c, "adjusted", f->adjusted);
	sc_explain_num(e, c, "learned", f->learned);
	sc_explain_num(e, c, "suitability", f->suitability);
	sc_explain_num(e, c, "reliability", f->reliability);
	if (!f->timed)
		return;
	sc_explain_num(e, c, "prior_speed", f->prior_speed);
	sc_explain_num(e, c, "ratio_n", f->ratio_n);
	sc_explain_num(e, c, "learned_speed", f->learned_speed);
	sc_explain_num(e, c, "speed", f->speed);
	sc_explain_num(e, c, "run_s", f->run_s);
	sc_explain_num(e, c, "wait_s", f->wait_s);
	sc_explain_num(e, c, "completion_s", f->completion_s);
}

static lbs_status explain_workload(sc_explain *e, const lbs_workload *wl)
{
	cJSON *o = cJSON_AddObjectToObject(e->root, "workload");

	if (!o)
		return LBS_ENOMEM;
	sc_explain_str(e, o, "type", tax_workload_name(wl->type));
	if (wl->id)
		sc_explain_str(e, o, "id", wl->id);
	else if (!cJSON_AddNullToObject(o, "id"))
		e->oom = 1;
	return LBS_OK;
}

static lbs_status hwi_explain(void *p, const lbs_workload *wl,
                              const lbs_worker *const *workers, uint32_t n,
                              lbs_write_fn write, void *ctx)
{
	hw_inst *inst = p;
	double ceiling = hw_params_of(inst->t.hw)->load_ceiling;
	uint32_t *order = NULL, *tmp = NULL;
	uint32_t want, need, m = 0, k;
	hw_eval *ev = NULL;
	char reason[256] = "", text[256];
	lbs_selection sel;
	lbs_status st;
	hw_learned l;
	sc_explain e;

	if (!write || sc_check_workload(wl) != LBS_OK || (n && !workers))
		return LBS_EINVAL;
	sc_shards(wl, UINT32_MAX, &want, &need);
	if (n) {
		ev = malloc(n * sizeof(*ev));
		order = malloc(n * sizeof(*order));
		tmp = malloc(n * sizeof(*tmp));
		if (!ev || !order || !tmp) {
			st = LBS_ENOMEM;
			goto out;
		}
		l = learned_for(inst);
		st = hw_evaluate(inst->t.hw, wl, workers, n, &l, ev);
		if (st != LBS_OK)
			goto out;
		m = hw_rank(ev, n, order, tmp);
	}
	/* select chooses the first `want` of this ranking (the tests hold
	 * the two to that), so the explanation is the decision. */
	k = m < want ? m : want;
	sel = (lbs_selection){ .struct_size = sizeof(sel), .capacity = want,
	                       .indices = order, .reason = reason,
	                       .reason_len = sizeof(reason) };
	if (k == 0 || k < need)
		sc_reason_none(&sel, NAME, wl, workers, n, ceiling, want > 1 ? m : 0,
		               need);
	else
		hwi_reason(&sel, workers, k, &ev[order[0]].f);
	if (sc_explain_begin(&e, NAME) != LBS_OK) {
		st = LBS_ENOMEM;
		goto out;
	}
	if (explain_workload(&e, wl) != LBS_OK)
		e.oom = 1;
	if (k > 0 && k >= need)
		for (uint32_t i = 0; i < k; i++)
			sc_explain_chosen(&e, workers[order[i]]->id);
	for (uint32_t i = 0; i < m; i++)
		explain_candidate(&e, workers[order[i]], &ev[order[i]].f);
	for (uint32_t i = 0; i < n; i++) {
		if (ev[i].reason == ELIG_OK)
			continue;
		reject_text(wl, workers[i], ev[i].reason, ceiling, text, sizeof(text));
		sc_explain_reject(&e, workers[i]->id, text);
	}
	sc_explain_reason(&e, reason);
	st = sc_explain_end(&e, write, ctx);
out:
	free(ev);
	free(order);
	free(tmp);
	return st;
}

const lbs_scheduler_desc sched_hwaware_desc = {
	.struct_size = sizeof(lbs_scheduler_desc),
	.name = NAME,
	.description = "The best hardware fit: hard requirements filter, an "
	               "efficiency score per device, load and thermal "
	               "adjustment, and a learned preference per workload type; "
	               "for work with an expected duration, the earliest "
	               "estimated completion from each worker's queue and its "
	               "learned speed.",
	.caps = LBS_CAP_MULTI | LBS_CAP_LEARNS,
	.create = hwi_create,
	.destroy = hwi_destroy,
	.select = hwi_select,
	.score = hwi_score,
	.report = hwi_report,
	.workers_changed = NULL, /* nothing is kept per worker */
	.stats = hwi_stats,
	.explain = hwi_explain,
};
