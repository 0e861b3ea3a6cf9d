/*
 * store_writer.c -- a helper of test_store and test_store_threads, not a test
 * by itself: one process that learns into a store, as one nginx worker or one
 * shim would.
 *
 *   store_writer DIR BATCH_COUNT BATCH_MS N [hold]
 *
 * N is a count of outcomes, or a time ("3000ms"): report until it passed.
 * Loads $LBS_PLUGIN through the shim, creates "hardware-aware" with
 * {"store": {"path": DIR, "batch_count": BATCH_COUNT, "batch_ms": BATCH_MS}}
 * and reports N outcomes spread over a fixed set of pairs (3 workload
 * types x 8 workers "w0".."w7"; outcome i goes to pair i % 24,
 * type i % 3 and worker (i % 24) / 3), only successes and failures so that
 * every outcome counts as one sample: the k-th outcome of a pair fails when
 * k % 3 == 0.  An outcome refused for a full
 * queue (LBS_EIO) is reported again until it is taken, so N outcomes reach
 * the store unless the process is killed.
 *
 * stdout, line-buffered (a reader can act on each line at once):
 *   committed <n>   whenever the scheduler's stats show more outcomes made
 *                   durable than the last line said.  Printed only after
 *                   the commit returned, so every such line is an
 *                   acknowledgement that n outcomes are on disk.
 *   holding         (with "hold") all N are committed and the instance stays
 *                   open, the store with it, until SIGTERM: a long-lived
 *                   process that shares the store, as an nginx worker does.
 *   done <n>        after destroy (which commits the queue): n outcomes
 *                   were accepted by report() and are now all committed.
 * Exit 0, or 2 with a message on stderr when something fails.
 *
 * For test_fleet: $LBS_WRITER_FLEET, a JSON object, becomes the store's
 * "fleet", and $LBS_WRITER_WORKERS (default 8) the number of workers, so a
 * host can hold thousands of pairs and push them while it holds.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "support.h"

static const uint32_t types[] = {LBS_WL_VISION, LBS_WL_NLP, LBS_WL_AUDIO};
#define N_TYPES (sizeof types / sizeof types[0])

typedef struct textbuf {
	char data[8192];
	size_t len;
} textbuf;

static int collect(void *ctx, const char *data, size_t len)
{
	textbuf *t = ctx;

	if (t->len + len >= sizeof t->data)
		return 1;
	memcpy(t->data + t->len, data, len);
	t->len += len;
	t->data[t->len] = '\0';
	return 0;
}

/* stats.store.committed, or -1 when the stats lack it. */
static long long committed_now(shim_sched *s)
{
	textbuf t = {.len = 0};
	cJSON *j, *store, *c;
	long long n = -1;

	if (sched_stats(s, collect, &t) != LBS_OK)
		return -1;
	j = cJSON_Parse(t.data);
	store = cJSON_GetObjectItemCaseSensitive(j, "store");
	c = cJSON_GetObjectItemCaseSensitive(store, "committed");
	if (cJSON_IsNumber(c))
		n = (long long)c->valuedouble;
	cJSON_Delete(j);
	return n;
}

static unsigned long long arg_ull(const char *s, const char *what)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-') {
		fprintf(stderr, "store_writer: %s: not a number: '%s'\n", what, s);
		exit(2);
	}
	return v;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int main(int argc, char **argv)
{
	char config[4096], (*workers)[8], *ms;
	const char *fleet = getenv("LBS_WRITER_FLEET");
	unsigned long long n_workers = getenv("LBS_WRITER_WORKERS")
	                               ? arg_ull(getenv("LBS_WRITER_WORKERS"), "LBS_WRITER_WORKERS") : 8;
	uint64_t pairs = n_workers * N_TYPES;
	shim_sched *s;
	unsigned long long n, accepted = 0, retries = 0;
	uint64_t until = 0;
	long long shown = 0;
	int hold = argc == 6 && !strcmp(argv[5], "hold");
	sigset_t term;

	if (argc != 5 && !hold) {
		fprintf(stderr, "usage: store_writer DIR BATCH_COUNT BATCH_MS N [hold]\n");
		return 2;
	}
	/* Blocked before the plugin starts its thread, so that only
	 * sigwait() below receives it. */
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	if (hold)
		pthread_sigmask(SIG_BLOCK, &term, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(config, sizeof config,
	         "{\"store\":{\"path\":\"%s\",\"batch_count\":%llu,\"batch_ms\":%llu%s%s}}",
	         argv[1], arg_ull(argv[2], "BATCH_COUNT"), arg_ull(argv[3], "BATCH_MS"),
	         fleet ? ",\"fleet\":" : "", fleet ? fleet : "");
	if (n_workers < 1 || n_workers > 100000 || !(workers = calloc(n_workers, sizeof *workers))) {
		fprintf(stderr, "store_writer: LBS_WRITER_WORKERS: 1..100000\n");
		return 2;
	}
	for (unsigned long long w = 0; w < n_workers; w++)
		snprintf(workers[w], sizeof workers[w], "w%llu", w);

	s = test_sched("hardware-aware", config); /* exits 99 with the message */
	/* The time counts from the instance on: on a loaded machine its
	 * create (the store's verification) may take longer than all of it. */
	ms = strstr(argv[4], "ms");
	if (ms && !ms[2]) {
		*ms = '\0';
		until = mono_ms() + arg_ull(argv[4], "N (a time)");
		n = ~0ull;
	} else {
		n = arg_ull(argv[4], "N");
	}
	for (unsigned long long i = 0; i < n && !(until && mono_ms() >= until); i++) {
		uint64_t p = i % pairs;
		lbs_outcome o = {
			.struct_size = sizeof o,
			.workload_type = types[p % N_TYPES],
			.worker_id = workers[p / N_TYPES],
			.result = (i / pairs) % 3 ? LBS_RESULT_SUCCESS : LBS_RESULT_FAILURE,
			.duration_s = 1.0 + (double)(i % 7),
			.expected_duration_s = 4.0,
		};
		lbs_status st;
		int busy = 0;

		while ((st = sched_report(s, &o)) == LBS_EIO) {
			/* The queue stayed full for block_ms: the outcome was
			 * not taken.  Give the flusher a moment and retry. */
			struct timespec ts = {0, 1000000};

			retries++;
			busy = 1;
			nanosleep(&ts, NULL);
		}
		if (st != LBS_OK) {
			fprintf(stderr, "store_writer: report #%llu: status %d\n", i, (int)st);
			return 2;
		}
		accepted++;
		if (busy || i % 16 == 15) {
			long long c = committed_now(s);

			if (c > shown) {
				printf("committed %lld\n", c);
				shown = c;
			}
		}
	}
	{
		long long c = committed_now(s);

		if (c > shown)
			printf("committed %lld\n", c);
		shown = c;
	}
	if (hold) {
		int sig;

		for (int waited = 0; shown < (long long)accepted && waited < 60000; waited++) {
			struct timespec ts = {0, 1000000};

			nanosleep(&ts, NULL);
			shown = committed_now(s);
		}
		printf("holding\n");
		sigwait(&term, &sig);
	}
	sched_close(s);
	if (retries)
		fprintf(stderr, "store_writer: %llu reports retried for a full queue\n", retries);
	printf("done %llu\n", accepted);
	free(workers);
	return 0;
}
