/*
 * store.c -- the learned history in LMDB; see store.h for the layout and
 * the sync policy.  With store_verify.c, the only files of the project that
 * include lmdb.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>

#include "fleet_sync.h"
#include "hash.h"
#include "store.h"
#include "store_files.h"
#include "store_verify.h"
#include "taxonomy.h"
#include "text.h"
#include "thread.h"

#define MAX_ID STORE_MAX_ID
#define MAX_MAP_RETRIES 16
#define RETRY_MAX_MS 1000 /* longest wait between attempts at a failed commit */
/* Reader slots: each thread that reads a store holds one while it lives
 * (a process's host thread, its flusher, its fleet sync), and LMDB's
 * default 126 were full at about 42 nginx workers of one store, when new
 * ones could not open it and running ones stopped refreshing. */
#define STORE_MAX_READERS 1021
/* What LMDB makes lock.mdb with STORE_MAX_READERS (one slot per 64 bytes
 * after a header under 192): reserved on disk before it is mapped. */
#define LOCK_FILE_BYTES 65536
/* The queue starts this small and doubles up to store.queue_max: a store
 * that sees a few outcomes a second never holds queue_max entries (2.5 MiB
 * at the default), and creating an instance stays cheap. */
#define QUEUE_START 256u
/* A refused new pair is logged at most this often (with the count so far). */
#define PAIR_LOG_NS (UINT64_C(60) * 1000000000u)

typedef struct pending {
	uint32_t type;
	int32_t result;
	double duration, expected, now;
	char *worker;
} pending;

/*
 * Pairs merged by (type, id) in a flat table: a commit's batch grouped per
 * pair, an outbox range merged for a push.  Unlike a hist_store it copies
 * no id (they point into the batch or the transaction's pages), derives
 * nothing, and is emptied for reuse without freeing.
 */
typedef struct tpair {
	const char *id;
	uint32_t len, type;
	uint64_t hash;
	int bad;          /* commit: the record did not decode; its outcomes skip */
	store_rec r;      /* commit: the record as it will be written */
	hist_sums d;      /* the evidence to send */
} tpair;

typedef struct ptab {
	tpair *p;
	uint32_t n, cap;
	uint32_t *slot;   /* index + 1, 0 empty */
	uint32_t mask;
} ptab;

/*
 * LMDB allows one MDB_env per data file per process: a second open of the
 * same directory, closed later, drops the process's lock-file lock and lets
 * another process reset the writer mutex under the first.  So instances
 * (hardware-aware and priority in one composite, say) share one env per
 * directory, found by device and inode, counted by references.  This list
 * is the plugin's one mutable global besides the entry's reference count.
 *
 * mdb_env_set_mapsize needs no transaction open in the process, so every
 * transaction holds `resize` shared and a resize takes it exclusively.
 */
typedef struct shared_env {
	struct shared_env *next;
	dev_t dev;
	ino_t ino;
	unsigned long forks; /* `forks` when opened: a forked child opens its own */
	int refs;
	MDB_env *env;
	MDB_dbi prefs, meta, outbox, fleet;
	size_t map_size;
	pthread_rwlock_t resize;
	/* A map that failed to grow (mmap ENOMEM: an address-space limit):
	 * LMDB unmapped the old one first and left the env without any, and
	 * the next transaction read through a NULL map (SIGSEGV).  Set under
	 * `resize` held to write; every transaction is refused after. */
	_Atomic int unmapped;
	/* What every commit applies (history.h) or the files have: an
	 * instance that shares the env must give the same.  ruled 0: only
	 * maintenance opened it, and the first scheduler sets them. */
	int ruled;
	double alpha, half_life;
	uint32_t file_mode;
	/* A fleet given: one instance without would write no outbox, and
	 * its outcomes would reach neither Redis nor, once totals are
	 * pulled, the view of the instance with one. */
	int fleet_on;
} shared_env;

static pthread_mutex_t envs_mu = PTHREAD_MUTEX_INITIALIZER;
static shared_env *envs;

struct store {
	store_opts o;
	char *path;
	const lbs_host_api *host;
	shared_env *se;
	MDB_env *env;          /* se->env, se->prefs, se->meta, for brevity */
	MDB_dbi prefs, meta, outbox, fleetdb;
	int persistent;
	int find_only;         /* maintenance that reads or resets: never creates */
	int maintenance;       /* export, import, reset: no rule of learning applied */
	/* reset and import --replace, which drop every record: the store is
	 * not read at open, so that one record no schema has (the open's
	 * refusal) does not keep the store from its cure too */
	int drops;
	int panic_said; /* the flusher's: a dead map's drop was logged */
	hist_rules rules;
	int fleet_on;          /* a fleet is configured: outbox, "fleet" views */
	struct fleet *fleet;   /* the sync, when a fleet is configured */

	hist_store *view;                 /* the host's thread only */
	_Atomic(hist_store *) published;  /* flusher -> host: a newer view,
	                                     set under mu (relearn_queued) */
	_Atomic(hist_store *) retired;    /* host -> flusher: to free */

	pthread_mutex_t mu;
	pthread_cond_t work, done;
	pthread_t thread;
	int thread_started, stop;
	pending *q, *batch;               /* ring of cap; the flusher's copy */
	uint32_t head, len, cap, batch_cap;
	uint32_t held;                    /* batch[0..held) failed to commit: retried */
	uint64_t enq_seq, done_seq, first_enq_ns;
	size_t seen_txnid;                /* last transaction the view reflects */
	_Atomic uint64_t pair_log_ns;     /* when a refused new pair was last logged */

	_Atomic uint64_t committed, commits, refreshes, map_grows, lost, failed_commits;
	_Atomic uint64_t pairs; /* hist_count of the view, for [any] readers */
	_Atomic uint64_t refused_pairs;
	_Atomic uint64_t bad_records; /* skipped by the last view read */
	ptab ctab;                        /* the flusher's: a batch grouped per pair */
	char **aff;                       /* under mu: affinity key, worker, ... to write */
	uint32_t aff_len, aff_cap;
	pid_t pid;                        /* the process that opened it */
	unsigned long forks;              /* `forks` then */
	atomic_flag fork_said;            /* forked() logged its line */
};

static void affinity_drain(store *s);

