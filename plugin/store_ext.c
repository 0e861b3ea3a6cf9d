/*
 * store_ext.c -- the "lbs.ext.store/1" extension: a store as JSON, so
 * learned knowledge can move between hosts.  JSON here, LMDB in store.c.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "config.h"
#include "store.h"
#include "store_ext.h"
#include "taxonomy.h"
#include "text.h"

#define MAX_RECORDS 10000000

typedef struct export_ctx {
	lbs_write_fn write;
	void *ctx;
	int n, failed, started;
} export_ctx;

/* The head goes out with the first record, or at the end: a store that
 * cannot be opened writes nothing at all. */
static int export_head(export_ctx *e)
{
	char head[64];

	if (e->started)
		return 0;
	e->started = 1;
	snprintf(head, sizeof head, "{\"schema\":%d,\"records\":[", STORE_SCHEMA);
	return e->write(e->ctx, head, strlen(head)) != 0;
}

int store_ext_write_item(lbs_write_fn write, void *ctx, const store_item *it, int index)
{
	cJSON *id = cJSON_CreateString(it->worker);
	char *quoted = id ? cJSON_PrintUnformatted(id) : NULL;
	/* A 510-byte id of control bytes is 3,062 bytes quoted (\u00XX). */
	char buf[4096];
	int len;
	lbs_history h;

	hist_derive(&it->c, &h);
	cJSON_Delete(id);
	if (!quoted)
		return 1;
	/* %.17g: the numbers must read back exactly on import. */
	len = snprintf(buf, sizeof buf,
	               "%s\n{\"workload_type\":\"%s\",\"worker\":%s,\"samples\":%llu,"
	               "\"successes\":%llu,\"failures\":%llu,\"preference\":%.17g,"
	               "\"mean_duration\":%.17g,\"var_duration\":%.17g,\"last_update\":%.17g,"
	               "\"ratio_n\":%llu,\"log_ratio_mean\":%.17g,\"log_ratio_var\":%.17g,"
	               "\"sum_duration\":%.17g,\"sum_duration_sq\":%.17g,\"sum_log_ratio\":%.17g,"
	               "\"sum_log_ratio_sq\":%.17g,\"pref_time\":%.17g,\"pref_weight\":%.17g,"
	               "\"pref_sum\":%.17g}",
	               index ? "," : "", tax_workload_name(it->type), quoted,
	               (unsigned long long)h.samples, (unsigned long long)h.successes,
	               (unsigned long long)h.failures, h.preference, h.mean_duration,
	               h.var_duration, h.last_update, (unsigned long long)h.ratio_n,
	               h.log_ratio_mean, h.log_ratio_var, it->c.sum_duration, it->c.sum_duration_sq,
	               it->c.sum_log_ratio, it->c.sum_log_ratio_sq, it->c.pref_time,
	               it->c.pref_weight, it->c.pref_sum);
	free(quoted);
	return len < 0 || (size_t)len >= sizeof buf || write(ctx, buf, (size_t)len);
}

static int export_one(void *p, const store_item *it)
{
	export_ctx *e = p;

	if (export_head(e) || store_ext_write_item(e->write, e->ctx, it, e->n)) {
		e->failed = 1;
		return 1;
	}
	e->n++;
	return 0;
}

static lbs_status ext_export(const lbs_host_api *host, const char *dir, lbs_write_fn write,
                             void *ctx, char *err, size_t errlen)
{
	export_ctx e = {write, ctx, 0, 0, 0};
	uint64_t skipped;
	lbs_status st;

	if (!dir || !write)
		return LBS_EINVAL;
	st = store_dir_read(dir, export_one, &e, &skipped, err, errlen);
	if (st == LBS_OK && (e.failed || export_head(&e) || write(ctx, "\n]}\n", 4))) {
		snprintf(err, errlen, "store '%s': export stopped: out of memory or the writer refused",
		         dir);
		st = LBS_EIO;
	}
	/* A failed export leaves its document unclosed: never valid JSON
	 * that a host could take for the whole store. */
	if (st != LBS_OK)
		return st;
	if (skipped && host && host->log) {
		char msg[STORE_MSG_MAX + 64];

		snprintf(msg, sizeof msg, "%s; %llu such records are skipped, not exported", err,
		         (unsigned long long)skipped);
		txt_one_line(msg);
		host->log(host->host_data, LBS_LOG_WARN, msg);
	}
	if (errlen)
		err[0] = '\0';
	return LBS_OK;
}

