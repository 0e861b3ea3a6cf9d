/*
 * hwaware.c -- efficiency score, load and thermal adjustment, learned
 * blend, and the choice of one or several workers; see hwaware.h.
 *
 * select() runs per request over every worker, so the per-device work is
 * kept to a throughput read from a table built at create (class base x
 * specialisations for each kind of work), a few multiplies and one
 * division; everything that depends only on the workload is computed once
 * per call (hw_ctx); and most workers are dropped on bounds before the hard
 * filter runs (screen()).
 */
#include "hwaware.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* select, score and explain compute each score in separate inlined copies
 * of the same code; fused multiply-adds in one copy and not another would
 * let them disagree in the last bit. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

#define GIB 1073741824.0
/* R of the energy term: a device doing 0.5 core-equivalents per watt is
 * halfway to ideal.  A server CPU core is ~0.1 per watt, a data-centre GPU
 * ~1, an NPU several. */
#define ENERGY_REF 0.5
/* Columns of a coefficient row: class x tensor cores x quantization. */
#define ROW (LBS_CLASS_COUNT * 4)
#define NONE UINT32_MAX

/* The per-worker and per-device steps are called from the select, score
 * and explain loops; inlining them into each keeps the select loop free of
 * calls (and lets the explain-only work drop out of it). */
#if defined(__GNUC__)
#define HOT static inline __attribute__((always_inline))
#else
#define HOT static inline
#endif

/* Per compute unit, in CPU-core equivalents at the reference clock. */
static const double per_unit[LBS_CLASS_COUNT] = {
	[LBS_CLASS_UNKNOWN] = 1.0, [LBS_CLASS_CPU] = 1.0,  [LBS_CLASS_GPU] = 2.0,
	[LBS_CLASS_TPU] = 12.0,    [LBS_CLASS_NPU] = 4.0,  [LBS_CLASS_DSP] = 2.0,
	[LBS_CLASS_FPGA] = 4.0,    [LBS_CLASS_ASIC] = 8.0, [LBS_CLASS_HYBRID] = 1.5,
};

/* Reference clocks in MHz, as reciprocals: a multiply on the hot path. */
static const double inv_ref_clock[LBS_CLASS_COUNT] = {
	[LBS_CLASS_UNKNOWN] = 1.0 / 1000, [LBS_CLASS_CPU] = 1.0 / 2500,
	[LBS_CLASS_GPU] = 1.0 / 1500,     [LBS_CLASS_TPU] = 1.0 / 1000,
	[LBS_CLASS_NPU] = 1.0 / 800,      [LBS_CLASS_DSP] = 1.0 / 1000,
	[LBS_CLASS_FPGA] = 1.0 / 1000,    [LBS_CLASS_ASIC] = 1.0 / 1000,
	[LBS_CLASS_HYBRID] = 1.0 / 1000,
};

/* An entry of the best-k list of a multi-worker select. */
typedef struct hw_top {
	uint32_t idx;
	double score;
	double load;
} hw_top;

/* The learned preferences of the worker at one array position, per
 * workload type, for a generation of the store (hw_remember).  The id is
 * kept as text as well as pointer: a pointer alone proves nothing once a
 * host has freed its fleet and reused the memory.  Ids longer than
 * MEMO_ID - 1 are not remembered. */
#define MEMO_ID 24

typedef struct hw_memo {
	uint64_t gen;       /* 0: empty */
	const char *id;     /* the id pointer the preferences are for */
	uint32_t known;     /* bit t: pref[t] is set */
	char text[MEMO_ID]; /* the id */
	double pref[LBS_WL_COUNT];
} hw_memo;

_Static_assert(LBS_WL_COUNT <= 32, "hw_memo.known has a bit per workload type");

struct hw_state {
	hw_params p;
	/* Per-unit throughput x specialisations:
	 * [workload type][quantised work][large work][class, tc, quant]. */
	double coef[LBS_WL_COUNT][2][2][ROW];
	hw_top *top;   /* scratch of select_many; grows with the fleet */
	uint32_t n_top;
	uint32_t hint[LBS_WL_COUNT]; /* last single choice per workload type */
	uint64_t gen;  /* hw_remember's promise; 0: none */
	hw_memo *memo; /* per worker position, n_memo of them */
	uint32_t n_memo;
};

