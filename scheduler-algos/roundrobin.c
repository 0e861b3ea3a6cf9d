/*
 * roundrobin.c -- rotation with one cursor per request class; see
 * roundrobin.h for why there is more than one cursor.
 */
#include "roundrobin.h"

#include <math.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "eligible.h"
#include "worker_id.h"

/* Cursors recognise the id they chose by wid_hash: a collision costs one
 * out-of-turn choice, never a wrong one. */

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + UINT64_C(0x9e3779b97f4a7c15) + (h << 6) + (h >> 2);
	h *= UINT64_C(0xbf58476d1ce4e5b9);
	return h ^ (h >> 31);
}

void rr_init(rr_state *s)
{
	memset(s, 0, sizeof(*s));
}

uint64_t rr_class_of(const lbs_workload *wl)
{
	uint64_t h = 0;

	h = mix(h, wl->required_backends);
	h = mix(h, wl->required_precisions);
	h = mix(h, wl->required_features);
	h = mix(h, wl->min_memory_bytes);
	h = mix(h, wl->min_compute_units);
	if (wl->required_accel_kinds && wl->required_accel_counts) {
		for (uint32_t i = 0; i < wl->n_required_accels; i++) {
			const char *k = wl->required_accel_kinds[i];

			h = mix(h, k ? wid_hash(k) : 0);
			h = mix(h, wl->required_accel_counts[i]);
		}
	}
	/* Names (ABI 1.1) are requirements too: work needing "jax" rotates
	 * over the workers that have it, not on plain work's cursor. */
	if (elig_n_names(wl) && wl->required_backend_names) {
		for (uint32_t i = 0; i < wl->n_required_backend_names; i++) {
			const char *n = wl->required_backend_names[i];

			h = mix(h, n ? wid_hash(n) : 0);
		}
	}
	return h;
}

static uint32_t set_of(uint64_t klass)
{
	return (uint32_t)(klass >> 40) % RR_SETS;
}

static const rr_cursor *find_class(const rr_state *s, uint64_t klass)
{
	const rr_cursor *set = &s->classes[set_of(klass) * RR_WAYS];

	for (int i = 0; i < RR_WAYS; i++)
		if (set[i].used && set[i].klass == klass)
			return &set[i];
	return NULL;
}

/* Where a scan starts for cursor c over this call's array. */
static uint32_t cursor_start(const rr_cursor *c, const lbs_worker *const *workers,
                             uint32_t n)
{
	const lbs_worker *w;

	if (!c->valid || n == 0)
		return 0;
	if (c->last < n) {
		w = workers[c->last];
		if (wid_valid(w) && wid_hash(w->id) == c->id_hash)
			return c->last + 1 < n ? c->last + 1 : 0;
	}
	/* The array changed since the last choice: find that worker again. */
	for (uint32_t j = 0; j < n; j++) {
		w = workers[j];
		if (wid_valid(w) && wid_hash(w->id) == c->id_hash)
			return j + 1 < n ? j + 1 : 0;
	}
	/* It is not in this call's array (it left, or the host passes only
	 * the workers free now): on from the one that came after it, which
	 * the place after its old one skipped when the array closed up (a
	 * host leaving out each busy worker never had it chosen); else from
	 * where it stood. */
	for (uint32_t j = 0; j < n; j++) {
		w = workers[j];
		if (wid_valid(w) && wid_hash(w->id) == c->next_hash)
			return j;
	}
	return c->last < n ? c->last : 0;
}

static const rr_cursor *cursor_for(const rr_state *s, uint64_t klass)
{
	const rr_cursor *c = find_class(s, klass);

	/* A class seen for the first time joins the rotation where everyone
	 * else left it, rather than at position 0, so that many short-lived
	 * classes do not all pile onto the first workers. */
	return c ? c : &s->global;
}

lbs_status rr_pick(const rr_state *s, const lbs_workload *wl,
                   const lbs_worker *const *workers, uint32_t n,
                   double ceiling, uint32_t want, uint32_t *idx,
                   rr_result *res)
{
	uint32_t i;

	memset(res, 0, sizeof(*res));
	res->klass = rr_class_of(wl);
	res->n = n;
	if (n == 0 || want == 0)
		return LBS_OK;
	res->start = i = cursor_start(cursor_for(s, res->klass), workers, n);
	while (res->scanned < n && res->n_found < want) {
		const lbs_worker *w = workers[i];

		if (!wid_valid(w))
			return LBS_EINVAL;
		res->scanned++;
		if (elig_check(wl, w, ceiling, NULL) == ELIG_OK)
			idx[res->n_found++] = i;
		else
			res->skipped++;
		i = i + 1 < n ? i + 1 : 0;
	}
	return LBS_OK;
}

