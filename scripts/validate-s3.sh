#!/usr/bin/env bash
# The official Image API validator (as scripts/validate.sh) against a Tessera whose images are
# in an S3 bucket: SeaweedFS on loopback, sample-images/ copied to s3://masters/iiif, the
# server given `--images s3://masters/iiif` and the standard AWS_* variables.
#
#   scripts/validate-s3.sh [path/to/tessera] [2|3]
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-target/release/tessera}"
version="${2:-2}"
weed=$(scripts/setup-weed.sh)
. scripts/lib-weed.sh
trap stop_weed EXIT
start_weed "$weed"
curl -sf -o /dev/null -X PUT "$WEED_S3/masters"
n=0
for f in sample-images/*; do
  [ -f "$f" ] || continue
  curl -sf -o /dev/null -X PUT -T "$f" "$WEED_S3/masters/iiif/$(basename "$f")"
  n=$((n + 1))
done
echo "validate-s3: $n sample images in s3://masters/iiif at $WEED_S3"
AWS_ENDPOINT_URL="$WEED_S3" AWS_ALLOW_HTTP=true AWS_REGION=us-east-1 \
  AWS_ACCESS_KEY_ID=tessera AWS_SECRET_ACCESS_KEY=tessera-ci \
  VALIDATE_IMAGES=s3://masters/iiif scripts/validate.sh "$bin" "$version"
