/*
 * sched_util.c -- glue shared by the schedulers of this plugin.
 */
#include "sched_util.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "eligible.h"
#include "text.h"

/* Text an explain() writes, gathered whole. */
typedef struct gathered {
	char *p;
	size_t len, cap;
	int oom;
} gathered;

static int gather(void *ctx, const char *data, size_t len)
{
	gathered *g = ctx;

	if (g->oom)
		return 1;
	if (g->len + len + 1 > g->cap) {
		size_t cap = (g->len + len + 1) * 2;
		char *p = realloc(g->p, cap);

		if (!p) {
			g->oom = 1;
			return 1;
		}
		g->p = p;
		g->cap = cap;
	}
	memcpy(g->p + g->len, data, len);
	g->len += len;
	g->p[g->len] = '\0';
	return 0;
}

lbs_status sc_explain_doc(const lbs_scheduler_desc *d, void *inst, const lbs_workload *wl,
                          const lbs_worker *const *workers, uint32_t n, cJSON **doc)
{
	gathered g = { 0 };
	lbs_status st = d->explain(inst, wl, workers, n, gather, &g);

	*doc = NULL;
	if (st == LBS_OK && g.oom)
		st = LBS_ENOMEM;
	if (st == LBS_OK && !(*doc = cJSON_Parse(g.p ? g.p : "")))
		st = LBS_EINTERNAL;
	free(g.p);
	return st;
}

lbs_status sc_stats(const char *name, const sched_counters *c,
                    const char *extra, lbs_write_fn write, void *ctx)
{
	char buf[256];
	int len;

	if (!write)
		return LBS_EINVAL;
	len = snprintf(buf, sizeof(buf),
	               "{\"scheduler\":\"%s\",\"selects\":%llu,\"no_worker\":%llu,"
	               "\"errors\":%llu,\"reports\":%llu",
	               name,
	               (unsigned long long)atomic_load_explicit(&c->selects, memory_order_relaxed),
	               (unsigned long long)atomic_load_explicit(&c->no_worker, memory_order_relaxed),
	               (unsigned long long)atomic_load_explicit(&c->errors, memory_order_relaxed),
	               (unsigned long long)atomic_load_explicit(&c->reports, memory_order_relaxed));
	if (len < 0 || (size_t)len >= sizeof(buf))
		return LBS_EINTERNAL;
	/* extra as it is, however long: a store's and its fleet's figures
	 * pass 1,200 bytes with names shown escaped (tests/test_fleet.sh), and
	 * the whole object once went in one buffer of 1,024, past which stats
	 * failed. */
	if (write(ctx, buf, (size_t)len) == 0 &&
	    (!extra || !*extra || write(ctx, extra, strlen(extra)) == 0))
		write(ctx, "}", 1);
	return LBS_OK;
}

lbs_status sc_create(const char *who, size_t size, const char *const *known,
                     sc_configure_fn configure, void (*destroy)(void *),
                     const lbs_host_api *host, const char *config, size_t config_len,
                     void **out, char *err, size_t errlen)
{
	cJSON *cfg = NULL;
	lbs_status st;
	void *inst;

	if (!out)
		return LBS_EINVAL;
	*out = NULL;
	if (err && errlen)
		err[0] = '\0';
	inst = calloc(1, size);
	if (!inst) {
		if (err && errlen)
			snprintf(err, errlen, "%s: out of memory", who);
		return LBS_ENOMEM;
	}
	st = cfg_parse(config, config_len, &cfg, err, errlen);
	if (st == LBS_OK)
		st = cfg_check_fields(cfg, known, err, errlen);
	if (st == LBS_OK)
		st = configure(inst, host, cfg, err, errlen);
	cJSON_Delete(cfg);
	if (st != LBS_OK) {
		/* an allocation deep in configure() may say nothing itself */
		if (st == LBS_ENOMEM && err && errlen && !err[0])
			snprintf(err, errlen, "%s: out of memory", who);
		destroy(inst);
		return st;
	}
	*out = inst;
	return LBS_OK;
}

