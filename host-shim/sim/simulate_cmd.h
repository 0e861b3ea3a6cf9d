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
/* The config a scheduler named without --config runs with in simulate,
 * orchestrate and simulate --graphs alike: a bare "composite" is 0.7
 * hardware-aware, 0.2 priority, 0.1 round-robin.  NULL: none needed. */
const char *sim_default_config(const char *scheduler);

#endif
