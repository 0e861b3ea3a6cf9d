/*
 * graphsim.h -- `simulate --graphs`: workload graphs through the truth, the
 * orchestrator against HEFT and the critical-path bound (graphsim.c).
 */
#ifndef LBS_GRAPHSIM_H
#define LBS_GRAPHSIM_H

#include "options.h"

/* argv as cmd_simulate got it, argv[0] "simulate".  Exit status: 0, 1 bad
 * input, 2 a usage error or a plugin refused. */
int cmd_graphsim(const char *prog, int argc, char **argv);
extern const cli_cmd graphsim_cmd;

#endif
