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

#define VERSION_WAIT_MS 5000

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

/* `exe --version`'s first bytes, waiting at most VERSION_WAIT_MS. */
static int run_version(const char *exe, char *out, size_t n)
{
	int fd[2], exited = 0;
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
		if (ms >= VERSION_WAIT_MS)
			break;
		int ready = poll(&p, 1, VERSION_WAIT_MS - ms < 50 ? (int)(VERSION_WAIT_MS - ms) : 50);
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
	return 0;
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

	for (size_t i = 0; i < sizeof known / sizeof *known; i++) {
		if (seen(c, known[i].name) || c->n_browsers >= AG_MAX_BROWSERS)
			continue;
		for (const char *p = path; *p;) {
			size_t len = strcspn(p, ":");
			char exe[4096], out[512];
			if (len && len + strlen(known[i].exe) + 2 < sizeof exe) {
				snprintf(exe, sizeof exe, "%.*s/%s", (int)len, p, known[i].exe);
				if (access(exe, X_OK) == 0) {
					ag_browser *b = &c->browsers[c->n_browsers++];
					snprintf(b->name, sizeof b->name, "%s", known[i].name);
					if (run_version(exe, out, sizeof out) == 0)
						version_word(out, b->version, sizeof b->version);
					ag_why(env, "browser_support",
					       "%s on PATH, version from '%s --version'%s", exe,
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
