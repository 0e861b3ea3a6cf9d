/*
 * prefs.c -- the `prefs` command of lbsched-shim: dump, export, import and
 * reset a learned store (prefs_cmd says each).
 */
#include <math.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <lbsched/abi.h>

#include "file.h"
#include "host.h"
#include "prefs.h"
#include "text.h"
#include "textbuf.h"

enum { P_DB, P_REDIS, P_PLUGIN, P_REPLACE };

static const cli_opt prefs_opts[] = {
	[P_DB] = {"db", "DIR", "the store's directory (required but with --redis)"},
	[P_REDIS] = {"redis", "CONFIG", "dump, export: the fleet's totals in Redis instead of a "
	             "store; sync: push the store's unsent evidence and pull the totals, once "
	             "(CONFIG: a scheduler config whose \"store\" has \"fleet\")"},
	[P_PLUGIN] = {"plugin", "PATH", "the plugin whose store it is (default: "
	              HOST_DEFAULT_PLUGIN_TEXT ")"},
	[P_REPLACE] = {"replace", NULL, "import: replace the store's records instead of merging "
	               "into them"},
	{NULL, NULL, NULL},
};

const cli_cmd prefs_cmd = {
	"prefs",
	"dump|export|import|reset --db DIR [OPTION]... [FILE] | dump|export|sync --redis CONFIG",
	"Read or change what a learning scheduler learned: dump prints the store as a table, "
	"export as JSON on standard output, import FILE (- for standard input) takes such an "
	"export back, all or nothing, and reset forgets everything; with --redis, the fleet's "
	"totals, and sync.",
	"docs/STORE.md describes the store, the export format and fleet learning.",
	prefs_opts,
	cmd_prefs,
	NULL,
	NULL,
};

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
		/* said here: main's check is not to say it twice */
		__fpurge(stdout);
		clearerr(stdout);
	}
	textbuf_free(m);
	return st;
}

/* prefs dump|export|sync --redis CONFIG: through the plugin's
 * "lbs.ext.fleet/1", which does the Redis I/O. */
