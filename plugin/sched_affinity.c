/*
 * sched_affinity.c -- the "affinity" scheduler: a model goes back to the
 * worker that ran it before, else to its family's worker, else to the least
 * loaded; a busy or ineligible remembered worker gives way
 * (scheduler-algos/affinity.h).
 *
 * Config: {"load_ceiling": 0.9, "give_way": 0.8, "max_models": 100000,
 *          "store": {...}}
 *   give_way    affinity's load (the larger of the effective load and
 *               (active + queued) / capacity) above which a remembered
 *               worker is passed over for this request; it keeps the model.
 *   max_models  model and family keys remembered at most; beyond, new
 *               ones are not remembered (counted in stats "not_remembered").
 *   store       the learned store: what is remembered is read from it at
 *               create, and each change is queued to it at once and
 *               written by its flusher thread (store_affinity_put), so it
 *               survives restarts, crashes included, but for the last
 *               store.refresh_ms.
 *
 * Remembering: "m:<model id>" and "f:<family>" keys, each naming a worker.
 * After a select, a key takes the chosen worker when it had none, or its
 * worker left the fleet or fails a hard requirement; a busy or excluded
 * worker keeps its keys.  select allocates only to remember a new key.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "affinity.h"
#include "config.h"
#include "eligible.h"
#include "hash.h"
#include "sched_util.h"
#include "store_config.h"
#include "text.h"
#include "worker_id.h"

#define NAME "affinity"
#define KEY_MAX 500 /* under STORE_AFFINITY_MAX_KEY with its prefix */

typedef struct aff_entry {
	char *key, *worker;
	uint64_t hash; /* 0 = empty */
} aff_entry;

typedef struct aff_inst {
	const lbs_host_api *host;
	aff_params p;
	store *store;
	aff_entry *map;
	size_t cap, used, max;
	uint64_t cookie;
	/* For stats(), which is [any]: copies the [data] calls keep. */
	_Atomic uint64_t remembered, not_remembered;
	sched_counters n;
} aff_inst;

static const char *const known_fields[] = { "load_ceiling", "give_way", "max_models", "store",
	                                    NULL };

static aff_entry *slot_of(aff_entry *map, size_t cap, const char *key, uint64_t h)
{
	size_t i = (size_t)(h ^ h >> 32) & (cap - 1); /* hash.h: the high half folded in */

	while (map[i].hash && (map[i].hash != h || strcmp(map[i].key, key)))
		i = (i + 1) & (cap - 1);
	return &map[i];
}

static const char *map_get(const aff_inst *inst, const char *key)
{
	aff_entry *e;

	if (!key[0] || !inst->cap)
		return NULL;
	e = slot_of(inst->map, inst->cap, key, wid_hash(key));
	return e->hash ? e->worker : NULL;
}

static int map_grow(aff_inst *inst)
{
	size_t cap = inst->cap ? inst->cap * 2 : 64;
	aff_entry *neu = calloc(cap, sizeof(*neu));

	if (!neu)
		return -1;
	for (size_t i = 0; i < inst->cap; i++)
		if (inst->map[i].hash)
			*slot_of(neu, cap, inst->map[i].key, inst->map[i].hash) = inst->map[i];
	free(inst->map);
	inst->map = neu;
	inst->cap = cap;
	return 0;
}

/* key -> worker, and into the store when `keep` (not when it came from
 * there).  LBS_NO_WORKER (quietly) when max_models keys are remembered
 * already. */
