/*
 * convert.h -- the original framework's JSON records to ABI structs.
 *
 * Test requirements (test_id, test_type, minimum_memory GB, required_backend,
 * preferred_backend, expected_duration s, priority, required_accelerators,
 * required_software, custom_properties{...}) become an lbs_workload; worker
 * capabilities (worker_id, supported_backends, available_accelerators,
 * available_memory GB, cpu_cores, has_gpu, hardware_specs, optional "load"
 * and "devices") become an lbs_worker with its devices.  Field names are the
 * original's, so its users feed their data unchanged.
 *
 * Everything produced lives in the arena passed in.  Errors are one line:
 * "<where>: field '<name>': <problem>", where `where` is the caller's
 * location ("tests.jsonl:3", "fleet.json: workers[2]").  Unknown taxonomy
 * names are not errors: a backend or software name is kept by name (ABI 1.1
 * backend_names / required_backend_names), others go to `warn` and map to
 * OTHER.
 */
#ifndef LBS_CONVERT_H
#define LBS_CONVERT_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <lbsched/abi.h>

#include "arena.h"

typedef void (*conv_warn_fn)(void *ctx, const char *msg);

/* Warnings are capped, so that one record (200,000 unknown backend names)
 * or a stream of them cannot flood a log: at most CONV_WARN_RECORD per
 * record (a test, an outcome, a worker) and CONV_WARN_RUN per conv_warns,
 * the rest only counted. */
#define CONV_WARN_RECORD 10
#define CONV_WARN_RUN 100

/* A run's warnings (one command), shared by the conv_ctx of its records. */
typedef struct conv_warns {
	unsigned long shown, suppressed;
	/* Tests decided as mixed for a test_type with no workload word in
	 * it: a stream of them is one line (conv_warn_summary), not one a
	 * test, as decide --feedback says of its outcomes. */
	unsigned long wordless;
	char wordless_where[256], wordless_type[96];
} conv_warns;

typedef struct conv_ctx {
	arena *arena;      /* owns the results */
	conv_warn_fn warn; /* may be NULL */
	void *warn_ctx;
	char *err;         /* error sentence on failure */
	size_t errlen;
	/* May be NULL: then a record over its cap says so in one line of its
	 * own, since no summary follows. */
	conv_warns *warns;
} conv_ctx;

/* Exactly one JSON document in text (len bytes, NUL not needed): the root,
 * or NULL with "<where>: <problem>" in c->err naming the byte: not valid
 * JSON, nested deeper than cJSON's limit, or text after the document.  The
 * shim's documents and records are all parsed through here. */
cJSON *conv_parse(conv_ctx *c, const char *text, size_t len, const char *where);

/* The lines that end a run: its tests decided as mixed for a test_type
 * with no workload word, and, when its warnings were capped, "N more
 * warnings suppressed ...", through c->warn; nothing when there is none
 * (or none since the last summary). */
void conv_warn_summary(conv_ctx *c);

/* One test-requirements object to a workload.  0, or -1 with c->err set. */
int conv_workload(conv_ctx *c, const cJSON *obj, const char *where,
                  lbs_workload *out);

/* One worker-capabilities object to a worker.  0, or -1 with c->err set. */
int conv_worker(conv_ctx *c, const cJSON *obj, const char *where,
                lbs_worker *out);

/*
 * A fleet document: a JSON array of worker objects, or {"workers": [...]}.
 * `text` need not be NUL-terminated.  On success *workers points to an
 * arena array of *n pointers.  Duplicate or empty ids are errors; an empty
 * fleet is an error.  `file` names the document in messages.
 */
int conv_fleet(conv_ctx *c, const char *text, size_t len, const char *file,
               lbs_worker ***workers, uint32_t *n);

/* A fleet's ids sorted, for conv_fleet_has (free() it); NULL when out of
 * memory, which conv_fleet_has takes as a fleet that has every id, so that
 * nothing is said of ids then. */
const char **conv_fleet_ids(const lbs_worker *const *workers, uint32_t n);
int conv_fleet_has(const char *const *ids, uint32_t n, const char *id);

/* How many of wl's exclude_workers ids no worker of the fleet (ids, as
 * conv_fleet_ids gives them) has, and in *first the index of the first:
 * such an id excludes nothing, and is a typo more often than not (the
 * test goes to the very worker meant). */