/* A count field of record i; -1 on error with err set. */
static int get_count(const cJSON *r, size_t i, const char *name, uint64_t *out, char *err,
                     size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(r, name);

	/* Said apart: "must be an integer" of a field that is not there, or
	 * of 1e20, sent the user looking at the wrong thing. */
	if (!v) {
		snprintf(err, errlen, "records[%zu]: field '%s': required", i, name);
		return -1;
	}
	/* 2^53 itself is out: 2^53 + 1 parses as it, and was imported as a
	 * count one short of what the file said. */
	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < 0 ||
	    v->valuedouble >= 9007199254740992.0 || v->valuedouble != floor(v->valuedouble)) {
		snprintf(err, errlen, "records[%zu]: field '%s': must be an integer in "
		         "0..9007199254740991 (2^53 - 1)", i, name);
		return -1;
	}
	*out = (uint64_t)v->valuedouble;
	return 0;
}

/* A number field of record i in lo..hi; -1 on error with err set. */
static int get_in(const cJSON *r, size_t i, const char *name, double lo, double hi,
                  double *out, char *err, size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(r, name);

	if (!v) {
		snprintf(err, errlen, "records[%zu]: field '%s': required", i, name);
		return -1;
	}
	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < lo ||
	    v->valuedouble > hi) {
		snprintf(err, errlen, "records[%zu]: field '%s': must be a number in %g..%g", i, name,
		         lo, hi);
		return -1;
	}
	*out = v->valuedouble;
	return 0;
}

static int get_real(const cJSON *r, size_t i, const char *name, double hi, double *out,
                    char *err, size_t errlen)
{
	return get_in(r, i, name, 0.0, hi, out, err, errlen);
}

/*
 * The speed-ratio fields of schema 2.  An export of schema 1 has none of
 * them, and a record without them has learned no ratio: all three absent
 * is 0; some but not all is an error (a hand edit gone wrong).
 */
static int get_ratio(const cJSON *r, size_t i, lbs_history *h, char *err, size_t errlen)
{
	static const char *const names[] = {"ratio_n", "log_ratio_mean", "log_ratio_var"};
	int have = 0;

	for (int k = 0; k < 3; k++)
		have += cJSON_GetObjectItemCaseSensitive(r, names[k]) != NULL;
	if (have == 0)
		return 0;
	if (have != 3) {
		snprintf(err, errlen, "records[%zu]: fields 'ratio_n', 'log_ratio_mean' and "
		         "'log_ratio_var' go together: give all three or none", i);
		return -1;
	}
	/* What learning can produce (history.h clamps each sample). */
	if (get_count(r, i, "ratio_n", &h->ratio_n, err, errlen) ||
	    get_in(r, i, "log_ratio_mean", -HIST_LOG_RATIO_MAX, HIST_LOG_RATIO_MAX,
	           &h->log_ratio_mean, err, errlen) ||
	    get_in(r, i, "log_ratio_var", 0.0, HIST_LOG_RATIO_MAX * HIST_LOG_RATIO_MAX,
	           &h->log_ratio_var, err, errlen))
		return -1;
	return 0;
}

/* 1 when a and b differ beyond the rounding of %.17g and a derivation. */
static int differ(double a, double b)
{
	return fabs(a - b) > 1e-9 * fmax(fabs(a), fabs(b)) + 1e-12;
}

