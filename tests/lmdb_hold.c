/*
 * lmdb_hold.c -- a helper of test_store, not a test by itself: another
 * process's writer that holds a store's write lock while the plugin's
 * flusher waits for it.
 *
 *   lmdb_hold DIR GO [read]
 *
 * Begins a write transaction on DIR's store, puts a scratch key in its
 * main database (a key of 16 bytes or more names no database of the
 * plugin's), prints "holding" and waits until the file GO exists; then
 * commits, a write of another process that the plugin sees, and prints
 * "committed".  With "read", a read transaction instead, ended without a
 * write ("ended"): a reader that opened the store with LMDB's default
 * table of 126 readers, as an older plugin did.  Exit 0, or 2 on an LMDB
 * error.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>

int main(int argc, char **argv)
{
	struct timespec tick = {0, 10 * 1000 * 1000};
	char key[] = "lmdb-hold-scratch", val[] = "x";
	MDB_val k = {sizeof key - 1, key}, v = {sizeof val - 1, val};
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	int rc;

	int read_only = argc == 4 && !strcmp(argv[3], "read");

	if (argc != 3 && !read_only) {
		fprintf(stderr, "usage: lmdb_hold DIR GO [read]\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if ((rc = mdb_env_create(&env)) || (rc = mdb_env_set_maxdbs(env, 16)) ||
	    (rc = mdb_env_set_mapsize(env, 256u << 20)) ||
	    (rc = mdb_env_open(env, argv[1], 0, 0600)) ||
	    (rc = mdb_txn_begin(env, NULL, read_only ? MDB_RDONLY : 0, &txn))) {
		fprintf(stderr, "lmdb_hold: %s: %s\n", argv[1], mdb_strerror(rc));
		return 2;
	}
	if (read_only) {
		printf("holding\n");
		while (access(argv[2], F_OK) != 0)
			nanosleep(&tick, NULL);
		mdb_txn_abort(txn);
		printf("ended\n");
		mdb_env_close(env);
		return 0;
	}
	if ((rc = mdb_dbi_open(txn, NULL, 0, &dbi)) || (rc = mdb_put(txn, dbi, &k, &v, 0))) {
		fprintf(stderr, "lmdb_hold: %s: %s\n", argv[1], mdb_strerror(rc));
		mdb_txn_abort(txn);
		return 2;
	}
	printf("holding\n");
	while (access(argv[2], F_OK) != 0)
		nanosleep(&tick, NULL);
	if ((rc = mdb_txn_commit(txn))) {
		fprintf(stderr, "lmdb_hold: %s: %s\n", argv[1], mdb_strerror(rc));
		return 2;
	}
	printf("committed\n");
	mdb_env_close(env);
	return 0;
}
