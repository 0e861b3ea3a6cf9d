/*
 * textbuf.h -- a growing text buffer that plugins write into through
 * lbs_write_fn (explain, stats, store export).
 */
#ifndef LBS_TEXTBUF_H
#define LBS_TEXTBUF_H

#include <stddef.h>

typedef struct textbuf {
	char *p;     /* NUL-terminated once anything was written; malloc'd */
	size_t len, cap;
	int failed;  /* an append ran out of memory; the text is cut short */
} textbuf;

/* An lbs_write_fn: append len bytes.  Returns 0, or 1 when out of memory
 * (which asks the writer to stop). */
int textbuf_write(void *ctx, const char *data, size_t len);

/* Free the text; the buffer is empty and reusable afterwards. */
void textbuf_free(textbuf *t);

#endif
