#!/usr/bin/env bash
# bench_simulate.sh SHIM PLUGIN -- issue 7's targets, as figures:
#   1. the bundled heterogeneous scenario (examples/hetero, 2.3 tests/s):
#      hardware-aware's mean completion after a 1,000-test warm-up, as a
#      ratio to the oracle's in the same run, on several seeds;
#   2. the bundled homogeneous scenario (examples/homo, 0.45 tests/s);
#   3. scenarios nobody tuned for: random fleets from bench/simgen.py;
#   4. the cost: 100,000 tests on 512 workers, hardware-aware vs the oracle
#      (the simulator's own cost) in the same process.
set -u
shim=$1 plugin=$2
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tests=${SIM_TESTS:-20000}
seeds=${SIM_SEEDS:-1 2 3}

ratio_rows() { # LABEL ARGS...: one row per seed, columns = schedulers' ratio to the oracle
	local label=$1; shift
	for s in $seeds; do
		"$shim" simulate --plugin "$plugin" --quiet "$@" --seed "$s" --warmup 1000 \
			--compare round-robin,priority,hardware-aware,composite,weighted-round-robin,performance,affinity,adaptive,oracle --json "$tmp/r.json" >/dev/null ||
			{ echo "simulate failed" >&2; return 1; }
		python3 - "$tmp/r.json" "$label" "$s" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
cells = " | ".join(f'{x["ratio_to_oracle"]:.3f}' for x in r["runs"][:-1])
o = r["runs"][-1]["mean_completion_after_warmup_s"]
print(f"| {sys.argv[2]} | {sys.argv[3]} | {o:.1f} | {cells} |")
PY
	done
}

echo "mean completion after 1,000 tests of warm-up, as a ratio to the oracle's ($tests tests per run)"
echo
echo "| scenario | seed | oracle s | round-robin | priority | hardware-aware | composite | weighted-round-robin | performance | affinity | adaptive |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
ex=examples
ratio_rows "hetero 2.3/s" --workers $ex/hetero/fleet.json --truth $ex/hetero/truth.json \
	--mix $ex/hetero/mix.json --rate 2.3 --tests "$tests"
ratio_rows "homo 0.45/s" --workers $ex/homo/fleet.json --truth $ex/homo/truth.json \
	--mix $ex/homo/mix.json --rate 0.45 --tests "$tests"
for g in ${SIM_GEN:-101 102 103}; do
	n=$((24 + g % 5 * 10))
	rate=$(python3 bench/simgen.py --workers $n --seed $g --out "$tmp/g$g" --load 0.85)
	seeds=1 ratio_rows "random $n workers #$g ${rate}/s" --workers "$tmp/g$g/fleet.json" \
		--truth "$tmp/g$g/truth.json" --mix "$tmp/g$g/mix.json" --rate "$rate" --tests "$tests"
done

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
