/*
 * convert.c -- the original framework's JSON records to ABI structs.
 *
 * Rules that run through the whole file:
 *   - A value of the wrong type or out of range is an error, one line,
 *     "<where>: field '<path>': <problem>".  Ranges are finite and bounded so
 *     that no later arithmetic (GB -> bytes, counts x sizes) can overflow.
 *   - A name the taxonomy does not know is a warning.  In a precision or
 *     feature requirement it becomes OTHER, which no device satisfies, so
 *     the work is refused rather than placed somewhere the requirement was
 *     silently dropped (what the original did).  A backend or software name
 *     outside the taxonomy is kept as a name instead (ABI 1.1
 *     backend_names), lower-cased, and a requirement of it is met by a
 *     device that lists it.  In a preference an unknown name is dropped,
 *     because a preference for OTHER would favour every other unparsed name
 *     by accident.
 *   - Unknown fields are warnings; a key given twice is an error, since
 *     which of the two a reader would see is not defined by JSON.
 *   - Text from the input is shown sanitised (one line, bounded, UTF-8),
 *     so a hostile record cannot forge log lines.
 *   - Results are built in locals and copied out only on success; every
 *     string they point to lives in the arena, none in the cJSON tree.
 */
#include "convert.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "taxonomy.h"
#include "text.h"

#define GIB 1073741824.0
#define MAX_GB 1e6          /* memory sizes, in GB */
#define MAX_SECONDS 1e7     /* durations and deadlines, ~115 days */
#define MAX_COUNT 1e6       /* cores, accelerators, tests, units */
#define MAX_MHZ 1e6
#define MAX_WATTS 1e6
#define MAX_LOOSE 1e15      /* ignored informational quantities */
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

/* ===== Messages =========================================================== */

/* Shortest text that reads back as the same double. */
static const char *fmt_num(char *buf, size_t n, double d)
{
	if (isnan(d))
		snprintf(buf, n, "nan");
	else if (isinf(d))
		snprintf(buf, n, d > 0 ? "inf" : "-inf");
	else if (d == floor(d) && fabs(d) < 1e15)
		snprintf(buf, n, "%.0f", d);
	else {
		snprintf(buf, n, "%.15g", d);
		if (strtod(buf, NULL) != d)
			snprintf(buf, n, "%.17g", d);
	}
	return buf;
}

/* What a value is, for "got ..." */
static const char *got(char *buf, size_t n, const cJSON *it)
{
	char tmp[160];

	if (!it)
		snprintf(buf, n, "nothing");
	else if (cJSON_IsNumber(it))
		fmt_num(buf, n, it->valuedouble);
	else if (cJSON_IsString(it))
		snprintf(buf, n, "\"%s\"", txt_show(tmp, sizeof tmp, it->valuestring));
	else if (cJSON_IsTrue(it))
		snprintf(buf, n, "true");
	else if (cJSON_IsFalse(it))
		snprintf(buf, n, "false");
	else if (cJSON_IsNull(it))
		snprintf(buf, n, "null");
	else if (cJSON_IsArray(it))
		snprintf(buf, n, "an array");
	else if (cJSON_IsObject(it))
		snprintf(buf, n, "an object");
	else
		snprintf(buf, n, "an invalid value");
	return buf;
}

/* The same 256 bytes conv_fleet always gave a worker's place. */
static const char *where_of(const cv *v, char buf[256])
{
	if (v->index < 0)
		return v->where;
	snprintf(buf, 256, "%s: workers[%ld]", v->where, v->index);
	return buf;
}

PRINTF(3, 0)
static int vfail(cv *v, const char *field, const char *fmt, va_list ap)
{
	conv_ctx *c = v->c;
	char msg[512], wbuf[256];
	const char *where;

	if (!c->err || c->errlen == 0)
		return -1;
	vsnprintf(msg, sizeof msg, fmt, ap);
	where = where_of(v, wbuf);
	if (field)
		snprintf(c->err, c->errlen, "%s: field '%s': %s", where, field, msg);
	else
		snprintf(c->err, c->errlen, "%s: %s", where, msg);
	return -1;
}

PRINTF(3, 4)
static int fail(cv *v, const char *field, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vfail(v, field, fmt, ap);
	va_end(ap);
	return r;
}

PRINTF(2, 3)
static void warn(cv *v, const char *fmt, ...)
{
	conv_ctx *c = v->c;
	char msg[512], line[1024], wbuf[256];
	va_list ap;

	if (!c->warn)
		return;
	if (++v->warned > CONV_WARN_RECORD || (c->warns && c->warns->shown >= CONV_WARN_RUN)) {
		if (c->warns)
			c->warns->suppressed++;
		else if (v->warned == CONV_WARN_RECORD + 1) {
			snprintf(line, sizeof line, "%s: more warnings about this record suppressed "
			         "(%d shown)", where_of(v, wbuf), CONV_WARN_RECORD);
			c->warn(c->warn_ctx, line);
		}
		return;
	}
	if (c->warns)
		c->warns->shown++;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	snprintf(line, sizeof line, "%s: %s", where_of(v, wbuf), msg);
	c->warn(c->warn_ctx, line);
}

static int oom(cv *v)
{
	return fail(v, NULL, "out of memory");
}

/* ASCII case-insensitive equality; strcasecmp() would follow the host's
 * locale, and these names are ASCII by definition. */
static int ieq(const char *a, const char *b)
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

/* ===== Field paths ======================================================== */

typedef struct path {
	char s[192];
} path;

/* Append, cutting at the end of the buffer: a path is only for a message,
 * and a cut one still names the place. */
static void cat(path *p, const char *s)
{
	size_t o = strlen(p->s);

	while (*s && o + 1 < sizeof p->s)
		p->s[o++] = *s++;
	p->s[o] = '\0';
}

/* "prefix.key", or "key" without a prefix; the key is sanitised because
 * some keys (accelerator kinds, unknown fields) come from the input. */
static const char *sub(path *p, const char *prefix, const char *key)
{
	char k[160];

	p->s[0] = '\0';
	if (prefix && *prefix) {
		cat(p, prefix);
		cat(p, ".");
	}
	cat(p, txt_show(k, sizeof k, key));
	return p->s;
}

/*
 * A field's path, kept in pieces and put together only for a message:
 * "<prefix>.<key>.<key2>[<idx>]", each piece optional.  The keys are
 * sanitised by sub(); the prefix is the caller's text as it is.
 */
typedef struct fld {
	const char *prefix;
	const char *key;  /* NULL: the prefix alone */
	const char *key2; /* a key below `key` (accelerator kinds) */
	long idx;         /* >= 0: an array element */
} fld;

#define FLD(prefix, key) (&(fld){(prefix), (key), NULL, -1})

static const char *fld_str(path *p, const fld *f)
{
	char k[160], n[32];

	if (f->key) {
		sub(p, f->prefix, f->key);
	} else {
		p->s[0] = '\0';
		cat(p, f->prefix ? f->prefix : "");
	}
	if (f->key2) {
		cat(p, ".");
		cat(p, txt_show(k, sizeof k, f->key2));
	}
	if (f->idx >= 0) {
		snprintf(n, sizeof n, "[%ld]", f->idx);
		cat(p, n);
	}
	return p->s;
}

PRINTF(3, 4)
static int failf(cv *v, const fld *f, const char *fmt, ...)
{
	path p;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vfail(v, fld_str(&p, f), fmt, ap);
	va_end(ap);
	return r;
}

/* ===== Typed readers ======================================================
 * Each returns 1 with a value, 0 when the key is absent (or null where null
 * is allowed), -1 after fail().  The field's path is put together only when
 * a message needs it.
 */

enum { REQUIRED = CONV_REQUIRED, NULLABLE = CONV_NULLABLE, NONEMPTY = CONV_NONEMPTY };

/* cJSON_GetObjectItemCaseSensitive's answer (the first member of that
 * name), comparing the first byte before calling strcmp: most lookups are
 * for keys an object does not have. */
static const cJSON *item(const cJSON *obj, const char *key)
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

static int absent(cv *v, const cJSON *it, const fld *f, int flags,
                  const char *what)
{
	if (it && !(cJSON_IsNull(it) && (flags & NULLABLE)))
		return 0;
	if (flags & REQUIRED)
		return failf(v, f, "is required (%s)", what);
	return 1;
}

static int num_in(double d, double lo, double hi, int integer)
{
	return isfinite(d) && d >= lo && d <= hi && (!integer || d == floor(d));
}

/* `g` is what was given, as got() or fmt_num() wrote it. */
static int num_bad(cv *v, const fld *f, double lo, double hi,
                   const char *unit, int integer, const char *g)
{
	char a[40], b[40];

	fmt_num(a, sizeof a, lo);
	fmt_num(b, sizeof b, hi);
	return failf(v, f, "must be %s in %s..%s%s%s, got %s",
	             integer ? "an integer" : "a finite number", a, b,
	             unit ? " " : "", unit ? unit : "", g);
}

static int num_value(cv *v, const cJSON *it, const fld *f, double lo,
                     double hi, const char *unit, int integer, double *out)
{
	char g[200];

	if (cJSON_IsNumber(it) && num_in(it->valuedouble, lo, hi, integer)) {
		*out = it->valuedouble;
		return 1;
	}
	return num_bad(v, f, lo, hi, unit, integer, got(g, sizeof g, it));
}

static int get_num(cv *v, const cJSON *obj, const char *key,
                   const char *prefix, double lo, double hi,
                   const char *unit, int flags, double *out)
{
	const fld f = {prefix, key, NULL, -1};
	const cJSON *it = item(obj, key);
	int r = absent(v, it, &f, flags, "a number");

	if (r)
		return r < 0 ? -1 : 0;
	return num_value(v, it, &f, lo, hi, unit, 0, out);
}

static int get_int(cv *v, const cJSON *obj, const char *key,
                   const char *prefix, double lo, double hi, int flags,
                   double *out)
{
	const fld f = {prefix, key, NULL, -1};
	const cJSON *it = item(obj, key);
	int r = absent(v, it, &f, flags, "an integer");

	if (r)
		return r < 0 ? -1 : 0;
	return num_value(v, it, &f, lo, hi, NULL, 1, out);
}

static int bool_value(cv *v, const cJSON *it, const fld *f, int *out)
{
	char g[200];

	if (!cJSON_IsBool(it))
		return failf(v, f, "must be true or false, got %s",
		             got(g, sizeof g, it));
	*out = cJSON_IsTrue(it) ? 1 : 0;
	return 1;
}

static int get_bool(cv *v, const cJSON *obj, const char *key,
                    const char *prefix, int flags, int *out)
{
	const fld f = {prefix, key, NULL, -1};
	const cJSON *it = item(obj, key);
	int r = absent(v, it, &f, flags, "true or false");

	if (r)
		return r < 0 ? -1 : 0;
	return bool_value(v, it, &f, out);
}

static int str_value(cv *v, const cJSON *it, const fld *f, int flags,
                     const char **out)
{
	char g[200];

	if (!cJSON_IsString(it) || !it->valuestring ||
	    ((flags & NONEMPTY) && !*it->valuestring))
		return failf(v, f, "must be a %sstring%s, got %s",
		             flags & NONEMPTY ? "non-empty " : "",
		             flags & NULLABLE ? " or null" : "",
		             got(g, sizeof g, it));
	if (strlen(it->valuestring) > CONV_MAX_STRING)
		return failf(v, f, "is %zu bytes long, more than %d",
		             strlen(it->valuestring), CONV_MAX_STRING);
	if (!txt_utf8_valid(it->valuestring))
		return failf(v, f, "must be valid UTF-8, got %s",
		             got(g, sizeof g, it));
	*out = it->valuestring;
	return 1;
}

static int get_str(cv *v, const cJSON *obj, const char *key,
                   const char *prefix, int flags, const char **out)
{
	const fld f = {prefix, key, NULL, -1};
	const cJSON *it = item(obj, key);
	int r = absent(v, it, &f, flags,
	               flags & NONEMPTY ? "a non-empty string" : "a string");

	if (r)
		return r < 0 ? -1 : 0;
	return str_value(v, it, &f, flags, out);
}

