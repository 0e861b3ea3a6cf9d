/*
 * lbsched-shim -- a host on the command line: load a plugin, feed it a
 * fleet and a stream of tests, print its decisions.
 *
 * Its commands and their options are the tables below (check_cmd,
 * decide_cmd) and in prefs.c and simulate_cmd.c: they make the parsing,
 * each --help and the man page (options.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "convert.h"
#include "eligible.h"
#include "file.h"
#include "fleet_redis.h"
#include "learned.h"
#include "options.h"
#include "prefs.h"
#include "routing.h"
#include "host.h"
#include "interrupt.h"
#include "scheduler.h"
#include "graphsim.h"
#include "orchestrate_cmd.h"
#include "simulate_cmd.h"
#include "text.h"
#include "taxonomy.h"
#include "textbuf.h"
#include "shim_config.h"

#define DEFAULT_SCHEDULER "hardware-aware"
#define MAX_SHARDS 1024

static const char *prog = "lbsched-shim";

static int cmd_check(const char *prog_name, int argc, char **argv);
static int cmd_decide(const char *prog_name, int argc, char **argv);

static const cli_opt check_table[] = {{NULL, NULL, NULL}};

static const cli_cmd check_cmd = {
	"check",
	"PLUGIN.so",
	"Load a plugin as every host does and list its schedulers, each with the slots it "
	"fills ([score], [explain]; [learns]: a report slot and LBS_CAP_LEARNS), or say why "
	"it is refused.",
	"Exit status 2 when the plugin is refused, or when it has no scheduler the host "
	"accepts.",
	check_table,
	cmd_check,
	NULL,
	NULL,
};

/* decide's options, in the order --help lists them; D_* index them. */
enum {
	D_WORKERS, D_TESTS, D_PLUGIN, D_SCHEDULER, D_CONFIG, D_ROUTES, D_EXPLAIN, D_INDEPENDENT,
	D_FEEDBACK, D_REDIS_PASSWORD, D_REDIS_INSECURE,
};

static const cli_opt decide_table[] = {
	[D_WORKERS] = {"workers", "FILE", "the fleet: worker capabilities in the original "
	               "framework's format, a JSON array or {\"workers\": [...]} (required)"},
	[D_TESTS] = {"tests", "FILE", "test requirements as JSON Lines, one test a line "
	             "(default: standard input, also -, each line answered as it comes)"},
	[D_PLUGIN] = {"plugin", "PATH", "the plugin (default: " HOST_DEFAULT_PLUGIN_TEXT ")"},
	[D_SCHEDULER] = {"scheduler", "NAME", "the scheduler (default " DEFAULT_SCHEDULER ")"},
	[D_CONFIG] = {"config", "FILE", "the scheduler's config, a JSON object"},
	[D_ROUTES] = {"routes", "ROUTES.json", "send each test type to its own scheduler "
	              "(--scheduler and --config are the default route of a document without "
	              "\"default\"; with one, they are refused)"},
	[D_EXPLAIN] = {"explain", NULL, "add to each decision every candidate with its score "
	               "factors and every rejected worker with the requirement it failed"},
	[D_INDEPENDENT] = {"independent", NULL, "decide every test against the fleet as given, "
	                   "not counting the tests placed before it"},
	[D_FEEDBACK] = {"feedback", "OUTCOMES.jsonl", "then report these outcomes to the "
	                "scheduler, so that a store learns from them, and wait (at most 5 s) "
	                "for it to commit them: exit 1 when it lost some (refused with --routes); "
	                "a line is worker_id, success or result, duration or execution_time, "
	                "and optionally test_id, test_type or workload_type, "
	                "expected_duration, status and cookie, or the original's "
	                "WorkerAssignment whole"},
	[D_REDIS_PASSWORD] = {"redis-password-file", "FILE", "with --workers "
	                      "redis://HOST:PORT/PREFIX (the agents' live fleet): the Redis "
	                      "password, or ACL user and password, one a line"},
	[D_REDIS_INSECURE] = {"redis-insecure", NULL, "allow a Redis off the loopback without "
	                      "a password"},
	{NULL, NULL, NULL},
};

static const cli_cmd decide_cmd = {
	"decide",
	"--workers FILE [--tests FILE] [OPTION]...",
	"Place each test of a stream on the fleet and print one JSON line per test: its "
	"workers, or no_worker, and the scheduler's reason.",
	"The tests are placed one after another: each placement counts as one more active test "
	"on its workers for the tests after it. A bad line is named on standard error (file:line, "
	"field and problem); the good lines are still decided.",
	decide_table,
	cmd_decide,
	NULL,
	NULL,
};

/* Every command, in the order --help and the man page list them. */
static const cli_cmd *const commands[] = {
	&check_cmd, &decide_cmd, &simulate_cmd, &graphsim_cmd, &orchestrate_cmd, &prefs_cmd, NULL,
};