static int fleet_prefs(const char *prog, const char *verb, const char *config,
                       const char *plugin)
{
	char err[2048] = "";
	size_t len;
	char *text = file_read_config(config, &len, err, sizeof err);
	shim_host *h;
	loaded_plugin *p;
	const lbs_host_api *api;
	const lbs_ext_fleet *ext;
	textbuf m = {0};
	lbs_status st;

	if (!text) {
		cli_error(prog, "prefs %s: %s", verb, err);
		return 1;
	}
	h = host_new(prog, LBS_LOG_WARN);
	if (!h) {
		free(text);
		return 1;
	}
	st = host_load(h, plugin ? plugin : host_default_plugin(), &p, &api, err, sizeof err);
	if (st != LBS_OK) {
		cli_error(prog, "%s", err);
		host_free(h);
		free(text);
		return st == LBS_EVERSION ? 2 : 1;
	}
	ext = loader_extension(p, LBS_EXT_FLEET);
	if (ext && ext->struct_size >= sizeof *ext &&
	    (strcmp(verb, "sync") ? !ext->totals_json : !ext->sync)) {
		/* A NULL slot was called: the CLI crashed. */
		cli_error(prog, "%s: its extension %s has no %s: it cannot do prefs %s",
		          loader_path(p), LBS_EXT_FLEET, strcmp(verb, "sync") ? "totals_json" : "sync",
		          verb);
		host_free(h);
		free(text);
		return 1;
	}
	if (!ext || ext->struct_size < sizeof *ext) {
		cli_error(prog, "%s: the plugin has no fleet learning (no extension %s)",
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
	/* The config's own faults name it, as decide's do. */
	if (st == LBS_ECONFIG)
		cli_error(prog, "prefs %s: %s: %s", verb, config, err);
	else if (st != LBS_OK)
		cli_error(prog, "prefs %s: %s", verb, err);
	host_free(h);
	fflush(stdout);
	return st == LBS_OK ? 0 : 1;
}

int cmd_prefs(const char *prog, int argc, char **argv)
{
	const char *verb, *db, *plugin, *file, *redis;
	int replace, rc;
	/* Room for the file's name and the store's whole message: a store
	 * path may be 1,024 bytes, and its message says it twice. */
	char err[4096] = "";
	shim_host *h;
	loaded_plugin *p;
	const lbs_host_api *api;
	const lbs_ext_store *ext;
	lbs_status st;
	const char *v[CLI_MAX_OPTS];
	int first;

	rc = cli_parse(prog, &prefs_cmd, argc, argv, v, &first);
	if (rc)
		return rc < 0 ? 0 : rc;
	db = v[P_DB];
	redis = v[P_REDIS];
	plugin = v[P_PLUGIN];
	replace = v[P_REPLACE] != NULL;
	verb = first < argc ? argv[first++] : "";
	file = first < argc ? argv[first++] : NULL;
	if (first < argc)
		return cli_usage_error(prog, &prefs_cmd, "unexpected argument '%s'", argv[first]);
	if (!*verb)
		return cli_usage_error(prog, &prefs_cmd, "an action is needed: dump, export, import, "
		                       "reset or sync");
	if (strcmp(verb, "dump") && strcmp(verb, "export") && strcmp(verb, "import") &&
	    strcmp(verb, "reset") && strcmp(verb, "sync"))
		return cli_usage_error(prog, &prefs_cmd, "unknown action '%s' (dump, export, import, "
		                       "reset, sync)", verb);
	if (file && strcmp(verb, "import"))
		return cli_usage_error(prog, &prefs_cmd, "%s: unexpected argument '%s'", verb, file);
	if (replace && strcmp(verb, "import"))
		return cli_usage_error(prog, &prefs_cmd, "%s: --replace goes with import only", verb);
	if (redis || !strcmp(verb, "sync")) {
		if (!redis)
			return cli_usage_error(prog, &prefs_cmd, "%s: --redis CONFIG is required", verb);
		if (strcmp(verb, "dump") && strcmp(verb, "export") && strcmp(verb, "sync"))
			return cli_usage_error(prog, &prefs_cmd, "%s: --redis goes with dump, export or "
			                       "sync", verb);
		if (db)
			return cli_usage_error(prog, &prefs_cmd, "%s: --redis and --db are exclusive "
			                       "(CONFIG names the fleet, and for sync the store)",
			                       verb);
		return fleet_prefs(prog, verb, redis, plugin);
	}
	if (!db)
		return cli_usage_error(prog, &prefs_cmd, "--db DIR is required");
	if (!strcmp(verb, "import") && !file)
		return cli_usage_error(prog, &prefs_cmd, "import: give the export FILE (or - for "
		                       "standard input)");
	h = host_new(prog, LBS_LOG_WARN);
	if (!h)
		return 1;
	st = host_load(h, plugin ? plugin : host_default_plugin(), &p, &api, err, sizeof err);
	if (st != LBS_OK) {
		cli_error(prog, "%s", err);
		host_free(h);
		return st == LBS_EVERSION ? EXIT_REFUSED : EXIT_BAD_INPUT;
	}
	ext = loader_extension(p, LBS_EXT_STORE);
	if (!ext || ext->struct_size < sizeof *ext) {
		cli_error(prog, "%s: the plugin has no learned store (no extension %s)",
		          loader_path(p), LBS_EXT_STORE);
		host_free(h);
		return 1;
	}
	{
		/* A NULL slot was called: the CLI crashed. */
		const char *slot = !strcmp(verb, "reset") ? (ext->reset ? NULL : "reset")
		                   : !strcmp(verb, "import") ? (ext->import_json ? NULL : "import_json")
		                   : ext->export_json ? NULL : "export_json";

		if (slot) {
			cli_error(prog, "%s: its extension %s has no %s: it cannot do prefs %s",
			          loader_path(p), LBS_EXT_STORE, slot, verb);
			host_free(h);
			return 1;
		}
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
			char inner[3072];
			st = ext->import_json(api, db, text, len,
			                      replace ? LBS_IMPORT_REPLACE : LBS_IMPORT_MERGE, inner,
			                      sizeof inner);
			plugin_text(inner, sizeof inner);
			/* The file is named for what is wrong in it; the
			 * store's faults name the store ("store '...': ..."). */
			if (st == LBS_EINVAL && strncmp(inner, "store '", 7))
				snprintf(err, sizeof err, "%s: %s; nothing was imported",
				         strcmp(file, "-") ? file : "<stdin>", inner);
			else if (st != LBS_OK)
				snprintf(err, sizeof err, "%s; nothing was imported", inner);
			free(text);
		}
	}
	if (st != LBS_OK) {
		cli_error(prog, "prefs %s: %s", verb, err);
		rc = 1;
	}
	host_free(h);
	fflush(stdout);
	return rc;
}
