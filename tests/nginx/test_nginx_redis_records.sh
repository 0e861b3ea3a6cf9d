#!/usr/bin/env bash
# test_nginx_redis_records.sh -- under `lbsched_fleet redis://`, a bad
# record makes its worker alone absent, however it is bad (docs/NGINX.md,
# "Bad records"):
#   - a field far over 64 KiB is refused without being read: it was read
#     whole every round, outlasted the 200 ms reply timeout with 80 MB, and
#     after 10 s no server was live;
#   - a record within 64 KiB a field that prints longer as JSON (1e14 is
#     100000000000000) is refused alone: it made the fleet text outgrow the
#     shared zone, and every server went, with a line naming no key;
#   - every refused key is named, once, however many: past 2 KB of lines
#     the rest were never said;
#   - a prefix mistyped, so that no server has a record, is one warn
#     naming the keys looked for: it was only nginx's "no live upstreams";
#     nginx -t asks for 2,000 servers' keys in batches, not one a round
#     trip (4 s for 4,096 servers on a Redis 1 ms away, then silence);
#   - with Redis dead and nginx reloaded every 2 s, the servers go after the
#     10 s the last fleet is kept: each reload restarted that window;
#   - a Redis refusing every command is read less and less often, down to
#     once in 4 s: retried every 500 ms, a hung one kept worker process 0
#     blocked most of the time; and so across reloads, which started it
#     again from 500 ms; but not across a reload to another Redis, which
#     waited out the old one's backing off before its first read, and
#     whose failed reads kept the old one's fleet its 10 s;
#   - a round of reading whose answer streams without end is cut at 4 s:
#     it held worker process 0 for ever.
# The records are written with redis-cli, no agent.  Real nginx and
# redis-server on 127.0.0.1, stopped by PID.
#
# Env: as test_nginx.sh (LBS_PLUGIN, LBS_NGX_MODULE, LBS_NGX_BUILD...).
set -u
. "$LBS_SRCDIR/tests/testlib.sh"
. "$LBS_SRCDIR/tests/redislib.sh"
plugin=${LBS_PLUGIN:?}
. "$LBS_SRCDIR/tests/nginx/ngxlib.sh"
ngx_find test_nginx_redis_records
run=$tmp/run
mkdir -p "$run/tmp"
trap '[ -f "$run/nginx.pid" ] && kill -QUIT "$(cat "$run/nginx.pid")" 2>/dev/null
	for p in $REDIS_PIDS; do kill "$p" 2>/dev/null; done
	sleep 0.3; rm -rf "$tmp"' EXIT

ngx_module test_nginx_redis_records

redis_start records
FRONT=$(free_port) PA=$(free_port) PB=$(free_port)

