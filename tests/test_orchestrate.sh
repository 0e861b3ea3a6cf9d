#!/usr/bin/env bash
# test_orchestrate.sh -- `lbsched-shim orchestrate` and `simulate --graphs`
# (issue 20): the plan's lines (placement, estimates, critical path), the
# one-line errors for bad graphs and options, and the graph simulator's
# columns (orchestrator, HEFT, critical-path bound) with failures recovered
# by every strategy.
set -u
shim=${LBS_SHIM:?run through meson test}
plugin=${LBS_PLUGIN:?}
src=${LBS_SRCDIR:?}
. "$src/tests/testlib.sh"
fleet=$src/examples/hetero/fleet.json
truth=$src/examples/hetero/truth.json
graph=$src/examples/graphs/llm.json
# eq WHAT GOT WANT
pycheck() { # pycheck FILE EXPR...: each EXPR true over `L`, the file's JSON lines
	if python3 - "$@" <<'PY'
import json, sys
L = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
for expr in sys.argv[2:]:
    if not eval(expr):
        print("check failed:", expr, L, file=sys.stderr)
        sys.exit(1)
PY
	then ok; else bad "python check on $1"; fi
}

# --- The plan of the original's example flow on the hetero fleet.
expect_rc 0 "$shim" orchestrate --plugin "$plugin" --graph "$graph" --workers "$fleet"
cp "$tmp/out" "$tmp/plan"
lines "$tmp/plan" 7
pycheck "$tmp/plan" \
	'L[0]["critical_path"] == ["tokenize", "encode", "generate", "postprocess"]' \
	'L[0]["scheduler"] == "hardware-aware"' \
	'sorted(l["subtask_id"] for l in L[1:6]) == ["encode", "generate", "postprocess", "safety_check", "tokenize"]' \
	'all(l["est_source"] == "explain.run_s" for l in L[1:6])' \
	'all(l["finish_s"] >= l["start_s"] for l in L[1:6])' \
	'{l["subtask_id"]: l for l in L[1:6]}["generate"]["worker"].startswith("gpu_")' \
	'{l["subtask_id"]: l for l in L[1:6]}["generate"]["start_s"] >= {l["subtask_id"]: l for l in L[1:6]}["encode"]["finish_s"]' \
	'{l["subtask_id"]: l for l in L[1:6]}["safety_check"]["critical_path"] is False' \
	'abs(L[6]["makespan_s"] - max(l["finish_s"] for l in L[1:6])) < 1e-3' \
	'abs(L[0]["critical_path_s"] - L[6]["makespan_s"]) < 1e-3' \
	'L[6]["completed"] is True'
# Round-robin has no estimate of its own: the declared durations.
expect_rc 0 "$shim" orchestrate --plugin "$plugin" --graph "$graph" --workers "$fleet" --scheduler round-robin
pycheck "$tmp/out" 'all(l["est_source"] == "declared" for l in L[1:6])' \
	'L[0]["critical_path_s"] == 5 + 20 + 90 + 5'

# A critical-path subtask is estimated at the priority it is placed at:
# declared 4, raised to 3, priority places it as timed work on a GPU (a
# run_s), where at 4 it spreads (no run_s: the declared 100 s).
echo '{"subtasks": {"a": {"priority": 4, "requirements": {"expected_duration": 100}}}}' >"$tmp/raised.json"
expect_rc 0 "$shim" orchestrate --plugin "$plugin" --graph "$tmp/raised.json" --workers "$src/examples/fleet.json" --scheduler priority
pycheck "$tmp/out" 'L[1]["est_source"] == "explain.run_s"' 'L[1]["est_s"] < 100' \
	'L[1]["worker"] == "gpu_mi250_1"' 'abs(L[1]["finish_s"] - L[1]["est_s"]) < 1e-9' \
	'abs(L[0]["critical_path_s"] - L[1]["est_s"]) < 1e-9'

# Running subtasks hold their memory and accelerators, as decide's stream
# holds its placements: a worker of 100 GB and 2 GPUs ran three subtasks of
# 60 GB, or of a GPU each, at once.
echo '{"workers": [{"worker_id": "big", "supported_backends": ["cpu", "cuda"], "has_gpu": true, "available_accelerators": {"gpu": 2}, "available_memory": 100, "cpu_cores": 16, "capacity": 4}]}' >"$tmp/big.json"
for need in '"minimum_memory": 60' '"required_accelerators": {"gpu": 1}'; do
	python3 -c 'import json, sys; print(json.dumps({"subtasks": {k: {"requirements": dict(json.loads("{" + sys.argv[1] + "}"), expected_duration=10)} for k in "abc"}}))' "$need" >"$tmp/held.json"
	expect_rc 0 "$shim" orchestrate --plugin "$plugin" --graph "$tmp/held.json" --workers "$tmp/big.json" --scheduler round-robin
	case $need in
	*memory*) pycheck "$tmp/out" 'sorted(l["start_s"] for l in L[1:4]) == [0, 10, 20]' 'L[4]["makespan_s"] == 30' ;;
	*) pycheck "$tmp/out" 'sorted(l["start_s"] for l in L[1:4]) == [0, 0, 10]' 'L[4]["makespan_s"] == 20' ;;
	esac
done

# The plan runs on an idle fleet, and so do its estimates: the fleet file's
# load (here every GPU worker full, with work ahead) changes none of them.  A
# run lasts its estimate on the worker it was placed on: four subtasks of
# one type on two workers of a slot each, so two run on the worker that
# is not the one the estimate was of.
python3 - "$fleet" "$tmp/loaded.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for w in [w for w in (d["workers"] if isinstance(d, dict) else d) if w.get("has_gpu")]:
    w["load"] = {"active_tests": 4, "cpu_utilization": 100, "memory_utilization": 100,
                 "gpu_utilization": 100, "pending_work": 5000}
json.dump(d, open(sys.argv[2], "w"))
PY
expect_rc 0 "$shim" orchestrate --plugin "$plugin" --graph "$graph" --workers "$tmp/loaded.json"
cp "$tmp/out" "$tmp/loadedplan"
expect_rc 0 cmp "$tmp/loadedplan" "$tmp/plan"
# Nor does the rest of a worker's load: its reserved memory or its
# throttling.  The check before the plan refused the only CUDA worker for
# the memory the file reserved, and the plan ran the subtask five times as
# long on the worker the file throttled.
echo '{"subtasks": {"gen": {"requirements": {"test_type": "nlp_text_generation", "minimum_memory": 16, "expected_duration": 90, "required_backend": "cuda"}}}}' >"$tmp/gen.json"
i=0
for load in null '{"reserved_memory": 470}' '{"performance_level": 0.2, "cooling_state": true}'; do
	python3 - "$src/examples/fleet.json" "$tmp/genfleet.json" "$load" <<'PY'
