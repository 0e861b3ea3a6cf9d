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
#include "textbuf.h"

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
	fleet_refused_fn refused;
	void *ctx;
	size_t skip;   /* a key's prefix, before its id */
	textbuf text;  /* {"workers":[ and the workers taken: a fleet file's bound holds */
	uint32_t live;
} reader;

static void refuse(reader *r, const char *key, const char *msg)
{
	char line[1200];

	snprintf(line, sizeof line, "%.1100s; refused, the worker is absent", msg);
	txt_one_line(line);
	if (r->refused)
		r->refused(r->ctx, key + r->skip, line);
}

/* The record, printed, after the workers taken; refused when it would
 * take more than its share of a host's room. */
static void keep(reader *r, const char *key, const char *where, const cJSON *rec)
{
	char msg[1100], *p = cJSON_PrintUnformatted(rec);
	size_t pl;

	if (!p) {
		snprintf(msg, sizeof msg, "%s: out of memory", where);
		refuse(r, key, msg);
		return;
	}
	pl = strlen(p);
	if (pl + 1 > FLEET_REDIS_MAX_WORKER_TEXT) {
		snprintf(msg, sizeof msg, "%s: its record and load are %zu bytes as the fleet's JSON "
		         "(numbers such as 1e14 print whole), more than %u", where, pl,
		         FLEET_REDIS_MAX_WORKER_TEXT - 1);
		refuse(r, key, msg);
	} else if (!(r->live && textbuf_write(&r->text, ",", 1)) &&
	           !textbuf_write(&r->text, p, pl)) {
		r->live++;
	}
	cJSON_free(p);
}

/* One worker's HMGET reply (record, load): into the text, or refused. */
static void take(reader *r, const char *key, const redisReply *rep)
{
	char where[256], fwhere[280], show[96], msg[1100];
	const char *id = key + r->skip;
	const redisReply *f[2];
	cJSON *rec = NULL, *load = NULL;
	arena *a = arena_new();
	conv_ctx cc = {a, NULL, NULL, msg, sizeof msg, NULL};
	lbs_worker w;

	snprintf(where, sizeof where, "%s key '%s'", rc_where(r->c), txt_show(show, sizeof show, key));
	if (!a) {
		snprintf(msg, sizeof msg, "%s: out of memory", where);
		refuse(r, key, msg);
		return;
	}
	if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2) {
		snprintf(msg, sizeof msg, "%s: not a hash of record and load", where);
		refuse(r, key, msg);
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
			refuse(r, key, msg);
			goto out;
		}
		/* grown since its size was asked: caught by the size the next round */
		if (f[i]->len > FLEET_REDIS_MAX_FIELD) {
			snprintf(msg, sizeof msg, "%s: field '%s' is %zu bytes, more than %u", where,
			         name, (size_t)f[i]->len, FLEET_REDIS_MAX_FIELD);
			refuse(r, key, msg);
			goto out;
		}
	}
	/* which of the two is not JSON: the message names it */
	snprintf(fwhere, sizeof fwhere, "%s field 'record'", where);
	if (!(rec = conv_parse(&cc, f[0]->str, f[0]->len, fwhere))) {
		refuse(r, key, msg);
		goto out;
	}
	snprintf(fwhere, sizeof fwhere, "%s field 'load'", where);
	if (f[1]->type == REDIS_REPLY_STRING &&
	    !(load = conv_parse(&cc, f[1]->str, f[1]->len, fwhere))) {
		refuse(r, key, msg);
		goto out;
	}
	if (!cJSON_IsObject(rec) || (load && !cJSON_IsObject(load))) {
		snprintf(msg, sizeof msg, "%s: field '%s' is not a JSON object", where,
		         cJSON_IsObject(rec) ? "load" : "record");
		refuse(r, key, msg);
		goto out;
	}
	/* a worker speaks for its own key only */
	const cJSON *wid = cJSON_GetObjectItemCaseSensitive(rec, "worker_id");
	if (!cJSON_IsString(wid) || strcmp(wid->valuestring, id) != 0) {
		snprintf(msg, sizeof msg, "%s: the record's worker_id is %s '%s', its key's", where,
		         !wid ? "missing: it must be" : "not", txt_show(show, sizeof show, id));
		refuse(r, key, msg);
		goto out;
	}
	/* nor does its load: the merged fleet named it only by its place
	 * (workers[N]), and a load for another worker is no one's */
	const cJSON *lid = load ? cJSON_GetObjectItemCaseSensitive(load, "worker_id") : NULL;
	if (cJSON_IsString(lid) && strcmp(lid->valuestring, id) != 0) {
		char other[96];

		snprintf(msg, sizeof msg, "%s: field 'load.worker_id': '%s' is not its key's "
		         "worker, '%s'", where, txt_show(other, sizeof other, lid->valuestring),
		         txt_show(show, sizeof show, id));
		refuse(r, key, msg);
		goto out;
	}
	if (load) {
		cJSON_DeleteItemFromObjectCaseSensitive(rec, "load");
		cJSON_AddItemToObject(rec, "load", load);
		load = NULL;
	}
	if (conv_worker(&cc, rec, where, &w) != 0) {
		refuse(r, key, msg);
		goto out;
	}
	keep(r, key, where, rec);
