/*
 * file.c -- whole files into memory, for the shim's commands.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file.h"

/* Whole file into a NUL-terminated buffer; "-" is stdin. */
char *file_read(const char *path, size_t *len, char *err, size_t errlen)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	char *buf = NULL;
	size_t cap = 0, n = 0;

	if (!f) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		size_t got;
		if (n > FILE_MAX_BYTES) {
			snprintf(err, errlen, "%s: larger than %u MiB, the most lbsched reads",
			         path, FILE_MAX_BYTES >> 20);
			free(buf);
			buf = NULL;
			break;
		}
		if (cap - n < 4096) {
			char *nb;
			cap = cap ? cap * 2 : 65536;
			/* Room for one read past the limit, which is how we see it. */
			if (cap > FILE_MAX_BYTES + 65536)
				cap = FILE_MAX_BYTES + 65536;
			nb = realloc(buf, cap + 1);
			if (!nb) {
				snprintf(err, errlen, "%s: out of memory", path);
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0) {
			if (ferror(f)) {
				snprintf(err, errlen, "%s: read error: %s", path, strerror(errno));
				free(buf);
				buf = NULL;
			}
			break;
		}
	}
	if (f != stdin)
		fclose(f);
	if (buf) {
		buf[n] = '\0';
		*len = n;
	}
	return buf;
}
