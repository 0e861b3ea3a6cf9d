/*
 * worker_id.h -- a worker's identity as the algorithms use it: whether the
 * struct is usable at all, and a hash of its id for tables that outlive
 * one call (positions mean nothing across calls, abi.h).
 */
#ifndef LBS_WORKER_ID_H
#define LBS_WORKER_ID_H

#include <stdint.h>

#include <lbsched/abi.h>

#include "hash.h"

/* Not NULL, at least the 1.0 size, with an id: what every scan checks
 * before it reads a worker. */
static inline int wid_valid(const lbs_worker *w)
{
	return w && w->struct_size >= LBS_WORKER_SIZE_V1_0 && w->id;
}

/* FNV-1a of a NUL-terminated string, never 0 (tables mark an empty slot
 * with 0).  A 64-bit collision only ever merges two entries' state. */
static inline uint64_t wid_hash(const char *s)
{
	uint64_t h = lbs_fnv1a(LBS_FNV_OFFSET, s);

	return h ? h : 1;
}

#endif
