#!/usr/bin/env bash
# test_nginx.sh -- the nginx upstream module end to end, with the real nginx
# binary: routing by hardware, failover, max_fails, zone+keepalive, nginx -t
# errors, reloads under load, the status endpoint, learning from a slow
# backend (with and without a duration header) and work in flight shared by
# the worker processes.  Everything on 127.0.0.1, free ports (free_port); nginx itself
# serves the upstream servers, each answering its own name, beside small
# python3 servers that answer late or hold requests.
#
# Env (from tests/nginx/meson.build): LBS_PLUGIN, LBS_V2_PLUGIN,
# LBS_NGX_MODULE (the built .so; empty when nginx-dev came after meson
# setup), LBS_NGX_BUILD (build.sh) and LBS_NGX_BUILD_ARGS (its arguments).
# Missing packages are installed when running as root (CI); nothing is
# skipped: without nginx the test fails and says why.
set -u
# testlib.sh: $tmp, until_ok, free_port (its ok and bad are replaced below)
. "${LBS_SRCDIR:?}/tests/testlib.sh"
# ngxlib.sh: ngx_find, ngx_module, ngx_conf_head (after the packages below)
. "$LBS_SRCDIR/tests/nginx/ngxlib.sh"
plugin=${LBS_PLUGIN:?}
v2=${LBS_V2_PLUGIN:?}
liar=${LBS_LIAR_PLUGIN:?}
old=${LBS_OLD_PLUGIN:?}
checks=0 failed=0
ok() { checks=$((checks + 1)); echo "ok: $1"; }
bad() { checks=$((checks + 1)); failed=$((failed + 1)); echo "FAILED: $1"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }
die() { echo "test_nginx: $*" >&2; echo "$checks checks, $((failed + 1)) failed"; exit 1; }

