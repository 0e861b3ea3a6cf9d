/*
 * history.c -- the learned store: an open-addressing hash table (linear
 * probing, power-of-two size, at most 70% full) of lbs_history keyed by
 * (workload type, copied worker id).  Nothing is ever removed, so probing
 * needs no tombstones.
 */
#include "history.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "eligible.h" /* clamp01 */
#include "hash.h"
#include "worker_id.h"

#define INITIAL_SLOTS 64

typedef struct slot {
	uint64_t hash;
	char *id; /* NULL = empty slot */
	uint32_t type;
	hist_sums c;   /* what is learned */
	lbs_history h; /* what schedulers read: derived from c */
} slot;

struct hist_store {
	slot *slots;
	size_t mask; /* number of slots - 1 */
	size_t count;
	uint64_t gen; /* see hist_generation */
	/* hist_speed_ub per workload type; types beyond the ABI's share the
	 * last. */
	double speed_ub[LBS_WL_COUNT + 1];
	/* Per workload type (the same sharing), over the pairs that learned
	 * latency alone (hist_latency_ref): sum of successes x ln(mean
	 * duration), and of successes. */
	double lat_sum[LBS_WL_COUNT + 1];
	double lat_n[LBS_WL_COUNT + 1];
	/* hist_changes: the last HIST_CHANGES changes, each with the
	 * generation it made, oldest at log_at once the ring is full; every
	 * change after log_floor is in it. */
	struct {
		uint64_t gen;
		lbs_change c;
	} log[HIST_CHANGES];
	uint32_t log_n, log_at;
	uint64_t log_floor;
	double ref_before; /* the changing pair's type's latency reference */
};

/* Generations are drawn from one process-wide counter, so that no two
 * states of any two stores share one, even when a freed store's memory is
 * reused for the next (views are made by the store's flusher thread). */
static _Atomic uint64_t last_gen;

static uint64_t new_gen(void)
{
	return atomic_fetch_add(&last_gen, 1) + 1;
}

static uint64_t key_hash(uint32_t type, const char *id)
{
	uint64_t h = lbs_fnv1a(LBS_FNV_OFFSET ^ type, id);

	/* FNV's low bits are weak for short keys and the table indexes by
	 * the low bits; fold the high half in. */
	return h ^ (h >> 32);
}

hist_store *hist_new(void)
{
	hist_store *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->slots = calloc(INITIAL_SLOTS, sizeof(slot));
	if (!s->slots) {
		free(s);
		return NULL;
	}
	s->mask = INITIAL_SLOTS - 1;
	s->gen = new_gen();
	s->log_floor = s->gen;
	return s;
}

void hist_free(hist_store *s)
{
	if (!s)
		return;
	for (size_t i = 0; i <= s->mask; i++)
		free(s->slots[i].id);
	free(s->slots);
	free(s);
}

static slot *find(const hist_store *s, uint64_t hash, uint32_t type,
                  const char *id)
{
	size_t i = hash & s->mask;

	for (;;) {
		slot *e = &s->slots[i];

		if (!e->id)
			return e;
		if (e->hash == hash && e->type == type && strcmp(e->id, id) == 0)
			return e;
		i = (i + 1) & s->mask;
	}
}

const lbs_history *hist_get(const hist_store *s, uint32_t wl_type,
                            const char *worker_id)
{
	slot *e;

	if (!s || !worker_id || s->count == 0)
		return NULL;
	e = find(s, key_hash(wl_type, worker_id), wl_type, worker_id);
	return e->id ? &e->h : NULL;
}

const lbs_history *hist_lookup(void *ctx, uint32_t wl_type,
                               const char *worker_id)
{
	return hist_get(ctx, wl_type, worker_id);
}

void hist_each(const hist_store *s, hist_sums_fn fn, void *ctx)
{
	for (size_t i = 0; s && i <= s->mask; i++)
		if (s->slots[i].id && fn(ctx, s->slots[i].type, s->slots[i].id, &s->slots[i].c))
			return;
}

