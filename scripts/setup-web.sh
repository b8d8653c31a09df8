#!/usr/bin/env bash
# Installs the collection browser's third-party code: the npm packages pinned in
# web/package-lock.json (OpenSeadragon, BSD-3-Clause) into web/node_modules/, which git ignores.
# `tessera serve`, started in this folder, then serves OpenSeadragon itself at
# /static/openseadragon/ (the viewer_assets setting names the folder); without it, object
# pages load the same pinned version from jsDelivr, with its Subresource Integrity hash.
# Needs node and npm, and npm's registry or a cache that holds the package.
#
#   scripts/setup-web.sh
set -euo pipefail
cd "$(dirname "$0")/.."
command -v npm >/dev/null || { echo "setup-web: node and npm are needed" >&2; exit 1; }
. scripts/lib-browser.sh
npm_install web
osd=web/node_modules/openseadragon
echo "setup-web: OpenSeadragon $(node -p "require('./$osd/package.json').version") installed in $osd/build/openseadragon/"
