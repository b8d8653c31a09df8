#!/usr/bin/env bash
# make-fixtures.sh — regenerate the synthetic test images in tests/fixtures/ and check them.
#
# Every fixture shows the same 400x300 pattern: a 4 x 3 grid of solid 100x100 blocks.
# Block colours in row-major order (the block at column c, row r has index r*4 + c):
#   0 red FF0000      1 green 00FF00   2 blue 0000FF    3 yellow FFFF00
#   4 magenta FF00FF  5 cyan 00FFFF    6 white FFFFFF   7 black 000000
#   8 gray 808080     9 orange FF8000 10 purple 8000FF 11 teal 008080
# 16-bit files store each 8-bit value v as v*257 (FF -> FFFF, 80 -> 8080), so both v16>>8 and
# round(v16/257) give back v. Gray files store the BT.601 luma of each block,
# round(0.299 R + 0.587 G + 0.114 B). tests/fixtures/README.md lists the exact values.
#
# Tools (Debian 12 package / PyPI package):
#   python3 with Pillow, numpy and tifffile   Debian: python3-pil python3-numpy python3-tifffile
#                                              PyPI:   pillow numpy tifffile
#                                              (made with Pillow 13.0.0, numpy 2.4.6, tifffile 2026.3.3)
#   tiffcp, tiffinfo                           Debian: libtiff-tools (libtiff 4.5.0)
#   identify (optional, extra check)           Debian: imagemagick (/usr/bin/identify)
# Example:
#   apt-get install -y --no-install-recommends libtiff-tools imagemagick
#   python3 -m venv /tmp/fxvenv && /tmp/fxvenv/bin/pip install pillow numpy tifffile
#   PYTHON=/tmp/fxvenv/bin/python scripts/make-fixtures.sh
#
# Pillow writes the PNG and JPEG files (except grid16.png, which is written by a tiny built-in
# PNG encoder because Pillow cannot write 16-bit RGB PNG). tifffile writes uncompressed
# intermediate TIFFs, and libtiff's tiffcp gives them their final layout and compression:
# LZW or Adobe Deflate, no predictor. The pure-Rust `tiff` crate decodes both.
# At the end the script decodes every file again and checks its pixels and structure.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
out="${OUT_DIR:-$repo/tests/fixtures}"
PYTHON="${PYTHON:-python3}"

for tool in tiffcp tiffinfo; do
  command -v "$tool" >/dev/null || { echo "need $tool (apt-get install libtiff-tools)" >&2; exit 1; }
done
"$PYTHON" -c 'import PIL, numpy, tifffile' 2>/dev/null || {
  echo "$PYTHON lacks Pillow/numpy/tifffile (pip install pillow numpy tifffile," >&2
  echo "or apt-get install python3-pil python3-numpy python3-tifffile); set PYTHON" >&2
  exit 1
}

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"

# ---------------------------------------------------------------- generate PNG / JPEG / raw TIFF
OUT="$out" TMP="$tmp" "$PYTHON" - <<'PY'
import os, struct, zlib
import numpy as np
import tifffile
from PIL import Image

out, tmp = os.environ["OUT"], os.environ["TMP"]
W, H, B = 400, 300, 100
COLOURS = [0xFF0000, 0x00FF00, 0x0000FF, 0xFFFF00, 0xFF00FF, 0x00FFFF,
           0xFFFFFF, 0x000000, 0x808080, 0xFF8000, 0x8000FF, 0x008080]
rgb_list = [((c >> 16) & 255, (c >> 8) & 255, c & 255) for c in COLOURS]

idx = np.zeros((H, W), np.uint8)                  # palette index of every pixel
for i in range(12):
    r, c = divmod(i, 4)
    idx[r * B:(r + 1) * B, c * B:(c + 1) * B] = i
