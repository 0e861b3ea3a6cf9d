#!/usr/bin/env bash
# test_simulate.sh -- `lbsched-shim simulate`: determinism, replay, the
# oracle, the figures in --json, the truth's heat and cooling, the load the
# host shows (utilisation with the queue, pending work), the lower bound,
# one-line errors for bad truth, mix and test files and unwritable outputs,
# and the scenario generators' (bench/simgen.py, graphgen.py) argument checks.
set -u
shim=${LBS_SHIM:?run through meson test}
plugin=${LBS_PLUGIN:?}
src=${LBS_SRCDIR:?}
. "$src/tests/testlib.sh"
# py EXPR...: a Python check over $tmp/r.json, bound to r; prints why on failure
pycheck() {
	if python3 - "$tmp/r.json" "$@" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
runs = {x["scheduler"]: x for x in r["runs"]}
for expr in sys.argv[2:]:
    if not eval(expr):
        print("check failed:", expr, file=sys.stderr)
        sys.exit(1)
PY
	then ok; else bad "python check"; fi
}

sim() { "$shim" simulate --plugin "$plugin" --quiet "$@"; }
# eq WHAT GOT WANT
het="--workers $src/examples/hetero/fleet.json --truth $src/examples/hetero/truth.json --mix $src/examples/hetero/mix.json"
# A small fleet: a with two slots, b with one, faster, failing, throttling.
cat >"$tmp/ab_fleet.json" <<'JSON'
{"workers":[{"worker_id":"a","supported_backends":["cpu"],"available_memory":16,"cpu_cores":4,"capacity":2},{"worker_id":"b","supported_backends":["cpu","cuda"],"available_memory":32,"cpu_cores":8,"capacity":1}]}
JSON
cat >"$tmp/ab_truth.json" <<'JSON'
{"noise_sigma":0.1,"workers":{"a":{"speed":{"*":1}},"b":{"speed":{"*":2,"NLP":3},"failure_rate":0.1,"throttle_after_s":10,"throttle_factor":0.5}}}
JSON
echo '[{"test_type":"nlp_text_generation","share":1,"expected_duration":[5,20]}]' >"$tmp/mix_ab.json"

# --- Determinism: the same seed, the same numbers; another seed, others.
expect_rc 0 sim $het --tests 3000 --rate 2.3 --seed 7 --compare round-robin,hardware-aware,oracle --json "$tmp/a.json"
cp "$tmp/out" "$tmp/a.txt"
expect_rc 0 sim $het --tests 3000 --rate 2.3 --seed 7 --compare round-robin,hardware-aware,oracle --json "$tmp/b.json"
if cmp -s "$tmp/a.json" "$tmp/b.json" && cmp -s "$tmp/a.txt" "$tmp/out"; then ok; else bad "same seed, different results"; fi
expect_rc 0 sim $het --tests 3000 --rate 2.3 --seed 8 --compare hardware-aware --json "$tmp/c.json"
if python3 -c 'import json,sys; a=json.load(open(sys.argv[1]))["runs"][1]; c=json.load(open(sys.argv[2]))["runs"][0]; sys.exit(a["mean_completion_s"]==c["mean_completion_s"])' "$tmp/a.json" "$tmp/c.json"; then ok; else bad "seed 8 gave seed 7's numbers"; fi
lacks "$tmp/err" "%"   # no progress bar when stderr is not a terminal

# --- A truth's speed no test uses: the bundled mix uses every one its
# truth names (its embedding type was "embedding_text", which is NLP, and
# the truth's EMBEDDING speeds were dead); that type again is named, once.
lacks "$tmp/err" "are used by no test"
sed 's/"sentence_embedding"/"embedding_text"/' "$src/examples/hetero/mix.json" >"$tmp/mix_text.json"
grep -q '"embedding_text"' "$tmp/mix_text.json" || bad "the fixture's mix has no embedding_text"
expect_rc 0 sim --workers "$src/examples/hetero/fleet.json" --truth "$src/examples/hetero/truth.json" \
	--mix "$tmp/mix_text.json" --tests 300 --warmup 0 --rate 2.3 --scheduler hardware-aware
eq "a truth's unused speeds" "$(cat "$tmp/err")" "lbsched-shim: warning: simulate: $src/examples/hetero/truth.json: its speeds for EMBEDDING are used by no test of $tmp/mix_text.json, whose tests are VISION, NLP, AUDIO, TRAINING (a test type is the first workload word in it, in the original's order: 'embedding_text' is NLP)"
# a stream too short to draw every type of its mix: the mix's types count
expect_rc 0 sim $het --tests 5 --seed 1 --warmup 0 --scheduler hardware-aware
lacks "$tmp/err" "are used by no test"
# a truth of "*" alone names no type: nothing to say
expect_rc 0 sim --workers "$tmp/ab_fleet.json" --truth <(echo '{"workers":{"*":{"speed":{"*":1}}}}') \
	--mix "$tmp/mix_ab.json" --tests 50 --warmup 0 --rate 0.1 --scheduler round-robin
lines "$tmp/err" 0

# --- The figures hang together.
cp "$tmp/a.json" "$tmp/r.json"
pycheck 'len(r["runs"]) == 3' \
        '[x["scheduler"] for x in r["runs"]] == ["round-robin", "hardware-aware", "oracle"]' \
        'all(sum(map(sum, x["assignments"])) == x["completed"] for x in r["runs"])' \
        'all(x["completed"] + x["unplaced"] == x["tests"] == 3000 for x in r["runs"])' \
        'runs["oracle"]["ratio_to_oracle"] == 1' \
        'len(r["workers"]) == 24 and len(r["types"]) == 5' \
        'all(len(x["thermal"]) == 24 and len(x["efficiency"]) == 5 for x in r["runs"])' \
        'all(x["p95_completion_s"] >= x["mean_completion_s"] > 0 for x in r["runs"])' \
        'all(x["curve"] and x["curve"][-1][0] == x["completed"] for x in r["runs"])'
# Training needs CUDA: only the A100 and T4 machines ever run it.
pycheck 'all(x["assignments"][w][3] == 0 for x in r["runs"] for w in range(24) if not r["workers"][w]["id"].startswith("gpu_"))'
# Round-robin ignores queues and speed; hardware-aware does not.  (Without
# a load ceiling: with one, round-robin too skips the full workers.)
cp "$tmp/r.json" "$tmp/a_runs.json"
printf '{"load_ceiling": 1}\n' >"$tmp/nc.json"
expect_rc 0 sim $het --tests 3000 --rate 2.3 --seed 7 \
	--compare "round-robin=$tmp/nc.json,hardware-aware=$tmp/nc.json" --json "$tmp/r.json"
pycheck 'r["runs"][1]["mean_completion_after_warmup_s"] * 10 < r["runs"][0]["mean_completion_after_warmup_s"]'
cp "$tmp/a_runs.json" "$tmp/r.json"
# A100s throttle after 900 s busy: the thermal lanes show it.
pycheck 'any(x["throttled"][0] for x in r["runs"])' \
        'all(0 <= p[1] <= 1 for x in r["runs"] for lane in x["thermal"] for p in lane)'

# --- A dumped stream replays to the same numbers.
expect_rc 0 sim $het --tests 500 --rate 2.3 --seed 3 --compare hardware-aware,oracle --dump-tests "$tmp/tests.jsonl" \
	--json "$tmp/gen.json"
cp "$tmp/out" "$tmp/gen.txt"
if [ "$(grep -c arrival_s "$tmp/tests.jsonl")" = 500 ]; then ok; else bad "dump has not 500 tests"; fi
expect_rc 0 sim --workers "$src/examples/hetero/fleet.json" --truth "$src/examples/hetero/truth.json" \
	--tests-file "$tmp/tests.jsonl" --seed 3 --compare hardware-aware,oracle --json "$tmp/rep.json"
if diff <(head -3 "$tmp/gen.txt") <(head -3 "$tmp/out") >&2; then ok; else bad "replay differs"; fi
# ... to the last digit: the dump prints every number so that it reads back
# as drawn (cJSON's 15 digits did not, for about one number in six)
if python3 -c 'import json, sys
a, b = (json.load(open(f))["runs"] for f in sys.argv[1:])
sys.exit(0 if [(x["mean_completion_s"], x.get("ratio_to_oracle")) for x in a] ==
         [(x["mean_completion_s"], x.get("ratio_to_oracle")) for x in b] else 1)' "$tmp/gen.json" "$tmp/rep.json"
then ok; else bad "replay's figures differ in their last digits"; fi
# The dump is written once the inputs are read: named like the stream it
# replays, it is the same stream again (it was emptied before the read).
cp "$tmp/tests.jsonl" "$tmp/again.jsonl"
expect_rc 0 sim --workers "$src/examples/hetero/fleet.json" --truth "$src/examples/hetero/truth.json" \
	--tests-file "$tmp/again.jsonl" --seed 3 --compare hardware-aware --dump-tests "$tmp/again.jsonl"
if cmp -s "$tmp/tests.jsonl" "$tmp/again.jsonl"; then ok; else bad "the dump over its own input differs"; fi

