/*
 * priority.c -- speed / balanced / spread selection; the formulas are in
 * priority.h.
 */
#include "priority.h"

#include <math.h>
#include <string.h>

#include "eligible.h"

/* The spread's AVX2 draws (last_avx2), chosen at run time where eligible.h
 * has ELIG_AVX2.  The AVX-512 draws (last_avx512) likewise, and
 * -DPRIO_NO_AVX512 leaves them out alone, so that the tests hold the AVX2
 * ones to those picks on an AVX-512 machine. */
#ifdef ELIG_AVX2
#define PRIO_AVX2 1
#if !defined(PRIO_NO_AVX512)
#define PRIO_AVX512 1
#endif
#endif

/* Workers ranked per pass when several are wanted; a fixed stack array
 * because select must not allocate. */
#define CHUNK 64

#define GOLDEN UINT64_C(0x9e3779b97f4a7c15)

static int worker_valid(const lbs_worker *w)
{
	return w && w->struct_size >= LBS_WORKER_SIZE_V1_0 && w->id;
}

const char *prio_mode_name(enum prio_mode m)
{
	switch (m) {
	case PRIO_SPEED:
		return "speed";
	case PRIO_BALANCED:
		return "balanced";
	case PRIO_SPREAD:
		return "spread";
	}
	return "?";
}

