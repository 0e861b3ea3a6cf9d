/*
 * eligible.h -- the hard filter every scheduler shares, and the load figure.
 *
 * A worker is eligible for a workload when it is not excluded, it is not
 * over the load ceiling, it has every required accelerator free of
 * reservations, and at least one of its devices passes every device
 * requirement (backends by bit and by name, precisions, features, memory,
 * compute units).  No I/O, no allocation.
 */
#ifndef LBS_ELIGIBLE_H
#define LBS_ELIGIBLE_H

#include <math.h>
#include <stdint.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <lbsched/abi.h>

/* Why a worker was rejected, in the order the checks run. */
enum elig_reason {
	ELIG_OK = 0,
	ELIG_EXCLUDED,    /* in the workload's exclude list */
	ELIG_NO_DEVICE,   /* the worker has no (usable) devices */
	ELIG_BACKEND,     /* no device has every required backend (bit or name) */
	ELIG_PRECISION,   /* ... every required precision */
	ELIG_FEATURE,     /* ... every required feature */
	ELIG_MEMORY,      /* ... enough free memory */
	ELIG_COMPUTE,     /* ... enough compute units */
	ELIG_ACCEL,       /* the worker lacks a required count of free accelerators */
	ELIG_OVERLOADED   /* load above the ceiling */
};

/*
 * Check one worker.  `ceiling` is the load above which a worker takes no
 * more work (default 0.9; the load is at most 1, so >= 1 disables the
 * check).  When `device_mask` is not NULL it receives bit i set for each
 * device i (i < 64) that passes the device requirements (0 when the device
 * checks did not run); asking for it makes every device be checked, without
 * it the loop stops at the first device that passes.  Returns ELIG_OK or the
 * reason of the check that failed; for device checks, the furthest check any
 * device reached.
 *
 * A requirement holding an OTHER bit (a name nobody could parse) is never
 * met.  NULL devices and devices smaller than LBS_DEVICE_SIZE_V1_0 are
 * skipped; a worker with none left is ELIG_NO_DEVICE.  Accelerator kinds
 * compare case-sensitively; a kind listed twice by the worker adds up.
 * The ABI 1.1 fields are read only where LBS_HAS_FIELD finds them: a
 * required backend name (byte for byte, the ABI's case rule) must be in
 * backend_names of the device that meets the other device requirements, a
 * device from a 1.0 writer has no names; accelerators reserved
 * (accel_reserved) are not free, a 1.0 writer reserves none.
 * wl and w must be valid: struct sizes checked, and no array NULL while
 * its count is not (the schedulers reject those with LBS_EINVAL).
 */
enum elig_reason elig_check(const lbs_workload *wl, const lbs_worker *w,
                            double ceiling, uint64_t *device_mask);

/* A plain-words sentence fragment for a reason, e.g. "lacks a required
 * backend".  Static string. */
const char *elig_reason_text(enum elig_reason r);

/* Accelerators of `kind` free on w: its count less what accel_reserved
 * (ABI 1.1) promises to running work, never below 0; kinds listed twice
 * add up. */
uint64_t elig_accel_free(const lbs_worker *w, const char *kind);

/*
 * Hold wl's memory and accelerators on w, as a placement there does (a
 * host's, not the plugin's): reserved_memory_bytes grows by its
 * min_memory_bytes (at most UINT64_MAX), and res, w->n_accels counts of
 * what is reserved so far, takes each required accelerator from those
 * free, duplicate kinds adding up as elig_accel_free counts them.  res NULL
 * holds the memory alone.  The caller points w->accel_reserved at res.
 */
void elig_hold(const lbs_workload *wl, lbs_worker *w, uint32_t *res);

/* The first name of the workload's required_backend_names that no usable
 * device of w has, or NULL (also for a 1.0 workload). */
const char *elig_missing_name(const lbs_workload *wl, const lbs_worker *w);

/* True when `id` is in the workload's exclude list. */
int elig_is_excluded(const lbs_workload *wl, const char *id);

/*
 * Load of a worker, 0..1: 0.3 cpu + 0.3 memory + 0.2 gpu + 0.1 io + 0.1
 * network, each clamped to 0..1 (NaN counts as 1, a sick worker).
 */
