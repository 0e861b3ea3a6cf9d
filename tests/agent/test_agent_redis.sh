#!/usr/bin/env bash
# test_agent_redis.sh -- the live fleet in a real redis-server (docs/AGENT.md,
# "Redis"): lbsched-agent run --redis publishes its record and live state
# under its own key with a TTL; lbsched-shim decide reads --workers
# redis://; a killed agent's worker leaves after the TTL; malformed,
# oversized and mislabelled records are refused alone with one line naming
# the key; a password file, an ACL user that may write only its own key,
# and one-line errors for a wrong password, an unreachable Redis and the
# loopback policy.
set -u
. "$LBS_SRCDIR/tests/testlib.sh"
. "$LBS_SRCDIR/tests/redislib.sh"
agent=$LBS_AGENT
shim=$LBS_SHIM
plugin=$LBS_PLUGIN
here=$LBS_SRCDIR/tests/agent
unset LBSCHED_AGENT_ROOT LBSCHED_AGENT_BROWSER_PATH
export LBSCHED_AGENT_NVML=none # never this machine's driver
nobrowser=$tmp/bin
mkdir -p "$nobrowser"
for t in python3 sleep cat; do ln -s "$(command -v $t)" "$nobrowser/$t"; done
export PATH="$nobrowser:$PATH"
python3 "$here/mkroot.py" "$here/fixtures/npu-lunarlake.json" "$tmp/root"
n=$tmp/root

jq1() { python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); print(eval(sys.argv[1]))' "$1"; }
# decide_ids ARGS...: the workers chosen for four tests, round-robin, sorted
for i in 1 2 3 4; do echo "{\"test_id\": \"t$i\"}"; done >"$tmp/tests.jsonl"
decide_ids() {
	"$shim" decide --plugin "$plugin" --scheduler round-robin --tests "$tmp/tests.jsonl" \
		--workers "$@" >"$tmp/dec.out" 2>"$tmp/dec.err"
	python3 -c 'import json,sys; print(" ".join(sorted({w for l in open(sys.argv[1]) for w in json.loads(l)["workers"]})))' "$tmp/dec.out"
}

redis_start main
url=redis://127.0.0.1:$REDIS_PORT/t:

# ---- run --once: record and load under <prefix>fleet:<id>, with the TTL
expect_rc 0 "$agent" run --root "$n" --redis "$url" --id w-a --once --interval 0.1 --ttl 600
eq "key" "$(rcli --raw keys 't:*')" "t:fleet:w-a"
ttl=$(rcli pttl t:fleet:w-a)
[ "$ttl" -gt 0 ] && [ "$ttl" -le 600000 ] && ok || bad "pttl $ttl"
eq "record" "$(rcli --raw hget t:fleet:w-a record | jq1 'd["worker_id"], d["available_accelerators"]')" \
	"('w-a', {'gpu': 1, 'npu': 1})"
eq "load" "$(rcli --raw hget t:fleet:w-a load | jq1 'd["worker_id"], d["temperature"]')" "('w-a', 0.85)"
# the default prefix is lbsched:
expect_rc 0 "$agent" run --root "$n" --redis "redis://127.0.0.1:$REDIS_PORT" --id w-d --once --interval 0.1
eq "default prefix" "$(rcli exists lbsched:fleet:w-d)" 1
# decide takes the live fleet; a prefix with no worker is an error, not an empty fleet
eq "decide" "$(decide_ids "$url")" "w-a"
[ -s "$tmp/dec.err" ] && bad "decide wrote $(cat "$tmp/dec.err")" || ok
expect_rc 1 "$shim" decide --plugin "$plugin" --workers "redis://127.0.0.1:$REDIS_PORT/none:" --tests "$tmp/tests.jsonl"
has "$tmp/err" "redis://127.0.0.1:$REDIS_PORT: no live worker under 'none:'"
lines "$tmp/err" 1

