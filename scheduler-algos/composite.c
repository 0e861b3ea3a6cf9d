/*
 * composite.c -- blending, voting, the ranking rule and route matching for
 * the composite scheduler (composite.h has the formulas).
 */
#include "composite.h"

#include <float.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "eligible.h"
#include "priority.h"

#define NONE UINT32_MAX

/* A score that can take part in min / max: NaN and infinities cannot.
 * `&`, not `&&`: no branch in the loop that calls it. */
static inline int usable(double s)
{
	return (s >= 0.0) & (s <= DBL_MAX);
}

/* Min and max of s[i] over ok[i]: two chains each, so that one min does
 * not wait for the one before. */
static void bounds(const double *s, const uint8_t *ok, uint32_t n, double *lo,
                   double *hi)
{
	double lo0 = DBL_MAX, lo1 = DBL_MAX, hi0 = -DBL_MAX, hi1 = -DBL_MAX;
	uint32_t i = 0;

	for (; i + 1 < n; i += 2) {
		double a = s[i], b = s[i + 1];
		double al = ok[i] ? a : DBL_MAX, ah = ok[i] ? a : -DBL_MAX;
		double bl = ok[i + 1] ? b : DBL_MAX, bh = ok[i + 1] ? b : -DBL_MAX;

		lo0 = al < lo0 ? al : lo0;
		hi0 = ah > hi0 ? ah : hi0;
		lo1 = bl < lo1 ? bl : lo1;
		hi1 = bh > hi1 ? bh : hi1;
	}
	if (i < n && ok[i]) {
		lo0 = s[i] < lo0 ? s[i] : lo0;
		hi0 = s[i] > hi0 ? s[i] : hi0;
	}
	*lo = lo0 < lo1 ? lo0 : lo1;
	*hi = hi0 > hi1 ? hi0 : hi1;
}

/* The same worker listed twice by a misbehaving voter counts once. */
static int picked_before(const comp_child *c, uint32_t k)
{
	for (uint32_t q = 0; q < k; q++)
		if (c->picks[q] == c->picks[k])
			return 1;
	return 0;
}

/* Keep ok[i] only for the workers a vetoing child picked. */
static void apply_vetoes(const comp_child *c, uint32_t k, uint32_t n, uint8_t *ok)
{
	for (uint32_t j = 0; j < k; j++) {
		if (c[j].scores || !c[j].veto)
			continue;
		for (uint32_t q = 0; q < c[j].n_picks; q++)
			if (c[j].picks[q] < n && ok[c[j].picks[q]])
				ok[c[j].picks[q]] = 2;
		for (uint32_t i = 0; i < n; i++)
			ok[i] = ok[i] == 2;
	}
}

/* The most children admit_scored() takes in one pass: their running
 * bounds stay in registers. */
#define FUSE_MAX 4

/* admit_scored() and its steps are ELIG_INLINE (forced inline): each call
 * with a constant k becomes a copy with its loops unrolled. */

/*
 * comp_admit when every child scores (nothing votes, so nothing vetoes),
 * two workers at a time: one pass instead of a memset, a pass per child, a
 * count and a pass per child for the bounds.  The bounds keep bounds()'s
 * two chains, even and odd positions, as the two lanes (MINPD and MAXPD
 * select exactly as its `<` and `>` do), so that even a -0 and a 0
 * resolve as they did there.  k is a constant in each inlined copy.
 */