void store_opts_default(store_opts *o)
{
	*o = (store_opts){
		.path = NULL,
		.alpha = 0.3,
		.half_life = HIST_HALF_LIFE_DEFAULT,
		.batch_count = 256,
		.batch_ms = 50,
		/* report() is a [data] call, which must not sleep: nginx
		 * calls it on its event loop.  A full queue drops the outcome
		 * (lost) unless the user asks for a wait. */
		.block_ms = 0,
		.queue_max = 65536,
		.refresh_ms = 200,
		.file_mode = 0600,
		.map_size = UINT64_C(64) << 20,
		.map_max = (uint64_t)STORE_MAX_PAIRS_DEFAULT * STORE_PAIR_BYTES_MAX,
		.max_pairs = STORE_MAX_PAIRS_DEFAULT,
		.memory_on_error = 0,
	};
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static double unix_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void deadline_in(struct timespec *ts, uint32_t ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static void logf_host(const store *s, int32_t level, const char *fmt, const char *a,
                      const char *b)
{
	char msg[STORE_MSG_MAX + 512];

	if (!s->host || !s->host->log)
		return;
	snprintf(msg, sizeof msg, fmt, a, b);
	s->host->log(s->host->host_data, level, msg);
}

static void adopt_map_size(store *s);

/*
 * Children forked so far in this process's line: one more in each child,
 * so a store compares a number where it asked the kernel for its pid at
 * every report (glibc does not cache getpid()).  glibc drops the handler
 * when the plugin is unloaded (it is registered against this object).
 */
static _Atomic unsigned long forks;
static pthread_once_t forks_once = PTHREAD_ONCE_INIT;

/*
 * The child's envs_mu is made anew, free: a thread of the parent may have
 * held it at the fork (a flusher through an affinity commit, an open
 * through its verification), and the child then hung at its first store's
 * open, on any directory (a host that forks workers and creates instances
 * in them, as STORE.md tells it to).  No thread of the child holds it, and
 * the list it guards reads whole at any instant (an entry is linked after
 * it is filled, unlinked before it is freed); the child matches none of
 * the parent's entries (their fork count).  Not a prepare handler that
 * waits for it: a fork would wait out a verification, and glibc before
 * 2.36 holds its own lock through prepare handlers, which store_verify's
 * fork, taken under envs_mu, then waited for.
 */
static void forked_child(void)
{
	atomic_fetch_add_explicit(&forks, 1, memory_order_relaxed);
	pthread_mutex_init(&envs_mu, NULL);
}

static void count_forks(void)
{
	pthread_atfork(NULL, NULL, forked_child);
}

/*
 * 1 in a child forked from the process that opened s.  Only the forking
 * thread lives on in a child: no flusher commits what it is given, no sync
 * runs, a lock the flusher or the sync held at the fork stays held, and
 * LMDB forbids an environment's use after fork() (lmdb.h).  So the child
 * refuses outcomes, which it would queue for nobody, shows no fleet, and
 * its close leaves the parent's environment, threads and locks alone; its
 * selects read the view as it was at the fork.  A store it opens itself
 * has an environment of its own (attach_env matches the fork count).
 */
static int in_child(const store *s)
{
	return s->persistent && atomic_load_explicit(&forks, memory_order_relaxed) != s->forks;
}

/* in_child(), said once: for what the child asks the store to do. */
static int forked(store *s)
{
	char pid[32];

	if (!in_child(s))
		return 0;
	if (!atomic_flag_test_and_set(&s->fork_said)) {
		snprintf(pid, sizeof pid, "%ld", (long)s->pid);
		logf_host(s, LBS_LOG_ERROR, "store '%s': opened by process %s, and this is a child it "
		          "forked: outcomes reported here are not learned (a store does not outlive "
		          "fork); create the scheduler after the fork", s->path, pid);
	}
	return 1;
}

/* The layouts are the documented ones (docs/STORE.md): no padding. */
_Static_assert(sizeof(store_rec) == 96, "store_rec is the 96-byte record of schema 3");
_Static_assert(sizeof(store_rec_v2) == 80, "store_rec_v2 is the 80-byte record of schema 2");
_Static_assert(sizeof(store_rec_v1) == 56, "store_rec_v1 is the 56-byte record of schema 1");

/* A record of schema 2 (or 1: the speed fields 0) as the schedulers read it. */
static void v2_to_hist(const store_rec_v2 *r, lbs_history *h)
{
	*h = (lbs_history){
		.samples = r->samples, .successes = r->successes, .failures = r->failures,
		.preference = r->preference, .mean_duration = r->mean_duration,
		.var_duration = r->var_duration, .last_update = r->last_update,
		.ratio_n = r->ratio_n, .log_ratio_mean = r->log_ratio_mean,
		.log_ratio_var = r->log_ratio_var,
	};
}

static void v1_to_v2(const store_rec_v1 *o, store_rec_v2 *r)
{
	*r = (store_rec_v2){
		.samples = o->samples, .successes = o->successes, .failures = o->failures,
		.preference = o->preference, .mean_duration = o->mean_duration,
		.var_duration = o->var_duration, .last_update = o->last_update,
	};
}

/* "(VISION, gpu-a)" for a key, bytes that do not print as '?', long ids
 * cut: it goes into a one-line message. */
static void key_text(const MDB_val *k, char *buf, size_t len)
{
	const unsigned char *p = k->mv_data;
	char id[72];
	size_t n = k->mv_size > 1 ? k->mv_size - 1 : 0, m = n < 64 ? n : 64;

	for (size_t i = 0; i < m; i++)
		id[i] = p[1 + i] >= 0x20 && p[1 + i] < 0x7f ? (char)p[1 + i] : '?';
	id[m] = '\0';
	snprintf(buf, len, "(%s, %s%s)", k->mv_size ? tax_workload_name(p[0]) : "?", id,
	         n > m ? "..." : "");
}

const char *store_hist_problem(const lbs_history *h)
{
	/* Written as !(in range) so that NaN fails too. */
	if (h->successes > h->samples || h->failures != h->samples - h->successes)
		return "field 'samples': must equal successes + failures";
	if (!(h->preference >= 0.0 && h->preference <= 1.0))
		return "field 'preference': must be a number in 0..1";
	if (!(h->mean_duration >= 0.0 && isfinite(h->mean_duration)))
		return "field 'mean_duration': must be a finite number >= 0";
	if (!(h->var_duration >= 0.0 && isfinite(h->var_duration)))
		return "field 'var_duration': must be a finite number >= 0";
	if (!(h->last_update >= 0.0 && isfinite(h->last_update)))
		return "field 'last_update': must be a finite number >= 0";
	if (h->ratio_n > h->successes)
		return "field 'ratio_n': must be at most successes";
	if (!(fabs(h->log_ratio_mean) <= HIST_LOG_RATIO_MAX))
		return "field 'log_ratio_mean': must be a number in -20..20";
	if (!(h->log_ratio_var >= 0.0 && h->log_ratio_var <= HIST_LOG_RATIO_MAX * HIST_LOG_RATIO_MAX))
		return "field 'log_ratio_var': must be a number in 0..400";
	return NULL;
}

/*
 * Decode a prefs value: the record of this schema, or one of schema 2 or 1
 * (an older plugin may still be running while a newer one migrated the
 * store), converted (hist_sums_from_history) and brought within the sums'
 * bounds (hist_sums_bound; *bounded, when not NULL, names the first field
 * that was, else NULL).  0; -1 for any other size; 1 for values learning cannot produce
 * (LMDB keeps no checksums: a flipped bit or another program's write must
 * not become a NaN preference or a count that does not add up).  Both
 * errors name the store and the key in err.
 */
static int rec_decode_bounded(const store *s, const MDB_val *k, const MDB_val *v, store_rec *r,
                              const char **bounded, char *err, size_t errlen)
{
	char key[96];
	const char *why, *changed = NULL;

	if (v->mv_size == sizeof *r) {
		memcpy(r, v->mv_data, sizeof *r);
		why = hist_sums_problem(r);
	} else if (v->mv_size == sizeof(store_rec_v2) || v->mv_size == sizeof(store_rec_v1)) {
		store_rec_v2 o;
		lbs_history h;

		if (v->mv_size == sizeof o) {
			memcpy(&o, v->mv_data, sizeof o);
		} else {
			store_rec_v1 o1;

			memcpy(&o1, v->mv_data, sizeof o1);
			v1_to_v2(&o1, &o);
		}
		v2_to_hist(&o, &h);
		why = store_hist_problem(&h);
		/* The old record read, so its sums must: each of its fields
		 * in range can still make sums past the bounds a read of them
		 * takes, and the first outcome that rewrites the record (or
		 * the migration) would store what every later read skips. */
		if (!why) {
			hist_sums_from_history(&h, r);
			changed = hist_sums_bound(r);
			why = hist_sums_problem(r);
		}
	} else {
		key_text(k, key, sizeof key);
		snprintf(err, errlen, "store '%s': record %s is %zu bytes, expected %zu (or %zu, %zu "
		         "from schemas 2, 1); the store is corrupt or not lbsched's", s->path, key,
		         v->mv_size, sizeof *r, sizeof(store_rec_v2), sizeof(store_rec_v1));
		return -1;
	}
	if (bounded)
		*bounded = changed;
	if (!why)
		return 0;
	key_text(k, key, sizeof key);
	snprintf(err, errlen, "store '%s': record %s holds impossible values (%s)", s->path, key,
	         why);
	return 1;
}

static int rec_decode(const store *s, const MDB_val *k, const MDB_val *v, store_rec *r,
                      char *err, size_t errlen)
{
	return rec_decode_bounded(s, k, v, r, NULL, err, errlen);
}

/* key = type byte + id bytes; returns its length, 0 if the id is too long. */
static size_t make_key(unsigned char *key, uint32_t type, const char *id)
{
	size_t n = strlen(id);

	if (n == 0 || n > MAX_ID)
		return 0;
	key[0] = (unsigned char)type;
	memcpy(key + 1, id, n);
	return n + 1;
}

/* ---- the fleet's records in LMDB --------------------------------------- */

/* Meta records of the fleet state: names, native-endian numbers, strings. */
static uint64_t meta_u64(store *s, MDB_txn *txn, const char *name, uint64_t def)
{
	MDB_val k = {strlen(name), (void *)name}, v;
	uint64_t x;

	if (mdb_get(txn, s->meta, &k, &v) || v.mv_size != sizeof x)
		return def;
	memcpy(&x, v.mv_data, sizeof x);
	return x;
}

static void meta_str(store *s, MDB_txn *txn, const char *name, char *out, size_t len)
{
	MDB_val k = {strlen(name), (void *)name}, v;

	out[0] = '\0';
	if (mdb_get(txn, s->meta, &k, &v) == 0 && v.mv_size < len) {
		memcpy(out, v.mv_data, v.mv_size);
		out[v.mv_size] = '\0';
	}
}

static int meta_put(store *s, MDB_txn *txn, const char *name, const void *data, size_t len)
{
	MDB_val k = {strlen(name), (void *)name}, v = {len, (void *)data};

	return mdb_put(txn, s->meta, &k, &v, 0);
}

static int meta_put_u64(store *s, MDB_txn *txn, const char *name, uint64_t x)
{
	return meta_put(s, txn, name, &x, sizeof x);
}

/* "never pulled" is stored as UINT64_MAX. */
#define NEVER UINT64_MAX

/* Outbox keys sort by sequence: big-endian. */
static void seq_key(unsigned char *k, uint64_t seq)
{
	for (int i = 7; i >= 0; i--, seq >>= 8)
		k[i] = (unsigned char)seq;
}

static uint64_t key_seq(const MDB_val *k)
{
	uint64_t x = 0;

	for (size_t i = 0; i < 8 && i < k->mv_size; i++)
		x = x << 8 | ((const unsigned char *)k->mv_data)[i];
	return x;
}

/*
 * An outbox value: the first sequence it covers (8 bytes), then per pair
 * 1 byte workload type, 2 bytes id length, the id, the 96-byte sums.  fn
 * gets each pair, its id as n bytes into the value (valid while the
 * transaction is); -1 when the value is malformed.
 */
typedef int (*outbox_pair_fn)(void *ctx, uint32_t type, const char *id, size_t n,
                              const hist_sums *c);

static int outbox_walk(const MDB_val *v, uint64_t *from, outbox_pair_fn fn, void *ctx)
{
	const unsigned char *p = v->mv_data, *end = p + v->mv_size;

	if (v->mv_size < 8)
		return -1;
	memcpy(from, p, 8);
	for (p += 8; p < end;) {
		uint16_t n;
		hist_sums c;
		uint32_t type;

		if (end - p < 3)
			return -1;
		type = p[0];
		memcpy(&n, p + 1, 2);
		p += 3;
		if (n == 0 || n > MAX_ID || (size_t)(end - p) < n + sizeof c)
			return -1;
		memcpy(&c, p + n, sizeof c);
		if (hist_sums_problem(&c) || type >= LBS_WL_COUNT || memchr(p, 0, n))
			return -1;
		if (fn(ctx, type, (const char *)p, n, &c))
			return 0;
		p += n + sizeof c;
	}
	return 0;
}

typedef struct each_ctx {
	hist_sums_fn fn;
	void *ctx;
} each_ctx;

static int each_pair(void *ctx, uint32_t type, const char *idp, size_t n, const hist_sums *c)
{
	const each_ctx *e = ctx;
	char id[MAX_ID + 1];

	memcpy(id, idp, n);
	id[n] = '\0';
	return e->fn(e->ctx, type, id, c);
}

/* outbox_walk with NUL-terminated ids. */
static int outbox_each(const MDB_val *v, uint64_t *from, hist_sums_fn fn, void *ctx)
{
	each_ctx e = {fn, ctx};

	return outbox_walk(v, from, each_pair, &e);
}

static uint64_t pair_hash(uint32_t type, const char *id, size_t n)
{
	uint64_t h = lbs_fnv1a_n(LBS_FNV_OFFSET ^ type, id, n);

	return h ^ h >> 29;
}

static void ptab_clear(ptab *t)
{
	if (t->slot)
		memset(t->slot, 0, ((size_t)t->mask + 1) * sizeof *t->slot);
	t->n = 0;
}

static void ptab_free(ptab *t)
{
	free(t->p);
	free(t->slot);
	memset(t, 0, sizeof *t);
}

/* The index of (type, id), added zeroed if new (*added); -1 out of memory. */
static int64_t ptab_get(ptab *t, uint32_t type, const char *id, size_t n, int *added)
{
	uint64_t h = pair_hash(type, id, n);
	uint32_t i;

	*added = 0;
	if ((t->n + 1) * 2 > t->mask + 1 || !t->slot) {
		uint32_t mask = t->slot ? t->mask * 2 + 1 : 255;
		uint32_t *slot = calloc((size_t)mask + 1, sizeof *slot);

		if (!slot)
			return -1;
		for (uint32_t k = 0; k < t->n; k++) {
			for (i = (uint32_t)t->p[k].hash & mask; slot[i]; i = (i + 1) & mask)
				;
			slot[i] = k + 1;
		}
		free(t->slot);
		t->slot = slot;
		t->mask = mask;
	}
	for (i = (uint32_t)h & t->mask; t->slot[i]; i = (i + 1) & t->mask) {
		tpair *e = &t->p[t->slot[i] - 1];

		if (e->hash == h && e->type == type && e->len == n && !memcmp(e->id, id, n))
			return t->slot[i] - 1;
	}
	if (t->n == t->cap) {
		uint32_t cap = t->cap ? t->cap * 2 : 256;
		tpair *q = realloc(t->p, (size_t)cap * sizeof *q);

		if (!q)
			return -1;
		t->p = q;
		t->cap = cap;
	}
	t->slot[i] = t->n + 1;
	t->p[t->n] = (tpair){.id = id, .len = (uint32_t)n, .type = type, .hash = h};
	*added = 1;
	return t->n++;
}

typedef struct merge_ctx {
	hist_store *h;
	double half_life;
	int failed;
} merge_ctx;

static int merge_into(void *ctx, uint32_t type, const char *worker, const hist_sums *c)
{
	merge_ctx *m = ctx;

	if (hist_merge(m->h, type, worker, c, m->half_life) != LBS_OK) {
		m->failed = 1;
		return 1;
	}
	return 0;
}

/* ---- the view ------------------------------------------------------------ */

/* 1 with err when k is no key an outcome makes (make_key): a workload type
 * past the taxonomy, an empty id, an id holding a NUL byte (read as C text
 * it was another worker's, whose record it hid) or not UTF-8 (an export
 * would not be JSON).  The outbox reader refuses the same. */
static int key_problem(const store *s, const MDB_val *k, char *err, size_t errlen)
{
	const unsigned char *p = k->mv_data;
	char key[96], id[MAX_ID + 1];
	const char *why = NULL;

	if (k->mv_size < 2) {
		why = "an empty worker id";
	} else if (p[0] >= LBS_WL_COUNT) {
		why = "a workload type past the taxonomy";
	} else if (memchr(p + 1, 0, k->mv_size - 1)) {
		why = "a worker id holding a NUL byte";
	} else {
		memcpy(id, p + 1, k->mv_size - 1);
		id[k->mv_size - 1] = '\0';
		if (!txt_utf8_valid(id))
			why = "a worker id that is not UTF-8";
	}
	if (!why)
		return 0;
	key_text(k, key, sizeof key);
	snprintf(err, errlen, "store '%s': record %s has a key no outcome makes (%s)", s->path,
	         key, why);
	return 1;
}

/*
 * Every record of a records database (prefs or fleet) through fn, in key
 * order.  A record of impossible values or key is skipped: counted in *skipped, the
 * first described in `first`.  0; 1 when fn stopped; -1 with err set for a
 * record of a foreign size.
 */
static int each_record(store *s, MDB_txn *txn, MDB_dbi dbi, hist_sums_fn fn, void *ctx,
                       uint64_t *skipped, char *first, size_t firstlen, char *err,
                       size_t errlen)
{
	MDB_cursor *cur;
	MDB_val k, v;
	char why[STORE_MSG_MAX], id[MAX_ID + 1];
	int rc, out = 0;

	if (mdb_cursor_open(txn, dbi, &cur))
		return 0;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && !out;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		store_rec r;
		int d;

		if (k.mv_size > MAX_ID + 1)
			continue; /* not a key of ours: skip rather than misread */
		d = key_problem(s, &k, why, sizeof why);
		if (!d)
			d = rec_decode(s, &k, &v, &r, why, sizeof why);
		if (d < 0) {
			snprintf(err, errlen, "%s", why);
			out = -1;
		} else if (d > 0) {
			if (!(*skipped)++)
				snprintf(first, firstlen, "%s", why);
		} else {
			memcpy(id, (const char *)k.mv_data + 1, k.mv_size - 1);
			id[k.mv_size - 1] = '\0';
			out = fn(ctx, ((const unsigned char *)k.mv_data)[0], id, &r) ? 1 : 0;
		}
	}
	mdb_cursor_close(cur);
	return out;
}

static int put_into(void *ctx, uint32_t type, const char *worker, const hist_sums *c)
{
	return hist_put(ctx, type, worker, c) != LBS_OK;
}

/* Every record of a records database into h. */
static int read_records(store *s, MDB_txn *txn, MDB_dbi dbi, hist_store *h, uint64_t *skipped,
                        char *first, size_t firstlen, char *err, size_t errlen)
{
	int rc = each_record(s, txn, dbi, put_into, h, skipped, first, firstlen, err, errlen);

	if (rc > 0)
		snprintf(err, errlen, "store '%s': out of memory reading its records", s->path);
	return rc ? -1 : 0;
}

/* The outbox entries after `after` merged into h. */
static int read_outbox(store *s, MDB_txn *txn, uint64_t after, hist_store *h, char *err,
                       size_t errlen)
{
	MDB_cursor *cur;
	MDB_val k, v;
	unsigned char kb[8];
	merge_ctx m = {h, s->o.half_life, 0};
	int rc;

	if (mdb_cursor_open(txn, s->outbox, &cur))
		return 0;
	seq_key(kb, after + 1);
	k = (MDB_val){8, kb};
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0 && !m.failed;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		uint64_t from;

		if (outbox_each(&v, &from, merge_into, &m) < 0) {
			snprintf(err, errlen, "store '%s': outbox entry %llu is malformed; the store is "
			         "corrupt", s->path, (unsigned long long)key_seq(&k));
			mdb_cursor_close(cur);
			return -1;
		}
	}
	mdb_cursor_close(cur);
	if (m.failed) {
		snprintf(err, errlen, "store '%s': out of memory reading its records", s->path);
		return -1;
	}
	return 0;
}