lbs_status sc_check_workload(const lbs_workload *wl)
{
	if (!wl || wl->struct_size < LBS_WORKLOAD_SIZE_V1_0)
		return LBS_EINVAL;
	if (wl->n_exclude && !wl->exclude_ids)
		return LBS_EINVAL;
	if (wl->n_required_accels &&
	    (!wl->required_accel_kinds || !wl->required_accel_counts))
		return LBS_EINVAL;
	/* A kind not known here (a later minor's) is not placed as one
	 * worker: the host would read the answer as several. */
	if (wl->allocation > LBS_ALLOC_REPLICATED)
		return LBS_EINVAL;
	if ((wl->allocation == LBS_ALLOC_SHARDED ||
	     wl->allocation == LBS_ALLOC_REPLICATED) &&
	    wl->max_shards < wl->min_shards)
		return LBS_EINVAL;
	return LBS_OK;
}

lbs_status sc_check_select(const lbs_workload *wl,
                           const lbs_worker *const *workers, uint32_t n,
                           lbs_selection *out)
{
	if (!out || out->struct_size < LBS_SELECTION_SIZE_V1_0 ||
	    !out->indices || !out->ids)
		return LBS_EINVAL;
	out->n_selected = 0;
	out->cookie = 0;
	if (out->reason && out->reason_len)
		out->reason[0] = '\0';
	if (n && !workers)
		return LBS_EINVAL;
	return sc_check_workload(wl);
}

lbs_status sc_check_score(const lbs_workload *wl, const lbs_worker *const *workers, uint32_t n,
                          const double *scores)
{
	lbs_status st = sc_check_workload(wl);

	if (st == LBS_OK && n && (!workers || !scores))
		return LBS_EINVAL;
	return st;
}

void sc_shards(const lbs_workload *wl, uint32_t capacity, uint32_t *want,
               uint32_t *need)
{
	uint32_t max = 1, min = 1;

	if (wl->allocation == LBS_ALLOC_SHARDED ||
	    wl->allocation == LBS_ALLOC_REPLICATED) {
		/* min_shards 0 is outside the ABI; reading it as 1 keeps
		 * "LBS_OK means at least one worker" true, and max_shards 0
		 * (with it: less than min is refused) the same, or no worker
		 * was wanted while one was needed (no_worker among eligible
		 * workers, with a reason about something else). */
		min = wl->min_shards ? wl->min_shards : 1;
		max = wl->max_shards ? wl->max_shards : 1;
	}
	*want = max < capacity ? max : capacity;
	*need = min;
}

void sc_fill(lbs_selection *out, const lbs_worker *const *workers, uint32_t k,
             uint64_t cookie)
{
	for (uint32_t i = 0; i < k; i++)
		out->ids[i] = workers[out->indices[i]]->id;
	out->n_selected = k;
	out->cookie = cookie;
}

int sc_picks_has(const sc_picks *p, uint64_t at, uint32_t k, uint64_t h)
{
	if (p->seq - at > SC_PICKS)
		return 0;
	for (uint32_t i = 0; i < k; i++)
		if (p->h[(at + i) % SC_PICKS] == h)
			return 1;
	return 0;
}

lbs_status sc_select_end(sched_counters *c, lbs_status st, lbs_selection *out, const char *who,
                         const lbs_workload *wl, const lbs_worker *const *workers, uint32_t n,
                         double ceiling, uint32_t found, uint32_t need, uint64_t *cookie)
{
	if (st != LBS_OK) {
		sc_bump(&c->errors);
		return st;
	}
	sc_bump(&c->selects);
	if (found == 0 || found < need) {
		sc_bump(&c->no_worker);
		sc_reason_none(out, who, wl, workers, n, ceiling, found, need);
		return LBS_NO_WORKER;
	}
	sc_fill(out, workers, found, ++*cookie);
	return LBS_OK;
}

