/*
 * test_abi.c -- the loader and the answer check, with real dlopen of real
 * plugins: ours, one built against an older smaller header, one built
 * against each frozen release (tests/abi/v1.0, v1.1, v1.2), one of a wrong
 * major, and one that lies.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "support.h"
#include "textbuf.h"

/* Three workers, the middle one too small for an 8 GB test. */
static const char *FLEET =
	"[{\"worker_id\": \"cpu_a\", \"cpu_cores\": 8, \"available_memory\": 32},"
	" {\"worker_id\": \"cpu_small\", \"cpu_cores\": 4, \"available_memory\": 4},"
	" {\"worker_id\": \"cpu_c\", \"cpu_cores\": 8, \"available_memory\": 32}]";

static char last_log[2048];
static int misbehaving_logs, error_logs;

static void capture_log(void *ctx, int32_t level, const char *msg)
{
	(void)ctx;
	if (level == LBS_LOG_PLUGIN_MISBEHAVING)
		misbehaving_logs++;
	if (level == LBS_LOG_ERROR)
		error_logs++;
	snprintf(last_log, sizeof last_log, "%s", msg);
}

static void test_real_plugin(void)
{
	const lbs_host_api *api;
	loaded_plugin *p;
	char err[1024];
	const lbs_plugin_entry *e;

	CHECK_INT(host_load(test_host(), getenv("LBS_PLUGIN"), &p, &api, err, sizeof err), LBS_OK);
	e = loader_entry(p);
	CHECK_INT(e->abi_major, LBS_ABI_MAJOR);
	CHECK_STR(e->plugin_name, "lbsched");
	CHECK(loader_find(p, "round-robin", err, sizeof err) != NULL);
	CHECK(loader_find(p, "priority", err, sizeof err) != NULL);
	CHECK(loader_find(p, "no-such-scheduler", err, sizeof err) == NULL);
	CHECK_CONTAINS(err, "no scheduler named 'no-such-scheduler'");
	CHECK_CONTAINS(err, "round-robin");
	/* Loading twice gives the same plugin: it is not initialised twice. */
	{
		loaded_plugin *again;
		CHECK_INT(host_load(test_host(), getenv("LBS_PLUGIN"), &again, &api, err, sizeof err),
		          LBS_OK);
		CHECK(again == p);
	}
}

static void test_old_plugin_loads_and_works(void)
{
	fleet f = fleet_parse(FLEET);
	arena *a = arena_new();
	lbs_workload wl = workload_parse(a, "{\"test_id\": \"t1\", \"minimum_memory\": 8}");
	shim_sched *s;
	char err[1024];

	CHECK_INT(sched_open(test_host(), getenv("LBS_OLD_PLUGIN"), "first-fit", NULL, 0, &s, err,
	                     sizeof err),
	          LBS_OK);
	CHECK_STR(pick(s, &wl, &f), "cpu_a");
	CHECK_STR(pick_reason(), "first-fit: first worker that fits");
	/* Its descriptor ends before the optional slots: the host must not
	 * read them, and says they are unsupported. */
	CHECK(!DESC_HAS(sched_desc(s), report));
	CHECK(!DESC_HAS(sched_desc(s), explain));
	{
		lbs_outcome o = {.struct_size = sizeof o, .worker_id = "cpu_a"};
		CHECK_INT(sched_report(s, &o), LBS_EUNSUPPORTED);
	}
	{
		const char *ex[] = {"cpu_a"};
		wl.exclude_ids = ex;
		wl.n_exclude = 1;
		/* cpu_small lacks memory, so the next fit is cpu_c. */
		CHECK_STR(pick(s, &wl, &f), "cpu_c");
	}
	sched_close(s);
	/* Its config errors come through with its message. */
	CHECK_INT(sched_open(test_host(), getenv("LBS_OLD_PLUGIN"), "first-fit", "{\"bad\":1}", 9,
	                     &s, err, sizeof err),
	          LBS_ECONFIG);
	CHECK_CONTAINS(err, "config field 'bad'");
	arena_free(a);
	fleet_free(&f);
}

/* An lbs_write_fn appending to a text buffer of 4096 bytes. */
static int append_text(void *ctx, const char *data, size_t len)
{
	char *buf = ctx;
	size_t have = strlen(buf);

	if (have + len >= 4096)
		return 1;
	memcpy(buf + have, data, len);
	buf[have + len] = '\0';
	return 0;
}

/* A plugin built against the frozen 1.0 header (tests/abi/v1.0) with every
 * 1.0 slot: the current host calls each one it drives on 1.0-sized structs. */
