/*
 * redis_conn.h -- the one Redis client layer of the project, for every part
 * that talks to Redis: the plugin's fleet learning (fleet_sync.c) and the
 * hosts (the agent's sink, the shim's and nginx's live fleet).  Static
 * library liblbs-redis.a, built in plugin/meson.build (only plugin/ and
 * host-shim/ include hiredis): libc and hiredis (0.14 on bookworm: no
 * TLS), plus scheduler-algos' text.c for one-line messages.  No LMDB, no
 * cJSON, no dlopen, no threads of its own.
 *
 * What it offers:
 *   rc_parse         "redis://host:port[/prefix]" to an rc_target (hosts)
 *   rc_parse_address "HOST:PORT", "[V6]:PORT" or a unix socket's path (the
 *                    plugin's "fleet" object)
 *   rc_secret_read   the password file, checked and read
 *   rc_check_policy  the loopback/auth policy below, before connecting
 *   rc_resolve       the host's addresses now, for every later connect
 *                    (an event loop's host: nginx)
 *   rc_open          connect with a timeout, AUTH, under the policy;
 *                    each timeout of a command's exchange must then
 *                    move 64 KiB of it, or its end
 *   rc_deadline      one bound over many commands' exchanges
 *   rc_command       one command; NULL with a one-line error for an I/O
 *                    failure or an error reply
 *   rc_append_argv, rc_reply  several commands in one round trip
 *   rc_where         "redis://host:port" (or "unix:///path") for messages
 *
 * Policy.  A Redis that is not on this host (this host: 127.0.0.0/8, ::1,
 * the name "localhost", or a unix socket) must be reached with a password,
 * unless the caller allows it explicitly (rc_target.insecure): hiredis 0.14
 * has no TLS, so a remote Redis is also meant to be reached through a TLS
 * tunnel ending on the loopback (docs/SECURITY.md).
 *
 * The password file.  The password is read from a file, never from a
 * command line or a config text.  Its first line is the password; or, when
 * it has two lines, the first is the ACL user and the second its password.
 * A caller's own user setting (the plugin's "fleet.user") goes with a
 * one-line file; with a two-line file the two must name the same user, or
 * the file is refused (neither silently wins).  A file that is not regular
 * (after symbolic links) or that others may access (any o bit) is refused.
 *
 * Signals.  A write to a server that closed its end (hiredis writes
 * without MSG_NOSIGNAL) raises SIGPIPE in the writing thread; this layer
 * blocks it there around each write and takes back the one the write
 * raised, so the caller's thread and process see neither, only the error.
 * No signal action of the process is changed.
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
/* The addresses rc_resolve keeps, and the longest one's text. */
#define RC_ADDRS 4
#define RC_ADDR_MAX 46
/* The password file's most: one user name and one password, each less. */
#define RC_SECRET_MAX 512

/* A password file's content (rc_secret_read); rc_secret_clear wipes it. */
typedef struct rc_secret {
	char user[RC_SECRET_MAX];   /* "": the default user */
	char pass[RC_SECRET_MAX];
} rc_secret;

typedef struct rc_target {
	char host[RC_HOST_MAX];     /* a name, an IPv4 address, [IPv6] without
	                             * brackets, or a unix socket's absolute path */
	int port;                   /* 0 for a unix socket */
	char prefix[RC_PREFIX_MAX]; /* the URL's path without its '/', may be "" */
	const char *password_file;  /* read at each rc_open; NULL: no AUTH */
	const char *user;           /* the ACL user for a one-line password file */
	const rc_secret *secret;    /* read already: used instead of password_file */
	int insecure;               /* allow a non-loopback Redis without a password */
	int timeout_ms;             /* connect, and each 64 KiB of a command's
	                             * exchange (AUTH's too); 0: the default */
	int deadline_ms;            /* > 0: rc_deadline(c, deadline_ms,
	                             * deadline_what) from the connect on, so
	                             * that AUTH is bounded too */
	const char *deadline_what;
	/* > 0: a reply (with whatever is read ahead of it) of more bytes
	 * fails, so that a server that is not Redis, sending a bulk string of
	 * 100 MB or without end, cannot fill the caller's memory; for a
	 * caller whose replies are small (the agent's); 0: no bound */
	size_t max_reply;
	/* rc_resolve's addresses of host, numeric, which a connect tries in
	 * turn; n_addrs 0: host as given, looked up at each connect. */
	char addrs[RC_ADDRS][RC_ADDR_MAX];
	int n_addrs;
} rc_target;

