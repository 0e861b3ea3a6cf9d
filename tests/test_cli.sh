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
has "$tmp/out" "abi: 1.2"
has "$tmp/out" "round-robin"
has "$tmp/out" "priority"
# one column for the descriptions: at 16 wide, weighted-round-robin's
# started a column later than the others'
python3 - "$tmp/out" <<'PY' && ok || bad "check's descriptions do not start in one column: $(cat "$tmp/out")"
import sys
rows = [l for l in open(sys.argv[1]).read().split("schedulers:\n", 1)[1].splitlines() if l.startswith("  ")]
names = [l.split()[0] for l in rows]
cols = {len(l) - len(l[2 + len(n):].lstrip(" ")) for l, n in zip(rows, names)}
sys.exit(0 if "weighted-round-robin" in names and len(cols) == 1 else 1)
PY
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
# standard input is answered as it comes: the first test's decision is out
# while the stream is still open (it waited for the end of the input)
mkfifo "$tmp/live"
"$shim" decide --scheduler round-robin --workers "$tmp/fleet.json" <"$tmp/live" >"$tmp/live.out" 2>"$tmp/live.err" &
live=$!
exec 7>"$tmp/live"
# a blank first line was a NULL write (the buffer not made yet)
printf '\n{"test_id": "first", "minimum_memory": 1}\n' >&7
first_out() { grep -q '"test_id":"first","status":"ok"' "$tmp/live.out"; }
until_ok 20 first_out && ok || bad "decide held the first decision until its input ended"
# the last line without its newline is a line too
printf '{"test_id": "second"}\n\n{"test_id": "third"}' >&7
exec 7>&-
wait "$live"
eq "decide on a live stream: exit status" "$?" 0
lines "$tmp/live.out" 3
has "$tmp/live.out" '"test_id":"third","status":"ok"'
lines "$tmp/live.err" 0
# refused whole, as a file is, not line by line: a byte order mark, UTF-16
printf '\xef\xbb\xbf{"test_id": "a"}\n{"test_id": "b"}\n' >"$tmp/bom.jsonl"
expect_rc 1 "$shim" decide --scheduler round-robin --workers "$tmp/fleet.json" <"$tmp/bom.jsonl"
lines "$tmp/out" 0
eq "a byte order mark on standard input" "$(cat "$tmp/err")" "lbsched-shim: <stdin>: starts with a UTF-8 byte order mark (EF BB BF); save it as UTF-8 without one"
python3 -c 'import sys; sys.stdout.buffer.write("{\"test_id\": \"a\"}\n{\"test_id\": \"b\"}\n".encode("utf-16"))' >"$tmp/u16.jsonl"
expect_rc 1 "$shim" decide --scheduler round-robin --workers "$tmp/fleet.json" <"$tmp/u16.jsonl"
lines "$tmp/out" 0
eq "UTF-16 on standard input" "$(cat "$tmp/err")" "lbsched-shim: <stdin>: is UTF-16 (it starts with a byte order mark); save it as UTF-8"
# explain adds an object
expect_rc 0 "$shim" decide --scheduler priority --workers "$tmp/fleet.json" --tests "$tmp/tests.jsonl" --explain
has "$tmp/out" '"explain":{'
# the old plugin through decide
expect_rc 0 "$shim" decide --plugin "$LBS_OLD_PLUGIN" --scheduler first-fit --workers "$tmp/fleet.json" --tests "$tmp/tests.jsonl"
has "$tmp/out" '"test_id":"t2","status":"ok","workers":["cpu_1"]'
# a plugin whose entry symbol is the struct itself: refused, not called
expect_rc 2 "$shim" check "$LBS_DATA_ENTRY_PLUGIN"
has "$tmp/err" "$LBS_DATA_ENTRY_PLUGIN: refused: its lbs_plugin_entry_v1 is data, not a function; export const lbs_plugin_entry *lbs_plugin_entry_v1(void)"
# a plugin whose extensions have NULL slots: refused by name (they were
# called: a crash)
mkdir -p "$tmp/nullext"
expect_rc 1 "$shim" prefs export --db "$tmp/nullext" --plugin "$LBS_RUDE_EXT_PLUGIN"
has "$tmp/err" "$LBS_RUDE_EXT_PLUGIN: its extension lbs.ext.store/1 has no export_json: it cannot do prefs export"
echo '{"store": {"path": "'"$tmp"'/nullext", "fleet": {"address": "127.0.0.1:1"}}}' >"$tmp/nullext.json"
expect_rc 1 "$shim" prefs sync --redis "$tmp/nullext.json" --plugin "$LBS_RUDE_EXT_PLUGIN"
has "$tmp/err" "$LBS_RUDE_EXT_PLUGIN: its extension lbs.ext.fleet/1 has no sync: it cannot do prefs sync"
# ... as a composite's child the blend overrules: the composite told it
# through its report slot, which 1.0's 56-byte descriptor does not have
# (the bytes past it were called: a crash)
printf '{"children": [{"scheduler": "hardware-aware", "weight": 0.9}, {"scheduler": "first-fit", "plugin": "%s", "weight": 0.1}]}\n' "$LBS_OLD_PLUGIN" >"$tmp/oldchild.json"
expect_rc 0 "$shim" decide --scheduler composite --config "$tmp/oldchild.json" --workers "$LBS_SRCDIR/examples/fleet.json" --tests "$LBS_SRCDIR/examples/tests.jsonl"
n=$(grep -c '"status":"ok"' "$tmp/out"); [ "$n" -ge 3 ] && ok || bad "a composite with a 1.0 child answered $n tests: $(head -c 300 "$tmp/err")"

# refused plugin: exit 2
expect_rc 2 "$shim" decide --plugin "$LBS_V2_PLUGIN" --workers "$tmp/fleet.json" --tests "$tmp/tests.jsonl"
has "$tmp/err" "ABI 2.x"
# ... named by a composite's child as well
printf '{"children": [{"scheduler": "round-robin"}, {"scheduler": "x", "plugin": "%s"}]}' \
	"$LBS_V2_PLUGIN" >"$tmp/v2child.json"
expect_rc 2 "$shim" decide --scheduler composite --config "$tmp/v2child.json" --workers "$tmp/fleet.json" --tests "$tmp/tests.jsonl"
has "$tmp/err" "lbsched-shim: $tmp/v2child.json: scheduler 'composite': config field 'children[1]': "
has "$tmp/err" "ABI 2.x"

# bad input: exit 1 with file, field and problem
printf '[{"worker_id": "w", "cpu_cores": 4' >"$tmp/broken.json"
expect_rc 1 "$shim" decide --workers "$tmp/broken.json" --tests "$tmp/tests.jsonl"
# cut short: what is still open, not only where the parser stopped
has "$tmp/err" "broken.json: not valid JSON: it ends at byte 34 with the '{' at byte 1 still open"
lines "$tmp/err" 1
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
has "$tmp/err" "badtests.jsonl:6: not valid JSON near byte 0"
# unknown taxonomy name: a warning, and it never matches
echo '{"test_id": "u", "required_backend": "warpdrive"}' >"$tmp/unknown.jsonl"
expect_rc 0 "$shim" decide --scheduler round-robin --workers "$tmp/fleet.json" --tests "$tmp/unknown.jsonl"
has "$tmp/err" "warpdrive"
has "$tmp/out" '"status":"no_worker"'
# ABI 1.1 through every scheduler of the plugin: a backend outside the
# taxonomy is placed only on the worker that lists it (by backend or by
# software), and accelerators all reserved leave GPU work no worker
cat >"$tmp/named.json" <<'JSON'
[{"worker_id": "cpu_a", "cpu_cores": 16, "available_memory": 64, "supported_backends": ["cpu"]},
 {"worker_id": "jax_box", "cpu_cores": 4, "available_memory": 64, "supported_backends": ["cpu", "JAX"]},
 {"worker_id": "cpu_b", "cpu_cores": 16, "available_memory": 64, "supported_backends": ["cpu"],
  "software_versions": {"flax": "0.8"}},
 {"worker_id": "gpu_r1", "cpu_cores": 8, "available_memory": 64, "supported_backends": ["cuda"],
  "available_accelerators": {"gpu": 1}, "load": {"reserved_accelerators": {"gpu": 1}}},
 {"worker_id": "gpu_r2", "cpu_cores": 8, "available_memory": 64, "supported_backends": ["cuda"],
  "available_accelerators": {"gpu": 1}, "load": {"reserved_accelerators": {"GPU": 1}}}]
JSON
sed 's/"reserved_accelerators": {"[gG][pP][uU]": 1}/"reserved_accelerators": {}/' "$tmp/named.json" >"$tmp/free.json"
cat >"$tmp/named.jsonl" <<'JSON'
{"test_id": "j1", "required_backend": "jax"}
{"test_id": "j2", "required_backend": "Jax", "test_type": "training"}
{"test_id": "j3", "required_software": {"jax": "0.4"}}
{"test_id": "f1", "required_software": {"flax": "0.8"}}
{"test_id": "g1", "required_accelerators": {"gpu": 1}}
JSON
echo '{"children": [{"scheduler": "hardware-aware", "weight": 0.6},
 {"scheduler": "priority", "weight": 0.3}, {"scheduler": "round-robin", "weight": 0.1}]}' >"$tmp/mix.json"
echo '{}' >"$tmp/none.json"
for sched in round-robin priority hardware-aware composite; do
	cfg=$tmp/none.json
	[ $sched = composite ] && cfg=$tmp/mix.json
	expect_rc 0 "$shim" decide --scheduler $sched --config "$cfg" --workers "$tmp/named.json" --tests "$tmp/named.jsonl"
	lines "$tmp/out" 5
	has "$tmp/out" '{"test_id":"j1","status":"ok","workers":["jax_box"]'
	has "$tmp/out" '{"test_id":"j2","status":"ok","workers":["jax_box"]'
	has "$tmp/out" '{"test_id":"j3","status":"ok","workers":["jax_box"]'
	has "$tmp/out" '{"test_id":"f1","status":"ok","workers":["cpu_b"]'
	has "$tmp/out" '{"test_id":"g1","status":"no_worker","workers":[]'
	expect_rc 0 "$shim" decide --scheduler $sched --config "$cfg" --workers "$tmp/free.json" --tests "$tmp/named.jsonl"
	has "$tmp/out" '{"test_id":"g1","status":"ok"'
done
# the reason names what is missing
expect_rc 0 "$shim" decide --scheduler hardware-aware --workers "$tmp/named.json" --tests "$tmp/named.jsonl" --explain
has "$tmp/out" 'lacks a required backend (needs jax)'
has "$tmp/out" 'lacks a required accelerator (needs 1 gpu, has 0 free)'
# capacity defaults from the accelerators: an 8-GPU host running one test has
# 7 slots free, so it is not charged a whole run's wait and keeps the work
# from an idle T4
cat >"$tmp/cap.json" <<'JSON'
[{"worker_id": "a100x8", "cpu_cores": 64, "available_memory": 512, "supported_backends": ["cuda", "pytorch"],
  "available_accelerators": {"gpu": 8}, "load": {"active_tests": 1},
  "hardware_specs": {"gpu_memory_gb": 80, "gpu_compute_units": 108, "gpu_clock_mhz": 1410, "gpu_tensor_cores": true}},
 {"worker_id": "t4", "cpu_cores": 8, "available_memory": 32, "supported_backends": ["cuda", "pytorch"],
  "available_accelerators": {"gpu": 1},
  "hardware_specs": {"gpu_memory_gb": 16, "gpu_compute_units": 40, "gpu_clock_mhz": 1590}}]