static const cli_prog program = {
	"lbsched-shim",
	LBS_VERSION,
	"a host for lbsched scheduler plugins on the command line",
	"lbsched-shim loads an lbsched plugin through its versioned ABI, as every host does "
	"(the nginx module, the Python binding), checks every answer it gives, and feeds it "
	"records in the original framework's JSON: worker capabilities (a fleet) and test "
	"requirements (JSON Lines).\n\n"
	"--plugin defaults to " HOST_DEFAULT_PLUGIN_TEXT " (after meson install or from the "
	"Debian package). lbsched(7) describes the schedulers and their configs. The documents "
	"named docs/NAME.md here are in the source tree's docs/ and, from the Debian packages, "
	"in /usr/share/doc/lbsched (NAME.md.gz).",
	"0: done.\n1: bad input or config, a plugin file that cannot be loaded among them; the "
	"message names the file, line or field, and the problem.\n2: the command line is wrong "
	"(an unknown option, a missing value or a missing required option: one line naming the "
	"command and the option), or a plugin was refused (it loads, but exports no lbsched "
	"entry or an ABI this host cannot use).\n130, 143, 129: decide, simulate or orchestrate "
	"was stopped by SIGINT, SIGTERM or SIGHUP (128 and the signal's number): it stopped at "
	"its next test, closed its schedulers so that their stores committed what they held, "
	"left no temporary file, and said so in one line; a second signal ends it at once.",
	"lbsched(7)",
	commands,
};

static void warn_to_stderr(void *ctx, const char *msg)
{
	(void)ctx;
	cli_warn(prog, "%s", msg);
}

static int cmd_check(const char *prog_name, int argc, char **argv)
{
	shim_host *h;
	loaded_plugin *p;
	const lbs_host_api *api;
	const lbs_plugin_entry *e;
	char err[2048], name[96], desc[LOADER_MAX_DESCRIPTION + 4];
	lbs_status st;
	uint32_t usable = 0;
	uint32_t n;
	const char *v[CLI_MAX_OPTS];
	const char *path;
	int first, r, width = 16;

	(void)prog_name; /* main passes prog, which this file's messages use */
	r = cli_parse(prog, &check_cmd, argc, argv, v, &first);
	if (r)
		return r < 0 ? 0 : r;
	if (first >= argc)
		return cli_usage_error(prog, &check_cmd, "give the PLUGIN.so to check");
	if (first + 1 < argc)
		return cli_usage_error(prog, &check_cmd, "unexpected argument '%s'", argv[first + 1]);
	path = argv[first];
	h = host_new(prog, LBS_LOG_WARN);
	if (!h)
		return EXIT_BAD_INPUT;
	st = host_load(h, path, &p, &api, err, sizeof err);
	if (st != LBS_OK) {
		cli_error(prog, "%s", err);
		host_free(h);
		return st == LBS_EVERSION ? EXIT_REFUSED : EXIT_BAD_INPUT;
	}
	e = loader_entry(p);
	/* Everything the plugin names goes out on one line each: its text
	 * may hold anything, a newline or a terminal escape included. */
	printf("plugin: %s %s\n", loader_show(name, sizeof name, e->plugin_name),
	       loader_show(desc, sizeof desc, e->plugin_version));
	printf("abi: %u.%u (host %d.%d)\n", e->abi_major, e->abi_minor, LBS_ABI_MAJOR,
	       LBS_ABI_MINOR);
	printf("schedulers:\n");
	/* loader_open refused a count over LOADER_MAX_SCHEDULERS; a plugin
	 * may still answer differently now. */
	n = e->scheduler_count();
	if (n > LOADER_MAX_SCHEDULERS)
		n = LOADER_MAX_SCHEDULERS;
	/* The names' column as wide as the longest (up to 32): at 16,
	 * weighted-round-robin's description started a column late. */
	for (uint32_t i = 0; i < n; i++) {
		const lbs_scheduler_desc *d = e->scheduler_get(i);
		size_t len = d && d->struct_size >= LBS_DESC_SIZE_V1_0 && d->name ? strnlen(d->name, 33) : 0;

		if (len > (size_t)width && len <= 32)
			width = (int)len;
	}
	for (uint32_t i = 0; i < n; i++) {
		const lbs_scheduler_desc *d = e->scheduler_get(i);
		/* by name, as a config finds it, when the name can be read */
		const char *why = !d ? "NULL descriptor"
		                  : d->struct_size < LBS_DESC_SIZE_V1_0 || !d->name
		                  ? loader_desc_problem(d) : NULL;
		const lbs_scheduler_desc *ok = why ? NULL : loader_find(p, d->name, err, sizeof err);
		if (!ok) {
			printf("  #%u refused: %s\n", i, why ? why : err);
			continue;
		}
		usable++;
		/* %.*s reads no further than the bound, terminated or not. */
		snprintf(desc, sizeof desc, "%.*s%s", LOADER_MAX_DESCRIPTION,
		         d->description ? d->description : "",
		         d->description && strnlen(d->description, LOADER_MAX_DESCRIPTION + 1) >
		                 LOADER_MAX_DESCRIPTION ? "..." : "");
		txt_one_line(desc);
		printf("  %-*s %s%s%s%s\n", width, d->name, desc,
		       DESC_HAS(d, score) ? " [score]" : "",
		       DESC_HAS(d, report) && (d->caps & LBS_CAP_LEARNS) ? " [learns]" : "",
		       DESC_HAS(d, explain) ? " [explain]" : "");
	}
	host_free(h);
	/* A plugin no host can create a scheduler from is refused as a whole. */
	if (!usable) {
		cli_error(prog, "%s: no usable scheduler", path);
		return EXIT_REFUSED;
	}
	return 0;
}