/* What depends only on the workload, for one call. */
typedef struct hw_ctx {
	const lbs_workload *wl;
	const double *coef;
	double a, b, c, e;  /* term weights, intensities applied */
	double inv_sum;     /* 1 / (a + b + c + e); 0 when that is 0 */
	double c_neutral;   /* c x 0.5, the preference term when none is set */
	double eff_ub;      /* no device's efficiency exceeds this */
	double keep_ub;     /* keep x eff_ub */
	int no_weight;      /* every term weighs 0: efficiency is neutral */
	int full;           /* the hard filter needs elig_check (elig_needs_full) */
	double k;           /* compute_reference */
	double mem_den;     /* max(min memory, 1 GiB) */
	uint32_t n_pref;    /* preferences set */
	double inv_pref;
	uint32_t pref_class, pref_arch;
	uint64_t pref_vendors, pref_backends;
	double ceiling;
	double lp, tp, qp;  /* penalties */
	double beta, keep;  /* learned weight and 1 - it */
} hw_ctx;

void hw_params_default(hw_params *p)
{
	*p = (hw_params){
		.w_compute = 0.5,
		.w_memory = 0.2,
		.w_preference = 0.2,
		.w_energy = 0.1,
		.load_penalty = 0.3,
		.temperature_penalty = 0.3,
		.queue_penalty = 0.5,
		.learned_weight = 0.3,
		.compute_reference = 64.0,
		.load_ceiling = 0.9,
		.tensor_cores = 1.5,
		.gpu_vision = 1.2,
		.gpu_nlp_tensor_cores = 1.2,
		.tpu_large_nlp_vision = 1.3,
		.npu_inference = 1.2,
		.quantised = 1.5,
		.npu_training = 0.25,
		.browser_training = 0.5,
	};
}

static int nonneg(double x)
{
	return isfinite(x) && x >= 0.0;
}

static int unit(double x)
{
	return isfinite(x) && x >= 0.0 && x <= 1.0;
}

const char *hw_params_check(const hw_params *p, const char **problem)
{
	static const char *const nonneg_msg = "must be a finite number >= 0";
	static const char *const unit_msg = "must be a number from 0 to 1";
	const struct {
		const char *name;
		double v;
		int is_unit;
	} f[] = {
		{"weights.compute", p->w_compute, 0},
		{"weights.memory", p->w_memory, 0},
		{"weights.preference", p->w_preference, 0},
		{"weights.energy", p->w_energy, 0},
		{"load_penalty", p->load_penalty, 1},
		{"temperature_penalty", p->temperature_penalty, 1},
		{"queue_penalty", p->queue_penalty, 1},
		{"learned_weight", p->learned_weight, 1},
		{"load_ceiling", p->load_ceiling, 1},
		{"specialisation.tensor_cores", p->tensor_cores, 0},
		{"specialisation.gpu_vision", p->gpu_vision, 0},
		{"specialisation.gpu_nlp_tensor_cores", p->gpu_nlp_tensor_cores, 0},
		{"specialisation.tpu_large_nlp_vision", p->tpu_large_nlp_vision, 0},
		{"specialisation.npu_inference", p->npu_inference, 0},
		{"specialisation.quantised", p->quantised, 0},
		{"specialisation.npu_training", p->npu_training, 0},
		{"specialisation.browser_training", p->browser_training, 0},
	};

	for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
		if (f[i].is_unit ? !unit(f[i].v) : !nonneg(f[i].v)) {
			*problem = f[i].is_unit ? unit_msg : nonneg_msg;
			return f[i].name;
		}
	}
	if (!(p->w_compute > 0 || p->w_memory > 0 || p->w_preference > 0 ||
	      p->w_energy > 0)) {
		*problem = "at least one weight must be > 0";
		return "weights";
	}
	if (!(isfinite(p->compute_reference) && p->compute_reference > 0)) {
		*problem = "must be a finite number > 0";
		return "compute_reference";
	}
	*problem = NULL;
	return NULL;
}

static int matrix_heavy(uint32_t type)
{
	return type == LBS_WL_VISION || type == LBS_WL_NLP ||
	       type == LBS_WL_MULTIMODAL || type == LBS_WL_TRAINING ||
	       type == LBS_WL_EMBEDDING || type == LBS_WL_CONVERSATIONAL;
}

/* The specialisation multiplier of a device of class `cls` (with or without
 * tensor cores and quantization support) for this kind of work. */
static double specialisation(const hw_params *p, uint32_t type, int quantised,
                             int large, uint32_t cls, int tc, int quant)
{
	double m = 1.0;

	if (tc && matrix_heavy(type))
		m *= p->tensor_cores;
	if (cls == LBS_CLASS_GPU && type == LBS_WL_VISION)
		m *= p->gpu_vision;
	if (cls == LBS_CLASS_GPU && type == LBS_WL_NLP && tc)
		m *= p->gpu_nlp_tensor_cores;
	if (cls == LBS_CLASS_TPU && large &&
	    (type == LBS_WL_NLP || type == LBS_WL_VISION))
		m *= p->tpu_large_nlp_vision;
	if (cls == LBS_CLASS_NPU && type == LBS_WL_INFERENCE)
		m *= p->npu_inference;
	if (quantised && quant)
		m *= p->quantised;
	if (cls == LBS_CLASS_NPU && type == LBS_WL_TRAINING)
		m *= p->npu_training;
	if (cls == LBS_CLASS_HYBRID && type == LBS_WL_TRAINING)
		m *= p->browser_training;
	return m;
}