pal = np.array(rgb_list, np.uint8)
rgb8 = pal[idx]                                    # (H, W, 3) uint8
rgb16 = rgb8.astype(np.uint16) * 257               # exact widening
luma_pal = np.array([round(0.299 * r + 0.587 * g + 0.114 * b) for r, g, b in rgb_list], np.uint8)
gray8 = luma_pal[idx]
alpha = np.full((H, W), 255, np.uint8)
alpha[:, W // 2:] = 128                            # left half 255, right half 128

Image.fromarray(rgb8, "RGB").save(f"{out}/grid.png", optimize=True)
Image.fromarray(gray8, "L").save(f"{out}/grid-gray.png", optimize=True)
p = Image.fromarray(idx, "P")
p.putpalette(pal.flatten().tolist())               # exactly 12 palette entries
p.save(f"{out}/grid-palette.png", bits=4, optimize=False)   # 4-bit indexed PNG
Image.fromarray(np.dstack([rgb8, alpha]), "RGBA").save(f"{out}/grid-alpha.png", optimize=True)
Image.fromarray(np.dstack([gray8, alpha]), "LA").save(f"{out}/grid-gray-alpha.png", optimize=True)

def png16_rgb(path, a):
    """Minimal 16-bit RGB PNG writer (colour type 2, bit depth 16, filter 0, no interlace)."""
    h, w, _ = a.shape
    rows = a.astype(">u2").reshape(h, w * 3).view(np.uint8).reshape(h, w * 6)
    raw = np.hstack([np.zeros((h, 1), np.uint8), rows]).tobytes()
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    data = (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9))
            + chunk(b"IEND", b""))
    with open(path, "wb") as f:
        f.write(data)
png16_rgb(f"{out}/grid16.png", rgb16)

im = Image.fromarray(rgb8, "RGB")
im.save(f"{out}/grid.jpg", quality=95, subsampling="4:2:0", optimize=False, progressive=False)
im.save(f"{out}/grid-progressive.jpg", quality=95, subsampling="4:4:4", progressive=True)
Image.fromarray(gray8, "L").save(f"{out}/grid-gray.jpg", quality=95, optimize=False)

# uncompressed single-strip intermediates; tiffcp sets the final layout/compression
for name, a in (("rgb8", rgb8), ("rgb16", rgb16)):
    tifffile.imwrite(f"{tmp}/{name}.tif", a, photometric="rgb", planarconfig="contig",
                     compression=None, metadata=None, software="")
PY

# ---------------------------------------------------------------- TIFF layout + compression
# Strip files: 16 rows per strip, so 19 strips and the last one is partial (300 = 18*16 + 12).
# Tiled files: 64x64 tiles in a 7 x 5 grid; the right and bottom tiles overhang the image.
tiffcp -c lzw -p contig -s -r 16        "$tmp/rgb8.tif"  "$out/grid-strip.tif"
tiffcp -c zip -p contig -t -w 64 -l 64  "$tmp/rgb8.tif"  "$out/grid-tiled.tif"
tiffcp -c zip -p contig -t -w 64 -l 64  "$tmp/rgb16.tif" "$out/grid16-tiled.tif"
tiffcp -c lzw -p contig -s -r 16        "$tmp/rgb16.tif" "$out/grid16-strip.tif"

# ---------------------------------------------------------------- broken files
size=$(stat -c %s "$out/grid.jpg")
head -c $(( size * 40 / 100 )) "$out/grid.jpg" > "$out/corrupt.jpg"
printf 'This is not a PNG image.\nIt is plain text saved with a .png extension so that Tessera can\nbe tested against files whose content does not match their name.\n' \
  > "$out/not-an-image.png"

# ---------------------------------------------------------------- verification
check_tiff() {  # file bits compression layout(tiled|strip)
  local info; info="$(tiffinfo "$1" 2>&1)"
  grep -q "Bits/Sample: $2" <<<"$info"            || { echo "$1: not $2-bit" >&2; exit 1; }
  grep -q "Samples/Pixel: 3" <<<"$info"           || { echo "$1: not 3 samples" >&2; exit 1; }
  grep -q "Compression Scheme: $3" <<<"$info"     || { echo "$1: compression not $3" >&2; exit 1; }
  grep -q "Photometric Interpretation: RGB" <<<"$info" || { echo "$1: not RGB" >&2; exit 1; }
  if grep -q "Predictor" <<<"$info"; then echo "$1: has a predictor" >&2; exit 1; fi
  if [[ $4 == tiled ]]; then
    grep -q "Tile Width: 64 Tile Length: 64" <<<"$info" || { echo "$1: not 64x64 tiled" >&2; exit 1; }
  else
    grep -q "Rows/Strip: 16" <<<"$info" || { echo "$1: not stripped (16 rows)" >&2; exit 1; }
    if grep -q "Tile Width" <<<"$info"; then echo "$1: tiled, expected strips" >&2; exit 1; fi
  fi
}
check_tiff "$out/grid-strip.tif"    8  LZW             strip
check_tiff "$out/grid-tiled.tif"    8  AdobeDeflate    tiled
check_tiff "$out/grid16-tiled.tif"  16 AdobeDeflate    tiled
check_tiff "$out/grid16-strip.tif"  16 LZW             strip

