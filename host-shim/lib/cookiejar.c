/*
 * cookiejar.c -- see cookiejar.h.  A set-associative table: the hash of
 * the test id and worker id picks a set of JAR_WAYS entries, and an entry
 * is a hash, a cookie and the order it was put in.  Only the hash is
 * kept: two pairs of one 64-bit hash would share a cookie, and a wrong
 * cookie only makes a scheduler match the outcome to another decision of
 * the same host.
 */
#include "cookiejar.h"

#include <stdlib.h>

#include "hash.h"

#define SETS (JAR_ENTRIES / JAR_WAYS)

_Static_assert((SETS & (SETS - 1)) == 0, "the set is the hash's low bits");

typedef struct jar_entry {
	uint64_t h;      /* the test id's hash; 0: empty */
	uint64_t cookie;
	uint64_t order;  /* when it was put: the least is given up first */
} jar_entry;

struct cookiejar {
	uint64_t puts;
	jar_entry e[JAR_ENTRIES];
};

cookiejar *jar_new(void)
{
	return calloc(1, sizeof(cookiejar));
}

void jar_free(cookiejar *j)
{
	free(j);
}

/* The pair's hash, never 0 (an empty entry), and its set.  A byte no id
 * holds between the two: ("ab", "c") is not ("a", "bc"). */
static jar_entry *set_of(const cookiejar *j, const char *test_id, const char *worker_id,
                         uint64_t *h)
{
	uint64_t x = lbs_fnv1a(lbs_fnv1a_n(lbs_fnv1a(LBS_FNV_OFFSET, test_id), "", 1), worker_id);

	x ^= x >> 32; /* the set is the low bits: fold the high ones in */
	*h = x ? x : 1;
	return (jar_entry *)&j->e[(*h & (SETS - 1)) * JAR_WAYS];
}

void jar_put(cookiejar *j, const char *test_id, const char *worker_id, uint64_t cookie)
{
	jar_entry *set, *slot;
	uint64_t h;

	if (!j || !test_id || !test_id[0] || !worker_id || !worker_id[0])
		return;
	set = set_of(j, test_id, worker_id, &h);
	slot = &set[0];
	for (int w = 0; w < JAR_WAYS; w++) {
		if (set[w].h == h) {
			slot = &set[w];
			break;
		}
		if (set[w].order < slot->order)
			slot = &set[w];
	}
	if (!cookie) {
		if (slot->h == h)
			*slot = (jar_entry){0};
		return;
	}
	*slot = (jar_entry){h, cookie, ++j->puts};
}

uint64_t jar_get(const cookiejar *j, const char *test_id, const char *worker_id)
{
	const jar_entry *set;
	uint64_t h;

	if (!j || !test_id || !test_id[0] || !worker_id || !worker_id[0])
		return 0;
	set = set_of(j, test_id, worker_id, &h);
	for (int w = 0; w < JAR_WAYS; w++)
		if (set[w].h == h)
			return set[w].cookie;
	return 0;
}
