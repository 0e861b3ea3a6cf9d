/*
 * sched_composite.c -- the "composite" scheduler: blend any schedulers by
 * weight, from this plugin or any other, or route each test type to its
 * own scheduler.  The arithmetic is scheduler-algos/composite.h; the
 * config, the formula and the tie rule are in docs/COMPOSITE.md.
 *
 * Config, one of:
 *   {"mode": "blend" | "vote",
 *    "children": [{"scheduler": "hardware-aware", "plugin": "/x.so",
 *                  "config": {...}, "weight": 0.7,
 *                  "vote": false, "veto": false, "advance": false}, ...]}
 *   {"routes": [{"test_type": "vision_classification" | "prefix": "vision_",
 *                "scheduler": ..., "plugin": ..., "config": {...}}, ...],
 *    "default": {"scheduler": ..., "plugin": ..., "config": {...}}}
 *
 * Children are found through the host (lbs_host_api.find_scheduler), so a
 * child may live in a third party's plugin; only the host loads plugins.
 * A child of weight 0 is created (its config is checked, it learns from
 * report) but not consulted.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adaptive.h"
#include "composite.h"
#include "config.h"
#include "eligible.h"
#include "sched_util.h"
#include "store_config.h"
#include "text.h"
#include "timed.h"
#include "worker_id.h"

/* Decisions whose children's cookies are kept for their outcomes: a host
 * reports within seconds, and past that a child learns the outcome as
 * one without a decision, as before. */
#define COMP_RING 1024u

/* A ring entry: our cookie, then per child its cookie, its first pick's
 * hash and (sc_picks position x 128 + count) of its others. */
#define RING_WIDTH(n_kids) (1 + 3 * (size_t)(n_kids))
#define ROUTE_WIDTH 3

#define NAME "composite"
/* Composites inside composites, counting this one.  A JSON text cannot
 * refer to itself, so a "cycle" is a config nested without end; this is
 * where we stop believing the nesting is meant. */
#define MAX_DEPTH 4
#define WEIGHT_MAX 1e6
#define MAX_ROUTES 4096
/* Each child keeps a ring of its recent scores (about 24 KiB): a bound
 * as the routes have, far past any blend meant (100,000 took 750 MB). */
#define MAX_CHILDREN 4096

/* A descriptor slot that is both inside the struct its writer had and set. */
#define HAS_SLOT(d, slot) (LBS_HAS_FIELD(d, lbs_scheduler_desc, slot) && (d)->slot)

/* This plugin's own table, for hosts that offer no find_scheduler. */
LBS_EXPORT const lbs_plugin_entry *lbs_plugin_entry_v1(void);

enum mode { MODE_BLEND, MODE_VOTE, MODE_ROUTE };

/* How a peek (explain) learned a voting child's vote without its select. */
enum peeked { PEEK_NONE, PEEK_EXPLAIN, PEEK_SCORE, PEEK_UNASKED };

static const char *const peek_names[] = { "select", "explain", "score", "not asked" };

extern const lbs_scheduler_desc sched_composite_desc;

static const char *const mode_names[] = { "blend", "vote", "route" };

typedef struct child {
	const lbs_scheduler_desc *desc;
	const lbs_host_api *host; /* the API its create() was given */
	int from_host;            /* found by find_scheduler: release it */
	int own;                  /* one of this plugin's own schedulers */
	void *inst;
	char *key;                /* plugin, name and config text: one
	                             instance per distinct route target */
	double weight;            /* normalised; 0: not consulted */
	int votes;                /* consulted through select() */
	int veto;                 /* a voter whose picks bound the answer */
	int advance;              /* scored, then asked to select too */
	int advance_after;        /* ... among the workers chosen, once they
	                             are (after_choice) */
	int warned;               /* a failure of it was logged */
	int warned_range;         /* a vote of it outside the workers was logged */
	/* This decision's select() of it, when it was asked (voting or
	 * advancing): its cookie, the hash of its first pick's id and how
	 * many it picked, 0 when not asked.  Kept by decision
	 * (comp_inst.ring, its other picks in comp_inst.picks) for its
	 * reports. */
	uint64_t asked_cookie, asked_pick;
	uint32_t asked_n;
	/* It moved on for a pick in a sample that gave no candidate (another
	 * child refused them all): the whole fleet's retry does not ask it
	 * to move again for the same request. */
	int moved;
	/* How explain (a peek, which moves no child) knew its vote: see
	 * peek_vote.  PEEK_NONE outside a peek. */
	int peeked;
	/* Scratch for one decision, sized with the fleet. */
	double *scores;
	uint32_t *picks;
	const char **pick_ids;
} child;

/* A child that learns is one whose report() changes its decisions, as
 * abi.h's LBS_CAP_LEARNS says: a report slot that only counts (a
 * rotation's) does not move it on, select() does. */
static int child_learns(const child *c)
{
	return HAS_SLOT(c->desc, report) && (c->desc->caps & LBS_CAP_LEARNS);
}

typedef struct comp_inst {
	const lbs_host_api *host;
	enum mode mode;
	child *kids;
	uint32_t n_kids;
	uint32_t *active; /* kids consulted (weight > 0), in config order */
	uint32_t n_active;
	comp_child *in;   /* their inputs to the blend, parallel to active */
	/* MODE_ROUTE: routes[i] goes to kids[target[i]]; the rest to
	 * kids[fallback]. */
	comp_route *routes;
	uint32_t *target;
	uint32_t n_routes;
	uint32_t fallback;
	/* Scratch for one decision; grows with the fleet, never shrinks. */
	uint32_t cap;
	uint8_t *ok;
	double *blend, *eload;
	timed_share share;         /* one consult's completion scores, cap doubles */
	uint32_t *order, *tmp;
	/* Giant fleets ("scan", "sample"): a single choice over at least
	 * sample_from workers is made among `sample` drawn ones and the best
	 * few of the last such choice of its workload type (kept). */
	uint32_t sample, sample_from;
	uint64_t rng;
	uint64_t seed; /* the config's, or 1: rng's start, for stats */
	const cJSON *seed_cfg; /* the config's "seed" while children are made */
	uint32_t kept[LBS_WL_COUNT][COMP_KEEP];
	uint32_t *pos;             /* the candidates' positions, sample + COMP_KEEP */
	const lbs_worker **sub;    /* the candidates, what the children see */
	comp_seen seen;            /* which positions a decision has drawn */
	uint64_t cookie;
	/* The last COMP_RING decisions: per entry our cookie, then for each
	 * child the asked_cookie and asked_pick of that decision and where
	 * its other picks are in `picks` (RING_WIDTH words); made at
	 * create.  A router's entries are ROUTE_WIDTH words: our cookie, the
	 * target that decided and the target's cookie. */
	uint64_t *ring;
	sc_picks *picks;
	sched_counters n;
} comp_inst;

/* ===== Config ============================================================= */

static const char *const top_fields[] = { "mode", "children", "routes", "default", "scan",
                                          "sample", "seed", NULL };
static const char *const child_fields[] = {
	"scheduler", "plugin", "config", "weight", "vote", "veto", "advance", NULL,
};
static const char *const route_fields[] = {
	"test_type", "prefix", "scheduler", "plugin", "config", NULL,
};
static const char *const default_fields[] = { "scheduler", "plugin", "config", NULL };

/* A child, route or default that is a composite: by its scheduler's name,
 * whatever its config (none runs the default blend, one level all the
 * same; adaptive's "children" are no composite). */
static int is_composite(const cJSON *target)
{
	const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(target,
	                                                                         "scheduler"));

	return name && !strcmp(name, NAME);
}

/* Does a chain of composites below cfg (at `depth`) go deeper than
 * MAX_DEPTH?  path receives the chain, e.g. "children[0].config". */
static int too_deep(const cJSON *cfg, int depth, char *path, size_t len)
{
	static const char *const lists[] = { "children", "routes" };
	size_t used = strlen(path);
	const cJSON *t, *sub;

	if (depth > MAX_DEPTH)
		return 1;
	for (int l = 0; l < 2; l++) {
		int i = 0;

		cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(cfg, lists[l])) {
			sub = cJSON_GetObjectItemCaseSensitive(t, "config");
			if (is_composite(t)) {
				snprintf(path + used, len - used, "%s%s[%d].config",
				         used ? "." : "", lists[l], i);
				if (too_deep(sub, depth + 1, path, len))
					return 1;
				path[used] = '\0';
			}
			i++;
		}
	}
	t = cJSON_GetObjectItemCaseSensitive(cfg, "default");
	sub = cJSON_GetObjectItemCaseSensitive(t, "config");
	if (is_composite(t)) {
		snprintf(path + used, len - used, "%sdefault.config", used ? "." : "");
		if (too_deep(sub, depth + 1, path, len))
			return 1;
		path[used] = '\0';
	}
	return 0;
}

/* Give back a descriptor find() got from the host. */
static void release(const lbs_host_api *host, child *c)
{
	if (c->from_host && LBS_HAS_FIELD(host, lbs_host_api, release_scheduler) &&
	    host->release_scheduler)
		host->release_scheduler(host->host_data, c->desc);
	c->from_host = 0;
}

/* Find `name` (in `plugin`, or this plugin when NULL) for c. */
static lbs_status find(const lbs_host_api *host, const char *plugin,
                       const char *name, child *c, char *err, size_t errlen)
{
	lbs_status st;

	if (host && LBS_HAS_FIELD(host, lbs_host_api, find_scheduler) &&
	    host->find_scheduler) {
		st = host->find_scheduler(host->host_data, plugin, name, &c->desc,
		                          &c->host, err, errlen);
		if (st == LBS_OK && (!c->desc || !c->host))
			st = LBS_EINTERNAL;
		c->from_host = st == LBS_OK;
		c->own = st == LBS_OK && c->desc->name &&
		         lbs_plugin_entry_v1()->scheduler_find(c->desc->name) == c->desc;
		return st;
	}
	if (plugin) {
		snprintf(err, errlen, "this host (%s) cannot load plugins: it offers "
		         "no find_scheduler", host && host->host_name ? host->host_name : "?");
		return LBS_EUNSUPPORTED;
	}
	c->desc = lbs_plugin_entry_v1()->scheduler_find(name);
	c->host = host;
	c->own = c->desc != NULL;
	if (!c->desc) {
		char shown[96];
		snprintf(err, errlen, "no scheduler named '%s' in this plugin",
		         txt_show(shown, sizeof shown, name));
		return LBS_EINVAL;
	}
	return LBS_OK;
}

