#!/usr/bin/env bash
# build.sh -- build ngx_http_upstream_lbsched_module.so against Debian's
# nginx-dev, the way Debian's nginx_mod buildsystem does (see
# docs/NGINX.md):  nginx's configure runs once with Debian's conf_flags into
# BUILD_DIR, then `make modules` compiles the module with nginx's own
# -Werror flags and links the shim archives into it.
#
#   build.sh OUT MODULE_DIR BUILD_DIR INCS LIBS...
#     OUT         where to copy the .so
#     MODULE_DIR  host-shim/nginx (holds `config` and the C file)
#     BUILD_DIR   nginx's --builddir (kept between builds)
#     INCS        include dirs, space separated
#     LIBS        static archives (absolute paths), linked in whole order
set -eu
out=$1 moddir=$2 bd=$3 incs=$4
shift 4
src=${NGINX_SRC:-/usr/share/nginx/src}
if [ ! -x "$src/configure" ]; then
	echo "build.sh: $src/configure not found: install nginx-dev (apt-get install nginx-dev)" >&2
	exit 1
fi
moddir=$(cd "$moddir" && pwd)
mkdir -p "$bd"
bd=$(cd "$bd" && pwd)
# nginx's configure (auto/make) names objects by editing every source
# path with unanchored patterns for .cpp, .cc and .S, so a directory
# whose name holds one of those (mktemp's tmp.S...) yields object paths
# no rule makes, and make's "No rule to make target" names neither.
case "$moddir|$bd" in
*.S* | *.cc* | *.cpp*)
	echo "build.sh: '$moddir' or '$bd': a directory name holding '.S', '.cc' or '.cpp' breaks nginx's configure (auto/make); build from another directory" >&2
	exit 1
	;;
esac
libs="-Wl,--exclude-libs,ALL"
for l in "$@"; do libs="$libs $(cd "$(dirname "$l")" && pwd)/$(basename "$l")"; done
libs="$libs -lcjson -lhiredis -lm"
stamp="$bd/.lbs-configured"
# nginx's version and Debian's flags too: an nginx-dev upgrade compiled
# the module against the old configure's ngx_auto_config.h, a module
# load_module then refused with no word of a rebuild.
want="$incs|$libs|$(cksum <"$moddir/config")|$(cksum <"$src/src/core/nginx.h")|$(cksum <"$src/conf_flags")"
if [ ! -f "$bd/Makefile" ] || [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
	(
		cd "$src"
		. ./conf_flags
		export LBS_NGX_INCS="$incs" LBS_NGX_LIBS="$libs"
		./configure \
			--with-cc-opt="$(dpkg-buildflags --get CFLAGS) -fPIC $(dpkg-buildflags --get CPPFLAGS)" \
			--with-ld-opt="$(dpkg-buildflags --get LDFLAGS) -fPIC" \
			"${NGX_CONF_FLAGS[@]}" --add-dynamic-module="$moddir" --builddir="$bd"
	) >"$bd/configure.log" 2>&1 || { cat "$bd/configure.log" >&2; exit 1; }
	printf '%s' "$want" >"$stamp"
fi
# The archives may have changed without the module's object: always relink.
# And always compile the module again: nginx's Makefile makes its object
# depend on nginx's headers and the .c alone, so a changed project header
# (reqmap.h's sizes, the ABI's structs, shim_config.h's prefix) left an
# object built with the old ones, linked with archives built with the new:
# a struct of one size written with the other.
rm -f "$bd/ngx_http_upstream_lbsched_module.so" "$bd"/addon/*/ngx_http_upstream_lbsched_module.o
make -s -f "$bd/Makefile" -C "$src" modules >"$bd/make.log" 2>&1 || { cat "$bd/make.log" >&2; exit 1; }
cp "$bd/ngx_http_upstream_lbsched_module.so" "$out"
