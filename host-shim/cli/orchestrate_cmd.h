/*
 * orchestrate_cmd.h -- `lbsched-shim orchestrate`: a workload graph's plan
 * on a fleet through one scheduler (docs/ORCHESTRATE.md).
 */
#ifndef LBS_ORCHESTRATE_CMD_H
#define LBS_ORCHESTRATE_CMD_H

#include "options.h"

/* argv[0] is "orchestrate".  Exit status: 0, 1 bad input, 2 a usage error
 * or a plugin refused. */
int cmd_orchestrate(const char *prog, int argc, char **argv);
extern const cli_cmd orchestrate_cmd;

#endif
