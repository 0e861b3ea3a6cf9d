/*
 * test_ledger.c -- the wait model and the in-flight ledger of the
 * hardware-aware scheduler, through the real plugin (dlopen'ed here with a
 * host of this test's own, whose clock the test moves):
 *   - an A100 holding one 60 s test beats a 32-core CPU for a 600 s test,
 *     from the ledger (a 1.0 host, no pending work) and from a 1.1 host's
 *     pending_work_s;
 *   - an 8-GPU worker with one test has no wait;
 *   - report() closes a placement by its cookie; one never reported expires
 *     after max(60 s, 10 x its work); the ledger holds 4096 at most, on
 *     as many workers.
 */
#include <dlfcn.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "check.h"
#include "support.h"

static uint64_t clock_ns = UINT64_C(1000) * 1000000000u;

static uint64_t fake_now(void *data)
{
	(void)data;
	return clock_ns;
}

static const lbs_host_api host = {
	.struct_size = sizeof(lbs_host_api),
	.abi_major = LBS_ABI_MAJOR,
	.abi_minor = LBS_ABI_MINOR,
	.host_name = "test_ledger",
	.host_version = "0",
	.now_ns = fake_now,
};

static const lbs_scheduler_desc *desc;

static void *open_hw(void)
{
	void *inst = NULL;
	char err[512] = "";

	if (desc->create(&host, "{}", 2, &inst, err, sizeof err) != LBS_OK) {
		fprintf(stderr, "test_ledger: create: %s\n", err);
		exit(1);
	}
	return inst;
}

/* The id chosen, "none" or "error"; *cookie the selection's. */
static const char *choose(void *inst, const lbs_workload *wl, const fleet *f, uint64_t *cookie)
{
	uint32_t idx[1];
	const char *ids[1];
	lbs_selection sel = {.struct_size = sizeof sel, .capacity = 1, .indices = idx, .ids = ids};
	lbs_status st = desc->select(inst, wl, (const lbs_worker *const *)f->workers, f->n, &sel);

	if (cookie)
		*cookie = sel.cookie;
	return st == LBS_OK ? ids[0] : st == LBS_NO_WORKER ? "none" : "error";
}

typedef struct text {
	char buf[16384];
	size_t len;
} text;

static int collect(void *ctx, const char *data, size_t len)
{
	text *t = ctx;

	if (t->len + len >= sizeof t->buf)
		return 1;
	memcpy(t->buf + t->len, data, len);
	t->len += len;
	t->buf[t->len] = '\0';
	return 0;
}

/* stats()["ledger"][key] */
static double ledger_stat(void *inst, const char *key)
{
	text t = {.len = 0};
	cJSON *j, *l;
	double v;

	CHECK_INT(desc->stats(inst, collect, &t), LBS_OK);
	j = cJSON_Parse(t.buf);
	l = cJSON_GetObjectItem(j, "ledger");
	v = cJSON_GetNumberValue(cJSON_GetObjectItem(l, key));
	cJSON_Delete(j);
	return v;
}

/* explain()'s wait_s of one candidate. */
static double wait_of(void *inst, const lbs_workload *wl, const fleet *f, const char *id)
{
	text t = {.len = 0};
	cJSON *j, *c;
	double v = -1;

	CHECK_INT(desc->explain(inst, wl, (const lbs_worker *const *)f->workers, f->n, collect,
	                        &t), LBS_OK);
	j = cJSON_Parse(t.buf);
	cJSON_ArrayForEach(c, cJSON_GetObjectItem(j, "candidates")) {
		if (!strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(c, "worker")), id))
			v = cJSON_GetNumberValue(cJSON_GetObjectItem(c, "wait_s"));
	}
	cJSON_Delete(j);
	return v;
}

static void report(void *inst, const char *worker, uint64_t cookie, double dur, double exp)
{
	lbs_outcome o = {
		.struct_size = sizeof o,
		.workload_type = LBS_WL_TRAINING,
		.worker_id = worker,
		.cookie = cookie,
		.result = LBS_RESULT_SUCCESS,
		.duration_s = dur,
		.expected_duration_s = exp,
	};

	CHECK_INT(desc->report(inst, &o), LBS_OK);
}

