/*
 * config.c -- JSON config fields with one-line errors.
 */
#include "config.h"
#include "text.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 2^53 - 1: every integer up to here survives the trip through a double,
 * and none past it reads as it (2^53 + 1 parses as 2^53, so 2^53 is out). */
#define UINT_EXACT_MAX 9007199254740991.0

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* The shortest form of x that reads back the same: %.17g would print 0.1
 * as 0.10000000000000001 in a message meant for people. */
static void describe_number(double x, char *buf, size_t len)
{
	/* %g would write 90 as 9e+01 at the precision that reads back. */
	if (x == floor(x) && fabs(x) < 1e15) {
		snprintf(buf, len, "%.0f", x);
		return;
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, len, "%.*g", prec, x);
		if (strtod(buf, NULL) == x)
			return;
	}
}

/* What a value is, for "got ..." in messages. */
void cfg_got(const cJSON *v, char *buf, size_t len)
{
	if (cJSON_IsNumber(v))
		describe_number(v->valuedouble, buf, len);
	else if (cJSON_IsString(v))
		snprintf(buf, len, "a string");
	else if (cJSON_IsBool(v))
		snprintf(buf, len, "%s", cJSON_IsTrue(v) ? "true" : "false");
	else if (cJSON_IsNull(v))
		snprintf(buf, len, "null");
	else if (cJSON_IsArray(v))
		snprintf(buf, len, "an array");
	else
		snprintf(buf, len, "an object");
}

