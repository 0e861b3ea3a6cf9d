/*
 * orchestrator.c -- the run of one graph: which subtasks are ready, placing
 * one through a scheduler, recording its result, completion and the
 * aggregated result.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "convert.h"
#include "eligible.h"
#include "hash.h"
#include "text.h"
#include "orch_int.h"

/* Scaled by 2^-AGG_SCALE, a sum of as many doubles as a graph has
 * subtasks cannot overflow. */
#define AGG_SCALE 14
_Static_assert((1 << AGG_SCALE) >= ORCH_MAX_SUBTASKS, "AGG_SCALE too small");

uint32_t orch_count(const orch *o) { return o->n; }
const char *orch_name(const orch *o) { return o->name; }
const char *orch_id(const orch *o, uint32_t i) { return i < o->n ? o->t[i].id : NULL; }
enum orch_state orch_state_of(const orch *o, uint32_t i) { return i < o->n ? o->t[i].state : ORCH_LOST; }
int orch_is_critical(const orch *o, uint32_t i) { return i < o->n && o->t[i].critical; }
uint32_t orch_n_deps(const orch *o, uint32_t i) { return i < o->n ? o->t[i].n_deps : 0; }
uint32_t orch_dep(const orch *o, uint32_t i, uint32_t k) { return o->t[i].deps[k]; }
const uint32_t *orch_topo(const orch *o) { return o->topo; }
const char *orch_worker(const orch *o, uint32_t i) { return i < o->n ? o->t[i].worker : NULL; }
uint64_t orch_cookie(const orch *o, uint32_t i) { return i < o->n ? o->t[i].cookie : 0; }

size_t orch_id_slot(const orch *o, const char *id)
{
	uint64_t x = lbs_fnv1a(LBS_FNV_OFFSET, id);
	size_t h = (size_t)(x ^ x >> 32) & (o->id_cap - 1); /* high bits folded in */

	for (; o->by_id[h]; h = (h + 1) & (o->id_cap - 1))
		if (!strcmp(o->t[o->by_id[h] - 1].id, id))
			break;
	return h;
}

int orch_find(const orch *o, const char *id)
{
	size_t h;

	if (!id || !o->by_id)
		return -1;
	h = orch_id_slot(o, id);
	return o->by_id[h] ? (int)o->by_id[h] - 1 : -1;
}

const lbs_workload *orch_workload(const orch *o, uint32_t i)
{
	const orch_task *t = &o->t[i];
	return t->alt_used ? &t->alt[t->alt_used - 1] : &t->req;
}

uint32_t orch_alternate(const orch *o, uint32_t i)
{
	return i < o->n ? o->t[i].alt_used : 0;
}

int orch_set_priority(orch *o, uint32_t i, uint32_t priority)
{
	if (i >= o->n || priority < 1 || priority > 5)
		return -1;
	for (uint32_t k = 0; k <= o->t[i].n_alt; k++)
		(k ? &o->t[i].alt[k - 1] : &o->t[i].req)->priority = priority;
	return 0;
}

static int is_ready(const orch *o, orch_task *t, double now)
{
	if (t->state != ORCH_PENDING || t->not_before > now)
		return 0;
	for (; t->deps_met < t->n_deps; t->deps_met++) {
		enum orch_state s = o->t[t->deps[t->deps_met]].state;
		if (s != ORCH_DONE && s != ORCH_SKIPPED)
			return 0;
	}
	return 1;
}

int orch_is_ready(orch *o, uint32_t i, double now)
{
	return i < o->n && is_ready(o, &o->t[i], now);
}

typedef struct ready_key {
	int cp;
	double rank;
	const char *id;
	uint32_t i;
} ready_key;

static int ready_cmp(const void *pa, const void *pb)
{
	const ready_key *a = pa, *b = pb;

	if (a->cp != b->cp)
		return b->cp - a->cp;
	if (a->rank != b->rank)
		return a->rank > b->rank ? -1 : 1;
	return strcmp(a->id, b->id);
}

