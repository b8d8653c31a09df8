#!/usr/bin/env bash
# Issue 5 in one session: every load figure of BENCHMARKS.md "Issue 5 goals", Tessera against
# its anchors, on loopback, in one run (about 8 minutes on 2 cores).
#
#   scripts/bench-session.sh [TESSERA_BINARY]      (default target/release/tessera)
#
# Makes its images once under target/bench/ (a 10,000x6,667 photograph enlarged from the
# sample mosaic by `cargo bench --bench tiles`, its pyramidal TIFF, a 24-MP JPEG from
# `cargo bench --bench thumbnail`, and a 500-MP pyramidal TIFF), starts nginx and IIPImage
# (scripts/anchors/start.sh) and iiif-processor (scripts/anchors/iiif-processor), then runs
# scripts/loadtest.sh against each. Peak resident memory is read from /proc (VmHWM).
# Needs: wrk, vips (libvips-tools), nginx, lighttpd, iipimage-server, node and npm.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$(realpath "${1:-target/release/tessera}")"
data=target/bench/load
mkdir -p "$data/images" "$data/big"
[ -f target/bench/tiles/photo.jpg ] && [ -f target/bench/24mp.jpg ] || {
  echo "run 'cargo bench --bench tiles' and 'cargo bench --bench thumbnail' once first" >&2; exit 1; }
# Hard links (or copies): Tessera refuses symlinks that lead out of its images folder.
link() { [ -f "$2" ] || ln "$1" "$2" 2>/dev/null || cp "$1" "$2"; }
link target/bench/tiles/photo.jpg "$data/images/photo.jpg"
link target/bench/tiles/photo.png "$data/images/photo.png"
link target/bench/24mp.jpg "$data/images/24mp.jpg"
pyramid() { vips tiffsave "$1" "$2" --tile --pyramid --compression jpeg --Q 90 --tile-width 256 --tile-height 256 "${@:3}"; }
[ -f "$data/images/photo.tif" ] || pyramid target/bench/tiles/photo.jpg "$data/images/photo.tif"
if [ ! -f "$data/big/big.tif" ]; then
  vips resize target/bench/tiles/photo.jpg "$data/big/big.v" 2.74   # 27,400 x 18,268 = 500 MP
  pyramid "$data/big/big.v" "$data/big/big.tif" --bigtiff
  rm "$data/big/big.v"
fi

work=$(mktemp -d)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; scripts/anchors/start.sh stop >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
scripts/anchors/start.sh target/bench/tiles/photo.jpg "$data/images/photo.tif" >/dev/null
anchor=target/anchors/iiif-processor
mkdir -p "$anchor"
cp scripts/anchors/iiif-processor/{package.json,package-lock.json,server.js} "$anchor/"
(cd "$anchor" && npm ci --no-audit --no-fund --silent)
node "$anchor/server.js" "$data/images" 8203 > "$work/iiifp.log" 2>&1 & pids+=($!)

serve() { # PORT IMAGES CONFIG-LINES...
  local port=$1 images=$2; shift 2
  printf '%s\n' "$@" > "$work/$port.toml"
  RUST_LOG=info "$bin" --images "$images" --bind "127.0.0.1:$port" --records "$work/none" \
    --config "$work/$port.toml" > "$work/$port.log" 2>&1 &
  pids+=($!)
  eval "pid_$port=$!"
}
serve 8190 "$data/images" "cache_encoded_mb = 0" "derivatives = \"$work/derivatives\""
serve 8191 "$data/images"
serve 8192 "$data/images" "cache_encoded_mb = 0" "cache_decoded_mb = 0" "derivative_min_pixels = 0"
serve 8193 "$data/images" "cache_encoded_mb = 0" "cache_decoded_mb = 0" "derivatives = \"$work/derivatives\""
serve 8194 "$data/big"
serve 8195 "$data/big" "cache_encoded_mb = 0"
sleep 2
peak() { echo "$(( $(grep VmHWM "/proc/$1/status" | awk '{print $2}') / 1024 )) MiB"; }
run() { echo "$1: $(MIX=${MIX:-tiles} scripts/loadtest.sh "$2" "${3:-20}" "${4:-16}" 2 2>&1 | tail -1)"; }
t=http://127.0.0.1

echo "== goal 2: the first request for a flat 67-MP JPEG and PNG, then tiles while the pyramid is built"
curl -s -o /dev/null -w "photo.jpg first tile: %{time_total} s\n" "$t:8190/iiif/photo.jpg/2560,2560,256,256/256,/0/default.jpg"
curl -s -o /dev/null -w "photo.png first tile: %{time_total} s\n" "$t:8190/iiif/photo.png/2560,2560,256,256/256,/0/default.jpg"
run "Tessera, flat JPEG, while its pyramid is built (10 s)" "$t:8190/iiif/photo.jpg" 10
sleep 5
grep "built in" "$work/8190.log" | sed 's/.*derivative pyramid/pyramid/; s/ derivative=.*bytes=/ bytes=/'
for pass in 1 2; do
  echo "== goals 1 and 2: cold tiles (every URL new within a pass), pass $pass"
  run "IIPImage, pyramidal TIFF" "$t:8202/iiif/photo.tif"
  run "Tessera, pyramidal TIFF" "$t:8190/iiif/photo.tif"
  run "Tessera, flat JPEG (derivative)" "$t:8190/iiif/photo.jpg"
  run "Tessera, flat PNG (derivative)" "$t:8190/iiif/photo.png"
done
echo "== goal 3: warm tiles (repeat visits)"
run "Tessera, warm-up pass" "$t:8191/iiif/photo.tif" 10
for pass in 1 2; do
  run "nginx, static tiles" "$t:8201/iiif/photo"
  run "Tessera, warm" "$t:8191/iiif/photo.tif"
done
echo "== goal 4: thumbnails of a 24-MP JPEG (200 different !N,N sizes)"
for pass in 1 2; do
  MIX=thumbs run "iiif-processor (sharp)" "$t:8203/iiif/2/24mp.jpg"
  MIX=thumbs run "Tessera, cold (no caches, no derivative)" "$t:8192/iiif/24mp.jpg"
done
curl -s -o /dev/null "$t:8193/iiif/24mp.jpg/full/!200,200/0/default.jpg"; sleep 4
MIX=thumbs run "Tessera, from its derivative pyramid (no response cache)" "$t:8193/iiif/24mp.jpg"
echo "== goal 5: 64 connections on a 500-MP pyramidal TIFF"
run "Tessera, cold tiles, 64 connections" "$t:8195/iiif/big.tif" 20 64
MIX=thumbs run "Tessera, cold thumbnails, 64 connections" "$t:8195/iiif/big.tif" 20 64
run "Tessera, tiles with the default caches, 64 connections" "$t:8194/iiif/big.tif" 20 64
echo "== peak resident memory (VmHWM) of each Tessera server over the whole session"
echo "flat and pyramid tiles (decoded 512 MiB, encoded 0): $(peak "$pid_8190")"
echo "warm tiles (decoded 512 MiB, encoded 256 MiB): $(peak "$pid_8191")"
echo "cold thumbnails (no caches): $(peak "$pid_8192")"
echo "thumbnails from the pyramid (no caches): $(peak "$pid_8193")"
echo "500 MP, default caches (768 MiB): $(peak "$pid_8194")"
echo "500 MP, decoded 512 MiB, encoded 0: $(peak "$pid_8195")"
