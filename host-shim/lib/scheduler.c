/*
 * scheduler.c -- a scheduler instance as a host drives it, with every answer
 * checked before the host acts on it.
 *
 * The plugin runs inside somebody's load balancer: a wrong index would send
 * traffic to the wrong server or read out of bounds.  So the host trusts
 * nothing it gets back, and when the answer is wrong it logs the breach and
 * answers itself with a plain rotation over the eligible workers: worse
 * placement, but the request is served.
 */
#include <stdio.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>

#include "eligible.h"
#include "scheduler.h"
#include "text.h"
#include "textbuf.h"

/* Load above which the fallback rotation skips a worker, as the plugin's
 * schedulers do by default. */
#define FALLBACK_CEILING 0.9
/* The answer check ignores load: a plugin may have a ceiling of its own. */
#define NO_CEILING 2.0

struct shim_sched {
	shim_host *host;
	const loaded_plugin *plugin;
	const lbs_scheduler_desc *desc;
	void *inst;
	uint32_t cursor; /* the fallback rotation's next position */
	uint64_t fallbacks;
	atomic_int said_stats; /* a stats() that wrote no JSON object was logged */
};

/* Answers refused that are logged one by one (sched_said). */
#define SAID_EACH 8

int sched_said(uint64_t n)
{
	return n <= SAID_EACH || !(n & (n - 1));
}

lbs_status sched_open(shim_host *h, const char *plugin_path, const char *name,
                      const char *config, size_t config_len, shim_sched **out,
                      char *err, size_t errlen)
{
	loaded_plugin *p;
	const lbs_host_api *api;
	const lbs_scheduler_desc *d;
	shim_sched *s;
	/* a store's path (up to 1,024 bytes) and what went wrong with it */
	char perr[2048] = "";
	lbs_status st;

	*out = NULL;
	if (!plugin_path)
		plugin_path = host_default_plugin();
	st = host_load(h, plugin_path, &p, &api, err, errlen);
	if (st != LBS_OK)
		return st;
	d = loader_find(p, name, err, errlen);
	if (!d)
		return LBS_EINVAL;
	s = calloc(1, sizeof *s);
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return LBS_ENOMEM;
	}
	st = d->create(api, config, config ? config_len : 0, &s->inst, perr, sizeof perr);
	plugin_text(perr, sizeof perr);
	if (st != LBS_OK || !s->inst) {
		if (perr[0])
			snprintf(err, errlen, "scheduler '%s': %s", name, perr);
		else
			snprintf(err, errlen, "%s: scheduler '%s' failed to start (create "
			         "returned status %d%s) without a reason", loader_path(p), name,
			         (int)st, st == LBS_OK ? " but no instance" : "");
		free(s);
		return st != LBS_OK ? st : LBS_EINTERNAL;
	}
	s->host = h;
	s->plugin = p;
	s->desc = d;
	*out = s;
	return LBS_OK;
}

void sched_close(shim_sched *s)
{
	if (!s)
		return;
	s->desc->destroy(s->inst);
	free(s);
}

const lbs_scheduler_desc *sched_desc(const shim_sched *s)
{
	return s->desc;
}

const loaded_plugin *sched_plugin(const shim_sched *s)
{
	return s->plugin;
}

static void want_range(const lbs_workload *wl, uint32_t *lo, uint32_t *hi)
{
	if (wl->allocation == LBS_ALLOC_SINGLE) {
		*lo = *hi = 1;
		return;
	}
	*lo = wl->min_shards ? wl->min_shards : 1;
	*hi = wl->max_shards > *lo ? wl->max_shards : *lo;
}