# ---- a running agent keeps its key; killed, its worker leaves after the TTL
# The TTL is 15 intervals: an agent stalled for a while (a sanitizer build on
# a loaded machine) keeps its key, and the expiry is still seen within 20 s.
"$agent" run --root "$n" --redis "$url" --id w-b --interval 0.2 --ttl 3 2>"$tmp/b.err" &
bpid=$!
b_live() { [ "$(rcli exists t:fleet:w-b)" = 1 ]; }
until_ok 20 b_live || bad "w-b's agent never wrote its key"
eq "two live" "$(decide_ids "$url")" "w-a w-b"
# a key that went (a Redis restarted empty) gets its record again, not a bare load
rcli del t:fleet:w-b >/dev/null
b_record() { [ "$(rcli hexists t:fleet:w-b record)" = 1 ]; }
until_ok 20 b_record
eq "record written again" "$(rcli hexists t:fleet:w-b record)" 1
# a record field removed by hand, the key kept: written again within 30
# samples (6 s here), although nothing changed
rcli hdel t:fleet:w-b record >/dev/null
until_ok 20 b_record
eq "record removed by hand comes back" "$(rcli hexists t:fleet:w-b record)" 1
kill "$bpid"
wait "$bpid"
eq "exit on SIGTERM" "$?" 0
redis_rest "$tmp/b.err" >"$tmp/b.rest"
[ -s "$tmp/b.rest" ] && bad "run wrote $(cat "$tmp/b.rest")" || ok
b_gone() { [ "$(rcli exists t:fleet:w-b)" = 0 ]; }
until_ok 20 b_gone
eq "expired" "$(rcli exists t:fleet:w-b)" 0
eq "gone, not idle" "$(decide_ids "$url")" "w-a"
# orchestrate and simulate --graphs take the live fleet as decide does
printf '%s\n' '{"name": "g", "aggregation_method": "concat", "subtasks": {"a": {"requirements":' \
	'{"test_type": "unit", "expected_duration": 5}, "dependencies": []}, "b": {"requirements":' \
	'{"test_type": "unit", "expected_duration": 5}, "dependencies": ["a"]}}}' >"$tmp/g.json"
expect_rc 0 "$shim" orchestrate --plugin "$plugin" --graph "$tmp/g.json" --workers "$url"
eq "planned on the live worker" "$(python3 -c 'import json,sys; print(" ".join(sorted({json.loads(l).get("worker", "") for l in open(sys.argv[1])} - {""})))' "$tmp/out")" "w-a"
expect_rc 2 "$shim" orchestrate --plugin "$plugin" --graph "$tmp/g.json" \
	--workers "$LBS_SRCDIR/examples/fleet.json" --redis-insecure
has "$tmp/err" "--redis-password-file and --redis-insecure go with a redis:// --workers"
# A re-detection longer than the TTL (a browser slow to say its version,
# re-asked after its upgrade): the key is held for the detection first,
# or the live worker left the fleet while its agent looked at it.
slowbin=$tmp/slowbin
mkdir -p "$slowbin"
printf '#!/bin/sh\necho asked >>"%s"\nsleep 3.5\necho "Mozilla Firefox 115.0"\n' "$tmp/asked" >"$slowbin/firefox"
chmod +x "$slowbin/firefox"
LBSCHED_AGENT_BROWSER_PATH="$slowbin" "$agent" run --root "$n" --redis "$url" --id w-r --interval 0.2 --ttl 2 \
	--redetect 1 2>"$tmp/r.err" &
rpid=$!
r_live() { [ "$(rcli exists t:fleet:w-r)" = 1 ]; }
until_ok 20 r_live || bad "w-r's agent never wrote its key: $(cat "$tmp/r.err")"
eq "the slow browser is in the record" \
	"$(rcli --raw hget t:fleet:w-r record | jq1 '"firefox" in d["browser_support"]')" True
