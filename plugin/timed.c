/*
 * timed.c -- the plumbing between a scheduler instance, its learned store
 * and its ledger for ranking by completion; see timed.h.
 */
#include "timed.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "config.h"
#include "history.h"
#include "text.h"

lbs_status timed_scan_config(const cJSON *cfg, hw_params *p, char *err, size_t errlen)
{
	const char *scan;
	uint32_t sample = HW_SAMPLE_DEFAULT;
	lbs_status st = cfg_string(cfg, "scan", "auto", &scan, err, errlen);

	if (st == LBS_OK)
		st = cfg_uint_in(cfg, "sample", 1, 65536, &sample, err, errlen);
	if (st == LBS_OK)
		st = cfg_uint(cfg, "seed", 1, &p->seed, err, errlen);
	if (st != LBS_OK)
		return st;
	p->sample = sample;
	if (!strcmp(scan, "full")) {
		/* a size nothing would read: said, not ignored */
		if (cJSON_GetObjectItemCaseSensitive(cfg, "sample")) {
			snprintf(err, errlen, "config field 'sample': \"scan\": \"full\" reads every "
			         "worker and draws no sample; leave 'sample' out, or scan \"sampled\" "
			         "or \"auto\"");
			return LBS_ECONFIG;
		}
		p->sample_from = HW_SCAN_FULL;
	} else if (!strcmp(scan, "sampled")) {
		p->sample_from = 0;
	} else if (!strcmp(scan, "auto")) {
		p->sample_from = HW_SAMPLE_FROM;
	} else {
		char shown[96];

		snprintf(err, errlen, "config field 'scan': must be \"full\", \"sampled\" or "
		         "\"auto\", got \"%s\"", txt_show(shown, sizeof shown, scan));
		return LBS_ECONFIG;
	}
	return LBS_OK;
}

lbs_status timed_init(timed *t, const hw_params *p)
{
	t->hw = hw_new(p);
	t->open = ledger_new();
	t->seed = p->seed;
	if (!t->hw || !t->open) {
		timed_free(t);
		return LBS_ENOMEM;
	}
	return LBS_OK;
}

void timed_free(timed *t)
{
	hw_free(t->hw);
	ledger_free(t->open);
	t->hw = NULL;
	t->open = NULL;
}

double timed_now(const lbs_host_api *h)
{
	return h && h->now_ns ? (double)h->now_ns(h->host_data) * 1e-9 : 0.0;
}

/* The records' failure evidence fades in steps of this many seconds: the
 * memo of records (hw_remember) holds within a step. */
#define FADE_STEP_S 60.0

/* The unix time the records fade to for a select, in FADE_STEP_S steps. */
static double fade_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return floor((double)ts.tv_sec / FADE_STEP_S) * FADE_STEP_S;
}

static hw_learned learned_gen(timed *t, store *s, uint64_t *gen)
{
	hw_learned l = { NULL, NULL, NULL, NULL, NULL, 0.0, NULL, NULL, NULL };
	const hist_store *view = store_view(s);
	double now = 0.0;

	/* The fast path: with nothing learned every lookup would miss. */
	if (hist_count(view) > 0) {
		l.lookup = hist_lookup;
		l.ctx = (void *)view;
		l.speed_ub = hist_speed_ub;
		l.latency_ref = hist_latency_ref;
		l.changes = hist_changes;
		now = fade_now();
	}
	/* The same for the ledger: empty, it is never asked. */
	if (ledger_sized(t->open) > 0) {
		l.open_work = ledger_mean_work_at;
		l.open_ctx = t->open;
		l.open_prefetch = ledger_prefetch_at;
		l.open_min = ledger_min_mean(t->open);
	}
	/* The view's generation changes with every answer it may give
	 * differently (and a new view has a new one), so selects may
	 * remember preferences per worker while it holds. */
	*gen = hist_generation(view);
	/* The records fade with the store's half-life; a record the memo
	 * keeps holds for one step of the fade (its generation moves with
	 * the step). */
	hw_fade(t->hw, now, now > 0.0 ? store_half_life(s) : 0.0);
	if (*gen)
		*gen ^= (uint64_t)(now / FADE_STEP_S) * UINT64_C(0x9E3779B97F4A7C15);
	hw_remember(t->hw, *gen);
	return l;
}