# Arrivals stop at 1e9 s in a tests file, and so in a generated stream: what
# is generated can be dumped and replayed (a test arrived past it, and its
# dump was refused at its line).  Refused as the options' mistake, nothing
# written; the test before it, the last one, replays.
expect_rc 2 sim $het --rate 0.00001 --tests 20000 --dump-tests "$tmp/far.jsonl"
eq "a stream past 1e9 s" "$(cat "$tmp/err")" "lbsched-shim: simulate: --tests 20000 at --rate 0.00001 runs past 1000000000 s, the latest arrival_s a tests file takes (test 9984 would arrive at 1000042555 s); give fewer tests or a higher rate (lbsched-shim simulate --help)"
if [ ! -e "$tmp/far.jsonl" ]; then ok; else bad "a refused stream was dumped"; fi
# ... and in size: a dump is refused before the run when --tests-file could
# not read it back (it was written, 314 MiB, and refused when replayed)
python3 -c 'import json, sys; json.dump([{"test_type": "nlp_" + "x" * 1000, "share": 1, "expected_duration": 0.001}], open(sys.argv[1], "w"))' "$tmp/mixlong.json"
expect_rc 2 sim --workers "$src/examples/hetero/fleet.json" --truth "$src/examples/hetero/truth.json" \
	--mix "$tmp/mixlong.json" --tests 300000 --rate 1000000 --dump-tests "$tmp/big.jsonl"
lines "$tmp/err" 1
has "$tmp/err" "lbsched-shim: simulate: --dump-tests $tmp/big.jsonl: the stream's 300000 tests take 315 MiB, more than the 256 MiB --tests-file reads back; dump at most about 244"
if [ ! -e "$tmp/big.jsonl" ]; then ok; else bad "a stream too large to replay was dumped"; fi
expect_rc 0 sim $het --rate 0.00001 --tests 9983 --warmup 0 --compare oracle --dump-tests "$tmp/far.jsonl"
cp "$tmp/out" "$tmp/far.txt"
expect_rc 0 sim --workers "$src/examples/hetero/fleet.json" --truth "$src/examples/hetero/truth.json" \
	--tests-file "$tmp/far.jsonl" --warmup 0 --compare oracle
if diff <(head -3 "$tmp/far.txt") <(head -3 "$tmp/out") >&2; then ok; else bad "the last stream before 1e9 s replays otherwise"; fi

# The learning curve has at most 200 points and ends at the last test: 899
# tests in windows of 500 stepped 2 apart made 200, and the last test's 201.
expect_rc 0 sim --workers "$tmp/ab_fleet.json" --truth "$tmp/ab_truth.json" --mix "$tmp/mix_ab.json" \
	--tests 899 --rate 0.1 --json "$tmp/r.json"
pycheck 'len(r["runs"][0]["curve"]) == 200' \
        '[p[0] for p in r["runs"][0]["curve"]] == list(range(500, 898, 2)) + [899]' \
        'r["curve_window"] == 500'
# A run that placed fewer tests than the window averages all it placed:
# its curve is one point, at that count (its first point is its window)
expect_rc 0 sim --workers "$tmp/ab_fleet.json" --truth "$tmp/ab_truth.json" --mix "$tmp/mix_ab.json" \
	--tests 100 --rate 0.1 --json "$tmp/r.json"
pycheck 'r["curve_window"] == 500' '[p[0] for p in r["runs"][0]["curve"]] == [100]'

# --- The oracle on a noise-free truth: a fast and a slow worker.
cat >"$tmp/fleet2.json" <<'JSON'
{"workers": [
 {"worker_id": "slow", "cpu_cores": 8, "available_memory": 64, "supported_backends": ["cpu"], "capacity": 1},
 {"worker_id": "fast", "cpu_cores": 8, "available_memory": 64, "supported_backends": ["cpu"], "capacity": 1}
]}
JSON
cat >"$tmp/truth2.json" <<'JSON'
{"noise_sigma": 0, "workers": {"slow": {"speed": {"*": 1}}, "fast": {"speed": {"*": 4}}}}
JSON
printf '%s\n' '{"test_id": "a", "test_type": "nlp", "expected_duration": 40, "arrival_s": 0}' \
	'{"test_id": "b", "test_type": "nlp", "expected_duration": 40, "arrival_s": 1}' \
	'{"test_id": "c", "test_type": "nlp", "expected_duration": 40, "arrival_s": 2}' >"$tmp/three.jsonl"
expect_rc 0 sim --workers "$tmp/fleet2.json" --truth "$tmp/truth2.json" --tests-file "$tmp/three.jsonl" \
	--warmup 0 --compare oracle --json "$tmp/r.json"
# a: fast, done at 10; b: fast is free at 10, done at 20 (slow would be 41);
# c: fast free at 20, done at 30 (slow: 42).  Mean (10 + 19 + 28) / 3.
pycheck 'runs["oracle"]["assignments"] == [[0], [3]]' \
        'abs(runs["oracle"]["mean_completion_s"] - 19) < 1e-9' \
        'runs["oracle"]["makespan_s"] == 30'
# On a noise-free heterogeneous truth no scheduler beats the oracle by more
# than a tenth: the oracle is greedy and myopic (docs/SIMULATE.md), and
# hardware-aware, which sizes the work ahead and charges a queue for the
# work that will wait behind the new test, beats it by about 6 % here; a
# scheduler below 0.9x would mean the oracle, not the scheduler, is wrong.
python3 - "$src/examples/hetero/truth.json" >"$tmp/truth0.json" <<'PY'
import json, sys
t = json.load(open(sys.argv[1])); t["noise_sigma"] = 0
for w in t["workers"].values():
    w.pop("throttle_after_s", None); w.pop("throttle_factor", None); w["failure_rate"] = 0
print(json.dumps(t))
PY
expect_rc 0 sim --workers "$src/examples/hetero/fleet.json" --truth "$tmp/truth0.json" \
	--mix "$src/examples/hetero/mix.json" --tests 3000 --rate 2.0 \
	--compare round-robin,priority,hardware-aware,composite,oracle --json "$tmp/r.json"
pycheck 'all(x["mean_completion_after_warmup_s"] >= 0.90 * runs["oracle"]["mean_completion_after_warmup_s"] for x in r["runs"])' \
        'runs["oracle"]["failures"] == 0'

# --- The lower bound: each test alone on its fastest eligible worker.  Here
# every test could run on "fast" in 40 / 4 = 10 s, so the bound is 10 and the
# oracle's 19 is 1.9x it.  Round-robin meets the load ceiling, because
# utilisation counts the queue: a goes to slow, b to fast; at t = 2 both are
# full, so c waits at the host until fast frees (t = 11), instead of
# queueing behind a on slow.
expect_rc 0 sim --workers "$tmp/fleet2.json" --truth "$tmp/truth2.json" --tests-file "$tmp/three.jsonl" \
	--warmup 0 --compare round-robin,oracle --json "$tmp/r.json"
has "$tmp/out" "lower bound"
pycheck 'r["scenario"]["lower_bound_after_warmup_s"] == 10' \
        'abs(runs["oracle"]["ratio_to_lower_bound"] - 1.9) < 1e-9'
pycheck 'runs["round-robin"]["assignments"] == [[1], [2]]' \
        'abs(runs["round-robin"]["mean_completion_s"] - (40 + 10 + 19) / 3) < 1e-9'

# --- Heat: one worker that throttles to half speed 100 s into a heat streak.
cat >"$tmp/one.json" <<'JSON'
{"workers": [{"worker_id": "w", "cpu_cores": 8, "available_memory": 64, "supported_backends": ["cpu"], "capacity": 1}]}
JSON
heat() { # WORKER-TRUTH-JSON: run $tmp/gap.jsonl on it into $tmp/r.json
	printf '{"noise_sigma": 0, "workers": {"w": %s}}\n' "$1" >"$tmp/hot.json"
	expect_rc 0 sim --workers "$tmp/one.json" --truth "$tmp/hot.json" --tests-file "$tmp/gap.jsonl" \
		--warmup 0 --compare oracle,round-robin --json "$tmp/r.json"
}
# a runs 0..100 cool; b arrives at 110, after a 10 s pause; c at 300, after
# a pause of 90 s.
printf '%s\n' '{"test_id": "a", "test_type": "nlp", "expected_duration": 100, "arrival_s": 0}' \
	'{"test_id": "b", "test_type": "nlp", "expected_duration": 50, "arrival_s": 110}' \
	'{"test_id": "c", "test_type": "nlp", "expected_duration": 50, "arrival_s": 300}' >"$tmp/gap.jsonl"
# The default cooldown (60 s): 10 s idle does not cool it, so b starts 110 s
# into the streak and runs throttled (100 s, not 50); 90 s idle does, so c
# runs at full speed.  Completions 100, 100, 50.  Throttled is b's run
# alone: the pause before it ran nothing.
heat '{"speed": {"*": 1}, "throttle_after_s": 100, "throttle_factor": 0.5}'
pycheck 'all([d[1] for d in x["durations"]] == [100, 100, 50] for x in r["runs"])' \
        'all(x["throttled"] == [[[110, 210]]] for x in r["runs"])' \
        'all(p[1] == 1 for x in r["runs"] for p in x["thermal"][0] if 215 < p[0] < 265)' \
        'all(p[1] == 0 for x in r["runs"] for p in x["thermal"][0] if 275 < p[0] < 295)' \
        'abs(runs["oracle"]["mean_completion_s"] - 250 / 3) < 1e-9' \
        'abs(r["scenario"]["lower_bound_after_warmup_s"] - 200 / 3) < 1e-9'
# cooldown_s 5: the 10 s pause cools it; nothing runs throttled.
heat '{"speed": {"*": 1}, "throttle_after_s": 100, "throttle_factor": 0.5, "cooldown_s": 5}'
pycheck 'all([d[1] for d in x["durations"]] == [100, 50, 50] for x in r["runs"])' \
        'all(x["throttled"] == [[]] for x in r["runs"])'
# cooldown_s 120: even the 90 s pause does not; c starts 300 s into the streak.
heat '{"speed": {"*": 1}, "throttle_after_s": 100, "throttle_factor": 0.5, "cooldown_s": 120}'
pycheck 'all([d[1] for d in x["durations"]] == [100, 100, 100] for x in r["runs"])' \
        'all(x["throttled"] == [[[110, 210], [300, 400]]] for x in r["runs"])'
