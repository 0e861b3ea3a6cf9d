/*
 * performance.c -- the learned-performance score; see performance.h.
 */
#include "performance.h"

#include <math.h>

#include "eligible.h"
#include "worker_id.h"

static double time_of_ratio(double r)
{
	return clamp01(1.0 - (r - 1.0) / 3.0, 0.0);
}

static double ahead_of(const lbs_worker *w)
{
	double cap = w->capacity ? (double)w->capacity : 1.0;
	double busy = (double)w->active_tests + (double)w->queued_tests + 1.0 - cap;

	return busy > 0.0 ? busy / cap : 0.0;
}

void perf_factors_of(const perf_params *p, const lbs_workload *wl, const lbs_worker *w,
                     perf_factors *f)
{
	const lbs_history *h = p->history ? p->history(p->history_ctx, wl->type, w->id) : NULL;
	double lw = p->load_weight;

	f->samples = h ? h->samples : 0;
	f->success = 0.5;
	f->time = 0.5;
	f->ratio = -1.0;
	f->time_from = PERF_TIME_NONE;
	if (f->samples > 0) {
		f->success = ((double)h->successes + 1.0) / ((double)h->samples + 2.0);
		if (h->successes == 0) {
			f->time = 0.0;
			f->time_from = PERF_TIME_NEVER;
		} else if ((f->ratio = hist_speed_ratio(h)) >= 0.0) {
			f->time = time_of_ratio(f->ratio);
			f->time_from = PERF_TIME_RATIO;
		} else if (wl->est_duration_s > 0.0 && h->mean_duration > 0.0 &&
		           isfinite(h->mean_duration)) {
			f->ratio = h->mean_duration / wl->est_duration_s;
			f->time = time_of_ratio(f->ratio);
			f->time_from = PERF_TIME_MEAN;
		} else if (!(wl->est_duration_s > 0.0) && p->has_ref && h->mean_duration > 0.0 &&
		           isfinite(h->mean_duration)) {
			/* No duration stated: 0.5 for every worker let one 25
			 * times slower win on its lower load (nginx traffic
			 * without X-Expected-Duration), where priority and
			 * hardware-aware rank by speed. */
			f->time = latency_time(p->ref_log_s, h->mean_duration);
			f->time_from = PERF_TIME_LATENCY;
		}
	}
	f->confidence = fmin(1.0, (double)f->samples / p->confidence_samples);
	f->ahead = ahead_of(w);
	f->perf = ((1.0 - f->confidence) * 0.5 + f->confidence * (f->success + f->time) / 2.0) /
	          (1.0 + f->ahead);
	f->load = worker_effective_load(w);
	f->score = (1.0 - lw) * f->perf + lw * (1.0 - f->load);
}

lbs_status perf_score(const perf_params *p, const lbs_workload *wl,
                      const lbs_worker *const *workers, uint32_t n, double *scores)
{
	double load;

	for (uint32_t i = 0; i < n; i++) {
		const lbs_worker *w = workers[i];
		perf_factors f;

		if (!wid_valid(w))
			return LBS_EINVAL;
		if (!elig_pass(wl, w, p->ceiling, &load)) {
			scores[i] = -1.0;
			continue;
		}
		if (!p->history) {
			/* Nothing learned: perf is 0.5, discounted by the queue. */
			double lw = p->load_weight;

			scores[i] = (1.0 - lw) * 0.5 / (1.0 + ahead_of(w)) +
			            lw * (1.0 - elig_effective_load(w, load));
			continue;
		}
		perf_factors_of(p, wl, w, &f);
		scores[i] = f.score;
	}
	return LBS_OK;
}

void perf_top(double *scores, uint32_t n, uint32_t want, uint32_t *idx, uint32_t *found)
{
	*found = 0;
	while (*found < want) {
		int64_t best = -1;

		for (uint32_t i = 0; i < n; i++)
			if (scores[i] >= 0.0 && (best < 0 || scores[i] > scores[best]))
				best = i;
		if (best < 0)
			return;
		idx[(*found)++] = (uint32_t)best;
		scores[best] = -2.0;
	}
}