out:
	cJSON_Delete(rec);
	cJSON_Delete(load);
	arena_free(a);
}

/*
 * The next reply of a pipeline: 0 with *rep; 1 when Redis refused the
 * command for this key alone (WRONGTYPE: not a hash), said when `say`
 * (a key refused already is one line, not one per command); -1 with err
 * when it fails for every key (the connection, or a refusal that is not
 * the key's: one line for the fleet, not one per server).
 */
static int next_reply(reader *r, const char *key, int say, redisReply **rep, char *err,
                      size_t n)
{
	char msg[1024], line[1200], show[96];
	size_t wl = strlen(rc_where(r->c)) + 2;
	const char *words;

	if ((*rep = rc_reply(r->c, msg, sizeof msg)))
		return 0;
	if (rc_broken(r->c)) {
		snprintf(err, n, "%s", msg);
		return -1;
	}
	/* msg is "<where>: <server's words>" */
	words = strlen(msg) > wl ? msg + wl : msg;
	if (!strncmp(words, "NOAUTH", 6) || !strncmp(words, "WRONGPASS", 9)) {
		snprintf(err, n, "%s", msg);
		return -1;
	}
	/* A user without a command, or a Redis older than HSTRLEN (3.2) or
	 * with it renamed: the fleet's fault, said once, not each key's. */
	if ((!strncmp(words, "NOPERM", 6) && strstr(words, " to run ")) ||
	    !strncmp(words, "ERR unknown command", 19)) {
		snprintf(err, n, "%s; " FLEET_REDIS_READER_NEEDS " (docs/SECURITY.md)", msg);
		return -1;
	}
	snprintf(line, sizeof line, "%s key '%s': %s", rc_where(r->c),
	         txt_show(show, sizeof show, key), words);
	if (say)
		refuse(r, key, line);
	return 1;
}

/*
 * The keys' fields, pipelined: first their sizes, then only the keys whose
 * fields are all within FLEET_REDIS_MAX_FIELD.  Two round trips rather
 * than one script with the same guard: a reader needs no EVAL (its ACL
 * stays +scan +hstrlen +hmget, all read-only), and a Redis without
 * scripting serves it.  The price is the gap between the two, in which a
 * field may grow: take() checks the length again, and the next round asks
 * first.  -1 with err when Redis fails.
 */