static void test_v1_0_plugin_in_current_host(void)
{
	/* cpu_c is the least loaded worker with 8 GB; cpu_small lacks memory. */
	fleet f = fleet_parse(
		"[{\"worker_id\": \"cpu_a\", \"cpu_cores\": 8, \"available_memory\": 32,"
		"  \"load\": {\"active_tests\": 2}},"
		" {\"worker_id\": \"cpu_small\", \"cpu_cores\": 4, \"available_memory\": 4},"
		" {\"worker_id\": \"cpu_c\", \"cpu_cores\": 8, \"available_memory\": 32,"
		"  \"load\": {\"active_tests\": 1}}]");
	arena *a = arena_new();
	lbs_workload wl = workload_parse(a, "{\"test_id\": \"t1\", \"minimum_memory\": 8}");
	lbs_workload amx = workload_parse(a, "{\"test_id\": \"t2\", \"custom_properties\":"
	                                     " {\"required_features\": [\"amx-tile\"]}}");
	const char *plugin = getenv("LBS_V1_0_PLUGIN");
	lbs_outcome failed = {.struct_size = sizeof failed, .workload_type = LBS_WL_MIXED,
	                      .worker_id = "cpu_c", .result = LBS_RESULT_FAILURE,
	                      .duration_s = 3.0};
	char text[4096] = "", config[1024], err[1024];
	shim_sched *s;

	CHECK_INT(sched_open(test_host(), plugin, "least-loaded", NULL, 0, &s, err, sizeof err),
	          LBS_OK);
	CHECK_STR(pick(s, &wl, &f), "cpu_c");
	CHECK_STR(pick_reason(), "least-loaded: load 1.00");
	/* A feature outside the taxonomy: the 1.0 header promised a plugin no
	 * requirement is OTHER, and this one, which checks memory only, would
	 * have placed it (and been logged as misbehaving).  The host answers
	 * it, for explain too. */
	CHECK_STR(pick(s, &amx, &f), "none");
	CHECK_STR(pick_reason(), "host: no eligible worker: the workload requires a feature "
	                         "outside lbsched's taxonomy, which no worker can be matched on");
	CHECK_INT(sched_explain(s, &amx, (const lbs_worker *const *)f.workers, f.n, append_text,
	                        text),
	          LBS_OK);
	CHECK_CONTAINS(text, "{\"no_worker\":\"host: no eligible worker: the workload requires a "
	                     "feature outside");
	text[0] = '\0';
	/* Two reported failures make cpu_c (1 + 2) busier than cpu_a (2). */
	CHECK_INT(sched_report(s, &failed), LBS_OK);
	CHECK_INT(sched_report(s, &failed), LBS_OK);
	CHECK_STR(pick(s, &wl, &f), "cpu_a");
	CHECK_INT(sched_stats(s, append_text, text), LBS_OK);
	CHECK_CONTAINS(text, "\"reports\": 2");
	text[0] = '\0';
	CHECK_INT(sched_explain(s, &wl, (const lbs_worker *const *)f.workers, f.n, append_text,
	                        text),
	          LBS_OK);
	CHECK_CONTAINS(text, "\"cpu_c\": 3.00");
	CHECK_CONTAINS(text, "\"cpu_small\": -1.00");
	sched_close(s);
	/* Its config errors come through with its message. */
	CHECK_INT(sched_open(test_host(), plugin, "least-loaded", "{\"x\": 1}", 8, &s, err,
	                     sizeof err),
	          LBS_ECONFIG);
	CHECK_CONTAINS(err, "least-loaded has no fields");

	/* Its score slot, through a composite of the current plugin. */
	snprintf(config, sizeof config,
	         "{\"children\": [{\"scheduler\": \"least-loaded\", \"plugin\": \"%s\"}]}",
	         plugin);
	s = test_sched("composite", config);
	text[0] = '\0';
	CHECK_INT(sched_explain(s, &wl, (const lbs_worker *const *)f.workers, f.n, append_text,
	                        text),
	          LBS_OK);
	CHECK_CONTAINS(text, "\"uses\":\"score\"");
	CHECK_STR(pick(s, &wl, &f), "cpu_c");
	sched_close(s);
	arena_free(a);
	fleet_free(&f);
}

/* A plugin built against the frozen 1.1 header that decides by the 1.1
 * fields: the current host fills them from the original's records. */
static void test_v1_1_plugin_in_current_host(void)
{
	fleet f = fleet_parse(
		"[{\"worker_id\": \"busy\", \"cpu_cores\": 8, \"available_memory\": 32,"
		"  \"software_versions\": {\"JAX\": \"0.4\"}, \"load\": {\"pending_work\": 300}},"
		" {\"worker_id\": \"plain\", \"cpu_cores\": 8, \"available_memory\": 32,"
		"  \"load\": {\"pending_work\": 0}},"
		" {\"worker_id\": \"idle_jax\", \"cpu_cores\": 8, \"available_memory\": 32,"
		"  \"supported_backends\": [\"cpu\", \"jax\"], \"load\": {\"pending_work\": 20}},"
		" {\"worker_id\": \"gpu_held\", \"cpu_cores\": 8, \"available_memory\": 32,"
		"  \"available_accelerators\": {\"gpu\": 1},"
		"  \"load\": {\"pending_work\": 0, \"reserved_accelerators\": {\"gpu\": 1}}},"
		" {\"worker_id\": \"gpu_free\", \"cpu_cores\": 8, \"available_memory\": 32,"
		"  \"available_accelerators\": {\"gpu\": 1}, \"load\": {\"active_tests\": 1}}]");
	arena *a = arena_new();
	lbs_workload any = workload_parse(a, "{\"test_id\": \"t1\"}");
	lbs_workload jax = workload_parse(a, "{\"test_id\": \"t2\", \"required_backend\": \"jax\"}");
	lbs_workload gpu = workload_parse(a, "{\"test_id\": \"t3\","
	                                     " \"required_accelerators\": {\"gpu\": 1}}");
	char err[1024];
	shim_sched *s;

	CHECK_INT(sched_open(test_host(), getenv("LBS_V1_1_PLUGIN"), "least-pending", NULL, 0,
	                     &s, err, sizeof err),
	          LBS_OK);
	/* pending_work 0 is known to be nothing ahead */
	CHECK_STR(pick(s, &any, &f), "plain");
	/* jax: by software (busy, 300 s ahead) or by backend (idle_jax, 20 s) */
	CHECK_STR(pick(s, &jax, &f), "idle_jax");
	CHECK_STR(pick_reason(), "least-pending: 20.0 s ahead");
	/* gpu_held has nothing ahead but its GPU reserved; gpu_free's pending
	 * work is unknown: one 60 s test running */
	CHECK_STR(pick(s, &gpu, &f), "gpu_free");
	CHECK_STR(pick_reason(), "least-pending: 60.0 s ahead");
	sched_close(s);
	arena_free(a);
	fleet_free(&f);
}

