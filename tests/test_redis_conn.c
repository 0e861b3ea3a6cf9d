/*
 * test_redis_conn.c -- the Redis client layer (plugin/redis/redis_conn.h)
 * in a host's own thread, where SIGPIPE has its default action: a write
 * to a server that has closed its end must come back as a one-line error,
 * not end the process.  The server is a unix socket this test listens on
 * and closes itself, so the write always meets a closed peer (a real
 * redis-server would close only when it chose to).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "redis_conn.h"

/* A listening unix socket at path, or -1. */
static int listen_at(const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) || listen(fd, 4)) {
		perror(path);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int pipe_pending(void)
{
	sigset_t now;

	return sigpending(&now) == 0 && sigismember(&now, SIGPIPE) == 1;
}

static int pipe_blocked(void)
{
	sigset_t now;

	return pthread_sigmask(SIG_SETMASK, NULL, &now) == 0 && sigismember(&now, SIGPIPE) == 1;
}

/* A command to a server that accepted and closed the connection: the
 * caller's error, and the thread's mask and pending set as they were. */
static void test_closed_server(const char *dir)
{
	char path[100], err[512], want[200];
	rc_target t = {0};
	redisReply *r;
	rc_conn *c;
	int lfd, fd;

	snprintf(path, sizeof path, "%s/redis.sock", dir);
	CHECK((lfd = listen_at(path)) >= 0);
	if (lfd < 0)
		return;
	CHECK_INT(rc_parse_address(path, &t, err, sizeof err), 0);
	c = rc_open(&t, err, sizeof err);
	CHECK(c != NULL);
	if (!c) {
		fprintf(stderr, "    rc_open: %s\n", err);
		close(lfd);
		return;
	}
	CHECK((fd = accept(lfd, NULL, NULL)) >= 0);
	close(fd);
	CHECK(!pipe_blocked());

	/* A unix socket whose peer is gone fails the first write with EPIPE,
	 * which raises SIGPIPE: with its default action this test would end
	 * here, with no line of its own. */
	err[0] = '\0';
	r = rc_command(c, err, sizeof err, "PING");
	CHECK(r == NULL);
	snprintf(want, sizeof want, "unix://%s: the server closed the connection", path);
	CHECK_CONTAINS(err, want);
	CHECK(!strchr(err, '\n'));
	CHECK_INT(rc_broken(c), 1);
	CHECK_INT(rc_closed(c), 1);
	CHECK(!pipe_pending());
	CHECK(!pipe_blocked());
	rc_close(c);

	/* A host that blocks SIGPIPE itself keeps it blocked, and a SIGPIPE
	 * pending before (not the layer's) stays pending. */
	{
		sigset_t pipe, old;

		sigemptyset(&pipe);
		sigaddset(&pipe, SIGPIPE);
		pthread_sigmask(SIG_BLOCK, &pipe, &old);
		raise(SIGPIPE);
		CHECK(pipe_pending());
		c = rc_open(&t, err, sizeof err);
		CHECK(c != NULL);
		if (c) {
			CHECK((fd = accept(lfd, NULL, NULL)) >= 0);
			close(fd);
			CHECK(rc_command(c, err, sizeof err, "PING") == NULL);
			CHECK_CONTAINS(err, "the server closed the connection");
			rc_close(c);
		}
		CHECK(pipe_blocked());
		CHECK(pipe_pending());
		{
			static const struct timespec zero = {0, 0};

			CHECK_INT(sigtimedwait(&pipe, NULL, &zero), SIGPIPE);
		}
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}

	close(lfd);
	unlink(path);
}

/* The steady server: accepts once, reads a command, and answers a bulk
 * string of STEADY_BYTES in chunks of 16 KiB every 20 ms (about 800 KB/s:
 * 1.3 s for the whole, over four times the client's timeout). */
#define STEADY_BYTES (1024 * 1024)
static void *steady_server(void *arg)
{
	int lfd = *(int *)arg, fd = accept(lfd, NULL, NULL);
	static char chunk[16 * 1024];
	char head[64], in[512];
	const struct timespec gap = {0, 20 * 1000 * 1000};

	if (fd < 0)
		return NULL;
	memset(chunk, 'x', sizeof chunk);
	if (read(fd, in, sizeof in) > 0) {
		int n = snprintf(head, sizeof head, "$%d\r\n", STEADY_BYTES);

		/* send: a client that gave up must fail this test, not kill it */
		if (send(fd, head, (size_t)n, MSG_NOSIGNAL) == n)
			for (size_t sent = 0; sent < STEADY_BYTES; sent += sizeof chunk) {
				nanosleep(&gap, NULL);
				if (send(fd, chunk, sizeof chunk, MSG_NOSIGNAL) != (ssize_t)sizeof chunk)
					break;
			}
		if (send(fd, "\r\n", 2, MSG_NOSIGNAL) != 2)
			perror("steady server");
	}
	close(fd);
	return NULL;
}

/* GET of the steady server's reply on a connection of timeout_ms 300 and
 * deadline_ms (0: none) named "the test's read": the reply, or NULL with
 * err. */
static redisReply *steady_get(const char *dir, const char *name, int deadline_ms, char *err,
                              size_t errlen)
{
	char path[100];
	rc_target t = {0};
	redisReply *r = NULL;
	rc_conn *c;
	pthread_t th;
	int lfd;

	snprintf(path, sizeof path, "%s/%s.sock", dir, name);
	CHECK((lfd = listen_at(path)) >= 0);
	if (lfd < 0)
		return NULL;
	CHECK_INT(rc_parse_address(path, &t, err, errlen), 0);
	t.timeout_ms = 300;
	t.deadline_ms = deadline_ms;
	t.deadline_what = "the test's read";
	c = rc_open(&t, err, errlen);
	CHECK(c != NULL);
	if (c && !pthread_create(&th, NULL, steady_server, &lfd)) {
		CHECK_INT(rc_timeout_ms(c), 300);
		err[0] = '\0';
		r = rc_command(c, err, errlen, "GET %s", "big");
		CHECK_INT(rc_broken(c), r == NULL);
		rc_close(c);
		pthread_join(th, NULL);
	} else if (c) {
		rc_close(c);
	}
	close(lfd);
	unlink(path);
	return r;
}

/* A reply that takes longer than timeout_ms but comes steadily (a pull
 * page of a few MB on a slow link) is read whole: each timeout_ms must
 * move 64 KiB, not the whole reply (that failed the same page at every
 * sync).  A server that drips one byte at a time is test_fleet's. */
static void test_steady_reply(const char *dir)
{
	char err[512];
	redisReply *r = steady_get(dir, "steady", 0, err, sizeof err);

	CHECK(r != NULL);
	if (r) {
		CHECK_INT(r->type, REDIS_REPLY_STRING);
		CHECK_INT((long long)r->len, STEADY_BYTES);
		freeReplyObject(r);
	} else {
		fprintf(stderr, "    %s\n", err);
	}
}

/* The same reply under a deadline (rc_target's, rc_deadline's): past it
 * the command fails, with the caller's words for what ran long, though
 * every window moved its 64 KiB (nginx's round of reading the live fleet
 * is bounded so). */
static void test_deadline(const char *dir)
{
	char err[512];
	redisReply *r = steady_get(dir, "deadline", 600, err, sizeof err);

	CHECK(r == NULL);
	if (r)
		freeReplyObject(r);
	CHECK_CONTAINS(err, "deadline.sock: timed out: the test's read may take 600 ms in all");
}

/* A listening TCP socket on 127.0.0.1, its port in *port, or -1. */
static int listen_tcp(int *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) || listen(fd, 4) ||
	    getsockname(fd, (struct sockaddr *)&a, &len)) {
		perror("127.0.0.1");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*port = ntohs(a.sin_port);
	return fd;
}

