/*
 * sched_adaptive.c -- the "adaptive" scheduler: for each request, one of
 * its children decides, chosen by the outcomes the children's decisions
 * had in the same context (scheduler-algos/adaptive.h).  The original
 * service's default scheduler.
 *
 * Config: {"children": ["performance", "weighted-round-robin", "affinity",
 *                       "priority"],
 *          "config": {"performance": {...}, ...},
 *          "store": {...}, "load_ceiling": 0.9,
 *          "epsilon": 0.1, "prior_strength": 10, "memory": 1000, "seed": 1}
 *   children        schedulers of this plugin (not adaptive or composite),
 *                   up to 8, each once; the default is the original's four.
 *   config          a child's own config, by its name.
 *   store           given to affinity (its model map) and to one child
 *                   that learns outcomes, performance or else the first
 *                   listed of hardware-aware and priority, among those
 *                   with none in "config"; one only, so no outcome is
 *                   learned twice.  Refused when no child would keep it.
 *   load_ceiling    given to every child whose config has none.
 *   epsilon         share of requests that explore another child, 0..1.
 *   prior_strength  outcomes a measurement needs to weigh as much as the
 *                   original's rule, > 0.
 *   memory          outcomes a child's value in a context is mostly made
 *                   of, the older ones fading (adaptive.h), 1..1e9.
 *   seed            the exploration draws are a fixed sequence for a seed.
 *
 * report(): the outcome goes to every child with a report slot, the
 * deciding child's with its own cookie when the worker is any of the
 * decision's (a sharded placement's every worker); then the deciding
 * child's decision, found by the cookie (a ring of the last ADAPT_RING
 * decisions), learns its reward from the first valid outcome reported for
 * it (adapt_reward; further ones are not rewarded again).  What adaptive measured is in memory
 * only; its children keep what they keep.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adaptive.h"
#include "config.h"
#include "priority.h"
#include "sched_util.h"
#include "store_config.h"
#include "text.h"
#include "worker_id.h"

#define NAME "adaptive"
#define ADAPT_RING 4096u
#define CHILD_REASON 320

LBS_EXPORT const lbs_plugin_entry *lbs_plugin_entry_v1(void);

typedef struct ad_child {
	const lbs_scheduler_desc *desc;
	void *inst;
	const char *name; /* the descriptor's */
} ad_child;

typedef struct ad_decision {
	uint64_t cookie;       /* ours; 0 = empty */
	uint64_t child_cookie; /* the child's */
	uint32_t child, ctx;
	/* Its reward was learned: a decision is rewarded once, by the first
	 * outcome reported for it of the worker it chose first (a sharded
	 * placement reports one for each worker; a host may deliver one
	 * twice, or report the test's run on another worker). */
	uint32_t rewarded;
	uint64_t pick; /* wid_hash of the first worker chosen */
	/* The others' (sc_picks): n_picks of them from picks_at.  A
	 * decision whose others were overwritten is matched by its first
	 * alone. */
	uint64_t picks_at;
	uint32_t n_picks;
} ad_decision;

typedef struct ad_inst {
	const lbs_host_api *host;
	ad_child kids[ADAPT_MAX_CHILDREN];
	uint32_t n_kids;
	int32_t role_child[4]; /* adapt_role -> child, -1 when absent */
	adapt_params p;
	adapt_state st;
	uint64_t rng, cookie;
	uint64_t seed; /* the config's, or 1: rng's start, for stats */
	ad_decision ring[ADAPT_RING];
	sc_picks picks;
	sched_counters n;
	/* For stats(), which is [any]: per child, over every context;
	 * rewards in millionths. */
	_Atomic uint64_t decisions[ADAPT_MAX_CHILDREN], outcomes[ADAPT_MAX_CHILDREN];
	_Atomic uint64_t reward_u[ADAPT_MAX_CHILDREN], unmatched;
} ad_inst;

static const char *const known_fields[] = { "children", "config", "store", "load_ceiling",
	                                    "epsilon", "prior_strength", "memory", "seed",
	                                    NULL };
static const char *const default_children[] = { "performance", "weighted-round-robin",
	                                        "affinity", "priority" };
static const char *const role_names[] = { "performance", "weighted-round-robin", "affinity",
	                                  "priority" };
static const char *const allowed[] = { "performance", "weighted-round-robin", "affinity",
	                               "priority", "round-robin", "hardware-aware", NULL };

/* The children that learn each outcome into a store of their own. */
static int learns_outcomes(const char *name)
{
	return !strcmp(name, "performance") || !strcmp(name, "priority") ||
	       !strcmp(name, "hardware-aware");
}

