/*
 * simulate_cmd.h -- `lbsched-shim simulate`: run a fleet, a truth file and a
 * stream of tests through one scheduler or a comparison (docs/SIMULATE.md).
 */
#ifndef LBS_SIMULATE_CMD_H
#define LBS_SIMULATE_CMD_H

#include <stdint.h>

#include "options.h"

/* argv[0] is "simulate".  Exit status: 0, 1 bad input, 2 a usage error or
 * a plugin refused. */
int cmd_simulate(const char *prog, int argc, char **argv);
extern const cli_cmd simulate_cmd;

/* An option's value as an integer in lo..hi: digits only (no sign, no
 * space); 0 with *out set, else EXIT_USAGE after "OPT must be an integer in
 * LO..HI, got 'S'" about cmd. */
int sim_parse_u32(const char *prog, const cli_cmd *cmd, const char *opt, const char *s,
                  uint32_t lo, uint32_t hi, uint32_t *out);

#endif
