/*
 * ngx_http_upstream_lbsched_module -- an nginx upstream balancing method
 * that asks an lbsched scheduler (any plugin, through the shim) which server
 * gets each request.
 *
 *   upstream be {
 *       lbsched;                        # optional: any lbsched_* turns it on
 *       lbsched_scheduler hardware-aware;
 *       lbsched_fleet /etc/lbsched/fleet.json;   # worker_id = "127.0.0.1:8081"
 *       lbsched_config '{"store": {"path": "/var/lib/lbsched/prefs"}}';
 *       server 127.0.0.1:8081;  server 127.0.0.1:8082;
 *   }
 *   location = /lbsched { lbsched_status; }
 *
 * `lbsched_fleet redis://host:port/prefix` reads the agents' live fleet
 * instead of a file (docs/NGINX.md): worker process 0 fetches its servers'
 * records from Redis on a timer and writes them into the upstream's shared
 * zone; every process converts what is there when it changes.  Nothing is
 * fetched in the request path; a server without a live record is not a
 * candidate.
 *
 * Config time (master): the plugin is loaded and a trial instance created
 * and destroyed, as the worker user, so `nginx -t` reports the plugin's own
 * errors and whatever would fail in the workers.  Each worker process
 * creates its instance in init_process, after fork.  Per request the live
 * servers (not tried, not down, not failed, under max_conns) are the
 * candidate workers; the shim's sched_select validates the plugin's answer
 * and falls back to its rotation over the eligible ones when it is wrong; a
 * worker process without an instance uses that rotation alone.  free_peer
 * reports the outcome and delegates to round-robin's accounting.
 *
 * Every worker process has its own plugin instance, so its own in-flight
 * ledger; what is in flight per server is therefore counted in a shared
 * zone of the module's own ("lbsched_<upstream>", one per upstream, with or
 * without nginx's `zone`), and every process gives the scheduler those
 * counts (docs/NGINX.md).
 */
#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "arena.h"
#include "convert.h"
#include "eligible.h"
#include "file.h"
#include "fleet_redis.h"
#include "hash.h"
#include "host.h"
#include "reqmap.h"
#include "scheduler.h"
#include "shim_config.h"
#include "taxonomy.h"
#include "text.h"

#define LBS_NGX_NO_PEER ((ngx_uint_t) -1)
/* the stale kept-alive servers a request remembers (dp->stale) */
#define LBS_NGX_STALE_MAX 8

/* The live fleet: how often process 0 reads Redis, how often every process
 * looks for a change (a change reaches select within the sum, plus Redis's
 * answer), and for how long a fleet read before Redis failed stays in use.
 * After a failed read the next waits twice as long as the last, up to
 * LBS_LIVE_BACKOFF_MS: each read of a hung Redis blocks process 0's event
 * loop, and retrying every 500 ms kept it blocked most of the time.  The
 * cap stays well inside LBS_LIVE_STALE_S, so a Redis back is seen soon. */
#define LBS_LIVE_FETCH_MS   500
#define LBS_LIVE_CHECK_MS   100
#define LBS_LIVE_STALE_S    10
#define LBS_LIVE_BACKOFF_MS 4000

/* Changes of in-flight counts kept in the zone for the other processes to
 * follow; one that falls further behind reads every count again. */
#define LBS_LOG_LEN         1024

/* Worker processes whose share of the counts the zone has room for (see
 * ngx_http_upstream_lbsched_share): two generations of 64, a reload's old
 * processes finishing beside the new ones.  A process past them is not
 * tracked, and says so. */
#define LBS_SHARES          128
/* A holder's owner while another process takes its share back. */
#define LBS_SHARE_TAKING    ((ngx_atomic_uint_t) 1 << 30) /* past pid_max */

/* Servers a request leaves out by name (tried, or found unusable lately)
 * before the balancer filters the whole upstream instead. */
#define LBS_EXCLUDE_MAX     32

static const char *const lbs_map_default[RQ_COUNT] = {
    "$http_x_test_type", "$http_x_model_id", "$http_x_min_memory_gb",
    "$http_x_priority", "$http_x_required_backend",
    "$http_x_preferred_backend", "$http_x_expected_duration",
    "$http_x_deadline"
};


/*
 * One server's work in flight, over all worker processes: requests, how
 * many of them stated their size (X-Expected-Duration), and the sum of
 * those sizes in milliseconds.
 */
typedef struct {
    ngx_atomic_t                inflight;
    ngx_atomic_t                sized;
    ngx_atomic_t                work_ms;
} ngx_http_upstream_lbsched_shared_t;


/*
 * Which server's counts changed, in order, after the counts in the zone:
 * each process re-reads the servers named since it last looked instead of
 * every server's counts per request.  seq is the change's number + 1, 0
 * while a writer is between its stores.
 */
typedef struct {
    ngx_atomic_t                seq;
    ngx_atomic_t                peer;
} ngx_http_upstream_lbsched_slot_t;

typedef struct {
    ngx_atomic_t                      head;   /* changes so far */
    ngx_http_upstream_lbsched_slot_t  slot[LBS_LOG_LEN];
} ngx_http_upstream_lbsched_log_t;


/*
 * Each worker process's share of the counts: what it counted and has not
 * released, per server, in the layout of the counts.  Only its owner
 * writes a share.  A process that died (kill -9, a crash, the OOM killer;
 * one the master replaces, or a reload's old one draining, which it does
 * not) cannot release its requests: the first process to find its owner
 * gone (a process starting, and every process every LBS_LOG_DRAIN_MS)
 * takes the share out of the counts and frees it for the next process.
 * owner: the pid, | LBS_SHARE_TAKING while that is being done, 0 free;
 * share NULL: not made yet.
 */
typedef struct {
    ngx_atomic_t                         owner;
    ngx_http_upstream_lbsched_shared_t  *share;
} ngx_http_upstream_lbsched_holder_t;

typedef struct {
    ngx_http_upstream_lbsched_holder_t   holder[LBS_SHARES];
} ngx_http_upstream_lbsched_shares_t;


/* The live fleet as process 0 last read it, after the counts in the zone:
 * fleet document text of the servers' valid records, and when it was read.
 * The time is the zone's as the text is: a reload reuses both, and its
 * processes keep the text only as long as the old ones would have (with a
 * start time of their own, reloads every few seconds kept a dead Redis's
 * fleet for ever).  So is the reads' backing off: the wait after the last
 * failed read and that read's end, which a new process 0 waits out (each
 * reload's process 0 read at once and from 500 ms again, so a stalled
 * Redis blocked it at the reloads' pace).  All of it is one Redis's: a
 * reload to another (same server count, so the zone is reused) read the
 * new one only once the old one's wait ended, up to 4 s, and the new one
 * failing kept the old one's fleet for its 10 s as if read from the new. */
typedef struct {
    ngx_atomic_t                gen;          /* bumped with each change */
    uint64_t                    target;       /* whose reads these are
                                                 (live_target), 0: none */
    time_t                      ok;           /* the last good read, or 0 */
    ngx_msec_t                  wait;         /* backing off: the wait after
                                                 the last read, failed; 0
                                                 after a good one */
    uint64_t                    failed_ms;    /* that failed read's end, ms
                                                 of the wall clock */
    ngx_uint_t                  n_live;
    size_t                      len;
    u_char                      text[1];
} ngx_http_upstream_lbsched_live_t;


typedef struct {
    ngx_flag_t                  enabled;
    ngx_flag_t                  said;      /* the bare "lbsched;" was given */
    ngx_str_t                   plugin;
    ngx_str_t                   scheduler;
    ngx_str_t                   config;       /* inline JSON */
    ngx_str_t                   config_file;
    ngx_str_t                   fleet_file;   /* or a redis:// address */
    ngx_str_t                   redis_password_file;
    ngx_flag_t                  redis_insecure;
    ngx_flag_t                  redis_answers; /* at config time: its keys
                                                  can be looked for */
    ngx_http_complex_value_t   *map[RQ_COUNT];

    /* where the upstream is, for errors found after its block */
    u_char                     *file_name;
    ngx_uint_t                  line;
    u_char                     *fleet_conf_file;  /* lbsched_fleet's line */
    ngx_uint_t                  fleet_conf_line;
    u_char                     *config_conf_file; /* lbsched_config(_file)'s */
    ngx_uint_t                  config_conf_line;
    ngx_flag_t                  initialized;  /* init_upstream ran */

    /* built at init_upstream */
    ngx_str_t                   name;         /* the upstream's name */
    char                       *plugin_z;
    char                       *scheduler_z;
    char                       *config_text;  /* malloc'd, may be NULL */
    size_t                      config_len;
    char                       *store_path;   /* config's store.path or NULL */
    ngx_array_t                *child_stores; /* children's store.path (char *),
                                                 absolute; NULL: none read */
    shim_host                  *host;
    arena                      *arena;
    lbs_worker                **workers;      /* one per primary peer;
                                                 NULL: not live (Redis) */
    char                      **ids;          /* the peers' addresses */
    ngx_uint_t                 *first;        /* per peer: the first peer
                                                 of its address */
    char                     ***by_id;        /* the peers' ids, sorted:
                                                 peer_of's index */
    ngx_uint_t                 *twin;         /* per peer: the next peer of
                                                 its address, or NO_PEER */
    ngx_uint_t                  npeers;
    ngx_shm_zone_t             *shm_zone;     /* data: shared[npeers] */
    rc_target                  *redis;        /* NULL: a fleet file */
    uint64_t                    live_target;  /* the Redis and the prefix,
                                                 hashed: which of the
                                                 zone's reads are ours */
    size_t                      live_cap;     /* the zone's fleet text */

    /* per worker process (copy-on-write after fork) */
    shim_sched                 *sched;
    ngx_uint_t                 *decisions;    /* per peer */
    uint32_t                    cursor;       /* rotation without sched */
    ngx_uint_t                  no_worker;
    ngx_uint_t                  fallbacks;
    ngx_uint_t                  errors;
    ngx_uint_t                  reports;
    ngx_uint_t                  report_errors;
    ngx_event_t                 live_ev;
    ngx_atomic_uint_t           live_seen;    /* the zone's gen in use */
    arena                      *live_arena;   /* of the live workers */
    rc_conn                    *rconn;        /* process 0 only */
    ngx_msec_t                  live_next;    /* next read */
    ngx_msec_t                  live_wait;    /* between reads: longer
                                                 while they fail */
    char                        live_said[2048]; /* the fleet's problem
                                                    last logged, or "" */
    ngx_flag_t                  live_none;    /* "no server is live" said,
                                                 none live since */
    uint64_t                   *key_said;     /* per peer: what was last
                                                 logged of its key, or 0 */
    uint64_t                   *key_now;      /* the same, this round */

    /* the balancer's view, rebuilt when the peers or the live fleet
     * change, never per request */
    ngx_http_upstream_rr_peers_t *indexed;    /* NULL: rebuild */
    ngx_http_upstream_rr_peer_t **peer_at;    /* per peer */
    const lbs_worker          **cand;         /* the live servers' workers */
    ngx_uint_t                 *cand_idx;     /* their peer indices */
    ngx_uint_t                  ncand;
    ngx_uint_t                 *suspect;      /* peers found unusable */
    ngx_uint_t                  nsuspect;
    ngx_atomic_uint_t           applied;      /* the log's changes read */
    ngx_http_upstream_lbsched_shared_t *own;  /* this process's share in
                                                 the zone, or NULL */
} ngx_http_upstream_lbsched_srv_conf_t;


typedef struct {
    /* the first member: round-robin's code reuses it (see init_peer) */
    ngx_http_upstream_rr_peer_data_t       rrp;
    ngx_http_request_t                    *request;
    ngx_http_upstream_lbsched_srv_conf_t  *conf;
    lbs_workload                           wl;
    rq_text                                text;    /* wl's strings */
    ngx_uint_t                             chosen;  /* peer index or NO_PEER */
    ngx_uint_t                             held;    /* counted in flight */
    /* the servers kept-alive connections to went stale on, the first
     * LBS_NGX_STALE_MAX: tried, but other tries may go to them when none
     * is left */
    ngx_uint_t                             stale[LBS_NGX_STALE_MAX];
    ngx_uint_t                             nstale;
    ngx_atomic_uint_t                      held_ms;
    struct timespec                        start;   /* of this try */
    uint64_t                               cookie;
    ngx_uint_t                             tried[LBS_EXCLUDE_MAX];
    ngx_uint_t                             ntried;
    /* filtered's arrays, kept for the request's later tries: the
     * request's pool frees nothing before the request ends, and a
     * request may try every server (1,500 refusing ones took a worker
     * from 22 to 56 MB with an array a try) */
    const lbs_worker                     **fcand;
    ngx_uint_t                             fcap;    /* their room */
    ngx_uint_t                             body_arriving; /* at this try's
                                                     start, unbuffered */
} ngx_http_upstream_lbsched_peer_data_t;