JSON
echo '{"test_id": "v", "test_type": "vision_classification", "expected_duration": 60, "required_accelerators": {"gpu": 1}}' >"$tmp/cap.jsonl"
expect_rc 0 "$shim" decide --scheduler hardware-aware --workers "$tmp/cap.json" --tests "$tmp/cap.jsonl"
has "$tmp/out" '{"test_id":"v","status":"ok","workers":["a100x8"]'
# ... unless the record says it runs one at a time
sed 's/"available_accelerators": {"gpu": 8},/& "capacity": 1,/' "$tmp/cap.json" >"$tmp/cap1.json"
expect_rc 0 "$shim" decide --scheduler hardware-aware --workers "$tmp/cap1.json" --tests "$tmp/cap.jsonl"
has "$tmp/out" '{"test_id":"v","status":"ok","workers":["t4"]'
# the original's own accelerator kind "cuda" keeps the work on the GPU it
# counts as (it named no class, and the test was scored on a big host CPU)
cat >"$tmp/cudakind.json" <<'JSON'
[{"worker_id": "bigcpu", "supported_backends": ["cpu", "cuda"], "available_memory": 64, "cpu_cores": 256,
  "available_accelerators": {"cuda": 1}, "hardware_specs": {"gpu_compute_units": 10}},
 {"worker_id": "gpubox", "supported_backends": ["cpu", "cuda"], "available_memory": 64, "cpu_cores": 4,
  "available_accelerators": {"cuda": 1}, "hardware_specs": {"gpu_compute_units": 40}}]
JSON
echo '{"test_id": "k", "test_type": "vision_classification", "minimum_memory": 2, "expected_duration": 300, "required_accelerators": {"cuda": 1}}' >"$tmp/cudakind.jsonl"
expect_rc 0 "$shim" decide --scheduler hardware-aware --workers "$tmp/cudakind.json" --tests "$tmp/cudakind.jsonl"
has "$tmp/out" '{"test_id":"k","status":"ok","workers":["gpubox"]'
# a reservation past what the worker has (the original's over-commit,
# seed-behaviour F11): a warning naming file, worker and field, the worker
# full, and the fleet's other workers decide (it was refused, and the whole
# fleet with it)
sed 's/"reserved_accelerators": {"gpu": 1}/"reserved_accelerators": {"gpu": 2}/' "$tmp/named.json" >"$tmp/overres.json"
expect_rc 0 "$shim" decide --scheduler round-robin --workers "$tmp/overres.json" --tests "$tmp/named.jsonl"
has "$tmp/err" "overres.json: workers[3]: field 'load.reserved_accelerators.gpu': reserves 2, more than the 1 the worker has: taken as all of them"
grep -q '"status":"ok"' "$tmp/out" && ok || bad "a fleet with an over-reserved worker decided nothing: $(cat "$tmp/out")"
# bad scheduler config names the file and the field
echo '{"load_ceiling": -1}' >"$tmp/cfg.json"
expect_rc 1 "$shim" decide --scheduler round-robin --config "$tmp/cfg.json" --workers "$tmp/fleet.json" --tests "$tmp/tests.jsonl"
has "$tmp/err" "cfg.json"
has "$tmp/err" "load_ceiling"
# an empty config is a mistake, not the defaults no config gives
printf ' \n' >"$tmp/blank.json"
expect_rc 1 "$shim" decide --scheduler round-robin --config "$tmp/blank.json" --workers "$tmp/fleet.json" --tests "$tmp/tests.jsonl"
has "$tmp/err" "blank.json: is empty (expected a JSON object)"
lines "$tmp/err" 1
# "\u0000" in an id would cut it short, to another worker's id: refused,
# named by file (and line); an escaped backslash before "u0000" is no NUL
printf '[{"worker_id": "a\\u0000b", "available_memory": 8, "cpu_cores": 4}]' >"$tmp/nulid.json"
expect_rc 1 "$shim" decide --scheduler round-robin --workers "$tmp/nulid.json" --tests "$tmp/tests.jsonl"
has "$tmp/err" "nulid.json: field '[0].worker_id': a string holds \\u0000 (a NUL character) at byte 17"
lines "$tmp/err" 1
# a number JSON refuses, which cJSON would read as another: refused by its field
printf '[{"worker_id": "a", "available_memory": 08, "cpu_cores": 4}]' >"$tmp/zero.json"
expect_rc 1 "$shim" decide --scheduler round-robin --workers "$tmp/zero.json" --tests "$tmp/tests.jsonl"
has "$tmp/err" "zero.json: field '[0].available_memory': 08 at byte 40 is not a JSON number (no leading zeros, a digit after the point)"
lines "$tmp/err" 1
printf '{"test_id": "t\\u0000x", "minimum_memory": 1}\n' >"$tmp/nulid.jsonl"
expect_rc 1 "$shim" decide --scheduler round-robin --workers "$tmp/fleet.json" --tests "$tmp/nulid.jsonl"
has "$tmp/err" "nulid.jsonl:1: field 'test_id': a string holds \\u0000 (a NUL character) at byte 14"
printf '[{"worker_id": "a\\\\u0000b", "available_memory": 8, "cpu_cores": 4}]' >"$tmp/slash.json"
printf '{"test_id": "t"}\n' >"$tmp/one.jsonl"
expect_rc 0 "$shim" decide --scheduler round-robin --workers "$tmp/slash.json" --tests "$tmp/one.jsonl"
has "$tmp/out" '"workers":["a\\u0000b"]'
# unknown scheduler: bad config, 1; a missing option: the command line, 2
expect_rc 1 "$shim" decide --scheduler nope --workers "$tmp/fleet.json" --tests "$tmp/tests.jsonl"
has "$tmp/err" "no scheduler named 'nope'"
expect_rc 2 "$shim" decide --tests "$tmp/tests.jsonl"
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
has "$tmp/e1.json" '"schema":3'
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
# under a path of over 512 bytes, the line is still named: the record's
# where was cut at 512 bytes, before its ":LINE"
deep=$tmp
for i in 1 2 3 4 5 6; do deep=$deep/$(printf 'd%.0s' $(seq 100)); done
mkdir -p "$deep"
cp "$tmp/badout.jsonl" "$deep/badout.jsonl"
printf '{"test_id": "t1"}\n{"test_id": ""}\n' >"$deep/tests.jsonl"
expect_rc 1 "$shim" decide --config "$tmp/store.json" --workers "$LBS_SRCDIR/examples/fleet.json" \
	--tests "$LBS_SRCDIR/examples/tests.jsonl" --feedback "$deep/badout.jsonl"
has "$tmp/err" "...:2: "
has "$tmp/err" "...:3: "
expect_rc 1 "$shim" decide --workers "$LBS_SRCDIR/examples/fleet.json" --tests "$deep/tests.jsonl"
has "$tmp/err" "...:2: field 'test_id'"
# an outcome naming its test and not its type is learned under the type of
# the test decide read (the original's records name the test alone); one
# of a test not decided here is learned as mixed, and said once for all
dbt=$tmp/dbtyped
printf '{"store": {"path": "%s"}}\n' "$dbt" >"$tmp/typed.json"
printf '%s\n' '{"test_id": "vision_resnet50_001", "worker_id": "gpu_a100_1", "success": true, "duration": 40}' \
	'{"test_id": "elsewhere_1", "worker_id": "gpu_a100_1", "success": true, "duration": 40}' \
	'{"test_id": "elsewhere_2", "worker_id": "gpu_a100_1", "success": false, "duration": 40}' >"$tmp/untyped.jsonl"
expect_rc 0 "$shim" decide --config "$tmp/typed.json" --workers "$LBS_SRCDIR/examples/fleet.json" \
	--tests "$LBS_SRCDIR/examples/tests.jsonl" --feedback "$tmp/untyped.jsonl"
has "$tmp/err" "warning: 2 outcome(s) from $tmp/untyped.jsonl (the first at $tmp/untyped.jsonl:2) name no 'test_type' or 'workload_type', and no test of theirs was decided here: learned as mixed"
expect_rc 0 "$shim" prefs export --db "$dbt"
has "$tmp/out" '"workload_type":"VISION","worker":"gpu_a100_1","samples":1,"successes":1,"failures":0'
has "$tmp/out" '"workload_type":"MIXED","worker":"gpu_a100_1","samples":2,"successes":1,"failures":1'
# a test_type with no workload word (a typo) is learned as mixed, and said
# once for all with the first; one that maps is not counted
printf '%s\n' '{"worker_id": "gpu_a100_1", "success": false, "duration": 40, "test_type": "speech_to_text"}' \
	'{"worker_id": "gpu_a100_1", "success": false, "duration": 40, "test_type": "vison_classification"}' \
	'{"worker_id": "gpu_a100_1", "success": false, "duration": 40, "test_type": "smoke"}' >"$tmp/wordless.jsonl"
expect_rc 0 "$shim" decide --config "$tmp/typed.json" --workers "$LBS_SRCDIR/examples/fleet.json" \
	--tests /dev/null --feedback "$tmp/wordless.jsonl"
has "$tmp/err" "warning: 2 outcome(s) from $tmp/wordless.jsonl (the first at $tmp/wordless.jsonl:2, test_type 'vison_classification') have a 'test_type' with no workload word in it (vision, image, nlp, text, language, audio, speech, embedding, training, inference, conversational, multi): learned as mixed"
lacks "$tmp/err" "name no 'test_type'"
# A map that cannot grow (mmap's ENOMEM under an address-space limit):
# LMDB unmapped the old map first, and the next commit read through none
# (SIGSEGV, exit 139).  Said twice, with what to do, and the rest counted.
python3 -c 'import json
for i in range(30000):
    print(json.dumps({"worker_id": "w%05d-with-an-id-as-long-as-a-host-name" % i, "success": True, "duration": 1}))' >"$tmp/pairs.jsonl"
printf '{"store": {"path": "%s", "map_size_mb": 1}}\n' "$tmp/nomap" >"$tmp/nomap.json"
# The outcomes come through a pipe that stays open a second after them:
# the store's timer, which read the map's meta pages, ran on a map gone.
expect_rc 1 bash -c '{ cat "$1"; sleep 1; } | env LD_PRELOAD="$LBS_FAIL_MMAP" \
	LBS_FAIL_MMAP_LEN=2097152 ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0" \
	"$2" decide --config "$3" --workers "$4" --tests /dev/null --feedback /dev/stdin' - \
	"$tmp/pairs.jsonl" "$shim" "$tmp/nomap.json" "$LBS_SRCDIR/examples/fleet.json"
has "$tmp/err" "lbsched-shim: error: store '$tmp/nomap': commit failed, "
has "$tmp/err" "outcomes lost: Cannot allocate memory (the map could not grow: its memory is unmapped, and the store takes nothing until the process restarts)"
has "$tmp/err" "outcomes lost: MDB_PANIC: Update of meta page failed or environment had fatal error (the map failed to grow earlier: the store takes nothing until the process restarts)"
eq "each said once" "$(grep -c 'outcomes lost' "$tmp/err")" 2
has "$tmp/err" "not every outcome from /dev/stdin was stored"
# An import the parser has no memory for (an address-space limit; ASan's
# shadow needs more than any such limit) is said so: "not valid JSON near
# byte 19518027" sent the user to look for a flaw the file has not.
if [ "${LBS_SANITIZE:-none}" = none ]; then
	python3 -c 'import sys; sys.stdout.write("{\"records\": [" + ",".join(["0"] * 3000000) + "]}")' \
		>"$tmp/huge.json"
	expect_rc 1 bash -c 'ulimit -v 150000 && exec "$@"' - "$shim" prefs import --db "$tmp/oom" "$tmp/huge.json"
	has "$tmp/err" "lbsched-shim: prefs import: $tmp/huge.json: out of memory reading the JSON document (6000014 bytes), or it is not valid JSON near byte "
	lines "$tmp/err" 1
	rm -f "$tmp/huge.json"
