/*
 * fault_alloc.h -- forced (-include) into every source of lbsched-faults.so,
 * a test-only build of the plugin (plugin/meson.build); never part of
 * lbsched.so, which keeps calling libc directly and has no global for it.
 *
 * Every allocation the plugin's own code makes goes through fault_alloc.c,
 * which fails the one numbered $LBS_FAULT_ALLOC_FAIL, so a test can walk
 * create() through each of its allocations failing in turn
 * (tests/test_store_faults.c).  free() needs no hook: the memory is libc's.
 * Allocations inside cJSON and LMDB are theirs and are not counted.
 */
#ifndef LBS_PLUGIN_FAULT_ALLOC_H
#define LBS_PLUGIN_FAULT_ALLOC_H

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

void *lbs_fault_malloc(size_t n);
void *lbs_fault_calloc(size_t n, size_t size);
void *lbs_fault_realloc(void *p, size_t n);
char *lbs_fault_strdup(const char *s);

#define malloc(n) lbs_fault_malloc(n)
#define calloc(n, size) lbs_fault_calloc(n, size)
#define realloc(p, n) lbs_fault_realloc(p, n)
#define strdup(s) lbs_fault_strdup(s)

#endif
