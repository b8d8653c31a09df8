#!/usr/bin/env bash
# Coverage-guided fuzzing with cargo-afl (AFL++ on the stable toolchain).
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# Runs each target (default: all of fuzz/src/bin) for SECONDS (default 600) from its seed
# corpus in fuzz/corpus/TARGET, one after the other, with a 1 GiB address-space limit (the
# decoder targets cap a decode at 64 MiB, so a larger allocation is a bug) and a 2 s hang
# limit (10 s for jp2). Prints executions, time, paths and crashes per target; exits 1 if any target found
# a crash or a hang. Findings stay in fuzz/out/TARGET/default/{crashes,hangs} (or $FUZZ_OUT).
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
SECONDS_PER_TARGET=${1:-600}
shift || true
TARGETS=("$@")
if [ ${#TARGETS[@]} -eq 0 ]; then
  TARGETS=(path router records jpeg png tiff jp2)
fi
OUT=${FUZZ_OUT:-out}   # findings folder, inside fuzz/
AFL_VERSION=0.18.2
if ! cargo afl --version 2>/dev/null | grep -q "$AFL_VERSION"; then
  echo "== installing cargo-afl $AFL_VERSION"
  cargo install cargo-afl --version "$AFL_VERSION" --locked
fi
# Builds the AFL++ runtime once per toolchain; a no-op (error) when it is already there.
cargo afl config --build >/dev/null 2>&1 || true
echo "== building the fuzz targets (instrumented, release)"
cargo afl build --release --quiet
export AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1 \
  AFL_NO_AFFINITY=1 AFL_SUPPRESS_LIBRARY_WARNINGS=1 AFL_QUIET=1
status=0
printf '%-8s %12s %8s %10s %8s %6s\n' target execs seconds execs/s corpus crashes
for t in "${TARGETS[@]}"; do
  rm -rf "$OUT/$t"
  mkdir -p "$OUT"
  # openjp2 with cargo-afl's forced overflow checks and instrumentation is about 40 times
  # slower than in a release build: an input served in 0.1 s can take 3.7 s here.
  # The jp2 target decodes each input twice (the file, and a store's sparse copy).
  hang_ms=2000; [ "$t" = jp2 ] && hang_ms=10000
  cargo afl fuzz -i "corpus/$t" -o "$OUT/$t" -V "$SECONDS_PER_TARGET" -m 1024 -t "$hang_ms" \
    "target/release/$t" > "$OUT/$t.log" 2>&1 || {
      echo "afl-fuzz failed for $t:"; tail -20 "$OUT/$t.log"; status=1; continue; }
  stats="$OUT/$t/default/fuzzer_stats"
  get() { awk -F' *: *' -v k="$1" '$1==k {print $2}' "$stats"; }
  crashes=$(get saved_crashes); hangs=$(get saved_hangs)
  printf '%-8s %12s %8s %10s %8s %6s\n' "$t" "$(get execs_done)" "$(get run_time)" \
    "$(get execs_per_sec)" "$(get corpus_count)" "$crashes"
  if [ "${crashes:-0}" != 0 ] || [ "${hangs:-0}" != 0 ]; then
    echo "   $t: $crashes crashes, $hangs hangs in fuzz/$OUT/$t/default/"
    status=1
  fi
done
exit $status
