/*
 * file.c -- whole files into memory, and the lines of a JSON Lines file,
 * for the shim's commands.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file.h"
#include "text.h"

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
		const char *why = txt_not_utf8(buf, n);
		if (why) {
			snprintf(err, errlen, "%s: %s", path, why);
			free(buf);
			return NULL;
		}
		buf[n] = '\0';
		*len = n;
	}
	return buf;
}

char *file_read_config(const char *path, size_t *len, char *err, size_t errlen)
{
	char *text = file_read(path, len, err, errlen);
	size_t i = 0;

	while (text && i < *len && strchr(" \t\r\n", text[i]) && text[i])
		i++;
	if (text && i == *len) {
		snprintf(err, errlen, "%s: is empty (expected a JSON object)", path);
		free(text);
		return NULL;
	}
	return text;
}

void file_lines_init(file_lines *it, char *text, size_t len, const char *name)
{
	it->p = text;
	it->end = text ? text + len : NULL;
	it->name = name;
	it->lineno = 0;
}

/* Lines are cut by length, not by strchr: a NUL byte must end its own line
 * with an error, not silently end the file. */
int file_next_line(file_lines *it, char **line, size_t *len, char *err, size_t errlen)
{
	while (it->p && it->p < it->end) {
		char *l = it->p, *nl = memchr(l, '\n', (size_t)(it->end - l));
		size_t n = nl ? (size_t)(nl - l) : (size_t)(it->end - l);
		const char *nul;

		it->p = nl ? nl + 1 : it->end;
		l[n] = '\0';
		it->lineno++;
		if ((nul = memchr(l, '\0', n))) {
			snprintf(err, errlen, "%s:%u: a NUL byte at byte %zu; JSON Lines are UTF-8 text",
			         it->name, it->lineno, (size_t)(nul - l));
			return -1;
		}
		if (strspn(l, " \t\r") != n) {
			*line = l;
			*len = n;
			return 1;
		}
	}
	return 0;
}
