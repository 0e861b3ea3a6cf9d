/*
 * host.c -- the shim's lbs_host_api and its registry of loaded plugins.
 *
 * Each loaded plugin gets its own lbs_host_api whose host_data names that
 * plugin, so that find_scheduler(NULL path) can mean "the plugin asking".
 * Plugins stay loaded until host_free: a composite's children may live in
 * them, and unloading code that an instance still points into is the one
 * mistake a host cannot recover from.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "host.h"
#include "shim_config.h"
#include "text.h"

typedef struct plugin_rec {
	struct plugin_rec *next;
	shim_host *host;
	loaded_plugin *plugin;
	char *realpath;
	char *given; /* the path as the host named it */
	lbs_host_api api;
} plugin_rec;

struct shim_host {
	char *name;
	int32_t min_level;
	/* Plugins log from any thread (a store's flusher, say), while the
	 * host may change its sink: the sink is read and called under log_mu,
	 * so once host_set_log returns the old sink is never called again.
	 * Recursive, because a sink may itself log through the host. */
	pthread_mutex_t log_mu;
	uint64_t errors; /* under log_mu */
	host_log_fn log_fn;
	void *log_ctx;
	plugin_rec *plugins;
	/* Plugins whose init() is running: find_scheduler is refused then
	 * (abi.h: a plugin is not listed, or itself loadable, before its init
	 * returns; a load of itself from there would recurse). */
	int in_init;
	struct shim_host *next_live; /* in live_hosts, under live_mu */
};

/* A fork while a store's flusher logged left the child log_mu held by a
 * thread it does not have, and its first log line (an outcome refused in
 * a child, say) hung it.  Every host is listed, so that a fork holds each
 * one's log_mu across itself (the sink and its ctx stay a pair) and the
 * child starts each again free: its one thread owns nothing. */
static pthread_mutex_t live_mu = PTHREAD_MUTEX_INITIALIZER;
static shim_host *live_hosts;
static pthread_once_t live_once = PTHREAD_ONCE_INIT;

static int log_mu_init(pthread_mutex_t *mu)
{
	pthread_mutexattr_t ma;
	int rc;

	if (pthread_mutexattr_init(&ma))
		return -1;
	rc = pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE) ||
	     pthread_mutex_init(mu, &ma);
	pthread_mutexattr_destroy(&ma);
	return rc ? -1 : 0;
}

static void fork_prepare(void)
{
	pthread_mutex_lock(&live_mu);
	for (shim_host *h = live_hosts; h; h = h->next_live)
		pthread_mutex_lock(&h->log_mu);
}

static void fork_parent(void)
{
	for (shim_host *h = live_hosts; h; h = h->next_live)
		pthread_mutex_unlock(&h->log_mu);
	pthread_mutex_unlock(&live_mu);
}

/* A recursive mutex knows its owner by thread id, which the child's one
 * thread does not share with the parent's: made again, not unlocked. */
static void fork_child(void)
{
	for (shim_host *h = live_hosts; h; h = h->next_live)
		(void)log_mu_init(&h->log_mu);
	pthread_mutex_init(&live_mu, NULL);
}

static void live_init(void)
{
	(void)pthread_atfork(fork_prepare, fork_parent, fork_child);
}

static const char *level_name(int32_t level)
{
	switch (level) {
	case LBS_LOG_DEBUG: return "debug";
	case LBS_LOG_INFO: return "info";
	case LBS_LOG_WARN: return "warning";
	case LBS_LOG_ERROR: return "error";
	case LBS_LOG_PLUGIN_MISBEHAVING: return "plugin misbehaving";
	default: return "log";
	}
}

static void default_log(void *ctx, int32_t level, const char *msg)
{
	shim_host *h = ctx;

	if (level >= h->min_level)
		fprintf(stderr, "%s: %s: %s\n", h->name, level_name(level), msg);
}

