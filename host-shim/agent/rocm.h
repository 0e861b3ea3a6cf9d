/*
 * rocm.h -- AMD's ROCm SMI library, dlopen()ed at run time and never
 * linked, as NVML is (nvml.h): the agent runs on machines without ROCm.
 */
#ifndef LBS_AGENT_ROCM_H
#define LBS_AGENT_ROCM_H

#include "agent.h"

typedef struct ag_rocm ag_rocm;

/* The library at `lib` initialised, or NULL (and why in err); *unloadable
 * as ag_nvml_open's (nvml.h). */
ag_rocm *ag_rocm_open(const char *lib, int *unloadable, char *err, size_t n);
void ag_rocm_close(ag_rocm *r);

/* As ag_nvml_answers (nvml.h): 0 once rsmi_num_monitor_devices fails. */
int ag_rocm_answers(ag_rocm *r);

/* The GPUs ROCm SMI sees, their static facts into c->gpus; the number
 * listed. */
unsigned ag_rocm_detect(ag_rocm *r, const ag_env *env, ag_caps *c);

/* GPU i's state now; temp_limit is the edge sensor's maximum, else its
 * critical temperature (as hwmon's temp*_max, else temp*_crit).  No clocks: rsmi_frequencies_t changed
 * its layout between ROCm releases, so it is not read without a header. */
int ag_rocm_live(ag_rocm *r, unsigned i, ag_gpu_live *out);

#endif
