/*
 * fleet_redis.h -- the live fleet in Redis (docs/AGENT.md): where
 * lbsched-agent keeps a worker and how a host reads the workers back.
 *
 * A worker is the hash <prefix>fleet:<worker_id> with two fields, "record"
 * (its capabilities, JSON) and "load" (its live state, JSON).  The agent
 * sets the key's expiry again with every heartbeat, so a worker whose agent
 * stopped is gone after the TTL.  A key that is gone, or has no record, is
 * a worker that is absent: ineligible, never idle.
 *
 * What comes back is input from the network: each record goes through the
 * converter (conv_worker, with the same bounds as a fleet file), its
 * worker_id must be its key's, and each field is at most
 * FLEET_REDIS_MAX_FIELD bytes.  A record that fails is refused alone, with
 * one line naming its key, and the others are kept.
 *
 * A field's size is asked (HSTRLEN) before it is read, so a field over the
 * bound is refused without being read: read whole, one key of 80 MB
 * outlasted the reply timeout every round, and the fleet was lost with it.
 * The reader needs the commands SCAN (without ids), HSTRLEN and HMGET.
 */
#ifndef LBS_FLEET_REDIS_H
#define LBS_FLEET_REDIS_H

#include <stddef.h>
#include <stdint.h>

#include "convert.h"
#include "redis_conn.h"

/* What a reader refused a command is told (nginx -t too). */
#define FLEET_REDIS_READER_NEEDS \
	"the reading user needs SCAN, HSTRLEN and HMGET, of Redis 3.2 or later"

#define FLEET_REDIS_DEFAULT_PREFIX "lbsched:"
#define FLEET_REDIS_SPACE "fleet:"
#define FLEET_REDIS_MAX_FIELD (64u << 10)
#define FLEET_REDIS_MAX_WORKERS 65536
/* SCAN rounds a fleet's read takes at most: a keyspace of 100 million keys
 * at SCAN's COUNT 1000. */
#define FLEET_REDIS_MAX_SCANS 100000
/* nginx's round of reading the live fleet (its connect, AUTH and read,
 * through rc_target.deadline_ms and rc_deadline) takes at most this many
 * times its timeout_ms, 4 s: each 64 KiB must move within one timeout_ms,
 * and a server that kept that pace without end held its first process for
 * ever.  The shim's read is not bounded so: a SCAN of a shared Redis of
 * millions of keys takes longer, and a command can be interrupted. */
#define FLEET_REDIS_READ_TIMEOUTS 20
/* A worker in the fleet text (its record with the load inside, as cJSON
 * prints it, and the comma after it) is at most this, or it is refused
 * alone: a field within FLEET_REDIS_MAX_FIELD may print longer (1e14 is
 * 100000000000000), and a host's room for n workers, n times this plus
 * FLEET_REDIS_TEXT_EXTRA, must hold whatever this reader gives. */
#define FLEET_REDIS_MAX_WORKER_TEXT (2 * FLEET_REDIS_MAX_FIELD + 64)
#define FLEET_REDIS_TEXT_EXTRA 64

/* A refused worker: its id (its key without the prefix) and the one line
 * that says why, naming the key. */
typedef void (*fleet_refused_fn)(void *ctx, const char *id, const char *line);

/* The prefix a redis:// address names: its path, else the default. */
const char *fleet_redis_prefix(const rc_target *t);

/* <prefix>fleet:<id> into buf; -1 when it does not fit. */
int fleet_redis_key(const char *prefix, const char *id, char *buf, size_t n);

/*
 * The live workers as fleet document text, {"workers": [...]} with each
 * worker's load inside its record (malloc'd, NUL-terminated, *len bytes),
 * for conv_fleet.  ids NULL: every worker under the prefix (SCAN); else
 * exactly these n_ids workers (nginx: its servers' addresses).  Each key
 * is read once, however often SCAN or ids give it.  Refused
 * records go to `refused` (may be NULL), one call each.  *n_live counts the
 * workers in the text.  NULL with a one-line error when Redis fails (a
 * deadline of c's passed included).
 */
char *fleet_redis_read(rc_conn *c, const char *prefix, const char *const *ids, size_t n_ids,
                       fleet_refused_fn refused, void *ctx, size_t *len, uint32_t *n_live,
                       char *err, size_t n);

/* The shim's --workers: a fleet file, or a redis:// address read with
 * fleet_redis_read (every worker under its prefix; none live is an error).
 * password_file / insecure as in rc_target.  NULL with err. */
int fleet_source_is_redis(const char *src);
char *fleet_source_read(const char *src, const char *password_file, int insecure,
                        conv_warn_fn warn, void *ctx, size_t *len, char *err, size_t n);

#endif