hw_state *hw_new(const hw_params *p)
{
	hw_state *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->p = *p;
	for (uint32_t t = 0; t < LBS_WL_COUNT; t++)
		s->hint[t] = NONE;
	/* Every workload variant's row up front: a select then only picks a
	 * row, whatever the fleet size. */
	for (uint32_t t = 0; t < LBS_WL_COUNT; t++)
		for (int q = 0; q < 2; q++)
			for (int l = 0; l < 2; l++)
				for (uint32_t k = 0; k < ROW; k++)
					s->coef[t][q][l][k] = per_unit[k / 4] *
						specialisation(p, t, q, l, k / 4,
						               (k & 2) != 0, (k & 1) != 0);
	return s;
}

void hw_free(hw_state *s)
{
	if (!s)
		return;
	free(s->top);
	free(s->memo);
	free(s);
}

void hw_remember(hw_state *s, uint64_t generation)
{
	s->gen = generation;
}

/* Room for a memo entry per worker; without it (out of memory) selects
 * just look every preference up. */
static void reserve_memo(hw_state *s, uint32_t n)
{
	hw_memo *m;

	if (n <= s->n_memo)
		return;
	m = realloc(s->memo, (size_t)n * sizeof(*m));
	if (!m)
		return;
	memset(m + s->n_memo, 0, (size_t)(n - s->n_memo) * sizeof(*m));
	s->memo = m;
	s->n_memo = n;
}

const hw_params *hw_params_of(const hw_state *s)
{
	return &s->p;
}

static int reserve_top(hw_state *s, uint32_t k)
{
	hw_top *p;

	if (k <= s->n_top)
		return 1;
	p = realloc(s->top, (size_t)k * sizeof(*p));
	if (!p)
		return 0;
	s->top = p;
	s->n_top = k;
	return 1;
}

static void ctx_init(hw_ctx *c, const hw_state *s, const lbs_workload *wl)
{
	const hw_params *p = &s->p;
	double ci = clamp01(wl->compute_intensity, 0.5);
	double mi = clamp01(wl->memory_intensity, 0.5);
	double es = clamp01(wl->energy_sensitivity, 0.0);
	uint32_t type = wl->type < LBS_WL_COUNT ? wl->type : LBS_WL_MIXED;
	int quantised = (wl->required_precisions & (LBS_PREC_INT8 | LBS_PREC_INT4)) != 0;
	int large = ci > 0.7 || mi >= 0.5;
	double sum;

	c->wl = wl;
	c->full = elig_needs_full(wl);
	c->coef = s->coef[type][quantised][large];
	c->a = p->w_compute * (0.5 + ci);
	c->b = p->w_memory * (0.5 + mi);
	c->c = p->w_preference;
	c->e = p->w_energy * es;
	sum = c->a + c->b + c->c + c->e;
	/* Possible with only the energy weight set and work that does not
	 * care about energy: then no term speaks, and hardware ties. */
	c->no_weight = !(sum > 0.0);
	c->inv_sum = c->no_weight ? 0.0 : 1.0 / sum;
	c->c_neutral = c->c * 0.5;
	c->k = p->compute_reference;
	c->mem_den = wl->min_memory_bytes > (uint64_t)GIB ? (double)wl->min_memory_bytes : GIB;

	c->n_pref = (wl->preferred_class != 0) + (wl->preferred_arch != 0) +
	            (wl->preferred_vendors != 0) + (wl->preferred_backends != 0);
	c->inv_pref = c->n_pref ? 1.0 / c->n_pref : 0.0;
	c->pref_class = wl->preferred_class;
	/* OTHER (and vendor UNKNOWN) name something nobody could parse, so a
	 * preference for them is counted as set but never matches. */
	c->pref_arch = wl->preferred_arch == LBS_ARCH_OTHER ? 0 : wl->preferred_arch;
	c->pref_vendors = wl->preferred_vendors &
	                  ~((UINT64_C(1) << LBS_VENDOR_UNKNOWN) | (UINT64_C(1) << LBS_VENDOR_OTHER));
	c->pref_backends = wl->preferred_backends & ~LBS_BACKEND_OTHER;
	/* Every term at 1 (the compute and memory terms never reach it), the
	 * preference term at its best for this workload. */
	c->eff_ub = c->no_weight ? 0.5
	            : (c->a + c->b + (c->n_pref ? c->c : c->c_neutral) + c->e) * c->inv_sum;

	c->ceiling = p->load_ceiling;
	c->lp = p->load_penalty;
	c->tp = p->temperature_penalty;
	c->qp = p->queue_penalty;
	c->beta = p->learned_weight;
	c->keep = 1.0 - p->learned_weight;
	c->keep_ub = c->keep * c->eff_ub;
}