/*
 * Read {"scheduler", "plugin", "config"} of obj (at `field` in the config)
 * and create that scheduler into c.  Messages name the field; a child's
 * own "config field 'x'" becomes "config field '<field>.config.x'".
 */
/* lbsched's own schedulers that take a "seed" (their draws' sequence);
 * own: the child is this plugin's, named by its path or not. */
static int takes_seed(int own, const char *name)
{
	static const char *const seeded[] = { "hardware-aware", "priority", "composite",
	                                      "adaptive", NULL };

	if (!own)
		return 0;
	for (int i = 0; seeded[i]; i++)
		if (!strcmp(seeded[i], name))
			return 1;
	return 0;
}

/* `seed`: the composite's own, or NULL; a child of this plugin that draws
 * and names no seed takes it (a host that seeds each process, as nginx does
 * with its pid, seeds the children with it: they drew alike everywhere). */
static lbs_status make_child(const lbs_host_api *host, const cJSON *obj,
                             const char *field, const cJSON *seed, child *c, char *err,
                             size_t errlen)
{
	static const char lead[] = "config field '";
	const char *name, *plugin;
	const cJSON *cfg;
	cJSON *own = NULL;
	char *text = NULL, cerr[2048] = "", group[160];
	size_t klen;
	lbs_status st;

	st = cfg_string(obj, "scheduler", NULL, &name, err, errlen);
	if (st == LBS_OK && !name) {
		snprintf(err, errlen, "config field 'scheduler': required (a scheduler name)");
		st = LBS_ECONFIG;
	}
	if (st == LBS_OK)
		st = cfg_string(obj, "plugin", NULL, &plugin, err, errlen);
	if (st == LBS_OK)
		st = cfg_object(obj, "config", &cfg, err, errlen);
	if (st != LBS_OK)
		return cfg_nested(field, st, err, errlen);
	st = find(host, plugin, name, c, cerr, sizeof cerr);
	if (st != LBS_OK) {
		snprintf(err, errlen, "config field '%s': %s", field,
		         cerr[0] ? cerr : "the host could not find the scheduler");
		/* A refused plugin stays refused (hosts exit 2 for it, not 1). */
		return st == LBS_ENOMEM || st == LBS_EVERSION ? st : LBS_ECONFIG;
	}
	if (cJSON_IsNumber(seed) && takes_seed(c->own, name) &&
	    !cJSON_GetObjectItemCaseSensitive(cfg, "seed")) {
		own = cfg ? cJSON_Duplicate(cfg, 1) : cJSON_CreateObject();
		if (!own || !cJSON_AddItemToObject(own, "seed", cJSON_Duplicate(seed, 0))) {
			cJSON_Delete(own);
			snprintf(err, errlen, NAME ": out of memory");
			return LBS_ENOMEM;
		}
		cfg = own;
	}
	if (cfg && !(text = cJSON_PrintUnformatted(cfg))) {
		cJSON_Delete(own);
		snprintf(err, errlen, NAME ": out of memory");
		return LBS_ENOMEM;
	}
	cJSON_Delete(own);
	klen = strlen(plugin ? plugin : "") + strlen(name) + (text ? strlen(text) : 0) + 3;
	c->key = malloc(klen);
	if (!c->key) {
		cJSON_free(text);
		snprintf(err, errlen, NAME ": out of memory");
		return LBS_ENOMEM;
	}
	snprintf(c->key, klen, "%s\n%s\n%s", plugin ? plugin : "", name, text ? text : "");

	st = c->desc->create(c->host, text, text ? strlen(text) : 0, &c->inst,
	                     cerr, sizeof cerr);
	/* The child may have filled the buffer without a terminator. */
	cerr[sizeof cerr - 1] = '\0';
	txt_one_line(cerr);
	cJSON_free(text);
	if (st == LBS_OK && !c->inst)
		st = LBS_EINTERNAL;
	if (st == LBS_OK)
		return LBS_OK;
	c->inst = NULL;
	if (strncmp(cerr, lead, sizeof lead - 1) == 0) {
		snprintf(group, sizeof group, "%s.config", field);
		snprintf(err, errlen, "%s", cerr);
		cfg_nested(group, st, err, errlen);
	} else {
		char shown[96];
		snprintf(err, errlen, "config field '%s' (%s): %s", field,
		         txt_show(shown, sizeof shown, name),
		         cerr[0] ? cerr : "create failed without a reason");
	}
	return st < 0 ? st : LBS_EINTERNAL;
}

/* "scan" and "sample", as hardware-aware reads them (plugin/timed.h), with
 * the candidate arrays a sampled decision needs: sized once, here. */
static lbs_status scan_config(comp_inst *inst, const cJSON *cfg, char *err,
                              size_t errlen)
{
	hw_params hp;
	lbs_status st;

	hw_params_default(&hp);
	st = timed_scan_config(cfg, &hp, err, errlen);
	if (st != LBS_OK)
		return st;
	inst->sample = hp.sample;
	inst->sample_from = hp.sample_from;
	inst->rng = hp.seed;
	inst->seed = hp.seed;
	memset(inst->kept, 0xff, sizeof(inst->kept));
	inst->pos = calloc((size_t)hp.sample + COMP_KEEP, sizeof(*inst->pos));
	inst->sub = calloc((size_t)hp.sample + COMP_KEEP, sizeof(*inst->sub));
	inst->seen.mask = 1;
	while (inst->seen.mask < 2 * (hp.sample + COMP_KEEP))
		inst->seen.mask *= 2;
	inst->seen.slot = calloc(inst->seen.mask, sizeof(*inst->seen.slot));
	inst->seen.mask--;
	if (!inst->pos || !inst->sub || !inst->seen.slot) {
		snprintf(err, errlen, NAME ": out of memory");
		return LBS_ENOMEM;
	}
	return LBS_OK;
}

/* The children of a config that names none: the blend lbsched was made
 * for, as simulate and orchestrate have always run a bare "composite". */
static const char default_children[] =
	"[{\"scheduler\": \"hardware-aware\", \"weight\": 0.7},"
	" {\"scheduler\": \"priority\", \"weight\": 0.2},"
	" {\"scheduler\": \"round-robin\", \"weight\": 0.1}]";

static lbs_status add_children(comp_inst *inst, const cJSON *list, char *err, size_t errlen);

static lbs_status parse_children(comp_inst *inst, const cJSON *cfg, char *err,
                                 size_t errlen)
{
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(cfg, "children");
	cJSON *dflt = NULL;
	const char *mode;
	lbs_status st;

	st = cfg_string(cfg, "mode", "blend", &mode, err, errlen);
	if (st != LBS_OK)
		return st;
	if (strcmp(mode, "blend") && strcmp(mode, "vote")) {
		char shown[96];
		snprintf(err, errlen, "config field 'mode': must be \"blend\" or \"vote\", got \"%s\"",
		         txt_show(shown, sizeof shown, mode));
		return LBS_ECONFIG;
	}
	inst->mode = strcmp(mode, "vote") ? MODE_BLEND : MODE_VOTE;
	st = scan_config(inst, cfg, err, errlen);
	if (st != LBS_OK)
		return st;
	if (!list && !(list = dflt = cJSON_Parse(default_children))) {
		snprintf(err, errlen, NAME ": out of memory");
		return LBS_ENOMEM;
	}
	st = add_children(inst, list, err, errlen);
	cJSON_Delete(dflt);
	return st;
}

/* The learners stores_apart compares, with their fields' text. */
typedef struct learners {
	store_learner *l;
	char (*field)[256];
	size_t n, cap;
} learners;

/* Is the child t (at `at`) one of this plugin's schedulers?  A "plugin"
 * that names this one is this one, found through the host as the child
 * will be: by the file, however its path is spelled. */
static int ours(const lbs_host_api *host, const cJSON *t, const char *name)
{
	const char *plugin = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t, "plugin"));
	child probe = {0};
	char ignored[256];
	int own;

	if (!plugin)
		return 1;
	own = find(host, plugin, name, &probe, ignored, sizeof ignored) == LBS_OK && probe.own;
	release(host, &probe);
	return own;
}

/* One learner into g (its field's text kept in g too). */
static lbs_status add_learner(learners *g, const char *who, const char *path, int group,
                              const char *fmt, const char *at, const char *rel)
{
	if (g->n == g->cap) {
		size_t cap = g->cap ? 2 * g->cap : 8;
		store_learner *l = realloc(g->l, cap * sizeof *l);
		char (*field)[256] = l ? realloc(g->field, cap * sizeof *field) : NULL;

		if (l)
			g->l = l;
		if (!field)
			return LBS_ENOMEM;
		g->field = field;
		g->cap = cap;
	}
	snprintf(g->field[g->n], sizeof g->field[g->n], fmt, at, rel);
	g->l[g->n] = (store_learner){ who, NULL, path, group };
	g->n++;
	return LBS_OK;
}

/* The learners of the child t at `at`, into g: this plugin's learning
 * schedulers; an adaptive's, by its own rules (its children each get
 * every outcome); a nested blend's children's, which get every outcome
 * too; and a nested router's targets', tagged with the router (`group`,
 * the outermost's) since one route never sees another's outcomes, while
 * each may share a store with the router's own siblings. */