fi
# An import at a path longer than a store's config takes made a store no
# scheduler could open
long="$tmp/$(python3 -c 'print("/".join(["d" * 100] * 11))')"
mkdir -p "$(dirname "$long")"
printf '{"schema": 3, "records": []}\n' >"$tmp/none.json"
expect_rc 1 "$shim" prefs import --db "$long" "$tmp/none.json"
has "$tmp/err" "': the path is ${#long} bytes, more than the 1024 a store's may be; nothing was imported"
[ -e "$long" ] && bad "a store was made at $long" || ok
# the new directory is 0700 whatever the umask: under 0177 it was made
# 0600, which this open and every later one refused
expect_rc 0 bash -c 'umask 0177 && exec "$@"' - "$shim" prefs import --db "$tmp/masked" "$tmp/none.json"
eq "a new store's directory under umask 0177" "$(stat -c %a "$tmp/masked")" 700
# A test of such a type is decided as mixed (where it goes changes): said
# once for the stream, with the first, not a line a test; one alone, as its
# line; the tests above, whose types have a word, are not said.
words="no workload word in it (vision, image, nlp, text, language, audio, speech, embedding, training, inference, conversational, multi): decided as mixed"
printf '%s\n' '{"test_id": "w1", "test_type": "speech_to_text"}' \
	'{"test_id": "w2", "test_type": "vison_classification"}' \
	'{"test_id": "w3", "test_type": "smoke"}' >"$tmp/wordless_tests.jsonl"
expect_rc 0 "$shim" decide --workers "$tmp/fleet.json" --tests "$tmp/wordless_tests.jsonl"
has "$tmp/err" "lbsched-shim: warning: 2 tests (the first at $tmp/wordless_tests.jsonl:2, test_type 'vison_classification') have a 'test_type' with $words"
lines "$tmp/err" 1
expect_rc 0 "$shim" decide --workers "$tmp/fleet.json" <<<'{"test_id": "w2", "test_type": "visoin"}'
has "$tmp/err" "lbsched-shim: warning: <stdin>:1: field 'test_type': 'visoin' has $words"
expect_rc 0 "$shim" decide --workers "$tmp/fleet.json" --tests "$tmp/tests.jsonl"
lacks "$tmp/err" "workload word"
# An exclude_workers id no worker of the fleet has excludes nothing: the
# test went, without a word, to the very worker a typo meant to exclude.
# Said once for the stream, with the first.
printf '%s\n' '{"test_id": "x1", "required_backend": "cuda", "exclude_workers": ["gpu_1"]}' \
	'{"test_id": "x2", "required_backend": "cuda", "exclude_workers": ["gpu_1x"]}' \
	'{"test_id": "x3", "exclude_workers": ["cpu_2", "nope"]}' >"$tmp/exclude.jsonl"
expect_rc 0 "$shim" decide --workers "$tmp/fleet.json" --tests "$tmp/exclude.jsonl" --independent
has "$tmp/out" '{"test_id":"x2","status":"ok","workers":["gpu_1"]'
has "$tmp/err" "lbsched-shim: warning: 2 test(s) from $tmp/exclude.jsonl (the first at $tmp/exclude.jsonl:2, worker 'gpu_1x') have an 'exclude_workers' id no worker of the fleet has (ids must match exactly): it excludes nothing"
lines "$tmp/err" 1
head -1 "$tmp/exclude.jsonl" >"$tmp/exclude1.jsonl"
expect_rc 0 "$shim" decide --workers "$tmp/fleet.json" --tests "$tmp/exclude1.jsonl"
lacks "$tmp/err" "exclude_workers"
# A test that asks for a TPU runs on a TPU: it was scored on the best
# device of the worker, here a 192-core host CPU beside a 2-core TPU, and
# the pod of 8 TPU cores lost to it.
cat >"$tmp/tpus.json" <<'JSON'
[{"worker_id": "big_cpu_tpu", "supported_backends": ["cpu", "tpu", "tensorflow"], "available_accelerators": {"tpu": 1}, "available_memory": 64, "cpu_cores": 192, "hardware_specs": {"tpu_cores": 2}},
 {"worker_id": "tpu_pod", "supported_backends": ["cpu", "tpu", "tensorflow"], "available_accelerators": {"tpu": 1}, "available_memory": 64, "cpu_cores": 4, "hardware_specs": {"tpu_cores": 8}}]
JSON
echo '{"test_id": "needs_tpu", "test_type": "training", "expected_duration": 300, "required_accelerators": {"tpu": 1}}' >"$tmp/tpu.jsonl"
expect_rc 0 "$shim" decide --workers "$tmp/tpus.json" --tests "$tmp/tpu.jsonl"
has "$tmp/out" '"workers":["tpu_pod"],"reason":"hardware-aware: est. 109.6 s (wait 0.0 + run 109.6) on TPU device 1 of tpu_pod'
# the original's WorkerAssignment, whole, is an outcome: its status word
# says how it ended, its test_requirements give the type, its result dict
# is the test's own; one not ended yet, or whose words disagree, is refused
dbw=$tmp/dbassign
printf '{"store": {"path": "%s"}}\n' "$dbw" >"$tmp/assign.json"
cat >"$tmp/assign.jsonl" <<'JSONL'
{"worker_id": "gpu_a100_1", "test_id": "t9", "test_requirements": {"test_id": "t9", "test_type": "vision_classification", "expected_duration": 60, "minimum_memory": 2}, "assigned_at": "2026-12-05T10:00:00", "started_at": "2026-12-05T10:00:01", "completed_at": "2026-12-05T10:00:31", "status": "completed", "result": {"accuracy": 0.91}, "execution_time": 30, "success": true}
{"worker_id": "gpu_a100_1", "test_id": "t10", "test_requirements": {"test_type": "nlp_bert"}, "status": "failed", "result": {}, "execution_time": 3}
{"worker_id": "gpu_a100_1", "test_id": "t11", "status": "running", "execution_time": 3}
{"worker_id": "gpu_a100_1", "test_id": "t11", "status": "completed", "success": false, "execution_time": 3}
{"worker_id": "gpu_a100_1", "test_id": "t12", "status": "done", "execution_time": 3}
{"worker_id": "gpu_a100_1", "test_id": "t13", "test_requirements": {"test_type": "audio_asr"}, "status": "completed", "result": null, "execution_time": 5, "success": true}
JSONL
expect_rc 1 "$shim" decide --config "$tmp/assign.json" --workers "$LBS_SRCDIR/examples/fleet.json" \
	--tests /dev/null --feedback "$tmp/assign.jsonl"
has "$tmp/err" "assign.jsonl:3: field 'status': is \"running\": the test has not ended, so there is no outcome to learn yet"
has "$tmp/err" "assign.jsonl:4: field 'success': disagrees with 'status'"
has "$tmp/err" "assign.jsonl:5: field 'status': must be an integer (the host's status code) or the original's \"completed\" or \"failed\", got \"done\""
has "$tmp/err" "reported 3 outcomes"
lacks "$tmp/err" "unknown field"
expect_rc 0 "$shim" prefs export --db "$dbw"
# 30 s against the 60 expected: the log ratio ln(0.5)
has "$tmp/out" '"workload_type":"VISION","worker":"gpu_a100_1","samples":1,"successes":1,"failures":0'
has "$tmp/out" '"log_ratio_mean":-0.69314718055994529'
has "$tmp/out" '"workload_type":"NLP","worker":"gpu_a100_1","samples":1,"successes":0,"failures":1'
# "result": null, the original's default, was refused
has "$tmp/out" '"workload_type":"AUDIO","worker":"gpu_a100_1","samples":1,"successes":1,"failures":0'
# each word is checked against the one it must agree with, by name; the
# original's times are checked for their type though unread; a stated
# MIXED is kept, not replaced by the decided test's type
cat >"$tmp/assign2.jsonl" <<'JSONL'
{"worker_id": "gpu_a100_1", "test_id": "a", "status": "completed", "result": "failure", "execution_time": 3}
{"worker_id": "gpu_a100_1", "test_id": "b", "result": {"accuracy": 1}, "execution_time": 3}
{"worker_id": "gpu_a100_1", "test_id": "c", "status": "failed", "started_at": [1], "execution_time": 3}
{"worker_id": "gpu_a100_1", "test_id": "vision_resnet50_001", "workload_type": "MIXED", "status": "failed", "result": "timeout", "execution_time": 3}
JSONL
expect_rc 1 "$shim" decide --config "$tmp/assign.json" --workers "$LBS_SRCDIR/examples/fleet.json" \
	--tests "$LBS_SRCDIR/examples/tests.jsonl" --feedback "$tmp/assign2.jsonl"
has "$tmp/err" "assign2.jsonl:1: field 'result': disagrees with 'status'"
has "$tmp/err" "assign2.jsonl:2: field 'success': is required (true or false), or give 'status' (this 'result' is the test's own dict, not how it ended)"
has "$tmp/err" "assign2.jsonl:3: field 'started_at'"
has "$tmp/err" "reported 1 outcomes"
lacks "$tmp/err" "learned as mixed"
expect_rc 0 "$shim" prefs export --db "$dbw"
has "$tmp/out" '"workload_type":"MIXED","worker":"gpu_a100_1","samples":1,"successes":0,"failures":1'
# a WorkerAssignment's test_requirements is learned as the test was
# decided: its workload_type over a wordless test_type, and the 60 s a
# test without expected_duration is ranked by (it was MIXED, with no speed
# ratio, and said to name no type)
dbv=$tmp/dbvision
printf '{"store": {"path": "%s"}}\n' "$dbv" >"$tmp/vision.json"
echo '{"test_id": "t1", "test_type": "resnet_bench", "workload_type": "VISION"}' >"$tmp/vision_tests.jsonl"
cat >"$tmp/vision_fb.jsonl" <<'JSONL'
{"worker_id": "gpu_a100_1", "status": "completed", "duration": 6, "test_requirements": {"test_id": "t1", "test_type": "resnet_bench", "workload_type": "VISION"}}
{"worker_id": "gpu_a100_1", "test_id": "zz", "status": "completed", "duration": 6, "test_requirements": {"workload_type": "VISION"}}
JSONL
expect_rc 0 "$shim" decide --config "$tmp/vision.json" --workers "$LBS_SRCDIR/examples/fleet.json" \
	--tests "$tmp/vision_tests.jsonl" --feedback "$tmp/vision_fb.jsonl"
has "$tmp/err" "reported 2 outcomes"
lacks "$tmp/err" "learned as mixed"
expect_rc 0 "$shim" prefs export --db "$dbv"
has "$tmp/out" '"workload_type":"VISION","worker":"gpu_a100_1","samples":2,"successes":2,"failures":0'
# 6 s against 60: ln(0.1), from both
has "$tmp/out" '"ratio_n":2,"log_ratio_mean":-2.302585092994045'
lacks "$tmp/out" '"workload_type":"MIXED"'
# an outcome a scheduler does not learn is not said to be learned as mixed
expect_rc 1 "$shim" decide --scheduler round-robin --workers "$LBS_SRCDIR/examples/fleet.json" \
	--tests /dev/null --feedback "$tmp/untyped.jsonl"
