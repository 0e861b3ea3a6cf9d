#!/usr/bin/env bash
# test_fleet.sh -- issue 17: hosts (lbsched-shim processes, each with its
# own LMDB store) learning from each other through a real redis-server
# (Debian's, on 127.0.0.1 and a free port, nothing persisted, stopped by
# pid).  The totals must be exact: nothing lost, nothing counted twice.
set -u
shim=${LBS_SHIM:?run through meson test}
plugin=${LBS_PLUGIN:?}
. "${LBS_SRCDIR:?}/tests/testlib.sh"
command -v redis-server >/dev/null || { echo "test_fleet: SKIP (no redis-server)"; exit 77; }
trap 'stop_redis "$tmp/redis" KILL; stop_redis "$tmp/redis-auth" KILL; rm -rf "$tmp"' EXIT

port=$(free_port)
N=${FLEET_OUTCOMES:-20000}
CHUNKS=10
src=$LBS_SRCDIR

# config HOST [PORT] [EXTRA]: a hardware-aware config with a store in the fleet
config() {
	cat >"$tmp/$1.json" <<EOF
{"store": {"path": "$tmp/$1", "batch_ms": 20,
           "fleet": {"address": "127.0.0.1:${2:-$port}", "prefix": "t17:", "push_ms": 50,
                     "pull_ms": 100, "timeout_ms": 5000${3:-}}}}
EOF
}

# mkstore NAME: an empty store at $tmp/NAME (an import of no records), for
# a prefs sync, which makes none
mkstore() {
	printf '{"schema":1,"records":[]}\n' >"$tmp/none.json"
	"$shim" prefs import --plugin "$plugin" --db "$tmp/$1" "$tmp/none.json" >/dev/null 2>&1 ||
		bad "could not make the store $tmp/$1"
}

# outcomes FILE SEED COUNT: a stream of outcomes; its exact totals per
# (type, worker) go to FILE.want
python3 - "$tmp" "$N" "$CHUNKS" <<'PY'
import json, random, sys
tmp, n, chunks = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
workers = ["cpu_xeon_1", "gpu_a100_1", "gpu_p100_legacy_1"]
types = [("vision_classification", "VISION"), ("nlp_text_classification", "NLP")]
want = {}
for h in "abc":
    rnd = random.Random(h)
    per = n // chunks
    for c in range(chunks):
        with open(f"{tmp}/{h}.{c}.jsonl", "w") as f:
            for i in range(per):
                w = rnd.choice(workers)
                t, T = rnd.choice(types)
                ok = rnd.random() < 0.8
                d = round(rnd.uniform(1, 50), 3)
                f.write(json.dumps({"test_id": f"{h}{c}-{i}", "worker_id": w, "success": ok,
                                    "duration": d, "expected_duration": 30,
                                    "test_type": t}) + "\n")
                k = f"{T}/{w}"
                s = want.setdefault(k, [0, 0, 0.0])
                s[0] += 1
                s[1] += ok
                s[2] += d if ok else 0.0
json.dump(want, open(f"{tmp}/want.json", "w"))
PY

# totals_match FILE [WANT]: the totals an export shows equal WANT
# (want.json) exactly (counts) and to 1e-9 (the duration sums: doubles
# added in another order)
# want_of OUT FILE...: the exact totals per (type, worker) of outcome files
want_of() {
	python3 - "$@" <<'PY'
import json, sys
T = {"vision_classification": "VISION", "nlp_text_classification": "NLP"}
want = {}
for fn in sys.argv[2:]:
    for line in open(fn):
        o = json.loads(line)
        s = want.setdefault(f'{T[o["test_type"]]}/{o["worker_id"]}', [0, 0, 0.0])
        s[0] += 1
        s[1] += o["success"]
        s[2] += o["duration"] if o["success"] else 0.0
json.dump(want, open(sys.argv[1], "w"))
PY
}
totals_match() {
	python3 - "$1" "${2:-$tmp/want.json}" <<'PY'
import json, sys
got = {f'{r["workload_type"]}/{r["worker"]}': r for r in json.load(open(sys.argv[1]))["records"]}
want = json.load(open(sys.argv[2]))
bad = []
if set(got) != set(want):
    bad.append(f"pairs {sorted(got)} != {sorted(want)}")
for k, (n, ok, d) in want.items():
    r = got.get(k)
    if r and (r["samples"] != n or r["successes"] != ok or abs(r["sum_duration"] - d) > 1e-9 * d):
        bad.append(f'{k}: samples {r["samples"]}/{n} successes {r["successes"]}/{ok} '
                   f'sum_duration {r["sum_duration"]}/{d}')
print("\n".join(bad) or "exact")
sys.exit(1 if bad else 0)
PY
}

# held LOG TEXT CMD...: CMD, a decide given no --tests, its stderr appended
# to LOG, and its tests (examples/tests.jsonl, through a pipe) held back
# until LOG has TEXT, a line its fleet sync thread writes (at most 30 s;
# else a failure).  The thread starts as the scheduler opens and steps at
# once, but a decide that closes first leaves that step undone (its close
# does not sync): a decide's ~120 ms were the whole margin, and a thread
# that started late (a loaded machine, a TSan build) missed it.  CMD's
# exit status.
held() {
	local log=$1 text=$2 rc; shift 2
	rm -f "$tmp/held.late"
	"$@" --tests <(until_ok 30 grep -qF -- "$text" "$log" ||
		echo "not in $log within 30 s: '$text'" >"$tmp/held.late"
		cat "$src/examples/tests.jsonl") >/dev/null 2>>"$log"
	rc=$?
	wait $! # the tests' subshell: its verdict is written
	if [ -s "$tmp/held.late" ]; then bad "$(cat "$tmp/held.late")"; fi
	return "$rc"
}

# feed HOST CHUNK [TEXT]: one host process reports one chunk; given TEXT,
# it closes only once its log has TEXT (held)
feed() {
	if [ $# -gt 2 ]; then
		held "$tmp/$1.log" "$3" "$shim" decide --plugin "$plugin" --config "$tmp/$1.json" \
			--workers "$src/examples/fleet.json" --feedback "$tmp/$1.$2.jsonl"
		return
	fi
	"$shim" decide --plugin "$plugin" --config "$tmp/$1.json" --workers "$src/examples/fleet.json" \
		--tests "$src/examples/tests.jsonl" --feedback "$tmp/$1.$2.jsonl" >/dev/null 2>>"$tmp/$1.log"
}

for h in a b c; do config $h; done
start_redis "$tmp/redis" "$port" || exit 1

# --- 1. 3 hosts x N outcomes; redis killed (-9) and restarted empty twice ---
for h in a b c; do
	( for c in $(seq 0 $((CHUNKS - 1))); do feed $h $c || echo "feed $h $c failed" >>"$tmp/feedfail"; done ) &
	eval "pid_$h=$!"
done
sleep 0.8
stop_redis "$tmp/redis" KILL
sleep 0.5
start_redis "$tmp/redis" "$port" || exit 1
sleep 0.8
stop_redis "$tmp/redis" KILL
sleep 0.5
start_redis "$tmp/redis" "$port" || exit 1
wait $pid_a $pid_b $pid_c
[ -f "$tmp/feedfail" ] && bad "$(cat "$tmp/feedfail")" || ok
# What the last processes left in their outboxes: one sync each.
for h in a b c; do
	expect_rc 0 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/$h.json"
	# the pull after the push took in the host's last entries
	has "$tmp/out" '"backlog":0,'
done
expect_rc 0 "$shim" prefs export --plugin "$plugin" --redis "$tmp/a.json"
cp "$tmp/out" "$tmp/totals1.json"
if totals_match "$tmp/totals1.json" >"$tmp/why"; then ok; else bad "totals after 2 redis kills: $(cat "$tmp/why")"; fi
# Every host's own view is the fleet's: a second sync pulls the last pushes.
for h in a b c; do
	"$shim" prefs sync --plugin "$plugin" --redis "$tmp/$h.json" >/dev/null 2>&1
done

# --- 2. redis restarted empty: the hosts re-publish everything -----------------
stop_redis "$tmp/redis" KILL
start_redis "$tmp/redis" "$port" || exit 1
expect_rc 0 "$shim" prefs export --plugin "$plugin" --redis "$tmp/a.json"
has "$tmp/out" '"records":['
lacks "$tmp/out" '"workload_type"'
for h in a b c; do
	expect_rc 0 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/$h.json"
	has "$tmp/out" '"snapshots":1'
done
"$shim" prefs export --plugin "$plugin" --redis "$tmp/a.json" >"$tmp/totals2.json"
if totals_match "$tmp/totals2.json" >"$tmp/why"; then ok; else bad "totals after an empty restart: $(cat "$tmp/why")"; fi

# --- 3. a batch delivered twice: applied once --------------------------------------
# The push a sync sends, as redis-server saw it (MONITOR), sent again.
python3 - "$tmp/d.0.jsonl" <<'PY'
import json, sys
with open(sys.argv[1], "w") as f:
    for i in range(500):
        f.write(json.dumps({"test_id": f"d{i}", "worker_id": "gpu_a100_1", "success": True,
                            "duration": 2.5, "expected_duration": 30,
                            "test_type": "vision_classification"}) + "\n")
PY
config d
# prefs sync makes no store: a typo in its path left an empty one behind,
# filled with the fleet's totals alone, and said all was well
expect_rc 1 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/d.json"
has "$tmp/err" "prefs sync: store '$tmp/d': no such directory"
[ -e "$tmp/d" ] && bad "prefs sync made the store $tmp/d" || ok
mkdir "$tmp/d"
expect_rc 1 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/d.json"
has "$tmp/err" "prefs sync: store '$tmp/d': no store in this directory yet (no data.mdb)"
# d joins the fleet first, with nothing learned (a store made empty by an
# import): its outcomes then travel as deltas ("d"), which is what is
# replayed.  Joining in the feed's own process, its whole evidence went
# out at once now and then, and no delta.
mkstore d
expect_rc 0 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/d.json"
has "$tmp/out" '"snapshots":1,'
redis-cli -p "$port" monitor >"$tmp/monitor" 2>&1 &
mon=$!
# MONITOR says OK once it watches; a marker sent after the sync, once seen,
# means the push before it is in the file too (MONITOR keeps the order)
for _ in $(seq 200); do grep -q '^OK' "$tmp/monitor" && break; sleep 0.05; done
feed d 0
"$shim" prefs sync --plugin "$plugin" --redis "$tmp/d.json" >/dev/null 2>&1
redis-cli -p "$port" echo monitor-mark >/dev/null
for _ in $(seq 200); do grep -q 'monitor-mark' "$tmp/monitor" && break; sleep 0.05; done
kill $mon; wait $mon 2>/dev/null
"$shim" prefs export --plugin "$plugin" --redis "$tmp/a.json" >"$tmp/before_dup.json"
python3 - "$tmp/monitor" "$port" >"$tmp/replay" 2>&1 <<'PY'
import ast, re, socket, sys
# MONITOR prints each argument quoted with C-like escapes.
pushes = []
for line in open(sys.argv[1], encoding="latin-1"):
    m = re.match(r'^[\d.]+ \[\d+ [^\]]+\] (.*)$', line.rstrip("\n"))
    if not m:
        continue
    args = [ast.literal_eval("b" + a) for a in re.findall(r'"(?:[^"\\]|\\.)*"', m.group(1))]
    if args and args[0].upper() in (b"EVAL", b"EVALSHA") and len(args) > 10 and args[11] == b"d":
        pushes.append(args)
if not pushes:
    print("no push seen"); sys.exit(1)
args = pushes[-1]
if args[0].upper() == b"EVALSHA":
    print("replaying an EVALSHA")
req = b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)
s = socket.create_connection(("127.0.0.1", int(sys.argv[2])))
s.sendall(req)
print(s.recv(4096).decode("latin-1").replace("\r\n", " "))
PY
has "$tmp/replay" 'DUP'
"$shim" prefs export --plugin "$plugin" --redis "$tmp/a.json" >"$tmp/after_dup.json"
if cmp -s "$tmp/before_dup.json" "$tmp/after_dup.json"; then ok; else bad "a batch delivered twice changed the totals"; fi
python3 -c '
import json, sys
r = [x for x in json.load(open(sys.argv[1]))["records"] if x["worker"] == "gpu_a100_1" and x["workload_type"] == "VISION"][0]
w = json.load(open(sys.argv[2]))["VISION/gpu_a100_1"]
sys.exit(0 if r["samples"] == w[0] + 500 else 1)' "$tmp/after_dup.json" "$tmp/want.json" && ok || bad "host d's 500 outcomes are not counted exactly once"