# throttle_after_s 0 with factor 1: it never throttles, and never looks hot.
heat '{"speed": {"*": 1}, "throttle_after_s": 0, "throttle_factor": 1.0}'
pycheck 'all([d[1] for d in x["durations"]] == [100, 50, 50] for x in r["runs"])' \
        'all(x["throttled"] == [[]] for x in r["runs"])' \
        'all(p[1] == 0 for x in r["runs"] for p in x["thermal"][0])'
# throttle_after_s 0 with factor 0.5: throttled from the first second.
heat '{"speed": {"*": 1}, "throttle_after_s": 0, "throttle_factor": 0.5}'
pycheck 'all([d[1] for d in x["durations"]] == [200, 100, 100] for x in r["runs"])'
# Throttled spans are the tests that started throttled, each for its whole
# run, not the heat streak past throttle_after_s: a test that started
# before it (10..20, 10 s in, of 15) ran at full speed to its end, and a
# pause shorter than cooldown_s (40..100 is 60 s: it cools; 110..159 is
# 49 s: it does not) ran nothing.  The spans were [[15, 40], [115, 179]].
printf '%s\n' '{"test_id": "a", "test_type": "nlp", "expected_duration": 10, "arrival_s": 0}' \
	'{"test_id": "b", "test_type": "nlp", "expected_duration": 10, "arrival_s": 10}' \
	'{"test_id": "c", "test_type": "nlp", "expected_duration": 10, "arrival_s": 20}' \
	'{"test_id": "d", "test_type": "nlp", "expected_duration": 10, "arrival_s": 100}' \
	'{"test_id": "e", "test_type": "nlp", "expected_duration": 10, "arrival_s": 159}' >"$tmp/gap.jsonl"
heat '{"speed": {"*": 1}, "throttle_after_s": 15, "throttle_factor": 0.5, "cooldown_s": 60}'
pycheck 'all([d[1] for d in x["durations"]] == [10, 10, 20, 10, 20] for x in r["runs"])' \
        'all(x["throttled"] == [[[20, 40], [159, 179]]] for x in r["runs"])'
# With two slots a short throttled test inside a long one ends first: the
# merged span still ends with the long one.
cat >"$tmp/two.json" <<'JSON'
{"workers": [{"worker_id": "w", "cpu_cores": 8, "available_memory": 64, "supported_backends": ["cpu"], "capacity": 2}]}
JSON
printf '%s\n' '{"noise_sigma": 0, "workers": {"w": {"speed": {"*": 1}, "throttle_after_s": 0, "throttle_factor": 0.5}}}' >"$tmp/hot.json"
printf '%s\n' '{"test_id": "a", "test_type": "nlp", "expected_duration": 100, "arrival_s": 0}' \
	'{"test_id": "b", "test_type": "nlp", "expected_duration": 10, "arrival_s": 10}' >"$tmp/gap2.jsonl"
expect_rc 0 sim --workers "$tmp/two.json" --truth "$tmp/hot.json" --tests-file "$tmp/gap2.jsonl" \
	--warmup 0 --compare oracle --json "$tmp/r.json"
pycheck 'runs["oracle"]["throttled"] == [[[0, 200]]]'

# --- The host fills pending_work_s: a third party's scheduler that picks the
# worker with the least work ahead.  a (400 s) goes to p0, the first of
# equals; at t = 1 p0 has 399 nominal s ahead and p1 none: b to p1; at t = 2,
# 398 against 39 (b's remainder): c to p1; at t = 3, 397 against 38 + 40
# (b's remainder and c queued): d to p1.
cat >"$tmp/twins.json" <<'JSON'
{"workers": [
 {"worker_id": "p0", "cpu_cores": 8, "available_memory": 64, "supported_backends": ["cpu"], "capacity": 1},
 {"worker_id": "p1", "cpu_cores": 8, "available_memory": 64, "supported_backends": ["cpu"], "capacity": 1}
]}
JSON
printf '%s\n' '{"noise_sigma": 0, "workers": {"*": {"speed": {"*": 1}}}}' >"$tmp/twins_truth.json"
printf '%s\n' '{"test_id": "a", "test_type": "nlp", "expected_duration": 400, "arrival_s": 0}' \
	'{"test_id": "b", "test_type": "nlp", "expected_duration": 40, "arrival_s": 1}' \
	'{"test_id": "c", "test_type": "nlp", "expected_duration": 40, "arrival_s": 2}' \
	'{"test_id": "d", "test_type": "nlp", "expected_duration": 40, "arrival_s": 3}' >"$tmp/pend.jsonl"
expect_rc 0 "$shim" simulate --plugin "${LBS_PENDING_PLUGIN:?}" --quiet --workers "$tmp/twins.json" \
	--truth "$tmp/twins_truth.json" --tests-file "$tmp/pend.jsonl" --warmup 0 \
	--compare org.example.least-pending --json "$tmp/r.json"
pycheck 'runs["org.example.least-pending"]["assignments"] == [[1], [3]]'

# --- A duration that rounds to nothing at its start time (1e-20 s at t ~ 1,
# 1e-8 s at 1e9 s) still ends after it starts: its FINISH came before its
# START, the test then ran for good past the worker's slots (a heap overflow:
# exit 139 or 134; round-robin left 17 tests unplaced).  Every test is
# placed, and each takes at least the step time can take there.
tiny="--workers $tmp/ab_fleet.json --truth $tmp/ab_truth.json --warmup 0"
echo '[{"test_type":"nlp","share":1,"expected_duration":1e-20}]' >"$tmp/tiny_mix.json"
expect_rc 0 sim $tiny --mix "$tmp/tiny_mix.json" --tests 50 \
	--compare hardware-aware,round-robin,oracle --json "$tmp/r.json"
pycheck 'all(x["completed"] == 50 and x["unplaced"] == 0 for x in r["runs"])' \
        'all(0 < x["mean_completion_s"] < 1e-13 for x in r["runs"])' \
        'all(x["ratio_to_lower_bound"] >= 1 for x in r["runs"])'
# Each run carries its scheduler's stats after the run (the oracle has
# none): the selects it counted, and a fleet of 2 is never sampled.
pycheck 'runs["hardware-aware"]["stats"]["scheduler"] == "hardware-aware"' \
        'runs["hardware-aware"]["stats"]["sampled"] == {"selects": 0, "drawn": 0}' \
        'runs["round-robin"]["stats"]["scheduler"] == "round-robin"' \
        '"stats" not in runs["oracle"]'
for i in $(seq 20); do
	printf '{"test_id":"t%d","arrival_s":1000000000,"test_type":"nlp","expected_duration":1e-8}\n' "$i"
done >"$tmp/tiny.jsonl"
expect_rc 0 sim $tiny --tests-file "$tmp/tiny.jsonl" \
	--compare hardware-aware,round-robin,oracle --json "$tmp/r.json"
# Each test a step (2^-23 s) long: round-robin and the oracle spread the 20
# over the 3 slots, 7 one after another at most.
pycheck 'all(x["completed"] == 20 and x["unplaced"] == 0 for x in r["runs"])' \
        'all(0 < x["makespan_s"] <= 20 * 2**-23 for x in r["runs"])' \
        'runs["round-robin"]["makespan_s"] == runs["oracle"]["makespan_s"] == 7 * 2**-23' \
        'all(x["ratio_to_lower_bound"] >= 1 for x in r["runs"])' \
        'runs["round-robin"]["assignments"] == [[13], [7]]'

# --- A worker's slots stop at the number of tests: more are never used, and
# were 12 MB a worker at capacity 1,000,000 (and 40 s for 20,000 tests on
# two, every placement looking at each slot).  200 such workers and 50 tests
# run within 1 GB of address space (not under a sanitizer, which reserves
# terabytes of it); the load the schedulers see is still of the capacity.
python3 -c 'import json; json.dump([{"worker_id": "w%d" % i, "available_memory": 64, "cpu_cores": 4, "capacity": 1000000} for i in range(200)], open("'"$tmp"'/capbig.json", "w"))'
capbig() ( if ! ldd "$shim" | grep -q 'lib[at]san'; then ulimit -v 1000000; fi
	sim --workers "$tmp/capbig.json" --truth "$tmp/twins_truth.json" --mix "$src/examples/homo/mix.json" \
		--tests 50 --warmup 0 --compare hardware-aware,oracle --json "$tmp/r.json" )
expect_rc 0 capbig
pycheck 'all(x["completed"] == 50 for x in r["runs"])' \
        'all(w["capacity"] == 1000000 for w in r["workers"])'

# --- Bad truth files: one line naming the file, field and problem.
t2="--workers $tmp/fleet2.json --tests-file $tmp/three.jsonl"
bad_truth() { # JSON EXPECTED-TEXT
	printf '%s\n' "$1" >"$tmp/bad.json"
	expect_rc 1 sim $t2 --truth "$tmp/bad.json"
	lines "$tmp/err" 1
	has "$tmp/err" "$tmp/bad.json: $2"
}
bad_truth '{"workers": {"slow": {"speed": {"*": 1}}, "fast": {"speed": {"*": 4}}, "ghost": {"speed": {"*": 1}}}}' \
	"field 'workers.ghost': no worker 'ghost' in the fleet"
bad_truth '{"workers": {"slow": {"speed": {"NLP": -2}}, "fast": {"speed": {"*": 4}}}}' \
	"field 'workers.slow.speed.NLP': must be a finite number in 0..1000000, got -2"
bad_truth '{"workers": {"slow": {"speed": {"*": 0}}, "fast": {"speed": {"*": 4}}}}' \
	"field 'workers.slow.speed': '*' must be at least 0.000001 (a millionth of the expected speed), got 0"
