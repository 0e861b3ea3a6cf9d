/*
 * abi_surface.c -- every struct of the ABI reachable from one exported
 * function, so that a shared object built from it with -g carries the
 * header's whole layout in its DWARF.  test_abidiff.sh builds it once
 * against the current header and once against the frozen 1.0 copy and lets
 * abidiff compare the two.  Only 1.0 types may appear here: the same file
 * must compile against both.
 */
#include <lbsched/abi.h>

LBS_EXPORT void lbs_abi_surface(const lbs_plugin_entry *entry, lbs_plugin_entry_fn entry_fn,
                                const lbs_scheduler_desc *desc, const lbs_host_api *host,
                                const lbs_device *device, const lbs_worker *worker,
                                const lbs_workload *workload, const lbs_selection *selection,
                                const lbs_outcome *outcome, const lbs_ext_store *store,
                                lbs_write_fn write);

void lbs_abi_surface(const lbs_plugin_entry *entry, lbs_plugin_entry_fn entry_fn,
                     const lbs_scheduler_desc *desc, const lbs_host_api *host,
                     const lbs_device *device, const lbs_worker *worker,
                     const lbs_workload *workload, const lbs_selection *selection,
                     const lbs_outcome *outcome, const lbs_ext_store *store, lbs_write_fn write)
{
	(void)entry, (void)entry_fn, (void)desc, (void)host, (void)device, (void)worker;
	(void)workload, (void)selection, (void)outcome, (void)store, (void)write;
}