shim_host *host_new(const char *host_name, int32_t min_level)
{
	shim_host *h = calloc(1, sizeof *h);

	if (!h)
		return NULL;
	h->name = strdup(host_name ? host_name : "lbsched-host");
	if (!h->name) {
		free(h);
		return NULL;
	}
	if (log_mu_init(&h->log_mu)) {
		free(h->name);
		free(h);
		return NULL;
	}
	h->min_level = min_level;
	h->log_fn = default_log;
	h->log_ctx = h;
	pthread_once(&live_once, live_init);
	pthread_mutex_lock(&live_mu);
	h->next_live = live_hosts;
	live_hosts = h;
	pthread_mutex_unlock(&live_mu);
	return h;
}

void host_set_log(shim_host *h, host_log_fn fn, void *ctx)
{
	pthread_mutex_lock(&h->log_mu);
	h->log_fn = fn ? fn : default_log;
	h->log_ctx = fn ? ctx : h;
	pthread_mutex_unlock(&h->log_mu);
}

/* Every log line leaves here on one line, whatever a plugin wrote or an
 * input id carried (a newline in either would forge a second line). */
static void emit(shim_host *h, int32_t level, const char *msg)
{
	char line[4096];

	snprintf(line, sizeof line, "%s", msg);
	txt_one_line(line);
	pthread_mutex_lock(&h->log_mu);
	h->errors += level >= LBS_LOG_ERROR;
	h->log_fn(h->log_ctx, level, line);
	pthread_mutex_unlock(&h->log_mu);
}

uint64_t host_errors(shim_host *h)
{
	uint64_t n;

	pthread_mutex_lock(&h->log_mu);
	n = h->errors;
	pthread_mutex_unlock(&h->log_mu);
	return n;
}

void host_free(shim_host *h)
{
	if (!h)
		return;
	/* Unload in reverse order of loading: a plugin loaded later may be a
	 * child of one loaded earlier, never the other way round. */
	while (h->plugins) {
		plugin_rec *r = h->plugins;
		h->plugins = r->next;
		loader_close(r->plugin);
		free(r->realpath);
		free(r->given);
		free(r);
	}
	pthread_mutex_lock(&live_mu);
	for (shim_host **p = &live_hosts; *p; p = &(*p)->next_live)
		if (*p == h) {
			*p = h->next_live;
			break;
		}
	pthread_mutex_unlock(&live_mu);
	pthread_mutex_destroy(&h->log_mu);
	free(h->name);
	free(h);
}

void host_logf(shim_host *h, int32_t level, const char *fmt, ...)
{
	char buf[4096]; /* emit's line: a store's path, an id, and the problem */
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	emit(h, level, buf);
}

static void api_log(void *host_data, int32_t level, const char *msg)
{
	plugin_rec *r = host_data;

	if (msg)
		emit(r->host, level, msg);
}

/* The coarse clock where there is one: plugins read it on the request
 * path (lbsched's own stamps placements that expire after a minute or
 * more), and it costs a fifth of the precise one (6 ns against 27-38 on a
 * kvm-clock VM) for a resolution of a few milliseconds, what nginx's
 * cached time gives its modules too. */
#if defined(CLOCK_MONOTONIC_COARSE)
#define HOST_CLOCK CLOCK_MONOTONIC_COARSE
#else
#define HOST_CLOCK CLOCK_MONOTONIC
#endif

