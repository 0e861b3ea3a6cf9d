/*
 * affinity.c -- model and family stickiness; see affinity.h.
 */
#include "affinity.h"

#include <string.h>

#include "eligible.h"
#include "worker_id.h"

static int is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

size_t aff_family_of(const char *model_id, char *buf, size_t len)
{
	const char *s = model_id, *slash;
	size_t n = 0;

	if (len)
		buf[0] = '\0';
	if (!s || !len)
		return 0;
	slash = strrchr(s, '/');
	if (slash)
		s = slash + 1;
	while (is_alnum(s[n]) && n + 1 < len) {
		char c = s[n];

		buf[n++] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
	}
	buf[n] = '\0';
	return n;
}

/* What affinity calls a worker's load: the larger of its effective load
 * and its occupancy, the tests running and waiting on it per slot.  A host
 * that reports counts and no utilisation (nginx's static upstreams fill
 * active_tests alone) left every worker at 0, and the least loaded was the
 * first of the array for every request; a remembered worker was never
 * busy however many tests it ran. */
static double load_of(const lbs_worker *w, double effective)
{
	double cap = w->capacity ? (double)w->capacity : 1.0;
	double occ = ((double)w->active_tests + (double)w->queued_tests) / cap;

	return occ > effective ? occ : effective;
}

double aff_load(const lbs_worker *w)
{
	return load_of(w, worker_effective_load(w));
}

/* The state of the remembered worker at position pos (or absent); *ok
 * whether it passes the hard filter. */
static enum aff_state state_at(const aff_params *p, const lbs_workload *wl,
                               const lbs_worker *const *workers, int64_t pos, double *load,
                               int *ok)
{
	enum elig_reason r;

	*load = -1.0;
	*ok = 0;
	if (pos < 0)
		return AFF_ABSENT;
	*load = aff_load(workers[pos]);
	r = elig_check(wl, workers[pos], p->ceiling, NULL);
	*ok = r == ELIG_OK;
	if (r == ELIG_OVERLOADED)
		return AFF_BUSY;
	if (r == ELIG_EXCLUDED)
		return AFF_EXCLUDED;
	if (r != ELIG_OK)
		return AFF_INELIGIBLE;
	return *load > p->give_way ? AFF_BUSY : AFF_USED;
}

/* A busy remembered worker that is eligible (ok: busy on its load, not
 * over the ceiling, which the hard filter refuses) still keeps the work
 * when no eligible worker is less loaded: moving the model would lose its
 * warm caches and gain nothing.  least is the least load of the eligible,
 * this worker's among them. */
static int stays(enum aff_state s, int ok, double load, double least)
{
	return s == AFF_BUSY && ok && load <= least;
}

/*
 * One pass over the fleet: validity, the eligible count, the least loaded
 * eligible worker, where the remembered workers stand.  Then the sticky
 * position (the model's worker, else the family's) or -1, into res.
 */
static lbs_status scan(const aff_params *p, const lbs_workload *wl,
                       const lbs_worker *const *workers, uint32_t n, const char *model_worker,
                       const char *family_worker, aff_result *res, int64_t *sticky,
                       int64_t *least, double *least_load)
{
	int64_t mpos = -1, fpos = -1;
	double load, mload = -1.0, fload = -1.0; /* state_at sets what is read; -O3 cannot tell */
	int mok = 0, fok = 0;

	memset(res, 0, sizeof(*res));
	*least = -1;
	*least_load = 0.0; /* set with *least */
	for (uint32_t i = 0; i < n; i++) {
		const lbs_worker *w = workers[i];

		if (!wid_valid(w))
			return LBS_EINVAL;
		if (model_worker && mpos < 0 && !strcmp(w->id, model_worker))
			mpos = i;
		if (family_worker && fpos < 0 && !strcmp(w->id, family_worker))
			fpos = i;
		if (elig_pass(wl, w, p->ceiling, &load)) {
			double le = load_of(w, elig_effective_load(w, load));

			res->n_eligible++;
			if (*least < 0 || le < *least_load) {
				*least = i;
				*least_load = le;
			}
		}
	}
	res->model = model_worker ? state_at(p, wl, workers, mpos, &mload, &mok) : AFF_NONE;
	res->family = family_worker ? state_at(p, wl, workers, fpos, &fload, &fok) : AFF_NONE;
	res->remembered_load = model_worker ? mload : family_worker ? fload : -1.0;
	*sticky = -1;
	if (res->model == AFF_USED || stays(res->model, mok, mload, *least_load)) {
		res->via = AFF_VIA_MODEL;
		*sticky = mpos;
	} else if (res->family == AFF_USED || stays(res->family, fok, fload, *least_load)) {
		res->via = AFF_VIA_FAMILY;
		*sticky = fpos;
	}
	return LBS_OK;
}

