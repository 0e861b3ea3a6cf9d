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
                     "pull_ms": 100, "timeout_ms": 500${3:-}}}}
EOF
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

# totals_match FILE: the totals an export shows equal want.json exactly
# (counts) and to 1e-9 (the duration sums: doubles added in another order)
totals_match() {
	python3 - "$1" "$tmp/want.json" <<'PY'
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

feed() { # HOST CHUNK: one host process reports one chunk
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
start_redis "$tmp/redis" "$port"
sleep 0.8
stop_redis "$tmp/redis" KILL
sleep 0.5
start_redis "$tmp/redis" "$port"
wait $pid_a $pid_b $pid_c
[ -f "$tmp/feedfail" ] && bad "$(cat "$tmp/feedfail")" || ok
# What the last processes left in their outboxes: one sync each.
for h in a b c; do
	expect_rc 0 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/$h.json"
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
start_redis "$tmp/redis" "$port"
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
redis-cli -p "$port" monitor >"$tmp/monitor" 2>&1 &
mon=$!
sleep 0.2
feed d 0
"$shim" prefs sync --plugin "$plugin" --redis "$tmp/d.json" >/dev/null 2>&1
sleep 0.2
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
for _ in $(seq 400); do
	n=$(mdb_stat -s outbox "$tmp/k" 2>/dev/null | awk '/Entries:/ {print $2}')
	[ "${n:-0}" -gt 2 ] && break
	sleep 0.02
done
kill -9 $kpid 2>/dev/null; wait $kpid 2>/dev/null
n=$(mdb_stat -s outbox "$tmp/k" | awk '/Entries:/ {print $2}')
[ "${n:-0}" -gt 0 ] && ok || bad "host k left no outbox entries to test with ($n)"
"$shim" prefs export --plugin "$plugin" --db "$tmp/k" >"$tmp/k_local.json"
start_redis "$tmp/redis" "$port"
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
	--unixsocket "$tmp/redis-auth/sock" --unixsocketperm 700
printf 'wrong-secret-17\n' >"$tmp/pass"
chmod 600 "$tmp/pass"
config w "$aport" ", \"password_file\": \"$tmp/pass\""
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
expect_rc 0 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/acl.json"
printf 'acl-secret-17\n' >"$tmp/acl1.pass"
chmod 600 "$tmp/acl1.pass"
config acl1 "$aport" ", \"user\": \"lb17\", \"password_file\": \"$tmp/acl1.pass\""
expect_rc 0 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/acl1.json"
has "$tmp/out" '"user":"lb17"'
config acl2 "$aport" ", \"user\": \"nobody17\", \"password_file\": \"$tmp/acl1.pass\""
expect_rc 1 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/acl2.json"
lines "$tmp/err" 1
has "$tmp/err" "redis://127.0.0.1:$aport: authentication as nobody17 refused: WRONGPASS"
# A unix socket is on this host: no allow_insecure needed, and the address
# in messages is unix://PATH.
cat >"$tmp/sock.json" <<EOF
{"store": {"path": "$tmp/sock", "fleet": {"address": "$tmp/redis-auth/sock", "prefix": "t17s:",
           "timeout_ms": 500, "password_file": "$tmp/pass"}}}
EOF
expect_rc 0 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/sock.json"
has "$tmp/out" "\"address\":\"unix://$tmp/redis-auth/sock\""
sed 's/, "password_file": "[^"]*"//' "$tmp/sock.json" >"$tmp/sock0.json"
expect_rc 1 "$shim" prefs sync --plugin "$plugin" --redis "$tmp/sock0.json"
lines "$tmp/err" 1
has "$tmp/err" "unix://$tmp/redis-auth/sock: NOAUTH"
dead=$(free_port)
config u "$dead"
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
has "$tmp/err" "lbsched-shim: prefs sync: store '$tmp/notdir/s': cannot create the directory"
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
bad_fleet '{"address": "127.0.0.1:6379", "pull_ms": 0}' "config field 'store.fleet.pull_ms': must be in 1..3600000, got 0"
bad_fleet '{"address": "127.0.0.1:6379", "user": "lb"}' "config field 'store.fleet.user': needs 'password_file'"
bad_fleet '{"address": "127.0.0.1:6379", "password_file": "'"$tmp"'/none"}' "config field 'store.fleet.password_file': password file $tmp/none: No such file or directory"
bad_fleet '{}' "config field 'store.fleet.address': required"
# The one loopback rule (redis_conn.h): 127.0.0.0/8, ::1, localhost or a unix
# socket; a name that merely starts with "127." is somewhere else.
bad_fleet '{"address": "127.attacker.example:6379"}' "config field 'store.fleet.address': redis://127.attacker.example:6379: refused: a Redis off this host needs a password file"
# The one password file format: a password, or an ACL user and its password;
# a config "user" goes with a one-line file, and must agree with a two-line one.
printf 'lb17\nacl-secret-17\n' >"$tmp/acl.pass"
chmod 600 "$tmp/acl.pass"
bad_fleet '{"address": "127.0.0.1:6379", "user": "other", "password_file": "'"$tmp"'/acl.pass"}' "config field 'store.fleet.password_file': password file $tmp/acl.pass: names another ACL user (its first line) than the 'user' setting; give the user in one place"
lacks "$tmp/err" "acl-secret-17"
# Down while a host learns: it learns on and says why once.
stop_redis "$tmp/redis" KILL
config x
expect_rc 0 "$shim" decide --plugin "$plugin" --config "$tmp/x.json" --workers "$src/examples/fleet.json" \
	--tests "$src/examples/tests.jsonl" --feedback "$tmp/a.0.jsonl"
has "$tmp/err" "redis://127.0.0.1:$port: cannot connect: Connection refused; learning goes on here and the sync retries (logged at most once a minute)"
[ "$(grep -c 'cannot connect' "$tmp/err")" = 1 ] && ok || bad "the unreachable Redis was logged more than once"
"$shim" prefs export --plugin "$plugin" --db "$tmp/x" >"$tmp/x_local.json"
has "$tmp/x_local.json" '"workload_type"'

# --- 6. one host partitioned (a Redis it cannot reach), then healed ---------------
# Redis keeps the others' totals meanwhile; the host catches up, nothing twice.
start_redis "$tmp/redis" "$port"
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
stop_redis "$tmp/redis"

finish test_fleet