touch "$slowbin/firefox" # an upgrade: the next detection asks it again (3.5 s), within 1 s
gaps=0
for _ in $(seq 60); do r_live || gaps=$((gaps + 1)); sleep 0.1; done
eq "the browser was asked again" "$(wc -l <"$tmp/asked")" 2
eq "w-r's key never went while its agent asked the browser again" "$gaps" 0
kill "$rpid"
wait "$rpid"
# A Redis stalled past the TTL: the agent's transactions time out, Redis
# runs them when it resumes, on a key that expired meanwhile (a load
# without its record); the next sample writes the record again.
"$agent" run --root "$n" --redis "$url" --id w-s --interval 0.2 --ttl 1 2>"$tmp/s.err" &
spid=$!
s_record() { [ "$(rcli hexists t:fleet:w-s record)" = 1 ]; }
until_ok 20 s_record || bad "w-s's agent never wrote its record"
kill -STOP "$REDIS_PID"
s_timed_out() { [ "$(redis_timeouts "$tmp/s.err")" -gt 0 ]; }
until_ok 20 s_timed_out || bad "the agent never said its Redis timed out"
sleep 2 # past the TTL while stalled: the setup, not a check
kill -CONT "$REDIS_PID"
until_ok 20 s_record && ok || bad "after a stall past the TTL the key has no record: $(rcli hgetall t:fleet:w-s)"
kill "$spid"
wait "$spid"
s_gone() { [ "$(rcli exists t:fleet:w-s)" = 0 ]; }
until_ok 20 s_gone || bad "w-s's key never expired"
# a record without its load (half written) is absent, without a word
rcli hset t:fleet:w-half load '{"worker_id": "w-half"}' >/dev/null
eq "half written" "$(decide_ids "$url")" "w-a"
[ -s "$tmp/dec.err" ] && bad "decide wrote $(cat "$tmp/dec.err")" || ok

# ---- records from the network: each refused alone, one line naming its key
rcli hset t:fleet:badjson record '{"worker_id": ' >/dev/null
python3 -c 'print("{\"worker_id\": \"big\", \"pad\": \"" + "a" * 70000 + "\"}")' >"$tmp/big"
rcli -x hset t:fleet:big record <"$tmp/big" >/dev/null
rcli hset t:fleet:liar record '{"worker_id": "w-a", "cpu_cores": 64}' >/dev/null
rcli hset t:fleet:range record '{"worker_id": "range", "cpu_cores": -5}' >/dev/null
rcli hset t:fleet:inf record '{"worker_id": "inf"}' load '{"cpu_utilization": 1e999}' >/dev/null
rcli hset t:fleet:arr record '[1, 2]' >/dev/null
rcli set t:fleet:str 'not a hash' >/dev/null
rcli hset t:fleet:badload record '{"worker_id": "badload"}' load '{"cpu_utilization": ' >/dev/null
rcli hset t:fleet:noid record '{"cpu_cores": 4}' >/dev/null
rcli hset t:fleet:otherload record '{"worker_id": "otherload"}' load '{"worker_id": "zz", "cpu_utilization": 5}' >/dev/null
eq "only the good one" "$(decide_ids "$url")" "w-a"
lines "$tmp/dec.err" 10
has "$tmp/dec.err" "key 't:fleet:otherload': field 'load.worker_id': 'zz' is not its key's worker, 'otherload'; refused, the worker is absent"
has "$tmp/dec.err" "key 't:fleet:badjson' field 'record': not valid JSON: it ends at byte 14 with the '{' at byte 0 still open"
has "$tmp/dec.err" "key 't:fleet:badload' field 'load': not valid JSON: it ends at byte 20"
has "$tmp/dec.err" "key 't:fleet:noid': the record's worker_id is missing: it must be 'noid', its key's"
has "$tmp/dec.err" "key 't:fleet:big': field 'record' is 70"
has "$tmp/dec.err" "bytes, more than 65536; refused, the worker is absent"
has "$tmp/dec.err" "key 't:fleet:liar': the record's worker_id is not 'liar', its key's"
has "$tmp/dec.err" "key 't:fleet:range': field 'cpu_cores': must be an integer"
has "$tmp/dec.err" "key 't:fleet:inf': field 'load.cpu_utilization'"
has "$tmp/dec.err" "key 't:fleet:arr': field 'record' is not a JSON object"
has "$tmp/dec.err" "key 't:fleet:str': WRONGTYPE"
# simulate reads the same source
cat >"$tmp/truth.json" <<'EOT'
{"workers": {"w-a": {"speed": 1.0}}}
EOT
"$shim" simulate --plugin "$plugin" --workers "$url" --truth "$tmp/truth.json" --mix /dev/null \
	>"$tmp/sim.out" 2>"$tmp/sim.err"