/*
 * A record that gives both its summary (what a dump shows) and its sums
 * (what the store keeps) must say one thing: the sums win, so a summary
 * they contradict would be dropped without a word (a hand edit of the
 * preference or the mean).  Nor may the sums hold a negative variance
 * (the derivation would show 0).
 */
static int sums_agree(size_t i, const lbs_history *h, const hist_sums *c, char *err,
                      size_t errlen)
{
	/* A rounding slack far above that of summing many durations. */
	const double slack = 1.0 + 1e-6;
	lbs_history d;
	const char *f = NULL;
	double given = 0.0, kept = 0.0;

	if (c->successes && c->sum_duration * c->sum_duration >
	                            (double)c->successes * c->sum_duration_sq * slack) {
		snprintf(err, errlen, "records[%zu]: fields 'sum_duration' and 'sum_duration_sq' "
		         "disagree: the variance they give is negative", i);
		return -1;
	}
	if (c->ratio_n && c->sum_log_ratio * c->sum_log_ratio >
	                          (double)c->ratio_n * c->sum_log_ratio_sq * slack) {
		snprintf(err, errlen, "records[%zu]: fields 'sum_log_ratio' and 'sum_log_ratio_sq' "
		         "disagree: the variance they give is negative", i);
		return -1;
	}
	hist_derive(c, &d);
	if (differ(h->preference, d.preference))
		f = "preference", given = h->preference, kept = d.preference;
	else if (differ(h->mean_duration, d.mean_duration))
		f = "mean_duration", given = h->mean_duration, kept = d.mean_duration;
	else if (differ(h->var_duration, d.var_duration))
		f = "var_duration", given = h->var_duration, kept = d.var_duration;
	else if (differ(h->log_ratio_mean, d.log_ratio_mean))
		f = "log_ratio_mean", given = h->log_ratio_mean, kept = d.log_ratio_mean;
	else if (differ(h->log_ratio_var, d.log_ratio_var))
		f = "log_ratio_var", given = h->log_ratio_var, kept = d.log_ratio_var;
	if (!f)
		return 0;
	snprintf(err, errlen, "records[%zu]: field '%s' is %.15g, but the record's sums give "
	         "%.15g: drop the seven sums to import the summary, or give both as an export "
	         "writes them", i, f, given, kept);
	return -1;
}

/*
 * A summary without sums becomes sums by its counts (mean times count), so
 * a mean or variance of no samples would be stored as 0 without a word:
 * refused instead.  Only there: with a count, the round trip through the
 * sums keeps the value up to rounding.
 */
static int summary_counted(size_t i, const lbs_history *h, char *err, size_t errlen)
{
	const char *f = NULL, *count = "successes";
	double v = 0.0;

	if (!h->successes && h->mean_duration != 0.0)
		f = "mean_duration", v = h->mean_duration;
	else if (!h->successes && h->var_duration != 0.0)
		f = "var_duration", v = h->var_duration;
	else if (!h->ratio_n && h->log_ratio_mean != 0.0)
		f = "log_ratio_mean", v = h->log_ratio_mean, count = "ratio_n";
	else if (!h->ratio_n && h->log_ratio_var != 0.0)
		f = "log_ratio_var", v = h->log_ratio_var, count = "ratio_n";
	if (!f)
		return 0;
	snprintf(err, errlen, "records[%zu]: field '%s' is %.15g, but '%s' is 0: a value of no "
	         "samples, which the store would keep as 0 (give 0, or the count it was "
	         "measured on)", i, f, v, count);
	return -1;
}

/*
 * A summary's means and variances are bounded each on its own, the sums
 * it becomes together: a mean of 9e8 s and a variance of 5e17 s^2 are
 * each in range, but no durations of at most 1e9 s have both (their mean
 * square, var + mean^2, would be 1.31e18), and the store skips the record
 * at every read.  Refused, named by the fields the record gave, not
 * bounded as a migration bounds a record the store already held: an
 * import is the operator's to correct, and a value changed without a
 * word would not be the one they gave.
 */