hw_learned timed_learned(timed *t, store *s)
{
	uint64_t gen;

	return learned_gen(t, s, &gen);
}

/* The composite's scope on this thread.  initial-exec: a pointer in the
 * static TLS block that glibc keeps spare for modules loaded at run time, so no
 * __tls_get_addr and no dynamic TLS block per thread; LeakSanitizer
 * (gcc 12) crashed walking the dynamic one in hosts that dlopen the
 * plugin (tests/abi v1.1 host). */
static _Thread_local timed_share *scope __attribute__((tls_model("initial-exec")));

_Static_assert(sizeof(hw_params) == offsetof(hw_params, sample_from) + sizeof(uint32_t),
               "same_params: hw_params has tail padding");

/* Byte for byte, less the padding after `completion` (its bytes are
 * whatever the copy left there): equal parameters score alike. */
static int same_params(const hw_params *a, const hw_params *b)
{
	size_t gap = offsetof(hw_params, completion) + sizeof a->completion;
	size_t rest = offsetof(hw_params, prior_weight);

	return !memcmp(a, b, gap) &&
	       !memcmp((const char *)a + rest, (const char *)b + rest, sizeof *a - rest);
}

timed_share *timed_share_begin(timed_share *s)
{
	timed_share *prev = scope;

	s->valid = 0;
	s->hard_valid = 0;
	s->out = NULL;
	scope = s;
	return prev;
}

void timed_share_end(timed_share *prev)
{
	scope = prev;
}

/* A completion pass rejects exactly the workers that fail the filter when
 * it knows every worker's verdict: then scores is such a pass's
 * (timed_rejects_filtered). */
static void note_out(timed_share *sh, double *scores)
{
	sh->out = sh->timed && sh->hard_valid && !sh->unknown ? scores : NULL;
}

/* hard[i] = scores[i] != -1.0 (NaN included, as `!=` has it), sixteen at a
 * time with SSE2: each comparison's 64-bit lanes of ones or zeros packed
 * down to one byte a worker, then 1 or 0. */
static void hard_of_scores(const double *scores, uint32_t n, uint8_t *hard)
{
	uint32_t i = 0;

#if defined(__SSE2__)
	const __m128d minus1 = _mm_set1_pd(-1.0);
	const __m128i one = _mm_set1_epi8(1);

	for (; i + 16 <= n; i += 16) {
		__m128i q[8], w[4];

		for (int k = 0; k < 8; k++)
			q[k] = _mm_castpd_si128(_mm_cmpneq_pd(_mm_loadu_pd(scores + i + 2 * k), minus1));
		for (int k = 0; k < 4; k++)
			w[k] = _mm_packs_epi32(q[2 * k], q[2 * k + 1]);
		w[0] = _mm_packs_epi16(w[0], w[1]);
		w[2] = _mm_packs_epi16(w[2], w[3]);
		_mm_storeu_si128((__m128i *)(void *)(hard + i),
		                 _mm_and_si128(_mm_packs_epi16(w[0], w[2]), one));
	}
#endif
	for (; i < n; i++)
		hard[i] = scores[i] != -1.0;
}

