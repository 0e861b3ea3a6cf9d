/*
 * graphsim.c -- `simulate --graphs G.jsonl`: workload graphs through the
 * simulator's truth (docs/ORCHESTRATE.md).  Each line of G.jsonl is one
 * graph; each graph runs on an idle fleet three ways:
 *
 *   orchestrator  orch_drive() through the scheduler: estimates from the
 *                 scheduler (explain's run_s), one select per placement,
 *                 outcomes reported back so it learns, failures recovered
 *                 by the graph's strategies (or --strategy);
 *   heft          HEFT (Topcuoglu, Hariri and Wu, 2002) with oracle
 *                 knowledge: upward ranks from the mean true cost over
 *                 eligible workers, each subtask in rank order onto the
 *                 worker slot with the earliest finish, insertion allowed;
 *                 costs are the truth's noise-free speeds, and the plan is
 *                 then run with the real durations; no failures;
 *   bound         the critical-path lower bound: the longest path when each
 *                 subtask runs at once on its fastest eligible worker, with
 *                 its real duration.
 *
 * Real durations: declared expected_duration / speed[type] x exp(sigma z),
 * z drawn once per subtask (the same luck for every way of running it);
 * throttling is not modelled for graphs.  A run fails with the worker's
 * failure_rate, or --fail-rate for every run, partway through (uniform).
 */
#include "graphsim.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "convert.h"
#include "text.h"
#include "drive.h"
#include "eligible.h"
#include "file.h"
#include "fleet_redis.h"
#include "host.h"
#include "interrupt.h"
#include "orch.h"
#include "report.h"
#include "rng.h"
#include "scheduler.h"
#include "simulate_cmd.h"
#include "truth.h"


typedef struct gopts {
	const char *graphs, *workers, *truth, *scheduler, *config, *plugin, *report;
	const char *redis_password;
	int redis_insecure;
	uint64_t seed;
	double fail_rate; /* < 0: the truth's */
	int strategy;     /* -1: the graphs' own */
	uint32_t max_attempts;
} gopts;

typedef struct gctx {
	const truth *tr;
	lbs_worker **workers;
	uint32_t n;
	shim_sched *s;
	uint64_t seed;
	uint32_t graph;
	double fail_rate;
	double *luck;        /* per subtask: exp(sigma z) */
	uint32_t *tries;     /* per subtask: runs started */
	report_bar *bars;    /* the first graph's runs, for --report */
	size_t n_bars, cap_bars;
	int keep_bars, bars_failed;
	char *title;         /* the first graph's timeline's, once it ran */
	double makespan;     /* its last run's end */
	/* --strategy alternate: subtasks in all and those without alternates */
	uint64_t subtasks, bare;
} gctx;

static const char *prog;

/* simulate --graphs' options, in the order --help lists them; G_* index them. */
enum {
	G_GRAPHS, G_WORKERS, G_TRUTH, G_SCHEDULER, G_CONFIG, G_PLUGIN, G_SEED, G_FAIL_RATE,
	G_STRATEGY, G_MAX_ATTEMPTS, G_REPORT, G_REDIS_PASSWORD, G_REDIS_INSECURE,
};

static const cli_opt graphsim_opts[] = {
	[G_GRAPHS] = {"graphs", "GRAPHS.jsonl", "workload graphs, one a line (required)"},
	[G_WORKERS] = {"workers", "FLEET.json", "the fleet, as for decide (required)"},
	[G_TRUTH] = {"truth", "TRUTH.json", "the hidden reality, as for simulate (required)"},
	[G_SCHEDULER] = {"scheduler", "NAME", "the scheduler that places each subtask "
	                 "(default hardware-aware; a bare composite is 0.7 hardware-aware, "
	                 "0.2 priority, 0.1 round-robin)"},
	[G_CONFIG] = {"config", "FILE", "that scheduler's config"},
	[G_PLUGIN] = {"plugin", "PATH", "the plugin, as for decide"},
	[G_SEED] = {"seed", "S", "seeds the noise and the failures, 0..2^53 (default 1)"},
	[G_FAIL_RATE] = {"fail-rate", "P", "each run fails with this probability, in [0, 1) "
	                 "(default: the truth's failure rates)"},
	[G_STRATEGY] = {"strategy", "NAME", "the recovery of every subtask: retry, reassign, "
	                "skip, alternate or checkpoint (default: each graph's own)"},
	[G_MAX_ATTEMPTS] = {"max-attempts", "N", "runs a subtask may start, 1..1000"},
	[G_REPORT] = {"report", "TIMELINE.html", "the first graph's subtasks per worker, a "
	              "timeline"},
	[G_REDIS_PASSWORD] = {"redis-password-file", "FILE", "with --workers "
	                      "redis://HOST:PORT/PREFIX, as for decide"},
	[G_REDIS_INSECURE] = {"redis-insecure", NULL, "as for decide"},
	{NULL, NULL, NULL},
};

