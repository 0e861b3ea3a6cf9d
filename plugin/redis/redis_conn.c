/*
 * redis_conn.c -- parse a Redis address, connect with a timeout, AUTH
 * from a password file, and the loopback/auth policy (redis_conn.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "redis_conn.h"
#include "text.h"

struct rc_conn {
	redisContext *ctx;
	char where[RC_HOST_MAX + 24];
	int broken, closed;
	int timeout_ms;  /* each command's whole wait (rc_target.timeout_ms) */
	int timed_out;   /* the last failure was that wait running out */
	long long cap_us; /* rc_deadline's end (CLOCK_MONOTONIC us); 0: none */
	int cap_ms;       /* ... and what it was given, for the message */
	const char *cap_what;
	size_t max_reply; /* rc_target's; 0: none */
	int too_big;      /* the last failure was a reply past it */
	/* hiredis's reply functions with the array bound (bounded_array),
	 * and its own createArray that they call */
	redisReplyObjectFunctions fns;
	void *(*array)(const redisReadTask *, int);
};

static int digit(char c)
{
	return c >= '0' && c <= '9';
}

int rc_parse(const char *url, rc_target *t, char *err, size_t n)
{
	char show[96], msg[64];
	const char *p, *host, *host_end, *port = NULL;
	size_t hl;

	t->n_addrs = 0; /* a host resolved before is no more */

	/* A scheme is case-insensitive (RFC 3986): REDIS:// is the same. */
	if (!url || strncasecmp(url, "redis://", 8) != 0) {
		if (url && !strncasecmp(url, "rediss://", 9))
			snprintf(err, n, "%s: TLS (rediss://) is not supported by hiredis 0.14; "
			         "reach Redis on the loopback or through a TLS tunnel",
			         txt_show(show, sizeof show, url));
		else
			snprintf(err, n, "%s: not a redis://host:port/prefix address",
			         txt_show(show, sizeof show, url));
		return -1;
	}
	p = url + 8;
	/* user:password@host: refused without being echoed */
	const char *at = memchr(p, '@', strcspn(p, "/"));
	if (at) {
		snprintf(err, n, "redis://...@%s: a password never goes in the address; "
		         "give a password file", txt_show(show, sizeof show, at + 1));
		return -1;
	}
	if (*p == '[') {
		host = p + 1;
		host_end = strchr(host, ']');
		if (!host_end) {
			snprintf(err, n, "%s: an IPv6 address needs its closing ']'",
			         txt_show(show, sizeof show, url));
			return -1;
		}
		p = host_end + 1;
	} else {
		host = p;
		p += strcspn(p, ":/");
		host_end = p;
	}
	hl = (size_t)(host_end - host);
	if (hl == 0 || hl >= sizeof t->host) {
		snprintf(err, n, "%s: the host is empty or longer than %zu bytes",
		         txt_show(show, sizeof show, url), sizeof t->host - 1);
		return -1;
	}
	for (const char *q = host; q < host_end; q++) {
		if ((unsigned char)*q <= ' ' || *q == 0x7f) {
			snprintf(err, n, "%s: the host has a space or control byte",
			         txt_show(show, sizeof show, url));
			return -1;
		}
	}
	t->port = RC_DEFAULT_PORT;
	if (*p == ':') {
		char *end;
		long v;
		port = p + 1;
		errno = 0;
		v = strtol(port, &end, 10);
		/* strtol takes a blank and a sign first: digits alone */
		if (!digit(*port) || (*end && *end != '/') || errno || v < 1 || v > 65535) {
			snprintf(err, n, "%s: the port must be a number from 1 to 65535",
			         txt_show(show, sizeof show, url));
			return -1;
		}
		t->port = (int)v;
		p = end;
	}
	if (*p && *p != '/') {
		snprintf(err, n, "%s: unexpected text after the host",
		         txt_show(show, sizeof show, url));
		return -1;
	}
	if (*p == '/')
		p++;
	/* as URLs elsewhere read it, "/0?db=2" would be a database; here it
	 * was a prefix no key has */
	if (strpbrk(p, "?#")) {
		snprintf(err, n, "%s: a query or fragment ('%c...') is not read: the address is "
		         "redis://host:port/prefix, on database 0 (give each fleet its own prefix)",
		         txt_show(show, sizeof show, url), *strpbrk(p, "?#"));
		return -1;
	}
	/* "/2" picks database 2 in other programs' Redis URLs; here it was
	 * the prefix "2", and the agent wrote "2fleet:w1" on database 0 */
	if (*p && strspn(p, "0123456789") == strlen(p)) {
		snprintf(err, n, "%s: the key prefix '%s' is a number alone, which other Redis URLs "
		         "read as a database: the database is 0, and the path is a key prefix; give "
		         "one such as '%s:'", txt_show(show, sizeof show, url), p, p);
		return -1;
	}
	if (strlen(p) >= sizeof t->prefix) {
		snprintf(err, n, "%s: the key prefix is longer than %zu bytes",
		         txt_show(show, sizeof show, url), sizeof t->prefix - 1);
		return -1;
	}
	if (rc_check_prefix(p, msg, sizeof msg) < 0) {
		snprintf(err, n, "%s: %s", txt_show(show, sizeof show, url), msg);
		return -1;
	}
	memcpy(t->host, host, hl);
	t->host[hl] = '\0';
	strcpy(t->prefix, p);
	return 0;
}

