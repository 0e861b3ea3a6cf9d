/*
 * test_store_threads.c -- the store's threads under load, for ThreadSanitizer
 * (and ASan): one instance, as a threaded host drives it.
 *
 * The ABI serialises [data] calls (select, report, explain) per instance
 * unless the scheduler sets LBS_CAP_CONCURRENT, which hardware-aware does
 * not; it does not say they come from one thread.  So:
 *   - two "host" threads take turns under the host's own mutex, each doing
 *     select + report (the view passes from thread to thread);
 *   - a third thread calls stats() all the time without that mutex
 *     ([any]: it may run concurrently with anything);
 *   - the plugin's flusher commits and, because a store_writer process
 *     writes into the same directory meanwhile, rebuilds and publishes
 *     views that the host threads adopt.
 * Then every outcome is counted exactly once in the store, and the
 * committed count stats() showed never went down.  The same threads run
 * once more on a memory-only instance.
 *
 * Under TSan (the lead's command, see tests/meson.build):
 *   meson setup build-tsan -Db_sanitize=thread -Db_lundef=false -Dbuildtype=debug
 *   meson test -C build-tsan test_store_threads test_store --print-errorlogs
 *
 * No CHECK runs on the worker threads (check.h's counters are not atomic):
 * they record what they saw and main() checks it.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "textbuf.h"
#include "check.h"
#include "loader.h"
#include "support.h"

extern char **environ;

#define HOST_THREADS 2
#define ROUNDS 3000      /* at least this many select + report per host thread */
#define WRITER_N 6000    /* outcomes from the other process */
#define MAX_MS 20000     /* host threads stop by then whatever they saw */

/* stats().store.<key>, or -1. */
static double stat_of(shim_sched *s, const char *key)
{
	textbuf t = {0};
	cJSON *j = NULL;
	const cJSON *v;
	double r = -1;

	if (sched_stats(s, textbuf_write, &t) == LBS_OK && t.p)
		j = cJSON_Parse(t.p);
	v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "store"), key);
	if (cJSON_IsNumber(v))
		r = v->valuedouble;
	cJSON_Delete(j);
	free(t.p);
	return r;
}

/* ===== The shared instance and its threads ================================= */

static shim_sched *inst;
static fleet the_fleet;
static lbs_workload wls[3];
static pthread_mutex_t host_mu = PTHREAD_MUTEX_INITIALIZER;
static atomic_int stop_stats, stop_hosts;

typedef struct host_result {
	int reports_ok, reports_failed, selects_failed;
} host_result;

static void *host_thread(void *arg)
{
	host_result *r = arg;

	for (int i = 0; i < ROUNDS || !atomic_load(&stop_hosts); i++) {
		const lbs_workload *wl = &wls[i % 3];
		const char *chosen;
		char worker[64];
		lbs_outcome o;

		pthread_mutex_lock(&host_mu);
		chosen = pick(inst, wl, &the_fleet);
		snprintf(worker, sizeof worker, "%s", chosen);
		if (!strcmp(worker, "none") || !strncmp(worker, "error", 5) ||
		    !strncmp(worker, "fallback", 8)) {
			r->selects_failed++;
			snprintf(worker, sizeof worker, "w%d", i % 4);
		}
		o = (lbs_outcome){.struct_size = sizeof o, .workload_type = wl->type,
		                  .worker_id = worker,
		                  .result = i % 5 ? LBS_RESULT_SUCCESS : LBS_RESULT_FAILURE,
		                  .duration_s = 1 + i % 4, .expected_duration_s = 2};
		if (sched_report(inst, &o) == LBS_OK)
			r->reports_ok++;
		else
			r->reports_failed++;
		pthread_mutex_unlock(&host_mu);
	}
	return NULL;
}

typedef struct stats_result {
	long calls, bad, went_down;
	double max_committed, max_refreshes;
} stats_result;

