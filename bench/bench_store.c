/*
 * bench_store.c -- the learned store's costs (issue 4), in a temporary
 * directory under $TMPDIR (or /tmp), removed at the end:
 *
 *   (a) outcomes per second through report() into hardware-aware with a
 *       persistent store:
 *         group commit   the defaults (batch_count 256, batch_ms 50): the
 *                        rate report() takes outcomes, the rate they become
 *                        durable (stats' store.committed), report() latency;
 *         per outcome    batch_count 1, batch_ms 0, and after each report
 *                        the host waits until stats show it committed: one
 *                        fsync'ed transaction per outcome.
 *   (b) hardware-aware select latency at 512 workers with an empty store and
 *       with 100,000 learned pairs (imported through "lbs.ext.store/1";
 *       every worker of the fleet has a record for each workload type the
 *       stream uses, the rest are other workers; each record as report()
 *       leaves one: counts, latency, and the learned speed), in the same run,
 *       alternating, with their ratio; the thread's CPU time (cpu_ns), as
 *       bench_select, so that other processes on a loaded machine do not
 *       count.
 *
 *   bench_store [--plugin PATH] [--outcomes N] [--per-outcome-ms MS]
 *               [--workers N] [--pairs N] [--calls N] [--stores a,b,...]
 *               [--scenario DIR]
 *
 * --calls N times exactly N selects after the warm-up, in one round, for
 * callgrind (whose instruction counts the machine's load does not change);
 * --stores runs only the named selects of (b): empty, fleet, learned (one
 * at a time under callgrind, --toggle-collect=sched_select, counts one
 * store's selects).  --scenario DIR: (b) on a simgen scenario's fleet and
 * mix (scenario.h) instead of fleetgen's, so without --workers.
 *
 * Targets (issue 4): group commit >= 100,000 outcomes/s; select with
 * 100,000 pairs within 10% of the empty store.
 */
#include <errno.h>
#include <ftw.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "textbuf.h"
#include "fleetgen.h"
#include "scenario.h"
#include "host.h"
#include "loader.h"
#include "args.h"
#include "checked.h"
#include "scheduler.h"

#define N_WORKLOADS 256
#define TARGET_NS 300000000ull /* time per select measurement */

static volatile uint32_t sink;
static char tmp[4096];
static uint64_t fixed_calls;  /* --calls: 0 = time-bound */
static const char *only_stores; /* --stores: NULL = all */

static int remove_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if (flag == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

static void cleanup(void)
{
	if (tmp[0])
		nftw(tmp, remove_one, 16, FTW_PHYS | FTW_DEPTH);
}

static void die(const char *what, const char *msg)
{
	fprintf(stderr, "bench_store: %s: %s\n", what, msg);
	exit(1);
}

/* ===== Text and stats ======================================================= */

typedef struct counts {
	double committed, commits, lost, pairs, map_grows;
} counts;

static counts stats_of(shim_sched *s)
{
	counts c = {-1, -1, -1, -1, -1};
	char *text = sched_stats_text(s);
	cJSON *j = text ? cJSON_Parse(text) : NULL;
	const cJSON *st;

	st = cJSON_GetObjectItemCaseSensitive(j, "store");
	if (st) {
		c.committed = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(st, "committed"));
		c.commits = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(st, "commits"));
		c.lost = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(st, "lost"));
		c.pairs = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(st, "pairs"));
		c.map_grows = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(st, "map_grows"));
	}
	cJSON_Delete(j);
	free(text);
	return c;
}

static shim_sched *open_sched(shim_host *h, const char *plugin, const char *config)
{
	shim_sched *s;
	char err[1024];

	if (sched_open(h, plugin, "hardware-aware", config, strlen(config), &s, err, sizeof err) !=
	    LBS_OK)
		die("hardware-aware", err);
	return s;
}

static const char *subdir(const char *name)
{
	static char path[4200];

	snprintf(path, sizeof path, "%s/%s", tmp, name);
	return path;
}

/* ===== (a) report() throughput ============================================= */

static const uint32_t types[] = {LBS_WL_VISION, LBS_WL_NLP, LBS_WL_AUDIO, LBS_WL_EMBEDDING,
                                 LBS_WL_INFERENCE, LBS_WL_TRAINING};
#define N_TYPES (sizeof types / sizeof types[0])

static char (*ids)[24];