double worker_load(const lbs_worker *w);

/*
 * Effective load: the load plus the throughput lost while warming or
 * cooling, (1 - performance_level), capped at 1.
 */
double worker_effective_load(const lbs_worker *w);

/* The same from a load already computed with worker_load(w), for loops
 * that need both figures per worker. */
double worker_effective_load_of(const lbs_worker *w, double load);

/* ---- Inline fast path for scan loops ------------------------------------
 * A call per worker costs more than the checks themselves, so loops over
 * every worker of a select use elig_pass(), which inlines the common case
 * (no exclude list, no accelerator, backend name or OTHER requirement) and
 * falls back to elig_check() otherwise.  elig_pass(...) is exactly
 * elig_check(wl, w, ceiling, NULL) == ELIG_OK, and hands back the load. */

#if defined(__GNUC__)
#define ELIG_INLINE static inline __attribute__((always_inline))
#define ELIG_LIKELY(x) __builtin_expect(!!(x), 1)
#define ELIG_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define ELIG_INLINE static inline
#define ELIG_LIKELY(x) (x)
#define ELIG_UNLIKELY(x) (x)
#endif

/*
 * A pass over every worker of a blended select, compiled twice: for AVX2
 * and for the baseline, the loader picking one for the CPU (an ifunc).
 * The AVX2 copy's three-operand (VEX) forms drop the register copies that
 * SSE2's two-operand forms cost before nearly every min, max, multiply
 * and compare; the completion pass runs 8 % fewer instructions there.  The
 * same IEEE operations on the same values in the same order, so the same
 * bits: AVX2 brings no FMA (and -std=c11 leaves contraction off), and a
 * packed operation rounds each lane as the scalar one does.  GCC on ELF
 * only, where target_clones has its resolver; -DELIG_NO_CLONES builds the
 * baseline alone, so that the tests can hold it to the same bits on an
 * AVX2 machine.  Not under ThreadSanitizer: the loader runs a resolver
 * while it relocates, before TSan's runtime is up, and TSan instruments
 * the resolver too (lbsched-shim, which links these passes, crashed at
 * start).
 */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__ELF__) && \
        !defined(ELIG_NO_CLONES) && !defined(__SANITIZE_THREAD__)
#define ELIG_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define ELIG_CLONES
#endif

/* A pass with an AVX2 copy of its own, chosen at run time
 * (__builtin_cpu_supports), for the lanes target_clones cannot give: the
 * helpers below.  -DELIG_NO_CLONES leaves the baseline alone here too, so
 * that the tests hold it to the same picks on an AVX2 machine. */
#if defined(__GNUC__) && defined(__x86_64__) && defined(__ELF__) && !defined(ELIG_NO_CLONES)
#define ELIG_AVX2 1
#include <immintrin.h>
#endif

/*
 * Four lanes of doubles for the passes over every worker (GCC's vector
 * extensions: one YMM register in the AVX2 copy of an ELIG_CLONES pass,
 * two XMM in the baseline one, scalar elsewhere).  Each lane is rounded
 * as the scalar operation is, so a lane-wise copy of a scalar formula
 * gives its bits.  Selections are macros and helpers take pointers, not
 * vector arguments or results, whose passing would differ between the
 * two copies (-Wpsabi).  GCC only: clang spells __builtin_shuffle
 * otherwise, and takes the scalar loops.
 */
#if defined(__GNUC__) && !defined(__clang__)
#define ELIG_V4 1

typedef double v4d __attribute__((vector_size(32)));
typedef long long v4m __attribute__((vector_size(32)));
typedef uint64_t v4q __attribute__((vector_size(32)));
typedef uint32_t v4u __attribute__((vector_size(16)));
typedef int32_t v4i __attribute__((vector_size(16)));

/* m ? a : b lane by lane (m all ones or all zeros in each lane). */
#define V4_SEL(m, a, b) ((v4d)(((v4m)(a) & (m)) | ((v4m)(b) & ~(m))))