static lbs_status gather(const lbs_host_api *host, const cJSON *t, const char *at, int depth,
                         int group, int *groups, learners *g)
{
	static const char *const learning[] = { "performance", "priority", "hardware-aware" };
	const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t, "scheduler"));
	const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(t, "config"), *el;
	const char *path = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(cfg, "store"), "path"));
	lbs_status st = LBS_OK;
	int learns = 0, i = 0;

	if (!name || !ours(host, t, name))
		return LBS_OK;
	if (is_composite(t)) {
		const cJSON *routes = cJSON_GetObjectItemCaseSensitive(cfg, "routes");
		int rgroup = group ? group : ++*groups;
		char sub[256];

		/* too_deep() names a chain past the limit */
		if (depth >= MAX_DEPTH)
			return LBS_OK;
		cJSON_ArrayForEach(el, cJSON_GetObjectItemCaseSensitive(cfg, "children")) {
			snprintf(sub, sizeof sub, "%s.config.children[%d]", at, i++);
			if ((st = gather(host, el, sub, depth + 1, group, groups, g)) != LBS_OK)
				return st;
		}
		i = 0;
		cJSON_ArrayForEach(el, routes) {
			snprintf(sub, sizeof sub, "%s.config.routes[%d]", at, i++);
			if ((st = gather(host, el, sub, depth + 1, rgroup, groups, g)) != LBS_OK)
				return st;
		}
		snprintf(sub, sizeof sub, "%s.config.default", at);
		el = cJSON_GetObjectItemCaseSensitive(cfg, "default");
		return el && routes ? gather(host, el, sub, depth + 1, rgroup, groups, g) : LBS_OK;
	}
	if (!strcmp(name, "adaptive")) {
		store_learner l[ADAPT_MAX_CHILDREN];
		char fields[ADAPT_MAX_CHILDREN][64];
		size_t m = cJSON_IsObject(cfg) ? adapt_store_learners(cfg, l, fields) : 0;

		for (size_t k = 0; k < m && st == LBS_OK; k++)
			if (l[k].path && *l[k].path)
				st = add_learner(g, l[k].who, l[k].path, group, "%s.config.%s", at,
				                 l[k].field);
		return st;
	}
	for (size_t k = 0; k < sizeof learning / sizeof *learning; k++)
		learns |= !strcmp(name, learning[k]);
	/* an empty path is the child's own config error, named there, not a
	 * store shared with another */
	if (!learns || !path || !*path)
		return LBS_OK;
	return add_learner(g, name, path, group, "%s.config.%s", at, "store");
}

/* Every child of a blend or a vote gets every outcome, so two of this
 * plugin's learning children on one store would count each twice: theirs
 * and those within an adaptive, a nested blend or a nested router.  Read from
 * the config, before any store is opened (or its directory made); an
 * entry that is not well formed is passed over, add_children names its
 * fault.  Children of other plugins keep what they keep. */
static lbs_status stores_apart(const lbs_host_api *host, const cJSON *list, char *err,
                               size_t errlen)
{
	learners g = {0};
	const cJSON *el;
	lbs_status st = LBS_OK;
	int i = 0, groups = 0;

	cJSON_ArrayForEach(el, list) {
		char at[32];

		snprintf(at, sizeof at, "children[%d]", i++);
		if ((st = gather(host, el, at, 1, 0, &groups, &g)) != LBS_OK)
			break;
	}
	/* the fields' text moved as the array grew: pointed at last */
	for (size_t k = 0; k < g.n; k++)
		g.l[k].field = g.field[k];
	if (st == LBS_ENOMEM)
		snprintf(err, errlen, NAME ": out of memory");
	else
		st = store_learners_apart(g.l, g.n, err, errlen);
	free(g.l);
	free(g.field);
	return st;
}

/* The children of the list `children` (the config's or the default). */
static lbs_status add_children(comp_inst *inst, const cJSON *list, char *err, size_t errlen)
{
	const cJSON *el;
	double total = 0.0;
	lbs_status st;
	int n;

	n = cJSON_GetArraySize(list);
	if (!cJSON_IsArray(list) || n == 0) {
		snprintf(err, errlen, "config field 'children': must be a non-empty list "
		         "of {\"scheduler\": name, \"weight\": w}");
		return LBS_ECONFIG;
	}
	if (n > MAX_CHILDREN) {
		snprintf(err, errlen, "config field 'children': %d children, at most %d", n,
		         MAX_CHILDREN);
		return LBS_ECONFIG;
	}
	st = stores_apart(inst->host, list, err, errlen);
	if (st != LBS_OK)
		return st;
	inst->kids = calloc((size_t)n, sizeof(*inst->kids));
	inst->active = calloc((size_t)n, sizeof(*inst->active));
	inst->in = calloc((size_t)n, sizeof(*inst->in));
	if (!inst->kids || !inst->active || !inst->in) {
		snprintf(err, errlen, NAME ": out of memory");
		return LBS_ENOMEM;
	}
	cJSON_ArrayForEach(el, list) {
		child *c = &inst->kids[inst->n_kids];
		char field[32];
		int votes, veto, advance;

		snprintf(field, sizeof field, "children[%u]", inst->n_kids);
		if (!cJSON_IsObject(el)) {
			snprintf(err, errlen, "config field '%s': must be an object "
			         "{\"scheduler\": name, \"weight\": w}", field);
			return LBS_ECONFIG;
		}
		st = cfg_check_fields(el, child_fields, err, errlen);
		if (st == LBS_OK)
			st = cfg_number(el, "weight", 0.0, WEIGHT_MAX, 1.0, &c->weight,
			                err, errlen);
		if (st == LBS_OK)
			st = cfg_bool(el, "vote", 0, &votes, err, errlen);
		if (st == LBS_OK)
			st = cfg_bool(el, "veto", 0, &veto, err, errlen);
		if (st != LBS_OK)
			return cfg_nested(field, st, err, errlen);
		st = make_child(inst->host, el, field, inst->seed_cfg, c, err, errlen);
		inst->n_kids++; /* destroy frees what make_child made */
		if (st != LBS_OK)
			return st;
		/* A child that learns (LBS_CAP_LEARNS and a report slot)
		 * moves on through report(); one that does not (a rotation,
		 * with a report that only counts) can only move on through
		 * select().  So can adaptive, whose score is the score of the
		 * child it would let decide: scored alone, its exploration
		 * never drew again and its children never rotated or
		 * remembered. */
		st = cfg_bool(el, "advance",
		              !child_learns(c) ||
		                      (c->own && lbs_plugin_entry_v1()->scheduler_find("adaptive") ==
		                                         c->desc),
		              &advance, err, errlen);
		if (st != LBS_OK)
			return cfg_nested(field, st, err, errlen);
		c->votes = votes || !HAS_SLOT(c->desc, score);
		c->advance = advance;
		/* Affinity keeps where a model's work went: its own pick,
		 * which the blend may overrule, would be a worker the model
		 * never ran on. */
		c->advance_after = advance && !c->votes && c->own &&
		                   lbs_plugin_entry_v1()->scheduler_find("affinity") == c->desc;
		/* A scoring child already rejects a worker by scoring it below 0;
		 * a veto is what a voter must be given to say as much. */
		if (veto && inst->mode == MODE_BLEND && !c->votes) {
			snprintf(err, errlen, "config field '%s.veto': only a voting child can "
			         "veto; this one scores (a score below 0 rejects a worker; add "
			         "\"vote\": true to make it vote)", field);
			return LBS_ECONFIG;
		}
		c->veto = veto;
		total += c->weight;
	}
	if (!(total > 0.0)) {
		snprintf(err, errlen, "config field 'children': every weight is 0; give "
		         "at least one child a weight above 0");
		return LBS_ECONFIG;
	}
	for (uint32_t i = 0; i < inst->n_kids; i++) {
		inst->kids[i].weight /= total;
		if (inst->kids[i].weight > 0.0)
			inst->active[inst->n_active++] = i;
	}
	return LBS_OK;
}

/* The child for a route target, sharing an instance with an earlier target
 * that has the same plugin, scheduler and config. */
static lbs_status route_target(comp_inst *inst, const cJSON *obj,
                               const char *field, uint32_t *out, char *err,
                               size_t errlen)
{
	child *c = &inst->kids[inst->n_kids];
	lbs_status st = make_child(inst->host, obj, field, inst->seed_cfg, c, err, errlen);

	inst->n_kids++;
	if (st != LBS_OK)
		return st;
	for (uint32_t i = 0; i + 1 < inst->n_kids; i++) {
		if (strcmp(inst->kids[i].key, c->key) == 0) {
			c->desc->destroy(c->inst);
			release(inst->host, c);
			free(c->key);
			memset(c, 0, sizeof(*c));
			inst->n_kids--;
			*out = i;
			return LBS_OK;
		}
	}
	*out = inst->n_kids - 1;
	return LBS_OK;
}

static lbs_status parse_routes(comp_inst *inst, const cJSON *cfg, char *err,
                               size_t errlen)
{
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(cfg, "routes");
	const cJSON *def = cJSON_GetObjectItemCaseSensitive(cfg, "default");
	const cJSON *el;
	lbs_status st;
	uint64_t seed;
	int n;

	if (cJSON_GetObjectItemCaseSensitive(cfg, "scan") ||
	    cJSON_GetObjectItemCaseSensitive(cfg, "sample")) {
		snprintf(err, errlen, "config field '%s': only a blend or a vote samples; "
		         "a router hands each test to its target whole (give the target "
		         "'scan')", cJSON_GetObjectItemCaseSensitive(cfg, "scan") ? "scan" : "sample");
		return LBS_ECONFIG;
	}
	/* A router draws nothing itself, but hands 'seed' to the targets that
	 * take one: checked here, so that a bad one is named as written. */
	st = cfg_uint(cfg, "seed", 1, &seed, err, errlen);
	if (st != LBS_OK)
		return st;
	if (cJSON_GetObjectItemCaseSensitive(cfg, "children") ||
	    cJSON_GetObjectItemCaseSensitive(cfg, "mode")) {
		/* Named by the field that does not belong with routes: a
		 * config with 'mode' and routes has no 'children' to blame. */
		snprintf(err, errlen, "config field '%s': a composite either blends or votes "
		         "'children' ('mode') or routes test types ('routes' and 'default'), "
		         "not both",
		         cJSON_GetObjectItemCaseSensitive(cfg, "children") ? "children" : "mode");
		return LBS_ECONFIG;
	}
	if (!cJSON_IsObject(def)) {
		snprintf(err, errlen, "config field 'default': %s, {\"scheduler\": name, "
		         "\"config\": {...}} for test types no route takes",
		         def ? "must be an object" : "required with 'routes'");
		return LBS_ECONFIG;
	}
	n = list ? cJSON_GetArraySize(list) : 0;
	if (list && !cJSON_IsArray(list)) {
		snprintf(err, errlen, "config field 'routes': must be a list of "
		         "{\"test_type\" or \"prefix\", \"scheduler\", \"config\"}");
		return LBS_ECONFIG;
	}
	if (n > MAX_ROUTES) {
		snprintf(err, errlen, "config field 'routes': %d routes, at most %d", n,
		         MAX_ROUTES);
		return LBS_ECONFIG;
	}
	inst->mode = MODE_ROUTE;
	inst->kids = calloc((size_t)n + 1, sizeof(*inst->kids));
	inst->routes = calloc((size_t)n + 1, sizeof(*inst->routes));
	inst->target = calloc((size_t)n + 1, sizeof(*inst->target));
	if (!inst->kids || !inst->routes || !inst->target) {
		snprintf(err, errlen, NAME ": out of memory");
		return LBS_ENOMEM;
	}
	cJSON_ArrayForEach(el, list) {
		comp_route *r = &inst->routes[inst->n_routes];
		const char *exact = NULL, *prefix = NULL;
		char field[32];
		int32_t again;

		snprintf(field, sizeof field, "routes[%u]", inst->n_routes);
		if (!cJSON_IsObject(el)) {
			snprintf(err, errlen, "config field '%s': must be an object", field);
			return LBS_ECONFIG;
		}
		st = cfg_check_fields(el, route_fields, err, errlen);
		if (st == LBS_OK)
			st = cfg_string(el, "test_type", NULL, &exact, err, errlen);
		if (st == LBS_OK)
			st = cfg_string(el, "prefix", NULL, &prefix, err, errlen);
		if (st != LBS_OK)
			return cfg_nested(field, st, err, errlen);
		if (!exact == !prefix) {
			snprintf(err, errlen, "config field '%s': give %s 'test_type' (an "
			         "exact name) or 'prefix'", field, exact ? "either" : "one of");
			return LBS_ECONFIG;
		}
		r->prefix = prefix != NULL;
		r->match = strdup(exact ? exact : prefix);
		if (!r->match) {
			snprintf(err, errlen, NAME ": out of memory");
			return LBS_ENOMEM;
		}
		inst->n_routes++;
		again = comp_route_repeat(inst->routes, inst->n_routes);
		if (again >= 0) {
			char shown[96];
			snprintf(err, errlen, "config field '%s': %s '%s' is routed twice",
			         field, r->prefix ? "prefix" : "test type",
			         txt_show(shown, sizeof shown, r->match));
			return LBS_ECONFIG;
		}
		st = route_target(inst, el, field, &inst->target[inst->n_routes - 1],
		                  err, errlen);
		if (st != LBS_OK)
			return st;
	}
	st = cfg_check_fields(def, default_fields, err, errlen);
	if (st != LBS_OK)
		return cfg_nested("default", st, err, errlen);
	st = route_target(inst, def, "default", &inst->fallback, err, errlen);
	/* After the default's own checks, which say more: a router of no
	 * route sends every test to the default, a mistake or the default
	 * named the long way. */
	if (st == LBS_OK && !n) {
		snprintf(err, errlen, "config field 'routes': required: a list of at least one "
		         "route (without one every test goes to the default)");
		st = LBS_ECONFIG;
	}
	return st;
}