/* NULL when the answer is acceptable, else what is wrong with it. */
static const char *answer_problem(const lbs_workload *wl,
                                  const lbs_worker *const *workers, uint32_t n,
                                  const lbs_selection *out, lbs_status st,
                                  char *buf, size_t len)
{
	uint32_t lo, hi;
	char said[96], id[96], got[96];

	if (st == LBS_NO_WORKER)
		return out->n_selected ? "answered no_worker with workers selected" : NULL;
	if (st == LBS_EINVAL || st == LBS_ENOMEM) {
		snprintf(buf, len, "select failed with %s", st == LBS_EINVAL
		         ? "LBS_EINVAL (it refused the workload or a worker)"
		         : "LBS_ENOMEM (out of memory)");
		return buf;
	}
	if (st != LBS_OK) {
		snprintf(buf, len, "select failed with status %d", (int)st);
		return buf;
	}
	want_range(wl, &lo, &hi);
	if (out->n_selected < lo || out->n_selected > hi || out->n_selected > out->capacity) {
		snprintf(buf, len, "selected %u workers, the workload allows %u..%u",
		         out->n_selected, lo, hi);
		return buf;
	}
	for (uint32_t i = 0; i < out->n_selected; i++) {
		uint32_t idx = out->indices[i];
		enum elig_reason r;

		if (idx >= n) {
			snprintf(buf, len, "index %u is out of range (%u workers)", idx, n);
			return buf;
		}
		/* Plugins hand back the host's own id pointer: equal without
		 * reading the text. */
		if (!out->ids[i] ||
		    (out->ids[i] != workers[idx]->id && strcmp(out->ids[i], workers[idx]->id))) {
			/* What is shown of the plugin's text, copied: its NUL
			 * may be nowhere, and showing reads to the end. */
			size_t k = out->ids[i] ? strnlen(out->ids[i], sizeof got - 1) : 0;

			memcpy(got, out->ids[i] ? out->ids[i] : "", k);
			got[k] = '\0';
			snprintf(buf, len, "id '%s' does not match worker %u '%s'",
			         out->ids[i] ? txt_show(said, sizeof said, got) : "(null)", idx,
			         txt_show(id, sizeof id, workers[idx]->id));
			return buf;
		}
		for (uint32_t j = 0; j < i; j++) {
			if (out->indices[j] == idx) {
				snprintf(buf, len, "worker '%s' selected twice",
				         txt_show(id, sizeof id, workers[idx]->id));
				return buf;
			}
		}
		/* For the usual workload the verdict is the device checks,
		 * inline (the check has no ceiling); elig_check gives the
		 * rest, and the reason the log needs. */
		if (!elig_needs_full(wl) &&
		    elig_devices_pass_as(elig_memory_only(wl), wl, workers[idx]))
			continue;
		r = elig_check(wl, workers[idx], NO_CEILING, NULL);
		if (r != ELIG_OK) {
			snprintf(buf, len, "worker '%s' %s", txt_show(id, sizeof id, workers[idx]->id),
			         elig_reason_text(r));
			return buf;
		}
	}
	return NULL;
}

lbs_status sched_rotate(uint32_t *cursor, const lbs_workload *wl,
                       const lbs_worker *const *workers, uint32_t n, lbs_selection *out)
{
	uint32_t lo, hi, got = 0, start = *cursor;

	want_range(wl, &lo, &hi);
	if (hi > out->capacity)
		hi = out->capacity;
	/* Counted from where the pass started: from the cursor it moves,
	 * a sharded answer skipped workers and took one twice. */
	for (uint32_t k = 0; k < n && got < hi; k++) {
		uint32_t idx = (uint32_t)(((uint64_t)start + k) % n);
		if (elig_check(wl, workers[idx], FALLBACK_CEILING, NULL) != ELIG_OK)
			continue;
		out->indices[got] = idx;
		out->ids[got] = workers[idx]->id;
		got++;
		*cursor = idx + 1;
	}
	out->cookie = 0;
	if (got < lo) {
		out->n_selected = 0;
		return LBS_NO_WORKER;
	}
	out->n_selected = got;
	return LBS_OK;
}

/* The host's own answer when the plugin's was rejected. */
static lbs_status fallback_select(shim_sched *s, const lbs_workload *wl,
                                  const lbs_worker *const *workers, uint32_t n,
                                  lbs_selection *out)
{
	lbs_status st = sched_rotate(&s->cursor, wl, workers, n, out);

	/* The plugin's sentence went with its answer, whatever this one is. */
	if (out->reason && out->reason_len && st == LBS_OK)
		snprintf(out->reason, out->reason_len, "host fallback: next eligible worker in "
		         "rotation (the plugin's answer was rejected)");
	else if (out->reason && out->reason_len)
		snprintf(out->reason, out->reason_len, "host fallback: no eligible worker (the "
		         "plugin's answer was rejected, and no worker meets the workload's "
		         "requirements under the host's load ceiling of %g)", FALLBACK_CEILING);
	return st;
}

