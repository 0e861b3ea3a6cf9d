/*
 * store_ext.c -- the "lbs.ext.store/1" extension: a store as JSON, so
 * learned knowledge can move between hosts.  JSON here, LMDB in store.c.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "store.h"
#include "store_ext.h"
#include "taxonomy.h"
#include "text.h"

#define MAX_RECORDS 10000000

typedef struct export_ctx {
	lbs_write_fn write;
	void *ctx;
	int n, failed;
} export_ctx;

static int export_one(void *p, const store_item *it)
{
	export_ctx *e = p;
	cJSON *id = cJSON_CreateString(it->worker);
	char *quoted = id ? cJSON_PrintUnformatted(id) : NULL;
	char buf[2048];
	int len;

	cJSON_Delete(id);
	if (!quoted) {
		e->failed = 1;
		return 1;
	}
	/* %.17g: the numbers must read back exactly on import. */
	len = snprintf(buf, sizeof buf,
	               "%s\n{\"workload_type\":\"%s\",\"worker\":%s,\"samples\":%llu,"
	               "\"successes\":%llu,\"failures\":%llu,\"preference\":%.17g,"
	               "\"mean_duration\":%.17g,\"var_duration\":%.17g,\"last_update\":%.17g,"
	               "\"ratio_n\":%llu,\"log_ratio_mean\":%.17g,\"log_ratio_var\":%.17g}",
	               e->n ? "," : "", tax_workload_name(it->type), quoted,
	               (unsigned long long)it->h.samples, (unsigned long long)it->h.successes,
	               (unsigned long long)it->h.failures, it->h.preference, it->h.mean_duration,
	               it->h.var_duration, it->h.last_update, (unsigned long long)it->h.ratio_n,
	               it->h.log_ratio_mean, it->h.log_ratio_var);
	free(quoted);
	if (len < 0 || (size_t)len >= sizeof buf || e->write(e->ctx, buf, (size_t)len)) {
		e->failed = 1;
		return 1;
	}
	e->n++;
	return 0;
}

static lbs_status ext_export(const lbs_host_api *host, const char *dir, lbs_write_fn write,
                             void *ctx, char *err, size_t errlen)
{
	export_ctx e = {write, ctx, 0, 0};
	char head[64];
	lbs_status st;

	(void)host;
	if (!dir || !write)
		return LBS_EINVAL;
	snprintf(head, sizeof head, "{\"schema\":%d,\"records\":[", STORE_SCHEMA);
	write(ctx, head, strlen(head));
	st = store_dir_read(dir, export_one, &e, err, errlen);
	if (st == LBS_OK && e.failed) {
		snprintf(err, errlen, "store '%s': export stopped: out of memory or the writer refused",
		         dir);
		st = LBS_EIO;
	}
	write(ctx, "\n]}\n", 4);
	return st;
}

/* A count field of record i; -1 on error with err set. */
static int get_count(const cJSON *r, size_t i, const char *name, uint64_t *out, char *err,
                     size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(r, name);

	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < 0 ||
	    v->valuedouble > 9007199254740992.0 || v->valuedouble != floor(v->valuedouble)) {
		snprintf(err, errlen, "records[%zu]: field '%s': must be an integer >= 0", i, name);
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
static int get_ratio(const cJSON *r, size_t i, store_item *it, char *err, size_t errlen)
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
	if (get_count(r, i, "ratio_n", &it->h.ratio_n, err, errlen) ||
	    get_in(r, i, "log_ratio_mean", -HIST_LOG_RATIO_MAX, HIST_LOG_RATIO_MAX,
	           &it->h.log_ratio_mean, err, errlen) ||
	    get_in(r, i, "log_ratio_var", 0.0, HIST_LOG_RATIO_MAX * HIST_LOG_RATIO_MAX,
	           &it->h.log_ratio_var, err, errlen))
		return -1;
	if (it->h.ratio_n > it->h.successes) {
		snprintf(err, errlen, "records[%zu]: field 'ratio_n': must be at most successes", i);
		return -1;
	}
	return 0;
}

/* Check record i completely before anything is written. */
static int parse_record(const cJSON *r, size_t i, store_item *it, char *err, size_t errlen)
{
	static const char *const fields[] = {"workload_type", "worker", "samples", "successes",
	                                     "failures", "preference", "mean_duration",
	                                     "var_duration", "last_update", "ratio_n",
	                                     "log_ratio_mean", "log_ratio_var", NULL};
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(r, "workload_type");
	const cJSON *w = cJSON_GetObjectItemCaseSensitive(r, "worker");
	const cJSON *m;
	int type;

	if (!cJSON_IsObject(r)) {
		snprintf(err, errlen, "records[%zu]: must be an object", i);
		return -1;
	}
	cJSON_ArrayForEach(m, r) {
		size_t k = 0;
		while (fields[k] && strcmp(fields[k], m->string))
			k++;
		if (!fields[k]) {
			char shown[96];
			snprintf(err, errlen, "records[%zu]: field '%s': unknown", i,
			         txt_show(shown, sizeof shown, m->string));
			return -1;
		}
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
	it->type = (uint32_t)type;
	it->worker = w->valuestring;
	if (get_count(r, i, "samples", &it->h.samples, err, errlen) ||
	    get_count(r, i, "successes", &it->h.successes, err, errlen) ||
	    get_count(r, i, "failures", &it->h.failures, err, errlen) ||
	    get_real(r, i, "preference", 1.0, &it->h.preference, err, errlen) ||
	    get_real(r, i, "mean_duration", 1e9, &it->h.mean_duration, err, errlen) ||
	    get_real(r, i, "var_duration", 1e18, &it->h.var_duration, err, errlen) ||
	    get_real(r, i, "last_update", 1e11, &it->h.last_update, err, errlen) ||
	    get_ratio(r, i, it, err, errlen))
		return -1;
	if (it->h.successes + it->h.failures != it->h.samples) {
		snprintf(err, errlen, "records[%zu]: field 'samples': must equal successes + failures", i);
		return -1;
	}
	return 0;
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
	doc = cJSON_ParseWithLength(json, len);
	if (!doc || !cJSON_IsObject(doc)) {
		snprintf(err, errlen, "not a JSON object (expected {\"schema\": N, \"records\": [...]})");
		cJSON_Delete(doc);
		return LBS_EINVAL;
	}
	schema = cJSON_GetObjectItemCaseSensitive(doc, "schema");
	recs = cJSON_GetObjectItemCaseSensitive(doc, "records");
	if (schema && (!cJSON_IsNumber(schema) || schema->valuedouble < 1 ||
	               schema->valuedouble > STORE_SCHEMA)) {
		snprintf(err, errlen, "field 'schema': must be 1..%d (this plugin's)", STORE_SCHEMA);
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
	if (st == LBS_OK)
		st = store_dir_write(dir, items, n, flags == LBS_IMPORT_REPLACE, err, errlen);
	free(items);
	cJSON_Delete(doc);
	return st;
}

static lbs_status ext_reset(const lbs_host_api *host, const char *dir, char *err, size_t errlen)
{
	(void)host;
	if (!dir)
		return LBS_EINVAL;
	return store_dir_write(dir, NULL, 0, 1, err, errlen);
}

const lbs_ext_store store_ext = {
	.struct_size = sizeof(lbs_ext_store),
	.export_json = ext_export,
	.import_json = ext_import,
	.reset = ext_reset,
};
