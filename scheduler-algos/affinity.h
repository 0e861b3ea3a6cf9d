/*
 * affinity.h -- send a model back to the worker that ran it before (its
 * weights are loaded there), else to the worker of its model family, else
 * to the least loaded worker; give way when the remembered worker is busy
 * or can no longer take the work.
 *
 * After the original AffinityBased algorithm (seed-behaviour.md §b), which
 * stuck to a remembered worker for as long as it passed the hard filter, and
 * otherwise took the least loaded worker among those with a load record, or
 * a random one.  Here:
 *   - load is the larger of the effective load and the occupancy (running
 *     and waiting tests per slot): hosts that report counts alone count;
 *   - a remembered worker is used only when it is in the fleet, passes the
 *     hard filter and its load is at most `give_way` (default 0.8), or no
 *     eligible worker is less loaded: a hot model must not pin one worker
 *     at its limit, nor leave it for a worker no better;
 *   - otherwise the least loaded eligible worker (ties to the first in the
 *     array), never a random one;
 *   - what the caller remembers afterwards is the caller's rule (the
 *     plugin's: a key moves only when its worker is gone or ineligible;
 *     a busy one keeps it, see aff_moves()).
 * The family of a model is derived from its id (aff_family_of), since the
 * ABI's workload carries no family.
 *
 * Pure: no allocation, no I/O.
 */
#ifndef LBS_AFFINITY_H
#define LBS_AFFINITY_H

#include <stddef.h>
#include <stdint.h>

#include <lbsched/abi.h>

/* What became of a remembered worker in this call. */
enum aff_state {
	AFF_NONE = 0,   /* nothing remembered */
	AFF_USED,       /* in the fleet, eligible, not busy: usable */
	AFF_BUSY,       /* eligible but over give_way, or over the ceiling */
	AFF_EXCLUDED,   /* in the workload's exclude list (a retry) */
	AFF_INELIGIBLE, /* fails a hard requirement of this workload */
	AFF_ABSENT      /* not in this call's workers */
};

/* How the first worker was chosen. */
enum aff_via {
	AFF_VIA_NONE = 0, /* nothing eligible */
	AFF_VIA_MODEL,
	AFF_VIA_FAMILY,
	AFF_VIA_LEAST_LOADED
};

typedef struct aff_params {
	double ceiling;  /* as in elig_check() */
	double give_way; /* load above which a remembered worker is passed over */
} aff_params;

typedef struct aff_result {
	enum aff_via via;
	enum aff_state model, family;
	uint32_t n_found, n_eligible;
	double load;    /* load of the first pick (affinity's: occupancy counts) */
	double remembered_load; /* of the model's (else family's) worker, -1 if absent */
} aff_result;

/*
 * The family of a model id: after the last '/', the leading run of
 * letters and digits, lower-cased ("google/bert-base-uncased" -> "bert",
 * "Llama-2-7b" -> "llama", "gpt2-medium" -> "gpt2").  0 and buf "" when
 * there is none; else its length.  buf gets at most len - 1 bytes.
 */
size_t aff_family_of(const char *model_id, char *buf, size_t len);

/* Affinity's load of w: the larger of its effective load and its
 * occupancy, (active + queued tests) / capacity, above 1 with a queue. */
double aff_load(const lbs_worker *w);

/*
 * Up to `want` workers into idx[]: the model's worker when AFF_USED, else
 * the family's when AFF_USED, else the least loaded; further shards least
 * loaded first.  model_worker / family_worker may be NULL.
 * LBS_OK, or LBS_EINVAL for a NULL, short or id-less worker.
 */
lbs_status aff_pick(const aff_params *p, const lbs_workload *wl,
                    const lbs_worker *const *workers, uint32_t n, const char *model_worker,
                    const char *family_worker, uint32_t want, uint32_t *idx,
                    aff_result *res);

/* Scores: the worker aff_pick would take by affinity 1; every other
 * eligible worker 0.5 (1 - load) for a load (aff_load) under 1, and from 1
 * 0.5 AFF_FULL / load: still in the queue's order, below any worker with
 * room; -1 not eligible. */
#define AFF_FULL 1e-6
lbs_status aff_score(const aff_params *p, const lbs_workload *wl,
                     const lbs_worker *const *workers, uint32_t n, const char *model_worker,
                     const char *family_worker, double *scores);

/* Whether a key whose worker ended in `state` should now remember the
 * chosen worker: yes when it had none, or its worker is gone or cannot
 * take this work; no when it was used, busy or excluded for a retry. */
int aff_moves(enum aff_state state);

const char *aff_state_name(enum aff_state s); /* "usable", "busy", ... */
const char *aff_via_name(enum aff_via v);     /* "model", "family", "least_loaded" */

#endif
