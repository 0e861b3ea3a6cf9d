/*
 * ledger.c -- open placements in a ring, per-worker sums in a hash table;
 * see ledger.h.  Everything is allocated at ledger_new, so a select that
 * records a placement never allocates.
 */
#include "ledger.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"

#define NONE UINT32_MAX

typedef struct entry {
	uint64_t cookie;
	uint32_t worker;  /* slot in the worker table; NONE: closed or free */
	uint32_t type;
	double work;      /* nominal seconds, 0: unknown */
	double expires;   /* host seconds */
} entry;

typedef struct wslot {
	char id[LEDGER_ID_MAX]; /* "" : never used */
	uint32_t n_open;
	uint32_t n_sized; /* of those, with a known size */
	double work;      /* their nominal work */
} wslot;

/* Where the worker at one host position was found.  Ids of MEMO_ID bytes
 * or more are not remembered. */
#define MEMO_ID 24

typedef struct memo_entry {
	uint32_t slot; /* its slot + 1; 0: it has none */
	uint32_t gen;  /* table_gen when found */
	char text[MEMO_ID];
} memo_entry;

_Static_assert(LEDGER_ENTRIES < LEDGER_WORKERS_LOAD,
               "every worker the ring holds must fit under the table's load limit");

struct ledger {
	entry ring[LEDGER_ENTRIES];
	uint64_t seq;      /* placements ever recorded: the next ring position */
	wslot *w, *spare;  /* the worker table, and room to rebuild it */
	uint32_t used;     /* slots of w with an id */
	uint32_t table_gen; /* changes whenever slots move or one gets an id */
	memo_entry *memo;  /* per host position (ledger_mean_work_at) */
	uint32_t n_memo;
	uint32_t sized;    /* open entries of known size */
	double min_mean;   /* no worker's mean open work is below it */
	double last_sweep; /* < 0: never */
	_Atomic uint64_t open, opened, closed, expired, evicted, untracked;
};

static void bump(_Atomic uint64_t *c, int64_t d)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + (uint64_t)d,
	                      memory_order_relaxed);
}

ledger *ledger_new(void)
{
	ledger *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->w = calloc(LEDGER_WORKERS, sizeof(*l->w));
	l->spare = calloc(LEDGER_WORKERS, sizeof(*l->spare));
	if (!l->w || !l->spare) {
		ledger_free(l);
		return NULL;
	}
	for (uint32_t i = 0; i < LEDGER_ENTRIES; i++)
		l->ring[i].worker = NONE;
	l->last_sweep = -1.0;
	l->min_mean = INFINITY;
	return l;
}

void ledger_free(ledger *l)
{
	if (!l)
		return;
	free(l->w);
	free(l->spare);
	free(l->memo);
	free(l);
}

/* The table indexes by the low bits: the high half folded in. */
static uint32_t hash_id(const char *id)
{
	uint64_t h = lbs_fnv1a(LBS_FNV_OFFSET, id);

	return (uint32_t)(h ^ h >> 32);
}

/* The slot of id in table t: its own, or the empty one it would take;
 * NONE for an id too long to keep. */
static uint32_t find(const wslot *t, const char *id)
{
	uint32_t mask = LEDGER_WORKERS - 1, i;

	if (strnlen(id, LEDGER_ID_MAX) >= LEDGER_ID_MAX)
		return NONE;
	for (i = hash_id(id) & mask;; i = (i + 1) & mask) {
		if (!t[i].id[0] || strcmp(t[i].id, id) == 0)
			return i;
	}
}

/* Keep only workers with open work: the table never fills with workers
 * that left the fleet. */
static void rebuild(ledger *l)
{
	wslot *t = l->spare;

	memset(t, 0, LEDGER_WORKERS * sizeof(*t));
	l->used = 0;
	for (uint32_t i = 0; i < LEDGER_ENTRIES; i++) {
		entry *e = &l->ring[i];
		uint32_t j;

		if (e->worker == NONE)
			continue;
		j = find(t, l->w[e->worker].id);
		if (!t[j].id[0]) {
			memcpy(t[j].id, l->w[e->worker].id, LEDGER_ID_MAX);
			l->used++;
		}
		t[j].n_open++;
		if (e->work > 0.0) {
			t[j].n_sized++;
			t[j].work += e->work;
		}
		e->worker = j;
	}
	l->spare = l->w;
	l->w = t;
	l->table_gen++;
}