has "$tmp/err" "does not learn from outcomes"
lacks "$tmp/err" "learned as mixed"
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
# a store's fault under a long path: the whole message (it was cut at 900
# bytes, and with a path of 974 bytes said nothing but the path)
longdb=$tmp/$(printf 'd%.0s' $(seq 235))/$(printf 'e%.0s' $(seq 235))/$(printf 'f%.0s' $(seq 235))/$(printf 'g%.0s' $(seq 235))
mkdir -p "$longdb" && chmod 770 "$longdb"
expect_rc 1 "$shim" prefs import --db "$longdb" "$tmp/e1.json"
has "$tmp/err" "store '$longdb': refused: the directory is group-writable (mode 0770)"
has "$tmp/err" "; nothing was imported"
# --replace: exactly the document
printf '{"schema":1,"records":[{"workload_type":"AUDIO","worker":"mic-1","samples":2,"successes":2,"failures":0,"preference":0.9,"mean_duration":1,"var_duration":0,"last_update":1700000000}]}\n' >"$tmp/one.json"
expect_rc 0 "$shim" prefs import --db "$db2" --replace "$tmp/one.json"
expect_rc 0 "$shim" prefs export --db "$db2"
has "$tmp/out" '"worker":"mic-1","samples":2'
n=$(records "$tmp/out"); [ "$n" = 1 ] && ok || bad "after --replace $n records, expected 1"
# a record stamped a day ahead of this clock (a clock stepped back, an
# export from a host whose clock ran fast) still learns: 20 failures pull
# its preference down, as they would a record of now (it stayed at 1.000)
ahead=$(( $(date +%s) + 86400 ))
printf '{"schema":3,"records":[{"workload_type":"VISION","worker":"gpu-1","samples":1,"successes":1,"failures":0,"preference":1,"mean_duration":40,"var_duration":0,"last_update":%s,"ratio_n":0,"log_ratio_mean":0,"log_ratio_var":0,"sum_duration":40,"sum_duration_sq":1600,"sum_log_ratio":0,"sum_log_ratio_sq":0,"pref_time":%s,"pref_weight":1,"pref_sum":1}]}\n' "$ahead" "$ahead" >"$tmp/ahead.json"
expect_rc 0 "$shim" prefs import --db "$db2" --replace "$tmp/ahead.json"
printf '{"store": {"path": "%s"}}\n' "$db2" >"$tmp/ahead-cfg.json"
for _ in $(seq 20); do echo '{"worker_id": "gpu-1", "success": false, "duration": 40, "test_type": "vision"}'; done >"$tmp/ahead-fb.jsonl"
expect_rc 0 "$shim" decide --workers "$LBS_SRCDIR/examples/fleet.json" --tests /dev/null --config "$tmp/ahead-cfg.json" --feedback "$tmp/ahead-fb.jsonl"
expect_rc 0 "$shim" prefs export --db "$db2"
pref=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["records"]; print([x["preference"] for x in r if x["worker"]=="gpu-1"][0])' "$tmp/out")
python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) < 0.2 else 1)' "$pref" && ok || bad "a record a day ahead ignored 20 failures: preference $pref"
# sums behind no success: learning never writes them (its mean was 1e300
# once a success came, and that store's export did not import)
printf '{"schema":3,"records":[{"workload_type":"VISION","worker":"h","samples":1,"successes":0,"failures":1,"preference":0.5,"mean_duration":0,"var_duration":0,"last_update":1700000000,"ratio_n":0,"log_ratio_mean":0,"log_ratio_var":0,"sum_duration":1e300,"sum_duration_sq":1e300,"sum_log_ratio":0,"sum_log_ratio_sq":0,"pref_time":1700000000,"pref_weight":1,"pref_sum":0.5}]}\n' >"$tmp/hidden.json"
expect_rc 1 "$shim" prefs import --db "$db2" "$tmp/hidden.json"
has "$tmp/err" "hidden.json: records[0]: field 'sum_duration': must be 0 with no successes; nothing was imported"
# a fault of the store names the store, not the document (it was put
# first, and pointed at the file)
printf '{"schema":3,"records":[]}\n' >"$tmp/none.json"
: >"$tmp/plainfile"
expect_rc 1 "$shim" prefs import --db "$tmp/plainfile" "$tmp/none.json"
eq "a store's fault" "$(cat "$tmp/err")" "lbsched-shim: prefs import: store '$tmp/plainfile': refused: not a directory; nothing was imported"
# an empty document is said to be empty, as an empty config is ("not valid
# JSON near byte 0" read as a flaw at its start)
printf ' \n' >"$tmp/blank.json"
expect_rc 1 "$shim" prefs import --db "$db2" "$tmp/blank.json"
has "$tmp/err" "blank.json: is empty (expected a JSON document); nothing was imported"
# a summary of no samples, without sums: kept as 0, the values were lost
for f in 'mean_duration:50:successes' 'var_duration:3:successes' 'log_ratio_mean:1.5:ratio_n' 'log_ratio_var:2:ratio_n'; do
	IFS=: read -r field val count <<<"$f"
	python3 -c 'import json, sys
r = {"workload_type": "VISION", "worker": "z", "samples": 2, "successes": 0, "failures": 2, "preference": 0.3,
     "mean_duration": 0, "var_duration": 0, "last_update": 1700000000, "ratio_n": 0, "log_ratio_mean": 0, "log_ratio_var": 0}
r[sys.argv[1]] = float(sys.argv[2])
print(json.dumps({"schema": 2, "records": [r]}))' "$field" "$val" >"$tmp/nocount.json"
	expect_rc 1 "$shim" prefs import --db "$db2" "$tmp/nocount.json"
	has "$tmp/err" "nocount.json: records[0]: field '$field' is $val, but '$count' is 0: a value of no samples, which the store would keep as 0 (give 0, or the count it was measured on); nothing was imported"
done
expect_rc 0 "$shim" prefs export --db "$db2"
case $(cat "$tmp/out") in *'"worker":"z"'*) bad "a refused record was imported";; *) ok;; esac
# reset: nothing learned, the schema stays
expect_rc 0 "$shim" prefs reset --db "$db2"
expect_rc 0 "$shim" prefs export --db "$db2"
has "$tmp/out" '"schema":3'
n=$(records "$tmp/out"); [ "$n" = 0 ] && ok || bad "after reset $n records, expected 0"
# usage errors and a store that is not one
expect_rc 2 "$shim" prefs export
has "$tmp/err" "--db"
expect_rc 2 "$shim" prefs frobnicate --db "$db2"
# --redis with --db, and --redis with a verb it does not go with: each said as it is
expect_rc 2 "$shim" prefs dump --redis "$tmp/none.json" --db "$db2"
has "$tmp/err" "lbsched-shim: prefs: dump: --redis and --db are exclusive (CONFIG names the fleet, and for sync the store)"
expect_rc 2 "$shim" prefs import --redis "$tmp/none.json"
has "$tmp/err" "lbsched-shim: prefs: import: --redis goes with dump, export or sync ("
mkdir -p "$tmp/db3" && yes 'not an LMDB file' | head -c 16384 >"$tmp/db3/data.mdb"
expect_rc 1 "$shim" prefs export --db "$tmp/db3"
has "$tmp/err" "db3"
has "$tmp/err" "damaged"
lines "$tmp/err" 1
# ... and prints nothing: `export > f; import --replace f` must not wipe a store
if [ -s "$tmp/out" ]; then bad "a failed export printed to stdout:"; head -c 300 "$tmp/out" >&2; else ok; fi
expect_rc 1 "$shim" prefs export --db "$tmp/no-such-store"
if [ -s "$tmp/out" ]; then bad "a failed export printed to stdout"; else ok; fi
has "$tmp/err" "store '$tmp/no-such-store': no such directory"
: >"$tmp/a-file"
expect_rc 1 "$shim" prefs dump --db "$tmp/a-file"
has "$tmp/err" "store '$tmp/a-file': not a directory"
# a store path from a config file: the file is named as for its other fields
printf '{"store": {"path": "%s"}}' "$tmp/a-file" >"$tmp/store-file.json"
expect_rc 1 "$shim" decide --workers "$LBS_SRCDIR/examples/fleet.json" --tests "$LBS_SRCDIR/examples/tests.jsonl" --config "$tmp/store-file.json"
lines "$tmp/err" 1
has "$tmp/err" "lbsched-shim: $tmp/store-file.json: scheduler 'hardware-aware': store '$tmp/a-file': refused: not a directory"
# reading or resetting an empty directory finds no store there, and leaves it empty
mkdir -m 700 "$tmp/empty-store"
for verb in dump export reset; do
	expect_rc 1 "$shim" prefs $verb --db "$tmp/empty-store"
	has "$tmp/err" "prefs $verb: store '$tmp/empty-store': no store in this directory yet (no data.mdb)"
done
[ -z "$(ls -A "$tmp/empty-store")" ] && ok || bad "prefs made files in an empty directory: $(ls "$tmp/empty-store")"
# ... while an import makes the store there, even of an export with no records
echo '{"schema": 3, "records": []}' >"$tmp/none.json"
expect_rc 0 "$shim" prefs import --replace --db "$tmp/empty-store" "$tmp/none.json"
expect_rc 0 "$shim" prefs dump --db "$tmp/empty-store"
has "$tmp/out" "0 records"
# prefs --redis goes through any plugin's "lbs.ext.fleet/1" (ABI 1.2): a third
# party's, built against the frozen 1.2 header, with its answers and errors;
# a 1.1 plugin has none, and says so.
printf '{"store": {"fleet": {"address": "127.0.0.1:6379"}}}\n' >"$tmp/v12.json"
expect_rc 0 "$shim" prefs dump --plugin "$LBS_V1_2_PLUGIN" --redis "$tmp/v12.json"
has "$tmp/out" "v12-gpu"
has "$tmp/out" "1 records"
expect_rc 0 "$shim" prefs export --plugin "$LBS_V1_2_PLUGIN" --redis "$tmp/v12.json"
has "$tmp/out" '"worker":"v12-gpu"'
expect_rc 1 "$shim" prefs sync --plugin "$LBS_V1_2_PLUGIN" --redis "$tmp/v12.json"
has "$tmp/err" "prefs sync: v1.2 plugin: redis://nowhere: this plugin has no Redis"
lines "$tmp/err" 1
expect_rc 1 "$shim" prefs dump --plugin "$LBS_V1_1_PLUGIN" --redis "$tmp/v12.json"
has "$tmp/err" "the plugin has no fleet learning (no extension lbs.ext.fleet/1)"
# the config's own faults name its file; an empty one is empty, not a
# config without a fleet; a composite's is told where the store is read
printf '{"store": {"path": "p"}}\n' >"$tmp/nofleet.json"
expect_rc 1 "$shim" prefs dump --redis "$tmp/nofleet.json"
lines "$tmp/err" 1
has "$tmp/err" "prefs dump: $tmp/nofleet.json: config field 'store.fleet': required (the Redis to use)"
: >"$tmp/emptyfleet.json"
expect_rc 1 "$shim" prefs export --redis "$tmp/emptyfleet.json"
has "$tmp/err" "prefs export: $tmp/emptyfleet.json: is empty (expected a JSON object)"
printf '{"children": [{"scheduler": "hardware-aware", "config": {"store": {"path": "p", "fleet": {"address": "127.0.0.1:6379"}}}}]}\n' >"$tmp/compfleet.json"
expect_rc 1 "$shim" prefs dump --redis "$tmp/compfleet.json"
has "$tmp/err" "compfleet.json: config field 'store.fleet': required (the Redis to use); this reads the top level's \"store\", not a child's: give the learning child's own config"
# dump shows ids through the one-line sanitizer: no ESC, CR or LF from a worker id
printf '{"schema":2,"records":[{"workload_type":"VISION","worker":"red\\u001b[31m\\r\\nFAKE","samples":1,"successes":1,"failures":0,"preference":0.5,"mean_duration":1,"var_duration":0,"last_update":1}]}\n' >"$tmp/esc.json"
expect_rc 0 "$shim" prefs import --db "$tmp/db4" "$tmp/esc.json"
expect_rc 0 "$shim" prefs dump --db "$tmp/db4"
lines "$tmp/out" 3
has "$tmp/out" 'red\x1b[31m\x0d\x0aFAKE'
if LC_ALL=C grep -q "$(printf '[\033\r]')" "$tmp/out"; then bad "dump printed a raw ESC or CR"; else ok; fi
# ... and an id that spells an escape shows its backslash doubled, apart from the real one
sed 's/red\\u001b/red\\\\x1b/' "$tmp/esc.json" >"$tmp/bs.json"
grep -qF 'red\\x1b' "$tmp/bs.json" || bad "bs.json: the sed did not apply"
expect_rc 0 "$shim" prefs import --db "$tmp/db4b" "$tmp/bs.json"
expect_rc 0 "$shim" prefs dump --db "$tmp/db4b"
has "$tmp/out" 'red\\x1b[31m\x0d\x0aFAKE'
# import refuses what cJSON would take in part, naming file and field (or byte)
sed 's/"schema":2/"schema":1.5/' "$tmp/esc.json" >"$tmp/half.json"
expect_rc 1 "$shim" prefs import --db "$tmp/db4" "$tmp/half.json"
has "$tmp/err" "half.json: field 'schema': must be an integer 1..3"
lines "$tmp/err" 1
sed 's/}]}$/}]}}/' "$tmp/esc.json" >"$tmp/trail.json"
expect_rc 1 "$shim" prefs import --db "$tmp/db4" "$tmp/trail.json"
has "$tmp/err" "trail.json: text after the JSON document at byte "
sed 's/"worker":"red/"worker":"a\\u0000b/' "$tmp/esc.json" >"$tmp/nul.json"
expect_rc 1 "$shim" prefs import --db "$tmp/db4" "$tmp/nul.json"
has "$tmp/err" "nul.json: records[0]: field 'worker': the string holds \u0000"
# a record of impossible values written into the store by another program:
# export skips it with one warning naming the store and the count, and what
# it prints is JSON that imports
if command -v mdb_load >/dev/null && command -v python3 >/dev/null; then
	mkdir "$tmp/db5"
	python3 - "$tmp/db5.txt" <<'PY'