/* A plugin built against the frozen 1.2 header: its scheduler, and its
 * "lbs.ext.fleet/1" found through the loader; the 1.0 and 1.1 plugins
 * (no fleet extension) answer NULL for it, which a host must expect. */
static void test_v1_2_plugin_in_current_host(void)
{
	fleet f = fleet_parse(FLEET);
	arena *a = arena_new();
	lbs_workload wl = workload_parse(a, "{\"test_id\": \"t1\"}");
	const char *ex[] = {"cpu_a"}, *old[] = {"LBS_V1_0_PLUGIN", "LBS_V1_1_PLUGIN"};
	const lbs_host_api *api;
	const lbs_ext_fleet *ext;
	loaded_plugin *p;
	char text[4096] = "", err[1024];
	shim_sched *s;

	CHECK_INT(sched_open(test_host(), getenv("LBS_V1_2_PLUGIN"), "first-listed", NULL, 0, &s,
	                     err, sizeof err),
	          LBS_OK);
	wl.exclude_ids = ex;
	wl.n_exclude = 1;
	CHECK_STR(pick(s, &wl, &f), "cpu_small");
	sched_close(s);

	CHECK_INT(host_load(test_host(), getenv("LBS_V1_2_PLUGIN"), &p, &api, err, sizeof err),
	          LBS_OK);
	CHECK_INT(loader_entry(p)->abi_minor, 2);
	ext = loader_extension(p, LBS_EXT_FLEET);
	CHECK(ext && ext->struct_size >= sizeof *ext);
	if (ext) {
		CHECK_INT(ext->totals_json(api, "{\"fleet\": 1}", 12, append_text, text, err,
		                           sizeof err),
		          LBS_OK);
		CHECK_CONTAINS(text, "{\"schema\":3,\"records\":[\n{\"workload_type\":\"VISION\"");
		CHECK_INT(ext->sync(api, "{}", 2, append_text, text, err, sizeof err), LBS_EIO);
		CHECK_CONTAINS(err, "this plugin has no Redis");
	}
	for (size_t i = 0; i < sizeof old / sizeof old[0]; i++) {
		CHECK_INT(host_load(test_host(), getenv(old[i]), &p, &api, err, sizeof err), LBS_OK);
		CHECK(loader_extension(p, LBS_EXT_FLEET) == NULL);
	}
	arena_free(a);
	fleet_free(&f);
}

static void test_refusals(void)
{
	shim_host *h = host_new("refusal-test", LBS_LOG_ERROR);
	const lbs_host_api *api;
	loaded_plugin *p;
	char err[1024];

	CHECK_INT(host_load(h, getenv("LBS_V2_PLUGIN"), &p, &api, err, sizeof err), LBS_EVERSION);
	CHECK_CONTAINS(err, getenv("LBS_V2_PLUGIN"));
	CHECK_CONTAINS(err, "ABI 2.x");
	CHECK_CONTAINS(err, "ABI 1.2");
	CHECK_CONTAINS(err, "rebuild the plugin");

	CHECK_INT(host_load(h, "/nonexistent/plugin.so", &p, &api, err, sizeof err), LBS_EINVAL);
	CHECK_CONTAINS(err, "/nonexistent/plugin.so");

	/* A file that is not a shared object at all. */
	CHECK_INT(host_load(h, src_path("examples/fleet.json"), &p, &api, err, sizeof err),
	          LBS_EINVAL);
	CHECK_CONTAINS(err, "cannot load plugin");
	host_free(h);
}

/* Copy file `from` to `to`, written anew (a new inode, as install(1)
 * and dpkg make by renaming over the old name). */
static int copy_file(const char *from, const char *to)
{
	FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
	char buf[65536];
	size_t n;
	int rc = in && out ? 0 : -1;

	while (!rc && (n = fread(buf, 1, sizeof buf, in)) > 0)
		rc = fwrite(buf, 1, n, out) == n ? 0 : -1;
	if (in)
		fclose(in);
	if (out && fclose(out))
		rc = -1;
	return rc;
}

/* A plugin file replaced (an upgrade) while this process holds the old
 * one: dlopen() of the name gives the old object back, so a new host
 * (nginx's reload) is refused with what to do, not handed the old code.
 * A process that never loaded it (nginx -t) loads the new file. */
/* A new directory under $TMPDIR (or /tmp) into dir[512], and the paths of
 * files a and b in it into a[600] and b[600]. */
