/*
 * scenario.c -- see scenario.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "convert.h"
#include "file.h"
#include "rng.h"
#include "scenario.h"
#include "stream.h"

static void load_state(lbs_worker *w, double busy, rng *r)
{
	uint32_t cap = w->capacity ? w->capacity : 1, run = 0, queued = 0;
	double u;

	for (uint32_t k = 0; k < cap; k++)
		run += rng_unit(r) < busy;
	if (run == cap && rng_unit(r) < busy)
		queued = 1 + (uint32_t)(rng_unit(r) * cap) % cap;
	u = (double)(run + queued) / cap;
	u = u > 1.0 ? 1.0 : u;
	w->active_tests = run;
	w->queued_tests = queued;
	w->util_cpu = w->util_memory = w->util_gpu = w->util_io = w->util_network = u;
	w->temperature = rng_unit(r) * 0.6;
	if (rng_unit(r) < 0.1) {
		w->thermal_state = LBS_THERMAL_COOLING;
		w->performance_level = rng_range(r, 0.5, 0.9);
	}
}

static char *read_in(const char *dir, const char *name, char *path, size_t pathlen,
                     size_t *len, char *err, size_t errlen)
{
	snprintf(path, pathlen, "%s/%s", dir, name);
	return file_read(path, len, err, errlen);
}

int scenario_load(const char *dir, uint32_t n_wl, double busy, uint64_t seed, scenario *out,
                  char *err, size_t errlen)
{
	char fleet_path[4096], mix_path[4096], *fleet = NULL, *mix = NULL;
	size_t fleet_len, mix_len;
	arena *a = arena_new();
	conv_ctx c = {.arena = a, .err = err, .errlen = errlen};
	lbs_worker **w;
	stream s;
	rng r;
	uint32_t n;

	memset(out, 0, sizeof *out);
	if (!a) {
		snprintf(err, errlen, "%s: out of memory", dir);
		return -1;
	}
	if (!(fleet = read_in(dir, "fleet.json", fleet_path, sizeof fleet_path, &fleet_len, err,
	                      errlen)) ||
	    !(mix = read_in(dir, "mix.json", mix_path, sizeof mix_path, &mix_len, err, errlen)) ||
	    conv_fleet(&c, fleet, fleet_len, fleet_path, &w, &n) ||
	    stream_from_mix(&c, mix, mix_len, mix_path, n_wl, 1.0, seed, NULL, &s)) {
		free(fleet);
		free(mix);
		arena_free(a);
		return -1;
	}
	free(fleet);
	free(mix);
	rng_seed(&r, seed);
	out->f.workers = w;
	out->f.n = n;
	for (uint32_t i = 0; i < n; i++) {
		load_state(w[i], busy, &r);
		out->f.n_devices += w[i]->n_devices;
	}
	out->wl = arena_alloc(a, n_wl * sizeof *out->wl);
	if (!out->wl) {
		snprintf(err, errlen, "%s: out of memory", dir);
		arena_free(a);
		return -1;
	}
	for (uint32_t i = 0; i < n_wl; i++)
		out->wl[i] = s.t[i].wl;
	out->n_wl = n_wl;
	out->arena = a;
	return 0;
}

void scenario_free(scenario *s)
{
	arena_free(s->arena);
	memset(s, 0, sizeof *s);
}
