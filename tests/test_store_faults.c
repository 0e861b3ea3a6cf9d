/*
 * test_store_faults.c -- faults under the learned store.  Each gives a clear
 * error or the degraded mode docs/STORE.md documents ("What a fault does"),
 * never a crash or a silent loss:
 *
 *   - outcomes the store cannot key (SECURITY.md F4, F5): a worker id that
 *     is empty or longer than 510 bytes, a workload type past the last:
 *     refused with LBS_EINVAL, nothing learned, nothing lost;
 *   - new pairs beyond store.max_pairs (SECURITY.md F6), counting pairs
 *     loaded from the store: refused with LBS_EINVAL, counted in
 *     store.refused_pairs and logged; known pairs still learn;
 *   - a truncated data file: create fails naming the store (a SIGBUS in
 *     LMDB before), or runs memory-only when configured; export refuses it;
 *     one cut to 0 bytes too, while one never written opens as new;
 *   - a healthy data file shorter than its last page (pages LMDB counts but
 *     never wrote): opens with all it learned;
 *   - the map full at its ceiling (store.map_max_mb): the failed batch is
 *     kept and retried, reports beyond the queue are refused and counted in
 *     store.lost, and once another process grows the map everything kept
 *     commits;
 *   - a full disk (a 512 KiB tmpfs, when this process may mount one): the
 *     same, and when space returns later commits succeed; a new store on the
 *     full disk is refused (a SIGBUS in LMDB's lock file before); an
 *     instance that ends while the disk is full counts and logs what it
 *     could not commit; a write the full disk cuts short (LMDB's EIO) is
 *     named as the full disk, in a commit and in an import;
 *   - a read-only file system, which stops root too;
 *   - a process killed while it holds LMDB's writer lock (mdb_load halfway
 *     through a load): the next commit goes through;
 *   - every allocation of create() failing in turn, through lbsched-faults.so
 *     (plugin/fault_alloc.h): LBS_ENOMEM or a clean error, no crash, no
 *     leak (ASan build), for hardware-aware with a store, priority with a
 *     store, a composite of them and round-robin.
 *
 * Covered in test_store.c: a corrupt (foreign) data file, a newer schema, an
 * unwritable directory (as nobody), writers killed at any moment and their
 * stale reader slots, the map growing.
 */
#include <sched.h>
#include <sys/mount.h>

#include "store_support.h"

static const char *twins =
	"[{\"worker_id\":\"gpu-a\",\"cpu_cores\":8,\"available_memory\":32,"
	"  \"supported_backends\":[\"cuda\"]},"
	" {\"worker_id\":\"gpu-b\",\"cpu_cores\":8,\"available_memory\":32,"
	"  \"supported_backends\":[\"cuda\"]}]";

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* A top-level number of stats() ("reports", "learned_pairs"), or NAN. */
static double top_stat(shim_sched *s, const char *key)
{
	char *text = sched_stats_text(s);
	cJSON *j = text ? cJSON_Parse(text) : NULL;
	double r = num(j, key);

	cJSON_Delete(j);
	free(text);
	return r;
}

/* Poll stats until everything accepted is committed or kept for a retry
 * has settled: committed reaches n, or timeout_ms passes. */
static store_stats wait_settled(shim_sched *s, double n, int timeout_ms)
{
	store_stats r = stats_of(s);

	for (int waited = 0; r.ok && r.committed < n && waited < timeout_ms; waited += 5) {
		sleep_ms(5);
		r = stats_of(s);
	}
	return r;
}

/* A worker id of about 200 bytes, different for each i: every new one
 * needs room in a leaf page. */
static const char *long_id(const char *tag, int i)
{
	static char id[256];

	snprintf(id, sizeof id, "%s-%06d-%0180d", tag, i, 0);
	return id;
}

/* Report a new pair; counts what report() said. */
static void report_new(shim_sched *s, const char *tag, int i, long *accepted, long *refused,
                       long *other)
{
	lbs_status st = report(s, LBS_WL_VISION, long_id(tag, i), LBS_RESULT_SUCCESS, 1, 1);

	if (st == LBS_OK)
		++*accepted;
	else if (st == LBS_EIO)
		++*refused;
	else
		++*other;
}

/* ===== Outcomes the store cannot key (F4, F5) ============================== */

static void unkeyable_on(shim_sched *s, const char *max_id)
{
	char too_long[STORE_MAX_ID + 2];

	memset(too_long, 'L', STORE_MAX_ID + 1);
	too_long[STORE_MAX_ID + 1] = '\0';
	CHECK_INT(report(s, LBS_WL_VISION, too_long, LBS_RESULT_SUCCESS, 1, 1), LBS_EINVAL);
	CHECK_INT(report(s, LBS_WL_VISION, "", LBS_RESULT_SUCCESS, 1, 1), LBS_EINVAL);
	/* 257's low byte is VISION's: it used to be stored as VISION. */
	CHECK_INT(report(s, 257, "gpu-a", LBS_RESULT_SUCCESS, 1, 1), LBS_EINVAL);
	CHECK_INT(report(s, LBS_WL_COUNT, "gpu-a", LBS_RESULT_FAILURE, 1, 1), LBS_EINVAL);
	CHECK_INT(report(s, UINT32_MAX, "gpu-a", LBS_RESULT_CANCELLED, 1, 1), LBS_EINVAL);
	/* Nothing was learned, not even in memory. */
	CHECK_NEAR(top_stat(s, "reports"), 0, 0);
	CHECK_NEAR(top_stat(s, "learned_pairs"), 0, 0);
	/* The limits themselves are fine. */
	CHECK_INT(report(s, LBS_WL_CONVERSATIONAL, max_id, LBS_RESULT_SUCCESS, 1, 1), LBS_OK);
	CHECK_INT(report(s, LBS_WL_MIXED, "x", LBS_RESULT_SUCCESS, 1, 1), LBS_OK);
	CHECK_NEAR(top_stat(s, "reports"), 2, 0);
	CHECK_NEAR(top_stat(s, "learned_pairs"), 2, 0);
}