static void scratch(char *dir, char *a, const char *a_name, char *b, const char *b_name)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, 512, "%s/lbs-abi-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	CHECK(mkdtemp(dir) != NULL);
	snprintf(a, 600, "%s/%s", dir, a_name);
	snprintf(b, 600, "%s/%s", dir, b_name);
}

static void test_replaced_plugin_file(void)
{
	char dir[512], path[600], next[600], err[1024];
	shim_host *h1 = host_new("first-cycle", LBS_LOG_ERROR);
	shim_host *h2 = host_new("reload", LBS_LOG_ERROR);
	const lbs_host_api *api;
	loaded_plugin *p;

	scratch(dir, path, "lbsched.so", next, "lbsched.so.new");
	CHECK_INT(copy_file(getenv("LBS_PLUGIN"), path), 0);
	CHECK_INT(host_load(h1, path, &p, &api, err, sizeof err), LBS_OK);
	CHECK_INT(copy_file(getenv("LBS_V1_2_PLUGIN"), next), 0);
	CHECK_INT(rename(next, path), 0);
	CHECK_INT(host_load(h2, path, &p, &api, err, sizeof err), LBS_EINVAL);
	CHECK_CONTAINS(err, path);
	CHECK_CONTAINS(err, "this process loaded an earlier file of that name");
	CHECK_CONTAINS(err, "restart it to load the new one");
	CHECK(!strchr(err, '\n'));
	host_free(h2);
	host_free(h1);
	unlink(path);
	rmdir(dir);
}

/* A plugin named through a symbolic link that a deploy re-points: the host
 * that loaded it keeps the plugin it runs (it loaded the new file beside
 * it, a second copy in one process, which opened its stores a second time,
 * on the next status request in nginx). */
static void test_repointed_link(void)
{
	char dir[512], link_path[600], next[600], err[1024];
	shim_host *h = host_new("linked", LBS_LOG_ERROR);
	const lbs_host_api *api;
	loaded_plugin *p, *again;

	scratch(dir, link_path, "current.so", next, "next.so");
	CHECK_INT(symlink(getenv("LBS_PLUGIN"), link_path), 0);
	CHECK_INT(host_load(h, link_path, &p, &api, err, sizeof err), LBS_OK);
	CHECK_INT(symlink(getenv("LBS_V1_2_PLUGIN"), next), 0);
	CHECK_INT(rename(next, link_path), 0);
	CHECK_INT(host_load(h, link_path, &again, &api, err, sizeof err), LBS_OK);
	CHECK(again == p);
	CHECK_STR(loader_entry(again)->plugin_name, loader_entry(p)->plugin_name);
	host_free(h);
	unlink(link_path);
	rmdir(dir);
}