# libtiff decodes the TIFFs (tifffile itself needs imagecodecs for LZW): tiffcp -c none keeps
# the layout and only removes the compression.
for f in grid-strip grid-tiled grid16-tiled grid16-strip; do
  tiffcp -c none "$out/$f.tif" "$tmp/decoded-$f.tif"
done

OUT="$out" TMP="$tmp" "$PYTHON" - <<'PY'
import os, struct, zlib
import numpy as np
import tifffile
from PIL import Image, ImageFile, UnidentifiedImageError

out, tmp = os.environ["OUT"], os.environ["TMP"]
COLOURS = [0xFF0000, 0x00FF00, 0x0000FF, 0xFFFF00, 0xFF00FF, 0x00FFFF,
           0xFFFFFF, 0x000000, 0x808080, 0xFF8000, 0x8000FF, 0x008080]
rgb_list = [((c >> 16) & 255, (c >> 8) & 255, c & 255) for c in COLOURS]
luma = [round(0.299 * r + 0.587 * g + 0.114 * b) for r, g, b in rgb_list]
idx = np.zeros((300, 400), np.uint8)
for i in range(12):
    r, c = divmod(i, 4)
    idx[r * 100:(r + 1) * 100, c * 100:(c + 1) * 100] = i
rgb8 = np.array(rgb_list, np.uint8)[idx]
gray8 = np.array(luma, np.uint8)[idx]
alpha = np.full((300, 400), 255, np.uint8); alpha[:, 200:] = 128
fail = []
def expect(cond, msg):
    if not cond: fail.append(msg)

def pil(name, mode):
    im = Image.open(f"{out}/{name}"); im.load()
    expect(im.size == (400, 300), f"{name}: size {im.size}")
    expect(im.mode == mode, f"{name}: mode {im.mode} != {mode}")
    return im