uint32_t orch_ready(orch *o, double now, uint32_t *out, uint32_t cap)
{
	ready_key *k = NULL;
	uint32_t n = 0;

	for (uint32_t i = 0; i < o->n; i++)
		n += (uint32_t)is_ready(o, &o->t[i], now);
	if (!n || !(k = malloc(n * sizeof *k)))
		return 0;
	n = 0;
	for (uint32_t i = 0; i < o->n; i++)
		if (is_ready(o, &o->t[i], now))
			k[n++] = (ready_key){o->t[i].on_cp, o->t[i].rank, o->t[i].id, i};
	qsort(k, n, sizeof *k, ready_cmp);
	for (uint32_t j = 0; j < n && j < cap; j++)
		out[j] = k[j].i;
	free(k);
	return n;
}

enum elig_reason orch_check_free(const lbs_workload *wl, const lbs_worker *w)
{
	lbs_worker free_w;

	/* Held memory and accelerators come back when the runs holding them
	 * end (orch_drive's): a subtask is not lost for them. */
	if (w->reserved_memory_bytes ||
	    (LBS_HAS_FIELD(w, lbs_worker, accel_reserved) && w->accel_reserved)) {
		free_w = *w;
		free_w.reserved_memory_bytes = 0;
		if (LBS_HAS_FIELD(w, lbs_worker, accel_reserved))
			free_w.accel_reserved = NULL;
		w = &free_w;
	}
	/* a ceiling above 1: a busy worker frees up */
	return elig_check(wl, w, 2.0, NULL);
}

/* No worker could ever take i with its exclusions, whatever the load. */
static int nowhere_left(const lbs_workload *wl, const lbs_worker *const *workers, uint32_t n)
{
	for (uint32_t w = 0; w < n; w++)
		if (orch_check_free(wl, workers[w]) == ELIG_OK)
			return 0;
	return 1;
}

void orch_placed(const orch *o, uint32_t i, int raised, lbs_workload *wl)
{
	*wl = *orch_workload(o, i);
	/* One worker per subtask: the graph is the parallelism. */
	wl->allocation = LBS_ALLOC_SINGLE;
	wl->min_shards = wl->max_shards = 1;
	if (raised && wl->priority > 1)
		wl->priority--;
}

lbs_status orch_choose(orch *o, uint32_t i, shim_sched *s, const lbs_worker *const *workers,
                       uint32_t n, int whole_fleet, uint32_t *worker, int *fell_back,
                       uint64_t *cookie)
{
	const char *ids[1];
	uint32_t idx[1];
	char reason[256];
	lbs_selection sel = {.struct_size = sizeof sel, .capacity = 1, .indices = idx, .ids = ids,
	                     .reason = reason, .reason_len = sizeof reason};
	lbs_workload *wl = &o->scratch;
	orch_task *t;
	lbs_status st;

	if (fell_back)
		*fell_back = 0;
	if (i >= o->n || !is_ready(o, &o->t[i], INFINITY))
		return LBS_EINVAL;
	t = &o->t[i];
	orch_placed(o, i, t->on_cp, wl);
	if (t->n_excluded) {
		/* The workload's own exclusions and the failed workers together,
		 * every one: a list cut short places the subtask on a worker it
		 * excludes or back on one it failed on.  The buffer lives with o
		 * and only grows, so a placement after the first allocates
		 * nothing. */
		size_t m = (size_t)wl->n_exclude + t->n_excluded;
		if (m > o->cap_excl) {
			const char **p = realloc(o->excl, m * sizeof *p);
			if (!p)
				return LBS_ENOMEM;
			o->excl = p;
			o->cap_excl = m;
		}
		if (wl->n_exclude)
			memcpy(o->excl, wl->exclude_ids, wl->n_exclude * sizeof *o->excl);
		memcpy(o->excl + wl->n_exclude, t->excluded, t->n_excluded * sizeof *o->excl);
		wl->exclude_ids = o->excl;
		wl->n_exclude = (uint32_t)m;
	}
	st = sched_select(s, wl, workers, n, &sel, fell_back);
	/* Reassign has run out of workers only when these are all there are:
	 * a host's workers available now leave out ones that may take it. */
	if (st == LBS_NO_WORKER && whole_fleet && t->n_excluded && nowhere_left(wl, workers, n))
		t->state = ORCH_LOST;
	if (st != LBS_OK)
		return st;
	*worker = idx[0];
	*cookie = sel.cookie;
	return LBS_OK;
}

