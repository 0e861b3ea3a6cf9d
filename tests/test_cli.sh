#!/usr/bin/env bash
# test_cli.sh -- lbsched-shim as a user runs it: exit codes, output lines and
# one-line errors that name the file, field and problem.
set -u
shim=${LBS_SHIM:?run through meson test}
plugin=${LBS_PLUGIN:?}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0

ok()   { pass=$((pass + 1)); }
bad()  { fail=$((fail + 1)); echo "FAIL: $*" >&2; }
# expect_rc RC CMD...: run, keep stdout/stderr in $tmp/out, $tmp/err
expect_rc() {
	local want=$1; shift
	"$@" >"$tmp/out" 2>"$tmp/err"
	local got=$?
	if [ "$got" = "$want" ]; then ok; else bad "exit $got, expected $want: $*"; cat "$tmp/err" >&2; fi
}
has()   { if grep -qF -- "$2" "$1"; then ok; else bad "$1 lacks '$2'"; sed 's/^/    /' "$1" >&2; fi; }
lacks() { if grep -qF -- "$2" "$1"; then bad "$1 has '$2'"; else ok; fi; }
lines() { local n; n=$(grep -c . "$1"); if [ "$n" = "$2" ]; then ok; else bad "$1 has $n lines, expected $2"; fi; }

cat >"$tmp/fleet.json" <<'JSON'
{"workers": [
 {"worker_id": "cpu_1", "cpu_cores": 16, "available_memory": 64, "supported_backends": ["cpu", "pytorch"]},
 {"worker_id": "gpu_1", "cpu_cores": 8, "available_memory": 64, "supported_backends": ["cuda", "pytorch"], "has_gpu": true,
  "available_accelerators": {"gpu": 1}},
 {"worker_id": "cpu_2", "cpu_cores": 16, "available_memory": 64, "supported_backends": ["cpu"]}
]}
JSON
cat >"$tmp/tests.jsonl" <<'JSON'
{"test_id": "t1", "test_type": "vision_classification", "minimum_memory": 2, "required_backend": "CUDA"}
{"test_id": "t2", "test_type": "nlp", "minimum_memory": 2}

{"test_id": "t3", "test_type": "nlp", "minimum_memory": 5000}
{"test_id": "t4", "test_type": "nlp", "required_accelerators": {"tpu": 1}}
JSON

# check
expect_rc 0 "$shim" check "$plugin"
has "$tmp/out" "abi: 1.0"
has "$tmp/out" "round-robin"
has "$tmp/out" "priority"
expect_rc 2 "$shim" check "$LBS_V2_PLUGIN"
has "$tmp/err" "refused"
has "$tmp/err" "ABI 2.x"
expect_rc 0 "$shim" check "$LBS_OLD_PLUGIN"
has "$tmp/out" "first-fit"

# decide: one line per test, blank lines skipped, right workers
for sched in round-robin priority; do
	expect_rc 0 "$shim" decide --plugin "$plugin" --scheduler $sched --workers "$tmp/fleet.json" --tests "$tmp/tests.jsonl"
	lines "$tmp/out" 4
	has "$tmp/out" '{"test_id":"t1","status":"ok","workers":["gpu_1"]'
	has "$tmp/out" '{"test_id":"t3","status":"no_worker","workers":[]'
	has "$tmp/out" '{"test_id":"t4","status":"no_worker","workers":[]'
done
# default plugin (built alongside) and stdin
expect_rc 0 "$shim" decide --scheduler round-robin --workers "$tmp/fleet.json" <"$tmp/tests.jsonl"
lines "$tmp/out" 4
# explain adds an object
expect_rc 0 "$shim" decide --scheduler priority --workers "$tmp/fleet.json" --tests "$tmp/tests.jsonl" --explain
has "$tmp/out" '"explain":{'
# the old plugin through decide
expect_rc 0 "$shim" decide --plugin "$LBS_OLD_PLUGIN" --scheduler first-fit --workers "$tmp/fleet.json" --tests "$tmp/tests.jsonl"
has "$tmp/out" '"test_id":"t2","status":"ok","workers":["cpu_1"]'

