/*
 * sink_file.c -- the agent's state as a fleet file that lbsched-shim and
 * nginx read as they read any other.  A reader sees the old document or the
 * new one, never a half-written one: the text goes to a temporary file in
 * the same directory, is fsync()ed and renamed over the target.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "agent.h"
#include "hash.h"
#include "sink.h"

typedef struct file_sink {
	ag_sink base;
	char *path;
	mode_t mode;
	int claim; /* the socket naming this output, held while the sink is */
} file_sink;

/*
 * One agent a file: two would replace each other's worker in turn, each
 * unaware.  The claim is a name in the abstract socket namespace, made of
 * the output's real directory and name: the kernel frees it when the agent
 * exits however it exits, and it leaves nothing on disk (a lock file
 * beside the output would).  -1 with err when another agent holds it.
 * Any local user may bind any such name, so the holder's credentials
 * decide: one of another user (not root) is said and passed over, -2,
 * rather than let it keep the agent from starting.  The holder's socket
 * and the asker's do not block: an asker never waits on a holder that
 * has not yet taken its earlier askers off the queue (claim_drain).
 */
/* Askers the holder keeps queued between two of its writes. */
#define CLAIM_QUEUE 16

static int claim(const char *path, char *err, size_t n)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	char *dup = strdup(path), *dir, real[PATH_MAX];
	const char *base;
	uint64_t h;
	int fd, len;

	if (!dup) {
		snprintf(err, n, "%s: out of memory", path);
		return -1;
	}
	dir = dirname(dup);
	if (!realpath(dir, real)) {
		snprintf(err, n, "%s: %s", dir, strerror(errno));
		free(dup);
		return -1;
	}
	free(dup);
	if (!(dup = strdup(path))) {
		snprintf(err, n, "%s: out of memory", path);
		return -1;
	}
	base = basename(dup);
	h = lbs_fnv1a(lbs_fnv1a(lbs_fnv1a(LBS_FNV_OFFSET, real), "/"), base);
	free(dup);
	/* sun_path[0] is 0: the abstract namespace. */
	len = snprintf(a.sun_path + 1, sizeof a.sun_path - 1, "lbsched-agent/file/%016llx",
	               (unsigned long long)h);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		snprintf(err, n, "%s: cannot claim it: %s", path, strerror(errno));
		return -1;
	}
	socklen_t alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)len);
	/* listening, so that a second agent can ask who holds the name */
	if (bind(fd, (struct sockaddr *)&a, alen) == 0 && listen(fd, CLAIM_QUEUE) == 0)
		return fd;
	if (errno != EADDRINUSE) {
		snprintf(err, n, "%s: cannot claim it: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	struct ucred who = {0};
	socklen_t wl = sizeof who;
	/* A full queue is EAGAIN here, not a wait: then the pid is not said. */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&a, alen) == 0 &&
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &who, &wl) == 0 && who.uid != geteuid() &&
	    who.uid != 0) {
		snprintf(err, n, "%s: its claim is held by uid %u (pid %d), not an agent of this "
		         "user's: not taken as one", path, (unsigned)who.uid, (int)who.pid);
		close(fd);
		return -2;
	}
	if (fd >= 0)
		close(fd);
	if (who.pid > 0)
		snprintf(err, n, "%s: another lbsched-agent (pid %d) writes this file; one agent "
		         "a file (each would replace the other's worker)", path, (int)who.pid);
	else
		snprintf(err, n, "%s: its claim is held and its holder does not answer (its queue "
		         "is full): taken as another lbsched-agent's, which writes this file; one "
		         "agent a file (each would replace the other's worker)", path);
	return -1;
}

/* The askers queued since the last write, let go: each asked once and
 * has its answer (the holder's pid), and a queue never taken from fills,
 * after which askers learn no pid. */
