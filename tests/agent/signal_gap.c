/*
 * signal_gap.c -- a test-only LD_PRELOAD library: a SIGTERM arrives at the
 * start of the agent's wait for its next sample, after its test of the stop
 * flag and before it sleeps, without depending on when the test sends it.
 * The first wait of more than 1000 s (the test's --interval 3600) raises
 * SIGTERM and then waits as asked, whichever call the agent waits with.
 */
#include <dlfcn.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>

#define EXPORT __attribute__((visibility("default")))
#define LONG_WAIT 1000.0

static volatile sig_atomic_t raised;

static void gap(double seconds)
{
	if (seconds > LONG_WAIT && !raised) {
		raised = 1;
		raise(SIGTERM);
	}
}

static double of(const struct timespec *ts)
{
	return ts ? (double)ts->tv_sec + ts->tv_nsec / 1e9 : 0;
}

/* fp = the next definition of name (libc's, or a sanitizer's), without
 * the object-to-function pointer cast ISO C leaves undefined */
static void next(const char *name, void *fp)
{
	void *p = dlsym(RTLD_NEXT, name);
	memcpy(fp, &p, sizeof p);
}

EXPORT int clock_nanosleep(clockid_t clk, int flags, const struct timespec *req,
                           struct timespec *rem)
{
	int (*real)(clockid_t, int, const struct timespec *, struct timespec *);
	double s = of(req);
	struct timespec now;

	next("clock_nanosleep", &real);
	if ((flags & TIMER_ABSTIME) && clock_gettime(clk, &now) == 0)
		s -= of(&now);
	gap(s);
	return real(clk, flags, req, rem);
}

EXPORT int nanosleep(const struct timespec *req, struct timespec *rem)
{
	int (*real)(const struct timespec *, struct timespec *);

	next("nanosleep", &real);
	gap(of(req));
	return real(req, rem);
}

EXPORT int pselect(int n, fd_set *r, fd_set *w, fd_set *e, const struct timespec *ts,
                   const sigset_t *mask)
{
	int (*real)(int, fd_set *, fd_set *, fd_set *, const struct timespec *,
	            const sigset_t *);

	next("pselect", &real);
	gap(of(ts));
	return real(n, r, w, e, ts, mask);
}

EXPORT int select(int n, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv)
{
	int (*real)(int, fd_set *, fd_set *, fd_set *, struct timeval *);

	next("select", &real);
	gap(tv ? (double)tv->tv_sec + tv->tv_usec / 1e6 : 0);
	return real(n, r, w, e, tv);
}

EXPORT int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *ts, const sigset_t *mask)
{
	int (*real)(struct pollfd *, nfds_t, const struct timespec *, const sigset_t *);

	next("ppoll", &real);
	gap(of(ts));
	return real(fds, n, ts, mask);
}

EXPORT int poll(struct pollfd *fds, nfds_t n, int ms)
{
	int (*real)(struct pollfd *, nfds_t, int);

	next("poll", &real);
	gap(ms / 1e3);
	return real(fds, n, ms);
}

EXPORT int sigtimedwait(const sigset_t *set, siginfo_t *info, const struct timespec *ts)
{
	int (*real)(const sigset_t *, siginfo_t *, const struct timespec *);

	next("sigtimedwait", &real);
	gap(of(ts));
	return real(set, info, ts);
}
