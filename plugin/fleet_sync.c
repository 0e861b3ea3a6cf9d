/*
 * fleet_sync.c -- the sync thread of a store in a fleet, and its Redis
 * I/O through the project's one Redis client layer (redis/redis_conn.h:
 * connect, AUTH, the loopback policy, one-line errors).  See fleet_sync.h
 * and docs/STORE.md, "fleet".
 *
 * Push: the outbox entries after the last acknowledged sequence, merged
 * pair by pair, go to Redis as one batch covering sequences from..to
 * (fleet_lua_push() applies it only if the host's last applied sequence is
 * from - 1), in one call up to FLEET_PART_PAIRS pairs, else staged in
 * parts and merged a part per call (fleet_lua.h).  Redis without our epoch
 * (restarted empty, or never used): the whole of this host's own evidence
 * goes as one snapshot, the same way.  Pull: the pairs changed since the
 * last version pulled, FLEET_PULL_PAGE a reply, and which of our sequences
 * they include, into the store's "fleet" database (store_fleet_apply).
 */
#include "fleet_sync.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "fleet_config.h"
#include "fleet_lua.h"
#include "store.h"
#include "text.h"
#include "thread.h"

#define BACKOFF_MIN_MS 100u
#define BACKOFF_MAX_MS 5000u
#define LOG_EVERY_NS (UINT64_C(60) * 1000000000u)
/* push(): rounds in a row without a new acknowledgement before it fails */
#define PUSH_IDLE_MAX 4

typedef struct script {
	const char *text;
	char sha[41]; /* "" until SCRIPT LOAD answered */
} script;

struct fleet {
	store *s;
	const lbs_host_api *host;   /* for a fleet without a store (read_totals) */
	fleet_opts o;               /* own copies */
	char keys[6][160];          /* epoch seq totals changed ver stage:HOST */
	char owner[20];             /* this sync's token in a staged batch's id */
	char addr[300];             /* "redis://host:port" for messages */
	char target[FLEET_TARGET_MAX]; /* addr/prefix: the fleet, as the store records it */
	rc_conn *rc;
	/* This step's commands so far, and whether its connection was left
	 * open by the step before (sync_step): the first command's EOF on
	 * it is a server's idle timeout, not a failure. */
	uint32_t step_commands;
	int step_reused, closed_idle;
	/* A merge call of this step failed: a batch of ours may be merged
	 * in part, its sequence not yet set (apply_staged). */
	int merge_cut;
	script push, pull, restart;
	char *push_text;            /* push.text, owned */

	pthread_t thread;
	int thread_started;
	int host_sync;              /* the host's own sync (the thread), not prefs sync */
	uint64_t moved_ns;          /* monotonic ns: check_target's last line */
	pthread_mutex_t mu;         /* stop, err, the times */
	pthread_cond_t wake;
	int stop;
	char err[400];              /* the last error, "" none */
	char foreign_said[128];     /* pulled_say's last: count and field */
	uint64_t err_ns, ok_ns;     /* realtime ns: last error, last success, as shown */
	uint64_t logged_ns;         /* monotonic ns: the last error logged */
	uint64_t pull_ok_ns;        /* monotonic ns: the last pull */
	int failing;

	/* The sync's own (its thread, or prefs sync's caller): the last
	 * sequence Redis acknowledged in ack_epoch, not yet durable. */
	char ack_epoch[40];
	uint64_t acked;

	_Atomic uint64_t commands, pushes, pulls, snapshots, outcomes_pushed, pairs_pulled;
	_Atomic uint64_t restarts; /* totals this sync emptied (restart_totals) */
	_Atomic uint64_t parts, busy;
	_Atomic uint64_t backlog, errors;
};

static uint64_t real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* What the sync waits and schedules by: the wall clock stepped back an
 * hour (NTP correcting a host that booted fast) stopped every pull and
 * push for that hour, and stepped forward, made lag_ms wrap.  The wall
 * clock is kept for the times stats show. */
static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void flog(fleet *f, int32_t level, const char *msg)
{
	const lbs_host_api *h = f->s ? store_host(f->s) : f->host;
	char line[4096];
	size_t k;

	if (!h || !h->log)
		return;
	/* Cut to one line's room on purpose (a Redis reply may echo all it
	 * was sent); a copy, not snprintf, which a release build warns of. */
	k = strnlen(msg, sizeof line - 1);
	memcpy(line, msg, k);
	line[k] = '\0';
	txt_one_line(line);
	h->log(h->host_data, level, line);
}

/* 16 random hex digits into out[17]; -1 when /dev/urandom fails. */
static int random_hex(char *out)
{
	unsigned char rnd[8];
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	ssize_t got = fd >= 0 ? read(fd, rnd, sizeof rnd) : -1;

	if (fd >= 0)
		close(fd);
	if (got != (ssize_t)sizeof rnd)
		return -1;
	for (int i = 0; i < 8; i++)
		snprintf(out + 2 * i, 3, "%02x", rnd[i]);
	return 0;
}

/* ---- Redis ---------------------------------------------------------------- */

/* f->rc changes under f->mu, which fleet_stop takes to interrupt it. */
static void disconnect(fleet *f)
{
	pthread_mutex_lock(&f->mu);
	rc_close(f->rc);
	f->rc = NULL;
	pthread_mutex_unlock(&f->mu);
	f->push.sha[0] = f->pull.sha[0] = f->restart.sha[0] = '\0';
}

/* The reply, error replies too (the caller tells NOSCRIPT from the rest);
 * NULL with err when the connection failed, which is then dropped. */
static redisReply *command(fleet *f, int argc, const char **argv, const size_t *lens, char *err,
                           size_t errlen)
{
	redisReply *r;

	/* A failed command earlier in this step dropped the connection. */
	if (!f->rc) {
		snprintf(err, errlen, "%s: the connection failed earlier", f->addr);
		return NULL;
	}
	/* BUSY (another client's script runs long) and LOADING: Redis did not
	 * run the command; it is sent again after a pause that doubles, for
	 * timeout_ms at most, then the sync's own backoff takes over. */
	for (uint32_t waited = 0, pause = 10;; waited += pause, pause = pause < 500 ? pause * 2 : pause) {
		atomic_fetch_add(&f->commands, 1);
		if (rc_append_argv(f->rc, argc, argv, lens) < 0 && !rc_broken(f->rc)) {
			snprintf(err, errlen, "%s: out of memory", f->addr);
			return NULL;
		}
		r = rc_reply_raw(f->rc, err, errlen);
		if (!r) {
			if (++f->step_commands == 1 && f->step_reused && rc_closed(f->rc))
				f->closed_idle = 1;
			disconnect(f);
			return NULL;
		}
		f->step_commands++;
		if (r->type != REDIS_REPLY_ERROR || waited >= f->o.timeout_ms ||
		    (strncmp(r->str, "BUSY", 4) && strncmp(r->str, "LOADING", 7)))
			return r;
		freeReplyObject(r);
		atomic_fetch_add(&f->busy, 1);
		usleep(pause * 1000u);
	}
}

static int connect_redis(fleet *f, char *err, size_t errlen)
{
	rc_target t = f->o.redis;
	rc_conn *c;

	if (f->rc)
		return 0;
	t.user = f->o.user;
	t.secret = f->o.secret;
	t.timeout_ms = (int)f->o.timeout_ms;
	/* Connected, it is f->rc before the AUTH, whose answer fleet_stop
	 * can then cut short as it does a command's. */
	c = rc_connect(&t, err, errlen);
	pthread_mutex_lock(&f->mu);
	if (c && f->stop) {
		/* fleet_stop found no connection to interrupt */
		rc_close(c);
		c = NULL;
		snprintf(err, errlen, "%s: stopping", f->addr);
	}
	f->rc = c;
	pthread_mutex_unlock(&f->mu);
	if (c && rc_auth(c, &t, err, errlen) < 0) {
		disconnect(f);
		return -1;
	}
	return c ? 0 : -1;
}

/* The first of the sync's first nkeys keys that holds another type than
 * lbsched keeps there (someone else's data under the prefix), said in
 * buf with the address: 1, or 0 when TYPE finds none. */
static int wrong_type(fleet *f, int nkeys, char *buf, size_t n)
{
	/* epoch seq totals changed ver stage:HOST, as f->keys */
	static const char *const kept[6] = {"string", "hash", "hash", "zset", "string", "hash"};
	char ignored[200], show[180];

	for (int i = 0; i < nkeys && f->rc; i++) {
		const char *argv[2] = {"TYPE", f->keys[i]};
		size_t lens[2] = {4, strlen(f->keys[i])};
		redisReply *r = command(f, 2, argv, lens, ignored, sizeof ignored);
		int wrong = r && r->type == REDIS_REPLY_STATUS && strcmp(r->str, "none") &&
		            strcmp(r->str, kept[i]);

		if (wrong)
			snprintf(buf, n, "%s: key '%s' holds a %s, where lbsched keeps a %s; "
			         "another program writes under this prefix", f->addr,
			         txt_show(show, sizeof show, f->keys[i]), r->str, kept[i]);
		if (r)
			freeReplyObject(r);
		if (wrong)
			return 1;
	}
	return 0;
}

/* *out from v, what <prefix>ver holds: the counter the push script's INCR
 * keeps, digits alone.  0, or -1 with err naming the key: read by
 * strtoull, text was version 0. */
static int ver_value(fleet *f, const char *v, size_t len, uint64_t *out, char *err, size_t errlen)
{
	char key[100], raw[96], shown[100];
	size_t d = len && v[0] == '-' ? 1 : 0;
	int integer = len > d && len - d <= 19 && strspn(v + d, "0123456789") == len - d;

	if (integer && !d) {
		errno = 0;
		*out = strtoull(v, NULL, 10);
		if (!errno)
			return 0;
	}
	snprintf(raw, sizeof raw, "%.*s", (int)(len < sizeof raw ? len : sizeof raw - 1), v);
	snprintf(err, errlen, "%s: key '%s' holds '%s', %s: lbsched keeps a version counter there; "
	         "another program writes under this prefix", f->addr,
	         txt_show(key, sizeof key, f->keys[4]), txt_show(shown, sizeof shown, raw),
	         integer ? "a negative or too large number" : "not an integer");
	return -1;
}