/* The host gave up on a placement: it closes, and nothing is learned (a
 * wait compared with a fresh instance's keeps the same speed). */
static void cancel(void *inst, const char *worker, uint64_t cookie)
{
	lbs_outcome o = {
		.struct_size = sizeof o,
		.workload_type = LBS_WL_TRAINING,
		.worker_id = worker,
		.cookie = cookie,
		.result = LBS_RESULT_CANCELLED,
	};

	CHECK_INT(desc->report(inst, &o), LBS_OK);
}

/* One A100 and a 32-core CPU, one slot each. */
static const char *A100_CPU =
	"[{\"worker_id\":\"a100\",\"supported_backends\":[\"cpu\",\"cuda\",\"pytorch\"],"
	"  \"has_gpu\":true,\"available_accelerators\":{\"gpu\":1},\"available_memory\":128,"
	"  \"cpu_cores\":16,\"capacity\":1,"
	"  \"hardware_specs\":{\"gpu_vendor\":\"nvidia\",\"gpu_name\":\"NVIDIA A100\","
	"    \"gpu_memory_gb\":80,\"gpu_compute_units\":108,\"gpu_clock_mhz\":1410,"
	"    \"gpu_tensor_cores\":true,\"gpu_tdp_watts\":400}},"
	" {\"worker_id\":\"cpu32\",\"supported_backends\":[\"cpu\",\"pytorch\"],"
	"  \"available_memory\":192,\"cpu_cores\":32,\"capacity\":1,"
	"  \"hardware_specs\":{\"cpu_clock_mhz\":2900,\"cpu_tdp_watts\":200}}]";

/* An 8-GPU host with 8 slots. */
static const char *DGX =
	"[{\"worker_id\":\"dgx\",\"supported_backends\":[\"cpu\",\"cuda\",\"pytorch\"],"
	"  \"has_gpu\":true,\"available_accelerators\":{\"gpu\":8},\"available_memory\":1024,"
	"  \"cpu_cores\":64,\"capacity\":8,"
	"  \"hardware_specs\":{\"gpu_vendor\":\"nvidia\",\"gpu_memory_gb\":80,"
	"    \"gpu_compute_units\":108,\"gpu_clock_mhz\":1410,\"gpu_tensor_cores\":true}}]";
static const char *SHORT = "{\"test_id\":\"s\",\"test_type\":\"training_fine_tune\","
                           "\"expected_duration\":60}";
static const char *LONG = "{\"test_id\":\"l\",\"test_type\":\"training_fine_tune\","
                          "\"expected_duration\":600}";

/* What a 1.0 host passes: workers without the 1.1 fields. */
static void as_v1_0(fleet *f)
{
	for (uint32_t i = 0; i < f->n; i++)
		f->workers[i]->struct_size = LBS_WORKER_SIZE_V1_0;
}

static void test_ledger_sizes_the_wait(void)
{
	fleet f = fleet_parse(A100_CPU);
	lbs_workload s = workload_parse(f.arena, SHORT), l = workload_parse(f.arena, LONG);
	void *inst = open_hw(), *blind = open_hw();
	uint64_t cookie = 0;

	as_v1_0(&f);
	/* Beyond a 1.0 host's struct: never read (0 would mean no wait). */
	f.workers[0]->pending_work_s = 0;
	/* Idle, the A100 takes the short test, and would take the long one. */
	CHECK_STR(choose(inst, &s, &f, &cookie), "a100");
	CHECK(cookie != 0);
	CHECK_INT((int)ledger_stat(inst, "open"), 1);
	/* Now the host counts that test on the A100.  Without a size, the
	 * test ahead is taken as long as the new one: a whole 600 s run of
	 * waiting, and the CPU wins. */
	f.workers[0]->active_tests = 1;
	CHECK_STR(choose(blind, &l, &f, NULL), "cpu32");
	/* The ledger knows it is a 60 s test: a tenth of a run's wait. */
	CHECK_NEAR(wait_of(inst, &l, &f, "a100") * 10, wait_of(blind, &l, &f, "a100"), 1e-3);
	CHECK_STR(choose(inst, &l, &f, NULL), "a100");

	/* Closed by its cookie, the 60 s test no longer sizes the wait; the
	 * long test just placed does (it is open, 600 s). */
	report(inst, "a100", cookie, 20, 60);
	CHECK_INT((int)ledger_stat(inst, "closed"), 1);
	CHECK_INT((int)ledger_stat(inst, "open"), 1);
	CHECK_STR(choose(inst, &l, &f, NULL), "cpu32");
	/* A cookie that is not the placement's closes nothing. */
	report(inst, "a100", cookie + 1000, 20, 60);
	report(inst, "cpu32", cookie, 20, 60);
	CHECK_INT((int)ledger_stat(inst, "closed"), 1);
	desc->destroy(inst);
	desc->destroy(blind);
	fleet_free(&f);
}

