#!/usr/bin/env bash
# bench_fleet.sh BENCH_FLEET PLUGIN [select|scale] -- issue 17's figures, against Debian's
# redis-server on 127.0.0.1 (a free port, a temporary directory, nothing
# persisted, stopped by pid):
#   1. propagation: report() on host A -> host B's view holds it, p50 / p99,
#      at the default intervals (push_ms 200, pull_ms 500);
#   2. 3 hosts (processes, own stores) reporting FLEET_N outcomes each at
#      once, FLEET_ROUNDS rounds (default 3) alternating with the reference:
#      the same 3 hosts without a fleet, until every outcome is committed to
#      their stores.  With the fleet: until every one is pushed (durable in
#      the fleet).  The ratio, each host's CPU per outcome, and the Redis
#      commands per outcome: those the hosts sent, and those Redis executed
#      with the scripts' inner calls (INFO commandstats);
#   3. scale: FLEET_SCALE_HOSTS hosts (default 10) x FLEET_SCALE_WORKERS
#      workers (default 10,000; FLEET_SCALE_TYPES workload types, default
#      all 9) reporting FLEET_SCALE_N outcomes each (default 60,000: 60,000
#      pairs a host) at once: outcomes/s until all are acknowledged by
#      Redis, Redis commands per outcome (sent by the hosts; executed by
#      Redis, the scripts' inner calls included) and per host per second,
#      bytes per push and per pull (INFO stats' network bytes), the push
#      calls of staged parts and the BUSY replies.  "scale" runs only this
#      part;
#   4. hardware-aware select at 512 workers with the sync running vs a store
#      without a fleet that learned the same, in one run: with no other host
#      writing, then with another host writing 1,536 pairs select does not
#      read (the synced view holds them too).  "select" runs only this part.
set -u
bench=$1 plugin=$2 only=${3:-}
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
rcli() { redis-cli -p "$port" "$@"; }
# hosts TAG FLEET(1/0) N W NAME...: one write process per NAME at once, each
# its own fresh store, over $types workload types; their lines in
# $tmp/TAG.NAME.out
types=3
hosts() {
	local tag=$1 fleet=$2 count=$3 w=$4 pids=() h
	shift 4
	for h in "$@"; do
		rm -rf "$tmp/$tag.$h"
		cfg "$tag.$h" "$fleet"
		"$bench" --plugin "$plugin" write "$tmp/$tag.$h.json" "$count" "$w" "$types" >"$tmp/$tag.$h.out" &
		pids+=($!)
	done
	wait "${pids[@]}" # not redis-server, also a child
}
# the Redis counters after a run: commandstats and network bytes
redis_counters() { { rcli info commandstats; rcli info stats; rcli info cpu; } | tr -d '\r' >"$1"; }

if [ -z "$only" ]; then
read -r got p50 p99 max < <("$bench" --plugin "$plugin" propagate "$tmp/a.json" "$tmp/b.json" ${FLEET_SAMPLES:-200})
echo "propagation report() on A -> B's view, default intervals (push 200 ms, pull 500 ms), $got samples:"
echo "  p50 $p50 ms, p99 $p99 ms, max $max ms"
fi

if [ -z "$only" ]; then
rounds=${FLEET_ROUNDS:-3}
for r in $(seq "$rounds"); do
	hosts "off$r" 0 "$n" 512 c d e
	rcli flushall >/dev/null; rcli config resetstat >/dev/null
	hosts "on$r" 1 "$n" 512 c d e
	redis_counters "$tmp/redis$r.txt"
done
python3 - "$n" "$rounds" "$tmp" <<'PY'
import re, statistics, sys
n, rounds, tmp = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
def rows(tag):
    return [list(map(float, open(f"{tmp}/{tag}.{h}.out").read().split())) for h in "cde"]
def counters(path):
    t = open(path).read()
    calls = {m[0]: int(m[1]) for m in re.findall(r"^cmdstat_([^:]+):calls=(\d+)", t, re.M)}
    num = lambda k: float(re.search(rf"^{k}:([0-9.]+)", t, re.M).group(1))
    return calls, num("total_net_input_bytes"), num("total_net_output_bytes"), \
        num("used_cpu_user") + num("used_cpu_sys")
ref, fl, rep, ratio, cref, cfl, sent, done = [], [], [], [], [], [], [], []
for r in range(1, rounds + 1):
    off, on = rows(f"off{r}"), rows(f"on{r}")
    total = 3 * n
    ref.append(total / max(x[1] for x in off))
    fl.append(total / max(x[1] for x in on))
    rep.append(total / max(x[0] for x in on))
    ratio.append(fl[-1] / ref[-1])
    cref.append(sum(x[4] for x in off) / total * 1e6)
    cfl.append(sum(x[4] for x in on) / total * 1e6)
    pushed = sum(x[3] for x in on)
    calls = counters(f"{tmp}/redis{r}.txt")[0]
    sent.append(sum(x[2] for x in on) / pushed)
    done.append(sum(v for k, v in calls.items() if k not in ("info", "config|resetstat", "flushall")) / pushed)
    print(f"  round {r}: reference {ref[-1]:,.0f}/s, fleet {fl[-1]:,.0f}/s: ratio {ratio[-1]:.3f}")
