#!/usr/bin/env bash
# Issue 7 soak: mixed traffic on loopback against a release build serving the sample images
# and records. 80% tiles (every tile of three sample photos, in OpenSeadragon's URLs), 10%
# info.json, 5% manifests and collections, 5% junk and hostile URLs (traversal in several
# encodings, bad parameters, restricted images, an overlong URI); 64 connections.
#
#   scripts/soak.sh [SECONDS] [CONNECTIONS] [TESSERA_BINARY]     (default 600 64 target/release/tessera)
#
# Passes when: no 5xx other than 503; no more 4xx answers than junk requests sent; resident
# memory grows by less than 5% from the end of the warm-up (the first fifth) to the end;
# open file descriptors are stable (within 8); p99 latency is under 200 ms. Loopback only.
# Needs python3; installs Debian's wrk when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-600}"; conns="${2:-64}"; bin="$(realpath "${3:-target/release/tessera}")"
if ! command -v wrk >/dev/null; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends wrk
fi
tmp=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
RUST_LOG=warn "$bin" --images sample-images --records manifests --bind "127.0.0.1:$port" \
  > "$tmp/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$tmp"' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/iiif/mosaic-six-photos/info.json" >/dev/null && break; sleep 0.1; done
python3 - "http://127.0.0.1:$port" "$tmp" <<'PY'
import json, random, sys, urllib.request
base, tmp = sys.argv[1], sys.argv[2]
ids = ["mosaic-six-photos", "landscape-lake-boats", "portrait-forest-path",
       "urn-3:HUAM:BOATS0001_dynmc", "alpha-ladybird", "67352ccc-d1b0-11e1-89ae-279075081939"]
tiles = []
for id in ids[:3]:
    info = json.load(urllib.request.urlopen(f"{base}/iiif/{id}/info.json"))
    W, H = info["width"], info["height"]
    for s in info["tiles"][0]["scaleFactors"]:
        span = 256 * s
        for y in range(0, H, span):
            for x in range(0, W, span):
                w, h = min(span, W - x), min(span, H - y)
                region = "full" if (x, y, w, h) == (0, 0, W, H) else f"{x},{y},{w},{h}"
                tiles.append(f"/iiif/{id}/{region}/{-(-w // s)},/0/default.jpg")
random.Random(7).shuffle(tiles)
infos = [f"/iiif/{id}/info.json" for id in ids]
docs = [f"/manifests/object/{n}" for n in (300001, 300002, 300003, 300006)] + ["/collections/top"]
junk = ["/iiif/../../etc/passwd", "/iiif/%2e%2e%2f%2e%2e%2fetc%2fpasswd/info.json",
        "/iiif/%252e%252e/info.json", "/iiif/..%2f..%2fetc/info.json", "/iiif/a%5c..%5cb/info.json",
        "/iiif/%c0%ae%c0%ae/info.json", "/iiif/x%00y/info.json", "/iiif/nope/info.json",
        "/iiif/mosaic-six-photos/full/0,0/0/default.jpg", "/iiif/mosaic-six-photos/full/99999,/0/default.jpg",
        "/iiif/mosaic-six-photos/1,2,3/full/0/default.jpg", "/iiif/mosaic-six-photos/full/full/abc/default.jpg",
        "/iiif/mosaic-six-photos/full/full/0/default.bmp", "/iiif/[frob]/info.json",
        "/iiif/gray-foggy-pier/full/200,/0/default.jpg", "/iiif/small-garden/info.json",
        "/iiif/alpha-ladybird/full/max/0/default.png", "/manifests/object/999999",
        "/iiif/" + "a" * 5000 + "/info.json"]
# One cycle of 100 requests: 80 tiles, 10 info.json, 5 documents, 5 junk.
plan = ["t"] * 80 + ["i"] * 10 + ["d"] * 5 + ["j"] * 5
random.Random(3).shuffle(plan)
with open(f"{tmp}/lists.lua", "w") as f:
    for name, xs in (("tiles", tiles), ("infos", infos), ("docs", docs), ("junk", junk), ("plan", plan)):
        f.write(f"{name} = {{" + ",".join(json.dumps(x) for x in xs) + "}\n")