static void test_unkeyable_reports(void)
{
	const char *dir = tmp_dir();
	char max_id[STORE_MAX_ID + 1];
	shim_sched *s;
	cJSON *doc;

	memset(max_id, 'M', STORE_MAX_ID);
	max_id[STORE_MAX_ID] = '\0';
	s = open_store("hardware-aware", dir, "\"batch_count\":1,\"batch_ms\":0");
	if (s) {
		store_stats st;

		unkeyable_on(s, max_id);
		st = wait_committed(s, 2, 10000);
		CHECK_NEAR(st.committed, 2, 0);
		CHECK_NEAR(st.lost, 0, 0);
		sched_close(s);
	}
	/* Without a store the same rule holds. */
	s = test_sched("priority", NULL);
	unkeyable_on(s, max_id);
	sched_close(s);

	doc = export_doc(dir);
	CHECK_INT(cJSON_GetArraySize(records(doc)), 2);
	CHECK(find_record(doc, "CONVERSATIONAL", max_id) != NULL);
	CHECK(find_record(doc, "MIXED", "x") != NULL);
	CHECK(find_record(doc, "VISION", "gpu-a") == NULL);
	cJSON_Delete(doc);
}

/* ===== More pairs than store.max_pairs (F6) ================================ */

/* Occurrences of `what` in the captured log. */
static int log_count(const char *what)
{
	int n = 0;

	for (const char *p = log_text; (p = strstr(p, what)) != NULL; p++)
		n++;
	return n;
}

static void test_pair_limit(void)
{
	const char *dir = tmp_dir();
	const char *cfg = "\"max_pairs\":3,\"batch_count\":1,\"batch_ms\":0";
	char prefix[4200];
	store_stats st;
	shim_sched *s;
	cJSON *doc;

	log_start();
	s = open_store("hardware-aware", dir, cfg);
	if (!s) {
		log_stop();
		return;
	}
	CHECK_INT(report(s, LBS_WL_VISION, "w-1", LBS_RESULT_SUCCESS, 1, 1), LBS_OK);
	CHECK_INT(report(s, LBS_WL_VISION, "w-2", LBS_RESULT_FAILURE, 1, 1), LBS_OK);
	CHECK_INT(report(s, LBS_WL_VISION, "w-3", LBS_RESULT_SUCCESS, 1, 1), LBS_OK);
	/* A fourth worker, or a known worker for another type, is a new pair. */
	CHECK_INT(report(s, LBS_WL_VISION, "w-4", LBS_RESULT_SUCCESS, 1, 1), LBS_EINVAL);
	snprintf(prefix, sizeof prefix, "store '%s': an outcome for the new pair (VISION, w-4) is "
	         "refused: 3 pairs are known and store.max_pairs is 3", dir);
	CHECK_CONTAINS(log_text, prefix);
	CHECK_INT(report(s, LBS_WL_NLP, "w-1", LBS_RESULT_SUCCESS, 1, 1), LBS_EINVAL);
	/* Logged once, not once per refusal; counted every time. */
	CHECK_INT(log_count("store.max_pairs"), 1);
	/* A cancelled outcome learns nothing, so it adds no pair. */
	CHECK_INT(report(s, LBS_WL_VISION, "w-5", LBS_RESULT_CANCELLED, 1, 1), LBS_OK);
	/* Known pairs still learn. */
	CHECK_INT(report(s, LBS_WL_VISION, "w-2", LBS_RESULT_SUCCESS, 1, 1), LBS_OK);
	st = wait_committed(s, 4, 10000);
	CHECK_NEAR(st.committed, 4, 0);
	CHECK_NEAR(st.refused_pairs, 2, 0);
	CHECK_NEAR(st.lost, 0, 0);
	CHECK_NEAR(top_stat(s, "learned_pairs"), 3, 0);
	CHECK_NEAR(top_stat(s, "reports"), 5, 0);
	sched_close(s);

	doc = export_doc(dir);
	CHECK_INT(cJSON_GetArraySize(records(doc)), 3);
	CHECK_NEAR(num(find_record(doc, "VISION", "w-2"), "samples"), 2, 0);
	CHECK(find_record(doc, "VISION", "w-4") == NULL);
	CHECK(find_record(doc, "NLP", "w-1") == NULL);
	cJSON_Delete(doc);

	/* A new instance on the same store counts the pairs it loaded. */
	s = open_store("priority", dir, cfg);
	if (s) {
		CHECK_NEAR(top_stat(s, "learned_pairs"), 3, 0);
		CHECK_INT(report(s, LBS_WL_AUDIO, "w-6", LBS_RESULT_SUCCESS, 1, 1), LBS_EINVAL);
		CHECK_INT(report(s, LBS_WL_VISION, "w-3", LBS_RESULT_SUCCESS, 1, 1), LBS_OK);
		st = wait_committed(s, 1, 10000);
		CHECK_NEAR(st.committed, 1, 0);
		CHECK_NEAR(st.refused_pairs, 1, 0);
		CHECK_NEAR(st.pairs, 3, 0);
		sched_close(s);
	}
	/* The limit is the config's: raised, the next new pair is taken. */
	s = open_store("hardware-aware", dir, "\"max_pairs\":4");
	if (s) {
		CHECK_INT(report(s, LBS_WL_AUDIO, "w-6", LBS_RESULT_SUCCESS, 1, 1), LBS_OK);
		CHECK_INT(report(s, LBS_WL_AUDIO, "w-7", LBS_RESULT_SUCCESS, 1, 1), LBS_EINVAL);
		sched_close(s);
	}
	log_stop();
	CHECK_INT(log_count("store.max_pairs"), 3);
	CHECK_INT(total_samples(dir), 6);

	/* Out of range or not a count: refused at create, on one line. */
	{
		static const char *const bad[] = {"0", "16777217", "-1", "2.5", "\"3\"", "null"};
		char extra[64], err[1024];

		for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
			snprintf(extra, sizeof extra, "\"max_pairs\":%s", bad[i]);
			CHECK_INT(try_open("hardware-aware", store_config(dir, extra), &s, err,
			                   sizeof err), LBS_ECONFIG);
			if (s)
				sched_close(s);
			CHECK_CONTAINS(err, "config field 'store.max_pairs': ");
			CHECK(strchr(err, '\n') == NULL);
		}
		CHECK_CONTAINS(err, "store.max_pairs");
		/* Both ends of the range are taken. */
		for (size_t i = 0; i < 2; i++) {
			snprintf(extra, sizeof extra, "\"max_pairs\":%s", i ? "16777216" : "1");
			CHECK_INT(try_open("hardware-aware", store_config(dir, extra), &s, err,
			                   sizeof err), LBS_OK);
			if (s)
				sched_close(s);
		}
	}
}

