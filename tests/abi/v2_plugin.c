/*
 * A plugin of a future major: it exports lbs_plugin_entry_v2 only, as the
 * ABI's rule says an incompatible version must.  The host must refuse it
 * with a message naming both versions, and never call into it.
 */
#include <lbsched/abi.h>

static const lbs_plugin_entry entry = {
	.struct_size = sizeof(lbs_plugin_entry),
	.abi_major = 2,
	.abi_minor = 0,
	.plugin_name = "from-the-future",
	.plugin_version = "2.0.0",
};

LBS_EXPORT const lbs_plugin_entry *lbs_plugin_entry_v2(void);
const lbs_plugin_entry *lbs_plugin_entry_v2(void)
{
	return &entry;
}
