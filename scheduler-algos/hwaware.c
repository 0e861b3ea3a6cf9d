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
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "worker_id.h"

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
/* Columns of a coefficient row: (tensor cores x quantization) x class,
 * then the classes' inv_ref_clock from COEF_CLOCK on: throughput_of()
 * reaches both from the row's pointer, which a scan keeps in a register
 * (a table of its own took an address to load for every device). */
#define COEF_CLOCK (4 * LBS_CLASS_COUNT)
#define ROW (COEF_CLOCK + LBS_CLASS_COUNT)
#define NONE UINT32_MAX
/* Candidates a sampled select keeps for the next one of its type. */
#define KEEP 4
/* A sampled select's standing candidates per workload type (hw_elite):
 * how many, the positions each select adds to the pass that finds them,
 * and how many of them it looks at, in turn.  Chosen on simgen's tuning
 * seeds 1-3 against the cost of a select at 65,536 workers (docs/SCORING.md,
 * "Giant fleets"). */
#define ELITE 64
#define ELITE_STEP 8
#define ELITE_LOOK 16
/* The slowest prior speed: a device the efficiency calls hopeless is
 * still taken to finish, ten times slower than declared. */
#define PRIOR_MIN 0.1
/* The least performance_level counted: a throttled worker at 0 (or NaN)
 * is a hundred times slower, a number rather than never. */
#define PERF_MIN 0.01
/* The lowest reliability: a worker that never succeeded is taken as a
 * thousand times slower, not as never finishing (a number, not inf). */
#define REL_MIN 0.001
/* The durations a timed estimate counts with, 1 ms to about 31 years: a
 * work item's seconds over a shorter one overflowed to an infinite wait
 * (a null in explain's JSON), and a longer one's run times a long queue
 * did.  Nothing real is outside them, so no ranking changes. */
#define EST_MIN 1e-3
#define EST_MAX 1e9
/* The most runs of the new work a test ahead, or the host's pending work,
 * counts as: a finite wait for any finite seconds the host gives. */
#define RUNS_MAX 1e12

/* The per-worker and per-device steps are called from the select, score
 * and explain loops; inlining them into each keeps the select loop free of
 * calls (and lets the explain-only work drop out of it). */
#if defined(__GNUC__)
#define HOT static inline __attribute__((always_inline))
#define OUT_OF_LINE static __attribute__((noinline))
#define PREFETCH(p) __builtin_prefetch(p)
#else
#define HOT static inline
#define OUT_OF_LINE static
#define PREFETCH(p) ((void)(p))
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

/* An entry of the best-k list of a multi-worker select: the ranking keys
 * (ranks_before). */
typedef struct hw_top {
	uint32_t idx;
	double score;
	double tie;  /* the suitability */
	double load;
} hw_top;

/* What a worker's record says, in the form the scores use.  Neutral (no
 * record): pref 0.5, w 0, rel 1. */
typedef struct hw_known {
	double pref; /* learned preference, 0..1 */
	double n;    /* ratio_n */
	double ls;   /* learned log speed, -log_ratio_mean */
	double w;    /* n / (n + prior_weight): the learned speed's weight */
	double sl;   /* exp(ls), for the bounds only (known_at) */
	double rel;  /* reliability */
} hw_known;

/* What was read of the worker at one array position, per workload type,
 * for a generation of the store (hw_remember).  The id is kept as text as
 * well as pointer: a pointer alone proves nothing once a host has freed
 * its fleet and reused the memory.  Ids longer than MEMO_ID - 1 are not
 * remembered.  The records themselves are kept apart, by type and then
 * position (hw_state.memo_rec): a select reads one type, and its records
 * then lie one after the other, as the workers do, instead of one line of
 * each 480-byte entry. */
#define MEMO_ID 24

typedef struct hw_memo {
	uint64_t gen;       /* 0: empty */
	const char *id;     /* the id pointer the records are for */
	uint32_t known;     /* bit t: the record of type t is set */
	char text[MEMO_ID]; /* the id */
} hw_memo;

_Static_assert(LBS_WL_COUNT <= 32, "hw_memo.known has a bit per workload type");

/*
 * The ELITE workers of the best idle score for one workload type, found by
 * a pass over the fleet that each sampled select of the type moves on by
 * ELITE_STEP positions, and the pass under way.  The idle score is the
 * worker's with nothing running, queued or reserved: its hardware, speed,
 * throttling and record, what changes slowly.  Ties go by a key drawn for
 * the pass, so identical workers take turns from pass to pass.  A select
 * looks at ELITE_LOOK of them in turn: under load the best few are mostly
 * busy, and the next ones are what a full scan would find free.
 */
typedef struct hw_ranked {
	double sc;
	uint32_t pos, key; /* key: the pass's tie order */
} hw_ranked;

typedef struct hw_elite {
	uint32_t pos[ELITE];      /* the last whole pass's, best first */
	uint32_t n;
	hw_ranked next[ELITE];    /* the pass under way, best first */
	uint32_t next_n;
	uint32_t cursor;          /* the pass's next position */
	uint32_t look;            /* the next of pos[] a select looks at */
	uint64_t salt;            /* the pass's tie order */
} hw_elite;

struct hw_state {
	hw_params p;
	/* Per-unit throughput x specialisations:
	 * [workload type][quantised work][large work][class, tc, quant]. */
	double coef[LBS_WL_COUNT][2][2][ROW];
	hw_top *top;   /* scratch of select_many; grows with the fleet */
	uint32_t n_top;
	uint32_t hint[LBS_WL_COUNT]; /* last single choice per workload type */
	uint64_t gen;  /* hw_remember's promise; 0: none */
	double fade_now, fade_hl; /* hw_fade's; fade_hl 0: no fade */
	hw_memo *memo; /* per worker position, n_memo of them */
	hw_known *memo_rec; /* [type][position], LBS_WL_COUNT x n_memo */
	uint64_t *memo_hash; /* per position: its entry's id's wid_hash */
	uint32_t n_memo;
	/* memo_sync's: entries of another epoch are empty (an entry's gen
	 * is its epoch; 0, none, never one); the hw_remember generation the
	 * memo holds for, and then the records' own (lbs_changes_fn), their
	 * ctx and the fade. */
	uint64_t memo_epoch, memo_promise, memo_since;
	const void *memo_ctx;
	double memo_fade, memo_fade_hl;
	uint64_t rng;  /* splitmix64 state of the sampled selects */
	/* The best few of the last sampled select per workload type. */
	uint32_t kept[LBS_WL_COUNT][KEEP];
	hw_elite elite[LBS_WL_COUNT];
	/* hw_explore: the next position to look at per type, the budget's
	 * bucket, and the explorations answered. */
	uint32_t explore_at[LBS_WL_COUNT];
	double explore_tokens;
	uint64_t explored;
	/* hw_sampled; atomics, since stats() may read them during a
	 * select: a relaxed load and store, one writer at a time. */
	_Atomic uint64_t sampled, drawn;
	/* Per workload type, the share of timed sampled selects whose answer
	 * would not wait (waits_at()), a moving average (FOUND_GAIN a
	 * select); 1 until selects say otherwise. */
	double found_free[LBS_WL_COUNT];
};

/* What depends only on the workload, for one call. */
typedef struct hw_ctx {
	const lbs_workload *wl;
	const double *coef;
	double a, b, c, e;  /* term weights, intensities applied */
	double inv_sum;     /* 1 / (a + b + c + e); 0 when that is 0 */
	double c_neutral;   /* c x 0.5, the preference term when none is set */
	double eff_ub;      /* no device's efficiency exceeds this */
	double sum;         /* a + b + c + e */
	double rest_ub;     /* b + the best preference term + e: the most the
	                       terms other than compute add to sum x eff */
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
	int timed;          /* rank by estimated completion */
	double est;         /* est_duration_s, when timed */
	double pk;          /* prior_weight */
	double scale;       /* prior_scale */
	double fc;          /* failure_cost */
	double sp_ub;       /* scale x eff_ub: no prior speed exceeds it */
	double s_ub;        /* no speed before perf exceeds it; INFINITY
	                       when learned speeds come without a bound */
	double sl_ub;       /* no learned speed exceeds it (0: none learned;
	                       INFINITY: no bound) */
	/* hw_learned.open_work, when timed and given; else NULL. */
	double (*open_work)(void *ctx, uint32_t pos, const char *worker_id);
	void *open_ctx;
	void (*open_prefetch)(void *ctx, uint32_t pos); /* with open_work, or NULL */
	double u_lb;        /* no worker_ahead_ledger u is below it */
	double lat_ref;     /* latency_ref of the type; NaN: none */
	double fade_now, fade_hl; /* hw_learned's; fade_hl 0: no fade */
	double pref_new;    /* the learned preference of a pair with no record */
} hw_ctx;

/*
 * What the select loops know of the cut (the best score so far less
 * HW_TIE_EPS, -1 before any), worked out once per cut rather than per
 * worker: most workers of a timed select are idle (no wait), at full speed
 * and without a learned record, and for those every bound of
 * screen_timed() depends on the cut alone.  cut_set() fills it.
 */
typedef struct hw_cut {
	double cut;
	double room1;   /* 1 - cut */
	int idle_drop;  /* timed: an idle worker at full speed is below the cut
	                   whatever its record (s_ub) */
	int idle_drop0; /* ... with no learned record (sp_ub) */
	int idle_late;  /* ... no learned speed reaches it (sl_ub) */
	double tq0, tr0; /* throughput_needed() of such a worker, neutral */
	/* The same for such a worker with a record (screen_timed): the
	 * record's w, sl and rel as bits, whether it is below the cut, and
	 * its throughput_needed().  Records of a store are often alike (the
	 * same counts give the same reliability), so one entry spares most
	 * of the arithmetic; rec_valid 0 until the first. */
	uint64_t rec_key[3];
	int rec_valid;
	int rec_drop;
	double rec_tq, rec_tr;
} hw_cut;

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
		.completion = 1,
		.prior_weight = 16.0,
		.prior_scale = 4.0,
		.failure_cost = 3.0,
		.explore_samples = 0.0,
		.explore_budget = 0.05,
		.explore_optimism = 1.2,
		.tensor_cores = 1.5,
		.gpu_vision = 1.2,
		.gpu_nlp_tensor_cores = 1.2,
		.tpu_large_nlp_vision = 1.3,
		.npu_inference = 1.2,
		.quantised = 1.5,
		.npu_training = 0.25,
		.browser_training = 0.5,
		.sample = HW_SAMPLE_DEFAULT,
		.sample_from = HW_SAMPLE_FROM,
		.seed = 1,
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
	if (!nonneg(p->prior_weight)) {
		*problem = nonneg_msg;
		return "completion.prior_weight";
	}
	if (!(isfinite(p->prior_scale) && p->prior_scale > 0)) {
		*problem = "must be a finite number > 0";
		return "completion.prior_scale";
	}
	if (!(isfinite(p->failure_cost) && p->failure_cost >= 1)) {
		*problem = "must be a finite number >= 1";
		return "completion.failure_cost";
	}
	if (!nonneg(p->explore_samples)) {
		*problem = nonneg_msg;
		return "explore.samples";
	}
	if (!unit(p->explore_budget)) {
		*problem = unit_msg;
		return "explore.budget";
	}
	if (!(isfinite(p->explore_optimism) && p->explore_optimism >= 1)) {
		*problem = "must be a finite number >= 1";
		return "explore.optimism";
	}
	if (p->sample < 1) {
		*problem = "must be an integer >= 1";
		return "sample";
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
	s->rng = p->seed;
	for (uint32_t t = 0; t < LBS_WL_COUNT; t++)
		s->found_free[t] = 1.0;
	for (uint32_t t = 0; t < LBS_WL_COUNT; t++)
		for (uint32_t k = 0; k < KEEP; k++)
			s->kept[t][k] = NONE;
	/* Every workload variant's row up front: a select then only picks a
	 * row, whatever the fleet size. */
	for (uint32_t t = 0; t < LBS_WL_COUNT; t++)
		for (int q = 0; q < 2; q++)
			for (int l = 0; l < 2; l++)
				for (uint32_t k = 0; k < ROW; k++) {
					uint32_t cls = k % LBS_CLASS_COUNT, f = k / LBS_CLASS_COUNT;

					s->coef[t][q][l][k] = k >= COEF_CLOCK
						? inv_ref_clock[cls]
						: per_unit[cls] * specialisation(p, t, q, l, cls,
						                                 (f & 2) != 0, (f & 1) != 0);
				}
	return s;
}

void hw_free(hw_state *s)
{
	if (!s)
		return;
	free(s->top);
	free(s->memo);
	free(s->memo_rec);
	free(s->memo_hash);
	free(s);
}

void hw_remember(hw_state *s, uint64_t generation)
{
	s->gen = generation;
}

void hw_fade(hw_state *s, double now, double half_life)
{
	int on = isfinite(now) && isfinite(half_life) && half_life > 0.0;

	s->fade_now = on ? now : 0.0;
	s->fade_hl = on ? half_life : 0.0;
}

/* Room for a memo entry per worker; without it (out of memory) selects
 * just look every preference up. */
static void reserve_memo(hw_state *s, uint32_t n)
{
	hw_memo *m;
	hw_known *r;
	uint64_t *h;

	if (n <= s->n_memo)
		return;
	/* The records are laid out by n: start afresh (it is a cache). */
	m = calloc(n, sizeof(*m));
	r = malloc((size_t)n * LBS_WL_COUNT * sizeof(*r));
	h = malloc(n * sizeof(*h));
	if (!m || !r || !h) {
		free(m);
		free(r);
		free(h);
		return;
	}
	free(s->memo);
	free(s->memo_rec);
	free(s->memo_hash);
	s->memo = m;
	s->memo_rec = r;
	s->memo_hash = h;
	s->n_memo = n;
}

/* The changes memo_sync asks for at most; more start a new epoch. */
#define MEMO_CHANGES 16

/* The memo's entries of the changed records forgotten: the type's bit at
 * each position whose id hashes as the change's (a collision forgets one
 * more), at every position for a wide change. */
static void memo_forget(hw_state *s, const lbs_change *ch, int k)
{
	uint32_t wide = 0;

	for (int j = 0; j < k; j++)
		if (ch[j].wide && ch[j].wl_type < LBS_WL_COUNT)
			wide |= UINT32_C(1) << ch[j].wl_type;
	for (uint32_t i = 0; i < s->n_memo; i++) {
		uint32_t gone = wide;

		if (s->memo[i].gen != s->memo_epoch)
			continue;
		for (int j = 0; j < k; j++)
			if (ch[j].id_hash == s->memo_hash[i] && ch[j].wl_type < LBS_WL_COUNT)
				gone |= UINT32_C(1) << ch[j].wl_type;
		s->memo[i].known &= ~gone;
	}
}

/* The memo brought to hw_remember's generation: while it is the one the
 * memo holds for, nothing to do (the promise covers the fade's half-life
 * too, one store's for its life); else the changed records forgotten
 * (memo_forget) when the records say which for the same ctx and the fade
 * stood still, or every entry (a new epoch). */
static void memo_sync(hw_state *s, const hw_learned *l)
{
	lbs_change ch[MEMO_CHANGES];
	uint64_t now = 0;
	int k = -1;

	if (s->gen == s->memo_promise)
		return;
	if (l->changes)
		k = l->changes(l->ctx, s->memo_since, &now, ch, MEMO_CHANGES);
	if (k < 0 || !s->memo_promise || l->ctx != s->memo_ctx || s->fade_now != s->memo_fade ||
	    s->fade_hl != s->memo_fade_hl)
		s->memo_epoch++;
	else
		memo_forget(s, ch, k);
	s->memo_promise = s->gen;
	s->memo_since = now;
	s->memo_ctx = l->ctx;
	s->memo_fade = s->fade_now;
	s->memo_fade_hl = s->fade_hl;
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
	c->sum = sum;
	c->rest_ub = c->b + (c->n_pref ? c->c : c->c_neutral) + c->e;

	c->lp = p->load_penalty;
	c->tp = p->temperature_penalty;
	c->qp = p->queue_penalty;
	c->beta = p->learned_weight;
	c->keep = 1.0 - p->learned_weight;
	c->keep_ub = c->keep * c->eff_ub;

	/* A duration that is not a positive number is no duration: the
	 * suitability ranks, as before completion existed. */
	c->timed = p->completion && wl->est_duration_s > 0.0 && isfinite(wl->est_duration_s);
	c->est = !c->timed ? 0.0
	         : wl->est_duration_s < EST_MIN ? EST_MIN
	         : wl->est_duration_s > EST_MAX ? EST_MAX : wl->est_duration_s;
	/* Ranked by completion, a busy worker is charged its wait, so the
	 * ceiling bars nobody (2: above any load): barring a fast worker
	 * whose queue still finishes first only moves the wait into the
	 * host's queue, or in nginx into a 502, where nothing scores it
	 * (docs/SCORING.md, "The load ceiling").  Without a duration there
	 * is no wait to score, and the ceiling stays the original's guard. */
	c->ceiling = c->timed ? 2.0 : p->load_ceiling;
	c->pk = p->prior_weight;
	c->scale = p->prior_scale;
	c->fc = p->failure_cost;
	/* prior_speed() of eff_ub, which no device's efficiency exceeds. */
	c->sp_ub = p->prior_scale * c->eff_ub > PRIOR_MIN ? p->prior_scale * c->eff_ub : PRIOR_MIN;
	c->s_ub = c->sp_ub;
	c->sl_ub = 0.0;
	c->open_work = NULL;
	c->open_ctx = NULL;
	c->open_prefetch = NULL;
	c->u_lb = 1.0;
	c->lat_ref = NAN;
	c->fade_now = s->fade_now;
	c->fade_hl = s->fade_hl;
	c->pref_new = 0.5;
}