ELIG_INLINE uint32_t admit_scored(comp_child *c, uint32_t k, uint32_t n, uint8_t *ok)
{
	const double *s[FUSE_MAX];
	double lo0[FUSE_MAX], lo1[FUSE_MAX], hi0[FUSE_MAX], hi1[FUSE_MAX];
	uint32_t m = 0, i = 0;

	for (uint32_t j = 0; j < k; j++)
		s[j] = c[j].scores;
#if defined(__SSE2__)
	{
		const __m128d zero = _mm_setzero_pd(), top = _mm_set1_pd(DBL_MAX);
		const __m128d bottom = _mm_set1_pd(-DBL_MAX);
		__m128d lo[FUSE_MAX], hi[FUSE_MAX];

		for (uint32_t j = 0; j < k; j++) {
			lo[j] = top;
			hi[j] = bottom;
		}
		/* Sixteen workers at a time with no mask when all of them
		 * are admitted (the usual block): the bounds over the block
		 * tell, lo >= 0 and hi <= DBL_MAX for every child, and a sum
		 * that is not NaN (MINPD and MAXPD pass over a NaN).  The same
		 * two chains in the same order as the pairs below, which take
		 * the block again from its start when it has a rejection. */
		while (i + 1 < n) {
			uint32_t stop = i + ((n - i) & ~UINT32_C(1));

			if (n - i >= 16) {
				__m128d l[FUSE_MAX], h[FUSE_MAX];
				int bad = 0;

				/* Child by child: each child's chains are its
				 * own, so the order between children changes
				 * no bit, and three children's running values
				 * at once no longer spill (k = 3 kept
				 * fifteen registers live in a loop over all). */
				for (uint32_t j = 0; j < k; j++) {
					__m128d lj = lo[j], hj = hi[j], sum = zero;
					/* From the block's start: offsets the
					 * loads carry, not a position each. */
					const double *b = s[j] + i;

					for (uint32_t q = 0; q < 16; q += 2) {
						__m128d v = _mm_loadu_pd(b + q);

						lj = _mm_min_pd(v, lj);
						hj = _mm_max_pd(v, hj);
						sum = _mm_add_pd(sum, v);
					}
					bad |= _mm_movemask_pd(_mm_or_pd(
					        _mm_or_pd(_mm_cmplt_pd(lj, zero), _mm_cmpgt_pd(hj, top)),
					        _mm_cmpunord_pd(sum, sum)));
					l[j] = lj;
					h[j] = hj;
				}
				if (!bad) {
					for (uint32_t j = 0; j < k; j++) {
						lo[j] = l[j];
						hi[j] = h[j];
					}
					_mm_storeu_si128((__m128i *)(void *)(ok + i),
					                 _mm_set1_epi8(1));
					m += 16;
					i += 16;
					continue;
				}
				stop = i + 16;
			}
			for (; i < stop; i += 2) {
				__m128d v[FUSE_MAX], keep = _mm_cmpeq_pd(zero, zero);
				int bits;

				for (uint32_t j = 0; j < k; j++) {
					v[j] = _mm_loadu_pd(s[j] + i);
					keep = _mm_and_pd(keep,
					                  _mm_and_pd(_mm_cmpge_pd(v[j], zero),
					                             _mm_cmple_pd(v[j], top)));
				}
				bits = _mm_movemask_pd(keep);
				ok[i] = (uint8_t)(bits & 1);
				ok[i + 1] = (uint8_t)(bits >> 1);
				m += (uint32_t)((bits & 1) + (bits >> 1));
				for (uint32_t j = 0; j < k; j++) {
					__m128d in = _mm_and_pd(keep, v[j]);

					lo[j] = _mm_min_pd(_mm_or_pd(in, _mm_andnot_pd(keep, top)),
					                   lo[j]);
					hi[j] = _mm_max_pd(_mm_or_pd(in, _mm_andnot_pd(keep, bottom)),
					                   hi[j]);
				}
			}
		}
		for (uint32_t j = 0; j < k; j++) {
			_mm_storel_pd(&lo0[j], lo[j]);
			_mm_storeh_pd(&lo1[j], lo[j]);
			_mm_storel_pd(&hi0[j], hi[j]);
			_mm_storeh_pd(&hi1[j], hi[j]);
		}
	}
#else
	for (uint32_t j = 0; j < k; j++) {
		lo0[j] = lo1[j] = DBL_MAX;
		hi0[j] = hi1[j] = -DBL_MAX;
	}
	for (; i + 1 < n; i += 2) {
		int a = 1, b = 1;

		for (uint32_t j = 0; j < k; j++) {
			a &= usable(s[j][i]);
			b &= usable(s[j][i + 1]);
		}
		ok[i] = (uint8_t)a;
		ok[i + 1] = (uint8_t)b;
		m += (uint32_t)(a + b);
		for (uint32_t j = 0; j < k; j++) {
			double al = a ? s[j][i] : DBL_MAX, ah = a ? s[j][i] : -DBL_MAX;
			double bl = b ? s[j][i + 1] : DBL_MAX, bh = b ? s[j][i + 1] : -DBL_MAX;

			lo0[j] = al < lo0[j] ? al : lo0[j];
			hi0[j] = ah > hi0[j] ? ah : hi0[j];
			lo1[j] = bl < lo1[j] ? bl : lo1[j];
			hi1[j] = bh > hi1[j] ? bh : hi1[j];
		}
	}
#endif
	if (i < n) {
		int a = 1;

		for (uint32_t j = 0; j < k; j++)
			a &= usable(s[j][i]);
		ok[i] = (uint8_t)a;
		m += (uint32_t)a;
		for (uint32_t j = 0; j < k && a; j++) {
			lo0[j] = s[j][i] < lo0[j] ? s[j][i] : lo0[j];
			hi0[j] = s[j][i] > hi0[j] ? s[j][i] : hi0[j];
		}
	}
	for (uint32_t j = 0; j < k && m > 0; j++) {
		c[j].lo = lo0[j] < lo1[j] ? lo0[j] : lo1[j];
		c[j].hi = hi0[j] > hi1[j] ? hi0[j] : hi1[j];
	}
	return m;
}

