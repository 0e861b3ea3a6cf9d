/*
 * check.h -- the test suite's assertions.  A failed check prints where and
 * what, and the test goes on so one run shows every failure; check_done()
 * prints the totals and gives main() its exit code.
 */
#ifndef LBS_CHECK_H
#define LBS_CHECK_H

#include <math.h>
#include <stdio.h>
#include <string.h>

static int check_total, check_failed;

#define CHECK(cond)                                                           \
	do {                                                                  \
		check_total++;                                                \
		if (!(cond)) {                                                \
			check_failed++;                                       \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n",          \
			        __FILE__, __LINE__, #cond);                   \
		}                                                             \
	} while (0)

#define CHECK_INT(a, b)                                                       \
	do {                                                                  \
		long long check_a_ = (long long)(a), check_b_ = (long long)(b); \
		check_total++;                                                \
		if (check_a_ != check_b_) {                                   \
			check_failed++;                                       \
			fprintf(stderr, "%s:%d: %s == %lld, expected %lld\n", \
			        __FILE__, __LINE__, #a, check_a_, check_b_);  \
		}                                                             \
	} while (0)

#define CHECK_STR(a, b)                                                       \
	do {                                                                  \
		const char *check_a_ = (a), *check_b_ = (b);                  \
		check_total++;                                                \
		if (!check_a_ || !check_b_ || strcmp(check_a_, check_b_)) {   \
			check_failed++;                                       \
			fprintf(stderr, "%s:%d: %s == \"%s\", expected \"%s\"\n", \
			        __FILE__, __LINE__, #a,                       \
			        check_a_ ? check_a_ : "(null)",               \
			        check_b_ ? check_b_ : "(null)");              \
		}                                                             \
	} while (0)

/* The text a contains b. */
#define CHECK_CONTAINS(a, b)                                                  \
	do {                                                                  \
		const char *check_a_ = (a), *check_b_ = (b);                  \
		check_total++;                                                \
		if (!check_a_ || !strstr(check_a_, check_b_)) {               \
			check_failed++;                                       \
			fprintf(stderr, "%s:%d: %s == \"%s\", expected to contain \"%s\"\n", \
			        __FILE__, __LINE__, #a,                       \
			        check_a_ ? check_a_ : "(null)", check_b_);    \
		}                                                             \
	} while (0)

#define CHECK_NEAR(a, b, eps)                                                 \
	do {                                                                  \
		double check_a_ = (a), check_b_ = (b);                        \
		check_total++;                                                \
		if (!(fabs(check_a_ - check_b_) <= (eps))) {                  \
			check_failed++;                                       \
			fprintf(stderr, "%s:%d: %s == %.9g, expected %.9g\n", \
			        __FILE__, __LINE__, #a, check_a_, check_b_);  \
		}                                                             \
	} while (0)

static inline int check_done(const char *name)
{
	printf("%s: %d checks, %d failed\n", name, check_total, check_failed);
	return check_failed ? 1 : 0;
}

#endif
