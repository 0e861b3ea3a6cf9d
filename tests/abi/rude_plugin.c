/*
 * A plugin whose own text misbehaves, to prove the host bounds and
 * one-lines everything a plugin names.  Built three times (tests/meson.build):
 *   (default)   plugin name and scheduler "rude\n\x1b[31mforged" with a
 *               newline and an escape, a scheduler named with 300 bytes, and
 *               one ("rude-long") with a 4,000-byte description;
 *   RUDE_COUNT  scheduler_count() says UINT32_MAX;
 *   RUDE_INIT   init fails with its error buffer filled with 'E' and no
 *               terminator;
 *   RUDE_TWINS  two schedulers named "twin", the second without create;
 *   RUDE_FIND   init asks the host to find a scheduler, which a host
 *               cannot do before init returns, and fails with the
 *               host's answer;
 *   RUDE_SMALL  a fourth descriptor of 8 bytes, before its name, whose
 *               name's bytes would point at address 16;
 *   RUDE_EXT    the store and fleet extensions, whole in size and every
 *               slot NULL.
 * The schedulers answer honestly: the first worker offered, with a reason
 * that has no terminating NUL ("first": the host's buffer must not show
 * the rest of an earlier, longer sentence after it).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <lbsched/abi.h>

#include "stub_instance.h"

static char long_name[301];
static char long_description[4001];

static lbs_status r_select(void *inst, const lbs_workload *wl,
                           const lbs_worker *const *workers, uint32_t n,
                           lbs_selection *out)
{
	(void)inst;
	(void)wl;
	if (n == 0)
		return LBS_NO_WORKER;
	out->n_selected = 1;
	out->indices[0] = 0;
	out->ids[0] = workers[0]->id;
	if (out->reason && out->reason_len >= 5)
		memcpy(out->reason, "first", 5);
	return LBS_OK;
}

static lbs_scheduler_desc scheds[] = {
#ifdef RUDE_TWINS
	{.struct_size = sizeof(lbs_scheduler_desc), .name = "twin", .description = "the first",
	 .create = stub_create, .destroy = stub_destroy, .select = r_select},
	/* refused for its NULL create, yet its name is taken all the same */
	{.struct_size = sizeof(lbs_scheduler_desc), .name = "twin", .description = "the second",
	 .destroy = stub_destroy, .select = r_select},
#endif
	{.struct_size = sizeof(lbs_scheduler_desc), .name = "rude\n\x1b[31mforged",
	 .description = "one\ntwo\x1b[2J", .create = stub_create, .destroy = stub_destroy,
	 .select = r_select},
	{.struct_size = sizeof(lbs_scheduler_desc), .name = long_name,
	 .description = "a name of 300 bytes", .create = stub_create, .destroy = stub_destroy,
	 .select = r_select},
	{.struct_size = sizeof(lbs_scheduler_desc), .name = "rude-long",
	 .description = long_description, .create = stub_create, .destroy = stub_destroy,
	 .select = r_select},
#ifdef RUDE_SMALL
	{.struct_size = 8, .name = (const char *)16},
#endif
};
#define N_SCHEDS (sizeof scheds / sizeof scheds[0])

static lbs_status e_init(const lbs_host_api *host, char *err, size_t errlen)
{
	(void)host;
	memset(long_name, 'n', sizeof long_name - 1);
	memset(long_description, 'd', sizeof long_description - 1);
#ifdef RUDE_INIT
	memset(err, 'E', errlen);
	return LBS_EINTERNAL;
#elif defined(RUDE_FIND)
	{
		const lbs_scheduler_desc *d = NULL;
		const lbs_host_api *h = NULL;
		char why[256] = "";
		lbs_status st = host->find_scheduler(host->host_data, NULL, "rude-long", &d, &h,
		                                     why, sizeof why);

		snprintf(err, errlen, "find_scheduler answered %d: %s", (int)st, why);
		return LBS_EINVAL;
	}
#else
	(void)err;
	(void)errlen;
	return LBS_OK;
#endif
}

static void e_deinit(void)
{
}

static uint32_t e_count(void)
{
#ifdef RUDE_COUNT
	return UINT32_MAX;
#else
	return N_SCHEDS;
#endif
}

static const lbs_scheduler_desc *e_get(uint32_t i)
{
	return i < N_SCHEDS ? &scheds[i] : NULL;
}

static const lbs_scheduler_desc *e_find(const char *name)
{
	for (size_t i = 0; name && i < N_SCHEDS; i++)
		if (scheds[i].struct_size >= LBS_DESC_SIZE_V1_0 && !strcmp(name, scheds[i].name))
			return &scheds[i];
	return NULL;
}

#ifdef RUDE_EXT
static const lbs_ext_store no_store = {.struct_size = sizeof(lbs_ext_store)};
static const lbs_ext_fleet no_fleet = {.struct_size = sizeof(lbs_ext_fleet)};

static const void *e_ext(const char *id)
{
	return !strcmp(id, LBS_EXT_STORE) ? (const void *)&no_store
	       : !strcmp(id, LBS_EXT_FLEET) ? (const void *)&no_fleet : NULL;
}
#endif

static const lbs_plugin_entry entry = {
	.struct_size = sizeof(lbs_plugin_entry),
	.abi_major = LBS_ABI_MAJOR,
	.abi_minor = LBS_ABI_MINOR,
	.plugin_name = "rude\n\x1b[2Jplugin",
	.plugin_version = "0.0.1",
	.init = e_init,
	.deinit = e_deinit,
	.scheduler_count = e_count,
	.scheduler_get = e_get,
	.scheduler_find = e_find,
#ifdef RUDE_EXT
	.get_extension = e_ext,
#endif
};

LBS_EXPORT const lbs_plugin_entry *lbs_plugin_entry_v1(void);
const lbs_plugin_entry *lbs_plugin_entry_v1(void)
{
	return &entry;
}
