# Sourced by the thumbnail benchmarks (run from the repository root).
#
#   thumbnail_corpus DIR      the corpus of 200 JPEGs of real photographs, made in DIR unless it
#                             already holds them, with vips (libvips-tools): the sample photos
#                             enlarged or reduced to a long side of 1,000 + 25 * i px
#                             (i = 0..199), Q90, in ten subfolders
#   measure NAME COMMAND...   runs COMMAND (output discarded) under GNU time, prints its wall
#                             time, CPU time (user + system), peak memory and the CPU time
#                             other processes took meanwhile (a busy machine), and leaves
#                             those seconds in MEASURED_WALL, MEASURED_CPU, MEASURED_OTHERS

thumbnail_corpus() {
  local src="$1"
  if [ "$(find "$src" -name '*.jpg' 2>/dev/null | wc -l)" -ne 200 ]; then
    rm -rf "$src"; mkdir -p "$src"
    local photos=(sample-images/mosaic-six-photos.jpg sample-images/landscape-lake-boats.jpg
                  sample-images/portrait-forest-path.jpg sample-images/gray-foggy-pier.jpg
                  sample-images/urn-3:HUAM:BOATS0001_dynmc.jpg)
    local i p long
    for i in $(seq 0 199); do
      p=${photos[$((i % ${#photos[@]}))]}
      long=$((1000 + 25 * i))
      mkdir -p "$src/$((i % 10))"
      vips thumbnail "$p" "$src/$((i % 10))/photo-$i.jpg[Q=90]" "$long" --height "$long" --size both
    done
  fi
  echo "corpus: $(find "$src" -name '*.jpg' | wc -l) JPEGs, $(du -sh "$src" | cut -f1)"
}

# CPU seconds the whole machine has spent busy since boot (all cores, from /proc/stat).
busy_seconds() {
  awk '/^cpu / {print ($2 + $3 + $4 + $7 + $8 + $9) / 100; exit}' /proc/stat
}

measure() {
  local name=$1; shift
  local log; log=$(mktemp)
  local before; before=$(busy_seconds)
  /usr/bin/time -f "%e %M %U %S" -o "$log" "$@" > /dev/null 2>&1
  local after; after=$(busy_seconds)
  local wall kib user sys
  read -r wall kib user sys < "$log"; rm -f "$log"
  MEASURED_WALL=$wall
  MEASURED_CPU=$(python3 -c "print(f'{$user + $sys:.2f}')")
  MEASURED_OTHERS=$(python3 -c "print(f'{max(0.0, $after - $before - $user - $sys):.2f}')")
  echo "$name: ${wall} s wall, ${MEASURED_CPU} s CPU, peak $((kib / 1024)) MiB (largest" \
    "process); other processes ${MEASURED_OTHERS} s CPU meanwhile"
}