/* Every consulted child scores and there are few enough to fuse. */
static int all_scored(const comp_child *c, uint32_t k)
{
	if (k == 0 || k > FUSE_MAX)
		return 0;
	for (uint32_t j = 0; j < k; j++)
		if (!c[j].scores)
			return 0;
	return 1;
}

ELIG_CLONES uint32_t comp_admit(comp_child *c, uint32_t k, uint32_t n, uint8_t *ok)
{
	int scoring = 0;
	uint32_t m = 0;

	if (all_scored(c, k)) {
		for (uint32_t j = 0; j < k; j++)
			c[j].lo = c[j].hi = 0.0;
		/* A constant k in each copy: the loops over children unroll. */
		switch (k) {
		case 1: return admit_scored(c, 1, n, ok);
		case 2: return admit_scored(c, 2, n, ok);
		case 3: return admit_scored(c, 3, n, ok);
		default: return admit_scored(c, 4, n, ok);
		}
	}
	for (uint32_t j = 0; j < k; j++) {
		c[j].lo = c[j].hi = 0.0;
		if (c[j].scores)
			scoring = 1;
		else if (c[j].n_picks == 0 && c[j].veto) {
			memset(ok, 0, n);
			return 0;
		}
	}
	if (scoring) {
		memset(ok, 1, n);
	} else {
		memset(ok, 0, n);
		for (uint32_t j = 0; j < k; j++)
			for (uint32_t q = 0; q < c[j].n_picks; q++)
				if (c[j].picks[q] < n)
					ok[c[j].picks[q]] = 1;
	}
	apply_vetoes(c, k, n, ok);
	/* Child by child rather than worker by worker: each score array
	 * streams through once, without a branch, and the bounds below stay
	 * in registers. */
	for (uint32_t j = 0; j < k; j++) {
		const double *s = c[j].scores;

		if (s)
			for (uint32_t i = 0; i < n; i++)
				ok[i] &= (uint8_t)usable(s[i]);
	}
	for (uint32_t i = 0; i < n; i++)
		m += ok[i];
	for (uint32_t j = 0; j < k && m > 0; j++)
		if (c[j].scores)
			bounds(c[j].scores, ok, n, &c[j].lo, &c[j].hi);
	return m;
}

double comp_lowest(const double *s, uint32_t n, int *rejects)
{
	double low = 1.0;
	uint32_t i = 0;
	int no = 0;

#if defined(__SSE2__)
	{
		/* Four chains, positions 4q, 4q + 1, 4q + 2 and 4q + 3, so that
		 * no minimum waits for the one before; MINPD selects as the `<`
		 * below does. */
		const __m128d zero = _mm_setzero_pd(), one = _mm_set1_pd(1.0);
		__m128d lo = one, lo2 = one, neg = _mm_setzero_pd();
		double l[2];

		for (; i + 3 < n; i += 4) {
			__m128d v = _mm_loadu_pd(s + i), w = _mm_loadu_pd(s + i + 2);
			__m128d gv = _mm_cmpge_pd(v, zero), gw = _mm_cmpge_pd(w, zero);

			neg = _mm_or_pd(neg, _mm_or_pd(_mm_cmpnge_pd(v, zero), _mm_cmpnge_pd(w, zero)));
			lo = _mm_min_pd(_mm_or_pd(_mm_and_pd(gv, v), _mm_andnot_pd(gv, one)), lo);
			lo2 = _mm_min_pd(_mm_or_pd(_mm_and_pd(gw, w), _mm_andnot_pd(gw, one)), lo2);
		}
		lo = _mm_min_pd(lo2, lo);
		_mm_storel_pd(&l[0], lo);
		_mm_storeh_pd(&l[1], lo);
		low = l[1] < l[0] ? l[1] : l[0];
		no = _mm_movemask_pd(neg) != 0;
		/* Equal minima of the chains are one value, but for a 0 and a
		 * -0: then the first in the array, as one chain finds it. */
		if (low == 0.0)
			i = 0, low = 1.0;
	}
#endif
	for (; i < n; i++) {
		double x = s[i];

		low = x >= 0.0 && x < low ? x : low;
		no |= !(x >= 0.0);
	}
	*rejects = no;
	return low;
}

