#!/usr/bin/env bash
# bench_fleet.sh BENCH_FLEET PLUGIN [select] -- issue 17's figures, against Debian's
# redis-server on 127.0.0.1 (a free port, a temporary directory, nothing
# persisted, stopped by pid):
#   1. propagation: report() on host A -> host B's view holds it, p50 / p99,
#      at the default intervals (push_ms 200, pull_ms 500);
#   2. 3 hosts (processes, own stores) reporting FLEET_N outcomes each at
#      once: outcomes/s until every one is pushed (durable in the fleet),
#      and Redis commands per outcome;
#   3. hardware-aware select at 512 workers with the sync running vs a store
#      without a fleet that learned the same, in one run: with no other host
#      writing, then with another host writing 1,536 pairs select does not
#      read (the synced view holds them too).  "select" runs only this part.
set -u
bench=$1 plugin=$2
cd "$(dirname "$0")/.."
. tests/testlib.sh
trap 'stop_redis "$tmp/redis" KILL; rm -rf "$tmp"' EXIT
port=$(free_port)
start_redis "$tmp/redis" "$port" || exit 1
n=${FLEET_N:-200000}
cfg() { # NAME [FLEET:1/0]
	if [ "${2:-1}" = 1 ]; then
		echo "{\"store\": {\"path\": \"$tmp/$1\", \"fleet\": {\"address\": \"127.0.0.1:$port\"}}}"
	else
		echo "{\"store\": {\"path\": \"$tmp/$1\"}}"
	fi >"$tmp/$1.json"
}
for h in a b c d e w on off; do cfg $h; done
cfg off 0

if [ "${3:-}" != select ]; then
read -r got p50 p99 max < <("$bench" --plugin "$plugin" propagate "$tmp/a.json" "$tmp/b.json" ${FLEET_SAMPLES:-200})
echo "propagation report() on A -> B's view, default intervals (push 200 ms, pull 500 ms), $got samples:"
echo "  p50 $p50 ms, p99 $p99 ms, max $max ms"

pids=()
for h in c d e; do "$bench" --plugin "$plugin" write "$tmp/$h.json" "$n" >"$tmp/$h.out" & pids+=($!); done
wait "${pids[@]}" # not redis-server, also a child
python3 - "$n" "$tmp"/c.out "$tmp"/d.out "$tmp"/e.out <<'PY'
import sys
n = int(sys.argv[1])
rows = [list(map(float, open(p).read().split())) for p in sys.argv[2:]]
taken = max(r[0] for r in rows); durable = max(r[1] for r in rows)
cmds = sum(r[2] for r in rows); pushed = sum(r[3] for r in rows)
print(f"3 hosts x {n:,} outcomes at once: report() took them at {3 * n / taken:,.0f}/s; "
      f"all pushed to Redis (durable in the fleet) after {durable:.2f} s: {3 * n / durable:,.0f} outcomes/s")
print(f"Redis commands: {cmds:,.0f} for {pushed:,.0f} outcomes pushed: {cmds / pushed:.5f} per outcome")
PY
fi

echo "hardware-aware select, 512 workers, median of 7 alternating runs of 300 ms:"
read -r on off ratio pulls refreshes < <("$bench" --plugin "$plugin" select "$tmp/on.json" "$tmp/off.json" 512)
echo "  no other host writing: sync on $on ns, sync off $off ns: ratio $ratio (target <= 1.05); $pulls pulls, $refreshes view rebuilds"
rm -rf "$tmp/on" "$tmp/off"
redis-cli -p "$port" flushall >/dev/null

"$bench" --plugin "$plugin" write "$tmp/w.json" 100000000 other >/dev/null 2>&1 &
writer=$!
sleep 1
read -r on off ratio pulls refreshes < <("$bench" --plugin "$plugin" select "$tmp/on.json" "$tmp/off.json" 512)
kill $writer 2>/dev/null; wait $writer 2>/dev/null
echo "  another host writing 1,536 other pairs: sync on $on ns, sync off $off ns: ratio $ratio; $pulls pulls, $refreshes view rebuilds"