static char *ngx_http_upstream_lbsched(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_upstream_lbsched_str(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_upstream_lbsched_flag(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_upstream_lbsched_map(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_lbsched_status(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static void *ngx_http_upstream_lbsched_create_conf(ngx_conf_t *cf);
static ngx_int_t ngx_http_upstream_init_lbsched(ngx_conf_t *cf,
    ngx_http_upstream_srv_conf_t *us);
static ngx_int_t ngx_http_upstream_init_lbsched_peer(ngx_http_request_t *r,
    ngx_http_upstream_srv_conf_t *us);
static ngx_int_t ngx_http_upstream_get_lbsched_peer(ngx_peer_connection_t *pc,
    void *data);
static void ngx_http_upstream_free_lbsched_peer(ngx_peer_connection_t *pc,
    void *data, ngx_uint_t state);
static ngx_int_t ngx_http_upstream_lbsched_postconf(ngx_conf_t *cf);
static ngx_int_t ngx_http_upstream_lbsched_init_process(ngx_cycle_t *cycle);
static void ngx_http_upstream_lbsched_share(
    ngx_http_upstream_lbsched_srv_conf_t *lcf, ngx_log_t *log);
static void ngx_http_upstream_lbsched_reclaim(
    ngx_http_upstream_lbsched_srv_conf_t *lcf, ngx_log_t *log,
    ngx_flag_t starting);
static void ngx_http_upstream_lbsched_exit_process(ngx_cycle_t *cycle);
static ngx_http_upstream_lbsched_srv_conf_t *ngx_http_upstream_lbsched_conf_at(
    ngx_http_upstream_main_conf_t *umcf, ngx_uint_t i);


#define LBS_CONF_OFF(f) offsetof(ngx_http_upstream_lbsched_srv_conf_t, f)
#define LBS_MAP_OFF(i) (LBS_CONF_OFF(map) + (i) * sizeof(void *))

static ngx_command_t  ngx_http_upstream_lbsched_commands[] = {

    { ngx_string("lbsched"),
      NGX_HTTP_UPS_CONF|NGX_CONF_NOARGS,
      ngx_http_upstream_lbsched,
      NGX_HTTP_SRV_CONF_OFFSET,
      0,
      NULL },

#define LBS_STR_CMD(n, f)                                                     \
    { ngx_string(n), NGX_HTTP_UPS_CONF|NGX_CONF_TAKE1,                        \
      ngx_http_upstream_lbsched_str, NGX_HTTP_SRV_CONF_OFFSET,                \
      LBS_CONF_OFF(f), NULL }

    LBS_STR_CMD("lbsched_plugin", plugin),
    LBS_STR_CMD("lbsched_scheduler", scheduler),
    LBS_STR_CMD("lbsched_config", config),
    LBS_STR_CMD("lbsched_config_file", config_file),
    LBS_STR_CMD("lbsched_fleet", fleet_file),
    LBS_STR_CMD("lbsched_redis_password_file", redis_password_file),

    { ngx_string("lbsched_redis_insecure"), NGX_HTTP_UPS_CONF|NGX_CONF_FLAG,
      ngx_http_upstream_lbsched_flag, NGX_HTTP_SRV_CONF_OFFSET,
      LBS_CONF_OFF(redis_insecure), NULL },

#define LBS_MAP_CMD(n, i)                                                     \
    { ngx_string(n), NGX_HTTP_UPS_CONF|NGX_CONF_TAKE1,                        \
      ngx_http_upstream_lbsched_map, NGX_HTTP_SRV_CONF_OFFSET,                \
      LBS_MAP_OFF(i), NULL }

    LBS_MAP_CMD("lbsched_test_type", RQ_TEST_TYPE),
    LBS_MAP_CMD("lbsched_model_id", RQ_MODEL_ID),
    LBS_MAP_CMD("lbsched_min_memory_gb", RQ_MIN_MEMORY),
    LBS_MAP_CMD("lbsched_priority", RQ_PRIORITY),
    LBS_MAP_CMD("lbsched_required_backend", RQ_REQUIRED_BACKEND),
    LBS_MAP_CMD("lbsched_preferred_backend", RQ_PREFERRED_BACKEND),
    LBS_MAP_CMD("lbsched_expected_duration", RQ_EXPECTED_DURATION),
    LBS_MAP_CMD("lbsched_deadline", RQ_DEADLINE),

    { ngx_string("lbsched_status"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_lbsched_status,
      0,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_upstream_lbsched_module_ctx = {
    NULL,                                  /* preconfiguration */
    ngx_http_upstream_lbsched_postconf,    /* postconfiguration */

    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */

    ngx_http_upstream_lbsched_create_conf, /* create server configuration */
    NULL,                                  /* merge server configuration */

    NULL,                                  /* create location configuration */
    NULL                                   /* merge location configuration */
};


ngx_module_t  ngx_http_upstream_lbsched_module = {
    NGX_MODULE_V1,
    &ngx_http_upstream_lbsched_module_ctx, /* module context */
    ngx_http_upstream_lbsched_commands,    /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_upstream_lbsched_init_process, /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_upstream_lbsched_exit_process, /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


/* ===== logging from the shim and the plugin ============================= */

/*
 * A plugin logs from any thread (a store's flusher, a fleet sync), while
 * nginx's log writers belong to the event loop: a syslog target keeps one
 * connection and a busy flag, unguarded.  Lines from the plugin's threads
 * wait in this bounded queue, and the loop's thread writes them: a worker
 * process from a timer and as it exits, the master once its trial
 * instance is closed.  The loop's thread is the one that parsed the
 * configuration; a worker process, forked from it, runs on its copy.
 */
#define LBS_LOG_QUEUE       64
#define LBS_LOG_TEXT        1024
#define LBS_LOG_DRAIN_MS    500

typedef struct {
    ngx_uint_t  level;
    char        text[LBS_LOG_TEXT];
} ngx_http_upstream_lbsched_line_t;

static pthread_mutex_t  ngx_http_upstream_lbsched_log_mu =
    PTHREAD_MUTEX_INITIALIZER;
static ngx_http_upstream_lbsched_line_t
    ngx_http_upstream_lbsched_log_q[LBS_LOG_QUEUE];
static ngx_uint_t       ngx_http_upstream_lbsched_log_n;
static ngx_uint_t       ngx_http_upstream_lbsched_log_dropped;
static pthread_t        ngx_http_upstream_lbsched_loop;
static ngx_uint_t       ngx_http_upstream_lbsched_loop_known;
static ngx_event_t      ngx_http_upstream_lbsched_log_ev;
/* The data of the module's timers: nginx built --with-debug (Debian's) logs
 * each timer's event as a connection's, reading its fd from the event's
 * data, so a timer's data must be a connection even where it is none
 * (NULL made every worker process die at start with error_log at debug). */
static ngx_connection_t ngx_http_upstream_lbsched_timer_conn = { .fd = (ngx_socket_t) -1 };


/* Write what the plugin's threads logged; on the loop's thread only. */
static void
ngx_http_upstream_lbsched_log_drain(ngx_log_t *log)
{
    ngx_uint_t                         i;
    ngx_http_upstream_lbsched_line_t  *q = ngx_http_upstream_lbsched_log_q;

    pthread_mutex_lock(&ngx_http_upstream_lbsched_log_mu);

    for (i = 0; i < ngx_http_upstream_lbsched_log_n; i++) {
        ngx_log_error(q[i].level, log, 0, "%s", q[i].text);
    }

    if (ngx_http_upstream_lbsched_log_dropped) {
        ngx_log_error(NGX_LOG_WARN, log, 0, "lbsched: %ui more lines the "
                      "plugin logged from its threads were dropped: more "
                      "than %d came within %d ms",
                      ngx_http_upstream_lbsched_log_dropped, LBS_LOG_QUEUE,
                      LBS_LOG_DRAIN_MS);
    }

    ngx_http_upstream_lbsched_log_n = 0;
    ngx_http_upstream_lbsched_log_dropped = 0;

    pthread_mutex_unlock(&ngx_http_upstream_lbsched_log_mu);
}


static void
ngx_http_upstream_lbsched_log_tick(ngx_event_t *ev)
{
    ngx_http_upstream_main_conf_t         *umcf;
    ngx_http_upstream_lbsched_srv_conf_t  *lcf;
    ngx_uint_t                             i;
    static ngx_uint_t                      ticks;

    ngx_http_upstream_lbsched_log_drain(ev->log);

    /* A process that died where the master starts no other (a reload's
     * old one, draining) leaves its share to be found: by process 0,
     * once a second (one kill(2) a process and upstream). */
    umcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_upstream_module);

    if (ngx_worker == 0 && ++ticks % (1000 / LBS_LOG_DRAIN_MS) == 0 && umcf) {
        for (i = 0; i < umcf->upstreams.nelts; i++) {
            lcf = ngx_http_upstream_lbsched_conf_at(umcf, i);
            if (lcf != NULL && lcf->host != NULL && lcf->shm_zone != NULL) {
                ngx_http_upstream_lbsched_reclaim(lcf, ev->log, 0);
            }
        }
    }

    if (!ngx_exiting && !ngx_quit && !ngx_terminate) {
        ngx_add_timer(ev, LBS_LOG_DRAIN_MS);
    }
}


static void
ngx_http_upstream_lbsched_log(void *ctx, int32_t level, const char *msg)
{
    ngx_uint_t                         l;
    ngx_http_upstream_lbsched_line_t  *line;

    /* -q: "suppress non-error messages during configuration testing";
     * warnings stay, as nginx's own do */
    if (ngx_test_config && ngx_quiet_mode && level < LBS_LOG_WARN) {
        return;
    }

    switch (level) {
    case LBS_LOG_DEBUG: l = NGX_LOG_DEBUG; break;
    case LBS_LOG_INFO:  l = NGX_LOG_INFO; break;
    case LBS_LOG_WARN:  l = NGX_LOG_WARN; break;
    default:            l = NGX_LOG_ERR; break;
    }

    if (ngx_http_upstream_lbsched_loop_known
        && !pthread_equal(pthread_self(), ngx_http_upstream_lbsched_loop))
    {
        pthread_mutex_lock(&ngx_http_upstream_lbsched_log_mu);

        if (ngx_http_upstream_lbsched_log_n < LBS_LOG_QUEUE) {
            line = &ngx_http_upstream_lbsched_log_q[
                                            ngx_http_upstream_lbsched_log_n++];
            line->level = l;
            snprintf(line->text, sizeof(line->text), "lbsched%s: %s",
                     level == LBS_LOG_PLUGIN_MISBEHAVING
                     ? " (plugin misbehaving)" : "", msg);

        } else {
            ngx_http_upstream_lbsched_log_dropped++;
        }

        pthread_mutex_unlock(&ngx_http_upstream_lbsched_log_mu);
        return;
    }

    if (ngx_cycle && ngx_cycle->log) {
        ngx_log_error(l, ngx_cycle->log, 0, "lbsched%s: %s",
                      level == LBS_LOG_PLUGIN_MISBEHAVING
                      ? " (plugin misbehaving)" : "", msg);
    }
}


/* ===== directives ======================================================= */

static ngx_http_upstream_lbsched_srv_conf_t *
ngx_http_upstream_lbsched_enable(ngx_conf_t *cf,
    ngx_http_upstream_lbsched_srv_conf_t *lcf)
{
    ngx_http_upstream_srv_conf_t  *uscf;

    if (lcf->enabled) {
        return lcf;
    }

    if (!ngx_http_upstream_lbsched_loop_known) {
        ngx_http_upstream_lbsched_loop = pthread_self();
        ngx_http_upstream_lbsched_loop_known = 1;
    }

    uscf = ngx_http_conf_get_module_srv_conf(cf, ngx_http_upstream_module);

    /* nginx only warns when a method replaces another, and one replaced
     * here would be gone (a keepalive with it) without a word more */
    if (uscf->peer.init_upstream) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "a balancing method or keepalive comes before "
                           "lbsched's directives in this upstream; lbsched is "
                           "its balancing method: remove the other one, and "
                           "put keepalive after lbsched's directives");
        return NULL;
    }

    uscf->peer.init_upstream = ngx_http_upstream_init_lbsched;

    /* no NGX_HTTP_UPSTREAM_BACKUP: backup servers are refused */
    uscf->flags = NGX_HTTP_UPSTREAM_CREATE
                  |NGX_HTTP_UPSTREAM_WEIGHT
                  |NGX_HTTP_UPSTREAM_MAX_CONNS
                  |NGX_HTTP_UPSTREAM_MAX_FAILS
                  |NGX_HTTP_UPSTREAM_FAIL_TIMEOUT
                  |NGX_HTTP_UPSTREAM_DOWN;

    lcf->enabled = 1;
    lcf->name = uscf->host;
    lcf->file_name = uscf->file_name;
    lcf->line = uscf->line;

    return lcf;
}


static char *
ngx_http_upstream_lbsched(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_upstream_lbsched_srv_conf_t  *lcf = conf;

    /* as nginx says of its own directives given twice */
    if (lcf->said) {
        return "is duplicate";
    }

    lcf->said = 1;

    return ngx_http_upstream_lbsched_enable(cf, conf) ? NGX_CONF_OK
                                                       : NGX_CONF_ERROR;
}


static char *
ngx_http_upstream_lbsched_str(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_upstream_lbsched_srv_conf_t  *lcf = conf;

    u_char       c;
    ngx_str_t   *field, *value;
    ngx_uint_t   i;

    field = (ngx_str_t *) ((char *) conf + cmd->offset);

    if (field->data) {
        return "is duplicate";
    }

    value = cf->args->elts;
    *field = value[1];

    /* lbsched_config ' ' would be the defaults, as an empty config file
     * is refused for (file_read_config) */
    for (i = 0; i < field->len; i++) {
        c = field->data[i];
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
            break;
        }
    }

    if (i == field->len) {
        return "takes a value that is not empty or only white space";
    }

    /* the fleet file is read after the block, when the parser's position
     * is the end of http {} */
    if (cmd->offset == LBS_CONF_OFF(fleet_file)) {
        lcf->fleet_conf_file = cf->conf_file->file.name.data;
        lcf->fleet_conf_line = cf->conf_file->line;
    }

    /* a config the scheduler refuses is said at its own line: an upstream
     * of many servers starts far above it */
    if (cmd->offset == LBS_CONF_OFF(config)
        || cmd->offset == LBS_CONF_OFF(config_file))
    {
        lcf->config_conf_file = cf->conf_file->file.name.data;
        lcf->config_conf_line = cf->conf_file->line;
    }

    return ngx_http_upstream_lbsched_enable(cf, conf) ? NGX_CONF_OK
                                                       : NGX_CONF_ERROR;
}


/* a flag is an lbsched_* line too: it turns the method on, or its upstream
 * would stay round-robin without a word */
static char *
ngx_http_upstream_lbsched_flag(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char  *rv;

    rv = ngx_conf_set_flag_slot(cf, cmd, conf);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    return ngx_http_upstream_lbsched_enable(cf, conf) ? NGX_CONF_OK
                                                       : NGX_CONF_ERROR;
}


/*
 * A value without variables is the same for every request, so one reqmap
 * would ignore is a typo that silently drops the field (a requirement
 * disappears): refuse it here, with reqmap's own reason.
 */
static char *
ngx_http_upstream_lbsched_map_const(ngx_conf_t *cf, ngx_command_t *cmd,
    ngx_uint_t field, ngx_str_t *value)
{
    rq_value       vals[RQ_COUNT];
    const char    *why[RQ_COUNT];
    rq_text       *text;
    lbs_workload   wl;

    text = ngx_palloc(cf->temp_pool, sizeof(rq_text));
    if (text == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(vals, sizeof(vals));
    vals[field].data = (const char *) value->data;
    vals[field].len = value->len;

    if (rq_workload(vals, text, &wl, why) == 0) {
        /* kept, as decide keeps it, but said: every request of the
         * location would be placed as mixed */
        if (conv_type_wordless(wl.test_type, wl.type)) {
            ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                               "value \"%V\" in \"%V\" directive has no "
                               "workload word in it (" CONV_WORKLOAD_WORDS
                               "): decided as mixed", value, &cmd->name);
        }

        return NGX_CONF_OK;
    }

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid value \"%V\" in \"%V\" directive: the %s %s",
                       value, &cmd->name, rq_field_name[field], why[field]);

    return NGX_CONF_ERROR;
}


static char *
ngx_http_upstream_lbsched_map(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_complex_value_t         **field;
    ngx_http_compile_complex_value_t   ccv;
    ngx_str_t                         *value;

    field = (ngx_http_complex_value_t **) ((char *) conf + cmd->offset);

    if (*field) {
        return "is duplicate";
    }

    *field = ngx_palloc(cf->pool, sizeof(ngx_http_complex_value_t));
    if (*field == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));
    ccv.cf = cf;
    ccv.value = &value[1];
    ccv.complex_value = *field;

    if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if ((*field)->lengths == NULL
        && ngx_http_upstream_lbsched_map_const(cf, cmd,
               (cmd->offset - LBS_MAP_OFF(0)) / sizeof(void *), &value[1])
           != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    return ngx_http_upstream_lbsched_enable(cf, conf) ? NGX_CONF_OK
                                                       : NGX_CONF_ERROR;
}


static void *
ngx_http_upstream_lbsched_create_conf(ngx_conf_t *cf)
{
    ngx_http_upstream_lbsched_srv_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_upstream_lbsched_srv_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    conf->redis_insecure = NGX_CONF_UNSET;

    return conf;
}


/* ===== config time: plugin, config, fleet ================================ */

static void
ngx_http_upstream_lbsched_cleanup(void *data)
{
    ngx_http_upstream_lbsched_srv_conf_t  *lcf = data;

    if (lcf->sched) {
        sched_close(lcf->sched);
        lcf->sched = NULL;
    }

    if (lcf->host) {
        host_free(lcf->host);
        lcf->host = NULL;
    }

    arena_free(lcf->arena);
    lcf->arena = NULL;
    free(lcf->config_text);
    lcf->config_text = NULL;
}


static char *
ngx_http_upstream_lbsched_strz(ngx_conf_t *cf, ngx_str_t *s)
{
    char  *z;

    z = ngx_pnalloc(cf->pool, s->len + 1);
    if (z == NULL) {
        return NULL;
    }

    ngx_memcpy(z, s->data, s->len);
    z[s->len] = '\0';

    return z;
}


/* The converter's warnings, at the line of the directive that named the
 * file. */
typedef struct {
    ngx_log_t                             *log;
    ngx_http_upstream_lbsched_srv_conf_t  *lcf;
} ngx_http_upstream_lbsched_warn_t;


static void
ngx_http_upstream_lbsched_conv_warn(void *ctx, const char *msg)
{
    ngx_http_upstream_lbsched_warn_t      *w = ctx;
    ngx_http_upstream_lbsched_srv_conf_t  *lcf = w->lcf;

    if (lcf->fleet_conf_file) {
        ngx_log_error(NGX_LOG_WARN, w->log, 0, "lbsched: %s in %s:%ui", msg,
                      lcf->fleet_conf_file, lcf->fleet_conf_line);

    } else {
        ngx_log_error(NGX_LOG_WARN, w->log, 0, "lbsched: upstream \"%V\" "
                      "in %s:%ui: %s", &lcf->name, lcf->file_name, lcf->line,
                      msg);
    }
}


/* A worker for a server the fleet file does not describe: a plain CPU box. */
static lbs_worker *
ngx_http_upstream_lbsched_plain_worker(ngx_conf_t *cf, conv_ctx *cc,
    ngx_str_t *name)
{
    cJSON       *o, *b;
    char        *id;
    lbs_worker  *w;

    id = ngx_http_upstream_lbsched_strz(cf, name);
    w = arena_alloc(cc->arena, sizeof(lbs_worker));
    o = cJSON_CreateObject();

    if (id == NULL || w == NULL || o == NULL) {
        cJSON_Delete(o);
        return NULL;
    }

    cJSON_AddStringToObject(o, "worker_id", id);
    b = cJSON_AddArrayToObject(o, "supported_backends");
    if (b) {
        cJSON_AddItemToArray(b, cJSON_CreateString("cpu"));
    }
    cJSON_AddNumberToObject(o, "cpu_cores", 1);
    cJSON_AddNumberToObject(o, "available_memory", 1);

    if (conv_worker(cc, o, id, w) != 0) {
        cJSON_Delete(o);
        return NULL;
    }

    cJSON_Delete(o);
    return w;
}


/*
 * A path in the config, made absolute against nginx's conf directory: 1
 * when it was relative (then the item holds the absolute one), 0 when it
 * is absolute or not a path at all (left for the plugin to refuse), -1 out
 * of memory.  *abs, when not NULL, gets the absolute path.
 */
static ngx_int_t
ngx_http_upstream_lbsched_config_path(ngx_conf_t *cf, cJSON *item, char **abs)
{
    ngx_str_t   path;
    char       *z;

    if (!cJSON_IsString(item) || item->valuestring[0] == '\0') {
        return 0;
    }

    path.data = (u_char *) item->valuestring;
    path.len = ngx_strlen(item->valuestring);

    if (ngx_conf_full_name(cf->cycle, &path, 1) != NGX_OK
        || (z = ngx_http_upstream_lbsched_strz(cf, &path)) == NULL)
    {
        return -1;
    }

    if (abs) {
        *abs = z;
    }

    if (path.data == (u_char *) item->valuestring) {
        return 0;                       /* already absolute */
    }

    return cJSON_SetValuestring(item, z) ? 1 : -1;
}


typedef ngx_int_t (*ngx_http_upstream_lbsched_walk_pt)(cJSON *cfg, const char *name,
    void *ctx);

static ngx_int_t ngx_http_upstream_lbsched_walk(cJSON *cfg, const char *name,
    ngx_http_upstream_lbsched_walk_pt fn, void *ctx);


/* A composite's child {"scheduler": name, "config": {...}}. */
static ngx_int_t
ngx_http_upstream_lbsched_walk_child(cJSON *child,
    ngx_http_upstream_lbsched_walk_pt fn, void *ctx)
{
    cJSON  *name, *cfg;

    name = cJSON_GetObjectItemCaseSensitive(child, "scheduler");
    cfg = cJSON_GetObjectItemCaseSensitive(child, "config");

    if (!cJSON_IsObject(child) || !cJSON_IsString(name) || cfg == NULL
        || cJSON_GetObjectItemCaseSensitive(child, "plugin") != NULL)
    {
        return NGX_OK;      /* the plugin says what is wrong, if anything */
    }

    return ngx_http_upstream_lbsched_walk(cfg, name->valuestring, fn, ctx);
}


/*
 * The configs of lbsched's schedulers in a config tree: cfg itself (of the
 * scheduler `name`), then a composite's children, routes and default, and
 * an adaptive's "config" entries (its children's, whichever children it
 * runs), each walked the same way, fn called on each.  A child of another
 * plugin ("plugin") is that plugin's, and not walked.
 */
static ngx_int_t
ngx_http_upstream_lbsched_walk(cJSON *cfg, const char *name,
    ngx_http_upstream_lbsched_walk_pt fn, void *ctx)
{
    static const char *const  lists[] = { "children", "routes" };
    cJSON                    *list, *item;
    ngx_uint_t                k;

    if (!cJSON_IsObject(cfg)) {
        return NGX_OK;
    }

    if (fn(cfg, name, ctx) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_strcmp(name, "composite") == 0) {
        for (k = 0; k < 2; k++) {
            list = cJSON_GetObjectItemCaseSensitive(cfg, lists[k]);
            if (!cJSON_IsArray(list)) {
                continue;
            }
            cJSON_ArrayForEach(item, list) {
                if (ngx_http_upstream_lbsched_walk_child(item, fn, ctx) != NGX_OK) {
                    return NGX_ERROR;
                }
            }
        }
        item = cJSON_GetObjectItemCaseSensitive(cfg, "default");
        return item ? ngx_http_upstream_lbsched_walk_child(item, fn, ctx) : NGX_OK;
    }

    if (ngx_strcmp(name, "adaptive") == 0) {
        list = cJSON_GetObjectItemCaseSensitive(cfg, "config");
        if (!cJSON_IsObject(list)) {
            return NGX_OK;
        }
        cJSON_ArrayForEach(item, list) {
            if (ngx_http_upstream_lbsched_walk(item, item->string, fn, ctx) != NGX_OK) {
                return NGX_ERROR;
            }
        }
    }

    return NGX_OK;
}


typedef struct {
    ngx_conf_t   *cf;
    cJSON        *root;
    ngx_uint_t    changed;
    ngx_array_t  *stores;               /* the children's store paths */
} ngx_http_upstream_lbsched_paths_t;


/* walk's fn: a child's store.path and store.fleet.password_file, as the
 * top level's (the root is done by the caller, which keeps its path). */
static ngx_int_t
ngx_http_upstream_lbsched_child_paths(cJSON *cfg, const char *name, void *ctx)
{
    ngx_http_upstream_lbsched_paths_t  *pc = ctx;
    cJSON                              *store;
    ngx_int_t                           sp, pw;
    char                               *abs = NULL, **slot;

    if (cfg == pc->root) {
        return NGX_OK;
    }

    store = cJSON_GetObjectItemCaseSensitive(cfg, "store");
    sp = ngx_http_upstream_lbsched_config_path(pc->cf,
             cJSON_GetObjectItemCaseSensitive(store, "path"), &abs);
    pw = ngx_http_upstream_lbsched_config_path(pc->cf,
             cJSON_GetObjectItemCaseSensitive(
                 cJSON_GetObjectItemCaseSensitive(store, "fleet"),
                 "password_file"),
             NULL);

    if (sp < 0 || pw < 0) {
        return NGX_ERROR;
    }

    pc->changed += sp + pw;

    /* made and handed to the worker user as the top level's is */
    if (abs != NULL) {
        slot = ngx_array_push(pc->stores);
        if (slot == NULL) {
            return NGX_ERROR;
        }
        *slot = abs;
    }

    return NGX_OK;
}


/*
 * The config's store.path and store.fleet.password_file, and those of a
 * composite's or adaptive's children, made absolute the way lbsched_fleet
 * and lbsched_redis_password_file are (against nginx's conf directory):
 * the master's current directory is whatever the shell's was (systemd's
 * is /), and a worker's may differ.  A relative path is rewritten in the
 * config text the plugin gets; a document that is not one clean JSON
 * object is left alone for the plugin to refuse in its own words.
 */
static ngx_int_t
ngx_http_upstream_lbsched_store_path(ngx_conf_t *cf,
    ngx_http_upstream_lbsched_srv_conf_t *lcf)
{
    cJSON                              *doc, *store;
    const char                         *end;
    char                               *text, why[160];
    ngx_int_t                           rc = NGX_OK, sp, pw;
    ngx_http_upstream_lbsched_paths_t   pc;

    /* a string cut short at a \u0000 would be rewritten without it, and
     * its store made and handed over: left as it is, the plugin refuses
     * the config as it refuses every such one */
    if (txt_json_flaw(why, sizeof(why), lcf->config_text, lcf->config_len)) {
        return NGX_OK;
    }

    doc = cJSON_ParseWithLengthOpts(lcf->config_text, lcf->config_len, &end, 0);
    if (doc == NULL) {
        return NGX_OK;
    }

    while (end < lcf->config_text + lcf->config_len
           && (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n'))
    {
        end++;
    }

    if (end != lcf->config_text + lcf->config_len) {
        goto done;
    }

    store = cJSON_GetObjectItemCaseSensitive(doc, "store");
    sp = ngx_http_upstream_lbsched_config_path(cf,
             cJSON_GetObjectItemCaseSensitive(store, "path"), &lcf->store_path);
    pw = ngx_http_upstream_lbsched_config_path(cf,
             cJSON_GetObjectItemCaseSensitive(
                 cJSON_GetObjectItemCaseSensitive(store, "fleet"),
                 "password_file"),
             NULL);

    pc.cf = cf;
    pc.root = doc;
    pc.changed = 0;
    pc.stores = ngx_array_create(cf->pool, 2, sizeof(char *));
    lcf->child_stores = pc.stores;

    if (sp < 0 || pw < 0 || pc.stores == NULL
        || ngx_http_upstream_lbsched_walk(doc, lcf->scheduler_z,
                                          ngx_http_upstream_lbsched_child_paths,
                                          &pc)
           != NGX_OK)
    {
        rc = NGX_ERROR;
        goto done;
    }

    if (sp == 0 && pw == 0 && pc.changed == 0) {
        goto done;
    }

    text = cJSON_PrintUnformatted(doc);
    if (text == NULL) {
        rc = NGX_ERROR;
        goto done;
    }

    free(lcf->config_text);
    lcf->config_len = strlen(text);
    lcf->config_text = malloc(lcf->config_len + 1);
    if (lcf->config_text == NULL) {
        rc = NGX_ERROR;
    } else {
        memcpy(lcf->config_text, text, lcf->config_len + 1);
    }

    cJSON_free(text);

done:

    cJSON_Delete(doc);

    return rc;
}


/*
 * The user worker processes will run as, when it is not this process's:
 * nginx's `user` line (it comes before http {} in a conf file, so it is
 * parsed by now) or, for a root master without one, nginx's built-in
 * default.  0 when the workers run as this process does.
 */
static ngx_int_t
ngx_http_upstream_lbsched_worker_user(ngx_conf_t *cf, ngx_uid_t *uid,
    ngx_gid_t *gid, const char **name)
{
    ngx_core_conf_t  *ccf;
    struct passwd    *pw;
    struct group     *gr;

    if (geteuid() != 0) {
        return 0;
    }

    ccf = (ngx_core_conf_t *) ngx_get_conf(cf->cycle->conf_ctx,
                                           ngx_core_module);

    if (ccf != NULL && ccf->user != (ngx_uid_t) NGX_CONF_UNSET_UINT) {
        *uid = ccf->user;
        *gid = ccf->group;
        *name = ccf->username;

    } else {
        /* nginx refuses the config itself when these fail */
        pw = getpwnam(NGX_USER);
        gr = getgrnam(NGX_GROUP);
        if (pw == NULL || gr == NULL) {
            return 0;
        }

        *uid = pw->pw_uid;
        *gid = gr->gr_gid;
        *name = NGX_USER;
    }

    return *uid != 0;
}


/*
 * The first directory above path that this process cannot enter, as a
 * message in msg: the store's own "Permission denied" would not say which
 * one.  0 when every one can be entered.
 */
static int
ngx_http_upstream_lbsched_untraversable(const char *path, char *msg,
    size_t len)
{
    char    dir[4096];
    size_t  i, n;

    n = ngx_strlen(path);
    if (n >= sizeof(dir)) {
        return 0;
    }

    for (i = 1; i < n; i++) {
        if (path[i] != '/') {
            continue;
        }

        ngx_memcpy(dir, path, i);
        dir[i] = '\0';

        if (access(dir, X_OK) == -1 && errno == EACCES) {
            snprintf(msg, len, "store '%.400s': the directory '%.400s' cannot be "
                     "entered (it needs the x permission for this user)",
                     path, dir);
            return 1;
        }
    }

    return 0;
}


/* In the trial, as the worker user: 1 with msg when the Redis password
 * file is not that user's to read (its workers read it at each connect). */
static int
ngx_http_upstream_lbsched_secret_unreadable(
    ngx_http_upstream_lbsched_srv_conf_t *lcf, char *msg, size_t len)
{
    rc_secret  secret;
    char       why[512];

    if (rc_secret_read(lcf->redis->password_file, lcf->redis->user, &secret,
                       why, sizeof(why)) != 0)
    {
        snprintf(msg, len, "lbsched_redis_password_file: %s", why);
        return 1;
    }

    rc_secret_clear(&secret);
    return 0;
}


#define LBS_SHARING_MAX  16

/*
 * Trial instances of the upstreams checked before lcf whose store is lcf's
 * directory, to hold open while lcf's is made: a worker creates them all,
 * and the plugin refuses one store with two rules of learning (alpha,
 * half_life_s, file_mode, a fleet or none) in a process, which trials one
 * at a time never meet.  Returns how many are in `open`; the first such upstream in *first.
 */
static ngx_uint_t
ngx_http_upstream_lbsched_open_sharing(ngx_conf_t *cf,
    ngx_http_upstream_lbsched_srv_conf_t *lcf, shim_sched **open,
    ngx_http_upstream_lbsched_srv_conf_t **first)
{
    ngx_http_upstream_main_conf_t         *umcf;
    ngx_http_upstream_lbsched_srv_conf_t  *o;
    ngx_uint_t                             i, n;
    struct stat                            mine, theirs;
    char                                   err[2048];

    *first = NULL;
    if (lcf->store_path == NULL || stat(lcf->store_path, &mine) == -1) {
        return 0;
    }

    umcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_upstream_module);
    n = 0;

    for (i = 0; i < umcf->upstreams.nelts && n < LBS_SHARING_MAX; i++) {
        o = ngx_http_upstream_lbsched_conf_at(umcf, i);

        /* the upstreams after lcf are not made yet (host NULL) */
        if (o == NULL || o == lcf || o->host == NULL || o->store_path == NULL
            || stat(o->store_path, &theirs) == -1
            || theirs.st_dev != mine.st_dev || theirs.st_ino != mine.st_ino)
        {
            continue;
        }

        if (sched_open(o->host, o->plugin_z, o->scheduler_z, o->config_text,
                       o->config_len, &open[n], err, sizeof(err))
            == LBS_OK)
        {
            if (*first == NULL) {
                *first = o;
            }
            n++;
        }
    }

    return n;
}


/* lcf's trial instance, with those of the upstreams sharing its store
 * open: what sched_open answers, with err naming the first of them when
 * they disagree. */
static lbs_status
ngx_http_upstream_lbsched_trial_open(ngx_conf_t *cf,
    ngx_http_upstream_lbsched_srv_conf_t *lcf, char *err, size_t errlen)
{
    shim_sched                            *open[LBS_SHARING_MAX], *trial;
    ngx_http_upstream_lbsched_srv_conf_t  *first;
    ngx_uint_t                             i, n;
    lbs_status                             st;
    size_t                                 len;

    n = ngx_http_upstream_lbsched_open_sharing(cf, lcf, open, &first);

    st = sched_open(lcf->host, lcf->plugin_z, lcf->scheduler_z,
                    lcf->config_text, lcf->config_len, &trial, err, errlen);
    if (st != LBS_OK) {
        len = strlen(err);
        if (first != NULL && strstr(err, "another scheduler in this process")
            && len < errlen)
        {
            snprintf(err + len, errlen - len, " (upstream \"%.*s\" in %s:%lu "
                     "uses the same store)", (int) first->name.len,
                     (char *) first->name.data,
                     (char *) (first->config_conf_file ? first->config_conf_file
                                                       : first->file_name),
                     (unsigned long) (first->config_conf_file
                                      ? first->config_conf_line : first->line));
        }

    } else {
        sched_close(trial);
    }

    for (i = 0; i < n; i++) {
        sched_close(open[i]);
    }

    /* their threads are joined: what they logged is all there */
    ngx_http_upstream_lbsched_log_drain(cf->log);

    return st;
}


/* Store directory i of lcf's config: the top level's first, then its
 * children's; NULL past the last. */
static const char *
ngx_http_upstream_lbsched_store_at(ngx_http_upstream_lbsched_srv_conf_t *lcf,
    ngx_uint_t i)
{
    ngx_uint_t  top = lcf->store_path != NULL;

    if (i < top) {
        return lcf->store_path;
    }

    i -= top;

    if (lcf->child_stores == NULL || i >= lcf->child_stores->nelts) {
        return NULL;
    }

    return ((char **) lcf->child_stores->elts)[i];
}


/* A missing store directory made (only its last component) and handed to
 * the worker user: fchown on what mkdir made, never on a path an existing
 * symlink could redirect.  An existing one is left as it is. */
static ngx_int_t
ngx_http_upstream_lbsched_make_store(const char *path, ngx_uid_t uid,
    ngx_gid_t gid, const char *name, char *err, size_t errlen)
{
    ngx_fd_t   fd;
    ngx_err_t  e;

    if (mkdir(path, 0700) != 0) {
        return NGX_OK;
    }

    fd = open(path, O_RDONLY|O_DIRECTORY|O_NOFOLLOW);
    if (fd == -1 || fchown(fd, uid, gid) == -1) {
        e = ngx_errno;
        snprintf(err, errlen, "store '%s': cannot hand it to user \"%s\": %s",
                 path, name, strerror(e));
        if (fd != -1) {
            close(fd);
        }
        return NGX_ERROR;
    }

    close(fd);

    return NGX_OK;
}


/* ngx_http_upstream_lbsched_untraversable() for each store directory. */
static int
ngx_http_upstream_lbsched_stores_untraversable(
    ngx_http_upstream_lbsched_srv_conf_t *lcf, char *msg, size_t len)
{
    ngx_uint_t   i;
    const char  *path;

    for (i = 0; (path = ngx_http_upstream_lbsched_store_at(lcf, i)); i++) {
        if (ngx_http_upstream_lbsched_untraversable(path, msg, len)) {
            return 1;
        }
    }

    return 0;
}


/*
 * The trial instance: the config, plugin, fleet and store exactly as a
 * worker process will use them, so that what would fail in every worker
 * fails `nginx -t` instead.  When the workers run as another user (a root
 * master with `user www-data`), the trial runs in a child process that
 * becomes that user, because a store the master can reach may not be
 * reachable by the workers (a parent directory they cannot enter).  The
 * store therefore belongs to the worker user from the start.  *of_config
 * is 1 when the scheduler refused its config or the store it names (not
 * the plugin, the user or the host).
 */
static ngx_int_t
ngx_http_upstream_lbsched_trial(ngx_conf_t *cf,
    ngx_http_upstream_lbsched_srv_conf_t *lcf, char *err, size_t errlen,
    ngx_uint_t *of_config)
{
    lbs_status            st;
    loaded_plugin        *p;
    const lbs_host_api   *api;
    const char           *name = NULL;
    ngx_uid_t             uid = 0;
    ngx_gid_t             gid = 0;
    ngx_pid_t             pid;
    ngx_err_t             e;
    ngx_uint_t            i;
    int                   fds[2], status, code;
    char                  msg[2048];
    const char           *path;
    size_t                got;
    ssize_t               n;

    err[0] = '\0';

    *of_config = 0;

    if (!ngx_http_upstream_lbsched_worker_user(cf, &uid, &gid, &name)) {
        st = ngx_http_upstream_lbsched_trial_open(cf, lcf, err, errlen);
        *of_config = (st == LBS_ECONFIG || st == LBS_EIO);
        return st == LBS_OK ? NGX_OK : NGX_ERROR;
    }

    /* loading is the master's: workers inherit the plugin */
    if (host_load(lcf->host, lcf->plugin_z, &p, &api, err, errlen)
        != LBS_OK)
    {
        return NGX_ERROR;
    }

    /* The store directories, the children's too, in a parent only root
     * may write to, as nginx does with its temp directories. */
    for (i = 0; (path = ngx_http_upstream_lbsched_store_at(lcf, i)); i++) {
        if (ngx_http_upstream_lbsched_make_store(path, uid, gid, name, err,
                                                 errlen)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    if (pipe(fds) == -1) {
        snprintf(err, errlen, "pipe() failed: %s", strerror(ngx_errno));
        return NGX_ERROR;
    }

    pid = fork();

    if (pid == -1) {
        e = ngx_errno;
        close(fds[0]);
        close(fds[1]);
        snprintf(err, errlen, "fork() failed: %s", strerror(e));
        return NGX_ERROR;
    }

    if (pid == 0) {
        close(fds[0]);
        msg[0] = '\0';
        code = 0;

        if (setgid(gid) == -1 || initgroups(name, gid) == -1
            || setuid(uid) == -1)
        {
            snprintf(msg, sizeof(msg), "cannot become user \"%s\": %s",
                     name, strerror(errno));
            code = 1;

        } else if (ngx_http_upstream_lbsched_stores_untraversable(lcf, msg,
                                                                  sizeof(msg)))
        {
            code = 1;

        } else if (lcf->redis && lcf->redis->password_file
                   && ngx_http_upstream_lbsched_secret_unreadable(lcf, msg,
                                                                sizeof(msg)))
        {
            code = 1;

        } else if ((st = ngx_http_upstream_lbsched_trial_open(cf, lcf, msg,
                                                              sizeof(msg)))
                   != LBS_OK)
        {
            /* 3: the config's refusal, for the prefix naming its file */
            code = (st == LBS_ECONFIG || st == LBS_EIO) ? 3 : 1;
        }

        if (write(fds[1], msg, strlen(msg)) == -1 && code == 0) {
            code = 1;
        }

        _exit(code);
    }

    close(fds[1]);

    got = 0;
    for ( ;; ) {
        n = read(fds[0], msg + got, sizeof(msg) - 1 - got);
        if (n > 0 && (got += n) < sizeof(msg) - 1) {
            continue;
        }
        if (n == -1 && ngx_errno == NGX_EINTR) {
            continue;
        }
        break;
    }
    msg[got] = '\0';
    close(fds[0]);

    while (waitpid(pid, &status, 0) == -1) {
        e = ngx_errno;
        if (e != NGX_EINTR) {
            snprintf(err, errlen, "waitpid() failed: %s", strerror(e));
            return NGX_ERROR;
        }
    }

    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        return NGX_OK;
    }

    *of_config = WIFEXITED(status) && WEXITSTATUS(status) == 3;

    /* the plugin's words, from another process: one line whatever it
     * wrote */
    txt_one_line(msg);

    if (WIFSIGNALED(status)) {
        snprintf(err, errlen, "the trial as worker user \"%s\" died of "
                 "signal %d", name, WTERMSIG(status));

    } else {
        snprintf(err, errlen, "as worker user \"%.64s\": %.900s", name,
                 msg[0] ? msg : "the scheduler cannot be created");
    }

    return NGX_ERROR;
}


/* The in-flight counts, their change log and the processes' shares. */
static size_t
ngx_http_upstream_lbsched_counts_size(ngx_http_upstream_lbsched_srv_conf_t *lcf)
{
    return ngx_align(lcf->npeers * sizeof(ngx_http_upstream_lbsched_shared_t),
                     sizeof(ngx_atomic_t))
           + sizeof(ngx_http_upstream_lbsched_log_t)
           + sizeof(ngx_http_upstream_lbsched_shares_t);
}


static ngx_http_upstream_lbsched_log_t *
ngx_http_upstream_lbsched_changes(ngx_http_upstream_lbsched_srv_conf_t *lcf)
{
    return (ngx_http_upstream_lbsched_log_t *)
           ((u_char *) lcf->shm_zone->data
            + ngx_align(lcf->npeers
                        * sizeof(ngx_http_upstream_lbsched_shared_t),
                        sizeof(ngx_atomic_t)));
}


static ngx_http_upstream_lbsched_shares_t *
ngx_http_upstream_lbsched_shares(ngx_http_upstream_lbsched_srv_conf_t *lcf)
{
    return (ngx_http_upstream_lbsched_shares_t *)
           (ngx_http_upstream_lbsched_changes(lcf) + 1);
}


/* The live fleet in the zone, after the counts (lbsched_fleet redis://). */
static ngx_http_upstream_lbsched_live_t *
ngx_http_upstream_lbsched_live(ngx_http_upstream_lbsched_srv_conf_t *lcf)
{
    return (ngx_http_upstream_lbsched_live_t *)
           ((u_char *) lcf->shm_zone->data
            + ngx_http_upstream_lbsched_counts_size(lcf));
}


/*
 * The in-flight counts.  A reload with as many servers reuses the zone and
 * keeps its counts: the old workers' requests still finishing release what
 * they took, in the same memory, so the counts stay the sum over old and
 * new processes (by position: a server moved in the list is credited with
 * its old place's requests until they finish).
 */
static ngx_int_t
ngx_http_upstream_lbsched_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_upstream_lbsched_srv_conf_t  *lcf = shm_zone->data;
    ngx_slab_pool_t                       *shpool;
    void                                  *counts;
    size_t                                 size;

    if (data) {
        shm_zone->data = data;
        return NGX_OK;
    }

    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    size = ngx_http_upstream_lbsched_counts_size(lcf)
           + (lcf->redis ? sizeof(ngx_http_upstream_lbsched_live_t)
                           + lcf->live_cap : 0);

    /* the slab's own "no memory" line names neither zone nor upstream */
    shpool->log_nomem = 0;

    /* Zeroed as far as the live header only: the text after it is read
     * only up to its len, and writing zeros over the whole reserve (128
     * KiB a server under redis://, 512 MiB for 4,096) made all of it
     * resident at every start and every nginx -t. */
    counts = ngx_slab_alloc(shpool, size);
    if (counts != NULL) {
        ngx_memzero(counts, ngx_http_upstream_lbsched_counts_size(lcf)
                            + (lcf->redis
                               ? sizeof(ngx_http_upstream_lbsched_live_t) : 0));
    }

    if (counts == NULL) {
        ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                      "lbsched: upstream \"%V\" in %s:%ui: shared zone "
                      "\"%V\" of %uz bytes has no room for the %uz bytes "
                      "of %ui servers' in-flight counts%s",
                      &lcf->name, lcf->file_name, lcf->line,
                      &shm_zone->shm.name, shm_zone->shm.size, size,
                      lcf->npeers,
                      lcf->redis ? " and their live records "
                                   "(lbsched_fleet redis://)" : "");
        return NGX_ERROR;
    }

    shm_zone->data = counts;

    return NGX_OK;
}


static ngx_int_t
ngx_http_upstream_lbsched_add_zone(ngx_conf_t *cf,
    ngx_http_upstream_lbsched_srv_conf_t *lcf)
{
    ngx_str_t         name;
    size_t            size, payload, pages;
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_shm_zone_t   *zone;

    name.len = sizeof("lbsched_") - 1 + lcf->name.len;
    name.data = ngx_pnalloc(cf->pool, name.len);
    if (name.data == NULL) {
        return NGX_ERROR;
    }
    ngx_sprintf(name.data, "lbsched_%V", &lcf->name);

    /* A zone of that name for another use (an upstream's "zone
     * lbsched_x"): nginx would say so at the end of the http block,
     * naming neither the upstream nor lbsched. */
    part = &cf->cycle->shared_memory.part;
    zone = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }
            part = part->next;
            zone = part->elts;
            i = 0;
        }

        if (zone[i].tag != &ngx_http_upstream_lbsched_module
            && zone[i].shm.name.len == name.len
            && ngx_strncmp(zone[i].shm.name.data, name.data, name.len) == 0)
        {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "lbsched: upstream \"%V\" in %s:%ui: its shared "
                          "zone \"%V\" is declared for another use; lbsched "
                          "keeps the name \"lbsched_<upstream>\" for each "
                          "upstream it balances", &lcf->name, lcf->file_name,
                          lcf->line, &name);
            return NGX_ERROR;
        }
    }

    payload = ngx_http_upstream_lbsched_counts_size(lcf);

    if (lcf->redis) {
        /* each server's record and load at their most, and the JSON
         * around them */
        lcf->live_cap = lcf->npeers * FLEET_REDIS_MAX_WORKER_TEXT
                        + FLEET_REDIS_TEXT_EXTRA;
        payload += sizeof(ngx_http_upstream_lbsched_live_t) + lcf->live_cap;
    }

    /* the processes' shares, made as processes start: each whole pages
     * of the slab's (or a chunk of one) */
    payload += LBS_SHARES
               * ngx_align(lcf->npeers * sizeof(ngx_http_upstream_lbsched_shared_t),
                           ngx_pagesize);

    /* The slab pool's header, slot lists and the padding to its first
     * page fit in the 8 pages nginx's own zones keep spare, but each page
     * the payload takes also costs a page header beside it
     * (ngx_slab_init): with 128 KiB a server under redis://, 8 pages
     * alone ran out near 37 servers.  The size tells the layouts apart,
     * so that a reload with another gets a new zone, never an array of
     * the old length (nginx reuses a zone of the same name and size):
     * each grows with the server count, by 24 bytes or more a server,
     * which a rounding to 16 keeps; and a file's size is a multiple of
     * 16, a Redis fleet's 8 past one (137 servers under Redis came to the
     * size of 5,969 from a file, a reviewer's search found). */
    pages = (payload + ngx_pagesize - 1) / ngx_pagesize;
    size = 8 * ngx_pagesize + payload + pages * sizeof(ngx_slab_page_t);
    size = ngx_align(size, 16) + (lcf->redis ? 8 : 0);

    lcf->shm_zone = ngx_shared_memory_add(cf, &name, size,
                                          &ngx_http_upstream_lbsched_module);
    if (lcf->shm_zone == NULL) {
        return NGX_ERROR;
    }

    if (lcf->shm_zone->data) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "lbsched: upstream \"%V\" in %s:%ui: shared zone "
                      "\"%V\" is already used",
                      &lcf->name, lcf->file_name, lcf->line, &name);
        return NGX_ERROR;
    }

    lcf->shm_zone->init = ngx_http_upstream_lbsched_init_zone;
    lcf->shm_zone->data = lcf;

    return NGX_OK;
}


