/*
 * bench_composite.c -- nanoseconds per select of the composite 0.7
 * hardware-aware / 0.2 priority / 0.1 round-robin, next to the sum of its
 * three children's own select costs, all measured in the same run.
 *
 *   bench_composite [--plugin PATH] [--sizes 64,512,4096] [--devices N]
 *                   [--rounds N] [--scenario DIR]
 *
 * Every select goes through the shim as a host calls it (the plugin
 * dlopen'ed, every answer checked).  The five schedulers are timed in
 * turns, round after round, and each column is the median over the rounds,
 * so that a noisy neighbour slows all of them alike rather than whichever
 * happened to run at the time; times are the thread's CPU time (cpu_ns),
 * so that the time others ran while this one waited for a core is not.  The second composite counts round-robin as
 * a vote ("vote": true) instead of scoring it: the cost of the blend
 * without one O(n) score pass.  The last columns time the children's score
 * slots (called straight through the descriptor): a blend needs every
 * child's score of every worker, so their sum is the floor under the
 * composite, and composite / that sum is what the blending itself adds.
 * --scenario DIR: a simgen scenario's fleet and mix instead (scenario.h),
 * one size, so without --sizes and --devices.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleetgen.h"
#include "scenario.h"
#include "host.h"
#include "loader.h"
#include "args.h"
#include "checked.h"
#include "scheduler.h"

#define N_WORKLOADS 256
#define ROUND_NS 20000000ull /* per scheduler per round */

#define BLEND(rr_extra)                                                          \
	"{\"children\": [{\"scheduler\": \"hardware-aware\", \"weight\": 0.7},"  \
	" {\"scheduler\": \"priority\", \"weight\": 0.2},"                        \
	" {\"scheduler\": \"round-robin\", \"weight\": 0.1" rr_extra "}]}"

enum { HW, PRIO, RR, COMP, COMP_VOTE, N_SCHED, N_TIMED = N_SCHED + 3 };

static const struct {
	const char *label, *name, *config;
} scheds[N_SCHED] = {
	{ "hardware-aware", "hardware-aware", NULL },
	{ "priority", "priority", NULL },
	{ "round-robin", "round-robin", NULL },
	{ "composite", "composite", BLEND("") },
	{ "composite rr-vote", "composite", BLEND(", \"vote\": true") },
};

/* What is timed: a select through the shim, or (s NULL) a child's score
 * slot on an instance of its own. */
typedef struct timed {
	shim_sched *s;
	const lbs_scheduler_desc *d;
	void *inst;
	double *scores;
} timed;

/* ns per call over `iters` calls starting at workload *next. */
static double run(const timed *t, const genfleet *f, const lbs_workload *wl,
                  uint64_t iters, uint64_t *next)
{
	const lbs_worker *const *w = (const lbs_worker *const *)f->workers;
	uint32_t idx[8];
	const char *ids[8];
	lbs_selection sel = { .struct_size = sizeof sel, .capacity = 8, .indices = idx, .ids = ids };
	uint64_t t0 = cpu_ns();

	for (uint64_t k = 0; k < iters; k++, (*next)++) {
		if (t->s)
			bench_select(t->s, &wl[*next % N_WORKLOADS], w, f->n, &sel);
		else
			t->d->score(t->inst, &wl[*next % N_WORKLOADS], w, f->n, t->scores);
	}
	return (double)(cpu_ns() - t0) / (double)iters;
}

/* A child's own instance, for timing its score slot. */
static int open_scorer(shim_host *h, const char *plugin, const char *name, uint32_t n,
                       timed *t)
{
	loaded_plugin *p;
	const lbs_host_api *api;
	char err[1024];

	if (host_load(h, plugin ? plugin : host_default_plugin(), &p, &api, err, sizeof err) ||
	    !(t->d = loader_find(p, name, err, sizeof err)) || !t->d->score ||
	    t->d->create(api, NULL, 0, &t->inst, err, sizeof err) ||
	    !(t->scores = malloc(n * sizeof *t->scores))) {
		fprintf(stderr, "bench_composite: %s: %s\n", name, err);
		return 1;
	}
	return 0;
}