uint32_t conv_excluded_absent(const lbs_workload *wl, const char *const *ids, uint32_t n,
                              uint32_t *first);

/*
 * Loads apart from capabilities, for a host that converts its fleet once
 * (conv_fleet) and sends only what changes per decision: each worker's
 * "load" (the Python binding).  Messages are conv_fleet's, "<file>:
 * workers[<i>]: field 'load.<name>': <problem>".
 *
 * conv_load_fields lists the fields a load object has, NULL-terminated.
 * The first CONV_LOAD_SLOTS are numbers (true/false as 1/0) and make the
 * numeric form, in this order; the rest come only in a JSON load:
 * reserved_accelerators (applied), then the original WorkerLoad's
 * bookkeeping, checked for its type only.
 */
enum { CONV_NUMBER, CONV_INTEGER, CONV_BOOL, CONV_STRING, CONV_SCALAR,
       CONV_ARRAY, CONV_OBJECT };

typedef struct conv_field {
	const char *name; /* first: the table doubles as a list of names */
	int kind;         /* CONV_NUMBER ... CONV_OBJECT; SCALAR: string or number */
	int flags;        /* CONV_NULLABLE */
	double hi;        /* numbers: in 0..hi */
	const char *unit; /* for the message, may be NULL */
} conv_field;

/*
 * Limits on what one document may ask of the converter's memory, so that
 * only the file size (file.h) bounds it, not the count of records alone:
 * a string is at most CONV_MAX_STRING bytes (a long pytest node id is a few
 * hundred), a fleet at most CONV_MAX_WORKERS workers and exclude_workers at
 * most CONV_MAX_EXCLUDE ids.  Beyond them the converter refuses the record.
 */
#define CONV_MAX_STRING 4096
#define CONV_MAX_WORKERS 1048576
#define CONV_MAX_EXCLUDE 65536

/* The longest duration or deadline a record may give, about 115 days:
 * past it a figure is a wrong unit or a broken clock, and squared (a
 * store keeps sums of squares) it would overflow to infinity and cost
 * the whole record it joined. */
#define CONV_MAX_SECONDS 1e7

#define CONV_LOAD_SLOTS 14
#define CONV_LOAD_GIVEN (UINT32_C(1) << 31) /* a load without any slot */
extern const conv_field conv_load_fields[];

/* Apply one load object to w, a worker conv_fleet made (or a copy of one),
 * as a "load" inside its record would have been; null or NULL: nothing.
 * `i` is the worker's position in the fleet.  0, or -1 with c->err set and
 * w unchanged. */
int conv_fleet_load(conv_ctx *c, const char *file, uint32_t i,
                    const cJSON *load, lbs_worker *w);

/* The same from numbers: `given` has bit k for each slot k given (and
 * CONV_LOAD_GIVEN for a load that gives none; 0 = no load), `vals` the
 * given slots' values in slot order, conv_load_count(given) of them. */
int conv_fleet_load_values(conv_ctx *c, const char *file, uint32_t i,
                           uint32_t given, const double *vals, lbs_worker *w);

/* How many values `given` has.  Inline, twice per worker per select of
 * a Python caller; and not __builtin_popcount, which is a call into
 * libgcc on targets without popcnt. */
static inline uint32_t conv_load_count(uint32_t given)
{
	uint32_t x = given & ((UINT32_C(1) << CONV_LOAD_SLOTS) - 1);

	x = x - ((x >> 1) & 0x55555555u);
	x = (x & 0x33333333u) + ((x >> 2) & 0x33333333u);
	x = (x + (x >> 4)) & 0x0f0f0f0fu;
	return (x * 0x01010101u) >> 24;
}

/* One outcome object ({"test_id", "worker_id", "success" | "result",
 * "duration" s, "status", "test_type", "workload_type", "expected_duration",
 * "cookie"}, or the original's WorkerAssignment whole) to an lbs_outcome.
 * What the top level leaves unsaid of the type and expected duration comes
 * from a WorkerAssignment's test_requirements, read as conv_workload reads
 * a test (workload_type over test_type; 60 s when it gives no
 * expected_duration); the top level's own expected_duration has no
 * default.  0, or -1 with c->err set. */
