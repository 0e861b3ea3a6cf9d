/*
 * orchestrate_cmd.c -- `lbsched-shim orchestrate`: a workload graph's plan
 * on a fleet, as JSON Lines (docs/ORCHESTRATE.md).
 *
 *   lbsched-shim orchestrate --graph G.json --workers FLEET.json
 *                [--scheduler NAME] [--config FILE] [--plugin PATH]
 *
 * The plan runs the graph in virtual time (orch/drive.h) with each
 * subtask lasting its estimate and nothing failing: the schedule the
 * scheduler would make if the estimates held.
 */
#include "orchestrate_cmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "convert.h"
#include "drive.h"
#include "file.h"
#include "fleet_redis.h"
#include "host.h"
#include "interrupt.h"
#include "orch.h"
#include "scheduler.h"

typedef struct orch_opts {
	const char *graph, *workers, *scheduler, *config, *plugin, *redis_password;
	int redis_insecure;
} orch_opts;

static const char *prog;

/* orchestrate's options, in the order --help lists them; O_* index them. */
enum { O_GRAPH, O_WORKERS, O_SCHEDULER, O_CONFIG, O_PLUGIN, O_REDIS_PASSWORD, O_REDIS_INSECURE };

static const cli_opt orchestrate_table[] = {
	[O_GRAPH] = {"graph", "GRAPH.json", "the workload graph: name, aggregation_method and "
	             "subtasks with their requirements and dependencies (required)"},
	[O_WORKERS] = {"workers", "FLEET.json", "the fleet, as for decide (required)"},
	[O_SCHEDULER] = {"scheduler", "NAME", "the scheduler that places each subtask "
	                 "(default hardware-aware; a bare composite is 0.7 hardware-aware, "
	                 "0.2 priority, 0.1 round-robin)"},
	[O_CONFIG] = {"config", "FILE", "the scheduler's config, a JSON object"},
	[O_PLUGIN] = {"plugin", "PATH", "the plugin, as for decide"},
	[O_REDIS_PASSWORD] = {"redis-password-file", "FILE", "with --workers "
	                      "redis://HOST:PORT/PREFIX, as for decide"},
	[O_REDIS_INSECURE] = {"redis-insecure", NULL, "as for decide"},
	{NULL, NULL, NULL},
};

const cli_cmd orchestrate_cmd = {
	"orchestrate",
	"--graph GRAPH.json --workers FLEET.json [OPTION]...",
	"Plan a workload graph on a fleet and print it as JSON Lines: the critical path first, "
	"then each subtask's worker, start and finish estimates (docs/ORCHESTRATE.md).",
	"The plan runs the graph in virtual time with each subtask lasting its estimate and "
	"nothing failing: the schedule the scheduler would make if the estimates held.",
	orchestrate_table,
	cmd_orchestrate,
	NULL,
	NULL,
};

/* 0, -1 after --help, or EXIT_USAGE after its message. */
static int parse(int argc, char **argv, orch_opts *o)
{
	const char *v[CLI_MAX_OPTS];
	int first, r = cli_parse(prog, &orchestrate_cmd, argc, argv, v, &first);

	if (r)
		return r;
	memset(o, 0, sizeof *o);
	o->graph = v[O_GRAPH];
	o->workers = v[O_WORKERS];
	o->scheduler = v[O_SCHEDULER] ? v[O_SCHEDULER] : "hardware-aware";
	o->config = v[O_CONFIG];
	o->plugin = v[O_PLUGIN];
	o->redis_password = v[O_REDIS_PASSWORD];
	o->redis_insecure = v[O_REDIS_INSECURE] != NULL;
	if (first < argc)
		return cli_usage_error(prog, &orchestrate_cmd, "unexpected argument '%s'",
		                       argv[first]);
	if (!o->graph || !o->workers)
		return cli_usage_error(prog, &orchestrate_cmd, "--graph and --workers are required");
	if ((o->redis_password || o->redis_insecure) && !fleet_source_is_redis(o->workers))
		return cli_usage_error(prog, &orchestrate_cmd, "--redis-password-file and "
		                       "--redis-insecure go with a redis:// --workers");
	if (cli_is_stdin(o->graph) + cli_is_stdin(o->workers) + cli_is_stdin(o->config) > 1)
		return cli_usage_error(prog, &orchestrate_cmd, "only one of --graph, --workers and "
		                       "--config can be - (or /dev/stdin)");
	return 0;
}

