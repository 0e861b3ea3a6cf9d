/*
 * bench_select.c -- nanoseconds per select, next to a bare scan of the same
 * worker arrays in the same run.
 *
 *   bench_select [--plugin PATH] [--schedulers a,b,...] [--sizes 8,64,...]
 *                [--devices N] [--config JSON] [--calls N] [--busy SHARE]
 *                [--moving] [--scenario DIR]
 *
 * Times are the thread's CPU time (cpu_ns), so that other processes on a
 * loaded machine do not count.  Each select goes through the shim exactly as a host calls it (the plugin
 * really dlopen'ed, every answer checked).  The ratio column is
 * select / bare scan; the bare scan reads every worker's load and every
 * device's memory and backends, which is the least any informed choice
 * must read; the two are timed in turns, and each column is the median of
 * its rounds (ROUNDS below).  --config gives every scheduler that config;
 * --calls N times exactly N selects (and N bare scans) after the warm-up,
 * in one round (for callgrind, whose instruction counts the machine's load
 * does not change).  --busy S
 * fills every slot of a share S (0..1) of the workers, spread over the
 * fleet, and empties the others (no utilisation on either), and then moves
 * the load as selects run: each answer's worker fills, and a worker drawn
 * at random empties, so about S stay full.  A sampled select whose best
 * drawn worker is full draws on (docs/SCORING.md, "Giant fleets"), and
 * 0.99 is that case (the bench's workloads are all timed); what it drew a
 * select is printed under its row, from the instance's stats.  Each
 * scheduler starts from the same fleet.  --scenario DIR measures on a
 * simgen scenario instead of fleetgen's fleets (scenario.h): the
 * original's records through the converter, the fleet 70 % busy (or
 * --busy's share); its fleet has one size, so --sizes and --devices do
 * not go with it.  --moving moves the load as a host's moves: each answer's
 * worker takes its test, which ends and is reported a few selects later
 * (move_load); without it every select sees the fleet its last left
 * unchanged, and nothing is ever reported.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleetgen.h"
#include "scenario.h"
#include "host.h"
#include "args.h"
#include "checked.h"
#include "scheduler.h"

#define N_WORKLOADS 256
/* The bare scan and the select are timed in turns, ROUNDS rounds of
 * ROUND_NS each, and each column is its median: timed once each, one
 * after the other, a neighbour's burst slowed whichever ran then, and the
 * ratio moved with it (1.32x to 2.68x in six runs of one build on a loaded
 * machine). */
#define ROUNDS 9
#define ROUND_NS 25000000ull

static volatile uint32_t sink;
static uint64_t fixed_calls; /* --calls: 0 = time-bound */

static int more(uint64_t iters, uint64_t t)
{
	return fixed_calls ? iters < fixed_calls : t < ROUND_NS;
}

/* One round of the bare scan, ns a scan; *next the workload to go on from. */
static double time_bare(const genfleet *f, const lbs_workload *wl, uint64_t *next)
{
	uint64_t iters = 0, t0 = cpu_ns(), t;

	do {
		for (int k = 0; k < 64; k++, iters++)
			sink += bare_scan(&wl[(*next + iters) % N_WORKLOADS],
			                  (const lbs_worker *const *)f->workers, f->n);
		t = cpu_ns() - t0;
	} while (more(iters, t));
	*next += iters;
	return (double)t / (double)iters;
}

static double busy; /* --busy: the share of workers full, kept while selects run */

/* Full by its slot count alone, or empty: no utilisation either way, so
 * that a worker's state is its flag and busy_fleet() restores it whole. */
static void set_full(lbs_worker *w, int full)
{
	w->active_tests = full ? w->capacity : 0;
	w->queued_tests = 0;
	w->util_cpu = w->util_memory = w->util_gpu = w->util_io = w->util_network = 0.0;
}

/* --busy: worker i is full where its Weyl fraction is below the share,
 * spread evenly over the fleet, the same ones every run. */
static void busy_fleet(const genfleet *f)
{
	for (uint32_t i = 0; busy > 0.0 && i < f->n; i++)
		set_full(f->workers[i], (double)(uint32_t)(i * 2654435769u) / 4294967296.0 < busy);
}

/* A select's answer takes its worker's slots, and a worker drawn from the
 * fleet finishes: the load moves, its share stays about --busy. */
