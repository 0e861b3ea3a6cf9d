/*
 * graph.c -- a workload graph from its JSON document: the subtasks'
 * requirements (through convert.h, as any test's), dependencies,
 * criticality, alternates and recovery settings; then the checks that make
 * it a DAG a fleet can run.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "eligible.h"
#include "orch_int.h"
#include "text.h"

/* "description" is for people and is not read. */
static const char *const graph_keys[] = {"name", "aggregation_method", "subtasks", "recovery",
                                         "description", NULL};
static const char *const task_keys[] = {"subtask_id", "requirements", "dependencies",
                                        "criticality", "alternates", "recovery", "priority",
                                        "description", NULL};
static const char *const rec_keys[] = {"strategy", "max_attempts", "backoff_base_s",
                                       "backoff_cap_s", "jitter", NULL};

static const char *const strategy_names[] = {"retry", "reassign", "skip", "alternate",
                                             "checkpoint", "none"};
static const char *const agg_names[] = {"concat", "merge", "sum", "average", "max", "min"};

const char *orch_strategy_name(enum orch_strategy s)
{
	return (unsigned)s <= ORCH_NO_RECOVERY ? strategy_names[s] : "none";
}

const char *orch_agg_name(enum orch_agg a)
{
	return (unsigned)a <= ORCH_AGG_MIN ? agg_names[a] : "concat";
}

static int vfail(char *err, size_t errlen, const char *file, const char *id, const char *fmt,
                 va_list ap)
{
	char msg[512], shown[160];

	vsnprintf(msg, sizeof msg, fmt, ap);
	if (id)
		snprintf(err, errlen, "%s: subtask '%s': %s", file, conv_show(shown, sizeof shown, id),
		         msg);
	else
		snprintf(err, errlen, "%s: %s", file, msg);
	return -1;
}

int orch_fail(char *err, size_t errlen, const char *file, const char *id, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vfail(err, errlen, file, id, fmt, ap);
	va_end(ap);
	return rc;
}

int orch_error(const orch *o, const char *id, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vfail(err, errlen, o->file, id, fmt, ap);
	va_end(ap);
	return rc;
}

/* The recovery object at `where` on top of *r (the graph's default or the
 * built-in one).  0 or -1. */
static int read_recovery(conv_ctx *c, const char *where, const cJSON *obj, const char *prefix,
                         orch_recovery *r)
{
	const cJSON *ro;
	const char *s;
	double d;
	char field[64];
	int got, cap_given;

	if ((got = conv_obj(c, where, obj, "recovery", prefix, 0, &ro)) <= 0)
		return got;
	snprintf(field, sizeof field, "%s%srecovery", prefix ? prefix : "", prefix ? "." : "");
	if (conv_keys(c, where, ro, field, rec_keys))
		return -1;
	if ((got = conv_str(c, where, ro, "strategy", field, CONV_NONEMPTY, &s)) < 0)
		return -1;
	if (got) {
		unsigned k;
		for (k = 0; k < ORCH_NO_RECOVERY && strcmp(s, strategy_names[k]); k++)
			;
		if (k == ORCH_NO_RECOVERY) {
			char f2[96];
			snprintf(f2, sizeof f2, "%s.strategy", field);
			return conv_fail(c, where, f2, "must be one of retry, reassign, skip, "
			                 "alternate, checkpoint");
		}
		r->strategy = (enum orch_strategy)k;
	}
	if ((got = conv_num(c, where, ro, "max_attempts", field, 1, 1000, NULL, 0, &d)) < 0)
		return -1;
	if (got && d != floor(d)) {
		char f2[96];
		snprintf(f2, sizeof f2, "%s.max_attempts", field);
		return conv_fail(c, where, f2, "must be a whole number of runs, got %g", d);
	}
	if (got)
		r->max_attempts = (uint32_t)d;
	if ((got = conv_num(c, where, ro, "backoff_base_s", field, 0, 86400, "s", 0, &d)) < 0)
		return -1;
	if (got)
		r->base_s = d;
	if ((got = conv_num(c, where, ro, "backoff_cap_s", field, 0, 86400, "s", 0, &d)) < 0)
		return -1;
	if (got)
		r->cap_s = d;
	cap_given = got;
	if ((got = conv_num(c, where, ro, "jitter", field, 0, 1, NULL, 0, &d)) < 0)
		return -1;
	if (got)
		r->jitter = d;
	/* Checked on the merged values: a subtask's base may be over the
	 * graph's cap.  A cap below the base would make every backoff the
	 * cap, the base read by nobody. */
	if (r->cap_s < r->base_s) {
		char f2[96];
		snprintf(f2, sizeof f2, "%s.%s", field, cap_given ? "backoff_cap_s" : "backoff_base_s");
		return cap_given ? conv_fail(c, where, f2, "%g s is below backoff_base_s, %g s",
		                             r->cap_s, r->base_s)
		                 : conv_fail(c, where, f2, "%g s is above the backoff_cap_s in force, "
		                             "%g s (the graph's or the default; give a "
		                             "backoff_cap_s of at least %g s)",
		                             r->base_s, r->cap_s, r->base_s);
	}
	return 0;
}

