/*
 * test_store_files.c -- the store never leaves its directory and never
 * crashes its host (issue 15, items 1 and 2; docs/SECURITY.md "The store's
 * files", docs/STORE.md "Verification"):
 *
 *   - lock.mdb or data.mdb a symbolic link: refused, naming the file; the
 *     file it points at is unchanged, a missing one is not created;
 *   - data.mdb with another hard link: refused;
 *   - a group- or world-writable store directory: refused;
 *   - a directory owned by another user: refused for a user that is not
 *     root (a child with uid 65534); root uses it as its owner, so what it
 *     creates there belongs to the owner (when this test runs as root);
 *   - a data.mdb whose tree points past the end of the file (LMDB died of
 *     SIGBUS in the host's create before): refused by create and by prefs
 *     export, the test process alive; also when the host reaps every child
 *     itself, and after the file changed under a store verified before;
 *   - a leaf of "prefs" whose second key offset repeats its first (one
 *     record read twice, the next one hidden; the count still right):
 *     refused by create and by prefs export (an export wrote the pair
 *     twice, and its import refused it).
 */
#include <dirent.h>
#include <sys/wait.h>

#include "store_support.h"

static const char *victim_text = "root:x:0:0:root:/root:/bin/bash\n";

static void write_text(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	if (!fp || fputs(text, fp) < 0 || fclose(fp)) {
		fprintf(stderr, "test fixture broken: cannot write %s\n", path);
		exit(99);
	}
}

static char *read_text(const char *path)
{
	static char buf[4096];
	FILE *fp = fopen(path, "r");
	size_t n = fp ? fread(buf, 1, sizeof buf - 1, fp) : 0;

	if (fp)
		fclose(fp);
	buf[n] = '\0';
	return buf;
}

static void expect_export_error(const char *dir, const char *problem)
{
	textbuf t = {0};
	char err[1024] = "";
	lbs_status st = ext->export_json(ext_host, dir, textbuf_write, &t, err, sizeof err);

	CHECK(st != LBS_OK);
	CHECK_CONTAINS(err, problem);
	free(t.p);
}

static void test_symlinks(void)
{
	const char *out = tmp_dir();
	const char *victim = pathf("%s/passwd", out, NULL);
	const char *missing = pathf("%s/made-by-lmdb", out, NULL);
	const char *dir = store_dir();

	/* lock.mdb -> a file outside: LMDB overwrote it with a lock header. */
	write_text(victim, victim_text);
	CHECK(symlink(victim, pathf("%s/lock.mdb", dir, NULL)) == 0);
	expect_store_error(store_config(dir, NULL), dir, "lock.mdb is a symbolic link");
	CHECK_STR(read_text(victim), victim_text);
	expect_export_error(dir, "lock.mdb is a symbolic link");
	CHECK_STR(read_text(victim), victim_text);

	/* data.mdb -> a missing path outside: LMDB created it. */
	dir = store_dir();
	CHECK(symlink(missing, pathf("%s/data.mdb", dir, NULL)) == 0);
	expect_store_error(store_config(dir, NULL), dir, "data.mdb is a symbolic link");
	CHECK(access(missing, F_OK) != 0);
	CHECK(access(pathf("%s/lock.mdb", dir, NULL), F_OK) != 0);

	/* data.mdb a second name of a file outside. */
	dir = store_dir();
	CHECK(link(victim, pathf("%s/data.mdb", dir, NULL)) == 0);
	expect_store_error(store_config(dir, NULL), dir, "data.mdb has 2 hard links");
	CHECK_STR(read_text(victim), victim_text);
}