import struct, sys
def rec(worker, *v):
    key = bytes([1]) + worker.encode()
    return " %s\n %s\n" % (key.hex(), struct.pack("=3Q4dQ2d", *v).hex())
with open(sys.argv[1], "w") as f:
    f.write("VERSION=3\nformat=bytevalue\ndatabase=meta\ntype=btree\nHEADER=END\n")
    f.write(" %s\n %s\n" % (b"schema".hex(), struct.pack("=I", 2).hex()))
    f.write("DATA=END\nVERSION=3\nformat=bytevalue\ndatabase=prefs\ntype=btree\nHEADER=END\n")
    f.write(rec("good", 2, 2, 0, 0.75, 1, 0, 1700000000, 0, 0, 0))
    f.write(rec("nan", 2, 2, 0, float("nan"), 1, 0, 1700000000, 0, 0, 0))
    f.write(rec("sum", 9, 2, 0, 0.5, 1, 0, 1700000000, 0, 0, 0))
    f.write("DATA=END\n")
PY
	mdb_load -f "$tmp/db5.txt" "$tmp/db5" && ok || bad "mdb_load failed"
	expect_rc 0 "$shim" prefs export --db "$tmp/db5"
	has "$tmp/err" "warning: store '$tmp/db5': record (VISION, nan) holds impossible values (field 'preference': must be a number in 0..1); 2 such records are skipped, not exported"
	lines "$tmp/err" 1
	if python3 -m json.tool "$tmp/out" >/dev/null; then ok; else bad "the export is not JSON"; cat "$tmp/out" >&2; fi
	n=$(records "$tmp/out"); [ "$n" = 1 ] && ok || bad "export of db5 has $n records, expected 1"
	cp "$tmp/out" "$tmp/e5.json"
	expect_rc 0 "$shim" prefs import --db "$tmp/db6" "$tmp/e5.json"
	expect_rc 0 "$shim" prefs dump --db "$tmp/db5"
	has "$tmp/err" "2 such records are skipped, not exported"
	lines "$tmp/out" 3
	# an outcome for such a record is lost: decide waits for the store to
	# commit what it was given, says how many were not stored, exits 1
	echo "{\"store\": {\"path\": \"$tmp/db5\"}}" >"$tmp/db5.json"
	printf '%s\n' '{"test_id": "x1", "worker_id": "nan", "success": false, "duration": 3, "test_type": "vision_classification"}' \
		'{"test_id": "x2", "worker_id": "good", "success": true, "duration": 3, "test_type": "vision_classification"}' >"$tmp/lost.jsonl"
	expect_rc 1 "$shim" decide --config "$tmp/db5.json" --workers "$tmp/fleet.json" --tests /dev/null --feedback "$tmp/lost.jsonl"
	has "$tmp/err" "record (VISION, nan) holds impossible values (field 'preference': must be a number in 0..1); 1 outcomes for such records lost"
	has "$tmp/err" "reported 2 outcomes from $tmp/lost.jsonl"
	has "$tmp/err" "not every outcome from $tmp/lost.jsonl was stored (the errors above say why)"
	# the other was
	expect_rc 0 "$shim" prefs export --db "$tmp/db5"
	pycheck_good() { python3 -c 'import json,sys; r=[x for x in json.load(open(sys.argv[1]))["records"] if x["worker"]=="good"]; sys.exit(0 if r and r[0]["samples"]==3 else 1)' "$tmp/out"; }
	pycheck_good && ok || bad "the outcome for 'good' was not stored: $(cat "$tmp/out")"
	# a store that holds its batch past decide's wait (a long batch_ms)
	# commits it as it closes: a loss then is said, and exits 1, too
	echo "{\"store\": {\"path\": \"$tmp/db5\", \"batch_ms\": 60000}}" >"$tmp/db5late.json"
	expect_rc 1 "$shim" decide --config "$tmp/db5late.json" --workers "$tmp/fleet.json" --tests /dev/null --feedback "$tmp/lost.jsonl"
	has "$tmp/err" "1 outcomes for such records lost"
	has "$tmp/err" "not every outcome from $tmp/lost.jsonl may be stored: an error was logged as decide closed the scheduler, while the stores still held some (the errors above say why)"
	expect_rc 0 "$shim" prefs export --db "$tmp/db5"
	pycheck_good4() { python3 -c 'import json,sys; r=[x for x in json.load(open(sys.argv[1]))["records"] if x["worker"]=="good"]; sys.exit(0 if r and r[0]["samples"]==4 else 1)' "$tmp/out"; }
	pycheck_good4 && ok || bad "the late outcome for 'good' was not stored: $(cat "$tmp/out")"
	# keys no outcome makes (damage, another writer): an id holding a NUL
	# byte read as C text was 'good' and hid its record; a type past the
	# taxonomy, an id not UTF-8, an empty id: skipped and counted, never
	# used, and the export imports again
	mkdir "$tmp/db7"
	python3 - "$tmp/db7.txt" <<'PY'
import struct, sys
def rec(key, *v):
    return " %s\n %s\n" % (key.hex(), struct.pack("=3Q4dQ2d", *v).hex())
with open(sys.argv[1], "w") as f:
    f.write("VERSION=3\nformat=bytevalue\ndatabase=meta\ntype=btree\nHEADER=END\n")
    f.write(" %s\n %s\n" % (b"schema".hex(), struct.pack("=I", 2).hex()))
    f.write("DATA=END\nVERSION=3\nformat=bytevalue\ndatabase=prefs\ntype=btree\nHEADER=END\n")
    f.write(rec(b"\x01", 2, 2, 0, 0.5, 1, 0, 1700000000, 0, 0, 0))
    f.write(rec(b"\x01good", 2, 2, 0, 0.75, 1, 0, 1700000000, 0, 0, 0))
    f.write(rec(b"\x01good\x00x", 40, 40, 0, 0.99, 1, 0, 1700000000, 0, 0, 0))
    f.write(rec(b"\x01\xff\xfe", 2, 2, 0, 0.5, 1, 0, 1700000000, 0, 0, 0))
    f.write(rec(b"\x0cother", 2, 2, 0, 0.5, 1, 0, 1700000000, 0, 0, 0))
    f.write("DATA=END\n")
