/*
 * sink_redis.c -- the agent's state in Redis, as the hash
 * <prefix>fleet:<worker_id> (host-shim/lib/fleet_redis.h): "record" when it
 * changed or the key was new, "load" every interval, and the key's expiry
 * set again each time, in one MULTI/EXEC so that a reader never sees a load
 * without its expiry.
 * The key is the worker's own id: with a Redis ACL user per worker allowed
 * only its own key, a worker cannot write another's (docs/SECURITY.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "fleet_redis.h"
#include "sink.h"
#include "text.h"

typedef struct redis_sink {
	ag_sink base;
	rc_target t;
	rc_conn *c;      /* NULL after a failure: opened again next time */
	char key[RC_PREFIX_MAX + AG_NAME + 16];
	char ttl_ms[24];
	unsigned bare;   /* samples since the record was last written */
} redis_sink;

/* The record goes with every this many samples, changed or not: a field
 * removed by hand (the key kept, so no HSET says the hash is new) comes
 * back within as many intervals.  The agent's ACL has no read to find it
 * missing. */
#define AG_RECORD_EVERY 30

/* err for the server's error reply to cmd on the sink's key: the key and
 * the server's words whole, as the shim's reader names a key. */
static void key_error(const redis_sink *s, const char *cmd, const char *text, char *err,
                      size_t n)
{
	/* A password missing or wrong is the connection's, not the key's. */
	if (!strncmp(text, "NOAUTH", 6) || !strncmp(text, "WRONGPASS", 9))
		snprintf(err, n, "%s: %s (give --password-file)", rc_where(s->c), text);
	else
		snprintf(err, n, "%s key '%s': %s: %s", rc_where(s->c), s->key, cmd, text);
	txt_one_line(err);
}

/* MULTI, HSET key load L [record R], PEXPIRE key ttl, EXEC: the HSET's
 * count of new fields, or -1 with err.  Only commands the per-worker ACL
 * of docs/SECURITY.md allows (+multi +exec +hset +pexpire): an agent
 * upgraded under it must go on publishing.  A count lost to a reply that
 * timed out while Redis ran the transaction later is covered by the
 * caller: after a failure the next sample writes the whole record. */
static long long put(redis_sink *s, const char *record, const char *load, char *err, size_t n)
{
	const char *multi[1] = {"MULTI"}, *exec[1] = {"EXEC"};
	const char *hset[6] = {"HSET", s->key, "load", load, "record", record};
	const char *expire[3] = {"PEXPIRE", s->key, s->ttl_ms};
	redisReply *r = NULL;
	long long added = -1;
	int failed = 0;

	if (rc_append_argv(s->c, 1, multi, NULL) < 0 ||
	    rc_append_argv(s->c, record ? 6 : 4, hset, NULL) < 0 ||
	    rc_append_argv(s->c, 3, expire, NULL) < 0 ||
	    rc_append_argv(s->c, 1, exec, NULL) < 0) {
		snprintf(err, n, "%s: out of memory", rc_where(s->c));
		return -1;
	}
	/* every reply is read, so that the connection stays in step; the
	 * first failure is said (a command refused when queued, NOPERM,
	 * makes EXEC's EXECABORT, which says less) */
	static const char *const cmd[4] = {"MULTI", "HSET", "PEXPIRE", "EXEC"};
	for (int i = 0; i < 4; i++) {
		char msg[512];
		freeReplyObject(r);
		r = rc_reply_raw(s->c, msg, sizeof msg);
		if (!r && !failed)
			snprintf(err, n, "%s", msg);
		else if (r && r->type == REDIS_REPLY_ERROR && !failed)
			key_error(s, cmd[i], r->str, err, n);
		failed |= !r || r->type == REDIS_REPLY_ERROR;
		if (!r && rc_broken(s->c))
			break;
	}
	/* EXEC ran both: one may fail (HSET on a key of another type) while
	 * the other applied, so the failure is named, not "not applied" */
	if (!failed && r && r->type == REDIS_REPLY_ARRAY && r->elements == 2) {
		for (int i = 0; i < 2; i++)
			if (r->element[i]->type == REDIS_REPLY_ERROR && !failed) {
				key_error(s, cmd[i + 1], r->element[i]->str, err, n);
				failed = 1;
			}
		if (!failed && r->element[0]->type == REDIS_REPLY_INTEGER)
			added = r->element[0]->integer;
	}
	if (added < 0 && !failed)
		snprintf(err, n, "%s key '%s': EXEC gave an unexpected reply; the transaction "
		         "was not applied", rc_where(s->c), s->key);
	freeReplyObject(r);
	return added;
}

