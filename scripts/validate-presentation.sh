#!/usr/bin/env bash
# Serves the sample images and records with a Tessera binary and validates every collection
# page and manifest with the official IIIF Presentation 2.1 reader (scripts/validate_presentation.py),
# first as an anonymous caller, then with a privileged API key.
#
#   scripts/validate-presentation.sh [path/to/tessera]     (default: target/release/tessera)
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-target/release/tessera}"
venv=target/conformance-venv
scripts/setup-conformance.sh "$venv" >/dev/null

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
tmp=$(mktemp -d)
key="ci-staff-$(date +%s%N)"
cat >"$tmp/tessera.toml" <<TOML
[[api_keys]]
key = "$key"
privileged = true
name = "ci"
TOML
"$bin" serve --config "$tmp/tessera.toml" --bind "127.0.0.1:$port" --images sample-images --records manifests >"$tmp/log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$tmp"' EXIT
for _ in $(seq 1 100); do
  python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/collections/top', timeout=1)" 2>/dev/null && break
  sleep 0.1
done
"$venv/bin/python" scripts/validate_presentation.py "http://127.0.0.1:$port"
"$venv/bin/python" scripts/validate_presentation.py "http://127.0.0.1:$port" "$key"
