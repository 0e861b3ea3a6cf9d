#!/usr/bin/env bash
# test_abi_hardening.sh PLUGIN SHIM PYLIB FORTIFY(yes|no) -- the hardened
# build (docs/SECURITY.md), checked on the built files rather than trusted
# from the flags:
#   - the plugin exports lbs_plugin_entry_v1 and nothing else, the Python
#     library lbspy_* and nothing else (nm -D);
#   - plugin, CLI and Python library have full RELRO (GNU_RELRO + BIND_NOW)
#     and a non-executable stack, the CLI is PIE (readelf);
#   - stack protector and, in optimised builds without sanitizers,
#     _FORTIFY_SOURCE are compiled in (their libc entry points are imported);
#   - the plugin's only writable globals are the ones docs/SECURITY.md
#     lists: anything new in .data or .bss fails here until documented.
set -u
# Imported symbols without their version (__snprintf_chk@GLIBC_2.3.4).
imports() { nm -D --undefined-only "$1" | awk '{sub(/@.*/, "", $NF); print $NF}'; }
plugin=$1 shim=$2 pylib=$3 fortify=$4
fail=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }

for tool in nm readelf objdump; do
	command -v $tool >/dev/null || { echo "SKIP: $tool not found (binutils)"; exit 77; }
done

# --- exported symbols
exports=$(nm -D --defined-only "$plugin" | awk '{print $3}' | sort)
[ "$exports" = lbs_plugin_entry_v1 ] && ok "lbsched.so exports only lbs_plugin_entry_v1" ||
	bad "lbsched.so exports: $(echo $exports)"
exports=$(nm -D --defined-only "$pylib" | awk '{print $3}')
others=$(echo "$exports" | grep -v '^lbspy_')
if [ -n "$exports" ] && [ -z "$others" ]; then
	ok "$(basename "$pylib") exports only lbspy_* ($(echo "$exports" | wc -l) symbols)"
else
	bad "$(basename "$pylib") exports more than lbspy_*: $(echo $others)"
fi

# --- RELRO, BIND_NOW, stack, PIE
for f in "$plugin" "$shim" "$pylib"; do
	name=$(basename "$f")
	readelf -lW "$f" | grep -q '^ *GNU_RELRO ' && ok "$name has GNU_RELRO" || bad "$name has no GNU_RELRO"
	readelf -dW "$f" | grep -Eq '\(FLAGS\) .*BIND_NOW|\(FLAGS_1\) .*NOW' &&
		ok "$name binds now (full RELRO)" || bad "$name lacks BIND_NOW"
	stack=$(readelf -lW "$f" | awk '$1 == "GNU_STACK" {print $7}')
	[ "$stack" = RW ] && ok "$name has a non-executable stack" ||
		bad "$name stack flags '${stack:-missing}', want RW"
	imports "$f" | grep -qx __stack_chk_fail &&
		ok "$name is built with the stack protector" || bad "$name imports no __stack_chk_fail"
done
readelf -hW "$shim" | grep -q 'Type: *DYN' && readelf -dW "$shim" | grep -q '(FLAGS_1) .*PIE' &&
	ok "lbsched-shim is PIE" || bad "lbsched-shim is not PIE"

# --- _FORTIFY_SOURCE: checked variants of libc calls (__snprintf_chk, ...)
if [ "$fortify" = yes ]; then
	for f in "$plugin" "$shim"; do
		chk=$(imports "$f" | grep -E '^__.*_chk$' | sort -u)
		[ -n "$chk" ] && ok "$(basename "$f") is fortified: $(echo $chk)" ||
			bad "$(basename "$f") imports no __*_chk function: _FORTIFY_SOURCE is off"
	done
else
	echo "ok: _FORTIFY_SOURCE not expected in this build (sanitizers or -O0)"
fi

# --- writable globals of the plugin: objects in .data / .bss, and
# thread-locals in .tdata / .tbss (objdump gives those no "O" flag; a
# section's own symbol has "d").  The compiler's and the sanitizers' own
# are not ours (libgcc's __cpu_model and __cpu_features2: the CPU's
# features, for target_clones' resolvers).
allowed="envs envs_mu forks forks_once init_count init_lock last_gen n_seen next_seen on_bus scope seen verified_mu"
writable=$(objdump -t "$plugin" | awk '$3 == "O" && ($4 == ".data" || $4 == ".bss") {print $6}
	$2 == "O" && ($3 == ".data" || $3 == ".bss") {print $5}
	$3 == "O" && ($4 == ".tdata" || $4 == ".tbss") {print $6}
	$2 != "d" && ($3 == ".tdata" || $3 == ".tbss") {print $NF}' |
	grep -Ev '^(completed\.[0-9]+|__dso_handle|__TMC_END__|__cpu_model|__cpu_features2|_*(asan|ubsan|tsan|odr_asan|sancov)[._].*|.*\.(ubsan|asan)_.*)$' |
	sort -u | tr '\n' ' ' | sed 's/ $//')
if [ "$writable" = "$allowed" ]; then
	ok "the plugin's writable globals are exactly the documented ones: $allowed"
else
	bad "the plugin's writable globals are '$writable', docs/SECURITY.md lists '$allowed'"
fi

[ $fail = 0 ] && echo "test_abi_hardening: all checks passed"
exit $fail