static void warn(void *ctx, const char *msg)
{
	(void)ctx;
	cli_warn(prog, "%s", msg);
}

typedef struct plan_ctx {
	lbs_worker **workers;
	shim_sched *s;
	int bad;
} plan_ctx;

/* A run lasts what the scheduler estimates for it on the worker it was
 * placed on. */
static double plan_run(void *ctx, const orch *o, uint32_t i, uint32_t w, int *fails, double *at)
{
	plan_ctx *p = ctx;

	(void)at;
	*fails = 0;
	return orch_est_on(o, p->s, i, p->workers[w]);
}

/* l on stdout as one line, and deleted: 0, or -1 out of memory. */
static int put_line(cJSON *l)
{
	char *text = l ? cJSON_PrintUnformatted(l) : NULL;

	cJSON_Delete(l);
	if (!text)
		return -1;
	puts(text);
	free(text);
	return 0;
}

static void plan_line(void *ctx, const orch *o, uint32_t i, uint32_t w, double start,
                      double finish, int ok)
{
	plan_ctx *p = ctx;
	cJSON *l = cJSON_CreateObject();

	(void)ok;
	cJSON_AddStringToObject(l, "subtask_id", orch_id(o, i));
	cJSON_AddStringToObject(l, "worker", p->workers[w]->id);
	cJSON_AddNumberToObject(l, "start_s", start);
	cJSON_AddNumberToObject(l, "finish_s", finish);
	cJSON_AddNumberToObject(l, "est_s", orch_est(o, i));
	cJSON_AddStringToObject(l, "est_source", orch_est_source(o, i));
	cJSON_AddNumberToObject(l, "upward_rank", orch_upward_rank(o, i));
	cJSON_AddBoolToObject(l, "critical_path", orch_on_critical_path(o, i));
	/* Which requirements it ran under: 0 the declared ones, k the
	 * graph's alternates[k-1] (no worker of the fleet takes the earlier
	 * ones). */
	cJSON_AddNumberToObject(l, "alternate", orch_alternate(o, i));
	if (put_line(l))
		p->bad = 1;
}

/* The first line: the graph and its critical path. */
static int print_head(const orch *o, const char *scheduler)
{
	uint32_t n = orch_count(o), *cp = malloc((n + 1) * sizeof *cp), len;
	cJSON *l = cJSON_CreateObject(), *ids;
	double cp_s;

	if (!cp || !l) {
		free(cp);
		cJSON_Delete(l);
		return -1;
	}
	len = orch_critical_path(o, cp, n, &cp_s);
	cJSON_AddStringToObject(l, "graph", orch_name(o));
	cJSON_AddNumberToObject(l, "subtasks", n);
	cJSON_AddStringToObject(l, "scheduler", scheduler);
	ids = cJSON_AddArrayToObject(l, "critical_path");
	for (uint32_t k = 0; ids && k < len && k < n; k++)
		cJSON_AddItemToArray(ids, cJSON_CreateString(orch_id(o, cp[k])));
	cJSON_AddNumberToObject(l, "critical_path_s", cp_s);
	free(cp);
	return put_line(l);
}

/* The last line, through cJSON as the others (%.6g printed 8888889.391 s
 * as 8.88889e+06). */
static int print_tail(const orch_drive_result *res)
{
	cJSON *l = cJSON_CreateObject();

	cJSON_AddNumberToObject(l, "makespan_s", res->makespan_s);
	cJSON_AddBoolToObject(l, "completed", res->completed == 1);
	cJSON_AddNumberToObject(l, "placements", res->placements);
	return put_line(l);
}