/* The sizes of the open work, for timed work only (nothing else waits);
 * and the type's latency reference. */
static void ctx_open(hw_ctx *c, const hw_learned *l)
{
	if (l && l->lookup && l->latency_ref) {
		c->lat_ref = l->latency_ref(l->ctx, c->wl->type);
		/* Untried workers are tried while latency is all there is. */
		if (isfinite(c->lat_ref))
			c->pref_new = 1.0;
	}
	if (c->timed && l && l->open_work) {
		c->open_work = l->open_work;
		c->open_ctx = l->open_ctx;
		c->open_prefetch = l->open_prefetch;
		/* A worker the ledger does not know has u = 1. */
		c->u_lb = l->open_min >= 0.0 && l->open_min / c->est < 1.0
		          ? l->open_min / c->est : l->open_min >= 0.0 ? 1.0 : 0.0;
	}
}

/* With a learned store: a speed, a weighted geometric mean of the learned
 * one and the prior's, is at most the larger of their bounds. */
static void ctx_learned(hw_ctx *c, const hw_learned *l)
{
	double ub;

	if (!l || !l->lookup)
		return;
	ub = l->speed_ub ? l->speed_ub(l->ctx, c->wl->type) : INFINITY;
	/* NaN (a broken bound) fails the test: unknown. */
	c->sl_ub = ub <= INFINITY ? ub : INFINITY;
	c->s_ub = c->sl_ub > c->sp_ub ? c->sl_ub : c->sp_ub;
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

/* Throughput of a device for the kind of work whose coefficients are
 * coef (hw_ctx's, or plain_eff()'s copy of them). */
#define FEAT_KEY_BITS (LBS_FEAT_TENSOR_CORES | LBS_FEAT_QUANTIZATION)

/* The first column of a row (ROW) for the device's features &
 * FEAT_KEY_BITS, 2 for tensor cores plus 1 for quantisation, times the
 * classes: one load and an add to the class a device instead of two bit
 * tests. */
static const uint8_t feat_key[FEAT_KEY_BITS + 1] = {
	[LBS_FEAT_TENSOR_CORES] = 2 * LBS_CLASS_COUNT,
	[LBS_FEAT_QUANTIZATION] = 1 * LBS_CLASS_COUNT,
	[FEAT_KEY_BITS] = 3 * LBS_CLASS_COUNT,
};

/* x = x > b ? x : b, never a branch: MAXSD is exactly that test (so b
 * for a NaN x).  GCC made the ternary a branch, a few percent of a full
 * scan's time at 512 workers (perf, cpu-clock), and _mm_max_sd() on
 * _mm_set_sd() cost a MOVQ to clear the upper half; "xm" lets a constant
 * b stay in memory rather than take a register for every device.  A
 * macro, as an inline function's boundary moved GCC's registers in the
 * device loops (an instruction more a device). */
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__SSE2_MATH__))
#define MAX_SD(x, b) __asm__("maxsd %1, %0" : "+x"(x) : "xm"(b))
#else
#define MAX_SD(x, b) ((x) = (x) > (b) ? (x) : (b))
#endif

HOT double throughput_of(const double *coef, const lbs_device *d, uint32_t *cls_out)
{
	uint32_t cls = d->hw_class < LBS_CLASS_COUNT ? d->hw_class : LBS_CLASS_UNKNOWN;
	/* Sizes: in 32 bits GCC zero-extended each index again. */
	size_t key = (size_t)feat_key[d->features & FEAT_KEY_BITS] + cls;
	/* 0 units count as 1: the max of the units and 1.0 is the same
	 * double as the count with 1 added at 0, in one MAXSD from memory
	 * rather than a compare and an add with carry a device. */
	double t = (double)d->compute_units;

	MAX_SD(t, 1.0);
	t *= coef[key];

	*cls_out = cls;
	/* Without a clock the ratio is 1, and t x 1.0 is t: no multiply,
	 * and no 1.0 to load for every device. */
	if (d->clock_mhz) {
		double ratio = (double)d->clock_mhz * coef[COEF_CLOCK + (size_t)cls];

		/* The clamp as a max and a min, without branches: the ratio
		 * is never NaN, so the same value as a test for each bound. */
		MAX_SD(ratio, 0.25);
		t *= ratio < 4.0 ? ratio : 4.0;
	}
	return t;
}