int rc_check_prefix(const char *prefix, char *err, size_t n)
{
	for (const char *q = prefix; *q; q++) {
		if ((unsigned char)*q <= ' ' || *q == 0x7f) {
			snprintf(err, n, "the key prefix has a space or control byte");
			return -1;
		}
	}
	return 0;
}

int rc_parse_address(const char *a, rc_target *t, char *err, size_t n)
{
	const char *colon = strrchr(a, ':'), *h = a;
	char *end, show[96];
	size_t hl;
	long port;

	t->n_addrs = 0;

	if (a[0] == '/') {
		/* a unix socket: this host's by definition */
		if (strlen(a) >= sizeof t->host)
			goto bad;
		strcpy(t->host, a);
		t->port = 0;
		return 0;
	}
	if (!colon || colon == a)
		goto bad;
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (!digit(colon[1]) || *end || errno || port < 1 || port > 65535)
		goto bad;
	hl = (size_t)(colon - a);
	if (a[0] == '[') {
		if (hl < 3 || a[hl - 1] != ']')
			goto bad;
		h = a + 1;
		hl -= 2;
	} else if (memchr(h, ':', hl)) {
		/* An IPv6 address without brackets ("::1", "2001:db8::10"):
		 * split at its last colon it was a host of "::" or
		 * "2001:db8:" and a port from its last group. */
		goto bad;
	}
	if (hl >= sizeof t->host || memchr(h, '[', hl) || memchr(h, ']', hl))
		goto bad;
	for (size_t i = 0; i < hl; i++)
		if ((unsigned char)h[i] <= ' ' || h[i] == 0x7f)
			goto bad;
	memcpy(t->host, h, hl);
	t->host[hl] = '\0';
	t->port = (int)port;
	return 0;
bad:
	snprintf(err, n, "must be \"HOST:PORT\", \"[V6]:PORT\" (port 1..65535) or a unix socket's "
	         "absolute path, got \"%s\"", txt_show(show, sizeof show, a));
	return -1;
}

int rc_is_loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (!strcmp(host, "localhost") || host[0] == '/')
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return 0;
}

