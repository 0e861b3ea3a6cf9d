/*
 * abi_host.h -- the parts of a bare host that the matrix's hosts share
 * (v1_0_host.c, v1_1_host.c, v1_2_host.c): the host API, loading the
 * plugin the way abi.h's "HOW A HOST LOADS A PLUGIN" says, creating
 * instances, one select, structs copied into heap blocks of an exact size,
 * and a store's directory made and removed.  It uses only what
 * 1.0 has, so it builds against whichever frozen header the host includes
 * before it; define HOST_NAME (e.g. "v1.0 host") first.
 */
#ifndef LBS_TEST_ABI_HOST_H
#define LBS_TEST_ABI_HOST_H

#include <dirent.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lbsched/abi.h>

#include "check.h"

#define GB (UINT64_C(1) << 30)

static void host_log(void *data, int32_t level, const char *msg)
{
	(void)data;
	if (level >= LBS_LOG_WARN)
		fprintf(stderr, HOST_NAME ": plugin says: %s\n", msg);
}

static uint64_t host_now(void *data)
{
	struct timespec ts;

	(void)data;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static const lbs_host_api host = {
	.struct_size = sizeof(lbs_host_api),
	.abi_major = LBS_ABI_MAJOR,
	.abi_minor = LBS_ABI_MINOR,
	.host_name = HOST_NAME,
	.host_version = "1.0",
	.log = host_log,
	.now_ns = host_now,
	/* find_scheduler / release_scheduler NULL: this host loads nothing
	 * on a plugin's behalf (allowed by abi.h). */
};

/* A copy of `size` bytes of t on the heap: the block ends where a struct of
 * that size does, so under ASan a read past it is an error, not a read of
 * whatever lies next in an array. */
static void *exact(const void *t, size_t size)
{
	void *p = malloc(size);

	if (!p) {
		fprintf(stderr, HOST_NAME ": out of memory\n");
		exit(99);
	}
	memcpy(p, t, size);
	return p;
}

/* dlopen $LBS_PLUGIN, make the checks abi.h asks of a host before any
 * other plugin code runs, and init.  NULL after a failed CHECK. */
static const lbs_plugin_entry *open_plugin(void **so)
{
	const char *path = getenv("LBS_PLUGIN");
	char err[512] = "";
	lbs_plugin_entry_fn entry_fn;
	const lbs_plugin_entry *e;

	*so = path ? dlopen(path, RTLD_NOW | RTLD_LOCAL) : NULL;
	if (!*so) {
		fprintf(stderr, HOST_NAME ": %s\n", path ? dlerror() : "set LBS_PLUGIN");
		CHECK(!"the plugin loads");
		return NULL;
	}
	*(void **)&entry_fn = dlsym(*so, LBS_ENTRY_SYMBOL);
	CHECK(entry_fn != NULL);
	if (!entry_fn)
		return NULL;
	e = entry_fn();
	CHECK(e->struct_size >= LBS_ENTRY_SIZE_V1_0);
	CHECK_INT(e->abi_major, LBS_ABI_MAJOR);
	/* Any minor of major 1 is welcome: a newer plugin's extra fields and
	 * slots lie past what this host reads. */
	printf(HOST_NAME ": loaded %s %s, ABI %u.%u\n", e->plugin_name, e->plugin_version,
	       (unsigned)e->abi_major, (unsigned)e->abi_minor);
	CHECK_STR(e->plugin_name, "lbsched");
	CHECK_INT(e->init(&host, err, sizeof err), LBS_OK);
	CHECK(e->scheduler_count() >= 4);
	return e;
}

static const lbs_scheduler_desc *find(const lbs_plugin_entry *e, const char *name)
{
	const lbs_scheduler_desc *d = e->scheduler_find(name);

	CHECK(d != NULL);
	if (!d)
		return NULL;
	CHECK(d->struct_size >= LBS_DESC_SIZE_V1_0);
	CHECK_STR(d->name, name);
	CHECK(d->create && d->destroy && d->select);
	return d;
}

static void *create(const lbs_scheduler_desc *d, const char *config)
{
	char err[512] = "";
	void *inst = NULL;
	lbs_status st = d->create(&host, config, config ? strlen(config) : 0, &inst, err, sizeof err);

	if (st != LBS_OK)
		fprintf(stderr, "create %s: %d: %s\n", d->name, st, err);
	CHECK_INT(st, LBS_OK);
	return st == LBS_OK ? inst : NULL;
}

/* The blend a composite is created with here: the plugin's other three. */
#define COMPOSITE_CONFIG                                                        \
	"{\"children\": [{\"scheduler\": \"hardware-aware\", \"weight\": 0.6},"  \
	" {\"scheduler\": \"priority\", \"weight\": 0.3},"                       \
	" {\"scheduler\": \"round-robin\", \"weight\": 0.1}]}"

/* One select through the descriptor; the chosen id, "none", or "error". */
static const char *choose_in(const lbs_scheduler_desc *d, void *inst, const lbs_workload *wl,
                             const lbs_worker *const *workers, uint32_t n)
{
	uint32_t idx[1];
	const char *ids[1];
	char reason[256];
	lbs_selection sel = {.struct_size = sizeof sel, .capacity = 1, .indices = idx, .ids = ids,
	                     .reason = reason, .reason_len = sizeof reason};
	lbs_status st = d->select(inst, wl, workers, n, &sel);

	if (st == LBS_NO_WORKER)
		return sel.n_selected == 0 ? "none" : "error";
	if (st != LBS_OK || sel.n_selected != 1 || idx[0] >= n ||
	    strcmp(ids[0], workers[idx[0]]->id))
		return "error";
	return workers[idx[0]]->id;
}

/* An lbs_write_fn appending to a 4096-byte text buffer. */
static int collect(void *ctx, const char *data, size_t len)
{
	char *buf = ctx;
	size_t have = strlen(buf);

	if (have + len >= 4096)
		return 1;
	memcpy(buf + have, data, len);
	buf[have + len] = '\0';
	return 0;
}

/* A new empty directory for a store under $TMPDIR, in dir[len]; 0 when
 * none could be made.  (inline: not every host keeps a store.) */
static inline int make_dir(char *dir, size_t len)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, len, "%s/lbs-abi-host-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (mkdtemp(dir))
		return 1;
	fprintf(stderr, HOST_NAME ": need a temporary directory\n");
	return 0;
}

/* The store's directory holds only files: remove them, then it. */
static inline void remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *ent;
	char path[1100];

	while (d && (ent = readdir(d)))
		if (ent->d_name[0] != '.') {
			snprintf(path, sizeof path, "%s/%s", dir, ent->d_name);
			unlink(path);
		}
	if (d)
		closedir(d);
	if (rmdir(dir) != 0)
		fprintf(stderr, HOST_NAME ": could not remove %s\n", dir);
}

#endif
