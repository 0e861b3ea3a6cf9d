/* store_ext.h -- the plugin's "lbs.ext.store/1" interface (see abi.h). */
#ifndef LBS_PLUGIN_STORE_EXT_H
#define LBS_PLUGIN_STORE_EXT_H

#include <lbsched/abi.h>

#include "store.h"

extern const lbs_ext_store store_ext;

/* One record of the export document (",\n{...}" after the first, at
 * index 0 without the comma); nonzero when out of memory or the writer
 * refused. */
int store_ext_write_item(lbs_write_fn write, void *ctx, const store_item *it, int index);

#endif
