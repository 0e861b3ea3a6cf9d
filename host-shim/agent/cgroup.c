/*
 * cgroup.c -- what a container lets its worker use.  A worker in a
 * container (Docker, Kubernetes, a systemd slice's MemoryMax or CPUQuota)
 * sees the machine's /proc/meminfo, /proc/stat and every CPU; what it may
 * use is its cgroup's limits, the lowest along the cgroup's path (a pod's
 * limit sits on the pod, a container's on the container):
 *   - memory: v2's memory.max, v1's memory.limit_in_bytes; in use, that
 *     cgroup's working set, usage less the inactive file cache the kernel
 *     reclaims before it would kill (as the kubelet counts it);
 *   - CPU: v2's cpu.max, v1's cpu.cfs_quota_us over cpu.cfs_period_us, in
 *     CPUs; in use, the cgroup's CPU time (v2 cpu.stat usage_usec, v1
 *     cpuacct.usage, in cpuacct's own hierarchy) over that many CPUs'.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup.h"

/* Where a controller's hierarchy is, for the agent's cgroup in it. */
typedef struct cg_where {
	int v2;
	long id;                /* the hierarchy's number in /proc/self/cgroup */
	char mount[256];        /* the hierarchy's mount point */
	char path[AG_CG_PATH];  /* the cgroup under it, "" for its root */
} cg_where;

/* 1 when word is one of list's comma-separated items ("rw,cpu,cpuacct"). */
static int listed(const char *list, const char *word)
{
	size_t n = strlen(word);

	for (const char *c = list, *e; c; c = e ? e + 1 : NULL) {
		e = strchr(c, ',');
		if ((e ? (size_t)(e - c) : strlen(c)) == n && !strncmp(c, word, n))
			return 1;
	}
	return 0;
}

/* The agent's cgroup in the hierarchy of controller ctl, from
 * /proc/self/cgroup: v1's "N:...ctl...:/path" first (a hybrid machine
 * binds the controllers to v1 and still lists "0::/"), else v2's
 * "0::/path".  -1 when neither, or the path is longer than n. */
static int own_cgroup(const ag_env *env, const char *ctl, int *v2, long *id, char *path,
                      size_t n)
{
	char b[8192], *line, *save = NULL, *unified = NULL;

	if (ag_read(env, "/proc/self/cgroup", b, sizeof b) <= 0)
		return -1;
	for (line = strtok_r(b, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *ctls = strchr(line, ':'), *p = ctls ? strchr(ctls + 1, ':') : NULL;

		if (!p)
			continue;
		*ctls++ = 0;
		*p++ = 0;
		if (!*ctls && !strcmp(line, "0"))
			unified = p;
		else if (listed(ctls, ctl)) {
			*v2 = 0;
			*id = strtol(line, NULL, 10);
			return p[0] == '/' && snprintf(path, n, "%s", p) < (int)n ? 0 : -1;
		}
	}
	*v2 = 1;
	*id = 0;
	return unified && unified[0] == '/' && snprintf(path, n, "%s", unified) < (int)n ? 0 : -1;
}

/* A mountinfo field as the path it names: the kernel writes a space,
 * tab, newline and backslash in one as \040, \011, \012 and \134
 * (show_mountinfo's mangle), and a mount point with a space in its name
 * was looked for under its escape. */
static void unmangle(char *s)
{
	char *o = s;

	for (const char *p = s; *p; o++) {
		if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' &&
		    p[3] >= '0' && p[3] <= '7') {
			*o = (char)((p[1] - '0') << 6 | (p[2] - '0') << 3 | (p[3] - '0'));
			p += 4;
		} else {
			*o = *p++;
		}
	}
	*o = 0;
}

/* The mount of the hierarchy (v2's cgroup2, or v1's with ctl among its
 * options) from /proc/self/mountinfo: its mount point and the cgroup it
 * shows as its root (a container without a cgroup namespace sees its own
 * cgroup there, and /proc/self/cgroup gives the host's path to it).  -1
 * when not found (a recorded tree has no mountinfo). */
