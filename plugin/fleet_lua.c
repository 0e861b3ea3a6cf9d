/*
 * fleet_lua.c -- the scripts of fleet_lua.h.  Redis runs each atomically:
 * the check of a push's sequence and its application cannot be split by
 * another push, so a batch is applied at most once however often it is
 * delivered.
 *
 * A push reads, writes and marks its pairs 500 at a time (HMGET, HSET,
 * ZADD with many fields each): three Redis commands per 500 pairs instead
 * of three per pair, which is most of Redis's work per push.  A pair sent
 * twice in one push (never by this plugin) still merges twice: `done`
 * holds what the script wrote.
 */
#include "fleet_lua.h"

const char fleet_lua_push[] =
	"local ep = redis.call('GET', KEYS[1])\n"
	"if not ep then\n"
	"  if ARGV[3] ~= 's' then return {'EPOCH', ''} end\n"
	"  redis.call('SET', KEYS[1], ARGV[2]); ep = ARGV[2]\n"
	"end\n"
	"if ep ~= ARGV[2] then return {'EPOCH', ep} end\n"
	"local last = redis.call('HGET', KEYS[2], ARGV[1])\n"
	"if ARGV[3] == 's' then\n"
	"  if last then return {'SEQ', last} end\n"
	"else\n"
	"  if not last then return {'EPOCH', ep} end\n"
	"  if tonumber(last) >= tonumber(ARGV[5]) then return {'DUP', last} end\n"
	"  if tonumber(last) + 1 ~= tonumber(ARGV[4]) then return {'SEQ', last} end\n"
	"end\n"
	"local hl = tonumber(ARGV[6])\n"
	"local ver = redis.call('INCR', KEYS[5])\n"
	"local F = '<dddddddddddd'\n"
	"local np = (#ARGV - 6) / 2\n"
	"local done = {}\n"
	"for c = 0, np - 1, 500 do\n"
	"  local m = math.min(500, np - c)\n"
	"  local ks = {}\n"
	"  for i = 1, m do ks[i] = ARGV[5 + 2 * (c + i)] end\n"
	"  local curs = redis.call('HMGET', KEYS[3], unpack(ks))\n"
	"  local hs, zs = {}, {}\n"
	"  for i = 1, m do\n"
	"    local k = ks[i]\n"
	"    local a = {struct.unpack(F, ARGV[6 + 2 * (c + i)])}\n"
	"    local cur = done[k] or curs[i]\n"
	"    if cur then\n"
	"      local b = {struct.unpack(F, cur)}\n"
	"      for j = 1, 8 do a[j] = a[j] + b[j] end\n"
	"      if b[10] ~= 0 or b[11] ~= 0 then\n"
	"        if a[10] == 0 and a[11] == 0 then\n"
	"          a[9], a[10], a[11] = b[9], b[10], b[11]\n"
	"        else\n"
	"          local t = math.max(a[9], b[9])\n"
	"          local fa, fb = 1, 1\n"
	"          if t > a[9] then fa = 2 ^ ((a[9] - t) / hl) end\n"
	"          if t > b[9] then fb = 2 ^ ((b[9] - t) / hl) end\n"
	"          a[10] = a[10] * fa + b[10] * fb\n"
	"          a[11] = a[11] * fa + b[11] * fb\n"
	"          a[9] = t\n"
	"        end\n"
	"      end\n"
	"      if b[12] > a[12] then a[12] = b[12] end\n"
	"    end\n"
	"    local rec = struct.pack(F, unpack(a, 1, 12))\n"
	"    done[k] = rec\n"
	"    hs[#hs + 1] = k; hs[#hs + 1] = rec\n"
	"    zs[#zs + 1] = ver; zs[#zs + 1] = k\n"
	"  end\n"
	"  redis.call('HSET', KEYS[3], unpack(hs))\n"
	"  redis.call('ZADD', KEYS[4], unpack(zs))\n"
	"end\n"
	"redis.call('HSET', KEYS[2], ARGV[1], ARGV[5])\n"
	"return {'OK', ARGV[5]}\n";

const char fleet_lua_pull[] =
	"local ep = redis.call('GET', KEYS[1]) or ''\n"
	"local ver = redis.call('GET', KEYS[5]) or '0'\n"
	"local mine = redis.call('HGET', KEYS[2], ARGV[1]) or '-1'\n"
	"local keys = redis.call('ZRANGEBYSCORE', KEYS[4], '(' .. ARGV[2], '+inf')\n"
	"local out = {ep, ver, mine}\n"
	"for i = 1, #keys, 1000 do\n"
	"  local part = {}\n"
	"  for j = i, math.min(i + 999, #keys) do part[#part + 1] = keys[j] end\n"
	"  local vals = redis.call('HMGET', KEYS[3], unpack(part))\n"
	"  for j = 1, #part do\n"
	"    if vals[j] then out[#out + 1] = part[j]; out[#out + 1] = vals[j] end\n"
	"  end\n"
	"end\n"
	"return out\n";
