#!/usr/bin/env bash
# Issue 16's metrics check: a release server over the samples answers a few requests of every
# route family, then `promtool check metrics` (Debian package prometheus) lints its /metrics,
# and /healthz and /readyz answer 200. Installs promtool when missing.
#
#   scripts/check-metrics.sh [TESSERA_BINARY]      (default target/release/tessera)
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$(realpath "${1:-target/release/tessera}")"
if ! command -v promtool >/dev/null; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends prometheus >/dev/null
  # The package may start a Prometheus service; this check needs only promtool.
  $SUDO systemctl stop prometheus 2>/dev/null || pkill -x prometheus 2>/dev/null || true
fi
. scripts/lib-serve.sh
trap stop_tessera EXIT
start_tessera "$bin" /healthz --images sample-images --records manifests
base="http://127.0.0.1:$PORT"
for path in / /healthz /readyz /collections/top /manifests/object/300001 \
    /iiif/mosaic-six-photos/info.json /iiif/mosaic-six-photos/full/200,/0/default.jpg \
    /iiif/mosaic-six-photos/full/200,/0/default.jpg /iiif/no-such-image/info.json; do
  code=$(curl -s -o /dev/null -w '%{http_code}' "$base$path")
  echo "$code $path"
done
for probe in healthz readyz; do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "$base/$probe")" = 200 ] || { echo "/$probe is not 200" >&2; exit 1; }
done
metrics=$(mktemp)
curl -sf "$base/metrics" > "$metrics"
promtool check metrics < "$metrics"
echo "promtool check metrics: passed ($(grep -vc '^#' "$metrics") samples)"
grep -E '^tessera_requests_total\{family="image",class="2xx"\} 2$' "$metrics" >/dev/null \
  || { echo "two image requests were not counted as two:" >&2; grep requests_total "$metrics" >&2; exit 1; }
rm -f "$metrics"
