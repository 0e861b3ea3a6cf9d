/*
 * lbsched_py.c -- liblbsched-py.so: the shim library behind a JSON-text API
 * for the Python package (lbsched_py.h).  One handle = one shim host, one
 * scheduler instance, one mutex, and the fleet it was last given: the
 * workers' capabilities converted once, onto copies of which each select
 * puts that call's loads.
 */
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "arena.h"
#include "convert.h"
#include "convert_field.h"
#include "cookiejar.h"
#include "host.h"
#include "learned.h"
#include "scheduler.h"
#include "textbuf.h"
#include "lbsched_py.h"

#define LBSPY_EXPORT __attribute__((visibility("default")))
#define MAX_SHARDS 1024

#define FLEET_FILE "available_workers" /* the fleet's name in messages */

/* The decided tests' types kept at once (decided_type); more, and they are
 * forgotten, all of them, to start again. */
#define TYPES_MAX 256
/* The type jar's one "worker": a test's type is kept by its id alone. */
#define TYPE_KEY "type"

_Static_assert(LBSPY_LOAD_GIVEN == CONV_LOAD_GIVEN, "one bit for a load without fields");

struct lbspy {
	pthread_mutex_t mu;
	pid_t pid; /* the process that opened it */
	shim_host *host;
	shim_sched *sched;
	/* lbspy_bench's own scheduler, made from the same plugin, name and
	 * config at its first call: a select places (the ledger's open
	 * work, the stats, a rotation's turn), and 1 s of bench_c on the
	 * serving one evicted every placement it had to report. */
	shim_sched *bench;
	char *plugin_path, *name, *config;
	/* The converter's warnings of the last call, for the package to issue
	 * through Python's warnings module (lbspy_warnings): a JSON array of
	 * lines, or NULL.  Capped per call as the CLI's per run, the count
	 * past the cap a last line: a cap over the handle's life left a
	 * long-running service deaf to every bad record after the first
	 * hundred, and Python's own filters already drop repeats. */
	conv_warns warns;
	cJSON *warned;
	/* The fleet: `base` as conv_fleet made it, `cur` the same plus this
	 * call's loads, `ptrs` what select takes; all in `fleet_arena`. */
	arena *fleet_arena;
	lbs_worker *base, *cur;
	const lbs_worker **ptrs;
	uint32_t n;
	/* Each worker's numeric load as applied last (given 0: none), and the
	 * worker it made: the same numbers again make the same worker, so
	 * they are not checked and applied again.  In fleet_arena. */
	uint32_t *memo_given;
	double *memo_vals; /* CONV_LOAD_SLOTS a worker */
	lbs_worker *applied;
	/* Every worker with a memo has cur == applied: a worker whose load
	 * is its memo's need not be copied again.  Cleared when cur is
	 * written otherwise (loads as JSON or none, a new fleet). */
	int cur_applied;
	/* The last numeric loads applied whole, for LBSPY_SAME_LOADS: the
	 * caller's buffers (compared, never read) and count.  Cleared by
	 * anything else that writes cur. */
	const uint32_t *last_given;
	const double *last_vals;
	size_t last_nv;
	int last_ok;
	/* lbspy_select_fleet's conversions, reset after each call */
	arena *call_arena;
	/* Each decision's cookie by its test id and worker, for lbspy_report's
	 * outcomes, which the package builds from a test id and a worker id
	 * alone. */
	cookiejar *jar;
	/* Each decided test's type by its id, for an outcome that states none:
	 * learned under its test's type, as the CLI's decide --feedback does
	 * (typed_by_test), not as MIXED.  `typejar` keeps, by test id alone,
	 * 1 + the index of the test's (test_type, workload type) in `types`,
	 * each pair once; so it is bounded as the cookies are. */
	cookiejar *typejar;
	struct decided_type {
		char *test_type; /* NULL: the test named none */
		uint32_t type;   /* LBS_WL_* */
	} types[TYPES_MAX];
	uint32_t n_types, last_type;
};

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Kept, not printed: a warning raised from here could not unwind through
 * C, and the package issues them once the call is over. */
static void warn_keep(void *ctx, const char *msg)
{
	lbspy *h = ctx;

	if (!h->warned)
		h->warned = cJSON_CreateArray();
	/* out of memory: the warning is lost, the call goes on */
	if (h->warned)
		cJSON_AddItemToArray(h->warned, cJSON_CreateString(msg));
}

/* A call's warnings start empty; h->mu held. */
static void warn_begin(lbspy *h)
{
	cJSON_Delete(h->warned);
	h->warned = NULL;
	h->warns = (conv_warns){0};
}

/* Forget the decided tests' types (not the jar that points at them: the
 * caller makes it again, or frees it); h->mu held, or h is being closed. */
static void types_forget(lbspy *h)
{
	for (uint32_t k = 0; k < h->n_types; k++)
		free(h->types[k].test_type);
	h->n_types = h->last_type = 0;
}

static int type_same(const struct decided_type *t, const lbs_workload *wl)
{
	return t->type == wl->type && (t->test_type && wl->test_type
	                                       ? !strcmp(t->test_type, wl->test_type)
	                                       : t->test_type == wl->test_type);
}

/* Keep the type of test wl, which a select read, under its id for
 * lbspy_report (outcome_type); h->mu held.  Out of memory it is not kept:
 * the outcome is then learned as one without a decided test. */
