/*
 * loader.c -- dlopen a plugin and decide whether it may run.
 *
 * Nothing of the plugin runs before its entry is checked: the entry
 * function itself only returns static data (the ABI says so), and init is
 * called only once the major version and sizes are known to be ours.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loader.h"
#include "text.h"

struct loaded_plugin {
	void *handle;
	const lbs_plugin_entry *entry;
	char *path;
};

/* Majors a plugin might have been built for; used only to name the
 * plugin's version in a refusal. */
static int probe_other_major(void *handle)
{
	char sym[32];

	for (int major = 2; major <= 16; major++) {
		snprintf(sym, sizeof sym, "lbs_plugin_entry_v%d", major);
		if (dlsym(handle, sym))
			return major;
	}
	return 0;
}

lbs_status loader_open(const char *path, const lbs_host_api *host,
                       loaded_plugin **out, char *err, size_t errlen)
{
	void *handle;
	lbs_plugin_entry_fn entry_fn;
	const lbs_plugin_entry *e;
	loaded_plugin *p;
	char perr[512] = "";
	lbs_status st;

	*out = NULL;
	if (!path || !*path) {
		snprintf(err, errlen, "no plugin path given");
		return LBS_EINVAL;
	}
	/* RTLD_LOCAL: a plugin's symbols must not satisfy anyone else's
	 * (nginx opens its own modules RTLD_GLOBAL). */
	handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!handle) {
		const char *why = dlerror();
		snprintf(err, errlen, "%s: cannot load plugin: %s", path,
		         why ? why : "unknown error");
		return LBS_EINVAL;
	}
	/* POSIX says a function pointer converts through void * only via
	 * this memcpy idiom without a pedantic warning. */
	{
		void *sym = dlsym(handle, LBS_ENTRY_SYMBOL);
		memcpy(&entry_fn, &sym, sizeof entry_fn);
	}
	if (!entry_fn) {
		int other = probe_other_major(handle);
		if (other)
			snprintf(err, errlen,
			         "%s: refused: the plugin is built for lbsched ABI %d.x, this host speaks ABI %d.%d; "
			         "rebuild the plugin against lbsched/abi.h %d.x or use a host for ABI %d",
			         path, other, LBS_ABI_MAJOR, LBS_ABI_MINOR, LBS_ABI_MAJOR, other);
		else
			snprintf(err, errlen,
			         "%s: refused: no symbol %s, so it is not an lbsched plugin for ABI %d.%d; "
			         "build it against lbsched/abi.h and export %s",
			         path, LBS_ENTRY_SYMBOL, LBS_ABI_MAJOR, LBS_ABI_MINOR, LBS_ENTRY_SYMBOL);
		dlclose(handle);
		return LBS_EVERSION;
	}
	e = entry_fn();
	if (!e || e->struct_size < LBS_ENTRY_SIZE_V1_0) {
		snprintf(err, errlen,
		         "%s: refused: its entry is %s (size %u, need >= %zu), host ABI %d.%d; "
		         "rebuild the plugin against lbsched/abi.h %d.x",
		         path, e ? "too small" : "NULL", e ? e->struct_size : 0u,
		         (size_t)LBS_ENTRY_SIZE_V1_0, LBS_ABI_MAJOR, LBS_ABI_MINOR, LBS_ABI_MAJOR);
		dlclose(handle);
		return LBS_EVERSION;
	}
	if (e->abi_major != LBS_ABI_MAJOR) {
		snprintf(err, errlen,
		         "%s: refused: plugin %s %s is built for lbsched ABI %u.%u, this host speaks ABI %d.%d; "
		         "rebuild the plugin against lbsched/abi.h %d.x",
		         path, e->plugin_name ? e->plugin_name : "?",
		         e->plugin_version ? e->plugin_version : "?", e->abi_major,
		         e->abi_minor, LBS_ABI_MAJOR, LBS_ABI_MINOR, LBS_ABI_MAJOR);
		dlclose(handle);
		return LBS_EVERSION;
	}
	if (!e->init || !e->deinit || !e->scheduler_count || !e->scheduler_get ||
	    !e->scheduler_find) {
		snprintf(err, errlen,
		         "%s: refused: plugin %s (ABI %u.%u) leaves a required entry function NULL; "
		         "fix the plugin's lbs_plugin_entry",
		         path, e->plugin_name ? e->plugin_name : "?", e->abi_major, e->abi_minor);
		dlclose(handle);
		return LBS_EVERSION;
	}
	st = e->init(host, perr, sizeof perr);
	if (st != LBS_OK) {
		snprintf(err, errlen, "%s: plugin %s refused to start (status %d): %s", path,
		         e->plugin_name ? e->plugin_name : "?", (int)st,
		         perr[0] ? perr : "no reason given");
		dlclose(handle);
		return st == LBS_EVERSION ? LBS_EVERSION : LBS_EINVAL;
	}
	p = calloc(1, sizeof *p);
	if (p)
		p->path = strdup(path);
	if (!p || !p->path) {
		e->deinit();
		dlclose(handle);
		free(p);
		snprintf(err, errlen, "%s: out of memory", path);
		return LBS_ENOMEM;
	}
	p->handle = handle;
	p->entry = e;
	*out = p;
	return LBS_OK;
}

void loader_close(loaded_plugin *p)
{
	if (!p)
		return;
	p->entry->deinit();
	dlclose(p->handle);
	free(p->path);
	free(p);
}

const lbs_plugin_entry *loader_entry(const loaded_plugin *p)
{
	return p->entry;
}

const char *loader_path(const loaded_plugin *p)
{
	return p->path;
}

static const char *desc_problem(const lbs_scheduler_desc *d)
{
	if (d->struct_size < LBS_DESC_SIZE_V1_0)
		return "its descriptor is smaller than ABI 1.0's";
	if (!d->name || !d->name[0])
		return "it has no name";
	if (!d->create || !d->destroy || !d->select)
		return "a required slot (create, destroy or select) is NULL";
	return NULL;
}

const lbs_scheduler_desc *loader_find(const loaded_plugin *p, const char *name,
                                      char *err, size_t errlen)
{
	const lbs_scheduler_desc *d = p->entry->scheduler_find(name);
	const char *problem;

	if (!d) {
		size_t used;
		uint32_t n = p->entry->scheduler_count();
		char shown[96];

		/* The name may come from a config the plugin relays. */
		used = (size_t)snprintf(err, errlen, "%s: no scheduler named '%s'; it has:",
		                        p->path, txt_show(shown, sizeof shown, name));
		for (uint32_t i = 0; i < n && used < errlen; i++) {
			const lbs_scheduler_desc *o = p->entry->scheduler_get(i);
			if (o && o->name)
				used += (size_t)snprintf(err + used, errlen - used, "%s %s",
				                         i ? "," : "", o->name);
		}
		return NULL;
	}
	problem = desc_problem(d);
	if (problem) {
		snprintf(err, errlen, "%s: scheduler '%s' refused: %s; rebuild it against lbsched/abi.h %d.x",
		         p->path, name, problem, LBS_ABI_MAJOR);
		return NULL;
	}
	return d;
}

const void *loader_extension(const loaded_plugin *p, const char *id)
{
	if (!LBS_HAS_FIELD(p->entry, lbs_plugin_entry, get_extension) || !p->entry->get_extension)
		return NULL;
	return p->entry->get_extension(id);
}