/* The Redis and the key prefix the live fleet is read under, for the zone
 * to tell its own reads from another target's.  Each part hashed with its
 * NUL, so that "a" and "bc" never meet "ab" and "c".  Never 0, which is
 * "none" in the zone. */
static uint64_t
ngx_http_upstream_lbsched_target_key(const rc_target *t)
{
    const char  *prefix;
    uint64_t     h;
    int          i;

    prefix = fleet_redis_prefix(t);

    h = lbs_fnv1a_n(LBS_FNV_OFFSET, t->host, ngx_strlen(t->host) + 1);
    h = lbs_fnv1a_n(h, (const char *) &t->port, sizeof(t->port));
    h = lbs_fnv1a_n(h, prefix, ngx_strlen(prefix) + 1);

    /* the name's addresses as this reload found them: a name moved to
     * another Redis is another Redis */
    for (i = 0; i < t->n_addrs; i++) {
        h = lbs_fnv1a_n(h, t->addrs[i], ngx_strlen(t->addrs[i]) + 1);
    }

    return h ? h : 1;
}


/*
 * lbsched_fleet redis://...: the address, the password file (relative to
 * the conf dir) and the loopback policy are checked here; Redis itself is
 * only tried: one that is down now is waited for, not a config error.
 */
static ngx_int_t
ngx_http_upstream_lbsched_redis_conf(ngx_conf_t *cf,
    ngx_http_upstream_lbsched_srv_conf_t *lcf)
{
    ngx_str_t    path;
    char         err[2048], *url;
    rc_conn     *c;
    redisReply  *reply;

    lcf->redis = ngx_pcalloc(cf->pool, sizeof(rc_target));
    url = ngx_http_upstream_lbsched_strz(cf, &lcf->fleet_file);
    if (lcf->redis == NULL || url == NULL) {
        return NGX_ERROR;
    }

    /* A name is looked up here, as nginx looks up its upstream servers'
     * names: process 0 waits for Redis in its event loop, and a connect
     * that asked a resolver which was down waited for seconds, past the
     * 200 ms below (getaddrinfo has no timeout). */
    if (rc_parse(url, lcf->redis, err, sizeof(err)) != 0
        || rc_resolve(lcf->redis, err, sizeof(err)) != 0)
    {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "lbsched: upstream \"%V\" in %s:%ui: %s",
                      &lcf->name, lcf->file_name, lcf->line, err);
        return NGX_ERROR;
    }

    lcf->live_target = ngx_http_upstream_lbsched_target_key(lcf->redis);

    if (lcf->redis_password_file.len) {
        path = lcf->redis_password_file;
        if (ngx_conf_full_name(cf->cycle, &path, 1) != NGX_OK
            || (lcf->redis->password_file
                    = ngx_http_upstream_lbsched_strz(cf, &path)) == NULL)
        {
            return NGX_ERROR;
        }
    }

    lcf->redis->insecure = (lcf->redis_insecure == 1);
    lcf->redis->timeout_ms = 200; /* process 0's event loop waits for it */
    /* and for a whole round, AUTH included: each 64 KiB within 200 ms,
     * kept up without end, held it for ever */
    lcf->redis->deadline_ms = FLEET_REDIS_READ_TIMEOUTS * 200;
    lcf->redis->deadline_what = "a round of reading the live fleet";

    /* A Redis that does not answer yet is a warning (it may start after
     * nginx), but the password file is here to read now: a problem with
     * it is one every worker would meet.  The worker user reads it again
     * in the trial. */
    if (lcf->redis->password_file) {
        rc_secret  secret;

        if (rc_secret_read(lcf->redis->password_file, lcf->redis->user,
                           &secret, err, sizeof(err)) != 0)
        {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "lbsched: upstream \"%V\" in %s:%ui: "
                          "lbsched_redis_password_file: %s", &lcf->name,
                          lcf->file_name, lcf->line, err);
            return NGX_ERROR;
        }

        rc_secret_clear(&secret);
    }

    c = rc_open(lcf->redis, err, sizeof(err));
    if (c == NULL) {
        if (!lcf->redis->password_file && !lcf->redis->insecure
            && !rc_is_loopback(lcf->redis->host))
        {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "lbsched: upstream \"%V\" in %s:%ui: %s",
                          &lcf->name, lcf->file_name, lcf->line, err);
            return NGX_ERROR;
        }

        ngx_log_error(NGX_LOG_WARN, cf->log, 0,
                      "lbsched: upstream \"%V\": %s; no server is a "
                      "candidate until it answers", &lcf->name, err);

    } else {
        /* a Redis that wants a password and was given none takes the
         * connection and refuses each command: say so once, here */
        reply = rc_command(c, err, sizeof(err), "PING");
        if (reply == NULL) {
            ngx_log_error(NGX_LOG_WARN, cf->log, 0,
                          "lbsched: upstream \"%V\": %s; no server is a "
                          "candidate until Redis takes this connection's "
                          "commands", &lcf->name, err);

        } else {
            /* the reads ask each field's size first: a user whose ACL
             * predates that (or a Redis before 3.2) is said here, at
             * nginx -t, not only once every server has gone */
            freeReplyObject(reply);
            reply = rc_command(c, err, sizeof(err), "HSTRLEN %sfleet: record",
                               fleet_redis_prefix(lcf->redis));
            if (reply == NULL) {
                /* the advice only where it is the cause (not a timeout,
                 * a reset, a Redis still loading) */
                ngx_log_error(NGX_LOG_WARN, cf->log, 0,
                              "lbsched: upstream \"%V\": %s%s", &lcf->name, err,
                              ngx_strstr(err, "NOPERM")
                              || ngx_strstr(err, "ERR unknown command")
                              ? "; " FLEET_REDIS_READER_NEEDS ": no server is a "
                                "candidate until it has them" : "");

            } else {
                lcf->redis_answers = 1;
            }
        }

        freeReplyObject(reply);
    }

    rc_close(c);

    return NGX_OK;
}


