/*
 * prefs.h -- `lbsched-shim prefs dump|export|import|reset --db DIR`: the
 * learned store through the plugin's "lbs.ext.store/1" extension (only the
 * plugin touches LMDB).
 */
#ifndef LBS_PREFS_H
#define LBS_PREFS_H

#include "options.h"

/* argv[0] is "prefs".  Exit status: 0, 1 bad input or store error, 2 a
 * usage error or a plugin refused. */
int cmd_prefs(const char *prog, int argc, char **argv);
extern const cli_cmd prefs_cmd;

#endif