typedef struct decide_opts {
	const char *plugin, *scheduler, *config, *workers, *tests, *feedback, *routes;
	const char *redis_password;
	const char *default_given; /* the options naming a default route, or NULL */
	char given_buf[300];
	int explain, independent, redis_insecure;
} decide_opts;

/* 0, -1 after --help, or EXIT_USAGE after its message. */
static int parse_decide(int argc, char **argv, decide_opts *o)
{
	const char *v[CLI_MAX_OPTS];
	int first, r = cli_parse(prog, &decide_cmd, argc, argv, v, &first);

	if (r)
		return r;
	memset(o, 0, sizeof *o);
	o->plugin = v[D_PLUGIN];
	o->scheduler = v[D_SCHEDULER] ? v[D_SCHEDULER] : DEFAULT_SCHEDULER;
	o->config = v[D_CONFIG];
	o->workers = v[D_WORKERS];
	o->tests = v[D_TESTS] ? v[D_TESTS] : "-";
	o->feedback = v[D_FEEDBACK];
	o->routes = v[D_ROUTES];
	o->explain = v[D_EXPLAIN] != NULL;
	o->independent = v[D_INDEPENDENT] != NULL;
	o->redis_password = v[D_REDIS_PASSWORD];
	o->redis_insecure = v[D_REDIS_INSECURE] != NULL;
	if (first < argc)
		return cli_usage_error(prog, &decide_cmd, "unexpected argument '%s'", argv[first]);
	if (!o->workers)
		return cli_usage_error(prog, &decide_cmd, "--workers FILE is required");
	if ((o->redis_password || o->redis_insecure) && !fleet_source_is_redis(o->workers))
		return cli_usage_error(prog, &decide_cmd, "--redis-password-file and "
		                       "--redis-insecure go with a redis:// --workers");
	/* The first to read standard input would leave the next nothing. */
	if (cli_is_stdin(o->workers) + cli_is_stdin(o->tests) + cli_is_stdin(o->feedback) +
	    cli_is_stdin(o->config) + cli_is_stdin(o->routes) > 1)
		return cli_usage_error(prog, &decide_cmd,
		                       "only one of --workers, --tests (standard input when not "
		                       "given), --feedback, --config and --routes can be - (or "
		                       "/dev/stdin)");
	/* Which routed scheduler an outcome belongs to is its test type's
	 * route; report_feedback knows one scheduler. */
	if (o->routes && o->feedback)
		return cli_usage_error(prog, &decide_cmd,
		                       "--feedback cannot be combined with --routes yet");
	/* What --routes is told of the default route the user named. */
	for (size_t k = 0, at = 0; k < 2; k++) {
		/* Not --plugin: it stays the plugin of every route naming none. */
		static const int named[] = {D_SCHEDULER, D_CONFIG};
		char shown[100];

		if (!v[named[k]] || at >= sizeof o->given_buf)
			continue;
		at += (size_t)snprintf(o->given_buf + at, sizeof o->given_buf - at, "%s--%s %s",
		                       at ? " " : "", decide_table[named[k]].name,
		                       txt_show(shown, sizeof shown, v[named[k]]));
		o->default_given = o->given_buf;
	}
	return 0;
}

/* Print one decision line; returns 0 or -1 when out of memory. */
static int print_decision(const lbs_workload *wl, lbs_status st,
                          const lbs_selection *sel, const char *explain)
{
	cJSON *line = cJSON_CreateObject();
	cJSON *ids = cJSON_CreateArray();
	char *text;

	if (!line || !ids) {
		cJSON_Delete(line);
		cJSON_Delete(ids);
		return -1;
	}
	cJSON_AddStringToObject(line, "test_id", wl->id ? wl->id : "");
	cJSON_AddStringToObject(line, "status", st == LBS_OK ? "ok" : "no_worker");
	for (uint32_t i = 0; st == LBS_OK && i < sel->n_selected; i++)
		cJSON_AddItemToArray(ids, cJSON_CreateString(sel->ids[i]));
	cJSON_AddItemToObject(line, "workers", ids);
	cJSON_AddStringToObject(line, "reason",
	                        sel->reason[0] ? sel->reason
	                                       : (st == LBS_OK ? "" : "no eligible worker"));
	if (explain) {
		cJSON *ex = cJSON_Parse(explain);
		if (ex)
			cJSON_AddItemToObject(line, "explain", ex);
		else
			cJSON_AddStringToObject(line, "explain", explain);
	}
	text = cJSON_PrintUnformatted(line);
	cJSON_Delete(line);
	if (!text)
		return -1;
	puts(text);
	free(text);
	return 0;
}

/* What the stores of an instance say in its stats (a composite's children
 * each have theirs), summed.  `known` is 0 when a store gives no
 * `pending` (a plugin older than that counter). */
typedef struct store_sum {
	double pending, retrying, lost;
	int stores, known;
} store_sum;