/* Look t's host name up now, keeping up to RC_ADDRS of its addresses for
 * every later connect, which then never asks the resolver: its timeout_ms
 * bounds the connect, while a resolver that is down held one for seconds
 * (getaddrinfo has no timeout).  For a host that waits in an event loop;
 * the name's later changes are then seen only by calling this again.  A
 * unix socket or an address needs none (n_addrs stays 0), nor does a
 * link-local address with its "%zone", which an address's text loses.
 * IPv4 addresses come first (as hiredis tries a name's), each family's
 * sorted: the same list whatever order a resolver answers in.  0, or -1 with
 * "<where>: cannot resolve '<host>': <why>" in err. */
int rc_resolve(rc_target *t, char *err, size_t n);

typedef struct rc_conn rc_conn;

/* Parse "redis://host[:port][/prefix]" into t (host, port, prefix, and
 * n_addrs 0; the other fields are left as they are).  "rediss://" is refused: hiredis 0.14
 * has no TLS.  0, or -1 with "<url>: <problem>" in err. */
int rc_parse(const char *url, rc_target *t, char *err, size_t n);

/* "HOST:PORT", "[V6]:PORT" (port 1..65535) or "/path/of/redis.sock" into
 * t's host and port.  0, or -1 with "must be ..., got \"<a>\"" in err. */
int rc_parse_address(const char *a, rc_target *t, char *err, size_t n);

/* A key prefix as lbsched writes keys under it: no space or control byte
 * (a URL spells a space %20; taken, it made keys that redis-cli's
 * examples mistype).  0, or -1 with "the key prefix has a space or
 * control byte" in err. */
int rc_check_prefix(const char *prefix, char *err, size_t n);

/* 1 when host is on this host: "localhost", 127.0.0.0/8, ::1 or a unix
 * socket. */
int rc_is_loopback(const char *host);

/* Read the password file at path (the format above; user: the caller's
 * own ACL user setting, or NULL).  0, or -1 with "password file <path>:
 * <problem>" in err, never the secret. */
int rc_secret_read(const char *path, const char *user, rc_secret *s, char *err, size_t n);
void rc_secret_clear(rc_secret *s);

/* The policy above for t, before any connection: 0, or -1 with
 * "<where>: refused: ..." in err. */
int rc_check_policy(const rc_target *t, char *err, size_t n);

/* "redis://host:port", "redis://[v6]:port" or "unix:///path" into buf. */
void rc_target_where(const rc_target *t, char *buf, size_t n);

/* Connect under the policy above, AUTH when a password is given and the
 * answer is checked.  NULL with a one-line error in err. */
rc_conn *rc_open(const rc_target *t, char *err, size_t n);
void rc_close(rc_conn *c);

/* rc_open in two steps, for a caller that must be able to cut the AUTH's
 * wait short (rc_interrupt) as it can a command's: rc_connect connects
 * under the policy; rc_auth reads the password file when no secret is
 * given and sends AUTH when there is a password (0, or -1 with err; the
 * caller then closes c). */
rc_conn *rc_connect(const rc_target *t, char *err, size_t n);
int rc_auth(rc_conn *c, const rc_target *t, char *err, size_t n);

/* From another thread than the one using c: whatever call of c's waits on
 * Redis returns at once, failed as a broken connection, and so does every
 * later one.  The socket is shut down, not closed: its fd stays c's until
 * rc_close, which the caller must keep from running meanwhile. */
void rc_interrupt(rc_conn *c);

/* rc_target_where of the target, for messages. */
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
/* The same, but an error reply is returned as a reply (of type
 * REDIS_REPLY_ERROR), for a caller that acts on it (NOSCRIPT): NULL only
 * when the connection failed. */
redisReply *rc_reply_raw(rc_conn *c, char *err, size_t n);

/* A deadline over every exchange from now on, each window of timeout_ms
 * cut short at it: a caller of many commands (a read of the live fleet)
 * is bounded as a whole, where the progress rule alone let a server that
 * kept each window moving hold it for hours.  ms <= 0 lifts it.  Past it,
 * a command fails as a broken connection with "<where>: timed out: <what>
 * may take <ms> ms in all"; `what` must outlive the deadline (a string
 * literal). */
void rc_deadline(rc_conn *c, int ms, const char *what);
/* The connection's timeout_ms (rc_target's, or the default). */
int rc_timeout_ms(const rc_conn *c);

/* 1 once an I/O error made the connection unusable: close it and open a
 * new one. */
int rc_broken(const rc_conn *c);
/* 1 when that I/O error was the server's end of the connection (closed or
 * reset), as a server's `timeout` does to a connection left idle: a caller
 * that had left it idle may open a new one and send again at once. */
int rc_closed(const rc_conn *c);

#endif