static void cp_destroy(void *p)
{
	comp_inst *inst = p;

	if (!inst)
		return;
	for (uint32_t i = 0; i < inst->n_kids; i++) {
		child *c = &inst->kids[i];

		if (c->inst)
			c->desc->destroy(c->inst);
		release(inst->host, c);
		free(c->key);
		free(c->scores);
		free(c->picks);
		free(c->pick_ids);
	}
	for (uint32_t i = 0; i < inst->n_routes; i++)
		free((char *)inst->routes[i].match);
	free(inst->ring);
	free(inst->picks);
	free(inst->kids);
	free(inst->active);
	free(inst->in);
	free(inst->routes);
	free(inst->target);
	free(inst->ok);
	free(inst->blend);
	free(inst->share.scores);
	free(inst->share.hard);
	free(inst->share.load);
	free(inst->eload);
	free(inst->order);
	free(inst->tmp);
	free(inst->pos);
	free(inst->sub);
	free(inst->seen.slot);
	free(inst);
}

static lbs_status cp_create(const lbs_host_api *host, const char *config,
                            size_t config_len, void **out, char *err,
                            size_t errlen)
{
	cJSON *cfg = NULL;
	comp_inst *inst = NULL;
	char path[256] = "", no_err[1];
	lbs_status st;

	if (!out)
		return LBS_EINVAL;
	*out = NULL;
	/* Messages are written below without asking each time. */
	if (!err || errlen == 0) {
		err = no_err;
		errlen = sizeof no_err;
	}
	st = cfg_parse(config, config_len, &cfg, err, errlen);
	if (st == LBS_OK)
		st = cfg_check_fields(cfg, top_fields, err, errlen);
	if (st == LBS_OK && cfg && too_deep(cfg, 1, path, sizeof path)) {
		snprintf(err, errlen, "config field '%s': composites nested more than %d "
		         "deep (does a composite contain itself?)", path, MAX_DEPTH);
		st = LBS_ECONFIG;
	}
	if (st == LBS_OK && !(inst = calloc(1, sizeof(*inst)))) {
		snprintf(err, errlen, NAME ": out of memory");
		st = LBS_ENOMEM;
	}
	if (st == LBS_OK) {
		inst->host = host;
		inst->seed_cfg = cJSON_GetObjectItemCaseSensitive(cfg, "seed");
		if (cJSON_GetObjectItemCaseSensitive(cfg, "routes") ||
		    cJSON_GetObjectItemCaseSensitive(cfg, "default"))
			st = parse_routes(inst, cfg, err, errlen);
		else
			st = parse_children(inst, cfg, err, errlen);
		inst->seed_cfg = NULL; /* cfg's, freed below */
	}
	/* The children's cookies of the last decisions (remember), made
	 * here rather than in a select. */
	if (st == LBS_OK && inst->mode == MODE_ROUTE &&
	    !(inst->ring = calloc(COMP_RING * ROUTE_WIDTH, sizeof(*inst->ring)))) {
		snprintf(err, errlen, NAME ": out of memory");
		st = LBS_ENOMEM;
	}
	if (st == LBS_OK && inst->mode != MODE_ROUTE &&
	    (!(inst->ring = calloc(COMP_RING * RING_WIDTH(inst->n_kids), sizeof(*inst->ring))) ||
	     !(inst->picks = calloc(1, sizeof(*inst->picks))))) {
		snprintf(err, errlen, NAME ": out of memory");
		st = LBS_ENOMEM;
	}
	cJSON_Delete(cfg);
	if (st != LBS_OK) {
		cp_destroy(inst);
		return st;
	}
	sc_log(host, LBS_LOG_DEBUG, NAME ": created, mode %s, %u children",
	       mode_names[inst->mode], inst->n_kids);
	*out = inst;
	return LBS_OK;
}

/* ===== One decision ======================================================= */

static int resize(void *pp, size_t n, size_t size)
{
	void **p = pp;
	void *q = realloc(*p, n * size);

	if (!q)
		return -1;
	*p = q;
	return 0;
}

/* Room for a fleet of n: allocated when the fleet grows, never per call. */
static lbs_status grow(comp_inst *inst, uint32_t n)
{
	size_t cap;

	if (n <= inst->cap)
		return LBS_OK;
	cap = (size_t)n > 2 * (size_t)inst->cap ? n : 2 * (size_t)inst->cap;
	if (resize(&inst->ok, cap, sizeof(*inst->ok)) ||
	    resize(&inst->blend, cap, sizeof(*inst->blend)) ||
	    resize(&inst->eload, cap, sizeof(*inst->eload)) ||
	    resize(&inst->order, cap, sizeof(*inst->order)) ||
	    resize(&inst->tmp, cap, sizeof(*inst->tmp)) ||
	    resize(&inst->share.scores, cap, sizeof(*inst->share.scores)) ||
	    resize(&inst->share.hard, cap, sizeof(*inst->share.hard)) ||
	    resize(&inst->share.load, cap, sizeof(*inst->share.load)))
		return LBS_ENOMEM;
	/* Every child may be asked to select (a routed one too); only the
	 * consulted ones score. */
	for (uint32_t i = 0; i < inst->n_kids; i++) {
		child *c = &inst->kids[i];

		if (resize(&c->picks, cap, sizeof(*c->picks)) ||
		    resize(&c->pick_ids, cap, sizeof(*c->pick_ids)))
			return LBS_ENOMEM;
	}
	for (uint32_t a = 0; a < inst->n_active; a++)
		if (resize(&inst->kids[inst->active[a]].scores, cap, sizeof(double)))
			return LBS_ENOMEM;
	inst->cap = (uint32_t)cap;
	return LBS_OK;
}

static void child_failed(comp_inst *inst, child *c, const char *what,
                         lbs_status st)
{
	if (c->warned)
		return;
	c->warned = 1;
	sc_log(inst->host, LBS_LOG_WARN, NAME ": child '%s' %s failed with status %d "
	       "(logged once)", c->desc->name, what, (int)st);
}

/*
 * Timed work has no load ceiling (docs/SCORING.md, "The load ceiling"):
 * its wait is scored.  One of this plugin's own children rejects a worker
 * that passes the hard filter only for its ceiling, and in a blend that
 * rejection would bar the worker whatever the other children's weight, so
 * a 0.1 round-robin would keep timed work off every busy fast worker.
 * Such a worker gets the child's lowest score instead: a vote against it,
 * not a veto.  A third party's child may reject for reasons of its own,
 * so its rejections stand.
 */
static void ceiling_is_no_veto(double *scores, const lbs_workload *wl,
                               const lbs_worker *const *workers, uint32_t n)
{
	/* The hard filter as a completion pass already found it, if one did
	 * (plugin/timed.h): then no worker is filtered twice. */
	const double *load;
	const uint8_t *hard = timed_hard(wl, workers, n, &load);
	int rejects;
	double low;

	/* Only a worker rejected but not by the filter could get the lowest
	 * score; with the facts that is rare (a completion pass rejects
	 * exactly the workers that fail it), and then the lowest is not
	 * needed: one cheap pass instead of comp_lowest's. */
	if (hard && (timed_rejects_filtered(scores) || !comp_any_unfiltered_reject(scores, hard, n)))
		return;
	low = comp_lowest(scores, n, &rejects);
	if (!rejects)
		return;
	for (uint32_t i = 0; i < n; i++)
		if (!(scores[i] >= 0.0) &&
		    (hard && hard[i] != 2 ? hard[i] == 1
		                          : elig_check(wl, workers[i], 2.0, NULL) == ELIG_OK))
			scores[i] = low;
}

