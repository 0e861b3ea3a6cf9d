#!/usr/bin/env bash
# bench_freshness.sh MODULE.so PLUGIN.so AGENT [TRIALS] -- issue 18's
# freshness goal: a change published to Redis reaches nginx's select in at
# most 2 s (p99).  nginx (2 worker processes) balances two servers with
# `lbsched_fleet redis://`; their records are lbsched-agent's own
# (`run --once` on a recorded laptop), their live state is then flipped
# between hot-and-cooling and cool, one server at a time, with one atomic
# Redis write per trial.  The time runs from that write's reply to the
# first answer from the newly cool server, asking nginx every millisecond
# over a keep-alive connection.  Hardware-aware with learning and the
# completion model off, so that only the live state decides.
# Needs nginx and redis-server (apt-get install nginx redis-server).
set -u
module=$(realpath "${1:?module .so}") plugin=$(realpath "${2:?plugin .so}")
agent=$(realpath "${3:?lbsched-agent}") trials=${4:-40}
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
command -v redis-server >/dev/null || { echo "bench_freshness: redis-server not found (apt-get install redis-server)" >&2; exit 1; }
tmp=$(mktemp -d /tmp/lbs-bench-fresh.XXXXXX)
run=$tmp/run
mkdir -p "$run/tmp"
rpid=""
stop() {
	local pid
	pid=$(cat "$run/nginx.pid" 2>/dev/null) && kill -QUIT "$pid" 2>/dev/null
	[ -n "$rpid" ] && kill "$rpid" 2>/dev/null
	for _ in $(seq 50); do [ -n "${pid:-}" ] && kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	rm -rf "$tmp"
}
trap stop EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
R=$(port) F=$(port) A=$(port) B=$(port)
redis-server --port "$R" --bind 127.0.0.1 --save '' --appendonly no --dir "$tmp" --logfile "$tmp/redis.log" &
rpid=$!
for _ in $(seq 100); do redis-cli -p "$R" ping 2>/dev/null | grep -q PONG && break; sleep 0.05; done
root=$tmp/root
python3 "$(dirname "$0")/../tests/agent/mkroot.py" "$(dirname "$0")/../tests/agent/fixtures/npu-lunarlake.json" "$root" >/dev/null
for p in "$A" "$B"; do
	LBSCHED_AGENT_NVML=none PATH=/nonexistent "$agent" run --root "$root" --once --interval 0.1 \
		--redis "redis://127.0.0.1:$R/b:" --id "127.0.0.1:$p" --ttl 3600 || exit 1
done
user_line=""; [ "$(id -u)" = 0 ] && user_line="user root;"
cat >"$run/nginx.conf" <<EOF
load_module $module;
$user_line
worker_processes 2;
pid $run/nginx.pid;
error_log $run/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $run/tmp/body; proxy_temp_path $run/tmp/proxy;
  fastcgi_temp_path $run/tmp/fcgi; uwsgi_temp_path $run/tmp/uwsgi; scgi_temp_path $run/tmp/scgi;
  upstream be {
    lbsched_plugin $plugin;
    lbsched_fleet redis://127.0.0.1:$R/b:;
    lbsched_config '{"learned_weight": 0, "completion": {"enabled": false}}';
    server 127.0.0.1:$A; server 127.0.0.1:$B;
  }
  server { listen 127.0.0.1:$A; location / { return 200 "a"; } }
  server { listen 127.0.0.1:$B; location / { return 200 "b"; } }
  server { listen 127.0.0.1:$F; location / { proxy_pass http://be; } }
}
EOF
"$NGINX" -p "$run/" -c "$run/nginx.conf" || exit 1
python3 - "$R" "$F" "$A" "$B" "$trials" <<'PY'
import http.client, json, socket, sys, time
R, F, A, B, trials = (int(x) for x in sys.argv[1:])
rs = socket.create_connection(("127.0.0.1", R))
def redis(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a.encode() if isinstance(a, str) else a
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    rs.sendall(out)
    return rs.recv(65536)
def load(port, hot):
    return json.dumps({"worker_id": f"127.0.0.1:{port}", "temperature": 0.97 if hot else 0.3,
                       "cooling_state": hot, "performance_level": 0.42 if hot else 1,
                       "cpu_utilization": 20, "memory_utilization": 30})
swap = ("redis.call('hset', KEYS[1], 'load', ARGV[1]); "
        "redis.call('hset', KEYS[2], 'load', ARGV[2]); return 1")
keys = {p: f"b:fleet:127.0.0.1:{p}" for p in (A, B)}
h = http.client.HTTPConnection("127.0.0.1", F, timeout=5)
def ask():
    h.request("GET", "/")
    return h.getresponse().read().decode()
def publish(cool):
    hot = B if cool == A else A
    redis("EVAL", swap, "2", keys[cool], keys[hot], load(cool, False), load(hot, True))
# settle: A cool
publish(A)
t_end = time.time() + 10
while ask() != "a" and time.time() < t_end:
    time.sleep(0.01)
lat = []
for i in range(trials):
    want = "b" if i % 2 == 0 else "a"
    publish(B if want == "b" else A)
    t0 = time.monotonic()
    while ask() != want:
        if time.monotonic() - t0 > 10:
            break
        time.sleep(0.001)
    lat.append(time.monotonic() - t0)
    time.sleep(0.3 + (i % 7) * 0.05)  # the next change at another phase of the timers
lat.sort()
q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))]
print("| trials | p50, s | p99, s | max, s | goal |")
print("|---|---|---|---|---|")
print(f"| {len(lat)} | {q(0.5):.3f} | {q(0.99):.3f} | {lat[-1]:.3f} | p99 <= 2 |")
PY

