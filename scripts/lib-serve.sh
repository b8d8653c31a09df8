# Sourced by the check scripts: start a Tessera binary on a free loopback port and wait until
# a path answers. Sets PORT and TESSERA_PID; the caller's EXIT trap should call stop_tessera.
#
#   start_tessera BIN READY_PATH [serve flags...]

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

start_tessera() {
  local bin="$1" ready="$2"
  shift 2
  PORT=$(free_port)
  TESSERA_LOG=$(mktemp)
  "$bin" serve --bind "127.0.0.1:$PORT" "$@" >"$TESSERA_LOG" 2>&1 &
  TESSERA_PID=$!
  for _ in $(seq 1 100); do
    python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$PORT$ready', timeout=1)" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "tessera did not answer $ready; its log:" >&2
  cat "$TESSERA_LOG" >&2
  return 1
}

stop_tessera() {
  kill "${TESSERA_PID:-}" 2>/dev/null || true
  rm -f "${TESSERA_LOG:-}"
}

# For the benchmark scripts: a temporary folder ($work) and the servers started in it
# (their PIDs in $pids) go on exit; wait_for URL polls until the URL answers (10 s).
bench_setup() {
  work=$(mktemp -d)
  pids=()
  trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"' EXIT
}

wait_for() {
  for _ in $(seq 1 100); do curl -sf -o /dev/null "$1" && return 0; sleep 0.1; done
  return 1
}

# For the tile benchmarks: target/bench/warm/images/wide.tif, made once: the sample mosaic
# (4800 x 3200) enlarged to 10,240 x 6,400, as a JPEG-compressed 256-px tiled pyramid. Needs
# vips (libvips-tools).
bench_wide_tif() {
  local data=target/bench/warm
  mkdir -p "$data/images"
  if [ ! -f "$data/images/wide.tif" ]; then
    vips resize sample-images/mosaic-six-photos.jpg "$data/wide.v" 2.1333333334 --vscale 2
    vips tiffsave "$data/wide.v" "$data/images/wide.tif" --tile --pyramid --compression jpeg \
      --Q 90 --tile-width 256 --tile-height 256
    rm -f "$data/wide.v"
  fi
}