static uint64_t api_now_ns(void *host_data)
{
	struct timespec ts;

	(void)host_data;
	clock_gettime(HOST_CLOCK, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static lbs_status api_find_scheduler(void *host_data, const char *plugin_path,
                                     const char *name,
                                     const lbs_scheduler_desc **out,
                                     const lbs_host_api **out_host, char *err,
                                     size_t errlen)
{
	plugin_rec *r = host_data;
	loaded_plugin *p = r->plugin;
	const lbs_host_api *api = &r->api;

	*out = NULL;
	*out_host = NULL;
	if (!name || !*name) {
		snprintf(err, errlen, "find_scheduler: no scheduler name given");
		return LBS_EINVAL;
	}
	if (r->host->in_init) {
		snprintf(err, errlen, "find_scheduler: called from a plugin's init(), which must "
		         "return before its host finds schedulers (find them in create())");
		return LBS_EUNSUPPORTED;
	}
	if (plugin_path && *plugin_path) {
		lbs_status st = host_load(r->host, plugin_path, &p, &api, err, errlen);
		if (st != LBS_OK)
			return st;
	}
	*out = loader_find(p, name, err, errlen);
	if (!*out)
		return LBS_EINVAL;
	*out_host = api;
	return LBS_OK;
}

static void api_release_scheduler(void *host_data, const lbs_scheduler_desc *d)
{
	/* Plugins stay loaded until host_free (see the top of this file). */
	(void)host_data;
	(void)d;
}

static lbs_status load_plugin(shim_host *h, const char *path, loaded_plugin **out,
                              const lbs_host_api **api, char *err, size_t errlen)
{
	char real[PATH_MAX];
	plugin_rec *r;
	lbs_status st;

	/* By the name first: a symbolic link re-pointed by a deploy still
	 * names the plugin this process runs (a second copy in one process
	 * would open its stores a second time, which LMDB forbids).  An
	 * absolute name only: a relative one names another file once the
	 * process changed directory. */
	for (r = path && path[0] == '/' ? h->plugins : NULL; r; r = r->next) {
		if (!strcmp(r->given, path)) {
			*out = r->plugin;
			*api = &r->api;
			return LBS_OK;
		}
	}
	if (!path || !realpath(path, real)) {
		snprintf(err, errlen, "%s: cannot load plugin: %s", path ? path : "(null)",
		         path ? loader_errno_text(errno) : "no path given");
		return LBS_EINVAL;
	}
	for (r = h->plugins; r; r = r->next) {
		if (!strcmp(r->realpath, real)) {
			*out = r->plugin;
			*api = &r->api;
			return LBS_OK;
		}
	}
	r = calloc(1, sizeof *r);
	if (!r || !(r->realpath = strdup(real)) || !(r->given = strdup(path))) {
		if (r)
			free(r->realpath);
		free(r);
		snprintf(err, errlen, "%s: out of memory", path);
		return LBS_ENOMEM;
	}
	r->host = h;
	r->api = (lbs_host_api){
		.struct_size = sizeof(lbs_host_api),
		.abi_major = LBS_ABI_MAJOR,
		.abi_minor = LBS_ABI_MINOR,
		.host_name = h->name,
		.host_version = LBS_VERSION,
		.host_data = r,
		.log = api_log,
		.now_ns = api_now_ns,
		.find_scheduler = api_find_scheduler,
		.release_scheduler = api_release_scheduler,
	};
	/* Load the file that was checked: a bare name given to dlopen() would
	 * be searched for on the library path instead. */
	h->in_init++;
	st = loader_open(real, &r->api, &r->plugin, err, errlen);
	h->in_init--;
	if (st != LBS_OK) {
		free(r->realpath);
		free(r->given);
		free(r);
		return st;
	}
	r->next = h->plugins;
	h->plugins = r;
	*out = r->plugin;
	*api = &r->api;
	return LBS_OK;
}

lbs_status host_load(shim_host *h, const char *path, loaded_plugin **out,
                     const lbs_host_api **api, char *err, size_t errlen)
{
	static const char env_said[] = "$LBSCHED_PLUGIN: ";
	lbs_status st = load_plugin(h, path, out, api, err, errlen);
	size_t k, p = sizeof env_said - 1;

	/* The path host_default_plugin() took from the environment: said, or
	 * the user looks for it in a command line that names none. */
	if (st != LBS_OK && path && path == getenv("LBSCHED_PLUGIN") &&
	    (k = strlen(err)) + p < errlen) {
		memmove(err + p, err, k + 1);
		memcpy(err, env_said, p);
	}
	return st;
}

const char *host_default_plugin(void)
{
	static char path[PATH_MAX];
	char exe[PATH_MAX];
	const char *env = getenv("LBSCHED_PLUGIN");
	ssize_t n;

	if (env && *env)
		return env;
	/* In a build tree the shim sits in host-shim/ and the plugin in
	 * plugin/; prefer that, so an uninstalled build runs its own plugin. */
	n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n > 0) {
		char *slash;
		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			if ((size_t)snprintf(path, sizeof path, "%s/../plugin/lbsched.so", exe) <
			        sizeof path &&
			    access(path, R_OK) == 0)
				return path;
		}
	}
	return LBS_INSTALLED_PLUGIN;
}
