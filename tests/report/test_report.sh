#!/usr/bin/env bash
# test_report.sh -- the HTML report of `lbsched-shim simulate` (issue 7),
# drawn by the renderer alone (report_render) from a result JSON:
#  - the page opens in headless Chromium; a screenshot is taken, and the DOM
#    the browser built has every chart with data, one line per run, one
#    heatmap cell per type and worker, one table row per run (check_dom.py);
#  - it references nothing outside itself and escapes every string it shows;
#  - a malformed result gives one line naming the field, exit 1, no page,
#    never a crash; nulls where the format allows them still draw;
#  - a large result (512 workers, 20 runs, 2000 points) stays bounded.
# Under sanitizers the renderer checks run and the browser is left out
# (the point there is the instrumented renderer, not Chromium).
set -u
render=${LBS_REPORT_RENDER:?run through meson test}
here=${LBS_SRCDIR:?}/tests/report
fixture=$here/fixture.json
. "$LBS_SRCDIR/tests/testlib.sh"
count() { # count FILE STRING N: STRING occurs exactly N times
	local n; n=$(grep -oF -- "$2" "$1" | wc -l)
	if [ "$n" = "$3" ]; then ok; else bad "$1 has '$2' $n times, expected $3"; fi
}

# mutate OUT STATEMENT: a copy of the fixture, changed by a Python statement on d
mutate() {
	python3 - "$fixture" "$1" "$2" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
exec(sys.argv[3])
json.dump(d, open(sys.argv[2], "w"))
PY
}

# self_contained FILE: nothing fetched, nothing run
self_contained() {
	local s
	for s in "http:" "https:" "<script" "<link" "<iframe" "<img" "<object" "<embed" "@import"; do
		lacks_i "$1" "$s"
	done
	if grep -Eqi '<[^<>]*[[:space:]](src|href)=' "$1"; then bad "$1 has a tag with src or href"; else ok; fi
	if grep -o 'url([^)]*)' "$1" | grep -qv '^url(#'; then bad "$1 has a url() outside the file"; else ok; fi
}

# -- the fixture: 4 workers, 3 types, hardware-aware / round-robin / oracle
expect_rc 0 "$render" "$fixture" "$tmp/report.html"
self_contained "$tmp/report.html"
for chart in curves assignments efficiency thermal durations; do
	count "$tmp/report.html" "data-chart=\"$chart\"" 1
done
count "$tmp/report.html" '<polyline class="mark line"' 3
count "$tmp/report.html" '<rect class="cell' 12
count "$tmp/report.html" '<tr class="run' 3
has "$tmp/report.html" '<tr class="run best"><td>hardware-aware'
has "$tmp/report.html" 'examples/hetero/fleet.json'
has "$tmp/report.html" 'tests finished (count)'
has "$tmp/report.html" 'rolling mean completion time (s)'
has "$tmp/report.html" 'warm-up: 300 tests'
# stdout works as an output too, and gives the same page
expect_rc 0 "$render" "$fixture" -
if cmp -s "$tmp/out" "$tmp/report.html"; then ok; else bad "the page on stdout differs from the file"; fi

# -- malformed results: one line naming the field, exit 1, no page left behind
# bad_result NAME STATEMENT MESSAGE
bad_result() {
	mutate "$tmp/$1.json" "$2"
	expect_rc 1 "$render" "$tmp/$1.json" "$tmp/$1.html"
	has "$tmp/err" "$3"
	lines "$tmp/err" 1
	if [ -e "$tmp/$1.html" ]; then bad "$1: $1.html left behind"; else ok; fi
}
bad_result no_runs 'del d["runs"]' "$tmp/no_runs.json: runs: missing"
bad_result empty_runs 'd["runs"] = []' "runs: empty; nothing to report"
bad_result curve_string 'd["runs"][1]["curve"] = "fast"' \
	"runs[1].curve: expected an array of [tests, seconds] pairs, got a string"
