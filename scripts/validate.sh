#!/usr/bin/env bash
# Runs the official IIIF Image API validator, all 42 tests (--version=2.0 --level 3), against a
# Tessera release binary serving sample-images/ on a free loopback port.
#
#   scripts/validate.sh [path/to/tessera]     (default: target/release/tessera)
#
# Under Python 3, iiif-validator 1.0.5's format_jp2, format_pdf and format_webp crash inside the
# validator itself (they call urllib.urlopen) whatever the server does; Tessera proves those
# formats in tests/integration/image_api.rs instead. This script fails unless every other test passes.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-target/release/tessera}"
venv=target/conformance-venv
scripts/setup-conformance.sh "$venv" >/dev/null

id=67352ccc-d1b0-11e1-89ae-279075081939
. scripts/lib-serve.sh
trap stop_tessera EXIT
start_tessera "$bin" "/iiif/$id/info.json" --images sample-images
port=$PORT

out=$("$venv/bin/iiif-validate.py" -s "127.0.0.1:$port" -p iiif -i "$id" --version=2.0 --level 3 2>&1 || true)
echo "$out" | grep -E '^\[[0-9]+\] test ' || true
failed=$(echo "$out" | sed -n 's/^\[[0-9]*\] test \([a-z0-9_]*\) FAIL$/\1/p' | sort | tr '\n' ' ')
passed=$(echo "$out" | grep -c ' PASS$' || true)
total=$(echo "$out" | sed -n 's/^Done (\([0-9]*\) tests.*/\1/p')
echo "iiif-validator: $passed of ${total:-?} tests pass; failing: ${failed:-none}"
expected="format_jp2 format_pdf format_webp "
if [ "$failed" != "$expected" ] || [ "$total" != 42 ] || [ "$passed" != 39 ]; then
  echo "$out" | grep -vE ' PASS$' >&2
  echo "iiif-validator: FAILED (expected 39 passing, and only the three known-broken tests failing)" >&2
  exit 1
fi
echo "iiif-validator: OK (the three failures are the validator's own Python 3 crashes)"