static void test_liar(void)
{
	static const char *const modes[] = {"out_of_range", "wrong_id", "duplicate", "excluded",
	                                    "ineligible", "too_many", "error", "unterminated_id",
	                                    "rewritten_header"};
	shim_host *h = host_new("liar-test", LBS_LOG_DEBUG);
	fleet f = fleet_parse(FLEET);
	arena *a = arena_new();
	char err[1024];

	host_set_log(h, capture_log, NULL);
	for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
		char config[64];
		shim_sched *s;
		uint32_t idx[8];
		const char *ids[8];
		char reason[256];
		lbs_selection sel = {.struct_size = sizeof sel, .capacity = 8, .indices = idx,
		                     .ids = ids, .reason = reason, .reason_len = sizeof reason};
		int fell_back = 0;
		const char *ex[] = {"cpu_a"};
		/* 8 GB, cpu_a excluded: the only right answer is cpu_c. */
		lbs_workload wl = workload_parse(a, !strcmp(modes[i], "duplicate")
		        ? "{\"test_id\": \"t\", \"minimum_memory\": 8, \"custom_properties\": "
		          "{\"allocation_strategy\": \"replicated\", \"min_shards\": 1, \"max_shards\": 2}}"
		        : "{\"test_id\": \"t\", \"minimum_memory\": 8}");
		lbs_status st;

		wl.exclude_ids = ex;
		wl.n_exclude = 1;
		snprintf(config, sizeof config, "{\"mode\": \"%s\"}", modes[i]);
		CHECK_INT(sched_open(h, getenv("LBS_LIAR_PLUGIN"), "liar", config, strlen(config), &s,
		                     err, sizeof err),
		          LBS_OK);
		misbehaving_logs = 0;
		st = sched_select(s, &wl, (const lbs_worker *const *)f.workers, f.n, &sel, &fell_back);
		CHECK_INT(st, LBS_OK);
		CHECK_INT(fell_back, 1);
		CHECK_INT(misbehaving_logs, 1);
		CHECK_CONTAINS(last_log, "scheduler 'liar'");
		CHECK_INT(sel.n_selected, 1);
		/* into the caller's arrays, whatever the plugin put there */
		CHECK(sel.indices == idx && sel.ids == ids && sel.capacity == 8);
		CHECK(sel.reason == reason && sel.reason_len == sizeof reason);
		CHECK_STR(sel.ids[0], "cpu_c");
		CHECK_INT(sel.indices[0], 2);
		if (!strcmp(modes[i], "unterminated_id"))
			CHECK_CONTAINS(last_log, "id 'AAAAAA");
		sched_close(s);
	}
	/* Without an exclude list the host checks the answer on its inline
	 * path: an ineligible worker (cpu_small, too little memory) is still
	 * refused, and the rotation answers. */
	{
		shim_sched *s;
		lbs_workload wl = workload_parse(a, "{\"test_id\": \"t\", \"minimum_memory\": 8}");
		CHECK_INT(sched_open(h, getenv("LBS_LIAR_PLUGIN"), "liar", "{\"mode\": \"ineligible\"}",
		                     22, &s, err, sizeof err),
		          LBS_OK);
		misbehaving_logs = 0;
		CHECK_STR(pick(s, &wl, &f), "fallback:cpu_a");
		CHECK_INT(misbehaving_logs, 1);
		CHECK_CONTAINS(last_log, "'cpu_small' has too little free memory");
		/* A device requirement beyond memory: the other inline copy.
		 * No worker has CUDA, so neither has the rotation. */
		wl.required_backends = LBS_BACKEND_CUDA;
		CHECK_STR(pick(s, &wl, &f), "none");
		CHECK_INT(misbehaving_logs, 2);
		CHECK_CONTAINS(last_log, "'cpu_small' lacks a required backend");
		sched_close(s);
	}
	/* An id with the right text in the plugin's own memory is right. */
	{
		shim_sched *s;
		lbs_workload wl = workload_parse(a, "{\"test_id\": \"t\", \"minimum_memory\": 1}");
		CHECK_INT(sched_open(h, getenv("LBS_LIAR_PLUGIN"), "liar", "{\"mode\": \"copied_id\"}",
		                     21, &s, err, sizeof err),
		          LBS_OK);
		misbehaving_logs = 0;
		CHECK_STR(pick(s, &wl, &f), "cpu_a");
		CHECK_INT(misbehaving_logs, 0);
		sched_close(s);
	}
	/* The honest mode is not second-guessed. */
	{
		shim_sched *s;
		lbs_workload wl = workload_parse(a, "{\"test_id\": \"t\", \"minimum_memory\": 1}");
		CHECK_INT(sched_open(h, getenv("LBS_LIAR_PLUGIN"), "liar", "{\"mode\": \"honest\"}", 18,
		                     &s, err, sizeof err),
		          LBS_OK);
		misbehaving_logs = 0;
		CHECK_STR(pick(s, &wl, &f), "cpu_a");
		CHECK_INT(misbehaving_logs, 0);
		/* Its one worker for copies on three is refused, and the host's
		 * rotation takes each worker once: it counted from the cursor
		 * it moved, and took cpu_c twice and cpu_small never. */
		wl = workload_parse(a, "{\"test_id\": \"t\", \"minimum_memory\": 1, "
		                       "\"custom_properties\": {\"allocation_strategy\": \"replicated\", "
		                       "\"min_shards\": 3, \"max_shards\": 3}}");
		CHECK_STR(pick(s, &wl, &f), "fallback:cpu_a,cpu_small,cpu_c");
		CHECK_INT(misbehaving_logs, 1);
		CHECK_CONTAINS(last_log, "selected 1 workers, the workload allows 3..3");
		/* the next turn starts after the last one taken */
		wl = workload_parse(a, "{\"test_id\": \"t\", \"minimum_memory\": 1, "
		                       "\"custom_properties\": {\"allocation_strategy\": \"replicated\", "
		                       "\"min_shards\": 2, \"max_shards\": 2}}");
		CHECK_STR(pick(s, &wl, &f), "fallback:cpu_a,cpu_small");
		sched_close(s);
	}
	/* A plugin that fails every select: each of the first 8 refusals is
	 * said, then one at each doubling with the count (decide wrote 2,000
	 * lines for 2,000 tests, nginx one per request). */
	{
		shim_sched *s;
		lbs_workload wl = workload_parse(a, "{\"test_id\": \"t\", \"minimum_memory\": 1}");
		char eighth[2048] = "";

		CHECK_INT(sched_open(h, getenv("LBS_LIAR_PLUGIN"), "liar",
		                     "{\"mode\": \"out_of_range\"}", 24, &s, err, sizeof err),
		          LBS_OK);
		misbehaving_logs = 0;
		for (int k = 1; k <= 40; k++) {
			CHECK_STR(pick(s, &wl, &f), k % 3 == 1 ? "fallback:cpu_a"
			                            : k % 3 == 2 ? "fallback:cpu_small"
			                                         : "fallback:cpu_c");
			if (k == 8)
				snprintf(eighth, sizeof eighth, "%s", last_log);
		}
		CHECK_INT(misbehaving_logs, 8 + 2); /* 1..8, 16, 32 */
		CHECK_CONTAINS(eighth, "index 3 is out of range (3 workers); the host chose instead "
		                       "(answers refused from here on are logged at each doubling of "
		                       "their count)");
		CHECK_CONTAINS(last_log, "the host chose instead (32 answers refused so far)");
		sched_close(s);
	}
	/* stats() text that is not one JSON object: nginx pasted it into its
	 * status document (invalid JSON, a key of the plugin's beside the
	 * host's).  Refused whole, said once; an honest one passes as written. */
	{
		shim_sched *s;
		textbuf tb = {0};
		char *text;

		CHECK_INT(sched_open(h, getenv("LBS_LIAR_PLUGIN"), "liar", "{\"mode\": \"bad_stats\"}",
		                     21, &s, err, sizeof err),
		          LBS_OK);
		misbehaving_logs = 0;
		CHECK_INT(sched_stats(s, textbuf_write, &tb), LBS_EINTERNAL);
		CHECK_INT(tb.len, 0);
		CHECK_INT(misbehaving_logs, 1);
		CHECK_STR(last_log, "scheduler 'liar': what stats() wrote is not JSON (RFC 8259) at "
		                    "byte 16 of 37; hosts show no stats for it (logged once)");
		CHECK(sched_stats_text(s) == NULL);
		CHECK_INT(misbehaving_logs, 1);
		textbuf_free(&tb);
		sched_close(s);
		CHECK_INT(sched_open(h, getenv("LBS_LIAR_PLUGIN"), "liar", "{\"mode\": \"honest\"}", 18,
		                     &s, err, sizeof err),
		          LBS_OK);
		CHECK_STR((text = sched_stats_text(s)), "{\"success\": 0, \"failure\": 0, \"timeout\": 0, "
		                                        "\"rejected\": 0, \"cancelled\": 0, "
		                                        "\"last_cookie\": 0}");
		free(text);
		CHECK_INT(misbehaving_logs, 1);
		sched_close(s);
	}
	/* LBS_EINVAL is an answer select() may give: an error, not a breach. */
	{
		shim_sched *s;
		lbs_workload wl = workload_parse(a, "{\"test_id\": \"t\", \"minimum_memory\": 1}");

		CHECK_INT(sched_open(h, getenv("LBS_LIAR_PLUGIN"), "liar", "{\"mode\": \"einval\"}",
		                     18, &s, err, sizeof err),
		          LBS_OK);
		misbehaving_logs = error_logs = 0;
		CHECK_STR(pick(s, &wl, &f), "fallback:cpu_a");
		CHECK_INT(misbehaving_logs, 0);
		CHECK_INT(error_logs, 1);
		CHECK_CONTAINS(last_log, "scheduler 'liar' on workload 't': select failed with "
		                         "LBS_EINVAL (it refused the workload or a worker); the host "
		                         "chose instead");
		sched_close(s);
	}
	arena_free(a);
	fleet_free(&f);
	host_free(h);
}

