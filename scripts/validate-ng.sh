#!/usr/bin/env bash
# Runs iiif-validator-ng 0.1.0 (PyPI; Image API 3.0 by default, 2.x with --v2) against a Tessera
# binary serving sample-images/ on a free loopback port, on the validator's own image
# 67352ccc-d1b0-11e1-89ae-279075081939. Prints every test result and a count; exits non-zero
# on any failure.
#
#   scripts/validate-ng.sh [TESSERA_BINARY] [2|3] [ARGS...]  (defaults: target/release/tessera, 2)
#
# ARGS go to scripts/validate_ng.py: `--all-angles` checks rot_full_non90's comparison at every
# integer angle instead of running the suite.
#
# 2 validates the Image API 2.1 service at /iiif (as --v2), 3 the 3.0 service at /iiif/3;
# VALIDATE_NG_PATH overrides that path (e.g. /iiif/2). Tests that draw random values
# (rotations, regions, sizes) use VALIDATE_NG_SEED if set, else a fresh seed that is printed,
# so a failure can be replayed (each test is seeded from it by name).
#
# VALIDATE_NG_KNOWN="MODULE[:TEXT] ..." reports failures of those tests (whose message contains
# TEXT) as KNOWN without failing the run; notes/validator-ng.md says why each one fails.
#
# Installs what it needs: the pinned packages of scripts/validator-ng-requirements.txt into
# target/validator-ng-venv (Python 3.12, from pyenv if present), and Debian's libvips42 (pyvips
# loads it; the validator builds its reference images with libvips) when it is missing.
# scripts/validate_ng.py drives the validator's library (its own CLI prints only failures and
# always exits 0).
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-target/release/tessera}"
version="${2:-2}"
shift $(( $# < 2 ? $# : 2 ))
case "$version" in
  2) path="${VALIDATE_NG_PATH:-/iiif}"; flags=(--v2) ;;
  3) path="${VALIDATE_NG_PATH:-/iiif/3}"; flags=() ;;
  *) echo "usage: scripts/validate-ng.sh [TESSERA_BINARY] [2|3]" >&2; exit 2 ;;
esac
venv=target/validator-ng-venv
id=67352ccc-d1b0-11e1-89ae-279075081939

if ! ldconfig -p 2>/dev/null | grep -q 'libvips\.so\.42'; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libvips42 >/dev/null
  else
    echo "validate-ng: libvips is missing; install it (Debian: apt-get install libvips42)" >&2
    exit 1
  fi
fi
if ! "$venv/bin/python" -c "import iiif_validator.validate, pyvips; pyvips.Image.black(1, 1)" 2>/dev/null \
  || ! cmp -s scripts/validator-ng-requirements.txt "$venv/requirements.txt"; then
  py=""
  for cand in "env PYENV_VERSION=3.12.1 python3.12" python3.12 python3.13 python3; do
    if $cand -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then py="$cand"; break; fi
  done
  [ -n "$py" ] || { echo "validate-ng: Python >= 3.12 is needed (pyenv install 3.12.1)" >&2; exit 1; }
  rm -rf "$venv"
  $py -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r scripts/validator-ng-requirements.txt
  cp scripts/validator-ng-requirements.txt "$venv/requirements.txt"
fi

. scripts/lib-serve.sh
trap stop_tessera EXIT
start_tessera "$bin" "$path/$id/info.json" --images sample-images
seed="${VALIDATE_NG_SEED:-$RANDOM$RANDOM}"
echo "iiif-validator-ng 0.1.0 on http://127.0.0.1:$PORT$path (Image API $version, seed $seed)"
for k in ${VALIDATE_NG_KNOWN:-}; do flags+=(--known "$k"); done
flags+=("$@")
"$venv/bin/python" scripts/validate_ng.py "${flags[@]}" --id "$id" --seed "$seed" \
  "http://127.0.0.1:$PORT$path"