/* The store child i's own config gives it, or NULL. */
static const cJSON *own_store(const char *const *names, const cJSON *own, uint32_t i)
{
	const cJSON *oi = own ? cJSON_GetObjectItemCaseSensitive(own, names[i]) : NULL;

	return oi ? cJSON_GetObjectItemCaseSensitive(oi, "store") : NULL;
}

/* A store object's path, or NULL. */
static const char *path_of(const cJSON *store)
{
	return store ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(store, "path")) : NULL;
}

/* Which child learns outcomes into the shared "store" (whose path is
 * `shared`, NULL for none), among those without a store of their own:
 * performance, as always; else none when a child already learns into that
 * directory by its own config (priority given the shared path, say); else
 * the first listed that learns them, so that a store is never given to
 * nobody (it was dropped without a word).  One only, so that no outcome is
 * learned twice.  -1 for none. */
static int32_t outcome_taker(const char *const *names, uint32_t n, const cJSON *own,
                             const char *shared)
{
	int32_t first = -1;

	for (uint32_t i = 0; i < n; i++)
		if (!strcmp(names[i], "performance") && !own_store(names, own, i))
			return (int32_t)i;
	for (uint32_t i = 0; i < n; i++) {
		const cJSON *st = own_store(names, own, i);
		const char *path = path_of(st);

		if (!learns_outcomes(names[i]))
			continue;
		if (path && shared && store_same_dir(path, shared))
			return -1;
		if (!st && first < 0)
			first = (int32_t)i;
	}
	return first;
}

/* Child i is given the shared store: affinity (its keys) and the outcome
 * taker, when their config has none. */
static int gets_store(const char *const *names, const cJSON *own, uint32_t i, int32_t taker)
{
	return !own_store(names, own, i) &&
	       ((int32_t)i == taker || !strcmp(names[i], "affinity"));
}

/* Two children learning into one store would count every outcome twice
 * (each reports it): refused, naming the field that gave the second its
 * store (its own config's, or the shared 'store' it was given).  A store
 * no child would keep is refused too: dropped, its fields would go
 * unchecked and decide would report outcomes as learned. */
/* Who takes the shared store (learners_of): given to a child at all
 * (affinity, the outcome taker), and the first child, and the first
 * learner, whose own config names its directory. */
typedef struct shared_use {
	int given;
	const char *by_own, *learner_by_own;
} shared_use;

static size_t learners_of(const char *const *names, uint32_t n, const cJSON *cfg,
                          const cJSON *own, store_learner *l, char (*fields)[64], shared_use *u)
{
	const cJSON *shared = cJSON_GetObjectItemCaseSensitive(cfg, "store");
	const char *sp = path_of(shared);
	int32_t taker = outcome_taker(names, n, own, sp);
	size_t m = 0;

	memset(u, 0, sizeof *u);
	for (uint32_t i = 0; i < n; i++) {
		const cJSON *st = own_store(names, own, i);
		int given = shared && gets_store(names, own, i, taker);
		const char *path = path_of(st);

		if (path && sp && store_same_dir(path, sp)) {
			if (!u->by_own)
				u->by_own = names[i];
			if (!u->learner_by_own && learns_outcomes(names[i]))
				u->learner_by_own = names[i];
		}
		u->given |= given;
		if (!learns_outcomes(names[i]) || (!st && !given))
			continue;
		snprintf(fields[m], sizeof fields[m], given ? "store" : "config.%s.store", names[i]);
		l[m] = (store_learner){ names[i], fields[m], given ? sp : path, 0 };
		m++;
	}
	return m;
}

/* The first field of a store object but its path, or NULL. */
static const char *beyond_path(const cJSON *store)
{
	for (const cJSON *f = store->child; f; f = f->next)
		if (f->string && strcmp(f->string, "path"))
			return f->string;
	return NULL;
}

/*
 * The shared store is refused when no child keeps it (dropped, its fields
 * would go unchecked and decide would report outcomes as learned), and so
 * are its settings that no child reads: its fields of learning when no
 * learner is given it (affinity reads none), every field but its path when
 * no child is given it at all, its directory a child's own by config.
 */
