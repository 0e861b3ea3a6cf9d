/*
 * composite.h -- blend the answers of several schedulers into one, and pick
 * the route for a test type.  Pure: no allocation, no I/O; every array is
 * the caller's.
 *
 * BLEND (the default).  Each child either scores every worker (its score()
 * slot) or votes (its select() answer).  For a scoring child j with scores
 * s_ij, over the ADMITTED workers A (below):
 *
 *     norm_ij = (s_ij - lo_j) / (hi_j - lo_j),  lo_j / hi_j = min / max over A
 *     norm_ij = 1 for every worker when hi_j == lo_j
 *
 * For a voting child, norm_ij = 1 for the workers it picked and 0 for the
 * rest.  With weights w_j normalised to sum 1,
 *
 *     blend_i = sum_j w_j norm_ij,  in 0..1.
 *
 * A worker is admitted when no child rejects it: a scoring child rejects a
 * worker it scores below 0 (or not a finite number).  A voting child only
 * votes: when it finds no worker it abstains (norm 0 everywhere), so a
 * child with a small weight cannot overrule the rest.  A voting child with
 * `veto` set bounds the decision instead: only the workers it picked are
 * admitted, and none when it found none.  When no child scores, only
 * workers some child voted for are admitted; never a worker no child named
 * (taking one anyway is the original's bug F5).
 *
 * VOTE (the original's weighted voting, seed-behaviour.md §b, without F5).
 * Every child selects; each worker it picks gets +w_j.  Only workers with
 * a vote are candidates; a child that finds no worker just adds nothing,
 * unless it has `veto` set: then, as in a blend, only its picks qualify.
 *
 * CHOICE.  Candidates are ranked by blend (or tally), higher first; values
 * within COMP_TIE_EPS are a tie.  In blend mode a tie goes to the lower
 * effective load (worker_effective_load), then to the earlier position in
 * the call's worker array -- the hardware-aware scheduler's own rule, so a
 * composite that gives it all the weight answers exactly as it does.  In
 * vote mode a tie goes straight to the earlier position, as in the
 * original.  The shared hard filter (eligible.h, without a load ceiling:
 * load is the children's business) guards the answer: a candidate that
 * fails a hard requirement is never chosen, whatever the children said.
 */
#ifndef LBS_COMPOSITE_H
#define LBS_COMPOSITE_H

#include <stdint.h>

#include <lbsched/abi.h>

/* Blends (or tallies) this close are equal. */
#define COMP_TIE_EPS 1e-12

/* One child's contribution to one decision. */
typedef struct comp_child {
	double weight;         /* normalised: the consulted children's sum to 1 */
	const double *scores;  /* score() of every worker, or NULL: it votes */
	const uint32_t *picks; /* a voting child's answer, positions */
	uint32_t n_picks;      /* 0: it found no worker */
	int veto;              /* a voter whose picks bound the candidates */
	/* Set by comp_admit for a scoring child: its range over the admitted
	 * workers (both 0 when none is admitted). */
	double lo, hi;
} comp_child;

/*
 * Blend, step 1: ok[i] = 1 when no child rejects workers[i] (rules above),
 * and each scoring child's lo / hi.  Picks at positions >= n are ignored.
 * Returns how many workers are admitted.
 */
uint32_t comp_admit(comp_child *c, uint32_t k, uint32_t n, uint8_t *ok);

/* The lowest of s[0..n) that is >= 0, or 1 when none is lower; *rejects
 * 1 when some s[i] is below 0 or not a number. */
double comp_lowest(const double *s, uint32_t n, int *rejects);

/* 1 when some s[i] is below 0 or not a number while hard[i] (the hard
 * filter as plugin/timed.h's facts give it: 0 fails, 1 passes, 2 unknown)
 * is not 0: a rejection the filter does not explain. */
int comp_any_unfiltered_reject(const double *s, const uint8_t *hard, uint32_t n);

/* A scoring child's normalised score for `raw` (an admitted worker's). */
double comp_normalised(const comp_child *c, double raw);

/* Blend, step 2: blend[i] for every admitted worker (what the others get
 * means nothing). */
void comp_blend(const comp_child *c, uint32_t k, uint32_t n,
                const uint8_t *ok, double *blend);

