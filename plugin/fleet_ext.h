/* fleet_ext.h -- the plugin's "lbs.ext.fleet/1" interface (see abi.h). */
#ifndef LBS_PLUGIN_FLEET_EXT_H
#define LBS_PLUGIN_FLEET_EXT_H

#include <lbsched/abi.h>
#include <lbsched/fleet.h>

extern const lbs_ext_fleet fleet_ext;

#endif
