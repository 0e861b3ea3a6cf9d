#!/usr/bin/env bash
# bench_agent.sh AGENT REF [SECONDS] -- issue 18's cost goal for lbsched-agent:
# at most 1 % of one core at a 1 s interval and at most 10 MB resident.
#   - CPU: nanoseconds on a CPU (/proc/PID/schedstat, exact, unlike tick
#     counts) over SECONDS of `run --interval 1` after its first sample,
#     as a percentage of one core and as a ratio to REF (bench_agent_ref:
#     a bare loop reading /proc/stat and /proc/meminfo every second);
#   - detection: the CPU of one `detect` (hwloc, /sys, NVML, each browser's
#     --version), spread over the default --redetect of 300 s;
#   - memory: VmRSS and VmHWM (peak) from /proc/PID/status.
# With redis-server on PATH, a second agent publishes to a Redis of its own
# (127.0.0.1, a free port, nothing saved) at the same time: `run --redis`,
# the same figures (the Redis server's own cost is not counted).
set -u
agent=$1 ref=$2 secs=${3:-30}
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$tmp"; }
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
trap cleanup EXIT

cpu_ns() { awk '{print $1}' "/proc/$1/schedstat"; }
kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }

"$agent" run --file "$tmp/fleet.json" --interval 1 2>"$tmp/agent.err" &
a=$!
pids+=("$a")
"$ref" 1 &
r=$!
pids+=("$r")
q=""
if command -v redis-server >/dev/null; then
	rp=$(port)
	redis-server --port "$rp" --bind 127.0.0.1 --save '' --appendonly no --dir "$tmp" \
		--logfile "$tmp/redis.log" &
	pids+=("$!")
	for _ in $(seq 100); do redis-cli -p "$rp" ping 2>/dev/null | grep -q PONG && break; sleep 0.05; done
	"$agent" run --redis "redis://127.0.0.1:$rp/bench:" --interval 1 2>"$tmp/agent-redis.err" &
	q=$!
	pids+=("$q")
else
	echo "bench_agent: redis-server not found: the Redis sink is not measured" >&2
fi
for _ in $(seq 100); do [ -s "$tmp/fleet.json" ] && break; sleep 0.1; done
[ -s "$tmp/fleet.json" ] || { echo "bench_agent: the agent wrote nothing: $(cat "$tmp/agent.err")" >&2; exit 1; }
a0=$(cpu_ns $a) r0=$(cpu_ns $r) q0=$([ -n "$q" ] && cpu_ns $q || echo 0) t0=$(date +%s.%N)
sleep "$secs"
a1=$(cpu_ns $a) r1=$(cpu_ns $r) q1=$([ -n "$q" ] && cpu_ns $q || echo 0) t1=$(date +%s.%N)
rss=$(kb $a VmRSS) hwm=$(kb $a VmHWM) rref=$(kb $r VmRSS)
qrss=$([ -n "$q" ] && kb $q VmRSS || echo 0) qhwm=$([ -n "$q" ] && kb $q VmHWM || echo 0)
[ -n "$q" ] && [ -s "$tmp/agent-redis.err" ] && echo "bench_agent: the Redis agent said: $(cat "$tmp/agent-redis.err")" >&2

# one detection's CPU time, from the child's rusage
det=$( { /usr/bin/env bash -c 'TIMEFORMAT=%3U+%3S; time "$0" detect >/dev/null' "$agent"; } 2>&1 | tail -1)
det_ms=$(python3 -c "print(round(1000*($det), 1))")

python3 - "$a0" "$a1" "$r0" "$r1" "$t0" "$t1" "$rss" "$hwm" "$rref" "$det_ms" "$q0" "$q1" "$qrss" "$qhwm" <<'PY'
import sys
a0, a1, r0, r1 = (int(x) for x in sys.argv[1:5])
t0, t1 = float(sys.argv[5]), float(sys.argv[6])
rss, hwm, rref, det = int(sys.argv[7]), int(sys.argv[8]), int(sys.argv[9]), float(sys.argv[10])
q0, q1, qrss, qhwm = (int(x) for x in sys.argv[11:15])
wall = t1 - t0
agent = 100 * (a1 - a0) / 1e9 / wall
ref = 100 * (r1 - r0) / 1e9 / wall
amort = 100 * det / 1000 / 300
print(f"| measure | lbsched-agent | bare /proc loop | ratio | goal |")
print(f"|---|---|---|---|---|")
print(f"| CPU, % of one core, 1 s interval, {wall:.0f} s | {agent:.4f} | {ref:.4f} | {agent / ref if ref else float('nan'):.1f}x | <= 1 |")
print(f"| CPU per sample, ms | {10 * agent:.3f} | {10 * ref:.3f} | | |")
print(f"| detection, CPU ms (amortised over 300 s: {amort:.4f} %) | {det:.1f} | | | |")
print(f"| CPU incl. amortised detection, % | {agent + amort:.4f} | | | <= 1 |")
print(f"| RSS, MB (peak) | {rss / 1024:.1f} ({hwm / 1024:.1f}) | {rref / 1024:.1f} | {rss / rref if rref else float('nan'):.1f}x | <= 10 |")
if q1:
    red = 100 * (q1 - q0) / 1e9 / wall
    print(f"| Redis sink: CPU, % of one core, 1 s interval | {red:.4f} | {ref:.4f} | {red / ref if ref else float('nan'):.1f}x | <= 1 |")
    print(f"| Redis sink: CPU per sample, ms | {10 * red:.3f} | | | |")
    print(f"| Redis sink: CPU incl. amortised detection, % | {red + amort:.4f} | | | <= 1 |")
    print(f"| Redis sink: RSS, MB (peak) | {qrss / 1024:.1f} ({qhwm / 1024:.1f}) | {rref / 1024:.1f} | {qrss / rref if rref else float('nan'):.1f}x | <= 10 |")
PY