static void keep_type(lbspy *h, const lbs_workload *wl)
{
	uint32_t k;

	if (!wl->id || !wl->id[0])
		return;
	/* a service's tests are of a few types, mostly one after another */
	k = h->last_type;
	if (k >= h->n_types || !type_same(&h->types[k], wl))
		for (k = 0; k < h->n_types && !type_same(&h->types[k], wl); k++)
			;
	if (k == h->n_types) {
		if (k == TYPES_MAX) {
			/* the jar made again, empty; NULL when out of memory, and
			 * then nothing is kept (jar_put and jar_get take NULL) */
			types_forget(h);
			jar_free(h->typejar);
			h->typejar = jar_new();
			k = 0;
		}
		h->types[k].test_type = wl->test_type ? strdup(wl->test_type) : NULL;
		if (wl->test_type && !h->types[k].test_type) {
			jar_put(h->typejar, wl->id, TYPE_KEY, 0); /* not an older test's type */
			return;
		}
		h->types[k].type = wl->type;
		h->n_types++;
	}
	h->last_type = k;
	jar_put(h->typejar, wl->id, TYPE_KEY, (uint64_t)k + 1);
}

/* An outcome that stated no type (said 0) takes the type of the test of
 * its id that a select here read last, as the CLI's decide --feedback
 * gives its outcomes (typed_by_test in lbsched-shim.c); 0 when none is
 * known: learned as MIXED.  Not the test's expected duration: a test that
 * stated none has the original's default, which the outcome never claimed.
 * h->mu held. */
static int outcome_type(lbspy *h, int said, lbs_outcome *o)
{
	uint64_t k;

	if (said)
		return 1;
	k = o->workload_id ? jar_get(h->typejar, o->workload_id, TYPE_KEY) : 0;
	if (!k || k > h->n_types)
		return 0;
	o->test_type = h->types[k - 1].test_type;
	o->workload_type = h->types[k - 1].type;
	return 1;
}

/* The line that counts what the call's cap held back; h->mu held. */
static void warn_end(lbspy *h)
{
	conv_ctx c = {NULL, warn_keep, h, NULL, 0, &h->warns};
	conv_warn_summary(&c);
}

int lbspy_code_of(int st)
{
	switch (st) {
	case LBS_OK:
		return LBSPY_OK;
	case LBS_EVERSION:
		return LBSPY_EREFUSED;
	case LBS_ENOMEM:
		return LBSPY_ENOMEM;
	case LBS_EUNSUPPORTED:
		return LBSPY_EUNSUPPORTED;
	case LBS_ECONFIG:
		return LBSPY_EINPUT;
	default:
		return LBSPY_EFAILED;
	}
}

/*
 * The plugin built with this library: $LBSCHED_PLUGIN, else in a build tree
 * (this library in host-shim/python/) plugin/lbsched.so, else the
 * installed one.  host_default_plugin() looks next to the executable,
 * which for Python is the interpreter.
 */
static const char here_marker = 0;

static const char *default_plugin(char *buf, size_t len)
{
	const char *env = getenv("LBSCHED_PLUGIN");
	Dl_info info;
	char *slash;

	if (env && *env)
		return env;
	if (dladdr(&here_marker, &info) && info.dli_fname &&
	    strlen(info.dli_fname) < len) {
		strcpy(buf, info.dli_fname);
		slash = strrchr(buf, '/');
		if (slash) {
			*slash = '\0';
			if (strlen(buf) + sizeof "/../../plugin/lbsched.so" <= len) {
				strcat(buf, "/../../plugin/lbsched.so");
				if (access(buf, R_OK) == 0)
					return buf;
			}
		}
	}
	return host_default_plugin();
}

/*
 * The ABI's [load] rule: a plugin's init and deinit run while no other
 * call is inside it.  Each handle loads the plugin through a host of its
 * own, and so runs its init (open) and deinit (close), while another
 * thread's handle of the same plugin may be inside a select (ctypes lets
 * go of the GIL): a lock for the whole process, taken to write by open and
 * close, to read (with the handle's own) by every other call.  Writers
 * first, so that selects on other threads without a pause do not keep an
 * open waiting.
 */
static pthread_rwlock_t load_rw;
static pthread_once_t load_rw_once = PTHREAD_ONCE_INIT;

static void load_rw_make(void)
{
	pthread_rwlockattr_t at;

	pthread_rwlockattr_init(&at);
	pthread_rwlockattr_setkind_np(&at, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&load_rw, &at);
	pthread_rwlockattr_destroy(&at);
}

/* A fork while another thread opened or closed a scheduler left the
 * child the lock held by a thread it does not have: its every call hung.
 * The child has one thread, so the lock starts again free.  (Not taken
 * before the fork instead: the plugin forks inside an open, under the
 * lock, to verify its store.) */
static void load_rw_child(void)
{
	load_rw_make();
}

static void load_rw_init(void)
{
	load_rw_make();
	pthread_atfork(NULL, NULL, load_rw_child);
}

static void load_lock(int write)
{
	pthread_once(&load_rw_once, load_rw_init);
	if (write)
		pthread_rwlock_wrlock(&load_rw);
	else
		pthread_rwlock_rdlock(&load_rw);
}

static void load_unlock(void)
{
	pthread_rwlock_unlock(&load_rw);
}

static void handle_lock(lbspy *h)
{
	load_lock(0);
	pthread_mutex_lock(&h->mu);
}

static void handle_unlock(lbspy *h)
{
	pthread_mutex_unlock(&h->mu);
	load_unlock();
}

/* What a failed sched_open() is to the package: a store that cannot be
 * opened (its directory, its permissions, a damaged file) an OSError, as
 * a plugin file that cannot be; a bad config a ValueError. */