/* The push script's INCR refused the version counter (<prefix>ver holds
 * what is not an integer, or the largest one Redis counts to, and Redis's
 * words name only the script's line): said in buf, 1; 0 when it holds
 * none such. */
static int bad_ver(fleet *f, char *buf, size_t n)
{
	const char *argv[2] = {"GET", f->keys[4]};
	size_t lens[2] = {3, strlen(f->keys[4])};
	char ignored[200], key[100];
	uint64_t v;
	redisReply *r = command(f, 2, argv, lens, ignored, sizeof ignored);
	int bad = r && r->type == REDIS_REPLY_STRING && ver_value(f, r->str, r->len, &v, buf, n);

	if (r && r->type == REDIS_REPLY_STRING && !bad && v == INT64_MAX) {
		snprintf(buf, n, "%s: key '%s' holds %llu, the largest count Redis's INCR goes to: "
		         "lbsched keeps a version counter there; another program writes under this "
		         "prefix", f->addr, txt_show(key, sizeof key, f->keys[4]),
		         (unsigned long long)v);
		bad = 1;
	}

	if (r)
		freeReplyObject(r);
	return bad;
}

/* Redis's error reply r to a command on the first nkeys of the sync's keys,
 * said in err.  A script's error names its line, not the key: the key is
 * found.  Else Redis's words whole (an ACL refusal names the command it
 * refused after 60 bytes of preamble), made one line. */
static void error_said(fleet *f, const redisReply *r, int nkeys, char *err, size_t errlen)
{
	char show[400];

	snprintf(show, sizeof show, "%s", r->str);
	txt_one_line(show);
	if (strstr(r->str, "WRONGTYPE") && wrong_type(f, nkeys, err, errlen))
		; /* wrong_type said it */
	else if ((strstr(r->str, "not an integer") || strstr(r->str, "would overflow")) &&
	         nkeys >= 5 && bad_ver(f, err, errlen))
		; /* bad_ver said it */
	/* Redis 7 answers a long command before AUTH with a protocol error,
	 * not NOAUTH (the pull's ten arguments were kept under its bound for
	 * that): either way the cause is the password. */
	else if (strstr(r->str, "Protocol error: unauthenticated"))
		snprintf(err, errlen, "%s: the Redis asks for a password: give "
		         "store.fleet.password_file (it refused a command before AUTH: %s)",
		         f->addr, show);
	else if (!strncmp(r->str, "NOAUTH", 6))
		snprintf(err, errlen, "%s: %s; the Redis asks for a password: give "
		         "store.fleet.password_file", f->addr, show);
	else if (strstr(r->str, "can't run this command"))
		snprintf(err, errlen, "%s: %s; the ACL user needs the commands docs/SECURITY.md "
		         "lists (Redis's ACL LOG names the one refused)", f->addr, show);
	else
		snprintf(err, errlen, "%s: %s", f->addr, show);
}

/* EVALSHA, and EVAL when Redis does not know the script (it restarted, or
 * SCRIPT FLUSH): EVAL caches it again. */
static redisReply *run_script(fleet *f, script *sc, int nkeys, int nargs, const char **args,
                              const size_t *arglens, char *err, size_t errlen)
{
	int argc = 3 + nkeys + nargs;
	const char **argv = malloc((size_t)argc * sizeof *argv);
	size_t *lens = malloc((size_t)argc * sizeof *lens);
	redisReply *r = NULL;

	if (!argv || !lens) {
		snprintf(err, errlen, "%s: out of memory", f->addr);
		goto out;
	}
	argv[2] = nkeys == 6 ? "6" : "5";
	lens[2] = 1;
	for (int i = 0; i < nkeys; i++) {
		argv[3 + i] = f->keys[i];
		lens[3 + i] = strlen(f->keys[i]);
	}
	memcpy(argv + 3 + nkeys, args, (size_t)nargs * sizeof *argv);
	memcpy(lens + 3 + nkeys, arglens, (size_t)nargs * sizeof *lens);
	if (sc->sha[0]) {
		argv[0] = "EVALSHA";
		lens[0] = 7;
		argv[1] = sc->sha;
		lens[1] = 40;
		r = command(f, argc, argv, lens, err, errlen);
		if (!r || r->type != REDIS_REPLY_ERROR || strncmp(r->str, "NOSCRIPT", 8))
			goto out;
		freeReplyObject(r);
		sc->sha[0] = '\0';
	}
	argv[0] = "EVAL";
	lens[0] = 4;
	argv[1] = sc->text;
	lens[1] = strlen(sc->text);
	r = command(f, argc, argv, lens, err, errlen);
	if (r && r->type != REDIS_REPLY_ERROR) {
		/* Learn the digest for the next calls. */
		const char *la[3] = {"SCRIPT", "LOAD", sc->text};
		size_t ll[3] = {6, 4, strlen(sc->text)};
		redisReply *s = command(f, 3, la, ll, err, errlen);

		if (s && s->type == REDIS_REPLY_STRING && s->len == 40)
			memcpy(sc->sha, s->str, 41);
		if (s)
			freeReplyObject(s);
	}
out:
	if (r && r->type == REDIS_REPLY_ERROR) {
		error_said(f, r, nkeys, err, errlen);
		freeReplyObject(r);
		r = NULL;
	}
	free(argv);
	free(lens);
	return r;
}

/* ---- records on the wire ---------------------------------------------------- */

static void put_le(unsigned char *p, double x)
{
	uint64_t u;

	memcpy(&u, &x, 8);
	for (int i = 0; i < 8; i++, u >>= 8)
		p[i] = (unsigned char)u;
}

static double get_le(const unsigned char *p)
{
	uint64_t u = 0;
	double x;

	for (int i = 7; i >= 0; i--)
		u = u << 8 | p[i];
	memcpy(&x, &u, 8);
	return x;
}

static void pack(const hist_sums *c, unsigned char *p)
{
	double v[12] = {(double)c->samples, (double)c->successes, (double)c->failures,
	                c->sum_duration, c->sum_duration_sq, (double)c->ratio_n,
	                c->sum_log_ratio, c->sum_log_ratio_sq, c->pref_time, c->pref_weight,
	                c->pref_sum, c->last_update};

	for (int i = 0; i < 12; i++)
		put_le(p + 8 * i, v[i]);
}

static int unpack(const unsigned char *p, size_t len, hist_sums *c)
{
	double v[12];

	if (len != FLEET_REC_BYTES)
		return -1;
	for (int i = 0; i < 12; i++)
		v[i] = get_le(p + 8 * i);
	/* The counts whole numbers: 3.9 samples were taken as 3. */
	for (int i = 0; i < 12; i++)
		if (!isfinite(v[i]) || (i < 6 && i != 3 && i != 4 &&
		                        (v[i] < 0 || v[i] > 9007199254740992.0 || v[i] != floor(v[i]))))
			return -1;
	*c = (hist_sums){(uint64_t)v[0], (uint64_t)v[1], (uint64_t)v[2], v[3], v[4],
	                 (uint64_t)v[5], v[6], v[7], v[8], v[9], v[10], v[11]};
	return hist_sums_problem(c) ? -1 : 0;
}

/* "TYPE:WORKER" as push_key writes it, and nothing else: the type in
 * decimal without a sign, space or leading zero (atoi read "x:w" as type
 * 0 and "01:w" as type 1, and a foreign field's record replaced the real
 * pair's), an id a store key can hold (store.c's key_problem: no NUL,
 * UTF-8, else an export of the totals was not JSON). */
static int parse_key(const char *k, size_t len, uint32_t *type, char *id, size_t idlen)
{
	const char *colon = memchr(k, ':', len);
	size_t n;

	if (!colon || colon == k || colon - k > 2 || (k[0] == '0' && colon - k > 1))
		return -1;
	*type = 0;
	for (const char *d = k; d < colon; d++) {
		if (*d < '0' || *d > '9')
			return -1;
		*type = *type * 10 + (uint32_t)(*d - '0');
	}
	n = len - (size_t)(colon - k) - 1;
	if (*type >= LBS_WL_COUNT || n == 0 || n >= idlen || memchr(colon + 1, 0, n))
		return -1;
	memcpy(id, colon + 1, n);
	id[n] = '\0';
	return txt_utf8_valid(id) ? 0 : -1;
}

/* The arguments of a push: host, epoch, mode, from, to, half-life, op,
 * part, parts, owner, this host's clock, the newest sequence this store
 * has given a commit (head), then a key and a record per pair, back to back
 * in one buffer: a push of thousands of pairs makes a handful of
 * allocations, not two per pair. */
enum { H_OP = 6, H_PART, H_PARTS, H_OWNER, H_NOW, H_MAX, H_N };
typedef struct batch {
	char head[H_N][48];
	size_t hlen[H_N];
	char *data;
	size_t len, cap;
	size_t *lens;   /* of each pair argument in data */
	int n, ncap;
	uint64_t outcomes;
	int failed;
} batch;

static void batch_arg(batch *b, const char *arg, size_t len)
{
	if (b->failed)
		return;
	if (b->n == b->ncap) {
		int cap = b->ncap ? b->ncap * 2 : 256;
		size_t *l = realloc(b->lens, (size_t)cap * sizeof *l);

		if (!l) {
			b->failed = 1;
			return;
		}
		b->lens = l;
		b->ncap = cap;
	}
	if (b->len + len > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 65536;
		char *d;

		while (cap < b->len + len)
			cap *= 2;
		d = realloc(b->data, cap);
		if (!d) {
			b->failed = 1;
			return;
		}
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, arg, len);
	b->len += len;
	b->lens[b->n++] = len;
}

static void batch_free(batch *b)
{
	free(b->data);
	free(b->lens);
	memset(b, 0, sizeof *b);
}

