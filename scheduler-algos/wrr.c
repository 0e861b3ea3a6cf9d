/*
 * wrr.c -- smooth weighted round-robin, a rotation per eligibility class;
 * see wrr.h for the rule.
 */
#include "wrr.h"

#include <stdlib.h>
#include <math.h>
#include <string.h>

#include "eligible.h"
#include "worker_id.h"

/* Current weights of ids not eligible for this many selects of their
 * class are dropped when its table would otherwise grow. */
#define WRR_KEEP 4096u
#define WRR_MIN_LOAD_WEIGHT 0.01

/* Current weights are keyed by wid_hash: a collision would make two
 * workers share one, an out-of-turn pick, never an ineligible one. */

void wrr_init(wrr_state *s)
{
	memset(s, 0, sizeof(*s));
}

static void class_free(wrr_class *c)
{
	free(c->ent);
	free(c->index);
	free(c->pos_ent);
	memset(c, 0, sizeof(*c));
}

void wrr_free(wrr_state *s)
{
	for (uint32_t i = 0; i < WRR_CLASSES; i++)
		class_free(&s->cls[i]);
	class_free(&s->all);
	free(s->pos_weight);
	wrr_init(s);
}

/* The entry of hash h, or UINT32_MAX; *slot gets where it is or would go. */
static uint32_t lookup(const wrr_class *c, uint64_t h, uint32_t *slot)
{
	uint32_t mask = c->cap - 1, i = (uint32_t)(h ^ (h >> 32)) & mask;

	while (c->index[i]) {
		if (c->ent[c->index[i] - 1].hash == h) {
			*slot = i;
			return c->index[i] - 1;
		}
		i = (i + 1) & mask;
	}
	*slot = i;
	return UINT32_MAX;
}

/* Keep the entries seen since `since`, with room for `room` more; an
 * index of at least twice that.  Both blocks are had before anything
 * moves: the index holds entry positions, so entries compacted under an
 * index that could not be replaced would send lookups to the wrong
 * entries, or past n_ent.  On LBS_ENOMEM the class is as it was. */
static lbs_status rebuild(wrr_class *c, uint64_t since, uint32_t room)
{
	uint32_t kept = 0, cap = 64, ent_cap = c->ent_cap, slot;
	uint32_t *index;

	for (uint32_t i = 0; i < c->n_ent; i++)
		kept += c->ent[i].seen >= since;
	if ((uint64_t)kept + room > ent_cap) {
		uint64_t want = (uint64_t)kept + room;

		want += want / 2;
		if (want > UINT32_MAX / 2)
			return LBS_ENOMEM;
		ent_cap = (uint32_t)want;
	}
	while ((uint64_t)cap < 2 * (uint64_t)ent_cap)
		cap *= 2;
	if (!(index = calloc(cap, sizeof(*index))))
		return LBS_ENOMEM;
	if (ent_cap != c->ent_cap) {
		/* a larger block under the old index would let class_room
		 * admit more entries than the index has free slots */
		wrr_entry *e = realloc(c->ent, (size_t)ent_cap * sizeof(*e));

		if (!e) {
			free(index);
			return LBS_ENOMEM;
		}
		c->ent = e;
		c->ent_cap = ent_cap;
	}
	kept = 0;
	for (uint32_t i = 0; i < c->n_ent; i++)
		if (c->ent[i].seen >= since)
			c->ent[kept++] = c->ent[i];
	c->n_ent = kept;
	free(c->index);
	c->index = index;
	c->cap = cap;
	for (uint32_t i = 0; i < c->n_ent; i++) {
		(void)lookup(c, c->ent[i].hash, &slot);
		c->index[slot] = i + 1;
	}
	return LBS_OK;
}

/* Room in c for every one of n workers to be new, and a position cache
 * of n. */
