/*
 * stream.c -- see stream.h.
 */
#include "stream.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file.h"
#include "rng.h"

#define MAX_TYPES 1024
#define MAX_MIX 1024

/* The noise and failure draws come from their own sequence, so a stream
 * dumped and replayed with the same seed meets the same luck. */
#define LUCK_SALT UINT64_C(0x6c75636b)

static const char *const mix_keys[] = {
	"test_type", "share", "minimum_memory", "expected_duration", "priority",
	"required_backend", "required_accelerators", "deadline", NULL};

typedef struct range {
	double lo, hi;
	int given;
} range;

typedef struct mix_entry {
	const char *test_type;
	double share;
	range memory, duration, priority, deadline;
	const char *backend;         /* may be NULL */
	const cJSON *accelerators;   /* may be NULL */
	int converted;               /* a test of it went through the converter */
} mix_entry;

/* A range: [lo, hi] with lo <= hi, or one number; both within lo..hi. */
static int read_range(conv_ctx *c, const char *file, const cJSON *obj, const char *key,
                      const char *prefix, double lo, double hi, int integer, range *out)
{
	char field[300], g[200];
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);

	snprintf(field, sizeof field, "%s.%s", prefix, key);
	out->given = 0;
	if (!it || cJSON_IsNull(it))
		return 0;
	if (cJSON_IsNumber(it)) {
		if (conv_num(c, file, obj, key, prefix, lo, hi, NULL, 0, &out->lo) < 0)
			return -1;
		out->hi = out->lo;
	} else if (cJSON_IsArray(it) && cJSON_GetArraySize(it) == 2) {
		/* The ends are checked here, not as fields of their own: the
		 * message names the range the user wrote, and which end is wrong. */
		const cJSON *end[2] = {it->child, it->child->next};
		double *val[2] = {&out->lo, &out->hi};
		for (int i = 0; i < 2; i++) {
			double d = cJSON_IsNumber(end[i]) ? end[i]->valuedouble : NAN;
			if (!isfinite(d) || d < lo || d > hi)
				return conv_fail(c, file, field, "the %s end must be a finite number in "
				                 "%.15g..%.15g, got %s", i ? "high" : "low", lo, hi,
				                 conv_got(g, sizeof g, end[i]));
			*val[i] = d;
		}
		if (out->lo > out->hi)
			return conv_fail(c, file, field, "must be [low, high] with low <= high");
	} else {
		return conv_fail(c, file, field, "must be a number or [low, high], got %s",
		                 conv_got(g, sizeof g, it));
	}
	if (integer && (out->lo != floor(out->lo) || out->hi != floor(out->hi)))
		return conv_fail(c, file, field, "must hold integers");
	out->given = 1;
	return 1;
}

static int read_mix(conv_ctx *c, const char *file, const cJSON *doc, mix_entry **out,
                    uint32_t *n_out)
{
	char prefix[64], g[200];
	uint32_t n = 0;
	double total = 0;
	mix_entry *m;

	if (!cJSON_IsArray(doc))
		return conv_fail(c, file, NULL, "must be a non-empty JSON array of mix entries, got %s",
		                 conv_got(g, sizeof g, doc));
	if (cJSON_GetArraySize(doc) == 0)
		return conv_fail(c, file, NULL, "is an empty array: a mix needs at least one entry");
	if (cJSON_GetArraySize(doc) > MAX_MIX)
		return conv_fail(c, file, NULL, "has more than %d entries", MAX_MIX);
	m = arena_alloc(c->arena, (size_t)cJSON_GetArraySize(doc) * sizeof *m);
	if (!m)
		return conv_fail(c, file, NULL, "out of memory");
	for (const cJSON *e = doc->child; e; e = e->next, n++) {
		mix_entry *x = &m[n];

		snprintf(prefix, sizeof prefix, "[%u]", n);
		if (!cJSON_IsObject(e))
			return conv_fail(c, file, prefix, "must be an object, got %s",
			                 conv_got(g, sizeof g, e));
		if (conv_keys(c, file, e, prefix, mix_keys) ||
		    conv_str(c, file, e, "test_type", prefix, CONV_REQUIRED | CONV_NONEMPTY,
		             &x->test_type) < 0 ||
		    conv_num(c, file, e, "share", prefix, 0, 1e9, NULL, CONV_REQUIRED, &x->share) < 0 ||
		    read_range(c, file, e, "minimum_memory", prefix, 0, 1e6, 0, &x->memory) < 0 ||
		    read_range(c, file, e, "expected_duration", prefix, 0, 1e7, 0, &x->duration) < 0 ||
		    read_range(c, file, e, "priority", prefix, 1, 5, 1, &x->priority) < 0 ||
		    read_range(c, file, e, "deadline", prefix, 0, 1e7, 0, &x->deadline) < 0 ||
		    conv_str(c, file, e, "required_backend", prefix, CONV_NULLABLE | CONV_NONEMPTY,
		             &x->backend) < 0 ||
		    conv_obj(c, file, e, "required_accelerators", prefix, CONV_NULLABLE,
		             &x->accelerators) < 0)
			return -1;
		if (!x->duration.given) {
			char f[96];
			snprintf(f, sizeof f, "%s.expected_duration", prefix);
			return conv_fail(c, file, f, "is required (the simulator needs a duration)");
		}
		if (x->duration.lo <= 0) {
			char f[96];
			snprintf(f, sizeof f, "%s.expected_duration", prefix);
			return conv_fail(c, file, f, "must be > 0 s");
		}
		total += x->share;
	}
	/* With one entry its share is the field to fix; with several, no one
	 * entry is wrong. */
	if (!(total > 0) && n == 1)
		return conv_fail(c, file, "[0].share", "must be > 0 (the only entry's share)");
	if (!(total > 0))
		return conv_fail(c, file, NULL, "every entry's share is 0: at least one must be > 0");
	for (uint32_t i = 0; i < n; i++)
		m[i].share /= total;
	*out = m;
	*n_out = n;
	return 0;
}