/*
 * A Redis that answers and holds no key of any server, at nginx -t: a
 * prefix or the agents' --id mistyped.  Only a warning, as the agents may
 * not have started; the workers say it again (none_live) while it lasts.
 *
 * The HSTRLENs go LBS_KEYS_BATCH a round trip, up to the first key with a
 * record: one round trip a server took 4 s for 4,096 servers on a Redis
 * 1 ms away, at every start, -t and reload, and then the deadline cut it
 * and nothing was said.  Cut short all the same (the deadline, a reset),
 * the check says in one notice that it could not finish.
 */
#define LBS_KEYS_BATCH 1000

static void
ngx_http_upstream_lbsched_redis_keys(ngx_conf_t *cf,
    ngx_http_upstream_lbsched_srv_conf_t *lcf)
{
    const char  *prefix, *argv[3];
    char         err[2048], first[512], (*keys)[512];
    ngx_uint_t   i, j, n, k, sent, found;
    rc_conn     *c;
    redisReply  *reply;

    keys = ngx_alloc(LBS_KEYS_BATCH * sizeof(*keys), cf->log);
    if (keys == NULL) {
        return;
    }

    c = rc_open(lcf->redis, err, sizeof(err));
    if (c == NULL) {
        ngx_free(keys);
        return;     /* redis_conf said what it found */
    }

    /* one 200 ms per key would be 40 s for 200 servers on a slow Redis */
    rc_deadline(c, FLEET_REDIS_READ_TIMEOUTS * rc_timeout_ms(c),
                "looking for the servers' keys");

    prefix = fleet_redis_prefix(lcf->redis);
    found = 0;
    n = 0;
    first[0] = '\0';
    i = 0;

    while (i < lcf->npeers && !found) {

        /* a batch: HSTRLEN, which the reading user has
         * (FLEET_REDIS_READER_NEEDS) */
        for (k = 0; i < lcf->npeers && k < LBS_KEYS_BATCH; i++) {
            if (lcf->first[i] != i
                || fleet_redis_key(prefix, lcf->ids[i], keys[k],
                                   sizeof(keys[k])) != 0)
            {
                continue;
            }

            if (n++ == 0) {
                ngx_cpystrn((u_char *) first, (u_char *) keys[k],
                            sizeof(first));
            }

            argv[0] = "HSTRLEN";
            argv[1] = keys[k];
            argv[2] = "record";
            if (rc_append_argv(c, 3, argv, NULL) < 0) {
                ngx_snprintf((u_char *) err, sizeof(err),
                             "%s: out of memory%Z", rc_where(c));
                goto unfinished;
            }
            k++;
        }

        /* the batch's replies, all read: a few microseconds each */
        sent = k;
        for (j = 0; j < sent; j++) {
            reply = rc_reply_raw(c, err, sizeof(err));
            if (reply == NULL) {
                goto unfinished;
            }

            /* an error for a key (WRONGTYPE: something is there; NOPERM:
             * a key the ACL keeps from the user) makes no claim */
            found |= (reply->type == REDIS_REPLY_ERROR
                      || (reply->type == REDIS_REPLY_INTEGER
                          && reply->integer > 0));
            freeReplyObject(reply);
        }
    }

    if (!found && n) {
        ngx_log_error(NGX_LOG_WARN, cf->log, 0,
                      "lbsched: upstream \"%V\" in %s:%ui: none of its %ui "
                      "servers has a record under '%s' + '" FLEET_REDIS_SPACE
                      "' + its address in %s, e.g. key '%s'; none is a "
                      "candidate until its agent writes it (is the prefix, "
                      "or the agents' --id, right?)", &lcf->name,
                      lcf->file_name, lcf->line, n, prefix, rc_where(c), first);
    }

    rc_close(c);
    ngx_free(keys);
    return;

unfinished:

    /* unknown: no claim made, but not in silence */
    ngx_log_error(NGX_LOG_NOTICE, cf->log, 0,
                  "lbsched: upstream \"%V\" in %s:%ui: could not finish "
                  "looking for its servers' records in Redis (%s): whether "
                  "any has one is not checked", &lcf->name, lcf->file_name,
                  lcf->line, err);

    rc_close(c);
    ngx_free(keys);
}


/* By address, then by place in lcf->ids: the first of an address first. */
static int
ngx_http_upstream_lbsched_by_id(const void *a, const void *b)
{
    char *const  *x = *(char *const *const *) a;
    char *const  *y = *(char *const *const *) b;
    int           rc;

    rc = ngx_strcmp(*x, *y);
    if (rc != 0) {
        return rc;
    }

    return (x > y) - (x < y);
}


/* The first peer whose address is id, or LBS_NGX_NO_PEER: a search of
 * by_id, as a live fleet of thousands is matched every round. */
static ngx_uint_t
ngx_http_upstream_lbsched_peer_of(ngx_http_upstream_lbsched_srv_conf_t *lcf,
    const char *id)
{
    ngx_uint_t  lo = 0, hi = lcf->npeers, mid;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        if (ngx_strcmp(*lcf->by_id[mid], id) < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }

    if (lo == lcf->npeers || ngx_strcmp(*lcf->by_id[lo], id) != 0) {
        return LBS_NGX_NO_PEER;
    }

    return lcf->by_id[lo] - lcf->ids;
}


/*
 * A worker is its address: of two servers alike the second is never the
 * one a decision names (nginx's way of weighting a server), so say so,
 * once per address.  The peers of one address are chained (first, twin):
 * they share one worker, whose work in flight is theirs together, and the
 * status shows it once.
 */
static ngx_int_t
ngx_http_upstream_lbsched_twice(ngx_conf_t *cf,
    ngx_http_upstream_lbsched_srv_conf_t *lcf)
{
    char       ***by;
    ngx_uint_t    k, i, prev;

    /* kept: the live fleet finds its servers by id every round */
    by = ngx_palloc(cf->pool, (lcf->npeers + 1) * sizeof(char **));
    lcf->first = ngx_palloc(cf->pool, (lcf->npeers + 1) * sizeof(ngx_uint_t));
    lcf->twin = ngx_palloc(cf->pool, (lcf->npeers + 1) * sizeof(ngx_uint_t));
    if (by == NULL || lcf->first == NULL || lcf->twin == NULL) {
        return NGX_ERROR;
    }

    for (k = 0; k < lcf->npeers; k++) {
        by[k] = &lcf->ids[k];
        lcf->first[k] = k;
        lcf->twin[k] = LBS_NGX_NO_PEER;
    }

    ngx_qsort(by, lcf->npeers, sizeof(char **),
              ngx_http_upstream_lbsched_by_id);
    lcf->by_id = by;

    for (k = 1; k < lcf->npeers; k++) {
        if (ngx_strcmp(*by[k - 1], *by[k]) != 0) {
            continue;
        }

        prev = by[k - 1] - lcf->ids;
        i = by[k] - lcf->ids;

        if (lcf->first[prev] == prev) {
            ngx_log_error(NGX_LOG_WARN, cf->log, 0,
                          "lbsched: upstream \"%V\" in %s:%ui: server %s is "
                          "listed more than once; lbsched knows a worker once, "
                          "by its address, offered once, and chooses it by its "
                          "first line that is not down (list it once: weight= "
                          "has no effect, the scheduler decides)", &lcf->name, lcf->file_name,
                          lcf->line, lcf->ids[i]);
        }

        lcf->first[i] = lcf->first[prev];
        lcf->twin[prev] = i;
    }

    return NGX_OK;
}


/*
 * Every upstream's init_upstream has run (the upstream module's
 * init_main_conf comes before any postconfiguration): one with lbsched's
 * directives whose init did not run had another method set after them,
 * which nginx only warns of, and its requirements would be dropped.
 */
static ngx_int_t
ngx_http_upstream_lbsched_postconf(ngx_conf_t *cf)
{
    ngx_http_upstream_main_conf_t          *umcf;
    ngx_http_upstream_srv_conf_t          **uscfp;
    ngx_http_upstream_lbsched_srv_conf_t   *lcf;
    ngx_uint_t                              i;

    umcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_upstream_module);
    uscfp = umcf->upstreams.elts;

    for (i = 0; i < umcf->upstreams.nelts; i++) {
        if (uscfp[i]->srv_conf == NULL) {
            continue;   /* an implicit upstream (proxy_pass to a host) */
        }

        lcf = ngx_http_conf_upstream_srv_conf(uscfp[i],
                                              ngx_http_upstream_lbsched_module);

        if (lcf->enabled && !lcf->initialized) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "lbsched: upstream \"%V\" in %s:%ui: another "
                          "balancing method comes after lbsched's directives "
                          "and replaced lbsched, dropping its requirements; "
                          "keep one of them", &uscfp[i]->host,
                          lcf->file_name, lcf->line);
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_upstream_init_lbsched(ngx_conf_t *cf,
    ngx_http_upstream_srv_conf_t *us)
{
    ngx_http_upstream_lbsched_srv_conf_t  *lcf;
    ngx_http_upstream_rr_peers_t          *peers;
    ngx_http_upstream_rr_peer_t           *peer;
    ngx_http_compile_complex_value_t       ccv;
    ngx_pool_cleanup_t                    *cln;
    ngx_str_t                              path, dflt;
    ngx_uint_t                             i, j, of_config, line;
    lbs_worker                           **fleet = NULL;
    uint32_t                               nfleet = 0;
    conv_ctx                               cc;
    ngx_http_upstream_lbsched_warn_t       warn;
    char                                   err[2048];
    char                                  *fleet_text, *z;
    u_char                                *matched, *file;
    size_t                                 len;

    lcf = ngx_http_conf_upstream_srv_conf(us,
                                          ngx_http_upstream_lbsched_module);
    lcf->initialized = 1;

    if (ngx_http_upstream_init_round_robin(cf, us) != NGX_OK) {
        return NGX_ERROR;
    }

    us->peer.init = ngx_http_upstream_init_lbsched_peer;

    /* `nginx -s` reads the config for its pid file and sends a signal:
     * reading the fleet, config and password files and making a trial
     * there was for nothing, and one of them gone since the start (a
     * package being upgraded) failed `nginx -s quit`.  `nginx -t -s` tests
     * the config and signals nothing: it makes its trial. */
    if (ngx_process == NGX_PROCESS_SIGNALLER && !ngx_test_config) {
        return NGX_OK;
    }

    peers = us->peer.data;

    if (peers->next) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "lbsched: upstream \"%V\" in %s:%ui: backup servers "
                      "are not supported", &lcf->name, lcf->file_name,
                      lcf->line);
        return NGX_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }
    cln->handler = ngx_http_upstream_lbsched_cleanup;
    cln->data = lcf;

    /* request mapping defaults */
    for (i = 0; i < RQ_COUNT; i++) {
        if (lcf->map[i]) {
            continue;
        }

        lcf->map[i] = ngx_palloc(cf->pool, sizeof(ngx_http_complex_value_t));
        if (lcf->map[i] == NULL) {
            return NGX_ERROR;
        }

        dflt.data = (u_char *) lbs_map_default[i];
        dflt.len = ngx_strlen(lbs_map_default[i]);

        ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));
        ccv.cf = cf;
        ccv.value = &dflt;
        ccv.complex_value = lcf->map[i];

        if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    /* plugin and scheduler */
    if (lcf->plugin.len) {
        path = lcf->plugin;
        if (ngx_conf_full_name(cf->cycle, &path, 0) != NGX_OK) {
            return NGX_ERROR;
        }
        lcf->plugin_z = ngx_http_upstream_lbsched_strz(cf, &path);

    } else {
        lcf->plugin_z = (char *) LBS_INSTALLED_PLUGIN;
    }

    if (lcf->scheduler.len) {
        lcf->scheduler_z = ngx_http_upstream_lbsched_strz(cf, &lcf->scheduler);

    } else {
        lcf->scheduler_z = (char *) "hardware-aware";
    }

    if (lcf->plugin_z == NULL || lcf->scheduler_z == NULL) {
        return NGX_ERROR;
    }

    /* the scheduler's JSON config */
    if (lcf->config.len && lcf->config_file.len) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "lbsched: upstream \"%V\" in %s:%ui: lbsched_config and "
                      "lbsched_config_file are exclusive",
                      &lcf->name, lcf->config_conf_file, lcf->config_conf_line);
        return NGX_ERROR;
    }

    if (lcf->config.len) {
        lcf->config_text = malloc(lcf->config.len + 1);
        if (lcf->config_text == NULL) {
            return NGX_ERROR;
        }
        memcpy(lcf->config_text, lcf->config.data, lcf->config.len);
        lcf->config_text[lcf->config.len] = '\0';
        lcf->config_len = lcf->config.len;

    } else if (lcf->config_file.len) {
        path = lcf->config_file;
        if (ngx_conf_full_name(cf->cycle, &path, 1) != NGX_OK
            || (z = ngx_http_upstream_lbsched_strz(cf, &path)) == NULL)
        {
            return NGX_ERROR;
        }

        lcf->config_text = file_read_config(z, &lcf->config_len, err,
                                            sizeof(err));
        if (lcf->config_text == NULL) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "lbsched: upstream \"%V\" in %s:%ui: "
                          "lbsched_config_file %s", &lcf->name,
                          lcf->config_conf_file, lcf->config_conf_line, err);
            return NGX_ERROR;
        }
    }

    /* the store, for the status handler's "learned" export */
    if (lcf->config_text
        && ngx_http_upstream_lbsched_store_path(cf, lcf) != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* the fleet: one worker per server, matched by address */
    lcf->arena = arena_new();
    if (lcf->arena == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(&cc, sizeof(conv_ctx));
    cc.arena = lcf->arena;
    warn.log = cf->log;
    warn.lcf = lcf;
    cc.warn = ngx_http_upstream_lbsched_conv_warn;
    cc.warn_ctx = &warn;
    cc.err = err;
    cc.errlen = sizeof(err);

    /* the shim's test, so that REDIS:// or a bare redis:// is an address
     * (rc_parse names what is wrong with it), not a file; nginx ends every
     * directive's argument with a NUL */
    if (lcf->fleet_file.len
        && fleet_source_is_redis((const char *) lcf->fleet_file.data))
    {
        if (ngx_http_upstream_lbsched_redis_conf(cf, lcf) != NGX_OK) {
            return NGX_ERROR;
        }

    } else if (lcf->redis_password_file.len || lcf->redis_insecure == 1) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "lbsched: upstream \"%V\" in %s:%ui: "
                      "lbsched_redis_password_file "
                      "and lbsched_redis_insecure go with "
                      "\"lbsched_fleet redis://...\"",
                      &lcf->name, lcf->file_name, lcf->line);
        return NGX_ERROR;

    } else if (lcf->fleet_file.len) {
        /* errors at the lbsched_fleet line, as its warnings are */
        path = lcf->fleet_file;
        if (ngx_conf_full_name(cf->cycle, &path, 1) != NGX_OK
            || (z = ngx_http_upstream_lbsched_strz(cf, &path)) == NULL)
        {
            return NGX_ERROR;
        }

        fleet_text = file_read(z, &len, err, sizeof(err));
        if (fleet_text == NULL) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "lbsched: upstream \"%V\" in %s:%ui: "
                          "lbsched_fleet %s", &lcf->name, lcf->fleet_conf_file,
                          lcf->fleet_conf_line, err);
            return NGX_ERROR;
        }

        if (conv_fleet(&cc, fleet_text, len, z, &fleet, &nfleet) != 0) {
            free(fleet_text);
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "lbsched: upstream \"%V\" in %s:%ui: "
                          "lbsched_fleet %s", &lcf->name, lcf->fleet_conf_file,
                          lcf->fleet_conf_line, err);
            return NGX_ERROR;
        }

        free(fleet_text);
    }

    lcf->npeers = peers->number;
    lcf->workers = ngx_pcalloc(cf->pool, peers->number * sizeof(lbs_worker *));
    lcf->ids = ngx_pcalloc(cf->pool, peers->number * sizeof(char *));
    lcf->decisions = ngx_pcalloc(cf->pool, peers->number * sizeof(ngx_uint_t));
    lcf->peer_at = ngx_pcalloc(cf->pool, peers->number * sizeof(void *));
    lcf->cand = ngx_pcalloc(cf->pool, peers->number * sizeof(void *));
    lcf->cand_idx = ngx_pcalloc(cf->pool, peers->number * sizeof(ngx_uint_t));
    lcf->suspect = ngx_pcalloc(cf->pool, peers->number * sizeof(ngx_uint_t));
    lcf->key_said = ngx_pcalloc(cf->pool, peers->number * sizeof(uint64_t));
    lcf->key_now = ngx_pcalloc(cf->pool, peers->number * sizeof(uint64_t));
    matched = ngx_pcalloc(cf->temp_pool, (nfleet + 1) * sizeof(u_char));
    if (lcf->workers == NULL || lcf->ids == NULL || lcf->decisions == NULL
        || lcf->peer_at == NULL || lcf->cand == NULL || lcf->cand_idx == NULL
        || lcf->suspect == NULL || lcf->key_said == NULL
        || lcf->key_now == NULL || matched == NULL)
    {
        return NGX_ERROR;
    }

    for (peer = peers->peer, i = 0; peer; peer = peer->next, i++) {
        lcf->ids[i] = ngx_http_upstream_lbsched_strz(cf, &peer->name);
        if (lcf->ids[i] == NULL) {
            return NGX_ERROR;
        }
    }

    if (ngx_http_upstream_lbsched_twice(cf, lcf) != NGX_OK) {
        return NGX_ERROR;
    }

    if (lcf->redis_answers) {
        ngx_http_upstream_lbsched_redis_keys(cf, lcf);
    }

    /* nginx takes weight= and round-robin would weigh by it, but every
     * choice is the scheduler's: said once, with where weights come from */
    for (peer = peers->peer; peer; peer = peer->next) {
        if (peer->weight != 1) {
            ngx_log_error(NGX_LOG_WARN, cf->log, 0,
                          "lbsched: upstream \"%V\" in %s:%ui: server %V "
                          "has weight=%i, which has no effect: the scheduler "
                          "decides (weighted-round-robin weighs a worker by "
                          "its fleet record's capacity, or by lbsched_config "
                          "'{\"weights\": {\"%V\": %i}}')", &lcf->name,
                          lcf->file_name, lcf->line, &peer->name, peer->weight,
                          &peer->name, peer->weight);
            break;
        }
    }

    for (peer = peers->peer, i = 0; peer; peer = peer->next, i++) {

        if (lcf->redis) {
            continue;   /* not live until its agent's record is read */
        }

        if (lcf->first[i] != i) {
            /* the redis:// fleet's way too (live_use) */
            lcf->workers[i] = lcf->workers[lcf->first[i]];
            continue;
        }

        for (j = 0; j < nfleet; j++) {
            if (ngx_strlen(fleet[j]->id) == peer->name.len
                && ngx_strncmp(fleet[j]->id, peer->name.data,
                               peer->name.len) == 0)
            {
                lcf->workers[i] = fleet[j];
                matched[j] = 1;
                break;
            }
        }

        if (lcf->workers[i] == NULL) {
            if (nfleet) {
                ngx_log_error(NGX_LOG_WARN, cf->log, 0,
                              "lbsched: upstream \"%V\": server %V is not "
                              "in the fleet file %V (no worker_id \"%V\"); it "
                              "is a plain CPU worker", &lcf->name,
                              &peer->name, &path, &peer->name);
            }

            lcf->workers[i] = ngx_http_upstream_lbsched_plain_worker(cf, &cc,
                                                                 &peer->name);
            if (lcf->workers[i] == NULL) {
                ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                              "lbsched: upstream \"%V\" in %s:%ui: %s",
                              &lcf->name, lcf->file_name, lcf->line, err);
                return NGX_ERROR;
            }
        }
    }

    /* a worker_id nginx never sees is a typo or a stale fleet file: that
     * machine's capabilities describe nothing */
    for (j = 0; j < nfleet; j++) {
        if (!matched[j]) {
            ngx_log_error(NGX_LOG_WARN, cf->log, 0,
                          "lbsched: upstream \"%V\": fleet worker_id \"%s\" "
                          "in %V matches no server (a server matches by its "
                          "address, e.g. \"%V\")", &lcf->name,
                          txt_show(err, sizeof(err), fleet[j]->id), &path,
                          &peers->peer->name);
        }
    }

    if (ngx_http_upstream_lbsched_add_zone(cf, lcf) != NGX_OK) {
        return NGX_ERROR;
    }

    /* load the plugin (in the master) and try the config once */
    lcf->host = host_new("nginx", LBS_LOG_DEBUG);
    if (lcf->host == NULL) {
        return NGX_ERROR;
    }
    host_set_log(lcf->host, ngx_http_upstream_lbsched_log, NULL);

    if (ngx_http_upstream_lbsched_trial(cf, lcf, err, sizeof(err), &of_config)
        != NGX_OK)
    {
        file = lcf->file_name;
        line = lcf->line;

        if (of_config && lcf->config_conf_file) {
            file = lcf->config_conf_file;
            line = lcf->config_conf_line;
        }

        /* the plugin knows the field, not the file that held it */
        if (lcf->config_file.len && of_config) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "lbsched: upstream \"%V\" in %s:%ui: "
                          "lbsched_config_file %V: %s",
                          &lcf->name, file, line, &lcf->config_file,
                          err[0] ? err : "the scheduler cannot be created");
            return NGX_ERROR;
        }

        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "lbsched: upstream \"%V\" in %s:%ui: %s",
                      &lcf->name, file, line,
                      err[0] ? err : "the scheduler cannot be created");
        return NGX_ERROR;
    }

    return NGX_OK;
}