# --- 4. a host killed (-9) with unsent outbox entries, then restarted -------------
stop_redis "$tmp/redis" KILL
python3 - "$tmp/k.0.jsonl" <<'PY'
import json, sys
with open(sys.argv[1], "w") as f:
    for i in range(300000):
        f.write(json.dumps({"test_id": f"k{i}", "worker_id": "cpu_xeon_1", "success": i % 3 > 0,
                            "duration": 1.5, "expected_duration": 30,
                            "test_type": "nlp_text_classification"}) + "\n")
PY
config k
# The shim itself in the background (a function would be a subshell).
"$shim" decide --plugin "$plugin" --config "$tmp/k.json" --workers "$src/examples/fleet.json" \
	--tests "$src/examples/tests.jsonl" --feedback "$tmp/k.0.jsonl" >/dev/null 2>&1 &
kpid=$!
end=$((SECONDS + 60)) # time, not rounds: mdb_stat itself is slow on a loaded machine
while [ $SECONDS -lt $end ]; do
	n=$(mdb_stat -s outbox "$tmp/k" 2>/dev/null | awk '/Entries:/ {print $2}')
	[ "${n:-0}" -gt 2 ] && break
	sleep 0.02
done
kill -9 $kpid 2>/dev/null; wait $kpid 2>/dev/null
n=$(mdb_stat -s outbox "$tmp/k" | awk '/Entries:/ {print $2}')
[ "${n:-0}" -gt 0 ] && ok || bad "host k left no outbox entries to test with ($n)"
"$shim" prefs export --plugin "$plugin" --db "$tmp/k" >"$tmp/k_local.json"
start_redis "$tmp/redis" "$port" || exit 1
for h in a b c d; do "$shim" prefs sync --plugin "$plugin" --redis "$tmp/$h.json" >/dev/null 2>&1; done
expect_rc 0 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/k.json"
"$shim" prefs export --plugin "$plugin" --redis "$tmp/a.json" >"$tmp/after_k.json"
python3 -c '
import json, sys
local = [x for x in json.load(open(sys.argv[1]))["records"]][0]
fleet = [x for x in json.load(open(sys.argv[2]))["records"] if x["worker"] == "cpu_xeon_1" and x["workload_type"] == "NLP"][0]
w = json.load(open(sys.argv[3]))["NLP/cpu_xeon_1"]
ok = local["samples"] > 0 and fleet["samples"] == w[0] + local["samples"]
print(local["samples"], fleet["samples"], w[0])
sys.exit(0 if ok else 1)' "$tmp/k_local.json" "$tmp/after_k.json" "$tmp/want.json" >"$tmp/why" && ok ||
	bad "host k: what it committed before kill -9 is not in the totals exactly once: $(cat "$tmp/why")"
# The outbox is empty once the totals include it.
"$shim" prefs sync --plugin "$plugin" --redis "$tmp/k.json" >/dev/null 2>&1
n=$(mdb_stat -s outbox "$tmp/k" | awk '/Entries:/ {print $2}')
[ "$n" = 0 ] && ok || bad "host k's outbox still holds $n entries after the sync"

# --- 5. wrong password, unreachable redis, a Redis elsewhere without auth -----------
aport=$(free_port)
REDIS_AUTH="" start_redis "$tmp/redis-auth" "$aport" --requirepass right-secret-17 \
	--unixsocket "$tmp/redis-auth/sock" --unixsocketperm 700 || exit 1
printf 'wrong-secret-17\n' >"$tmp/pass"
chmod 600 "$tmp/pass"
config w "$aport" ", \"password_file\": \"$tmp/pass\""
mkstore w
expect_rc 1 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/w.json"
lines "$tmp/err" 1
has "$tmp/err" "lbsched-shim: prefs sync: redis://127.0.0.1:$aport: authentication refused: WRONGPASS"
lacks "$tmp/err" "secret"
printf 'right-secret-17\n' >"$tmp/pass"
expect_rc 0 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/w.json"
has "$tmp/out" "\"password_file\":\"$tmp/pass\""
lacks "$tmp/out" "secret"
# An ACL user: on the file's first line, or as "user" with a one-line file.
redis-cli -p "$aport" -a right-secret-17 --no-auth-warning acl setuser lb17 on '>acl-secret-17' '~*' '+@all' >/dev/null
printf 'lb17\nacl-secret-17\n' >"$tmp/acl.pass"
chmod 600 "$tmp/acl.pass"
config acl "$aport" ", \"password_file\": \"$tmp/acl.pass\""
mkstore acl
expect_rc 0 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/acl.json"
# the stats name the user AUTH sent, the file's ("" before)
has "$tmp/out" '"user":"lb17"'
printf 'acl-secret-17\n' >"$tmp/acl1.pass"
chmod 600 "$tmp/acl1.pass"
config acl1 "$aport" ", \"user\": \"lb17\", \"password_file\": \"$tmp/acl1.pass\""
mkstore acl1
expect_rc 0 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/acl1.json"
has "$tmp/out" '"user":"lb17"'
# The scheduler's stats with a store in a fleet that refuses a user name
# of control bytes, at a password file path of them too: each shows as
# four characters ('xNN), and the stats pass 1,024 bytes.  They come
# whole, as JSON (simulate puts them in its --json): the object went in
# one buffer of 1,024, past which stats failed and said nothing at all.
python3 - "$tmp" "$aport" <<'PY' || bad "no config of control-byte names"
import json, os, shutil, sys
tmp, port = sys.argv[1], sys.argv[2]
d = os.path.join(tmp, "\x01" * 60)
os.makedirs(d, exist_ok=True)
shutil.copy(os.path.join(tmp, "acl1.pass"), os.path.join(d, "acl1.pass"))
os.chmod(os.path.join(d, "acl1.pass"), 0o600)
json.dump({"store": {"path": os.path.join(tmp, "acll"),
                     "fleet": {"address": "127.0.0.1:" + port, "prefix": "t17l:",
                               "user": "lb17" + "\x02" * 60,
                               "password_file": os.path.join(d, "acl1.pass")}}},
          open(os.path.join(tmp, "acll.json"), "w"))
PY
expect_rc 0 "$shim" simulate --plugin "$plugin" --quiet --workers "$src/examples/hetero/fleet.json" \
	--truth "$src/examples/hetero/truth.json" --mix "$src/examples/hetero/mix.json" --tests 2000 \
	--compare "hardware-aware=$tmp/acll.json" --json "$tmp/acll.out.json"
python3 - "$tmp/acll.out.json" <<'PY' && ok || bad "simulate's stats of a refused fleet store with control-byte names are not whole: $(head -c 300 "$tmp/acll.out.json")"
import json, sys
run = json.load(open(sys.argv[1]))["runs"][0]
st = run.get("stats")
assert st and st["scheduler"] == "hardware-aware" and st["selects"] == 2000, st
fl = st["store"]["fleet"]
assert fl["user"].startswith("lb17'x02'x02"), fl
# The sync tries at once; a run on a loaded machine (a sanitizer's) may
# still end before its first try, and then the object is under 1,024.
assert (fl["errors"] == 0 and fl["last_error"] == "") or (
    fl["errors"] >= 1 and fl["last_error"].startswith("redis://127.0.0.1:")
    and "authentication as lb17" in fl["last_error"]
    and len(json.dumps(st, separators=(",", ":"))) > 1024), fl
assert st["sampled"] == {"selects": 0, "drawn": 0}, st
PY
config acl2 "$aport" ", \"user\": \"nobody17\", \"password_file\": \"$tmp/acl1.pass\""
mkstore acl2
expect_rc 1 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/acl2.json"
lines "$tmp/err" 1
has "$tmp/err" "redis://127.0.0.1:$aport: authentication as nobody17 refused: WRONGPASS"
# The ACL of docs/SECURITY.md, exactly: a store of 2,500 pairs joins the
# fleet, so its whole store goes in parts (the staged path's commands); a
# refused command is named.
acli() { redis-cli -p "$aport" -a right-secret-17 --no-auth-warning "$@"; }
acli acl setuser lbdoc on '>doc-secret-17' '~t17:*' +eval +evalsha '+script|load' +time +type \
	+get +set +incr +hget +hmget +hset +hsetnx +del +expire +persist +zadd +zrangebyscore >/dev/null
printf 'lbdoc\ndoc-secret-17\n' >"$tmp/doc.pass"
chmod 600 "$tmp/doc.pass"
python3 - "$tmp/doc-import.json" <<'PY'
import json, sys
rec = {"workload_type": "NLP", "samples": 2, "successes": 1, "failures": 1, "preference": 0.5,
       "mean_duration": 3, "var_duration": 0, "last_update": 1796470867}
json.dump({"schema": 3, "records": [dict(rec, worker="doc-%04d" % i) for i in range(2500)]},
          open(sys.argv[1], "w"))
PY
doc_pairs() { grep -o '"worker":"doc-' "$tmp/out" | wc -l; }
config doc "$aport" ", \"password_file\": \"$tmp/doc.pass\""
expect_rc 0 "$shim" prefs import --plugin "$plugin" --db "$tmp/doc" "$tmp/doc-import.json"
expect_rc 0 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/doc.json"
expect_rc 0 "$shim" prefs export --plugin "$plugin" --redis "$tmp/doc.json"
[ "$(doc_pairs)" = 2500 ] && ok || bad "the documented ACL's sync left $(doc_pairs) of 2500 pairs in Redis"
# One command taken away: the refusal names it (Redis says it after 60
# bytes of preamble).  What the script wrote before it failed stays (Redis
# has no rollback), a stage with its time and expiry, so a later sync,
# once the user may run the command again, takes it over when it is 60 s
# old (a nil time stopped every sync after, for good) and completes.
acli acl setuser lbdoc -hsetnx >/dev/null
config doc2 "$aport" ", \"password_file\": \"$tmp/doc.pass\""
sed -i 's/"prefix": "t17:"/"prefix": "t17:d2:"/' "$tmp/doc2.json"
expect_rc 0 "$shim" prefs import --plugin "$plugin" --db "$tmp/doc2" "$tmp/doc-import.json"
expect_rc 1 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/doc2.json"
lines "$tmp/err" 1
has "$tmp/err" "can't run this command or subcommand"
has "$tmp/err" "the ACL user needs the commands docs/SECURITY.md lists (Redis's ACL LOG names the one refused)"
stage=$(acli --scan --pattern 't17:d2:stage:*' | head -1)
[ -n "$stage" ] && [ "$(acli ttl "$stage")" -gt 0 ] && [ "$(acli hexists "$stage" t)" = 1 ] && ok ||
	bad "the failed sync's stage '$stage' has no expiry or time: $(acli hgetall "$stage" | head -c 200)"