/* Four integers below 2^52 as doubles, exactly: 2^52 + x is x in the low
 * bits of 2^52's double, and the subtraction leaves x. */
ELIG_INLINE void elig_v4_exact(v4d *out, v4q x)
{
	const v4q bits = {UINT64_C(0x4330000000000000), UINT64_C(0x4330000000000000),
	                  UINT64_C(0x4330000000000000), UINT64_C(0x4330000000000000)};
	const v4d two52 = {0x1p52, 0x1p52, 0x1p52, 0x1p52};

	*out = (v4d)(x | bits) - two52;
}

/* The lanes whose thermal state is WARMING or COOLING, as a mask. */
ELIG_INLINE void elig_v4_throttled(v4m *out, v4u state)
{
	*out = __builtin_convertvector((v4i)((state == LBS_THERMAL_WARMING) |
	                                     (state == LBS_THERMAL_COOLING)), v4m);
}
#endif

/* Clamp to 0..1; NaN -> `nan_as`.  Inline: every select's workload
 * context clamps its intensities, and the call cost more than the
 * clamp. */
ELIG_INLINE double clamp01(double x, double nan_as)
{
	if (x != x)
		return nan_as;
	if (x < 0.0)
		return 0.0;
	if (x > 1.0)
		return 1.0;
	return x;
}

/* A learned mean latency (s) as a time score against its type's
 * reference (ln s, lbs_latency_ref_fn): 0.5 at the reference, 1 at a
 * quarter of it, 0 at four times it, on a log scale.  For work that
 * states no duration, so that speed still ranks (priority, performance). */
ELIG_INLINE double latency_time(double ref_log_s, double mean_s)
{
	return clamp01(0.5 + (ref_log_s - log(mean_s)) / (2.0 * log(4.0)), 0.5);
}

/* clamp01(x, 1) without the separate NaN test: NaN fails `x < 1` and
 * becomes 1.  On SSE2, MINSD and MAXSD are exactly these two selections
 * (a < b ? a : b, a > b ? a : b, NaN and signed zeros included); written
 * as ?:, GCC folds the 0.3 of elig_load into each branch and jumps away
 * and back for every figure of every worker. */
ELIG_INLINE double elig_busy01(double x)
{
#if defined(__SSE2__)
	__m128d v = _mm_min_sd(_mm_set_sd(x), _mm_set_sd(1.0));

	return _mm_cvtsd_f64(_mm_max_sd(v, _mm_setzero_pd()));
#else
	x = x < 1.0 ? x : 1.0;
	return x > 0.0 ? x : 0.0;
#endif
}

/* worker_load(), inline.  With SSE2 the five figures (adjacent in the ABI's
 * struct, offsets 24 to 56) are clamped and weighed two to an
 * instruction, each lane as elig_busy01() and the products as below, then
 * added in the same order: the same bits in 20 instructions instead of
 * 25, on every worker of a blend's completion pass. */
ELIG_INLINE double elig_load(const lbs_worker *w)
{
#if defined(__SSE2__)
	const __m128d one = _mm_set1_pd(1.0), zero = _mm_setzero_pd();
	__m128d cm = _mm_loadu_pd(&w->util_cpu), gi = _mm_loadu_pd(&w->util_gpu);
	__m128d ne = _mm_load_sd(&w->util_network);

	cm = _mm_mul_pd(_mm_max_pd(_mm_min_pd(cm, one), zero), _mm_set1_pd(0.3));
	gi = _mm_mul_pd(_mm_max_pd(_mm_min_pd(gi, one), zero), _mm_set_pd(0.1, 0.2));
	ne = _mm_mul_sd(_mm_max_sd(_mm_min_sd(ne, one), zero), _mm_set_sd(0.1));
	cm = _mm_add_sd(cm, _mm_unpackhi_pd(cm, cm));
	cm = _mm_add_sd(cm, gi);
	cm = _mm_add_sd(cm, _mm_unpackhi_pd(gi, gi));
	return _mm_cvtsd_f64(_mm_add_sd(cm, ne));
#else
	return 0.3 * elig_busy01(w->util_cpu) + 0.3 * elig_busy01(w->util_memory) +
	       0.2 * elig_busy01(w->util_gpu) + 0.1 * elig_busy01(w->util_io) +
	       0.1 * elig_busy01(w->util_network);
#endif
}

