/*
 * sched_wrr.c -- the "weighted-round-robin" scheduler: nginx's smooth
 * weighted rotation over the workers eligible for each request, one
 * rotation per eligibility class (what a request asks of the hardware,
 * memory and compute units apart), each made as a copy of the rotation
 * shared by all requests, so shares hold within each class
 * (scheduler-algos/wrr.h).
 *
 * Config: {"load_ceiling": 0.9, "weights_from": "capabilities",
 *          "weights": {"gpu-1": 4, "cpu-1": 1}, "default_weight": 1}
 *   weights_from    "capabilities" (default): a worker's capacity, the
 *                   tests it runs at once (0 counts as 1);
 *                   "config": the "weights" table, "default_weight" for
 *                   workers it does not name (implied by "weights");
 *                   "load": 1 - effective load, at least 0.01, read on
 *                   every select.
 * Learns nothing, so it has no report slot.  score(): how due each worker
 * is after a select's step of as many shares, the next pick 1 (wrr_score).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "eligible.h"
#include "sched_util.h"
#include "text.h"
#include "wrr.h"

#define NAME "weighted-round-robin"
#define WEIGHT_MAX 1e6

typedef struct wrr_weight {
	char *id;
	double w;
	int seen;  /* in a fleet check_table saw */
} wrr_weight;

typedef struct wrr_inst {
	const lbs_host_api *host;
	wrr_params p;
	wrr_state st;
	wrr_weight *table; /* WRR_CONFIG, sorted by id */
	size_t n_table;
	double default_weight;
	uint32_t checked_n;  /* the largest fleet the table was checked against */
	int said_absent, said_drained;
	uint64_t cookie;
	sched_counters n;
	/* workers_changed's request, done by the next select or score:
	 * [control] may run beside [data], and the table is the data calls' */
	atomic_int forget;
} wrr_inst;

/* The table's workers that left, dropped when workers_changed asked. */
static void forget_if_asked(wrr_inst *inst)
{
	if (atomic_exchange_explicit(&inst->forget, 0, memory_order_acquire))
		wrr_forget(&inst->st, 1024);
}

static const char *const known_fields[] = { "load_ceiling", "weights_from", "weights",
	                                    "default_weight", NULL };
static const char *const source_names[] = { "capabilities", "config", "load" };

static int cmp_weight(const void *a, const void *b)
{
	return strcmp(((const wrr_weight *)a)->id, ((const wrr_weight *)b)->id);
}

static double table_weight(void *ctx, const char *id)
{
	const wrr_inst *inst = ctx;
	wrr_weight key = { .id = (char *)id };
	const wrr_weight *hit = inst->n_table
	                        ? bsearch(&key, inst->table, inst->n_table, sizeof(key), cmp_weight)
	                        : NULL;

	return hit ? hit->w : inst->default_weight;
}

/*
 * A weight for an id no worker has is a typo more often than a worker
 * still to come, and the worker meant gets the default; a fleet drained
 * whole has no rotation.  Each is said once per instance.  Hosts pass
 * subsets (the workers available now), so the check runs again only for
 * a fleet larger than any checked, and an id once seen stays seen.
 */
static void check_table(wrr_inst *inst, const lbs_worker *const *workers, uint32_t n)
{
	size_t absent = 0, first = 0;
	uint32_t drained = 0;

	inst->checked_n = n;
	for (uint32_t i = 0; i < n; i++) {
		wrr_weight key = { .id = (char *)workers[i]->id };
		wrr_weight *hit = bsearch(&key, inst->table, inst->n_table, sizeof(key), cmp_weight);
		if (hit)
			hit->seen = 1;
		drained += (hit ? hit->w : inst->default_weight) == 0;
	}
	if (n && drained == n && !inst->said_drained) {
		inst->said_drained = 1;
		sc_log(inst->host, LBS_LOG_WARN, NAME ": every worker of the %u has weight 0 "
		       "(drained): there is no rotation, the first eligible takes every request", n);
	}
	for (size_t i = inst->n_table; i-- > 0;)
		if (!inst->table[i].seen) {
			absent++;
			first = i;
		}
	if (absent && !inst->said_absent) {
		char shown[96];
		inst->said_absent = 1;
		sc_log(inst->host, LBS_LOG_WARN, NAME ": config field 'weights' names %zu id%s "
		       "that no worker of the %u has%s '%s' (ids must match exactly)", absent,
		       absent == 1 ? "" : "s", n, absent == 1 ? ":" : ", the first",
		       txt_show(shown, sizeof(shown), inst->table[first].id));
	}
}

