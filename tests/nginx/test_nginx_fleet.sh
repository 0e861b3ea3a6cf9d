#!/usr/bin/env bash
# test_nginx_fleet.sh -- issue 17 end to end: nginx A learns that a backend
# is slow, and nginx B's traffic moves away from it.
#
# Two real nginx (Debian's, with the built module), each on its own free
# port with its own LMDB store, both with a "fleet" object naming one
# redis-server (tests/redislib.sh).  Three backends, small python3 servers
# on 127.0.0.1 (as test_nginx.sh's), equal on paper: S answers in 300 ms,
# f1 and f2 at once.  Only A is sent requests of the type "inference"; it
# tries every server, finds S slow and leaves it.  B never sends S a
# request of that type before the check, so it cannot have learned S's
# latency itself; and unlearned, B tries every server (docs/SCORING.md,
# "Latency alone"), as it does for "vision_classification", the type
# nobody learned, which B is sent at the same time as the control: what
# B's traffic would be without A.  Only A's evidence, pulled through
# Redis, keeps B's inference traffic off S from its first request.
#
# LBS_FLEET_E2E_OFF=1 runs the same without the "fleet" objects: then B
# tries S with inference too, and the test fails (the check that the test
# depends on the sync).
#
# Env: LBS_PLUGIN, LBS_NGX_MODULE, LBS_NGX_BUILD, LBS_NGX_BUILD_ARGS (as
# test_nginx.sh).
set -u
. "$LBS_SRCDIR/tests/testlib.sh"
. "$LBS_SRCDIR/tests/redislib.sh"
plugin=${LBS_PLUGIN:?}
. "$LBS_SRCDIR/tests/nginx/ngxlib.sh"
ngx_find test_nginx_fleet
backend_pids=""
trap 'for h in A B C; do [ -f "$tmp/$h/nginx.pid" ] && kill -QUIT "$(cat "$tmp/$h/nginx.pid")" 2>/dev/null; done
	for p in $backend_pids $REDIS_PIDS; do kill "$p" 2>/dev/null; done
	sleep 0.3; rm -rf "$tmp"' EXIT

ngx_module test_nginx_fleet

redis_start fleet
PS=$(free_port) P1=$(free_port) P2=$(free_port) FA=$(free_port) FB=$(free_port)

# backend.py PORT NAME DELAY_FILE: answers NAME after the seconds in DELAY_FILE
cat >"$tmp/backend.py" <<'EOF'
import http.server, sys, time
port, name, delay_file = int(sys.argv[1]), sys.argv[2].encode() + b"\n", sys.argv[3]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        time.sleep(float(open(delay_file).read()))
        self.send_response(200); self.send_header("Content-Length", str(len(name))); self.end_headers()
        self.wfile.write(name)
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
EOF
echo 0.3 >"$tmp/delay.s"
echo 0 >"$tmp/delay.f"
python3 "$tmp/backend.py" "$PS" s "$tmp/delay.s" & backend_pids="$backend_pids $!"
python3 "$tmp/backend.py" "$P1" f1 "$tmp/delay.f" & backend_pids="$backend_pids $!"
python3 "$tmp/backend.py" "$P2" f2 "$tmp/delay.f" & backend_pids="$backend_pids $!"
# answers URL: URL answers (20 s at most for a start)
answers() { curl -s -f -m 5 -o /dev/null "$1"; }
for p in $PS $P1 $P2; do
	until_ok 20 answers "http://127.0.0.1:$p/" || { echo "test_nginx_fleet: the backend on port $p did not start" >&2; exit 1; }
done

fleet=", \"fleet\": {\"address\": \"127.0.0.1:$REDIS_PORT\", \"prefix\": \"e2e:\", \"push_ms\": 50, \"pull_ms\": 100, \"timeout_ms\": 500}"
[ -n "${LBS_FLEET_E2E_OFF:-}" ] && fleet=""
conf() { # NAME FRONT_PORT
	mkdir -p "$tmp/$1/tmp"
	{ ngx_conf_head "$tmp/$1" 1 64; cat <<EOF
  upstream be {
    lbsched_plugin $plugin;
    lbsched_config '{"store": {"path": "$tmp/$1/store", "batch_ms": 10, "refresh_ms": 50$fleet}}';
    server 127.0.0.1:$PS; server 127.0.0.1:$P1; server 127.0.0.1:$P2;
  }
  server {
    listen 127.0.0.1:$2;
    location / { proxy_pass http://be; }
    location = /lbsched_status { lbsched_status; }
  }
}
EOF
	} >"$tmp/$1/nginx.conf"
	"$NGINX" -p "$tmp/$1/" -c "$tmp/$1/nginx.conf" || { echo "nginx $1 does not start: $(tail -3 "$tmp/$1/error.log")" >&2; exit 1; }
	until_ok 20 answers "http://127.0.0.1:$2/lbsched_status" ||
		{ echo "nginx $1 never answered on port $2: $(tail -3 "$tmp/$1/error.log")" >&2; exit 1; }
}
conf A "$FA"
conf B "$FB"

# send PORT TYPE N: N sequential requests of TYPE (one connection), the
# answers' names
send() { curl -s -m 120 -H "X-Test-Type: $2" "http://127.0.0.1:$1/x?i=[1-$3]"; }
count_s() { grep -c '^s$'; }
# stat PORT SECTION FIELD: FIELD of the first SECTION object ("fleet",
# "store") holding it in that nginx's status; -1 when there is none
stat() {
	curl -s -m 5 "http://127.0.0.1:$1/lbsched_status" | python3 -c '
import json, sys
sec, field = sys.argv[1:3]
def find(o):
    if isinstance(o, dict):
        if isinstance(o.get(sec), dict) and field in o[sec]:
            return o[sec]
        o = list(o.values())
    if isinstance(o, list):
        for v in o:
            r = find(v)
            if r is not None:
                return r
try:
    f = find(json.load(sys.stdin))
except ValueError:
    f = None
print(-1 if f is None else f[field])' "$2" "$3"
}
fleet_stat() { stat "$1" fleet "$2"; }

