#!/usr/bin/env bash
# Cold tiles of a JPEG 2000 master in a bucket (issue 15): the OpenSeadragon tile mix of the
# 4800 x 3200 sample mosaic as a lossless JP2 with 1024-px tiles (vips jp2ksave), three
# servers of one binary with the response cache off, passes alternating:
#   local  - the file in a folder;
#   copies - the object in a SeaweedFS bucket on loopback, decoded from a sparse local copy
#            kept per version, which reads each tile-part once (cache_jp2_copies_mb at its
#            default);
#   none   - the same object with cache_jp2_copies_mb = 0: every decode starts its own copy
#            (the header, the SOT segments and the tiles it covers).
# Also the requests and bytes each bucket server took from the store per tile (its /metrics),
# the first tile of a fresh server (its time and bytes), and 8 bursts: the four 512-px tiles
# of one codestream tile that the copy does not hold yet, asked at once (their decodes need
# the same tile-part; the bytes show whether each read it).
#
#   scripts/bench-s3-jp2.sh [SECONDS] [PASSES] [BINARY]     (default 10 2 target/release/tessera)
#
# With BENCH_TLM=1 the master is made by opj_compress -TLM instead (the same tiles, with TLM
# marker segments listing the tile-parts, as Kakadu's ORGgen_tlm writes).
#
# Loopback only. Needs: wrk, vips (libvips-tools), python3, curl; opj_compress
# (libopenjp2-tools) for BENCH_TLM=1.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-10}"; passes="${2:-2}"; bin="${3:-target/release/tessera}"
for tool in wrk vips curl; do
  command -v "$tool" >/dev/null || { echo "bench-s3-jp2.sh: $tool is missing" >&2; exit 1; }
done
data=target/bench/jp2
if [ "${BENCH_TLM:-0}" = 1 ]; then
  command -v opj_compress >/dev/null || { echo "bench-s3-jp2.sh: opj_compress is missing" >&2; exit 1; }
  data=target/bench/jp2-tlm
fi
mkdir -p "$data/images"
jp2="$data/images/mosaic.jp2"
if [ ! -f "$jp2" ] && [ "${BENCH_TLM:-0}" = 1 ]; then
  vips copy sample-images/mosaic-six-photos.jpg "$data/mosaic.ppm"
  opj_compress -i "$data/mosaic.ppm" -o "$jp2" -t 1024,1024 -TLM >/dev/null
elif [ ! -f "$jp2" ]; then
  vips jp2ksave sample-images/mosaic-six-photos.jpg "$jp2" --lossless \
    --tile-width 1024 --tile-height 1024
fi
echo "master: $(stat -c %s "$jp2") bytes"
. scripts/lib-serve.sh
. scripts/lib-weed.sh
bench_weed_bucket masters
curl -sf -o /dev/null -X PUT -T "$jp2" "$WEED_S3/masters/bench/mosaic.jp2"
serve() { # PORT IMAGES [SETTING]
  bench_serve "$1" "$2" /iiif/mosaic.jp2/info.json "" ${3:+"$3"}
}
local_port=$(free_port); serve "$local_port" "$data/images"
copies_port=$(free_port); serve "$copies_port" "s3://masters/bench"
none_port=$(free_port); serve "$none_port" "s3://masters/bench" "cache_jp2_copies_mb = 0"
store_requests() { # PORT
  curl -sf "http://127.0.0.1:$1/metrics" | awk '/^tessera_storage_requests_total / {print $2}'
}
store_bytes() { # PORT
  curl -sf "http://127.0.0.1:$1/metrics" | awk '/^tessera_storage_read_bytes_total / {print $2}'
}
b0=$(store_bytes "$copies_port")
first=$(curl -s -o /dev/null -w '%{time_total}' "http://127.0.0.1:$copies_port/iiif/mosaic.jp2/0,0,1024,1024/512,/0/default.jpg")
echo "first tile of a fresh server: ${first} s, $(( $(store_bytes "$copies_port") - b0 )) bytes from the store"
b0=$(store_bytes "$copies_port")
for tile in 1024,0 2048,0 3072,0 0,1024 1024,1024 2048,1024 3072,1024 0,2048; do
  x=${tile%,*}; y=${tile#*,}; burst=()
  for d in 0,0 512,0 0,512 512,512; do
    curl -sf -o /dev/null "http://127.0.0.1:$copies_port/iiif/mosaic.jp2/$((x + ${d%,*})),$((y + ${d#*,})),512,512/512,/0/default.jpg" &
    burst+=($!)
  done
  for p in "${burst[@]}"; do wait "$p" || echo "bench-s3-jp2.sh: a burst request failed" >&2; done
done
echo "8 bursts, each the 4 tiles of one new codestream tile at once: $(( $(store_bytes "$copies_port") - b0 )) bytes from the store"
tiles() { # PORT
  curl -sf "http://127.0.0.1:$1/metrics" | awk '/^tessera_requests_total\{/ && /family="image"/ && /class="2xx"/ {print $2}'
}
pass() { # LABEL PORT
  local r0 t0 b0 line
  r0=$(store_requests "$2"); t0=$(tiles "$2"); b0=$(store_bytes "$2")
  line=$(scripts/loadtest.sh "http://127.0.0.1:$2/iiif/mosaic.jp2" "$secs" 4 2 2>/dev/null | tail -1)
  python3 -c "import sys; f=lambda i: float(sys.argv[i] or 0); r=f(3)-f(2); t=f(5)-f(4); b=f(8)-f(7); print(f'{sys.argv[1]}: {sys.argv[6]} | store requests per tile {r/max(t,1):.2f}, KB per tile {b/max(t,1)/1000:.0f}')" \
    "$1" "$r0" "$(store_requests "$2")" "$t0" "$(tiles "$2")" "$line" "$b0" "$(store_bytes "$2")"
}
for i in $(seq 1 "$passes"); do
  case $((i % 3)) in
    1) order="local copies none" ;;
    2) order="none copies local" ;;
    *) order="copies none local" ;;
  esac
  for which in $order; do
    case $which in local) port=$local_port ;; copies) port=$copies_port ;; none) port=$none_port ;; esac
    pass "pass $i, $which" "$port"
  done
done
