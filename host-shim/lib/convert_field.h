/*
 * convert_field.h -- what the converters of each record kind share (not a
 * public header: hosts include convert.h).  convert_field.c holds the field
 * machinery: messages, field paths, typed readers, taxonomy names; each
 * record kind has its own file: convert_workload.c (test requirements),
 * convert_worker.c (capabilities: workers, their devices, fleets),
 * convert_load.c (loads), convert_outcome.c (outcomes).
 *
 * Rules that run through every converter:
 *   - A value of the wrong type or out of range is an error, one line,
 *     "<where>: field '<path>': <problem>".  Ranges are finite and bounded so
 *     that no later arithmetic (GB -> bytes, counts x sizes) can overflow.
 *   - A name the taxonomy does not know is a warning.  In a precision or
 *     feature requirement it becomes OTHER, which no device satisfies, so
 *     the work is refused rather than placed somewhere the requirement was
 *     silently dropped (what the original did).  A backend or software name
 *     outside the taxonomy is kept as a name instead (ABI 1.1
 *     backend_names), lower-cased, and a requirement of it is met by a
 *     device that lists it; it is said all the same (a typo kept by name
 *     meets no requirement), in software_versions only when it is one
 *     typo from a backend's, as most software is no backend.  In a
 *     preference an unknown name is dropped, because a preference for
 *     OTHER would favour every other unparsed name by accident.
 *   - Unknown fields are warnings; a key given twice is an error, since
 *     which of the two a reader would see is not defined by JSON.
 *   - Text from the input is shown sanitised (one line, bounded, UTF-8),
 *     so a hostile record cannot forge log lines.
 *   - Results are built in locals and copied out only on success; every
 *     string they point to lives in the arena, none in the cJSON tree.
 *
 * The shared functions are named cv_*: the host library is linked into
 * other programs statically, where short names such as warn() would meet
 * libc's.  The small ones every field goes through are inline here.
 */
#ifndef LBS_CONVERT_FIELD_H
#define LBS_CONVERT_FIELD_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "convert.h"

#define GIB 1073741824.0
#define MAX_GB 1e6          /* memory sizes, in GB */
#define MAX_SECONDS CONV_MAX_SECONDS
#define MAX_COUNT 1e6       /* cores, accelerators, tests, units */
#define MAX_MHZ 1e6
#define MAX_WATTS 1e6
#define MAX_LOOSE 1e15      /* ignored informational quantities */
/* ignored times and ids (last_updated, active_test_ids): any unit down to
 * nanoseconds since 1970, any 64-bit id */
#define MAX_LOOSE_SCALAR 1e19
#define MAX_SHARDS 1024
#define MAX_ACCEL_KINDS 256
#define MAX_NAMES 4096      /* backend and software names of one record */
#define MAX_WARN_UNKNOWN 8  /* unknown fields named per object */

#if defined(__GNUC__)
#define PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define PRINTF(f, a)
#endif

/* Where a message points.  Inside a fleet the place is "<where>:
 * workers[<index>]", put together only when a message is written, since a
 * fleet is converted far more often than it is wrong. */
typedef struct cv {
	conv_ctx *c;
	const char *where;
	long index; /* -1: `where` alone */
	unsigned warned; /* by this record, for CONV_WARN_RECORD */
} cv;

#define CV(c, where) {(c), (where), -1, 0}

typedef struct path {
	char s[192];
} path;

/*
 * A field's path, kept in pieces and put together only for a message:
 * "<prefix>.<key>.<key2>[<idx>]", each piece optional.  The keys are
 * sanitised by cv_sub(); the prefix is the caller's text as it is.
 */
typedef struct fld {
	const char *prefix;
	const char *key;  /* NULL: the prefix alone */
	const char *key2; /* a key below `key` (accelerator kinds) */
	long idx;         /* >= 0: an array element */
} fld;

#define FLD(prefix, key) (&(fld){(prefix), (key), NULL, -1})

enum { REQUIRED = CONV_REQUIRED, NULLABLE = CONV_NULLABLE, NONEMPTY = CONV_NONEMPTY };

/* A value that is informational only: checked for a sane type, then
 * dropped.  "scalar" accepts a string or a number (timestamps). */
enum loose { L_STRING, L_NUMBER, L_INT, L_OBJECT, L_ARRAY, L_SCALAR };

enum setkind { S_BACKEND, S_PRECISION, S_FEATURE };

/* One name to its bit.  A requirement (or a capability) that is not known
 * becomes OTHER; a preference that is not known is dropped.  A backend a
 * worker offers outside the taxonomy is kept by name (unknown_backends),
 * and said as offered by name: NAMED_CAPABILITY. */
enum { REQUIREMENT = 0, PREFERENCE = 1, NAMED_CAPABILITY = 2 };

enum scalar { SC_CLASS, SC_ARCH, SC_VENDOR };

/*
 * A list of backend names outside the taxonomy (ABI 1.1 backend_names and
 * required_backend_names): lower-cased copies in the arena, each once.
 * `field` names the list's source for the bound's message.
 */
typedef struct names {
	const char **v;
	uint32_t n, cap;
} names;

/* ===== Inline: on every field ============================================ */

/* ASCII case-insensitive equality; strcasecmp() would follow the host's
 * locale, and these names are ASCII by definition. */
static inline int ieq(const char *a, const char *b)
{
	for (;; a++, b++) {
		int x = (unsigned char)*a, y = (unsigned char)*b;
		if (x >= 'A' && x <= 'Z')
			x += 'a' - 'A';
		if (y >= 'A' && y <= 'Z')
			y += 'a' - 'A';
		if (x != y)
			return 0;
		if (!x)
			return 1;
	}
}

