/*
 * arena.c -- a chunked bump allocator.
 *
 * Small allocations are carved from the current chunk; one that would waste
 * more than a quarter of a chunk gets a chunk of its own, linked behind the
 * current one so the current chunk's free tail stays usable.  Chunks are
 * 64 KiB; in an arena made by arena_new_sized the first is the caller's
 * size and the later ones start at 1 KiB and double up to 64 KiB, so that
 * what one wastes stays in proportion to what it holds.
 */
#include "arena.h"

#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK_SIZE ((size_t)64 * 1024)
/* Below this a chunk's header and malloc's own are a large share of it. */
#define MIN_CHUNK ((size_t)256)
#define ALIGN alignof(max_align_t)

struct chunk {
	struct chunk *next;
	size_t size; /* usable bytes after the header */
	size_t used;
};

struct arena {
	struct chunk *head; /* the chunk small allocations come from */
	size_t next;        /* the size of the next such chunk, <= CHUNK_SIZE */
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

static size_t grown(size_t size)
{
	return size >= CHUNK_SIZE / 2 ? CHUNK_SIZE : size * 2;
}

arena *arena_new_sized(size_t first)
{
	arena *a = calloc(1, sizeof *a);
	if (!a)
		return NULL;
	if (first < MIN_CHUNK)
		first = MIN_CHUNK;
	if (first > CHUNK_SIZE)
		first = CHUNK_SIZE;
	first = (first + ALIGN - 1) / ALIGN * ALIGN;
	a->head = chunk_new(first);
	if (!a->head) {
		free(a);
		return NULL;
	}
	/* The first chunk was the caller's estimate; what overflows it is
	 * usually a little (a string copied later), so the next chunks start
	 * small again rather than at twice the first. */
	a->next = first == CHUNK_SIZE ? CHUNK_SIZE : 4 * MIN_CHUNK;
	return a;
}

arena *arena_new(void)
{
	return arena_new_sized(CHUNK_SIZE);
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

	/* The largest chunk of at most CHUNK_SIZE: an arena_new one's 64 KiB
	 * as before, a sized one's largest so far; never a one-off giant. */
	for (; c; c = c->next)
		if (c->size <= CHUNK_SIZE && (!keep || c->size > keep->size))
			keep = c;
	for (c = a ? a->head : NULL; c;) {
		struct chunk *next = c->next;
		if (c != keep)
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
	if (n > a->next / 4) {
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
	struct chunk *fresh = chunk_new(a->next);
	if (!fresh)
		return NULL;
	a->next = grown(a->next);
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
