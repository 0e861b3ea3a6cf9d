/*
 * wrr.c -- smooth weighted round-robin; see wrr.h for the rule.
 */
#include "wrr.h"

#include <stdlib.h>
#include <math.h>
#include <string.h>

#include "eligible.h"
#include "worker_id.h"

/* Current weights of ids not eligible for this many selects are dropped
 * when the table would otherwise grow. */
#define WRR_KEEP 4096u
#define WRR_MIN_LOAD_WEIGHT 0.01

/* Current weights are keyed by wid_hash: a collision would make two
 * workers share one, an out-of-turn pick, never an ineligible one. */

void wrr_init(wrr_state *s)
{
	memset(s, 0, sizeof(*s));
}

void wrr_free(wrr_state *s)
{
	free(s->ent);
	free(s->index);
	free(s->pos_ent);
	free(s->pos_weight);
	wrr_init(s);
}

/* The entry of hash h, or UINT32_MAX; *slot gets where it is or would go. */
static uint32_t lookup(const wrr_state *s, uint64_t h, uint32_t *slot)
{
	uint32_t mask = s->cap - 1, i = (uint32_t)(h ^ (h >> 32)) & mask;

	while (s->index[i]) {
		if (s->ent[s->index[i] - 1].hash == h) {
			*slot = i;
			return s->index[i] - 1;
		}
		i = (i + 1) & mask;
	}
	*slot = i;
	return UINT32_MAX;
}

/* Keep the entries seen since `since`, with room for `room` more; an
 * index of at least twice that. */
static lbs_status rebuild(wrr_state *s, uint64_t since, uint32_t room)
{
	uint32_t kept = 0, cap = 64, slot;
	uint32_t *index;

	for (uint32_t i = 0; i < s->n_ent; i++)
		if (s->ent[i].seen >= since)
			s->ent[kept++] = s->ent[i];
	s->n_ent = kept;
	if ((uint64_t)kept + room > s->ent_cap) {
		uint64_t want = (uint64_t)kept + room;
		wrr_entry *e;

		want += want / 2;
		if (want > UINT32_MAX / 2)
			return LBS_ENOMEM;
		e = realloc(s->ent, want * sizeof(*e));
		if (!e)
			return LBS_ENOMEM;
		s->ent = e;
		s->ent_cap = (uint32_t)want;
	}
	while ((uint64_t)cap < 2 * (uint64_t)s->ent_cap)
		cap *= 2;
	if (!(index = calloc(cap, sizeof(*index))))
		return LBS_ENOMEM;
	free(s->index);
	s->index = index;
	s->cap = cap;
	for (uint32_t i = 0; i < s->n_ent; i++) {
		(void)lookup(s, s->ent[i].hash, &slot);
		s->index[slot] = i + 1;
	}
	return LBS_OK;
}

lbs_status wrr_prepare(wrr_state *s, uint32_t n)
{
	if (n > s->pos_cap) {
		uint32_t *pe = realloc(s->pos_ent, n * sizeof(*pe));
		double *pw;

		if (!pe)
			return LBS_ENOMEM;
		for (uint32_t i = s->pos_cap; i < n; i++)
			pe[i] = UINT32_MAX;
		s->pos_ent = pe;
		pw = realloc(s->pos_weight, 2 * (size_t)n * sizeof(*pw));
		if (!pw)
			return LBS_ENOMEM;
		s->pos_weight = pw;
		s->pos_cap = n;
	}
	/* Room for every worker of this call to be new. */
	if (s->cap && (uint64_t)s->n_ent + n <= s->ent_cap)
		return LBS_OK;
	if (s->cap && s->steps > WRR_KEEP) {
		lbs_status st = rebuild(s, s->steps - WRR_KEEP, 0);

		if (st != LBS_OK || (uint64_t)s->n_ent + n <= s->ent_cap)
			return st;
	}
	return rebuild(s, 0, n);
}

void wrr_forget(wrr_state *s, uint64_t age)
{
	if (s->cap)
		(void)rebuild(s, s->steps > age ? s->steps - age : 0, 0);
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
 * current weight (0 when never seen); slot positions for commit.  Returns
 * the number eligible, or -1 for an invalid worker.
 */
static int64_t gather(wrr_state *s, const wrr_params *p, const lbs_workload *wl,
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
		h = wid_hash(w->id);
		k = s->pos_ent[i];
		if (k >= s->n_ent || s->ent[k].hash != h) {
			k = lookup(s, h, &slot);
			if (k == UINT32_MAX && insert) {
				/* wrr_prepare left room for this call's workers */
				k = s->n_ent++;
				s->ent[k] = (wrr_entry){ .hash = h };
				s->index[slot] = k + 1;
			}
			s->pos_ent[i] = k;
		}
		cur[i] = k < s->n_ent ? s->ent[k].current : 0.0;
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
	int64_t eligible;

	memset(res, 0, sizeof(*res));
	if (n == 0)
		return LBS_OK;
	if (n > s->pos_cap || !s->cap)
		return LBS_EINTERNAL; /* wrr_prepare was not called */
	eligible = gather(s, p, wl, workers, n, commit > 0, weight, cur);
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
		s->steps++;
		for (uint32_t i = 0; i < n; i++) {
			if (weight[i] < 0.0 && weight[i] > -1.5)
				continue; /* -1: not eligible */
			s->ent[s->pos_ent[i]].current = cur[i];
			s->ent[s->pos_ent[i]].seen = s->steps;
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
	if (n > s->pos_cap || !s->cap)
		return LBS_EINTERNAL;
	eligible = gather(s, p, wl, workers, n, 0, weight, cur);
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
