/*
 * store_verify.c -- verification of data.mdb in a forked child; see
 * store_verify.h and docs/STORE.md ("Verification").
 *
 * fork() rather than posix_spawn of a verifier: the plugin is one .so with
 * no executable to spawn.  The child of a multithreaded host may strictly
 * use only async-signal-safe calls, and LMDB allocates; glibc makes malloc
 * safe in a fork child, the child takes no other lock of the host's and
 * leaves with _exit.  The verdict comes back through a pipe, so a host whose
 * SIGCHLD handler reaps every child (nginx's master) cannot hide a crash:
 * no verdict is a failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>

#include "store.h"
#include "store_verify.h"

/* A walk of 100,000 records takes well under a second; a child still busy
 * after this is lost in a damaged tree. */
#define VERIFY_TIMEOUT_MS 60000
/* The child's map at least, the plugin's default store.map_size. */
#define CHILD_MAP_BYTES ((size_t)64 << 20)
#define VERIFIED_MAX 32

/* What the child says, besides a finding.  Only "ok" follows a walk, and
 * only that makes the file verified: opening it again, unchanged, forks
 * no child. */
#define VERDICT_SOUND "ok"
#define VERDICT_HOST "left to the host" /* LMDB's open refused it: host_meets_too */
#define VERDICT_UNVERIFIED "unverified: "

/* Files verified (or written through LMDB) by this process, as they were
 * then: a changed size or time means another writer, verified again. */
typedef struct verified {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
} verified;

static pthread_mutex_t verified_mu = PTHREAD_MUTEX_INITIALIZER;
static verified seen[VERIFIED_MAX];
static unsigned n_seen, next_seen;

static int same(const verified *v, const struct stat *st)
{
	return v->dev == st->st_dev && v->ino == st->st_ino && v->size == st->st_size &&
	       v->mtime.tv_sec == st->st_mtim.tv_sec && v->mtime.tv_nsec == st->st_mtim.tv_nsec;
}

static int known(const struct stat *st)
{
	int hit = 0;

	pthread_mutex_lock(&verified_mu);
	for (unsigned i = 0; i < n_seen && !hit; i++)
		hit = same(&seen[i], st);
	pthread_mutex_unlock(&verified_mu);
	return hit;
}

static void remember(const struct stat *st)
{
	unsigned i;

	pthread_mutex_lock(&verified_mu);
	for (i = 0; i < n_seen; i++)
		if (seen[i].dev == st->st_dev && seen[i].ino == st->st_ino)
			break;
	if (i == n_seen) {
		i = n_seen < VERIFIED_MAX ? n_seen++ : next_seen++ % VERIFIED_MAX;
	}
	seen[i] = (verified){st->st_dev, st->st_ino, st->st_size, st->st_mtim};
	pthread_mutex_unlock(&verified_mu);
}

void store_verify_trust(int fd)
{
	struct stat st;

	if (fstat(fd, &st) == 0)
		remember(&st);
}

/* ---- the child ------------------------------------------------------------- */

/* Walk one database: every key and value read, their sizes checked by
 * check(); no more entries than the tree says it holds (a damaged tree
 * can loop), and each key after the one before (a damaged page can
 * repeat one and hide another, which an export would then write twice).
 * 0, or -1 with msg set. */
typedef int (*rec_check)(const MDB_val *k, const MDB_val *v, size_t last_pgno, char *msg,
                         size_t len);