static void cursor_set(rr_cursor *c, uint64_t klass, uint64_t stamp,
                       uint32_t last, uint64_t hash, uint64_t next_hash)
{
	c->klass = klass;
	c->used = stamp;
	c->last = last;
	c->id_hash = hash;
	c->next_hash = next_hash;
	c->valid = 1;
}

void rr_commit(rr_state *s, const rr_result *res,
               const lbs_worker *const *workers, uint32_t last)
{
	rr_cursor *set = &s->classes[set_of(res->klass) * RR_WAYS];
	rr_cursor *slot = NULL;
	uint64_t hash = wid_hash(workers[last]->id);
	uint32_t next = last + 1 < res->n ? last + 1 : 0;
	/* rr_pick may have stopped before it: unchecked, it may be no
	 * worker (0 is no id's hash, and matches none). */
	uint64_t next_hash = wid_valid(workers[next]) ? wid_hash(workers[next]->id) : 0;

	s->clock++;
	for (int i = 0; i < RR_WAYS; i++) {
		if (set[i].used && set[i].klass == res->klass) {
			slot = &set[i];
			break;
		}
	}
	if (!slot) {
		/* Evict the least recently used way (empty slots have
		 * used == 0, so they go first). */
		slot = &set[0];
		for (int i = 1; i < RR_WAYS; i++)
			if (set[i].used < slot->used)
				slot = &set[i];
	}
	cursor_set(slot, res->klass, s->clock, last, hash, next_hash);
	cursor_set(&s->global, 0, s->clock, last, hash, next_hash);
}

/* The rotation's scores for scores[from..to), each 0 (eligible, ranked
 * on from `rank`) or -1 (kept); returns the rank after them.  Without a branch per
 * worker: eligibility is whatever the fleet makes it, so a branch on it is
 * mispredicted about as often as not.  Every worker pays the division; the
 * ineligible keep their -1. */
ELIG_CLONES static uint32_t rank_span(double *scores, uint32_t from, uint32_t to,
                                      uint32_t eligible, uint32_t rank)
{
	uint32_t j = from;

#if defined(__SSE2__)
	{
		/* Two workers a step, one DIVPD for both: lane 0 is ranked
		 * `rank`, lane 1 one more when lane 0 was eligible.  Each
		 * numerator is the scalar loop's integer (exact in a double,
		 * below 2^32, as every difference of two of them is) over the
		 * same divisor, divided alone in its lane: the same quotient. */
		const __m128d zero = _mm_setzero_pd(), one = _mm_set1_pd(1.0);
		const __m128d e = _mm_set1_pd((double)eligible);
		__m128d left = _mm_set1_pd((double)(eligible - rank));
		double l;

#ifdef ELIG_V4
		/* Four workers a step the same way: lane q is ranked `rank`
		 * plus the eligible in the lanes before it (the prefix sums of
		 * the 0s and 1s, exact), all over one divisor. */
		{
			const v4d zero4 = {0.0, 0.0, 0.0, 0.0}, one4 = {1.0, 1.0, 1.0, 1.0};
			const v4d e4 = {(double)eligible, (double)eligible, (double)eligible,
			                (double)eligible};
			const v4q up1 = {4, 0, 1, 2}, up2 = {4, 5, 0, 1}, last = {3, 3, 3, 3};
			v4d left4 = {(double)(eligible - rank), (double)(eligible - rank),
			             (double)(eligible - rank), (double)(eligible - rank)};

			for (; j + 3 < to; j += 4) {
				v4d v, okd, inc, q;

				memcpy(&v, scores + j, sizeof v);
				okd = v + one4;
				inc = okd + __builtin_shuffle(okd, zero4, up1);
				inc = inc + __builtin_shuffle(inc, zero4, up2);
				q = (left4 - (inc - okd)) / e4;
				v = q * okd + v;
				memcpy(scores + j, &v, sizeof v);
				left4 = left4 - __builtin_shuffle(inc, last);
			}
			left = _mm_set1_pd(left4[0]);
		}
#endif

		/* Each score is 0 or -1 here, so v + 1 is the eligible's 1
		 * and the others' 0, and q * (v + 1) + v the quotient (q > 0)
		 * or -1 exactly. */
		for (; j + 1 < to; j += 2) {
			__m128d v = _mm_loadu_pd(scores + j), okd = _mm_add_pd(v, one);
			__m128d q = _mm_div_pd(_mm_sub_pd(left, _mm_unpacklo_pd(zero, okd)), e);

			_mm_storeu_pd(scores + j, _mm_add_pd(_mm_mul_pd(q, okd), v));
			left = _mm_sub_pd(left, _mm_add_pd(okd, _mm_shuffle_pd(okd, okd, 1)));
		}
		_mm_storel_pd(&l, left);
		rank = eligible - (uint32_t)l;
	}
#endif
	for (; j < to; j++) {
		int ok = scores[j] >= 0.0;
		double v = (double)(eligible - rank) / (double)eligible;

		scores[j] = ok ? v : scores[j];
		rank += (uint32_t)ok;
	}
	return rank;
}

