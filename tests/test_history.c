/*
 * The plugin's in-memory history (plugin/history.c) alone: the log of
 * changes that lets hardware-aware's memo forget only the records that
 * changed (hist_changes, an lbs_changes_fn).  The plugin itself is tested
 * through dlopen elsewhere; this is its data structure, linked in.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "history.h"
#include "worker_id.h"

static void report(hist_store *s, uint32_t type, const char *id, double expected)
{
	lbs_outcome o = {.struct_size = sizeof o, .workload_type = type, .worker_id = id,
	                 .result = LBS_RESULT_SUCCESS, .duration_s = 10.0,
	                 .expected_duration_s = expected};

	CHECK_INT(hist_apply(s, &o, 1000.0), LBS_OK);
}

int main(void)
{
	hist_store *s = hist_new(), *later;
	lbs_change out[HIST_CHANGES];
	uint64_t g0, g1, g2, now = 0;

	if (!s)
		return 1;
	g0 = hist_generation(s);
	CHECK_INT(hist_changes(s, g0, &now, out, HIST_CHANGES), 0);
	CHECK(now == g0);

	/* a speed learned: that pair alone */
	report(s, LBS_WL_VISION, "w1", 5.0);
	g1 = hist_generation(s);
	CHECK_INT(hist_changes(s, g0, &now, out, HIST_CHANGES), 1);
	CHECK(now == g1);
	CHECK(out[0].id_hash == wid_hash("w1"));
	CHECK_INT(out[0].wl_type, LBS_WL_VISION);
	CHECK_INT(out[0].wide, 0);
	/* latency alone: the type's reference moves, every record of it */
	report(s, LBS_WL_NLP, "w2", 0.0);
	g2 = hist_generation(s);
	CHECK_INT(hist_changes(s, g1, &now, out, HIST_CHANGES), 1);
	CHECK_INT(out[0].wl_type, LBS_WL_NLP);
	CHECK_INT(out[0].wide, 1);
	CHECK_INT(hist_changes(s, g0, &now, out, HIST_CHANGES), 2);
	CHECK(out[0].id_hash == wid_hash("w1") && out[1].id_hash == wid_hash("w2"));
	/* more than max, and a generation not of these records */
	CHECK_INT(hist_changes(s, g0, &now, out, 1), -1);
	CHECK_INT(hist_changes(s, g0 - 1, &now, out, HIST_CHANGES), -1);
	CHECK_INT(hist_changes(s, g2 + 1, &now, out, HIST_CHANGES), -1);
	/* the log reaches back HIST_CHANGES changes, no further */
	for (int i = 0; i < HIST_CHANGES; i++)
		report(s, LBS_WL_VISION, i % 2 ? "w3" : "w4", 5.0);
	CHECK_INT(hist_changes(s, g1, &now, out, HIST_CHANGES), -1);
	CHECK_INT(hist_changes(s, g2, &now, out, HIST_CHANGES), HIST_CHANGES);
	CHECK(out[HIST_CHANGES - 1].id_hash == wid_hash("w3"));
	CHECK(now == hist_generation(s));
	/* a store made later never answers for this one's generations (a
	 * view replaced, its memory maybe reused) */
	later = hist_new();
	if (later) {
		report(later, LBS_WL_VISION, "w1", 5.0);
		CHECK_INT(hist_changes(later, hist_generation(s), &now, out, HIST_CHANGES), -1);
		hist_free(later);
	}
	hist_free(s);
	return check_done("test_history");
}
