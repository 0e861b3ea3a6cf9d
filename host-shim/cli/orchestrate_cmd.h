/*
 * orchestrate_cmd.h -- `lbsched-shim orchestrate`: a workload graph's plan
 * on a fleet through one scheduler (docs/ORCHESTRATE.md).
 */
#ifndef LBS_ORCHESTRATE_CMD_H
#define LBS_ORCHESTRATE_CMD_H

/* argv[0] is the command's name (getopt's convention), the options follow.
 * Exit status: 0, 1 bad input, 2 plugin refused. */
int cmd_orchestrate(const char *prog, int argc, char **argv);

#endif