/* The memory of device d free for new work: reservations are promised to
 * running work, so they are not free even when the device still reports
 * them available. */
ELIG_INLINE uint64_t elig_free_of(uint64_t available, uint64_t reserved)
{
	return available > reserved ? available - reserved : 0;
}

ELIG_INLINE uint64_t elig_free_memory(const lbs_worker *w, const lbs_device *d)
{
	return elig_free_of(d->mem_available_bytes, w->reserved_memory_bytes);
}

/* Device d (valid, at least LBS_DEVICE_SIZE_V1_0) meets every device
 * requirement.  Branch-free; requirements with an OTHER bit must not be
 * checked with it (they are never met). */
ELIG_INLINE int elig_device_ok(const lbs_workload *wl, const lbs_worker *w,
                               const lbs_device *d)
{
	uint64_t avail = elig_free_memory(w, d);

	return ((d->backends & wl->required_backends) == wl->required_backends) &
	       ((d->precisions & wl->required_precisions) == wl->required_precisions) &
	       ((d->features & wl->required_features) == wl->required_features) &
	       (avail >= wl->min_memory_bytes) &
	       (d->compute_units >= wl->min_compute_units);
}

/* True when the workload's device requirements are memory alone: no
 * backend, precision or feature bit and no compute units.  elig_device_ok
 * is then its memory test, and a loop specialised on this runs that alone
 * (elig_pass_simple_as). */
ELIG_INLINE int elig_memory_only(const lbs_workload *wl)
{
	return (wl->required_backends | wl->required_precisions | wl->required_features |
	        wl->min_compute_units) == 0;
}

/* Backend names the workload requires (ABI 1.1); 0 from a 1.0 writer,
 * whose struct ends before the field. */
ELIG_INLINE uint32_t elig_n_names(const lbs_workload *wl)
{
	return LBS_HAS_FIELD(wl, lbs_workload, n_required_backend_names)
	       ? wl->n_required_backend_names : 0;
}

/* True when the workload has requirements only elig_check() handles. */
ELIG_INLINE int elig_needs_full(const lbs_workload *wl)
{
	return (wl->n_exclude | wl->n_required_accels | elig_n_names(wl)) != 0 ||
	       ((wl->required_backends & LBS_BACKEND_OTHER) |
	        (wl->required_precisions & LBS_PREC_OTHER) |
	        (wl->required_features & LBS_FEAT_OTHER)) != 0;
}

/* worker_effective_load_of(), inline. */
ELIG_INLINE double elig_effective_load(const lbs_worker *w, double load)
{
	if (w->thermal_state == LBS_THERMAL_WARMING ||
	    w->thermal_state == LBS_THERMAL_COOLING) {
		/* An unreadable performance level is taken as 0 (no spare
		 * throughput), for the same reason NaN load counts as busy. */
		double perf = w->performance_level;

		perf = perf > 0.0 ? perf : 0.0; /* NaN -> 0 */
		perf = perf < 1.0 ? perf : 1.0;
		load += 1.0 - perf;
		load = load < 1.0 ? load : 1.0;
	}
	return load;
}

#ifdef ELIG_AVX2
/*
 * elig_load() of the four workers w[0..3], lane j for w[j], for a pass
 * with an AVX2 copy: the same clamps (VMINPD and VMAXPD select as MINSD
 * and MAXSD, so NaN goes where the scalar code sends it), the same weights
 * and the same order of additions, so each lane holds the scalar bits.
 * util_cpu, _memory, _gpu and _io are adjacent, as elig_load() reads them:
 * four rows, turned into four columns.  Out through a pointer, as vector
 * results would change the calling convention between copies (-Wpsabi).
 */
