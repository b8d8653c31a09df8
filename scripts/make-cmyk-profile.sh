#!/usr/bin/env bash
# Rebuilds src/source/profiles/default-cmyk.icc: a FOGRA39 CMYK profile made with ArgyllCMS
# from the Zlib-licensed characterisation data FOGRA39L.ti3 (Debian package icc-profiles-free).
# Needs Debian packages: argyll, icc-profiles-free (apt-get install argyll icc-profiles-free).
set -euo pipefail
cd "$(dirname "$0")/.."
ti3=/usr/share/color/icc/FOGRA39L.ti3
[ -f "$ti3" ] || { echo "missing $ti3: apt-get install icc-profiles-free" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$ti3" "$tmp/FOGRA39L.ti3"
(cd "$tmp" && colprof -qm -b n \
  -D "Tessera CMYK (FOGRA39, ISO 12647-2:2004), built from FOGRA39L.ti3" \
  -C "Built with ArgyllCMS colprof from FOGRA39L.ti3 (c) Kai-Uwe Behrmann, Zlib licence" FOGRA39L)
cp "$tmp/FOGRA39L.icc" src/source/profiles/default-cmyk.icc
ls -l src/source/profiles/default-cmyk.icc
