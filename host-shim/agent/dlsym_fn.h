/*
 * dlsym_fn.h -- a symbol of a dlopen()ed library into a function pointer,
 * for the libraries the agent loads at run time (nvml.c, rocm.c), without
 * the object-to-function pointer cast that ISO C leaves undefined.
 */
#ifndef LBS_AGENT_DLSYM_FN_H
#define LBS_AGENT_DLSYM_FN_H

#include <dlfcn.h>
#include <string.h>

static inline void ag_dlsym(void *so, const char *name, void *fp)
{
	void *p = dlsym(so, name);
	memcpy(fp, &p, sizeof p);
}

#endif
