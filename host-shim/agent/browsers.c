/*
 * browsers.c -- the browsers on PATH and their versions (the original's
 * browser workers), from each one's --version.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"

extern char **environ;

/* Executable names and the browser_support word the original used. */
static const struct { const char *exe, *name; } known[] = {
	{"google-chrome", "chrome"}, {"google-chrome-stable", "chrome"},
	{"chromium", "chromium"},    {"chromium-browser", "chromium"},
	{"firefox", "firefox"},      {"firefox-esr", "firefox"},
	{"microsoft-edge", "edge"},  {"microsoft-edge-stable", "edge"},
	{"brave-browser", "brave"},
};

/* The first word of `out` that starts with a digit: "Chromium 120.0.6099.224
 * built on Debian" and "Mozilla Firefox 115.6.0esr" both say theirs so. */
static void version_word(const char *out, char *v, size_t n)
{
	v[0] = 0;
	for (const char *p = out; *p; p++) {
		if (*p >= '0' && *p <= '9' && (p == out || p[-1] == ' ')) {
			size_t k = 0;
			while (k + 1 < n && (p[k] == '.' || (p[k] >= '0' && p[k] <= '9') ||
			                     (p[k] >= 'a' && p[k] <= 'z')))
				k++;
			memcpy(v, p, k);
			v[k] = 0;
			return;
		}
	}
}

/* `exe --version`'s first bytes, waiting at most AG_VERSION_WAIT_MS: 0, 1
 * when it was stopped at the wait, -1 when it would not start. */
static int run_version(const char *exe, char *out, size_t n)
{
	int fd[2], exited = 0, waited = 0;
	pid_t pid;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	char *argv[] = {(char *)exe, "--version", NULL};
	size_t got = 0;
	struct timespec t0, t1;

	if (pipe2(fd, O_CLOEXEC) < 0)
		return -1;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fd[1], 1);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	/* its own process group, so that what it starts is stopped with it */
	posix_spawnattr_init(&at);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP);
	posix_spawnattr_setpgroup(&at, 0);
	int rc = posix_spawn(&pid, exe, &fa, &at, argv, environ);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	close(fd[1]);
	if (rc != 0) {
		close(fd[0]);
		return -1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &t1);
		long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
		struct pollfd p = {fd[0], POLLIN, 0};
		if (ms >= AG_VERSION_WAIT_MS) {
			waited = !exited;
			break;
		}
		int ready = poll(&p, 1, AG_VERSION_WAIT_MS - ms < 50 ? (int)(AG_VERSION_WAIT_MS - ms) : 50);
		if (ready < 0 && errno != EINTR)
			break;
		/* Nothing to read: once the browser has exited, it said all it
		 * will (what it left running may hold the pipe open). */
		if (ready == 0 && !exited && waitpid(pid, NULL, WNOHANG) == pid)
			exited = 1;
		if (ready <= 0) {
			if (exited && poll(&p, 1, 0) <= 0)
				break;
			continue;
		}
		ssize_t r = read(fd[0], out + got, n - 1 - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || (got += (size_t)r) >= n - 1)
			break;
	}
	out[got] = 0;
	close(fd[0]);
	/* a browser that hangs on --version, and anything it started, is
	 * stopped, never waited for (the group is the browser's pid while it
	 * is not reaped) */
	kill(-pid, SIGKILL);
	if (!exited)
		waitpid(pid, NULL, 0);
	return waited;
}

/*
 * What --version said of an executable, kept while the file is the same
 * one (device, inode, size, modification time): a redetection runs a
 * browser again only when it was replaced (an upgrade), or an answer is an
 * hour old (a snap's executable is a link to /usr/bin/snap, which a refresh
 * of the browser leaves alone).  The detection runs in the sampling loop,
 * and a browser that hung on --version cost its wait at every redetection,
 * as long as the default --ttl: the worker dropped out of the live fleet
 * each time; a hang is kept until the file changes.  The agent has one
 * thread.
 */
