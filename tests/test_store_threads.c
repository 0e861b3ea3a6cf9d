/*
 * test_store_threads.c -- the store under concurrent load, for
 * ThreadSanitizer (and ASan): threads of one host and several processes
 * sharing one LMDB store for a bounded time.
 *
 * The ABI serialises [data] calls (select, report, explain) per instance
 * unless the scheduler sets LBS_CAP_CONCURRENT, which neither learning
 * scheduler does; it does not say they come from one thread, and separate
 * instances are independent.  So, in this process:
 *   - two instances on the same store directory (hardware-aware and
 *     priority, as a composite's children would be), which share one LMDB
 *     environment;
 *   - per instance two "host" threads taking turns under that instance's
 *     own mutex, each doing select + report (the view passes from thread
 *     to thread);
 *   - one thread calling stats() on both all the time without any mutex
 *     ([any]: it may run concurrently with anything);
 *   - each instance's flusher committing and, because other processes
 *     write into the same directory meanwhile, rebuilding and publishing
 *     views that the host threads adopt.
 * And WRITERS store_writer processes reporting into the same store for the
 * same time.  Then every outcome acknowledged by any process is counted
 * exactly once in the store (the sum of samples equals the reports all
 * processes had accepted), no instance lost any, and the committed count
 * stats() showed never went down.  The same threads run once more on a
 * memory-only instance.  The figures (reports/s, processes, threads,
 * duration) are printed.
 *
 * Under TSan (./dev test runs it so; halt_on_error makes a race fail):
 *   meson setup build-tsan -Db_sanitize=thread -Db_lundef=false -Dbuildtype=debug
 *   setarch $(uname -m) -R meson test -C build-tsan test_store_threads
 *
 * No CHECK runs on the worker threads (check.h's counters are not atomic):
 * they record what they saw and main() checks it.
 */
#include <stdatomic.h>

#include "store_support.h"

#define INSTANCES 2
#define HOST_THREADS 2   /* per instance */
#define WRITERS 3        /* store_writer processes */
#define STRESS_MS 3000   /* how long everyone reports */
#define MIN_ROUNDS 200   /* select + report per host thread, at least */
#define MAX_MS 60000     /* host threads stop by then whatever they saw */

/* ===== The shared instances and their threads ============================== */

typedef struct instance {
	shim_sched *s;
	pthread_mutex_t mu; /* the host's serialisation of [data] calls */
	long refused;       /* reports its threads had refused (LBS_EIO) */
} instance;

static instance insts[INSTANCES];
static int n_insts;
static fleet the_fleet;
static lbs_workload wls[3];
static atomic_int stop_stats, stop_hosts;

typedef struct host_result {
	instance *in;
	int reports_ok, reports_refused, reports_failed, selects_failed;
} host_result;

static void *host_thread(void *arg)
{
	host_result *r = arg;

	for (int i = 0; i < MIN_ROUNDS || !atomic_load(&stop_hosts); i++) {
		const lbs_workload *wl = &wls[i % 3];
		const char *chosen;
		char worker[64];
		lbs_outcome o;

		pthread_mutex_lock(&r->in->mu);
		chosen = pick(r->in->s, wl, &the_fleet);
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
		switch (sched_report(r->in->s, &o)) {
		case LBS_OK:
			r->reports_ok++;
			break;
		case LBS_EIO: /* the queue stayed full for block_ms: counted lost */
			r->reports_refused++;
			break;
		default:
			r->reports_failed++;
		}
		pthread_mutex_unlock(&r->in->mu);
	}
	return NULL;
}

typedef struct stats_result {
	atomic_long calls; /* read by run_threads while the thread runs */
	long bad, went_down;
	double max_committed[INSTANCES], max_refreshes[INSTANCES];
} stats_result;

static void *stats_thread(void *arg)
{
	stats_result *r = arg;
	double last[INSTANCES] = {0};

	while (!atomic_load(&stop_stats)) {
		for (int k = 0; k < n_insts; k++) {
			store_stats st = stats_of(insts[k].s);

			r->calls++;
			if (!st.ok) {
				r->bad++;
				continue;
			}
			if (st.committed < last[k])
				r->went_down++;
			last[k] = st.committed;
			if (st.committed > r->max_committed[k])
				r->max_committed[k] = st.committed;
			if (st.refreshes > r->max_refreshes[k])
				r->max_refreshes[k] = st.refreshes;
		}
	}
	return NULL;
}

/* Has instance k seen commits and, with writers about, another process's
 * writes (a view rebuilt)?  Always for a memory-only instance. */
static int settled(int k, int persistent)
{
	store_stats st;

	if (!persistent)
		return 1;
	st = stats_of(insts[k].s);
	return st.committed > 0 && st.refreshes >= 1;
}

/* Run the host threads and the stats thread on the instances for at least
 * run_ms, until the stats thread has read every instance once (on 2 busy
 * cores it may not have run at all by then) and until each (persistent)
 * instance has committed and seen a foreign write; returns the outcomes reported and the time taken.
 * Outcomes refused for a full queue are counted in each instance. */
