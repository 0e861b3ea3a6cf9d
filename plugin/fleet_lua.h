/*
 * fleet_lua.h -- the Redis side of fleet learning: two Lua scripts, run
 * atomically by Redis, over the keys under the configured prefix:
 *
 *   PREFIX "epoch"    string: who made the current totals (a fresh Redis has
 *                     none; a host that finds none re-publishes everything)
 *   PREFIX "seq"      hash host id -> the last sequence applied for it
 *   PREFIX "totals"   hash "TYPE:WORKER" -> the fleet's hist_sums, 12
 *                     little-endian doubles (FLEET_REC_BYTES)
 *   PREFIX "changed"  sorted set "TYPE:WORKER" -> the version that changed it
 *   PREFIX "ver"      counter, one step per applied push
 *
 * The merge in FLEET_LUA_PUSH is hist_sums_merge's (plugin/history.c).
 */
#ifndef LBS_PLUGIN_FLEET_LUA_H
#define LBS_PLUGIN_FLEET_LUA_H

#define FLEET_REC_BYTES 96

/* KEYS: epoch seq totals changed ver.  ARGV: host, epoch, mode ("d" a delta
 * covering sequences from..to, "s" a host's whole evidence up to `to`),
 * from, to, half-life, then key, record pairs.  Replies {"OK", to},
 * {"DUP", last} (already applied: nothing done), {"SEQ", last} (the host's
 * last applied sequence is not from - 1: nothing done), {"EPOCH", epoch}
 * (another epoch or none: re-publish). */
extern const char fleet_lua_push[];

/* KEYS: epoch seq totals changed ver.  ARGV: host, since.  Replies {epoch,
 * ver, this host's last sequence or "-1", key, record, ...} for the pairs
 * changed after version `since`. */
extern const char fleet_lua_pull[];

#endif
