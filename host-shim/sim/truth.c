/*
 * truth.c -- see truth.h.
 */
#include "truth.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "taxonomy.h"

#define MAX_SPEED 1e6
/* A millionth of the expected speed turns a day's test into 2,700 years:
 * below that a speed is a typo, and its durations would overflow the
 * table's columns, not describe a machine. */
#define MIN_SPEED 1e-6
#define MAX_SECONDS CONV_MAX_SECONDS

static const char *const top_keys[] = {"workers", "noise_sigma", NULL};
static const char *const worker_keys[] = {"speed", "failure_rate", "throttle_after_s",
                                          "throttle_factor", "cooldown_s", NULL};

/* 0, or -1 with the error set when speed[key] is below MIN_SPEED; `field`
 * is "<prefix>.speed". */
static int speed_floor(conv_ctx *c, const char *file, const char *field, const cJSON *speed,
                       const char *key, double v)
{
	char g[64];

	if (v >= MIN_SPEED)
		return 0;
	return conv_fail(c, file, field, "'%s' must be at least 0.000001 (a millionth of the "
	                 "expected speed), got %s", key,
	                 conv_got(g, sizeof g, cJSON_GetObjectItemCaseSensitive(speed, key)));
}

/* One worker's entry; `prefix` is "workers.<id>"; the types it names by
 * name are added to *named. */
static int read_worker(conv_ctx *c, const char *file, const cJSON *obj, const char *prefix,
                       truth_worker *out, uint32_t *named_types)
{
	char field[256], g[200];
	const cJSON *speed;
	double after = INFINITY, factor = 1.0, cooldown = TRUTH_COOLDOWN_S;
	int r;

	if (!cJSON_IsObject(obj))
		return conv_fail(c, file, prefix, "must be an object, got %s",
		                 conv_got(g, sizeof g, obj));
	if (conv_keys(c, file, obj, prefix, worker_keys))
		return -1;
	memset(out, 0, sizeof *out);
	if (conv_obj(c, file, obj, "speed", prefix, CONV_REQUIRED, &speed) < 0)
		return -1;
	/* "*" first, so it can fill every type the entry does not name. */
	double dflt = 1.0;
	snprintf(field, sizeof field, "%s.speed", prefix);
	if ((r = conv_num(c, file, speed, "*", field, 0, MAX_SPEED, NULL, 0, &dflt)) < 0)
		return -1;
	if (r && speed_floor(c, file, field, speed, "*", dflt))
		return -1;
	for (uint32_t t = 0; t < LBS_WL_COUNT; t++)
		out->speed[t] = dflt;
	/* Types are compared after parsing: "NLP" and "nlp" are one type, and
	 * which of two speeds for it counts is not defined by JSON. */
	const char *named[LBS_WL_COUNT] = {0};
	for (const cJSON *s = speed->child; s; s = s->next) {
		const char *k = s->string ? s->string : "";
		char shown[160];
		int t;
		double v;

		if (!strcmp(k, "*")) {
			if (cJSON_GetObjectItemCaseSensitive(speed, "*") != s)
				return conv_fail(c, file, field, "'*' is given more than once");
			continue;
		}
		t = tax_workload_parse(k);
		if (t < 0)
			return conv_fail(c, file, field,
			                 "unknown workload type '%s' (one of MIXED, VISION, NLP, AUDIO, "
			                 "MULTIMODAL, TRAINING, INFERENCE, EMBEDDING, CONVERSATIONAL, or *)",
			                 conv_show(shown, sizeof shown, k));
		if (named[t] && !strcmp(named[t], k))
			return conv_fail(c, file, field, "'%s' is given more than once", k);
		if (named[t])
			return conv_fail(c, file, field, "'%s' is given more than once, as '%s' before "
			                 "(workload types ignore case)", k, named[t]);
		named[t] = k;
		if (conv_num(c, file, speed, k, field, 0, MAX_SPEED, NULL, 0, &v) < 0)
			return -1;
		if (speed_floor(c, file, field, speed, k, v))
			return -1;
		out->speed[t] = v;
		*named_types |= 1u << t;
	}
	if (conv_num(c, file, obj, "failure_rate", prefix, 0, 1, NULL, 0, &out->failure_rate) < 0)
		return -1;
	if ((r = conv_num(c, file, obj, "throttle_after_s", prefix, 0, MAX_SECONDS, "s", 0,
	                  &after)) < 0)
		return -1;
	int has_after = r;
	if ((r = conv_num(c, file, obj, "throttle_factor", prefix, 0, 1, NULL, 0, &factor)) < 0)
		return -1;
	/* Half a throttle description is a mistake, not a default. */
	if (has_after != r) {
		snprintf(field, sizeof field, "%s.%s", prefix,
		         has_after ? "throttle_factor" : "throttle_after_s");
		return conv_fail(c, file, field, "is required when %s is given",
		                 has_after ? "throttle_after_s" : "throttle_factor");
	}
	if (r && factor <= 0) {
		snprintf(field, sizeof field, "%s.throttle_factor", prefix);
		return conv_fail(c, file, field, "must be > 0 (a worker at 0 never finishes)");
	}
	if ((r = conv_num(c, file, obj, "cooldown_s", prefix, 0, MAX_SECONDS, "s", 0,
	                  &cooldown)) < 0)
		return -1;
	if (r && !has_after) {
		snprintf(field, sizeof field, "%s.cooldown_s", prefix);
		return conv_fail(c, file, field, "needs throttle_after_s and throttle_factor "
		                 "(a worker that never throttles has nothing to cool from)");
	}
	/* A factor of 1 slows nothing: that worker never throttles, and
	 * showing it as throttled would only mislead the schedulers. */
	out->throttle_after_s = has_after && factor < 1 ? after : INFINITY;
	out->throttle_factor = factor;
	out->cooldown_s = cooldown;
	return 0;
}

