#!/usr/bin/env bash
# test_options.sh -- lbsched-shim's command lines as getopt users write them
# (issue 21): --opt=value and --opt value alike, each command's --help on
# stdout with exit 0, and a usage error as one exact line with exit 2.
set -u
. "$(dirname "$0")/testlib.sh"

shim=$LBS_SHIM
ex=$LBS_SRCDIR/examples
commands="check decide simulate prefs"

# --- --opt=value and --opt value decide the same
expect_rc 0 "$shim" decide --plugin "$LBS_PLUGIN" --workers "$ex/fleet.json" --tests "$ex/tests.jsonl"
cp "$tmp/out" "$tmp/spaced"
expect_rc 0 "$shim" decide --plugin="$LBS_PLUGIN" --workers="$ex/fleet.json" --tests="$ex/tests.jsonl"
cmp -s "$tmp/out" "$tmp/spaced" && ok || bad "decide --opt=value differs from --opt value"
has "$tmp/out" '{"test_id":"vision_resnet50_001","status":"ok"'
# an abbreviation that names one option is that option
expect_rc 0 "$shim" decide --plugin="$LBS_PLUGIN" --work "$ex/fleet.json" --tests="$ex/tests.jsonl" --sched=round-robin
has "$tmp/out" '"reason":"round-robin'
# a value may begin with '-': "-" is standard input
expect_rc 0 "$shim" decide --plugin "$LBS_PLUGIN" --workers "$ex/fleet.json" --tests - <"$ex/tests.jsonl"
cmp -s "$tmp/out" "$tmp/spaced" && ok || bad "decide --tests - differs from --tests FILE"
sim() { "$shim" simulate --plugin "$LBS_PLUGIN" --quiet --workers "$ex/hetero/fleet.json" \
	--truth "$ex/hetero/truth.json" --mix "$ex/hetero/mix.json" "$@"; }
expect_rc 0 sim --tests 200 --seed 3 --scheduler round-robin
cp "$tmp/out" "$tmp/spaced"
expect_rc 0 sim --tests=200 --seed=3 --scheduler=round-robin
cmp -s "$tmp/out" "$tmp/spaced" && ok || bad "simulate --opt=value differs from --opt value"
has "$tmp/out" "round-robin"
echo "{\"store\": {\"path\": \"$tmp/db\"}}" >"$tmp/store.json"
expect_rc 0 "$shim" decide --plugin "$LBS_PLUGIN" --config="$tmp/store.json" --workers "$ex/fleet.json" \
	--tests "$ex/tests.jsonl" --feedback="$ex/outcomes.jsonl"
expect_rc 0 "$shim" prefs export --db="$tmp/db" --plugin="$LBS_PLUGIN"
has "$tmp/out" '{"workload_type":"VISION","worker":'

# --- per-command --help: stdout, exit 0, every option of the command
for c in $commands; do
	expect_rc 0 "$shim" $c --help
	has "$tmp/out" "usage: lbsched-shim $c"
	has "$tmp/out" "-h, --help"
	lines "$tmp/err" 0
	cp "$tmp/out" "$tmp/help-$c"
	expect_rc 0 "$shim" $c -h
	cmp -s "$tmp/out" "$tmp/help-$c" && ok || bad "$c -h differs from $c --help"
done
# also after other options, which it ignores
expect_rc 0 "$shim" decide --workers x -h
cmp -s "$tmp/out" "$tmp/help-decide" && ok || bad "decide --workers x -h differs from decide --help"
for o in --workers --tests --plugin --scheduler --config --routes --explain --independent --feedback; do
	has "$tmp/help-decide" "  $o"
done
for o in --workers --truth --mix --tests --rate --tests-file --dump-tests --seed --scheduler \
	--config --compare --warmup --window --plugin --json --report --timing --quiet; do
	has "$tmp/help-simulate" "  $o"
done
for o in --db --plugin --replace; do has "$tmp/help-prefs" "  $o"; done
expect_rc 0 "$shim" --help
for c in $commands; do has "$tmp/out" "  $c "; done

# --- usage errors: one exact line on stderr, nothing on stdout, exit 2
usage_error() { # usage_error "LINE" ARGS...
	local want=$1; shift
	expect_rc 2 "$shim" "$@"
	lines "$tmp/err" 1
	lines "$tmp/out" 0
	[ "$(cat "$tmp/err")" = "$want" ] && ok || bad "lbsched-shim $*: got '$(cat "$tmp/err")', expected '$want'"
}
for c in $commands; do
	usage_error "lbsched-shim: $c: unknown option '--bogus' (lbsched-shim $c --help)" $c --bogus
	usage_error "lbsched-shim: $c: unknown option '--bogus' (lbsched-shim $c --help)" $c --bogus=1
	usage_error "lbsched-shim: $c: unknown option '-x' (lbsched-shim $c --help)" $c -x
	usage_error "lbsched-shim: $c: option '--help' takes no value (lbsched-shim $c --help)" $c --help=yes
done
usage_error "lbsched-shim: decide: option '--workers' needs a value (lbsched-shim decide --help)" \
	decide --tests "$ex/tests.jsonl" --workers
usage_error "lbsched-shim: decide: option '--explain' takes no value (lbsched-shim decide --help)" \
	decide --workers "$ex/fleet.json" --explain=yes
usage_error "lbsched-shim: decide: --workers FILE is required (lbsched-shim decide --help)" \
	decide --tests "$ex/tests.jsonl"
usage_error "lbsched-shim: decide: unexpected argument 'extra' (lbsched-shim decide --help)" \
	decide --workers "$ex/fleet.json" extra
usage_error "lbsched-shim: simulate: option '--seed' needs a value (lbsched-shim simulate --help)" \
	simulate --workers "$ex/hetero/fleet.json" --seed
usage_error "lbsched-shim: simulate: option '--te' is ambiguous (--tests, --tests-file) (lbsched-shim simulate --help)" \
	simulate --te 5
usage_error "lbsched-shim: simulate: --tests must be an integer in 1..10000000, got 'many' (lbsched-shim simulate --help)" \
	simulate --workers "$ex/hetero/fleet.json" --truth "$ex/hetero/truth.json" --mix "$ex/hetero/mix.json" --tests many
usage_error "lbsched-shim: prefs: option '--db' needs a value (lbsched-shim prefs --help)" prefs export --db
usage_error "lbsched-shim: prefs: unknown action 'frob' (dump, export, import, reset) (lbsched-shim prefs --help)" \
	prefs frob --db "$tmp/db"
usage_error "lbsched-shim: check: give the PLUGIN.so to check (lbsched-shim check --help)" check
usage_error "lbsched-shim: check: unexpected argument 'b.so' (lbsched-shim check --help)" check a.so b.so
usage_error "lbsched-shim: a command is needed (lbsched-shim --help)"
usage_error "lbsched-shim: unknown command 'frob' (lbsched-shim --help)" frob
usage_error "lbsched-shim: unknown option '--frob' (lbsched-shim --help)" --frob
# what the user typed is shown on one line, whatever it holds
usage_error "lbsched-shim: decide: unknown option '--a?b' (lbsched-shim decide --help)" decide $'--a\nb'

finish test_options
