#!/usr/bin/env bash
# Warm and cold tiles against nginx, side by side in one session (issue 12, goal 9):
#   - nginx (Debian nginx-light, 2 workers, sendfile) serving a static tree written from
#     Tessera's own answers to the OpenSeadragon tile mix of a 10,240 x 6,400 pyramidal TIFF;
#   - Tessera warm (default caches, after one priming pass), alternating with nginx;
#   - Tessera cold (cache_encoded_mb = 0: every tile rendered, most of them stored-tile copies).
# Each binary given is measured in turn, so an older build compares in the same session.
#
#   scripts/bench-warm.sh [SECONDS] [PASSES] BINARY [BINARY...]
#   e.g. scripts/bench-warm.sh 20 3 target/release/tessera /tmp/old/tessera
#
# Loopback only. Needs: wrk, nginx (nginx-light), vips (libvips-tools), python3, curl.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-20}"; passes="${2:-3}"; shift 2 || true
[ $# -gt 0 ] || set -- target/release/tessera
for tool in wrk nginx vips curl; do
  command -v "$tool" >/dev/null || { echo "bench-warm.sh: $tool is missing" >&2; exit 1; }
done
data=target/bench/warm
. scripts/lib-serve.sh
bench_wide_tif
work=$(mktemp -d)
chmod 755 "$work"   # nginx workers run as nobody
pids=()
cleanup() {
  kill "${pids[@]}" 2>/dev/null || true
  [ -f "$work/nginx.pid" ] && nginx -c "$work/nginx.conf" -s stop 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
serve() { # BINARY PORT CONFIG-LINES...
  local bin=$1 port=$2; shift 2
  printf '%s\n' "$@" > "$work/$port.toml"
  "$bin" --images "$data/images" --bind "127.0.0.1:$port" --records "$work/none" \
    --config "$work/$port.toml" > "$work/$port.log" 2>&1 &
  pids+=($!)
  wait_for "http://127.0.0.1:$port/iiif/wide.tif/info.json"
}
run() { echo "$1: $(scripts/loadtest.sh "$2" "$secs" 16 2 2>/dev/null | tail -1)"; }

# The static tree: Tessera's own answer to every URL of the mix, at the same paths.
first="$1"
port=$(free_port)
serve "$first" "$port" "derivative_min_pixels = 0"
python3 - "http://127.0.0.1:$port" "$work/static" <<'PY'
import json, os, sys, urllib.request
origin, root = sys.argv[1], sys.argv[2]
base = "/iiif/wide.tif"
info = json.load(urllib.request.urlopen(origin + base + "/info.json"))
W, H = info["width"], info["height"]
t = info["tiles"][0]; tw = t["width"]; th = t.get("height", tw)
paths = [base + "/info.json"]
for s in t["scaleFactors"]:
    for yr in range(0, H, th * s):
        for xr in range(0, W, tw * s):
            wr, hr = min(tw * s, W - xr), min(th * s, H - yr)
            region = "full" if (xr, yr, wr, hr) == (0, 0, W, H) else f"{xr},{yr},{wr},{hr}"
            paths.append(f"{base}/{region}/{(wr + s - 1) // s},/0/default.jpg")
for p in paths:
    body = urllib.request.urlopen(origin + p).read()
    os.makedirs(os.path.dirname(root + p), exist_ok=True)
    open(root + p, "wb").write(body)
print(f"static tree: {len(paths)} files from Tessera's answers", file=sys.stderr)
PY
nport=$(free_port)
cat > "$work/nginx.conf" <<NGINX
worker_processes 2;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off; sendfile on; tcp_nopush on; keepalive_requests 100000;
  types { image/jpeg jpg; application/json json; }
  server { listen 127.0.0.1:$nport; root $work/static; add_header Access-Control-Allow-Origin *; }
}
NGINX
nginx -c "$work/nginx.conf"
wait_for "http://127.0.0.1:$nport/iiif/wide.tif/info.json"

declare -a warm cold
i=0
for bin in "$@"; do
  warm[$i]=$(free_port); serve "$bin" "${warm[$i]}" "derivative_min_pixels = 0"
  cold[$i]=$(free_port); serve "$bin" "${cold[$i]}" "derivative_min_pixels = 0" "cache_encoded_mb = 0"
  run "priming $bin" "http://127.0.0.1:${warm[$i]}/iiif/wide.tif" >/dev/null
  i=$((i + 1))
done
for pass in $(seq 1 "$passes"); do
  echo "== pass $pass"
  run "nginx, Tessera's bytes as static files" "http://127.0.0.1:$nport/iiif/wide.tif"
  i=0
  for bin in "$@"; do
    run "warm  $bin" "http://127.0.0.1:${warm[$i]}/iiif/wide.tif"
    run "cold  $bin" "http://127.0.0.1:${cold[$i]}/iiif/wide.tif"
    i=$((i + 1))
  done
done