static int batch_pair(void *ctx, uint32_t type, const char *worker, const hist_sums *c)
{
	batch *b = ctx;
	char key[STORE_MAX_ID + 8];
	unsigned char rec[FLEET_REC_BYTES];
	int n = snprintf(key, sizeof key, "%u:%s", type, worker);

	pack(c, rec);
	batch_arg(b, key, (size_t)n);
	batch_arg(b, (const char *)rec, sizeof rec);
	b->outcomes += c->samples;
	return b->failed;
}

static void head_num(batch *b, int i, uint64_t x)
{
	b->hlen[i] = (size_t)snprintf(b->head[i], sizeof b->head[i], "%llu", (unsigned long long)x);
}

static void batch_head(fleet *f, batch *b, const char *host, const char *epoch,
                       const char *mode, uint64_t from, uint64_t to, double half_life)
{
	const char *text[3] = {host, epoch, mode};

	for (int i = 0; i < 3; i++)
		b->hlen[i] = (size_t)snprintf(b->head[i], sizeof b->head[i], "%s", text[i]);
	head_num(b, 3, from);
	head_num(b, 4, to);
	b->hlen[5] = (size_t)snprintf(b->head[5], sizeof b->head[5], "%.17g", half_life);
	b->hlen[H_OWNER] = (size_t)snprintf(b->head[H_OWNER], sizeof b->head[H_OWNER], "%s",
	                                    f->owner);
	/* The staging key names the host: a host's parts are one hash. */
	snprintf(f->keys[5], sizeof f->keys[5], "%sstage:%s", f->o.prefix, host);
}

/* The push script's replies (fleet_lua.h), by index. */
enum { V_OK, V_DUP, V_SEQ, V_EPOCH, V_PART, V_MORE, V_STAGED, V_STAGING, V_NONE, V_BADSEQ,
       V_LOST, V_FOREIGN };

/* A sequence of <prefix>seq as the scripts write it: digits, at most 2^53
 * (Lua compares them as doubles).  Its value, or -1 for anything else. */
static int64_t seq_value(const char *s, size_t len)
{
	uint64_t v;

	if (!len || len > 16 || strspn(s, "0123456789") != len)
		return -1;
	v = strtoull(s, NULL, 10);
	return v <= UINT64_C(9007199254740992) ? (int64_t)v : -1;
}

/* err for host's field of <prefix>seq holding what lbsched does not write:
 * read as a number, a huge one made a push DUP (the batch dropped) and
 * text made this host look behind, the fleet's totals emptied. */
static void bad_seq(fleet *f, const char *host, const char *val, size_t len, char *err,
                    size_t errlen)
{
	char key[100], field[100], raw[96], shown[100];

	snprintf(raw, sizeof raw, "%.*s", (int)(len < sizeof raw ? len : sizeof raw - 1), val);
	snprintf(err, errlen, "%s: key '%s' field '%s' holds '%s', not a sequence lbsched writes "
	         "(digits, at most 2^53): another program writes under this prefix; nothing was "
	         "pushed or emptied", f->addr, txt_show(key, sizeof key, f->keys[1]),
	         txt_show(field, sizeof field, host), txt_show(shown, sizeof shown, raw));
}

/* A host's sequence in <prefix>seq (val, len: a push's DUP or SEQ, or a
 * pull's) into *v, once it is one lbsched writes and at most the newest
 * sequence this store has given a commit (*bound; read again when v
 * passes it, as another process of this host may have committed and
 * pushed since).  A well-formed one past it (1000000000000, another
 * program's) was taken as acknowledged: every later batch answered DUP and
 * was dropped, and a pull dropped the outbox up to it.  0, or -1 with err. */
static int seq_check(fleet *f, const char *host, const char *val, size_t len, uint64_t *bound,
                     int64_t *v, char *err, size_t errlen)
{
	store_fleet_state st;
	char key[100], field[100], raw[96], shown[100];

	if ((*v = seq_value(val, len)) < 0) {
		bad_seq(f, host, val, len, err, errlen);
		return -1;
	}
	if ((uint64_t)*v <= *bound)
		return 0;
	if (store_fleet_state_get(f->s, &st, err, errlen))
		return -1;
	*bound = st.seq;
	if ((uint64_t)*v <= *bound)
		return 0;
	snprintf(raw, sizeof raw, "%.*s", (int)(len < sizeof raw ? len : sizeof raw - 1), val);
	snprintf(err, errlen, "%s: key '%s' field '%s' holds '%s', past the newest sequence this "
	         "host gave (%llu): not a sequence lbsched wrote; another program writes under this "
	         "prefix; nothing was pushed or emptied", f->addr,
	         txt_show(key, sizeof key, f->keys[1]), txt_show(field, sizeof field, host),
	         txt_show(shown, sizeof shown, raw), (unsigned long long)*bound);
	return -1;
}

/* {WORD, text}: the word's index and the text; -1 for anything else. */
static int verdict(const redisReply *r, char *text, size_t len)
{
	static const char *const words[] = {"OK", "DUP", "SEQ", "EPOCH", "PART", "MORE",
	                                    "STAGED", "STAGING", "NONE", "BADSEQ", "LOST",
	                                    "FOREIGN"};

	if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[0]->type != REDIS_REPLY_STRING || r->element[1]->type != REDIS_REPLY_STRING)
		return -1;
	snprintf(text, len, "%.*s", (int)r->element[1]->len, r->element[1]->str);
	for (int i = 0; i < (int)(sizeof words / sizeof *words); i++)
		if (!strcmp(r->element[0]->str, words[i]))
			return i;
	return -1;
}

/* One call of the push script: b's head with op, part and parts, then
 * ndata arguments.  The verdict, or -2 with err. */
static int push_call(fleet *f, batch *b, char op, int part, int parts, int ndata,
                     const char *const *data, const size_t *dlens, char *text, size_t tlen,
                     char *err, size_t errlen)
{
	const char **argv = malloc((size_t)(H_N + ndata) * sizeof *argv);
	size_t *lens = argv ? malloc((size_t)(H_N + ndata) * sizeof *lens) : NULL;
	store_fleet_state st;
	redisReply *r;
	int v;

	if (!lens) {
		free(argv);
		snprintf(err, errlen, "%s: out of memory building a push", f->addr);
		return -2;
	}
	b->hlen[H_OP] = (size_t)snprintf(b->head[H_OP], sizeof b->head[H_OP], "%c", op);
	head_num(b, H_PART, (uint64_t)part);
	head_num(b, H_PARTS, (uint64_t)parts);
	if (ndata) { /* a merge call has none, and NULL */
		memcpy(argv + H_N, data, (size_t)ndata * sizeof *argv);
		memcpy(lens + H_N, dlens, (size_t)ndata * sizeof *lens);
	}
	for (int round = 0;; round++) {
		uint64_t bound;
		int64_t seq;

		/* The newest sequence this store has given, read for each
		 * call: the script refuses a host's sequence past it. */
		if (store_fleet_state_get(f->s, &st, err, errlen)) {
			v = -2;
			break;
		}
		bound = st.seq;
		head_num(b, H_MAX, bound);
		/* As late as can be: the script takes each record's times onto
		 * Redis's clock by the difference (fleet_lua.c's `merge`).  In
		 * integers: "%f" follows the caller's locale, and "1796590823,12"
		 * (de_DE) was no number to the script, every push an error. */
		{
			uint64_t ns = real_ns();

			b->hlen[H_NOW] = (size_t)snprintf(b->head[H_NOW], sizeof b->head[H_NOW],
			                                  "%llu.%06llu",
			                                  (unsigned long long)(ns / 1000000000u),
			                                  (unsigned long long)(ns % 1000000000u / 1000u));
		}
		for (int i = 0; i < H_N; i++) {
			argv[i] = b->head[i];
			lens[i] = b->hlen[i];
		}
		r = run_script(f, &f->push, 6, H_N + ndata, argv, lens, err, errlen);
		if (!r) {
			v = -2;
			break;
		}
		v = verdict(r, text, tlen);
		if (v == V_BADSEQ) {
			/* Within the store's newest sequence read again: another
			 * process of this host committed and pushed after the
			 * read; the call goes again (at most twice). */
			int rc = seq_check(f, b->head[0], r->element[1]->str, r->element[1]->len,
			                   &bound, &seq, err, errlen);

			if (rc == 0 && round < 2) {
				freeReplyObject(r);
				continue;
			}
			if (rc == 0) {
				char key[100];

				snprintf(err, errlen, "%s: this host's sequence in '%s' keeps passing "
				         "the newest its store gave", f->addr,
				         txt_show(key, sizeof key, f->keys[1]));
			}
		}
		freeReplyObject(r);
		break;
	}
	free(argv);
	free(lens);
	if (v == -1)
		snprintf(err, errlen, "%s: unexpected reply to a push", f->addr);
	/* Another program's key under the prefix, refused before any write:
	 * which one, found as an error reply's is. */
	if (v == V_FOREIGN && !wrong_type(f, 5, err, errlen) && !bad_ver(f, err, errlen))
		snprintf(err, errlen, "%s: a key under this prefix holds what lbsched does "
		         "not write; another program writes under this prefix", f->addr);
	return v < 0 || v == V_BADSEQ || v == V_FOREIGN ? -2 : v;
}

/* Merge what this host has staged whole, a part per call, until the batch
 * is applied (V_OK) or cannot be (V_DUP, V_SEQ, V_EPOCH: dropped), or the
 * upload is not complete (V_STAGING), or nothing is staged (V_NONE). */
static int apply_staged(fleet *f, batch *b, char *text, size_t tlen, char *err, size_t errlen)
{
	for (;;) {
		int v = push_call(f, b, 'a', 0, 0, 0, NULL, NULL, text, tlen, err, errlen);

		atomic_fetch_add(&f->parts, v >= 0);
		f->merge_cut |= v < 0;
		if (v != V_MORE)
			return v;
	}
}

/* Part p of b as the script reads it: per pair a 2-byte little-endian key
 * length, the key, the record. */
