#!/usr/bin/env bash
# What metrics and access logs cost (issue 16): warm tiles from two servers of the same build,
# side by side in one session, alternating: one with the defaults (metrics counted, one
# access-log line per request, written to a file), one with `access_log = false` (metrics
# alone), and one with `metrics = false` and `access_log = false`. The OpenSeadragon tile mix of a sample photograph (scripts/loadtest.sh,
# wrk 2 threads, 16 connections), after a priming pass each.
#
#   scripts/bench-observe.sh [SECONDS] [PASSES] [BINARY]     (default 20 4 target/release/tessera)
#
# The log goes to a file in a temporary folder (so the kernel's writing of it back to disk
# is part of the cost); LOG_TO=/dev/null measures Tessera's own share alone.
#
# Each line also gives the server's own CPU time per request (user + system, from
# /proc/PID/stat), which varies less than the rate when other work shares the 2 cores.
#
# Loopback only. Needs: wrk, python3, curl.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-20}"; passes="${2:-4}"; bin="$(realpath "${3:-target/release/tessera}")"
for tool in wrk curl; do
  command -v "$tool" >/dev/null || { echo "bench-observe.sh: $tool is missing" >&2; exit 1; }
done
. scripts/lib-serve.sh
bench_setup
image=mosaic-six-photos
serve() { # NAME PORT CONFIG-LINES...
  local name=$1 port=$2; shift 2
  printf '%s\n' "$@" > "$work/$name.toml"
  RUST_LOG=tessera=info "$bin" --images sample-images --bind "127.0.0.1:$port" \
    --records "$work/none" --config "$work/$name.toml" > "$work/$name.out" 2> "${LOG_TO:-$work/$name.log}" &
  pids+=($!)
  wait_for "http://127.0.0.1:$port/iiif/$image/info.json" || { cat "$work/$name.out" "$work/$name.log" >&2; exit 1; }
}
rate() { scripts/loadtest.sh "http://127.0.0.1:$1/iiif/$image" "$secs" 16 2 2>/dev/null | tail -1; }
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; } # user + system CPU of a PID, in clock ticks
# The rate, and the server's own CPU time per request (less sensitive than the rate to what
# else the 2 cores are doing, wrk included).
measure() { # PORT PID
  local before after line per
  before=$(ticks "$2"); line=$(rate "$1"); after=$(ticks "$2")
  per=$(awk -v r="$(echo "$line" | awk '{print $2}')" -v t=$((after - before)) -v s="$secs" -v hz="$(getconf CLK_TCK)" \
    'BEGIN { printf "%.1f", t * 1e6 / hz / (r * s) }')
  echo "$line  server CPU ${per} us/request"
}
on=$(free_port); serve on "$on" "colors_in_background = false"
only=$(free_port); serve only "$only" "colors_in_background = false" "access_log = false"
off=$(free_port); serve off "$off" "colors_in_background = false" "metrics = false" "access_log = false"
rate "$on" >/dev/null; rate "$only" >/dev/null; rate "$off" >/dev/null
# Each pass starts with the next server, so that none always runs first.
names=("on  (metrics, access log)" "metrics, no access log   " "off                      ")
ports=("$on" "$only" "$off")
for pass in $(seq 1 "$passes"); do
  echo "== pass $pass"
  for k in 0 1 2; do
    i=$(( (pass - 1 + k) % 3 ))
    echo "${names[$i]}: $(measure "${ports[$i]}" "${pids[$i]}")"
  done
done
if [ -z "${LOG_TO:-}" ]; then
  echo "access-log lines written by the 'on' server: $(grep -c 'tessera::access' "$work/on.log" || true);" \
    "by the 'off' server: $(grep -c 'tessera::access' "$work/off.log" || true)"
fi
curl -s "http://127.0.0.1:$on/metrics" | grep -E '^tessera_requests_total\{family="image",class="2xx"\}'