static inline uint32_t pref_matches(const hw_ctx *c, const lbs_device *d)
{
	uint32_t n = 0;

	n += c->pref_class && d->hw_class == c->pref_class;
	n += c->pref_arch && d->arch == c->pref_arch;
	n += d->vendor < 64 && ((c->pref_vendors >> d->vendor) & 1);
	n += (d->backends & c->pref_backends) != 0;
	return n;
}

/* Throughput of a device for this call's kind of work. */
HOT double throughput(const hw_ctx *c, const lbs_device *d, uint32_t *cls_out)
{
	uint32_t cls = d->hw_class < LBS_CLASS_COUNT ? d->hw_class : LBS_CLASS_UNKNOWN;
	uint32_t key = cls * 4 + ((d->features & LBS_FEAT_TENSOR_CORES) ? 2 : 0) +
	               ((d->features & LBS_FEAT_QUANTIZATION) ? 1 : 0);
	double units = d->compute_units ? (double)d->compute_units : 1.0;
	double ratio = 1.0;

	if (d->clock_mhz) {
		ratio = (double)d->clock_mhz * inv_ref_clock[cls];
		ratio = ratio < 0.25 ? 0.25 : ratio > 4.0 ? 4.0 : ratio;
	}
	*cls_out = cls;
	return c->coef[key] * units * ratio;
}

/* Efficiency of one device, 0..1; with f, also every term. */
HOT double dev_eff(const hw_ctx *c, const lbs_device *d, uint64_t reserved,
                   hw_factors *f)
{
	uint32_t cls;
	double t = throughput(c, d, &cls);
	double m = d->mem_available_bytes > reserved
	           ? (double)(d->mem_available_bytes - reserved) : 0.0;
	double tk = t + c->k, md = m + c->mem_den;
	/* a t/(t+k) + b m/(m+D) over one division: the hot path's only one
	 * when energy does not count. */
	double cm = (c->a * t * md + c->b * m * tk) / (tk * md);
	double pref = c->n_pref ? c->c * (pref_matches(c, d) * c->inv_pref) : c->c_neutral;
	double fe = 0.0, eff;

	if (c->e > 0.0 || f)
		fe = t / (t + ENERGY_REF * (d->tdp_watts ? (double)d->tdp_watts : 1.0));
	eff = c->no_weight ? 0.5 : (cm + pref + c->e * fe) * c->inv_sum;
	if (f) {
		f->hw_class = cls;
		f->throughput = t;
		f->compute = t / tk;
		f->memory = m / md;
		f->preference = c->n_pref ? pref_matches(c, d) * c->inv_pref : 0.5;
		f->energy = fe;
		f->efficiency = eff;
	}
	return eff;
}

static inline uint32_t lowest_bit(uint64_t m)
{
#if defined(__GNUC__)
	return (uint32_t)__builtin_ctzll(m);
#else
	uint32_t i = 0;

	while (!(m & 1)) {
		m >>= 1;
		i++;
	}
	return i;
#endif
}

/* What a worker's own state does to the efficiency of any of its devices:
 * w = load factor x temperature factor / queue divisor.  Computed in steps
 * so that a select can drop a worker on the temperature and queue alone,
 * before paying for its load or for any division. */
typedef struct hw_wk {
	double tf;   /* 1 - temperature_penalty x temperature */
	double nq;   /* active + queued tests */
	double cap;  /* capacity, at least 1 */
	double load; /* worker_load, for the ceiling */
	double le;   /* effective load */
	double lf;   /* 1 - load_penalty x le */
	double qf;   /* 1 + queue_penalty x nq / cap: the divisor */
	double w;    /* lf x tf / qf */
} hw_wk;

HOT void worker_thermal_queue(const hw_ctx *c, const lbs_worker *w, hw_wk *k)
{
	/* An unreadable temperature is taken as hot, as NaN load is busy:
	 * elig_busy01 is clamp01(x, 1) inline. */
	k->tf = 1.0 - c->tp * elig_busy01(w->temperature);
	k->nq = (double)w->active_tests + (double)w->queued_tests;
	k->cap = (double)(w->capacity ? w->capacity : 1);
}

HOT void worker_loadf(const hw_ctx *c, const lbs_worker *w, hw_wk *k)
{
	/* worker_load and worker_effective_load, inline.  The effective load
	 * already holds the warming/cooling loss; the original multiplied
	 * performance_level in a second time. */
	k->load = elig_load(w);
	k->le = elig_effective_load(w, k->load);
	k->lf = 1.0 - c->lp * k->le;
}