const cli_cmd graphsim_cmd = {
	"simulate",
	"--graphs GRAPHS.jsonl --workers FLEET.json --truth TRUTH.json [OPTION]...",
	"Run workload graphs through the truth: the orchestrator's makespan per graph against "
	"HEFT with oracle costs and the critical-path bound (docs/ORCHESTRATE.md).",
	NULL,
	graphsim_opts,
	cmd_graphsim,
	"simulate --graphs GRAPHS.jsonl",
	&simulate_cmd,
};

/* 0, -1 after --help, or EXIT_USAGE after its message. */
static int parse(int argc, char **argv, gopts *o)
{
	static const char *const strategies[] = {"retry", "reassign", "skip", "alternate",
	                                         "checkpoint"};
	const char *v[CLI_MAX_OPTS], *x;
	int first, r = cli_parse(prog, &graphsim_cmd, argc, argv, v, &first);

	if (r)
		return r;
	memset(o, 0, sizeof *o);
	o->graphs = v[G_GRAPHS];
	o->workers = v[G_WORKERS];
	o->truth = v[G_TRUTH];
	o->scheduler = v[G_SCHEDULER] ? v[G_SCHEDULER] : "hardware-aware";
	o->config = v[G_CONFIG];
	o->plugin = v[G_PLUGIN];
	o->report = file_out_path(v[G_REPORT]);
	o->redis_password = v[G_REDIS_PASSWORD];
	o->redis_insecure = v[G_REDIS_INSECURE] != NULL;
	o->seed = 1;
	o->fail_rate = -1;
	o->strategy = -1;
	if ((x = v[G_SEED]) && cli_seed(prog, &graphsim_cmd, x, &o->seed))
		return EXIT_USAGE;
	if ((x = v[G_FAIL_RATE])) {
		if (!txt_typed_decimal(x, &o->fail_rate) || !(o->fail_rate >= 0 && o->fail_rate < 1))
			return cli_usage_error(prog, &graphsim_cmd,
			                       "--fail-rate must be a number in [0, 1), got '%s'", x);
	}
	if ((x = v[G_MAX_ATTEMPTS]) &&
	    sim_parse_u32(prog, &graphsim_cmd, "--max-attempts", x, 1, 1000, &o->max_attempts))
		return EXIT_USAGE;
	if ((x = v[G_STRATEGY])) {
		for (o->strategy = 0; o->strategy < 5 && strcmp(x, strategies[o->strategy]);
		     o->strategy++)
			;
		if (o->strategy == 5)
			return cli_usage_error(prog, &graphsim_cmd, "--strategy must be one of retry, "
			                       "reassign, skip, alternate, checkpoint, got '%s'", x);
	}
	if (first < argc)
		return cli_usage_error(prog, &graphsim_cmd, "unexpected argument '%s'", argv[first]);
	if (!o->graphs || !o->workers || !o->truth)
		return cli_usage_error(prog, &graphsim_cmd,
		                       "--graphs, --workers and --truth are required");
	if ((o->redis_password || o->redis_insecure) && !fleet_source_is_redis(o->workers))
		return cli_usage_error(prog, &graphsim_cmd, "--redis-password-file and "
		                       "--redis-insecure go with a redis:// --workers");
	/* standard output carries a line of JSON a graph */
	if (file_is_stdout(o->report))
		return cli_usage_error(prog, &graphsim_cmd, "--report '%s': standard output carries "
		                       "a JSON line for each graph; give the report a file",
		                       o->report);
	/* the report over an input: written last, it replaced it */
	{
		const char *const in[] = {"graphs", o->graphs, "workers", o->workers,
		                          "truth", o->truth, "config", o->config};
		for (size_t j = 0; j < 8; j += 2)
			if (file_same(o->report, in[j + 1], 1))
				return cli_usage_error(prog, &graphsim_cmd, "--report would write "
				                       "over --%s ('%s')", in[j], o->report);
	}
	return 0;
}

