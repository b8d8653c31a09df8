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

tmp=$(mktemp -d)
key="ci-staff-$(date +%s%N)"
cat >"$tmp/tessera.toml" <<TOML
[[api_keys]]
key = "$key"
privileged = true
name = "ci"
TOML
. scripts/lib-serve.sh
trap 'stop_tessera; rm -rf "$tmp"' EXIT
start_tessera "$bin" /collections/top --config "$tmp/tessera.toml" --images sample-images --records manifests
port=$PORT
"$venv/bin/python" scripts/validate_presentation.py "http://127.0.0.1:$port"
"$venv/bin/python" scripts/validate_presentation.py "http://127.0.0.1:$port" "$key"
