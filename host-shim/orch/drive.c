/*
 * drive.c -- run a graph to its end in virtual time: the loop a host would
 * run (ready subtasks, one placement each, results, recovery), over a fleet
 * model where each worker runs `capacity` subtasks at once, and a subtask
 * is bound only when its worker can start it.  How long a run takes and whether it fails is
 * the caller's (orch_exec): the plan of `orchestrate` uses the estimates,
 * the simulator the truth.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "drive.h"
#include "eligible.h"
#include "orch_int.h"

typedef struct run {
	const lbs_workload *wl;        /* the requirements it runs under: it holds their memory */
	uint32_t task, worker;
	double start, finish, nominal; /* nominal: declared seconds of the run */
	double progress;               /* checkpoint reached when it fails */
	int fails;
} run;

typedef struct dstate {
	run *r;          /* placed runs not finished, in placement order */
	uint32_t n, cap;
	uint32_t *cap_of, *n_slots; /* n_slots: orch_worker_slots() */
	uint32_t *running; /* per worker: runs now */
	double *ahead;     /* per worker: nominal seconds of them left */
	/* per worker with accelerators: what its runs hold of them (elig_hold),
	 * its accel_reserved during the drive; else NULL */
	uint32_t **accel;
} dstate;

/* Show the host's view of worker w from d's counts: its runs (none
 * queue: each started when it was bound), utilisation, nominal work
 * ahead.  What they hold of its memory and accelerators is elig_hold's. */
static void set_load(lbs_worker *x, uint32_t running, double u, double ahead)
{
	x->active_tests = running;
	x->queued_tests = 0;
	x->util_cpu = x->util_gpu = x->util_memory = x->util_io = x->util_network = u > 1 ? 1 : u;
	if (LBS_HAS_FIELD(x, lbs_worker, pending_work_s))
		x->pending_work_s = ahead;
}

/* The utilisation a worker with a slot free shows at most: the default
 * load_ceiling of the schedulers that have one (docs/SCHEDULERS.md). */
#define FREE_SLOT_UTIL_MAX 0.9

/* Its utilisation is the share of its slots taken, a worker with one free
 * shown at most at the default ceiling: the slots say when a worker is
 * full (a choice of a full one is withdrawn), and at 19 of 20 slots, 0.95,
 * round-robin and every scheduler with a ceiling passed over the free one,
 * from a capacity of 11 up. */
static void show_load(const dstate *d, lbs_worker *x, uint32_t w)
{
	double u = (double)d->running[w] / d->cap_of[w];

	if (d->running[w] < d->cap_of[w] && u > FREE_SLOT_UTIL_MAX)
		u = FREE_SLOT_UTIL_MAX;
	set_load(x, d->running[w], u, d->ahead[w]);
}

void orch_idle(lbs_worker **workers, uint32_t n)
{
	for (uint32_t w = 0; w < n; w++) {
		lbs_worker *x = workers[w];

		set_load(x, 0, 0, 0);
		/* The drive shows only its own runs' load and holds: a
		 * reservation, a throttle or a temperature left from the file
		 * would stay for the whole plan, and HEFT and the bound never
		 * see them. */
		x->reserved_memory_bytes = 0;
		if (LBS_HAS_FIELD(x, lbs_worker, accel_reserved))
			x->accel_reserved = NULL;
		x->thermal_state = LBS_THERMAL_NORMAL;
		x->performance_level = 1.0;
		x->temperature = 0.0;
	}
}

/* Run r's hold on its worker's memory and accelerators, as decide's
 * stream holds a placement's: a 100 GB worker ran three subtasks of 60 GB
 * at once. */
static void hold(dstate *d, lbs_worker **workers, const run *r)
{
	elig_hold(r->wl, workers[r->worker], d->accel[r->worker]);
}

/* Every worker's view at `now`, in one pass over the runs: a pass over
 * the runs for each worker took 71 % of a plan of 2,000 subtasks on 4,096
 * workers. */
static void show_loads(dstate *d, lbs_worker **workers, uint32_t n, double now)
{
	memset(d->running, 0, n * sizeof *d->running);
	memset(d->ahead, 0, n * sizeof *d->ahead);
	for (uint32_t w = 0; w < n; w++) {
		workers[w]->reserved_memory_bytes = 0;
		if (d->accel[w]) {
			memset(d->accel[w], 0, workers[w]->n_accels * sizeof *d->accel[w]);
			workers[w]->accel_reserved = d->accel[w];
		}
	}
	for (uint32_t k = 0; k < d->n; k++) {
		const run *r = &d->r[k];

		d->running[r->worker]++;
		d->ahead[r->worker] += r->nominal * (r->finish > r->start
		                                     ? (r->finish - now) / (r->finish - r->start) : 0);
		hold(d, workers, r);
	}
	for (uint32_t w = 0; w < n; w++)
		show_load(d, workers[w], w);
}

