#!/usr/bin/env bash
# The collection browser (GET / and /objects/{key}) in headless Chromium (Debian's chromium,
# driven by playwright-core, pinned in tests/viewer/package-lock.json): the grid with its
# thumbnails, an object's page and its OpenSeadragon viewer drawing tiles (checked by
# screenshot pixels), a limited image's viewer asking for nothing over 256 px, the search box,
# and the grid and metadata with JavaScript off (see tests/viewer/browser-test.mjs).
# Screenshots go to target/viewer/browser-*.png.
#
# The server serves the INSTALLED OpenSeadragon (scripts/setup-web.sh runs first; CI has no
# internet), and the Subresource Integrity hash the pages give the jsDelivr copy is checked
# against the installed file, which jsDelivr serves byte for byte.
#
#   scripts/browser-test.sh [TESSERA_BINARY]      (default target/release/tessera)
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$(realpath "${1:-target/release/tessera}")"
. scripts/lib-browser.sh
need_chromium_and_node browser-test
scripts/setup-web.sh
npm_install tests/viewer

osd=web/node_modules/openseadragon/build/openseadragon/openseadragon.min.js
want=$(grep -o 'sha384-[A-Za-z0-9+/=]*' src/browse/assets.rs | head -1)
got="sha384-$(openssl dgst -sha384 -binary "$osd" | base64 -w0)"
if [ "$want" != "$got" ]; then
  echo "browser-test: src/browse/assets.rs gives $want, but $osd is $got" >&2
  exit 1
fi
echo "browser-test: the pages' integrity hash is the installed openseadragon.min.js's ($got)"

mkdir -p target/viewer
. scripts/lib-serve.sh
trap stop_tessera EXIT
start_tessera "$bin" / --images sample-images --records manifests
node tests/viewer/browser-test.mjs --tessera "http://127.0.0.1:$PORT" --work "$(realpath target/viewer)"
