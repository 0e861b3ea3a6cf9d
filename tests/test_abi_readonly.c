/*
 * test_abi_readonly.c -- what a host can reach through the plugin's entry is
 * read-only once the plugin is loaded: the entry, every scheduler
 * descriptor, the store extension and their names live in the plugin's own
 * file mapping, in pages without write permission (.rodata, or
 * .data.rel.ro after RELRO), and their function pointers point into the
 * plugin's code.  A stray write from a host faults instead of redirecting
 * the plugin's calls.  Read from /proc/self/maps after the real loader has
 * dlopen()ed $LBS_PLUGIN.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "loader.h"
#include "support.h"

typedef struct mapping {
	char perms[5];
	char path[512];
} mapping;

/* The mapping holding address p; 0 when none does. */
static int mapping_of(const void *p, mapping *out)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[1024];
	uintptr_t a = (uintptr_t)p;
	int found = 0;

	if (!f) {
		fprintf(stderr, "test fixture broken: cannot read /proc/self/maps\n");
		exit(2);
	}
	while (!found && fgets(line, sizeof line, f)) {
		unsigned long lo, hi;
		int path_at = 0;

		if (sscanf(line, "%lx-%lx %4s %*s %*s %*s %n", &lo, &hi, out->perms, &path_at) < 3)
			continue;
		if (a >= lo && a < hi) {
			snprintf(out->path, sizeof out->path, "%s", line + path_at);
			out->path[strcspn(out->path, "\n")] = '\0';
			found = 1;
		}
	}
	fclose(f);
	return found;
}

static char *plugin_file;

/* p lies in the plugin's file, in a page mapped without write permission. */
#define CHECK_READONLY(p)                                                               \
	do {                                                                            \
		mapping m_ = {"", ""};                                                  \
		CHECK(mapping_of((p), &m_));                                            \
		CHECK_STR(m_.path, plugin_file);                                        \
		if (m_.perms[1] != '-')                                                 \
			fprintf(stderr, "%s is in a mapping with perms %s\n", #p, m_.perms); \
		CHECK(m_.perms[1] == '-');                                              \
	} while (0)

/* Function pointer f points into the plugin's code (r-x, not writable). */
#define CHECK_CODE(f)                                                                   \
	do {                                                                            \
		mapping m_ = {"", ""};                                                  \
		void *p_;                                                               \
		memcpy(&p_, &(f), sizeof p_);                                           \
		CHECK(mapping_of(p_, &m_));                                             \
		CHECK_STR(m_.path, plugin_file);                                        \
		CHECK(m_.perms[0] == 'r' && m_.perms[1] == '-' && m_.perms[2] == 'x');  \
	} while (0)

static void check_descriptor(const lbs_scheduler_desc *d)
{
	CHECK_READONLY(d);
	CHECK_READONLY(d->name);
	CHECK_READONLY(d->description);
	CHECK_CODE(d->create);
	CHECK_CODE(d->destroy);
	CHECK_CODE(d->select);
	if (d->score)
		CHECK_CODE(d->score);
	if (d->report)
		CHECK_CODE(d->report);
	if (d->stats)
		CHECK_CODE(d->stats);
	if (d->explain)
		CHECK_CODE(d->explain);
}

/* Our own writable global: the maps reader must see it as writable, or
 * every "read-only" above proves nothing. */
static int writable_probe = 1;

int main(void)
{
	const lbs_host_api *api;
	const lbs_plugin_entry *e;
	const lbs_ext_store *store;
	loaded_plugin *p;
	char err[1024];
	mapping m;
	uint32_t n;

	plugin_file = realpath(getenv("LBS_PLUGIN"), NULL);
	CHECK(plugin_file != NULL);
	if (!plugin_file)
		return check_done("test_abi_readonly");
	CHECK(mapping_of(&writable_probe, &m) && m.perms[1] == 'w');

	CHECK_INT(host_load(test_host(), getenv("LBS_PLUGIN"), &p, &api, err, sizeof err), LBS_OK);
	e = loader_entry(p);
	CHECK_READONLY(e);
	CHECK_READONLY(e->plugin_name);
	CHECK_READONLY(e->plugin_version);
	CHECK_CODE(e->init);
	CHECK_CODE(e->deinit);
	CHECK_CODE(e->scheduler_count);
	CHECK_CODE(e->scheduler_get);
	CHECK_CODE(e->scheduler_find);
	CHECK_CODE(e->get_extension);

	n = e->scheduler_count();
	CHECK(n >= 4);
	for (uint32_t i = 0; i < n; i++)
		check_descriptor(e->scheduler_get(i));

	store = loader_extension(p, LBS_EXT_STORE);
	CHECK(store != NULL);
	if (store) {
		CHECK_READONLY(store);
		CHECK_CODE(store->export_json);
		CHECK_CODE(store->import_json);
		CHECK_CODE(store->reset);
	}
	free(plugin_file);
	return check_done("test_abi_readonly");
}