PY
	mdb_load -f "$tmp/db7.txt" "$tmp/db7" && ok || bad "mdb_load failed"
	expect_rc 0 "$shim" prefs export --db "$tmp/db7"
	has "$tmp/err" "warning: store '$tmp/db7': record (VISION, ) has a key no outcome makes (an empty worker id); 4 such records are skipped, not exported"
	lines "$tmp/err" 1
	if python3 -m json.tool "$tmp/out" >/dev/null; then ok; else bad "the export of db7 is not JSON"; fi
	pycheck_db7() { python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["records"]; sys.exit(0 if len(r)==1 and r[0]["worker"]=="good" and r[0]["samples"]==2 else 1)' "$tmp/out"; }
	pycheck_db7 && ok || bad "db7's export is not 'good' alone, with its own 2 samples: $(cat "$tmp/out")"
	cp "$tmp/out" "$tmp/e7.json"
	expect_rc 0 "$shim" prefs import --db "$tmp/db8" "$tmp/e7.json"
else
	echo "note: mdb_load or python3 missing; the impossible-record check is skipped"
fi

# A stream holds what it placed: each test's memory and accelerators are
# promised to its worker (the original over-committed, bug F11), so the
# second 2-GPU, 40 GB test does not fit on the 2-GPU, 64 GB worker the
# first took; --independent places every one there.
cat >"$tmp/f11.json" <<'JSON'
[{"worker_id": "a", "cpu_cores": 8, "available_memory": 16, "supported_backends": ["cpu"]},
 {"worker_id": "c", "cpu_cores": 8, "available_memory": 64, "supported_backends": ["cpu", "cuda"],
  "available_accelerators": {"gpu": 2}},
 {"worker_id": "d", "cpu_cores": 8, "available_memory": 128, "supported_backends": ["cpu", "cuda"],
  "available_accelerators": {"gpu": 3}}]
JSON
for t in g1 g2 g3; do
	echo '{"test_id": "'$t'", "test_type": "nlp", "required_accelerators": {"gpu": 2}, "minimum_memory": 40}'
done >"$tmp/f11.jsonl"
expect_rc 0 "$shim" decide --workers "$tmp/f11.json" --tests "$tmp/f11.jsonl" --explain
has "$tmp/out" '{"test_id":"g1","status":"ok","workers":["d"]'
has "$tmp/out" '{"test_id":"g2","status":"ok","workers":["c"]'
has "$tmp/out" '{"test_id":"g3","status":"no_worker","workers":[],"reason":"hardware-aware: no eligible worker among 3 (memory 2, accelerator 1)"'
expect_rc 0 "$shim" decide --workers "$tmp/f11.json" --tests "$tmp/f11.jsonl" --independent
lines "$tmp/out" 3
[ "$(grep -c '"status":"ok","workers":\["d"\]' "$tmp/out")" = 3 ] && ok "independent: every test on d" || bad "independent: every test on d"

# --independent lets the plugin's in-flight ledger go too: a 300 s test
# placed before it sized the work ahead of the next on worker2 and moved it
# to worker1; independent, its line is the one it gets alone
cat >"$tmp/ind.json" <<'JSON'
[{"worker_id": "worker1", "cpu_cores": 8, "available_memory": 16, "supported_backends": ["cpu"], "load": {"cpu_utilization": 30}},
 {"worker_id": "worker2", "cpu_cores": 8, "available_memory": 16, "supported_backends": ["cpu", "cuda", "gpu"],
  "available_accelerators": {"gpu": 1}, "load": {"cpu_utilization": 50}},
 {"worker_id": "worker3", "cpu_cores": 8, "available_memory": 16, "supported_backends": ["cpu", "webgpu", "webnn"], "load": {"cpu_utilization": 70}}]
JSON
echo '{"test_id":"s1","test_type":"vision_classification","minimum_memory":2,"expected_duration":60,"priority":3}' >"$tmp/ind1.jsonl"
{ echo '{"test_id":"s2","test_type":"nlp_text_classification","minimum_memory":2,"expected_duration":300,"priority":3}'
  cat "$tmp/ind1.jsonl"; } >"$tmp/ind21.jsonl"
expect_rc 0 "$shim" decide --workers "$tmp/ind.json" --tests "$tmp/ind1.jsonl" --independent
alone=$(cat "$tmp/out")
has "$tmp/out" '"workers":["worker2"]'
expect_rc 0 "$shim" decide --workers "$tmp/ind.json" --tests "$tmp/ind21.jsonl" --independent
eq "s1 after s2, independent" "$(sed -n 2p "$tmp/out")" "$alone"
expect_rc 0 "$shim" decide --workers "$tmp/ind.json" --tests "$tmp/ind21.jsonl"
has "$tmp/out" '{"test_id":"s1","status":"ok","workers":["worker1"]'

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
# a --config that default refuses is named as the file it is, as without
# --routes: the document has no 'default' to point at
echo '{"load_ceiling": 2}' >"$tmp/badcfg.json"
expect_rc 1 "$shim" decide --routes "$tmp/routes2.json" --config "$tmp/badcfg.json" --workers "$tmp/fleet.json" --tests "$tmp/tests.jsonl"
lines "$tmp/err" 1
eq "--routes with a bad --config" "$(cat "$tmp/err")" "lbsched-shim: $tmp/badcfg.json: scheduler 'hardware-aware': config field 'load_ceiling': must be a number in 0..1, got 2"
lines "$tmp/out" 0
# so is a --scheduler the plugin lacks: no 'default' in the document to blame
expect_rc 1 "$shim" decide --routes "$tmp/routes2.json" --scheduler nosuch --workers "$tmp/fleet.json" --tests "$tmp/tests.jsonl"
lines "$tmp/err" 1
has "$tmp/err" "lbsched-shim: $LBS_PLUGIN: no scheduler named 'nosuch'; it has: "
lacks "$tmp/err" "routes2.json"
# with "default" in it too, one of the two would be ignored: refused, even
# for a scheduler that does not exist
echo '{"bogus": 1}' >"$tmp/bogus.json"
expect_rc 1 "$shim" decide --routes "$tmp/routes.json" --scheduler nonesuch --config "$tmp/bogus.json" --workers "$tmp/fleet.json" --tests "$tmp/tests.jsonl"
lines "$tmp/err" 1
has "$tmp/err" "routes.json: field 'default': the document names its own default route, and --scheduler nonesuch --config $tmp/bogus.json another; keep one of them"
lines "$tmp/out" 0
# --plugin is the plugin of every route naming none: no default of its own
expect_rc 0 "$shim" decide --routes "$tmp/routes.json" --plugin "$LBS_PLUGIN" --workers "$tmp/fleet.json" --tests "$tmp/tests.jsonl" --independent
has "$tmp/out" '{"test_id":"t2","status":"ok","workers":["cpu_1"],"reason":"round-robin: '
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

# --- Input files (issue 15 items 6-9)
# A NUL byte: an error naming file:line, every other line decided, exit 1.
printf '{"test_id": "n1"}\n{"test_id": "n2"\0}\n{"test_id": "n3"}\n\n{"test_id": "n4"}\n' >"$tmp/nul.jsonl"
expect_rc 1 "$shim" decide --scheduler round-robin --workers "$tmp/fleet.json" --tests "$tmp/nul.jsonl"
lines "$tmp/out" 3
has "$tmp/out" '"test_id":"n3"'
has "$tmp/out" '"test_id":"n4"'
has "$tmp/err" "nul.jsonl:2: a NUL byte at byte 16"
lines "$tmp/err" 1
fb() { printf '{"worker_id": "%s", "success": true, "duration": 1, "test_type": "nlp"}\n' "$@"; }
{ fb cpu_1; printf '{"worker_id": "cpu_2",\0 "success": true}\n'; fb cpu_2 gpu_1; } >"$tmp/nulfb.jsonl"
expect_rc 1 "$shim" decide --workers "$tmp/fleet.json" --tests "$tmp/tests.jsonl" --feedback "$tmp/nulfb.jsonl"
has "$tmp/err" "nulfb.jsonl:2: a NUL byte at byte 22"
has "$tmp/err" "reported 3 outcomes from $tmp/nulfb.jsonl"
# an outcome of a worker outside the fleet (a typo, or one that left) is
# learned, and said once for the file, with the first: a history of
# workers that have left gave a line each, and buried the errors
fb cpu_1 cpu_9x cpu_2 gone_1 gone_2 >"$tmp/typo.jsonl"
expect_rc 0 "$shim" decide --workers "$tmp/fleet.json" --tests "$tmp/tests.jsonl" --feedback "$tmp/typo.jsonl"
has "$tmp/err" "warning: 3 outcome(s) from $tmp/typo.jsonl (the first at $tmp/typo.jsonl:2, worker 'cpu_9x') name a worker not in the fleet: learned all the same"
lacks "$tmp/err" "gone_"
has "$tmp/err" "reported 5 outcomes from $tmp/typo.jsonl"
# ... and without a store what it teaches is gone at exit: said
has "$tmp/err" 'warning: --feedback without a "store" in the config: what it taught is lost when decide exits'
# ... but not for another plugin, which keeps what it learns its own way
# ("store" is lbsched's field): the liar counts the outcomes it is told
printf '{"mode": "honest"}' >"$tmp/honest.json"
expect_rc 0 "$shim" decide --plugin "$LBS_LIAR_PLUGIN" --scheduler liar --config "$tmp/honest.json" --workers "$tmp/fleet.json" --tests "$tmp/tests.jsonl" --feedback "$tmp/typo.jsonl"
has "$tmp/err" "reported 5 outcomes from $tmp/typo.jsonl"
lacks "$tmp/err" 'without a "store"'
# A worker id past the 510 bytes learning keys: chosen like any other, each
# outcome refused, so it never lost its neutral record for failing; said
# once at the start of a run that learns, naming the fleet
python3 -c 'import json, sys; w = lambda i: {"worker_id": i, "supported_backends": ["cpu"], "available_memory": 64, "cpu_cores": 16}; json.dump([w("x" * 600), w("b"), w("y" * 511)], open(sys.argv[1], "w"))' "$tmp/longids.json"
expect_rc 0 "$shim" decide --workers "$tmp/longids.json" --tests "$tmp/tests.jsonl" --feedback /dev/null
has "$tmp/err" "warning: $tmp/longids.json: 2 worker(s) have an id longer than the 510 bytes a scheduler learns from (the first, 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...', is 600 bytes): their outcomes will be refused, and they stay unproven however often they fail"
# ... not for a run that learns nothing
expect_rc 0 "$shim" decide --workers "$tmp/longids.json" --tests "$tmp/tests.jsonl"
lacks "$tmp/err" "longer than the 510"
# ... also when "store" is only a key of something else (a worker of that
# name in weighted-round-robin's weights), not a store
printf '{"children": [{"scheduler": "hardware-aware"}, {"scheduler": "weighted-round-robin", "config": {"weights": {"store": 2}}}]}' >"$tmp/storekey.json"
expect_rc 0 "$shim" decide --scheduler composite --config "$tmp/storekey.json" --workers "$tmp/fleet.json" --tests "$tmp/tests.jsonl" --feedback "$tmp/typo.jsonl"
has "$tmp/err" 'warning: --feedback without a "store" in the config: what it taught is lost when decide exits'
# adaptive's store that no child would keep is refused, not dropped after
# "reported N outcomes"
printf '{"children": ["round-robin", "weighted-round-robin"], "store": {"path": "%s"}}' "$tmp/ghost" >"$tmp/ghost.json"
expect_rc 1 "$shim" decide --scheduler adaptive --config "$tmp/ghost.json" --workers "$tmp/fleet.json" --tests "$tmp/tests.jsonl" --feedback "$tmp/typo.jsonl"
has "$tmp/err" "ghost.json: scheduler 'adaptive': config field 'store': no child keeps it"
lacks "$tmp/err" "reported"
if [ -e "$tmp/ghost" ]; then bad "a refused adaptive config made its store $tmp/ghost"; else ok; fi
# UTF-16 and byte order marks: one clear line, nothing decided.
printf '\xff\xfe{\0}\0\n\0' >"$tmp/u16.jsonl"
printf '{\0}\0\n\0' >"$tmp/u16le.jsonl"
printf '\xef\xbb\xbf{"test_id": "b"}\n' >"$tmp/bom.jsonl"
for f in u16:"is UTF-16 (it starts with a byte order mark)" u16le:"looks like UTF-16" \
	bom:"starts with a UTF-8 byte order mark (EF BB BF)"; do
	expect_rc 1 "$shim" decide --scheduler round-robin --workers "$tmp/fleet.json" --tests "$tmp/${f%%:*}.jsonl"
	has "$tmp/err" "$tmp/${f%%:*}.jsonl: ${f#*:}"
	lines "$tmp/err" 1
	lines "$tmp/out" 0
done
expect_rc 1 "$shim" decide --workers "$tmp/fleet.json" --tests "$tmp/tests.jsonl" --feedback "$tmp/bom.jsonl"
has "$tmp/err" "bom.jsonl: starts with a UTF-8 byte order mark"
# Text after the document: refused with its byte, in a scheduler config,
# a routing document and a test line.
printf '{}}' >"$tmp/after.json"
expect_rc 1 "$shim" decide --scheduler round-robin --config "$tmp/after.json" --workers "$tmp/fleet.json" --tests "$tmp/tests.jsonl"
has "$tmp/err" "after.json: scheduler 'round-robin': config: text after the JSON document at byte 2"
printf '{}\n{"bogus": 1}\n' >"$tmp/after.json"
expect_rc 1 "$shim" decide --scheduler priority --config "$tmp/after.json" --workers "$tmp/fleet.json" --tests "$tmp/tests.jsonl"
has "$tmp/err" "config: text after the JSON document at byte 3 (line 2, column 1)"
printf '{"default": {"scheduler": "priority"}}}' >"$tmp/afterroutes.json"
expect_rc 1 "$shim" decide --routes "$tmp/afterroutes.json" --workers "$tmp/fleet.json" --tests "$tmp/tests.jsonl"
has "$tmp/err" "afterroutes.json: text after the JSON document at byte 38"
lines "$tmp/err" 1
printf '{"default": {"scheduler": "priority"}} {"routes": [], "bogus": 1}' >"$tmp/afterroutes.json"
expect_rc 1 "$shim" decide --routes "$tmp/afterroutes.json" --workers "$tmp/fleet.json" --tests "$tmp/tests.jsonl"
has "$tmp/err" "afterroutes.json: text after the JSON document at byte 39"
printf '{"test_id": "a"}}\n{"test_id": "b"} {"test_id": "c"}\n{"test_id": "d"}\n' >"$tmp/after.jsonl"
expect_rc 1 "$shim" decide --scheduler round-robin --workers "$tmp/fleet.json" --tests "$tmp/after.jsonl"
has "$tmp/err" "after.jsonl:1: text after the JSON document at byte 16"
has "$tmp/err" "after.jsonl:2: text after the JSON document at byte 17"
lines "$tmp/out" 1
# Messages: invalid JSON and too deep nesting are called that.
{ echo '{"test_id": "a", }'; printf '%*s\n' 1001 '' | tr ' ' '['; echo '[1]'; } >"$tmp/badjson.jsonl"
expect_rc 1 "$shim" decide --scheduler round-robin --workers "$tmp/fleet.json" --tests "$tmp/badjson.jsonl"
has "$tmp/err" "badjson.jsonl:1: not valid JSON near byte 17"
has "$tmp/err" "badjson.jsonl:2: nested deeper than 1000 levels at byte 1000"
has "$tmp/err" "badjson.jsonl:3: must be a JSON object, got an array"
lines "$tmp/err" 3
# An outcome the store refuses says why, not "status -1".
long=$(printf '%*s' 600 '' | tr ' ' 'w')
fb cpu_1 "$long" >"$tmp/longfb.jsonl"
expect_rc 1 "$shim" decide --workers "$tmp/fleet.json" --tests "$tmp/tests.jsonl" --feedback "$tmp/longfb.jsonl"
has "$tmp/err" "longfb.jsonl:2: outcome not learned: its worker_id is 600 bytes, more than the 510 a scheduler learns from (a store's longest key)"
lacks "$tmp/err" "status -1"
# ... and that alone: it was also called "learned all the same" (not in the
# fleet), and blamed on a store this config has none of
lacks "$tmp/err" "learned all the same"
lacks "$tmp/err" "a store learns"
# A newline or an escape sequence in a file name reached the terminal, and
# the message took two lines (a forged "fake: line.jsonl:1: ..."): one line
printf '{"test_id": 5}\n' >"$tmp/t
fake: line.jsonl"
expect_rc 1 "$shim" decide --workers "$tmp/fleet.json" --tests "$tmp/t
fake: line.jsonl"
has "$tmp/err" "t?fake: line.jsonl:1: field 'test_id': must be a non-empty string, got 5"
lines "$tmp/err" 1
expect_rc 1 "$shim" decide --workers "$tmp/w$(printf '\033')[2Jx.json" --tests "$tmp/tests.jsonl"
has "$tmp/err" "w?[2Jx.json: cannot open: No such file or directory"
if grep -q "$(printf '\033')" "$tmp/err"; then bad "an ESC reached stderr"; else ok; fi
# check: a plugin whose every scheduler is refused is not usable.
expect_rc 2 "$shim" check "$LBS_REFUSED_PLUGIN"
has "$tmp/out" "#0 refused: "
has "$tmp/err" "no usable scheduler"
# Warnings are capped per record and per run, then counted in one line:
# one 2.6 MB line naming 200,000 unknown backends ...
awk 'BEGIN { printf "{\"test_id\": \"w\", \"custom_properties\": {\"preferred_backends\": [";
	for (i = 0; i < 200000; i++) printf "%s\"nope%06d\"", (i ? "," : ""), i; print "]}}" }' >"$tmp/warn.jsonl"
