/*
 * drive.h -- run a whole graph in virtual time through a scheduler (drive.c):
 * the orchestrator's loop over a fleet model, for plans (estimates) and the
 * simulator (truth).  Part of the public orchestrator library.
 */
#ifndef LBS_ORCH_DRIVE_H
#define LBS_ORCH_DRIVE_H

#include <signal.h>

#include "orch.h"

typedef struct orch_exec {
	/* How long subtask i runs on worker w from its start, in full (the
	 * driver scales it by orch_remaining()); set *fails when this run
	 * fails, and *at (0..1] to how far through it fails. */
	double (*run)(void *ctx, const orch *o, uint32_t i, uint32_t w, int *fails, double *at);
	/* A run ended (may be NULL): an outcome to report, a line to print. */
	void (*done)(void *ctx, const orch *o, uint32_t i, uint32_t w, double start,
	             double finish, int ok);
	void *ctx;
	/* May be NULL: once *stop is set (a signal's flag), the drive ends at
	 * its next event, its runs in flight ended nowhere: a plan of 10,000
	 * subtasks ran 12 s past a SIGINT. */
	const volatile sig_atomic_t *stop;
} orch_exec;

typedef struct orch_drive_result {
	double makespan_s;   /* the last run's end */
	int completed;       /* orch_completed() at the end: 1, or -1 (lost) */
	int stopped;         /* 1: ended by *stop, the graph neither completed nor lost */
	uint32_t placements, failures, fell_back;
} orch_drive_result;

/*
 * From time 0 with every worker idle (their dynamic fields are
 * overwritten), until the graph completes or is lost.  Each worker runs
 * capacity (0 = 1) runs at once; every placement sees running counts,
 * utilisation, the nominal work ahead (pending_work_s) and the memory and
 * accelerators the runs hold (reserved_memory_bytes, accel_reserved, as
 * elig_hold takes them; left idle at the end).  A subtask is
 * bound only when the worker the scheduler chose has a free slot; else the
 * choice is withdrawn (orch_withdraw) and the subtask chosen for again at
 * the next event (a run's end or a backoff's).  0, or -1 with err (out
 * of memory, or no subtask can ever be placed); 0 too when x->stop ended
 * it (out->stopped).
 */
int orch_drive(orch *o, shim_sched *s, lbs_worker **workers, uint32_t n, const orch_exec *x,
               orch_drive_result *out, char *err, size_t errlen);

/* The workers idle, as a plan or a simulated graph runs them: no runs,
 * no utilisation, no work ahead, no reserved memory or accelerators, full
 * performance, cool.  Call it before orch_fit_fleet() and orch_estimate()
 * as well as orch_drive(): none of them may see the fleet file's load,
 * which the plan never runs under. */
void orch_idle(lbs_worker **workers, uint32_t n);

/*
 * The slots a plan of a graph of n_subtasks needs for worker w: its
 * capacity (0 = 1), at most n_subtasks.  A subtask never has two runs at
 * once, so a worker never holds more runs than the graph has subtasks:
 * the slots past that would stay empty (the total of slots bounds a
 * round of placements).  The utilisation a placement sees still divides
 * by the whole capacity.
 */
uint32_t orch_worker_slots(const lbs_worker *w, uint32_t n_subtasks);

#endif