int rc_secret_read(const char *path, const char *user, rc_secret *s, char *err, size_t n)
{
	char buf[2 * RC_SECRET_MAX + 4], show[96];
	struct stat st;
	ssize_t got;
	size_t len = 0;
	/* O_NONBLOCK: a FIFO's open waited for a writer, and startup hung
	 * before the regular-file check below could refuse it */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

	memset(s, 0, sizeof *s);
	txt_show(show, sizeof show, path);
	/* Cut, it would log in as another user; dropped, as the default one. */
	if (user && strlen(user) >= RC_SECRET_MAX) {
		snprintf(err, n, "the ACL user is longer than %d bytes", RC_SECRET_MAX - 1);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (fd < 0) {
		snprintf(err, n, "password file %s: %s", show, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, n, "password file %s: not a regular file", show);
		close(fd);
		return -1;
	}
	/* a regular file's reads never block; cleared all the same, so
	 * that the reads below are plain ones */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	if (st.st_mode & 0007) {
		snprintf(err, n, "password file %s: others may access it (mode %03o); chmod o-rwx it",
		         show, (unsigned)(st.st_mode & 0777));
		close(fd);
		return -1;
	}
	while (len < sizeof buf - 1 && (got = read(fd, buf + len, sizeof buf - 1 - len)) != 0) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			snprintf(err, n, "password file %s: %s", show, strerror(errno));
			close(fd);
			explicit_bzero(buf, sizeof buf);
			return -1;
		}
		len += (size_t)got;
	}
	close(fd);
	buf[len] = '\0';
	/* the lines, a final newline (and a CR before it) not counted */
	char *l1 = buf, *l2 = strchr(buf, '\n'), *l3 = NULL;
	if (l2) {
		*l2++ = '\0';
		if ((l3 = strchr(l2, '\n')))
			*l3++ = '\0';
		if (!*l2)
			l2 = NULL;
	}
	if (l3 && l3[strspn(l3, "\r\n")]) {
		/* a third line would be dropped: a file of another format
		 * (empty lines at the end are an editor's) */
		snprintf(err, n, "password file %s: holds more than two lines (the password, or "
		         "the ACL user and the password)", show);
		explicit_bzero(buf, sizeof buf);
		return -1;
	}
	l1[strcspn(l1, "\r")] = '\0';
	if (l2)
		l2[strcspn(l2, "\r")] = '\0';
	if (len == sizeof buf - 1 || !*l1 || strlen(l1) >= RC_SECRET_MAX ||
	    (l2 && strlen(l2) >= RC_SECRET_MAX)) {
		snprintf(err, n, "password file %s: must hold the password on its first line (or "
		         "the ACL user there and the password on the second), at most %d bytes each",
		         show, RC_SECRET_MAX - 1);
		explicit_bzero(buf, sizeof buf);
		return -1;
	}
	if (l2 && user && *user && strcmp(user, l1)) {
		/* the file's first line is not shown: it could be a password */
		snprintf(err, n, "password file %s: names another ACL user (its first line) than "
		         "the 'user' setting; give the user in one place", show);
		explicit_bzero(buf, sizeof buf);
		return -1;
	}
	if (l2) {
		strcpy(s->user, l1);
		strcpy(s->pass, l2);
	} else {
		if (user)
			strcpy(s->user, user);
		strcpy(s->pass, l1);
	}
	explicit_bzero(buf, sizeof buf);
	return 0;
}

void rc_secret_clear(rc_secret *s)
{
	explicit_bzero(s, sizeof *s);
}

void rc_target_where(const rc_target *t, char *buf, size_t n)
{
	if (t->host[0] == '/')
		snprintf(buf, n, "unix://%s", t->host);
	else
		snprintf(buf, n, strchr(t->host, ':') ? "redis://[%s]:%d" : "redis://%s:%d", t->host,
		         t->port);
}

static int cmp_addr(const void *a, const void *b)
{
	return strcmp(a, b);
}