import json, sys
ws = {w["worker_id"]: w for w in json.load(open(sys.argv[1]))["workers"]}
two = [ws["cpu_epyc_2"], ws["gpu_a100_1"]]
for w in two:
    w.pop("load", None)
if json.loads(sys.argv[3]) is not None:
    two[1]["load"] = json.loads(sys.argv[3])
json.dump({"workers": two}, open(sys.argv[2], "w"))
PY
	expect_rc 0 "$shim" orchestrate --plugin "$plugin" --graph "$tmp/gen.json" --workers "$tmp/genfleet.json"
	cp "$tmp/out" "$tmp/genplan$i"
	if [ $i = 0 ]; then
		pycheck "$tmp/genplan0" 'L[1]["worker"] == "gpu_a100_1"' 'L[2]["completed"] is True'
	else
		expect_rc 0 cmp "$tmp/genplan$i" "$tmp/genplan0"
	fi
	i=$((i + 1))
done
echo '{"subtasks": {"a": {"requirements": {"test_type": "vision_classification", "expected_duration": 100}}, "b": {"requirements": {"test_type": "vision_classification", "expected_duration": 100}}, "c": {"requirements": {"test_type": "vision_classification", "expected_duration": 100}}, "d": {"requirements": {"test_type": "vision_classification", "expected_duration": 100}}}}' >"$tmp/par.json"
python3 - "$fleet" "$tmp/two.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
ws = {w["worker_id"]: w for w in (d["workers"] if isinstance(d, dict) else d)}
two = [ws["gpu_a100_1"], ws["cpu_amd_1"]]
for w in two:
    w["capacity"] = 1
json.dump({"workers": two}, open(sys.argv[2], "w"))
PY
expect_rc 0 "$shim" orchestrate --plugin "$plugin" --graph "$tmp/par.json" --workers "$tmp/two.json"
cp "$tmp/out" "$tmp/parplan"
# on each worker its runs last the same, the CPU's longer than the estimate
# (the A100's), and the makespan is the CPU's two runs end to end
pycheck "$tmp/parplan" \
	'len({round(l["finish_s"] - l["start_s"], 6) for l in L[1:5] if l["worker"] == "cpu_amd_1"}) == 1' \
	'all(abs(l["finish_s"] - l["start_s"] - l["est_s"]) < 1e-6 for l in L[1:5] if l["worker"] == "gpu_a100_1")' \
	'all(l["finish_s"] - l["start_s"] > l["est_s"] + 1 for l in L[1:5] if l["worker"] == "cpu_amd_1")' \
	'abs(L[5]["makespan_s"] - max(l["finish_s"] for l in L[1:5])) < 1e-6'

# A run the plan models past the converter's bound on a host's duration
# (1e7 s): 9e6 s declared, on a worker slower than the reference.  The
# plan's own duration is no host's result to refuse.
echo '{"subtasks": {"a": {"requirements": {"test_type": "training_fine_tune", "expected_duration": 9000000}}}}' >"$tmp/long.json"
echo '{"workers": [{"worker_id": "tiny", "supported_backends": ["cpu"], "available_memory": 4, "cpu_cores": 1, "hardware_specs": {"cpu_arch": "armv7", "cpu_clock_mhz": 600}}]}' >"$tmp/tiny.json"
expect_rc 0 "$shim" orchestrate --plugin "$plugin" --graph "$tmp/long.json" --workers "$tmp/tiny.json"
cp "$tmp/out" "$tmp/longplan"
pycheck "$tmp/longplan" 'L[1]["finish_s"] > 1e7' 'abs(L[-1]["makespan_s"] - L[1]["finish_s"]) < 1e-3'

# A bare composite is the blend simulate runs (the plugin's default children).
expect_rc 0 "$shim" orchestrate --plugin "$plugin" --graph "$graph" --workers "$fleet" --scheduler composite
pycheck "$tmp/out" 'L[0]["scheduler"] == "composite"' 'L[6]["completed"] is True'

# Every scheduler of the plugin but hardware-aware and priority explains no
# run_s: the declared durations (docs/ORCHESTRATE.md lists them).
for s in weighted-round-robin performance affinity adaptive composite; do
	expect_rc 0 "$shim" orchestrate --plugin "$plugin" --graph "$graph" --workers "$fleet" --scheduler $s
	pycheck "$tmp/out" 'all(l["est_source"] == "declared" for l in L[1:6])'
done
# A subtask without requirements: the converter's default 60 s, as declared.
printf '{"subtasks": {"a": {}}}' > "$tmp/noreq.json"
expect_rc 0 "$shim" orchestrate --plugin "$plugin" --graph "$tmp/noreq.json" --workers "$fleet" --scheduler round-robin
pycheck "$tmp/out" 'L[1]["est_s"] == 60 and L[1]["est_source"] == "declared"'

# Priority estimates timed work by completion, as it places it (hardware-aware's
# run_s); at a spreading priority it explains no run_s: the declared duration.
printf '{"subtasks": {"a": {"requirements": {"expected_duration": 10}}, "b": {"priority": 5, "requirements": {"expected_duration": 10}}}}' > "$tmp/prio.json"
expect_rc 0 "$shim" orchestrate --plugin "$plugin" --graph "$tmp/prio.json" --workers "$fleet" --scheduler priority
pycheck "$tmp/out" '{l["subtask_id"]: l["est_source"] for l in L[1:3]} == {"a": "explain.run_s", "b": "declared"}' \
	'{l["subtask_id"]: l["est_s"] for l in L[1:3]}["b"] == 10'