/* An object or array that is there (null only where NULLABLE allows it). */
static int kind_value(cv *v, const cJSON *it, const fld *f, int flags,
                      int array)
{
	char g[200];

	if (array ? !cJSON_IsArray(it) : !cJSON_IsObject(it))
		return failf(v, f, "must be %s%s, got %s",
		             array ? "an array" : "an object",
		             flags & NULLABLE ? " or null" : "",
		             got(g, sizeof g, it));
	return 1;
}

/* An object or array member; *out is NULL when absent. */
static int get_kind(cv *v, const cJSON *obj, const char *key,
                    const char *prefix, int flags, int array,
                    const cJSON **out)
{
	const fld f = {prefix, key, NULL, -1};
	const cJSON *it = item(obj, key);
	int r = absent(v, it, &f, flags, array ? "an array" : "an object");

	*out = NULL;
	if (r)
		return r < 0 ? -1 : 0;
	if (kind_value(v, it, &f, flags, array) < 0)
		return -1;
	*out = it;
	return 1;
}

static int get_obj(cv *v, const cJSON *obj, const char *key,
                   const char *prefix, int flags, const cJSON **out)
{
	return get_kind(v, obj, key, prefix, flags, 0, out);
}

static int get_arr(cv *v, const cJSON *obj, const char *key,
                   const char *prefix, int flags, const cJSON **out)
{
	return get_kind(v, obj, key, prefix, flags, 1, out);
}

/* A value that is informational only: checked for a sane type, then
 * dropped.  "scalar" accepts a string or a number (timestamps). */
enum loose { L_STRING, L_NUMBER, L_INT, L_OBJECT, L_ARRAY, L_SCALAR };

static int loose(cv *v, const cJSON *obj, const char *key, const char *prefix,
                 enum loose kind)
{
	char g[200];
	const cJSON *it = item(obj, key);
	const cJSON *dummy;
	const char *s;
	double d;

	if (!it || cJSON_IsNull(it))
		return 0;
	switch (kind) {
	case L_STRING:
		return get_str(v, obj, key, prefix, NULLABLE, &s) < 0 ? -1 : 0;
	case L_NUMBER:
		return get_num(v, obj, key, prefix, 0, MAX_LOOSE, NULL,
		               NULLABLE, &d) < 0 ? -1 : 0;
	case L_INT:
		return get_int(v, obj, key, prefix, 0, MAX_COUNT, NULLABLE,
		               &d) < 0 ? -1 : 0;
	case L_OBJECT:
		return get_obj(v, obj, key, prefix, NULLABLE, &dummy) < 0 ? -1 : 0;
	case L_ARRAY:
		return get_arr(v, obj, key, prefix, NULLABLE, &dummy) < 0 ? -1 : 0;
	case L_SCALAR:
		if (cJSON_IsString(it) || cJSON_IsNumber(it))
			return 0;
		return failf(v, FLD(prefix, key),
		             "must be a string or a number, got %s",
		             got(g, sizeof g, it));
	}
	return 0;
}

/* The key's position in a NULL-terminated list of names `stride` bytes
 * apart (an array of names, or the names in a table of structs), or -1. */
static int in_list(const char *key, const char *const *list, size_t stride)
{
	const char *at = (const char *)list;

	for (int i = 0;; i++, at += stride) {
		const char *name = *(const char *const *)(const void *)at;
		if (!name)
			return -1;
		if (name[0] == key[0] && strcmp(key, name) == 0)
			return i;
	}
}

/*
 * Reject a known key given twice; warn about unknown keys when asked (free-
 * form bags such as custom_properties are not warned about).  The second
 * occurrence is the one reported; the first 64 known keys are remembered
 * in a bit set, the rest (long lists from conv_keys callers) looked up.
 */
static int check_names(cv *v, const cJSON *obj, const char *prefix,
                       const char *const *known, size_t stride,
                       int warn_unknown)
{
	uint64_t seen = 0;
	int unknown = 0;
	path p;

	for (const cJSON *ch = obj->child; ch; ch = ch->next) {
		const char *k = ch->string ? ch->string : "";
		int i = in_list(k, known, stride);
		if (i >= 0) {
			int twice = i < 64 ? (seen >> i) & 1 : item(obj, k) != ch;
			if (twice)
				return fail(v, sub(&p, prefix, k),
				            "is given more than once");
			if (i < 64)
				seen |= UINT64_C(1) << i;
		} else if (warn_unknown && ++unknown <= MAX_WARN_UNKNOWN) {
			warn(v, "unknown field '%s' ignored", sub(&p, prefix, k));
		}
	}
	if (unknown > MAX_WARN_UNKNOWN)
		warn(v, "%d more unknown fields ignored",
		     unknown - MAX_WARN_UNKNOWN);
	return 0;
}

static int check_keys(cv *v, const cJSON *obj, const char *prefix,
                      const char *const *known, int warn_unknown)
{
	return check_names(v, obj, prefix, known, sizeof *known, warn_unknown);
}

/* ===== Taxonomy names ===================================================== */

enum setkind { S_BACKEND, S_PRECISION, S_FEATURE };

static const char *const set_word[] = {"backend", "precision", "feature"};

static uint64_t set_parse(enum setkind k, const char *name)
{
	switch (k) {
	case S_BACKEND:
		return tax_backend_parse(name);
	case S_PRECISION:
		return tax_precision_parse(name);
	case S_FEATURE:
		return tax_feature_parse(name);
	}
	return 0;
}

static uint64_t set_other(enum setkind k)
{
	switch (k) {
	case S_BACKEND:
		return LBS_BACKEND_OTHER;
	case S_PRECISION:
		return LBS_PREC_OTHER;
	case S_FEATURE:
		return LBS_FEAT_OTHER;
	}
	return 0;
}

/* One name to its bit.  A requirement (or a capability) that is not known
 * becomes OTHER; a preference that is not known is dropped.  A backend a
 * worker offers outside the taxonomy is kept by name (unknown_backends),
 * so it is not warned about: NAMED_CAPABILITY. */
enum { REQUIREMENT = 0, PREFERENCE = 1, NAMED_CAPABILITY = 2 };

static uint64_t name_bit(cv *v, const fld *f, enum setkind k,
                         const char *name, int preference)
{
	char s[160];
	path p;
	uint64_t bit = set_parse(k, name);

	if (bit)
		return bit;
	if (preference == NAMED_CAPABILITY && k == S_BACKEND)
		return set_other(k);
	if (preference == PREFERENCE) {
		warn(v, "field '%s': unknown %s '%s', preference ignored",
		     fld_str(&p, f), set_word[k], txt_show(s, sizeof s, name));
		return 0;
	}
	warn(v, "field '%s': unknown %s '%s', treated as OTHER",
	     fld_str(&p, f), set_word[k], txt_show(s, sizeof s, name));
	return set_other(k);
}

/* An array of names to a bit set; `listed` (may be NULL) gets the bits of
 * known names only, so a caller can tell OTHER from the others. */
static int name_set(cv *v, const cJSON *obj, const char *key,
                    const char *prefix, enum setkind k, int preference,
                    uint64_t *out)
{
	const cJSON *arr;
	const char *name;
	fld f = {prefix, key, NULL, 0};
	int r = get_arr(v, obj, key, prefix, NULLABLE, &arr);

	if (r <= 0)
		return r;
	for (const cJSON *e = arr->child; e; e = e->next, f.idx++) {
		if (str_value(v, e, &f, NONEMPTY, &name) < 0)
			return -1;
		*out |= name_bit(v, &f, k, name, preference);
	}
	return 1;
}

enum scalar { SC_CLASS, SC_ARCH, SC_VENDOR };

/* A class / architecture / vendor name.  Unknown: a class becomes UNKNOWN
 * (it has no OTHER), the others OTHER; as a preference, "none". */
static int scalar_name(cv *v, const cJSON *obj, const char *key,
                       const char *prefix, enum scalar k, int preference,
                       uint32_t *out)
{
	static const char *const word[] = {"hardware class", "architecture",
	                                   "vendor"};
	path p;
	char s[160];
	const char *name;
	int r = get_str(v, obj, key, prefix, NULLABLE | NONEMPTY, &name);

	if (r <= 0)
		return r;
	int val = k == SC_CLASS  ? tax_class_parse(name)
	          : k == SC_ARCH ? tax_arch_parse(name)
	                         : tax_vendor_parse(name);
	if (val >= 0) {
		*out = (uint32_t)val;
		return 1;
	}
	if (preference) {
		warn(v, "field '%s': unknown %s '%s', preference ignored",
		     sub(&p, prefix, key), word[k], txt_show(s, sizeof s, name));
		*out = 0;
		return 1;
	}
	*out = k == SC_CLASS  ? LBS_CLASS_UNKNOWN
	       : k == SC_ARCH ? LBS_ARCH_OTHER
	                      : LBS_VENDOR_OTHER;
	warn(v, "field '%s': unknown %s '%s', treated as %s",
	     sub(&p, prefix, key), word[k], txt_show(s, sizeof s, name),
	     k == SC_CLASS ? "UNKNOWN" : "OTHER");
	return 1;
}

/* ===== Small helpers ====================================================== */

static uint64_t gb_bytes(double gb)
{
	double b = gb * GIB;

	/* Saturate: products of bounded inputs (GB x count) may pass 2^64. */
	if (!(b > 0))
		return 0;
	if (b >= 18446744073709551615.0)
		return UINT64_MAX;
	return (uint64_t)b;
}

static uint32_t u32_sat(double d)
{
	if (!(d > 0))
		return 0;
	if (d >= 4294967295.0)
		return UINT32_MAX;
	return (uint32_t)(d + 0.5);
}

static char *lower_dup(arena *a, const char *s)
{
	char *p = arena_strdup(a, s);

	for (char *q = p; q && *q; q++)
		if (*q >= 'A' && *q <= 'Z')
			*q = (char)(*q - 'A' + 'a');
	return p;
}

/*
 * An object of accelerator kind -> integer count: kinds lower-cased (the
 * ABI compares them as lower-case names), zero counts dropped, a kind given
 * twice in any case an error.  Outputs may be NULL to only check.
 */
static int accel_map(cv *v, const cJSON *obj, const char *key,
                     const char *prefix, const char *const **kinds_out,
                     const uint32_t **counts_out, uint32_t *n_out)
{
	const cJSON *m;
	const fld base = {prefix, key, NULL, -1};
	int r = get_obj(v, obj, key, prefix, 0, &m);
	size_t n = 0, k = 0;

	if (r <= 0)
		return r;
	for (const cJSON *e = m->child; e; e = e->next)
		n++;
	if (n > MAX_ACCEL_KINDS)
		return failf(v, &base, "has %zu kinds, more than %d", n,
		             MAX_ACCEL_KINDS);
	const char **kinds = NULL;
	uint32_t *counts = NULL;
	if (kinds_out && n) {
		kinds = arena_alloc(v->c->arena, n * sizeof *kinds);
		counts = arena_alloc(v->c->arena, n * sizeof *counts);
		if (!kinds || !counts)
			return oom(v);
	}
	for (const cJSON *e = m->child; e; e = e->next) {
		const char *kind = e->string ? e->string : "";
		const fld field = {prefix, key, kind, -1};
		double d;
		if (!*kind)
			return failf(v, &base, "has an empty accelerator kind");
		if (!txt_utf8_valid(kind))
			return failf(v, &field, "the kind must be valid UTF-8");
		if (num_value(v, e, &field, 0, MAX_COUNT, NULL, 1, &d) < 0)
			return -1;
		for (const cJSON *f = m->child; f != e; f = f->next)
			if (ieq(f->string ? f->string : "", kind))
				return failf(v, &field,
				             "accelerator kind given more than "
				             "once (kinds ignore case)");
		if (!kinds || d == 0)
			continue;
		kinds[k] = lower_dup(v->c->arena, kind);
		if (!kinds[k])
			return oom(v);
		counts[k++] = (uint32_t)d;
	}
	if (kinds_out) {
		*kinds_out = k ? kinds : NULL;
		*counts_out = k ? counts : NULL;
		*n_out = (uint32_t)k;
	}
	return 1;
}

