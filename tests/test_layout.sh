#!/usr/bin/env bash
# The layout rules of docs/ARCHITECTURE.md, as the sources state them:
# scheduler-algos/ is pure (libc and libm: no I/O, JSON, LMDB or dlopen),
# only plugin/ touches LMDB, only plugin/ and host-shim/ touch cJSON, only
# host-shim/ calls dlopen, abi/ includes <stdint.h> and <stddef.h> alone.
# And nothing in the tree names a path of the machine it was written on.
#   test_layout.sh SOURCE_ROOT
set -u
. "$(dirname "$0")/testlib.sh"
root=${1:?usage: test_layout.sh SOURCE_ROOT}
cd "$root" || exit 1

# Product sources only: tests and benchmarks may load and read anything.
src() { find "$@" -type f \( -name '*.c' -o -name '*.h' \) | sort; }

# The code of every product C file, comments out (they may name what the
# code must not do), into $tmp/code: one python for all of them, where a
# compiler's preprocessor a file took 0.1 s each.
python3 - "$tmp/code" $(src abi host-shim plugin scheduler-algos) <<'PY'
import os, re, sys
out = sys.argv[1]
# A string or character literal is kept whole; a comment becomes a space
# (a block comment keeps its newlines, so lines stay lines).
tok = re.compile(r'"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'|/\*.*?\*/|//[^\n]*', re.S)
def strip(m):
    t = m.group(0)
    if t.startswith('/*'):
        return ' ' + '\n' * t.count('\n')
    return ' ' if t.startswith('//') else t
for f in sys.argv[2:]:
    dst = os.path.join(out, f)
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    with open(f, encoding='utf-8', errors='replace') as i, open(dst, 'w') as o:
        o.write(tok.sub(strip, i.read()))
PY
[ $? = 0 ] || { bad "the comments could not be stripped: nothing was checked"; finish test_layout; }
# offenders LABEL FILES... < pattern: every line of code in FILES matching
# the extended regex, each one a failure naming its file and line.
offenders() {
	local label=$1 pat f hits=; shift
	pat=$(cat)
	[ $# -gt 0 ] || { bad "$label: no files to check"; return; }
	for f; do
		[ -f "$tmp/code/$f" ] || { bad "$label: $f was not read"; return; }
		hits+=$(grep -nE -- "$pat" "$tmp/code/$f" | sed "s|^|$f:|")$'\n'
	done
	hits=$(printf '%s' "$hits" | grep .)
	if [ -n "$hits" ]; then
		bad "$label:"
		printf '%s\n' "$hits" | sed 's/^/    /' >&2
	else
		ok
	fi
}

mapfile -t algos < <(src scheduler-algos)
mapfile -t not_plugin < <(src scheduler-algos host-shim abi)
mapfile -t not_json < <(src scheduler-algos abi)
mapfile -t not_host < <(src scheduler-algos plugin abi)

offenders "scheduler-algos/ includes more than libc, libm and the ABI" "${algos[@]}" <<'EOF'
#[[:space:]]*include[[:space:]]*<(lmdb|cjson/|cJSON|dlfcn|hiredis|hwloc|sensors|unistd|fcntl|pthread|sys/)
EOF
offenders "scheduler-algos/ does I/O" "${algos[@]}" <<'EOF'
\b(fopen|fdopen|fprintf|printf|puts|fputs|fwrite|fread|open|read|write|getenv|dlopen)[[:space:]]*\(
EOF
offenders "LMDB outside plugin/" "${not_plugin[@]}" <<'EOF'
#[[:space:]]*include[[:space:]]*[<"]lmdb\.h|\bmdb_[a-z_]+[[:space:]]*\(
EOF
offenders "cJSON outside plugin/ and host-shim/" "${not_json[@]}" <<'EOF'
#[[:space:]]*include[[:space:]]*[<"](cjson/)?cJSON\.h|\bcJSON_[A-Za-z]+[[:space:]]*\(
EOF
offenders "dlopen outside host-shim/" "${not_host[@]}" <<'EOF'
#[[:space:]]*include[[:space:]]*<dlfcn\.h>|\bdl(open|sym|mopen|vsym)[[:space:]]*\(
EOF
others=$(grep -E '^[[:space:]]*#[[:space:]]*include' "$tmp/code/abi/lbsched/abi.h" |
         grep -vE '^[[:space:]]*#[[:space:]]*include[[:space:]]*<std(int|def)\.h>[[:space:]]*$')
[ -z "$others" ] && ok || bad "abi/lbsched/abi.h includes more than <stdint.h> and <stddef.h>: $others"

# A development machine's paths (its work tree, a home directory): every
# text file of the source, the frozen ABI copies too (a clone's files;
# without git, the tree less what builds leave in it).
if [ "$(git rev-parse --show-toplevel 2>/dev/null)" = "$(pwd -P)" ]; then
	mapfile -t every < <(git ls-files)
else
	# A build directory is any holding meson's own (build, obj-*, ...).
	mapfile -t every < <(find . -path ./.git -prune -o -path ./debian/tmp -prune -o \
	                     -type d -exec test -e '{}/meson-private' ';' -prune -o \
	                     -type f -print | sort)
fi
[ ${#every[@]} -gt 100 ] || { bad "only ${#every[@]} files of the source found"; finish test_layout; }
hits=$(grep -IlE "(^|[^A-Za-z0-9_.])/(work|home|root)/[A-Za-z0-9_.-]" "${every[@]}")
if [ -n "$hits" ]; then
	bad "paths of a development machine in:"
	printf '%s\n' "$hits" | sed 's/^/    /' >&2
else
	ok
fi

finish test_layout
