/*
 * test_host_fork.c -- a fork while another thread logs through the host.
 *
 * A plugin logs from its own threads (a store's flusher), and a host may
 * fork meanwhile (Python's multiprocessing, nginx's master starting its
 * workers).  The host's log lock, held by the logging thread at the fork,
 * came to the child held by a thread the child does not have, and the
 * child's first log line hung it.  Each child here logs once and exits;
 * none may hang.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "support.h"

static atomic_int stop;
static atomic_long lines;

/* Slow on purpose: the lock is held for most of the logger's loop, so a
 * fork nearly always finds it held. */
static void slow_sink(void *ctx, int32_t level, const char *msg)
{
	struct timespec t = {0, 200000};

	(void)ctx;
	(void)level;
	(void)msg;
	nanosleep(&t, NULL);
	atomic_fetch_add(&lines, 1);
}

static void *logger(void *arg)
{
	shim_host *h = arg;
	struct timespec gap = {0, 20000};

	for (long i = 0; !atomic_load(&stop); i++) {
		host_logf(h, LBS_LOG_WARN, "flusher line %ld", i);
		nanosleep(&gap, NULL);
	}
	return NULL;
}

int main(void)
{
	shim_host *h = host_new("fork-test", LBS_LOG_WARN);
	int hung = 0, failed = 0, forks = 0;
	pthread_t t;

	CHECK(h != NULL);
	if (!h)
		return check_done("test_host_fork");
	host_set_log(h, slow_sink, NULL);
	CHECK_INT(pthread_create(&t, NULL, logger, h), 0);
	for (int i = 0; i < 100; i++) {
		struct timespec gap = {0, 300000};
		int status;
		pid_t pid;

		nanosleep(&gap, NULL);
		pid = fork();
		if (pid == 0) {
			alarm(20);
			host_logf(h, LBS_LOG_WARN, "child line");
			_exit(atomic_load(&lines) > 0 ? 0 : 3);
		}
		if (pid < 0)
			continue;
		forks++;
		status = wait_child(pid, 5);
		if (status < 0)
			hung++;
		else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			failed++;
		if (hung >= 3)
			break;
	}
	atomic_store(&stop, 1);
	CHECK_INT(pthread_join(t, NULL), 0);
	CHECK(atomic_load(&lines) > 100); /* the logger logged throughout */
	CHECK(forks >= 3);
	CHECK_INT(hung, 0);
	CHECK_INT(failed, 0);
	/* the parent's lock is still whole after the forks */
	host_logf(h, LBS_LOG_WARN, "parent line");
	host_free(h);
	return check_done("test_host_fork");
}