static int open_code(lbs_status st)
{
	return st == LBS_ENOMEM ? LBSPY_ENOMEM : st == LBS_EIO ? LBSPY_EOPEN : LBSPY_EINPUT;
}

LBSPY_EXPORT int lbspy_open(const char *plugin_path, const char *scheduler,
                            const char *config_json, lbspy **out, char *err,
                            size_t errlen)
{
	lbspy *h;
	lbs_status st;
	loaded_plugin *p;
	const lbs_host_api *api;
	char buf[PATH_MAX];

	if (!out || !scheduler || !*scheduler) {
		set_err(err, errlen, "lbsched: a scheduler name is required");
		return LBSPY_EINPUT;
	}
	*out = NULL;
	h = calloc(1, sizeof *h);
	if (!h || pthread_mutex_init(&h->mu, NULL)) {
		free(h);
		set_err(err, errlen, "lbsched: out of memory");
		return LBSPY_ENOMEM;
	}
	h->pid = getpid();
	h->host = host_new("lbsched-py", LBS_LOG_WARN);
	h->jar = jar_new(); /* here, not in a select */
	h->typejar = jar_new();
	if (!h->host || !h->jar || !h->typejar) {
		host_free(h->host);
		jar_free(h->jar);
		jar_free(h->typejar);
		pthread_mutex_destroy(&h->mu);
		free(h);
		set_err(err, errlen, "lbsched: out of memory");
		return LBSPY_ENOMEM;
	}
	if (!plugin_path)
		plugin_path = default_plugin(buf, sizeof buf);
	/* Load first, so that a file that will not open (OSError) or a
	 * refused plugin is told apart from an unknown scheduler name or a
	 * bad config (ValueError); sched_open finds it loaded. */
	load_lock(1);
	st = host_load(h->host, plugin_path, &p, &api, err, errlen);
	if (st != LBS_OK) {
		host_free(h->host);
		load_unlock();
		jar_free(h->jar);
		jar_free(h->typejar);
		pthread_mutex_destroy(&h->mu);
		free(h);
		return st == LBS_EVERSION ? LBSPY_EREFUSED
		       : st == LBS_ENOMEM ? LBSPY_ENOMEM : LBSPY_EOPEN;
	}
	st = sched_open(h->host, plugin_path, scheduler, config_json,
	                config_json ? strlen(config_json) : 0, &h->sched, err, errlen);
	if (st != LBS_OK) {
		host_free(h->host);
		load_unlock();
		jar_free(h->jar);
		jar_free(h->typejar);
		pthread_mutex_destroy(&h->mu);
		free(h);
		return open_code(st);
	}
	load_unlock();
	h->plugin_path = strdup(plugin_path);
	h->name = strdup(scheduler);
	h->config = config_json ? strdup(config_json) : NULL;
	if (!h->plugin_path || !h->name || (config_json && !h->config)) {
		lbspy_close(h);
		set_err(err, errlen, "lbsched: out of memory");
		return LBSPY_ENOMEM;
	}
	*out = h;
	return LBSPY_OK;
}

LBSPY_EXPORT void lbspy_close(lbspy *h)
{
	if (!h)
		return;
	cJSON_Delete(h->warned);
	jar_free(h->jar);
	types_forget(h);
	jar_free(h->typejar);
	load_lock(1);
	sched_close(h->bench);
	sched_close(h->sched);
	host_free(h->host);
	load_unlock();
	free(h->plugin_path);
	free(h->name);
	free(h->config);
	arena_free(h->fleet_arena);
	arena_free(h->call_arena);
	pthread_mutex_destroy(&h->mu);
	free(h);
}

LBSPY_EXPORT int lbspy_learns(const lbspy *h)
{
	return (sched_desc(h->sched)->caps & LBS_CAP_LEARNS) != 0;
}

LBSPY_EXPORT void lbspy_free(void *p)
{
	free(p);
}

/* Keep a decision's cookie for its test's outcome (lbspy_report); a
 * fallback's 0 forgets an earlier decision's for the same pair. */
static void keep_cookie(lbspy *h, const lbs_workload *wl, lbs_status st,
                        const lbs_selection *sel)
{
	keep_type(h, wl);
	if (st != LBS_OK || !wl->id || !wl->id[0])
		return;
	for (uint32_t i = 0; i < sel->n_selected && i < sel->capacity; i++)
		jar_put(h->jar, wl->id, sel->ids[i], sel->cookie);
}

/* An exclude_workers id that no worker of the fleet has excludes nothing,
 * and a typo sent the test to the very worker meant: said, as the CLI's
 * decide says it (by the test's field: the fleet is available_workers,
 * which may lack a worker excluded for being away).  h->mu held. */
static void warn_excluded(lbspy *h, const lbs_workload *wl, const lbs_worker *const *w,
                          uint32_t n)
{
	const char **ids;
	uint32_t k = 0, absent;
	char line[400], shown[96], more[64];

	if (!wl->n_exclude)
		return;
	ids = conv_fleet_ids(w, n);
	absent = conv_excluded_absent(wl, ids, n, &k);
	free(ids);
	if (!absent)
		return;
	if (absent > 1)
		snprintf(more, sizeof more, " and %u more are the ids", absent - 1);
	else
		snprintf(more, sizeof more, " is the id");
	snprintf(line, sizeof line, "test_requirements: field 'exclude_workers[%u]': '%s'%s of "
	         "no worker in " FLEET_FILE " (ids must match exactly): %s nothing", k,
	         conv_show(shown, sizeof shown, wl->exclude_ids[k]), more,
	         absent > 1 ? "they exclude" : "it excludes");
	warn_keep(h, line);
}