static lbs_outcome outcome(uint64_t i, uint32_t n_workers)
{
	return (lbs_outcome){
		.struct_size = sizeof(lbs_outcome),
		.workload_type = types[i % N_TYPES],
		.worker_id = ids[(i / N_TYPES) % n_workers],
		.result = i % 10 ? LBS_RESULT_SUCCESS : LBS_RESULT_FAILURE,
		.duration_s = 5.0 + (double)(i % 17),
		.expected_duration_s = 10.0,
	};
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int bench_group_commit(shim_host *h, const char *plugin, uint64_t n, uint32_t n_workers)
{
	char config[4600];
	shim_sched *s;
	uint32_t *lat = malloc(n * sizeof *lat);
	uint64_t t0, t_reported, t_durable, retries = 0;
	counts c;

	if (!lat)
		die("memory", "out of memory");
	snprintf(config, sizeof config, "{\"store\":{\"path\":\"%s\"}}", subdir("group"));
	s = open_sched(h, plugin, config);
	t0 = now_ns();
	for (uint64_t i = 0; i < n; i++) {
		lbs_outcome o = outcome(i, n_workers);
		uint64_t a = now_ns(), b;
		lbs_status st;

		while ((st = sched_report(s, &o)) == LBS_EIO)
			retries++; /* queue full for block_ms: offer it again */
		b = now_ns();
		if (st != LBS_OK)
			die("report", "refused an outcome");
		lat[i] = b - a > UINT32_MAX ? UINT32_MAX : (uint32_t)(b - a);
	}
	t_reported = now_ns();
	do {
		c = stats_of(s);
		if (c.committed < (double)n)
			usleep(200);
	} while (c.committed >= 0 && c.committed < (double)n);
	t_durable = now_ns();
	qsort(lat, n, sizeof *lat, cmp_u32);
	printf("%-22s %10llu %14.0f %14.0f %9.0f %9.1f %9.1f %9.1f %8.0f\n", "group commit",
	       (unsigned long long)n, (double)n * 1e9 / (double)(t_reported - t0),
	       (double)n * 1e9 / (double)(t_durable - t0), c.commits, (double)lat[n / 2] / 1e3,
	       (double)lat[n * 99 / 100] / 1e3, (double)lat[n - 1] / 1e3, (double)retries);
	fflush(stdout);
	sched_close(s);
	free(lat);
	return (double)n * 1e9 / (double)(t_durable - t0) >= 100000.0;
}

static void bench_per_outcome(shim_host *h, const char *plugin, uint32_t ms, uint32_t n_workers)
{
	char config[4600];
	shim_sched *s;
	uint64_t t0, t, n = 0;
	counts c = {0};

	snprintf(config, sizeof config,
	         "{\"store\":{\"path\":\"%s\",\"batch_count\":1,\"batch_ms\":0}}",
	         subdir("per-outcome"));
	s = open_sched(h, plugin, config);
	t0 = now_ns();
	do {
		lbs_outcome o = outcome(n, n_workers);

		if (sched_report(s, &o) != LBS_OK)
			die("report", "refused an outcome");
		n++;
		/* The host waits for this one outcome to be durable. */
		while ((c = stats_of(s)).committed >= 0 && c.committed < (double)n)
			sched_yield();
		t = now_ns() - t0;
	} while (t < (uint64_t)ms * 1000000u);
	printf("%-22s %10llu %14s %14.0f %9.0f %9s %9s %9s %8s\n", "commit per outcome",
	       (unsigned long long)n, "-", (double)n * 1e9 / (double)t, c.commits, "-", "-", "-",
	       "-");
	fflush(stdout);
	sched_close(s);
}

/* ===== (b) select latency with 100,000 learned pairs ======================= */

static const lbs_ext_store *store_ext(shim_host *h, const char *plugin,
                                      const lbs_host_api **api)
{
	loaded_plugin *lp;
	const lbs_plugin_entry *e;
	const lbs_ext_store *x = NULL;
	char err[1024];

	if (host_load(h, plugin ? plugin : host_default_plugin(), &lp, api, err, sizeof err) !=
	    LBS_OK)
		die("plugin", err);
	e = loader_entry(lp);
	if (LBS_HAS_FIELD(e, lbs_plugin_entry, get_extension) && e->get_extension)
		x = e->get_extension(LBS_EXT_STORE);
	if (!x)
		die("plugin", "does not offer " LBS_EXT_STORE);
	return x;
}

/* Import `pairs` records: every fleet worker x every type of the stream,
 * then "other-N" workers. */
static void learn_pairs(shim_host *h, const char *plugin, const char *dir, const genfleet *f,
                        uint32_t pairs)
{
	static const char *const names[] = {"VISION", "NLP", "AUDIO", "EMBEDDING", "INFERENCE",
	                                    "TRAINING"};
	const lbs_host_api *api;
	const lbs_ext_store *x = store_ext(h, plugin, &api);
	textbuf doc = {0};
	char rec[512], err[1024];
	uint64_t s = 12345;
	time_t stamp = time(NULL);

	textbuf_write(&doc, "{\"schema\":1,\"records\":[", 23);
	for (uint32_t i = 0; i < pairs; i++) {
		char other[32];
		const char *worker;
		double pref;
		int len;

		if (i < f->n * N_TYPES) {
			worker = f->workers[i / N_TYPES]->id;
		} else {
			snprintf(other, sizeof other, "other-%u", i);
			worker = other;
		}
		s = s * 6364136223846793005ull + 1442695040888963407ull;
		pref = (double)(s >> 11) / 9007199254740992.0;
		/* Stamped now: failure counts fade with their age (docs/SCORING.md
		 * section 10), and a record of 2023 would be fully reliable.  With
		 * the learned speed a host's report() gives every success that
		 * had an expected duration (ratio_n, the log of run / expected:
		 * 0.5x to 2x here): without it the select took the cheaper path of
		 * a record that knows latency alone, which no user's store holds
		 * (1.50-1.96 against 2.0-2.3 taught through report()). */
		len = snprintf(rec, sizeof rec,
		               "%s{\"workload_type\":\"%s\",\"worker\":\"%s\",\"samples\":20,"
		               "\"successes\":18,\"failures\":2,\"preference\":%.6f,"
		               "\"mean_duration\":%.3f,\"var_duration\":4,\"last_update\":%lld,"
		               "\"ratio_n\":18,\"log_ratio_mean\":%.6f,\"log_ratio_var\":0.04}",
		               i ? "," : "", names[i % N_TYPES], worker, pref, 5 + 100 * pref,
		               (long long)stamp, (pref - 0.5) * 1.386);
		textbuf_write(&doc, rec, (size_t)len);
	}
	textbuf_write(&doc, "]}", 2);
	if (x->import_json(api, dir, doc.p, doc.len, LBS_IMPORT_REPLACE, err, sizeof err) != LBS_OK)
		die("import", err);
	free(doc.p);
}

static double time_select(shim_sched *s, const genfleet *f, const lbs_workload *wl)
{
	uint32_t idx[8];
	const char *sel_ids[8];
	lbs_selection sel = {.struct_size = sizeof sel, .capacity = 8, .indices = idx,
	                     .ids = sel_ids};
	uint64_t iters = 0, choices = 0, t0, t;

	for (int k = 0; k < 1000; k++)
		bench_select(s, &wl[k % N_WORKLOADS], (const lbs_worker *const *)f->workers, f->n,
		             &sel);
	t0 = cpu_ns();
	do {
		for (int k = 0; k < 64; k++, iters++) {
			sink += bench_select(s, &wl[iters % N_WORKLOADS],
			                     (const lbs_worker *const *)f->workers, f->n, &sel);
			choices = choices * 31 + idx[0];
		}
		t = cpu_ns() - t0;
	} while (fixed_calls ? iters < fixed_calls : t < TARGET_NS);
	/* With --calls the same selects in every build: equal choices. */
	if (fixed_calls)
		printf("choices %016llx\n", (unsigned long long)choices);
	return (double)t / (double)iters;
}

static int bench_select_learned(shim_host *h, const char *plugin, const genfleet *fleet,
                                const lbs_workload *wl, uint32_t pairs)
{
	const genfleet f = *fleet;
	/* empty, the fleet's own pairs only, `pairs` pairs */
	const char *names[3] = {"empty", "fleet", "learned"};
	const char *rows[3] = {"  empty store", "  fleet's pairs only", "  learned store"};
	uint32_t sizes[3] = {0, f.n * (uint32_t)N_TYPES, pairs};
	shim_sched *s[3];
	double t[3][5], med[3];
	counts c[3];
	int on[3], rounds = fixed_calls ? 1 : 5;

	for (int k = 0; k < 3; k++) {
		char cfg[4600];
		uint64_t t0;

		on[k] = !only_stores || strstr(only_stores, names[k]);
		s[k] = NULL;
		if (!on[k])
			continue;
		snprintf(cfg, sizeof cfg, "{\"store\":{\"path\":\"%s\"}}", subdir(names[k]));
		if (sizes[k]) {
			if (sizes[k] > pairs)
				sizes[k] = pairs;
			mkdir(subdir(names[k]), 0700);
			t0 = now_ns();
			learn_pairs(h, plugin, subdir(names[k]), &f, sizes[k]);
			printf("imported %u pairs in %.0f ms\n", sizes[k], (double)(now_ns() - t0) / 1e6);
		}
		t0 = now_ns();
		s[k] = open_sched(h, plugin, cfg);
		printf("create with %u pairs in the store: %.1f ms\n", sizes[k],
		       (double)(now_ns() - t0) / 1e6);
		c[k] = stats_of(s[k]);
	}
	/* Alternate, so drift (frequency, other load) hits all alike. */
	for (int r = 0; r < rounds; r++)
		for (int k = 0; k < 3; k++)
			if (on[k])
				t[k][r] = time_select(s[k], &f, wl);
	printf("%-28s %8s %10s %12s %14s\n", "hardware-aware select", "workers", "pairs",
	       "ns/select", "(min..max)");
	for (int k = 0; k < 3; k++) {
		if (!on[k])
			continue;
		sort_doubles(t[k], (size_t)rounds);
		med[k] = t[k][rounds / 2];
		printf("%-28s %8u %10.0f %12.1f %6.0f..%-7.0f\n", rows[k], f.n, c[k].pairs, med[k],
		       t[k][0], t[k][rounds - 1]);
		sched_close(s[k]);
	}
	if (!on[0] || !on[1] || !on[2])
		return 0;
	printf("ratio learned/empty: %.3f (target <= 1.10: %s); learned/fleet-only: %.3f\n",
	       med[2] / med[0], med[2] / med[0] <= 1.10 ? "met" : "MISSED", med[2] / med[1]);
	return med[2] / med[0] <= 1.10;
}

int main(int argc, char **argv)
{
	const char *plugin = NULL, *base = getenv("TMPDIR"), *scen_dir = NULL;
	char err[1024];
	scenario sc = {0};
	genfleet f;
	lbs_workload *wl;
	int sized = 0;
	uint64_t outcomes = 500000;
	uint32_t per_ms = 2000, n_workers = 512, pairs = 100000;
	shim_host *h = host_new("bench", LBS_LOG_ERROR);
	int met;

	for (int i = 1; i < argc; i += 2) {
		unsigned long long v = 0;
		const char *o = argv[i];

		if (bench_has_value("bench_store", argc, argv, i))
			return 1;
		if (!strcmp(o, "--outcomes") || !strcmp(o, "--per-outcome-ms") ||
		    !strcmp(o, "--workers") || !strcmp(o, "--pairs") || !strcmp(o, "--calls")) {
			if (bench_count("bench_store", o, argv[i + 1], 1, UINT32_MAX, &v))
				return 1;
		}
		if (!strcmp(o, "--plugin"))
			plugin = argv[i + 1];
		else if (!strcmp(o, "--outcomes"))
			outcomes = v;
		else if (!strcmp(o, "--per-outcome-ms"))
			per_ms = (uint32_t)v;
		else if (!strcmp(o, "--workers"))
			n_workers = (uint32_t)v, sized = 1;
		else if (!strcmp(o, "--scenario"))
			scen_dir = argv[i + 1];
		else if (!strcmp(o, "--pairs"))
			pairs = (uint32_t)v;
		else if (!strcmp(o, "--calls"))
			fixed_calls = v;
		else if (!strcmp(o, "--stores"))
			only_stores = argv[i + 1];
		else {
			fprintf(stderr, "bench_store: unknown option %s\n", argv[i]);
			return 1;
		}
	}
	if (!h || outcomes == 0 || n_workers == 0)
		die("options", "bad values");
	if (scen_dir && sized)
		die("--scenario", "has its own fleet; --workers does not go with it");
	if (scen_dir && scenario_load(scen_dir, N_WORKLOADS, 0.7, 42, &sc, err, sizeof err))
		die("--scenario", err);
	if (scen_dir) {
		f = sc.f;
		wl = sc.wl;
		n_workers = f.n;
	} else {
		f = genfleet_make(n_workers, 4, 7);
		wl = genworkloads_make(N_WORKLOADS, 42);
	}
	snprintf(tmp, sizeof tmp, "%s/lbs-bench-store-XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(tmp))
		die(tmp, strerror(errno));
	atexit(cleanup);
	ids = calloc(n_workers, sizeof *ids);
	if (!ids)
		die("memory", "out of memory");
	for (uint32_t i = 0; i < n_workers; i++)
		snprintf(ids[i], sizeof ids[i], "worker-%u", i);

	printf("store in %s\n", tmp);
	printf("%-22s %10s %14s %14s %9s %9s %9s %9s %8s\n", "report()", "outcomes",
	       "taken/s", "durable/s", "commits", "p50_us", "p99_us", "max_us", "retries");
	met = bench_group_commit(h, plugin, outcomes, n_workers);
	bench_per_outcome(h, plugin, per_ms, n_workers);
	printf("group commit target >= 100000 durable/s: %s\n", met ? "met" : "MISSED");
	bench_select_learned(h, plugin, &f, wl, pairs);
	if (scen_dir) {
		scenario_free(&sc);
	} else {
		genfleet_free(&f);
		free(wl);
	}
	free(ids);
	host_free(h);
	return 0;
}