static lbs_status one_learner_a_store(const char *const *names, uint32_t n, const cJSON *cfg,
                                      const cJSON *own, char *err, size_t errlen)
{
	store_learner l[ADAPT_MAX_CHILDREN];
	char fields[ADAPT_MAX_CHILDREN][64];
	shared_use u;
	const cJSON *shared = cJSON_GetObjectItemCaseSensitive(cfg, "store");
	size_t m = learners_of(names, n, cfg, own, l, fields, &u);
	const char *unread = NULL;

	if (!shared)
		return store_learners_apart(l, m, err, errlen);
	if (!u.given && !u.by_own) {
		if (err && errlen)
			snprintf(err, errlen, "config field 'store': no child keeps it: it goes to "
			         "affinity and to one child that learns outcomes (performance, "
			         "hardware-aware or priority) without a store of its own, and none "
			         "of the children is one");
		return LBS_ECONFIG;
	}
	if (outcome_taker(names, n, own, path_of(shared)) < 0)
		unread = u.given ? store_config_learn_field(shared) : beyond_path(shared);
	if (unread && u.learner_by_own) {
		if (err && errlen)
			snprintf(err, errlen, "config field 'store.%.64s': unread: no child that learns "
			         "outcomes is given the shared store, since %s learns into its "
			         "directory by its own config.%s.store, with that object's settings; "
			         "give it there", unread, u.learner_by_own, u.learner_by_own);
		return LBS_ECONFIG;
	}
	if (unread) {
		if (err && errlen)
			snprintf(err, errlen, "config field 'store.%.64s': unread: no child learns "
			         "outcomes into the shared store (affinity keeps only its keys in it)",
			         unread);
		return LBS_ECONFIG;
	}
	return store_learners_apart(l, m, err, errlen);
}

static void inst_free(ad_inst *inst)
{
	if (!inst)
		return;
	for (uint32_t i = 0; i < inst->n_kids; i++)
		if (inst->kids[i].inst)
			inst->kids[i].desc->destroy(inst->kids[i].inst);
	free(inst);
}

/* Create child `name` with its config: config[name] plus the shared
 * fields it lacks.  Its messages name the path in our config. */
/* make_child()'s give_store: the shared store whole, or its keys' fields
 * alone (affinity beside a learner that reads the rest). */
#define GIVE_WHOLE 1
#define GIVE_KEYS 2

static lbs_status make_child(ad_inst *inst, const char *name, const cJSON *cfg,
                             const cJSON *own, int give_store, char *err, size_t errlen)
{
	const lbs_scheduler_desc *d = lbs_plugin_entry_v1()->scheduler_find(name);
	ad_child *c = &inst->kids[inst->n_kids];
	const cJSON *store = cJSON_GetObjectItemCaseSensitive(cfg, "store");
	const cJSON *ceiling = cJSON_GetObjectItemCaseSensitive(cfg, "load_ceiling");
	const cJSON *seed = cJSON_GetObjectItemCaseSensitive(cfg, "seed");
	cJSON *sub;
	char *text, group[64];
	lbs_status st;

	sub = own ? cJSON_Duplicate(own, 1) : cJSON_CreateObject();
	if (!sub)
		return LBS_ENOMEM;
	if (ceiling && !cJSON_GetObjectItemCaseSensitive(sub, "load_ceiling"))
		cJSON_AddItemToObject(sub, "load_ceiling", cJSON_Duplicate(ceiling, 1));
	/* A child that draws takes adaptive's seed when it names none (a host
	 * that seeds each process, as nginx does, seeds the children too). */
	if (cJSON_IsNumber(seed) && (!strcmp(name, "priority") || !strcmp(name, "hardware-aware")) &&
	    !cJSON_GetObjectItemCaseSensitive(sub, "seed"))
		cJSON_AddItemToObject(sub, "seed", cJSON_Duplicate(seed, 0));
	if (store && give_store) {
		cJSON *copy = cJSON_Duplicate(store, 1);

		/* The learner given the object reads its fields of learning;
		 * affinity, keeping keys alone, would refuse them as unread. */
		if (copy && give_store == GIVE_KEYS)
			store_config_keys_only(copy);
		cJSON_AddItemToObject(sub, "store", copy);
	}
	/* The rule hands high load's normal work to weighted-round-robin for
	 * the original's weights, 1 - load, which steer it off the busiest;
	 * capacities, its own default, would not. */
	if (!strcmp(name, "weighted-round-robin") &&
	    !cJSON_GetObjectItemCaseSensitive(sub, "weights_from") &&
	    !cJSON_GetObjectItemCaseSensitive(sub, "weights"))
		cJSON_AddItemToObject(sub, "weights_from", cJSON_CreateString("load"));
	text = cJSON_PrintUnformatted(sub);
	cJSON_Delete(sub);
	if (!text)
		return LBS_ENOMEM;
	st = d->create(inst->host, text, strlen(text), &c->inst, err, errlen);
	free(text);
	if (st != LBS_OK) {
		snprintf(group, sizeof(group), "config.%s", name);
		return cfg_nested(group, st, err, errlen);
	}
	c->desc = d;
	c->name = d->name;
	inst->n_kids++;
	return LBS_OK;
}