HOT void worker_factor(const hw_ctx *c, hw_wk *k)
{
	k->qf = 1.0 + c->qp * (k->nq / k->cap);
	k->w = k->lf * k->tf / k->qf;
}

/* The hard filter, less the ceiling (which needs the load), and the
 * efficiency of the best device; with f, that device's terms. */
HOT enum elig_reason worker_eff(const hw_ctx *c, const lbs_worker *w,
                                double *eff, hw_factors *f)
{
	uint64_t mask, reserved = w->reserved_memory_bytes;
	enum elig_reason r = elig_check(c->wl, w, 2.0, &mask);
	double best = -1.0;

	if (r != ELIG_OK)
		return r;
	/* Only devices 0..63 have a mask bit; one that passed beyond those
	 * cannot be scored. */
	if (!mask)
		return ELIG_NO_DEVICE;
	/* A plain maximum: a compare-and-branch here would be mispredicted
	 * about every other multi-device worker. */
	for (uint64_t m = mask; m; m &= m - 1) {
		double e = dev_eff(c, w->devices[lowest_bit(m)], reserved, NULL);

		best = e > best ? e : best;
	}
	if (f) {
		/* The device named is the first one reaching the maximum. */
		for (uint64_t m = mask; m; m &= m - 1) {
			uint32_t i = lowest_bit(m);

			if (dev_eff(c, w->devices[i], reserved, f) == best) {
				f->device = i;
				break;
			}
		}
	}
	*eff = best;
	return ELIG_OK;
}

/*
 * Filter and score one worker up to the learned blend, checks in the hard
 * filter's order.  Returns ELIG_OK with *adj and *le set (and f filled when
 * not NULL) or the reason it is not eligible.
 */
HOT enum elig_reason worker_adjusted(const hw_ctx *c, const lbs_worker *w,
                                     double *adj, double *le, hw_factors *f)
{
	enum elig_reason r;
	double eff;
	hw_wk k;

	r = worker_eff(c, w, &eff, f);
	if (r != ELIG_OK)
		return r;
	worker_thermal_queue(c, w, &k);
	worker_loadf(c, w, &k);
	if (k.load > c->ceiling)
		return ELIG_OVERLOADED;
	worker_factor(c, &k);
	*adj = eff * k.w;
	*le = k.le;
	if (f) {
		f->effective_load = k.le;
		f->load_factor = k.lf;
		f->temperature_factor = k.tf;
		f->queue_factor = 1.0 / k.qf;
		f->adjusted = *adj;
	}
	return ELIG_OK;
}

static inline double learned_of(const hw_learned *l, const lbs_workload *wl,
                                const char *id)
{
	const lbs_history *h;

	if (!l || !l->lookup)
		return 0.5;
	h = l->lookup(l->ctx, wl->type, id);
	return h ? clamp01(h->preference, 0.5) : 0.5;
}

/* The id pointed to is `text` (which is NUL-terminated within MEMO_ID);
 * reads `id` no further than its end. */
static inline int same_id(const char *text, const char *id)
{
	for (uint32_t k = 0; k < MEMO_ID; k++) {
		if (text[k] != id[k])
			return 0;
		if (!id[k])
			return 1;
	}
	return 0;
}

/* Where a select finds learned preferences: the lookup, and the state's
 * memo when hw_remember vouches for it (m NULL otherwise). */
typedef struct hw_lk {
	const hw_learned *l;
	hw_memo *m;
	uint64_t gen;
} hw_lk;

/* learned_of() for the worker at position i, through the memo. */
static inline double learned_at(const hw_lk *lk, const lbs_workload *wl,
                                const lbs_worker *w, uint32_t i)
{
	uint32_t t = wl->type;
	hw_memo *m;
	double pref;

	if (!lk->m || t >= LBS_WL_COUNT)
		return learned_of(lk->l, wl, w->id);
	m = &lk->m[i];
	if (m->gen != lk->gen || m->id != w->id || !same_id(m->text, w->id)) {
		uint32_t len = 0;

		while (len < MEMO_ID && w->id[len])
			len++;
		if (len == MEMO_ID) {
			m->gen = 0;
			return learned_of(lk->l, wl, w->id);
		}
		memcpy(m->text, w->id, len + 1);
		m->gen = lk->gen;
		m->id = w->id;
		m->known = 0;
	} else if (m->known & (UINT32_C(1) << t)) {
		return m->pref[t];
	}
	pref = learned_of(lk->l, wl, w->id);
	m->pref[t] = pref;
	m->known |= UINT32_C(1) << t;
	return pref;
}

