/*
 * file.c -- whole files into memory, and the lines of a JSON Lines file,
 * for the shim's commands.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"
#include "text.h"

static const volatile sig_atomic_t *read_stop;

void file_set_stop(const volatile sig_atomic_t *stop)
{
	read_stop = stop;
}

/* 1 when fd has input (or its end) to read, 0 when *stop was set first.
 * The signals are blocked but inside ppoll(): one that came between the
 * test of *stop and a read() was caught, and the read waited on for input
 * that might never come. */
static int fd_wait(int fd, const volatile sig_atomic_t *stop)
{
	sigset_t all, was;
	struct pollfd p = {.fd = fd, .events = POLLIN};

	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &was);
	/* another error is read()'s to tell */
	while (!*stop && ppoll(&p, 1, NULL, &was) < 0 && errno == EINTR)
		;
	sigprocmask(SIG_SETMASK, &was, NULL);
	return *stop ? 0 : 1;
}

/* Whole file into a NUL-terminated buffer; "-" is stdin.  read(2), not
 * stdio: a wait for input must end on read_stop, and fread waits inside. */
char *file_read(const char *path, size_t *len, char *err, size_t errlen)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	char *buf = NULL;
	size_t cap = 0, n = 0;
	int fd = f ? fileno(f) : -1;

	if (!f) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		if (n > FILE_MAX_BYTES) {
			snprintf(err, errlen, "%s: larger than %u MiB, the most lbsched reads",
			         path, FILE_MAX_BYTES >> 20);
			free(buf);
			buf = NULL;
			break;
		}
		if (cap - n < 4096) {
			char *nb;
			cap = cap ? cap * 2 : 65536;
			/* Room for one read past the limit, which is how we see it. */
			if (cap > FILE_MAX_BYTES + 65536)
				cap = FILE_MAX_BYTES + 65536;
			nb = realloc(buf, cap + 1);
			if (!nb) {
				snprintf(err, errlen, "%s: out of memory", path);
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
		}
		ssize_t got;

		do {
			if (read_stop && !fd_wait(fd, read_stop)) {
				got = -1;
				errno = EINTR;
				break;
			}
			got = read(fd, buf + n, cap - n);
		} while (got < 0 && errno == EINTR && !(read_stop && *read_stop));
		if (got < 0) {
			if (errno == EINTR)
				snprintf(err, errlen, "%s: read cut short by a signal", path);
			else
				snprintf(err, errlen, "%s: read error: %s", path, strerror(errno));
			free(buf);
			buf = NULL;
			break;
		}
		if (got == 0)
			break;
		n += (size_t)got;
	}
	if (f != stdin)
		fclose(f);
	if (buf) {
		const char *why = txt_not_utf8(buf, n);
		if (why) {
			snprintf(err, errlen, "%s: %s", path, why);
			free(buf);
			return NULL;
		}
		buf[n] = '\0';
		*len = n;
	}
	return buf;
}

char *file_read_config(const char *path, size_t *len, char *err, size_t errlen)
{
	char *text = file_read(path, len, err, errlen);

	if (text && txt_blank(text, *len)) {
		snprintf(err, errlen, "%s: is empty (expected a JSON object)", path);
		free(text);
		return NULL;
	}
	return text;
}

void file_lines_init(file_lines *it, char *text, size_t len, const char *name)
{
	it->p = text;
	it->end = text ? text + len : NULL;
	it->name = name;
	it->lineno = 0;
}

const char *file_where(char *dst, size_t n, const char *name, unsigned lineno)
{
	char shown[96];

	if ((size_t)snprintf(dst, n, "%s:%u", name, lineno) >= n)
		snprintf(dst, n, "%s:%u", txt_show(shown, sizeof shown, name), lineno);
	return dst;
}

/* Lines are cut by length, not by strchr: a NUL byte must end its own line
 * with an error, not silently end the file. */
/* Line lineno of name, l (n bytes, NUL-terminated): 1 with it in *line
 * and *len, 0 for a blank one, -1 for one holding a NUL byte (err). */
static int line_of(const char *name, unsigned lineno, char *l, size_t n, char **line,
                   size_t *len, char *err, size_t errlen)
{
	const char *nul = memchr(l, '\0', n);

	if (nul) {
		snprintf(err, errlen, "%s:%u: a NUL byte at byte %zu; JSON Lines are UTF-8 text", name,
		         lineno, (size_t)(nul - l));
		return -1;
	}
	if (strspn(l, " \t\r") == n)
		return 0;
	*line = l;
	*len = n;
	return 1;
}