static void churn(const genfleet *f, const lbs_selection *sel, uint64_t iters)
{
	uint32_t j = (uint32_t)(((iters * 0x9E3779B97F4A7C15ull) >> 32) * f->n >> 32);

	if (sel->n_selected)
		set_full(f->workers[sel->indices[0]], 1);
	set_full(f->workers[j], 0);
}

/* --moving: the fleet as a host's moves under its selects.  Each answer's
 * worker takes the test (a slot, or its queue once every slot runs one),
 * and the test placed IN_FLIGHT(n) selects before ends, reported to the
 * scheduler: on top of the fleet's own load, which stays, the last few
 * placements run, and which workers carry them moves with every select.
 * Without it the fleet is the same for every select, the worker a select
 * chose idle for the next, and nothing is reported (what a scheduler
 * remembers between calls was always right).  Few: as many as the fleet's
 * own tests, every placement ends the oldest, loaded the workers a
 * workload type can use with every test of the others, and round-robin
 * found none under its ceiling for 97 % of its selects.  The reports' time
 * is in the select's. */
#define IN_FLIGHT(n) ((n) / 16 > 8 ? (n) / 16 : 8)

static int moving;
static lbs_worker *fleet_start; /* each worker as the fleet began */

typedef struct inflight {
	uint32_t w, wl;  /* worker, workload; wl N_WORKLOADS: none yet */
	uint64_t cookie;
} inflight;

static inflight *ring; /* the tests placed, oldest first from ring_head */
static size_t ring_len, ring_head;

static void show_tests(lbs_worker *w)
{
	uint32_t cap = w->capacity ? w->capacity : 1;
	double u = (double)(w->active_tests + w->queued_tests) / cap;

	w->util_cpu = w->util_memory = w->util_gpu = w->util_io = w->util_network = u > 1 ? 1 : u;
}

static void move_load(shim_sched *s, const genfleet *f, const lbs_workload *wl, uint32_t k,
                      const lbs_selection *sel)
{
	inflight *old = &ring[ring_head];
	lbs_worker *w;

	/* The oldest ends answered or not: time passes either way, and a
	 * fleet full at a no-worker answer stayed full for good. */
	if (old->wl < N_WORKLOADS) {
		double d = wl[old->wl].est_duration_s > 0 ? wl[old->wl].est_duration_s : 1.0;
		lbs_outcome o = {.struct_size = sizeof o, .workload_type = wl[old->wl].type,
		                 .workload_id = wl[old->wl].id, .test_type = wl[old->wl].test_type,
		                 .worker_id = f->workers[old->w]->id, .cookie = old->cookie,
		                 .result = LBS_RESULT_SUCCESS, .duration_s = d,
		                 .expected_duration_s = d};

		w = f->workers[old->w];
		if (w->queued_tests)
			w->queued_tests--;
		else if (w->active_tests)
			w->active_tests--;
		show_tests(w);
		(void)sched_report(s, &o);
	}
	*old = (inflight){0, N_WORKLOADS, 0};
	if (sel->n_selected) {
		w = f->workers[sel->indices[0]];
		if (w->active_tests < (w->capacity ? w->capacity : 1))
			w->active_tests++;
		else
			w->queued_tests++;
		show_tests(w);
		*old = (inflight){sel->indices[0], k, sel->cookie};
	}
	ring_head = ring_head + 1 == ring_len ? 0 : ring_head + 1;
}

/* --moving: the fleet back as it began, no test of the scheduler's
 * running, for the next scheduler.  0, or -1 out of memory. */
static int restore_fleet(const genfleet *f)
{
	if (!moving)
		return 0;
	for (uint32_t i = 0; i < f->n; i++)
		*f->workers[i] = fleet_start[i];
	free(ring);
	ring_len = IN_FLIGHT(f->n);
	ring_head = 0;
	if (!(ring = malloc(ring_len * sizeof *ring)))
		return -1;
	for (size_t i = 0; i < ring_len; i++)
		ring[i] = (inflight){0, N_WORKLOADS, 0};
	return 0;
}

/* One round of selects, ns a select; *next the workload (and churn step)
 * to go on from, *none counts the answers without a worker. */