/* ===== A truncated data file =============================================== */

static long file_size(const char *path)
{
	struct stat sb;

	return stat(path, &sb) ? -1 : (long)sb.st_size;
}

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *fp = fopen(path, "wb");

	if (!fp || fwrite(data, 1, len, fp) != len || fclose(fp)) {
		fprintf(stderr, "test fixture broken: cannot write %s\n", path);
		exit(99);
	}
}

static void test_truncated(void)
{
	const char *dir = tmp_dir();
	const char *data = pathf("%s/data.mdb", dir, NULL);
	shim_sched *s = open_store("hardware-aware", dir, NULL);
	long page = sysconf(_SC_PAGESIZE), size;
	char *whole;
	FILE *fp;

	if (!s)
		return;
	for (int i = 0; i < 200; i++)
		CHECK_INT(report(s, LBS_WL_NLP, long_id("t", i), LBS_RESULT_SUCCESS, 1, 1), LBS_OK);
	sched_close(s);
	size = file_size(data);
	CHECK(size > 8 * page);
	whole = malloc((size_t)size);
	fp = fopen(data, "rb");
	if (!whole || !fp || fread(whole, 1, (size_t)size, fp) != (size_t)size) {
		fprintf(stderr, "test fixture broken: cannot read %s\n", data);
		exit(99);
	}
	fclose(fp);

	/* Cut anywhere past the two meta pages: the last page, half, all
	 * the data.  LMDB opens such a file and dies at the first read past
	 * its end; the plugin refuses it. */
	{
		const long cuts[] = {size - page, size / 2, 2 * page};

		for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
			write_file(data, whole, (size_t)cuts[i]);
			expect_store_error(store_config(dir, NULL), dir, "data.mdb is truncated");
			if (ext) {
				textbuf t = {0};
				char err[1024] = "";

				CHECK_INT(ext->export_json(ext_host, dir, textbuf_write, &t, err,
				                           sizeof err), LBS_EIO);
				CHECK_CONTAINS(err, "truncated");
				free(t.p);
			}
			/* Left as it was for someone to look at, not "repaired". */
			CHECK_INT(file_size(data), cuts[i]);
		}
	}
	/* on_error "memory": created, memory-only, and it says why. */
	{
		char err[1024];

		log_start();
		CHECK_INT(try_open("hardware-aware", store_config(dir, "\"on_error\":\"memory\""), &s,
		                   err, sizeof err), LBS_OK);
		log_stop();
		CHECK_CONTAINS(log_text, "RUNNING MEMORY-ONLY");
		CHECK_CONTAINS(log_text, "truncated");
		if (s) {
			CHECK(!stats_of(s).persistent);
			CHECK_INT(report(s, LBS_WL_NLP, "gpu-a", LBS_RESULT_SUCCESS, 1, 1), LBS_OK);
			sched_close(s);
		}
	}
	/* Cut to nothing: not a new store, as lock.mdb counts what was
	 * committed; opening it would write an empty store over it. */
	{
		const char *lock = pathf("%s/lock.mdb", dir, NULL);
		long lock_size = file_size(lock);
		char prefix[4200];

		write_file(data, whole, 0);
		snprintf(prefix, sizeof prefix, "data.mdb is empty (0 bytes), yet lock.mdb says "
		         "transaction ");
		expect_store_error(store_config(dir, NULL), dir, prefix);
		expect_store_error(store_config(dir, NULL), dir, "(the data file is damaged or not "
		                   "an LMDB file); it is left as it is: restore it from a prefs "
		                   "export or move it away");
		if (ext) {
			textbuf t = {0};
			char err[1024] = "";

			CHECK_INT(ext->export_json(ext_host, dir, textbuf_write, &t, err, sizeof err),
			          LBS_EIO);
			CHECK_CONTAINS(err, "data.mdb is empty (0 bytes), yet lock.mdb says");
			CHECK(t.p == NULL || strstr(t.p, "records") == NULL);
			free(t.p);
		}
		CHECK_INT(file_size(data), 0);
		CHECK_INT(file_size(lock), lock_size);
	}
	/* Cut inside the meta pages: LMDB itself calls it not an LMDB file. */
	write_file(data, whole, 100);
	expect_store_error(store_config(dir, NULL), dir, "(the data file is damaged");
	/* The whole file back: all there. */
	write_file(data, whole, (size_t)size);
	CHECK_INT(total_samples(dir), 200);
	free(whole);
}