/* A transaction with `resize` held shared, a map another process grew
 * adopted; on failure nothing is held. */
static int txn_begin(store *s, unsigned flags, MDB_txn **txn)
{
	int rc;

	pthread_rwlock_rdlock(&s->se->resize);
	if (s->se->unmapped) {
		pthread_rwlock_unlock(&s->se->resize);
		return MDB_PANIC;
	}
	rc = mdb_txn_begin(s->env, NULL, flags, txn);
	/* It may grow again between the adoption and the retry. */
	for (int attempt = 0; rc == MDB_MAP_RESIZED && attempt < MAX_MAP_RETRIES; attempt++) {
		pthread_rwlock_unlock(&s->se->resize);
		adopt_map_size(s);
		pthread_rwlock_rdlock(&s->se->resize);
		rc = s->se->unmapped ? MDB_PANIC : mdb_txn_begin(s->env, NULL, flags, txn);
	}
	if (rc)
		pthread_rwlock_unlock(&s->se->resize);
	return rc;
}

/* A fresh view of everything in the database; NULL on failure, with err
 * set. */
static hist_store *read_view(store *s, size_t *txnid, char *err, size_t errlen)
{
	MDB_txn *txn;
	hist_store *h = hist_new();
	int rc, bad = 0;
	uint64_t skipped = 0, before;
	char first[STORE_MSG_MAX] = "";

	if (!h) {
		snprintf(err, errlen, "store '%s': out of memory reading its records", s->path);
		return NULL;
	}
	rc = txn_begin(s, MDB_RDONLY, &txn);
	if (rc) {
		hist_free(h);
		snprintf(err, errlen, "store '%s': cannot read its records: %s", s->path,
		         mdb_strerror(rc));
		return NULL;
	}
	*txnid = mdb_txn_id(txn);
	{
		/* Once the fleet's totals were pulled, they are the view, with
		 * this host's evidence they do not include yet (its outbox). */
		uint64_t included = s->fleet_on ? meta_u64(s, txn, "fleet_included", NEVER) : NEVER;

		if (included == NEVER)
			bad = read_records(s, txn, s->prefs, h, &skipped, first, sizeof first, err,
			                   errlen) != 0;
		else
			bad = read_records(s, txn, s->fleetdb, h, &skipped, first, sizeof first, err,
			                   errlen) != 0 ||
			      read_outbox(s, txn, included, h, err, errlen) != 0;
	}
	mdb_txn_abort(txn);
	pthread_rwlock_unlock(&s->se->resize);
	if (bad) {
		hist_free(h);
		return NULL;
	}
	/* Said again only when the count changes, not at every refresh. */
	before = atomic_exchange(&s->bad_records, skipped);
	if (skipped && skipped != before) {
		char cnt[24];

		snprintf(cnt, sizeof cnt, "%llu", (unsigned long long)skipped);
		logf_host(s, LBS_LOG_WARN, "%s; %s such records are skipped (store.bad_records): "
		          "not used, not exported", first, cnt);
	}
	return h;
}

static void publish_view(store *s, hist_store *h)
{
	hist_store *old = atomic_exchange(&s->published, h);
	hist_store *dead = atomic_exchange(&s->retired, NULL);

	hist_free(old); /* never adopted: nobody reads it */
	hist_free(dead);
	atomic_fetch_add(&s->refreshes, 1);
}

const hist_store *store_view(store *s)
{
	hist_store *n = atomic_exchange(&s->published, NULL);

	if (n) {
		hist_store *old = atomic_exchange(&s->retired, s->view);
		s->view = n;
		hist_free(old); /* rare: the flusher had not freed the last one */
		atomic_store(&s->pairs, hist_count(n));
	}
	return s->view;
}

/* ---- writing ----------------------------------------------------------- */

/* Call with no transaction of this thread open.  MDB_MAP_FULL when the
 * map is at the configured ceiling and no other process raised it. */
static int grow_map(store *s, size_t seen)
{
	size_t max = (size_t)s->o.map_max, next = seen < max / 2 ? seen * 2 : max;
	MDB_envinfo info;
	int rc = 0;

	pthread_rwlock_wrlock(&s->se->resize);
	/* Another instance may have grown it meanwhile. */
	if (s->se->unmapped) {
		rc = MDB_PANIC;
	} else if (s->se->map_size == seen && seen < max) {
		rc = mdb_env_set_mapsize(s->env, next);
		if (rc == 0) {
			s->se->map_size = next;
			atomic_fetch_add(&s->map_grows, 1);
		}
		s->se->unmapped = rc != 0;
	} else if (s->se->map_size == seen) {
		/* At our ceiling.  A process with a higher one may have
		 * raised the size the data file records (size 0 adopts it)
		 * without writing past our map, which LMDB would report. */
		rc = mdb_env_set_mapsize(s->env, 0);
		s->se->unmapped = rc != 0;
		if (rc == 0 && mdb_env_info(s->env, &info) == 0 && info.me_mapsize > seen)
			s->se->map_size = info.me_mapsize;
		else if (rc == 0)
			rc = MDB_MAP_FULL;
	}
	pthread_rwlock_unlock(&s->se->resize);
	return rc;
}

/* Another process grew the map: take its size.  No transaction open. */
static void adopt_map_size(store *s)
{
	MDB_envinfo info;

	pthread_rwlock_wrlock(&s->se->resize);
	if (!s->se->unmapped && mdb_env_set_mapsize(s->env, 0) != 0)
		s->se->unmapped = 1;
	if (!s->se->unmapped && mdb_env_info(s->env, &info) == 0)
		s->se->map_size = info.me_mapsize;
	pthread_rwlock_unlock(&s->se->resize);
}

/* The next outbox entry: the batch's evidence per pair (t), under the next
 * sequence, written straight into the page LMDB reserves.  0 or an error. */
static int outbox_write(store *s, MDB_txn *txn, const ptab *t)
{
	uint64_t seq = meta_u64(s, txn, "fleet_seq", 0) + 1;
	unsigned char kb[8], *p;
	MDB_val k = {8, kb}, v = {8, NULL};
	uint32_t pairs = 0;
	int rc;

	for (uint32_t i = 0; i < t->n; i++)
		if (!t->p[i].bad) {
			v.mv_size += 3 + t->p[i].len + sizeof(hist_sums);
			pairs++;
		}
	if (!pairs)
		return 0;
	seq_key(kb, seq);
	rc = mdb_put(txn, s->outbox, &k, &v, MDB_RESERVE);
	if (rc)
		return rc;
	p = v.mv_data;
	memcpy(p, &seq, 8);
	p += 8;
	for (uint32_t i = 0; i < t->n; i++) {
		const tpair *e = &t->p[i];
		uint16_t n = (uint16_t)e->len;

		if (e->bad)
			continue;
		*p = (unsigned char)e->type;
		memcpy(p + 1, &n, 2);
		memcpy(p + 3, e->id, n);
		memcpy(p + 3 + n, &e->d, sizeof e->d);
		p += 3 + n + sizeof e->d;
	}
	return meta_put_u64(s, txn, "fleet_seq", seq);
}

/*
 * The batch's outcomes grouped per pair in s->ctab, each pair's record read
 * once and written once, its outcomes applied in their order (the same
 * arithmetic as one at a time).  An outcome whose record cannot be decoded
 * is not applied (the record is left as it is for someone to look at): it
 * is counted in *skipped and the first such record is described in err.
 */
static int apply_batch(store *s, MDB_txn *txn, const pending *b, uint32_t n,
                       uint32_t *skipped, char *err, size_t errlen)
{
	ptab *t = &s->ctab;
	int rc = 0;

	ptab_clear(t);
	for (uint32_t i = 0; i < n; i++) {
		size_t len = strlen(b[i].worker);
		lbs_outcome o = {.struct_size = sizeof o, .workload_type = b[i].type,
		                 .worker_id = b[i].worker, .result = b[i].result,
		                 .duration_s = b[i].duration, .expected_duration_s = b[i].expected};
		hist_sums one = {0};
		int added;
		int64_t x;
		tpair *e;

		if (len == 0 || len > MAX_ID)
			continue;
		x = ptab_get(t, b[i].type, b[i].worker, len, &added);
		if (x < 0)
			return ENOMEM;
		e = &t->p[x];
		if (added) {
			unsigned char key[MAX_ID + 1];
			MDB_val k = {make_key(key, b[i].type, b[i].worker), key}, v;

			memset(&e->r, 0, sizeof e->r);
			memset(&e->d, 0, sizeof e->d);
			if (mdb_get(txn, s->prefs, &k, &v) == 0 &&
			    rec_decode(s, &k, &v, &e->r, *skipped ? NULL : err, *skipped ? 0 : errlen))
				e->bad = 1;
		}
		if (e->bad) {
			++*skipped;
			continue;
		}
		/* The outcome's own evidence (with the prior when the pair
		 * has no preference evidence here), added: the same as
		 * learning it. */
		hist_sums_one(&one, &o, &s->rules, b[i].now, hist_sums_wants_prior(&e->r));
		hist_sums_not_after(&e->r, b[i].now);
		hist_sums_merge(&e->r, &one, s->o.half_life);
		if (s->fleet_on)
			hist_sums_merge(&e->d, &one, s->o.half_life);
	}
	for (uint32_t i = 0; i < t->n && rc == 0; i++) {
		unsigned char key[MAX_ID + 1];
		MDB_val k = {t->p[i].len + 1, key}, v = {sizeof t->p[i].r, &t->p[i].r};

		if (t->p[i].bad)
			continue;
		key[0] = (unsigned char)t->p[i].type;
		memcpy(key + 1, t->p[i].id, t->p[i].len);
		rc = mdb_put(txn, s->prefs, &k, &v, 0);
	}
	/* With a fleet, the batch's evidence also goes to the outbox, merged
	 * per pair, under the next sequence: in this transaction, so what is
	 * committed is also what is sent. */
	if (rc == 0 && s->fleet_on)
		rc = outbox_write(s, txn, t);
	return rc;
}

/* Apply a batch in one transaction.  0 with *txnid, or an LMDB error. */
static int commit_batch(store *s, const pending *b, uint32_t n, size_t *txnid,
                        uint32_t *skipped, char *err, size_t errlen)
{
	for (int attempt = 0; attempt < MAX_MAP_RETRIES; attempt++) {
		MDB_txn *txn;
		size_t seen;
		int rc;

		rc = txn_begin(s, 0, &txn);
		if (rc)
			return rc;
		seen = s->se->map_size; /* held shared: it cannot change */
		*skipped = 0;
		rc = apply_batch(s, txn, b, n, skipped, err, errlen);
		if (rc == 0) {
			*txnid = mdb_txn_id(txn);
			rc = mdb_txn_commit(txn);
		} else {
			mdb_txn_abort(txn);
		}
		pthread_rwlock_unlock(&s->se->resize);
		if (rc == MDB_MAP_FULL) {
			rc = grow_map(s, seen);
			if (rc)
				return rc;
			continue;
		}
		return rc;
	}
	return MDB_MAP_FULL;
}

/* Publish a view read from the store, with the outcomes still queued
 * learned into it: the host's view has them and the store not yet, and
 * without them they were gone from the host's decisions until another
 * process wrote again (our own commit of them, "only us", re-reads
 * nothing).  Under mu, so that store_report() learns an outcome it queues
 * after this into the view published here (the held batch is never
 * queued here: a refresh runs after a commit, or idle with none held). */