static inline double blend(const hw_ctx *c, double adj, double pref)
{
	return c->keep * adj + c->beta * pref;
}

/* The ranking rule: does (sa, la, ia) come before (sb, lb, ib)? */
static inline int ranks_before(double sa, double la, uint32_t ia,
                               double sb, double lb, uint32_t ib)
{
	if (sa > sb + HW_TIE_EPS)
		return 1;
	if (sa < sb - HW_TIE_EPS)
		return 0;
	if (la != lb)
		return la < lb;
	return ia < ib;
}

static int workload_valid(const lbs_workload *wl)
{
	return wl && wl->struct_size >= LBS_WORKLOAD_SIZE_V1_0 &&
	       !(wl->n_exclude && !wl->exclude_ids) &&
	       !(wl->n_required_accels &&
	         (!wl->required_accel_kinds || !wl->required_accel_counts));
}

static inline int worker_valid(const lbs_worker *w)
{
	return w && w->struct_size >= LBS_WORKER_SIZE_V1_0 && w->id &&
	       !(w->n_devices && !w->devices) &&
	       !(w->n_accels && (!w->accel_kinds || !w->accel_counts));
}

/* Fill the score-level fields of f for a worker already adjusted. */
static void finish(const hw_ctx *c, const hw_learned *l, const lbs_worker *w,
                   hw_factors *f)
{
	f->learned = learned_of(l, c->wl, w->id);
	f->score = blend(c, f->adjusted, f->learned);
}

/*
 * The select loops skip most of the work for a worker that cannot win.
 * Its score is at most blend(E x lf x tf / qf, best learned preference)
 * for any E at least its efficiency; screen() tries, cheapest first:
 *   1. E = eff_ub and lf = 1: the temperature and queue alone;
 *   2. E = eff_ub with its load (and the load ceiling);
 *   2b. with a learned store, the same with the worker's own learned
 *      preference in place of the best one;
 *   3. E = the best of all its devices, eligible or not (when the hard
 *      filter is not just the device checks);
 * and only then runs the hard filter.  A worker skipped is below the cut by
 * more than HW_TIE_EPS, so it could not even tie: the answer is the one a
 * full evaluation would give.  The tests compare the two on random fleets.
 */
HOT int screen(const hw_ctx *c, const lbs_worker *w, uint32_t i, double cut,
               double pref_ub, const hw_lk *lk, double *pref, hw_wk *k,
               double *adj)
{
	uint32_t nd = w->n_devices < 64 ? w->n_devices : 64;
	uint64_t mask, reserved = w->reserved_memory_bytes;
	double effs[64], all = -1.0, eff = -1.0, rhs, lhs;
	int full = c->full;

	/* blend(E x lf x tf / qf, pref_ub) < cut, multiplied out by
	 * qf x capacity (> 0) so that a skipped worker costs no division;
	 * the rounding this changes is far inside HW_TIE_EPS.  Scores are
	 * >= 0, so a cut of -1 skips nothing. */
	worker_thermal_queue(c, w, k);
	rhs = (cut - c->beta * pref_ub) * (k->cap + c->qp * k->nq);
	lhs = k->tf * k->cap;
	if (c->keep_ub * lhs < rhs)
		return 0;
	worker_loadf(c, w, k);
	lhs *= k->lf;
	if (k->load > c->ceiling || c->keep_ub * lhs < rhs)
		return 0;
	/* With a learned store the bounds so far assumed the best learned
	 * preference (pref_ub 1), which lets through several times the
	 * workers an empty store does.  The worker's own preference is one
	 * lookup (with the memo, a compare of its id): bound again with it
	 * before paying for the devices. */
	*pref = pref_ub;
	if (lk) {
		*pref = learned_at(lk, c->wl, w, i);
		rhs = (cut - c->beta * *pref) * (k->cap + c->qp * k->nq);
		if (c->keep_ub * lhs < rhs)
			return 0;
	}
	/* Without an exclude list, accelerator or unparsable requirement,
	 * the hard filter is its device checks, done here in the same pass
	 * as the scores (elig_device_ok is what elig_check runs per
	 * device).  Otherwise elig_check decides, after one more bound: the
	 * best of all devices, eligible or not. */
	for (uint32_t j = 0; j < nd; j++) {
		const lbs_device *d = w->devices[j];
		double e;

		/* Devices the hard filter skips as malformed. */
		if (!d || d->struct_size < LBS_DEVICE_SIZE_V1_0)
			continue;
		effs[j] = e = dev_eff(c, d, reserved, NULL);
		if (full)
			all = e > all ? e : all;
		else if (elig_device_ok(c->wl, w, d))
			eff = e > eff ? e : eff;
	}
	if (full) {
		if (c->keep * all * lhs < rhs)
			return 0;
		if (elig_check(c->wl, w, 2.0, &mask) != ELIG_OK || !mask)
			return 0;
		/* The same maximum worker_eff() takes, from the same values. */
		for (uint64_t m = mask; m; m &= m - 1) {
			double e = effs[lowest_bit(m)];

			eff = e > eff ? e : eff;
		}
	} else if (eff < 0.0) {
		return 0;
	}
	worker_factor(c, k);
	*adj = eff * k->w;
	return 1;
}

