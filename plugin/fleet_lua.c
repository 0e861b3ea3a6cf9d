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

#include <stdlib.h>
#include <string.h>

#include "history.h"

#define LBS_STR_(x) #x
#define LBS_STR(x) LBS_STR_(x)

/* The fleet's keys are all there or all gone: claim() and a restart make
 * seq and ver with the epoch (seq's field "#epoch"), and a merge that
 * wrote a pair marks seq's "#pairs", after which totals and changed stay
 * too.  One gone while another is not was evicted (maxmemory-policy
 * allkeys-*) or deleted: lost seq let every host publish its whole store
 * again on top of totals that held it, every count doubled; lost epoch
 * looped each host between its snapshot and its deltas; lost totals
 * emptied every view for good.  `gone` names the first such key's index
 * in KEYS (0 none), or is -1 when one holds another type, or ver holds
 * what is no counter lbsched made: another program's, never deleted nor
 * overwritten (mark's SET NX), and a push refused before its first write
 * (Redis keeps what a script wrote before a command of it fails: the
 * totals merged, the host's sequence not moved, each retry merged the
 * batch again); `renew` empties the rest and starts a new epoch, as
 * a restore from an older copy (fleet_lua_restart), so every host
 * publishes its whole evidence once, under the new epoch, and nothing
 * staged under the old one merges.  The epoch is made here from Redis's
 * clock, the caller's host and the old epoch: no second call, and the
 * first caller to see the loss is the one that renews. */
#define FLEET_LUA_WHOLE \
	"local function gone(ep)\n" \
	"  local has, want = {}, {'', 'hash', 'hash', 'zset', 'string'}\n" \
	"  for i = 2, 5 do\n" \
	"    local t = redis.call('TYPE', KEYS[i]).ok\n" \
	"    if t ~= 'none' and t ~= want[i] then return -1 end\n" \
	"    if i == 5 and t == 'string' and not string.find(redis.call('GET', KEYS[5]), '^%d+$') then return -1 end\n" \
	"    has[i] = t ~= 'none'\n" \
	"  end\n" \
	"  if not ep then\n" \
	"    for i = 2, 5 do if has[i] then return 1 end end\n" \
	"    return 0\n" \
	"  end\n" \
	"  if not has[2] then return 2 end\n" \
	"  if not has[5] then return 5 end\n" \
	"  if redis.call('HGET', KEYS[2], '#pairs') then\n" \
	"    for i = 3, 4 do if not has[i] then return i end end\n" \
	"  end\n" \
	"  return 0\n" \
	"end\n" \
	"local function mark(e)\n" \
	"  redis.call('HSET', KEYS[2], '#epoch', e)\n" \
	"  redis.call('SET', KEYS[5], 0, 'NX')\n" \
	"end\n" \
	"local function renew(ep, tm)\n" \
	"  local e = string.sub(redis.sha1hex(ARGV[1] .. ' ' .. tm[1] .. ' ' .. tm[2] .. ' ' .. (ep or '')), 1, 16)\n" \
	"  redis.call('DEL', KEYS[2], KEYS[3], KEYS[4], KEYS[5])\n" \
	"  redis.call('SET', KEYS[1], e)\n" \
	"  mark(e)\n" \
	"  return e\n" \
	"end\n"

static const char whole[] = FLEET_LUA_WHOLE;