acli acl setuser lbdoc +hsetnx >/dev/null
# another process's stage is waited for until it is 60 s old: as if it were
acli hset "$stage" t 0 >/dev/null
expect_rc 0 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/doc2.json"
expect_rc 0 "$shim" prefs export --plugin "$plugin" --redis "$tmp/doc2.json"
[ "$(doc_pairs)" = 2500 ] && ok || bad "after the refused sync, the next left $(doc_pairs) of 2500 pairs in Redis"
# A store synced with another prefix and back: Redis holds its evidence up
# to a sequence whose followers the other prefix's pulls took from the
# outbox.  It sent the same batch round after round (1,000 a step, about
# 10,000 commands a second) without a word; then it stopped, asking for the
# prefix's keys to be deleted so that every host re-publishes.  That is
# what it does now itself, as for a Redis restored from an older copy.
config sw "$aport" ", \"password_file\": \"$tmp/pass\""
sed -i 's/"prefix": "t17:"/"prefix": "t17sw1:"/' "$tmp/sw.json"
feed_sw() {
	"$shim" decide --plugin "$plugin" --config "$tmp/sw.json" --workers "$src/examples/fleet.json" \
		--tests "$src/examples/tests.jsonl" --feedback "$tmp/a.$1.jsonl" >/dev/null 2>>"$tmp/sw.log"
}
# moved_sw CHUNK FROM TO: host sw reports a chunk, its process kept open
# until its sync thread has moved the store from prefix FROM to TO (held):
# the prefs syncs below take the store as moved
moved_sw() {
	held "$tmp/sw.log" "store '$tmp/sw' moves from the fleet redis://127.0.0.1:$aport/$2 to redis://127.0.0.1:$aport/$3," \
		"$shim" decide --plugin "$plugin" --config "$tmp/sw.json" --workers "$src/examples/fleet.json" \
		--feedback "$tmp/a.$1.jsonl"
}
feed_sw 0
expect_rc 0 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/sw.json"
sed -i 's/"prefix": "t17sw1:"/"prefix": "t17sw2:"/' "$tmp/sw.json"
moved_sw 1 t17sw1: t17sw2:
expect_rc 0 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/sw.json"
expect_rc 0 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/sw.json"
sed -i 's/"prefix": "t17sw2:"/"prefix": "t17sw1:"/' "$tmp/sw.json"
moved_sw 2 t17sw2: t17sw1:
expect_rc 0 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/sw.json"
# said by whichever found it first: the held process's sync thread, or this
cat "$tmp/sw.log" "$tmp/err" >"$tmp/sw-said"
has "$tmp/sw-said" "Redis holds this host's evidence only up to sequence "
has "$tmp/sw-said" "(or this store synced with another Redis or prefix since); its totals are emptied and every host publishes its whole evidence again"
expect_rc 0 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/sw.json"
expect_rc 0 "$shim" prefs export --plugin "$plugin" --redis "$tmp/sw.json"
cp "$tmp/out" "$tmp/totals_sw.json"
want_of "$tmp/want_sw.json" "$tmp"/a.[012].jsonl
if totals_match "$tmp/totals_sw.json" "$tmp/want_sw.json" >"$tmp/why"; then ok; else bad "totals of a prefix synced with again: $(cat "$tmp/why")"; fi
# A unix socket is on this host: no allow_insecure needed, and the address
# in messages is unix://PATH.
cat >"$tmp/sock.json" <<EOF
{"store": {"path": "$tmp/sock", "fleet": {"address": "$tmp/redis-auth/sock", "prefix": "t17s:",
           "timeout_ms": 500, "password_file": "$tmp/pass"}}}
EOF
mkstore sock
expect_rc 0 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/sock.json"
has "$tmp/out" "\"address\":\"unix://$tmp/redis-auth/sock\""
sed 's/, "password_file": "[^"]*"//' "$tmp/sock.json" >"$tmp/sock0.json"
expect_rc 1 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/sock0.json"
lines "$tmp/err" 1
has "$tmp/err" "unix://$tmp/redis-auth/sock: NOAUTH"
dead=$(free_port)
config u "$dead"
mkstore u
expect_rc 1 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/u.json"
lines "$tmp/err" 1
has "$tmp/err" "lbsched-shim: prefs sync: redis://127.0.0.1:$dead: cannot connect: Connection refused"
# A store that cannot be opened has nothing to sync, on_error "memory" or
# not (a memory-only store has no fleet: the sync used to crash on it).
printf 'a file\n' >"$tmp/notdir"
cat >"$tmp/mem.json" <<EOF
{"store": {"path": "$tmp/notdir/s", "on_error": "memory", "fleet": {"address": "127.0.0.1:$port"}}}
EOF
expect_rc 1 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/mem.json"
lines "$tmp/err" 1
has "$tmp/err" "lbsched-shim: prefs sync: store '$tmp/notdir/s': Not a directory"
cat >"$tmp/far.json" <<EOF
{"store": {"path": "$tmp/far", "fleet": {"address": "192.0.2.7:6379"}}}
EOF
expect_rc 1 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/far.json"
lines "$tmp/err" 1
has "$tmp/err" "config field 'store.fleet.address': redis://192.0.2.7:6379: refused: a Redis off this host needs a password file"
chmod 644 "$tmp/pass"
expect_rc 1 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/w.json"
lines "$tmp/err" 1
has "$tmp/err" "config field 'store.fleet.password_file': password file $tmp/pass: others may access it (mode 644); chmod o-rwx it"
# Another program's key under the prefix: the error names the key (the
# script's own error names only its line, "@user_script:62: WRONGTYPE").
config wt
sed -i 's/"t17:"/"t17w:"/' "$tmp/wt.json"
head -5 "$tmp/a.0.jsonl" >"$tmp/wt.0.jsonl"
redis-cli -p "$port" set t17w:totals oops >/dev/null
feed wt 0
expect_rc 1 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/wt.json"
lines "$tmp/err" 1
has "$tmp/err" "redis://127.0.0.1:$port: key 't17w:totals' holds a string, where lbsched keeps a hash"
redis-cli -p "$port" del t17w:totals >/dev/null
# A live fleet's address: the scheme in any case (RFC 3986), and a bare
# or spaced one refused as an address, not read as a file path.
expect_rc 1 "$shim" decide --plugin "$plugin" --workers "REDIS://127.0.0.1:$port/none:" --tests "$src/examples/tests.jsonl"
has "$tmp/err" "redis://127.0.0.1:$port: no live worker under 'none:'"
expect_rc 1 "$shim" decide --plugin "$plugin" --workers "redis://" --tests "$src/examples/tests.jsonl"
has "$tmp/err" "redis://: the host is empty"
expect_rc 1 "$shim" decide --plugin "$plugin" --workers "redis://127.0.0.1:$port/a b" --tests "$src/examples/tests.jsonl"
has "$tmp/err" "the key prefix has a space or control byte"
# Bad fields: one line naming the field, at create (decide) as at prefs.
bad_fleet() { # JSON-OF-FLEET EXPECTED
	echo "{\"store\": {\"path\": \"$tmp/bad\", \"fleet\": $1}}" >"$tmp/bad.json"
	expect_rc 1 "$shim" decide --plugin "$plugin" --config "$tmp/bad.json" \
		--workers "$src/examples/fleet.json" --tests "$src/examples/tests.jsonl"
	lines "$tmp/err" 1
	has "$tmp/err" "$2"
}
bad_fleet '{"address": "nohost"}' "config field 'store.fleet.address': must be \"HOST:PORT\", \"[V6]:PORT\" (port 1..65535) or a unix socket's absolute path, got \"nohost\""
bad_fleet '{"address": "127.0.0.1:6379", "pasword_file": "x"}' "config field 'store.fleet.pasword_file': unknown field"
bad_fleet '{"address": "127.0.0.1:6379", "pull_ms": 0}' "config field 'store.fleet.pull_ms': must be an integer in 1..3600000, got 0"
bad_fleet '{"address": "127.0.0.1:6379", "user": "lb"}' "config field 'store.fleet.user': needs 'password_file'"
# A user name the AUTH cannot carry: cut, it named another user; dropped, the default one.
bad_fleet '{"address": "127.0.0.1:6379", "user": "'"$(printf 'u%.0s' $(seq 512))"'", "password_file": "x"}' "config field 'store.fleet.user': longer than 511 bytes"
bad_fleet '{"address": "127.0.0.1:6379", "user": "", "password_file": "x"}' "config field 'store.fleet.user': must be a non-empty string, got an empty string"
bad_fleet '{"address": "127.0.0.1:6379", "password_file": "'"$tmp"'/none"}' "config field 'store.fleet.password_file': password file $tmp/none: No such file or directory"
bad_fleet '{}' "config field 'store.fleet.address': required"
# prefs --redis reads the store as create does: a misspelt field of it is
# named, though dump and export open no store
echo "{\"store\": {\"path\": \"$tmp/bad\", \"nonsense\": true, \"fleet\": {\"address\": \"127.0.0.1:$port\"}}}" >"$tmp/bad.json"
for verb in dump export sync; do
	expect_rc 1 "$shim" prefs "$verb" --plugin "$plugin" --redis "$tmp/bad.json"
	has "$tmp/err" "config field 'store.nonsense': unknown field"
done
# adaptive checks its store, the fleet included, and names it as the user wrote it
echo "{\"store\": {\"path\": \"$tmp/bad\", \"fleet\": {\"address\": \"127.0.0.1:6379\", \"push_ms\": 0}}}" >"$tmp/bad.json"
expect_rc 1 "$shim" decide --plugin "$plugin" --scheduler adaptive --config "$tmp/bad.json" \
	--workers "$src/examples/fleet.json" --tests "$src/examples/tests.jsonl"
lines "$tmp/err" 1
has "$tmp/err" "config field 'store.fleet.push_ms': must be an integer in 1..3600000, got 0"
lacks "$tmp/err" "config.performance"
# digits alone for the port (strtol took a blank or a sign first)
bad_fleet '{"address": "127.0.0.1:+6379"}' "config field 'store.fleet.address': must be \"HOST:PORT\", \"[V6]:PORT\" (port 1..65535) or a unix socket's absolute path, got \"127.0.0.1:+6379\""
bad_fleet '{"address": "127.0.0.1: 6379"}' "got \"127.0.0.1: 6379\""
# An IPv6 address without brackets: split at its last colon it was the
# host "::" on port 1, refused as off this host, or "2001:db8:" on port 10,
# accepted and then unreachable on every retry.
bad_fleet '{"address": "::1"}' "config field 'store.fleet.address': must be \"HOST:PORT\", \"[V6]:PORT\" (port 1..65535) or a unix socket's absolute path, got \"::1\""
bad_fleet '{"address": "2001:db8::10"}' "got \"2001:db8::10\""
# The config's prefix follows the URL's rule: no space or control byte.
bad_fleet '{"address": "127.0.0.1:6379", "prefix": "a b:"}' "config field 'store.fleet.prefix': the key prefix has a space or control byte"
# The one loopback rule (redis_conn.h): 127.0.0.0/8, ::1, localhost or a unix
# socket; a name that merely starts with "127." is somewhere else.
bad_fleet '{"address": "127.attacker.example:6379"}' "config field 'store.fleet.address': redis://127.attacker.example:6379: refused: a Redis off this host needs a password file"
# The one password file format: a password, or an ACL user and its password;
# a config "user" goes with a one-line file, and must agree with a two-line one.
printf 'lb17\nacl-secret-17\n' >"$tmp/acl.pass"
chmod 600 "$tmp/acl.pass"
bad_fleet '{"address": "127.0.0.1:6379", "user": "other", "password_file": "'"$tmp"'/acl.pass"}' "config field 'store.fleet.password_file': password file $tmp/acl.pass: names another ACL user (its first line) than the 'user' setting; give the user in one place"
lacks "$tmp/err" "acl-secret-17"
# a third line would be dropped: a file of some other format
printf 'lb17\nacl-secret-17\nextra\n' >"$tmp/three.pass"
chmod 600 "$tmp/three.pass"
bad_fleet '{"address": "127.0.0.1:6379", "password_file": "'"$tmp"'/three.pass"}' "config field 'store.fleet.password_file': password file $tmp/three.pass: holds more than two lines (the password, or the ACL user and the password)"
lacks "$tmp/err" "acl-secret-17"
# ... while empty lines at its end are an editor's: the file is taken
printf 'lb17\nacl-secret-17\n\n\n' >"$tmp/blank.pass"
chmod 600 "$tmp/blank.pass"
echo "{\"store\": {\"path\": \"$tmp/blank\", \"fleet\": {\"address\": \"127.0.0.1:$port\", \"password_file\": \"$tmp/blank.pass\"}}}" >"$tmp/blank.json"
"$shim" decide --plugin "$plugin" --config "$tmp/blank.json" --workers "$src/examples/fleet.json" \
	--tests "$src/examples/tests.jsonl" >"$tmp/out" 2>"$tmp/err"
lacks "$tmp/err" "more than two lines"
lacks "$tmp/err" "acl-secret-17"
# Down while a host learns: it learns on and says why once.
stop_redis "$tmp/redis" KILL
config x
: >"$tmp/err"
held "$tmp/err" "redis://127.0.0.1:$port: cannot connect: Connection refused; learning goes on here and the sync retries (logged at most once a minute)" \
	"$shim" decide --plugin "$plugin" --config "$tmp/x.json" --workers "$src/examples/fleet.json" \
	--feedback "$tmp/a.0.jsonl"
eq "decide with its Redis down: exit status" "$?" 0
has "$tmp/err" "redis://127.0.0.1:$port: cannot connect: Connection refused; learning goes on here and the sync retries (logged at most once a minute)"
[ "$(grep -c 'cannot connect' "$tmp/err")" = 1 ] && ok || bad "the unreachable Redis was logged more than once"
"$shim" prefs export --plugin "$plugin" --db "$tmp/x" >"$tmp/x_local.json"
has "$tmp/x_local.json" '"workload_type"'