# --- packages ---------------------------------------------------------------
need=()
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx)
[ -x /usr/share/nginx/src/configure ] || need+=(nginx-dev)
command -v curl >/dev/null || need+=(curl)
command -v python3 >/dev/null || need+=(python3)
if [ ${#need[@]} -gt 0 ]; then
	[ "$(id -u)" = 0 ] || die "missing packages ${need[*]} and not root: apt-get install -y --no-install-recommends ${need[*]}"
	echo "installing ${need[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}" >/dev/null 2>&1 ||
		{ apt-get update >/dev/null 2>&1 &&
		  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}" >/dev/null; } ||
		die "apt-get install ${need[*]} failed"
fi
ngx_find test_nginx

run=$tmp/run
mkdir -p "$run/tmp" "$run/logs"
cleanup() {
	[ -f "$run/nginx.pid" ] && kill -QUIT "$(cat "$run/nginx.pid")" 2>/dev/null
	[ -n "${slowpid:-}" ] && kill "$slowpid" 2>/dev/null
	[ -n "${hangpid:-}" ] && kill "$hangpid" 2>/dev/null
	[ -n "${holdpids:-}" ] && kill $holdpids 2>/dev/null
	[ -n "${kapids:-}" ] && kill $kapids 2>/dev/null
	sleep 0.3
	rm -rf "$tmp"
}
trap cleanup EXIT

ngx_module test_nginx

# --- ports and files ----------------------------------------------------------
FRONT=$(free_port) P_CPU=$(free_port) P_CUDA=$(free_port) P_NPU=$(free_port)
P_DEAD=$(free_port) P_SLOW=$(free_port)
P_HF=$(free_port) P_HA=$(free_port) P_HB=$(free_port) P_HANG=$(free_port)

cat >"$tmp/fleet.json" <<EOF
{"workers": [
 {"worker_id": "127.0.0.1:$P_CPU", "supported_backends": ["cpu", "pytorch", "onnx"],
  "available_memory": 64, "cpu_cores": 32,
  "hardware_specs": {"cpu_arch": "x86_64", "cpu_vendor": "intel"}},
 {"worker_id": "127.0.0.1:$P_CUDA", "supported_backends": ["cpu", "cuda", "tensorrt", "pytorch"],
  "has_gpu": true, "available_accelerators": {"gpu": 1}, "available_memory": 128, "cpu_cores": 16,
  "hardware_specs": {"cpu_arch": "x86_64", "gpu_vendor": "nvidia", "gpu_memory_gb": 80,
   "gpu_compute_units": 108}},
 {"worker_id": "127.0.0.1:$P_NPU", "supported_backends": ["cpu", "qnn", "tflite", "onnx"],
  "available_accelerators": {"npu": 1}, "available_memory": 8, "cpu_cores": 8,
  "hardware_specs": {"cpu_arch": "arm64", "cpu_vendor": "qualcomm", "npu_vendor": "qualcomm",
   "npu_compute_units": 4, "npu_memory_gb": 4}}
]}
EOF

# spent: only the dead server has CUDA
cat >"$tmp/spent.json" <<EOF
{"workers": [
 {"worker_id": "127.0.0.1:$P_DEAD", "supported_backends": ["cpu", "cuda"],
  "has_gpu": true, "available_accelerators": {"gpu": 1}, "available_memory": 64},
 {"worker_id": "127.0.0.1:$P_CPU", "supported_backends": ["cpu"], "available_memory": 64}
]}
EOF

# write_conf FILE WORKERS EXTRA_UPSTREAM_LINES
write_conf() {
	{ ngx_conf_head "$run" $2 256; cat <<EOF
  upstream be {
    lbsched_plugin $plugin;
    lbsched_fleet $tmp/fleet.json;
    lbsched_config '{"store": {"path": "$tmp/store", "batch_ms": 10, "refresh_ms": 50}}';
    server 127.0.0.1:$P_CPU; server 127.0.0.1:$P_CUDA; server 127.0.0.1:$P_NPU;
  }
  upstream byarg {
    lbsched_plugin $plugin;
    lbsched_fleet $tmp/fleet.json;
    lbsched_config '{"seed": 7}';
    lbsched_required_backend \$arg_backend;
    server 127.0.0.1:$P_CPU; server 127.0.0.1:$P_CUDA; server 127.0.0.1:$P_NPU;
  }
  upstream flaky {
    lbsched_plugin $plugin;
    server 127.0.0.1:$P_DEAD max_fails=1 fail_timeout=30s; server 127.0.0.1:$P_CPU;
  }
  upstream spent {
    lbsched_plugin $plugin;
    lbsched_fleet $tmp/spent.json;
    server 127.0.0.1:$P_DEAD max_fails=1 fail_timeout=30s; server 127.0.0.1:$P_CPU;
  }
  upstream liar {
    lbsched_plugin $liar; lbsched_scheduler liar; lbsched_config '{"mode": "out_of_range"}';
    server 127.0.0.1:$P_CPU; server 127.0.0.1:$P_CUDA;
  }
  upstream old {
    lbsched_plugin $old; lbsched_scheduler first-fit;
    server 127.0.0.1:$P_CPU; server 127.0.0.1:$P_CUDA;
  }
  upstream tally {
    lbsched_plugin $liar; lbsched_scheduler liar; lbsched_config '{"mode": "honest"}';
    server 127.0.0.1:$P_DEAD; server 127.0.0.1:$P_HANG; server 127.0.0.1:$P_CPU;
  }
  upstream kz {
    lbsched_plugin $plugin; lbsched_scheduler round-robin;
    zone kz 64k;
    server 127.0.0.1:$P_CPU max_conns=50; server 127.0.0.1:$P_NPU down; server 127.0.0.1:$P_CUDA;
    keepalive 4;
  }
  $3
  server { listen 127.0.0.1:$P_CPU;  location / { return 200 "cpu\n"; } }
  server { listen 127.0.0.1:$P_CUDA; location / { return 200 "cuda\n"; } }
  server { listen 127.0.0.1:$P_NPU;  location / { return 200 "npu\n"; } }
  server {
    listen 127.0.0.1:$FRONT;
    location / { proxy_pass http://be; }
    location /arg { proxy_pass http://byarg; }
    location /flaky { proxy_pass http://flaky; }
    location /spent { proxy_pass http://spent; }
    location /liar { proxy_pass http://liar; }
    location /old { proxy_pass http://old; }
    location /tally { proxy_pass http://tally; proxy_read_timeout 300ms; }
    location /kz { proxy_pass http://kz; proxy_http_version 1.1; proxy_set_header Connection ""; }
    ${3:+location /slow { proxy_pass http://slowup; \}}
    location = /lbsched_status { lbsched_status; }
  }
}
EOF
	} >"$1"
}
ngx() { "$NGINX" -p "$run/" -c "$run/nginx.conf" "$@"; }
get() { curl -s -m 10 "$@"; }
code() { curl -s -o /dev/null -w '%{http_code}\n' -m 10 "$@"; }
U=http://127.0.0.1:$FRONT
# answers URL: URL answers 200; ngx_gone: the nginx of $run has stopped
answers() { [ "$(code "$1")" = 200 ]; }
ngx_gone() { [ ! -f "$run/nginx.pid" ]; }
# ngx_up: until nginx answers its status URL (20 s), or the test ends saying so
ngx_up() { until_ok 20 answers $U/lbsched_status || die "nginx never answered $U/lbsched_status: $(tail -5 "$run/error.log")"; }
# ngx_down: until the nginx told to quit has gone (20 s), or the test ends
ngx_down() { until_ok 20 ngx_gone || die "nginx did not stop: $(tail -5 "$run/error.log")"; }

# --- nginx -t: good, wrong major, bad config, backup -------------------------------
write_conf "$run/nginx.conf" 1 ""
check "nginx -t accepts the config" ngx -t -q
# upstreams without a store make the plugin say so at info level
out=$(ngx -t -q 2>&1)
check "nginx -t -q prints nothing on success${out:+ (printed: $out)}" test -z "$out"
out=$(ngx -t 2>&1)
check "... while nginx -t without -q shows the info line" grep -q 'no "store" configured' <<<"$out"

# try_conf NAME SED_SCRIPT: nginx -t on the config edited by SED_SCRIPT, saved
# as NAME.conf; sets out (what nginx printed) and rc (its status).
try_conf() {
	sed "$2" "$run/nginx.conf" >"$run/$1.conf"
	out=$("$NGINX" -p "$run/" -c "$run/$1.conf" -t 2>&1)
	rc=$?
}
try_conf v2 "s|lbsched_plugin $plugin;|lbsched_plugin $v2;|"
check "nginx -t refuses a wrong-major plugin" test $rc -ne 0
check "... with the loader's message" grep -q "refused: the plugin is built for lbsched ABI 2.x" <<<"$out"

# A plugin logs from its own threads; nginx's log writers are the event
# loop's, so those lines wait in a queue of 64 the loop writes (here the
# master's, after its trial instance closed), and a flood says how many
# more it dropped.
try_conf threadlog 's|{"mode": "honest"}|{"mode": "thread_log"}|'
check "nginx -t passes a plugin that logs from a thread" test $rc -eq 0
check "... its lines written by the loop, from the first" grep -q "lbsched: thread line 1$" <<<"$out"
check "... 64 of them" test "$(grep -c 'lbsched: thread line' <<<"$out")" = 64
check "... and the rest counted" grep -q "lbsched: 36 more lines the plugin logged from its threads were dropped" <<<"$out"

try_conf badcfg 's|"batch_ms": 10|"batch_ms": 10, "nope": 1|'
check "nginx -t refuses a bad scheduler config" test $rc -ne 0
check "... with the plugin's message" grep -q "config field 'store.nope': unknown field" <<<"$out"
line=$(grep -n '"nope": 1' "$run/badcfg.conf" | cut -d: -f1)
check "... at the lbsched_config line ($line), not the upstream's" \
	grep -q "upstream \"be\" in $run/badcfg.conf:$line: .*config field 'store.nope'" <<<"$out"

# Two upstreams on one store: every worker makes both, and the plugin
# refuses two rules of learning on one store in a process; nginx -t meets
# them together too, naming the other upstream.
try_conf sharedrule "s|lbsched_scheduler round-robin;|lbsched_scheduler priority; lbsched_config '{\"store\": {\"path\": \"$tmp/store\", \"half_life_s\": 10}}';|"
check "nginx -t refuses a store shared with another half-life" test $rc -ne 0
check "... naming both upstreams" grep -q "upstream \"kz\" in $run/sharedrule.conf:[0-9]*: .*store '$tmp/store': refused: another scheduler in this process uses it with half_life_s 600, this config gives 10; all must give the same (upstream \"be\" in $run/sharedrule.conf:[0-9]* uses the same store)" <<<"$out"
try_conf sharedok "s|lbsched_scheduler round-robin;|lbsched_scheduler priority; lbsched_config '{\"store\": {\"path\": \"$tmp/store\", \"batch_ms\": 30}}';|"
check "nginx -t takes a store shared with the same rules (its own queue)" test $rc -eq 0

# The bare directive once is a no-op beside the others; twice is a slip,
# said as nginx says it of its own.
try_conf bareonce "s|lbsched_scheduler round-robin;|lbsched; lbsched_scheduler round-robin;|"
check "nginx -t accepts lbsched; beside lbsched_* directives" test $rc -eq 0
try_conf baretwice "s|lbsched_scheduler round-robin;|lbsched; lbsched; lbsched_scheduler round-robin;|"
check "nginx -t refuses lbsched; given twice" test $rc -ne 0
check "... saying so ($out)" grep -q '"lbsched" directive is duplicate in .*baretwice.conf:' <<<"$out"

try_conf statustwice "s|location = /lbsched_status { lbsched_status; }|location = /lbsched_status { lbsched_status; lbsched_status; }|"
check "nginx -t refuses lbsched_status; given twice in a location" test $rc -ne 0
check "... saying so ($out)" grep -q '"lbsched_status" directive is duplicate in .*statustwice.conf:' <<<"$out"

try_conf badname "s|lbsched_scheduler round-robin;|lbsched_scheduler no-such;|"
check "nginx -t refuses an unknown scheduler, listing the plugin's" grep -q "no scheduler named 'no-such'" <<<"$out"

# The schedulers issue 16 added are found by name like the others.
try_conf adaptive "s|lbsched_scheduler round-robin;|lbsched_scheduler adaptive;|"
check "nginx -t accepts lbsched_scheduler adaptive" test $rc -eq 0
# A child's relative store path is the conf directory's, as the top
# level's is, wherever nginx was started from (systemd starts it in /):
# it was the current directory's.
mkdir -p "$tmp/elsewhere" && cd "$tmp/elsewhere" || die "no $tmp/elsewhere"
try_conf childstore "s|lbsched_scheduler round-robin;|lbsched_scheduler composite; lbsched_config '{\"children\": [{\"scheduler\": \"hardware-aware\", \"config\": {\"store\": {\"path\": \"childprefs\"}}}]}';|"
check "nginx -t accepts a composite whose child has a relative store ($out)" test $rc -eq 0
check "... made in the conf directory" test -d "$run/childprefs"
check "... not in the current one" test ! -e "$tmp/elsewhere/childprefs"
try_conf adchild "s|lbsched_scheduler round-robin;|lbsched_scheduler adaptive; lbsched_config '{\"config\": {\"priority\": {\"store\": {\"path\": \"adchild\"}}}}';|"
check "nginx -t accepts an adaptive whose child has a relative store ($out)" test $rc -eq 0
check "... made in the conf directory" test -d "$run/adchild"
check "... not in the current one" test ! -e "$tmp/elsewhere/adchild"
cd - >/dev/null || die "cannot go back"

# lbsched keeps a zone "lbsched_<upstream>": another upstream's zone of that
# name was blamed on the end of the http block, naming neither
try_conf zoneclash "s|^  upstream be {|  upstream other { zone lbsched_be 64k; server 127.0.0.1:1; }\n&|"
check "nginx -t refuses a zone named as lbsched's for an upstream" test $rc -ne 0
line=$(grep -n "^  upstream be {" "$run/zoneclash.conf" | cut -d: -f1)
check "... naming the upstream, its line ($line) and the reserved name" \
	grep -q "lbsched: upstream \"be\" in $run/zoneclash.conf:$line: its shared zone \"lbsched_be\" is declared for another use; lbsched keeps the name \"lbsched_<upstream>\"" <<<"$out"

try_conf backup "s|server 127.0.0.1:$P_NPU down;|server 127.0.0.1:$P_NPU backup;|"
check "nginx -t refuses backup servers" grep -q 'does not support parameter "backup"' <<<"$out"

try_conf badconst "s|lbsched_plugin $liar;|lbsched_required_backend openvinoo; &|"
check "nginx -t refuses a misspelt constant backend" test $rc -ne 0
check "... naming the directive and the value" grep -q 'invalid value "openvinoo" in "lbsched_required_backend" directive: the required backend names an unknown backend' <<<"$out"
try_conf badprio "s|lbsched_plugin $liar;|lbsched_priority 7; &|"
check "nginx -t refuses a constant priority out of range" grep -q 'invalid value "7" in "lbsched_priority" directive' <<<"$out"
try_conf wordless "s|lbsched_plugin $liar;|lbsched_test_type visoin; &|"
check "nginx -t takes a constant test type with no workload word (a typo)" test $rc = 0
check "... and warns of it, naming the directive and the value" \
	grep -q '\[warn\].*value "visoin" in "lbsched_test_type" directive has no workload word in it (vision, image, nlp, text, language, audio, speech, embedding, training, inference, conversational, multi): decided as mixed in '"$run/wordless.conf:" <<<"$out"
try_conf goodconst "s|lbsched_plugin $liar;|lbsched_required_backend cuda,tensorrt; lbsched_priority 5; lbsched_test_type vision_classification; &|"
check "... and accepts good constants" test $rc = 0
check "... without a warning${out:+ (printed: $out)}" eval '! grep -q "\[warn\]" <<<"$out"'
# Another balancing method in the same upstream would drop lbsched and its
# requirements, where nginx itself only warns: after its directives or
# before them (a keepalive before them too), nginx -t refuses it.
try_conf lcafter "s|lbsched_required_backend \$arg_backend;|& least_conn;|"
check "nginx -t refuses least_conn after lbsched's directives" test $rc -ne 0
check "... saying it would replace lbsched, with the upstream's file and line" \
	grep -q "lbsched: upstream \"byarg\" in $run/lcafter.conf:[0-9]*: another balancing method comes after lbsched's directives" <<<"$out"
try_conf lcbefore "s|lbsched_plugin $liar;|ip_hash; &|"
check "nginx -t refuses ip_hash before lbsched's directives" test $rc -ne 0
check "... naming the directive's line" grep -q "a balancing method or keepalive comes before lbsched's directives in this upstream.* in $run/lcbefore.conf:[0-9]" <<<"$out"
# A server listed twice is one worker to lbsched, the second never chosen:
# said once per address, and nginx -t still passes (nginx's own way of
# weighting a server).
try_conf dup "0,\|server 127.0.0.1:$P_CPU; server|s|server 127.0.0.1:$P_CPU;|& server 127.0.0.1:$P_CPU; server 127.0.0.1:$P_CPU;|"
check "nginx -t passes a server listed three times" test $rc -eq 0
check "... warning once, naming the upstream and the server" \
	test "$(grep -c "upstream \"be\" in $run/dup.conf:[0-9]*: server 127.0.0.1:$P_CPU is listed more than once" <<<"$out")" = 1
# weight= is taken by nginx but every choice is the scheduler's, the
# weighted one's too (it weighs by capacity or its config): said once per
# upstream, however many servers have one, with what to use instead.
try_conf weight "s|lbsched_scheduler round-robin;|lbsched_scheduler weighted-round-robin;|
s|server 127.0.0.1:$P_CPU max_conns=50;|server 127.0.0.1:$P_CPU max_conns=50 weight=3;|
s|server 127.0.0.1:$P_NPU down;|server 127.0.0.1:$P_NPU down weight=2;|"
check "nginx -t passes servers with weight=" test $rc -eq 0
check "... warning once for the upstream, naming it, the server and the weight" \
	test "$(grep -c "upstream \"kz\" in $run/weight.conf:[0-9]*: server 127.0.0.1:$P_CPU has weight=3, which has no effect: the scheduler decides" <<<"$out")" = 1
check "... and no line for the second server's weight" test "$(grep -c 'has weight=' <<<"$out")" = 1
check "... saying what weighs instead" grep -q "its fleet record's capacity, or by lbsched_config '{\"weights\": {\"127.0.0.1:$P_CPU\": 3}}'" <<<"$out"
# A store path holding \u0000 is refused by nginx -t, relative or absolute,
# and no directory is made for the path cut short there (cJSON cut it,
# and the path was rewritten and its directory handed over without it).
try_conf nulrel "s|\"path\": \"$tmp/store\"|\"path\": \"nulrel\\\\u0000x\"|"
check "nginx -t refuses a relative store path holding \\u0000" test $rc -ne 0
check "... saying so, by its field" grep -q "config: field 'store.path': a string holds \\\\u0000 (a NUL character)" <<<"$out"
check "... and makes no directory of what comes before it" test ! -e "$run/nulrel"
try_conf nulabs "s|\"path\": \"$tmp/store\"|\"path\": \"$tmp/nulabs\\\\u0000x\"|"
check "nginx -t refuses an absolute store path holding \\u0000" test $rc -ne 0
check "... and makes no directory of what comes before it" test ! -e "$tmp/nulabs"
# An error found after the upstream's block names its file and line, and
# the directive whose file it is.
try_conf nocfg "s|lbsched_scheduler round-robin;|& lbsched_config_file $tmp/none.json;|"
check "nginx -t refuses a missing lbsched_config_file" test $rc -ne 0
line=$(grep -n "lbsched_config_file $tmp/none.json" "$run/nocfg.conf" | cut -d: -f1)
check "... naming the directive, the file and the directive's line ($line)" \
	grep -q "upstream \"kz\" in $run/nocfg.conf:$line: lbsched_config_file $tmp/none.json: cannot open" <<<"$out"
# an empty config file is a mistake, not the defaults (as lbsched-shim's)
: >"$tmp/empty.json"
try_conf emptycfg "s|lbsched_scheduler round-robin;|& lbsched_config_file $tmp/empty.json;|"
check "nginx -t refuses an empty lbsched_config_file" test $rc -ne 0
check "... saying it is empty" grep -q "lbsched_config_file $tmp/empty.json: is empty (expected a JSON object)" <<<"$out"
# a config of white space alone is refused as an empty one (it was taken
# for the defaults), as an empty lbsched_config_file is
try_conf blankcfg "s|lbsched_scheduler round-robin;|& lbsched_config ' \t ';|"
check "nginx -t refuses lbsched_config of white space alone" test $rc -ne 0
check "... saying so, at its line" grep -q "\"lbsched_config\" directive takes a value that is not empty or only white space in $run/blankcfg.conf:[0-9]" <<<"$out"
try_conf emptystr "s|lbsched_scheduler round-robin;|& lbsched_config '';|"
check "... as it refuses an empty one" grep -q "\"lbsched_config\" directive takes a value that is not empty or only white space in $run/emptystr.conf:[0-9]" <<<"$out"
# ... but not a refusal that is not the file's (a wrong-major plugin)
printf '{}' >"$tmp/rr.json"
try_conf v2cfg "s|lbsched_plugin $plugin; lbsched_scheduler round-robin;|lbsched_plugin $v2; lbsched_scheduler round-robin; lbsched_config_file $tmp/rr.json;|"
check "nginx -t refuses a wrong-major plugin given a config file" test $rc -ne 0
check "... without blaming the file" eval '! grep -q "lbsched_config_file" <<<"$out" && grep -q "ABI 2.x" <<<"$out"'
# what the plugin finds wrong in the file names the file too
printf '{} x' >"$tmp/trail.json"
try_conf trailcfg "s|lbsched_scheduler round-robin;|& lbsched_config_file $tmp/trail.json;|"
check "nginx -t refuses text after the JSON in lbsched_config_file" test $rc -ne 0
check "... naming the file" grep -q "lbsched_config_file $tmp/trail.json: scheduler 'round-robin': config: text after the JSON document" <<<"$out"

# a fleet entry no server matches
python3 - "$tmp/fleet.json" "$tmp/fleet-extra.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["workers"].append(dict(d["workers"][0], worker_id="10.9.9.9:80"))
json.dump(d, open(sys.argv[2], "w"))
PY
try_conf extra "0,\|lbsched_fleet $tmp/fleet.json;|s||lbsched_fleet $tmp/fleet-extra.json;|"
check "nginx -t warns about a fleet worker_id that matches no server, naming the fleet file" grep -q "upstream \"be\": fleet worker_id \"10.9.9.9:80\" in $tmp/fleet-extra.json matches no server" <<<"$out"
check "... once, and only for it" test "$(grep -c 'matches no server' <<<"$out")" = 1
# the converter's warning about the fleet file names the lbsched_fleet
# line (it named the parser's place, the end of http {})
python3 - "$tmp/fleet.json" "$tmp/fleet-unknown.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["workers"][0]["bogus"] = 1
json.dump(d, open(sys.argv[2], "w"))
PY
try_conf unknown "0,\|lbsched_fleet $tmp/fleet.json;|s||lbsched_fleet $tmp/fleet-unknown.json;|"
line=$(grep -n -m1 "lbsched_fleet $tmp/fleet-unknown.json;" "$run/unknown.conf" | cut -d: -f1)
check "a fleet file's warning names the lbsched_fleet line ($run/unknown.conf:$line)" \
	grep -q "lbsched: $tmp/fleet-unknown.json: workers\[0\]: unknown field 'bogus' ignored in $run/unknown.conf:$line\$" <<<"$out"
# a misspelt backend or accelerator kind of a fleet worker is kept by name,
# and said at nginx -t
# (the fleet above, whose names are all known, is not: "-q prints nothing")
python3 - "$tmp/fleet.json" "$tmp/fleet-typo.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["workers"][0]["supported_backends"].append("tensorflowx")
d["workers"][1]["software_versions"] = {"cudaa": "12.2", "nvidia_driver": "550.54"}
d["workers"][2]["available_accelerators"]["npuu"] = 1
json.dump(d, open(sys.argv[2], "w"))
PY
try_conf typo "0,\|lbsched_fleet $tmp/fleet.json;|s||lbsched_fleet $tmp/fleet-typo.json;|"
line=$(grep -n -m1 "lbsched_fleet $tmp/fleet-typo.json;" "$run/typo.conf" | cut -d: -f1)
check "nginx -t takes a fleet with a misspelt backend" test $rc = 0
check "... and warns of it, naming the file, worker, field and name" \
	grep -q "\[warn\].*lbsched: $tmp/fleet-typo.json: workers\[0\]: field 'supported_backends\[3\]': backend 'tensorflowx' is not in the taxonomy, offered by name (one typo from 'tensorflow') in $run/typo.conf:$line\$" <<<"$out"
check "... and of a misspelt software name" \
	grep -q "lbsched: $tmp/fleet-typo.json: workers\[1\]: field 'software_versions.cudaa': software 'cudaa' is not in the taxonomy, offered by name (one typo from 'cuda') in $run/typo.conf:$line\$" <<<"$out"
check "... and of an accelerator kind that is no device class" \
	grep -q "lbsched: $tmp/fleet-typo.json: workers\[2\]: field 'available_accelerators.npuu': accelerator kind 'npuu' is not a device class (cpu, gpu, tpu, npu, dsp, fpga, asic) or cuda, matched by name in $run/typo.conf:$line\$" <<<"$out"
# and so do its errors: a file missing, a field refused (they named the
# upstream's first line)
sed 's/"bogus": 1/"cpu_cores": "x"/' "$tmp/fleet-unknown.json" >"$tmp/fleet-bad.json"
try_conf badfleet "0,\|lbsched_fleet $tmp/fleet.json;|s||lbsched_fleet $tmp/fleet-bad.json;|"
line=$(grep -n -m1 "lbsched_fleet $tmp/fleet-bad.json;" "$run/badfleet.conf" | cut -d: -f1)
check "a fleet file's error names the lbsched_fleet line ($run/badfleet.conf:$line)" \
	grep -q "upstream \"be\" in $run/badfleet.conf:$line: lbsched_fleet $tmp/fleet-bad.json: workers\[0\]: field 'cpu_cores'" <<<"$out"
try_conf nofleet "0,\|lbsched_fleet $tmp/fleet.json;|s||lbsched_fleet $tmp/fleet-none.json;|"
line=$(grep -n -m1 "lbsched_fleet $tmp/fleet-none.json;" "$run/nofleet.conf" | cut -d: -f1)
check "a missing fleet file is said at the lbsched_fleet line ($run/nofleet.conf:$line)" \
	grep -q "upstream \"be\" in $run/nofleet.conf:$line: lbsched_fleet $tmp/fleet-none.json: cannot open" <<<"$out"

# a relative store.path is under the conf directory, not the current one
mkdir -p "$tmp/elsewhere"
sed 's|"path": "[^"]*/store"|"path": "relstore"|' "$run/nginx.conf" >"$run/rel.conf"
(cd "$tmp/elsewhere" && "$NGINX" -q -p "$run/" -c "$run/rel.conf" -t)
check "a relative store.path resolves against the conf directory" test -f "$run/relstore/data.mdb"
check "... not the current directory" test ! -e "$tmp/elsewhere/relstore"

# --- start ---------------------------------------------------------------------
# a server that takes connections (the kernel's backlog) and never answers
python3 -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(16); print("up", flush=True); time.sleep(3600)' \
	"$P_HANG" >"$tmp/hang.out" &
hangpid=$!
hang_up() { grep -q up "$tmp/hang.out" 2>/dev/null; }
until_ok 20 hang_up || die "the server that never answers (port $P_HANG) did not start"
ngx || die "nginx does not start: $(tail -5 "$run/error.log")"
ngx_up

ans=$(for _ in 1 2 3 4 5; do get -H 'X-Test-Type: vision_classification' -H 'X-Required-Backend: cuda' $U/; done | sort -u)
check "vision + X-Required-Backend: cuda reaches the CUDA server" test "$ans" = cuda
ans=$(for _ in 1 2 3 4 5; do get -H 'X-Test-Type: inference' -H 'X-Required-Backend: qnn' $U/; done | sort -u)
check "NPU inference (X-Required-Backend: qnn) reaches the NPU server" test "$ans" = npu
ans=$(get "$U/arg?backend=cuda")
check "lbsched_required_backend \$arg_backend maps a query argument" test "$ans" = cuda
check "a requirement no server meets gives 502" test "$(code -H 'X-Required-Backend: tpu' $U/)" = 502

codes=$(
	code -H 'X-Required-Backend: cuda,bogus!' $U/
	code -H 'X-Priority: 99' $U/
	code -H 'X-Min-Memory-GB: 1e999' $U/
	code -H 'X-Expected-Duration: 5s' $U/
	code -H "X-Test-Type: $(head -c 2000 /dev/zero | tr '\0' v)" $U/
	code -H 'X-Deadline: -1' $U/
)
check "bad or oversized request values fall back to defaults (all 200: $(echo $codes))" test "$(echo $codes)" = "200 200 200 200 200 200"
plain=$(for _ in $(seq 9); do get $U/; done | sort | uniq -c | wc -l)
check "plain requests are served" test "$plain" -ge 1

# failover: the dead server is tried once, then skipped (max_fails=1)
ans=$(for _ in 1 2 3 4 5 6; do get $U/flaky; done | sort -u)
check "a dead backend fails over (all 6 answered by cpu)" test "$ans" = cpu
refused=$(grep -c "Connection refused.*$P_DEAD" "$run/error.log")
check "... and the next requests skip it (refused $refused time)" test "$refused" = 1

# A request only the dead server meets: once it was tried (refused) or is
# unusable, nothing is left, which is nginx's "no live upstreams", not a
# request that no server meets (no_worker and its warning: the tpu one).
codes=$(code -H 'X-Required-Backend: cuda' $U/spent; code -H 'X-Required-Backend: cuda' $U/spent;
	code -H 'X-Required-Backend: tpu' $U/spent)
check "a request only a dead server meets gives 502, tried and then unusable ($(echo $codes))" \
	test "$(echo $codes)" = "502 502 502"
check "... and only the tpu request is one no server meets" \
	test "$(grep -c 'upstream "spent": no server meets' "$run/error.log")" = 1

# zone + keepalive + down + max_conns
ans=$(for _ in $(seq 8); do get $U/kz; done | sort -u | tr '\n' ' ')
check "zone + keepalive: served, the down server never ($ans)" test "$ans" = "cpu cuda "

# a plugin that answers out of range: the shim's rotation serves instead
ans=$(for _ in 1 2 3 4; do get $U/liar; done | sort | uniq -c | awk '{print $1}' | tr '\n' ' ')
check "a misbehaving plugin falls back to round-robin (2 and 2: $ans)" test "$ans" = "2 2 "
check "... with an error log line" grep -q 'upstream "liar": the scheduler failed; round-robin chose instead' "$run/error.log"
# a 1.0 plugin without a report slot: served, and nothing counted as
# reported to it (the status counted every outcome it could not take)
check "a plugin without report() serves (cpu cpu)" test "$(get $U/old; get $U/old)" = "cpu
cpu"
# ... but not a line per request: each process says its first 8 and then
# one at each doubling (32 more requests: at most 8 + 2 lines a process)
for _ in $(seq 32); do get $U/liar >/dev/null; done
said=$(grep -c 'upstream "liar": the scheduler failed; round-robin chose instead' "$run/error.log")
check "... 36 fallbacks said in $said lines, 16 at most" test "$said" -le 16
check "... the host's reason with them, as often" \
	test "$(grep -c "scheduler 'liar' on workload .*index .* is out of range" "$run/error.log")" -le 16

# what each try tells the scheduler: the dead server refused (rejected),
# the one that takes the connection and never answers timed out, cpu
# served (a plugin that counts what it is told, in the first one's order)
check "a refused and a silent server fail over to cpu" test "$(get $U/tally)" = cpu

# --- the status endpoint --------------------------------------------------------
# The store's flusher commits within batch_ms (10 ms), on a loaded machine
# later: read the status until it shows everything (20 s), then say what
# the last one lacked.
status_complete() {
	get $U/lbsched_status >"$tmp/status.json" &&
	python3 - "$tmp/status.json" "$P_CPU" "$P_CUDA" "$P_NPU" "$P_DEAD" "$plugin" "$plugin_says" >"$tmp/status.why" 2>&1 <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
cpu, cuda, npu, dead = ("127.0.0.1:" + p for p in sys.argv[2:6])
# the plugin as `lbsched-shim check` names it: "plugin: NAME VERSION\nabi: M.m ..."
says = sys.argv[7].split("\n")
name, version = says[0].split()[1:3]
abi = says[1].split()[1]
u = {x["name"]: x for x in d["upstreams"]}
be, fl = u["be"], u["flaky"]
ok = True
def want(what, cond):
    global ok
    if not cond:
        print("  status mismatch:", what); ok = False
# be: 5 cuda + 5 npu + 6 bad values + 9 plain; the tpu request had no worker
want("be decisions sum 25", sum(be["decisions"].values()) == 25)
want("cuda >= 5", be["decisions"][cuda] >= 5)
want("npu >= 5", be["decisions"][npu] >= 5)
want("be no_worker 1", be["no_worker"] == 1)
want("be reports 25", be["reports"] == 25)
want("be errors 0", be["errors"] == 0)
want("be stats object", isinstance(be["stats"], dict))
# each worker process draws its own sequence unless the config names one
want("be's draws are seeded by this process's pid", be["stats"].get("seed") == d["pid"])
want("byarg's by its config's seed", u["byarg"]["stats"].get("seed") == 7)
want("kz's round-robin draws nothing, and says no seed", "seed" not in u["kz"]["stats"])
want("be runs the plugin by its path, name, version and ABI, as check names them",
     be["plugin"] == {"path": sys.argv[6], "name": name, "version": version, "abi": abi})
want("learned schema 3, as docs/NGINX.md shows", be["learned"]["schema"] == 3)
rec = {(x["workload_type"], x["worker"]): x for x in be["learned"]["records"]}
want("learned: VISION on cuda, 5 successes",
     rec.get(("VISION", cuda), {}).get("successes") == 5)
want("learned: INFERENCE on npu, 5 samples",
     rec.get(("INFERENCE", npu), {}).get("samples") == 5)
want("no store, nothing learned to export", u["flaky"]["learned"] is None)
want("flaky dead 1, cpu 6", fl["decisions"] == {dead: 1, cpu: 6})
want("flaky reports 7", fl["reports"] == 7)
want("spent no_worker 1: the tpu request, not the cuda ones whose server was spent",
     u["spent"]["no_worker"] == 1)
# a server chosen but not used (failed, at max_conns) has its placement
# cancelled: nothing stays open ahead of later requests
want("be, flaky: nothing open in the plugin's ledger",
     be["stats"]["ledger"]["open"] == 0 and fl["stats"]["ledger"]["open"] == 0)
want("byarg cuda 1", u["byarg"]["decisions"][cuda] == 1)
want("kz: down server 0", u["kz"]["decisions"][npu] == 0)
want("old: 2 decisions, no report slot, 0 reports",
     sum(u["old"]["decisions"].values()) == 2 and u["old"]["reports"] == 0)
want("liar: 36 fallbacks, counted as errors", u["liar"]["fallbacks"] == 36 and u["liar"]["errors"] == 36)
want("tally: one try of each kind, as reported", u["tally"]["stats"] ==
     {"success": 1, "failure": 0, "timeout": 1, "rejected": 1, "cancelled": 0,
      "last_cookie": 0})
print(json.dumps(be["stats"])[:300])
sys.exit(0 if ok else 1)
EOF
}
plugin_says=$("${LBS_SHIM:?}" check "$plugin" | head -2)
check "status is JSON with stats" until_ok 20 status_complete
cat "$tmp/status.why"

# --- reloads under load -------------------------------------------------------------
: >"$tmp/codes"
touch "$tmp/loop"
(
	end=$((SECONDS + 300))
	while [ -f "$tmp/loop" ] && [ $SECONDS -lt $end ]; do
		code -H 'X-Required-Backend: cuda' $U/ >>"$tmp/codes"
	done
) &
loop=$!
# Progress, not time: two more answers before the first reload and after
# each (20 s at most each), so the requests span all ten reloads however
# slow the machine; the 0.4 s between reloads only spaces them out.
answered() { grep -c . "$tmp/codes"; }
answered_at_least() { [ "$(answered)" -ge "$1" ]; }
until_ok 20 answered_at_least 2 || bad "no request answered before the reloads"
reload_ok=0
for _ in $(seq 10); do
	ngx -s reload 2>>"$tmp/reload.err" && reload_ok=$((reload_ok + 1))
	sleep 0.4
	until_ok 20 answered_at_least $(($(answered) + 2)) || { bad "requests stopped being answered during the reloads"; break; }
done
rm -f "$tmp/loop"
wait $loop
n=$(grep -c . "$tmp/codes")
n200=$(grep -c '^200$' "$tmp/codes")
check "10 reloads succeed" test "$reload_ok" = 10
# at least 2 + 10 x 2 requests when every wait above was met
check "no request dropped during reloads ($n200 of $n answered 200)" test "$n" -ge 22 -a "$n" = "$n200"
check "no emerg/alert/crit in the error log" bash -c "! grep -E '\[(emerg|alert|crit)\]' '$run/error.log'"
# the reloads reused each upstream's in-flight zone: the old workers' last
# requests released what they took there
# (they finish on their own time: read until it shows, 20 s)
flight=
flight_released() { flight=$(get $U/lbsched_status | python3 -c 'import json,sys; print(sorted({v for u in json.load(sys.stdin)["upstreams"] for v in u.get("in_flight", {"-": None}).values()}, key=str))'); [ "$flight" = "[0]" ]; }
until_ok 20 flight_released
check "... and after them nothing is counted in flight ($flight)" test "$flight" = "[0]"

kill -QUIT "$(cat "$run/nginx.pid")"
ngx_down

# --- learning: a slow backend loses preference, and keeps losing after a restart ----
slow_up="upstream slowup {
    lbsched_plugin $plugin;
    lbsched_fleet $tmp/slowfleet.json;
    lbsched_config '{\"store\": {\"path\": \"$tmp/slowstore\", \"batch_ms\": 10, \"refresh_ms\": 50}}';
    server 127.0.0.1:$P_SLOW; server 127.0.0.1:$P_CPU;
  }"
cat >"$tmp/slowfleet.json" <<EOF
[{"worker_id": "127.0.0.1:$P_CPU", "supported_backends": ["cpu"], "available_memory": 16, "cpu_cores": 8},
 {"worker_id": "127.0.0.1:$P_SLOW", "supported_backends": ["cpu"], "available_memory": 64, "cpu_cores": 32}]
EOF
# slow.py PORT [NAME DELAY RELEASE]: answers NAME after DELAY seconds; a
# path under /hold waits until the file RELEASE exists (at most 60 s).
cat >"$tmp/slow.py" <<'EOF'
import http.server, os, sys, time
name = (sys.argv[2] if len(sys.argv) > 2 else "slow").encode() + b"\n"
delay = float(sys.argv[3]) if len(sys.argv) > 3 else 0.05
release = sys.argv[4] if len(sys.argv) > 4 else None
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        time.sleep(delay)
        end = time.time() + 60
        while release and self.path.startswith("/hold") and not os.path.exists(release) and time.time() < end:
            time.sleep(0.02)
        self.send_response(200); self.send_header("Content-Length", str(len(name))); self.end_headers()
        self.wfile.write(name)
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
EOF
python3 "$tmp/slow.py" $P_SLOW &
slowpid=$!
until_ok 20 answers http://127.0.0.1:$P_SLOW/ || die "the slow server (port $P_SLOW) did not start"
write_conf "$run/nginx.conf" 2 "$slow_up"
ngx || die "nginx (2 workers) does not start: $(tail -5 "$run/error.log")"
ngx_up
# The slow server looks better on paper (4x the cores), so it wins at first;
# expected 0.01 s: its 0.05 s is 5x slower than expected, the other's ~0.
# With a duration the ranking is by estimated completion, whose learned speed
# takes its first outcome at once: "at first" may be a single request.
slowcount() { for _ in $(seq "$1"); do get -H 'X-Test-Type: inference' -H 'X-Expected-Duration: 0.01' $U/slow; done | grep -c slow; }
first=$(slowcount 100)
last=$(slowcount 100)
echo "slow server: $first of the first 100, $last of the next 100"
check "the slow backend wins at first on paper ($first of the first 100)" test "$first" -ge 1
check "... and loses preference over 200 requests ($first -> $last of 100)" test "$last" -lt 3
kill -QUIT "$(cat "$run/nginx.pid")"
ngx_down
ngx || die "nginx does not restart"
ngx_up
after=$(slowcount 50)
[ -n "${LBS_NGX_DEBUG:-}" ] && { get -v $U/slow; get $U/lbsched_status; tail -20 "$run/error.log"; }
echo "after a restart: slow server $after of 50"
# without the store a restarted nginx would give it its first requests again
check "... and keeps losing after a restart ($after of 50)" test "$((after * 2))" -lt "$first"
check "the shared store holds what both workers learned" test -f "$tmp/slowstore/data.mdb"
kill -QUIT "$(cat "$run/nginx.pid")"
ngx_down

# --- learning from latency alone: no X-Expected-Duration ----------------------------
# The same slow server (50 ms) beside two that answer at once, all three
# equal on paper (no fleet file).  Response times alone must move traffic
# away from it, and the store must keep that over a restart.
lat_up="upstream latup {
    lbsched_plugin $plugin;
    lbsched_config '{\"store\": {\"path\": \"$tmp/latstore\", \"batch_ms\": 10, \"refresh_ms\": 50}}';
    server 127.0.0.1:$P_SLOW; server 127.0.0.1:$P_CPU; server 127.0.0.1:$P_NPU;
  }
  server { listen 127.0.0.1:$P_HF; location /lat { proxy_pass http://latup; } }"
write_conf "$run/nginx.conf" 2 "$slow_up $lat_up"
ngx || die "nginx (latency) does not start: $(tail -5 "$run/error.log")"
ngx_up
# one curl, sequential requests on one connection: 2,000 without a duration
latcount() { curl -s -m 600 "http://127.0.0.1:$P_HF/lat?i=[1-$1]" | grep -c slow; }
latfirst=$(latcount 100)
lat=$((latfirst + $(latcount 1900)))
echo "latency alone: the 50x slower server got $lat of 2000 sequential requests ($latfirst of the first 100)"
check "a server 50x slower, no duration header: at most 10 % of 2,000 requests ($lat)" test "$lat" -le 200
check "... though it was tried at first ($latfirst of the first 100)" test "$latfirst" -ge 1
# what was learned: a latency for every server, even one answering in well
# under a millisecond (nginx's response_time would say 0 s, which teaches
# nothing), the slow one's the longest.  Only that order is asserted, what
# the ranking needs: by how much is the machine's (50x when idle; nginx
# proxies to itself, so a loaded machine's scheduling delays count in the
# fast ones' too).
# (the store's flusher commits within batch_ms: read until it shows, 20 s)
lat_learned() {
	get $U/lbsched_status >"$tmp/latstatus.json" &&
	python3 - "$tmp/latstatus.json" "$P_SLOW" >"$tmp/latstatus.why" 2>&1 <<'EOF'
import json, sys
u = [x for x in json.load(open(sys.argv[1]))["upstreams"] if x["name"] == "latup"][0]
mean = {r["worker"]: r["mean_duration"] for r in u["learned"]["records"]}
print("  learned mean durations:", mean)
slow = mean.pop("127.0.0.1:" + sys.argv[2], 0)
sys.exit(0 if len(mean) == 2 and all(0 < m < slow for m in mean.values()) else 1)
EOF
}
check "the store holds a latency > 0 for each server, the slow one's above each other's" until_ok 20 lat_learned
cat "$tmp/latstatus.why"
kill -QUIT "$(cat "$run/nginx.pid")"
ngx_down
ngx || die "nginx (latency) does not restart"
ngx_up
latafter=$(latcount 100)
echo "latency alone, after a restart: slow server $latafter of 100"
# unlearned, every server is tried: the store is why it is not
check "... and it keeps losing after a restart ($latafter of 100)" test "$latafter" -lt "$latfirst"
kill -QUIT "$(cat "$run/nginx.pid")"
ngx_down

# --- keepalive: what a try on a reused connection tells the scheduler ---------------
# ka.py PORT MODE: the first request on a connection answers 200; a later
# one on the same connection answers 500 (MODE 500), after 1 s (slow), or
# closes it without a byte (close: a kept-alive connection gone stale).
# Behind each a plain server; the liar plugin (honest) always takes the
# first server not yet tried, so four requests go ka, ka then plain, ka,
# ka then plain, and it counts what it is told.  max_fails=0: a failure
# must not take the server out for the next request.
cat >"$tmp/ka.py" <<'EOF'
import http.server, sys, time
port, mode = int(sys.argv[1]), sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    n = 0
    def do_GET(self):
        self.n += 1  # one handler object serves one connection
        if mode in ("midcut", "midstall"):
            # the headers and 3 of 100 bytes, then a close, or a stall
            # past proxy_read_timeout
            self.send_response(200)
            self.send_header("Content-Length", "100"); self.end_headers()
            self.wfile.write(b"abc"); self.wfile.flush()
            if mode == "midstall":
                time.sleep(1)
            self.close_connection = True
            return
        if mode == "big":
            # 64 MB, more than the sockets between here and a client
            # that reads nothing hold
            self.send_response(200)
            self.send_header("Content-Length", str(64 << 20)); self.end_headers()
            try:
                for _ in range(1024):
                    self.wfile.write(b"x" * 65536)
            except OSError:
                pass
            self.close_connection = True
            return
        if mode == "upgrade":
            # a protocol switch: some bytes of the new protocol, then the
            # session ends
            self.send_response(101)
            self.send_header("Upgrade", "test"); self.send_header("Connection", "Upgrade")
            self.end_headers()
            self.wfile.write(b"hi\n"); self.wfile.flush()
            self.close_connection = True
            return
        if mode == "404":
            # a body nginx does not read when it intercepts the error
            self.send_response(404)
            self.send_header("Content-Length", "100"); self.end_headers()
            self.wfile.write(b"x" * 100)
            return
        if mode in ("badchunk", "chunked"):
            # a chunk of 3 bytes, then an invalid chunk size (badchunk:
            # the connection kept open, so that nginx stops on the parse
            # error, not an end of file) or the last chunk (chunked)
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked"); self.end_headers()
            self.wfile.write(b"3\r\nabc\r\n" + (b"zz\r\n" if mode == "badchunk" else b"0\r\n\r\n"))
            self.wfile.flush()
            if mode == "badchunk":
                time.sleep(0.5)
                self.close_connection = True
            return
        if self.n > 1 and mode == "close":
            self.close_connection = True
            return
        if self.n > 1 and mode == "slow":
            time.sleep(1)
        body = b"ka\n"
        self.send_response(500 if self.n > 1 and mode == "500" else 200)
        self.send_header("Content-Length", str(len(body))); self.end_headers()
        self.wfile.write(body)
    def do_HEAD(self):
        # a HEAD's answer has headers alone, whatever they say of a body
        self.send_response(200)
        self.send_header("Transfer-Encoding", "chunked"); self.end_headers()
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
EOF
P_K500=$(free_port) P_KSLOW=$(free_port) P_KCLOSE=$(free_port) P_KF=$(free_port)
python3 "$tmp/ka.py" "$P_K500" 500 & kapids=$!
python3 "$tmp/ka.py" "$P_KSLOW" slow & kapids="$kapids $!"
python3 "$tmp/ka.py" "$P_KCLOSE" close & kapids="$kapids $!"
P_MCUT=$(free_port) P_MSTALL=$(free_port)
python3 "$tmp/ka.py" "$P_MCUT" midcut & kapids="$kapids $!"
python3 "$tmp/ka.py" "$P_MSTALL" midstall & kapids="$kapids $!"
P_BCH=$(free_port) P_GCH=$(free_port)
python3 "$tmp/ka.py" "$P_BCH" badchunk & kapids="$kapids $!"
python3 "$tmp/ka.py" "$P_GCH" chunked & kapids="$kapids $!"
P_G404=$(free_port)
python3 "$tmp/ka.py" "$P_G404" 404 & kapids="$kapids $!"
P_UPG=$(free_port) P_BIG=$(free_port)
python3 "$tmp/ka.py" "$P_UPG" upgrade & kapids="$kapids $!"
python3 "$tmp/ka.py" "$P_BIG" big & kapids="$kapids $!"
# gRPC servers (grpc_pass): grpc-status 13 (INTERNAL) and 4 (DEADLINE_EXCEEDED)
# in the trailers after a message, 14 (UNAVAILABLE) in a trailers-only
# answer, 5 (NOT_FOUND, the caller's), 0 (OK), 42 and x (no code: UNKNOWN)
P_GR13=$(free_port) P_GR4=$(free_port) P_GR14=$(free_port) P_GR5=$(free_port) P_GR0=$(free_port) P_GF=$(free_port)
python3 "$LBS_SRCDIR/tests/nginx/grpc_server.py" "$P_GR13" 13 & kapids="$kapids $!"
python3 "$LBS_SRCDIR/tests/nginx/grpc_server.py" "$P_GR4" 4 & kapids="$kapids $!"
python3 "$LBS_SRCDIR/tests/nginx/grpc_server.py" "$P_GR14" 14 only & kapids="$kapids $!"
python3 "$LBS_SRCDIR/tests/nginx/grpc_server.py" "$P_GR5" 5 & kapids="$kapids $!"
python3 "$LBS_SRCDIR/tests/nginx/grpc_server.py" "$P_GR0" 0 & kapids="$kapids $!"
P_GR42=$(free_port) P_GRX=$(free_port)
python3 "$LBS_SRCDIR/tests/nginx/grpc_server.py" "$P_GR42" 42 & kapids="$kapids $!"
python3 "$LBS_SRCDIR/tests/nginx/grpc_server.py" "$P_GRX" x & kapids="$kapids $!"
for p in $P_K500 $P_KSLOW $P_KCLOSE; do
	until_ok 20 answers http://127.0.0.1:$p/ || die "a keepalive server (port $p) did not start"
done
# the same 500s with the real plugin and a store: the 500 server far
# better on paper and nothing learned weighed, so it is chosen until tried
cat >"$tmp/kafleet.json" <<EOF
[{"worker_id": "127.0.0.1:$P_K500", "supported_backends": ["cpu"], "available_memory": 256, "cpu_cores": 64},
 {"worker_id": "127.0.0.1:$P_CPU", "supported_backends": ["cpu"], "available_memory": 1, "cpu_cores": 1}]
EOF
ka_liar="lbsched_plugin $liar; lbsched_scheduler liar; lbsched_config '{\"mode\": \"honest\"}';"
ka_up="upstream ka500 { $ka_liar server 127.0.0.1:$P_K500 max_fails=0; server 127.0.0.1:$P_CPU; keepalive 4; }
  upstream kaslow { $ka_liar server 127.0.0.1:$P_KSLOW max_fails=0; server 127.0.0.1:$P_CPU; keepalive 4; }
  upstream kaclose { $ka_liar server 127.0.0.1:$P_KCLOSE max_fails=0; server 127.0.0.1:$P_CPU; keepalive 4; }
  upstream kaclose1 { $ka_liar server 127.0.0.1:$P_KCLOSE; keepalive 4; }
  upstream kaclose2 { $ka_liar server 127.0.0.1:$P_KCLOSE; server 127.0.0.1:$P_CPU down; keepalive 4; }
  upstream midcut { $ka_liar server 127.0.0.1:$P_MCUT max_fails=0; }
  upstream midstall { $ka_liar server 127.0.0.1:$P_MSTALL max_fails=0; }
  upstream badchunk { $ka_liar server 127.0.0.1:$P_BCH max_fails=0; }
  upstream badchunk_nb { $ka_liar server 127.0.0.1:$P_BCH max_fails=0; }
  upstream chunked { $ka_liar server 127.0.0.1:$P_GCH max_fails=0; }
  upstream chunked_nb { $ka_liar server 127.0.0.1:$P_GCH max_fails=0; }
  upstream chunked_head { $ka_liar server 127.0.0.1:$P_GCH max_fails=0; }
  upstream intercepted { $ka_liar server 127.0.0.1:$P_G404 max_fails=0; }
  upstream upgraded { $ka_liar server 127.0.0.1:$P_UPG max_fails=0; }
  upstream stalled_client { $ka_liar server 127.0.0.1:$P_BIG max_fails=0; }
  upstream grpc13 { $ka_liar server 127.0.0.1:$P_GR13 max_fails=0; }
  upstream grpc4 { $ka_liar server 127.0.0.1:$P_GR4 max_fails=0; }
  upstream grpc14 { $ka_liar server 127.0.0.1:$P_GR14 max_fails=0; }
  upstream grpc5 { $ka_liar server 127.0.0.1:$P_GR5 max_fails=0; }
  upstream grpc0 { $ka_liar server 127.0.0.1:$P_GR0 max_fails=0; }
  upstream grpc42 { $ka_liar server 127.0.0.1:$P_GR42 max_fails=0; }
  upstream grpcx { $ka_liar server 127.0.0.1:$P_GRX max_fails=0; }
  server {
    listen 127.0.0.1:$P_GF http2;
    location /grpc13/ { grpc_pass grpc://grpc13; }
    location /grpc4/ { grpc_pass grpc://grpc4; }
    location /grpc14/ { grpc_pass grpc://grpc14; }
    location /grpc5/ { grpc_pass grpc://grpc5; }
    location /grpc0/ { grpc_pass grpc://grpc0; }
    location /grpc42/ { grpc_pass grpc://grpc42; }
    location /grpcx/ { grpc_pass grpc://grpcx; }
  }
  upstream kalearn {
    lbsched_plugin $plugin;
    lbsched_fleet $tmp/kafleet.json;
    lbsched_config '{\"learned_weight\": 0, \"completion\": {\"enabled\": false}, \"store\": {\"path\": \"$tmp/kastore\", \"batch_ms\": 10, \"refresh_ms\": 50}}';
    server 127.0.0.1:$P_K500 max_fails=0; server 127.0.0.1:$P_CPU;
    keepalive 4;
  }
  server {
    listen 127.0.0.1:$P_KF;
    proxy_http_version 1.1; proxy_set_header Connection \"\";
    location /500 { proxy_pass http://ka500; proxy_next_upstream error http_500; }
    location /slow { proxy_pass http://kaslow; proxy_read_timeout 300ms; proxy_next_upstream error timeout; }
    location /close { proxy_pass http://kaclose; }
    location /close1 { proxy_pass http://kaclose1; }
    location /close2 { proxy_pass http://kaclose2; }
    location /learn { proxy_pass http://kalearn; proxy_next_upstream error http_500; }
    location /midcut { proxy_pass http://midcut; }
    location /midstall { proxy_pass http://midstall; proxy_read_timeout 300ms; }
    location /badchunk { proxy_pass http://badchunk; }
    location /badchunk_nb { proxy_pass http://badchunk_nb; proxy_buffering off; }
    location /chunked { proxy_pass http://chunked; }
    location /chunked_nb { proxy_pass http://chunked_nb; proxy_buffering off; }
    location /chunked_head { proxy_pass http://chunked_head; }
    location /intercepted { proxy_pass http://intercepted; proxy_intercept_errors on; error_page 404 = @gone; }
    location @gone { return 200 \"gone\\n\"; }
    location /stalled_client { proxy_pass http://stalled_client; proxy_buffering off; send_timeout 1s; }
    location /upgraded { proxy_pass http://upgraded; proxy_set_header Upgrade \$http_upgrade; proxy_set_header Connection upgrade; }
  }"
write_conf "$run/nginx.conf" 1 "$slow_up $ka_up"
ngx || die "nginx (keepalive) does not start: $(tail -5 "$run/error.log")"
ngx_up
for w in 500 slow close learn; do
	ans=$(for _ in 1 2 3 4; do get "http://127.0.0.1:$P_KF/$w"; done | sort | uniq -c | tr -s ' ' | tr '\n' ';')
	check "keepalive /$w: 4 requests answered, 2 by the plain server on a retry ($ans)" test "$ans" = " 2 cpu; 2 ka;"
done
# ka_tally UPSTREAM: what the liar plugin of UPSTREAM was told
ka_tally() { get $U/lbsched_status | python3 -c 'import json,sys; print(json.dumps([u for u in json.load(sys.stdin)["upstreams"] if u["name"] == sys.argv[1]][0]["stats"]))' "$1"; }
# tally_is UPSTREAM WHAT S F T R C: its liar was told S successes, F
# failures, T timeouts, R rejected and C cancelled
tally_is() {
	local t
	t=$(ka_tally "$1")
	check "$2 ($t)" test "$t" = "{\"success\": $3, \"failure\": $4, \"timeout\": $5, \"rejected\": $6, \"cancelled\": $7, \"last_cookie\": 0}"
}
tally_is ka500 "a 500 on a reused connection that nginx retries is a failure" 4 2 0 0 0
tally_is kaslow "a read timeout on a reused connection is a timeout" 4 0 2 0 0
tally_is kaclose "a reused connection closed before any byte of an answer is cancelled" 4 0 0 0 2
# With the stale server the only one: it was tried, so every other request
# got a 502.  Alone in its upstream (round-robin's one-server path, which
# counts no failure), and beside a server that is down (max_fails=1, the
# default: counted failed, its fail_timeout refused the retry)
for w in close1 close2; do
	ans=$(for _ in 1 2 3 4; do get "http://127.0.0.1:$P_KF/$w"; done | sort | uniq -c | tr -s ' ' | tr '\n' ';')
	check "keepalive, one server left (/$w): 4 requests answered by it, a stale connection retried ($ans)" test "$ans" = " 4 ka;"
done
tally_is kaclose1 "... each stale try cancelled (the 2nd, 3rd and 4th request each find the connection the one before left)" 4 0 0 0 3
# the body cut or stalled after the headers (200): learned as successes
curl -s -o /dev/null "http://127.0.0.1:$P_KF/midcut"
curl -s -o /dev/null "http://127.0.0.1:$P_KF/midstall"
tally_is midcut "a body cut short after a 200's headers is a failure" 0 1 0 0 0
tally_is midstall "a body that stalls past the read timeout is a timeout" 0 0 1 0 0
# an invalid chunk: nginx gives up on the body without an error flag (it
# was learned as a success); a whole chunked body and a HEAD's answer (no
# body at all) are successes
for w in badchunk badchunk_nb chunked chunked_nb; do curl -s -o /dev/null "http://127.0.0.1:$P_KF/$w"; done
curl -s -o /dev/null -I "http://127.0.0.1:$P_KF/chunked_head"
check "an intercepted 404 is answered by its error page" test "$(get "http://127.0.0.1:$P_KF/intercepted")" = gone
check "a protocol switch (101) reaches the client, the new protocol's bytes after it" \
	grep -q "^hi" <<<"$(curl -s -i -m 5 -H "Upgrade: test" -H "Connection: Upgrade" "http://127.0.0.1:$P_KF/upgraded")"
tally_is badchunk "an invalid chunk in a buffered body is a failure" 0 1 0 0 0
tally_is badchunk_nb "an invalid chunk in an unbuffered body is a failure" 0 1 0 0 0
tally_is chunked "a whole chunked body, buffered, is a success" 1 0 0 0 0
tally_is chunked_nb "a whole chunked body, unbuffered, is a success" 1 0 0 0 0
tally_is chunked_head "a HEAD's answer, headers alone, is a success" 1 0 0 0 0
tally_is intercepted "an intercepted 404, its body never read, is the server's answer: no failure" 1 0 0 0 0
tally_is upgraded "a protocol switch whose session ended is a success" 1 0 0 0 0
# a client that reads nothing of a streamed answer: its send_timeout
# fires (nginx marks the client's connection timed out), not the
# server's doing
python3 - "$P_KF" <<'EOF'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /stalled_client HTTP/1.1\r\nHost: x\r\n\r\n")
time.sleep(3)
s.close()
EOF
check "nginx gave up on the client that read nothing (send_timeout)" grep -q "client timed out" "$run/error.log"
tally_is stalled_client "a client too slow for send_timeout is cancelled, not the server's failure" 0 0 0 0 1
# a gRPC error is status 200 with grpc-status in the trailers (or in the
# one header block of a trailers-only answer): the server's error a
# failure, its deadline a timeout, the caller's error and OK successes
for g in 13 4 14 5 0 42 x; do
	ans=$(curl -s -m 5 --http2-prior-knowledge -H "Content-Type: application/grpc" -H "TE: trailers" \
		--data-binary @/dev/null -D - -o /dev/null "http://127.0.0.1:$P_GF/grpc$g/test.Svc/Call" | tr -d '\r' | grep -c "^grpc-status: $g$")
	check "the gRPC server's grpc-status $g reached the client" test "$ans" = 1
done
tally_is grpc13 "grpc-status 13 (INTERNAL) after a message is a failure" 0 1 0 0 0
tally_is grpc4 "grpc-status 4 (DEADLINE_EXCEEDED) is a timeout" 0 0 1 0 0
tally_is grpc14 "grpc-status 14 (UNAVAILABLE) in a trailers-only answer is a failure" 0 1 0 0 0
tally_is grpc5 "grpc-status 5 (NOT_FOUND), the caller's error, is a success as a 404 is" 1 0 0 0 0
tally_is grpc0 "grpc-status 0 is a success" 1 0 0 0 0
tally_is grpc42 "grpc-status 42, no code gRPC has, is UNKNOWN, a failure" 0 1 0 0 0
tally_is grpcx "grpc-status x, no code at all, is UNKNOWN, a failure" 0 1 0 0 0
# (the store's flusher commits within batch_ms: read until it shows, 20 s)
ka_learned() {
	get $U/lbsched_status >"$tmp/kastatus.json" &&
	python3 - "$tmp/kastatus.json" "$P_K500" >"$tmp/kastatus.why" 2>&1 <<'EOF'
import json, sys
u = [x for x in json.load(open(sys.argv[1]))["upstreams"] if x["name"] == "kalearn"][0]
recs = [r for r in (u["learned"] or {}).get("records", []) if r["worker"] == "127.0.0.1:" + sys.argv[2]]
s, f = sum(r["successes"] for r in recs), sum(r["failures"] for r in recs)
print("  learned for the 500 server: %d successes, %d failures" % (s, f))
sys.exit(0 if (s, f) == (2, 2) else 1)
EOF
}
check "the store learned the 500s on reused connections as failures" until_ok 20 ka_learned
cat "$tmp/kastatus.why"
kill -QUIT "$(cat "$run/nginx.pid")"
ngx_down
kill $kapids 2>/dev/null; kapids=

# --- the last server able to take a request: its own answer, not a 502 --------------
# nginx counts a try left for every server that is not down, able to meet
# the request or not.  Only E meets X-Required-Backend: cuda in onecuda;
# with its 404 or 500 in proxy_next_upstream, nginx threw E's answer away
# for a try no server could take, and the client got "no live upstreams"
# (502).  In twocuda E and the CUDA server both meet it: E's 500 is still
# retried there (the liar plugin, honest, takes the first server not yet
# tried: E).  In twoofthree E and F meet it and the CPU server does not:
# E's 500 is retried on F, and F's 500 is the client's.
# The same for a failure under the default "proxy_next_upstream error
# timeout", which nginx tests after the balancer's free: ES (slow.py, 1 s)
# is the only server meeting the request in onecuda_to, and times out
# (proxy_read_timeout 300ms); D (nothing listening) is the only one in
# onecuda_err, and refuses.  The client got "no live upstreams" (502,
# upstream status "504, 502" or "502, 502"); now nginx's own 504 or 502.
# In twocuda_to ES and the CUDA server meet it: ES's timeout is still
# retried there.  max_fails=0: a timeout must not take ES out for the next.
P_RF=$(free_port) P_E=$(free_port) P_F=$(free_port) P_ES=$(free_port)
python3 "$tmp/slow.py" "$P_ES" Eslow 1 & kapids=$!
# fleet FILE PORT:KIND...: a fleet file of workers 127.0.0.1:PORT, each a
# CPU-only worker (cpu) or one with a CUDA GPU (cuda), in that order
fleet() {
	local file=$1 sep="[" w; shift
	for w in "$@"; do
		printf '%s{"worker_id": "127.0.0.1:%s", "available_memory": 64, ' "$sep" "${w%%:*}"
		case ${w#*:} in
		cpu) printf '"supported_backends": ["cpu"]}' ;;
		cuda) printf '"supported_backends": ["cpu", "cuda"], "has_gpu": true, "available_accelerators": {"gpu": 1}}' ;;
		esac
		sep=",
 "
	done >"$file"
	echo "]" >>"$file"
}
fleet "$tmp/onecuda_to.json" "$P_CPU:cpu" "$P_ES:cuda"
fleet "$tmp/onecuda_err.json" "$P_CPU:cpu" "$P_DEAD:cuda"
fleet "$tmp/twocuda_to.json" "$P_ES:cuda" "$P_CUDA:cuda"
fleet "$tmp/onecuda.json" "$P_CPU:cpu" "$P_E:cuda"
fleet "$tmp/twocuda.json" "$P_E:cuda" "$P_CUDA:cuda"
fleet "$tmp/twoofthree.json" "$P_E:cuda" "$P_F:cuda" "$P_CPU:cpu"
retry_up="upstream onecuda {
    lbsched_plugin $plugin;
    lbsched_fleet $tmp/onecuda.json;
    server 127.0.0.1:$P_CPU; server 127.0.0.1:$P_E;
  }
  upstream twocuda {
    $ka_liar
    lbsched_fleet $tmp/twocuda.json;
    server 127.0.0.1:$P_E max_fails=0; server 127.0.0.1:$P_CUDA;
  }
  upstream twoofthree {
    $ka_liar
    lbsched_fleet $tmp/twoofthree.json;
    server 127.0.0.1:$P_E max_fails=0; server 127.0.0.1:$P_F max_fails=0; server 127.0.0.1:$P_CPU;
  }
  upstream onecuda_to {
    lbsched_plugin $plugin;
    lbsched_fleet $tmp/onecuda_to.json;
    server 127.0.0.1:$P_CPU; server 127.0.0.1:$P_ES max_fails=0;
  }
  upstream onecuda_err {
    lbsched_plugin $plugin;
    lbsched_fleet $tmp/onecuda_err.json;
    server 127.0.0.1:$P_CPU; server 127.0.0.1:$P_DEAD max_fails=0;
  }
  upstream twocuda_to {
    $ka_liar
    lbsched_fleet $tmp/twocuda_to.json;
    server 127.0.0.1:$P_ES max_fails=0; server 127.0.0.1:$P_CUDA;
  }
  server { listen 127.0.0.1:$P_F; location / { return 500 \"F's own 500\\n\"; } }
  server {
    listen 127.0.0.1:$P_E;
    location /404 { return 404 \"E's own 404\\n\"; }
    location /500 { return 500 \"E's own 500\\n\"; }
  }
  server {
    listen 127.0.0.1:$P_RF;
    add_header X-Upstream-Status \$upstream_status always;
    proxy_next_upstream error timeout http_404 http_500;
    location /one/ { proxy_pass http://onecuda/; }
    location /two/ { proxy_pass http://twocuda/; }
    location /three/ { proxy_pass http://twoofthree/; }
    location /one_to/ { proxy_pass http://onecuda_to/; proxy_next_upstream error timeout; proxy_read_timeout 300ms; }
    location /one_err/ { proxy_pass http://onecuda_err/; proxy_next_upstream error timeout; }
    location /two_to/ { proxy_pass http://twocuda_to/; proxy_next_upstream error timeout; proxy_read_timeout 300ms; }
  }"
until_ok 20 answers "http://127.0.0.1:$P_ES/" || die "the slow server (port $P_ES) did not start"
write_conf "$run/retry.conf" 1 "$slow_up $retry_up"
"$NGINX" -p "$run/" -c "$run/retry.conf" || die "nginx (retry.conf) does not start: $(tail -5 "$run/error.log")"
ngx_up
nolive0=$(grep -c "no live upstreams" "$run/error.log")
# rget PATH: "STATUS UPSTREAM_STATUS BODY" of a request requiring cuda
rget() {
	curl -s -m 10 -D "$tmp/rget.h" -H 'X-Required-Backend: cuda' "http://127.0.0.1:$P_RF$1" >"$tmp/rget.b"
	echo "$(awk 'NR == 1 {print $2}' "$tmp/rget.h") [$(tr -d '\r' <"$tmp/rget.h" |
		sed -n 's/^X-Upstream-Status: //Ip')] $(paste -sd' ' "$tmp/rget.b")"
}
for s in 404 500; do
	# three each: a 404 or 500 passed on is no failure for max_fails
	ans=$(for _ in 1 2 3; do rget /one/$s; done | sort | uniq -c | tr -s ' ' | tr '\n' ';')
	check "the one server meeting the request answers $s: the client gets its $s and body, 3 of 3 ($ans)" \
		test "$ans" = " 3 $s [$s] E's own $s;"
done
ans=$(for _ in 1 2 3; do rget /two/500; done | sort | uniq -c | tr -s ' ' | tr '\n' ';')
check "with two servers meeting it, the first one's 500 is retried on the other, 3 of 3 ($ans)" \
	test "$ans" = " 3 200 [500, 200] cuda;"
ans=$(rget /two/404)
check "... and so is its 404 ($ans)" test "$ans" = "200 [404, 200] cuda"
ans=$(for _ in 1 2 3; do rget /three/500; done | sort | uniq -c | tr -s ' ' | tr '\n' ';')
check "two of three servers meeting it, both 500: the second one's 500 and body, 3 of 3 ($ans)" \
	test "$ans" = " 3 500 [500, 500] F's own 500;"
# rstat PATH: "STATUS [UPSTREAM_STATUS]" of rget, nginx's error page left out
rstat() { rget "$1" | sed 's/\] .*/]/'; }
ans=$(for _ in 1 2 3; do rstat /one_to/; done | sort | uniq -c | tr -s ' ' | tr '\n' ';')
check "the one server meeting the request times out (error timeout): nginx's own 504, 3 of 3 ($ans)" \
	test "$ans" = " 3 504 [504];"
ans=$(for _ in 1 2 3; do rstat /one_err/; done | sort | uniq -c | tr -s ' ' | tr '\n' ';')
check "the one server meeting the request refuses (error timeout): nginx's own 502 for it, 3 of 3 ($ans)" \
	test "$ans" = " 3 502 [502];"
ans=$(for _ in 1 2 3; do rget /two_to/; done | sort | uniq -c | tr -s ' ' | tr '\n' ';')
check "with two servers meeting it, the first one's timeout is retried on the other, 3 of 3 ($ans)" \
	test "$ans" = " 3 200 [504, 200] cuda;"
nolive=$(($(grep -c "no live upstreams" "$run/error.log") - nolive0))
check "... and no request ran out of servers (\"no live upstreams\" $nolive times)" test "$nolive" = 0
kill -QUIT "$(cat "$run/nginx.pid")"
ngx_down
kill $kapids 2>/dev/null; kapids=

# --- in flight per server, shared by every worker process ---------------------------
# (P_HF is free again: that nginx has stopped)
# Server A (a CUDA box, better on paper) holds 3 requests that require CUDA,
# all placed by one worker process (one request and its two mirror
# subrequests).  The probes come on new connections, which reuseport
# spreads over both processes: every process must see A's 3 requests and
# send the probes to the idle B.  With per-process counts the other process
# sees A idle and sends them to A.
cat >"$tmp/holdfleet.json" <<EOF
[{"worker_id": "127.0.0.1:$P_HA", "supported_backends": ["cpu", "cuda"], "has_gpu": true,
  "available_accelerators": {"gpu": 1}, "available_memory": 128, "cpu_cores": 16, "capacity": 1,
  "hardware_specs": {"gpu_vendor": "nvidia", "gpu_memory_gb": 80, "gpu_compute_units": 108}},
 {"worker_id": "127.0.0.1:$P_HB", "supported_backends": ["cpu"], "available_memory": 16,
  "cpu_cores": 8, "capacity": 1}]
EOF
hold_up="upstream holdup {
    lbsched_plugin $plugin;
    lbsched_fleet $tmp/holdfleet.json;
    server 127.0.0.1:$P_HA; server 127.0.0.1:$P_HB;
  }
  server {
    listen 127.0.0.1:$P_HF reuseport;
    add_header X-Pid \$pid always;
    location / { proxy_pass http://holdup; }
    location /fan { mirror /held; mirror /held; proxy_pass http://holdup/hold; }
    location = /held { internal; proxy_pass http://holdup/hold; }
    location = /lbsched_status { lbsched_status; }
  }"
rm -f "$tmp/release"
python3 "$tmp/slow.py" $P_HA A 0 "$tmp/release" & holdpids=$!
python3 "$tmp/slow.py" $P_HB B 0 "$tmp/release" & holdpids="$holdpids $!"
for p in $P_HA $P_HB; do
	until_ok 20 answers http://127.0.0.1:$p/ || die "a holding server (port $p) did not start"
done
write_conf "$run/nginx.conf" 2 "$slow_up $hold_up"
ngx || die "nginx (in flight) does not start: $(tail -5 "$run/error.log")"
HC="curl -s -m 90"
# inflight [SERVER]: the status answer's in-flight count of SERVER in holdup, or all of them
inflight() {
	$HC http://127.0.0.1:$P_HF/lbsched_status | python3 -c "
import json, sys
u = [x for x in json.load(sys.stdin)['upstreams'] if x['name'] == 'holdup'][0]
f = u.get('in_flight', {})
print(f.get(sys.argv[1]) if len(sys.argv) > 1 else sorted(f.values()))" "$@"
}
until_ok 20 answers http://127.0.0.1:$P_HF/lbsched_status || die "nginx (in flight) never answered on port $P_HF"
$HC -H 'X-Required-Backend: cuda' -H 'X-Expected-Duration: 5' \
	"http://127.0.0.1:$P_HF/fan" >"$tmp/held.out" &
heldcurl=$!
seen=
held_on_a() { seen=$(inflight 127.0.0.1:$P_HA); [ "$seen" = 3 ]; }
until_ok 20 held_on_a
check "the 3 held requests are in flight on A ($seen)" test "$seen" = 3
: >"$tmp/probes"
# at least 12 probes, more until both processes had some (at most 60)
for i in $(seq 60); do
	r=$($HC -H 'X-Expected-Duration: 1' -w '%header{x-pid}' http://127.0.0.1:$P_HF/probe)
	echo "${r##*$'\n'} ${r%%$'\n'*}" >>"$tmp/probes"
	inflight 127.0.0.1:$P_HA >>"$tmp/status.seen"
	pids=$(grep -o '^[0-9]*' "$tmp/probes" | sort -u | wc -l)
	[ "$i" -ge 12 ] && [ "$pids" = 2 ] && break
done
answers=$(awk '{print $2}' "$tmp/probes" | sort | uniq -c | tr -s ' ' | tr '\n' ';')
echo "probes while A holds 3 (pid answer): $(tr '\n' ',' <"$tmp/probes")"
check "the probes reached both worker processes ($pids)" test "$pids" = 2
check "... and every probe went to the idle B ($answers)" test "$answers" = " $(grep -c . "$tmp/probes") B;"
check "... every status answer shows A's 3 in flight ($(sort "$tmp/status.seen" | uniq -c | tr -s ' ' | tr '\n' ';'))" \
	test "$(sort -u "$tmp/status.seen")" = 3
touch "$tmp/release"
wait $heldcurl
check "... and the held request was served by A ($(cat "$tmp/held.out"))" test "$(cat "$tmp/held.out")" = A
none_in_flight() { seen=$(inflight); [ "$seen" = "[0, 0]" ]; }
until_ok 20 none_in_flight
check "... after which nothing is in flight ($seen)" test "$seen" = "[0, 0]"
# hold3: A holds 3 more (/fan, until $tmp/release), $heldcurl the client's
# pid and $holder the worker processes with a connection to A
hold3() {
	$HC -H 'X-Required-Backend: cuda' -H 'X-Expected-Duration: 5' "http://127.0.0.1:$P_HF/fan" >/dev/null &
	heldcurl=$!
	until_ok 20 held_on_a
	holder=$(ss -Htnp state established "( dport = :$P_HA )" | grep -o 'pid=[0-9]*' | sort -u | cut -d= -f2)
}
# released_by PID: the log says PID's 3 were released after it died
released_by() { grep -q "lbsched: upstream \"holdup\": released 3 requests worker process $1 left in flight when it died" "$run/error.log"; }
# The process holding A's 3 killed (kill -9): nothing frees its requests,
# and A looked busy to every process until nginx restarted.  The master
# starts its replacement, which releases them.
rm -f "$tmp/release"
hold3
check "one worker process holds A's 3 again ($seen; $(echo $holder))" test "$seen" = 3 -a "$(wc -w <<<"$holder")" = 1
kill -9 $holder
wait $heldcurl
until_ok 20 none_in_flight
check "... killed, its replacement releases them ($seen)" test "$seen" = "[0, 0]"
check "... and says so" released_by "$holder"
# the replacement counts its own in the share it took: one more hold,
# from whichever process takes it, and its release, lands on 0
hold3
check "... a new hold after it counts 3 on A ($seen)" test "$seen" = 3
touch "$tmp/release"
wait $heldcurl
until_ok 20 none_in_flight
check "... and its release leaves nothing in flight ($seen)" test "$seen" = "[0, 0]"
# A reload's old process, draining its requests, killed: the master
# starts none in its place; the new processes find it gone.
rm -f "$tmp/release"
hold3
master=$(cat "$run/nginx.pid")
gen0=$(pgrep -P "$master" | tr '\n' ' ')
kill -HUP "$master"
# the reload's two processes are up (the old ones not holding have left)
new_up() { local n=0 p; for p in $(pgrep -P "$master"); do case " $gen0 " in *" $p "*) ;; *) n=$((n + 1)) ;; esac; done; [ "$n" -ge 2 ]; }
until_ok 20 new_up || bad "the reload started no new worker processes"
check "... a reload's old process holds A's 3 while it drains ($(inflight 127.0.0.1:$P_HA))" test "$(inflight 127.0.0.1:$P_HA)" = 3
kill -9 $holder
wait $heldcurl
until_ok 20 none_in_flight
check "... killed, the new processes release its 3 ($seen)" test "$seen" = "[0, 0]"
check "... and say so" released_by "$holder"
touch "$tmp/release"
kill -QUIT "$(cat "$run/nginx.pid")"
ngx_down
# One process (master_process off): a reload keeps the process, whose
# requests of the old cycle finish into its share; its new cycle, which has
# none, took that share back once a second, and the request's own release
# then took A's count below 0 (2^64 - 1: busy for good)
# (without reuseport, whose new socket a single process's reload leaves
# unanswered: nginx's, with any balancer)
sed -e 's/^worker_processes .*/master_process off;/' -e 's/ reuseport;/;/' "$run/nginx.conf" >"$run/single.conf"
grep -q '^master_process off;' "$run/single.conf" || die "single.conf: no master_process off"
rm -f "$tmp/release"
"$NGINX" -p "$run/" -c "$run/single.conf" || die "nginx (one process) does not start: $(tail -5 "$run/error.log")"
until_ok 20 answers http://127.0.0.1:$P_HF/lbsched_status || die "nginx (one process) never answered on port $P_HF"
hold3
kill -HUP "$(cat "$run/nginx.pid")"
# past two of process 0's sweeps, once a second (the status does not
# answer then: a single process's reload listens again only once the old
# cycle's requests are done, nginx's own way)
sleep 2.5
touch "$tmp/release"
wait $heldcurl
until_ok 20 none_in_flight
check "one process, reloaded while A held 3: their release leaves nothing in flight ($seen)" test "$seen" = "[0, 0]"
kill -QUIT "$(cat "$run/nginx.pid")"
ngx_down
kill $holdpids 2>/dev/null; holdpids=

# --- a store the worker user cannot reach ----------------------------------------------
# As root the workers run as nobody, as in production; otherwise as this user.
write_conf "$run/nginx.conf" 1 ""
mkdir -m 700 "$tmp/pub"
sed "s|\"path\": \"$tmp/store\"|\"path\": \"$tmp/pub/store\"|" "$run/nginx.conf" >"$run/pub.conf"
grep -q "$tmp/pub/store" "$run/pub.conf" || die "pub.conf: the store path was not replaced"
if [ "$(id -u)" = 0 ]; then
	sed -i "s|^user root;|user nobody nogroup;|" "$run/pub.conf"
	chmod 711 "$tmp"
	out=$("$NGINX" -p "$run/" -c "$run/pub.conf" -t 2>&1)
	check "nginx -t refuses a store whose parent the worker user cannot enter" test $? -ne 0
	check "... naming the user and the directory" grep -q "as worker user \"nobody\": store '$tmp/pub/store': the directory '$tmp/pub' cannot be entered" <<<"$out"
	chmod 755 "$tmp/pub"
	check "... and accepts it once the worker user can" "$NGINX" -q -p "$run/" -c "$run/pub.conf" -t
	check "... the store then belongs to the worker user" test "$(stat -c %U "$tmp/pub/store")" = nobody
	# a composite child's store too (only the top level's was made and
	# handed over: the trial, as nobody, could not create it in a
	# directory of root's)
	sed "s|lbsched_scheduler round-robin;|lbsched_scheduler composite; lbsched_config '{\"children\": [{\"scheduler\": \"hardware-aware\", \"config\": {\"store\": {\"path\": \"$tmp/pub/childstore\"}}}]}';|" \
		"$run/pub.conf" >"$run/pubchild.conf"
	grep -q "$tmp/pub/childstore" "$run/pubchild.conf" || die "pubchild.conf: no child store"
	out=$("$NGINX" -p "$run/" -c "$run/pubchild.conf" -t 2>&1)
	check "nginx -t accepts a composite child's store in a directory of root's ($out)" test $? -eq 0
	check "... the child's store belongs to the worker user" test "$(stat -c %U "$tmp/pub/childstore" 2>&1)" = nobody
else
	echo "SKIP: nginx -t and a store the worker user cannot enter: needs root (workers as nobody)"
	chmod 755 "$tmp/pub"
fi

# A worker process that cannot create its scheduler (the store's parent
# became unreachable after start; the master respawns a killed worker) must
# still never send a request to a server without its required backend.
"$NGINX" -p "$run/" -c "$run/pub.conf" || die "nginx (pub.conf) does not start: $(tail -5 "$run/error.log")"
ngx_up
master=$(cat "$run/nginx.pid")
w1=$(pgrep -P "$master")
chmod 000 "$tmp/pub"
kill -9 "$w1"
w2=
respawned() { w2=$(pgrep -P "$master"); [ -n "$w2" ] && [ "$w2" != "$w1" ] && answers $U/lbsched_status; }
until_ok 20 respawned || die "no worker process came after the killed one ($w1): $(tail -5 "$run/error.log")"
active=$(get $U/lbsched_status | python3 -c 'import json,sys; print([(u["active"], u["plugin"]) for u in json.load(sys.stdin)["upstreams"] if u["name"] == "be"][0])')
check "the respawned worker ($w2) has no scheduler for be, and runs no plugin for it (active, plugin: $active)" test "$active" = "(False, None)"
check "... and says why, and what it does instead" grep -q 'upstream "be": .*pub/store.*; this worker process rotates over the servers that meet each request' "$run/error.log"
ans=$(for _ in $(seq 12); do get -H 'X-Test-Type: inference' -H 'X-Required-Backend: qnn' $U/; done | sort | uniq -c | tr -s ' ' | tr '\n' ';')
check "without a scheduler, 12 of 12 requests requiring qnn reach the qnn server ($ans)" test "$ans" = " 12 npu;"
ans=$(for _ in $(seq 6); do get -H 'X-Min-Memory-GB: 100' $U/; done | sort -u)
check "... a memory requirement only the CUDA server meets reaches it" test "$ans" = cuda
check "... a requirement no server meets gives 502" test "$(code -H 'X-Required-Backend: tpu' $U/)" = 502
plain=$(for _ in $(seq 6); do get $U/; done | sort -u | wc -l)
check "... and plain requests rotate over all three ($plain)" test "$plain" = 3
chmod 755 "$tmp/pub"
kill -QUIT "$master"
ngx_down

# error_log at debug, as NGINX.md tells an operator to read the request
# values the module ignored: Debian's nginx is built --with-debug and logs
# every timer's event as a connection's, from its data; the module's
# timers had none, and every worker process died at start (signal 11),
# respawned without end.  In kz (round-robin), the CUDA server is listed
# twice: one worker, offered once (it took two turns of three).  A
# composite of the default children (hardware-aware, priority, round-robin)
# and an adaptive whose children draw at random: the worker process's pid
# seeds the children too (they drew alike in every process).
sed -e "s|error_log $run/error.log info;|error_log $run/debug.log debug;|" \
    -e "s|server 127.0.0.1:$P_NPU down; server 127.0.0.1:$P_CUDA;|& server 127.0.0.1:$P_CUDA;|" \
    -e "s|^  upstream kz {|  upstream comp { lbsched_plugin $plugin; lbsched_scheduler composite; server 127.0.0.1:$P_CPU; server 127.0.0.1:$P_CUDA; }\n  upstream adap { lbsched_plugin $plugin; lbsched_scheduler adaptive; lbsched_config '{\"children\": [\"priority\", \"performance\"]}'; server 127.0.0.1:$P_CPU; server 127.0.0.1:$P_CUDA; }\n&|" \
    "$run/nginx.conf" >"$run/debug.conf"
grep -q "error_log $run/debug.log debug;" "$run/debug.conf" || bad "the debug config was not made"
"$NGINX" -p "$run/" -c "$run/debug.conf" || die "nginx (debug.conf) does not start: $(tail -5 "$run/debug.log")"
ngx_up
master=$(cat "$run/nginx.pid")
w1=$(pgrep -P "$master")
check "with error_log at debug, a request is answered" test "$(code -H 'X-Test-Type: inference' $U/)" = 200
# past the log queue's drain timer (LBS_LOG_DRAIN_MS), more than once
sleep 1
check "... the worker process lives on (pid $w1, now $(pgrep -P "$master"))" test "$(pgrep -P "$master")" = "$w1"
check "... and none died" test "$(grep -c 'exited on signal' "$run/debug.log")" = 0
check "... the timers' lines logged" grep -q "event timer add: -1:" "$run/debug.log"
grep -q "server 127.0.0.1:$P_CUDA; server 127.0.0.1:$P_CUDA;" "$run/debug.conf" || bad "kz's CUDA server was not listed twice"
ans=$(for _ in $(seq 12); do get $U/kz; done | sort | uniq -c | tr -s ' ' | tr '\n' ';')
check "a server listed twice is one worker to round-robin: 6 and 6 of 12 ($ans)" test "$ans" = " 6 cpu; 6 cuda;"
seeds=$(get $U/lbsched_status | python3 -c 'import json, sys
d = json.load(sys.stdin)
u = {x["name"]: x["stats"] for x in d["upstreams"]}
c, a = u["comp"], u["adap"]
print(c.get("seed") == d["pid"], [k.get("seed") == d["pid"] for k in c["children"]], a.get("seed") == d["pid"])')
check "a composite, its children that draw and an adaptive are seeded by the pid ($seeds)" \
	test "$seeds" = "True [True, True, False] True"
kill -QUIT "$master"
ngx_down

# `nginx -s` only reads the config to find the master: it reads no fleet
# file and creates no trial scheduler, so a plugin and a fleet file removed
# since the start (a package upgrade) do not stop `nginx -s quit` from
# stopping it.  `nginx -t -s quit` tests the config, and signals nothing.
cp "$plugin" "$tmp/gone.so"
cp "$tmp/fleet.json" "$tmp/gone.json"
sed -e "s#lbsched_plugin $plugin;#lbsched_plugin $tmp/gone.so;#" \
	-e "s#lbsched_fleet $tmp/fleet.json;#lbsched_fleet $tmp/gone.json;#" "$run/debug.conf" >"$run/gone.conf"
grep -q "lbsched_plugin $tmp/gone.so;" "$run/gone.conf" || bad "gone.conf names no copied plugin"
grep -q "lbsched_fleet $tmp/gone.json;" "$run/gone.conf" || bad "gone.conf names no copied fleet"
"$NGINX" -p "$run/" -c "$run/gone.conf" || die "nginx (gone.conf) does not start: $(tail -5 "$run/debug.log")"
ngx_up
rm -f "$tmp/gone.so"
out=$("$NGINX" -p "$run/" -c "$run/gone.conf" -t 2>&1)
check "with its plugin removed, nginx -t refuses the config" \
	bash -c "! \"\$0\" -p '$run/' -c '$run/gone.conf' -t -q 2>/dev/null" "$NGINX"
check "... naming the plugin ($out)" grep -q "gone.so" <<<"$out"
out=$("$NGINX" -p "$run/" -c "$run/gone.conf" -t -s quit 2>&1)
check "... and so does nginx -t -s quit ($out)" grep -q "gone.so: cannot load plugin" <<<"$out"
# a quit sent would have stopped an idle nginx within a second
sleep 1
check "... which leaves nginx running and answering" answers "$U/lbsched_status"
rm -f "$tmp/gone.json"
out=$("$NGINX" -p "$run/" -c "$run/gone.conf" -s quit 2>&1)
check "with its fleet file removed too, nginx -s quit still stops it ($out)" until_ok 20 ngx_gone

# A worker that dies inside the plugin's select (a crash, the OOM killer)
# must not take nginx with it: the select ran under the upstream zone's
# lock, every worker's, which the dead one never released, and every
# worker after it spun on that lock for good
P_DIE=$(free_port)
die_up="upstream dier {
    lbsched_plugin $liar; lbsched_scheduler liar; lbsched_config '{\"mode\": \"die_on_die\"}';
    zone dier 64k;
    server 127.0.0.1:$P_CPU; server 127.0.0.1:$P_CUDA;
  }
  server { listen 127.0.0.1:$P_DIE; location / { proxy_pass http://dier; } }"
write_conf "$run/die.conf" 2 "$slow_up $die_up"
"$NGINX" -p "$run/" -c "$run/die.conf" || die "nginx (die.conf) does not start: $(tail -5 "$run/error.log")"
ngx_up
curl -s -m 5 -o /dev/null -H 'X-Test-Type: die' "http://127.0.0.1:$P_DIE/"
ans=$(for _ in 1 2 3 4; do curl -s -m 5 "http://127.0.0.1:$P_DIE/"; done | sort -u | tr '\n' ' ')
check "after a worker died inside the plugin, the upstream still answers ($ans)" \
	test "$ans" = "cpu " -o "$ans" = "cpu cuda " -o "$ans" = "cuda "
kill -QUIT "$(cat "$run/nginx.pid")"
ngx_down

# A request body sent unbuffered (proxy_request_buffering off) moves at the
# client's pace, and the response header's time counts it: a server that
# answers once it has the body was learned as slow as its slowest client.
P_UPL=$(free_port) P_UPLB=$(free_port)
cat >"$tmp/upl.py" <<'EOF'
import http.server, sys, time
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        if self.path == "/late":
            time.sleep(0.4)
        self.send_response(200); self.send_header("Content-Length", "4"); self.end_headers()
        self.wfile.write(b"upl\n")
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
EOF
# listening PORT: something accepts connections on 127.0.0.1:PORT (a
# backend waited for before nginx sends it anything: a loaded machine
# starts Python slowly, and the first request got a 502)
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# learned_at UPSTREAM N: what UPSTREAM's store holds for its one server,
# "successes mean_duration", into $tmp/UPSTREAM.learned; true from N
# successes on (the store's flusher commits within batch_ms)
learned_at() {
	get $U/lbsched_status | python3 -c '
import json, sys
u = [x for x in json.load(sys.stdin)["upstreams"] if x["name"] == sys.argv[1]][0]
r = (u["learned"] or {}).get("records") or [{}]
print(r[0].get("successes", 0), r[0].get("mean_duration", 0))' "$1" >"$tmp/$1.learned" &&
	[ "$(cut -d" " -f1 "$tmp/$1.learned")" -ge "$2" ]
}
python3 "$tmp/upl.py" "$P_UPLB" &
uplpid=$!
until_ok 20 listening "$P_UPLB" || die "the upload server did not start"
upl_up="upstream upl {
    lbsched_plugin $plugin;
    lbsched_config '{\"store\": {\"path\": \"$tmp/uplstore\", \"batch_ms\": 10, \"refresh_ms\": 50}}';
    server 127.0.0.1:$P_UPLB;
  }
  server { listen 127.0.0.1:$P_UPL; location / { proxy_pass http://upl; proxy_request_buffering off; } }"
write_conf "$run/upl.conf" 1 "$slow_up $upl_up"
"$NGINX" -p "$run/" -c "$run/upl.conf" || die "nginx (upl.conf) does not start: $(tail -5 "$run/error.log")"
ngx_up
# three parts of a body, 0.6 s apart: 1.8 s of upload
slow_upload() {
	python3 - "$P_UPL" <<'EOF'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 30\r\nConnection: close\r\n\r\n")
for _ in range(3):
    time.sleep(0.6)
    s.sendall(b"0123456789")
print(s.recv(4096).split(b"\r\n")[0].decode())
EOF
}
ans=$(slow_upload)
check "a body uploaded over 1.8 s, unbuffered, is answered ($ans)" test "$ans" = "HTTP/1.1 200 OK"
until_ok 20 learned_at upl 1
check "... learned as one success with no latency of the client's upload ($(cat "$tmp/upl.learned"))" \
	python3 -c 'import sys; n, m = open(sys.argv[1]).read().split(); sys.exit(not (n == "1" and float(m) < 0.5))' "$tmp/upl.learned"
# A body that came whole with the headers is no upload at the client's
# pace: the server's 0.4 s is learned.
curl -s -o /dev/null -X POST --data 0123456789 "http://127.0.0.1:$P_UPL/late"
until_ok 20 learned_at upl 2
# (the mean is over both samples, the first one's duration 0)
check "... and a body sent whole with the headers learns the server's 0.4 s ($(cat "$tmp/upl.learned"))" \
	python3 -c 'import sys; n, m = open(sys.argv[1]).read().split(); sys.exit(not (n == "2" and 0.3 <= 2 * float(m) < 1.0))' "$tmp/upl.learned"
kill "$uplpid"
kill -QUIT "$(cat "$run/nginx.pid")"
ngx_down

# A buffered answer nginx may not spool to disk (proxy_max_temp_file_size
# 0) is read at the client's pace once the buffers are full: a 32 MB answer
# the server sent at once was learned as the client's 8 MB/s download.
P_BIG=$(free_port) P_BIGB=$(free_port)
cat >"$tmp/big.py" <<'EOF'
import http.server, sys
body = b"x" * (32 << 20)
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
EOF
python3 "$tmp/big.py" "$P_BIGB" &
bigpid=$!
until_ok 20 listening "$P_BIGB" || die "the large-answer server did not start"
big_up="upstream big {
    lbsched_plugin $plugin;
    lbsched_config '{\"store\": {\"path\": \"$tmp/bigstore\", \"batch_ms\": 10, \"refresh_ms\": 50}}';
    server 127.0.0.1:$P_BIGB;
  }
  server { listen 127.0.0.1:$P_BIG; location / { proxy_pass http://big; proxy_max_temp_file_size 0; } }"
write_conf "$run/big.conf" 1 "$slow_up $big_up"
"$NGINX" -p "$run/" -c "$run/big.conf" || die "nginx (big.conf) does not start: $(tail -5 "$run/error.log")"
ngx_up
# 32 MB at 16 MB/s: 2 s at the client
curl -s -o /dev/null --limit-rate 16M "http://127.0.0.1:$P_BIG/"
until_ok 20 learned_at big 1
check "a large answer nginx may not spool is learned at the server's pace, not the client's 2 s ($(cat "$tmp/big.learned"))" \
	python3 -c 'import sys; n, m = open(sys.argv[1]).read().split(); sys.exit(not (n == "1" and float(m) < 1.0))' "$tmp/big.learned"
kill "$bigpid"
kill -QUIT "$(cat "$run/nginx.pid")"
ngx_down

# A request that tries every server of a large upstream, all refusing (an
# outage, a restart), goes the filtered way from its 33rd try on, which
# took its candidates from the request's pool anew each try: memory
# quadratic in the servers (2,000 took a worker from 6.5 to 51 MB for one
# request).  1,500 ports of 127.0.0.1 nothing listens on, none of those
# free_port gave (the configs' own servers listen there once nginx runs).
P_MANY=$(free_port)
declare -A given=()
while read -r p; do given[$p]=1; done <"$tmp/free_ports"
refusing="" nref=0 p=20000
while [ $nref -lt 1500 ] && [ $p -lt 60000 ]; do
	if [ -z "${given[$p]:-}" ] && ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
		refusing="$refusing server 127.0.0.1:$p;"
		nref=$((nref + 1))
	fi
	p=$((p + 1))
done
many_up="upstream many { lbsched_plugin $plugin; lbsched_scheduler round-robin; $refusing }
  server { listen 127.0.0.1:$P_MANY; location / { proxy_pass http://many; } }"
write_conf "$run/many.conf" 1 "$slow_up $many_up"
"$NGINX" -p "$run/" -c "$run/many.conf" || die "nginx (many.conf) does not start: $(tail -5 "$run/error.log")"
ngx_up
worker=$(pgrep -P "$(cat "$run/nginx.pid")" -f "worker process" | head -1)
hwm() { awk '/^VmHWM/ {print $2}' "/proc/$worker/status"; }
before=$(hwm) refused0=$(grep -c "connect() failed" "$run/error.log")
code=$(curl -s -m 120 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$P_MANY/")
after=$(hwm) tries=$(($(grep -c "connect() failed" "$run/error.log") - refused0))
check "a request every one of $nref servers refuses is a 502 after them all ($code, $tries refused)" \
	test "$code" = 502 -a "$tries" -ge "$nref"
check "... and its tries take the worker's peak memory up by less than 8 MB (${before:-?} kB to ${after:-?} kB)" \
	test -n "$before" -a -n "$after" -a $((${after:-0} - ${before:-0})) -lt 8192
kill -QUIT "$(cat "$run/nginx.pid")"
ngx_down

# nginx's cache manager and loader run init_process too: each made an
# instance of its own (a store open, a Redis poll as worker 0) that no
# request ever used and nothing closed
write_conf "$run/cache.conf" 1 "$slow_up proxy_cache_path $tmp/cache keys_zone=lbc:1m;"
"$NGINX" -p "$run/" -c "$run/cache.conf" || die "nginx (cache.conf) does not start: $(tail -5 "$run/error.log")"
ngx_up
master=$(cat "$run/nginx.pid")
store_open() { ls -l "/proc/$1/fd" 2>/dev/null | grep -q "$tmp/store/data.mdb"; }
worker=$(pgrep -P "$master" -f "worker process" | head -1)
manager=$(pgrep -P "$master" -f "cache manager" | head -1)
check "the cache manager runs beside the worker ($worker, $manager)" test -n "$worker" -a -n "$manager"
check "... the worker holds the store open" store_open "$worker"
check "... the cache manager does not" bash -c "! ls -l /proc/$manager/fd | grep -q '$tmp/store/data.mdb'"
kill -QUIT "$master"
ngx_down

# the store's verifying child is the plugin's: nginx's SIGCHLD handler never
# sees it (it logged "unknown process N exited" at notice, "waitpid() failed"
# at info); the log is at info level
noise=$(grep -h "unknown process\|waitpid() failed" "$run"/*.log)
check "nginx's log never heard of the store's verifying child ($noise)" test -z "$noise"
echo "$checks checks, $failed failed"
[ "$failed" = 0 ]
