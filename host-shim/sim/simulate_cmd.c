/*
 * simulate_cmd.c -- the `simulate` command: options, the runs, the table,
 * the JSON and the report.
 */
#include "simulate_cmd.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "convert.h"
#include "taxonomy.h"
#include "text.h"
#include "file.h"
#include "fleet_redis.h"
#include "graphsim.h"
#include "host.h"
#include "interrupt.h"
#include "options.h"
#include "report.h"
#include "scheduler.h"
#include "simulate.h"
#include "stream.h"
#include "truth.h"

#define MAX_RUNS 16
#define DEFAULT_TESTS 20000
#define DEFAULT_RATE 1.0
#define DEFAULT_WARMUP 1000
#define DEFAULT_WINDOW 500
#define MAX_TESTS 10000000u

typedef struct run_spec {
	char name[128];      /* as shown: "hardware-aware" or "hardware-aware=hw.json" */
	char scheduler[64];  /* "oracle" runs the oracle */
	const char *config_file; /* may be NULL */
	char *config;        /* its text, read once (it may be standard input) */
	size_t config_len;
} run_spec;

typedef struct sim_opts {
	const char *plugin, *workers, *truth, *mix, *tests_file, *dump, *report, *json;
	const char *scheduler, *config, *compare, *redis_password;
	uint32_t tests, warmup, window;
	double rate;
	const char *rate_text; /* as given, for a message */
	uint64_t seed;
	int quiet, timing, redis_insecure;
} sim_opts;

static const char *prog;

/* simulate's options, in the order --help lists them; S_* index them. */
enum {
	S_WORKERS, S_TRUTH, S_MIX, S_TESTS, S_RATE, S_TESTS_FILE, S_DUMP, S_SEED, S_SCHEDULER,
	S_CONFIG, S_COMPARE, S_WARMUP, S_WINDOW, S_PLUGIN, S_JSON, S_REPORT, S_TIMING, S_QUIET,
	S_REDIS_PASSWORD, S_REDIS_INSECURE,
};

static const cli_opt simulate_opts[] = {
	[S_WORKERS] = {"workers", "FLEET.json", "the fleet, as for decide (required)"},
	[S_TRUTH] = {"truth", "TRUTH.json", "the hidden reality: how fast each worker really is "
	             "(required)"},
	[S_MIX] = {"mix", "MIX.json", "generate the tests from this mix"},
	[S_TESTS] = {"tests", "N", "how many tests to generate (default 20000)"},
	[S_RATE] = {"rate", "PER_S", "tests per second, a Poisson process (default 1)"},
	[S_TESTS_FILE] = {"tests-file", "TESTS.jsonl", "replay these tests instead of a mix, "
	                  "each with its arrival_s"},
	[S_DUMP] = {"dump-tests", "OUT.jsonl", "write the stream in the --tests-file form"},
	[S_SEED] = {"seed", "S", "seeds the arrivals, the mix draws, the noise and the failures, 0..2^53 "
	            "(default 1)"},
	[S_SCHEDULER] = {"scheduler", "NAME", "the one scheduler to run (default hardware-aware)"},
	[S_CONFIG] = {"config", "FILE", "that scheduler's config"},
	[S_COMPARE] = {"compare", "LIST", "run several: comma-separated NAME or NAME=CONFIG.json; "
	               "NAME is a scheduler or 'oracle'"},
	[S_WARMUP] = {"warmup", "N", "tests left out of the mean after warm-up (default 1000)"},
	[S_WINDOW] = {"window", "N", "tests per point of the learning curve (default 500)"},
	[S_PLUGIN] = {"plugin", "PATH", "the plugin (default: " HOST_DEFAULT_PLUGIN_TEXT ")"},
	[S_JSON] = {"json", "OUT.json", "every figure as JSON (- for standard output, in the table's "
	            "place)"},
	[S_REPORT] = {"report", "OUT.html", "a self-contained HTML report"},
	[S_TIMING] = {"timing", NULL, "the wall time of each run, on standard error"},
	[S_QUIET] = {"quiet", NULL, "no progress line (there is one only when standard error is "
	             "a terminal and a run takes over a second)"},
	[S_REDIS_PASSWORD] = {"redis-password-file", "FILE", "with --workers "
	                      "redis://HOST:PORT/PREFIX, as for decide"},
	[S_REDIS_INSECURE] = {"redis-insecure", NULL, "as for decide"},
	{NULL, NULL, NULL},
};

const cli_cmd simulate_cmd = {
	"simulate",
	"--workers FLEET.json --truth TRUTH.json (--mix MIX.json | --tests-file TESTS.jsonl) "
	"[OPTION]...",
	"Run a fleet, its hidden truth and a stream of tests through the real plugin, one "
	"scheduler or a comparison with the oracle, and print a table of completion times.",
	"A bare 'composite' in --compare is 0.7 hardware-aware, 0.2 priority, 0.1 round-robin. "
	"docs/SIMULATE.md describes the truth and mix files and the model. Workload graphs: "
	"'simulate --graphs GRAPHS.jsonl --help'.",
	simulate_opts,
	cmd_simulate,
	NULL,
	NULL,
};

int sim_parse_u32(const char *prog_name, const cli_cmd *cmd, const char *opt, const char *s,
                  uint32_t lo, uint32_t hi, uint32_t *out)
{
	uint64_t v;
	int rc = cli_uint(prog_name, cmd, opt, s, lo, hi, &v);

	if (rc == 0)
		*out = (uint32_t)v;
	return rc;
}