# conf NAME SERVERS...: an upstream of these servers, A and B answering
conf() {
	local name=$1; shift
	{ ngx_conf_head "$run" 2 256; cat <<EOT
  upstream be {
    lbsched_plugin $plugin;
    lbsched_fleet ${url:-redis://127.0.0.1:$REDIS_PORT/r:};
    lbsched_config '{"learned_weight": 0, "completion": {"enabled": false}}';
    $(printf 'server %s; ' "$@")
  }
  server { listen 127.0.0.1:$PA; location / { return 200 "a\n"; } }
  server { listen 127.0.0.1:$PB; location / { return 200 "b\n"; } }
  server {
    listen 127.0.0.1:$FRONT;
    location / { proxy_pass http://be; }
    location = /lbsched_status { lbsched_status; }
  }
}
EOT
	} >"$run/$name.conf"
}
start() { : >"$run/error.log"; "$NGINX" -p "$run/" -c "$run/$1.conf" ||
	{ echo "nginx did not start: $(cat "$run/error.log")" >&2; exit 1; }; }
stop() { kill -QUIT "$(cat "$run/nginx.pid")"
	for _ in $(seq 50); do [ -f "$run/nginx.pid" ] || break; sleep 0.1; done; }
U=http://127.0.0.1:$FRONT
tally() { for _ in $(seq "$1"); do curl -s -m 5 "$U/"; done | sort | uniq -c | awk '{printf "%s%s=%s", s, $2, $1; s=" "}'; echo; }
live() { curl -s -m 5 "$U/lbsched_status" | python3 -c 'import json,sys; print(" ".join(k for k, v in sorted(json.load(sys.stdin)["upstreams"][0]["live"].items()) if v))'; }
live_is() { local want; want=$(printf '127.0.0.1:%s\n' "$@" | sort | tr '\n' ' ' | sed 's/ $//')
	[ "$(live)" = "$want" ] && [ "$(live)" = "$want" ] && [ "$(live)" = "$want" ]; }
answers10() { [ "$(tally 10)" = "$1" ]; }
# record ADDRESS [MEMBERS]: a valid worker record for ADDRESS, MEMBERS added
record() { printf '{"worker_id": "%s", "supported_backends": ["cpu"], "cpu_cores": 4, "available_memory": 8%s}' "$1" "${2:-}"; }
key() { echo "r:fleet:$1"; }
put_good() { rcli hset "$(key "127.0.0.1:$1")" record "$(record "127.0.0.1:$1")" >/dev/null; }
sent() { rcli info stats | tr -d '\r' | sed -n 's/^total_net_output_bytes://p'; }
# count TEXT: nginx's log lines holding TEXT
count() { grep -cF -- "$1" "$run/error.log"; }
# once WHAT TEXT: said exactly once; a Redis timeout between is tolerated
# (what was said is kept across a failed round, so a refusal should not come
# again, but one more after a timeout is not what this test is about)
once() {
	local n t
	n=$(count "$2") t=$(redis_timeouts "$run/error.log")
	if [ "$t" = 0 ]; then
		[ "$n" = 1 ] && ok || bad "$1: said $n times, not once"
	else
		echo "NOTE: $t Redis timeout line(s) in nginx's log: '$1' may be said again after each"
		[ "$n" -ge 1 ] && [ "$n" -le $((t + 1)) ] && ok || bad "$1: said $n times, with $t timeouts"
	fi
}

put_good "$PA"
put_good "$PB"
conf two "127.0.0.1:$PA" "127.0.0.1:$PB"
"$NGINX" -p "$run/" -c "$run/two.conf" -t -q 2>"$tmp/t.err" && ok || bad "nginx -t: $(cat "$tmp/t.err")"
start two
until_ok 20 live_is "$PA" "$PB" && ok || bad "both live at start: $(live)"

# ---- a field of 8 MB: refused by its size, never read; A serves on
# (the size: enough that reading it each round shows in Redis's counter,
# small enough to keep the test quick)
kb=$(key "127.0.0.1:$PB")
python3 -c 'import sys; sys.stdout.write("{\"worker_id\": \"127.0.0.1:'"$PB"'\", \"pad\": \"" + "a" * 8000000 + "\"}")' |
	rcli -x hset "$kb" record >/dev/null
until_ok 20 live_is "$PA" && ok || bad "the oversized record's server is live: $(live)"
until_ok 10 answers10 "a=10" && ok || bad "with B's record oversized: $(tally 10)"
s0=$(sent)
sleep 2 # four rounds of reading
s1=$(sent)
[ $((s1 - s0)) -lt 1000000 ] && ok || bad "Redis sent $((s1 - s0)) bytes in 2 s: the 8 MB field is read each round"
live_is "$PA" && ok || bad "after 2 s with B's record oversized: live $(live)"
eq_a=$(tally 10); [ "$eq_a" = "a=10" ] && ok || bad "after 2 s with B's record oversized: $eq_a"
once "the oversized field" "upstream \"be\": redis://127.0.0.1:$REDIS_PORT key '$kb': field 'record' is 8000"
has "$run/error.log" "key '$kb': field 'record' is 8000"
has "$run/error.log" " bytes, more than 65536; refused, the worker is absent"
lacks "$run/error.log" "timed out"

# ---- B's record and load within 64 KiB each, but of numbers that print
# as 15 digits from 4 bytes: B alone is refused, naming its key, once
pad=$(python3 -c 'print("[" + ",".join(["1e14"] * 12900) + "]")')
[ ${#pad} -le 65000 ] || bad "the pad is ${#pad} bytes: with the record around it, over the field's bound"
rcli hset "$kb" record "$(record "127.0.0.1:$PB" ", \"pad\": $pad")" \
	load "{\"cpu_utilization\": 5, \"pad\": $pad}" >/dev/null
until_ok 20 live_is "$PA" && ok || bad "B's record printing long: live $(live)"
# past the 10 s a failed read keeps the fleet it read last: A stays, and
# the refusal is not said again
sleep 11
live_is "$PA" && ok || bad "B's record printing long, 11 s on: live $(live)"
until_ok 10 answers10 "a=10" && ok || bad "B's record printing long: $(tally 10)"
once "the record printing long" "key '$kb': its record and load are "
printed=$(grep -o "key '$kb': its record and load are [0-9]* bytes" "$run/error.log" | head -1 | grep -o '[0-9]* bytes' | cut -d' ' -f1)
[ "${printed:-0}" -gt 131135 ] && ok || bad "B's record printing long: its size said as '${printed:-}'"
has "$run/error.log" "bytes as the fleet's JSON (numbers such as 1e14 print whole), more than 131135; refused, the worker is absent"
lacks "$run/error.log" "more than the zone's"
# B's figures changing is no news: the line is not said again
rcli hset "$kb" load "{\"cpu_utilization\": 6, \"pad\": [1e14$(printf ',1e14%.0s' $(seq 12800))]}" >/dev/null
sleep 1.5
once "the record printing long, its figures changed" "key '$kb': its record and load are "
# B good again: back, with the notice that reads are clean
rcli hdel "$kb" load >/dev/null
put_good "$PB"
until_ok 20 live_is "$PA" "$PB" && ok || bad "B never came back: $(live)"
until_ok 10 grep -q 'the live fleet is read again' "$run/error.log" && ok || bad "no notice when the records were good again"

# ---- Redis refusing every command (a password set under nginx): each
# failed read waits twice as long for the next, up to 4 s.  Each read is a
# connection of its own (a failed one is closed), so Redis counts them: at
# 500 ms a round it took 12 in 6 s, each able to block process 0's event
# loop for the whole read when Redis hangs instead.
pw=lbsched-test-pw
conns() { redis-cli -p "$REDIS_PORT" -a "$pw" --no-auth-warning info stats | tr -d '\r' | sed -n 's/^total_connections_received://p'; }
rcli config set requirepass "$pw" >/dev/null
# nginx's connection, authenticated before, goes: its next one is refused
redis-cli -p "$REDIS_PORT" -a "$pw" --no-auth-warning client kill type normal >/dev/null
until_ok 10 grep -q "redis://127.0.0.1:$REDIS_PORT: NOAUTH" "$run/error.log" && ok || bad "reads refused, not said: $(tail -3 "$run/error.log")"
sleep 4 # the wait grows: 1, 2, 4 s
c0=$(conns)
sleep 6
c1=$(conns)
n=$((c1 - c0 - 1)) # the second conns is one
[ "$n" -le 4 ] && ok || bad "Redis refusing every command got $n connections in 6 s: reads are retried without backing off"
[ "$(count "NOAUTH")" = 1 ] && ok || bad "the refusal was said $(count NOAUTH) times, not once"
# reloaded each second meanwhile: each new worker process 0 goes on with
# the wait where the last left it (each read at once and backed off from
# 500 ms again, at the reloads' pace); the master's own check of Redis at
# each reload is one connection of its own
g0=$(grep -c 'SIGHUP' "$run/error.log")
c0=$(conns)
for _ in $(seq 6); do
	kill -HUP "$(cat "$run/nginx.pid")"
	sleep 1
done
c1=$(conns)
g1=$(grep -c 'SIGHUP' "$run/error.log")
n=$((c1 - c0 - 1 - (g1 - g0)))
[ $((g1 - g0)) -ge 5 ] && ok || bad "backing off: $((g1 - g0)) of 6 reloads seen"
echo "NOTE: reloaded $((g1 - g0)) times in 6 s: $((c1 - c0 - 1)) connections, $n beside the reloads' own"
[ "$n" -le 4 ] && ok || bad "Redis refusing every command, nginx reloaded $((g1 - g0)) times in 6 s: $n connections beside the reloads' own checks: each reload's process 0 backs off from the start"
redis-cli -p "$REDIS_PORT" -a "$pw" --no-auth-warning config set requirepass '' >/dev/null
# a good read ends the backing off: both back, within the 4 s wait
until_ok 20 live_is "$PA" "$PB" && ok || bad "Redis taking commands again, servers not back: $(live)"
stop

# ---- the prefix mistyped ("r", the records being at r:fleet:...): Redis
# answers, no server has a record, every request is 502; one warn says so,
# naming the upstream and the keys looked for, not again while none is live
url=redis://127.0.0.1:$REDIS_PORT/r
conf typo "127.0.0.1:$PA" "127.0.0.1:$PB"
# nginx -t finds no key of any server too: a warning (the agents may not
# have started), and nginx -t passes; the good prefix draws none
"$NGINX" -p "$run/" -c "$run/typo.conf" -t 2>"$tmp/t.err" && ok || bad "nginx -t of the typo'd prefix failed: $(cat "$tmp/t.err")"
has "$tmp/t.err" "[warn]"
has "$tmp/t.err" "/typo.conf:"
has "$tmp/t.err" ": none of its 2 servers has a record under 'r' + 'fleet:' + its address in redis://127.0.0.1:$REDIS_PORT, e.g. key 'rfleet:127.0.0.1:$PA'; none is a candidate until its agent writes it"
"$NGINX" -p "$run/" -c "$run/two.conf" -t 2>"$tmp/t.err" && ok || bad "nginx -t: $(cat "$tmp/t.err")"
lacks "$tmp/t.err" "none of its"
# 2,000 servers, none with a record: still the warning, and the HSTRLENs
# pipelined, a batch a round trip (one a round trip took 4 s for 4,096
# servers on a Redis 1 ms away, and then the deadline cut it in silence):
# Redis counts the reads of its sockets, a few per round trip
big=()
for i in $(seq 0 1999); do big+=("127.0.$((i / 250 + 2)).$((i % 250 + 1)):$PA"); done
conf typobig "${big[@]}"
reads() { rcli info stats | tr -d '\r' | sed -n 's/^total_reads_processed://p'; }
hstrlens() { rcli info commandstats | tr -d '\r' | sed -n 's/^cmdstat_hstrlen:calls=\([0-9]*\),.*/\1/p'; }
r0=$(reads) h0=$(hstrlens)
"$NGINX" -p "$run/" -c "$run/typobig.conf" -t 2>"$tmp/t.err" && ok || bad "nginx -t of 2,000 servers: $(cat "$tmp/t.err")"
r1=$(reads) h1=$(hstrlens)
has "$tmp/t.err" ": none of its 2000 servers has a record under 'r' + 'fleet:' + its address in redis://127.0.0.1:$REDIS_PORT, e.g. key 'rfleet:127.0.2.1:$PA'"
lacks "$tmp/t.err" "could not finish"
echo "NOTE: nginx -t of 2,000 servers: $((h1 - ${h0:-0})) HSTRLENs, $((r1 - r0)) socket reads"
[ $((h1 - ${h0:-0})) -ge 2000 ] && ok || bad "nginx -t of 2,000 servers: $((h1 - ${h0:-0})) HSTRLENs"
[ $((r1 - r0)) -le 60 ] && ok || bad "nginx -t of 2,000 servers: Redis read its sockets $((r1 - r0)) times: an HSTRLEN a round trip"
# the first server's record found: the rest are not asked for
rcli hset "rfleet:127.0.2.1:$PA" record "$(record "127.0.2.1:$PA")" >/dev/null
h0=$(hstrlens)
"$NGINX" -p "$run/" -c "$run/typobig.conf" -t 2>"$tmp/t.err" && ok || bad "nginx -t of 2,000 servers, one record: $(cat "$tmp/t.err")"
h1=$(hstrlens)
lacks "$tmp/t.err" "none of its"
[ $((h1 - h0)) -le 1010 ] && ok || bad "nginx -t of 2,000 servers, the first with a record: $((h1 - h0)) HSTRLENs"
rcli del "rfleet:127.0.2.1:$PA" >/dev/null
start typo
none="lbsched: upstream \"be\": none of its 2 servers has a live record (0 refused) under 'r' + 'fleet:' + its address in redis://127.0.0.1:$REDIS_PORT, e.g. key 'rfleet:127.0.0.1:$PA': no server is live"
nones() { grep -cF -- "$none" "$run/error.log"; }
until_ok 20 grep -qF -- "$none" "$run/error.log" && ok || bad "no server live under the typo'd prefix, not said: $(grep lbsched "$run/error.log" | tail -3)"
code=$(curl -s -o /dev/null -w '%{http_code}' -m 5 "$U/")
[ "$code" = 502 ] && ok || bad "under the typo'd prefix: $code, not 502"
sleep 1.5 # three more rounds, none live: not said again
[ "$(nones)" = 1 ] && ok || bad "'no server is live' said $(nones) times in 2 s, not once"
grep -q '\[warn\].*none of its 2 servers' "$run/error.log" && ok || bad "'no server is live' is not a warn"
# a server live, then gone again: said again
rcli hset "rfleet:127.0.0.1:$PA" record "$(record "127.0.0.1:$PA")" >/dev/null
until_ok 20 live_is "$PA" && ok || bad "A's record under rfleet: not read: $(live)"
rcli del "rfleet:127.0.0.1:$PA" >/dev/null
twice() { [ "$(nones)" = 2 ]; }
until_ok 20 twice && ok || bad "none live again: said $(nones) times, not twice"
stop
unset url

# ---- many servers refused at once: each key is named, once (the lines
# are about 150 bytes: 40 of them are three times what was kept)
many=()
for i in $(seq 40); do
	many+=("127.0.1.$i:$PA")
	rcli hset "$(key "127.0.1.$i:$PA")" record '{"worker_id": ' >/dev/null
done
conf many "127.0.0.1:$PA" "127.0.0.1:$PB" "${many[@]}"
start many
until_ok 20 live_is "$PA" "$PB" && ok || bad "many: A and B not live: $(live)"
named() { [ "$(grep -c "not valid JSON.*refused, the worker is absent" "$run/error.log")" -ge 40 ]; }
until_ok 20 named && ok || bad "of 40 refused keys, $(grep -c 'not valid JSON' "$run/error.log") named"
sleep 1.5 # three more rounds: none said again
for a in "${many[@]}"; do
	once "refused key $a" "key '$(key "$a")' field 'record': not valid JSON"
done
stop

# ---- a server whose every answer streams 64 KiB each 100 ms without end:
# each 200 ms window moved its share, and process 0 read for ever (with a
# password, inside AUTH); a round, AUTH included, has 20 times 200 ms
fake_start '+' stream
url=redis://127.0.0.1:$FAKE_PORT/r:
conf stream "127.0.0.1:$PA" "127.0.0.1:$PB"
start stream
round="redis://127.0.0.1:$FAKE_PORT: timed out: a round of reading the live fleet may take 4000 ms in all"
until_ok 40 grep -qF -- "$round" "$run/error.log" && ok || bad "an endless answer: the round not cut at its 4 s: $(grep lbsched "$run/error.log" | tail -3)"
code=$(curl -s -o /dev/null -w '%{http_code}' -m 5 "$U/lbsched_status")
[ "$code" = 200 ] && ok || bad "with the endless answer, nginx's status: $code"
stop
fake_stop
unset url

# ---- a reload that moves the upstream to another Redis, the server count
# (and so the zone) the same: what the zone keeps of the old Redis's reads
# is not the new one's.  The old one here fails each read, a connection
# the fake server logs: the fourth to end (the master's check, and reads
# at 0, 1 and 3 s) leaves a wait of 4 s, and the reload comes right after
# it.  The new process 0 waited that out before its first read of the new
# Redis, no server live meanwhile; now the new Redis is read well inside it
# (its first HMGET, which only a worker's read sends, within 3 s of that
# fourth connection's end, the reload's own time included)
fake_start '-ERR not this Redis\r\n'
url=redis://127.0.0.1:$FAKE_PORT/r:
conf move "127.0.0.1:$PA" "127.0.0.1:$PB"
start move
unset url
conf move "127.0.0.1:$PA" "127.0.0.1:$PB"
tries() { [ "$(grep -c '^closed' "$tmp/fake.log")" -ge "$1" ]; }
hmgets() { rcli info commandstats | tr -d '\r' | sed -n 's/^cmdstat_hmget:calls=\([0-9]*\),.*/\1/p'; }
read_since() { [ "$(hmgets)" != "$1" ]; }
h0=$(hmgets)
until_ok 20 tries 4 && ok || bad "the failing Redis: $(grep -c '^closed' "$tmp/fake.log") connections over in 20 s, not 4"
t0=$(date +%s%N)
kill -HUP "$(cat "$run/nginx.pid")"
until_ok 20 read_since "$h0" && ok || bad "moved to a working Redis: not read in 20 s"
ms=$((($(date +%s%N) - t0) / 1000000))
echo "NOTE: moved from a Redis backed off to 4 s: the new one read ${ms} ms after the old one's last read"
[ "$ms" -lt 3000 ] && ok || bad "moved from a Redis backed off to 4 s: the new one read only ${ms} ms after the old one's last read: it waited out the old one's backing off"
until_ok 20 live_is "$PA" "$PB" && ok || bad "moved to a working Redis: servers not live: $(live)"
code=$(curl -s -o /dev/null -w '%{http_code}' -m 5 "$U/")
[ "$code" = 200 ] && ok || bad "moved to a working Redis: $code"
# and back to the failing one: the fleet the other Redis gave is dropped at
# the first failed read, not kept the 10 s its own failed reads keep it
url=redis://127.0.0.1:$FAKE_PORT/r:
conf move "127.0.0.1:$PA" "127.0.0.1:$PB"
unset url
t0=$(date +%s%N)
kill -HUP "$(cat "$run/nginx.pid")"
# (a status that does not come is not "none live")
none_live() { curl -s -m 5 "$U/lbsched_status" |
	python3 -c 'import json,sys; sys.exit(any(json.load(sys.stdin)["upstreams"][0]["live"].values()))'; }
until_ok 20 none_live && ok || bad "moved to a failing Redis: still live: $(live)"
ms=$((($(date +%s%N) - t0) / 1000000))
echo "NOTE: moved to a failing Redis: no server live ${ms} ms after the reload"
[ "$ms" -lt 5000 ] && ok || bad "moved to a failing Redis: the other Redis's fleet served ${ms} ms on, as if read from this one"
code=$(curl -s -o /dev/null -w '%{http_code}' -m 5 "$U/")
[ "$code" = 502 ] && ok || bad "moved to a failing Redis: $code, not 502"
stop
fake_stop

# ---- Redis gone, nginx reloaded every 2 s: the fleet read last is kept
# 10 s from that read, not from each reload's start (with reloads every few
# seconds a dead Redis's servers were served for ever); last, as it stops Redis
start two
until_ok 20 live_is "$PA" "$PB" && ok || bad "reloads: both not live at start: $(live)"
redis_stop
code=200 reloads=0
for _ in $(seq 15); do
	kill -HUP "$(cat "$run/nginx.pid")"
	reloads=$((reloads + 1))
	sleep 2
	code=$(curl -s -o /dev/null -w '%{http_code}' -m 5 "$U/")
	[ "$code" = 502 ] && break
done
[ "$code" = 502 ] && ok || bad "Redis dead, nginx reloaded $reloads times in 30 s: still $code, the last fleet kept past its 10 s"
[ "$(grep -c 'reconfiguring' "$run/error.log")" -ge 3 ] && ok || bad "reloads: $(grep -c reconfiguring "$run/error.log") of $reloads seen"
stop

[ "$fail" = 0 ] || grep lbsched "$run/error.log" | tail -20 >&2
finish test_nginx_redis_records