/* lk: the learned preferences, NULL when nothing is learned. */
HOT void consider(const hw_ctx *c, const hw_lk *lk, const lbs_worker *w,
                  uint32_t i, hw_top *b)
{
	double cut = b->idx == NONE ? -1.0 : b->score - HW_TIE_EPS;
	double adj, sc, pref;
	hw_wk k;

	/* screen() looks the learned preference up, when there is one. */
	if (!screen(c, w, i, cut, lk ? 1.0 : 0.5, lk, &pref, &k, &adj))
		return;
	sc = blend(c, adj, pref);
	if (b->idx == NONE || ranks_before(sc, k.le, i, b->score, b->load, b->idx))
		*b = (hw_top){i, sc, k.le};
}

/* `hint`: a position to look at first (NONE for none).  The sooner a
 * strong worker is seen, the more of the others are skipped; any hint
 * gives the same answer. */
static lbs_status select_one(const hw_ctx *c, const lbs_worker *const *workers,
                             uint32_t n, const hw_lk *l, uint32_t hint,
                             uint32_t *best_idx)
{
	hw_top b = {NONE, -1.0, 0.0};

	if (hint < n && worker_valid(workers[hint]))
		consider(c, l, workers[hint], hint, &b);
	else
		hint = NONE;
	for (uint32_t i = 0; i < n; i++) {
		if (i == hint)
			continue;
		if (!worker_valid(workers[i]))
			return LBS_EINVAL;
		consider(c, l, workers[i], i, &b);
	}
	*best_idx = b.idx;
	return b.idx == NONE ? LBS_NO_WORKER : LBS_OK;
}

static lbs_status select_many(hw_state *s, const hw_ctx *c,
                              const lbs_worker *const *workers, uint32_t n,
                              const hw_lk *l, uint32_t want,
                              uint32_t need, uint32_t *idx, uint32_t *n_found)
{
	uint32_t cnt = 0, eligible = 0, slots = want < n ? want : n;
	double pref_ub = l ? 1.0 : 0.5;
	/* Skipping needs a full list that will be the answer; below `need`
	 * every eligible worker is counted for the "only N eligible"
	 * reason. */
	int may_skip = slots >= need;
	hw_top *top;

	if (slots == 0)
		return LBS_NO_WORKER;
	if (!reserve_top(s, slots))
		return LBS_ENOMEM;
	top = s->top;
	for (uint32_t i = 0; i < n; i++) {
		const lbs_worker *w = workers[i];
		double adj, sc, cut, pref;
		uint32_t j;
		hw_wk k;

		if (!worker_valid(w))
			return LBS_EINVAL;
		cut = cnt == slots && may_skip ? top[cnt - 1].score - HW_TIE_EPS : -1.0;
		if (!screen(c, w, i, cut, pref_ub, l, &pref, &k, &adj))
			continue;
		eligible++;
		sc = blend(c, adj, pref);
		if (cnt == slots) {
			if (!ranks_before(sc, k.le, i, top[cnt - 1].score,
			                  top[cnt - 1].load, top[cnt - 1].idx))
				continue;
			j = cnt - 1;
		} else {
			j = cnt++;
		}
		/* Insertion keeps the list best first; k is small. */
		while (j > 0 && ranks_before(sc, k.le, i, top[j - 1].score,
		                             top[j - 1].load, top[j - 1].idx)) {
			top[j] = top[j - 1];
			j--;
		}
		top[j] = (hw_top){i, sc, k.le};
	}
	if (cnt == 0 || cnt < need) {
		*n_found = eligible;
		return LBS_NO_WORKER;
	}
	for (uint32_t j = 0; j < cnt; j++)
		idx[j] = top[j].idx;
	*n_found = cnt;
	return LBS_OK;
}

