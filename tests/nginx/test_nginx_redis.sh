#!/usr/bin/env bash
# test_nginx_redis.sh -- `lbsched_fleet redis://` end to end: real nginx,
# real redis-server and two lbsched-agent processes publishing recorded
# machines (tests/agent/fixtures) as the upstream's two servers.  A server
# whose agent reports it hot loses the traffic to the cool one; a killed
# agent's server leaves after the TTL (and with both gone nginx answers
# 502: absent is never idle); a malformed and an oversized record are
# refused with one log line each, said once; the loopback policy fails
# `nginx -t`.  Everything on 127.0.0.1, stopped by PID.
#
# Env: as test_nginx.sh (LBS_PLUGIN, LBS_NGX_MODULE, LBS_NGX_BUILD...),
# plus LBS_AGENT.
set -u
. "$LBS_SRCDIR/tests/testlib.sh"
. "$LBS_SRCDIR/tests/redislib.sh"
plugin=$LBS_PLUGIN
agent=$LBS_AGENT
. "$LBS_SRCDIR/tests/nginx/ngxlib.sh"
ngx_find test_nginx_redis
run=$tmp/run
mkdir -p "$run/tmp"
agent_pids=""
trap '[ -f "$run/nginx.pid" ] && kill -QUIT "$(cat "$run/nginx.pid")" 2>/dev/null
	for p in $agent_pids $REDIS_PIDS; do kill "$p" 2>/dev/null; done
	sleep 0.3; rm -rf "$tmp"' EXIT

ngx_module test_nginx_redis

redis_start fleet
FRONT=$(free_port) PA=$(free_port) PB=$(free_port) PC=$(free_port) PD=$(free_port)
url=redis://127.0.0.1:$REDIS_PORT/t:

# two recorded laptops, one per server, the agents' id being the server's address
export LBSCHED_AGENT_NVML=none
nobrowser=$tmp/bin
mkdir -p "$nobrowser"
for t in python3 sleep cat; do ln -s "$(command -v $t)" "$nobrowser/$t"; done
python3 "$LBS_SRCDIR/tests/agent/mkroot.py" "$LBS_SRCDIR/tests/agent/fixtures/npu-lunarlake.json" "$tmp/rootA"
cp -r "$tmp/rootA" "$tmp/rootB"
# hot NAME: 97 % of its sensor's limit, and once the agent has published
# that, its clocks falling to 1.6 of 4.8 GHz, which the agent reports as
# cooling at a lower performance_level; cool NAME: 30 % and the clocks back
# at the recorded 2.4 GHz.  Files are replaced whole, as sysfs reads are
# never torn, and the fall is large enough to show however a sample splits
# it.
put() { printf '%s\n' "$2" >"$1.new" && mv -f "$1.new" "$1"; }
clocks() { for c in 0 1 2 3 4 5 6 7; do put "$tmp/root$1/sys/devices/system/cpu/cpu$c/cpufreq/scaling_cur_freq" "$2"; done; }
load_of() { redis-cli -p "$REDIS_PORT" --raw hget "t:fleet:127.0.0.1:$1" load; }
hot() {
	put "$tmp/root$1/sys/class/hwmon/hwmon0/temp1_input" 97000
	local port; eval "port=\$P$1"
	until_ok 20 sh -c "redis-cli -p $REDIS_PORT --raw hget t:fleet:127.0.0.1:$port load | grep -q '\"temperature\":0.97'" ||
		bad "$1's agent never published the temperature"
	clocks "$1" 1600000
}
cool() { put "$tmp/root$1/sys/class/hwmon/hwmon0/temp1_input" 30000; clocks "$1" 2400000; }
cooling() { load_of "$1" | grep -q '"cooling_state":true'; }
start_agent() { # NAME PORT
	env PATH="$nobrowser" "$agent" run --root "$tmp/root$1" --redis "$url" --id "127.0.0.1:$2" \
		--interval 0.2 --ttl 5 2>>"$tmp/agents.err" &
	eval "pid$1=$!"
	agent_pids="$agent_pids $!"
}
cool A
start_agent A "$PA"
start_agent B "$PB"