static int parse_u32(const char *opt, const char *s, uint32_t lo, uint32_t hi, uint32_t *out)
{
	return sim_parse_u32(prog, &simulate_cmd, opt, s, lo, hi, out);
}

/* EXIT_USAGE after its message when an output would write over the input
 * `in` (what) names, else 0. */
static int output_over(const sim_opts *o, const char *what, const char *in)
{
	const char *const out[] = {"json", o->json, "report", o->report, "dump-tests", o->dump};

	for (size_t i = 0; i < 6; i += 2)
		if (file_same(out[i + 1], in, 1))
			return cli_usage_error(prog, &simulate_cmd, "--%s would write over %s ('%s')",
			                       out[i], what, out[i + 1]);
	return 0;
}

/* No output written over another, or over an input read before it (but
 * --dump-tests over --tests-file, the same stream written again): the
 * last written won, and the run said nothing.  --compare's configs are
 * checked as parse_compare() reads them. */
static int outputs_apart(const sim_opts *o)
{
	const char *const out[] = {"json", o->json, "report", o->report, "dump-tests", o->dump};
	const char *const in[] = {"--workers", fleet_source_is_redis(o->workers) ? NULL : o->workers,
	                          "--truth", o->truth, "--mix", o->mix, "--config", o->config};

	for (size_t i = 0; i < 6; i += 2)
		for (size_t j = i + 2; j < 6; j += 2)
			if (file_same(out[i + 1], out[j + 1], 0))
				return cli_usage_error(prog, &simulate_cmd, "--%s and --%s name one file "
				                       "('%s'): give each its own", out[i], out[j],
				                       out[i + 1]);
	for (size_t j = 0; j < 8; j += 2)
		if (output_over(o, in[j], in[j + 1]))
			return EXIT_USAGE;
	/* the dump over its own stream writes it again, read first */
	{
		sim_opts no_dump = *o;

		no_dump.dump = NULL;
		return output_over(&no_dump, "--tests-file", o->tests_file);
	}
}

/* 0, -1 after --help, or EXIT_USAGE after its message. */
static int parse_opts(int argc, char **argv, sim_opts *o)
{
	const char *v[CLI_MAX_OPTS];
	int first, r = cli_parse(prog, &simulate_cmd, argc, argv, v, &first);

	if (r)
		return r;
	memset(o, 0, sizeof *o);
	o->workers = v[S_WORKERS];
	o->truth = v[S_TRUTH];
	o->mix = v[S_MIX];
	o->tests_file = v[S_TESTS_FILE];
	o->dump = file_out_path(v[S_DUMP]);
	o->scheduler = v[S_SCHEDULER] ? v[S_SCHEDULER] : "hardware-aware";
	o->config = v[S_CONFIG];
	o->compare = v[S_COMPARE];
	o->plugin = v[S_PLUGIN];
	o->json = file_out_path(v[S_JSON]);
	o->report = file_out_path(v[S_REPORT]);
	o->timing = v[S_TIMING] != NULL;
	o->quiet = v[S_QUIET] != NULL;
	o->redis_password = v[S_REDIS_PASSWORD];
	o->redis_insecure = v[S_REDIS_INSECURE] != NULL;
	o->tests = DEFAULT_TESTS;
	o->rate = DEFAULT_RATE;
	o->rate_text = v[S_RATE] ? v[S_RATE] : "1";
	o->warmup = DEFAULT_WARMUP;
	o->window = DEFAULT_WINDOW;
	o->seed = 1;
	if (first < argc)
		return cli_usage_error(prog, &simulate_cmd, "unexpected argument '%s'", argv[first]);
	if ((v[S_TESTS] && parse_u32("--tests", v[S_TESTS], 1, MAX_TESTS, &o->tests)) ||
	    (v[S_WARMUP] && parse_u32("--warmup", v[S_WARMUP], 0, MAX_TESTS, &o->warmup)) ||
	    (v[S_WINDOW] && parse_u32("--window", v[S_WINDOW], 1, MAX_TESTS, &o->window)))
		return EXIT_USAGE;
	if (v[S_SEED] && cli_seed(prog, &simulate_cmd, v[S_SEED], &o->seed))
		return EXIT_USAGE;
	if (v[S_RATE]) {
		/* Below a test a day and a half, arrivals grow so far past
		 * any duration that rounding swallows the durations. */
		if (!txt_typed_decimal(v[S_RATE], &o->rate) || !(o->rate >= 1e-5) || o->rate > 1e6)
			return cli_usage_error(prog, &simulate_cmd, "--rate must be a number of tests per "
			                       "second in [0.00001, 1000000], got '%s'", v[S_RATE]);
	}
	/* Said rather than dropped: the user meant something by them. */
	if (o->tests_file && (v[S_TESTS] || v[S_RATE]))
		return cli_usage_error(prog, &simulate_cmd, "--%s shapes a generated stream; "
		                       "--tests-file replays its own tests at their arrival_s",
		                       v[S_TESTS] ? "tests" : "rate");
	if (o->compare && v[S_SCHEDULER])
		return cli_usage_error(prog, &simulate_cmd, "--scheduler is for one scheduler; with "
		                       "--compare name each in the list");
	if (!o->workers || !o->truth)
		return cli_usage_error(prog, &simulate_cmd, "--workers and --truth are required");
	if ((o->redis_password || o->redis_insecure) && !fleet_source_is_redis(o->workers))
		return cli_usage_error(prog, &simulate_cmd, "--redis-password-file and "
		                       "--redis-insecure go with a redis:// --workers");
	if (!o->mix == !o->tests_file)
		return cli_usage_error(prog, &simulate_cmd,
		                       "give exactly one of --mix and --tests-file");
	if (o->config && o->compare)
		return cli_usage_error(prog, &simulate_cmd, "--config is for one scheduler; with "
		                       "--compare write NAME=CONFIG.json in the list");
	if (cli_is_stdin(o->workers) + cli_is_stdin(o->truth) + cli_is_stdin(o->mix) +
	    cli_is_stdin(o->tests_file) + cli_is_stdin(o->config) > 1)
		return cli_usage_error(prog, &simulate_cmd, "only one of --workers, --truth, --mix, "
		                       "--tests-file and --config can be - (or /dev/stdin)");
	return outputs_apart(o);
}

