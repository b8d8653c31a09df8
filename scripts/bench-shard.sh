#!/usr/bin/env bash
# Bulk thumbnails of a bucket shared by several processes (issue 15): `tessera thumbnails
# s3://...` over the JPEG samples stored COPIES times each in a SeaweedFS bucket on loopback,
# once by one process and once by two processes at the same time with `--shard 1/2` and
# `--shard 2/2`, each with one job (a machine each, as far as one host can show it), runs
# alternating. Prints each run's wall time and images per second, and checks that the two
# shards made every thumbnail once.
#
#   scripts/bench-shard.sh [COPIES] [RUNS] [BINARY]     (default 8 2 target/release/tessera)
#
# Loopback only. Needs: python3, curl.
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
rate() { python3 -c "import sys; t=float(sys.argv[2])-float(sys.argv[1]); print(f'{t:.2f} s, {int(sys.argv[3])/t:.1f} images/s')" "$@"; }
one() { # OUT
  local t0; t0=$(now)
  "$bin" thumbnails s3://masters/bulk "$1" --jobs 1 --json > "$1.json" 2>/dev/null
  echo "one process:   $(rate "$t0" "$(now)" "$n")"
}
two() { # OUT
  local t0; t0=$(now)
  "$bin" thumbnails s3://masters/bulk "$1/a" --jobs 1 --shard 1/2 --json > "$1.a.json" 2>/dev/null &
  local a=$!
  "$bin" thumbnails s3://masters/bulk "$1/b" --jobs 1 --shard 2/2 --json > "$1.b.json" 2>/dev/null
  wait "$a"
  echo "two processes: $(rate "$t0" "$(now)" "$n")"
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
