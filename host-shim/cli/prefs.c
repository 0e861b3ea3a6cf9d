/*
 * prefs.c -- the `prefs` command of lbsched-shim.
 *
 *   prefs export --db DIR            the store as JSON on stdout
 *   prefs dump   --db DIR            the same as a table for people
 *   prefs import --db DIR [--replace] FILE|-   all or nothing
 *   prefs reset  --db DIR            forget everything learned
 *   prefs dump   --redis CONFIG      the fleet's totals in Redis, as a table
 *   prefs export --redis CONFIG      ... as JSON
 *   prefs sync   --redis CONFIG      push the store's unsent evidence, pull
 *                                    the totals, once (CONFIG: a scheduler
 *                                    config whose "store" has "fleet")
 *   (each takes --plugin PATH; default: the plugin built alongside)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <lbsched/fleet.h>

#include "file.h"
#include "host.h"
#include "prefs.h"
#include "text.h"
#include "textbuf.h"

static void print_table(const char *json)
{
	cJSON *doc = cJSON_Parse(json);
	const cJSON *r;
	int n = 0;

	printf("%-15s %-28s %8s %8s %10s %12s %10s\n", "workload_type", "worker", "samples",
	       "success", "preference", "mean_s", "stddev_s");
	cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(doc, "records")) {
		double samples = cJSON_GetNumberValue(cJSON_GetObjectItem(r, "samples"));
		double ok = cJSON_GetNumberValue(cJSON_GetObjectItem(r, "successes"));
		char type[96], worker[96];

		/* Ids are whatever hosts reported: no ESC or newline reaches
		 * the terminal. */
		printf("%-15s %-28s %8.0f %7.1f%% %10.3f %12.3f %10.3f\n",
		       txt_show(type, sizeof type,
		                cJSON_GetStringValue(cJSON_GetObjectItem(r, "workload_type"))),
		       txt_show(worker, sizeof worker,
		                cJSON_GetStringValue(cJSON_GetObjectItem(r, "worker"))), samples,
		       samples > 0 ? 100.0 * ok / samples : 0.0,
		       cJSON_GetNumberValue(cJSON_GetObjectItem(r, "preference")),
		       cJSON_GetNumberValue(cJSON_GetObjectItem(r, "mean_duration")),
		       sqrt(cJSON_GetNumberValue(cJSON_GetObjectItem(r, "var_duration"))));
		n++;
	}
	printf("%d records\n", n);
	cJSON_Delete(doc);
}

/* The plugin's answer, held until it was whole (`export > f; import
 * --replace f` must not wipe a store with the empty document of a
 * failure): a table for dump, the text as it is otherwise. */
static lbs_status print_answer(const char *verb, lbs_status st, textbuf *m, const char *what,
                               char *err, size_t errlen)
{
	plugin_text(err, errlen);
	if (st == LBS_OK && (!m->p || m->failed)) {
		snprintf(err, errlen, "%s: out of memory holding the answer", what);
		st = LBS_ENOMEM;
	}
	if (st == LBS_OK && verb[0] == 'd')
		print_table(m->p);
	else if (st == LBS_OK && (fwrite(m->p, 1, m->len, stdout) != m->len || fflush(stdout))) {
		snprintf(err, errlen, "cannot write to standard output");
		st = LBS_EIO;
	}
	textbuf_free(m);
	return st;
}

/* prefs dump|export|sync --redis CONFIG: through the plugin's
 * "lbs.ext.fleet/1", which does the Redis I/O. */
static int fleet_prefs(const char *prog, const char *verb, const char *config,
                       const char *plugin)
{
	char err[1024] = "";
	size_t len;
	char *text = file_read(config, &len, err, sizeof err);
	shim_host *h;
	loaded_plugin *p;
	const lbs_host_api *api;
	const lbs_ext_fleet *ext;
	textbuf m = {0};
	lbs_status st;

	if (!text) {
		fprintf(stderr, "%s: prefs %s: %s\n", prog, verb, err);
		return 1;
	}
	h = host_new(prog, LBS_LOG_WARN);
	if (!h) {
		free(text);
		return 1;
	}
	st = host_load(h, plugin ? plugin : host_default_plugin(), &p, &api, err, sizeof err);
	if (st != LBS_OK) {
		fprintf(stderr, "%s: %s\n", prog, err);
		host_free(h);
		free(text);
		return st == LBS_EVERSION ? 2 : 1;
	}
	ext = loader_extension(p, LBS_EXT_FLEET);
	if (!ext || ext->struct_size < sizeof *ext) {
		fprintf(stderr, "%s: %s: the plugin has no fleet learning (no extension %s)\n", prog,
		        loader_path(p), LBS_EXT_FLEET);
		host_free(h);
		free(text);
		return 1;
	}
	if (!strcmp(verb, "sync"))
		st = ext->sync(api, text, len, textbuf_write, &m, err, sizeof err);
	else
		st = ext->totals_json(api, text, len, textbuf_write, &m, err, sizeof err);
	free(text);
	st = print_answer(verb, st, &m, "fleet", err, sizeof err);
	if (st != LBS_OK)
		fprintf(stderr, "%s: prefs %s: %s\n", prog, verb, err);
	host_free(h);
	fflush(stdout);
	return st == LBS_OK ? 0 : 1;
}

