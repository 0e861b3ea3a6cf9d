/*
 * fuzz_request.c -- a request's values as the nginx module maps them
 * (host-shim/lib/reqmap.c): the input's lines are the values of the lbsched_map
 * fields in order (test type, model id, min memory, priority, required and
 * preferred backend, expected duration, deadline); nginx's own header
 * parsing, which cannot be run without a request and pool, is not fuzzed.
 *
 * Whatever the client sends, the mapping gives a workload whose every
 * field is in range, and a value it does not keep is named with a reason.
 * The workload is then placed on the example fleet through the shim's
 * checked select; the input's length picks the scheduler, as in
 * fuzz_workload.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_env.h"
#include "reqmap.h"

static shim_sched *scheds[4];
static lbs_worker **fleet;
static uint32_t n_fleet;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_sandbox(argc, argv);
	fuzz_fleet("fleet.json", &fleet, &n_fleet);
	fuzz_four_scheds(scheds, 0);
	return 0;
}

/* The value as sent with an HTTP list's whitespace left out: each
 * comma-separated piece without the spaces and tabs at its ends, joined
 * again ("cuda , onnx " is "cuda,onnx"). */
static size_t listed(rq_value v, char *out)
{
	size_t o = 0, i = 0;

	if (!v.len) /* not sent: no data to point into */
		return 0;
	while (i <= v.len) {
		size_t a = i, b;

		while (i < v.len && v.data[i] != ',')
			i++;
		b = i;
		while (a < b && (v.data[a] == ' ' || v.data[a] == '\t'))
			a++;
		while (b > a && (v.data[b - 1] == ' ' || v.data[b - 1] == '\t'))
			b--;
		memcpy(out + o, v.data + a, b - a);
		o += b - a;
		if (i < v.len)
			out[o++] = ',';
		i++;
	}
	return o;
}

/* A kept string: the value as sent (but for an HTTP list's whitespace),
 * of allowed characters only; one of whitespace alone is not stated. */
static void check_kept(const char *kept, rq_value v, const char *why, const char *field)
{
	char want[RQ_MAX_VALUE + 1];
	size_t n = v.len <= RQ_MAX_VALUE ? listed(v, want) : v.len;

	if (!kept) {
		if (n && !why)
			fuzz_fail("%s: a value was dropped without a reason", field);
		return;
	}
	if (why || kept == v.data || strlen(kept) != n || memcmp(kept, want, n))
		fuzz_fail("%s: kept string differs from the value sent", field);
	for (const char *p = kept; *p; p++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:/,+-", *p))
			fuzz_fail("%s: kept a character outside the allowed set", field);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data, *end = text + size;
	rq_value vals[RQ_COUNT] = {{NULL, 0}};
	const char *why[RQ_COUNT];
	static rq_text kept;
	lbs_workload w;
	int ignored, n = 0;

	for (int i = 0; i < RQ_COUNT && text < end; i++) {
		const char *nl = memchr(text, '\n', (size_t)(end - text));
		vals[i] = (rq_value){text, (size_t)((nl ? nl : end) - text)};
		text = nl ? nl + 1 : end;
	}
	ignored = rq_workload(vals, &kept, &w, why);
	for (int i = 0; i < RQ_COUNT; i++) {
		if (why[i] && (!vals[i].len || !*why[i]))
			fuzz_fail("%s: a reason for a value that was not sent", rq_field_name[i]);
		n += why[i] != NULL;
	}
	if (n != ignored)
		fuzz_fail("returned %d ignored values, named %d", ignored, n);
	check_kept(w.test_type, vals[RQ_TEST_TYPE], why[RQ_TEST_TYPE], "test type");
	check_kept(w.model_id, vals[RQ_MODEL_ID], why[RQ_MODEL_ID], "model id");
	if (w.struct_size != sizeof w || w.priority < 1 || w.priority > 5 ||
	    w.type >= LBS_WL_COUNT || w.min_shards != 1 || w.max_shards != 1)
		fuzz_fail("a field out of range: priority %u, type %u", w.priority, w.type);
	if (w.min_memory_bytes > (UINT64_C(1) << 50) ||
	    !(w.est_duration_s >= 0 && w.est_duration_s <= 604800) ||
	    !(w.deadline_s >= 0 && w.deadline_s <= 604800) ||
	    !(w.memory_intensity >= 0 && w.memory_intensity <= 1) ||
	    !(w.compute_intensity >= 0 && w.compute_intensity <= 1))
		fuzz_fail("a number out of range");
	if ((w.required_backends | w.preferred_backends) & LBS_BACKEND_OTHER)
		fuzz_fail("kept a backend the taxonomy does not know");
	fuzz_select(scheds[size % 4], &w, fleet, n_fleet);
	return 0;
}