# --- 6. one host partitioned (a Redis it cannot reach), then healed ---------------
# Redis keeps the others' totals meanwhile; the host catches up, nothing twice.
start_redis "$tmp/redis" "$port" || exit 1
for h in a b c d k; do "$shim" prefs sync --plugin "$plugin" --redis "$tmp/$h.json" >/dev/null 2>&1; done
"$shim" prefs export --plugin "$plugin" --redis "$tmp/a.json" >"$tmp/before_p.json"
config p "$dead"
feed a 1 2>/dev/null || true # host a goes on learning through the partition too
"$shim" decide --plugin "$plugin" --config "$tmp/p.json" --workers "$src/examples/fleet.json" \
	--tests "$src/examples/tests.jsonl" --feedback "$tmp/b.2.jsonl" >/dev/null 2>&1
config p
expect_rc 0 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/p.json"
expect_rc 0 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/a.json"
"$shim" prefs export --plugin "$plugin" --redis "$tmp/a.json" >"$tmp/after_p.json"
"$shim" prefs export --plugin "$plugin" --db "$tmp/p" >"$tmp/p_local.json"
python3 - "$tmp/before_p.json" "$tmp/after_p.json" "$tmp/p_local.json" "$tmp/a.1.jsonl" >"$tmp/why" <<'PY' && ok || bad "a partitioned host healed: $(cat "$tmp/why")"
import json, sys
rec = lambda p: {f'{r["workload_type"]}/{r["worker"]}': r["samples"] for r in json.load(open(p))["records"]}
before, after, local = rec(sys.argv[1]), rec(sys.argv[2]), rec(sys.argv[3])
n_a = sum(1 for _ in open(sys.argv[4]))  # host a's chunk, pushed by its own process
grown = sum(after.values()) - sum(before.values())
print(f"grown {grown}, partitioned host {sum(local.values())}, host a {n_a}")
sys.exit(0 if grown == sum(local.values()) + n_a and sum(local.values()) > 0 else 1)
PY
# --- 7. a batch over the cap of 2,000 pairs a call: in parts, exactly once ---------
# Host s holds 7,500 pairs (store_writer: 2,500 workers x 3 types, one outcome
# each) and reaches Redis through a proxy that cuts the connection once while
# a part is uploaded and once while the parts are merged, withholding Redis's
# reply: the call took effect, the host does not know.  First as a
# re-publication (s is new to the fleet), then as a delta; then the same
# calls delivered again, and a staged upload of another sync, fresh and then
# stale.
cat >"$tmp/proxy.py" <<'EOF'
import os, socket, sys, threading, time
lport, rport = int(sys.argv[1]), int(sys.argv[2])
capture = open(os.environ["CAPTURE"], "ab") if os.environ.get("CAPTURE") else None
replied = os.environ.get("REPLIED")  # made once a reply reached a client
rules = {r.split(":")[0]: int(r.split(":")[1]) for r in sys.argv[3:]}
seen, lock = {}, threading.Lock()

def commands(buf):
    """The complete RESP commands at the head of buf: [(end, args)]."""
    out, pos = [], 0
    while buf[pos:pos + 1] == b"*":
        nl = buf.find(b"\r\n", pos)
        if nl < 0:
            break
        p, args = nl + 2, []
        for _ in range(int(buf[pos + 1:nl])):
            nl2 = buf.find(b"\r\n", p)
            if nl2 < 0:
                return out
            ln = int(buf[p + 1:nl2])
            if nl2 + 2 + ln + 2 > len(buf):
                return out
            args.append(buf[nl2 + 2:nl2 + 2 + ln])
            p = nl2 + 2 + ln + 2
        out.append((p, args))
        pos = p
    return out

def serve(c):
    s = socket.create_connection(("127.0.0.1", rport))
    cut = threading.Event()
    def back():
        try:
            while True:
                d = s.recv(65536)
                if not d or cut.is_set():
                    break
                c.sendall(d)
                if replied:
                    open(replied, "a").close()
        except OSError:
            pass
    threading.Thread(target=back, daemon=True).start()
    buf = b""
    try:
        while True:
            d = c.recv(1 << 20)
            if not d:
                break
            buf += d
            sent = 0
            for end, args in commands(buf):
                # a push call: EVAL(SHA) sha 6 KEYS host epoch mode from to hl OP ...
                if len(args) > 15 and args[0].upper() in (b"EVAL", b"EVALSHA") and args[2] == b"6":
                    op = args[15].decode()
                    with lock:
                        seen[op] = seen.get(op, 0) + 1
                        hit = rules.get(op) == seen[op]
                        if capture:  # each push call as sent, for a replay
                            capture.write(b"%d\n" % (end - sent) + buf[sent:end])
                            capture.flush()
                    if hit:
                        cut.set()  # Redis's reply is never relayed
                        s.sendall(buf[sent:end])
                        time.sleep(0.3)
                        print(f"cut at {op} call {seen[op]}", flush=True)
                        if os.environ.get("DIE_AFTER_CUT"):  # the host never gets back
                            os._exit(0)
                        return
                s.sendall(buf[sent:end])
                sent = end
            buf = buf[sent:]
    except OSError:
        pass
    finally:
        for x in (c, s):
            try:
                x.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            x.close()

ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", lport))
ls.listen(16)
print("listening", flush=True)
while True:
    c, _ = ls.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
