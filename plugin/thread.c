/*
 * thread.c -- the plugin's threads start with every signal but a fault's
 * blocked, and read and write numbers in the C locale; see thread.h.
 */
#include <errno.h>
#include <locale.h>
#include <signal.h>
#include <stdlib.h>

#include "thread.h"

typedef struct start {
	void *(*fn)(void *);
	void *arg;
} start;

/* The thread's locale is C: the host's (a Python host under de_DE) wrote
 * "0,5" into what the thread sends, and Redis's scripts read it as no
 * number.  Without a C locale to be had (out of memory) the thread runs
 * in the host's, as before. */
static void *run(void *p)
{
	start st = *(start *)p;
	locale_t c = newlocale(LC_ALL_MASK, "C", (locale_t)0);
	void *r;

	free(p);
	if (c)
		uselocale(c);
	r = st.fn(st.arg);
	if (c) {
		uselocale(LC_GLOBAL_LOCALE);
		freelocale(c);
	}
	return r;
}

int thread_start(pthread_t *t, void *(*fn)(void *), void *arg)
{
	sigset_t all, old;
	start *st = malloc(sizeof *st);
	int rc;

	if (!st)
		return ENOMEM;
	st->fn = fn;
	st->arg = arg;
	/* A new thread inherits its creator's mask: block in the creator for
	 * the moment of the call, so the thread never runs unblocked.  A
	 * fault's signal is the faulting thread's own and stays open: one
	 * blocked is delivered anyway, past the host's handler (a sanitizer's
	 * report, a crash handler). */
	sigfillset(&all);
	sigdelset(&all, SIGSEGV);
	sigdelset(&all, SIGBUS);
	sigdelset(&all, SIGFPE);
	sigdelset(&all, SIGILL);
	sigdelset(&all, SIGTRAP);
	sigdelset(&all, SIGSYS);
	rc = pthread_sigmask(SIG_SETMASK, &all, &old);
	if (rc) {
		free(st);
		return rc;
	}
	rc = pthread_create(t, NULL, run, st);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc)
		free(st);
	return rc;
}
