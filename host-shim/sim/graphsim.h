/*
 * graphsim.h -- `simulate --graphs`: workload graphs through the truth, the
 * orchestrator against HEFT and the critical-path bound (graphsim.c).
 */
#ifndef LBS_GRAPHSIM_H
#define LBS_GRAPHSIM_H

/* argv as cmd_simulate got it.  Exit status: 0, 1 bad input, 2 refused. */
int cmd_graphsim(const char *prog, int argc, char **argv);

#endif