static void test_host_pending_work_wins(void)
{
	fleet f = fleet_parse(A100_CPU);
	lbs_workload l = workload_parse(f.arena, LONG), s = workload_parse(f.arena, SHORT);
	void *inst = open_hw();

	f.workers[0]->active_tests = 1;
	/* A 1.1 host that does not know: copies of the new work. */
	f.workers[0]->pending_work_s = LBS_WORK_UNKNOWN;
	CHECK_STR(choose(inst, &l, &f, NULL), "cpu32");
	/* 20 s of a test left: the A100. */
	f.workers[0]->pending_work_s = 20;
	CHECK_STR(choose(inst, &l, &f, NULL), "a100");
	/* The host's number wins over the ledger, which holds the 600 s
	 * test just placed there: still the A100. */
	CHECK_STR(choose(inst, &l, &f, NULL), "a100");
	/* An hour of work ahead: the CPU. */
	f.workers[0]->pending_work_s = 3600;
	CHECK_STR(choose(inst, &l, &f, NULL), "cpu32");
	/* Work ahead and nothing counted is one test ahead. */
	f.workers[0]->active_tests = 0;
	CHECK_STR(choose(inst, &l, &f, NULL), "cpu32");
	f.workers[0]->pending_work_s = 0;
	CHECK_STR(choose(inst, &s, &f, NULL), "a100");
	desc->destroy(inst);
	fleet_free(&f);
}

/*
 * The congestion charge on the host's pending work (worker_wait in
 * hwaware.c): on 8 slots, 8 tests ahead of 600 s each leave m = 1 to finish
 * first, a wait of 4800 x 1 / (8 x 8) = 75 nominal s, charged x (2 + 8/8):
 * 225, three eighths of a 600 s run.  16 ahead: 9600 x 9 / (16 x 8) = 675,
 * x (2 + 16/8): 2700, twelve times the first, where the bare wait grew
 * nine times: a longer queue costs more than its wait.
 */
static void test_congestion_charge(void)
{
	fleet f = fleet_parse(DGX);
	lbs_workload l = workload_parse(f.arena, LONG);
	void *inst = open_hw();
	double w8, w16, bare;

	f.workers[0]->active_tests = 8;
	f.workers[0]->pending_work_s = 8 * 600;
	w8 = wait_of(inst, &l, &f, "dgx");
	/* Without a size the same 8 tests are taken to be like the new work:
	 * the same 75 nominal s, uncharged, a third of the charged wait. */
	f.workers[0]->pending_work_s = LBS_WORK_UNKNOWN;
	bare = wait_of(inst, &l, &f, "dgx");
	CHECK(bare > 0);
	CHECK_NEAR(w8 / bare, 3, 1e-6);
	f.workers[0]->active_tests = 16;
	f.workers[0]->pending_work_s = 16 * 600;
	w16 = wait_of(inst, &l, &f, "dgx");
	CHECK_NEAR(w16 / w8, 12, 1e-6);
	desc->destroy(inst);
	fleet_free(&f);
}

/* A duration the host gives may be any positive number: a test ahead in
 * runs of a 1e-318 s one overflowed, and explain wrote the wait as null.
 * Durations count from 1 ms, so the wait is the 600 s test's, in seconds. */