static uint32_t accel_count(const char *const *kinds, const uint32_t *counts,
                            uint32_t n, const char *kind)
{
	for (uint32_t i = 0; i < n; i++)
		if (strcmp(kinds[i], kind) == 0)
			return counts[i];
	return 0;
}

/*
 * A list of backend names outside the taxonomy (ABI 1.1 backend_names and
 * required_backend_names): lower-cased copies in the arena, each once.
 * `field` names the list's source for the bound's message.
 */
typedef struct names {
	const char **v;
	uint32_t n, cap;
} names;

static int names_add(cv *v, names *l, const char *field, const char *name)
{
	char *low = lower_dup(v->c->arena, name);

	if (!low)
		return oom(v);
	for (uint32_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], low) == 0)
			return 0;
	if (l->n == MAX_NAMES)
		return fail(v, field, "gives more than %d backend and software "
		                      "names", MAX_NAMES);
	if (l->n == l->cap) {
		uint32_t cap = l->cap ? 2 * l->cap : 8;
		const char **nv = arena_alloc(v->c->arena, cap * sizeof *nv);

		if (!nv)
			return oom(v);
		if (l->n)
			memcpy(nv, l->v, l->n * sizeof *nv);
		l->v = nv;
		l->cap = cap;
	}
	l->v[l->n++] = low;
	return 0;
}

/* The names of an array of backend names that the taxonomy does not know
 * (their bits, OTHER, come from name_set). */
static int unknown_backends(cv *v, const cJSON *obj, const char *key,
                            const char *prefix, names *l)
{
	const cJSON *arr = item(obj, key);
	path p;

	for (const cJSON *e = cJSON_IsArray(arr) ? arr->child : NULL; e; e = e->next)
		if (cJSON_IsString(e) && !tax_backend_parse(e->valuestring) &&
		    names_add(v, l, sub(&p, prefix, key), e->valuestring) < 0)
			return -1;
	return 0;
}

/* ===== Workloads ========================================================== */

static const char *const workload_keys[] = {
	"test_id", "model_id", "model_family", "test_type", "workload_type",
	"minimum_memory", "required_memory_limit", "preferred_backend",
	"required_backend", "expected_duration", "priority",
	"required_accelerators", "required_accelerator_limit",
	"required_software", "timeout", "retries", "concurrency_key",
	"deadline", "exclude_workers", "custom_properties", NULL,
};

static const char *const custom_keys[] = {
	"is_shardable", "min_shards", "max_shards", "allocation_strategy",
	"preferred_class", "preferred_architecture", "preferred_vendors",
	"preferred_backends", "required_precisions", "required_features",
	"metrics", "deadline", "workload_profile", NULL,
};

/* The metrics the ABI carries, in lbs_workload order... */
static const char *const metric_names[] = {
	"compute_intensity", "memory_intensity", "io_intensity",
	"network_intensity", "latency_sensitivity", "throughput_sensitivity",
	"energy_sensitivity",
};

/* ...and the original's others, which have no place in the ABI. */
static const char *const metric_unused[] = {
	"model_size", "batch_size", "parallelism", "temperature", NULL,
};

static double *metric_slot(lbs_workload *w, size_t i)
{
	double *slots[] = {
		&w->compute_intensity,   &w->memory_intensity,
		&w->io_intensity,        &w->network_intensity,
		&w->latency_sensitivity, &w->throughput_sensitivity,
		&w->energy_sensitivity,
	};
	return slots[i];
}

static int metrics(cv *v, const cJSON *cp, lbs_workload *w)
{
	const char *prefix = "custom_properties.metrics";
	const cJSON *m;
	unsigned seen = 0;
	path p;
	int r = get_obj(v, cp, "metrics", "custom_properties", NULLABLE, &m);

	if (r <= 0)
		return r;
	for (const cJSON *e = m->child; e; e = e->next) {
		const char *k = e->string ? e->string : "";
		const fld field = {prefix, k, NULL, -1};
		size_t i;
		double d;

		for (i = 0; i < sizeof metric_names / sizeof *metric_names; i++)
			if (ieq(k, metric_names[i]))
				break;
		if (i == sizeof metric_names / sizeof *metric_names) {
			int unused = 0;
			for (const char *const *u = metric_unused; *u; u++)
				unused |= ieq(k, *u);
			if (!unused)
				return failf(v, &field,
				             "unknown metric (known: "
				             "compute_intensity, memory_intensity, "
				             "io_intensity, network_intensity, "
				             "latency_sensitivity, "
				             "throughput_sensitivity, "
				             "energy_sensitivity)");
			if (num_value(v, e, &field, 0, 1, NULL, 0, &d) < 0)
				return -1;
			warn(v, "field '%s': metric not used by lbsched, ignored",
			     fld_str(&p, &field));
			continue;
		}
		if (seen & (1u << i))
			return failf(v, &field, "metric given more than once "
			                        "(names ignore case)");
		seen |= 1u << i;
		if (num_value(v, e, &field, 0, 1, NULL, 0, &d) < 0)
			return -1;
		*metric_slot(w, i) = d;
	}
	return 1;
}

/* Deadline at top level or in custom_properties; both is ambiguous unless
 * they agree. */
static int deadline(cv *v, const cJSON *obj, const cJSON *cp, double *out)
{
	double top = 0, inner = 0;
	int rt = get_num(v, obj, "deadline", NULL, 0, MAX_SECONDS, "s",
	                 NULLABLE, &top);
	int ri = cp ? get_num(v, cp, "deadline", "custom_properties", 0,
	                      MAX_SECONDS, "s", NULLABLE, &inner)
	            : 0;

	if (rt < 0 || ri < 0)
		return -1;
	if (rt > 0 && ri > 0 && top != inner)
		return fail(v, "custom_properties.deadline",
		            "disagrees with the top-level deadline");
	*out = rt > 0 ? top : ri > 0 ? inner : 0;
	return 0;
}

static int custom_properties(cv *v, const cJSON *cp, lbs_workload *w)
{
	const char *pre = "custom_properties";
	const char *strategy = NULL;
	char s[160];
	int shardable = 0;
	double min = 1, max = 1;
	uint64_t set;
	int rmin, rmax, fell_back = 0;

	if (check_keys(v, cp, pre, custom_keys, 0) < 0)
		return -1;
	if (item(cp, "workload_profile"))
		warn(v, "field 'custom_properties.workload_profile': not "
		        "supported by lbsched, ignored (give the fields "
		        "directly)");
	if (get_bool(v, cp, "is_shardable", pre, NULLABLE, &shardable) < 0)
		return -1;
	rmin = get_int(v, cp, "min_shards", pre, 1, MAX_SHARDS, NULLABLE, &min);
	if (rmin < 0)
		return -1;
	rmax = get_int(v, cp, "max_shards", pre, 1, MAX_SHARDS, NULLABLE, &max);
	if (rmax < 0)
		return -1;
	if (!rmax)
		max = min; /* "min_shards: 2" alone means exactly two */
	if (max < min)
		return fail(v, "custom_properties.max_shards",
		            "must be >= min_shards (%.0f), got %.0f", min, max);
	if (get_str(v, cp, "allocation_strategy", pre, NULLABLE, &strategy) < 0)
		return -1;

	w->allocation = LBS_ALLOC_SINGLE;
	if (strategy && ieq(strategy, "sharded")) {
		if (shardable) {
			w->allocation = LBS_ALLOC_SHARDED;
		} else {
			warn(v, "field 'custom_properties.allocation_strategy': "
			        "'sharded' without is_shardable true, placed on "
			        "a single worker");
			fell_back = 1;
		}
	} else if (strategy && ieq(strategy, "replicated")) {
		w->allocation = LBS_ALLOC_REPLICATED;
	} else if (strategy && !ieq(strategy, "single")) {
		return fail(v, "custom_properties.allocation_strategy",
		            "must be \"single\", \"sharded\" or \"replicated\", "
		            "got \"%s\"", txt_show(s, sizeof s, strategy));
	}
	if (w->allocation == LBS_ALLOC_SINGLE) {
		if (!fell_back && rmin > 0 && min != 1)
			warn(v, "field 'custom_properties.min_shards': ignored, "
			        "the workload runs on a single worker");
		if (!fell_back && rmax > 0 && max != 1)
			warn(v, "field 'custom_properties.max_shards': ignored, "
			        "the workload runs on a single worker");
		w->min_shards = w->max_shards = 1;
	} else {
		w->min_shards = (uint32_t)min;
		w->max_shards = (uint32_t)max;
	}

	if (scalar_name(v, cp, "preferred_class", pre, SC_CLASS, 1,
	                &w->preferred_class) < 0 ||
	    scalar_name(v, cp, "preferred_architecture", pre, SC_ARCH, 1,
	                &w->preferred_arch) < 0)
		return -1;

	/* Vendors are a set of (1 << vendor), not a taxonomy bit set. */
	const cJSON *vendors;
	if (get_arr(v, cp, "preferred_vendors", pre, NULLABLE, &vendors) < 0)
		return -1;
	size_t i = 0;
	for (const cJSON *e = vendors ? vendors->child : NULL; e; e = e->next, i++) {
		path p;
		const char *name;
		const fld field = {"custom_properties.preferred_vendors", NULL,
		                   NULL, (long)i};
		if (str_value(v, e, &field, NONEMPTY, &name) < 0)
			return -1;
		int vd = tax_vendor_parse(name);
		if (vd < 0)
			warn(v, "field '%s': unknown vendor '%s', preference "
			        "ignored", fld_str(&p, &field),
			     txt_show(s, sizeof s, name));
		else
			w->preferred_vendors |= UINT64_C(1) << vd;
	}

	set = 0;
	if (name_set(v, cp, "preferred_backends", pre, S_BACKEND, 1, &set) < 0)
		return -1;
	w->preferred_backends |= set;
	set = 0;
	if (name_set(v, cp, "required_precisions", pre, S_PRECISION, 0, &set) < 0)
		return -1;
	w->required_precisions = (uint32_t)set;
	set = 0;
	if (name_set(v, cp, "required_features", pre, S_FEATURE, 0, &set) < 0)
		return -1;
	w->required_features = (uint32_t)set;
	return metrics(v, cp, w) < 0 ? -1 : 0;
}

/* A required backend outside the taxonomy: required by name. */
static int require_name(cv *v, const fld *f, const char *what,
                        const char *name, names *req)
{
	path p;
	char s[160];

	warn(v, "field '%s': %s '%s' is not in the taxonomy, required by name",
	     fld_str(&p, f), what, txt_show(s, sizeof s, name));
	return names_add(v, req, fld_str(&p, f), name);
}

static int required_software(cv *v, const cJSON *obj, lbs_workload *w,
                             names *req)
{
	const cJSON *m;
	const char *ver;
	int r = get_obj(v, obj, "required_software", NULL, 0, &m);

	if (r <= 0)
		return r;
	for (const cJSON *e = m->child; e; e = e->next) {
		const char *name = e->string ? e->string : "";
		const fld field = {"required_software", name, NULL, -1};
		if (str_value(v, e, &field, 0, &ver) < 0)
			return -1;
		if (!*name)
			return failf(v, FLD(NULL, "required_software"),
			             "has an empty software name");
		if (!txt_utf8_valid(name))
			return failf(v, &field, "the name must be valid UTF-8");
		uint64_t bit = tax_backend_parse(name);
		if (bit)
			w->required_backends |= bit;
		else if (require_name(v, &field, "required_software", name, req) < 0)
			return -1;
	}
	return 0;
}

