/*
 * timed.h -- ranking by estimated completion, as the plugin's schedulers
 * share it: hardware-aware ranks all work that declares a duration this
 * way, priority its urgent work (priority <= 2).  One hw_state
 * (scheduler-algos/hwaware.h, which has the estimate) and one in-flight
 * ledger (plugin/ledger.h) per instance; the learned store stays the
 * scheduler's.
 */
#ifndef LBS_PLUGIN_TIMED_H
#define LBS_PLUGIN_TIMED_H

#include <stddef.h>

#include <cjson/cJSON.h>
#include <lbsched/abi.h>

#include "hwaware.h"
#include "ledger.h"
#include "store_config.h"

typedef struct timed {
	hw_state *hw;
	ledger *open; /* placed, not yet reported */
	uint64_t seed; /* hw_params.seed, for stats */
} timed;

/*
 * The config fields "scan" ("full", "sampled" or "auto", the default:
 * sampled from HW_SAMPLE_FROM workers), "sample" (the workers a sampled
 * select looks at, 1..65536, default HW_SAMPLE_DEFAULT) and "seed" (an
 * unsigned integer, default 1: the draws are a fixed sequence for a seed)
 * into p; see hwaware.h, "Sampled selects".  LBS_ECONFIG with a one-line
 * message.
 */
lbs_status timed_scan_config(const cJSON *cfg, hw_params *p, char *err, size_t errlen);

/* LBS_OK or LBS_ENOMEM (then nothing is left to free). */
lbs_status timed_init(timed *t, const hw_params *p);
void timed_free(timed *t);

/* The host's clock in seconds; 0 without one (then nothing expires). */
double timed_now(const lbs_host_api *host);

/* Before a select or score: what the scores read (the store's records,
 * when it has any; the ledger's open work, when it has any). */
hw_learned timed_learned(timed *t, store *s);

/*
 * A composite's decision asks several of this plugin's children for scores
 * over the same workers, and hardware-aware and priority (its urgent timed
 * work) both score by completion through hw_score: with the same
 * parameters and nothing learned or open in either, the same numbers
 * twice.  Between timed_share_begin and timed_share_end (one consult, in
 * which the host holds the workload and the workers still), timed_score
 * keeps the last such pass in *s and hands it to the next child whose
 * inputs are the same: parameters, workload and worker arrays (the same
 * pointers), lookups, ledger and the store's generation.  Anything else
 * is scored afresh, so every score is what hw_score would give.  s->scores
 * is the caller's, room for n doubles; scopes nest (a composite child of a
 * composite), each restoring the one it interrupted.
 */
typedef struct timed_share {
	double *scores;
	uint8_t *hard; /* see timed_hard */
	double *load;  /* see timed_hard */
	int valid;
	int hard_valid;
	int timed;   /* the kept pass ranks by completion (hw_scores_timed) */
	int unknown; /* some hard[i] is 2 */
	const double *out; /* see timed_rejects_filtered */
	uint32_t n;
	hw_params p;
	const lbs_workload *wl;
	const lbs_worker *const *workers;
	hw_learned l;
	uint64_t gen;
} timed_share;

/* Returns the scope to hand back to timed_share_end. */
timed_share *timed_share_begin(timed_share *s);
void timed_share_end(timed_share *prev);

/*
 * What a completion pass in the scope told of the hard filter (no ceiling)
 * for this workload and these workers, for the children scored after it
 * (round-robin's own filter, the composite's ceiling rule): hard[i] 1
 * passes, 0 fails, 2 unknown (a worker of more than 64 devices), and
 * *load[i] the load (elig_load) of a worker that passes (a number for
 * every worker).  The pass checked every worker (none is NULL, too small
 * or without an id).  NULL (and *load NULL) when no such pass was made.
 */
const uint8_t *timed_hard(const lbs_workload *wl, const lbs_worker *const *workers, uint32_t n,
                          const double **load);

/*
 * Did the scope's last timed_score write `scores` with a completion pass
 * whose rejections are exactly the workers that fail the hard filter
 * (timed_hard's 0, with no worker unknown)?  Then no rejection there is
 * a ceiling's, and the composite's ceiling rule has nothing to look for.
 * Only for an array nothing has written since.
 */
int timed_rejects_filtered(const double *scores);

/* hw_score through timed_learned, shared within a scope as above. */
lbs_status timed_score(timed *t, store *s, const lbs_workload *wl,
                       const lbs_worker *const *workers, uint32_t n, double *scores);

/* After a select answered `out`: every chosen worker has the work open.
 * Drops what expired first. */
void timed_placed(timed *t, const lbs_selection *out, const lbs_workload *wl, double now);

/* report(): the placement is no longer ahead of anything. */
void timed_reported(timed *t, const lbs_outcome *o);

/* ",\"ledger\":{...}" for stats(), into buf. */
void timed_stats(const timed *t, char *buf, size_t len);

#endif
