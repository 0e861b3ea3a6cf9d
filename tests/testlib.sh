# testlib.sh -- what the shell tests share; source it after `set -u`.
# Gives $tmp (removed on exit), the pass/fail counters and the checks below;
# `finish NAME` prints "NAME: N passed, N failed" and exits 0 only without
# failures.
# No dot in the name: nginx's configure mangles paths holding ".S" or
# ".cc" (host-shim/nginx/build.sh), and tests/deb builds the module here.
tmp=$(mktemp -d "${TMPDIR:-/tmp}/lbsched-test-XXXXXXXXXX")
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0

ok()  { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }
# expect_rc RC CMD...: run, keep stdout/stderr in $tmp/out, $tmp/err
expect_rc() {
	local want=$1; shift
	"$@" >"$tmp/out" 2>"$tmp/err"
	local got=$?
	if [ "$got" = "$want" ]; then ok; else bad "exit $got, expected $want: $*"; sed 's/^/    /' "$tmp/err" >&2; fi
}
# eq WHAT GOT WANT
eq() { if [ "$2" = "$3" ]; then ok; else bad "$1: got '$2', expected '$3'"; fi; }
# has FILE TEXT / lacks FILE TEXT (lacks_i: ignoring case)
has()   { if grep -qF -- "$2" "$1"; then ok; else bad "$1 lacks '$2'"; head -c 2000 "$1" | sed 's/^/    /' >&2; fi; }
lacks() { if grep -qF -- "$2" "$1"; then bad "$1 has '$2'"; grep -oF -m3 -- "$2" "$1" | sed 's/^/    /' >&2; else ok; fi; }
lacks_i() { if grep -qiF -- "$2" "$1"; then bad "$1 has '$2'"; grep -oiF -m3 -- "$2" "$1" | sed 's/^/    /' >&2; else ok; fi; }
# lines FILE N: N non-empty lines (an error is one line)
lines() { local n; n=$(grep -c . "$1"); if [ "$n" = "$2" ]; then ok; else bad "$1 has $n lines, expected $2"; sed 's/^/    /' "$1" >&2; fi; }
# until_ok SECONDS CMD...: CMD until it succeeds, at most SECONDS; its
# arguments are expanded once, so a CMD that must read something anew
# each try is a function
until_ok() { local end=$((SECONDS + $1)); shift; while [ $SECONDS -lt $end ]; do "$@" && return 0; sleep 0.1; done; return 1; }
# catches_int PID: PID is lbsched-shim itself (bash's child, before its
# exec, may catch signals too) and has said that it catches SIGINT
# (SigCgt, bit 2)
catches_int() {
	local m
	[ "$(cat "/proc/$1/comm" 2>/dev/null)" = lbsched-shim ] || return 1
	m=$(awk '/^SigCgt:/ {print $2}' "/proc/$1/status" 2>/dev/null)
	[ -n "$m" ] && (( 0x$m & 2 ))
}
# signal_rc PID SIG: send SIG to the job PID (by its pid only) and set
# $rc to its exit status; one that outlives the signal (one that does not
# catch it: a background job ignores SIGINT) is killed after 60 s and
# counted a failure, so that the test ends
signal_rc() {
	kill "-$2" "$1"
	local end=$((SECONDS + 60))
	while kill -0 "$1" 2>/dev/null && [ $SECONDS -lt $end ]; do sleep 0.1; done
	if kill -0 "$1" 2>/dev/null; then
		bad "pid $1 did not end on SIG$2"
		kill -KILL "$1"
	fi
	wait "$1"
	rc=$?
}
finish() {
	echo "$1: $pass passed, $fail failed"
	[ "$fail" = 0 ]
	exit
}
# free_port: a TCP port on 127.0.0.1 nobody uses now, below the kernel's
# ephemeral range (net.ipv4.ip_local_port_range): no connection's own end
# is ever given it, so it stays free for a server the test starts later or
# starts again (a client retrying a stopped server's ephemeral port could
# connect to itself there and hold it).  Never the same one twice in a
# test (they are kept in $tmp/free_ports).
free_port() {
	python3 - "$tmp/free_ports" <<'PY'
import random, socket, sys
try:
    low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
except (OSError, ValueError, IndexError):
    low = 32768
lo = 20000 if low > 21000 else 1024
if low - lo < 100:
    sys.exit(f"free_port: the ephemeral ports start at {low}: no room below them")
try:
    given = {int(l) for l in open(sys.argv[1])}
except (OSError, ValueError):
    given = set()
for _ in range(1000):
    p = random.randrange(lo, low)
    if p in given:
        continue
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))  # free now: nobody bound it, nothing in TIME_WAIT
    except OSError:
        continue
    finally:
        s.close()
    with open(sys.argv[1], "a") as f:
        f.write(f"{p}\n")
    print(p)
    sys.exit(0)
sys.exit(f"free_port: no free port in {lo}..{low - 1}")
PY
}
# start_redis DIR PORT [ARGS...]: Debian's redis-server on 127.0.0.1:PORT,
# nothing persisted, its pid in DIR/pid; waits until it answers
start_redis() {
	local dir=$1 port=$2; shift 2
	mkdir -p "$dir"
	redis-server --bind 127.0.0.1 --port "$port" --dir "$dir" --save '' --appendonly no \
		--daemonize no "$@" >>"$dir/log" 2>&1 &
	echo $! >"$dir/pid"
	until_ok 20 redis_answers "$port" && return 0
	echo "redis-server did not start on port $port: $(tail -3 "$dir/log")" >&2
	return 1
}
redis_answers() { redis-cli -p "$1" ${REDIS_AUTH:-} ping 2>/dev/null | grep -q -e PONG -e NOAUTH; }
# stop_redis DIR [SIGNAL]: by its pid only
stop_redis() {
	local pid
	pid=$(cat "$1/pid" 2>/dev/null) || return 0
	kill "-${2:-TERM}" "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	rm -f "$1/pid"
}
