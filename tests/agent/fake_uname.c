/*
 * fake_uname.c -- a test-only LD_PRELOAD library: uname() tells the
 * machine named by FAKE_UNAME_MACHINE (armv6l, s390x), so that the agent's
 * cpu_arch is tested for machines the test does not run on.  The rest of
 * struct utsname is this machine's.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#define EXPORT __attribute__((visibility("default")))

EXPORT int uname(struct utsname *u)
{
	int (*real)(struct utsname *);
	void *p = dlsym(RTLD_NEXT, "uname");
	const char *m = getenv("FAKE_UNAME_MACHINE");

	/* without the object-to-function pointer cast ISO C leaves undefined */
	memcpy(&real, &p, sizeof p);
	if (!real || real(u) != 0)
		return -1;
	if (m)
		snprintf(u->machine, sizeof u->machine, "%s", m);
	return 0;
}