static int exclude_workers(cv *v, const cJSON *obj, lbs_workload *w)
{
	const cJSON *arr;
	size_t n = 0, i = 0;
	int r = get_arr(v, obj, "exclude_workers", NULL, NULLABLE, &arr);

	if (r <= 0)
		return r;
	for (const cJSON *e = arr->child; e; e = e->next)
		n++;
	if (!n)
		return 0;
	if (n > CONV_MAX_EXCLUDE)
		return fail(v, "exclude_workers", "lists %zu ids, more than %d", n,
		            CONV_MAX_EXCLUDE);
	const char **ids = arena_alloc(v->c->arena, n * sizeof *ids);
	if (!ids)
		return oom(v);
	for (const cJSON *e = arr->child; e; e = e->next, i++) {
		const char *id;
		const fld field = {"exclude_workers", NULL, NULL, (long)i};
		if (str_value(v, e, &field, NONEMPTY, &id) < 0)
			return -1;
		if (!(ids[i] = arena_strdup(v->c->arena, id)))
			return oom(v);
	}
	w->exclude_ids = ids;
	w->n_exclude = (uint32_t)n;
	return 0;
}

/* A backend name in required_backend / preferred_backend: "" means none,
 * as it did in the original (a falsy string).  A required one outside the
 * taxonomy goes to `req` (NULL for a preference). */
static int one_backend(cv *v, const cJSON *obj, const char *key,
                       names *req, uint64_t *out)
{
	const char *name;
	int r = get_str(v, obj, key, NULL, NULLABLE, &name);

	if (r <= 0 || !*name)
		return r < 0 ? -1 : 0;
	if (req && !tax_backend_parse(name))
		return require_name(v, FLD(NULL, key), "backend", name, req);
	*out |= name_bit(v, FLD(NULL, key), S_BACKEND, name,
	                 req ? REQUIREMENT : PREFERENCE);
	return 0;
}

/* "test_type" (kept, and mapped to a workload type) and an explicit
 * "workload_type" that overrides the mapping; shared by tests and outcomes. */
static int work_type(cv *v, const cJSON *obj, const char **test_type, uint32_t *type)
{
	const char *s = NULL;
	char g[200];

	if (get_str(v, obj, "test_type", NULL, NULLABLE, &s) < 0)
		return -1;
	if (s && !(*test_type = arena_strdup(v->c->arena, s)))
		return oom(v);
	*type = tax_workload_from_test_type(*test_type);
	s = NULL;
	if (get_str(v, obj, "workload_type", NULL, NULLABLE | NONEMPTY, &s) < 0)
		return -1;
	if (s) {
		int t = tax_workload_parse(s);
		if (t < 0)
			return fail(v, "workload_type",
			            "unknown workload type \"%s\" (one of VISION, "
			            "NLP, AUDIO, MULTIMODAL, TRAINING, INFERENCE, "
			            "EMBEDDING, CONVERSATIONAL, MIXED)",
			            txt_show(g, sizeof g, s));
		*type = (uint32_t)t;
	}
	return 0;
}

int conv_workload(conv_ctx *c, const cJSON *obj, const char *where,
                  lbs_workload *out)
{
	cv v = CV(c, where ? where : "workload");
	cv *vp = &v;
	lbs_workload w;
	names req = {NULL, 0, 0};
	const char *s = NULL;
	const cJSON *cp = NULL;
	double d, gb = 0.5, dur = 60, prio = 3;
	char g[200];

	if (!c || !out)
		return -1;
	if (!cJSON_IsObject(obj))
		return fail(vp, NULL, "must be a JSON object, got %s",
		            got(g, sizeof g, obj));
	memset(&w, 0, sizeof w);
	w.struct_size = sizeof w;
	w.min_shards = w.max_shards = 1;
	w.io_intensity = w.network_intensity = 0.5;
	w.latency_sensitivity = w.throughput_sensitivity = 0.5;

	if (check_keys(vp, obj, NULL, workload_keys, 1) < 0)
		return -1;

	if (get_str(vp, obj, "test_id", NULL, REQUIRED | NONEMPTY, &s) < 0)
		return -1;
	if (!(w.id = arena_strdup(c->arena, s)))
		return oom(vp);
	s = NULL;
	if (get_str(vp, obj, "model_id", NULL, NULLABLE, &s) < 0)
		return -1;
	if (s && !(w.model_id = arena_strdup(c->arena, s)))
		return oom(vp);
	if (loose(vp, obj, "model_family", NULL, L_STRING) < 0)
		return -1;
	s = NULL;
	if (work_type(vp, obj, &w.test_type, &w.type) < 0)
		return -1;

	if (get_num(vp, obj, "minimum_memory", NULL, 0, MAX_GB, "GB", 0, &gb) < 0)
		return -1;
	w.min_memory_bytes = gb_bytes(gb);
	w.memory_intensity = gb / 16 < 1 ? gb / 16 : 1;

	/* Original fields the ABI has no use for: checked, not warned. */
	if (get_num(vp, obj, "required_memory_limit", NULL, 0, MAX_GB, "GB", 0,
	            &d) < 0 ||
	    get_num(vp, obj, "timeout", NULL, 0, MAX_SECONDS, "s", 0, &d) < 0 ||
	    get_int(vp, obj, "retries", NULL, 0, MAX_COUNT, 0, &d) < 0 ||
	    loose(vp, obj, "concurrency_key", NULL, L_STRING) < 0 ||
	    accel_map(vp, obj, "required_accelerator_limit", NULL, NULL, NULL,
	              NULL) < 0)
		return -1;

	if (one_backend(vp, obj, "required_backend", &req, &w.required_backends) < 0 ||
	    one_backend(vp, obj, "preferred_backend", NULL, &w.preferred_backends) < 0)
		return -1;

	if (get_num(vp, obj, "expected_duration", NULL, 0, MAX_SECONDS, "s", 0,
	            &dur) < 0)
		return -1;
	w.est_duration_s = dur;
	w.compute_intensity = dur > 120 ? 0.8 : dur < 10 ? 0.3 : 0.5;

	if (get_int(vp, obj, "priority", NULL, 1, 5, 0, &prio) < 0)
		return -1;
	w.priority = (uint32_t)prio;

	if (accel_map(vp, obj, "required_accelerators", NULL,
	              &w.required_accel_kinds, &w.required_accel_counts,
	              &w.n_required_accels) < 0)
		return -1;
	if (required_software(vp, obj, &w, &req) < 0 ||
	    exclude_workers(vp, obj, &w) < 0)
		return -1;
	w.required_backend_names = req.v;
	w.n_required_backend_names = req.n;

	if (get_obj(vp, obj, "custom_properties", NULL, NULLABLE, &cp) < 0)
		return -1;
	if (cp && custom_properties(vp, cp, &w) < 0)
		return -1;
	if (deadline(vp, obj, cp, &w.deadline_s) < 0)
		return -1;

	*out = w;
	return 0;
}

/* ===== Workers ============================================================ */

static const char *const worker_keys[] = {
	"worker_id", "hostname", "hardware_specs", "software_versions",
	"supported_backends", "browser_support", "has_gpu", "has_webgpu",
	"has_webnn", "network_bandwidth", "storage_capacity",
	"available_accelerators", "available_memory", "available_disk",
	"cpu_cores", "cpu_threads", "last_updated", "capacity", "devices",
	"load", NULL,
};

static const char *const spec_keys[] = {
	"cpu_arch", "architecture", "cpu_vendor", "cpu_clock_mhz",
	"cpu_features", "cpu_tdp_watts", "total_memory_gb", "gpu_vendor",
	"gpu_name", "gpu_memory_gb", "gpu_compute_units", "gpu_clock_mhz",
	"gpu_tensor_cores", "gpu_tdp_watts", "tpu_cores", "tpu_memory_gb",
	"npu_vendor", "npu_compute_units", "npu_memory_gb", NULL,
};

static const char *const device_keys[] = {
	"class", "architecture", "vendor", "model_name", "backends",
	"precisions", "features", "memory_gb", "memory_available_gb",
	"compute_units", "clock_mhz", "tdp_watts", NULL,
};

/* What hardware_specs says; -1 = not given, since valid values are >= 0. */
struct specs {
	uint32_t cpu_arch, cpu_vendor, gpu_vendor, npu_vendor;
	int has_cpu_arch, has_cpu_vendor, has_gpu_vendor, has_npu_vendor;
	double cpu_clock, cpu_tdp, total_mem_gb;
	uint32_t cpu_features;
	const char *gpu_name;
	double gpu_mem_gb, gpu_cu, gpu_clock, gpu_tdp;
	int gpu_tensor; /* -1 not given */
	double tpu_cores, tpu_mem_gb;
	double npu_cu, npu_mem_gb;
};

static int hardware_specs(cv *v, const cJSON *obj, struct specs *sp)
{
	const char *pre = "hardware_specs";
	const cJSON *hs;
	uint64_t feats = 0;
	int r;

	sp->cpu_clock = sp->cpu_tdp = sp->total_mem_gb = -1;
	sp->gpu_mem_gb = sp->gpu_cu = sp->gpu_clock = sp->gpu_tdp = -1;
	sp->tpu_cores = sp->tpu_mem_gb = sp->npu_cu = sp->npu_mem_gb = -1;
	sp->gpu_tensor = -1;
	r = get_obj(v, obj, "hardware_specs", NULL, NULLABLE, &hs);
	if (r <= 0)
		return r;
	if (check_keys(v, hs, pre, spec_keys, 0) < 0)
		return -1;

	r = scalar_name(v, hs, "cpu_arch", pre, SC_ARCH, 0, &sp->cpu_arch);
	if (r == 0)
		r = scalar_name(v, hs, "architecture", pre, SC_ARCH, 0,
		                &sp->cpu_arch);
	if (r < 0)
		return -1;
	sp->has_cpu_arch = r > 0;
	if ((r = scalar_name(v, hs, "cpu_vendor", pre, SC_VENDOR, 0,
	                     &sp->cpu_vendor)) < 0)
		return -1;
	sp->has_cpu_vendor = r > 0;
	if ((r = scalar_name(v, hs, "gpu_vendor", pre, SC_VENDOR, 0,
	                     &sp->gpu_vendor)) < 0)
		return -1;
	sp->has_gpu_vendor = r > 0;
	if ((r = scalar_name(v, hs, "npu_vendor", pre, SC_VENDOR, 0,
	                     &sp->npu_vendor)) < 0)
		return -1;
	sp->has_npu_vendor = r > 0;
	if (name_set(v, hs, "cpu_features", pre, S_FEATURE, 0, &feats) < 0)
		return -1;
	sp->cpu_features = (uint32_t)feats;
	if (get_str(v, hs, "gpu_name", pre, NULLABLE, &sp->gpu_name) < 0 ||
	    get_bool(v, hs, "gpu_tensor_cores", pre, NULLABLE, &sp->gpu_tensor) < 0)
		return -1;

	struct {
		const char *key;
		double hi;
		const char *unit;
		int integer;
		double *out;
	} nums[] = {
		{"cpu_clock_mhz", MAX_MHZ, "MHz", 0, &sp->cpu_clock},
		{"cpu_tdp_watts", MAX_WATTS, "W", 0, &sp->cpu_tdp},
		{"total_memory_gb", MAX_GB, "GB", 0, &sp->total_mem_gb},
		{"gpu_memory_gb", MAX_GB, "GB", 0, &sp->gpu_mem_gb},
		{"gpu_compute_units", MAX_COUNT, NULL, 1, &sp->gpu_cu},
		{"gpu_clock_mhz", MAX_MHZ, "MHz", 0, &sp->gpu_clock},
		{"gpu_tdp_watts", MAX_WATTS, "W", 0, &sp->gpu_tdp},
		{"tpu_cores", MAX_COUNT, NULL, 1, &sp->tpu_cores},
		{"tpu_memory_gb", MAX_GB, "GB", 0, &sp->tpu_mem_gb},
		{"npu_compute_units", MAX_COUNT, NULL, 1, &sp->npu_cu},
		{"npu_memory_gb", MAX_GB, "GB", 0, &sp->npu_mem_gb},
	};
	for (size_t i = 0; i < sizeof nums / sizeof *nums; i++) {
		r = nums[i].integer
		        ? get_int(v, hs, nums[i].key, pre, 0, nums[i].hi,
		                  NULLABLE, nums[i].out)
		        : get_num(v, hs, nums[i].key, pre, 0, nums[i].hi,
		                  nums[i].unit, NULLABLE, nums[i].out);
		if (r < 0)
			return -1;
	}
	return 0;
}