/* Requirements to a workload; a requirements object without test_id gets
 * the subtask's id (the tree is ours to change). */
static int read_req(conv_ctx *c, cJSON *req, const char *id, const char *where,
                    lbs_workload *out)
{
	if (cJSON_IsObject(req) && !cJSON_GetObjectItemCaseSensitive(req, "test_id") &&
	    !cJSON_AddStringToObject(req, "test_id", id))
		return conv_fail(c, where, NULL, "out of memory");
	return conv_workload(c, req, where, out);
}

/* Room for "FILE: subtask 'ID': alternates[K]" with the id as conv_show
 * cuts it: the file name is a path, or a Python workload id, of any length,
 * and a fixed buffer lost the subtask and the entry after a long one. */
#define SHOWN_ID 160
static size_t where_size(const orch *o)
{
	return strlen(o->file) + SHOWN_ID + 64;
}

/* One subtask; where and w2 hold where_size() bytes each.  0 or -1. */
static int read_task(orch *o, conv_ctx *c, uint32_t i, const char *id, cJSON *obj,
                     const orch_recovery *dflt, char *where, char *w2)
{
	orch_task *t = &o->t[i];
	size_t wsize = where_size(o);
	char shown[SHOWN_ID];
	const cJSON *crit;
	cJSON *req, *alts;

	snprintf(where, wsize, "%s: subtask '%s'", o->file, conv_show(shown, sizeof shown, id));
	if (!cJSON_IsObject(obj))
		return conv_fail(c, where, NULL, "must be a JSON object");
	if (conv_keys(c, where, obj, NULL, task_keys))
		return -1;
	if (!(t->id = arena_strdup(o->a, id)))
		return conv_fail(c, where, NULL, "out of memory");
	req = cJSON_GetObjectItemCaseSensitive(obj, "requirements");
	if (!req) {
		/* Read as {}: the converter's defaults, the original's
		 * TestRequirements(), 60 s among them (docs/ORCHESTRATE.md). */
		if (!cJSON_AddObjectToObject(obj, "requirements") ||
		    !(req = cJSON_GetObjectItemCaseSensitive(obj, "requirements")))
			return conv_fail(c, where, NULL, "out of memory");
	}
	snprintf(w2, wsize, "%s: requirements", where);
	if (read_req(c, req, t->id, w2, &t->req))
		return -1;
	/* Placed as single (orch_placed): said, as the converter says of a
	 * single allocation's shard counts, not left to be found in the
	 * placements. */
	if (t->req.allocation != LBS_ALLOC_SINGLE)
		conv_warn(c, w2, "field 'custom_properties.allocation_strategy': '%s' on %u to %u "
		          "workers placed on one: the orchestrator runs each subtask on one worker "
		          "(the graph is the parallelism)",
		          t->req.allocation == LBS_ALLOC_SHARDED ? "sharded" : "replicated",
		          t->req.min_shards, t->req.max_shards);
	crit = cJSON_GetObjectItemCaseSensitive(obj, "criticality");
	if (crit) {
		if (cJSON_IsBool(crit))
			t->critical = cJSON_IsTrue(crit);
		else if (cJSON_IsString(crit) &&
		         (!strcmp(crit->valuestring, "critical") || !strcmp(crit->valuestring, "high")))
			t->critical = 1;
		else if (cJSON_IsString(crit) &&
		         (!strcmp(crit->valuestring, "normal") || !strcmp(crit->valuestring, "medium") ||
		          !strcmp(crit->valuestring, "low")))
			t->critical = 0;
		else
			return conv_fail(c, where, "criticality",
			                 "must be one of critical, high, normal, medium, low (or true/false)");
	}
	alts = cJSON_GetObjectItemCaseSensitive(obj, "alternates");
	if (alts && !cJSON_IsNull(alts)) {
		uint32_t k = 0;
		cJSON *it;
		if (!cJSON_IsArray(alts))
			return conv_fail(c, where, "alternates", "must be an array of requirements objects");
		if ((unsigned)cJSON_GetArraySize(alts) > ORCH_MAX_ALTERNATES)
			return conv_fail(c, where, "alternates", "more than %d alternates",
			                 ORCH_MAX_ALTERNATES);
		t->n_alt = (uint32_t)cJSON_GetArraySize(alts);
		t->alt = arena_alloc(o->a, (t->n_alt + 1) * sizeof *t->alt);
		if (!t->alt)
			return conv_fail(c, where, NULL, "out of memory");
		cJSON_ArrayForEach(it, alts) {
			snprintf(w2, wsize, "%s: alternates[%u]", where, k);
			if (read_req(c, it, t->id, w2, &t->alt[k++]))
				return -1;
		}
	}
	{
		/* A subtask's own priority (1 highest .. 5) overrides its
		 * requirements' and its alternates'. */
		double prio;
		int got = conv_int(c, where, obj, "priority", NULL, 1, 5, 0, &prio);
		if (got < 0)
			return -1;
		for (uint32_t k = 0; got && k <= t->n_alt; k++)
			(k ? &t->alt[k - 1] : &t->req)->priority = (uint32_t)prio;
	}
	t->rec = *dflt;
	if (read_recovery(c, where, obj, NULL, &t->rec))
		return -1;
	if (t->rec.strategy == ORCH_SKIP && t->critical && cJSON_GetObjectItemCaseSensitive(obj, "recovery")) {
		cJSON *ro = cJSON_GetObjectItemCaseSensitive(obj, "recovery");
		if (cJSON_GetObjectItemCaseSensitive(ro, "strategy"))
			return conv_fail(c, where, "recovery.strategy",
			                 "'skip' is for non-critical subtasks, and this one is critical");
	}
	/* Inherited from the graph too: with nothing to switch to, the
	 * strategy would be a retry at once, which nobody asked for. */
	if (t->rec.strategy == ORCH_ALTERNATE && !t->n_alt) {
		if (cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(obj, "recovery"),
		                                     "strategy"))
			return conv_fail(c, where, "recovery.strategy", "'alternate' needs 'alternates'");
		return conv_fail(c, where, "recovery.strategy", "'alternate' (the graph's) needs "
		                 "'alternates': give the subtask alternates or a strategy of its own");
	}
	t->state = ORCH_PENDING;
	return 0;
}