static void test_dir_mode(void)
{
	const char *dir = store_dir();

	CHECK(chmod(dir, 0777) == 0);
	expect_store_error(store_config(dir, NULL), dir,
	                   "the directory is world-writable (mode 0777)");
	CHECK(access(pathf("%s/data.mdb", dir, NULL), F_OK) != 0);
	CHECK(chmod(dir, 0770) == 0);
	expect_store_error(store_config(dir, NULL), dir,
	                   "the directory is group-writable (mode 0770)");
	expect_export_error(dir, "group-writable");
	CHECK(chmod(dir, 0750) == 0);
	shim_sched *s = open_store("hardware-aware", dir, NULL);
	sched_close(s);
}

/* Run as root only: a user other than root may not use another's
 * directory; root uses it as its owner. */
static void test_owner(void)
{
	const char *top = tmp_dir(), *dir = pathf("%s/store", top, NULL);
	struct stat st;
	pid_t pid;
	int status = -1;

	if (geteuid() != 0) {
		printf("# not root: ownership cases skipped\n");
		return;
	}
	CHECK(chmod(top, 0711) == 0);
	CHECK(mkdir(dir, 0755) == 0);
	CHECK(chown(dir, 1234, 1234) == 0);
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		char err[1024];
		shim_sched *s;
		char want[4200];

		if (setgid(65534) || setuid(65534))
			_exit(3);
		if (try_open("hardware-aware", store_config(dir, NULL), &s, err, sizeof err) ==
		    LBS_OK)
			_exit(1);
		snprintf(want, sizeof want, "store '%s': refused: the directory is owned by uid 1234, "
		         "not by this process's user (uid 65534) or root", dir);
		_exit(strstr(err, want) && access(pathf("%s/data.mdb", dir, NULL), F_OK) != 0 ? 0 : 2);
	}
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	/* Root (nginx's master, the store handed to the workers' user). */
	CHECK(chown(dir, 65534, 65534) == 0);
	CHECK(chmod(dir, 0700) == 0);
	shim_sched *s = open_store("hardware-aware", dir, NULL);
	sched_close(s);
	CHECK(stat(pathf("%s/data.mdb", dir, NULL), &st) == 0 && st.st_uid == 65534);
	CHECK(stat(pathf("%s/lock.mdb", dir, NULL), &st) == 0 && st.st_uid == 65534);
}

/* ===== Verification ======================================================== */

/*
 * Damage the main database's root page (LMDB 0.9, 64-bit: the meta page
 * with the larger mm_txnid, at byte 144, names it in md_root of mm_dbs[1],
 * at byte 128): its first two node offsets (mp_ptrs, byte 16 of a page)
 * become 0xfff0, 64 KiB on, past the end of the small file but inside the
 * map.  LMDB follows them without a check: the first read is a SIGBUS in
 * mdb_dbi_open, where the flips crashed.
 */
static void damage_main_root(const char *dir)
{
	const char *data = pathf("%s/data.mdb", dir, NULL);
	const long page = 4096;
	uint64_t txn[2] = {0, 0}, root[2] = {0, 0};
	uint16_t far[2] = {0xfff0, 0xfff0};
	int fd = open(data, O_RDWR);

	CHECK(fd >= 0);
	if (fd < 0)
		return;
	for (int m = 0; m < 2; m++) {
		CHECK(pread(fd, &txn[m], 8, m * page + 144) == 8);
		CHECK(pread(fd, &root[m], 8, m * page + 128) == 8);
	}
	CHECK(pwrite(fd, far, sizeof far, (off_t)root[txn[1] > txn[0]] * page + 16) ==
	      (ssize_t)sizeof far);
	close(fd);
}

/*
 * A leaf of the "prefs" tree whose node offset 1 is set to its offset 0: a
 * damaged page that repeats a key and hides the next, entries unchanged.
 * LMDB 0.9, 64-bit, 4 KiB pages: a page's mp_flags at byte 10 (1 a
 * branch, 2 a leaf), mp_lower at 12, node offsets from 16; a node's
 * 8-byte header (a branch's child page number in its three 16-bit words),
 * then its key, then its value; the "prefs" record's value an MDB_db with
 * md_root at byte 40.
 */