static lbs_status class_room(wrr_class *c, uint32_t n)
{
	if (n > c->pos_cap) {
		uint32_t *pe = realloc(c->pos_ent, n * sizeof(*pe));

		if (!pe)
			return LBS_ENOMEM;
		for (uint32_t i = c->pos_cap; i < n; i++)
			pe[i] = UINT32_MAX;
		c->pos_ent = pe;
		c->pos_cap = n;
	}
	if (c->cap && (uint64_t)c->n_ent + n <= c->ent_cap)
		return LBS_OK;
	if (c->cap && c->steps > WRR_KEEP) {
		lbs_status st = rebuild(c, c->steps - WRR_KEEP, 0);

		if (st != LBS_OK || (uint64_t)c->n_ent + n <= c->ent_cap)
			return st;
	}
	return rebuild(c, 0, n);
}

lbs_status wrr_prepare(wrr_state *s, uint32_t n)
{
	if (n > s->pos_cap) {
		double *pw = realloc(s->pos_weight, 3 * (size_t)n * sizeof(*pw));

		if (!pw)
			return LBS_ENOMEM;
		s->pos_weight = pw;
		s->pos_cap = n;
	}
	return LBS_OK;
}

void wrr_forget(wrr_state *s, uint64_t age)
{
	if (s->all.cap)
		(void)rebuild(&s->all, s->all.steps > age ? s->all.steps - age : 0, 0);
	for (uint32_t i = 0; i < s->n_cls; i++) {
		wrr_class *c = &s->cls[i];

		if (c->cap)
			(void)rebuild(c, c->steps > age ? c->steps - age : 0, 0);
	}
}

/*
 * The class of a request: what it asks of a worker's hardware, the
 * requirements that make its eligible set apart from the load ceiling,
 * the exclude list, memory, compute units and what is free now (those
 * move the set within a class, as they move it between requests of one
 * kind).  Memory and compute units are numbers a client picks freely (in
 * nginx, X-Min-Memory-Gb): as part of the key, each size was a class of
 * its own, and more sizes than WRR_CLASSES in turn evicted every class
 * before it came back.  Names and accelerator kinds are sets to
 * eligibility, so their hashes are combined in any order alike.
 */
static uint64_t mix(uint64_t h, uint64_t v)
{
	return lbs_fnv1a_n(h, (const char *)&v, sizeof(v));
}

/* A string's own hash, spread (splitmix64's finaliser) so that sums of
 * them do not cancel by FNV's structure; NULL (never met) apart. */
