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
lacks "$tmp/err" "--feedback without a"
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
# a seed past 2^64 was 2^64 - 1, and one past 2^53 not what the report's JSON said
for seed in 18446744073709551616 9007199254740993 -1 ' 5'; do
	usage_error "lbsched-shim: simulate: --seed must be an integer in 0..9007199254740992, got '$seed' (lbsched-shim simulate --help)" \
		simulate --workers "$ex/hetero/fleet.json" --truth "$ex/hetero/truth.json" --mix "$ex/hetero/mix.json" --seed "$seed"
done
usage_error "lbsched-shim: simulate: --seed must be an integer in 0..9007199254740992, got '1e3' (lbsched-shim simulate --graphs GRAPHS.jsonl --help)" \
	simulate --graphs "$ex/graphs/llm.json" --workers "$ex/fleet.json" --seed 1e3
usage_error "lbsched-shim: simulate: option '--te' is ambiguous (--tests, --tests-file) (lbsched-shim simulate --help)" \
	simulate --te 5
usage_error "lbsched-shim: simulate: --tests must be an integer in 1..10000000, got 'many' (lbsched-shim simulate --help)" \
	simulate --workers "$ex/hetero/fleet.json" --truth "$ex/hetero/truth.json" --mix "$ex/hetero/mix.json" --tests many
usage_error "lbsched-shim: prefs: option '--db' needs a value (lbsched-shim prefs --help)" prefs export --db
# a second value would drop the first; an empty one names no file
usage_error "lbsched-shim: prefs: option '--db' given twice (lbsched-shim prefs --help)" \
	prefs dump --db "$tmp/nonexist" --db "$tmp/db"
usage_error "lbsched-shim: decide: option '--config' given twice (lbsched-shim decide --help)" \
	decide --workers "$ex/fleet.json" --config "$tmp/nonexist" --config "$tmp/db"
usage_error "lbsched-shim: decide: option '--workers' needs a value, not an empty one (lbsched-shim decide --help)" \
	decide --workers= --tests "$ex/tests.jsonl"
usage_error "lbsched-shim: prefs: unknown action 'frob' (dump, export, import, reset, sync) (lbsched-shim prefs --help)" \
	prefs frob --db "$tmp/db"
usage_error "lbsched-shim: check: give the PLUGIN.so to check (lbsched-shim check --help)" check
usage_error "lbsched-shim: check: unexpected argument 'b.so' (lbsched-shim check --help)" check a.so b.so
usage_error "lbsched-shim: a command is needed (lbsched-shim --help)"
usage_error "lbsched-shim: unknown command 'frob' (lbsched-shim --help)" frob
usage_error "lbsched-shim: unknown option '--frob' (lbsched-shim --help)" --frob
usage_error "lbsched-shim: unexpected argument 'extra' after --version (lbsched-shim --help)" --version extra
usage_error "lbsched-shim: prefs: dump: --replace goes with import only (lbsched-shim prefs --help)" \
	prefs dump --db "$tmp/db" --replace
# standard input once: the first reader would leave the next nothing
usage_error "lbsched-shim: decide: only one of --workers, --tests (standard input when not given), --feedback, --config and --routes can be - (or /dev/stdin) (lbsched-shim decide --help)" \
	decide --workers -
usage_error "lbsched-shim: decide: only one of --workers, --tests (standard input when not given), --feedback, --config and --routes can be - (or /dev/stdin) (lbsched-shim decide --help)" \
	decide --workers "$ex/fleet.json" --tests - --feedback -
usage_error "lbsched-shim: decide: only one of --workers, --tests (standard input when not given), --feedback, --config and --routes can be - (or /dev/stdin) (lbsched-shim decide --help)" \
	decide --workers "$ex/fleet.json" --config -
usage_error "lbsched-shim: decide: only one of --workers, --tests (standard input when not given), --feedback, --config and --routes can be - (or /dev/stdin) (lbsched-shim decide --help)" \
	decide --workers "$ex/fleet.json" --tests "$ex/tests.jsonl" --routes - --config -
# orchestrate and simulate read their files one after another too (the
# second found standard input empty, and its error named neither option)
usage_error "lbsched-shim: orchestrate: only one of --graph, --workers and --config can be - (or /dev/stdin) (lbsched-shim orchestrate --help)" \
	orchestrate --graph - --workers /dev/stdin
usage_error "lbsched-shim: simulate: only one of --workers, --truth, --mix, --tests-file and --config can be - (or /dev/stdin) (lbsched-shim simulate --help)" \
	simulate --workers - --truth - --mix "$ex/hetero/mix.json"
# standard input by its path: the fleet read it, the tests found it empty
usage_error "lbsched-shim: decide: only one of --workers, --tests (standard input when not given), --feedback, --config and --routes can be - (or /dev/stdin) (lbsched-shim decide --help)" \
	decide --workers /dev/stdin
