# redislib.sh -- a real redis-server for a shell test: Debian's binary on
# 127.0.0.1, a free port, its files in a directory of the test, nothing
# saved, stopped by its PID.  Source it after testlib.sh (it needs $tmp).
#
#   redis_start NAME [redis-server options...]  sets REDIS_PORT, REDIS_PID
#   redis_stop                                  stops the one started last
#   rcli ARGS...                                redis-cli against it
#   fake_start REPLY [drip], fake_stop           a server that is not Redis
# Without redis-server the test fails and says so (root installs it).
if ! command -v redis-server >/dev/null; then
	if [ "$(id -u)" = 0 ]; then
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server >/dev/null 2>&1 ||
			{ apt-get update >/dev/null 2>&1 &&
			  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server >/dev/null 2>&1; }
	fi
	command -v redis-server >/dev/null || { echo "redislib: redis-server missing: apt-get install redis-server" >&2; exit 1; }
fi
REDIS_PIDS=""
trap 'for p in $REDIS_PIDS; do kill "$p" 2>/dev/null; done; rm -rf "$tmp"' EXIT

redis_start() {
	local name=$1; shift
	local dir=$tmp/redis-$name
	mkdir -p "$dir"
	REDIS_PORT=$(free_port)
	redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
		--dir "$dir" --logfile "$dir/redis.log" --daemonize no "$@" &
	REDIS_PID=$!
	REDIS_PIDS="$REDIS_PIDS $REDIS_PID"
	for _ in $(seq 100); do
		redis-cli -p "$REDIS_PORT" ping 2>&1 | grep -q -e PONG -e NOAUTH && return 0
		sleep 0.05
	done
	echo "redislib: redis-server did not start: $(tail -3 "$dir/redis.log")" >&2
	exit 1
}

redis_stop() {
	kill "$REDIS_PID" 2>/dev/null
	wait "$REDIS_PID" 2>/dev/null
}

rcli() { redis-cli -p "$REDIS_PORT" "$@"; }

# fake_start REPLY [drip]: tests/fake_redis.py, a server that is not Redis,
# on a free port: sets FAKE_PORT, FAKE_PID; fake_stop stops it by its pid
fake_start() {
	FAKE_PORT=$(free_port)
	rm -f "$tmp/fake.log" # the last one's "listening" is not this one's
	python3 "$LBS_SRCDIR/tests/fake_redis.py" "$FAKE_PORT" "$@" >"$tmp/fake.log" 2>&1 &
	FAKE_PID=$!
	REDIS_PIDS="$REDIS_PIDS $FAKE_PID"
	until_ok 20 grep -q listening "$tmp/fake.log" ||
		{ echo "redislib: the fake server did not start: $(cat "$tmp/fake.log")" >&2; exit 1; }
}
fake_stop() {
	kill "$FAKE_PID" 2>/dev/null
	wait "$FAKE_PID" 2>/dev/null
}

# redis_timeouts FILE: how many lines of FILE say a command or connect to
# this Redis timed out (nginx waits 200 ms, the agents 500 ms; "timed out
# waiting for the reply", which hiredis 0.14 words "Resource temporarily
# unavailable" and lbsched's layer before this round said so too).  A
# loaded machine may see one; what follows it rightly differs.
redis_timeouts() { grep -c -e "redis://127.0.0.1:$REDIS_PORT: .*\(timed out\|[Tt]imeout\)" \
	-e "redis://127.0.0.1:$REDIS_PORT: Resource temporarily unavailable" "$1"; }
# redis_rest FILE: FILE's lines but, when a timeout is among them, the
# timeouts and the agents' "publishing again" after them (with a note)
redis_rest() {
	local t
	t=$(redis_timeouts "$1")
	if [ "$t" = 0 ]; then cat "$1"; return; fi
	echo "NOTE: $t Redis timeout line(s) in $1: they and 'publishing again' are not counted" >&2
	grep -v -e "redis://127.0.0.1:$REDIS_PORT: .*\(timed out\|[Tt]imeout\)" \
		-e "redis://127.0.0.1:$REDIS_PORT: Resource temporarily unavailable" \
		-e '^lbsched-agent: publishing again$' "$1"
}