static void *stats_thread(void *arg)
{
	stats_result *r = arg;
	double last = 0;

	while (!atomic_load(&stop_stats)) {
		double c = stat_of(inst, "committed");
		double f = stat_of(inst, "refreshes");

		r->calls++;
		if (c < 0 || f < 0) {
			r->bad++;
			continue;
		}
		if (c < last)
			r->went_down++;
		last = c;
		if (c > r->max_committed)
			r->max_committed = c;
		if (f > r->max_refreshes)
			r->max_refreshes = f;
	}
	return NULL;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Run the host threads and the stats thread on `inst` until `writer` (a
 * pid, 0 for none) has exited and, for a persistent store, stats showed
 * commits and a refresh; returns the outcomes reported.  *wstatus gets
 * the writer's wait status. */
static int run_threads(stats_result *sr, pid_t writer, int persistent, int *wstatus)
{
	pthread_t h[HOST_THREADS], st;
	host_result hr[HOST_THREADS];
	uint64_t t0 = mono_ms();
	int ok = 0;

	memset(hr, 0, sizeof hr);
	memset(sr, 0, sizeof *sr);
	atomic_store(&stop_stats, 0);
	atomic_store(&stop_hosts, 0);
	CHECK_INT(pthread_create(&st, NULL, stats_thread, sr), 0);
	for (int i = 0; i < HOST_THREADS; i++)
		CHECK_INT(pthread_create(&h[i], NULL, host_thread, &hr[i]), 0);
	while (mono_ms() - t0 < MAX_MS) {
		struct timespec ts = {0, 5000000};

		if (writer && waitpid(writer, wstatus, WNOHANG) == writer)
			writer = 0;
		if (!writer && (!persistent || (stat_of(inst, "committed") > 0 &&
		                                stat_of(inst, "refreshes") >= 1)))
			break;
		nanosleep(&ts, NULL);
	}
	atomic_store(&stop_hosts, 1);
	if (writer) {
		kill(writer, SIGKILL);
		waitpid(writer, wstatus, 0);
	}
	for (int i = 0; i < HOST_THREADS; i++) {
		pthread_join(h[i], NULL);
		CHECK_INT(hr[i].reports_failed, 0);
		CHECK_INT(hr[i].selects_failed, 0);
		ok += hr[i].reports_ok;
	}
	atomic_store(&stop_stats, 1);
	pthread_join(st, NULL);
	CHECK(sr->calls > 0);
	CHECK_INT(sr->bad, 0);
	CHECK_INT(sr->went_down, 0);
	return ok;
}

/* ===== Fixtures ============================================================ */

static char tmp[4096];

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

static const lbs_ext_store *store_ext(const lbs_host_api **api)
{
	loaded_plugin *lp;
	const lbs_plugin_entry *e;
	char err[1024];

	if (host_load(test_host(), getenv("LBS_PLUGIN"), &lp, api, err, sizeof err) != LBS_OK) {
		fprintf(stderr, "test fixture broken: %s\n", err);
		exit(99);
	}
	e = loader_entry(lp);
	if (!LBS_HAS_FIELD(e, lbs_plugin_entry, get_extension) || !e->get_extension)
		return NULL;
	return e->get_extension(LBS_EXT_STORE);
}

static long long total_samples(const char *dir)
{
	const lbs_host_api *api;
	const lbs_ext_store *x = store_ext(&api);
	textbuf t = {0};
	char err[1024] = "";
	cJSON *doc;
	const cJSON *r;
	long long sum = 0;

	CHECK(x != NULL);
	if (!x)
		return -1;
	CHECK_INT(x->export_json(api, dir, textbuf_write, &t, err, sizeof err), LBS_OK);
	doc = t.p ? cJSON_Parse(t.p) : NULL;
	CHECK(doc != NULL);
	cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(doc, "records"))
		sum += (long long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(r, "samples"));
	cJSON_Delete(doc);
	free(t.p);
	return sum;
}

int main(void)
{
	const char *base = getenv("TMPDIR"), *writer = getenv("LBS_STORE_WRITER");
	char config[8192], n[32];
	pid_t wpid = 0;
	int reported, status;
	stats_result sr;

	if (!writer) {
		fprintf(stderr, "test fixture broken: LBS_STORE_WRITER not set (run through meson test)\n");
		return 99;
	}
	snprintf(tmp, sizeof tmp, "%s/lbs-threads-XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(tmp)) {
		fprintf(stderr, "test fixture broken: mkdtemp: %s\n", strerror(errno));
		return 99;
	}
	atexit(cleanup);
	the_fleet = fleet_parse(
		"[{\"worker_id\":\"w0\",\"cpu_cores\":8,\"available_memory\":32,"
		"  \"supported_backends\":[\"cuda\"]},"
		" {\"worker_id\":\"w1\",\"cpu_cores\":8,\"available_memory\":32,"
		"  \"supported_backends\":[\"cuda\"]},"
		" {\"worker_id\":\"w2\",\"cpu_cores\":16,\"available_memory\":64},"
		" {\"worker_id\":\"w3\",\"cpu_cores\":8,\"available_memory\":16}]");
	wls[0] = workload_parse(the_fleet.arena, "{\"test_id\":\"v\",\"test_type\":\"vision\"}");
	wls[1] = workload_parse(the_fleet.arena, "{\"test_id\":\"n\",\"test_type\":\"nlp\"}");
	wls[2] = workload_parse(the_fleet.arena, "{\"test_id\":\"a\",\"test_type\":\"audio\"}");

	/* Persistent: small batches and fast refreshes, so the flusher is busy
	 * committing and publishing views while the host threads work. */
	snprintf(config, sizeof config,
	         "{\"store\":{\"path\":\"%s\",\"batch_count\":8,\"batch_ms\":1,"
	         "\"refresh_ms\":2}}", tmp);
	inst = test_sched("hardware-aware", config);
	snprintf(n, sizeof n, "%d", WRITER_N);
	{
		char *argv[] = {(char *)writer, tmp, "32", "1", n, NULL};
		int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
		posix_spawn_file_actions_t fa;

		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_adddup2(&fa, devnull, 1);
		CHECK_INT(posix_spawn(&wpid, writer, &fa, NULL, argv, environ), 0);
		posix_spawn_file_actions_destroy(&fa);
		close(devnull);
	}
	reported = run_threads(&sr, wpid, 1, &status);
	CHECK(reported >= HOST_THREADS * ROUNDS);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* While the threads ran (they ran until main saw it), commits were
	 * made and the other process's commits were noticed: a view was
	 * rebuilt and published to the host threads. */
	CHECK(stat_of(inst, "committed") > 0);
	CHECK(stat_of(inst, "refreshes") >= 1);
	CHECK_NEAR(stat_of(inst, "lost"), 0, 0);
	sched_close(inst);
	CHECK_INT(total_samples(tmp), (long long)reported + WRITER_N);
	printf("persistent: %d reports, %ld stats calls, max committed seen %.0f, "
	       "refreshes seen %.0f\n", reported, sr.calls, sr.max_committed, sr.max_refreshes);

	/* Memory-only: the same traffic, no flusher. */
	inst = test_sched("hardware-aware", NULL);
	reported = run_threads(&sr, 0, 0, &status);
	CHECK(reported >= HOST_THREADS * ROUNDS);
	sched_close(inst);

	fleet_free(&the_fleet);
	return check_done("test_store_threads");
}