/* rc_resolve keeps a name's addresses, and a connect after it asks no
 * resolver (nginx's process 0 waited seconds for one that was down): with
 * the name then changed to one that resolves nowhere, the connect still
 * reaches the listener through the addresses kept, 127.0.0.1 first (IPv4
 * before IPv6, as hiredis tries a name's, where "localhost" has both). */
static void test_resolved_ahead(void)
{
	char err[512] = "";
	rc_target t = {0};
	rc_conn *c;
	int lfd, port = 0, loop = 0;

	CHECK((lfd = listen_tcp(&port)) >= 0);
	if (lfd < 0)
		return;
	CHECK_INT(rc_parse("redis://localhost:1/p", &t, err, sizeof err), 0);
	t.port = port;
	CHECK_INT(rc_resolve(&t, err, sizeof err), 0);
	CHECK(t.n_addrs >= 1 && t.n_addrs <= RC_ADDRS);
	for (int k = 0; k < t.n_addrs; k++)
		loop |= !strcmp(t.addrs[k], "127.0.0.1");
	CHECK(loop);
	CHECK_STR(t.addrs[0], "127.0.0.1");
	snprintf(t.host, sizeof t.host, "lbsched-no-such-host.invalid");
	t.insecure = 1;
	c = rc_connect(&t, err, sizeof err);
	CHECK(c != NULL);
	if (c)
		rc_close(c);
	else
		fprintf(stderr, "    rc_connect: %s\n", err);
	close(lfd);

	/* A name that resolves nowhere: said, naming it (nginx -t fails on
	 * it, as on an upstream server's). */
	memset(&t, 0, sizeof t);
	CHECK_INT(rc_parse("redis://lbsched-no-such-host.invalid/p", &t, err, sizeof err), 0);
	CHECK_INT(rc_resolve(&t, err, sizeof err), -1);
	CHECK_CONTAINS(err, "redis://lbsched-no-such-host.invalid:6379: cannot resolve "
	                    "'lbsched-no-such-host.invalid': ");
	CHECK_INT(t.n_addrs, 0);
	/* an address, or a unix socket, is its own */
	CHECK_INT(rc_parse("redis://127.0.0.1:7000/p", &t, err, sizeof err), 0);
	CHECK_INT(rc_resolve(&t, err, sizeof err), 0);
	CHECK_INT(t.n_addrs, 0);
	CHECK_INT(rc_parse("redis://[::1]:7000/p", &t, err, sizeof err), 0);
	CHECK_INT(rc_resolve(&t, err, sizeof err), 0);
	CHECK_INT(t.n_addrs, 0);
	/* a link-local address's zone, which an address's text would lose
	 * (every connect then failed with EINVAL): connected to as written */
	snprintf(t.host, sizeof t.host, "fe80::1%%lo");
	CHECK_INT(rc_resolve(&t, err, sizeof err), 0);
	CHECK_INT(t.n_addrs, 0);
	/* a target parsed again is resolved again */
	CHECK_INT(rc_parse("redis://localhost:7000/p", &t, err, sizeof err), 0);
	CHECK_INT(rc_resolve(&t, err, sizeof err), 0);
	CHECK(t.n_addrs >= 1);
	CHECK_INT(rc_parse("redis://127.0.0.1:7000/p", &t, err, sizeof err), 0);
	CHECK_INT(t.n_addrs, 0);
}