/* The test and the fleet, converted into arena `a`. */
static int convert_inputs(lbspy *h, arena *a, const char *test_json,
                          const char *workers_json, lbs_workload *wl,
                          lbs_worker ***workers, uint32_t *n, char *err,
                          size_t errlen)
{
	conv_ctx c = {a, warn_keep, h, err, errlen, &h->warns};

	if (!test_json || !workers_json) {
		set_err(err, errlen, "lbsched: test requirements and workers are required");
		return LBSPY_EINPUT;
	}
	if (conv_workload_text(&c, test_json, strlen(test_json), "test_requirements", wl))
		return LBSPY_EINPUT;
	if (conv_fleet(&c, workers_json, strlen(workers_json), FLEET_FILE, workers, n))
		return LBSPY_EINPUT;
	warn_excluded(h, wl, (const lbs_worker *const *)*workers, *n);
	return LBSPY_OK;
}

static int take_text(char *text, char **out, char *err, size_t errlen)
{
	if (!text) {
		set_err(err, errlen, "lbsched: out of memory");
		return LBSPY_ENOMEM;
	}
	*out = text;
	return LBSPY_OK;
}

/* What every call that converts input starts with: an arena for what the
 * converters make, then the handle's lock (calls on one handle are
 * serialised, as the ABI asks).  NULL, with the message, when out of memory;
 * the lock is then not taken. */
static arena *call_begin(lbspy *h, char *err, size_t errlen)
{
	arena *a = arena_new();

	if (!a) {
		set_err(err, errlen, "lbsched: out of memory");
		return NULL;
	}
	handle_lock(h);
	warn_begin(h);
	return a;
}

LBSPY_EXPORT int lbspy_select(lbspy *h, const char *test_json,
                              const char *workers_json, unsigned max, char **out,
                              char *err, size_t errlen)
{
	uint32_t indices[MAX_SHARDS];
	const char *ids[MAX_SHARDS];
	char reason[512] = "";
	lbs_workload wl;
	lbs_worker **workers = NULL;
	uint32_t n = 0;
	lbs_selection sel;
	lbs_status st;
	int fell_back = 0, rc;
	arena *a;
	cJSON *res = NULL, *arr;

	if (!h || !out) {
		set_err(err, errlen, "lbsched: no scheduler");
		return LBSPY_EINPUT;
	}
	*out = NULL;
	if (!(a = call_begin(h, err, errlen)))
		return LBSPY_ENOMEM;
	rc = convert_inputs(h, a, test_json, workers_json, &wl, &workers, &n, err, errlen);
	if (rc)
		goto out;
	sel = (lbs_selection){.struct_size = sizeof sel, .capacity = MAX_SHARDS,
	                      .indices = indices, .ids = ids,
	                      .reason = reason, .reason_len = sizeof reason};
	st = sched_select(h->sched, &wl, (const lbs_worker *const *)workers, n, &sel,
	                  &fell_back);
	keep_cookie(h, &wl, st, &sel);
	res = cJSON_CreateObject();
	arr = cJSON_CreateArray();
	if (!res || !arr) {
		cJSON_Delete(arr);
		rc = LBSPY_ENOMEM;
		goto out;
	}
	cJSON_AddStringToObject(res, "status", st == LBS_OK ? "ok" : "no_worker");
	for (uint32_t i = 0; st == LBS_OK && i < sel.n_selected && (!max || i < max); i++)
		cJSON_AddItemToArray(arr, cJSON_CreateString(sel.ids[i]));
	cJSON_AddItemToObject(res, "workers", arr);
	cJSON_AddStringToObject(res, "reason",
	                        reason[0] ? reason
	                                  : (st == LBS_OK ? "" : "no eligible worker"));
	cJSON_AddBoolToObject(res, "fell_back", fell_back);
	rc = take_text(cJSON_PrintUnformatted(res), out, err, errlen);
out:
	warn_end(h);
	handle_unlock(h);
	if (rc == LBSPY_ENOMEM)
		set_err(err, errlen, "lbsched: out of memory");
	cJSON_Delete(res);
	arena_free(a);
	return rc;
}

/* The CLI says so of its outcomes learned as mixed; the package issues it
 * as a RecordWarning, which Python's default filter shows once per line of
 * code (so the text names no test).  h->mu held. */
static void mixed_said(lbspy *h, int typed, int said, const lbs_outcome *o)
{
	if (!typed)
		warn_keep(h, "outcome: field 'test_type': not given, and no test of this "
		             "'test_id' was placed by this scheduler (or it is no longer "
		             "remembered): learned as mixed");
	else if (said && conv_outcome_wordless(o))
		warn_keep(h, "outcome: field 'test_type': has no workload word in it ("
		             CONV_WORKLOAD_WORDS "): learned as mixed");
}

