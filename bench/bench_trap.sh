#!/usr/bin/env bash
# bench_trap.sh SHIM PLUGIN -- issue 14's reliability figure on the trap fleet
# (bench/trap: A100 twins, one failing 30 % of runs, one secretly 3x slower,
# a fourth A100, two T4s, three CPUs of which a 192-core one is slow in
# truth), at 70 % of its fluid capacity (1.04 tests/s): of the 1,000 tests
# after the first 1,000, the share each twin got, and flaky / healthy.  The
# first 1,000 of a 2,000-test run are the 1,000-test run (same seed, same
# stream), so the later 1,000 are the difference of the two.
set -u
shim=$1 plugin=$2
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
t=bench/trap
echo "tests 1,001-2,000 on the trap fleet at 1.04 tests/s: each twin's share"
echo
echo "| scheduler | seed | healthy twin | flaky twin | flaky / healthy | mean completion vs oracle |"
echo "|---|---|---|---|---|---|"
for s in ${TRAP_SEEDS:-1 2 3}; do
	for n in 1000 2000; do
		"$shim" simulate --plugin "$plugin" --quiet --workers $t/fleet.json --truth $t/truth.json \
			--mix $t/mix.json --rate 1.04 --tests $n --seed "$s" --warmup 500 \
			--compare hardware-aware,composite,oracle --json "$tmp/r$n.json" >/dev/null ||
			{ echo "simulate failed" >&2; exit 1; }
	done
	python3 - "$tmp/r1000.json" "$tmp/r2000.json" "$s" <<'PY'
import json, sys
first, both = (json.load(open(p)) for p in sys.argv[1:3])
ids = [w["id"] for w in both["workers"]]
for a, b in zip(first["runs"], both["runs"]):
    n = b["tests"] - a["tests"]
    later = {ids[i]: sum(b["assignments"][i]) - sum(a["assignments"][i]) for i in range(len(ids))}
    ok, flaky = later["gpu_twin_ok"], later["gpu_twin_flaky"]
    print(f"| {a['scheduler']} | {sys.argv[3]} | {100 * ok / n:.1f} % | {100 * flaky / n:.1f} % | "
          f"{flaky / ok if ok else float('inf'):.2f}x | {b['ratio_to_oracle']:.3f} |")
PY
done