size_t hist_count(const hist_store *s)
{
	return s ? s->count : 0;
}

uint64_t hist_generation(const hist_store *s)
{
	return s ? s->gen : 0;
}

int hist_changes(void *ctx, uint64_t since, uint64_t *now, lbs_change *out, int max)
{
	const hist_store *s = ctx;
	uint32_t first;
	int n = 0;

	*now = hist_generation(s);
	if (!s)
		return -1;
	first = s->log_n < HIST_CHANGES ? 0 : s->log_at;
	if (since == s->gen)
		return 0;
	/* A generation of another store (a view replaced, or one freed and
	 * its memory reused) is below this one's first: every generation is
	 * drawn from one counter. */
	if (since < s->log_floor || since > s->gen)
		return -1;
	for (uint32_t k = 0; k < s->log_n; k++) {
		uint32_t i = (first + k) % HIST_CHANGES;

		if (s->log[i].gen <= since)
			continue;
		if (n == max)
			return -1;
		out[n++] = s->log[i].c;
	}
	return n;
}

double hist_speed_ub(void *ctx, uint32_t wl_type)
{
	const hist_store *s = ctx;

	return s ? s->speed_ub[wl_type < LBS_WL_COUNT ? wl_type : LBS_WL_COUNT] : 0.0;
}

/* What a pair adds to its type's latency sums: only pairs that learned no
 * speed against declared durations (their latency is all they say), with
 * successes and a mean duration > 0. */
static void lat_part(const lbs_history *h, double *sum, double *n)
{
	*sum = *n = 0.0;
	if (h->ratio_n == 0 && h->successes > 0 && h->mean_duration > 0.0 &&
	    isfinite(h->mean_duration)) {
		*n = (double)h->successes;
		*sum = *n * log(h->mean_duration);
	}
}

/* Around a change of the record h of `type`: sign -1 before, +1 after. */
static void note_latency(hist_store *s, uint32_t type, const lbs_history *h, double sign)
{
	uint32_t t = type < LBS_WL_COUNT ? type : LBS_WL_COUNT;
	double sum, n;

	lat_part(h, &sum, &n);
	s->lat_sum[t] += sign * sum;
	s->lat_n[t] += sign * n;
	/* Sums of doubles drift; none left is exactly none. */
	if (s->lat_n[t] < 0.5)
		s->lat_sum[t] = s->lat_n[t] = 0.0;
}

double hist_latency_ref(void *ctx, uint32_t wl_type)
{
	const hist_store *s = ctx;
	uint32_t t = wl_type < LBS_WL_COUNT ? wl_type : LBS_WL_COUNT;

	return s && s->lat_n[t] > 0.0 ? s->lat_sum[t] / s->lat_n[t] : NAN;
}

/* After a record of `type` changed: keep speed_ub above its speed. */
static void note_speed(hist_store *s, uint32_t type, const lbs_history *h)
{
	double m = h->log_ratio_mean, sp;
	double *ub = &s->speed_ub[type < LBS_WL_COUNT ? type : LBS_WL_COUNT];

	if (h->ratio_n == 0 || !isfinite(m))
		return;
	m = m < -HIST_LOG_RATIO_MAX ? -HIST_LOG_RATIO_MAX : m > HIST_LOG_RATIO_MAX ? HIST_LOG_RATIO_MAX : m;
	sp = exp(-m);
	if (sp > *ub)
		*ub = sp;
}

static int grow(hist_store *s)
{
	size_t n = (s->mask + 1) * 2;
	slot *old = s->slots, *fresh = calloc(n, sizeof(slot));

	if (!fresh)
		return -1;
	s->slots = fresh;
	for (size_t i = 0; i <= s->mask; i++) {
		if (old[i].id) {
			size_t j = old[i].hash & (n - 1);

			while (fresh[j].id)
				j = (j + 1) & (n - 1);
			fresh[j] = old[i];
		}
	}
	s->mask = n - 1;
	free(old);
	return 0;
}