static lbs_device *dev_new(cv *v, uint32_t cls, const char *model)
{
	lbs_device *d = arena_alloc(v->c->arena, sizeof *d);

	if (!d)
		return NULL;
	d->struct_size = sizeof *d;
	d->hw_class = cls;
	d->model_name = arena_strdup(v->c->arena, model);
	return d->model_name ? d : NULL;
}

static const char *first_name(uint64_t set, const uint64_t *order, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (set & order[i])
			return tax_backend_name(order[i]);
	return NULL;
}

#define FRAMEWORKS                                                            \
	(LBS_BACKEND_PYTORCH | LBS_BACKEND_TENSORFLOW | LBS_BACKEND_ONNX |    \
	 LBS_BACKEND_OPENVINO | LBS_BACKEND_TVM | LBS_BACKEND_TFLITE |        \
	 LBS_BACKEND_COREML | LBS_BACKEND_DIRECTML | LBS_BACKEND_NNAPI)
#define GPU_RUNTIMES                                                          \
	(LBS_BACKEND_CUDA | LBS_BACKEND_ROCM | LBS_BACKEND_MPS |               \
	 LBS_BACKEND_METAL | LBS_BACKEND_GPU | LBS_BACKEND_TENSORRT)

struct facts {
	uint64_t listed; /* supported_backends as bits, OTHER for unknown */
	int has_gpu, has_webgpu, has_webnn;
	double mem_gb, cpu_cores;
	const char *const *kinds;
	const uint32_t *counts;
	uint32_t n_kinds;
};

/*
 * One device per kind of hardware the record reveals (the original made one
 * per backend string, so ["cuda","gpu"] became two GPUs, and matched "gpu"
 * inside "webgpu", so browsers became CUDA GPUs: bug F3).
 */
static int derive(cv *v, const struct facts *f, const struct specs *sp,
                  lbs_device **devs, uint32_t *n_out)
{
	uint64_t L = f->listed;
	uint64_t fw = L & FRAMEWORKS;
	uint64_t mem = gb_bytes(f->mem_gb);
	lbs_device *cpu = NULL, *rest[4];
	uint32_t n_rest = 0;
	char model[64];

	if (!fw)
		fw = LBS_BACKEND_PYTORCH | LBS_BACKEND_TENSORFLOW | LBS_BACKEND_ONNX;

	uint32_t gpus = accel_count(f->kinds, f->counts, f->n_kinds, "gpu");
	uint32_t cudas = accel_count(f->kinds, f->counts, f->n_kinds, "cuda");
	if ((L & GPU_RUNTIMES) || f->has_gpu || gpus || cudas) {
		static const uint64_t order[] = {
			LBS_BACKEND_CUDA, LBS_BACKEND_TENSORRT, LBS_BACKEND_ROCM,
			LBS_BACKEND_MPS, LBS_BACKEND_METAL,
		};
		double count = gpus ? gpus : cudas ? cudas : 1;
		const char *rt = first_name(L, order, sizeof order / sizeof *order);
		snprintf(model, sizeof model, "GPU%s%s", rt ? "-" : "",
		         rt ? rt : "");
		lbs_device *d = dev_new(v, LBS_CLASS_GPU,
		                        sp->gpu_name ? sp->gpu_name : model);
		if (!d)
			return oom(v);
		if (L & (LBS_BACKEND_CUDA | LBS_BACKEND_TENSORRT)) {
			d->vendor = LBS_VENDOR_NVIDIA;
			d->arch = LBS_ARCH_GPU_CUDA;
		} else if (L & LBS_BACKEND_ROCM) {
			d->vendor = LBS_VENDOR_AMD;
			d->arch = LBS_ARCH_GPU_ROCM;
		} else if (L & (LBS_BACKEND_MPS | LBS_BACKEND_METAL)) {
			d->vendor = LBS_VENDOR_APPLE;
			d->arch = LBS_ARCH_GPU_METAL;
		} else {
			d->vendor = sp->has_gpu_vendor ? sp->gpu_vendor
			                               : LBS_VENDOR_UNKNOWN;
			d->arch = LBS_ARCH_UNKNOWN;
		}
		d->backends = LBS_BACKEND_GPU | (L & GPU_RUNTIMES) | fw |
		              (L & (LBS_BACKEND_VULKAN | LBS_BACKEND_OPENCL));
		d->precisions = LBS_PREC_FP32 | LBS_PREC_FP16 | LBS_PREC_INT8;
		d->features = LBS_FEAT_COMPUTE_SHADERS | LBS_FEAT_SIMT;
		if (sp->gpu_tensor == 1 ||
		    (sp->gpu_tensor < 0 && d->arch == LBS_ARCH_GPU_CUDA)) {
			d->features |= LBS_FEAT_TENSOR_CORES;
			d->precisions |= LBS_PREC_BF16;
		}
		d->compute_units = u32_sat((sp->gpu_cu >= 0 ? sp->gpu_cu : 80) * count);
		d->clock_mhz = u32_sat(sp->gpu_clock >= 0 ? sp->gpu_clock : 1500);
		d->mem_total_bytes = sp->gpu_mem_gb >= 0
		                             ? gb_bytes(sp->gpu_mem_gb * count)
		                             : mem;
		d->mem_available_bytes = d->mem_total_bytes;
		d->tdp_watts = u32_sat((sp->gpu_tdp >= 0 ? sp->gpu_tdp : 250) * count);
		rest[n_rest++] = d;
	}

	uint32_t tpus = accel_count(f->kinds, f->counts, f->n_kinds, "tpu");
	if ((L & LBS_BACKEND_TPU) || tpus) {
		double count = tpus ? tpus : 1;
		lbs_device *d = dev_new(v, LBS_CLASS_TPU, "TPU");
		if (!d)
			return oom(v);
		d->vendor = LBS_VENDOR_GOOGLE;
		d->arch = LBS_ARCH_TPU;
		d->backends = LBS_BACKEND_TPU | LBS_BACKEND_TENSORFLOW |
		              LBS_BACKEND_ONNX | (L & LBS_BACKEND_PYTORCH);
		d->precisions = LBS_PREC_FP32 | LBS_PREC_BF16 | LBS_PREC_INT8;
		d->features = LBS_FEAT_TENSOR_CORES;
		d->compute_units = u32_sat(sp->tpu_cores >= 0 ? sp->tpu_cores
		                                              : 8 * count);
		d->clock_mhz = 1000;
		d->mem_total_bytes = sp->tpu_mem_gb >= 0 ? gb_bytes(sp->tpu_mem_gb)
		                                         : mem;
		d->mem_available_bytes = d->mem_total_bytes;
		d->tdp_watts = 200;
		rest[n_rest++] = d;
	}

	uint32_t npus = accel_count(f->kinds, f->counts, f->n_kinds, "npu");
	if ((L & (LBS_BACKEND_NPU | LBS_BACKEND_QNN | LBS_BACKEND_NNAPI)) || npus) {
		static const uint64_t order[] = {LBS_BACKEND_QNN, LBS_BACKEND_NNAPI};
		const char *rt = first_name(L, order, 2);
		snprintf(model, sizeof model, "NPU%s%s", rt ? "-" : "",
		         rt ? rt : "");
		lbs_device *d = dev_new(v, LBS_CLASS_NPU, model);
		if (!d)
			return oom(v);
		d->vendor = sp->has_npu_vendor       ? sp->npu_vendor
		            : (L & LBS_BACKEND_QNN) ? LBS_VENDOR_QUALCOMM
		                                    : LBS_VENDOR_UNKNOWN;
		d->arch = d->vendor == LBS_VENDOR_QUALCOMM   ? LBS_ARCH_NPU_QUALCOMM
		          : d->vendor == LBS_VENDOR_MEDIATEK ? LBS_ARCH_NPU_MEDIATEK
		          : d->vendor == LBS_VENDOR_SAMSUNG  ? LBS_ARCH_NPU_SAMSUNG
		                                             : LBS_ARCH_OTHER;
		d->backends = LBS_BACKEND_NPU | LBS_BACKEND_ONNX |
		              (L & (LBS_BACKEND_QNN | LBS_BACKEND_NNAPI |
		                    LBS_BACKEND_TFLITE));
		d->precisions = LBS_PREC_FP32 | LBS_PREC_FP16 | LBS_PREC_INT8 |
		                LBS_PREC_INT4;
		d->features = LBS_FEAT_QUANTIZATION;
		d->compute_units = u32_sat(sp->npu_cu >= 0 ? sp->npu_cu : 4);
		d->clock_mhz = 800;
		d->mem_total_bytes = sp->npu_mem_gb >= 0 ? gb_bytes(sp->npu_mem_gb)
		                                         : mem;
		d->mem_available_bytes = d->mem_total_bytes;
		d->tdp_watts = 5;
		rest[n_rest++] = d;
	}

	int webgpu = (L & LBS_BACKEND_WEBGPU) || f->has_webgpu;
	int webnn = (L & LBS_BACKEND_WEBNN) || f->has_webnn;
	if (webgpu || webnn) {
		lbs_device *d = dev_new(v, LBS_CLASS_HYBRID,
		                        webgpu ? "Browser-webgpu" : "Browser-webnn");
		uint64_t two = (uint64_t)2 << 30;
		if (!d)
			return oom(v);
		d->arch = webgpu ? LBS_ARCH_GPU_WEBGPU : LBS_ARCH_OTHER;
		d->vendor = LBS_VENDOR_OTHER;
		d->backends = (webgpu ? LBS_BACKEND_WEBGPU : 0) |
		              (webnn ? LBS_BACKEND_WEBNN : 0);
		d->precisions = LBS_PREC_FP32 | LBS_PREC_FP16;
		d->features = LBS_FEAT_COMPUTE_SHADERS;
		d->compute_units = 2;
		d->clock_mhz = 1000;
		d->mem_total_bytes = mem < two ? mem : two;
		d->mem_available_bytes = d->mem_total_bytes;
		d->tdp_watts = 15;
		rest[n_rest++] = d;
	}

	/* A worker that says "cpu" can run plain CPU work even when it did not
	 * report a core count. */
	if (f->cpu_cores > 0 || (L & LBS_BACKEND_CPU) || n_rest == 0) {
		double cores = f->cpu_cores > 1 ? f->cpu_cores : 1;
		snprintf(model, sizeof model, "CPU-%.0fcores", cores);
		cpu = dev_new(v, LBS_CLASS_CPU, model);
		if (!cpu)
			return oom(v);
		cpu->arch = sp->has_cpu_arch ? sp->cpu_arch : LBS_ARCH_UNKNOWN;
		cpu->vendor = sp->has_cpu_vendor ? sp->cpu_vendor
		                                 : LBS_VENDOR_UNKNOWN;
		cpu->backends = LBS_BACKEND_CPU | fw;
		cpu->precisions = LBS_PREC_FP32 | LBS_PREC_INT8;
		cpu->features = LBS_FEAT_SIMD | sp->cpu_features;
		cpu->compute_units = u32_sat(cores);
		cpu->clock_mhz = u32_sat(sp->cpu_clock >= 0 ? sp->cpu_clock : 2500);
		cpu->mem_total_bytes = sp->total_mem_gb >= 0
		                               ? gb_bytes(sp->total_mem_gb)
		                               : mem;
		cpu->mem_available_bytes = mem;
		cpu->tdp_watts = u32_sat(sp->cpu_tdp >= 0 ? sp->cpu_tdp : 65);
	}

	uint32_t n = 0;
	if (cpu)
		devs[n++] = cpu;
	for (uint32_t i = 0; i < n_rest; i++)
		devs[n++] = rest[i];

	/* Backends no rule placed (vulkan, opencl, frameworks on a browser-
	 * only record...): the CPU can host them; without one, say so rather
	 * than drop them quietly. */
	uint64_t placed = 0;
	for (uint32_t i = 0; i < n; i++)
		placed |= devs[i]->backends;
	uint64_t left = L & ~placed & ~LBS_BACKEND_OTHER;
	if (cpu) {
		cpu->backends |= left;
	} else {
		for (int b = 0; b < 63; b++) {
			uint64_t bit = UINT64_C(1) << b;
			if (left & bit)
				warn(v, "field 'supported_backends': backend '%s' "
				        "fits none of the devices derived for this "
				        "worker, ignored (describe them in "
				        "\"devices\")",
				     tax_backend_name(bit));
		}
	}
	if (L & LBS_BACKEND_OTHER)
		(cpu ? cpu : devs[0])->backends |= LBS_BACKEND_OTHER;
	*n_out = n;
	return 0;
}