/*
 * A data.mdb of 0 bytes that was never written is a new store, whatever
 * else is there: LMDB writes its first pages in the open that makes the
 * file, and a crash or a full disk before that leaves it empty, with a
 * lock.mdb LMDB never set up (zeros: the plugin reserves its blocks first)
 * or one that counts no transaction.  A data.mdb moved away is a new store
 * too, lock.mdb of the old one or not.
 */
struct lmdb_lock_head { /* plugin/store.c's: LMDB 0.9's MDB_txbody */
	uint32_t magic, format;
	pthread_mutex_t rmutex;
	size_t txnid;
};

static void test_empty_never_written(void)
{
	static char zeros[8192];
	const char *dir = tmp_dir();
	const char *data = pathf("%s/data.mdb", dir, NULL);
	const char *lock = pathf("%s/lock.mdb", dir, NULL);
	struct lmdb_lock_head h;
	shim_sched *s;
	FILE *fp;

	/* no lock.mdb */
	write_file(data, "", 0);
	s = open_store("hardware-aware", dir, NULL);
	CHECK_INT(!s ? LBS_EINTERNAL
	          : report(s, LBS_WL_NLP, "a", LBS_RESULT_SUCCESS, 1, 1), LBS_OK);
	sched_close(s);
	CHECK_INT(total_samples(dir), 1);
	/* moved away, the old lock.mdb left (it counts transactions) */
	CHECK_INT(unlink(data), 0);
	s = open_store("hardware-aware", dir, NULL);
	CHECK_INT(!s ? LBS_EINTERNAL
	          : report(s, LBS_WL_NLP, "b", LBS_RESULT_SUCCESS, 1, 1), LBS_OK);
	sched_close(s);
	CHECK_INT(total_samples(dir), 1);
	/* lock.mdb of LMDB's layout saying no transaction was committed */
	fp = fopen(lock, "r+b");
	CHECK(fp && fread(&h, sizeof h, 1, fp) == 1 && h.magic == 0xBEEFC0DEu && h.txnid > 0);
	if (fp) {
		h.txnid = 0;
		CHECK(fseek(fp, 0, SEEK_SET) == 0 && fwrite(&h, sizeof h, 1, fp) == 1);
		fclose(fp);
	}
	write_file(data, "", 0);
	s = open_store("hardware-aware", dir, NULL);
	sched_close(s);
	CHECK_INT(total_samples(dir), 0);
	/* lock.mdb as the plugin reserves it, LMDB never there */
	write_file(lock, zeros, sizeof zeros);
	write_file(data, "", 0);
	s = open_store("hardware-aware", dir, NULL);
	sched_close(s);
	CHECK_INT(total_samples(dir), 0);
}

/* ===== A healthy file shorter than its last page ========================= */

/* LMDB counts the pages a transaction allocated and freed again but never
 * writes them: another writer (tests/lmdb_loose.c) leaves data.mdb short
 * with every page in use inside it.  That is no truncation: the store
 * opens, keeps what it learned and learns on; export reads it. */
static void test_loose_pages(void)
{
	const char *dir = tmp_dir();
	const char *loose = getenv("LBS_LMDB_LOOSE");
	char out[512], err[1024];
	char *argv[] = {(char *)loose, (char *)dir, NULL};
	unsigned long long have = 0, counted = 0;
	shim_sched *s = open_store("hardware-aware", dir, NULL);

	if (!loose) {
		fprintf(stderr, "test fixture broken: LBS_LMDB_LOOSE not set (run through meson test)\n");
		exit(99);
	}
	if (!s)
		return;
	for (int i = 0; i < 200; i++)
		CHECK_INT(report(s, LBS_WL_NLP, long_id("t", i), LBS_RESULT_SUCCESS, 1, 1), LBS_OK);
	sched_close(s);
	CHECK_INT(run(argv, out, sizeof out), 0);
	CHECK(sscanf(out, "short %llu %llu", &have, &counted) == 2 && have < counted);
	CHECK_INT(file_size(pathf("%s/data.mdb", dir, NULL)), (long)have);

	CHECK_INT(try_open("hardware-aware", store_config(dir, NULL), &s, err, sizeof err), LBS_OK);
	if (!s) {
		fprintf(stderr, "    %s\n", err);
		return;
	}
	CHECK_INT(stats_of(s).pairs, 200);
	CHECK_INT(report(s, LBS_WL_NLP, "gpu-a", LBS_RESULT_SUCCESS, 1, 1), LBS_OK);
	sched_close(s);
	CHECK_INT(total_samples(dir), 201);
}

/* ===== The map full at its ceiling ========================================== */