/* The true speed of worker w for subtask i's current requirements. */
static double speed(const gctx *g, const orch *o, uint32_t i, uint32_t w)
{
	const lbs_workload *wl = orch_workload(o, i);
	uint32_t type = wl->type < LBS_WL_COUNT ? wl->type : LBS_WL_MIXED;
	return g->tr->w[w].speed[type];
}

/* Noise-free true cost (the oracle's); NAN when w cannot run i. */
static double true_cost(const gctx *g, const orch *o, uint32_t i, uint32_t w)
{
	const lbs_workload *wl = orch_workload(o, i);
	if (elig_check(wl, g->workers[w], 2.0, NULL) != ELIG_OK)
		return NAN;
	return wl->est_duration_s / speed(g, o, i, w);
}

static double sim_run(void *ctx, const orch *o, uint32_t i, uint32_t w, int *fails, double *at)
{
	gctx *g = ctx;
	rng r;
	double p = g->fail_rate >= 0 ? g->fail_rate : g->tr->w[w].failure_rate;

	/* One draw per (graph, subtask, attempt): every strategy meets the
	 * same failures on its first runs. */
	rng_seed(&r, g->seed * 0x9E3779B97F4A7C15ull ^ ((uint64_t)g->graph << 40) ^
	                 ((uint64_t)i << 20) ^ g->tries[i]++);
	*fails = rng_unit(&r) < p;
	*at = rng_unit(&r);
	return orch_workload(o, i)->est_duration_s / speed(g, o, i, w) * g->luck[i];
}

static void sim_done(void *ctx, const orch *o, uint32_t i, uint32_t w, double start,
                     double finish, int ok)
{
	gctx *g = ctx;
	const lbs_workload *wl = orch_workload(o, i);
	/* A run resumed from a checkpoint does what was left (the progress
	 * is still the failed run's here): its expected duration is that
	 * share, or the learner took the worker for 1/share times faster. */
	lbs_outcome out = {.struct_size = sizeof out, .workload_type = wl->type,
	                   .workload_id = orch_id(o, i), .test_type = wl->test_type,
	                   .worker_id = g->workers[w]->id,
	                   .result = ok ? LBS_RESULT_SUCCESS : LBS_RESULT_FAILURE,
	                   .duration_s = finish - start,
	                   .expected_duration_s = wl->est_duration_s * orch_remaining(o, i),
	                   .cookie = orch_cookie(o, i)};
	/* A scheduler that does not learn says so; nothing to do then. */
	(void)sched_report(g->s, &out);
	if (g->keep_bars) {
		/* The label outlives the graph, freed before the timeline is
		 * written (once every graph ran). */
		char *label = strdup(orch_id(o, i));

		if (!label) {
			g->bars_failed = 1;
			return;
		}
		if (g->n_bars == g->cap_bars) {
			size_t cap = g->cap_bars ? 2 * g->cap_bars : 64;
			report_bar *p = realloc(g->bars, cap * sizeof *p);
			if (!p) {
				free(label);
				g->bars_failed = 1;
				return;
			}
			g->bars = p;
			g->cap_bars = cap;
		}
		/* lane holds the worker until the lanes are known */
		g->bars[g->n_bars++] = (report_bar){w, label, start, finish, ok,
		                                    orch_on_critical_path(o, i)};
	}
}

/* qsort's order for bars: by worker (the lane field still holds it), then start. */
static int by_worker_start(const void *pa, const void *pb)
{
	const report_bar *a = pa, *b = pb;
	if (a->lane != b->lane)
		return a->lane < b->lane ? -1 : 1;
	return a->start < b->start ? -1 : a->start > b->start ? 1 : 0;
}

#define MAX_ROWS 64 /* rows per worker in the timeline: its runs at once */

/* report_gantt_html's arguments, for file_write_out. */
typedef struct gantt {
	const gctx *g;
	const char *title;
	const char *const *names;
	uint32_t n_lanes;
	double makespan;
} gantt;

static int put_gantt(FILE *f, void *ctx, char *err, size_t errlen)
{
	const gantt *t = ctx;

	return report_gantt_html(f, t->title, t->names, t->n_lanes, t->g->bars, t->g->n_bars,
	                         t->makespan, err, errlen);
}

/* The first graph's timeline: a worker runs `capacity` subtasks at once,
 * so each worker it used gets as many rows as it ran at once, each run the
 * first row free at its start.  A worker's rows after its first are marked
 * " ·" (ids are whole: a label cut in a character was no UTF-8). */
