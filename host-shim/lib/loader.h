/*
 * loader.h -- open a plugin .so and refuse it before running any of its code
 * unless its entry symbol, ABI major and struct sizes are ones we can use.
 */
#ifndef LBS_LOADER_H
#define LBS_LOADER_H

#include <stddef.h>

#include <lbsched/abi.h>

typedef struct loaded_plugin loaded_plugin;

/* More schedulers than this, and the plugin is refused at load: check and
 * the "no scheduler named" message walk the whole list. */
#define LOADER_MAX_SCHEDULERS 1024
/* A longer scheduler name is refused, as is one with a control byte. */
#define LOADER_MAX_NAME 128
#define LOADER_MAX_NAME_TEXT "128"
/* The most of a description `check` shows (on one line). */
#define LOADER_MAX_DESCRIPTION 1024

/*
 * Check the file (a regular file, an ELF shared object for this host that
 * is as long as its headers say), dlopen(path, RTLD_NOW | RTLD_LOCAL),
 * check the entry, call init(host), bound its scheduler count.
 * Returns LBS_OK; LBS_EINVAL when the file cannot be opened or is not such
 * a file; LBS_EVERSION when the plugin is refused.  The message names the
 * file, both versions and the fix.
 */
lbs_status loader_open(const char *path, const lbs_host_api *host,
                       loaded_plugin **out, char *err, size_t errlen);

/* Text the plugin names itself by (a plugin or scheduler name, a version)
 * for a message: at most LOADER_MAX_NAME bytes of it read, shown as
 * txt_show does (escaped, about 64 bytes); "?" for NULL.  Returns dst. */
const char *loader_show(char *dst, size_t n, const char *s);

/* Why a plugin path cannot be opened, for errno e: "no such file",
 * "permission denied", a symlink loop, ... */
const char *loader_errno_text(int e);

/* deinit and dlclose.  Every instance must be destroyed first. */
void loader_close(loaded_plugin *p);

const lbs_plugin_entry *loader_entry(const loaded_plugin *p);
/* Whether p is lbsched's own plugin (by its entry's name): the one whose
 * config fields ("store", "seed") a host may read or add. */
int loader_is_lbsched(const loaded_plugin *p);
const char *loader_path(const loaded_plugin *p);

/*
 * The scheduler `name`, after checking its descriptor (size, required
 * slots).  NULL with a message listing the schedulers the plugin has.
 */
const lbs_scheduler_desc *loader_find(const loaded_plugin *p, const char *name,
                                      char *err, size_t errlen);
/* What makes descriptor d unusable (its size first: nothing past it is
 * read), or NULL.  loader_find refuses a scheduler with it. */
const char *loader_desc_problem(const lbs_scheduler_desc *d);

/* The plugin's extension `id` ("lbs.ext.store/1"), or NULL when it has
 * none (or its entry predates get_extension). */
const void *loader_extension(const loaded_plugin *p, const char *id);

/* True when descriptor d is big enough to have `slot` and it is set. */
#define DESC_HAS(d, slot) (LBS_HAS_FIELD(d, lbs_scheduler_desc, slot) && (d)->slot != NULL)

/*
 * Make text a plugin wrote into a host buffer of n bytes safe to print: the
 * plugin may have filled it without a terminator, or put a newline or a
 * terminal escape in it.  Ends it inside the buffer and folds it to one line.
 */
void plugin_text(char *buf, size_t n);

#endif
