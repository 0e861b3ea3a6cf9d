/*
 * store_config.c -- the "store" object of a learning scheduler's config,
 * and the store's counters as a stats() fragment; shared by every
 * scheduler that learns, so they all read the same fields the same way.
 *
 *   "store": {"path": DIR, "alpha": 0.3, "batch_count": 256, "batch_ms": 50,
 *             "block_ms": 0, "refresh_ms": 200, "queue_max": 65536,
 *             "file_mode": "0600", "map_size_mb": 64, "map_max_mb": 4096,
 *             "max_pairs": 1048576, "on_error": "refuse" | "memory"}
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "fleet_config.h"
#include "store_config.h"
#include "text.h"

static const char *const store_fields[] = {
	"path", "alpha", "batch_count", "batch_ms", "block_ms", "refresh_ms", "queue_max",
	"file_mode", "map_size_mb", "map_max_mb", "max_pairs", "on_error", "half_life_s",
	"fleet", NULL,
};

/* need_path 0: a "path" may be absent (the fleet's totals open no store). */
static lbs_status read_fields(const cJSON *s, store_opts *o, int need_path, char *err,
                              size_t errlen)
{
	const char *mode = NULL, *on_error = NULL;
	char shown[96];
	uint32_t map_mb = (uint32_t)(o->map_size >> 20), max_mb = (uint32_t)(o->map_max >> 20);
	lbs_status st = cfg_check_fields(s, store_fields, err, errlen);

	if (st == LBS_OK)
		st = cfg_string(s, "path", NULL, &o->path, err, errlen);
	if (st == LBS_OK)
		st = cfg_number(s, "alpha", 0.0, 1.0, o->alpha, &o->alpha, err, errlen);
	if (st == LBS_OK)
		st = cfg_number(s, "half_life_s", 1.0, 1e9, o->half_life, &o->half_life, err, errlen);
	if (st == LBS_OK)
		st = cfg_uint_in(s, "batch_count", 1, 1000000, &o->batch_count, err, errlen);
	if (st == LBS_OK)
		st = cfg_uint_in(s, "batch_ms", 0, 60000, &o->batch_ms, err, errlen);
	if (st == LBS_OK)
		st = cfg_uint_in(s, "block_ms", 0, 60000, &o->block_ms, err, errlen);
	if (st == LBS_OK)
		st = cfg_uint_in(s, "refresh_ms", 1, 3600000, &o->refresh_ms, err, errlen);
	if (st == LBS_OK)
		st = cfg_uint_in(s, "queue_max", 1, 16777216, &o->queue_max, err, errlen);
	if (st == LBS_OK)
		st = cfg_uint_in(s, "map_size_mb", 1, 1048576, &map_mb, err, errlen);
	if (st == LBS_OK)
		st = cfg_uint_in(s, "max_pairs", 1, STORE_MAX_PAIRS_LIMIT, &o->max_pairs, err, errlen);
	if (st == LBS_OK) {
		/* Unless given, the ceiling holds max_pairs pairs at their
		 * worst (store.h), in a power of two of MiB, and never less
		 * than the initial size. */
		uint64_t want = ((uint64_t)o->max_pairs * STORE_PAIR_BYTES_MAX + (1u << 20) - 1) >> 20;

		for (max_mb = 1; max_mb < want; max_mb *= 2)
			;
		if (max_mb < map_mb)
			max_mb = map_mb;
		st = cfg_uint_in(s, "map_max_mb", 1, 1048576, &max_mb, err, errlen);
	}
	if (st == LBS_OK && max_mb < map_mb) {
		snprintf(err, errlen, "config field 'map_max_mb': must be at least map_size_mb (%u), "
		         "got %u", map_mb, max_mb);
		st = LBS_ECONFIG;
	}
	if (st == LBS_OK)
		st = cfg_string(s, "file_mode", "0600", &mode, err, errlen);
	if (st == LBS_OK)
		st = cfg_string(s, "on_error", "refuse", &on_error, err, errlen);
	if (st != LBS_OK)
		return st;
	o->map_size = (uint64_t)map_mb << 20;
	o->map_max = (uint64_t)max_mb << 20;
	{
		char *end;
		unsigned long m = strtoul(mode, &end, 8);
		/* Owner must keep read and write, or LMDB cannot use its own
		 * files; nobody gets execute.  Octal digits only: strtoul
		 * also takes a blank and a sign (" 600", "+0640"). */
		if (*end || mode[strspn(mode, "01234567")] || m > 0666 || (m & 0600) != 0600) {
			snprintf(err, errlen, "config field 'file_mode': must be an octal mode like "
			         "\"0600\" with owner read and write and no execute bits, got \"%s\"",
			         txt_show(shown, sizeof shown, mode));
			return LBS_ECONFIG;
		}
		o->file_mode = (uint32_t)m;
		o->file_mode_set = cJSON_GetObjectItemCaseSensitive(s, "file_mode") != NULL;
	}
	if (!strcmp(on_error, "memory"))
		o->memory_on_error = 1;
	else if (strcmp(on_error, "refuse")) {
		snprintf(err, errlen, "config field 'on_error': must be \"refuse\" or \"memory\", got \"%s\"",
		         txt_show(shown, sizeof shown, on_error));
		return LBS_ECONFIG;
	}
	if (!o->path && need_path) {
		snprintf(err, errlen, "config field 'path': required (the store's directory)");
		return LBS_ECONFIG;
	}
	if (o->path && strlen(o->path) > STORE_MAX_PATH) {
		snprintf(err, errlen, "config field 'path': is %zu bytes, more than %d",
		         strlen(o->path), STORE_MAX_PATH);
		return LBS_ECONFIG;
	}
	return LBS_OK;
}