static int walk(MDB_txn *txn, MDB_dbi dbi, const char *name, rec_check check,
                size_t last_pgno, char *msg, size_t len)
{
	MDB_cursor *cur;
	MDB_stat ms;
	MDB_val k, v, prev = {0, NULL};
	size_t n = 0;
	unsigned char sink = 0;
	int rc;

	/* LMDB keeps no count for its free list (dbi 0): the file's pages
	 * bound it. */
	if (dbi == 0)
		ms.ms_entries = last_pgno;
	if ((dbi != 0 && (rc = mdb_stat(txn, dbi, &ms))) || (rc = mdb_cursor_open(txn, dbi, &cur))) {
		snprintf(msg, len, "database %s: %s", name, mdb_strerror(rc));
		return -1;
	}
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (++n > ms.ms_entries) {
			snprintf(msg, len, "database %s: more records than its %zu", name,
			         ms.ms_entries);
			mdb_cursor_close(cur);
			return -1;
		}
		/* Touch every byte: a value that points past the map dies here. */
		for (size_t i = 0; i < k.mv_size; i++)
			sink ^= ((const unsigned char *)k.mv_data)[i];
		for (size_t i = 0; i < v.mv_size; i++)
			sink ^= ((const unsigned char *)v.mv_data)[i];
		if (check && check(&k, &v, last_pgno, msg, len)) {
			mdb_cursor_close(cur);
			return -1;
		}
		/* The snapshot's pages stay mapped while its transaction
		 * lives: the previous key may be held by its pointer. */
		if (n > 1 && mdb_cmp(txn, dbi, &prev, &k) >= 0) {
			snprintf(msg, len, "database %s: record %zu's key is not after the one before "
			         "it (a damaged page)", name, n);
			mdb_cursor_close(cur);
			return -1;
		}
		prev = k;
	}
	mdb_cursor_close(cur);
	{
		/* A volatile store of every byte read, so no read is optimised away. */
		volatile unsigned char keep = sink;
		(void)keep;
	}
	if (rc != MDB_NOTFOUND) {
		snprintf(msg, len, "database %s: %s", name, mdb_strerror(rc));
		return -1;
	}
	if (dbi != 0 && n != ms.ms_entries) {
		snprintf(msg, len, "database %s: %zu records, its header says %zu", name, n,
		         ms.ms_entries);
		return -1;
	}
	return 0;
}

/* LMDB's free list: key a transaction id, value a count and that many page
 * numbers, each inside the file; a later commit reuses those pages. */
static int check_free(const MDB_val *k, const MDB_val *v, size_t last_pgno, char *msg,
                      size_t len)
{
	size_t count;
	const size_t *pg = v->mv_data;

	if (k->mv_size != sizeof(size_t) || v->mv_size < sizeof(size_t) ||
	    v->mv_size % sizeof(size_t)) {
		snprintf(msg, len, "free list: an entry of %zu + %zu bytes", k->mv_size, v->mv_size);
		return -1;
	}
	memcpy(&count, pg, sizeof count);
	if (count != v->mv_size / sizeof(size_t) - 1) {
		snprintf(msg, len, "free list: an entry says %zu pages and holds %zu", count,
		         v->mv_size / sizeof(size_t) - 1);
		return -1;
	}
	for (size_t i = 1; i <= count; i++) {
		size_t p;
		memcpy(&p, pg + i, sizeof p);
		if (p < 2 || p > last_pgno) {
			snprintf(msg, len, "free list: page %zu is outside the file", p);
			return -1;
		}
	}
	return 0;
}

/* The main database names the others; each is opened and walked.  What
 * LMDB refuses with an error code (a record that is no database, a name
 * the host does not use) is left to the host, which gets the same error
 * without a crash and says more about it. */
static int check_all(MDB_txn *txn, size_t last_pgno, char *msg, size_t len)
{
	MDB_dbi main_dbi, dbi;
	MDB_cursor *cur;
	MDB_val k, v;
	int rc;

	if (walk(txn, 0, "(free list)", check_free, last_pgno, msg, len))
		return -1;
	if ((rc = mdb_dbi_open(txn, NULL, 0, &main_dbi))) {
		snprintf(msg, len, "main database: %s", mdb_strerror(rc));
		return -1;
	}
	if (walk(txn, main_dbi, "(main)", NULL, last_pgno, msg, len))
		return -1;
	if ((rc = mdb_cursor_open(txn, main_dbi, &cur))) {
		snprintf(msg, len, "main database: %s", mdb_strerror(rc));
		return -1;
	}
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		char name[16];

		if (k.mv_size >= sizeof name || memchr(k.mv_data, 0, k.mv_size))
			continue; /* not a name of ours */
		memcpy(name, k.mv_data, k.mv_size);
		name[k.mv_size] = '\0';
		if (mdb_dbi_open(txn, name, 0, &dbi))
			continue;
		if (walk(txn, dbi, name, NULL, last_pgno, msg, len)) {
			rc = -1;
			break;
		}
	}
	mdb_cursor_close(cur);
	if (rc == -1)
		return -1;
	if (rc != MDB_NOTFOUND) {
		/* Never "ok" for a walk that stopped. */
		snprintf(msg, len, "main database: %s", mdb_strerror(rc));
		return -1;
	}
	return 0;
}

