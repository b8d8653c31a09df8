# Sourced by scripts that need an S3 server: start SeaweedFS on free loopback ports (each port
# P also binds P+10000 for gRPC; both are kept below the kernel's ephemeral range when it
# leaves room, so that no connection takes one meanwhile) and wait until an object can be
# written and read. Sets WEED_PID and WEED_S3 (the endpoint URL); stop_weed kills it
# (SIGKILL: it takes 15 s to stop on SIGTERM) and removes its data.
#
#   start_weed WEED_BINARY

weed_ports() {
  python3 - <<'PY'
import socket, random
def free(p):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p)); return True
    except OSError:
        return False
    finally:
        s.close()
try:
    ephemeral = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
except (OSError, ValueError, IndexError):
    ephemeral = 32768
low, high = (10000, ephemeral - 10000) if ephemeral >= 21000 else (21000, 44000)
got = []
while len(got) < 4:
    p = random.randrange(low, high)
    # Neither port may be (next to) one already chosen, gRPC ports included.
    taken = [q + d for q in got for d in (0, 10000)]
    if all(abs(p + d - t) > 1 for t in taken for d in (0, 10000)) and free(p) and free(p + 10000):
        got.append(p)
print(*got)
PY
}

start_weed() {
  local bin="$1" s3 master volume filer
  read -r s3 master volume filer <<<"$(weed_ports)"
  WEED_DIR=$(mktemp -d)
  WEED_MASTER_VOLUME_GROWTH_COPY_1=1 "$bin" server -dir="$WEED_DIR" -ip=127.0.0.1 -ip.bind=127.0.0.1 \
    -s3 -s3.port="$s3" -master.port="$master" -volume.port="$volume" -filer.port="$filer" \
    -s3.port.iceberg=0 -s3.port.lance=0 -master.telemetry=false -master.resumeState=false \
    -volume.max=100 -volume.preStopSeconds=0 >"$WEED_DIR/weed.log" 2>&1 &
  WEED_PID=$!
  WEED_S3="http://127.0.0.1:$s3"
  for _ in $(seq 1 300); do
    curl -s -o /dev/null -X PUT "$WEED_S3/tessera-ready" || true
    if curl -sf -o /dev/null -X PUT --data-binary ok "$WEED_S3/tessera-ready/probe" \
       && [ "$(curl -sf "$WEED_S3/tessera-ready/probe")" = ok ]; then
      return 0
    fi
    sleep 0.2
  done
  echo "SeaweedFS did not become ready; its log:" >&2
  tail -40 "$WEED_DIR/weed.log" >&2
  return 1
}

stop_weed() {
  kill -9 "${WEED_PID:-}" 2>/dev/null || true
  wait "${WEED_PID:-}" 2>/dev/null || true
  rm -rf "${WEED_DIR:-}"
}

# For the S3 benchmarks (after lib-serve.sh): bench_setup, a SeaweedFS from
# scripts/setup-weed.sh started, its bucket BUCKET made, and everything stopped on exit.
bench_weed_bucket() {
  local weed
  weed=$(scripts/setup-weed.sh 2>/dev/null)
  bench_setup
  trap 'kill "${pids[@]}" 2>/dev/null || true; stop_weed; rm -rf "$work"' EXIT
  start_weed "$weed"
  curl -sf -o /dev/null -X PUT "$WEED_S3/$1"
}

# For the S3 benchmarks: starts `$bin --images IMAGES` on 127.0.0.1:PORT with the response
# cache and derivatives off, the store at ENDPOINT (default $WEED_S3; "" for the default), and
# each further SETTING line in its config; waits until WAIT_PATH answers. Needs $work, $pids.
bench_serve() { # PORT IMAGES WAIT_PATH [ENDPOINT] [SETTING...]
  local port=$1 images=$2 wait_path=$3 endpoint=${4:-$WEED_S3}
  shift 3; shift || true
  printf '%s\n' "derivative_min_pixels = 0" "cache_encoded_mb = 0" "$@" > "$work/$port.toml"
  AWS_ENDPOINT_URL="$endpoint" AWS_ALLOW_HTTP=true AWS_REGION=us-east-1 \
    AWS_ACCESS_KEY_ID=tessera AWS_SECRET_ACCESS_KEY=tessera-bench \
    "$bin" --images "$images" --bind "127.0.0.1:$port" --records "$work/none" \
    --config "$work/$port.toml" > "$work/$port.log" 2>&1 &
  pids+=($!)
  wait_for "http://127.0.0.1:$port$wait_path"
}