static int write_timeline(gctx *g, const char *path, const char *title, double makespan,
                          char *err, size_t errlen)
{
	char **names = calloc(g->n_bars + 1, sizeof *names);
	uint32_t n_lanes = 0;
	int rc = -1;

	if (!names || g->bars_failed) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	qsort(g->bars, g->n_bars, sizeof *g->bars, by_worker_start);
	for (size_t k = 0; k < g->n_bars;) {
		uint32_t w = g->bars[k].lane, rows = 0, first = n_lanes;
		double end[MAX_ROWS];
		for (; k < g->n_bars && g->bars[k].lane == w; k++) {
			uint32_t r = 0;
			while (r < rows && end[r] > g->bars[k].start + 1e-9)
				r++;
			if (r == rows) {
				if (rows == MAX_ROWS) {
					r = rows - 1; /* more at once than rows: they overlap */
				} else {
					if (asprintf(&names[n_lanes], "%s%s", g->workers[w]->id,
					             rows ? REPORT_LANE_MORE : "") < 0) {
						names[n_lanes] = NULL;
						snprintf(err, errlen, "%s: out of memory", path);
						goto out;
					}
					n_lanes++;
					rows++;
				}
			}
			end[r] = g->bars[k].finish;
			g->bars[k].lane = first + r;
		}
	}
	rc = file_write_out(path, put_gantt,
	                    &(gantt){g, title, (const char *const *)names, n_lanes, makespan}, err,
	                    errlen);
out:
	for (uint32_t i = 0; names && i < n_lanes; i++)
		free(names[i]);
	free(names);
	return rc;
}

/* Upward ranks from `cost` (per subtask), into rank: from the last of the
 * topological order back, each after its dependants. */
static void upward(const orch *o, const double *cost, double *rank)
{
	uint32_t n = orch_count(o);
	const uint32_t *topo = orch_topo(o);

	for (uint32_t i = 0; i < n; i++)
		rank[i] = cost[i];
	for (uint32_t j = n; j-- > 0;) {
		uint32_t t = topo[j];
		for (uint32_t k = 0; k < orch_n_deps(o, t); k++) {
			uint32_t i = orch_dep(o, t, k);
			if (cost[i] + rank[t] > rank[i])
				rank[i] = cost[i] + rank[t];
		}
	}
}

typedef struct iv {
	double s, f;
	uint32_t task;
} iv;

typedef struct slotplan {
	iv *v;
	uint32_t n, cap;
} slotplan;

/* qsort has no context argument; the simulator runs one graph at a time.
 * A zero-cost dependency ties its dependant's rank, so ties go to more
 * subtasks still ahead (hops: a dependency always has more), and only then
 * to document order, which is not topological. */
static const double *sort_rank, *sort_hops;
static int by_rank(const void *a, const void *b)
{
	uint32_t i = *(const uint32_t *)a, j = *(const uint32_t *)b;
	double ra = sort_rank[i], rb = sort_rank[j], ha = sort_hops[i], hb = sort_hops[j];
	return ra > rb ? -1 : ra < rb ? 1 : ha > hb ? -1 : ha < hb ? 1 : i < j ? -1 : i > j;
}

/* Planned start, then placement order: a subtask's dependencies and the
 * runs before it on its slot come first even at the same start (a
 * zero-duration one starts when its dependant does). */
static const double *sort_start;
static const uint32_t *sort_placed;
static int by_start(const void *a, const void *b)
{
	uint32_t i = *(const uint32_t *)a, j = *(const uint32_t *)b;
	double sa = sort_start[i], sb = sort_start[j];
	return sa < sb ? -1 : sa > sb ? 1 : sort_placed[i] < sort_placed[j] ? -1
	                                    : sort_placed[i] > sort_placed[j];
}