static void relearn_queued(store *s, hist_store *h)
{
	pthread_mutex_lock(&s->mu);
	for (uint32_t i = 0; i < s->len; i++) {
		const pending *p = &s->q[(s->head + i) % s->cap];
		lbs_outcome o = {.struct_size = sizeof o, .workload_type = p->type,
		                 .worker_id = p->worker, .result = p->result,
		                 .duration_s = p->duration, .expected_duration_s = p->expected};

		(void)hist_apply_rules(h, &o, &s->rules, p->now);
	}
	publish_view(s, h);
	pthread_mutex_unlock(&s->mu);
}

/* The data file's last transaction: 0, or -1 when it cannot be read.  It
 * reads the map's meta pages, so under `resize` and never once the map is
 * gone (a SIGSEGV on the flusher's timer). */
static int last_txnid(store *s, size_t *txnid)
{
	MDB_envinfo info;
	int rc = -1;

	pthread_rwlock_rdlock(&s->se->resize);
	if (!atomic_load_explicit(&s->se->unmapped, memory_order_relaxed) &&
	    mdb_env_info(s->env, &info) == 0) {
		*txnid = info.me_last_txnid;
		rc = 0;
	}
	pthread_rwlock_unlock(&s->se->resize);
	return rc;
}

/* After our commit (or on a timer): rebuild the view if someone else wrote. */
static void refresh_if_foreign(store *s, size_t our_txnid)
{
	char err[STORE_MSG_MAX];
	size_t txnid;
	hist_store *h;

	if (our_txnid) {
		if (our_txnid == s->seen_txnid + 1) {
			s->seen_txnid = our_txnid; /* only us: the view has it all */
			return;
		}
	} else if (last_txnid(s, &txnid) || txnid == s->seen_txnid) {
		return;
	}
	h = read_view(s, &txnid, err, sizeof err);
	if (!h) {
		/* Keep the view there is; say why once per transaction seen,
		 * not on every timer tick. */
		if (last_txnid(s, &txnid) == 0)
			s->seen_txnid = txnid;
		logf_host(s, LBS_LOG_ERROR, "%s; decisions keep the view read before%s", err, "");
		return;
	}
	s->seen_txnid = txnid;
	relearn_queued(s, h);
}

/*
 * LMDB turns a short write into EIO, and a write cut short by a full disk
 * is one: the disk's free space tells it from a failing device.  Under
 * this much free, a write of LMDB's (up to 64 pages at once) may not fit.
 */
#define DISK_FULL_BELOW (UINT64_C(64) * 65536u)
static int full_disk_rc(const char *dir, int rc)
{
	struct statvfs v;

	if (rc != EIO || !dir || statvfs(dir, &v))
		return rc;
	/* root writes into the blocks kept back from other users */
	return (uint64_t)(geteuid() == 0 ? v.f_bfree : v.f_bavail) * v.f_frsize < DISK_FULL_BELOW
	               ? ENOSPC
	               : rc;
}

/* The hint a failed commit's log line ends with. */
static const char *commit_hint(const store *s, int rc)
{
	int gone = s->se && atomic_load_explicit(&s->se->unmapped, memory_order_relaxed);

	return rc == MDB_MAP_FULL ? " (the map is at its ceiling: raise store.map_max_mb)"
	       : rc == ENOSPC    ? " (the disk is full)"
	       : rc == ENOMEM && gone ? " (the map could not grow: its memory is unmapped, and "
	                                "the store takes nothing until the process restarts)"
	       : rc == MDB_PANIC && gone ? " (the map failed to grow earlier: the store takes "
	                                   "nothing until the process restarts)"
	                         : "";
}

/* Errors that room coming back (or a disk recovering) can cure. */
static int worth_retrying(int rc)
{
	return rc == ENOSPC || rc == EDQUOT || rc == EIO || rc == EAGAIN || rc == MDB_MAP_FULL ||
	       rc == MDB_READERS_FULL;
}

/*
 * A commit that fails for want of room (a full disk, the map at its
 * ceiling) or an I/O error loses nothing yet: its batch stays in s->batch
 * and is retried, sooner first and then every RETRY_MAX_MS, while new
 * outcomes queue behind it.  Once the queue is full, report() refuses
 * outcomes with LBS_EIO and counts them in `lost`.  When the instance ends
 * with the commit still failing, or for any other error (retrying would not
 * help), the batch is dropped, counted in `lost` and logged.
 */
static void retry_or_drop(store *s, uint32_t n, int rc, int *last_rc, uint32_t *backoff)
{
	char msg[STORE_MSG_MAX];

	/* failed_commits moves under s->mu with held, so that stats never
	 * show a failed commit whose batch is neither retrying nor lost. */
	if (worth_retrying(rc) && !s->stop) {
		/* Once per kind of failure, not on every attempt. */
		if (rc != *last_rc) {
			snprintf(msg, sizeof msg, "store '%s': commit failed: %s%s; %u outcomes are kept "
			         "and retried, and once store.queue_max wait, reports are refused and "
			         "counted in store.lost", s->path, mdb_strerror(rc), commit_hint(s, rc), n);
			logf_host(s, LBS_LOG_ERROR, "%s%s", msg, "");
		}
		*last_rc = rc;
		*backoff = *backoff ? *backoff * 2 : (s->o.batch_ms > 10 ? s->o.batch_ms : 10);
		if (*backoff > RETRY_MAX_MS)
			*backoff = RETRY_MAX_MS;
		pthread_mutex_lock(&s->mu);
		atomic_fetch_add(&s->failed_commits, 1);
		s->held = n;
		return;
	}
	if (s->stop && worth_retrying(rc))
		snprintf(msg, sizeof msg, "store '%s': the instance ends and %u outcomes could not be "
		         "committed, they are lost: %s%s", s->path, n, mdb_strerror(rc),
		         commit_hint(s, rc));
	else
		snprintf(msg, sizeof msg, "store '%s': commit failed, %u outcomes lost: %s%s", s->path,
		         n, mdb_strerror(rc), commit_hint(s, rc));
	/* A store whose map is gone says so once, then counts its losses
	 * in store.lost: a line a batch flooded the host's log.  (Not
	 * *last_rc: that one is of the kept batches, whose "commits succeed
	 * again" it tells.) */
	if (rc != MDB_PANIC || !s->panic_said)
		logf_host(s, LBS_LOG_ERROR, "%s%s", msg, "");
	s->panic_said |= rc == MDB_PANIC;
	for (uint32_t i = 0; i < n; i++)
		free(s->batch[i].worker);
	pthread_mutex_lock(&s->mu);
	atomic_fetch_add(&s->failed_commits, 1);
	atomic_fetch_add(&s->lost, n);
	s->held = 0;
	s->done_seq += n;
	pthread_cond_broadcast(&s->done);
}

static void *flusher(void *arg)
{
	store *s = arg;
	int last_rc = 0;
	uint32_t backoff = 0;

	pthread_mutex_lock(&s->mu);
	for (;;) {
		uint32_t n, skipped = 0;
		size_t txnid = 0;
		char err[STORE_MSG_MAX];
		int rc;
		uint64_t age = s->len ? (mono_ns() - s->first_enq_ns) / 1000000u : 0;

		if (!s->len && !s->held && s->stop)
			break;
		if (s->held) {
			/* A failed batch first, in order; until it commits the
			 * queue only fills.  Stopping makes one last attempt. */
			struct timespec ts;

			deadline_in(&ts, backoff);
			while (!s->stop && pthread_cond_timedwait(&s->work, &s->mu, &ts) != ETIMEDOUT)
				;
			n = s->held;
		} else if (!s->len || (s->len < s->o.batch_count && s->len < s->o.queue_max &&
		                       age < s->o.batch_ms && !s->stop)) {
			/* Waiting for more, but never with a full queue,
			 * whatever batch_count says: report() waits only
			 * block_ms for room. */
			struct timespec ts;
			uint32_t wait = s->len ? s->o.batch_ms - (uint32_t)age : s->o.refresh_ms;
			deadline_in(&ts, wait ? wait : 1);
			if (pthread_cond_timedwait(&s->work, &s->mu, &ts) == ETIMEDOUT && !s->len) {
				pthread_mutex_unlock(&s->mu);
				refresh_if_foreign(s, 0);
				/* Processes killed while reading leave reader slots
				 * that pin old pages; clear them while idle. */
				mdb_reader_check(s->env, NULL);
				affinity_drain(s);
				/* A view nobody adopted yet may be replaced; free the
				 * host's retired one here, off its thread. */
				hist_free(atomic_exchange(&s->retired, NULL));
				pthread_mutex_lock(&s->mu);
			}
			continue;
		} else {
			/* Take the whole queue: the host thread may refill it
			 * while we wait on the disk. */
			n = s->len;
			if (n > s->batch_cap) {
				pending *b = realloc(s->batch, (size_t)s->cap * sizeof *b);
				if (b) {
					s->batch = b;
					s->batch_cap = s->cap;
				}
			}
			/* Without room for all, take what fits; the rest next time. */
			if (n > s->batch_cap)
				n = s->batch_cap;
			for (uint32_t i = 0; i < n; i++)
				s->batch[i] = s->q[(s->head + i) % s->cap];
			s->head = (s->head + n) % s->cap;
			s->len -= n;
			/* A report waiting for room in a full queue has it
			 * now, not after the disk. */
			pthread_cond_broadcast(&s->done);
		}
		pthread_mutex_unlock(&s->mu);

		rc = full_disk_rc(s->path, commit_batch(s, s->batch, n, &txnid, &skipped, err,
		                                        sizeof err));
		if (rc) {
			retry_or_drop(s, n, rc, &last_rc, &backoff); /* returns locked */
			continue;
		} else {
			if (last_rc) {
				logf_host(s, LBS_LOG_WARN, "store '%s': commits succeed again; the "
				          "outcomes kept while they failed are committed%s", s->path, "");
				last_rc = 0;
				backoff = 0;
			}
			if (skipped) {
				char cnt[16];

				snprintf(cnt, sizeof cnt, "%u", skipped);
				logf_host(s, LBS_LOG_ERROR, "%s; %s outcomes for such records lost",
				          err, cnt);
			}
			atomic_fetch_add(&s->commits, 1);
			refresh_if_foreign(s, txnid);
			affinity_drain(s);
		}
		for (uint32_t i = 0; i < n; i++)
			free(s->batch[i].worker);

		pthread_mutex_lock(&s->mu);
		/* with held and done_seq, as retry_or_drop counts a failure:
		 * stats never show a batch committed and retrying at once */
		atomic_fetch_add(&s->lost, skipped);
		atomic_fetch_add(&s->committed, n - skipped);
		s->held = 0;
		s->done_seq += n;
		pthread_cond_broadcast(&s->done);
	}
	pthread_mutex_unlock(&s->mu);
	affinity_drain(s);
	return NULL;
}

/* An outcome the store could not key (docs/SECURITY.md F4, F5): refused
 * before anything is learned, so the view and the store never disagree.
 * A NULL, short or id-less outcome is hist_apply's to refuse. */
static int unkeyable(const lbs_outcome *o)
{
	size_t n;

	if (!o || o->struct_size < LBS_OUTCOME_SIZE_V1_0 || !o->worker_id)
		return 0;
	n = strnlen(o->worker_id, MAX_ID + 1);
	/* The ABI's strings are UTF-8; a key that is not could never be
	 * exported as JSON, nor imported back. */
	return n == 0 || n > MAX_ID || o->workload_type >= LBS_WL_COUNT ||
	       !txt_utf8_valid(o->worker_id);
}

/*
 * An outcome that would add a pair to a view already holding max_pairs
 * (docs/SECURITY.md F6): refused, counted, and logged at most once a
 * minute, so ever-new ids neither grow the store nor flood the log.  Pairs
 * known, loaded or learned, go on learning.  Other processes' pairs reach
 * the view with its refresh, so a shared store holds max_pairs plus what
 * they add meanwhile; store.map_max_mb bounds the disk whatever happens.
 */
static int over_pair_limit(store *s, const lbs_outcome *o)
{
	char msg[STORE_MSG_MAX], id[96];
	uint64_t now, last;

	if (!o || o->struct_size < LBS_OUTCOME_SIZE_V1_0 || !o->worker_id ||
	    o->result == LBS_RESULT_CANCELLED || hist_count(s->view) < s->o.max_pairs ||
	    hist_get(s->view, o->workload_type, o->worker_id))
		return 0;
	atomic_fetch_add(&s->refused_pairs, 1);
	/* Reporting threads race here: one of them wins the minute's line. */
	now = mono_ns();
	last = atomic_load(&s->pair_log_ns);
	if ((last && now - last < PAIR_LOG_NS) ||
	    !atomic_compare_exchange_strong(&s->pair_log_ns, &last, now))
		return 1;
	snprintf(msg, sizeof msg, "%s%s%s: an outcome for the new pair (%s, %s) is refused: %zu "
	         "pairs are known and store.max_pairs is %u (%llu refused so far, logged at most "
	         "once a minute); known pairs still learn", s->path ? "store '" : "learning in memory",
	         s->path ? s->path : "", s->path ? "'" : "",
	         tax_workload_name(o->workload_type), txt_show(id, sizeof id, o->worker_id),
	         hist_count(s->view), s->o.max_pairs,
	         (unsigned long long)atomic_load(&s->refused_pairs));
	logf_host(s, LBS_LOG_WARN, "%s%s", msg, ""); /* takes two strings */
	return 1;
}