bad_result curve_pair 'd["runs"][1]["curve"][2] = [100]' \
	"runs[1].curve[2]: expected a [tests, seconds] pair, got 1 value"
bad_result curve_null 'd["runs"][0]["curve"][0][1] = None' \
	"runs[0].curve[0]: expected a [tests, seconds] pair of numbers, got [a number, null]"
bad_result no_curve 'del d["runs"][2]["curve"]' "runs[2].curve: missing"
bad_result efficiency_rows 'd["runs"][2]["efficiency"].pop()' \
	"runs[2].efficiency: expected 3 rows (one per type), got 2"
bad_result assignments_row 'd["runs"][0]["assignments"][1].pop()' \
	"runs[0].assignments[1]: expected an array of 3 numbers (one per type)"
bad_result assignments_negative 'd["runs"][0]["assignments"][1][0] = -4' \
	"runs[0].assignments[1][0]: expected a number >= 0, got -4"
bad_result duration_worker 'd["runs"][0]["durations"][5][3] = 9' \
	"runs[0].durations[5][3]: worker index 9 out of range (4 workers)"
bad_result duration_type 'd["runs"][0]["durations"][0][2] = 1.5' \
	"runs[0].durations[0][2]: type index 1.5 out of range (3 types)"
bad_result thermal_lists 'd["runs"][0]["thermal"].pop()' \
	"runs[0].thermal: expected 4 lists (one per worker), got 3"
bad_result throttled_pair 'd["runs"][0]["throttled"][0] = [[1, 2, 3]]' \
	"runs[0].throttled[0][0]: expected a [start_s, end_s] pair, got 3 values"
bad_result scenario_tests 'd["scenario"]["tests"] = "many"' \
	"scenario.tests: expected a number, got a string"
bad_result worker_id 'd["workers"][2]["id"] = 7' "workers[2].id: expected a string, got a number"
bad_result type_name 'd["types"][1] = None' "types[1]: expected a string, got null"
bad_result scheduler_name 'del d["runs"][1]["scheduler"]' "runs[1].scheduler: missing"
bad_result mean_string 'd["runs"][1]["mean_completion_s"] = "slow"' \
	"runs[1].mean_completion_s: expected a number or null, got a string"
bad_result version 'd["lbsched_simulate"] = 2' "lbsched_simulate: format 2, but this lbsched-shim reads format 1"
bad_result not_simulate 'del d["lbsched_simulate"]' "lbsched_simulate: missing; not a simulate result"
printf '[1, 2]' >"$tmp/array.json"
expect_rc 1 "$render" "$tmp/array.json" "$tmp/array.html"
has "$tmp/err" "result: expected a JSON object (lbsched-shim simulate --json), got an array"
lines "$tmp/err" 1
sed 's/"seed":1,/"seed":1e999,/' "$fixture" >"$tmp/inf.json"
expect_rc 1 "$render" "$tmp/inf.json" "$tmp/inf.html"
has "$tmp/err" "scenario.seed: expected a number, got a number out of range"
printf '{"lbsched_simulate": 1,' >"$tmp/cut.json"
expect_rc 1 "$render" "$tmp/cut.json" "$tmp/cut.html"
has "$tmp/err" "not JSON"
# every prefix of a real result is malformed: never a crash, always one line
size=$(wc -c <"$fixture") crashed=0
for cut in 1 17 100 999 5000 40000 $((size - 3)); do
	head -c "$cut" "$fixture" >"$tmp/prefix.json"
	"$render" "$tmp/prefix.json" "$tmp/prefix.html" 2>"$tmp/err" >/dev/null
	rc=$?
	if [ "$rc" != 1 ] || [ "$(grep -c . "$tmp/err")" != 1 ]; then crashed=$((crashed + 1)); echo "  prefix $cut: exit $rc" >&2; fi
done
if [ "$crashed" = 0 ]; then ok; else bad "$crashed cut-off results did not give exit 1 and one line"; fi