static void test_map_ceiling(void)
{
	const char *dir = tmp_dir();
	char err[1024], line[256], prefix[4200];
	long accepted = 0, refused = 0, other = 0, done = -1;
	store_stats st = {0};
	shim_sched *s;
	child w;
	int i, status;

	log_start();
	CHECK_INT(try_open("hardware-aware",
	                   store_config(dir, "\"map_size_mb\":1,\"map_max_mb\":1,\"batch_count\":64,"
	                                     "\"batch_ms\":1,\"queue_max\":1000,\"block_ms\":1"),
	                   &s, err, sizeof err), LBS_OK);
	if (!s) {
		log_stop();
		return;
	}
	/* New pairs until a commit fails: 1 MiB holds a few thousand. */
	for (i = 0; i < 40000 && !(st.failed_commits > 0); i++) {
		report_new(s, "m", i, &accepted, &refused, &other);
		if (i % 64 == 63) {
			st = wait_settled(s, (double)accepted, 2000);
			if (st.failed_commits > 0)
				break;
		}
	}
	st = stats_of(s);
	CHECK(st.failed_commits >= 1);
	CHECK(st.retrying > 0);
	CHECK_NEAR(st.map_grows, 0, 0);
	CHECK_INT(refused + other, 0);
	snprintf(prefix, sizeof prefix, "store '%s': commit failed", dir);
	CHECK_CONTAINS(log_text, prefix);
	CHECK_CONTAINS(log_text, "MDB_MAP_FULL");
	CHECK_CONTAINS(log_text, "map_max_mb");
	/* The queue fills behind the kept batch, growing from 256 entries to
	 * exactly queue_max, then reports are refused at once and counted. */
	for (int j = 0; j < 1200; j++)
		report_new(s, "q", j, &accepted, &refused, &other);
	st = stats_of(s);
	CHECK(refused > 0);
	CHECK_INT(other, 0);
	CHECK_NEAR(st.lost, (double)refused, 0);
	CHECK_NEAR(st.queued, 1000, 0);
	/* Nothing unaccounted for. */
	CHECK_NEAR(st.committed + st.retrying + st.queued, (double)accepted, 0);
	printf("map ceiling: %.0f committed in 1 MiB, %.0f kept for a retry, %.0f queued, %ld "
	       "refused and counted lost\n", st.committed, st.retrying, st.queued, refused);

	/* Room comes back: another process, with the default ceiling, grows
	 * the map.  What was kept and queued commits. */
	spawn_writer(&w, dir, 24, 5, 240);
	while (read_line(&w, line, sizeof line, 60000) == 1)
		sscanf(line, "done %ld", &done);
	status = reap(&w);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK_INT(done, 240);
	st = wait_settled(s, (double)accepted, 15000);
	CHECK_NEAR(st.committed, (double)accepted, 0);
	CHECK_NEAR(st.retrying, 0, 0);
	CHECK_NEAR(st.queued, 0, 0);
	CHECK_NEAR(st.lost, (double)refused, 0);
	CHECK_CONTAINS(log_text, "commits succeed again");
	/* And later ones too. */
	for (int j = 0; j < 10; j++)
		report_new(s, "later", j, &accepted, &refused, &other);
	st = wait_settled(s, (double)accepted, 10000);
	CHECK_NEAR(st.committed, (double)accepted, 0);
	sched_close(s);
	log_stop();
	CHECK_INT(total_samples(dir), accepted + 240);
}

/* ===== A full disk ========================================================== */

/* Fill the file system of `path` with it: 0, or -1 when it would not
 * fill (no ENOSPC in 64 MiB). */
static int fill_disk(const char *path)
{
	static char block[4096];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	long written = 0;
	ssize_t n = 0;

	if (fd < 0)
		return -1;
	while (written < 64L << 20 && (n = write(fd, block, sizeof block)) > 0)
		written += n;
	close(fd);
	return n < 0 && errno == ENOSPC ? 0 : -1;
}

/* The sum of N over "the instance ends and N outcomes could not be
 * committed" in the captured log (the kept batch, then the queue), or -1. */
static long dropped_in_log(void)
{
	const char *p = log_text;
	long sum = -1, n;

	while ((p = strstr(p, "the instance ends and ")) != NULL) {
		if (sscanf(p, "the instance ends and %ld outcomes", &n) == 1)
			sum = (sum < 0 ? 0 : sum) + n;
		p++;
	}
	return sum;
}

static void test_disk_full(const char *disk)
{
	const char *dir = pathf("%s/store", disk, NULL);
	const char *filler = pathf("%s/filler", disk, NULL);
	const char *fresh = pathf("%s/new-store", disk, NULL);
	char err[1024], prefix[4200];
	long accepted = 0, refused = 0, other = 0, dropped;
	store_stats st = {0};
	shim_sched *s;

	log_start();
	CHECK_INT(try_open("hardware-aware",
	                   store_config(dir, "\"batch_count\":16,\"batch_ms\":1,\"queue_max\":128,"
	                                     "\"block_ms\":1"),
	                   &s, err, sizeof err), LBS_OK);
	if (!s) {
		fprintf(stderr, "    %s\n", err);
		log_stop();
		return;
	}
	for (int i = 0; i < 32; i++)
		report_new(s, "room", i, &accepted, &refused, &other);
	st = wait_settled(s, (double)accepted, 10000);
	CHECK_NEAR(st.committed, 32, 0);

	/* Another file takes the rest of the disk.  New pairs need new
	 * pages, and writing them fails. */
	CHECK_INT(fill_disk(filler), 0);
	for (int i = 0; i < 2000 && !(st.failed_commits > 0); i++) {
		report_new(s, "full", i, &accepted, &refused, &other);
		if (i % 16 == 15)
			st = wait_settled(s, (double)accepted, 1000);
	}
	st = stats_of(s);
	CHECK(st.failed_commits >= 1);
	CHECK(st.retrying > 0);
	CHECK_INT(refused + other, 0);
	CHECK_NEAR(st.lost, 0, 0);
	snprintf(prefix, sizeof prefix, "store '%s': commit failed", dir);
	CHECK_CONTAINS(log_text, prefix);
	CHECK_CONTAINS(log_text, strerror(ENOSPC));
	CHECK_CONTAINS(log_text, "(the disk is full)");
	/* Behind the kept batch the queue fills; then refused, counted. */
	for (int i = 0; i < 300; i++)
		report_new(s, "queue", i, &accepted, &refused, &other);
	st = stats_of(s);
	CHECK(refused > 0);
	CHECK_INT(other, 0);
	CHECK_NEAR(st.lost, (double)refused, 0);
	CHECK_NEAR(st.committed + st.retrying + st.queued, (double)accepted, 0);
	printf("disk full: %.0f committed, %.0f kept for a retry, %.0f queued, %ld refused and "
	       "counted lost\n", st.committed, st.retrying, st.queued, refused);

	/* A new store on the full disk is refused with the reason. */
	expect_store_error(store_config(fresh, NULL), fresh, strerror(ENOSPC));

	/* Space returns: what was kept and queued commits, later ones too. */
	CHECK_INT(unlink(filler), 0);
	st = wait_settled(s, (double)accepted, 15000);
	CHECK_NEAR(st.committed, (double)accepted, 0);
	CHECK_NEAR(st.retrying, 0, 0);
	CHECK_NEAR(st.lost, (double)refused, 0);
	CHECK_CONTAINS(log_text, "commits succeed again");
	for (int i = 0; i < 10; i++)
		report_new(s, "after", i, &accepted, &refused, &other);
	st = wait_settled(s, (double)accepted, 10000);
	CHECK_NEAR(st.committed, (double)accepted, 0);

	/* The disk fills again and the instance ends: what it could not
	 * commit is counted and logged, never silently gone. */
	CHECK_INT(fill_disk(filler), 0);
	{
		double before = stats_of(s).failed_commits;

		for (int i = 0; i < 2000 && stats_of(s).failed_commits == before; i++) {
			report_new(s, "end", i, &accepted, &refused, &other);
			if (i % 16 == 15)
				wait_settled(s, (double)accepted, 200);
		}
	}
	st = stats_of(s);
	CHECK(st.retrying > 0);
	sched_close(s);
	log_stop();
	dropped = dropped_in_log();
	CHECK(dropped > 0);
	CHECK_CONTAINS(log_text, "could not be committed, they are lost");
	/* Between the snapshot and the close the flusher may still commit
	 * some of what was pending (a TSan run found one more in the store
	 * than the snapshot's count: a commit that needed no new page): the
	 * lost are among the pending, and every accepted outcome is in the
	 * store or counted lost, none silently gone. */
	CHECK(dropped <= (long)(st.retrying + st.queued));
	CHECK_INT(unlink(filler), 0);
	CHECK(total_samples(dir) >= (long)st.committed);
	CHECK_INT(total_samples(dir) + dropped, accepted);
}

