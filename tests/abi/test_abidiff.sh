#!/usr/bin/env bash
# test_abidiff.sh CC [ARGS...] -- the current header's ABI against each
# frozen release (tests/abi/v1.0, v1.1, v1.2), with abidiff from Debian's
# abigail-tools.
#
# abi_surface.c is built with -g against each header, and abidiff compares
# the DWARF of the two.  Its exit status alone cannot tell an appended field
# (allowed in a minor release) from an inserted one: both are "changed"
# (bit 4), and "incompatible" (bit 8) only means a removed symbol.  Nor can
# a suppression file (has_data_member_inserted_at = end also hides a field
# retyped next to an appended one).  So a report with changes is read in
# leaf mode, and the only changes accepted are a struct that grew by members
# inserted at or past its old size, and a function lbs_abi_surface_v1_N
# added (abi_surface.c: how a minor's new types, e.g. 1.2's extension,
# reach the DWARF).  The same judge is first run on headers made wrong on
# purpose, so a judge that lets everything through fails here.
#
# Needs LBS_SRCDIR.  The compiler is the build's, without its sanitizer
# flags: the shared objects are only read, never loaded.
set -u
cc=("$@")
src=${LBS_SRCDIR:?}
releases="v1.0 v1.1 v1.2"
frozen=$src/tests/abi # the judge's own checks edit copies of these
fail=0

if ! command -v abidiff >/dev/null; then
	echo "SKIP: abidiff not found (Debian package abigail-tools, in ./dev TEST_DEPS)"
	exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# surface INCLUDE_DIR OUT.so
surface() {
	"${cc[@]}" -std=c11 -g -O0 -shared -fPIC -fvisibility=hidden -I"$1" \
		"$src/tests/abi/abi_surface.c" -o "$2"
}

