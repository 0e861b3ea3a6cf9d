/*
 * convert_field.c -- the field machinery every converter shares: messages,
 * field paths, typed readers, taxonomy names, the public readers for the
 * shim's other documents.  The rules they follow are in convert_field.h.
 */
#include "convert_field.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "taxonomy.h"
#include "text.h"

/* ===== Messages =========================================================== */

/* Shortest text that reads back as the same double. */
const char *cv_fmt_num(char *buf, size_t n, double d)
{
	if (isnan(d))
		snprintf(buf, n, "nan");
	else if (isinf(d))
		snprintf(buf, n, d > 0 ? "inf" : "-inf");
	else if (d == floor(d) && fabs(d) < 1e15)
		snprintf(buf, n, "%.0f", d);
	else
		for (int digits = 15; digits <= 17; digits++) {
			snprintf(buf, n, "%.*g", digits, d);
			if (strtod(buf, NULL) == d)
				break;
		}
	return buf;
}

/* What a value is, for "got ..." */
const char *cv_got(char *buf, size_t n, const cJSON *it)
{
	char tmp[160];

	if (!it)
		snprintf(buf, n, "nothing");
	else if (cJSON_IsNumber(it) && isinf(it->valuedouble))
		/* what the parser makes of digits no double holds: "inf" was
		 * in no file */
		snprintf(buf, n, "a number beyond +-1.8e308");
	else if (cJSON_IsNumber(it))
		cv_fmt_num(buf, n, it->valuedouble);
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
int cv_fail(cv *v, const char *field, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vfail(v, field, fmt, ap);
	va_end(ap);
	return r;
}

PRINTF(2, 3)
void cv_warn(cv *v, const char *fmt, ...)
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

int cv_oom(cv *v)
{
	return cv_fail(v, NULL, "out of memory");
}


/* ===== Field paths ======================================================== */


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
const char *cv_sub(path *p, const char *prefix, const char *key)
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


const char *cv_fld_str(path *p, const fld *f)
{
	char k[160], n[32];

	if (f->key) {
		cv_sub(p, f->prefix, f->key);
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
int cv_failf(cv *v, const fld *f, const char *fmt, ...)
{
	path p;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vfail(v, cv_fld_str(&p, f), fmt, ap);
	va_end(ap);
	return r;
}

/* ===== Typed readers ======================================================
 * Each returns 1 with a value, 0 when the key is absent (or null where null
 * is allowed), -1 after cv_fail().  The field's path is put together only when
 * a message needs it.
 */



int cv_absent(cv *v, const cJSON *it, const fld *f, int flags,
              const char *what)
{
	if (it && !(cJSON_IsNull(it) && (flags & NULLABLE)))
		return 0;
	if (flags & REQUIRED)
		return cv_failf(v, f, "is required (%s)", what);
	return 1;
}


/* `g` is what was given, as cv_got() or cv_fmt_num() wrote it. */
int cv_num_bad(cv *v, const fld *f, double lo, double hi,
               const char *unit, int integer, const char *g)
{
	char a[40], b[40];

	cv_fmt_num(a, sizeof a, lo);
	cv_fmt_num(b, sizeof b, hi);
	return cv_failf(v, f, "must be %s in %s..%s%s%s, got %s",
	                integer ? "an integer" : "a finite number", a, b,
	                unit ? " " : "", unit ? unit : "", g);
}

int cv_num_value(cv *v, const cJSON *it, const fld *f, double lo,
                 double hi, const char *unit, int integer, double *out)
{
	char g[200];

	if (cJSON_IsNumber(it) && num_in(it->valuedouble, lo, hi, integer)) {
		*out = it->valuedouble;
		return 1;
	}
	return cv_num_bad(v, f, lo, hi, unit, integer, cv_got(g, sizeof g, it));
}

int cv_get_num(cv *v, const cJSON *obj, const char *key,
               const char *prefix, double lo, double hi,
               const char *unit, int flags, double *out)
{
	const fld f = {prefix, key, NULL, -1};
	const cJSON *it = item(obj, key);
	int r = cv_absent(v, it, &f, flags, "a number");

	if (r)
		return r < 0 ? -1 : 0;
	return cv_num_value(v, it, &f, lo, hi, unit, 0, out);
}

int cv_get_int(cv *v, const cJSON *obj, const char *key,
               const char *prefix, double lo, double hi, int flags,
               double *out)
{
	const fld f = {prefix, key, NULL, -1};
	const cJSON *it = item(obj, key);
	int r = cv_absent(v, it, &f, flags, "an integer");

	if (r)
		return r < 0 ? -1 : 0;
	return cv_num_value(v, it, &f, lo, hi, NULL, 1, out);
}

int cv_bool_value(cv *v, const cJSON *it, const fld *f, int *out)
{
	char g[200];

	if (!cJSON_IsBool(it))
		return cv_failf(v, f, "must be true or false, got %s",
		                cv_got(g, sizeof g, it));
	*out = cJSON_IsTrue(it) ? 1 : 0;
	return 1;
}

int cv_get_bool(cv *v, const cJSON *obj, const char *key,
                const char *prefix, int flags, int *out)
{
	const fld f = {prefix, key, NULL, -1};
	const cJSON *it = item(obj, key);
	int r = cv_absent(v, it, &f, flags, "true or false");

	if (r)
		return r < 0 ? -1 : 0;
	return cv_bool_value(v, it, &f, out);
}

int cv_str_value(cv *v, const cJSON *it, const fld *f, int flags,
                 const char **out)
{
	char g[200];

	if (!cJSON_IsString(it) || !it->valuestring ||
	    ((flags & NONEMPTY) && !*it->valuestring))
		return cv_failf(v, f, "must be a %sstring%s, got %s",
		                flags & NONEMPTY ? "non-empty " : "",
		                flags & NULLABLE ? " or null" : "",
		                cv_got(g, sizeof g, it));
	if (strlen(it->valuestring) > CONV_MAX_STRING)
		return cv_failf(v, f, "is %zu bytes long, more than %d",
		                strlen(it->valuestring), CONV_MAX_STRING);
	if (!txt_utf8_valid(it->valuestring))
		return cv_failf(v, f, "must be valid UTF-8, got %s",
		                cv_got(g, sizeof g, it));
	*out = it->valuestring;
	return 1;
}

int cv_get_str(cv *v, const cJSON *obj, const char *key,
               const char *prefix, int flags, const char **out)
{
	const fld f = {prefix, key, NULL, -1};
	const cJSON *it = item(obj, key);
	int r = cv_absent(v, it, &f, flags,
	                  flags & NONEMPTY ? "a non-empty string" : "a string");

	if (r)
		return r < 0 ? -1 : 0;
	return cv_str_value(v, it, &f, flags, out);
}

/* An object or array that is there (null only where NULLABLE allows it). */
int cv_kind_value(cv *v, const cJSON *it, const fld *f, int flags,
                  int array)
{
	char g[200];

	if (array ? !cJSON_IsArray(it) : !cJSON_IsObject(it))
		return cv_failf(v, f, "must be %s%s, got %s",
		                array ? "an array" : "an object",
		                flags & NULLABLE ? " or null" : "",
		                cv_got(g, sizeof g, it));
	return 1;
}

/* An object or array member; *out is NULL when absent. */
static int get_kind(cv *v, const cJSON *obj, const char *key,
                    const char *prefix, int flags, int array,
                    const cJSON **out)
{
	const fld f = {prefix, key, NULL, -1};
	const cJSON *it = item(obj, key);
	int r = cv_absent(v, it, &f, flags, array ? "an array" : "an object");

	*out = NULL;
	if (r)
		return r < 0 ? -1 : 0;
	if (cv_kind_value(v, it, &f, flags, array) < 0)
		return -1;
	*out = it;
	return 1;
}

int cv_get_obj(cv *v, const cJSON *obj, const char *key,
               const char *prefix, int flags, const cJSON **out)
{
	return get_kind(v, obj, key, prefix, flags, 0, out);
}

int cv_get_arr(cv *v, const cJSON *obj, const char *key,
               const char *prefix, int flags, const cJSON **out)
{
	return get_kind(v, obj, key, prefix, flags, 1, out);
}


/* An ignored scalar (a time, an id) kept to the rules every value keeps
 * (docs/SECURITY.md): a string UTF-8 of at most CONV_MAX_STRING bytes, a
 * number finite and within MAX_LOOSE_SCALAR either way.  The Python
 * package's numeric form hands anything else to this (lbspy_load_layout's
 * "loose_max" and "string_max"). */
static int loose_scalar(cv *v, const cJSON *it, const fld *f)
{
	char g[200];
	const char *s;

	if (cJSON_IsString(it))
		return cv_str_value(v, it, f, 0, &s) < 0 ? -1 : 0;
	if (cJSON_IsNumber(it) && isfinite(it->valuedouble) &&
	    fabs(it->valuedouble) <= MAX_LOOSE_SCALAR)
		return 0;
	if (cJSON_IsNumber(it))
		return cv_failf(v, f, "must be a finite number within +-1e19, got %s",
		                cv_got(g, sizeof g, it));
	return cv_failf(v, f, "must be a string or a number, got %s", cv_got(g, sizeof g, it));
}

int cv_loose(cv *v, const cJSON *obj, const char *key, const char *prefix,
             enum loose kind)
{
	const cJSON *it = item(obj, key);
	const cJSON *dummy;
	const char *s;
	double d;

	if (!it || cJSON_IsNull(it))
		return 0;
	switch (kind) {
	case L_STRING:
		return cv_get_str(v, obj, key, prefix, NULLABLE, &s) < 0 ? -1 : 0;
	case L_NUMBER:
		return cv_get_num(v, obj, key, prefix, 0, MAX_LOOSE, NULL,
		                  NULLABLE, &d) < 0 ? -1 : 0;
	case L_INT:
		return cv_get_int(v, obj, key, prefix, 0, MAX_COUNT, NULLABLE,
		                  &d) < 0 ? -1 : 0;
	case L_OBJECT:
		return cv_get_obj(v, obj, key, prefix, NULLABLE, &dummy) < 0 ? -1 : 0;
	case L_ARRAY: {
		const cJSON *e;
		long i = 0;

		if (cv_get_arr(v, obj, key, prefix, NULLABLE, &dummy) < 0)
			return -1;
		cJSON_ArrayForEach(e, dummy) {
			const fld f = {prefix, key, NULL, i++};

			if (loose_scalar(v, e, &f) < 0)
				return -1;
		}
		return 0;
	}
	case L_SCALAR:
		return loose_scalar(v, it, FLD(prefix, key));
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
int cv_check_names(cv *v, const cJSON *obj, const char *prefix,
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
				return cv_fail(v, cv_sub(&p, prefix, k),
				               "is given more than once");
			if (i < 64)
				seen |= UINT64_C(1) << i;
		} else if (warn_unknown && ++unknown <= MAX_WARN_UNKNOWN) {
			cv_warn(v, "unknown field '%s' ignored", cv_sub(&p, prefix, k));
		}
	}
	if (unknown > MAX_WARN_UNKNOWN)
		cv_warn(v, "%d more unknown fields ignored",
		        unknown - MAX_WARN_UNKNOWN);
	return 0;
}

int cv_check_keys(cv *v, const cJSON *obj, const char *prefix,
                  const char *const *known, int warn_unknown)
{
	return cv_check_names(v, obj, prefix, known, sizeof *known, warn_unknown);
}

/* ===== Taxonomy names ===================================================== */


static const char *const set_word[] = {"backend", "precision", "feature"};

/* A worker's name outside the taxonomy is offered by name, as a test's is
 * required by name: said, with the name it is one typo from, if any. */
void cv_named(cv *v, const char *field, const char *what, const char *name)
{
	const char *near = tax_backend_near(name);
	char s[160];

	cv_warn(v, "field '%s': %s '%s' is not in the taxonomy, offered by name%s%s%s", field,
	        what, txt_show(s, sizeof s, name), near ? " (one typo from '" : "",
	        near ? near : "", near ? "')" : "");
}

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


uint64_t cv_name_bit(cv *v, const fld *f, enum setkind k,
                     const char *name, int preference)
{
	char s[160];
	path p;
	uint64_t bit = set_parse(k, name);

	if (bit)
		return bit;
	if (preference == NAMED_CAPABILITY && k == S_BACKEND) {
		cv_named(v, cv_fld_str(&p, f), "backend", name);
		return set_other(k);
	}
	if (preference == PREFERENCE) {
		cv_warn(v, "field '%s': unknown %s '%s', preference ignored",
		        cv_fld_str(&p, f), set_word[k], txt_show(s, sizeof s, name));
		return 0;
	}
	cv_warn(v, "field '%s': unknown %s '%s', treated as OTHER",
	        cv_fld_str(&p, f), set_word[k], txt_show(s, sizeof s, name));
	return set_other(k);
}

/* An array of names to a bit set; `listed` (may be NULL) gets the bits of
 * known names only, so a caller can tell OTHER from the others. */
int cv_name_set(cv *v, const cJSON *obj, const char *key,
                const char *prefix, enum setkind k, int preference,
                uint64_t *out)
{
	const cJSON *arr;
	const char *name;
	fld f = {prefix, key, NULL, 0};
	int r = cv_get_arr(v, obj, key, prefix, NULLABLE, &arr);

	if (r <= 0)
		return r;
	for (const cJSON *e = arr->child; e; e = e->next, f.idx++) {
		if (cv_str_value(v, e, &f, NONEMPTY, &name) < 0)
			return -1;
		*out |= cv_name_bit(v, &f, k, name, preference);
	}
	return 1;
}


/* A class / architecture / vendor name.  Unknown: a class becomes UNKNOWN
 * (it has no OTHER), the others OTHER; as a preference, "none". */
int cv_scalar_name(cv *v, const cJSON *obj, const char *key,
                   const char *prefix, enum scalar k, int preference,
                   uint32_t *out)
{
	static const char *const word[] = {"hardware class", "architecture",
	                                   "vendor"};
	path p;
	char s[160];
	const char *name;
	int r = cv_get_str(v, obj, key, prefix, NULLABLE | NONEMPTY, &name);

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
		cv_warn(v, "field '%s': unknown %s '%s', preference ignored",
		        cv_sub(&p, prefix, key), word[k], txt_show(s, sizeof s, name));
		*out = 0;
		return 1;
	}
	*out = k == SC_CLASS  ? LBS_CLASS_UNKNOWN
	       : k == SC_ARCH ? LBS_ARCH_OTHER
	                      : LBS_VENDOR_OTHER;
	cv_warn(v, "field '%s': unknown %s '%s', treated as %s",
	        cv_sub(&p, prefix, key), word[k], txt_show(s, sizeof s, name),
	        k == SC_CLASS ? "UNKNOWN" : "OTHER");
	return 1;
}

/* ===== Small helpers ====================================================== */



char *cv_lower_dup(arena *a, const char *s)
{
	char *p = arena_strdup(a, s);

	for (char *q = p; q && *q; q++)
		if (*q >= 'A' && *q <= 'Z')
			*q = (char)(*q - 'A' + 'a');
	return p;
}

/*
 * A name that is a key of the object `map` (software_versions,
 * required_software, an accelerator map): non-empty, UTF-8 and at most
 * CONV_MAX_STRING bytes, as a string value is.  `what` says what the names
 * are ("software name"), its last word what one is called ("name").
 * 0, or -1 after cv_failf().
 */
int cv_key_name(cv *v, const fld *map, const fld *field, const char *name,
                const char *what)
{
	const char *noun = strrchr(what, ' ') ? strrchr(what, ' ') + 1 : what;
	size_t len = strlen(name);

	if (!len)
		return cv_failf(v, map, "has an empty %s", what);
	if (!txt_utf8_valid(name))
		return cv_failf(v, field, "the %s must be valid UTF-8", noun);
	if (len > CONV_MAX_STRING)
		return cv_failf(v, map, "has a %s %zu bytes long, more than %d", noun, len,
		                CONV_MAX_STRING);
	return 0;
}

#define ACCEL_CLASSES "cpu, gpu, tpu, npu, dsp, fpga, asic"

/*
 * An object of accelerator kind -> integer count: kinds lower-cased (the
 * ABI compares them as lower-case names), zero counts dropped, a kind given
 * twice in any case an error.  Outputs may be NULL to only check.
 */
int cv_accel_map(cv *v, const cJSON *obj, const char *key,
                 const char *prefix, const char *const **kinds_out,
                 const uint32_t **counts_out, uint32_t *n_out)
{
	const cJSON *m;
	const fld base = {prefix, key, NULL, -1};
	/* null is none, as for the records' other maps */
	int r = cv_get_obj(v, obj, key, prefix, NULLABLE, &m);
	size_t n = 0, k = 0;

	if (r <= 0)
		return r;
	for (const cJSON *e = m->child; e; e = e->next)
		n++;
	if (n > MAX_ACCEL_KINDS)
		return cv_failf(v, &base, "has %zu kinds, more than %d", n,
		                MAX_ACCEL_KINDS);
	const char **kinds = NULL;
	uint32_t *counts = NULL;
	if (kinds_out && n) {
		kinds = arena_alloc(v->c->arena, n * sizeof *kinds);
		counts = arena_alloc(v->c->arena, n * sizeof *counts);
		if (!kinds || !counts)
			return cv_oom(v);
	}
	for (const cJSON *e = m->child; e; e = e->next) {
		const char *kind = e->string ? e->string : "";
		const fld field = {prefix, key, kind, -1};
		double d;
		if (cv_key_name(v, &base, &field, kind, "accelerator kind") < 0)
			return -1;
		if (cv_num_value(v, e, &field, 0, MAX_COUNT, NULL, 1, &d) < 0)
			return -1;
		for (const cJSON *f = m->child; f != e; f = f->next)
			if (ieq(f->string ? f->string : "", kind))
				return cv_failf(v, &field,
				                "accelerator kind given more than "
				                "once (kinds ignore case)");
		/* kept: a kind is matched by name, and a test's is met by a
		 * worker that lists it; but a typo ("gpuu") meets nothing */
		if (tax_accel_class_parse(kind) < 0) {
			path p;
			char s[160];

			cv_warn(v, "field '%s': accelerator kind '%s' is not a device class (" ACCEL_CLASSES
			        ") or cuda, matched by name", cv_fld_str(&p, &field),
			        txt_show(s, sizeof s, kind));
		}
		if (!kinds || d == 0)
			continue;
		kinds[k] = cv_lower_dup(v->c->arena, kind);
		if (!kinds[k])
			return cv_oom(v);
		counts[k++] = (uint32_t)d;
	}
	if (kinds_out) {
		*kinds_out = k ? kinds : NULL;
		*counts_out = k ? counts : NULL;
		*n_out = (uint32_t)k;
	}
	return 1;
}



int cv_names_add(cv *v, names *l, const char *field, const char *name)
{
	char *low = cv_lower_dup(v->c->arena, name);

	if (!low)
		return cv_oom(v);
	for (uint32_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], low) == 0)
			return 0;
	if (l->n == MAX_NAMES)
		return cv_fail(v, field, "gives more than %d backend and software "
		                         "names", MAX_NAMES);
	if (l->n == l->cap) {
		uint32_t cap = l->cap ? 2 * l->cap : 8;
		const char **nv = arena_alloc(v->c->arena, cap * sizeof *nv);

		if (!nv)
			return cv_oom(v);
		if (l->n)
			memcpy(nv, l->v, l->n * sizeof *nv);
		l->v = nv;
		l->cap = cap;
	}
	l->v[l->n++] = low;
	return 0;
}