static lbs_status map_set(aff_inst *inst, const char *key, const char *worker, int keep)
{
	uint64_t h = wid_hash(key);
	aff_entry *e;
	char *w;

	if (inst->cap && (e = slot_of(inst->map, inst->cap, key, h))->hash) {
		if (!strcmp(e->worker, worker))
			return LBS_OK;
		if (!(w = strdup(worker)))
			return LBS_ENOMEM;
		free(e->worker);
		e->worker = w;
		return keep ? store_affinity_put(inst->store, key, worker) : LBS_OK;
	}
	if (inst->used >= inst->max) {
		sc_bump(&inst->not_remembered);
		return LBS_NO_WORKER;
	}
	if ((inst->used + 1) * 2 > inst->cap && map_grow(inst))
		return LBS_ENOMEM;
	e = slot_of(inst->map, inst->cap, key, h);
	e->key = strdup(key);
	e->worker = strdup(worker);
	if (!e->key || !e->worker) {
		free(e->key);
		free(e->worker);
		e->key = e->worker = NULL;
		return LBS_ENOMEM;
	}
	e->hash = h;
	inst->used++;
	sc_bump(&inst->remembered);
	return keep ? store_affinity_put(inst->store, key, worker) : LBS_OK;
}

static int load_pair(void *ctx, const char *key, const char *worker)
{
	return map_set(ctx, key, worker, 0) == LBS_ENOMEM;
}

static void inst_free(aff_inst *inst)
{
	if (!inst)
		return;
	for (size_t i = 0; i < inst->cap; i++) {
		free(inst->map[i].key);
		free(inst->map[i].worker);
	}
	free(inst->map);
	store_close(inst->store);
	free(inst);
}

static void af_destroy(void *p)
{
	aff_inst *inst = p;

	if (!inst)
		return;
	inst_free(inst);
}

static lbs_status af_configure(void *p, const lbs_host_api *host, const cJSON *cfg,
                               char *err, size_t errlen)
{
	aff_inst *inst = p;
	uint32_t max = 100000;
	lbs_status st;

	inst->host = host;
	st = cfg_load_ceiling(cfg, &inst->p.ceiling, err, errlen);
	if (st == LBS_OK)
		st = cfg_number(cfg, "give_way", 0.0, 1.0, 0.8, &inst->p.give_way, err, errlen);
	if (st == LBS_OK)
		st = cfg_uint_in(cfg, "max_models", 1, UINT64_C(1) << 24, &max, err, errlen);
	if (st == LBS_OK)
		st = store_config_open_keys(cfg, host, NAME, &inst->store, err, errlen);
	inst->max = (size_t)max;
	if (st == LBS_OK)
		st = store_affinity_read(inst->store, load_pair, inst, err, errlen);
	if (st != LBS_OK)
		return st;
	sc_log(host, LBS_LOG_DEBUG, NAME ": created, give_way %g, %zu affinities from the store",
	       inst->p.give_way, inst->used);
	return LBS_OK;
}

static lbs_status af_create(const lbs_host_api *host, const char *config, size_t config_len,
                            void **out, char *err, size_t errlen)
{
	return sc_create(NAME, sizeof(aff_inst), known_fields, af_configure, af_destroy, host,
	                 config, config_len, out, err, errlen);
}

/* The workload's keys: "m:<model>" and "f:<family>", "" when it has none.
 * A model id longer than KEY_MAX (hosts take up to 4,096 bytes) keys by
 * its first bytes, whole UTF-8 characters, and a hash of all of it:
 * dropped, its model was "first seen" on every test and its family never
 * matched.  A family is cut at KEY_MAX - 1 bytes (aff_family_of): two
 * that long and alike that far share a key, a hint and no more. */
static void keys_of(const lbs_workload *wl, char *mkey, char *fkey, char *family)
{
	size_t len = wl->model_id ? strlen(wl->model_id) : 0, cut = KEY_MAX - 17;

	mkey[0] = fkey[0] = family[0] = '\0';
	if (len == 0)
		return;
	if (len <= KEY_MAX) {
		snprintf(mkey, KEY_MAX + 3, "m:%s", wl->model_id);
	} else {
		while (cut && ((unsigned char)wl->model_id[cut] & 0xC0) == 0x80)
			cut--;
		snprintf(mkey, KEY_MAX + 3, "m:%.*s#%016llx", (int)cut, wl->model_id,
		         (unsigned long long)lbs_fnv1a(LBS_FNV_OFFSET, wl->model_id));
	}
	if (aff_family_of(wl->model_id, family, KEY_MAX))
		snprintf(fkey, KEY_MAX + 3, "f:%s", family);
}

