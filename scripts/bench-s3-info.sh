#!/usr/bin/env bash
# The first info.json of large pyramidal TIFFs in a bucket (issue 15): the 10,240 x 6,400
# pyramid of scripts/bench-s3.sh and a 500-MP one (28,000 x 17,920, made once with vips, JPEG
# tiles of 256 px), each in a SeaweedFS bucket on loopback, asked of a fresh server (nothing
# cached); prints the time of the first info.json and the requests the server sent to the
# store for it (tessera_storage_requests_total), then the same for a second, cached, ask.
#
#   scripts/bench-s3-info.sh [BINARY]     (default target/release/tessera)
#
# Loopback only. Needs: vips (libvips-tools), python3, curl.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-target/release/tessera}"
data=target/bench/warm
. scripts/lib-serve.sh
bench_wide_tif
if [ ! -f "$data/images/huge.tif" ]; then
  vips resize sample-images/mosaic-six-photos.jpg "$data/huge.v" 5.8333333334 --vscale 5.6
  vips tiffsave "$data/huge.v" "$data/images/huge.tif" --tile --pyramid --compression jpeg \
    --Q 85 --tile-width 256 --tile-height 256
  rm -f "$data/huge.v"
fi
. scripts/lib-weed.sh
bench_weed_bucket masters
for f in wide huge; do
  curl -sf -o /dev/null -X PUT -T "$data/images/$f.tif" "$WEED_S3/masters/bench/$f.tif"
done
requests() { curl -sf "http://127.0.0.1:$1/metrics" | awk '/^tessera_storage_requests_total /{print $2}'; }
for f in wide huge; do
  port=$(free_port)
  AWS_ENDPOINT_URL="$WEED_S3" AWS_ALLOW_HTTP=true AWS_REGION=us-east-1 \
    AWS_ACCESS_KEY_ID=tessera AWS_SECRET_ACCESS_KEY=tessera-bench \
    "$bin" --images s3://masters/bench --bind "127.0.0.1:$port" --records "$work/none" \
    > "$work/$port.log" 2>&1 &
  pids+=($!)
  wait_for "http://127.0.0.1:$port/healthz" || { cat "$work/$port.log" >&2; exit 1; }
  size=$(vipsheader "$data/images/$f.tif" | sed 's/.*: \([0-9]*x[0-9]*\).*/\1/')
  for ask in first second; do
    before=$(requests "$port")
    t=$(curl -sf -o /dev/null -w '%{time_total}' "http://127.0.0.1:$port/iiif/$f.tif/info.json")
    after=$(requests "$port")
    echo "$f.tif ($size), $ask info.json: ${t} s, $((after - before)) requests to the store"
  done
done