static void inst_free(wrr_inst *inst)
{
	if (!inst)
		return;
	for (size_t i = 0; i < inst->n_table; i++)
		free(inst->table[i].id);
	free(inst->table);
	wrr_free(&inst->st);
	free(inst);
}

/* The "weights" object into inst->table.  Names the member on error. */
static lbs_status read_table(const cJSON *weights, wrr_inst *inst, char *err, size_t errlen)
{
	const cJSON *m;
	size_t n = 0;
	lbs_status st;

	cJSON_ArrayForEach(m, weights)
		n++;
	if (n == 0) {
		if (err && errlen)
			snprintf(err, errlen, "config field 'weights': must name at least one worker");
		return LBS_ECONFIG;
	}
	inst->table = calloc(n, sizeof(*inst->table));
	if (!inst->table)
		return LBS_ENOMEM;
	cJSON_ArrayForEach(m, weights) {
		wrr_weight *e = &inst->table[inst->n_table];

		char shown[96];

		/* no worker has an empty id (the converter refuses one): a
		 * weight no worker can ever take */
		if (!*m->string) {
			if (err && errlen)
				snprintf(err, errlen, "config field 'weights': an empty worker id");
			return LBS_ECONFIG;
		}
		st = cfg_number_of(m, txt_show(shown, sizeof(shown), m->string), 0.0, WEIGHT_MAX,
		                   &e->w, err, errlen);
		if (st != LBS_OK)
			return cfg_nested("weights", st, err, errlen);
		if (!(e->id = strdup(m->string)))
			return LBS_ENOMEM;
		inst->n_table++;
	}
	qsort(inst->table, inst->n_table, sizeof(*inst->table), cmp_weight);
	for (size_t i = 1; i < inst->n_table; i++) {
		if (!strcmp(inst->table[i - 1].id, inst->table[i].id)) {
			char shown[96];

			if (err && errlen)
				snprintf(err, errlen, "config field 'weights.%s': given twice",
				         txt_show(shown, sizeof(shown), inst->table[i].id));
			return LBS_ECONFIG;
		}
	}
	return LBS_OK;
}

static lbs_status read_config(const cJSON *cfg, wrr_inst *inst, char *err, size_t errlen)
{
	const cJSON *weights = NULL;
	const char *from = NULL;
	lbs_status st;

	st = cfg_load_ceiling(cfg, &inst->p.ceiling, err, errlen);
	if (st == LBS_OK)
		st = cfg_object(cfg, "weights", &weights, err, errlen);
	if (st == LBS_OK)
		st = cfg_string(cfg, "weights_from", weights ? "config" : "capabilities", &from,
		                err, errlen);
	if (st == LBS_OK)
		st = cfg_number(cfg, "default_weight", 0.0, WEIGHT_MAX, 1.0,
		                &inst->default_weight, err, errlen);
	if (st != LBS_OK)
		return st;
	inst->p.source = WRR_CAPABILITIES;
	for (int i = 0; i < 3; i++)
		if (!strcmp(from, source_names[i]))
			inst->p.source = (enum wrr_source)i;
	if (strcmp(from, source_names[inst->p.source])) {
		char shown[64];

		if (err && errlen)
			snprintf(err, errlen, "config field 'weights_from': must be \"capabilities\", "
			         "\"config\" or \"load\", got \"%s\"", txt_show(shown, sizeof(shown), from));
		return LBS_ECONFIG;
	}
	if ((inst->p.source == WRR_CONFIG) != (weights != NULL)) {
		if (err && errlen)
			snprintf(err, errlen, weights
			         ? "config field 'weights': only used with \"weights_from\": \"config\", "
			           "not \"%s\""
			         : "config field 'weights': required with \"weights_from\": \"%s\"",
			         from);
		return LBS_ECONFIG;
	}
	if (!weights && cJSON_GetObjectItemCaseSensitive(cfg, "default_weight")) {
		if (err && errlen)
			snprintf(err, errlen, "config field 'default_weight': only used with "
			         "\"weights_from\": \"config\", not \"%s\"", from);
		return LBS_ECONFIG;
	}
	if (!weights)
		return LBS_OK;
	st = read_table(weights, inst, err, errlen);
	if (st != LBS_OK || inst->default_weight > 0)
		return st;
	/* Weight 0 drains a worker (it is due only when no worker of a
	 * positive weight is eligible); all drained is no rotation at all,
	 * every request on the first worker. */
	for (size_t i = 0; i < inst->n_table; i++)
		if (inst->table[i].w > 0)
			return LBS_OK;
	if (err && errlen)
		snprintf(err, errlen, "config field 'weights': every weight is 0, and "
		         "'default_weight' too: no worker would be due before another");
	return LBS_ECONFIG;
}