print(f"{len(tiles)} tiles, {len(infos)} info.json, {len(docs)} documents, {len(junk)} junk URLs", file=sys.stderr)
PY
cat > "$tmp/soak.lua" <<LUA
dofile("$tmp/lists.lua")
local threads = {}
setup = function(thread) table.insert(threads, thread) end
init = function(args) n = 0; sent_junk = 0; s2 = 0; s4 = 0; s503 = 0; s5 = 0; other = 0 end
request = function()
  n = n + 1
  local kind = plan[(n % #plan) + 1]
  local list = kind == "t" and tiles or kind == "i" and infos or kind == "d" and docs or junk
  if kind == "j" then sent_junk = sent_junk + 1 end
  return wrk.format("GET", list[(n % #list) + 1])
end
response = function(status, headers, body)
  if status < 400 then s2 = s2 + 1
  elseif status == 503 then s503 = s503 + 1
  elseif status < 500 then s4 = s4 + 1
  elseif status >= 500 then s5 = s5 + 1
  else other = other + 1 end
end
done = function(summary, latency, requests)
  local t = {sent_junk = 0, s2 = 0, s4 = 0, s503 = 0, s5 = 0}
  for _, th in ipairs(threads) do
    for k, _ in pairs(t) do t[k] = t[k] + th:get(k) end
  end
  io.write(string.format("requests %d  req/s %.0f  p50 %.2f ms  p99 %.2f ms  2xx/3xx %d  4xx %d  503 %d  other 5xx %d  junk sent %d  socket errors %d\n",
    summary.requests, summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, t.s2, t.s4, t.s503, t.s5, t.sent_junk,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
  io.write(string.format("KV p99=%.3f s4=%d s503=%d s5=%d junk=%d sockerr=%d\n",
    latency:percentile(99) / 1000, t.s4, t.s503, t.s5, t.sent_junk,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
LUA
rss() { awk '/VmRSS/ {print $2}' "/proc/$pid/status"; }
fds() { ls "/proc/$pid/fd" | wc -l; }
wrk -t2 -c"$conns" -d"${secs}s" --timeout 10s --latency -s "$tmp/soak.lua" "http://127.0.0.1:$port" \
  > "$tmp/wrk.txt" 2>&1 &
wrk_pid=$!
warm=$(( secs / 5 )); [ "$warm" -ge 1 ] || warm=1
# Bounded: at most secs + 30 one-second samples.
samples=0
while kill -0 "$wrk_pid" 2>/dev/null && [ "$samples" -lt $(( secs + 30 )) ]; do
  if [ "$samples" -eq "$warm" ]; then rss0=$(rss); fd0=$(fds); fi
  rss1=$(rss); fd1=$(fds); samples=$((samples + 1)); sleep 1
done
wait "$wrk_pid"
grep -v '^KV' "$tmp/wrk.txt" | tail -n 1
line=$(grep '^KV' "$tmp/wrk.txt")
echo "resident memory: ${rss0} KiB after warm-up, ${rss1} KiB at the end; open fds: ${fd0} -> ${fd1}"
python3 - "$line" "$rss0" "$rss1" "$fd0" "$fd1" <<'PY'
import re, sys
line, rss0, rss1, fd0, fd1 = sys.argv[1], *map(int, sys.argv[2:])
v = {k: float(x) for k, x in re.findall(r"(\w+)=([0-9.]+)", line)}
get = lambda k: v[k]
fails = []
if get("s5") > 0: fails.append("5xx answers other than 503")
if get("s4") > get("junk"): fails.append("more 4xx than junk requests")
if get("sockerr") > 0: fails.append("socket errors")
growth = (rss1 - rss0) / rss0 * 100
if growth >= 5: fails.append(f"memory grew {growth:.1f}%")
if abs(fd1 - fd0) > 8: fails.append(f"open fds moved from {fd0} to {fd1}")
if get("p99") >= 200: fails.append("p99 over 200 ms")
print(f"memory growth {growth:+.2f}%; " + ("PASS" if not fails else "FAIL: " + "; ".join(fails)))
sys.exit(1 if fails else 0)
PY
