#!/usr/bin/env bash
# Starts the issue-5 anchors on loopback, for scripts/loadtest.sh to compare against Tessera:
#   nginx  on 127.0.0.1:8201 serving `vips dzsave --layout iiif` tiles of IMAGE  (base .../iiif/NAME)
#   IIPImage (iipsrv FastCGI behind lighttpd) on 127.0.0.1:8202 serving the pyramidal TIFF
#   PYRAMID from its folder                                              (base .../iiif/NAME.tif)
#
#   scripts/anchors/start.sh IMAGE.jpg PYRAMID.tif     (stop: scripts/anchors/start.sh stop)
# Needs Debian packages: nginx (or nginx-light), lighttpd, iipimage-server, libvips-tools.
set -euo pipefail
work=/tmp/tessera-anchors
if [ "${1:-}" = stop ]; then
  [ -f "$work/nginx.pid" ] && nginx -c "$work/nginx.conf" -s stop || true
  [ -f "$work/lighttpd.pid" ] && kill "$(cat "$work/lighttpd.pid")" || true
  pkill -f iipsrv.fcgi || true
  exit 0
fi
image="$(realpath "${1:?image}")"; pyramid="$(realpath "${2:?pyramidal tiff}")"
name=$(basename "${image%.*}")
mkdir -p "$work/static/iiif"
if [ ! -d "$work/static/iiif/$name" ]; then
  (cd "$work/static/iiif" && vips dzsave "$image" "$name" --layout iiif --tile-size 256 --suffix '.jpg[Q=90]')
  # vips names the one-tile level by its region; viewers ask for "full".
  full=$(cd "$work/static/iiif/$name" && ls -d 0,0,* | sort -t, -k3 -n | tail -1)
  ln -sfn "$full" "$work/static/iiif/$name/full"
fi
cat > "$work/nginx.conf" <<NGINX
worker_processes 2;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off; sendfile on; tcp_nopush on; keepalive_requests 100000;
  types { image/jpeg jpg; application/json json; }
  server { listen 127.0.0.1:8201; root $work/static; add_header Access-Control-Allow-Origin *; }
}
NGINX
nginx -c "$work/nginx.conf"
cat > "$work/lighttpd.conf" <<LIGHTTPD
server.modules = ( "mod_fastcgi", "mod_rewrite", "mod_setenv" )
server.document-root = "$work"
server.bind = "127.0.0.1"
server.port = 8202
server.pid-file = "$work/lighttpd.pid"
server.errorlog = "$work/lighttpd-error.log"
server.max-keep-alive-requests = 100000
url.rewrite-once = ( "^/iiif/(.*)\$" => "/fcgi-bin/iipsrv.fcgi?IIIF=\$1" )
fastcgi.server = ( "/fcgi-bin/iipsrv.fcgi" => ((
  "socket" => "$work/iipsrv.sock", "check-local" => "disable", "min-procs" => 2, "max-procs" => 2,
  "bin-path" => "/usr/lib/iipimage-server/iipsrv.fcgi",
  "bin-environment" => ( "LOGFILE" => "$work/iipsrv.log", "VERBOSITY" => "0",
    "FILESYSTEM_PREFIX" => "$(dirname "$pyramid")/", "MAX_IMAGE_CACHE_SIZE" => "10",
    "JPEG_QUALITY" => "90", "CORS" => "*" )
)))
LIGHTTPD
lighttpd -f "$work/lighttpd.conf"
echo "nginx:    http://127.0.0.1:8201/iiif/$name"
echo "IIPImage: http://127.0.0.1:8202/iiif/$(basename "$pyramid")"
