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

enum aff_state aff_state_of(const aff_params *p, const lbs_workload *wl,
                            const lbs_worker *const *workers, uint32_t n, const char *id,
                            uint32_t *pos, double *load)
{
	enum elig_reason r;

	*load = -1.0;
	if (!id)
		return AFF_NONE;
	for (uint32_t i = 0; i < n; i++) {
		if (!wid_valid(workers[i]) || strcmp(workers[i]->id, id))
			continue;
		*pos = i;
		*load = worker_effective_load(workers[i]);
		r = elig_check(wl, workers[i], p->ceiling, NULL);
		if (r == ELIG_OVERLOADED)
			return AFF_BUSY;
		if (r == ELIG_EXCLUDED)
			return AFF_EXCLUDED;
		if (r != ELIG_OK)
			return AFF_INELIGIBLE;
		return *load > p->give_way ? AFF_BUSY : AFF_USED;
	}
	return AFF_ABSENT;
}

/* The sticky position, or -1: the model's worker, else the family's. */
static int64_t sticky(const aff_params *p, const lbs_workload *wl,
                      const lbs_worker *const *workers, uint32_t n, const char *model_worker,
                      const char *family_worker, aff_result *res)
{
	uint32_t mpos = 0, fpos = 0;
	double mload, fload;

	res->model = aff_state_of(p, wl, workers, n, model_worker, &mpos, &mload);
	res->family = aff_state_of(p, wl, workers, n, family_worker, &fpos, &fload);
	res->remembered_load = model_worker ? mload : fload;
	if (res->model == AFF_USED) {
		res->via = AFF_VIA_MODEL;
		return mpos;
	}
	if (res->family == AFF_USED) {
		res->via = AFF_VIA_FAMILY;
		return fpos;
	}
	return -1;
}

lbs_status aff_pick(const aff_params *p, const lbs_workload *wl,
                    const lbs_worker *const *workers, uint32_t n, const char *model_worker,
                    const char *family_worker, uint32_t want, uint32_t *idx,
                    aff_result *res)
{
	int64_t first;
	double load;

	memset(res, 0, sizeof(*res));
	for (uint32_t i = 0; i < n; i++) {
		if (!wid_valid(workers[i]))
			return LBS_EINVAL;
		if (elig_pass(wl, workers[i], p->ceiling, &load))
			res->n_eligible++;
	}
	if (want == 0 || res->n_eligible == 0)
		return LBS_OK;
	first = sticky(p, wl, workers, n, model_worker, family_worker, res);
	if (first >= 0) {
		idx[res->n_found++] = (uint32_t)first;
		res->load = worker_effective_load(workers[first]);
	}
	/* The rest least loaded first: O(want n), want is a shard count. */
	while (res->n_found < want) {
		int64_t best = -1;
		double best_load = 2.0;

		for (uint32_t i = 0; i < n; i++) {
			uint32_t k;
			double le;

			if (!elig_pass(wl, workers[i], p->ceiling, &load))
				continue;
			for (k = 0; k < res->n_found && idx[k] != i; k++)
				;
			if (k < res->n_found)
				continue;
			le = elig_effective_load(workers[i], load);
			if (le < best_load) {
				best = i;
				best_load = le;
			}
		}
		if (best < 0)
			break;
		if (res->n_found == 0) {
			res->via = AFF_VIA_LEAST_LOADED;
			res->load = best_load;
		}
		idx[res->n_found++] = (uint32_t)best;
	}
	return LBS_OK;
}

lbs_status aff_score(const aff_params *p, const lbs_workload *wl,
                     const lbs_worker *const *workers, uint32_t n, const char *model_worker,
                     const char *family_worker, double *scores)
{
	aff_result res;
	int64_t first;
	double load;

	memset(&res, 0, sizeof(res));
	for (uint32_t i = 0; i < n; i++) {
		if (!wid_valid(workers[i]))
			return LBS_EINVAL;
		scores[i] = elig_pass(wl, workers[i], p->ceiling, &load)
		            ? 0.5 * (1.0 - elig_effective_load(workers[i], load)) : -1.0;
	}
	first = sticky(p, wl, workers, n, model_worker, family_worker, &res);
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