# One worker that runs one thing at a time: independent subtasks wait at the
# host while it is busy (its load is over the ceiling) and run one after another.
printf '[{"worker_id": "solo", "supported_backends": ["cpu"], "available_memory": 16, "cpu_cores": 4, "capacity": 1}]' > "$tmp/solo.json"
printf '{"subtasks": {"a": {"requirements": {"expected_duration": 10}}, "b": {"requirements": {"expected_duration": 20}}, "c": {"requirements": {"expected_duration": 30}}}}' > "$tmp/three.json"
expect_rc 0 "$shim" orchestrate --plugin "$plugin" --graph "$tmp/three.json" --workers "$tmp/solo.json" --scheduler round-robin
pycheck "$tmp/out" '[l["subtask_id"] for l in L[1:4]] == ["c", "b", "a"]' \
	'[(l["start_s"], l["finish_s"]) for l in L[1:4]] == [(0, 30), (30, 50), (50, 60)]' \
	'L[4]["makespan_s"] == 60 and L[4]["placements"] == 3'

# --- Bad input: one line naming the file and subtask.
printf '{"subtasks": {"a": {"dependencies": ["b"]}, "b": {"dependencies": ["a"]}}}' > "$tmp/cycle.json"
expect_rc 1 "$shim" orchestrate --plugin "$plugin" --graph "$tmp/cycle.json" --workers "$fleet"
has "$tmp/err" "$tmp/cycle.json: subtask 'a': is on a dependency cycle"
lines "$tmp/err" 1
printf '{"subtasks": {"a": {"dependencies": ["zz"]}}}' > "$tmp/missing.json"
expect_rc 1 "$shim" orchestrate --plugin "$plugin" --graph "$tmp/missing.json" --workers "$fleet"
has "$tmp/err" "subtask 'a': depends on 'zz', which the graph does not have"
# A path of 2,000-odd bytes filled the 2,048 of the message before the
# subtask and the problem: cut as an id is, they stay.
long=$tmp
for k in 1 2 3 4 5 6 7 8 9 10; do long=$long/$(printf 'd%.0s' $(seq 210)); done
mkdir -p "$long"
cp "$tmp/missing.json" "$long/g.json"
expect_rc 1 "$shim" orchestrate --plugin "$plugin" --graph "$long/g.json" --workers "$fleet"
has "$tmp/err" "...: subtask 'a': depends on 'zz', which the graph does not have"
lines "$tmp/err" 1
eq "long path's message length" "$(($(wc -c <"$tmp/err") < 300))" 1
# A NUL in an id or a dependency, named by where it is (it was "a string
# holds \u0000 ... at byte 39" alone)
printf '{"subtasks": {"c": {"dependencies": ["x\\u0000"]}}}' > "$tmp/nuldep.json"
expect_rc 1 "$shim" orchestrate --plugin "$plugin" --graph "$tmp/nuldep.json" --workers "$fleet"
has "$tmp/err" "nuldep.json: field 'subtasks.c.dependencies[0]': a string holds \\u0000 (a NUL character) at byte 39"
lines "$tmp/err" 1
printf '{"subtasks": {"a\\u0000b": {}}}' > "$tmp/nulid.json"
expect_rc 1 "$shim" orchestrate --plugin "$plugin" --graph "$tmp/nulid.json" --workers "$fleet"
has "$tmp/err" "nulid.json: the key 'a\\\\u0000b' of field 'subtasks': a string holds \\u0000 (a NUL character) at byte 16"
printf '{"subtasks": {"huge": {"requirements": {"minimum_memory": 9999}}}}' > "$tmp/big.json"
expect_rc 1 "$shim" orchestrate --plugin "$plugin" --graph "$tmp/big.json" --workers "$fleet"
has "$tmp/err" "subtask 'huge': no worker in the fleet can run it (has too little free memory)"
lines "$tmp/err" 1
expect_rc 2 "$shim" orchestrate --plugin "$plugin" --graph "$graph"
has "$tmp/err" "orchestrate: --graph and --workers are required"
expect_rc 2 "$shim" orchestrate --plugin "$plugin" --graph "$graph" --workers "$fleet" --bogus
has "$tmp/err" "orchestrate: unknown option '--bogus'"
expect_rc 2 "$shim" orchestrate --plugin "$plugin" --workers "$fleet" --graph
has "$tmp/err" "orchestrate: option '--graph' needs a value"
expect_rc 1 "$shim" orchestrate --plugin "$plugin" --graph "$tmp/nope.json" --workers "$fleet"
has "$tmp/err" "$tmp/nope.json"
# Unknown fields are warnings, as in any record, never silently dropped.
printf '{"subtasks": {"a": {"colour": "red", "requirements": {"flavour": 1}}}}' > "$tmp/warn.json"
expect_rc 0 "$shim" orchestrate --plugin "$plugin" --graph "$tmp/warn.json" --workers "$fleet"
has "$tmp/err" "warning: $tmp/warn.json: subtask 'a': unknown field 'colour' ignored"
has "$tmp/err" "warning: $tmp/warn.json: subtask 'a': requirements: unknown field 'flavour' ignored"
# Copies on seven workers run on one (the graph is the parallelism), and it
# is said: the run gave no word of it, where decide refuses such a test on
# a smaller fleet.
printf '{"subtasks": {"a": {"requirements": {"custom_properties": {"allocation_strategy": "replicated", "min_shards": 7}}}, "b": {}}}' > "$tmp/rep.json"
expect_rc 0 "$shim" orchestrate --plugin "$plugin" --graph "$tmp/rep.json" --workers "$fleet"
lines "$tmp/err" 1
has "$tmp/err" "warning: $tmp/rep.json: subtask 'a': requirements: field 'custom_properties.allocation_strategy': 'replicated' on 7 to 7 workers placed on one: the orchestrator runs each subtask on one worker (the graph is the parallelism)"
# 100,000 subtasks: refused by their count.
python3 -c 'import json; print(json.dumps({"subtasks": {"s%d" % i: {} for i in range(100000)}}))' > "$tmp/huge.json"
expect_rc 1 "$shim" orchestrate --plugin "$plugin" --graph "$tmp/huge.json" --workers "$fleet"
has "$tmp/err" "$tmp/huge.json: field 'subtasks': 100000 subtasks, more than the 10000 a graph may have"

