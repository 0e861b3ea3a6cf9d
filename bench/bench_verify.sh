#!/usr/bin/env bash
# bench_verify.sh SHIM PLUGIN [N] -- what verifying a store costs a process that opens it
# (docs/STORE.md, "Verification").
#
# A store of N learned records (default 100,000) is made by `prefs import`. Then, each in a
# fresh process (a process verifies a file once), `prefs dump` opens it: the forked child
# reads every page and record, then the host reads the store and prints every record. The
# reference run is `mdb_dump` (lmdb-utils) of the same file: a bare read of every record by
# LMDB's own tool. Best of 5 each, wall time.
set -u
shim=$1 plugin=$2 n=${3:-100000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

python3 - "$n" >"$tmp/doc.json" <<'PY'
import json, sys
n = int(sys.argv[1])
types = ["MIXED", "VISION", "NLP", "AUDIO", "MULTIMODAL", "TRAINING", "INFERENCE",
         "EMBEDDING", "CONVERSATIONAL"]
recs = []
for i in range(n):
    recs.append({"workload_type": types[i % len(types)], "worker": "w%06d" % (i // len(types)),
                 "samples": 3, "successes": 2, "failures": 1, "preference": 0.6,
                 "mean_duration": 12.5, "var_duration": 1.0, "last_update": 1.0e9,
                 "ratio_n": 0, "log_ratio_mean": 0, "log_ratio_var": 0})
json.dump({"schema": 2, "records": recs}, sys.stdout)
PY
"$shim" prefs import --plugin "$plugin" --db "$tmp/s" "$tmp/doc.json" >/dev/null ||
	{ echo "bench_verify: prefs import failed" >&2; exit 1; }

best() { # best wall time in ms of 5 runs of the command
	python3 - "$@" <<'PY'
import subprocess, sys, time
t = []
for _ in range(5):
    t0 = time.perf_counter()
    subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    t.append((time.perf_counter() - t0) * 1000)
print("%.1f" % min(t))
PY
}
dump=$(best "$shim" prefs dump --plugin "$plugin" --db "$tmp/s") || exit 1
ref=$(best mdb_dump -a "$tmp/s") || exit 1
size=$(stat -c %s "$tmp/s/data.mdb")
echo "store of $n records, data.mdb $size bytes"
printf '%-44s %10s ms\n' "prefs dump (verify in a child, then read)" "$dump"
printf '%-44s %10s ms\n' "mdb_dump -a (reference: a bare read)" "$ref"
python3 -c "import sys; print('ratio to the bare read: %.2fx' % (float(sys.argv[1]) / float(sys.argv[2])))" "$dump" "$ref"
