#!/usr/bin/env bash
# bench_sampled.sh SHIM PLUGIN -- issue 19's quality figure of a sampled
# select: hardware-aware's default (sampled from 4,096 workers) against
# "scan": "full", mean completion of 30,000 tests on 4,096-worker simgen
# fleets loaded to 70 % of their capacity (simgen's printed rate, passed to
# --rate: without it simulate runs 1 test/s, a nearly idle fleet where any
# sample finds a free worker).  The tuning seeds 1-3 and the held-out seeds
# 101-103 are reported apart; the ratio is sampled / full, and "drawn a
# select" the random positions a sampled select drew, on average (its
# stats: `sample`, more while the best drawn would make the work wait).
set -u
shim=$1 plugin=$2
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo '{"scan": "full"}' >"$tmp/full.json"
echo '{}' >"$tmp/sampled.json"
run() { # SET SEED
	local rate
	rate=$(python3 bench/simgen.py --workers 4096 --seed "$2" --load 0.7 --out "$tmp/d$2") || return 1
	"$shim" simulate --plugin "$plugin" --quiet --workers "$tmp/d$2/fleet.json" \
		--truth "$tmp/d$2/truth.json" --mix "$tmp/d$2/mix.json" --tests 30000 --seed "$2" \
		--rate "$rate" --compare "hardware-aware=$tmp/full.json,hardware-aware=$tmp/sampled.json" \
		--json "$tmp/r.json" >/dev/null || { echo "simulate failed: seed $2" >&2; return 1; }
	python3 - "$tmp/r.json" "$1" "$2" "$rate" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["runs"]
f, s = r[0]["mean_completion_s"], r[1]["mean_completion_s"]
d = r[1].get("stats", {}).get("sampled")
drawn = f"{d['drawn'] / max(d['selects'], 1):.0f}" if d else "-"
print(f"| {sys.argv[2]} | {sys.argv[3]} | {float(sys.argv[4]):.1f} | {f:.2f} | {s:.2f} | {s / f:.3f} "
      f"| {drawn} |")
PY
}
echo "| set | seed | tests/s | full scan mean s | sampled mean s | sampled / full | drawn a select |"
echo "|---|---|---|---|---|---|---|"
for s in 1 2 3; do run tuning "$s"; done
for s in 101 102 103; do run held-out "$s"; done