/* Dependencies by name to indices, and dependants.  0 or -1. */
static int link_deps(orch *o, conv_ctx *c, cJSON *const *objs)
{
	size_t edges = 0;
	uint32_t *n_succ;

	for (uint32_t i = 0; i < o->n; i++) {
		const cJSON *deps = cJSON_GetObjectItemCaseSensitive(objs[i], "dependencies");
		const cJSON *it;
		uint32_t k = 0;

		if (!deps || cJSON_IsNull(deps))
			continue;
		if (!cJSON_IsArray(deps))
			return orch_fail(c->err, c->errlen, o->file, o->t[i].id,
			                 "field 'dependencies': must be an array of subtask ids");
		edges += (size_t)cJSON_GetArraySize(deps);
		if (edges > ORCH_MAX_EDGES)
			return orch_fail(c->err, c->errlen, o->file, o->t[i].id,
			                 "the graph has more than %d dependencies in all", ORCH_MAX_EDGES);
		o->t[i].deps = arena_alloc(o->a, (size_t)cJSON_GetArraySize(deps) * sizeof(uint32_t) + 1);
		if (!o->t[i].deps)
			return orch_fail(c->err, c->errlen, o->file, NULL, "out of memory");
		cJSON_ArrayForEach(it, deps) {
			int j;
			char shown[160];
			if (!cJSON_IsString(it) || !it->valuestring[0])
				return orch_fail(c->err, c->errlen, o->file, o->t[i].id,
				                 "field 'dependencies[%u]': must be a subtask id (a non-empty "
				                 "string)", k);
			j = orch_find(o, it->valuestring);
			if (j < 0)
				return orch_fail(c->err, c->errlen, o->file, o->t[i].id,
				                 "depends on '%s', which the graph does not have",
				                 conv_show(shown, sizeof shown, it->valuestring));
			if ((uint32_t)j == i)
				return orch_fail(c->err, c->errlen, o->file, o->t[i].id,
				                 "depends on itself (a cycle)");
			for (uint32_t m = 0; m < k; m++)
				if (o->t[i].deps[m] == (uint32_t)j)
					return orch_fail(c->err, c->errlen, o->file, o->t[i].id,
					                 "lists dependency '%s' twice",
					                 conv_show(shown, sizeof shown, it->valuestring));
			o->t[i].deps[k++] = (uint32_t)j;
		}
		o->t[i].n_deps = k;
	}
	n_succ = calloc(o->n + 1, sizeof *n_succ);
	if (!n_succ)
		return orch_fail(c->err, c->errlen, o->file, NULL, "out of memory");
	for (uint32_t i = 0; i < o->n; i++)
		for (uint32_t k = 0; k < o->t[i].n_deps; k++)
			n_succ[o->t[i].deps[k]]++;
	for (uint32_t i = 0; i < o->n; i++) {
		o->t[i].succ = arena_alloc(o->a, (n_succ[i] + 1) * sizeof(uint32_t));
		if (!o->t[i].succ) {
			free(n_succ);
			return orch_fail(c->err, c->errlen, o->file, NULL, "out of memory");
		}
	}
	free(n_succ);
	for (uint32_t i = 0; i < o->n; i++)
		for (uint32_t k = 0; k < o->t[i].n_deps; k++) {
			orch_task *d = &o->t[o->t[i].deps[k]];
			d->succ[d->n_succ++] = i;
		}
	return 0;
}