static void wr_destroy(void *p)
{
	inst_free(p);
}

static lbs_status wr_configure(void *p, const lbs_host_api *host, const cJSON *cfg,
                               char *err, size_t errlen)
{
	wrr_inst *inst = p;
	lbs_status st;

	wrr_init(&inst->st);
	st = read_config(cfg, inst, err, errlen);
	if (st == LBS_ENOMEM && err && errlen)
		snprintf(err, errlen, NAME ": out of memory");
	if (st != LBS_OK)
		return st;
	inst->host = host;
	inst->p.weight = table_weight;
	inst->p.weight_ctx = inst;
	sc_log(host, LBS_LOG_DEBUG, NAME ": created, weights from %s, load_ceiling %g",
	       source_names[inst->p.source], inst->p.ceiling);
	return LBS_OK;
}

static lbs_status wr_create(const lbs_host_api *host, const char *config, size_t config_len,
                            void **out, char *err, size_t errlen)
{
	return sc_create(NAME, sizeof(wrr_inst), known_fields, wr_configure, wr_destroy, host,
	                 config, config_len, out, err, errlen);
}

static void wr_reason(lbs_selection *out, const void *inst_, const void *res_)
{
	const wrr_inst *inst = inst_;
	const wrr_result *res = res_;

	if (!out->reason || out->reason_len == 0)
		return;
	if (res->n_found == 1)
		sc_reason(out, NAME ": most due of %u eligible: current weight %.2f + "
		          "weight %.2f, total %.2f (weights from %s)",
		          res->n_eligible, res->current, res->weight, res->total,
		          source_names[inst->p.source]);
	else
		sc_reason(out, NAME ": %u most due of %u eligible, first at current weight "
		          "%.2f + %u x weight %.2f, total %.2f (weights from %s)",
		          res->n_found, res->n_eligible, res->current, res->shares, res->weight,
		          res->total, source_names[inst->p.source]);
}

static lbs_status wr_select(void *p, const lbs_workload *wl, const lbs_worker *const *workers,
                            uint32_t n, lbs_selection *out)
{
	wrr_inst *inst = p;
	uint32_t want, need = 0;
	wrr_result res = { 0 };
	lbs_status st;

	st = sc_check_select(wl, workers, n, out);
	forget_if_asked(inst);
	if (st == LBS_OK)
		st = wrr_prepare(&inst->st, n);
	if (st == LBS_OK) {
		sc_shards(wl, out->capacity, &want, &need);
		st = wrr_pick(&inst->st, &inst->p, wl, workers, n, want, need, out->indices,
		              &res);
	}
	/* after the pick, which refused an invalid worker */
	if (st == LBS_OK && inst->n_table && n > inst->checked_n)
		check_table(inst, workers, n);
	st = sc_select_end(&inst->n, st, out, NAME, wl, workers, n, inst->p.ceiling, res.n_found,
	                   need, &inst->cookie);
	if (st != LBS_OK)
		return st;
	wr_reason(out, inst, &res);
	return LBS_OK;
}

