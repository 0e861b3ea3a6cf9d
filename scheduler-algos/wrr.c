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
	for (uint32_t i = 0; i < s->n_cls; i++)
		class_free(&s->cls[i]);
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
 * index of at least twice that. */
static lbs_status rebuild(wrr_class *c, uint64_t since, uint32_t room)
{
	uint32_t kept = 0, cap = 64, slot;
	uint32_t *index;

	for (uint32_t i = 0; i < c->n_ent; i++)
		if (c->ent[i].seen >= since)
			c->ent[kept++] = c->ent[i];
	c->n_ent = kept;
	if ((uint64_t)kept + room > c->ent_cap) {
		uint64_t want = (uint64_t)kept + room;
		wrr_entry *e;

		want += want / 2;
		if (want > UINT32_MAX / 2)
			return LBS_ENOMEM;
		e = realloc(c->ent, want * sizeof(*e));
		if (!e)
			return LBS_ENOMEM;
		c->ent = e;
		c->ent_cap = (uint32_t)want;
	}
	while ((uint64_t)cap < 2 * (uint64_t)c->ent_cap)
		cap *= 2;
	if (!(index = calloc(cap, sizeof(*index))))
		return LBS_ENOMEM;
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
		double *pw = realloc(s->pos_weight, 2 * (size_t)n * sizeof(*pw));

		if (!pw)
			return LBS_ENOMEM;
		s->pos_weight = pw;
		s->pos_cap = n;
	}
	return LBS_OK;
}

void wrr_forget(wrr_state *s, uint64_t age)
{
	for (uint32_t i = 0; i < s->n_cls; i++) {
		wrr_class *c = &s->cls[i];

		if (c->cap)
			(void)rebuild(c, c->steps > age ? c->steps - age : 0, 0);
	}
}

/*
 * The class of a request: what it asks of a worker's hardware, the
 * requirements that make its eligible set apart from the load ceiling,
 * the exclude list and what is free now (those move the set within a
 * class, as they move it between requests of one kind).  Memory and
 * compute units count by their power of two, so requests of sizes drawn
 * from a range share a few rotations rather than each start one.
 */
static uint64_t mix(uint64_t h, uint64_t v)
{
	return lbs_fnv1a_n(h, (const char *)&v, sizeof(v));
}

static uint64_t mix_str(uint64_t h, const char *str)
{
	/* with its NUL: "ab","c" is not "a","bc"; NULL (never met) apart */
	return str ? lbs_fnv1a_n(h, str, strlen(str) + 1) : mix(h, UINT64_MAX);
}

static uint64_t bit_length(uint64_t x)
{
#if defined(__GNUC__)
	return x ? 64 - (uint64_t)__builtin_clzll(x) : 0;
#else
	uint64_t b = 0;

	for (; x; x >>= 1)
		b++;
	return b;
#endif
}