# -- nulls and empties the format allows: a run with no finished test, no oracle
mutate "$tmp/sparse.json" '
r = d["runs"][1]
r.update(completed=0, mean_completion_s=None, p95_completion_s=None, mean_completion_after_warmup_s=None,
         makespan_s=None, throughput_per_s=None, ratio_to_oracle=None, curve=[], durations=[])
r["efficiency"] = [[None] * len(d["workers"]) for _ in d["types"]]
r["thermal"] = [[[0, 0.0]] for _ in d["workers"]]
r["throttled"] = [[] for _ in d["workers"]]
d["runs"] = d["runs"][:2]
for r in d["runs"]:
    r["ratio_to_oracle"] = None
d["scenario"].update(mix_file=None, tests_file="recorded.jsonl", rate_per_s=None)'
expect_rc 0 "$render" "$tmp/sparse.json" "$tmp/sparse.html"
count "$tmp/sparse.html" '<polyline class="mark line"' 1
has "$tmp/sparse.html" 'round-robin <small>(no finished tests)</small>'
has "$tmp/sparse.html" 'tests replayed from a recorded stream'
lacks_i "$tmp/sparse.html" 'class="run oracle"'
lacks_i "$tmp/sparse.html" 'nan'
# the same run as the primary one: its charts say there is nothing to show
mutate "$tmp/empty_primary.json" '
r = d["runs"][0]
r.update(completed=0, mean_completion_s=None, p95_completion_s=None, mean_completion_after_warmup_s=None,
         makespan_s=None, throughput_per_s=None, curve=[], durations=[])
r["efficiency"] = [[None] * len(d["workers"]) for _ in d["types"]]
r["thermal"] = [[] for _ in d["workers"]]
r["throttled"] = [[] for _ in d["workers"]]'
expect_rc 0 "$render" "$tmp/empty_primary.json" "$tmp/empty_primary.html"
has "$tmp/empty_primary.html" 'no successful test to measure'
has "$tmp/empty_primary.html" 'no finished tests in this run'
count "$tmp/empty_primary.html" '<rect class="cell empty"' 12
lacks_i "$tmp/empty_primary.html" 'nan'

# -- untrusted strings are escaped
mutate "$tmp/evil.json" '
d["workers"][0]["id"] = "<script>alert(1)</script>"
d["types"][1] = "\"><img src=x onerror=alert(2)>"
d["runs"][0]["scheduler"] = "a&b <i>x</i>"
d["scenario"]["workers_file"] = "</dd><script>alert(3)</script>"'
expect_rc 0 "$render" "$tmp/evil.json" "$tmp/evil.html"
self_contained "$tmp/evil.html"
lacks_i "$tmp/evil.html" "<i>x"
has "$tmp/evil.html" "&lt;script&gt;alert(1)&lt;/script&gt;"
has "$tmp/evil.html" "&quot;&gt;&lt;img src=x onerror=alert(2)&gt;"
has "$tmp/evil.html" "a&amp;b &lt;i&gt;x&lt;/i&gt;"
has "$tmp/evil.html" "&lt;/dd&gt;&lt;script&gt;alert(3)"

# -- a large result stays bounded: lanes capped, every line and cell drawn
runs="hardware-aware,round-robin,priority,composite,oracle$(for i in $(seq 1 15); do printf ',config-%02d' "$i"; done)"
python3 "$here/make_result.py" --workers 512 --types 6 --runs "$runs" --tests 2100 \
	--curve-points 2000 --sample 2000 --warmup 500 >"$tmp/big.json"
expect_rc 0 "$render" "$tmp/big.json" "$tmp/big.html"
count "$tmp/big.html" '<polyline class="mark line"' 20
count "$tmp/big.html" '<rect class="cell' $((512 * 6))
count "$tmp/big.html" '<path class="mark temp"' 40
count "$tmp/big.html" '<circle class="mark"' 2000
has "$tmp/big.html" 'Showing 40 of 512 workers'
self_contained "$tmp/big.html"