/* The sentence for a selection made with result res_ for workload wl_. */
static void af_reason(lbs_selection *out, const void *res_, const void *wl_)
{
	const aff_result *res = res_;
	const char *model = ((const lbs_workload *)wl_)->model_id;
	char shown[96], fam[64], family[KEY_MAX];
	const char *why;

	if (!out->reason || out->reason_len == 0)
		return;
	aff_family_of(model, family, sizeof(family));
	txt_show(shown, sizeof(shown), model ? model : "");
	txt_show(fam, sizeof(fam), family);
	switch (res->via) {
	case AFF_VIA_MODEL:
		sc_reason(out, NAME ": model '%s' stays on the worker that ran it (load %.2f)",
		          shown, res->load);
		return;
	case AFF_VIA_FAMILY:
		sc_reason(out, NAME ": model '%s' goes to the worker of its family '%s' (load %.2f)",
		          shown, fam, res->load);
		return;
	default:
		break;
	}
	if (!model || !model[0]) {
		sc_reason(out, NAME ": no model id: least loaded of %u eligible (load %.2f)",
		          res->n_eligible, res->load);
		return;
	}
	why = res->model == AFF_EXCLUDED ? "its worker is excluded for this request, so"
	      : res->model == AFF_INELIGIBLE ? "its worker cannot take this work, so"
	      : res->model == AFF_ABSENT ? "its worker left the fleet, so"
	      : "first seen:";
	if (res->model == AFF_BUSY)
		sc_reason(out, NAME ": model '%s': its worker is busy (load %.2f), so the least "
		          "loaded of %u eligible (load %.2f) this time", shown,
		          res->remembered_load, res->n_eligible, res->load);
	else
		sc_reason(out, NAME ": model '%s': %s the least loaded of %u eligible (load %.2f)",
		          shown, why, res->n_eligible, res->load);
}

static lbs_status af_select(void *p, const lbs_workload *wl, const lbs_worker *const *workers,
                            uint32_t n, lbs_selection *out)
{
	aff_inst *inst = p;
	char mkey[KEY_MAX + 3], fkey[KEY_MAX + 3], family[KEY_MAX];
	uint32_t want, need = 0;
	aff_result res = { 0 };
	const char *chosen;
	lbs_status st;

	st = sc_check_select(wl, workers, n, out);
	if (st == LBS_OK) {
		sc_shards(wl, out->capacity, &want, &need);
		keys_of(wl, mkey, fkey, family);
		st = aff_pick(&inst->p, wl, workers, n, map_get(inst, mkey), map_get(inst, fkey),
		              want, out->indices, &res);
	}
	st = sc_select_end(&inst->n, st, out, NAME, wl, workers, n, inst->p.ceiling, res.n_found,
	                   need, &inst->cookie);
	if (st != LBS_OK)
		return st;
	chosen = workers[out->indices[0]]->id;
	/* Remembering is best effort: out of memory or max_models costs the
	 * stickiness of a new key, never the answer. */
	if (mkey[0] && aff_moves(res.model) && strlen(chosen) <= STORE_MAX_ID)
		(void)map_set(inst, mkey, chosen, 1);
	if (fkey[0] && aff_moves(res.family) && strlen(chosen) <= STORE_MAX_ID)
		(void)map_set(inst, fkey, chosen, 1);
	af_reason(out, &res, wl);
	return LBS_OK;
}

static lbs_status af_score(void *p, const lbs_workload *wl, const lbs_worker *const *workers,
                           uint32_t n, double *scores)
{
	aff_inst *inst = p;
	char mkey[KEY_MAX + 3], fkey[KEY_MAX + 3], family[KEY_MAX];
	lbs_status st = sc_check_score(wl, workers, n, scores);

	if (st != LBS_OK)
		return st;
	keys_of(wl, mkey, fkey, family);
	return aff_score(&inst->p, wl, workers, n, map_get(inst, mkey), map_get(inst, fkey),
	                 scores);
}