static int mount_of(const ag_env *env, int v2, const char *ctl, char *mnt, size_t mn,
                    char *root, size_t rn)
{
	char b[65536], *line, *save = NULL;

	if (ag_read(env, "/proc/self/mountinfo", b, sizeof b) <= 0)
		return -1;
	for (line = strtok_r(b, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char r[AG_CG_PATH], m[256], type[16], opts[512];
		const char *dash = strstr(line, " - ");

		if (!dash || sscanf(line, "%*s %*s %*s %511s %255s", r, m) != 2 ||
		    sscanf(dash + 3, "%15s %*s %511s", type, opts) != 2)
			continue;
		if (v2 ? strcmp(type, "cgroup2") : strcmp(type, "cgroup") || !listed(opts, ctl))
			continue;
		unmangle(r);
		unmangle(m);
		if (snprintf(mnt, mn, "%s", m) >= (int)mn || snprintf(root, rn, "%s", r) >= (int)rn)
			return -1;
		return 0;
	}
	return -1;
}

/* One level up the path, to "" (the hierarchy's root); 0 past the root. */
static int up(char *path)
{
	char *slash = strrchr(path, '/');

	if (!slash || !path[0])
		return 0;
	*slash = 0;
	return 1;
}

static int locate(const ag_env *env, const char *ctl, cg_where *w)
{
	char root[AG_CG_PATH];
	size_t rl;

	if (own_cgroup(env, ctl, &w->v2, &w->id, w->path, sizeof w->path) < 0)
		return -1;
	if (mount_of(env, w->v2, ctl, w->mount, sizeof w->mount, root, sizeof root) < 0) {
		/* where systemd and Docker mount them */
		snprintf(w->mount, sizeof w->mount, w->v2 ? "/sys/fs/cgroup" : "/sys/fs/cgroup/%s",
		         ctl);
		snprintf(root, sizeof root, "/");
	}
	/* The path under the mount: past the mount's root when it is one of
	 * the path's ancestors; else as it is, its levels that are not there
	 * passed over as the walk goes up (up()). */
	rl = strcmp(root, "/") ? strlen(root) : 0;
	if (rl && !strncmp(w->path, root, rl) && (w->path[rl] == '/' || !w->path[rl]))
		memmove(w->path, w->path + rl, strlen(w->path + rl) + 1);
	if (!strcmp(w->path, "/"))
		w->path[0] = 0;
	/* A systemd service's own cgroup is the agent's unit: the packaged
	 * one's MemoryMax=64M and CPUQuota=5% were published as the worker's
	 * memory and cores, and the agent's own CPU time as the worker's load.
	 * The walk starts at the slice above it.  A container's cgroup is a
	 * scope (docker-ID.scope, libpod-ID.scope) or a plain name. */
	const char *leaf = strrchr(w->path, '/');
	size_t ll = leaf ? strlen(leaf) : 0;
	if (ll > 9 && !strcmp(leaf + ll - 8, ".service"))
		up(w->path);
	return 0;
}

int ag_cgroup_memory(const ag_env *env, uint64_t below, ag_cgmem *m)
{
	char dir[sizeof m->dir], rel[sizeof m->dir + 32], b[64];
	cg_where w;

	memset(m, 0, sizeof *m);
	if (locate(env, "memory", &w) < 0)
		return 0;
	m->v2 = w.v2;
	do {
		char *end;
		uint64_t v;

		if (snprintf(dir, sizeof dir, "%s%s", w.mount, w.path) >= (int)sizeof dir)
			continue;
		snprintf(rel, sizeof rel, "%s/%s", dir, w.v2 ? "memory.max" : "memory.limit_in_bytes");
		/* "max": no limit at this level (v1 writes a huge number) */
		if (ag_read(env, rel, b, sizeof b) > 0 && b[0] >= '0' && b[0] <= '9') {
			v = strtoull(b, &end, 10);
			if (!*end && v && v < below && (!m->limit || v < m->limit)) {
				m->limit = v;
				snprintf(m->dir, sizeof m->dir, "%s", dir);
			}
		}
	} while (up(w.path));
	return m->limit != 0;
}

int ag_cgroup_cpus(const ag_env *env, double below, ag_cgcpu *q)
{
	char dir[AG_CG_PATH + 256], rel[sizeof dir + 32], b[64], level[AG_CG_PATH] = "";
	cg_where w, acct;

	memset(q, 0, sizeof *q);
	if (locate(env, "cpu", &w) < 0)
		return 0;
	q->v2 = w.v2;
	do {
		double quota = -1, period = 0;
		char *end;

		if (snprintf(dir, sizeof dir, "%s%s", w.mount, w.path) >= (int)sizeof dir)
			continue;
		if (w.v2) {
			/* "max 100000": no quota at this level */
			snprintf(rel, sizeof rel, "%s/cpu.max", dir);
			if (ag_read(env, rel, b, sizeof b) > 0 && b[0] >= '0' && b[0] <= '9') {
				quota = strtod(b, &end);
				period = *end == ' ' ? strtod(end + 1, &end) : 0;
				if (*end)
					period = 0;
			}
		} else {
			int64_t qv;
			uint64_t pv;

			/* -1: no quota at this level */
			snprintf(rel, sizeof rel, "%s/cpu.cfs_quota_us", dir);
			if (ag_read_s64(env, rel, &qv) == 0 && qv > 0) {
				snprintf(rel, sizeof rel, "%s/cpu.cfs_period_us", dir);
				if (ag_read_u64(env, rel, &pv) == 0) {
					quota = (double)qv;
					period = (double)pv;
				}
			}
		}
		if (quota > 0 && period > 0 && quota / period < below &&
		    (!q->cpus || quota / period < q->cpus)) {
			q->cpus = quota / period;
			snprintf(q->limit, sizeof q->limit, "%s/%s", dir,
			         w.v2 ? "cpu.max" : "cpu.cfs_quota_us");
			snprintf(level, sizeof level, "%s", w.path);
		}
	} while (up(w.path));
	if (!q->cpus)
		return 0;
	/* The time used: v2's at the quota's level; v1's in the cpuacct
	 * hierarchy, at the quota's level where cpuacct shares cpu's (one
	 * line "cpu,cpuacct"), else the agent's own cgroup there or the
	 * nearest level of it that is there (its paths are not cpu's). */
	if (w.v2)
		snprintf(q->usage, sizeof q->usage, "%s%s/cpu.stat", w.mount, level);
	else if (locate(env, "cpuacct", &acct) < 0)
		q->usage[0] = 0;
	else if (acct.id == w.id)
		snprintf(q->usage, sizeof q->usage, "%s%s/cpuacct.usage", acct.mount, level);
	else
		do {
			uint64_t v;

			snprintf(q->usage, sizeof q->usage, "%s%s/cpuacct.usage", acct.mount,
			         acct.path);
			if (ag_read_u64(env, q->usage, &v) == 0)
				break;
			q->usage[0] = 0;
		} while (up(acct.path));
	return 1;
}

/* One "name value" line of a stat file (memory.stat, cpu.stat), or -1. */
static int stat_value(const char *stat, const char *name, uint64_t *out)
{
	size_t n = strlen(name);

	for (const char *p = stat; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, name, n) && p[n] == ' ') {
			*out = strtoull(p + n + 1, NULL, 10);
			return 0;
		}
	return -1;
}