EOF
pport=$(free_port)
proxy_pid=
proxy() { # RULE...: the proxy on $pport, cutting as the rules say (OP:NTH)
	rm -f "$tmp/proxy.log" # as fake(): the last one's "listening" is not this one's
	python3 "$tmp/proxy.py" "$pport" "$port" "$@" >"$tmp/proxy.log" 2>&1 &
	proxy_pid=$!
	until_ok 20 proxy_listens || bad "the proxy did not start: $(cat "$tmp/proxy.log")"
}
proxy_listens() { grep -q listening "$tmp/proxy.log" 2>/dev/null; }
proxy_stop() { if [ -n "$proxy_pid" ]; then kill "$proxy_pid" 2>/dev/null; wait "$proxy_pid" 2>/dev/null; fi; proxy_pid=; }
trap 'proxy_stop; stop_redis "$tmp/redis" KILL; stop_redis "$tmp/redis-auth" KILL; rm -rf "$tmp"' EXIT
big_fleet() { # PORT
	echo "{\"address\": \"127.0.0.1:$1\", \"prefix\": \"t17big:\", \"push_ms\": 50, \"pull_ms\": 100, \"timeout_ms\": 2000}"
}
echo "{\"store\": {\"path\": \"$tmp/s\", \"fleet\": $(big_fleet "$port")}}" >"$tmp/s_direct.json"
rcli() { redis-cli -p "$port" "$@"; }
# big_round WANT RULE...: host s reports 7,500 outcomes (one a pair) with
# Redis out of reach and holds them; then it reaches Redis through the
# cutting proxy.  Waits until the totals hold WANT samples and nothing is
# staged.
big_round() {
	local want=$1 got= wpid
	shift
	LBS_WRITER_FLEET=$(big_fleet "$pport") LBS_WRITER_WORKERS=2500 \
		"$LBS_STORE_WRITER" "$tmp/s" 256 20 7500 hold >"$tmp/s.out" 2>"$tmp/s.err" &
	wpid=$!
	for _ in $(seq 600); do grep -q holding "$tmp/s.out" 2>/dev/null && break; sleep 0.05; done
	proxy "$@"
	for _ in $(seq 600); do
		got=$(rcli eval "local n = 0
for _, v in ipairs(redis.call('HVALS', KEYS[1])) do n = n + struct.unpack('<d', v) end
if redis.call('EXISTS', KEYS[2]) == 1 then return -1 end
return n" 2 t17big:totals "t17big:stage:$(rcli hkeys t17big:seq | grep -v '^#' | head -1)")
		[ "$got" = "$want" ] && break
		sleep 0.1
	done
	kill -TERM $wpid
	wait $wpid
	proxy_stop
	[ "$got" = "$want" ] && ok || bad "host s's batch in parts: the totals hold $got samples, want $want (-1: still staged)"
	[ "$(grep -c '^cut at' "$tmp/proxy.log")" = 2 ] && ok || bad "the proxy did not cut twice: $(cat "$tmp/proxy.log")"
}
# big_exact ROUNDS: every pair of host s has ROUNDS samples, all failures
# (store_writer's first outcome of a pair fails, and s has one a pair a round)
big_exact() {
	"$shim" prefs export --plugin "$plugin" --redis "$tmp/s_direct.json" >"$tmp/big.json"
	python3 - "$tmp/big.json" "$1" >"$tmp/why" <<'EOF' && ok || bad "host s's totals are not exact: $(head -c 300 "$tmp/why")"
import json, sys
recs, rounds = json.load(open(sys.argv[1]))["records"], int(sys.argv[2])
bad = [r for r in recs if r["samples"] != rounds or r["failures"] != rounds]
print(len(recs), "pairs; wrong:", bad[:3])
sys.exit(0 if len(recs) == 7500 and not bad else 1)
EOF
}
# 1: a re-publication in 4 parts, cut after the 2nd part's upload and during
# the 2nd merge; 2: a delta in 4 parts, cut the same way, its calls captured.
big_round 7500 p:2 a:2
big_exact 1
CAPTURE=$tmp/capture big_round 15000 p:2 a:2
big_exact 2
# 3: every push call of round 2 delivered again: nothing applied.
python3 - "$tmp/capture" "$port" >"$tmp/replay" 2>&1 <<'EOF'
import socket, sys
data, calls, pos = open(sys.argv[1], "rb").read(), [], 0
while pos < len(data):
    nl = data.index(b"\n", pos)
    n = int(data[pos:nl])
    calls.append(data[nl + 1:nl + 1 + n])
    pos = nl + 1 + n
s = socket.create_connection(("127.0.0.1", int(sys.argv[2])))
f = s.makefile("rb")
ops = {}
for c in calls:
    s.sendall(c)
    lines = [f.readline() for _ in range(5)]  # *2, $n, WORD, $n, text
    op = c.split(b"\r\n")[32].decode()  # *N, then $len and value per argument: the 16th
    ops.setdefault(op, set()).add(lines[2].strip().decode())
print(len(calls), {k: sorted(v) for k, v in ops.items()})
EOF
python3 - "$tmp/replay" <<'EOF' && ok || bad "a batch in parts delivered again: $(cat "$tmp/replay")"
import ast, sys
n, ops = open(sys.argv[1]).read().split(" ", 1)
ops = ast.literal_eval(ops)
sys.exit(0 if int(n) >= 8 and set(ops) == {"p", "a"} and set(ops["p"]) == {"DUP"}
         and set(ops["a"]) == {"NONE"} else 1)
EOF
big_exact 2
# 4: another sync's upload of host s's next batch, 1 part of 2: while fresh,
# s waits and nothing of it is merged; 60 s old, it is dropped and s's batch
# goes in exactly once.
shost=$(rcli hkeys t17big:seq | grep -v '^#' | head -1)
forge() { # AGE_S
	local last ep now
	last=$(rcli hget t17big:seq "$shost")
	ep=$(rcli get t17big:epoch)
	now=$(rcli time | head -1)
	rcli hset "t17big:stage:$shost" id "d $((last + 1)) $((last + 9)) 2 $ep deadbeef" n 1 \
		t $((now - $1)) p0 junk >/dev/null
}
forge 0
LBS_WRITER_FLEET=$(big_fleet "$port") LBS_WRITER_WORKERS=2500 \
	"$LBS_STORE_WRITER" "$tmp/s" 256 20 7500 >"$tmp/s.out" 2>"$tmp/s.err" || bad "store_writer: $(cat "$tmp/s.err")"
expect_rc 0 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/s_direct.json"
big_exact 2
[ "$(rcli hget "t17big:stage:$shost" p0)" = junk ] && ok || bad "a fresh upload of another sync was replaced"
forge 61
expect_rc 0 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/s_direct.json"
has "$tmp/out" '"parts":'
big_exact 3
[ "$(rcli exists "t17big:stage:$shost")" = 0 ] && ok || bad "a stale upload was left staged"
# 5: a batch staged whole and cut in its first merge, its host gone before
# it finished; then a sync whose pushes are single calls (batch_entries 1:
# at most one commit of 256 pairs each) meets the stage (STAGED).  It must
# finish the stage first: it sent the same call again, 1,000 times a step,
# called that success, and the outbox never drained.
# A batch of s staged through the proxy, cut after its first part's merge.
stage_one_merged() {
	LBS_WRITER_FLEET=$(big_fleet "$pport") LBS_WRITER_WORKERS=2500 \
		"$LBS_STORE_WRITER" "$tmp/s" 256 20 7500 hold >"$tmp/s.out" 2>"$tmp/s.err" &
	wpid=$!
	until_ok 30 grep -q holding "$tmp/s.out" || bad "store_writer did not hold: $(cat "$tmp/s.err")"
	DIE_AFTER_CUT=1 proxy a:1
	until_ok 30 grep -q "^cut at a" "$tmp/proxy.log" || bad "the proxy did not cut a merge: $(cat "$tmp/proxy.log")"
	kill -TERM $wpid
	wait $wpid
	proxy_stop
	[ "$(rcli hget "t17big:stage:$shost" a)" = 1 ] && ok || bad "no batch staged with one part merged: $(rcli hgetall "t17big:stage:$shost" | head -c 300)"
}
stage_one_merged
echo "{\"store\": {\"path\": \"$tmp/s\", \"fleet\": $(big_fleet "$port" | sed 's/}$/, "batch_entries": 1}/')}}" >"$tmp/s_single.json"
expect_rc 0 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/s_single.json"
has "$tmp/out" '"backlog":0,'
big_exact 4
[ "$(rcli exists "t17big:stage:$shost")" = 0 ] && ok || bad "the staged batch was left staged"
# 6: the same, and then the stage evicted (deleted here) with its first part
# merged: the batch went in again whole, its first part counted twice.  Now
# the fleet begins a new epoch and s publishes its whole store.
stage_one_merged
rcli del "t17big:stage:$shost" >/dev/null
expect_rc 0 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/s_direct.json"
has "$tmp/err" "key 't17big:stage:$shost' was gone while the fleet's other keys were not"
has "$tmp/out" '"backlog":0,'
big_exact 5

# --- 8. Redis busy with another client's long script: BUSY is waited out ----------
# Redis answers BUSY to everything but SCRIPT KILL while a script runs past
# lua-time-limit; the sync sends again after a pause (timeout_ms in all), and
# counts it in stats' "busy", not as an error.
rcli config set lua-time-limit 100 >/dev/null
rcli eval "while true do end" 0 >/dev/null 2>&1 &
busy_pid=$!
redis_busy() { rcli ping 2>&1 | grep -q BUSY; }
until_ok 20 redis_busy || bad "Redis never got busy with the script"
# Kill the script only once the sync has met it: the sync reaches Redis
# through the proxy, which makes $tmp/replied when a reply first reaches
# it, and while the script runs every reply is BUSY.  From its first BUSY
# the sync waits 20 s (timeout_ms) before giving up.  (A fixed sleep raced
# a slow start, a sanitizer build.)
echo "{\"store\": {\"path\": \"$tmp/s\", \"fleet\": $(big_fleet "$pport" | sed 's/"timeout_ms": 2000/"timeout_ms": 20000/')}}" >"$tmp/s_busy.json"
grep -q '"timeout_ms": 20000' "$tmp/s_busy.json" || bad "s_busy.json: timeout_ms not replaced"
rm -f "$tmp/replied"
REPLIED=$tmp/replied proxy
"$shim" prefs sync --plugin "$plugin" --redis "$tmp/s_busy.json" >"$tmp/busy.out" 2>"$tmp/busy.err" &
sync_pid=$!
sync_met_redis() { [ -e "$tmp/replied" ]; }
until_ok 60 sync_met_redis || bad "the sync never had a reply from the busy Redis"
rcli script kill >/dev/null
wait $busy_pid 2>/dev/null
wait $sync_pid && ok || bad "prefs sync while Redis was busy: $(cat "$tmp/busy.err")"
proxy_stop
grep -q '"busy":[1-9]' "$tmp/busy.out" && grep -q '"errors":0' "$tmp/busy.out" && ok ||
	bad "BUSY replies not waited out: $(grep -o '"busy":[0-9]*,"errors":[0-9]*' "$tmp/busy.out")"
rcli config set lua-time-limit 5000 >/dev/null

# --- fields of the totals that are not records of ours -------------------------
# A short one stopped every push of that pair's evidence (the merge script
# failed on it), and readers skipped it, a NaN one too, without a word.
rcli del t17g:epoch t17g:seq t17g:totals t17g:changed t17g:ver >/dev/null
config g "$port" ''
sed -i 's/"prefix": "t17:"/"prefix": "t17g:"/' "$tmp/g.json"
printf '%s\n' '{"test_id": "g1", "worker_id": "gpu_a100_1", "success": true, "duration": 3, "expected_duration": 6, "test_type": "vision_classification"}' >"$tmp/g.0.jsonl"
feed g 0 || bad "feed g failed: $(cat "$tmp/g.log")"
expect_rc 0 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/g.json"
vkey=$(rcli hkeys t17g:totals | head -1)
[ -n "$vkey" ] && ok || bad "host g pushed nothing"
rcli hset t17g:totals "$vkey" short >/dev/null
python3 -c 'import struct, sys; sys.stdout.buffer.write(struct.pack("<12d", *[float("nan")] * 12))' |
	redis-cli -p "$port" -x hset t17g:totals 1:nan_worker >/dev/null
rcli zadd t17g:changed 1 1:nan_worker >/dev/null # what a pull reads: the changed pairs
expect_rc 0 "$shim" prefs export --plugin "$plugin" --redis "$tmp/g.json"
has "$tmp/err" "redis://127.0.0.1:$port: 2 field(s) of 't17g:totals' are not lbsched's records (the first: "
has "$tmp/err" "): skipped; this host's evidence for such a pair replaces it"
# g_push N: host g learns one more success of gpu_a100_1 (g.N.jsonl) and
# pushes it; the fleet's export follows, in $tmp/out and $tmp/err
g_push() {
	printf '%s\n' "{\"test_id\": \"g$(($1 + 1))\", \"worker_id\": \"gpu_a100_1\", \"success\": true, \"duration\": 3, \"expected_duration\": 6, \"test_type\": \"vision_classification\"}" >"$tmp/g.$1.jsonl"
	feed g "$1" || bad "feed g failed: $(cat "$tmp/g.log")"
	expect_rc 0 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/g.json"
	expect_rc 0 "$shim" prefs export --plugin "$plugin" --redis "$tmp/g.json"
}
# the next push of that pair's evidence replaces the short field
g_push 1
has "$tmp/err" "1 field(s) of 't17g:totals' are not lbsched's records (the first: '1:nan_worker')"
python3 -c 'import json, sys; r = [x for x in json.load(open(sys.argv[1]))["records"] if x["worker"] == "gpu_a100_1"]; sys.exit(0 if len(r) == 1 and r[0]["samples"] == 1 else 1)' "$tmp/out" &&
	ok || bad "the short field was not replaced by the pushed evidence: $(cat "$tmp/out")"
# ... and so is one whose sums learning cannot make, though every number is
# finite: 3 samples of 1 success and 1 failure (merged into, it stayed one
# every host refused, and the pair was lost to all of them).  A mean of
# 1.7e308 s is not read either.
python3 -c 'import struct, sys; sys.stdout.buffer.write(struct.pack("<12d", 3, 1, 1, 3, 9, 0, 0, 0, 1e9, 1, 1, 1e9))' |
	redis-cli -p "$port" -x hset t17g:totals "$vkey" >/dev/null
python3 -c 'import struct, sys; sys.stdout.buffer.write(struct.pack("<12d", 1, 1, 0, 1.7e308, 0, 0, 0, 0, 1e9, 1, 1, 1e9))' |
	redis-cli -p "$port" -x hset t17g:totals 2:huge_worker >/dev/null
rcli zadd t17g:changed 1 2:huge_worker >/dev/null
g_push 2
has "$tmp/err" "2 field(s) of 't17g:totals' are not lbsched's records"
python3 -c 'import json, sys; d = json.load(open(sys.argv[1]))["records"]; r = [x for x in d if x["worker"] == "gpu_a100_1"]; sys.exit(0 if len(r) == 1 and r[0]["samples"] == 1 and r[0]["failures"] == 0 and not [x for x in d if x["worker"] == "huge_worker"] else 1)' "$tmp/out" &&
	ok || bad "a contradictory total was merged into, or a mean of 1.7e308 s read: $(cat "$tmp/out")"
# ... and fields whose name is not one a host writes: the type with a
# leading zero ("01:w" was read as the pair "1:w", and its record replaced
# the real one's), a letter, a sign; an id that is not UTF-8 (an export
# was not JSON); counts that are not whole (3.9 samples read as 3)
before=$(python3 -c 'import json, sys; print([x["samples"] for x in json.load(open(sys.argv[1]))["records"] if x["worker"] == "gpu_a100_1"])' "$tmp/out")
rec1000() { python3 -c 'import struct, sys; sys.stdout.buffer.write(struct.pack("<12d", 1000, 1000, 0, 3000, 9000, 0, 0, 0, 1e9, 1, 1, 1e9))'; }
rec1000 | redis-cli -p "$port" -x hset t17g:totals "0$vkey" >/dev/null
rec1000 | redis-cli -p "$port" -x hset t17g:totals "x:${vkey#*:}" >/dev/null
rec1000 | redis-cli -p "$port" -x hset t17g:totals "+1:plus_worker" >/dev/null
rec1000 | redis-cli -p "$port" -x hset t17g:totals "$(printf '1:\xff\xfebad')" >/dev/null
python3 -c 'import struct, sys; sys.stdout.buffer.write(struct.pack("<12d", 3.9, 2.9, 1, 6, 18, 0, 0, 0, 1e9, 1, 1, 1e9))' |
	redis-cli -p "$port" -x hset t17g:totals 1:frac_worker >/dev/null
for f in "0$vkey" "x:${vkey#*:}" "+1:plus_worker" "$(printf '1:\xff\xfebad')" 1:frac_worker; do
	rcli zadd t17g:changed 9e15 "$f" >/dev/null
done
expect_rc 0 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/g.json"
expect_rc 0 "$shim" prefs export --plugin "$plugin" --redis "$tmp/g.json"
has "$tmp/err" "7 field(s) of 't17g:totals' are not lbsched's records"
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))["records"]  # JSON: no raw bytes of the bad id
r = [x["samples"] for x in d if x["worker"] == "gpu_a100_1"]
sys.exit(0 if str(r) == sys.argv[2] and not [x for x in d if x["worker"] in ("plus_worker", "frac_worker")] else 1)' "$tmp/out" "$before" &&
	ok || bad "a field not named as a host names it was read as a pair (gpu_a100_1 was $before): $(cat "$tmp/out")"

# --- a host whose clock ran fast ------------------------------------------------
# Its record stamped a day ahead reached the totals; the merge kept the later
# time and decayed the other side by the gap (a half-life is 10 minutes), so
# 20 failures another host learned were worth nothing, fleet-wide, for a day.
for h in s1 s2; do config $h "$port" ''; sed -i 's/"prefix": "t17:"/"prefix": "t17s:"/' "$tmp/$h.json"; done
ahead=$(( $(date +%s) + 86400 ))
printf '{"schema":3,"records":[{"workload_type":"VISION","worker":"gpu_a100_1","samples":1,"successes":1,"failures":0,"preference":1,"mean_duration":3,"var_duration":0,"last_update":%s,"ratio_n":0,"log_ratio_mean":0,"log_ratio_var":0,"sum_duration":3,"sum_duration_sq":9,"sum_log_ratio":0,"sum_log_ratio_sq":0,"pref_time":%s,"pref_weight":1,"pref_sum":1}]}\n' "$ahead" "$ahead" >"$tmp/ahead.json"
expect_rc 0 "$shim" prefs import --plugin "$plugin" --db "$tmp/s1" "$tmp/ahead.json"
expect_rc 0 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/s1.json"
for i in $(seq 20); do echo "{\"test_id\": \"f$i\", \"worker_id\": \"gpu_a100_1\", \"success\": false, \"duration\": 3, \"test_type\": \"vision_classification\"}"; done >"$tmp/s2.0.jsonl"
feed s2 0 || bad "feed s2 failed: $(cat "$tmp/s2.log")"
expect_rc 0 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/s2.json"
expect_rc 0 "$shim" prefs export --plugin "$plugin" --redis "$tmp/s2.json"
python3 -c 'import json, sys; r = [x for x in json.load(open(sys.argv[1]))["records"] if x["worker"] == "gpu_a100_1"]; sys.exit(0 if len(r) == 1 and r[0]["samples"] == 21 and r[0]["preference"] < 0.2 else 1)' "$tmp/out" &&
	ok || bad "a total stamped a day ahead ignored 20 failures: $(cat "$tmp/out")"

