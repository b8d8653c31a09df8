#!/usr/bin/env bash
# Cold tiles from S3 against the same file on local disk, side by side (issue 15): the
# OpenSeadragon tile mix of the 10,240 x 6,400 pyramidal TIFF of scripts/bench-api3.sh, two
# servers of one binary with the response cache off (cache_encoded_mb = 0, so every tile is
# rendered) and no derivatives, one over a folder and one over a SeaweedFS bucket on
# loopback, passes alternating. Also the bytes the server fetches from the store per tile,
# against the bytes it serves.
#
#   [WORKERS=N] scripts/bench-s3.sh [SECONDS] [PASSES] [BINARY]     (default 20 3 target/release/tessera)
#
# WORKERS sets both servers' `workers` (default: one per core).
#
# The bytes per tile come from scripts/s3_bytes.py: a counting proxy in front of the store,
# and two sequential passes over every tile (HTTP headers of the store's answers included;
# "served" is the tiles' JPEG bytes, which for whole tiles are the stored tiles).
#
# Loopback only. Needs: wrk, vips (libvips-tools), python3, curl.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-20}"; passes="${2:-3}"; bin="${3:-target/release/tessera}"
for tool in wrk vips curl; do
  command -v "$tool" >/dev/null || { echo "bench-s3.sh: $tool is missing" >&2; exit 1; }
done
data=target/bench/warm
. scripts/lib-serve.sh
bench_wide_tif
. scripts/lib-weed.sh
bench_weed_bucket masters
curl -sf -o /dev/null -X PUT -T "$data/images/wide.tif" "$WEED_S3/masters/bench/wide.tif"
serve() { # PORT IMAGES [ENDPOINT]
  bench_serve "$1" "$2" /iiif/wide.tif/info.json "${3:-}" ${WORKERS:+"workers = $WORKERS"}
}
local_port=$(free_port); serve "$local_port" "$data/images"
s3_port=$(free_port); serve "$s3_port" "s3://masters/bench"
pass() { # LABEL PORT
  echo "$1: $(scripts/loadtest.sh "http://127.0.0.1:$2/iiif/wide.tif" "$secs" 16 2 2>/dev/null | tail -1)"
}
for i in $(seq 1 "$passes"); do
  if [ $((i % 2)) = 1 ]; then order="local s3"; else order="s3 local"; fi
  for which in $order; do
    port=$local_port; [ "$which" = s3 ] && port=$s3_port
    pass "cold pass $i, $which" "$port"
  done
done

# The store's own ceiling on these cores: ranged GETs of a stored tile's size (17.4 KiB) at
# random offsets of the same object, straight to SeaweedFS's S3 gateway (no Tessera), with the
# same 16 connections.
size=$(stat -c %s "$data/images/wide.tif")
cat > "$work/ranges.lua" <<LUA
math.randomseed(7)
request = function()
  local at = math.random(0, $size - 17820)
  return wrk.format("GET", "/masters/bench/wide.tif", { Range = "bytes=" .. at .. "-" .. (at + 17819) })
end
LUA
echo "store alone (ranged GETs of 17.4 KiB): $(wrk -t2 -c16 -d"${secs}s" -s "$work/ranges.lua" "$WEED_S3" | awk '/Requests\/sec/ {print $2 " requests/s"}')"

echo "== bytes fetched from the store per tile (one server through a counting proxy)"
proxy=$(free_port)
python3 scripts/s3_bytes.py "$proxy" "${WEED_S3##*:}" &
pids+=($!)
counted=$(free_port); serve "$counted" "s3://masters/bench" "http://127.0.0.1:$proxy"
python3 scripts/s3_bytes.py measure "http://127.0.0.1:$counted/iiif/wide.tif" "/tmp/s3-proxy-$proxy.count"
rm -f "/tmp/s3-proxy-$proxy.count"
