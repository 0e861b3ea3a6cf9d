/*
 * support.h -- build fleets and workloads from JSON text and drive the real
 * plugin (dlopen'ed through the shim) in a few calls, so that tests read as
 * "on this fleet, this test goes to that worker".
 *
 * The plugin is $LBS_PLUGIN (set by meson test); examples are under
 * $LBS_SRCDIR/examples.  Every helper aborts the test binary with a message
 * if the fixture itself is broken (that is a bug in the test, not a check).
 */
#ifndef LBS_TEST_SUPPORT_H
#define LBS_TEST_SUPPORT_H

#include <stdint.h>
#include <sys/types.h>

#include <lbsched/abi.h>

#include "arena.h"
#include "host.h"
#include "scheduler.h"

typedef struct fleet {
	arena *arena;
	lbs_worker **workers;
	uint32_t n;
} fleet;

/* Parse fleet JSON (array or {"workers": [...]}); aborts on error. */
fleet fleet_parse(const char *json);
/* Same from a file path relative to $LBS_SRCDIR. */
fleet fleet_load(const char *relpath);
void fleet_free(fleet *f);

/* One test-requirements object; strings live in `a`; aborts on error. */
lbs_workload workload_parse(arena *a, const char *json);

/* The shared host (quiet: only errors are printed). */
shim_host *test_host(void);

/* Open scheduler `name` of $LBS_PLUGIN with config JSON (may be NULL);
 * aborts with the plugin's message on failure. */
shim_sched *test_sched(const char *name, const char *config);

/*
 * Select and return the chosen ids joined by ",", or "none" for
 * LBS_NO_WORKER, or "error:<status>"; prefixed "fallback:" when the host
 * rejected the plugin's answer and chose itself.  The string is the calling
 * thread's, valid until its next call.  pick_reason() gives the plugin's reason,
 * pick_cookie() the answer's cookie (0 when it was none or an error).
 */
const char *pick(shim_sched *s, const lbs_workload *wl, const fleet *f);
const char *pick_reason(void);
uint64_t pick_cookie(void);

/* A forked child's wait status, or -1 when it had not ended within
 * `seconds` (it is killed then and reaped): a hung child is a test's
 * finding, not the test's hang. */
int wait_child(pid_t pid, int seconds);

/* A full path under $LBS_SRCDIR; static buffer. */
const char *src_path(const char *relpath);

/* A number below n from xorshift64, seeded alike in every test program:
 * the random fleets and requests of a run are the same every run. */
static inline uint32_t rnd(uint32_t n)
{
	static uint64_t rng = 12345;

	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

#endif