lbs_status rr_score(const rr_state *s, const lbs_workload *wl,
                    const lbs_worker *const *workers, uint32_t n,
                    double ceiling, double *scores)
{
	return rr_score_hard(s, wl, workers, n, ceiling, NULL, NULL, scores);
}

ELIG_CLONES lbs_status rr_score_hard(const rr_state *s, const lbs_workload *wl,
                                     const lbs_worker *const *workers, uint32_t n,
                                     double ceiling, const uint8_t *hard,
                                     const double *known_load, double *scores)
{
	uint32_t eligible = 0, rank = 0, i;
	double load;

	if (hard && known_load) {
		double lim = elig_load_limit(ceiling);

		i = 0;
#if defined(__SSE2__)
		{
			/* Two workers a step while neither is unknown (2: the
			 * one bit that 0 and 1 lack); !(load > lim) is
			 * CMPNGTPD's, NaN passing as it does below. */
			static const double verdict[4][2] = {
				{ -1.0, -1.0 }, { 0.0, -1.0 }, { -1.0, 0.0 }, { 0.0, 0.0 }
			};
			const __m128d l = _mm_set1_pd(lim);
			/* Minus the rejected: a sum of -1s, exact. */
			__m128d no = _mm_setzero_pd();
			double a[2];
			/* Up to the first unknown (usually none), four workers
			 * a step without looking for one: bit q of `bits` is
			 * worker i + q's verdict, its four hard bytes (0 or 1)
			 * gathered by one multiplication (no carries: the
			 * sixteen partial bits land on distinct places, bytes
			 * 0..3 on bits 24..27). */
			const uint8_t *u = memchr(hard, 2, n);
			uint32_t known = u ? (uint32_t)(u - hard) : n;

			for (; i + 4 <= known; i += 4) {
				uint32_t h;
				int bits;

				memcpy(&h, hard + i, sizeof h);
				bits = (_mm_movemask_pd(_mm_cmpngt_pd(_mm_loadu_pd(known_load + i), l)) |
				        _mm_movemask_pd(_mm_cmpngt_pd(_mm_loadu_pd(known_load + i + 2), l))
				                << 2) &
				       (int)(((h & UINT32_C(0x01010101)) * UINT32_C(0x01020408)) >> 24);
				{
					__m128d v0 = _mm_loadu_pd(verdict[bits & 3]);
					__m128d v1 = _mm_loadu_pd(verdict[bits >> 2]);

					_mm_storeu_pd(scores + i, v0);
					_mm_storeu_pd(scores + i + 2, v1);
					no = _mm_add_pd(no, _mm_add_pd(v0, v1));
				}
			}
			for (; i + 1 < n && !((hard[i] | hard[i + 1]) & 2); i += 2) {
				int bits = _mm_movemask_pd(
				        _mm_cmpngt_pd(_mm_loadu_pd(known_load + i), l)) &
				        (hard[i] | hard[i + 1] << 1);
				__m128d v = _mm_loadu_pd(verdict[bits]);

				_mm_storeu_pd(scores + i, v);
				no = _mm_add_pd(no, v);
			}
			_mm_storeu_pd(a, no);
			eligible = i - (uint32_t)-(a[0] + a[1]);
		}
#endif
		/* Only the arrays are read: the pass that found the facts
		 * checked every worker, so none is followed but one whose
		 * filter is unknown (more than 64 devices). */
		for (; i < n; i++) {
			int ok = (hard[i] == 1) & !(known_load[i] > lim);

			if (hard[i] == 2) {
				if (!wid_valid(workers[i]))
					return LBS_EINVAL;
				ok = elig_pass(wl, workers[i], ceiling, &load);
			}
			scores[i] = ok ? 0.0 : -1.0;
			eligible += (uint32_t)ok;
		}
	}
	for (i = hard && known_load ? n : 0; i < n; i++) {
		if (!wid_valid(workers[i]))
			return LBS_EINVAL;
		/* elig_pass is elig_check(...) == ELIG_OK, inline: this runs
		 * over the whole fleet on every blended select. */
		if (elig_pass_known(wl, workers[i], hard, known_load, i, ceiling, &load)) {
			scores[i] = 0.0;
			eligible++;
		} else {
			scores[i] = -1.0;
		}
	}
	if (eligible == 0)
		return LBS_OK;
	i = cursor_start(cursor_for(s, rr_class_of(wl)), workers, n);
	/* From the cursor to the end, then from 0 to it. */
	rank = rank_span(scores, i, n, eligible, 0);
	rank_span(scores, 0, i, eligible, rank);
	return LBS_OK;
}