/* The entry for a pair, made if new; NULL when out of memory. */
static slot *entry_for(hist_store *s, uint32_t type, const char *id)
{
	uint64_t hash = key_hash(type, id);
	slot *e = find(s, hash, type, id);

	if (e->id)
		return e;
	if ((s->count + 1) * 10 > (s->mask + 1) * 7) {
		if (grow(s) < 0)
			return NULL;
		e = find(s, hash, type, id);
	}
	e->id = strdup(id);
	if (!e->id)
		return NULL;
	e->hash = hash;
	e->type = type;
	memset(&e->c, 0, sizeof e->c);
	hist_derive(&e->c, &e->h);
	s->count++;
	return e;
}

hist_rules hist_rules_make(double alpha, double half_life)
{
	/* alpha 0 learned nothing with the EMA: a prior that never moves. */
	hist_rules r = {alpha > 0.0 ? (1.0 - alpha) / alpha : HIST_PRIOR_FROZEN,
	                half_life > 0.0 ? half_life : HIST_HALF_LIFE_DEFAULT};

	return r;
}

static double clamp_log_ratio(double x)
{
	return x < -HIST_LOG_RATIO_MAX ? -HIST_LOG_RATIO_MAX
	       : x > HIST_LOG_RATIO_MAX ? HIST_LOG_RATIO_MAX : x;
}

/* The decayed sums of c, moved to time t >= c->pref_time. */
static double decay(double t_from, double t_to, double half_life)
{
	return t_to > t_from ? exp2((t_from - t_to) / half_life) : 1.0;
}

static void add_pref(hist_sums *c, double t, double weight, double eff, double half_life)
{
	if (t >= c->pref_time) {
		double f = decay(c->pref_time, t, half_life);

		c->pref_weight = c->pref_weight * f + weight;
		c->pref_sum = c->pref_sum * f + weight * eff;
		c->pref_time = t;
	} else {
		double f = decay(t, c->pref_time, half_life);

		c->pref_weight += weight * f;
		c->pref_sum += weight * eff * f;
	}
}

void hist_sums_one(hist_sums *c, const lbs_outcome *o, const hist_rules *r, double now,
                   int with_prior)
{
	double eff;
	/* A frozen preference gets no evidence: a prior of weight 1e12 faded
	 * with the half-life like any other, and a pair idle for some hours
	 * (40 half-lives) was set by its next outcome alone. */
	int learns = r->prior < HIST_PRIOR_FROZEN;

	memset(c, 0, sizeof *c);
	if (o->result == LBS_RESULT_CANCELLED)
		return;
	if (with_prior && learns)
		add_pref(c, now, r->prior, HIST_PREF_START, r->half_life);
	c->samples = 1;
	if (o->result == LBS_RESULT_SUCCESS) {
		double x = o->duration_s;

		c->successes = 1;
		c->sum_duration = x;
		c->sum_duration_sq = x * x;
		eff = o->expected_duration_s > 0.0 && o->duration_s > 0.0
		      ? clamp01(o->expected_duration_s / o->duration_s, 1.0) : 1.0;
		if (o->expected_duration_s > 0.0 && o->duration_s > 0.0 &&
		    isfinite(o->expected_duration_s)) {
			double l = clamp_log_ratio(log(o->duration_s / o->expected_duration_s));

			c->ratio_n = 1;
			c->sum_log_ratio = l;
			c->sum_log_ratio_sq = l * l;
		}
	} else {
		c->failures = 1;
		eff = 0.0;
	}
	if (learns)
		add_pref(c, now, 1.0, eff, r->half_life);
	c->last_update = now;
}

void hist_sums_not_after(hist_sums *c, double now)
{
	if (c->pref_time > now + HIST_AHEAD_S)
		c->pref_time = now;
	if (c->last_update > now + HIST_AHEAD_S)
		c->last_update = now;
}