static char *part_blob(const batch *b, int p, size_t *len)
{
	size_t off = 0, n = 0;
	int first = 2 * p * FLEET_PART_PAIRS, end = first + 2 * FLEET_PART_PAIRS;
	char *blob, *w;

	if (end > b->n)
		end = b->n;
	for (int i = 0; i < first; i++)
		off += b->lens[i];
	for (int i = first; i < end; i++)
		n += b->lens[i] + (i % 2 ? 0 : 2);
	blob = w = malloc(n ? n : 1);
	if (!blob)
		return NULL;
	for (int i = first; i < end; off += b->lens[i++]) {
		if (i % 2 == 0) {
			*w++ = (char)(b->lens[i] & 0xff);
			*w++ = (char)(b->lens[i] >> 8);
		}
		memcpy(w, b->data + off, b->lens[i]);
		w += b->lens[i];
	}
	*len = n;
	return blob;
}

/* The batch: one call up to FLEET_PART_PAIRS pairs, else its parts staged
 * and merged (fleet_lua.h).  The final verdict (V_OK, V_DUP, V_SEQ,
 * V_EPOCH), V_STAGING when another sync of this host is uploading (try
 * later), or -2 with err.  A connection cut between parts leaves the
 * staging in Redis: the next push of this sync replaces an upload not
 * complete (nothing of it is merged) and finishes one that is. */
static int send_batch(fleet *f, batch *b, char *text, size_t tlen, char *err, size_t errlen)
{
	int pairs = b->n / 2, parts = (pairs + FLEET_PART_PAIRS - 1) / FLEET_PART_PAIRS;

	if (b->failed) {
		snprintf(err, errlen, "%s: out of memory building a push", f->addr);
		return -2;
	}
	if (parts <= 1) {
		const char **data = malloc((size_t)(b->n + 1) * sizeof *data);
		size_t off = 0;
		int v;

		if (!data) {
			snprintf(err, errlen, "%s: out of memory building a push", f->addr);
			return -2;
		}
		for (int i = 0; i < b->n; off += b->lens[i++])
			data[i] = b->data + off;
		/* A batch of this host staged whole and partly merged (a sync
		 * cut off mid-merge, then smaller batches that never take the
		 * parts' path) answers STAGED to a single call too: it is
		 * finished first, as the parts' path does.  Passed on, the
		 * caller read STAGED as an acknowledgement and sent the same
		 * call again, 1,000 times a step, the outbox never draining. */
		for (int round = 0;; round++) {
			v = push_call(f, b, 'w', 0, 1, b->n, data, b->lens, text, tlen, err, errlen);
			if (v != V_STAGED)
				break;
			if (round == 2) {
				snprintf(err, errlen, "%s: this host's staged batches keep changing",
				         f->addr);
				v = -2;
				break;
			}
			v = apply_staged(f, b, text, tlen, err, errlen);
			if (v < 0 || v == V_STAGING)
				break;
		}
		free(data);
		if (v == V_PART || v == V_MORE || v == V_NONE) {
			snprintf(err, errlen, "%s: unexpected reply to a push", f->addr);
			return -2;
		}
		return v;
	}
	/* At most a staged batch of another sync, then ours. */
	for (int round = 0; round < 3; round++) {
		int v = V_PART;

		for (int p = 0; p < parts && v == V_PART; p++) {
			size_t len;
			char *blob = part_blob(b, p, &len);
			const char *data[1] = {blob};

			if (!blob) {
				snprintf(err, errlen, "%s: out of memory building a push", f->addr);
				return -2;
			}
			v = push_call(f, b, 'p', p, parts, 1, data, &len, text, tlen, err, errlen);
			atomic_fetch_add(&f->parts, v >= 0);
			free(blob);
		}
		if (v == V_PART || v == V_STAGED) {
			int ours = v == V_PART;

			v = apply_staged(f, b, text, tlen, err, errlen);
			/* NONE: another sync of this host merged ours; the next
			 * round's first part hears DUP. */
			if ((ours && v != V_NONE) || v < 0 || v == V_STAGING)
				return v;
			continue;
		}
		if (v == V_MORE || v == V_NONE) {
			snprintf(err, errlen, "%s: unexpected reply to a part of a push", f->addr);
			return -2;
		}
		return v;
	}
	snprintf(err, errlen, "%s: this host's staged batches keep changing", f->addr);
	return -2;
}

/* err when s, an epoch Redis holds, is not one lbsched writes (16 hex
 * digits; 1 to 39 bytes without a space or control byte are taken, as the
 * store and a staged batch's id keep it): 0, or -1.  Cut to 39 bytes, a
 * long one never matched the one the push script compares, and an empty
 * one read as none; each snapshot was answered EPOCH until "the epoch keeps
 * changing", every sync, for ever. */
static int epoch_check(fleet *f, const char *s, size_t len, char *err, size_t errlen)
{
	char key[100], raw[96], shown[100];
	const char *why = NULL;

	for (size_t i = 0; i < len && !why; i++)
		if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f)
			why = "has a space or control byte";
	if (!len)
		why = "is empty";
	else if (len >= sizeof f->ack_epoch)
		why = "is too long";
	if (!why)
		return 0;
	snprintf(raw, sizeof raw, "%.*s", (int)(len < sizeof raw ? len : sizeof raw - 1), s);
	snprintf(err, errlen, "%s: key '%s' holds '%s' (%zu bytes), which %s: not an epoch lbsched "
	         "writes (1 to %zu bytes, no space or control byte); another program writes under "
	         "this prefix", f->addr, txt_show(key, sizeof key, f->keys[0]),
	         txt_show(shown, sizeof shown, raw), len, why, sizeof f->ack_epoch - 1);
	return -1;
}

/* A script found key `which` (an index of f->keys, 1-based, as the
 * scripts' KEYS: 6, this host's stage, gone part way through its merge)
 * gone while the fleet's other keys were not, and started
 * the totals again under `epoch` (fleet_lua.c, FLEET_LUA_WHOLE): said,
 * as a restore from an older copy is, because the Redis is set up to lose
 * what the fleet needs. */
static void lost_said(fleet *f, long which, const char *epoch)
{
	char msg[800], key[200];

	if (which < 1 || which > 6)
		return;
	snprintf(msg, sizeof msg, "%s: key '%s' was gone while the fleet's other keys were not "
	         "(evicted under a maxmemory-policy other than noeviction, or deleted): the totals "
	         "are emptied and every host publishes its whole evidence again (epoch %s); give "
	         "the fleet a Redis that does not evict its keys", f->addr,
	         txt_show(key, sizeof key, f->keys[which - 1]), epoch);
	flog(f, LBS_LOG_WARN, msg);
	atomic_fetch_add(&f->restarts, 1);
}

/* A LOST reply's text, "EPOCH INDEX": said (lost_said), and the new epoch
 * left in text, as an EPOCH reply has it. */
static void lost_reply(fleet *f, char *text)
{
	char *sp = strchr(text, ' ');

	if (!sp)
		return;
	*sp = '\0';
	lost_said(f, strtol(sp + 1, NULL, 10), text);
}

static int restart_totals(fleet *f, const char *epoch, const char *last, uint64_t after,
                          char *err, size_t errlen);

/* This host's whole evidence, in the current epoch (or a new one).  0, 1
 * when another sync of this host is uploading (later), -1 with err. */
static int snapshot(fleet *f, const store_fleet_state *st, char *err, size_t errlen)
{
	char epoch[40] = "", text[64];
	const char *argv[2] = {"GET", f->keys[0]};
	size_t lens[2] = {3, strlen(f->keys[0])};

	for (int attempt = 0; attempt < 3; attempt++) {
		batch b = {0};
		uint64_t seq;
		int v;

		if (!epoch[0]) {
			redisReply *r = command(f, 2, argv, lens, err, errlen);

			if (!r)
				return -1;
			if (r->type == REDIS_REPLY_STRING &&
			    epoch_check(f, r->str, r->len, err, errlen)) {
				freeReplyObject(r);
				return -1;
			}
			if (r->type == REDIS_REPLY_STRING)
				memcpy(epoch, r->str, r->len + 1);
			freeReplyObject(r);
		}
		/* A new epoch: ours, unless another host's gets in first. */
		if (!epoch[0] && random_hex(epoch)) {
			snprintf(err, errlen, "fleet: cannot read /dev/urandom");
			return -1;
		}
		batch_head(f, &b, st->host, epoch, "s", 0, 0, store_half_life(f->s));
		if (store_fleet_snapshot(f->s, batch_pair, &b, &seq, err, errlen)) {
			batch_free(&b);
			return -1;
		}
		head_num(&b, 4, seq); /* "to": the sequence the snapshot covers */
		v = send_batch(f, &b, text, sizeof text, err, errlen);
		/* Outcomes committed before the first push travel here. */
		if (v == 0)
			atomic_fetch_add(&f->outcomes_pushed, b.outcomes);
		batch_free(&b);
		if (v == -2)
			return -1;
		if (v == V_STAGING)
			return 1;
		if (v == 0 || v == 2) { /* OK, or this host is in already */
			int64_t last = (int64_t)seq;
			uint64_t bound = seq;

			/* Redis's sequence for this host, checked as the push
			 * checks a DUP's or a SEQ's before taking it as
			 * acknowledged */
			if (v == 2 && seq_check(f, st->host, text, strlen(text), &bound, &last, err,
			                        errlen))
				return -1;
			/* In already, but only up to `last`, before what the totals
			 * of this store's own epoch included: a Redis restored from a
			 * copy older than that epoch (a second crash before its next
			 * save), and the outbox has let go of what came after `last`.
			 * Taken as acknowledged, it was lost for good and every later
			 * push refused.  As push() does for a copy of its own epoch. */
			if (v == 2 && st->included > last) {
				if (restart_totals(f, epoch, text, (uint64_t)st->included, err, errlen))
					return -1;
				epoch[0] = '\0';
				continue;
			}
			atomic_fetch_add(&f->snapshots, v == 0);
			if (v == 0) {
				char msg[440];

				snprintf(msg, sizeof msg, "%s: this host's whole evidence is "
				         "published (epoch %s, up to sequence %llu)", f->addr, epoch,
				         (unsigned long long)seq);
				flog(f, LBS_LOG_INFO, msg);
			}
			return store_fleet_set_acked(f->s, epoch, (uint64_t)last, err, errlen);
		}
		if (v == V_LOST) {
			lost_reply(f, text);
			v = V_EPOCH;
		}
		/* "": none (the script's answer for a Redis without one) */
		if (v == 3 && text[0] && epoch_check(f, text, strlen(text), err, errlen))
			return -1;
		if (v == 3)
			snprintf(epoch, sizeof epoch, "%.39s", text); /* epoch_check: < 40 */
	}
	snprintf(err, errlen, "%s: the epoch keeps changing", f->addr);
	return -1;
}

