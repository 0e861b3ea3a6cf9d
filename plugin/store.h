/*
 * store.h -- learned history kept in LMDB, shared by every process that
 * opens the same directory, with an in-memory view for the hot path.
 *
 * Layout (readable with mdb_stat -a / mdb_dump -a):
 *   named database "meta":  key "schema" -> uint32 schema version (native
 *                           endian), currently STORE_SCHEMA.
 *   named database "prefs": key = 1 byte workload type (LBS_WL_*) followed
 *                           by the worker id bytes (no NUL);
 *                           value = struct store_rec below, native endian,
 *                           80 bytes (schema 2).  A 56-byte record is the
 *                           schema-1 layout (store_rec_v1): it reads with the
 *                           speed-ratio fields 0, so a plugin of schema 1
 *                           still running during an upgrade is no harm.
 *                           Any other size is an error naming the store and
 *                           the key; values learning cannot produce
 *                           (store_hist_problem) are skipped and counted.
 *
 * Writes: report() copies the outcome into a queue and returns; a flusher
 * thread (started in store_open, joined in store_close) commits the queue in
 * one write transaction when it holds batch_count outcomes or its oldest has
 * waited batch_ms.  Each outcome is applied to the record read inside that
 * transaction, so processes sharing the store never lose each other's
 * updates.  A commit is durable when it returns (LMDB fsyncs); a crash loses
 * at most the queue.  A commit that fails for want of room is kept and
 * retried while the queue fills behind it (docs/STORE.md, "What a fault
 * does").
 *
 * Reads: the view is a hist_store owned by the host's thread.  report()
 * applies its outcome to the view at once; when the flusher sees that
 * another process committed (LMDB's last transaction id moved by more than
 * our own commits), it builds a fresh view from the database and publishes
 * it; the next store_view() call adopts it with one atomic exchange.
 */
#ifndef LBS_PLUGIN_STORE_H
#define LBS_PLUGIN_STORE_H

#include <stdint.h>

#include <lbsched/abi.h>

#include "history.h"

/* The longest worker id the store keys (learned.h); report() refuses
 * longer ids, import too. */
#define STORE_MAX_ID LBS_LEARN_ID_MAX
/* The longest store.path: every message about a store names it, and a
 * message cut inside the path loses the problem. */
#define STORE_MAX_PATH 1024
/* Room for a message that names a store and says what went wrong. */
#define STORE_MSG_MAX (STORE_MAX_PATH + 1024)

/* 1: the first.  2: records gained the speed ratio (ratio_n,
 * log_ratio_mean, log_ratio_var).  3: records are hist_sums (counts, sums and
 * decayed sums, mergeable across hosts), 96 bytes.  Opening an older store
 * rewrites its records in the opening transaction. */
#define STORE_SCHEMA 3

/*
 * How many (workload type, worker) pairs an instance learns at most
 * (store.max_pairs, docs/SECURITY.md F6): reports naming ever-new worker
 * ids must not grow memory and disk without end.  The default leaves room
 * for 116,508 workers in each of the 9 workload types, far beyond a real
 * fleet, and bounds a view in memory at about 825 bytes a pair in the worst
 * case (a 104-byte hash slot at 35% load just after the table doubled, 297
 * bytes, plus a 510-byte id in a 528-byte allocation), some 825 MiB; ids of
 * a few dozen bytes take under half of that.
 */
#define STORE_MAX_PAIRS_DEFAULT 1048576u
#define STORE_MAX_PAIRS_LIMIT 16777216u

/*
 * What a pair takes in data.mdb at worst: a leaf node of 8 + 511 + 80
 * bytes, padded to 600, and its 2-byte index; a 4 KiB page holds 6 and after
 * splits as few as 3 (1,365 bytes a pair); branch pages add up to half
 * that again (2 KiB), and copy-on-write keeps a second copy of the pages a
 * commit rewrote until no reader needs them (4 KiB).  30,000 pairs with
 * 510-byte ids, learned in 9 commits, took 2,248 bytes each.  The default
 * store.map_max_mb is max_pairs of these, rounded up to a power of two:
 * 4 GiB for the default max_pairs.
 */
#define STORE_PAIR_BYTES_MAX 4096u

/* The record of schema 3. */
typedef hist_sums store_rec;

/* The record of schema 2. */
typedef struct store_rec_v2 {
	uint64_t samples, successes, failures;
	double preference, mean_duration, var_duration, last_update;
	uint64_t ratio_n;
	double log_ratio_mean, log_ratio_var;
} store_rec_v2;

/* The record of schema 1. */
typedef struct store_rec_v1 {
	uint64_t samples, successes, failures;
	double preference, mean_duration, var_duration, last_update;
} store_rec_v1;

