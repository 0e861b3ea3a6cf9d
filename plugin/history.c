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

#define INITIAL_SLOTS 64

typedef struct slot {
	uint64_t hash;
	char *id; /* NULL = empty slot */
	uint32_t type;
	lbs_history h;
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
	uint64_t h = UINT64_C(0xcbf29ce484222325) ^ type;

	while (*id) {
		h ^= (unsigned char)*id++;
		h *= UINT64_C(0x100000001b3);
	}
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

size_t hist_count(const hist_store *s)
{
	return s ? s->count : 0;
}

uint64_t hist_generation(const hist_store *s)
{
	return s ? s->gen : 0;
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
static lbs_history *entry_for(hist_store *s, uint32_t type, const char *id)
{
	uint64_t hash = key_hash(type, id);
	slot *e = find(s, hash, type, id);

	if (e->id)
		return &e->h;
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
	hist_init(&e->h);
	s->count++;
	return &e->h;
}

void hist_init(lbs_history *h)
{
	memset(h, 0, sizeof(*h));
	h->preference = HIST_PREF_START;
}

/* Welford on ln(duration / expected), the same way as the durations: the
 * record keeps the population variance and M2 is rebuilt from it.  Unlike
 * the preference, which caps expected / duration at 1, this tells a worker
 * four times as fast as declared from one that is just as fast. */
static void learn_ratio(lbs_history *h, double x)
{
	double n = (double)++h->ratio_n;
	double m2 = h->log_ratio_var * (n - 1.0), delta;

	x = x < -HIST_LOG_RATIO_MAX ? -HIST_LOG_RATIO_MAX
	    : x > HIST_LOG_RATIO_MAX ? HIST_LOG_RATIO_MAX : x;
	delta = x - h->log_ratio_mean;

	h->log_ratio_mean += delta / n;
	m2 += delta * (x - h->log_ratio_mean);
	h->log_ratio_var = m2 > 0.0 ? m2 / n : 0.0;
}

void hist_learn(lbs_history *h, const lbs_outcome *o, double alpha, double now)
{
	double eff;

	if (o->result == LBS_RESULT_CANCELLED)
		return;
	h->samples++;
	if (o->result == LBS_RESULT_SUCCESS) {
		/* Welford, with M2 rebuilt from the stored population
		 * variance: the record keeps var, not M2. */
		double n = (double)++h->successes;
		double x = o->duration_s, delta = x - h->mean_duration;
		double m2 = h->var_duration * (n - 1.0);

		h->mean_duration += delta / n;
		m2 += delta * (x - h->mean_duration);
		h->var_duration = m2 > 0.0 ? m2 / n : 0.0;
		eff = o->expected_duration_s > 0.0 && o->duration_s > 0.0
		      ? clamp01(o->expected_duration_s / o->duration_s, 1.0) : 1.0;
		if (o->expected_duration_s > 0.0 && o->duration_s > 0.0 &&
		    isfinite(o->expected_duration_s))
			learn_ratio(h, log(o->duration_s / o->expected_duration_s));
	} else {
		h->failures++;
		eff = 0.0;
	}
	h->preference = (1.0 - alpha) * h->preference + alpha * eff;
	h->last_update = now;
}

lbs_status hist_apply(hist_store *s, const lbs_outcome *o, double now)
{
	return hist_apply_alpha(s, o, HIST_ALPHA_DEFAULT, now);
}

lbs_status hist_apply_alpha(hist_store *s, const lbs_outcome *o, double alpha,
                            double now)
{
	lbs_history *h;

	if (!s || !o || o->struct_size < LBS_OUTCOME_SIZE_V1_0 || !o->worker_id ||
	    !isfinite(o->duration_s) || o->duration_s < 0.0)
		return LBS_EINVAL;
	if (o->result == LBS_RESULT_CANCELLED)
		return LBS_OK;
	h = entry_for(s, o->workload_type, o->worker_id);
	if (!h)
		return LBS_ENOMEM;
	note_latency(s, o->workload_type, h, -1.0);
	hist_learn(h, o, alpha, now);
	note_latency(s, o->workload_type, h, 1.0);
	note_speed(s, o->workload_type, h);
	s->gen = new_gen();
	return LBS_OK;
}

lbs_status hist_put(hist_store *s, uint32_t wl_type, const char *worker_id,
                    const lbs_history *h)
{
	lbs_history *e;

	if (!s || !worker_id || !h)
		return LBS_EINVAL;
	e = entry_for(s, wl_type, worker_id);
	if (!e)
		return LBS_ENOMEM;
	note_latency(s, wl_type, e, -1.0);
	*e = *h;
	note_latency(s, wl_type, e, 1.0);
	note_speed(s, wl_type, e);
	s->gen = new_gen();
	return LBS_OK;
}