expect(np.array_equal(np.asarray(pil("grid.png", "RGB")), rgb8), "grid.png pixels")
expect(np.array_equal(np.asarray(pil("grid-gray.png", "L")), gray8), "grid-gray.png pixels")
p = pil("grid-palette.png", "P")
expect(len(p.getpalette()) // 3 == 12, f"grid-palette.png: {len(p.getpalette())//3} palette entries")
expect(np.array_equal(np.asarray(p.convert("RGB")), rgb8), "grid-palette.png pixels")
expect(np.array_equal(np.asarray(pil("grid-alpha.png", "RGBA")), np.dstack([rgb8, alpha])), "grid-alpha.png pixels")
expect(np.array_equal(np.asarray(pil("grid-gray-alpha.png", "LA")), np.dstack([gray8, alpha])), "grid-gray-alpha.png pixels")

# PNG headers (bit depth, colour type) read straight from IHDR
def ihdr(name):
    d = open(f"{out}/{name}", "rb").read()
    assert d[:8] == b"\x89PNG\r\n\x1a\n" and d[12:16] == b"IHDR"
    return struct.unpack(">IIBBBBB", d[16:29]), d
for name, depth, ctype in [("grid.png", 8, 2), ("grid16.png", 16, 2), ("grid-gray.png", 8, 0),
                           ("grid-palette.png", 4, 3), ("grid-alpha.png", 8, 6),
                           ("grid-gray-alpha.png", 8, 4)]:
    (w, h, bd, ct, _, _, il), _ = ihdr(name)
    expect((w, h, bd, ct, il) == (400, 300, depth, ctype, 0),
           f"{name}: IHDR {w}x{h} depth {bd} type {ct} interlace {il}")

# grid16.png: decode independently of Pillow (all rows use filter 0)
_, d = ihdr("grid16.png")
pos, idat = 8, b""
while pos < len(d):
    n, t = struct.unpack(">I4s", d[pos:pos + 8])
    if t == b"IDAT": idat += d[pos + 8:pos + 8 + n]
    pos += 12 + n
raw = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(300, 1 + 400 * 6)
expect((raw[:, 0] == 0).all(), "grid16.png filter bytes")
px16 = raw[:, 1:].copy().view(">u2").reshape(300, 400, 3).astype(np.uint16)
expect(np.array_equal(px16, rgb8.astype(np.uint16) * 257), "grid16.png pixels")

# JPEGs: block centres (and an inner 60x60 area) within a small tolerance
def centres_ok(a, ref, tol, name):
    for i in range(12):
        r, c = divmod(i, 4)
        blk = a[r * 100 + 20:r * 100 + 80, c * 100 + 20:c * 100 + 80].astype(int)
        err = np.abs(blk - np.asarray(ref[i])).max()
        expect(err <= tol, f"{name}: block {i} off by {err}")
centres_ok(np.asarray(pil("grid.jpg", "RGB")), rgb_list, 4, "grid.jpg")
centres_ok(np.asarray(pil("grid-progressive.jpg", "RGB")), rgb_list, 4, "grid-progressive.jpg")
centres_ok(np.asarray(pil("grid-gray.jpg", "L")), luma, 2, "grid-gray.jpg")
for name, prog in [("grid.jpg", False), ("grid-progressive.jpg", True), ("grid-gray.jpg", False)]:
    im = Image.open(f"{out}/{name}")
    expect(bool(im.info.get("progressive") or im.info.get("progression")) == prog, f"{name}: progressive flag")
    d = open(f"{out}/{name}", "rb").read()
    expect((b"\xff\xc2" in d) == prog and ((b"\xff\xc0" in d) != prog), f"{name}: SOF marker")
    expect(b"Exif" not in d[:200], f"{name}: has EXIF")

# TIFFs: layout and tags of the real file, pixels of its libtiff-decoded copy, via tifffile
for name, ref, tiled, comp in [("grid-strip.tif", rgb8, False, 5), ("grid-tiled.tif", rgb8, True, 8),
                               ("grid16-tiled.tif", rgb8.astype(np.uint16) * 257, True, 8),
                               ("grid16-strip.tif", rgb8.astype(np.uint16) * 257, False, 5)]:
    with tifffile.TiffFile(f"{out}/{name}") as t:
        pg = t.pages[0]
        expect(pg.shape == ref.shape and pg.dtype == ref.dtype, f"{name}: shape {pg.shape} {pg.dtype}")
        expect(pg.bitspersample == ref.dtype.itemsize * 8, f"{name}: {pg.bitspersample} bits")
        expect(pg.is_tiled == tiled, f"{name}: tiled={pg.is_tiled}")
        expect(int(pg.compression) == comp, f"{name}: compression {int(pg.compression)}")
        expect(int(pg.predictor) == 1, f"{name}: predictor {int(pg.predictor)}")
        expect(int(pg.planarconfig) == 1, f"{name}: planar config {int(pg.planarconfig)}")
        expect(len(t.pages) == 1, f"{name}: {len(t.pages)} pages")
        expect(len(pg.dataoffsets) == (35 if tiled else 19), f"{name}: {len(pg.dataoffsets)} chunks")
    with tifffile.TiffFile(f"{tmp}/decoded-{name}") as t:
        a = t.pages[0].asarray()
        expect(t.pages[0].is_tiled == tiled, f"{name}: decoded copy tiled={t.pages[0].is_tiled}")
        expect(a.dtype == ref.dtype and np.array_equal(a, ref), f"{name}: pixels/dtype {a.dtype}")

# broken files
try:
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    Image.open(f"{out}/corrupt.jpg").load()
    fail.append("corrupt.jpg decoded without error")
except OSError:
    pass
try:
    Image.open(f"{out}/not-an-image.png")
    fail.append("not-an-image.png was identified as an image")
except UnidentifiedImageError:
    pass

sizes = {f: os.path.getsize(f"{out}/{f}") for f in os.listdir(out) if f != "README.md"}
for f, s in sizes.items():
    expect(s < 100_000, f"{f}: {s} bytes >= 100 KB")
expect(sum(sizes.values()) < 1_000_000, f"fixtures total {sum(sizes.values())} bytes")
if fail:
    raise SystemExit("FIXTURE CHECK FAILED:\n  " + "\n  ".join(fail))
print(f"all {len(sizes)} fixtures verified, {sum(sizes.values())} bytes in total")
PY

if [[ -x /usr/bin/identify ]]; then
  for f in "$out"/grid*; do /usr/bin/identify "$f"; done
fi