/* HEFT's makespan, its plan run with the real durations.  NAN on error. */
static double heft(const gctx *g, const orch *o)
{
	uint32_t n = orch_count(o);
	size_t total = 0, *slot0 = calloc(g->n + 1, sizeof *slot0), *on = malloc(n * sizeof *on);
	uint32_t *order = malloc(n * sizeof *order), *prev = malloc(n * sizeof *prev);
	uint32_t *placed = malloc(n * sizeof *placed), head = 0;
	double *mean = calloc(n, sizeof *mean), *rank = calloc(n, sizeof *rank);
	double *one = malloc(n * sizeof *one), *hops = calloc(n, sizeof *hops);
	double *pf = calloc(n, sizeof *pf), *ps = calloc(n, sizeof *ps), *af = calloc(n, sizeof *af);
	slotplan *sp = NULL;
	double makespan = NAN;

	if (!slot0 || !order || !on || !prev || !placed || !mean || !rank || !one || !hops || !pf ||
	    !ps || !af)
		goto out;
	for (uint32_t w = 0; w < g->n; w++) {
		slot0[w] = total;
		total += orch_worker_slots(g->workers[w], n);
	}
	if (!(sp = calloc(total + 1, sizeof *sp)))
		goto out;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t m = 0;
		for (uint32_t w = 0; w < g->n; w++) {
			double c = true_cost(g, o, i, w);
			if (!isnan(c))
				mean[i] += c, m++;
		}
		mean[i] = m ? mean[i] / m : 0;
		order[i] = i;
		one[i] = 1;
		placed[i] = UINT32_MAX;
	}
	upward(o, mean, rank);
	upward(o, one, hops);
	sort_rank = rank;
	sort_hops = hops;
	qsort(order, n, sizeof *order, by_rank);
	for (uint32_t k = 0; k < n; k++) {
		uint32_t i = UINT32_MAX;
		size_t best_slot = SIZE_MAX;

		/* The first in rank order whose dependencies are placed: rank
		 * order is topological but for ranks a rounding apart, and
		 * `ready` must see every dependency's planned finish. */
		while (placed[order[head]] != UINT32_MAX)
			head++;
		for (uint32_t q = head; q < n && i == UINT32_MAX; q++) {
			uint32_t c = order[q], d = 0;
			if (placed[c] != UINT32_MAX)
				continue;
			while (d < orch_n_deps(o, c) && placed[orch_dep(o, c, d)] != UINT32_MAX)
				d++;
			if (d == orch_n_deps(o, c))
				i = c;
		}
		if (i == UINT32_MAX)
			goto out; /* a cycle, which orch_load refuses */
		placed[i] = k;
		double ready = 0, best_f = INFINITY, best_s = 0;
		for (uint32_t d = 0; d < orch_n_deps(o, i); d++)
			if (pf[orch_dep(o, i, d)] > ready)
				ready = pf[orch_dep(o, i, d)];
		for (uint32_t w = 0; w < g->n; w++) {
			double c = true_cost(g, o, i, w);
			uint32_t ns = orch_worker_slots(g->workers[w], n);
			if (isnan(c))
				continue;
			for (size_t s = slot0[w]; s < slot0[w] + ns; s++) {
				/* Insertion: the first gap after `ready` that holds c. */
				double t = ready;
				for (uint32_t q = 0; q < sp[s].n; q++) {
					if (t + c <= sp[s].v[q].s)
						break;
					if (sp[s].v[q].f > t)
						t = sp[s].v[q].f;
				}
				if (t + c < best_f)
					best_f = t + c, best_s = t, best_slot = s;
			}
		}
		if (best_slot == SIZE_MAX)
			goto out;
		{
			slotplan *p = &sp[best_slot];
			uint32_t q = 0;
			if (p->n == p->cap) {
				uint32_t cap = p->cap ? 2 * p->cap : 8;
				iv *v = realloc(p->v, cap * sizeof *v);
				if (!v)
					goto out;
				p->v = v;
				p->cap = cap;
			}
			/* After the runs starting at the same time: the slot's
			 * order is then placement order on ties, as the replay's. */
			while (q < p->n && p->v[q].s <= best_s)
				q++;
			memmove(p->v + q + 1, p->v + q, (p->n - q) * sizeof *p->v);
			p->v[q] = (iv){best_s, best_f, i};
			p->n++;
		}
		ps[i] = best_s;
		pf[i] = best_f;
		on[i] = best_slot;
	}
	/* Run the plan with real durations: per slot in planned order, each
	 * subtask once its dependencies really finished. */
	for (size_t s = 0; s < total; s++)
		for (uint32_t q = 0; q < sp[s].n; q++)
			prev[sp[s].v[q].task] = q ? sp[s].v[q - 1].task : UINT32_MAX;
	for (uint32_t i = 0; i < n; i++)
		order[i] = i;
	sort_start = ps;
	sort_placed = placed;
	qsort(order, n, sizeof *order, by_start);
	makespan = 0;
	for (uint32_t k = 0; k < n; k++) {
		uint32_t i = order[k], w = 0;
		double t = prev[i] == UINT32_MAX ? 0 : af[prev[i]];
		for (uint32_t d = 0; d < orch_n_deps(o, i); d++)
			if (af[orch_dep(o, i, d)] > t)
				t = af[orch_dep(o, i, d)];
		while (w + 1 < g->n && slot0[w + 1] <= on[i])
			w++;
		af[i] = t + true_cost(g, o, i, w) * g->luck[i];
		if (af[i] > makespan)
			makespan = af[i];
	}