/*
 * Redis holds this host's evidence only up to `last`, before what it
 * acknowledged (`after`): it was restored from an older copy, as Debian's
 * redis-server does after any crash from the snapshot it saves every few
 * minutes.  Every host's outbox has let go of what came after its own
 * snapshot sequence, so the totals can only be made whole by every host
 * publishing its whole evidence again: the totals are emptied, as for a
 * Redis that restarted empty, if the epoch is still the one this host
 * knows (another host that found the same may have done it already), and
 * the push's next round, finding no epoch, publishes this host's.
 * Stopping with an error until someone ran FLUSHALL left every host's
 * pushes stopped after each such crash.  0, or -1 with err.
 */
static int restart_totals(fleet *f, const char *epoch, const char *last, uint64_t after,
                          char *err, size_t errlen)
{
	char fresh[40], msg[700];
	const char *args[2] = {epoch, fresh};
	size_t lens[2];
	redisReply *r;

	if (random_hex(fresh)) {
		snprintf(err, errlen, "fleet: cannot read /dev/urandom");
		return -1;
	}
	lens[0] = strlen(epoch);
	lens[1] = strlen(fresh);
	r = run_script(f, &f->restart, 5, 2, args, lens, err, errlen);
	if (!r)
		return -1;
	if (r->type != REDIS_REPLY_INTEGER) {
		freeReplyObject(r);
		snprintf(err, errlen, "%s: unexpected reply to emptying the totals", f->addr);
		return -1;
	}
	if (r->integer == 1) {
		snprintf(msg, sizeof msg, "%s: Redis holds this host's evidence only up to "
		         "sequence %s, before what it acknowledged (%llu): it was restored from an "
		         "older copy (or this store synced with another Redis or prefix since); its "
		         "totals are emptied and every host publishes its whole evidence again "
		         "(epoch %s)", f->addr, last, (unsigned long long)after, fresh);
		flog(f, LBS_LOG_WARN, msg);
		atomic_fetch_add(&f->restarts, 1);
	}
	freeReplyObject(r);
	return 0;
}

/* Everything in the outbox after the acknowledged sequence.  A push's
 * acknowledgement is kept in memory (f->acked); the next pull's transaction
 * makes it durable (store_fleet_apply), so pushing writes nothing to LMDB
 * and the flusher's commits do not queue behind it.  A process that
 * restarts without it sends again from the durable one, and Redis answers
 * DUP (or SEQ with its last sequence) for what it has. */
static int push(fleet *f, char *err, size_t errlen)
{
	store_fleet_state st;
	double hl = store_half_life(f->s);

	/* `idle`: rounds in a row that acknowledged nothing new (a snapshot,
	 * the totals emptied, a reply that moved nothing).  Two in a row
	 * are what a Redis that lost our epoch costs; more, Redis loses it
	 * again each time (keys evicted or deleted as they are written) or
	 * answers what the scripts cannot.  That ran the 1,000 rounds, about
	 * 3,000 calls, and returned success, every push_ms. */
	for (int rounds = 0, idle = 0; rounds < 1000; rounds++) {
		batch b = {0};
		uint64_t from, to, after, last, bound;
		int64_t seq;
		char text[64];
		int v;

		if (idle > PUSH_IDLE_MAX) {
			snprintf(err, errlen, "%s: %d push rounds in a row acknowledged nothing new "
			         "(Redis lost this host's evidence again each time, or its replies "
			         "contradict each other): are keys under the prefix evicted "
			         "(maxmemory-policy) or deleted?", f->addr, idle);
			return -1;
		}
		idle++;
		if (store_fleet_state_get(f->s, &st, err, errlen))
			return -1;
		atomic_store(&f->backlog, st.outbox);
		if (!st.epoch[0]) {
			int rc = snapshot(f, &st, err, errlen);

			if (rc)
				return rc < 0 ? -1 : 0;
			continue;
		}
		after = st.acked;
		if (!strcmp(f->ack_epoch, st.epoch) && f->acked > after)
			after = f->acked;
		if (store_fleet_pending(f->s, after, f->o.batch_entries, batch_pair, &b, &from, &to,
		                        err, errlen)) {
			batch_free(&b);
			return -1;
		}
		if (!to) {
			batch_free(&b);
			return 0;
		}
		batch_head(f, &b, st.host, st.epoch, "d", from, to, hl);
		v = send_batch(f, &b, text, sizeof text, err, errlen);
		/* DUP: Redis has the batch already (a reply lost to a timeout,
		 * or another process of this host sent it): acknowledged too. */
		if (v == 0 || v == 1) {
			atomic_fetch_add(&f->pushes, v == 0);
			atomic_fetch_add(&f->outcomes_pushed, b.outcomes);
		}
		batch_free(&b);
		if (v == -2)
			return -1;
		if (v == V_STAGING) /* another sync of this host pushes */
			return 0;
		if (v == V_LOST)
			lost_reply(f, text);
		if (v == 3 || v == V_LOST) { /* Redis lost our epoch: publish everything */
			int rc = snapshot(f, &st, err, errlen);

			if (rc == 0)
				continue;
			return rc < 0 ? -1 : 0;
		}
		/* Checked before it is taken as acknowledged: one past the
		 * newest sequence this store gave (another program's) made
		 * f->acked skip every outcome after this batch, each lost. */
		bound = st.seq;
		if (v != 0 && seq_check(f, st.host, text, strlen(text), &bound, &seq, err, errlen))
			return -1;
		last = v == 0 ? to : (uint64_t)seq;
		if (v == 2 && from != last + 1 && last < after) {
			if (restart_totals(f, st.epoch, text, after, err, errlen))
				return -1;
			continue;
		}
		/* Redis wants what follows its last, and the outbox no longer
		 * has it: it went to another Redis or prefix (the config
		 * changed and changed back) and a pull there dropped it.
		 * Sending on would be answered the same, round after round. */
		if (v == 2 && from > last + 1) {
			snprintf(err, errlen, "%s: Redis holds this host's evidence up to sequence "
			         "%s, and the outcomes after it are no longer here to push (this "
			         "store synced with another Redis or prefix since): delete this "
			         "prefix's keys, and every host re-publishes its whole store",
			         f->addr, text);
			return -1;
		}
		snprintf(f->ack_epoch, sizeof f->ack_epoch, "%s", st.epoch);
		f->acked = v == 0 ? to : last > after ? last : after;
		if (f->acked > after)
			idle = 0;
	}
	/* Rounds that moved on (idle ones fail above): a backlog of more
	 * than 1,000 batches goes on at the next push, the pull run between. */
	return 0;
}

/* The pairs of a pull's pages, their worker ids in one buffer. */
typedef struct pulled {
	store_item *items;
	size_t *offs;     /* of each item's id in ids */
	char *ids;
	size_t n, cap, idlen, idcap;
	size_t foreign;   /* fields that are not records of ours, skipped */
	char first[96];   /* the first one's field, as shown */
} pulled;

/* Fields of the totals that are not records of ours were skipped: said
 * once per kind (count and first field), not on every pull.  A push of
 * this host's evidence for such a pair replaces it (fleet_lua.c, ours). */
static void pulled_say(fleet *f, const pulled *p)
{
	char msg[800], said[128];

	snprintf(said, sizeof said, "%zu %s", p->foreign, p->first);
	if (!p->foreign || !strcmp(said, f->foreign_said))
		return;
	snprintf(f->foreign_said, sizeof f->foreign_said, "%s", said);
	snprintf(msg, sizeof msg, "%s: %zu field(s) of '%s' are not lbsched's records (the first: "
	         "'%s'): skipped; this host's evidence for such a pair replaces it",
	         f->addr, p->foreign, f->keys[2], p->first);
	flog(f, LBS_LOG_WARN, msg);
}

static void pulled_free(pulled *p)
{
	free(p->items);
	free(p->offs);
	free(p->ids);
	memset(p, 0, sizeof *p);
}

/* A pull page's head: epoch, version, this host's sequence, the next
 * page's version, Redis's clock (TIME's seconds and microseconds), and
 * the index of a key of the fleet found gone ("0" none; fleet_lua.c,
 * FLEET_LUA_WHOLE). */
#define PULL_HEAD 7

/* Redis's clock as the page's head gives it, in s; -1 when it is not
 * two runs of digits. */
static double page_clock(const redisReply *r)
{
	const redisReply *sec = r->element[4], *us = r->element[5];

	for (int i = 0; i < 2; i++) {
		const redisReply *x = i ? us : sec;

		if (x->type != REDIS_REPLY_STRING || !x->len || x->len > 12 ||
		    strspn(x->str, "0123456789") != x->len)
			return -1.0;
	}
	return strtod(sec->str, NULL) + strtod(us->str, NULL) / 1e6;
}

/* t, a time of Redis's clock, on this host's: moved by off, and kept
 * within what a record may hold (0 stays 0: no time). */
static double clock_here(double t, double off)
{
	t = t > 0.0 ? t + off : t;
	return t < 0.0 ? 0.0 : t > HIST_TIME_MAX ? HIST_TIME_MAX : t;
}