has "$tmp/sim.err" "key 't:fleet:big': field 'record' is 70"
lacks "$tmp/sim.err" "cannot connect"

# ---- a Redis whose timeout is shorter than the interval closes the idle
# connection between two samples: each sample is still published (every
# other one was lost, and the log flapped), without a word
rcli config set timeout 1 >/dev/null
"$agent" run --root "$n" --redis "$url" --id w-idle --interval 2.5 --ttl 10 2>"$tmp/idle.err" &
ipid=$!
rm -f "$tmp/idle.seen"
# idle_four: four samples seen, each by its own last_updated
idle_four() {
	rcli --raw hget t:fleet:w-idle load 2>/dev/null | jq1 'd["last_updated"]' >>"$tmp/idle.seen" 2>/dev/null
	[ "$(sort -u "$tmp/idle.seen" | grep -c .)" -ge 4 ]
}
until_ok 15 idle_four && ok || bad "samples lost to the idle timeout: $(sort -u "$tmp/idle.seen" | tr '\n' ' ')"
# the key gone while the connection sat closed (expired, deleted): the
# sample sent again on a new connection carries the record, not the load alone
rcli del t:fleet:w-idle >/dev/null
idle_record() { [ "$(rcli --raw hget t:fleet:w-idle record 2>/dev/null | jq1 'd["worker_id"]' 2>/dev/null)" = w-idle ]; }
until_ok 10 idle_record && ok || bad "the key came back without its record: $(rcli --raw hgetall t:fleet:w-idle | head -c 300)"
kill "$ipid"
wait "$ipid"
rcli config set timeout 0 >/dev/null
[ -s "$tmp/idle.err" ] && bad "an idle connection closed by Redis was said: $(cat "$tmp/idle.err")" || ok

# ---- its key holds another type: another program's, refused before
# anything is sent to it (the PEXPIRE beside the failing HSET put an expiry
# on it, and Redis deleted it)
rcli set t:fleet:w-wt 'not a hash' >/dev/null
expect_rc 1 "$agent" run --root "$n" --redis "$url" --id w-wt --once --interval 0.1
lines "$tmp/err" 1
has "$tmp/err" "lbsched-agent: redis://127.0.0.1:$REDIS_PORT key 't:fleet:w-wt' holds a string, not the agent's hash: another program's key, left as it is (give the agent another --id or key prefix)"
eq "another program's key keeps no expiry" "$(rcli pttl t:fleet:w-wt)" -1
eq "and its value" "$(rcli get t:fleet:w-wt)" "not a hash"
# a user whose ACL refuses TYPE cannot tell: the HSET fails inside EXEC
# (the PEXPIRE applied), said with the key and Redis's words, not "not
# applied"
rcli acl setuser wt-only on '>wt-pass' '~t:fleet:w-wt' +multi +exec +hset +pexpire >/dev/null
printf 'wt-only\nwt-pass\n' >"$tmp/wt.pass"
chmod 600 "$tmp/wt.pass"
expect_rc 1 "$agent" run --root "$n" --redis "$url" --password-file "$tmp/wt.pass" --id w-wt \
	--once --interval 0.1
lines "$tmp/err" 1
has "$tmp/err" "lbsched-agent: redis://127.0.0.1:$REDIS_PORT key 't:fleet:w-wt': HSET: WRONGTYPE Operation against a key holding the wrong kind of value"
rcli acl deluser wt-only >/dev/null
rcli del t:fleet:w-wt >/dev/null

# ---- the agent's own bounds
expect_rc 2 "$agent" run --redis "$url" --ttl 0.5 --interval 1
has "$tmp/err" "--ttl must be more than --interval"
# without --ttl, the default is what is too short: said so
expect_rc 2 "$agent" run --redis "$url" --interval 10
has "$tmp/err" "lbsched-agent: --interval needs a --ttl above it (the default --ttl is 5 s), or a worker would leave between two samples"
expect_rc 2 "$agent" run --redis "$url" --file "$tmp/f.json"
has "$tmp/err" "run needs --file PATH or --redis URL, one of them"
expect_rc 2 "$agent" run --file "$tmp/f.json" --password-file "$tmp/pw"
has "$tmp/err" "--password-file and --insecure-redis go with --redis"