struct fleet_opts;

typedef struct store_opts {
	const char *path;      /* directory; made (0700) if missing; NULL = memory only */
	double alpha;          /* sets the preference's neutral prior (history.h) */
	double half_life;      /* seconds: the preference's evidence halves */
	uint32_t batch_count;  /* commit when this many outcomes wait */
	uint32_t batch_ms;     /* ... or when the oldest waited this long */
	uint32_t block_ms;     /* longest report() waits for room in the queue */
	uint32_t queue_max;    /* outcomes the queue holds */
	uint32_t refresh_ms;   /* how often to look for other processes' writes */
	uint32_t file_mode;    /* of the data and lock files, e.g. 0600 */
	int file_mode_set;     /* 1: given, and set on files made before */
	uint64_t map_size;     /* initial map size in bytes; doubles when full */
	uint64_t map_max;      /* ... up to this many bytes */
	uint32_t max_pairs;    /* report() refuses a new pair beyond this many */
	int memory_on_error;   /* 1: a store that cannot open warns and runs
	                          memory-only; 0: create fails */
	const struct fleet_opts *fleet; /* NULL: this host learns alone */
	int fleet_manual;      /* 1: no sync thread (prefs sync drives it) */
	int keys_only;         /* 1: affinity's keys alone, no outcome learned:
	                          sets and meets no rule of learning (alpha,
	                          half_life, fleet), file_mode alone */
} store_opts;

void store_opts_default(store_opts *o);

typedef struct store store;

typedef struct store_counts {
	uint64_t queued;      /* waiting for a commit now */
	uint64_t committed;   /* outcomes made durable by this process */
	uint64_t commits;     /* write transactions */
	uint64_t refreshes;   /* views rebuilt after other processes wrote */
	uint64_t map_grows;
	uint64_t lost;        /* outcomes dropped: queue full, or a commit that
	                         still failed when the instance ended */
	uint64_t retrying;    /* outcomes of a failed commit, kept to retry */
	uint64_t pending;     /* reported and not yet committed or lost: the
	                         queue, a commit under way, a retry */
	uint64_t failed_commits; /* write transactions that failed */
	uint64_t pairs;       /* pairs in the current view */
	uint64_t refused_pairs; /* reports refused: a new pair beyond max_pairs */
	uint64_t bad_records; /* records the last view read skipped: values
	                         store_hist_problem refuses */
	int persistent;       /* 0 when running memory-only */
} store_counts;

/* Errors: LBS_EIO with "store '<dir>': <problem>" (unwritable, corrupt,
 * newer schema); LBS_ENOMEM.  With memory_on_error, LBS_OK and a warning
 * through host->log instead of LBS_EIO. */
lbs_status store_open(const store_opts *o, const lbs_host_api *host, store **out,
                      char *err, size_t errlen);

/* Commit what is queued, stop the flusher, close.  NULL is fine. */
void store_close(store *s);

/* [data] Learn from an outcome: into the view now, into LMDB soon.
 * LBS_EINVAL for a bad outcome (nothing is learned), including a workload
 * type >= LBS_WL_COUNT and a worker id that is empty or longer than the
 * store keys (STORE_MAX_ID bytes), and a new pair when the view already
 * holds max_pairs (counted in refused_pairs, logged); LBS_EIO when the
 * queue stayed full for block_ms, or is full while a failed commit is
 * retried (the outcome is counted as lost). */
lbs_status store_report(store *s, const lbs_outcome *o);

/* [data] The current view (adopting a newer one if the flusher made one).
 * Never NULL.  Valid until the next store_view or store_report. */
const hist_store *store_view(store *s);

/* [any] */
void store_counts_get(store *s, store_counts *c);

/* ---- maintenance: a whole store directory, without a scheduler --------- */

typedef struct store_item {
	uint32_t type;      /* LBS_WL_* */
	const char *worker;
	hist_sums c;
} store_item;

/* Called for each record; return nonzero to stop. */
typedef int (*store_item_fn)(void *ctx, const store_item *it);

/* Read every record of the store in `dir` (which must exist).  A record
 * of impossible values (store_hist_problem) is not passed to fn but
 * counted in *skipped, and with LBS_OK err describes the first.  Errors:
 * LBS_EIO with "store '<dir>': <problem>". */
lbs_status store_dir_read(const char *dir, store_item_fn fn, void *ctx, uint64_t *skipped,
                          char *err, size_t errlen);

/* Why a record of schema 1 or 2 could not have been learned ("field
 * 'preference': must be a number in 0..1"), or NULL when it could: what
 * every read of an old record and every import of the old fields checks.
 * Records of schema 3 are checked by hist_sums_problem. */