int file_next_line(file_lines *it, char **line, size_t *len, char *err, size_t errlen)
{
	while (it->p && it->p < it->end) {
		char *l = it->p, *nl = memchr(l, '\n', (size_t)(it->end - l));
		size_t n = nl ? (size_t)(nl - l) : (size_t)(it->end - l);
		int got;

		it->p = nl ? nl + 1 : it->end;
		l[n] = '\0';
		it->lineno++;
		if ((got = line_of(it->name, it->lineno, l, n, line, len, err, errlen)))
			return got;
	}
	return 0;
}

void file_stream_init(file_stream *s, int fd, const char *name)
{
	*s = (file_stream){.fd = fd, .name = name};
}

/* Read more after buf[end), the unreturned bytes moved to the front first;
 * 1 when some came, 0 at the end, -1 on a read error or no memory.  A
 * buffer of FILE_MAX_BYTES + 1 holding no newline is not grown: the caller
 * drops the line. */
static int stream_fill(file_stream *s)
{
	ssize_t got;

	if (s->start) {
		memmove(s->buf, s->buf + s->start, s->end - s->start);
		s->end -= s->start;
		s->start = 0;
	}
	if (s->cap - s->end < 4096 && s->cap <= FILE_MAX_BYTES) {
		size_t cap = s->cap ? s->cap * 2 : 65536;
		char *nb;

		if (cap > FILE_MAX_BYTES + 1)
			cap = FILE_MAX_BYTES + 1;
		if (!(nb = realloc(s->buf, cap + 1)))
			return -1;
		s->buf = nb;
		s->cap = cap;
	}
	do {
		if (s->stop && !fd_wait(s->fd, s->stop)) {
			errno = EINTR;
			return -1;
		}
		got = read(s->fd, s->buf + s->end, s->cap - s->end);
	} while (got < 0 && errno == EINTR);
	if (got > 0)
		s->end += (size_t)got;
	return got > 0 ? 1 : got == 0 ? 0 : -1;
}

int file_stream_more(const file_stream *s)
{
	return s->end > s->start && memchr(s->buf + s->start, '\n', s->end - s->start);
}

int file_stream_next(file_stream *s, char **line, size_t *len, char *err, size_t errlen)
{
	while (!s->done) {
		char *l = s->end > s->start ? s->buf + s->start : NULL;
		char *nl = l ? memchr(l, '\n', s->end - s->start) : NULL;
		size_t n = nl ? (size_t)(nl - l) : s->end - s->start;
		const char *why;
		int got = 0;

		if (!nl && n <= FILE_MAX_BYTES && (got = stream_fill(s)) > 0)
			continue;
		if (got < 0) {
			s->done = 1;
			snprintf(err, errlen, "%s: read error: %s", s->name,
			         errno ? strerror(errno) : "out of memory");
			return -1;
		}
		if (!nl && n > FILE_MAX_BYTES) {
			/* The rest of the line is read and dropped as it comes. */
			s->start = s->end;
			while ((got = stream_fill(s)) > 0 && !memchr(s->buf, '\n', s->end))
				s->start = s->end;
			if (got > 0)
				s->start = (size_t)((char *)memchr(s->buf, '\n', s->end) - s->buf) + 1;
			s->done = got <= 0;
			snprintf(err, errlen, "%s:%u: a line of more than %u MiB, the most lbsched reads",
			         s->name, ++s->lineno, FILE_MAX_BYTES >> 20);
			return -1;
		}
		if (!nl && n == 0) {
			s->done = 1;
			return 0;
		}
		/* A line: up to its newline, or the last one without. */
		l = s->buf + s->start;
		l[n] = '\0';
		s->start += nl ? n + 1 : n;
		s->lineno++;
		if (s->lineno == 1 && (why = txt_not_utf8(l, n))) {
			s->done = 1;
			snprintf(err, errlen, "%s: %s", s->name, why);
			return -1;
		}
		if ((got = line_of(s->name, s->lineno, l, n, line, len, err, errlen)))
			return got;
	}
	return 0;
}

void file_stream_free(file_stream *s)
{
	free(s->buf);
	s->buf = NULL;
}

/* A path that names one of this process's descriptors (/dev/stdout,
 * /dev/fd/N, /proc/self/fd/N): written where it points, as the shell set
 * it up, never resolved and replaced (stdout redirected to a file would
 * lose what else went there; a pipe has no path to resolve). */
