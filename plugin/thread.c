/*
 * thread.c -- the plugin's threads start with every signal but a fault's blocked; see
 * thread.h.
 */
#include <signal.h>

#include "thread.h"

int thread_start(pthread_t *t, void *(*fn)(void *), void *arg)
{
	sigset_t all, old;
	int rc;

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
	if (rc)
		return rc;
	rc = pthread_create(t, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}