/* `l` as a device's backend names. */
static void set_names(lbs_device *d, const names *l)
{
	d->backend_names = l->n ? l->v : NULL;
	d->n_backend_names = l->n;
}

/*
 * software_versions (name -> version): the names outside the taxonomy, for
 * every device of the worker, since software is installed on the host, not
 * on one of its devices.  The versions are informational (the original
 * never compared them either).
 */
static int software_names(cv *v, const cJSON *obj, names *l)
{
	const cJSON *m;
	int r = get_obj(v, obj, "software_versions", NULL, NULLABLE, &m);

	if (r <= 0)
		return r;
	for (const cJSON *e = m->child; e; e = e->next) {
		const char *name = e->string ? e->string : "";
		const fld field = {"software_versions", name, NULL, -1};

		if (!*name)
			return failf(v, FLD(NULL, "software_versions"),
			             "has an empty software name");
		if (!txt_utf8_valid(name))
			return failf(v, &field, "the name must be valid UTF-8");
		if (strlen(name) > CONV_MAX_STRING)
			return failf(v, FLD(NULL, "software_versions"),
			             "has a name %zu bytes long, more than %d",
			             strlen(name), CONV_MAX_STRING);
		if (!tax_backend_parse(name) &&
		    names_add(v, l, "software_versions", name) < 0)
			return -1;
	}
	return 0;
}

/* An explicit device's names: the worker's software, plus the device's
 * own backends outside the taxonomy (in a copy, so that devices do not
 * share what they add). */
static int device_names(cv *v, const cJSON *dev, const char *pre,
                        const names *software, lbs_device *d)
{
	const cJSON *arr = item(dev, "backends");
	names own = {NULL, 0, 0};
	int unknown = 0;

	for (const cJSON *e = cJSON_IsArray(arr) ? arr->child : NULL; e; e = e->next)
		unknown |= cJSON_IsString(e) && !tax_backend_parse(e->valuestring);
	if (!unknown) {
		set_names(d, software);
		return 0;
	}
	if (software->n) {
		own.v = arena_alloc(v->c->arena, software->n * sizeof *own.v);
		if (!own.v)
			return oom(v);
		memcpy(own.v, software->v, software->n * sizeof *own.v);
		own.n = own.cap = software->n;
	}
	if (unknown_backends(v, dev, "backends", pre, &own) < 0)
		return -1;
	set_names(d, &own);
	return 0;
}

static int explicit_devices(cv *v, const cJSON *arr, const names *software,
                            lbs_device ***out, uint32_t *n_out)
{
	size_t n = 0, i = 0;
	path p;

	for (const cJSON *e = arr->child; e; e = e->next)
		n++;
	if (!n)
		return fail(v, "devices", "must list at least one device");
	if (n > 4096)
		return fail(v, "devices", "lists %zu devices, more than 4096", n);
	lbs_device **devs = arena_alloc(v->c->arena, n * sizeof *devs);
	if (!devs)
		return oom(v);
	for (const cJSON *e = arr->child; e; e = e->next, i++) {
		char pre[32];
		char g[200];
		const char *name = NULL;
		uint64_t set;
		double total = -1, avail = -1, cu = 0, clock = 0, tdp = 0;
		int rt, ra;

		snprintf(pre, sizeof pre, "devices[%zu]", i);
		if (!cJSON_IsObject(e))
			return fail(v, pre, "must be an object, got %s",
			            got(g, sizeof g, e));
		if (check_keys(v, e, pre, device_keys, 1) < 0)
			return -1;
		if (get_str(v, e, "model_name", pre, NULLABLE, &name) < 0)
			return -1;
		lbs_device *d = arena_alloc(v->c->arena, sizeof *d);
		if (!d || (name && !(d->model_name = arena_strdup(v->c->arena, name))))
			return oom(v);
		d->struct_size = sizeof *d;
		if (scalar_name(v, e, "class", pre, SC_CLASS, 0, &d->hw_class) < 0 ||
		    scalar_name(v, e, "architecture", pre, SC_ARCH, 0, &d->arch) < 0 ||
		    scalar_name(v, e, "vendor", pre, SC_VENDOR, 0, &d->vendor) < 0)
			return -1;
		set = 0;
		if (name_set(v, e, "backends", pre, S_BACKEND, NAMED_CAPABILITY,
		             &set) < 0 ||
		    device_names(v, e, pre, software, d) < 0)
			return -1;
		d->backends = set;
		set = 0;
		if (name_set(v, e, "precisions", pre, S_PRECISION, 0, &set) < 0)
			return -1;
		d->precisions = (uint32_t)set;
		set = 0;
		if (name_set(v, e, "features", pre, S_FEATURE, 0, &set) < 0)
			return -1;
		d->features = (uint32_t)set;
		rt = get_num(v, e, "memory_gb", pre, 0, MAX_GB, "GB", 0, &total);
		ra = get_num(v, e, "memory_available_gb", pre, 0, MAX_GB, "GB", 0,
		             &avail);
		if (rt < 0 || ra < 0)
			return -1;
		if (rt > 0 && ra > 0 && avail > total)
			return fail(v, sub(&p, pre, "memory_available_gb"),
			            "must be <= memory_gb (%s)",
			            fmt_num(g, sizeof g, total));
		if (!rt)
			total = ra > 0 ? avail : 0;
		if (!ra)
			avail = total;
		d->mem_total_bytes = gb_bytes(total);
		d->mem_available_bytes = gb_bytes(avail);
		if (get_int(v, e, "compute_units", pre, 0, MAX_COUNT, 0, &cu) < 0 ||
		    get_num(v, e, "clock_mhz", pre, 0, MAX_MHZ, "MHz", 0, &clock) < 0 ||
		    get_num(v, e, "tdp_watts", pre, 0, MAX_WATTS, "W", 0, &tdp) < 0)
			return -1;
		d->compute_units = (uint32_t)cu;
		d->clock_mhz = u32_sat(clock);
		d->tdp_watts = u32_sat(tdp);
		devs[i] = d;
	}
	*out = devs;
	*n_out = (uint32_t)n;
	return 0;
}

/* ===== Loads ==============================================================
 * A worker's "load": what changes on every decision, read either from the
 * object inside its record or, for a host that keeps its fleet converted,
 * from numbers (conv_fleet_load_values).  Both go through load_apply() so
 * that they check the same things in the same order with the same words.
 */

const conv_field conv_load_fields[] = {
	/* the numeric form's slots, in the order they are checked */
	{"cpu_utilization", CONV_NUMBER, 0, 100, "percent"},
	{"memory_utilization", CONV_NUMBER, 0, 100, "percent"},
	{"gpu_utilization", CONV_NUMBER, 0, 100, "percent"},
	{"io_utilization", CONV_NUMBER, 0, 100, "percent"},
	{"network_utilization", CONV_NUMBER, 0, 100, "percent"},
	{"active_tests", CONV_INTEGER, 0, MAX_COUNT, NULL},
	{"queued_tests", CONV_INTEGER, 0, MAX_COUNT, NULL},
	{"reserved_memory", CONV_NUMBER, 0, MAX_GB, "GB"},
	{"warming_state", CONV_BOOL, 0, 0, NULL},
	{"cooling_state", CONV_BOOL, 0, 0, NULL},
	{"performance_level", CONV_NUMBER, 0, 1, NULL},
	{"temperature", CONV_NUMBER, 0, 1, NULL},
	/* the original WorkerLoad's bookkeeping, checked and ignored */
	{"queue_depth", CONV_INTEGER, CONV_NULLABLE, MAX_COUNT, NULL},
	/* lbsched's own: the work ahead in seconds (ABI 1.1 pending_work_s);
	 * absent or null = not known */
	{"pending_work", CONV_NUMBER, CONV_NULLABLE, MAX_SECONDS, "s"},
	/* not numbers: only in a JSON load */
	{"reserved_accelerators", CONV_OBJECT, CONV_NULLABLE, 0, NULL},
	/* the original WorkerLoad's bookkeeping, checked and ignored */
	{"worker_id", CONV_STRING, CONV_NULLABLE, 0, NULL},
	{"last_updated", CONV_SCALAR, CONV_NULLABLE, 0, NULL},
	{"active_test_ids", CONV_ARRAY, CONV_NULLABLE, 0, NULL},
	{"warming_until", CONV_SCALAR, CONV_NULLABLE, 0, NULL},
	{"cooling_until", CONV_SCALAR, CONV_NULLABLE, 0, NULL},
	{NULL, 0, 0, 0, NULL},
};

enum {
	LD_CPU, LD_MEMORY, LD_GPU, LD_IO, LD_NETWORK, LD_ACTIVE, LD_QUEUED,
	LD_RESERVED, LD_WARMING, LD_COOLING, LD_PERF, LD_TEMP, LD_QUEUE_DEPTH,
	LD_PENDING, LD_SLOTS
};

_Static_assert(LD_SLOTS == CONV_LOAD_SLOTS, "conv_load_fields and LD_* agree");

#define LD_BITS ((UINT32_C(1) << LD_SLOTS) - 1)

/* A slot's value from the numeric form: what the JSON reader would have
 * accepted, or its message with the number as given. */
static int slot_value(cv *v, const conv_field *sl, const fld *f, double d,
                      double *out)
{
	char g[40];

	if (sl->kind == CONV_BOOL) {
		if (d == 0 || d == 1) {
			*out = d;
			return 1;
		}
		return failf(v, f, "must be true or false, got %s",
		             fmt_num(g, sizeof g, d));
	}
	if (num_in(d, 0, sl->hi, sl->kind == CONV_INTEGER)) {
		*out = d;
		return 1;
	}
	return num_bad(v, f, 0, sl->hi, sl->unit, sl->kind == CONV_INTEGER,
	               fmt_num(g, sizeof g, d));
}

/* The same from a JSON member; 0 when absent. */
static int slot_json(cv *v, const conv_field *sl, const fld *f,
                     const cJSON *ld, double *out)
{
	const cJSON *it = item(ld, sl->name);
	int r = absent(v, it, f, sl->flags, "");
	int b;

	if (r)
		return r < 0 ? -1 : 0;
	if (sl->kind != CONV_BOOL)
		return num_value(v, it, f, 0, sl->hi, sl->unit,
		                 sl->kind == CONV_INTEGER, out);
	if (bool_value(v, it, f, &b) < 0)
		return -1;
	*out = b;
	return 1;
}

static const uint32_t no_reservations_;
#define NO_RESERVATIONS (&no_reservations_)

/*
 * load.reserved_accelerators (kind -> count) as counts parallel to w's
 * accel_kinds, in the arena; *out stays NULL when the field is absent or
 * null, and is NO_RESERVATIONS when nothing is reserved.  Each kind must be
 * one the worker has (ignoring case, as its available_accelerators) and
 * its count at most the worker's, except that reserving 0 of anything is
 * nothing.
 */