/* v: the child's value, a name or not */
static lbs_status bad_child(const char *why, int i, const cJSON *v, char *err, size_t errlen)
{
	char shown[64], what[80];

	if (cJSON_IsString(v))
		snprintf(what, sizeof what, "\"%s\"", txt_show(shown, sizeof(shown), v->valuestring));
	else
		cfg_got(v, what, sizeof what);
	if (err && errlen)
		snprintf(err, errlen, "config field 'children[%d]': %s, got %s (known: "
		         "performance, weighted-round-robin, affinity, priority, round-robin, "
		         "hardware-aware)", i, why, what);
	return LBS_ECONFIG;
}

size_t adapt_store_learners(const cJSON *cfg, store_learner *l, char (*fields)[64])
{
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(cfg, "children"), *m;
	const cJSON *own = cJSON_GetObjectItemCaseSensitive(cfg, "config");
	const char *names[ADAPT_MAX_CHILDREN + 1];
	uint32_t n = 0;
	shared_use u;

	if (cJSON_IsArray(list)) {
		cJSON_ArrayForEach(m, list)
			if (cJSON_IsString(m) && n < ADAPT_MAX_CHILDREN)
				names[n++] = m->valuestring;
	} else {
		for (; n < 4; n++)
			names[n] = default_children[n];
	}
	return learners_of(names, n, cfg, cJSON_IsObject(own) ? own : NULL, l, fields, &u);
}

static lbs_status read_children(ad_inst *inst, const cJSON *cfg, char *err, size_t errlen)
{
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(cfg, "children"), *own = NULL, *m;
	const char *names[ADAPT_MAX_CHILDREN + 1];
	uint32_t n = 0;
	int32_t taker;
	lbs_status st;

	if (list) {
		if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) < 1 ||
		    cJSON_GetArraySize(list) > ADAPT_MAX_CHILDREN) {
			if (err && errlen)
				snprintf(err, errlen, "config field 'children': must be an array of "
				         "1 to %d scheduler names", ADAPT_MAX_CHILDREN);
			return LBS_ECONFIG;
		}
		cJSON_ArrayForEach(m, list) {
			int k;

			if (!cJSON_IsString(m))
				return bad_child("must be a scheduler name", (int)n, m, err, errlen);
			for (k = 0; allowed[k] && strcmp(allowed[k], m->valuestring); k++)
				;
			if (!allowed[k])
				return bad_child("not a scheduler adaptive can use", (int)n, m, err,
				                 errlen);
			for (uint32_t j = 0; j < n; j++)
				if (!strcmp(names[j], m->valuestring))
					return bad_child("listed twice", (int)n, m, err, errlen);
			names[n++] = m->valuestring;
		}
	} else {
		for (; n < 4; n++)
			names[n] = default_children[n];
	}
	st = cfg_object(cfg, "config", &own, err, errlen);
	if (st == LBS_OK && own) {
		cJSON_ArrayForEach(m, own) {
			uint32_t j;

			for (j = 0; j < n && strcmp(names[j], m->string); j++)
				;
			if (j == n) {
				char shown[64];

				if (err && errlen)
					snprintf(err, errlen, "config field 'config.%s': not one of the "
					         "children", txt_show(shown, sizeof(shown), m->string));
				return LBS_ECONFIG;
			}
		}
		/* Every key is a child's now: what is left is a child given
		 * twice, whose first config would otherwise be the one read. */
		names[n] = NULL;
		st = cfg_nested("config", cfg_check_fields(own, names, err, errlen), err, errlen);
	}
	for (uint32_t i = 0; st == LBS_OK && i < n; i++) {
		const cJSON *sub = own ? cJSON_GetObjectItemCaseSensitive(own, names[i]) : NULL;

		if (sub && !cJSON_IsObject(sub)) {
			if (err && errlen)
				snprintf(err, errlen, "config field 'config.%s': must be an object",
				         names[i]);
			return LBS_ECONFIG;
		}
	}
	if (st == LBS_OK)
		st = one_learner_a_store(names, n, cfg, own, err, errlen);
	taker = outcome_taker(names, n, own, path_of(cJSON_GetObjectItemCaseSensitive(cfg, "store")));
	for (uint32_t i = 0; st == LBS_OK && i < n; i++)
		st = make_child(inst, names[i], cfg,
		                own ? cJSON_GetObjectItemCaseSensitive(own, names[i]) : NULL,
		                !gets_store(names, own, i, taker) ? 0 :
		                taker >= 0 && (int32_t)i != taker ? GIVE_KEYS : GIVE_WHOLE,
		                err, errlen);
	return st;
}

static void ad_destroy(void *p)
{
	inst_free(p);
}