static void test_tiny_duration_finite_wait(void)
{
	fleet f = fleet_parse(DGX);
	lbs_workload l = workload_parse(f.arena, LONG), tiny = l;
	void *inst = open_hw(), *blind = open_hw();
	double ledger, host, ms;

	tiny.est_duration_s = 1e-318;
	CHECK_STR(choose(inst, &l, &f, NULL), "dgx");
	f.workers[0]->active_tests = 8;
	ledger = wait_of(inst, &tiny, &f, "dgx");
	CHECK(isfinite(ledger) && ledger > 0);
	/* The same as for a 1 ms test. */
	tiny.est_duration_s = 1e-3;
	CHECK_NEAR(wait_of(inst, &tiny, &f, "dgx"), ledger, 0);
	tiny.est_duration_s = 1e-318;
	f.workers[0]->pending_work_s = 8 * 600;
	host = wait_of(blind, &tiny, &f, "dgx");
	CHECK(isfinite(host) && host > 0);
	/* Work of DBL_MAX seconds ahead: still a number. */
	f.workers[0]->pending_work_s = DBL_MAX;
	ms = wait_of(blind, &tiny, &f, "dgx");
	CHECK(isfinite(ms) && ms >= host);
	desc->destroy(inst);
	desc->destroy(blind);
	fleet_free(&f);
}

static void test_free_slot_no_wait(void)
{
	fleet f = fleet_parse(DGX);
	lbs_workload l = workload_parse(f.arena, LONG);
	void *inst = open_hw();

	f.workers[0]->active_tests = 1;
	CHECK_NEAR(wait_of(inst, &l, &f, "dgx"), 0, 0);
	f.workers[0]->pending_work_s = 600;
	CHECK_NEAR(wait_of(inst, &l, &f, "dgx"), 0, 0);
	/* Eight ahead on eight slots: one of them must finish first. */
	f.workers[0]->active_tests = 8;
	f.workers[0]->pending_work_s = 8 * 600;
	CHECK(wait_of(inst, &l, &f, "dgx") > 0);
	desc->destroy(inst);
	fleet_free(&f);
}

static void test_expiry(void)
{
	fleet f = fleet_parse(A100_CPU);
	lbs_workload s = workload_parse(f.arena, SHORT);
	void *inst = open_hw();

	as_v1_0(&f);
	CHECK_STR(choose(inst, &s, &f, NULL), "a100");
	CHECK_INT((int)ledger_stat(inst, "open"), 1);
	/* 10 x 60 s: still open just before, gone just after (a select
	 * sweeps). */
	clock_ns += UINT64_C(599) * 1000000000u;
	choose(inst, &s, &f, NULL);
	CHECK_INT((int)ledger_stat(inst, "expired"), 0);
	CHECK_INT((int)ledger_stat(inst, "open"), 2);
	clock_ns += UINT64_C(2) * 1000000000u;
	choose(inst, &s, &f, NULL);
	CHECK_INT((int)ledger_stat(inst, "expired"), 1);
	CHECK_INT((int)ledger_stat(inst, "open"), 2);
	/* Work of unknown size lives the floor, 60 s. */
	{
		lbs_workload u = workload_parse(f.arena, "{\"test_id\":\"u\","
		                                         "\"test_type\":\"training_fine_tune\"}");
		/* The converter gives a type's usual duration; no size at all
		 * is what a host without durations sends. */
		u.est_duration_s = 0;
		CHECK_STR(choose(inst, &u, &f, NULL), "a100");
		CHECK_INT((int)ledger_stat(inst, "opened"), 4);
		clock_ns += UINT64_C(61) * 1000000000u;
		choose(inst, &s, &f, NULL);
		CHECK_INT((int)ledger_stat(inst, "expired"), 2);
	}
	desc->destroy(inst);
	fleet_free(&f);
}

static void test_memory_bound(void)
{
	fleet f = fleet_parse(A100_CPU);
	lbs_workload s = workload_parse(f.arena, SHORT);
	void *inst = open_hw();
	uint64_t first = 0, c;

	as_v1_0(&f);
	choose(inst, &s, &f, &first);
	for (int i = 1; i < 5000; i++)
		choose(inst, &s, &f, &c);
	CHECK_INT((int)ledger_stat(inst, "opened"), 5000);
	CHECK_INT((int)ledger_stat(inst, "open"), 4096);
	CHECK_INT((int)ledger_stat(inst, "evicted"), 904);
	/* The oldest went: its report finds nothing; the newest is there. */
	report(inst, "a100", first, 20, 60);
	report(inst, "cpu32", first, 20, 60);
	CHECK_INT((int)ledger_stat(inst, "closed"), 0);
	report(inst, "a100", c, 20, 60);
	report(inst, "cpu32", c, 20, 60);
	CHECK_INT((int)ledger_stat(inst, "closed"), 1);
	desc->destroy(inst);
	fleet_free(&f);
}

