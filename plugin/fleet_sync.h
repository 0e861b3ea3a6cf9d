/*
 * fleet_sync.h -- learning from the whole fleet through Redis: a thread per
 * store pushes this host's new evidence (the store's outbox) in batches and
 * pulls the fleet's totals (docs/STORE.md, "fleet").  select never waits on
 * it: it reads the store's view, which the pulls feed through LMDB.
 */
#ifndef LBS_PLUGIN_FLEET_SYNC_H
#define LBS_PLUGIN_FLEET_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include <lbsched/abi.h>

#include "history.h"
#include "redis_conn.h"

/* The "fleet" object of a store's config (fleet_config.c). */
typedef struct fleet_opts {
	rc_target redis;       /* host, port, allow_insecure; its pointers are
	                        * set where it is used, from the fields below */
	char *user;            /* the ACL user setting; NULL: the file's, or none */
	rc_secret *secret;     /* read from password_file at create; NULL: no AUTH */
	char *password_file;   /* shown in stats instead of the password */
	char *prefix;          /* every key starts with it */
	uint32_t push_ms;      /* how often the outbox is pushed */
	uint32_t pull_ms;      /* how often the totals are pulled */
	uint32_t timeout_ms;   /* connect and command timeout */
	uint32_t batch_entries; /* outbox entries per push at most */
} fleet_opts;

struct store;
typedef struct fleet fleet;

/* With `thread`, start the sync thread; without, the caller drives
 * fleet_sync_once (prefs sync).  Copies what it keeps of o. */
lbs_status fleet_start(struct store *s, const fleet_opts *o, int thread, fleet **out,
                       char *err, size_t errlen);

/* Stop the thread and free.  NULL is fine. */
void fleet_stop(fleet *f);

/* One push of everything waiting and one pull, now.  LBS_OK, or LBS_EIO
 * with err naming Redis and the problem in one line. */
lbs_status fleet_sync_once(fleet *f, char *err, size_t errlen);

/* ",\"fleet\":{...}" for stats(): lag, backlog, last error and success.
 * Never the password.  0, or -1 when len cut it short (then buf is no
 * JSON to hand on); 2,048 bytes always hold it. */
int fleet_stats(fleet *f, char *buf, size_t len);

/* Every pair of the fleet's totals in Redis, for prefs dump --redis;
 * host (may be NULL) hears of fields that are not records of ours. */
lbs_status fleet_read_totals(const fleet_opts *o, const lbs_host_api *host, hist_sums_fn fn,
                             void *ctx, char *err, size_t errlen);

#endif