# A speed too small to be a machine's: its durations would be hundreds of digits long.
bad_truth '{"workers": {"*": {"speed": {"NLP": 1e-300}}}}' \
	"field 'workers.*.speed': 'NLP' must be at least 0.000001 (a millionth of the expected speed), got 1e-300"
bad_truth '{"workers": {"*": {"speed": {"*": 0.0000009}}}}' \
	"field 'workers.*.speed': '*' must be at least 0.000001 (a millionth of the expected speed), got 9e-07"
bad_truth '{"workers": {"slow": {"speed": {"VISON": 2}}, "fast": {"speed": {"*": 4}}}}' \
	"field 'workers.slow.speed': unknown workload type 'VISON'"
bad_truth '{"workers": {"slow": {"speed": {"*": 1}}}}' \
	"field 'workers': has no entry for fleet worker 'fast'"
bad_truth '{"workers": {"*": {"speed": {"*": 1}, "throttle_after_s": 60}}}' \
	"field 'workers.*.throttle_factor': is required when throttle_after_s is given"
bad_truth '{"workers": {"*": {"speed": {"*": 1}, "cooldown_s": 30}}}' \
	"field 'workers.*.cooldown_s': needs throttle_after_s and throttle_factor"
bad_truth '{"workers": {"*": {"speed": {"*": 1}, "throttle_after_s": 60, "throttle_factor": 0.5, "cooldown_s": -1}}}' \
	"field 'workers.*.cooldown_s': must be a finite number in 0..10000000"
bad_truth '{"workers": {"*": {"speed": {"*": 1}, "failure_rate": 1.5}}}' \
	"field 'workers.*.failure_rate': must be a finite number in 0..1, got 1.5"
bad_truth '{"workers": {"*": {"speed": {"*": 1}}}, "noise_sigma": "high"}' \
	"field 'noise_sigma': must be a finite number in 0..5, got \"high\""
bad_truth '{"workers": [1, 2]}' "field 'workers': must be an object, got an array"
# A key given twice, "*" included, and a workload type under two spellings.
bad_truth '{"workers": {"*": {"speed": {"*": 1}}, "*": {"speed": {"*": 2}}}}' \
	"field 'workers.*': is given more than once"
bad_truth '{"workers": {"*": {"speed": {"*": 1, "*": 2}}}}' \
	"field 'workers.*.speed': '*' is given more than once"
bad_truth '{"workers": {"*": {"speed": {"NLP": 2, "nlp": 3}}}}' \
	"field 'workers.*.speed': 'nlp' is given more than once, as 'NLP' before (workload types ignore case)"
bad_truth '{"workers": {"slow": {"speed": {"NLP": 2, "NLP": 3}}, "fast": {"speed": {"*": 4}}}}' \
	"field 'workers.slow.speed': 'NLP' is given more than once"
bad_truth '{"workers": {"fast": {"speed": {"*": 4}}, "fast": {"speed": {"*": 1}}, "*": {"speed": {"*": 1}}}}' \
	"field 'workers.fast': is given more than once"
bad_truth '{"workers": {"*": {"speed": {"*": 1}}}' "not valid JSON"
# An unknown field in "*" is one warning, not one per worker it stands for.
printf '%s\n' '{"workers": {"*": {"speed": {"*": 1}, "bogus": 1}}}' >"$tmp/star_warn.json"
expect_rc 0 sim $t2 --truth "$tmp/star_warn.json" --warmup 0 --compare oracle
has "$tmp/err" "$tmp/star_warn.json: unknown field 'workers.*.bogus' ignored"
lines "$tmp/err" 1
# A bad "*" is an error even when every worker has its own entry.
bad_truth '{"workers": {"slow": {"speed": {"*": 1}}, "fast": {"speed": {"*": 4}}, "*": {"speed": {"*": -1}}}}' \
	"field 'workers.*.speed.*': must be a finite number in 0..1000000, got -1"
# "*" stands for the workers not listed.
printf '%s\n' '{"workers": {"fast": {"speed": {"*": 4}}, "*": {"speed": {"*": 1}}}}' >"$tmp/star.json"
expect_rc 0 sim $t2 --truth "$tmp/star.json" --warmup 0 --compare oracle --json "$tmp/r.json"
pycheck 'runs["oracle"]["makespan_s"] == 30'

# --- Bad mix and test files.
bad_mix() { # JSON EXPECTED-TEXT
	printf '%s\n' "$1" >"$tmp/mix.json"
	expect_rc 1 sim --workers "$tmp/fleet2.json" --truth "$tmp/truth2.json" --mix "$tmp/mix.json" --tests 10
	lines "$tmp/err" 1
	has "$tmp/err" "$tmp/mix.json: $2"
}
bad_mix '[{"test_type": "nlp", "expected_duration": [10, 20]}]' "field '[0].share': is required"
bad_mix '[{"test_type": "nlp", "share": 1, "expected_duration": [20, 10]}]' \
	"field '[0].expected_duration': must be [low, high] with low <= high"
bad_mix '[{"test_type": "nlp", "share": 1}]' "field '[0].expected_duration': is required"
bad_mix '[{"test_type": "nlp", "share": 1, "expected_duration": 10, "priority": [0, 9]}]' \
	"field '[0].priority': the low end must be a finite number in 1..5, got 0"
bad_mix '[{"test_type": "nlp", "share": 1, "expected_duration": 10, "priority": [1, "5"]}]' \
	"field '[0].priority': the high end must be a finite number in 1..5, got \"5\""
bad_mix '{"test_type": "nlp"}' "must be a non-empty JSON array of mix entries, got an object"
bad_mix '[]' "is an empty array: a mix needs at least one entry"
bad_mix '[{"test_type": "nlp", "share": 0, "expected_duration": 10}]' \
	"field '[0].share': must be > 0 (the only entry's share)"
bad_mix '[{"test_type": "nlp", "share": 0, "expected_duration": 10}, {"test_type": "nlp", "share": 0, "expected_duration": 20}]' \
	"every entry's share is 0: at least one must be > 0"
# A mix no worker can run is refused before the runs, not a table of dashes.
bad_mix '[{"test_type": "nlp", "share": 1, "expected_duration": 10, "required_backend": "cuda"}]' \
	"no worker in $tmp/fleet2.json can take any of its 10 tests (check required_backend"
# A mean of no tests is a dash in the table, as in the report: here every
# test after the warm-up needs CUDA, which the fleet lacks.
printf '%s\n' '{"test_id": "a", "test_type": "nlp", "expected_duration": 40, "arrival_s": 0}' \
	'{"test_id": "b", "test_type": "nlp", "expected_duration": 40, "arrival_s": 1, "required_backend": "cuda"}' >"$tmp/cuda.jsonl"
expect_rc 0 sim --workers "$tmp/fleet2.json" --truth "$tmp/truth2.json" --tests-file "$tmp/cuda.jsonl" \
	--warmup 1 --compare oracle
lacks_i "$tmp/out" "nan"
if awk '$1 == "oracle" { good = $2 == "10.00" && $4 == "-" && $9 == 1 } END { exit !good }' "$tmp/out"; then ok; else bad "oracle row: mean>warm not a dash"; cat "$tmp/out" >&2; fi
printf '%s\n' '{"test_id": "a", "test_type": "nlp", "expected_duration": 40, "arrival_s": 5}' \
	'{"test_id": "b", "test_type": "nlp", "expected_duration": 40, "arrival_s": 1}' >"$tmp/back.jsonl"
