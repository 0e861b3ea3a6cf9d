/*
 * textbuf.c -- see textbuf.h.
 */
#include <stdlib.h>
#include <string.h>

#include "textbuf.h"

int textbuf_write(void *ctx, const char *data, size_t len)
{
	textbuf *t = ctx;

	if (t->failed)
		return 1;
	if (t->len + len + 1 > t->cap) {
		size_t cap = t->cap ? t->cap : 4096;
		char *np;

		while (cap < t->len + len + 1)
			cap *= 2;
		np = realloc(t->p, cap);
		if (!np) {
			t->failed = 1;
			return 1;
		}
		t->p = np;
		t->cap = cap;
	}
	memcpy(t->p + t->len, data, len);
	t->len += len;
	t->p[t->len] = '\0';
	return 0;
}

void textbuf_free(textbuf *t)
{
	free(t->p);
	memset(t, 0, sizeof *t);
}