/* The object s of a "store" into o, and its "fleet" (when *fl is set) into
 * fo, which the caller frees with fleet_opts_free; the messages name
 * 'store.x' and 'store.fleet.x'. */
static lbs_status read_store(const cJSON *s, store_opts *o, int need_path, const cJSON **fl,
                             fleet_opts *fo, char *err, size_t errlen)
{
	lbs_status st = cfg_nested("store", read_fields(s, o, need_path, err, errlen), err, errlen);

	*fl = NULL;
	if (st == LBS_OK)
		st = cfg_nested("store", cfg_object(s, "fleet", fl, err, errlen), err, errlen);
	if (st == LBS_OK && *fl) {
		st = fleet_config_read(*fl, fo, err, errlen);
		st = cfg_nested("store", cfg_nested("fleet", st, err, errlen), err, errlen);
	}
	return st;
}

lbs_status store_config_read(const cJSON *cfg, store_opts *o, int need_path, char *err,
                             size_t errlen)
{
	const cJSON *s, *fl;
	fleet_opts fo;
	lbs_status st = cfg_object(cfg, "store", &s, err, errlen);

	store_opts_default(o);
	if (st == LBS_OK && !s) {
		snprintf(err, errlen, "config field 'store': required (the store's object)");
		st = LBS_ECONFIG;
	}
	if (st != LBS_OK)
		return st;
	st = read_store(s, o, need_path, &fl, &fo, err, errlen);
	if (fl)
		fleet_opts_free(&fo);
	return st;
}

/* The fields of learning outcomes: a keys-only store reads none of them. */
static const char *const learn_fields[] = {
	"alpha", "half_life_s", "batch_count", "batch_ms", "block_ms", "queue_max", "max_pairs",
	"fleet", NULL,
};

void store_config_keys_only(cJSON *store)
{
	for (size_t i = 0; learn_fields[i]; i++)
		cJSON_DeleteItemFromObjectCaseSensitive(store, learn_fields[i]);
}

const char *store_config_learn_field(const cJSON *store)
{
	for (size_t i = 0; store && learn_fields[i]; i++)
		if (cJSON_GetObjectItemCaseSensitive(store, learn_fields[i]))
			return learn_fields[i];
	return NULL;
}

