/* interrupt.h -- SIGINT, SIGTERM and SIGHUP as a request to stop: the
 * commands that run long (simulate, decide, orchestrate) end at the next
 * test, close their schedulers so that the stores commit what they still
 * queue, and leave no temporary file behind. */
#ifndef LBS_INTERRUPT_H
#define LBS_INTERRUPT_H

#include <signal.h>

/* The signal that asked to stop (the first one), or 0. */
extern volatile sig_atomic_t cli_stop;

/* From now on SIGINT and SIGTERM, and SIGHUP unless it is ignored (nohup),
 * set cli_stop instead of ending the process; a second one, of any of
 * the three, ends it at once.  With SA_RESTART, so that writes are whole;
 * the waits for input (file_stream's, and file_read's of a pipe through
 * file_set_stop) end on the flag, and their callers look at cli_stop. */
void cli_stop_on_signals(void);

/* "PROG: CMD: interrupted by SIGINT after WHAT; what was learned is kept"
 * on stderr (WHAT from fmt), said once the schedulers are closed: only
 * then is it true.  With lost (an error was logged as they closed) the
 * line sends the reader to those errors instead.  Returns the exit status
 * a shell expects of a process the signal ended, 128 + its number (130
 * for SIGINT). */
int cli_interrupted(const char *prog, const char *cmd, int lost, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
