/*
 * simulate.c -- see simulate.h.
 *
 * A placed test's start and finish are known the moment it is placed: a
 * worker serves its queue first in, first out, without preemption, and a
 * test's duration depends only on the truth, its own luck and whether the
 * worker is throttled when it starts.  So placement projects the worker's
 * slots forward at once (wstate.slot), and events only replay that future
 * in time order: a START moves a test from queued to running, a FINISH
 * frees its slot and reports the outcome.  The oracle reads the projected
 * slots; the schedulers see only what a host would show them.
 */
#include "simulate.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drive.h"
#include "eligible.h"

#define MAX_CURVE_POINTS 200
#define THERMAL_BINS 120
#define MAX_THROTTLED 200
#define PIXELS 1000 /* throttled stretches closer than span / PIXELS merge */
#define MAX_DURATIONS 2000

enum { EV_FINISH = 0, EV_START = 1 }; /* a finish first frees the slot a start takes */

typedef struct event {
	double t;
	uint32_t kind;
	uint32_t test;
} event;

typedef struct heap {
	event *e;
	size_t n, cap;
} heap;

typedef struct wstate {
	double *slot;      /* when each of its `cap` slots is free (projected): a
	                    * min-heap, the earliest at slot[0] */
	uint32_t *run;     /* the tests running now, `running` of them */
	uint32_t cap;      /* slots: its capacity, but no more than the tests */
	uint32_t capacity; /* as the host shows it, for the load */
	double busy_since; /* start of the heat streak that ends at busy_until */
	double busy_until;
	double queued_work; /* nominal seconds of the queued tests */
	uint32_t running, queued;
	sim_series periods; /* heat streaks (start, end) */
} wstate;

typedef struct sim {
	const sim_setup *su;
	shim_sched *sched;
	sim_run *r;
	wstate *ws;
	heap h;
	int32_t *worker;   /* per test: its worker, -1 unplaced */
	double *start, *finish, *actual;
	uint64_t *cookie;
	uint8_t *failed;
	uint32_t *pending; /* tests waiting at the host */
	uint32_t n_pending;
	double now;
	double merge_gap; /* throttled stretches closer than this merge as they come */
	char *err;
	size_t errlen;
} sim;

/* ===== Small containers =================================================== */

static int series_add(sim_series *s, double x, double y)
{
	if (s->n == s->cap) {
		uint32_t cap = s->cap ? 2 * s->cap : 16;
		sim_point *p = realloc(s->p, cap * sizeof *p);
		if (!p)
			return -1;
		s->p = p;
		s->cap = cap;
	}
	s->p[s->n++] = (sim_point){x, y};
	return 0;
}

static int ev_before(const event *a, const event *b)
{
	if (a->t != b->t)
		return a->t < b->t;
	if (a->kind != b->kind)
		return a->kind < b->kind;
	return a->test < b->test;
}

static int heap_push(heap *h, event e)
{
	size_t i;

	if (h->n == h->cap) {
		size_t cap = h->cap ? 2 * h->cap : 1024;
		event *p = realloc(h->e, cap * sizeof *p);
		if (!p)
			return -1;
		h->e = p;
		h->cap = cap;
	}
	for (i = h->n++; i > 0 && ev_before(&e, &h->e[(i - 1) / 2]); i = (i - 1) / 2)
		h->e[i] = h->e[(i - 1) / 2];
	h->e[i] = e;
	return 0;
}

static event heap_pop(heap *h)
{
	event top = h->e[0], last = h->e[--h->n];
	size_t i = 0;

	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= h->n)
			break;
		if (c + 1 < h->n && ev_before(&h->e[c + 1], &h->e[c]))
			c++;
		if (!ev_before(&h->e[c], &last))
			break;
		h->e[i] = h->e[c];
		i = c;
	}
	if (h->n)
		h->e[i] = last;
	return top;
}

/* ===== The workers' state as the schedulers see it ======================== */

/* Every utilisation is the share of the worker's slots spoken for, the
 * queue included, so that worker_load reaches 1 on a full worker and a
 * scheduler's load ceiling can act. */