int rc_resolve(rc_target *t, char *err, size_t n)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res, *a;
	char where[RC_HOST_MAX + 24], show[96];
	unsigned char probe[sizeof(struct in6_addr)];
	int rc;

	t->n_addrs = 0;
	/* "%zone" (a link-local address's interface) is lost in the text
	 * of an address: such a host is connected to as it is written */
	if (t->host[0] == '/' || strchr(t->host, '%') || inet_pton(AF_INET, t->host, probe) == 1 ||
	    inet_pton(AF_INET6, t->host, probe) == 1)
		return 0;
	rc = getaddrinfo(t->host, NULL, &hints, &res);
	rc_target_where(t, where, sizeof where);
	if (rc != 0) {
		snprintf(err, n, "%s: cannot resolve '%s': %s", where,
		         txt_show(show, sizeof show, t->host),
		         rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		return -1;
	}
	/* IPv4 first, as hiredis 0.14 tries a name's (a Redis bound to
	 * 127.0.0.1 alone is the usual one); each family's sorted before
	 * RC_ADDRS are kept, so that a resolver that rotates its answers gives
	 * the same list each time (nginx keys what it read by it). */
	for (int fam = 0; fam < 2; fam++) {
		char all[32][RC_ADDR_MAX];
		size_t n_all = 0;

		for (a = res; a && n_all < 32; a = a->ai_next) {
			const void *in = fam == 0 && a->ai_family == AF_INET
			        ? (const void *)&((const struct sockaddr_in *)a->ai_addr)->sin_addr
			        : fam == 1 && a->ai_family == AF_INET6
			        ? (const void *)&((const struct sockaddr_in6 *)a->ai_addr)->sin6_addr
			        : NULL;

			if (in && inet_ntop(a->ai_family, in, all[n_all], RC_ADDR_MAX))
				n_all++;
		}
		qsort(all, n_all, RC_ADDR_MAX, cmp_addr);
		for (size_t k = 0; k < n_all && t->n_addrs < RC_ADDRS; k++)
			if (!t->n_addrs || strcmp(t->addrs[t->n_addrs - 1], all[k]))
				memcpy(t->addrs[t->n_addrs++], all[k], RC_ADDR_MAX);
	}
	freeaddrinfo(res);
	if (t->n_addrs == 0) {
		snprintf(err, n, "%s: cannot resolve '%s': no IPv4 or IPv6 address", where,
		         txt_show(show, sizeof show, t->host));
		return -1;
	}
	return 0;
}

int rc_check_policy(const rc_target *t, char *err, size_t n)
{
	char where[RC_HOST_MAX + 24];

	if (t->secret || t->password_file || t->insecure || rc_is_loopback(t->host))
		return 0;
	rc_target_where(t, where, sizeof where);
	snprintf(err, n, "%s: refused: a Redis off this host needs a password file "
	         "(or an explicit insecure setting); hiredis has no TLS, see docs/SECURITY.md",
	         where);
	return -1;
}

/* err for a reply of the error type, or NULL when it is none. */
static int reply_error(const rc_conn *c, redisReply *r, char *err, size_t n)
{
	if (r->type != REDIS_REPLY_ERROR)
		return 0;
	/* Whole, as far as err holds it: a script's error names its line,
	 * and WRONGTYPE's or NOPERM's words alone run past txt_show's 64
	 * bytes, which cut the cause off.  Made one line as AUTH's is. */
	snprintf(err, n, "%s: %s", c->where, r->str);
	txt_one_line(err);
	return 1;
}

/*
 * hiredis 0.14 makes an array of the count a reply announces before any
 * element arrives, and frees it slot by slot: "*2147483647" from a server
 * that is not Redis (or not ours) cost 16 GB and minutes, with nginx's
 * event loop waiting.  No reply of ours holds more than RC_MAX_ELEMENTS
 * (a pull's page, a SCAN's batch); one that announces more is refused as
 * the reader refuses memory it cannot get.
 */
#define RC_MAX_ELEMENTS 4194304 /* 2^22 */
#define RC_STR_(x) #x
#define RC_STR(x) RC_STR_(x)