ELIG_CLONES int comp_any_unfiltered_reject(const double *s, const uint8_t *hard, uint32_t n)
{
	uint32_t i = 0;

#if defined(__SSE2__)
	{
		const __m128d zero = _mm_setzero_pd();

		/* Eight scores a test; the facts are read only for eight
		 * with a rejection, which a completion pass's own scores
		 * never have but for the workers that fail (hard 0). */
		for (; i + 7 < n; i += 8) {
			__m128d n0 = _mm_cmpnge_pd(_mm_loadu_pd(s + i), zero);
			__m128d n1 = _mm_cmpnge_pd(_mm_loadu_pd(s + i + 2), zero);
			__m128d n2 = _mm_cmpnge_pd(_mm_loadu_pd(s + i + 4), zero);
			__m128d n3 = _mm_cmpnge_pd(_mm_loadu_pd(s + i + 6), zero);

			/* With a rejection, the eight facts as a mask of
			 * bytes not 0, against the rejections' bits: no loop
			 * of eight tests for each such block. */
			if (_mm_movemask_pd(_mm_or_pd(_mm_or_pd(n0, n1), _mm_or_pd(n2, n3)))) {
				int no = _mm_movemask_pd(n0) | _mm_movemask_pd(n1) << 2 |
				         _mm_movemask_pd(n2) << 4 | _mm_movemask_pd(n3) << 6;
				int set = ~_mm_movemask_epi8(_mm_cmpeq_epi8(
				        _mm_loadl_epi64((const __m128i *)(const void *)(hard + i)),
				        _mm_setzero_si128())) & 0xff;

				if (no & set)
					return 1;
			}
		}
	}
#endif
	for (; i < n; i++)
		if (!(s[i] >= 0.0) && hard[i])
			return 1;
	return 0;
}

double comp_normalised(const comp_child *c, double raw)
{
	return c->hi > c->lo ? (raw - c->lo) / (c->hi - c->lo) : 1.0;
}

/* Every consulted child scores over a range whose scale (weight / range)
 * is a number: blend_scored's case. */
static int all_ranged(const comp_child *c, uint32_t k)
{
	if (!all_scored(c, k))
		return 0;
	for (uint32_t j = 0; j < k; j++)
		if (!(c[j].hi > c[j].lo && c[j].weight / (c[j].hi - c[j].lo) <= DBL_MAX))
			return 0;
	return 1;
}

/*
 * comp_blend for all_ranged() children in one pass instead of one per
 * child: each worker's terms are added in the children's order from 0, as
 * the passes add them, so each blend is the same sum to the bit.  k is a
 * constant in each inlined copy.
 */
ELIG_INLINE void blend_scored(const comp_child *c, uint32_t k, uint32_t n, double *blend)
{
	const double *s[FUSE_MAX];
	double scale[FUSE_MAX], lo[FUSE_MAX];

	for (uint32_t j = 0; j < k; j++) {
		s[j] = c[j].scores;
		lo[j] = c[j].lo;
		scale[j] = c[j].weight / (c[j].hi - c[j].lo);
	}
	for (uint32_t i = 0; i < n; i++) {
		double b = 0.0 + scale[0] * (s[0][i] - lo[0]);

		for (uint32_t j = 1; j < k; j++)
			b += scale[j] * (s[j][i] - lo[j]);
		blend[i] = b;
	}
}