/* c's select() answer: how many picks (0 for no worker), or an error. */
static lbs_status ask(comp_inst *inst, child *c, const lbs_workload *wl,
                      const lbs_worker *const *workers, uint32_t n,
                      uint32_t want, uint32_t *n_picks)
{
	uint32_t cap = want < n ? want : n;
	lbs_selection sel = {
		.struct_size = sizeof(sel),
		.capacity = cap,
		.indices = c->picks,
		.ids = c->pick_ids,
	};
	lbs_status st = c->desc->select(c->inst, wl, workers, n, &sel);

	*n_picks = 0;
	if (st == LBS_OK) {
		/* Ours, not the child's copy: a child that rewrote its capacity
		 * must not have us read past c->picks. */
		*n_picks = sel.n_selected < cap ? sel.n_selected : cap;
		/* The picks' ids as this call's workers have them: a child
		 * (a third party's) may have written no id or a stale one.  A
		 * pick outside the array votes for nobody; its author hears of
		 * it once. */
		for (uint32_t j = 0; j < *n_picks; j++) {
			if (c->picks[j] >= n && !c->warned_range) {
				c->warned_range = 1;
				sc_log(inst->host, LBS_LOG_WARN, NAME ": child '%s' answered index %u, "
				       "outside this call's %u workers: the pick is dropped (logged "
				       "once)", c->desc->name, c->picks[j], n);
			}
			c->pick_ids[j] = c->picks[j] < n ? workers[c->picks[j]]->id : NULL;
		}
		c->asked_cookie = sel.cookie;
		c->asked_pick = *n_picks && c->pick_ids[0] ? wid_hash(c->pick_ids[0]) : 0;
		c->asked_n = *n_picks;
	} else if (st != LBS_NO_WORKER) {
		child_failed(inst, c, "select", st);
		return st < 0 ? st : LBS_EINTERNAL;
	}
	return LBS_OK;
}

/* The children that advance after the choice (advance_after) select
 * among the workers chosen, out's, positions in workers (up to
 * SC_PICKS_MAX of them: affinity keeps the first). */
static lbs_status after_choice(comp_inst *inst, const lbs_workload *wl,
                               const lbs_worker *const *workers, const lbs_selection *out)
{
	const lbs_worker *chosen[SC_PICKS_MAX];
	uint32_t n = out->n_selected < SC_PICKS_MAX ? out->n_selected : SC_PICKS_MAX, ignored;
	lbs_status st = LBS_OK;

	for (uint32_t i = 0; i < n; i++)
		chosen[i] = workers[out->indices[i]];
	for (uint32_t k = 0; k < inst->n_active && st == LBS_OK; k++) {
		child *c = &inst->kids[inst->active[k]];

		if (c->advance_after)
			st = ask(inst, c, wl, chosen, n, n, &ignored);
	}
	return st;
}

/* Keep what the children asked in decision `cookie` answered. */
static void remember(comp_inst *inst, uint64_t cookie)
{
	uint64_t *e;

	if (!inst->ring)
		return;
	e = inst->ring + (cookie % COMP_RING) * RING_WIDTH(inst->n_kids);
	e[0] = cookie;
	for (uint32_t i = 0; i < inst->n_kids; i++) {
		const child *c = &inst->kids[i];
		uint32_t more = c->asked_cookie && c->asked_n > 1 ? c->asked_n - 1 : 0;

		if (more > SC_PICKS_MAX)
			more = SC_PICKS_MAX;
		e[1 + 3 * i] = c->asked_cookie;
		e[2 + 3 * i] = c->asked_pick;
		e[3 + 3 * i] = inst->picks->seq * 128 + more;
		for (uint32_t j = 1; j <= more; j++)
			sc_picks_put(inst->picks, c->pick_ids[j] ? wid_hash(c->pick_ids[j]) : 0);
	}
}

/*
 * A child asked to select (vote mode, "vote", "advance") opened a ledger
 * entry for each of its picks, as any select does; a pick the blend did
 * not choose is placed nowhere, and left open it was work ahead of that
 * worker in the child's eyes until it expired (10 x the estimate, up to
 * 24 h).  Each is closed at once as a cancelled outcome under the child's
 * own cookie, which teaches nothing.  The `chosen` first ids of out are
 * the decision's (0 when it found none).
 */
static void release_overruled(comp_inst *inst, const lbs_workload *wl,
                              const lbs_selection *out, uint32_t chosen)
{
	for (uint32_t a = 0; a < inst->n_active; a++) {
		child *c = &inst->kids[inst->active[a]];

		for (uint32_t j = 0; c->asked_cookie && j < c->asked_n; j++) {
			const char *id = c->pick_ids[j];
			uint32_t k = 0;
			lbs_outcome o;

			while (id && k < chosen && out->ids[k] != id && strcmp(out->ids[k], id))
				k++;
			if (!id || k < chosen || !HAS_SLOT(c->desc, report))
				continue;
			o = (lbs_outcome){.struct_size = sizeof o, .cookie = c->asked_cookie,
			                  .worker_id = id, .workload_type = wl->type,
			                  .result = LBS_RESULT_CANCELLED};
			c->desc->report(c->inst, &o);
		}
	}
}

/* The ring's entry of the decision the outcome o is of, or NULL. */
static const uint64_t *decision_of(const comp_inst *inst, const lbs_outcome *o)
{
	const uint64_t *e;

	if (!inst->ring || !o->cookie || !o->worker_id)
		return NULL;
	e = inst->ring + (o->cookie % COMP_RING) * RING_WIDTH(inst->n_kids);
	return e[0] == o->cookie ? e : NULL;
}

/* Child i's own cookie for an outcome of decision e (decision_of) on the
 * worker whose wid_hash is pick: the cookie of its select in that
 * decision when it picked that worker, first or after (a child whose
 * pick the blend overruled did not place the work: its decision has no
 * outcome), else 0. */
static uint64_t child_cookie(const comp_inst *inst, const uint64_t *e, uint64_t pick, uint32_t i)
{
	const uint64_t *k = e ? e + 1 + 3 * i : NULL;

	return k && k[0] && (k[1] == pick || sc_picks_has(inst->picks, k[2] / 128,
	                                                  (uint32_t)(k[2] % 128), pick))
	       ? k[0] : 0;
}

/* A child's explain text, gathered to be read back (peek_vote). */
static lbs_status comp_score(comp_inst *inst, const lbs_workload *wl,
                             const lbs_worker *const *workers, uint32_t n,
                             double *scores, int peek);

/* c's score(); in a peek, a composite child of this plugin scores as a
 * peek too (its own score asks its voting children to select). */
static lbs_status child_score(child *c, const lbs_workload *wl,
                              const lbs_worker *const *workers, uint32_t n,
                              double *scores, int peek)
{
	if (peek && c->own && c->desc == &sched_composite_desc)
		return comp_score(c->inst, wl, workers, n, scores, 1);
	return c->desc->score(c->inst, wl, workers, n, scores);
}

/*
 * A voting child's vote as explain knows it: without its select(), which
 * moves a rotation's cursor, a weighted rotation's current weights,
 * affinity's keys and the ledger's open work (abi.h: explain changes no
 * state).  One of this plugin's schedulers is asked for its explain,
 * whose "chosen" is the decision its select would make now; a third
 * party's with a score slot, which changes nothing either, for its
 * scores, its best-scored eligible workers (the first in the array of
 * equals) standing for its picks; a third party's without one cannot be
 * asked at all: it votes for nobody here, vetoes nothing, and explain
 * says so (c->peeked PEEK_UNASKED).
 */
static lbs_status peek_vote(comp_inst *inst, child *c, const lbs_workload *wl,
                            const lbs_worker *const *workers, uint32_t n,
                            uint32_t want, comp_child *in)
{
	uint32_t cap = want < n ? want : n, got = 0, w2, need;
	lbs_status st;

	in->n_picks = 0;
	if (c->own && HAS_SLOT(c->desc, explain)) {
		cJSON *doc = NULL;
		const cJSON *id;

		c->peeked = PEEK_EXPLAIN;
		st = sc_explain_doc(c->desc, c->inst, wl, workers, n, &doc);
		if (st != LBS_OK) {
			child_failed(inst, c, "explain", st);
			return st < 0 ? st : LBS_EINTERNAL;
		}
		/* Its chosen ids, in its order, as positions in this call's
		 * workers (each once). */
		cJSON_ArrayForEach(id, cJSON_GetObjectItemCaseSensitive(doc, "chosen")) {
			const char *s = cJSON_GetStringValue(id);

			for (uint32_t i = 0; s && got < cap && i < n; i++) {
				uint32_t k = 0;

				if (!workers[i] || !workers[i]->id || strcmp(workers[i]->id, s))
					continue;
				while (k < got && c->picks[k] != i)
					k++;
				if (k < got)
					continue;
				c->picks[got] = i;
				c->pick_ids[got++] = workers[i]->id;
				break;
			}
		}
		cJSON_Delete(doc);
		in->n_picks = got;
		return LBS_OK;
	}
	if (HAS_SLOT(c->desc, score)) {
		c->peeked = PEEK_SCORE;
		st = c->desc->score(c->inst, wl, workers, n, c->scores);
		if (st != LBS_OK) {
			child_failed(inst, c, "score", st);
			return st < 0 ? st : LBS_EINTERNAL;
		}
		/* The best `cap`, by selection: cap is small (a request's
		 * shards). */
		while (got < cap) {
			int64_t best = -1;

			for (uint32_t i = 0; i < n; i++) {
				uint32_t k = 0;

				if (!(c->scores[i] >= 0.0) || !isfinite(c->scores[i]))
					continue;
				if (best >= 0 && !(c->scores[i] > c->scores[best]))
					continue;
				while (k < got && c->picks[k] != i)
					k++;
				if (k == got)
					best = i;
			}
			if (best < 0)
				break;
			c->picks[got] = (uint32_t)best;
			c->pick_ids[got++] = workers[best]->id;
		}
		sc_shards(wl, cap, &w2, &need);
		in->n_picks = got >= need ? got : 0;
		return LBS_OK;
	}
	c->peeked = PEEK_UNASKED;
	in->veto = 0; /* unasked, it rejects nothing */
	return LBS_OK;
}

/*
 * Ask every consulted child about this workload: scoring children for
 * their scores, voting children (every child in vote mode) for their
 * picks.  `decide`: this is a select, so children that move on only
 * through select() are asked to select as well.  `peek`: this is explain,
 * which must move no child: voting children are not asked to select
 * (peek_vote).
 */