static lbs_status ad_configure(void *p, const lbs_host_api *host, const cJSON *cfg,
                               char *err, size_t errlen)
{
	ad_inst *inst = p;
	const cJSON *store = NULL;
	uint64_t seed = 1;
	double ceiling;
	lbs_status st;

	inst->host = host;
	/* checked here so the message names our field */
	st = cfg_load_ceiling(cfg, &ceiling, err, errlen);
	if (st == LBS_OK)
		st = cfg_object(cfg, "store", &store, err, errlen);
	/* Checked here, whichever child it goes to, so the message names
	 * 'store.x', and a store refused for want of a child is checked too. */
	if (st == LBS_OK && store) {
		store_opts so;

		st = store_config_read(cfg, &so, 1, err, errlen);
	}
	if (st == LBS_OK)
		st = cfg_number(cfg, "epsilon", 0.0, 1.0, 0.1, &inst->p.epsilon, err, errlen);
	if (st == LBS_OK)
		st = cfg_number(cfg, "prior_strength", 1e-3, 1e6, 10.0, &inst->p.prior_strength,
		                err, errlen);
	if (st == LBS_OK)
		st = cfg_number(cfg, "memory", 1.0, 1e9, 1000.0, &inst->p.memory, err, errlen);
	if (st == LBS_OK)
		st = cfg_uint(cfg, "seed", 1, &seed, err, errlen);
	if (st == LBS_OK)
		st = read_children(inst, cfg, err, errlen);
	if (st != LBS_OK)
		return st;
	inst->rng = seed;
	inst->seed = seed;
	adapt_init(&inst->st, inst->n_kids);
	for (int r = 0; r < 4; r++) {
		inst->role_child[r] = -1;
		for (uint32_t i = 0; i < inst->n_kids; i++)
			if (!strcmp(inst->kids[i].name, role_names[r]))
				inst->role_child[r] = (int32_t)i;
	}
	sc_log(host, LBS_LOG_DEBUG, NAME ": created, %u children, epsilon %g", inst->n_kids,
	       inst->p.epsilon);
	return LBS_OK;
}

static lbs_status ad_create(const lbs_host_api *host, const char *config, size_t config_len,
                            void **out, char *err, size_t errlen)
{
	return sc_create(NAME, sizeof(ad_inst), known_fields, ad_configure, ad_destroy, host,
	                 config, config_len, out, err, errlen);
}

/* Keep the decision the child made in out for its outcomes (ad_report). */
static void remember(ad_inst *inst, const lbs_selection *out, const lbs_worker *const *workers,
                     uint32_t n, uint32_t child, uint32_t ctx)
{
	ad_decision *d = &inst->ring[inst->cookie % ADAPT_RING];
	uint32_t more = out->n_selected > 1 ? out->n_selected - 1 : 0;

	*d = (ad_decision){ .cookie = inst->cookie + 1, .child_cookie = out->cookie,
		            .child = child, .ctx = ctx, .picks_at = inst->picks.seq,
		            .pick = out->n_selected && out->indices[0] < n
		                    ? wid_hash(workers[out->indices[0]]->id) : 0 };
	d->n_picks = more < SC_PICKS_MAX ? more : SC_PICKS_MAX;
	for (uint32_t i = 0; i < d->n_picks; i++)
		sc_picks_put(&inst->picks, out->indices[i + 1] < n
		                                   ? wid_hash(workers[out->indices[i + 1]]->id) : 0);
}

/* The worker of hash h is one that decision d placed work on: its first,
 * or one of its others while the ring still holds them. */
static int placed_on(const ad_inst *inst, const ad_decision *d, uint64_t h)
{
	return d->pick == h || sc_picks_has(&inst->picks, d->picks_at, d->n_picks, h);
}

/* The decision for this request: context, the rule's child, the choice.
 * `advance` moves the generator (select); score and explain peek. */
static void decide(ad_inst *inst, const lbs_workload *wl, const lbs_worker *const *workers,
                   uint32_t n, int advance, uint32_t *ctx, double *load, adapt_choice *c)
{
	uint64_t state = inst->rng, draw = prio_rand_next(&state);
	int32_t rule;

	if (advance)
		inst->rng = state;
	*load = adapt_fleet_load(workers, n);
	*ctx = adapt_context(*load, wl->priority);
	rule = inst->role_child[adapt_rule(*ctx)];
	adapt_choose(&inst->st, &inst->p, *ctx, rule >= 0 ? (uint32_t)rule : 0, draw, c);
}

/*
 * The children to ask, in order, into order[]; returns how many.  The one
 * chosen first; when it finds no worker, the measured best, the rule's and
 * then the rest: a child that cannot place this request (exploration's,
 * say, whose load ceiling bars the only workers that meet it) must not
 * refuse it while another would place it.
 */