/* A read-only file system stops root too (a chmod does not). */
static void test_read_only_fs(const char *disk)
{
	const char *dir = pathf("%s/ro-store", disk, NULL);
	shim_sched *s = open_store("priority", dir, NULL);
	char err[1024];

	if (!s)
		return;
	CHECK_INT(report(s, LBS_WL_AUDIO, "mic-1", LBS_RESULT_SUCCESS, 1, 1), LBS_OK);
	sched_close(s);
	if (mount(NULL, disk, NULL, MS_REMOUNT | MS_RDONLY, "size=512k")) {
		printf("note: cannot remount the tmpfs read-only (%s): that check is skipped\n",
		       strerror(errno));
		return;
	}
	expect_store_error(store_config(dir, NULL), dir, "(the directory must be writable and searchable (w and x) and its files writable, even to read");
	log_start();
	CHECK_INT(try_open("hardware-aware", store_config(dir, "\"on_error\":\"memory\""), &s, err,
	                   sizeof err), LBS_OK);
	log_stop();
	CHECK_CONTAINS(log_text, "RUNNING MEMORY-ONLY");
	CHECK_CONTAINS(log_text, "Read-only file system");
	if (s)
		sched_close(s);
	CHECK_INT(mount(NULL, disk, NULL, MS_REMOUNT, "size=512k"), 0);
	CHECK_INT(total_samples(dir), 1);
}

/*
 * A 512 KiB tmpfs in a mount namespace of our own (so it goes away with
 * the test whatever happens), as root.  0 with disk set, or -1 with a note.
 */
static int mount_small_disk(const char **disk)
{
	const char *dir = pathf("%s/disk", tmp_dir(), NULL);

	mkdir(dir, 0700);
	if (unshare(CLONE_NEWNS) == 0)
		mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
	if (mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, "size=512k,mode=0700")) {
		printf("note: cannot mount a 512 KiB tmpfs here (%s): the full disk is stood in for "
		       "by a 1 MiB map at its ceiling (map ceiling above), the read-only file system "
		       "by test_store's unwritable directory\n", strerror(errno));
		return -1;
	}
	*disk = dir;
	return 0;
}

/*
 * A write the disk cuts short: LMDB turns a short write into EIO, and the
 * user saw "Input/output error" where the disk was full.  A disk of its own,
 * a little smaller than what is written, so that a write finds some room
 * and is cut (test_disk_full fills the disk first, and the write fails
 * whole with ENOSPC).  Mounted in the namespace mount_small_disk made;
 * skipped with a note where mounting is not permitted.
 */