ELIG_INLINE __attribute__((target("avx2"))) void elig_load_avx2(const lbs_worker *const *w,
                                                                __m256d *out)
{
	const __m256d one = _mm256_set1_pd(1.0), zero = _mm256_setzero_pd();
	__m256d r0 = _mm256_loadu_pd(&w[0]->util_cpu), r1 = _mm256_loadu_pd(&w[1]->util_cpu);
	__m256d r2 = _mm256_loadu_pd(&w[2]->util_cpu), r3 = _mm256_loadu_pd(&w[3]->util_cpu);
	__m256d t0 = _mm256_unpacklo_pd(r0, r1); /* cpu0 cpu1 gpu0 gpu1 */
	__m256d t1 = _mm256_unpackhi_pd(r0, r1); /* mem0 mem1 io0 io1 */
	__m256d t2 = _mm256_unpacklo_pd(r2, r3), t3 = _mm256_unpackhi_pd(r2, r3);
	__m256d f[5];
	static const double weight[5] = {0.3, 0.3, 0.2, 0.1, 0.1};

	f[0] = _mm256_permute2f128_pd(t0, t2, 0x20); /* cpu */
	f[1] = _mm256_permute2f128_pd(t1, t3, 0x20); /* memory */
	f[2] = _mm256_permute2f128_pd(t0, t2, 0x31); /* gpu */
	f[3] = _mm256_permute2f128_pd(t1, t3, 0x31); /* io */
	f[4] = _mm256_set_pd(w[3]->util_network, w[2]->util_network, w[1]->util_network,
	                     w[0]->util_network);
	for (int k = 0; k < 5; k++)
		f[k] = _mm256_mul_pd(_mm256_max_pd(_mm256_min_pd(f[k], one), zero),
		                     _mm256_set1_pd(weight[k]));
	*out = _mm256_add_pd(_mm256_add_pd(_mm256_add_pd(_mm256_add_pd(f[0], f[1]), f[2]), f[3]),
	                     f[4]);
}

/* thermal_state, capacity and performance_level: 16 bytes of the ABI's
 * struct that elig_effective_load_avx2 reads as one, thermal_state in the
 * low half of the first 64-bit lane (x86 is little-endian). */
#define ELIG_THERMAL_PERF offsetof(lbs_worker, thermal_state)
_Static_assert(offsetof(lbs_worker, performance_level) == ELIG_THERMAL_PERF + 8,
               "elig_effective_load_avx2 reads thermal_state and performance_level as one");

/* elig_effective_load() of w[0..3] and their elig_load_avx2() `load`, lane
 * by lane with the same operations: the performance level's clamps and
 * the sum's, kept where warming or cooling. */
ELIG_INLINE __attribute__((target("avx2"))) void
elig_effective_load_avx2(const lbs_worker *const *w, __m256d load, __m256d *out)
{
	const __m256d one = _mm256_set1_pd(1.0), zero = _mm256_setzero_pd();
	const __m256i low = _mm256_set1_epi64x(0xffffffff);
	__m256d r0, r1, perf, el;
	__m256i ts;

#define ELIG_TP(k) _mm_loadu_pd((const double *)(const void *)((const char *)w[k] + \
	                                                            ELIG_THERMAL_PERF))
	r0 = _mm256_insertf128_pd(_mm256_castpd128_pd256(ELIG_TP(0)), ELIG_TP(2), 1);
	r1 = _mm256_insertf128_pd(_mm256_castpd128_pd256(ELIG_TP(1)), ELIG_TP(3), 1);
#undef ELIG_TP
	/* lanes 0 1 2 3 = workers 0 1 2 3 */
	perf = _mm256_unpackhi_pd(r0, r1);
	ts = _mm256_and_si256(_mm256_castpd_si256(_mm256_unpacklo_pd(r0, r1)), low);
	ts = _mm256_or_si256(_mm256_cmpeq_epi64(ts, _mm256_set1_epi64x(LBS_THERMAL_WARMING)),
	                     _mm256_cmpeq_epi64(ts, _mm256_set1_epi64x(LBS_THERMAL_COOLING)));
	perf = _mm256_min_pd(_mm256_max_pd(perf, zero), one);
	el = _mm256_min_pd(_mm256_add_pd(load, _mm256_sub_pd(one, perf)), one);
	*out = _mm256_blendv_pd(load, el, _mm256_castsi256_pd(ts));
}
#endif