lbs_status timed_score(timed *t, store *s, const lbs_workload *wl,
                       const lbs_worker *const *workers, uint32_t n, double *scores)
{
	uint64_t gen;
	hw_learned l = learned_gen(t, s, &gen);
	timed_share *sh = scope;
	lbs_status st;
	int wide = 1;

	if (n == 0 || !scores)
		sh = NULL;
	/* Generations are unique to a view: they matter only when the
	 * scores read one (every store's empty view scores alike). */
	if (!l.lookup)
		gen = 0;
	if (sh && sh->valid && sh->wl == wl && sh->workers == workers && sh->n == n &&
	    sh->gen == gen && !memcmp(&sh->l, &l, sizeof l) &&
	    same_params(&sh->p, hw_params_of(t->hw))) {
		memcpy(scores, sh->scores, (size_t)n * sizeof *scores);
		note_out(sh, scores);
		return LBS_OK;
	}
	st = hw_score_loads(t->hw, wl, workers, n, &l, scores,
	                    sh && !sh->hard_valid ? sh->load : NULL, &wide);
	if (sh) {
		sh->valid = st == LBS_OK;
		sh->timed = sh->valid && hw_scores_timed(t->hw, wl);
		/* Once per scope: the hard filter is the workload's and the
		 * workers', whoever scored. */
		if (sh->timed && !sh->hard_valid) {
			/* A local copy: through sh, every byte stored might
			 * have moved the array, and each worker read it again. */
			uint8_t *hard = sh->hard;
			int unknown = 0;

			if (!wide) {
				/* No worker beyond 64 devices (the pass saw
				 * every one): the verdicts from the scores
				 * alone, no worker followed. */
				hard_of_scores(scores, n, hard);
			} else {
				for (uint32_t i = 0; i < n; i++) {
					if (workers[i]->n_devices > 64) {
						hard[i] = 2;
						unknown = 1;
					} else {
						hard[i] = scores[i] != -1.0;
					}
				}
			}
			sh->hard_valid = 1;
			sh->unknown = unknown;
		}
		note_out(sh, scores);
		if (sh->valid) {
			memcpy(sh->scores, scores, (size_t)n * sizeof *scores);
			sh->n = n;
			sh->wl = wl;
			sh->workers = workers;
			sh->l = l;
			sh->gen = gen;
			memcpy(&sh->p, hw_params_of(t->hw), sizeof sh->p);
		}
	}
	return st;
}

int timed_rejects_filtered(const double *scores)
{
	const timed_share *sh = scope;

	return sh && scores && sh->out == scores;
}

const uint8_t *timed_hard(const lbs_workload *wl, const lbs_worker *const *workers, uint32_t n,
                          const double **load)
{
	const timed_share *sh = scope;

	/* Facts are kept with the keys of the pass that gave them (valid),
	 * and that pass is the scope's only one of these inputs. */
	if (sh && sh->hard_valid && sh->valid && sh->wl == wl && sh->workers == workers &&
	    sh->n == n) {
		*load = sh->load;
		return sh->hard;
	}
	*load = NULL;
	return NULL;
}

void timed_placed(timed *t, const lbs_selection *out, const lbs_workload *wl, double now)
{
	ledger_expire(t->open, now);
	/* Every worker of a sharded or replicated choice runs the work. */
	for (uint32_t i = 0; i < out->n_selected; i++)
		ledger_open_at(t->open, out->indices[i], out->cookie, out->ids[i], wl->type,
		               wl->est_duration_s, now);
}

void timed_reported(timed *t, const lbs_outcome *o)
{
	if (o && o->struct_size >= LBS_OUTCOME_SIZE_V1_0)
		ledger_close(t->open, o->cookie, o->worker_id);
}

void timed_stats(const timed *t, char *buf, size_t len)
{
	ledger_counts c;
	uint64_t drawn, sampled = hw_sampled(t->hw, &drawn);

	ledger_counts_get(t->open, &c);
	snprintf(buf, len,
	         ",\"seed\":%llu,\"ledger\":{\"open\":%llu,\"opened\":%llu,\"closed\":%llu,"
	         "\"expired\":%llu,\"evicted\":%llu,\"untracked\":%llu},"
	         "\"sampled\":{\"selects\":%llu,\"drawn\":%llu}",
	         (unsigned long long)t->seed, (unsigned long long)c.open,
	         (unsigned long long)c.opened,
	         (unsigned long long)c.closed, (unsigned long long)c.expired,
	         (unsigned long long)c.evicted, (unsigned long long)c.untracked,
	         (unsigned long long)sampled, (unsigned long long)drawn);
}
