#!/usr/bin/env bash
# Issue 6: `tessera thumbnails` against vipsthumbnail (shrink-on-load, 2 processes via
# xargs -P2) on 200 real JPEGs of 1,000-6,000 px, 200-px thumbnails, in the same run. Prints
# wall time and peak memory (GNU time) for each, alternating, twice.
#
#   scripts/bench-thumbnails.sh [TESSERA_BINARY]      (default target/release/tessera)
#
# The corpus is made once, in target/bench/thumbs/src, from the sample photographs enlarged or
# reduced with vips (long side 1,000 + 25 * i px, i = 0..199). Needs: vips (libvips-tools),
# GNU time.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$(realpath "${1:-target/release/tessera}")"
root=target/bench/thumbs
src=$root/src
if [ "$(find "$src" -name '*.jpg' 2>/dev/null | wc -l)" -ne 200 ]; then
  rm -rf "$src"; mkdir -p "$src"
  photos=(sample-images/mosaic-six-photos.jpg sample-images/landscape-lake-boats.jpg
          sample-images/portrait-forest-path.jpg sample-images/gray-foggy-pier.jpg
          sample-images/urn-3:HUAM:BOATS0001_dynmc.jpg)
  for i in $(seq 0 199); do
    p=${photos[$((i % ${#photos[@]}))]}
    long=$((1000 + 25 * i))
    mkdir -p "$src/$((i % 10))"
    vips thumbnail "$p" "$src/$((i % 10))/photo-$i.jpg[Q=90]" "$long" --height "$long" --size both
  done
fi
echo "corpus: $(find "$src" -name '*.jpg' | wc -l) JPEGs, $(du -sh "$src" | cut -f1)"
measure() { # NAME COMMAND...
  local name=$1; shift
  local log; log=$(mktemp)
  /usr/bin/time -f "%e %M" -o "$log" "$@" > /dev/null 2>&1
  read -r wall kib < "$log"; rm -f "$log"
  echo "$name: ${wall} s wall, peak $((kib / 1024)) MiB (largest process)"
}
for pass in 1 2; do
  rm -rf "$root/vips" "$root/tessera"; mkdir -p "$root/vips"
  measure "vipsthumbnail -s 200x200, xargs -P2" bash -c \
    "find '$src' -name '*.jpg' -print0 | xargs -0 -P2 -n 10 vipsthumbnail -s 200x200 -o '$(realpath "$root/vips")/%s.jpg[Q=85]'"
  measure "tessera thumbnails --size '!200,200' --jobs 2" \
    "$bin" thumbnails "$src" "$root/tessera" --size '!200,200' --quality 85 --jobs 2
done
echo "thumbnails made: vips $(find "$root/vips" -name '*.jpg' | wc -l), tessera $(find "$root/tessera" -name '*.jpg' | wc -l)"