/* Throughput of a device for this call's kind of work. */
HOT double throughput(const hw_ctx *c, const lbs_device *d, uint32_t *cls_out)
{
	return throughput_of(c->coef, d, cls_out);
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
	double g;    /* timed: wait / run (worker_wait) */
	double pw;   /* timed: the host's pending work in runs of the new
	                work, < 0 when it gives none (worker_ahead) */
	double u;    /* timed: the size of a test ahead in runs of the new
	                work, when pw < 0 */
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

/*
 * What is known of the work ahead of a worker, for worker_wait: the host's
 * own pending_work_s when its struct has the field and the value is a
 * number >= 0, else the mean size of what this scheduler placed there and
 * has not heard back about (the ledger), else nothing (u = 1: the tests
 * ahead are taken to be like the new work).  The host's number wins: it
 * sees work other balancers placed and knows how much of a running test
 * is left, where the ledger counts only this instance's placements, whole.
 */
/* Seconds of work (>= 0, finite) in runs of the new work, at most
 * RUNS_MAX. */
static inline double runs_in(double seconds, double est)
{
	double r = seconds / est;

	return r < RUNS_MAX ? r : RUNS_MAX;
}

static inline double runs_of(const hw_ctx *c, double seconds)
{
	return runs_in(seconds, c->est);
}

/* The host gives w's pending work: its struct has the field, and a number
 * >= 0 in it. */
HOT int host_pending(const lbs_worker *w)
{
	return LBS_HAS_FIELD(w, lbs_worker, pending_work_s) && w->pending_work_s >= 0.0 &&
	       w->pending_work_s < INFINITY;
}

HOT void worker_ahead_host(const hw_ctx *c, const lbs_worker *w, hw_wk *k)
{
	k->pw = -1.0;
	k->u = 1.0;
	if (c->timed && host_pending(w))
		k->pw = runs_of(c, w->pending_work_s);
}

/* The ledger's part, after worker_ahead_host: a lookup by id (i, the
 * worker's position, lets the lookup cache where it found it). */
HOT void worker_ahead_ledger(const hw_ctx *c, const lbs_worker *w, uint32_t i, hw_wk *k)
{
	if (k->pw < 0.0 && c->open_work) {
		double m = c->open_work(c->open_ctx, i, w->id);

		if (m > 0.0 && m < INFINITY)
			k->u = runs_of(c, m);
	}
}

HOT void worker_ahead(const hw_ctx *c, const lbs_worker *w, uint32_t i, hw_wk *k)
{
	worker_ahead_host(c, w, k);
	worker_ahead_ledger(c, w, i, k);
}

/*
 * The wait for timed work in runs of the new work on this worker, after
 * worker_loadf and worker_ahead: with c slots and `ahead` tests before it,
 * the new work starts after ahead + 1 - c of them have finished, and c
 * slots finish c of them at a time, so
 *   g = u x max(0, ahead + 1 - c) / c,
 * u the size of a test ahead in runs of the new work.  When the host gives
 * its pending work P (in runs of the new work), a test ahead is P / ahead
 * (ahead at least 1 then: work without a test counted is one test).  An
 * 8-slot worker with one test has a free slot: no wait, whatever its size.
 * Without any size, u = 1 and a running test counts as a whole run: half a
 * run left would be the unbiased guess, but in simulation the whole run
 * chose better, by 5-15 % in mean completion on heterogeneous fleets, since
 * a wait that leans long on busy workers also counts the work that will
 * queue behind this one (docs/SCORING.md, section 10).  ahead is the
 * host's count of tests, or its load x c when that is more: a host that
 * reports utilisation but counts no tests still has its busy workers wait.
 * The count is always the host's (a report may come late or never, and
 * the host's count is current); the ledger only says how big they are.
 *
 * The host's pending work is the true wait, which is what the new test
 * suffers but not what it costs: placed in a queue, it also delays every
 * test that will queue behind it there, and a queue that is long now stays
 * long.  So the wait is charged a congestion factor 2 + ahead / c: its
 * own wait, once more for the work that will arrive behind it (in a queue
 * at rest that is as much again), and the queue's length in slots, since
 * the delay a job adds grows with the queue it joins (the externality of
 * an M/M/c queue grows with its occupancy).  Tuned on simgen seeds 1-20
 * only (docs/SIMULATE.md): the mean ratio to the oracle went from 1.026 to
 * 0.943; 2 + ahead/2c, 3 + ahead/c, 2 + 2 ahead/c and 1 + 2 ahead/c all
 * scored 0.944-0.952.  The whole-run guess without a size (below) leans
 * long for the same reason.
 *
 * g never decreases as ahead grows (the factor grows too), so a bound
 * from active + queued alone (screen_timed) is a lower bound.
 */
HOT double wait_of(const hw_wk *k, double ahead)
{
	double m, a;

	if (k->pw >= 0.0) {
		a = ahead > 1.0 ? ahead : 1.0;
		m = a + 1.0 - k->cap;
		return m > 0.0 ? k->pw * m / (a * k->cap) * (2.0 + a / k->cap) : 0.0;
	}
	m = ahead + 1.0 - k->cap;
	return m > 0.0 ? k->u * m / k->cap : 0.0;
}

/* wait_of() x the capacity, without its division when the host gives no
 * pending work (the common case): a bound multiplied out by the capacity
 * then costs none. */
HOT double wait_cap(const hw_wk *k, double ahead)
{
	double m;

	if (k->pw >= 0.0)
		return wait_of(k, ahead) * k->cap;
	m = ahead + 1.0 - k->cap;
	return m > 0.0 ? k->u * m : 0.0;
}

HOT void worker_wait(hw_wk *k)
{
	double busy = k->load * k->cap;

	k->g = wait_of(k, k->nq > busy ? k->nq : busy);
}

/* The throughput a throttled worker has left: its performance_level while
 * WARMING or COOLING, at least PERF_MIN (NaN counts as the least, as it
 * counts as no throughput in the effective load), else 1. */
HOT double worker_perf(const lbs_worker *w)
{
	double perf;

	if (w->thermal_state != LBS_THERMAL_WARMING && w->thermal_state != LBS_THERMAL_COOLING)
		return 1.0;
	perf = w->performance_level > PERF_MIN ? w->performance_level : PERF_MIN;
	return perf < 1.0 ? perf : 1.0;
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
 * filter's order.  Returns ELIG_OK with *eff, *adj and *k set (and f filled
 * when not NULL) or the reason it is not eligible.
 */
HOT enum elig_reason worker_adjusted(const hw_ctx *c, const lbs_worker *w, uint32_t i,
                                     double *eff, double *adj, hw_wk *k,
                                     hw_factors *f)
{
	enum elig_reason r;

	r = worker_eff(c, w, eff, f);
	if (r != ELIG_OK)
		return r;
	worker_thermal_queue(c, w, k);
	worker_loadf(c, w, k);
	if (k->load > c->ceiling)
		return ELIG_OVERLOADED;
	worker_factor(c, k);
	worker_ahead(c, w, i, k);
	worker_wait(k);
	*adj = *eff * k->w;
	if (f) {
		f->effective_load = k->le;
		f->load_factor = k->lf;
		f->temperature_factor = k->tf;
		f->queue_factor = 1.0 / k->qf;
		f->adjusted = *adj;
	}
	return ELIG_OK;
}

static const hw_known neutral = {.pref = 0.5, .rel = 1.0};

/* A record as the scores use it (sl is left 0: known_at sets it). */
static void known_from(const hw_ctx *c, const lbs_history *h, hw_known *r)
{
	double age, f;

	*r = neutral;
	r->pref = c->pref_new;
	if (!h)
		return;
	/* The evidence fades with the time since the pair's last outcome:
	 * the preference's distance from neutral, and the failure counts
	 * against a prior that does not.  A worker that failed through an
	 * outage and got no work since kept the preference it had then, and
	 * with it lost every close call, for good. */
	age = c->fade_hl > 0.0 ? c->fade_now - h->last_update : 0.0;
	f = age > 0.0 ? exp2(-age / c->fade_hl) : 1.0;
	r->pref = 0.5 + (clamp01(h->preference, 0.5) - 0.5) * f;
	if (h->ratio_n == 0 && h->successes > 0 && h->mean_duration > 0.0 &&
	    isfinite(c->lat_ref)) {
		/* Latency alone fades as the preference does: one slow spell
		 * of a worker that got no work since must not keep it out
		 * for good. */
		double rel = f * (c->lat_ref - log(h->mean_duration));

		r->pref *= rel < 0.0 ? exp(rel > -HIST_LOG_RATIO_MAX ? rel : -HIST_LOG_RATIO_MAX)
		                     : 1.0;
	}
	/* A lookup may be anyone's: a mean that is no number teaches no
	 * speed, and one beyond what learning gives is cut to that. */
	if (h->ratio_n > 0 && isfinite(h->log_ratio_mean)) {
		double m = h->log_ratio_mean;

		m = m < -HIST_LOG_RATIO_MAX ? -HIST_LOG_RATIO_MAX
		    : m > HIST_LOG_RATIO_MAX ? HIST_LOG_RATIO_MAX : m;
		r->n = (double)h->ratio_n;
		r->ls = -m;
		r->w = r->n / (r->n + c->pk);
	}
	if (h->samples > 0) {
		/* A failure costs failure_cost runs: expected cost per
		 * success 1 + F q / (1 - q), its inverse a reliability. */
		double q = f * (double)(h->samples - (h->successes < h->samples ? h->successes
		                                                                : h->samples)) /
		           (f * (double)h->samples + HW_RELIABILITY_PRIOR);
		double p = q < 1.0 ? (1.0 - q) / (1.0 - q + c->fc * q) : 0.0;

		r->rel = p > REL_MIN ? (p < 1.0 ? p : 1.0) : REL_MIN;
	}
}

/* The record of a worker by id, straight from the lookup. */
static inline void known_of(const hw_ctx *c, const hw_learned *l, const char *id,
                            hw_known *r)
{
	if (!l || !l->lookup) {
		*r = neutral;
		return;
	}
	known_from(c, l->lookup(l->ctx, c->wl->type, id), r);
}

/* The id pointed to is `text` (NUL-terminated within MEMO_ID).  Every
 * select of a learned store compares most workers' ids, and a loop of
 * one test per character mispredicts its exit wherever a fleet's ids
 * differ in length ("w-9", "w-10"): libc's compare reads a vector of each
 * at a time, never past a page it may not read, and took 1.0 ns an id
 * against the loop's 2.6 over 512 ids of 8 to 10 characters. */
static inline int same_id(const char *text, const char *id)
{
	return !strcmp(text, id);
}

/* Where a select finds learned records: the lookup, and the state's memo
 * when hw_remember vouches for it (m NULL otherwise; rec the memo's
 * records of the select's type). */
typedef struct hw_lk {
	const hw_learned *l;
	hw_memo *m;
	hw_known *rec;
	uint64_t gen;  /* the memo's epoch */
	int bounds; /* a select: known_at sets sl */
	uint64_t *hash; /* the memo's id hashes */
} hw_lk;

/* known_of() with sl, for the worker at position i, through the memo
 * when there is one: a pointer to the memo's entry or to *tmp. */
static inline const hw_known *known_at(const hw_ctx *c, const hw_lk *lk,
                                       const lbs_worker *w, uint32_t i,
                                       hw_known *tmp)
{
	uint32_t t = c->wl->type;
	hw_known *r = tmp;
	hw_memo *m;

	if (!lk->m || t >= LBS_WL_COUNT)
		goto read;
	m = &lk->m[i];
	if (m->gen != lk->gen || m->id != w->id || !same_id(m->text, w->id)) {
		uint32_t len = 0;

		while (len < MEMO_ID && w->id[len])
			len++;
		if (len == MEMO_ID) {
			m->gen = 0;
			goto read;
		}
		memcpy(m->text, w->id, len + 1);
		m->gen = lk->gen;
		m->id = w->id;
		m->known = 0;
		lk->hash[i] = wid_hash(w->id);
	} else if (m->known & (UINT32_C(1) << t)) {
		return &lk->rec[i];
	}
	r = &lk->rec[i];
	m->known |= UINT32_C(1) << t;
read:
	known_of(c, lk->l, w->id, r);
	/* Only the bounds need it; with the memo, once per record and
	 * generation. */
	r->sl = lk->bounds && r->w > 0.0 ? exp(r->ls) : 0.0;
	return r;
}

/* The memo has the record of the worker at position i for this type
 * (bit: 1 << type; lk->m set), lk->rec[i] (id text compared, as
 * known_at).  A yes, not the record's pointer: a caller that tested the
 * pointer for NULL paid a test of lk->rec + i too. */
static inline int memo_has(const hw_lk *lk, uint32_t bit, const lbs_worker *w, uint32_t i)
{
	const hw_memo *m = &lk->m[i];

	return m->gen == lk->gen && m->id == w->id && (m->known & bit) && same_id(m->text, w->id);
}

/* memo_has()'s record, else NULL.  memo_rec() for any lk and type. */
static inline const hw_known *memo_hit(const hw_lk *lk, uint32_t bit, const lbs_worker *w,
                                       uint32_t i)
{
	return memo_has(lk, bit, w, i) ? &lk->rec[i] : NULL;
}

static inline const hw_known *memo_rec(const hw_ctx *c, const hw_lk *lk,
                                       const lbs_worker *w, uint32_t i)
{
	uint32_t t = c->wl->type;

	if (!lk || !lk->m || t >= LBS_WL_COUNT)
		return NULL;
	return memo_hit(lk, UINT32_C(1) << t, w, i);
}

static inline double blend(const hw_ctx *c, double adj, double pref)
{
	return c->keep * adj + c->beta * pref;
}

/*
 * The ranking rule: does (sa, ta, la, ia) come before (sb, tb, lb, ib)?
 * s the score, t the suitability, l the effective load, i the position.
 * Without completion the score is the suitability times the reliability:
 * scores within HW_TIE_EPS with suitabilities apart (the higher one the
 * less reliable) go to the higher suitability, as timed scores do.
 */
static inline int ranks_before(double sa, double ta, double la, uint32_t ia,
                               double sb, double tb, double lb, uint32_t ib)
{
	if (sa > sb + HW_TIE_EPS)
		return 1;
	if (sa < sb - HW_TIE_EPS)
		return 0;
	if (ta > tb + HW_TIE_EPS)
		return 1;
	if (ta < tb - HW_TIE_EPS)
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

/* The prior speed of a worker whose best device has efficiency eff. */
static inline double prior_speed_at(double scale, double eff)
{
	double sp = scale * eff;

	return sp > PRIOR_MIN ? sp : PRIOR_MIN;
}

HOT double prior_speed(const hw_ctx *c, double eff)
{
	return prior_speed_at(c->scale, eff);
}

/*
 * The speed: the learned log speed and the prior's, weighted by samples
 * (without samples the prior, with no exp or log to pay), times what a
 * throttle leaves of it now.  The learned ratio is an average over the
 * worker's runs, throttled or not, so a throttle now is partly counted
 * twice.  That is kept on purpose: a worker the scheduler keeps cool ran
 * most of its history at full speed, and one throttled often enough to
 * lower its average is steered away until an idle moment lets it recover.
 * Counting the throttle in the prior only measured worse in most simulated
 * cases, by up to 60 % in mean completion (docs/SCORING.md, section 10).
 */
HOT double speed_of(const hw_known *r, double sp, double perf)
{
	return (r->w > 0.0 ? exp(r->w * r->ls + (1.0 - r->w) * log(sp)) : sp) * perf;
}

/* timed_score()'s numerator, and its denominator into *den. */
HOT double timed_parts(double s, const hw_known *r, double g, double *den)
{
	double sr = s * r->rel;

	*den = sr + 1.0 + g;
	return sr;
}

/* The completion score, est / (est + completion) with the est divided
 * out: s p / (s p + 1 + g). */
HOT double timed_score(double s, const hw_known *r, double g)
{
	double den, sr = timed_parts(s, r, g, &den);

	return sr / den;
}

/* Fill the score-level fields of f for a worker already adjusted; k and
 * eff are what worker_adjusted() gave. */
static void finish(const hw_ctx *c, const hw_learned *l, const lbs_worker *w,
                   const hw_wk *k, double eff, hw_factors *f)
{
	hw_known r;
	double sp, s;

	known_of(c, l, w->id, &r);
	f->learned = r.pref;
	f->suitability = blend(c, f->adjusted, r.pref);
	f->reliability = r.rel;
	/* A worker that fails is worth its successes, timed or not: an
	 * untimed score of suitability alone kept every request on a
	 * favourite on paper that failed all of them. */
	f->score = f->suitability * r.rel;
	if (!c->timed)
		return;
	sp = prior_speed(c, eff);
	s = speed_of(&r, sp, worker_perf(w));
	f->timed = 1;
	f->prior_speed = sp;
	f->ratio_n = r.n;
	f->learned_speed = r.w > 0.0 ? exp(r.ls) : 0.0;
	f->speed = s;
	f->run_s = c->est / s;
	f->wait_s = f->run_s * k->g;
	f->completion_s = (f->wait_s + f->run_s) / r.rel;
	f->score = timed_score(s, &r, k->g);
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
               double pref_ub, const hw_lk *lk, double *pref, double *rel, hw_wk *k,
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
	*rel = 1.0;
	if (lk) {
		hw_known tmp;
		const hw_known *r = known_at(c, lk, w, i, &tmp);

		*pref = r->pref;
		*rel = r->rel;
		/* rel x blend < cut: blend < cut / rel (rel > 0). */
		rhs = (cut / r->rel - c->beta * *pref) * (k->cap + c->qp * k->nq);
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

/* A bound of speed_of(): the weighted geometric mean of the learned and
 * the prior speed is at most their weighted arithmetic mean, which needs
 * no exp or log.  Exact when there are no samples. */
HOT double speed_ub(const hw_known *r, double sp, double perf)
{
	return (r->w * r->sl + (1.0 - r->w) * sp) * perf;
}

/*
 * The throughput a device needs for its worker to reach the cut, as the
 * check T x *tq >= *tr (always true when nothing can be said).  A device's
 * efficiency needs to reach E = sp_need / prior_scale, sp_need the prior
 * speed that puts speed_ub() at the cut; with every term but compute at
 * its best, a T / (T + K) >= E sum - rest_ub.  Multiplied out by
 * D = room perf (1 - w) prior_scale > 0, with N = rhs - w sl room perf
 * (so E = N / D) and X = N sum - rest_ub D, that is T (a D - X) >= X K:
 * a multiply per device instead of its division.  Only when the prior
 * speed's floor cannot reach the cut by itself, and with a hair of slack
 * so that rounding never drops a device that could tie.  room and rhs are
 * screen_timed()'s, r the record (neutral: as if nothing were learned).
 */
HOT void throughput_needed(const hw_ctx *c, const hw_known *r, double cut,
                           double room, double perf, double rhs, double *tq,
                           double *tr)
{
	double dd = room * perf * (1.0 - r->w) * c->scale;
	double nn = rhs - r->w * r->sl * room * perf;

	*tq = 0.0;
	*tr = -1.0;
	if (c->no_weight || !(cut > 0.0) || !(dd > 0.0) || !(nn * c->scale > PRIOR_MIN * dd))
		return;
	*tr = nn * c->sum - c->rest_ub * dd; /* X */
	*tq = c->a * dd - *tr;
	*tr *= c->k;
	*tr -= (*tr > 0.0 ? *tr : -*tr) * 1e-9;
}

/* The cut's part of the bounds (hw_cut), with the arithmetic
 * screen_timed() uses for the same worker. */
static void cut_set(const hw_ctx *c, hw_cut *cc, double cut)
{
	cc->cut = cut;
	cc->room1 = 1.0 - cut;
	cc->idle_drop = c->s_ub * cc->room1 < cut;
	/* speed_ub() of no record is the prior's bound itself. */
	cc->idle_drop0 = c->sp_ub * cc->room1 < cut;
	cc->idle_late = c->sl_ub * cc->room1 < cut;
	throughput_needed(c, &neutral, cut, cc->room1, 1.0, cut, &cc->tq0, &cc->tr0);
	/* All set, so that no compiler sees a read before the first. */
	memset(cc->rec_key, 0, sizeof cc->rec_key);
	cc->rec_valid = 0;
	cc->rec_drop = 0;
	cc->rec_tq = 0.0;
	cc->rec_tr = -1.0;
}

/* The bounds of an idle worker at full speed with record r (rhs the cut,
 * room room1 x rel, perf 1), through the cut's one-entry cache: the same
 * arithmetic on the same bits, so the same answer.  1: below the cut. */
/* The record's figures the bounds of an idle or busy worker use, as
 * bits: equal bits, equal bounds. */
static inline void rec_key(const hw_known *r, uint64_t key[3])
{
	memcpy(&key[0], &r->w, sizeof key[0]);
	memcpy(&key[1], &r->sl, sizeof key[1]);
	memcpy(&key[2], &r->rel, sizeof key[2]);
}

static inline int same_rec(const uint64_t key[3], const hw_known *r)
{
	uint64_t k[3];

	rec_key(r, k);
	return k[0] == key[0] && k[1] == key[1] && k[2] == key[2];
}

HOT int cut_rec(const hw_ctx *c, hw_cut *cc, const hw_known *r, double *tq, double *tr)
{
	if (!cc->rec_valid || !same_rec(cc->rec_key, r)) {
		rec_key(r, cc->rec_key);
		cc->rec_valid = 1;
		cc->rec_drop = speed_ub(r, c->sp_ub, 1.0) * cc->room1 * r->rel < cc->cut;
		throughput_needed(c, r, cc->cut, cc->room1 * r->rel, 1.0, cc->cut, &cc->rec_tq,
		                  &cc->rec_tr);
	}
	*tq = cc->rec_tq;
	*tr = cc->rec_tr;
	return cc->rec_drop;
}

/*
 * screen_timed()'s first bound for a worker it does not take as idle: the
 * queue the host counts, g x cap at ahead = active + queued, at most the
 * real one with the least size the ledger may give before it is asked
 * (*looked: that lookup is still to come).  k has nq, cap and pw; busy is
 * ahead >= cap.  Sets *rhs and *room; 1 when w is below the cut.
 */
HOT int queue_below(const hw_ctx *c, hw_wk *k, int busy, double cut, double perf, int *looked,
                    double *rhs, double *room)
{
	*looked = busy && k->pw < 0.0 && c->open_work;
	if (*looked)
		k->u = c->u_lb;
	*rhs = cut * (k->cap + wait_cap(k, k->nq));
	/* An infinite bound with a room of 0 is NaN, which skips nothing. */
	*room = (1.0 - cut) * k->cap;
	return c->s_ub * perf * *room < *rhs;
}

/*
 * screen() for timed work.  score = S / (S + 1 + g), S = s x rel, is
 * below the cut exactly when S (1 - cut) < cut (1 + g) (scores are < 1,
 * so 1 - cut > 0; a cut of -1 skips nothing), and s is at most
 * speed_ub().  Cheapest first, each multiplied out by the capacity so that
 * a worker that cannot win costs no division:
 *   1. the queue the host counts (the wait is at least what it says)
 *      with the bound of every speed (s_ub), before the lookup; then with
 *      the worker's learned record and the prior speed of eff_ub (with
 *      the memo, before the ledger's lookup: the record's reliability
 *      bounds the score too, and a store whose records all have one
 *      below 1 lowers the cut by as much, so that s_ub alone lets through
 *      several times the busy workers; for an idle worker at full speed
 *      through the cut's cache, cut_rec);
 *   2. the devices, each scored only when its throughput alone could
 *      reach the cut (throughput_needed()); when the hard filter is more
 *      than the device checks, the best of all devices, eligible or not,
 *      then the filter;
 *   3. the wait the load may add (timed work has no load ceiling);
 *   4. the worker's own prior speed, before paying for exp and log.
 * Most workers that pass 1 are idle ones, which the queue cannot tell
 * apart.  When no learned speed could reach the cut, a speed that does
 * must owe it to the prior (a mean is at most its larger part, and the
 * reliability only lowers it), so the throughputs are first checked as if
 * nothing were learned, and a worker none of whose devices could is
 * dropped before its lookup (a hash probe and an exp while the memo is
 * invalid, as after every report).
 * On success *sc, *tie (the suitability) and *le are its ranking keys.
 */
HOT int screen_timed(const hw_ctx *c, const lbs_worker *w, uint32_t i, hw_cut *cc,
                     const hw_lk *lk, double *sc, double *tie, double *le)
{
	uint32_t nd = w->n_devices < 64 ? w->n_devices : 64;
	uint32_t cap = w->capacity ? w->capacity : 1;
	uint64_t ahead = (uint64_t)w->active_tests + w->queued_tests;
	uint64_t mask = 0, reserved = w->reserved_memory_bytes;
	double effs[64], all = -1.0, eff = -1.0, cut = cc->cut, perf, rhs, room, sp, tq, tr;
	const hw_known *r = &neutral, *hot = NULL;
	int later, looked = 0, plain;
	hw_known tmp;
	hw_wk k;

	/* worker_thermal_queue() less the temperature, which only the
	 * suitability needs. */
	k.nq = (double)ahead;
	k.cap = (double)cap;
	perf = worker_perf(w);
	/* The size of the work ahead matters only when it has to wait: a
	 * free slot spares the ledger's lookup until the load is known. */
	worker_ahead_host(c, w, &k);
	/* Idle (a free slot, and no pending work from the host): no wait
	 * from the count, so the bounds below are the cut's, per unit of
	 * capacity (every check is homogeneous in room and rhs). */
	plain = ahead < cap && k.pw < 0.0 && perf == 1.0;
	if (plain) {
		if (cc->idle_drop)
			return 0;
		room = cc->room1;
		rhs = cut;
	} else {
		if (queue_below(c, &k, ahead >= cap, cut, perf, &looked, &rhs, &room))
			return 0;
		/* The record bounds the speed with its reliability, which
		 * s_ub cannot (a worker without a record has 1): before the
		 * ledger's lookup.  Only with the memo, which keeps it for
		 * the selects to come (without it the ledger's bound is the
		 * cheaper first). */
		if (lk && lk->m) {
			hot = known_at(c, lk, w, i, &tmp);
			if (speed_ub(hot, c->sp_ub, perf) * room * hot->rel < rhs)
				return 0;
		}
		if (looked) {
			k.u = 1.0;
			worker_ahead_ledger(c, w, i, &k);
			rhs = cut * (k.cap + wait_cap(&k, k.nq));
			if (c->s_ub * perf * room < rhs)
				return 0;
		}
		plain = 0;
	}
	/* A record the memo has is cheap, and its learned speed makes the
	 * check on the devices tighter. */
	if (plain)
		hot = memo_rec(c, lk, w, i);
	later = lk && !c->full && !hot && (plain ? cc->idle_late : c->sl_ub * perf * room < rhs);
	if (hot)
		r = hot;
	else if (lk && !later)
		r = known_at(c, lk, w, i, &tmp);
	/* Idle at full speed: the cut's own bounds, with nothing learned or
	 * with a record like the last one. */
	if (plain && r != &neutral) {
		if (cut_rec(c, cc, r, &tq, &tr))
			return 0;
	} else if (plain ? cc->idle_drop0 : speed_ub(r, c->sp_ub, perf) * room * r->rel < rhs) {
		return 0;
	}
	if (!c->full) {
		double tput[64];

		/* Devices 0..63 have a mask bit, as in the hard filter. */
		if (plain && r == &neutral) {
			tq = cc->tq0;
			tr = cc->tr0;
		} else if (!plain) {
			throughput_needed(c, r, cut, room * r->rel, perf, rhs, &tq, &tr);
		}
		for (uint32_t j = 0; j < nd; j++) {
			const lbs_device *d = w->devices[j];
			uint32_t cls;

			if (!d || d->struct_size < LBS_DEVICE_SIZE_V1_0)
				continue;
			tput[j] = throughput(c, d, &cls);
			if (tput[j] * tq >= tr)
				mask |= UINT64_C(1) << j;
		}
		if (!mask)
			return 0;
		if (later) {
			r = known_at(c, lk, w, i, &tmp);
			throughput_needed(c, r, cut, room * r->rel, perf, rhs, &tq, &tr);
		}
		for (uint64_t b = mask; b; b &= b - 1) {
			uint32_t j = lowest_bit(b);
			const lbs_device *d = w->devices[j];
			double e;

			if (tput[j] * tq >= tr && elig_device_ok(c->wl, w, d)) {
				e = dev_eff(c, d, reserved, NULL);
				eff = e > eff ? e : eff;
			}
		}
		if (eff < 0.0)
			return 0;
	} else {
		/* The devices as screen() does them. */
		for (uint32_t j = 0; j < nd; j++) {
			const lbs_device *d = w->devices[j];
			double e;

			if (!d || d->struct_size < LBS_DEVICE_SIZE_V1_0)
				continue;
			effs[j] = e = dev_eff(c, d, reserved, NULL);
			all = e > all ? e : all;
		}
		if (speed_ub(r, prior_speed(c, all), perf) * room * r->rel < rhs)
			return 0;
		if (elig_check(c->wl, w, 2.0, &mask) != ELIG_OK || !mask)
			return 0;
		for (uint64_t b = mask; b; b &= b - 1) {
			double e = effs[lowest_bit(b)];

			eff = e > eff ? e : eff;
		}
	}
	/* No ceiling: timed work scores the wait instead (ctx_init). */
	worker_loadf(c, w, &k);
	if (!looked && k.load * k.cap + 1.0 > k.cap)
		worker_ahead_ledger(c, w, i, &k);
	worker_wait(&k);
	sp = prior_speed(c, eff);
	room = (1.0 - cut) * r->rel;
	rhs = cut * (1.0 + k.g);
	if (speed_ub(r, sp, perf) * room < rhs)
		return 0;
	*sc = timed_score(speed_of(r, sp, perf), r, k.g);
	worker_thermal_queue(c, w, &k);
	worker_factor(c, &k);
	*tie = blend(c, eff * k.w, r->pref);
	*le = k.le;
	return 1;
}

/* One worker's ranking keys, unless it is ineligible or provably below
 * `cut`.  lk: the learned records, NULL when nothing is learned (then
 * every preference is 0.5).  timed is c->timed, passed on its own so that
 * a loop can be specialised for it. */
HOT int worker_rank(const hw_ctx *c, int timed, const hw_lk *lk, const lbs_worker *w,
                    uint32_t i, hw_cut *cc, double *sc, double *tie, double *le)
{
	double adj, pref, rel;
	hw_wk k;

	if (timed)
		return screen_timed(c, w, i, cc, lk, sc, tie, le);
	/* screen() looks the learned preference up, when there is one. */
	if (!screen(c, w, i, cc->cut, lk ? 1.0 : 0.5, lk, &pref, &rel, &k, &adj))
		return 0;
	*tie = blend(c, adj, pref);
	*sc = *tie * rel;
	*le = k.le;
	return 1;
}

/* lk: the learned records, NULL when nothing is learned.  cc is the
 * cut of b (cut_set), kept with it. */
HOT void consider(const hw_ctx *c, int timed, const hw_lk *lk, const lbs_worker *w,
                  uint32_t i, hw_top *b, hw_cut *cc)
{
	double sc, tie, le;

	if (!worker_rank(c, timed, lk, w, i, cc, &sc, &tie, &le))
		return;
	if (b->idx == NONE ||
	    ranks_before(sc, tie, le, i, b->score, b->tie, b->load, b->idx)) {
		*b = (hw_top){i, sc, tie, le};
		cut_set(c, cc, sc - HW_TIE_EPS);
	}
}

/* The select loops consider the hint first, so that the cut starts at a
 * likely winner.  Returns the hint, or NONE when it is no valid worker
 * (then the loop skips no position as the hint). */
ELIG_INLINE uint32_t consider_hint(const hw_ctx *c, int timed, const hw_lk *lk,
                                   const lbs_worker *const *workers, uint32_t n,
                                   uint32_t hint, hw_top *b, hw_cut *cc)
{
	if (hint >= n || !worker_valid(workers[hint]))
		return NONE;
	consider(c, timed, lk, workers[hint], hint, b, cc);
	return hint;
}

/*
 * screen_timed()'s first drops, for a timed select with nothing learned
 * and the device checks as its whole hard filter, in a scan of its own
 * (fresh_next): screen_timed() keeps the cut in memory (cut_set writes it
 * behind a call) and prepares the rest of a worker before its first test,
 * and the select loop around it holds the registers consider() needs, so
 * that setup was most of a timed select's cost while most workers fall at
 * those first tests.
 */
typedef struct hw_fresh {
	double cut;
	/* The cut's throughput_needed() of an idle worker; tr0 NaN (no
	 * device reaches it) when idle_drop or idle_drop0 drops every idle
	 * worker at full speed: the scan then tests no flag for each. */
	double tq0, tr0;
	/* The usual busy worker's queue at the ledger's least size drops
	 * every worker of capacity q_cap whose queue is at least q_drop
	 * (fresh_below); q_cap 0 while none is known. */
	uint32_t q_cap;
	uint64_t q_drop;
	/* throughput_needed() of the last such worker the queue passed, of
	 * capacity p_cap and queue p_ahead (p_cap 0: none yet). */
	uint32_t p_cap;
	uint64_t p_ahead;
	double p_tq, p_tr;
	/* The best so far's score and suitability (tie_below); -1 before
	 * any, which drops no one there. */
	double b_sc, b_tie;
} hw_fresh;

/* The cut's figures, with both caches empty. */
static inline void fresh_init(hw_fresh *f, double cut, double tq0, double tr0)
{
	f->b_sc = f->b_tie = -1.0;
	f->cut = cut;
	f->tq0 = tq0;
	f->tr0 = tr0;
	f->q_cap = 0;
	f->q_drop = UINT64_MAX;
	f->p_cap = 0;
	f->p_ahead = 0;
	f->p_tq = 0.0;
	f->p_tr = -1.0;
}

/* b: the best so far, whose ranking keys tie_below() compares with. */
static void fresh_set(const hw_cut *cc, const hw_top *b, hw_fresh *f)
{
	fresh_init(f, cc->cut, cc->tq0, cc->idle_drop || cc->idle_drop0 ? NAN : cc->tr0);
	if (b->idx != NONE) {
		f->b_sc = b->score;
		f->b_tie = b->tie;
	}
}

/* Could a device of w reach the cut by its throughput, by
 * throughput_needed()'s check T x tq >= tr?  Devices 0..63, as in the
 * hard filter.  1 + the first such device's place, 0 when none. */
HOT int device_reaches(const hw_ctx *c, const lbs_worker *w, double tq, double tr)
{
	uint32_t nd = w->n_devices < 64 ? w->n_devices : 64, cls;
	/* Read once: GCC loaded it again for every device. */
	const double *coef = c->coef;

	for (uint32_t j = 0; j < nd; j++) {
		const lbs_device *d = w->devices[j];

		if (d && d->struct_size >= LBS_DEVICE_SIZE_V1_0 && throughput_of(coef, d, &cls) * tq >= tr)
			return (int)j + 1;
	}
	return 0;
}

/* The first bound of a worker the fast scans do not take as idle: 0 when
 * it is idle after all (a performance_level of 1 and no pending work: the
 * idle case of the scan that called), 1 when the queue it counts drops
 * it, 2 when it goes on, with k, rhs, room and looked as queue_below()
 * leaves them. */
ELIG_INLINE int busy_queue_below(const hw_ctx *c, const lbs_worker *w, double cut, double perf,
                                 hw_wk *k, int *looked, double *rhs, double *room)
{
	uint32_t cap = w->capacity ? w->capacity : 1;
	uint64_t ahead = (uint64_t)w->active_tests + w->queued_tests;

	worker_ahead_host(c, w, k);
	if (ahead < cap && k->pw < 0.0 && perf == 1.0)
		return 0;
	k->nq = (double)ahead;
	k->cap = (double)cap;
	return queue_below(c, k, ahead >= cap, cut, perf, looked, rhs, room) ? 1 : 2;
}

/* screen_timed()'s bounds with no record once the queue has passed w
 * (room and rhs as queue_below() or the ledger's size left them): the
 * prior's bound, then its devices' throughputs.  1 when they drop it. */
ELIG_INLINE int prior_below(const hw_ctx *c, const lbs_worker *w, double cut, double perf,
                            double room, double rhs)
{
	double tq, tr;

	if (speed_ub(&neutral, c->sp_ub, perf) * room * neutral.rel < rhs)
		return 1;
	throughput_needed(c, &neutral, cut, room * neutral.rel, perf, rhs, &tq, &tr);
	return !device_reaches(c, w, tq, tr);
}

/* fresh_below() for a worker that screen_timed() does not take as idle
 * (warming or cooling, the host's pending work, no ledger): the queue it
 * counts (at the ledger's least size), then, unless the ledger is to be
 * asked, prior_below().  Apart, and given no more than the worker:
 * passing it more put the usual worker's figures in memory. */
OUT_OF_LINE int fresh_below_busy(const hw_ctx *c, const hw_fresh *f, const lbs_worker *w)
{
	double perf = worker_perf(w), rhs, room;
	int looked, q;
	hw_wk k;

	q = busy_queue_below(c, w, f->cut, perf, &k, &looked, &rhs, &room);
	if (q != 2)
		return q;
	return !looked && prior_below(c, w, f->cut, perf, room, rhs);
}

/* For a worker fresh_below() passed as the usual busy worker at full
 * speed (FRESH_LOOK: no pending work from the host, its queue full, a
 * ledger to ask):
 * screen_timed()'s next steps for it with nothing learned (the ledger's
 * lookup at position i, the queue again at the size it gives, the prior's
 * bound, the devices' throughputs), the same arithmetic on the same
 * values; 1 when they drop it.  Such workers were 5 of the 6 that a
 * 64-worker select of bench_select handed to consider() past the hint,
 * and none of them won; here they cost no consider() (about 2 % fewer
 * instructions per completion select at 8 and at 64 workers).  Not in
 * fresh_next: a call there through the ledger's pointer made it keep its
 * figures in memory for every worker (1.6 % more at 512). */
OUT_OF_LINE int fresh_below_looked(const hw_ctx *c, const hw_fresh *f, const lbs_worker *w,
                                   uint32_t i)
{
	double cut = f->cut, perf = 1.0, rhs, room;
	hw_wk k;

	/* queue_below()'s figures, as fresh_below() had them. */
	k.pw = -1.0;
	k.u = 1.0;
	k.nq = (double)((uint64_t)w->active_tests + w->queued_tests);
	k.cap = (double)(w->capacity ? w->capacity : 1);
	room = (1.0 - cut) * k.cap;
	worker_ahead_ledger(c, w, i, &k);
	rhs = cut * (k.cap + wait_cap(&k, k.nq));
	return c->s_ub * perf * room < rhs || prior_below(c, w, cut, perf, room, rhs);
}

/* For an idle worker at full speed (fresh_below) some device of which
 * reaches the cut by its throughput: screen_timed()'s last bound at a
 * wait of 0, 1 when it drops w.  The efficiency is the best of every
 * device the throughput passes, eligible or not, so at least the best
 * eligible one screen_timed() takes (the same dev_eff() of the same
 * device), and prior_speed() only grows with it; its wait g >= 0 only
 * raises rhs = cut (1 + g) for a cut > 0 (a cut <= 0 drops no one
 * here).  So screen_timed() would drop w too.  Such workers were 12 a
 * select of bench_select's 512-worker fleet (4 devices), each a whole
 * consider(), and 51 of 37,965 took the lead; nearly all fall here on
 * their memory terms, which the throughput's bound takes at their best.
 * Apart: it runs for a few workers a select; given figures, not
 * fresh_next's struct, whose address would keep it in memory. */
/*
 * An idle worker at full speed that reaches the cut only to tie: most of
 * a fleet's idle workers of one kind, on a users' fleet (simgen's), where
 * every idle worker with the best's devices reaches the best's very score,
 * and the suitability decides (ranks_before).  eff bounds screen_timed()'s
 * efficiency (idle_eff_below_from) and r is the record it takes, so its
 * score is at most timed_score() at eff and a wait of 0, and its
 * suitability at most blend(eff x k.w, pref), k.w its own (every factor
 * is >= 0: the penalties are 0..1, hw_params_check; so is a bound of k.w
 * with lf taken as 1).  When that score
 * cannot pass (b_sc, b_tie) by more than HW_TIE_EPS and that suitability
 * is below b_tie by more than it, ranks_before() puts w after the best,
 * the one consider() compares it with: 1, and the select's answer stays
 * the same.  Half an HW_TIE_EPS on each side for the rounding of a bound
 * computed in another order.  On simgen's 512-worker fleets, 44 and 91
 * such workers a select went through consider() and all lost there.
 */
ELIG_INLINE int tie_below(const hw_ctx *c, const hw_known *r, const lbs_worker *w, double eff,
                          double b_sc, double b_tie)
{
	hw_wk k;

	if (!(timed_score(speed_ub(r, prior_speed(c, eff), 1.0), r, 0.0) <=
	      b_sc + HW_TIE_EPS / 2.0))
		return 0;
	/* k.w as screen_timed() has it, first with the load's factor at
	 * its most (lf <= 1), which on a users' fleet the queue and the
	 * temperature nearly always settle, sparing the load's five reads. */
	worker_thermal_queue(c, w, &k);
	k.lf = 1.0;
	worker_factor(c, &k);
	if (blend(c, eff * k.w, r->pref) + HW_TIE_EPS / 2.0 < b_tie - HW_TIE_EPS)
		return 1;
	worker_loadf(c, w, &k);
	worker_factor(c, &k);
	return blend(c, eff * k.w, r->pref) + HW_TIE_EPS / 2.0 < b_tie - HW_TIE_EPS;
}

/* fresh_idle_below() with the record r (neutral: nothing learned) and
 * the throughput_needed() screen_timed() takes for it, which it uses for
 * the devices it scores and for its last bound (learned_below).  From
 * device j0 on: the devices before it fail the throughput's test
 * (device_reaches() found j0 the first to pass), so they add nothing.
 * b_sc and b_tie: the best's keys for tie_below(), or -1 for none. */
ELIG_INLINE int idle_eff_below_from(const hw_ctx *c, const hw_known *r, const lbs_worker *w,
                                    double cut, double tq, double tr, uint32_t j0, double b_sc,
                                    double b_tie)
{
	uint32_t nd = w->n_devices < 64 ? w->n_devices : 64, cls;
	uint64_t reserved = w->reserved_memory_bytes;
	double eff = -1.0;

	for (uint32_t j = j0; j < nd; j++) {
		const lbs_device *d = w->devices[j];
		double e;

		if (!d || d->struct_size < LBS_DEVICE_SIZE_V1_0 ||
		    !(throughput(c, d, &cls) * tq >= tr))
			continue;
		e = dev_eff(c, d, reserved, NULL);
		eff = e > eff ? e : eff;
	}
	return speed_ub(r, prior_speed(c, eff), 1.0) * ((1.0 - cut) * r->rel) < cut ||
	       (eff >= 0.0 && tie_below(c, r, w, eff, b_sc, b_tie));
}

/* No best to tie with: r may be a bound of the worker's record rather
 * than the record itself (learned_below), whose preference tie_below()
 * needs. */
OUT_OF_LINE int fresh_idle_below(const hw_ctx *c, const lbs_worker *w, double cut, double tq,
                                 double tr)
{
	return idle_eff_below_from(c, &neutral, w, cut, tq, tr, 0, -1.0, -1.0);
}

/* fresh_idle_below() from device j0 on (idle_eff_below_from): fresh_below
 * knows the first device the throughput passes, and the best's keys. */
OUT_OF_LINE int fresh_idle_below_from(const hw_ctx *c, const lbs_worker *w, double cut,
                                      double tq, double tr, uint32_t j0, double b_sc,
                                      double b_tie)
{
	return idle_eff_below_from(c, &neutral, w, cut, tq, tr, j0, b_sc, b_tie);
}

/* prior_below()'s devices for the usual busy worker at full speed, at
 * the ledger's least size (fresh_below), before the ledger is asked: tq
 * and tr are throughput_needed()'s there.  The size the lookup gives is
 * at least that one, and with it rhs only grows (a cut > 0; at a cut
 * <= 0 nothing is dropped here), and so does what the throughput needs
 * (throughput_needed() is monotonic in rhs, round by round); so a worker
 * dropped here, screen_timed() drops after the lookup, on its queue, the
 * prior's bound or its devices.  (prior_below()'s own first bound, the
 * prior's speed, is the queue's with nothing learned: s_ub is sp_ub.)
 * Nearly all the busy workers bench_select's fleet sends to the ledger
 * fall here (145,700 of 145,706 in 3,048 selects at 512 workers): their
 * devices cost less than the lookup, its string compare and a return to
 * select_one_fresh.  Apart: fresh_next keeps its registers. */
OUT_OF_LINE int fresh_prior_below(const hw_ctx *c, const lbs_worker *w, double tq, double tr)
{
	return !device_reaches(c, w, tq, tr);
}

/* throughput_needed() for the usual busy worker at full speed with
 * nothing learned, at the rhs and room of its queue, in two registers. */
typedef struct hw_need {
	double tq, tr;
} hw_need;

OUT_OF_LINE hw_need fresh_need(const hw_ctx *c, double cut, double room, double rhs)
{
	hw_need t;

	throughput_needed(c, &neutral, cut, room * neutral.rel, 1.0, rhs, &t.tq, &t.tr);
	return t;
}

/* fresh_below() of a busy worker at full speed that its queue at the
 * ledger's least size does not drop: select_one_fresh asks the ledger. */
#define FRESH_LOOK 2

/* 1 when screen_timed() would drop w at its first bounds, with the same
 * arithmetic on the same values: for an idle worker at full speed without
 * pending work from the host, the cut's own bound and then each device's
 * throughput; for a busy one, the queue it counts at the ledger's least
 * size (FRESH_LOOK when that passes it); for any other,
 * fresh_below_busy().  0 for a worker that passes them, which
 * screen_timed() then decides. */
HOT int fresh_below(const hw_ctx *c, hw_fresh *f, const lbs_worker *w)
{
	/* A capacity of 0 is 1, added: no constant 1 to load and select for
	 * every worker of the scan. */
	uint32_t cap = w->capacity + (w->capacity == 0);
	uint64_t ahead = (uint64_t)w->active_tests + w->queued_tests;
	double rhs, room;
	int looked;
	hw_wk k;

	/* Throttled (worker_perf() below 1 at most). */
	int slow = w->thermal_state == LBS_THERMAL_WARMING || w->thermal_state == LBS_THERMAL_COOLING;

	/* fresh_next sees timed work alone, where k.pw < 0 is no pending
	 * work from the host: host_pending, without reading c->timed again
	 * for every worker. */
	/* Both rare, said so: GCC then kept the idle devices' loop in
	 * fewer instructions (a zero it no longer cleared per device). */
	if (ELIG_UNLIKELY(host_pending(w)))
		return fresh_below_busy(c, f, w);
	if (ahead < cap) {
		int j;

		if (ELIG_UNLIKELY(slow))
			return fresh_below_busy(c, f, w);
		j = device_reaches(c, w, f->tq0, f->tr0);
		return !j || fresh_idle_below_from(c, w, f->cut, f->tq0, f->tr0, (uint32_t)j - 1,
		                                   f->b_sc, f->b_tie);
	}
	/* The usual busy worker, at full speed: dropped on its queue, or
	 * left to screen_timed() for the ledger's lookup.  With a ledger
	 * the queue's bound depends on the capacity and the queue alone,
	 * and for one capacity it drops every queue from some length on:
	 * rhs grows with the queue at a cut > 0, round by round, and at a
	 * cut <= 0 it drops none.  So a queue at least as long as one it
	 * dropped falls without the arithmetic (most of bench_select's busy
	 * workers: one capacity, queues of two lengths).  Without a ledger
	 * the two pairs below are never set (only past the open_work test,
	 * and c is fixed for the scan), so testing open_work after them
	 * keeps it off the common path. */
	/* One branch on a selected bound (UINT64_MAX drops no queue), not
	 * two: the queue's side follows each worker's counts.  The empty asm
	 * keeps GCC from splitting the select back into two branches. */
	uint64_t q_drop = cap == f->q_cap ? f->q_drop : UINT64_MAX;

	__asm__("" : "+r"(q_drop));
	/* A throttled worker too, before its thermal state is read: its
	 * queue's bound is the same but for perf <= 1 on the speed's side,
	 * which only lowers that side (fresh_below_busy would drop it on
	 * the queue as well).  Most busy workers fall here. */
	if (ahead >= q_drop)
		return 1;
	if (slow)
		return fresh_below_busy(c, f, w);
	/* The capacity and queue the queue's bound last passed at this cut
	 * (fresh_set clears them with it): the same arithmetic would pass
	 * it again, so straight to its devices. */
	if (cap == f->p_cap && ahead == f->p_ahead)
		return fresh_prior_below(c, w, f->p_tq, f->p_tr) ? 1 : FRESH_LOOK;
	if (!c->open_work)
		return fresh_below_busy(c, f, w);
	k.pw = -1.0;
	k.u = 1.0;
	k.nq = (double)ahead;
	k.cap = (double)cap;
	if (queue_below(c, &k, 1, f->cut, 1.0, &looked, &rhs, &room)) {
		/* Shorter than q_drop when of capacity q_cap (above). */
		f->q_cap = cap;
		f->q_drop = ahead;
		return 1;
	}
	/* Kept for the next worker of the same capacity and queue: the same
	 * rhs and room, so the same figures (most busy workers of a fleet
	 * are alike). */
	{
		hw_need t = fresh_need(c, f->cut, room, rhs);

		f->p_cap = cap;
		f->p_ahead = ahead;
		f->p_tq = t.tq;
		f->p_tr = t.tr;
	}
	return fresh_prior_below(c, w, f->p_tq, f->p_tr) ? 1 : FRESH_LOOK;
}

/* fresh_below() for a valid worker whose struct may lack pending_work_s
 * (an older host), apart so that fresh_next's own copy knows the field
 * is there.  Given the cut's figures alone, with the caches (q_cap,
 * p_cap) empty, which only makes it do the arithmetic again, and no best
 * to tie with (tie_below() drops none here): a pointer to fresh_next's
 * figures took a register for the whole scan. */
OUT_OF_LINE int fresh_below_other(const hw_ctx *c, double cut, double tq0, double tr0,
                                  const lbs_worker *w)
{
	hw_fresh f;

	fresh_init(&f, cut, tq0, tr0);
	return fresh_below(c, &f, w);
}

/* fresh_next()'s answer: a position, and whether fresh_below() passed
 * it as FRESH_LOOK (then it is valid), returned in one register. */
typedef struct hw_next {
	uint32_t i;
	uint32_t look;
} hw_next;

/* fresh_next()'s step for one worker: fresh_below()'s answer, or -1 for
 * an invalid worker. */
ELIG_INLINE int fresh_one(const hw_ctx *c, hw_fresh *f, const lbs_worker *w)
{
	/* The usual worker (devices, a struct with pending_work_s) in
	 * fewer tests of its fields than worker_valid()'s, its size tested
	 * once for both (host_pending's test of it then folds away); any
	 * other is asked worker_valid() itself, and fresh_below_other().
	 * A worker with accelerators is usual too: the converter gives one
	 * to every worker whose record lists available_accelerators, and
	 * sent to fresh_below_other() they cost the queue's arithmetic
	 * afresh each (2.8x the bare scan on a simgen fleet at 512). */
	if (ELIG_LIKELY(w && LBS_HAS_FIELD(w, lbs_worker, pending_work_s) &&
	                w->struct_size >= LBS_WORKER_SIZE_V1_0 && w->id && w->devices &&
	                (!w->n_accels || (w->accel_kinds && w->accel_counts))))
		return fresh_below(c, f, w);
	if (!worker_valid(w))
		return -1;
	return fresh_below_other(c, f->cut, f->tq0, f->tr0, w);
}

/* Ask for the cache lines of p[0..len), 64 bytes each.  The two scans
 * that do differ in what they know ahead: fresh_next() walks the fleet in
 * order and asks for the worker FRESH_AHEAD places on; a sampled select
 * draws BATCH positions at random and asks for all of them at once
 * (prefetch_workers()). */
HOT void prefetch_lines(const void *p, size_t len)
{
	for (size_t o = 0; o < len; o += 64)
		PREFETCH((const char *)p + o);
}

/* How far ahead fresh_next() asks for a worker's struct, from what fleet
 * size on.  A scan at 512 workers reads some 280 KB of bench_select's
 * fleet, past the L1 cache: with the lines of the worker FRESH_AHEAD
 * places on asked for while this one is screened, its time went from
 * 3.13-3.18 us to 3.02-3.07 (4,096 workers: 38.0-38.6 us to 36.4-37.3)
 * for 3 instructions a worker more (4 and 10 places did no better than
 * 6).  At 64 workers the fleet stays in L1, and the prefetches only cost
 * their instructions: none below FRESH_AHEAD_FROM. */
#define FRESH_AHEAD 6
#define FRESH_AHEAD_FROM 128

/* The first position from i on, less the hint, that is invalid or that
 * fresh_below() does not drop; n when none.  Not inlined: it keeps its
 * counters and the cut in registers.  The scan stops short of the hint
 * and steps over it, rather than testing every position for it.  Two
 * copies (ELIG_CLONES): the AVX2 one converts each device's units and
 * clock into a register it keeps at zero (VEX's three operands), where
 * SSE2 clears the target first, two instructions a device; the same
 * operations on the same values otherwise. */
ELIG_CLONES OUT_OF_LINE hw_next fresh_next(const hw_ctx *c, const hw_fresh *fp,
                               const lbs_worker *const *workers, uint32_t i, uint32_t n,
                               uint32_t hint)
{
	/* A copy: the loop keeps it in registers, and the caller passes a
	 * pointer rather than copying the struct onto the stack each call. */
	hw_fresh f = *fp;
	uint32_t end = hint >= i && hint < n ? hint : n;

	for (;;) {
		const lbs_worker *const *p = workers + i, *const *stop = workers + end;
		/* The stretch that prefetches, in a loop of its own: no test
		 * of the distance for each worker. */
		const lbs_worker *const *far =
			n >= FRESH_AHEAD_FROM && end - i > FRESH_AHEAD ? stop - FRESH_AHEAD : p;
		int below;

		for (; p < far; p++) {
			/* The first two lines of the struct: the validity,
			 * queue and thermal fields (pending_work_s, at 128,
			 * comes with them in most layouts). */
			prefetch_lines(p[FRESH_AHEAD], 128);
			below = fresh_one(c, &f, *p);
			if (below != 1)
				return (hw_next){(uint32_t)(p - workers), below == FRESH_LOOK};
		}
		for (; p < stop; p++) {
			below = fresh_one(c, &f, *p);
			if (below != 1)
				return (hw_next){(uint32_t)(p - workers), below == FRESH_LOOK};
		}
		if (end == n)
			return (hw_next){n, 0};
		i = end + 1;
		end = n;
	}
}

/* select_one_as() for timed work with nothing learned and the device
 * checks as the whole hard filter (c->full 0): the same answer, the
 * workers that fall at screen_timed()'s first tests left in fresh_next. */
static lbs_status select_one_fresh(const hw_ctx *c, const lbs_worker *const *workers,
                                   uint32_t n, uint32_t hint, uint32_t *best_idx)
{
	hw_top b = {NONE, -1.0, -1.0, 0.0};
	hw_cut cc;
	hw_fresh f;

	cut_set(c, &cc, -1.0);
	hint = consider_hint(c, 1, NULL, workers, n, hint, &b, &cc);
	fresh_set(&cc, &b, &f);
	for (hw_next x = fresh_next(c, &f, workers, 0, n, hint); x.i < n;
	     x = fresh_next(c, &f, workers, x.i + 1, n, hint)) {
		uint32_t i = x.i;

		if (x.look) {
			if (fresh_below_looked(c, &f, workers[i], i))
				continue;
		} else if (!worker_valid(workers[i])) {
			return LBS_EINVAL;
		}
		consider(c, 1, NULL, workers[i], i, &b, &cc);
		fresh_set(&cc, &b, &f);
	}
	*best_idx = b.idx;
	return b.idx == NONE ? LBS_NO_WORKER : LBS_OK;
}

/*
 * select_one_fresh()'s scan for a store with records, through the memo
 * (lk->m), with the device checks as the whole hard filter.  Most workers
 * of a fleet the store knows fall at screen_timed()'s first bounds, which
 * with a record are the record's (cut_rec for an idle worker, its
 * reliability for a busy one); but screen_timed() holds the rest of a
 * worker in memory before its first test, and the loop around it the
 * registers consider() needs, which with every worker taken through it
 * made a select of bench_store's learned store 1.5x the empty store's.
 * learned_below() drops a worker only where screen_timed() would, on the
 * same bounds with the same arithmetic on the same values: the record's
 * when the memo has it, else (idle, no learned speed reaching the cut)
 * its devices as if nothing were learned, which screen_timed() checks
 * before the lookup.  A worker it keeps, screen_timed() decides.
 */

/* For a worker screen_timed() does not take as idle, that its queue and
 * its record r (the memo's, as screen_timed() reads it) passed, with
 * perf, looked, rhs and room as queue_below() left them: screen_timed()'s
 * next steps (the ledger's lookup at position i when `looked`, the queue
 * and the record again at the size it gives, then the devices'
 * throughputs), the same arithmetic on the same values; 1 when they drop
 * it.  Such workers went to consider() whole, and nearly all of them fall
 * here (6 % of a select of bench_store's learned store).  Apart, as
 * fresh_below_looked. */
OUT_OF_LINE int learned_below_looked(const hw_ctx *c, const hw_cut *cc, const hw_known *r,
                                     const lbs_worker *w, uint32_t i, double perf, int looked,
                                     double rhs, double room)
{
	double cut = cc->cut, tq, tr;
	hw_wk k;

	if (looked) {
		/* The devices at the ledger's least size first, as
		 * fresh_prior_below() (the size the lookup gives only raises
		 * rhs, and with it what the throughput needs): most of these
		 * workers fall there, without the lookup.  looked 2: the
		 * caller did (learned_below). */
		if (looked == 1) {
			throughput_needed(c, r, cut, room * r->rel, perf, rhs, &tq, &tr);
			if (!device_reaches(c, w, tq, tr))
				return 1;
		}
		/* queue_below()'s figures less its bound on the size. */
		k.pw = -1.0;
		k.u = 1.0;
		k.nq = (double)((uint64_t)w->active_tests + w->queued_tests);
		k.cap = (double)(w->capacity ? w->capacity : 1);
		worker_ahead_ledger(c, w, i, &k);
		rhs = cut * (k.cap + wait_cap(&k, k.nq));
		if (c->s_ub * perf * room < rhs ||
		    speed_ub(r, c->sp_ub, perf) * room * r->rel < rhs)
			return 1;
	}
	throughput_needed(c, r, cut, room * r->rel, perf, rhs, &tq, &tr);
	return !device_reaches(c, w, tq, tr);
}

/* A capacity and queue of the usual busy worker that queue_below() passed
 * at the cut: its figures, and for the record of key (rec set) that
 * record's bound (drop) and throughput_needed() at the ledger's least
 * size (tq, tr).  All of it depends on the capacity, the queue and the
 * record's w, sl and rel alone. */
typedef struct hw_queue {
	uint32_t cap; /* 0: empty */
	int looked, rec, drop;
	uint64_t ahead;
	double rhs, room, tq, tr;
	uint64_t key[3];
} hw_queue;

/* learned_next()'s caches for a cut: fresh_below()'s queue drops, and two
 * hw_queue by the queue's parity (a fleet's busy workers mostly wait
 * behind queues of two lengths one apart, which one entry missed every
 * other worker).  They hold while the cut does: select_one_learned keeps
 * them across learned_next()'s calls. */
typedef struct hw_learn {
	hw_fresh f;
	hw_queue q[2];
	int set; /* 0: nothing cached yet */
} hw_learn;

/* fresh_idle_below() with the memo's record r, for an idle worker at full
 * speed some device of which reaches the cut by the record's throughput
 * (cut_rec's tq and tr): screen_timed() scores those devices (eligible
 * ones only, so at most their best) and drops w on the same last bound,
 * or after the best (f's b_sc and b_tie) on tie_below() with the record it
 * takes, this one.  Apart, as fresh_idle_below. */
OUT_OF_LINE int learned_idle_below(const hw_ctx *c, const hw_known *r, const lbs_worker *w,
                                   const hw_fresh *f, double tq, double tr)
{
	return idle_eff_below_from(c, r, w, f->cut, tq, tr, 0, f->b_sc, f->b_tie);
}

/* learned_below() for a worker warming, cooling or with pending work from
 * the host: the queue it counts, then its record's reliability, as
 * screen_timed() does before the ledger's lookup.  Apart, as
 * fresh_below_busy. */
OUT_OF_LINE int learned_below_busy(const hw_ctx *c, const hw_cut *cc, const hw_lk *lk,
                                   uint32_t bit, const lbs_worker *w, uint32_t i)
{
	double perf = worker_perf(w), rhs, room;
	const hw_known *r;
	int looked, q;
	hw_wk k;

	q = busy_queue_below(c, w, cc->cut, perf, &k, &looked, &rhs, &room);
	if (q != 2)
		return q;
	if (!memo_has(lk, bit, w, i))
		return 0;
	r = &lk->rec[i];
	return speed_ub(r, c->sp_ub, perf) * room * r->rel < rhs ||
	       learned_below_looked(c, cc, r, w, i, perf, looked, rhs, room);
}

/* 1 when screen_timed() drops w on its first bounds (see above); 0 for a
 * worker it decides itself. */
HOT int learned_below(const hw_ctx *c, hw_cut *cc, hw_learn *f, const hw_lk *lk, uint32_t bit,
                      const lbs_worker *w, uint32_t i)
{
	uint32_t cap = w->capacity ? w->capacity : 1;
	uint64_t ahead = (uint64_t)w->active_tests + w->queued_tests;
	const hw_known *r;
	double rhs, room, tq, tr;
	hw_queue *q;
	int looked, has;
	hw_wk k;

	if (w->thermal_state == LBS_THERMAL_WARMING || w->thermal_state == LBS_THERMAL_COOLING ||
	    host_pending(w))
		return learned_below_busy(c, cc, lk, bit, w, i);
	if (ahead < cap) {
		if (cc->idle_drop)
			return 1;
		/* Past its devices' throughputs, the last bound at a wait of
		 * 0 (fresh_idle_below) with the record screen_timed() would
		 * take: the memo's, else one whose learned speed cannot reach
		 * the cut, for which the neutral one bounds it. */
		if (memo_has(lk, bit, w, i))
			return cut_rec(c, cc, &lk->rec[i], &tq, &tr) || !device_reaches(c, w, tq, tr) ||
			       learned_idle_below(c, &lk->rec[i], w, &f->f, tq, tr);
		return cc->idle_late && (cc->idle_drop0 || !device_reaches(c, w, cc->tq0, cc->tr0) ||
		                         fresh_idle_below(c, w, cc->cut, cc->tq0, cc->tr0));
	}
	/* The queue's bound alone (s_ub, no record), as fresh_below(). */
	if (cap == f->f.q_cap && ahead >= f->f.q_drop)
		return 1;
	/* The id compare before the cache's entry: across its call only
	 * the worker, capacity and queue are kept (the entry's address
	 * was spilled and rebuilt around it). */
	has = memo_has(lk, bit, w, i);
	q = &f->q[ahead & 1];
	if (cap != q->cap || ahead != q->ahead) {
		k.pw = -1.0;
		k.u = 1.0;
		k.nq = (double)ahead;
		k.cap = (double)cap;
		if (queue_below(c, &k, 1, cc->cut, 1.0, &looked, &rhs, &room)) {
			f->f.q_cap = cap;
			f->f.q_drop = ahead;
			return 1;
		}
		q->cap = cap;
		q->ahead = ahead;
		q->looked = looked;
		q->rhs = rhs;
		q->room = room;
		q->rec = 0;
	}
	if (!has)
		return 0;
	r = &lk->rec[i];
	if (!q->looked)
		return speed_ub(r, c->sp_ub, 1.0) * q->room * r->rel < q->rhs ||
		       learned_below_looked(c, cc, r, w, i, 1.0, 0, q->rhs, q->room);
	if (!q->rec || !same_rec(q->key, r)) {
		rec_key(r, q->key);
		q->rec = 1;
		q->drop = speed_ub(r, c->sp_ub, 1.0) * q->room * r->rel < q->rhs;
		throughput_needed(c, r, cc->cut, q->room * r->rel, 1.0, q->rhs, &q->tq, &q->tr);
	}
	return q->drop || !device_reaches(c, w, q->tq, q->tr) ||
	       learned_below_looked(c, cc, r, w, i, 1.0, 2, q->rhs, q->room);
}

/* fresh_next() with learned_below(); b the best so far. */
OUT_OF_LINE uint32_t learned_next(const hw_ctx *c, hw_cut *cc, hw_learn *f, const hw_lk *lk,
                                  const hw_top *b, const lbs_worker *const *workers, uint32_t i,
                                  uint32_t n, uint32_t hint)
{
	uint32_t bit = UINT32_C(1) << c->wl->type;

	/* The caller's consider() may have moved the cut since the last
	 * call; the caches are of the cut (compared as bits: a NaN cut
	 * starts afresh every time). */
	if (!f->set || memcmp(&f->f.cut, &cc->cut, sizeof cc->cut) != 0) {
		f->set = 1;
		fresh_set(cc, b, &f->f);
		f->q[0].cap = 0;
		f->q[1].cap = 0;
	}
	/* A new best with the same score (it won on its suitability, load
	 * or position) keeps the cut's bits: its keys every call. */
	f->f.b_sc = b->idx != NONE ? b->score : -1.0;
	f->f.b_tie = b->idx != NONE ? b->tie : -1.0;
	for (; i < n; i++) {
		const lbs_worker *w = workers[i];

		if (i != hint && (!worker_valid(w) || !learned_below(c, cc, f, lk, bit, w, i)))
			return i;
	}
	return n;
}

/* select_one_as() for timed work with the memo and the device checks as
 * the whole hard filter: the same answer, the workers that fall at
 * screen_timed()'s first bounds left in learned_next. */
static lbs_status select_one_learned(const hw_ctx *c, const lbs_worker *const *workers,
                                     uint32_t n, const hw_lk *lk, uint32_t hint,
                                     uint32_t *best_idx)
{
	hw_top b = {NONE, -1.0, -1.0, 0.0};
	hw_learn f;
	hw_cut cc;

	cut_set(c, &cc, -1.0);
	hint = consider_hint(c, 1, lk, workers, n, hint, &b, &cc);
	f.set = 0;
	for (uint32_t i = learned_next(c, &cc, &f, lk, &b, workers, 0, n, hint); i < n;
	     i = learned_next(c, &cc, &f, lk, &b, workers, i + 1, n, hint)) {
		if (!worker_valid(workers[i]))
			return LBS_EINVAL;
		consider(c, 1, lk, workers[i], i, &b, &cc);
	}
	*best_idx = b.idx;
	return b.idx == NONE ? LBS_NO_WORKER : LBS_OK;
}

/* `hint`: a position to look at first (NONE for none).  The sooner a
 * strong worker is seen, the more of the others are skipped; any hint
 * gives the same answer. */
HOT lbs_status select_one_as(const hw_ctx *c, int timed,
                             const lbs_worker *const *workers, uint32_t n,
                             const hw_lk *l, uint32_t hint, uint32_t *best_idx)
{
	hw_top b = {NONE, -1.0, -1.0, 0.0};
	hw_cut cc;

	cut_set(c, &cc, -1.0);
	hint = consider_hint(c, timed, l, workers, n, hint, &b, &cc);
	for (uint32_t i = 0; i < n; i++) {
		if (i == hint)
			continue;
		if (!worker_valid(workers[i]))
			return LBS_EINVAL;
		consider(c, timed, l, workers[i], i, &b, &cc);
	}
	*best_idx = b.idx;
	return b.idx == NONE ? LBS_NO_WORKER : LBS_OK;
}

/* The loop once for each kind of ranking: one loop holding both measured
 * slower, the untimed one by a tenth. */
static lbs_status select_one_timed(const hw_ctx *c, const lbs_worker *const *workers,
                                   uint32_t n, const hw_lk *l, uint32_t hint,
                                   uint32_t *best_idx)
{
	/* Nothing learned yet (l NULL) is the common case: a copy where it
	 * is a constant drops each worker's tests for records and the memo. */
	if (!l)
		return c->full ? select_one_as(c, 1, workers, n, NULL, hint, best_idx)
		               : select_one_fresh(c, workers, n, hint, best_idx);
	if (l->m && !c->full)
		return select_one_learned(c, workers, n, l, hint, best_idx);
	return select_one_as(c, 1, workers, n, l, hint, best_idx);
}

static lbs_status select_one_plain(const hw_ctx *c, const lbs_worker *const *workers,
                                   uint32_t n, const hw_lk *l, uint32_t hint,
                                   uint32_t *best_idx)
{
	return select_one_as(c, 0, workers, n, l, hint, best_idx);
}

static uint64_t next_rand(uint64_t *state)
{
	/* splitmix64, as fleetgen and priority draw. */
	uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));

	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

/* Positions a sampled select draws and fetches together. */
#define BATCH 32
/* A sample grows, a batch at a time, to GROW x `sample` (at most the
 * fleet) while its best would make the work wait (waits_at(): every slot
 * taken, or WAIT_MIN runs of it or more; select_sampled).  Tuned on simgen
 * seeds 1-5 at 70 % load (bench/run sampled): GROW 2 left seed 4 at 1.040
 * the full scan, 4 and 8 0.998 and 0.972, 8 at twice 4's worst-case cost.  WAIT_MIN: a worker whose
 * telemetry shows a little load has a little wait (wait_of(): load x
 * capacity counts as work ahead), which is no reason to draw on; 0.1 kept
 * the figures (0.991 / 1.008 / 0.990 on seeds 2-4), 0.25 and 0.5 lost
 * 0.5-3 % on seeds 3 and 4 (then without the slot count's own trigger). */
#define GROW 4
#define WAIT_MIN 0.1
/* A sample draws on only while found_free is at least FOUND_MIN: about
 * 20 selects in a row whose answer would wait stop it (FOUND_GAIN 1/8). */
#define FOUND_GAIN 0.125
#define FOUND_MIN 0.0625

/*
 * Start fetching what consider() reads of the workers at pos[0..m): in a
 * giant fleet each is a cache (and TLB) miss, and one after the other
 * they cost several times the arithmetic.  Each pass waits for one miss,
 * overlapped across the batch: the pointer, the worker, its id and
 * device pointers, its devices (and the ledger's entry, with the
 * first).  Returns 0 when one of them is not a
 * valid worker (which is never dereferenced further).  The answer is
 * used so that the compiler keeps the call: prefetches alone have no
 * effect it must keep.
 */
HOT int prefetch_workers(const hw_ctx *c, const lbs_worker *const *workers,
                            const uint32_t *pos, uint32_t m)
{
	int valid = 1;

	for (uint32_t k = 0; k < m; k++)
		PREFETCH(&workers[pos[k]]);
	/* The ledger's entry of a position, asked for every busy worker,
	 * was the one miss left to come alone (a sixth of a select at 65,536
	 * workers). */
	if (c->open_prefetch)
		for (uint32_t k = 0; k < m; k++)
			c->open_prefetch(c->open_ctx, pos[k]);
	for (uint32_t k = 0; k < m; k++)
		if (workers[pos[k]])
			prefetch_lines(workers[pos[k]], sizeof(lbs_worker));
	for (uint32_t k = 0; k < m; k++) {
		const lbs_worker *w = workers[pos[k]];

		if (!worker_valid(w)) {
			valid = 0;
			continue;
		}
		PREFETCH(w->id);
		if (w->n_devices)
			PREFETCH(w->devices);
	}
	if (!valid)
		return 0;
	for (uint32_t k = 0; k < m; k++) {
		const lbs_worker *w = workers[pos[k]];
		uint32_t nd = w->n_devices < 8 ? w->n_devices : 8;

		for (uint32_t j = 0; j < nd; j++)
			if (w->devices[j])
				prefetch_lines(w->devices[j], sizeof(lbs_device));
	}
	return 1;
}

/* A sampled select's candidate at position i: into the best-KEEP list t
 * (best first, *cnt long) unless it is there already or ranks below the
 * best by more than a tie (the cut prunes those before their scores are
 * known, as a full scan does).  t holds, and ties are broken by, the
 * select's key of a position (sample_key), not the position itself. */
static void consider_kept(const hw_ctx *c, const hw_lk *l, const lbs_worker *w, uint32_t i,
                          uint32_t key, hw_top *t, uint32_t *cnt, hw_cut *cc)
{
	double sc, tie, le;
	uint32_t j;

	if (!worker_rank(c, c->timed, l, w, i, cc, &sc, &tie, &le))
		return;
	for (j = 0; j < *cnt; j++)
		if (t[j].idx == key)
			return;
	if (*cnt == KEEP) {
		if (!ranks_before(sc, tie, le, key, t[KEEP - 1].score, t[KEEP - 1].tie,
		                  t[KEEP - 1].load, t[KEEP - 1].idx))
			return;
		j = KEEP - 1;
	} else {
		j = (*cnt)++;
	}
	while (j > 0 && ranks_before(sc, tie, le, key, t[j - 1].score, t[j - 1].tie, t[j - 1].load,
	                             t[j - 1].idx)) {
		t[j] = t[j - 1];
		j--;
	}
	t[j] = (hw_top){key, sc, tie, le};
	if (j == 0)
		cut_set(c, cc, sc - HW_TIE_EPS);
}

/* A sampled select breaks exact ties (identical idle workers) at the
 * first position from a random offset on, rather than at the lowest
 * position: the lowest of 64 draws, and of the few kept from select to
 * select, sent 58 % of the requests to an upstream of 4,096 identical
 * servers to its first tenth.  Keys are positions rotated by the offset. */
static inline uint32_t sample_key(uint32_t i, uint32_t off, uint32_t n)
{
	return i >= n - off ? i - (n - off) : i + off;
}

static inline uint32_t key_pos(uint32_t key, uint32_t off, uint32_t n)
{
	return key >= off ? key - off : key + (n - off);
}

/* Worker w at position i into the pass under way of e, by its idle
 * score (hw_elite). */
static void elite_offer(const hw_ctx *c, const hw_lk *l, const lbs_worker *w, uint32_t i,
                        hw_elite *e)
{
	lbs_worker idle;
	double sc, tie, le;
	uint32_t key, j;
	hw_cut cc;

	if (!worker_valid(w))
		return;
	/* A host's worker may be smaller than this build's (an older ABI):
	 * the copy's struct_size still says which fields it has. */
	memset(&idle, 0, sizeof idle);
	memcpy(&idle, w, w->struct_size < sizeof idle ? w->struct_size : sizeof idle);
	idle.util_cpu = idle.util_memory = idle.util_gpu = idle.util_io = idle.util_network = 0.0;
	idle.active_tests = idle.queued_tests = 0;
	idle.reserved_memory_bytes = 0;
	if (LBS_HAS_FIELD(&idle, lbs_worker, pending_work_s))
		idle.pending_work_s = 0.0;
	if (LBS_HAS_FIELD(&idle, lbs_worker, accel_reserved))
		idle.accel_reserved = NULL; /* none reserved */
	cut_set(c, &cc, e->next_n == ELITE ? e->next[ELITE - 1].sc - HW_TIE_EPS : -1.0);
	if (!worker_rank(c, c->timed, l, &idle, i, &cc, &sc, &tie, &le))
		return;
	key = (uint32_t)(next_rand(&(uint64_t){e->salt ^ i}) >> 32);
	for (j = e->next_n; j > 0; j--)
		if (sc < e->next[j - 1].sc || (sc == e->next[j - 1].sc && key > e->next[j - 1].key))
			break;
	if (j == ELITE)
		return;
	if (e->next_n < ELITE)
		e->next_n++;
	memmove(&e->next[j + 1], &e->next[j], (e->next_n - 1 - j) * sizeof *e->next);
	e->next[j] = (hw_ranked){sc, i, key};
}

/* A select's part of e: the pass's next ELITE_STEP positions (*step of
 * them) and ELITE_LOOK standing candidates, into pos (the count of both
 * returned) and fetched together, as a sampled batch is.  At the end of a
 * pass its workers become the standing candidates and a pass begins again
 * (a fleet that shrank ends it early). */
_Static_assert(ELITE_STEP + ELITE_LOOK <= BATCH, "a select's part of hw_elite is one batch");

static uint32_t elite_turn(hw_state *s, const hw_ctx *c, const lbs_worker *const *workers, uint32_t n,
                           hw_elite *e, uint32_t *pos, uint32_t *step)
{
	uint32_t m = 0, end;

	if (e->cursor >= n) {
		for (uint32_t k = 0; k < e->next_n; k++)
			e->pos[k] = e->next[k].pos;
		e->n = e->next_n;
		e->next_n = 0;
		e->cursor = 0;
		e->salt = next_rand(&s->rng);
	}
	end = n - e->cursor < ELITE_STEP ? n : e->cursor + ELITE_STEP;
	for (uint32_t i = e->cursor; i < end; i++)
		pos[m++] = i;
	*step = m;
	e->cursor = end;
	for (uint32_t k = 0; k < e->n && k < ELITE_LOOK; k++)
		if (e->pos[(e->look + k) % e->n] < n)
			pos[m++] = e->pos[(e->look + k) % e->n];
	e->look += ELITE_LOOK;
	/* an invalid worker among them is said by the loop that meets it */
	(void)prefetch_workers(c, workers, pos, m);
	return m;
}

/* Would timed work placed on w at position i wait, by the completion
 * estimate (worker_wait(), the ledger's sizes too)?  Every slot taken by
 * count, or a wait of WAIT_MIN runs or more: a full worker of many slots
 * has a short wait (1 / capacity runs of like work), a worker whose
 * telemetry shows a little load a short one too, and only the first is a
 * reason to draw on.  The host's pending work, when it gives it, rules:
 * none ahead is no wait. */
static int waits_at(const hw_ctx *c, const lbs_worker *w, uint32_t i)
{
	hw_wk k;

	worker_thermal_queue(c, w, &k);
	worker_loadf(c, w, &k);
	worker_ahead(c, w, i, &k);
	worker_wait(&k);
	return k.g > 0.0 && (k.nq + 1.0 > k.cap || k.g >= WAIT_MIN);
}

static void count_add(_Atomic uint64_t *c, uint64_t v)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + v,
	                      memory_order_relaxed);
}

/*
 * A sampled single select (hwaware.h, "Sampled selects"): the best few of
 * the last sampled select for this workload type (power-of-k choices with
 * memory: a strong worker seen once stays a candidate until others beat
 * it), the type's standing candidates (hw_elite: the workers a full scan
 * would look for under load, which a sample of a large fleet mostly
 * misses) and `sample` drawn positions; the whole fleet when none of them
 * is eligible.
 */
static lbs_status select_sampled(hw_state *s, const hw_ctx *c,
                                 const lbs_worker *const *workers, uint32_t n,
                                 const hw_lk *l, uint32_t type, uint32_t *best_idx)
{
	hw_top t[KEEP];
	uint32_t pos[BATCH], cnt = 0, np, step, *kept = s->kept[type];
	uint32_t off = (uint32_t)(((next_rand(&s->rng) >> 32) * n) >> 32);
	hw_elite *e = &s->elite[type];
	hw_cut cc;

	cut_set(c, &cc, -1.0);
	for (uint32_t k = 0; k < KEEP; k++) {
		if (kept[k] >= n)
			continue;
		if (!worker_valid(workers[kept[k]]))
			return LBS_EINVAL;
		consider_kept(c, l, workers[kept[k]], kept[k], sample_key(kept[k], off, n), t, &cnt,
		              &cc);
	}
	/* The pass's positions (workers it finds invalid are left to the
	 * selects that draw them, which say so), then the standing ones. */
	np = elite_turn(s, c, workers, n, e, pos, &step);
	for (uint32_t k = 0; k < step; k++)
		elite_offer(c, l, workers[pos[k]], pos[k], e);
	for (uint32_t k = step; k < np; k++) {
		if (!worker_valid(workers[pos[k]]))
			return LBS_EINVAL;
		consider_kept(c, l, workers[pos[k]], pos[k], sample_key(pos[k], off, n), t, &cnt,
		              &cc);
	}
	/* A full queue is where a sample's loss is: under load the workers
	 * drawn are busy, and the best of them would make the work wait while
	 * a free one stands elsewhere (at 70 % load, 2-5 % on the mean
	 * completion with `sample` alone).  Drawing on while the best would
	 * wait costs nothing where one is free, and at most GROW times the
	 * sample where none is; and only while recent selects of the type
	 * found one that would not: a saturated pool has none to find, and
	 * would pay GROW times for nothing. */
	uint32_t done = 0, waits = 0, most = s->p.sample * GROW;

	if (most > n) /* never more draws than a full scan looks at */
		most = n > s->p.sample ? n : s->p.sample;
	for (uint32_t grew = 1; done < s->p.sample || (grew && done < most);) {
		uint32_t lim = done < s->p.sample ? s->p.sample : most;
		uint32_t m = lim - done < BATCH ? lim - done : BATCH;

		/* Lemire's multiply-shift: uniform enough over n < 2^32. */
		for (uint32_t k = 0; k < m; k++)
			pos[k] = (uint32_t)(((next_rand(&s->rng) >> 32) * n) >> 32);
		if (!prefetch_workers(c, workers, pos, m))
			return LBS_EINVAL;
		for (uint32_t k = 0; k < m; k++)
			consider_kept(c, l, workers[pos[k]], pos[k], sample_key(pos[k], off, n), t,
			              &cnt, &cc);
		done += m;
		/* untimed work has no wait to escape */
		if (c->timed && cnt && done >= s->p.sample) {
			uint32_t b = key_pos(t[0].idx, off, n);

			waits = waits_at(c, workers[b], b);
		}
		grew = waits && s->found_free[type] >= FOUND_MIN;
	}
	count_add(&s->drawn, done);
	count_add(&s->sampled, 1);
	if (c->timed && cnt)
		s->found_free[type] += ((waits ? 0.0 : 1.0) - s->found_free[type]) * FOUND_GAIN;
	for (uint32_t k = 0; k < KEEP; k++)
		kept[k] = k < cnt ? key_pos(t[k].idx, off, n) : NONE;
	if (cnt == 0)
		return (c->timed ? select_one_timed : select_one_plain)(c, workers, n, l, NONE,
		                                                       best_idx);
	*best_idx = key_pos(t[0].idx, off, n);
	return LBS_OK;
}

static lbs_status select_many(hw_state *s, const hw_ctx *c,
                              const lbs_worker *const *workers, uint32_t n,
                              const hw_lk *l, uint32_t want,
                              uint32_t need, uint32_t *idx, uint32_t *n_found)
{
	uint32_t cnt = 0, eligible = 0, slots = want < n ? want : n;
	/* Skipping needs a full list that will be the answer; below `need`
	 * every eligible worker is counted for the "only N eligible"
	 * reason. */
	int may_skip = slots >= need;
	hw_top *top;
	hw_cut cc;

	if (slots == 0)
		return LBS_NO_WORKER;
	if (!reserve_top(s, slots))
		return LBS_ENOMEM;
	top = s->top;
	cut_set(c, &cc, -1.0);
	for (uint32_t i = 0; i < n; i++) {
		const lbs_worker *w = workers[i];
		double sc, tie, le, cut;
		uint32_t j;

		if (!worker_valid(w))
			return LBS_EINVAL;
		cut = cnt == slots && may_skip ? top[cnt - 1].score - HW_TIE_EPS : -1.0;
		if (cut != cc.cut)
			cut_set(c, &cc, cut);
		if (!worker_rank(c, c->timed, l, w, i, &cc, &sc, &tie, &le))
			continue;
		eligible++;
		if (cnt == slots) {
			if (!ranks_before(sc, tie, le, i, top[cnt - 1].score, top[cnt - 1].tie,
			                  top[cnt - 1].load, top[cnt - 1].idx))
				continue;
			j = cnt - 1;
		} else {
			j = cnt++;
		}
		/* Insertion keeps the list best first; k is small. */
		while (j > 0 && ranks_before(sc, tie, le, i, top[j - 1].score, top[j - 1].tie,
		                             top[j - 1].load, top[j - 1].idx)) {
			top[j] = top[j - 1];
			j--;
		}
		top[j] = (hw_top){i, sc, tie, le};
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
	hw_lk lk = {NULL, NULL, NULL, 0, 1, NULL};
	int sampled;
	const hw_lk *l = NULL;

	*n_found = 0;
	if (!workload_valid(wl) || want < need || (want && !idx) || (n && !workers))
		return LBS_EINVAL;
	if (want == 0)
		return LBS_NO_WORKER;
	sampled = want == 1 && n >= s->p.sample_from && n > s->p.sample;
	ctx_init(&c, s, wl);
	ctx_learned(&c, learned);
	ctx_open(&c, learned);
	if (learned && learned->lookup) {
		lk.l = learned;
		if (s->gen && !sampled) {
			reserve_memo(s, n);
			if (n <= s->n_memo && wl->type < LBS_WL_COUNT) {
				memo_sync(s, learned);
				lk.m = s->memo;
				lk.rec = s->memo_rec + (size_t)wl->type * s->n_memo;
				lk.gen = s->memo_epoch;
				lk.hash = s->memo_hash;
			}
		}
		l = &lk;
	}

	if (want == 1) {
		/* Last time's winner for this kind of work is usually still
		 * strong, which makes the skipping work from the start. */
		uint32_t *hint = &s->hint[wl->type < LBS_WL_COUNT ? wl->type : LBS_WL_MIXED];

		if (sampled)
			st = select_sampled(s, &c, workers, n, l,
			                    wl->type < LBS_WL_COUNT ? wl->type : LBS_WL_MIXED, &first);
		else
			st = (c.timed ? select_one_timed : select_one_plain)(&c, workers, n, l,
			                                                   *hint, &first);
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
		double eff, adj;
		hw_wk k;

		memset(best, 0, sizeof(*best));
		/* The select loops and this use the same filter; a winner that
		 * fails it here is a bug, not an answer. */
		if (worker_adjusted(&c, workers[first], first, &eff, &adj, &k, best) != ELIG_OK)
			return LBS_EINTERNAL;
		finish(&c, learned, workers[first], &k, eff, best);
	}
	return LBS_OK;
}

/* A timed score s p / (s p + 1 + g) as s p / (1 + g): the work's
 * nominal duration over its estimated completion. */
static double completion_rate(double sc)
{
	return sc < 1.0 ? sc / (1.0 - sc) : INFINITY;
}

/* Is w an exploration candidate for this work (hw_explore's list, less
 * the comparison with the chosen worker)? */
static int explore_idle_unexplored(const hw_state *s, const hw_ctx *c,
                                   const hw_learned *learned, const lbs_worker *w)
{
	double cap = (double)(w->capacity ? w->capacity : 1);
	double load = elig_load(w);
	const lbs_history *h = NULL;

	if ((double)w->active_tests + (double)w->queued_tests + 1.0 > cap ||
	    load * cap + 1.0 > cap)
		return 0;
	if (learned && learned->lookup)
		h = learned->lookup(learned->ctx, c->wl->type, w->id);
	if (h && (double)h->samples >= s->p.explore_samples)
		return 0;
	return elig_check(c->wl, w, s->p.load_ceiling, NULL) == ELIG_OK;
}

uint32_t hw_explore(hw_state *s, const lbs_workload *wl,
                    const lbs_worker *const *workers, uint32_t n,
                    const hw_learned *learned, uint32_t chosen)
{
	hw_lk lk = {learned, NULL, NULL, 0, 0, NULL};
	const hw_lk *l = learned && learned->lookup ? &lk : NULL;
	uint32_t type, *at;
	double sc, tie, le, want;
	hw_cut cc;
	hw_ctx c;

	if (!(s->p.explore_samples > 0.0) || !workload_valid(wl) || chosen >= n ||
	    !workers || !worker_valid(workers[chosen]))
		return chosen;
	/* ctx_init's test for timed work, before paying for the rest of it. */
	if (!(s->p.completion && wl->est_duration_s > 0.0 && isfinite(wl->est_duration_s)))
		return chosen;
	s->explore_tokens += s->p.explore_budget;
	if (s->explore_tokens > 1.0 + s->p.explore_budget)
		s->explore_tokens = 1.0 + s->p.explore_budget;
	if (s->explore_tokens < 1.0)
		return chosen;
	ctx_init(&c, s, wl);
	ctx_learned(&c, learned);
	ctx_open(&c, learned);
	cut_set(&c, &cc, -1.0);
	if (!worker_rank(&c, 1, l, workers[chosen], chosen, &cc, &sc, &tie, &le))
		return chosen;
	want = completion_rate(sc) / s->p.explore_optimism;
	type = wl->type < LBS_WL_COUNT ? wl->type : LBS_WL_MIXED;
	at = &s->explore_at[type];
	for (uint32_t k = 0; k < HW_EXPLORE_SCAN && k < n; k++) {
		uint32_t i = *at < n ? *at : 0;
		const lbs_worker *w = workers[i];

		*at = i + 1;
		if (i == chosen || !worker_valid(w) || !explore_idle_unexplored(s, &c, learned, w))
			continue;
		if (!worker_rank(&c, 1, l, w, i, &cc, &sc, &tie, &le) || completion_rate(sc) < want)
			continue;
		s->explore_tokens -= 1.0;
		s->explored++;
		return i;
	}
	return chosen;
}

uint64_t hw_explored(const hw_state *s)
{
	return s->explored;
}

uint64_t hw_sampled(const hw_state *s, uint64_t *drawn)
{
	*drawn = atomic_load_explicit(&s->drawn, memory_order_relaxed);
	return atomic_load_explicit(&s->sampled, memory_order_relaxed);
}

/*
 * hw_score()'s worker for timed work: screen_timed() at a cut of -1, which
 * skips nothing, less its bounds and less the suitability and load a
 * ranking's tie-break needs.  The same operations on the same values, so
 * the same score to the bit (test_hwaware compares it with evaluate on
 * random fleets): the best eligible device's efficiency, its prior speed
 * and the learned record, the wait (the ledger asked only when the size of
 * the work ahead can matter, as screen_timed does).  -1 when ineligible.
 * Returned as a fraction, the score *den times: timed_score()'s division
 * is left to the caller (below), with *den 1 for an ineligible worker.
 */
HOT double score_timed(const hw_ctx *c, const hw_lk *lk, const lbs_worker *w,
                       uint32_t i, double *load, double *den)
{
	uint32_t nd = w->n_devices < 64 ? w->n_devices : 64;
	uint32_t cap = w->capacity ? w->capacity : 1;
	uint64_t ahead = (uint64_t)w->active_tests + w->queued_tests;
	uint64_t reserved = w->reserved_memory_bytes;
	double eff = -1.0, perf;
	const hw_known *r = &neutral;
	hw_known tmp;
	hw_wk k;

	*den = 1.0;
	if (c->full) {
		uint64_t mask;
		double effs[64];

		for (uint32_t j = 0; j < nd; j++) {
			const lbs_device *d = w->devices[j];

			if (d && d->struct_size >= LBS_DEVICE_SIZE_V1_0)
				effs[j] = dev_eff(c, d, reserved, NULL);
		}
		if (elig_check(c->wl, w, 2.0, &mask) != ELIG_OK || !mask)
			return -1.0;
		for (uint64_t b = mask; b; b &= b - 1) {
			double e = effs[lowest_bit(b)];

			eff = e > eff ? e : eff;
		}
	} else {
		for (uint32_t j = 0; j < nd; j++) {
			const lbs_device *d = w->devices[j];
			double e;

			if (!d || d->struct_size < LBS_DEVICE_SIZE_V1_0 || !elig_device_ok(c->wl, w, d))
				continue;
			e = dev_eff(c, d, reserved, NULL);
			eff = e > eff ? e : eff;
		}
		if (eff < 0.0)
			return -1.0;
	}
	if (lk)
		r = known_at(c, lk, w, i, &tmp);
	perf = worker_perf(w);
	k.nq = (double)ahead;
	k.cap = (double)cap;
	worker_ahead_host(c, w, &k);
	worker_loadf(c, w, &k);
	*load = k.load;
	if (ahead >= cap || k.load * k.cap + 1.0 > k.cap)
		worker_ahead_ledger(c, w, i, &k);
	worker_wait(&k);
	return timed_parts(speed_of(r, prior_speed(c, eff), perf), r, k.g, den);
}

/* Workers a timed score pass takes before it divides. */
#define DIV_BLOCK 64

/*
 * What a plain timed score pass (plain_pass) reads of its call, copied out
 * of hw_ctx so that the loop keeps it in registers: through a pointer
 * every store to scores[] might have changed it, and each device read it
 * all again.
 */
typedef struct hw_plain {
	const double *coef;
	double a, b, k, mem_den, pref, inv_sum, scale, est;
	uint64_t backends, precisions, features, min_mem;
	uint32_t min_cu;
	int lanes; /* plain_run4() may run: the CPU has AVX2 */
	double (*open_work)(void *ctx, uint32_t pos, const char *worker_id);
	void *open_ctx;
} hw_plain;

/* When score_timed_all() may take plain_best() and plain_rest() for
 * score_timed(): timed work with nothing learned, the
 * device checks as the whole hard filter, no preference named (every
 * device's preference term is c_neutral), no energy term (e 0: its part
 * is a 0 added to a sum >= 0, which changes no bit) and some weight. */
static int plain_pass(const hw_ctx *c, const hw_lk *lk)
{
	return c->timed && !lk && !c->full && !c->n_pref && c->e == 0.0 && !c->no_weight;
}

static void plain_set(const hw_ctx *c, hw_plain *p)
{
	*p = (hw_plain){
		.coef = c->coef, .a = c->a, .b = c->b, .k = c->k, .mem_den = c->mem_den,
		.pref = c->c_neutral, .inv_sum = c->inv_sum, .scale = c->scale, .est = c->est,
		.backends = c->wl->required_backends, .precisions = c->wl->required_precisions,
		.features = c->wl->required_features, .min_mem = c->wl->min_memory_bytes,
		.min_cu = c->wl->min_compute_units, .open_work = c->open_work,
		.open_ctx = c->open_ctx,
#ifdef ELIG_AVX2
		.lanes = __builtin_cpu_supports("avx2"),
#endif
	};
}

/* dev_eff() of a device that passed the checks, for plain_pass(): the same
 * operations in the same order (throughput(), the memory and compute terms
 * over one division, the preference term, the sum). */
HOT double plain_eff(const hw_plain *p, const lbs_device *d, uint64_t avail)
{
	uint32_t cls;
	double t = throughput_of(p->coef, d, &cls), m, tk, md, cm;

	/* dev_eff's m: the free memory, 0 (0.0) when the reservation is more. */
	m = (double)avail;
	tk = t + p->k;
	md = m + p->mem_den;
	cm = (p->a * t * md + p->b * m * tk) / (tk * md);
	return (cm + p->pref) * p->inv_sum;
}

/* elig_device_ok() with the workload's requirements from p, for a device
 * with `avail` bytes free; memory_only (a constant in each copy) when
 * elig_memory_only() holds, so that the other tests drop out. */
HOT int plain_ok(const hw_plain *p, const lbs_device *d, uint64_t avail, int memory_only)
{
	if (memory_only)
		return avail >= p->min_mem;
	return ((d->backends & p->backends) == p->backends) &
	       ((d->precisions & p->precisions) == p->precisions) &
	       ((d->features & p->features) == p->features) & (avail >= p->min_mem) &
	       (d->compute_units >= p->min_cu);
}

/* score_timed()'s best efficiency under plain_pass(): the maximum over the
 * devices that pass the checks, -1 when none does. */
HOT double plain_best(const hw_plain *p, const lbs_worker *w, int memory_only)
{
	uint32_t nd = w->n_devices < 64 ? w->n_devices : 64;
	/* Read once, not again after each device's checks. */
	uint64_t reserved = w->reserved_memory_bytes;
	double eff = -1.0;

	for (uint32_t j = 0; j < nd; j++) {
		const lbs_device *d = w->devices[j];
		uint64_t avail;
		double e;

		if (!d || d->struct_size < LBS_DEVICE_SIZE_V1_0)
			continue;
		avail = elig_free_of(d->mem_available_bytes, reserved);
		if (!plain_ok(p, d, avail, memory_only))
			continue;
		e = plain_eff(p, d, avail);
		eff = e > eff ? e : eff;
	}
	return eff;
}

/* plain_best() of workers[b..end) into eff[0..), a loop for each value of
 * memory_only; the first position of a malformed worker, or end.  *wide
 * is set when one may have more than 64 devices: the counts (at hand
 * here) or'ed, one instruction a worker, exceed 64 when one does, and
 * otherwise only when one has exactly 64 (then the caller reads every
 * worker's count, as before). */
HOT uint32_t plain_block(const hw_plain *p, const lbs_worker *const *workers, uint32_t b,
                         uint32_t end, double *eff, int memory_only, int *wide)
{
	const lbs_worker *const *wp = workers + b, *const *we = workers + end;
	uint32_t counts = 0;

	/* By pointer: fewer values live across plain_best(), which kept
	 * spilling the position and the bound around every worker. */
	for (; wp < we && worker_valid(*wp); wp++, eff++) {
		counts |= (*wp)->n_devices;
		*eff = plain_best(p, *wp, memory_only);
	}
	*wide |= counts > 64;
	return (uint32_t)(wp - workers);
}

/* The rest of score_timed() under plain_pass() for an eligible worker of
 * best efficiency eff, with the same operations on the same values; the
 * effective load and load factor, which no score reads, are left out. */
HOT double plain_rest(const hw_plain *p, const lbs_worker *w, uint32_t i, double eff,
                      double *load, double *den)
{
	uint32_t cap = w->capacity ? w->capacity : 1;
	uint64_t ahead = (uint64_t)w->active_tests + w->queued_tests;
	double perf = worker_perf(w), sp;
	hw_wk k;

	k.nq = (double)ahead;
	k.cap = (double)cap;
	/* worker_ahead_host() and worker_ahead_ledger() with p's fields. */
	k.pw = -1.0;
	k.u = 1.0;
	if (host_pending(w))
		k.pw = runs_in(w->pending_work_s, p->est);
	k.load = elig_load(w);
	*load = k.load;
	/* The ledger first: without one (a blend's hardware-aware child
	 * never places work) the rest is not evaluated. */
	if (p->open_work && k.pw < 0.0 && (ahead >= cap || k.load * k.cap + 1.0 > k.cap)) {
		double m = p->open_work(p->open_ctx, i, w->id);

		if (m > 0.0 && m < INFINITY)
			k.u = runs_in(m, p->est);
	}
	worker_wait(&k);
	sp = prior_speed_at(p->scale, eff);
	return timed_parts(speed_of(&neutral, sp, perf), &neutral, k.g, den);
}

#if defined(ELIG_V4) && defined(ELIG_AVX2)
#define PLAIN_LANES 4

/* host_pending()'s number, or LBS_WORK_UNKNOWN when the writer's struct
 * has no such field (not read then). */
HOT double pending_or_unknown(const lbs_worker *w)
{
	return LBS_HAS_FIELD(w, lbs_worker, pending_work_s) ? w->pending_work_s
	                                                    : LBS_WORK_UNKNOWN;
}

/* Two adjacent uint32_t fields of w, from offsetof(lbs_worker, first). */
#define ACTIVE_QUEUED offsetof(lbs_worker, active_tests)
#define THERMAL_CAPACITY offsetof(lbs_worker, thermal_state)
_Static_assert(offsetof(lbs_worker, queued_tests) == ACTIVE_QUEUED + 4 &&
                       offsetof(lbs_worker, capacity) == THERMAL_CAPACITY + 4,
               "plain_rest4 reads each pair as one 64-bit lane");

HOT uint64_t pair_at(const lbs_worker *w, size_t at)
{
	uint64_t x;

	memcpy(&x, (const char *)w + at, sizeof x);
	return x;
}

/*
 * plain_rest() and its division for the four workers at w[0..3], each
 * lane with the same operations on the same values in the same order
 * (a packed operation rounds each lane as the scalar one does), for a
 * call without a ledger: score -1 and load 0 for a lane whose eff is
 * below 0, as the scalar loop writes.  Both arms of the wait are worked
 * out and one kept per lane, and the host's pending work only when a
 * lane has some; the divisions are one instruction for four workers.
 * Each x > b ? x : b is VMAXPD and each x < b ? x : b VMINPD, which select
 * exactly so (the second operand for NaN); elig_load_avx2() is the load.
 */
HOT __attribute__((target("avx2"))) void plain_rest4(const hw_plain *p,
                                                     const lbs_worker *const *w,
                                                     const double *eff, double *score,
                                                     double *load)
{
	const v4d one = {1.0, 1.0, 1.0, 1.0}, zero = {0.0, 0.0, 0.0, 0.0};
	const v4d least = {PRIOR_MIN, PRIOR_MIN, PRIOR_MIN, PRIOR_MIN};
	const lbs_worker *w0 = w[0], *w1 = w[1], *w2 = w[2], *w3 = w[3];
	v4d e = {eff[0], eff[1], eff[2], eff[3]};
	/* active_tests and queued_tests, thermal_state and capacity: each
	 * pair adjacent in the ABI's struct, read as one 64-bit lane. */
	const v4q low = {UINT32_MAX, UINT32_MAX, UINT32_MAX, UINT32_MAX};
	v4q aq = {pair_at(w0, ACTIVE_QUEUED), pair_at(w1, ACTIVE_QUEUED),
	          pair_at(w2, ACTIVE_QUEUED), pair_at(w3, ACTIVE_QUEUED)};
	v4q tc = {pair_at(w0, THERMAL_CAPACITY), pair_at(w1, THERMAL_CAPACITY),
	          pair_at(w2, THERMAL_CAPACITY), pair_at(w3, THERMAL_CAPACITY)};
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v4q ts = tc >> 32, cu = tc & low;
#else
	v4q ts = tc & low, cu = tc >> 32;
#endif
	v4d pl = {w0->performance_level, w1->performance_level, w2->performance_level,
	          w3->performance_level};
	const v4d least_perf = {PERF_MIN, PERF_MIN, PERF_MIN, PERF_MIN};
	/* worker_perf(): performance_level while warming or cooling. */
	v4m thr;
	v4d cap, nq, perf;
	v4d pend = {pending_or_unknown(w0), pending_or_unknown(w1), pending_or_unknown(w2),
	            pending_or_unknown(w3)};
	__m256d load4;
	v4d ld, busy, a, m, g, sp, sr, sc;
	v4m host = (pend >= zero) & (pend < (v4d){INFINITY, INFINITY, INFINITY, INFINITY});

	/* worker_perf()'s states; capacity ? capacity : 1; active + queued,
	 * below 2^33, in whichever order the halves lie. */
	thr = (v4m)((ts == LBS_THERMAL_WARMING) | (ts == LBS_THERMAL_COOLING));
	cu -= (v4q)(cu == 0);
	elig_v4_exact(&cap, cu);
	elig_v4_exact(&nq, (aq & low) + (aq >> 32));
	perf = (v4d)_mm256_max_pd((__m256d)pl, (__m256d)least_perf);
	perf = (v4d)_mm256_min_pd((__m256d)perf, (__m256d)one);
	perf = V4_SEL(thr, perf, one);
	elig_load_avx2(w, &load4);
	ld = (v4d)load4;
	/* worker_wait(): u is 1 without a ledger. */
	busy = ld * cap;
	a = (v4d)_mm256_max_pd((__m256d)nq, (__m256d)busy);
	m = a + 1.0 - cap;
	g = V4_SEL(m > zero, one * m / cap, zero);
	if (host[0] | host[1] | host[2] | host[3]) {
		/* runs_in(), and wait_of()'s arm for a host's pending work. */
		const v4d most = {RUNS_MAX, RUNS_MAX, RUNS_MAX, RUNS_MAX};
		v4d r = pend / p->est, pw, ah, mh, gh;

		r = (v4d)_mm256_min_pd((__m256d)r, (__m256d)most);
		pw = V4_SEL(host, r, -one);
		ah = (v4d)_mm256_max_pd((__m256d)a, (__m256d)one);
		mh = ah + 1.0 - cap;
		gh = V4_SEL(mh > zero, pw * mh / (ah * cap) * (2.0 + ah / cap), zero);
		g = V4_SEL(pw >= zero, gh, g);
	}
	/* prior_speed_at(), speed_of() with no record, timed_parts(). */
	sp = p->scale * e;
	sp = (v4d)_mm256_max_pd((__m256d)sp, (__m256d)least);
	sr = sp * perf * neutral.rel;
	sc = sr / (sr + 1.0 + g);
	sc = V4_SEL(e < zero, -one, sc);
	ld = V4_SEL(e < zero, zero, ld);
	memcpy(score, &sc, sizeof sc);
	if (load)
		memcpy(load, &ld, sizeof ld);
}

/* plain_rest4() from workers[i] on, four at a time while four are left
 * before end; the position after the last it did.  Its own AVX2 copy,
 * called where the CPU has AVX2 (hw_plain.lanes); elsewhere every worker
 * goes through plain_rest(). */
__attribute__((target("avx2"), noinline)) static uint32_t
plain_run4(const hw_plain *p, const lbs_worker *const *workers, uint32_t i, uint32_t end,
           const double *eff, double *scores, double *loads)
{
	for (; i + PLAIN_LANES <= end; i += PLAIN_LANES, eff += PLAIN_LANES)
		plain_rest4(p, workers + i, eff, scores + i, loads ? loads + i : NULL);
	return i;
}
#endif

/*
 * score_timed() for every worker, a block at a time: the fractions first,
 * then their divisions in a loop of their own, where each is independent
 * of the others (two to an instruction where the compiler packs them)
 * instead of ending a chain of the worker's own work.  The same division
 * of the same values: the same scores.
 */
ELIG_CLONES static lbs_status score_timed_all(const hw_ctx *c, const hw_lk *lk,
                                              const lbs_worker *const *workers,
                                              uint32_t n, double *scores, double *loads,
                                              int *wide)
{
	double den[DIV_BLOCK];
	lbs_status st = LBS_OK;
	int plain = plain_pass(c, lk), memory_only = elig_memory_only(c->wl);
	hw_plain p;

	plain_set(c, &p);

	for (uint32_t b = 0; b < n && st == LBS_OK; b += DIV_BLOCK) {
		uint32_t end = n - b < DIV_BLOCK ? n : b + DIV_BLOCK, i;

		if (plain) {
			double eff[DIV_BLOCK];

			/* The devices of the block, then the workers' own
			 * figures: two loops of fewer live values than one,
			 * which kept spilling the call's fields around every
			 * worker.  The ledger is asked in the same order. */
			i = memory_only ? plain_block(&p, workers, b, end, eff, 1, wide)
			                : plain_block(&p, workers, b, end, eff, 0, wide);
			if (i < end)
				st = LBS_EINVAL;
			end = i;
			/* The division here: the devices are no longer in
			 * the same chain (timed_score's own division; an
			 * ineligible worker's -1 is -1 / 1 there). */
			i = b;
#ifdef PLAIN_LANES
			/* The ledger is asked worker by worker, in order. */
			if (p.lanes && !p.open_work)
				i = plain_run4(&p, workers, i, end, eff, scores, loads);
#endif
			for (; i < end; i++) {
				double load = 0.0, d;

				scores[i] = eff[i - b] < 0.0
				            ? -1.0
				            : plain_rest(&p, workers[i], i, eff[i - b], &load, &d) / d;
				if (loads)
					loads[i] = load;
			}
			continue;
		}
		for (i = b; i < end; i++) {
			double load = 0.0;

			if (!worker_valid(workers[i])) {
				st = LBS_EINVAL;
				break;
			}
			if (workers[i]->n_devices > 64)
				*wide = 1;
			scores[i] = score_timed(c, lk, workers[i], i, &load, &den[i - b]);
			if (loads)
				loads[i] = load;
		}
		end = i;
		for (i = b; i < end; i++)
			scores[i] /= den[i - b];
	}
	return st;
}

int hw_scores_timed(const hw_state *s, const lbs_workload *wl)
{
	hw_ctx c;

	if (!workload_valid(wl))
		return 0;
	ctx_init(&c, s, wl);
	return c.timed;
}

lbs_status hw_score(const hw_state *s, const lbs_workload *wl,
                    const lbs_worker *const *workers, uint32_t n,
                    const hw_learned *learned, double *scores)
{
	return hw_score_loads(s, wl, workers, n, learned, scores, NULL, NULL);
}

lbs_status hw_score_loads(const hw_state *s, const lbs_workload *wl,
                          const lbs_worker *const *workers, uint32_t n,
                          const hw_learned *learned, double *scores, double *loads,
                          int *wide)
{
	hw_ctx c;
	hw_lk lk = {learned, NULL, NULL, 0, 0, NULL};
	hw_cut cc;
	int wide_ = 0;

	/* Unknown until a timed pass has looked at every worker. */
	if (wide)
		*wide = 1;

	if (!workload_valid(wl) || (n && (!workers || !scores)))
		return LBS_EINVAL;
	ctx_init(&c, s, wl);
	ctx_open(&c, learned);
	cut_set(&c, &cc, -1.0);
	/* A blend calls this for every worker of every select, so it takes
	 * the select's own per-worker path: a cut of -1 skips nothing and
	 * leaves the hard filter (inline device checks, elig_check only
	 * when the workload needs it) with the same arithmetic as
	 * worker_adjusted(), so score, select and explain agree.  Timed
	 * work takes that path less its bounds (score_timed). */
	if (c.timed) {
		lbs_status st = score_timed_all(&c, learned && learned->lookup ? &lk : NULL,
		                                workers, n, scores, loads, &wide_);

		if (wide && st == LBS_OK)
			*wide = wide_;
		return st;
	}
	for (uint32_t i = 0; i < n; i++) {
		const lbs_worker *w = workers[i];
		double sc, tie, le;

		if (!worker_valid(w))
			return LBS_EINVAL;
		scores[i] = worker_rank(&c, 0, learned && learned->lookup ? &lk : NULL, w, i, &cc,
		                        &sc, &tie, &le) ? sc : -1.0;
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
	ctx_open(&c, learned);
	for (uint32_t i = 0; i < n; i++) {
		const lbs_worker *w = workers[i];
		double eff, adj;
		hw_wk k;

		if (!worker_valid(w))
			return LBS_EINVAL;
		memset(&out[i], 0, sizeof(out[i]));
		out[i].reason = worker_adjusted(&c, w, i, &eff, &adj, &k, &out[i].f);
		if (out[i].reason == ELIG_OK)
			finish(&c, learned, w, &k, eff, &out[i].f);
	}
	return LBS_OK;
}

static int eval_before(const hw_eval *ev, uint32_t a, uint32_t b)
{
	return ranks_before(ev[a].f.score, ev[a].f.suitability, ev[a].f.effective_load, a,
	                    ev[b].f.score, ev[b].f.suitability, ev[b].f.effective_load, b);
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
