#!/usr/bin/env bash
# test_cli.sh -- lbsched-shim as a user runs it: exit codes, output lines and
# one-line errors that name the file, field and problem.
set -u
shim=${LBS_SHIM:?run through meson test}
plugin=${LBS_PLUGIN:?}
. "${LBS_SRCDIR:?}/tests/testlib.sh"

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
has "$tmp/out" "abi: 1.1"
has "$tmp/out" "round-robin"
has "$tmp/out" "priority"
expect_rc 2 "$shim" check "$LBS_V2_PLUGIN"
has "$tmp/err" "refused"
has "$tmp/err" "ABI 2.x"
expect_rc 0 "$shim" check "$LBS_OLD_PLUGIN"
has "$tmp/out" "first-fit"
# A bare file name loads the file in the current directory that was checked,
# not one dlopen() would find on the library path (SECURITY.md F7).
mkdir "$tmp/bare" && cp "$LBS_OLD_PLUGIN" "$tmp/bare/lbsched.so"
(cd "$tmp/bare" && expect_rc 0 "$shim" check lbsched.so && has "$tmp/out" "first-fit"; echo "$pass $fail" >"$tmp/counts")
read -r pass fail <"$tmp/counts"

# decide: one line per test, blank lines skipped, right workers
for sched in round-robin priority weighted-round-robin performance affinity adaptive; do
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
# A file over 256 MiB is refused, not read whole (SECURITY.md F3); a sparse
# one costs no disk.  Exactly 256 MiB is read (NUL bytes: no document).
truncate -s $((256 << 20)) "$tmp/huge.json"
expect_rc 1 "$shim" decide --workers "$tmp/huge.json" --tests "$tmp/tests.jsonl"
has "$tmp/err" "huge.json: is empty"
truncate -s $(((256 << 20) + 1)) "$tmp/huge.json"
expect_rc 1 "$shim" decide --workers "$tmp/huge.json" --tests "$tmp/tests.jsonl"
has "$tmp/err" "huge.json: larger than 256 MiB, the most lbsched reads"
lines "$tmp/err" 1
rm -f "$tmp/huge.json"

# prefs and --feedback (issue 4): the learned store through the CLI.
# sum_samples FILE: the total of "samples" over an export.
sum_samples() { grep -o '"samples": *[0-9]*' "$1" | awk -F: '{s += $2} END {print s + 0}'; }
records() { grep -c '"workload_type"' "$1"; }
db1=$tmp/db1 db2=$tmp/db2
printf '{"store": {"path": "%s"}}\n' "$db1" >"$tmp/store.json"
# decide --feedback: decisions as usual, then the outcomes are learned
expect_rc 0 "$shim" decide --config "$tmp/store.json" --workers "$LBS_SRCDIR/examples/fleet.json" \
	--tests "$LBS_SRCDIR/examples/tests.jsonl" --feedback "$LBS_SRCDIR/examples/outcomes.jsonl"
has "$tmp/out" '"test_id":"vision_resnet50_001"'
expect_rc 0 "$shim" prefs export --db "$db1"
cp "$tmp/out" "$tmp/e1.json"
has "$tmp/e1.json" '"schema":2'
has "$tmp/e1.json" '"workload_type":"VISION","worker":"gpu_a100_1","samples":1,"successes":1,"failures":0'
has "$tmp/e1.json" '"workload_type":"NLP","worker":"gpu_a100_1","samples":1,"successes":0,"failures":1'
has "$tmp/e1.json" '"workload_type":"AUDIO","worker":"mac_m2_studio","samples":1,"successes":0,"failures":1'
has "$tmp/e1.json" '"worker":"cpu_xeon_1"'
has "$tmp/e1.json" '"worker":"tpu_v4_host_1"'
has "$tmp/e1.json" '"worker":"gpu_p100_legacy_1"'
n=$(sum_samples "$tmp/e1.json"); [ "$n" = 8 ] && ok || bad "export of the feedback has $n samples, expected 8"
# the feedback again: every record counts twice
expect_rc 0 "$shim" decide --config "$tmp/store.json" --workers "$LBS_SRCDIR/examples/fleet.json" \
	--tests "$LBS_SRCDIR/examples/tests.jsonl" --feedback "$LBS_SRCDIR/examples/outcomes.jsonl"