static long run_threads(stats_result *sr, int persistent, uint64_t run_ms, uint64_t *took)
{
	pthread_t h[INSTANCES][HOST_THREADS], st;
	host_result hr[INSTANCES][HOST_THREADS];
	uint64_t t0 = mono_ms();
	long ok = 0;

	memset(hr, 0, sizeof hr);
	memset(sr, 0, sizeof *sr);
	atomic_init(&sr->calls, 0);
	atomic_store(&stop_stats, 0);
	atomic_store(&stop_hosts, 0);
	CHECK_INT(pthread_create(&st, NULL, stats_thread, sr), 0);
	for (int k = 0; k < n_insts; k++)
		for (int i = 0; i < HOST_THREADS; i++) {
			hr[k][i].in = &insts[k];
			CHECK_INT(pthread_create(&h[k][i], NULL, host_thread, &hr[k][i]), 0);
		}
	for (;;) {
		int all = atomic_load(&sr->calls) >= n_insts;

		for (int k = 0; k < n_insts; k++)
			all &= settled(k, persistent);
		if ((all && mono_ms() - t0 >= run_ms) || mono_ms() - t0 >= MAX_MS)
			break;
		nanosleep(&(struct timespec){0, 5000000}, NULL);
	}
	atomic_store(&stop_hosts, 1);
	for (int k = 0; k < n_insts; k++)
		for (int i = 0; i < HOST_THREADS; i++) {
			pthread_join(h[k][i], NULL);
			CHECK_INT(hr[k][i].reports_failed, 0);
			CHECK_INT(hr[k][i].selects_failed, 0);
			ok += hr[k][i].reports_ok;
			insts[k].refused += hr[k][i].reports_refused;
		}
	*took = mono_ms() - t0;
	atomic_store(&stop_stats, 1);
	pthread_join(st, NULL);
	CHECK(atomic_load(&sr->calls) >= n_insts);
	CHECK_INT(sr->bad, 0);
	CHECK_INT(sr->went_down, 0);
	for (int k = 0; k < n_insts; k++)
		CHECK(settled(k, persistent));
	return ok;
}

static void open_instances(const char *const names[], int n, const char *config)
{
	n_insts = n;
	for (int k = 0; k < n; k++) {
		insts[k].s = test_sched(names[k], config);
		insts[k].refused = 0;
		pthread_mutex_init(&insts[k].mu, NULL);
	}
}

static void close_instances(void)
{
	for (int k = 0; k < n_insts; k++) {
		sched_close(insts[k].s);
		pthread_mutex_destroy(&insts[k].mu);
	}
	n_insts = 0;
}

int main(void)
{
	static const char *const learners[INSTANCES] = {"hardware-aware", "priority"};
	const char *dir;
	char config[8192], dur[32];
	child w[WRITERS];
	long long from_writers = 0, samples;
	long reported, refused = 0;
	uint64_t took;
	stats_result sr;

	load_ext();
	dir = tmp_dir();
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

	/* Persistent: small batches and fast refreshes, so the flushers are
	 * busy committing and publishing views while the host threads work. */
	snprintf(config, sizeof config,
	         "{\"store\":{\"path\":\"%s\",\"batch_count\":8,\"batch_ms\":1,"
	         "\"refresh_ms\":2}}", dir);
	open_instances(learners, INSTANCES, config);
	snprintf(dur, sizeof dur, "%dms", STRESS_MS);
	for (int i = 0; i < WRITERS; i++) {
		char *argv[] = {(char *)writer_path(), (char *)dir, "32", "1", dur, NULL};

		if (spawn(&w[i], argv, 0)) {
			fprintf(stderr, "test fixture broken: cannot start %s: %s\n", argv[0],
			        strerror(errno));
			return 99;
		}
	}
	reported = run_threads(&sr, 1, STRESS_MS, &took);
	for (int i = 0; i < WRITERS; i++) {
		char line[256];
		long long done = -1;
		int r, status;

		while ((r = read_line(&w[i], line, sizeof line, 60000)) == 1)
			sscanf(line, "done %lld", &done);
		CHECK(r == 0);
		if (r < 0)
			kill(w[i].pid, SIGKILL);
		status = reap(&w[i]);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		CHECK(done > 0);
		from_writers += done;
	}
	CHECK(reported >= INSTANCES * HOST_THREADS * MIN_ROUNDS);
	for (int k = 0; k < n_insts; k++) {
		store_stats st = stats_of(insts[k].s);

		/* Commits were made, and the other processes' commits were
		 * noticed: a view was rebuilt and published to the threads. */
		CHECK(st.committed > 0);
		CHECK(st.refreshes >= 1);
		/* The only outcomes not kept are those report() refused when
		 * the queue stayed full: the host was told, stats count them. */
		CHECK_NEAR(st.lost, (double)insts[k].refused, 0);
		CHECK_NEAR(st.failed_commits, 0, 0);
		refused += insts[k].refused;
	}
	close_instances();
	samples = total_samples(dir);
	CHECK_INT(samples, reported + from_writers);
	printf("stress: %d processes (this host and %d store_writer) on one store for %.2f s; in "
	       "this one %d threads (%d host threads on %d instances, 1 stats thread, %d flushers); "
	       "%lld reports accepted (host %ld, writers %lld), %.0f reports/s, %lld samples in "
	       "the store; %ld refused for a full queue (counted lost); %ld stats calls\n",
	       1 + WRITERS, WRITERS, (double)took / 1000, INSTANCES * (HOST_THREADS + 1) + 1,
	       INSTANCES * HOST_THREADS, INSTANCES, INSTANCES, reported + from_writers, reported,
	       from_writers, (double)(reported + from_writers) * 1000 / (double)took, samples,
	       refused, atomic_load(&sr.calls));

	/* Memory-only: the same traffic on one instance, no flusher. */
	open_instances(learners, 1, NULL);
	reported = run_threads(&sr, 0, 0, &took);
	CHECK(reported >= HOST_THREADS * MIN_ROUNDS);
	close_instances();

	fleet_free(&the_fleet);
	return check_done("test_store_threads");
}