lbs_status hw_select(hw_state *s, const lbs_workload *wl,
                     const lbs_worker *const *workers, uint32_t n,
                     const hw_learned *learned, uint32_t want, uint32_t need,
                     uint32_t *idx, uint32_t *n_found, hw_factors *best)
{
	uint32_t first;
	lbs_status st;
	hw_ctx c;
	hw_lk lk = {NULL, NULL, 0};
	const hw_lk *l = NULL;

	*n_found = 0;
	if (!workload_valid(wl) || want < need || (want && !idx) || (n && !workers))
		return LBS_EINVAL;
	if (want == 0)
		return LBS_NO_WORKER;
	ctx_init(&c, s, wl);
	if (learned && learned->lookup) {
		lk.l = learned;
		if (s->gen) {
			reserve_memo(s, n);
			if (n <= s->n_memo) {
				lk.m = s->memo;
				lk.gen = s->gen;
			}
		}
		l = &lk;
	}

	if (want == 1) {
		/* Last time's winner for this kind of work is usually still
		 * strong, which makes the skipping work from the start. */
		uint32_t *hint = &s->hint[wl->type < LBS_WL_COUNT ? wl->type : LBS_WL_MIXED];

		st = select_one(&c, workers, n, l, *hint, &first);
		if (st != LBS_OK)
			return st;
		*hint = first;
		idx[0] = first;
		*n_found = 1;
	} else {
		st = select_many(s, &c, workers, n, l, want, need, idx, n_found);
		if (st != LBS_OK)
			return st;
		first = idx[0];
	}
	if (best) {
		double adj, le;

		memset(best, 0, sizeof(*best));
		/* The select loops and this use the same filter; a winner that
		 * fails it here is a bug, not an answer. */
		if (worker_adjusted(&c, workers[first], &adj, &le, best) != ELIG_OK)
			return LBS_EINTERNAL;
		finish(&c, learned, workers[first], best);
	}
	return LBS_OK;
}

lbs_status hw_score(const hw_state *s, const lbs_workload *wl,
                    const lbs_worker *const *workers, uint32_t n,
                    const hw_learned *learned, double *scores)
{
	hw_ctx c;

	if (!workload_valid(wl) || (n && (!workers || !scores)))
		return LBS_EINVAL;
	ctx_init(&c, s, wl);
	/* A blend calls this for every worker of every select, so it takes
	 * the select's own per-worker path: screen() with a cut of -1 skips
	 * nothing and is the hard filter (inline device checks, elig_check
	 * only when the workload needs it) with the same arithmetic as
	 * worker_adjusted(), so score, select and explain agree. */
	for (uint32_t i = 0; i < n; i++) {
		const lbs_worker *w = workers[i];
		double adj, pref;
		hw_wk k;

		if (!worker_valid(w))
			return LBS_EINVAL;
		if (!screen(&c, w, i, -1.0, 1.0, NULL, &pref, &k, &adj))
			scores[i] = -1.0;
		else
			scores[i] = blend(&c, adj, learned_of(learned, wl, w->id));
	}
	return LBS_OK;
}

lbs_status hw_evaluate(const hw_state *s, const lbs_workload *wl,
                       const lbs_worker *const *workers, uint32_t n,
                       const hw_learned *learned, hw_eval *out)
{
	hw_ctx c;

	if (!workload_valid(wl) || (n && (!workers || !out)))
		return LBS_EINVAL;
	ctx_init(&c, s, wl);
	for (uint32_t i = 0; i < n; i++) {
		const lbs_worker *w = workers[i];
		double adj, le;

		if (!worker_valid(w))
			return LBS_EINVAL;
		memset(&out[i], 0, sizeof(out[i]));
		out[i].reason = worker_adjusted(&c, w, &adj, &le, &out[i].f);
		if (out[i].reason == ELIG_OK)
			finish(&c, learned, w, &out[i].f);
	}
	return LBS_OK;
}

static int eval_before(const hw_eval *ev, uint32_t a, uint32_t b)
{
	return ranks_before(ev[a].f.score, ev[a].f.effective_load, a,
	                    ev[b].f.score, ev[b].f.effective_load, b);
}

/* Merge sort: stable and safe whatever the comparator does with the
 * near-ties (qsort is neither). */
static void merge_sort(const hw_eval *ev, uint32_t *a, uint32_t *tmp, uint32_t n)
{
	uint32_t h = n / 2, i = 0, j = h, k = 0;

	if (n < 2)
		return;
	merge_sort(ev, a, tmp, h);
	merge_sort(ev, a + h, tmp, n - h);
	while (i < h && j < n)
		tmp[k++] = eval_before(ev, a[j], a[i]) ? a[j++] : a[i++];
	while (i < h)
		tmp[k++] = a[i++];
	while (j < n)
		tmp[k++] = a[j++];
	memcpy(a, tmp, (size_t)n * sizeof(*a));
}

uint32_t hw_rank(const hw_eval *ev, uint32_t n, uint32_t *order, uint32_t *tmp)
{
	uint32_t m = 0;

	for (uint32_t i = 0; i < n; i++)
		if (ev[i].reason == ELIG_OK)
			order[m++] = i;
	merge_sort(ev, order, tmp, m);
	return m;
}
