/* fleet_ext.h -- the plugin's "lbs.ext.fleet/1" (declared in abi.h since 1.2). */
#ifndef LBS_PLUGIN_FLEET_EXT_H
#define LBS_PLUGIN_FLEET_EXT_H

#include <lbsched/abi.h>

extern const lbs_ext_fleet fleet_ext;

#endif