# ---- addresses: unreachable, off the loopback without a password, TLS, a secret inline
dead=$(free_port)
expect_rc 1 "$agent" run --root "$n" --redis "redis://127.0.0.1:$dead/t:" --once --interval 0.1
has "$tmp/err" "lbsched-agent: redis://127.0.0.1:$dead: cannot connect: Connection refused"
lines "$tmp/err" 1
expect_rc 1 "$shim" decide --plugin "$plugin" --workers "redis://127.0.0.1:$dead/t:" --tests "$tmp/tests.jsonl"
has "$tmp/err" "redis://127.0.0.1:$dead: cannot connect: Connection refused"
lines "$tmp/err" 1
expect_rc 1 "$agent" run --root "$n" --redis "redis://192.0.2.7:6379/t:" --once --interval 0.1
has "$tmp/err" "redis://192.0.2.7:6379: refused: a Redis off this host needs a password file"
lines "$tmp/err" 1
expect_rc 1 "$shim" decide --workers "rediss://127.0.0.1:$REDIS_PORT/t:" --tests "$tmp/tests.jsonl"
has "$tmp/err" "TLS (rediss://) is not supported by hiredis 0.14"
expect_rc 1 "$shim" decide --workers "redis://me:hunter2@127.0.0.1:$REDIS_PORT/" --tests "$tmp/tests.jsonl"
has "$tmp/err" "a password never goes in the address"
lacks "$tmp/err" hunter2
expect_rc 1 "$shim" decide --workers "redis://127.0.0.1:99999/" --tests "$tmp/tests.jsonl"
has "$tmp/err" "the port must be a number from 1 to 65535"
expect_rc 1 "$shim" decide --workers "redis://127.0.0.1:+$REDIS_PORT/" --tests "$tmp/tests.jsonl"
has "$tmp/err" "the port must be a number from 1 to 65535"
# a URL's query elsewhere picks a database; here it became part of a prefix no key has
expect_rc 1 "$shim" decide --workers "redis://127.0.0.1:$REDIS_PORT/t:?db=2" --tests "$tmp/tests.jsonl"
has "$tmp/err" "redis://127.0.0.1:$REDIS_PORT/t:?db=2: a query or fragment ('?...') is not read: the address is redis://host:port/prefix, on database 0 (give each fleet its own prefix)"
lines "$tmp/err" 1
# and a path of digits alone picks one: it became the prefix "2", the
# agent writing "2fleet:w1" on database 0 and exiting 0
expect_rc 1 "$agent" run --root "$n" --redis "redis://127.0.0.1:$REDIS_PORT/2" --id w-db --once
has "$tmp/err" "redis://127.0.0.1:$REDIS_PORT/2: the key prefix '2' is a number alone, which other Redis URLs read as a database: the database is 0, and the path is a key prefix; give one such as '2:'"
lines "$tmp/err" 1
eq "no key of the prefix 2" "$(redis-cli -p "$REDIS_PORT" --scan --pattern '2*')" ""

# ---- a reply whose bytes come one every 50 ms: each read waited its
# timeout anew and run never ended; the agent's 500 ms bound the whole reply
fake_start '$100000000\r\n' drip
expect_rc 1 timeout -k 5 30 "$agent" run --root "$n" --redis "redis://127.0.0.1:$FAKE_PORT/t:" --id w-a --once --interval 0.1
lines "$tmp/err" 1
has "$tmp/err" "lbsched-agent: redis://127.0.0.1:$FAKE_PORT: timed out waiting for the reply"
fake_stop
# ... and one that comes 64 KiB every 100 ms, in time for every timeout:
# the agent read it without end (100 MB announced, or a 1 GB one whole),
# deaf to SIGTERM; its replies are small, and one past 64 KiB fails
fake_start '$100000000\r\n' stream
expect_rc 1 timeout -k 5 30 "$agent" run --root "$n" --redis "redis://127.0.0.1:$FAKE_PORT/t:" --id w-a --once --interval 0.1
lines "$tmp/err" 1
has "$tmp/err" "lbsched-agent: redis://127.0.0.1:$FAKE_PORT: a reply of more than 65536 bytes, more than any lbsched waits for here: the server is not Redis"
fake_stop