/*
 * A requirement the host could not name (a required feature or precision
 * outside the taxonomy, converted to OTHER with a warning) is met by no
 * worker, and abi.h has promised plugins since 1.0 that a requirement is
 * never OTHER: the host answers such a workload itself and sends it to no
 * scheduler.  Returns the requirement's kind, or NULL when it has none.
 */
static const char *unnamed_requirement(const lbs_workload *wl)
{
	if (wl->required_features & LBS_FEAT_OTHER)
		return "feature";
	if (wl->required_precisions & LBS_PREC_OTHER)
		return "precision";
	if (wl->required_backends & LBS_BACKEND_OTHER)
		return "backend";
	return NULL;
}

static void unnamed_reason(const char *kind, char *buf, size_t len)
{
	snprintf(buf, len, "host: no eligible worker: the workload requires a %s outside "
	         "lbsched's taxonomy, which no worker can be matched on", kind);
}

lbs_status sched_select(shim_sched *s, const lbs_workload *wl,
                        const lbs_worker *const *workers, uint32_t n,
                        lbs_selection *out, int *fell_back)
{
	char buf[256], shown[96], count[96];
	const char *problem;
	lbs_selection mine;
	lbs_status st;

	if (fell_back)
		*fell_back = 0;
	out->n_selected = 0;
	out->cookie = 0;
	/* All of it: a plugin that writes a sentence without its NUL would
	 * otherwise end it with the rest of an earlier one. */
	if (out->reason && out->reason_len)
		memset(out->reason, 0, out->reason_len);
	if (n == 0)
		return LBS_NO_WORKER;
	/* A kind of allocation neither side knows: the plugin refuses it,
	 * and the host's rotation would read it as several workers. */
	if (wl->allocation > LBS_ALLOC_REPLICATED)
		return LBS_EINVAL;
	if ((problem = unnamed_requirement(wl))) {
		if (out->reason && out->reason_len)
			unnamed_reason(problem, out->reason, out->reason_len);
		return LBS_NO_WORKER;
	}
	mine = *out;
	st = s->desc->select(s->inst, wl, workers, n, out);
	/* The caller's fields are the caller's: a plugin that rewrote them
	 * (a length, a capacity, its own arrays) must not steer what the
	 * host reads, writes or falls back into. */
	out->struct_size = mine.struct_size;
	out->capacity = mine.capacity;
	out->indices = mine.indices;
	out->ids = mine.ids;
	out->reason = mine.reason;
	out->reason_len = mine.reason_len;
	/* Every reader of the reason trusts it to end inside its buffer. */
	if (out->reason && out->reason_len)
		out->reason[out->reason_len - 1] = '\0';
	problem = answer_problem(wl, workers, n, out, st, buf, sizeof buf);
	if (!problem)
		return st;
	s->fallbacks++;
	if (sched_said(s->fallbacks)) {
		count[0] = '\0';
		if (s->fallbacks == SAID_EACH)
			snprintf(count, sizeof count, " (answers refused from here on are logged at "
			         "each doubling of their count)");
		else if (s->fallbacks > SAID_EACH)
			snprintf(count, sizeof count, " (%llu answers refused so far)",
			         (unsigned long long)s->fallbacks);
		/* The two errors select() may answer are the plugin's word, not
		 * a breach of its contract. */
		host_logf(s->host,
		          st == LBS_EINVAL || st == LBS_ENOMEM ? LBS_LOG_ERROR
		                                               : LBS_LOG_PLUGIN_MISBEHAVING,
		          "scheduler '%s' on workload '%s': %s; the host chose instead%s",
		          s->desc->name, wl->id ? txt_show(shown, sizeof shown, wl->id) : "?", problem,
		          count);
	}
	if (fell_back)
		*fell_back = 1;
	return fallback_select(s, wl, workers, n, out);
}