static void store_sum_in(const cJSON *j, store_sum *t)
{
	const cJSON *c;

	cJSON_ArrayForEach(c, j) {
		if (c->string && !strcmp(c->string, "store") && cJSON_IsObject(c)) {
			const cJSON *p = cJSON_GetObjectItem(c, "pending");

			t->stores++;
			t->known += cJSON_IsNumber(p);
			t->pending += cJSON_IsNumber(p) ? p->valuedouble : 0;
			t->retrying += cJSON_GetNumberValue(cJSON_GetObjectItem(c, "retrying"));
			t->lost += cJSON_GetNumberValue(cJSON_GetObjectItem(c, "lost"));
		} else if (cJSON_IsObject(c) || cJSON_IsArray(c)) {
			store_sum_in(c, t);
		}
	}
}

/* 0 with *t from s's stats now, -1 when they say nothing of a store. */
static int store_sum_of(shim_sched *s, store_sum *t)
{
	char *text = sched_stats_text(s);
	cJSON *j = text ? cJSON_Parse(text) : NULL;

	memset(t, 0, sizeof *t);
	free(text);
	if (j)
		store_sum_in(j, t);
	cJSON_Delete(j);
	return t->stores && t->known == t->stores && t->lost == t->lost ? 0 : -1;
}

/*
 * Whether the stores kept what was reported since `before`: 1 when some
 * was lost, 2 when commits are failing (a full disk: what is not
 * committed by exit is lost); 0 when all is committed, or when it cannot
 * tell (stats without the counters); 3 when the stores still hold some
 * (a long batch_ms, or slow commits): committed as the instance ends,
 * where a failure can only be seen in the log.  Waits while they commit,
 * at most FEEDBACK_WAIT_MS, and gives up sooner when nothing moves for
 * FEEDBACK_STILL_MS.
 */
#define FEEDBACK_WAIT_MS 5000
#define FEEDBACK_STILL_MS 1000
static int feedback_lost(shim_sched *s, const store_sum *before)
{
	store_sum t;
	double last = -1;
	int still = 0;

	for (int waited = 0; !cli_stop && store_sum_of(s, &t) == 0; waited += 10) {
		if (t.lost > before->lost)
			return 1;
		if (t.retrying > 0)
			return 2;
		if (t.pending == 0)
			return 0;
		still = t.pending == last ? still + 10 : 0;
		if (waited >= FEEDBACK_WAIT_MS || still >= FEEDBACK_STILL_MS)
			return 3;
		last = t.pending;
		nanosleep(&(struct timespec){0, 10 * 1000000L}, NULL);
	}
	return 0;
}

/* Why report() refused an outcome, for the message naming its line. */
static const char *refusal(const lbs_outcome *o, lbs_status st, char *buf, size_t n)
{
	size_t id_len = strlen(o->worker_id);

	if (st == LBS_EINVAL && id_len > LBS_LEARN_ID_MAX)
		snprintf(buf, n, "its worker_id is %zu bytes, more than the %d a scheduler learns "
		         "from (a store's longest key)", id_len, LBS_LEARN_ID_MAX);
	else if (st == LBS_EINVAL)
		snprintf(buf, n, "the scheduler refused it as invalid (a store at store.max_pairs "
		         "worker/type pairs refuses new ones; see its warning)");
	else if (st == LBS_EIO)
		snprintf(buf, n, "the store could not take it (its queue is full, which "
		         "store.block_ms lets a report wait out, or its disk failed); it is lost");
	else if (st == LBS_ENOMEM)
		snprintf(buf, n, "out of memory");
	else
		snprintf(buf, n, "the scheduler failed with status %d", (int)st);
	return buf;
}

