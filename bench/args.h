/*
 * args.h -- a benchmark's options: each takes a value, and a count is
 * digits alone within its range.  atoi's 0 for "abc" ran a benchmark on
 * no devices, and an option without its value was dropped, the figure
 * printed as if it were given.
 */
#ifndef LBS_BENCH_ARGS_H
#define LBS_BENCH_ARGS_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 0 when argv[i] has a value after it, else -1 (said on stderr). */
static inline int bench_has_value(const char *prog, int argc, char **argv, int i)
{
	if (i + 1 < argc)
		return 0;
	fprintf(stderr, "%s: %s needs a value (or is unknown)\n", prog, argv[i]);
	return -1;
}

/* *out from text, digits alone in min..max; else -1 (said on stderr). */
static inline int bench_count(const char *prog, const char *opt, const char *text,
                              unsigned long long min, unsigned long long max,
                              unsigned long long *out)
{
	char *end;

	errno = 0;
	*out = strtoull(text, &end, 10);
	if (text[0] < '0' || text[0] > '9' || *end || errno || *out < min || *out > max) {
		fprintf(stderr, "%s: %s must be a whole number from %llu to %llu, got '%s'\n", prog,
		        opt, min, max, text);
		return -1;
	}
	return 0;
}

#endif
