/*
 * adaptive.c -- which child decides, by measured outcomes; see adaptive.h.
 */
#include "adaptive.h"

#include <math.h>
#include <string.h>

#include "eligible.h"

#define LOW_LOAD 0.3
#define HIGH_LOAD 0.8
#define RULE_PRIOR 0.6
#define OTHER_PRIOR 0.5

void adapt_init(adapt_state *s, uint32_t n_children)
{
	memset(s, 0, sizeof(*s));
	s->n_children = n_children < ADAPT_MAX_CHILDREN ? n_children : ADAPT_MAX_CHILDREN;
}

double adapt_fleet_load(const lbs_worker *const *workers, uint32_t n)
{
	double sum = 0.0;
	uint32_t k = 0;

	for (uint32_t i = 0; i < n; i++) {
		const lbs_worker *w = workers[i];

		if (!w || w->struct_size < LBS_WORKER_SIZE_V1_0)
			continue;
		sum += worker_effective_load(w);
		k++;
	}
	return k ? sum / k : 0.0;
}

uint32_t adapt_context(double fleet_load, uint32_t priority)
{
	uint32_t band = fleet_load > HIGH_LOAD ? 2 : fleet_load < LOW_LOAD ? 0 : 1;

	return band * 2 + (priority <= 2 ? 1 : 0);
}

const char *adapt_context_name(uint32_t ctx)
{
	static const char *const names[ADAPT_CONTEXTS] = {
		"low load, normal", "low load, urgent", "mid load, normal",
		"mid load, urgent", "high load, normal", "high load, urgent"
	};

	return ctx < ADAPT_CONTEXTS ? names[ctx] : "?";
}

enum adapt_role adapt_rule(uint32_t ctx)
{
	switch (ctx / 2) {
	case 2:
		return ctx % 2 ? ADAPT_ROLE_PERFORMANCE : ADAPT_ROLE_WRR;
	case 0:
		return ADAPT_ROLE_AFFINITY;
	default:
		return ADAPT_ROLE_PRIORITY;
	}
}

double adapt_value(const adapt_state *s, const adapt_params *p, uint32_t ctx, uint32_t child,
                   uint32_t rule_child)
{
	const adapt_arm *a = &s->arm[ctx][child];
	double prior = child == rule_child ? RULE_PRIOR : OTHER_PRIOR;

	return (a->reward_sum + prior * p->prior_strength) / (a->weight + p->prior_strength);
}

void adapt_choose(const adapt_state *s, const adapt_params *p, uint32_t ctx,
                  uint32_t rule_child, uint64_t rand, adapt_choice *c)
{
	uint32_t n = s->n_children, best = rule_child;
	double best_v = adapt_value(s, p, ctx, rule_child, rule_child);

	for (uint32_t i = 0; i < n; i++) {
		double v = adapt_value(s, p, ctx, i, rule_child);

		if (v > best_v) {
			best = i;
			best_v = v;
		}
	}
	c->rule_child = rule_child;
	c->best_child = best;
	/* 53 bits for the draw, the low bits for which other child. */
	c->draw = (double)(rand >> 11) / 9007199254740992.0;
	if (n > 1 && c->draw < p->epsilon) {
		uint32_t k = (uint32_t)(rand % (n - 1));

		c->child = k >= best ? k + 1 : k;
		c->why = ADAPT_EXPLORE;
	} else {
		c->child = best;
		c->why = best == rule_child ? ADAPT_RULE : ADAPT_MEASURED;
	}
	c->value = adapt_value(s, p, ctx, c->child, rule_child);
}

double adapt_reward(const lbs_outcome *o)
{
	/* A bad outcome teaches nothing: an infinite duration was rewarded
	 * in full, and the decision marked, so the valid report after it
	 * was not learned.  Checked here, not inferred from a child's
	 * refusal: a store refuses valid outcomes too (a pair past its
	 * max_pairs), and a rotation refuses none. */
	if (o->result == LBS_RESULT_CANCELLED || o->workload_type >= LBS_WL_COUNT ||
	    !(o->duration_s >= 0.0 && o->duration_s <= 1e300) ||
	    !(o->expected_duration_s >= 0.0 && o->expected_duration_s <= 1e300))
		return -1.0;
	if (o->result != LBS_RESULT_SUCCESS)
		return 0.0;
	if (o->expected_duration_s > 0.0 && o->duration_s > o->expected_duration_s &&
	    isfinite(o->duration_s))
		return o->expected_duration_s / o->duration_s;
	return 1.0;
}

void adapt_decided(adapt_state *s, uint32_t ctx, uint32_t child)
{
	if (ctx < ADAPT_CONTEXTS && child < s->n_children)
		s->arm[ctx][child].decisions++;
}

void adapt_learn(adapt_state *s, const adapt_params *p, uint32_t ctx, uint32_t child,
                 double reward)
{
	if (ctx < ADAPT_CONTEXTS && child < s->n_children && reward >= 0.0) {
		adapt_arm *a = &s->arm[ctx][child];
		double keep = 1.0 - 1.0 / p->memory;

		a->outcomes++;
		a->reward_sum = a->reward_sum * keep + reward;
		a->weight = a->weight * keep + 1.0;
	}
}
