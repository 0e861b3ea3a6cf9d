/*
 * adaptive.h -- choose which scheduler decides each request, by the
 * outcomes each one's decisions had.
 *
 * The original AdaptiveScheduler switched on the mean load of the fleet
 * alone: over 0.8, PerformanceBased for priority <= 2 and
 * WeightedRoundRobin otherwise; under 0.3, AffinityBased; else
 * PriorityBased -- whether or not those choices worked.  Here that rule is
 * only the prior.  Requests fall into six contexts (fleet load low < 0.3,
 * mid, high > 0.8; urgent = priority <= 2 or not), and in each the value of
 * a child is the mean reward of the outcomes of the decisions it made
 * there, shrunk towards a prior:
 *
 *   value = (reward_sum + prior k) / (weight + k)
 *   prior = 0.6 for the child the original's rule names, 0.5 for others
 *   reward of an outcome: success 1, or expected / duration when both are
 *   known and it ran slower; failure, timeout, rejection 0; a cancelled
 *   run is not the child's doing and counts nowhere.
 *   reward_sum and weight forget: each outcome first scales both by
 *   1 - 1/memory, so a child's value follows how its decisions do now,
 *   over about its last `memory` outcomes there, not since the start (a
 *   child that got worse after a million good outcomes kept deciding).
 *
 * With no outcomes the rule's child wins; once another child's decisions
 * have done measurably better in a context, it takes over there.  Each
 * request explores with probability epsilon: a draw from the instance's
 * seeded generator picks one of the other children, so every child keeps
 * being measured.  Ties go to the rule's child, then to list order.
 *
 * Pure: no allocation, no I/O.
 */
#ifndef LBS_ADAPTIVE_H
#define LBS_ADAPTIVE_H

#include <stdint.h>

#include <lbsched/abi.h>

#define ADAPT_MAX_CHILDREN 8
#define ADAPT_CONTEXTS 6

/* What the original's rule asks for; the caller maps roles to children. */
enum adapt_role {
	ADAPT_ROLE_PERFORMANCE = 0,
	ADAPT_ROLE_WRR,
	ADAPT_ROLE_AFFINITY,
	ADAPT_ROLE_PRIORITY
};

typedef struct adapt_arm {
	uint64_t decisions; /* selects it answered */
	uint64_t outcomes;  /* rewards learned */
	double reward_sum;  /* of the rewards, each faded as it ages */
	double weight;      /* the outcomes, faded alike */
} adapt_arm;

typedef struct adapt_state {
	adapt_arm arm[ADAPT_CONTEXTS][ADAPT_MAX_CHILDREN];
	uint32_t n_children;
} adapt_state;

typedef struct adapt_params {
	double epsilon;        /* 0..1: share of requests that explore */
	double prior_strength; /* k, > 0 */
	double memory;         /* >= 1: outcomes a value is mostly made of */
} adapt_params;

/* How a child was chosen. */
enum adapt_why {
	ADAPT_RULE = 0, /* no child measured better than the rule's */
	ADAPT_MEASURED, /* another child's outcomes are better here */
	ADAPT_EXPLORE   /* the exploration draw */
};

typedef struct adapt_choice {
	uint32_t child, rule_child, best_child;
	enum adapt_why why;
	double value;   /* of the chosen child */
	double draw;    /* the draw, 0..1 */
} adapt_choice;

void adapt_init(adapt_state *s, uint32_t n_children);

/* Mean effective load over every valid worker (0 with none), as the
 * original averaged over every load record. */
double adapt_fleet_load(const lbs_worker *const *workers, uint32_t n);

/* Context 0..5 from the fleet load and the workload's priority. */
uint32_t adapt_context(double fleet_load, uint32_t priority);
const char *adapt_context_name(uint32_t ctx); /* "low load, urgent", ... */

/* The role the original's rule names for this context. */
enum adapt_role adapt_rule(uint32_t ctx);

/* A child's value in a context (see above). */
double adapt_value(const adapt_state *s, const adapt_params *p, uint32_t ctx, uint32_t child,
                   uint32_t rule_child);

/* Choose a child; `rand` is a uniform 64-bit draw. */
void adapt_choose(const adapt_state *s, const adapt_params *p, uint32_t ctx,
                  uint32_t rule_child, uint64_t rand, adapt_choice *c);

/* The reward of an outcome, or -1 when it counts nowhere (cancelled, or a
 * bad outcome: a duration or expected duration not a finite number >= 0,
 * a workload type out of range). */
double adapt_reward(const lbs_outcome *o);

void adapt_decided(adapt_state *s, uint32_t ctx, uint32_t child);
void adapt_learn(adapt_state *s, const adapt_params *p, uint32_t ctx, uint32_t child,
                 double reward);

#endif
