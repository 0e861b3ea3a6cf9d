/*
 * one_scheduler.h -- the rest of a test plugin that offers one scheduler:
 * init and deinit with nothing to prepare, a table of that one scheduler,
 * and the exported entry.  It needs abi/ alone, as a third party's plugin
 * would.  Include it at the end of the plugin's file, after defining
 *   PLUGIN_NAME    the plugin's name, a string
 *   THE_SCHEDULER  its static lbs_scheduler_desc
 * and, optionally, PLUGIN_VERSION, THE_EXTENSIONS (its get_extension
 * function; none without it), THE_INIT and THE_DEINIT (its own init and
 * deinit, in place of those that do nothing).  Whichever lbsched/abi.h the plugin is
 * built against is the one used here (old_plugin.c: an older copy).
 */
#ifndef LBS_TEST_ONE_SCHEDULER_H
#define LBS_TEST_ONE_SCHEDULER_H

#include <string.h>

#include <lbsched/abi.h>

#ifndef PLUGIN_VERSION
#define PLUGIN_VERSION "0.0.1"
#endif

#ifndef THE_INIT
static lbs_status e_init(const lbs_host_api *host, char *err, size_t errlen)
{
	(void)host;
	(void)err;
	(void)errlen;
	return LBS_OK;
}
#define THE_INIT e_init
#endif

#ifndef THE_DEINIT
static void e_deinit(void)
{
}
#define THE_DEINIT e_deinit
#endif

static uint32_t e_count(void)
{
	return 1;
}

static const lbs_scheduler_desc *e_get(uint32_t i)
{
	return i == 0 ? &THE_SCHEDULER : NULL;
}

static const lbs_scheduler_desc *e_find(const char *name)
{
	return name && !strcmp(name, THE_SCHEDULER.name) ? &THE_SCHEDULER : NULL;
}

static const lbs_plugin_entry entry = {
	.struct_size = sizeof(lbs_plugin_entry),
	.abi_major = LBS_ABI_MAJOR,
	.abi_minor = LBS_ABI_MINOR,
	.plugin_name = PLUGIN_NAME,
	.plugin_version = PLUGIN_VERSION,
	.init = THE_INIT,
	.deinit = THE_DEINIT,
	.scheduler_count = e_count,
	.scheduler_get = e_get,
	.scheduler_find = e_find,
#ifdef THE_EXTENSIONS
	.get_extension = THE_EXTENSIONS,
#endif
};

LBS_EXPORT const lbs_plugin_entry *lbs_plugin_entry_v1(void);
const lbs_plugin_entry *lbs_plugin_entry_v1(void)
{
	return &entry;
}

#endif