static lbs_status wr_score(void *p, const lbs_workload *wl, const lbs_worker *const *workers,
                           uint32_t n, double *scores)
{
	wrr_inst *inst = p;
	uint32_t want, need;
	lbs_status st = sc_check_score(wl, workers, n, scores);

	if (st == LBS_OK)
		st = wrr_prepare(&inst->st, n);
	if (st != LBS_OK)
		return st;
	/* as explain: the step of the most workers the test takes */
	sc_shards(wl, UINT32_MAX, &want, &need);
	return wrr_score(&inst->st, &inst->p, wl, workers, n, want, scores, NULL, NULL);
}

static lbs_status wr_workers_changed(void *p, const lbs_worker *const *workers, uint32_t n)
{
	wrr_inst *inst = p;

	(void)workers;
	(void)n;
	/* Workers that left stop holding table room from the next select,
	 * in every class; the ones that stay were eligible recently and keep
	 * their place in each class's rotation. */
	atomic_store_explicit(&inst->forget, 1, memory_order_release);
	return LBS_OK;
}

static lbs_status wr_stats(void *p, lbs_write_fn write, void *ctx)
{
	wrr_inst *inst = p;
	char extra[96];

	snprintf(extra, sizeof(extra), ",\"weights_from\":\"%s\"", source_names[inst->p.source]);
	return sc_stats(NAME, &inst->n, extra, write, ctx);
}

static lbs_status wr_explain(void *p, const lbs_workload *wl, const lbs_worker *const *workers,
                             uint32_t n, lbs_write_fn write, void *ctx)
{
	wrr_inst *inst = p;
	uint32_t *idx, want, need;
	double *buf;
	lbs_status st;
	wrr_result res;
	sc_explain e;

	if (sc_explain_args(wl, workers, n, write, &want, &need) != LBS_OK)
		return LBS_EINVAL;
	/* Three figures per worker: score, current weight, weight. */
	st = sc_explain_scratch(3 * n, &buf, &idx);
	if (st == LBS_OK)
		st = wrr_prepare(&inst->st, n);
	if (st == LBS_OK)
		st = wrr_score(&inst->st, &inst->p, wl, workers, n, want, buf, buf + n,
		               buf + 2 * n);
	if (st == LBS_OK)
		st = wrr_pick(&inst->st, &inst->p, wl, workers, n, want, 0, idx, &res);
	st = sc_explain_open(&e, NAME, st, buf, idx);
	if (st != LBS_OK)
		return st;
	for (uint32_t i = 0; i < n; i++) {
		cJSON *c;

		if (buf[i] < 0.0) {
			sc_explain_reject_worker(&e, wl, workers[i], inst->p.ceiling);
			continue;
		}
		c = sc_explain_candidate(&e, workers[i]->id, buf[i]);
		sc_explain_num(&e, c, "weight", buf[2 * n + i]);
		sc_explain_num(&e, c, "current_weight", buf[n + i]);
		sc_explain_num(&e, c, "due", buf[n + i] + res.shares * buf[2 * n + i]);
		sc_explain_num(&e, c, "load", worker_effective_load(workers[i]));
	}
	return sc_explain_close(&e, NAME, wl, workers, n, inst->p.ceiling, idx, res.n_found, need,
	                          wr_reason, inst, &res, write, ctx);
}

const lbs_scheduler_desc sched_wrr_desc = {
	.struct_size = sizeof(lbs_scheduler_desc),
	.name = NAME,
	.description = "nginx's smooth weighted rotation over the eligible workers; weights "
	               "from capacity, config or spare load.",
	.caps = LBS_CAP_MULTI,
	.create = wr_create,
	.destroy = wr_destroy,
	.select = wr_select,
	.score = wr_score,
	.report = NULL,
	.workers_changed = wr_workers_changed,
	.stats = wr_stats,
	.explain = wr_explain,
};