# A long path (about 300 bytes) keeps the entry and the subtask in the message:
# a 160-byte buffer cut both off in the array form.
long=$tmp/$(printf 'd%.0s' $(seq 60))/$(printf 'e%.0s' $(seq 60))/$(printf 'f%.0s' $(seq 60))/$(printf 'g%.0s' $(seq 60))
mkdir -p "$long"
printf '{"subtasks": [{"subtask_id": "a"}, {"requirements": {}}]}' > "$long/array-graph.json"
expect_rc 1 "$shim" orchestrate --plugin "$plugin" --graph "$long/array-graph.json" --workers "$fleet"
has "$tmp/err" "$long/array-graph.json: subtasks[1]: field 'subtask_id': required: a non-empty string"
lines "$tmp/err" 1
printf '{"subtasks": [{"subtask_id": "a"}, {"subtask_id": "b", "alternates": [{"minimum_memory": -1}]}]}' > "$long/array-graph.json"
expect_rc 1 "$shim" orchestrate --plugin "$plugin" --graph "$long/array-graph.json" --workers "$fleet"
has "$tmp/err" "$long/array-graph.json: subtask 'b': alternates[0]: field 'minimum_memory': must be"
lines "$tmp/err" 1

# --- A subtask only an alternate can run: it starts on that alternate, and
# the plan says so; one no requirement set fits is refused before any plan.
printf '[{"worker_id": "t1", "supported_backends": ["tpu", "cpu"], "available_memory": 32, "cpu_cores": 8}]' > "$tmp/tpu.json"
printf '{"noise_sigma": 0, "workers": {"t1": {"speed": {"*": 2}}}}' > "$tmp/tpu_truth.json"
printf '{"subtasks": {"a": {"requirements": {"expected_duration": 5}}, "g": {"requirements": {"required_backend": "cuda", "expected_duration": 10}, "dependencies": ["a"], "alternates": [{"required_backend": "tpu", "expected_duration": 12}], "recovery": {"strategy": "alternate"}}}}' > "$tmp/alt.json"
expect_rc 0 "$shim" orchestrate --plugin "$plugin" --graph "$tmp/alt.json" --workers "$tmp/tpu.json" --scheduler round-robin
pycheck "$tmp/out" '[(l["subtask_id"], l["worker"], l["alternate"]) for l in L[1:3]] == [("a", "t1", 0), ("g", "t1", 1)]' \
	'L[2]["est_s"] == 12 and L[0]["critical_path_s"] == 17' 'L[3]["completed"] is True'
expect_rc 0 "$shim" orchestrate --plugin "$plugin" --graph "$graph" --workers "$tmp/tpu.json"
pycheck "$tmp/out" '{l["subtask_id"]: l["alternate"] for l in L[1:6]}["generate"] == 1' 'L[6]["completed"] is True'
printf '[{"worker_id": "c1", "supported_backends": ["cpu"], "available_memory": 32, "cpu_cores": 8}]' > "$tmp/cpu.json"
expect_rc 1 "$shim" orchestrate --plugin "$plugin" --graph "$tmp/alt.json" --workers "$tmp/cpu.json"
has "$tmp/err" "$tmp/alt.json: subtask 'g': no worker in the fleet can run it (lacks a required backend)"
lines "$tmp/err" 1
lines "$tmp/out" 0
tr -d '\n' < "$tmp/alt.json" > "$tmp/alt.jsonl"; echo >> "$tmp/alt.jsonl"
expect_rc 0 "$shim" simulate --plugin "$plugin" --graphs "$tmp/alt.jsonl" --workers "$tmp/tpu.json" --truth "$tmp/tpu_truth.json"
pycheck "$tmp/out" 'L[0]["completed"] is True and L[0]["placements"] == 2' 'L[0]["orchestrator_s"] == 8.5'
# A failure's alternate recovery skips an alternate no worker takes: the
# declared requirements run again instead of the run stalling.
printf '[{"worker_id": "g1", "supported_backends": ["cuda", "cpu"], "available_memory": 32, "cpu_cores": 8}]' > "$tmp/cuda.json"
printf '{"noise_sigma": 0, "workers": {"g1": {"speed": {"*": 2}}}}' > "$tmp/cuda_truth.json"
expect_rc 0 "$shim" simulate --plugin "$plugin" --graphs "$tmp/alt.jsonl" --workers "$tmp/cuda.json" --truth "$tmp/cuda_truth.json" --fail-rate 0.5 --seed 2
pycheck "$tmp/out" 'L[0]["completed"] is True and L[0]["failures"] >= 1'
# The same with g alone, so that the failure is g's: its one failure moved
# it to the tpu alternate, which nothing here takes, and its declared cuda
# requirements ran again (the run stalled before).
printf '{"subtasks": {"g": {"requirements": {"required_backend": "cuda", "expected_duration": 10}, "alternates": [{"required_backend": "tpu", "expected_duration": 12}], "recovery": {"strategy": "alternate"}}}}\n' > "$tmp/galt.jsonl"
expect_rc 0 "$shim" simulate --plugin "$plugin" --graphs "$tmp/galt.jsonl" --workers "$tmp/cuda.json" --truth "$tmp/cuda_truth.json" --fail-rate 0.5 --seed 1
pycheck "$tmp/out" 'L[0]["completed"] is True and L[0]["failures"] == 1 and L[0]["placements"] == 2'

# A graph lost (a subtask failed its only attempt) places nothing more: six
# independent subtasks on one worker went on being placed after the loss,
# and their failures were counted (6 placed, 4 failed at this seed).
python3 -c 'import json; print(json.dumps({"subtasks": {k: {"requirements": {"expected_duration": 10}, "recovery": {"strategy": "retry", "max_attempts": 1}} for k in "abcdef"}}))' >"$tmp/lost.jsonl"
expect_rc 0 "$shim" simulate --plugin "$plugin" --graphs "$tmp/lost.jsonl" --workers "$tmp/cuda.json" --truth "$tmp/cuda_truth.json" --fail-rate 0.3 --seed 3
pycheck "$tmp/out" 'L[0]["completed"] is False and L[0]["failures"] == 1 and L[0]["placements"] < 6'

# --- simulate --graphs: three columns per graph, a summary, determinism.
python3 "$src/bench/graphgen.py" --graphs 4 --seed 3 --min 10 --max 60 > "$tmp/g.jsonl"
gsim() { "$shim" simulate --plugin "$plugin" --graphs "$tmp/g.jsonl" --workers "$fleet" --truth "$truth" "$@"; }
expect_rc 0 gsim --seed 5
cp "$tmp/out" "$tmp/s1"
lines "$tmp/s1" 5
pycheck "$tmp/s1" \
	'all(l["cp_bound_s"] <= l["heft_s"] for l in L[:4])' \
	'all(l["cp_bound_s"] <= l["orchestrator_s"] for l in L[:4])' \
	'all(l["completed"] for l in L[:4])' \
	'L[4]["graphs"] == 4 and L[4]["completed"] == 4'