out:
	for (size_t s = 0; sp && s < total; s++)
		free(sp[s].v);
	free(sp);
	free(slot0);
	free(order);
	free(on);
	free(prev);
	free(placed);
	free(mean);
	free(rank);
	free(one);
	free(hops);
	free(pf);
	free(ps);
	free(af);
	return makespan;
}

/*
 * The critical-path lower bound with real durations: each subtask's finish
 * when it starts as its last dependency finishes, added up from the start
 * as a run adds them (start + duration).  Summed from the end, as the
 * upward ranks are, it came out a rounding above the makespan of a run
 * that followed the critical path exactly (67.008709291934977 against
 * ...963); addition is monotone, so summed forward no run beats it.
 */
static double cp_bound(const gctx *g, const orch *o)
{
	uint32_t n = orch_count(o);
	double *cost = malloc(n * sizeof *cost), *fin = malloc(n * sizeof *fin), best = 0;

	if (!cost || !fin) {
		free(cost);
		free(fin);
		return NAN;
	}
	for (uint32_t i = 0; i < n; i++) {
		cost[i] = INFINITY;
		for (uint32_t w = 0; w < g->n; w++) {
			double c = true_cost(g, o, i, w);
			if (!isnan(c) && c < cost[i])
				cost[i] = c;
		}
		cost[i] *= g->luck[i];
		fin[i] = cost[i];
	}
	/* In topological order: every dependency's finish is final first. */
	for (uint32_t j = 0; j < n; j++) {
		uint32_t i = orch_topo(o)[j];
		double start = 0;
		for (uint32_t k = 0; k < orch_n_deps(o, i); k++)
			if (fin[orch_dep(o, i, k)] > start)
				start = fin[orch_dep(o, i, k)];
		fin[i] = start + cost[i];
	}
	for (uint32_t i = 0; i < n; i++)
		if (fin[i] > best)
			best = fin[i];
	free(cost);
	free(fin);
	return best;
}

static void warn(void *ctx, const char *msg)
{
	(void)ctx;
	cli_warn(prog, "%s", msg);
}

/* One graph: its three makespans as one JSON line.  0, -1 (err set), or 1
 * when a signal stopped it (no line). */
