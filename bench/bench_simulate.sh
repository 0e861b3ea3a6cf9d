#!/usr/bin/env bash
# bench_simulate.sh SHIM PLUGIN -- the schedulers against the oracle and the
# lower bound (docs/SIMULATE.md), in three sets reported apart:
#   1. the bundled scenarios: examples/hetero at 2.3 tests/s and examples/homo
#      at 0.45 tests/s, $SIM_TESTS tests (20,000), seeds $SIM_SEEDS (1 2 3);
#   2. the TUNING set: random fleets from bench/simgen.py, seeds 1-5;
#   3. the HELD-OUT set: random fleets, seeds 101-105.  No constant of the
#      project is ever tuned on these; they are here to be reported.
#   Random fleets run at 70% of their fluid capacity, 5,000 tests each.
#   4. the cost: 100,000 tests on 512 workers, hardware-aware vs the oracle
#      (the simulator's own cost) in the same process.
# Each cell is the scheduler's mean completion after a 1,000-test warm-up as
# a ratio to the oracle's in the same run, then (after /) to the lower bound.
# "hw, no ceiling" is hardware-aware with {"load_ceiling": 1}.
set -u
shim=$1 plugin=$2
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tests=${SIM_TESTS:-20000}
seeds=${SIM_SEEDS:-1 2 3}
printf '{"load_ceiling": 1}\n' >"$tmp/nc.json"
compare="round-robin,priority,hardware-aware,composite,hardware-aware=$tmp/nc.json,weighted-round-robin,performance,affinity,adaptive,oracle"
: >"$tmp/rows"

# row SET LABEL SEED ARGS...: one table row, kept in $tmp/rows for the means
row() {
	local set=$1 label=$2 seed=$3; shift 3
	"$shim" simulate --plugin "$plugin" --quiet "$@" --seed "$seed" --warmup 1000 \
		--compare "$compare" --json "$tmp/r.json" >/dev/null ||
		{ echo "simulate failed: $label seed $seed" >&2; return 1; }
	python3 - "$tmp/r.json" "$set" "$label" "$seed" "$tmp/rows" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
runs = r["runs"]
o = runs[-1]
cells = [(x["ratio_to_oracle"], x["ratio_to_lower_bound"]) for x in runs[:-1]]
text = " | ".join(f"{a:.3f} / {b:.2f}" for a, b in cells)
print(f'| {sys.argv[3]} | {sys.argv[4]} | {o["mean_completion_after_warmup_s"]:.1f} | '
      f'{r["scenario"]["lower_bound_after_warmup_s"]:.1f} | {o["ratio_to_lower_bound"]:.2f} | {text} |')
with open(sys.argv[5], "a") as f:
    f.write(json.dumps([sys.argv[2], o["ratio_to_lower_bound"], cells]) + "\n")
PY
}

mean_row() { # SET: the mean of each column over the set's rows
	python3 - "$tmp/rows" "$1" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if json.loads(l)[0] == sys.argv[2]]
n = len(rows)
ob = sum(r[1] for r in rows) / n
cells = [(sum(r[2][k][0] for r in rows) / n, sum(r[2][k][1] for r in rows) / n)
         for k in range(len(rows[0][2]))]
print(f"| **mean of {n}** | | | | {ob:.2f} | " +
      " | ".join(f"**{a:.3f}** / {b:.2f}" for a, b in cells) + " |")
PY
}

header() {
	echo
	echo "$1"
	echo
	echo "| scenario | seed | oracle s | bound s | oracle / bound | round-robin | priority | hardware-aware | composite | hw, no ceiling | weighted-round-robin | performance | affinity | adaptive |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
}

random_set() { # SET SEEDS...: simgen fleets at 70% load, 5,000 tests
	local set=$1 g n rate; shift
	for g in "$@"; do
		n=$((24 + g % 5 * 10))
		rate=$(python3 bench/simgen.py --workers $n --seed $g --out "$tmp/g$g" --load 0.7) || return 1
		row "$set" "random $n workers #$g ${rate}/s" 1 --workers "$tmp/g$g/fleet.json" \
			--truth "$tmp/g$g/truth.json" --mix "$tmp/g$g/mix.json" --rate "$rate" --tests 5000
	done
	mean_row "$set"
}

echo "mean completion after 1,000 tests of warm-up: ratio to the oracle's / ratio to the lower bound"
ex=examples
header "bundled scenarios ($tests tests per run)"
for s in $seeds; do
	row bundled "hetero 2.3/s" "$s" --workers $ex/hetero/fleet.json --truth $ex/hetero/truth.json \
		--mix $ex/hetero/mix.json --rate 2.3 --tests "$tests"
done
for s in $seeds; do
	row bundled "homo 0.45/s" "$s" --workers $ex/homo/fleet.json --truth $ex/homo/truth.json \
		--mix $ex/homo/mix.json --rate 0.45 --tests "$tests"
done
mean_row bundled
header "TUNING set: bench/simgen.py seeds ${SIM_TUNING:-1 2 3 4 5}, 70% load, 5,000 tests"
random_set tuning ${SIM_TUNING:-1 2 3 4 5}
header "HELD-OUT set: bench/simgen.py seeds ${SIM_HELDOUT:-101 102 103 104 105}, 70% load, 5,000 tests (never tuned on)"
random_set heldout ${SIM_HELDOUT:-101 102 103 104 105}

echo
echo "cost: 100,000 tests on 512 workers (bench/simgen.py --workers 512 --seed 5)"
rate=$(python3 bench/simgen.py --workers 512 --seed 5 --out "$tmp/big")
"$shim" simulate --plugin "$plugin" --quiet --timing --workers "$tmp/big/fleet.json" \
	--truth "$tmp/big/truth.json" --mix "$tmp/big/mix.json" --rate "$rate" --tests 100000 \
	--compare hardware-aware,oracle 2>"$tmp/timing" >/dev/null
python3 - "$tmp/timing" <<'PY'
import re, sys
t = {m.group(1): float(m.group(2)) for m in re.finditer(r"simulate: (\S+): \d+ tests on \d+ workers in ([0-9.]+) s", open(sys.argv[1]).read())}
hw, o = t["hardware-aware"], t["oracle"]
print(f"| run | seconds | per test | ratio to the oracle run |")
print(f"|---|---|---|---|")
print(f"| hardware-aware | {hw:.2f} | {hw / 1e5 * 1e6:.1f} us | {hw / o:.2f}x |")
print(f"| oracle (the simulator alone) | {o:.2f} | {o / 1e5 * 1e6:.1f} us | 1.00x |")
PY