/* Kahn's algorithm, its order kept in o->topo; a subtask left over is on
 * a cycle or behind one, so name one that is on it: walk dependencies
 * among the leftovers until one repeats.  0 or -1. */
static int check_acyclic(orch *o, char *err, size_t errlen)
{
	uint32_t *indeg = calloc(o->n + 1, sizeof *indeg), *queue = malloc((o->n + 1) * sizeof *queue);
	uint32_t head = 0, tail = 0, seen = 0;
	int rc = 0;

	if (!indeg || !queue) {
		free(indeg);
		free(queue);
		return orch_fail(err, errlen, o->file, NULL, "out of memory");
	}
	for (uint32_t i = 0; i < o->n; i++)
		if (!(indeg[i] = o->t[i].n_deps))
			queue[tail++] = i;
	while (head < tail) {
		uint32_t i = queue[head++];
		seen++;
		for (uint32_t k = 0; k < o->t[i].n_succ; k++)
			if (!--indeg[o->t[i].succ[k]])
				queue[tail++] = o->t[i].succ[k];
	}
	if (seen < o->n) {
		uint32_t i = 0, steps;
		while (!indeg[i])
			i++;
		/* Each leftover has a leftover dependency; after n steps the
		 * walk is inside a cycle. */
		for (steps = 0; steps < o->n; steps++) {
			uint32_t k = 0;
			while (!indeg[o->t[i].deps[k]])
				k++;
			i = o->t[i].deps[k];
		}
		rc = orch_fail(err, errlen, o->file, o->t[i].id,
		               "is on a dependency cycle (the graph must be acyclic)");
	}
	free(indeg);
	if (rc)
		free(queue);
	else
		o->topo = queue;
	return rc;
}