# refused plugin: exit 2
expect_rc 2 "$shim" decide --plugin "$LBS_V2_PLUGIN" --workers "$tmp/fleet.json" --tests "$tmp/tests.jsonl"
has "$tmp/err" "ABI 2.x"

# bad input: exit 1 with file, field and problem
printf '[{"worker_id": "w", "cpu_cores": 4' >"$tmp/broken.json"
expect_rc 1 "$shim" decide --workers "$tmp/broken.json" --tests "$tmp/tests.jsonl"
has "$tmp/err" "broken.json"
has "$tmp/err" "not valid JSON"
echo '[]' >"$tmp/empty.json"
expect_rc 1 "$shim" decide --workers "$tmp/empty.json" --tests "$tmp/tests.jsonl"
has "$tmp/err" "empty.json: the fleet has no workers"
echo '[{"worker_id": "w", "cpu_cores": "eight"}]' >"$tmp/types.json"
expect_rc 1 "$shim" decide --workers "$tmp/types.json" --tests "$tmp/tests.jsonl"
has "$tmp/err" "types.json"
has "$tmp/err" "cpu_cores"
echo '[{"worker_id": "w", "cpu_cores": 4, "available_memory": -3}]' >"$tmp/neg.json"
expect_rc 1 "$shim" decide --workers "$tmp/neg.json" --tests "$tmp/tests.jsonl"
has "$tmp/err" "available_memory"
cat >"$tmp/badtests.jsonl" <<'JSON'
{"test_id": "ok1", "minimum_memory": 1}
{"test_id": "neg", "minimum_memory": -1}
{"test_id": "huge", "minimum_memory": 1e999}
{"test_id": "prio", "priority": 9}
{"test_id": "alloc", "custom_properties": {"allocation_strategy": "scattered"}}
not json at all
{"test_id": "ok2", "minimum_memory": 1}
JSON
expect_rc 1 "$shim" decide --scheduler round-robin --workers "$tmp/fleet.json" --tests "$tmp/badtests.jsonl"
lines "$tmp/out" 2
has "$tmp/out" '"test_id":"ok1"'
has "$tmp/out" '"test_id":"ok2"'
has "$tmp/err" "badtests.jsonl:2: field 'minimum_memory'"
has "$tmp/err" "badtests.jsonl:3: field 'minimum_memory'"
has "$tmp/err" "badtests.jsonl:4: field 'priority'"
has "$tmp/err" "badtests.jsonl:5: field 'custom_properties.allocation_strategy'"
has "$tmp/err" "badtests.jsonl:6: not a JSON object"
# unknown taxonomy name: a warning, and it never matches
echo '{"test_id": "u", "required_backend": "warpdrive"}' >"$tmp/unknown.jsonl"
expect_rc 0 "$shim" decide --scheduler round-robin --workers "$tmp/fleet.json" --tests "$tmp/unknown.jsonl"
has "$tmp/err" "warpdrive"
has "$tmp/out" '"status":"no_worker"'
# bad scheduler config names the file and the field
echo '{"load_ceiling": -1}' >"$tmp/cfg.json"
expect_rc 1 "$shim" decide --scheduler round-robin --config "$tmp/cfg.json" --workers "$tmp/fleet.json" --tests "$tmp/tests.jsonl"
has "$tmp/err" "cfg.json"
has "$tmp/err" "load_ceiling"
# unknown scheduler and missing options
expect_rc 1 "$shim" decide --scheduler nope --workers "$tmp/fleet.json" --tests "$tmp/tests.jsonl"
has "$tmp/err" "no scheduler named 'nope'"
expect_rc 1 "$shim" decide --tests "$tmp/tests.jsonl"
has "$tmp/err" "--workers FILE is required"
expect_rc 1 "$shim" decide --workers "$tmp/missing.json"
has "$tmp/err" "missing.json: cannot open"

echo "test_cli: $((pass + fail)) checks, $fail failed"
[ "$fail" = 0 ]