static uint64_t page_at(int fd, uint64_t pgno, unsigned char *p)
{
	CHECK(pread(fd, p, 4096, (off_t)pgno * 4096) == 4096);
	return pgno;
}

static uint16_t node_at(const unsigned char *p, unsigned i)
{
	uint16_t off;

	memcpy(&off, p + 16 + 2 * i, 2);
	return off < 4096 - 16 ? off : 0;
}

static void damage_prefs_leaf(const char *dir)
{
	int fd = open(pathf("%s/data.mdb", dir, NULL), O_RDWR);
	unsigned char p[4096];
	uint64_t txn[2] = {0, 0}, root[2] = {0, 0}, pg = 0;
	uint16_t ksize, lower, lo, hi, fl;

	CHECK(fd >= 0);
	if (fd < 0)
		return;
	for (int m = 0; m < 2; m++) {
		CHECK(pread(fd, &txn[m], 8, m * 4096 + 144) == 8);
		CHECK(pread(fd, &root[m], 8, m * 4096 + 128) == 8);
	}
	page_at(fd, root[txn[1] > txn[0]], p);
	memcpy(&lower, p + 12, 2);
	for (unsigned i = 0; 16 + 2 * i < lower && !pg; i++) {
		uint16_t off = node_at(p, i);

		memcpy(&ksize, p + off + 6, 2);
		if (ksize == 5 && !memcmp(p + off + 8, "prefs", 5))
			memcpy(&pg, p + off + 8 + 5 + 40, 8);
	}
	/* a tree of LEARNED records has a branch over its leaves */
	while (pg && page_at(fd, pg, p) && (p[10] & 1)) {
		uint16_t off = node_at(p, 1);

		memcpy(&lo, p + off, 2);
		memcpy(&hi, p + off + 2, 2);
		memcpy(&fl, p + off + 4, 2);
		pg = lo | (uint64_t)hi << 16 | (uint64_t)fl << 32;
	}
	memcpy(&lower, p + 12, 2);
	if (!pg || !(p[10] & 2) || lower < 16 + 2 * 2) {
		fprintf(stderr, "test fixture broken: no leaf of two records in %s's prefs\n", dir);
		exit(99);
	}
	CHECK(pwrite(fd, p + 16, 2, (off_t)pg * 4096 + 18) == 2);
	close(fd);
}

/* What kills the child: a sanitizer's handler turns SIGBUS into an abort. */
static const char *expected_death(void)
{
	const char *san = getenv("LBS_SANITIZE");

	return !san || !strcmp(san, "none") ? "(child killed by SIGBUS)" : "(child killed by SIG";
}

static void test_verified(void)
{
	const char *dir = learned_store();
	char err[1024];
	shim_sched *s;

	damage_main_root(dir);
	CHECK_INT(try_open("hardware-aware", store_config(dir, NULL), &s, err, sizeof err),
	          LBS_EIO);
	CHECK_CONTAINS(err, pathf("store '%s': data.mdb failed verification %s", dir,
	                          expected_death()));
	CHECK_CONTAINS(err, "; restore it from a prefs export or move it away");
	CHECK(strchr(err, '\n') == NULL);
	expect_export_error(dir, expected_death());
}

/* Verified once, the store is trusted while it is unchanged; a change
 * (here the damage) is verified again. */
static void test_changed_after_verified(void)
{
	const char *dir = learned_store();
	shim_sched *s = open_store("hardware-aware", dir, NULL);

	sched_close(s);
	damage_main_root(dir);
	expect_store_error(store_config(dir, NULL), dir, "failed verification");
}

/* The walk checks the keys' order, not only their count. */
static void test_repeated_key(void)
{
	const char *dir = learned_store();

	damage_prefs_leaf(dir);
	expect_store_error(store_config(dir, NULL), dir,
	                   "data.mdb failed verification (database prefs: record ");
	expect_store_error(store_config(dir, NULL), dir,
	                   "'s key is not after the one before it (a damaged page)); restore it "
	                   "from a prefs export or move it away");
	expect_export_error(dir, "'s key is not after the one before it (a damaged page)");
}