/* PEXPIRE of the key, ms milliseconds as text: 0, or -1 with err. */
static int expire_ms(redis_sink *s, const char *ms, char *err, size_t n)
{
	const char *argv[3] = {"PEXPIRE", s->key, ms};
	redisReply *r = NULL;
	int rc = -1;

	if (rc_append_argv(s->c, 3, argv, NULL) < 0)
		snprintf(err, n, "%s: out of memory", rc_where(s->c));
	else if ((r = rc_reply_raw(s->c, err, n)) && r->type == REDIS_REPLY_ERROR)
		key_error(s, "PEXPIRE", r->str, err, n);
	/* Redis answers 0 or 1: a server that answers +OK to anything was
	 * taken for Redis, and run went on publishing into nothing */
	else if (r && r->type != REDIS_REPLY_INTEGER) {
		char show[96], what[100];
		int text = r->type == REDIS_REPLY_STATUS || r->type == REDIS_REPLY_STRING;

		if (text)
			snprintf(what, sizeof what, "'%s'", txt_show(show, sizeof show, r->str));
		snprintf(err, n, "%s key '%s': PEXPIRE answered %s, not an integer: the server is "
		         "not Redis", rc_where(s->c), s->key,
		         text ? what : r->type == REDIS_REPLY_ARRAY ? "an array" : "nil");
	} else if (r)
		rc = 0;
	freeReplyObject(r);
	return rc;
}

/* Whether TYPE's answer t names a type that is not a hash: one of Redis's
 * own, or a module's, whose names Redis holds to exactly 9 characters of
 * A-Z, a-z, 0-9, '-' and '_' ("ReJSON-RL", "MBbloom--").  Any other
 * answer ("OK" from a server that is not Redis) is left to what follows,
 * which says that. */
static int other_type(const char *t)
{
	static const char *const other[] = {"string", "list", "set", "zset", "stream"};
	size_t len = strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");

	for (size_t i = 0; i < sizeof other / sizeof *other; i++)
		if (!strcmp(t, other[i]))
			return 1;
	return len == 9 && t[len] == '\0';
}

/* Whether the key is free for the agent's hash: -1 with err when it holds
 * another type.  A PEXPIRE (the check below, then each sample's beside
 * an HSET that fails WRONGTYPE) put an expiry on another program's key
 * at that name, which Redis then deleted.  A user whose ACL refuses TYPE
 * (the per-worker one of docs/SECURITY.md allows only the agent's
 * writes) cannot tell, and goes on as before; so does a reply that is not
 * one of Redis's types, for expire_ms() to judge. */
static int key_is_free(redis_sink *s, char *err, size_t n)
{
	const char *argv[2] = {"TYPE", s->key};
	redisReply *r = NULL;
	int rc = 0;

	if (rc_append_argv(s->c, 2, argv, NULL) < 0) {
		snprintf(err, n, "%s: out of memory", rc_where(s->c));
		return -1;
	}
	if (!(r = rc_reply_raw(s->c, err, n)))
		return -1;
	if (r->type == REDIS_REPLY_ERROR && (!strncmp(r->str, "NOAUTH", 6) ||
	                                     !strncmp(r->str, "WRONGPASS", 9))) {
		key_error(s, "TYPE", r->str, err, n);
		rc = -1;
	} else if (r->type == REDIS_REPLY_STATUS && other_type(r->str)) {
		char show[64];

		snprintf(err, n, "%s key '%s' holds a %s, not the agent's hash: another program's "
		         "key, left as it is (give the agent another --id or key prefix)",
		         rc_where(s->c), s->key, txt_show(show, sizeof show, r->str));
		rc = -1;
	}
	freeReplyObject(r);
	return rc;
}

/* The key's expiry `seconds` from now, on the connection publish keeps
 * (opened again when Redis closed it while idle, as publish does). */
static int redis_hold(ag_sink *base, double seconds, char *err, size_t n)
{
	redis_sink *s = (redis_sink *)base;
	char ms[24];
	int idle = s->c != NULL, rc;

	snprintf(ms, sizeof ms, "%lld", (long long)(seconds * 1000));
	if (!s->c && !(s->c = rc_open(&s->t, err, n)))
		return -1;
	rc = expire_ms(s, ms, err, n);
	if (rc < 0 && idle && rc_closed(s->c)) {
		rc_close(s->c);
		if (!(s->c = rc_open(&s->t, err, n)))
			return -1;
		rc = expire_ms(s, ms, err, n);
	}
	if (rc < 0 && rc_broken(s->c)) {
		rc_close(s->c);
		s->c = NULL;
	}
	return rc;
}

