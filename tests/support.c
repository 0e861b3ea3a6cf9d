/*
 * support.c -- fixtures for the tests: fleets and workloads from JSON through
 * the shim's own converters, and the real plugin through the shim's loader.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "convert.h"
#include "support.h"

static void die(const char *what, const char *msg)
{
	fprintf(stderr, "test fixture broken: %s: %s\n", what, msg);
	exit(99);
}

const char *src_path(const char *relpath)
{
	static char buf[4096];
	const char *root = getenv("LBS_SRCDIR");

	snprintf(buf, sizeof buf, "%s/%s", root ? root : ".", relpath);
	return buf;
}

fleet fleet_parse(const char *json)
{
	fleet f = {0};
	char err[1024];
	conv_ctx c;

	f.arena = arena_new();
	c = (conv_ctx){f.arena, NULL, NULL, err, sizeof err, NULL};
	if (!f.arena || conv_fleet(&c, json, strlen(json), "fixture", &f.workers, &f.n))
		die("fleet", err);
	return f;
}

fleet fleet_load(const char *relpath)
{
	const char *path = src_path(relpath);
	FILE *fp = fopen(path, "rb");
	char *buf;
	long len;
	fleet f;

	if (!fp)
		die(path, "cannot open");
	fseek(fp, 0, SEEK_END);
	len = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	buf = calloc(1, (size_t)len + 1);
	if (!buf || fread(buf, 1, (size_t)len, fp) != (size_t)len)
		die(path, "cannot read");
	fclose(fp);
	f = fleet_parse(buf);
	free(buf);
	return f;
}

void fleet_free(fleet *f)
{
	arena_free(f->arena);
	memset(f, 0, sizeof *f);
}

lbs_workload workload_parse(arena *a, const char *json)
{
	lbs_workload wl;
	char err[1024];
	conv_ctx c = {a, NULL, NULL, err, sizeof err, NULL};

	if (conv_workload_text(&c, json, strlen(json), "fixture", &wl))
		die("workload", err);
	return wl;
}

static shim_host *the_host;

static void free_host(void)
{
	host_free(the_host);
}

shim_host *test_host(void)
{
	if (!the_host) {
		the_host = host_new("lbsched-test", LBS_LOG_ERROR);
		if (!the_host)
			die("host", "out of memory");
		atexit(free_host);
	}
	return the_host;
}

shim_sched *test_sched(const char *name, const char *config)
{
	shim_sched *s;
	char err[1024];
	const char *plugin = getenv("LBS_PLUGIN");

	if (!plugin)
		die("LBS_PLUGIN", "not set (run through meson test)");
	if (sched_open(test_host(), plugin, name, config, config ? strlen(config) : 0, &s, err,
	               sizeof err) != LBS_OK)
		die(name, err);
	return s;
}

/* Per thread: threads driving different instances pick at once. */
static _Thread_local char picked[4096];
static _Thread_local char reason[512];
static _Thread_local uint64_t cookie;

const char *pick(shim_sched *s, const lbs_workload *wl, const fleet *f)
{
	uint32_t idx[64];
	const char *ids[64];
	lbs_selection sel = {.struct_size = sizeof sel, .capacity = 64, .indices = idx,
	                     .ids = ids, .reason = reason, .reason_len = sizeof reason};
	int fell_back = 0;
	lbs_status st = sched_select(s, wl, (const lbs_worker *const *)f->workers, f->n, &sel,
	                             &fell_back);
	size_t used = 0;

	picked[0] = '\0';
	cookie = st == LBS_OK ? sel.cookie : 0;
	if (st == LBS_NO_WORKER)
		return "none";
	if (st != LBS_OK) {
		snprintf(picked, sizeof picked, "error:%d", (int)st);
		return picked;
	}
	/* A rejected answer must not pass for the plugin's own. */
	if (fell_back)
		used = (size_t)snprintf(picked, sizeof picked, "fallback:");
	for (uint32_t i = 0; i < sel.n_selected && used < sizeof picked; i++)
		used += (size_t)snprintf(picked + used, sizeof picked - used, "%s%s", i ? "," : "",
		                         sel.ids[i]);
	return picked;
}

const char *pick_reason(void)
{
	return reason;
}

uint64_t pick_cookie(void)
{
	return cookie;
}

int wait_child(pid_t pid, int seconds)
{
	struct timespec tick = {0, 10000000};
	int status = 0;

	for (int k = 0; k < seconds * 100; k++) {
		pid_t w = waitpid(pid, &status, WNOHANG);

		if (w == pid)
			return status;
		if (w < 0)
			return -1;
		nanosleep(&tick, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -1;
}