static uint64_t class_key(const lbs_workload *wl)
{
	uint64_t h = LBS_FNV_OFFSET;
	uint32_t names = elig_n_names(wl);

	h = mix(h, wl->required_backends);
	h = mix(h, (uint64_t)wl->required_precisions << 32 | wl->required_features);
	h = mix(h, bit_length(wl->min_memory_bytes) << 8 | bit_length(wl->min_compute_units));
	if (wl->n_required_accels) {
		h = mix(h, wl->n_required_accels);
		if (!wl->required_accel_kinds || !wl->required_accel_counts)
			h = mix(h, UINT64_MAX);
		else
			for (uint32_t i = 0; i < wl->n_required_accels; i++)
				h = mix(mix_str(h, wl->required_accel_kinds[i]),
				        wl->required_accel_counts[i]);
	}
	if (names) {
		h = mix(h, (uint64_t)names << 32 | 1u);
		if (!wl->required_backend_names)
			h = mix(h, UINT64_MAX);
		else
			for (uint32_t i = 0; i < names; i++)
				h = mix_str(h, wl->required_backend_names[i]);
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

/* The class of key for a select, made when new (in the place of the one
 * selected for least recently when WRR_CLASSES are kept), with room for
 * n workers. */
static lbs_status class_get(wrr_state *s, uint64_t key, uint32_t n, wrr_class **out)
{
	wrr_class *c = class_find(s, key);

	if (!c && s->n_cls < WRR_CLASSES) {
		c = &s->cls[s->n_cls++];
		memset(c, 0, sizeof(*c));
	} else if (!c) {
		c = &s->cls[0];
		for (uint32_t i = 1; i < s->n_cls; i++)
			if (s->cls[i].used < c->used)
				c = &s->cls[i];
		/* its rotation starts over; the memory is kept */
		c->n_ent = 0;
		c->steps = 0;
		if (c->index)
			memset(c->index, 0, c->cap * sizeof(*c->index));
		for (uint32_t i = 0; i < c->pos_cap; i++)
			c->pos_ent[i] = UINT32_MAX;
	}
	c->key = key;
	c->used = ++s->clock;
	*out = c;
	return class_room(c, n);
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

/*
 * Fill the scratch: per position its weight (-1 when not eligible) and its
 * current weight in class c (0 when never seen, or c NULL: a class not
 * made yet); slot positions for commit, which needs c to have room for
 * every worker (class_get).  Returns the number eligible, or -1 for an
 * invalid worker.
 */
static int64_t gather(wrr_class *c, const wrr_params *p, const lbs_workload *wl,
                      const lbs_worker *const *workers, uint32_t n, int insert,
                      double *weight, double *cur)
{
	int64_t eligible = 0;
	double load;

	for (uint32_t i = 0; i < n; i++) {
		const lbs_worker *w = workers[i];
		uint32_t k, slot;
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
		cur[i] = 0.0;
		if (!c)
			continue;
		h = wid_hash(w->id);
		/* a looking call may come with more workers than the class
		 * has positions for: those are looked up */
		k = i < c->pos_cap ? c->pos_ent[i] : UINT32_MAX;
		if (k >= c->n_ent || c->ent[k].hash != h) {
			k = c->cap ? lookup(c, h, &slot) : UINT32_MAX;
			if (k == UINT32_MAX && insert) {
				/* class_get left room for this call's workers */
				k = c->n_ent++;
				c->ent[k] = (wrr_entry){ .hash = h };
				c->index[slot] = k + 1;
			}
			if (i < c->pos_cap)
				c->pos_ent[i] = k;
		}
		if (k < c->n_ent)
			cur[i] = c->ent[k].current;
	}
	return eligible;
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

lbs_status wrr_pick(wrr_state *s, const wrr_params *p, const lbs_workload *wl,
                    const lbs_worker *const *workers, uint32_t n, uint32_t want,
                    uint32_t commit, uint32_t *idx, wrr_result *res)
{
	double *weight = s->pos_weight, *cur = s->pos_weight + n;
	uint64_t key;
	wrr_class *c;
	int64_t eligible;

	memset(res, 0, sizeof(*res));
	if (n == 0)
		return LBS_OK;
	if (n > s->pos_cap)
		return LBS_EINTERNAL; /* wrr_prepare was not called */
	key = class_key(wl);
	if (commit) {
		lbs_status st = class_get(s, key, n, &c);

		if (st != LBS_OK)
			return st;
	} else {
		c = class_find(s, key);
	}
	eligible = gather(c, p, wl, workers, n, commit > 0, weight, cur);
	if (eligible < 0)
		return LBS_EINVAL;
	res->n_eligible = (uint32_t)eligible;
	if (want > res->n_eligible)
		want = res->n_eligible;
	/* The shares are the positive weights' slots: a drained worker that
	 * fills a set (fewer of a weight than wanted) gains and loses
	 * nothing, and the others, each in every such set, none either. */
	uint32_t shares = 0;
	for (uint32_t i = 0; i < n; i++)
		shares += weight[i] > 0.0;
	shares = shares < want ? shares : want;
	if (shares > 1)
		cap_shares(weight, n, shares);
	double total = 0.0;
	for (uint32_t i = 0; i < n; i++) {
		if (weight[i] < 0.0)
			continue;
		cur[i] += shares * weight[i];
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
		if (weight[best] > 0.0)
			cur[best] -= total;
		weight[best] = -2.0; /* taken: out of the later picks */
		idx[res->n_found++] = (uint32_t)best;
	}
	if (commit && res->n_found >= commit) {
		c->steps++;
		for (uint32_t i = 0; i < n; i++) {
			if (weight[i] < 0.0 && weight[i] > -1.5)
				continue; /* -1: not eligible */
			c->ent[c->pos_ent[i]].current = cur[i];
			c->ent[c->pos_ent[i]].seen = c->steps;
		}
	}
	return LBS_OK;
}

lbs_status wrr_score(wrr_state *s, const wrr_params *p, const lbs_workload *wl,
                     const lbs_worker *const *workers, uint32_t n, double *scores,
                     double *current, double *weight_out)
{
	double lo = 0.0, hi = 0.0;
	double *weight = s->pos_weight, *cur = s->pos_weight + n;
	int64_t eligible;
	int any = 0, positive = 0;

	if (n == 0)
		return LBS_OK;
	if (n > s->pos_cap)
		return LBS_EINTERNAL;
	eligible = gather(class_find(s, class_key(wl)), p, wl, workers, n, 0, weight, cur);
	if (eligible < 0)
		return LBS_EINVAL;
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
		v = scores[i] = cur[i] + weight[i];
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
