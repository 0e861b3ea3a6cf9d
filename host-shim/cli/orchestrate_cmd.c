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

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "convert.h"
#include "drive.h"
#include "file.h"
#include "host.h"
#include "orch.h"
#include "scheduler.h"

#define EXIT_BAD_INPUT 1
#define EXIT_REFUSED 2

typedef struct orch_opts {
	const char *graph, *workers, *scheduler, *config, *plugin;
} orch_opts;

static const char *prog;

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: %s orchestrate --graph GRAPH.json --workers FLEET.json\n"
	        "         [--scheduler NAME] [--config FILE] [--plugin PATH]\n",
	        prog);
}

static int parse(int argc, char **argv, orch_opts *o)
{
	static const struct option longs[] = {
		{"graph", required_argument, NULL, 'g'},
		{"workers", required_argument, NULL, 'w'},
		{"scheduler", required_argument, NULL, 's'},
		{"config", required_argument, NULL, 'c'},
		{"plugin", required_argument, NULL, 'p'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;

	memset(o, 0, sizeof *o);
	o->scheduler = "hardware-aware";
	optind = 0; /* getopt's state is global; start over (0 resets it in glibc) */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", longs, NULL)) != -1) {
		switch (c) {
		case 'g': o->graph = optarg; break;
		case 'w': o->workers = optarg; break;
		case 's': o->scheduler = optarg; break;
		case 'c': o->config = optarg; break;
		case 'p': o->plugin = optarg; break;
		case 'h': usage(stdout); return 1;
		case ':':
			fprintf(stderr, "%s: orchestrate: option '%s' needs a value\n", prog,
			        argv[optind - 1]);
			return -1;
		default:
			fprintf(stderr, "%s: orchestrate: unknown option '%s'\n", prog, argv[optind - 1]);
			usage(stderr);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: orchestrate: unexpected argument '%s'\n", prog, argv[optind]);
		return -1;
	}
	if (!o->graph || !o->workers) {
		fprintf(stderr, "%s: orchestrate: --graph and --workers are required\n", prog);
		usage(stderr);
		return -1;
	}
	return 0;
}

static void warn(void *ctx, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "%s: warning: %s\n", prog, msg);
}

static double plan_run(void *ctx, const orch *o, uint32_t i, uint32_t w, int *fails, double *at)
{
	(void)ctx, (void)w, (void)at;
	*fails = 0;
	return orch_est(o, i);
}

typedef struct plan_ctx {
	lbs_worker **workers;
	int bad;
} plan_ctx;

static void plan_line(void *ctx, const orch *o, uint32_t i, uint32_t w, double start,
                      double finish, int ok)
{
	plan_ctx *p = ctx;
	cJSON *l = cJSON_CreateObject();
	char *text;

	(void)ok;
	cJSON_AddStringToObject(l, "subtask_id", orch_id(o, i));
	cJSON_AddStringToObject(l, "worker", p->workers[w]->id);
	cJSON_AddNumberToObject(l, "start_s", start);
	cJSON_AddNumberToObject(l, "finish_s", finish);
	cJSON_AddNumberToObject(l, "est_s", orch_est(o, i));
	cJSON_AddStringToObject(l, "est_source", orch_est_source(o, i));
	cJSON_AddNumberToObject(l, "upward_rank", orch_upward_rank(o, i));
	cJSON_AddBoolToObject(l, "critical_path", orch_on_critical_path(o, i));
	text = cJSON_PrintUnformatted(l);
	cJSON_Delete(l);
	if (!text) {
		p->bad = 1;
		return;
	}
	puts(text);
	free(text);
}

/* The first line: the graph and its critical path. */
static int print_head(const orch *o, const char *scheduler)
{
	uint32_t n = orch_count(o), *cp = malloc((n + 1) * sizeof *cp), len;
	cJSON *l = cJSON_CreateObject(), *ids;
	double cp_s;
	char *text;

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
	text = cJSON_PrintUnformatted(l);
	cJSON_Delete(l);
	if (!text)
		return -1;
	puts(text);
	free(text);
	return 0;
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
	char err[1024];
	conv_warns warns = {0, 0};
	orch_warn ow = {warn, NULL, &warns};
	orch *o = NULL;
	orch_drive_result res;
	plan_ctx pc = {NULL, 0};
	int rc = EXIT_BAD_INPUT, p;
	lbs_status st;

	prog = program;
	if ((p = parse(argc, argv, &op)))
		return p > 0 ? 0 : EXIT_BAD_INPUT;
	if (!(h = host_new(prog, LBS_LOG_WARN)))
		return EXIT_BAD_INPUT;
	if (op.config && !(config = file_read(op.config, &config_len, err, sizeof err)))
		goto bad;
	if (!(fleet = file_read(op.workers, &fleet_len, err, sizeof err)) ||
	    !(graph = file_read(op.graph, &graph_len, err, sizeof err)))
		goto bad;
	{
		conv_ctx c = {NULL, warn, NULL, err, sizeof err, &warns};
		if (!(c.arena = fa = arena_new()) ||
		    conv_fleet(&c, fleet, fleet_len, op.workers, &workers, &n))
			goto bad;
	}
	if (!(o = orch_load(graph, graph_len, op.graph, &ow, 1, err, sizeof err)) ||
	    orch_check_fleet(o, (const lbs_worker *const *)workers, n, err, sizeof err))
		goto bad;
	st = sched_open(h, op.plugin, op.scheduler, config, config_len, &s, err, sizeof err);
	if (st != LBS_OK) {
		if (st == LBS_ECONFIG && op.config)
			fprintf(stderr, "%s: %s: %s\n", prog, op.config, err);
		else
			fprintf(stderr, "%s: %s\n", prog, err);
		rc = st == LBS_EVERSION ? EXIT_REFUSED : EXIT_BAD_INPUT;
		goto out;
	}
	if (orch_estimate(o, s, (const lbs_worker *const *)workers, n) ||
	    print_head(o, op.scheduler)) {
		snprintf(err, sizeof err, "%s: out of memory", op.graph);
		goto bad;
	}
	pc.workers = workers;
	{
		orch_exec x = {plan_run, plan_line, &pc};
		if (orch_drive(o, s, workers, n, &x, &res, err, sizeof err))
			goto bad;
	}
	printf("{\"makespan_s\":%.6g,\"completed\":%s,\"placements\":%u}\n", res.makespan_s,
	       res.completed == 1 ? "true" : "false", res.placements);
	rc = pc.bad ? EXIT_BAD_INPUT : 0;
	goto out;
bad:
	fprintf(stderr, "%s: %s\n", prog, err);
	rc = EXIT_BAD_INPUT;
out:
	{
		conv_ctx c = {NULL, warn, NULL, NULL, 0, &warns};
		conv_warn_summary(&c);
	}
	orch_free(o);
	sched_close(s);
	host_free(h);
	arena_free(fa);
	free(config);
	free(fleet);
	free(graph);
	fflush(stdout);
	return rc;
}