static int fstat_fd(MDB_env *env, struct stat *st)
{
	mdb_filehandle_t fd;

	return mdb_env_get_fd(env, &fd) ? -1 : fstat(fd, st);
}

/*
 * A data.mdb shorter than its last page is not always damaged: LMDB never
 * writes a page a transaction allocated and freed again (a "loose" page),
 * yet counts it.  Only a page the trees use must lie inside the file, and
 * the walk reads every one of them: when the file is short, a SIGBUS during
 * the walk is the verdict "truncated", written by this handler.
 */
static struct {
	int fd;
	size_t len;
	char msg[200];
} on_bus;

static void on_sigbus(int sig)
{
	(void)sig;
	(void)!write(on_bus.fd, on_bus.msg, on_bus.len);
	_exit(0);
}

/* LMDB's open refuses the file for what its bytes or its permissions are
 * (a meta page's page size or last page asking for a map that cannot be
 * made among them): the host's own open, which needs all the child needed
 * and maps at least as much, meets the same before it reads a tree, and
 * names it better ("not an LMDB file", "the directory must be writable").
 * Any other failure (no descriptor, an I/O error) may be gone by the
 * host's open, which would then read a file nobody walked. */
static int host_meets_too(int rc)
{
	return rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH || rc == ENOENT || rc == ENOTDIR ||
	       rc == EACCES || rc == EPERM || rc == EROFS || rc == EINVAL || rc == ENOMEM;
}