static lbs_status open_store_of(const cJSON *cfg, const lbs_host_api *host, const char *who,
                                int keys_only, store **out, char *err, size_t errlen)
{
	const cJSON *s, *fl = NULL;
	store_opts o;
	fleet_opts fo;
	lbs_status st = cfg_object(cfg, "store", &s, err, errlen);

	*out = NULL;
	if (st != LBS_OK)
		return st;
	store_opts_default(&o);
	o.keys_only = keys_only;
	if (keys_only && store_config_learn_field(s)) {
		snprintf(err, errlen, "config field 'store.%s': unread: %s keeps only its keys in "
		         "the store, and learns no outcome", store_config_learn_field(s), who);
		return LBS_ECONFIG;
	}
	if (s) {
		st = read_store(s, &o, 1, &fl, &fo, err, errlen);
		if (st != LBS_OK) {
			if (fl)
				fleet_opts_free(&fo);
			return st;
		}
	} else if (host && host->log) {
		char msg[160];
		snprintf(msg, sizeof msg, "%s: no \"store\" configured: learning stays in memory "
		         "and is lost when the instance ends", who);
		host->log(host->host_data, LBS_LOG_INFO, msg);
	}
	if (!fl)
		return store_open(&o, host, out, err, errlen);
	o.fleet = &fo;
	st = store_open(&o, host, out, err, errlen);
	fleet_opts_free(&fo);
	return st;
}

lbs_status store_config_open(const cJSON *cfg, const lbs_host_api *host, const char *who,
                             store **out, char *err, size_t errlen)
{
	return open_store_of(cfg, host, who, 0, out, err, errlen);
}

lbs_status store_config_open_keys(const cJSON *cfg, const lbs_host_api *host, const char *who,
                                  store **out, char *err, size_t errlen)
{
	return open_store_of(cfg, host, who, 1, out, err, errlen);
}

/*
 * The absolute name of directory `path` before it need exist: the longest
 * prefix that exists resolved by realpath (".." and links in it are the
 * kernel's to judge), the rest, which store_open will make, cleaned of
 * ".", ".." and repeated '/'.  0, or -1 when that cannot be told.
 */
static int dir_name(const char *path, char *out, size_t len)
{
	char head[PATH_MAX];
	size_t cut = strlen(path), used;
	const char *t;

	if (cut >= sizeof head || len < PATH_MAX)
		return -1; /* realpath writes up to PATH_MAX */
	for (;;) {
		size_t h = cut;

		while (h > 1 && path[h - 1] == '/')
			h--;
		if (h == 0) {
			snprintf(head, sizeof head, ".");
		} else {
			memcpy(head, path, h);
			head[h] = '\0';
		}
		if (realpath(head, out))
			break;
		if ((errno != ENOENT && errno != ENOTDIR) || h == 0)
			return -1;
		while (h > 0 && path[h - 1] != '/')
			h--;
		cut = h;
	}
	used = strlen(out);
	for (t = path + cut; *t;) {
		size_t n = strcspn(t, "/");

		if (n == 2 && !strncmp(t, "..", 2)) {
			while (used > 1 && out[used - 1] != '/')
				used--;
			if (used > 1)
				used--;
			out[used] = '\0';
		} else if (n && !(n == 1 && *t == '.')) {
			if (used + 1 + n >= len)
				return -1;
			used += (size_t)snprintf(out + used, len - used, "%s%.*s",
			                         used > 1 ? "/" : "", (int)n, t);
		}
		t += n;
		while (*t == '/')
			t++;
	}
	return 0;
}

/* Whether two store paths name one directory: by device and inode once
 * both exist (a bind mount too), else by dir_name. */
static int same_dir(const char *a, const char *b)
{
	struct stat sa, sb;
	char ca[PATH_MAX], cb[PATH_MAX];

	if (!strcmp(a, b))
		return 1;
	if (stat(a, &sa) == 0 && stat(b, &sb) == 0)
		return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
	if (dir_name(a, ca, sizeof ca) || dir_name(b, cb, sizeof cb))
		return 0;
	return !strcmp(ca, cb);
}

int store_same_dir(const char *a, const char *b)
{
	return same_dir(a, b);
}

/* A store path as same_dir() compares it, resolved once: by device and
 * inode when it exists (a path that does not cannot be one that does),
 * else by dir_name; a path that resolves to neither matches only itself. */
typedef struct dir_key {
	int exists;
	dev_t dev;
	ino_t ino;
	char *name;
} dir_key;

