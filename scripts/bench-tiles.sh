#!/usr/bin/env bash
# Times `tessera tiles` against `vips dzsave --layout iiif` on one photograph: 256-px tiles at
# Q90, alternating runs, GNU time's wall time and peak RSS for each.
#
#   scripts/bench-tiles.sh [TESSERA] [IMAGE] [PAIRS]
#
# Defaults: target/release/tessera, target/bench/tiles/photo.jpg (made by
# `cargo bench --bench tiles`), 3 pairs. Needs vips (Debian libvips-tools) and GNU time.
#
# Each run writes a fresh tree of about 1,500 files in 4,400 folders, by default in /dev/shm
# (OUT_DIR=folder to choose). On ext4, deleting a tree and at once writing the next makes the
# kernel search past the inodes it has just freed (`recently_deleted`: over a third of the CPU
# of a run, and system times that varied 0.6-1.8 s from run to run), so on a disk the old tree
# is deleted and the run waits SETTLE seconds (ext4 looks back 30 s) before it starts.
set -euo pipefail
tessera=${1:-target/release/tessera}
image=${2:-target/bench/tiles/photo.jpg}
pairs=${3:-3}
settle=${SETTLE:-0}
work=$(mktemp -d "${OUT_DIR:-/dev/shm}/bench-tiles.XXXXXX")
trap 'rm -rf "$work"' EXIT

run() {
  local name=$1
  shift
  rm -rf "$work/out"
  sync
  sleep "$settle"
  /usr/bin/time -f "$name %e s wall, %U s user, %S s sys, %M KB peak RSS" -o "$work/time" "$@" \
    > /dev/null 2> "$work/err" || { cat "$work/err" >&2; exit 1; }
  cat "$work/time"
}

vipsheader "$image"
echo "output in $work"
for _ in $(seq "$pairs"); do
  run tessera "$tessera" tiles "$image" "$work/out" --tile 256 --quality 90
  echo "  $(find "$work/out" -type f | wc -l) files"
  run dzsave vips dzsave "$image" "$work/out" --layout iiif --tile-size 256 --suffix '.jpg[Q=90]'
  echo "  $(find "$work/out" -type f | wc -l) files"
done