/* The connection is the reader's privdata, which hiredis hands every
 * task: per connection, so the plugin keeps no global for it. */
static void *bounded_array(const redisReadTask *task, int elements)
{
	const rc_conn *c = task->privdata;

	return c && elements >= 0 && elements <= RC_MAX_ELEMENTS ? c->array(task, elements) : NULL;
}

/*
 * hiredis writes with write(), not send(MSG_NOSIGNAL): a write to a server
 * that closed its end raises SIGPIPE in the writing thread, and its
 * default action ends the host's whole process.  The plugin's own threads
 * block it (thread.h); a host's thread that talks to Redis through this
 * layer (`prefs sync`, the shim's live fleet) may not, and a library must
 * not change a process's signal actions.  So SIGPIPE is blocked in the
 * calling thread around each write, a SIGPIPE the write raised is taken
 * out of the thread's pending set, and the mask is put back: the write
 * fails with EPIPE and the caller gets its one-line error instead.
 */
typedef struct pipe_guard {
	sigset_t old;
	int pending; /* SIGPIPE was pending before: not ours to take */
} pipe_guard;

static void pipe_guard_on(pipe_guard *g)
{
	sigset_t pipe, now;

	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe, &g->old);
	g->pending = sigpending(&now) == 0 && sigismember(&now, SIGPIPE) == 1;
}

static void pipe_guard_off(const pipe_guard *g)
{
	static const struct timespec zero = {0, 0};
	sigset_t pipe, now;

	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	if (!g->pending && sigpending(&now) == 0 && sigismember(&now, SIGPIPE) == 1)
		while (sigtimedwait(&pipe, NULL, &zero) < 0 && errno == EINTR)
			;
	pthread_sigmask(SIG_SETMASK, &g->old, NULL);
}

static long long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static void io_error(rc_conn *c, char *err, size_t n)
{
	char show[96];
	int timed_out;

	c->broken = 1;
	if (c->too_big) {
		c->closed = 0;
		snprintf(err, n, "%s: a reply of more than %zu bytes, more than any lbsched "
		         "waits for here: the server is not Redis, or does not hold what lbsched "
		         "wrote", c->where, c->max_reply);
		return;
	}
	/* hiredis words a reset or a write to a closed socket as its errno */
	c->closed = c->ctx->err == REDIS_ERR_EOF ||
	            (c->ctx->err == REDIS_ERR_IO && (!strcmp(c->ctx->errstr, strerror(ECONNRESET)) ||
	                                             !strcmp(c->ctx->errstr, strerror(EPIPE))));
	/* hiredis words a read past the timeout as its errno */
	timed_out = c->timed_out ||
	            (c->ctx->err == REDIS_ERR_IO && !strcmp(c->ctx->errstr, strerror(EAGAIN)));
	if (timed_out && c->cap_us && now_us() >= c->cap_us) {
		snprintf(err, n, "%s: timed out: %s may take %d ms in all", c->where, c->cap_what,
		         c->cap_ms);
		return;
	}
	if (c->closed && c->ctx->err != REDIS_ERR_EOF) {
		snprintf(err, n, "%s: the server closed the connection (%s)", c->where,
		         c->ctx->errstr);
		return;
	}
	snprintf(err, n, "%s: %s", c->where,
	         c->ctx->err == REDIS_ERR_EOF ? "the server closed the connection"
	         : c->ctx->err == REDIS_ERR_OOM && c->array
	           ? "a reply too large (an array of more than " RC_STR(RC_MAX_ELEMENTS)
	             " elements), or out of memory: the server is not Redis, or does not hold "
	             "what lbsched wrote"
	         : timed_out ? "timed out waiting for the reply"
	         : c->ctx->errstr[0] ? txt_show(show, sizeof show, c->ctx->errstr)
	         : "I/O error");
}