/* ===== the live fleet (lbsched_fleet redis://) =========================== */

/*
 * What went wrong, said once: the same problems every 500 ms would flood
 * the log.  A refused key is said when it is first refused, or refused for
 * another reason, each key on its own line, however many there are; its
 * figures alone changing (a field's size, a byte offset) is no news.  A
 * problem of the whole fleet (Redis down) is said when its line changes.
 */
typedef struct {
    ngx_http_upstream_lbsched_srv_conf_t  *lcf;
    ngx_log_t                             *log;
    ngx_uint_t                             refused;   /* keys this round */
} ngx_http_upstream_lbsched_round_t;


/* The line without its digits, hashed: the reason, not the figures (the
 * key's own digits are the same every time).  Never 0, which is "none". */
static uint64_t
ngx_http_upstream_lbsched_reason(const char *line)
{
    uint64_t  h = LBS_FNV_OFFSET;

    for (; *line; line++) {
        if (*line < '0' || *line > '9') {
            h = lbs_fnv1a_n(h, line, 1);
        }
    }

    return h ? h : 1;
}


static void
ngx_http_upstream_lbsched_live_refused(void *ctx, const char *id,
    const char *line)
{
    ngx_http_upstream_lbsched_round_t     *round = ctx;
    ngx_http_upstream_lbsched_srv_conf_t  *lcf = round->lcf;
    ngx_uint_t                             i;
    uint64_t                               h;

    round->refused++;

    i = ngx_http_upstream_lbsched_peer_of(lcf, id);
    h = ngx_http_upstream_lbsched_reason(line);

    /* a key of no server cannot be, as only theirs are read: said */
    if (i != LBS_NGX_NO_PEER) {
        lcf->key_now[i] = h;
        if (lcf->key_said[i] == h) {
            return;
        }
    }

    ngx_log_error(NGX_LOG_WARN, round->log, 0, "lbsched: upstream \"%V\": %s",
                  &lcf->name, line);
}


/* Into the zone, when it differs from what is there. */
static void
ngx_http_upstream_lbsched_live_put(ngx_http_upstream_lbsched_srv_conf_t *lcf,
    const char *text, size_t len, ngx_uint_t n_live)
{
    ngx_http_upstream_lbsched_live_t  *live;
    ngx_slab_pool_t                   *shpool;

    live = ngx_http_upstream_lbsched_live(lcf);
    shpool = (ngx_slab_pool_t *) lcf->shm_zone->shm.addr;

    ngx_shmtx_lock(&shpool->mutex);

    if (live->len != len || ngx_memcmp(live->text, text, len) != 0) {
        ngx_memcpy(live->text, text, len);
        live->len = len;
        live->n_live = n_live;
        live->gen++;
    }

    live->ok = ngx_time();
    live->target = lcf->live_target;

    ngx_shmtx_unlock(&shpool->mutex);
}


/* The wall clock in ms: the one clock that every process reads alike. */
static uint64_t
ngx_http_upstream_lbsched_wall_ms(void)
{
    ngx_time_t  *tp;

    tp = ngx_timeofday();

    return (uint64_t) tp->sec * 1000 + tp->msec;
}


/* Process 0, after a read: its backing off into the zone, for the next
 * process 0 (after a reload) to go on with. */
static void
ngx_http_upstream_lbsched_backoff_put(ngx_http_upstream_lbsched_srv_conf_t *lcf)
{
    ngx_http_upstream_lbsched_live_t  *live;
    ngx_slab_pool_t                   *shpool;

    live = ngx_http_upstream_lbsched_live(lcf);
    shpool = (ngx_slab_pool_t *) lcf->shm_zone->shm.addr;

    ngx_shmtx_lock(&shpool->mutex);

    if (lcf->live_wait == LBS_LIVE_FETCH_MS) {
        live->wait = 0;

    } else {
        live->wait = lcf->live_wait;
        live->failed_ms = ngx_http_upstream_lbsched_wall_ms();
    }

    live->target = lcf->live_target;

    ngx_shmtx_unlock(&shpool->mutex);
}


/* A new process: the backing off where the last process 0 left it, the
 * next read when the last failed one's wait ends (at once after a good
 * one). */
static void
ngx_http_upstream_lbsched_backoff_get(ngx_http_upstream_lbsched_srv_conf_t *lcf)
{
    ngx_http_upstream_lbsched_live_t  *live;
    ngx_slab_pool_t                   *shpool;
    uint64_t                           now, end;

    live = ngx_http_upstream_lbsched_live(lcf);
    shpool = (ngx_slab_pool_t *) lcf->shm_zone->shm.addr;

    lcf->live_next = ngx_current_msec;
    lcf->live_wait = LBS_LIVE_FETCH_MS;

    ngx_shmtx_lock(&shpool->mutex);

    /* another Redis's failures say nothing of this one */
    if (live->target == lcf->live_target
        && live->wait > LBS_LIVE_FETCH_MS && live->wait <= LBS_LIVE_BACKOFF_MS)
    {
        lcf->live_wait = live->wait;

        now = ngx_http_upstream_lbsched_wall_ms();
        end = live->failed_ms + live->wait;

        /* a clock set back: no more than one whole wait */
        if (end > now) {
            lcf->live_next += (ngx_msec_t) ngx_min(end - now, live->wait);
        }
    }

    ngx_shmtx_unlock(&shpool->mutex);
}


/* Past LBS_LIVE_STALE_S without a good read, nothing is live: a worker
 * not heard of is never taken for an idle one. */
static void
ngx_http_upstream_lbsched_live_expire(ngx_http_upstream_lbsched_srv_conf_t *lcf)
{
    ngx_http_upstream_lbsched_live_t  *live;
    ngx_slab_pool_t                   *shpool;

    live = ngx_http_upstream_lbsched_live(lcf);
    shpool = (ngx_slab_pool_t *) lcf->shm_zone->shm.addr;

    ngx_shmtx_lock(&shpool->mutex);

    /* another Redis's fleet was never read from this one */
    if (live->len
        && (live->target != lcf->live_target
            || ngx_time() - live->ok > LBS_LIVE_STALE_S))
    {
        live->len = 0;
        live->n_live = 0;
        live->gen++;
    }

    ngx_shmtx_unlock(&shpool->mutex);
}


/* Redis answered and no server has a live record: which keys were read. */
static void
ngx_http_upstream_lbsched_none_live(ngx_http_upstream_lbsched_srv_conf_t *lcf,
    ngx_log_t *log, ngx_uint_t refused)
{
    const char  *prefix;
    char         key[512];
    ngx_uint_t   i, n;

    for (i = 0, n = 0; i < lcf->npeers; i++) {
        n += (lcf->first[i] == i);
    }

    prefix = fleet_redis_prefix(lcf->redis);
    if (fleet_redis_key(prefix, lcf->ids[0], key, sizeof(key)) != 0) {
        ngx_cpystrn((u_char *) key, (u_char *) "?", sizeof(key));
    }

    ngx_log_error(NGX_LOG_WARN, log, 0, "lbsched: upstream \"%V\": none of "
                  "its %ui servers has a live record (%ui refused) under '%s' "
                  "+ '" FLEET_REDIS_SPACE "' + its address in %s, e.g. key "
                  "'%s': no server is live", &lcf->name, n, refused, prefix,
                  rc_where(lcf->rconn), key);
}


/* A read that failed for want of the server (redis_conn.c's words for a
 * refused connect, a closed connection, a timeout; a Redis's own replies
 * while it restarts, LOADING and BUSY), not for what it said */
static ngx_uint_t
ngx_http_upstream_lbsched_unreachable(const char *err)
{
    return ngx_strstr(err, ": cannot connect: ") != NULL
           || ngx_strstr(err, "the server closed the connection") != NULL
           || ngx_strstr(err, "timed out") != NULL
           || ngx_strstr(err, ": LOADING ") != NULL
           || ngx_strstr(err, ": BUSY ") != NULL;
}


/* Process 0: the servers' records from Redis into the zone. */
static void
ngx_http_upstream_lbsched_live_fetch(ngx_http_upstream_lbsched_srv_conf_t *lcf,
    ngx_log_t *log)
{
    ngx_http_upstream_lbsched_round_t  round;
    char                              *text = NULL, err[2048];
    size_t                             len = 0;
    uint32_t                           n_live = 0;
    ngx_uint_t                         i, was_down, was_refused, level;

    round.lcf = lcf;
    round.log = log;
    round.refused = 0;
    ngx_memzero(lcf->key_now, lcf->npeers * sizeof(uint64_t));

    was_down = (lcf->live_said[0] != '\0');
    was_refused = 0;
    for (i = 0; i < lcf->npeers; i++) {
        was_refused |= (lcf->key_said[i] != 0);
    }

    if (lcf->rconn == NULL) {
        lcf->rconn = rc_open(lcf->redis, err, sizeof(err));

    } else {
        rc_deadline(lcf->rconn, lcf->redis->deadline_ms, lcf->redis->deadline_what);
    }

    if (lcf->rconn) {
        text = fleet_redis_read(lcf->rconn, fleet_redis_prefix(lcf->redis),
                                (const char *const *) lcf->ids, lcf->npeers,
                                ngx_http_upstream_lbsched_live_refused, &round,
                                &len, &n_live, err, sizeof(err));
        /* kept for the next round, which sets its own */
        rc_deadline(lcf->rconn, 0, NULL);
    }

    /* fleet_redis_read bounds each worker's text to the zone's share of
     * it: a fleet longer is a bug, never a reason to take it */
    if (text != NULL && len > lcf->live_cap) {
        ngx_snprintf((u_char *) err, sizeof(err), "the live fleet is %uz bytes, "
                     "more than the zone's %uz%Z", len, lcf->live_cap);
        free(text);
        text = NULL;
    }

    if (text == NULL) {
        /* a reply half read leaves the connection out of step */
        rc_close(lcf->rconn);
        lcf->rconn = NULL;

        /* One warn an outage: a Redis that goes away first closes the
         * connection, then refuses the next, and that second reason is
         * info.  Any other new reason (a password changed as it came
         * back, a fleet past the zone) is a problem of its own: warn */
        if (ngx_strcmp(err, lcf->live_said) != 0) {
            level = was_down && ngx_http_upstream_lbsched_unreachable(err)
                    && ngx_http_upstream_lbsched_unreachable(lcf->live_said)
                    ? NGX_LOG_INFO : NGX_LOG_WARN;
            ngx_log_error(level, log, 0, "lbsched: upstream \"%V\": %s", &lcf->name,
                          err);
            ngx_cpystrn((u_char *) lcf->live_said, (u_char *) err,
                        sizeof(lcf->live_said));
        }

        /* the keys not reached this round are as they were */
        for (i = 0; i < lcf->npeers; i++) {
            if (lcf->key_now[i]) {
                lcf->key_said[i] = lcf->key_now[i];
            }
        }

        /* what Redis said last holds for a while */
        ngx_http_upstream_lbsched_live_expire(lcf);

        lcf->live_wait = ngx_min(lcf->live_wait * 2, LBS_LIVE_BACKOFF_MS);
        return;
    }

    lcf->live_wait = LBS_LIVE_FETCH_MS;
    ngx_http_upstream_lbsched_live_put(lcf, text, len, n_live);
    free(text);

    lcf->live_said[0] = '\0';
    ngx_memcpy(lcf->key_said, lcf->key_now, lcf->npeers * sizeof(uint64_t));

    /* Redis answers and has nothing for any server: a prefix or an --id
     * mistyped serves nothing but 502, and nginx's own line ("no live
     * upstreams") names neither: said once until a server is live */
    if (n_live == 0 && !lcf->live_none) {
        ngx_http_upstream_lbsched_none_live(lcf, log, round.refused);
    }

    lcf->live_none = (n_live == 0);

    if (was_down || (was_refused && round.refused == 0)) {
        ngx_log_error(NGX_LOG_NOTICE, log, 0, "lbsched: upstream \"%V\": "
                      "the live fleet is read again", &lcf->name);
    }
}


/* Every process: the zone's fleet, converted again when it changed. */
static void
ngx_http_upstream_lbsched_live_use(ngx_http_upstream_lbsched_srv_conf_t *lcf,
    ngx_log_t *log)
{
    ngx_http_upstream_lbsched_live_t  *live;
    ngx_slab_pool_t                   *shpool;
    lbs_worker                       **fleet = NULL, **at, *found;
    const lbs_worker                 **now;
    uint32_t                           nfleet = 0, j, live_now;
    ngx_uint_t                         i, n_live, was, moved;
    ngx_atomic_uint_t                  gen;
    conv_ctx                           cc;
    arena                             *a;
    char                              *text, err[2048];
    size_t                             len;

    live = ngx_http_upstream_lbsched_live(lcf);
    if (live->gen == lcf->live_seen) {
        return;
    }

    shpool = (ngx_slab_pool_t *) lcf->shm_zone->shm.addr;

    ngx_shmtx_lock(&shpool->mutex);
    len = live->len;
    text = malloc(len + 1);
    if (text) {
        ngx_memcpy(text, live->text, len);
        text[len] = '\0';
    }
    gen = live->gen;
    n_live = live->n_live;
    ngx_shmtx_unlock(&shpool->mutex);

    a = arena_new();
    if (text == NULL || a == NULL) {
        free(text);
        arena_free(a);
        return;     /* tried again at the next check */
    }

    /* each record was checked as process 0 read it; this is the same
     * converter over the same text */
    ngx_memzero(&cc, sizeof(conv_ctx));
    cc.arena = a;
    cc.err = err;
    cc.errlen = sizeof(err);

    if (n_live
        && conv_fleet(&cc, text, len, "the live fleet", &fleet, &nfleet) != 0)
    {
        ngx_log_error(NGX_LOG_ERR, log, 0, "lbsched: upstream \"%V\": %s",
                      &lcf->name, err);
        free(text);
        arena_free(a);
        lcf->live_seen = gen;
        return;
    }

    free(text);

    was = moved = live_now = 0;
    now = arena_alloc(a, (lcf->npeers + 1) * sizeof(lbs_worker *));
    at = arena_alloc(a, (lcf->npeers + 1) * sizeof(lbs_worker *));
    if (at == NULL) {
        arena_free(a);
        return;     /* tried again at the next check */
    }

    /* each server's worker, by the first peer of its address: the first
     * record of an id, as the reader reads each key once */
    for (j = 0; j < nfleet; j++) {
        i = ngx_http_upstream_lbsched_peer_of(lcf, fleet[j]->id);
        if (i != LBS_NGX_NO_PEER && at[i] == NULL) {
            at[i] = fleet[j];
        }
    }

    for (i = 0; i < lcf->npeers; i++) {
        found = at[lcf->first[i]];

        moved |= ((lcf->workers[i] != NULL) != (found != NULL));

        if (lcf->first[i] != i) {
            lcf->workers[i] = found;    /* its first line's worker */
            continue;
        }

        was += (lcf->workers[i] != NULL);
        lcf->workers[i] = found;
        if (found) {
            if (now) {
                now[live_now] = found;
            }
            live_now++;
        }
    }

    /* A server joined or left (an agent came, or its record expired):
     * the scheduler may drop what it kept of those gone.  A record that
     * only changed its figures is no news to it. */
    if (moved) {
        ngx_log_error(NGX_LOG_INFO, log, 0, "lbsched: upstream \"%V\": %ui "
                      "live server(s) now, %ui before", &lcf->name,
                      (ngx_uint_t) live_now, was);
        if (lcf->sched && now) {
            (void) sched_workers_changed(lcf->sched,
                                         (const lbs_worker *const *) now,
                                         live_now);
        }
    }

    arena_free(lcf->live_arena);
    lcf->live_arena = a;
    lcf->live_seen = gen;
    lcf->indexed = NULL;    /* cand points into the old arena */
}