/* The index of a test type, added when new. */
static int type_index(conv_ctx *c, stream *s, const char *name, const char *where,
                      uint32_t *out)
{
	uint32_t i;

	name = name ? name : "";
	for (i = 0; i < s->n_types && strcmp(s->types[i], name); i++)
		;
	if (i == s->n_types) {
		if (s->n_types == MAX_TYPES)
			return conv_fail(c, where, "test_type", "more than %d test types", MAX_TYPES);
		if (!(s->types[i] = arena_strdup(c->arena, name)))
			return conv_fail(c, where, NULL, "out of memory");
		s->n_types++;
	}
	*out = i;
	return 0;
}

/* Convert one record (arrival_s already taken out) into test i. */
static int add_test(conv_ctx *c, stream *s, cJSON *rec, const char *where, double arrival,
                    rng *luck, FILE *dump)
{
	sim_test *t = &s->t[s->n];

	if (conv_workload(c, rec, where, &t->wl))
		return -1;
	if (t->wl.allocation != LBS_ALLOC_SINGLE)
		return conv_fail(c, where, "custom_properties.allocation_strategy",
		                 "the simulator places single-worker tests only, got \"%s\"",
		                 t->wl.allocation == LBS_ALLOC_SHARDED ? "sharded" : "replicated");
	/* decide gives a test without one the original's 60 s; a simulated
	 * run of a made-up length would be a made-up result. */
	if (!cJSON_GetObjectItemCaseSensitive(rec, "expected_duration") ||
	    !(t->wl.est_duration_s > 0))
		return conv_fail(c, where, "expected_duration",
		                 "is required and must be > 0 s (the simulator needs a duration)");
	if (type_index(c, s, t->wl.test_type, where, &t->type_index))
		return -1;
	t->arrival_s = arrival;
	t->z = rng_normal(luck);
	t->u = rng_unit(luck);
	if (dump) {
		char *text;
		cJSON_AddNumberToObject(rec, "arrival_s", arrival);
		/* read back as they were drawn, or a replay is another run */
		text = conv_exact_numbers(rec) ? NULL : cJSON_PrintUnformatted(rec);
		if (!text)
			return conv_fail(c, where, NULL, "out of memory");
		fprintf(dump, "%s\n", text);
		free(text);
	}
	s->n++;
	return 0;
}

static int stream_alloc(conv_ctx *c, const char *file, uint32_t n, stream *s)
{
	memset(s, 0, sizeof *s);
	s->t = arena_alloc(c->arena, ((size_t)n + 1) * sizeof *s->t);
	s->types = arena_alloc(c->arena, MAX_TYPES * sizeof *s->types);
	if (!s->t || !s->types)
		return conv_fail(c, file, NULL, "out of memory");
	return 0;
}