expect_rc 0 "$shim" decide --scheduler round-robin --workers "$tmp/fleet.json" --tests "$tmp/warn.jsonl"
lines "$tmp/out" 1
lines "$tmp/err" 11
has "$tmp/err" "warn.jsonl:1: field 'custom_properties.preferred_backends[9]': unknown backend 'nope000009'"
lacks "$tmp/err" "nope000010"
has "$tmp/err" "lbsched-shim: warning: 199990 more warnings suppressed (at most 10 per record and 100 in all are shown)"
# ... and 30 lines of 5 unknown backends each: 100 shown, 50 counted.
awk 'BEGIN { for (t = 0; t < 30; t++) { printf "{\"test_id\": \"w%d\", \"custom_properties\": {\"preferred_backends\": [", t;
	for (i = 0; i < 5; i++) printf "%s\"nope%d\"", (i ? "," : ""), i; print "]}}" } }' >"$tmp/warn.jsonl"
expect_rc 0 "$shim" decide --scheduler round-robin --workers "$tmp/fleet.json" --tests "$tmp/warn.jsonl"
lines "$tmp/out" 30
lines "$tmp/err" 101
has "$tmp/err" "50 more warnings suppressed"
# Plugin text is bounded and on one line (issue 15).
expect_rc 0 "$shim" check "$LBS_RUDE_PLUGIN"
lines "$tmp/out" 6
has "$tmp/out" 'plugin: rude\x0a\x1b[2Jplugin 0.0.1'
has "$tmp/out" "#0 refused: $LBS_RUDE_PLUGIN: scheduler 'rude\x0a\x1b[31mforged' refused: its name contains a control character"
has "$tmp/out" "#1 refused: $LBS_RUDE_PLUGIN: scheduler 'nnnnnnnn"
has "$tmp/out" "its name is longer than 128 bytes"
# A 4,000-byte description is cut to 1,024 bytes and "...".
has "$tmp/out" "  rude-long        $(printf 'd%.0s' $(seq 1024))..."
lacks "$tmp/out" "$(printf 'd%.0s' $(seq 1025))"
lacks "$tmp/out" $'\x1b'
expect_rc 2 "$shim" check "$LBS_RUDE_COUNT_PLUGIN"
has "$tmp/err" "says it has 4294967295 schedulers, more than 1024"
lines "$tmp/err" 1
lines "$tmp/out" 0
# A test id with a newline, and a plugin id with a newline and an escape: one
# log line.
printf '{"test_id": "t\\nlbsched-shim: error: forged", "minimum_memory": 1}\n' >"$tmp/nl.jsonl"
echo '{"mode": "forged_id"}' >"$tmp/forged.json"
expect_rc 0 "$shim" decide --plugin "$LBS_LIAR_PLUGIN" --scheduler liar --config "$tmp/forged.json" --workers "$tmp/fleet.json" --tests "$tmp/nl.jsonl"
lines "$tmp/err" 1
has "$tmp/err" "plugin misbehaving: scheduler 'liar' on workload 't\x0albsched-shim: error: forged'"
lacks "$tmp/err" $'\x1b'
# A reason without a terminator is cut at the end of the host's buffer (512).
echo '{"mode": "unterminated_reason"}' >"$tmp/unterm.json"
expect_rc 0 "$shim" decide --plugin "$LBS_LIAR_PLUGIN" --scheduler liar --config "$tmp/unterm.json" --workers "$tmp/fleet.json" --tests "$tmp/tests.jsonl"
has "$tmp/out" "\"reason\":\"$(printf 'R%.0s' $(seq 511))\"}"

# Plugin paths: what is not a regular ELF shared object for this host, as long
# as its headers say, is refused before dlopen(), each for what it is.
mkfifo "$tmp/fifo.so"
expect_rc 1 timeout 20 "$shim" check "$tmp/fifo.so"
has "$tmp/err" "fifo.so: cannot load plugin: it is a FIFO; a plugin must be a regular file"
expect_rc 1 timeout 20 "$shim" decide --plugin "$tmp/fifo.so" --workers "$tmp/fleet.json" --tests "$tmp/tests.jsonl"
has "$tmp/err" "it is a FIFO"
echo "{\"children\": [{\"scheduler\": \"x\", \"plugin\": \"$tmp/fifo.so\"}]}" >"$tmp/fifochild.json"
expect_rc 1 timeout 20 "$shim" decide --scheduler composite --config "$tmp/fifochild.json" --workers "$tmp/fleet.json" --tests "$tmp/tests.jsonl"
has "$tmp/err" "config field 'children[0]': $tmp/fifo.so: cannot load plugin: it is a FIFO"
expect_rc 1 "$shim" check "$tmp"
has "$tmp/err" "it is a directory"
ln -s "$tmp/loop-b" "$tmp/loop-a" && ln -s "$tmp/loop-a" "$tmp/loop-b"
expect_rc 1 "$shim" check "$tmp/loop-a"
has "$tmp/err" "loop-a: cannot load plugin: too many levels of symbolic links (a symlink loop?)"
expect_rc 1 "$shim" check "$tmp/missing.so"
has "$tmp/err" "missing.so: cannot load plugin: no such file"
# The default's path from the environment: said, as no option named it.
LBSCHED_PLUGIN="$tmp/env.so" expect_rc 1 "$shim" decide --workers "$LBS_SRCDIR/examples/fleet.json" --tests "$LBS_SRCDIR/examples/tests.jsonl"
has "$tmp/err" "\$LBSCHED_PLUGIN: $tmp/env.so: cannot load plugin: no such file"
# Permission denied: a directory the caller cannot search (root is let
# through, so as root the shim runs as nobody).
mkdir -m 0700 "$tmp/locked" && cp "$plugin" "$tmp/locked/p.so"
if [ "$(id -u)" = 0 ]; then
	chmod 0755 "$tmp"
	expect_rc 1 setpriv --reuid=65534 --regid=65534 --clear-groups "$shim" check "$tmp/locked/p.so"
	chmod 0700 "$tmp"
else
	chmod 0 "$tmp/locked"
	expect_rc 1 "$shim" check "$tmp/locked/p.so"
	chmod 0700 "$tmp/locked"
fi
has "$tmp/err" "p.so: cannot load plugin: permission denied"
# Another architecture: the plugin with its e_machine patched.
if [ "$(uname -m)" = aarch64 ]; then machine='\x3e' want="built for x86-64, this host is aarch64"
else machine='\xb7' want="built for aarch64, this host is"; fi
cp "$plugin" "$tmp/foreign.so"
printf "$machine\\x00" | dd of="$tmp/foreign.so" bs=1 seek=18 conv=notrunc status=none
expect_rc 1 "$shim" check "$tmp/foreign.so"
has "$tmp/err" "foreign.so: cannot load plugin: $want"
# Truncated: half the file (its section headers are gone), and, with the
# section header fields zeroed, cut inside its code (dlopen died of SIGBUS).
size=$(stat -c %s "$plugin")
head -c $((size / 2)) "$plugin" >"$tmp/half.so"
expect_rc 1 "$shim" check "$tmp/half.so"
has "$tmp/err" "half.so: cannot load plugin: truncated: the file is $((size / 2)) bytes, its section headers are"
cp "$plugin" "$tmp/noshdr.so"
dd if=/dev/zero of="$tmp/noshdr.so" bs=1 seek=40 count=8 conv=notrunc status=none
dd if=/dev/zero of="$tmp/noshdr.so" bs=1 seek=60 count=4 conv=notrunc status=none
head -c 8192 "$tmp/noshdr.so" >"$tmp/cut.so"
expect_rc 1 "$shim" check "$tmp/cut.so"
has "$tmp/err" "cut.so: cannot load plugin: truncated: the file is 8192 bytes, its segment"
lines "$tmp/err" 1
# Damaged inside, its length whole: the tail lost to zeros (a copy cut by
# a power loss), and a relocation table's address overwritten; dlopen()
# died of SIGSEGV in its relocation on both.
cp "$plugin" "$tmp/zeros.so"
dd if=/dev/zero of="$tmp/zeros.so" bs=4096 seek=1 count=$((size / 4096)) conv=notrunc status=none
truncate -s "$size" "$tmp/zeros.so"
expect_rc 1 "$shim" check "$tmp/zeros.so"
has "$tmp/err" "zeros.so: cannot load plugin: damaged: its dynamic section has no string table (DT_STRTAB)"
lines "$tmp/err" 1
# dyn_set FILE TAG...: the first of the TAGs in FILE's dynamic section set
# to an address no segment loads
dyn_set() {
	python3 - "$@" <<'PY'
import struct, sys
f = open(sys.argv[1], "r+b"); b = f.read(); tags = [int(t) for t in sys.argv[2:]]
phoff, = struct.unpack_from("<Q", b, 32); phnum, = struct.unpack_from("<H", b, 56)
for i in range(phnum):
    typ, = struct.unpack_from("<I", b, phoff + i * 56)
    if typ == 2:  # PT_DYNAMIC
        off, = struct.unpack_from("<Q", b, phoff + i * 56 + 8)
        while True:
            tag, = struct.unpack_from("<q", b, off)
            if tag in tags or tag == 0:
                assert tag, "none of the tags"
                f.seek(off + 8); f.write(struct.pack("<Q", 0x7fff00000000)); break
            off += 16
PY
}
cp "$plugin" "$tmp/rela.so"
dyn_set "$tmp/rela.so" 7 23  # DT_RELA, DT_JMPREL
expect_rc 1 "$shim" check "$tmp/rela.so"
has "$tmp/err" "at address 0x7fff00000000, lies outside what its segments load from the file"
lines "$tmp/err" 1
cp "$plugin" "$tmp/init.so"
dyn_set "$tmp/init.so" 25  # DT_INIT_ARRAY: the loader ran what it found there
expect_rc 1 "$shim" check "$tmp/init.so"
has "$tmp/err" "init.so: cannot load plugin: damaged: its initialisers (DT_INIT_ARRAY), "
lines "$tmp/err" 1
expect_rc 1 "$shim" check "$LBS_SRCDIR/examples/fleet.json"
has "$tmp/err" "fleet.json: cannot load plugin: not an ELF file"
# an ELF dlopen refuses: its message once, the path once
cp "$(command -v ls)" "$tmp/pie.so"
expect_rc 1 "$shim" check "$tmp/pie.so"
lines "$tmp/err" 1
if [ "$(grep -o 'pie\.so' "$tmp/err" | wc -l)" = 1 ]; then ok; else bad "the path twice: $(cat "$tmp/err")"; fi
has "$tmp/err" "pie.so: cannot load plugin: "