int orch_commit(orch *o, uint32_t i, const char *worker_id, uint64_t cookie)
{
	if (orch_start(o, i, worker_id))
		return -1;
	o->t[i].cookie = cookie;
	return 0;
}

void orch_withdraw(const orch *o, uint32_t i, shim_sched *s, const char *worker_id,
                   uint64_t cookie)
{
	lbs_workload wl = *orch_workload(o, i);

	wl.id = orch_id(o, i); /* the outcome names the subtask */
	sched_withdraw(s, &wl, worker_id, cookie);
}

lbs_status orch_place(orch *o, uint32_t i, shim_sched *s, const lbs_worker *const *workers,
                      uint32_t n, int whole_fleet, uint32_t *worker, int *fell_back)
{
	uint64_t cookie;
	lbs_status st = orch_choose(o, i, s, workers, n, whole_fleet, worker, fell_back, &cookie);

	if (st != LBS_OK)
		return st;
	return orch_commit(o, i, workers[*worker]->id, cookie) ? LBS_ENOMEM : LBS_OK;
}

int orch_start(orch *o, uint32_t i, const char *worker_id)
{
	orch_task *t;

	if (i >= o->n || !worker_id || !is_ready(o, &o->t[i], INFINITY))
		return -1;
	t = &o->t[i];
	if (!t->worker || strcmp(t->worker, worker_id))
		if (!(t->worker = arena_strdup(o->a, worker_id)))
			return -1;
	t->state = ORCH_RUNNING;
	t->attempts++;
	t->cookie = 0;
	return 0;
}

int orch_ran_on(orch *o, uint32_t i, const char *worker_id)
{
	char *copy;

	if (i >= o->n || !worker_id || o->t[i].state != ORCH_RUNNING)
		return -1;
	if (o->t[i].worker && !strcmp(o->t[i].worker, worker_id))
		return 0;
	if (!(copy = arena_strdup(o->a, worker_id)))
		return -1;
	o->t[i].worker = copy;
	return 0;
}

/* The end of the string whose opening quote is at p, past its closing
 * one (or at the NUL of text cut short). */
static const char *string_end(const char *p)
{
	for (p++; *p && *p != '"'; p++)
		if (*p == '\\' && p[1])
			p++;
	return *p ? p + 1 : p;
}

/* The first byte below a space that is not a tab, CR or LF between
 * tokens, or strlen(text) when there is none. */
static size_t control_byte(const char *text)
{
	const char *p = text;

	while (*p) {
		if (*p == '"') {
			const char *e = string_end(p);
			for (; p < e; p++)
				if ((unsigned char)*p < 0x20)
					return (size_t)(p - text);
			continue;
		}
		if ((unsigned char)*p < 0x20 && *p != '\t' && *p != '\r' && *p != '\n')
			break;
		p++;
	}
	return (size_t)(p - text);
}

