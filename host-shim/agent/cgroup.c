/*
 * cgroup.c -- the memory a container lets its worker use.  A worker in a
 * container (Docker, Kubernetes, a systemd slice with MemoryMax) sees the
 * machine's /proc/meminfo; what it may use is its cgroup's limit: v2's
 * memory.max, v1's memory.limit_in_bytes, the lowest along the cgroup's
 * path (a pod's limit sits on the pod, a container's on the container).
 * What it uses is that cgroup's working set: usage less the inactive file
 * cache the kernel reclaims before it would kill, as the kubelet counts it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup.h"

/* The memory line of /proc/self/cgroup: v1's "N:...memory...:/path" first
 * (a hybrid machine binds memory to v1 and still lists "0::/"), else v2's
 * "0::/path".  Sets the hierarchy's mount and path; -1 when neither. */
static int memory_line(const ag_env *env, ag_cgmem *m, char *path, size_t n)
{
	char b[8192], *line, *save = NULL, *v2 = NULL;

	if (ag_read(env, "/proc/self/cgroup", b, sizeof b) <= 0)
		return -1;
	for (line = strtok_r(b, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *ctl = strchr(line, ':'), *p = ctl ? strchr(ctl + 1, ':') : NULL;

		if (!p)
			continue;
		*ctl++ = 0;
		*p++ = 0;
		if (!*ctl && !strcmp(line, "0")) {
			v2 = p;
			continue;
		}
		for (char *c = ctl, *e; c && *c; c = e ? e + 1 : NULL) {
			e = strchr(c, ',');
			if ((e ? (size_t)(e - c) : strlen(c)) == 6 && !strncmp(c, "memory", 6)) {
				m->v2 = 0;
				return snprintf(path, n, "%s", p) < (int)n ? 0 : -1;
			}
		}
	}
	if (!v2)
		return -1;
	m->v2 = 1;
	return snprintf(path, n, "%s", v2) < (int)n ? 0 : -1;
}

static const char *base(const ag_cgmem *m)
{
	return m->v2 ? "/sys/fs/cgroup" : "/sys/fs/cgroup/memory";
}

int ag_cgroup_memory(const ag_env *env, uint64_t below, ag_cgmem *m)
{
	char path[AG_CG_PATH], rel[AG_CG_PATH + 64], b[64];

	memset(m, 0, sizeof *m);
	if (memory_line(env, m, path, sizeof path) < 0 || path[0] != '/')
		return 0;
	/* From the cgroup up to the hierarchy's root: in a container with a
	 * cgroup namespace the path is "/", and without one the host's path
	 * is not there under the container's mount, whose root is its own
	 * cgroup; a level that is not there is passed over. */
	for (;;) {
		uint64_t v;
		char *end;

		snprintf(rel, sizeof rel, "%s%s/%s", base(m), strcmp(path, "/") ? path : "",
		         m->v2 ? "memory.max" : "memory.limit_in_bytes");
		/* "max": no limit at this level (v1 writes a huge number) */
		if (ag_read(env, rel, b, sizeof b) > 0 && b[0] >= '0' && b[0] <= '9') {
			v = strtoull(b, &end, 10);
			if (!*end && v && v < below && (!m->limit || v < m->limit)) {
				m->limit = v;
				snprintf(m->dir, sizeof m->dir, "%s%s", base(m),
				         strcmp(path, "/") ? path : "");
			}
		}
		if (!strcmp(path, "/"))
			break;
		char *slash = strrchr(path, '/');
		if (slash == path)
			slash[1] = 0;
		else
			*slash = 0;
	}
	return m->limit != 0;
}

/* One "name value" line of memory.stat, or -1. */
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
	char rel[AG_CG_PATH + 64], stat[8192];
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
