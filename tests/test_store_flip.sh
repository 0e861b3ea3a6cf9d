#!/usr/bin/env bash
# test_store_flip.sh [FLIPS] [SEED] -- issue 15's figure: FLIPS single-byte
# flips across data.mdb, each on a fresh copy of a store with 450 learned
# records, at positions spread evenly over the file, to a random new value
# (bash's RANDOM seeded with SEED, so a run repeats).  Each copy is opened by
# the real plugin in two host processes: `prefs dump` and `decide
# --feedback` (create, select, report, commit, destroy).  A host that dies
# of a signal is a crash; the others open the store or refuse it in one
# line.  Then, unless this is the 4,096 run that found them, the 17 flips
# that killed the hosts without verification.  Prints the counts; fails on any
# crash or on a refusal that does not name the store.  CI runs 256 flips;
# `bench/run flip` 4,096.
set -u
shim=${LBS_SHIM:?run through meson test or bench/run flip}
plugin=${LBS_PLUGIN:?}
src=${LBS_SRCDIR:-$(dirname "$0")/..}
flips=${1:-256} seed=${2:-15}
. "$src/tests/testlib.sh"

base=$tmp/base
{
	echo '{"schema":2,"records":['
	sep=""
	for type in VISION NLP AUDIO; do
		for i in $(seq 1 150); do
			printf '%s{"workload_type":"%s","worker":"worker-%03d","samples":%d,"successes":%d,"failures":1,"preference":0.5,"mean_duration":%d.5,"var_duration":1,"last_update":1796211821,"ratio_n":1,"log_ratio_mean":0.1,"log_ratio_var":0}\n' \
				"$sep" "$type" "$i" $((i + 1)) "$i" "$i"
			sep=,
		done
	done
	echo ']}'
} >"$tmp/records.json"
printf '{"store": {"path": "%s"}}\n' "$tmp/copy" >"$tmp/store.json"
expect_rc 0 "$shim" prefs import --plugin "$plugin" --db "$base" "$tmp/records.json"
# A second import and the outcomes rewrite pages: a free list, two meta
# pages of different transactions, as a store in use has.
expect_rc 0 "$shim" prefs import --plugin "$plugin" --db "$base" "$tmp/records.json"
decide=("$shim" decide --plugin "$plugin" --config "$tmp/store.json"
	--workers "$src/examples/fleet.json" --tests "$src/examples/tests.jsonl"
	--feedback "$src/examples/outcomes.jsonl")
cp -r "$base" "$tmp/copy"
expect_rc 0 "${decide[@]}"
rm -rf "$base" && mv "$tmp/copy" "$base"
size=$(stat -c %s "$base/data.mdb")

# try POS NEW LABEL: set byte POS of a fresh copy to NEW, open it in both hosts
try() {
	local pos=$1 new=$2 label=$3 old host rc
	rm -rf "$tmp/copy" && cp -r "$base" "$tmp/copy"
	old=$(od -An -tu1 -j "$pos" -N1 "$tmp/copy/data.mdb" | tr -d ' ')
	printf "\\x$(printf %02x "$new")" | dd of="$tmp/copy/data.mdb" bs=1 seek="$pos" conv=notrunc status=none
	for host in dump decide; do
		if [ $host = dump ]; then
			"$shim" prefs dump --plugin "$plugin" --db "$tmp/copy" >/dev/null 2>"$tmp/err"
		else
			"${decide[@]}" >/dev/null 2>"$tmp/err"
		fi
		rc=$?
		runs=$((runs + 1))
		if [ $rc -ge 128 ]; then
			crashes=$((crashes + 1))
			bad "$label: byte $pos $old -> $new: $host died of signal $((rc - 128))"
		elif [ $rc = 0 ]; then
			opened=$((opened + 1))
		else
			refused=$((refused + 1))
			grep -q 'failed verification' "$tmp/err" && verify=$((verify + 1))
			# decide says more on later lines (the tests it could not run)
			if grep -qF "store '$tmp/copy'" "$tmp/err"; then ok; else
				bad "$label: byte $pos $old -> $new: $host refused without naming the store"
				sed 's/^/    /' "$tmp/err" >&2
			fi
		fi
	done
}

RANDOM=$seed
crashes=0 refused=0 verify=0 opened=0 runs=0
for ((i = 0; i < flips; i++)); do
	pos=$((i * size / flips))
	old=$(od -An -tu1 -j "$pos" -N1 "$base/data.mdb" | tr -d ' ')
	try "$pos" $(((old + 1 + RANDOM % 255) % 256)) "flip $i"
done
figure="flips: $flips across data.mdb ($size bytes, seed $seed); host runs: $runs;"
figure+=" crashes: $crashes; refused: $refused ($verify by verification); opened: $opened"
# The 17 flips of the 4,096 (seed 15) that killed the hosts when data.mdb
# was not verified (33 of 8,192 host runs died of SIGSEGV; found with this
# script against a plugin built without store_verify()), on every smaller
# run: the base store's pages are laid out the same each time, so without
# verification this test fails.
if [ "$flips" != 4096 ] || [ "$seed" != 15 ]; then
	for k in 98348:136 98808:55 105340:135 118864:250 124660:252 127006:58 127052:85 \
		136252:166 140116:197 142784:189 143382:248 143428:17 143980:221 162794:215 \
		165968:134 184092:148 188278:243; do
		try "${k%:*}" "${k#*:}" "known killer"
	done
fi
echo "$figure"
[ "$runs" = $((2 * flips)) ] || echo "with the known killers: host runs: $runs; crashes:" \
	"$crashes; refused: $refused ($verify by verification); opened: $opened"
# The killers' offsets hold for this layout only (the schema-3 store,
# 188,416 bytes); a new layout needs them found again, as above.
[ "$size" = 188416 ] && ok || bad "the base store has $size bytes, not 188416: its layout changed"
finish test_store_flip