LBSPY_EXPORT int lbspy_report(lbspy *h, const char *outcome_json, int hold, char *err,
                              size_t errlen)
{
	arena *a;
	lbs_outcome o;
	lbs_status st;
	int rc, said = 0, typed;

	if (!h || !outcome_json) {
		set_err(err, errlen, "lbsched: no scheduler or outcome");
		return LBSPY_EINPUT;
	}
	if (!(a = call_begin(h, err, errlen)))
		return LBSPY_ENOMEM;
	{
		conv_ctx c = {a, warn_keep, h, err, errlen, &h->warns};
		if (conv_outcome_text_typed(&c, outcome_json, strlen(outcome_json), "outcome", &o,
		                            &said)) {
			rc = LBSPY_EINPUT;
			goto out;
		}
	}
	/* An outcome without a cookie is matched to this handle's last
	 * decision that put its test on its worker. */
	if (!o.cookie)
		o.cookie = jar_get(h->jar, o.workload_id, o.worker_id);
	typed = outcome_type(h, said, &o);
	/* Held: what learning it would say is said now, and nothing is
	 * learned, so that a warning made an error changes nothing. */
	if (hold) {
		if (sched_desc(h->sched)->caps & LBS_CAP_LEARNS)
			mixed_said(h, typed, said, &o);
		if (h->warned) {
			set_err(err, errlen, "lbsched: the outcome warned (lbspy_warnings)");
			rc = LBSPY_EWARNED;
			goto out;
		}
	}
	st = sched_report(h->sched, &o);
	rc = lbspy_code_of(st);
	if (st == LBS_OK)
		mixed_said(h, typed, said, &o);
	if (st == LBS_EUNSUPPORTED)
		set_err(err, errlen, "scheduler '%s' does not learn from outcomes",
		        sched_desc(h->sched)->name);
	else if (st == LBS_EIO && getpid() != h->pid)
		/* multiprocessing's default start method on Linux is fork */
		set_err(err, errlen, "this scheduler was created in process %ld, and this is a "
		        "child it forked: its store cannot learn here; create the scheduler "
		        "in the child (a Pool's initializer), or start processes with "
		        "'spawn'", (long)h->pid);
	else if (st == LBS_EINVAL && strlen(o.worker_id) > LBS_LEARN_ID_MAX) {
		/* the store's limit, named as the converter names a field */
		rc = LBSPY_EINPUT;
		set_err(err, errlen, "outcome: field 'worker_id': is %zu bytes long, more than "
		        "the %d a scheduler learns from (a store's longest key)", strlen(o.worker_id),
		        LBS_LEARN_ID_MAX);
	} else if (rc)
		set_err(err, errlen, "the scheduler refused the outcome (status %d)", (int)st);
out:
	warn_end(h);
	handle_unlock(h);
	arena_free(a);
	return rc;
}

LBSPY_EXPORT int lbspy_explain(lbspy *h, const char *test_json,
                               const char *workers_json, char **out, char *err,
                               size_t errlen)
{
	lbs_workload wl;
	lbs_worker **workers = NULL;
	uint32_t n = 0;
	textbuf tb = {0};
	arena *a;
	int rc;

	if (!h || !out) {
		set_err(err, errlen, "lbsched: no scheduler");
		return LBSPY_EINPUT;
	}
	*out = NULL;
	if (!(a = call_begin(h, err, errlen)))
		return LBSPY_ENOMEM;
	rc = convert_inputs(h, a, test_json, workers_json, &wl, &workers, &n, err, errlen);
	if (!rc) {
		lbs_status st = sched_explain(h->sched, &wl, (const lbs_worker *const *)workers,
		                              n, textbuf_write, &tb);
		rc = lbspy_code_of(st);
		if (st == LBS_EUNSUPPORTED)
			set_err(err, errlen, "scheduler '%s' cannot explain",
			        sched_desc(h->sched)->name);
		else if (rc)
			set_err(err, errlen, "the scheduler could not explain (status %d)", (int)st);
		else if (tb.failed || !tb.p) {
			rc = LBSPY_ENOMEM;
			set_err(err, errlen, "lbsched: out of memory");
		}
	}
	warn_end(h);
	handle_unlock(h);
	arena_free(a);
	if (rc) {
		textbuf_free(&tb);
		return rc;
	}
	*out = tb.p;
	return LBSPY_OK;
}

LBSPY_EXPORT int lbspy_stats(lbspy *h, char **out, char *err, size_t errlen)
{
	textbuf tb = {0};
	lbs_status st;
	int rc;

	if (!h || !out) {
		set_err(err, errlen, "lbsched: no scheduler");
		return LBSPY_EINPUT;
	}
	*out = NULL;
	handle_lock(h);
	st = sched_stats(h->sched, textbuf_write, &tb);
	handle_unlock(h);
	rc = lbspy_code_of(st);
	if (st == LBS_EUNSUPPORTED)
		set_err(err, errlen, "this scheduler has no stats");
	else if (st == LBS_EINTERNAL)
		set_err(err, errlen, "the scheduler gave no stats (LBS_EINTERNAL: a bug in the plugin, "
		        "or text that is not one JSON object, which the log names)");
	else if (rc)
		set_err(err, errlen, "the scheduler could not give stats (status %d)", (int)st);
	else if (tb.failed || !tb.p) {
		rc = LBSPY_ENOMEM;
		set_err(err, errlen, "lbsched: out of memory");
	}
	if (rc) {
		textbuf_free(&tb);
		return rc;
	}
	*out = tb.p;
	return LBSPY_OK;
}

/* This thread's CPU time: bench_python.py's other columns are CPU time,
 * and another process's load must not count. */
static double cpu_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* h->bench made if it is not yet: an open, so with the load lock taken
 * to write, which a call holding it to read (handle_lock) cannot take. */