lbs_status aff_pick(const aff_params *p, const lbs_workload *wl,
                    const lbs_worker *const *workers, uint32_t n, const char *model_worker,
                    const char *family_worker, uint32_t want, uint32_t *idx,
                    aff_result *res)
{
	int64_t first, least;
	double load, least_load;
	lbs_status st = scan(p, wl, workers, n, model_worker, family_worker, res, &first, &least,
	                     &least_load);

	if (st != LBS_OK || want == 0 || res->n_eligible == 0)
		return st;
	if (first < 0) {
		first = least;
		res->via = AFF_VIA_LEAST_LOADED;
	}
	idx[res->n_found++] = (uint32_t)first;
	res->load = aff_load(workers[first]);
	/* Further shards least loaded first: O(want n), want is a shard count. */
	while (res->n_found < want) {
		int64_t best = -1;
		double best_load = 0.0; /* set with best */

		for (uint32_t i = 0; i < n; i++) {
			uint32_t k;
			double le;

			if (!elig_pass(wl, workers[i], p->ceiling, &load))
				continue;
			for (k = 0; k < res->n_found && idx[k] != i; k++)
				;
			if (k < res->n_found)
				continue;
			le = load_of(workers[i], elig_effective_load(workers[i], load));
			if (best < 0 || le < best_load) {
				best = i;
				best_load = le;
			}
		}
		if (best < 0)
			break;
		idx[res->n_found++] = (uint32_t)best;
	}
	return LBS_OK;
}

lbs_status aff_score(const aff_params *p, const lbs_workload *wl,
                     const lbs_worker *const *workers, uint32_t n, const char *model_worker,
                     const char *family_worker, double *scores)
{
	int64_t first, least;
	double load, least_load;
	aff_result res;
	lbs_status st = scan(p, wl, workers, n, model_worker, family_worker, &res, &first, &least,
	                     &least_load);

	if (st != LBS_OK)
		return st;
	for (uint32_t i = 0; i < n; i++) {
		double le;

		if (!elig_pass(wl, workers[i], p->ceiling, &load)) {
			scores[i] = -1.0;
			continue;
		}
		/* A queue takes the load past 1: no spare, yet a longer queue
		 * still ranks lower, as aff_pick ranks it.  At 0 for all of
		 * them, a composite's tie rule (utilisation, position) put the
		 * next test on the first worker whatever its queue. */
		le = load_of(workers[i], elig_effective_load(workers[i], load));
		scores[i] = 0.5 * (le < 1.0 ? 1.0 - le : AFF_FULL / le);
	}
	if (first >= 0)
		scores[first] = 1.0;
	return LBS_OK;
}

int aff_moves(enum aff_state state)
{
	return state == AFF_NONE || state == AFF_INELIGIBLE || state == AFF_ABSENT;
}

const char *aff_state_name(enum aff_state s)
{
	static const char *const names[] = { "none", "usable", "busy", "excluded", "ineligible",
		                             "absent" };

	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

const char *aff_via_name(enum aff_via v)
{
	static const char *const names[] = { "none", "model", "family", "least_loaded" };

	return (unsigned)v < sizeof(names) / sizeof(names[0]) ? names[v] : "?";
}