expect_rc 1 sim --workers "$tmp/fleet2.json" --truth "$tmp/truth2.json" --tests-file "$tmp/back.jsonl"
has "$tmp/err" "$tmp/back.jsonl:2: field 'arrival_s': goes back in time"
printf '%s\n' '{"test_id": "a", "test_type": "nlp", "expected_duration": 40}' >"$tmp/noarr.jsonl"
expect_rc 1 sim --workers "$tmp/fleet2.json" --truth "$tmp/truth2.json" --tests-file "$tmp/noarr.jsonl"
has "$tmp/err" "$tmp/noarr.jsonl:1: field 'arrival_s': is required"
# arrival_s given twice is an error, as any other field given twice (it was
# a warning of an unknown field, and the first value used).
printf '%s\n' '{"test_id": "a", "test_type": "nlp", "expected_duration": 40, "arrival_s": 1, "arrival_s": 2}' >"$tmp/twice.jsonl"
expect_rc 1 sim --workers "$tmp/fleet2.json" --truth "$tmp/truth2.json" --tests-file "$tmp/twice.jsonl"
eq "arrival_s given twice" "$(cat "$tmp/err")" "lbsched-shim: $tmp/twice.jsonl:1: field 'arrival_s': is given more than once"
lines "$tmp/out" 0
# decide's default of 60 s would be a run of a made-up length here
printf '%s\n' '{"test_id": "a", "test_type": "nlp", "arrival_s": 1}' >"$tmp/nodur.jsonl"
expect_rc 1 sim --workers "$tmp/fleet2.json" --truth "$tmp/truth2.json" --tests-file "$tmp/nodur.jsonl"
has "$tmp/err" "$tmp/nodur.jsonl:1: field 'expected_duration': is required and must be > 0 s"
lines "$tmp/err" 1
# A NUL byte is an error naming its line, not the silent end of the file
# (issue 15 item 6); text after a line's object is one too (item 7).
{ head -1 "$tmp/three.jsonl"; printf '{"test_id": "x"\0, "arrival_s": 1}\n'; tail -1 "$tmp/three.jsonl"; } >"$tmp/nul.jsonl"
expect_rc 1 sim --workers "$tmp/fleet2.json" --truth "$tmp/truth2.json" --tests-file "$tmp/nul.jsonl"
has "$tmp/err" "$tmp/nul.jsonl:2: a NUL byte at byte 15"
lines "$tmp/err" 1
printf '%s\n' '{"test_id": "a", "test_type": "nlp", "expected_duration": 40, "arrival_s": 0}}' >"$tmp/after.jsonl"
expect_rc 1 sim --workers "$tmp/fleet2.json" --truth "$tmp/truth2.json" --tests-file "$tmp/after.jsonl"
has "$tmp/err" "$tmp/after.jsonl:1: text after the JSON document at byte 77"
printf '\xef\xbb\xbf%s\n' '{"test_id": "a", "test_type": "nlp", "expected_duration": 40, "arrival_s": 0}' >"$tmp/bom.jsonl"
expect_rc 1 sim --workers "$tmp/fleet2.json" --truth "$tmp/truth2.json" --tests-file "$tmp/bom.jsonl"
has "$tmp/err" "$tmp/bom.jsonl: starts with a UTF-8 byte order mark"
lines "$tmp/err" 1
# An output that cannot be written is refused before the runs (nothing on
# stdout), naming the path asked for, not the report's temporary file.
unwritable() { # OPTION PATH EXPECTED-TEXT
	expect_rc 1 sim --workers "$tmp/fleet2.json" --truth "$tmp/truth2.json" --tests-file "$tmp/three.jsonl" "$1" "$2"
	lines "$tmp/err" 1
	has "$tmp/err" "$2: cannot write: $3"
	lacks "$tmp/err" ".tmp"
	lines "$tmp/out" 0
}
unwritable --report "$tmp/nodir/r.html" "its directory does not exist"
unwritable --json "$tmp/nodir/r.json" "its directory does not exist"
unwritable --report "$tmp" "is a directory"
unwritable --json "$tmp/three.jsonl/r.json" "its parent is not a directory"
ln -s "$tmp/nowhere.html" "$tmp/dangling.html"
unwritable --report "$tmp/dangling.html" "a symlink to nothing"
# An output that is a symlink replaces its target and keeps the link; one
# that is not a regular file (a FIFO, a device) is written into, never
# replaced (as root, --report /dev/full made /dev/full a file).
printf 'old\n' >"$tmp/target.html"
ln -s "$tmp/target.html" "$tmp/link.html"
expect_rc 0 sim --workers "$tmp/fleet2.json" --truth "$tmp/truth2.json" --tests-file "$tmp/three.jsonl" --report "$tmp/link.html"
if [ -L "$tmp/link.html" ] && grep -q '<html' "$tmp/target.html"; then ok; else bad "the report's symlink was replaced, or its target not written"; fi
mkfifo "$tmp/fifo"
cat "$tmp/fifo" >"$tmp/fifo.out" &
reader=$!
expect_rc 0 sim --workers "$tmp/fleet2.json" --truth "$tmp/truth2.json" --tests-file "$tmp/three.jsonl" --json "$tmp/fifo"
wait "$reader"
if [ -p "$tmp/fifo" ] && python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$tmp/fifo.out"; then ok; else bad "the FIFO was replaced, or what came through it is not the result"; fi
ls "$tmp" | grep -q '\.tmp$' && bad "a temporary file was left: $(ls "$tmp")" || ok
# /dev/stdout is written where it points: a pipe (which has no path to
# resolve), and a file the shell opened, after what went there before
# (reopened, or resolved and replaced, that was lost)
sim --workers "$tmp/fleet2.json" --truth "$tmp/truth2.json" --tests-file "$tmp/three.jsonl" \
	--json /dev/stdout 2>"$tmp/err" | grep -c '"lbsched_simulate"' >"$tmp/n"
eq "--json /dev/stdout into a pipe" "$(cat "$tmp/n")" 1
{ echo BEFORE; sim --workers "$tmp/fleet2.json" --truth "$tmp/truth2.json" \
	--tests-file "$tmp/three.jsonl" --json /dev/stdout 2>"$tmp/err"; echo AFTER; } >"$tmp/all.txt"
eq "--json /dev/stdout into a file" "$(head -1 "$tmp/all.txt") $(grep -c '"lbsched_simulate"' "$tmp/all.txt") $(tail -1 "$tmp/all.txt")" "BEFORE 1 AFTER"
# the command line itself is wrong: 2
expect_rc 2 sim --workers "$tmp/fleet2.json" --truth "$tmp/truth2.json" --tests-file "$tmp/three.jsonl" --compare oracle=x.json
has "$tmp/err" "the oracle takes no config"
# --scheduler oracle read no --config either, and said nothing of it (a path
# that does not exist ran, exit 0).
expect_rc 2 sim --workers "$tmp/fleet2.json" --truth "$tmp/truth2.json" --tests-file "$tmp/three.jsonl" --scheduler oracle --config "$tmp/no-such.json"
eq "--scheduler oracle --config" "$(cat "$tmp/err")" "lbsched-shim: simulate: --config: the oracle takes no config (lbsched-shim simulate --help)"
lines "$tmp/out" 0
expect_rc 2 sim --workers "$tmp/fleet2.json" --truth "$tmp/truth2.json" --mix "$tmp/mix.json" --tests-file "$tmp/three.jsonl"
has "$tmp/err" "exactly one of --mix and --tests-file"
# Two outputs in one file, or an output over an input: the last written won
# (the report replaced the JSON), exit 0; now a usage error naming both.
expect_rc 2 sim --workers "$tmp/fleet2.json" --truth "$tmp/truth2.json" --tests-file "$tmp/three.jsonl" --json "$tmp/same.out" --report "$tmp/same.out"
eq "--json and --report alike" "$(cat "$tmp/err")" "lbsched-shim: simulate: --json and --report name one file ('$tmp/same.out'): give each its own (lbsched-shim simulate --help)"
[ -e "$tmp/same.out" ] && bad "a refused run wrote $tmp/same.out" || ok
# the same file to be made, named two ways; streams are written into, never
# replaced, but two outputs on standard output were mixed there, the dump,
# the table and the JSON, none to be parsed (exit 0)
(cd "$tmp" && expect_rc 2 sim --workers "$tmp/fleet2.json" --truth "$tmp/truth2.json" --tests-file "$tmp/three.jsonl" --json same2.out --report ./same2.out)
has "$tmp/err" "--json and --report name one file ('same2.out')"
expect_rc 2 sim --workers "$tmp/fleet2.json" --truth "$tmp/truth2.json" --tests-file "$tmp/three.jsonl" --json /dev/stdout --dump-tests /dev/fd/1
eq "--json and --dump-tests on stdout" "$(cat "$tmp/err")" "lbsched-shim: simulate: --json and --dump-tests name one file ('/dev/stdout'): give each its own (lbsched-shim simulate --help)"
lines "$tmp/out" 0
# one output on standard output, the other on standard error: both written,
# and the output on standard output takes the table's place there (the
# table came first, and the JSON could not be parsed)
expect_rc 0 sim --workers "$tmp/fleet2.json" --truth "$tmp/truth2.json" --tests-file "$tmp/three.jsonl" --json /dev/stdout --dump-tests /dev/stderr
if python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); assert d["lbsched_simulate"] == 1' "$tmp/out"; then ok; else bad "--json /dev/stdout is not one JSON document: $(head -c 300 "$tmp/out")"; fi
has "$tmp/err" '"test_id"'
# "-" is standard output, as it is standard input for a file read (it
# wrote a file named "-")
(cd "$tmp" && expect_rc 0 sim --workers "$tmp/fleet2.json" --truth "$tmp/truth2.json" --tests-file "$tmp/three.jsonl" --json -)
if python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); assert d["lbsched_simulate"] == 1' "$tmp/out"; then ok; else bad "--json - is not one JSON document on standard output: $(head -c 300 "$tmp/out")"; fi
[ -e "$tmp/-" ] && bad "--json - wrote a file named '-'" || ok
expect_rc 0 sim --workers "$tmp/fleet2.json" --truth "$tmp/truth2.json" --tests-file "$tmp/three.jsonl" --dump-tests /dev/fd/1
lines "$tmp/out" 3
if python3 -c 'import json, sys; [json.loads(l) for l in open(sys.argv[1])]' "$tmp/out"; then ok; else bad "--dump-tests /dev/fd/1 is not JSON lines alone"; fi
# A config named in --compare is an input too: --json wrote over it (exit 0),
# and the next run refused the JSON as a config
echo '{"load_ceiling": 0.8}' >"$tmp/pcfg.json"
cp "$tmp/pcfg.json" "$tmp/pcfg-copy.json"
expect_rc 2 sim --workers "$tmp/fleet2.json" --truth "$tmp/truth2.json" --tests-file "$tmp/three.jsonl" --compare "priority=$tmp/pcfg.json,oracle" --json "$tmp/pcfg.json"
eq "--json over a --compare config" "$(cat "$tmp/err")" "lbsched-shim: simulate: --json would write over --compare's config ('$tmp/pcfg.json') (lbsched-shim simulate --help)"
cmp -s "$tmp/pcfg.json" "$tmp/pcfg-copy.json" && ok || bad "the --compare config was written over"
expect_rc 2 sim --workers "$tmp/fleet2.json" --truth "$tmp/truth2.json" --tests-file "$tmp/three.jsonl" --compare "oracle,priority=$tmp/pcfg.json" --report "$tmp/./pcfg.json"
has "$tmp/err" "--report would write over --compare's config ('$tmp/./pcfg.json')"
cmp -s "$tmp/pcfg.json" "$tmp/pcfg-copy.json" && ok || bad "the --compare config was written over by --report"
cp "$tmp/three.jsonl" "$tmp/three-copy.jsonl"
expect_rc 2 sim --workers "$tmp/fleet2.json" --truth "$tmp/truth2.json" --tests-file "$tmp/three-copy.jsonl" --json "$tmp/./three-copy.jsonl"
eq "--json over --tests-file" "$(cat "$tmp/err")" "lbsched-shim: simulate: --json would write over --tests-file ('$tmp/./three-copy.jsonl') (lbsched-shim simulate --help)"
cmp -s "$tmp/three.jsonl" "$tmp/three-copy.jsonl" && ok || bad "the tests file was written over"
# A file name is any bytes: one not UTF-8 made --json's "workers_file"
# invalid JSON (and the report's), and a worker id's control bytes reached
# the terminal through the table; shown as '?' in both
cp "$tmp/fleet2.json" "$tmp/W$(printf '\377').json"
sed 's/"slow"/"sl\\u0001ow"/' "$tmp/fleet2.json" >"$tmp/ctl.json"
sed 's/"slow"/"sl\\u0001ow"/' "$tmp/truth2.json" >"$tmp/ctl_truth.json"
expect_rc 0 sim --workers "$tmp/W$(printf '\377').json" --truth "$tmp/truth2.json" --tests-file "$tmp/three.jsonl" --json "$tmp/w.json"
if python3 -c 'import json, sys; d = json.loads(open(sys.argv[1], "rb").read().decode("utf-8")); assert d["scenario"]["workers_file"].endswith("/W?.json"), d["scenario"]' "$tmp/w.json"; then ok; else bad "--json of a file name not UTF-8 is not JSON"; fi
expect_rc 0 sim --workers "$tmp/ctl.json" --truth "$tmp/ctl_truth.json" --tests-file "$tmp/three.jsonl" --compare "hardware-aware,oracle"
has "$tmp/out" "sl?ow"
if grep -q "$(printf '\001')" "$tmp/out"; then bad "a control byte of a worker id reached the table"; else ok; fi
# A sharded test in a tests file: refused naming the field that made it so
echo '{"test_id": "s", "expected_duration": 10, "arrival_s": 0, "custom_properties": {"is_shardable": true, "min_shards": 2, "allocation_strategy": "sharded"}}' >"$tmp/shard.jsonl"
expect_rc 1 sim --workers "$tmp/fleet2.json" --truth "$tmp/truth2.json" --tests-file "$tmp/shard.jsonl"
eq "a sharded test" "$(cat "$tmp/err")" "lbsched-shim: $tmp/shard.jsonl:1: field 'custom_properties.allocation_strategy': the simulator places single-worker tests only, got \"sharded\""
# Two configs under one long directory: two rows, each named whole (both
# were cut to the same 28 characters)
mkdir -p "$tmp/configs-of-a-long-directory-name"
echo '{}' >"$tmp/configs-of-a-long-directory-name/a.json"
echo '{"scan": "full"}' >"$tmp/configs-of-a-long-directory-name/b.json"
expect_rc 0 sim --workers "$tmp/fleet2.json" --truth "$tmp/truth2.json" --tests-file "$tmp/three.jsonl" \
	--compare "hardware-aware=$tmp/configs-of-a-long-directory-name/a.json,hardware-aware=$tmp/configs-of-a-long-directory-name/b.json"