static int parse_compare(const sim_opts *o, run_spec *runs, uint32_t *n)
{
	*n = 0;
	if (!o->compare) {
		/* It would be read by nobody: a typo'd path passed silently. */
		if (!strcmp(o->scheduler, "oracle") && o->config)
			return cli_usage_error(prog, &simulate_cmd,
			                       "--config: the oracle takes no config");
		snprintf(runs[0].scheduler, sizeof runs[0].scheduler, "%s", o->scheduler);
		snprintf(runs[0].name, sizeof runs[0].name, "%s", o->scheduler);
		runs[0].config_file = o->config;
		*n = 1;
		return 0;
	}
	for (const char *p = o->compare;;) {
		size_t len = strcspn(p, ","), eq;
		run_spec *r = &runs[*n];

		if (*n == MAX_RUNS)
			return cli_usage_error(prog, &simulate_cmd, "--compare: at most %d entries",
			                       MAX_RUNS);
		if (len == 0 || len >= sizeof r->name)
			return cli_usage_error(prog, &simulate_cmd, "--compare: entry %u is %s", *n + 1,
			                       len ? "too long" : "empty");
		memcpy(r->name, p, len);
		r->name[len] = '\0';
		eq = strcspn(r->name, "=");
		if (eq >= sizeof r->scheduler)
			return cli_usage_error(prog, &simulate_cmd,
			                       "--compare: scheduler name too long in '%s'", r->name);
		memcpy(r->scheduler, r->name, eq);
		r->scheduler[eq] = '\0';
		r->config_file = r->name[eq] ? r->name + eq + 1 : NULL;
		if (!*r->scheduler || (r->config_file && !*r->config_file))
			return cli_usage_error(prog, &simulate_cmd,
			                       "--compare: '%s' is not NAME or NAME=CONFIG.json", r->name);
		if (!strcmp(r->scheduler, "oracle") && r->config_file)
			return cli_usage_error(prog, &simulate_cmd,
			                       "--compare: the oracle takes no config");
		if (output_over(o, "--compare's config", r->config_file))
			return EXIT_USAGE;
		(*n)++;
		p += len;
		if (!*p)
			return 0;
		p++; /* past the comma: an entry must follow ("oracle," was taken) */
	}
}

/* ===== Progress ============================================================ */

typedef struct progress {
	int tty;
	struct timespec t0;
	const char *what;
	int shown;
} progress;

static double since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* A bar on stderr, only on a terminal and only once a run has taken a
 * second: short runs and logs stay clean. */
static void show_progress(void *ctx, double done)
{
	progress *p = ctx;
	int width = 30, fill = (int)(done * width);

	if (!p->tty || since(&p->t0) < 1.0)
		return;
	fprintf(stderr, "\r%-16.16s [%.*s%*s] %3.0f%%", p->what, fill,
	        "##############################", width - fill, "", done * 100);
	p->shown = 1;
}

/* ===== Output ============================================================== */

static cJSON *num_or_null(double d)
{
	return isfinite(d) ? cJSON_CreateNumber(d) : cJSON_CreateNull();
}

static cJSON *series_json(const sim_series *s)
{
	cJSON *a = cJSON_CreateArray();
	for (uint32_t i = 0; a && i < s->n; i++) {
		cJSON *pt = cJSON_CreateArray();
		cJSON_AddItemToArray(pt, num_or_null(s->p[i].x));
		cJSON_AddItemToArray(pt, num_or_null(s->p[i].y));
		cJSON_AddItemToArray(a, pt);
	}
	return a;
}

/* s as valid UTF-8 on one line (txt_one_line): a file name or a run named
 * by one holds any bytes, and --json must stay JSON, the table stay off
 * the terminal's controls.  Cut to n - 1 bytes. */
static const char *as_text(char *dst, size_t n, const char *s)
{
	snprintf(dst, n, "%s", s);
	txt_one_line(dst);
	return dst;
}

/* cJSON_AddStringToObject of as_text(s). */
static void add_text(cJSON *o, const char *key, const char *s)
{
	char t[PATH_MAX + 64];

	cJSON_AddStringToObject(o, key, as_text(t, sizeof t, s));
}

