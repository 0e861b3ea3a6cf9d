/*
 * cgroup.h -- the memory limit of the cgroup the agent runs in, and how
 * much of it is used (cgroup.c).
 */
#ifndef LBS_AGENT_CGROUP_H
#define LBS_AGENT_CGROUP_H

#include <stdint.h>

#include "agent.h"

/* The lowest memory limit on the agent's cgroup and its ancestors that is
 * below `below` bytes (the machine's MemTotal: v1 writes "no limit" as a
 * huge number).  1 with m set, 0 for none (no cgroup file, no limit). */
int ag_cgroup_memory(const ag_env *env, uint64_t below, ag_cgmem *m);

/* The limiting cgroup's working set (usage less inactive file cache) in
 * percent of its limit, or -1 when m has no limit or it cannot be read. */
double ag_cgroup_used_percent(const ag_env *env, const ag_cgmem *m);

/* The lowest CPU quota on the agent's cgroup and its ancestors, in CPUs,
 * that is below `below` (the machine's CPUs).  1 with q set, 0 for none. */
int ag_cgroup_cpus(const ag_env *env, double below, ag_cgcpu *q);

/* The CPU time the limiting cgroup has used, in seconds, or -1. */
double ag_cgroup_cpu_seconds(const ag_env *env, const ag_cgcpu *q);

#endif
