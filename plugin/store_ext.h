/* store_ext.h -- the plugin's "lbs.ext.store/1" interface (see abi.h). */
#ifndef LBS_PLUGIN_STORE_EXT_H
#define LBS_PLUGIN_STORE_EXT_H

#include <lbsched/abi.h>

extern const lbs_ext_store store_ext;

#endif