static int reserved_accels(cv *v, const cJSON *ld, const lbs_worker *w,
                           const uint32_t **out)
{
	const cJSON *m;
	char s[160];
	uint32_t *counts = NULL;
	int r = get_obj(v, ld, "reserved_accelerators", "load", NULLABLE, &m);

	if (r <= 0)
		return r;
	for (const cJSON *e = m->child; e; e = e->next) {
		const char *kind = e->string ? e->string : "";
		const fld field = {"load.reserved_accelerators", kind, NULL, -1};
		uint32_t j = 0;
		double d;

		if (num_value(v, e, &field, 0, MAX_COUNT, NULL, 1, &d) < 0)
			return -1;
		for (const cJSON *f = m->child; f != e; f = f->next)
			if (ieq(f->string ? f->string : "", kind))
				return failf(v, &field, "accelerator kind given more "
				                        "than once (kinds ignore case)");
		while (j < w->n_accels && !ieq(w->accel_kinds[j], kind))
			j++;
		if (d == 0)
			continue;
		if (j == w->n_accels)
			return failf(v, &field, "the worker has no '%s' accelerator "
			             "(available_accelerators)",
			             txt_show(s, sizeof s, kind));
		if (d > w->accel_counts[j])
			return failf(v, &field, "reserves %.0f, more than the %u the "
			             "worker has", d, w->accel_counts[j]);
		if (!counts && !(counts = arena_alloc(v->c->arena, w->n_accels *
		                                                   sizeof *counts)))
			return oom(v);
		counts[j] = (uint32_t)d;
	}
	*out = counts ? counts : NO_RESERVATIONS;
	return 1;
}

/*
 * One load onto w: from the object `ld`, or (ld NULL) from `vals`, the
 * values of the slots `given` has bits for, in slot order.  Everything is
 * checked before w changes.  Fields not given leave w as it was, except
 * the thermal state, which every load sets (neither flag: normal).
 */
static int load_apply(cv *v, const cJSON *ld, uint32_t given,
                      const double *vals, lbs_worker *w)
{
	double val[LD_SLOTS] = {0};
	const uint32_t *reserved = NULL;
	uint32_t have = 0;
	const char *lid = NULL;
	char s[160];
	size_t k = 0;

	if (ld && check_names(v, ld, "load", &conv_load_fields[0].name,
	                      sizeof conv_load_fields[0], 1) < 0)
		return -1;
	for (int i = 0; i < LD_SLOTS; i++) {
		const conv_field *sl = &conv_load_fields[i];
		const fld f = {"load", sl->name, NULL, -1};
		int r;

		/* the record's own id is checked before its queue depth */
		if (i == LD_QUEUE_DEPTH && ld &&
		    get_str(v, ld, "worker_id", "load", NULLABLE, &lid) < 0)
			return -1;
		if (ld)
			r = slot_json(v, sl, &f, ld, &val[i]);
		else
			r = given >> i & 1 ? slot_value(v, sl, &f, vals[k++], &val[i]) : 0;
		if (r < 0)
			return -1;
		if (r)
			have |= UINT32_C(1) << i;
		if (i == LD_COOLING && val[LD_WARMING] != 0 && val[LD_COOLING] != 0)
			return fail(v, "load.cooling_state",
			            "cannot be true together with warming_state");
	}
	if (ld && (loose(v, ld, "last_updated", "load", L_SCALAR) < 0 ||
	           loose(v, ld, "active_test_ids", "load", L_ARRAY) < 0 ||
	           reserved_accels(v, ld, w, &reserved) < 0 ||
	           loose(v, ld, "warming_until", "load", L_SCALAR) < 0 ||
	           loose(v, ld, "cooling_until", "load", L_SCALAR) < 0))
		return -1;
	if (lid && strcmp(lid, w->id) != 0)
		warn(v, "field 'load.worker_id': '%s' is not this worker's id, "
		        "the load is applied to this worker anyway",
		     txt_show(s, sizeof s, lid));

	double *util[] = {&w->util_cpu, &w->util_memory, &w->util_gpu,
	                  &w->util_io, &w->util_network};
	for (int i = LD_CPU; i <= LD_NETWORK; i++)
		if (have >> i & 1)
			*util[i - LD_CPU] = val[i] / 100;
	if (have >> LD_ACTIVE & 1)
		w->active_tests = (uint32_t)val[LD_ACTIVE];
	if (have >> LD_QUEUED & 1)
		w->queued_tests = (uint32_t)val[LD_QUEUED];
	if (have >> LD_RESERVED & 1)
		w->reserved_memory_bytes = gb_bytes(val[LD_RESERVED]);
	w->thermal_state = val[LD_WARMING] != 0   ? LBS_THERMAL_WARMING
	                   : val[LD_COOLING] != 0 ? LBS_THERMAL_COOLING
	                                          : LBS_THERMAL_NORMAL;
	if (have >> LD_PERF & 1)
		w->performance_level = val[LD_PERF];
	if (have >> LD_TEMP & 1)
		w->temperature = val[LD_TEMP];
	if (have >> LD_PENDING & 1)
		w->pending_work_s = val[LD_PENDING];
	if (reserved)
		w->accel_reserved = reserved != NO_RESERVATIONS ? reserved : NULL;
	return 0;
}

int conv_fleet_load(conv_ctx *c, const char *file, uint32_t i,
                    const cJSON *load, lbs_worker *w)
{
	cv v = {c, file ? file : "fleet", (long)i, 0};

	if (!c || !w)
		return -1;
	if (!load || cJSON_IsNull(load))
		return 0;
	if (kind_value(&v, load, FLD(NULL, "load"), NULLABLE, 0) < 0)
		return -1;
	return load_apply(&v, load, 0, NULL, w);
}

int conv_fleet_load_values(conv_ctx *c, const char *file, uint32_t i,
                           uint32_t given, const double *vals, lbs_worker *w)
{
	cv v = {c, file ? file : "fleet", (long)i, 0};

	if (!c || !w || ((given & LD_BITS) && !vals))
		return -1;
	if (given & ~(LD_BITS | CONV_LOAD_GIVEN))
		return fail(&v, "load", "the given mask 0x%lx has bits for no "
		                        "field", (unsigned long)given);
	if (!given)
		return 0;
	return load_apply(&v, NULL, given, vals, w);
}

uint32_t conv_load_count(uint32_t given)
{
	uint32_t n = 0;

	for (given &= LD_BITS; given; given &= given - 1)
		n++;
	return n;
}

/* Without a "capacity", a worker runs as many tests at once as it has of
 * its most numerous accelerator (an 8-GPU host runs 8), at least 1
 * (docs/SCORING.md). */
static uint32_t default_capacity(const lbs_worker *w)
{
	uint32_t cap = 1;

	for (uint32_t i = 0; i < w->n_accels; i++)
		cap = w->accel_counts[i] > cap ? w->accel_counts[i] : cap;
	return cap;
}

static int worker(cv *vp, const cJSON *obj, lbs_worker *out)
{
	conv_ctx *c = vp->c;
	names software = {NULL, 0, 0};
	lbs_worker w;
	struct facts f;
	struct specs sp;
	const char *id;
	const cJSON *arr, *ld;
	double d;
	char g[200];
	int r;

	if (!cJSON_IsObject(obj))
		return fail(vp, NULL, "must be a JSON object, got %s",
		            got(g, sizeof g, obj));
	memset(&w, 0, sizeof w);
	memset(&f, 0, sizeof f);
	memset(&sp, 0, sizeof sp);
	w.struct_size = sizeof w;
	w.performance_level = 1.0;
	/* 0 would say "nothing ahead"; a record that does not say is unknown. */
	w.pending_work_s = LBS_WORK_UNKNOWN;

	if (check_keys(vp, obj, NULL, worker_keys, 1) < 0)
		return -1;
	if (get_str(vp, obj, "worker_id", NULL, REQUIRED | NONEMPTY, &id) < 0)
		return -1;
	if (!(w.id = arena_strdup(c->arena, id)))
		return oom(vp);

	if (loose(vp, obj, "hostname", NULL, L_STRING) < 0 ||
	    software_names(vp, obj, &software) < 0 ||
	    loose(vp, obj, "browser_support", NULL, L_ARRAY) < 0 ||
	    loose(vp, obj, "network_bandwidth", NULL, L_NUMBER) < 0 ||
	    loose(vp, obj, "storage_capacity", NULL, L_NUMBER) < 0 ||
	    loose(vp, obj, "available_disk", NULL, L_NUMBER) < 0 ||
	    loose(vp, obj, "cpu_threads", NULL, L_INT) < 0 ||
	    loose(vp, obj, "last_updated", NULL, L_SCALAR) < 0)
		return -1;

	if (name_set(vp, obj, "supported_backends", NULL, S_BACKEND,
	             NAMED_CAPABILITY, &f.listed) < 0)
		return -1;
	if (accel_map(vp, obj, "available_accelerators", NULL, &w.accel_kinds,
	              &w.accel_counts, &w.n_accels) < 0)
		return -1;
	f.kinds = w.accel_kinds;
	f.counts = w.accel_counts;
	f.n_kinds = w.n_accels;
	if (get_num(vp, obj, "available_memory", NULL, 0, MAX_GB, "GB", 0,
	            &f.mem_gb) < 0 ||
	    get_int(vp, obj, "cpu_cores", NULL, 0, MAX_COUNT, 0, &f.cpu_cores) < 0 ||
	    get_bool(vp, obj, "has_gpu", NULL, 0, &f.has_gpu) < 0 ||
	    get_bool(vp, obj, "has_webgpu", NULL, 0, &f.has_webgpu) < 0 ||
	    get_bool(vp, obj, "has_webnn", NULL, 0, &f.has_webnn) < 0)
		return -1;
	if ((r = get_int(vp, obj, "capacity", NULL, 1, MAX_COUNT, 0, &d)) < 0)
		return -1;
	w.capacity = r ? (uint32_t)d : default_capacity(&w);
	if (hardware_specs(vp, obj, &sp) < 0)
		return -1;

	if (get_arr(vp, obj, "devices", NULL, NULLABLE, &arr) < 0)
		return -1;
	if (arr) {
		lbs_device **devs = NULL;
		if (explicit_devices(vp, arr, &software, &devs, &w.n_devices) < 0)
			return -1;
		w.devices = (const lbs_device *const *)devs;
	} else {
		lbs_device *tmp[5];
		uint32_t n = 0;
		/* The record does not say which device runs a backend it
		 * names, so every device does (docs/PYTHON.md). */
		if (unknown_backends(vp, obj, "supported_backends", NULL,
		                     &software) < 0 ||
		    derive(vp, &f, &sp, tmp, &n) < 0)
			return -1;
		lbs_device **devs = arena_alloc(c->arena, n * sizeof *devs);
		if (!devs)
			return oom(vp);
		for (uint32_t k = 0; k < n; k++)
			set_names(tmp[k], &software);
		memcpy(devs, tmp, n * sizeof *devs);
		w.devices = (const lbs_device *const *)devs;
		w.n_devices = n;
	}

	r = get_obj(vp, obj, "load", NULL, NULLABLE, &ld);
	if (r < 0 || (r > 0 && load_apply(vp, ld, 0, NULL, &w) < 0))
		return -1;
	*out = w;
	return 0;
}

int conv_worker(conv_ctx *c, const cJSON *obj, const char *where,
                lbs_worker *out)
{
	cv v = CV(c, where ? where : "worker");

	if (!c || !out)
		return -1;
	return worker(&v, obj, out);
}

/* ===== Fleets ============================================================= */

static int is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\0';
}

static uint64_t fnv1a(const char *s)
{
	uint64_t h = UINT64_C(14695981039346656037);

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * UINT64_C(1099511628211);
	return h;
}

/* Duplicate ids through a hash set of positions, so a large fleet does not
 * cost n^2 comparisons. */
