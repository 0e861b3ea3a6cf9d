/*
 * test_store_verify.c -- the verifying child where LMDB's usual open or first
 * transaction fails for it (docs/STORE.md "Verification"): only a walk makes
 * a file verified.  The damage each case hides is one only the walk sees (a
 * database's header that counts records it does not hold), so a store that
 * opens was not walked.
 *
 *   - lock.mdb's reader slots all taken by a process killed while it read:
 *     the child clears them and walks the file; a sound file opens with all
 *     it learned;
 *   - the slots held by live readers: the open is refused with "cannot
 *     verify", the file left as it is; once the readers are gone the next
 *     open walks the file (it was not taken for verified);
 *   - a meta page's map size (mm_mapsize) too large to map: the child maps
 *     its own size, as the host does, and walks the file.
 *
 * Before, a child that could not begin its read transaction, or open the
 * file, said "ok": the host cleared the dead slots itself (or mapped its
 * own size) and read pages nobody had walked, and later opens of the
 * unchanged file skipped the child.
 *
 * The readers are LMDB itself in children of this test (MDB_NOTLS: a slot
 * per transaction), with a second child keeping the store open meanwhile:
 * LMDB resets the reader table when an opener is alone.
 */
#include <lmdb.h>

#include "store_support.h"

/*
 * The "fleet" database's header (an MDB_db, the value of its record in the
 * main database) comes to count 5 records; it holds none.  LMDB never checks
 * the count and a host without a fleet never reads that database, so only
 * the walk sees it.  LMDB 0.9, 64-bit, 4 KiB pages: the meta page with the
 * larger mm_txnid (byte 144) names the main database's root in md_root
 * (byte 128), a leaf here; a leaf's mp_lower (byte 12) ends its node
 * offsets (from byte 16); a node is 8 bytes, its key, then its value, whose
 * md_entries is at byte 32.
 */
static void damage_fleet_count(const char *dir)
{
	const char *data = pathf("%s/data.mdb", dir, NULL);
	const long page = 4096;
	unsigned char p[4096];
	uint64_t txn[2] = {0, 0}, root[2] = {0, 0}, five = 5;
	uint16_t lower, off, ksize;
	int fd = open(data, O_RDWR), done = 0;

	CHECK(fd >= 0);
	if (fd < 0)
		return;
	for (int m = 0; m < 2; m++) {
		CHECK(pread(fd, &txn[m], 8, m * page + 144) == 8);
		CHECK(pread(fd, &root[m], 8, m * page + 128) == 8);
	}
	CHECK(pread(fd, p, sizeof p, (off_t)root[txn[1] > txn[0]] * page) == (ssize_t)sizeof p);
	memcpy(&lower, p + 12, 2);
	for (unsigned at = 16; at + 2 <= lower && at + 2 <= sizeof p && !done; at += 2) {
		memcpy(&off, p + at, 2);
		if (off + 8u > sizeof p)
			break;
		memcpy(&ksize, p + off + 6, 2);
		if (ksize == 5 && off + 8u + 5 + 48 <= sizeof p && !memcmp(p + off + 8, "fleet", 5)) {
			CHECK(pwrite(fd, &five, 8,
			             (off_t)root[txn[1] > txn[0]] * page + off + 8 + 5 + 32) == 8);
			done = 1;
		}
	}
	close(fd);
	if (!done) {
		fprintf(stderr, "test fixture broken: no 'fleet' record in %s's main root\n", data);
		exit(99);
	}
}

/* A child of this test with dir's store open through LMDB; with `fill`, it
 * begins read transactions until no reader slot is left.  It stays until
 * the returned descriptor is closed, then leaves without closing anything:
 * the slots it took stay, a dead process's. */
typedef struct lmdb_child {
	pid_t pid;
	int ctl;
	int slots; /* taken, or -1 when LMDB failed */
} lmdb_child;

/* The ends of the children's pipes this process holds: a child closes its
 * elders', or one would keep another waiting. */
static int ctls[8], n_ctls;

static lmdb_child start_lmdb_child(const char *dir, int fill)
{
	lmdb_child c = {-1, -1, -1};
	int up[2], down[2];

	if (pipe(up) || pipe(down)) {
		fprintf(stderr, "test fixture broken: pipe: %s\n", strerror(errno));
		exit(99);
	}
	c.pid = fork();
	if (c.pid < 0) {
		fprintf(stderr, "test fixture broken: fork: %s\n", strerror(errno));
		exit(99);
	}
	if (c.pid == 0) {
		MDB_env *env;
		MDB_txn *txn;
		int n = 0, rc;
		char b;

		close(up[0]);
		close(down[1]);
		for (int i = 0; i < n_ctls; i++)
			close(ctls[i]);
		rc = mdb_env_create(&env);
		if (!rc)
			rc = mdb_env_open(env, dir, MDB_RDONLY | MDB_NOTLS, 0600);
		while (!rc && fill && n < 100000) {
			if ((rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn)) == 0)
				n++;
		}
		if (fill && rc == MDB_READERS_FULL)
			rc = 0;
		if (rc)
			n = -1;
		(void)!write(up[1], &n, sizeof n);
		while (read(down[0], &b, 1) > 0)
			;
		_exit(0);
	}
	close(up[1]);
	close(down[0]);
	c.ctl = down[1];
	if (n_ctls < (int)(sizeof ctls / sizeof ctls[0]))
		ctls[n_ctls++] = c.ctl;
	if (read(up[0], &c.slots, sizeof c.slots) != (ssize_t)sizeof c.slots)
		c.slots = -1;
	close(up[0]);
	return c;
}