int orch_result_check(const orch *o, uint32_t i, const orch_result *r, char *err,
                      size_t errlen)
{
	const char *id;

	if (i >= o->n)
		return orch_fail(err, errlen, o->file, NULL, "no subtask %u", i);
	id = o->t[i].id;
	/* The outcome converter's bound: a host's result's duration is
	 * learned.  A modelled one is any the model gives. */
	if (!(r->duration_s >= 0 && (r->modelled || r->duration_s <= CONV_MAX_SECONDS)))
		return orch_fail(err, errlen, o->file, id, "duration must be a number in 0..%.0f s",
		                 CONV_MAX_SECONDS);
	if (!(r->progress >= 0 && r->progress <= 1))
		return orch_fail(err, errlen, o->file, id, "progress must be in 0..1");
	if (r->payload_json) {
		/* One JSON value and nothing after it, in JSON's own number
		 * forms: concat and merge hand its text on as it is. */
		const char *end, *why;
		char flaw[300];
		size_t len = strlen(r->payload_json), at;
		cJSON *p = cJSON_ParseWithOpts(r->payload_json, &end, 1);
		if (!p)
			return orch_fail(err, errlen, o->file, id, "payload is not one JSON value");
		cJSON_Delete(p);
		if ((why = txt_not_utf8(r->payload_json, len)))
			return orch_fail(err, errlen, o->file, id, "payload: %s", why);
		if (txt_json_flaw(flaw, sizeof flaw, r->payload_json, len))
			return orch_fail(err, errlen, o->file, id, "payload: %s", flaw);
		/* cJSON takes any byte up to a space for whitespace, and a raw
		 * control byte in a string: JSON does not, nor do the readers
		 * the text is handed on to */
		if ((at = control_byte(r->payload_json)) < len)
			return orch_fail(err, errlen, o->file, id,
			                 "payload: control byte 0x%02x at byte %zu (JSON allows only a "
			                 "tab, CR or LF between tokens, and none in a string)",
			                 (unsigned char)r->payload_json[at], at);
	}
	return 0;
}

int orch_record(orch *o, uint32_t i, const orch_result *r, char *err, size_t errlen)
{
	orch_task *t;
	char *copy = NULL;

	if (i >= o->n)
		return orch_fail(err, errlen, o->file, NULL, "no subtask %u", i);
	t = &o->t[i];
	if (t->state != ORCH_RUNNING)
		return orch_fail(err, errlen, o->file, t->id, "has no run to record a result for");
	if (orch_result_check(o, i, r, err, errlen))
		return -1;
	if (r->payload_json && !(copy = strdup(r->payload_json)))
		return orch_fail(err, errlen, o->file, t->id, "out of memory");
	free(t->payload);
	t->payload = copy;
	t->duration_s = r->duration_s;
	if (r->success) {
		t->state = ORCH_DONE;
		t->progress = 1;
	} else {
		t->state = ORCH_FAILED;
		/* A checkpoint never goes backwards. */
		if (r->progress > t->progress)
			t->progress = r->progress;
	}
	return 0;
}

int orch_completed(const orch *o)
{
	int all = 1;

	for (uint32_t i = 0; i < o->n; i++) {
		if (o->t[i].state == ORCH_LOST)
			return -1;
		if (o->t[i].state != ORCH_DONE && o->t[i].state != ORCH_SKIPPED)
			all = 0;
	}
	return all;
}

/* A payload's number: itself, or an object's "value".  1 with *v, else 0. */
static int number_of(const cJSON *p, double *v)
{
	if (cJSON_IsObject(p))
		p = cJSON_GetObjectItemCaseSensitive(p, "value");
	if (!cJSON_IsNumber(p))
		return 0;
	*v = p->valuedouble;
	return 1;
}

/* The end of the JSON value that starts at p (text checked as recorded:
 * JSON whose only whitespace is space, tab, CR and LF); never past the
 * NUL. */
static const char *value_end(const char *p)
{
	int depth = 0;

	do {
		if (*p == '"') {
			p = string_end(p);
		} else if (*p == '{' || *p == '[') {
			depth++, p++;
		} else if (*p == '}' || *p == ']') {
			if (--depth < 0)
				return p;
			p++;
		} else if (depth) {
			p += *p != '\0';
		} else {
			p += strcspn(p, ",}] \t\r\n");
		}
	} while (depth > 0 && *p);
	return p;
}