/* A subtask's share of its graph's first arena block beyond its orch_task:
 * the copy of the worker id a placement keeps (orch_start), most of them
 * shorter, so that running the graph rarely needs a second block. */
#define ORCH_WORKER_ROOM 32

orch *orch_load(const char *text, size_t len, const char *file, const orch_warn *warn,
                uint64_t seed, char *err, size_t errlen)
{
	orch *o = calloc(1, sizeof *o);
	conv_ctx c = {NULL, warn ? warn->fn : NULL, warn ? warn->ctx : NULL, err, errlen,
	              warn ? warn->warns : NULL};
	cJSON *root = NULL, *subs, **objs = NULL;
	char *where = NULL, *w2 = NULL;
	const char *s, *name = file ? file : "graph";
	char shown[SHOWN_ID];
	orch_recovery dflt = {ORCH_RETRY, 5, 1.0, 30.0, 0.5};
	int got, n;

	/* It starts every message: a path of 2,182 bytes, or a Python
	 * workload id of 3,000, filled the caller's 2,048 before the subtask
	 * and the problem (orch.h, ORCH_NAME_WHOLE). */
	if (strlen(name) > ORCH_NAME_WHOLE)
		name = conv_show(shown, sizeof shown, name);
	if (!o || !(o->file = strdup(name))) {
		snprintf(err, errlen, "%s: out of memory", name);
		orch_free(o);
		return NULL;
	}
	rng_seed(&o->rng, seed);
	if (!(root = conv_parse(&c, text, len, o->file)))
		goto bad;
	if (!cJSON_IsObject(root)) {
		conv_fail(&c, o->file, NULL, "a graph must be a JSON object with \"subtasks\"");
		goto bad;
	}
	/* Count first: an oversized graph costs nothing beyond the parse. */
	subs = cJSON_GetObjectItemCaseSensitive(root, "subtasks");
	if (!subs || !(cJSON_IsObject(subs) || cJSON_IsArray(subs))) {
		conv_fail(&c, o->file, "subtasks", "required: an object of subtasks by id, or an array");
		goto bad;
	}
	n = cJSON_GetArraySize(subs);
	if (n > ORCH_MAX_SUBTASKS) {
		conv_fail(&c, o->file, "subtasks", "%d subtasks, more than the %d a graph may have", n,
		          ORCH_MAX_SUBTASKS);
		goto bad;
	}
	if (n == 0) {
		conv_fail(&c, o->file, "subtasks", "a graph needs at least one subtask");
		goto bad;
	}
	/* Sized to the graph: a 64 KiB arena_new() was most of what each
	 * workload cost, and a service registers one per request.  What it
	 * holds is the subtasks, what is copied from the text (ids, names,
	 * requirements) and, later, the placements' worker ids; the arena
	 * grows past that when it must. */
	if (!(o->a = arena_new_sized((size_t)n * (sizeof *o->t + ORCH_WORKER_ROOM) + len)))
		goto oom;
	c.arena = o->a;
	if (conv_keys(&c, o->file, root, NULL, graph_keys))
		goto bad;
	if ((got = conv_str(&c, o->file, root, "name", NULL, 0, &s)) < 0)
		goto bad;
	if (!(o->name = arena_strdup(o->a, got ? s : "")))
		goto oom;
	if ((got = conv_str(&c, o->file, root, "aggregation_method", NULL, CONV_NONEMPTY, &s)) < 0)
		goto bad;
	if (got) {
		unsigned k;
		for (k = 0; k <= ORCH_AGG_MIN && strcmp(s, agg_names[k]); k++)
			;
		if (k > ORCH_AGG_MIN) {
			conv_fail(&c, o->file, "aggregation_method",
			          "must be one of concat, merge, sum, average, max, min");
			goto bad;
		}
		o->agg = (enum orch_agg)k;
	}
	if (read_recovery(&c, o->file, root, NULL, &dflt))
		goto bad;
	o->n = (uint32_t)n;
	o->t = arena_alloc(o->a, (size_t)n * sizeof *o->t);
	for (o->id_cap = 16; o->id_cap < 2 * (size_t)n; o->id_cap *= 2)
		;
	o->by_id = arena_alloc(o->a, o->id_cap * sizeof *o->by_id);
	objs = calloc((size_t)n, sizeof *objs);
	where = malloc(where_size(o));
	w2 = malloc(where_size(o));
	if (!o->t || !o->by_id || !objs || !where || !w2)
		goto oom;
	{
		uint32_t i = 0;
		cJSON *it;
		cJSON_ArrayForEach(it, subs) {
			const char *id = cJSON_IsObject(subs) ? it->string : NULL;
			char shown[SHOWN_ID];
			if (!id) {
				/* conv_str: string, length and UTF-8, named at the field */
				snprintf(where, where_size(o), "%s: subtasks[%u]", o->file, i);
				/* else conv_str finds no subtask_id in it and asks for
				 * one, as though an object were there */
				if (!cJSON_IsObject(it)) {
					conv_fail(&c, where, NULL, "must be a JSON object");
					goto bad;
				}
				int got = conv_str(&c, where, it, "subtask_id", NULL, CONV_NONEMPTY, &id);
				if (!got)
					conv_fail(&c, where, "subtask_id", "required: a non-empty string");
				if (got <= 0)
					goto bad;
			} else if (!id[0]) {
				conv_fail(&c, o->file, "subtasks", "a subtask id is empty");
				goto bad;
			} else if (strlen(id) > CONV_MAX_STRING) {
				conv_fail(&c, o->file, "subtasks", "the key '%s' is %zu bytes long, more "
				          "than %d (a subtask id)", conv_show(shown, sizeof shown, id),
				          strlen(id), CONV_MAX_STRING);
				goto bad;
			} else if (!txt_utf8_valid(id)) {
				/* else read_req would blame the test_id it defaults to */
				orch_fail(err, errlen, o->file, id, "its id must be valid UTF-8");
				goto bad;
			} else if (cJSON_IsObject(it)) {
				/* The key is the id; a different subtask_id beside it
				 * would be read by nobody. */
				const char *sid;
				int got;
				snprintf(where, where_size(o), "%s: subtask '%s'", o->file,
				         conv_show(shown, sizeof shown, id));
				if ((got = conv_str(&c, where, it, "subtask_id", NULL, 0, &sid)) < 0)
					goto bad;
				if (got && strcmp(sid, id)) {
					char s2[160];
					conv_fail(&c, where, "subtask_id", "'%s' differs from its key; "
					          "in the object form the key is the id",
					          conv_show(s2, sizeof s2, sid));
					goto bad;
				}
			}
			size_t slot = orch_id_slot(o, id);
			if (o->by_id[slot]) {
				orch_fail(err, errlen, o->file, id, "appears twice in the graph");
				goto bad;
			}
			objs[i] = it;
			if (read_task(o, &c, i, id, it, &dflt, where, w2))
				goto bad;
			o->by_id[slot] = i + 1;
			i++;
		}
	}
	if (link_deps(o, &c, objs) || check_acyclic(o, err, errlen))
		goto bad;
	for (uint32_t i = 0; i < o->n; i++)
		orch_declared(o, i);
	orch_rank(o);
	free(objs);
	free(where);
	free(w2);
	cJSON_Delete(root);
	return o;
oom:
	snprintf(err, errlen, "%s: out of memory", o->file);
bad:
	free(objs);
	free(where);
	free(w2);
	cJSON_Delete(root);
	orch_free(o);
	return NULL;
}

