/*
 * abi_surface.c -- every struct of the ABI reachable from exported
 * functions, so that a shared object built from it with -g carries the
 * header's whole layout in its DWARF.  test_abidiff.sh builds it against
 * the current header and against each frozen release and lets abidiff
 * compare them.  lbs_abi_surface takes the 1.0 types and never changes;
 * a minor that adds types adds a function of its own, lbs_abi_surface_v1_N,
 * compiled only against headers of that minor or newer, so the same file
 * builds against every release.
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

#if LBS_ABI_MINOR >= 2
LBS_EXPORT void lbs_abi_surface_v1_2(const lbs_ext_fleet *fleet);

void lbs_abi_surface_v1_2(const lbs_ext_fleet *fleet)
{
	(void)fleet;
}
#endif