/* The pairs of a pull page's reply after its head, skipping what is not a
 * record of ours (never misread), their times taken onto this host's clock
 * from Redis's (the totals keep Redis's: fleet_lua.c's `merge`): a host
 * whose clock ran minutes apart weighed the fleet's evidence against its
 * own by the gap.  -1 when out of memory. */
static int pulled_add(pulled *p, const redisReply *r)
{
	size_t first = PULL_HEAD;
	/* In whole seconds, as the push's (fleet_lua.c's `merge`). */
	double off = round((double)real_ns() / 1e9 - page_clock(r));

	for (size_t i = first; i + 1 < r->elements; i += 2) {
		const redisReply *k = r->element[i], *v = r->element[i + 1];
		char id[STORE_MAX_ID + 1];
		size_t len;

		if (p->n == p->cap) {
			size_t cap = p->cap ? p->cap * 2 : 1024;
			store_item *it = realloc(p->items, cap * sizeof *it);
			size_t *o = it ? realloc(p->offs, cap * sizeof *o) : NULL;

			if (it)
				p->items = it;
			if (!o)
				return -1;
			p->offs = o;
			p->cap = cap;
		}
		if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING ||
		    parse_key(k->str, k->len, &p->items[p->n].type, id, sizeof id) ||
		    unpack((const unsigned char *)v->str, v->len, &p->items[p->n].c)) {
			if (!p->foreign++) {
				char raw[96];

				snprintf(raw, sizeof raw, "%.*s", k->type == REDIS_REPLY_STRING
				         ? (int)(k->len < sizeof raw ? k->len : sizeof raw - 1) : 0,
				         k->type == REDIS_REPLY_STRING ? k->str : "");
				txt_show(p->first, sizeof p->first, raw);
			}
			continue;
		}
		p->items[p->n].c.pref_time = clock_here(p->items[p->n].c.pref_time, off);
		p->items[p->n].c.last_update = clock_here(p->items[p->n].c.last_update, off);
		len = strlen(id) + 1;
		if (p->idlen + len > p->idcap) {
			size_t cap = p->idcap ? p->idcap * 2 : 65536;
			char *d;

			while (cap < p->idlen + len)
				cap *= 2;
			if (!(d = realloc(p->ids, cap)))
				return -1;
			p->ids = d;
			p->idcap = cap;
		}
		memcpy(p->ids + p->idlen, id, len);
		p->offs[p->n++] = p->idlen;
		p->idlen += len;
	}
	for (size_t i = 0; i < p->n; i++)
		p->items[i].worker = p->ids + p->offs[i];
	return 0;
}

/* next is a version (digits alone) past since (one, as we wrote it). */
static int version_past(const char *next, const char *since)
{
	size_t n = strspn(next, "0123456789");

	return n && n <= 19 && !next[n] && strtoull(next, NULL, 10) > strtoull(since, NULL, 10);
}

/* One page of the pull script: {epoch, ver, mine, next, Redis's clock in
 * s and us, pairs...}. */
static redisReply *pull_page(fleet *f, const char *host, const char *since, char *err,
                             size_t errlen)
{
	const char *args[2] = {host, since};
	size_t lens[2] = {strlen(host), strlen(since)};
	redisReply *r = run_script(f, &f->pull, 5, 2, args, lens, err, errlen);

	if (r && (r->type != REDIS_REPLY_ARRAY || r->elements < PULL_HEAD ||
	          (r->elements - PULL_HEAD) % 2 || r->element[3]->type != REDIS_REPLY_STRING ||
	          r->element[6]->type != REDIS_REPLY_STRING || page_clock(r) <= 0.0)) {
		freeReplyObject(r);
		snprintf(err, errlen, "%s: unexpected reply to a pull", f->addr);
		return NULL;
	}
	/* The next page starts past this one: a reply whose next version is
	 * not past `since` would be asked for again and again. */
	if (r && r->element[3]->len && !version_past(r->element[3]->str, since)) {
		char shown[48];

		snprintf(err, errlen, "%s: a pull from version %s gave next version '%s', not past "
		         "it: the totals hold something that is not ours", f->addr, since,
		         txt_show(shown, sizeof shown, r->element[3]->str));
		freeReplyObject(r);
		return NULL;
	}
	/* A host's pull started the totals again; a read of them alone
	 * (prefs dump --redis) changes nothing, and has no totals to show:
	 * 0 records would pass for a fleet that learned nothing. */
	if (r && strcmp(r->element[6]->str, "0")) {
		long which = strtol(r->element[6]->str, NULL, 10);
		char key[200];

		if (host[0]) {
			lost_said(f, which, r->element[0]->type == REDIS_REPLY_STRING
			          ? r->element[0]->str : "");
			return r;
		}
		snprintf(err, errlen, "%s: key '%s' is gone while the fleet's other keys are not "
		         "(evicted under a maxmemory-policy other than noeviction, or deleted): the "
		         "totals are not whole; the next sync of a host empties them and every host "
		         "publishes its whole evidence again", f->addr, which >= 1 && which <= 5
		         ? txt_show(key, sizeof key, f->keys[which - 1]) : "?");
		freeReplyObject(r);
		return NULL;
	}
	return r;
}

/* A page's sequence of this host in the totals into *mine (-1: none); -1
 * with err when it is not one lbsched writes (bad_seq) or passes the newest
 * sequence this store gave (*bound, seq_check): the pull dropped the outbox
 * up to it, outcomes never pushed. */
static int page_mine(fleet *f, const char *host, const redisReply *r, uint64_t *bound,
                     int64_t *mine, char *err, size_t errlen)
{
	const redisReply *m = r->element[2];

	if (m->type != REDIS_REPLY_STRING) {
		snprintf(err, errlen, "%s: unexpected reply to a pull", f->addr);
		return -1;
	}
	if (m->len == 2 && !memcmp(m->str, "-1", 2)) /* the script's "none" */
		*mine = -1;
	else if (seq_check(f, host, m->str, m->len, bound, mine, err, errlen))
		return -1;
	return 0;
}

/* The pairs changed since the version last pulled, FLEET_PULL_PAGE a
 * reply, applied in one transaction with the epoch and version of the
 * first page and our sequence of the last: later pages only hold newer
 * values, and what changed after that version comes again with the next
 * pull. */
static int pull(fleet *f, char *err, size_t errlen)
{
	store_fleet_state st;
	int republished = 0;
	uint64_t bound;

	if (store_fleet_state_get(f->s, &st, err, errlen))
		return -1;
	bound = st.seq;
	for (int full = 0; full < 2; full++) {
		char since[32], epoch[40];
		redisReply *r;
		pulled p = {0};
		uint64_t ver;
		int64_t mine;
		int rc, whole, behind;

		snprintf(since, sizeof since, "%llu", full || !st.pull_epoch[0]
		         ? 0ULL : (unsigned long long)st.ver);
		whole = !strcmp(since, "0");
		r = pull_page(f, st.host, since, err, errlen);
		if (!r)
			return -1;
		snprintf(epoch, sizeof epoch, "%.*s", (int)r->element[0]->len, r->element[0]->str);
		if (r->element[1]->type != REDIS_REPLY_STRING ||
		    ver_value(f, r->element[1]->str, r->element[1]->len, &ver, err, errlen)) {
			if (r->element[1]->type != REDIS_REPLY_STRING)
				snprintf(err, errlen, "%s: unexpected reply to a pull", f->addr);
			freeReplyObject(r);
			return -1;
		}
		if (page_mine(f, st.host, r, &bound, &mine, err, errlen)) {
			freeReplyObject(r);
			return -1;
		}
		/* Redis without this host's evidence (restarted empty, flushed,
		 * or never told): publish it all, then read the totals whole.
		 * An idle host notices here, having nothing to push; and here
		 * too a Redis restored from an older copy, its sequence for
		 * this host behind the one this store made durable: its
		 * totals are emptied first (restart_totals). */
		behind = epoch[0] && !strcmp(epoch, st.epoch) && mine >= 0 &&
		         (uint64_t)mine < st.acked;
		if ((!epoch[0] || strcmp(epoch, st.epoch) || mine < 0 || behind) && !republished) {
			char last[24];

			snprintf(last, sizeof last, "%lld", (long long)mine);
			freeReplyObject(r);
			republished = 1;
			if (behind && restart_totals(f, epoch, last, st.acked, err, errlen))
				return -1;
			rc = snapshot(f, &st, err, errlen);
			if (rc)
				return rc < 0 ? -1 : 0;
			if (store_fleet_state_get(f->s, &st, err, errlen))
				return -1;
			full = -1; /* the loop's step makes it 0: pull again */
			continue;
		}
		/* Published, and no epoch again at once: Redis was emptied
		 * between the two (a FLUSHALL, a restart), a normal event: the
		 * next sync publishes again.  Keys lost as they are written
		 * fail the push instead (five rounds that acknowledge nothing). */
		if (!epoch[0]) {
			freeReplyObject(r);
			return 0;
		}
		/* Another epoch, or a version behind ours: Redis started over;
		 * the totals are read whole. */
		if (!full && !whole && (strcmp(epoch, st.pull_epoch) || ver < st.ver)) {
			freeReplyObject(r);
			continue;
		}
		for (;;) {
			char next[32];
			int64_t later;

			snprintf(next, sizeof next, "%.*s", (int)r->element[3]->len, r->element[3]->str);
			rc = pulled_add(&p, r);
			freeReplyObject(r);
			if (rc) {
				pulled_free(&p);
				snprintf(err, errlen, "%s: out of memory pulling", f->addr);
				return -1;
			}
			if (!next[0])
				break;
			if (!(r = pull_page(f, st.host, next, err, errlen))) {
				pulled_free(&p);
				return -1;
			}
			/* Emptied and begun again between pages: the next pull
			 * reads it whole. */
			if ((int)r->element[0]->len != (int)strlen(epoch) ||
			    memcmp(r->element[0]->str, epoch, r->element[0]->len)) {
				freeReplyObject(r);
				pulled_free(&p);
				return 0;
			}
			/* Our sequence as of the last page: a batch of this host
			 * that another process committed between pages is in
			 * these pages (its pairs took versions past every page
			 * read before), so the outbox entries it holds are
			 * counted once, not again on top of the totals.  The
			 * version stays the first page's: the next pull reads
			 * from there again, which repeats but never skips. */
			if (page_mine(f, st.host, r, &bound, &later, err, errlen)) {
				freeReplyObject(r);
				pulled_free(&p);
				return -1;
			}
			if (later > mine)
				mine = later;
		}
		rc = store_fleet_apply(f->s, whole, epoch, ver, mine, p.items, p.n, err, errlen);
		atomic_fetch_add(&f->pairs_pulled, p.n);
		pulled_say(f, &p);
		pulled_free(&p);
		if (rc)
			return -1;
		atomic_fetch_add(&f->pulls, 1);
		/* The pull dropped the entries the totals now include:
		 * stats shows what waits after it, not before (or, if
		 * that cannot be read, the last count: the pull stands). */
		if (store_fleet_state_get(f->s, &st, err, errlen) == 0)
			atomic_store(&f->backlog, st.outbox);
		return 0;
	}
	return 0;
}