/* Double the ring (up to queue_max), its entries in order from index 0.
 * Under s->mu, called with len == cap < queue_max. */
static int grow_queue(store *s)
{
	uint32_t cap = s->cap > s->o.queue_max / 2 ? s->o.queue_max : 2 * s->cap;
	pending *q = malloc((size_t)cap * sizeof *q);

	if (!q)
		return -1;
	for (uint32_t i = 0; i < s->len; i++)
		q[i] = s->q[(s->head + i) % s->cap];
	free(s->q);
	s->q = q;
	s->head = 0;
	s->cap = cap;
	return 0;
}

lbs_status store_report(store *s, const lbs_outcome *o)
{
	lbs_status st;
	double now = unix_now();
	pending p;

	if (unkeyable(o))
		return LBS_EINVAL;
	if (forked(s))
		return LBS_EIO;
	store_view(s);
	if (over_pair_limit(s, o))
		return LBS_EINVAL;
	st = hist_apply_rules(s->view, o, &s->rules, now);
	atomic_store(&s->pairs, hist_count(s->view));
	if (st != LBS_OK || !s->persistent || o->result == LBS_RESULT_CANCELLED)
		return st;
	p = (pending){o->workload_type, o->result, o->duration_s, o->expected_duration_s, now,
	              strdup(o->worker_id)};
	if (!p.worker) {
		atomic_fetch_add(&s->lost, 1);
		return LBS_ENOMEM;
	}
	pthread_mutex_lock(&s->mu);
	/* While a failed commit is retried the queue does not drain: no
	 * point in waiting for room. */
	if (s->len == s->o.queue_max && !s->held) {
		struct timespec ts;
		deadline_in(&ts, s->o.block_ms);
		pthread_cond_signal(&s->work);
		while (s->len == s->o.queue_max &&
		       pthread_cond_timedwait(&s->done, &s->mu, &ts) != ETIMEDOUT)
			;
	}
	if (s->len == s->o.queue_max) {
		pthread_mutex_unlock(&s->mu);
		free(p.worker);
		atomic_fetch_add(&s->lost, 1);
		return LBS_EIO;
	}
	if (s->len == s->cap && grow_queue(s) != 0) {
		pthread_mutex_unlock(&s->mu);
		free(p.worker);
		atomic_fetch_add(&s->lost, 1);
		return LBS_ENOMEM;
	}
	if (!s->len)
		s->first_enq_ns = mono_ns();
	s->q[(s->head + s->len) % s->cap] = p;
	s->len++;
	s->enq_seq++;
	/* A view the flusher published since this report adopted one was
	 * read before this outcome was queued: it learns it here. */
	{
		hist_store *pub = atomic_load(&s->published);

		if (pub)
			(void)hist_apply_rules(pub, o, &s->rules, now);
	}
	/* The first of a batch too: an idle flusher sleeps refresh_ms, and
	 * the outcome must wait batch_ms at most; and a full queue, which
	 * commits at once. */
	if (s->len == 1 || s->len >= s->o.batch_count || s->len == s->o.queue_max)
		pthread_cond_signal(&s->work);
	pthread_mutex_unlock(&s->mu);
	return LBS_OK;
}

void store_counts_get(store *s, store_counts *c)
{
	int child = in_child(s); /* the lock may be the flusher's, for good */

	if (!child)
		pthread_mutex_lock(&s->mu);
	c->queued = s->len;
	c->retrying = s->held;
	c->pending = s->enq_seq - s->done_seq;
	c->failed_commits = atomic_load(&s->failed_commits);
	c->lost = atomic_load(&s->lost);
	c->committed = atomic_load(&s->committed);
	if (!child)
		pthread_mutex_unlock(&s->mu);
	c->commits = atomic_load(&s->commits);
	c->refreshes = atomic_load(&s->refreshes);
	c->map_grows = atomic_load(&s->map_grows);
	c->pairs = atomic_load(&s->pairs);
	c->refused_pairs = atomic_load(&s->refused_pairs);
	c->bad_records = atomic_load(&s->bad_records);
	c->persistent = s->persistent;
}

/* ---- opening --------------------------------------------------------------- */

/*
 * Schema 1 or 2 -> 3: every record (56 or 80 bytes) becomes its 96-byte
 * sums (hist_sums_from_history: counts and durations exactly, the
 * preference as the evidence of min(samples, 1 / alpha) outcomes).
 * Rewritten in place through a cursor, inside the opening transaction, so
 * a crash leaves either the old store untouched or schema 3 complete.  A
 * record of any other size stops the migration: 0, or -1 with err set.
 *
 * A record the old schema read whose sums fall past schema 3's bounds is
 * migrated with them brought within (hist_sums_bound), not left as it is:
 * left, it would read as before only until its pair's next outcome
 * rewrote it at 96 bytes, and then be skipped for good with all it had
 * learned and every outcome after; bounded, it keeps its counts and
 * preference, and loses only what no duration report() now takes (a
 * mean past 1e9 s) or no set of such durations has (a variance too large
 * for its mean).  One warning says how many and the first.
 */
static int migrate_to_3(store *s, MDB_txn *txn, uint32_t from, char *err, size_t errlen)
{
	MDB_cursor *cur;
	MDB_val k, v;
	char first[STORE_MSG_MAX] = "";
	size_t n_bounded = 0;
	int rc = mdb_cursor_open(txn, s->prefs, &cur);

	if (rc) {
		snprintf(err, errlen, "store '%s': cannot migrate its records from schema %u: %s",
		         s->path, from, mdb_strerror(rc));
		return -1;
	}
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		store_rec r;
		MDB_val nv = {sizeof r, &r};
		unsigned char kb[MAX_ID + 1];
		char why[STORE_MSG_MAX];
		const char *bounded = NULL;

		if (v.mv_size == sizeof r)
			continue; /* a plugin of schema 3 wrote it meanwhile */
		if (v.mv_size != sizeof(store_rec_v2) && v.mv_size != sizeof(store_rec_v1)) {
			char key[96];

			key_text(&k, key, sizeof key);
			snprintf(err, errlen, "store '%s': record %s is %zu bytes, expected %zu for "
			         "schema 2 or %zu for schema 1; the store is corrupt or not lbsched's, "
			         "nothing was migrated", s->path, key, v.mv_size, sizeof(store_rec_v2),
			         sizeof(store_rec_v1));
			mdb_cursor_close(cur);
			return -1;
		}
		/* A record of impossible values is left as it is: reads skip it
		 * and count it, as before the migration. */
		if (k.mv_size < 2 || rec_decode_bounded(s, &k, &v, &r, &bounded, why, sizeof why))
			continue;
		if (bounded && n_bounded++ == 0) {
			char key[96];

			key_text(&k, key, sizeof key);
			snprintf(first, sizeof first, "%s, field '%s'", key, bounded);
		}
		/* The key may point into the page the put rewrites. */
		if (k.mv_size > sizeof kb) {
			rc = MDB_BAD_VALSIZE;
			break;
		}
		memcpy(kb, k.mv_data, k.mv_size);
		k.mv_data = kb;
		rc = mdb_cursor_put(cur, &k, &nv, MDB_CURRENT);
		if (rc)
			break;
	}
	mdb_cursor_close(cur);
	if (rc != MDB_NOTFOUND) {
		snprintf(err, errlen, "store '%s': cannot migrate its records from schema %u: %s%s",
		         s->path, from, mdb_strerror(rc),
		         rc == MDB_MAP_FULL ? " (raise store.map_size_mb)" : "");
		return -1;
	}
	if (n_bounded) {
		char what[STORE_MSG_MAX + 128];

		snprintf(what, sizeof what, "migrating from schema %u, %zu records hold values past "
		         "the bounds of schema 3's sums (the first: %s)", from, n_bounded, first);
		logf_host(s, LBS_LOG_WARN, "store '%s': %s: they are brought within them (a mean "
		          "duration to 1e9 s, a mean square to 1e18 s^2, a log ratio's to 400, a time "
		          "to 1e11), their counts and preferences kept", s->path, what);
	}
	return 0;
}

/* A store in a fleet has a host id for good: 16 random hex digits. */
static int fleet_host_id(store *s, MDB_txn *txn)
{
	char id[40];
	unsigned char r[8];
	int fd;
	ssize_t got = -1;

	meta_str(s, txn, "fleet_host", id, sizeof id);
	if (id[0])
		return 0;
	fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		got = read(fd, r, sizeof r);
		close(fd);
	}
	if (got != (ssize_t)sizeof r)
		return EIO;
	for (int i = 0; i < 8; i++)
		snprintf(id + 2 * i, 3, "%02x", r[i]);
	return meta_put(s, txn, "fleet_host", id, 16);
}

/* open_dbs() in its transaction, which it commits or aborts. */
static int open_dbs_in(store *s, MDB_txn *txn, char *err, size_t errlen)
{
	MDB_val k = {6, "schema"}, v;
	uint32_t schema = STORE_SCHEMA;
	MDB_dbi main_db;
	MDB_stat ms;
	int rc;

	/* An LMDB store with entries and no "meta" is another program's (or
	 * one whose meta is lost): lbsched's databases are not added to it,
	 * not even by a dump, which wrote its schema into one. */
	if (mdb_dbi_open(txn, "meta", 0, &s->meta) == MDB_NOTFOUND &&
	    mdb_dbi_open(txn, NULL, 0, &main_db) == 0 && mdb_stat(txn, main_db, &ms) == 0 &&
	    ms.ms_entries > 0) {
		snprintf(err, errlen, "store '%s': refused: an LMDB store that is not lbsched's (%zu "
		         "entries, and no 'meta' database); point 'store.path' at another directory",
		         s->path, (size_t)ms.ms_entries);
		mdb_txn_abort(txn);
		return -1;
	}
	if ((rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &s->meta)) ||
	    (rc = mdb_dbi_open(txn, "prefs", MDB_CREATE, &s->prefs)) ||
	    (rc = mdb_dbi_open(txn, "outbox", MDB_CREATE, &s->outbox)) ||
	    (rc = mdb_dbi_open(txn, "fleet", MDB_CREATE, &s->fleetdb))) {
		snprintf(err, errlen, "store '%s': cannot open its databases: %s", s->path,
		         mdb_strerror(rc));
		mdb_txn_abort(txn);
		return -1;
	}
	rc = mdb_get(txn, s->meta, &k, &v);
	if (rc == 0) {
		if (v.mv_size != sizeof schema) {
			snprintf(err, errlen, "store '%s': meta record 'schema' is %zu bytes, expected %zu; "
			         "the store is corrupt or not lbsched's", s->path, v.mv_size, sizeof schema);
			mdb_txn_abort(txn);
			return -1;
		}
		memcpy(&schema, v.mv_data, sizeof schema);
		if (schema > STORE_SCHEMA) {
			snprintf(err, errlen,
			         "store '%s': its schema %u is newer than this plugin's %u; upgrade lbsched "
			         "or point 'store.path' at another directory",
			         s->path, schema, STORE_SCHEMA);
			mdb_txn_abort(txn);
			return -1;
		}
		/* Migrations from older schemas, one step per version, inside
		 * this transaction: a failure leaves the store as it was. */
		if (schema >= 1 && schema < 3 && migrate_to_3(s, txn, schema, err, errlen)) {
			mdb_txn_abort(txn);
			return -1;
		}
		if (schema == 0) {
			snprintf(err, errlen, "store '%s': meta record 'schema' is 0; the store is "
			         "corrupt or not lbsched's", s->path);
			mdb_txn_abort(txn);
			return -1;
		}
	}
	if (rc == MDB_NOTFOUND || schema < STORE_SCHEMA) {
		schema = STORE_SCHEMA;
		v = (MDB_val){sizeof schema, &schema};
		rc = mdb_put(txn, s->meta, &k, &v, 0);
	}
	if (rc == 0 && s->fleet_on)
		rc = fleet_host_id(s, txn);
	if (rc == 0)
		rc = mdb_txn_commit(txn);
	else
		mdb_txn_abort(txn);
	rc = full_disk_rc(s->path, rc);
	if (rc) {
		snprintf(err, errlen, "store '%s': cannot write its schema: %s%s", s->path,
		         mdb_strerror(rc), commit_hint(s, rc));
		return -1;
	}
	return 0;
}

/* Read, check and if needed migrate the schema; create the databases.
 * Through txn_begin: another process may have grown the map since this
 * one opened it (a create meets MDB_MAP_RESIZED otherwise). */