ELIG_CLONES void comp_blend(const comp_child *c, uint32_t k, uint32_t n,
                            const uint8_t *ok, double *blend)
{
	if (all_ranged(c, k)) {
		switch (k) {
		case 1: blend_scored(c, 1, n, blend); return;
		case 2: blend_scored(c, 2, n, blend); return;
		case 3: blend_scored(c, 3, n, blend); return;
		default: blend_scored(c, 4, n, blend); return;
		}
	}
	/* Every worker is computed, admitted or not, so that the loops have
	 * no branch; what a rejected worker gets is never read.  A first
	 * child that scores writes 0 + its part, the same sum as adding it to
	 * a 0 written first, in one pass instead of two. */
	if (!(k > 0 && c[0].scores && c[0].hi > c[0].lo))
		for (uint32_t i = 0; i < n; i++)
			blend[i] = 0.0;
	for (uint32_t j = 0; j < k; j++) {
		const double *s = c[j].scores;
		double w = c[j].weight;

		if (s && c[j].hi > c[j].lo) {
			/* w x norm, with the division taken out of the loop */
			double range = c[j].hi - c[j].lo, scale = w / range, lo = c[j].lo;

			/* A range of denormals overflows w / range (and an
			 * infinite scale times 0 is NaN): each worker is
			 * normalised first then, as comp_normalised does. */
			if (!(scale <= DBL_MAX))
				for (uint32_t i = 0; i < n; i++)
					blend[i] = (j == 0 ? 0.0 : blend[i]) + w * ((s[i] - lo) / range);
			else if (j == 0)
				for (uint32_t i = 0; i < n; i++)
					blend[i] = 0.0 + scale * (s[i] - lo);
			else
				for (uint32_t i = 0; i < n; i++)
					blend[i] += scale * (s[i] - lo);
		} else if (s) {
			for (uint32_t i = 0; i < n; i++)
				blend[i] += w;
		} else {
			for (uint32_t q = 0; q < c[j].n_picks; q++) {
				uint32_t p = c[j].picks[q];

				if (p < n && ok[p] && !picked_before(&c[j], q))
					blend[p] += w;
			}
		}
	}
}

uint32_t comp_tally(const comp_child *c, uint32_t k, uint32_t n, uint8_t *ok,
                    double *blend)
{
	uint32_t m = 0;

	memset(ok, 0, n);
	for (uint32_t i = 0; i < n; i++)
		blend[i] = 0.0;
	for (uint32_t j = 0; j < k; j++) {
		for (uint32_t q = 0; q < c[j].n_picks; q++) {
			uint32_t p = c[j].picks[q];

			if (p >= n || picked_before(&c[j], q))
				continue;
			blend[p] += c[j].weight;
			if (!ok[p] && blend[p] > 0.0)
				ok[p] = 1;
		}
	}
	apply_vetoes(c, k, n, ok);
	for (uint32_t i = 0; i < n; i++)
		m += ok[i];
	return m;
}

static inline int worker_ok(const lbs_worker *w)
{
	return w && w->struct_size >= LBS_WORKER_SIZE_V1_0 && w->id;
}

static inline double eload_of(const lbs_worker *w)
{
	return elig_effective_load(w, elig_load(w));
}

/* The ranking rule: does candidate a come before candidate b? */
static inline int before(const double *blend, const double *eload, int by_load,
                         uint32_t a, uint32_t b)
{
	if (blend[a] > blend[b] + COMP_TIE_EPS)
		return 1;
	if (blend[a] < blend[b] - COMP_TIE_EPS)
		return 0;
	if (by_load && eload[a] != eload[b])
		return eload[a] < eload[b];
	return a < b;
}

/* Merge sort: stable and safe whatever the comparator makes of near-ties
 * (qsort is neither). */
static void sort(const double *blend, const double *eload, int by_load,
                 uint32_t *a, uint32_t *tmp, uint32_t n)
{
	uint32_t h = n / 2, i = 0, j = h, k = 0;

	if (n < 2)
		return;
	sort(blend, eload, by_load, a, tmp, h);
	sort(blend, eload, by_load, a + h, tmp, n - h);
	while (i < h && j < n)
		tmp[k++] = before(blend, eload, by_load, a[j], a[i]) ? a[j++] : a[i++];
	while (i < h)
		tmp[k++] = a[i++];
	while (j < n)
		tmp[k++] = a[j++];
	memcpy(a, tmp, (size_t)n * sizeof(*a));
}