/* Whether some worker passes t's requirement set k (0 the declared ones,
 * k alternates[k-1]) once free (orch_check_free); the most telling reason
 * of those that fail raised into *why. */
static int some_worker_takes(const orch_task *t, uint32_t k, const lbs_worker *const *workers,
                             uint32_t n, enum elig_reason *why)
{
	const lbs_workload *wl = k ? &t->alt[k - 1] : &t->req;

	for (uint32_t w = 0; w < n; w++) {
		enum elig_reason r = orch_check_free(wl, workers[w]);
		if (r == ELIG_OK)
			return 1;
		if (r > *why)
			*why = r;
	}
	return 0;
}

/* The first of t's requirement sets from `from` on that some worker
 * takes; -1 with the most telling reason in *why when none does. */
static int first_fit(const orch_task *t, uint32_t from, const lbs_worker *const *workers,
                     uint32_t n, enum elig_reason *why)
{
	*why = ELIG_OK;
	for (uint32_t k = from; k <= t->n_alt; k++)
		if (some_worker_takes(t, k, workers, n, why))
			return (int)k;
	return -1;
}

static int no_worker(const orch *o, const orch_task *t, uint32_t n, enum elig_reason why,
                     char *err, size_t errlen)
{
	return orch_fail(err, errlen, o->file, t->id, "no worker in the fleet can run it (%s)",
	                 n ? elig_reason_text(why) : "the fleet is empty");
}