# ---- A alone is sent inference: it tries S, finds it slow, leaves it ---------
a1=$(send "$FA" inference 20 | count_s)
a2=$(send "$FA" inference 30 | count_s)
echo "A, inference: S got $a1 of its first 20 requests, $a2 of the next 30"
[ "$a1" -ge 1 ] && ok || bad "A never tried S ($a1 of 20): it learned nothing to share"
[ "$a2" = 0 ] && ok || bad "A did not learn that S is slow ($a2 of its last 30)"

# ---- the sync: S's record in Redis (only A has one), then B pulls it -------------
s_in_redis() { redis-cli -p "$REDIS_PORT" hkeys e2e:totals | grep -q ":127.0.0.1:$PS\$"; }
if [ -n "$fleet" ]; then
	until_ok 30 s_in_redis && ok || bad "A's evidence on S never reached Redis: A's last error '$(fleet_stat "$FA" last_error)'"
	# Read anew each try: B's second pull after A's record was seen holds
	# it; B's store reads it into the view it decides by at its refresh
	# after that (refresh_ms), so two refreshes after the third pull.
	since() { local v; v=$(stat "$FB" "$1" "$2"); [ "$v" -ge "$3" ]; }
	p0=$(fleet_stat "$FB" pulls)
	[ "$p0" -ge 0 ] 2>/dev/null || { bad "B's status has no fleet pulls: '$p0'"; p0=0; }
	until_ok 30 since fleet pulls $((p0 + 3)) && ok || bad "B pulled nothing after A's push: last error '$(fleet_stat "$FB" last_error)'"
	r0=$(stat "$FB" store refreshes)
	until_ok 30 since store refreshes $((r0 + 2)) && ok || bad "B's store never read the pull into its view (refreshes $r0, then $(stat "$FB" store refreshes))"
fi

# ---- B: the type A learned, against the type nobody learned -----------------
after=$(send "$FB" inference 30 | count_s)
control=$(send "$FB" vision_classification 30 | count_s)
echo "B: S got $control of 30 vision_classification requests (nobody learned it: each server is tried)"
echo "B: S got $after of 30 inference requests (A learned S is slow; B had sent S none before)"
[ "$control" -ge 1 ] && ok || bad "B did not try S with a type nobody learned ($control of 30): the comparison says nothing"
[ "$after" = 0 ] && ok || bad "B sent S $after of 30 inference requests, though A learned that S is slow (without A: $control of 30)"
for h in A B; do kill -QUIT "$(cat "$tmp/$h/nginx.pid")"; done

# ---- a relative store.fleet.password_file is the conf dir's, as store.path
# is: nginx -t from / (systemd's directory) looked for it in / and failed
redis_start auth --requirepass 'pw-fleet-17'
mkdir -p "$tmp/C/tmp"
printf 'pw-fleet-17\n' >"$tmp/C/redis.pw"
chmod 600 "$tmp/C/redis.pw"
FC=$(free_port)
# confc NAME FLEET: nginx C's conf NAME, its store's "fleet" object FLEET
confc() {
	{ ngx_conf_head "$tmp/C" 1 64; cat <<EOF
  upstream be {
    lbsched_plugin $plugin;
    lbsched_config '{"store": {"path": "store", "batch_ms": 10, "fleet": $2}}';
    server 127.0.0.1:$P1;
  }
  server { listen 127.0.0.1:$FC; location / { proxy_pass http://be; } }
}
EOF
	} >"$tmp/C/$1"
}
confc rel.conf "{\"address\": \"127.0.0.1:$REDIS_PORT\", \"prefix\": \"c:\", \"password_file\": \"redis.pw\"}"
out=$(cd / && "$NGINX" -p "$tmp/C/" -c "$tmp/C/rel.conf" -t 2>&1) && ok || bad "nginx -t from / with a relative store.fleet.password_file: $out"
lacks <(echo "$out") "redis.pw"

# ---- store.fleet without a password, against a Redis that wants one: the
# sync's error says so, not only Redis's "Protocol error: unauthenticated
# multibulk length" (a push's many arguments before AUTH)
confc noauth.conf "{\"address\": \"127.0.0.1:$REDIS_PORT\", \"prefix\": \"c:\", \"push_ms\": 50, \"pull_ms\": 100, \"timeout_ms\": 500}"
(cd / && "$NGINX" -p "$tmp/C/" -c "$tmp/C/noauth.conf") || bad "nginx C does not start: $(tail -3 "$tmp/C/error.log")"
until_ok 20 answers "http://127.0.0.1:$FC/" || bad "nginx C never answered"
send "$FC" inference 5 >/dev/null
asks() { grep -q "redis://127.0.0.1:$REDIS_PORT: .*the Redis asks for a password: give store.fleet.password_file" "$tmp/C/error.log"; }
until_ok 20 asks && ok || bad "no line saying the Redis wants a password: $(grep 'redis://' "$tmp/C/error.log" | tail -2)"
kill -QUIT "$(cat "$tmp/C/nginx.pid")"
redis_stop

[ "$fail" = 0 ] || tail -n 5 "$tmp/A/error.log" "$tmp/B/error.log" "$tmp/C/error.log" >&2
finish test_nginx_fleet