static lbs_status af_stats(void *p, lbs_write_fn write, void *ctx)
{
	aff_inst *inst = p;
	store_counts c;
	char extra[160];

	store_counts_get(inst->store, &c);
	snprintf(extra, sizeof(extra), ",\"remembered\":%llu,\"not_remembered\":%llu,"
	         "\"persistent\":%s",
	         (unsigned long long)atomic_load_explicit(&inst->remembered, memory_order_relaxed),
	         (unsigned long long)atomic_load_explicit(&inst->not_remembered,
	                                                  memory_order_relaxed),
	         c.persistent ? "true" : "false");
	return sc_stats(NAME, &inst->n, extra, write, ctx);
}

static void add_str(sc_explain *e, const char *key, const char *v)
{
	if (v && !cJSON_AddStringToObject(e->root, key, v))
		e->oom = 1;
}

static lbs_status af_explain(void *p, const lbs_workload *wl, const lbs_worker *const *workers,
                             uint32_t n, lbs_write_fn write, void *ctx)
{
	aff_inst *inst = p;
	char mkey[KEY_MAX + 3], fkey[KEY_MAX + 3], family[KEY_MAX];
	const char *mw, *fw;
	uint32_t *idx, want, need;
	double *scores;
	aff_result res;
	lbs_status st;
	sc_explain e;

	if (sc_explain_args(wl, workers, n, write, &want, &need) != LBS_OK)
		return LBS_EINVAL;
	keys_of(wl, mkey, fkey, family);
	mw = map_get(inst, mkey);
	fw = map_get(inst, fkey);
	st = sc_explain_scratch(n, &scores, &idx);
	if (st == LBS_OK)
		st = aff_score(&inst->p, wl, workers, n, mw, fw, scores);
	if (st == LBS_OK)
		st = aff_pick(&inst->p, wl, workers, n, mw, fw, want, idx, &res);
	st = sc_explain_open(&e, NAME, st, scores, idx);
	if (st != LBS_OK)
		return st;
	add_str(&e, "model", wl->model_id);
	add_str(&e, "family", family[0] ? family : NULL);
	add_str(&e, "model_worker", mw);
	add_str(&e, "model_worker_state", aff_state_name(res.model));
	add_str(&e, "family_worker", fw);
	add_str(&e, "family_worker_state", aff_state_name(res.family));
	add_str(&e, "via", aff_via_name(res.via));
	for (uint32_t i = 0; i < n; i++) {
		cJSON *c;

		if (scores[i] < 0.0) {
			sc_explain_reject_worker(&e, wl, workers[i], inst->p.ceiling);
			continue;
		}
		c = sc_explain_candidate(&e, workers[i]->id, scores[i]);
		sc_explain_num(&e, c, "load", aff_load(workers[i]));
		if (mw && !strcmp(mw, workers[i]->id))
			sc_explain_str(&e, c, "remembered_for", "model");
		else if (fw && !strcmp(fw, workers[i]->id))
			sc_explain_str(&e, c, "remembered_for", "family");
	}
	return sc_explain_close(&e, NAME, wl, workers, n, inst->p.ceiling, idx, res.n_found, need,
	                          af_reason, &res, wl, write, ctx);
}

const lbs_scheduler_desc sched_affinity_desc = {
	.struct_size = sizeof(lbs_scheduler_desc),
	.name = NAME,
	.description = "A model goes back to the worker that ran it, else to its family's, "
	               "else to the least loaded; a busy or ineligible one gives way. "
	               "Remembered in the store.",
	.caps = LBS_CAP_MULTI,
	.create = af_create,
	.destroy = af_destroy,
	.select = af_select,
	.score = af_score,
	.report = NULL,
	.workers_changed = NULL,
	.stats = af_stats,
	.explain = af_explain,
};