static int bench_open(lbspy *h, char *err, size_t errlen)
{
	lbs_status st = LBS_OK;
	int need;

	pthread_mutex_lock(&h->mu);
	need = !h->bench;
	pthread_mutex_unlock(&h->mu);
	if (!need)
		return LBSPY_OK;
	load_lock(1);
	pthread_mutex_lock(&h->mu);
	if (!h->bench && (st = sched_open(h->host, h->plugin_path, h->name, h->config,
	                                  h->config ? strlen(h->config) : 0, &h->bench, err,
	                                  errlen)) != LBS_OK)
		h->bench = NULL;
	pthread_mutex_unlock(&h->mu);
	load_unlock();
	return st == LBS_OK ? LBSPY_OK : open_code(st);
}

LBSPY_EXPORT int lbspy_bench(lbspy *h, const char *test_json,
                             const char *workers_json, unsigned iters,
                             double *ns_per_select, char *err, size_t errlen)
{
	uint32_t indices[MAX_SHARDS];
	const char *ids[MAX_SHARDS];
	char reason[512];
	lbs_workload wl;
	lbs_worker **workers = NULL;
	uint32_t n = 0;
	arena *a;
	int rc;
	double t0 = 0;

	if (!h || !ns_per_select || !iters) {
		set_err(err, errlen, "lbsched: bench needs a scheduler and iterations");
		return LBSPY_EINPUT;
	}
	if ((rc = bench_open(h, err, errlen)))
		return rc;
	if (!(a = call_begin(h, err, errlen)))
		return LBSPY_ENOMEM;
	rc = convert_inputs(h, a, test_json, workers_json, &wl, &workers, &n, err, errlen);
	/* A tenth as many first, untimed (caches, lazy state); an answer the
	 * host refused and replaced, or an error, is no measure of the plugin. */
	for (unsigned i = 0, warm = iters / 10; !rc && i < warm + iters; i++) {
		lbs_selection sel = {.struct_size = sizeof sel, .capacity = MAX_SHARDS,
		                     .indices = indices, .ids = ids,
		                     .reason = reason, .reason_len = sizeof reason};
		int fell_back = 0;
		lbs_status st;

		if (i == warm)
			t0 = cpu_now_ns();
		st = sched_select(h->bench, &wl, (const lbs_worker *const *)workers, n, &sel,
		                  &fell_back);
		if (fell_back || (st != LBS_OK && st != LBS_NO_WORKER)) {
			set_err(err, errlen, "lbsched: bench: the scheduler's answer was refused or "
			        "it failed (status %d): no measure of it", (int)st);
			rc = LBSPY_EINPUT;
		}
		if (i + 1 == warm + iters)
			*ns_per_select = (cpu_now_ns() - t0) / iters;
	}
	warn_end(h);
	handle_unlock(h);
	arena_free(a);
	return rc;
}

/* ===== The fleet: capabilities once, loads per call ====================== */

static const char *kind_name(int kind)
{
	static const char *const name[] = {
		[CONV_NUMBER] = "number", [CONV_INTEGER] = "integer",
		[CONV_BOOL] = "bool",     [CONV_STRING] = "string",
		[CONV_SCALAR] = "scalar", [CONV_ARRAY] = "array",
		[CONV_OBJECT] = "object",
	};
	return kind >= 0 && kind <= CONV_OBJECT ? name[kind] : "?";
}

LBSPY_EXPORT int lbspy_load_layout(char **out)
{
	cJSON *res = cJSON_CreateObject();
	cJSON *slots = cJSON_AddArrayToObject(res, "slots");
	cJSON *others = cJSON_AddArrayToObject(res, "others");
	int ok = slots && others;
	char *text = NULL;

	if (!out) {
		cJSON_Delete(res);
		return LBSPY_EINPUT;
	}
	/* All or nothing: a caller counts slots by their place in the list. */
	for (int i = 0; ok && conv_load_fields[i].name; i++) {
		const conv_field *f = &conv_load_fields[i];
		cJSON *e = cJSON_CreateArray();
		ok = cJSON_AddItemToArray(i < CONV_LOAD_SLOTS ? slots : others, e) &&
		     cJSON_AddItemToArray(e, cJSON_CreateString(f->name)) &&
		     cJSON_AddItemToArray(e, cJSON_CreateString(kind_name(f->kind))) &&
		     cJSON_AddItemToArray(e, cJSON_CreateBool(f->flags & CONV_NULLABLE));
	}
	if (ok)
		ok = cJSON_AddNumberToObject(res, "learn_id_max", LBS_LEARN_ID_MAX) != NULL &&
		     cJSON_AddNumberToObject(res, "loose_max", MAX_LOOSE_SCALAR) != NULL &&
		     cJSON_AddNumberToObject(res, "string_max", CONV_MAX_STRING) != NULL;
	if (ok)
		text = cJSON_PrintUnformatted(res);
	cJSON_Delete(res);
	*out = text;
	return text ? LBSPY_OK : LBSPY_ENOMEM;
}

/* The ids of b are not those of a, position by position. */
static int ids_moved(const lbs_worker *a, uint32_t na, const lbs_worker *b, uint32_t nb)
{
	if (na != nb)
		return 1;
	for (uint32_t i = 0; i < na; i++)
		if (strcmp(a[i].id, b[i].id) != 0)
			return 1;
	return 0;
}

/* Convert a fleet and make it the handle's; h->mu held.  A fleet that
 * does not convert leaves the previous one. */