static uint64_t splitmix_final(uint64_t z)
{
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

uint64_t prio_rand_next(uint64_t *state)
{
	*state += GOLDEN;
	return splitmix_final(*state);
}

/* draw_unit() of the position whose key is seed + (i + 1) * GOLDEN. */
static double draw_key(uint64_t key)
{
	return (double)(splitmix_final(key) >> 11) * 0x1.0p-53;
}

/* A uniform number in [0, 1) for worker position i of this select.  Keyed
 * by position, not by draw order, so a second pass over the array sees the
 * same numbers as the first. */
static double draw_unit(uint64_t seed, uint32_t i)
{
	return draw_key(seed + (uint64_t)(i + 1) * GOLDEN);
}

/* score = hw * h + lw * (1 - Le); spread uses the weight 1 - Le. */
static void mode_weights(enum prio_mode mode, double *hw, double *lw)
{
	*hw = mode == PRIO_SPEED ? 0.8 : 0.6;
	*lw = mode == PRIO_SPEED ? 0.2 : 0.4;
}

static void factors(const prio_params *p, const lbs_workload *wl,
                    const lbs_worker *w, double load, prio_factors *f)
{
	enum prio_mode mode = prio_mode_of(wl->priority);
	const lbs_history *h = NULL;
	double est, mean;

	f->load = elig_effective_load(w, load);
	f->completion_s = -1.0;
	f->deadline = PRIO_DL_NONE;
	f->mean_s = f->sd_s = f->preference = -1.0;
	if (p->history)
		h = p->history(p->history_ctx, wl->type, w->id);

	if (!h || h->samples == 0) {
		f->samples = 0;
		f->success = f->time = f->history = 0.5;
	} else {
		f->samples = h->samples;
		f->success = clamp01((double)h->successes / (double)h->samples, 0.0);
		f->preference = h->preference;
		mean = h->mean_duration;
		if (h->successes > 0) {
			f->mean_s = mean;
			f->sd_s = h->var_duration > 0.0 ? sqrt(h->var_duration) : 0.0;
		}
		if (h->successes == 0 || !isfinite(mean) || mean < 0.0) {
			/* Nothing ever finished: the formula would read a mean
			 * of 0 as "very fast". */
			f->time = 0.0;
		} else {
			/* No duration stated (0): the mean is compared with
			 * the type's reference latency, on a log scale, so
			 * speed still ranks; read as 1 s, every worker slower
			 * than 4 s scored 0 and lost to an untried one. */
			est = wl->est_duration_s > 1.0 ? wl->est_duration_s : 1.0;
			/* The learned speed ratio where the record has one: the
			 * mean is over every test of the workload type (a class
			 * of test types), and a worker that ran 600 s tests on
			 * time scored 0 for a 30 s one.  This test's expected
			 * run is then the ratio times its estimate. */
			double r = wl->est_duration_s > 0.0 ? hist_speed_ratio(h) : -1.0;

			if (r >= 0.0) {
				f->time = clamp01(1.0 - (r - 1.0) / 3.0, 0.0);
				mean = r * wl->est_duration_s;
			} else if (wl->est_duration_s > 0.0)
				f->time = clamp01(1.0 - (mean / est - 1.0) / 3.0, 0.0);
			else if (p->has_ref && mean > 0.0)
				f->time = latency_time(p->ref_log_s, mean);
			else
				f->time = 0.5;
			if (wl->deadline_s > 0.0) {
				double cap = w->capacity > 1 ? (double)w->capacity : 1.0;
				double ahead = (double)w->active_tests +
				               (double)w->queued_tests;

				f->completion_s = ahead / cap * mean + mean;
				f->deadline = f->completion_s <= wl->deadline_s
				              ? PRIO_DL_MEETS : PRIO_DL_MISSES;
			}
		}
		if (mode == PRIO_SPEED)
			f->history = (0.2 * f->success + 0.6 * f->time) / 0.8;
		else
			f->history = (f->success + f->time) / 2.0;
	}

	if (mode == PRIO_SPREAD) {
		f->score = 1.0 - f->load;
	} else {
		double hw, lw;

		mode_weights(mode, &hw, &lw);
		f->score = hw * f->history + lw * (1.0 - f->load);
	}
}

void prio_factors_of(const prio_params *p, const lbs_workload *wl,
                     const lbs_worker *w, prio_factors *f)
{
	factors(p, wl, w, worker_load(w), f);
}

/* A total order: lower tier, then higher a, then higher b, then lower
 * position.  No NaN reaches a or b. */
typedef struct rank_key {
	uint32_t tier;
	uint32_t idx;
	double a;
	double b;
} rank_key;

static int better(const rank_key *x, const rank_key *y)
{
	if (x->tier != y->tier)
		return x->tier < y->tier;
	if (x->a != y->a)
		return x->a > y->a;
	if (x->b != y->b)
		return x->b > y->b;
	return x->idx < y->idx;
}

static void count_eligible(prio_result *res, const prio_factors *f)
{
	res->n_eligible++;
	res->total_weight += 1.0 - f->load;
	if (f->deadline == PRIO_DL_MEETS)
		res->n_meeting++;
	else if (f->deadline == PRIO_DL_MISSES)
		res->n_missing++;
}

/* Top `want` by rank_key, CHUNK at a time: each pass keeps the best CHUNK
 * keys strictly after the last key of the previous pass. */
static lbs_status ranked(const prio_params *p, const lbs_workload *wl,
                         const lbs_worker *const *workers, uint32_t n,
                         int demote, uint32_t want, uint32_t *idx,
                         prio_result *res)
{
	int spread = prio_mode_of(wl->priority) == PRIO_SPREAD;
	rank_key top[CHUNK], bound = { 0, 0, 0.0, 0.0 }, k;
	int bounded = 0;
	prio_factors f;

	while (res->n_found < want) {
		uint32_t chunk = want - res->n_found, m = 0;

		if (chunk > CHUNK)
			chunk = CHUNK;
		for (uint32_t i = 0; i < n; i++) {
			const lbs_worker *w = workers[i];
			double load;
			uint32_t j;

			if (!worker_valid(w))
				return LBS_EINVAL;
			if (!elig_pass(wl, w, p->ceiling, &load))
				continue;
			factors(p, wl, w, load, &f);
			if (!bounded)
				count_eligible(res, &f);

			k.tier = demote && f.deadline == PRIO_DL_MISSES;
			k.idx = i;
			k.b = 0.0;
			if (!spread) {
				k.a = f.score;
			} else if (f.score > 0.0) {
				/* Efraimidis-Spirakis: the largest log(u) / w
				 * are a weighted sample without replacement. */
				k.a = log(1.0 - draw_unit(p->draw_seed, i)) / f.score;
			} else {
				k.a = -INFINITY;
				k.b = -load;
			}

			if (bounded && !better(&bound, &k))
				continue;
			if (m == chunk && !better(&k, &top[m - 1]))
				continue;
			j = m < chunk ? m++ : chunk - 1;
			while (j > 0 && better(&k, &top[j - 1])) {
				top[j] = top[j - 1];
				j--;
			}
			top[j] = k;
		}
		for (uint32_t j = 0; j < m; j++)
			idx[res->n_found++] = top[j].idx;
		if (m < chunk)
			break;
		bound = top[m - 1];
		bounded = 1;
	}
	return LBS_OK;
}

/* One weighted draw in a single pass (reservoir sampling: keep worker i
 * with probability w_i / total so far), per tier, without the log() that
 * the multi-draw keys need. */
static lbs_status spread_one(const prio_params *p, const lbs_workload *wl,
                             const lbs_worker *const *workers, uint32_t n,
                             int demote, uint32_t *idx, prio_result *res)
{
	double total[2] = { 0.0, 0.0 }, zero_load[2] = { 0.0, 0.0 };
	int64_t pick[2] = { -1, -1 }, zero[2] = { -1, -1 };
	prio_factors f;

	for (uint32_t i = 0; i < n; i++) {
		const lbs_worker *w = workers[i];
		double load;
		int t;

		if (!worker_valid(w))
			return LBS_EINVAL;
		if (!elig_pass(wl, w, p->ceiling, &load))
			continue;
		factors(p, wl, w, load, &f);
		count_eligible(res, &f);
		t = demote && f.deadline == PRIO_DL_MISSES;
		if (f.score > 0.0) {
			total[t] += f.score;
			if (draw_unit(p->draw_seed, i) * total[t] < f.score)
				pick[t] = i;
		} else if (zero[t] < 0 || load < zero_load[t]) {
			zero[t] = i;
			zero_load[t] = load;
		}
	}
	for (int t = 0; t < 2; t++) {
		int64_t c = pick[t] >= 0 ? pick[t] : zero[t];

		if (c >= 0) {
			idx[0] = (uint32_t)c;
			res->n_found = 1;
			break;
		}
	}
	return LBS_OK;
}

/*
 * The spread's reservoir (spread_one) keeps, of the workers with a
 * weight, the LAST position i whose draw u_i satisfies u_i * T_i < w_i,
 * T_i the running total of the weights (every eligible worker's, in
 * position order) after i's.  So the same pick comes from a forward pass
 * that only sums and a backward pass that draws from the end until the
 * first hit: about half the draws, which cost as much as the rest of the
 * loop.  The forward pass keeps the weights of SPREAD_RUN positions at a
 * time on the stack (select must not allocate), by position, 0 for a
 * worker without one, so that it counts no candidates and needs no
 * positions; each block is searched backward at once, and a later
 * block's hit replaces an earlier one's, as in the reservoir.
 */
#define SPREAD_RUN 256

typedef struct spread_run {
	double w[SPREAD_RUN]; /* the weight, 1 - effective load; 0: none */
	double t[SPREAD_RUN]; /* the running total after it (every position's) */
} spread_run;

/* The position of the last hit of the m positions from base, or keep.
 * The draws' keys step down by GOLDEN from the last position's, instead
 * of a multiplication each. */
static int64_t spread_last(const spread_run *r, uint32_t base, uint32_t m, uint64_t seed,
                           int64_t keep)
{
	uint64_t key = seed + (uint64_t)(base + m) * GOLDEN;

	for (uint32_t k = m; k-- > 0; key -= GOLDEN)
		if (r->w[k] > 0.0 && draw_key(key) * r->t[k] < r->w[k])
			return base + k;
	return keep;
}

/* One worker of a fast loop: -1 invalid (the select fails), 0 filtered
 * out, 1 eligible with its load and spare capacity, counted in *eligible
 * and *total.  `full` is elig_needs_full(wl) and `mem` elig_memory_only(wl)
 * (only read when not full), constants in each specialised copy, so that
 * the common loop calls nothing and tests only what the work requires. */
ELIG_INLINE int fast_take(int full, int mem, const lbs_workload *wl, const lbs_worker *w,
                          double ceiling, double *load, double *spare,
                          uint32_t *eligible, double *total)
{
	if (!worker_valid(w))
		return -1;
	if (!(full ? elig_pass(wl, w, ceiling, load)
	           : elig_pass_simple_as(mem, wl, w, ceiling, load)))
		return 0;
	*spare = 1.0 - elig_effective_load(w, *load);
	++*eligible;
	*total += *spare;
	return 1;
}

/* spread_last() or a copy of it. */
typedef int64_t last_fn(const spread_run *r, uint32_t base, uint32_t m, uint64_t seed,
                        int64_t keep);

#ifdef PRIO_AVX2
/* x * y mod 2^64 in each lane, y's high half in yh: AVX2 multiplies
 * 32-bit halves only. */
ELIG_INLINE __attribute__((target("avx2"))) __m256i mul64_avx2(__m256i x, __m256i y, __m256i yh)
{
	__m256i ll = _mm256_mul_epu32(x, y);
	__m256i cross = _mm256_add_epi64(_mm256_mul_epu32(_mm256_srli_epi64(x, 32), y),
	                                 _mm256_mul_epu32(x, yh));

	return _mm256_add_epi64(ll, _mm256_slli_epi64(cross, 32));
}

/* spread_last() four positions at a time from the end: each lane
 * draw_key()'s integer steps and the same products and compares (the
 * draw's 53 bits become a double exactly, from two exact halves); the
 * highest hit of the first block with one is the position spread_last()
 * stops at.  Every position's t is written (a number, never below 0), so
 * a lane without a weight fails u t < 0 as spread_last()'s weight test
 * fails it, and needs no test of its own. */
__attribute__((target("avx2"))) static int64_t last_avx2(const spread_run *r, uint32_t base,
                                                         uint32_t m, uint64_t seed,
                                                         int64_t keep)
{
	const uint64_t m1 = UINT64_C(0xbf58476d1ce4e5b9), m2 = UINT64_C(0x94d049bb133111eb);
	const __m256i c1 = _mm256_set1_epi64x((long long)m1);
	const __m256i c1h = _mm256_set1_epi64x((long long)(m1 >> 32));
	const __m256i c2 = _mm256_set1_epi64x((long long)m2);
	const __m256i c2h = _mm256_set1_epi64x((long long)(m2 >> 32));
	const __m256i low = _mm256_set1_epi64x(0xffffffff);
	const __m256i bits52 = _mm256_set1_epi64x(0x4330000000000000);
	const __m256i step = _mm256_set1_epi64x((long long)(4 * GOLDEN));
	const __m256d two52 = _mm256_set1_pd(0x1p52), two32 = _mm256_set1_pd(0x1p32);
	const __m256d unit = _mm256_set1_pd(0x1p-53);
	uint64_t key0 = seed + (uint64_t)(base + m - 3) * GOLDEN; /* position m - 4's */
	__m256i key = _mm256_set_epi64x((long long)(key0 + 3 * GOLDEN),
	                                (long long)(key0 + 2 * GOLDEN),
	                                (long long)(key0 + GOLDEN), (long long)key0);
	uint32_t k = m;

	for (; k >= 4; k -= 4, key = _mm256_sub_epi64(key, step)) {
		__m256i z = _mm256_xor_si256(key, _mm256_srli_epi64(key, 30));
		__m256d hi, lo, u, w, t, hit;
		int bits;

		z = mul64_avx2(z, c1, c1h);
		z = _mm256_xor_si256(z, _mm256_srli_epi64(z, 27));
		z = mul64_avx2(z, c2, c2h);
		z = _mm256_xor_si256(z, _mm256_srli_epi64(z, 31));
		z = _mm256_srli_epi64(z, 11);
		hi = _mm256_sub_pd(_mm256_castsi256_pd(_mm256_or_si256(_mm256_srli_epi64(z, 32),
		                                                       bits52)), two52);
		lo = _mm256_sub_pd(_mm256_castsi256_pd(_mm256_or_si256(_mm256_and_si256(z, low),
		                                                       bits52)), two52);
		u = _mm256_mul_pd(_mm256_add_pd(_mm256_mul_pd(hi, two32), lo), unit);
		w = _mm256_loadu_pd(r->w + k - 4);
		t = _mm256_loadu_pd(r->t + k - 4);
		hit = _mm256_cmp_pd(_mm256_mul_pd(u, t), w, _CMP_LT_OQ);
		bits = _mm256_movemask_pd(hit);
		if (bits)
			return base + k - 4 + (uint32_t)(31 - __builtin_clz((unsigned)bits));
	}
	return spread_last(r, base, k, seed, keep);
}
#endif

#ifdef PRIO_AVX512
/* last_avx2() eight positions at a time: the same keys, products and
 * compares, with the 64-bit multiplications and the exact conversion of
 * the draw's 53 bits that AVX-512 has (AVX2 builds each from 32-bit
 * parts); the positions before the last whole eight are last_avx2()'s. */
__attribute__((target("avx2,avx512f,avx512dq"))) static int64_t
last_avx512(const spread_run *r, uint32_t base, uint32_t m, uint64_t seed, int64_t keep)
{
	const __m512i c1 = _mm512_set1_epi64((long long)UINT64_C(0xbf58476d1ce4e5b9));
	const __m512i c2 = _mm512_set1_epi64((long long)UINT64_C(0x94d049bb133111eb));
	const __m512i step = _mm512_set1_epi64((long long)(8 * GOLDEN));
	const __m512d unit = _mm512_set1_pd(0x1p-53);
	uint64_t key0 = seed + (uint64_t)(base + m - 7) * GOLDEN; /* position m - 8's */
	__m512i key = _mm512_add_epi64(
	        _mm512_set1_epi64((long long)key0),
	        _mm512_set_epi64((long long)(7 * GOLDEN), (long long)(6 * GOLDEN),
	                         (long long)(5 * GOLDEN), (long long)(4 * GOLDEN),
	                         (long long)(3 * GOLDEN), (long long)(2 * GOLDEN),
	                         (long long)GOLDEN, 0));
	uint32_t k = m;

	for (; k >= 8; k -= 8, key = _mm512_sub_epi64(key, step)) {
		__m512i z = _mm512_xor_si512(key, _mm512_srli_epi64(key, 30));
		__m512d u;
		__mmask8 hit;

		z = _mm512_mullo_epi64(z, c1);
		z = _mm512_xor_si512(z, _mm512_srli_epi64(z, 27));
		z = _mm512_mullo_epi64(z, c2);
		z = _mm512_xor_si512(z, _mm512_srli_epi64(z, 31));
		u = _mm512_mul_pd(_mm512_cvtepu64_pd(_mm512_srli_epi64(z, 11)), unit);
		hit = _mm512_cmp_pd_mask(_mm512_mul_pd(u, _mm512_loadu_pd(r->t + k - 8)),
		                         _mm512_loadu_pd(r->w + k - 8), _CMP_LT_OQ);
		if (hit)
			return base + k - 8 + (uint32_t)(31 - __builtin_clz((unsigned)hit));
	}
	return last_avx2(r, base, k, seed, keep);
}
#endif

/* What the spread's forward pass carries from worker to worker. */
typedef struct spread_acc {
	double total;     /* the running total of the weights */
	double zero_load; /* elig_load() of zero_at */
	int64_t zero_at;  /* the least loaded eligible worker without a weight; -1: none */
	uint32_t eligible;
} spread_acc;

/* The forward pass over the first positions of a run of m workers from
 * base (w is the run's), as many as it takes in its steps: their weights
 * and totals into r, the rest into a.  Returns how many it did, -1 for a
 * worker that is not one (the select fails). */
typedef int64_t steps_fn(const lbs_workload *wl, const lbs_worker *const *w, uint32_t m,
                         uint32_t base, double lim, spread_run *r, spread_acc *a);

#ifdef PRIO_AVX2
/* The filter of one worker for steps_avx2: -1 when it is not a worker,
 * else whether it passes (fast_take's test without the ceiling). */
ELIG_INLINE int steps_hard(int full, int mem, const lbs_workload *wl, const lbs_worker *w)
{
	if (!worker_valid(w))
		return -1;
	return full ? elig_check(wl, w, 1.0, NULL) == ELIG_OK : elig_devices_pass_as(mem, wl, w);
}

/* Lane j all ones where bit j of the index is set. */
static const int64_t lane_masks[16][4] __attribute__((aligned(32))) = {
	{0, 0, 0, 0},    {-1, 0, 0, 0},    {0, -1, 0, 0},    {-1, -1, 0, 0},
	{0, 0, -1, 0},   {-1, 0, -1, 0},   {0, -1, -1, 0},   {-1, -1, -1, 0},
	{0, 0, 0, -1},   {-1, 0, 0, -1},   {0, -1, 0, -1},   {-1, -1, 0, -1},
	{0, 0, -1, -1},  {-1, 0, -1, -1},  {0, -1, -1, -1},  {-1, -1, -1, -1},
};

/*
 * steps_fn four workers a step: the filter worker by worker as
 * fast_take() runs it, then elig_load(), the ceiling and
 * elig_effective_load() lane by lane (eligible.h's four-lane copies), and
 * the running total in position order.  A lane that fails weighs 0 and
 * adds +0, which leaves a total that is never below +0 as it was: the same
 * weights and totals, bit for bit.
 * Four lanes of the filter, the loads and the thermal states cost about
 * half the instructions of four workers through fast_take().
 */
ELIG_INLINE __attribute__((target("avx2"))) int64_t
steps_avx2(int full, int mem, const lbs_workload *wl, const lbs_worker *const *w, uint32_t m,
           uint32_t base, double lim, spread_run *r, spread_acc *a)
{
	const __m256d one = _mm256_set1_pd(1.0), zero = _mm256_setzero_pd();
	const __m256d limit = _mm256_set1_pd(lim);
	__m256i counted = _mm256_setzero_si256(); /* eligible lanes, -1 each */
	double total = a->total;
	size_t k = 0;

	for (; k + 4 <= m; k += 4) {
		int h0 = steps_hard(full, mem, wl, w[k]), h1 = steps_hard(full, mem, wl, w[k + 1]);
		int h2 = steps_hard(full, mem, wl, w[k + 2]), h3 = steps_hard(full, mem, wl, w[k + 3]);
		__m256d load, el, ok, wt;
		__m128d lo, hi;
		int spent;

		if ((h0 | h1 | h2 | h3) < 0)
			return -1;
		elig_load_avx2(w + k, &load);
		elig_effective_load_avx2(w + k, load, &el);
		ok = _mm256_load_pd((const double *)(const void *)
		                    lane_masks[h0 | h1 << 1 | h2 << 2 | h3 << 3]);
		ok = _mm256_andnot_pd(_mm256_cmp_pd(load, limit, _CMP_GT_OQ), ok);
		wt = _mm256_and_pd(ok, _mm256_sub_pd(one, el));
		counted = _mm256_add_epi64(counted, _mm256_castpd_si256(ok));
		/* Eligible without spare capacity: the least loaded of those
		 * is the pick when nobody has a weight. */
		spent = _mm256_movemask_pd(_mm256_and_pd(ok, _mm256_cmp_pd(wt, zero, _CMP_EQ_OQ)));
		if (ELIG_UNLIKELY(spent)) {
			double ld[4];

			_mm256_storeu_pd(ld, load);
			for (uint32_t j = 0; j < 4; j++)
				if ((spent >> j & 1) && (a->zero_at < 0 || ld[j] < a->zero_load)) {
					a->zero_at = base + k + j;
					a->zero_load = ld[j];
				}
		}
		_mm256_storeu_pd(r->w + k, wt);
		lo = _mm256_castpd256_pd128(wt);
		hi = _mm256_extractf128_pd(wt, 1);
		r->t[k] = total = total + _mm_cvtsd_f64(lo);
		r->t[k + 1] = total = total + _mm_cvtsd_f64(_mm_unpackhi_pd(lo, lo));
		r->t[k + 2] = total = total + _mm_cvtsd_f64(hi);
		r->t[k + 3] = total = total + _mm_cvtsd_f64(_mm_unpackhi_pd(hi, hi));
	}
	a->total = total;
	a->eligible += (uint32_t)-(_mm256_extract_epi64(counted, 0) + _mm256_extract_epi64(counted, 1) +
	                           _mm256_extract_epi64(counted, 2) + _mm256_extract_epi64(counted, 3));
	return k;
}

__attribute__((target("avx2"), noinline)) static int64_t
steps_full_avx2(const lbs_workload *wl, const lbs_worker *const *w, uint32_t m, uint32_t base,
                double lim, spread_run *r, spread_acc *a)
{
	return steps_avx2(1, 0, wl, w, m, base, lim, r, a);
}

__attribute__((target("avx2"), noinline)) static int64_t
steps_mem_avx2(const lbs_workload *wl, const lbs_worker *const *w, uint32_t m, uint32_t base,
               double lim, spread_run *r, spread_acc *a)
{
	return steps_avx2(0, 1, wl, w, m, base, lim, r, a);
}

__attribute__((target("avx2"), noinline)) static int64_t
steps_any_avx2(const lbs_workload *wl, const lbs_worker *const *w, uint32_t m, uint32_t base,
               double lim, spread_run *r, spread_acc *a)
{
	return steps_avx2(0, 0, wl, w, m, base, lim, r, a);
}
#endif

/* fast_one() for the spread; last is spread_last() or a copy of it, steps
 * a steps_fn for the first positions of each run or NULL. */
ELIG_INLINE lbs_status fast_spread(int full, int mem, last_fn *last, steps_fn *steps,
                                   const prio_params *p, const lbs_workload *wl,
                                   const lbs_worker *const *workers, uint32_t n, uint32_t *idx,
                                   prio_result *res)
{
	double ceiling = p->ceiling;
	uint64_t seed = p->draw_seed;
	int64_t pick = -1;
	spread_acc a = { 0.0, 0.0, -1, 0 }; /* a local: a store through res could alias wl */
	spread_run run;

	for (uint32_t base = 0; base < n; base += SPREAD_RUN) {
		uint32_t m = n - base < SPREAD_RUN ? n - base : SPREAD_RUN;
		const lbs_worker *const *wrun = workers + base;
		int64_t done = steps ? steps(wl, wrun, m, base, elig_load_limit(ceiling), &run, &a) : 0;
		double total = a.total;

		if (done < 0)
			return LBS_EINVAL;
		for (size_t k = (size_t)done; k < m; k++) {
			double load, spare;
			int take = fast_take(full, mem, wl, wrun[k], ceiling, &load, &spare,
			                     &a.eligible, &total);

			run.w[k] = 0.0;
			run.t[k] = total;
			if (take <= 0) {
				if (take < 0)
					return LBS_EINVAL;
				continue;
			}
			if (spare > 0.0) {
				run.w[k] = spare;
			} else if (a.zero_at < 0 || load < a.zero_load) {
				a.zero_at = base + k;
				a.zero_load = load;
			}
		}
		a.total = total;
		pick = last(&run, base, m, seed, pick);
	}
	res->n_eligible = a.eligible;
	res->total_weight = a.total;
	if (pick < 0)
		pick = a.zero_at;
	if (pick >= 0) {
		idx[0] = (uint32_t)pick;
		res->n_found = 1;
	}
	return LBS_OK;
}

#ifdef PRIO_AVX2
/* The spread with last_avx2 (and VEX forms throughout), for a CPU that
 * has AVX2. */
__attribute__((target("avx2"), noinline)) static lbs_status
spread_avx2(const prio_params *p, const lbs_workload *wl, const lbs_worker *const *workers,
            uint32_t n, uint32_t *idx, prio_result *res)
{
	int full = elig_needs_full(wl), mem = elig_memory_only(wl);
	last_fn *last = last_avx2;

#ifdef PRIO_AVX512
	if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq"))
		last = last_avx512;
#endif
	return full ? fast_spread(1, 0, last, steps_full_avx2, p, wl, workers, n, idx, res)
	       : mem ? fast_spread(0, 1, last, steps_mem_avx2, p, wl, workers, n, idx, res)
	             : fast_spread(0, 0, last, steps_any_avx2, p, wl, workers, n, idx, res);
}
#endif

/* fast_one() for speed and balanced: the best score. */
ELIG_INLINE lbs_status fast_best(int full, int mem, const prio_params *p, const lbs_workload *wl,
                                 const lbs_worker *const *workers, uint32_t n,
                                 uint32_t *idx, prio_result *res)
{
	double hw, lw, best = -1.0, total = 0.0, ceiling = p->ceiling;
	int64_t pick = -1;
	uint32_t eligible = 0;

	mode_weights(prio_mode_of(wl->priority), &hw, &lw);
	for (uint32_t i = 0; i < n; i++) {
		double load, spare, score;
		int take = fast_take(full, mem, wl, workers[i], ceiling, &load, &spare, &eligible, &total);

		if (take <= 0) {
			if (take < 0)
				return LBS_EINVAL;
			continue;
		}
		score = hw * 0.5 + lw * spare;
		if (score > best) {
			best = score;
			pick = i;
		}
	}
	res->n_eligible = eligible;
	res->total_weight = total;
	if (pick >= 0) {
		idx[0] = (uint32_t)pick;
		res->n_found = 1;
	}
	return LBS_OK;
}

/* fast_one() without AVX2, and for speed and balanced: a function of
 * its own, whose frame (the spread's runs) the AVX2 spread does not pay
 * for. */
__attribute__((noinline)) static lbs_status fast_plain(const prio_params *p,
                                                       const lbs_workload *wl,
                                                       const lbs_worker *const *workers,
                                                       uint32_t n, uint32_t *idx,
                                                       prio_result *res)
{
	int full = elig_needs_full(wl), mem = elig_memory_only(wl);

	if (prio_mode_of(wl->priority) == PRIO_SPREAD)
		return full ? fast_spread(1, 0, spread_last, NULL, p, wl, workers, n, idx, res)
		       : mem ? fast_spread(0, 1, spread_last, NULL, p, wl, workers, n, idx, res)
		             : fast_spread(0, 0, spread_last, NULL, p, wl, workers, n, idx, res);
	return full ? fast_best(1, 0, p, wl, workers, n, idx, res)
	       : mem ? fast_best(0, 1, p, wl, workers, n, idx, res)
	             : fast_best(0, 0, p, wl, workers, n, idx, res);
}

/*
 * One worker, nothing learned: every history part is 0.5 and no deadline
 * can be judged, so a single pass over load alone decides, with the same
 * arithmetic as factors() so that select, score and explain agree.  This
 * is the common case and the one that must stay close to a bare scan.
 */
static lbs_status fast_one(const prio_params *p, const lbs_workload *wl,
                           const lbs_worker *const *workers, uint32_t n,
                           uint32_t *idx, prio_result *res)
{
#ifdef PRIO_AVX2
	if (prio_mode_of(wl->priority) == PRIO_SPREAD && __builtin_cpu_supports("avx2"))
		return spread_avx2(p, wl, workers, n, idx, res);
#endif
	return fast_plain(p, wl, workers, n, idx, res);
}

lbs_status prio_select(const prio_params *p, const lbs_workload *wl,
                       const lbs_worker *const *workers, uint32_t n,
                       uint32_t want, uint32_t *idx, prio_result *res)
{
	int demote = wl->deadline_s > 0.0 && p->history;
	lbs_status st;

	for (;;) {
		/* best is a hundred bytes that a caller skipping it never
		 * reads: zeroing them cost more than the rest of the call. */
		memset(res, 0, offsetof(prio_result, best));
		if (!p->skip_best)
			memset(&res->best, 0, sizeof(res->best));
		if (want == 0)
			return LBS_OK;
		if (want == 1 && !p->history)
			st = fast_one(p, wl, workers, n, idx, res);
		else if (want == 1 && prio_mode_of(wl->priority) == PRIO_SPREAD)
			st = spread_one(p, wl, workers, n, demote, idx, res);
		else
			st = ranked(p, wl, workers, n, demote, want, idx, res);
		if (st != LBS_OK)
			return st;
		/* Missing workers are demoted only below workers that meet the
		 * deadline; when none does, rank again without tiers.  Rare,
		 * so cheaper than keeping both rankings on every select. */
		if (demote && res->n_meeting == 0 && res->n_missing > 0) {
			demote = 0;
			continue;
		}
		break;
	}
	res->demoted = demote && res->n_missing > 0;
	if (res->n_found > 0 && !p->skip_best)
		prio_factors_of(p, wl, workers[idx[0]], &res->best);
	return LBS_OK;
}

#ifdef ELIG_V4
/* score_fast()'s loop with the facts for four workers whose filter is
 * known (hard 0 or 1): each lane the operations of that loop in its order
 * (elig_effective_load()'s clamps as its `>` and `<` select).  A worker
 * that fails is still not followed: its lane reads one at full speed. */
ELIG_INLINE void known_four(const lbs_worker *const *workers, const uint8_t *hard,
                            const double *known_load, double lim, int spread, double hw,
                            double lw, double *scores)
{
	static const lbs_worker steady = {.thermal_state = LBS_THERMAL_NORMAL};
	const v4d one = {1.0, 1.0, 1.0, 1.0}, zero = {0.0, 0.0, 0.0, 0.0};
	const lbs_worker *w0 = hard[0] ? workers[0] : &steady;
	const lbs_worker *w1 = hard[1] ? workers[1] : &steady;
	const lbs_worker *w2 = hard[2] ? workers[2] : &steady;
	const lbs_worker *w3 = hard[3] ? workers[3] : &steady;
	v4u ts = {w0->thermal_state, w1->thermal_state, w2->thermal_state, w3->thermal_state};
	v4d pl = {w0->performance_level, w1->performance_level, w2->performance_level,
	          w3->performance_level};
	v4q h = {hard[0], hard[1], hard[2], hard[3]};
	v4d load, perf, el, spare, sc;
	v4m thr, ok;

	memcpy(&load, known_load, sizeof load);
	ok = (v4m)(h != 0) & ~(load > lim);
	elig_v4_throttled(&thr, ts);
	perf = V4_SEL(pl > 0.0, pl, zero);
	perf = V4_SEL(perf < 1.0, perf, one);
	el = load + (1.0 - perf);
	el = V4_SEL(el < 1.0, el, one);
	el = V4_SEL(thr, el, load);
	spare = 1.0 - el;
	sc = spread ? spare : hw * 0.5 + lw * spare;
	sc = V4_SEL(ok, sc, -one);
	memcpy(scores, &sc, sizeof sc);
}
#endif

/*
 * prio_score with nothing learned: every history part is 0.5 and no
 * deadline can be judged (nobody meets or misses), so a score is the load
 * term alone, with the arithmetic of factors() (and of fast_one).  A blend
 * calls this over the whole fleet on every select.
 */
ELIG_CLONES static lbs_status score_fast(const lbs_workload *wl,
                                         const lbs_worker *const *workers, uint32_t n,
                                         double ceiling, const uint8_t *hard,
                                         const double *known_load, double *scores)
{
	enum prio_mode mode = prio_mode_of(wl->priority);
	double hw, lw;
	uint32_t i = 0;

	mode_weights(mode, &hw, &lw);
#ifdef ELIG_V4
	/* With the facts, four workers a step up to one whose filter is
	 * unknown (then one at a time below). */
	if (known_load && hard) {
		double lim = elig_load_limit(ceiling);

		for (; i + 4 <= n; i += 4) {
			uint32_t u;

			memcpy(&u, hard + i, sizeof u);
			if (u & UINT32_C(0x02020202))
				break;
			known_four(workers + i, hard + i, known_load + i, lim,
			           mode == PRIO_SPREAD, hw, lw, scores + i);
		}
	}
#endif
	for (; i < n; i++) {
		const lbs_worker *w = workers[i];
		double load, spare;

		/* With the facts and their loads the pass that found them
		 * checked every worker: one that fails is not followed. */
		if (known_load && hard && hard[i] != 2) {
			if (!hard[i] || known_load[i] > elig_load_limit(ceiling)) {
				scores[i] = -1.0;
				continue;
			}
			load = known_load[i];
		} else if (!worker_valid(w)) {
			return LBS_EINVAL;
		} else if (!elig_pass_known(wl, w, hard, known_load, i, ceiling, &load)) {
			scores[i] = -1.0;
			continue;
		}
		spare = 1.0 - elig_effective_load(w, load);
		scores[i] = mode == PRIO_SPREAD ? spare : hw * 0.5 + lw * spare;
	}
	return LBS_OK;
}

lbs_status prio_score(const prio_params *p, const lbs_workload *wl,
                      const lbs_worker *const *workers, uint32_t n,
                      double *scores)
{
	uint32_t meeting = 0, missing = 0;
	prio_factors f;

	if (!p->history)
		return score_fast(wl, workers, n, p->ceiling, p->hard, p->hard_load, scores);
	for (uint32_t i = 0; i < n; i++) {
		const lbs_worker *w = workers[i];
		double load;

		if (!worker_valid(w))
			return LBS_EINVAL;
		if (!elig_pass_known(wl, w, p->hard, p->hard_load, i, p->ceiling, &load)) {
			scores[i] = -1.0;
			continue;
		}
		factors(p, wl, w, load, &f);
		scores[i] = f.score;
		meeting += f.deadline == PRIO_DL_MEETS;
		missing += f.deadline == PRIO_DL_MISSES;
	}
	if (meeting == 0 || missing == 0)
		return LBS_OK;
	for (uint32_t i = 0; i < n; i++) {
		if (scores[i] < 0.0)
			continue;
		prio_factors_of(p, wl, workers[i], &f);
		scores[i] = f.deadline == PRIO_DL_MISSES ? scores[i] / 2.0
		                                         : 0.5 + scores[i] / 2.0;
	}
	return LBS_OK;
}