static lbs_status consult(comp_inst *inst, const lbs_workload *wl,
                          const lbs_worker *const *workers, uint32_t n,
                          uint32_t want, int decide, int peek)
{
	/* Hardware-aware and priority's urgent work may score the same
	 * completions: once is enough (plugin/timed.h). */
	timed_share *outer = timed_share_begin(&inst->share);
	lbs_status st = LBS_OK;

	for (uint32_t a = 0; a < inst->n_active; a++) {
		child *c = &inst->kids[inst->active[a]];
		comp_child *in = &inst->in[a];
		uint32_t ignored;

		c->asked_cookie = c->asked_pick = 0;
		c->asked_n = 0;
		in->weight = c->weight;
		in->veto = c->veto;
		in->scores = NULL;
		in->picks = c->picks;
		in->n_picks = 0;
		c->peeked = PEEK_NONE;
		if ((inst->mode == MODE_VOTE || c->votes) && peek) {
			st = peek_vote(inst, c, wl, workers, n, want, in);
		} else if (inst->mode == MODE_VOTE || c->votes) {
			st = ask(inst, c, wl, workers, n, want, &in->n_picks);
		} else {
			st = child_score(c, wl, workers, n, c->scores, peek);
			if (st != LBS_OK)
				child_failed(inst, c, "score", st);
			else if (decide && c->advance && !c->advance_after && !c->moved)
				st = ask(inst, c, wl, workers, n, want, &ignored);
			if (st == LBS_OK && c->own && wl->est_duration_s > 0)
				ceiling_is_no_veto(c->scores, wl, workers, n);
			in->scores = c->scores;
		}
		if (st != LBS_OK)
			break;
	}
	timed_share_end(outer);
	return st;
}

/* A rotation asked to select (advance) moved on for its own pick: a tie in
 * the blend goes to that pick, past the tie rule's load and position, or
 * the rotation's turn and the answer part (a fleet of two equal workers
 * and one weighted rotation, which scores both 1, gave the less loaded
 * one every request while the rotation counted its turns to the other). */
static void favour_advanced(comp_inst *inst, uint32_t n)
{
	for (uint32_t a = 0; a < inst->n_active; a++) {
		const child *c = &inst->kids[inst->active[a]];

		if (!c->advance || c->advance_after || c->votes || !(c->weight > 0.0))
			continue;
		for (uint32_t q = 0; q < c->asked_n; q++)
			if (c->picks[q] < n && inst->ok[c->picks[q]])
				inst->blend[c->picks[q]] += 2 * COMP_TIE_EPS;
	}
}

/* Consult and blend (or tally): ok[] and blend[] for every worker, and
 * how many are admitted into *m. */
static lbs_status evaluate(comp_inst *inst, const lbs_workload *wl,
                           const lbs_worker *const *workers, uint32_t n,
                           uint32_t want, int decide, int peek, uint32_t *m)
{
	lbs_status st = grow(inst, n);

	if (st == LBS_OK)
		st = consult(inst, wl, workers, n, want, decide, peek);
	if (st != LBS_OK)
		return st;
	if (inst->mode == MODE_VOTE) {
		*m = comp_tally(inst->in, inst->n_active, n, inst->ok, inst->blend);
		return LBS_OK;
	}
	*m = comp_admit(inst->in, inst->n_active, n, inst->ok);
	comp_blend(inst->in, inst->n_active, n, inst->ok, inst->blend);
	if (decide)
		favour_advanced(inst, n);
	return LBS_OK;
}

static int voted_for(const comp_child *in, uint32_t i)
{
	for (uint32_t q = 0; q < in->n_picks; q++)
		if (in->picks[q] == i)
			return 1;
	return 0;
}

/* "hardware-aware 0.70 x 1.00, priority 0.20 x 0.45, ..." for worker i. */
static void contributions(const comp_inst *inst, uint32_t i, char *buf,
                          size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (uint32_t a = 0; a < inst->n_active && used < len; a++) {
		const comp_child *in = &inst->in[a];
		double x = in->scores ? comp_normalised(in, in->scores[i])
		                      : voted_for(in, i);
		int w = inst->kids[inst->active[a]].peeked == PEEK_UNASKED
		        ? snprintf(buf + used, len - used, "%s%s %.2f x not asked",
		                   a ? ", " : "", inst->kids[inst->active[a]].desc->name,
		                   in->weight)
		        : snprintf(buf + used, len - used, "%s%s %.2f x %s%.2f",
		                   a ? ", " : "", inst->kids[inst->active[a]].desc->name,
		                   in->weight, in->scores ? "" : "vote ", x);
		if (w < 0)
			break;
		used += (size_t)w;
	}
}

/* `of`: the fleet a sampled choice drew from (0: none, it saw every
 * worker). */
static void say_chosen(const comp_inst *inst, lbs_selection *out,
                       uint32_t found, uint32_t candidates, uint32_t of)
{
	char parts[320];
	uint32_t best = out->indices[0];

	if (!out->reason || out->reason_len == 0)
		return;
	contributions(inst, best, parts, sizeof parts);
	if (inst->mode == MODE_VOTE)
		sc_reason(out, NAME " (vote): %s%.2f of the weight voted for it (%s)%s",
		          found > 1 ? "first of the chosen: " : "", inst->blend[best], parts,
		          of ? " in a sample" : "");
	else if (of)
		sc_reason(out, NAME ": blend %.2f, best of %u candidate%s in a sample of "
		          "%u workers (%s)", inst->blend[best], candidates,
		          candidates == 1 ? "" : "s", of, parts);
	else
		sc_reason(out, NAME ": %sblend %.2f, best of %u candidate%s (%s)",
		          found > 1 ? "first of the chosen: " : "", inst->blend[best],
		          candidates, candidates == 1 ? "" : "s", parts);
}

static int worker_usable(const lbs_worker *w)
{
	return w && w->struct_size >= LBS_WORKER_SIZE_V1_0 && w->id;
}

/* Which child rejects worker i first, or -1 (for the NO_WORKER reason):
 * a scoring child by a score below 0, a vetoing voter by not picking it. */
static int32_t rejecting_child(const comp_inst *inst, uint32_t i)
{
	for (uint32_t a = 0; a < inst->n_active; a++) {
		const comp_child *in = &inst->in[a];

		if (in->scores ? !(in->scores[i] >= 0.0 && isfinite(in->scores[i]))
		               : in->veto && !voted_for(in, i))
			return (int32_t)a;
	}
	return -1;
}

static void say_none(const comp_inst *inst, lbs_selection *out,
                     const lbs_workload *wl, const lbs_worker *const *workers,
                     uint32_t n, uint32_t found, uint32_t need)
{
	uint32_t hard = 0, by_child = 0, unvoted = 0;
	int32_t first = -1;

	if (!out->reason || out->reason_len == 0)
		return;
	if (n == 0 || out->capacity < need || found > 0) {
		sc_reason_none(out, NAME, wl, workers, n, 1.0, found, need);
		return;
	}
	for (uint32_t i = 0; i < n; i++) {
		int32_t r = rejecting_child(inst, i);

		if (!worker_usable(workers[i]) ||
		    elig_check(wl, workers[i], 1.0, NULL) != ELIG_OK)
			hard++;
		else if (r >= 0) {
			by_child++;
			if (first < 0)
				first = r;
		} else
			unvoted++;
	}
	if (hard == n)
		sc_reason_none(out, NAME, wl, workers, n, 1.0, 0, need);
	else if (by_child == 0)
		sc_reason(out, NAME ": no child chose an eligible worker (%u of %u "
		          "fail a hard requirement, %u got no vote)", hard, n, unvoted);
	else
		sc_reason(out, NAME ": no eligible worker among %u: %u fail a hard "
		          "requirement, the children reject %u (first: '%s')", n, hard,
		          by_child, inst->kids[inst->active[first]].desc->name);
}

static const char *route_name(const comp_inst *inst, int32_t r, char *buf,
                              size_t len)
{
	if (r < 0)
		snprintf(buf, len, "default");
	else
		snprintf(buf, len, "%s '%s'", inst->routes[r].prefix ? "prefix" : "test type",
		         inst->routes[r].match);
	return buf;
}

static child *route_of(comp_inst *inst, const char *test_type, int32_t *r)
{
	*r = comp_route_find(inst->routes, inst->n_routes, test_type);
	return &inst->kids[*r < 0 ? inst->fallback : inst->target[*r]];
}

static lbs_status route_select(comp_inst *inst, const lbs_workload *wl,
                               const lbs_worker *const *workers, uint32_t n,
                               lbs_selection *out)
{
	int32_t r;
	child *c = route_of(inst, wl->test_type, &r);
	lbs_status st = c->desc->select(c->inst, wl, workers, n, out);
	char said[512], name[160];

	/* Targets number their cookies alike, and an outcome need not name
	 * its test type: the cookie is ours, and says which target decided
	 * and under which of its cookies. */
	if (st == LBS_OK) {
		uint64_t *e = inst->ring + (++inst->cookie % COMP_RING) * ROUTE_WIDTH;

		e[0] = inst->cookie;
		e[1] = (uint64_t)(c - inst->kids);
		e[2] = out->cookie;
		out->cookie = inst->cookie;
	}

	if (out->reason && out->reason_len)
		out->reason[out->reason_len - 1] = '\0'; /* the child may not have */
	if (out->reason && out->reason_len && st >= 0) {
		snprintf(said, sizeof said, "%s", out->reason);
		sc_reason(out, NAME " route %s -> %s", route_name(inst, r, name, sizeof name),
		          said);
	}
	return st;
}

/* Evaluate workers[0..n) and choose up to `want` of them into
 * out->indices (positions in that array); *candidates: how many were
 * admitted. */
static lbs_status choose_among(comp_inst *inst, const lbs_workload *wl,
                               const lbs_worker *const *workers, uint32_t n,
                               uint32_t want, int decide, lbs_selection *out,
                               uint32_t *found, uint32_t *candidates)
{
	lbs_status st;

	*found = *candidates = 0;
	st = evaluate(inst, wl, workers, n, want, decide, 0, candidates);
	if (st != LBS_OK)
		return st;
	return comp_choose(wl, workers, n, inst->ok, inst->blend, inst->mode == MODE_BLEND,
	                   want, out->indices, inst->order, inst->tmp, inst->eload, found);
}

/*
 * A sampled single choice (docs/COMPOSITE.md, "Giant fleets"): every child
 * sees the same candidates, the best few of the last sampled choice of
 * this workload type and `sample` drawn workers, as one array.  *m: how
 * many; out->indices[0] is a position in inst->sub.  *found 0 when no
 * candidate would do: then the caller asks the whole fleet, so that the
 * hard filter is never sampled away.
 */