static void end_lmdb_child(lmdb_child *c)
{
	int status;

	for (int i = 0; i < n_ctls; i++)
		if (ctls[i] == c->ctl)
			ctls[i] = ctls[--n_ctls];
	close(c->ctl);
	while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR)
		;
}

/* Every slot taken, by a process now dead (and one alive that keeps the
 * store open, ended by the caller). */
static lmdb_child dead_readers(const char *dir)
{
	lmdb_child keeper = start_lmdb_child(dir, 0), filler;

	CHECK_INT(keeper.slots, 0);
	filler = start_lmdb_child(dir, 1);
	CHECK(filler.slots >= 126); /* LMDB's default; the plugin's lock.mdb has 1,022 */
	end_lmdb_child(&filler);
	return keeper;
}

/* Slots of a dead process: the child clears them (as the host does after
 * it) and walks the file. */
static void test_dead_readers(void)
{
	const char *dir = learned_store(), *sound = learned_store();
	lmdb_child keeper;
	shim_sched *s;

	damage_fleet_count(dir);
	keeper = dead_readers(dir);
	expect_store_error(store_config(dir, NULL), dir,
	                   "data.mdb failed verification (database fleet: 0 records, its header "
	                   "says 5)");
	end_lmdb_child(&keeper);

	keeper = dead_readers(sound);
	s = open_store("hardware-aware", sound, NULL);
	if (s) {
		CHECK(stats_of(s).persistent);
		sched_close(s);
	}
	end_lmdb_child(&keeper);
	CHECK_INT(total_samples(sound), LEARNED);
}

/* Slots of live readers: not verified, so not opened, and not taken for
 * verified either. */
static void test_live_readers(void)
{
	const char *dir = learned_store();
	const char *data = pathf("%s/data.mdb", dir, NULL);
	struct stat before, after;
	lmdb_child keeper, filler;
	char err[1024];
	shim_sched *s;

	damage_fleet_count(dir);
	CHECK(stat(data, &before) == 0);
	keeper = start_lmdb_child(dir, 0);
	filler = start_lmdb_child(dir, 1);
	CHECK(filler.slots >= 126);
	CHECK_INT(try_open("hardware-aware", store_config(dir, NULL), &s, err, sizeof err),
	          LBS_EIO);
	if (s)
		sched_close(s);
	CHECK_CONTAINS(err, pathf("store '%s': cannot verify data.mdb (", dir, NULL));
	CHECK_CONTAINS(err, "MDB_READERS_FULL");
	CHECK_CONTAINS(err, "the next open tries again");
	CHECK(strstr(err, "failed verification") == NULL);
	CHECK(strstr(err, "move it away") == NULL); /* nothing is wrong with the file */
	CHECK(strchr(err, '\n') == NULL);
	if (ext) {
		textbuf t = {0};

		err[0] = '\0';
		CHECK(ext->export_json(ext_host, dir, textbuf_write, &t, err, sizeof err) != LBS_OK);
		CHECK_CONTAINS(err, "cannot verify data.mdb");
		free(t.p);
	}
	CHECK(stat(data, &after) == 0);
	CHECK_INT(after.st_size, before.st_size);
	CHECK(after.st_mtim.tv_sec == before.st_mtim.tv_sec &&
	      after.st_mtim.tv_nsec == before.st_mtim.tv_nsec);

	/* The readers gone (their slots a dead process's), the same unchanged
	 * file is walked this time. */
	end_lmdb_child(&filler);
	expect_store_error(store_config(dir, NULL), dir,
	                   "data.mdb failed verification (database fleet: 0 records, its header "
	                   "says 5)");
	end_lmdb_child(&keeper);
}

/* Both meta pages' mm_mapsize (byte 32) 2^56 bytes: more than a process
 * can map; LMDB takes it when its opener sets no size. */
static void damage_map_size(const char *dir)
{
	const char *data = pathf("%s/data.mdb", dir, NULL);
	uint64_t huge = UINT64_C(1) << 56;
	int fd = open(data, O_RDWR);

	CHECK(fd >= 0);
	if (fd < 0)
		return;
	for (int m = 0; m < 2; m++)
		CHECK(pwrite(fd, &huge, 8, m * 4096 + 32) == 8);
	close(fd);
}

static void test_meta_map_size(void)
{
	const char *dir = learned_store(), *sound = learned_store();
	shim_sched *s;

	damage_fleet_count(dir);
	damage_map_size(dir);
	expect_store_error(store_config(dir, NULL), dir,
	                   "data.mdb failed verification (database fleet: 0 records, its header "
	                   "says 5)");

	damage_map_size(sound);
	s = open_store("hardware-aware", sound, NULL);
	if (s)
		sched_close(s);
	CHECK_INT(total_samples(sound), LEARNED);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	load_ext();
	test_dead_readers();
	test_live_readers();
	test_meta_map_size();
	return check_done("test_store_verify");
}
