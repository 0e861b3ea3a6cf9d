/*
 * bench_fleet.c -- fleet learning through Redis (issue 17), one role per
 * process so that bench_fleet.sh can run several hosts at once:
 *
 *   bench_fleet write CONFIG N [other|W [T]]
 *                                      report N outcomes into hardware-aware
 *                                      as fast as report() takes them, over
 *                                      W workers (default 512) times T types
 *                                      (default 3; 9: every type, the pairs
 *                                      spread over all W workers);
 *                                      prints the seconds report() took, the
 *                                      seconds until all N are pushed to
 *                                      Redis (stats' fleet.outcomes_pushed;
 *                                      without a fleet: committed to the
 *                                      store, the reference), the Redis
 *                                      commands it sent (two pulls after the
 *                                      last push included), the outcomes pushed,
 *                                      the process's CPU seconds, commits,
 *                                      view rebuilds, pushes, pulls, push
 *                                      calls of parts, BUSY replies.  With
 *                                      "other": on workers "other-N" that
 *                                      select never looks up, each run as
 *                                      fast as declared (no learned speed
 *                                      above another's), so the traffic
 *                                      changes the synced view but not what
 *                                      select reads
 *   bench_fleet propagate CONFIG_A CONFIG_B SAMPLES
 *                                      report() on host A (a new pair each
 *                                      time), then select on host B until its
 *                                      view holds the pair: p50 / p99 delay
 *   bench_fleet select CONFIG_ON CONFIG_OFF WORKERS
 *                                      hardware-aware select at WORKERS
 *                                      workers with the sync running (another
 *                                      host writing meanwhile) and without,
 *                                      alternating in one run: the ratio
 *
 * [--plugin PATH] may come first.  Never run by the tests (bench/run fleet).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "fleetgen.h"
#include "host.h"
#include "checked.h"
#include "scheduler.h"

static const char *plugin;
static volatile uint32_t sink;

static void die(const char *what, const char *msg)
{
	fprintf(stderr, "bench_fleet: %s: %s\n", what, msg);
	exit(1);
}

static uint64_t mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The process's CPU time, every thread: on a loaded machine a steadier
 * cost than the wall clock. */
static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *read_text(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *t = calloc(1, 65536);

	if (!fp || !t)
		die(path, "cannot read");
	if (fread(t, 1, 65535, fp) == 0)
		die(path, "empty");
	fclose(fp);
	return t;
}

static shim_sched *open_sched(shim_host *h, const char *config_path)
{
	char *cfg = read_text(config_path), err[1024];
	shim_sched *s;

	if (sched_open(h, plugin, "hardware-aware", cfg, strlen(cfg), &s, err, sizeof err) != LBS_OK)
		die(config_path, err);
	free(cfg);
	return s;
}

/* A number from stats: "store.KEY", or "store.fleet.KEY" with fleet. */
static double stat_of(shim_sched *s, int fleet, const char *key)
{
	char *text = sched_stats_text(s);
	cJSON *j = text ? cJSON_Parse(text) : NULL;
	const cJSON *o;
	double v = -1;

	o = cJSON_GetObjectItemCaseSensitive(j, key[0] == '.' ? "learned_pairs" : "store");
	if (key[0] != '.') {
		if (fleet)
			o = cJSON_GetObjectItemCaseSensitive(o, "fleet");
		o = cJSON_GetObjectItemCaseSensitive(o, key);
	}
	if (cJSON_IsNumber(o))
		v = o->valuedouble;
	cJSON_Delete(j);
	free(text);
	return v;
}

static lbs_outcome outcome(uint64_t i, const char *id, uint32_t type)
{
	return (lbs_outcome){
		.struct_size = sizeof(lbs_outcome),
		.workload_type = type,
		.worker_id = id,
		.result = i % 10 ? LBS_RESULT_SUCCESS : LBS_RESULT_FAILURE,
		.duration_s = 5.0 + (double)(i % 17),
		.expected_duration_s = 10.0,
	};
}

