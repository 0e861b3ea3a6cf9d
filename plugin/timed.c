/*
 * timed.c -- the plumbing between a scheduler instance, its learned store
 * and its ledger for ranking by completion; see timed.h.
 */
#include "timed.h"

#include <stdio.h>
#include <string.h>

#include "config.h"
#include "history.h"
#include "text.h"

lbs_status timed_scan_config(const cJSON *cfg, hw_params *p, char *err, size_t errlen)
{
	const char *scan;
	uint64_t sample;
	lbs_status st = cfg_string(cfg, "scan", "auto", &scan, err, errlen);

	if (st == LBS_OK)
		st = cfg_uint(cfg, "sample", HW_SAMPLE_DEFAULT, &sample, err, errlen);
	if (st != LBS_OK)
		return st;
	if (sample < 1 || sample > 65536) {
		snprintf(err, errlen, "config field 'sample': must be an integer in 1..65536, got %llu",
		         (unsigned long long)sample);
		return LBS_ECONFIG;
	}
	p->sample = (uint32_t)sample;
	if (!strcmp(scan, "full")) {
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

hw_learned timed_learned(timed *t, store *s)
{
	hw_learned l = { NULL, NULL, NULL, NULL, NULL, 0.0, NULL };
	const hist_store *view = store_view(s);

	/* The fast path: with nothing learned every lookup would miss. */
	if (hist_count(view) > 0) {
		l.lookup = hist_lookup;
		l.ctx = (void *)view;
		l.speed_ub = hist_speed_ub;
		l.latency_ref = hist_latency_ref;
	}
	/* The same for the ledger: empty, it is never asked. */
	if (ledger_sized(t->open) > 0) {
		l.open_work = ledger_mean_work_at;
		l.open_ctx = t->open;
		l.open_min = ledger_min_mean(t->open);
	}
	/* The view's generation changes with every answer it may give
	 * differently (and a new view has a new one), so selects may
	 * remember preferences per worker while it holds. */
	hw_remember(t->hw, hist_generation(view));
	return l;
}

void timed_placed(timed *t, const lbs_selection *out, const lbs_workload *wl, double now)
{
	ledger_expire(t->open, now);
	/* Every worker of a sharded or replicated choice runs the work. */
	for (uint32_t i = 0; i < out->n_selected; i++)
		ledger_open(t->open, out->cookie, out->ids[i], wl->type, wl->est_duration_s, now);
}

void timed_reported(timed *t, const lbs_outcome *o)
{
	if (o && o->struct_size >= LBS_OUTCOME_SIZE_V1_0)
		ledger_close(t->open, o->cookie, o->worker_id);
}

void timed_stats(const timed *t, char *buf, size_t len)
{
	ledger_counts c;

	ledger_counts_get(t->open, &c);
	snprintf(buf, len,
	         ",\"ledger\":{\"open\":%llu,\"opened\":%llu,\"closed\":%llu,"
	         "\"expired\":%llu,\"evicted\":%llu,\"untracked\":%llu}",
	         (unsigned long long)c.open, (unsigned long long)c.opened,
	         (unsigned long long)c.closed, (unsigned long long)c.expired,
	         (unsigned long long)c.evicted, (unsigned long long)c.untracked);
}