{ ngx_conf_head "$run" 2 256; cat <<EOT
  upstream be {
    lbsched_plugin $plugin;
    lbsched_fleet $url;
    # the live state alone decides: nothing learned, no completion model
    lbsched_config '{"learned_weight": 0, "completion": {"enabled": false}}';
    server 127.0.0.1:$PA; server 127.0.0.1:$PB; server 127.0.0.1:$PC; server 127.0.0.1:$PD;
  }
  server { listen 127.0.0.1:$PA; location / { return 200 "a\n"; } }
  server { listen 127.0.0.1:$PB; location / { return 200 "b\n"; } }
  server { listen 127.0.0.1:$PC; location / { return 200 "c\n"; } }
  server { listen 127.0.0.1:$PD; location / { return 200 "d\n"; } }
  server {
    listen 127.0.0.1:$FRONT;
    location / { proxy_pass http://be; }
    location = /lbsched_status { lbsched_status; }
  }
}
EOT
} >"$run/nginx.conf"
ngx() { "$NGINX" -p "$run/" -c "$run/$1" "${@:2}"; }
U=http://127.0.0.1:$FRONT
# tally N: the servers that answered N requests, "a=N b=M" sorted
tally() { for _ in $(seq "$1"); do curl -s -m 5 "$U/"; done | sort | uniq -c | awk '{printf "%s%s=%s", s, $2, $1; s=" "}'; echo; }
# until SECONDS CMD...: retry CMD every 0.1 s, at most SECONDS
live() { curl -s -m 5 "$U/lbsched_status" | python3 -c 'import json,sys; print(" ".join(k for k, v in sorted(json.load(sys.stdin)["upstreams"][0]["live"].items()) if v))'; }
# live_is PORT...: every process (three asks) sees exactly these servers live
live_is() { local want=""; [ $# = 0 ] || want=$(printf '127.0.0.1:%s\n' "$@" | sort | tr '\n' ' ' | sed 's/ $//')
	[ "$(live)" = "$want" ] && [ "$(live)" = "$want" ] && [ "$(live)" = "$want" ]; }
answers() { [ "$(tally 6)" = "$1" ]; }
answers10() { [ "$(tally 10)" = "$1" ]; }
answers20() { [ "$(tally 20)" = "$1" ]; }

ngx nginx.conf -t -q 2>"$tmp/t.err" && ok || bad "nginx -t: $(cat "$tmp/t.err")"
ngx nginx.conf || { echo "nginx did not start: $(cat "$run/error.log")" >&2; exit 1; }

# ---- both agents live, B reported hot: the cool A takes the traffic
until_ok 20 live_is "$PA" "$PB" && ok || bad "both live: $(live)"
hot B
until_ok 20 cooling "$PB" && ok || bad "B's agent never reported cooling"
until_ok 20 answers "a=6" && ok || bad "hot B kept traffic: $(tally 6)"
# each nginx worker process catches up on its own: poll the strict tally too
until_ok 20 answers20 "a=20" && ok || bad "hot B: $(tally 20)"
# ---- then A's agent reports it hot, B's cool: B takes the traffic
cool B
hot A
until_ok 20 cooling "$PA" && ok || bad "A's agent never reported cooling"
until_ok 20 answers "b=6" && ok || bad "hot A never lost the traffic: $(tally 6)"
until_ok 20 answers20 "b=20" && ok || bad "hot A: $(tally 20)"

# ---- records that are not a worker: refused with one line each, said once
redis-cli -p "$REDIS_PORT" hset "t:fleet:127.0.0.1:$PC" record '{"worker_id": ' >/dev/null
python3 -c 'print("{\"worker_id\": \"127.0.0.1:'"$PD"'\", \"pad\": \"" + "a" * 70000 + "\"}")' |
	redis-cli -p "$REDIS_PORT" -x hset "t:fleet:127.0.0.1:$PD" record >/dev/null
until_ok 20 grep -q "key 't:fleet:127.0.0.1:$PD'" "$run/error.log" && ok || bad "no line for the oversized record"
sleep 1.5 # three more rounds of reading: the lines are not said again
# ... unless a read timed out: that round said only the timeout, and the
# next one the refusals again, once for each timeout at most
said_once() { # WHAT COUNT
	local t
	t=$(redis_timeouts "$run/error.log")
	if [ "$t" = 0 ]; then
		eq "$1, said once" "$2" 1
	else
		echo "NOTE: $t Redis timeout line(s) in nginx's log: '$1' may be said again after each, said $2 times"
		[ "$2" -ge 1 ] && [ "$2" -le $((t + 1)) ] && ok || bad "$1: said $2 times, with $t timeouts"
	fi
}
said_once "malformed" "$(grep -c "key 't:fleet:127.0.0.1:$PC' field 'record': not valid JSON: it ends at byte 14 with the '{' at byte 0 still open; refused, the worker is absent" "$run/error.log")"
said_once "oversized" "$(grep -c "key 't:fleet:127.0.0.1:$PD': field 'record' is 70.* bytes, more than 65536; refused" "$run/error.log")"
live_is "$PA" "$PB" && ok || bad "refused are live: $(live)"
eq "still B" "$(tally 10)" "b=10"

# ---- B's agent killed: B leaves after the TTL, and the hot A is all there is
kill "$pidB"; wait "$pidB"
until_ok 20 live_is "$PA" && ok || bad "B never left: $(live)"
# every process told its scheduler the fleet changed (workers_changed)
told_left() { [ "$(grep -c 'upstream "be": 1 live server(s) now, 2 before' "$run/error.log")" -ge 2 ]; }
until_ok 10 told_left && ok || bad "B's leaving not said by both processes: $(grep 'live server(s) now' "$run/error.log")"
until_ok 10 answers10 "a=10" && ok || bad "B gone: $(tally 10)"
# ---- A's agent killed too: nothing live is 502, never an idle server
kill "$pidA"; wait "$pidA"
until_ok 20 live_is && ok || bad "A never left: $(live)"
eq "none live" "$(curl -s -o /dev/null -w '%{http_code}' -m 5 "$U/")" 502
# ---- an agent back: its server with it
start_agent B "$PB"
until_ok 20 live_is "$PB" && ok || bad "B not back: $(live)"
until_ok 10 answers "b=6" && ok || bad "B back: $(tally 6)"
# nothing from the agents but, after a timed-out command, that and their
# "publishing again"
redis_rest "$tmp/agents.err" >"$tmp/agents.rest"
[ -s "$tmp/agents.rest" ] && bad "agents wrote $(cat "$tmp/agents.rest")" || ok

# ---- Redis gone: one warn an outage, not one a round (the connection
# closed, then refused: the second reason an info line)
before=$(wc -l <"$run/error.log")
redis_stop
since_stop() { tail -n "+$((before + 1))" "$run/error.log"; }
refused_said() { since_stop | grep -q "redis://127.0.0.1:$REDIS_PORT: cannot connect"; }
until_ok 20 refused_said && ok || bad "no line for Redis gone: $(since_stop)"
sleep 1.5
n=$(since_stop | grep -c "redis://127.0.0.1:$REDIS_PORT: cannot connect")
[ "$n" -le 1 ] && ok || bad "Redis gone said $n times"
n=$(since_stop | grep "\[warn\]" | grep -c "redis://127.0.0.1:$REDIS_PORT: ")
eq "warn lines for one Redis outage" "$n" 1
# ... but a Redis back on its port wanting a password it was not given is
# a problem of its own, a warn (it was an info line of the same outage)
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$tmp" \
	--logfile "$tmp/back.log" --requirepass pw-back-5 --daemonize no &
back=$!
REDIS_PIDS="$REDIS_PIDS $back"
noauth_warned() { since_stop | grep "\[warn\]" | grep -q "redis://127.0.0.1:$REDIS_PORT: NOAUTH"; }
until_ok 20 noauth_warned && ok || bad "a password wanted on Redis's return is not a warn: $(since_stop | grep NOAUTH | head -2)"
kill "$back"; wait "$back" 2>/dev/null

# ---- nginx -t: the loopback policy and the settings that need redis://
sed "s|lbsched_fleet $url;|lbsched_fleet redis://192.0.2.7:6379/t:;|" "$run/nginx.conf" >"$run/remote.conf"
out=$(ngx remote.conf -t 2>&1) && bad "nginx -t took an off-host Redis without a password" || ok
has <(echo "$out") "redis://192.0.2.7:6379: refused: a Redis off this host needs a password file"
sed "s|lbsched_fleet $url;|lbsched_fleet redis://127.0.0.1:$REDIS_PORT/t:; lbsched_redis_password_file $tmp/nope.pw;|" \
	"$run/nginx.conf" >"$run/pw.conf"
out=$(ngx pw.conf -t 2>&1) && bad "nginx -t took a missing password file" || ok
has <(echo "$out") "lbsched_redis_password_file: password file $tmp/nope.pw: No such file or directory"
# A file others may read is refused as the agent refuses it, by nginx -t,
# not found by the workers at their first connect.
printf 'secret\n' >"$tmp/open.pw"
chmod 644 "$tmp/open.pw"
sed "s|lbsched_fleet $url;|lbsched_fleet redis://127.0.0.1:$REDIS_PORT/t:; lbsched_redis_password_file $tmp/open.pw;|" \
	"$run/nginx.conf" >"$run/pwopen.conf"
out=$(ngx pwopen.conf -t 2>&1) && bad "nginx -t took a password file others may read" || ok
has <(echo "$out") "password file $tmp/open.pw: others may access it (mode 644); chmod o-rwx it"
# ... and one only root may read, for workers that run as nobody.
if [ "$(id -u)" = 0 ]; then
	chmod 600 "$tmp/open.pw"
	# nobody may enter $tmp for this check: the file's own mode refuses
	chmod 711 "$tmp"
	sed "s|^user root;|user nobody nogroup;|" "$run/pwopen.conf" >"$run/pwroot.conf"
	out=$(ngx pwroot.conf -t 2>&1) && bad "nginx -t took a password file the worker user cannot read" || ok
	chmod 700 "$tmp"
	has <(echo "$out") "as worker user \"nobody\": lbsched_redis_password_file: password file $tmp/open.pw: Permission denied"
else
	echo "SKIP: a password file the worker user cannot read: needs root (workers as nobody)"
fi
# An address in capitals, or with no host: an address still, never a file.
sed "s|lbsched_fleet $url;|lbsched_fleet REDIS://192.0.2.7:6379/t:;|" "$run/nginx.conf" >"$run/upper.conf"
out=$(ngx upper.conf -t 2>&1) && bad "nginx -t took REDIS:// for a file" || ok
has <(echo "$out") "redis://192.0.2.7:6379: refused: a Redis off this host needs a password file"
# A host name is looked up by nginx -t and at each start or reload, as an
# upstream server's is, never in process 0's event loop: one that resolves
# nowhere is a config error naming it ("localhost" is below, with a Redis).
sed "s|lbsched_fleet $url;|lbsched_fleet redis://lbsched-no-such-host.invalid:$REDIS_PORT/t:; lbsched_redis_insecure on;|" \
	"$run/nginx.conf" >"$run/noname.conf"
out=$(ngx noname.conf -t 2>&1) && bad "nginx -t took a Redis host name that resolves nowhere" || ok
has <(echo "$out") "redis://lbsched-no-such-host.invalid:$REDIS_PORT: cannot resolve 'lbsched-no-such-host.invalid': "
sed "s|lbsched_fleet $url;|lbsched_fleet redis://;|" "$run/nginx.conf" >"$run/bare.conf"
out=$(ngx bare.conf -t 2>&1) && bad "nginx -t took a bare redis://" || ok
has <(echo "$out") "redis://: the host is empty"
# Many servers: the zone holds their records and the slab allocator's own
# bookkeeping, a page header for every page of them (it ran out near 37
# servers, "ngx_slab_alloc() failed: no memory" naming nothing).  They
# never connect: none has a record.
many=$(for i in $(seq 200); do printf 'server 127.0.%d.%d:%s; ' $((i / 200)) $((i % 200 + 1)) "$PA"; done)
sed "s|server 127.0.0.1:$PA; server 127.0.0.1:$PB; server 127.0.0.1:$PC; server 127.0.0.1:$PD;|$many|" \
	"$run/nginx.conf" >"$run/many.conf"
[ "$(grep -o 'server 127\.0\.[01]\.' "$run/many.conf" | wc -l)" = 200 ] || bad "many.conf: the servers were not replaced"
out=$(ngx many.conf -t 2>&1) && ok || bad "nginx -t refused 200 servers under redis://: $out"
lacks <(echo "$out") "ngx_slab_alloc() failed"
sed "s|lbsched_fleet $url;|lbsched_redis_insecure on;|" "$run/nginx.conf" >"$run/flag.conf"
out=$(ngx flag.conf -t 2>&1) && bad "nginx -t took lbsched_redis_insecure without redis://" || ok
has <(echo "$out") 'go with "lbsched_fleet redis://..."'
# lbsched_redis_insecure alone turns lbsched on, as every lbsched_* line
# does, and is then refused without redis:// (the upstream stayed
# round-robin, without a word)
sed "\|lbsched_plugin $plugin;|d; \|lbsched_config |d; s|lbsched_fleet $url;|lbsched_redis_insecure on;|" \
	"$run/nginx.conf" >"$run/flagonly.conf"
[ "$(grep -c '^ *lbsched_' "$run/flagonly.conf")" = 1 ] || bad "flagonly.conf: other lbsched lines are left"
out=$(ngx flagonly.conf -t 2>&1) && bad "nginx -t took lbsched_redis_insecure alone, without redis://" || ok
has <(echo "$out") 'upstream "be" in '"$run/flagonly.conf"':'
has <(echo "$out") 'lbsched_redis_password_file and lbsched_redis_insecure go with "lbsched_fleet redis://..."'

# A Redis that wants a password, given none: it takes the connection and
# refuses each command; nginx -t says so, and a worker once a round, not
# once per server as a refused record.
redis_start auth --requirepass 'pw-auth-17'
sed "s|lbsched_fleet $url;|lbsched_fleet redis://127.0.0.1:$REDIS_PORT/t:;|" "$run/nginx.conf" >"$run/noauth.conf"
out=$(ngx noauth.conf -t 2>&1) || bad "nginx -t refused a Redis that wants a password: $out"
has <(echo "$out") "redis://127.0.0.1:$REDIS_PORT: NOAUTH Authentication required.; no server is a candidate until Redis takes this connection's commands"
# ... and by its name, which reaches this Redis through the addresses
# looked up ("localhost" may be ::1 first, where it does not listen)
sed "s|lbsched_fleet $url;|lbsched_fleet redis://localhost:$REDIS_PORT/t:;|" "$run/nginx.conf" >"$run/byname.conf"
out=$(ngx byname.conf -t 2>&1) || bad "nginx -t refused redis://localhost: $out"
has <(echo "$out") "redis://localhost:$REDIS_PORT: NOAUTH Authentication required."
kill -QUIT "$(cat "$run/nginx.pid")"
for _ in $(seq 50); do [ -f "$run/nginx.pid" ] || break; sleep 0.1; done
: >"$run/error.log"
ngx noauth.conf || bad "nginx (no password) does not start"
until_ok 20 grep -q "NOAUTH" "$run/error.log" && ok || bad "no line for NOAUTH"
kill -QUIT "$(cat "$run/nginx.pid")"
for _ in $(seq 50); do [ -f "$run/nginx.pid" ] || break; sleep 0.1; done
lacks "$run/error.log" "refused, the worker is absent"
redis_stop

# A reply whose bytes come one every 50 ms: each read waited its timeout
# anew, and nginx's start-up for ever; its 200 ms bound the whole reply.
fake_start '$100000000\r\n' drip
sed "s|lbsched_fleet $url;|lbsched_fleet redis://127.0.0.1:$FAKE_PORT/t:;|" "$run/nginx.conf" >"$run/drip.conf"
out=$(timeout -k 5 60 "$NGINX" -p "$run/" -c "$run/drip.conf" -t 2>&1)
eq "nginx -t with a dripping server ends" "$?" 0
has <(echo "$out") "redis://127.0.0.1:$FAKE_PORT: timed out waiting for the reply"
fake_stop

# A Redis without HSTRLEN (before 3.2, or renamed away): the reads ask each
# field's size first, so nginx -t says what the reading user needs, and a
# worker says it once for the fleet, not once per server.
redis_start nohstrlen --rename-command HSTRLEN ''
sed "s|lbsched_fleet $url;|lbsched_fleet redis://127.0.0.1:$REDIS_PORT/t:;|" "$run/nginx.conf" >"$run/nohstrlen.conf"
out=$(ngx nohstrlen.conf -t 2>&1) || bad "nginx -t refused a Redis without HSTRLEN: $out"
has <(echo "$out") "ERR unknown command 'HSTRLEN'"
has <(echo "$out") "the reading user needs SCAN, HSTRLEN and HMGET, of Redis 3.2 or later: no server is a candidate until it has them"
: >"$run/error.log"
ngx nohstrlen.conf || bad "nginx (no HSTRLEN) does not start"
until_ok 20 grep -q "the reading user needs SCAN, HSTRLEN and HMGET, of Redis 3.2 or later (docs/SECURITY.md)" "$run/error.log" && ok || bad "no line for a Redis without HSTRLEN"
kill -QUIT "$(cat "$run/nginx.pid")"
for _ in $(seq 50); do [ -f "$run/nginx.pid" ] || break; sleep 0.1; done
lacks "$run/error.log" "refused, the worker is absent"
redis_stop

# ---- a server listed twice, and again by a name that resolves to it: one
# worker whose record is read once, serving as in file mode (its record was
# read once per line, and the converter refused the second copy's id, which
# left the whole upstream without a live server: 502)
redis_start dup
sed "s|lbsched_fleet $url;|lbsched_fleet redis://127.0.0.1:$REDIS_PORT/t:;|
	s|server 127.0.0.1:$PA; server 127.0.0.1:$PB; server 127.0.0.1:$PC; server 127.0.0.1:$PD;|server 127.0.0.1:$PA; server 127.0.0.1:$PB; server 127.0.0.1:$PA; server localhost:$PA;|" \
	"$run/nginx.conf" >"$run/dup.conf"
grep -q "server localhost:$PA;" "$run/dup.conf" || bad "dup.conf: the servers were not replaced"
for p in $PA $PB; do
	rcli hset "t:fleet:127.0.0.1:$p" record "{\"worker_id\": \"127.0.0.1:$p\", \"supported_backends\": [\"cpu\"], \"cpu_cores\": 4, \"available_memory\": 8}" >/dev/null
done
out=$(ngx dup.conf -t 2>&1) || bad "nginx -t refused a server listed twice: $out"
has <(echo "$out") "server 127.0.0.1:$PA is listed more than once"
: >"$run/error.log"
ngx dup.conf || bad "nginx (a server listed twice) does not start: $(tail -3 "$run/error.log")"
until_ok 20 live_is "$PA" "$PB" && ok || bad "a server listed twice: live $(live)"
served() { local t; t=$(tally 10); [ -n "$t" ] && ! grep -q '[^ab= 0-9]' <<<"$t"; }
until_ok 10 served && ok || bad "a server listed twice: $(tally 10); $(curl -s -o /dev/null -w '%{http_code}' -m 5 "$U/")"
lacks "$run/error.log" "is also the id of"
# and the status names it once in each object, its figures summed
curl -s -m 5 "$U/lbsched_status" >"$tmp/dupstatus.json"
python3 - "$tmp/dupstatus.json" "$PA" >"$tmp/dupstatus.why" 2>&1 <<'EOF' && ok || bad "status with a server listed twice: $(cat "$tmp/dupstatus.why")"
import json, sys
def once(pairs):
    keys = [k for k, _ in pairs]
    dup = {k for k in keys if keys.count(k) > 1}
    if dup:
        sys.exit("key(s) %s more than once in one object" % sorted(dup))
    return dict(pairs)
u = json.load(open(sys.argv[1]), object_pairs_hook=once)["upstreams"][0]
a = "127.0.0.1:" + sys.argv[2]
if not (u["live"][a] and u["decisions"][a] >= 1 and u["in_flight"][a] == 0):
    sys.exit("server %s: live %s, decisions %s, in flight %s" % (a, u["live"][a], u["decisions"][a], u["in_flight"][a]))
EOF
kill -QUIT "$(cat "$run/nginx.pid")"
for _ in $(seq 50); do [ -f "$run/nginx.pid" ] || break; sleep 0.1; done
redis_stop

[ "$fail" = 0 ] || grep lbsched "$run/error.log" | tail -20 >&2
finish test_nginx_redis