/* An allocation that is none of LBS_ALLOC_*: every scheduler answered one
 * worker, as for SINGLE, and the host, reading it as several, refused that
 * and fell back.  Now each refuses the workload, and so does the host,
 * without asking the plugin. */
static void test_unknown_allocation(void)
{
	static const char *const names[] = {"hardware-aware", "priority", "round-robin",
	                                    "composite", "weighted-round-robin", "performance",
	                                    "affinity", "adaptive"};
	fleet f = fleet_parse(FLEET);
	const lbs_host_api *api;
	loaded_plugin *p;
	char err[256];

	CHECK_INT(host_load(test_host(), getenv("LBS_PLUGIN"), &p, &api, err, sizeof err), LBS_OK);
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		lbs_workload wl = workload_parse(f.arena, "{\"test_id\": \"t\", \"minimum_memory\": 1}");
		shim_sched *s = test_sched(names[i], NULL);
		const lbs_scheduler_desc *d = sched_desc(s);
		uint32_t idx[8];
		const char *ids[8];
		lbs_selection sel = {.struct_size = sizeof sel, .capacity = 8, .indices = idx,
		                     .ids = ids};
		void *inst = NULL;
		int fell_back = -1;

		sel.n_selected = 99; /* what the call must clear */
		wl.allocation = 7;
		wl.min_shards = 3;
		wl.max_shards = 5;
		CHECK_INT(d->create(api, NULL, 0, &inst, err, sizeof err), LBS_OK);
		if (inst) {
			CHECK_INT(d->select(inst, &wl, (const lbs_worker *const *)f.workers, f.n, &sel),
			          LBS_EINVAL);
			d->destroy(inst);
		}
		CHECK_INT(sched_select(s, &wl, (const lbs_worker *const *)f.workers, f.n, &sel,
		                       &fell_back),
		          LBS_EINVAL);
		CHECK_INT(fell_back, 0);
		CHECK_INT(sel.n_selected, 0);
		sched_close(s);
	}
	fleet_free(&f);
}

/* Text a plugin writes into host buffers without a terminator: the host
 * cuts it at the buffer's end and reads no byte past it (ASan). */