static int fetch(reader *r, char **keys, size_t nk, char *err, size_t n)
{
	static const char *const field[2] = {"record", "load"};
	unsigned char *skip = calloc(nk + 1, 1);
	int rc = -1;

	if (!skip) {
		snprintf(err, n, "%s: out of memory", rc_where(r->c));
		return -1;
	}
	for (size_t i = 0; i < nk; i++) {
		for (int f = 0; f < 2; f++) {
			const char *argv[3] = {"HSTRLEN", keys[i], field[f]};
			if (rc_append_argv(r->c, 3, argv, NULL) < 0) {
				snprintf(err, n, "%s: out of memory", rc_where(r->c));
				goto out;
			}
		}
	}
	for (size_t i = 0; i < nk; i++) {
		for (int f = 0; f < 2; f++) {
			char msg[1100], show[96];
			redisReply *rep;
			int got = next_reply(r, keys[i], !skip[i], &rep, err, n);

			if (got < 0)
				goto out;
			if (got > 0 || skip[i]) { /* refused: one line for the key */
				skip[i] = 1;
				if (rep)
					freeReplyObject(rep);
				continue;
			}
			if (rep->type != REDIS_REPLY_INTEGER) {
				snprintf(msg, sizeof msg, "%s key '%s': HSTRLEN gave no length",
				         rc_where(r->c), txt_show(show, sizeof show, keys[i]));
				refuse(r, keys[i], msg);
				skip[i] = 1;
			} else if (rep->integer > (long long)FLEET_REDIS_MAX_FIELD) {
				snprintf(msg, sizeof msg, "%s key '%s': field '%s' is %lld bytes, more than %u",
				         rc_where(r->c), txt_show(show, sizeof show, keys[i]), field[f],
				         rep->integer, FLEET_REDIS_MAX_FIELD);
				refuse(r, keys[i], msg);
				skip[i] = 1;
			}
			freeReplyObject(rep);
		}
	}
	for (size_t i = 0; i < nk; i++) {
		const char *argv[4] = {"HMGET", keys[i], "record", "load"};
		if (!skip[i] && rc_append_argv(r->c, 4, argv, NULL) < 0) {
			snprintf(err, n, "%s: out of memory", rc_where(r->c));
			goto out;
		}
	}
	for (size_t i = 0; i < nk; i++) {
		redisReply *rep;
		int got;

		if (skip[i])
			continue;
		if ((got = next_reply(r, keys[i], 1, &rep, err, n)) < 0)
			goto out;
		if (got > 0)
			continue;
		take(r, keys[i], rep);
		freeReplyObject(rep);
		if (r->text.failed) {
			snprintf(err, n, "%s: out of memory", rc_where(r->c));
			goto out;
		}
		if (r->text.len > FILE_MAX_BYTES) {
			/* the rest of the replies are not read: the connection is spent */
			snprintf(err, n, "%s: the live fleet is more than %u bytes", rc_where(r->c),
			         FILE_MAX_BYTES);
			goto out;
		}
	}
	rc = 0;
out:
	free(skip);
	return rc;
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
	long rounds = 0;

	pattern(prefix, pat, sizeof pat);
	*nk = 0;
	do {
		const char *argv[6] = {"SCAN", cursor, "MATCH", pat, "COUNT", "1000"};
		/* Redis's SCAN ends; a server whose cursor never comes back to
		 * 0 kept this loop going for ever, each reply within its time. */
		if (++rounds > FLEET_REDIS_MAX_SCANS) {
			snprintf(err, n, "%s: SCAN did not finish in %d rounds (%d keys each): the "
			         "server is not Redis, or holds far more than lbsched's keys",
			         rc_where(r->c), FLEET_REDIS_MAX_SCANS, 1000);
			goto fail;
		}
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
                       fleet_refused_fn refused, void *ctx, size_t *len, uint32_t *n_live,
                       char *err, size_t n)
{
	reader r = {c, refused, ctx, strlen(prefix) + strlen(FLEET_REDIS_SPACE), {0}, 0};
	char **keys = NULL, *text = NULL;
	size_t nk = 0, nfree = 0;

	if (textbuf_write(&r.text, "{\"workers\":[", 12)) {
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
			size_t kl = r.skip + strlen(ids[nk]) + 1;
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
	if (fetch(&r, keys, nk, err, n) < 0)
		goto out;
	if (textbuf_write(&r.text, "]}", 2)) {
		snprintf(err, n, "%s: out of memory", rc_where(c));
		goto out;
	}
	text = r.text.p;
	*len = r.text.len;
	*n_live = r.live;
	r.text.p = NULL;
out:
	free_keys(keys, nfree);
	textbuf_free(&r.text);
	return text;
}

int fleet_source_is_redis(const char *src)
{
	return !strncasecmp(src, "redis://", 8) || !strncasecmp(src, "rediss://", 9);
}

typedef struct warn_by_line {
	conv_warn_fn fn;
	void *ctx;
} warn_by_line;

static void refused_line(void *ctx, const char *id, const char *line)
{
	const warn_by_line *w = ctx;

	(void)id; /* the line names its key */
	if (w->fn)
		w->fn(w->ctx, line);
}

char *fleet_source_read(const char *src, const char *password_file, int insecure,
                        conv_warn_fn warn, void *ctx, size_t *len, char *err, size_t n)
{
	warn_by_line w = {warn, ctx};
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
	text = fleet_redis_read(c, fleet_redis_prefix(&t), NULL, 0, refused_line, &w, len, &live,
	                        err, n);
	if (text && !live) {
		snprintf(err, n, "%s: no live worker under '%s' (every key expired or was refused)",
		         rc_where(c), fleet_redis_prefix(&t));
		free(text);
		text = NULL;
	}
	rc_close(c);
	return text;
}