# judge OLD.so NEW.so: 0 compatible (no change, or fields appended only),
# 1 incompatible, 2 abidiff failed.  abidiff's report is left in
# $tmp/report, the lines that are not appended fields in $tmp/verdict.
judge() {
	: >"$tmp/verdict"
	abidiff -l "$1" "$2" >"$tmp/report" 2>&1
	local rc=$?
	((rc & 1)) && return 2
	((rc & 8)) && return 1
	((rc == 0)) && return 0
	awk '
		/^$/ || /^Leaf changes summary:/ || /^Changed leaf types summary:/ { next }
		/^Removed\/Changed\/Added functions summary:/ {
			if ($0 !~ /: 0 Removed, 0 Changed, [0-9]+ Added/) { print "  not allowed: " $0; bad = 1 }
			next
		}
		/^Removed\/Changed\/Added variables summary:/ {
			if ($0 !~ /: 0 Removed, 0 Changed, 0 Added/) { print "  not allowed: " $0; bad = 1 }
			next
		}
		/^[0-9]+ Added functions?:$/ { next }
		/^  \[A\] '\''function void lbs_abi_surface_v1_[0-9]+\(/ { next }
		# An extension id keeps its layout for ever (abi.h, get_extension).
		/^'\''struct lbs_ext_[a-z_]+ at [^'\'']*'\'' changed:$/ {
			print "  an extension changed (a new layout needs a new id): " $0; bad = 1; next
		}
		/^'\''struct lbs_[a-z_]+ at [^'\'']*'\'' changed:$/ { in_struct = 1; size = -1; next }
		in_struct && /^  type size changed from [0-9]+ to [0-9]+ \(in bits\)$/ { size = $5; next }
		in_struct && /^  [0-9]+ data member insertions?:$/ { next }
		in_struct && size >= 0 && /^    '\''.*'\'', at offset [0-9]+ \(in bits\)/ {
			off = $0
			sub(/.*'\'', at offset /, "", off)
			sub(/ .*/, "", off)
			if (off + 0 >= size + 0)
				next
		}
		{ print "  not an appended field: " $0; bad = 1 }
		END { exit bad }
	' "$tmp/report" >"$tmp/verdict"
}

# variant NAME SED-SCRIPT [RELEASE]: the frozen header of RELEASE (v1.0)
# edited by SED-SCRIPT, built as $tmp/NAME.so.  The edit must change the
# header, or the check is void.
variant() {
	local base=$frozen/${3:-v1.0}/lbsched/abi.h
	mkdir -p "$tmp/$1/lbsched"
	sed "$2" "$base" >"$tmp/$1/lbsched/abi.h"
	if cmp -s "$base" "$tmp/$1/lbsched/abi.h"; then
		echo "FAIL: variant $1: the edit did not apply (the frozen header changed?)"
		fail=1
	fi
	surface "$tmp/$1" "$tmp/$1.so" || { echo "FAIL: variant $1 does not build"; fail=1; }
}

expect() { # expect NAME VERDICT(0|1) [RELEASE]: judged against RELEASE (v1.0)
	judge "$tmp/${3:-v1.0}.so" "$tmp/$1.so"
	local got=$?
	if [ "$got" = "$2" ]; then
		echo "ok: variant $1 judged $([ "$2" = 0 ] && echo compatible || echo incompatible)"
	else
		echo "FAIL: variant $1 judged $got, expected $2; abidiff said:"
		cat "$tmp/report" "$tmp/verdict"
		fail=1
	fi
}

for r in $releases; do
	surface "$src/tests/abi/$r" "$tmp/$r.so" ||
		{ echo "FAIL: abi_surface.c does not build against $r"; exit 1; }
done
surface "$src/abi" "$tmp/current.so" || { echo "FAIL: abi_surface.c does not build against abi/"; exit 1; }

# The judge, on headers made right and wrong on purpose.
workload='/^typedef struct lbs_workload {/,/^} lbs_workload;/'
desc='/^typedef struct lbs_scheduler_desc {/,/^} lbs_scheduler_desc;/'
variant appended "$workload{s/^\tuint32_t max_shards;.*/&\n\tdouble appended_metric;/}
$desc{s/^} lbs_scheduler_desc;/\tlbs_status (*appended_slot)(void *inst);\n&/}"
variant inserted "$workload{s/^\tuint32_t type;.*/&\n\tuint32_t inserted;/}"
variant retyped "$workload{s/^\tuint32_t max_shards;.*/\tuint64_t max_shards;/}"
variant slot_retyped "$desc{s/^\tvoid (\*destroy)(void \*inst);/\tint (*destroy)(void *inst);/}"
variant removed "$desc{/^\tlbs_status (\*explain)(/,/);\$/d}"
expect appended 0
expect inserted 1
expect retyped 1
expect slot_retyped 1
expect removed 1
# 1.2's extension: its layout is fixed, appending included (the size
# check goes too, or the build alone would refuse the variant).
fleet='/^typedef struct lbs_ext_fleet {/,/^} lbs_ext_fleet;/'
variant ext_appended "$fleet{s/^} lbs_ext_fleet;/\tlbs_status (*appended_slot)(void);\n&/}
/^LBS_SIZE_(lbs_ext_fleet, /d" v1.2
variant ext_retyped "$fleet{s/^\t                   size_t config_len,/\t                   uint32_t config_len,/}" v1.2
expect ext_appended 1 v1.2
expect ext_retyped 1 v1.2
# Only the surface's own functions may be added: anything else exported
# beside them is a change the judge does not know.
printf '#include "%s"\nLBS_EXPORT void lbs_stray(void);\nvoid lbs_stray(void) {}\n' \
	"$src/tests/abi/abi_surface.c" >"$tmp/stray.c"
"${cc[@]}" -std=c11 -g -O0 -shared -fPIC -fvisibility=hidden -I"$src/abi" "$tmp/stray.c" \
	-o "$tmp/stray.so" || { echo "FAIL: variant stray does not build"; fail=1; }
expect stray 1

# The real comparisons: the current header against every release, and
# each release against the one before it.
compare() { # compare OLD.so NEW.so WHAT-NEW RELEASE
	judge "$1" "$2"
	case $? in
	0)
		if grep -q "changed:\|Added function" "$tmp/report"; then
			echo "ok: $3 only appends to the frozen $4 header:"
			cat "$tmp/report"
		else
			echo "ok: $3 has the same ABI as the frozen $4 header"
		fi
		;;
	1)
		echo "FAIL: $3 breaks the $4 ABI (only appending fields is allowed):"
		cat "$tmp/report"
		echo "not appended:"
		cat "$tmp/verdict"
		fail=1
		;;
	*)
		echo "FAIL: abidiff failed:"
		cat "$tmp/report"
		fail=1
		;;
	esac
}
prev=
for r in $releases; do
	compare "$tmp/$r.so" "$tmp/current.so" abi/lbsched/abi.h "${r#v}"
	[ -n "$prev" ] && compare "$tmp/$prev.so" "$tmp/$r.so" "the frozen ${r#v} header" "${prev#v}"
	prev=$r