lbs_status comp_rank(const lbs_worker *const *workers, uint32_t n,
                     const uint8_t *ok, const double *blend, int by_load,
                     uint32_t *order, uint32_t *tmp, double *eload,
                     uint32_t *m)
{
	*m = 0;
	for (uint32_t i = 0; i < n; i++) {
		if (!ok[i])
			continue;
		if (!worker_ok(workers[i]))
			return LBS_EINVAL;
		if (by_load)
			eload[i] = eload_of(workers[i]);
		order[(*m)++] = i;
	}
	sort(blend, eload, by_load, order, tmp, *m);
	return LBS_OK;
}

lbs_status comp_best_few(const lbs_worker *const *workers, uint32_t n,
                         const uint8_t *ok, const double *blend, int by_load,
                         uint32_t k, uint32_t *top, double *eload, uint32_t *m)
{
	*m = 0;
	for (uint32_t i = 0; i < n && k > 0; i++) {
		uint32_t j;

		if (!ok[i])
			continue;
		if (!worker_ok(workers[i]))
			return LBS_EINVAL;
		if (by_load)
			eload[i] = eload_of(workers[i]);
		/* i comes after every earlier one on a tie: an insertion from
		 * the back keeps the order the merge sort gives. */
		if (*m == k && !before(blend, eload, by_load, i, top[k - 1]))
			continue;
		j = *m < k ? (*m)++ : k - 1;
		while (j > 0 && before(blend, eload, by_load, i, top[j - 1])) {
			top[j] = top[j - 1];
			j--;
		}
		top[j] = i;
	}
	return LBS_OK;
}

/* Passes the hard requirements; load is left to the children. */
static inline int hard_ok(const lbs_workload *wl, const lbs_worker *w)
{
	double load;

	return elig_pass(wl, w, 1.0, &load);
}

#define SKIP_BLOCK 8

/* Is every one of the SKIP_BLOCK values below `cut`?  (A NaN is not.) */
static inline int all_below(const double *v, double cut)
{
#if defined(__SSE2__)
	const __m128d c = _mm_set1_pd(cut);
	__m128d no = _mm_cmpnlt_pd(_mm_loadu_pd(v), c);

	no = _mm_or_pd(no, _mm_cmpnlt_pd(_mm_loadu_pd(v + 2), c));
	no = _mm_or_pd(no, _mm_cmpnlt_pd(_mm_loadu_pd(v + 4), c));
	no = _mm_or_pd(no, _mm_cmpnlt_pd(_mm_loadu_pd(v + 6), c));
	return _mm_movemask_pd(no) == 0;
#else
	int below = 1;

	for (int q = 0; q < SKIP_BLOCK; q++)
		below &= v[q] < cut;
	return below;
#endif
}

/* The best candidate by the ranking rule in one pass; effective loads are
 * computed only for ties, which are rare when anyone scores. */
ELIG_CLONES static lbs_status best_one(const lbs_worker *const *workers, uint32_t n,
                                       const uint8_t *ok, const double *blend,
                                       int by_load, uint32_t *out)
{
	uint32_t best = NONE;
	double best_load = 0.0;
	int have_load = 0;

	for (uint32_t i = 0; i < n; i++) {
		double li;

		/* A block of workers all below the best by more than the tie
		 * margin would each `continue` below: skipped whole. */
		if (best != NONE && i % SKIP_BLOCK == 0 && i + SKIP_BLOCK <= n &&
		    all_below(blend + i, blend[best] - COMP_TIE_EPS)) {
			i += SKIP_BLOCK - 1;
			continue;
		}
		if (!ok[i])
			continue;
		if (best == NONE || blend[i] > blend[best] + COMP_TIE_EPS) {
			best = i;
			have_load = 0;
			continue;
		}
		if (!by_load || blend[i] < blend[best] - COMP_TIE_EPS)
			continue;
		if (!worker_ok(workers[i]) || !worker_ok(workers[best]))
			return LBS_EINVAL;
		if (!have_load) {
			best_load = eload_of(workers[best]);
			have_load = 1;
		}
		li = eload_of(workers[i]);
		if (li < best_load) {
			best = i;
			best_load = li;
		}
	}
	*out = best;
	return LBS_OK;
}

