/*
 * lbsched-shim -- a host on the command line: load a plugin, feed it a
 * fleet and a stream of tests, print its decisions.
 *
 *   lbsched-shim check PLUGIN.so
 *   lbsched-shim decide [--plugin PATH] [--scheduler NAME] [--config FILE]
 *                       --workers FILE [--tests FILE] [--explain] [--independent]
 *
 * --routes sends each test type to its own scheduler (docs/COMPOSITE.md).
 * decide places the tests one after another: each placement counts as one
 * more active test on its workers for the tests after it.  --independent
 * decides every test against the fleet exactly as given.
 *
 * Exit status: 0 done; 1 bad input or config; 2 a plugin was refused (for
 * check: also when it has no scheduler the host accepts).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "convert.h"
#include "file.h"
#include "fleet_redis.h"
#include "prefs.h"
#include "routing.h"
#include "host.h"
#include "scheduler.h"
#include "orchestrate_cmd.h"
#include "simulate_cmd.h"
#include "text.h"
#include "textbuf.h"
#include "shim_config.h"

#define EXIT_BAD_INPUT 1
#define EXIT_REFUSED 2
#define DEFAULT_SCHEDULER "hardware-aware"
#define MAX_SHARDS 1024

static const char *prog = "lbsched-shim";

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: %s check PLUGIN.so\n"
	        "       %s decide [--plugin PATH] [--scheduler NAME] [--config FILE]\n"
	        "                 --workers FILE [--tests FILE] [--explain] [--independent]\n"
	        "                 [--feedback OUTCOMES.jsonl] [--routes ROUTES.json]\n"
	        "                 [--redis-password-file FILE] [--redis-insecure]\n"
	        "                 (--workers redis://HOST:PORT/PREFIX: the agents' live fleet)\n"
	        "       %s simulate --workers FLEET.json --truth TRUTH.json --mix MIX.json ...\n"
	        "                 (see '%s simulate --help')\n"
	        "       %s prefs dump|export|import|reset --db DIR [--plugin PATH] [--replace] [FILE]\n"
	        "       %s --version\n",
	        prog, prog, prog, prog, prog, prog);
}

static void warn_to_stderr(void *ctx, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "%s: warning: %s\n", prog, msg);
}

static int cmd_check(int argc, char **argv)
{
	shim_host *h;
	loaded_plugin *p;
	const lbs_host_api *api;
	const lbs_plugin_entry *e;
	char err[1024], name[96], desc[LOADER_MAX_DESCRIPTION + 4];
	lbs_status st;
	uint32_t usable = 0;
	uint32_t n;

	if (argc != 1) {
		usage(stderr);
		return EXIT_BAD_INPUT;
	}
	h = host_new(prog, LBS_LOG_WARN);
	if (!h)
		return EXIT_BAD_INPUT;
	st = host_load(h, argv[0], &p, &api, err, sizeof err);
	if (st != LBS_OK) {
		fprintf(stderr, "%s: %s\n", prog, err);
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
	for (uint32_t i = 0; i < n; i++) {
		const lbs_scheduler_desc *d = e->scheduler_get(i);
		const lbs_scheduler_desc *ok = d && d->name ? loader_find(p, d->name, err, sizeof err) : NULL;
		if (!ok) {
			printf("  #%u refused: %s\n", i, d ? err : "NULL descriptor");
			continue;
		}
		usable++;
		/* %.*s reads no further than the bound, terminated or not. */
		snprintf(desc, sizeof desc, "%.*s%s", LOADER_MAX_DESCRIPTION,
		         d->description ? d->description : "",
		         d->description && strnlen(d->description, LOADER_MAX_DESCRIPTION + 1) >
		                 LOADER_MAX_DESCRIPTION ? "..." : "");
		txt_one_line(desc);
		printf("  %-16s %s%s%s%s\n", d->name, desc,
		       DESC_HAS(d, score) ? " [score]" : "", DESC_HAS(d, report) ? " [learns]" : "",
		       DESC_HAS(d, explain) ? " [explain]" : "");
	}
	host_free(h);
	/* A plugin no host can create a scheduler from is refused as a whole. */
	if (!usable) {
		fprintf(stderr, "%s: %s: no usable scheduler\n", prog, argv[0]);
		return EXIT_REFUSED;
	}
	return 0;
}

typedef struct decide_opts {
	const char *plugin, *scheduler, *config, *workers, *tests, *feedback, *routes;
	const char *redis_password;
	int explain, independent, redis_insecure;
} decide_opts;