/* The load the ceiling bars a worker above: a ceiling of 1 or more (or
 * NaN) bars nobody, so none is above it.  !(load > elig_load_limit(c)) is
 * !(c < 1 && load > c), with the first test a constant of any loop. */
ELIG_INLINE double elig_load_limit(double ceiling)
{
	return ceiling < 1.0 ? ceiling : INFINITY;
}

/* The device part of elig_pass_simple_as: some device of w meets every
 * device requirement.  Alone, it is elig_check's verdict with no ceiling
 * (for a workload elig_needs_full() is false of), without the load. */
ELIG_INLINE int elig_devices_pass_as(int memory_only, const lbs_workload *wl,
                                     const lbs_worker *w)
{
	uint64_t need = 0;

	if (!w->devices)
		return 0;
	/* Memory alone: elig_free_memory(w, d) >= min is available >=
	 * reserved + min (any available passes a min of 0; a sum past
	 * 2^64 - 1 is more than any device has free), one compare a device
	 * and two fewer registers in the loops built on it. */
	if (memory_only && wl->min_memory_bytes) {
		need = w->reserved_memory_bytes + wl->min_memory_bytes;
		if (need < wl->min_memory_bytes)
			return 0;
	}
	/* Most workers a scan reads have a device that meets the work: laid
	 * out as the loops' straight path, they take no jump out and back. */
	for (uint32_t i = 0; i < w->n_devices; i++) {
		const lbs_device *d = w->devices[i];

		if (!d || d->struct_size < LBS_DEVICE_SIZE_V1_0)
			continue;
		if (ELIG_LIKELY(memory_only ? d->mem_available_bytes >= need
		                            : elig_device_ok(wl, w, d)))
			return 1;
	}
	return 0;
}

/* elig_pass() for a workload that elig_needs_full() is false of.  It
 * calls nothing, so a loop built on it can keep the workload's fields in
 * registers: a call (elig_check) may write any memory, and every worker
 * would read them again.  memory_only must be elig_memory_only(wl); a
 * constant 1 in a loop specialised on it leaves the devices' memory test
 * alone (and frees the registers of the masks). */
ELIG_INLINE int elig_pass_simple_as(int memory_only, const lbs_workload *wl,
                                    const lbs_worker *w, double ceiling, double *load)
{
	if (!elig_devices_pass_as(memory_only, wl, w))
		return 0;
	*load = elig_load(w);
	return !(*load > elig_load_limit(ceiling));
}

ELIG_INLINE int elig_pass_simple(const lbs_workload *wl, const lbs_worker *w,
                                 double ceiling, double *load)
{
	return elig_pass_simple_as(0, wl, w, ceiling, load);
}

/* elig_check(wl, w, ceiling, NULL) == ELIG_OK; *load gets worker_load(w)
 * when the worker passes. */
ELIG_INLINE int elig_pass(const lbs_workload *wl, const lbs_worker *w,
                          double ceiling, double *load)
{
	if (!elig_needs_full(wl))
		return elig_pass_simple(wl, w, ceiling, load);
	if (elig_check(wl, w, 1.0, NULL) != ELIG_OK)
		return 0;
	*load = elig_load(w);
	return !(*load > elig_load_limit(ceiling));
}

/* elig_pass() for the worker at position i when the caller may already know
 * the hard filter (no ceiling) of this workload: hard[i] 1 passes, 0 fails,
 * 2 unknown; hard NULL knows nothing.  known_load, when not NULL, has
 * elig_load() of every worker that passes.  Only the ceiling is left to
 * check, as elig_pass ends. */
ELIG_INLINE int elig_pass_known(const lbs_workload *wl, const lbs_worker *w,
                                const uint8_t *hard, const double *known_load, uint32_t i,
                                double ceiling, double *load)
{
	if (!hard || hard[i] == 2)
		return elig_pass(wl, w, ceiling, load);
	if (!hard[i])
		return 0;
	*load = known_load ? known_load[i] : elig_load(w);
	return !(*load > elig_load_limit(ceiling));
}

#endif