static void
ngx_http_upstream_lbsched_live_tick(ngx_event_t *ev)
{
    ngx_http_upstream_lbsched_srv_conf_t  *lcf;

    /* the event is the conf's own (its data is the timers' connection) */
    lcf = (ngx_http_upstream_lbsched_srv_conf_t *)
              ((u_char *) ev - offsetof(ngx_http_upstream_lbsched_srv_conf_t, live_ev));

    if (ngx_exiting || ngx_quit || ngx_terminate) {
        return;
    }

    if (ngx_worker == 0 && (ngx_msec_int_t) (ngx_current_msec - lcf->live_next) >= 0) {
        ngx_http_upstream_lbsched_live_fetch(lcf, ev->log);

        /* the wait counts from the read's end: a slow one took seconds */
        ngx_time_update();
        lcf->live_next = ngx_current_msec + lcf->live_wait;
        ngx_http_upstream_lbsched_backoff_put(lcf);

    } else if (ngx_worker == 0 && lcf->live_wait != LBS_LIVE_FETCH_MS) {
        /* between reads backed off: the fleet still goes on time */
        ngx_http_upstream_lbsched_live_expire(lcf);
    }

    ngx_http_upstream_lbsched_live_use(lcf, ev->log);

    ngx_add_timer(ev, LBS_LIVE_CHECK_MS);
}


/* ===== worker processes ================================================== */

/* Upstream i's lbsched configuration, or NULL when it uses another method. */
static ngx_http_upstream_lbsched_srv_conf_t *
ngx_http_upstream_lbsched_conf_at(ngx_http_upstream_main_conf_t *umcf,
    ngx_uint_t i)
{
    ngx_http_upstream_srv_conf_t          **uscfp = umcf->upstreams.elts;
    ngx_http_upstream_lbsched_srv_conf_t   *lcf;

    if (uscfp[i]->srv_conf == NULL) {
        return NULL;
    }

    lcf = ngx_http_conf_upstream_srv_conf(uscfp[i],
                                          ngx_http_upstream_lbsched_module);

    return (lcf != NULL && lcf->enabled) ? lcf : NULL;
}

/* lbsched's schedulers that draw at random (priority's spread, adaptive's
 * exploration, the sampled selects of hardware-aware and composite). */
static const char *const  ngx_http_upstream_lbsched_draws[] = {
    "hardware-aware", "priority", "composite", "adaptive", NULL
};


static ngx_int_t
ngx_http_upstream_lbsched_draws_at_random(const char *name)
{
    ngx_uint_t  i;

    for (i = 0; ngx_http_upstream_lbsched_draws[i]; i++) {
        if (ngx_strcmp(ngx_http_upstream_lbsched_draws[i], name) == 0) {
            return 1;
        }
    }

    return 0;
}


/*
 * The config with "seed": this process's pid, for lbsched's schedulers that
 * draw, when it names none: every worker process made the same draws in the
 * same order, so requests arriving together in two processes were spread
 * alike.  A composite or adaptive hands its seed to its children that name
 * none.  NULL: the config as it is (malloc'd text otherwise, cJSON_free it).
 */
static char *
ngx_http_upstream_lbsched_seeded(ngx_http_upstream_lbsched_srv_conf_t *lcf)
{
    const lbs_host_api       *api;
    loaded_plugin            *p;
    cJSON                    *cfg;
    char                     *text, err[256];

    /* another plugin's scheduler of that name may refuse the field */
    if (!ngx_http_upstream_lbsched_draws_at_random((char *) lcf->scheduler_z)
        || host_load(lcf->host, lcf->plugin_z, &p, &api, err, sizeof(err))
           != LBS_OK
        || !loader_is_lbsched(p))
    {
        return NULL;
    }

    cfg = lcf->config_len
          ? cJSON_ParseWithLength(lcf->config_text, lcf->config_len)
          : cJSON_CreateObject();

    if (cfg == NULL || !cJSON_IsObject(cfg)
        || cJSON_GetObjectItemCaseSensitive(cfg, "seed") != NULL
        || cJSON_AddNumberToObject(cfg, "seed", (double) ngx_pid) == NULL)
    {
        cJSON_Delete(cfg);
        return NULL;                    /* the plugin says what is wrong */
    }

    text = cJSON_PrintUnformatted(cfg);
    cJSON_Delete(cfg);

    return text;
}


static ngx_int_t
ngx_http_upstream_lbsched_init_process(ngx_cycle_t *cycle)
{
    ngx_http_upstream_main_conf_t         *umcf;
    ngx_http_upstream_lbsched_srv_conf_t  *lcf;
    ngx_uint_t                             i;
    lbs_status                             rc;
    char                                   err[2048], *seeded;

    /* nginx calls this in its cache manager and loader too, which serve no
     * request: no instance there (each read Redis as worker 0, and never
     * closed its store: they end without exit_process) */
    if (ngx_process != NGX_PROCESS_WORKER && ngx_process != NGX_PROCESS_SINGLE) {
        return NGX_OK;
    }

    umcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_upstream_module);
    if (umcf == NULL) {
        return NGX_OK;
    }

    for (i = 0; i < umcf->upstreams.nelts; i++) {
        lcf = ngx_http_upstream_lbsched_conf_at(umcf, i);
        if (lcf == NULL || lcf->host == NULL) {
            continue;
        }

        if (ngx_http_upstream_lbsched_log_ev.handler == NULL) {
            ngx_http_upstream_lbsched_log_ev.handler =
                                            ngx_http_upstream_lbsched_log_tick;
            ngx_http_upstream_lbsched_log_ev.data =
                                        &ngx_http_upstream_lbsched_timer_conn;
            ngx_http_upstream_lbsched_log_ev.log = cycle->log;
            ngx_http_upstream_lbsched_log_ev.cancelable = 1;
            ngx_add_timer(&ngx_http_upstream_lbsched_log_ev,
                          LBS_LOG_DRAIN_MS);
        }

        ngx_http_upstream_lbsched_share(lcf, cycle->log);

        err[0] = '\0';
        seeded = ngx_http_upstream_lbsched_seeded(lcf);
        rc = sched_open(lcf->host, lcf->plugin_z, lcf->scheduler_z,
                        seeded ? seeded : lcf->config_text,
                        seeded ? ngx_strlen(seeded) : lcf->config_len,
                        &lcf->sched, err, sizeof(err));
        cJSON_free(seeded);

        if (rc != LBS_OK) {
            /* `nginx -t` ran the same creation, so something changed
             * since (a directory's permissions): serve by the host's
             * rotation, which keeps every hard requirement */
            lcf->sched = NULL;
            ngx_log_error(NGX_LOG_ALERT, cycle->log, 0,
                          "lbsched: upstream \"%V\": %s; this worker "
                          "process rotates over the servers that meet each "
                          "request's requirements", &lcf->name, err);
        }

        if (lcf->redis) {
            lcf->live_ev.handler = ngx_http_upstream_lbsched_live_tick;
            lcf->live_ev.data = &ngx_http_upstream_lbsched_timer_conn;
            lcf->live_ev.log = cycle->log;
            lcf->live_ev.cancelable = 1;
            /* a reload's process 0 goes on backing off where the last
             * left it */
            ngx_http_upstream_lbsched_backoff_get(lcf);
            ngx_add_timer(&lcf->live_ev, 0);
        }
    }

    return NGX_OK;
}


static void
ngx_http_upstream_lbsched_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_upstream_main_conf_t         *umcf;
    ngx_http_upstream_lbsched_srv_conf_t  *lcf;
    ngx_uint_t                             i;

    umcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_upstream_module);
    if (umcf == NULL) {
        return;
    }

    for (i = 0; i < umcf->upstreams.nelts; i++) {
        lcf = ngx_http_upstream_lbsched_conf_at(umcf, i);
        if (lcf && lcf->sched) {
            /* joins the plugin's threads, flushes its store */
            sched_close(lcf->sched);
            lcf->sched = NULL;
        }

        if (lcf && lcf->redis) {
            rc_close(lcf->rconn);
            lcf->rconn = NULL;
        }
    }

    ngx_http_upstream_lbsched_log_drain(cycle->log);
}


/* ===== per request: untrusted values to a workload ======================= */

/* The mapping itself is reqmap.c's; a value it ignores, or a test type it
 * decides as mixed for want of a workload word, gets a debug line: a
 * warning a client's header can raise would let it flood the error log. */
static void
ngx_http_upstream_lbsched_workload(ngx_http_request_t *r,
    ngx_http_upstream_lbsched_peer_data_t *dp)
{
    rq_value     vals[RQ_COUNT];
    const char  *why[RQ_COUNT];
    ngx_str_t    v;
    ngx_uint_t   i;
    int          ignored;

    for (i = 0; i < RQ_COUNT; i++) {
        if (ngx_http_complex_value(r, dp->conf->map[i], &v) != NGX_OK) {
            v.len = 0;
        }

        vals[i].data = (const char *) v.data;
        vals[i].len = v.len;
    }

    ignored = rq_workload(vals, &dp->text, &dp->wl, why);

    if (conv_type_wordless(dp->wl.test_type, dp->wl.type)) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "lbsched: test type \"%s\" has no workload word in "
                       "it, decided as mixed", dp->wl.test_type);
    }

    if (ignored == 0) {
        return;
    }

    for (i = 0; i < RQ_COUNT; i++) {
        if (why[i]) {
            ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                           "lbsched: %s %s, ignored", rq_field_name[i],
                           why[i]);
        }
    }
}


/* ===== per request: the balancer ========================================= */

/*
 * What every worker process placed on a server and has not finished: the
 * count is the scheduler's active_tests.  The work ahead in nominal seconds
 * is known only when every request in flight there stated its size; one
 * that did not makes it unknown, and the plugin falls back on its own
 * ledger (this process's placements) for the size of a test ahead.
 */
static void
ngx_http_upstream_lbsched_in_flight(ngx_http_upstream_lbsched_srv_conf_t *lcf,
    ngx_uint_t i)
{
    ngx_http_upstream_lbsched_shared_t  *sh = lcf->shm_zone->data;
    lbs_worker                          *w = lcf->workers[i];
    ngx_atomic_uint_t                    n, sized, ms;
    ngx_uint_t                           k;

    n = sized = ms = 0;

    /* a server listed twice is one worker, busy with both lines' work */
    for (k = lcf->first[i]; k != LBS_NGX_NO_PEER; k = lcf->twin[k]) {
        n += sh[k].inflight;
        sized += sh[k].sized;
        ms += sh[k].work_ms;
    }

    /* the three are read apart: another process may be between updates */
    w->active_tests = (uint32_t) ngx_min(n, (ngx_atomic_uint_t) UINT32_MAX);
    w->pending_work_s = (n == 0) ? 0.0
                        : (sized == n) ? (double) ms / 1000.0
                        : LBS_WORK_UNKNOWN;
}


/*
 * The peers by index and the live servers as the scheduler's worker array,
 * with every live server's counts: once per peer set or live fleet, and
 * when this process fell too far behind the change log.  Down servers
 * stay out: nginx 1.22 never changes `down` at run time.
 */
static void
ngx_http_upstream_lbsched_index(ngx_http_upstream_lbsched_srv_conf_t *lcf,
    ngx_http_upstream_rr_peers_t *peers)
{
    ngx_http_upstream_rr_peer_t         *peer;
    ngx_uint_t                           i, k, n;

    /* before the counts: a change after this is read again next time */
    lcf->applied = ngx_http_upstream_lbsched_changes(lcf)->head;

    n = 0;

    for (peer = peers->peer, i = 0; peer; peer = peer->next, i++) {
        lcf->peer_at[i] = peer;

        if (lcf->workers[i] == NULL || peer->down) {
            continue;   /* not live: its agent's record expired or was refused */
        }

        /* a server listed twice is one worker, offered once: by its
         * first line that is not down (two offers were two turns of a
         * rotation, and a scheduler's worker ids are unique) */
        for (k = lcf->first[i]; k != i; k = lcf->twin[k]) {
            if (!lcf->peer_at[k]->down) {
                break;
            }
        }

        if (k != i) {
            continue;
        }

        ngx_http_upstream_lbsched_in_flight(lcf, i);
        lcf->cand[n] = lcf->workers[i];
        lcf->cand_idx[n] = i;
        n++;
    }

    lcf->ncand = n;
    lcf->nsuspect = 0;
    lcf->indexed = peers;
}


/* Server i's counts changed: said to every process through the log. */
static void
ngx_http_upstream_lbsched_changed(ngx_http_upstream_lbsched_srv_conf_t *lcf,
    ngx_uint_t i)
{
    ngx_http_upstream_lbsched_log_t   *log;
    ngx_http_upstream_lbsched_slot_t  *slot;
    ngx_atomic_uint_t                  seq;

    log = ngx_http_upstream_lbsched_changes(lcf);
    seq = ngx_atomic_fetch_add(&log->head, 1);
    slot = &log->slot[seq % LBS_LOG_LEN];

    slot->seq = 0;
    ngx_memory_barrier();
    slot->peer = i;
    ngx_memory_barrier();
    slot->seq = seq + 1;
}


/*
 * Count (d 1) or release (d -1) a request on server i, of ms milliseconds
 * when sized, in the zone and in this process's share.  The count rises
 * before the share and the share falls before the count: a process killed
 * between the two leaves one request counted at most, and its replacement
 * never takes back more than the process had counted.
 */
static void
ngx_http_upstream_lbsched_hold(ngx_http_upstream_lbsched_srv_conf_t *lcf,
    ngx_uint_t i, ngx_flag_t sized, ngx_atomic_uint_t ms, ngx_atomic_int_t d)
{
    ngx_http_upstream_lbsched_shared_t  *sh, *own;

    sh = (ngx_http_upstream_lbsched_shared_t *) lcf->shm_zone->data + i;
    own = lcf->own ? lcf->own + i : NULL;

    if (own && d < 0) {
        own->inflight--;
        own->sized -= sized ? 1 : 0;
        own->work_ms -= sized ? ms : 0;
    }

    (void) ngx_atomic_fetch_add(&sh->inflight, d);
    if (sized) {
        (void) ngx_atomic_fetch_add(&sh->sized, d);
        (void) ngx_atomic_fetch_add(&sh->work_ms, d * (ngx_atomic_int_t) ms);
    }

    if (own && d > 0) {
        own->inflight++;
        own->sized += sized ? 1 : 0;
        own->work_ms += sized ? ms : 0;
    }

    ngx_http_upstream_lbsched_changed(lcf, i);
}


/*
 * Take back the share of every process of upstream lcf's zone that died
 * with requests in flight (see ngx_http_upstream_lbsched_holder_t).  Each
 * entry is zeroed before the counts fall by it: a process killed between
 * the two leaves that entry counted, and never takes it back twice.  A
 * process gone is one kill(2) finds no more (reaped: a zombie waits for
 * the master); a pid the system gave again to another process keeps its
 * share counted, except where that process is this one, starting (its own
 * pid then is a dead one's: it has no share yet).  Never this process's
 * own otherwise: a single process's reload keeps its share of the old
 * cycle, whose requests release into it, while its new cycle has none.
 */
static void
ngx_http_upstream_lbsched_reclaim(ngx_http_upstream_lbsched_srv_conf_t *lcf,
    ngx_log_t *log, ngx_flag_t starting)
{
    ngx_http_upstream_lbsched_shared_t  *sh, *own, e;
    ngx_http_upstream_lbsched_holder_t  *h;
    ngx_atomic_uint_t                    o, n;
    ngx_pid_t                            pid;
    ngx_uint_t                           i, k;

    sh = lcf->shm_zone->data;
    h = ngx_http_upstream_lbsched_shares(lcf)->holder;

    for (i = 0; i < LBS_SHARES; i++, h++) {
        o = h->owner;
        own = h->share;
        pid = (ngx_pid_t) (o & ~LBS_SHARE_TAKING);

        if (o == 0 || own == NULL || own == lcf->own
            || (pid == ngx_pid && !starting)
            || (pid != ngx_pid && (kill(pid, 0) == 0 || ngx_errno != NGX_ESRCH)))
        {
            continue;
        }

        if (!ngx_atomic_cmp_set(&h->owner, o,
                                (ngx_atomic_uint_t) ngx_pid | LBS_SHARE_TAKING))
        {
            continue;
        }

        n = 0;

        for (k = 0; k < lcf->npeers; k++) {
            e = own[k];
            if (e.inflight == 0 && e.sized == 0 && e.work_ms == 0) {
                continue;
            }

            ngx_memzero(&own[k], sizeof(own[k]));
            ngx_memory_barrier();

            n += e.inflight;
            (void) ngx_atomic_fetch_add(&sh[k].inflight,
                                        -(ngx_atomic_int_t) e.inflight);
            (void) ngx_atomic_fetch_add(&sh[k].sized,
                                        -(ngx_atomic_int_t) e.sized);
            (void) ngx_atomic_fetch_add(&sh[k].work_ms,
                                        -(ngx_atomic_int_t) e.work_ms);
            ngx_http_upstream_lbsched_changed(lcf, k);
        }

        (void) ngx_atomic_cmp_set(&h->owner,
                                  (ngx_atomic_uint_t) ngx_pid | LBS_SHARE_TAKING,
                                  0);

        if (n) {
            ngx_log_error(NGX_LOG_NOTICE, log, 0,
                          "lbsched: upstream \"%V\": released %uA requests "
                          "worker process %P left in flight when it died",
                          &lcf->name, n, pid);
        }
    }
}


/*
 * Give this worker process a share of upstream lcf's counts, once the
 * shares of processes that died are taken back: a free one, or one made
 * in the zone's room for LBS_SHARES.
 */
static void
ngx_http_upstream_lbsched_share(ngx_http_upstream_lbsched_srv_conf_t *lcf,
    ngx_log_t *log)
{
    ngx_http_upstream_lbsched_shared_t  *own;
    ngx_http_upstream_lbsched_holder_t  *h;
    ngx_slab_pool_t                     *shpool;
    ngx_uint_t                           i;

    ngx_http_upstream_lbsched_reclaim(lcf, log, 1);

    h = ngx_http_upstream_lbsched_shares(lcf)->holder;
    shpool = (ngx_slab_pool_t *) lcf->shm_zone->shm.addr;
    own = NULL;

    /* the claims of starting processes one at a time; a reclaim frees a
     * holder with a compare-and-set, outside the lock */
    ngx_shmtx_lock(&shpool->mutex);

    for (i = 0; i < LBS_SHARES && own == NULL; i++) {
        if (h[i].share && ngx_atomic_cmp_set(&h[i].owner, 0, ngx_pid)) {
            own = h[i].share;
        }
    }

    for (i = 0; i < LBS_SHARES && own == NULL; i++) {
        if (h[i].share == NULL && h[i].owner == 0) {
            own = ngx_slab_alloc_locked(shpool,
                    lcf->npeers * sizeof(ngx_http_upstream_lbsched_shared_t));
            if (own == NULL) {
                break;
            }
            ngx_memzero(own,
                    lcf->npeers * sizeof(ngx_http_upstream_lbsched_shared_t));
            h[i].owner = ngx_pid;
            ngx_memory_barrier();
            h[i].share = own;
        }
    }

    ngx_shmtx_unlock(&shpool->mutex);

    if (own == NULL) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "lbsched: upstream \"%V\": shared zone \"%V\" has room "
                      "for the work in flight of %d worker processes, and "
                      "this one is past them: should it die in the middle "
                      "of requests, their servers stay counted busy until "
                      "nginx restarts", &lcf->name, &lcf->shm_zone->shm.name,
                      LBS_SHARES);
    }

    lcf->own = own;
}


/* The counts of the servers changed since this process last looked. */
static void
ngx_http_upstream_lbsched_follow(ngx_http_upstream_lbsched_srv_conf_t *lcf)
{
    ngx_http_upstream_lbsched_log_t     *log;
    ngx_http_upstream_lbsched_slot_t    *slot;
    ngx_atomic_uint_t                    head, s, seq, i;

    log = ngx_http_upstream_lbsched_changes(lcf);
    head = log->head;

    if (head - lcf->applied > LBS_LOG_LEN) {
        lcf->indexed = NULL;
        return;
    }

    for (s = lcf->applied; s != head; s++) {
        slot = &log->slot[s % LBS_LOG_LEN];

        seq = slot->seq;
        ngx_memory_barrier();
        i = slot->peer;
        ngx_memory_barrier();

        /* overwritten, or a writer between its stores: read them all */
        if (seq != s + 1 || slot->seq != seq || i >= lcf->npeers) {
            lcf->indexed = NULL;
            return;
        }

        if (lcf->workers[i]) {
            ngx_http_upstream_lbsched_in_flight(lcf, i);
        }
    }

    lcf->applied = head;
}