expect_rc 0 gsim --seed 5
if cmp -s "$tmp/s1" "$tmp/out"; then ok; else bad "same seed, different results"; fi
# ... on an idle fleet, the first graph's estimates too: the A100's load in
# the file changes nothing (it ranked the first graph as if the A100 were
# busy: 83.98 s against 82.57 s, HEFT's).
python3 "$src/bench/graphgen.py" --graphs 2 --seed 4 --min 30 --max 30 > "$tmp/g30.jsonl"
cat >"$tmp/two_truth.json" <<'JSON'
{"noise_sigma": 0.1, "workers": {
 "gpu_a100_1": {"speed": {"VISION": 5, "NLP": 4, "TRAINING": 6, "AUDIO": 3, "EMBEDDING": 4, "*": 3}},
 "cpu_amd_1": {"speed": {"VISION": 0.7, "NLP": 1.0, "TRAINING": 0.4, "AUDIO": 1.3, "EMBEDDING": 1.2, "*": 1.1}}}}
JSON
python3 - "$tmp/two.json" "$tmp/two_loaded.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["workers"][0]["load"] = {"active_tests": 4, "cpu_utilization": 100, "memory_utilization": 100,
                           "gpu_utilization": 100, "pending_work": 5000}
json.dump(d, open(sys.argv[2], "w"))
PY
for f in two two_loaded; do
	expect_rc 0 "$shim" simulate --plugin "$plugin" --graphs "$tmp/g30.jsonl" --workers "$tmp/$f.json" --truth "$tmp/two_truth.json" --fail-rate 0
	cp "$tmp/out" "$tmp/$f.sim"
done
if cmp -s "$tmp/two.sim" "$tmp/two_loaded.sim"; then ok; else bad "the fleet file's load changed the simulation: $(diff "$tmp/two.sim" "$tmp/two_loaded.sim")"; fi
expect_rc 0 gsim --seed 5 --scheduler composite
pycheck "$tmp/out" 'L[4]["graphs"] == 4 and L[4]["completed"] == 4'
# 10 % of runs failing: every graph completes under every strategy.
for s in retry reassign skip alternate checkpoint; do
	expect_rc 0 gsim --seed 5 --fail-rate 0.1 --strategy $s --max-attempts 8
	pycheck "$tmp/out" 'all(l["completed"] for l in L[:4])' 'sum(l["failures"] for l in L[:4]) > 0' \
		'all(l["placements"] >= l["subtasks"] for l in L[:4])'
	# the graphs have no alternates: said once, which a graph file
	# giving "alternate" to such a subtask is refused for
	if [ $s = alternate ]; then
		lines "$tmp/err" 1
		has "$tmp/err" "warning: --strategy alternate: "
		has "$tmp/err" "subtasks have no 'alternates': a failed one is placed again with its own requirements"
	else
		lacks "$tmp/err" "alternates"
	fi
done
# A run resumed from a checkpoint is learned against the work it had left:
# reported against the whole 100 s, the second worker's 25 s run taught a
# speed 4x its true 1 (seed 2 fails the first run at 97 %, progress 0.75).
cat >"$tmp/twins.json" <<'JSON'
{"workers": [{"worker_id": "A", "cpu_cores": 16, "available_memory": 64, "supported_backends": ["cpu"], "capacity": 1},
             {"worker_id": "B", "cpu_cores": 16, "available_memory": 64, "supported_backends": ["cpu"], "capacity": 1}]}
JSON
echo '{"noise_sigma": 0, "workers": {"*": {"speed": {"*": 1}}}}' >"$tmp/even.json"
echo '{"name": "ck", "subtasks": {"c": {"requirements": {"test_type": "embedding_text", "expected_duration": 100}, "recovery": {"strategy": "checkpoint", "max_attempts": 5}}}}' >"$tmp/ck.jsonl"
echo "{\"store\": {\"path\": \"$tmp/ckstore\"}}" >"$tmp/ck.json"
expect_rc 0 "$shim" simulate --plugin "$plugin" --graphs "$tmp/ck.jsonl" --workers "$tmp/twins.json" \
	--truth "$tmp/even.json" --fail-rate 0.5 --seed 2 --config "$tmp/ck.json"
pycheck "$tmp/out" 'L[0]["failures"] == 1 and L[0]["completed"]' \
	'abs(L[0]["orchestrator_s"] - 122.0882) < 1e-3'
expect_rc 0 "$shim" prefs export --plugin "$plugin" --db "$tmp/ckstore"
python3 - "$tmp/out" <<'PY' && ok || bad "a resumed run was learned against the whole duration"
import json, sys
r = [x for x in json.load(open(sys.argv[1]))["records"] if x["successes"] == 1]
sys.exit(0 if len(r) == 1 and r[0]["ratio_n"] == 1 and abs(r[0]["log_ratio_mean"]) < 1e-9 else 1)
PY

# Each graph runs on an idle fleet: the fleet file's load (all memory
# reserved, a worker cooling at a fifth of its speed) is not the run's; it
# was kept, and this graph had no worker ("too little free memory").
python3 - "$tmp/twins.json" "$tmp/loaded.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for w in d["workers"]:
    w["load"] = {"reserved_memory": 64, "cooling_state": True, "performance_level": 0.2}
json.dump(d, open(sys.argv[2], "w"))
PY
echo '{"name": "mem", "subtasks": {"m": {"requirements": {"test_type": "embedding_text", "expected_duration": 100, "minimum_memory": 8}}}}' >"$tmp/mem.jsonl"
expect_rc 0 "$shim" simulate --plugin "$plugin" --graphs "$tmp/mem.jsonl" --workers "$tmp/loaded.json" \
	--truth "$tmp/even.json"
pycheck "$tmp/out" 'L[0]["completed"] and L[0]["orchestrator_s"] == L[0]["heft_s"] == 100'