static void show_load(const sim *m, uint32_t w)
{
	lbs_worker *x = m->su->workers[w];
	const wstate *s = &m->ws[w];
	double u = (double)(s->running + s->queued) / s->capacity;

	u = u < 1 ? u : 1;
	x->active_tests = s->running;
	x->queued_tests = s->queued;
	x->util_cpu = x->util_gpu = x->util_memory = x->util_io = x->util_network = u;
}

/* Has w cooled by `begin`: idle by then for at least cooldown_s, and for
 * some time at all (a test that starts as the last one ends finds the
 * worker as hot as it was)? */
static int cooled(const sim *m, uint32_t w, double begin)
{
	double gap = begin - m->ws[w].busy_until;

	return gap > 0 && gap >= m->su->truth->w[w].cooldown_s;
}

/* The start of the heat streak a test that starts on w at `begin` runs in. */
static double heat_since(const sim *m, uint32_t w, double begin)
{
	return cooled(m, w, begin) ? begin : m->ws[w].busy_since;
}

/* The nominal work ahead of new work on w at m->now, as the host knows it:
 * the queued tests' expected durations, and the part of each running
 * test's expected duration that its progress says is still to go. */
static double pending_work(const sim *m, uint32_t w)
{
	const wstate *s = &m->ws[w];
	double sum = s->queued ? s->queued_work : 0;

	for (uint32_t k = 0; k < s->running; k++) {
		uint32_t i = s->run[k];
		double left = m->finish[i] - m->now, whole = m->finish[i] - m->start[i];

		if (left > 0 && whole > 0)
			sum += m->su->stream->t[i].wl.est_duration_s * (left < whole ? left / whole : 1);
	}
	return sum > 0 ? sum : 0;
}

/* What a host shows at m->now beyond the load: temperature, throttling
 * and the work ahead of every worker. */
static void show_state(const sim *m)
{
	for (uint32_t w = 0; w < m->su->n_workers; w++) {
		lbs_worker *x = m->su->workers[w];
		const wstate *s = &m->ws[w];
		const truth_worker *tw = &m->su->truth->w[w];
		/* how long it has been heating; -1 cool */
		double busy = cooled(m, w, m->now) ? -1 : m->now - s->busy_since;

		if (LBS_HAS_FIELD(x, lbs_worker, pending_work_s))
			x->pending_work_s = pending_work(m, w);

		if (busy >= 0 && isfinite(tw->throttle_after_s)) {
			int hot = busy >= tw->throttle_after_s;
			x->temperature = hot || tw->throttle_after_s <= 0 ? 1.0
			                 : busy / tw->throttle_after_s;
			x->thermal_state = hot ? LBS_THERMAL_COOLING : LBS_THERMAL_NORMAL;
			x->performance_level = hot ? tw->throttle_factor : 1.0;
		} else {
			x->temperature = 0;
			x->thermal_state = LBS_THERMAL_NORMAL;
			x->performance_level = 1.0;
		}
	}
}

/* ===== Placing ============================================================= */

/* A scan of every slot made each placement cost the worker's capacity,
 * and the oracle that much for every worker: a fleet of capacity 1,000,000
 * ran as the square of its tests.  Only the earliest slot is ever taken,
 * and slots are alike but for when they are free, so a heap answers. */
static double first_free(const wstate *s)
{
	return s->slot[0];
}

/* The earliest slot, taken until `end`. */
static void take_slot(wstate *s, double end)
{
	uint64_t i = 0, c;

	while ((c = 2 * i + 1) < s->cap) {
		if (c + 1 < s->cap && s->slot[c + 1] < s->slot[c])
			c++;
		if (!(s->slot[c] < end))
			break;
		s->slot[i] = s->slot[c];
		i = c;
	}
	s->slot[i] = end;
}

/* Does a test that starts on worker w at `begin`, placed now, run
 * throttled: has the heat streak it joins (or starts) lasted
 * throttle_after_s?  Decided once, at its start, for the whole test. */
static int starts_hot(const sim *m, uint32_t w, double begin)
{
	return begin - heat_since(m, w, begin) >= m->su->truth->w[w].throttle_after_s;
}

/* The speed factor of such a test. */
static double throttle(const sim *m, uint32_t w, double begin)
{
	return starts_hot(m, w, begin) ? m->su->truth->w[w].throttle_factor : 1.0;
}

