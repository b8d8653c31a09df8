#!/usr/bin/env bash
# Image API 3.0 against 2.1, side by side in one session (issue 14): the OpenSeadragon tile mix
# of a 10,240 x 6,400 pyramidal TIFF, spelled as OpenSeadragon spells it for each version
# (2.1: x,y,w,h/w,/0/default.jpg at /iiif/…; 3.0: x,y,w,h/w,h/0/default.jpg at /iiif/3/…),
# with passes alternating between the versions:
#   - warm: one server with the default caches, after one priming pass of each mix;
#   - cold: one server with cache_encoded_mb = 0, so every tile is rendered.
#
#   scripts/bench-api3.sh [SECONDS] [PASSES] [BINARY]     (default 20 3 target/release/tessera)
#
# Loopback only. Needs: wrk, vips (libvips-tools), python3, curl.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-20}"; passes="${2:-3}"; bin="${3:-target/release/tessera}"
for tool in wrk vips curl; do
  command -v "$tool" >/dev/null || { echo "bench-api3.sh: $tool is missing" >&2; exit 1; }
done
data=target/bench/warm
. scripts/lib-serve.sh
bench_wide_tif
work=$(mktemp -d)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
serve() { # PORT CONFIG-LINES...
  local port=$1; shift
  printf '%s\n' "$@" > "$work/$port.toml"
  "$bin" --images "$data/images" --bind "127.0.0.1:$port" --records "$work/none" \
    --config "$work/$port.toml" > "$work/$port.log" 2>&1 &
  pids+=($!)
  wait_for "http://127.0.0.1:$port/iiif/wide.tif/info.json"
}
pass() { # LABEL PORT API
  local base="http://127.0.0.1:$2/iiif/wide.tif"
  [ "$3" = 3 ] && base="http://127.0.0.1:$2/iiif/3/wide.tif"
  echo "$1 $3: $(API=$3 scripts/loadtest.sh "$base" "$secs" 16 2 2>/dev/null | tail -1)"
}
warm=$(free_port); serve "$warm" "derivative_min_pixels = 0"
cold=$(free_port); serve "$cold" "derivative_min_pixels = 0" "cache_encoded_mb = 0"
pass prime "$warm" 2 >/dev/null; pass prime "$warm" 3 >/dev/null
for i in $(seq 1 "$passes"); do
  if [ $((i % 2)) = 1 ]; then order="2 3"; else order="3 2"; fi
  for api in $order; do pass "warm pass $i, API" "$warm" "$api"; done
  for api in $order; do pass "cold pass $i, API" "$cold" "$api"; done
done