static cJSON *run_json(const sim_run *r, const sim_setup *su, double oracle_mean,
                       double bound)
{
	uint32_t nw = su->n_workers, nt = su->stream->n_types;
	cJSON *o = cJSON_CreateObject(), *a;

	add_text(o, "scheduler", r->name);
	cJSON_AddNumberToObject(o, "tests", r->tests);
	cJSON_AddNumberToObject(o, "completed", r->completed);
	cJSON_AddNumberToObject(o, "failures", r->failures);
	cJSON_AddNumberToObject(o, "deadline_misses", r->deadline_misses);
	cJSON_AddNumberToObject(o, "unplaced", r->unplaced);
	cJSON_AddNumberToObject(o, "host_fallbacks", r->fell_back);
	cJSON_AddItemToObject(o, "mean_completion_s", num_or_null(r->mean_s));
	cJSON_AddItemToObject(o, "p95_completion_s", num_or_null(r->p95_s));
	cJSON_AddItemToObject(o, "mean_completion_after_warmup_s",
	                      num_or_null(r->mean_after_warmup_s));
	cJSON_AddItemToObject(o, "makespan_s", num_or_null(r->makespan_s));
	cJSON_AddItemToObject(o, "throughput_per_s", num_or_null(r->throughput_per_s));
	cJSON_AddItemToObject(o, "ratio_to_oracle",
	                      num_or_null(r->mean_after_warmup_s / oracle_mean));
	cJSON_AddItemToObject(o, "ratio_to_lower_bound",
	                      num_or_null(r->mean_after_warmup_s / bound));
	/* A plugin's stats that are not JSON are left out, not guessed at. */
	if (r->stats) {
		cJSON *st = cJSON_Parse(r->stats);

		if (st)
			cJSON_AddItemToObject(o, "stats", st);
	}
	a = cJSON_AddArrayToObject(o, "assignments");
	for (uint32_t w = 0; w < nw; w++) {
		cJSON *row = cJSON_CreateArray();
		for (uint32_t t = 0; t < nt; t++)
			cJSON_AddItemToArray(row, cJSON_CreateNumber(r->assign[(size_t)w * nt + t]));
		cJSON_AddItemToArray(a, row);
	}
	a = cJSON_AddArrayToObject(o, "efficiency");
	for (uint32_t t = 0; t < nt; t++) {
		cJSON *row = cJSON_CreateArray();
		for (uint32_t w = 0; w < nw; w++)
			cJSON_AddItemToArray(row, num_or_null(r->eff[(size_t)t * nw + w]));
		cJSON_AddItemToArray(a, row);
	}
	cJSON_AddItemToObject(o, "curve", series_json(&r->curve));
	a = cJSON_AddArrayToObject(o, "thermal");
	for (uint32_t w = 0; w < nw; w++)
		cJSON_AddItemToArray(a, series_json(&r->thermal[w]));
	a = cJSON_AddArrayToObject(o, "throttled");
	for (uint32_t w = 0; w < nw; w++)
		cJSON_AddItemToArray(a, series_json(&r->throttled[w]));
	a = cJSON_AddArrayToObject(o, "durations");
	for (uint32_t i = 0; i < r->n_durations; i++)
		cJSON_AddItemToArray(a, cJSON_CreateDoubleArray(r->durations[i], 4));
	return o;
}

static cJSON *result_json(const sim_opts *o, const sim_setup *su, const sim_run *runs,
                          uint32_t n_runs, double oracle_mean, double bound)
{
	cJSON *doc = cJSON_CreateObject(), *sc, *a;

	cJSON_AddNumberToObject(doc, "lbsched_simulate", 1);
	sc = cJSON_AddObjectToObject(doc, "scenario");
	add_text(sc, "workers_file", o->workers);
	add_text(sc, "truth_file", o->truth);
	if (o->mix)
		add_text(sc, "mix_file", o->mix);
	else
		cJSON_AddNullToObject(sc, "mix_file");
	if (o->tests_file)
		add_text(sc, "tests_file", o->tests_file);
	else
		cJSON_AddNullToObject(sc, "tests_file");
	cJSON_AddNumberToObject(sc, "tests", su->stream->n);
	if (o->mix)
		cJSON_AddNumberToObject(sc, "rate_per_s", o->rate);
	else
		cJSON_AddNullToObject(sc, "rate_per_s");
	cJSON_AddNumberToObject(sc, "seed", (double)o->seed);
	cJSON_AddNumberToObject(sc, "warmup", su->warmup);
	cJSON_AddNumberToObject(sc, "noise_sigma", su->truth->noise_sigma);
	cJSON_AddItemToObject(sc, "lower_bound_after_warmup_s", num_or_null(bound));
	a = cJSON_AddArrayToObject(doc, "workers");
	for (uint32_t w = 0; w < su->n_workers; w++) {
		cJSON *x = cJSON_CreateObject();
		cJSON_AddStringToObject(x, "id", su->workers[w]->id);
		cJSON_AddNumberToObject(x, "capacity",
		                        su->workers[w]->capacity ? su->workers[w]->capacity : 1);
		cJSON_AddItemToArray(a, x);
	}
	a = cJSON_AddArrayToObject(doc, "types");
	for (uint32_t t = 0; t < su->stream->n_types; t++)
		cJSON_AddItemToArray(a, cJSON_CreateString(su->stream->types[t]));
	cJSON_AddNumberToObject(doc, "curve_window", su->curve_window);
	a = cJSON_AddArrayToObject(doc, "runs");
	for (uint32_t i = 0; i < n_runs; i++)
		cJSON_AddItemToArray(a, run_json(&runs[i], su, oracle_mean, bound));
	return doc;
}

/* "1.234x", or "-" when either mean does not exist. */
static const char *ratio_text(char *buf, size_t len, double x, double y)
{
	/* Past a million as an exponent: "%.3f" of a ratio of 1e286 (a mix of
	 * 1e-300 s tests) was cut short to a wrong number without its x. */
	if (isfinite(x) && isfinite(y) && y > 0)
		snprintf(buf, len, x / y < 1e6 ? "%.3fx" : "%.3gx", x / y);
	else
		snprintf(buf, len, "-");
	return buf;
}