static int add_run(dstate *d, run r)
{
	if (d->n == d->cap) {
		uint32_t cap = d->cap ? 2 * d->cap : 64;
		run *p = realloc(d->r, cap * sizeof *p);
		if (!p)
			return -1;
		d->r = p;
		d->cap = cap;
	}
	d->r[d->n++] = r;
	return 0;
}

/* Subtask i's estimate for the requirements an alternate recovery moved
 * it to, on the idle fleet as orch_estimate() made the others: the load of
 * this moment would pass over a busy worker it is likely to run on.  The
 * next round shows the load again. */
static int reestimate(orch *o, uint32_t i, shim_sched *s, lbs_worker **workers, uint32_t n)
{
	orch_idle(workers, n);
	return orch_reestimate(o, i, s, (const lbs_worker *const *)workers, n);
}

/* A round of placements stops after this many choices in a row were
 * withdrawn: the rest of the ready list, of lower rank, waits for the next
 * run's end.  Each event ends a run, and a free slot nobody wants (a slow
 * worker next to busy fast ones) would have every ready subtask of a wide
 * graph selected again at every event: 2,000 of them took 5 s to simulate
 * where binding at once took 1. */
#define ROUND_WITHDRAWN 64

uint32_t orch_worker_slots(const lbs_worker *w, uint32_t n_subtasks)
{
	uint32_t cap = w->capacity ? w->capacity : 1;

	return n_subtasks && cap > n_subtasks ? n_subtasks : cap;
}

