/*
 * A plugin that exports its entry as the struct itself, not as the
 * function that returns it (CLAP's entry is a struct): the host must
 * refuse it by name, not call the data.
 */
#include <lbsched/abi.h>

LBS_EXPORT const lbs_plugin_entry lbs_plugin_entry_v1;
const lbs_plugin_entry lbs_plugin_entry_v1 = {
	.struct_size = sizeof(lbs_plugin_entry),
	.abi_major = LBS_ABI_MAJOR,
	.abi_minor = LBS_ABI_MINOR,
	.plugin_name = "data-entry",
	.plugin_version = "0.0.1",
};
