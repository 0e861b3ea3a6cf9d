/*
 * fleet_redis.c -- read the live fleet the agents keep in Redis
 * (fleet_redis.h), each record checked on its own before it joins.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "arena.h"
#include "file.h"
#include "fleet_redis.h"
#include "text.h"

const char *fleet_redis_prefix(const rc_target *t)
{
	return t->prefix[0] ? t->prefix : FLEET_REDIS_DEFAULT_PREFIX;
}

int fleet_redis_key(const char *prefix, const char *id, char *buf, size_t n)
{
	int w = snprintf(buf, n, "%s" FLEET_REDIS_SPACE "%s", prefix, id);

	return w < 0 || (size_t)w >= n ? -1 : 0;
}

typedef struct reader {
	rc_conn *c;
	conv_warn_fn refused;
	void *ctx;
	cJSON *list;
	uint32_t live;
	size_t bytes; /* of the records taken: a fleet file's bound holds */
} reader;

static void refuse(reader *r, const char *msg)
{
	char line[1200];

	snprintf(line, sizeof line, "%.1100s; refused, the worker is absent", msg);
	txt_one_line(line);
	if (r->refused)
		r->refused(r->ctx, line);
}

/* One worker's HMGET reply (record, load): into the list, or refused. */
static void take(reader *r, const char *key, const char *id, const redisReply *rep)
{
	char where[256], show[96], msg[1100];
	const redisReply *f[2];
	cJSON *rec = NULL, *load = NULL;
	arena *a = arena_new();
	conv_ctx cc = {a, NULL, NULL, msg, sizeof msg, NULL};
	lbs_worker w;

	snprintf(where, sizeof where, "%s key '%s'", rc_where(r->c), txt_show(show, sizeof show, key));
	if (!a) {
		snprintf(msg, sizeof msg, "%s: out of memory", where);
		refuse(r, msg);
		return;
	}
	if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2) {
		snprintf(msg, sizeof msg, "%s: not a hash of record and load", where);
		refuse(r, msg);
		goto out;
	}
	f[0] = rep->element[0];
	f[1] = rep->element[1];
	if (f[0]->type == REDIS_REPLY_NIL) /* expired or half written: absent */
		goto out;
	for (int i = 0; i < 2; i++) {
		const char *name = i ? "load" : "record";
		if (f[i]->type == REDIS_REPLY_NIL)
			continue;
		if (f[i]->type != REDIS_REPLY_STRING) {
			snprintf(msg, sizeof msg, "%s: field '%s' is not a string", where, name);
			refuse(r, msg);
			goto out;
		}
		if (f[i]->len > FLEET_REDIS_MAX_FIELD) {
			snprintf(msg, sizeof msg, "%s: field '%s' is %zu bytes, more than %u", where,
			         name, (size_t)f[i]->len, FLEET_REDIS_MAX_FIELD);
			refuse(r, msg);
			goto out;
		}
	}
	if (!(rec = conv_parse(&cc, f[0]->str, f[0]->len, where)) ||
	    (f[1]->type == REDIS_REPLY_STRING &&
	     !(load = conv_parse(&cc, f[1]->str, f[1]->len, where)))) {
		refuse(r, msg);
		goto out;
	}
	if (!cJSON_IsObject(rec) || (load && !cJSON_IsObject(load))) {
		snprintf(msg, sizeof msg, "%s: field '%s' is not a JSON object", where,
		         cJSON_IsObject(rec) ? "load" : "record");
		refuse(r, msg);
		goto out;
	}
	/* a worker speaks for its own key only */
	const cJSON *wid = cJSON_GetObjectItemCaseSensitive(rec, "worker_id");
	if (!cJSON_IsString(wid) || strcmp(wid->valuestring, id) != 0) {
		snprintf(msg, sizeof msg, "%s: the record's worker_id is not '%s', its key's", where,
		         txt_show(show, sizeof show, id));
		refuse(r, msg);
		goto out;
	}
	if (load) {
		cJSON_DeleteItemFromObjectCaseSensitive(rec, "load");
		cJSON_AddItemToObject(rec, "load", load);
		load = NULL;
	}
	if (conv_worker(&cc, rec, where, &w) != 0) {
		refuse(r, msg);
		goto out;
	}
	cJSON_AddItemToArray(r->list, rec);
	rec = NULL;
	r->live++;
	r->bytes += f[0]->len + (f[1]->type == REDIS_REPLY_STRING ? f[1]->len : 0);
out:
	cJSON_Delete(rec);
	cJSON_Delete(load);
	arena_free(a);
}