#define PROBE_KEEP_S 3600

typedef struct probe {
	char exe[4096], version[sizeof ((ag_browser *)0)->version];
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	int hung;
	time_t at; /* CLOCK_MONOTONIC s of the answer */
} probe;

static time_t mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static probe probes[2 * AG_MAX_BROWSERS];
static unsigned n_probes;

static void version_of(const char *exe, char *version, size_t n)
{
	char out[512];
	struct stat st;
	probe *p = NULL;
	int rc;

	if (stat(exe, &st) == 0) {
		for (unsigned i = 0; i < n_probes; i++)
			if (!strcmp(probes[i].exe, exe)) {
				p = &probes[i];
				break;
			}
		if (p && p->dev == st.st_dev && p->ino == st.st_ino && p->size == st.st_size &&
		    p->mtime.tv_sec == st.st_mtim.tv_sec && p->mtime.tv_nsec == st.st_mtim.tv_nsec &&
		    (p->hung || mono_s() - p->at < PROBE_KEEP_S)) {
			snprintf(version, n, "%s", p->version);
			return;
		}
	}
	version[0] = 0;
	rc = run_version(exe, out, sizeof out);
	if (rc >= 0)
		version_word(out, version, n);
	if (rc > 0)
		ag_error("'%s --version' did not finish in %d s: stopped; its version is "
		         "left out until the file changes", exe,
		        AG_VERSION_WAIT_MS / 1000);
	/* one that would not start (out of processes) is tried again */
	if (rc < 0 || stat(exe, &st) != 0 || strlen(exe) >= sizeof p->exe)
		return;
	if (!p && n_probes < sizeof probes / sizeof *probes)
		p = &probes[n_probes++];
	if (!p)
		return;
	p->dev = st.st_dev;
	p->ino = st.st_ino;
	p->size = st.st_size;
	p->mtime = st.st_mtim;
	p->hung = rc > 0;
	p->at = mono_s();
	snprintf(p->exe, sizeof p->exe, "%s", exe);
	snprintf(p->version, sizeof p->version, "%s", version);
}

/* As a shell's PATH lookup: a regular file this user may run.  access()
 * alone says yes to a directory of a browser's name. */
static int runnable(const char *exe)
{
	struct stat st;

	return stat(exe, &st) == 0 && S_ISREG(st.st_mode) && access(exe, X_OK) == 0;
}

static int seen(const ag_caps *c, const char *name)
{
	for (unsigned i = 0; i < c->n_browsers; i++)
		if (!strcmp(c->browsers[i].name, name))
			return 1;
	return 0;
}

void ag_detect_browsers(const ag_env *env, ag_caps *c)
{
	const char *path = env->path ? env->path : "";
	const char *on = env->path_from ? env->path_from : "PATH";

	if (!env->path && env->root[0]) {
		ag_why(env, "browser_support", "none looked for: a recorded tree (--root) without "
		       "LBSCHED_AGENT_BROWSER_PATH; PATH is this machine's");
		return;
	}
	for (size_t i = 0; i < sizeof known / sizeof *known; i++) {
		if (seen(c, known[i].name) || c->n_browsers >= AG_MAX_BROWSERS)
			continue;
		for (const char *p = path; *p;) {
			size_t len = strcspn(p, ":");
			char exe[4096];
			if (len && len + strlen(known[i].exe) + 2 < sizeof exe) {
				snprintf(exe, sizeof exe, "%.*s/%s", (int)len, p, known[i].exe);
				if (runnable(exe)) {
					ag_browser *b = &c->browsers[c->n_browsers++];
					snprintf(b->name, sizeof b->name, "%s", known[i].name);
					version_of(exe, b->version, sizeof b->version);
					ag_why(env, "browser_support",
					       "%s on %s, version from '%s --version'%s", exe, on,
					       known[i].exe, b->version[0] ? "" : " (none printed)");
					break;
				}
			}
			p += len;
			if (*p == ':')
				p++;
		}
	}
}