# The bound is never beaten, not even by a rounding: summed from the end it
# was 67.008709291934977 under the orchestrator's and HEFT's ...963 on the
# first of these graphs, each of whose runs followed the critical path.
python3 "$src/bench/graphgen.py" --graphs 3 --seed 1 --min 10 --max 30 > "$tmp/g3.jsonl"
expect_rc 0 "$shim" simulate --plugin "$plugin" --graphs "$tmp/g3.jsonl" --workers "$fleet" --truth "$truth"
pycheck "$tmp/out" 'all(l["cp_bound_s"] <= min(l["orchestrator_s"], l["heft_s"]) for l in L[:3])' \
	'L[0]["cp_bound_s"] == L[0]["orchestrator_s"] == L[0]["heft_s"]'
# Under skip a failed subtask's work is never done: a graph can finish below
# the critical-path bound, which assumes every subtask runs (docs/ORCHESTRATE.md).
python3 "$src/bench/graphgen.py" --graphs 1 --seed 3 --min 10 --max 40 > "$tmp/g1.jsonl"
expect_rc 0 "$shim" simulate --plugin "$plugin" --graphs "$tmp/g1.jsonl" --workers "$fleet" --truth "$truth" --fail-rate 0.5 --strategy skip --seed 5
pycheck "$tmp/out" 'L[0]["failures"] > 0 and L[0]["orchestrator_s"] < L[0]["cp_bound_s"]'
# The first graph's timeline: a self-contained page, one bar per run.
expect_rc 0 gsim --seed 5 --fail-rate 0.1 --report "$tmp/t.html"
has "$tmp/t.html" '<svg data-chart="gantt"'
has "$tmp/t.html" 'url(#fail)'
lacks "$tmp/t.html" '<script'
n_runs=$(grep -o '<rect x=' "$tmp/t.html" | wc -l)
want=$(python3 -c 'import json,sys; l=json.loads(open(sys.argv[1]).readline()); print(l["placements"])' "$tmp/out")
if [ "$n_runs" = "$want" ]; then ok; else bad "timeline has $n_runs bars, the first graph $want runs"; fi
# A bad line after the first graph refuses the run, and the report with it:
# it was written from the first graph before the second was read.
{ head -1 "$tmp/g.jsonl"; printf '{"subtasks": {"a": {"dependencies": ["a"]}}}\n'; } >"$tmp/g_then_bad.jsonl"
printf 'old\n' >"$tmp/kept.html"
expect_rc 1 "$shim" simulate --plugin "$plugin" --graphs "$tmp/g_then_bad.jsonl" --workers "$fleet" --truth "$truth" --report "$tmp/kept.html"
has "$tmp/err" "$tmp/g_then_bad.jsonl:2: subtask 'a': depends on itself (a cycle)"
eq "the report after a bad line" "$(cat "$tmp/kept.html")" "old"
# Written after the last graph, the first graph's bars still name its own
# subtasks (their names lived with the graph, freed after it ran).
expect_rc 0 gsim --seed 5 --report "$tmp/t4.html"
eq "the timeline's subtasks" "$(grep -o '<title>[^<]* on ' "$tmp/t4.html" | sed 's/<title>//; s/ on $//' | sort -u | tr '\n' ' ')" \
	"$(head -1 "$tmp/g.jsonl" | python3 -c 'import json, sys; print(" ".join(sorted(json.load(sys.stdin)["subtasks"])), end=" ")')"
expect_rc 1 "$shim" simulate --plugin "$plugin" --graphs "$tmp/g_then_bad.jsonl" --workers "$fleet" --truth "$truth" --report "$tmp/new.html"
if [ ! -e "$tmp/new.html" ]; then ok; else bad "a refused run wrote its report"; fi
expect_rc 1 gsim --report "$tmp/no/such/dir/t.html"
has "$tmp/err" "$tmp/no/such/dir/t.html: cannot write"
expect_rc 2 gsim --strategy pray
has "$tmp/err" "--strategy must be one of retry, reassign, skip, alternate, checkpoint, got 'pray'"
expect_rc 2 gsim --fail-rate 2
has "$tmp/err" "--fail-rate must be a number in [0, 1), got '2'"
# --max-attempts is digits, as --fail-rate is a plain number (strtoul took
# ' 5' and '+5').
for m in " 5" "+5" "0" "1001"; do
	expect_rc 2 gsim --max-attempts "$m"
	eq "--max-attempts '$m'" "$(cat "$tmp/err")" "lbsched-shim: simulate: --max-attempts must be an integer in 1..1000, got '$m' (lbsched-shim simulate --graphs GRAPHS.jsonl --help)"
done
expect_rc 0 gsim --seed 5 --max-attempts 5
printf '{"subtasks": {"a": {"dependencies": ["a"]}}}\n' > "$tmp/bad.jsonl"
expect_rc 1 "$shim" simulate --plugin "$plugin" --graphs "$tmp/bad.jsonl" --workers "$fleet" --truth "$truth"
has "$tmp/err" "$tmp/bad.jsonl:1: subtask 'a': depends on itself (a cycle)"
lines "$tmp/err" 1
# No graph at all is said, not a summary of zeros; means over no completed
# graph are null, not a time of 0.
: > "$tmp/none.jsonl"
expect_rc 1 "$shim" simulate --plugin "$plugin" --graphs "$tmp/none.jsonl" --workers "$fleet" --truth "$truth"
has "$tmp/err" "$tmp/none.jsonl: holds no graphs (JSON Lines, a graph a line)"
lines "$tmp/err" 1
expect_rc 0 gsim --seed 5 --fail-rate 0.99 --strategy retry --max-attempts 1
pycheck "$tmp/out" 'L[4]["completed"] == 0 and L[4]["graphs"] == 4' \
	'L[4]["mean_orchestrator_s"] is None and L[4]["mean_ratio"] is None'