/* Outcome i's worker and type: with 3 types the first figures' layout
 * (each worker's 3 types in a row); with more, worker i mod W and a type
 * that shifts each pass over the workers, so N outcomes touch N pairs
 * while N <= W x T. */
static lbs_outcome outcome_of(uint64_t i, char (*ids)[24], uint32_t workers, uint32_t types)
{
	static const uint32_t three[] = {LBS_WL_VISION, LBS_WL_NLP, LBS_WL_AUDIO};

	if (types == 3)
		return outcome(i, ids[(i / 3) % workers], three[i % 3]);
	return outcome(i, ids[i % workers], (uint32_t)((i / workers + i) % types));
}

static int write_role(shim_host *h, const char *config, uint64_t n, int other, uint32_t workers,
                      uint32_t types)
{
	shim_sched *s = open_sched(h, config);
	char (*ids)[24] = calloc(workers, sizeof *ids);
	uint64_t t0, t_rep, t_end;
	double pushed;

	if (!ids)
		die("write", "out of memory");
	for (uint32_t i = 0; i < workers; i++)
		snprintf(ids[i], sizeof ids[i], other ? "other-%u" : "worker-%u", i);
	t0 = mono();
	for (uint64_t i = 0; i < n; i++) {
		lbs_outcome o = outcome_of(i, ids, workers, types);

		if (other) {
			o.result = LBS_RESULT_SUCCESS;
			o.duration_s = o.expected_duration_s;
		}
		while (sched_report(s, &o) == LBS_EIO)
			;
	}
	t_rep = mono();
	/* Durable: in the fleet (acknowledged by Redis) with a fleet, on this
	 * host's disk (committed) without: the reference. */
	while ((pushed = stat_of(s, 1, "outcomes_pushed")) >= 0 ? pushed < (double)n
	                                                         : stat_of(s, 0, "committed") < (double)n)
		usleep(2000);
	t_end = mono();
	/* Untimed: two more pulls, so that one began after the last push and
	 * the commands and bytes include reading what the fleet learned. */
	if (pushed >= 0) {
		double pulls = stat_of(s, 1, "pulls");

		for (int i = 0; i < 60000 && stat_of(s, 1, "pulls") < pulls + 2; i++)
			usleep(1000);
	}
	printf("%.4f %.4f %.0f %.0f %.3f %.0f %.0f %.0f %.0f %.0f %.0f\n", (double)(t_rep - t0) / 1e9,
	       (double)(t_end - t0) / 1e9, stat_of(s, 1, "commands"), pushed, cpu_s(),
	       stat_of(s, 0, "commits"), stat_of(s, 0, "refreshes"), stat_of(s, 1, "pushes"),
	       stat_of(s, 1, "pulls"), stat_of(s, 1, "parts"), stat_of(s, 1, "busy"));
	sched_close(s);
	free(ids);
	return 0;
}

static int propagate_role(shim_host *h, const char *ca, const char *cb, int samples)
{
	shim_sched *a = open_sched(h, ca), *b = open_sched(h, cb);
	genfleet f = genfleet_make(8, 2, 3);
	lbs_workload *wl = genworkloads_make(4, 1);
	uint32_t idx[4];
	const char *sel_ids[4];
	lbs_selection sel = {.struct_size = sizeof sel, .capacity = 4, .indices = idx,
	                     .ids = sel_ids};
	double *d = calloc((size_t)samples, sizeof *d);
	int got = 0;

	for (int i = 0; i < samples && d; i++) {
		char id[32];
		lbs_outcome o;
		double before;
		uint64_t t0;

		snprintf(id, sizeof id, "probe-%d-%ld", i, (long)getpid());
		o = outcome((uint64_t)i, id, LBS_WL_VISION + (uint32_t)i % 3);
		bench_select(b, wl, (const lbs_worker *const *)f.workers, f.n, &sel);
		before = stat_of(b, 0, ".");
		t0 = mono();
		if (sched_report(a, &o) != LBS_OK)
			die("report", "refused");
		while (mono() - t0 < 30000000000ull) {
			bench_select(b, wl, (const lbs_worker *const *)f.workers, f.n, &sel);
			if (stat_of(b, 0, ".") > before)
				break;
			usleep(1000);
		}
		d[got++] = (double)(mono() - t0) / 1e6;
		usleep((useconds_t)(50000 + rand() % 200000)); /* not in step with the timers */
	}
	sort_doubles(d, (size_t)got);
	printf("%d %.0f %.0f %.0f\n", got, d[got / 2], d[got * 99 / 100], d[got - 1]);
	sched_close(a);
	sched_close(b);
	genfleet_free(&f);
	free(wl);
	free(d);
	return 0;
}