/*
 * Vote mode: blend[i] = the weight that voted for workers[i], ok[i] = 1
 * when it is above 0.  Returns how many workers got a vote.
 */
uint32_t comp_tally(const comp_child *c, uint32_t k, uint32_t n, uint8_t *ok,
                    double *blend);

/*
 * Choose up to `want` distinct candidates (ok[i] set), best first by the
 * ranking rule, skipping any that fails the hard filter (ok[] is cleared
 * for those).  by_load: break ties by effective load (blend mode) or not
 * (vote mode).  idx[] has room for `want`; order[], tmp[] (room for n) and
 * eload[] (room for n) are scratch, used only when want > 1.
 * Returns LBS_OK with *n_found set (possibly 0), or LBS_EINVAL when a
 * worker it had to look at is NULL, too small or without an id.
 */
lbs_status comp_choose(const lbs_workload *wl, const lbs_worker *const *workers,
                       uint32_t n, uint8_t *ok, const double *blend,
                       int by_load, uint32_t want, uint32_t *idx,
                       uint32_t *order, uint32_t *tmp, double *eload,
                       uint32_t *n_found);

/*
 * Every candidate, best first, into order[] (room for n) and their count
 * into *m; tmp[] and eload[] (room for n) are scratch.  Hard-filter
 * failures are left in: explain lists them as rejected.  LBS_EINVAL as
 * comp_choose.
 */
lbs_status comp_rank(const lbs_worker *const *workers, uint32_t n,
                     const uint8_t *ok, const double *blend, int by_load,
                     uint32_t *order, uint32_t *tmp, double *eload,
                     uint32_t *m);

/* ===== Sampled decisions for giant fleets ================================= */

/* Candidates a sampled decision keeps for the next one of its type. */
#define COMP_KEEP 4

/*
 * Which positions a sampled decision has drawn: an open-addressed table of
 * `mask + 1` entries (a power of two, at least twice the most positions one
 * decision draws), stamped per decision so that it is never cleared.
 */
typedef struct comp_seen {
	uint64_t *slot; /* stamp << 32 | position */
	uint32_t mask;
	uint32_t stamp;
} comp_seen;

/*
 * The candidate set of a sampled decision, the same for every child: the
 * positions in kept[] that are < n (the best few of the last sampled
 * decision of this workload type; UINT32_MAX for an empty slot), then `k`
 * positions drawn uniformly from 0..n-1 with *rng (prio_rand_next), each
 * position once.  pos[] has room for n_kept + k; seen's table for twice
 * that.  Returns how many.
 */
uint32_t comp_sample(uint64_t *rng, const uint32_t *kept, uint32_t n_kept,
                     uint32_t n, uint32_t k, uint32_t *pos, comp_seen *seen);

/*
 * The best `k` candidates (ok[i] set) by the ranking rule, best first, into
 * top[] (room for k) and their count into *m: comp_rank's first k, without
 * sorting the rest.  eload[] (room for n) is scratch.  LBS_EINVAL as
 * comp_choose.
 */
lbs_status comp_best_few(const lbs_worker *const *workers, uint32_t n,
                         const uint8_t *ok, const double *blend, int by_load,
                         uint32_t k, uint32_t *top, double *eload, uint32_t *m);

/* ===== Routing by test type ============================================== */

/*
 * One route: a test type it takes by exact name, or (prefix != 0) every
 * test type that starts with `match`.
 */
typedef struct comp_route {
	const char *match; /* non-empty */
	uint32_t prefix;
} comp_route;

/*
 * The route for test_type: an exact match wins over any prefix, and the
 * longest matching prefix over shorter ones.  -1 when none matches (or
 * test_type is NULL): the default route.  Names compare case-sensitively,
 * as the original's set_scheduler_for_test_type did.
 */
int32_t comp_route_find(const comp_route *r, uint32_t n, const char *test_type);

/* n - 1 when the last of n routes repeats an earlier one (same match and
 * kind), so that which one applies would be a guess; -1 when it does not.
 * A table checked as each route is added is checked whole, each route
 * against those before it once (every earlier pair was checked before:
 * checking them all again made a 4,096-route table minutes to load). */
int32_t comp_route_repeat(const comp_route *r, uint32_t n);

#endif