/* "test_type" (kept, and mapped to a workload type) and an explicit
 * "workload_type" that overrides the mapping; shared by tests and outcomes,
 * and by an outcome's test_requirements (prefix "test_requirements"), so
 * one record is one type whether it is decided or learned from.  An empty
 * test_type is refused: it would be MIXED with no word, where a missing one
 * or a typo is said (README.md).  1 when either field is given, 0 when
 * neither (the type is then MIXED, by default), -1 after cv_fail(). */
int cv_work_type(cv *v, const cJSON *obj, const char *prefix, const char **test_type,
                 uint32_t *type)
{
	const char *s = NULL;
	char g[200];
	int said;

	if ((said = cv_get_str(v, obj, "test_type", prefix, NULLABLE | NONEMPTY, &s)) < 0)
		return -1;
	if (s && !(*test_type = arena_strdup(v->c->arena, s)))
		return cv_oom(v);
	*type = tax_workload_from_test_type(*test_type);
	s = NULL;
	if (cv_get_str(v, obj, "workload_type", prefix, NULLABLE | NONEMPTY, &s) < 0)
		return -1;
	if (s) {
		int t = tax_workload_parse(s);
		if (t < 0)
			return cv_failf(v, FLD(prefix, "workload_type"),
			                "unknown workload type \"%s\" (one of VISION, "
			                "NLP, AUDIO, MULTIMODAL, TRAINING, INFERENCE, "
			                "EMBEDDING, CONVERSATIONAL, MIXED)",
			                txt_show(g, sizeof g, s));
		*type = (uint32_t)t;
		said = 1;
	}
	return said;
}