/* cJSON_GetObjectItemCaseSensitive's answer (the first member of that
 * name), comparing the first byte before calling strcmp: most lookups are
 * for keys an object does not have. */
static inline const cJSON *item(const cJSON *obj, const char *key)
{
	if (!obj)
		return NULL;
	for (const cJSON *ch = obj->child; ch; ch = ch->next) {
		if (!ch->string)
			return NULL;
		if (ch->string[0] == key[0] && strcmp(ch->string, key) == 0)
			return ch;
	}
	return NULL;
}

static inline int num_in(double d, double lo, double hi, int integer)
{
	return isfinite(d) && d >= lo && d <= hi && (!integer || d == floor(d));
}

static inline uint64_t gb_bytes(double gb)
{
	double b = gb * GIB;

	/* Saturate: products of bounded inputs (GB x count) may pass 2^64. */
	if (!(b > 0))
		return 0;
	if (b >= 18446744073709551615.0)
		return UINT64_MAX;
	return (uint64_t)b;
}

static inline uint32_t u32_sat(double d)
{
	if (!(d > 0))
		return 0;
	if (d >= 4294967295.0)
		return UINT32_MAX;
	return (uint32_t)(d + 0.5);
}

/* ===== Messages (convert_field.c) =========================================
 * cv_fail() sets the error and returns -1; cv_warn() goes to the context's
 * warn callback, capped per record and per run (CONV_WARN_RECORD, _RUN).
 */
const char *cv_fmt_num(char *buf, size_t n, double d);
const char *cv_got(char *buf, size_t n, const cJSON *it);
PRINTF(3, 4) int cv_fail(cv *v, const char *field, const char *fmt, ...);
PRINTF(2, 3) void cv_warn(cv *v, const char *fmt, ...);
int cv_oom(cv *v);
const char *cv_sub(path *p, const char *prefix, const char *key);
const char *cv_fld_str(path *p, const fld *f);
PRINTF(3, 4) int cv_failf(cv *v, const fld *f, const char *fmt, ...);

/* ===== Typed readers (convert_field.c) ====================================
 * Each returns 1 with a value, 0 when the key is absent (or null where null
 * is allowed), -1 after cv_fail().
 */
int cv_absent(cv *v, const cJSON *it, const fld *f, int flags, const char *what);
int cv_num_bad(cv *v, const fld *f, double lo, double hi, const char *unit, int integer,
               const char *g);
int cv_num_value(cv *v, const cJSON *it, const fld *f, double lo, double hi,
                 const char *unit, int integer, double *out);
int cv_get_num(cv *v, const cJSON *obj, const char *key, const char *prefix, double lo,
               double hi, const char *unit, int flags, double *out);
int cv_get_int(cv *v, const cJSON *obj, const char *key, const char *prefix, double lo,
               double hi, int flags, double *out);
int cv_bool_value(cv *v, const cJSON *it, const fld *f, int *out);
int cv_get_bool(cv *v, const cJSON *obj, const char *key, const char *prefix, int flags,
                int *out);
int cv_str_value(cv *v, const cJSON *it, const fld *f, int flags, const char **out);
int cv_get_str(cv *v, const cJSON *obj, const char *key, const char *prefix, int flags,
               const char **out);
int cv_kind_value(cv *v, const cJSON *it, const fld *f, int flags, int array);
int cv_get_obj(cv *v, const cJSON *obj, const char *key, const char *prefix, int flags,
               const cJSON **out);
int cv_get_arr(cv *v, const cJSON *obj, const char *key, const char *prefix, int flags,
               const cJSON **out);
int cv_loose(cv *v, const cJSON *obj, const char *key, const char *prefix, enum loose kind);
int cv_check_names(cv *v, const cJSON *obj, const char *prefix, const char *const *known,
                   size_t stride, int warn_unknown);
int cv_check_keys(cv *v, const cJSON *obj, const char *prefix, const char *const *known,
                  int warn_unknown);

/* ===== Taxonomy names and shared fields (convert_field.c) ================= */
void cv_named(cv *v, const char *field, const char *what, const char *name);
uint64_t cv_name_bit(cv *v, const fld *f, enum setkind k, const char *name, int preference);
int cv_name_set(cv *v, const cJSON *obj, const char *key, const char *prefix,
                enum setkind k, int preference, uint64_t *out);
int cv_scalar_name(cv *v, const cJSON *obj, const char *key, const char *prefix,
                   enum scalar k, int preference, uint32_t *out);
char *cv_lower_dup(arena *a, const char *s);
int cv_accel_map(cv *v, const cJSON *obj, const char *key, const char *prefix,
                 const char *const **kinds_out, const uint32_t **counts_out, uint32_t *n_out);
int cv_names_add(cv *v, names *l, const char *field, const char *name);
int cv_key_name(cv *v, const fld *map, const fld *field, const char *name,
                const char *what);
int cv_work_type(cv *v, const cJSON *obj, const char *prefix, const char **test_type,
                 uint32_t *type);
void cv_wordless(cv *v, const char *test_type);
int cv_work_duration(cv *v, const cJSON *obj, const char *prefix, double *out);
cJSON *cv_parse_object(conv_ctx *c, const char *text, size_t len, const char *where);

/* ===== Between record kinds ===============================================
 * A worker's "load" inside its record goes through the loads' own reader
 * (convert_load.c).
 */
int cv_load_apply(cv *v, const cJSON *ld, uint32_t given, const double *vals, lbs_worker *w);

#endif