/* What round-robin would skip, but for this request's own tries. */
static ngx_uint_t
ngx_http_upstream_lbsched_usable(ngx_http_upstream_rr_peer_t *peer, time_t now)
{
    if (peer->down) {
        return 0;
    }

    if (peer->max_fails
        && peer->fails >= peer->max_fails
        && now - peer->checked <= peer->fail_timeout)
    {
        return 0;
    }

    return !(peer->max_conns && peer->conns >= peer->max_conns);
}


/* The scheduler's choice among cand[0..n), as its position in *pos. */
static ngx_int_t
ngx_http_upstream_lbsched_choose(ngx_http_upstream_lbsched_srv_conf_t *lcf,
    ngx_http_upstream_lbsched_peer_data_t *dp, ngx_log_t *log,
    const lbs_worker **cand, ngx_uint_t n, uint32_t *pos)
{
    lbs_selection  sel;
    const char    *sel_id;
    int            fell_back;
    lbs_status     st;

    ngx_memzero(&sel, sizeof(lbs_selection));
    sel.struct_size = sizeof(lbs_selection);
    sel.capacity = 1;
    sel.indices = pos;
    sel.ids = &sel_id;

    if (lcf->sched) {
        /* The plugin runs outside the upstream's lock, which with a zone
         * is every worker's: one that died inside it left the lock held
         * and the others spinning for good, and each select waited for
         * the others'.  It reads this process's copy of the servers
         * (follow); the caller checks the one chosen under the lock. */
        ngx_http_upstream_rr_peers_unlock(dp->rrp.peers);
        st = sched_select(lcf->sched, &dp->wl,
                          (const lbs_worker *const *) cand, (uint32_t) n,
                          &sel, &fell_back);
        ngx_http_upstream_rr_peers_wlock(dp->rrp.peers);

    } else {
        /* this process could not create its scheduler (init_process) */
        fell_back = 0;
        st = sched_rotate(&lcf->cursor, &dp->wl,
                          (const lbs_worker *const *) cand, (uint32_t) n,
                          &sel);
    }

    if (fell_back) {
        lcf->fallbacks++;

        if (sched_said(lcf->fallbacks)) {
            ngx_log_error(NGX_LOG_ERR, log, 0,
                          "lbsched: upstream \"%V\": the scheduler failed; "
                          "round-robin chose instead (%ui time%s in this "
                          "process)", &lcf->name, lcf->fallbacks,
                          lcf->fallbacks == 1 ? "" : "s");
        }
    }

    if (st != LBS_OK || sel.n_selected != 1 || *pos >= n) {
        return NGX_DECLINED;
    }

    dp->cookie = sel.cookie;

    return NGX_OK;
}


static ngx_int_t
ngx_http_upstream_lbsched_no_worker(ngx_http_upstream_lbsched_srv_conf_t *lcf,
    ngx_log_t *log)
{
    lcf->no_worker++;
    ngx_log_error(NGX_LOG_WARN, log, 0,
                  "lbsched: upstream \"%V\": no server meets the request's "
                  "requirements", &lcf->name);

    return NGX_BUSY;
}


/* The outcome of server i's placement, but for what happened to it. */
static void
ngx_http_upstream_lbsched_outcome(ngx_http_upstream_lbsched_srv_conf_t *lcf,
    ngx_http_upstream_lbsched_peer_data_t *dp, ngx_uint_t i, lbs_outcome *o)
{
    ngx_memzero(o, sizeof(lbs_outcome));
    o->struct_size = sizeof(lbs_outcome);
    o->workload_type = dp->wl.type;
    o->test_type = dp->wl.test_type;
    o->worker_id = lcf->ids[i];
    o->cookie = dp->cookie;
    o->expected_duration_s = dp->wl.est_duration_s;
}


/* The placement on server i, found unusable under the lock after the
 * scheduler chose it, never happens: the scheduler hears so (its ledger
 * would hold work that never ran), outside the lock as the select. */
static void
ngx_http_upstream_lbsched_withdraw(ngx_http_upstream_lbsched_srv_conf_t *lcf,
    ngx_http_upstream_lbsched_peer_data_t *dp, ngx_uint_t i)
{
    lbs_outcome  o;

    if (lcf->sched == NULL) {
        return;
    }

    ngx_http_upstream_lbsched_outcome(lcf, dp, i, &o);
    o.result = LBS_RESULT_CANCELLED;
    ngx_http_upstream_rr_peers_unlock(dp->rrp.peers);
    (void) sched_report(lcf->sched, &o);
    ngx_http_upstream_rr_peers_wlock(dp->rrp.peers);
}


/*
 * The usual case, independent of the upstream's size: the scheduler
 * chooses among all live servers, with this request's tries and the
 * servers found unusable lately (while they are) excluded by name, and
 * the one chosen is checked.  NGX_DECLINED when the answer needs the
 * whole upstream filtered (ngx_http_upstream_lbsched_filtered).
 */
static ngx_int_t
ngx_http_upstream_lbsched_direct(ngx_http_upstream_lbsched_srv_conf_t *lcf,
    ngx_http_upstream_lbsched_peer_data_t *dp, ngx_log_t *log, time_t now,
    ngx_uint_t *chosen)
{
    const char   *excl[LBS_EXCLUDE_MAX];
    ngx_uint_t    i, k, n;
    uint32_t      pos;
    ngx_int_t     rc;

    if (lcf->ncand == 0) {
        return NGX_BUSY;
    }

    if (dp->ntried >= LBS_EXCLUDE_MAX) {
        return NGX_DECLINED;
    }

    for (n = 0; n < dp->ntried; n++) {
        excl[n] = lcf->ids[dp->tried[n]];
    }

    for (k = 0; k < lcf->nsuspect; /* void */ ) {
        i = lcf->suspect[k];

        if (ngx_http_upstream_lbsched_usable(lcf->peer_at[i], now)) {
            lcf->suspect[k] = lcf->suspect[--lcf->nsuspect];
            continue;
        }

        if (n == LBS_EXCLUDE_MAX) {
            return NGX_DECLINED;
        }

        excl[n++] = lcf->ids[i];
        k++;
    }

    dp->wl.exclude_ids = n ? excl : NULL;
    dp->wl.n_exclude = (uint32_t) n;

    rc = ngx_http_upstream_lbsched_choose(lcf, dp, log, lcf->cand,
                                          lcf->ncand, &pos);

    dp->wl.exclude_ids = NULL;
    dp->wl.n_exclude = 0;

    if (rc != NGX_OK) {
        /* with servers left out, whether any is a candidate at all is the
         * filtered path's to say */
        return n ? NGX_DECLINED
                 : ngx_http_upstream_lbsched_no_worker(lcf, log);
    }

    i = lcf->cand_idx[pos];

    /* The names leave out a try past the LBS_EXCLUDE_MAX kept, once a
     * stale connection's server was given back (untry) after that many:
     * the bit of every try is kept, and a server tried already is the
     * filtered path's to pass over. */
    if (dp->rrp.tried[i / (8 * sizeof(uintptr_t))]
        & ((uintptr_t) 1 << i % (8 * sizeof(uintptr_t))))
    {
        /* the choice is not taken: its decision is closed, as below */
        ngx_http_upstream_lbsched_withdraw(lcf, dp, i);
        return NGX_DECLINED;
    }

    if (!ngx_http_upstream_lbsched_usable(lcf->peer_at[i], now)) {
        /* left out until usable again */
        ngx_http_upstream_lbsched_withdraw(lcf, dp, i);

        if (lcf->nsuspect < lcf->npeers) {
            lcf->suspect[lcf->nsuspect++] = i;
        }

        return NGX_DECLINED;
    }

    *chosen = i;

    return NGX_OK;
}


/* Whether server i is out of this request's reach: tried, or unusable. */
static ngx_uint_t
ngx_http_upstream_lbsched_spent(ngx_http_upstream_lbsched_srv_conf_t *lcf,
    ngx_http_upstream_lbsched_peer_data_t *dp, ngx_uint_t i, time_t now)
{
    uintptr_t  m;

    m = (uintptr_t) 1 << i % (8 * sizeof(uintptr_t));

    return (dp->rrp.tried[i / (8 * sizeof(uintptr_t))] & m)
           || !ngx_http_upstream_lbsched_usable(lcf->peer_at[i], now);
}


/*
 * Whether a live server this request may not use now, tried or unusable,
 * meets its requirements (at any load).  Then no server left to choose is
 * a spent upstream, nginx's "no live upstreams", and not a request that no
 * server meets: neither no_worker's count nor its warning.
 */
static ngx_uint_t
ngx_http_upstream_lbsched_left_out_fits(
    ngx_http_upstream_lbsched_srv_conf_t *lcf,
    ngx_http_upstream_lbsched_peer_data_t *dp, time_t now)
{
    ngx_uint_t  k;

    for (k = 0; k < lcf->ncand; k++) {
        if (ngx_http_upstream_lbsched_spent(lcf, dp, lcf->cand_idx[k], now)
            && elig_check(&dp->wl, lcf->cand[k], 2.0, NULL) == ELIG_OK)
        {
            return 1;
        }
    }

    return 0;
}


/*
 * Whether a server but the one just chosen (and marked tried) can still
 * take this request: one whose kept-alive connection went stale (tried
 * again when none else is left), or a live one neither tried nor unusable
 * that meets its requirements (at any load, as left_out_fits).  It stops
 * at the first: a request most servers meet looks at one or two.
 */
static ngx_uint_t
ngx_http_upstream_lbsched_another_fits(
    ngx_http_upstream_lbsched_srv_conf_t *lcf,
    ngx_http_upstream_lbsched_peer_data_t *dp, time_t now)
{
    ngx_uint_t  k;

    for (k = 0; k < dp->nstale; k++) {
        if (ngx_http_upstream_lbsched_usable(lcf->peer_at[dp->stale[k]],
                                             now))
        {
            return 1;
        }
    }

    for (k = 0; k < lcf->ncand; k++) {
        if (!ngx_http_upstream_lbsched_spent(lcf, dp, lcf->cand_idx[k], now)
            && elig_check(&dp->wl, lcf->cand[k], 2.0, NULL) == ELIG_OK)
        {
            return 1;
        }
    }

    return 0;
}


/* The live servers this request may use, each checked: as many tries or
 * unusable servers as the direct path cannot leave out by name. */
static ngx_int_t
ngx_http_upstream_lbsched_filtered(ngx_http_upstream_lbsched_srv_conf_t *lcf,
    ngx_http_upstream_lbsched_peer_data_t *dp, ngx_log_t *log, time_t now,
    ngx_uint_t *chosen)
{
    const lbs_worker  **cand;
    ngx_uint_t         *idx, i, k, n;
    uint32_t            pos;

    /* the live fleet may have grown since the last try */
    if (dp->fcap < lcf->ncand) {
        dp->fcand = ngx_palloc(dp->request->pool,
                               lcf->ncand * (sizeof(void *) + sizeof(ngx_uint_t)));
        if (dp->fcand == NULL) {
            dp->fcap = 0;
            return NGX_ERROR;
        }
        dp->fcap = lcf->ncand;
    }

    cand = dp->fcand;
    idx = (ngx_uint_t *) (cand + dp->fcap);

    /* The scheduler chooses outside the lock (choose): a server another
     * worker found failing or full meanwhile is withdrawn and left out of
     * this request, and the choice made again among the rest, until one
     * holds or none is left (each round leaves one more out). */
    for ( ;; ) {
        n = 0;

        for (k = 0; k < lcf->ncand; k++) {
            i = lcf->cand_idx[k];

            if (ngx_http_upstream_lbsched_spent(lcf, dp, i, now)) {
                continue;
            }

            cand[n] = lcf->cand[k];
            idx[n] = i;
            n++;
        }

        if (n == 0) {
            return NGX_BUSY;
        }

        if (ngx_http_upstream_lbsched_choose(lcf, dp, log, cand, n, &pos)
            != NGX_OK)
        {
            return n < lcf->ncand
                   && ngx_http_upstream_lbsched_left_out_fits(lcf, dp, now)
                   ? NGX_BUSY
                   : ngx_http_upstream_lbsched_no_worker(lcf, log);
        }

        if (ngx_http_upstream_lbsched_usable(lcf->peer_at[idx[pos]], now)) {
            *chosen = idx[pos];
            return NGX_OK;
        }

        ngx_http_upstream_lbsched_withdraw(lcf, dp, idx[pos]);

        /* out of this request's reach, as a tried one: a server usable
         * again meanwhile is not chosen and withdrawn round after round */
        i = idx[pos];
        dp->rrp.tried[i / (8 * sizeof(uintptr_t))]
            |= (uintptr_t) 1 << i % (8 * sizeof(uintptr_t));
    }
}


static ngx_int_t
ngx_http_upstream_init_lbsched_peer(ngx_http_request_t *r,
    ngx_http_upstream_srv_conf_t *us)
{
    ngx_http_upstream_lbsched_peer_data_t  *dp;

    dp = ngx_palloc(r->pool, sizeof(ngx_http_upstream_lbsched_peer_data_t));
    if (dp == NULL) {
        return NGX_ERROR;
    }

    r->upstream->peer.data = &dp->rrp;

    if (ngx_http_upstream_init_round_robin_peer(r, us) != NGX_OK) {
        return NGX_ERROR;
    }

    r->upstream->peer.get = ngx_http_upstream_get_lbsched_peer;
    r->upstream->peer.free = ngx_http_upstream_free_lbsched_peer;

    dp->request = r;
    dp->conf = ngx_http_conf_upstream_srv_conf(us,
                                            ngx_http_upstream_lbsched_module);
    dp->chosen = LBS_NGX_NO_PEER;
    dp->held = LBS_NGX_NO_PEER;
    dp->nstale = 0;
    dp->held_ms = 0;
    dp->cookie = 0;
    dp->ntried = 0;
    dp->fcand = NULL;
    dp->fcap = 0;
    dp->body_arriving = 0;

    ngx_http_upstream_lbsched_workload(r, dp);

    return NGX_OK;
}


/* Server i no longer tried by this request. */
static void
ngx_http_upstream_lbsched_untry(ngx_http_upstream_lbsched_peer_data_t *dp,
    ngx_uint_t i)
{
    ngx_uint_t  n;

    dp->rrp.tried[i / (8 * sizeof(uintptr_t))] &=
        ~((uintptr_t) 1 << i % (8 * sizeof(uintptr_t)));

    for (n = 0; n < dp->ntried && n < LBS_EXCLUDE_MAX; n++) {
        if (dp->tried[n] == i) {
            dp->tried[n] = dp->tried[dp->ntried - 1 < LBS_EXCLUDE_MAX
                                     ? dp->ntried - 1 : LBS_EXCLUDE_MAX - 1];
            dp->ntried--;
            return;
        }
    }
}


static ngx_int_t
ngx_http_upstream_get_lbsched_peer(ngx_peer_connection_t *pc, void *data)
{
    ngx_http_upstream_lbsched_peer_data_t  *dp = data;

    ngx_http_upstream_lbsched_srv_conf_t   *lcf = dp->conf;
    ngx_http_upstream_rr_peer_data_t       *rrp = &dp->rrp;
    ngx_http_upstream_rr_peers_t           *peers = rrp->peers;
    ngx_http_upstream_rr_peer_t            *best;
    ngx_uint_t                              i;
    ngx_int_t                               rc;
    uintptr_t                               m;
    time_t                                  now;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, pc->log, 0,
                   "get lbsched peer, try: %ui", pc->tries);

    dp->chosen = LBS_NGX_NO_PEER;

    /* A body still coming from the client as this try starts is sent at
     * the client's pace, and the answer's header waits for it; one that
     * came whole with the headers (a small gRPC message) does not. */
    dp->body_arriving = dp->request->request_body_no_buffering
                        && dp->request->request_body
                        && !dp->request->request_body->last_saved;

    if (peers->number != lcf->npeers) {
        /* not the peer set the fleet was matched to (nginx 1.22 never
         * changes it): no server is known to meet the requirements */
        ngx_log_error(NGX_LOG_ALERT, pc->log, 0,
                      "lbsched: upstream \"%V\": %ui servers, %ui "
                      "configured", &lcf->name, peers->number, lcf->npeers);
        pc->name = peers->name;
        return NGX_BUSY;
    }

    pc->cached = 0;
    pc->connection = NULL;

    now = ngx_time();

    ngx_http_upstream_rr_peers_wlock(peers);

    if (lcf->indexed == peers) {
        ngx_http_upstream_lbsched_follow(lcf);
    }

    if (lcf->indexed != peers) {
        ngx_http_upstream_lbsched_index(lcf, peers);
    }

    rc = ngx_http_upstream_lbsched_direct(lcf, dp, pc->log, now, &i);

    if (rc == NGX_DECLINED) {
        rc = ngx_http_upstream_lbsched_filtered(lcf, dp, pc->log, now, &i);
    }

    /* None left but the server whose kept-alive connection went stale:
     * nginx gave the try back, and round-robin's one-server path simply
     * connects again; here it was tried, and the request got "no live
     * upstreams" (a 502 on every other request behind one server). */
    if (rc == NGX_BUSY && dp->nstale) {
        while (dp->nstale) {
            ngx_http_upstream_lbsched_untry(dp, dp->stale[--dp->nstale]);
        }

        rc = ngx_http_upstream_lbsched_direct(lcf, dp, pc->log, now, &i);

        if (rc == NGX_DECLINED) {
            rc = ngx_http_upstream_lbsched_filtered(lcf, dp, pc->log, now, &i);
        }
    }

    if (rc != NGX_OK) {
        ngx_http_upstream_rr_peers_unlock(peers);
        pc->name = peers->name;
        return rc == NGX_ERROR ? NGX_ERROR : NGX_BUSY;
    }

    best = lcf->peer_at[i];

    pc->sockaddr = best->sockaddr;
    pc->socklen = best->socklen;
    pc->name = &best->name;

    best->conns++;

    dp->held = i;
    dp->held_ms = dp->wl.est_duration_s > 0
                  ? (ngx_atomic_uint_t) (dp->wl.est_duration_s * 1000.0) : 0;
    ngx_http_upstream_lbsched_hold(lcf, i, dp->wl.est_duration_s > 0,
                                   dp->held_ms, 1);

    rrp->current = best;

    m = (uintptr_t) 1 << i % (8 * sizeof(uintptr_t));
    rrp->tried[i / (8 * sizeof(uintptr_t))] |= m;

    if (dp->ntried < LBS_EXCLUDE_MAX) {
        dp->tried[dp->ntried] = i;
    }
    dp->ntried++;

    /* nginx's tries count every server that is not down, whether it can
     * meet the request or not.  With no other server able to take it,
     * nginx threw this one's answer away when its status was one to try
     * the next server on (proxy_next_upstream http_404, http_500, ...),
     * for a try that could only be "no live upstreams", a 502: the last
     * try's answer is the client's, as round-robin's last server's is.
     * nginx reads the tries left before it asks for another server, so
     * this is known now; looked for only where a status is retried. */
    if (pc->tries > 1
        && (dp->request->upstream->conf->next_upstream
            & NGX_HTTP_UPSTREAM_FT_STATUS)
        && !ngx_http_upstream_lbsched_another_fits(lcf, dp, now))
    {
        pc->tries = 1;
    }

    if (now - best->checked > best->fail_timeout) {
        best->checked = now;
    }

    ngx_http_upstream_rr_peers_unlock(peers);

    dp->chosen = i;
    (void) clock_gettime(CLOCK_MONOTONIC, &dp->start);
    lcf->decisions[i]++;

    return NGX_OK;
}


/* Whether a try nginx frees as done ended before its body did: a read
 * error, or a body short of its end.  The length nginx still waits for
 * (the pipe's, buffered; the upstream's, unbuffered) is above 0 until the
 * body's end is read: the bytes a Content-Length has left, or a chunked
 * body's last chunk to come.  A body nginx gives up on, as on an invalid
 * chunk, sets no flag at all: that length tells it.  It is not above 0
 * for a body that ends with the connection (-1), nor for an answer without
 * one (a HEAD's, a 204's, a 304's, an upgrade's), nor for an error page
 * nginx intercepts before any body.  Buffered, only once the pipe started
 * (its upstream set): not for a HEAD answered before it, nor while nginx
 * reads on for its cache after the client went. */
static ngx_uint_t
ngx_http_upstream_lbsched_cut_short(ngx_peer_connection_t *pc,
    ngx_http_upstream_t *u)
{
    ngx_event_pipe_t  *p = u->pipe;

    if (u->buffering && p) {
        return p->upstream_error
               || (p->length > 0 && !p->upstream_done
                   && (p->upstream_eof
                       || (p->upstream && !p->downstream_error)));
    }

    return (pc->connection && pc->connection->read->error) || u->length > 0;
}


/* A gRPC answer's grpc-status in the list of headers or trailers, or -1
 * for none; one that is no status (not one to three digits) is UNKNOWN,
 * 2, as gRPC's clients read it. */