void hist_sums_learn(hist_sums *c, const lbs_outcome *o, const hist_rules *r, double now)
{
	hist_sums one;

	hist_sums_not_after(c, now);

	hist_sums_one(&one, o, r, now, hist_sums_wants_prior(c));
	hist_sums_merge(c, &one, r->half_life);
}

void hist_sums_merge(hist_sums *into, const hist_sums *add, double half_life)
{
	into->samples += add->samples;
	into->successes += add->successes;
	into->failures += add->failures;
	into->sum_duration += add->sum_duration;
	into->sum_duration_sq += add->sum_duration_sq;
	into->ratio_n += add->ratio_n;
	into->sum_log_ratio += add->sum_log_ratio;
	into->sum_log_ratio_sq += add->sum_log_ratio_sq;
	if (add->pref_weight > 0.0 || add->pref_sum > 0.0) {
		if (into->pref_weight == 0.0 && into->pref_sum == 0.0) {
			into->pref_weight = add->pref_weight;
			into->pref_sum = add->pref_sum;
			into->pref_time = add->pref_time;
		} else {
			double t = add->pref_time > into->pref_time ? add->pref_time : into->pref_time;
			double fi = decay(into->pref_time, t, half_life);
			double fa = decay(add->pref_time, t, half_life);

			into->pref_weight = into->pref_weight * fi + add->pref_weight * fa;
			into->pref_sum = into->pref_sum * fi + add->pref_sum * fa;
			into->pref_time = t;
		}
	}
	if (add->last_update > into->last_update)
		into->last_update = add->last_update;
}

/* sum_sq / n - mean^2, never below 0 (rounding). */
static double pop_var(double sum, double sum_sq, double n, double *mean)
{
	double v;

	*mean = sum / n;
	v = sum_sq / n - *mean * *mean;
	return v > 0.0 ? v : 0.0;
}

void hist_derive(const hist_sums *c, lbs_history *h)
{
	memset(h, 0, sizeof *h);
	h->samples = c->samples;
	h->successes = c->successes;
	h->failures = c->failures;
	h->last_update = c->last_update;
	if (c->successes)
		h->var_duration = pop_var(c->sum_duration, c->sum_duration_sq, (double)c->successes,
		                          &h->mean_duration);
	if (h->mean_duration < 0.0)
		h->mean_duration = 0.0;
	h->ratio_n = c->ratio_n;
	if (c->ratio_n) {
		h->log_ratio_var = pop_var(c->sum_log_ratio, c->sum_log_ratio_sq, (double)c->ratio_n,
		                           &h->log_ratio_mean);
		h->log_ratio_mean = clamp_log_ratio(h->log_ratio_mean);
		if (h->log_ratio_var > HIST_LOG_RATIO_MAX * HIST_LOG_RATIO_MAX)
			h->log_ratio_var = HIST_LOG_RATIO_MAX * HIST_LOG_RATIO_MAX;
	}
	h->preference = c->pref_weight > 0.0 ? clamp01(c->pref_sum / c->pref_weight, 0.5)
	                                     : HIST_PREF_START;
}

void hist_sums_from_history(const lbs_history *h, hist_sums *c)
{
	double n = (double)h->successes, r = (double)h->ratio_n;
	double w = (double)h->samples < 1.0 / HIST_ALPHA_DEFAULT ? (double)h->samples
	                                                         : 1.0 / HIST_ALPHA_DEFAULT;

	memset(c, 0, sizeof *c);
	c->samples = h->samples;
	c->successes = h->successes;
	c->failures = h->failures;
	c->sum_duration = h->mean_duration * n;
	c->sum_duration_sq = (h->var_duration + h->mean_duration * h->mean_duration) * n;
	c->ratio_n = h->ratio_n;
	c->sum_log_ratio = h->log_ratio_mean * r;
	c->sum_log_ratio_sq = (h->log_ratio_var + h->log_ratio_mean * h->log_ratio_mean) * r;
	if (w <= 0.0 && h->preference != HIST_PREF_START)
		w = 1.0; /* a preference learned from nothing (an import): keep it */
	c->pref_time = h->last_update;
	c->pref_weight = w;
	c->pref_sum = h->preference * w;
	c->last_update = h->last_update;
}