static int fleet_set(lbspy *h, const char *workers_json, char *err, size_t errlen)
{
	lbs_worker **ws = NULL;
	uint32_t n = 0;
	arena *a = arena_new();
	conv_ctx c = {a, warn_keep, h, err, errlen, &h->warns};

	if (!a) {
		set_err(err, errlen, "lbsched: out of memory");
		return LBSPY_ENOMEM;
	}
	if (conv_fleet(&c, workers_json, strlen(workers_json), FLEET_FILE, &ws, &n)) {
		arena_free(a);
		return LBSPY_EINPUT;
	}
	lbs_worker *base = arena_alloc(a, n * sizeof *base);
	lbs_worker *cur = arena_alloc(a, n * sizeof *cur);
	const lbs_worker **ptrs = arena_alloc(a, n * sizeof *ptrs);
	uint32_t *memo_given = arena_alloc(a, n * sizeof *memo_given);
	double *memo_vals = arena_alloc(a, (size_t)n * CONV_LOAD_SLOTS * sizeof *memo_vals);
	lbs_worker *applied = arena_alloc(a, n * sizeof *applied);
	if (!base || !cur || !ptrs || !memo_given || !memo_vals || !applied) {
		arena_free(a);
		set_err(err, errlen, "lbsched: out of memory");
		return LBSPY_ENOMEM;
	}
	for (uint32_t i = 0; i < n; i++) {
		base[i] = *ws[i];
		ptrs[i] = &cur[i];
		memo_given[i] = 0;
	}
	/* A caller sends the fleet again whenever one record changes; only
	 * a new set or order of ids is news to the scheduler. */
	if (ids_moved(h->base, h->n, base, n))
		(void)sched_workers_changed(h->sched, (const lbs_worker *const *)ws, n);
	arena_free(h->fleet_arena);
	h->fleet_arena = a;
	h->base = base;
	h->cur = cur;
	h->ptrs = ptrs;
	h->n = n;
	h->memo_given = memo_given;
	h->memo_vals = memo_vals;
	h->applied = applied;
	h->cur_applied = 0;
	h->last_ok = 0;
	return LBSPY_OK;
}

LBSPY_EXPORT int lbspy_fleet_set(lbspy *h, const char *workers_json, char *err,
                                 size_t errlen)
{
	int rc;

	if (!h || !workers_json) {
		set_err(err, errlen, "lbsched: no scheduler or workers");
		return LBSPY_EINPUT;
	}
	handle_lock(h);
	warn_begin(h);
	rc = fleet_set(h, workers_json, err, errlen);
	warn_end(h);
	handle_unlock(h);
	return rc;
}

/* This call's loads onto fresh copies of the fleet. */
/* memcmp's answer for a dozen doubles, without a call per worker */
static int same_bits(const double *a, const double *b, uint32_t n)
{
	uint64_t x, y;

	for (uint32_t i = 0; i < n; i++) {
		memcpy(&x, a + i, sizeof x);
		memcpy(&y, b + i, sizeof y);
		if (x != y)
			return 0;
	}
	return 1;
}

static int put_loads(lbspy *h, arena *a, const uint32_t *given,
                     const double *vals, size_t n_vals, const char *loads_json,
                     int same, char *err, size_t errlen)
{
	conv_ctx c = {a, warn_keep, h, err, errlen, &h->warns};
	size_t k = 0;
	int rc = LBSPY_OK;

	if (same && given && h->last_ok && given == h->last_given &&
	    vals == h->last_vals && n_vals == h->last_nv)
		return LBSPY_OK;
	h->last_ok = 0;

	if (!given) {
		memcpy(h->cur, h->base, h->n * sizeof *h->cur);
		h->cur_applied = 0;
	}
	if (given) {
		for (uint32_t i = 0; i < h->n; i++)
			k += conv_load_count(given[i]);
		if (k != n_vals || (k && !vals)) {
			set_err(err, errlen, "lbsched: the loads' masks give %zu values, "
			        "%zu were passed", k, n_vals);
			return LBSPY_EINPUT;
		}
		k = 0;
		for (uint32_t i = 0; i < h->n; i++) {
			uint32_t cnt = conv_load_count(given[i]);
			double *memo = h->memo_vals + (size_t)i * CONV_LOAD_SLOTS;
			/* vals is NULL when no load gives a slot (a load of
			 * bookkeeping alone): no offset, no copy from it */
			const double *v = cnt ? vals + k : NULL;
			if (given[i] && h->memo_given[i] == given[i] &&
			    same_bits(memo, v, cnt)) {
				if (!h->cur_applied)
					h->cur[i] = h->applied[i];
			} else {
				h->memo_given[i] = 0;
				h->cur[i] = h->base[i];
				if (conv_fleet_load_values(&c, FLEET_FILE, i, given[i],
				                           v, &h->cur[i]))
					return LBSPY_EINPUT;
				if (given[i] && cnt <= CONV_LOAD_SLOTS) {
					if (cnt)
						memcpy(memo, v, cnt * sizeof *vals);
					h->memo_given[i] = given[i];
					h->applied[i] = h->cur[i];
				}
			}
			k += cnt;
		}
		h->cur_applied = 1;
		h->last_given = given;
		h->last_vals = vals;
		h->last_nv = n_vals;
		h->last_ok = 1;
	} else if (loads_json) {
		cJSON *arr = cJSON_Parse(loads_json);
		if (!cJSON_IsArray(arr) || (uint32_t)cJSON_GetArraySize(arr) != h->n) {
			set_err(err, errlen, "%s: the loads must be a JSON array of %u "
			        "(one per worker, null for none)", FLEET_FILE, h->n);
			rc = LBSPY_EINPUT;
		}
		uint32_t i = 0;
		for (const cJSON *e = rc ? NULL : arr->child; e; e = e->next, i++)
			if (conv_fleet_load(&c, FLEET_FILE, i, e, &h->cur[i])) {
				rc = LBSPY_EINPUT;
				break;
			}
		cJSON_Delete(arr);
	}
	return rc;
}

