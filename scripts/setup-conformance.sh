#!/usr/bin/env bash
# Installs the external conformance checkers into a venv: the official IIIF Image API
# validator (PyPI iiif-validator 1.0.5) and the IIIF Presentation library (iiif-prezi 0.3.0).
#
#   scripts/setup-conformance.sh [VENV_DIR]     (default: target/conformance-venv)
#
# Needs python3 with venv, and libmagic1 (python-magic loads it at import time; without it no
# validator test can run). On Debian, as root, it installs libmagic1 if it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${1:-target/conformance-venv}"

if ! ldconfig -p 2>/dev/null | grep -q 'libmagic\.so\.1'; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && apt-get install -y -qq --no-install-recommends libmagic1 >/dev/null
  else
    echo "setup-conformance: libmagic1 is missing; install it (Debian: apt-get install libmagic1)" >&2
    exit 1
  fi
fi
if ! "$venv/bin/python" -c "import iiif_prezi, iiif_validator, pyld" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r scripts/conformance-requirements.txt
fi
"$venv/bin/iiif-validate.py" --help >/dev/null
echo "setup-conformance: $venv is ready"