static uint32_t ask_order(const ad_inst *inst, const adapt_choice *c, uint32_t *order)
{
	uint32_t n = 0, want[3] = { c->child, c->best_child, c->rule_child };

	for (uint32_t i = 0; i < 3 + inst->n_kids; i++) {
		uint32_t k = i < 3 ? want[i] : i - 3, j = 0;

		while (j < n && order[j] != k)
			j++;
		if (j == n && k < inst->n_kids)
			order[n++] = k;
	}
	return n;
}

/* Why, in words, into buf. */
static void why_text(const ad_inst *inst, const adapt_choice *c, uint32_t ctx, double load,
                     char *buf, size_t len)
{
	const adapt_arm *a = &inst->st.arm[ctx][c->child];

	switch (c->why) {
	case ADAPT_EXPLORE:
		snprintf(buf, len, "exploring: draw %.3f < epsilon %.2f; %s is measured best here",
		         c->draw, inst->p.epsilon, inst->kids[c->best_child].name);
		break;
	case ADAPT_MEASURED:
		snprintf(buf, len, "best measured in %s (fleet load %.2f): value %.2f from %llu "
		         "outcomes, the load rule's %s %.2f", adapt_context_name(ctx), load,
		         c->value, (unsigned long long)a->outcomes,
		         inst->kids[c->rule_child].name,
		         adapt_value(&inst->st, &inst->p, ctx, c->rule_child, c->rule_child));
		break;
	default:
		snprintf(buf, len, "the load rule's choice for %s (fleet load %.2f), none measured "
		         "better: value %.2f from %llu outcomes", adapt_context_name(ctx), load,
		         c->value, (unsigned long long)a->outcomes);
	}
}

/* The decision's sentence into buf: child `by` answered after `asked`
 * children, with its own sentence `theirs`; none: no child placed it. */
static void decided_text(const ad_inst *inst, const adapt_choice *c, uint32_t ctx, double load,
                         uint32_t by, uint32_t asked, int none, const char *theirs, char *buf,
                         size_t len)
{
	char why[256];

	why_text(inst, c, ctx, load, why, sizeof(why));
	if (by == c->child)
		snprintf(buf, len, NAME ": %s decided (%s): %s", inst->kids[by].name, why, theirs);
	else if (none)
		snprintf(buf, len, NAME ": none of its %u children found a worker (%s chosen: %s); "
		         "the last, %s: %s", asked, inst->kids[c->child].name, why,
		         inst->kids[by].name, theirs);
	else
		snprintf(buf, len, NAME ": %s decided, as %s found no worker (%s): %s",
		         inst->kids[by].name, inst->kids[c->child].name, why, theirs);
}

static lbs_status ad_select(void *p, const lbs_workload *wl, const lbs_worker *const *workers,
                            uint32_t n, lbs_selection *out)
{
	ad_inst *inst = p;
	char child_reason[CHILD_REASON] = "", why[CHILD_REASON + 512];
	char *caller_reason;
	size_t caller_len;
	uint32_t order[ADAPT_MAX_CHILDREN], n_ask, ctx, j;
	adapt_choice c;
	ad_child *k;
	double load;
	lbs_status st;

	st = sc_check_select(wl, workers, n, out);
	if (st != LBS_OK) {
		sc_bump(&inst->n.errors);
		return st;
	}
	decide(inst, wl, workers, n, 1, &ctx, &load, &c);
	n_ask = ask_order(inst, &c, order);
	/* The child writes its sentence into ours, to be wrapped in ours. */
	caller_reason = out->reason;
	caller_len = out->reason_len;
	if (caller_reason && caller_len) {
		out->reason = child_reason;
		out->reason_len = sizeof(child_reason);
	}
	for (j = 0, st = LBS_NO_WORKER; j < n_ask && st == LBS_NO_WORKER; j++) {
		k = &inst->kids[order[j]];
		st = k->desc->select(k->inst, wl, workers, n, out);
	}
	k = &inst->kids[order[j - 1]];
	out->reason = caller_reason;
	out->reason_len = caller_len;
	if (st != LBS_OK && st != LBS_NO_WORKER) {
		sc_bump(&inst->n.errors);
		return st;
	}
	sc_bump(&inst->n.selects);
	if (caller_reason && caller_len) {
		decided_text(inst, &c, ctx, load, order[j - 1], j, st == LBS_NO_WORKER,
		             child_reason, why, sizeof(why));
		sc_reason(out, "%s", why);
	}
	if (st == LBS_NO_WORKER) {
		sc_bump(&inst->n.no_worker);
		return st;
	}
	adapt_decided(&inst->st, ctx, order[j - 1]);
	sc_bump(&inst->decisions[order[j - 1]]);
	remember(inst, out, workers, n, order[j - 1], ctx);
	out->cookie = ++inst->cookie;
	return LBS_OK;
}