static int parse_decide(int argc, char **argv, decide_opts *o)
{
	memset(o, 0, sizeof *o);
	o->scheduler = DEFAULT_SCHEDULER;
	o->tests = "-";
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		const char **slot = NULL;

		if (!strcmp(a, "--explain")) {
			o->explain = 1;
			continue;
		}
		if (!strcmp(a, "--independent")) {
			o->independent = 1;
			continue;
		}
		if (!strcmp(a, "--redis-insecure")) {
			o->redis_insecure = 1;
			continue;
		}
		if (!strcmp(a, "--plugin"))
			slot = &o->plugin;
		else if (!strcmp(a, "--scheduler"))
			slot = &o->scheduler;
		else if (!strcmp(a, "--config"))
			slot = &o->config;
		else if (!strcmp(a, "--workers"))
			slot = &o->workers;
		else if (!strcmp(a, "--tests"))
			slot = &o->tests;
		else if (!strcmp(a, "--feedback"))
			slot = &o->feedback;
		else if (!strcmp(a, "--routes"))
			slot = &o->routes;
		else if (!strcmp(a, "--redis-password-file"))
			slot = &o->redis_password;
		if (!slot) {
			fprintf(stderr, "%s: decide: unknown option '%s'\n", prog, a);
			usage(stderr);
			return -1;
		}
		if (i + 1 >= argc) {
			fprintf(stderr, "%s: decide: option '%s' needs a value\n", prog, a);
			return -1;
		}
		*slot = argv[++i];
	}
	if (!o->workers) {
		fprintf(stderr, "%s: decide: --workers FILE is required\n", prog);
		usage(stderr);
		return -1;
	}
	/* Which routed scheduler an outcome belongs to is its test type's
	 * route; report_feedback knows one scheduler. */
	if (o->routes && o->feedback) {
		fprintf(stderr, "%s: decide: --feedback cannot be combined with --routes yet\n", prog);
		return -1;
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

/* The longest worker id a store learns from (docs/SECURITY.md F4: store
 * keys hold at most 511 bytes, one of them the workload type); the ABI
 * only says LBS_EINVAL, so the shim names the likely reason itself. */
#define LEARN_ID_MAX 510

/* Why report() refused an outcome, for the message naming its line. */
static const char *refusal(const lbs_outcome *o, lbs_status st, char *buf, size_t n)
{
	size_t id_len = strlen(o->worker_id);

	if (st == LBS_EINVAL && id_len > LEARN_ID_MAX)
		snprintf(buf, n, "its worker_id is %zu bytes, more than the %d a store learns from",
		         id_len, LEARN_ID_MAX);
	else if (st == LBS_EINVAL)
		snprintf(buf, n, "the scheduler refused it as invalid (a store at store.max_pairs "
		         "worker/type pairs refuses new ones; see its warning)");
	else if (st == LBS_EIO)
		snprintf(buf, n, "the store could not take it (its queue is full or its disk "
		         "failed); it is lost");
	else if (st == LBS_ENOMEM)
		snprintf(buf, n, "out of memory");
	else
		snprintf(buf, n, "the scheduler failed with status %d", (int)st);
	return buf;
}

/*
 * Report outcomes (JSON Lines) to the scheduler, so a store learns what
 * happened.  Returns 0, or -1 when some line was bad (each one named).
 */
static int report_feedback(shim_sched *s, const char *path, conv_warns *warns)
{
	char err[1024];
	size_t len;
	char *text = file_read(path, &len, err, sizeof err);
	const char *name = strcmp(path, "-") ? path : "<stdin>";
	unsigned reported = 0;
	int bad = 0, got;
	file_lines it;
	char *line;
	size_t line_len;

	if (!text) {
		fprintf(stderr, "%s: %s\n", prog, err);
		return -1;
	}
	file_lines_init(&it, text, len, name);
	while ((got = file_next_line(&it, &line, &line_len, err, sizeof err))) {
		char where[512];
		arena *a;
		conv_ctx c = {NULL, warn_to_stderr, NULL, err, sizeof err, warns};
		lbs_outcome o;
		lbs_status st;

		if (got < 0) {
			fprintf(stderr, "%s: %s\n", prog, err);
			bad = 1;
			continue;
		}
		c.arena = a = arena_new();
		snprintf(where, sizeof where, "%s:%u", name, it.lineno);
		if (!a || conv_outcome_text(&c, line, line_len, where, &o)) {
			fprintf(stderr, "%s: %s\n", prog, a ? err : "out of memory");
			bad = 1;
			arena_free(a);
			continue;
		}
		st = sched_report(s, &o);
		if (st == LBS_EUNSUPPORTED) {
			fprintf(stderr, "%s: %s: scheduler '%s' does not learn from outcomes\n", prog,
			        where, sched_desc(s)->name);
			bad = 1;
			arena_free(a);
			break;
		}
		if (st != LBS_OK) {
			char why[256];
			fprintf(stderr, "%s: %s: outcome not learned: %s\n", prog, where,
			        refusal(&o, st, why, sizeof why));
			bad = 1;
		} else {
			reported++;
		}
		arena_free(a);
	}
	fprintf(stderr, "%s: reported %u outcomes from %s\n", prog, reported, name);
	free(text);
	return bad ? -1 : 0;
}

static int cmd_decide(int argc, char **argv)
{
	decide_opts o;
	shim_host *h = NULL;
	shim_sched *s = NULL;
	shim_router *router = NULL;
	arena *fleet_arena = NULL;
	lbs_worker **workers = NULL;
	uint32_t n_workers = 0;
	char *config = NULL, *fleet_text = NULL, *tests = NULL, *routes = NULL;
	size_t config_len = 0, fleet_len = 0, tests_len = 0, routes_len = 0;
	char err[1024];
	int rc = 0;
	lbs_status st;
	conv_warns warns = {0, 0};

	if (parse_decide(argc, argv, &o))
		return EXIT_BAD_INPUT;
	h = host_new(prog, LBS_LOG_WARN);
	if (!h)
		return EXIT_BAD_INPUT;
	if (o.config && !(config = file_read(o.config, &config_len, err, sizeof err)))
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
	}
	if (o.routes) {
		/* --scheduler / --config are the default route unless the
		 * routing document names its own. */
		router_target dflt = {o.plugin, o.scheduler, config, config_len};

		if (!(routes = file_read(o.routes, &routes_len, err, sizeof err)))
			goto bad;
		st = router_open(h, routes, routes_len, o.routes, o.plugin, &dflt, &router, err,
		                 sizeof err);
	} else {
		st = sched_open(h, o.plugin, o.scheduler, config, config_len, &s, err, sizeof err);
	}
	if (st != LBS_OK) {
		if (st == LBS_ECONFIG && o.config && !o.routes) {
			/* Name the file: the plugin only knows the field. */
			char full[1200];
			snprintf(full, sizeof full, "%s: %s", o.config, err);
			fprintf(stderr, "%s: %s\n", prog, full);
			rc = EXIT_BAD_INPUT;
			goto out;
		}
		fprintf(stderr, "%s: %s\n", prog, err);
		rc = st == LBS_EVERSION ? EXIT_REFUSED : EXIT_BAD_INPUT;
		goto out;
	}
	tests = file_read(o.tests, &tests_len, err, sizeof err);
	if (!tests)
		goto bad;

	{
		const char *tests_name = strcmp(o.tests, "-") ? o.tests : "<stdin>";
		uint32_t indices[MAX_SHARDS];
		const char *ids[MAX_SHARDS];
		char reason[512];
		file_lines it;
		char *line;
		size_t line_len;
		int got;

		file_lines_init(&it, tests, tests_len, tests_name);
		while ((got = file_next_line(&it, &line, &line_len, err, sizeof err))) {
			char where[512];
			arena *a;
			conv_ctx c = {NULL, warn_to_stderr, NULL, err, sizeof err, &warns};
			lbs_workload wl;
			lbs_selection sel;
			textbuf ex = {0};

			if (got < 0) {
				fprintf(stderr, "%s: %s\n", prog, err);
				rc = EXIT_BAD_INPUT;
				continue;
			}
			c.arena = a = arena_new();
			snprintf(where, sizeof where, "%s:%u", tests_name, it.lineno);
			if (!a || conv_workload_text(&c, line, line_len, where, &wl)) {
				fprintf(stderr, "%s: %s\n", prog, a ? err : "out of memory");
				rc = EXIT_BAD_INPUT;
				arena_free(a);
				continue;
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
			 * placement is one more active test on its workers, as a
			 * load balancer would see it, unless --independent. */
			for (uint32_t i = 0; st == LBS_OK && !o.independent && i < sel.n_selected; i++)
				workers[sel.indices[i]]->active_tests++;
			if (print_decision(&wl, st, &sel, o.explain ? ex.p : NULL)) {
				fprintf(stderr, "%s: %s: out of memory\n", prog, where);
				rc = EXIT_BAD_INPUT;
			}
			free(ex.p);
			arena_free(a);
		}
	}
	if (o.feedback && report_feedback(s, o.feedback, &warns))
		rc = EXIT_BAD_INPUT;
	goto out;
bad:
	fprintf(stderr, "%s: %s\n", prog, err);
	rc = EXIT_BAD_INPUT;
out:
	{
		conv_ctx c = {NULL, warn_to_stderr, NULL, NULL, 0, &warns};
		conv_warn_summary(&c);
	}
	if (router)
		router_close(router); /* s is one of its schedulers */
	else
		sched_close(s);
	host_free(h);
	arena_free(fleet_arena);
	free(config);
	free(fleet_text);
	free(tests);
	free(routes);
	fflush(stdout);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_BAD_INPUT;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("lbsched-shim %s (ABI %d.%d)\n", LBS_VERSION, LBS_ABI_MAJOR, LBS_ABI_MINOR);
		return 0;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "check"))
		return cmd_check(argc - 2, argv + 2);
	if (!strcmp(argv[1], "decide"))
		return cmd_decide(argc - 2, argv + 2);
	if (!strcmp(argv[1], "simulate"))
		return cmd_simulate(prog, argc - 2, argv + 2);
	if (!strcmp(argv[1], "orchestrate"))
		return cmd_orchestrate(prog, argc - 1, argv + 1);
	if (!strcmp(argv[1], "prefs"))
		return cmd_prefs(prog, argc - 2, argv + 2);
	fprintf(stderr, "%s: unknown command '%s'\n", prog, argv[1]);
	usage(stderr);
	return EXIT_BAD_INPUT;
}