/* Merge the throttled stretch p into *last when they overlap or lie less
 * than `gap` apart: 1 merged, 0 not.  A worker's starts come in time
 * order (each placement takes its earliest free slot), but with several
 * slots an end can come before the last one's. */
static int absorb(sim_point *last, sim_point p, double gap)
{
	if (!(p.x <= last->y || p.x - last->y < gap))
		return 0;
	if (p.y > last->y)
		last->y = p.y;
	return 1;
}

/* The oracle: the eligible worker whose expected completion is earliest,
 * from the real state of its queue and the truth without noise: its speed
 * for the type, and its throttle when the test would start throttled. */
static int oracle_choose(const sim *m, const sim_test *t)
{
	double best = INFINITY;
	int pick = -1;

	for (uint32_t w = 0; w < m->su->n_workers; w++) {
		const wstate *s = &m->ws[w];
		double begin, done;

		if (elig_check(&t->wl, m->su->workers[w], 1.0, NULL) != ELIG_OK)
			continue;
		begin = first_free(s);
		begin = begin > m->now ? begin : m->now;
		done = begin + t->wl.est_duration_s /
		       (m->su->truth->w[w].speed[t->wl.type] * throttle(m, w, begin));
		if (done < best) {
			best = done;
			pick = (int)w;
		}
	}
	return pick;
}

/* Could any worker ever take it (load aside)? */
static int placeable(const sim *m, const sim_test *t)
{
	for (uint32_t w = 0; w < m->su->n_workers; w++)
		if (elig_check(&t->wl, m->su->workers[w], 1.0, NULL) == ELIG_OK)
			return 1;
	return 0;
}

/* Put test i on worker w now: project its start and finish. */
static int assign(sim *m, uint32_t i, uint32_t w)
{
	const sim_test *t = &m->su->stream->t[i];
	const truth_worker *tw = &m->su->truth->w[w];
	wstate *s = &m->ws[w];
	double begin = first_free(s) > m->now ? first_free(s) : m->now, f, dur, end;
	int hot;

	hot = starts_hot(m, w, begin);
	f = hot ? tw->throttle_factor : 1.0;
	if (cooled(m, w, begin)) {
		/* Idle long enough: the previous streak ended, a new one starts. */
		if (s->busy_until > s->busy_since &&
		    series_add(&s->periods, s->busy_since, s->busy_until))
			return -1;
		s->busy_since = begin;
	}
	dur = t->wl.est_duration_s / (tw->speed[t->wl.type] * f) *
	      exp(m->su->truth->noise_sigma * t->z);
	end = begin + dur;
	/* A duration that rounds away at this time (1e-8 s at 1e9 s) would
	 * put the FINISH at the START's time, where finishes go first: the
	 * test would finish before it started and then run for good, past
	 * the worker's slots.  It ends the smallest step later instead. */
	if (!(end > begin))
		end = nextafter(begin, INFINITY);
	/* Merged here at a finer grain than figures() will (the arrivals'
	 * span, not the run's), so that a long run keeps about a thousand
	 * stretches per worker, not one per test. */
	if (hot) {
		sim_series *th = &m->r->throttled[w];

		if (!(th->n && absorb(&th->p[th->n - 1], (sim_point){begin, end}, m->merge_gap)) &&
		    series_add(th, begin, end))
			return -1;
	}
	take_slot(s, end);
	if (end > s->busy_until)
		s->busy_until = end;
	s->queued++;
	s->queued_work += t->wl.est_duration_s;
	show_load(m, w);
	m->worker[i] = (int32_t)w;
	m->start[i] = begin;
	m->finish[i] = end;
	m->actual[i] = dur;
	m->failed[i] = t->u < tw->failure_rate;
	m->r->assign[(size_t)w * m->su->stream->n_types + t->type_index]++;
	if (heap_push(&m->h, (event){begin, EV_START, i}) ||
	    heap_push(&m->h, (event){end, EV_FINISH, i}))
		return -1;
	return 0;
}