static double time_select(shim_sched *s, const genfleet *f, const lbs_workload *wl)
{
	uint32_t idx[8];
	const char *sel_ids[8];
	lbs_selection sel = {.struct_size = sizeof sel, .capacity = 8, .indices = idx,
	                     .ids = sel_ids};
	uint64_t iters = 0, t0 = mono(), t;

	do {
		for (int k = 0; k < 64; k++, iters++)
			sink += bench_select(s, &wl[iters % 256], (const lbs_worker *const *)f->workers,
			                     f->n, &sel);
		t = mono() - t0;
	} while (t < 300000000ull);
	return (double)t / (double)iters;
}

static int select_role(shim_host *h, const char *con, const char *coff, uint32_t workers)
{
	shim_sched *s[2] = {open_sched(h, con), open_sched(h, coff)};
	genfleet f = genfleet_make(workers, 4, 7);
	lbs_workload *wl = genworkloads_make(256, 42);
	double t[2][7];

	/* Both learn the same: every worker once per type, before timing. */
	for (int k = 0; k < 2; k++) {
		for (uint32_t i = 0; i < f.n * 3; i++) {
			lbs_outcome o = outcome(i, f.workers[i / 3]->id, LBS_WL_VISION + i % 3);

			sched_report(s[k], &o);
		}
	}
	sleep(1);
	for (int r = 0; r < 7; r++)
		for (int k = 0; k < 2; k++)
			t[k][r] = time_select(s[k], &f, wl);
	sort_doubles(t[0], 7);
	sort_doubles(t[1], 7);
	printf("%.1f %.1f %.3f %.0f %.0f\n", t[0][3], t[1][3], t[0][3] / t[1][3],
	       stat_of(s[0], 1, "pulls"), stat_of(s[0], 0, "refreshes"));
	sched_close(s[0]);
	sched_close(s[1]);
	genfleet_free(&f);
	free(wl);
	return 0;
}

int main(int argc, char **argv)
{
	shim_host *h = host_new("bench_fleet", LBS_LOG_ERROR);

	if (argc > 2 && !strcmp(argv[1], "--plugin")) {
		plugin = argv[2];
		argv += 2;
		argc -= 2;
	}
	if (!h)
		die("host", "out of memory");
	if (argc >= 4 && argc <= 6 && !strcmp(argv[1], "write")) {
		int other = argc == 5 && !strcmp(argv[4], "other");
		long w = argc >= 5 && !other ? strtol(argv[4], NULL, 10) : 512;
		long t = argc == 6 ? strtol(argv[5], NULL, 10) : 3;

		if (w < 1 || w > 1000000)
			die(argv[4], "W must be \"other\" or a number of workers, 1..1000000");
		if (t < 3 || t > LBS_WL_COUNT)
			die(argv[5], "T must be a number of workload types, 3..9");
		return write_role(h, argv[2], strtoull(argv[3], NULL, 10), other, (uint32_t)w,
		                  (uint32_t)t);
	}
	if (argc == 5 && !strcmp(argv[1], "propagate"))
		return propagate_role(h, argv[2], argv[3], atoi(argv[4]));
	if (argc == 5 && !strcmp(argv[1], "select"))
		return select_role(h, argv[2], argv[3], (uint32_t)atoi(argv[4]));
	fprintf(stderr, "usage: bench_fleet [--plugin PATH] write CONFIG N [other|W [T]] | propagate CONFIG_A "
	        "CONFIG_B SAMPLES | select CONFIG_ON CONFIG_OFF WORKERS\n");
	return 2;
}
