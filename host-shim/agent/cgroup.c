/*
 * cgroup.c -- what a container lets its worker use.  A worker in a
 * container (Docker, Kubernetes, a systemd unit's MemoryMax or CPUQuota)
 * sees the machine's /proc/meminfo, /proc/stat and every CPU; what it may
 * use is its cgroup's limits, the lowest along the cgroup's path (a pod's
 * limit sits on the pod, a container's on the container):
 *   - memory: v2's memory.max, v1's memory.limit_in_bytes; in use, that
 *     cgroup's working set, usage less the inactive file cache the kernel
 *     reclaims before it would kill (as the kubelet counts it);
 *   - CPU: v2's cpu.max, v1's cpu.cfs_quota_us over cpu.cfs_period_us, in
 *     CPUs; in use, the cgroup's CPU time (v2 cpu.stat usage_usec, v1
 *     cpuacct.usage) over that many CPUs' time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup.h"

/* The agent's cgroup in the hierarchy of controller ctl, from
 * /proc/self/cgroup: v1's "N:...ctl...:/path" first (a hybrid machine
 * binds the controllers to v1 and still lists "0::/"), else v2's
 * "0::/path".  -1 when neither, or the path is longer than n. */
static int own_cgroup(const ag_env *env, const char *ctl, int *v2, char *path, size_t n)
{
	char b[8192], *line, *save = NULL, *unified = NULL;
	size_t len = strlen(ctl);

	if (ag_read(env, "/proc/self/cgroup", b, sizeof b) <= 0)
		return -1;
	for (line = strtok_r(b, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *ctls = strchr(line, ':'), *p = ctls ? strchr(ctls + 1, ':') : NULL;

		if (!p)
			continue;
		*ctls++ = 0;
		*p++ = 0;
		if (!*ctls && !strcmp(line, "0")) {
			unified = p;
			continue;
		}
		for (char *c = ctls, *e; c; c = e ? e + 1 : NULL) {
			e = strchr(c, ',');
			if ((e ? (size_t)(e - c) : strlen(c)) == len && !strncmp(c, ctl, len)) {
				*v2 = 0;
				return p[0] == '/' && snprintf(path, n, "%s", p) < (int)n ? 0 : -1;
			}
		}
	}
	*v2 = 1;
	return unified && unified[0] == '/' && snprintf(path, n, "%s", unified) < (int)n ? 0 : -1;
}

/* Each level of that cgroup, from it up to the hierarchy's root, as its
 * path ("" for the root): in a container with a cgroup namespace the path
 * is "/", and without one the host's path is not there under the
 * container's mount, whose root is its own cgroup (a level that is not
 * there has no file, and is passed over by the caller's read). */
static int up(char *path)
{
	char *slash = strrchr(path, '/');

	if (!slash || !path[0])
		return 0;
	*slash = 0;
	return 1;
}

static void level_dir(char *dir, size_t n, const char *mount, const char *path)
{
	snprintf(dir, n, "%s%s", mount, path);
}

int ag_cgroup_memory(const ag_env *env, uint64_t below, ag_cgmem *m)
{
	char path[AG_CG_PATH], dir[sizeof m->dir], rel[sizeof m->dir + 32], b[64];
	const char *mount;

	memset(m, 0, sizeof *m);
	if (own_cgroup(env, "memory", &m->v2, path, sizeof path) < 0)
		return 0;
	mount = m->v2 ? "/sys/fs/cgroup" : "/sys/fs/cgroup/memory";
	if (!strcmp(path, "/"))
		path[0] = 0;
	do {
		char *end;
		uint64_t v;

		level_dir(dir, sizeof dir, mount, path);
		snprintf(rel, sizeof rel, "%s/%s", dir, m->v2 ? "memory.max" : "memory.limit_in_bytes");
		/* "max": no limit at this level (v1 writes a huge number) */
		if (ag_read(env, rel, b, sizeof b) > 0 && b[0] >= '0' && b[0] <= '9') {
			v = strtoull(b, &end, 10);
			if (!*end && v && v < below && (!m->limit || v < m->limit)) {
				m->limit = v;
				snprintf(m->dir, sizeof m->dir, "%s", dir);
			}
		}
	} while (up(path));
	return m->limit != 0;
}

int ag_cgroup_cpus(const ag_env *env, double below, ag_cgcpu *q)
{
	char path[AG_CG_PATH], dir[sizeof q->level + 32], rel[sizeof dir + 32], b[64];

	memset(q, 0, sizeof *q);
	if (own_cgroup(env, "cpu", &q->v2, path, sizeof path) < 0)
		return 0;
	if (!strcmp(path, "/"))
		path[0] = 0;
	do {
		double quota = -1, period = 0;
		char *end;

		level_dir(dir, sizeof dir, q->v2 ? "/sys/fs/cgroup" : "/sys/fs/cgroup/cpu", path);
		if (q->v2) {
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
			snprintf(q->level, sizeof q->level, "%s", path);
		}
	} while (up(path));
	return q->cpus > 0;
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
	char rel[sizeof q->level + 64], stat[4096];
	uint64_t v;

	if (q->v2) {
		snprintf(rel, sizeof rel, "/sys/fs/cgroup%s/cpu.stat", q->level);
		return ag_read(env, rel, stat, sizeof stat) > 0 &&
		       stat_value(stat, "usage_usec", &v) == 0 ? (double)v / 1e6 : -1;
	}
	/* v1 counts CPU time in the cpuacct controller, beside cpu */
	snprintf(rel, sizeof rel, "/sys/fs/cgroup/cpuacct%s/cpuacct.usage", q->level);
	return ag_read_u64(env, rel, &v) == 0 ? (double)v / 1e9 : -1;
}