# ---- a server that answers +OK to everything is not Redis: run took its
# PEXPIRE's +OK for Redis's answer and went on, publishing into nothing
fake_start '+OK\r\n'
expect_rc 1 timeout -k 5 30 "$agent" run --root "$n" --redis "redis://127.0.0.1:$FAKE_PORT/t:" --id w-a --interval 3600 --ttl 7200
lines "$tmp/err" 1
has "$tmp/err" "lbsched-agent: redis://127.0.0.1:$FAKE_PORT key 't:fleet:w-a': PEXPIRE answered 'OK', not an integer: the server is not Redis"
fake_stop

# ---- a module's type at the agent's key (a Redis with RedisJSON, here a
# server that names one): another program's key, refused before the
# PEXPIRE that would have put an expiry on it
fake_start '+ReJSON-RL\r\n'
expect_rc 1 timeout -k 5 30 "$agent" run --root "$n" --redis "redis://127.0.0.1:$FAKE_PORT/t:" --id w-a --once --interval 0.1
lines "$tmp/err" 1
has "$tmp/err" "lbsched-agent: redis://127.0.0.1:$FAKE_PORT key 't:fleet:w-a' holds a ReJSON-RL, not the agent's hash: another program's key, left as it is (give the agent another --id or key prefix)"
fake_stop

# ---- a Redis with passwords: the default user's, and an ACL user per worker
# worker-a has exactly the per-worker ACL docs/SECURITY.md gives: an agent
# that sends any other command fails here, as it would for an operator
redis_start auth --requirepass 'd3fault-pw' --user worker-a on '>a-pw-1234' '~t:fleet:w-a' +multi +exec +hset +pexpire \
	--user worker-c on '>c-pw-1234' '~t:fleet:w-c' +multi +exec +hset
aurl=redis://127.0.0.1:$REDIS_PORT/t:
umask 077
printf 'wrong-pw-5678\n' >"$tmp/wrong.pw"
printf 'd3fault-pw\n' >"$tmp/default.pw"
printf 'worker-a\na-pw-1234\n' >"$tmp/a.pw"
printf 'worker-c\nc-pw-1234\n' >"$tmp/c.pw"
expect_rc 1 "$agent" run --root "$n" --redis "$aurl" --password-file "$tmp/wrong.pw" --id w-a --once --interval 0.1
has "$tmp/err" "lbsched-agent: redis://127.0.0.1:$REDIS_PORT: authentication refused: WRONGPASS"
lines "$tmp/err" 1
lacks "$tmp/err" "wrong-pw-5678"
# no password for a Redis that wants one: the first sample says so, in one line
expect_rc 1 "$agent" run --root "$n" --redis "$aurl" --id w-a --once --interval 0.1
has "$tmp/err" "redis://127.0.0.1:$REDIS_PORT: NOAUTH Authentication required. (give --password-file)"
lines "$tmp/err" 1
# ... and so does run at its start, not at the end of its first interval
# (it went on without a word, and exited 0 when stopped)
expect_rc 1 timeout 20 "$agent" run --root "$n" --redis "$aurl" --id w-a --interval 3600 --ttl 7200
has "$tmp/err" "redis://127.0.0.1:$REDIS_PORT: NOAUTH Authentication required. (give --password-file)"
lines "$tmp/err" 1
expect_rc 0 "$agent" run --root "$n" --redis "$aurl" --password-file "$tmp/a.pw" --id w-a --once --interval 0.1
# the ACL user of w-a cannot write w-b's key: a worker cannot claim another's place
expect_rc 1 "$agent" run --root "$n" --redis "$aurl" --password-file "$tmp/a.pw" --id w-b --once --interval 0.1
# the key and the server's words whole (they were cut at 64 bytes)
has "$tmp/err" "lbsched-agent: redis://127.0.0.1:$REDIS_PORT key 't:fleet:w-b': PEXPIRE: NOPERM this user has no permissions to access one of the keys used as arguments"
lines "$tmp/err" 1
# a user whose ACL lacks a command the agent sends
expect_rc 1 "$agent" run --root "$n" --redis "$aurl" --password-file "$tmp/c.pw" --id w-c --once --interval 0.1
lines "$tmp/err" 1
has "$tmp/err" "lbsched-agent: redis://127.0.0.1:$REDIS_PORT key 't:fleet:w-c': PEXPIRE: NOPERM this user has no permissions to run the 'pexpire' command"
eq "nothing under w-b" "$(rcli -a d3fault-pw --no-auth-warning exists t:fleet:w-b)" 0
eq "decide with the password" "$(decide_ids "$aurl" --redis-password-file "$tmp/default.pw")" "w-a"
chmod 644 "$tmp/default.pw"
expect_rc 1 "$shim" decide --workers "$aurl" --redis-password-file "$tmp/default.pw" --tests "$tmp/tests.jsonl"
has "$tmp/err" "others may access it (mode 644); chmod o-rwx it"
lines "$tmp/err" 1
expect_rc 1 "$shim" decide --workers "$aurl" --redis-password-file "$tmp/none.pw" --tests "$tmp/tests.jsonl"
has "$tmp/err" "password file $tmp/none.pw: No such file or directory"
# a FIFO as the password file: refused in one line, not waited on for a
# writer that never comes (startup hung in open())
mkfifo -m 600 "$tmp/fifo.pw"
expect_rc 1 timeout 20 "$agent" run --root "$n" --redis "$aurl" --password-file "$tmp/fifo.pw" --id w-a --once --interval 0.1
lines "$tmp/err" 1
has "$tmp/err" "lbsched-agent: redis://127.0.0.1:$REDIS_PORT: password file $tmp/fifo.pw: not a regular file"

