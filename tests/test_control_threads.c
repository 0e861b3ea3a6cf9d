/*
 * test_control_threads.c -- workers_changed ([control]) beside select
 * ([data]) on one instance, as the ABI allows (abi.h's THREADS: the host
 * serialises each kind per instance, not the two kinds together), for
 * every scheduler with a workers_changed slot: weighted-round-robin, and
 * composite and adaptive, which pass it to their children.  Run under
 * ThreadSanitizer by ./dev test (a race fails: halt_on_error) and under
 * ASan in build-san (weighted-round-robin's table was freed by
 * workers_changed while select read it: a heap-use-after-free).  Each
 * select still answers with an eligible worker.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "check.h"
#include "support.h"

#define WORKERS 64
#define ROUNDS 4000

typedef struct run {
	shim_sched *s;
	const lbs_worker *fleet[WORKERS]; /* the changer's own array */
	atomic_int done;
	int bad;
} run;

static void *changer(void *p)
{
	run *r = p;

	while (!atomic_load(&r->done))
		sched_workers_changed(r->s, r->fleet, WORKERS);
	return NULL;
}

static void beside_select(const char *name, const char *config)
{
	char doc[WORKERS * 96 + 16];
	size_t used = 0;
	fleet f;
	lbs_workload wl;
	shim_sched *s;
	pthread_t t;
	run r;

	used += (size_t)snprintf(doc + used, sizeof doc - used, "[");
	for (int i = 0; i < WORKERS; i++)
		used += (size_t)snprintf(doc + used, sizeof doc - used,
		                         "%s{\"worker_id\": \"w%d\", \"cpu_cores\": 8, "
		                         "\"available_memory\": 16}", i ? "," : "", i);
	snprintf(doc + used, sizeof doc - used, "]");
	f = fleet_parse(doc);
	wl = workload_parse(f.arena, "{\"test_id\": \"t\", \"minimum_memory\": 4}");
	s = test_sched(name, config);
	r.s = s;
	for (int i = 0; i < WORKERS; i++)
		r.fleet[i] = f.workers[i];
	r.bad = 0;
	atomic_init(&r.done, 0);
	CHECK_INT(pthread_create(&t, NULL, changer, &r), 0);
	for (int k = 0; k < ROUNDS; k++) {
		uint32_t idx[4];
		const char *ids[4];
		lbs_selection sel = { .struct_size = sizeof(sel), .capacity = 4, .indices = idx,
			              .ids = ids };
		int fell_back = 0;
		lbs_worker *first = f.workers[0];

		/* the fleet's order moves every call: the table's positions
		 * are looked up again */
		memmove(f.workers, f.workers + 1, (WORKERS - 1) * sizeof *f.workers);
		f.workers[WORKERS - 1] = first;
		if (sched_select(s, &wl, (const lbs_worker *const *)f.workers, f.n, &sel,
		                 &fell_back) != LBS_OK || sel.n_selected != 1 || fell_back)
			r.bad++;
	}
	atomic_store(&r.done, 1);
	CHECK_INT(pthread_join(t, NULL), 0);
	CHECK_INT(r.bad, 0);
	sched_close(s);
	fleet_free(&f);
}

int main(void)
{
	beside_select("weighted-round-robin", "{}");
	beside_select("composite", "{\"children\": [{\"scheduler\": \"weighted-round-robin\", "
	                           "\"weight\": 0.5}, {\"scheduler\": \"round-robin\", "
	                           "\"weight\": 0.5}]}");
	beside_select("adaptive", "{\"epsilon\": 0.5}");
	return check_done("test_control_threads");
}