for c in a b; do
	[ "$(grep -c "^hardware-aware=$tmp/configs-of-a-long-directory-name/$c.json " "$tmp/out")" = 1 ] && ok ||
		bad "config $c is not a row of its own: $(head -4 "$tmp/out")"
done
# An empty --compare entry is refused wherever it is: at the end too (it was
# taken there).
for c in "oracle," ",oracle" "oracle,,round-robin"; do
	expect_rc 2 sim --workers "$tmp/fleet2.json" --truth "$tmp/truth2.json" --tests-file "$tmp/three.jsonl" --compare "$c"
	n=$(python3 -c 'import sys; print(sys.argv[1].split(",").index("") + 1)' "$c")
	eq "--compare '$c'" "$(cat "$tmp/err")" "lbsched-shim: simulate: --compare: entry $n is empty (lbsched-shim simulate --help)"
done
# A count is digits: no space and no sign before them (strtoull took ' 5'
# and '+5', where --rate refused ' 1').
for t in " 5" "+5" "5 " "-1"; do
	expect_rc 2 sim --workers "$tmp/fleet2.json" --truth "$tmp/truth2.json" --mix "$tmp/mix_ab.json" --tests "$t"
	eq "--tests '$t'" "$(cat "$tmp/err")" "lbsched-shim: simulate: --tests must be an integer in 1..10000000, got '$t' (lbsched-shim simulate --help)"
done
expect_rc 2 sim --workers "$tmp/fleet2.json" --truth "$tmp/truth2.json" --tests-file "$tmp/three.jsonl" --warmup +0
eq "--warmup '+0'" "$(cat "$tmp/err")" "lbsched-shim: simulate: --warmup must be an integer in 0..10000000, got '+0' (lbsched-shim simulate --help)"
expect_rc 2 sim --workers "$tmp/fleet2.json" --truth "$tmp/truth2.json" --tests-file "$tmp/three.jsonl" --window " 10"
eq "--window ' 10'" "$(cat "$tmp/err")" "lbsched-shim: simulate: --window must be an integer in 1..10000000, got ' 10' (lbsched-shim simulate --help)"
expect_rc 2 sim --workers "$tmp/fleet2.json" --truth "$tmp/truth2.json" --mix "$tmp/mix_ab.json" --rate " 1"
eq "--rate ' 1'" "$(cat "$tmp/err")" "lbsched-shim: simulate: --rate must be a number of tests per second in [0.00001, 1000000], got ' 1' (lbsched-shim simulate --help)"
expect_rc 1 sim --workers "$tmp/fleet2.json" --truth "$tmp/truth2.json" --tests-file "$tmp/three.jsonl" --compare no-such
has "$tmp/err" "no-such"
# A bad --compare entry is refused before the first run, not at its turn
# after the runs before it (an hour's runs were wasted on a typo in the
# last entry): with --timing, the error is all there is on stderr.
early() { # ENTRY: refused, the first runs not made
	expect_rc 1 sim --workers "$tmp/fleet2.json" --truth "$tmp/truth2.json" --tests-file "$tmp/three.jsonl" \
		--warmup 0 --timing --compare "oracle,round-robin,$1"
	lines "$tmp/err" 1
	lacks "$tmp/err" "tests on 2 workers"
}
early "round-robin=$tmp/no-such-dir/rr.json"
eq "a missing config" "$(cat "$tmp/err")" "lbsched-shim: $tmp/no-such-dir/rr.json: cannot open: No such file or directory"
echo '{"load_ceiling": "x"}' >"$tmp/bad_ceiling.json"
early "hardware-aware=$tmp/bad_ceiling.json"
eq "a bad config" "$(cat "$tmp/err")" "lbsched-shim: $tmp/bad_ceiling.json: scheduler 'hardware-aware': config field 'load_ceiling': must be a number in 0..1, got a string"
early "no-such"
has "$tmp/err" "no scheduler named 'no-such'"

# --- The scenario generators: a bad argument is argparse's error (exit 2),
# not a traceback, an empty file or a scenario simulate refuses.
gen_bad() { # SCRIPT EXPECTED-TEXT ARGS...
	local script=$1 want=$2; shift 2
	expect_rc 2 python3 "$src/bench/$script" "$@"
	has "$tmp/err" "$script: error: $want"
	lacks "$tmp/err" "Traceback"
	lines "$tmp/out" 0
}
gen_bad simgen.py "argument --workers: must be an integer in 1..1048576, got '0'" --workers 0 --seed 1 --out "$tmp/sg"
for l in 0 -1 nan inf; do
	gen_bad simgen.py "argument --load: must be a finite number > 0" --workers 4 --seed 1 --out "$tmp/sg" --load "$l"
done
gen_bad simgen.py "argument --load: 1e-09 gives 0.00000000018935 tests/s, outside the 0.00001..1000000 simulate --rate takes" \
	--workers 4 --seed 1 --out "$tmp/sg" --load 1e-9
# Tests of 1e-300 s end after the clock's resolution: the ratio to the
# bound is astronomical, and "%.3f" of it was cut short to a wrong number
echo '[{"test_type": "nlp_text_generation", "share": 1, "expected_duration": 1e-300}]' >"$tmp/tinymix.json"
echo '{"workers": {"*": {"speed": {"*": 1}}}}' >"$tmp/tiny_truth.json"
echo '[{"worker_id": "w", "available_memory": 8, "cpu_cores": 4}]' >"$tmp/tiny_w.json"
expect_rc 0 sim --workers "$tmp/tiny_w.json" --truth "$tmp/tiny_truth.json" --mix "$tmp/tinymix.json" \
	--tests 50 --warmup 5 --compare hardware-aware,oracle
grep -Eq '^hardware-aware .* [0-9.]+e\+[0-9]+x$' "$tmp/out" && ok || bad "the ratio to the bound: $(grep '^hardware-aware' "$tmp/out")"
# bench/run's one argument is checked before anything is built: -1 gave a
# table of nonsense and "abc" a ratio of nan, both with exit 0
for a in "verify -1" "agent abc" "fresh 0" "nginx 4096x"; do
	read -r bname barg <<<"$a"
	expect_rc 2 bash "$src/bench/run" "$bname" "$barg"
	has "$tmp/err" "bench/run: $bname: the count must be a whole number from 1, got '$barg'"