done
# The newest release is the current header's minor, token for token, once
# that minor is released: a 1.1 header's code must not change after its
# freeze.  Its comments are the manual, and may say more or say it better
# (the frozen copy stays as released).
code_of() { # the header without its comments, one space for any run of blanks
	${CC:-cc} -fpreprocessed -dD -E -P -x c "$1" 2>/dev/null | tr -s ' \t\n' ' '
}
minor=$(sed -n 's/^#define LBS_ABI_MINOR \([0-9]*\)$/\1/p' "$src/abi/lbsched/abi.h")
frozen=$src/tests/abi/v1.$minor/lbsched/abi.h
if [ -f "$frozen" ] && ! cmp -s <(code_of "$src/abi/lbsched/abi.h") <(code_of "$frozen"); then
	echo "FAIL: abi/lbsched/abi.h says 1.$minor but its code differs from the frozen tests/abi/v1.$minor copy (a change needs a new minor)"
	fail=1
elif [ -f "$frozen" ] && [ -z "$(code_of "$frozen")" ]; then
	echo "FAIL: no code read from $frozen (is a C compiler there?)"
	fail=1
else
	echo "ok: abi/lbsched/abi.h is the frozen 1.$minor header (its comments aside) or a newer minor"
fi

# The header's _Static_assert layout checks catch the same mistake at build
# time: a field inserted into the current header must stop the compile.
mkdir -p "$tmp/layout/lbsched"
sed "$workload{s/^\tuint32_t type;.*/&\n\tuint32_t inserted;/}" "$src/abi/lbsched/abi.h" \
	>"$tmp/layout/lbsched/abi.h"
echo '#include <lbsched/abi.h>' >"$tmp/layout.c"
if "${cc[@]}" -std=c11 -fsyntax-only -I"$tmp/layout" "$tmp/layout.c" 2>"$tmp/layout.err"; then
	echo "FAIL: a field inserted into lbs_workload compiled: the layout checks are not active"
	fail=1
elif grep -q "lbs_workload.id moved" "$tmp/layout.err"; then
	echo "ok: the layout checks stop a field inserted into lbs_workload"
else
	echo "FAIL: the layout checks failed without naming the moved field:"
	cat "$tmp/layout.err"
	fail=1
fi
# ... and stay out of the way of C99 and C++ users of the header.
for std in c99 c11; do
	"${cc[@]}" -std=$std -Wall -Wextra -Wpedantic -Werror -fsyntax-only -I"$src/abi" \
		"$tmp/layout.c" || { echo "FAIL: abi.h does not compile cleanly as -std=$std"; fail=1; }
done
if command -v c++ >/dev/null; then
	c++ -x c++ -std=c++11 -Wall -Wextra -Wpedantic -Werror -fsyntax-only -I"$src/abi" \
		"$tmp/layout.c" || { echo "FAIL: abi.h does not compile cleanly as C++"; fail=1; }
fi

[ $fail = 0 ] && echo "test_abidiff: all checks passed"
exit $fail
