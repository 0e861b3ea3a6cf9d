/*
 * arena.h -- a bump allocator that owns everything one conversion made, so
 * a fleet or a batch of workloads is freed with one call.
 */
#ifndef LBS_ARENA_H
#define LBS_ARENA_H

#include <stddef.h>

typedef struct arena arena;

arena *arena_new(void);                 /* NULL when out of memory */
/* An arena whose first chunk holds `first` bytes (256 to 64 KiB) instead of
 * 64 KiB, later chunks 1 KiB doubling up to 64 KiB: for one that lives long
 * and holds little (an orchestrator's graph, one per workload), where 64 KiB
 * each was most of what a workload cost.  NULL when out of memory. */
arena *arena_new_sized(size_t first);
void arena_free(arena *a);              /* NULL is fine */
/* Everything allocated is given back; one chunk, the largest of at most
 * 64 KiB (arena_new's first), is kept zeroed again, so that an arena used
 * once per call costs no allocation. */
void arena_reset(arena *a);
void *arena_alloc(arena *a, size_t n);  /* zeroed, aligned for any type */
char *arena_strdup(arena *a, const char *s);

#endif