# -- a real run: simulate --report on the bundled heterogeneous scenario
ex=$LBS_SRCDIR/examples/hetero
expect_rc 0 "${LBS_SHIM:?}" simulate --plugin "${LBS_PLUGIN:?}" --quiet --workers "$ex/fleet.json" \
	--truth "$ex/truth.json" --mix "$ex/mix.json" --tests 3000 --rate 2.3 \
	--compare round-robin,hardware-aware,oracle --json "$tmp/sim.json" --report "$tmp/sim.html"
self_contained "$tmp/sim.html"
has "$tmp/sim.html" "gpu_a100_1"
# the lower bound: a column, and its value under the table, as --json has it
has "$tmp/sim.html" "<th>Ratio to lower bound</th>"
bound=$(python3 -c 'import json, sys; print("%.1f" % json.load(open(sys.argv[1]))["scenario"]["lower_bound_after_warmup_s"])' "$tmp/sim.json")
has "$tmp/sim.html" "Lower bound on the mean after warm-up: $bound s."
# a report that cannot be written is refused before the runs, naming the
# path asked for, not the temporary file the page is written to
expect_rc 1 "$LBS_SHIM" simulate --plugin "$LBS_PLUGIN" --quiet --workers "$ex/fleet.json" \
	--truth "$ex/truth.json" --mix "$ex/mix.json" --tests 10 --report "$tmp/no-such-dir/x.html"
has "$tmp/err" "$tmp/no-such-dir/x.html: cannot write: its directory does not exist"
lacks "$tmp/err" ".tmp"

# -- the thermal timeline's times are seconds since the first arrival, as its
# axis says (and --json): a recorded stream that starts at 100000 s draws
# from 0, not squeezed into the last pixel.  One worker throttles 100 s into
# a heat streak: a 0..100, b 110..210 throttled, c 300..350 (docs/SIMULATE.md).
cat >"$tmp/one.json" <<'JSON'
{"workers": [{"worker_id": "w", "cpu_cores": 8, "available_memory": 64, "supported_backends": ["cpu"], "capacity": 1}]}
JSON
printf '{"noise_sigma": 0, "workers": {"w": {"speed": {"*": 1}, "throttle_after_s": 100, "throttle_factor": 0.5}}}\n' >"$tmp/hot.json"
printf '%s\n' '{"test_id": "a", "test_type": "nlp", "expected_duration": 100, "arrival_s": 100000}' \
	'{"test_id": "b", "test_type": "nlp", "expected_duration": 50, "arrival_s": 100110}' \
	'{"test_id": "c", "test_type": "nlp", "expected_duration": 50, "arrival_s": 100300}' >"$tmp/late.jsonl"
expect_rc 0 "$LBS_SHIM" simulate --plugin "$LBS_PLUGIN" --quiet --workers "$tmp/one.json" --truth "$tmp/hot.json" \
	--tests-file "$tmp/late.jsonl" --warmup 0 --compare oracle --json "$tmp/late.json" --report "$tmp/late.html"
if python3 - "$tmp/late.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["runs"][0]
lane = r["thermal"][0]
ok = (r["makespan_s"] == 350 and r["throttled"] == [[[110, 210]]]
      and all(0 <= p[0] <= 350 for p in lane) and lane[0][0] < 5 and lane[-1][0] > 345)
sys.exit(0 if ok else 1)
PY
then ok; else bad "late.json: thermal and throttled times are not since the first arrival: $(head -c 300 "$tmp/late.json")"; fi
has "$tmp/late.html" "throttled 110$(printf '\xe2\x80\x93')210 s"
has "$tmp/late.html" "time since the first arrival (s)"