/* ---- the thread -------------------------------------------------------------- */

/* `quiet`: the caller reports the error itself (prefs sync). */
static void note_result(fleet *f, int failed, const char *err, int quiet)
{
	uint64_t now = real_ns(), mono = mono_ns();
	int log_it = 0, recovered = 0;
	char msg[520];

	pthread_mutex_lock(&f->mu);
	if (failed) {
		snprintf(f->err, sizeof f->err, "%s", err);
		f->err_ns = now;
		if (!f->failing || mono - f->logged_ns >= LOG_EVERY_NS) {
			log_it = 1;
			f->logged_ns = mono;
		}
		f->failing = 1;
	} else {
		f->ok_ns = now;
		recovered = f->failing;
		f->failing = 0;
	}
	pthread_mutex_unlock(&f->mu);
	if (failed)
		atomic_fetch_add(&f->errors, 1);
	if (log_it && !quiet) {
		snprintf(msg, sizeof msg, "%s; learning goes on here and the sync retries (logged at "
		         "most once a minute)", err);
		flog(f, LBS_LOG_ERROR, msg);
	}
	if (recovered) {
		snprintf(msg, sizeof msg, "%s: sync succeeds again", f->addr);
		flog(f, LBS_LOG_WARN, msg);
	}
}

/*
 * The fleet the store syncs with, recorded by its first sync.  A pull drops
 * from the outbox what the totals it read include, so a store that synced
 * with another fleet once, and then with its own again, had outcomes its
 * own never got, and its sync stopped for good.  A host's sync (the thread)
 * moves the store to the fleet its config names, and says so; a `prefs
 * sync` naming another fleet (a config with the wrong prefix) is refused.
 * Another address whose Redis holds the epoch the store last synced in is
 * the same fleet (a proxy, a second name), and is recorded instead.
 */
static int check_target(fleet *f, char *err, size_t errlen)
{
	store_fleet_state st;
	char msg[3 * FLEET_TARGET_MAX + 4096];
	const char *argv[2] = {"GET", f->keys[0]};
	size_t lens[2] = {3, strlen(f->keys[0])};
	int same = 0, other = 0;
	uint64_t now;

	if (store_fleet_state_get(f->s, &st, err, errlen))
		return -1;
	if (!strcmp(st.target, f->target))
		return 0;
	/* Asked even of a store without an epoch: nothing is recorded before
	 * the address answered as a Redis does.  A first sync whose address
	 * answered but was no Redis (a mistyped port of a web server)
	 * recorded it as the store's fleet, and refused the right one after. */
	redisReply *r = command(f, 2, argv, lens, err, errlen);
	char show[200];

	if (!r)
		return -1;
	if (r->type == REDIS_REPLY_ERROR) {
		error_said(f, r, 1, err, errlen);
		freeReplyObject(r);
		return -1;
	}
	if (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_NIL) {
		if (r->type == REDIS_REPLY_STATUS)
			snprintf(show, sizeof show, "the status '%.150s'", r->str);
		else if (r->type == REDIS_REPLY_INTEGER)
			snprintf(show, sizeof show, "the integer %lld", r->integer);
		else
			snprintf(show, sizeof show, "a reply of type %d", r->type);
		txt_one_line(show);
		snprintf(err, errlen, "%s: GET %s answered %s, not a string or nil: the store "
		         "records no fleet before its Redis answers", f->addr, f->keys[0], show);
		freeReplyObject(r);
		return -1;
	}
	same = st.epoch[0] && r->type == REDIS_REPLY_STRING && r->len == strlen(st.epoch) &&
	       !memcmp(r->str, st.epoch, r->len);
	other = st.epoch[0] && r->type == REDIS_REPLY_STRING && !same;
	freeReplyObject(r);
	if (same || (!st.target[0] && !other) || f->host_sync) {
		/* A store from before the record takes its first sync's fleet,
		 * unless that Redis holds another epoch than its own. */
		now = mono_ns();
		/* moved_ns 0: never (monotonic time starts at boot, which
		 * an nginx started with the machine is within a minute of) */
		if (st.target[0] && !same && (!f->moved_ns || now - f->moved_ns >= LOG_EVERY_NS)) {
			f->moved_ns = now; /* a reload's old and new processes move it to and fro */
			snprintf(msg, sizeof msg, "store '%s' moves from the fleet %s to %s, as its "
			         "config says: it publishes its evidence there, and %s gets none of it "
			         "from now on (logged at most once a minute)", store_path(f->s),
			         st.target, f->target, st.target);
			flog(f, LBS_LOG_WARN, msg);
		}
		return store_fleet_set_target(f->s, f->target, err, errlen);
	}
	snprintf(err, errlen, "%s: this store syncs with %s, and a sync with another fleet takes "
	         "the outcomes it has not sent there yet from it for good: check this config's "
	         "redis and prefix (a host started with this config moves the store to this "
	         "fleet)", f->target, st.target[0] ? st.target : "another fleet (this Redis "
	         "holds another epoch than the store's)");
	return -1;
}

static int sync_step_once(fleet *f, int do_push, int do_pull, char *err, size_t errlen)
{
	char pull_err[512];
	int pushed;

	if (connect_redis(f, err, errlen))
		return -1;
	if (f->s && check_target(f, err, errlen))
		return -1;
	/* A push Redis refused (its connection still up) leaves the pull
	 * worth doing: the view keeps following the fleet until the push's
	 * cause is mended, rather than freezing with it.  The step still
	 * fails with the push's error. */
	pushed = do_push ? push(f, err, errlen) : 0;
	/* Not after a merge cut short (Redis out of memory between the
	 * parts): the totals would hold the merged parts while the sequence
	 * says the batch is not in, and the view, totals and outbox, would
	 * count them twice. */
	if (pushed && (!f->rc || f->merge_cut))
		return -1;
	if (do_pull && pull(f, pushed ? pull_err : err, pushed ? sizeof pull_err : errlen))
		return -1;
	if (do_pull) {
		pthread_mutex_lock(&f->mu);
		f->pull_ok_ns = mono_ns();
		pthread_mutex_unlock(&f->mu);
	}
	return pushed ? -1 : 0;
}

/* One step; again at once, without a word, when its first command found
 * the connection the last step left open closed by the server (a Redis
 * whose `timeout` is shorter than push_ms or pull_ms, or a proxy that
 * drops idle connections): logged as a failure, it was an error line,
 * a backoff and a "sync succeeds again" every cycle.  A step sent again
 * is safe: a push Redis had applied answers DUP. */
static int stopping(fleet *f);

static int sync_step(fleet *f, int do_push, int do_pull, char *err, size_t errlen)
{
	int rc;

	f->step_reused = f->rc != NULL;
	f->step_commands = 0;
	f->closed_idle = f->merge_cut = 0;
	rc = sync_step_once(f, do_push, do_pull, err, errlen);
	/* Not when fleet_stop cut the connection (its EOF looks the same):
	 * a new connect would hold the host's close for up to timeout_ms. */
	if (rc && f->closed_idle && !stopping(f)) {
		f->step_reused = 0;
		f->closed_idle = f->merge_cut = 0;
		rc = sync_step_once(f, do_push, do_pull, err, errlen);
	}
	return rc;
}

static void wait_ms(fleet *f, uint32_t ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts); /* f->wake waits on it */
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&f->mu);
	if (!f->stop)
		pthread_cond_timedwait(&f->wake, &f->mu, &ts);
	pthread_mutex_unlock(&f->mu);
}

static int stopping(fleet *f)
{
	int s;

	pthread_mutex_lock(&f->mu);
	s = f->stop;
	pthread_mutex_unlock(&f->mu);
	return s;
}

static void *sync_thread(void *arg)
{
	fleet *f = arg;
	uint32_t backoff = 0;
	/* Each on its own deadline: woken every min(push_ms, pull_ms) and
	 * pushing at each wake, the thread pushed as often as it pulled
	 * (push_ms 60000, pull_ms 500: every 500 ms), and pulled only on
	 * the push's grid (the defaults: every 600 ms, not 500). */
	uint64_t next_pull = 0, next_push = 0;

	/* Stopped before it first ran, a sync does not try: a trial instance
	 * (`nginx -t`) or a short run must not wait out a connect to an
	 * unreachable Redis at close; the outbox waits for the next start. */
	while (!stopping(f)) {
		char err[400];
		uint64_t now = mono_ns(), next;
		int do_pull = now >= next_pull, do_push = now >= next_push;

		if (!do_pull && !do_push) { /* woken early */
			next = next_pull < next_push ? next_pull : next_push;
			wait_ms(f, (uint32_t)((next - now) / 1000000u) + 1);
			continue;
		}
		if (sync_step(f, do_push, do_pull, err, sizeof err)) {
			/* fleet_stop cut a reply short: no fault of Redis's */
			if (stopping(f))
				break;
			note_result(f, 1, err, 0);
			backoff = backoff ? backoff * 2 : BACKOFF_MIN_MS;
			if (backoff > BACKOFF_MAX_MS)
				backoff = BACKOFF_MAX_MS;
			wait_ms(f, backoff);
			continue;
		}
		backoff = 0;
		note_result(f, 0, NULL, 0);
		if (do_pull)
			next_pull = now + (uint64_t)f->o.pull_ms * 1000000u;
		if (do_push)
			next_push = now + (uint64_t)f->o.push_ms * 1000000u;
		next = next_pull < next_push ? next_pull : next_push;
		now = mono_ns();
		/* at least 1 ms, so that a step longer than both periods
		 * still yields to fleet_stop's signal */
		wait_ms(f, next > now + 1000000u ? (uint32_t)((next - now) / 1000000u) : 1);
	}
	return NULL;
}