int orch_check_fleet(const orch *o, const lbs_worker *const *workers, uint32_t n, char *err,
                     size_t errlen)
{
	for (uint32_t i = 0; i < o->n; i++) {
		enum elig_reason why;
		if (first_fit(&o->t[i], 0, workers, n, &why) < 0)
			return no_worker(o, &o->t[i], n, why, err, errlen);
	}
	return 0;
}

int orch_fit_fleet(orch *o, const lbs_worker *const *workers, uint32_t n, char *err,
                   size_t errlen)
{
	for (uint32_t i = 0; i < o->n; i++) {
		orch_task *t = &o->t[i];
		enum elig_reason why;
		int k = first_fit(t, t->alt_used, workers, n, &why);

		if (k < 0)
			return no_worker(o, t, n, why, err, errlen);
		t->alt_used = (uint32_t)k;
	}
	return 0;
}

void orch_fit_alternate(orch *o, uint32_t i, const lbs_worker *const *workers, uint32_t n)
{
	orch_task *t;
	enum elig_reason why;
	int k;

	if (i >= o->n)
		return;
	t = &o->t[i];
	if ((k = first_fit(t, t->alt_used, workers, n, &why)) >= 0) {
		t->alt_used = (uint32_t)k;
		return;
	}
	/* Past the last that fits, the last that fits again, as recovery
	 * runs the last alternate again past the end. */
	for (k = (int)t->alt_used - 1; k >= 0; k--)
		if (some_worker_takes(t, (uint32_t)k, workers, n, &why)) {
			t->alt_used = (uint32_t)k;
			return;
		}
}

void orch_free(orch *o)
{
	if (!o)
		return;
	for (uint32_t i = 0; o->t && i < o->n; i++) {
		free(o->t[i].payload);
		free(o->t[i].excluded);
	}
	free(o->excl);
	free(o->topo);
	arena_free(o->a);
	free(o->file);
	free(o);
}