int cmd_orchestrate(const char *program, int argc, char **argv)
{
	orch_opts op;
	shim_host *h = NULL;
	shim_sched *s = NULL;
	arena *fa = NULL;
	lbs_worker **workers = NULL;
	uint32_t n = 0;
	char *config = NULL, *fleet = NULL, *graph = NULL;
	size_t config_len = 0, fleet_len, graph_len;
	char err[2048];
	conv_warns warns = {0};
	orch_warn ow = {warn, NULL, &warns};
	orch *o = NULL;
	orch_drive_result res;
	plan_ctx pc = {0};
	int rc = EXIT_BAD_INPUT, p;
	int stopped = 0;
	unsigned placed = 0; /* before a signal stopped it */
	uint64_t errors = 0;
	lbs_status st;

	prog = program;
	if ((p = parse(argc, argv, &op)))
		return p < 0 ? 0 : p;
	cli_stop_on_signals();
	if (!(h = host_new(prog, LBS_LOG_WARN)))
		return EXIT_BAD_INPUT;
	if (op.config && !(config = file_read_config(op.config, &config_len, err, sizeof err)))
		goto bad;
	if (!(fleet = fleet_source_read(op.workers, op.redis_password, op.redis_insecure, warn,
	                                NULL, &fleet_len, err, sizeof err)) ||
	    !(graph = file_read(op.graph, &graph_len, err, sizeof err)))
		goto bad;
	{
		conv_ctx c = {NULL, warn, NULL, err, sizeof err, &warns};
		if (!(c.arena = fa = arena_new()) ||
		    conv_fleet(&c, fleet, fleet_len, op.workers, &workers, &n))
			goto bad;
	}
	/* The plan runs on an idle fleet, and so do the checks and
	 * estimates before it: a worker the file shows full of reservations
	 * can still take the subtask (docs/ORCHESTRATE.md). */
	orch_idle(workers, n);
	if (!(o = orch_load(graph, graph_len, op.graph, &ow, 1, err, sizeof err)) ||
	    orch_fit_fleet(o, (const lbs_worker *const *)workers, n, err, sizeof err))
		goto bad;
	st = sched_open(h, op.plugin, op.scheduler, config, config_len, &s, err, sizeof err);
	if (st != LBS_OK) {
		rc = cli_open_refused(prog, st, op.config, err);
		goto out;
	}
	if (orch_estimate(o, s, (const lbs_worker *const *)workers, n) ||
	    print_head(o, op.scheduler)) {
		orch_error(o, NULL, err, sizeof err, "out of memory");
		goto bad;
	}
	pc.workers = workers;
	pc.s = s;
	/* A signal stops the plan at its next event; a plan without its
	 * last line (makespan_s) is not taken for a whole one. */
	if ((stopped = cli_stop))
		goto out; /* its line comes once the store has committed */
	{
		orch_exec x = {plan_run, plan_line, &pc, &cli_stop};
		if (orch_drive(o, s, workers, n, &x, &res, err, sizeof err))
			goto bad;
	}
	if ((stopped = cli_stop)) {
		placed = res.placements;
		goto out;
	}
	if (print_tail(&res)) {
		orch_error(o, NULL, err, sizeof err, "out of memory");
		goto bad;
	}
	rc = pc.bad ? EXIT_BAD_INPUT : 0;
	goto out;
bad:
	/* A read of a pipe (--graph -) the signal cut short is its error:
	 * one line, the signal's. */
	if (!(stopped = cli_stop)) {
		cli_error(prog, "%s", err);
		rc = EXIT_BAD_INPUT;
	}
out:
	{
		conv_ctx c = {NULL, warn, NULL, NULL, 0, &warns};
		conv_warn_summary(&c);
	}
	orch_free(o);
	errors = h ? host_errors(h) : 0;
	sched_close(s);
	if (stopped)
		rc = cli_interrupted(prog, "orchestrate", h && host_errors(h) > errors,
		                     "%u placements", placed);
	host_free(h);
	arena_free(fa);
	free(config);
	free(fleet);
	free(graph);
	fflush(stdout);
	return rc;
}