static const char push_a[] =
	"local ep = redis.call('GET', KEYS[1])\n"
	"local host, op = ARGV[1], ARGV[7]\n"
	"local hl = tonumber(ARGV[6])\n"
	"local F = '<dddddddddddd'\n"
	"-- nil when a batch (mode, from, to) of `epoch` can apply now, else the reply\n"
	"local function check(m, from, to, epoch)\n"
	"  if ep and ep ~= epoch then return {'EPOCH', ep} end\n"
	"  if not ep and m ~= 's' then return {'EPOCH', ''} end\n"
	"  local last = redis.call('HGET', KEYS[2], host)\n"
	"  if m == 's' then\n"
	"    if last then return {'SEQ', last} end\n"
	"  else\n"
	"    if not last then return {'EPOCH', ep} end\n"
	"    if tonumber(last) >= tonumber(to) then return {'DUP', last} end\n"
	"    if tonumber(last) + 1 ~= tonumber(from) then return {'SEQ', last} end\n"
	"  end\n"
	"  return nil\n"
	"end\n"
	"local function claim(epoch)\n"
	"  if not ep then redis.call('SET', KEYS[1], epoch); mark(epoch); ep = epoch end\n"
	"end\n"
	"-- a stored record's numbers; nil for one that is not ours (not 96 bytes,\n"
	"-- a NaN or an infinity in it, or sums that learning cannot make, as\n"
	"-- hist_sums_problem checks them): this push's evidence replaces it, as\n"
	"-- nothing was learned there; a short one stopped every push, and one\n"
	"-- merged into stayed what every host refuses, the pair lost to all\n"
	"local function ours(cur)\n"
	"  if not cur or #cur ~= 96 then return nil end\n"
	"  local b = {struct.unpack(F, cur)}\n"
	"  local s = 1 + 1e-9\n"
	"  for j = 1, 12 do\n"
	"    local x = b[j]\n"
	"    if x ~= x or x == math.huge or x == -math.huge then return nil end\n"
	"  end\n"
	"  for _, j in ipairs({1, 2, 3, 6}) do\n"
	"    if b[j] < 0 or b[j] > 9007199254740992 then return nil end\n"
	"  end\n"
	"  if b[2] > b[1] or b[3] ~= b[1] - b[2] or b[6] > b[2] then return nil end\n"
	"  if b[4] < 0 or b[4] > " LBS_STR(HIST_DURATION_MAX) " * b[2] * s then return nil end\n"
	"  if b[5] < 0 or b[5] > " LBS_STR(HIST_DURATION_MAX) " * " LBS_STR(HIST_DURATION_MAX)
	" * b[2] * s then return nil end\n"
	"  if math.abs(b[7]) > " LBS_STR(HIST_LOG_RATIO_MAX) " * b[6] * s then return nil end\n"
	"  if b[8] < 0 or b[8] > " LBS_STR(HIST_LOG_RATIO_MAX) " * " LBS_STR(HIST_LOG_RATIO_MAX)
	" * b[6] * s then return nil end\n"
	"  if b[9] < 0 or b[9] > " LBS_STR(HIST_TIME_MAX) " or b[12] < 0 or b[12] > "
	LBS_STR(HIST_TIME_MAX) " then return nil end\n"
	"  if b[10] < 0 or b[11] < 0 or b[11] > b[10] * s then return nil end\n"
	"  return b\n"
	"end\n"
	/* Past FLEET_AHEAD_S, as hist_sums_not_after past its second: far
	 * wider, as this is Redis's clock against every host's, and a Redis
	 * whose clock lags re-stamped each push into the past. */
	"local function ahead(r, now)\n"
	"  if r[9] > now + " LBS_STR(FLEET_AHEAD_S) " then r[9] = now end\n"
	"  if r[12] > now + " LBS_STR(FLEET_AHEAD_S) " then r[12] = now end\n"
	"end\n"
	/* A record's times come on the pushing host's clock: moved onto
	 * Redis's by the gap between the two (off), so that every host's
	 * evidence is aged on one clock; minutes of skew weighed a host's
	 * outcomes 2^(-skew / half-life) against the others'.  0 stays 0
	 * (no time). */
	"local function onto(t, off)\n"
	"  if t <= 0 then return t end\n"
	"  return math.min(math.max(t + off, 0), " LBS_STR(HIST_TIME_MAX) ")\n"
	"end\n"
	"local function merge(ks, rs, now, off)\n"
	"  local ver = redis.call('INCR', KEYS[5])\n"
	"  local done = {}\n"
	"  if #ks > 0 then redis.call('HSET', KEYS[2], '#pairs', 1) end\n"
	"  for c = 0, #ks - 1, 500 do\n"
	"    local m = math.min(500, #ks - c)\n"
	"    local part = {}\n"
	"    for i = 1, m do part[i] = ks[c + i] end\n"
	"    local curs = redis.call('HMGET', KEYS[3], unpack(part))\n"
	"    local hs, zs = {}, {}\n"
	"    for i = 1, m do\n"
	"      local k = part[i]\n"
	"      local a = {struct.unpack(F, rs[c + i])}\n"
	"      a[9], a[12] = onto(a[9], off), onto(a[12], off)\n"
	"      local b = ours(done[k] or curs[i])\n"
	/* a side stamped ahead of Redis's clock (a host whose clock ran
	 * fast) is taken as of now, as hist_sums_not_after: else the other
	 * side's weight was decayed by the gap, every host's evidence lost */
	"      ahead(a, now)\n"
	"      if b then ahead(b, now) end\n"
	"      if b then\n"
	"        for j = 1, 8 do a[j] = a[j] + b[j] end\n"
	"        if b[10] ~= 0 or b[11] ~= 0 then\n"
	"          if a[10] == 0 and a[11] == 0 then\n"
	"            a[9], a[10], a[11] = b[9], b[10], b[11]\n"
	"          else\n"
	"            local t = math.max(a[9], b[9])\n"
	"            local fa, fb = 1, 1\n"
	"            if t > a[9] then fa = 2 ^ ((a[9] - t) / hl) end\n"
	"            if t > b[9] then fb = 2 ^ ((b[9] - t) / hl) end\n"
	"            a[10] = a[10] * fa + b[10] * fb\n"
	"            a[11] = a[11] * fa + b[11] * fb\n"
	"            a[9] = t\n"
	"          end\n"
	"        end\n"
	"        if b[12] > a[12] then a[12] = b[12] end\n"
	"      end\n"
	"      local rec = struct.pack(F, unpack(a, 1, 12))\n"
	"      done[k] = rec\n"
	"      hs[#hs + 1] = k; hs[#hs + 1] = rec\n"
	"      zs[#zs + 1] = ver; zs[#zs + 1] = k\n"
	"    end\n"
	"    redis.call('HSET', KEYS[3], unpack(hs))\n"
	"    redis.call('ZADD', KEYS[4], unpack(zs))\n"
	"  end\n"
	"end\n"
	"local function sid_parse(id)\n"
	"  local m, from, to, np, epoch, owner = string.match(id, '^(%a) (%d+) (%d+) (%d+) (%S+) (%S+)$')\n"
	"  return m, from, to, tonumber(np), epoch, owner\n"
	"end\n";