/* Offer test i to the scheduler.  1 placed, 0 no worker now, -1 error. */
static int offer(sim *m, uint32_t i)
{
	const sim_test *t = &m->su->stream->t[i];
	int w;

	show_state(m);
	if (m->sched) {
		uint32_t idx[1];
		const char *ids[1];
		lbs_selection sel = {.struct_size = sizeof sel, .capacity = 1,
		                     .indices = idx, .ids = ids};
		int fell_back = 0;

		if (sched_select(m->sched, &t->wl, (const lbs_worker *const *)m->su->workers,
		                 m->su->n_workers, &sel, &fell_back) != LBS_OK)
			return 0;
		m->r->fell_back += fell_back != 0;
		m->cookie[i] = sel.cookie;
		w = (int)idx[0];
	} else {
		w = oracle_choose(m, t);
		if (w < 0)
			return 0;
	}
	return assign(m, i, (uint32_t)w) ? -1 : 1;
}

static int arrive(sim *m, uint32_t i)
{
	int r = offer(m, i);

	if (r != 0)
		return r < 0 ? -1 : 0;
	if (!placeable(m, &m->su->stream->t[i])) {
		m->r->unplaced++;
		return 0;
	}
	m->pending[m->n_pending++] = i;
	return 0;
}

/*
 * A slot freed on worker w: offer the waiting tests that w could take
 * again, oldest first, until one is placed.  Every test waits because each
 * worker that could take it was over a load ceiling; only w's load fell,
 * and once a test takes the freed slot the loads are what they were when
 * the others were refused, so offering them again would only cost time
 * (and with a long wait at the host, a great deal of it).
 */
static int retry_pending(sim *m, uint32_t w)
{
	uint32_t kept = 0;
	int placed = 0;

	for (uint32_t j = 0; j < m->n_pending; j++) {
		uint32_t i = m->pending[j];
		int r = 0;

		if (!placed &&
		    elig_check(&m->su->stream->t[i].wl, m->su->workers[w], 1.0, NULL) == ELIG_OK &&
		    (r = offer(m, i)) < 0)
			return -1;
		if (r == 0)
			m->pending[kept++] = i;
		placed |= r;
	}
	m->n_pending = kept;
	return 0;
}

static void finish(sim *m, uint32_t i)
{
	const sim_test *t = &m->su->stream->t[i];
	uint32_t w = (uint32_t)m->worker[i];
	wstate *s = &m->ws[w];

	for (uint32_t k = 0; k < s->running; k++)
		if (s->run[k] == i) {
			s->run[k] = s->run[--s->running];
			break;
		}
	show_load(m, w);
	if (m->sched) {
		lbs_outcome o = {
			.struct_size = sizeof o,
			.workload_type = t->wl.type,
			.workload_id = t->wl.id,
			.test_type = t->wl.test_type,
			.worker_id = m->su->workers[w]->id,
			.cookie = m->cookie[i],
			.result = m->failed[i] ? LBS_RESULT_FAILURE : LBS_RESULT_SUCCESS,
			.duration_s = m->actual[i],
			.expected_duration_s = t->wl.est_duration_s,
		};
		/* Schedulers that do not learn say LBS_EUNSUPPORTED: fine. */
		(void)sched_report(m->sched, &o);
	}
}