# options the run would drop are said, not dropped
usage_error "lbsched-shim: decide: --redis-password-file and --redis-insecure go with a redis:// --workers (lbsched-shim decide --help)" \
	decide --workers "$ex/fleet.json" --redis-password-file "$tmp/nope"
hsim="--workers $ex/hetero/fleet.json --truth $ex/hetero/truth.json"
usage_error "lbsched-shim: simulate: --tests shapes a generated stream; --tests-file replays its own tests at their arrival_s (lbsched-shim simulate --help)" \
	simulate $hsim --tests-file "$ex/tests.jsonl" --tests 3
usage_error "lbsched-shim: simulate: --rate shapes a generated stream; --tests-file replays its own tests at their arrival_s (lbsched-shim simulate --help)" \
	simulate $hsim --tests-file "$ex/tests.jsonl" --rate 9
usage_error "lbsched-shim: simulate: --scheduler is for one scheduler; with --compare name each in the list (lbsched-shim simulate --help)" \
	simulate $hsim --mix "$ex/hetero/mix.json" --scheduler priority --compare oracle
usage_error "lbsched-shim: simulate: option '--compare' needs a value, not an empty one (lbsched-shim simulate --help)" \
	simulate $hsim --mix "$ex/hetero/mix.json" --compare ''
usage_error "lbsched-shim: simulate: --compare: entry 1 is empty (lbsched-shim simulate --help)" \
	simulate $hsim --mix "$ex/hetero/mix.json" --compare ','
usage_error "lbsched-shim: simulate: --rate must be a number of tests per second in [0.00001, 1000000], got '1e-20' (lbsched-shim simulate --help)" \
	simulate $hsim --mix "$ex/hetero/mix.json" --rate 1e-20
usage_error "lbsched-shim: simulate: --rate must be a number of tests per second in [0.00001, 1000000], got '0x2' (lbsched-shim simulate --help)" \
	simulate $hsim --mix "$ex/hetero/mix.json" --rate 0x2
# what the user typed is shown on one line, whatever it holds
usage_error "lbsched-shim: decide: unknown option '--a?b' (lbsched-shim decide --help)" decide $'--a\nb'

# --- simulate's progress line: on standard error when it is a terminal (a
# pty from script(1)) and the run has taken over a second; never with
# --quiet.  Whether this run took that long is what --timing says, so the
# check follows the machine's speed instead of guessing it.
if command -v script >/dev/null; then
	tty_sim() { # tty_sim ARGS...: simulate on a pty, its terminal output in $tmp/tty
		local cmd
		printf -v cmd '%q ' "$shim" simulate --plugin "$LBS_PLUGIN" --workers "$ex/hetero/fleet.json" \
			--truth "$ex/hetero/truth.json" --mix "$ex/hetero/mix.json" --scheduler round-robin \
			--timing "$@"
		script -qec "$cmd >/dev/null" /dev/null | tr '\r' '\n' >"$tmp/tty"
	}
	# long enough to take over a second here, shorter where sanitizers slow it
	n=400000
	[ "${LBS_SANITIZE:-none}" = none ] || n=50000
	tty_sim --tests $n
	s=$(sed -n 's/.* tests on [0-9]* workers in \([0-9.]*\) s.*/\1/p' "$tmp/tty")
	[ -n "$s" ] && ok || bad "no --timing line on the terminal"
	if awk -v s="${s:-0}" 'BEGIN { exit !(s >= 1.5) }'; then
		has "$tmp/tty" "round-robin      [#"
		has "$tmp/tty" "] 100%"
	elif awk -v s="${s:-0}" 'BEGIN { exit !(s < 0.9) }'; then
		lacks "$tmp/tty" "] "
	fi
	tty_sim --tests 2000 --quiet
	has "$tmp/tty" "2000 tests on"
	lacks "$tmp/tty" "%"
else
	echo "test_options: no script(1), the progress line on a terminal is not checked"
fi

# --- the man pages: lbsched-shim(1) is generated from the tables of --help;
# lbsched(7) is written, and checked here against the plugin's own lists
man1=$LBS_MAN_SHIM man7=$LBS_SRCDIR/docs/lbsched.7
# section PAGE MACRO NAME: the roff of ".SS NAME" (or ".SH NAME") up to the next heading
section() { awk -v h="$2 $3" '$0 == h { on = 1; next } on && /^\.S[HS] / { exit } on' "$1"; }
for c in $commands; do
	section "$man1" .SS $c >"$tmp/sec"
	[ -s "$tmp/sec" ] && ok || bad "lbsched-shim.1 has no section for '$c'"
	"$shim" $c --help >"$tmp/help"
	n=0
	for o in $(grep -oE '^  (-h, )?--[a-z-]+' "$tmp/help" | grep -oE -- '--[a-z-]+$'); do
		has "$tmp/sec" "\\fB$(echo "$o" | sed 's/-/\\-/g')"
		n=$((n + 1))
	done
	[ "$n" -ge 1 ] && ok || bad "$c --help lists no option"