static void reap_all(int sig)
{
	int saved = errno;

	(void)sig;
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	errno = saved;
}

/* A host whose SIGCHLD handler reaps every child (nginx's master does)
 * cannot make a crashed verification look like a pass. */
static void test_host_reaps(void)
{
	const char *dir = learned_store();
	struct sigaction sa = {.sa_handler = reap_all}, old;

	damage_main_root(dir);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, &old);
	expect_store_error(store_config(dir, NULL), dir, "data.mdb failed verification");
	sigaction(SIGCHLD, &old, NULL);
}

static volatile sig_atomic_t host_sigchld;

static void count_sigchld(int sig)
{
	(void)sig;
	host_sigchld++;
}

/* Which signals thread `tid` of this process blocks, from /proc. */
static unsigned long long blocked(long tid)
{
	char path[64];
	const char *at;

	snprintf(path, sizeof path, "/proc/self/task/%ld/status", tid);
	at = strstr(read_text(path), "\nSigBlk:");
	return at ? strtoull(at + 8, NULL, 16) : 0;
}

/*
 * Signals stay the host's.  The verifying child's SIGCHLD never reaches the
 * host's handler (nginx logged "unknown process N exited" for it), and the
 * plugin's threads block every signal: one that took nginx's SIGQUIT would
 * leave the worker asleep in epoll_wait.
 */
static void test_signals_stay_the_hosts(void)
{
	const char *dir = learned_store(), *copy = store_dir();
	struct sigaction sa = {.sa_handler = count_sigchld}, old;
	const unsigned long long want = 1ull << (SIGCHLD - 1) | 1ull << (SIGQUIT - 1) |
	                                1ull << (SIGTERM - 1) | 1ull << (SIGHUP - 1);
	int others = 0;
	shim_sched *s;
	DIR *d;
	struct dirent *e;

	/* a copy is a file this process never saw: it is verified in a child */
	CHECK(system(pathf("cp '%s/data.mdb' '%s/data.mdb'", dir, copy)) == 0);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, &old);
	host_sigchld = 0;
	s = open_store("hardware-aware", copy, NULL);
	CHECK_INT(host_sigchld, 0);
	d = opendir("/proc/self/task");
	CHECK(d != NULL);
	while (d && (e = readdir(d)) != NULL) {
		long tid = strtol(e->d_name, NULL, 10);
		if (tid <= 0 || tid == (long)getpid())
			continue;
		others++;
		CHECK((blocked(tid) & want) == want);
	}
	if (d)
		closedir(d);
	CHECK(others >= 1); /* the store's flusher */
	sched_close(s);

	/* A host that blocks SIGCHLD while it opens the store (nginx's master
	 * reloading) finds none pending from the plugin's child either. */
	{
		const char *again = store_dir();
		sigset_t chld, pending;

		CHECK(system(pathf("cp '%s/data.mdb' '%s/data.mdb'", dir, again)) == 0);
		host_sigchld = 0; /* system()'s own child */
		sigemptyset(&chld);
		sigaddset(&chld, SIGCHLD);
		sigprocmask(SIG_BLOCK, &chld, NULL);
		s = open_store("hardware-aware", again, NULL);
		sigpending(&pending);
		CHECK(!sigismember(&pending, SIGCHLD));
		sigprocmask(SIG_UNBLOCK, &chld, NULL);
		CHECK_INT(host_sigchld, 0);
		sched_close(s);
	}
	sigaction(SIGCHLD, &old, NULL);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	load_ext();
	test_symlinks();
	test_dir_mode();
	test_owner();
	test_verified();
	test_changed_after_verified();
	test_host_reaps();
	test_repeated_key();
	test_signals_stay_the_hosts();
	return check_done("test_store_files");
}