done
expect_rc 2 bash "$src/bench/run" fleet bogus
has "$tmp/err" "bench/run: fleet: the part must be select or scale, got 'bogus'"
expect_rc 2 bash "$src/bench/run" hw 5
has "$tmp/err" "bench/run: hw: takes no argument, got '5'"
expect_rc 2 bash "$src/bench/fuzz" -5
has "$tmp/err" "bench/fuzz: the seconds must be a whole number (0: 10 million execs), got '-5'"
# A light load on a small fleet: at four decimals its rate printed 0.0000
# and was refused, though simulate takes it; five significant digits now
expect_rc 0 python3 "$src/bench/simgen.py" --workers 1 --seed 1 --load 0.001 --out "$tmp/sglight"
has "$tmp/out" "0.000028150"
expect_rc 0 sim --workers "$tmp/sglight/fleet.json" --truth "$tmp/sglight/truth.json" \
	--mix "$tmp/sglight/mix.json" --tests 20 --warmup 0 --rate "$(cat "$tmp/out")" --compare round-robin
rm -rf "$tmp/sglight"
# random.Random takes a seed's absolute value: -101 was held-out seed 101
gen_bad simgen.py "argument --seed: must be an integer >= 0, got '-101'" --workers 4 --seed -101 --out "$tmp/sg"
if [ ! -e "$tmp/sg" ]; then ok; else bad "a refused simgen run wrote $tmp/sg"; fi
: >"$tmp/sgfile"
gen_bad simgen.py "argument --out: '$tmp/sgfile' exists and is not a directory" --workers 4 --seed 1 --out "$tmp/sgfile"
gen_bad graphgen.py "argument --min: 5 is above --max 2" --min 5 --max 2
gen_bad graphgen.py "argument --min: must be an integer in 1..10000, got '0'" --min 0
gen_bad graphgen.py "argument --graphs: must be an integer >= 1, got '0'" --graphs 0
gen_bad graphgen.py "argument --graphs: must be an integer >= 1, got '-1'" --graphs -1
gen_bad graphgen.py "argument --max: must be an integer in 1..10000, got '20000'" --max 20000
# graphgen's --mix: what simulate's mix refuses is an argparse error naming the
# file and field (it was a traceback), and what simulate's mix takes it takes.
gen_bad graphgen.py "argument --mix: $tmp/nomix.json: cannot read: No such file or directory" --mix "$tmp/nomix.json"
mkdir -p "$tmp/mixdir"
gen_bad graphgen.py "argument --mix: $tmp/mixdir: cannot read: Is a directory" --mix "$tmp/mixdir"
echo '[{"test_type": "x", "share": 1, "expected_duration": [5]}]' >"$tmp/gmix.json"
gen_bad graphgen.py "argument --mix: $tmp/gmix.json: field '[0].expected_duration': must be a number or [low, high], got [5]" --mix "$tmp/gmix.json"
echo '[{"test_type": "x", "share": 1}]' >"$tmp/gmix.json"
gen_bad graphgen.py "argument --mix: $tmp/gmix.json: field '[0].expected_duration': is required" --mix "$tmp/gmix.json"
echo '[{"test_type": "x", "share": 1, "expected_duration": 5, "priority": [1.5, 2]}]' >"$tmp/gmix.json"
gen_bad graphgen.py "argument --mix: $tmp/gmix.json: field '[0].priority': must hold integers" --mix "$tmp/gmix.json"
echo '[{"test_type": "x", "share": 0, "expected_duration": 5}]' >"$tmp/gmix.json"
gen_bad graphgen.py "argument --mix: $tmp/gmix.json: field '[0].share': must be > 0 (the only entry's share)" --mix "$tmp/gmix.json"
echo '[{"test_type": "x", "share": 1, "expected_duration": [1, NaN]}]' >"$tmp/gmix.json"
gen_bad graphgen.py "argument --mix: $tmp/gmix.json: not valid JSON: NaN is not a JSON number" --mix "$tmp/gmix.json"
# A single number for a range, no minimum_memory or priority, accelerators:
# simulate's mix takes them, and so do graphgen and then simulate --graphs.
echo '[{"test_type": "nlp_x", "share": 1, "expected_duration": 5, "required_accelerators": {"gpu": 1}, "colour": "red"}]' >"$tmp/gmix.json"
expect_rc 0 python3 "$src/bench/graphgen.py" --graphs 2 --min 3 --max 3 --mix "$tmp/gmix.json"
has "$tmp/err" "graphgen.py: warning: $tmp/gmix.json: unknown field '[0].colour' ignored"
cp "$tmp/out" "$tmp/gmix.jsonl"
if python3 -c 'import json, sys
for l in open(sys.argv[1]):
    for t in json.loads(l)["subtasks"].values():
        assert t["requirements"] == {"test_type": "nlp_x", "expected_duration": 5, "required_accelerators": {"gpu": 1}}, t' "$tmp/gmix.jsonl"; then ok; else bad "graphgen's subtasks from a one-number mix"; fi
echo '[{"worker_id": "g", "available_memory": 8, "has_gpu": true, "available_accelerators": {"gpu": 1}}]' >"$tmp/gmix_fleet.json"
echo '{"workers": {"*": {"speed": {"*": 1}}}}' >"$tmp/gmix_truth.json"
expect_rc 0 "$shim" simulate --plugin "$plugin" --graphs "$tmp/gmix.jsonl" --workers "$tmp/gmix_fleet.json" --truth "$tmp/gmix_truth.json"
has "$tmp/out" '"graphs":2,"completed":2'
# --report over the graphs it reads: refused, the graphs kept (it wrote HTML over them)
cp "$tmp/gmix.jsonl" "$tmp/gmix-keep.jsonl"
expect_rc 2 "$shim" simulate --plugin "$plugin" --graphs "$tmp/gmix.jsonl" --workers "$tmp/gmix_fleet.json" --truth "$tmp/gmix_truth.json" --report "$tmp/./gmix.jsonl"
has "$tmp/err" "--report would write over --graphs ('$tmp/./gmix.jsonl')"
cmp -s "$tmp/gmix.jsonl" "$tmp/gmix-keep.jsonl" && ok || bad "--report wrote over the graphs"
# ... or into standard output, between the graphs' JSON lines (exit 0)
expect_rc 2 "$shim" simulate --plugin "$plugin" --graphs "$tmp/gmix.jsonl" --workers "$tmp/gmix_fleet.json" --truth "$tmp/gmix_truth.json" --report /dev/stdout
eq "--graphs --report /dev/stdout" "$(cat "$tmp/err")" "lbsched-shim: simulate: --report '/dev/stdout': standard output carries a JSON line for each graph; give the report a file (lbsched-shim simulate --graphs GRAPHS.jsonl --help)"
lines "$tmp/out" 0
# simulate's stream options with --graphs: named as not applying, the
# --help pointed to the one that lists what does
expect_rc 2 "$shim" simulate --plugin "$plugin" --graphs "$tmp/gmix.jsonl" --workers "$tmp/gmix_fleet.json" --truth "$tmp/gmix_truth.json" --tests 5
has "$tmp/err" "lbsched-shim: simulate: option '--tests' does not apply to simulate --graphs GRAPHS.jsonl (lbsched-shim simulate --graphs GRAPHS.jsonl --help)"
expect_rc 2 "$shim" simulate --plugin "$plugin" --graphs "$tmp/gmix.jsonl" --workers "$tmp/gmix_fleet.json" --truth "$tmp/gmix_truth.json" --bogus
has "$tmp/err" "lbsched-shim: simulate: unknown option '--bogus' (lbsched-shim simulate --graphs GRAPHS.jsonl --help)"
# under a path of over 512 bytes, a graph's line is still named (the
# record's where was cut at 512 bytes, before its ":LINE")
deep=$tmp
for i in 1 2 3 4 5 6; do deep=$deep/$(printf 'd%.0s' $(seq 100)); done
mkdir -p "$deep"
{ head -1 "$tmp/gmix.jsonl"; echo '{"subtasks": {"a": {"dependencies": ["zz"]}}}'; } >"$deep/g.jsonl"
expect_rc 1 "$shim" simulate --plugin "$plugin" --graphs "$deep/g.jsonl" --workers "$tmp/gmix_fleet.json" --truth "$tmp/gmix_truth.json"
has "$tmp/err" "...:2: subtask 'a': depends on 'zz', which the graph does not have"
lines "$tmp/err" 1
printf '{"test_id": "t1", "arrival_s": 0, "expected_duration": 1}\n{"arrival_s": 1, "expected_duration": 1}\n' >"$deep/t.jsonl"
expect_rc 1 "$shim" simulate --plugin "$plugin" --tests-file "$deep/t.jsonl" --workers "$tmp/gmix_fleet.json" --truth "$tmp/gmix_truth.json"
has "$tmp/err" "...:2: field 'test_id'"
# What simgen writes and prints, simulate runs.
expect_rc 0 python3 "$src/bench/simgen.py" --workers 4 --seed 1 --out "$tmp/sg" --load 0.7
rate=$(cat "$tmp/out")
expect_rc 0 sim --workers "$tmp/sg/fleet.json" --truth "$tmp/sg/truth.json" --mix "$tmp/sg/mix.json" \
	--tests 50 --rate "$rate" --warmup 0
# A mix entry's warning comes with its first test, not once a test (50 lines)
echo '[{"test_type": "x", "share": 1, "expected_duration": [5, 10], "required_backend": "bogus"}]' \
	>"$tmp/bogusmix.json"
echo '{"workers": {"*": {"speed": {"*": 1}}}}' >"$tmp/one_truth.json"
echo '[{"worker_id": "w", "available_memory": 8, "cpu_cores": 4}]' >"$tmp/one_w.json"
# (no worker has the backend: refused after the stream is read)
expect_rc 1 sim --workers "$tmp/one_w.json" --truth "$tmp/one_truth.json" --mix "$tmp/bogusmix.json" \
	--tests 50 --warmup 0
