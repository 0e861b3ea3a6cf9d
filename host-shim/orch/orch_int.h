/*
 * orch_int.h -- the orchestrator's insides, shared by its files (graph.c,
 * critpath.c, recovery.c, orchestrator.c) and nobody else.
 */
#ifndef LBS_ORCH_INT_H
#define LBS_ORCH_INT_H

#include "arena.h"
#include "eligible.h"
#include "orch.h"
#include "rng.h"

typedef struct orch_recovery {
	enum orch_strategy strategy;
	uint32_t max_attempts; /* runs in all, the first included */
	double base_s, cap_s, jitter;
} orch_recovery;

typedef struct orch_task {
	const char *id;
	lbs_workload req;     /* the requirements as declared */
	lbs_workload *alt;    /* alternates, in order */
	uint32_t n_alt;
	uint32_t *deps, n_deps;
	/* deps[0..deps_met) are done or skipped, states never left: the
	 * ready check goes on from there, not from the first each time. */
	uint32_t deps_met;
	uint32_t *succ, n_succ;
	int critical;         /* declared criticality "critical" or "high" */
	orch_recovery rec;

	/* critical path */
	double est_s, rank;   /* est_s: at the priority placed, the path's raise included */
	const char *est_source;
	int est_raised;       /* est_s is of the raised priority */
	double est_base;      /* at the declared priority: the path is chosen on these */
	const char *base_source;
	int on_cp;
	uint32_t cp_next;     /* the next on the path, UINT32_MAX at its end */

	/* run state */
	enum orch_state state;
	uint32_t attempts;    /* runs started */
	uint32_t alt_used;    /* 0 = the declared requirements, k = alt[k-1] */
	const char **excluded;
	uint32_t n_excluded, cap_excluded;
	const char *worker;   /* arena copy of the last placement */
	uint64_t cookie;      /* its selection's, 0 when the host placed it */
	double not_before;    /* backoff */
	double progress;      /* last checkpoint, 0..1 */
	double duration_s;
	char *payload;        /* JSON text, malloc'd; NULL = null */
} orch_task;

struct orch {
	arena *a;
	char *file;
	const char *name;
	enum orch_agg agg;
	orch_task *t;
	uint32_t n;
	/* The subtasks in a topological order, each after its dependencies:
	 * check_acyclic()'s, so that ranks and bounds take one pass. */
	uint32_t *topo;
	rng rng;
	uint32_t cp_start;    /* the path's entry */
	/* The ids' index (orch_id_slot): positions + 1 by open addressing,
	 * id_cap (a power of two, at least twice n) slots; made by orch_load,
	 * so that a graph of 10,000 subtasks is not 10^8 compares. */
	uint32_t *by_id;
	size_t id_cap;
	lbs_workload scratch; /* the workload a placement passes */
	/* its exclude_ids when the subtask has failed workers (malloc'd,
	 * cap_excl ids; grown, never shrunk) */
	const char **excl;
	size_t cap_excl;
};

/* Subtask i's requirements as a placement passes them to the scheduler:
 * its current ones, placed single, the priority raised by one when
 * `raised` (the critical path's; orch_choose passes on_cp), the
 * exclusions aside.  The estimates use these too. */
void orch_placed(const orch *o, uint32_t i, int raised, lbs_workload *wl);

/* elig_check of wl on w once it is free: its load and what running work
 * holds of its memory and accelerators ignored. */
enum elig_reason orch_check_free(const lbs_workload *wl, const lbs_worker *w);

/* Subtask i's estimate: its current requirements' declared duration. */
void orch_declared(orch *o, uint32_t i);

/* "<file>: subtask '<id>': <msg>" into err; returns -1. */
int orch_fail(char *err, size_t errlen, const char *file, const char *id, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* The slot of id in o->by_id: its own, or the empty one it would take. */
size_t orch_id_slot(const orch *o, const char *id);

#endif