static void test_unterminated_text(void)
{
	shim_host *h = host_new("unterminated-test", LBS_LOG_ERROR);
	fleet f = fleet_parse(FLEET);
	arena *a = arena_new();
	lbs_workload wl = workload_parse(a, "{\"test_id\": \"t\", \"minimum_memory\": 1}");
	const lbs_host_api *api;
	loaded_plugin *p;
	shim_sched *s;
	char err[4096];
	const char *text;

	/* create's error: the host's buffer is 2,048 bytes (a store's path
	 * and its problem). */
	CHECK_INT(sched_open(h, getenv("LBS_LIAR_PLUGIN"), "liar", "{\"mode\": \"unterminated_error\"}",
	                     31, &s, err, sizeof err),
	          LBS_ECONFIG);
	CHECK_CONTAINS(err, "scheduler 'liar': EEEE");
	text = strstr(err, ": E");
	CHECK(text && strspn(text + 2, "E") == 2047 && text[2 + 2047] == '\0');
	/* A create that fails without a word: the plugin's file, the
	 * scheduler and the status it returned. */
	CHECK_INT(sched_open(h, getenv("LBS_LIAR_PLUGIN"), "liar", "{\"mode\": \"silent_error\"}",
	                     24, &s, err, sizeof err),
	          LBS_EIO);
	CHECK(!strncmp(err, getenv("LBS_LIAR_PLUGIN"), strlen(getenv("LBS_LIAR_PLUGIN"))));
	CHECK_CONTAINS(err, ": scheduler 'liar' failed to start (create returned status -6) "
	                    "without a reason");

	/* init's error, 512 bytes. */
	CHECK_INT(host_load(h, getenv("LBS_RUDE_INIT_PLUGIN"), &p, &api, err, sizeof err), LBS_EINVAL);
	CHECK_CONTAINS(err, "refused to start (status -5): EEEE");
	text = strstr(err, ": E");
	CHECK(text && strspn(text + 2, "E") == 511 && text[2 + 511] == '\0');

	/* select's reason: the selection's buffer, followed by bytes that are
	 * not part of it. */
	{
		struct {
			char reason[256];
			char beyond[16];
		} buf;
		uint32_t idx[2];
		const char *ids[2];
		lbs_selection sel = {.struct_size = sizeof sel, .capacity = 2, .indices = idx,
		                     .ids = ids, .reason = buf.reason, .reason_len = sizeof buf.reason};
		memset(buf.beyond, 'X', sizeof buf.beyond);
		CHECK_INT(sched_open(h, getenv("LBS_LIAR_PLUGIN"), "liar",
		                     "{\"mode\": \"unterminated_reason\"}", 32, &s, err, sizeof err),
		          LBS_OK);
		CHECK_INT(sched_select(s, &wl, (const lbs_worker *const *)f.workers, f.n, &sel, NULL),
		          LBS_OK);
		CHECK_STR(sel.ids[0], "cpu_a");
		CHECK_INT(strnlen(buf.reason, sizeof buf.reason), sizeof buf.reason - 1);
		CHECK_INT(strspn(buf.reason, "R"), sizeof buf.reason - 1);
		sched_close(s);
	}
	arena_free(a);
	fleet_free(&f);
	host_free(h);
}

/* A plugin's names and counts are bounded, and what it names reaches a
 * message on one line. */
static void test_rude_plugin(void)
{
	shim_host *h = host_new("rude-test", LBS_LOG_ERROR);
	const lbs_host_api *api;
	loaded_plugin *p;
	char err[2048];

	CHECK_INT(host_load(h, getenv("LBS_RUDE_COUNT_PLUGIN"), &p, &api, err, sizeof err),
	          LBS_EVERSION);
	CHECK_CONTAINS(err, "says it has 4294967295 schedulers, more than 1024");
	CHECK_CONTAINS(err, "plugin rude\\x0a\\x1b[2Jplugin");

	CHECK_INT(host_load(h, getenv("LBS_RUDE_PLUGIN"), &p, &api, err, sizeof err), LBS_OK);
	CHECK(loader_find(p, "rude\n\x1b[31mforged", err, sizeof err) == NULL);
	CHECK_CONTAINS(err, "scheduler 'rude\\x0a\\x1b[31mforged' refused: its name contains a control character");
	CHECK(!strchr(err, '\n') && !strchr(err, '\x1b'));
	{
		char name[301];
		memset(name, 'n', 300);
		name[300] = '\0';
		CHECK(loader_find(p, name, err, sizeof err) == NULL);
		CHECK_CONTAINS(err, "its name is longer than 128 bytes");
	}
	/* Asked for a name it lacks, the plugin's list is shown escaped. */
	CHECK(loader_find(p, "nope", err, sizeof err) == NULL);
	CHECK_CONTAINS(err, "it has: rude\\x0a\\x1b[31mforged, nnnn");
	CHECK(!strchr(err, '\n') && !strchr(err, '\x1b'));
	CHECK(loader_find(p, "rude-long", err, sizeof err) != NULL);

	/* Two schedulers of one name: the second could never be reached. */
	CHECK_INT(host_load(h, getenv("LBS_RUDE_TWINS_PLUGIN"), &p, &api, err, sizeof err),
	          LBS_EVERSION);
	CHECK_CONTAINS(err, "refused: plugin rude\\x0a\\x1b[2Jplugin has two schedulers named "
	                    "'twin' (#0 and #1); fix its scheduler list");
	/* A descriptor too small to hold a name: that scheduler is refused,
	 * its name never read (the twin check read it, and crashed the host),
	 * and the others load. */
	CHECK_INT(host_load(h, getenv("LBS_RUDE_SMALL_PLUGIN"), &p, &api, err, sizeof err),
	          LBS_OK);
	CHECK_STR(loader_desc_problem(loader_entry(p)->scheduler_get(3)),
	          "its descriptor is smaller than ABI 1.0's");
	CHECK(loader_find(p, "rude-long", err, sizeof err) != NULL);
	/* A host service init may not use: refused, where the plugin is not
	 * yet the host's to find in (it crashed the host). */
	CHECK_INT(host_load(h, getenv("LBS_RUDE_FIND_PLUGIN"), &p, &api, err, sizeof err),
	          LBS_EINVAL);
	CHECK_CONTAINS(err, "refused to start (status -1): find_scheduler answered -4: "
	                    "find_scheduler: called from a plugin's init(), which must return "
	                    "before its host finds schedulers (find them in create())");
	host_free(h);
}

