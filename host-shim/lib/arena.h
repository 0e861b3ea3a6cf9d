/*
 * arena.h -- a bump allocator that owns everything one conversion made, so
 * a fleet or a batch of workloads is freed with one call.
 */
#ifndef LBS_ARENA_H
#define LBS_ARENA_H

#include <stddef.h>

typedef struct arena arena;

arena *arena_new(void);                 /* NULL when out of memory */
void arena_free(arena *a);              /* NULL is fine */
/* Everything allocated is given back; the first chunk is kept (zeroed
 * again), so that an arena used once per call costs no allocation. */
void arena_reset(arena *a);
void *arena_alloc(arena *a, size_t n);  /* zeroed, aligned for any type */
char *arena_strdup(arena *a, const char *s);

#endif
