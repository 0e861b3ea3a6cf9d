# ngxlib.sh -- what the nginx tests built on testlib.sh share; source it
# after testlib.sh (it needs $tmp).  NAME is the test's name, for messages.
#
#   ngx_find NAME     sets NGINX (Debian's binary), or fails saying why
#   ngx_module NAME   sets module: the built module (LBS_NGX_MODULE), or
#                     builds it into $tmp when nginx-dev came after meson
#                     setup (LBS_NGX_BUILD, LBS_NGX_BUILD_ARGS)
#   ngx_conf_head DIR WORKERS CONNECTIONS
#                     the top of a test's nginx.conf, into http {}: the
#                     module, root's workers as root, pid, log and temp
#                     files under DIR
ngx_find() {
	NGINX=$(command -v nginx || echo /usr/sbin/nginx)
	[ -x "$NGINX" ] || { echo "$1: nginx missing (./dev installs it)" >&2; exit 1; }
}
ngx_module() {
	module=${LBS_NGX_MODULE:-}
	[ -n "$module" ] && [ -f "$module" ] && return 0
	[ -n "${LBS_NGX_BUILD:-}" ] ||
		{ echo "$1: no module built, and no LBS_NGX_BUILD to build it (run through meson test)" >&2; exit 1; }
	eval "args=(${LBS_NGX_BUILD_ARGS:-})"
	module=$tmp/ngx_http_upstream_lbsched_module.so
	bash "$LBS_NGX_BUILD" "$module" "${args[0]}" "$tmp/ngx-build" "${args[2]}" "${args[@]:3}" ||
		{ echo "$1: the module does not build" >&2; exit 1; }
}
ngx_conf_head() {
	cat <<EOF
load_module $module;
$([ "$(id -u)" = 0 ] && echo "user root;")
worker_processes $2;
pid $1/nginx.pid;
error_log $1/error.log info;
events { worker_connections $3; }
http {
  access_log off;
  client_body_temp_path $1/tmp/body; proxy_temp_path $1/tmp/proxy;
  fastcgi_temp_path $1/tmp/fcgi; uwsgi_temp_path $1/tmp/uwsgi; scgi_temp_path $1/tmp/scgi;
EOF
}