/* The socket's opt (SO_RCVTIMEO or SO_SNDTIMEO) set to what is left until
 * end; -1 once nothing is left. */
static int wait_left(rc_conn *c, int opt, long long end)
{
	long long left = end - now_us();
	struct timeval tv;

	if (left <= 0) {
		c->timed_out = 1;
		return -1;
	}
	/* left > 0 in us: never the zero timeval, which is no timeout at all */
	tv.tv_sec = (time_t)(left / 1000000);
	tv.tv_usec = (suseconds_t)(left % 1000000);
	/* failing, the socket keeps the whole timeout_ms hiredis set, and
	 * the deadline is still checked before the next read */
	setsockopt(c->ctx->fd, SOL_SOCKET, opt, &tv, sizeof tv);
	return 0;
}

/* The end of a window of timeout_ms from now, never past rc_deadline's. */
static long long window_end(const rc_conn *c)
{
	long long end = now_us() + (long long)c->timeout_ms * 1000;

	return c->cap_us && end > c->cap_us ? c->cap_us : end;
}

void rc_deadline(rc_conn *c, int ms, const char *what)
{
	c->cap_what = what;
	c->cap_ms = ms > 0 ? ms : 0;
	c->cap_us = ms > 0 ? now_us() + (long long)ms * 1000 : 0;
}

int rc_timeout_ms(const rc_conn *c)
{
	return c->timeout_ms;
}

/* What each timeout_ms must move of a command or its reply, or its end. */
#define RC_PROGRESS_BYTES (64 * 1024)

/* n more bytes moved: a window that has moved RC_PROGRESS_BYTES starts a
 * new one of timeout_ms. */
static void moved(const rc_conn *c, size_t n, size_t *window, long long *end)
{
	*window += n;
	if (*window >= RC_PROGRESS_BYTES) {
		*window = 0;
		*end = window_end(c);
	}
}

/*
 * redisGetReply, where each timeout_ms must move 64 KiB of the command or
 * of its reply, or reach its end.  hiredis's own loop reads again and
 * again, each read with the socket's full timeout: a server that sent a
 * long reply's bytes one by one, each within it, held the caller for ever
 * (`prefs sync`, nginx's start-up, the agent).  One deadline for the whole
 * reply would fail a pull page of a few MB on a slow but steady link, at
 * every sync.  Each write and read here waits only what is left of its
 * window.  The byte counts are hiredis's own buffers' lengths (obuf, the
 * reader's len), public in its headers.
 */
static int get_reply(rc_conn *c, void **reply)
{
	long long end = window_end(c);
	size_t window = 0, before, got = 0;
	void *aux = NULL;
	int done = 0;

	c->timed_out = 0;
	c->too_big = 0;
	if (redisGetReplyFromReader(c->ctx, &aux) == REDIS_ERR)
		return REDIS_ERR;
	while (!aux && !done) {
		before = sdslen(c->ctx->obuf);
		if (wait_left(c, SO_SNDTIMEO, end) < 0 || redisBufferWrite(c->ctx, &done) == REDIS_ERR)
			return REDIS_ERR;
		moved(c, before - sdslen(c->ctx->obuf), &window, &end);
	}
	window = 0;
	while (!aux) {
		before = c->ctx->reader->len;
		if (wait_left(c, SO_RCVTIMEO, end) < 0 || redisBufferRead(c->ctx) == REDIS_ERR)
			return REDIS_ERR;
		/* the reader's len only grows in a read (it shrinks in a parse) */
		got += c->ctx->reader->len - before;
		moved(c, c->ctx->reader->len - before, &window, &end);
		if (c->max_reply && got > c->max_reply) {
			c->too_big = 1;
			return REDIS_ERR;
		}
		if (redisGetReplyFromReader(c->ctx, &aux) == REDIS_ERR)
			return REDIS_ERR;
	}
	*reply = aux;
	return REDIS_OK;
}