/* ===== Figures ============================================================= */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static int figures(sim *m)
{
	const sim_setup *su = m->su;
	const stream *st = su->stream;
	sim_run *r = m->r;
	uint32_t n = st->n, placed = 0, after = 0, nt = st->n_types, nw = su->n_workers;
	double sum = 0, sum_after = 0, first = st->t[0].arrival_s, last = first;
	double *done = malloc(((size_t)n + 1) * sizeof *done);
	double *prefix = malloc(((size_t)n + 1) * sizeof *prefix);
	uint32_t *eff_n = calloc((size_t)nt * nw + 1, sizeof *eff_n);
	uint32_t stride = n / MAX_DURATIONS + 1;

	if (!done || !prefix || !eff_n) {
		free(done);
		free(prefix);
		free(eff_n);
		return -1;
	}
	for (size_t k = 0; k < (size_t)nt * nw; k++)
		r->eff[k] = 0;
	prefix[0] = 0;
	for (uint32_t i = 0; i < n; i++) {
		const sim_test *t = &st->t[i];
		double c;
		uint32_t w;

		if (m->worker[i] < 0)
			continue;
		w = (uint32_t)m->worker[i];
		c = m->finish[i] - t->arrival_s;
		done[placed] = c;
		prefix[placed + 1] = prefix[placed] + c;
		placed++;
		sum += c;
		if (i >= su->warmup) {
			sum_after += c;
			after++;
		}
		if (m->finish[i] > last)
			last = m->finish[i];
		r->failures += m->failed[i];
		if (t->wl.deadline_s > 0 && c > t->wl.deadline_s)
			r->deadline_misses++;
		if (!m->failed[i]) {
			r->eff[(size_t)t->type_index * nw + w] += t->wl.est_duration_s / m->actual[i];
			eff_n[(size_t)t->type_index * nw + w]++;
		}
		if (i % stride == 0 && r->n_durations < MAX_DURATIONS) {
			double *d = r->durations[r->n_durations++];
			d[0] = t->wl.est_duration_s;
			d[1] = m->actual[i];
			d[2] = t->type_index;
			d[3] = w;
		}
	}
	for (size_t k = 0; k < (size_t)nt * nw; k++)
		r->eff[k] = eff_n[k] ? r->eff[k] / eff_n[k] : NAN;
	r->completed = placed;
	r->mean_s = placed ? sum / placed : NAN;
	r->mean_after_warmup_s = after ? sum_after / after : NAN;
	r->makespan_s = last - first;
	r->throughput_per_s = r->makespan_s > 0 ? placed / r->makespan_s : NAN;

	/* The learning curve: rolling means over the tests in arrival order. */
	if (placed) {
		uint32_t win = su->curve_window ? su->curve_window : 1, step;
		if (win > placed)
			win = placed;
		step = (placed - win) / MAX_CURVE_POINTS + 1;
		for (uint32_t k = win; k <= placed; k += step)
			if (series_add(&r->curve, k, (prefix[k] - prefix[k - win]) / win))
				goto oom;
		/* The last test's point ends the curve; where the steps left no
		 * room for it, it takes the place of the last step's. */
		if (r->curve.p[r->curve.n - 1].x != placed) {
			sim_point end = {placed, (prefix[placed] - prefix[placed - win]) / win};

			if (r->curve.n == MAX_CURVE_POINTS)
				r->curve.p[r->curve.n - 1] = end;
			else if (series_add(&r->curve, end.x, end.y))
				goto oom;
		}
		qsort(done, placed, sizeof *done, cmp_double);
		r->p95_s = done[(size_t)ceil(0.95 * placed) - 1];
	} else {
		r->p95_s = NAN;
	}

	/* Thermal lanes: the hottest moment of each bin, and the throttled
	 * stretches, so a long run stays a readable picture.  Their times are
	 * seconds since the first arrival, as the makespan is: a recorded
	 * stream that starts at 1e5 s draws from 0, not squeezed at the end. */
	for (uint32_t w = 0; w < nw; w++) {
		const sim_series *per = &m->ws[w].periods;
		const truth_worker *tw = &su->truth->w[w];
		double span = last > first ? last - first : 1, bin = span / THERMAL_BINS;
		double hot[THERMAL_BINS] = {0};

		for (uint32_t k = 0; k < per->n; k++) {
			double a = per->p[k].x, b = per->p[k].y;
			/* hot until idle for cooldown_s, as throttle() sees it: the
			 * heat at b is held there (it showed cool at once) */
			double held = b + (isfinite(tw->throttle_after_s) ? tw->cooldown_s : 0);
			int lo = (int)((a - first) / bin),
			    hi = (int)(((held < last ? held : last) - first) / bin);

			lo = lo < 0 ? 0 : lo;
			hi = hi >= THERMAL_BINS ? THERMAL_BINS - 1 : hi;
			for (int j = lo; j <= hi; j++) {
				double end = first + (j + 1) * bin, at = end < b ? end : b;
				double temp = isfinite(tw->throttle_after_s)
				              ? (tw->throttle_after_s > 0 ? (at - a) / tw->throttle_after_s : 1)
				              : 0;
				temp = temp > 1 ? 1 : temp;
				if (temp > hot[j])
					hot[j] = temp;
			}
		}
		/* The tests that ran throttled (assign()): stretches closer than
		 * a pixel merge, in place. */
		sim_series *th = &r->throttled[w];
		uint32_t kept = 0;
		for (uint32_t k = 0; k < th->n; k++)
			if (!(kept && absorb(&th->p[kept - 1], th->p[k], span / PIXELS)) &&
			    kept < MAX_THROTTLED)
				th->p[kept++] = th->p[k];
		th->n = kept;
		for (uint32_t k = 0; k < kept; k++) {
			th->p[k].x -= first;
			th->p[k].y -= first;
		}
		for (int j = 0; j < THERMAL_BINS; j++)
			if (series_add(&r->thermal[w], (j + 0.5) * bin, hot[j]))
				goto oom;
	}
	free(done);
	free(prefix);
	free(eff_n);
	return 0;
oom:
	free(done);
	free(prefix);
	free(eff_n);
	return -1;
}