double ag_cgroup_used_percent(const ag_env *env, const ag_cgmem *m)
{
	char rel[sizeof m->dir + 32], stat[8192];
	uint64_t used, inactive = 0;

	if (!m->limit)
		return -1;
	snprintf(rel, sizeof rel, "%s/%s", m->dir,
	         m->v2 ? "memory.current" : "memory.usage_in_bytes");
	if (ag_read_u64(env, rel, &used) < 0)
		return -1;
	snprintf(rel, sizeof rel, "%s/memory.stat", m->dir);
	if (ag_read(env, rel, stat, sizeof stat) > 0)
		stat_value(stat, m->v2 ? "inactive_file" : "total_inactive_file", &inactive);
	used = inactive < used ? used - inactive : 0;
	return used >= m->limit ? 100 : 100.0 * (double)used / (double)m->limit;
}

double ag_cgroup_cpu_seconds(const ag_env *env, const ag_cgcpu *q)
{
	char stat[4096];
	uint64_t v;

	if (!q->usage[0])
		return -1;
	if (q->v2)
		return ag_read(env, q->usage, stat, sizeof stat) > 0 &&
		       stat_value(stat, "usage_usec", &v) == 0 ? (double)v / 1e6 : -1;
	return ag_read_u64(env, q->usage, &v) == 0 ? (double)v / 1e9 : -1;
}