static void key_of(const char *path, dir_key *k)
{
	struct stat st;
	char c[PATH_MAX];

	memset(k, 0, sizeof *k);
	if (!path)
		return;
	if (stat(path, &st) == 0) {
		k->exists = 1;
		k->dev = st.st_dev;
		k->ino = st.st_ino;
	} else if (dir_name(path, c, sizeof c) == 0) {
		k->name = strdup(c);
	}
}

static int same_key(const dir_key *a, const dir_key *b, const char *pa, const char *pb)
{
	if (!pa || !pb)
		return 0;
	if (!strcmp(pa, pb))
		return 1;
	if (a->exists || b->exists)
		return a->exists && b->exists && a->dev == b->dev && a->ino == b->ino;
	return a->name && b->name && !strcmp(a->name, b->name);
}

lbs_status store_learners_apart(const store_learner *l, size_t n, char *err, size_t errlen)
{
	/* Each path resolved once: a stat and a realpath a pair made 1,024
	 * learners take seconds. */
	dir_key *k = calloc(n ? n : 1, sizeof *k);
	lbs_status st = LBS_OK;

	if (!k) {
		snprintf(err, errlen, "out of memory");
		return LBS_ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		key_of(l[i].path, &k[i]);
	for (size_t i = 1; i < n && st == LBS_OK; i++) {
		for (size_t j = 0; j < i; j++) {
			char pi[160], pj[160];

			if ((l[i].group && l[i].group == l[j].group) ||
			    !same_key(&k[i], &k[j], l[i].path, l[j].path))
				continue;
			txt_show(pi, sizeof pi, l[i].path);
			txt_show(pj, sizeof pj, l[j].path);
			if (!strcmp(l[i].path, l[j].path))
				snprintf(err, errlen, "config field '%s': %s learns into the same store "
				         "'%s' as %s (config field '%s'), so each outcome would count "
				         "twice; give one of them another path", l[i].field, l[i].who,
				         pi, l[j].who, l[j].field);
			else
				snprintf(err, errlen, "config field '%s': %s learns into the same store "
				         "as %s (config field '%s'): '%s' and '%s' are one directory, so "
				         "each outcome would count twice; give one of them another path",
				         l[i].field, l[i].who, l[j].who, l[j].field, pi, pj);
			st = LBS_ECONFIG;
			break;
		}
	}
	for (size_t i = 0; i < n; i++)
		free(k[i].name);
	free(k);
	return st;
}

lbs_status store_learn(store *s, sched_counters *n, const lbs_outcome *o)
{
	lbs_status st = store_report(s, o);

	if (st == LBS_OK)
		sc_bump(&n->reports);
	return st;
}

lbs_status store_sched_stats(const char *name, store *s, const sched_counters *n,
                             const char *extra, lbs_write_fn write, void *ctx)
{
	char buf[4096], fl[2048] = "";
	size_t len = sizeof buf;
	store_counts c;
	int n_out;

	store_counts_get(s, &c);
	if (store_fleet(s) && fleet_stats(store_fleet(s), fl, sizeof fl))
		return LBS_EINTERNAL;
	n_out = snprintf(buf, len,
	         ",\"learned_pairs\":%llu,\"store\":{\"persistent\":%s,\"committed\":%llu,"
	         "\"queued\":%llu,\"commits\":%llu,\"refreshes\":%llu,\"map_grows\":%llu,"
	         "\"lost\":%llu,\"retrying\":%llu,\"pending\":%llu,\"failed_commits\":%llu,"
	         "\"pairs\":%llu,"
	         "\"refused_pairs\":%llu,\"bad_records\":%llu%s}%s",
	         (unsigned long long)c.pairs, c.persistent ? "true" : "false",
	         (unsigned long long)c.committed, (unsigned long long)c.queued,
	         (unsigned long long)c.commits, (unsigned long long)c.refreshes,
	         (unsigned long long)c.map_grows, (unsigned long long)c.lost,
	         (unsigned long long)c.retrying, (unsigned long long)c.pending,
	         (unsigned long long)c.failed_commits,
	         (unsigned long long)c.pairs, (unsigned long long)c.refused_pairs,
	         (unsigned long long)c.bad_records, fl, extra ? extra : "");
	if (n_out < 0 || (size_t)n_out >= len) /* cut short, it would not be JSON */
		return LBS_EINTERNAL;
	return sc_stats(name, n, buf, write, ctx);
}
