#!/usr/bin/env bash
# Serves the sample images and records with a Tessera binary and validates every Presentation
# 3.0 collection, manifest, canvas, annotation page and annotation it serves against the IIIF
# Presentation 3.0 JSON Schema (scripts/validate_presentation3.py), first as an anonymous
# caller, then with a privileged API key.
#
#   scripts/validate-presentation3.sh [path/to/tessera]     (default: target/release/tessera)
#
# The schema is the team's shared copy, ../shared/conformance/iiif-presentation-3.0.schema.json
# beside the repository (CI lays shared/ beside its clone); a clone without it uses the copy in
# tests/fixtures/conformance/ (see the README there).
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-target/release/tessera}"
schema=../shared/conformance/iiif-presentation-3.0.schema.json
if [ ! -f "$schema" ]; then
  schema=tests/fixtures/conformance/iiif-presentation-3.0.schema.json
fi
echo "schema: $schema ($(sha256sum "$schema" | cut -c1-16))"

venv=target/presentation3-venv
python="${PYTHON:-python3}"
if ! "$venv/bin/python" -c "import jsonschema, rfc3986_validator" 2>/dev/null; then
  "$python" -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r scripts/presentation3-requirements.txt
fi

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
start_tessera "$bin" /collections/3/top --config "$tmp/tessera.toml" --images sample-images --records manifests
url="http://127.0.0.1:$PORT"
"$venv/bin/python" scripts/validate_presentation3.py --schema "$schema" "$url"
"$venv/bin/python" scripts/validate_presentation3.py --schema "$schema" "$url" "$key"
