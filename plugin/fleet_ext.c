/*
 * fleet_ext.c -- the "lbs.ext.fleet/1" extension: the fleet's totals as
 * an export document (prefs dump --redis) and a one-shot sync (prefs sync),
 * so that a host tool needs no Redis client of its own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "config.h"
#include "fleet_config.h"
#include "fleet_ext.h"
#include "store_config.h"
#include "store_ext.h"

/* The "store" object of a config into o and its "fleet" into fo, read and
 * checked as create reads them (dump and export use no store, and took a
 * misspelt field of it without a word); LBS_ECONFIG when there is none. */
static lbs_status read_fleet(const char *config, size_t len, cJSON **doc, const cJSON **store_obj,
                             store_opts *o, fleet_opts *fo, char *err, size_t errlen)
{
	const cJSON *fl = NULL;
	lbs_status st;

	memset(fo, 0, sizeof *fo);
	st = cfg_parse(config, len, doc, err, errlen);
	if (st != LBS_OK)
		return st;
	st = cfg_object(*doc, "store", store_obj, err, errlen);
	if (st == LBS_OK && *store_obj)
		st = cfg_nested("store", cfg_object(*store_obj, "fleet", &fl, err, errlen), err, errlen);
	if (st == LBS_OK && !fl) {
		/* A composite's or adaptive's store is a child's: this reads
		 * the top level's alone, which a scheduler's own config has. */
		snprintf(err, errlen, "config field 'store.fleet': required (the Redis to use)%s",
		         cJSON_GetObjectItemCaseSensitive(*doc, "children") ||
		                 cJSON_GetObjectItemCaseSensitive(*doc, "routes")
		             ? "; this reads the top level's \"store\", not a child's: give the "
		               "learning child's own config"
		             : "");
		st = LBS_ECONFIG;
	}
	if (st == LBS_OK)
		st = store_config_read(*doc, o, 0, err, errlen);
	if (st == LBS_OK)
		st = cfg_nested("store", cfg_nested("fleet", fleet_config_read(fl, fo, err, errlen),
		                                     err, errlen), err, errlen);
	return st;
}

typedef struct totals_ctx {
	const lbs_ext_store *ext;
	lbs_write_fn write;
	void *ctx;
	int n, failed;
} totals_ctx;

static int one_total(void *p, uint32_t type, const char *worker, const hist_sums *c)
{
	totals_ctx *t = p;
	store_item it = {type, worker, *c};

	if (store_ext_write_item(t->write, t->ctx, &it, t->n++)) {
		t->failed = 1;
		return 1;
	}
	return 0;
}

static lbs_status totals_json(const lbs_host_api *host, const char *config, size_t len,
                              lbs_write_fn write, void *ctx, char *err, size_t errlen)
{
	cJSON *doc = NULL;
	const cJSON *so = NULL;
	fleet_opts fo;
	store_opts o;
	char head[64];
	totals_ctx t = {NULL, write, ctx, 0, 0};
	lbs_status st;

	if (!config || !write)
		return LBS_EINVAL;
	st = read_fleet(config, len, &doc, &so, &o, &fo, err, errlen);
	cJSON_Delete(doc);
	snprintf(head, sizeof head, "{\"schema\":%d,\"records\":[", STORE_SCHEMA);
	if (st == LBS_OK && write(ctx, head, strlen(head)))
		st = LBS_EIO;
	if (st == LBS_OK)
		st = fleet_read_totals(&fo, host, one_total, &t, err, errlen);
	if (st == LBS_OK && (t.failed || write(ctx, "\n]}\n", 4))) {
		snprintf(err, errlen, "fleet: the writer refused the totals");
		st = LBS_EIO;
	}
	fleet_opts_free(&fo);
	return st;
}

static lbs_status sync_once(const lbs_host_api *host, const char *config, size_t len,
                            lbs_write_fn write, void *ctx, char *err, size_t errlen)
{
	cJSON *doc = NULL;
	const cJSON *so = NULL;
	fleet_opts fo;
	store *s = NULL;
	store_opts o;
	char stats[2048];
	lbs_status st;

	if (!config || !write)
		return LBS_EINVAL;
	st = read_fleet(config, len, &doc, &so, &o, &fo, err, errlen);
	if (st == LBS_OK && !o.path) {
		snprintf(err, errlen, "config field 'store.path': required (the store's directory)");
		st = LBS_ECONFIG;
	}
	/* The store as a scheduler opens it, without the sync thread. */
	if (st == LBS_OK) {
		o.fleet = &fo;
		o.fleet_manual = 1;
		/* A store run in memory has no outbox and no fleet to sync: its
		 * on_error "memory" is for serving requests, not for this. */
		o.memory_on_error = 0;
		st = store_open(&o, host, &s, err, errlen);
	}
	if (st == LBS_OK)
		st = fleet_sync_once(store_fleet(s), err, errlen);
	if (st == LBS_OK) {
		/* ",\"fleet\":{...}" -> "{\"fleet\":{...}}" */
		if (fleet_stats(store_fleet(s), stats, sizeof stats)) {
			st = LBS_EINTERNAL;
		} else {
			stats[0] = '{';
			if (write(ctx, stats, strlen(stats)) || write(ctx, "}\n", 2))
				st = LBS_EIO;
		}
	}
	store_close(s);
	cJSON_Delete(doc);
	fleet_opts_free(&fo);
	return st;
}

const lbs_ext_fleet fleet_ext = {
	.struct_size = sizeof(lbs_ext_fleet),
	.totals_json = totals_json,
	.sync = sync_once,
};