static int is_fd_path(const char *path)
{
	return !strncmp(path, "/dev/std", 8) || !strncmp(path, "/dev/fd/", 8) ||
	       !strncmp(path, "/proc/", 6);
}

/* The descriptor of this process a path names (/dev/stdout, /dev/fd/1,
 * /proc/self/fd/1), or -1. */
static int own_fd(const char *path)
{
	const char *n = NULL;
	char *end;
	long fd;

	if (!strcmp(path, "/dev/stdout"))
		return 1;
	if (!strcmp(path, "/dev/stderr"))
		return 2;
	if (!strncmp(path, "/dev/fd/", 8))
		n = path + 8;
	else if (!strncmp(path, "/proc/self/fd/", 14))
		n = path + 14;
	if (!n || !*n)
		return -1;
	fd = strtol(n, &end, 10);
	return *end || fd < 0 || fd > INT_MAX ? -1 : (int)fd;
}

/* The file an output path names: a symlink's target (malloc'd into
 * *real), else the path; NULL with err for a symlink to nothing. */
static const char *out_target(const char *path, char **real, char *err, size_t errlen)
{
	struct stat st;

	*real = NULL;
	if (is_fd_path(path) || lstat(path, &st) || !S_ISLNK(st.st_mode))
		return path;
	if (!(*real = realpath(path, NULL))) {
		snprintf(err, errlen, "%s: cannot write: a symlink to %s", path,
		         errno == ENOENT ? "nothing" : strerror(errno));
		return NULL;
	}
	return *real;
}

int file_check_out(const char *path, char *err, size_t errlen)
{
	char *real, dir[PATH_MAX];
	const char *target = out_target(path, &real, err, errlen), *slash;
	struct stat st;
	int rc = -1;

	if (!target)
		return -1;
	if (!stat(target, &st) && (!S_ISREG(st.st_mode) || is_fd_path(path))) {
		if (S_ISDIR(st.st_mode))
			snprintf(err, errlen, "%s: cannot write: is a directory", path);
		else if (access(target, W_OK))
			snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
		else
			rc = 0;
		goto out;
	}
	/* a file there that may be written, in a directory that takes no
	 * new one: written in place (in_place) */
	if (!stat(target, &st) && !access(target, W_OK)) {
		rc = 0;
		goto out;
	}
	/* A regular file is replaced through its directory. */
	slash = strrchr(target, '/');
	if (!slash)
		snprintf(dir, sizeof dir, ".");
	else if (slash == target)
		snprintf(dir, sizeof dir, "/");
	else if ((size_t)(slash - target) >= sizeof dir) {
		snprintf(err, errlen, "%s: cannot write: path too long", path);
		goto out;
	} else
		snprintf(dir, sizeof dir, "%.*s", (int)(slash - target), target);
	if (stat(dir, &st))
		snprintf(err, errlen, "%s: cannot write: its directory %s", path,
		         errno == ENOENT ? "does not exist" : strerror(errno));
	else if (!S_ISDIR(st.st_mode))
		snprintf(err, errlen, "%s: cannot write: its parent is not a directory", path);
	else if (access(dir, W_OK | X_OK))
		snprintf(err, errlen, "%s: cannot write: its directory: %s", path, strerror(errno));
	else
		rc = 0;
out:
	free(real);
	return rc;
}

/* fn into f, then f closed: 0, or -1 with fn's reason or the close's. */
static int out_run(FILE *f, file_out_fn fn, void *ctx, char *why, size_t n)
{
	int bad = fn(f, ctx, why, n);

	if (fclose(f) && !bad) {
		snprintf(why, n, "cannot write: %s", strerror(errno));
		bad = -1;
	}
	return bad;
}

