/*
 * store_support.h -- what the store tests share (test_store, test_store_faults,
 * test_store_threads): temporary directories, schedulers with a store and
 * their stats, the store extension (export, import), other processes
 * (store_writer, LMDB's tools, the shim) and the host's log.
 *
 * A header of static functions rather than a library because they CHECK,
 * and check.h's counters belong to each test's own translation unit.
 * Include it after check.h and support.h, in one file per test.
 */
#ifndef LBS_STORE_SUPPORT_H
#define LBS_STORE_SUPPORT_H

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "check.h"
#include "loader.h"
#include "support.h"
#include "textbuf.h"

extern char **environ;

/* The longest worker id the store keys (plugin/store.h): LMDB's 511-byte
 * keys less the type byte. */
#define STORE_MAX_ID 510

/* Monotonic milliseconds, for the deadlines of loops that wait on others. */
static inline uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ===== Temporary directories ============================================== */

#define MAX_TMP 64
static char *tmp_dirs[MAX_TMP];
static int n_tmp;

static inline int make_writable(const char *path, const struct stat *sb, int flag,
                                struct FTW *ftw)
{
	(void)ftw;
	if (flag == FTW_D || flag == FTW_DNR)
		chmod(path, (sb->st_mode & 07777) | 0700);
	return 0;
}