# --- hosts whose clocks are minutes apart ----------------------------------------
# A record's times are aged by the clock that stamped them: host k1, 150 s
# ahead, and host k2, 150 s behind, each learned 100 outcomes of one pair,
# k1 successes and k2 failures, at the same real time.  The totals weighed
# k2's evidence 2^(-300/600) against k1's: a preference of 0.58, not 0.50.
# Each push's times are moved onto Redis's clock, and each pull's onto the
# host's.  The clocks are libfaketime's (Debian's libfaketime).
faketime_so=/usr/lib/$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)/faketime/libfaketimeMT.so.1
if [ ! -e "$faketime_so" ] && [ "$(id -u)" = 0 ]; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libfaketime >/dev/null 2>&1 ||
		{ apt-get update >/dev/null 2>&1 &&
		  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libfaketime >/dev/null 2>&1; }
fi
if [ ! -e "$faketime_so" ]; then
	bad "libfaketime missing ($faketime_so): apt-get install libfaketime"
else
	# skewed OFFSET CMD...: CMD with the wall clock moved by OFFSET.  A
	# sanitizer's runtime (ASan, TSan builds) must come first of the preloaded libraries.
	preload=$faketime_so
	asan_so=$(ldd "$shim" 2>/dev/null | awk '/libasan|libtsan/ {print $3; exit}')
	[ -n "$asan_so" ] && preload="$asan_so $faketime_so"
	skewed() { local o=$1; shift; LD_PRELOAD=$preload FAKETIME="$o" FAKETIME_DONT_FAKE_MONOTONIC=1 FAKETIME_NO_CACHE=1 "$@"; }
	check_clock=$(LD_PRELOAD=$faketime_so FAKETIME=+150s date +%s)
	[ $((check_clock - $(date +%s))) -ge 148 ] && ok || bad "libfaketime does not move the clock ($check_clock)"
	for h in k1 k2; do config $h "$port" ''; sed -i 's/"prefix": "t17:"/"prefix": "t17k:"/' "$tmp/$h.json"; done
	for i in $(seq 100); do echo "{\"test_id\": \"k$i\", \"worker_id\": \"gpu_a100_1\", \"success\": true, \"duration\": 6, \"expected_duration\": 6, \"test_type\": \"vision_classification\"}"; done >"$tmp/k1.0.jsonl"
	for i in $(seq 100); do echo "{\"test_id\": \"k$i\", \"worker_id\": \"gpu_a100_1\", \"success\": false, \"duration\": 6, \"test_type\": \"vision_classification\"}"; done >"$tmp/k2.0.jsonl"
	skewed +150s "$shim" decide --plugin "$plugin" --config "$tmp/k1.json" --workers "$src/examples/fleet.json" \
		--tests "$src/examples/tests.jsonl" --feedback "$tmp/k1.0.jsonl" >/dev/null 2>>"$tmp/k1.log" || bad "feed k1 failed: $(cat "$tmp/k1.log")"
	skewed -150s "$shim" decide --plugin "$plugin" --config "$tmp/k2.json" --workers "$src/examples/fleet.json" \
		--tests "$src/examples/tests.jsonl" --feedback "$tmp/k2.0.jsonl" >/dev/null 2>>"$tmp/k2.log" || bad "feed k2 failed: $(cat "$tmp/k2.log")"
	expect_rc 0 skewed +150s "$shim" prefs sync --plugin "$plugin" --redis "$tmp/k1.json"
	expect_rc 0 skewed -150s "$shim" prefs sync --plugin "$plugin" --redis "$tmp/k2.json"
	# kpref FILE: the preference of VISION on gpu_a100_1 in an export
	kpref() { python3 -c 'import json, sys; r = [x for x in json.load(open(sys.argv[1]))["records"] if x["worker"] == "gpu_a100_1" and x["workload_type"] == "VISION"]; print("%d %.3f" % (r[0]["samples"], r[0]["preference"]) if len(r) == 1 else "none")' "$1"; }
	expect_rc 0 "$shim" prefs export --plugin "$plugin" --redis "$tmp/k1.json"
	got=$(kpref "$tmp/out")
	python3 -c 'import sys; n, p = sys.argv[1].split(); sys.exit(0 if n == "200" and abs(float(p) - 0.5) < 0.01 else 1)' "$got" &&
		ok || bad "hosts 300 s apart: the fleet's preference is not 0.50 of 200 samples ($got)"
fi

# --- a store synced once with another fleet (a config with the wrong prefix) ----
# A pull drops from the outbox what the totals it read include: synced once
# with t17m2: and then with its own t17m1: again, the store had given t17m2:
# outcomes t17m1: never got, and t17m1:'s sync stopped for good.  A prefs
# sync naming another fleet is refused, and the store's own goes on,
# exactly; a host started with the other config moves the store there, and
# says so.
config m "$port" ''; sed -i 's/"prefix": "t17:"/"prefix": "t17m1:"/' "$tmp/m.json"
sed 's/"prefix": "t17m1:"/"prefix": "t17m2:"/' "$tmp/m.json" >"$tmp/m2.json"
for c in 0 1 2; do
	for i in $(seq 5); do echo "{\"test_id\": \"m$c-$i\", \"worker_id\": \"gpu_a100_1\", \"success\": true, \"duration\": 3, \"test_type\": \"vision_classification\"}"; done >"$tmp/m.$c.jsonl"
done
cp "$tmp/m.2.jsonl" "$tmp/m2.2.jsonl"
m_samples() { # CONFIG: the fleet's samples of VISION on gpu_a100_1, as exported
	"$shim" prefs export --plugin "$plugin" --redis "$1" |
		python3 -c 'import json, sys; print([x["samples"] for x in json.load(sys.stdin)["records"] if x["worker"] == "gpu_a100_1"])'
}
feed m 0 || bad "feed m failed: $(cat "$tmp/m.log")"
expect_rc 0 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/m.json"
feed m 1 || bad "feed m failed: $(cat "$tmp/m.log")"
expect_rc 1 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/m2.json"
has "$tmp/err" "redis://127.0.0.1:$port/t17m2:: this store syncs with redis://127.0.0.1:$port/t17m1:, and a sync with another fleet takes the outcomes it has not sent there yet from it for good: check this config's redis and prefix (a host started with this config moves the store to this fleet)"
lines "$tmp/err" 1
eq "nothing written under t17m2:" "$(rcli --scan --pattern 't17m2:*' | wc -l)" 0
expect_rc 0 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/m.json"
eq "t17m1: has all 10" "$(m_samples "$tmp/m.json")" "[10]"
moves_m="store '$tmp/m' moves from the fleet redis://127.0.0.1:$port/t17m1: to redis://127.0.0.1:$port/t17m2:, as its config says: it publishes its evidence there, and redis://127.0.0.1:$port/t17m1: gets none of it from now on"
feed m2 2 "$moves_m" || bad "feed m2 failed: $(cat "$tmp/m2.log")"
expect_rc 0 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/m2.json"
has "$tmp/m2.log" "$moves_m"
eq "t17m2: has the store's whole evidence" "$(m_samples "$tmp/m2.json")" "[15]"

# A store from before the fleet was recorded (its meta without
# fleet_target; made here by a dump and load without it): its first sync
# takes the fleet, unless that Redis holds another epoch than the store's.
# The store's epoch is t17m2:'s now; t17m1: holds its own.
# (in hex: a printable dump does not load back byte for byte)
mdb_dump -a "$tmp/m" | awk '
	/^database=/ { db = $0 }
	db == "database=meta" && $0 == " 666c6565745f746172676574" { skip = 2 }
	skip > 0 { skip--; next }
	{ print }' >"$tmp/m.dump"
rm -rf "$tmp/m.legacy" && mkdir "$tmp/m.legacy" && mdb_load -f "$tmp/m.dump" "$tmp/m.legacy" 2>/dev/null &&
	mv "$tmp/m.legacy/data.mdb" "$tmp/m/data.mdb" && rm -f "$tmp/m/lock.mdb" ||
	bad "the store could not be made legacy"
mdb_dump -s meta -p "$tmp/m" | grep -qx " fleet_target" && bad "fleet_target is still in the store's meta" || ok
expect_rc 1 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/m.json"
has "$tmp/err" "redis://127.0.0.1:$port/t17m1:: this store syncs with another fleet (this Redis holds another epoch than the store's), and a sync with another fleet takes the outcomes it has not sent there yet from it for good"
lines "$tmp/err" 1
eq "a refused legacy sync leaves t17m1: as it was" "$(m_samples "$tmp/m.json")" "[10]"
expect_rc 0 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/m2.json"
mdb_dump -s meta -p "$tmp/m" | grep -A1 -x " fleet_target" | tail -1 | grep -qx " redis://127.0.0.1:$port/t17m2:" &&
	ok || bad "the legacy store's first sync did not record its fleet: $(mdb_dump -s meta -p "$tmp/m" | grep -A1 -x " fleet_target")"
expect_rc 1 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/m.json"
has "$tmp/err" "redis://127.0.0.1:$port/t17m1:: this store syncs with redis://127.0.0.1:$port/t17m2:,"

# --- a host's field of <prefix>seq that lbsched did not write ---------------------
# A huge one made the push DUP, the outbox dropped and the sync said it
# succeeded; text read as 0, behind what the host acknowledged, and the
# fleet's totals were emptied.  Now one line names the key, the field and
# the value; nothing is dropped or emptied, and with the value mended the
# totals are whole.  Host q2 shares the prefix: its evidence must stay.
for h in q q2; do
	config $h "$port" ''; sed -i 's/"prefix": "t17:"/"prefix": "t17q:"/' "$tmp/$h.json"
	for c in 0 1 2 3 4 5 6; do
		for i in $(seq 5); do echo "{\"test_id\": \"$h$c-$i\", \"worker_id\": \"gpu_a100_1\", \"success\": true, \"duration\": 3, \"test_type\": \"vision_classification\"}"; done >"$tmp/$h.$c.jsonl"
	done
done
feed q2 0 || bad "feed q2 failed: $(cat "$tmp/q2.log")"
expect_rc 0 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/q2.json"
q2host=$(rcli hkeys t17q:seq | grep -v '^#')
feed q 0 || bad "feed q failed: $(cat "$tmp/q.log")"
expect_rc 0 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/q.json"
qhost=$(rcli hkeys t17q:seq | grep -v '^#' | grep -vxF -- "$q2host")
qseq=$(rcli hget t17q:seq "$qhost")
[ -n "$qseq" ] && ok || bad "no sequence of host q ('$qhost') in t17q:seq: $(rcli hgetall t17q:seq)"
# planted VALUE PART TEXT...: VALUE in host q's field of t17q:seq, q fed
# its PART of outcomes (none for -), a sync refused in one line holding
# "holds 'VALUE', " and each TEXT; then q's own sequence put back
planted() {
	local value=$1 part=$2 text
	shift 2
	rcli hset t17q:seq "$qhost" "$value" >/dev/null
	[ "$part" = - ] || feed q "$part" || bad "feed q failed: $(cat "$tmp/q.log")"
	expect_rc 1 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/q.json"
	lines "$tmp/err" 1
	has "$tmp/err" "redis://127.0.0.1:$port: key 't17q:seq' field '$qhost' holds '$value', "
	for text; do has "$tmp/err" "$text"; done
	rcli hset t17q:seq "$qhost" "$qseq" >/dev/null
}
planted 99999999999999999999 1 "not a sequence lbsched writes (digits, at most 2^53)"
expect_rc 0 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/q.json"
eq "t17q: has q's 10 and q2's 5" "$(m_samples "$tmp/q.json")" "[15]"
qseq=$(rcli hget t17q:seq "$qhost")
planted abc - "not a sequence lbsched writes"
eq "t17q: not emptied for a sequence of text" "$(m_samples "$tmp/q.json")" "[15]"
expect_rc 0 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/q.json"
has "$tmp/out" '"restarts":0,'
# One past 2^53 that Lua's tonumber rounds down to it: read as 2^53, the
# push was DUP and its outcomes taken as sent.
planted 9007199254740993 4 "not a sequence lbsched writes (digits, at most 2^53)"
# A well-formed sequence past any this host gave: every push after it was
# DUP and taken as acknowledged (the sync said it succeeded, the outcomes
# lost), a pull dropped the outbox up to it, and with the value put back
# the host looked restored from an older copy: every host's totals emptied.
planted 1000000000000 3 "past the newest sequence this host gave (" \
	"): not a sequence lbsched wrote; another program writes under this prefix; nothing was pushed or emptied"