static double time_select(shim_sched *s, const genfleet *f, const lbs_workload *wl,
                          uint64_t *next, uint64_t *none)
{
	uint32_t idx[8];
	const char *ids[8];
	lbs_selection sel = {.struct_size = sizeof sel, .capacity = 8, .indices = idx, .ids = ids};
	uint64_t iters = 0, t0, t;

	t0 = cpu_ns();
	do {
		for (int k = 0; k < 64; k++, iters++) {
			*none += bench_select(s, &wl[(*next + iters) % N_WORKLOADS],
			                      (const lbs_worker *const *)f->workers, f->n, &sel) != LBS_OK;
			if (busy > 0.0)
				churn(f, &sel, *next + iters);
			else if (moving)
				move_load(s, f, wl, (uint32_t)((*next + iters) % N_WORKLOADS), &sel);
		}
		t = cpu_ns() - t0;
	} while (more(iters, t));
	*next += iters;
	return (double)t / (double)iters;
}

/* The select and the bare scan in turns (ROUNDS; one each with --calls),
 * after a warm-up of both: their medians, ns a call. */
static void time_both(shim_sched *s, const genfleet *f, const lbs_workload *wl,
                      double *select_ns, double *bare_ns, double *no_worker_share)
{
	uint32_t idx[8];
	const char *ids[8];
	lbs_selection sel = {.struct_size = sizeof sel, .capacity = 8, .indices = idx, .ids = ids};
	double sel_r[ROUNDS], bare_r[ROUNDS];
	uint64_t next_s = 0, next_b = 0, none = 0;
	int rounds = fixed_calls ? 1 : ROUNDS;

	for (int k = 0; k < 1000; k++) /* warm caches and lazy state */
		bench_select(s, &wl[k % N_WORKLOADS], (const lbs_worker *const *)f->workers, f->n, &sel);
	for (int k = 0; k < 64; k++)
		sink += bare_scan(&wl[k % N_WORKLOADS], (const lbs_worker *const *)f->workers, f->n);
	for (int r = 0; r < rounds; r++) {
		bare_r[r] = time_bare(f, wl, &next_b);
		sel_r[r] = time_select(s, f, wl, &next_s, &none);
	}
	*select_ns = median_of(sel_r, (size_t)rounds);
	*bare_ns = median_of(bare_r, (size_t)rounds);
	*no_worker_share = (double)none / (double)next_s;
}

/* --busy: what a sampled select drew, from the instance's stats. */
static void say_drawn(shim_sched *s)
{
	char *text = sched_stats_text(s), *at = text ? strstr(text, "\"sampled\":") : NULL;
	unsigned long long selects, drawn;

	if (at && sscanf(at, "\"sampled\":{\"selects\":%llu,\"drawn\":%llu", &selects, &drawn) == 2 &&
	    selects)
		printf("  (%llu sampled selects drew %.1f positions a select)\n", selects,
		       (double)drawn / (double)selects);
	free(text);
}

/* malloc's bytes in use: its arena's and the chunks it gave their own
 * mmap (a large table goes there, and uordblks alone would miss it). */
static size_t heap_in_use(void)
{
	struct mallinfo2 m = mallinfo2();

	return m.uordblks + m.hblkhd;
}