/* "mixed" says it is, on purpose. */
int conv_type_wordless(const char *test_type, uint32_t type)
{
	return type == LBS_WL_MIXED && test_type && *test_type && !ieq(test_type, "mixed") &&
	       tax_workload_from_test_type(test_type) == LBS_WL_MIXED;
}

#define WORDLESS_WHY "no workload word in it (" CONV_WORKLOAD_WORDS "): decided as mixed"

/* Say that a test is decided as mixed for its wordless test_type: at once
 * without a run, else counted for conv_warn_summary, even where a host
 * quiets a record's other warnings (the simulator's tests of one mix
 * entry): the count is of the tests decided so. */
void cv_wordless(cv *v, const char *test_type)
{
	conv_warns *w = v->c->warns;
	char s[96], wbuf[256];

	if (!w) {
		cv_warn(v, "field 'test_type': '%s' has " WORDLESS_WHY,
		        txt_show(s, sizeof s, test_type));
		return;
	}
	if (w->wordless++)
		return;
	snprintf(w->wordless_where, sizeof w->wordless_where, "%s", where_of(v, wbuf));
	txt_show(w->wordless_type, sizeof w->wordless_type, test_type);
}

/* A test's expected_duration, or the original TestRequirements' default
 * when it states none: the one rule for a test decided and for the
 * test_requirements an outcome carries, so a test ranked as a minute's work
 * is learned against a minute.  1 given, 0 defaulted, -1 after cv_fail(). */