static int one_graph(gctx *g, const gopts *op, const char *line, size_t len, const char *where,
                     conv_warns *warns, double sums[4], char *err, size_t errlen)
{
	orch_warn ow = {warn, NULL, warns};
	orch *o = orch_load(line, len, where, &ow, g->seed + g->graph, err, errlen);
	orch_drive_result r;
	uint32_t n;
	double h, b;
	orch_exec x = {sim_run, sim_done, g, &cli_stop};
	int rc = -1;

	if (!o || orch_fit_fleet(o, (const lbs_worker *const *)g->workers, g->n, err, errlen))
		goto out;
	n = orch_count(o);
	free(g->luck);
	free(g->tries);
	g->luck = malloc(n * sizeof *g->luck);
	g->tries = calloc(n, sizeof *g->tries);
	if (!g->luck || !g->tries) {
		snprintf(err, errlen, "%s: out of memory", where);
		goto out;
	}
	for (uint32_t i = 0; i < n; i++) {
		rng r0;
		rng_seed(&r0, g->seed ^ ((uint64_t)g->graph << 32) ^ (i * 0x2545F4914F6CDD1Dull));
		g->luck[i] = exp(g->tr->noise_sigma * rng_normal(&r0));
	}
	g->subtasks += orch_count(o);
	if (op->strategy >= 0 || op->max_attempts)
		g->bare += orch_set_recovery(o, op->strategy, op->max_attempts);
	h = heft(g, o);
	b = cp_bound(g, o);
	g->keep_bars = op->report && g->graph == 0;
	if (orch_estimate(o, g->s, (const lbs_worker *const *)g->workers, g->n) ||
	    orch_drive(o, g->s, g->workers, g->n, &x, &r, err, errlen))
		goto out;
	if (r.stopped) { /* a signal: no line for a graph cut short */
		rc = 1;
		goto out;
	}
	if (g->keep_bars) {
		/* The whole name (up to 4,096 bytes): a title cut in a
		 * character was no UTF-8, and the figures after it were lost.
		 * The page is written once every graph ran (cmd_graphsim). */
		g->keep_bars = 0;
		g->makespan = r.makespan_s;
		if (asprintf(&g->title, "%s: %s %.1f s (HEFT %.1f s, bound %.1f s)",
		             orch_name(o)[0] ? orch_name(o) : where,
		             r.completed == 1 ? "makespan" : "lost after", r.makespan_s, h, b) < 0) {
			g->title = NULL;
			snprintf(err, errlen, "%s: out of memory", op->report);
			goto out;
		}
	}
	{
		cJSON *l = cJSON_CreateObject();
		char *text;
		cJSON_AddStringToObject(l, "graph", orch_name(o)[0] ? orch_name(o) : where);
		cJSON_AddNumberToObject(l, "subtasks", n);
		/* A lost graph has no makespan: its last run's end would read
		 * as one, and usually a short one. */
		if (r.completed == 1)
			cJSON_AddNumberToObject(l, "orchestrator_s", r.makespan_s);
		else
			cJSON_AddNullToObject(l, "orchestrator_s");
		cJSON_AddNumberToObject(l, "heft_s", h);
		if (r.completed == 1)
			cJSON_AddNumberToObject(l, "ratio", r.makespan_s / h);
		else
			cJSON_AddNullToObject(l, "ratio");
		cJSON_AddNumberToObject(l, "cp_bound_s", b);
		cJSON_AddBoolToObject(l, "completed", r.completed == 1);
		cJSON_AddNumberToObject(l, "failures", r.failures);
		cJSON_AddNumberToObject(l, "placements", r.placements);
		if (!(text = cJSON_PrintUnformatted(l))) {
			cJSON_Delete(l);
			snprintf(err, errlen, "%s: out of memory", where);
			goto out;
		}
		cJSON_Delete(l);
		puts(text);
		free(text);
	}
	if (r.completed == 1) {
		sums[0] += r.makespan_s;
		sums[1] += h;
		sums[2] += b;
		sums[3] += 1;
	}
	rc = 0;
out:
	orch_free(o);
	return rc;
}

/* sum / n as l's field `key`; null when n is not above 0, as a 0 would read
 * as a time.  Through cJSON as the graph lines: every digit a double needs
 * (%.6g printed 8888889.391 s as 8.88889e+06). */
static void add_mean(cJSON *l, const char *key, double sum, double n)
{
	if (n > 0)
		cJSON_AddNumberToObject(l, key, sum / n);
	else
		cJSON_AddNullToObject(l, key);
}

