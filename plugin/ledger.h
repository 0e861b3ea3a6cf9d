/*
 * ledger.h -- work a scheduler placed that has not been reported yet: per
 * placement its worker, workload type and nominal work (est_duration_s),
 * keyed by the selection cookie and worker id; report() closes it.
 *
 * What it is for: a host that does not say how much work is ahead of a
 * worker (lbs_worker.pending_work_s unknown, or a 1.0 host) still counts
 * its tests; the ledger says how big they are (ledger_mean_work), so that
 * one 60 s test ahead weighs as 60 s and not as a copy of the new work.
 *
 * Bounds (docs/SCORING.md, "The wait model"):
 *   - LEDGER_ENTRIES placements at most are open.  They are kept in a ring
 *     in the order they were opened; a placement made while the ring is
 *     full evicts the oldest open one (counted: evicted).
 *   - A placement whose report never comes expires after
 *     clamp(LEDGER_EXPIRE_FACTOR x its work, LEDGER_EXPIRE_MIN_S,
 *     LEDGER_EXPIRE_MAX_S) seconds of the host's clock (counted: expired).
 *     Expired entries are swept at most LEDGER_SWEEP_S late.
 *   - Workers are tracked while they have open work: every worker the ring
 *     can hold (LEDGER_ENTRIES), as the table's load limit is above that.
 *     A placement with an id of LEDGER_ID_MAX bytes or more is not
 *     recorded (counted: untracked).
 * Memory is fixed at ledger_new: about 1.4 MB (the ring, 128 KB, and the
 * worker table twice, 640 KB each, to rebuild it without allocating),
 * plus 32 bytes per host position for ledger_mean_work_at.
 *
 * Cookies must increase with every placement (each scheduler's own
 * counter does): closing finds an entry by binary search over the ring.
 *
 * Not thread-safe.  The [data] calls of one instance are serialised by the
 * host for every scheduler of this plugin (none sets LBS_CAP_CONCURRENT);
 * one that did would need a lock around select's ledger_open and report's
 * ledger_close.  The counters are atomics so that stats ([any]) may read
 * them at any time.
 */
#ifndef LBS_PLUGIN_LEDGER_H
#define LBS_PLUGIN_LEDGER_H

#include <stdatomic.h>
#include <stdint.h>

#define LEDGER_ENTRIES 4096u
/* Slots of the worker table, a power of 2; it is rebuilt with only the
 * workers that have open work when LEDGER_WORKERS_LOAD are used (probes
 * stay short below that).  The limit is above any number of workers the
 * ring can hold, so a rebuild always frees at least
 * LEDGER_WORKERS_LOAD - LEDGER_ENTRIES + 1 slots (2,049), and placements
 * rebuild at most once in 2,049 however many workers are busy.  That
 * costs 80 bytes a slot, twice: 1.3 MB. */
#define LEDGER_WORKERS 8192u
#define LEDGER_WORKERS_LOAD (LEDGER_WORKERS / 4 * 3)
#define LEDGER_ID_MAX 64u
/* The nominal work a placement is kept as, 1 ms to 1e9 s: the range
 * hardware-aware counts a duration in (EST_MIN, EST_MAX in
 * scheduler-algos/hwaware.c), so that the work ahead and the new work are
 * measured alike; and a worker's sum of doubles keeps its other entries
 * (one 1e300 s placement, closed, took the 600 s ones with it).
 * test_ledger's test_work_clamped_as_hwaware fails if the two differ. */
#define LEDGER_WORK_MIN 1e-3
#define LEDGER_WORK_MAX 1e9
#define LEDGER_EXPIRE_FACTOR 10.0
#define LEDGER_EXPIRE_MIN_S 60.0
#define LEDGER_EXPIRE_MAX_S 86400.0
#define LEDGER_SWEEP_S 1.0

typedef struct ledger ledger;

typedef struct ledger_counts {
	uint64_t open;      /* placements open now */
	uint64_t opened;    /* placements recorded */
	uint64_t closed;    /* closed by a report */
	uint64_t expired;   /* dropped after the expiry bound */
	uint64_t evicted;   /* dropped for a newer one, the ring being full */
	uint64_t untracked; /* not recorded (see above) */
} ledger_counts;

/* NULL when out of memory. */
ledger *ledger_new(void);
void ledger_free(ledger *l); /* NULL is fine */

/* Record that `cookie` placed work of `work_s` nominal seconds (0 or less,
 * or not finite: unknown size; else kept clamped to LEDGER_WORK_MIN..MAX)
 * and workload type `type` on `worker_id`, at host time `now_s` (seconds). */
void ledger_open(ledger *l, uint64_t cookie, const char *worker_id, uint32_t type,
                 double work_s, double now_s);

/* ledger_open for the worker at `pos` in the host's array, through the
 * memory of ledger_mean_work_at: the same record for any pos. */
void ledger_open_at(ledger *l, uint32_t pos, uint64_t cookie, const char *worker_id,
                    uint32_t type, double work_s, double now_s);

/* Close the entry of (cookie, worker_id); 1 when there was one. */
int ledger_close(ledger *l, uint64_t cookie, const char *worker_id);

/* Drop what expired by now_s (at most once per LEDGER_SWEEP_S). */
void ledger_expire(ledger *l, double now_s);

/* Open placements of known size, over all workers: 0 means
 * ledger_mean_work would answer -1 for everyone. */
uint32_t ledger_sized(const ledger *l);

/* The mean nominal work of the open placements of known size on
 * worker_id, or -1 when it has none. */
double ledger_mean_work(const ledger *l, const char *worker_id);

/* The same, remembering where worker_id was found under `pos` (its
 * position in the host's array, UINT32_MAX for none), so that the next
 * call for the same position costs a string compare instead of a hash and
 * probe.  Any pos gives the same answer; a fleet larger than any before
 * grows that memory (without memory, it just looks up).  The ledger is
 * passed as void * so that this is an hw_learned.open_work as it is. */
double ledger_mean_work_at(void *l, uint32_t pos, const char *worker_id);

/* Start fetching ledger_mean_work_at's memo entry of position pos (a
 * hint; nothing when pos has none yet). */
void ledger_prefetch_at(void *l, uint32_t pos);

/* No worker's ledger_mean_work is below this (INFINITY when none has
 * one): lets a select bound a wait before looking a worker up. */
double ledger_min_mean(const ledger *l);

void ledger_counts_get(const ledger *l, ledger_counts *c);

#endif