int cmd_prefs(const char *prog, int argc, char **argv)
{
	const char *verb = argc > 0 ? argv[0] : "", *db = NULL, *plugin = NULL, *file = NULL;
	const char *redis = NULL;
	int replace = 0, rc = 0;
	char err[1024] = "";
	shim_host *h;
	loaded_plugin *p;
	const lbs_host_api *api;
	const lbs_ext_store *ext;
	lbs_status st;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--db") && i + 1 < argc)
			db = argv[++i];
		else if (!strcmp(argv[i], "--redis") && i + 1 < argc)
			redis = argv[++i];
		else if (!strcmp(argv[i], "--plugin") && i + 1 < argc)
			plugin = argv[++i];
		else if (!strcmp(argv[i], "--replace"))
			replace = 1;
		else if (!file && (argv[i][0] != '-' || !strcmp(argv[i], "-")))
			file = argv[i];
		else {
			fprintf(stderr, "%s: prefs: unexpected argument '%s'\n", prog, argv[i]);
			return 1;
		}
	}
	if (strcmp(verb, "dump") && strcmp(verb, "export") && strcmp(verb, "import") &&
	    strcmp(verb, "reset") && strcmp(verb, "sync")) {
		fprintf(stderr, "%s: prefs: unknown action '%s' (dump, export, import, reset, sync)\n",
		        prog, verb);
		return 1;
	}
	if (redis || !strcmp(verb, "sync")) {
		if (!redis || db || (strcmp(verb, "dump") && strcmp(verb, "export") &&
		                     strcmp(verb, "sync"))) {
			fprintf(stderr, "%s: prefs %s: %s\n", prog, verb,
			        !redis ? "--redis CONFIG is required"
			               : "--redis goes with dump, export or sync, without --db");
			return 1;
		}
		return fleet_prefs(prog, verb, redis, plugin);
	}
	if (!db) {
		fprintf(stderr, "%s: prefs %s: --db DIR is required\n", prog, verb);
		return 1;
	}
	if (!strcmp(verb, "import") && !file) {
		fprintf(stderr, "%s: prefs import: give the export FILE (or - for stdin)\n", prog);
		return 1;
	}
	h = host_new(prog, LBS_LOG_WARN);
	if (!h)
		return 1;
	st = host_load(h, plugin ? plugin : host_default_plugin(), &p, &api, err, sizeof err);
	if (st != LBS_OK) {
		fprintf(stderr, "%s: %s\n", prog, err);
		host_free(h);
		return st == LBS_EVERSION ? 2 : 1;
	}
	ext = loader_extension(p, LBS_EXT_STORE);
	if (!ext || ext->struct_size < sizeof *ext) {
		fprintf(stderr, "%s: %s: the plugin has no learned store (no extension %s)\n", prog,
		        loader_path(p), LBS_EXT_STORE);
		host_free(h);
		return 1;
	}
	if (!strcmp(verb, "export") || !strcmp(verb, "dump")) {
		textbuf m = {0};
		char what[600];

		snprintf(what, sizeof what, "store '%s'", db);
		st = ext->export_json(api, db, textbuf_write, &m, err, sizeof err);
		st = print_answer(verb, st, &m, what, err, sizeof err);
	} else if (!strcmp(verb, "reset")) {
		st = ext->reset(api, db, err, sizeof err);
		plugin_text(err, sizeof err);
	} else {
		size_t len;
		char *text = file_read(file, &len, err, sizeof err);
		if (!text) {
			st = LBS_EINVAL;
		} else {
			char inner[900];
			st = ext->import_json(api, db, text, len,
			                      replace ? LBS_IMPORT_REPLACE : LBS_IMPORT_MERGE, inner,
			                      sizeof inner);
			plugin_text(inner, sizeof inner);
			if (st != LBS_OK)
				snprintf(err, sizeof err, "%s: %s; nothing was imported",
				         strcmp(file, "-") ? file : "<stdin>", inner);
			free(text);
		}
	}
	if (st != LBS_OK) {
		fprintf(stderr, "%s: prefs %s: %s\n", prog, verb, err);
		rc = 1;
	}
	host_free(h);
	fflush(stdout);
	return rc;
}