done
# every command --help lists, and nothing else; a mode of a command by its
# first option ("simulate --graphs") is listed, and has its section, so
# named: the lists never name one command twice
"$shim" --help | sed -n '/^commands:/,/^$/p' | grep -oE '^  [a-z]+( --[a-z]+)?' | cut -c3- | sort >"$tmp/cmds-help"
sed -n 's/\\-/-/g; s/^\.SS \([a-z]*\( --[a-z]*\)\{0,1\}\)$/\1/p' "$man1" | sort >"$tmp/cmds-man"
[ -z "$(uniq -d "$tmp/cmds-help")" ] && ok || bad "commands: --help names one twice: $(echo $(uniq -d "$tmp/cmds-help"))"
has "$tmp/cmds-help" "simulate --graphs"
cmp -s "$tmp/cmds-help" "$tmp/cmds-man" && ok || bad "commands: --help lists $(echo $(cat "$tmp/cmds-help")), the man page $(echo $(cat "$tmp/cmds-man"))"
# every scheduler the plugin offers has a section in lbsched(7) ...
"$shim" check "$LBS_PLUGIN" | sed -n 's/^  \([a-z-]*\) .*/\1/p' >"$tmp/scheds"
[ "$(wc -l <"$tmp/scheds")" -ge 8 ] && ok || bad "check lists $(wc -l <"$tmp/scheds") schedulers"
for s in $(cat "$tmp/scheds"); do
	section "$man7" .SS "$s" | grep -q . && ok || bad "lbsched.7 has no section for '$s'"
done
# ... naming every config field its source accepts
fields() { # fields FILE ARRAY...: the names in those arrays of a plugin source
	local f=$1 a; shift
	for a; do sed -n "/ $a\[\] = {/,/};/p" "$LBS_SRCDIR/plugin/$f"; done | grep -oE '"[a-z_]+"' | tr -d '"'
}
checkf() { # checkf MACRO SECTION FILE ARRAY...
	local m=$1 s=$2 f=$3; shift 3
	section "$man7" "$m" "$s" >"$tmp/sec"
	local n=0
	for x in $(fields "$f" "$@"); do has "$tmp/sec" "\\fB$x\\fR"; n=$((n + 1)); done
	[ "$n" -ge 1 ] && ok || bad "no fields found in plugin/$f $*"
}
checkf .SS round-robin sched_roundrobin.c known_fields
checkf .SS priority sched_priority.c known_fields
checkf .SS hardware-aware sched_hwaware.c known_fields completion_fields
checkf .SS composite sched_composite.c top_fields child_fields route_fields default_fields
checkf .SS weighted-round-robin sched_wrr.c known_fields
checkf .SS performance sched_performance.c known_fields
checkf .SS affinity sched_affinity.c known_fields
checkf .SS adaptive sched_adaptive.c known_fields
checkf .SH STORE store_config.c store_fields
# lbsched-agent(1) is written: an entry for every option of its --help,
# and a section for each command its usage names
mana=$LBS_SRCDIR/docs/lbsched-agent.1
"$LBS_AGENT" --help >"$tmp/help"
section "$mana" .SH OPTIONS | grep '^\.B' | sed 's/\\-/-/g' >"$tmp/entries"
n=0
for o in $(grep -oE -- '--[a-z-]+' "$tmp/help" | sort -u); do
	grep -qE -- "(^|[ \"])$o([ \"]|\$)" "$tmp/entries" && ok ||
		bad "lbsched-agent.1 has no entry for $o"
	n=$((n + 1))
done
[ "$n" -ge 14 ] && ok || bad "lbsched-agent --help lists $n options"
for c in $(sed -n 's/^ *\(usage:\)\? *lbsched-agent \([a-z]*\) .*/\2/p' "$tmp/help" | sort -u); do
	section "$mana" .SS "$c" | grep -q . && ok || bad "lbsched-agent.1 has no section for '$c'"
done
# all render without a warning
for page in "$man1" "$man7" "$mana"; do
	groff -man -Tutf8 -ww -z "$page" 2>"$tmp/warn"
	lines "$tmp/warn" 0
done
MANWIDTH=80 man -l "$man1" >"$tmp/page" 2>"$tmp/warn"
has "$tmp/page" "lbsched-shim - a host for lbsched scheduler plugins"
lines "$tmp/warn" 0

finish test_options