static lbs_status ad_score(void *p, const lbs_workload *wl, const lbs_worker *const *workers,
                           uint32_t n, double *scores)
{
	ad_inst *inst = p;
	lbs_status st = sc_check_score(wl, workers, n, scores);
	uint32_t order[ADAPT_MAX_CHILDREN], n_ask, ctx;
	adapt_choice c;
	double load;

	if (st != LBS_OK)
		return st;
	decide(inst, wl, workers, n, 0, &ctx, &load, &c);
	n_ask = ask_order(inst, &c, order);
	/* the child select would end with (ask_order): the first to score a
	 * worker eligible */
	for (uint32_t j = 0; j < n_ask; j++) {
		ad_child *k = &inst->kids[order[j]];
		uint32_t i = 0;

		if (!k->desc->score)
			return LBS_EUNSUPPORTED; /* every child adaptive takes has one */
		st = k->desc->score(k->inst, wl, workers, n, scores);
		while (st == LBS_OK && i < n && !(scores[i] >= 0.0))
			i++;
		if (st != LBS_OK || i < n)
			return st;
	}
	return LBS_OK;
}

static lbs_status ad_report(void *p, const lbs_outcome *o)
{
	ad_inst *inst = p;
	ad_decision *d;
	lbs_status first = LBS_OK;
	lbs_outcome copy;
	size_t size;
	int mine, first_pick;
	uint64_t h;

	if (!o || o->struct_size < LBS_OUTCOME_SIZE_V1_0 || !o->worker_id)
		return LBS_EINVAL;
	d = &inst->ring[(o->cookie - 1) % ADAPT_RING];
	h = wid_hash(o->worker_id);
	mine = o->cookie && d->cookie == o->cookie && placed_on(inst, d, h);
	first_pick = mine && d->pick == h;
	if (!mine)
		sc_bump(&inst->unmatched);
	size = o->struct_size < sizeof(copy) ? o->struct_size : sizeof(copy);
	memset(&copy, 0, sizeof(copy));
	memcpy(&copy, o, size);
	copy.struct_size = (uint32_t)size;
	for (uint32_t i = 0; i < inst->n_kids; i++) {
		ad_child *k = &inst->kids[i];
		lbs_status st;

		if (!k->desc->report)
			continue;
		/* The cookie is ours; the child that decided gets its own. */
		copy.cookie = mine && d->child == i ? d->child_cookie : 0;
		st = k->desc->report(k->inst, &copy);
		if (st != LBS_OK && first == LBS_OK)
			first = st;
	}
	if (first_pick && !d->rewarded && adapt_reward(o) >= 0.0) {
		double r = adapt_reward(o);
		_Atomic uint64_t *u = &inst->reward_u[d->child];

		d->rewarded = 1;
		adapt_learn(&inst->st, &inst->p, d->ctx, d->child, r);
		sc_bump(&inst->outcomes[d->child]);
		atomic_store_explicit(u, atomic_load_explicit(u, memory_order_relaxed) +
		                      (uint64_t)(r * 1e6 + 0.5), memory_order_relaxed);
	}
	if (first == LBS_OK)
		sc_bump(&inst->n.reports);
	return first;
}

static lbs_status ad_workers_changed(void *p, const lbs_worker *const *workers, uint32_t n)
{
	ad_inst *inst = p;
	lbs_status first = LBS_OK;

	for (uint32_t i = 0; i < inst->n_kids; i++) {
		ad_child *k = &inst->kids[i];
		lbs_status st;

		if (!k->desc->workers_changed)
			continue;
		st = k->desc->workers_changed(k->inst, workers, n);
		if (st != LBS_OK && first == LBS_OK)
			first = st;
	}
	return first;
}

static lbs_status ad_stats(void *p, lbs_write_fn write, void *ctx)
{
	ad_inst *inst = p;
	char extra[1024];
	size_t used;

	used = (size_t)snprintf(extra, sizeof(extra),
	                        ",\"seed\":%llu,\"unmatched_reports\":%llu,\"children\":[",
	                        (unsigned long long)inst->seed,
	                        (unsigned long long)atomic_load_explicit(&inst->unmatched,
	                                                                 memory_order_relaxed));
	for (uint32_t i = 0; i < inst->n_kids && used < sizeof(extra); i++) {
		uint64_t dec = atomic_load_explicit(&inst->decisions[i], memory_order_relaxed);
		uint64_t out = atomic_load_explicit(&inst->outcomes[i], memory_order_relaxed);
		double sum = (double)atomic_load_explicit(&inst->reward_u[i],
		                                          memory_order_relaxed) / 1e6;

		used += (size_t)snprintf(extra + used, sizeof(extra) - used,
		                         "%s{\"scheduler\":\"%s\",\"decisions\":%llu,"
		                         "\"outcomes\":%llu,\"mean_reward\":%.4f}", i ? "," : "",
		                         inst->kids[i].name, (unsigned long long)dec,
		                         (unsigned long long)out, out ? sum / (double)out : 0.0);
	}
	if (used + 2 > sizeof(extra))
		return LBS_EINTERNAL;
	memcpy(extra + used, "]", 2);
	return sc_stats(NAME, &inst->n, extra, write, ctx);
}