int cmd_graphsim(const char *program, int argc, char **argv)
{
	gopts op;
	shim_host *h = NULL;
	arena *a = NULL;
	char *fleet = NULL, *truth_text = NULL, *graphs = NULL, *config = NULL;
	size_t fleet_len, truth_len, graphs_len, config_len = 0;
	char err[2048];
	conv_warns warns = {0};
	gctx g = {0};
	truth tr;
	int rc = EXIT_BAD_INPUT, p, stopped = 0;
	uint32_t total = 0;
	double sums[4] = {0, 0, 0, 0};
	uint64_t errors = 0;
	lbs_status st;

	prog = program;
	p = parse(argc, argv, &op);
	if (p)
		return p < 0 ? 0 : p;
	cli_stop_on_signals();
	if (!(a = arena_new()) || !(h = host_new(prog, LBS_LOG_WARN))) {
		cli_error(prog, "simulate: out of memory");
		goto out;
	}
	{
		conv_ctx c = {a, warn, NULL, err, sizeof err, &warns};
		if ((op.report && file_check_out(op.report, err, sizeof err)) ||
		    !(fleet = fleet_source_read(op.workers, op.redis_password, op.redis_insecure,
		                                warn, NULL, &fleet_len, err, sizeof err)) ||
		    !(truth_text = file_read(op.truth, &truth_len, err, sizeof err)) ||
		    !(graphs = file_read(op.graphs, &graphs_len, err, sizeof err)) ||
		    (op.config && !(config = file_read_config(op.config, &config_len, err, sizeof err))) ||
		    conv_fleet(&c, fleet, fleet_len, op.workers, &g.workers, &g.n) ||
		    truth_load(&c, truth_text, truth_len, op.truth,
		               (const lbs_worker *const *)g.workers, g.n, &tr))
			goto bad;
	}
	st = sched_open(h, op.plugin, op.scheduler, config, config_len, &g.s, err, sizeof err);
	if (st != LBS_OK) {
		rc = cli_open_refused(prog, st, op.config, err);
		goto out;
	}
	/* Every graph runs on an idle fleet (the driver shows its own runs'
	 * load), as simulate's stream does, and orchestrate's plan by the
	 * same helper. */
	orch_idle(g.workers, g.n);
	g.tr = &tr;
	g.seed = op.seed;
	g.fail_rate = op.fail_rate;
	{
		file_lines it;
		char *line;
		size_t len;
		int got;
		file_lines_init(&it, graphs, graphs_len, op.graphs);
		/* Between graphs: the lines so far are whole, and the means
		 * of part of the file would be read as the whole file's. */
		while (!cli_stop && (got = file_next_line(&it, &line, &len, err, sizeof err))) {
			char where[512];
			if (got < 0)
				goto bad;
			file_where(where, sizeof where, op.graphs, it.lineno);
			g.graph = total;
			int one = one_graph(&g, &op, line, len, where, &warns, sums, err, sizeof err);
			/* orchestrate's file, a graph over many lines: its first
			 * line alone is no JSON */
			if (one < 0 && it.lineno == 1 && strstr(err, "not valid JSON") &&
			    strlen(err) + 80 < sizeof err)
				strcat(err, " (--graphs reads JSON Lines: each graph whole on one line)");
			if (one < 0)
				goto bad;
			if (one > 0)
				break; /* stopped by a signal */
			total++; /* a graph whose line was written */
		}
	}
	if (cli_stop) {
		stopped = 1; /* said once the store has committed */
		goto out;
	}
	if (total == 0) {
		snprintf(err, sizeof err, "%s: holds no graphs (JSON Lines, a graph a line)",
		         op.graphs);
		goto bad;
	}
	/* Only now: a later graph's bad line refuses the whole run, and an
	 * output is written whole or not at all (docs/SIMULATE.md). */
	if (op.report && write_timeline(&g, op.report, g.title, g.makespan, err, sizeof err))
		goto bad;
	{
		cJSON *l = cJSON_CreateObject();
		char *text;

		cJSON_AddNumberToObject(l, "graphs", total);
		cJSON_AddNumberToObject(l, "completed", sums[3]);
		cJSON_AddNumberToObject(l, "lost", total - sums[3]);
		add_mean(l, "mean_orchestrator_s", sums[0], sums[3]);
		add_mean(l, "mean_heft_s", sums[1], sums[3]);
		add_mean(l, "mean_ratio", sums[0], sums[1]);
		add_mean(l, "mean_cp_bound_s", sums[2], sums[3]);
		text = cJSON_PrintUnformatted(l);
		cJSON_Delete(l);
		if (!text) {
			snprintf(err, sizeof err, "%s: out of memory", op.graphs);
			goto bad;
		}
		puts(text);
		free(text);
	}
	/* A graph that gives a subtask "alternate" without alternates is
	 * refused; the option is taken for every graph, as bench_graphs.sh
	 * compares strategies on graphs that have none, but said. */
	if (g.bare)
		cli_warn(prog, "--strategy alternate: %llu of %llu subtasks have no 'alternates': "
		         "a failed one is placed again with its own requirements",
		         (unsigned long long)g.bare, (unsigned long long)g.subtasks);
	rc = 0;
	goto out;
bad:
	/* A read of a pipe (--graphs -) the signal cut short is its error:
	 * one line, the signal's. */
	if (!(stopped = cli_stop))
		cli_error(prog, "%s", err);
	rc = EXIT_BAD_INPUT;
out:
	{
		conv_ctx c = {NULL, warn, NULL, NULL, 0, &warns};
		conv_warn_summary(&c);
	}
	free(g.luck);
	free(g.tries);
	for (size_t k = 0; k < g.n_bars; k++)
		free((char *)g.bars[k].label);
	free(g.bars);
	free(g.title);
	errors = h ? host_errors(h) : 0;
	sched_close(g.s);
	if (stopped)
		rc = cli_interrupted(prog, "simulate", h && host_errors(h) > errors, "%u graphs",
		                     total);
	host_free(h);
	arena_free(a);
	free(fleet);
	free(truth_text);
	free(graphs);
	free(config);
	fflush(stdout);
	return rc;
}