expect_rc 0 "$shim" prefs export --db "$db1"
cp "$tmp/out" "$tmp/e1.json"
n=$(sum_samples "$tmp/e1.json"); [ "$n" = 16 ] && ok || bad "after two feedbacks $n samples, expected 16"
# a broken outcome line names the file and line
printf '{"worker_id": "gpu_a100_1", "success": true, "duration": 1, "test_type": "vision"}\n{"worker_id": "x", "duration": -4, "success": true}\nnot json\n' >"$tmp/badout.jsonl"
expect_rc 1 "$shim" decide --config "$tmp/store.json" --workers "$LBS_SRCDIR/examples/fleet.json" \
	--tests "$LBS_SRCDIR/examples/tests.jsonl" --feedback "$tmp/badout.jsonl"
has "$tmp/err" "badout.jsonl:2"
has "$tmp/err" "duration"
has "$tmp/err" "badout.jsonl:3"
# dump: a table
expect_rc 0 "$shim" prefs dump --db "$db1"
has "$tmp/out" "gpu_a100_1"
has "$tmp/out" "mac_m2_studio"
# export -> import into another (empty) directory -> the same export
mkdir "$db2"
expect_rc 0 "$shim" prefs import --db "$db2" "$tmp/e1.json"
expect_rc 0 "$shim" prefs export --db "$db2"
if cmp -s "$tmp/e1.json" "$tmp/out"; then ok; else bad "export/import/export differs"; diff "$tmp/e1.json" "$tmp/out" >&2; fi
# a malformed import: exit 1, names record and field, nothing changes
sed '0,/"samples":/s/"samples":/"samples":-/' "$tmp/e1.json" >"$tmp/neg.json"
has "$tmp/neg.json" '"samples":-2,'
expect_rc 1 "$shim" prefs import --db "$db2" "$tmp/neg.json"
has "$tmp/err" "samples"
has "$tmp/err" "records["
printf '{"schema":1,"records":[{"workload_type":"VISION","worker":"gpu_a100_1"' >"$tmp/cut.json"
expect_rc 1 "$shim" prefs import --db "$db2" --replace "$tmp/cut.json"
has "$tmp/err" "cut.json"
expect_rc 0 "$shim" prefs export --db "$db2"
if cmp -s "$tmp/e1.json" "$tmp/out"; then ok; else bad "a refused import changed the store"; fi
# --replace: exactly the document
printf '{"schema":1,"records":[{"workload_type":"AUDIO","worker":"mic-1","samples":2,"successes":2,"failures":0,"preference":0.9,"mean_duration":1,"var_duration":0,"last_update":1700000000}]}\n' >"$tmp/one.json"
expect_rc 0 "$shim" prefs import --db "$db2" --replace "$tmp/one.json"
expect_rc 0 "$shim" prefs export --db "$db2"
has "$tmp/out" '"worker":"mic-1","samples":2'
n=$(records "$tmp/out"); [ "$n" = 1 ] && ok || bad "after --replace $n records, expected 1"
# reset: nothing learned, the schema stays
expect_rc 0 "$shim" prefs reset --db "$db2"
expect_rc 0 "$shim" prefs export --db "$db2"
has "$tmp/out" '"schema":2'
n=$(records "$tmp/out"); [ "$n" = 0 ] && ok || bad "after reset $n records, expected 0"
# usage errors and a store that is not one
expect_rc 1 "$shim" prefs export
has "$tmp/err" "--db"
expect_rc 1 "$shim" prefs frobnicate --db "$db2"
mkdir -p "$tmp/db3" && yes 'not an LMDB file' | head -c 16384 >"$tmp/db3/data.mdb"
expect_rc 1 "$shim" prefs export --db "$tmp/db3"
has "$tmp/err" "db3"
has "$tmp/err" "damaged"