static void test_short_write(void)
{
	const char *disk = pathf("%s/short", tmp_dir(), NULL);
	const char *dir = pathf("%s/import", disk, NULL);
	const char *rec = "{\"workload_type\":\"NLP\",\"worker\":\"w-%05d-%0400d\",\"samples\":1,"
	                  "\"successes\":1,\"failures\":0,\"preference\":0.5,\"mean_duration\":1,"
	                  "\"var_duration\":0,\"last_update\":1700000000}";
	size_t cap = 3000 * 600 + 64, used;
	char *doc = malloc(cap), err[1024], prefix[4200];
	shim_sched *s;

	mkdir(disk, 0700);
	if (!doc || mount("tmpfs", disk, "tmpfs", MS_NOSUID | MS_NODEV, "size=200k,mode=0700")) {
		printf("note: cannot mount a 200 KiB tmpfs here (%s): the short write of a full disk "
		       "is not tested\n", doc ? strerror(errno) : "out of memory");
		free(doc);
		return;
	}
	/* an import: all or nothing, and the message says why */
	used = (size_t)snprintf(doc, cap, "{\"schema\":1,\"records\":[");
	for (int i = 0; i < 3000; i++) {
		used += (size_t)snprintf(doc + used, cap - used, i ? "," : "");
		used += (size_t)snprintf(doc + used, cap - used, rec, i, i);
	}
	snprintf(doc + used, cap - used, "]}");
	if (ext) {
		CHECK_INT(import(dir, doc, LBS_IMPORT_MERGE, err, sizeof err), LBS_EIO);
		snprintf(prefix, sizeof prefix, "store '%s': nothing written: %s (the disk is full)",
		         dir, strerror(ENOSPC));
		CHECK_CONTAINS(err, prefix);
		CHECK(strstr(err, strerror(EIO)) == NULL);
	}
	free(doc);
	/* a scheduler's commit: kept and retried, logged as a full disk */
	dir = pathf("%s/commit", disk, NULL);
	rm_rf(pathf("%s/import", disk, NULL));
	log_start();
	/* one batch of them all: one commit, its writes many pages long */
	s = open_store("hardware-aware", dir, "\"batch_count\":3000,\"batch_ms\":60000");
	for (int i = 0; s && i < 3000; i++) {
		char id[480];

		snprintf(id, sizeof id, "w-%05d-%0400d", i, i);
		CHECK_INT(report(s, LBS_WL_NLP, id, LBS_RESULT_SUCCESS, 1, 1), LBS_OK);
	}
	if (s) {
		store_stats st;

		st = stats_of(s);
		for (int waited = 0; !(st.failed_commits >= 1) && waited < 10000; waited += 5) {
			sleep_ms(5);
			st = stats_of(s);
		}
		CHECK(st.failed_commits >= 1);
		CHECK(st.retrying > 0);
		sched_close(s);
	}
	log_stop();
	snprintf(prefix, sizeof prefix, "store '%s': commit failed: %s (the disk is full)", dir,
	         strerror(ENOSPC));
	CHECK_CONTAINS(log_text, prefix);
	CHECK(strstr(log_text, strerror(EIO)) == NULL);
	CHECK_INT(umount2(disk, MNT_DETACH), 0);
}

/* ===== A killed process's writer lock ====================================== */

/* mdb_load DIR with its stdin a pipe we hold: 0 with *fd, or -1. */
static int spawn_loader(const char *dir, pid_t *pid, int *fd)
{
	char *argv[] = {"mdb_load", (char *)dir, NULL};
	posix_spawn_file_actions_t fa;
	int p[2], rc;

	if (pipe2(p, O_CLOEXEC))
		return -1;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[0], 0);
	rc = posix_spawnp(pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(p[0]);
	if (rc) {
		close(p[1]);
		return -1;
	}
	*fd = p[1];
	return 0;
}

/* Is pid asleep reading a pipe?  -1 when the kernel does not say. */
static int reading_pipe(pid_t pid)
{
	char path[64], wchan[128] = "";
	FILE *fp;

	snprintf(path, sizeof path, "/proc/%d/wchan", (int)pid);
	fp = fopen(path, "r");
	if (!fp)
		return -1;
	if (!fgets(wchan, sizeof wchan, fp))
		wchan[0] = '\0';
	fclose(fp);
	if (!wchan[0] || !strcmp(wchan, "0"))
		return -1;
	return strstr(wchan, "pipe_read") != NULL;
}

static void test_killed_writer_lock(void)
{
	static const char header[] = "VERSION=3\nformat=bytevalue\ntype=btree\nHEADER=END\n";
	const char *dir = tmp_dir();
	shim_sched *s = open_store("hardware-aware", dir, "\"batch_count\":1,\"batch_ms\":0");
	store_stats st;
	pid_t pid;
	int fd, status, r = -1;

	if (!s)
		return;
	if (!have_prog("mdb_load")) {
		printf("note: mdb_load not found (Debian: lmdb-utils); the killed-writer-lock check "
		       "is skipped\n");
		sched_close(s);
		return;
	}
	CHECK_INT(report(s, LBS_WL_VISION, "gpu-a", LBS_RESULT_SUCCESS, 1, 1), LBS_OK);
	CHECK_NEAR(wait_committed(s, 1, 10000).committed, 1, 0);
	/* mdb_load begins its write transaction after the header and then
	 * waits for records that never come. */
	if (spawn_loader(dir, &pid, &fd)) {
		fprintf(stderr, "test fixture broken: cannot start mdb_load: %s\n", strerror(errno));
		exit(99);
	}
	CHECK(write(fd, header, sizeof header - 1) == (ssize_t)(sizeof header - 1));
	/* "0" is also what a running process shows: poll until it sleeps in
	 * pipe_read.  A kernel that names no wait channel for a second has
	 * none to name: then give mdb_load the time it needs. */
	for (int waited = 0, named = 0; waited < 10000; waited += 5) {
		if ((r = reading_pipe(pid)) == 1)
			break;
		named |= r == 0;
		if (!named && waited >= 1000) {
			sleep_ms(2000);
			break;
		}
		sleep_ms(5);
	}
	/* It holds the lock: our next commit waits. */
	CHECK_INT(report(s, LBS_WL_VISION, "gpu-b", LBS_RESULT_SUCCESS, 1, 1), LBS_OK);
	sleep_ms(300);
	st = stats_of(s);
	CHECK_NEAR(st.committed, 1, 0);
	/* Killed with the lock held: LMDB's robust mutex passes it on. */
	kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	close(fd);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	st = wait_committed(s, 2, 10000);
	CHECK_NEAR(st.committed, 2, 0);
	CHECK_NEAR(st.lost, 0, 0);
	CHECK_NEAR(st.failed_commits, 0, 0);
	sched_close(s);
	/* Other processes write on, each outcome counted once. */
	{
		child w;
		char line[256];
		long done = -1;

		spawn_writer(&w, dir, 16, 5, 240);
		while (read_line(&w, line, sizeof line, 60000) == 1)
			sscanf(line, "done %ld", &done);
		reap(&w);
		CHECK_INT(done, 240);
	}
	CHECK_INT(total_samples(dir), 2 + 240);
}

/* ===== Every allocation of create failing in turn ========================== */

#define MAX_ALLOCS 5000