static int redis_publish(ag_sink *base, const cJSON *record, int changed,
                         const cJSON *load, char *err, size_t n)
{
	redis_sink *s = (redis_sink *)base;
	char *rec = cJSON_PrintUnformatted(record), *ld = cJSON_PrintUnformatted(load);
	int rc = -1;

	if (!rec || !ld) {
		snprintf(err, n, "out of memory");
		goto out;
	}
	if (strlen(rec) > AG_MAX_RECORD || strlen(ld) > AG_MAX_RECORD) {
		snprintf(err, n, "%s: the record would be %zu bytes, more than %u; not written",
		         s->key, strlen(rec) > AG_MAX_RECORD ? strlen(rec) : strlen(ld),
		         AG_MAX_RECORD);
		goto out;
	}
	int idle = s->c != NULL; /* left open since the last sample */
	if (!s->c && !(s->c = rc_open(&s->t, err, n)))
		goto out;
	changed = changed || ++s->bare >= AG_RECORD_EVERY;
	long long added = put(s, changed ? rec : NULL, ld, err, n);
	/* A server whose `timeout` is shorter than --interval closes the
	 * connection while it sits idle: found closed by this sample, it
	 * is opened again and the sample sent again at once, without a
	 * word.  Left to the next interval, every other sample was lost
	 * and the log flapped. */
	if (added < 0 && idle && rc_closed(s->c)) {
		rc_close(s->c);
		if (!(s->c = rc_open(&s->t, err, n)))
			goto out;
		/* with the record: had the first run before the reset, its
		 * load field is not new now, and a key that had gone would be
		 * left without a record */
		changed = 1;
		added = put(s, rec, ld, err, n);
	}
	/* a new load field means the key had gone (expired, Redis
	 * restarted): it needs its record again */
	if (added == 1 && !changed) {
		added = put(s, rec, ld, err, n);
		changed = 1;
	}
	if (changed && added >= 0)
		s->bare = 0;
	rc = added < 0 ? -1 : 0;
	if (rc < 0 && rc_broken(s->c)) {
		rc_close(s->c);
		s->c = NULL;
	}
out:
	cJSON_free(rec);
	cJSON_free(ld);
	return rc;
}

static void redis_close(ag_sink *base)
{
	redis_sink *s = (redis_sink *)base;

	rc_close(s->c);
	free(s);
}

ag_sink *ag_sink_redis(const char *url, const char *password_file, int insecure,
                       double ttl_s, const char *id, char *err, size_t n)
{
	redis_sink *s = calloc(1, sizeof *s);

	if (!s) {
		snprintf(err, n, "out of memory");
		return NULL;
	}
	if (rc_parse(url, &s->t, err, n) < 0)
		goto fail;
	s->t.password_file = password_file;
	s->t.insecure = insecure;
	/* The agent's replies are integers, +OK, EXEC's few and an error's
	 * line.  A server that is not Redis sent a bulk string of 1 GB (the
	 * agent took 2 GB, and its unit's MemoryMax kills it), or one without
	 * end at 64 KiB a timeout, which held the agent, deaf to SIGTERM, for
	 * ever: past this a reply fails, within two timeouts. */
	s->t.max_reply = AG_MAX_REPLY;
	if (fleet_redis_key(fleet_redis_prefix(&s->t), id, s->key, sizeof s->key) < 0) {
		snprintf(err, n, "%s: the key prefix and worker id are too long", url);
		goto fail;
	}
	snprintf(s->ttl_ms, sizeof s->ttl_ms, "%lld", (long long)(ttl_s * 1000));
	/* the address, the policy, the password and Redis itself, checked
	 * before the agent settles down */
	if (!(s->c = rc_open(&s->t, err, n)))
		goto fail;
	/* A Redis that wants a password it was not given (NOAUTH), a user
	 * the ACL does not let write its key, or a server that is not Redis,
	 * is said now, not at the end of the first interval.  PEXPIRE of
	 * its own key: a command the per-worker ACL allows (PING is not),
	 * and harmless (the key is its own, the expiry the one it sets). */
	if (key_is_free(s, err, n) < 0 || expire_ms(s, s->ttl_ms, err, n) < 0) {
		rc_close(s->c);
		goto fail;
	}
	s->base.publish = redis_publish;
	s->base.hold = redis_hold;
	s->base.close = redis_close;
	return &s->base;
fail:
	free(s);
	return NULL;
}