/* d with `decimals`, or "-" where it does not exist (a mean of no tests),
 * as the report and docs/REPORT.md show it. */
static const char *num_text(char *buf, size_t len, double d, int decimals)
{
	if (isfinite(d))
		snprintf(buf, len, "%.*f", decimals, d);
	else
		snprintf(buf, len, "-");
	return buf;
}

static int col_width(const char *name)
{
	size_t n = strlen(name);

	return n < 16 ? 16 : (int)n;
}

static void print_table(const sim_setup *su, const sim_run *runs, uint32_t n_runs,
                        double oracle_mean, double bound)
{
	/* as wide as the longest name: two configs under one directory were
	 * two rows cut to the same 28 characters */
	int nw_name = 28;
	char t[256];

	for (uint32_t i = 0; i < n_runs; i++) {
		size_t l = strlen(runs[i].name);
		if (l > (size_t)nw_name)
			nw_name = l < 200 ? (int)l : 200;
	}
	printf("%-*s %9s %9s %11s %10s %8s %6s %6s %8s %9s %9s\n", nw_name, "scheduler", "mean s",
	       "p95 s", "mean>warm s", "makespan s", "tests/s", "failed", "missed", "unplaced",
	       "vs oracle", "vs bound");
	for (uint32_t i = 0; i < n_runs; i++) {
		const sim_run *r = &runs[i];
		char ratio[32], rb[32], m[32], p95[32], mw[32], ms[32], tp[32];

		printf("%-*.*s %9s %9s %11s %10s %8s %6u %6u %8u %9s %9s\n", nw_name, nw_name,
		       as_text(t, sizeof t, r->name),
		       num_text(m, sizeof m, r->mean_s, 2), num_text(p95, sizeof p95, r->p95_s, 2),
		       num_text(mw, sizeof mw, r->mean_after_warmup_s, 2),
		       num_text(ms, sizeof ms, r->makespan_s, 1),
		       num_text(tp, sizeof tp, r->throughput_per_s, 3), r->failures,
		       r->deadline_misses, r->unplaced,
		       ratio_text(ratio, sizeof ratio, r->mean_after_warmup_s, oracle_mean),
		       ratio_text(rb, sizeof rb, r->mean_after_warmup_s, bound));
	}
	if (isfinite(bound))
		printf("%-*s %9s %9s %11.2f\n", nw_name, "lower bound", "", "", bound);
	/* Tests per worker and type: all of it is in --json; the table shows
	 * what fits a terminal. */
	uint32_t nw = su->n_workers, nt = su->stream->n_types, show = nw < 24 ? nw : 24;
	printf("\ntests per worker, all types (%s",
	       nt ? as_text(t, sizeof t, su->stream->types[0]) : "");
	for (uint32_t k = 1; k < nt; k++)
		printf(", %s", as_text(t, sizeof t, su->stream->types[k]));
	printf("; by type in --json)\n%-24s", "worker");
	/* Each column as wide as its run's name: cut to a common width, two
	 * runs of one scheduler read alike ("hardware-aware=f"). */
	for (uint32_t i = 0; i < n_runs; i++)
		printf(" %*s", col_width(runs[i].name), as_text(t, sizeof t, runs[i].name));
	printf("\n");
	for (uint32_t w = 0; w < show; w++) {
		printf("%-24.24s", as_text(t, sizeof t, su->workers[w]->id));
		for (uint32_t i = 0; i < n_runs; i++) {
			uint32_t sum = 0;
			for (uint32_t t = 0; t < nt; t++)
				sum += runs[i].assign[(size_t)w * nt + t];
			printf(" %*u", col_width(runs[i].name), sum);
		}
		printf("\n");
	}
	if (show < nw)
		printf("(%u more workers in --json)\n", nw - show);
}

/* file_write_out's writers: the HTML report of a result document, and a
 * text (--json, --dump-tests). */
static int put_report(FILE *f, void *doc, char *err, size_t errlen)
{
	return report_html(f, doc, err, errlen);
}

typedef struct out_text {
	const char *p;
	size_t len;
} out_text;