static int summary_sums(size_t i, const lbs_history *h, const hist_sums *c, char *err,
                        size_t errlen)
{
	hist_sums b = *c;
	const char *f = hist_sums_bound(&b), *why = hist_sums_problem(c);

	if (!f && !why)
		return 0;
	if (f && !strncmp(f, "sum_duration", 12))
		snprintf(err, errlen, "records[%zu]: fields 'mean_duration' %.15g and 'var_duration' "
		         "%.15g do not go together: durations of at most 1e9 s give var_duration + "
		         "mean_duration^2 at most 1e18, these %.15g (a read would skip the record)", i,
		         h->mean_duration, h->var_duration,
		         h->var_duration + h->mean_duration * h->mean_duration);
	else if (f && !strncmp(f, "sum_log_ratio", 13))
		snprintf(err, errlen, "records[%zu]: fields 'log_ratio_mean' %.15g and "
		         "'log_ratio_var' %.15g do not go together: log ratios clamped to +-20 give "
		         "log_ratio_var + log_ratio_mean^2 at most 400, these %.15g (a read would skip "
		         "the record)", i, h->log_ratio_mean, h->log_ratio_var,
		         h->log_ratio_var + h->log_ratio_mean * h->log_ratio_mean);
	else
		snprintf(err, errlen, "records[%zu]: the sums its fields give could not be read "
		         "back (%s)", i, why ? why : f);
	return -1;
}

/*
 * The sums of schema 3, exact: all seven or none.  Without them (an export
 * of schema 1 or 2) they come from the record's fields as a migration
 * makes them (hist_sums_from_history), and must be sums a read takes.
 */
static int get_sums(const cJSON *r, size_t i, const lbs_history *h, hist_sums *c, char *err,
                    size_t errlen)
{
	static const char *const names[] = {"sum_duration", "sum_duration_sq", "sum_log_ratio",
	                                    "sum_log_ratio_sq", "pref_time", "pref_weight",
	                                    "pref_sum"};
	double v[7];
	int have = 0;
	const char *why;

	for (int k = 0; k < 7; k++)
		have += cJSON_GetObjectItemCaseSensitive(r, names[k]) != NULL;
	hist_sums_from_history(h, c);
	if (have == 0)
		return summary_counted(i, h, err, errlen) || summary_sums(i, h, c, err, errlen) ? -1 : 0;
	if (have != 7) {
		snprintf(err, errlen, "records[%zu]: the fields 'sum_duration', 'sum_duration_sq', "
		         "'sum_log_ratio', 'sum_log_ratio_sq', 'pref_time', 'pref_weight' and "
		         "'pref_sum' go together: give all seven or none", i);
		return -1;
	}
	/* pref_time is a time as last_update is: one far in the future
	 * would hold the preference's decay, and every later outcome's
	 * weight with it, until then. */
	for (int k = 0; k < 7; k++)
		if (get_in(r, i, names[k], k == 2 ? -1e300 : 0.0, k == 4 ? HIST_TIME_MAX : 1e300, &v[k],
		           err, errlen))
			return -1;
	c->sum_duration = v[0];
	c->sum_duration_sq = v[1];
	c->sum_log_ratio = v[2];
	c->sum_log_ratio_sq = v[3];
	c->pref_time = v[4];
	c->pref_weight = v[5];
	c->pref_sum = v[6];
	if ((why = hist_sums_problem(c))) {
		snprintf(err, errlen, "records[%zu]: %s", i, why);
		return -1;
	}
	return sums_agree(i, h, c, err, errlen);
}