/* text without the whitespace between its tokens, in place (cJSON_Minify
 * lost count of strings after one ending in a backslash, "C:\\", and then
 * took spaces and "//" inside strings for whitespace and comments). */
static void strip_ws(char *text)
{
	char *to = text;

	for (const char *p = text; *p;) {
		if (*p == '"') {
			const char *e = string_end(p);
			while (p < e)
				*to++ = *p++;
		} else if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') {
			p++;
		} else {
			*to++ = *p++;
		}
	}
	*to = '\0';
}

/* The text of each member's value of the JSON object `text` (valid, as
 * recorded), in order, into at[] / len[] (room for n). */
static void member_values(const char *text, const char **at, size_t *len, int n)
{
	const char *p = text + strspn(text, " \t\r\n") + 1; /* past '{' */

	for (int k = 0; k < n; k++) {
		p += strspn(p, " \t\r\n,");
		p = string_end(p);           /* the key */
		p += strspn(p, " \t\r\n:");
		at[k] = p;
		p = value_end(p);
		len[k] = (size_t)(p - at[k]);
	}
}

/* cJSON's own item for len bytes of JSON text, printed as they are less
 * the whitespace between tokens (the result is one line): a payload comes
 * back as recorded (cJSON would read 1733390000123456789 into a double,
 * and prints 0.30000000000000004 as 0.3). */
static cJSON *raw_item(const char *at, size_t len)
{
	char *text = strndup(at, len);
	cJSON *item = NULL;

	if (text) {
		strip_ws(text);
		item = cJSON_CreateRaw(text);
	}

	free(text);
	return item;
}

