/*
 * fault_alloc.c -- the allocator of the test-only lbsched-faults.so (see
 * fault_alloc.h): counts the plugin's allocations from the process start and
 * fails the one numbered $LBS_FAULT_ALLOC_FAIL (none when unset or 0).  The
 * failure is announced on stderr as "lbs-fault: allocation #N fails", so a
 * test knows whether its run reached it.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>

#include "fault_alloc.h"

/* The real ones, here and only here. */
#undef malloc
#undef calloc
#undef realloc
#undef strdup

static pthread_once_t once = PTHREAD_ONCE_INIT;
static long fail_at;
static atomic_long calls;

static void read_env(void)
{
	const char *e = getenv("LBS_FAULT_ALLOC_FAIL");

	fail_at = e ? strtol(e, NULL, 10) : 0;
}

static int fail_now(size_t n)
{
	long k;

	pthread_once(&once, read_env);
	k = atomic_fetch_add(&calls, 1) + 1;
	if (k != fail_at)
		return 0;
	{
		char msg[96];
		int len = snprintf(msg, sizeof msg, "lbs-fault: allocation #%ld (%zu bytes) fails\n",
		                   k, n);

		if (len > 0 && write(2, msg, (size_t)len) < 0)
			return 1;
	}
	return 1;
}

void *lbs_fault_malloc(size_t n)
{
	return fail_now(n) ? NULL : malloc(n);
}

void *lbs_fault_calloc(size_t n, size_t size)
{
	return fail_now(n * size) ? NULL : calloc(n, size);
}

void *lbs_fault_realloc(void *p, size_t n)
{
	return fail_now(n) ? NULL : realloc(p, n);
}

char *lbs_fault_strdup(const char *s)
{
	return fail_now(strlen(s) + 1) ? NULL : strdup(s);
}
