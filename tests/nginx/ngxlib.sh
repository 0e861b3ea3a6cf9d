# ngxlib.sh -- what the nginx tests built on testlib.sh share; source it
# after testlib.sh (it needs $tmp).  NAME is the test's name, for messages.
#
#   ngx_find NAME     sets NGINX (Debian's binary), or fails saying why
#   ngx_module NAME   sets module: the built module (LBS_NGX_MODULE), or
#                     builds it into $tmp when nginx-dev came after meson
#                     setup (LBS_NGX_BUILD, LBS_NGX_BUILD_ARGS)
ngx_find() {
	NGINX=$(command -v nginx || echo /usr/sbin/nginx)
	[ -x "$NGINX" ] || { echo "$1: nginx missing (./dev installs it)" >&2; exit 1; }
}
ngx_module() {
	module=${LBS_NGX_MODULE:-}
	[ -n "$module" ] && [ -f "$module" ] && return 0
	eval "args=($LBS_NGX_BUILD_ARGS)"
	module=$tmp/ngx_http_upstream_lbsched_module.so
	bash "$LBS_NGX_BUILD" "$module" "${args[0]}" "$tmp/ngx-build" "${args[2]}" "${args[@]:3}" ||
		{ echo "$1: the module does not build" >&2; exit 1; }
}