/* ---- the interface ------------------------------------------------------------ */

static int copy_opts(fleet_opts *d, const fleet_opts *o)
{
	*d = *o;
	d->user = o->user ? strdup(o->user) : NULL;
	d->secret = o->secret ? malloc(sizeof *d->secret) : NULL;
	if (d->secret)
		*d->secret = *o->secret;
	d->password_file = o->password_file ? strdup(o->password_file) : NULL;
	d->prefix = strdup(o->prefix);
	return !d->prefix || (o->user && !d->user) || (o->secret && !d->secret) ||
	       (o->password_file && !d->password_file);
}

static fleet *fleet_new(const fleet_opts *o)
{
	static const char *const names[5] = {"epoch", "seq", "totals", "changed", "ver"};
	fleet *f = calloc(1, sizeof *f);

	if (!f)
		return NULL;
	if (copy_opts(&f->o, o)) {
		fleet_opts_free(&f->o);
		free(f);
		return NULL;
	}
	for (int i = 0; i < 5; i++)
		snprintf(f->keys[i], sizeof f->keys[i], "%s%s", o->prefix, names[i]);
	rc_target_where(&o->redis, f->addr, sizeof f->addr);
	snprintf(f->target, sizeof f->target, "%s/%s", f->addr, o->prefix);
	/* Without randomness, a staged upload of this sync is only replaced
	 * by another after 60 s (fleet_lua.h): slower, never wrong. */
	if (random_hex(f->owner))
		snprintf(f->owner, sizeof f->owner, "p%ld", (long)getpid());
	f->push_text = fleet_lua_push();
	if (!f->push_text) {
		fleet_opts_free(&f->o);
		free(f);
		return NULL;
	}
	f->push.text = f->push_text;
	f->pull.text = fleet_lua_pull;
	f->restart.text = fleet_lua_restart;
	pthread_mutex_init(&f->mu, NULL);
	{
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&f->wake, &ca);
		pthread_condattr_destroy(&ca);
	}
	return f;
}

static void fleet_free(fleet *f)
{
	disconnect(f);
	pthread_cond_destroy(&f->wake);
	pthread_mutex_destroy(&f->mu);
	fleet_opts_free(&f->o);
	free(f->push_text);
	free(f);
}

lbs_status fleet_start(store *s, const fleet_opts *o, int thread, fleet **out, char *err,
                       size_t errlen)
{
	fleet *f = fleet_new(o);

	*out = NULL;
	if (!f)
		return LBS_ENOMEM;
	f->s = s;
	f->host_sync = thread; /* before the thread reads it */
	if (thread) {
		int rc = thread_start(&f->thread, sync_thread, f);

		if (rc) {
			snprintf(err, errlen, "store '%s': cannot start the fleet sync thread: %s",
			         store_path(s), rc == ENOMEM ? "out of memory" : strerror(rc));
			fleet_free(f);
			return rc == ENOMEM ? LBS_ENOMEM : LBS_EIO;
		}
		f->thread_started = 1;
	}
	*out = f;
	return LBS_OK;
}

void fleet_stop(fleet *f)
{
	if (!f)
		return;
	if (f->thread_started) {
		pthread_mutex_lock(&f->mu);
		f->stop = 1;
		/* a reply being waited for would hold the join for up to
		 * timeout_ms; the outbox is in the store, pushed at the next
		 * start */
		rc_interrupt(f->rc);
		pthread_cond_signal(&f->wake);
		pthread_mutex_unlock(&f->mu);
		pthread_join(f->thread, NULL);
	}
	fleet_free(f);
}

lbs_status fleet_sync_once(fleet *f, char *err, size_t errlen)
{
	int rc = sync_step(f, 1, 1, err, errlen);

	note_result(f, rc != 0, err, 1);
	return rc ? LBS_EIO : LBS_OK;
}

int fleet_stats(fleet *f, char *buf, size_t len)
{
	char e[420], shown[300], pf[200], user[160];
	uint64_t now = mono_ns(), ok, eat, pull_ok;
	double lag;
	int n;

	pthread_mutex_lock(&f->mu);
	txt_show(shown, sizeof shown, f->err);
	ok = f->ok_ns;
	eat = f->err_ns;
	pull_ok = f->pull_ok_ns;
	pthread_mutex_unlock(&f->mu);
	/* Through cJSON's quoting would be exact; the sanitizer leaves no
	 * quote or backslash that could break the JSON. */
	for (char *p = shown; *p; p++)
		if (*p == '"' || *p == '\\')
			*p = '\'';
	snprintf(e, sizeof e, "%s", shown);
	txt_show(pf, sizeof pf, f->o.password_file ? f->o.password_file : "");
	/* the user AUTH sends: the setting's, else the password file's */
	txt_show(user, sizeof user, f->o.user ? f->o.user : f->o.secret ? f->o.secret->user : "");
	for (char *p = pf; *p; p++)
		if (*p == '"' || *p == '\\')
			*p = '\'';
	for (char *p = user; *p; p++)
		if (*p == '"' || *p == '\\')
			*p = '\'';
	lag = pull_ok ? (double)(now - pull_ok) / 1e6 : -1.0;
	n = snprintf(buf, len,
	         ",\"fleet\":{\"address\":\"%s\",\"user\":\"%s\",\"password_file\":\"%s\","
	         "\"lag_ms\":%.0f,\"backlog\":%llu,\"pushes\":%llu,\"pulls\":%llu,"
	         "\"snapshots\":%llu,\"restarts\":%llu,\"outcomes_pushed\":%llu,\"commands\":%llu,"
	         "\"parts\":%llu,"
	         "\"busy\":%llu,\"errors\":%llu,"
	         "\"last_error\":\"%s\",\"last_error_unix\":%.3f,\"last_success_unix\":%.3f}",
	         f->addr, user, pf, lag, (unsigned long long)atomic_load(&f->backlog),
	         (unsigned long long)atomic_load(&f->pushes),
	         (unsigned long long)atomic_load(&f->pulls),
	         (unsigned long long)atomic_load(&f->snapshots),
	         (unsigned long long)atomic_load(&f->restarts),
	         (unsigned long long)atomic_load(&f->outcomes_pushed),
	         (unsigned long long)atomic_load(&f->commands),
	         (unsigned long long)atomic_load(&f->parts),
	         (unsigned long long)atomic_load(&f->busy),
	         (unsigned long long)atomic_load(&f->errors), e, (double)eat * 1e-9,
	         (double)ok * 1e-9);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* Sorted by pair, and newest (later in the pages) last. */
static int cmp_pulled(const void *a, const void *b, void *ctx)
{
	const pulled *p = ctx;
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	const store_item *x = &p->items[i], *y = &p->items[j];
	int c = x->type != y->type ? (x->type < y->type ? -1 : 1) : strcmp(x->worker, y->worker);

	return c ? c : (i < j ? -1 : i > j);
}

lbs_status fleet_read_totals(const fleet_opts *o, const lbs_host_api *host, hist_sums_fn fn,
                             void *ctx, char *err, size_t errlen)
{
	fleet *f = fleet_new(o);
	char since[32] = "0";
	pulled p = {0};
	size_t *order = NULL;
	lbs_status st = LBS_OK;

	if (!f)
		return LBS_ENOMEM;
	f->host = host;
	if (connect_redis(f, err, errlen)) {
		fleet_free(f);
		return LBS_EIO;
	}
	/* A prefix without an epoch is no fleet to the pull, which reads no
	 * further: one holding another program's keys read as an empty
	 * fleet, where a sync refused it naming the key. */
	if (wrong_type(f, 5, err, errlen)) {
		fleet_free(f);
		return LBS_EIO;
	}
	/* In pages, as a pull; a pair changed between pages comes twice, and
	 * its later value is the newer. */
	for (;;) {
		redisReply *r = pull_page(f, "", since, err, errlen);
		int rc;

		if (!r) {
			st = LBS_EIO;
			break;
		}
		snprintf(since, sizeof since, "%.*s", (int)r->element[3]->len, r->element[3]->str);
		rc = pulled_add(&p, r);
		freeReplyObject(r);
		if (rc) {
			snprintf(err, errlen, "%s: out of memory reading the totals", f->addr);
			st = LBS_ENOMEM;
			break;
		}
		if (!since[0])
			break;
	}
	if (st == LBS_OK && p.n && !(order = malloc(p.n * sizeof *order))) {
		snprintf(err, errlen, "%s: out of memory reading the totals", f->addr);
		st = LBS_ENOMEM;
	}
	if (st == LBS_OK && p.n) {
		for (size_t i = 0; i < p.n; i++)
			order[i] = i;
		qsort_r(order, p.n, sizeof *order, cmp_pulled, &p);
		for (size_t i = 0; i < p.n; i++) {
			const store_item *x = &p.items[order[i]], *y;

			if (i + 1 < p.n) {
				y = &p.items[order[i + 1]];
				if (x->type == y->type && !strcmp(x->worker, y->worker))
					continue;
			}
			if (fn(ctx, x->type, x->worker, &x->c))
				break;
		}
	}
	free(order);
	if (st == LBS_OK)
		pulled_say(f, &p);
	pulled_free(&p);
	fleet_free(f);
	return st;
}
