#!/usr/bin/env bash
# test_install.sh -- `meson install` gives a third-party plugin author what
# the README promises: the header, lbsched.pc, the plugin under
# libdir/lbsched/ and the shim in bindir, and a plugin built against the
# installed header alone loads in the installed shim.
set -u
build=${LBS_BUILDDIR:?run through meson test}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/lbsched-install-XXXXXXXXXX")
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
check() { if eval "$1"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $1" >&2; fi; }

meson install -C "$build" --destdir "$tmp/root" --no-rebuild --quiet >"$tmp/install.log" 2>&1
check '[ $? = 0 ] || { cat "$tmp/install.log" >&2; false; }'
pc=$(find "$tmp/root" -name lbsched.pc | head -1)
shim=$(find "$tmp/root" -path '*/bin/lbsched-shim' | head -1)
plugin=$(find "$tmp/root" -path '*/lbsched/lbsched.so' | head -1)
header=$(find "$tmp/root" -path '*/include/lbsched/abi.h' | head -1)
check '[ -n "$pc" ] && [ -n "$shim" ] && [ -n "$plugin" ] && [ -n "$header" ]'
check '[ -x "$shim" ]'

prefix=$(sed -n 's/^prefix=//p' "$pc")
cflags=$(PKG_CONFIG_PATH=$(dirname "$pc") pkg-config --define-variable=prefix="$tmp/root$prefix" --cflags lbsched)
cflags=$(echo $cflags)
check '[ "$cflags" = "-I$tmp/root$prefix/include" ]'
check '[ "$(PKG_CONFIG_PATH=$(dirname "$pc") pkg-config --variable=abi_major lbsched)" = 1 ]'
# lbsched.pc says the installed header's minor, and that header is the
# whole ABI: abi/ installs nothing beside it (1.2 took fleet.h in).
minor=$(sed -n 's/^#define LBS_ABI_MINOR \([0-9]*\)$/\1/p' "$header")
check '[ -n "$minor" ] && [ "$(PKG_CONFIG_PATH=$(dirname "$pc") pkg-config --variable=abi_minor lbsched)" = "$minor" ]'
check '[ "$(ls "$(dirname "$header")")" = abi.h ] || { ls "$(dirname "$header")" >&2; false; }'

# A third party's plugin: one C file against the installed header only.
cc -std=c99 -shared -fPIC -fvisibility=hidden $cflags \
	"${LBS_SRCDIR:?}/tests/abi/liar_plugin.c" -o "$tmp/third.so" 2>"$tmp/cc.log"
check '[ -f "$tmp/third.so" ] || { cat "$tmp/cc.log" >&2; false; }'
"$shim" check "$tmp/third.so" >"$tmp/out" 2>&1
check 'grep -q "liar" "$tmp/out"'
"$shim" check "$plugin" >"$tmp/out" 2>&1
check 'grep -q "hardware-aware" "$tmp/out"'
# The man pages (issue 21) where man(1) finds them.
man1=$(find "$tmp/root" -path '*/share/man/man1/lbsched-shim.1' | head -1)
man7=$(find "$tmp/root" -path '*/share/man/man7/lbsched.7' | head -1)
check '[ -n "$man1" ] && [ -n "$man7" ]'
check 'MANPATH=${man1%/man1/*} man -w lbsched-shim 2>/dev/null | grep -q "/man1/lbsched-shim.1"'
check 'MANPATH=${man7%/man7/*} man -w 7 lbsched 2>/dev/null | grep -q "/man7/lbsched.7"'
check 'MANPATH=${man1%/man1/*} man -w lbsched-agent 2>/dev/null | grep -q "/man1/lbsched-agent.1"'
# The plugin exports exactly one symbol: the entry.
syms=$(nm -D --defined-only "$plugin" | awk '{print $3}' | grep -v '^_' | sort -u)
check '[ "$syms" = "lbs_plugin_entry_v1" ] || { echo "exported: $syms" >&2; false; }'

# The Python package (issue 8) where the interpreter it is built for imports
# from, with its library and its extension (issue 16) beside it; importable
# and working from there (not in sanitized builds: python3 cannot load an
# ASan library).
python=${LBS_PYTHON:-python3}
pyinit=$(find "$tmp/root" -path '*/lbsched/__init__.py' | head -1)
pylib=$(find "$tmp/root" -path '*/lbsched/liblbsched-py.so' | head -1)
pyext=$(find "$tmp/root" -path '*/lbsched/_lbsched_fast*.so' | head -1)
check '[ -n "$pyinit" ] && [ -n "$pylib" ] && [ -n "$pyext" ]'
# Debian's python3 looks in /usr/local/lib/python3.X/dist-packages and
# /usr/lib/python3/dist-packages, not where meson puts packages by default.
site=$(dirname "$(dirname "$pyinit")"); site=${site#"$tmp/root"}
if [ "$prefix" = /usr/local ] || [ "$prefix" = /usr ]; then
	check '"$python" -c "import sys; sys.exit(sys.argv[1] not in sys.path)" "$site" ||
		{ echo "$site is not on $python'"'"'s path" >&2; false; }'
fi
if [ -n "$pyinit" ] && [ "${LBS_SANITIZE:-none}" = none ]; then
	out=$(cd "$tmp" && env -u LBSCHED_PY_LIB PYTHONPATH="$tmp/root$site" \
		LBSCHED_PLUGIN="$plugin" "$python" -c '
import json, sys, lbsched
assert lbsched.__file__.startswith(sys.argv[1]), lbsched.__file__
assert lbsched.FAST, lbsched.FAST_MISSING
fleet = json.load(open(sys.argv[2]))["workers"]
print(lbsched.PluginScheduler().select_worker({"test_id": "t", "minimum_memory": 2}, fleet))
' "$tmp/root" "$LBS_SRCDIR/examples/fleet.json" 2>&1)
	check '[ -n "$out" ] && [ "$out" != None ] && ! echo "$out" | grep -q Error || { echo "$out" >&2; false; }'
fi
# The binding's library exports its C API only.
syms=$(nm -D --defined-only "$pylib" | awk '{print $3}' | grep -v '^_' | grep -v '^lbspy_')
check '[ -z "$syms" ] || { echo "exported: $syms" >&2; false; }' 

echo "test_install: $((pass + fail)) checks, $fail failed"
[ "$fail" = 0 ]