const char *store_hist_problem(const lbs_history *h);

/* Write records in one transaction: all or nothing.  With `replace`, every
 * other record is removed first.  With `create` (an import) the store is
 * made if it is not there, its directory too; without (a reset) it must
 * exist. */
lbs_status store_dir_write(const char *dir, const store_item *items, size_t n,
                           int replace, int create, char *err, size_t errlen);

/* ---- the affinity scheduler's memory ------------------------------------ */

/*
 * Named database "affinity": key = an affinity key (the affinity scheduler
 * writes "m:<model id>" and "f:<model family>"), value = the worker id
 * bytes, neither NUL-terminated.  Separate from "prefs", so the schema,
 * export, import and reset of learned records are unchanged by it.  Both
 * calls do nothing on a memory-only store.
 */
#define STORE_AFFINITY_MAX_KEY 511

/* Return nonzero to stop. */
typedef int (*store_affinity_fn)(void *ctx, const char *key, const char *worker);

/* [control] Every pair, in key order; a store that has none reads as
 * empty.  Errors: LBS_EIO "store '<dir>': cannot read its affinities: ...". */
lbs_status store_affinity_read(store *s, store_affinity_fn fn, void *ctx, char *err,
                               size_t errlen);

/* [data] Set key -> worker: queued (copied), written by the flusher within
 * refresh_ms, and at store_close.  LBS_EINVAL for an empty or too long key
 * (STORE_AFFINITY_MAX_KEY) or worker (STORE_MAX_ID); LBS_EIO when out of
 * memory or 65,536 pairs are already waiting (counted in "lost"). */
lbs_status store_affinity_put(store *s, const char *key, const char *worker);

/* ---- fleet learning (plugin/fleet_sync.c drives these) ------------------- */

/*
 * With a fleet configured the store keeps, besides "prefs" (this host's own
 * cumulative evidence), a database "outbox" (key: 8-byte big-endian
 * sequence; value: the evidence of one commit, merged per pair, with the
 * first sequence it covers) written in the same transaction as "prefs", and
 * "fleet", the fleet's totals as last pulled.  Once a pull happened, views
 * are "fleet" merged with the outbox entries the totals do not include.
 */
/* A fleet's address and key prefix, as store_fleet_state keeps it. */
#define FLEET_TARGET_MAX 512

typedef struct store_fleet_state {
	char host[40];        /* this store's host id in the fleet */
	char epoch[40];       /* the Redis epoch `acked` counts in; "" none */
	char pull_epoch[40];  /* the epoch of the totals in "fleet" */
	char target[FLEET_TARGET_MAX]; /* the fleet it syncs with; "" not yet said */
	uint64_t seq;         /* the last sequence given to a commit */
	uint64_t acked;       /* the last sequence Redis acknowledged */
	uint64_t ver;         /* the totals' version pulled */
	int64_t included;     /* our sequence the totals include; -1 never pulled */
	uint64_t outbox;      /* entries waiting */
} store_fleet_state;

typedef hist_sums_fn store_sums_fn;

struct fleet;
/* The store's fleet handle, NULL when it learns alone. */
struct fleet *store_fleet(store *s);
const char *store_path(const store *s);
const lbs_host_api *store_host(const store *s);
double store_half_life(const store *s);

/* 0, or -1 with err. */
int store_fleet_state_get(store *s, store_fleet_state *st, char *err, size_t errlen);

/* Every pair of this host's own evidence and the sequence it covers, read
 * in one transaction (a re-publication after Redis lost everything). */
int store_fleet_snapshot(store *s, store_sums_fn fn, void *ctx, uint64_t *seq, char *err,
                         size_t errlen);

/* The outbox entries after `after`, at most max_entries, merged pair by
 * pair through fn; *from and *to the sequences they cover (0, 0 none). */
int store_fleet_pending(store *s, uint64_t after, uint32_t max_entries, store_sums_fn fn,
                        void *ctx, uint64_t *from, uint64_t *to, char *err, size_t errlen);

/* From now on the store syncs with `target` (fleet_sync.c's text). */
int store_fleet_set_target(store *s, const char *target, char *err, size_t errlen);

/* Redis acknowledged everything up to `acked` in `epoch`. */
int store_fleet_set_acked(store *s, const char *epoch, uint64_t acked, char *err,
                          size_t errlen);

/* A pull: the totals of n pairs (all of them when `full`), in `epoch` at
 * version `ver`, including this host's evidence up to `included`.  Writes
 * "fleet", drops the outbox entries now included, in one transaction. */
int store_fleet_apply(store *s, int full, const char *epoch, uint64_t ver, int64_t included,
                      const store_item *items, size_t n, char *err, size_t errlen);

#endif