# Output that never reached stdout (a full disk) is an error, not a
# success: for a small output (the last flush fails) and a large one (a
# write in the middle failed).
full() { # ARGS...: run with stdout on /dev/full, expecting exit 1 and one line
	"$shim" "$@" >/dev/full 2>"$tmp/err"
	local rc=$?
	[ "$rc" = 1 ] && ok || bad "$* >/dev/full: exit $rc, expected 1"
	has "$tmp/err" "lbsched-shim: cannot write standard output: "
	lines "$tmp/err" 1
}
if [ -c /dev/full ]; then
	full --version
	full orchestrate --graph "$LBS_SRCDIR/examples/graphs/llm.json" --workers "$LBS_SRCDIR/examples/hetero/fleet.json"
	full decide --workers "$LBS_SRCDIR/examples/fleet.json" --tests "$LBS_SRCDIR/examples/tests.jsonl"
	# lost answers are said after a bad line's own error too (the user
	# heard only of line 2, and took lines 1 and 3 as answered)
	printf '{"test_id": "a"}\n{"test_id": "b", "priority": 9}\n{"test_id": "c"}\n' >"$tmp/mid.jsonl"
	"$shim" decide --workers "$LBS_SRCDIR/examples/fleet.json" --tests "$tmp/mid.jsonl" \
		>/dev/full 2>"$tmp/err"
	[ "$?" = 1 ] && ok || bad "a bad line and a full disk: not exit 1"
	has "$tmp/err" "lbsched-shim: $tmp/mid.jsonl:2: field 'priority'"
	has "$tmp/err" "lbsched-shim: cannot write standard output: "
	lines "$tmp/err" 2
	# prefs export names standard output itself, once
	echo '{"store": {"path": "'"$tmp"'/fullprefs"}}' >"$tmp/fullprefs.json"
	"$shim" decide --config "$tmp/fullprefs.json" --workers "$LBS_SRCDIR/examples/fleet.json" \
		--tests "$LBS_SRCDIR/examples/tests.jsonl" >/dev/null 2>&1
	"$shim" prefs export --db "$tmp/fullprefs" >/dev/full 2>"$tmp/err"
	[ "$?" = 1 ] && ok || bad "prefs export >/dev/full: not exit 1"
	has "$tmp/err" "lbsched-shim: prefs export: cannot write to standard output"
	lines "$tmp/err" 1
else
	echo "note: no /dev/full; the full-disk check is skipped"
fi
# A closed standard stream: the store's lock.mdb took its number, and got
# the answers (or the errors, or was read as the tests) with exit 0.
echo '{"store": {"path": "'"$tmp"'/closed"}}' >"$tmp/closed.json"
echo '{"test_id": "MARK1"}' | "$shim" decide --config "$tmp/closed.json" \
	--workers "$LBS_SRCDIR/examples/fleet.json" >&- 2>"$tmp/err"
[ "$?" = 1 ] && ok || bad "closed stdout: not exit 1"
has "$tmp/err" "lbsched-shim: cannot write standard output: "
echo '{"test_id": "MARK2", "priority": 9}' | "$shim" decide --config "$tmp/closed.json" \
	--workers "$LBS_SRCDIR/examples/fleet.json" >/dev/null 2>&-
[ "$?" = 1 ] && ok || bad "closed stderr: not exit 1"
"$shim" decide --config "$tmp/closed.json" --workers "$LBS_SRCDIR/examples/fleet.json" \
	<&- >"$tmp/out" 2>"$tmp/err"
[ "$?" = 1 ] && ok || bad "closed stdin: not exit 1"
has "$tmp/err" "<stdin>: read error: Bad file descriptor"
lacks "$tmp/closed/lock.mdb" "MARK"
lacks "$tmp/closed/lock.mdb" "priority"

# A signal stops decide between two lines (docs/SIMULATE.md, "Interrupted"):
# what it has read is answered and learned, the scheduler closed so that its
# store commits what it still queues (batch_ms would hold it a minute), one
# line says so, and the exit status is the signal's, as a shell's.
mkdir "$tmp/sig"
printf '{"store": {"path": "%s", "batch_ms": 60000, "batch_count": 65536}}\n' "$tmp/sig/db" >"$tmp/sig/cfg.json"
# outcomes from a pipe that stays open: SIGINT while decide waits for more
mkfifo "$tmp/sig/fb"
"$shim" decide --config "$tmp/sig/cfg.json" --workers "$LBS_SRCDIR/examples/fleet.json" \
	--tests "$LBS_SRCDIR/examples/tests.jsonl" --feedback "$tmp/sig/fb" >"$tmp/sig/out" 2>"$tmp/sig/err" &
job=$!
exec 8>"$tmp/sig/fb"
head -5 "$LBS_SRCDIR/examples/outcomes.jsonl" >&8
# read by decide: the FIFO $1 is empty (FIONREAD counts what is in it)
pipe_read() {
	python3 -c 'import fcntl, os, struct, sys, termios
fd = os.open(sys.argv[1], os.O_WRONLY)
sys.exit(struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0" * 4))[0] != 0)' "$1"
}
until_ok 60 pipe_read "$tmp/sig/fb" || bad "decide did not read its feedback"
signal_rc "$job" INT
exec 8>&-
eq "decide stopped by SIGINT: exit status" "$rc" 130
ntests=$(grep -c . "$LBS_SRCDIR/examples/tests.jsonl")
lines "$tmp/sig/out" "$ntests"
lines "$tmp/sig/err" 1
has "$tmp/sig/err" "lbsched-shim: decide: interrupted by SIGINT after $ntests tests and 5 outcomes; what was learned is kept"
expect_rc 0 "$shim" prefs export --db "$tmp/sig/db"
n=$(sum_samples "$tmp/out"); [ "$n" = 5 ] && ok || bad "a stopped decide kept $n samples, expected 5"
# an outcome the store cannot keep (the impossible record of db5 above),
# held in its batch until decide closes it: the line comes after the
# store's error and does not say that what was learned is kept
if [ -d "$tmp/db5" ]; then
	mkfifo "$tmp/sig/fb2"
	"$shim" decide --config "$tmp/db5late.json" --workers "$tmp/fleet.json" --tests /dev/null \
		--feedback "$tmp/sig/fb2" >"$tmp/sig/out5" 2>"$tmp/sig/err5" &
	job=$!
	exec 8>"$tmp/sig/fb2"
	cat "$tmp/lost.jsonl" >&8
	until_ok 60 pipe_read "$tmp/sig/fb2" || bad "decide did not read its feedback"
	signal_rc "$job" INT
	exec 8>&-
	eq "decide stopped by SIGINT, a loss at close: exit status" "$rc" 130
	has "$tmp/sig/err5" "1 outcomes for such records lost"
	last=$(tail -n 1 "$tmp/sig/err5")
	eq "decide's interruption line, after the store's error" "$last" \
		"lbsched-shim: decide: interrupted by SIGINT after 0 tests and 2 outcomes; the errors above say what the stores may not have kept"
fi
# tests from standard input, a pipe that stays open: SIGTERM while it waits
mkfifo "$tmp/sig/tests"
"$shim" decide --scheduler round-robin --workers "$tmp/fleet.json" <"$tmp/sig/tests" >"$tmp/sig/out2" 2>"$tmp/sig/err2" &
job=$!
exec 8>"$tmp/sig/tests"
head -2 "$tmp/tests.jsonl" >&8
two_out() { [ "$(grep -c . "$tmp/sig/out2")" = 2 ]; }
until_ok 60 two_out || bad "decide did not answer the two tests"
signal_rc "$job" TERM
exec 8>&-
eq "decide stopped by SIGTERM: exit status" "$rc" 143
lines "$tmp/sig/err2" 1
has "$tmp/sig/err2" "lbsched-shim: decide: interrupted by SIGTERM after 2 tests; what was learned is kept"
# orchestrate, its graph from a pipe that stays open: it has said that it
# catches SIGINT (SigCgt, bit 2), then waits for its graph
mkfifo "$tmp/sig/graph"
"$shim" orchestrate --graph - --workers "$LBS_SRCDIR/examples/fleet.json" <"$tmp/sig/graph" >"$tmp/sig/out3" 2>"$tmp/sig/err3" &
job=$!
exec 8>"$tmp/sig/graph"
until_ok 60 catches_int "$job" || bad "orchestrate does not catch SIGINT"
signal_rc "$job" INT
exec 8>&-
eq "orchestrate stopped by SIGINT: exit status" "$rc" 130
lines "$tmp/sig/out3" 0
lines "$tmp/sig/err3" 1
has "$tmp/sig/err3" "lbsched-shim: orchestrate: interrupted by SIGINT after 0 placements; what was learned is kept"
# SIGINT while decide's answers wait on a full pipe: the write goes on
# once the reader reads (it was cut, and what stdio held lost: a torn line,
# and answers missing), and every test it decided has its whole line
python3 -c 'import json, sys
src = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
for r in range(300):
    for t in src:
        print(json.dumps(dict(t, test_id="r%d-%s" % (r, t["test_id"]))))' "$LBS_SRCDIR/examples/tests.jsonl" >"$tmp/sig/many.jsonl"
mkfifo "$tmp/sig/answers"
"$shim" decide --scheduler round-robin --workers "$LBS_SRCDIR/examples/fleet.json" \
	<"$tmp/sig/many.jsonl" >"$tmp/sig/answers" 2>"$tmp/sig/err4" &
job=$!
exec 9<"$tmp/sig/answers"
# the pipe all but full (64 KiB, less a part page), and decide waits in
# its write
pipe_full() {
	python3 -c 'import fcntl, struct, sys, termios
sys.exit(struct.unpack("i", fcntl.ioctl(9, termios.FIONREAD, b"\0" * 4))[0] < 32768)' &&
		grep -q pipe_write "/proc/$job/wchan"
}
until_ok 60 pipe_full || bad "decide did not fill its stdout"
kill -INT "$job"
cat <&9 >"$tmp/sig/out4"
exec 9<&-
wait "$job"
eq "decide stopped by SIGINT in a write: exit status" "$?" 130
lines "$tmp/sig/err4" 1
n=$(sed -n 's/.*interrupted by SIGINT after \([0-9]*\) tests.*/\1/p' "$tmp/sig/err4")
lines "$tmp/sig/out4" "$n"
if python3 -c 'import json, sys
for l in open(sys.argv[1]): json.loads(l)' "$tmp/sig/out4"; then ok; else bad "a torn answer line: $(grep -v '}$' "$tmp/sig/out4" | head -1)"; fi
# outcomes refused whole (a byte order mark) are one line, as when the
# file was read whole: no "reported 0 outcomes" after it
printf '\xef\xbb\xbf{"test_id": "x"}\n' >"$tmp/sig/bom.jsonl"
expect_rc 1 "$shim" decide --scheduler round-robin --workers "$tmp/fleet.json" --tests "$tmp/tests.jsonl" \
	--feedback "$tmp/sig/bom.jsonl"
lines "$tmp/err" 1
has "$tmp/err" "$tmp/sig/bom.jsonl: starts with a UTF-8 byte order mark"

finish test_cli