LBSPY_EXPORT int lbspy_select_fleet(lbspy *h, const char *test_json,
                                    const char *workers_json,
                                    const uint32_t *given, const double *vals,
                                    size_t n_vals, const char *loads_json,
                                    unsigned max, uint32_t *picked,
                                    unsigned *n_picked, char *reason,
                                    size_t reason_len, char *err, size_t errlen)
{
	uint32_t indices[LBSPY_MAX_PICKED];
	const char *ids[LBSPY_MAX_PICKED];
	char why[512] = "";
	lbs_workload wl;
	lbs_selection sel;
	lbs_status st;
	arena *a;
	int rc;

	if (!h || !test_json || !picked || !n_picked) {
		set_err(err, errlen, "lbsched: no scheduler or test requirements");
		return LBSPY_EINPUT;
	}
	*n_picked = 0;
	int same = (max & LBSPY_SAME_LOADS) != 0;
	int hold = (max & LBSPY_HOLD_WARNED) != 0, check = (max & LBSPY_CHECK) != 0;
	max &= ~(LBSPY_SAME_LOADS | LBSPY_HOLD_WARNED | LBSPY_CHECK);
	if (reason && reason_len)
		reason[0] = '\0';
	handle_lock(h);
	warn_begin(h);
	if (!h->call_arena && !(h->call_arena = arena_new())) {
		handle_unlock(h);
		set_err(err, errlen, "lbsched: out of memory");
		return LBSPY_ENOMEM;
	}
	a = h->call_arena;
	{
		conv_ctx c = {a, warn_keep, h, err, errlen, &h->warns};
		rc = conv_workload_text(&c, test_json, strlen(test_json),
		                        "test_requirements", &wl)
		             ? LBSPY_EINPUT
		             : LBSPY_OK;
	}
	if (!rc && workers_json)
		rc = fleet_set(h, workers_json, err, errlen);
	if (!rc && !h->n) {
		set_err(err, errlen, "lbsched: no fleet (lbspy_fleet_set)");
		rc = LBSPY_EINPUT;
	}
	if (!rc)
		rc = put_loads(h, a, given, vals, n_vals, loads_json, same, err, errlen);
	if (!rc)
		warn_excluded(h, &wl, h->ptrs, h->n);
	warn_end(h);
	if (!rc && !check && hold && h->warned) {
		set_err(err, errlen, "lbsched: the records warned (lbspy_warnings)");
		rc = LBSPY_EWARNED;
	}
	if (!rc && !check) {
		sel = (lbs_selection){.struct_size = sizeof sel,
		                      .capacity = LBSPY_MAX_PICKED,
		                      .indices = indices, .ids = ids,
		                      .reason = why, .reason_len = sizeof why};
		st = sched_select(h->sched, &wl, (const lbs_worker *const *)h->ptrs,
		                  h->n, &sel, NULL);
		keep_cookie(h, &wl, st, &sel);
		for (uint32_t i = 0; st == LBS_OK && i < sel.n_selected &&
		                     (!max || i < max); i++)
			picked[(*n_picked)++] = sel.indices[i];
		if (reason && reason_len)
			snprintf(reason, reason_len, "%s",
			         why[0] ? why : st == LBS_OK ? "" : "no eligible worker");
	}
	arena_reset(a);
	handle_unlock(h);
	return rc;
}

LBSPY_EXPORT int lbspy_warnings(lbspy *h, char **out)
{
	int rc = LBSPY_OK;

	if (!h || !out)
		return LBSPY_EINPUT;
	handle_lock(h);
	*out = h->warned ? cJSON_PrintUnformatted(h->warned) : NULL;
	if (h->warned && !*out)
		rc = LBSPY_ENOMEM;
	handle_unlock(h);
	return rc;
}

void lbspy_keep_locked(lbspy *h, const lbs_workload *wl, const char *worker_id,
                       uint64_t cookie)
{
	keep_type(h, wl);
	if (wl->id && wl->id[0])
		jar_put(h->jar, wl->id, worker_id, cookie);
}

/* For the orchestrator's binding (lbsched_orch_py.c): run fn with the
 * handle's scheduler, under its lock. */
int lbspy_fleet_locked(lbspy *h, arena *a, const char *workers_json, int hold,
                       lbs_worker ***w, uint32_t *n, int (*fn)(shim_sched *s, void *ctx),
                       void *ctx, char *err, size_t errlen)
{
	conv_ctx c = {a, warn_keep, h, err, errlen, &h->warns};
	int rc;

	handle_lock(h);
	warn_begin(h);
	if (!workers_json) {
		set_err(err, errlen, "available_workers: no workers");
		rc = LBSPY_EINPUT;
	} else if (conv_fleet(&c, workers_json, strlen(workers_json), "available_workers", w, n)) {
		rc = LBSPY_EINPUT;
	} else if (hold && h->warned) {
		set_err(err, errlen, "lbsched: the records warned (lbspy_warnings)");
		rc = LBSPY_EWARNED;
	} else {
		rc = fn(h->sched, ctx);
	}
	warn_end(h);
	handle_unlock(h);
	return rc;
}

int lbspy_locked_sched(lbspy *h, int (*fn)(shim_sched *s, void *ctx), void *ctx)
{
	int rc;

	handle_lock(h);
	rc = fn(h->sched, ctx);
	handle_unlock(h);
	return rc;
}
