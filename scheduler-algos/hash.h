/*
 * hash.h -- FNV-1a over an id, the one string hash of the project: the
 * shim's duplicate-id check and cookie jar, the plugin's history, store
 * and ledger tables, the algorithms' wid_hash (worker_id.h).  Each caller
 * that indexes by the low bits folds the high ones into them itself
 * (FNV's low bits are weak for short keys).
 */
#ifndef LBS_HASH_H
#define LBS_HASH_H

#include <stddef.h>
#include <stdint.h>

#define LBS_FNV_OFFSET UINT64_C(14695981039346656037)

/* h (LBS_FNV_OFFSET, or that mixed with a key's other part) carried over
 * the NUL-terminated s. */
static inline uint64_t lbs_fnv1a(uint64_t h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * UINT64_C(1099511628211);
	return h;
}

/* The same over the n bytes of s. */
static inline uint64_t lbs_fnv1a_n(uint64_t h, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * UINT64_C(1099511628211);
	return h;
}

#endif
