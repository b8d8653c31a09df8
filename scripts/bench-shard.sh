#!/usr/bin/env bash
# Bulk thumbnails of a bucket shared by several processes (issue 15): `tessera thumbnails
# s3://...` over the JPEG samples stored COPIES times each in a SeaweedFS bucket on loopback,
# once by one process and once by two processes at the same time with `--shard 1/2` and
# `--shard 2/2`, each with one job (a machine each, as far as one host can show it), runs
# alternating. Prints each run's wall time and images per second, and checks that the two
# shards made every thumbnail once, and where the CPU went (Tessera's processes, SeaweedFS's,
# and their share of the two cores).
#
#   scripts/bench-shard.sh [COPIES] [RUNS] [BINARY]     (default 8 2 target/release/tessera)
#
# Loopback only. Needs: python3, curl, GNU time (/usr/bin/time).
set -euo pipefail
cd "$(dirname "$0")/.."
copies="${1:-8}"; runs="${2:-2}"; bin="${3:-target/release/tessera}"
weed=$(scripts/setup-weed.sh 2>/dev/null)
. scripts/lib-weed.sh
work=$(mktemp -d)
trap 'stop_weed; rm -rf "$work"' EXIT
start_weed "$weed"
curl -sf -o /dev/null -X PUT "$WEED_S3/masters"
n=0
for f in sample-images/*.jpg; do
  for c in $(seq 1 "$copies"); do
    name=$(basename "$f" .jpg)
    curl -sf -o /dev/null -X PUT -T "$f" "$WEED_S3/masters/bulk/$c/$name.jpg"
    n=$((n + 1))
  done
done
echo "$n images in s3://masters/bulk"
export AWS_ENDPOINT_URL="$WEED_S3" AWS_ALLOW_HTTP=true AWS_REGION=us-east-1 \
  AWS_ACCESS_KEY_ID=tessera AWS_SECRET_ACCESS_KEY=tessera-bench
now() { date +%s.%N; }
# CPU seconds SeaweedFS has used so far (user + system).
weed_cpu() { awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$WEED_PID/stat"; }
# Wall time, rate, and where the CPU went: Tessera's processes (from /usr/bin/time files),
# SeaweedFS's, and their sum against the two cores' capacity over the wall time.
rate() { # T0 T1 IMAGES WEED0 WEED1 TIMEFILE...
  python3 - "$@" <<'PY'
import sys
t0, t1, n, w0, w1 = map(float, sys.argv[1:6])
wall = t1 - t0
ours = sum(sum(map(float, open(f).read().split()[-2:])) for f in sys.argv[6:])
weed = w1 - w0
print(f"{wall:.2f} s, {n / wall:.1f} images/s | CPU: tessera {ours:.1f} s, SeaweedFS {weed:.1f} s, "
      f"{(ours + weed) / (2 * wall):.0%} of 2 cores")
PY
}
timed() { /usr/bin/time -f "%U %S" -o "$1" "${@:2}"; }
one() { # OUT
  local t0 w0; t0=$(now); w0=$(weed_cpu)
  timed "$1.time" "$bin" thumbnails s3://masters/bulk "$1" --jobs 1 --json > "$1.json" 2>/dev/null
  echo "one process:   $(rate "$t0" "$(now)" "$n" "$w0" "$(weed_cpu)" "$1.time")"
}
two() { # OUT
  local t0 w0; t0=$(now); w0=$(weed_cpu)
  timed "$1.a.time" "$bin" thumbnails s3://masters/bulk "$1/a" --jobs 1 --shard 1/2 --json > "$1.a.json" 2>/dev/null &
  local a=$!
  timed "$1.b.time" "$bin" thumbnails s3://masters/bulk "$1/b" --jobs 1 --shard 2/2 --json > "$1.b.json" 2>/dev/null
  wait "$a"
  echo "two processes: $(rate "$t0" "$(now)" "$n" "$w0" "$(weed_cpu)" "$1.a.time" "$1.b.time")"
  python3 - "$1" "$n" <<'PY'
import json, sys, pathlib
out, n = pathlib.Path(sys.argv[1]), int(sys.argv[2])
a = {p.relative_to(out / "a") for p in (out / "a").rglob("*.jpg")}
b = {p.relative_to(out / "b") for p in (out / "b").rglob("*.jpg")}
made = [json.load(open(f"{out}.{s}.json"))["made"] for s in "ab"]
assert not (a & b), f"made twice: {a & b}"
assert len(a | b) == n, f"{len(a | b)} of {n} made"
print(f"  shards made {made[0]} + {made[1]} = {len(a | b)}, none twice")
PY
}
for i in $(seq 1 "$runs"); do
  if [ $((i % 2)) = 1 ]; then one "$work/one$i"; two "$work/two$i"; else two "$work/two$i"; one "$work/one$i"; fi
done