static void claim_drain(int fd)
{
	int c;

	while (fd >= 0 && (c = accept4(fd, NULL, NULL, SOCK_CLOEXEC)) >= 0)
		close(c);
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* -1 with err when path exists and is neither a regular file nor a
 * symbolic link: the rename would put the fleet in place of a FIFO, a
 * socket or a device node (as root, --file /dev/null replaced /dev/null),
 * which is never what the operator meant. */
static int replaceable(const char *path, char *err, size_t n)
{
	struct stat st;

	if (lstat(path, &st) < 0 || S_ISREG(st.st_mode) || S_ISLNK(st.st_mode))
		return 0;
	snprintf(err, n, "%s: %s, not a regular file; not replaced", path,
	         S_ISDIR(st.st_mode)    ? "is a directory"
	         : S_ISFIFO(st.st_mode) ? "is a FIFO"
	         : S_ISSOCK(st.st_mode) ? "is a socket"
	         : S_ISCHR(st.st_mode)  ? "is a character device"
	         : S_ISBLK(st.st_mode)  ? "is a block device"
	                                : "is of an unknown type");
	return -1;
}

/* The template of PATH's temporary file, beside it: "PATH.XXXXXX", its
 * name cut to leave room for the suffix (a legal name of 250 bytes was
 * refused as "File name too long").  malloc'd; NULL when out of memory. */
static char *tmp_template(const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t dir = slash ? (size_t)(slash - path) + 1 : 0, name = strlen(path + dir);
	size_t keep = name > NAME_MAX - 7 ? NAME_MAX - 7 : name;
	char *tmp = malloc(dir + keep + 8);

	if (tmp)
		snprintf(tmp, dir + keep + 8, "%.*s%.*s.XXXXXX", (int)dir, path, (int)keep,
		         path + dir);
	return tmp;
}

static int replace(const file_sink *f, const char *text, char *err, size_t n)
{
	char *tmp = tmp_template(f->path), *dcopy = strdup(f->path);
	int fd = -1, rc = -1, made = 0;

	if (!tmp || !dcopy) {
		snprintf(err, n, "%s: out of memory", f->path);
		goto out;
	}
	fd = mkstemp(tmp); /* O_EXCL: never follows an attacker's link */
	if (fd < 0) {
		snprintf(err, n, "%s: cannot create a temporary file beside it: %s",
		         f->path, strerror(errno));
		goto out;
	}
	made = 1;
	if (fchmod(fd, f->mode) < 0 || write_all(fd, text, strlen(text)) < 0 ||
	    write_all(fd, "\n", 1) < 0 || fsync(fd) < 0) {
		snprintf(err, n, "%s: cannot write %s: %s", f->path, tmp, strerror(errno));
		goto out;
	}
	if (close(fd) < 0) {
		fd = -1;
		snprintf(err, n, "%s: cannot write %s: %s", f->path, tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	/* checked at each write: what PATH is may change under the agent */
	if (replaceable(f->path, err, n) < 0)
		goto out;
	if (rename(tmp, f->path) < 0) {
		snprintf(err, n, "%s: cannot replace it: %s", f->path, strerror(errno));
		goto out;
	}
	/* the rename itself survives a crash once the directory is synced */
	int dfd = open(dirname(dcopy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (rc < 0 && made)
		unlink(tmp);
	free(tmp);
	free(dcopy);
	return rc;
}

static int file_publish(ag_sink *s, const cJSON *record, int changed,
                        const cJSON *load, char *err, size_t n)
{
	file_sink *f = (file_sink *)s;
	cJSON *doc = cJSON_CreateObject();
	cJSON *list = doc ? cJSON_AddArrayToObject(doc, "workers") : NULL;
	cJSON *w = cJSON_Duplicate(record, 1);
	cJSON *l = cJSON_Duplicate(load, 1);
	char *text = NULL;
	int rc = -1;

	(void)changed; /* one file holds both: it is rewritten every time */
	claim_drain(f->claim);
	if (!list || !w || !l) {
		snprintf(err, n, "%s: out of memory", f->path);
		cJSON_Delete(w);
		cJSON_Delete(l);
		goto out;
	}
	cJSON_AddItemToArray(list, w);
	cJSON_AddItemToObject(w, "load", l);
	text = cJSON_PrintUnformatted(doc);
	if (!text) {
		snprintf(err, n, "%s: out of memory", f->path);
	} else if (strlen(text) > AG_MAX_RECORD) {
		snprintf(err, n, "%s: the document would be %zu bytes, more than %u; "
		         "not written", f->path, strlen(text), AG_MAX_RECORD);
	} else {
		rc = replace(f, text, err, n);
	}
out:
	cJSON_free(text);
	cJSON_Delete(doc);
	return rc;
}

static void file_close(ag_sink *s)
{
	file_sink *f = (file_sink *)s;

	if (f->claim >= 0)
		close(f->claim);
	free(f->path);
	free(f);
}

/* A file of another user in a sticky directory (/tmp) cannot be replaced
 * by a rename, though a file can be made beside it: the kernel's rule,
 * checked at the start rather than found at the first write (the agent ran
 * on, never writing).  A probe rename would empty the record readers see. */
static int sticky_refuses(const char *path, char *err, size_t n)
{
	struct stat file, dir;
	uid_t me = geteuid();
	char *dcopy;
	int sticky;

	if (me == 0 || lstat(path, &file) < 0 || file.st_uid == me)
		return 0;
	if (!(dcopy = strdup(path))) {
		snprintf(err, n, "%s: out of memory", path);
		return -1;
	}
	sticky = stat(dirname(dcopy), &dir) == 0 && (dir.st_mode & S_ISVTX) && dir.st_uid != me;
	free(dcopy);
	if (!sticky)
		return 0;
	snprintf(err, n, "%s: cannot replace it: it belongs to user %u in a sticky directory "
	         "(only its owner may replace it there)", path, (unsigned)file.st_uid);
	return -1;
}

/* What every write does first, tried once at the start, so that a
 * directory that is missing or not writable ends `run` with one line, as a
 * Redis that cannot be reached does, instead of an agent that runs on and
 * never writes. */
static int writable(const char *path, char *err, size_t n)
{
	char *tmp = tmp_template(path);
	int fd;

	if (!tmp) {
		snprintf(err, n, "%s: out of memory", path);
		return -1;
	}
	if (replaceable(path, err, n) < 0 || sticky_refuses(path, err, n) < 0) {
		free(tmp);
		return -1;
	}
	fd = mkstemp(tmp);
	if (fd < 0) {
		snprintf(err, n, "%s: cannot create a temporary file beside it: %s", path,
		         strerror(errno));
		free(tmp);
		return -1;
	}
	close(fd);
	unlink(tmp);
	free(tmp);
	return 0;
}

ag_sink *ag_sink_file(const char *path, mode_t mode, char *err, size_t n)
{
	file_sink *f;
	int fd;

	if (writable(path, err, n) < 0)
		return NULL;
	fd = claim(path, err, n);
	if (fd == -1)
		return NULL;
	if (fd == -2)
		ag_warn("%s", err);
	if (!(f = calloc(1, sizeof *f)) || !(f->path = strdup(path))) {
		free(f);
		if (fd >= 0)
			close(fd);
		snprintf(err, n, "out of memory");
		return NULL;
	}
	f->claim = fd;
	f->mode = mode;
	f->base.publish = file_publish;
	f->base.hold = NULL; /* a file has no expiry */
	f->base.close = file_close;
	return &f->base;
}