enum { CHILD_CREATED = 0, CHILD_BAD = 1, CHILD_REFUSED = 10 };

/* In a child: create with allocation #n failing, then use and destroy
 * what was created.  Exits CHILD_*. */
static void fault_child(const char *plugin, const char *name, const char *config, long n)
{
	fleet f = fleet_parse(twins);
	lbs_workload wl = workload_parse(f.arena, "{\"test_id\":\"v\",\"test_type\":\"vision\"}");
	char env[32], err[1024] = "";
	shim_sched *s = NULL;
	lbs_status st;

	n_tmp = 0; /* the parent's directories are not ours to remove at exit */
	snprintf(env, sizeof env, "%ld", n);
	setenv("LBS_FAULT_ALLOC_FAIL", env, 1);
	st = sched_open(test_host(), plugin, name, config, strlen(config), &s, err, sizeof err);
	if (st != LBS_OK) {
		fleet_free(&f);
		/* refused, and said so: an empty reason reached the host as
		 * "create failed without a reason" */
		if (st < 0 && strstr(err, "out of memory"))
			exit(CHILD_REFUSED);
		fprintf(stderr, "create with allocation #%ld failing: status %d, '%s'\n", n, (int)st,
		        err);
		exit(CHILD_BAD);
	}
	/* A failure after create (the allocation counted there) is an
	 * error answer or survived, never a crash. */
	pick(s, &wl, &f);
	st = report(s, LBS_WL_VISION, "gpu-a", LBS_RESULT_SUCCESS, 1, 1);
	if (st != LBS_OK && st != LBS_ENOMEM && st != LBS_EIO && st != LBS_EUNSUPPORTED) {
		fprintf(stderr, "report with allocation #%ld failing: status %d\n", n, (int)st);
		exit(CHILD_BAD);
	}
	stats_of(s);
	sched_close(s);
	fleet_free(&f);
	exit(CHILD_CREATED);
}

/* One child's stderr: what fits in buf, the rest read and dropped. */
static void read_all(int fd, char *buf, size_t size)
{
	char scrap[256];
	size_t used = 0;

	for (;;) {
		int room = used + 1 < size;
		ssize_t n = read(fd, room ? buf + used : scrap, room ? size - 1 - used : sizeof scrap);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (room)
			used += (size_t)n;
	}
	buf[used] = '\0';
}

static void fault_loop(const char *name, const char *config)
{
	const char *plugin = getenv("LBS_FAULT_PLUGIN");
	long n, refused = 0, survived = 0;
	int finished = 0;

	for (n = 1; n <= MAX_ALLOCS && !finished; n++) {
		char out[16384];
		int p[2], status, code;
		pid_t pid;

		if (pipe2(p, O_CLOEXEC)) {
			fprintf(stderr, "test fixture broken: pipe: %s\n", strerror(errno));
			exit(99);
		}
		fflush(NULL);
		pid = fork();
		if (pid == 0) {
			dup2(p[1], 2);
			fault_child(plugin, name, config, n);
		}
		close(p[1]);
		read_all(p[0], out, sizeof out);
		close(p[0]);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		if (code != CHILD_CREATED && code != CHILD_REFUSED) {
			CHECK(code == CHILD_CREATED || code == CHILD_REFUSED);
			fprintf(stderr, "    %s, allocation #%ld failing: %s %d\n%s", name, n,
			        WIFSIGNALED(status) ? "killed by signal" : "exit",
			        WIFSIGNALED(status) ? WTERMSIG(status) : code, out);
			return;
		}
		if (code == CHILD_REFUSED) {
			/* Refused because of the failure, not by chance. */
			CHECK_CONTAINS(out, "lbs-fault: allocation #");
			refused++;
		} else if (strstr(out, "lbs-fault: allocation #")) {
			survived++;
		} else {
			finished = 1; /* n is past the last allocation */
		}
	}
	CHECK(finished);
	printf("malloc failure: %s: %ld allocations to create, use and destroy; %ld failures "
	       "refused create (LBS_ENOMEM or \"out of memory\"), %ld were survived\n", name,
	       n - 2, refused, survived);
}

static void test_malloc_failures(void)
{
	const char *hw = tmp_dir(), *pr = tmp_dir(), *cp = tmp_dir();
	char config[8192];

	if (!getenv("LBS_FAULT_PLUGIN")) {
		fprintf(stderr, "test fixture broken: LBS_FAULT_PLUGIN not set (run through meson "
		                "test)\n");
		exit(99);
	}
	fault_loop("hardware-aware", store_config(hw, NULL));
	fault_loop("priority", store_config(pr, NULL));
	snprintf(config, sizeof config,
	         "{\"children\":["
	         "{\"scheduler\":\"hardware-aware\",\"weight\":0.7,\"config\":%s},"
	         "{\"scheduler\":\"priority\",\"weight\":0.2},"
	         "{\"scheduler\":\"round-robin\",\"weight\":0.1}]}",
	         store_config(cp, NULL));
	fault_loop("composite", config);
	fault_loop("round-robin", "{}");
	/* the learning schedulers with their default (memory) stores */
	fault_loop("performance", "{}");
	fault_loop("affinity", "{}");
	fault_loop("adaptive", "{}");
}

int main(void)
{
	const char *disk = NULL;

	signal(SIGPIPE, SIG_IGN);
	/* First, while this process has no plugin threads to fork with. */
	test_malloc_failures();
	load_ext();
	test_unkeyable_reports();
	test_pair_limit();
	test_truncated();
	test_empty_never_written();
	test_loose_pages();
	test_killed_writer_lock();
	test_map_ceiling();
	if (mount_small_disk(&disk) == 0) {
		test_disk_full(disk);
		test_read_only_fs(disk);
		umount2(disk, MNT_DETACH);
		test_short_write();
	}
	return check_done("test_store_faults");
}