static cJSON *combine(const orch *o, char *err, size_t errlen)
{
	cJSON *res = o->agg == ORCH_AGG_CONCAT ? cJSON_CreateArray()
	             : o->agg == ORCH_AGG_MERGE ? cJSON_CreateObject() : NULL;
	/* scaled: for an average whose plain sum overflows. */
	double acc = 0, scaled = 0;
	uint32_t count = 0;

	if ((o->agg == ORCH_AGG_CONCAT || o->agg == ORCH_AGG_MERGE) && !res)
		return NULL;
	for (uint32_t i = 0; i < o->n; i++) {
		const orch_task *t = &o->t[i];
		cJSON *p;
		double v;

		if (t->state != ORCH_DONE)
			continue;
		p = t->payload ? cJSON_Parse(t->payload) : cJSON_CreateNull();
		if (!p)
			goto fail;
		switch (o->agg) {
		case ORCH_AGG_CONCAT:
			cJSON_Delete(p);
			if (!(p = t->payload ? raw_item(t->payload, strlen(t->payload))
			                     : cJSON_CreateNull()))
				goto fail;
			cJSON_AddItemToArray(res, p);
			continue;
		case ORCH_AGG_MERGE: {
			int n = cJSON_GetArraySize(p), k = 0;
			const char **at;
			size_t *len;

			if (!cJSON_IsObject(p) && !cJSON_IsNull(p)) {
				cJSON_Delete(p);
				orch_fail(err, errlen, o->file, t->id,
				          "payload must be a JSON object to merge");
				goto bad;
			}
			at = malloc((size_t)(n + 1) * sizeof *at);
			len = malloc((size_t)(n + 1) * sizeof *len);
			if (!at || !len) {
				free(at);
				free(len);
				cJSON_Delete(p);
				goto fail;
			}
			if (n)
				member_values(t->payload, at, len, n);
			for (cJSON *c = p->child; c; c = c->next, k++) {
				cJSON *dup = raw_item(at[k], len[k]);
				if (!dup) {
					free(at);
					free(len);
					cJSON_Delete(p);
					goto fail;
				}
				if (cJSON_GetObjectItemCaseSensitive(res, c->string))
					cJSON_ReplaceItemInObjectCaseSensitive(res, c->string, dup);
				else
					cJSON_AddItemToObject(res, c->string, dup);
			}
			free(at);
			free(len);
			cJSON_Delete(p);
			continue;
		}
		default:
			if (cJSON_IsNull(p)) { /* nothing to count */
				cJSON_Delete(p);
				continue;
			}
			if (!number_of(p, &v)) {
				cJSON_Delete(p);
				orch_fail(err, errlen, o->file, t->id,
				          "payload must be a number (or an object with a number \"value\") "
				          "to %s", orch_agg_name(o->agg));
				goto bad;
			}
			cJSON_Delete(p);
			if (!isfinite(v)) { /* cJSON reads 1e999 as infinity */
				orch_fail(err, errlen, o->file, t->id,
				          "payload's number is beyond the range of a double");
				goto bad;
			}
			if (o->agg == ORCH_AGG_SUM || o->agg == ORCH_AGG_AVERAGE) {
				acc += v;
				scaled += ldexp(v, -AGG_SCALE);
			} else if (!count || (o->agg == ORCH_AGG_MAX ? v > acc : v < acc))
				acc = v;
			count++;
		}
	}
	if (res)
		return res;
	if (o->agg == ORCH_AGG_MAX || o->agg == ORCH_AGG_MIN)
		return count ? conv_exact_number(acc) : cJSON_CreateNull();
	if (o->agg == ORCH_AGG_AVERAGE && !count)
		return cJSON_CreateNull();
	/* A running sum that overflowed on the way may end in range (1e308,
	 * 1e308, -1e308, -1e308): the scaled one never overflows. */
	if (!isfinite(acc))
		acc = ldexp(scaled, AGG_SCALE);
	if (o->agg == ORCH_AGG_AVERAGE)
		return conv_exact_number(isfinite(acc) ? acc / count : ldexp(scaled / count, AGG_SCALE));
	if (!isfinite(acc)) {
		/* JSON has no infinity: it would print as null, a result of nothing. */
		orch_fail(err, errlen, o->file, NULL,
		          "aggregation_method 'sum': the results add up to beyond the range of a "
		          "double (about +-1.8e308)");
		return NULL;
	}
	return conv_exact_number(acc);
fail:
	orch_fail(err, errlen, o->file, NULL, "out of memory");
bad:
	cJSON_Delete(res);
	return NULL;
}

char *orch_aggregate(const orch *o, char *err, size_t errlen)
{
	cJSON *root = cJSON_CreateObject(), *skipped, *lost, *res;
	char *text = NULL;

	if (!root)
		goto oom;
	if (!(res = combine(o, err, errlen))) {
		cJSON_Delete(root);
		return NULL;
	}
	cJSON_AddStringToObject(root, "name", o->name);
	cJSON_AddStringToObject(root, "aggregation_method", orch_agg_name(o->agg));
	cJSON_AddBoolToObject(root, "completed", orch_completed(o) == 1);
	cJSON_AddItemToObject(root, "result", res);
	skipped = cJSON_AddArrayToObject(root, "skipped");
	lost = cJSON_AddArrayToObject(root, "lost");
	if (!skipped || !lost)
		goto oom;
	for (uint32_t i = 0; i < o->n; i++) {
		if (o->t[i].state == ORCH_SKIPPED)
			cJSON_AddItemToArray(skipped, cJSON_CreateString(o->t[i].id));
		else if (o->t[i].state == ORCH_LOST)
			cJSON_AddItemToArray(lost, cJSON_CreateString(o->t[i].id));
	}
	if (!(text = cJSON_PrintUnformatted(root)))
		goto oom;
	cJSON_Delete(root);
	return text;
oom:
	cJSON_Delete(root);
	orch_fail(err, errlen, o->file, NULL, "out of memory");
	return NULL;
}