int conv_outcome(conv_ctx *c, const cJSON *obj, const char *where,
                 lbs_outcome *out);

/*
 * The same from JSON text (`len` bytes, NUL not needed) holding exactly one
 * object, e.g. one line of a JSON Lines file: anything else fails with
 * "<where>: not a JSON object".  0, or -1 with c->err set.
 */
int conv_workload_text(conv_ctx *c, const char *text, size_t len,
                       const char *where, lbs_workload *out);
/* conv_outcome_text, and whether the record said its type (test_type or
 * workload_type, at its top level or in its test_requirements): *said_type
 * 1 or 0; a record that did not is learned as MIXED unless its host knows
 * better. */
int conv_outcome_text_typed(conv_ctx *c, const char *text, size_t len, const char *where,
                            lbs_outcome *out, int *said_type);
int conv_outcome_text(conv_ctx *c, const char *text, size_t len,
                      const char *where, lbs_outcome *out);

/* The words a test_type is read by (taxonomy.c), for messages. */
#define CONV_WORKLOAD_WORDS                                                             \
	"vision, image, nlp, text, language, audio, speech, embedding, training, inference, " \
	"conversational, multi"

/* 1 when a record of this test_type, typed `type` (workload_type, or the
 * test_type's mapping), is mixed only because none of CONV_WORKLOAD_WORDS
 * is in it: a typo ("vison_...") its host should hear of.  A test so is
 * decided as mixed, an outcome learned as mixed, for good. */
int conv_type_wordless(const char *test_type, uint32_t type);
int conv_outcome_wordless(const lbs_outcome *o);

/*
 * Typed readers for the shim's other JSON documents (the simulator's truth
 * and mix files), with the same one-line messages
 * "<where>: field '<prefix.key>': <problem>".  Each returns 1 with a value,
 * 0 when the key is absent (or null with CONV_NULLABLE), -1 with c->err set.
 * Numbers must be finite and in lo..hi (`unit` only decorates the message).
 */
enum { CONV_REQUIRED = 1, CONV_NULLABLE = 2, CONV_NONEMPTY = 4 };

int conv_num(conv_ctx *c, const char *where, const cJSON *obj, const char *key,
             const char *prefix, double lo, double hi, const char *unit, int flags,
             double *out);
/* conv_num for a whole number, said as the records' converters say it. */
int conv_int(conv_ctx *c, const char *where, const cJSON *obj, const char *key,
             const char *prefix, double lo, double hi, int flags, double *out);
int conv_str(conv_ctx *c, const char *where, const cJSON *obj, const char *key,
             const char *prefix, int flags, const char **out);
int conv_obj(conv_ctx *c, const char *where, const cJSON *obj, const char *key,
             const char *prefix, int flags, const cJSON **out);
int conv_arr(conv_ctx *c, const char *where, const cJSON *obj, const char *key,
             const char *prefix, int flags, const cJSON **out);
/* A key given twice is an error; unknown keys (not in the NULL-terminated
 * `known`) are warnings.  0 or -1. */
int conv_keys(conv_ctx *c, const char *where, const cJSON *obj, const char *prefix,
              const char *const *known);
/* Set c->err to "<where>: field '<field>': <message>" (no field: "<where>:
 * <message>") and return -1. */
int conv_fail(conv_ctx *c, const char *where, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* A warning "<where>: <message>" through c->warn, counted as the
 * converter's own (at most CONV_WARN_RECORD a record). */
void conv_warn(conv_ctx *c, const char *where, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Input text made safe for a message: one line, bounded, UTF-8. */
const char *conv_show(char *dst, size_t n, const char *s);
/* What a JSON value is, for "got ...": a number, "a string", "an array". */
const char *conv_got(char *dst, size_t n, const cJSON *it);
/* A finite v as a JSON number in the fewest digits that read back as it:
 * cJSON's own print stops at 15 when they are "close enough" (0.1 + 0.2
 * came back as 0.3).  NULL when out of memory. */
cJSON *conv_exact_number(double v);
/* Every finite number in the tree under node printed so from now on
 * (replaced by conv_exact_number): 0, or -1 when out of memory. */
int conv_exact_numbers(cJSON *node);

#endif
