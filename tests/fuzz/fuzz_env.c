/*
 * fuzz_env.c -- the fixtures and checks every fuzz target shares.
 */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <sanitizer/common_interface_defs.h>

#include "convert.h"
#include "file.h"
#include "fuzz_env.h"
#include "text.h"
#include "textbuf.h"

/* The source tree, for the examples; meson passes it, $LBS_SRCDIR wins. */
#ifndef FUZZ_SRCDIR
#define FUZZ_SRCDIR "."
#endif

#define CAPACITY 64

/* ---- the sandbox --------------------------------------------------------- */

static char sandbox[PATH_MAX];

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static void remove_sandbox(void)
{
	/* Leave the directory first: some systems refuse to remove the cwd. */
	if (sandbox[0] && chdir("/") == 0)
		nftw(sandbox, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

void fuzz_fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "fuzz: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	/* abort() skips atexit; a crash minimisation would leave hundreds. */
	remove_sandbox();
	abort();
}

/* The flags of libFuzzer whose value is one path (-seed_inputs takes a
 * list: give it absolute paths). */
static const char *const path_flags[] = {
	"-dict=", "-artifact_prefix=", "-exact_artifact_path=", "-merge_control_file=",
	"-features_dir=", "-data_flow_trace=", NULL,
};

/* `arg` with its path made absolute against `cwd` (prefix kept). */
static char *absolute(const char *arg, size_t prefix, const char *cwd)
{
	size_t n = strlen(arg) + strlen(cwd) + 2;
	char *out;

	if (arg[prefix] == '/' || arg[prefix] == '\0')
		return (char *)arg;
	if (!(out = malloc(n)))
		fuzz_fail("out of memory");
	snprintf(out, n, "%.*s%s/%s", (int)prefix, arg, cwd, arg + prefix);
	return out;
}

void fuzz_sandbox(int *argc, char ***argv)
{
	/* Static, so that the rewritten arguments stay reachable. */
	static char **args;
	static char cwd[PATH_MAX];
	const char *tmp = getenv("TMPDIR");
	int n = *argc, k = 0, has_prefix = 0;

	if (sandbox[0])
		return;
	if (!getcwd(cwd, sizeof cwd - 1))
		fuzz_fail("cannot read the working directory");
	if (!(args = calloc((size_t)n + 2, sizeof *args)))
		fuzz_fail("out of memory");
	for (int i = 0; i < n; i++) {
		const char *a = (*argv)[i];
		size_t prefix = 0;

		if (i > 0 && a[0] == '-') {
			prefix = SIZE_MAX;
			for (const char *const *f = path_flags; *f; f++)
				if (!strncmp(a, *f, strlen(*f)))
					prefix = strlen(*f);
			has_prefix |= !strncmp(a, "-artifact_prefix=", 17);
		}
		args[k++] = i == 0 || prefix == SIZE_MAX ? (char *)a : absolute(a, prefix, cwd);
	}
	if (!has_prefix) {
		size_t len = strlen(cwd) + 20;
		if (!(args[k] = malloc(len)))
			fuzz_fail("out of memory");
		snprintf(args[k++], len, "-artifact_prefix=%s/", cwd);
	}
	*argc = k;
	*argv = args;

	/* Without a TMPDIR, memory: every store commit is an fsync, which on
	 * a disk costs more than the rest of the input. */
	if (!tmp || !*tmp)
		tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(sandbox, sizeof sandbox, "%s/lbsched-fuzz.XXXXXX", tmp);
	if (!mkdtemp(sandbox) || chdir(sandbox))
		fuzz_fail("cannot make the sandbox %s", sandbox);
	atexit(remove_sandbox);
	/* ASan and UBSan reports end in _exit, past atexit. */
	__sanitizer_set_death_callback(remove_sandbox);
}

/* ---- host and plugin ----------------------------------------------------- */

static void host_log(void *ctx, int32_t level, const char *msg)
{
	(void)ctx;
	if (level == LBS_LOG_PLUGIN_MISBEHAVING)
		fuzz_fail("the host caught the plugin misbehaving: %s", msg);
}

shim_host *fuzz_host(void)
{
	static shim_host *h;

	if (!h) {
		h = host_new("lbsched-fuzz", LBS_LOG_PLUGIN_MISBEHAVING);
		if (!h)
			fuzz_fail("out of memory");
		host_set_log(h, host_log, NULL);
	}
	return h;
}

const char *fuzz_plugin_path(void)
{
	static char path[PATH_MAX];
	const char *env = getenv("LBS_FUZZ_PLUGIN");
	char *slash;
	ssize_t n;

	if (env && *env)
		return env;
	if (path[0])
		return path;
	n = readlink("/proc/self/exe", path, sizeof path - 32);
	if (n <= 0)
		fuzz_fail("cannot find the executable; set LBS_FUZZ_PLUGIN");
	path[n] = '\0';
	slash = strrchr(path, '/');
	strcpy(slash ? slash + 1 : path, "lbsched-fuzz.so");
	return path;
}

loaded_plugin *fuzz_plugin(const lbs_host_api **api)
{
	static loaded_plugin *p;
	static const lbs_host_api *a;
	char err[512];

	if (!p && host_load(fuzz_host(), fuzz_plugin_path(), &p, &a, err, sizeof err) != LBS_OK)
		fuzz_fail("%s", err);
	if (api)
		*api = a;
	return p;
}

shim_sched *fuzz_sched(const char *name, const char *config)
{
	shim_sched *s;
	char err[1024];

	fuzz_plugin(NULL);
	if (sched_open(fuzz_host(), fuzz_plugin_path(), name, config, config ? strlen(config) : 0, &s,
	               err, sizeof err) != LBS_OK)
		fuzz_fail("fixture %s: %s", name, err);
	return s;
}

void fuzz_four_scheds(shim_sched *out[4], int vote)
{
	char cfg[300];

	snprintf(cfg, sizeof cfg, "{%s\"children\": ["
	         "{\"scheduler\": \"hardware-aware\", \"weight\": 0.7},"
	         "{\"scheduler\": \"priority\", \"weight\": 0.2},"
	         "{\"scheduler\": \"round-robin\", \"weight\": 0.1}]}",
	         vote ? "\"mode\": \"vote\", " : "");
	out[0] = fuzz_sched("round-robin", NULL);
	out[1] = fuzz_sched("priority", NULL);
	out[2] = fuzz_sched("hardware-aware", NULL);
	out[3] = fuzz_sched("composite", cfg);
}

/* ---- the examples -------------------------------------------------------- */

static char *example(const char *name, size_t *len)
{
	const char *root = getenv("LBS_SRCDIR");
	char path[PATH_MAX], err[512];
	char *text;

	snprintf(path, sizeof path, "%s/examples/%s", root && *root ? root : FUZZ_SRCDIR, name);
	text = file_read(path, len, err, sizeof err);
	if (!text)
		fuzz_fail("%s (set LBS_SRCDIR to the source tree)", err);
	return text;
}

static arena *fixtures;

static conv_ctx fixture_ctx(char *err, size_t errlen)
{
	if (!fixtures && !(fixtures = arena_new()))
		fuzz_fail("out of memory");
	return (conv_ctx){fixtures, NULL, NULL, err, errlen, NULL};
}

void fuzz_fleet(const char *name, lbs_worker ***workers, uint32_t *n)
{
	/* One fleet per target: a second name is converted afresh. */
	static const char *last;
	static lbs_worker **w;
	static uint32_t count;

	if (!last || strcmp(last, name)) {
		char err[512];
		conv_ctx c = fixture_ctx(err, sizeof err);
		size_t len;
		char *text = example(name, &len);

		if (conv_fleet(&c, text, len, name, &w, &count))
			fuzz_fail("%s", err);
		free(text);
		last = name;
	}
	*workers = w;
	*n = count;
}

void fuzz_workloads(const lbs_workload **wl, uint32_t *n)
{
	/* Lines of tests.jsonl: plain; required backend, features and
	 * precisions; sharded 2..3; replicated; urgent with a deadline. */
	static const int pick[] = {1, 4, 11, 12, 13};
	static lbs_workload w[sizeof pick / sizeof pick[0]];
	static uint32_t count;

	if (!count) {
		char err[512], where[32];
		conv_ctx c = fixture_ctx(err, sizeof err);
		size_t len;
		char *text = example("tests.jsonl", &len), *line = text;

		for (int no = 1; line && *line && count < sizeof pick / sizeof pick[0]; no++) {
			char *end = strchr(line, '\n');
			size_t ll = end ? (size_t)(end - line) : strlen(line);

			snprintf(where, sizeof where, "tests.jsonl:%d", no);
			if (no == pick[count] && conv_workload_text(&c, line, ll, where, &w[count++]))
				fuzz_fail("%s", err);
			line = end ? end + 1 : NULL;
		}
		free(text);
		if (count != sizeof pick / sizeof pick[0])
			fuzz_fail("examples/tests.jsonl is shorter than the fixtures expect");
	}
	*wl = w;
	*n = count;
}

/* ---- checks -------------------------------------------------------------- */

/* A number the plugin printed as null was NaN or infinite (cJSON prints
 * those as null): the scores must keep NaN out.  A routed composite's
 * "explain" is null by design when its target has none, and so is the
 * workload "id" of a request that has none (nginx's). */
static const char *null_number(const cJSON *node)
{
	const cJSON *m;

	cJSON_ArrayForEach(m, node) {
		const char *bad;
		if (cJSON_IsNull(m) &&
		    !(m->string && (!strcmp(m->string, "explain") || !strcmp(m->string, "id"))))
			return m->string ? m->string : "(array element)";
		if ((bad = null_number(m)))
			return bad;
	}
	return NULL;
}

/* What a plugin wrote must be one JSON object without NaN in it. */
static void check_json(const textbuf *t, const char *what, const char *name)
{
	cJSON *doc = t->p ? cJSON_ParseWithLength(t->p, t->len) : NULL;
	const char *bad;

	if (t->failed)
		fuzz_fail("%s: out of memory while %s wrote", name, what);
	if (!cJSON_IsObject(doc))
		fuzz_fail("%s: %s wrote no JSON object: %.300s", name, what, t->p ? t->p : "");
	if ((bad = null_number(doc)))
		fuzz_fail("%s: %s wrote null (NaN or infinity) for '%s': %.300s", name, what, bad,
		          t->p);
	cJSON_Delete(doc);
}

lbs_status fuzz_select(shim_sched *s, const lbs_workload *wl, lbs_worker *const *workers,
                       uint32_t n)
{
	const char *name = sched_desc(s)->name;
	uint32_t idx[CAPACITY];
	const char *ids[CAPACITY];
	char reason[256];
	lbs_selection sel = {.struct_size = sizeof sel, .capacity = CAPACITY, .indices = idx,
	                     .ids = ids, .reason = reason, .reason_len = sizeof reason};
	const lbs_worker *const *ws = (const lbs_worker *const *)workers;
	textbuf t = {0};
	lbs_status st = sched_select(s, wl, ws, n, &sel, NULL), est;

	if (st != LBS_OK && st != LBS_NO_WORKER)
		fuzz_fail("%s: sched_select returned %d", name, (int)st);
	if (st == LBS_OK && (sel.n_selected == 0 || sel.n_selected > CAPACITY))
		fuzz_fail("%s: %u workers selected", name, sel.n_selected);
	/* The reason is a sentence for a log line. */
	if (reason[0])
		fuzz_check_error(reason, sizeof reason, NULL, "the select reason");
	est = sched_explain(s, wl, ws, n, textbuf_write, &t);
	if (est == LBS_OK)
		check_json(&t, "explain", name);
	else if (est != LBS_EUNSUPPORTED)
		fuzz_fail("%s: explain failed with %d", name, (int)est);
	textbuf_free(&t);
	return st;
}

void fuzz_stats(shim_sched *s)
{
	textbuf t = {0};
	lbs_status st = sched_stats(s, textbuf_write, &t);

	if (st == LBS_OK)
		check_json(&t, "stats", sched_desc(s)->name);
	else if (st != LBS_EUNSUPPORTED)
		fuzz_fail("%s: stats failed with %d", sched_desc(s)->name, (int)st);
	textbuf_free(&t);
}

void fuzz_check_error(const char *err, size_t errlen, const char *prefix, const char *what)
{
	const char *end = memchr(err, '\0', errlen);

	if (!end)
		fuzz_fail("%s: the error message is not terminated", what);
	if (end == err)
		fuzz_fail("%s: refused without a message", what);
	for (const char *p = err; p < end; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			fuzz_fail("%s: the error message has control byte 0x%02x: %s", what,
			          (unsigned char)*p, err);
	if (!txt_utf8_valid(err))
		fuzz_fail("%s: the error message is not UTF-8: %s", what, err);
	if (prefix && strncmp(err, prefix, strlen(prefix)))
		fuzz_fail("%s: the error message does not start with '%s': %s", what, prefix, err);
}

/* ---- config safety ------------------------------------------------------- */

/* A store queue of queue_max outcomes is allocated at create: 40 bytes
 * each, twice.  Above this the fuzzer would spend its memory limit on it. */
#define QUEUE_MAX_FUZZ 1048576

static int unsafe_tree(const cJSON *node)
{
	const cJSON *m;

	cJSON_ArrayForEach(m, node) {
		/* Values the plugin refuses are fine: it refuses them first. */
		if (m->string && !strcasecmp(m->string, "queue_max") && cJSON_IsNumber(m) &&
		    m->valuedouble > QUEUE_MAX_FUZZ && m->valuedouble <= 16777216)
			return 1;
		if (m->string && cJSON_IsString(m)) {
			const char *v = m->valuestring;
			if (!strcasecmp(m->string, "plugin") && v[0])
				return 1;
			if (!strcasecmp(m->string, "path") &&
			    !(strlen(v) == 1 && ((v[0] >= 'a' && v[0] <= 'z') ||
			                         (v[0] >= '0' && v[0] <= '9'))))
				return 1;
		}
		if (unsafe_tree(m))
			return 1;
	}
	return 0;
}

int fuzz_config_unsafe(const char *text, size_t len)
{
	/* The same parse as the plugin's cfg_parse: what fails here fails
	 * there too, before any path is used. */
	cJSON *doc = cJSON_ParseWithLengthOpts(text, len, NULL, 0);
	int bad = doc && unsafe_tree(doc);

	cJSON_Delete(doc);
	return bad;
}
