/*
 * redis_conn.h -- the one Redis connection code of the project, for every
 * part that talks to Redis (the agent's sink, the shim's and nginx's live
 * fleet, the plugin's fleet learning).  Static library liblbs-redis.a:
 * libc and hiredis (0.14 on bookworm: no TLS), plus scheduler-algos' text.c
 * for one-line messages.  No LMDB, no dlopen, no threads of its own.
 *
 * What it offers:
 *   rc_parse      "redis://host:port[/prefix]" to an rc_target
 *   rc_open       connect with a timeout, AUTH from a password file, under
 *                 the loopback/auth policy below; commands then have the
 *                 same timeout
 *   rc_command    one command; NULL with a one-line error for an I/O
 *                 failure or an error reply
 *   rc_pipeline_* several commands in one round trip
 *   rc_where      "redis://host:port" for messages
 *
 * Policy.  A Redis that is not on the loopback (127.0.0.0/8, ::1 or the
 * name "localhost") must be reached with a password file, unless the
 * caller allows it explicitly (rc_target.insecure): hiredis 0.14 has no
 * TLS, so a remote Redis is also meant to be reached through a TLS tunnel
 * ending on the loopback (docs/SECURITY.md).  The password is read from a
 * file, never from a command line or a config text: its first line is the
 * password of the default user, or, when the file has two lines, the first
 * is the ACL user and the second its password.  A file that others can
 * read (mode o+r) is refused.
 *
 * Every error is one line naming the address: "redis://10.0.0.5:6379:
 * cannot connect: Connection refused".  Text from the server is shown
 * through txt_show.
 */
#ifndef LBS_REDIS_CONN_H
#define LBS_REDIS_CONN_H

#include <stddef.h>

#include <hiredis/hiredis.h>

#define RC_HOST_MAX 256
#define RC_PREFIX_MAX 256
#define RC_DEFAULT_PORT 6379
#define RC_DEFAULT_TIMEOUT_MS 500

typedef struct rc_target {
	char host[RC_HOST_MAX];     /* a name, an IPv4 address or [IPv6] without brackets */
	int port;
	char prefix[RC_PREFIX_MAX]; /* the URL's path without its '/', may be "" */
	const char *password_file;  /* NULL: no AUTH */
	int insecure;               /* allow a non-loopback Redis without a password */
	int timeout_ms;             /* connect and each command; 0: the default */
} rc_target;

typedef struct rc_conn rc_conn;

/* Parse "redis://host[:port][/prefix]" into t (host, port, prefix; the
 * other fields are left as they are).  "rediss://" is refused: hiredis 0.14
 * has no TLS.  0, or -1 with "<url>: <problem>" in err. */
int rc_parse(const char *url, rc_target *t, char *err, size_t n);

/* 1 when host is the loopback: "localhost", 127.0.0.0/8 or ::1. */
int rc_is_loopback(const char *host);

/* Connect under the policy above, AUTH when a password file is given and
 * the answer is checked.  NULL with a one-line error in err. */
rc_conn *rc_open(const rc_target *t, char *err, size_t n);
void rc_close(rc_conn *c);

/* "redis://host:port", for messages. */
const char *rc_where(const rc_conn *c);
/* The hiredis context, for what this header does not wrap. */
redisContext *rc_context(rc_conn *c);

/* One command (hiredis's format: %s, %b with a length, ...).  The reply,
 * to freeReplyObject(); NULL with "<where>: <problem>" in err when the
 * connection failed (then rc_broken is 1 and the connection is of no more
 * use) or the server answered an error. */
redisReply *rc_command(rc_conn *c, char *err, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* The same with an argument vector (lengths may be NULL for C strings). */
redisReply *rc_command_argv(rc_conn *c, char *err, size_t n, int argc, const char **argv,
                            const size_t *lens);

/* Pipelining: append commands, then take their replies in order.  The
 * append calls fail only out of memory; rc_reply fails as rc_command. */
int rc_append_argv(rc_conn *c, int argc, const char **argv, const size_t *lens);
redisReply *rc_reply(rc_conn *c, char *err, size_t n);

/* 1 once an I/O error made the connection unusable: close it and open a
 * new one. */
int rc_broken(const rc_conn *c);

#endif
