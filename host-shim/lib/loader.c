/*
 * loader.c -- dlopen a plugin and decide whether it may run.
 *
 * None of the plugin's own functions runs before its entry is checked:
 * the entry function itself only returns static data (the ABI says so),
 * and init is called only once the major version and sizes are known to
 * be ours.  dlopen() does run its constructors first (the ABI asks for
 * none: "do no work in constructors"), which no check can prevent.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elf_check.h"
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

const char *loader_errno_text(int e)
{
	switch (e) {
	case ENOENT: return "no such file";
	case ELOOP: return "too many levels of symbolic links (a symlink loop?)";
	case EACCES: return "permission denied";
	case ENOTDIR: return "a component of the path is not a directory";
	}
	return strerror(e);
}

static const char *file_kind(mode_t m)
{
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISCHR(m) || S_ISBLK(m))
		return "a device";
	if (S_ISSOCK(m))
		return "a socket";
	return "not a regular file";
}

/*
 * What dlopen() would trip on, found first: it blocks forever opening a
 * FIFO, calls a foreign architecture "No such file or directory" and dies
 * of SIGBUS on a file shorter than its headers.  O_NONBLOCK makes opening
 * a FIFO return at once so that fstat can tell what the path is.
 */
static int file_problem(const char *path, char *why, size_t n)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY), rc;

	if (fd < 0) {
		snprintf(why, n, "%s", loader_errno_text(errno));
		return -1;
	}
	if (fstat(fd, &st)) {
		snprintf(why, n, "%s", loader_errno_text(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, n, "it is %s; a plugin must be a regular file", file_kind(st.st_mode));
		close(fd);
		return -1;
	}
	rc = elf_check_fd(fd, (uint64_t)st.st_size, why, n);
	close(fd);
	return rc;
}

const char *loader_show(char *dst, size_t n, const char *s)
{
	char head[LOADER_MAX_NAME + 1];

	if (!s)
		return "?";
	/* %.*s reads no further than the bound, terminated or not. */
	snprintf(head, sizeof head, "%.*s", LOADER_MAX_NAME, s);
	return txt_show(dst, n, head);
}

static const char *plugin_label(const lbs_plugin_entry *e, char *buf, size_t n)
{
	return loader_show(buf, n, e->plugin_name);
}

/*
 * The plugin files this process holds open, by path, as each file was when
 * first opened: dlopen() of a path this process already loaded hands back
 * the object loaded then, by name, whatever replaced the file since.
 * nginx's reload after a plugin upgrade (while the old cycle still held
 * it) kept the old code and said nothing.  Both sides of the comparison
 * come from stat(): /proc/self/maps gives another device number than
 * stat() on btrfs and on older kernels' overlayfs.
 */
typedef struct held {
	struct held *next;
	char *path;
	dev_t dev;
	ino_t ino;
	unsigned open;
} held;

static held *held_files;
static pthread_mutex_t held_lock = PTHREAD_MUTEX_INITIALIZER;

static held *held_find(const char *path)
{
	for (held *h = held_files; h; h = h->next)
		if (!strcmp(h->path, path))
			return h;
	return NULL;
}

/* 1 when this process holds path open as another file than st. */
static int held_replaced(const char *path, const struct stat *st)
{
	held *h;
	int replaced;

	pthread_mutex_lock(&held_lock);
	h = held_find(path);
	replaced = h && h->open && (h->dev != st->st_dev || h->ino != st->st_ino);
	pthread_mutex_unlock(&held_lock);
	return replaced;
}

/* One more open of path, which is st (as it was at the first, while any
 * is open).  Entries stay for the process's life, a few bytes a path;
 * out of memory only forgoes the check. */
static void held_add(const char *path, const struct stat *st)
{
	held *h;

	pthread_mutex_lock(&held_lock);
	h = held_find(path);
	if (!h && (h = calloc(1, sizeof *h)) != NULL) {
		if (!(h->path = strdup(path))) {
			free(h);
			h = NULL;
		} else {
			h->next = held_files;
			held_files = h;
		}
	}
	if (h && !h->open) {
		h->dev = st->st_dev;
		h->ino = st->st_ino;
	}
	if (h)
		h->open++;
	pthread_mutex_unlock(&held_lock);
}

static void held_drop(const char *path)
{
	held *h;

	pthread_mutex_lock(&held_lock);
	h = held_find(path);
	if (h && h->open)
		h->open--;
	pthread_mutex_unlock(&held_lock);
}