/* Check record i completely before anything is written. */
static int parse_record(const cJSON *r, size_t i, store_item *it, char *err, size_t errlen)
{
	static const char *const fields[] = {"workload_type", "worker", "samples", "successes",
	                                     "failures", "preference", "mean_duration",
	                                     "var_duration", "last_update", "ratio_n",
	                                     "log_ratio_mean", "log_ratio_var", "sum_duration",
	                                     "sum_duration_sq", "sum_log_ratio", "sum_log_ratio_sq",
	                                     "pref_time", "pref_weight", "pref_sum", NULL};
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(r, "workload_type");
	const cJSON *w = cJSON_GetObjectItemCaseSensitive(r, "worker");
	const cJSON *m;
	const char *why;
	unsigned seen = 0;
	int type;
	lbs_history h;

	if (!cJSON_IsObject(r)) {
		snprintf(err, errlen, "records[%zu]: must be an object", i);
		return -1;
	}
	cJSON_ArrayForEach(m, r) {
		size_t k = 0;
		while (fields[k] && strcmp(fields[k], m->string))
			k++;
		if (!fields[k] || seen & 1u << k) {
			char shown[96];
			snprintf(err, errlen, "records[%zu]: field '%s': %s", i,
			         txt_show(shown, sizeof shown, m->string),
			         fields[k] ? "given twice" : "unknown");
			return -1;
		}
		seen |= 1u << k;
	}
	if (!cJSON_IsString(t) || (type = tax_workload_parse(t->valuestring)) < 0) {
		snprintf(err, errlen, "records[%zu]: field 'workload_type': must be a workload type "
		         "name such as \"VISION\"", i);
		return -1;
	}
	if (!cJSON_IsString(w) || !w->valuestring[0] || strlen(w->valuestring) > STORE_MAX_ID) {
		snprintf(err, errlen, "records[%zu]: field 'worker': must be a worker id of 1..%d bytes",
		         i, STORE_MAX_ID);
		return -1;
	}
	/* The converters refuse such an id from a fleet or an outcome, and
	 * an export could not write it as JSON. */
	if (!txt_utf8_valid(w->valuestring)) {
		snprintf(err, errlen, "records[%zu]: field 'worker': must be valid UTF-8", i);
		return -1;
	}
	it->type = (uint32_t)type;
	it->worker = w->valuestring;
	memset(&h, 0, sizeof h);
	if (get_count(r, i, "samples", &h.samples, err, errlen) ||
	    get_count(r, i, "successes", &h.successes, err, errlen) ||
	    get_count(r, i, "failures", &h.failures, err, errlen) ||
	    get_real(r, i, "preference", 1.0, &h.preference, err, errlen) ||
	    get_real(r, i, "mean_duration", HIST_DURATION_MAX, &h.mean_duration, err, errlen) ||
	    get_real(r, i, "var_duration", HIST_DURATION_MAX * HIST_DURATION_MAX, &h.var_duration,
	             err, errlen) ||
	    get_real(r, i, "last_update", HIST_TIME_MAX, &h.last_update, err, errlen) ||
	    get_ratio(r, i, &h, err, errlen))
		return -1;
	/* What the store reads back: an import cannot write what a read
	 * would skip. */
	if ((why = store_hist_problem(&h))) {
		snprintf(err, errlen, "records[%zu]: %s", i, why);
		return -1;
	}
	return get_sums(r, i, &h, &it->c, err, errlen);
}

/*
 * Exactly one JSON document, nothing but whitespace after it (a second
 * object carrying an unknown field must not pass unseen), no NUL byte
 * anywhere.  NULL with err set naming the byte.
 */
static cJSON *parse_document(const char *json, size_t len, char *err, size_t errlen)
{
	const char *nul = memchr(json, '\0', len);

	if (nul) {
		snprintf(err, errlen, "a NUL byte at byte %zu: not JSON text", (size_t)(nul - json));
		return NULL;
	}
	return cfg_json(json, len, NULL, err, errlen);
}

/*
 * cJSON decodes "a\u0000b" to "a" and gives no length, so a NUL inside a
 * string is found in the text: its string tokens come in the same order
 * as the tree's strings (keys before their values), txt_json_next_string.
 */
