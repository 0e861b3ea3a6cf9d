#!/usr/bin/env bash
# bench_nginx.sh -- requests/s and p99 through nginx on loopback: lbsched
# (hardware-aware, learning into an LMDB store) against nginx's built-in
# round-robin and least_conn, the same upstream servers (three, or SERVERS,
# one port each, all served by the same nginx), one wrk run each.
#   bench/bench_nginx.sh MODULE.so PLUGIN.so [SECONDS] [CONNECTIONS] [ROUNDS] [SERVERS]
# The three methods run in turn, ROUNDS times; the table gives each one's
# median run (by requests/s), which keeps a noisy 2-CPU box comparable.
# Needs nginx and wrk (apt-get install nginx wrk).
set -u
module=$(realpath "${1:?module .so}") plugin=$(realpath "${2:?plugin .so}")
secs=${3:-5} conns=${4:-64} rounds=${5:-3} nservers=${6:-3}
command -v wrk >/dev/null || { echo "bench_nginx: wrk not found (apt-get install wrk)" >&2; exit 1; }
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
tmp=$(mktemp -d /tmp/lbs-bench-nginx.XXXXXX)
run=$tmp/run
mkdir -p "$run/tmp"
stop() {
	local pid
	pid=$(cat "$run/nginx.pid" 2>/dev/null) && kill -QUIT "$pid" 2>/dev/null
	for _ in $(seq 50); do [ -n "${pid:-}" ] && kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	rm -rf "$tmp"
}
trap stop EXIT
base=$((30000 + ($$ % 300) * 10))
# below the ephemeral range (32768 up), where the previous round's
# connections linger
[ "$nservers" -gt 3 ] && base=$((20000 + ($$ % 50) * 100))
F=$base A=$((base + 1)) B=$((base + 2)) C=$((base + 3))
user_line=""; [ "$(id -u)" = 0 ] && user_line="user root;"
servers="server 127.0.0.1:$A; server 127.0.0.1:$B; server 127.0.0.1:$C;"
backends="
  server { listen 127.0.0.1:$A; location / { return 200 \"a\n\"; } }
  server { listen 127.0.0.1:$B; location / { return 200 \"b\n\"; } }
  server { listen 127.0.0.1:$C; location / { return 200 \"c\n\"; } }"
if [ "$nservers" -gt 3 ]; then
	# A giant upstream: a port per server, all on one server block.
	servers="" listens=""
	for i in $(seq "$nservers"); do
		servers+="server 127.0.0.1:$((base + i)); "
		listens+="listen 127.0.0.1:$((base + i)); "
	done
	backends="
  server { $listens location / { return 200 \"x\n\"; } }"
fi
cat >"$run/nginx.conf" <<EOF
load_module $module;
$user_line
worker_processes 1;
worker_rlimit_nofile $((nservers + 4096));
pid $run/nginx.pid;
error_log $run/error.log warn;
events { worker_connections $((nservers + 1024)); }
http {
  access_log off;
  client_body_temp_path $run/tmp/body; proxy_temp_path $run/tmp/proxy;
  fastcgi_temp_path $run/tmp/fcgi; uwsgi_temp_path $run/tmp/uwsgi; scgi_temp_path $run/tmp/scgi;
  upstream rr { $servers keepalive 32; }
  upstream lc { least_conn; $servers keepalive 32; }
  upstream lbs {
    lbsched_plugin $plugin;
    lbsched_config '{"store": {"path": "$tmp/store"}}';
    $servers keepalive 32;
  }
$backends
  server {
    listen 127.0.0.1:$F;
    proxy_http_version 1.1; proxy_set_header Connection "";
    location /rr { proxy_pass http://rr; }
    location /lc { proxy_pass http://lc; }
    location /lbs { proxy_pass http://lbs; }
  }
}
EOF
"$NGINX" -p "$run/" -c "$run/nginx.conf" || exit 1
sleep 0.5
declare -A rps p99 all
for m in rr lc lbs; do wrk -t1 -c"$conns" -d1s "http://127.0.0.1:$F/$m" >/dev/null 2>&1; done # warm up
for _ in $(seq "$rounds"); do
	for m in rr lc lbs; do
		out=$(wrk -t1 -c"$conns" -d"${secs}s" --latency -H 'X-Test-Type: inference' "http://127.0.0.1:$F/$m")
		grep -q "Non-2xx" <<<"$out" && echo "warning: $m had non-2xx answers" >&2
		all[$m]+="$(awk '/^Requests\/sec:/ {r = $2} $1 == "99%" {p = $2} END {print r, p}' <<<"$out");"
	done
done
for m in rr lc lbs; do
	line=$(tr ';' '\n' <<<"${all[$m]}" | grep . | sort -n | awk '{a[NR] = $0} END {print a[int((NR + 1) / 2)]}')
	rps[$m]=${line% *} p99[$m]=${line#* }
done
echo "wrk -t1 -c$conns -d${secs}s --latency, median of $rounds rounds, nginx 1 worker process, $nservers loopback upstreams, keepalive 32, $(nproc) CPUs"
printf '%-34s %12s %10s %14s\n' method requests/s p99 "vs round-robin"
for m in rr lc lbs; do
	case $m in rr) name="round-robin (nginx built-in)";; lc) name="least_conn (nginx built-in)";;
		lbs) name="lbsched hardware-aware + store";; esac
	printf '%-34s %12s %10s %14s\n' "$name" "${rps[$m]}" "${p99[$m]}" \
		"$(awk -v a="${rps[$m]}" -v b="${rps[rr]}" 'BEGIN {printf "%.3f", a / b}')"
done
# every round, in the order run: a noisy machine shows in the spread
for m in rr lc lbs; do
	printf '%-34s %s\n' "$m rounds (requests/s p99)" "$(tr ';' ' ' <<<"${all[$m]}")"
done