static int open_dbs(store *s, char *err, size_t errlen)
{
	MDB_txn *txn;
	int rc = txn_begin(s, 0, &txn);

	if (rc) {
		snprintf(err, errlen, "store '%s': cannot begin a transaction: %s", s->path,
		         mdb_strerror(rc));
		return -1;
	}
	rc = open_dbs_in(s, txn, err, errlen);
	pthread_rwlock_unlock(&s->se->resize);
	return rc;
}

/* The rules of learning of the first scheduler that uses se. */
static void take_rules(shared_env *se, const store_opts *o, int fleet)
{
	se->ruled = 1;
	se->fleet_on = fleet;
	se->alpha = o->alpha;
	se->half_life = o->half_life;
	if (o->file_mode_set)
		se->file_mode = o->file_mode;
}

/* The first rule o gives otherwise than se holds: its field's name, with
 * both values in had and got (32 bytes each); NULL when they agree.  A
 * file_mode not given agrees with any; a keys-only store (affinity's)
 * learns nothing, and gives file_mode alone. */
static const char *rule_differs(const shared_env *se, const store_opts *o, int fleet, char *had,
                                char *got)
{
	if (o->keys_only)
		goto mode;
	if (se->fleet_on != fleet) {
		snprintf(had, 32, "%s", se->fleet_on ? "given" : "none");
		snprintf(got, 32, "%s", fleet ? "one" : "none");
		return "fleet";
	}
	if (se->alpha != o->alpha) {
		snprintf(had, 32, "%g", se->alpha);
		snprintf(got, 32, "%g", o->alpha);
		return "alpha";
	}
	if (se->half_life != o->half_life) {
		snprintf(had, 32, "%g", se->half_life);
		snprintf(got, 32, "%g", o->half_life);
		return "half_life_s";
	}
mode:
	if (o->file_mode_set && se->file_mode != o->file_mode) {
		snprintf(had, 32, "%04o", (unsigned)se->file_mode);
		snprintf(got, 32, "%04o", (unsigned)o->file_mode);
		return "file_mode";
	}
	return NULL;
}

/*
 * The head of LMDB 0.9's lock.mdb (MDB_txbody in its mdb.c, which no header
 * declares): a magic, the lock format, the reader-table mutex, then the id
 * of the last transaction committed.  Each commit sets that id, the first
 * open of the files sets it from data.mdb, and a process that ends leaves
 * it: a data.mdb cut afterwards is still counted there.
 */
struct lmdb_lock_head {
	uint32_t magic, format;
	pthread_mutex_t rmutex;
	size_t txnid;
};
#define LMDB_LOCK_MAGIC 0xBEEFC0DEu
#define LMDB_LOCK_VERSION 1u /* the low half of format in every 0.9 */

/*
 * data.mdb was found at 0 bytes.  LMDB writes its two meta pages in the
 * open that makes it, so that is a store that was never written (a crash or
 * a full disk between our creat and LMDB's first write; lock.mdb says no
 * transaction, or LMDB never set it up) or one that was cut, whose lock.mdb
 * still counts the transactions it held.  The first is opened as new; the
 * second is refused and left as it is: opening it would write an empty
 * store over the evidence.  A lock.mdb of a layout we cannot read is taken
 * as written: refusing loses nothing, and the file can be moved away.
 * 0, or -1 with err.
 */
static int empty_data_file(const char *dir, char *err, size_t errlen)
{
	char path[STORE_MAX_PATH + 16];
	struct lmdb_lock_head h;
	struct stat ds;
	ssize_t n = -1;
	int fd;

	snprintf(path, sizeof path, "%s/lock.mdb", dir);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd >= 0) {
		n = pread(fd, &h, sizeof h, 0);
		close(fd);
	}
	/* Another process may have made the store since data.mdb was seen
	 * empty: LMDB writes the meta pages before any commit counts in
	 * lock.mdb, so data.mdb looked at after lock.mdb is still empty only
	 * if it was cut (six openers of a new store refused it otherwise). */
	snprintf(path, sizeof path, "%s/data.mdb", dir);
	if (lstat(path, &ds) || ds.st_size > 0)
		return 0;
	if (n < (ssize_t)sizeof h || h.magic != LMDB_LOCK_MAGIC)
		return 0; /* LMDB never set it up: never written */
	if ((h.format & 0xffffu) == LMDB_LOCK_VERSION && h.txnid == 0)
		return 0;
	if ((h.format & 0xffffu) == LMDB_LOCK_VERSION)
		snprintf(err, errlen, "store '%s': data.mdb is empty (0 bytes), yet lock.mdb says "
		         "transaction %zu was committed to it: it was truncated (the data file is "
		         "damaged or not an LMDB file); it is left as it is: restore it from a prefs "
		         "export or move it away", dir, h.txnid);
	else
		snprintf(err, errlen, "store '%s': data.mdb is empty (0 bytes) and lock.mdb is of a "
		         "layout this plugin cannot read (format 0x%x), so whether it was ever "
		         "written cannot be told (the data file may be truncated); it is left as it "
		         "is: restore it from a prefs export or move it away", dir, h.format);
	return -1;
}

/* -1 with err when dir is not a directory there is: for the commands that
 * never make a store, so that a typo in a path leaves no empty one behind. */
static int dir_missing(const char *dir, char *err, size_t errlen)
{
	struct stat st;
	int missing = stat(dir, &st) != 0, why = errno;

	if (!missing && S_ISDIR(st.st_mode))
		return 0;
	snprintf(err, errlen, "store '%s': %s", dir,
	         !missing ? "not a directory"
	         : why == ENOENT ? "no such directory" : strerror(why));
	return -1;
}

/* Open (or share) the env of s->path; on success s->se holds a reference. */
static int attach_env(store *s, char *err, size_t errlen)
{
	struct stat st;
	store_files files;
	shared_env *se;
	int rc, dead = 0, empty;
	char had[32], got[32];
	const char *f;

	if (mkdir(s->path, 0700) == 0) {
		/* 0700 whatever the umask, as the files take file_mode: under
		 * umask 0177 the directory was made 0600, not searchable, and
		 * refused by this very open and every later one.  Through a
		 * descriptor of the directory itself: a link put in its place
		 * meanwhile is not followed. */
		int dfd = open(s->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

		if (dfd < 0 || fchmod(dfd, 0700)) {
			snprintf(err, errlen, "store '%s': cannot set the new directory's mode: %s",
			         s->path, strerror(errno));
			if (dfd >= 0)
				close(dfd);
			return -1;
		}
		close(dfd);
	} else if (errno != EEXIST) {
		/* The store is made, not its parents: say which one is missing. */
		if (errno == ENOENT)
			snprintf(err, errlen, "store '%s': cannot create the directory: its parent "
			         "does not exist (the store makes its own directory, not those "
			         "above it)", s->path);
		else
			snprintf(err, errlen, "store '%s': cannot create the directory: %s", s->path,
			         strerror(errno));
		return -1;
	}
	if (stat(s->path, &st)) {
		snprintf(err, errlen, "store '%s': %s", s->path, strerror(errno));
		return -1;
	}
	pthread_mutex_lock(&envs_mu);
	for (se = envs; se; se = se->next)
		if (se->dev == st.st_dev && se->ino == st.st_ino && se->forks == atomic_load(&forks))
			break;
	/* Export, import and reset copy records and apply no rule: they
	 * share any env, and one they made takes the first scheduler's. */
	if (se && !s->maintenance && !s->o.keys_only && !se->ruled) {
		take_rules(se, &s->o, s->fleet_on);
	} else if (se && !s->maintenance &&
	           (f = rule_differs(se, &s->o, s->fleet_on, had, got))) {
		/* worded under the lock: se may go with its last user */
		pthread_mutex_unlock(&envs_mu);
		snprintf(err, errlen, "store '%s': refused: another scheduler in this process uses "
		         "it with %s %s, this config gives %s; all must give the same", s->path, f,
		         had, got);
		return -1;
	}
	if (se) {
		se->refs++;
		pthread_mutex_unlock(&envs_mu);
		s->se = se;
		s->env = se->env;
		s->prefs = se->prefs;
		s->meta = se->meta;
		s->outbox = se->outbox;
		s->fleetdb = se->fleet;
		/* Only maintenance opened it before (no fleet): give it its id. */
		if (s->fleet_on) {
			MDB_txn *txn;

			if (txn_begin(s, 0, &txn) == 0) {
				if (fleet_host_id(s, txn) == 0)
					mdb_txn_commit(txn);
				else
					mdb_txn_abort(txn);
				pthread_rwlock_unlock(&s->se->resize);
			}
		}
		return 0;
	}
	se = calloc(1, sizeof *se);
	if (!se) {
		pthread_mutex_unlock(&envs_mu);
		snprintf(err, errlen, "store '%s': out of memory", s->path);
		return -1;
	}
	se->dev = st.st_dev;
	se->ino = st.st_ino;
	se->forks = atomic_load(&forks);
	se->map_size = (size_t)s->o.map_size;
	se->file_mode = s->o.file_mode;
	if (!s->maintenance && !s->o.keys_only)
		take_rules(se, &s->o, s->fleet_on);
	pthread_rwlock_init(&se->resize, NULL);
	s->se = se;
	if ((rc = mdb_env_create(&se->env)) || (rc = mdb_env_set_maxdbs(se->env, 6)) ||
	    (rc = mdb_env_set_maxreaders(se->env, STORE_MAX_READERS)) ||
	    (rc = mdb_env_set_mapsize(se->env, se->map_size))) {
		snprintf(err, errlen, "store '%s': %s", s->path, mdb_strerror(rc));
		goto fail;
	}
	s->env = se->env;
	/* Before store_files_prepare, which makes a missing data.mdb: a file
	 * it made is new whatever lock.mdb says (data.mdb moved away). */
	{
		char data[STORE_MAX_PATH + 16];
		struct stat ds;

		snprintf(data, sizeof data, "%s/data.mdb", s->path);
		empty = lstat(data, &ds) == 0 && S_ISREG(ds.st_mode) && ds.st_size == 0;
	}
	/* The checks, the verification and LMDB's open all act as the
	 * directory's owner when root uses another user's store. */
	if (store_files_prepare(s->path, s->o.file_mode, s->o.file_mode_set, LOCK_FILE_BYTES,
	                        !s->find_only, &files, err, errlen) ||
	    (empty && empty_data_file(s->path, err, errlen)) ||
	    store_verify(s->path, err, errlen)) {
		store_files_done(&files);
		goto fail;
	}
	rc = full_disk_rc(s->path, mdb_env_open(se->env, s->path, 0, (mdb_mode_t)s->o.file_mode));
	store_files_done(&files);
	if (rc) {
		snprintf(err, errlen, "store '%s': cannot open: %s%s", s->path, mdb_strerror(rc),
		         rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH || rc == MDB_CORRUPTED
		                 ? " (the data file is damaged or not an LMDB file)"
		         : rc == EACCES || rc == EROFS ? " (the directory must be writable and "
		                                         "searchable (w and x) and its files "
		                                         "writable, even to read: LMDB keeps its "
		                                         "readers in lock.mdb; "
		                                         "copy a store on read-only media to a "
		                                         "writable place to read it)"
		                                       : commit_hint(s, rc));
		goto fail;
	}
	{
		MDB_envinfo info;
		if (mdb_env_info(se->env, &info) == 0 && info.me_mapsize > se->map_size)
			se->map_size = info.me_mapsize; /* another process grew it */
	}
	/* Reader slots of processes killed while reading would pin old
	 * pages forever. */
	mdb_reader_check(se->env, &dead);
	if (dead > 0) {
		char n[16];
		snprintf(n, sizeof n, "%d", dead);
		logf_host(s, LBS_LOG_INFO, "store '%s': cleared %s stale reader slots", s->path, n);
	}
	if (open_dbs(s, err, errlen))
		goto fail;
	/* Without a file_mode given the files keep theirs: that is the mode
	 * another scheduler that gives one must match. */
	if (!s->o.file_mode_set) {
		char data[4200];
		struct stat fs;

		snprintf(data, sizeof data, "%s/data.mdb", s->path);
		if (stat(data, &fs) == 0)
			se->file_mode = (uint32_t)(fs.st_mode & 07777);
	}
	se->prefs = s->prefs;
	se->meta = s->meta;
	se->outbox = s->outbox;
	se->fleet = s->fleetdb;
	se->refs = 1;
	se->next = envs;
	envs = se;
	pthread_mutex_unlock(&envs_mu);
	return 0;
fail:
	if (se->env)
		mdb_env_close(se->env);
	pthread_rwlock_destroy(&se->resize);
	free(se);
	s->se = NULL;
	s->env = NULL;
	pthread_mutex_unlock(&envs_mu);
	return -1;
}

static int open_env(store *s, char *err, size_t errlen)
{
	size_t txnid;

	if (attach_env(s, err, errlen))
		return -1;
	if (s->drops)
		return 0;
	s->view = read_view(s, &txnid, err, errlen);
	if (!s->view)
		return -1;
	s->seen_txnid = txnid;
	atomic_store(&s->pairs, hist_count(s->view));
	return 0;
}

static void close_env(store *s)
{
	shared_env *se = s->se, **pp;

	if (!se)
		return;
	pthread_mutex_lock(&envs_mu);
	if (--se->refs == 0) {
		for (pp = &envs; *pp && *pp != se; pp = &(*pp)->next)
			;
		if (*pp)
			*pp = se->next;
		{
			/* What this process wrote through LMDB needs no child to
			 * read it at the next open. */
			mdb_filehandle_t fd;
			if (mdb_env_get_fd(se->env, &fd) == 0)
				store_verify_trust(fd);
		}
		mdb_env_close(se->env);
		pthread_rwlock_destroy(&se->resize);
		free(se);
	}
	pthread_mutex_unlock(&envs_mu);
	s->se = NULL;
	s->env = NULL;
}

lbs_status store_open(const store_opts *o, const lbs_host_api *host, store **out, char *err,
                      size_t errlen)
{
	store *s = calloc(1, sizeof *s);

	*out = NULL;
	if (!s) {
		snprintf(err, errlen, "store: out of memory");
		return LBS_ENOMEM;
	}
	s->o = *o;
	s->host = host;
	pthread_once(&forks_once, count_forks);
	s->pid = getpid();
	s->forks = atomic_load(&forks);
	atomic_flag_clear(&s->fork_said);
	s->rules = hist_rules_make(o->alpha, o->half_life);
	s->fleet_on = o->fleet != NULL;
	s->o.fleet = NULL; /* the caller's: fleet_start copies what it keeps */
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->work, NULL);
	pthread_cond_init(&s->done, NULL);
	if (o->path) {
		s->path = strdup(o->path);
		s->cap = s->batch_cap = o->queue_max < QUEUE_START ? o->queue_max : QUEUE_START;
		s->q = calloc(s->cap, sizeof *s->q);
		s->batch = calloc(s->cap, sizeof *s->batch);
		if (!s->path || !s->q || !s->batch) {
			snprintf(err, errlen, "store '%s': out of memory", o->path);
			store_close(s);
			return LBS_ENOMEM;
		}
		/* prefs sync brings a store a host made up to date, and makes
		 * none, as prefs dump does not: a typo in its path would have
		 * left an empty one, filled with the fleet's totals alone. */
		s->find_only = o->fleet_manual;
		if (!(o->fleet_manual && dir_missing(o->path, err, errlen)) &&
		    open_env(s, err, errlen) == 0) {
			s->persistent = 1;
		} else {
			close_env(s);
			if (!o->memory_on_error) {
				store_close(s);
				return LBS_EIO;
			}
			logf_host(s, LBS_LOG_ERROR, "%s; RUNNING MEMORY-ONLY as configured "
			          "(store.on_error \"memory\"): nothing learned will be kept%s", err, "");
		}
	}
	if (!s->view && !(s->view = hist_new())) {
		snprintf(err, errlen, "store: out of memory");
		store_close(s);
		return LBS_ENOMEM;
	}
	if (s->persistent) {
		int rc = thread_start(&s->thread, flusher, s);

		if (rc) {
			snprintf(err, errlen, "store '%s': cannot start the flusher thread: %s", s->path,
			         rc == ENOMEM ? "out of memory" : strerror(rc));
			store_close(s);
			return rc == ENOMEM ? LBS_ENOMEM : LBS_EIO;
		}
		s->thread_started = 1;
		if (o->fleet) {
			lbs_status st = fleet_start(s, o->fleet, !o->fleet_manual, &s->fleet, err,
			                            errlen);

			if (st != LBS_OK) {
				store_close(s);
				return st;
			}
		}
	}
	*out = s;
	return LBS_OK;
}