/* On a full ring, a placement evicts the oldest, and the evicted work
 * leaves its worker's sums: 4096 600 s placements on the CPU, then 4096
 * 60 s ones, and the CPU's wait is that of one 60 s test ahead. */
static void test_evicted_work_leaves_the_mean(void)
{
	fleet f = fleet_parse(A100_CPU);
	lbs_workload s = workload_parse(f.arena, SHORT), l = workload_parse(f.arena, LONG);
	void *inst = open_hw(), *ref = open_hw();
	fleet only = f;
	lbs_worker *cpu = f.workers[1];

	as_v1_0(&f);
	only.workers = &f.workers[1];
	only.n = 1;
	for (int i = 0; i < 4096; i++)
		choose(inst, &l, &only, NULL);
	CHECK_INT((int)ledger_stat(inst, "evicted"), 0);
	for (int i = 0; i < 4096; i++)
		choose(inst, &s, &only, NULL);
	CHECK_INT((int)ledger_stat(inst, "evicted"), 4096);
	CHECK_INT((int)ledger_stat(inst, "open"), 4096);
	CHECK_INT((int)ledger_stat(inst, "opened"), 8192);
	CHECK_STR(choose(ref, &s, &only, NULL), "cpu32");
	cpu->active_tests = 1;
	CHECK(wait_of(ref, &s, &only, "cpu32") > 0);
	CHECK_NEAR(wait_of(inst, &s, &only, "cpu32"), wait_of(ref, &s, &only, "cpu32"), 1e-9);
	desc->destroy(inst);
	desc->destroy(ref);
	fleet_free(&f);
}

/* A placement that evicts and then goes untracked (an id too long to
 * keep) leaves one fewer open; the next one takes the freed position
 * without evicting. */
static void test_evict_then_untracked(void)
{
	static const char long_id[] = "a-worker-id-of-seventy-bytes-which-is-more-than-the-ledger-keeps-0123";
	fleet f = fleet_parse(A100_CPU);
	lbs_workload s = workload_parse(f.arena, SHORT);
	void *inst = open_hw();
	fleet only = f;
	lbs_worker *cpu = f.workers[1];
	const char *id = cpu->id;

	as_v1_0(&f);
	only.workers = &f.workers[1];
	only.n = 1;
	for (int i = 0; i < 4096; i++)
		choose(inst, &s, &only, NULL);
	cpu->id = long_id;
	CHECK_STR(choose(inst, &s, &only, NULL), long_id);
	CHECK_INT((int)ledger_stat(inst, "open"), 4095);
	CHECK_INT((int)ledger_stat(inst, "evicted"), 1);
	CHECK_INT((int)ledger_stat(inst, "untracked"), 1);
	CHECK_INT((int)ledger_stat(inst, "opened"), 4096);
	cpu->id = id;
	CHECK_STR(choose(inst, &s, &only, NULL), "cpu32");
	CHECK_INT((int)ledger_stat(inst, "open"), 4096);
	CHECK_INT((int)ledger_stat(inst, "evicted"), 1);
	CHECK_INT((int)ledger_stat(inst, "opened"), 4097);
	desc->destroy(inst);
	fleet_free(&f);
}

/* A placement is recorded through the position the host gave the worker
 * (ledger_open_at's memory): when the host reorders its array, the work
 * goes to the worker now at that position, not the one seen there. */