# -- fewer tests than --window: each curve is one point, drawn as a dot, and
# the page says the window the curves used, not the one asked for
expect_rc 0 "$LBS_SHIM" simulate --plugin "$LBS_PLUGIN" --quiet --workers "$ex/fleet.json" \
	--truth "$ex/truth.json" --mix "$ex/mix.json" --tests 20 --rate 2.3 --warmup 5 --window 500 \
	--compare round-robin,hardware-aware,oracle --report "$tmp/short.html"
count "$tmp/short.html" '<circle class="mark point"' 3
has "$tmp/short.html" '<dt>Rolling window</dt><dd>20 tests (fewer tests finished than the window of 500)</dd>'
has "$tmp/short.html" 'rolling mean completion time of the last 20 tests (fewer'
lacks "$tmp/short.html" '500 tests'
# runs that finished different numbers of tests: the range
mutate "$tmp/windows.json" '
d["curve_window"] = 500
for r, n in zip(d["runs"], (15, 20, 20)):
    r["curve"] = [[n, 30.0 + n]]'
expect_rc 0 "$render" "$tmp/windows.json" "$tmp/windows.html"
count "$tmp/windows.html" '<circle class="mark point"' 3
has "$tmp/windows.html" '<dd>15 to 20 tests (fewer tests finished than the window of 500)</dd>'
# a window that fits draws lines, no dots, and says the window as it was
count "$tmp/report.html" '<circle class="mark point"' 0
has "$tmp/report.html" '<dt>Rolling window</dt><dd>100 tests</dd>'

# -- a workload graph's timeline: a long worker id is cut, but the mark of a
# worker's extra rows stays, and the whole id is the label's tooltip
long=worker-with-a-long-name-a
printf '{"workers": [{"worker_id": "%s", "supported_backends": ["cpu"], "available_memory": 64, "cpu_cores": 8, "capacity": 4}]}\n' \
	"$long" >"$tmp/gfleet.json"
printf '{"noise_sigma": 0, "workers": {"*": {"speed": {"*": 1.0}}}}\n' >"$tmp/gtruth.json"
python3 - "$tmp/fan.jsonl" <<'PY'
import json, sys
sub = {"root": {"requirements": {"test_type": "t", "expected_duration": 5}, "dependencies": []}}
for i in range(4):
    sub["s%d" % i] = {"requirements": {"test_type": "t", "expected_duration": 20}, "dependencies": ["root"]}
open(sys.argv[1], "w").write(json.dumps({"name": "fan", "subtasks": sub}) + "\n")
PY
expect_rc 0 "$LBS_SHIM" simulate --plugin "$LBS_PLUGIN" --graphs "$tmp/fan.jsonl" --workers "$tmp/gfleet.json" \
	--truth "$tmp/gtruth.json" --report "$tmp/gantt.html"
self_contained "$tmp/gantt.html"
count "$tmp/gantt.html" "worker-with-a-long-nam$(printf '\xe2\x80\xa6')<title>$long</title></text>" 1
count "$tmp/gantt.html" "worker-with-a-long-n$(printf '\xe2\x80\xa6 \xc2\xb7')<title>$long $(printf '\xc2\xb7')</title></text>" 3

# -- numbers never turn into exponents: seconds past 1e9, a capacity of 2e9,
# an efficiency of a millionth
mutate "$tmp/huge.json" '
for r in d["runs"]:
    r["curve"] = [[x, y * 1e9] for x, y in r["curve"]]
    r["durations"] = [[e * 1e9, a * 1e9, t, w] for e, a, t, w in r["durations"]]
    r["efficiency"] = [[None if v is None else v * 1e-6 for v in row] for row in r["efficiency"]]
    r["makespan_s"] *= 1e12
    r["thermal"] = [[[t * 1e12, v] for t, v in lane] for lane in r["thermal"]]
    r["throttled"] = [[[a * 1e12, b * 1e12] for a, b in lane] for lane in r["throttled"]]
