/*
 * fail_mmap.c -- an LD_PRELOAD library for test_cli.sh: a shared mapping
 * of exactly $LBS_FAIL_MMAP_LEN bytes fails with ENOMEM, as under an
 * address-space limit (ulimit -v, systemd's LimitAS=), where LMDB cannot
 * grow a store's map.  Every other mapping is the real mmap's.
 */
/* meson's -D_FILE_OFFSET_BITS=64 names this mmap64, which LMDB never calls */
#undef _FILE_OFFSET_BITS
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* RTLD_NEXT */
#endif
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	static void *(*real)(void *, size_t, int, int, int, off_t);
	const char *fail = getenv("LBS_FAIL_MMAP_LEN");

	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "mmap");
	if (fail && (flags & MAP_SHARED) && len == (size_t)strtoull(fail, NULL, 10)) {
		errno = ENOMEM;
		return MAP_FAILED;
	}
	return real(addr, len, prot, flags, fd, off);
}