rc_conn *rc_connect(const rc_target *t, char *err, size_t n)
{
	char show[96];
	int ms = t->timeout_ms > 0 ? t->timeout_ms : RC_DEFAULT_TIMEOUT_MS;
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
	rc_conn *c = calloc(1, sizeof *c);

	if (!c) {
		snprintf(err, n, "redis: out of memory");
		return NULL;
	}
	rc_target_where(t, c->where, sizeof c->where);
	c->timeout_ms = ms;
	c->max_reply = t->max_reply;
	if (t->deadline_ms > 0)
		rc_deadline(c, t->deadline_ms, t->deadline_what);
	if (rc_check_policy(t, err, n) < 0) {
		free(c);
		return NULL;
	}
	if (t->host[0] == '/')
		c->ctx = redisConnectUnixWithTimeout(t->host, tv);
	else if (t->n_addrs == 0)
		c->ctx = redisConnectWithTimeout(t->host, t->port, tv);
	/* each address in turn, as hiredis tries a name's */
	for (int k = 0; k < t->n_addrs && k < RC_ADDRS; k++) {
		if (c->ctx)
			redisFree(c->ctx);
		c->ctx = redisConnectWithTimeout(t->addrs[k], t->port, tv);
		if (c->ctx && !c->ctx->err)
			break;
	}
	if (!c->ctx || c->ctx->err) {
		snprintf(err, n, "%s: cannot connect: %s", c->where,
		         c->ctx ? txt_show(show, sizeof show, c->ctx->errstr) : "out of memory");
		goto fail;
	}
	if (redisSetTimeout(c->ctx, tv) != REDIS_OK) {
		snprintf(err, n, "%s: cannot set the timeout", c->where);
		goto fail;
	}
	if (c->ctx->reader && c->ctx->reader->fn && c->ctx->reader->fn->createArray) {
		c->fns = *c->ctx->reader->fn;
		c->array = c->fns.createArray;
		c->fns.createArray = bounded_array;
		c->ctx->reader->privdata = c;
		c->ctx->reader->fn = &c->fns;
	}
	return c;
fail:
	if (c->ctx)
		redisFree(c->ctx);
	free(c);
	return NULL;
}

/* AUTH with sec when it holds a password; 0, or -1 with err. */
static int auth_with(rc_conn *c, const rc_secret *sec, char *err, size_t n)
{
	const char *argv[3];
	char show[96];
	pipe_guard g;
	redisReply *r;
	void *got;

	if (!sec || !sec->pass[0])
		return 0;
	argv[0] = "AUTH";
	argv[1] = sec->user[0] ? sec->user : sec->pass;
	argv[2] = sec->pass;
	if (redisAppendCommandArgv(c->ctx, sec->user[0] ? 3 : 2, argv, NULL) != REDIS_OK) {
		snprintf(err, n, "%s: out of memory", c->where);
		return -1;
	}
	pipe_guard_on(&g);
	if (get_reply(c, &got) != REDIS_OK)
		got = NULL;
	pipe_guard_off(&g);
	r = got;
	if (!r) {
		io_error(c, err, n);
		return -1;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		/* the server's words only: they never hold the secret */
		snprintf(err, n, "%s: authentication%s%s refused: %s", c->where,
		         sec->user[0] ? " as " : "",
		         sec->user[0] ? txt_show(show, sizeof show, sec->user) : "", r->str);
		txt_one_line(err);
		freeReplyObject(r);
		return -1;
	}
	freeReplyObject(r);
	return 0;
}

/* t's secret, read from its password file when not given: sec, or own
 * (which the caller clears); NULL with err for an unreadable file. */
static const rc_secret *secret_of(const rc_target *t, const char *where, rc_secret *own,
                                  int *read, char *err, size_t n)
{
	char msg[400];

	*read = 0;
	if (t->secret || !t->password_file)
		return t->secret;
	if (rc_secret_read(t->password_file, t->user, own, msg, sizeof msg) < 0) {
		snprintf(err, n, "%s: %s", where, msg);
		return NULL;
	}
	*read = 1;
	return own;
}