static int check_ids(cv *v, const char *file, lbs_worker **ws, size_t n)
{
	size_t cap = 16;

	while (cap < 2 * n)
		cap *= 2;
	size_t *slot = arena_alloc(v->c->arena, cap * sizeof *slot);
	if (!slot)
		return oom(v);
	for (size_t i = 0; i < n; i++) {
		size_t h = (size_t)fnv1a(ws[i]->id) & (cap - 1);
		for (; slot[h]; h = (h + 1) & (cap - 1)) {
			size_t j = slot[h] - 1;
			if (strcmp(ws[j]->id, ws[i]->id) == 0) {
				char where[256], s[160];
				cv wv = CV(v->c, where);
				snprintf(where, sizeof where, "%s: workers[%zu]",
				         file, i);
				return fail(&wv, "worker_id",
				            "'%s' is also the id of workers[%zu]",
				            txt_show(s, sizeof s, ws[i]->id), j);
			}
		}
		slot[h] = i + 1;
	}
	return 0;
}

int conv_fleet(conv_ctx *c, const char *text, size_t len, const char *file,
               lbs_worker ***workers, uint32_t *n)
{
	cv v = CV(c, file ? file : "fleet");
	const cJSON *list = NULL;
	lbs_worker **ws = NULL;
	char g[200];
	size_t count = 0, i = 0, k;
	int rc = -1;

	if (!c || !workers || !n)
		return -1;
	*workers = NULL;
	*n = 0;
	if (!text)
		len = 0;
	for (k = 0; k < len && is_space(text[k]); k++)
		;
	if (k == len)
		return fail(&v, NULL, "is empty (expected a JSON array of "
		                      "workers or {\"workers\": [...]})");

	cJSON *root = conv_parse(c, text, len, v.where);
	if (!root)
		return -1;

	if (cJSON_IsArray(root)) {
		list = root;
	} else if (cJSON_IsObject(root)) {
		static const char *const keys[] = {"workers", NULL};
		if (check_keys(&v, root, NULL, keys, 1) < 0 ||
		    get_arr(&v, root, "workers", NULL, REQUIRED, &list) < 0)
			goto out;
	} else {
		fail(&v, NULL, "must be a JSON array of workers or an object "
		               "{\"workers\": [...]}, got %s",
		     got(g, sizeof g, root));
		goto out;
	}

	for (const cJSON *e = list->child; e; e = e->next)
		count++;
	if (!count) {
		fail(&v, NULL, "the fleet has no workers");
		goto out;
	}
	if (count > CONV_MAX_WORKERS) {
		fail(&v, NULL, "the fleet has %zu workers, more than %d", (size_t)count,
		     CONV_MAX_WORKERS);
		goto out;
	}
	ws = arena_alloc(c->arena, count * sizeof *ws);
	if (!ws) {
		oom(&v);
		goto out;
	}
	for (const cJSON *e = list->child; e; e = e->next, i++) {
		cv wv = {c, v.where, (long)i, 0};
		ws[i] = arena_alloc(c->arena, sizeof *ws[i]);
		if (!ws[i]) {
			oom(&v);
			goto out;
		}
		if (worker(&wv, e, ws[i]) < 0)
			goto out;
	}
	if (check_ids(&v, v.where, ws, count) < 0)
		goto out;
	*workers = ws;
	*n = (uint32_t)count;
	rc = 0;
out:
	cJSON_Delete(root);
	return rc;
}

/* ===== Outcomes =========================================================== */

static const char *const outcome_keys[] = {
	"test_id", "worker_id", "success", "result", "duration",
	"execution_time", "status", "test_type", "workload_type",
	"expected_duration", "cookie", NULL,
};

static int cookie(cv *v, const cJSON *obj, uint64_t *out)
{
	const cJSON *it = item(obj, "cookie");
	char g[200];
	double d;

	if (!it || cJSON_IsNull(it))
		return 0;
	/* A decimal string carries all 64 bits; a JSON number only 53. */
	if (cJSON_IsString(it)) {
		const char *s = it->valuestring;
		uint64_t x = 0;
		if (!s || !*s)
			goto bad;
		for (; *s; s++) {
			if (*s < '0' || *s > '9' ||
			    x > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
				goto bad;
			x = x * 10 + (uint64_t)(*s - '0');
		}
		*out = x;
		return 0;
	}
	if (num_value(v, it, FLD(NULL, "cookie"), 0, 9007199254740992.0, NULL, 1,
	              &d) < 0)
		return -1;
	*out = (uint64_t)d;
	return 0;
bad:
	return fail(v, "cookie", "must be an integer >= 0 (or a decimal string "
	                         "of one), got %s", got(g, sizeof g, it));
}

int conv_outcome(conv_ctx *c, const cJSON *obj, const char *where,
                 lbs_outcome *out)
{
	cv v = CV(c, where ? where : "outcome");
	cv *vp = &v;
	lbs_outcome o;
	const char *s = NULL, *res = NULL;
	double d = 0, d2 = 0, st = 0;
	int ok = 0, rs, rr, r1, r2;
	char g[200];

	if (!c || !out)
		return -1;
	if (!cJSON_IsObject(obj))
		return fail(vp, NULL, "must be a JSON object, got %s",
		            got(g, sizeof g, obj));
	memset(&o, 0, sizeof o);
	o.struct_size = sizeof o;
	if (check_keys(vp, obj, NULL, outcome_keys, 1) < 0)
		return -1;

	if (get_str(vp, obj, "test_id", NULL, NULLABLE, &s) < 0)
		return -1;
	if (s && !(o.workload_id = arena_strdup(c->arena, s)))
		return oom(vp);
	if (get_str(vp, obj, "worker_id", NULL, REQUIRED | NONEMPTY, &s) < 0)
		return -1;
	if (!(o.worker_id = arena_strdup(c->arena, s)))
		return oom(vp);

	rs = get_bool(vp, obj, "success", NULL, 0, &ok);
	rr = get_str(vp, obj, "result", NULL, NONEMPTY, &res);
	if (rs < 0 || rr < 0)
		return -1;
	if (!rs && !rr)
		return fail(vp, "success",
		            "is required (true or false), or give 'result'");
	o.result = ok ? LBS_RESULT_SUCCESS : LBS_RESULT_FAILURE;
	if (rr) {
		static const char *const names[] = {
			"success", "failure", "timeout", "rejected", "cancelled",
		};
		int found = -1;
		for (int i = 0; i < 5; i++)
			if (ieq(res, names[i]))
				found = i;
		if (found < 0)
			return fail(vp, "result",
			            "must be \"success\", \"failure\", \"timeout\", "
			            "\"rejected\" or \"cancelled\", got %s",
			            got(g, sizeof g, item(obj, "result")));
		if (rs && (found == LBS_RESULT_SUCCESS) != ok)
			return fail(vp, "result", "disagrees with 'success'");
		o.result = found;
	}

	r1 = get_num(vp, obj, "duration", NULL, 0, MAX_SECONDS, "s", 0, &d);
	r2 = get_num(vp, obj, "execution_time", NULL, 0, MAX_SECONDS, "s", 0, &d2);
	if (r1 < 0 || r2 < 0)
		return -1;
	if (!r1 && !r2)
		return fail(vp, "duration", "is required (seconds), or give "
		                            "'execution_time'");
	if (r1 && r2 && d != d2)
		return fail(vp, "execution_time", "disagrees with 'duration'");
	o.duration_s = r1 ? d : d2;

	if (get_int(vp, obj, "status", NULL, INT32_MIN, INT32_MAX, 0, &st) < 0)
		return -1;
	o.status_code = (int32_t)st;

	s = NULL;
	if (work_type(vp, obj, &o.test_type, &o.workload_type) < 0)
		return -1;

	if (get_num(vp, obj, "expected_duration", NULL, 0, MAX_SECONDS, "s", 0,
	            &o.expected_duration_s) < 0)
		return -1;
	if (cookie(vp, obj, &o.cookie) < 0)
		return -1;
	*out = o;
	return 0;
}

cJSON *conv_parse(conv_ctx *c, const char *text, size_t len, const char *where)
{
	const char *end = NULL;
	cJSON *root = text ? cJSON_ParseWithLengthOpts(text, len, &end, 0) : NULL;
	size_t at = end && end >= text ? (size_t)(end - text) : 0;
	char why[160];
	cv v = CV(c, where);

	/* cJSON's own require_null_terminated fails whenever the length is
	 * exact, so what follows the document is looked at here. */
	if (!text || txt_json_problem(why, sizeof why, text, len, at, root != NULL,
	                              CJSON_NESTING_LIMIT)) {
		cJSON_Delete(root);
		fail(&v, NULL, "%s", text ? why : "no text");
		return NULL;
	}
	return root;
}

/* One whole object in text, or NULL with the error set. */
static cJSON *parse_object(conv_ctx *c, const char *text, size_t len, const char *where)
{
	cJSON *obj = conv_parse(c, text, len, where);
	char g[200];
	cv v = CV(c, where);

	if (obj && !cJSON_IsObject(obj)) {
		fail(&v, NULL, "must be a JSON object, got %s", got(g, sizeof g, obj));
		cJSON_Delete(obj);
		return NULL;
	}
	return obj;
}

int conv_workload_text(conv_ctx *c, const char *text, size_t len, const char *where,
                       lbs_workload *out)
{
	cJSON *obj = parse_object(c, text, len, where);
	int r = obj ? conv_workload(c, obj, where, out) : -1;

	cJSON_Delete(obj);
	return r;
}

int conv_outcome_text(conv_ctx *c, const char *text, size_t len, const char *where,
                      lbs_outcome *out)
{
	cJSON *obj = parse_object(c, text, len, where);
	int r = obj ? conv_outcome(c, obj, where, out) : -1;

	cJSON_Delete(obj);
	return r;
}

/* ===== Readers for the shim's other documents ============================= */

int conv_num(conv_ctx *c, const char *where, const cJSON *obj, const char *key,
             const char *prefix, double lo, double hi, const char *unit, int flags,
             double *out)
{
	cv v = CV(c, where);
	return get_num(&v, obj, key, prefix, lo, hi, unit, flags, out);
}

int conv_str(conv_ctx *c, const char *where, const cJSON *obj, const char *key,
             const char *prefix, int flags, const char **out)
{
	cv v = CV(c, where);
	return get_str(&v, obj, key, prefix, flags, out);
}

int conv_obj(conv_ctx *c, const char *where, const cJSON *obj, const char *key,
             const char *prefix, int flags, const cJSON **out)
{
	cv v = CV(c, where);
	return get_obj(&v, obj, key, prefix, flags, out);
}

int conv_arr(conv_ctx *c, const char *where, const cJSON *obj, const char *key,
             const char *prefix, int flags, const cJSON **out)
{
	cv v = CV(c, where);
	return get_arr(&v, obj, key, prefix, flags, out);
}

int conv_keys(conv_ctx *c, const char *where, const cJSON *obj, const char *prefix,
              const char *const *known)
{
	cv v = CV(c, where);
	return check_keys(&v, obj, prefix, known, 1);
}

void conv_warn_summary(conv_ctx *c)
{
	char line[256];

	if (!c || !c->warn || !c->warns || !c->warns->suppressed)
		return;
	snprintf(line, sizeof line, "%lu more warnings suppressed (at most %d per record and %d "
	         "in all are shown)", c->warns->suppressed, CONV_WARN_RECORD, CONV_WARN_RUN);
	c->warn(c->warn_ctx, line);
	c->warns->suppressed = 0;
}

int conv_fail(conv_ctx *c, const char *where, const char *field, const char *fmt, ...)
{
	char msg[512];
	cv v = CV(c, where);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return fail(&v, field, "%s", msg);
}

const char *conv_show(char *dst, size_t n, const char *s)
{
	return txt_show(dst, n, s);
}

const char *conv_got(char *dst, size_t n, const cJSON *it)
{
	return got(dst, n, it);
}