has "$tmp/err" "bogusmix.json: entry [0] (test t000001): field 'required_backend': backend 'bogus' is not in the taxonomy, required by name"
[ "$(grep -c "backend 'bogus'" "$tmp/err")" = 1 ] && ok || bad "the entry's warning came $(grep -c "backend 'bogus'" "$tmp/err") times"
# A test_type with no workload word (a typo) is simulated as mixed: one line
# for the run, counting its tests, from a mix or a tests file; a type with
# a word is not said.
words="no workload word in it (vision, image, nlp, text, language, audio, speech, embedding, training, inference, conversational, multi): decided as mixed"
echo '[{"test_type": "vison", "share": 1, "expected_duration": [5, 10]}, {"test_type": "nlp", "share": 1, "expected_duration": [5, 10]}]' \
	>"$tmp/wordmix.json"
expect_rc 0 sim --workers "$tmp/one_w.json" --truth "$tmp/one_truth.json" --mix "$tmp/wordmix.json" \
	--tests 50 --warmup 0 --dump-tests "$tmp/wordmix.jsonl"
n=$(grep -c '"test_type":"vison"' "$tmp/wordmix.jsonl")
first=$(grep -n -m1 '"test_type":"vison"' "$tmp/wordmix.jsonl" | cut -d: -f1)
has "$tmp/err" "warning: $n tests (the first at $tmp/wordmix.json: entry [0] (test $(printf 't%06u' "$first")), test_type 'vison') have a 'test_type' with $words"
[ "$(grep -c "workload word" "$tmp/err")" = 1 ] && ok || bad "the type was said $(grep -c "workload word" "$tmp/err") times"
expect_rc 0 sim --workers "$tmp/one_w.json" --truth "$tmp/one_truth.json" --tests-file "$tmp/wordmix.jsonl" \
	--warmup 0
has "$tmp/err" "warning: $n tests (the first at $tmp/wordmix.jsonl:$first, test_type 'vison') have a 'test_type' with $words"
sed -i 's/"vison"/"vision"/' "$tmp/wordmix.jsonl"
expect_rc 0 sim --workers "$tmp/one_w.json" --truth "$tmp/one_truth.json" --tests-file "$tmp/wordmix.jsonl" \
	--warmup 0
lacks "$tmp/err" "workload word"

# A config with a store: the run learns into it and keeps what it learned
# (a production config's store would hold simulated outcomes): said once
# per run that has one, naming the run and the file; none without.
echo "{\"store\": {\"path\": \"$tmp/simstore\"}}" >"$tmp/withstore.json"
echo '{}' >"$tmp/nostore.json"
expect_rc 0 sim $het --tests 30 --warmup 0 --compare "hardware-aware=$tmp/withstore.json,hardware-aware=$tmp/nostore.json"
has "$tmp/err" "warning: simulate: hardware-aware=$tmp/withstore.json: $tmp/withstore.json names a store: it learns and keeps this run's simulated outcomes (run on a copy of the store, or without \"store\", to leave it as it is)"
lines "$tmp/err" 1
test -d "$tmp/simstore" && ok || bad "the store the warning names was not made"
# Two runs on one store (one config twice, or another spelling of the
# path): the later started from what the earlier learned of this stream,
# and the same scheduler gave two rows; refused, naming both and the store.
echo "{\"store\": {\"path\": \"$tmp/simstore/../simstore\"}}" >"$tmp/samestore.json"
expect_rc 1 sim $het --tests 30 --warmup 0 --compare "hardware-aware=$tmp/withstore.json,priority,hardware-aware=$tmp/samestore.json"
has "$tmp/err" "simulate: runs 1 (hardware-aware=$tmp/withstore.json) and 3 (hardware-aware=$tmp/samestore.json) name one store, $(realpath "$tmp/simstore"): the later would start from what the earlier learned of this stream, and the comparison would not be fair; give each run its own copy"
expect_rc 1 sim $het --tests 30 --warmup 0 --compare "hardware-aware=$tmp/withstore.json,priority=$tmp/withstore.json"
has "$tmp/err" "simulate: runs 1 (hardware-aware=$tmp/withstore.json) and 2 (priority=$tmp/withstore.json) name one store"
# A scheduler is opened once to check it before the runs and again for its
# run: what the plugin says as it opens is said once.
: >"$tmp/not-a-dir"
echo "{\"store\": {\"path\": \"$tmp/not-a-dir/s\", \"on_error\": \"memory\"}}" >"$tmp/memstore.json"
expect_rc 0 sim $het --tests 30 --warmup 0 --compare "hardware-aware=$tmp/memstore.json"
[ "$(grep -c "RUNNING MEMORY-ONLY" "$tmp/err")" = 1 ] && ok || bad "the store's open said $(grep -c "RUNNING MEMORY-ONLY" "$tmp/err") times"

# A signal stops simulate at the next test (docs/SIMULATE.md, "Interrupted"):
# the run's scheduler is closed, so that its store commits what it still
# queues (batch_ms would hold it a minute); no --json or --report, no
# temporary file beside them; one line, and the signal's exit status.
mkdir -p "$tmp/sig/outs"
printf '{"store": {"path": "%s", "batch_ms": 60000, "batch_count": 65536}}\n' "$tmp/sig/db" >"$tmp/sig/cfg.json"
"$shim" simulate --plugin "$plugin" $het --tests 500000 --rate 23 --config "$tmp/sig/cfg.json" \
	--json "$tmp/sig/outs/r.json" --report "$tmp/sig/outs/r.html" >"$tmp/sig/out" 2>"$tmp/sig/err" &
job=$!
# under way: the store is made as the run's scheduler is checked, after the
# stream; then a fifth of a second of the run's own CPU time
cpu() { awk '{print $14 + $15}' "/proc/$job/stat" 2>/dev/null; }
has_db() { [ -d "$tmp/sig/db" ]; }
until_ok 120 has_db || bad "simulate made no store"
at=$(cpu)
ran() { [ "$(cpu)" -ge $((${at:-0} + 20)) ]; }
until_ok 120 ran || bad "simulate did not run"
signal_rc "$job" INT
eq "simulate stopped by SIGINT: exit status" "$rc" 130
[ "$(grep -c 'interrupted' "$tmp/sig/err")" = 1 ] && ok || bad "interrupted said $(grep -c 'interrupted' "$tmp/sig/err") times"
grep -qE '^lbsched-shim: simulate: interrupted by SIGINT after [1-9][0-9]* of 500000 tests; what was learned is kept$' "$tmp/sig/err" &&
	ok || bad "no interruption line: $(cat "$tmp/sig/err")"
lines "$tmp/sig/out" 0
eq "outputs of a stopped simulate" "$(ls -A "$tmp/sig/outs")" ""
"$shim" prefs dump --plugin "$plugin" --db "$tmp/sig/db" >"$tmp/sig/dump" 2>&1
n=$(awk 'NR > 1 {s += $3} END {print s + 0}' "$tmp/sig/dump")
[ "$n" -gt 0 ] && ok || bad "a stopped simulate kept $n samples: $(cat "$tmp/sig/dump")"

# simulate --graphs stops between graphs the same way: the graphs' lines so
# far are whole, and no summary line (its means would be read as the whole
# file's); it ran to the end on SIGINT, its lines and summary written
python3 "$src/bench/graphgen.py" --graphs 4000 --min 3 --max 6 --mix "$src/examples/hetero/mix.json" \
	>"$tmp/sig/g.jsonl" || bad "graphgen failed"
"$shim" simulate --plugin "$plugin" --graphs "$tmp/sig/g.jsonl" --workers "$src/examples/hetero/fleet.json" \
	--truth "$src/examples/hetero/truth.json" >"$tmp/sig/gout" 2>"$tmp/sig/gerr" &
job=$!
at=$(cpu)
until_ok 120 ran || bad "simulate --graphs did not run"
signal_rc "$job" INT
eq "simulate --graphs stopped by SIGINT: exit status" "$rc" 130
lines "$tmp/sig/gerr" 1
grep -qE '^lbsched-shim: simulate: interrupted by SIGINT after [1-9][0-9]* graphs; what was learned is kept$' "$tmp/sig/gerr" &&
	ok || bad "no interruption line: $(cat "$tmp/sig/gerr")"
lacks "$tmp/sig/gout" '"mean_ratio"'
done_n=$(sed -E 's/.* after ([0-9]+) graphs.*/\1/' "$tmp/sig/gerr")
if python3 -c 'import json, sys
ls = [json.loads(l) for l in open(sys.argv[1])]
sys.exit(0 if len(ls) == int(sys.argv[2]) and all("graph" in l for l in ls) else 1)' "$tmp/sig/gout" "$done_n"
then ok; else bad "not $done_n whole graph lines: $(tail -c 300 "$tmp/sig/gout")"; fi
# its graphs from a pipe that stays open: the wait for them ends
mkfifo "$tmp/sig/gpipe"
"$shim" simulate --plugin "$plugin" --graphs - --workers "$src/examples/hetero/fleet.json" \
	--truth "$src/examples/hetero/truth.json" <"$tmp/sig/gpipe" >"$tmp/sig/gout2" 2>"$tmp/sig/gerr2" &
job=$!
exec 8>"$tmp/sig/gpipe"
head -1 "$tmp/sig/g.jsonl" >&8
until_ok 60 catches_int "$job" || bad "simulate --graphs does not catch SIGINT"
signal_rc "$job" INT
exec 8>&-
eq "simulate --graphs - stopped by SIGINT: exit status" "$rc" 130
lines "$tmp/sig/gout2" 0
eq "its one line" "$(cat "$tmp/sig/gerr2")" "lbsched-shim: simulate: interrupted by SIGINT after 0 graphs; what was learned is kept"

finish test_simulate
