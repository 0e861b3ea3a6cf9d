/*
 * fleet_lua.h -- the Redis side of fleet learning: two Lua scripts, run
 * atomically by Redis, over the keys under the configured prefix:
 *
 *   PREFIX "epoch"    string: who made the current totals (a fresh Redis has
 *                     none; a host that finds none re-publishes everything)
 *   PREFIX "seq"      hash host id -> the last sequence applied for it; and
 *                     "#epoch" (the epoch that made it, from the epoch on),
 *                     "#pairs" (once a pair was merged: totals and changed
 *                     exist from then on), so that each key's loss shows;
 *                     "#m:" HOST, the id of HOST's stage while its merge is
 *                     part way ("" none)
 *   PREFIX "totals"   hash "TYPE:WORKER" -> the fleet's hist_sums, 12
 *                     little-endian doubles (FLEET_REC_BYTES)
 *   PREFIX "changed"  sorted set "TYPE:WORKER" -> the version that changed it
 *   PREFIX "ver"      counter, one step per merge call (0 from the epoch on)
 *   PREFIX "stage:" HOST
 *                     hash: a batch of HOST bigger than FLEET_PART_PAIRS on
 *                     its way in: "id" (mode from to parts epoch owner), "n"
 *                     parts uploaded, "a" parts merged, "t" Redis's time of
 *                     the last change, "p0".. the parts
 *
 * The merge in fleet_lua_push() is hist_sums_merge's (plugin/history.c),
 * after a side stamped more than FLEET_AHEAD_S past Redis's clock is taken
 * as of that clock (a host whose clock ran fast; hist_sums_not_after).
 *
 * A push of at most FLEET_PART_PAIRS pairs is one call ("w").  A bigger one
 * goes in parts so that no call holds Redis for long: the parts are
 * uploaded to the staging hash ("p", idempotent per part index), and once
 * all are there each "a" call merges one part; the last one sets the host's
 * sequence and drops the staging, in the same call.  A part is merged only
 * when the whole batch is in Redis, so a batch whose merge began is
 * finished from Redis's copy by whichever call of that host comes next
 * ("STAGED"), never replaced by another; an upload not complete has merged
 * nothing, and is dropped when its batch can no longer apply, when its
 * uploader (the "owner", one per sync) starts another, or 60 s after its
 * last part.
 */
#ifndef LBS_PLUGIN_FLEET_LUA_H
#define LBS_PLUGIN_FLEET_LUA_H

/* How far past Redis's clock (TIME, seconds) a record's times may be
 * before the merge takes them as of it.  A push's times are moved onto
 * Redis's clock first (by the gap between the pushing host's clock and
 * Redis's), so this catches records ahead of their own host's clock (an
 * import from elsewhere), and pushes of older plugins, which are not
 * moved: those are believed within it. */
#define FLEET_AHEAD_S 300

#define FLEET_PART_PAIRS 2000
/* Pairs per pull reply at most. */
#define FLEET_PULL_PAGE 5000

#define FLEET_REC_BYTES 96

/* KEYS: epoch seq totals changed ver stage.  ARGV: host, epoch, mode ("d" a
 * delta covering sequences from..to, "s" a host's whole evidence up to
 * `to`), from, to, half-life, op ("w" whole, "p" a part, "a" merge the next
 * staged part), part index, parts, owner, the host's clock (Unix seconds,
 * with microseconds: the merge moves the records' times onto Redis's by
 * the gap), the newest sequence the host's store has given a commit, then
 * for "w" key, record pairs,
 * for "p" the part: per pair a 2-byte little-endian key length, the key and
 * the record.  Replies {"OK", to} (applied), {"DUP", last} (already
 * applied: nothing done), {"SEQ", last} (the host's last applied sequence
 * is not from - 1: nothing done), {"EPOCH", epoch} (another epoch or none:
 * re-publish), {"PART", parts uploaded}, {"MORE", parts merged}, {"STAGED",
 * id} (another batch of this host is staged whole: "a" it first),
 * {"STAGING", id} (another sync of this host is uploading: later), {"NONE",
 * ""} ("a" with nothing staged), {"BADSEQ", value} (the host's field of
 * PREFIX "seq" is not a sequence lbsched writes, digits up to 2^53, or
 * is past the newest sequence the host's store has given: nothing done),
 * {"LOST", "EPOCH INDEX"} (the key KEYS[INDEX] was gone while others of the
 * fleet were not: the rest emptied and EPOCH begun, nothing else done).  The text is the caller's to free(); NULL
 * when out of memory. */
char *fleet_lua_push(void);

/* KEYS: epoch seq totals changed ver.  ARGV: host, since (no more: Redis
 * refuses more than 10 arguments before AUTH, and that refusal would hide
 * the NOAUTH).  Replies {epoch, ver, this host's last sequence or "-1",
 * next, Redis's clock (TIME's seconds, microseconds), the index in KEYS of
 * a key found gone while others were not ("0" none: for a host, the
 * totals were emptied and a new epoch begun, as "LOST"; for host "",
 * nothing done), key, record, ...}
 * (the records' times on Redis's clock) for at most FLEET_PULL_PAGE pairs changed after version `since` (more when one
 * version alone changed more), oldest first; `next` is the `since` of the
 * next page, "" when this was the last. */
extern const char fleet_lua_pull[];

/* KEYS: epoch seq totals changed ver.  ARGV: an epoch, a new epoch.  When
 * the epoch is still ARGV[1] (for a Redis restored from an older copy:
 * fleet_sync.c, restart_totals), deletes the other four keys and sets the
 * new epoch at once (seq's "#epoch" and ver with it), and replies 1; else 0.  Not left without an epoch, as
 * a Redis that restarted empty is: a snapshot of the old epoch staged or
 * under way would claim it back (a stage's merge claims its own epoch
 * when there is none) and its merged parts would be lost; under a new
 * one, every batch of the old is answered EPOCH.  DEL, not UNLINK: the
 * ACL docs/SECURITY.md gives already has it, and this happens once a
 * restore. */
extern const char fleet_lua_restart[];

#endif