static ngx_int_t
ngx_http_upstream_lbsched_grpc_in(ngx_list_t *list)
{
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;
    ngx_uint_t        i;
    ngx_int_t         code;

    for (part = &list->part; part; part = part->next) {
        h = part->elts;
        for (i = 0; i < part->nelts; i++) {
            if (h[i].hash == 0
                || h[i].key.len != sizeof("grpc-status") - 1
                || ngx_strncasecmp(h[i].key.data, (u_char *) "grpc-status",
                                   h[i].key.len) != 0)
            {
                continue;
            }

            code = h[i].value.len >= 1 && h[i].value.len <= 3
                   ? ngx_atoi(h[i].value.data, h[i].value.len) : NGX_ERROR;

            return code == NGX_ERROR ? 2 : code;
        }
    }

    return -1;
}


/*
 * What a gRPC server's own answer says of the try, or -1 for the HTTP
 * status's: a gRPC error comes as status 200 with a grpc-status trailer
 * (or in the headers of an answer that is nothing else), and learned as a
 * success it kept a failing server its traffic.  By the codes' HTTP
 * meanings (as gRPC's own gateways map them): the server broken or
 * unable (UNKNOWN, UNIMPLEMENTED, INTERNAL, UNAVAILABLE, DATA_LOSS: 5xx)
 * a failure, DEADLINE_EXCEEDED a timeout, CANCELLED (the client's, 499)
 * cancelled; OK and the caller's errors (a bad argument, not found, a
 * permission, RESOURCE_EXHAUSTED: 4xx) the status's, as an HTTP 4xx is.
 * A code past 16 is UNKNOWN, as gRPC's clients read it.
 */
static ngx_int_t
ngx_http_upstream_lbsched_grpc_result(ngx_http_upstream_t *u)
{
    ngx_int_t  code;

    code = ngx_http_upstream_lbsched_grpc_in(&u->headers_in.trailers);
    if (code == -1) {
        code = ngx_http_upstream_lbsched_grpc_in(&u->headers_in.headers);
    }

    switch (code) {
    case 1:
        return LBS_RESULT_CANCELLED;
    case 4:
        return LBS_RESULT_TIMEOUT;
    case 2: case 12: case 13: case 14: case 15:
        return LBS_RESULT_FAILURE;
    default:
        return code > 16 ? LBS_RESULT_FAILURE : -1;
    }
}


static void
ngx_http_upstream_free_lbsched_peer(ngx_peer_connection_t *pc, void *data,
    ngx_uint_t state)
{
    ngx_http_upstream_lbsched_peer_data_t  *dp = data;

    ngx_http_upstream_lbsched_srv_conf_t   *lcf = dp->conf;
    ngx_http_upstream_t                    *u = dp->request->upstream;
    struct timespec                         end;
    ngx_uint_t                              status, timedout, stale;
    ngx_int_t                               grpc;
    lbs_outcome                             o;
    lbs_status                              st;

    timedout = pc->connection
               && (pc->connection->read->timedout
                   || pc->connection->write->timedout);

    /* nginx tells free no reason, and sets the try's status only after
     * it.  A kept-alive connection that failed before a byte of the
     * answer came back had gone stale: nobody's fault, and nginx tries
     * again without counting it.  Once the server answered (a 5xx that
     * proxy_next_upstream retries) or let a timer fire, the reused
     * connection is no excuse. */
    stale = (state & NGX_PEER_FAILED) && pc->cached && !timedout && u && u->state
            && u->state->bytes_received == 0;

    if (stale && dp->chosen != LBS_NGX_NO_PEER && dp->nstale < LBS_NGX_STALE_MAX) {
        dp->stale[dp->nstale++] = dp->chosen;
    }

    if (dp->held != LBS_NGX_NO_PEER) {
        ngx_http_upstream_lbsched_hold(lcf, dp->held,
                                       dp->wl.est_duration_s > 0,
                                       dp->held_ms, -1);
        dp->held = LBS_NGX_NO_PEER;
    }

    if (dp->chosen != LBS_NGX_NO_PEER && lcf->sched && u && u->state) {

        status = u->state->status;

        /* From the choice to this free on the monotonic clock, not
         * nginx's response_time: that counts whole milliseconds of a
         * cached clock, so a server answering in under one reads 0, and
         * a duration of 0 teaches no latency (its peers' latency could
         * then never be compared with it). */
        (void) clock_gettime(CLOCK_MONOTONIC, &end);

        ngx_http_upstream_lbsched_outcome(lcf, dp, dp->chosen, &o);
        o.status_code = (int32_t) status;
        o.duration_s = (double) (end.tv_sec - dp->start.tv_sec)
                       + (double) (end.tv_nsec - dp->start.tv_nsec) / 1e9;
        if (o.duration_s < 0.0) {
            o.duration_s = 0.0;
        }

        if (state & NGX_PEER_FAILED) {
            /* A stale kept-alive connection (above), cancelled.  No
             * request sent yet (refused, unreachable, its connect
             * timeout, a TLS handshake) is the worker's refusal; a read
             * or send timer fired, a timeout; else a failure. */
            if (stale) {
                o.result = LBS_RESULT_CANCELLED;

            } else if (u->state->connect_time == (ngx_msec_t) -1) {
                o.result = LBS_RESULT_REJECTED;

            } else if (timedout) {
                o.result = LBS_RESULT_TIMEOUT;

            } else {
                o.result = LBS_RESULT_FAILURE;
            }

        /* Freed as done (state 0) after the headers, the body may still
         * have been cut: nginx frees before it closes the connection, so
         * its flags tell.  The client gone first, or too slow (its
         * send_timeout or client_body_timeout fired: nginx marks the
         * client's connection timed out, not failed), is not the
         * server's doing; a read timer fired, a timeout; a body short of
         * its length or a read error, a failure.  All were learned as
         * successes of the time it took to fail. */
        } else if (dp->request->connection->error
                   || dp->request->connection->timedout)
        {
            o.result = LBS_RESULT_CANCELLED;

        } else if (pc->connection && pc->connection->read->timedout) {
            o.result = LBS_RESULT_TIMEOUT;

        } else if (ngx_http_upstream_lbsched_cut_short(pc, u)) {
            o.result = LBS_RESULT_FAILURE;

        } else if (status >= 500) {
            o.result = LBS_RESULT_FAILURE;

        } else if (status == 0) {
            o.result = LBS_RESULT_CANCELLED;

        } else if ((grpc = ngx_http_upstream_lbsched_grpc_result(u)) != -1) {
            o.result = (int32_t) grpc;

        } else {
            o.result = LBS_RESULT_SUCCESS;

            /* An upgraded connection (a WebSocket's 101) is freed when
             * the session ends, and an unbuffered answer or request body
             * moves at the client's pace: to this free the time is the
             * client's, not the server's.  Its header's time is the
             * server's part (whole milliseconds: under one teaches no
             * latency, as no duration), but for a request body still
             * arriving when the try started: the header's time counts the
             * upload at the client's pace (nginx keeps no time of the
             * body's end), so it teaches no latency either.  A buffered
             * answer that may not be spooled to disk
             * (proxy_max_temp_file_size 0) is read no faster than the
             * client takes it once the buffers are full: as unbuffered
             * (a 32 MB answer the server sent in 0.05 s was learned as
             * 3.1 s, a client's download at 8 MB/s). */
            if (status == NGX_HTTP_SWITCHING_PROTOCOLS || !u->buffering
                || dp->request->request_body_no_buffering
                || (u->pipe && u->pipe->max_temp_file_size == 0))
            {
                o.duration_s = u->state->header_time != (ngx_msec_t) -1
                               ? (double) u->state->header_time / 1000.0
                               : 0.0;
            }

            if (dp->body_arriving) {
                o.duration_s = 0.0;
            }
        }

        st = sched_report(lcf->sched, &o);

        if (st != LBS_EUNSUPPORTED) {
            lcf->reports++;
        }

        if (st != LBS_OK && st != LBS_EUNSUPPORTED) {
            lcf->report_errors++;
            ngx_log_error(NGX_LOG_ERR, pc->log, 0,
                          "lbsched: upstream \"%V\": report failed with "
                          "status %d", &lcf->name, (int) st);
        }

        dp->chosen = LBS_NGX_NO_PEER;
    }

    /* nor a failure for max_fails: with one server left for the
     * request, its fail_timeout would refuse the retry above.  Nor a
     * success: round-robin's free clears the failures of a server whose
     * check time passed its last failure, and this says nothing of its
     * health (a server at max_fails would be trusted again on no
     * evidence). */
    if (stale && dp->rrp.current) {
        ngx_http_upstream_rr_peer_t  *peer = dp->rrp.current;

        ngx_http_upstream_rr_peers_rlock(dp->rrp.peers);
        ngx_http_upstream_rr_peer_lock(dp->rrp.peers, peer);
        if (peer->accessed < peer->checked) {
            peer->accessed = peer->checked;
        }
        ngx_http_upstream_rr_peer_unlock(dp->rrp.peers, peer);
        ngx_http_upstream_rr_peers_unlock(dp->rrp.peers);
        state &= ~NGX_PEER_FAILED;
    }

    ngx_http_upstream_free_round_robin_peer(pc, &dp->rrp, state);

    /* A failed try (an error or a timeout; not a stale connection,
     * cleared above and tried again) with no other server able to take
     * the request is the last: nginx's tries count every server that is
     * not down, and it asked for another, got "no live upstreams" and
     * gave the client a 502 for the last server's timeout or error.
     * nginx reads the tries left after this free: none left, the client
     * gets nginx's own answer for the failure (504 for a timeout, 502),
     * as with round-robin's last server.  Looked for on failure only.
     * A status retried (proxy_next_upstream http_500, ...) is tested
     * before this free: get_lbsched_peer caps those tries at the choice.
     * (An error on a reused connection gets a try back from nginx after
     * this free, whatever it says: not stale, that one still ends in "no
     * live upstreams" when no other server fits.) */
    if ((state & NGX_PEER_FAILED) && pc->tries > 0 && u
        && !(u->conf->next_upstream & NGX_HTTP_UPSTREAM_FT_OFF))
    {
        ngx_http_upstream_rr_peers_t  *peers = dp->rrp.peers;

        if (peers->number == lcf->npeers) {
            ngx_http_upstream_rr_peers_wlock(peers);

            /* cand points into a fleet gone since the choice */
            if (lcf->indexed != peers) {
                ngx_http_upstream_lbsched_index(lcf, peers);
            }

            if (!ngx_http_upstream_lbsched_another_fits(lcf, dp,
                                                        ngx_time()))
            {
                pc->tries = 0;
            }

            ngx_http_upstream_rr_peers_unlock(peers);
        }
    }
}


/* ===== the status handler ================================================ */

typedef struct {
    ngx_pool_t  *pool;
    u_char      *data;
    size_t       len;
    size_t       cap;
    ngx_uint_t   failed;
} ngx_http_lbsched_buf_t;


static int
ngx_http_lbsched_buf_write(void *ctx, const char *data, size_t len)
{
    ngx_http_lbsched_buf_t  *b = ctx;
    u_char                  *p;
    size_t                   cap;

    if (b->failed) {
        return 1;
    }

    if (b->len + len > b->cap) {
        cap = b->cap ? b->cap * 2 : 4096;
        while (cap < b->len + len) {
            cap *= 2;
        }

        p = ngx_pnalloc(b->pool, cap);
        if (p == NULL) {
            b->failed = 1;
            return 1;
        }

        if (b->len) {
            ngx_memcpy(p, b->data, b->len);
        }

        b->data = p;
        b->cap = cap;
    }

    ngx_memcpy(b->data + b->len, data, len);
    b->len += len;

    return 0;
}


static void
ngx_http_lbsched_buf_printf(ngx_http_lbsched_buf_t *b, const char *fmt, ...)
{
    u_char   tmp[512], *last;
    va_list  args;

    va_start(args, fmt);
    last = ngx_vslprintf(tmp, tmp + sizeof(tmp), fmt, args);
    va_end(args);

    ngx_http_lbsched_buf_write(b, (char *) tmp, last - tmp);
}


/* A JSON string of s: ids and names are ours or the operator's, but quote
 * them properly anyway. */
static void
ngx_http_lbsched_buf_json_str(ngx_http_lbsched_buf_t *b, const u_char *s,
    size_t len)
{
    size_t  i;
    u_char  c;
    char    esc[8];

    ngx_http_lbsched_buf_write(b, "\"", 1);

    for (i = 0; i < len; i++) {
        c = s[i];

        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char) c;
            ngx_http_lbsched_buf_write(b, esc, 2);

        } else if (c < 0x20) {
            snprintf(esc, sizeof(esc), "\\u%04x", c);
            ngx_http_lbsched_buf_write(b, esc, 6);

        } else {
            ngx_http_lbsched_buf_write(b, (char *) &c, 1);
        }
    }

    ngx_http_lbsched_buf_write(b, "\"", 1);
}


/* The learned preferences: the plugin's store export ("lbs.ext.store/1"),
 * {"schema": N, "records": [...]}, when the config has a store. */
static ngx_int_t
ngx_http_lbsched_learned(ngx_http_upstream_lbsched_srv_conf_t *lcf,
    ngx_http_lbsched_buf_t *b)
{
    loaded_plugin        *p;
    const lbs_host_api   *api;
    const lbs_ext_store  *ext;
    char                  err[512];

    if (lcf->store_path == NULL || lcf->host == NULL || lcf->sched == NULL) {
        return NGX_DECLINED;
    }

    /* already loaded: this finds it */
    if (host_load(lcf->host, lcf->plugin_z, &p, &api, err, sizeof(err))
        != LBS_OK)
    {
        return NGX_ERROR;
    }

    ext = loader_extension(p, LBS_EXT_STORE);
    if (ext == NULL
        || !LBS_HAS_FIELD(ext, lbs_ext_store, export_json)
        || ext->export_json == NULL)
    {
        return NGX_DECLINED;
    }

    if (ext->export_json(api, lcf->store_path, ngx_http_lbsched_buf_write, b,
                         err, sizeof(err)) != LBS_OK || b->failed)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* Which plugin this process runs: after an upgrade, the one a reload kept
 * (a replaced file is refused until a restart). */
static void
ngx_http_lbsched_plugin(ngx_http_lbsched_buf_t *b, shim_sched *s)
{
    const loaded_plugin     *p;
    const lbs_plugin_entry  *e;
    const char              *t;
    char                     show[LOADER_MAX_NAME + 1];

    if (s == NULL) {
        ngx_http_lbsched_buf_write(b, "null", 4);
        return;
    }

    p = sched_plugin(s);
    e = loader_entry(p);

    t = loader_path(p);
    ngx_http_lbsched_buf_printf(b, "{\"path\": ");
    ngx_http_lbsched_buf_json_str(b, (u_char *) t, ngx_strlen(t));

    t = loader_show(show, sizeof(show), e->plugin_name);
    ngx_http_lbsched_buf_printf(b, ", \"name\": ");
    ngx_http_lbsched_buf_json_str(b, (u_char *) t, ngx_strlen(t));

    t = loader_show(show, sizeof(show), e->plugin_version);
    ngx_http_lbsched_buf_printf(b, ", \"version\": ");
    ngx_http_lbsched_buf_json_str(b, (u_char *) t, ngx_strlen(t));

    ngx_http_lbsched_buf_printf(b, ", \"abi\": \"%uD.%uD\"}",
                                (uint32_t) e->abi_major,
                                (uint32_t) e->abi_minor);
}


static ngx_int_t
ngx_http_lbsched_status_handler(ngx_http_request_t *r)
{
    ngx_http_upstream_main_conf_t         *umcf;
    ngx_http_upstream_lbsched_srv_conf_t  *lcf;
    ngx_http_upstream_lbsched_shared_t    *sh;
    ngx_http_lbsched_buf_t                 b;
    ngx_buf_t                             *out;
    ngx_chain_t                            cl;
    ngx_uint_t                             i, j, k, n, first = 1;
    ngx_int_t                              rc;
    size_t                                 mark;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    ngx_memzero(&b, sizeof(ngx_http_lbsched_buf_t));
    b.pool = r->pool;

    umcf = ngx_http_get_module_main_conf(r, ngx_http_upstream_module);

    ngx_http_lbsched_buf_printf(&b, "{\"pid\": %P, \"upstreams\": [",
                                ngx_pid);

    for (i = 0; i < umcf->upstreams.nelts; i++) {
        lcf = ngx_http_upstream_lbsched_conf_at(umcf, i);
        if (lcf == NULL || lcf->workers == NULL) {
            continue;
        }

        ngx_http_lbsched_buf_printf(&b, "%s{\"name\": ", first ? "" : ", ");
        first = 0;
        ngx_http_lbsched_buf_json_str(&b, lcf->name.data, lcf->name.len);
        ngx_http_lbsched_buf_printf(&b, ", \"scheduler\": ");
        ngx_http_lbsched_buf_json_str(&b, (u_char *) lcf->scheduler_z,
                                      ngx_strlen(lcf->scheduler_z));
        ngx_http_lbsched_buf_printf(&b, ", \"active\": %s, \"plugin\": ",
                                    lcf->sched ? "true" : "false");
        ngx_http_lbsched_plugin(&b, lcf->sched);
        ngx_http_lbsched_buf_printf(&b, ", \"decisions\": {");

        /* a server listed twice is one key, its lines' figures summed:
         * a key twice in one object is not JSON every parser keeps, and
         * one line's figures alone would hide the other's (j = 0 is the
         * first of its address: no comma before it) */
        for (j = 0; j < lcf->npeers; j++) {
            if (lcf->first[j] != j) {
                continue;
            }
            if (j) {
                ngx_http_lbsched_buf_write(&b, ", ", 2);
            }
            ngx_http_lbsched_buf_json_str(&b, (u_char *) lcf->ids[j],
                                          ngx_strlen(lcf->ids[j]));
            for (n = 0, k = j; k != LBS_NGX_NO_PEER; k = lcf->twin[k]) {
                n += lcf->decisions[k];
            }
            ngx_http_lbsched_buf_printf(&b, ": %ui", n);
        }

        /* every process shows the same numbers: the shared zone's */
        ngx_http_lbsched_buf_printf(&b, "}, \"in_flight\": {");
        sh = lcf->shm_zone->data;

        for (j = 0; j < lcf->npeers; j++) {
            if (lcf->first[j] != j) {
                continue;
            }
            if (j) {
                ngx_http_lbsched_buf_write(&b, ", ", 2);
            }
            ngx_http_lbsched_buf_json_str(&b, (u_char *) lcf->ids[j],
                                          ngx_strlen(lcf->ids[j]));
            for (n = 0, k = j; k != LBS_NGX_NO_PEER; k = lcf->twin[k]) {
                n += sh[k].inflight;
            }
            ngx_http_lbsched_buf_printf(&b, ": %ui", n);
        }

        if (lcf->redis) {
            /* this process's view of the live fleet */
            ngx_http_lbsched_buf_printf(&b, "}, \"live\": {");

            for (j = 0; j < lcf->npeers; j++) {
                if (lcf->first[j] != j) {
                    continue;
                }
                if (j) {
                    ngx_http_lbsched_buf_write(&b, ", ", 2);
                }
                ngx_http_lbsched_buf_json_str(&b, (u_char *) lcf->ids[j],
                                              ngx_strlen(lcf->ids[j]));
                ngx_http_lbsched_buf_printf(&b, ": %s",
                                            lcf->workers[j] ? "true" : "false");
            }
        }

        ngx_http_lbsched_buf_printf(&b,
            "}, \"no_worker\": %ui, \"fallbacks\": %ui, \"reports\": %ui, "
            "\"report_errors\": %ui, \"errors\": %ui, \"stats\": ",
            lcf->no_worker, lcf->fallbacks, lcf->reports, lcf->report_errors,
            lcf->fallbacks + lcf->report_errors);

        mark = b.len;
        if (lcf->sched == NULL
            || sched_stats(lcf->sched, ngx_http_lbsched_buf_write, &b)
               != LBS_OK
            || b.len == mark)
        {
            b.len = mark;
            ngx_http_lbsched_buf_write(&b, "null", 4);
        }

        ngx_http_lbsched_buf_printf(&b, ", \"learned\": ");
        mark = b.len;
        if (ngx_http_lbsched_learned(lcf, &b) != NGX_OK || b.len == mark) {
            b.len = mark;
            ngx_http_lbsched_buf_write(&b, "null", 4);
        }

        ngx_http_lbsched_buf_write(&b, "}", 1);
    }

    ngx_http_lbsched_buf_write(&b, "]}\n", 3);

    if (b.failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = b.len;
    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;

    rc = ngx_http_send_header(r);
    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out = ngx_calloc_buf(r->pool);
    if (out == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    out->pos = b.data;
    out->last = b.data + b.len;
    out->memory = 1;
    out->last_buf = (r == r->main) ? 1 : 0;
    out->last_in_chain = 1;

    cl.buf = out;
    cl.next = NULL;

    return ngx_http_output_filter(r, &cl);
}


static char *
ngx_http_lbsched_status(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    /* twice is a slip, said as nginx says it of its own directives */
    if (clcf->handler == ngx_http_lbsched_status_handler) {
        return "is duplicate";
    }
    clcf->handler = ngx_http_lbsched_status_handler;

    return NGX_CONF_OK;
}