static void test_placed_by_position(void)
{
	fleet f = fleet_parse(A100_CPU);
	lbs_workload s = workload_parse(f.arena, SHORT), l = workload_parse(f.arena, LONG);
	void *inst = open_hw(), *blind = open_hw();
	fleet only = f;
	lbs_worker *a100 = f.workers[0], *cpu = f.workers[1];

	as_v1_0(&f);
	CHECK_STR(choose(inst, &s, &f, NULL), "a100");
	/* Busy, the A100 is looked up at position 0, which is remembered;
	 * idle again, it is placed on through that memory. */
	a100->active_tests = 1;
	CHECK(wait_of(inst, &s, &f, "a100") > 0);
	a100->active_tests = 0;
	CHECK_STR(choose(inst, &s, &f, NULL), "a100");
	/* The CPU alone at position 0, with the 600 s test. */
	f.workers[0] = cpu;
	f.workers[1] = a100;
	only.n = 1;
	CHECK_STR(choose(inst, &l, &only, NULL), "cpu32");
	CHECK_INT((int)ledger_stat(inst, "open"), 3);
	/* Busy, each is charged what it has: the CPU a 600 s test ahead of
	 * the 60 s one (10 runs, the blind instance's 1), the A100 two
	 * 60 s ones (1 run each, as blind). */
	a100->active_tests = 1;
	cpu->active_tests = 1;
	CHECK_NEAR(wait_of(inst, &s, &f, "cpu32"), 10 * wait_of(blind, &s, &f, "cpu32"), 1e-3);
	CHECK_NEAR(wait_of(inst, &s, &f, "a100"), wait_of(blind, &s, &f, "a100"), 1e-3);
	CHECK(wait_of(blind, &s, &f, "cpu32") > 0);
	desc->destroy(inst);
	desc->destroy(blind);
	fleet_free(&f);
}

/* Every worker the ring can hold is tracked: 4,096 distinct workers with
 * a 60 s test open each, then 12,288 more through the full ring.  The
 * worker table was full at 3,072 workers with open work, so the rest went
 * untracked (their wait unsized) and every placement rebuilt the table. */
static void test_every_busy_worker_tracked(void)
{
	static char ids[4096 + 12288][16];
	fleet f = fleet_parse(A100_CPU);
	lbs_workload s = workload_parse(f.arena, SHORT), l = workload_parse(f.arena, LONG);
	void *inst = open_hw(), *blind = open_hw();
	fleet only = f;
	lbs_worker *cpu = f.workers[1];
	const char *id = cpu->id;
	int n = (int)(sizeof ids / sizeof ids[0]);

	as_v1_0(&f);
	only.workers = &f.workers[1];
	only.n = 1;
	for (int i = 0; i < n; i++) {
		snprintf(ids[i], sizeof ids[i], "w%d", i);
		cpu->id = ids[i];
		CHECK_STR(choose(inst, &s, &only, NULL), ids[i]);
		if (i == 4095) {
			CHECK_INT((int)ledger_stat(inst, "untracked"), 0);
			CHECK_INT((int)ledger_stat(inst, "open"), 4096);
			CHECK_INT((int)ledger_stat(inst, "evicted"), 0);
			/* The last of them, busy: its 60 s test ahead is a tenth
			 * of a 600 s run, not a whole one. */
			cpu->active_tests = 1;
			CHECK(wait_of(blind, &l, &only, ids[i]) > 0);
			CHECK_NEAR(wait_of(inst, &l, &only, ids[i]) * 10,
			           wait_of(blind, &l, &only, ids[i]), 1e-3);
			cpu->active_tests = 0;
		}
	}
	CHECK_INT((int)ledger_stat(inst, "untracked"), 0);
	CHECK_INT((int)ledger_stat(inst, "open"), 4096);
	CHECK_INT((int)ledger_stat(inst, "evicted"), n - 4096);
	cpu->active_tests = 1;
	CHECK_NEAR(wait_of(inst, &l, &only, ids[n - 1]) * 10,
	           wait_of(blind, &l, &only, ids[n - 1]), 1e-3);
	cpu->id = id;
	desc->destroy(inst);
	desc->destroy(blind);
	fleet_free(&f);
}

/* The ledger keeps a duration as hardware-aware counts it, 1 ms to 1e9 s:
 * a test ahead of the new work's size is one run of it, as a fresh
 * instance takes any test ahead to be.  Kept raw, a 1e-318 s test ahead
 * weighed nothing and a 1e300 s one 1e12 runs. */