/* HMGET the keys, pipelined; -1 with err when Redis fails. */
static int fetch(reader *r, char **keys, size_t nk, size_t skip, char *err, size_t n)
{
	for (size_t i = 0; i < nk; i++) {
		const char *argv[4] = {"HMGET", keys[i], "record", "load"};
		if (rc_append_argv(r->c, 4, argv, NULL) < 0) {
			snprintf(err, n, "%s: out of memory", rc_where(r->c));
			return -1;
		}
	}
	for (size_t i = 0; i < nk; i++) {
		char msg[1024];
		redisReply *rep = rc_reply(r->c, msg, sizeof msg);
		if (!rep) {
			if (rc_broken(r->c)) {
				snprintf(err, n, "%s", msg);
				return -1;
			}
			/* WRONGTYPE: not a hash; msg is "<where>: <server's words>" */
			char line[1200], show[96];
			size_t wl = strlen(rc_where(r->c)) + 2;
			const char *words = strlen(msg) > wl ? msg + wl : msg;

			/* Not this key's fault but the connection's: one line
			 * for the fleet, not one per server. */
			if (!strncmp(words, "NOAUTH", 6) || !strncmp(words, "WRONGPASS", 9)) {
				snprintf(err, n, "%s", msg);
				return -1;
			}
			snprintf(line, sizeof line, "%s key '%s': %s", rc_where(r->c),
			         txt_show(show, sizeof show, keys[i]), words);
			refuse(r, line);
			continue;
		}
		take(r, keys[i], keys[i] + skip, rep);
		freeReplyObject(rep);
		if (r->bytes > FILE_MAX_BYTES) {
			/* the rest of the replies are not read: the connection is spent */
			snprintf(err, n, "%s: the live fleet is more than %u bytes", rc_where(r->c),
			         FILE_MAX_BYTES);
			return -1;
		}
	}
	return 0;
}

/* The prefix with glob characters escaped, then "fleet:*", for SCAN. */
static void pattern(const char *prefix, char *buf, size_t n)
{
	size_t o = 0;

	for (const char *p = prefix; *p && o + 3 < n; p++) {
		if (strchr("*?[]\\", *p))
			buf[o++] = '\\';
		buf[o++] = *p;
	}
	snprintf(buf + o, n - o, FLEET_REDIS_SPACE "*");
}

static void free_keys(char **keys, size_t nk)
{
	for (size_t i = 0; i < nk; i++)
		free(keys[i]);
	free(keys);
}

/* By text, then by place in the array: the first copy of a key first. */
static int by_key(const void *a, const void *b)
{
	char *const *x = *(char *const *const *)a, *const *y = *(char *const *const *)b;
	int rc = strcmp(*x, *y);

	return rc ? rc : (x > y) - (x < y);
}

/*
 * Each key once, in the order first seen: the converter refuses a fleet
 * with an id twice, and that refusal takes every worker.  A host lists a
 * server twice (nginx's way of weighting it, or an address and a name
 * resolving to it), and SCAN may return a key more than once.  -1 when
 * out of memory, nothing changed.
 */
static int unique_keys(char **keys, size_t *nk)
{
	char ***by;
	const char *run;
	size_t o = 0;

	if (*nk < 2)
		return 0;
	if (!(by = malloc(*nk * sizeof *by)))
		return -1;
	for (size_t i = 0; i < *nk; i++)
		by[i] = &keys[i];
	qsort(by, *nk, sizeof *by, by_key);
	run = *by[0];
	for (size_t i = 1; i < *nk; i++) {
		if (strcmp(*by[i], run) != 0) {
			run = *by[i];
			continue;
		}
		free(*by[i]);
		*by[i] = NULL;
	}
	free(by);
	for (size_t i = 0; i < *nk; i++)
		if (keys[i])
			keys[o++] = keys[i];
	*nk = o;
	return 0;
}