int orch_drive(orch *o, shim_sched *s, lbs_worker **workers, uint32_t n, const orch_exec *x,
               orch_drive_result *out, char *err, size_t errlen)
{
	dstate d = {0};
	uint32_t *ready = malloc((o->n + 1) * sizeof *ready);
	size_t total = 0;
	double now = 0;
	int rc = -1;

	memset(out, 0, sizeof *out);
	d.cap_of = calloc(n + 1, sizeof *d.cap_of);
	d.n_slots = calloc(n + 1, sizeof *d.n_slots);
	d.running = calloc(n + 1, sizeof *d.running);
	d.ahead = calloc(n + 1, sizeof *d.ahead);
	d.accel = calloc(n + 1, sizeof *d.accel);
	if (!ready || !d.cap_of || !d.n_slots || !d.running || !d.ahead || !d.accel)
		goto oom;
	for (uint32_t w = 0; w < n; w++) {
		const lbs_worker *x = workers[w];

		if (x->n_accels && x->accel_kinds && x->accel_counts &&
		    LBS_HAS_FIELD(x, lbs_worker, accel_reserved) &&
		    !(d.accel[w] = calloc(x->n_accels, sizeof *d.accel[w])))
			goto oom;
		d.cap_of[w] = workers[w]->capacity ? workers[w]->capacity : 1;
		d.n_slots[w] = orch_worker_slots(workers[w], o->n);
		total += d.n_slots[w];
	}
	for (;;) {
		uint32_t nr;
		double next = INFINITY;
		int done;

		if (x->stop && *x->stop) {
			out->stopped = 1;
			d.n = 0; /* left idle below, as a finished graph's */
			break;
		}
		show_loads(&d, workers, n, now);
		/* A lost graph places nothing more (drive.h: until it completes
		 * or is lost); its runs in flight end and are counted. */
		nr = orch_completed(o) < 0 ? 0 : orch_ready(o, now, ready, o->n);
		/* Not while every slot is taken (d.n runs hold d.n slots): no
		 * choice could be bound. */
		for (uint32_t k = 0, streak = 0; k < nr && d.n < total && streak < ROUND_WITHDRAWN;
		     k++) {
			uint32_t i = ready[k], w;
			int fb = 0;
			uint64_t cookie;
			/* the whole fleet: a subtask no worker of it can take is lost */
			lbs_status st = orch_choose(o, i, s, (const lbs_worker *const *)workers, n, 1,
			                            &w, &fb, &cookie);
			run r;
			double dur, remaining = orch_remaining(o, i), f = 1;

			out->fell_back += (uint32_t)fb;
			if (st == LBS_ENOMEM)
				goto oom;
			/* Lost just now (reassign out of workers): the rest of the
			 * round is not placed, as no later round is. */
			if (orch_state_of(o, i) == ORCH_LOST)
				break;
			if (st != LBS_OK)
				continue; /* waits for a worker to free up */
			/* Bound only when its worker can start it now.  A subtask
			 * queued behind a busy worker was bound on what the
			 * scheduler knew then: every subtask of a wide graph at
			 * once, before one result had taught it the fleet's
			 * real speeds (3.2x HEFT on a layer of 100).  Left
			 * ready, it is placed again at the next run's end, with
			 * that run learned. */
			if (d.running[w] >= d.n_slots[w]) {
				orch_withdraw(o, i, s, workers[w]->id, cookie);
				streak++;
				continue;
			}
			streak = 0;
			if (orch_commit(o, i, workers[w]->id, cookie))
				goto oom;
			out->placements++;
			r.wl = orch_workload(o, i);
			r.task = i;
			r.worker = w;
			r.start = now;
			r.nominal = orch_workload(o, i)->est_duration_s * remaining;
			r.fails = 0;
			dur = x->run(x->ctx, o, i, w, &r.fails, &f) * remaining;
			if (!isfinite(dur) || dur < 0)
				dur = 0;
			if (r.fails) {
				/* It fails f of the way through; a worker checkpoints
				 * every quarter of the work. */
				double reached = (1 - remaining) + f * remaining;
				r.progress = floor(reached * 4) / 4;
				dur *= f;
			} else {
				r.progress = 1;
			}
			r.finish = r.start + dur;
			if (add_run(&d, r))
				goto oom;
			/* As show_loads() counts it: all of it ahead (it starts
			 * now), none of a run that takes no time. */
			d.running[w]++;
			d.ahead[w] += r.finish > r.start ? r.nominal : 0;
			hold(&d, workers, &r);
			show_load(&d, workers[w], w);
		}
		done = orch_completed(o);
		if (done && !d.n)
			break;
		/* The next event: a run finishing, or a backoff ending. */
		for (uint32_t k = 0; k < d.n; k++)
			if (d.r[k].finish < next)
				next = d.r[k].finish;
		for (uint32_t i = 0; i < o->n; i++)
			if (o->t[i].state == ORCH_PENDING && o->t[i].not_before > now &&
			    o->t[i].not_before < next)
				next = o->t[i].not_before;
		if (!isfinite(next)) {
			/* Nothing runs and nothing can be placed: a subtask is
			 * lost, or the scheduler takes none of what is ready
			 * although a worker passes its hard filter
			 * (orch_fit_fleet saw to that). */
			if (done)
				break;
			nr = orch_ready(o, now, ready, o->n);
			if (nr)
				orch_fail(err, errlen, o->file, orch_id(o, ready[0]),
				          "the scheduler places it on no worker and nothing is running");
			else
				orch_fail(err, errlen, o->file, NULL, "no subtask is ready or running, "
				          "and the graph is not done");
			goto out;
		}
		now = next;
		for (uint32_t k = 0; k < d.n;) {
			run r = d.r[k];
			orch_result res = {!r.fails, r.finish - r.start, NULL, r.progress, 1};
			if (r.finish > now) {
				k++;
				continue;
			}
			d.r[k] = d.r[--d.n]; /* order among finished runs does not matter */
			if (r.finish > out->makespan_s)
				out->makespan_s = r.finish;
			if (x->done)
				x->done(x->ctx, o, r.task, r.worker, r.start, r.finish, !r.fails);
			if (orch_record(o, r.task, &res, err, errlen))
				goto out;
			if (r.fails) {
				out->failures++;
				/* Estimated whenever recovery moved it: the fit may
				 * move it back to the alternate it ran, whose
				 * estimate the move replaced with the next one's
				 * declared duration. */
				if (orch_recover(o, r.task, now, NULL) == ORCH_ALTERNATE) {
					orch_fit_alternate(o, r.task, (const lbs_worker *const *)workers, n);
					if (reestimate(o, r.task, s, workers, n))
						goto oom;
				}
			}
		}
	}
	/* Leave the fleet idle, as the run found it: a host estimating the
	 * next graph on these workers must not see this one's last load. */
	show_loads(&d, workers, n, now);
	out->completed = orch_completed(o);
	rc = 0;
	goto out;
oom:
	orch_fail(err, errlen, o->file, NULL, "out of memory");
out:
	free(ready);
	free(d.r);
	free(d.cap_of);
	free(d.n_slots);
	free(d.running);
	free(d.ahead);
	for (uint32_t w = 0; d.accel && w < n; w++)
		if (d.accel[w]) {
			/* idle, as the run found the fleet, and not pointing at
			 * memory freed here */
			workers[w]->accel_reserved = NULL;
			free(d.accel[w]);
		}
	free(d.accel);
	return rc;
}