int rc_auth(rc_conn *c, const rc_target *t, char *err, size_t n)
{
	rc_secret own;
	int read, rc = -1;
	const rc_secret *sec = secret_of(t, c->where, &own, &read, err, n);

	if (sec || (!t->secret && !t->password_file))
		rc = auth_with(c, sec, err, n);
	if (read)
		rc_secret_clear(&own);
	return rc;
}

rc_conn *rc_open(const rc_target *t, char *err, size_t n)
{
	char where[RC_HOST_MAX + 24];
	rc_secret own;
	int read;
	const rc_secret *sec;
	rc_conn *c = NULL;

	/* the policy and the password file first: neither needs the network */
	rc_target_where(t, where, sizeof where);
	if (rc_check_policy(t, err, n) < 0)
		return NULL;
	sec = secret_of(t, where, &own, &read, err, n);
	if (!sec && (t->secret || t->password_file))
		return NULL;
	c = rc_connect(t, err, n);
	if (c && auth_with(c, sec, err, n) < 0) {
		rc_close(c);
		c = NULL;
	}
	if (read)
		rc_secret_clear(&own);
	return c;
}

void rc_interrupt(rc_conn *c)
{
	if (c && c->ctx && c->ctx->fd >= 0)
		shutdown(c->ctx->fd, SHUT_RDWR);
}

void rc_close(rc_conn *c)
{
	if (!c)
		return;
	if (c->ctx)
		redisFree(c->ctx);
	free(c);
}

const char *rc_where(const rc_conn *c)
{
	return c->where;
}

redisContext *rc_context(rc_conn *c)
{
	return c->ctx;
}

int rc_broken(const rc_conn *c)
{
	return c->broken;
}

int rc_closed(const rc_conn *c)
{
	return c->closed;
}

redisReply *rc_command(rc_conn *c, char *err, size_t n, const char *fmt, ...)
{
	va_list ap;
	int r = REDIS_OK;

	if (!c->broken) {
		va_start(ap, fmt);
		r = redisvAppendCommand(c->ctx, fmt, ap);
		va_end(ap);
	}
	if (r != REDIS_OK) {
		snprintf(err, n, "%s: out of memory", c->where);
		return NULL;
	}
	return rc_reply(c, err, n);
}

redisReply *rc_command_argv(rc_conn *c, char *err, size_t n, int argc, const char **argv,
                            const size_t *lens)
{
	if (rc_append_argv(c, argc, argv, lens) < 0 && !c->broken) {
		snprintf(err, n, "%s: out of memory", c->where);
		return NULL;
	}
	return rc_reply(c, err, n);
}

int rc_append_argv(rc_conn *c, int argc, const char **argv, const size_t *lens)
{
	return c->broken || redisAppendCommandArgv(c->ctx, argc, argv, lens) != REDIS_OK ? -1 : 0;
}

redisReply *rc_reply_raw(rc_conn *c, char *err, size_t n)
{
	void *r = NULL;
	pipe_guard g;
	int rc;

	if (c->broken) {
		snprintf(err, n, "%s: the connection failed earlier", c->where);
		return NULL;
	}
	/* get_reply writes what was appended before it reads */
	pipe_guard_on(&g);
	rc = get_reply(c, &r);
	pipe_guard_off(&g);
	if (rc != REDIS_OK || !r) {
		io_error(c, err, n);
		return NULL;
	}
	return r;
}

redisReply *rc_reply(rc_conn *c, char *err, size_t n)
{
	redisReply *r = rc_reply_raw(c, err, n);

	if (r && reply_error(c, r, err, n)) {
		freeReplyObject(r);
		return NULL;
	}
	return r;
}
