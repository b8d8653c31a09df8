#!/usr/bin/env bash
# Issue 6: `tessera thumbnails` against vipsthumbnail (shrink-on-load, 2 processes via
# xargs -P2) on 200 real JPEGs of 1,000-6,000 px, 200-px thumbnails, in the same run. Prints
# wall time and peak memory (GNU time) for each, alternating, twice.
#
#   scripts/bench-thumbnails.sh [TESSERA_BINARY]      (default target/release/tessera)
#
# The corpus is made once, in target/bench/thumbs/src, from the sample photographs enlarged or
# reduced with vips (long side 1,000 + 25 * i px, i = 0..199; scripts/lib-thumbnail-bench.sh).
# Needs: vips (libvips-tools), GNU time.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$(realpath "${1:-target/release/tessera}")"
root=target/bench/thumbs
src=$root/src
source scripts/lib-thumbnail-bench.sh
thumbnail_corpus "$src"
for pass in 1 2; do
  rm -rf "$root/vips" "$root/tessera"; mkdir -p "$root/vips"
  measure "vipsthumbnail -s 200x200, xargs -P2" bash -c \
    "find '$src' -name '*.jpg' -print0 | xargs -0 -P2 -n 10 vipsthumbnail -s 200x200 -o '$(realpath "$root/vips")/%s.jpg[Q=85]'"
  measure "tessera thumbnails --size '!200,200' --jobs 2" \
    "$bin" thumbnails "$src" "$root/tessera" --size '!200,200' --quality 85 --jobs 2
done
echo "thumbnails made: vips $(find "$root/vips" -name '*.jpg' | wc -l), tessera $(find "$root/tessera" -name '*.jpg' | wc -l)"
