#!/usr/bin/env bash
# test_packages.sh -- the Debian packages (issue 21, debian/) as an operator
# meets them: the source package built from this tree with dpkg-source and
# the binary packages with dpkg-buildpackage, both held to lintian (no
# errors, no warnings), installed with apt-get, used (nginx -t with Debian's
# stock nginx.conf and a site using lbsched, a request routed by the module
# the package enabled, lbsched-shim check and decide, the Python package
# from /usr/bin/python3, lbsched-agent detect), then purged, leaving nothing
# of ours under /usr, /lib, /etc or /var/lib.  The agent is its own package:
# the plugin's must not pull in hwloc or lm-sensors.  Needs root (run by
# ./dev test); the tree is copied, so the checkout stays clean.  Packages of
# ours installed before the test (a run that was killed) are purged first;
# the machine ends without them.
set -u
src=$(cd "$(dirname "$0")/../.." && pwd)
. "$src/tests/testlib.sh"
start=$(date +%s)
[ "$(id -u)" = 0 ] || { echo "test_packages: must run as root (it installs and purges packages)" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive

pkgs=(lbsched lbsched-agent liblbsched-dev libnginx-mod-http-upstream-lbsched python3-lbsched)
site=/etc/nginx/sites-enabled/lbsched-packages-test
# Where anything of ours could be left; compared before install and after
# purge.  /usr/local is meson install's, never a package's.
roots=(/usr /lib/systemd /etc/nginx /etc/systemd /var/lib)
ours() { find "${roots[@]}" -path /usr/local -prune -o -iname '*lbsched*' -print 2>/dev/null | sort; }
installed() { dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' "$@" 2>/dev/null | awk '$1 != "un" {print $2}'; }
purge() {
	local have; have=$(installed "${pkgs[@]}")
	[ -z "$have" ] || apt-get purge -y $have >"$tmp/purge.log" 2>&1
}
# What apt installed with ours (nothing when ./dev installed the build
# dependencies): read from its log, so that nobody else's goes.
pulled() {
	[ -f "$tmp/install.log" ] || return 0
	sed -n '/^The following NEW packages will be installed:/,/^[^ ]/s/^  //p' "$tmp/install.log" |
		tr ' ' '\n' | grep -v -x -F "${pkgs[@]/#/-e}" | grep .
}
ngx_pid=""
cleanup() {
	[ -z "$ngx_pid" ] || kill "$ngx_pid" 2>/dev/null
	rm -f "$site"
	purge
	local extra; extra=$(pulled)
	[ -z "$extra" ] || apt-get purge -y $extra >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT

leftover=$(installed "${pkgs[@]}")
if [ -n "$leftover" ]; then
	echo "test_packages: purging lbsched packages installed before the test: $leftover"
	purge
fi
rm -f "$site"
before_files=$(ours)

# --- build ----------------------------------------------------------------
# The tree as git sees it: tracked and new files, not ignored ones (build
# directories); deleted files are skipped.
mkdir -p "$tmp/src/lbsched"
if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
	git -C "$src" ls-files -z -c -o --exclude-standard |
		tar -C "$src" --null -T - --ignore-failed-read -cf - 2>/dev/null
else
	tar -C "$src" --exclude='./build*' -cf - .
fi | tar -C "$tmp/src/lbsched" -xf -
# The source package, from the clean copy before the build writes into it:
# lintian reads the tree as Debian would get it (tests/fuzz's hand-made ELF
# headers are overridden in debian/source/lintian-overrides, saying why).
(cd "$tmp/src" && dpkg-source -b lbsched) >"$tmp/source.log" 2>&1
if [ $? = 0 ]; then ok; else bad "dpkg-source -b failed"; tail -20 "$tmp/source.log" >&2; fi
(cd "$tmp/src/lbsched" && DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" \
	dpkg-buildpackage -b -us -uc) >"$tmp/build.log" 2>&1
if [ $? = 0 ]; then ok; else bad "dpkg-buildpackage failed"; tail -40 "$tmp/build.log" >&2; finish test_packages; fi
t_build=$(($(date +%s) - start))
debs=()
for p in "${pkgs[@]}"; do
	f=$(ls "$tmp/src/${p}_"*.deb 2>/dev/null | head -1)
	if [ -n "$f" ]; then ok; debs+=("$f"); else bad "no $p .deb built"; fi
done
[ ${#debs[@]} = ${#pkgs[@]} ] || finish test_packages
# What the packages hold, and which of those paths exist already (shared
# directories such as /usr/bin): after the purge the others must be gone.
for d in "${debs[@]}"; do dpkg-deb --fsys-tarfile "$d" | tar -t; done |
	sed -e 's|^\./|/|' -e 's|/$||' | grep -v '^/*$' | sort -u >"$tmp/deb-files"
while read -r f; do [ -e "$f" ] || [ -L "$f" ] && echo "$f"; done <"$tmp/deb-files" >"$tmp/existed"
# apt's download sandbox (user _apt) reads the .debs.
chmod 755 "$tmp" "$tmp/src"

# The agent is its own package, for workers: the plugin's package (every
# load balancer and Python host) pulls in neither hwloc nor lm-sensors, and
# holds no agent; the agent's needs nothing of the plugin's.
for d in "${debs[@]}"; do
	dpkg-deb -f "$d" Depends >"$tmp/depends-${d##*/}"
	dpkg-deb --fsys-tarfile "$d" | tar -t | sed 's|^\./|/|' >"$tmp/files-${d##*/}"
done
lb=${debs[0]##*/} ag=${debs[1]##*/}
lacks "$tmp/depends-$lb" libhwloc
lacks "$tmp/depends-$lb" libsensors
lacks "$tmp/files-$lb" lbsched-agent
for need in libhwloc15 libsensors5 libhiredis; do has "$tmp/depends-$ag" "$need"; done
if grep -qE '(^|, )lbsched( |,|$)' "$tmp/depends-$ag"; then bad "lbsched-agent depends on lbsched: $(cat "$tmp/depends-$ag")"; else ok; fi
for f in /usr/bin/lbsched-agent /lib/systemd/system/lbsched-agent.service /usr/share/man/man1/lbsched-agent.1.gz; do
	if grep -qx -F "$f" "$tmp/files-$ag"; then ok; else bad "lbsched-agent lacks $f"; fi
done

# Errors and warnings fail, for the binary packages and the source package
# alike; the rest is printed for the log.
lintian --fail-on error,warning "$tmp/src/"*.changes 2>&1 | grep -v 'running with root privileges' >"$tmp/lintian.txt"
if [ "${PIPESTATUS[0]}" = 0 ]; then ok; else bad "lintian reports errors or warnings"; fi
sed 's/^/    lintian: /' "$tmp/lintian.txt"
lintian --fail-on error,warning "$tmp/src/"*.dsc 2>&1 | grep -v 'running with root privileges' >"$tmp/lintian-source.txt"
if [ "${PIPESTATUS[0]}" = 0 ]; then ok; else bad "lintian reports errors or warnings on the source package"; fi
sed 's/^/    lintian: /' "$tmp/lintian-source.txt"
t_lint=$(($(date +%s) - start - t_build))

# --- install ----------------------------------------------------------------
apt-get install -y --no-install-recommends "${debs[@]}" >"$tmp/install.log" 2>&1
if [ $? = 0 ]; then ok; else bad "apt-get install failed"; tail -20 "$tmp/install.log" >&2; finish test_packages; fi

# The module is enabled the Debian way: a link in modules-enabled to the
# snippet in modules-available, with the ABI dependency dh_nginx adds.
link=/etc/nginx/modules-enabled/50-mod-http-upstream-lbsched.conf
expect_rc 0 test "$(readlink "$link")" = /usr/share/nginx/modules-available/mod-http-upstream-lbsched.conf
expect_rc 0 sh -c 'dpkg-query -W -f="\${Depends}" libnginx-mod-http-upstream-lbsched | grep -q "nginx-abi-"'
plugin=$(grep '/lbsched/lbsched\.so$' "$tmp/deb-files")
expect_rc 0 test -n "$plugin"
# The agent's unit is installed, neither enabled nor started.
expect_rc 0 test -f /lib/systemd/system/lbsched-agent.service
expect_rc 1 test -e /etc/systemd/system/multi-user.target.wants/lbsched-agent.service

# --- use ----------------------------------------------------------------------
expect_rc 0 /usr/bin/lbsched-shim check "$plugin"
has "$tmp/out" hardware-aware
# decide without --plugin: the shim finds the plugin where the package put it.
expect_rc 0 /usr/bin/lbsched-shim decide --workers "$src/examples/fleet.json" --tests "$src/examples/tests.jsonl"
lines "$tmp/out" "$(grep -c . "$src/examples/tests.jsonl")"
has "$tmp/out" '{"test_id":"vision_resnet50_001","status":"ok","workers":["gpu_a100_1"]'

# The docs the commands' help and the man pages point to are installed, and
# the examples run from where they are (not compressed).
doc=/usr/share/doc/lbsched
for d in SIMULATE ORCHESTRATE STORE SCORING AGENT; do
	if ls "$doc/$d.md" "$doc/$d.md.gz" 2>/dev/null | grep -q .; then ok; else bad "$doc/$d.md is not installed"; fi
done
if ls /usr/share/doc/libnginx-mod-http-upstream-lbsched/NGINX.md* >/dev/null 2>&1; then ok; else bad "NGINX.md is not installed"; fi
# the agent's package stands alone on a worker: AGENT.md and the Redis
# ACL it points to (SECURITY.md) come with it
for d in AGENT SECURITY; do
	if ls /usr/share/doc/lbsched-agent/$d.md* >/dev/null 2>&1; then ok; else bad "lbsched-agent lacks $d.md"; fi
done
expect_rc 0 /usr/bin/lbsched-shim simulate --workers "$doc/examples/hetero/fleet.json" \
	--truth "$doc/examples/hetero/truth.json" --mix "$doc/examples/hetero/mix.json" --tests 200 --quiet
has "$tmp/out" "hardware-aware"

FRONT=$(free_port) P_NPU=$(free_port) P_CUDA=$(free_port)
cat >"$tmp/fleet.json" <<EOF
{"workers": [
 {"worker_id": "127.0.0.1:$P_NPU", "supported_backends": ["cpu", "qnn", "tflite"],
  "available_accelerators": {"npu": 1}, "available_memory": 8, "cpu_cores": 8},
 {"worker_id": "127.0.0.1:$P_CUDA", "supported_backends": ["cpu", "cuda"], "has_gpu": true,
  "available_accelerators": {"gpu": 1}, "available_memory": 128, "cpu_cores": 16}
]}
EOF
# The store where the docs put it: what nginx learns there must go with
# the purge too.
upstream="upstream lbsched_packages_test {
    lbsched_fleet $tmp/fleet.json;
    lbsched_config '{\"store\": {\"path\": \"/var/lib/lbsched/prefs\"}}';
    server 127.0.0.1:$P_NPU;
    server 127.0.0.1:$P_CUDA;
}"
# Debian's stock nginx.conf reads modules-enabled and sites-enabled.
cat >"$site" <<EOF
$upstream
server {
    listen 127.0.0.1:$FRONT;
    location / { proxy_pass http://lbsched_packages_test; }
}
EOF
expect_rc 0 nginx -t
has "$tmp/err" "test is successful"
rm -f "$site"

# A request through the module the package enabled (its snippet, read from
# modules-enabled) and the plugin lbsched installed: lbsched_plugin unset.
# The workers run as Debian's nginx runs them, www-data, learning into the
# store nginx -t handed to that user; they read the fleet file here.
mkdir -p "$tmp/ngx"
chmod 755 "$tmp" "$tmp/ngx"
chmod 644 "$tmp/fleet.json"
cat >"$tmp/ngx/nginx.conf" <<EOF
include /etc/nginx/modules-enabled/*.conf;
user www-data;
pid $tmp/ngx/nginx.pid;
error_log $tmp/ngx/error.log;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $tmp/ngx; proxy_temp_path $tmp/ngx;
    fastcgi_temp_path $tmp/ngx; uwsgi_temp_path $tmp/ngx; scgi_temp_path $tmp/ngx;
    $upstream
    server { listen 127.0.0.1:$FRONT; location / { proxy_pass http://lbsched_packages_test; } }
    server { listen 127.0.0.1:$P_NPU; location / { return 200 "npu\n"; } }
    server { listen 127.0.0.1:$P_CUDA; location / { return 200 "cuda\n"; } }
}
EOF
expect_rc 0 nginx -c "$tmp/ngx/nginx.conf" -p "$tmp/ngx"
for _ in $(seq 50); do [ -s "$tmp/ngx/nginx.pid" ] && break; sleep 0.1; done
ngx_pid=$(cat "$tmp/ngx/nginx.pid" 2>/dev/null)
answer=$(curl -s -H 'X-Required-Backend: cuda' "http://127.0.0.1:$FRONT/")
expect_rc 0 test "$answer" = cuda
[ "$answer" = cuda ] || sed 's/^/    nginx: /' "$tmp/ngx/error.log" >&2
answer=$(curl -s -H 'X-Required-Backend: qnn' "http://127.0.0.1:$FRONT/")
expect_rc 0 test "$answer" = npu
expect_rc 0 test -s /var/lib/lbsched/prefs/data.mdb
[ -z "$ngx_pid" ] || { kill "$ngx_pid"; for _ in $(seq 50); do kill -0 "$ngx_pid" 2>/dev/null || break; sleep 0.1; done; }
ngx_pid=""

# Debian's own interpreter imports the package from dist-packages, with its
# extension, and the package finds the installed plugin by itself.
(cd "$tmp" && env -u PYTHONPATH -u LBSCHED_PY_LIB -u LBSCHED_PLUGIN -u LBSCHED_NO_FAST \
	/usr/bin/python3 -c '
import json, sys, lbsched
assert lbsched.__file__ == "/usr/lib/python3/dist-packages/lbsched/__init__.py", lbsched.__file__
assert lbsched.FAST, lbsched.FAST_MISSING
fleet = json.load(open(sys.argv[1]))["workers"]
print(lbsched.PluginScheduler().select_worker({"test_id": "t", "required_backend": "cuda"}, fleet))
' "$tmp/fleet.json") >"$tmp/out" 2>"$tmp/err"
if [ "$(cat "$tmp/out")" = "127.0.0.1:$P_CUDA" ]; then ok; else bad "python3: $(cat "$tmp/out" "$tmp/err")"; fi

# The agent reads this machine as its package installed it (its libraries
# found) and describes it as a worker.
expect_rc 0 /usr/bin/lbsched-agent detect --id packages-test-worker
cp "$tmp/out" "$tmp/agent.json"
expect_rc 0 python3 -c 'import json, sys; assert json.load(open(sys.argv[1]))["worker_id"] == "packages-test-worker"' "$tmp/agent.json"

# --- remove, then install again --------------------------------------------------
# remove keeps what was learned and sets the module's link aside (nginx
# loads it no more, and nginx -t passes without it); installing again
# enables it and learns on.
apt-get remove -y "${pkgs[@]}" >"$tmp/remove.log" 2>&1
if [ $? = 0 ]; then ok; else bad "apt-get remove failed"; tail -20 "$tmp/remove.log" >&2; fi
expect_rc 0 test -s /var/lib/lbsched/prefs/data.mdb
expect_rc 1 test -e "$link"
expect_rc 0 test -L "$link.removed"
expect_rc 0 nginx -t
apt-get install -y --no-install-recommends "${debs[@]}" >"$tmp/reinstall.log" 2>&1
if [ $? = 0 ]; then ok; else bad "apt-get install after remove failed"; tail -20 "$tmp/reinstall.log" >&2; fi
expect_rc 0 test "$(readlink "$link")" = /usr/share/nginx/modules-available/mod-http-upstream-lbsched.conf
expect_rc 1 test -e "$link.removed"
expect_rc 0 test -s /var/lib/lbsched/prefs/data.mdb

# --- the plugin replaced under nginx -------------------------------------------
# A running nginx keeps the lbsched.so it loaded and refuses a new file of
# that name until it starts afresh: replacing the plugin alone (lbsched
# reinstalled) reaches the module's postinst through a trigger, and the
# postinst renews nginx as nginx's own postinst does on its upgrade (a
# binary upgrade, a restart only when that fails), never while it is down.
lbsched_deb=""
for d in "${debs[@]}"; do case "$d" in */lbsched_*.deb) lbsched_deb=$d ;; esac; done
dpkg -i "$lbsched_deb" >"$tmp/replug.log" 2>&1
if [ $? = 0 ]; then ok; else bad "dpkg -i lbsched failed"; tail -20 "$tmp/replug.log" >&2; fi
has "$tmp/replug.log" "Processing triggers for libnginx-mod-http-upstream-lbsched"
# The postinst as dpkg runs it for that trigger, with an invoke-rc.d that
# logs what it is asked: nginx running (status 0), its upgrade's status
# STUB_UPGRADE (0 when unset), its restart's STUB_RESTART; and an nginx
# whose -t answers STUB_TEST.
mkdir -p "$tmp/stub"
cat >"$tmp/stub/invoke-rc.d" <<'EOF'
#!/bin/sh
echo "$*" >>"$STUB_LOG"
case "$*" in
*" nginx status") exit "${STUB_STATUS:-0}" ;;
"nginx upgrade") exit "${STUB_UPGRADE:-0}" ;;
"nginx restart") exit "${STUB_RESTART:-0}" ;;
esac
exit 0
EOF
cat >"$tmp/stub/nginx" <<'EOF'
#!/bin/sh
echo "nginx $*" >>"$STUB_LOG"
exit "${STUB_TEST:-0}"
EOF
chmod 755 "$tmp/stub/invoke-rc.d" "$tmp/stub/nginx"
postinst=/var/lib/dpkg/info/libnginx-mod-http-upstream-lbsched.postinst
# (exit 0 whatever invoke-rc.d answers: a failing postinst fails the
# package's configuration, and dpkg's run with it)
renew() {
	rm -f "$tmp/rc.log"
	env STUB_LOG="$tmp/rc.log" PATH="$tmp/stub:$PATH" "$@" >"$tmp/out" 2>"$tmp/err"
	eq "postinst's exit status ($*)" "$?" 0
}
renew sh "$postinst" triggered lbsched-plugin-replaced
eq "triggered: invoke-rc.d calls" "$(tr '\n' ';' <"$tmp/rc.log")" "--quiet nginx status;nginx -t -q;nginx upgrade;"
renew env STUB_UPGRADE=1 sh "$postinst" triggered lbsched-plugin-replaced
eq "upgrade failed: invoke-rc.d calls" "$(tr '\n' ';' <"$tmp/rc.log")" "--quiet nginx status;nginx -t -q;nginx upgrade;nginx restart;"
# a configuration nginx -t refuses: neither, nginx left running (a restart
# under systemd stopped it, and its ExecStartPre refused to start it)
renew env STUB_TEST=1 sh "$postinst" triggered lbsched-plugin-replaced
eq "nginx -t fails: invoke-rc.d calls" "$(tr '\n' ';' <"$tmp/rc.log")" "--quiet nginx status;nginx -t -q;"
has "$tmp/err" "nginx's configuration fails nginx -t; nginx keeps running on the old plugin"
renew env STUB_UPGRADE=1 STUB_RESTART=1 sh "$postinst" triggered lbsched-plugin-replaced
has "$tmp/err" "nginx did not restart; restart it (a reload cannot load the new plugin)"
renew env STUB_STATUS=3 sh "$postinst" triggered lbsched-plugin-replaced
eq "nginx down: invoke-rc.d calls" "$(tr '\n' ';' <"$tmp/rc.log")" "--quiet nginx status;"

# --- purge ----------------------------------------------------------------------
purge
if [ -z "$(installed "${pkgs[@]}")" ]; then ok; else bad "still installed after purge: $(installed "${pkgs[@]}")"; cat "$tmp/purge.log" >&2; fi
# Every path the packages held is gone, but those that were there before.
left=$(comm -23 "$tmp/deb-files" "$tmp/existed" | while read -r f; do
	[ -e "$f" ] || [ -L "$f" ] && echo "$f"; done)
if [ -z "$left" ]; then ok; else bad "left after purge: $(echo $left)"; fi
# Nor anything the maintainer scripts made (modules-enabled links,
# __pycache__, systemd state).
after_files=$(ours)
if [ "$after_files" = "$before_files" ]; then ok; else
	bad "left after purge: $(comm -13 <(echo "$before_files") <(echo "$after_files") | tr '\n' ' ')"
fi
echo "test_packages: $(($(date +%s) - start)) s (copy and build $t_build s, lintian $t_lint s)"
finish test_packages