int file_write_out(const char *path, file_out_fn fn, void *ctx, char *err, size_t errlen)
{
	char *real, tmp[PATH_MAX + 32], why[1024] = "";
	const char *target = out_target(path, &real, err, errlen);
	struct stat st;
	FILE *f;
	int fd, had = 0, rc = -1;

	if (!target)
		return -1;
	if (!stat(target, &st)) {
		if (S_ISDIR(st.st_mode)) {
			snprintf(err, errlen, "%s: cannot write: is a directory", path);
			goto out;
		}
		had = 1;
	}
	/* Our own name (no file of the user's is overwritten), created as a
	 * new file would be (0666 less the umask); a replaced file's mode is
	 * kept.  One left by a run that was killed is passed over. */
	fd = -1;
	for (unsigned k = 0; fd < 0 && !(had && (!S_ISREG(st.st_mode) || is_fd_path(path)));
	     k++) {
		if (snprintf(tmp, sizeof tmp, "%s.%ld.%u.tmp", target, (long)getpid(), k) >=
		    (int)sizeof tmp) {
			snprintf(err, errlen, "%s: cannot write: path too long", path);
			goto out;
		}
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
		if (fd < 0 && (errno != EEXIST || k == 99)) {
			/* a file that may be written, in a directory that takes
			 * no new one: in place, as before */
			if (had && (errno == EACCES || errno == EROFS) && !access(target, W_OK))
				break;
			snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
			goto out;
		}
	}
	if (fd < 0) {
		int own = own_fd(path), e;

		/* One of our descriptors: through a copy of it, at its offset
		 * (reopened, a file the shell redirected it to would be cut to
		 * nothing, and what was written to it before lost).  Else a
		 * FIFO, a device, another descriptor's path, or in place:
		 * written into, never replaced. */
		if (own >= 0) {
			fflush(NULL);
			f = (fd = dup(own)) >= 0 ? fdopen(fd, "w") : NULL;
			e = errno;
			if (!f && fd >= 0)
				close(fd);
			errno = e;
		} else {
			f = fopen(is_fd_path(path) ? path : target, "w");
		}
		if (!f)
			snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
		else if (out_run(f, fn, ctx, why, sizeof why))
			snprintf(err, errlen, "%s: %s", path, why);
		else
			rc = 0;
		goto out;
	}
	if ((had && fchmod(fd, st.st_mode & 07777)) || !(f = fdopen(fd, "w"))) {
		snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
		close(fd);
		unlink(tmp);
		goto out;
	}
	if (out_run(f, fn, ctx, why, sizeof why))
		snprintf(err, errlen, "%s: %s", path, why);
	else if (rename(tmp, target))
		snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
	else
		rc = 0;
	if (rc)
		unlink(tmp);
out:
	free(real);
	return rc;
}

/* The path with its directory resolved: a file that does not exist yet
 * is named by where it would be made; 0, or -1 when the directory cannot
 * be resolved (nothing can be made there). */
static int where_made(const char *path, char *buf, size_t n)
{
	char dir[PATH_MAX], real[PATH_MAX];
	const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
	size_t dl = slash ? (size_t)(slash - path) : 0;

	if (dl >= sizeof dir)
		return -1;
	if (slash)
		memcpy(dir, path, dl ? dl : 1), dir[dl ? dl : 1] = '\0';
	else
		strcpy(dir, ".");
	if (!realpath(dir, real))
		return -1;
	return snprintf(buf, n, "%s/%s", real, base) < (int)n ? 0 : -1;
}

int file_same(const char *out, const char *other, int other_in)
{
	struct stat x, y;
	int hx, hy;
	char a[PATH_MAX + NAME_MAX + 2], b[PATH_MAX + NAME_MAX + 2];

	if (!out || !other || (other_in && !strcmp(other, "-")))
		return 0;
	/* Two outputs into one of this process's descriptors would be
	 * mixed in it, one after the other, neither to be read apart. */
	if (!other_in && is_fd_path(out) && is_fd_path(other))
		return own_fd(out) >= 0 && own_fd(out) == own_fd(other);
	if (is_fd_path(out) || is_fd_path(other))
		return 0;
	hx = stat(out, &x) == 0;
	hy = stat(other, &y) == 0;
	if ((hx && !S_ISREG(x.st_mode)) || (hy && !S_ISREG(y.st_mode)))
		return 0;
	if (hx && hy)
		return x.st_dev == y.st_dev && x.st_ino == y.st_ino;
	if (hx || hy)
		return 0; /* one exists, the other does not */
	if (where_made(out, a, sizeof a) || where_made(other, b, sizeof b))
		return !strcmp(out, other);
	return !strcmp(a, b);
}

int file_is_stdout(const char *path)
{
	return path && is_fd_path(path) && own_fd(path) == 1;
}

const char *file_out_path(const char *path)
{
	return path && !strcmp(path, "-") ? "/dev/stdout" : path;
}

void file_hold_std_fds(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		int got;

		if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
			continue;
		/* open() takes the lowest free number: this one */
		got = open("/dev/null", (fd == 0 ? O_WRONLY : O_RDONLY) | O_NOCTTY);
		if (got >= 0 && got != fd)
			close(got);
	}
}