void sc_reason(lbs_selection *out, const char *fmt, ...)
{
	va_list ap;

	if (!out->reason || out->reason_len == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(out->reason, out->reason_len, fmt, ap);
	va_end(ap);
	/* Worker ids and test types are the host's input; the host logs
	 * the sentence. */
	txt_one_line(out->reason);
}

/* Short names of rejection reasons, for counts in one sentence. */
static const char *reason_label(enum elig_reason r)
{
	switch (r) {
	case ELIG_OK:
		/* passing the filter, yet not found: a scheduler that scores
		 * devices sees a worker's first 64 (hwaware.h) */
		return "only a device past the 64th (unscored)";
	case ELIG_EXCLUDED:
		return "excluded";
	case ELIG_NO_DEVICE:
		return "no device";
	case ELIG_BACKEND:
		return "backend";
	case ELIG_PRECISION:
		return "precision";
	case ELIG_FEATURE:
		return "feature";
	case ELIG_MEMORY:
		return "memory";
	case ELIG_COMPUTE:
		return "compute units";
	case ELIG_ACCEL:
		return "accelerator";
	case ELIG_OVERLOADED:
		return "overloaded";
	}
	return "other";
}

void sc_reason_none(lbs_selection *out, const char *who,
                    const lbs_workload *wl, const lbs_worker *const *workers,
                    uint32_t n, double ceiling, uint32_t found, uint32_t need)
{
	uint32_t counts[ELIG_OVERLOADED + 1] = { 0 };
	char list[256];
	size_t used = 0;

	if (!out->reason || out->reason_len == 0)
		return;
	if (n == 0) {
		sc_reason(out, "%s: no workers were offered", who);
		return;
	}
	if (out->capacity < need) {
		sc_reason(out, "%s: the selection has room for %u workers, the workload needs at least %u",
		          who, out->capacity, need);
		return;
	}
	if (found > 0) {
		sc_reason(out, "%s: only %u eligible worker%s, the workload needs at least %u",
		          who, found, found == 1 ? "" : "s", need);
		return;
	}
	for (uint32_t i = 0; i < n; i++) {
		const lbs_worker *w = workers[i];

		if (w && w->struct_size >= LBS_WORKER_SIZE_V1_0 && w->id)
			counts[elig_check(wl, w, ceiling, NULL)]++;
	}
	list[0] = '\0';
	for (int r = ELIG_OK; r <= ELIG_OVERLOADED; r++) {
		int len;

		if (!counts[r] || used >= sizeof(list))
			continue;
		len = snprintf(list + used, sizeof(list) - used, "%s%s %u",
		               used ? ", " : "", reason_label((enum elig_reason)r),
		               counts[r]);
		if (len > 0)
			used += (size_t)len;
	}
	sc_reason(out, "%s: no eligible worker among %u (%s)", who, n, list);
}

/* Six decimals: enough to compare, and "0.83" reads better than
 * "0.83000000000000007".  From 2^53 / 1e6 up a double has no sixth
 * decimal to round, and x * 1e6 would overflow to inf (written as null)
 * above about 1.8e302. */
static double tidy(double x)
{
	return isfinite(x) && fabs(x) < 9e9 ? round(x * 1e6) / 1e6 : x;
}

lbs_status sc_explain_begin(sc_explain *e, const char *scheduler)
{
	memset(e, 0, sizeof(*e));
	e->root = cJSON_CreateObject();
	if (!e->root)
		return LBS_ENOMEM;
	if (!cJSON_AddStringToObject(e->root, "scheduler", scheduler) ||
	    !(e->chosen = cJSON_AddArrayToObject(e->root, "chosen")) ||
	    !(e->candidates = cJSON_AddArrayToObject(e->root, "candidates")) ||
	    !(e->rejected = cJSON_AddArrayToObject(e->root, "rejected"))) {
		cJSON_Delete(e->root);
		e->root = NULL;
		return LBS_ENOMEM;
	}
	return LBS_OK;
}

cJSON *sc_explain_candidate(sc_explain *e, const char *id, double score)
{
	cJSON *o = cJSON_CreateObject();

	if (!o || !cJSON_AddItemToArray(e->candidates, o)) {
		cJSON_Delete(o);
		e->oom = 1;
		return NULL;
	}
	sc_explain_str(e, o, "worker", id);
	sc_explain_num(e, o, "score", score);
	return o;
}

void sc_explain_num(sc_explain *e, cJSON *obj, const char *key, double v)
{
	if (obj && !cJSON_AddNumberToObject(obj, key, tidy(v)))
		e->oom = 1;
}

void sc_explain_str(sc_explain *e, cJSON *obj, const char *key, const char *v)
{
	if (obj && !cJSON_AddStringToObject(obj, key, v))
		e->oom = 1;
}

void sc_explain_reject(sc_explain *e, const char *id, const char *reason)
{
	cJSON *o = cJSON_CreateObject();

	if (!o || !cJSON_AddItemToArray(e->rejected, o)) {
		cJSON_Delete(o);
		e->oom = 1;
		return;
	}
	sc_explain_str(e, o, "worker", id);
	sc_explain_str(e, o, "reason", reason);
}

void sc_explain_chosen(sc_explain *e, const char *id)
{
	cJSON *s = cJSON_CreateString(id);

	if (!s || !cJSON_AddItemToArray(e->chosen, s)) {
		cJSON_Delete(s);
		e->oom = 1;
	}
}

void sc_explain_reason(sc_explain *e, const char *reason)
{
	sc_explain_str(e, e->root, "reason", reason);
}

lbs_status sc_explain_end(sc_explain *e, lbs_write_fn write, void *ctx)
{
	char *text = NULL;

	free(e->scores);
	free(e->idx);
	e->scores = NULL;
	e->idx = NULL;
	if (!e->oom)
		text = cJSON_PrintUnformatted(e->root);
	cJSON_Delete(e->root);
	e->root = NULL;
	if (!text)
		return LBS_ENOMEM;
	write(ctx, text, strlen(text));
	cJSON_free(text);
	return LBS_OK;
}

void sc_log(const lbs_host_api *host, int32_t level, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (!host || host->struct_size < LBS_HOST_SIZE_V1_0 || !host->log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	host->log(host->host_data, level, msg);
}

lbs_status sc_explain_args(const lbs_workload *wl, const lbs_worker *const *workers, uint32_t n,
                           lbs_write_fn write, uint32_t *want, uint32_t *need)
{
	if (!write || sc_check_workload(wl) != LBS_OK || (n && !workers))
		return LBS_EINVAL;
	sc_shards(wl, UINT32_MAX, want, need);
	if (*want > n)
		*want = n;
	return LBS_OK;
}

lbs_status sc_explain_scratch(uint32_t n, double **scores, uint32_t **idx)
{
	*scores = NULL;
	*idx = NULL;
	if (n == 0)
		return LBS_OK;
	*scores = malloc(n * sizeof(**scores));
	*idx = malloc(n * sizeof(**idx));
	if (!*scores || !*idx) {
		free(*scores);
		free(*idx);
		*scores = NULL;
		*idx = NULL;
		return LBS_ENOMEM;
	}
	return LBS_OK;
}

lbs_status sc_explain_open(sc_explain *e, const char *scheduler, lbs_status st, double *scores,
                           uint32_t *idx)
{
	if (st == LBS_OK)
		st = sc_explain_begin(e, scheduler);
	if (st != LBS_OK) {
		free(scores);
		free(idx);
		return st;
	}
	e->scores = scores;
	e->idx = idx;
	return LBS_OK;
}

void sc_explain_reject_worker(sc_explain *e, const lbs_workload *wl, const lbs_worker *w,
                              double ceiling)
{
	sc_explain_reject(e, w->id, elig_reason_text(elig_check(wl, w, ceiling, NULL)));
}

lbs_status sc_explain_close(sc_explain *e, const char *who, const lbs_workload *wl,
                            const lbs_worker *const *workers, uint32_t n, double ceiling,
                            uint32_t *idx, uint32_t found, uint32_t need, sc_reason_fn reason,
                            const void *a, const void *b, lbs_write_fn write, void *ctx)
{
	char text[384] = "";
	lbs_selection sel = { .struct_size = sizeof(sel), .capacity = UINT32_MAX,
		              .indices = idx, .reason = text, .reason_len = sizeof(text) };

	if (found == 0 || found < need) {
		sc_reason_none(&sel, who, wl, workers, n, ceiling, found, need);
	} else {
		for (uint32_t i = 0; i < found; i++)
			sc_explain_chosen(e, workers[idx[i]]->id);
		sel.n_selected = found;
		reason(&sel, a, b);
	}
	sc_explain_reason(e, text);
	return sc_explain_end(e, write, ctx);
}