/* Every key under the prefix, by SCAN; NULL with err. */
static char **scan(reader *r, const char *prefix, size_t *nk, char *err, size_t n)
{
	char pat[2 * RC_PREFIX_MAX + 16], cursor[32] = "0";
	char **keys = NULL;
	size_t cap = 0;

	pattern(prefix, pat, sizeof pat);
	*nk = 0;
	do {
		const char *argv[6] = {"SCAN", cursor, "MATCH", pat, "COUNT", "1000"};
		redisReply *rep = rc_command_argv(r->c, err, n, 6, argv, NULL);
		if (!rep)
			goto fail;
		if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
		    rep->element[0]->type != REDIS_REPLY_STRING ||
		    rep->element[0]->len >= sizeof cursor ||
		    rep->element[1]->type != REDIS_REPLY_ARRAY) {
			snprintf(err, n, "%s: SCAN gave an unexpected reply", rc_where(r->c));
			freeReplyObject(rep);
			goto fail;
		}
		memcpy(cursor, rep->element[0]->str, rep->element[0]->len);
		cursor[rep->element[0]->len] = '\0';
		for (size_t i = 0; i < rep->element[1]->elements; i++) {
			const redisReply *k = rep->element[1]->element[i];
			if (k->type != REDIS_REPLY_STRING)
				continue;
			if (*nk == FLEET_REDIS_MAX_WORKERS) {
				snprintf(err, n, "%s: more than %d workers under '%s'", rc_where(r->c),
				         FLEET_REDIS_MAX_WORKERS, prefix);
				freeReplyObject(rep);
				goto fail;
			}
			if (*nk == cap) {
				size_t nc = cap ? cap * 2 : 64;
				char **grown = realloc(keys, nc * sizeof *keys);
				if (!grown) {
					snprintf(err, n, "%s: out of memory", rc_where(r->c));
					freeReplyObject(rep);
					goto fail;
				}
				keys = grown;
				cap = nc;
			}
			/* a key holding a NUL byte is nobody's: cut, then refused by its id */
			if (!(keys[*nk] = strndup(k->str, k->len))) {
				snprintf(err, n, "%s: out of memory", rc_where(r->c));
				freeReplyObject(rep);
				goto fail;
			}
			(*nk)++;
		}
		freeReplyObject(rep);
	} while (strcmp(cursor, "0") != 0);
	if (!keys)
		keys = malloc(1);
	return keys;
fail:
	free_keys(keys, *nk);
	return NULL;
}

char *fleet_redis_read(rc_conn *c, const char *prefix, const char *const *ids, size_t n_ids,
                       conv_warn_fn refused, void *ctx, size_t *len, uint32_t *n_live,
                       char *err, size_t n)
{
	reader r = {c, refused, ctx, NULL, 0, 0};
	cJSON *doc = cJSON_CreateObject();
	char **keys = NULL, *text = NULL;
	size_t nk = 0, nfree = 0, skip = strlen(prefix) + strlen(FLEET_REDIS_SPACE);

	if (!doc || !(r.list = cJSON_AddArrayToObject(doc, "workers"))) {
		snprintf(err, n, "%s: out of memory", rc_where(c));
		goto out;
	}
	if (ids) {
		if (!(keys = calloc(n_ids + 1, sizeof *keys))) {
			snprintf(err, n, "%s: out of memory", rc_where(c));
			goto out;
		}
		nfree = n_ids;
		for (; nk < n_ids; nk++) {
			size_t kl = skip + strlen(ids[nk]) + 1;
			if (!(keys[nk] = malloc(kl)) || fleet_redis_key(prefix, ids[nk], keys[nk], kl)) {
				snprintf(err, n, "%s: out of memory", rc_where(c));
				goto out;
			}
		}
	} else if (!(keys = scan(&r, prefix, &nk, err, n))) {
		goto out;
	} else {
		nfree = nk;
	}
	if (unique_keys(keys, &nk) < 0) {
		snprintf(err, n, "%s: out of memory", rc_where(c));
		goto out;
	}
	nfree = nk;
	if (fetch(&r, keys, nk, skip, err, n) < 0)
		goto out;
	if (!(text = cJSON_PrintUnformatted(doc))) {
		snprintf(err, n, "%s: out of memory", rc_where(c));
		goto out;
	}
	*len = strlen(text);
	*n_live = r.live;
out:
	free_keys(keys, nfree);
	cJSON_Delete(doc);
	return text;
}

int fleet_source_is_redis(const char *src)
{
	return !strncasecmp(src, "redis://", 8) || !strncasecmp(src, "rediss://", 9);
}

char *fleet_source_read(const char *src, const char *password_file, int insecure,
                        conv_warn_fn warn, void *ctx, size_t *len, char *err, size_t n)
{
	rc_target t = {0};
	rc_conn *c;
	char *text;
	uint32_t live = 0;

	if (!fleet_source_is_redis(src))
		return file_read(src, len, err, n);
	if (rc_parse(src, &t, err, n) < 0)
		return NULL;
	t.password_file = password_file;
	t.insecure = insecure;
	if (!(c = rc_open(&t, err, n)))
		return NULL;
	text = fleet_redis_read(c, fleet_redis_prefix(&t), NULL, 0, warn, ctx, len, &live, err, n);
	if (text && !live) {
		snprintf(err, n, "%s: no live worker under '%s' (every key expired or was refused)",
		         rc_where(c), fleet_redis_prefix(&t));
		free(text);
		text = NULL;
	}
	rc_close(c);
	return text;
}
