/*
 * reqmap.c -- a request's values to a workload (reqmap.h).
 */
#include "reqmap.h"

#include <stdlib.h>
#include <string.h>

#include "taxonomy.h"
#include "text.h"

const char *const rq_field_name[RQ_COUNT] = {
	"test type", "model id", "min memory", "priority", "required backend",
	"preferred backend", "expected duration", "deadline",
};

/* Only what a test type, model id, number or backend list is made of: no
 * spaces, quotes or control bytes that could forge a log line. */
static int allowed(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.' || c == ':' || c == '/' || c == ',' || c == '+' || c == '-';
}

static int ows(char c)
{
	return c == ' ' || c == '\t';
}

/* v copied NUL-terminated into out (RQ_MAX_VALUE + 1 bytes); NULL, with
 * *why set when v was given, if it is unusable.  Spaces and tabs at either
 * end and beside a comma are an HTTP list's optional whitespace, and are
 * left out ("cuda, tensorrt" was refused whole, and a request that
 * required CUDA went anywhere); inside a name or number they are not. */
static char *value(rq_value v, char *out, const char **why)
{
	size_t o = 0;

	if (!v.data || v.len == 0)
		return NULL;
	if (v.len > RQ_MAX_VALUE) {
		*why = "is longer than 256 bytes";
		return NULL;
	}
	for (size_t i = 0; i < v.len; i++) {
		if (ows(v.data[i])) {
			size_t j = i;

			while (j < v.len && ows(v.data[j]))
				j++;
			if (o == 0 || out[o - 1] == ',' || j == v.len || v.data[j] == ',') {
				i = j - 1;
				continue;
			}
		}
		if (!allowed((unsigned char)v.data[i])) {
			*why = "has a character outside [A-Za-z0-9_.:/,+-]";
			return NULL;
		}
		out[o++] = v.data[i];
	}
	if (o == 0)
		return NULL; /* blank: not stated */
	out[o] = '\0';
	return out;
}

/* A decimal in lo..hi, else dflt and *why: `range`, which names them.  A
 * header's "+4" or "0100" is the number a person means (JSON's grammar,
 * which refuses both, dropped a memory requirement so written). */
static double number(rq_value v, double lo, double hi, double dflt, const char *range,
                     const char **why)
{
	char buf[RQ_MAX_VALUE + 1];
	const char *s = value(v, buf, why);
	double d;

	if (!s)
		return dflt;
	if (*s == '+' && s[1] != '-')
		s++;
	while (s[0] == '0' && s[1] >= '0' && s[1] <= '9')
		s++;
	if (!txt_decimal(s, &d) || !(d >= lo && d <= hi)) {
		*why = range;
		return dflt;
	}
	return d;
}

/* "cuda" or "cuda,tensorrt" to a backend set; 0 if any name is unknown. */
static uint64_t backends(rq_value v, const char **why)
{
	char buf[RQ_MAX_VALUE + 1], *save, *name;
	char *s = value(v, buf, why);
	uint64_t set = 0, bit;

	if (!s)
		return 0;
	for (name = strtok_r(s, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
		bit = tax_backend_parse(name);
		if (bit == 0 || bit == LBS_BACKEND_OTHER) {
			*why = "names an unknown backend";
			return 0;
		}
		set |= bit;
	}
	if (!set)
		*why = "names no backend";
	return set;
}

int rq_workload(const rq_value vals[RQ_COUNT], rq_text *text, lbs_workload *w,
                const char *why[RQ_COUNT])
{
	double gb, dur;
	int n = 0;

	memset(why, 0, RQ_COUNT * sizeof *why);
	memset(w, 0, sizeof *w);
	w->struct_size = sizeof *w;
	w->min_shards = w->max_shards = 1;
	w->allocation = LBS_ALLOC_SINGLE;
	w->io_intensity = w->network_intensity = 0.5;
	w->latency_sensitivity = w->throughput_sensitivity = 0.5;

	w->test_type = value(vals[RQ_TEST_TYPE], text->test_type, &why[RQ_TEST_TYPE]);
	w->type = tax_workload_from_test_type(w->test_type);
	w->model_id = value(vals[RQ_MODEL_ID], text->model_id, &why[RQ_MODEL_ID]);

	/* A value not stated (or ignored) leaves its metric at 0.5, not
	 * known; a stated one, 0 included, maps as the shim maps it. */
	gb = number(vals[RQ_MIN_MEMORY], 0, 1048576, -1, "is not a number of GB from 0 to 1048576",
	            &why[RQ_MIN_MEMORY]);
	w->min_memory_bytes = gb > 0 ? (uint64_t)(gb * 1073741824.0) : 0;
	w->memory_intensity = gb < 0 ? 0.5 : tax_memory_intensity(gb);

	/* Whole numbers only: 2.5 would silently become 2. */
	double p = number(vals[RQ_PRIORITY], 1, 5, 3, "is not a whole number from 1 to 5",
	                  &why[RQ_PRIORITY]);
	if (p != (double)(uint32_t)p) {
		why[RQ_PRIORITY] = "is not a whole number from 1 to 5";
		p = 3;
	}
	w->priority = (uint32_t)p;

	w->required_backends = backends(vals[RQ_REQUIRED_BACKEND], &why[RQ_REQUIRED_BACKEND]);
	w->preferred_backends = backends(vals[RQ_PREFERRED_BACKEND], &why[RQ_PREFERRED_BACKEND]);

	dur = number(vals[RQ_EXPECTED_DURATION], 0, 604800, -1,
	             "is not a number of seconds from 0 to 604800", &why[RQ_EXPECTED_DURATION]);
	w->est_duration_s = dur > 0 ? dur : 0;
	w->compute_intensity = dur < 0 ? 0.5 : tax_compute_intensity(dur);
	w->deadline_s = number(vals[RQ_DEADLINE], 0, 604800, 0,
	                       "is not a number of seconds from 0 to 604800", &why[RQ_DEADLINE]);

	for (int i = 0; i < RQ_COUNT; i++)
		n += why[i] != NULL;
	return n;
}