void store_close(store *s)
{
	if (!s)
		return;
	if (in_child(s)) {
		/* The heap is the child's copy; the rest is the parent's: its
		 * threads, its environment, its locks, and the fleet's. */
		for (uint32_t i = 0; s->q && i < s->len; i++)
			free(s->q[(s->head + i) % s->cap].worker);
		for (uint32_t i = 0; s->batch && i < s->held; i++)
			free(s->batch[i].worker);
		for (uint32_t i = 0; i < s->aff_len; i++)
			free(s->aff[i]);
		free(s->aff);
		hist_free(s->view);
		hist_free(atomic_exchange(&s->published, NULL));
		hist_free(atomic_exchange(&s->retired, NULL));
		ptab_free(&s->ctab);
		free(s->q);
		free(s->batch);
		free(s->path);
		free(s);
		return;
	}
	fleet_stop(s->fleet); /* before the flusher: it reads the store */
	s->fleet = NULL;
	if (s->thread_started) {
		pthread_mutex_lock(&s->mu);
		s->stop = 1;
		pthread_cond_signal(&s->work);
		pthread_mutex_unlock(&s->mu);
		pthread_join(s->thread, NULL);
	}
	close_env(s);
	for (uint32_t i = 0; s->q && i < s->len; i++) /* only when the flusher never ran */
		free(s->q[(s->head + i) % s->cap].worker);
	hist_free(s->view);
	hist_free(atomic_exchange(&s->published, NULL));
	hist_free(atomic_exchange(&s->retired, NULL));
	pthread_cond_destroy(&s->work);
	pthread_cond_destroy(&s->done);
	pthread_mutex_destroy(&s->mu);
	free(s->q);
	free(s->batch);
	ptab_free(&s->ctab);
	free(s->path);
	free(s);
}

/* ---- maintenance ----------------------------------------------------------- */

/* A store opened only to read or write records: no flusher thread. */
static store *open_for_maintenance(const char *dir, int create, int drops, char *err,
                                   size_t errlen)
{
	store *s;

	/* The config's bound: an import made a store at a longer path that
	 * no scheduler could open. */
	if (strlen(dir) > STORE_MAX_PATH) {
		snprintf(err, errlen, "store '%.64s...': the path is %zu bytes, more than the %d a "
		         "store's may be", dir, strlen(dir), STORE_MAX_PATH);
		return NULL;
	}
	/* Only an import creates a store: export, dump and reset never. */
	if (!create && dir_missing(dir, err, errlen))
		return NULL;
	if (!(s = calloc(1, sizeof *s))) {
		snprintf(err, errlen, "store '%s': out of memory", dir);
		return NULL;
	}
	/* ... nor files in a directory that holds none */
	s->find_only = !create;
	s->maintenance = 1;
	s->drops = drops;
	store_opts_default(&s->o);
	s->rules = hist_rules_make(s->o.alpha, s->o.half_life);
	s->path = strdup(dir);
	if (!s->path || open_env(s, err, errlen)) {
		close_env(s);
		hist_free(s->view);
		free(s->path);
		free(s);
		return NULL;
	}
	return s;
}

static void close_maintenance(store *s)
{
	close_env(s);
	hist_free(s->view);
	free(s->path);
	free(s);
}

typedef struct item_ctx {
	store_item_fn fn;
	void *ctx;
} item_ctx;

static int as_item(void *ctx, uint32_t type, const char *worker, const hist_sums *c)
{
	const item_ctx *ic = ctx;
	store_item it = {type, worker, *c};

	return ic->fn(ic->ctx, &it);
}

lbs_status store_dir_read(const char *dir, store_item_fn fn, void *ctx, uint64_t *skipped,
                          char *err, size_t errlen)
{
	store *s = open_for_maintenance(dir, 0, 0, err, errlen);
	MDB_txn *txn = NULL;
	item_ctx ic = {fn, ctx};
	int rc, bad = 0;
	char first[STORE_MSG_MAX] = "";

	*skipped = 0;
	if (!s)
		return LBS_EIO;
	rc = txn_begin(s, MDB_RDONLY, &txn);
	if (rc == 0) {
		bad = each_record(s, txn, s->prefs, as_item, &ic, skipped, first, sizeof first, err,
		                  errlen) < 0;
		mdb_txn_abort(txn);
		pthread_rwlock_unlock(&s->se->resize);
	}
	if (rc)
		snprintf(err, errlen, "store '%s': cannot read: %s", dir, mdb_strerror(rc));
	else if (!bad && *skipped)
		snprintf(err, errlen, "%s", first);
	close_maintenance(s);
	return rc || bad ? LBS_EIO : LBS_OK;
}

lbs_status store_dir_write(const char *dir, const store_item *items, size_t n, int replace,
                           int create, char *err, size_t errlen)
{
	store *s = open_for_maintenance(dir, create, replace, err, errlen);
	int rc = MDB_MAP_FULL, grown;

	if (!s)
		return LBS_EIO;
	for (int attempt = 0; attempt < MAX_MAP_RETRIES && rc == MDB_MAP_FULL; attempt++) {
		MDB_txn *txn;
		size_t seen;

		rc = txn_begin(s, 0, &txn);
		if (rc)
			break;
		seen = s->se->map_size; /* held shared: it cannot change */
		if (replace)
			rc = mdb_drop(txn, s->prefs, 0);
		for (size_t i = 0; i < n && rc == 0; i++) {
			unsigned char key[MAX_ID + 1];
			store_rec r;
			MDB_val k = {make_key(key, items[i].type, items[i].worker), key};
			MDB_val v = {sizeof r, &r};

			if (!k.mv_size) {
				rc = EINVAL;
				break;
			}
			r = items[i].c;
			rc = mdb_put(txn, s->prefs, &k, &v, 0);
		}
		if (rc == 0)
			rc = mdb_txn_commit(txn);
		else
			mdb_txn_abort(txn);
		pthread_rwlock_unlock(&s->se->resize);
		/* what stops the growth is what is said: a map that could
		 * not grow (ENOMEM) was told as one at its ceiling */
		if (rc == MDB_MAP_FULL && (grown = grow_map(s, seen)) != 0) {
			rc = grown;
			break;
		}
	}
	rc = full_disk_rc(dir, rc);
	if (rc)
		snprintf(err, errlen, "store '%s': nothing written: %s%s", dir, mdb_strerror(rc),
		         commit_hint(s, rc));
	close_maintenance(s);
	return rc ? LBS_EIO : LBS_OK;
}

/* ---- the affinity scheduler's memory --------------------------------------- */

/*
 * Named database "affinity" (store.h): opened inside each transaction that
 * uses it, with MDB_CREATE only when writing, so a store that never had an
 * affinity scheduler has no such database and reads as empty.  LMDB allows
 * one transaction that opens a database at a time in a process, hence
 * envs_mu for the whole transaction.  Reads run at the scheduler's create;
 * writes on the flusher thread, from what store_affinity_put queued.
 */
#define AFFINITY_DB "affinity"
/* Pairs queued between two drains at most (a drain runs at least every
 * refresh_ms); beyond, a pair is dropped and counted as lost. */
#define AFFINITY_QUEUE_MAX 65536u

static int affinity_begin(store *s, unsigned flags, MDB_txn **txn, MDB_dbi *dbi)
{
	int rc;

	pthread_mutex_lock(&envs_mu);
	rc = txn_begin(s, flags, txn);
	if (rc == 0) {
		rc = mdb_dbi_open(*txn, AFFINITY_DB, flags & MDB_RDONLY ? 0 : MDB_CREATE, dbi);
		if (rc) {
			mdb_txn_abort(*txn);
			pthread_rwlock_unlock(&s->se->resize);
		}
	}
	if (rc)
		pthread_mutex_unlock(&envs_mu);
	return rc;
}

static void affinity_end(store *s)
{
	pthread_rwlock_unlock(&s->se->resize);
	pthread_mutex_unlock(&envs_mu);
}

lbs_status store_affinity_read(store *s, store_affinity_fn fn, void *ctx, char *err,
                               size_t errlen)
{
	char key[STORE_AFFINITY_MAX_KEY + 1], worker[MAX_ID + 1];
	MDB_cursor *cur;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k, v;
	int rc;

	if (!s || !s->persistent)
		return LBS_OK;
	rc = affinity_begin(s, MDB_RDONLY, &txn, &dbi);
	if (rc == MDB_NOTFOUND)
		return LBS_OK; /* never written */
	if (rc) {
		snprintf(err, errlen, "store '%s': cannot read its affinities: %s", s->path,
		         mdb_strerror(rc));
		return LBS_EIO;
	}
	if (mdb_cursor_open(txn, dbi, &cur) == 0) {
		for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
		     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
			/* Not a pair of ours: skip rather than misread. */
			if (!k.mv_size || k.mv_size > STORE_AFFINITY_MAX_KEY || !v.mv_size ||
			    v.mv_size > MAX_ID || memchr(k.mv_data, 0, k.mv_size) ||
			    memchr(v.mv_data, 0, v.mv_size))
				continue;
			memcpy(key, k.mv_data, k.mv_size);
			key[k.mv_size] = '\0';
			memcpy(worker, v.mv_data, v.mv_size);
			worker[v.mv_size] = '\0';
			if (fn(ctx, key, worker))
				break;
		}
		mdb_cursor_close(cur);
	}
	mdb_txn_abort(txn);
	affinity_end(s);
	return LBS_OK;
}

