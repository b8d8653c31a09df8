#!/usr/bin/env bash
# Real IIIF viewers on Tessera's 3.0 services, in headless Chromium (Debian's chromium, driven by
# playwright-core): Mirador 4 and Clover open the Presentation 3.0 manifest of a sample object,
# and OpenSeadragon opens the Image API 3.0 info.json of its first image. Each must draw the
# image's tiles: a screenshot of the viewer must match the source image, and OpenSeadragon
# zoomed to full resolution must match the source's crop from scale-factor-1 tiles (see
# tests/viewer/viewer3-test.mjs). Screenshots go to target/viewer/. Installs what it needs:
# Debian's chromium, and the npm packages pinned in tests/viewer/package-lock.json.
#
#   scripts/viewer3-test.sh [TESSERA_BINARY]      (default target/release/tessera)
#
# VIEWER3_MANIFEST and VIEWER3_INFO override the two URL paths (on Tessera); VIEWER3_MANIFEST=static
# makes the test serve a hand-made 3.0 manifest over the image service of VIEWER3_INFO, e.g.
#   VIEWER3_MANIFEST=static VIEWER3_INFO=/iiif/landscape-lake-boats/info.json scripts/viewer3-test.sh
# (the 2.1 service, as ImageService2).
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$(realpath "${1:-target/release/tessera}")"
# Sample object 300001 (manifests/300001.json); its first canvas is landscape-lake-boats.
object=300001
image=landscape-lake-boats
manifest_path="${VIEWER3_MANIFEST:-/manifests/3/object/$object}"
info_path="${VIEWER3_INFO:-/iiif/3/$image/info.json}"

. scripts/lib-browser.sh
need_chromium_and_node viewer3-test
# Installs only when node_modules differs from the lock: scripts/viewer-test.sh and
# scripts/browser-test.sh install the same tree.
npm_install tests/viewer
mkdir -p target/viewer

. scripts/lib-serve.sh
trap stop_tessera EXIT
start_tessera "$bin" "$info_path" --images sample-images --records manifests
tessera="http://127.0.0.1:$PORT"
if [ "$manifest_path" = static ]; then manifest=static; else manifest="$tessera$manifest_path"; fi
node tests/viewer/viewer3-test.mjs --tessera "$tessera" --manifest "$manifest" --info "$tessera$info_path" \
  --source "sample-images/$image.jpg" --work "$(realpath target/viewer)"