expect_rc 0 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/q.json"
has "$tmp/out" '"restarts":0,'
eq "t17q: has q's 20 and q2's 5 once the sequence is back" "$(m_samples "$tmp/q.json")" "[25]"
# An epoch of 40 bytes or more, or an empty one, is none lbsched writes:
# every sync failed with "the epoch keeps changing", for ever.
qepoch=$(rcli get t17q:epoch)
rcli set t17q:epoch "$(printf 'e%.0s' $(seq 50))" >/dev/null
expect_rc 1 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/q.json"
lines "$tmp/err" 1
has "$tmp/err" "redis://127.0.0.1:$port: key 't17q:epoch' holds 'eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee' (50 bytes), which is too long: not an epoch lbsched writes (1 to 39 bytes, no space or control byte); another program writes under this prefix"
rcli set t17q:epoch '' >/dev/null
expect_rc 1 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/q.json"
lines "$tmp/err" 1
has "$tmp/err" "redis://127.0.0.1:$port: key 't17q:epoch' holds '' (0 bytes), which is empty: not an epoch lbsched writes"
rcli set t17q:epoch "$qepoch" >/dev/null
expect_rc 0 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/q.json"
eq "t17q: as it was once its epoch is back" "$(m_samples "$tmp/q.json")" "[25]"
# A version counter that is not an integer: every push failed with the
# script's words ("ERR value is not an integer or out of range script: ...
# @user_script:N"), naming no key, and a pull read it as version 0.
qver=$(rcli get t17q:ver)
rcli set t17q:ver abc >/dev/null
feed q 2 || bad "feed q failed: $(cat "$tmp/q.log")"
expect_rc 1 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/q.json"
lines "$tmp/err" 1
has "$tmp/err" "redis://127.0.0.1:$port: key 't17q:ver' holds 'abc', not an integer: lbsched keeps a version counter there; another program writes under this prefix"
expect_rc 1 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/q2.json" # nothing to push: the pull
lines "$tmp/err" 1
has "$tmp/err" "redis://127.0.0.1:$port: key 't17q:ver' holds 'abc', not an integer"
# At the largest count INCR goes to, Redis's "increment or decrement would
# overflow" named the script's line, not the key.
rcli set t17q:ver 9223372036854775807 >/dev/null
expect_rc 1 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/q.json"
lines "$tmp/err" 1
has "$tmp/err" "redis://127.0.0.1:$port: key 't17q:ver' holds 9223372036854775807, the largest count Redis's INCR goes to: lbsched keeps a version counter there"
rcli set t17q:ver "$qver" >/dev/null
expect_rc 0 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/q.json"
eq "t17q: has q's third chunk once its version is back" "$(m_samples "$tmp/q.json")" "[30]"
# Another program's key where a push writes after its first write (a
# string at `changed`), or a version counter below 0: Redis keeps what a
# script wrote before the command that fails, so the totals took the batch
# and the version moved, the host's sequence did not, and each retry merged
# the batch again (a long-lived host's, once a sync interval).  Refused now
# before any write, and the batch counted once when the key is mended.
qver=$(rcli get t17q:ver)
rcli rename t17q:changed t17q:changed.kept >/dev/null
rcli set t17q:changed "another program's" >/dev/null
feed q 5 || bad "feed q failed: $(cat "$tmp/q.log")"
for i in 1 2; do
	expect_rc 1 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/q.json"
	lines "$tmp/err" 1
	has "$tmp/err" "redis://127.0.0.1:$port: key 't17q:changed' holds a string, where lbsched keeps a zset; another program writes under this prefix"
done
eq "t17q:ver not moved by a push refused for another program's key" "$(rcli get t17q:ver)" "$qver"
rcli del t17q:changed >/dev/null
rcli rename t17q:changed.kept t17q:changed >/dev/null
expect_rc 0 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/q.json"
eq "t17q: q's sixth chunk counted once, however often it was refused" "$(m_samples "$tmp/q.json")" "[35]"
qver=$(rcli get t17q:ver)
rcli set t17q:ver -5 >/dev/null
feed q 6 || bad "feed q failed: $(cat "$tmp/q.log")"
expect_rc 1 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/q.json"
lines "$tmp/err" 1
has "$tmp/err" "redis://127.0.0.1:$port: key 't17q:ver' holds '-5', a negative or too large number: lbsched keeps a version counter there"
eq "a version counter of -5 kept as it was" "$(rcli get t17q:ver)" -5
rcli set t17q:ver "$qver" >/dev/null
expect_rc 0 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/q.json"
eq "t17q: q's seventh chunk merged once its version is back" "$(m_samples "$tmp/q.json")" "[40]"

stop_redis "$tmp/redis"

# --- a server that is not Redis (or holds what lbsched did not write) ----------
# fake REPLY [drip]: tests/fake_redis.py on a free port ($fport); stopped
# by its pid
fake_pid=
fake_listens() { grep -q listening "$tmp/fake.log" 2>/dev/null; }
fake() {
	fport=$(free_port)
	# the last one's "listening" must not be read as this one's: the
	# redirection below truncates the log only once the job has started
	rm -f "$tmp/fake.log"
	python3 "$src/tests/fake_redis.py" "$fport" "$@" >"$tmp/fake.log" 2>&1 &
	fake_pid=$!
	until_ok 20 fake_listens || bad "the fake server did not start: $(cat "$tmp/fake.log")"
}
fake_stop() { if [ -n "$fake_pid" ]; then kill "$fake_pid" 2>/dev/null; wait "$fake_pid" 2>/dev/null; fi; fake_pid=; }
trap 'fake_stop; proxy_stop; stop_redis "$tmp/redis" KILL; stop_redis "$tmp/redis-auth" KILL; rm -rf "$tmp"' EXIT
# An array of 2^31 - 1 announced: hiredis made it before any element came
# (16 GB, minutes); now refused at once, in every client's one line.
fake '*2147483647\r\n'
expect_rc 1 "$shim" decide --plugin "$plugin" --workers "redis://127.0.0.1:$fport/k:" --tests "$src/examples/tests.jsonl"
has "$tmp/err" "redis://127.0.0.1:$fport: a reply too large (an array of more than 4194304 elements), or out of memory: the server is not Redis, or does not hold what lbsched wrote"
fake_stop
# A SCAN whose cursor never comes back to 0 was followed for ever.
fake '*2\r\n$1\r\n7\r\n*0\r\n'
expect_rc 1 timeout 120 "$shim" decide --plugin "$plugin" --workers "redis://127.0.0.1:$fport/k:" --tests "$src/examples/tests.jsonl"
has "$tmp/err" "redis://127.0.0.1:$fport: SCAN did not finish in 100000 rounds (1000 keys each): the server is not Redis"
fake_stop
# A pull whose next version never moves was asked for again and again.
fake '*7\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$10\r\n1700000000\r\n$1\r\n0\r\n$1\r\n0\r\n'
echo "{\"store\": {\"path\": \"$tmp/fk\", \"fleet\": {\"address\": \"127.0.0.1:$fport\", \"prefix\": \"f:\", \"timeout_ms\": 1000}}}" >"$tmp/fk.json"
expect_rc 1 "$shim" prefs export --plugin "$plugin" --redis "$tmp/fk.json"
has "$tmp/err" "redis://127.0.0.1:$fport: a pull from version 0 gave next version 'd', not past it: the totals hold something that is not ours"
fake_stop
# A server that takes commands and never answers: closing the scheduler
# waited out the reply's timeout_ms (up to ten minutes) before the host
# could go on (an nginx worker leaving on reload).  The tests come a
# second late, so that the sync thread waits on its first reply; the
# close cuts it short, and says nothing of it.
fake ''
echo "{\"store\": {\"path\": \"$tmp/mute\", \"fleet\": {\"address\": \"127.0.0.1:$fport\", \"prefix\": \"m:\", \"timeout_ms\": 600000}}}" >"$tmp/mute.json"
expect_rc 0 timeout 60 "$shim" decide --plugin "$plugin" --config "$tmp/mute.json" \
	--workers "$src/examples/fleet.json" --tests <(sleep 1; cat "$src/examples/tests.jsonl")
lines "$tmp/err" 0
# the same while the answer waited for is the AUTH's (with a password)
printf 'hunter2\n' >"$tmp/mute.pw"
chmod 600 "$tmp/mute.pw"
echo "{\"store\": {\"path\": \"$tmp/mute2\", \"fleet\": {\"address\": \"127.0.0.1:$fport\", \"prefix\": \"m:\", \"timeout_ms\": 600000, \"password_file\": \"$tmp/mute.pw\"}}}" >"$tmp/mute2.json"
expect_rc 0 timeout 60 "$shim" decide --plugin "$plugin" --config "$tmp/mute2.json" \
	--workers "$src/examples/fleet.json" --tests <(sleep 1; cat "$src/examples/tests.jsonl")
lines "$tmp/err" 0
fake_stop
# A reply whose bytes come one every 50 ms: each read waited its timeout
# anew, and `prefs sync`, a decide on a live fleet and nginx's start-up
# waited for ever; timeout_ms bounds the whole reply.
fake '$100000000\r\n' drip
echo "{\"store\": {\"path\": \"$tmp/drip\", \"fleet\": {\"address\": \"127.0.0.1:$fport\", \"prefix\": \"d:\", \"timeout_ms\": 500}}}" >"$tmp/drip.json"
mkstore drip
expect_rc 1 timeout -k 5 30 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/drip.json"
lines "$tmp/err" 1
has "$tmp/err" "lbsched-shim: prefs sync: redis://127.0.0.1:$fport: timed out waiting for the reply"
# the AUTH's reply the same
sed 's|"timeout_ms": 500|&, "password_file": "'"$tmp"'/mute.pw"|' "$tmp/drip.json" >"$tmp/drip2.json"
expect_rc 1 timeout -k 5 30 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/drip2.json"
lines "$tmp/err" 1
has "$tmp/err" "lbsched-shim: prefs sync: redis://127.0.0.1:$fport: timed out waiting for the reply"
expect_rc 1 timeout -k 5 30 "$shim" decide --plugin "$plugin" --workers "redis://127.0.0.1:$fport/x:" --tests "$src/examples/tests.jsonl"
lines "$tmp/err" 1
has "$tmp/err" "redis://127.0.0.1:$fport: timed out waiting for the reply"
fake_stop

# --- Redis restored from an older copy -----------------------------------------
# Debian's redis-server saves a snapshot every few minutes and loads it after
# a crash: each host's sequence there is behind what it acknowledged and let
# go of.  Pushes stopped with an error until someone ran FLUSHALL; now the
# first host to notice empties the totals and every host publishes its whole
# evidence again.  Twice: host ry notices on a push, then rx on a pull (it has
# nothing to push); the totals are exact.
stop_redis "$tmp/redis" KILL
rport=$(free_port)
start_redis "$tmp/redis-rdb" "$rport" || exit 1
trap 'fake_stop; proxy_stop; stop_redis "$tmp/redis-rdb" KILL; stop_redis "$tmp/redis-auth" KILL; rm -rf "$tmp"' EXIT
# --- nothing recorded before a Redis answered; another program's keys kept ----
rrcli() { redis-cli -p "$rport" "$@"; }
# prefix_json NAME PORT PREFIX: a config of the store $tmp/NAME syncing there
prefix_json() {
	echo "{\"store\": {\"path\": \"$tmp/$1\", \"fleet\": {\"address\": \"127.0.0.1:$2\", \"prefix\": \"$3\", \"timeout_ms\": 2000}}}" >"$tmp/$1-$2.json"
}
# A first `prefs sync` at an address that answered but was no Redis (a
# mistyped port) recorded it as the store's fleet, and the right address
# was refused after ("this store syncs with ...").
mkstore pin
fake '+OK\r\n'
prefix_json pin "$fport" pin:
expect_rc 1 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/pin-$fport.json"
lines "$tmp/err" 1
has "$tmp/err" "redis://127.0.0.1:$fport: GET pin:epoch answered the status 'OK', not a string or nil: the store records no fleet before its Redis answers"
fake_stop
fake 'HTTP/1.1 400 Bad Request\r\n\r\n'
prefix_json pin "$fport" pin:
expect_rc 1 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/pin-$fport.json"
has "$tmp/err" "redis://127.0.0.1:$fport: Protocol error"
fake_stop
prefix_json pin "$rport" pin:
expect_rc 0 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/pin-$rport.json"
lines "$tmp/err" 0
# Another program's `ver` under a prefix with no fleet yet: text was
# deleted (read as a fleet partly evicted), and a hash overwritten by the
# first sync's SET.  Both stay, and the sync is refused naming the key.
mkstore vc
prefix_json vc "$rport" vc:
rrcli set vc:ver "another program's value" >/dev/null
expect_rc 1 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/vc-$rport.json"
lines "$tmp/err" 1
has "$tmp/err" "key 'vc:ver' holds 'another program's value', not an integer: lbsched keeps a version counter there"
eq "a text vc:ver kept" "$(rrcli get vc:ver)" "another program's value"
rrcli del vc:ver vc:epoch vc:seq vc:totals vc:changed >/dev/null
rrcli hset vc:ver owner other-app >/dev/null
expect_rc 1 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/vc-$rport.json"
lines "$tmp/err" 1
has "$tmp/err" "key 'vc:ver' holds a hash, where lbsched keeps a string; another program writes under this prefix"
eq "a hash vc:ver kept" "$(rrcli hget vc:ver owner)" other-app
# `prefs dump` and `export --redis` of a prefix whose only key is another
# program's read as an empty fleet, where a sync refused it
rrcli rpush dl:totals a b c >/dev/null
prefix_json dl "$rport" dl:
for verb in dump export; do
	expect_rc 1 "$shim" prefs "$verb" --plugin "$plugin" --redis "$tmp/dl-$rport.json"
	lines "$tmp/err" 1
	has "$tmp/err" "key 'dl:totals' holds a list, where lbsched keeps a hash; another program writes under this prefix"