/* The child's explain, relabelled as ours, with how it was chosen. */
static lbs_status ad_explain(void *p, const lbs_workload *wl, const lbs_worker *const *workers,
                             uint32_t n, lbs_write_fn write, void *ctx)
{
	ad_inst *inst = p;
	char *reason, *text;
	const char *child_reason;
	cJSON *doc, *kids, *r;
	uint32_t order[ADAPT_MAX_CHILDREN], n_ask, cx, j;
	adapt_choice c;
	double load;
	ad_child *k;
	lbs_status st;
	int oom = 0, none;
	size_t len;

	if (!write || sc_check_workload(wl) != LBS_OK || (n && !workers))
		return LBS_EINVAL;
	decide(inst, wl, workers, n, 0, &cx, &load, &c);
	n_ask = ask_order(inst, &c, order);
	/* the child select would end with (ask_order) */
	for (j = 0;; j++) {
		k = &inst->kids[order[j]];
		if (!k->desc->explain)
			return LBS_EUNSUPPORTED;
		if ((st = sc_explain_doc(k->desc, k->inst, wl, workers, n, &doc)) != LBS_OK)
			return st;
		none = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(doc, "chosen")) == 0;
		if (!none || j + 1 == n_ask)
			break;
		cJSON_Delete(doc);
	}
	child_reason = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "reason"));
	if (!child_reason)
		child_reason = "";
	len = strlen(child_reason) + 512;
	reason = malloc(len);
	if (reason)
		decided_text(inst, &c, cx, load, order[j], j + 1, none, child_reason, reason, len);
	oom |= !reason || !cJSON_ReplaceItemInObjectCaseSensitive(doc, "scheduler",
	                                                         cJSON_CreateString(NAME));
	oom |= !reason || !cJSON_ReplaceItemInObjectCaseSensitive(doc, "reason",
	                                                         cJSON_CreateString(reason));
	free(reason);
	oom |= !cJSON_AddStringToObject(doc, "child", k->name);
	oom |= !cJSON_AddStringToObject(doc, "why", c.why == ADAPT_EXPLORE ? "explore"
	                                           : c.why == ADAPT_MEASURED ? "measured" : "rule");
	oom |= !cJSON_AddStringToObject(doc, "context", adapt_context_name(cx));
	oom |= !cJSON_AddNumberToObject(doc, "fleet_load", load);
	oom |= !(kids = cJSON_AddArrayToObject(doc, "children"));
	for (uint32_t i = 0; !oom && i < inst->n_kids; i++) {
		const adapt_arm *a = &inst->st.arm[cx][i];

		oom |= !(r = cJSON_CreateObject()) || !cJSON_AddItemToArray(kids, r);
		oom |= oom || !cJSON_AddStringToObject(r, "scheduler", inst->kids[i].name) ||
		       !cJSON_AddNumberToObject(r, "decisions", (double)a->decisions) ||
		       !cJSON_AddNumberToObject(r, "outcomes", (double)a->outcomes) ||
		       !cJSON_AddNumberToObject(r, "value", adapt_value(&inst->st, &inst->p, cx, i,
		                                                        c.rule_child)) ||
		       !cJSON_AddBoolToObject(r, "rule", i == c.rule_child);
	}
	text = oom ? NULL : cJSON_PrintUnformatted(doc);
	cJSON_Delete(doc);
	if (!text)
		return LBS_ENOMEM;
	write(ctx, text, strlen(text));
	free(text);
	return LBS_OK;
}

const lbs_scheduler_desc sched_adaptive_desc = {
	.struct_size = sizeof(lbs_scheduler_desc),
	.name = NAME,
	.description = "For each request one child decides (performance, weighted "
	               "round-robin, affinity, priority), chosen by the outcomes of each "
	               "one's decisions, with the original's load rule as the prior.",
	.caps = LBS_CAP_MULTI | LBS_CAP_LEARNS,
	.create = ad_create,
	.destroy = ad_destroy,
	.select = ad_select,
	.score = ad_score,
	.report = ad_report,
	.workers_changed = ad_workers_changed,
	.stats = ad_stats,
	.explain = ad_explain,
};