lbs_status sched_report(shim_sched *s, const lbs_outcome *o)
{
	if (!DESC_HAS(s->desc, report))
		return LBS_EUNSUPPORTED;
	return s->desc->report(s->inst, o);
}

void sched_withdraw(shim_sched *s, const lbs_workload *wl, const char *worker_id,
                    uint64_t cookie)
{
	lbs_outcome out = {.struct_size = sizeof out, .workload_type = wl->type,
	                   .workload_id = wl->id, .test_type = wl->test_type,
	                   .worker_id = worker_id, .cookie = cookie,
	                   .result = LBS_RESULT_CANCELLED};

	/* A scheduler that does not learn says so: it opened nothing. */
	(void)sched_report(s, &out);
}

lbs_status sched_explain(shim_sched *s, const lbs_workload *wl,
                         const lbs_worker *const *workers, uint32_t n,
                         lbs_write_fn write, void *ctx)
{
	const char *kind = unnamed_requirement(wl);

	if (!DESC_HAS(s->desc, explain))
		return LBS_EUNSUPPORTED;
	if (kind) {
		char reason[192], json[256];
		int len;

		unnamed_reason(kind, reason, sizeof reason);
		len = snprintf(json, sizeof json, "{\"no_worker\":\"%s\"}", reason);
		return write(ctx, json, (size_t)len) == 0 ? LBS_OK : LBS_ENOMEM;
	}
	return s->desc->explain(s->inst, wl, workers, n, write, ctx);
}

lbs_status sched_score(shim_sched *s, const lbs_workload *wl,
                       const lbs_worker *const *workers, uint32_t n, double *scores)
{
	if (!DESC_HAS(s->desc, score))
		return LBS_EUNSUPPORTED;
	return s->desc->score(s->inst, wl, workers, n, scores);
}

lbs_status sched_stats(shim_sched *s, lbs_write_fn write, void *ctx)
{
	textbuf b = {0};
	char buf[96];
	const char *problem;
	lbs_status st;

	if (!DESC_HAS(s->desc, stats))
		return LBS_EUNSUPPORTED;
	/* Whole before it is passed on: every host sets the object inside a
	 * document of its own (nginx's status), which text that is not one
	 * object would break, or add keys to.  Checked as RFC 8259 has it,
	 * not as cJSON reads it: a reader of the host's document may be
	 * strict (Python's json). */
	st = s->desc->stats(s->inst, textbuf_write, &b);
	if (st == LBS_OK && b.failed)
		st = LBS_ENOMEM;
	if (st == LBS_OK &&
	    (problem = txt_json_object_strict(buf, sizeof buf, b.p ? b.p : "", b.len))) {
		/* stats() is [any]: two threads may find it at once */
		if (!atomic_exchange(&s->said_stats, 1))
			host_logf(s->host, LBS_LOG_PLUGIN_MISBEHAVING,
			          "scheduler '%s': what stats() wrote %s; hosts show no stats for it "
			          "(logged once)", s->desc->name, problem);
		st = LBS_EINTERNAL;
	}
	if (st == LBS_OK && write(ctx, b.p, b.len) != 0)
		st = LBS_ENOMEM;
	textbuf_free(&b);
	return st;
}

char *sched_stats_text(shim_sched *s)
{
	textbuf b = {0};

	if (sched_stats(s, textbuf_write, &b) == LBS_OK && !b.failed && b.p)
		return b.p;
	textbuf_free(&b);
	return NULL;
}

lbs_status sched_workers_changed(shim_sched *s, const lbs_worker *const *workers, uint32_t n)
{
	lbs_status st;

	if (!DESC_HAS(s->desc, workers_changed))
		return LBS_EUNSUPPORTED;
	st = s->desc->workers_changed(s->inst, workers, n);
	if (st != LBS_OK)
		host_logf(s->host, LBS_LOG_WARN,
		          "scheduler '%s': workers_changed for a fleet of %u failed (status %d); "
		          "it keeps what it held of workers gone",
		          s->desc->name, n, (int)st);
	return st;
}
