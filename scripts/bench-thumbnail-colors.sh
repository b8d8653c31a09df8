#!/usr/bin/env bash
# What `--colors FILE` adds to a bulk thumbnail run: `tessera thumbnails` on the 200-JPEG
# corpus of scripts/bench-thumbnails.sh (200-px thumbnails, --jobs 2), without and with
# --colors, alternating, PASSES times each (default 5), into a fresh output folder every run.
# Prints each run's wall time, CPU time and peak memory, the medians of each mode and their
# ratios (the goal: wall under 1.10), and checks that the colours file has one line per
# thumbnail. Each run also reports the CPU time other processes took meanwhile; the medians are
# given over all runs and over the quiet ones (others under 10% of one core). The CPU ratio is
# the steadier of the two when anything else runs.
#
#   scripts/bench-thumbnail-colors.sh [TESSERA_BINARY] [PASSES]
#                                     (default target/release/tessera, 5)
#
# Needs: vips (libvips-tools) to make the corpus once, GNU time. Run it on a quiet machine:
# the two modes differ by a few per cent.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$(realpath "${1:-target/release/tessera}")"
passes=${2:-5}
root=target/bench/thumbs
src=$root/src
out=$root/colors-run
source scripts/lib-thumbnail-bench.sh
thumbnail_corpus "$src"
plain=() colored=()
for pass in $(seq 1 "$passes"); do
  rm -rf "$out"
  measure "pass $pass, thumbnails only " \
    "$bin" thumbnails "$src" "$out" --size '!200,200' --quality 85 --jobs 2
  plain+=("$MEASURED_WALL,$MEASURED_CPU,$MEASURED_OTHERS")
  rm -rf "$out"; mkdir -p "$out"
  measure "pass $pass, with --colors   " \
    "$bin" thumbnails "$src" "$out" --size '!200,200' --quality 85 --jobs 2 \
    --colors "$out/colors.jsonl"
  colored+=("$MEASURED_WALL,$MEASURED_CPU,$MEASURED_OTHERS")
done
lines=$(wc -l < "$out/colors.jsonl")
thumbs=$(find "$out" -name '*.jpg' | wc -l)
echo "last run: $thumbs thumbnails, $lines colour lines"
[ "$lines" -eq 200 ] && [ "$thumbs" -eq 200 ] || { echo "expected 200 of each" >&2; exit 1; }
python3 - "${plain[*]}" "${colored[*]}" <<'PY'
import statistics, sys
# Each run: wall, CPU, and the CPU other processes took meanwhile. A run is quiet when the
# others took under 0.1 s per second of its wall time.
modes = [[tuple(map(float, r.split(","))) for r in a.split()] for a in sys.argv[1:3]]
quiet = [[r for r in runs if r[2] < 0.1 * r[0]] for runs in modes]
for label, (plain, colored) in (("all runs", modes), ("quiet runs", quiet)):
    if not plain or not colored:
        print(f"{label}: none in one mode (the machine was busy)")
        continue
    for what, i in (("wall", 0), ("CPU", 1)):
        p = statistics.median(r[i] for r in plain)
        c = statistics.median(r[i] for r in colored)
        print(f"{label} ({len(plain)} + {len(colored)}), median {what}: thumbnails only "
              f"{p:.2f} s, with --colors {c:.2f} s, ratio {c / p:.3f}")
PY
