/*
 * scheduler.h -- a scheduler instance as a host uses it: created through a
 * loaded plugin, with every answer checked.  A plugin that answers an index
 * out of range, an id that does not match, a duplicate, an excluded or
 * ineligible worker, or a count the workload does not allow is logged as
 * misbehaving, and the host falls back to its own rotation over the
 * eligible workers.  It never crashes the host.
 */
#ifndef LBS_SCHEDULER_H
#define LBS_SCHEDULER_H

#include <stddef.h>
#include <stdint.h>

#include <lbsched/abi.h>

#include "host.h"

typedef struct shim_sched shim_sched;

/* plugin_path NULL = host_default_plugin().  config may be NULL. */
lbs_status sched_open(shim_host *h, const char *plugin_path, const char *name,
                      const char *config, size_t config_len, shim_sched **out,
                      char *err, size_t errlen);
void sched_close(shim_sched *s);

const lbs_scheduler_desc *sched_desc(const shim_sched *s);

/* The plugin s was made by (loader_entry for its name and version,
 * loader_path), loaded while s lives. */
const loaded_plugin *sched_plugin(const shim_sched *s);

/*
 * Select and validate.  out must be set up by the caller (struct_size,
 * capacity, indices, ids, reason).  *fell_back (may be NULL) is set to 1
 * when the plugin's answer was rejected or it returned an error and the
 * host's fallback answered instead.  Returns LBS_OK or LBS_NO_WORKER, or
 * LBS_EINVAL for an allocation that is none of LBS_ALLOC_* (no plugin asked).
 * Why an answer was refused goes to the host's log (plugin misbehaving;
 * LBS_LOG_ERROR for the LBS_EINVAL and LBS_ENOMEM that select() may
 * answer), for the refusals sched_said() picks.
 */
lbs_status sched_select(shim_sched *s, const lbs_workload *wl,
                        const lbs_worker *const *workers, uint32_t n,
                        lbs_selection *out, int *fell_back);

/* Whether a scheduler's n-th refused answer (1, 2, ...) is logged: each
 * of the first 8, then one at each doubling of the count, so that a plugin
 * failing every request does not write a line per request. */
int sched_said(uint64_t n);

/*
 * The host's own answer, used when a plugin's is rejected and by a host with
 * no scheduler instance: the next workers from *cursor (advanced) that pass
 * the hard filter (elig_check, load ceiling 0.9), as many as the workload
 * allows.  out as for sched_select (the reason is left alone).  Returns
 * LBS_OK or LBS_NO_WORKER; never sends work to an ineligible worker.
 */
lbs_status sched_rotate(uint32_t *cursor, const lbs_workload *wl,
                        const lbs_worker *const *workers, uint32_t n, lbs_selection *out);


/* Optional slots; LBS_EUNSUPPORTED when the plugin lacks them. */
lbs_status sched_report(shim_sched *s, const lbs_outcome *o);
/* A placement of wl on worker_id (cookie from its selection) that will
 * not run: reported LBS_RESULT_CANCELLED, which closes it in the
 * plugin's in-flight ledger and teaches nothing. */
void sched_withdraw(shim_sched *s, const lbs_workload *wl, const char *worker_id,
                    uint64_t cookie);
lbs_status sched_explain(shim_sched *s, const lbs_workload *wl,
                         const lbs_worker *const *workers, uint32_t n,
                         lbs_write_fn write, void *ctx);
lbs_status sched_stats(shim_sched *s, lbs_write_fn write, void *ctx);
/* s's stats as one string (free() it), or NULL when the plugin has none,
 * failed or memory ran out. */
char *sched_stats_text(shim_sched *s);
/* scores[i] for workers[i] as the plugin's score slot gives them (0..1,
 * negative: not eligible); the instance's state is left as it was. */
lbs_status sched_score(shim_sched *s, const lbs_workload *wl,
                       const lbs_worker *const *workers, uint32_t n, double *scores);

/*
 * Tell the instance its fleet changed: a worker joined, left or moved, so
 * what it keeps per worker (weighted-round-robin's rotation, a composite's
 * children) can drop those gone.  A host that replaces its fleet calls it
 * once with the new one, between selects.  A plugin's error is logged, not
 * returned: the new fleet is the host's either way, and a scheduler that
 * could not tidy up still answers for it.  Returns what the plugin did,
 * LBS_EUNSUPPORTED when it has no such slot.
 */
lbs_status sched_workers_changed(shim_sched *s, const lbs_worker *const *workers, uint32_t n);

#endif