d["workers"][0]["capacity"] = 2e9'
expect_rc 0 "$render" "$tmp/huge.json" "$tmp/huge.html"
# (the text the page shows: between tags, past the style sheet's colours)
sed 's|<style>.*</style>||' "$tmp/huge.html" | grep -o '>[^<]*<' >"$tmp/huge.text"
if grep -Eq '[0-9.]e[+-]?[0-9]' "$tmp/huge.text"; then
	bad "huge.html shows a number in exponent form: $(grep -E '[0-9.]e[+-]?[0-9]' "$tmp/huge.text" | head -3)"
else ok; fi
has "$tmp/huge.html" 'G</text>'
has "$tmp/huge.html" '(capacity 2G)'

# -- bidirectional controls in names cannot turn the text around them: each
# is shown as '?', as a control character is
mutate "$tmp/bidi.json" '
d["workers"][0]["id"] = "gpu\u202eevil\u2066x\u200f"
d["types"][1] = "nlp\u202b\u061c"
d["runs"][0]["scheduler"] = "\u2067hardware-aware\u2069\u200e\u202a\u202c\u202d\u2068"'
expect_rc 0 "$render" "$tmp/bidi.json" "$tmp/bidi.html"
if python3 -c 'import re, sys; sys.exit(1 if re.search("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]", open(sys.argv[1], encoding="utf-8").read()) else 0)' "$tmp/bidi.html"
then ok; else bad "bidi.html has a bidirectional control character"; fi
has "$tmp/bidi.html" 'gpu?evil?x?'
has "$tmp/bidi.html" 'nlp??'
has "$tmp/bidi.html" '?hardware-aware??????'

# -- in the browser
if [ "${LBS_SANITIZE:-none}" != none ]; then
	echo "test_report: browser checks left to the build without sanitizers"
elif ! browser=$(command -v chromium); then
	bad "chromium is not installed (Debian package chromium; ./dev test installs it)"
else
	# The pages are file://; the flags keep Chromium's own fetches (updates,
	# field trials, safe browsing) off the network, which a test never uses.
	chrome() { HOME="$tmp" timeout 120 "$browser" --headless --no-sandbox --disable-gpu \
		--disable-background-networking --disable-component-update --disable-sync \
		--disable-default-apps --no-first-run --metrics-recording-only \
		--user-data-dir="$tmp/profile" "$@" 2>>"$tmp/chromium.log"; }
	printf '<!DOCTYPE html><html><body></body></html>' >"$tmp/blank.html"
	chrome --screenshot="$tmp/shot.png" --window-size=1280,4000 "file://$tmp/report.html" >/dev/null
	chrome --screenshot="$tmp/blank.png" --window-size=1280,4000 "file://$tmp/blank.html" >/dev/null
	# a 1280 x 4000 PNG, and far more than a blank page's
	if python3 - "$tmp/shot.png" "$tmp/blank.png" <<'PY'
import struct, sys, os
shot, blank = sys.argv[1], sys.argv[2]
head = open(shot, "rb").read(24)
ok = head[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", head[16:24]) == (1280, 4000)
big = os.path.getsize(shot) > 5 * os.path.getsize(blank)
print("screenshot: %d bytes, blank page %d bytes, header %s" % (os.path.getsize(shot), os.path.getsize(blank), "ok" if ok else "bad"))
sys.exit(0 if ok and big else 1)
PY
	then ok; else bad "the screenshot is missing, not 1280x4000, or nearly blank"; fi
	for page in report:"$fixture" evil:"$tmp/evil.json" big:"$tmp/big.json" sim:"$tmp/sim.json"; do
		name=${page%%:*} json=${page#*:}
		chrome --dump-dom "file://$tmp/$name.html" >"$tmp/$name.dom"
		if python3 "$here/check_dom.py" "$tmp/$name.dom" "$json" >"$tmp/check.out"; then
			ok
		else
			bad "DOM of $name.html"
			sed 's/^/    /' "$tmp/check.out" >&2
		fi
		sed "s/^/  $name: /" "$tmp/check.out" | tail -1
	done
fi

finish test_report