cJSON *cfg_json(const char *text, size_t len, const char *what, char *err, size_t errlen)
{
	const char *end = NULL, *enc = txt_not_utf8(text, len);
	cJSON *root;
	size_t at;
	char why[160];
	int oom;

	if (enc) {
		if (what)
			set_err(err, errlen, "%s: %s", what, enc);
		else
			set_err(err, errlen, "%s", enc);
		return NULL;
	}
	errno = 0; /* a failed malloc sets it: cJSON says nothing else */
	root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	oom = !root && errno == ENOMEM;
	at = end && end >= text ? (size_t)(end - text) : 0;

	/* cJSON cannot tell a syntax error from a failed malloc; for a
	 * document of a few bytes the syntax error is the likely one.  Its
	 * require_null_terminated fails whenever the length is exact, so what
	 * follows the document is looked at here. */
	if (txt_json_problem(why, sizeof why, text, len, at, oom ? -1 : root != NULL,
	                     CJSON_NESTING_LIMIT)) {
		if (what)
			set_err(err, errlen, "%s: %s", what, why);
		else
			set_err(err, errlen, "%s", why);
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

/* The first key or string below it that is not UTF-8 (the ABI's strings
 * are, and a route's prefix or a path that is not matches nothing it
 * should): 1 with the string's field in path, 2 with the key's object's,
 * else 0. */
static int not_utf8_in(const cJSON *it, char *path, size_t n, size_t used)
{
	const cJSON *c;
	size_t i = 0;

	if (cJSON_IsString(it))
		return !txt_utf8_valid(it->valuestring);
	cJSON_ArrayForEach(c, it) {
		size_t u = used;

		if (cJSON_IsObject(it) && !txt_utf8_valid(c->string))
			return 2;
		if (u < n)
			u += (size_t)(cJSON_IsObject(it)
			              ? snprintf(path + u, n - u, "%s%s", used ? "." : "", c->string)
			              : snprintf(path + u, n - u, "[%zu]", i));
		i++;
		int r = not_utf8_in(c, path, n, u < n ? u : n - 1);
		if (r)
			return r;
		path[used] = '\0';
	}
	return 0;
}

lbs_status cfg_parse(const char *text, size_t len, cJSON **out, char *err,
                     size_t errlen)
{
	size_t i = 0;
	cJSON *root;
	char why[512];

	*out = NULL;
	if (!text)
		return LBS_OK;
	while (i < len && (text[i] == ' ' || text[i] == '\t' ||
	                   text[i] == '\n' || text[i] == '\r'))
		i++;
	if (i == len)
		return LBS_OK;

	root = cfg_json(text, len, "config", err, errlen);
	if (!root)
		return LBS_ECONFIG;
	/* cJSON would cut "/srv/a\u0000/b" to "/srv/a": another store. */
	if (txt_json_flaw(why, sizeof why, text, len)) {
		set_err(err, errlen, "config: %s", why);
		cJSON_Delete(root);
		return LBS_ECONFIG;
	}
	if (!cJSON_IsObject(root)) {
		char what[32];

		cfg_got(root, what, sizeof(what));
		set_err(err, errlen, "config: must be a JSON object, got %s", what);
		cJSON_Delete(root);
		return LBS_ECONFIG;
	}
	why[0] = '\0';
	switch (not_utf8_in(root, why, sizeof why, 0)) {
		char shown[96];
	case 1:
		set_err(err, errlen, "config field '%s': must be valid UTF-8",
		        txt_show(shown, sizeof shown, why));
		cJSON_Delete(root);
		return LBS_ECONFIG;
	case 2:
		if (why[0])
			set_err(err, errlen, "config field '%s': a key is not valid UTF-8",
			        txt_show(shown, sizeof shown, why));
		else
			set_err(err, errlen, "config: a key is not valid UTF-8");
		cJSON_Delete(root);
		return LBS_ECONFIG;
	}
	*out = root;
	return LBS_OK;
}

lbs_status cfg_check_fields(const cJSON *obj, const char *const *known,
                            char *err, size_t errlen)
{
	const cJSON *m, *p;
	char shown[96];

	if (!obj)
		return LBS_OK;
	cJSON_ArrayForEach(m, obj) {
		const char *const *k;
		int found = 0;

		for (k = known; *k; k++)
			if (m->string && strcmp(*k, m->string) == 0)
				found = 1;
		if (!found) {
			char list[256];
			size_t used = 0;

			list[0] = '\0';
			for (k = known; *k && used < sizeof(list); k++) {
				int w = snprintf(list + used, sizeof(list) - used,
				                 "%s%s", k == known ? "" : ", ", *k);
				if (w < 0)
					break;
				used += (size_t)w;
			}
			set_err(err, errlen,
			        "config field '%s': unknown field (known: %s)",
			        txt_show(shown, sizeof shown, m->string), list);
			return LBS_ECONFIG;
		}
		for (p = obj->child; p != m; p = p->next) {
			if (p->string && strcmp(p->string, m->string) == 0) {
				set_err(err, errlen,
				        "config field '%s': given more than once",
				        txt_show(shown, sizeof shown, m->string));
				return LBS_ECONFIG;
			}
		}
	}
	return LBS_OK;
}

lbs_status cfg_number(const cJSON *obj, const char *name, double lo, double hi,
                      double def, double *out, char *err, size_t errlen)
{
	const cJSON *v = obj ? cJSON_GetObjectItemCaseSensitive(obj, name) : NULL;

	if (!v) {
		*out = def;
		return LBS_OK;
	}
	return cfg_number_of(v, name, lo, hi, out, err, errlen);
}

lbs_status cfg_number_of(const cJSON *v, const char *name, double lo, double hi,
                         double *out, char *err, size_t errlen)
{
	char what[48], los[32], his[32];

	if (cJSON_IsNumber(v) && isfinite(v->valuedouble) &&
	    v->valuedouble >= lo && v->valuedouble <= hi) {
		*out = v->valuedouble;
		return LBS_OK;
	}
	cfg_got(v, what, sizeof(what));
	describe_number(lo, los, sizeof(los));
	describe_number(hi, his, sizeof(his));
	set_err(err, errlen, "config field '%s': must be a number in %s..%s, got %s",
	        name, los, his, what);
	return LBS_ECONFIG;
}

lbs_status cfg_positive(const cJSON *obj, const char *name, double hi, double def,
                        double *out, char *err, size_t errlen)
{
	const cJSON *v = obj ? cJSON_GetObjectItemCaseSensitive(obj, name) : NULL;
	char what[48], his[32];

	if (!v) {
		*out = def;
		return LBS_OK;
	}
	if (cJSON_IsNumber(v) && isfinite(v->valuedouble) && v->valuedouble > 0 &&
	    v->valuedouble <= hi) {
		*out = v->valuedouble;
		return LBS_OK;
	}
	cfg_got(v, what, sizeof(what));
	describe_number(hi, his, sizeof(his));
	set_err(err, errlen, "config field '%s': must be a number > 0, at most %s, got %s", name,
	        his, what);
	return LBS_ECONFIG;
}

lbs_status cfg_bool(const cJSON *obj, const char *name, int def, int *out,
                    char *err, size_t errlen)
{
	const cJSON *v = obj ? cJSON_GetObjectItemCaseSensitive(obj, name) : NULL;
	char what[48];

	*out = def;
	if (!v)
		return LBS_OK;
	if (cJSON_IsBool(v)) {
		*out = cJSON_IsTrue(v) ? 1 : 0;
		return LBS_OK;
	}
	cfg_got(v, what, sizeof(what));
	set_err(err, errlen, "config field '%s': must be true or false, got %s", name, what);
	return LBS_ECONFIG;
}

lbs_status cfg_uint(const cJSON *obj, const char *name, uint64_t def,
                    uint64_t *out, char *err, size_t errlen)
{
	const cJSON *v = obj ? cJSON_GetObjectItemCaseSensitive(obj, name) : NULL;
	char what[48];
	double x;

	if (!v) {
		*out = def;
		return LBS_OK;
	}
	if (cJSON_IsNumber(v)) {
		x = v->valuedouble;
		if (isfinite(x) && x >= 0.0 && x <= UINT_EXACT_MAX && x == floor(x)) {
			*out = (uint64_t)x;
			return LBS_OK;
		}
	}
	cfg_got(v, what, sizeof(what));
	set_err(err, errlen,
	        "config field '%s': must be an unsigned integer up to 2^53 - 1, got %s",
	        name, what);
	return LBS_ECONFIG;
}

lbs_status cfg_uint_in(const cJSON *obj, const char *name, uint64_t lo, uint64_t hi,
                       uint32_t *out, char *err, size_t errlen)
{
	uint64_t v;
	lbs_status st = cfg_uint(obj, name, *out, &v, err, errlen);

	if (st == LBS_ECONFIG || (st == LBS_OK && (v < lo || v > hi))) {
		char what[48];

		cfg_got(cJSON_GetObjectItemCaseSensitive(obj, name), what, sizeof(what));
		set_err(err, errlen, "config field '%s': must be an integer in %llu..%llu, got %s",
		        name, (unsigned long long)lo, (unsigned long long)hi, what);
		st = LBS_ECONFIG;
	}
	if (st == LBS_OK)
		*out = (uint32_t)v;
	return st;
}

lbs_status cfg_load_ceiling(const cJSON *obj, double *out, char *err,
                            size_t errlen)
{
	return cfg_number(obj, "load_ceiling", 0.0, 1.0, CFG_CEILING_DEFAULT, out,
	                  err, errlen);
}

lbs_status cfg_object(const cJSON *obj, const char *name, const cJSON **out,
                      char *err, size_t errlen)
{
	const cJSON *v = obj ? cJSON_GetObjectItemCaseSensitive(obj, name) : NULL;

	*out = NULL;
	if (!v)
		return LBS_OK;
	if (!cJSON_IsObject(v)) {
		char g[32];
		cfg_got(v, g, sizeof g);
		set_err(err, errlen, "config field '%s': must be an object, got %s", name, g);
		return LBS_ECONFIG;
	}
	*out = v;
	return LBS_OK;
}

lbs_status cfg_nested(const char *group, lbs_status st, char *err, size_t errlen)
{
	static const char lead[] = "config field '";
	size_t at = sizeof lead - 1, glen, len;

	if (st == LBS_OK || !err || strncmp(err, lead, at))
		return st;
	/* In place, the message whole as far as err holds it: a copy of a
	 * bounded size cut a long store path's problem off, a level or two
	 * down. */
	glen = strlen(group) + 1;
	len = strlen(err);
	if (at + glen >= errlen)
		return st;
	if (len + glen >= errlen)
		len = errlen - glen - 1;
	memmove(err + at + glen, err + at, len - at);
	err[len + glen] = '\0';
	memcpy(err + at, group, glen - 1);
	err[at + glen - 1] = '.';
	return st;
}

lbs_status cfg_string(const cJSON *obj, const char *name, const char *def,
                      const char **out, char *err, size_t errlen)
{
	const cJSON *v = obj ? cJSON_GetObjectItemCaseSensitive(obj, name) : NULL;

	*out = def;
	if (!v)
		return LBS_OK;
	if (!cJSON_IsString(v) || !v->valuestring[0]) {
		char g[32];
		cfg_got(v, g, sizeof g);
		set_err(err, errlen, "config field '%s': must be a non-empty string, got %s", name,
		        cJSON_IsString(v) ? "an empty string" : g);
		return LBS_ECONFIG;
	}
	*out = v->valuestring;
	return LBS_OK;
}
