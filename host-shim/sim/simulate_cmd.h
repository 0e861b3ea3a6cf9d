/*
 * simulate_cmd.h -- `lbsched-shim simulate`: run a fleet, a truth file and a
 * stream of tests through one scheduler or a comparison (docs/SIMULATE.md).
 */
#ifndef LBS_SIMULATE_CMD_H
#define LBS_SIMULATE_CMD_H

#include "options.h"

/* argv[0] is "simulate".  Exit status: 0, 1 bad input, 2 a usage error or
 * a plugin refused. */
int cmd_simulate(const char *prog, int argc, char **argv);
extern const cli_cmd simulate_cmd;

#endif