static void test_work_clamped_as_hwaware(void)
{
	static const double sizes[][2] = {{1e-318, 1e-3}, {1e-318, 1e-318}, {1e300, 1e9},
	                                  {1e300, 1e300}, {DBL_MAX, 1e9}};
	fleet f = fleet_parse(A100_CPU);
	lbs_workload l = workload_parse(f.arena, LONG), placed = l, next = l;
	fleet only = f;
	lbs_worker *cpu = f.workers[1];

	as_v1_0(&f);
	only.workers = &f.workers[1];
	only.n = 1;
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		void *inst = open_hw(), *blind = open_hw();
		double ref;

		placed.est_duration_s = sizes[i][0];
		next.est_duration_s = sizes[i][1];
		cpu->active_tests = 0;
		CHECK_STR(choose(inst, &placed, &only, NULL), "cpu32");
		cpu->active_tests = 1;
		ref = wait_of(blind, &next, &only, "cpu32");
		CHECK(isfinite(ref) && ref > 0);
		CHECK_NEAR(wait_of(inst, &next, &only, "cpu32") / ref, 1, 1e-6);
		desc->destroy(inst);
		desc->destroy(blind);
	}
	fleet_free(&f);
}

/* 600 s, 1e300 s and 600 s open on one worker, the 1e300 s one closed: the
 * worker's mean open work is 600 s again, and after one more close.  Kept
 * raw, the sum lost the 600s to cancellation: a mean of 0, then -600 (and
 * ledger_min_mean below zero), which hardware-aware reads as no size, the
 * test ahead as long as the new one. */
static void test_huge_work_leaves_the_mean(void)
{
	fleet f = fleet_parse(A100_CPU);
	lbs_workload l = workload_parse(f.arena, LONG), huge = l,
	             s = workload_parse(f.arena, SHORT);
	void *inst = open_hw(), *blind = open_hw();
	fleet only = f;
	lbs_worker *cpu = f.workers[1];
	uint64_t c1 = 0, c2 = 0, c3 = 0;
	double ref;

	as_v1_0(&f);
	only.workers = &f.workers[1];
	only.n = 1;
	huge.est_duration_s = 1e300;
	CHECK_STR(choose(inst, &l, &only, &c1), "cpu32");
	CHECK_STR(choose(inst, &huge, &only, &c2), "cpu32");
	CHECK_STR(choose(inst, &l, &only, &c3), "cpu32");
	cancel(inst, "cpu32", c2);
	CHECK_INT((int)ledger_stat(inst, "open"), 2);
	/* A 600 s test ahead of a 60 s one: ten runs, where a fresh
	 * instance counts one. */
	cpu->active_tests = 1;
	ref = wait_of(blind, &s, &only, "cpu32");
	CHECK(ref > 0);
	CHECK_NEAR(wait_of(inst, &s, &only, "cpu32") / ref, 10, 1e-6);
	cancel(inst, "cpu32", c1);
	CHECK_INT((int)ledger_stat(inst, "open"), 1);
	CHECK_NEAR(wait_of(inst, &s, &only, "cpu32") / ref, 10, 1e-6);
	desc->destroy(inst);
	desc->destroy(blind);
	fleet_free(&f);
}

int main(void)
{
	void *so = dlopen(getenv("LBS_PLUGIN"), RTLD_NOW | RTLD_LOCAL);
	lbs_plugin_entry_fn fn = NULL;
	const lbs_plugin_entry *e;
	char err[512];

	/* POSIX's way to a function from dlsym. */
	if (so)
		*(void **)&fn = dlsym(so, LBS_ENTRY_SYMBOL);
	e = fn ? fn() : NULL;
	if (!e || e->init(&host, err, sizeof err) != LBS_OK ||
	    !(desc = e->scheduler_find("hardware-aware"))) {
		fprintf(stderr, "test_ledger: cannot load %s\n", getenv("LBS_PLUGIN"));
		return 1;
	}
	test_ledger_sizes_the_wait();
	test_host_pending_work_wins();
	test_free_slot_no_wait();
	test_congestion_charge();
	test_tiny_duration_finite_wait();
	test_expiry();
	test_memory_bound();
	test_evicted_work_leaves_the_mean();
	test_evict_then_untracked();
	test_placed_by_position();
	test_every_busy_worker_tracked();
	test_work_clamped_as_hwaware();
	test_huge_work_leaves_the_mean();
	e->deinit();
	dlclose(so);
	return check_done("test_ledger");
}
