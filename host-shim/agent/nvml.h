/*
 * nvml.h -- NVIDIA's management library, dlopen()ed at run time and never
 * linked, so the agent runs on machines without the driver.
 */
#ifndef LBS_AGENT_NVML_H
#define LBS_AGENT_NVML_H

#include "agent.h"

typedef struct ag_nvml ag_nvml;

/* The library at `lib` initialised, or NULL (and why in err) when it is
 * absent or refuses: a machine without NVIDIA GPUs.  *unloadable is 1 when
 * it could not be loaded at all (dlopen, or not NVML's symbols), 0 when it
 * loaded and nvmlInit_v2 refused (no driver). */
ag_nvml *ag_nvml_open(const char *lib, int *unloadable, char *err, size_t n);
void ag_nvml_close(ag_nvml *nv);

/* 1 while the library still counts the GPUs; 0 once it no longer does,
 * as after the driver under it was upgraded or reloaded: then only a new
 * dlopen and nvmlInit_v2 answer again. */
int ag_nvml_answers(ag_nvml *nv);

/* The GPUs NVML sees, their static facts into c->gpus, the driver and
 * CUDA versions into c; the number listed. */
unsigned ag_nvml_detect(ag_nvml *nv, const ag_env *env, ag_caps *c);

/* One GPU's state now (agent.h); temp_limit is NVML's slowdown threshold,
 * else its shutdown one. */
int ag_nvml_live(ag_nvml *nv, unsigned i, ag_gpu_live *out);

#endif