/* What keeps d's name from being read or used; NULL when it can be. */
static const char *name_problem(const lbs_scheduler_desc *d)
{
	size_t len;

	if (d->struct_size < LBS_DESC_SIZE_V1_0)
		return "its descriptor is smaller than ABI 1.0's";
	if (!d->name || !d->name[0])
		return "it has no name";
	/* Names go into configs, logs and messages: an identifier, never
	 * text that reads on without end or breaks a line. */
	len = strnlen(d->name, LOADER_MAX_NAME + 1);
	if (len > LOADER_MAX_NAME)
		return "its name is longer than " LOADER_MAX_NAME_TEXT " bytes";
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)d->name[i] < 0x20 || d->name[i] == 0x7f)
			return "its name contains a control character";
	return NULL;
}

const char *loader_desc_problem(const lbs_scheduler_desc *d)
{
	const char *why = name_problem(d);

	if (why)
		return why;
	if (!d->create || !d->destroy || !d->select)
		return "a required slot (create, destroy or select) is NULL";
	return NULL;
}

lbs_status loader_open(const char *path, const lbs_host_api *host,
                       loaded_plugin **out, char *err, size_t errlen)
{
	void *handle;
	lbs_plugin_entry_fn entry_fn;
	const lbs_plugin_entry *e;
	loaded_plugin *p;
	char perr[512] = "", label[96], version[96];
	lbs_status st;
	uint32_t count;
	struct stat on_disk;
	int have_stat;

	*out = NULL;
	if (!path || !*path) {
		snprintf(err, errlen, "no plugin path given");
		return LBS_EINVAL;
	}
	if (file_problem(path, perr, sizeof perr)) {
		snprintf(err, errlen, "%s: cannot load plugin: %s", path, perr);
		return LBS_EINVAL;
	}
	/* RTLD_LOCAL: a plugin's symbols must not satisfy anyone else's
	 * (nginx opens its own modules RTLD_GLOBAL). */
	have_stat = stat(path, &on_disk) == 0;
	if (have_stat && held_replaced(path, &on_disk)) {
		snprintf(err, errlen,
		         "%s: cannot load plugin: this process loaded an earlier file of that name, "
		         "which stays in use until the process ends (an upgrade?); restart it to "
		         "load the new one (nginx: a restart, not a reload)", path);
		return LBS_EINVAL;
	}
	handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!handle) {
		const char *why = dlerror();
		size_t pl = strlen(path);

		/* dlerror() names the file first, as we do. */
		if (why && !strncmp(why, path, pl) && !strncmp(why + pl, ": ", 2))
			why += pl + 2;
		snprintf(err, errlen, "%s: cannot load plugin: %s", path,
		         why ? why : "unknown error");
		return LBS_EINVAL;
	}
	/* POSIX says a function pointer converts through void * only via
	 * this memcpy idiom without a pedantic warning. */
	{
		void *sym = dlsym(handle, LBS_ENTRY_SYMBOL);
		const ElfW(Sym) *es = NULL;
		Dl_info info;

		/* The entry is a function; exported as the struct itself (as
		 * CLAP's entry is) it was called, and the host crashed. */
		if (sym && dladdr1(sym, &info, (void **)&es, RTLD_DL_SYMENT) && es &&
		    ELF64_ST_TYPE(es->st_info) != STT_FUNC &&
		    ELF64_ST_TYPE(es->st_info) != STT_GNU_IFUNC) {
			snprintf(err, errlen,
			         "%s: refused: its %s is data, not a function; export "
			         "const lbs_plugin_entry *%s(void)",
			         path, LBS_ENTRY_SYMBOL, LBS_ENTRY_SYMBOL);
			dlclose(handle);
			return LBS_EVERSION;
		}
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
		         path, plugin_label(e, label, sizeof label),
		         loader_show(version, sizeof version, e->plugin_version),
		         e->abi_major,
		         e->abi_minor, LBS_ABI_MAJOR, LBS_ABI_MINOR, LBS_ABI_MAJOR);
		dlclose(handle);
		return LBS_EVERSION;
	}
	if (!e->init || !e->deinit || !e->scheduler_count || !e->scheduler_get ||
	    !e->scheduler_find) {
		snprintf(err, errlen,
		         "%s: refused: plugin %s (ABI %u.%u) leaves a required entry function NULL; "
		         "fix the plugin's lbs_plugin_entry",
		         path, plugin_label(e, label, sizeof label), e->abi_major, e->abi_minor);
		dlclose(handle);
		return LBS_EVERSION;
	}
	perr[0] = '\0';
	st = e->init(host, perr, sizeof perr);
	plugin_text(perr, sizeof perr);
	if (st != LBS_OK) {
		snprintf(err, errlen, "%s: plugin %s refused to start (status %d): %s", path,
		         plugin_label(e, label, sizeof label), (int)st,
		         perr[0] ? perr : "no reason given");
		dlclose(handle);
		return st == LBS_EVERSION ? LBS_EVERSION : LBS_EINVAL;
	}
	/* Every host walks the list (check, and loader_find's message). */
	count = e->scheduler_count();
	if (count > LOADER_MAX_SCHEDULERS) {
		snprintf(err, errlen, "%s: refused: plugin %s says it has %u schedulers, more than %d; "
		         "fix its scheduler_count", path, plugin_label(e, label, sizeof label), count,
		         LOADER_MAX_SCHEDULERS);
		e->deinit();
		dlclose(handle);
		return LBS_EVERSION;
	}
	/* A name is how configs, composites and the check command find a
	 * scheduler: a second one of the same name could never be reached. */
	for (uint32_t i = 0; i < count; i++) {
		const lbs_scheduler_desc *a = e->scheduler_get(i);

		/* A descriptor whose name cannot be read is loader_find's to
		 * refuse; one refused for another reason (a NULL slot) still
		 * takes its name, which the other would then answer to. */
		for (uint32_t j = i + 1; a && !name_problem(a) && j < count; j++) {
			const lbs_scheduler_desc *b = e->scheduler_get(j);

			if (b && !name_problem(b) && !strncmp(a->name, b->name, LOADER_MAX_NAME + 1)) {
				char shown[96];

				snprintf(err, errlen, "%s: refused: plugin %s has two schedulers named "
				         "'%s' (#%u and #%u); fix its scheduler list", path,
				         plugin_label(e, label, sizeof label),
				         loader_show(shown, sizeof shown, a->name), i, j);
				e->deinit();
				dlclose(handle);
				return LBS_EVERSION;
			}
		}
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
	if (have_stat)
		held_add(path, &on_disk);
	*out = p;
	return LBS_OK;
}