med = statistics.median
print(f"3 hosts x {n:,} outcomes at once, median of {rounds} rounds:")
print(f"  reference, no fleet (report() until committed to each host's store): {med(ref):,.0f} outcomes/s")
print(f"  fleet on (report() until acknowledged by Redis: durable in the fleet): {med(fl):,.0f} outcomes/s"
      f" (report() itself {med(rep):,.0f}/s)")
print(f"  ratio fleet / reference: {med(ratio):.3f}; hosts' CPU per outcome {med(cfl):.2f} us vs {med(cref):.2f} us")
print(f"  Redis commands per outcome: {med(sent):.5f} sent by the hosts; {med(done):.5f} executed by Redis"
      f" with the scripts' inner calls (INFO commandstats)")
PY
fi

if [ -z "$only" ] || [ "$only" = scale ]; then
sh=${FLEET_SCALE_HOSTS:-10} sw=${FLEET_SCALE_WORKERS:-10000} sn=${FLEET_SCALE_N:-60000}
types=${FLEET_SCALE_TYPES:-9}
rcli flushall >/dev/null; rcli config resetstat >/dev/null
hosts scale 1 "$sn" "$sw" $(seq "$sh")
redis_counters "$tmp/redis-scale.txt"
types=3
python3 - "$sh" "$sw" "$sn" "${FLEET_SCALE_TYPES:-9}" "$tmp" <<'PY'
import re, sys
hosts, w, n, types, tmp = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
rows = [list(map(float, open(f"{tmp}/scale.{h}.out").read().split())) for h in range(1, hosts + 1)]
t = open(f"{tmp}/redis-scale.txt").read()
calls = {m[0]: int(m[1]) for m in re.findall(r"^cmdstat_([^:]+):calls=(\d+)", t, re.M)}
num = lambda k: float(re.search(rf"^{k}:([0-9.]+)", t, re.M).group(1))
pushed = sum(r[3] for r in rows)
sent = sum(r[2] for r in rows)
executed = sum(v for k, v in calls.items() if k not in ("info", "config|resetstat", "flushall"))
pushes, pulls = sum(r[7] for r in rows), sum(r[8] for r in rows)
secs = max(r[1] for r in rows)
parts, busy = sum(r[9] for r in rows), sum(r[10] for r in rows)
evals = sum(v for k, v in calls.items() if k in ("eval", "evalsha"))
print(f"scale: {hosts} hosts x {w:,} workers (x {types} types: {types * w:,} pairs), {n:,} outcomes each at once:")
print(f"  {pushed:,.0f} outcomes durable in the fleet after {secs:.2f} s: {pushed / secs:,.0f}/s")
print(f"  Redis commands per outcome: {sent / pushed:.5f} sent by the hosts ({sent:,.0f}: "
      f"{sent / secs / hosts:.1f} per host per second); {executed / pushed:.5f} executed by Redis "
      f"with the scripts' inner calls ({executed:,.0f}, of them {evals:,} script calls)")
print(f"  pushes: {pushes:,.0f} applied, {parts:,.0f} calls of staged parts (upload and merge), "
      f"{busy:,.0f} BUSY replies; pulls: {pulls:,.0f}")
print(f"  bytes: Redis received {num('total_net_input_bytes') / max(pushes, 1):,.0f} per push, "
      f"sent {num('total_net_output_bytes') / max(pulls, 1):,.0f} per pull; "
      f"Redis CPU {num('used_cpu_user') + num('used_cpu_sys'):.2f} s")
PY
fi

if [ -z "$only" ] || [ "$only" = select ]; then
echo "hardware-aware select, 512 workers, median of 7 alternating runs of 300 ms:"
read -r on off ratio pulls refreshes < <("$bench" --plugin "$plugin" select "$tmp/on.json" "$tmp/off.json" 512)
echo "  no other host writing: sync on $on ns, sync off $off ns: ratio $ratio (target <= 1.05); $pulls pulls, $refreshes view rebuilds"
rm -rf "$tmp/on" "$tmp/off"
rcli flushall >/dev/null

"$bench" --plugin "$plugin" write "$tmp/w.json" 100000000 other >/dev/null 2>&1 &
writer=$!
sleep 1
read -r on off ratio pulls refreshes < <("$bench" --plugin "$plugin" select "$tmp/on.json" "$tmp/off.json" 512)
kill $writer 2>/dev/null; wait $writer 2>/dev/null
echo "  another host writing 1,536 other pairs: sync on $on ns, sync off $off ns: ratio $ratio; $pulls pulls, $refreshes view rebuilds"
fi