static lbs_status choose_sampled(comp_inst *inst, const lbs_workload *wl,
                                 const lbs_worker *const *workers, uint32_t n,
                                 lbs_selection *out, uint32_t *m, uint32_t *found,
                                 uint32_t *candidates)
{
	uint32_t *kept = inst->kept[wl->type < LBS_WL_COUNT ? wl->type : LBS_WL_MIXED];
	uint32_t ranked = 0;
	lbs_status st;

	*m = comp_sample(&inst->rng, kept, COMP_KEEP, n, inst->sample, inst->pos, &inst->seen);
	for (uint32_t k = 0; k < *m; k++)
		inst->sub[k] = workers[inst->pos[k]];
	st = choose_among(inst, wl, inst->sub, *m, 1, 1, out, found, candidates);
	if (st != LBS_OK || *found == 0)
		return st;
	/* The runners-up stay candidates next time: a strong worker seen
	 * once is not lost to the next draw. */
	st = comp_best_few(inst->sub, *m, inst->ok, inst->blend, inst->mode == MODE_BLEND,
	                   COMP_KEEP, inst->order, inst->eload, &ranked);
	for (uint32_t q = 0; q < COMP_KEEP; q++)
		kept[q] = q < ranked ? inst->pos[inst->order[q]] : UINT32_MAX;
	return st;
}

static lbs_status cp_select(void *p, const lbs_workload *wl,
                            const lbs_worker *const *workers, uint32_t n,
                            lbs_selection *out)
{
	comp_inst *inst = p;
	uint32_t want = 0, need = 0, found = 0, candidates = 0, m = 0;
	lbs_status st;

	st = sc_check_select(wl, workers, n, out);
	if (st == LBS_OK && inst->mode == MODE_ROUTE)
		st = route_select(inst, wl, workers, n, out);
	else if (st == LBS_OK) {
		sc_shards(wl, out->capacity, &want, &need);
		if (n > 0 && want >= need && want == 1 && n >= inst->sample_from &&
		    n > inst->sample)
			st = choose_sampled(inst, wl, workers, n, out, &m, &found, &candidates);
		if (st == LBS_OK && found > 0) {
			/* The ids and the reason are the sample's; the position
			 * the host gets is the fleet's. */
			sc_fill(out, inst->sub, found, ++inst->cookie);
			st = after_choice(inst, wl, inst->sub, out);
			remember(inst, inst->cookie);
			release_overruled(inst, wl, out, out->n_selected);
			say_chosen(inst, out, found, candidates, n);
			out->indices[0] = inst->pos[out->indices[0]];
		} else if (st == LBS_OK) {
			/* A sample with no candidate: the children that move
			 * on through select() decide over the whole fleet,
			 * but those that found a worker in the sample (one
			 * another child refused) moved already.  Told not to
			 * move at all, a rotation gave every such request to
			 * the same worker. */
			if (m)
				release_overruled(inst, wl, out, 0);
			for (uint32_t a = 0; a < inst->n_active; a++) {
				child *c = &inst->kids[inst->active[a]];

				/* a rotation, which only select moves; one that
				 * learns (adaptive) is asked again, so that its
				 * decision has a cookie for its outcome */
				c->moved = m && c->asked_n > 0 && !child_learns(c);
			}
			if (n > 0 && want >= need)
				st = choose_among(inst, wl, workers, n, want, 1, out, &found,
				                  &candidates);
			for (uint32_t a = 0; a < inst->n_active; a++)
				inst->kids[inst->active[a]].moved = 0;
			if (st == LBS_OK && (found == 0 || found < need)) {
				say_none(inst, out, wl, workers, n, found, need);
				release_overruled(inst, wl, out, 0);
				st = LBS_NO_WORKER;
			} else if (st == LBS_OK) {
				sc_fill(out, workers, found, ++inst->cookie);
				st = after_choice(inst, wl, workers, out);
				remember(inst, inst->cookie);
				release_overruled(inst, wl, out, out->n_selected);
				say_chosen(inst, out, found, candidates, 0);
			}
		}
	}
	if (st != LBS_OK && st != LBS_NO_WORKER) {
		sc_bump(&inst->n.errors);
		return st;
	}
	sc_bump(&inst->n.selects);
	if (st == LBS_NO_WORKER)
		sc_bump(&inst->n.no_worker);
	return st;
}

/* ===== Score, report, stats ============================================== */

/* scores[i]: value[i] for candidates that pass the hard filter, else -1
 * (value NULL: 1 for candidates). */
static lbs_status hard_scores(const lbs_workload *wl,
                              const lbs_worker *const *workers, uint32_t n,
                              const uint8_t *ok, const double *value,
                              double *scores)
{
	for (uint32_t i = 0; i < n; i++) {
		if (!worker_usable(workers[i]))
			return LBS_EINVAL;
		scores[i] = ok[i] && elig_check(wl, workers[i], 1.0, NULL) == ELIG_OK
		            ? (value ? value[i] : 1.0) : -1.0;
	}
	return LBS_OK;
}

/* score(); `peek`: as explain scores a composite child, moving none of
 * its children (consult). */
static lbs_status comp_score(comp_inst *inst, const lbs_workload *wl,
                             const lbs_worker *const *workers, uint32_t n,
                             double *scores, int peek)
{
	uint32_t want, need, picks, m;
	int32_t r;
	child *c;
	lbs_status st = sc_check_workload(wl);

	if (st != LBS_OK)
		return st;
	if (n && (!workers || !scores))
		return LBS_EINVAL;
	if (n == 0)
		return LBS_OK;
	sc_shards(wl, UINT32_MAX, &want, &need);
	if (inst->mode != MODE_ROUTE) {
		st = evaluate(inst, wl, workers, n, want, 0, peek, &m);
		return st != LBS_OK ? st
		       : hard_scores(wl, workers, n, inst->ok, inst->blend, scores);
	}
	c = route_of(inst, wl->test_type, &r);
	if (HAS_SLOT(c->desc, score))
		return child_score(c, wl, workers, n, scores, peek);
	/* A routed child that only selects: its picks score 1, like a vote.
	 * A peek cannot ask it: every worker that passes the hard filter
	 * scores 1, no preference. */
	st = grow(inst, n);
	if (st == LBS_OK && !peek)
		st = ask(inst, c, wl, workers, n, want, &picks);
	if (st != LBS_OK)
		return st;
	memset(inst->ok, peek, n);
	for (uint32_t q = 0; !peek && q < picks; q++)
		if (c->picks[q] < n)
			inst->ok[c->picks[q]] = 1;
	return hard_scores(wl, workers, n, inst->ok, NULL, scores);
}

static lbs_status cp_score(void *p, const lbs_workload *wl,
                           const lbs_worker *const *workers, uint32_t n,
                           double *scores)
{
	return comp_score(p, wl, workers, n, scores, 0);
}

static lbs_status cp_report(void *p, const lbs_outcome *o)
{
	comp_inst *inst = p;
	lbs_status first = LBS_OK;
	lbs_outcome copy;
	size_t size;
	int32_t r;

	if (!o || o->struct_size < LBS_OUTCOME_SIZE_V1_0)
		return LBS_EINVAL;
	size = o->struct_size < sizeof(copy) ? o->struct_size : sizeof(copy);
	memset(&copy, 0, sizeof(copy));
	memcpy(&copy, o, size);
	copy.struct_size = (uint32_t)size;
	if (inst->mode == MODE_ROUTE) {
		/* The target that decided learns, with its own cookie; an
		 * outcome of no decision the ring still holds goes where its
		 * test type is routed, with none. */
		const uint64_t *e = inst->ring + (o->cookie % COMP_RING) * ROUTE_WIDTH;
		child *c;

		if (o->cookie && e[0] == o->cookie) {
			c = &inst->kids[e[1]];
			copy.cookie = e[2];
		} else {
			c = route_of(inst, o->test_type, &r);
			copy.cookie = 0;
		}
		first = HAS_SLOT(c->desc, report) ? c->desc->report(c->inst, &copy) : LBS_OK;
	} else {
		/* The cookie is ours; each child gets its own, when it
		 * picked the worker (child_cookie). */
		const uint64_t *e = decision_of(inst, o);
		uint64_t pick = e ? wid_hash(o->worker_id) : 0;

		for (uint32_t i = 0; i < inst->n_kids; i++) {
			child *c = &inst->kids[i];
			lbs_status st;

			if (!HAS_SLOT(c->desc, report))
				continue;
			copy.cookie = child_cookie(inst, e, pick, i);
			st = c->desc->report(c->inst, &copy);
			if (st != LBS_OK && first == LBS_OK)
				first = st;
		}
	}
	if (first == LBS_OK)
		sc_bump(&inst->n.reports);
	return first;
}

static lbs_status cp_workers_changed(void *p, const lbs_worker *const *workers,
                                     uint32_t n)
{
	comp_inst *inst = p;
	lbs_status first = LBS_OK;

	for (uint32_t i = 0; i < inst->n_kids; i++) {
		child *c = &inst->kids[i];
		lbs_status st;

		if (!HAS_SLOT(c->desc, workers_changed))
			continue;
		st = c->desc->workers_changed(c->inst, workers, n);
		if (st != LBS_OK && first == LBS_OK)
			first = st;
	}
	return first;
}

/* Passes text on and counts it, so a child that wrote nothing can be
 * given a placeholder. */
typedef struct relay {
	lbs_write_fn write;
	void *ctx;
	size_t bytes;
} relay;

static int relay_write(void *ctx, const char *data, size_t len)
{
	relay *r = ctx;

	r->bytes += len;
	return r->write(r->ctx, data, len);
}

static int put(relay *r, const char *text)
{
	return relay_write(r, text, strlen(text));
}

/* The counters object without its closing brace. */
typedef struct head {
	char buf[1024];
	size_t len;
} head;

static int head_write(void *ctx, const char *data, size_t len)
{
	head *h = ctx;

	if (len > sizeof(h->buf) - h->len)
		return 1;
	memcpy(h->buf + h->len, data, len);
	h->len += len;
	return 0;
}