static int put_text(FILE *f, void *ctx, char *err, size_t errlen)
{
	const out_text *t = ctx;

	if (fwrite(t->p, 1, t->len, f) != t->len) {
		snprintf(err, errlen, "cannot write: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* ===== The command ========================================================= */

static void warn_to_stderr(void *ctx, const char *msg)
{
	(void)ctx;
	cli_warn(prog, "%s", msg);
}

/* The host's log lines held back while a scheduler opens the second time
 * (open_checked()): its first open said them. */
typedef struct held_log {
	struct {
		int32_t level;
		char *msg;
	} *line;
	size_t n, cap;
} held_log;

static void hold_log(void *ctx, int32_t level, const char *msg)
{
	held_log *hl = ctx;

	if (hl->n == hl->cap) {
		size_t cap = hl->cap ? 2 * hl->cap : 8;
		void *p = realloc(hl->line, cap * sizeof *hl->line);

		if (!p)
			return;
		hl->line = p;
		hl->cap = cap;
	}
	if ((hl->line[hl->n].msg = strdup(msg)))
		hl->line[hl->n++].level = level;
}

/* The stores the runs so far name, resolved (a store's path is relative
 * to the working directory): run[k] the run of path[k]. */
typedef struct run_stores {
	char path[MAX_RUNS * 4][PATH_MAX];
	uint32_t run[MAX_RUNS * 4];
	uint32_t n, now;
	int shared; /* the index of a store an earlier run names too, + 1 */
} run_stores;

static void note_store(void *ctx, const char *path)
{
	run_stores *r = ctx;
	char abs[PATH_MAX], cwd[PATH_MAX];

	if (r->shared || r->n == MAX_RUNS * 4)
		return;
	if (!realpath(path, abs)) {
		if (path[0] == '/' || !getcwd(cwd, sizeof cwd) ||
		    snprintf(abs, sizeof abs, "%s/%s", cwd, path) >= (int)sizeof abs)
			snprintf(abs, sizeof abs, "%s", path);
	}
	for (uint32_t k = 0; k < r->n; k++)
		if (r->run[k] != r->now && !strcmp(r->path[k], abs)) {
			r->shared = (int)k + 1;
			return;
		}
	snprintf(r->path[r->n], sizeof r->path[r->n], "%s", abs);
	r->run[r->n++] = r->now;
}

/*
 * Open the scheduler of sp again for its run, after check_schedulers()
 * opened it once: what the plugin logs as it opens was said then, and is
 * said again only when this open fails after all (a store another run
 * changed).  As sched_open.
 */
static lbs_status open_checked(shim_host *h, const char *plugin, const run_spec *sp,
                               shim_sched **s, char *err, size_t errlen)
{
	held_log hl = {0};
	lbs_status ls;

	host_set_log(h, hold_log, &hl);
	ls = sched_open(h, plugin, sp->scheduler, sp->config, sp->config_len, s, err, errlen);
	host_set_log(h, NULL, NULL);
	for (size_t i = 0; i < hl.n; i++) {
		if (ls != LBS_OK)
			host_logf(h, hl.line[i].level, "%s", hl.line[i].msg);
		free(hl.line[i].msg);
	}
	free(hl.line);
	return ls;
}

/*
 * Read every scheduler's config and open each once, before the first run:
 * a bad entry (a config missing or wrong, a name the plugin does not have)
 * was found only at its turn, after every run before it.  0, or the exit
 * status after the message.
 */
static int check_schedulers(shim_host *h, const sim_opts *o, run_spec *specs,
                            uint32_t n_specs, char *err, size_t errlen)
{
	static run_stores stores; /* 1 MB: not on the stack */

	stores.n = 0;
	stores.shared = 0;
	for (uint32_t i = 0; i < n_specs; i++) {
		run_spec *sp = &specs[i];
		shim_sched *s;
		lbs_status ls;

		if (!strcmp(sp->scheduler, "oracle"))
			continue;
		if (sp->config_file && !(sp->config = file_read_config(sp->config_file,
		                                                       &sp->config_len, err, errlen))) {
			cli_error(prog, "%s", err);
			return EXIT_BAD_INPUT;
		}
		ls = sched_open(h, o->plugin, sp->scheduler, sp->config, sp->config_len, &s, err,
		                errlen);
		if (ls != LBS_OK)
			return cli_open_refused(prog, ls, sp->config_file, err);
		sched_close(s);
		/* A store is on disk and kept: the real one, if the config is
		 * production's. */
		if (sp->config && cli_config_names_store(sp->config, sp->config_len))
			cli_warn(prog, "simulate: %s: %s names a store: it learns and "
			         "keeps this run's simulated outcomes (run on a copy of the store, or "
			         "without \"store\", to leave it as it is)", sp->name,
			         sp->config_file);
		/* Runs one after another on one store: a later one started
		 * from what the earlier learned of this very stream, and one
		 * scheduler twice gave two rows. */
		stores.now = i;
		if (sp->config)
			cli_config_stores(sp->config, sp->config_len, note_store, &stores);
		if (stores.shared) {
			cli_error(prog, "simulate: runs %u (%s) and %u (%s) name one store, %s: the "
			          "later would start from what the earlier learned of this stream, "
			          "and the comparison would not be fair; give each run its own copy",
			          stores.run[stores.shared - 1] + 1,
			          specs[stores.run[stores.shared - 1]].name, i + 1, sp->name,
			          stores.path[stores.shared - 1]);
			return EXIT_BAD_INPUT;
		}
	}
	return 0;
}

/*
 * A truth's speed for a type no test of the stream has is never used.
 * Mostly it is a test type that names two types: the first word of one in
 * it decides, in the original's order ("embedding_text" is NLP, its
 * "text" first), and the speeds written for the other were dead while the
 * run looked right.  One line, which says the rule.
 */
static void unused_speeds(const truth *tr, const stream *st, const char *truth_file,
                          const char *tests_name)
{
	uint32_t used = 0, unused;
	char names[256] = "", have[256] = "";
	size_t at = 0, hat = 0;

	for (uint32_t i = 0; i < st->n; i++)
		if (st->t[i].wl.type < LBS_WL_COUNT)
			used |= 1u << st->t[i].wl.type;
	/* and every type of a mix, drawn or not (a short stream of a mix
	 * with both types would name them) */
	for (uint32_t k = 0; k < st->n_types; k++)
		used |= 1u << tax_workload_from_test_type(st->types[k]);
	if (!(unused = tr->named & ~used))
		return;
	for (uint32_t t = 0; t < LBS_WL_COUNT; t++) {
		const char *n = tax_workload_name(t);

		if ((unused >> t) & 1 && at < sizeof names)
			at += (size_t)snprintf(names + at, sizeof names - at, "%s%s", at ? ", " : "", n);
		if ((used >> t) & 1 && hat < sizeof have)
			hat += (size_t)snprintf(have + hat, sizeof have - hat, "%s%s", hat ? ", " : "", n);
	}
	cli_warn(prog, "simulate: %s: its speeds for %s are used by no test of %s, whose tests "
	         "are %s (a test type is the first workload word in it, in the original's "
	         "order: 'embedding_text' is NLP)", truth_file, names, tests_name, have);
}

int cmd_simulate(const char *prog_name, int argc, char **argv)
{
	sim_opts o;
	run_spec specs[MAX_RUNS];
	sim_run runs[MAX_RUNS];
	uint32_t n_specs = 0, n_runs = 0;
	shim_host *h = NULL;
	arena *a = NULL;
	char err[2048];
	char *fleet = NULL, *truth_text = NULL, *tests = NULL;
	size_t fleet_len, truth_len, tests_len;
	lbs_worker **workers = NULL;
	uint32_t n_workers = 0;
	truth tr;
	stream st;
	FILE *dump = NULL;
	char *dumped = NULL;
	size_t dumped_len = 0;
	int rc = EXIT_BAD_INPUT;
	int close_lost = 0; /* an error was logged as a run's scheduler closed */
	double oracle_mean = NAN;
	const char *st_name = NULL;

	prog = prog_name;
	memset(specs, 0, sizeof specs);
	{
		/* --graphs=G.jsonl too, and not "--graphs" as another
		 * option's value (--workers --graphs). */
		const cli_cmd *both[] = {&simulate_cmd, &graphsim_cmd};
		int g = cli_has_option(both, 2, argc, argv, "graphs");
		if (g < 0) {
			cli_error(prog, "simulate: out of memory");
			return EXIT_BAD_INPUT;
		}
		if (g)
			return cmd_graphsim(prog, argc, argv);
	}
	int parsed = parse_opts(argc, argv, &o);
	if (parsed)
		return parsed < 0 ? 0 : parsed;
	if (parse_compare(&o, specs, &n_specs))
		return EXIT_USAGE;
	cli_stop_on_signals();
	if (!(a = arena_new()) || !(h = host_new(prog, LBS_LOG_WARN))) {
		cli_error(prog, "simulate: out of memory");
		goto out;
	}
	conv_warns warns = {0};
	conv_ctx c = {a, warn_to_stderr, NULL, err, sizeof err, &warns};
	if ((o.json && file_check_out(o.json, err, sizeof err)) ||
	    (o.report && file_check_out(o.report, err, sizeof err)) ||
	    (o.dump && file_check_out(o.dump, err, sizeof err)))
		goto bad;
	if (!(fleet = fleet_source_read(o.workers, o.redis_password, o.redis_insecure,
	                                warn_to_stderr, NULL, &fleet_len, err, sizeof err)) ||
	    conv_fleet(&c, fleet, fleet_len, o.workers, &workers, &n_workers) ||
	    !(truth_text = file_read(o.truth, &truth_len, err, sizeof err)) ||
	    truth_load(&c, truth_text, truth_len, o.truth, (const lbs_worker *const *)workers,
	               n_workers, &tr))
		goto bad;
	/* The stream is kept in memory and written once every input is
	 * read: a dump named like an input, or a run refused on bad input,
	 * leaves that file as it was. */
	if (o.dump && !(dump = open_memstream(&dumped, &dumped_len))) {
		snprintf(err, sizeof err, "%s: out of memory", o.dump);
		goto bad;
	}
	if (o.mix) {
		int made;

		if (!(tests = file_read(o.mix, &tests_len, err, sizeof err)))
			goto bad;
		made = stream_from_mix(&c, tests, tests_len, o.mix, o.tests, o.rate, o.seed, dump,
		                       &st);
		if (made == -2) {
			conv_warn_summary(&c);
			rc = cli_usage_error(prog, &simulate_cmd, "--tests %u at --rate %s runs past "
			                     "%.0f s, the latest arrival_s a tests file takes (%s); "
			                     "give fewer tests or a higher rate", o.tests, o.rate_text,
			                     STREAM_MAX_ARRIVAL_S, err);
			goto out;
		}
		if (made)
			goto bad;
	} else {
		st_name = strcmp(o.tests_file, "-") ? o.tests_file : "<stdin>";
		if (!(tests = file_read(o.tests_file, &tests_len, err, sizeof err)) ||
		    stream_from_lines(&c, tests, tests_len, st_name, o.seed, dump, &st))
			goto bad;
	}
	conv_warn_summary(&c); /* the inputs are all read */
	if (dump) {
		int failed = fclose(dump);

		dump = NULL;
		if (failed) {
			snprintf(err, sizeof err, "%s: out of memory", o.dump);
			goto bad;
		}
		/* What is dumped must replay, and --tests-file reads no more
		 * than this: a dump past it was written, and refused when read
		 * back.  Said before the run, with how many tests would fit. */
		if (dumped_len > FILE_MAX_BYTES) {
			rc = cli_usage_error(prog, &simulate_cmd, "--dump-tests %s: the stream's %u "
			                     "tests take %zu MiB, more than the %u MiB --tests-file "
			                     "reads back; dump at most about %.0f tests", o.dump, st.n,
			                     (dumped_len + (1u << 20) - 1) >> 20, FILE_MAX_BYTES >> 20,
			                     floor((double)st.n * FILE_MAX_BYTES / (double)dumped_len));
			goto out;
		}
		if (file_write_out(o.dump, put_text, &(out_text){dumped, dumped_len}, err,
		                   sizeof err))
			goto bad;
	}

	progress pr = {.tty = isatty(2) && !o.quiet};
	sim_setup su = {
		.workers = workers, .n_workers = n_workers, .truth = &tr, .stream = &st,
		.warmup = o.warmup < st.n ? o.warmup : 0,
		.curve_window = o.window, .progress = show_progress, .progress_ctx = &pr,
		.stop = &cli_stop,
	};
	/* Every figure of such a run would be a dash: the stream and the fleet
	 * do not fit, and that is the input's mistake, not a result. */
	int placeable = sim_any_placeable(&su);
	if (placeable < 0) {
		snprintf(err, sizeof err, "simulate: out of memory");
		goto bad;
	}
	if (!placeable) {
		snprintf(err, sizeof err, "%s: no worker in %s can take any of its %u tests (check "
		         "required_backend, required_accelerators and minimum_memory against the "
		         "fleet)", o.mix ? o.mix : st_name, o.workers, st.n);
		goto bad;
	}
	unused_speeds(&tr, &st, o.truth, o.mix ? o.mix : st_name);
	if (o.warmup >= st.n)
		cli_warn(prog, "--warmup %u is not below the %u tests; "
		         "the after-warm-up mean uses every test", o.warmup, st.n);
	int refused = check_schedulers(h, &o, specs, n_specs, err, sizeof err);
	if (refused) {
		rc = refused;
		goto out;
	}
	for (uint32_t i = 0; i < n_specs; i++) {
		run_spec *sp = &specs[i];
		shim_sched *s = NULL;
		lbs_status ls;
		int bad;

		if (strcmp(sp->scheduler, "oracle")) {
			ls = open_checked(h, o.plugin, sp, &s, err, sizeof err);
			if (ls != LBS_OK) {
				rc = cli_open_refused(prog, ls, sp->config_file, err);
				goto out;
			}
		}
		pr.what = sp->name;
		clock_gettime(CLOCK_MONOTONIC, &pr.t0);
		bad = sim_execute(&su, s, sp->name, &runs[n_runs], err, sizeof err);
		/* The engine reports arrivals; a run whose last events took it past
		 * the second still gets its line. */
		if (!bad)
			show_progress(&pr, 1.0);
		if (o.timing && !bad)
			cli_error(prog, "simulate: %s: %u tests on %u workers in %.3f s",
			          sp->name, st.n, n_workers, since(&pr.t0));
		if (!bad && s)
			runs[n_runs].stats = sched_stats_text(s);
		uint64_t errors = host_errors(h);

		sched_close(s);
		close_lost |= host_errors(h) > errors;
		if (pr.shown) {
			fprintf(stderr, "\r%*s\r", 60, "");
			pr.shown = 0;
		}
		/* Stopped by a signal: its scheduler is closed, so what it
		 * learned is committed; no figure of a part of a stream. */
		if (bad > 0) {
			rc = cli_interrupted(prog, "simulate", close_lost,
			                     "%u of %u tests%s%s", runs[n_runs].tests, st.n,
			                     n_specs > 1 ? " of run " : "", n_specs > 1 ? sp->name : "");
			sim_run_free(&runs[n_runs], n_workers);
			goto out;
		}
		if (bad)
			goto bad;
		n_runs++;
		if (!strcmp(sp->scheduler, "oracle"))
			oracle_mean = runs[n_runs - 1].mean_after_warmup_s;
	}
	/* Every run is whole, but the user asked to stop: what would be
	 * written is left unwritten, all of it alike. */
	if (cli_stop) {
		rc = cli_interrupted(prog, "simulate", close_lost, "%u of %u tests", st.n, st.n);
		goto out;
	}
	double bound = sim_lower_bound(&su);

	/* An output on standard output takes the table's place there:
	 * both would be one stream, neither to be parsed. */
	if (!file_is_stdout(o.json) && !file_is_stdout(o.report) && !file_is_stdout(o.dump))
		print_table(&su, runs, n_runs, oracle_mean, bound);
	if (o.json || o.report) {
		cJSON *doc = result_json(&o, &su, runs, n_runs, oracle_mean, bound);
		char *text = doc ? cJSON_PrintUnformatted(doc) : NULL;
		int failed = 0;

		if (!doc || (o.json && !text)) {
			free(text);
			cJSON_Delete(doc);
			cli_error(prog, "simulate: out of memory");
			goto out;
		}
		if (o.json) {
			size_t len = strlen(text);

			text[len] = '\n'; /* the line's end in place of the NUL */
			failed = file_write_out(o.json, put_text, &(out_text){text, len + 1}, err,
			                        sizeof err);
		}
		if (!failed && o.report)
			failed = file_write_out(o.report, put_report, doc, err, sizeof err);
		free(text);
		cJSON_Delete(doc);
		if (failed) {
			/* a write into a pipe (--json -) the signal cut short */
			if (cli_stop)
				rc = cli_interrupted(prog, "simulate", close_lost, "%u of %u tests", st.n, st.n);
			else
				cli_error(prog, "%s", err);
			goto out;
		}
	}
	rc = 0;
	goto out;
bad:
	conv_warn_summary(&c);
	/* A read of a pipe (--tests-file -) the signal cut short is its
	 * error: one line, the signal's. */
	if (cli_stop)
		rc = cli_interrupted(prog, "simulate", close_lost, "0 tests");
	else
		cli_error(prog, "%s", err);
out:
	if (dump)
		fclose(dump);
	free(dumped);
	for (uint32_t i = 0; i < n_runs; i++)
		sim_run_free(&runs[i], n_workers);
	for (uint32_t i = 0; i < n_specs; i++)
		free(specs[i].config);
	host_free(h);
	arena_free(a);
	free(fleet);
	free(truth_text);
	free(tests);
	return rc;
}
