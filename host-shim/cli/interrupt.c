/* interrupt.c -- see interrupt.h. */
#include "interrupt.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "file.h"
#include "options.h"

volatile sig_atomic_t cli_stop;
static volatile sig_atomic_t hup_ours;

/* The first of the three sets the flag; every one of them is made the
 * default again, so that a second ends the process whichever it is (a
 * SIGTERM from `timeout` after a Ctrl-C, while a store hangs on close).
 * sigaction is async-signal-safe; the struct is static, all zero but its
 * handler. */
static void on_signal(int sig)
{
	static const struct sigaction dfl = {.sa_handler = SIG_DFL};

	if (!cli_stop)
		cli_stop = sig;
	sigaction(SIGINT, &dfl, NULL);
	sigaction(SIGTERM, &dfl, NULL);
	if (hup_ours)
		sigaction(SIGHUP, &dfl, NULL);
}

void cli_stop_on_signals(void)
{
	struct sigaction sa, was;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	/* SA_RESTART: a write to stdout cut by the signal lost what stdio
	 * held and tore an answer line.  Waits for input end all the same:
	 * they are ppoll()s (file.c), which no signal restarts. */
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	/* Also when the shell ignored SIGINT for a background job: kill
	 * -INT by its pid is a request, as it is for the agent. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* nohup asked to outlive the terminal. */
	if (sigaction(SIGHUP, NULL, &was) == 0 && was.sa_handler != SIG_IGN) {
		hup_ours = 1;
		sigaction(SIGHUP, &sa, NULL);
	}
	/* whole files from a pipe (--graph -, --workers -) end on it too */
	file_set_stop(&cli_stop);
}

int cli_interrupted(const char *prog, const char *cmd, int lost, const char *fmt, ...)
{
	int sig = cli_stop;
	const char *name = sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM"
	                   : sig == SIGHUP ? "SIGHUP" : "a signal";
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	cli_error(prog, "%s: interrupted by %s after %s; %s", cmd, name, what,
	          lost ? "the errors above say what the stores may not have kept"
	               : "what was learned is kept");
	return 128 + sig;
}