/* After a worker's sized work changed: the bound stays below its mean
 * (it may lag above none; ledger_expire makes it exact again). */
static void note_mean(ledger *l, const wslot *s)
{
	if (s->n_sized && s->work / s->n_sized < l->min_mean)
		l->min_mean = s->work / s->n_sized;
	if (!l->sized)
		l->min_mean = INFINITY;
}

static void drop(ledger *l, entry *e, _Atomic uint64_t *why)
{
	wslot *s = &l->w[e->worker];

	s->n_open--;
	if (e->work > 0.0) {
		s->n_sized--;
		l->sized--;
		/* Sums of doubles drift; an empty worker is exactly empty. */
		s->work = s->n_sized ? s->work - e->work : 0.0;
		note_mean(l, s);
	}
	e->worker = NONE;
	bump(&l->open, -1);
	bump(why, 1);
}

/* What the memo says of worker_id at host position pos: its slot + 1, 0
 * when it has none, UINT32_MAX when the memo does not know (another id
 * there, or the slots moved since). */
static uint32_t memo_slot(const ledger *l, uint32_t pos, const char *worker_id)
{
	const memo_entry *m;

	if (pos >= l->n_memo)
		return UINT32_MAX;
	m = &l->memo[pos];
	/* Slots move and appear only with a new table generation. */
	if (m->gen == l->table_gen && m->text[0] == worker_id[0] && strcmp(m->text, worker_id) == 0)
		return m->slot;
	return UINT32_MAX;
}

static void memo_put(ledger *l, uint32_t pos, const char *worker_id, uint32_t slot)
{
	memo_entry *m = &l->memo[pos];
	size_t len = strnlen(worker_id, MEMO_ID);

	if (len < MEMO_ID) {
		memcpy(m->text, worker_id, len + 1);
		m->slot = slot;
		m->gen = l->table_gen;
	}
}

void ledger_open_at(ledger *l, uint32_t pos, uint64_t cookie, const char *worker_id,
                    uint32_t type, double work_s, double now_s)
{
	entry *e = &l->ring[l->seq % LEDGER_ENTRIES];
	double work, life;
	uint32_t j;

	/* An empty id would read as a free slot (find()). */
	if (!worker_id || !worker_id[0]) {
		bump(&l->untracked, 1);
		return;
	}
	if (e->worker != NONE)
		drop(l, e, &l->evicted);
	/* At three quarters full, probes get long: drop the idle workers. */
	if (l->used >= LEDGER_WORKERS_LOAD)
		rebuild(l);
	/* A worker placed on before, at the position the memo saw it: no
	 * hash, no probe (the usual placement, on a worker the select has
	 * just looked up). */
	j = memo_slot(l, pos, worker_id);
	if (j != UINT32_MAX && j != 0) {
		j--;
	} else {
		j = find(l->w, worker_id);
		if (j == NONE || (!l->w[j].id[0] && l->used >= LEDGER_WORKERS_LOAD)) {
			bump(&l->untracked, 1);
			return;
		}
		if (!l->w[j].id[0]) {
			strcpy(l->w[j].id, worker_id);
			l->used++;
			l->table_gen++;
		}
		if (pos < l->n_memo)
			memo_put(l, pos, worker_id, j + 1);
	}
	/* Only now: nothing held across the lookup's calls. */
	work = !(isfinite(work_s) && work_s > 0.0) ? 0.0
	       : work_s < LEDGER_WORK_MIN ? LEDGER_WORK_MIN
	       : work_s > LEDGER_WORK_MAX ? LEDGER_WORK_MAX : work_s;
	life = LEDGER_EXPIRE_FACTOR * work;
	life = life < LEDGER_EXPIRE_MIN_S ? LEDGER_EXPIRE_MIN_S
	       : life > LEDGER_EXPIRE_MAX_S ? LEDGER_EXPIRE_MAX_S : life;
	*e = (entry){cookie, j, type, work, now_s + life};
	l->seq++;
	l->w[j].n_open++;
	if (work > 0.0) {
		l->w[j].n_sized++;
		l->w[j].work += work;
		l->sized++;
		note_mean(l, &l->w[j]);
	}
	bump(&l->open, 1);
	bump(&l->opened, 1);
}