/* ===== The run ============================================================= */

static int setup(sim *m)
{
	const sim_setup *su = m->su;
	uint32_t n = su->stream->n, nw = su->n_workers, nt = su->stream->n_types;
	sim_run *r = m->r;

	m->ws = calloc(nw, sizeof *m->ws);
	m->worker = malloc((size_t)n * sizeof *m->worker);
	m->start = malloc((size_t)n * sizeof *m->start);
	m->finish = malloc((size_t)n * sizeof *m->finish);
	m->actual = malloc((size_t)n * sizeof *m->actual);
	m->cookie = calloc(n, sizeof *m->cookie);
	m->failed = calloc(n, 1);
	m->pending = malloc((size_t)n * sizeof *m->pending);
	r->assign = calloc((size_t)nw * nt, sizeof *r->assign);
	r->eff = calloc((size_t)nw * nt, sizeof *r->eff);
	r->thermal = calloc(nw, sizeof *r->thermal);
	r->throttled = calloc(nw, sizeof *r->throttled);
	r->durations = calloc(MAX_DURATIONS, sizeof *r->durations);
	if (!m->ws || !m->worker || !m->start || !m->finish || !m->actual || !m->cookie ||
	    !m->failed || !m->pending || !r->assign || !r->eff || !r->thermal ||
	    !r->throttled || !r->durations)
		return -1;
	for (uint32_t i = 0; i < n; i++)
		m->worker[i] = -1;
	for (uint32_t w = 0; w < nw; w++) {
		lbs_worker *x = su->workers[w];
		wstate *s = &m->ws[w];

		/* A slot past the number of tests is never used, and each one
		 * costs every placement a look (capacity 1000000 took 40 s). */
		s->capacity = x->capacity ? x->capacity : 1;
		s->cap = orch_worker_slots(x, n);
		if (!(s->slot = calloc(s->cap, sizeof *s->slot)) ||
		    !(s->run = calloc(s->cap, sizeof *s->run)))
			return -1;
		for (uint32_t k = 0; k < s->cap; k++)
			s->slot[k] = -INFINITY;
		s->busy_since = s->busy_until = -INFINITY;
		/* A run starts idle, whatever load the fleet file showed. */
		x->util_memory = x->util_io = x->util_network = 0;
		x->reserved_memory_bytes = 0;
		if (LBS_HAS_FIELD(x, lbs_worker, accel_reserved))
			x->accel_reserved = NULL;
		show_load(m, w);
	}
	return 0;
}

static void teardown(sim *m)
{
	for (uint32_t w = 0; m->ws && w < m->su->n_workers; w++) {
		free(m->ws[w].slot);
		free(m->ws[w].run);
		free(m->ws[w].periods.p);
	}
	free(m->ws);
	free(m->h.e);
	free(m->worker);
	free(m->start);
	free(m->finish);
	free(m->actual);
	free(m->cookie);
	free(m->failed);
	free(m->pending);
}