static inline int remove_one(const char *path, const struct stat *sb, int flag,
                             struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if (flag == FTW_DP || flag == FTW_D || flag == FTW_DNR)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

static inline void rm_rf(const char *dir)
{
	nftw(dir, make_writable, 16, FTW_PHYS);
	nftw(dir, remove_one, 16, FTW_PHYS | FTW_DEPTH);
}

static inline void remove_tmp_dirs(void)
{
	for (int i = 0; i < n_tmp; i++) {
		rm_rf(tmp_dirs[i]);
		free(tmp_dirs[i]);
	}
	n_tmp = 0;
}

/* A new empty directory under $TMPDIR (or /tmp), removed at exit. */
static inline const char *tmp_dir(void)
{
	const char *base = getenv("TMPDIR");
	char path[4096];

	if (!base || !*base)
		base = "/tmp";
	snprintf(path, sizeof path, "%s/lbs-store-XXXXXX", base);
	if (!mkdtemp(path) || n_tmp == MAX_TMP) {
		fprintf(stderr, "test fixture broken: mkdtemp %s: %s\n", path, strerror(errno));
		exit(99);
	}
	if (n_tmp == 0)
		atexit(remove_tmp_dirs);
	tmp_dirs[n_tmp] = strdup(path);
	return tmp_dirs[n_tmp++];
}

/* pathf()'s paths, freed at exit. */
static char **made_paths;
static size_t n_made_paths;

static inline void free_made_paths(void)
{
	for (size_t i = 0; i < n_made_paths; i++)
		free(made_paths[i]);
	free(made_paths);
}

/* A path of its own, alive until exit: a ring of buffers reused a slot
 * after 16 calls, so a path kept longer (a test's store directory) could
 * change under it, and one passed back in could overlap its own result. */
static inline const char *pathf(const char *fmt, const char *a, const char *b)
{
	char **grown = realloc(made_paths, (n_made_paths + 1) * sizeof *made_paths);
	char *p = NULL;

	if (grown)
		made_paths = grown;
	if (!grown || asprintf(&p, fmt, a, b ? b : "") < 0) {
		fprintf(stderr, "test fixture broken: pathf %s: out of memory\n", fmt);
		exit(99);
	}
	if (n_made_paths == 0)
		atexit(free_made_paths);
	made_paths[n_made_paths++] = p;
	return p;
}

/* ===== Text collected from the plugin ===================================== */

static inline double num(const cJSON *o, const char *key)
{
	const cJSON *v = o ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;

	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static inline const char *str(const cJSON *o, const char *key)
{
	const cJSON *v = o ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* ===== Schedulers with a store ============================================ */

/* A store directory made with mode 0700 inside a fresh temporary one. */
static inline const char *store_dir(void)
{
	const char *dir = pathf("%s/store", tmp_dir(), NULL);

	if (mkdir(dir, 0700)) {
		fprintf(stderr, "test fixture broken: mkdir %s: %s\n", dir, strerror(errno));
		exit(99);
	}
	return dir;
}

/* {"store": {"path": DIR, <extra>}} in a static ring. */
static inline const char *store_config(const char *dir, const char *extra)
{
	static char ring[4][8192];
	static int next;
	char *c = ring[next++ % 4];

	snprintf(c, sizeof ring[0], "{\"store\":{\"path\":\"%s\"%s%s}}", dir,
	         extra && *extra ? "," : "", extra ? extra : "");
	return c;
}

/* sched_open with the error kept: LBS_OK and *out, or the status and err. */
static inline lbs_status try_open(const char *name, const char *config, shim_sched **out,
                                  char *err, size_t errlen)
{
	err[0] = '\0';
	*out = NULL;
	return sched_open(test_host(), getenv("LBS_PLUGIN"), name, config, strlen(config), out,
	                  err, errlen);
}

/* The scheduler, or NULL after a failed check that prints the error. */
static inline shim_sched *open_store(const char *name, const char *dir, const char *extra)
{
	char err[1024];
	shim_sched *s;
	lbs_status st = try_open(name, store_config(dir, extra), &s, err, sizeof err);

	CHECK_INT(st, LBS_OK);
	if (st != LBS_OK) {
		fprintf(stderr, "    %s on %s: %s\n", name, dir, err);
		return NULL;
	}
	return s;
}

typedef struct store_stats {
	int ok, persistent;
	double committed, queued, commits, refreshes, map_grows, lost, retrying, failed_commits,
	       pairs, refused_pairs, bad_records;
} store_stats;

static inline store_stats stats_of(shim_sched *s)
{
	store_stats r = {0};
	textbuf t = {0};
	cJSON *j = NULL;
	const cJSON *st, *p;

	if (sched_stats(s, textbuf_write, &t) == LBS_OK && t.p)
		j = cJSON_Parse(t.p);
	st = cJSON_GetObjectItemCaseSensitive(j, "store");
	p = cJSON_GetObjectItemCaseSensitive(st, "persistent");
	if (cJSON_IsBool(p)) {
		r.ok = 1;
		r.persistent = cJSON_IsTrue(p);
		r.committed = num(st, "committed");
		r.queued = num(st, "queued");
		r.commits = num(st, "commits");
		r.refreshes = num(st, "refreshes");
		r.map_grows = num(st, "map_grows");
		r.lost = num(st, "lost");
		r.retrying = num(st, "retrying");
		r.failed_commits = num(st, "failed_commits");
		r.pairs = num(st, "pairs");
		r.refused_pairs = num(st, "refused_pairs");
		r.bad_records = num(st, "bad_records");
	}
	cJSON_Delete(j);
	free(t.p);
	return r;
}

/* Poll stats until the count at `field` (offsetof(store_stats, lost),
 * say) reaches n or timeout_ms passes. */
static inline store_stats wait_stat(shim_sched *s, size_t field, double n, int timeout_ms)
{
	store_stats r = stats_of(s);

	for (int waited = 0; r.ok && *(const double *)((const char *)&r + field) < n &&
	     waited < timeout_ms; waited += 5) {
		struct timespec ts = {0, 5000000};

		nanosleep(&ts, NULL);
		r = stats_of(s);
	}
	return r;
}

static inline store_stats wait_committed(shim_sched *s, double n, int timeout_ms)
{
	return wait_stat(s, offsetof(store_stats, committed), n, timeout_ms);
}

static inline lbs_status report(shim_sched *s, uint32_t type, const char *worker,
                                int32_t result, double duration, double expected)
{
	lbs_outcome o = {.struct_size = sizeof o, .workload_type = type, .worker_id = worker,
	                 .result = result, .duration_s = duration,
	                 .expected_duration_s = expected};

	return sched_report(s, &o);
}

#define LEARNED 200

/* A store (store_dir) with LEARNED samples, one a worker over 8 types,
 * committed and closed. */
static inline const char *learned_store(void)
{
	const char *dir = store_dir();
	shim_sched *s = open_store("hardware-aware", dir, NULL);
	char id[32];

	if (!s)
		exit(99);
	for (int i = 0; i < LEARNED; i++) {
		snprintf(id, sizeof id, "worker-%03d", i);
		CHECK_INT(report(s, 1 + i % 8, id, 1, 1.0 + i, 2.0), LBS_OK);
	}
	wait_committed(s, LEARNED, 10000);
	sched_close(s);
	return dir;
}

/* create fails with LBS_EIO and a message "store 'DIR': ..." containing
 * `problem` (when not NULL), on one line. */
static inline void expect_store_error(const char *config, const char *dir, const char *problem)
{
	char err[1024], prefix[4200];
	shim_sched *s;
	lbs_status st = try_open("hardware-aware", config, &s, err, sizeof err);

	CHECK_INT(st, LBS_EIO);
	if (st == LBS_OK)
		sched_close(s);
	snprintf(prefix, sizeof prefix, "store '%s': ", dir);
	CHECK_CONTAINS(err, prefix);
	CHECK(strchr(err, '\n') == NULL);
	if (problem)
		CHECK_CONTAINS(err, problem);
}

/* ===== The store extension ================================================= */

static const lbs_ext_store *ext;
static const lbs_host_api *ext_host;

static inline void load_ext(void)
{
	loaded_plugin *lp;
	const lbs_plugin_entry *e;
	char err[1024];

	if (host_load(test_host(), getenv("LBS_PLUGIN"), &lp, &ext_host, err, sizeof err) !=
	    LBS_OK) {
		fprintf(stderr, "test fixture broken: %s\n", err);
		exit(99);
	}
	e = loader_entry(lp);
	CHECK(LBS_HAS_FIELD(e, lbs_plugin_entry, get_extension) && e->get_extension != NULL);
	if (LBS_HAS_FIELD(e, lbs_plugin_entry, get_extension) && e->get_extension)
		ext = e->get_extension(LBS_EXT_STORE);
	CHECK(ext != NULL);
	CHECK(e->get_extension == NULL || e->get_extension("lbs.ext.nothing/1") == NULL);
	if (ext) {
		CHECK(ext->struct_size >= sizeof(lbs_ext_store));
		CHECK(ext->export_json && ext->import_json && ext->reset);
		if (ext->struct_size < sizeof(lbs_ext_store) || !ext->export_json ||
		    !ext->import_json || !ext->reset)
			ext = NULL;
	}
}

/* The export text of a store (malloc'ed), or NULL after a failed check. */
static inline char *export_text(const char *dir)
{
	textbuf t = {0};
	char err[1024] = "";
	lbs_status st;

	if (!ext)
		return NULL;
	st = ext->export_json(ext_host, dir, textbuf_write, &t, err, sizeof err);
	CHECK_INT(st, LBS_OK);
	if (st != LBS_OK) {
		fprintf(stderr, "    export %s: %s\n", dir, err);
		free(t.p);
		return NULL;
	}
	return t.p;
}

static inline cJSON *export_doc(const char *dir)
{
	char *t = export_text(dir);
	cJSON *j = t ? cJSON_Parse(t) : NULL;

	CHECK(!t || j != NULL);
	CHECK(!j || cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(j, "records")));
	free(t);
	return j;
}

static inline const cJSON *records(const cJSON *doc)
{
	return cJSON_GetObjectItemCaseSensitive(doc, "records");
}

/* Sum of "samples" over the store, or -1 when it could not be exported. */
static inline long long total_samples(const char *dir)
{
	cJSON *doc = export_doc(dir);
	const cJSON *r;
	long long sum = 0;

	if (!doc)
		return -1;
	cJSON_ArrayForEach(r, records(doc))
		sum += (long long)num(r, "samples");
	cJSON_Delete(doc);
	return sum;
}

static inline const cJSON *find_record(const cJSON *doc, const char *type, const char *worker)
{
	const cJSON *r;

	cJSON_ArrayForEach(r, records(doc)) {
		const char *t = str(r, "workload_type"), *w = str(r, "worker");

		if (t && w && !strcmp(t, type) && !strcmp(w, worker))
			return r;
	}
	return NULL;
}

static inline lbs_status import(const char *dir, const char *json, uint32_t flags,
                                char *err, size_t errlen)
{
	err[0] = '\0';
	return ext->import_json(ext_host, dir, json, strlen(json), flags, err, errlen);
}

/* ===== Other processes ===================================================== */

typedef struct child {
	pid_t pid;
	int fd; /* its stdout (and stderr when asked), -1 at EOF */
	char buf[8192];
	size_t len;
} child;

/* Start argv[0] (a path, or a name looked up in PATH) with stdout into a
 * pipe; stderr too when both_streams.  0, or -1 (errno). */
static inline int spawn(child *c, char *const argv[], int both_streams)
{
	posix_spawn_file_actions_t fa;
	int p[2], rc;

	memset(c, 0, sizeof *c);
	c->fd = -1;
	if (pipe2(p, O_CLOEXEC))
		return -1;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	if (both_streams)
		posix_spawn_file_actions_adddup2(&fa, p[1], 2);
	rc = posix_spawnp(&c->pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	if (rc) {
		close(p[0]);
		errno = rc;
		return -1;
	}
	c->fd = p[0];
	return 0;
}

/* The next line of a child's output: 1 with the line, 0 at EOF, -1 when
 * nothing came for timeout_ms. */
static inline int read_line(child *c, char *line, size_t size, int timeout_ms)
{
	for (;;) {
		char *nl = memchr(c->buf, '\n', c->len);
		struct pollfd pf = {c->fd, POLLIN, 0};
		ssize_t n;

		if (nl) {
			size_t l = (size_t)(nl - c->buf);

			snprintf(line, size, "%.*s", (int)l, c->buf);
			memmove(c->buf, nl + 1, c->len - l - 1);
			c->len -= l + 1;
			return 1;
		}
		if (c->fd < 0 || c->len == sizeof c->buf - 1) {
			if (!c->len)
				return 0;
			snprintf(line, size, "%.*s", (int)c->len, c->buf);
			c->len = 0;
			return 1;
		}
		if (poll(&pf, 1, timeout_ms) == 0)
			return -1;
		n = read(c->fd, c->buf + c->len, sizeof c->buf - 1 - c->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(c->fd);
			c->fd = -1;
		} else {
			c->len += (size_t)n;
		}
	}
}

/* Reap; returns the wait status. */
static inline int reap(child *c)
{
	int status = 0;

	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR)
		;
	return status;
}

/* Is `name` an executable in PATH? */
static inline int have_prog(const char *name)
{
	const char *path = getenv("PATH");
	char buf[4096];

	for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
		const char *end = strchr(p, ':');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		snprintf(buf, sizeof buf, "%.*s/%s", (int)n, p, name);
		if (access(buf, X_OK) == 0)
			return 1;
		if (!end)
			break;
		p = end + 1;
	}
	return 0;
}

/* Run a command to completion, its stdout and stderr into out.  The exit
 * code, or -1 when it could not start or did not exit normally. */
static inline int run(char *const argv[], char *out, size_t outlen)
{
	child c;
	char line[4096];
	size_t used = 0;
	int status, r;

	if (outlen)
		out[0] = '\0';
	if (spawn(&c, argv, 1))
		return -1;
	while ((r = read_line(&c, line, sizeof line, 60000)) == 1)
		if (used < outlen)
			used += (size_t)snprintf(out + used, outlen - used, "%s\n", line);
	if (r < 0)
		kill(c.pid, SIGKILL);
	status = reap(&c);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static inline const char *writer_path(void)
{
	const char *w = getenv("LBS_STORE_WRITER");

	if (!w) {
		fprintf(stderr, "test fixture broken: LBS_STORE_WRITER not set (run through meson test)\n");
		exit(99);
	}
	return w;
}

/* store_writer DIR BATCH_COUNT BATCH_MS N [hold] */
static inline int spawn_writer_args(child *c, const char *dir, int batch_count,
                                    int batch_ms, long long n, int hold)
{
	char bc[32], bm[32], nn[32];
	char *argv[] = {(char *)writer_path(), (char *)dir, bc, bm, nn, hold ? "hold" : NULL,
	                NULL};

	snprintf(bc, sizeof bc, "%d", batch_count);
	snprintf(bm, sizeof bm, "%d", batch_ms);
	snprintf(nn, sizeof nn, "%lld", n);
	if (spawn(c, argv, 0)) {
		fprintf(stderr, "test fixture broken: cannot start %s: %s\n", argv[0],
		        strerror(errno));
		exit(99);
	}
	return 0;
}

static inline int spawn_writer(child *c, const char *dir, int batch_count, int batch_ms,
                               long long n)
{
	return spawn_writer_args(c, dir, batch_count, batch_ms, n, 0);
}

/* The writer's mapping of its i-th outcome, for exact expectations. */
#define W_TYPES 3
#define W_WORKERS 8
#define W_PAIRS (W_TYPES * W_WORKERS)
static const char *const w_type_names[W_TYPES] = {"VISION", "NLP", "AUDIO"};

static inline void writer_expect(long long n, long long samples[W_PAIRS],
                                 long long failures[W_PAIRS])
{
	for (long long i = 0; i < n; i++) {
		samples[i % W_PAIRS]++;
		failures[i % W_PAIRS] += (i / W_PAIRS) % 3 == 0;
	}
}

/* ===== Log capture ========================================================= */

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static char log_text[8192];
static int32_t log_max_level = -1;

static inline void capture_log(void *ctx, int32_t level, const char *msg)
{
	(void)ctx;
	pthread_mutex_lock(&log_mu);
	if (level > log_max_level)
		log_max_level = level;
	if (level >= LBS_LOG_WARN) {
		size_t used = strlen(log_text);

		snprintf(log_text + used, sizeof log_text - used, "%s\n", msg);
	}
	pthread_mutex_unlock(&log_mu);
}

static inline void log_start(void)
{
	pthread_mutex_lock(&log_mu);
	log_text[0] = '\0';
	log_max_level = -1;
	pthread_mutex_unlock(&log_mu);
	host_set_log(test_host(), capture_log, NULL);
}

static inline void log_stop(void)
{
	host_set_log(test_host(), NULL, NULL);
}

#endif