void loader_close(loaded_plugin *p)
{
	if (!p)
		return;
	held_drop(p->path);
	p->entry->deinit();
	dlclose(p->handle);
	free(p->path);
	free(p);
}

const lbs_plugin_entry *loader_entry(const loaded_plugin *p)
{
	return p->entry;
}

int loader_is_lbsched(const loaded_plugin *p)
{
	return p->entry->plugin_name && !strcmp(p->entry->plugin_name, "lbsched");
}

const char *loader_path(const loaded_plugin *p)
{
	return p->path;
}


const lbs_scheduler_desc *loader_find(const loaded_plugin *p, const char *name,
                                      char *err, size_t errlen)
{
	const lbs_scheduler_desc *d = p->entry->scheduler_find(name);
	const char *problem;
	char shown[96];

	if (!d) {
		size_t used;
		uint32_t n = p->entry->scheduler_count();

		/* The name may come from a config the plugin relays. */
		used = (size_t)snprintf(err, errlen, "%s: no scheduler named '%s'; it has:",
		                        p->path, txt_show(shown, sizeof shown, name));
		if (n > LOADER_MAX_SCHEDULERS) /* checked at load; a plugin may change its mind */
			n = LOADER_MAX_SCHEDULERS;
		for (uint32_t i = 0; i < n && used < errlen; i++) {
			const lbs_scheduler_desc *o = p->entry->scheduler_get(i);
			if (o && o->name)
				used += (size_t)snprintf(err + used, errlen - used, "%s %s",
				                         i ? "," : "", loader_show(shown, sizeof shown, o->name));
		}
		return NULL;
	}
	problem = loader_desc_problem(d);
	if (problem) {
		snprintf(err, errlen, "%s: scheduler '%s' refused: %s; rebuild it against lbsched/abi.h %d.x",
		         p->path, txt_show(shown, sizeof shown, name), problem, LBS_ABI_MAJOR);
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

void plugin_text(char *buf, size_t n)
{
	if (!n)
		return;
	buf[n - 1] = '\0';
	txt_one_line(buf);
}