lbs_status store_affinity_put(store *s, const char *key, const char *worker)
{
	size_t kl = strlen(key), wl = strlen(worker);
	char *k, *w;

	if (!s || !s->persistent)
		return LBS_OK;
	if (!kl || kl > STORE_AFFINITY_MAX_KEY || !wl || wl > MAX_ID)
		return LBS_EINVAL;
	if (forked(s))
		return LBS_EIO;
	k = strdup(key);
	w = strdup(worker);
	pthread_mutex_lock(&s->mu);
	if (k && w && s->aff_len + 2 > s->aff_cap && s->aff_cap < 2 * AFFINITY_QUEUE_MAX) {
		uint32_t cap = s->aff_cap ? s->aff_cap * 2 : 64;
		char **a = realloc(s->aff, cap * sizeof(*a));

		if (a) {
			s->aff = a;
			s->aff_cap = cap;
		}
	}
	if (k && w && s->aff_len + 2 <= s->aff_cap) {
		s->aff[s->aff_len++] = k;
		s->aff[s->aff_len++] = w;
		k = w = NULL;
	}
	pthread_mutex_unlock(&s->mu);
	if (k || w) {
		free(k);
		free(w);
		atomic_fetch_add(&s->lost, 1);
		return LBS_EIO;
	}
	return LBS_OK;
}

/* Write what store_affinity_put queued, in one transaction; the flusher's
 * (called without s->mu).  A failure is logged and the pairs dropped: the
 * scheduler still has them in memory, only a restart would miss them. */
static void affinity_drain(store *s)
{
	char **a, cnt[16];
	uint32_t n;
	MDB_txn *txn;
	MDB_dbi dbi;
	int rc;

	pthread_mutex_lock(&s->mu);
	a = s->aff;
	n = s->aff_len;
	s->aff = NULL;
	s->aff_len = s->aff_cap = 0;
	pthread_mutex_unlock(&s->mu);
	if (!n) {
		free(a);
		return;
	}
	rc = affinity_begin(s, 0, &txn, &dbi);
	if (rc == 0) {
		for (uint32_t i = 0; rc == 0 && i + 1 < n; i += 2) {
			MDB_val k = { strlen(a[i]), a[i] }, v = { strlen(a[i + 1]), a[i + 1] };

			rc = mdb_put(txn, dbi, &k, &v, 0);
		}
		if (rc == 0)
			rc = mdb_txn_commit(txn);
		else
			mdb_txn_abort(txn);
		affinity_end(s);
	}
	if (rc) {
		snprintf(cnt, sizeof cnt, "%u", n / 2);
		logf_host(s, LBS_LOG_ERROR, "store '%s': %s affinities not written", s->path, cnt);
		rc = full_disk_rc(s->path, rc);
		logf_host(s, LBS_LOG_ERROR, "store '%s': %s", s->path, mdb_strerror(rc));
	}
	for (uint32_t i = 0; i < n; i++)
		free(a[i]);
	free(a);
}

/* ---- fleet learning ------------------------------------------------------ */

struct fleet *store_fleet(store *s)
{
	return s && !in_child(s) ? s->fleet : NULL;
}

const char *store_path(const store *s)
{
	return s->path;
}

const lbs_host_api *store_host(const store *s)
{
	return s->host;
}

double store_half_life(const store *s)
{
	return s->o.half_life;
}

/* Commit (or abort on rc) and release; a full map grows for a retry. */
static int fleet_end(store *s, MDB_txn *txn, int rc, int *again)
{
	size_t seen = s->se->map_size;

	*again = 0;
	if (rc == 0)
		rc = mdb_txn_commit(txn);
	else
		mdb_txn_abort(txn);
	pthread_rwlock_unlock(&s->se->resize);
	if (rc == MDB_MAP_FULL && grow_map(s, seen) == 0)
		*again = 1;
	return rc;
}

static int fleet_err(store *s, int rc, const char *what, char *err, size_t errlen)
{
	rc = full_disk_rc(s->path, rc);
	snprintf(err, errlen, "store '%s': cannot %s: %s%s", s->path, what, mdb_strerror(rc),
	         commit_hint(s, rc));
	return -1;
}

int store_fleet_state_get(store *s, store_fleet_state *st, char *err, size_t errlen)
{
	MDB_txn *txn;
	MDB_stat ms;
	int rc = txn_begin(s, MDB_RDONLY, &txn);
	uint64_t inc;

	if (rc)
		return fleet_err(s, rc, "read its fleet state", err, errlen);
	memset(st, 0, sizeof *st);
	meta_str(s, txn, "fleet_host", st->host, sizeof st->host);
	meta_str(s, txn, "fleet_epoch", st->epoch, sizeof st->epoch);
	meta_str(s, txn, "fleet_pull_epoch", st->pull_epoch, sizeof st->pull_epoch);
	meta_str(s, txn, "fleet_target", st->target, sizeof st->target);
	st->seq = meta_u64(s, txn, "fleet_seq", 0);
	st->acked = meta_u64(s, txn, "fleet_acked", 0);
	st->ver = meta_u64(s, txn, "fleet_ver", 0);
	inc = meta_u64(s, txn, "fleet_included", NEVER);
	st->included = inc == NEVER ? -1 : (int64_t)inc;
	if (mdb_stat(txn, s->outbox, &ms) == 0)
		st->outbox = ms.ms_entries;
	mdb_txn_abort(txn);
	pthread_rwlock_unlock(&s->se->resize);
	return 0;
}

int store_fleet_snapshot(store *s, store_sums_fn fn, void *ctx, uint64_t *seq, char *err,
                         size_t errlen)
{
	MDB_txn *txn;
	uint64_t skipped = 0;
	char first[STORE_MSG_MAX];
	int rc = txn_begin(s, MDB_RDONLY, &txn);

	if (rc)
		return fleet_err(s, rc, "read its records", err, errlen);
	*seq = meta_u64(s, txn, "fleet_seq", 0);
	/* What a view skips is not sent either. */
	rc = each_record(s, txn, s->prefs, fn, ctx, &skipped, first, sizeof first, err, errlen);
	mdb_txn_abort(txn);
	pthread_rwlock_unlock(&s->se->resize);
	return rc < 0 ? -1 : 0;
}

typedef struct pend_ctx {
	ptab *t;
	double half_life;
	int failed;
} pend_ctx;

static int pend_pair(void *ctx, uint32_t type, const char *id, size_t n, const hist_sums *c)
{
	pend_ctx *m = ctx;
	int added;
	int64_t x = ptab_get(m->t, type, id, n, &added);

	if (x < 0) {
		m->failed = 1;
		return 1;
	}
	hist_sums_merge(&m->t->p[x].d, c, m->half_life); /* onto zeros when added */
	return 0;
}

int store_fleet_pending(store *s, uint64_t after, uint32_t max_entries, store_sums_fn fn,
                        void *ctx, uint64_t *from, uint64_t *to, char *err, size_t errlen)
{
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k, v;
	unsigned char kb[8];
	uint32_t n = 0;
	ptab t = {0};
	pend_ctx m = {&t, s->o.half_life, 0};
	int rc = txn_begin(s, MDB_RDONLY, &txn), bad = 0;

	*from = *to = 0;
	if (rc)
		return fleet_err(s, rc, "read its outbox", err, errlen);
	rc = mdb_cursor_open(txn, s->outbox, &cur);
	if (rc == 0) {
		seq_key(kb, after + 1);
		k = (MDB_val){8, kb};
		for (int got = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); got == 0 && n < max_entries;
		     got = mdb_cursor_get(cur, &k, &v, MDB_NEXT), n++) {
			uint64_t f;

			if (outbox_walk(&v, &f, pend_pair, &m) < 0 || m.failed) {
				bad = 1;
				break;
			}
			if (!*from)
				*from = key_seq(&k);
			*to = key_seq(&k);
		}
		mdb_cursor_close(cur);
		/* Each pair once, its ids still in the transaction's pages. */
		for (uint32_t i = 0; !bad && i < t.n; i++) {
			char id[MAX_ID + 1];

			memcpy(id, t.p[i].id, t.p[i].len);
			id[t.p[i].len] = '\0';
			if (fn(ctx, t.p[i].type, id, &t.p[i].d))
				break;
		}
	}
	mdb_txn_abort(txn);
	pthread_rwlock_unlock(&s->se->resize);
	ptab_free(&t);
	if (bad && m.failed) {
		snprintf(err, errlen, "store '%s': out of memory reading its outbox", s->path);
		return -1;
	}
	if (bad) {
		snprintf(err, errlen, "store '%s': an outbox entry after %llu is malformed; the store "
		         "is corrupt", s->path, (unsigned long long)after);
		return -1;
	}
	return rc ? fleet_err(s, rc, "read its outbox", err, errlen) : 0;
}

int store_fleet_set_target(store *s, const char *target, char *err, size_t errlen)
{
	int again = 1, rc = 0;

	for (int attempt = 0; again && attempt < MAX_MAP_RETRIES; attempt++) {
		MDB_txn *txn;

		rc = txn_begin(s, 0, &txn);
		if (rc)
			break;
		rc = meta_put(s, txn, "fleet_target", target, strlen(target));
		rc = fleet_end(s, txn, rc, &again);
	}
	return rc ? fleet_err(s, rc, "write its fleet state", err, errlen) : 0;
}

int store_fleet_set_acked(store *s, const char *epoch, uint64_t acked, char *err, size_t errlen)
{
	int again = 1, rc = 0;

	for (int attempt = 0; again && attempt < MAX_MAP_RETRIES; attempt++) {
		MDB_txn *txn;
		char old[40];

		rc = txn_begin(s, 0, &txn);
		if (rc)
			break;
		meta_str(s, txn, "fleet_epoch", old, sizeof old);
		/* Processes of one host push the same outbox: never go back. */
		if (strcmp(old, epoch) || meta_u64(s, txn, "fleet_acked", 0) < acked) {
			rc = meta_put(s, txn, "fleet_epoch", epoch, strlen(epoch));
			if (rc == 0)
				rc = meta_put_u64(s, txn, "fleet_acked", acked);
		}
		rc = fleet_end(s, txn, rc, &again);
	}
	return rc ? fleet_err(s, rc, "write its fleet state", err, errlen) : 0;
}

int store_fleet_apply(store *s, int full, const char *epoch, uint64_t ver, int64_t included,
                      const store_item *items, size_t n, char *err, size_t errlen)
{
	int again = 1, rc = 0;

	for (int attempt = 0; again && attempt < MAX_MAP_RETRIES; attempt++) {
		MDB_txn *txn;
		MDB_cursor *cur;
		MDB_val k, v;

		rc = txn_begin(s, 0, &txn);
		if (rc)
			break;
		if (full)
			rc = mdb_drop(txn, s->fleetdb, 0);
		for (size_t i = 0; i < n && rc == 0; i++) {
			unsigned char key[MAX_ID + 1];
			store_rec r = items[i].c;

			k = (MDB_val){make_key(key, items[i].type, items[i].worker), key};
			v = (MDB_val){sizeof r, &r};
			if (k.mv_size)
				rc = mdb_put(txn, s->fleetdb, &k, &v, 0);
		}
		/* The outbox entries the totals now include are sent. */
		if (rc == 0 && included > 0 && mdb_cursor_open(txn, s->outbox, &cur) == 0) {
			int got;

			for (got = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
			     got == 0 && key_seq(&k) <= (uint64_t)included;
			     got = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
				if ((rc = mdb_cursor_del(cur, 0)))
					break;
			mdb_cursor_close(cur);
		}
		if (rc == 0)
			rc = meta_put(s, txn, "fleet_pull_epoch", epoch, strlen(epoch));
		if (rc == 0)
			rc = meta_put_u64(s, txn, "fleet_ver", ver);
		if (rc == 0)
			rc = meta_put_u64(s, txn, "fleet_included",
			                  included < 0 ? 0 : (uint64_t)included);
		/* What the totals include of ours is acknowledged: the sync
		 * thread keeps its pushes' acknowledgements in memory and they
		 * become durable here, not in a transaction per push. */
		if (rc == 0 && included > 0) {
			char pushed[40];

			meta_str(s, txn, "fleet_epoch", pushed, sizeof pushed);
			if (!strcmp(pushed, epoch) &&
			    meta_u64(s, txn, "fleet_acked", 0) < (uint64_t)included)
				rc = meta_put_u64(s, txn, "fleet_acked", (uint64_t)included);
		}
		rc = fleet_end(s, txn, rc, &again);
	}
	return rc ? fleet_err(s, rc, "write the fleet's totals", err, errlen) : 0;
}
