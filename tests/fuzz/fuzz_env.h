/*
 * fuzz_env.h -- what every fuzz target shares: a private temporary working
 * directory, a host whose log turns a contract breach into a crash, the
 * instrumented plugin loaded through the shim's real loader, the example
 * fleet and workloads, and a select that checks everything it gets back.
 *
 * A fuzz target may only fail by crashing, so anything a test would assert
 * is an abort() here, with a line on stderr saying what broke.
 */
#ifndef LBS_FUZZ_ENV_H
#define LBS_FUZZ_ENV_H

#include <stddef.h>
#include <stdint.h>

#include <lbsched/abi.h>

#include "arena.h"
#include "host.h"
#include "scheduler.h"

/* What libFuzzer calls in every target (each defines both; -Wmissing-
 * prototypes wants them declared). */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Report a broken invariant and abort (libFuzzer saves the input). */
void fuzz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/*
 * Create a temporary directory under $TMPDIR (else /dev/shm, else /tmp) and make it the
 * working directory, removed again at exit, so that relative store paths
 * land there and nowhere else.  Call from LLVMFuzzerInitialize with its
 * arguments: libFuzzer reads its flags after that, so relative corpus,
 * dictionary and artifact paths are made absolute first, and crash files
 * go to the directory the target was started in unless -artifact_prefix
 * says otherwise.
 */
void fuzz_sandbox(int *argc, char ***argv);

/* The shim host (quiet; a LBS_LOG_PLUGIN_MISBEHAVING line aborts). */
shim_host *fuzz_host(void);

/* The instrumented plugin (lbsched-fuzz.so next to the executable, or
 * $LBS_FUZZ_PLUGIN), loaded once through the shim's loader. */
loaded_plugin *fuzz_plugin(const lbs_host_api **api);
const char *fuzz_plugin_path(void);

/* Open scheduler `name` of the fuzz plugin with `config`; aborts on error
 * (for fixtures: a config the target wants to fuzz goes to sched_open). */
shim_sched *fuzz_sched(const char *name, const char *config);

/* The four built-in schedulers with their defaults, the composite as the
 * 0.7 / 0.2 / 0.1 blend of the others (or their vote when `vote`), for
 * targets that let the input pick one: out[0..3] = round-robin, priority,
 * hardware-aware, composite. */
void fuzz_four_scheds(shim_sched *out[4], int vote);

/* A fleet of the source tree's examples/ ("fleet.json",
 * "hetero/fleet.json"), converted once. */
void fuzz_fleet(const char *example, lbs_worker ***workers, uint32_t *n);

/* A few lines of examples/tests.jsonl (single, required backend with
 * features, sharded, replicated, deadline), converted once. */
void fuzz_workloads(const lbs_workload **wl, uint32_t *n);

/*
 * Select through the shim (which checks the answer and logs a bad one as
 * misbehaving, which aborts), then check what the host would act on:
 * LBS_OK or LBS_NO_WORKER only, a count within the capacity, a reason of
 * one line, and explain() writing one JSON object without NaN.  Returns
 * the select's status.
 */
lbs_status fuzz_select(shim_sched *s, const lbs_workload *wl,
                       lbs_worker *const *workers, uint32_t n);

/* stats() must write one well-formed JSON object when the slot exists. */
void fuzz_stats(shim_sched *s);

/* A refusal must explain itself in one line: err non-empty, terminated
 * within errlen, no control bytes, valid UTF-8, starting with `prefix`
 * when it is not NULL. */
void fuzz_check_error(const char *err, size_t errlen, const char *prefix, const char *what);

/* Does the config tree name a plugin file or a store directory that the
 * fuzzer must not touch, or ask for a store queue that would use up its
 * memory limit?  Store paths are allowed only as one lower-case letter or
 * digit (a directory in the sandbox), plugin paths never, queue_max up to
 * 2^20 (or above the plugin's own limit, which it refuses). */
int fuzz_config_unsafe(const char *text, size_t len);

#endif