const char *hist_sums_problem(const hist_sums *c)
{
	/* A little room for the rounding of merges; written as !(in range)
	 * so that NaN fails too. */
	double slack = 1.0 + 1e-9;

	if (c->successes > c->samples || c->failures != c->samples - c->successes)
		return "field 'samples': must equal successes + failures";
	if (!(c->sum_duration >= 0.0 && isfinite(c->sum_duration)))
		return "field 'sum_duration': must be a finite number >= 0";
	if (!(c->sum_duration_sq >= 0.0 && isfinite(c->sum_duration_sq)))
		return "field 'sum_duration_sq': must be a finite number >= 0";
	/* only a success adds a duration: sums behind no success were a
	 * mean of 1e300 once the first came */
	if (c->successes == 0 && (c->sum_duration != 0.0 || c->sum_duration_sq != 0.0))
		return "field 'sum_duration': must be 0 with no successes";
	/* each success's duration is at most HIST_DURATION_MAX: a mean of
	 * 1.7e308 s from Redis was taken and shown */
	if (!(c->sum_duration <= HIST_DURATION_MAX * (double)c->successes * slack))
		return "field 'sum_duration': must be at most 1e9 s x successes";
	if (!(c->sum_duration_sq <= HIST_DURATION_MAX * HIST_DURATION_MAX * (double)c->successes *
	                            slack))
		return "field 'sum_duration_sq': must be at most 1e18 s^2 x successes";
	if (c->ratio_n > c->successes)
		return "field 'ratio_n': must be at most successes";
	if (!(fabs(c->sum_log_ratio) <= HIST_LOG_RATIO_MAX * (double)c->ratio_n * slack))
		return "field 'sum_log_ratio': must be within +-20 x ratio_n";
	if (!(c->sum_log_ratio_sq >= 0.0 &&
	      c->sum_log_ratio_sq <= HIST_LOG_RATIO_MAX * HIST_LOG_RATIO_MAX * (double)c->ratio_n * slack))
		return "field 'sum_log_ratio_sq': must be a number in 0..400 x ratio_n";
	/* times as an import takes them (HIST_TIME_MAX): a record read is
	 * one its export gives back */
	if (!(c->pref_time >= 0.0 && c->pref_time <= HIST_TIME_MAX))
		return "field 'pref_time': must be a time in 0..1e11";
	if (!(c->pref_weight >= 0.0 && isfinite(c->pref_weight)))
		return "field 'pref_weight': must be a finite number >= 0";
	if (!(c->pref_sum >= 0.0 && c->pref_sum <= c->pref_weight * slack))
		return "field 'pref_sum': must be a number in 0..pref_weight";
	if (!(c->last_update >= 0.0 && c->last_update <= HIST_TIME_MAX))
		return "field 'last_update': must be a time in 0..1e11";
	return NULL;
}

/* *v brought to at most `max`, its field's name kept in *first when it is
 * the first changed.  Written as !(v <= max) so that an infinity (a mean
 * of 1e200 squared) is brought in too. */
static void bound(double *v, double max, const char *name, const char **first)
{
	if (*v <= max)
		return;
	*v = max;
	if (!*first)
		*first = name;
}