static uint64_t str_hash(const char *str)
{
	uint64_t z = str ? lbs_fnv1a_n(LBS_FNV_OFFSET, str, strlen(str))
	                 : UINT64_MAX;

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static uint64_t class_key(const lbs_workload *wl)
{
	uint64_t h = LBS_FNV_OFFSET;
	uint32_t names = elig_n_names(wl);

	h = mix(h, wl->required_backends);
	h = mix(h, (uint64_t)wl->required_precisions << 32 | wl->required_features);
	if (wl->n_required_accels) {
		uint64_t sum = 0;

		h = mix(h, wl->n_required_accels);
		if (!wl->required_accel_kinds || !wl->required_accel_counts)
			sum = UINT64_MAX;
		else
			for (uint32_t i = 0; i < wl->n_required_accels; i++)
				sum += str_hash(wl->required_accel_kinds[i]) ^
				       wl->required_accel_counts[i] * UINT64_C(0x9e3779b97f4a7c15);
		h = mix(h, sum);
	}
	if (names) {
		uint64_t sum = 0;

		h = mix(h, (uint64_t)names << 32 | 1u);
		if (!wl->required_backend_names)
			sum = UINT64_MAX;
		else
			for (uint32_t i = 0; i < names; i++)
				sum += str_hash(wl->required_backend_names[i]);
		h = mix(h, sum);
	}
	return h;
}

static wrr_class *class_find(wrr_state *s, uint64_t key)
{
	for (uint32_t i = 0; i < s->n_cls; i++)
		if (s->cls[i].key == key)
			return &s->cls[i];
	return NULL;
}

/*
 * Make the class of key, after a select committed a pick for it: a copy
 * of the shared rotation as that select left it, in a free place or that
 * of the class selected for least recently.  Without memory for the copy
 * no class is made (the place taken is left empty); the next select of
 * the key tries again.
 */
static void class_make(wrr_state *s, uint64_t key)
{
	const wrr_class *all = &s->all;
	wrr_class *c;
	uint32_t at;

	if (s->n_cls < WRR_CLASSES) {
		at = s->n_cls;
	} else {
		at = 0;
		for (uint32_t i = 1; i < s->n_cls; i++)
			if (s->cls[i].used < s->cls[at].used)
				at = i;
	}
	c = &s->cls[at];
	if (c->ent_cap != all->ent_cap) {
		wrr_entry *e = realloc(c->ent, (size_t)all->ent_cap * sizeof(*e));

		if (!e)
			goto fail;
		c->ent = e;
		c->ent_cap = all->ent_cap;
	}
	if (c->cap != all->cap) {
		uint32_t *x = realloc(c->index, (size_t)all->cap * sizeof(*x));

		if (!x)
			goto fail;
		c->index = x;
		c->cap = all->cap;
	}
	if (c->pos_cap != all->pos_cap) {
		uint32_t *pe = realloc(c->pos_ent, (size_t)all->pos_cap * sizeof(*pe));

		if (!pe)
			goto fail;
		c->pos_ent = pe;
		c->pos_cap = all->pos_cap;
	}
	memcpy(c->ent, all->ent, (size_t)all->n_ent * sizeof(*c->ent));
	memcpy(c->index, all->index, (size_t)all->cap * sizeof(*c->index));
	memcpy(c->pos_ent, all->pos_ent, (size_t)all->pos_cap * sizeof(*c->pos_ent));
	c->n_ent = all->n_ent;
	c->steps = all->steps; /* the entries' `seen` count in its steps */
	c->key = key;
	c->used = s->clock;
	if (at == s->n_cls)
		s->n_cls++;
	return;
fail:
	/* a failed realloc left the old block: the place is emptied */
	class_free(c);
	if (at < s->n_cls) {
		s->cls[at] = s->cls[--s->n_cls];
		memset(&s->cls[s->n_cls], 0, sizeof(*c));
	}
}

double wrr_weight_of(const wrr_params *p, const lbs_worker *w)
{
	double x;

	switch (p->source) {
	case WRR_CONFIG:
		return p->weight ? p->weight(p->weight_ctx, w->id) : 1.0;
	case WRR_LOAD:
		x = 1.0 - worker_effective_load(w);
		return x > WRR_MIN_LOAD_WEIGHT ? x : WRR_MIN_LOAD_WEIGHT;
	default:
		return w->capacity ? (double)w->capacity : 1.0;
	}
}

/* The entry of worker id hash h at position i of c (made when `insert`:
 * class_room left room for the call's workers), or UINT32_MAX. */
static uint32_t entry_of(wrr_class *c, uint32_t i, uint64_t h, int insert)
{
	uint32_t k, slot;

	/* a looking call may come with more workers than the class has
	 * positions for: those are looked up */
	k = i < c->pos_cap ? c->pos_ent[i] : UINT32_MAX;
	if (k < c->n_ent && c->ent[k].hash == h)
		return k;
	k = c->cap ? lookup(c, h, &slot) : UINT32_MAX;
	if (k == UINT32_MAX && insert) {
		k = c->n_ent++;
		c->ent[k] = (wrr_entry){ .hash = h };
		c->index[slot] = k + 1;
	}
	if (i < c->pos_cap)
		c->pos_ent[i] = k;
	return k;
}

/*
 * Fill the scratch: per position its weight (-1 when not eligible), its
 * current weight in the shared rotation (cur_all) and in class c (cur;
 * 0 when never seen there; c NULL, a class not made yet: the shared
 * rotation's, of which it would be made).  A commit (`insert`) slots
 * positions, which needs room for every worker in both (class_room).
 * Returns the number eligible, or -1 for an invalid worker.
 */
static int64_t gather(wrr_class *all, wrr_class *c, const wrr_params *p,
                      const lbs_workload *wl, const lbs_worker *const *workers,
                      uint32_t n, int insert, double *weight, double *cur,
                      double *cur_all)
{
	int64_t eligible = 0;
	double load;

	for (uint32_t i = 0; i < n; i++) {
		const lbs_worker *w = workers[i];
		uint32_t k;
		uint64_t h;

		if (!wid_valid(w))
			return -1;
		weight[i] = -1.0;
		if (!elig_pass(wl, w, p->ceiling, &load))
			continue;
		weight[i] = wrr_weight_of(p, w);
		if (!(weight[i] > 0.0))
			weight[i] = 0.0; /* drained: see wrr_pick */
		eligible++;
		h = wid_hash(w->id);
		k = entry_of(all, i, h, insert);
		cur_all[i] = k < all->n_ent ? all->ent[k].current : 0.0;
		if (!c) {
			cur[i] = cur_all[i];
			continue;
		}
		k = entry_of(c, i, h, insert);
		cur[i] = k < c->n_ent ? c->ent[k].current : 0.0;
	}
	return eligible;
}

/* Store a committed step's current weights in c (-1: not eligible). */
static void class_store(wrr_class *c, const double *weight, const double *cur, uint32_t n)
{
	c->steps++;
	for (uint32_t i = 0; i < n; i++) {
		if (weight[i] < 0.0 && weight[i] > -1.5)
			continue; /* -1: not eligible */
		c->ent[c->pos_ent[i]].current = cur[i];
		c->ent[c->pos_ent[i]].seen = c->steps;
	}
}

/* For a request of `want` workers: a weight above 1/want of the total
 * would be a share past 1 (in every set, and more), so the largest are cut
 * to the one value c that makes each exactly 1, c = (the rest's total) /
 * (want - the number cut), the largest first until none of the rest is
 * over c.  Ties are cut together (the number cut stays below want).  With
 * no positive weight left beside them (fewer positive than want), nothing
 * is cut: those are in every set anyway. */
static void cap_shares(double *weight, uint32_t n, uint32_t want)
{
	double t = INFINITY, rest = 0.0;
	uint32_t cut = 0;

	for (;;) {
		double top = 0.0;
		uint32_t ties = 0;

		rest = 0.0;
		for (uint32_t i = 0; i < n; i++) {
			if (!(weight[i] > 0.0) || weight[i] >= t)
				continue;
			rest += weight[i];
			top = weight[i] > top ? weight[i] : top;
		}
		if (cut + 1 >= want || !(top > rest / (want - cut)))
			break;
		for (uint32_t i = 0; i < n; i++)
			ties += weight[i] == top;
		t = top;
		cut += ties;
	}
	if (t == INFINITY || !(rest > 0.0))
		return;
	for (uint32_t i = 0; i < n; i++)
		if (weight[i] >= t)
			weight[i] = rest / (want - cut);
}

/* The shares of one step for `want` of the eligible (weight >= 0), with
 * the weights cut by cap_shares.  They are the positive weights' slots:
 * a drained worker that fills a set (fewer of a weight than wanted) gains
 * and loses nothing, and the others, each in every such set, none
 * either. */
static uint32_t step_shares(double *weight, uint32_t n, uint32_t want)
{
	uint32_t shares = 0;

	for (uint32_t i = 0; i < n; i++)
		shares += weight[i] > 0.0;
	shares = shares < want ? shares : want;
	if (shares > 1)
		cap_shares(weight, n, shares);
	return shares;
}

lbs_status wrr_pick(wrr_state *s, const wrr_params *p, const lbs_workload *wl,
                    const lbs_worker *const *workers, uint32_t n, uint32_t want,
                    uint32_t commit, uint32_t *idx, wrr_result *res)
{
	double *weight = s->pos_weight, *cur = weight + n, *cur_all = cur + n;
	uint64_t key;
	wrr_class *c;
	int64_t eligible;

	memset(res, 0, sizeof(*res));
	if (n == 0)
		return LBS_OK;
	if (n > s->pos_cap)
		return LBS_EINTERNAL; /* wrr_prepare was not called */
	key = class_key(wl);
	c = class_find(s, key);
	if (commit) {
		lbs_status st = class_room(&s->all, n);

		if (st == LBS_OK && c)
			st = class_room(c, n);
		if (st != LBS_OK)
			return st;
	}
	eligible = gather(&s->all, c, p, wl, workers, n, commit > 0, weight, cur, cur_all);
	if (eligible < 0)
		return LBS_EINVAL;
	res->n_eligible = (uint32_t)eligible;
	if (want > res->n_eligible)
		want = res->n_eligible;
	uint32_t shares = res->shares = step_shares(weight, n, want);
	double total = 0.0;
	for (uint32_t i = 0; i < n; i++) {
		if (weight[i] < 0.0)
			continue;
		cur[i] += shares * weight[i];
		cur_all[i] += shares * weight[i];
		total += weight[i];
	}
	for (uint32_t k = 0; k < want; k++) {
		int64_t best = -1;

		/* A worker of weight 0 is drained: any eligible worker of a
		 * positive weight comes first, whatever the current weights
		 * that other requests' sets left behind. */
		for (uint32_t i = 0; i < n; i++) {
			if (weight[i] < 0.0)
				continue;
			if (best < 0 || (weight[i] > 0.0) > (weight[best] > 0.0) ||
			    ((weight[i] > 0.0) == (weight[best] > 0.0) && cur[i] > cur[best]))
				best = i;
		}
		if (k == 0) {
			res->total = total;
			res->weight = weight[best];
			res->current = cur[best] - shares * weight[best];
		}
		if (weight[best] > 0.0) {
			cur[best] -= total;
			cur_all[best] -= total;
		}
		weight[best] = -2.0; /* taken: out of the later picks */
		idx[res->n_found++] = (uint32_t)best;
	}
	/* The shared rotation takes every committed step, on the class's
	 * picks; a class is made only here, from the shared rotation as the
	 * step left it (which is the class's own step: it was the copy). */
	if (commit && res->n_found >= commit) {
		s->clock++;
		class_store(&s->all, weight, cur_all, n);
		if (c) {
			class_store(c, weight, cur, n);
			c->used = s->clock;
		} else {
			class_make(s, key);
		}
	}
	return LBS_OK;
}

lbs_status wrr_score(wrr_state *s, const wrr_params *p, const lbs_workload *wl,
                     const lbs_worker *const *workers, uint32_t n, uint32_t want,
                     double *scores, double *current, double *weight_out)
{
	double lo = 0.0, hi = 0.0;
	double *weight = s->pos_weight, *cur = weight + n, *cur_all = cur + n;
	int64_t eligible;
	uint32_t shares;
	int any = 0, positive = 0;

	if (n == 0)
		return LBS_OK;
	if (n > s->pos_cap)
		return LBS_EINTERNAL;
	eligible = gather(&s->all, class_find(s, class_key(wl)), p, wl, workers, n, 0,
	                  weight, cur, cur_all);
	if (eligible < 0)
		return LBS_EINVAL;
	/* Due as wrr_pick's step makes it, m shares of the cut weights: by
	 * one share, a light worker well into its turn outranked a heavy one
	 * the m picks took. */
	shares = step_shares(weight, n, want < (uint64_t)eligible ? want : (uint32_t)eligible);
	for (uint32_t i = 0; i < n; i++)
		positive |= weight[i] > 0.0;
	for (uint32_t i = 0; i < n; i++) {
		double v;

		if (current)
			current[i] = weight[i] < 0.0 ? 0.0 : cur[i];
		if (weight_out)
			weight_out[i] = weight[i];
		if (weight[i] < 0.0) {
			scores[i] = -1.0;
			continue;
		}
		if (positive && weight[i] == 0.0) {
			scores[i] = 0.0; /* drained, behind every worker of a weight */
			continue;
		}
		v = scores[i] = cur[i] + shares * weight[i];
		if (!any || v < lo)
			lo = v;
		if (!any || v > hi)
			hi = v;
		any = 1;
	}
	for (uint32_t i = 0; i < n; i++)
		if (weight[i] >= 0.0 && !(positive && weight[i] == 0.0))
			scores[i] = hi > lo ? (scores[i] - lo) / (hi - lo) : 1.0;
	return LBS_OK;
}