int truth_load(conv_ctx *c, const char *text, size_t len, const char *file,
               const lbs_worker *const *workers, uint32_t n, truth *out)
{
	cJSON *doc = conv_parse(c, text, len, file);
	const cJSON *ws, *star;
	char field[256], shown[160];
	uint8_t *seen = NULL;
	truth t = {0};
	int rc = -1;

	if (!doc)
		goto out;
	if (!cJSON_IsObject(doc)) {
		conv_fail(c, file, NULL, "must be a JSON object with \"workers\"");
		goto out;
	}
	if (conv_keys(c, file, doc, NULL, top_keys) ||
	    conv_obj(c, file, doc, "workers", NULL, CONV_REQUIRED, &ws) < 0 ||
	    conv_num(c, file, doc, "noise_sigma", NULL, 0, 5, NULL, 0, &t.noise_sigma) < 0)
		goto out;
	t.n = n;
	t.w = arena_alloc(c->arena, (size_t)n * sizeof *t.w + 1);
	seen = arena_alloc(c->arena, (size_t)n + 1);
	if (!t.w || !seen) {
		conv_fail(c, file, NULL, "out of memory");
		goto out;
	}
	for (const cJSON *e = ws->child; e; e = e->next) {
		const char *id = e->string ? e->string : "";
		uint32_t i;

		if (!strcmp(id, "*")) {
			if (cJSON_GetObjectItemCaseSensitive(ws, "*") != e) {
				conv_fail(c, file, "workers.*", "is given more than once");
				goto out;
			}
			continue;
		}
		snprintf(field, sizeof field, "workers.%s", conv_show(shown, sizeof shown, id));
		for (i = 0; i < n && strcmp(workers[i]->id, id); i++)
			;
		if (i == n) {
			conv_fail(c, file, field, "no worker '%s' in the fleet", shown);
			goto out;
		}
		if (seen[i]) {
			conv_fail(c, file, field, "is given more than once");
			goto out;
		}
		if (read_worker(c, file, e, field, &t.w[i], &t.named))
			goto out;
		seen[i] = 1;
	}
	/* Read once, not once per worker it stands for: its warnings would
	 * repeat for each, and a bad "*" is an error even when every worker
	 * is listed. */
	truth_worker star_w;
	star = cJSON_GetObjectItemCaseSensitive(ws, "*");
	if (star && read_worker(c, file, star, "workers.*", &star_w, &t.named))
		goto out;
	for (uint32_t i = 0; i < n; i++) {
		if (seen[i])
			continue;
		if (!star) {
			conv_fail(c, file, "workers",
			          "has no entry for fleet worker '%s' (add one, or a \"*\" entry for "
			          "the workers not listed)",
			          conv_show(shown, sizeof shown, workers[i]->id));
			goto out;
		}
		t.w[i] = star_w;
	}
	*out = t;
	rc = 0;
out:
	cJSON_Delete(doc);
	return rc;
}
