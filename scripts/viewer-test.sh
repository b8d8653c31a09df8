#!/usr/bin/env bash
# Issue 6's viewer test: `tessera tiles` cuts a static level 0 tree of a sample photograph (2.1,
# then 3.0 with --api 3), a
# plain static file server (loopback) serves it, and OpenSeadragon opens it in headless
# Chromium (Debian's chromium, driven by playwright-core). Screenshots go to
# target/viewer/. Installs what it needs: Debian's chromium, and the npm packages pinned in
# tests/viewer/package-lock.json.
#
#   scripts/viewer-test.sh [TESSERA_BINARY]      (default target/release/tessera)
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$(realpath "${1:-target/release/tessera}")"
. scripts/lib-browser.sh
need_chromium_and_node viewer-test
npm_install tests/viewer
mkdir -p target/viewer
node tests/viewer/osd-test.mjs "$bin" sample-images/landscape-lake-boats.jpg "$(realpath target/viewer)"
# The same with an Image API 3.0 tree (`tessera tiles --api 3`).
TILES_API=3 node tests/viewer/osd-test.mjs "$bin" sample-images/landscape-lake-boats.jpg "$(realpath target/viewer)"
