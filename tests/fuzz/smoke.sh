#!/usr/bin/env bash
# smoke.sh EXE NAME FUZZDIR -- the CI smoke step of one fuzz target:
# replay every input in FUZZDIR/regress/<name>/ (the crashes found so far),
# then run over FUZZDIR/corpus/<name>/ and fuzz for $LBS_FUZZ_SECONDS (30)
# seconds.  New inputs and crash files go to a temporary directory, so the
# committed corpus never changes; a crash input is printed in base64.
set -u
exe=$1 name=${2#fuzz_} dir=$3 secs=${LBS_FUZZ_SECONDS:-30}
# In memory when there is no TMPDIR: the stores' commits fsync.
base=${TMPDIR:-}
[ -z "$base" ] && { [ -w /dev/shm ] && base=/dev/shm || base=/tmp; }
work=$(mktemp -d "$base/lbsched-smoke.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
mkdir "$work/new"
export TMPDIR=$work

show_crashes() {
	for f in "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-*; do
		[ -f "$f" ] || continue
		echo "== $(basename "$f") (base64):"
		base64 "$f"
	done
}

if [ -d "$dir/regress/$name" ]; then
	echo "== replaying $dir/regress/$name"
	"$exe" -artifact_prefix="$work/" "$dir/regress/$name"/* || { show_crashes; exit 1; }
fi
case $name in
workload | fleet | jsonl) d=convert ;;
config_*) d=config ;;
*) d=$name ;;
esac
dict=()
[ -f "$dir/dict/$d.dict" ] && dict=(-dict="$dir/dict/$d.dict")
corpus=()
[ -d "$dir/corpus/$name" ] && corpus=("$dir/corpus/$name")
echo "== corpus and $secs s of fuzzing"
"$exe" -max_total_time="$secs" -timeout=60 -rss_limit_mb=2048 -print_final_stats=1 \
	"${dict[@]}" -artifact_prefix="$work/" "$work/new" "${corpus[@]}" ||
	{ show_crashes; exit 1; }
