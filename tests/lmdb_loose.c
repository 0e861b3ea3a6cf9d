/*
 * lmdb_loose.c -- a helper of test_store_faults, not a test by itself:
 * another LMDB writer whose transactions leave data.mdb shorter than the
 * last page they count, as a healthy store can be.
 *
 *   lmdb_loose DIR
 *
 * A page a transaction allocates and frees again is "loose": LMDB never
 * writes it but counts it, so when it was the file's top page the file
 * ends before it.  Each round puts more scratch keys into DIR's main
 * database than the last and deletes them all in the same transaction,
 * until a commit leaves the file short (the first rounds only fill the
 * free list that later rounds reuse).  Another program plays this writer,
 * not the plugin, because lbsched only produces such a file by chance
 * (a fleet pull deleting many outbox entries while a reader pins the free
 * list).
 *
 * stdout: "short <file bytes> <counted bytes>".  Exit 0 when the file
 * was left short, 1 when no round managed it, 2 on an LMDB error.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <lmdb.h>

static int round_of(MDB_env *env, int n)
{
	MDB_txn *txn;
	MDB_dbi dbi;
	char key[32], val[100];
	int rc;

	memset(val, 'x', sizeof val);
	if ((rc = mdb_txn_begin(env, NULL, 0, &txn)))
		return rc;
	rc = mdb_dbi_open(txn, NULL, 0, &dbi);
	/* Keys of 16 bytes or more name no database of the plugin's. */
	for (int i = 0; i < n && rc == 0; i++) {
		MDB_val k = {(size_t)snprintf(key, sizeof key, "loose-page-%08d", i), key};
		MDB_val v = {sizeof val, val};

		rc = mdb_put(txn, dbi, &k, &v, 0);
	}
	for (int i = n - 1; i >= 0 && rc == 0; i--) {
		MDB_val k = {(size_t)snprintf(key, sizeof key, "loose-page-%08d", i), key};

		rc = mdb_del(txn, dbi, &k, NULL);
	}
	if (rc) {
		mdb_txn_abort(txn);
		return rc;
	}
	return mdb_txn_commit(txn);
}

int main(int argc, char **argv)
{
	MDB_env *env;
	MDB_envinfo info;
	MDB_stat ms;
	struct stat st;
	char path[4200];
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: lmdb_loose DIR\n");
		return 2;
	}
	snprintf(path, sizeof path, "%s/data.mdb", argv[1]);
	if ((rc = mdb_env_create(&env)) || (rc = mdb_env_set_maxdbs(env, 16)) ||
	    (rc = mdb_env_set_mapsize(env, 256u << 20)) ||
	    (rc = mdb_env_open(env, argv[1], 0, 0600))) {
		fprintf(stderr, "lmdb_loose: %s: %s\n", argv[1], mdb_strerror(rc));
		return 2;
	}
	for (int n = 3000; n <= 48000; n += 2000) {
		if ((rc = round_of(env, n)) || (rc = mdb_env_info(env, &info)) ||
		    (rc = mdb_env_stat(env, &ms)) || stat(path, &st)) {
			fprintf(stderr, "lmdb_loose: %s: %s\n", path,
			        rc ? mdb_strerror(rc) : strerror(errno));
			mdb_env_close(env);
			return 2;
		}
		if ((unsigned long long)st.st_size < (info.me_last_pgno + 1ull) * ms.ms_psize) {
			printf("short %llu %llu\n", (unsigned long long)st.st_size,
			       (info.me_last_pgno + 1ull) * ms.ms_psize);
			mdb_env_close(env);
			return 0;
		}
	}
	mdb_env_close(env);
	return 1;
}