/* The rest: one literal would pass the 4,095 characters ISO C promises. */
static const char push_b[] =
	"local tm = redis.call('TIME')\n"
	"local now = tonumber(tm[1])\n"
	/* in whole seconds: a host in step with Redis moves nothing (its
	 * times stay what it learned, to the digit), and half a second
	 * weighs 0.06 % at a half-life of 10 minutes */
	"local off = math.floor(now + tonumber(tm[2]) / 1e6 - tonumber(ARGV[11]) + 0.5)\n"
	"local lost = gone(ep)\n"
	"if lost < 0 then return {'FOREIGN', ''} end\n"
	"if lost > 0 then return {'LOST', renew(ep, tm) .. ' ' .. lost} end\n"
	"local st = redis.call('HMGET', KEYS[6], 'id', 't', 'n', 'a')\n"
	/* seq's "#m:HOST": the id of HOST's stage while its merge is part way
	 * ("" none).  That stage gone (evicted: it has no expiry then) was
	 * uploaded again and its merged parts merged twice. */
	"local mk = '#m:' .. host\n"
	"local mid = redis.call('HGET', KEYS[2], mk)\n"
	"if mid and mid ~= '' and mid ~= st[1] then return {'LOST', renew(ep, tm) .. ' 6'} end\n"
	/* A sequence lbsched did not write (another program's): compared
	 * as a number, a huge one answered DUP and the batch was dropped,
	 * and one of text failed with Lua's words, naming no key.  At most
	 * 2^53, compared as text (tonumber rounds 9007199254740993 down to
	 * 2^53): Lua compares them as doubles.  Nor past the newest
	 * sequence this host's store has given (ARGV[12]): 1000000000000
	 * answered DUP for every batch after it, each dropped. */
	"local seq = redis.call('HGET', KEYS[2], host)\n"
	"if seq and not (string.match(seq, '^%d+$') and\n"
	"                (#seq < 16 or (#seq == 16 and seq <= '9007199254740992')) and\n"
	"                tonumber(seq) <= tonumber(ARGV[12])) then\n"
	"  return {'BADSEQ', seq}\n"
	"end\n"
	"if op == 'a' then\n"
	"  if not st[1] then return {'NONE', ''} end\n"
	"  local m, from, to, np, epoch = sid_parse(st[1])\n"
	"  local v = check(m, from, to, epoch)\n"
	"  if v then redis.call('DEL', KEYS[6]); return v end\n"
	"  if tonumber(st[3] or '0') < np then return {'STAGING', st[1]} end\n"
	"  local a = tonumber(st[4] or '0')\n"
	/* Parts of it merged, and then every key of the fleet gone but this
	 * stage: claimed again, the rest merged alone and its sequence set as
	 * if whole, the first parts' pairs lost to the totals for good. */
	"  if not ep and a > 0 then redis.call('DEL', KEYS[6]); return {'EPOCH', ''} end\n"
	"  local b = redis.call('HGET', KEYS[6], 'p' .. a)\n"
	"  local ks, rs, pos = {}, {}, 1\n"
	"  while pos <= #b do\n"
	"    local kl = string.byte(b, pos) + 256 * string.byte(b, pos + 1)\n"
	"    ks[#ks + 1] = string.sub(b, pos + 2, pos + 1 + kl)\n"
	"    rs[#rs + 1] = string.sub(b, pos + 2 + kl, pos + 1 + kl + 96)\n"
	"    pos = pos + 2 + kl + 96\n"
	"  end\n"
	"  if m == 's' then claim(epoch) end\n"
	"  merge(ks, rs, now, off)\n"
	"  if a + 1 < np then\n"
	"    redis.call('HSET', KEYS[6], 'a', a + 1, 't', now)\n"
	"    redis.call('HSET', KEYS[2], mk, st[1])\n"
	"    return {'MORE', tostring(a + 1)}\n"
	"  end\n"
	/* "", not HDEL: the ACL of docs/SECURITY.md has no HDEL */
	"  if a > 0 then redis.call('HSET', KEYS[2], mk, '') end\n"
	"  redis.call('HSET', KEYS[2], host, to)\n"
	"  redis.call('DEL', KEYS[6])\n"
	"  return {'OK', to}\n"
	"end\n"
	"local mode, np = ARGV[3], tonumber(ARGV[9])\n"
	"local v = check(mode, ARGV[4], ARGV[5], ARGV[2])\n"
	"if v then return v end\n"
	"local sid = mode .. ' ' .. ARGV[4] .. ' ' .. ARGV[5] .. ' ' .. ARGV[9] .. ' ' .. ARGV[2] .. ' ' .. ARGV[10]\n"
	"if st[1] and (st[1] ~= sid or op == 'w') then\n"
	"  local m, from, to, snp, epoch, owner = sid_parse(st[1])\n"
	"  if m == nil or check(m, from, to, epoch) then\n"
	"    redis.call('DEL', KEYS[6])\n"
	"  elseif st[4] or tonumber(st[3] or '0') >= snp then\n"
	"    return {'STAGED', st[1]}\n"
	"  elseif owner ~= ARGV[10] and now - tonumber(st[2] or '0') < 60 then\n"
	"    return {'STAGING', st[1]}\n"
	"  else\n"
	"    redis.call('DEL', KEYS[6])\n"
	"  end\n"
	"  st = {}\n"
	"end\n"
	"if mode == 's' then claim(ARGV[2]) end\n"
	"if op == 'w' then\n"
	"  local ks, rs = {}, {}\n"
	"  for i = 13, #ARGV, 2 do ks[#ks + 1] = ARGV[i]; rs[#rs + 1] = ARGV[i + 1] end\n"
	"  merge(ks, rs, now, off)\n"
	"  redis.call('HSET', KEYS[2], host, ARGV[5])\n"
	"  return {'OK', ARGV[5]}\n"
	"end\n"
	"local n = tonumber(st[3] or '0')\n"
	"-- a script that fails later keeps what it wrote: the stage is whole,\n"
	"-- its time and expiry with it, from its first write\n"
	"if not st[1] then\n"
	"  redis.call('HSET', KEYS[6], 'id', sid, 'n', 0, 't', now)\n"
	"  redis.call('EXPIRE', KEYS[6], 60)\n"
	"end\n"
	"if redis.call('HSETNX', KEYS[6], 'p' .. ARGV[8], ARGV[13]) == 1 then n = n + 1 end\n"
	"redis.call('HSET', KEYS[6], 'n', n, 't', now)\n"
	"if n >= np then\n"
	"  redis.call('PERSIST', KEYS[6])\n"
	"else\n"
	"  redis.call('EXPIRE', KEYS[6], 60)\n"
	"end\n"
	"return {'PART', tostring(n)}\n";