done
rrcli del dl:totals >/dev/null

for h in rx ry; do config $h "$rport"; done
for c in 0 1 2; do cp "$tmp/a.$c.jsonl" "$tmp/rx.$c.jsonl"; done
for c in 0 1 2 3; do cp "$tmp/b.$c.jsonl" "$tmp/ry.$c.jsonl"; done
want_of "$tmp/want_xy.json" "$tmp"/rx.[012].jsonl "$tmp"/ry.[0123].jsonl
sync_r() { for h in rx ry; do "$shim" prefs sync --plugin "$plugin" --redis "$tmp/$h.json" >/dev/null 2>&1; done; }
restored() { # a crash: killed, started again from the snapshot SAVE wrote
	stop_redis "$tmp/redis-rdb" KILL
	start_redis "$tmp/redis-rdb" "$rport" || exit 1
	[ "$(redis-cli -p "$rport" hkeys t17:seq | grep -vc '^#')" = 2 ] && ok || bad "the restored Redis does not hold the snapshot's hosts"
}
feed rx 0; feed ry 0; sync_r
redis-cli -p "$rport" save >/dev/null
feed rx 1; feed ry 1; sync_r; sync_r
restored
restored_ry="it was restored from an older copy (or this store synced with another Redis or prefix since); its totals are emptied and every host publishes its whole evidence again"
feed ry 2 "$restored_ry" # its process's sync thread notices (kept open until it has)
has "$tmp/ry.log" "$restored_ry"
expect_rc 0 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/ry.json"
has "$tmp/out" '"backlog":0,'
expect_rc 0 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/rx.json"
has "$tmp/out" '"restarts":0,'
sync_r
redis-cli -p "$rport" save >/dev/null
feed rx 2; feed ry 3; sync_r; sync_r
restored
expect_rc 0 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/rx.json"
has "$tmp/out" '"restarts":1,'
has "$tmp/out" '"snapshots":1,'
sync_r; sync_r
expect_rc 0 "$shim" prefs export --plugin "$plugin" --redis "$tmp/rx.json"
cp "$tmp/out" "$tmp/totals_xy.json"
if totals_match "$tmp/totals_xy.json" "$tmp/want_xy.json" >"$tmp/why"; then ok; else bad "totals after two restores from an older copy: $(cat "$tmp/why")"; fi
# The same copy restored twice (a second crash before Redis saved again):
# the second time it is older than the hosts' epoch, and each took its own
# sequence there as acknowledged, though their outboxes had let go of what
# came after it: what was learned since the copy was lost, no word said,
# and each later push refused ("no longer here to push").
redis-cli -p "$rport" save >/dev/null
cp "$tmp/a.0.jsonl" "$tmp/rx.3.jsonl"
cp "$tmp/b.0.jsonl" "$tmp/ry.4.jsonl"
cp "$tmp/b.1.jsonl" "$tmp/ry.5.jsonl"
feed rx 3; sync_r; sync_r
restored
sync_r; sync_r
feed ry 4; sync_r; sync_r
restored
sync_r; sync_r
feed ry 5
expect_rc 0 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/ry.json"
expect_rc 0 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/rx.json"
sync_r
want_of "$tmp/want_xy2.json" "$tmp"/rx.[0123].jsonl "$tmp"/ry.[012345].jsonl
expect_rc 0 "$shim" prefs export --plugin "$plugin" --redis "$tmp/rx.json"
cp "$tmp/out" "$tmp/totals_xy2.json"
if totals_match "$tmp/totals_xy2.json" "$tmp/want_xy2.json" >"$tmp/why"; then ok; else bad "totals after the same older copy restored twice: $(cat "$tmp/why")"; fi
stop_redis "$tmp/redis-rdb" KILL

# --- keys of the fleet lost one by one (evicted, or deleted) ---------------------
# A Redis under an allkeys-* maxmemory-policy evicts any key, one at a time.
# Lost seq, each host published its whole store again on top of totals that
# held it (every count doubled); lost epoch, each sync ran 1,000 rounds of
# snapshot and delta against Redis and said it succeeded, and no outcome
# reached the totals again; lost totals, they stayed empty for good.  Now the
# first host to see one key gone empties the rest and starts a new epoch, and
# every host publishes its whole store once: the totals are the sum of the
# hosts' stores, exactly, and new outcomes reach them.
lport=$(free_port)
start_redis "$tmp/redis-loss" "$lport" || exit 1
trap 'fake_stop; proxy_stop; stop_redis "$tmp/redis-loss" KILL; stop_redis "$tmp/redis-auth" KILL; rm -rf "$tmp"' EXIT
for h in lx ly; do config $h "$lport"; done
for c in 0 1 2 3 4; do cp "$tmp/a.$c.jsonl" "$tmp/lx.$c.jsonl"; cp "$tmp/b.$c.jsonl" "$tmp/ly.$c.jsonl"; done
# want_loss FILE CHUNKS: the exact totals of lx's and ly's chunks 0..CHUNKS-1
want_loss() {
	local files=() c
	for ((c = 0; c < $2; c++)); do files+=("$tmp/lx.$c.jsonl" "$tmp/ly.$c.jsonl"); done
	want_of "$1" "${files[@]}"
}
# sync_l WHAT: both hosts sync twice (each publishes, then pulls the
# other's); each sync succeeds, with no error line
sync_l() {
	local h i
	for i in 1 2; do
		for h in lx ly; do
			"$shim" prefs sync --plugin "$plugin" --redis "$tmp/$h.json" >"$tmp/l.out" 2>"$tmp/l.err" ||
				bad "$1: prefs sync of $h exited $?: $(cat "$tmp/l.err")"
		done
	done
}
# loss_exact WHAT CHUNKS: the fleet's totals are exactly both hosts' CHUNKS
loss_exact() {
	want_loss "$tmp/want_l.json" "$2"
	"$shim" prefs export --plugin "$plugin" --redis "$tmp/lx.json" >"$tmp/totals_l.json" 2>"$tmp/l.err"
	if totals_match "$tmp/totals_l.json" "$tmp/want_l.json" >"$tmp/why"; then ok; else bad "totals after $1: $(cat "$tmp/why" "$tmp/l.err")"; fi
}
feed lx 0; feed ly 0; sync_l start
loss_exact "the start" 1
lost_line="was gone while the fleet's other keys were not"
c=1
for k in seq epoch totals; do
	redis-cli -p "$lport" del "t17:$k" >/dev/null
	# a read of the totals alone changes nothing, and does not pass the
	# rest for the fleet's
	expect_rc 1 "$shim" prefs export --plugin "$plugin" --redis "$tmp/lx.json"
	has "$tmp/err" "key 't17:$k' is gone while the fleet's other keys are not"
	# a host with nothing to push notices on its pull
	expect_rc 0 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/lx.json"
	has "$tmp/err" "key 't17:$k' $lost_line"
	has "$tmp/out" '"restarts":1,'
	# an outcome learned after the loss reaches the totals too
	feed lx $c; feed ly $c; c=$((c + 1))
	sync_l "t17:$k deleted"
	loss_exact "t17:$k deleted" $c
done
# A real eviction.  Under volatile-ttl Redis evicts the keys that carry an
# expiry, shortest first, and only those: the fleet's totals and changed
# are given one, so it takes them and never the epoch, seq or ver (under
# allkeys-lru its sampled pick among 4,000 fillers left the totals, once,
# on a loaded machine).  The maxmemory is set below what Redis holds, and
# a write makes it evict until nothing it may evict is left.
sync_l "before the eviction"
for k in totals changed; do redis-cli -p "$lport" expire "t17:$k" 100000 >/dev/null; done
redis-cli -p "$lport" config set maxmemory-policy volatile-ttl >/dev/null
used=$(redis-cli -p "$lport" info memory | awk -F: '/^used_memory:/ {print $2+0}')
redis-cli -p "$lport" config set maxmemory $((used - 100000)) >/dev/null
redis-cli -p "$lport" set filler:trigger x >/dev/null # OOM once none is left: its answer unread
redis-cli -p "$lport" config set maxmemory 0 >/dev/null
redis-cli -p "$lport" config set maxmemory-policy noeviction >/dev/null
redis-cli -p "$lport" del filler:trigger >/dev/null
evicted=$(redis-cli -p "$lport" info stats | awk -F: '/^evicted_keys:/ {print $2+0}')
[ "$evicted" -ge 1 ] && ok || bad "Redis evicted nothing (evicted_keys $evicted)"
left=$(redis-cli -p "$lport" exists t17:epoch t17:seq t17:ver)
[ "$(redis-cli -p "$lport" exists t17:totals)" = 0 ] && [ "$left" = 3 ] && ok ||
	bad "the eviction did not take the totals alone (totals left: $(redis-cli -p "$lport" exists t17:totals), of epoch seq ver: $left)"
expect_rc 0 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/lx.json"
has "$tmp/err" "$lost_line"
feed lx $c; feed ly $c; c=$((c + 1))
sync_l "keys evicted"
loss_exact "keys evicted under volatile-ttl" $c
stop_redis "$tmp/redis-loss" KILL

# A push whose rounds acknowledge nothing (Redis answering SEQ 0 to every
# batch, as a Redis that loses keys as they are written can): it ran 1,000
# rounds and returned success; now it fails on one line after a few.
fake '*2\r\n$3\r\nSEQ\r\n$1\r\n0\r\n' get-nil
config lz "$fport"
cp "$tmp/a.0.jsonl" "$tmp/lz.0.jsonl"
cp "$tmp/a.1.jsonl" "$tmp/lz.1.jsonl"
feed lz 0
# the host's own sync thread, its outbox not empty from its first step on,
# says it as an error (stats' errors, last_error)
feed lz 1 "push rounds in a row acknowledged nothing new"
expect_rc 1 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/lz.json"
lines "$tmp/err" 1
has "$tmp/err" "push rounds in a row acknowledged nothing new"
fake_stop

# --- a Redis that closes idle connections -----------------------------------------
# Its `timeout` (1 s) shorter than push_ms and pull_ms (1.5 s): each step
# finds the connection the last one left closed.  That logged an error, a
# backoff and "sync succeeds again" every cycle; now the step reconnects and
# goes on without a word.
iport=$(free_port)
start_redis "$tmp/redis-idle" "$iport" --timeout 1 || exit 1
trap 'fake_stop; proxy_stop; stop_redis "$tmp/redis-idle" KILL; stop_redis "$tmp/redis-rdb" KILL; stop_redis "$tmp/redis-auth" KILL; rm -rf "$tmp"' EXIT
echo "{\"store\": {\"path\": \"$tmp/idle\", \"fleet\": {\"address\": \"127.0.0.1:$iport\", \"prefix\": \"i:\", \"push_ms\": 1500, \"pull_ms\": 1500}}}" >"$tmp/idle.json"
expect_rc 0 "$shim" decide --plugin "$plugin" --config "$tmp/idle.json" \
	--workers "$src/examples/fleet.json" --tests <(sleep 6; cat "$src/examples/tests.jsonl")
lines "$tmp/err" 0
[ "$(redis-cli -p "$iport" hkeys i:seq | grep -vc '^#')" = 1 ] && ok || bad "the host never reached the Redis that closes idle connections"
stop_redis "$tmp/redis-idle" KILL

finish test_fleet
