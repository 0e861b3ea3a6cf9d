/*
 * lbsched/fleet.h -- the "lbs.ext.fleet/1" extension (docs/STORE.md,
 * "fleet"): a fleet's learned totals in Redis, and a one-shot sync, so a
 * host tool needs no Redis client of its own.  Beside abi.h rather than in
 * it: abi.h is frozen at 1.1 (tests/abi/v1.1); this joins it with the next
 * minor.  C99; nothing but abi.h.
 */
#ifndef LBSCHED_FLEET_H
#define LBSCHED_FLEET_H

#include <lbsched/abi.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Returned by get_extension(LBS_EXT_FLEET).  `config` is a scheduler
 * config's JSON text whose "store" object holds "fleet" (and, for sync,
 * "path").  All functions are [control].
 */
#define LBS_EXT_FLEET "lbs.ext.fleet/1"

typedef struct lbs_ext_fleet {
	uint32_t struct_size;
	uint32_t reserved0;
	/* The fleet's totals in the export format of lbs.ext.store/1.
	 * Errors: LBS_ECONFIG, LBS_EIO (Redis; err says why, one line). */
	lbs_status (*totals_json)(const lbs_host_api *host, const char *config,
	                          size_t config_len, lbs_write_fn write, void *ctx,
	                          char *err, size_t errlen);
	/* One push of the store's unsent evidence and one pull of the totals,
	 * then the sync's state as JSON ({"fleet": {...}}).  Same errors. */
	lbs_status (*sync)(const lbs_host_api *host, const char *config,
	                   size_t config_len, lbs_write_fn write, void *ctx,
	                   char *err, size_t errlen);
} lbs_ext_fleet;

#ifdef __cplusplus
}
#endif

#endif
