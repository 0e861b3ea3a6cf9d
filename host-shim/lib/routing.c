/*
 * routing.c -- a routing document read into one scheduler per distinct
 * target, and the route for each test type.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "composite.h"
#include "convert.h"
#include "routing.h"
#include "text.h"

/* A document longer than this is not a routing table someone wrote. */
#define MAX_ROUTES 4096

struct shim_router {
	comp_route *routes; /* match strings owned */
	char **labels;      /* "prefix 'vision_'", per route */
	uint32_t *target;   /* per route, an index into scheds */
	uint32_t n_routes;
	shim_sched **scheds;
	char **keys;        /* plugin, scheduler and config of each */
	uint32_t n_scheds;
	uint32_t fallback;  /* the default's index into scheds */
};

static const char *const top_fields[] = { "routes", "default", NULL };
static const char *const route_fields[] = {
	"test_type", "prefix", "scheduler", "plugin", "config", NULL,
};
static const char *const default_fields[] = { "scheduler", "plugin", "config", NULL };

static lbs_status fail(char *err, size_t errlen, const char *doc,
                       const char *field, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* "<doc>: field '<field>': <problem>"; always LBS_ECONFIG. */
static lbs_status fail(char *err, size_t errlen, const char *doc,
                       const char *field, const char *fmt, ...)
{
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	snprintf(err, errlen, "%s: field '%s': %s", doc, field, what);
	return LBS_ECONFIG;
}

static lbs_status known(const cJSON *obj, const char *const *names,
                        const char *doc, const char *at, char *err,
                        size_t errlen)
{
	const cJSON *m;

	cJSON_ArrayForEach(m, obj) {
		const char *const *k = names;
		char field[160], show[96];

		while (*k && strcmp(*k, m->string))
			k++;
		/* the key is the file's text: shown escaped and cut, so that
		 * the error stays one line of UTF-8 */
		snprintf(field, sizeof field, "%s%s%s", at, *at ? "." : "",
		         txt_show(show, sizeof show, m->string));
		if (!*k)
			return fail(err, errlen, doc, field, "unknown field");
		for (const cJSON *p = obj->child; p != m; p = p->next)
			if (!strcmp(p->string, m->string))
				return fail(err, errlen, doc, field, "given more than once");
	}
	return LBS_OK;
}

/* A non-empty string member, or NULL when absent. */
static lbs_status text(const cJSON *obj, const char *name, const char *doc,
                       const char *at, const char **out, char *err,
                       size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
	char field[96];

	*out = NULL;
	if (!v)
		return LBS_OK;
	if (cJSON_IsString(v) && v->valuestring[0]) {
		*out = v->valuestring;
		return LBS_OK;
	}
	snprintf(field, sizeof field, "%s.%s", at, name);
	return fail(err, errlen, doc, field, "must be a non-empty string");
}

/* The scheduler a route or the default names, opened or shared; at NULL for
 * the default the command line gives. */
static lbs_status open_target(shim_router *r, shim_host *h,
                              const router_target *t, const char *doc,
                              const char *at, uint32_t *out, char *err,
                              size_t errlen)
{
	size_t klen = strlen(t->plugin ? t->plugin : "") + strlen(t->scheduler) +
	              (t->config ? t->config_len : 0) + 3;
	char *key = malloc(klen), serr[768];
	lbs_status st;

	if (!key) {
		snprintf(err, errlen, "%s: out of memory", doc);
		return LBS_ENOMEM;
	}
	snprintf(key, klen, "%s\n%s\n%.*s", t->plugin ? t->plugin : "", t->scheduler,
	         t->config ? (int)t->config_len : 0, t->config ? t->config : "");
	for (uint32_t i = 0; i < r->n_scheds; i++) {
		if (!strcmp(r->keys[i], key)) {
			free(key);
			*out = i;
			return LBS_OK;
		}
	}
	r->keys[r->n_scheds] = key;
	st = sched_open(h, t->plugin, t->scheduler, t->config, t->config_len,
	                &r->scheds[r->n_scheds], serr, sizeof serr);
	if (st != LBS_OK) {
		free(key);
		r->keys[r->n_scheds] = NULL;
		/* as the CLI names --config without --routes */
		if (t->config_name && (st == LBS_ECONFIG || st == LBS_EIO))
			snprintf(err, errlen, "%s: %s", t->config_name, serr);
		else if (!at) /* the command line's: the document has no such field */
			snprintf(err, errlen, "%s", serr);
		else
			snprintf(err, errlen, "%s: field '%s': %s", doc, at, serr);
		return st;
	}
	*out = r->n_scheds++;
	return LBS_OK;
}

/* {"scheduler", "plugin", "config"} of obj at `at`, opened. */
static lbs_status read_target(shim_router *r, shim_host *h, const cJSON *obj,
                              const char *plugin, const char *doc,
                              const char *at, uint32_t *out, char *err,
                              size_t errlen)
{
	const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(obj, "config");
	router_target t = { .plugin = plugin };
	char *cfg_text = NULL, field[96];
	lbs_status st;

	st = text(obj, "scheduler", doc, at, &t.scheduler, err, errlen);
	if (st == LBS_OK && !t.scheduler) {
		snprintf(field, sizeof field, "%s.scheduler", at);
		st = fail(err, errlen, doc, field, "required (a scheduler name)");
	}
	if (st == LBS_OK)
		st = text(obj, "plugin", doc, at, &t.plugin, err, errlen);
	if (st == LBS_OK && cfg && !cJSON_IsObject(cfg)) {
		snprintf(field, sizeof field, "%s.config", at);
		st = fail(err, errlen, doc, field, "must be an object (the scheduler's config)");
	}
	if (st != LBS_OK)
		return st;
	if (!t.plugin)
		t.plugin = plugin;
	if (cfg && !(cfg_text = cJSON_PrintUnformatted(cfg))) {
		snprintf(err, errlen, "%s: out of memory", doc);
		return LBS_ENOMEM;
	}
	t.config = cfg_text;
	t.config_len = cfg_text ? strlen(cfg_text) : 0;
	st = open_target(r, h, &t, doc, at, out, err, errlen);
	cJSON_free(cfg_text);
	return st;
}

static lbs_status read_route(shim_router *r, shim_host *h, const cJSON *obj,
                             const char *plugin, const char *doc, char *err,
                             size_t errlen)
{
	uint32_t i = r->n_routes;
	comp_route *route = &r->routes[i];
	const char *exact, *prefix;
	char at[32], label[600];
	lbs_status st;

	snprintf(at, sizeof at, "routes[%u]", i);
	if (!cJSON_IsObject(obj))
		return fail(err, errlen, doc, at, "must be an object {\"test_type\" or "
		            "\"prefix\", \"scheduler\", \"config\"}");
	st = known(obj, route_fields, doc, at, err, errlen);
	if (st == LBS_OK)
		st = text(obj, "test_type", doc, at, &exact, err, errlen);
	if (st == LBS_OK)
		st = text(obj, "prefix", doc, at, &prefix, err, errlen);
	if (st != LBS_OK)
		return st;
	if (!exact == !prefix)
		return fail(err, errlen, doc, at, "give %s 'test_type' (an exact name) or 'prefix'",
		            exact ? "either" : "one of");
	route->prefix = prefix != NULL;
	snprintf(label, sizeof label, "%s '%s'", prefix ? "prefix" : "test type",
	         prefix ? prefix : exact);
	route->match = strdup(prefix ? prefix : exact);
	r->labels[i] = strdup(label);
	r->n_routes++;
	if (!route->match || !r->labels[i]) {
		snprintf(err, errlen, "%s: out of memory", doc);
		return LBS_ENOMEM;
	}
	if (comp_route_repeat(r->routes, r->n_routes) >= 0) {
		char show[96];
		return fail(err, errlen, doc, at, "%s '%s' is routed twice",
		            prefix ? "prefix" : "test type",
		            txt_show(show, sizeof show, route->match));
	}
	return read_target(r, h, obj, plugin, doc, at, &r->target[i], err, errlen);
}

lbs_status router_open(shim_host *h, const char *doc, size_t len,
                       const char *doc_name, const char *plugin,
                       const router_target *fallback, shim_router **out,
                       char *err, size_t errlen)
{
	conv_ctx c = {NULL, NULL, NULL, err, errlen, NULL};
	cJSON *root = conv_parse(&c, doc, len, doc_name);
	const cJSON *routes, *def, *el;
	shim_router *r = NULL;
	lbs_status st = LBS_OK;
	int n = 0;

	*out = NULL;
	if (!root)
		return LBS_ECONFIG;
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		snprintf(err, errlen, "%s: not a JSON object {\"routes\": [...], "
		         "\"default\": {...}}", doc_name);
		return LBS_ECONFIG;
	}
	routes = cJSON_GetObjectItemCaseSensitive(root, "routes");
	def = cJSON_GetObjectItemCaseSensitive(root, "default");
	st = known(root, top_fields, doc_name, "", err, errlen);
	if (st == LBS_OK && routes && !cJSON_IsArray(routes))
		st = fail(err, errlen, doc_name, "routes", "must be a list of routes");
	if (st == LBS_OK && (n = cJSON_GetArraySize(routes)) > MAX_ROUTES)
		st = fail(err, errlen, doc_name, "routes", "%d routes, at most %d", n, MAX_ROUTES);
	if (st == LBS_OK && def && !cJSON_IsObject(def))
		st = fail(err, errlen, doc_name, "default", "must be an object {\"scheduler\", \"config\"}");
	if (st == LBS_OK && !def && !fallback)
		st = fail(err, errlen, doc_name, "default", "required: the scheduler for "
		          "test types no route takes");
	if (st == LBS_OK) {
		r = calloc(1, sizeof *r);
		if (r) {
			r->routes = calloc((size_t)n + 1, sizeof *r->routes);
			r->labels = calloc((size_t)n + 1, sizeof *r->labels);
			r->target = calloc((size_t)n + 1, sizeof *r->target);
			r->scheds = calloc((size_t)n + 1, sizeof *r->scheds);
			r->keys = calloc((size_t)n + 1, sizeof *r->keys);
		}
		if (!r || !r->routes || !r->labels || !r->target || !r->scheds || !r->keys) {
			snprintf(err, errlen, "%s: out of memory", doc_name);
			st = LBS_ENOMEM;
		}
	}
	if (st == LBS_OK) {
		cJSON_ArrayForEach(el, routes) {
			st = read_route(r, h, el, plugin, doc_name, err, errlen);
			if (st != LBS_OK)
				break;
		}
	}
	if (st == LBS_OK && def && fallback && fallback->given)
		st = fail(err, errlen, doc_name, "default", "the document names its own default "
		          "route, and %s another; keep one of them", fallback->given);
	if (st == LBS_OK && def) {
		st = known(def, default_fields, doc_name, "default", err, errlen);
		if (st == LBS_OK)
			st = read_target(r, h, def, plugin, doc_name, "default", &r->fallback,
			                 err, errlen);
	} else if (st == LBS_OK) {
		router_target t = *fallback;

		if (!t.plugin)
			t.plugin = plugin;
		st = open_target(r, h, &t, doc_name, NULL, &r->fallback, err, errlen);
	}
	/* After the default's own checks, which say more.  A document that
	 * routes nothing sends every test to the default: a mistake, or
	 * --scheduler and --config said the long way. */
	if (st == LBS_OK && !n)
		st = fail(err, errlen, doc_name, "routes", "required: a list of at least one route "
		          "(without one every test goes to the default)");
	cJSON_Delete(root);
	if (st != LBS_OK) {
		router_close(r);
		return st;
	}
	*out = r;
	return LBS_OK;
}

shim_sched *router_pick(const shim_router *r, const char *test_type,
                        const char **route)
{
	int32_t i = comp_route_find(r->routes, r->n_routes, test_type);

	if (route)
		*route = i < 0 ? "default" : r->labels[i];
	return r->scheds[i < 0 ? r->fallback : r->target[i]];
}

void router_close(shim_router *r)
{
	if (!r)
		return;
	for (uint32_t i = 0; i < r->n_scheds; i++) {
		sched_close(r->scheds[i]);
		free(r->keys[i]);
	}
	for (uint32_t i = 0; i < r->n_routes; i++) {
		free((char *)r->routes[i].match);
		free(r->labels[i]);
	}
	free(r->routes);
	free(r->labels);
	free(r->target);
	free(r->scheds);
	free(r->keys);
	free(r);
}