static void child(const char *dir, int out)
{
	MDB_env *env = NULL;
	MDB_txn *txn;
	MDB_envinfo info;
	MDB_stat ms;
	struct stat st;
	char msg[STORE_MSG_MAX] = "";
	const char *verdict = VERDICT_SOUND;
	struct rlimit no_core = {0, 0};
	int rc, grow = 0, devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);

	/* A crash here is the answer, not a fault: no core, no report on the
	 * host's stderr (a sanitizer's), the default action of each signal. */
	setrlimit(RLIMIT_CORE, &no_core);
	if (devnull >= 0)
		dup2(devnull, 2);
	signal(SIGBUS, SIG_DFL);
	signal(SIGSEGV, SIG_DFL);
	signal(SIGFPE, SIG_DFL);
	signal(SIGABRT, SIG_DFL);
	/* The map's size is the child's own, as the host's open sets its
	 * own: without one LMDB takes the meta page's mm_mapsize, and a flip
	 * that made it 2^56 left the child unable to map a file the host then
	 * opened.  LMDB raises it to what the file's last page needs. */
	if ((rc = mdb_env_create(&env)) == 0 && (rc = mdb_env_set_maxdbs(env, 16)) == 0 &&
	    (rc = mdb_env_set_mapsize(env, CHILD_MAP_BYTES)) == 0)
		rc = mdb_env_open(env, dir, MDB_RDONLY, 0600);
	if (rc) {
		if (host_meets_too(rc))
			verdict = VERDICT_HOST;
		else
			snprintf(msg, sizeof msg, VERDICT_UNVERIFIED "cannot open it read-only: %s",
			         mdb_strerror(rc));
		goto done;
	}
	/* The reader table may be full of slots of processes killed while
	 * they read (nginx workers, a CLI): the host clears them right after
	 * this (store.c) and would then read pages nobody walked. */
	mdb_reader_check(env, NULL);
	rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn);
	/* Grown meanwhile, maybe more than once: the map is raised to what
	 * the newest snapshot's last page needs (not to its mm_mapsize). */
	for (int i = 0; i < 16 && rc == MDB_MAP_RESIZED; i++) {
		if ((grow = mdb_env_info(env, &info)) ||
		    (grow = mdb_env_set_mapsize(env, info.me_mapsize)))
			break;
		rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn);
	}
	if (rc) {
		/* Not read is not sound: the slots are live readers' (or the
		 * map cannot grow), and the host must not read it either. */
		if (rc == MDB_MAP_RESIZED && grow)
			snprintf(msg, sizeof msg,
			         VERDICT_UNVERIFIED "cannot map the pages its last transaction counts: %s",
			         mdb_strerror(grow));
		else
			snprintf(msg, sizeof msg,
			         VERDICT_UNVERIFIED "cannot begin a read transaction: %s%s",
			         mdb_strerror(rc),
			         rc == MDB_READERS_FULL ? "; every reader slot of lock.mdb is held by a "
			                                  "live process"
			                                : "");
		goto done;
	}
	/* The bounds are read after the transaction began: another process
	 * may commit at any time, and a snapshot newer than the bounds can
	 * hold pages past them.  The file and its last page only grow, so
	 * bounds read later hold for the snapshot. */
	if (mdb_env_info(env, &info) || mdb_env_stat(env, &ms) || fstat_fd(env, &st)) {
		snprintf(msg, sizeof msg, VERDICT_UNVERIFIED "cannot read its size and last page");
	} else {
		if ((uint64_t)st.st_size < ((uint64_t)info.me_last_pgno + 1) * ms.ms_psize) {
			on_bus.len = (size_t)snprintf(
				on_bus.msg, sizeof on_bus.msg,
				"data.mdb is truncated: it ends at %llu bytes, before a page in "
				"use; its last transaction needs %llu bytes",
				(unsigned long long)st.st_size,
				((unsigned long long)info.me_last_pgno + 1) * ms.ms_psize);
			if (on_bus.len >= sizeof on_bus.msg)
				on_bus.len = sizeof on_bus.msg - 1;
			on_bus.fd = out;
			signal(SIGBUS, on_sigbus);
		}
		check_all(txn, info.me_last_pgno, msg, sizeof msg);
	}
	mdb_txn_abort(txn); /* frees the reader slot */
done:
	if (env)
		mdb_env_close(env);
	if (msg[0])
		verdict = msg;
	(void)!write(out, verdict, strlen(verdict));
	_exit(0);
}

/* ---- the parent ------------------------------------------------------------ */

static const char *signal_name(int sig, char *other, size_t len)
{
	switch (sig) {
	case SIGBUS: return "SIGBUS";
	case SIGSEGV: return "SIGSEGV";
	case SIGABRT: return "SIGABRT";
	case SIGFPE: return "SIGFPE";
	case SIGILL: return "SIGILL";
	case SIGKILL: return "SIGKILL";
	default:
		snprintf(other, len, "signal %d", sig);
		return other;
	}
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000L + (t.tv_nsec - t0->tv_nsec) / 1000000L;
}

/* Read the child's verdict until it closes the pipe: its length, or -1 on
 * timeout. */
static int read_verdict(int fd, char *buf, size_t len)
{
	struct timespec t0;
	size_t got = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd p = {fd, POLLIN, 0};
		long left = VERIFY_TIMEOUT_MS - ms_since(&t0);
		ssize_t n;

		if (left <= 0)
			return -1;
		if (poll(&p, 1, (int)left) < 0 && errno != EINTR)
			return -1;
		if (!p.revents)
			continue;
		n = read(fd, buf + got, len - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || (got += (size_t)n) == len - 1)
			break;
	}
	buf[got] = '\0';
	return (int)got;
}

/*
 * The host's SIGCHLD handler is for the host's children: nginx's, called
 * for this one, logged "unknown process N exited" or "waitpid() failed".
 * SIGCHLD stays blocked in this thread from the fork to the reap (the
 * plugin's own threads block every signal, thread.h); then the signal the
 * child left pending is taken here, unless one was pending before the fork
 * (it is the host's), and raised again when another child is waiting too,
 * whose exit may have been merged into it.  Whatever the host's own mask
 * (nginx's master blocks SIGCHLD while it reloads), `mask` is put back.
 */
