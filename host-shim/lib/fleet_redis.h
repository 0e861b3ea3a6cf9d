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
 */
#ifndef LBS_FLEET_REDIS_H
#define LBS_FLEET_REDIS_H

#include <stddef.h>
#include <stdint.h>

#include "convert.h"
#include "redis_conn.h"

#define FLEET_REDIS_DEFAULT_PREFIX "lbsched:"
#define FLEET_REDIS_SPACE "fleet:"
#define FLEET_REDIS_MAX_FIELD (64u << 10)
#define FLEET_REDIS_MAX_WORKERS 65536

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
 * records go to `refused` (may be NULL), one line each.  *n_live counts the
 * workers in the text.  NULL with a one-line error when Redis fails.
 */
char *fleet_redis_read(rc_conn *c, const char *prefix, const char *const *ids, size_t n_ids,
                       conv_warn_fn refused, void *ctx, size_t *len, uint32_t *n_live,
                       char *err, size_t n);

/* The shim's --workers: a fleet file, or a redis:// address read with
 * fleet_redis_read (every worker under its prefix; none live is an error).
 * password_file / insecure as in rc_target.  NULL with err. */
int fleet_source_is_redis(const char *src);
char *fleet_source_read(const char *src, const char *password_file, int insecure,
                        conv_warn_fn warn, void *ctx, size_t *len, char *err, size_t n);

#endif