static int bench_fleet(shim_host *h, const char *plugin, const genfleet *fleet, int rounds,
                       const lbs_workload *wl)
{
	const genfleet f = *fleet;
	uint32_t n = f.n;
	timed t[N_TIMED] = { { 0 } };
	uint64_t iters[N_TIMED], next[N_TIMED] = { 0 };
	double *ns = calloc((size_t)rounds * N_TIMED, sizeof *ns), med[N_TIMED], sum, sum_sc;
	char err[1024];
	int rc = !ns;

	for (int k = 0; k < N_TIMED && rc == 0; k++) {
		const char *cfg = k < N_SCHED ? scheds[k].config : NULL;

		if (k >= N_SCHED)
			rc = open_scorer(h, plugin, scheds[k - N_SCHED].name, f.n, &t[k]);
		else if (sched_open(h, plugin, scheds[k].name, cfg, cfg ? strlen(cfg) : 0, &t[k].s,
		                    err, sizeof err) != LBS_OK) {
			fprintf(stderr, "bench_composite: %s\n", err);
			rc = 1;
		}
		if (rc)
			break;
		/* Warm up, and size a round to about ROUND_NS. */
		run(&t[k], &f, wl, 200, &next[k]);
		iters[k] = (uint64_t)((double)ROUND_NS / run(&t[k], &f, wl, 200, &next[k])) + 1;
	}
	for (int r = 0; r < rounds && rc == 0; r++)
		for (int k = 0; k < N_TIMED; k++)
			ns[k * rounds + r] = run(&t[k], &f, wl, iters[k], &next[k]);
	if (rc == 0) {
		for (int k = 0; k < N_TIMED; k++)
			med[k] = median_of(ns + k * rounds, (size_t)rounds);
		sum = med[HW] + med[PRIO] + med[RR];
		sum_sc = med[N_SCHED + HW] + med[N_SCHED + PRIO] + med[N_SCHED + RR];
		printf("%7u %7u %8.0f %8.0f %8.0f %9.0f %9.0f %6.2fx %9.0f %6.2fx %10.0f %6.2fx\n",
		       n, f.n_devices, med[HW], med[PRIO], med[RR], sum, med[COMP], med[COMP] / sum,
		       med[COMP_VOTE], med[COMP_VOTE] / sum, sum_sc, med[COMP] / sum_sc);
		fflush(stdout);
	}
	for (int k = 0; k < N_TIMED; k++) {
		sched_close(t[k].s);
		if (t[k].inst)
			t[k].d->destroy(t[k].inst);
		free(t[k].scores);
	}
	free(ns);
	return rc;
}

static int bench_size(shim_host *h, const char *plugin, uint32_t n, uint32_t max_dev,
                      int rounds, const lbs_workload *wl)
{
	genfleet f = genfleet_make(n, max_dev, 7);
	int rc = bench_fleet(h, plugin, &f, rounds, wl);

	genfleet_free(&f);
	return rc;
}

int main(int argc, char **argv)
{
	const char *plugin = NULL, *sizes = "64,512,4096", *scen_dir = NULL;
	uint32_t max_dev = 2;
	int rounds = 15, rc = 0, sized = 0;
	char err[1024];
	scenario sc;
	shim_host *h = host_new("bench", LBS_LOG_ERROR);
	lbs_workload *wl = genworkloads_make(N_WORKLOADS, 42);

	for (int i = 1; i < argc; i += 2) {
		unsigned long long v;

		if (bench_has_value("bench_composite", argc, argv, i))
			return 1;
		if (!strcmp(argv[i], "--plugin"))
			plugin = argv[i + 1];
		else if (!strcmp(argv[i], "--sizes"))
			sizes = argv[i + 1], sized = 1;
		else if (!strcmp(argv[i], "--devices")) {
			if (bench_count("bench_composite", argv[i], argv[i + 1], 1, 64, &v))
				return 1;
			max_dev = (uint32_t)v, sized = 1;
		} else if (!strcmp(argv[i], "--scenario"))
			scen_dir = argv[i + 1];
		else if (!strcmp(argv[i], "--rounds")) {
			if (bench_count("bench_composite", argv[i], argv[i + 1], 1, 1000, &v))
				return 1;
			rounds = (int)v;
		} else {
			fprintf(stderr, "bench_composite: unknown option %s\n", argv[i]);
			return 1;
		}
	}
	if (scen_dir && sized) {
		fprintf(stderr, "bench_composite: --scenario has its own fleet; --sizes and "
		        "--devices do not go with it\n");
		return 1;
	}
	if (scen_dir && scenario_load(scen_dir, N_WORKLOADS, 0.7, 42, &sc, err, sizeof err)) {
		fprintf(stderr, "bench_composite: %s\n", err);
		return 1;
	}
	printf("ns per call, median of %d rounds.  hw / prio / rr: each child's select alone;\n"
	       "sum: their total; ratio: composite / sum; rr-vote: the composite with round-robin\n"
	       "as a vote; scores: the three children's score slots; /scores: composite / scores\n",
	       rounds);
	printf("%7s %7s %8s %8s %8s %9s %9s %7s %9s %7s %10s %7s\n", "workers", "devices", "hw",
	       "prio", "rr", "sum", "composite", "ratio", "rr-vote", "ratio", "scores", "/scores");
	if (scen_dir)
		rc = bench_fleet(h, plugin, &sc.f, rounds, sc.wl);
	for (const char *sp = scen_dir ? "" : sizes; *sp && rc == 0;) {
		rc = bench_size(h, plugin, (uint32_t)strtoul(sp, NULL, 10), max_dev, rounds, wl);
		sp = strchr(sp, ',');
		if (!sp)
			break;
		sp++;
	}
	if (scen_dir)
		scenario_free(&sc);
	free(wl);
	host_free(h);
	return rc;
}