static int next_string(const char **p, const char *end, int *nul)
{
	const char *at;
	int more = txt_json_next_string(p, end, &at);

	*nul = at != NULL;
	return more;
}

/* The first item whose key (*in_key) or string value holds a NUL. */
static const cJSON *nul_string(const cJSON *item, const char **p, const char *end, int *in_key)
{
	for (; item; item = item->next) {
		const cJSON *found;
		int nul;

		if (item->string && next_string(p, end, &nul) && nul) {
			*in_key = 1;
			return item;
		}
		if (cJSON_IsString(item) && next_string(p, end, &nul) && nul) {
			*in_key = 0;
			return item;
		}
		if (item->child && (found = nul_string(item->child, p, end, in_key)))
			return found;
	}
	return NULL;
}

static int holds(const cJSON *tree, const cJSON *item)
{
	if (tree == item)
		return 1;
	for (const cJSON *c = tree->child; c; c = c->next)
		if (holds(c, item))
			return 1;
	return 0;
}

/* Refuse a document with a NUL in any string, naming where: -1 with err. */
static int check_nul(const cJSON *doc, const char *json, size_t len, char *err, size_t errlen)
{
	const char *p = json;
	int in_key = 0;
	const cJSON *bad = nul_string(doc, &p, json + len, &in_key), *m, *r;
	char where[160] = "", name[96];
	size_t i;

	if (!bad)
		return 0;
	cJSON_ArrayForEach(m, doc) {
		if (!holds(m, bad))
			continue;
		snprintf(where, sizeof where, "field '%s'", txt_show(name, sizeof name, m->string));
		i = 0;
		if (cJSON_IsArray(m))
			cJSON_ArrayForEach(r, m) {
				const cJSON *f;

				if (holds(r, bad)) {
					snprintf(where, sizeof where, "records[%zu]", i);
					cJSON_ArrayForEach(f, r)
						if (holds(f, bad))
							snprintf(where, sizeof where, "records[%zu]: field '%s'",
							         i, txt_show(name, sizeof name, f->string));
					break;
				}
				i++;
			}
		break;
	}
	snprintf(err, errlen, "%s: %s holds \\u0000 (a NUL character), which lbsched cannot keep",
	         where, in_key ? "the field name" : "the string");
	return -1;
}

static int by_pair(const void *a, const void *b)
{
	const store_item *x = *(const store_item *const *)a, *y = *(const store_item *const *)b;
	int c = x->type != y->type ? (x->type < y->type ? -1 : 1) : strcmp(x->worker, y->worker);

	/* Ties in document order (the items are one array). */
	return c ? c : (x < y ? -1 : x > y);
}

/* Refuse two records of one (workload type, worker) pair: which one was
 * meant cannot be known.  -1 with err set, or LBS_ENOMEM as -2. */
static int check_duplicates(const store_item *items, size_t n, char *err, size_t errlen)
{
	const store_item **v;
	char shown[96];
	int rc = 0;

	if (n < 2)
		return 0;
	v = malloc(n * sizeof *v);
	if (!v)
		return -2;
	for (size_t i = 0; i < n; i++)
		v[i] = &items[i];
	qsort(v, n, sizeof *v, by_pair);
	for (size_t i = 1; i < n && !rc; i++) {
		if (v[i]->type == v[i - 1]->type && !strcmp(v[i]->worker, v[i - 1]->worker)) {
			snprintf(err, errlen, "records[%zu] and records[%zu]: the same (workload_type, "
			         "worker) pair (%s, %s); give each pair once", (size_t)(v[i - 1] - items),
			         (size_t)(v[i] - items), tax_workload_name(v[i]->type),
			         txt_show(shown, sizeof shown, v[i]->worker));
			rc = -1;
		}
	}
	free(v);
	return rc;
}