static lbs_status cp_stats(void *p, lbs_write_fn write, void *ctx)
{
	comp_inst *inst = p;
	relay out = { write, ctx, 0 };
	head h = { .len = 0 };
	char extra[96], one[192];
	lbs_status st;

	if (!write)
		return LBS_EINVAL;
	/* a router draws nothing: its targets show their own seeds */
	if (inst->mode == MODE_ROUTE)
		snprintf(extra, sizeof extra, ",\"mode\":\"%s\"", mode_names[inst->mode]);
	else
		snprintf(extra, sizeof extra, ",\"mode\":\"%s\",\"seed\":%llu",
		         mode_names[inst->mode], (unsigned long long)inst->seed);
	st = sc_stats(NAME, &inst->n, extra, head_write, &h);
	if (st != LBS_OK || h.len < 2)
		return st != LBS_OK ? st : LBS_EINTERNAL;
	relay_write(&out, h.buf, h.len - 1);
	put(&out, ",\"children\":[");
	for (uint32_t i = 0; i < inst->n_kids; i++) {
		child *c = &inst->kids[i];
		relay sub = { write, ctx, 0 };

		if (i)
			put(&out, ",");
		if (HAS_SLOT(c->desc, stats) &&
		    c->desc->stats(c->inst, relay_write, &sub) == LBS_OK && sub.bytes)
			continue;
		if (sub.bytes == 0) {
			snprintf(one, sizeof one, "{\"scheduler\":\"%s\"}", c->desc->name);
			put(&out, one);
		}
	}
	put(&out, "]}");
	return LBS_OK;
}

/* ===== Explain ============================================================ */

/* {"child": a, "scheduler": name, "weight": w, "uses": "score"|"vote",
 * "lo", "hi"}; lo and hi only when this call evaluated the workers. */
static void explain_children(sc_explain *e, const comp_inst *inst, int evaluated)
{
	cJSON *list = cJSON_AddArrayToObject(e->root, "children");

	if (!list || !cJSON_AddStringToObject(e->root, "mode", mode_names[inst->mode])) {
		e->oom = 1;
		return;
	}
	for (uint32_t a = 0; a < inst->n_active; a++) {
		const child *c = &inst->kids[inst->active[a]];
		int scores = inst->mode == MODE_BLEND && !c->votes;
		cJSON *o = cJSON_CreateObject();

		if (!o || !cJSON_AddItemToArray(list, o)) {
			cJSON_Delete(o);
			e->oom = 1;
			return;
		}
		sc_explain_num(e, o, "child", inst->active[a]);
		sc_explain_str(e, o, "scheduler", c->desc->name);
		sc_explain_num(e, o, "weight", c->weight);
		sc_explain_str(e, o, "uses", scores ? "score" : c->veto ? "veto" : "vote");
		/* How explain knew its vote, never by its select: see
		 * peek_vote ("not asked": it is left out of "chosen"). */
		if (!scores && evaluated && c->peeked != PEEK_NONE)
			sc_explain_str(e, o, "asked", peek_names[c->peeked]);
		if (scores && evaluated) {
			sc_explain_num(e, o, "lo", inst->in[a].lo);
			sc_explain_num(e, o, "hi", inst->in[a].hi);
		}
	}
}

/* Each child's part in worker i's blend. */
static void explain_parts(sc_explain *e, cJSON *cand, const comp_inst *inst,
                          uint32_t i)
{
	cJSON *list = cand ? cJSON_AddArrayToObject(cand, "children") : NULL;

	if (!list) {
		e->oom = 1;
		return;
	}
	for (uint32_t a = 0; a < inst->n_active; a++) {
		const comp_child *in = &inst->in[a];
		cJSON *o = cJSON_CreateObject();
		double x;

		if (!o || !cJSON_AddItemToArray(list, o)) {
			cJSON_Delete(o);
			e->oom = 1;
			return;
		}
		sc_explain_num(e, o, "child", inst->active[a]);
		sc_explain_str(e, o, "scheduler", inst->kids[inst->active[a]].desc->name);
		sc_explain_num(e, o, "weight", in->weight);
		if (in->scores) {
			x = comp_normalised(in, in->scores[i]);
			sc_explain_num(e, o, "raw", in->scores[i]);
			sc_explain_num(e, o, "normalised", x);
		} else if (inst->kids[inst->active[a]].peeked == PEEK_UNASKED) {
			x = 0.0; /* not asked: no vote either way */
			if (!cJSON_AddNullToObject(o, "vote"))
				e->oom = 1;
		} else {
			x = voted_for(in, i);
			sc_explain_num(e, o, "vote", x);
		}
		sc_explain_num(e, o, "weighted", in->weight * x);
	}
}

static void reject_reason(const comp_inst *inst, uint32_t i, char *buf,
                          size_t len)
{
	int32_t a = rejecting_child(inst, i);
	const comp_child *in = a >= 0 ? &inst->in[a] : NULL;

	if (!in)
		snprintf(buf, len, "no child voted for it");
	else if (in->scores)
		snprintf(buf, len, "rejected by child %u '%s' (score %g)",
		         inst->active[a], inst->kids[inst->active[a]].desc->name,
		         in->scores[i]);
	else
		snprintf(buf, len, "vetoed by child %u '%s' (%s)", inst->active[a],
		         inst->kids[inst->active[a]].desc->name,
		         in->n_picks ? "it picked others" : "it found no worker");
}

/* After explain's reason: the voting children it could not ask (no score
 * slot: only their select would tell, and that moves them), whose votes
 * "chosen" leaves out. */
static void unasked_note(const comp_inst *inst, uint32_t n, char *reason, size_t len)
{
	size_t used = strlen(reason);
	int first = 1;

	for (uint32_t a = 0; n && a < inst->n_active && used + 1 < len; a++) {
		const child *c = &inst->kids[inst->active[a]];
		int w;

		if (c->peeked != PEEK_UNASKED)
			continue;
		w = snprintf(reason + used, len - used, "%s%u '%s'",
		             first ? "; not asked (a voter without a score slot: explain "
		                     "cannot ask it without moving it, so \"chosen\" leaves "
		                     "its vote out): child " : ", child ",
		             inst->active[a], c->desc->name);
		if (w < 0)
			break;
		used += (size_t)w < len - used ? (size_t)w : len - used - 1;
		first = 0;
	}
}

/* Routed: {"scheduler": "composite", "mode": "route", "route": ...,
 * "target": name, "explain": <the target's own explain>}. */
static lbs_status route_explain(comp_inst *inst, const lbs_workload *wl,
                                const lbs_worker *const *workers, uint32_t n,
                                lbs_write_fn write, void *ctx)
{
	int32_t r;
	child *c = route_of(inst, wl->test_type, &r);
	relay out = { write, ctx, 0 };
	char name[160], text[400];
	cJSON *s = NULL;
	char *q;

	route_name(inst, r, name, sizeof name);
	/* The route's text is the user's: quote it through cJSON. */
	if (!(s = cJSON_CreateString(name)) || !(q = cJSON_PrintUnformatted(s))) {
		cJSON_Delete(s);
		return LBS_ENOMEM;
	}
	snprintf(text, sizeof text, "{\"scheduler\":\"" NAME "\",\"mode\":\"route\","
	         "\"route\":%s,\"target\":\"%s\",\"explain\":", q, c->desc->name);
	cJSON_free(q);
	cJSON_Delete(s);
	put(&out, text);
	if (!HAS_SLOT(c->desc, explain) ||
	    c->desc->explain(c->inst, wl, workers, n, relay_write, &out) != LBS_OK)
		put(&out, "null");
	put(&out, "}");
	return LBS_OK;
}

static lbs_status cp_explain(void *p, const lbs_workload *wl,
                             const lbs_worker *const *workers, uint32_t n,
                             lbs_write_fn write, void *ctx)
{
	comp_inst *inst = p;
	uint32_t want, need, m = 0, taken = 0;
	char reason[512] = "", text[256];
	lbs_selection sel;
	lbs_status st;
	sc_explain e;

	if (!write || sc_check_workload(wl) != LBS_OK || (n && !workers))
		return LBS_EINVAL;
	if (inst->mode == MODE_ROUTE)
		return route_explain(inst, wl, workers, n, write, ctx);
	sc_shards(wl, UINT32_MAX, &want, &need);
	st = n ? evaluate(inst, wl, workers, n, want, 0, 1, &m) : LBS_OK;
	if (st == LBS_OK && n)
		st = comp_rank(workers, n, inst->ok, inst->blend, inst->mode == MODE_BLEND,
		               inst->order, inst->tmp, inst->eload, &m);
	if (st == LBS_OK)
		st = sc_explain_begin(&e, NAME);
	if (st != LBS_OK)
		return st;
	explain_children(&e, inst, n > 0);
	/* The workers no child let through, with their first obstacle. */
	for (uint32_t i = 0; i < n; i++) {
		enum elig_reason why;

		if (inst->ok[i] || !worker_usable(workers[i]))
			continue;
		why = elig_check(wl, workers[i], 1.0, NULL);
		if (why != ELIG_OK)
			snprintf(text, sizeof text, "%s", elig_reason_text(why));
		else
			reject_reason(inst, i, text, sizeof text);
		sc_explain_reject(&e, workers[i]->id, text);
	}
	/* The walk select makes: best first, skipping hard-filter failures. */
	for (uint32_t r = 0; r < m; r++) {
		uint32_t i = inst->order[r];
		enum elig_reason why = elig_check(wl, workers[i], 1.0, NULL);
		cJSON *cand;

		if (why != ELIG_OK) {
			sc_explain_reject(&e, workers[i]->id, elig_reason_text(why));
			continue;
		}
		if (taken < want)
			inst->order[taken++] = i; /* taken <= r: already read */
		cand = sc_explain_candidate(&e, workers[i]->id, inst->blend[i]);
		explain_parts(&e, cand, inst, i);
	}
	sel = (lbs_selection){ .struct_size = sizeof(sel), .capacity = want,
	                       .indices = inst->order, .reason = reason,
	                       .reason_len = sizeof(reason) };
	if (taken == 0 || taken < need) {
		say_none(inst, &sel, wl, workers, n, taken, need);
	} else {
		for (uint32_t k = 0; k < taken; k++)
			sc_explain_chosen(&e, workers[inst->order[k]]->id);
		say_chosen(inst, &sel, taken, m, 0);
	}
	unasked_note(inst, n, reason, sizeof reason);
	sc_explain_reason(&e, reason);
	return sc_explain_end(&e, write, ctx);
}

const lbs_scheduler_desc sched_composite_desc = {
	.struct_size = sizeof(lbs_scheduler_desc),
	.name = NAME,
	.description = "A weighted blend of any schedulers, this plugin's or a "
	               "third party's, or a route per test type.",
	.caps = LBS_CAP_MULTI | LBS_CAP_LEARNS,
	.create = cp_create,
	.destroy = cp_destroy,
	.select = cp_select,
	.score = cp_score,
	.report = cp_report,
	.workers_changed = cp_workers_changed,
	.stats = cp_stats,
	.explain = cp_explain,
};