const char fleet_lua_pull[] = FLEET_LUA_WHOLE
	"local tm = redis.call('TIME')\n"
	"local ep = redis.call('GET', KEYS[1])\n"
	/* a host renews (an idle one notices here); prefs dump --redis
	 * (host "") only says so */
	"local lost = math.max(gone(ep), 0)\n"
	"if lost > 0 and ARGV[1] ~= '' then ep = renew(ep, tm) end\n"
	"ep = ep or ''\n"
	"local ver = redis.call('GET', KEYS[5]) or '0'\n"
	"local mine = redis.call('HGET', KEYS[2], ARGV[1]) or '-1'\n"
	"local lim = " LBS_STR(FLEET_PULL_PAGE) "\n"
	"local page = redis.call('ZRANGEBYSCORE', KEYS[4], '(' .. ARGV[2], '+inf', 'WITHSCORES', 'LIMIT', 0, lim)\n"
	"local n = #page / 2\n"
	"local keys, nxt = {}, ''\n"
	"if n == lim then\n"
	"  local last = page[2 * n]\n"
	"  if page[2] == last then\n"
	"    keys = redis.call('ZRANGEBYSCORE', KEYS[4], last, last)\n"
	"    nxt = last\n"
	"  else\n"
	"    for i = 1, n do\n"
	"      if page[2 * i] ~= last then keys[#keys + 1] = page[2 * i - 1] end\n"
	"    end\n"
	/* %.0f: tostring() gives 14 digits, and a version past 1e14 would
	 * come back rounded, skipping pairs */
	"    nxt = string.format('%.0f', tonumber(last) - 1)\n"
	"  end\n"
	"else\n"
	"  for i = 1, n do keys[i] = page[2 * i - 1] end\n"
	"end\n"
	/* Redis's clock: the puller takes the records' times onto its own */
	"local out = {ep, ver, mine, nxt, tm[1], tm[2], tostring(lost)}\n"
	"for i = 1, #keys, 1000 do\n"
	"  local part = {}\n"
	"  for j = i, math.min(i + 999, #keys) do part[#part + 1] = keys[j] end\n"
	"  local vals = redis.call('HMGET', KEYS[3], unpack(part))\n"
	"  for j = 1, #part do\n"
	"    if vals[j] then out[#out + 1] = part[j]; out[#out + 1] = vals[j] end\n"
	"  end\n"
	"end\n"
	"return out\n";

/* The push script is three literals, each under the length C requires a
 * compiler to accept; joined on the heap for each sync rather than in a
 * global, so that the plugin keeps no writable state beyond the list in
 * docs/SECURITY.md. */
char *fleet_lua_push(void)
{
	char *t = malloc(sizeof whole + sizeof push_a + sizeof push_b - 2);

	if (!t)
		return NULL;
	memcpy(t, whole, sizeof whole - 1);
	memcpy(t + sizeof whole - 1, push_a, sizeof push_a - 1);
	memcpy(t + sizeof whole + sizeof push_a - 2, push_b, sizeof push_b);
	return t;
}

const char fleet_lua_restart[] = FLEET_LUA_WHOLE
	"if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end\n"
	"redis.call('DEL', KEYS[2], KEYS[3], KEYS[4], KEYS[5])\n"
	"redis.call('SET', KEYS[1], ARGV[2])\n"
	"mark(ARGV[2])\n"
	"return 1\n";