static lbs_status ext_import(const lbs_host_api *host, const char *dir, const char *json,
                             size_t len, uint32_t flags, char *err, size_t errlen)
{
	cJSON *doc, *recs, *schema, *r;
	store_item *items;
	size_t n, i = 0;
	lbs_status st;

	(void)host;
	if (!dir || !json || flags > LBS_IMPORT_REPLACE)
		return LBS_EINVAL;
	doc = parse_document(json, len, err, errlen);
	if (!doc)
		return LBS_EINVAL;
	if (!cJSON_IsObject(doc)) {
		snprintf(err, errlen, "not a JSON object (expected {\"schema\": N, \"records\": [...]})");
		cJSON_Delete(doc);
		return LBS_EINVAL;
	}
	if (check_nul(doc, json, len, err, errlen)) {
		cJSON_Delete(doc);
		return LBS_EINVAL;
	}
	/* No string holds \u0000 now, so a flaw is a number cJSON read as
	 * another (01 as 1): named by its field. */
	{
		char why[512];

		if (txt_json_flaw(why, sizeof why, json, len)) {
			snprintf(err, errlen, "%s", why);
			cJSON_Delete(doc);
			return LBS_EINVAL;
		}
	}
	cJSON_ArrayForEach(r, doc) {
		char shown[96];

		if ((strcmp(r->string, "schema") && strcmp(r->string, "records")) ||
		    cJSON_GetObjectItemCaseSensitive(doc, r->string) != r) {
			snprintf(err, errlen, "field '%s': %s", txt_show(shown, sizeof shown, r->string),
			         cJSON_GetObjectItemCaseSensitive(doc, r->string) != r ? "given twice"
			                                                               : "unknown");
			cJSON_Delete(doc);
			return LBS_EINVAL;
		}
	}
	schema = cJSON_GetObjectItemCaseSensitive(doc, "schema");
	recs = cJSON_GetObjectItemCaseSensitive(doc, "records");
	if (schema && (!cJSON_IsNumber(schema) || schema->valuedouble < 1 ||
	               schema->valuedouble > STORE_SCHEMA ||
	               schema->valuedouble != floor(schema->valuedouble))) {
		snprintf(err, errlen, "field 'schema': must be an integer 1..%d (this plugin's)",
		         STORE_SCHEMA);
		cJSON_Delete(doc);
		return LBS_EINVAL;
	}
	if (!cJSON_IsArray(recs) || (n = (size_t)cJSON_GetArraySize(recs)) > MAX_RECORDS) {
		snprintf(err, errlen, "field 'records': must be an array of at most %d records",
		         MAX_RECORDS);
		cJSON_Delete(doc);
		return LBS_EINVAL;
	}
	items = calloc(n ? n : 1, sizeof *items);
	if (!items) {
		cJSON_Delete(doc);
		return LBS_ENOMEM;
	}
	st = LBS_OK;
	cJSON_ArrayForEach(r, recs) {
		if (parse_record(r, i, &items[i], err, errlen)) {
			st = LBS_EINVAL;
			break;
		}
		i++;
	}
	if (st == LBS_OK) {
		int dup = check_duplicates(items, n, err, errlen);

		st = dup == -2 ? LBS_ENOMEM : dup ? LBS_EINVAL : LBS_OK;
	}
	if (st == LBS_OK)
		st = store_dir_write(dir, items, n, flags == LBS_IMPORT_REPLACE, 1, err, errlen);
	free(items);
	cJSON_Delete(doc);
	return st;
}

static lbs_status ext_reset(const lbs_host_api *host, const char *dir, char *err, size_t errlen)
{
	(void)host;
	if (!dir)
		return LBS_EINVAL;
	return store_dir_write(dir, NULL, 0, 1, 0, err, errlen);
}

const lbs_ext_store store_ext = {
	.struct_size = sizeof(lbs_ext_store),
	.export_json = ext_export,
	.import_json = ext_import,
	.reset = ext_reset,
};