void ledger_open(ledger *l, uint64_t cookie, const char *worker_id, uint32_t type,
                 double work_s, double now_s)
{
	ledger_open_at(l, UINT32_MAX, cookie, worker_id, type, work_s, now_s);
}

int ledger_close(ledger *l, uint64_t cookie, const char *worker_id)
{
	uint64_t lo = l->seq > LEDGER_ENTRIES ? l->seq - LEDGER_ENTRIES : 0, hi = l->seq;

	if (!worker_id || cookie == 0)
		return 0;
	/* Cookies increase along the ring: the first position >= cookie. */
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;

		if (l->ring[mid % LEDGER_ENTRIES].cookie < cookie)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < l->seq; lo++) {
		entry *e = &l->ring[lo % LEDGER_ENTRIES];

		if (e->cookie != cookie)
			break;
		if (e->worker != NONE && strcmp(l->w[e->worker].id, worker_id) == 0) {
			drop(l, e, &l->closed);
			return 1;
		}
	}
	return 0;
}

void ledger_expire(ledger *l, double now_s)
{
	if (l->last_sweep >= 0.0 && now_s - l->last_sweep < LEDGER_SWEEP_S)
		return;
	l->last_sweep = now_s;
	if (atomic_load_explicit(&l->open, memory_order_relaxed) == 0)
		return;
	for (uint32_t i = 0; i < LEDGER_ENTRIES; i++) {
		entry *e = &l->ring[i];

		if (e->worker != NONE && e->expires <= now_s)
			drop(l, e, &l->expired);
	}
	/* The bound, exact again. */
	l->min_mean = INFINITY;
	for (uint32_t j = 0; j < LEDGER_WORKERS; j++)
		if (l->w[j].n_sized)
			note_mean(l, &l->w[j]);
}

double ledger_min_mean(const ledger *l)
{
	return l->min_mean;
}

uint32_t ledger_sized(const ledger *l)
{
	return l->sized;
}

double ledger_mean_work(const ledger *l, const char *worker_id)
{
	uint32_t j = find(l->w, worker_id);

	if (j == NONE || !l->w[j].n_sized)
		return -1.0;
	return l->w[j].work / l->w[j].n_sized;
}

static int reserve_memo(ledger *l, uint32_t pos)
{
	memo_entry *m;
	uint32_t want = pos < 64 ? 64 : pos + pos / 2;

	if (pos < l->n_memo)
		return 1;
	m = realloc(l->memo, (size_t)want * sizeof(*m));
	if (!m)
		return 0;
	memset(m + l->n_memo, 0, (size_t)(want - l->n_memo) * sizeof(*m));
	l->memo = m;
	l->n_memo = want;
	return 1;
}

double ledger_mean_work_at(void *ctx, uint32_t pos, const char *worker_id)
{
	ledger *l = ctx;
	uint32_t j;

	if (pos >= l->n_memo && (pos == UINT32_MAX || !reserve_memo(l, pos)))
		return ledger_mean_work(l, worker_id);
	j = memo_slot(l, pos, worker_id);
	if (j == UINT32_MAX) {
		j = find(l->w, worker_id);
		j = j == NONE || !l->w[j].id[0] ? 0 : j + 1;
		memo_put(l, pos, worker_id, j);
	}
	return j && l->w[j - 1].n_sized ? l->w[j - 1].work / l->w[j - 1].n_sized : -1.0;
}

void ledger_prefetch_at(void *ctx, uint32_t pos)
{
	const ledger *l = ctx;

	/* its last byte too: the array is only 16-byte aligned, and every
	 * other 32-byte entry then spans two lines */
	if (pos < l->n_memo) {
		__builtin_prefetch(&l->memo[pos]);
		__builtin_prefetch((const char *)&l->memo[pos + 1] - 1);
	}
}

void ledger_counts_get(const ledger *l, ledger_counts *c)
{
	c->open = atomic_load_explicit(&l->open, memory_order_relaxed);
	c->opened = atomic_load_explicit(&l->opened, memory_order_relaxed);
	c->closed = atomic_load_explicit(&l->closed, memory_order_relaxed);
	c->expired = atomic_load_explicit(&l->expired, memory_order_relaxed);
	c->evicted = atomic_load_explicit(&l->evicted, memory_order_relaxed);
	c->untracked = atomic_load_explicit(&l->untracked, memory_order_relaxed);
}
