/* interrupt.c -- see interrupt.h. */
#include "interrupt.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "options.h"

volatile sig_atomic_t cli_stop;

static void on_signal(int sig)
{
	if (!cli_stop)
		cli_stop = sig;
}

void cli_stop_on_signals(void)
{
	struct sigaction sa, was;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	/* A user who cannot wait for the schedulers to close (a store on a
	 * hung disk) presses Ctrl-C again. */
	sa.sa_flags = SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	/* Also when the shell ignored SIGINT for a background job: kill
	 * -INT by its pid is a request, as it is for the agent. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* nohup asked to outlive the terminal. */
	if (sigaction(SIGHUP, NULL, &was) == 0 && was.sa_handler != SIG_IGN)
		sigaction(SIGHUP, &sa, NULL);
}

int cli_interrupted(const char *prog, const char *cmd, const char *fmt, ...)
{
	int sig = cli_stop;
	const char *name = sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM"
	                   : sig == SIGHUP ? "SIGHUP" : "a signal";
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	cli_error(prog, "%s: interrupted by %s after %s; what was learned is kept", cmd, name,
	          what);
	return 128 + sig;
}