int stream_from_mix(conv_ctx *c, const char *text, size_t len, const char *file,
                    uint32_t n_tests, double rate, uint64_t seed, FILE *dump,
                    stream *out)
{
	cJSON *doc = conv_parse(c, text, len, file);
	mix_entry *m = NULL;
	uint32_t n_mix = 0;
	rng draw, luck;
	double now = 0;
	stream s;
	int rc = -1;

	if (!doc)
		goto out;
	if (read_mix(c, file, doc, &m, &n_mix) || stream_alloc(c, file, n_tests, &s))
		goto out;
	/* Every type of the mix is listed, even one no test happens to draw. */
	for (uint32_t i = 0; i < n_mix; i++) {
		uint32_t ignored;
		if (type_index(c, &s, m[i].test_type, file, &ignored))
			goto out;
	}
	rng_seed(&draw, seed);
	rng_seed(&luck, seed ^ LUCK_SALT);
	for (uint32_t i = 0; i < n_tests; i++) {
		double u = rng_unit(&draw), acc = 0;
		uint32_t k = 0;
		char id[32], where[96];
		cJSON *rec = cJSON_CreateObject();
		int bad;

		now += rng_exp(&draw, rate);
		/* What is generated can be dumped, and what is dumped must
		 * replay: a stream past the tests file's limit is refused. */
		if (now > STREAM_MAX_ARRIVAL_S) {
			snprintf(c->err, c->errlen, "test %u would arrive at %.0f s", i + 1, now);
			cJSON_Delete(rec);
			rc = -2;
			goto out;
		}
		while (k + 1 < n_mix && (acc += m[k].share) < u)
			k++;
		snprintf(id, sizeof id, "t%06u", i + 1);
		snprintf(where, sizeof where, "%s: entry [%u] (test %s)", file, k, id);
		if (!rec) {
			conv_fail(c, file, NULL, "out of memory");
			goto out;
		}
		cJSON_AddStringToObject(rec, "test_id", id);
		cJSON_AddStringToObject(rec, "test_type", m[k].test_type);
		if (m[k].memory.given)
			cJSON_AddNumberToObject(rec, "minimum_memory",
			                        rng_range(&draw, m[k].memory.lo, m[k].memory.hi));
		cJSON_AddNumberToObject(rec, "expected_duration",
		                        rng_range(&draw, m[k].duration.lo, m[k].duration.hi));
		if (m[k].priority.given) {
			double p = m[k].priority.lo +
			           floor(rng_unit(&draw) * (m[k].priority.hi - m[k].priority.lo + 1));
			cJSON_AddNumberToObject(rec, "priority", p);
		}
		if (m[k].deadline.given)
			cJSON_AddNumberToObject(rec, "deadline",
			                        rng_range(&draw, m[k].deadline.lo, m[k].deadline.hi));
		if (m[k].backend)
			cJSON_AddStringToObject(rec, "required_backend", m[k].backend);
		if (m[k].accelerators)
			cJSON_AddItemToObject(rec, "required_accelerators",
			                      cJSON_Duplicate(m[k].accelerators, 1));
		{
			/* The converter's warnings about an entry's fields come
			 * with its first test only: every test made from it has
			 * the same fields (a bad backend warned once a test). */
			conv_ctx quiet = *c;

			if (m[k].converted)
				quiet.warn = NULL;
			m[k].converted = 1;
			bad = add_test(&quiet, &s, rec, where, now, &luck, dump);
		}
		cJSON_Delete(rec);
		if (bad)
			goto out;
	}
	*out = s;
	rc = 0;
out:
	cJSON_Delete(doc);
	return rc;
}

static int given_twice(const cJSON *obj, const char *key)
{
	int n = 0;

	for (const cJSON *ch = obj->child; ch; ch = ch->next)
		n += ch->string && !strcmp(ch->string, key);
	return n > 1;
}

int stream_from_lines(conv_ctx *c, char *text, size_t len, const char *file, uint64_t seed,
                      FILE *dump, stream *out)
{
	uint32_t lines = 1;
	double last = 0;
	file_lines it;
	char *line;
	size_t line_len;
	int got;
	rng luck;
	stream s;

	for (size_t i = 0; i < len; i++)
		lines += text[i] == '\n';
	if (stream_alloc(c, file, lines, &s))
		return -1;
	rng_seed(&luck, seed ^ LUCK_SALT);
	file_lines_init(&it, text, len, file);
	/* A bad line stops the run: a simulation of fewer tests than the file
	 * holds would compare schedulers on the wrong workload. */
	while ((got = file_next_line(&it, &line, &line_len, c->err, c->errlen))) {
		char where[512];
		cJSON *rec, *arr;
		double arrival = 0;
		int bad;

		if (got < 0)
			return -1;
		file_where(where, sizeof where, file, it.lineno);
		rec = conv_parse(c, line, line_len, where);
		if (!rec)
			return -1;
		if (!cJSON_IsObject(rec)) {
			char g[200];
			conv_fail(c, where, NULL, "must be a JSON object, got %s",
			          conv_got(g, sizeof g, rec));
			cJSON_Delete(rec);
			return -1;
		}
		/* The converter never sees arrival_s (detached below), so its
		 * check of keys given twice is made here: a second one was
		 * left for it to warn of as unknown. */
		if (given_twice(rec, "arrival_s")) {
			conv_fail(c, where, "arrival_s", "is given more than once");
			cJSON_Delete(rec);
			return -1;
		}
		if (conv_num(c, where, rec, "arrival_s", NULL, 0, STREAM_MAX_ARRIVAL_S, "s", CONV_REQUIRED,
		             &arrival) < 0) {
			cJSON_Delete(rec);
			return -1;
		}
		if (arrival < last) {
			cJSON_Delete(rec);
			return conv_fail(c, where, "arrival_s",
			                 "goes back in time (%.17g after %.17g); sort the tests by arrival",
			                 arrival, last);
		}
		last = arrival;
		/* The converter would warn about a field it does not know. */
		arr = cJSON_DetachItemFromObjectCaseSensitive(rec, "arrival_s");
		cJSON_Delete(arr);
		bad = add_test(c, &s, rec, where, arrival, &luck, dump);
		cJSON_Delete(rec);
		if (bad)
			return -1;
	}
	if (s.n == 0)
		return conv_fail(c, file, NULL, "holds no tests");
	*out = s;
	return 0;
}