const char *hist_sums_bound(hist_sums *c)
{
	/* The same products as hist_sums_problem's, so a sum set to one is
	 * within it whatever the rounding. */
	double n = (double)c->successes, r = (double)c->ratio_n;
	const char *first = NULL;

	bound(&c->sum_duration, HIST_DURATION_MAX * n, "sum_duration", &first);
	/* With the mean at most 1e9 s the mean square bounded too keeps the
	 * variance at least 0: sum^2 / n <= 1e18 n. */
	bound(&c->sum_duration_sq, HIST_DURATION_MAX * HIST_DURATION_MAX * n, "sum_duration_sq",
	      &first);
	if (!(fabs(c->sum_log_ratio) <= HIST_LOG_RATIO_MAX * r)) {
		c->sum_log_ratio = copysign(HIST_LOG_RATIO_MAX * r, c->sum_log_ratio);
		if (!first)
			first = "sum_log_ratio";
	}
	bound(&c->sum_log_ratio_sq, HIST_LOG_RATIO_MAX * HIST_LOG_RATIO_MAX * r, "sum_log_ratio_sq",
	      &first);
	/* A time past the year 5138 held the preference's decay until then;
	 * at HIST_TIME_MAX it is still ahead of every clock, and the pair's
	 * next outcome takes it as of then (hist_sums_not_after). */
	bound(&c->pref_time, HIST_TIME_MAX, "pref_time", &first);
	bound(&c->last_update, HIST_TIME_MAX, "last_update", &first);
	return first;
}

lbs_status hist_apply(hist_store *s, const lbs_outcome *o, double now)
{
	hist_rules r = hist_rules_make(HIST_ALPHA_DEFAULT, HIST_HALF_LIFE_DEFAULT);

	return hist_apply_rules(s, o, &r, now);
}

/* Around a change of slot e: the type's sums out before, in after. */
static void changed(hist_store *s, slot *e, int before)
{
	double ref;

	if (before) {
		s->ref_before = hist_latency_ref(s, e->type);
		note_latency(s, e->type, &e->h, -1.0);
		return;
	}
	hist_derive(&e->c, &e->h);
	note_latency(s, e->type, &e->h, 1.0);
	note_speed(s, e->type, &e->h);
	s->gen = new_gen();
	ref = hist_latency_ref(s, e->type);
	if (s->log_n == HIST_CHANGES)
		s->log_floor = s->log[s->log_at].gen; /* dropped: the log starts after it */
	else
		s->log_n++;
	s->log[s->log_at].gen = s->gen;
	s->log[s->log_at].c = (lbs_change){wid_hash(e->id), e->type,
	                                   !(ref == s->ref_before ||
	                                     (isnan(ref) && isnan(s->ref_before)))};
	s->log_at = (s->log_at + 1) % HIST_CHANGES;
}

lbs_status hist_apply_rules(hist_store *s, const lbs_outcome *o, const hist_rules *r,
                            double now)
{
	slot *e;

	if (!s || !o || o->struct_size < LBS_OUTCOME_SIZE_V1_0 || !o->worker_id ||
	    !(o->duration_s >= 0.0 && o->duration_s <= HIST_DURATION_MAX))
		return LBS_EINVAL;
	if (o->result == LBS_RESULT_CANCELLED)
		return LBS_OK;
	e = entry_for(s, o->workload_type, o->worker_id);
	if (!e)
		return LBS_ENOMEM;
	changed(s, e, 1);
	hist_sums_learn(&e->c, o, r, now);
	changed(s, e, 0);
	return LBS_OK;
}

/* A pair's sums replaced by c, or (merge) c added to them. */
static lbs_status set_sums(hist_store *s, uint32_t wl_type, const char *worker_id,
                           const hist_sums *c, int merge, double half_life)
{
	slot *e;

	if (!s || !worker_id || !c)
		return LBS_EINVAL;
	e = entry_for(s, wl_type, worker_id);
	if (!e)
		return LBS_ENOMEM;
	changed(s, e, 1);
	if (merge)
		hist_sums_merge(&e->c, c, half_life);
	else
		e->c = *c;
	changed(s, e, 0);
	return LBS_OK;
}

lbs_status hist_put(hist_store *s, uint32_t wl_type, const char *worker_id,
                    const hist_sums *c)
{
	return set_sums(s, wl_type, worker_id, c, 0, 0.0);
}

lbs_status hist_merge(hist_store *s, uint32_t wl_type, const char *worker_id,
                      const hist_sums *c, double half_life)
{
	return set_sums(s, wl_type, worker_id, c, 1, half_life);
}
