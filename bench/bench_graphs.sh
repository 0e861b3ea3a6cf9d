#!/usr/bin/env bash
# bench_graphs.sh SHIM PLUGIN BENCH_ORCH -- issue 20's figures (bench/run graphs):
#  1. random layered DAGs of 10-200 subtasks (bench/graphgen.py) over the bundled
#     heterogeneous fleet and truth, no failures: the orchestrator's mean makespan
#     against HEFT with oracle costs and the critical-path bound, per seed;
#  2. 10 % of subtask runs failing: completion and makespan under each strategy,
#     against the same graphs without failures;
#  3. placement cost per subtask at 512 workers vs one select (bench_orch);
#  4. one wide layer of 100, 300 and 2,000 subtasks (graphgen.py --wide): the
#     orchestrator against HEFT, where binding late matters, and the time to simulate.
set -u
shim=$1 plugin=$2 bench_orch=$3
src=$(cd "$(dirname "$0")/.." && pwd)
fleet=$src/examples/hetero/fleet.json truth=$src/examples/hetero/truth.json
graphs=${GRAPHS:-30}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
summary() { tail -n 1 "$1" | python3 -c '
import json, sys
s = json.loads(sys.stdin.read())
print("%5d %9d %16.1f %10.1f %8.3f %10.1f %10.3f" % (s["graphs"], s["completed"],
      s["mean_orchestrator_s"], s["mean_heft_s"], s["mean_ratio"], s["mean_cp_bound_s"],
      s["mean_orchestrator_s"] / s["mean_cp_bound_s"]))'; }
sim() { "$shim" simulate --plugin "$plugin" --workers "$fleet" --truth "$truth" "$@"; }

echo "-- 1. makespan, no failures, $graphs graphs of 10-200 subtasks per seed (hardware-aware, learning across graphs)"
printf '%-6s %5s %9s %16s %10s %8s %10s %10s\n' seed graphs completed orchestrator_s heft_s "/heft" cp_bound_s "/bound"
for seed in 1 2 3; do
	python3 "$src/bench/graphgen.py" --graphs "$graphs" --seed $seed > "$tmp/g$seed.jsonl"
	sim --graphs "$tmp/g$seed.jsonl" --seed $seed --fail-rate 0 > "$tmp/clean$seed.jsonl" || exit 1
	printf '%-6s ' $seed; summary "$tmp/clean$seed.jsonl"
done
cat "$tmp"/clean[123].jsonl | python3 -c '
import json, sys
L = [json.loads(l) for l in sys.stdin if "\"ratio\"" in l]
o = sum(l["orchestrator_s"] for l in L); h = sum(l["heft_s"] for l in L); b = sum(l["cp_bound_s"] for l in L)
first = [l for l in L if int(l["graph"].rsplit("-", 1)[1]) < 5]
fo = sum(l["orchestrator_s"] for l in first); fh = sum(l["heft_s"] for l in first)
print("all    mean orchestrator/HEFT %.3f, orchestrator/bound %.3f, HEFT/bound %.3f over %d graphs;"
      " the first 5 graphs of each seed (little learned yet): %.3f" % (o / h, o / b, h / b, len(L), fo / fh))'

echo "-- 2. 10 % of runs failing (--fail-rate 0.1, --max-attempts 8), the same graphs, seeds 1-3"
printf '%-11s %7s %10s %16s %14s\n' strategy graphs completed mean_makespan_s "cost vs clean"
for s in retry reassign skip alternate checkpoint; do
	: > "$tmp/f.jsonl"
	for seed in 1 2 3; do
		sim --graphs "$tmp/g$seed.jsonl" --seed $seed --fail-rate 0.1 --strategy $s --max-attempts 8 \
			| grep '"ratio"' >> "$tmp/f.jsonl" || exit 1
	done
	cat "$tmp"/clean[123].jsonl | grep '"ratio"' > "$tmp/c.jsonl"
	python3 - "$s" "$tmp/f.jsonl" "$tmp/c.jsonl" <<'PY'
import json, sys
f = [json.loads(l) for l in open(sys.argv[2])]
c = [json.loads(l) for l in open(sys.argv[3])]
done = [a for a in f if a["completed"]]
cost = sum(a["orchestrator_s"] for a in done) / sum(b["orchestrator_s"] for a, b in zip(f, c) if a["completed"])
print("%-11s %7d %10d %16.1f %+13.1f%%" % (sys.argv[1], len(f), len(done),
      sum(a["orchestrator_s"] for a in done) / max(1, len(done)), 100 * (cost - 1)))
PY
done

echo "-- 3. placement cost per subtask: orch_place + orch_record vs one sched_select (goal <= 2x)"
"$bench_orch" --plugin "$plugin" --workers 512 --subtasks 2000

echo "-- 4. one wide layer (graphgen.py --wide: a root, n - 2 subtasks after it, a join), no failures"
printf '%-8s %8s %8s %8s %8s %12s\n' subtasks seed1 seed2 seed3 mean "simulate s"
for n in 100 300 2000; do
	printf '%-8s ' $n
	t0=$(date +%s.%N)
	for seed in 1 2 3; do
		python3 "$src/bench/graphgen.py" --graphs 1 --seed $seed --min $n --max $n --wide > "$tmp/w.jsonl"
		sim --graphs "$tmp/w.jsonl" --seed $seed --fail-rate 0 | head -n 1 > "$tmp/w$seed.json" || exit 1
	done
	t1=$(date +%s.%N)
	python3 - "$tmp" "$t0" "$t1" <<'PY'
import json, sys
r = [json.load(open("%s/w%d.json" % (sys.argv[1], s)))["ratio"] for s in (1, 2, 3)]
print("%8.3f %8.3f %8.3f %8.3f %12.2f" % (r[0], r[1], r[2], sum(r) / 3, (float(sys.argv[3]) - float(sys.argv[2])) / 3))
PY
done