#define TEST_DEFAULT_DURATION_S 60.0

int cv_work_duration(cv *v, const cJSON *obj, const char *prefix, double *out)
{
	*out = TEST_DEFAULT_DURATION_S;
	return cv_get_num(v, obj, "expected_duration", prefix, 0, MAX_SECONDS, "s", 0, out);
}

cJSON *conv_parse(conv_ctx *c, const char *text, size_t len, const char *where)
{
	const char *end = NULL;
	cJSON *root;
	size_t at;
	char why[512];
	cv v = CV(c, where);
	int oom;

	errno = 0; /* a failed malloc sets it: cJSON says nothing else */
	root = text ? cJSON_ParseWithLengthOpts(text, len, &end, 0) : NULL;
	oom = text && !root && errno == ENOMEM;
	at = end && end >= text ? (size_t)(end - text) : 0;

	/* cJSON's own require_null_terminated fails whenever the length is
	 * exact, so what follows the document is looked at here. */
	if (!text ||
	    txt_json_problem(why, sizeof why, text, len, at, oom ? -1 : root != NULL,
	                     CJSON_NESTING_LIMIT)) {
		cJSON_Delete(root);
		cv_fail(&v, NULL, "%s", text ? why : "no text");
		return NULL;
	}
	/* Named by its field; the byte stays, for a file's reader. */
	if (txt_json_flaw(why, sizeof why, text, len)) {
		cv_fail(&v, NULL, "%s", why);
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

/* One whole object in text, or NULL with the error set. */
cJSON *cv_parse_object(conv_ctx *c, const char *text, size_t len, const char *where)
{
	cJSON *obj = conv_parse(c, text, len, where);
	char g[200];
	cv v = CV(c, where);

	if (obj && !cJSON_IsObject(obj)) {
		cv_fail(&v, NULL, "must be a JSON object, got %s", cv_got(g, sizeof g, obj));
		cJSON_Delete(obj);
		return NULL;
	}
	return obj;
}

/* ===== Readers for the shim's other documents ============================= */

int conv_num(conv_ctx *c, const char *where, const cJSON *obj, const char *key,
             const char *prefix, double lo, double hi, const char *unit, int flags,
             double *out)
{
	cv v = CV(c, where);
	return cv_get_num(&v, obj, key, prefix, lo, hi, unit, flags, out);
}

int conv_int(conv_ctx *c, const char *where, const cJSON *obj, const char *key,
             const char *prefix, double lo, double hi, int flags, double *out)
{
	cv v = CV(c, where);
	return cv_get_int(&v, obj, key, prefix, lo, hi, flags, out);
}

int conv_str(conv_ctx *c, const char *where, const cJSON *obj, const char *key,
             const char *prefix, int flags, const char **out)
{
	cv v = CV(c, where);
	return cv_get_str(&v, obj, key, prefix, flags, out);
}

int conv_obj(conv_ctx *c, const char *where, const cJSON *obj, const char *key,
             const char *prefix, int flags, const cJSON **out)
{
	cv v = CV(c, where);
	return cv_get_obj(&v, obj, key, prefix, flags, out);
}

int conv_arr(conv_ctx *c, const char *where, const cJSON *obj, const char *key,
             const char *prefix, int flags, const cJSON **out)
{
	cv v = CV(c, where);
	return cv_get_arr(&v, obj, key, prefix, flags, out);
}

int conv_keys(conv_ctx *c, const char *where, const cJSON *obj, const char *prefix,
              const char *const *known)
{
	cv v = CV(c, where);
	return cv_check_keys(&v, obj, prefix, known, 1);
}

void conv_warn(conv_ctx *c, const char *where, const char *fmt, ...)
{
	cv v = CV(c, where);
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	cv_warn(&v, "%s", msg);
}

void conv_warn_summary(conv_ctx *c)
{
	char line[1024];
	conv_warns *w = c ? c->warns : NULL;

	if (!c || !c->warn || !w)
		return;
	if (w->wordless == 1)
		snprintf(line, sizeof line, "%s: field 'test_type': '%s' has " WORDLESS_WHY,
		         w->wordless_where, w->wordless_type);
	else if (w->wordless)
		snprintf(line, sizeof line, "%lu tests (the first at %s, test_type '%s') have a "
		         "'test_type' with " WORDLESS_WHY, w->wordless, w->wordless_where,
		         w->wordless_type);
	if (w->wordless)
		c->warn(c->warn_ctx, line);
	w->wordless = 0;
	if (!w->suppressed)
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
	return cv_fail(&v, field, "%s", msg);
}

const char *conv_show(char *dst, size_t n, const char *s)
{
	return txt_show(dst, n, s);
}

const char *conv_got(char *dst, size_t n, const cJSON *it)
{
	return cv_got(dst, n, it);
}

cJSON *conv_exact_number(double v)
{
	char text[40];

	return cJSON_CreateRaw(cv_fmt_num(text, sizeof text, v));
}

int conv_exact_numbers(cJSON *node)
{
	for (cJSON *it = node ? node->child : NULL; it; it = it->next) {
		cJSON *raw;

		if (cJSON_IsNumber(it) && isfinite(it->valuedouble)) {
			if (!(raw = conv_exact_number(it->valuedouble)))
				return -1;
			/* the key goes with the value (the replacing call takes
			 * the new item's own, which has none) */
			raw->string = it->string;
			raw->type |= it->type & cJSON_StringIsConst;
			it->string = NULL;
			cJSON_ReplaceItemViaPointer(node, it, raw);
			it = raw;
		} else if (conv_exact_numbers(it)) {
			return -1;
		}
	}
	return 0;
}
