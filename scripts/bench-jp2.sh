#!/usr/bin/env bash
# Measures JPEG 2000 decoding: Tessera's decoder (jpeg2k on the pure-Rust openjp2, through
# `cargo bench --bench jp2`) against OpenJPEG's C library (opj_decompress, Debian
# libopenjp2-tools), on the same file and the same three jobs. Single-threaded both. The file
# is the 4800x3200 sample mosaic as lossless JPEG 2000 with 1024-px tiles (libvips-tools
# converts it to PPM first).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v opj_compress >/dev/null || { echo "apt-get install libopenjp2-tools" >&2; exit 1; }
command -v vips >/dev/null || { echo "apt-get install libvips-tools" >&2; exit 1; }
mkdir -p target/bench
src=sample-images/mosaic-six-photos.jpg
jp2=target/bench/mosaic.jp2
if [ ! -f "$jp2" ]; then
  vips copy "$src" target/bench/mosaic.ppm
  # 4800x3200, lossless (5/3), 1024x1024 tiles, 6 resolution levels.
  opj_compress -i target/bench/mosaic.ppm -o "$jp2" -t 1024,1024 -n 6 >/dev/null
fi
ls -l "$jp2"
time_c() {
  local best=999999
  for _ in 1 2 3 4 5; do
    local s e
    s=$(date +%s%N)
    opj_decompress -threads 1 -i "$jp2" -o target/bench/out.ppm "$@" >/dev/null
    e=$(date +%s%N)
    best=$(( (e - s) / 1000000 < best ? (e - s) / 1000000 : best ))
  done
  echo "$best ms"
}
echo "OpenJPEG C (opj_decompress, best of 5, includes writing the PPM):"
echo "  full resolution: $(time_c)"
echo "  reduce 3 (1/8):  $(time_c -r 3)"
echo "  one 256 tile:    $(time_c -d 2048,1024,2304,1280)"
echo "Tessera (jpeg2k + openjp2):"
cargo bench --bench jp2 2>/dev/null | grep -E "^jp2|time:"