lbs_status comp_choose(const lbs_workload *wl, const lbs_worker *const *workers,
                       uint32_t n, uint8_t *ok, const double *blend,
                       int by_load, uint32_t want, uint32_t *idx,
                       uint32_t *order, uint32_t *tmp, double *eload,
                       uint32_t *n_found)
{
	uint32_t m, best;
	lbs_status st;

	*n_found = 0;
	if (want == 0)
		return LBS_OK;
	if (want > 1) {
		st = comp_rank(workers, n, ok, blend, by_load, order, tmp, eload, &m);
		for (uint32_t r = 0; st == LBS_OK && r < m && *n_found < want; r++) {
			if (hard_ok(wl, workers[order[r]]))
				idx[(*n_found)++] = order[r];
			else
				ok[order[r]] = 0;
		}
		return st;
	}
	st = best_one(workers, n, ok, blend, by_load, &best);
	if (st != LBS_OK || best == NONE)
		return st;
	if (!worker_ok(workers[best]))
		return LBS_EINVAL;
	if (!hard_ok(wl, workers[best])) {
		/* The children let through a worker the hard filter refuses
		 * (a third-party child that does not filter).  One pass drops
		 * every such worker, so this happens at most once. */
		for (uint32_t i = 0; i < n; i++) {
			if (!ok[i])
				continue;
			if (!worker_ok(workers[i]))
				return LBS_EINVAL;
			if (!hard_ok(wl, workers[i]))
				ok[i] = 0;
		}
		st = best_one(workers, n, ok, blend, by_load, &best);
		if (st != LBS_OK || best == NONE)
			return st;
	}
	idx[0] = best;
	*n_found = 1;
	return LBS_OK;
}

/* Adds p to this decision's set; 0 when it was there already. */
static int first_time(comp_seen *seen, uint32_t p)
{
	uint64_t mine = (uint64_t)seen->stamp << 32 | p;
	/* Fibonacci hashing: drawn positions are uniform, kept ones are not
	 * far apart. */
	uint32_t h = (uint32_t)(((uint64_t)p * UINT64_C(0x9E3779B97F4A7C15)) >> 32);

	for (;; h++) {
		uint64_t *e = &seen->slot[h & seen->mask];

		if (*e == mine)
			return 0;
		if ((uint32_t)(*e >> 32) != seen->stamp) {
			*e = mine;
			return 1;
		}
	}
}

uint32_t comp_sample(uint64_t *rng, const uint32_t *kept, uint32_t n_kept,
                     uint32_t n, uint32_t k, uint32_t *pos, comp_seen *seen)
{
	uint32_t m = 0;

	if (++seen->stamp == 0) {
		/* Once in 2^32 decisions: no entry may look current. */
		memset(seen->slot, 0, ((size_t)seen->mask + 1) * sizeof(*seen->slot));
		seen->stamp = 1;
	}
	for (uint32_t q = 0; q < n_kept; q++)
		if (kept[q] < n && first_time(seen, kept[q]))
			pos[m++] = kept[q];
	/* A repeat is dropped rather than drawn again: a draw per slot keeps
	 * the cost fixed. */
	for (uint32_t q = 0; q < k; q++) {
		/* Lemire's multiply-shift, as hardware-aware draws. */
		uint32_t p = (uint32_t)(((prio_rand_next(rng) >> 32) * n) >> 32);

		if (first_time(seen, p))
			pos[m++] = p;
	}
	return m;
}

int32_t comp_route_find(const comp_route *r, uint32_t n, const char *test_type)
{
	int32_t best = -1;
	size_t best_len = 0;

	if (!test_type)
		return -1;
	for (uint32_t i = 0; i < n; i++) {
		size_t len;

		if (!r[i].prefix) {
			if (strcmp(r[i].match, test_type) == 0)
				return (int32_t)i;
			continue;
		}
		len = strlen(r[i].match);
		if (len > best_len && strncmp(r[i].match, test_type, len) == 0) {
			best = (int32_t)i;
			best_len = len;
		}
	}
	return best;
}

int32_t comp_route_repeat(const comp_route *r, uint32_t n)
{
	for (uint32_t j = 0; j + 1 < n; j++)
		if (!r[n - 1].prefix == !r[j].prefix && strcmp(r[n - 1].match, r[j].match) == 0)
			return (int32_t)(n - 1);
	return -1;
}