int main(int argc, char **argv)
{
	const char *plugin = NULL, *scheds = "round-robin,priority", *sizes = "8,64,512,4096";
	const char *config = NULL, *scen_dir = NULL;
	uint32_t max_dev = 2;
	int sized = 0;
	scenario sc = {0};
	char err[1024], one_size[16];
	shim_host *h = host_new("bench", LBS_LOG_ERROR);
	lbs_workload *wl = genworkloads_make(N_WORKLOADS, 42);

	for (int i = 1; i < argc; i += 2) {
		char *end;

		if (strcmp(argv[i], "--moving") && bench_has_value("bench_select", argc, argv, i))
			return 1;
		if (!strcmp(argv[i], "--plugin"))
			plugin = argv[i + 1];
		else if (!strcmp(argv[i], "--schedulers"))
			scheds = argv[i + 1];
		else if (!strcmp(argv[i], "--sizes"))
			sizes = argv[i + 1], sized = 1;
		else if (!strcmp(argv[i], "--devices")) {
			unsigned long long v;

			if (bench_count("bench_select", argv[i], argv[i + 1], 1, 64, &v))
				return 1;
			max_dev = (uint32_t)v, sized = 1;
		}
		else if (!strcmp(argv[i], "--scenario"))
			scen_dir = argv[i + 1];
		else if (!strcmp(argv[i], "--config"))
			config = argv[i + 1];
		else if (!strcmp(argv[i], "--busy")) {
			busy = strtod(argv[i + 1], &end);
			if (end == argv[i + 1] || *end || !(busy >= 0.0 && busy <= 1.0)) {
				fprintf(stderr, "bench_select: --busy must be a share in 0..1, got %s\n",
				        argv[i + 1]);
				return 1;
			}
		}
		else if (!strcmp(argv[i], "--moving")) {
			moving = 1;
			i--; /* takes no value */
		}
		else if (!strcmp(argv[i], "--calls")) {
			unsigned long long v;

			if (bench_count("bench_select", argv[i], argv[i + 1], 1, UINT32_MAX, &v))
				return 1;
			fixed_calls = v;
		}
		else {
			fprintf(stderr, "bench_select: unknown option %s\n", argv[i]);
			return 1;
		}
	}
	if (moving && busy > 0.0) {
		fprintf(stderr, "bench_select: --moving and --busy are two ways of moving the "
		        "load; give one\n");
		return 1;
	}
	if (scen_dir && sized) {
		fprintf(stderr, "bench_select: --scenario has its own fleet; --sizes and --devices "
		        "do not go with it\n");
		return 1;
	}
	if (scen_dir) {
		if (scenario_load(scen_dir, N_WORKLOADS, busy > 0.0 ? 0.0 : 0.7, 42, &sc, err,
		                  sizeof err)) {
			fprintf(stderr, "bench_select: %s\n", err);
			return 1;
		}
		free(wl);
		wl = sc.wl;
		snprintf(one_size, sizeof one_size, "%u", sc.f.n);
		sizes = one_size;
	}
	/* --moving: a select's time holds the report of the test it ended */
	printf("%-16s %8s %8s %12s %12s %7s %9s %9s\n", "scheduler", "workers", "devices",
	       moving ? "ns/sel+rep" : "ns/select", "ns/bare-scan", "ratio", "no_worker", "B/worker");
	for (const char *sp = sizes; *sp;) {
		uint32_t n = (uint32_t)strtoul(sp, NULL, 10);
		genfleet f = scen_dir ? sc.f : genfleet_make(n, max_dev, 7);
		char list[256];

		if (moving) {
			free(fleet_start);
			if (!(fleet_start = malloc(f.n * sizeof *fleet_start))) {
				fprintf(stderr, "bench_select: out of memory\n");
				return 1;
			}
			for (uint32_t i = 0; i < f.n; i++)
				fleet_start[i] = *f.workers[i];
		}
		snprintf(list, sizeof list, "%s", scheds);
		for (char *name = strtok(list, ","); name; name = strtok(NULL, ",")) {
			shim_sched *s;
			double ns, bare, none;
			/* Heap the instance holds after create and warm-up, per
			 * worker: what the scheduler costs in memory at this size. */
			size_t heap0 = heap_in_use(), heap1;

			if (sched_open(h, plugin, name, config, config ? strlen(config) : 0, &s, err,
			               sizeof err) != LBS_OK) {
				fprintf(stderr, "bench_select: %s\n", err);
				return 1;
			}
			busy_fleet(&f); /* as the last scheduler's selects did not leave it */
			if (restore_fleet(&f)) {
				fprintf(stderr, "bench_select: out of memory\n");
				return 1;
			}
			time_both(s, &f, wl, &ns, &bare, &none);
			heap1 = heap_in_use();
			printf("%-16s %8u %8u %12.1f %12.1f %6.2fx %8.1f%% %9.1f\n", name, n, f.n_devices,
			       ns, bare, ns / bare, none * 100,
			       heap1 > heap0 ? (double)(heap1 - heap0) / n : 0.0);
			if (busy > 0.0)
				say_drawn(s);
			fflush(stdout);
			sched_close(s);
		}
		if (!scen_dir)
			genfleet_free(&f);
		sp = strchr(sp, ',');
		if (!sp)
			break;
		sp++;
	}
	if (scen_dir)
		scenario_free(&sc);
	else
		free(wl);
	free(ring);
	free(fleet_start);
	host_free(h);
	return 0;
}