# ---- an outage is one line, and its end another: a Redis that stops and
# starts again (the connection closed, then refused) was two lines, or more
redis_start outage
oport=$REDIS_PORT
"$agent" run --root "$n" --redis "redis://127.0.0.1:$oport/o:" --id w-o --interval 0.2 --ttl 5 \
	2>"$tmp/outage.err" &
apid=$!
published() { [ "$(redis-cli -p "$oport" exists o:fleet:w-o 2>/dev/null)" = 1 ]; }
until_ok 20 published && ok || bad "the agent never published"
redis_stop
failed() { grep -q "redis://127.0.0.1:$oport" "$tmp/outage.err"; }
until_ok 20 failed && ok || bad "the outage was not said"
sleep 1 # intervals that fail again, refused now
redis-server --port "$oport" --bind 127.0.0.1 --save '' --appendonly no \
	--dir "$tmp/redis-outage" --logfile "$tmp/redis-outage/again.log" --daemonize no &
REDIS_PID=$!
REDIS_PIDS="$REDIS_PIDS $REDIS_PID"
again() { grep -q "publishing again" "$tmp/outage.err"; }
until_ok 20 again && ok || bad "the agent did not say it publishes again: $(cat "$tmp/outage.err")"
# the restarted Redis kept nothing: the record is sent again, not the load alone
o_record() { [ "$(redis-cli -p "$oport" --raw hget o:fleet:w-o record 2>/dev/null | jq1 'd["worker_id"]' 2>/dev/null)" = w-o ]; }
until_ok 10 o_record && ok || bad "after the outage, no record: $(redis-cli -p "$oport" --raw hgetall o:fleet:w-o | head -c 300)"
kill "$apid"; wait "$apid"
redis_rest "$tmp/outage.err" >/dev/null # a timeout line, if any, is noted
n_said=$(grep -c "redis://127.0.0.1:$oport" "$tmp/outage.err")
[ "$n_said" = 1 ] || [ "$(redis_timeouts "$tmp/outage.err")" != 0 ] && ok ||
	bad "one outage said $n_said times: $(cat "$tmp/outage.err")"
redis_stop

finish test_agent_redis