# routing by test type (issue 5): vision_* to hardware-aware, the rest to
# the default; the reason names the scheduler that decided
cat >"$tmp/routes.json" <<'JSON'
{"routes": [{"prefix": "vision_", "scheduler": "hardware-aware"},
            {"test_type": "nlp_special", "scheduler": "priority"}],
 "default": {"scheduler": "round-robin"}}
JSON
expect_rc 0 "$shim" decide --routes "$tmp/routes.json" --workers "$tmp/fleet.json" --tests "$tmp/tests.jsonl" --independent
lines "$tmp/out" 4
has "$tmp/out" '{"test_id":"t1","status":"ok","workers":["gpu_1"],"reason":"hardware-aware: '
has "$tmp/out" '{"test_id":"t2","status":"ok","workers":["cpu_1"],"reason":"round-robin: '
# without "default" in the document, --scheduler / --config are the default
echo '{"routes": [{"prefix": "vision_", "scheduler": "hardware-aware"}]}' >"$tmp/routes2.json"
expect_rc 0 "$shim" decide --routes "$tmp/routes2.json" --scheduler priority --workers "$tmp/fleet.json" --tests "$tmp/tests.jsonl"
has "$tmp/out" '"test_id":"t2","status":"ok","workers":["cpu_1"],"reason":"priority 3'
# the same document as a composite's config routes inside the plugin
expect_rc 0 "$shim" decide --scheduler composite --config "$tmp/routes.json" --workers "$tmp/fleet.json" --tests "$tmp/tests.jsonl" --independent --explain
has "$tmp/out" '"workers":["gpu_1"],"reason":"composite route prefix '"'"'vision_'"'"' -> hardware-aware: '
has "$tmp/out" '"reason":"composite route default -> round-robin: '
has "$tmp/out" '"mode":"route"'
# a blend with a third party's voting child, from its own plugin
cat >"$tmp/blend.json" <<JSON
{"children": [{"scheduler": "hardware-aware", "weight": 0.4},
              {"scheduler": "org.example.voter", "plugin": "$LBS_VOTER_PLUGIN", "weight": 0.6,
               "config": {"prefer": "cpu_2"}}]}
JSON
expect_rc 0 "$shim" decide --scheduler composite --config "$tmp/blend.json" --workers "$tmp/fleet.json" --tests "$tmp/tests.jsonl" --independent
has "$tmp/out" '{"test_id":"t1","status":"ok","workers":["gpu_1"]'
has "$tmp/out" '{"test_id":"t2","status":"ok","workers":["cpu_2"],"reason":"composite: blend'
# bad routing documents and composite configs: one line naming file and field
echo '{"routes": [{"prefix": "", "scheduler": "priority"}], "default": {"scheduler": "priority"}}' >"$tmp/badroutes.json"
expect_rc 1 "$shim" decide --routes "$tmp/badroutes.json" --workers "$tmp/fleet.json" --tests "$tmp/tests.jsonl"
has "$tmp/err" "badroutes.json: field 'routes[0].prefix': must be a non-empty string"
echo '{"routes": [{"prefix": "v", "scheduler": "nope"}], "default": {"scheduler": "priority"}}' >"$tmp/badroutes.json"
expect_rc 1 "$shim" decide --routes "$tmp/badroutes.json" --workers "$tmp/fleet.json" --tests "$tmp/tests.jsonl"
has "$tmp/err" "badroutes.json: field 'routes[0]': "
has "$tmp/err" "no scheduler named 'nope'"
expect_rc 1 "$shim" decide --routes "$tmp/missing-routes.json" --workers "$tmp/fleet.json" --tests "$tmp/tests.jsonl"
has "$tmp/err" "missing-routes.json: cannot open"
echo '{"children": [{"scheduler": "priority", "weight": -1}]}' >"$tmp/badblend.json"
expect_rc 1 "$shim" decide --scheduler composite --config "$tmp/badblend.json" --workers "$tmp/fleet.json" --tests "$tmp/tests.jsonl"
has "$tmp/err" "badblend.json: scheduler 'composite': config field 'children[0].weight': must be a number in 0..1000000, got -1"
lines "$tmp/err" 1

finish test_cli