static int by_id(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The tests decide read, by id (id first: by_id compares them): an outcome
 * that names its test and not its type is learned under that test's type,
 * as the original's records of a finished test name the test alone. */
typedef struct decided {
	const char *id, *test_type;
	uint32_t type;
} decided;

typedef struct decided_set {
	decided *v;
	size_t n, cap;
} decided_set;

/* Keep wl's id and type (the strings in a, which outlives the set); -1
 * when out of memory. */
static int decided_add(decided_set *d, arena *a, const lbs_workload *wl)
{
	decided *v = d->v;

	if (!wl->id || !*wl->id)
		return 0;
	if (d->n == d->cap) {
		size_t cap = d->cap ? 2 * d->cap : 64;

		if (!(v = realloc(d->v, cap * sizeof *v)))
			return -1;
		d->v = v;
		d->cap = cap;
	}
	v[d->n].id = arena_strdup(a, wl->id);
	v[d->n].test_type = wl->test_type ? arena_strdup(a, wl->test_type) : NULL;
	if (!v[d->n].id || (wl->test_type && !v[d->n].test_type))
		return -1;
	v[d->n].type = wl->type;
	d->n++;
	return 0;
}

/* The type of an outcome that said none (said 0), from its test when
 * decide read that test; 0 when it is still unknown: learned as mixed.
 * (Not the test's expected duration: a test that stated none has the
 * original's default, which the outcome never claimed.) */
static int typed_by_test(const decided_set *d, int said, lbs_outcome *o)
{
	const decided *t;

	if (said)
		return 1;
	if (!o->workload_id || !d->n ||
	    !(t = bsearch(&o->workload_id, d->v, d->n, sizeof *d->v, by_id)))
		return 0;
	o->test_type = t->test_type;
	o->workload_type = t->type;
	return 1;
}

/*
 * Report outcomes (JSON Lines) to the scheduler, so a store learns what
 * happened.  Returns 0, or -1 when some line was bad (each one named).
 * workers: the fleet decided on; an outcome of a worker outside it is
 * learned all the same (a worker may have left since), but said, as a
 * typo in an id would otherwise become a record for good.  tests: the
 * tests decided before, for outcomes without a type.  lasting: the
 * config names a store; without one, what was learned goes at exit.
 */
/* A worker whose id is longer than a store's key can hold is chosen like
 * any other, but each of its outcomes is refused: never learned, it keeps
 * the neutral record, which never loses for failing.  Said once, at the
 * start, for a run that learns (a store, or --feedback). */
static void warn_unlearnable(const char *fleet, lbs_worker *const *workers, uint32_t n)
{
	uint32_t many = 0, first = 0;
	size_t len = 0;

	for (uint32_t i = 0; i < n; i++) {
		size_t l = strlen(workers[i]->id);

		if (l > LBS_LEARN_ID_MAX && !many++) {
			first = i;
			len = l;
		}
	}
	if (many) {
		char shown[96];

		cli_warn(prog, "%s: %u worker(s) have an id longer than the %d bytes a scheduler "
		         "learns from (the first, '%s', is %zu bytes): their outcomes will be "
		         "refused, and they stay unproven however often they fail", fleet, many,
		         LBS_LEARN_ID_MAX, txt_show(shown, sizeof shown, workers[first]->id), len);
	}
}

/* -1 after the errors, -2 when a signal stopped it (after what it had
 * read: an outcome read and dropped would be lost to what sent it). */
static int report_feedback(shim_sched *s, const char *path, lbs_worker *const *workers,
                           uint32_t n_workers, decided_set *tests, int lasting,
                           conv_warns *warns, int *unsettled, unsigned *reported_out)
{
	const char **ids = conv_fleet_ids((const lbs_worker *const *)workers, n_workers);
	char err[2048];
	const char *name = strcmp(path, "-") ? path : "<stdin>";
	/* Read as it comes, as decide's tests are: a pipe of outcomes is
	 * learned line by line, and a signal stops it once what it has read
	 * is learned. */
	int fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : STDIN_FILENO;
	unsigned reported = 0, untyped = 0, wordless = 0, outside = 0;
	char first_untyped[512] = "", first_wordless[700] = "", first_outside[700] = "";
	int bad = 0, got, have_before;
	file_stream it;
	char *line;
	size_t line_len;
	store_sum before;

	if (fd < 0) {
		cli_error(prog, "%s: cannot open: %s", path, strerror(errno));
		free(ids);
		return -1;
	}
	have_before = lasting && store_sum_of(s, &before) == 0;
	/* An id decided twice gives either test's type: one id, one test. */
	if (tests->n > 1)
		qsort(tests->v, tests->n, sizeof *tests->v, by_id);
	file_stream_init(&it, fd, name);
	it.stop = &cli_stop;
	while ((got = file_stream_next(&it, &line, &line_len, err, sizeof err))) {
		char where[512];
		arena *a;
		conv_ctx c = {NULL, warn_to_stderr, NULL, err, sizeof err, warns};
		lbs_outcome o;
		lbs_status st;
		int said, known;

		if (got < 0) {
			if (cli_stop)
				break;
			cli_error(prog, "%s", err);
			bad = 1;
			/* A file refused whole (a byte order mark, a directory)
			 * is its one line, as when it was read whole. */
			if (it.done && !reported) {
				file_stream_free(&it);
				if (fd != STDIN_FILENO)
					close(fd);
				free(ids);
				return -1;
			}
			continue;
		}
		c.arena = a = arena_new();
		file_where(where, sizeof where, name, it.lineno);
		if (!a || conv_outcome_text_typed(&c, line, line_len, where, &o, &said)) {
			cli_error(prog, "%s", a ? err : "out of memory");
			bad = 1;
			arena_free(a);
			continue;
		}
		known = typed_by_test(tests, said, &o);
		st = sched_report(s, &o);
		if (st == LBS_EUNSUPPORTED) {
			cli_error(prog, "%s: scheduler '%s' does not learn from outcomes",
			          where, sched_desc(s)->name);
			bad = 1;
			arena_free(a);
			break;
		}
		if (st != LBS_OK) {
			char why[256];
			cli_error(prog, "%s: outcome not learned: %s", where,
			          refusal(&o, st, why, sizeof why));
			bad = 1;
		} else {
			reported++;
			/* Said once it is learned (a refused one says why
			 * alone), and once for the file: a line each buried
			 * the errors of a history of workers that have left. */
			if (!conv_fleet_has(ids, n_workers, o.worker_id) && !outside++) {
				char shown[96];

				snprintf(first_outside, sizeof first_outside, "%s, worker '%s'", where,
				         txt_show(shown, sizeof shown, o.worker_id));
			}
			if (!known && !untyped++)
				snprintf(first_untyped, sizeof first_untyped, "%s", where);
			/* a typo ("vison_...") is a record of mixed for good */
			if (known && conv_outcome_wordless(&o) && !wordless++) {
				char shown[96];
				snprintf(first_wordless, sizeof first_wordless, "%s, test_type '%s'",
				         where, txt_show(shown, sizeof shown, o.test_type));
			}
		}
		arena_free(a);
	}
	file_stream_free(&it);
	if (fd != STDIN_FILENO)
		close(fd);
	*reported_out = reported;
	/* The interruption's line says how many; the store's queue is
	 * committed as decide closes the scheduler. */
	if (cli_stop) {
		free(ids);
		return -2;
	}
	cli_error(prog, "reported %u outcomes from %s", reported, name);
	if (outside)
		cli_warn(prog, "%u outcome(s) from %s (the first at %s) name a worker not in the "
		         "fleet: learned all the same", outside, name, first_outside);
	if (untyped)
		cli_warn(prog, "%u outcome(s) from %s (the first at %s) name no "
		         "'test_type' or 'workload_type', and no test of theirs was decided here: "
		         "learned as mixed", untyped, name, first_untyped);
	if (wordless)
		cli_warn(prog, "%u outcome(s) from %s (the first at %s) have a 'test_type' with no "
		         "workload word in it (" CONV_WORKLOAD_WORDS "): learned as mixed", wordless,
		         name, first_wordless);
	/* A store that could not keep some (a corrupt record, a full disk)
	 * said so in its log; the exit status says it too. */
	if (reported && lasting && have_before) {
		int lost = feedback_lost(s, &before);

		if (lost == 1)
			cli_error(prog, "not every outcome from %s was stored (the errors above "
			          "say why)", name);
		else if (lost == 2)
			cli_error(prog, "the store's commits are failing (the errors above say "
			          "why): what it has not committed when decide exits is lost");
		*unsettled = lost == 3;
		bad |= lost == 1 || lost == 2;
	}
	/* Another plugin keeps what it learns its own way, if at all. */
	if (reported && !lasting && loader_is_lbsched(sched_plugin(s)))
		cli_warn(prog, "--feedback without a \"store\" in the config: what it "
		         "taught is lost when decide exits");
	free(ids);
	return bad ? -1 : 0;
}

/*
 * A placement of decide's stream, as a load balancer would account it: one
 * more active test on the worker, and the test's memory and accelerators
 * promised to it (the original's service ignored what reserve_resources
 * said, bug F11, and put 3 tests of 12 GB on a 7.2 GB worker).  A worker's
 * accelerator reservations are an arena copy from its first placement that
 * needs one on, *own.
 */
static int reserve(arena *a, lbs_worker *w, uint32_t **own, const lbs_workload *wl)
{
	uint32_t *res = *own;

	w->active_tests++;
	if (!wl->n_required_accels || !w->n_accels || !LBS_HAS_FIELD(w, lbs_worker, accel_reserved)) {
		elig_hold(wl, w, NULL);
		return 0;
	}
	if (!res) {
		if (!(res = arena_alloc(a, w->n_accels * sizeof *res)))
			return -1;
		for (uint32_t j = 0; j < w->n_accels; j++)
			res[j] = w->accel_reserved ? w->accel_reserved[j] : 0;
		*own = res;
	}
	elig_hold(wl, w, res);
	w->accel_reserved = res;
	return 0;
}

/* The line of a decide a signal stopped; its exit status. */
static int stopped_decide(unsigned decided, unsigned reported, const char *feedback, int lost)
{
	if (!feedback)
		return cli_interrupted(prog, "decide", lost, "%u tests", decided);
	return cli_interrupted(prog, "decide", lost, "%u tests and %u outcomes", decided,
	                       reported);
}

static int cmd_decide(const char *prog_name, int argc, char **argv)
{
	decide_opts o;
	shim_host *h = NULL;
	shim_sched *s = NULL;
	shim_router *router = NULL;
	arena *fleet_arena = NULL;
	lbs_worker **workers = NULL;
	uint32_t **owned = NULL; /* per worker: reserve()'s accelerator copy */
	uint32_t n_workers = 0;
	char *config = NULL, *fleet_text = NULL, *tests = NULL, *routes = NULL;
	size_t config_len = 0, fleet_len = 0, tests_len = 0, routes_len = 0;
	char err[2048];
	int rc = 0, unsettled = 0, streamed;
	unsigned n_decided = 0, n_reported = 0;
	uint64_t errors;
	int stopped = 0; /* by a signal: said once the stores committed */
	const char *stopped_feedback = NULL; /* and it was reading outcomes */
	lbs_status st;
	conv_warns warns = {0};
	decided_set decided_tests = {NULL, 0, 0}; /* with --feedback */
	const char **fleet_sorted = NULL;

	int parsed;

	(void)prog_name; /* main passes prog, which this file's messages use */
	if ((parsed = parse_decide(argc, argv, &o)))
		return parsed < 0 ? 0 : parsed;
	cli_stop_on_signals();
	h = host_new(prog, LBS_LOG_WARN);
	if (!h)
		return EXIT_BAD_INPUT;
	if (o.config && !(config = file_read_config(o.config, &config_len, err, sizeof err)))
		goto bad;
	fleet_text = fleet_source_read(o.workers, o.redis_password, o.redis_insecure,
	                               warn_to_stderr, NULL, &fleet_len, err, sizeof err);
	if (!fleet_text)
		goto bad;
	fleet_arena = arena_new();
	{
		conv_ctx c = {fleet_arena, warn_to_stderr, NULL, err, sizeof err, &warns};
		if (!fleet_arena || conv_fleet(&c, fleet_text, fleet_len, o.workers, &workers, &n_workers))
			goto bad;
		if (!(owned = arena_alloc(fleet_arena, (n_workers + 1) * sizeof *owned))) {
			snprintf(err, sizeof err, "out of memory");
			goto bad;
		}
		memset(owned, 0, (n_workers + 1) * sizeof *owned);
		fleet_sorted = conv_fleet_ids((const lbs_worker *const *)workers, n_workers);
	}
	if (o.routes) {
		/* --scheduler / --config are the default route unless the
		 * routing document names its own. */
		router_target dflt = {o.plugin, o.scheduler, config, config_len,
		                      o.default_given, o.config};

		if (!(routes = file_read(o.routes, &routes_len, err, sizeof err)))
			goto bad;
		st = router_open(h, routes, routes_len, o.routes, o.plugin, &dflt, &router, err,
		                 sizeof err);
	} else {
		st = sched_open(h, o.plugin, o.scheduler, config, config_len, &s, err, sizeof err);
	}
	if (st != LBS_OK) {
		/* A routing document names its own file in err. */
		rc = cli_open_refused(prog, st, o.routes ? NULL : o.config, err);
		goto out;
	}
	if (!o.routes && (o.feedback || (config && cli_config_names_store(config, config_len))))
		warn_unlearnable(o.workers, workers, n_workers);
	/* Standard input is answered a line at a time, as it comes (a live
	 * stream gets each decision at once); a file is read whole. */
	streamed = !strcmp(o.tests, "-");
	if (!streamed && !(tests = file_read(o.tests, &tests_len, err, sizeof err)))
		goto bad;

	{
		const char *tests_name = streamed ? "<stdin>" : o.tests;
		uint32_t indices[MAX_SHARDS];
		const char *ids[MAX_SHARDS];
		char reason[512];
		file_lines it;
		file_stream ts;
		char *line;
		size_t line_len;
		int got;
		unsigned excluding = 0;
		char first_excluding[700] = "";

		file_lines_init(&it, tests, tests_len, tests_name);
		file_stream_init(&ts, STDIN_FILENO, tests_name);
		/* A stream stops where it would wait for more: every test it
		 * has read is answered (whoever sent it waits for that). */
		ts.stop = &cli_stop;
		while ((streamed || !cli_stop) &&
		       (got = streamed ? file_stream_next(&ts, &line, &line_len, err, sizeof err)
		                       : file_next_line(&it, &line, &line_len, err, sizeof err))) {
			char where[512];
			arena *a;
			conv_ctx c = {NULL, warn_to_stderr, NULL, err, sizeof err, &warns};
			lbs_workload wl;
			lbs_selection sel;
			textbuf ex = {0};

			if (got < 0) {
				if (cli_stop)
					break;
				cli_error(prog, "%s", err);
				rc = EXIT_BAD_INPUT;
				continue;
			}
			c.arena = a = arena_new();
			file_where(where, sizeof where, tests_name, streamed ? ts.lineno : it.lineno);
			if (!a || conv_workload_text(&c, line, line_len, where, &wl)) {
				cli_error(prog, "%s", a ? err : "out of memory");
				rc = EXIT_BAD_INPUT;
				arena_free(a);
				continue;
			}
			/* Said once for the stream, as --feedback says its
			 * outcomes of workers outside the fleet. */
			{
				uint32_t k = 0;

				if (wl.n_exclude &&
				    conv_excluded_absent(&wl, fleet_sorted, n_workers, &k) &&
				    !excluding++) {
					char shown[96];

					snprintf(first_excluding, sizeof first_excluding,
					         "%s, worker '%s'", where,
					         txt_show(shown, sizeof shown, wl.exclude_ids[k]));
				}
			}
			if (o.feedback && decided_add(&decided_tests, fleet_arena, &wl)) {
				cli_error(prog, "%s: out of memory", where);
				rc = EXIT_BAD_INPUT;
			}
			if (router)
				s = router_pick(router, wl.test_type, NULL);
			sel = (lbs_selection){.struct_size = sizeof sel, .capacity = MAX_SHARDS,
			                      .indices = indices, .ids = ids,
			                      .reason = reason, .reason_len = sizeof reason};
			if (o.explain) {
				lbs_status es = sched_explain(s, &wl, (const lbs_worker *const *)workers,
				                              n_workers, textbuf_write, &ex);
				if (es != LBS_OK)
					textbuf_write(&ex, "{\"error\":\"this scheduler cannot explain\"}", 41);
			}
			st = sched_select(s, &wl, (const lbs_worker *const *)workers, n_workers, &sel, NULL);
			/* A stream of tests is placed one after another: each
			 * placement holds its workers, as a load balancer would
			 * see it, unless --independent. */
			for (uint32_t i = 0; st == LBS_OK && !o.independent && i < sel.n_selected; i++)
				if (reserve(fleet_arena, workers[sel.indices[i]],
				            &owned[sel.indices[i]], &wl)) {
					cli_error(prog, "%s: out of memory", where);
					rc = EXIT_BAD_INPUT;
				}
			if (print_decision(&wl, st, &sel, o.explain ? ex.p : NULL)) {
				cli_error(prog, "%s: out of memory", where);
				rc = EXIT_BAD_INPUT;
			}
			/* Then the plugin's ledger lets it go too: the work it
			 * counted ahead moved the next test elsewhere.  After
			 * the line: a call may end the plugin's copy of ids. */
			for (uint32_t i = 0; st == LBS_OK && o.independent && i < sel.n_selected; i++)
				sched_withdraw(s, &wl, workers[sel.indices[i]]->id, sel.cookie);
			n_decided++;
			/* out when no other line waits: one write a line
			 * only for a stream that comes a line at a time */
			if (streamed && !file_stream_more(&ts))
				fflush(stdout);
			free(ex.p);
			arena_free(a);
		}
		file_stream_free(&ts);
		if (excluding)
			cli_warn(prog, "%u test(s) from %s (the first at %s) have an 'exclude_workers' "
			         "id no worker of the fleet has (ids must match exactly): it excludes "
			         "nothing", excluding, tests_name, first_excluding);
	}
	if (!cli_stop && o.feedback) {
		int fb = report_feedback(s, o.feedback, workers, n_workers, &decided_tests,
		                         cli_config_names_store(config, config_len), &warns,
		                         &unsettled, &n_reported);
		if (fb == -1)
			rc = EXIT_BAD_INPUT;
	}
	/* Its line comes once the stores have committed (below). */
	stopped = cli_stop;
	stopped_feedback = o.feedback;
	goto out;
bad:
	/* A read of a pipe (--workers -, a Redis) the signal cut short is
	 * its error: one line, the signal's. */
	if (!(stopped = cli_stop)) {
		cli_error(prog, "%s", err);
		rc = EXIT_BAD_INPUT;
	}
out:
	{
		conv_ctx c = {NULL, warn_to_stderr, NULL, NULL, 0, &warns};
		conv_warn_summary(&c);
	}
	errors = h ? host_errors(h) : 0;
	if (router)
		router_close(router); /* s is one of its schedulers */
	else
		sched_close(s);
	/* What the stores still held is committed as they close: an error
	 * logged then (the lines above) may have lost some of it.  The log
	 * is all a closed instance leaves, and it does not say whose error
	 * (a fleet sync's would count too): the words say only that much. */
	if (unsettled && host_errors(h) > errors) {
		cli_error(prog, "not every outcome from %s may be stored: an error was logged "
		          "as decide closed the scheduler, while the stores still held some (the "
		          "errors above say why)",
		          strcmp(o.feedback, "-") ? o.feedback : "<stdin>");
		rc = rc ? rc : EXIT_BAD_INPUT;
	}
	if (stopped)
		rc = stopped_decide(n_decided, n_reported, stopped_feedback,
		                    h && host_errors(h) > errors);
	host_free(h);
	arena_free(fleet_arena);
	free(decided_tests.v);
	free(fleet_sorted);
	free(config);
	free(fleet_text);
	free(tests);
	free(routes);
	fflush(stdout);
	return rc;
}

/* What a command printed reached stdout: a full disk is an error (one
 * line, exit 1), not a silent success. */
static int stdout_done(int rc)
{
	/* An earlier write's errno is gone by now: only fflush's is known. */
	const char *why = fflush(stdout) ? strerror(errno)
	                  : ferror(stdout) ? "a write failed, some output is lost" : NULL;

	/* Said even after a command's own error: decide's bad line 2 did
	 * not tell that lines 1 and 3's answers were lost too.  (prefs, which
	 * names stdout itself, drops what it could not write.) */
	/* A write into a pipe the signal cut short: its line said the
	 * output stops there. */
	if (!why || (cli_stop && rc > 128))
		return rc;
	cli_error(prog, "cannot write standard output: %s", why);
	return rc ? rc : EXIT_BAD_INPUT;
}

static int run(int argc, char **argv)
{
	const char *a = argc > 1 ? argv[1] : "";

	if (argc < 2)
		return cli_usage_error(prog, NULL, "a command is needed");
	if (!strcmp(a, "--version")) {
		if (argc > 2)
			return cli_usage_error(prog, NULL, "unexpected argument '%s' after --version",
			                       argv[2]);
		printf("lbsched-shim %s (ABI %d.%d)\n", LBS_VERSION, LBS_ABI_MAJOR, LBS_ABI_MINOR);
		return 0;
	}
	if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
		cli_help_all(stdout, &program);
		return 0;
	}
	/* For the build, which writes the man page from it: not a user's
	 * option, so --help does not list it. */
	if (!strcmp(a, "--roff")) {
		cli_roff(stdout, &program);
		return 0;
	}
	for (const cli_cmd *const *c = commands; *c; c++)
		if (!strcmp(a, (*c)->name))
			return (*c)->run(prog, argc - 1, argv + 1);
	if (a[0] == '-')
		return cli_usage_error(prog, NULL, "unknown option '%.60s'", a);
	return cli_usage_error(prog, NULL, "unknown command '%.60s'", a);
}

int main(int argc, char **argv)
{
	file_hold_std_fds();
	return stdout_done(run(argc, argv));
}