/* A path of digits alone is a database in other programs' Redis URLs:
 * here it was the prefix "2", keys written where nobody reads them.  A
 * prefix with a digit in it stays a prefix. */
static void test_prefix_of_digits(void)
{
	char err[512] = "";
	rc_target t = {0};

	CHECK_INT(rc_parse("redis://127.0.0.1:7000/2", &t, err, sizeof err), -1);
	CHECK(strstr(err, "redis://127.0.0.1:7000/2: the key prefix '2' is a number alone, which "
	                  "other Redis URLs read as a database") != NULL);
	CHECK_INT(rc_parse("redis://127.0.0.1:7000/2:", &t, err, sizeof err), 0);
	CHECK_STR(t.prefix, "2:");
	CHECK_INT(rc_parse("redis://127.0.0.1:7000/", &t, err, sizeof err), 0);
	CHECK_STR(t.prefix, "");
}

int main(void)
{
	char dir[] = "/tmp/lbs-redis-conn-XXXXXX";

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	signal(SIGPIPE, SIG_DFL);
	test_closed_server(dir);
	test_steady_reply(dir);
	test_deadline(dir);
	test_resolved_ahead();
	test_prefix_of_digits();
	{
		char cmd[300];

		snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", dir);
	}
	return check_done("test_redis_conn");
}
