#!/usr/bin/env bash
# Load test for any IIIF Image API 2 service: fetch its info.json, list every tile at every
# scale factor exactly as OpenSeadragon requests it (x,y,w,h/w,/0/default.jpg, Appendix A
# arithmetic), shuffle, and run wrk over the list (each URL once per pass, in that order).
#
#   scripts/loadtest.sh IMAGE_BASE_URL [SECONDS] [CONNECTIONS] [THREADS]
#   e.g. scripts/loadtest.sh http://127.0.0.1:8080/iiif/mosaic-six-photos 30 16 2
#
# MIX=thumbs asks instead for 200 different thumbnails of the whole image (full/!N,N/0/
# default.jpg for N = 200..399), cycled: the issue-5 thumbnail mix.
#
# API=3 spells the tiles as OpenSeadragon does for an Image API 3.0 service (x,y,w,h/w,h/0/
# default.jpg, and full/max/… for the whole image at full size); give a 3.0 base URL
# (e.g. http://127.0.0.1:8080/iiif/3/mosaic-six-photos).
#
# The same command runs against Tessera and against any anchor (IIPImage, nginx serving a
# static `--layout iiif` tree, iiif-processor), so their figures compare. Loopback only.
# Needs: wrk (Debian package wrk), python3.
set -euo pipefail
base="${1:?usage: loadtest.sh IMAGE_BASE_URL [SECONDS] [CONNECTIONS] [THREADS]}"
secs="${2:-30}"; conns="${3:-16}"; threads="${4:-2}"
case "$base" in
  http://127.*|http://localhost*|http://\[::1\]*) ;;
  *) echo "loadtest.sh: only loopback targets are allowed" >&2; exit 2 ;;
esac
command -v wrk >/dev/null || { echo "loadtest.sh: apt-get install wrk" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 - "$base" "$tmp/paths.txt" "${MIX:-tiles}" "${API:-2}" <<'PY'
import json, random, sys, urllib.parse, urllib.request
base, out, mix, api = sys.argv[1].rstrip("/"), sys.argv[2], sys.argv[3], sys.argv[4]
info = json.load(urllib.request.urlopen(base + "/info.json", timeout=30))
W, H = info["width"], info["height"]
tiles = info.get("tiles") or [{"width": 256, "scaleFactors": [1]}]
path = urllib.parse.urlparse(base).path
urls = []
for t in tiles:
    tw = t["width"]; th = t.get("height", tw)
    for s in t["scaleFactors"]:
        for yr in range(0, H, th * s):
            for xr in range(0, W, tw * s):
                wr, hr = min(tw * s, W - xr), min(th * s, H - yr)
                ws, hs = (wr + s - 1) // s, (hr + s - 1) // s
                region = "full" if (xr, yr, wr, hr) == (0, 0, W, H) else f"{xr},{yr},{wr},{hr}"
                if api == "3":
                    size = "max" if (region, ws, hs) == ("full", W, H) else f"{ws},{hs}"
                else:
                    size = f"{ws},"
                urls.append(f"{path}/{region}/{size}/0/default.jpg")
random.Random(42).shuffle(urls)
if mix == "thumbs":
    urls = [f"{path}/full/!{n},{n}/0/default.jpg" for n in range(200, 400)]
open(out, "w").write("\n".join(urls) + "\n")
print(f"{mix}: {len(urls)} URLs for {W}x{H} ({len(tiles[0]['scaleFactors'])} scale factors)", file=sys.stderr)
PY
cat > "$tmp/tiles.lua" <<LUA
local paths = {}
for line in io.lines("$tmp/paths.txt") do paths[#paths + 1] = line end
local threads, id, counter = $threads, 0, 0
local made = 0
setup = function(thread)
  thread:set("id", made)
  made = made + 1
end
init = function(args)
  counter = 0
end
-- Thread k requests paths k, k + threads, k + 2*threads, ...: no URL is asked twice in a pass.
request = function()
  local i = (counter * threads + id) % #paths
  counter = counter + 1
  return wrk.format("GET", paths[i + 1])
end
done = function(summary, latency, requests)
  io.write(string.format("requests/s %.0f  p50 %.2f ms  p99 %.2f ms  errors(non-2xx/3xx) %d  socket errors %d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
LUA
origin=$(python3 -c "import sys,urllib.parse as u; p=u.urlparse(sys.argv[1]); print(f'{p.scheme}://{p.netloc}')" "$base")
wrk -t"$threads" -c"$conns" -d"${secs}s" --latency -s "$tmp/tiles.lua" "$origin" | tail -n 1