# A lost graph has no makespan and no ratio (it had the last run's end, 0.09
# s against HEFT's 7.07: a ratio of 0.012), nor has its timeline's title; the
# summary counts it lost and leaves it out of the means.
printf '%s\n' '[{"worker_id":"a","supported_backends":["cpu"],"available_memory":16,"cpu_cores":4,"capacity":2},{"worker_id":"b","supported_backends":["cpu","cuda"],"available_memory":32,"cpu_cores":8,"capacity":1}]' >"$tmp/ab.json"
printf '%s\n' '{"noise_sigma":0.1,"workers":{"a":{"speed":{"*":1}},"b":{"speed":{"*":2,"NLP":3},"failure_rate":0.1,"throttle_after_s":10,"throttle_factor":0.5}}}' >"$tmp/ab_truth.json"
printf '%s\n' '{"name":"x","subtasks":{"a":{"requirements":{"test_type":"nlp","expected_duration":10}},"b":{"dependencies":["a"],"requirements":{"test_type":"nlp","expected_duration":10}}}}' >"$tmp/lost.jsonl"
absim() { "$shim" simulate --plugin "$plugin" --workers "$tmp/ab.json" --truth "$tmp/ab_truth.json" --max-attempts 1 "$@"; }
expect_rc 0 absim --graphs "$tmp/lost.jsonl" --fail-rate 0.99 --report "$tmp/lost.html"
pycheck "$tmp/out" 'L[0]["completed"] is False and L[0]["orchestrator_s"] is None and L[0]["ratio"] is None' \
	'L[0]["heft_s"] > 7 and L[0]["failures"] == 1 and L[0]["placements"] == 1' \
	'L[1] == {"graphs": 1, "completed": 0, "lost": 1, "mean_orchestrator_s": None, "mean_heft_s": None, "mean_ratio": None, "mean_cp_bound_s": None}'
has "$tmp/lost.html" "x: lost after 0.1 s (HEFT 7.1 s, bound 7.1 s)"
lacks "$tmp/lost.html" "makespan"
# Two of it, the first lost and the second completed (seed 2): the means are
# the completed one's.
cat "$tmp/lost.jsonl" "$tmp/lost.jsonl" >"$tmp/lost2.jsonl"
expect_rc 0 absim --graphs "$tmp/lost2.jsonl" --fail-rate 0.3 --seed 2
pycheck "$tmp/out" 'L[0]["completed"] is False and L[0]["orchestrator_s"] is None' \
	'L[1]["completed"] is True and L[1]["ratio"] == L[1]["orchestrator_s"] / L[1]["heft_s"]' \
	'L[2]["graphs"] == 2 and L[2]["completed"] == 1 and L[2]["lost"] == 1' \
	'L[2]["mean_orchestrator_s"] == L[1]["orchestrator_s"] and L[2]["mean_heft_s"] == L[1]["heft_s"]' \
	'L[2]["mean_ratio"] == L[1]["ratio"]'

# HEFT with a zero-duration subtask: C needs B needs A.  B ties C's upward
# rank and precedes it in rank order only by its dependency; the plan and its
# replay put C first and read B's finish while still 0 (heft_s 10 under the
# bound 20).
printf '[{"worker_id": "w1", "available_memory": 8, "capacity": 1}, {"worker_id": "w2", "available_memory": 64, "capacity": 1}]' > "$tmp/hf2.json"
printf '{"name": "zero", "subtasks": {"C": {"requirements": {"expected_duration": 10}, "dependencies": ["B"]}, "A": {"requirements": {"expected_duration": 10, "minimum_memory": 32}}, "B": {"requirements": {"expected_duration": 0, "minimum_memory": 32}, "dependencies": ["A"]}}}\n' > "$tmp/zero.jsonl"
printf '{"noise_sigma": 0, "workers": {"*": {"speed": {"*": 1}}}}' > "$tmp/flat_truth.json"
expect_rc 0 "$shim" simulate --plugin "$plugin" --graphs "$tmp/zero.jsonl" --workers "$tmp/hf2.json" --truth "$tmp/flat_truth.json"
pycheck "$tmp/out" 'L[0]["cp_bound_s"] == 20' 'L[0]["heft_s"] >= L[0]["cp_bound_s"]' 'L[0]["heft_s"] == 20'

# The makespan and the means have every digit, as the other fields (%.6g
# printed 8.88889e+06).
printf '{"subtasks": {"a": {"requirements": {"expected_duration": 8888889.391}}}}\n' > "$tmp/long.jsonl"
expect_rc 0 "$shim" orchestrate --plugin "$plugin" --graph "$tmp/long.jsonl" --workers "$tmp/hf2.json" --scheduler round-robin
has "$tmp/out" '{"makespan_s":8888889.391,"completed":true,"placements":1}'
expect_rc 0 "$shim" simulate --plugin "$plugin" --graphs "$tmp/long.jsonl" --workers "$tmp/hf2.json" --truth "$tmp/flat_truth.json" --scheduler round-robin
has "$tmp/out" '{"graphs":1,"completed":1,"lost":0,"mean_orchestrator_s":8888889.391,"mean_heft_s":8888889.391,"mean_ratio":1,"mean_cp_bound_s":8888889.391}'

# Late binding: a subtask is bound when its worker can start it, so what the
# first runs taught places the rest.  Two workers alike on paper, w2 truly
# 100x slower: the first two subtasks go one to each; the other two wait for
# a slot and, with w1's fast run learned, go to w1 behind each other, so the
# slow run of 1,000 s on w2 is the makespan.  Bound at once, the 4 would
# have gone two to each worker: 2,000 s.
printf '[{"worker_id": "w1", "available_memory": 16, "capacity": 1}, {"worker_id": "w2", "available_memory": 16, "capacity": 1}]' > "$tmp/twin.json"
printf '{"noise_sigma": 0, "workers": {"w1": {"speed": {"*": 10}}, "w2": {"speed": {"*": 0.01}}}}' > "$tmp/twin_truth.json"
printf '{"name": "four", "subtasks": {"a": {"requirements": {"expected_duration": 10}}, "b": {"requirements": {"expected_duration": 10}}, "c": {"requirements": {"expected_duration": 10}}, "d": {"requirements": {"expected_duration": 10}}}}\n' > "$tmp/four.jsonl"
expect_rc 0 "$shim" simulate --plugin "$plugin" --graphs "$tmp/four.jsonl" --workers "$tmp/twin.json" --truth "$tmp/twin_truth.json"
pycheck "$tmp/out" 'L[0]["placements"] == 4' 'L[0]["orchestrator_s"] == 1000' 'L[0]["heft_s"] == 4'

# graphgen --wide: a root, the middle after it alone, a join after all of
# the middle.  Simulated, 200 of them run 2.22x HEFT's makespan, where bound
# at once they ran 2.78x (the first 50, one per slot, still go out on the
# fleet's first estimates).
expect_rc 0 python3 "$src/bench/graphgen.py" --graphs 1 --seed 2 --min 200 --max 200 --wide
cp "$tmp/out" "$tmp/wide.jsonl"
pycheck "$tmp/wide.jsonl" 'len(L[0]["subtasks"]) == 200' \
	'L[0]["subtasks"]["s0"]["dependencies"] == []' \
	'all(L[0]["subtasks"]["s%d" % i]["dependencies"] == ["s0"] for i in range(1, 199))' \
	'L[0]["subtasks"]["s199"]["dependencies"] == ["s%d" % i for i in range(1, 199)]'
