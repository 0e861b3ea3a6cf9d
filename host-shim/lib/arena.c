/*
 * arena.c -- a chunked bump allocator.
 *
 * Small allocations are carved from the current chunk; one that would waste
 * more than a quarter of a chunk gets a chunk of its own, linked behind the
 * current one so the current chunk's free tail stays usable.
 */
#include "arena.h"

#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK_SIZE ((size_t)64 * 1024)
#define ALIGN alignof(max_align_t)

struct chunk {
	struct chunk *next;
	size_t size; /* usable bytes after the header */
	size_t used;
};

struct arena {
	struct chunk *head; /* the chunk small allocations come from */
};

/* The header is padded so that the first byte after it is aligned. */
#define HEADER (((sizeof(struct chunk) + ALIGN - 1) / ALIGN) * ALIGN)

static unsigned char *chunk_data(struct chunk *c)
{
	return (unsigned char *)c + HEADER;
}

static struct chunk *chunk_new(size_t size)
{
	if (size > SIZE_MAX - HEADER)
		return NULL;
	/* calloc: arena memory is promised zeroed, and fresh pages from the
	 * allocator often are already, which calloc knows. */
	struct chunk *c = calloc(1, HEADER + size);
	if (!c)
		return NULL;
	c->size = size;
	return c;
}

arena *arena_new(void)
{
	arena *a = calloc(1, sizeof *a);
	if (!a)
		return NULL;
	a->head = chunk_new(CHUNK_SIZE);
	if (!a->head) {
		free(a);
		return NULL;
	}
	return a;
}

void arena_free(arena *a)
{
	if (!a)
		return;
	struct chunk *c = a->head;
	while (c) {
		struct chunk *next = c->next;
		free(c);
		c = next;
	}
	free(a);
}

void arena_reset(arena *a)
{
	struct chunk *keep = NULL, *c = a ? a->head : NULL;

	while (c) {
		struct chunk *next = c->next;
		if (!keep && c->size == CHUNK_SIZE)
			keep = c;
		else
			free(c);
		c = next;
	}
	if (keep) {
		memset(chunk_data(keep), 0, keep->used);
		keep->used = 0;
		keep->next = NULL;
	}
	if (a)
		a->head = keep;
}

void *arena_alloc(arena *a, size_t n)
{
	if (!a)
		return NULL;
	/* Zero bytes still gets a distinct, valid pointer, as malloc may. */
	if (n == 0)
		n = 1;
	if (n > SIZE_MAX - ALIGN)
		return NULL;
	n = (n + ALIGN - 1) / ALIGN * ALIGN;

	struct chunk *c = a->head;
	if (c && c->size - c->used >= n) {
		void *p = chunk_data(c) + c->used;
		c->used += n;
		return p;
	}
	if (n > CHUNK_SIZE / 4) {
		struct chunk *big = chunk_new(n);
		if (!big)
			return NULL;
		big->used = n;
		if (c) {
			big->next = c->next;
			c->next = big;
		} else {
			a->head = big;
		}
		return chunk_data(big);
	}
	struct chunk *fresh = chunk_new(CHUNK_SIZE);
	if (!fresh)
		return NULL;
	fresh->next = c;
	fresh->used = n;
	a->head = fresh;
	return chunk_data(fresh);
}

char *arena_strdup(arena *a, const char *s)
{
	if (!s)
		return NULL;
	size_t n = strlen(s) + 1;
	char *p = arena_alloc(a, n);
	if (p)
		memcpy(p, s, n);
	return p;
}