/* The reason a host shows is the one of the answer it gives: a plugin's
 * sentence without its NUL is not run on by an earlier one, and a rejected
 * answer's sentence goes with it even when the host finds no worker. */
static void test_reason_is_the_answers(void)
{
	shim_host *h = host_new("reason-test", LBS_LOG_ERROR + 1);
	fleet f = fleet_parse(FLEET);
	arena *a = arena_new();
	lbs_workload wl = workload_parse(a, "{\"test_id\": \"t\", \"minimum_memory\": 1}");
	lbs_workload huge = workload_parse(a, "{\"test_id\": \"h\", \"minimum_memory\": 512}");
	uint32_t idx[2];
	const char *ids[2];
	char reason[256], err[1024];
	lbs_selection sel = {.struct_size = sizeof sel, .capacity = 2, .indices = idx, .ids = ids,
	                     .reason = reason, .reason_len = sizeof reason};
	shim_sched *s;
	int fell_back = 0;

	CHECK_INT(sched_open(h, getenv("LBS_RUDE_PLUGIN"), "rude-long", NULL, 0, &s, err,
	                     sizeof err), LBS_OK);
	snprintf(reason, sizeof reason, "an earlier and much longer sentence");
	CHECK_INT(sched_select(s, &wl, (const lbs_worker *const *)f.workers, f.n, &sel, NULL),
	          LBS_OK);
	CHECK_STR(reason, "first");
	sched_close(s);

	CHECK_INT(sched_open(h, getenv("LBS_LIAR_PLUGIN"), "liar",
	                     "{\"mode\": \"unterminated_reason\"}", 32, &s, err, sizeof err),
	          LBS_OK);
	CHECK_INT(sched_select(s, &huge, (const lbs_worker *const *)f.workers, f.n, &sel,
	                       &fell_back), LBS_NO_WORKER);
	CHECK_INT(fell_back, 1);
	CHECK_STR(reason, "host fallback: no eligible worker (the plugin's answer was rejected, "
	                  "and no worker meets the workload's requirements under the host's "
	                  "load ceiling of 0.9)");
	sched_close(s);
	arena_free(a);
	fleet_free(&f);
	host_free(h);
}

/* A test id with a newline and a plugin id with a newline and an escape
 * make one log line, escaped. */
static void test_log_one_line(void)
{
	shim_host *h = host_new("log-test", LBS_LOG_DEBUG);
	fleet f = fleet_parse(FLEET);
	arena *a = arena_new();
	lbs_workload wl = workload_parse(a, "{\"test_id\": \"t\\nlog-test: error: forged\","
	                                     " \"minimum_memory\": 1}");
	uint32_t idx[2];
	const char *ids[2];
	char reason[256], err[1024];
	lbs_selection sel = {.struct_size = sizeof sel, .capacity = 2, .indices = idx, .ids = ids,
	                     .reason = reason, .reason_len = sizeof reason};
	shim_sched *s;
	int fell_back = 0;

	host_set_log(h, capture_log, NULL);
	CHECK_INT(sched_open(h, getenv("LBS_LIAR_PLUGIN"), "liar", "{\"mode\": \"forged_id\"}", 22,
	                     &s, err, sizeof err),
	          LBS_OK);
	misbehaving_logs = 0;
	CHECK_INT(sched_select(s, &wl, (const lbs_worker *const *)f.workers, f.n, &sel, &fell_back),
	          LBS_OK);
	CHECK_INT(fell_back, 1);
	CHECK_INT(misbehaving_logs, 1);
	CHECK_CONTAINS(last_log, "on workload 't\\x0alog-test: error: forged'");
	CHECK_CONTAINS(last_log, "id 'cpu_c\\x0albsched-shim: error: forged\\x1b[2J' does not match");
	CHECK(!strchr(last_log, '\n') && !strchr(last_log, '\x1b'));
	sched_close(s);
	/* What a plugin logs itself leaves on one line as well. */
	{
		const lbs_host_api *api;
		loaded_plugin *p;
		CHECK_INT(host_load(h, getenv("LBS_PLUGIN"), &p, &api, err, sizeof err), LBS_OK);
		api->log(api->host_data, LBS_LOG_WARN, "first\nlog-test: error: forged\x1b[2J");
		CHECK_STR(last_log, "first?log-test: error: forged?[2J");
	}
	arena_free(a);
	fleet_free(&f);
	host_free(h);
}

int main(void)
{
	test_real_plugin();
	test_old_plugin_loads_and_works();
	test_v1_0_plugin_in_current_host();
	test_v1_1_plugin_in_current_host();
	test_v1_2_plugin_in_current_host();
	test_refusals();
	test_replaced_plugin_file();
	test_repointed_link();
	test_liar();
	test_unknown_allocation();
	test_unterminated_text();
	test_rude_plugin();
	test_reason_is_the_answers();
	test_log_one_line();
	return check_done("test_abi");
}