expect_rc 0 "$shim" simulate --plugin "$plugin" --graphs "$tmp/wide.jsonl" --workers "$fleet" --truth "$truth" --seed 2 --fail-rate 0
pycheck "$tmp/out" 'L[0]["completed"] and L[0]["placements"] == 200' 'L[0]["ratio"] < 2.5'

# --graphs=FILE is graph mode as --graphs FILE is (it was "unknown option
# '--graphs'"); "--graphs" as another option's value is that value, not graph
# mode (here a fleet file of that name, which is not there).
expect_rc 0 "$shim" simulate --plugin "$plugin" --graphs "$tmp/zero.jsonl" --workers "$tmp/hf2.json" --truth "$tmp/flat_truth.json"
cp "$tmp/out" "$tmp/zero_out"
expect_rc 0 "$shim" simulate --plugin="$plugin" --graphs="$tmp/zero.jsonl" --workers="$tmp/hf2.json" --truth="$tmp/flat_truth.json"
if cmp -s "$tmp/zero_out" "$tmp/out"; then ok; else bad "--graphs=FILE and --graphs FILE differ"; fi
# orchestrate's graph file, one graph over many lines, given to --graphs:
# the error said only that line 1 was no JSON
expect_rc 1 "$shim" simulate --plugin "$plugin" --graphs "$graph" --workers "$src/examples/hetero/fleet.json" --truth "$src/examples/hetero/truth.json"
has "$tmp/err" "llm.json:1: not valid JSON: it ends at byte 38 with the '{' at byte 0 still open (--graphs reads JSON Lines: each graph whole on one line)"
lines "$tmp/err" 1
# Every slot of a worker of capacity 20 runs at once, whatever the
# scheduler: shown as 19 / 20 = 0.95 busy, the last slot was past the
# default load ceiling of 0.9, and one subtask in 20 waited for a run's end.
echo '{"workers": [{"worker_id": "c1", "supported_backends": ["cpu"], "available_memory": 480, "cpu_cores": 64, "capacity": 20}]}' >"$tmp/cpu20.json"
python3 -c 'import json; print(json.dumps({"subtasks": {"t%d" % i: {"requirements": {"test_type": "cpu_bench", "expected_duration": 10}} for i in range(20)}}))' >"$tmp/g20.json"
for sched in round-robin weighted-round-robin performance affinity; do
	expect_rc 0 "$shim" orchestrate --plugin "$plugin" --graph "$tmp/g20.json" --workers "$tmp/cpu20.json" --scheduler "$sched"
	pycheck "$tmp/out" 'sorted(l["start_s"] for l in L[1:21]) == [0] * 20' 'L[21]["makespan_s"] == 10'
done
(cd "$tmp" && "$shim" simulate --plugin "$plugin" --workers --graphs --truth flat_truth.json --mix "$src/examples/hetero/mix.json" --tests 5) >"$tmp/out" 2>"$tmp/err"
if [ $? = 1 ]; then ok; else bad "simulate --workers --graphs: not exit 1"; fi
has "$tmp/err" ": --graphs: cannot open: No such file or directory"
lines "$tmp/err" 1

# --- A worker's capacity past the graph's subtask count changes nothing
# (no subtask runs twice at once), and costs nothing: slots are capped at the
# subtask count, in the plan and in HEFT alike.
for c in 3 1000000; do
	printf '[{"worker_id": "solo", "supported_backends": ["cpu"], "available_memory": 16, "cpu_cores": 4, "capacity": %s}]' $c > "$tmp/solo$c.json"
	expect_rc 0 "$shim" orchestrate --plugin "$plugin" --graph "$tmp/three.json" --workers "$tmp/solo$c.json" --scheduler round-robin
	cp "$tmp/out" "$tmp/plan$c"
	tr -d '\n' < "$tmp/three.json" > "$tmp/three.jsonl"; echo >> "$tmp/three.jsonl"
	printf '{"noise_sigma": 0, "workers": {"*": {"speed": {"*": 1}}}}' > "$tmp/one_truth.json"
	expect_rc 0 "$shim" simulate --plugin "$plugin" --graphs "$tmp/three.jsonl" --workers "$tmp/solo$c.json" --truth "$tmp/one_truth.json"
	cp "$tmp/out" "$tmp/gsim$c"
done
pycheck "$tmp/plan3" '[(l["start_s"], l["finish_s"]) for l in L[1:4]] == [(0, 10), (0, 20), (0, 30)]' \
	'L[4]["makespan_s"] == 30'
if cmp -s "$tmp/plan3" "$tmp/plan1000000"; then ok; else bad "capacity 3 and 1000000 plan differently"; fi
pycheck "$tmp/gsim3" 'L[0]["heft_s"] == 30 and L[0]["orchestrator_s"] == 30'
if cmp -s "$tmp/gsim3" "$tmp/gsim1000000"; then ok; else bad "capacity 3 and 1000000 simulate differently"; fi
# 200 workers of capacity 1,000,000 and 20 subtasks: a slot per capacity unit
# was 4.8 GB (and 15.6 GB at 1,000 workers); capped, it runs within 1 GB of
# address space.  (Not under a sanitizer, which reserves terabytes of it.)
python3 -c 'import json; json.dump([{"worker_id": "w%d" % i, "available_memory": 64, "capacity": 1000000} for i in range(200)], open("'"$tmp"'/capbig.json", "w")); print(json.dumps({"name": "w", "subtasks": {"s%d" % i: {"requirements": {"expected_duration": 10}} for i in range(20)}}))' > "$tmp/w20.jsonl"
capbig() ( if ! ldd "$shim" | grep -q 'lib[at]san'; then ulimit -v 1000000; fi; "$shim" simulate --plugin "$plugin" --graphs "$tmp/w20.jsonl" --workers "$tmp/capbig.json" --truth "$tmp/one_truth.json" )
expect_rc 0 capbig
pycheck "$tmp/out" 'L[0]["completed"] is True and L[0]["heft_s"] == 10 and L[0]["orchestrator_s"] == 10'

finish test_orchestrate