static void quiet_sigchld(const sigset_t *chld, const sigset_t *mask, int was_pending)
{
	static const struct timespec now = {0, 0};
	siginfo_t other;

	if (!was_pending && sigtimedwait(chld, NULL, &now) == SIGCHLD) {
		other.si_pid = 0;
		if (waitid(P_ALL, 0, &other, WEXITED | WNOHANG | WNOWAIT) == 0 && other.si_pid)
			raise(SIGCHLD);
	}
	pthread_sigmask(SIG_SETMASK, mask, NULL);
}

int store_verify(const char *dir, char *err, size_t errlen)
{
	char path[4200], verdict[400], sig[24];
	struct stat st;
	sigset_t chld, mask, pending;
	int fds[2], status = 0, got, reaped;
	pid_t pid;

	snprintf(path, sizeof path, "%s/data.mdb", dir);
	if (lstat(path, &st) || !S_ISREG(st.st_mode) || st.st_size == 0 || known(&st))
		return 0; /* new (a 0-byte file lock.mdb says was written is refused
		             before: store.c, empty_data_file), or found by mdb_env_open */
	if (pipe2(fds, O_CLOEXEC)) {
		snprintf(err, errlen, "store '%s': cannot verify data.mdb: pipe: %s", dir,
		         strerror(errno));
		return -1;
	}
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	pthread_sigmask(SIG_BLOCK, &chld, &mask);
	sigpending(&pending);
	pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "store '%s': cannot verify data.mdb: fork: %s", dir,
		         strerror(errno));
		pthread_sigmask(SIG_SETMASK, &mask, NULL);
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		close(fds[0]);
		child(dir, fds[1]);
	}
	close(fds[1]);
	got = read_verdict(fds[0], verdict, sizeof verdict);
	close(fds[0]);
	if (got < 0)
		kill(pid, SIGKILL);
	/* Only this pid: the host's other children are not ours to reap.  A
	 * host that reaped it first leaves ECHILD, and the verdict decides. */
	while ((reaped = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
		;
	quiet_sigchld(&chld, &mask, sigismember(&pending, SIGCHLD));
	if (got > 0 && !strcmp(verdict, VERDICT_SOUND)) {
		remember(&st);
		return 0;
	}
	if (got > 0 && !strcmp(verdict, VERDICT_HOST))
		return 0;
	/*
	 * Refused rather than opened unread: the host's read would be the
	 * first, and the file may be one a crash is waiting in.  Refused now
	 * rather than after waiting: the child already cleared the slots of
	 * dead readers, and a table full of live ones would fail the host's
	 * own transaction too.  Not remembered, so the next open forks a
	 * child again.
	 */
	if (got > (int)strlen(VERDICT_UNVERIFIED) &&
	    !memcmp(verdict, VERDICT_UNVERIFIED, strlen(VERDICT_UNVERIFIED)))
		snprintf(err, errlen, "store '%s': cannot verify data.mdb (%s); not opened unverified, "
		         "the file is left as it is and the next open tries again", dir,
		         verdict + strlen(VERDICT_UNVERIFIED));
	else if (got > 0)
		snprintf(err, errlen, "store '%s': data.mdb failed verification (%s); restore it from "
		         "a prefs export or move it away", dir, verdict);
	else if (got < 0)
		snprintf(err, errlen, "store '%s': data.mdb failed verification (the child did not "
		         "finish in %d s); restore it from a prefs export or move it away", dir,
		         VERIFY_TIMEOUT_MS / 1000);
	else if (reaped == pid && WIFSIGNALED(status))
		snprintf(err, errlen, "store '%s': data.mdb failed verification (child killed by %s); "
		         "restore it from a prefs export or move it away", dir,
		         signal_name(WTERMSIG(status), sig, sizeof sig));
	else
		snprintf(err, errlen, "store '%s': data.mdb failed verification (the child ended "
		         "without a verdict); restore it from a prefs export or move it away", dir);
	return -1;
}