int sim_execute(const sim_setup *su, shim_sched *s, const char *name, sim_run *out,
                char *err, size_t errlen)
{
	const stream *st = su->stream;
	sim m = {.su = su, .sched = s, .r = out, .err = err, .errlen = errlen};
	uint32_t next = 0;
	int rc = -1;

	memset(out, 0, sizeof *out);
	out->name = name;
	out->tests = st->n;
	if (setup(&m))
		goto out;
	m.merge_gap = (st->t[st->n - 1].arrival_s - st->t[0].arrival_s) / PIXELS;
	while (next < st->n || m.h.n) {
		if (su->stop && *su->stop) {
			out->tests = next;
			rc = 1;
			goto out;
		}
		if (m.h.n && (next == st->n || m.h.e[0].t <= st->t[next].arrival_s)) {
			event e = heap_pop(&m.h);
			wstate *w = &m.ws[m.worker[e.test]];

			m.now = e.t;
			if (e.kind == EV_START) {
				w->queued--;
				w->queued_work -= st->t[e.test].wl.est_duration_s;
				w->run[w->running++] = e.test;
				show_load(&m, (uint32_t)m.worker[e.test]);
			} else {
				finish(&m, e.test);
				if (m.n_pending && retry_pending(&m, (uint32_t)m.worker[e.test]))
					goto out;
			}
			continue;
		}
		m.now = st->t[next].arrival_s;
		if (arrive(&m, next))
			goto out;
		next++;
		if (su->progress && (next & 1023) == 0)
			su->progress(su->progress_ctx, (double)next / st->n);
	}
	/* Whatever still waits at the host was never placed. */
	out->unplaced += m.n_pending;
	for (uint32_t w = 0; w < su->n_workers; w++) {
		wstate *ws = &m.ws[w];
		if (ws->busy_until > ws->busy_since &&
		    series_add(&ws->periods, ws->busy_since, ws->busy_until))
			goto out;
	}
	if (figures(&m))
		goto out;
	rc = 0;
out:
	if (rc < 0)
		snprintf(err, errlen, "simulate: out of memory");
	teardown(&m);
	return rc;
}

double sim_lower_bound(const sim_setup *su)
{
	const stream *st = su->stream;
	double sum = 0;
	uint32_t n = 0;

	for (uint32_t i = su->warmup; i < st->n; i++) {
		const sim_test *t = &st->t[i];
		double best = INFINITY;

		for (uint32_t w = 0; w < su->n_workers; w++) {
			double d = t->wl.est_duration_s / su->truth->w[w].speed[t->wl.type];

			if (d < best && elig_check(&t->wl, su->workers[w], 1.0, NULL) == ELIG_OK)
				best = d;
		}
		/* The test's own noise, as every run of it draws it (start()):
		 * without it a stream of lucky draws beat the bound. */
		if (isfinite(best)) {
			sum += best * exp(su->truth->noise_sigma * t->z);
			n++;
		}
	}
	return n ? sum / n : NAN;
}

int sim_any_placeable(const sim_setup *su)
{
	/* Copies, idle as a run starts them: before the first run the workers
	 * still hold the fleet file's reservations, which no run sees. */
	lbs_worker *idle = malloc((size_t)su->n_workers * sizeof *idle + 1);
	int found = 0;

	if (!idle)
		return -1;
	for (uint32_t w = 0; w < su->n_workers; w++) {
		idle[w] = *su->workers[w];
		idle[w].reserved_memory_bytes = 0;
		if (LBS_HAS_FIELD(&idle[w], lbs_worker, accel_reserved))
			idle[w].accel_reserved = NULL;
	}
	for (uint32_t i = 0; i < su->stream->n && !found; i++)
		for (uint32_t w = 0; w < su->n_workers && !found; w++)
			found = elig_check(&su->stream->t[i].wl, &idle[w], 1.0, NULL) == ELIG_OK;
	free(idle);
	return found;
}

void sim_run_free(sim_run *r, uint32_t n_workers)
{
	for (uint32_t w = 0; w < n_workers; w++) {
		if (r->thermal)
			free(r->thermal[w].p);
		if (r->throttled)
			free(r->throttled[w].p);
	}
	free(r->thermal);
	free(r->throttled);
	free(r->assign);
	free(r->eff);
	free(r->curve.p);
	free(r->durations);
	free(r->stats);
	memset(r, 0, sizeof *r);
}
