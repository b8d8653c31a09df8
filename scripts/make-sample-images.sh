#!/usr/bin/env bash
# make-sample-images.sh — rebuild Tessera's built-in sample images (sample-images/).
#
# The images are committed, so this script is NOT run by CI; it documents and
# reproduces exactly how each file was derived from its source.
#
# Sources (Debian 12 "bookworm" packages, installed with
#   apt-get install -y --no-install-recommends plasma-workspace-wallpapers mate-backgrounds):
#   plasma-workspace-wallpapers 4:5.27.5-2  -> /usr/share/wallpapers/<Name>/contents/images/2560x1600.jpg
#   mate-backgrounds 1.26.0-1               -> /usr/share/backgrounds/mate/nature/<Name>.jpg
# plus the IIIF validator test image, copied unchanged from
#   ../shared/validator-image/67352ccc-d1b0-11e1-89ae-279075081939.png
#   (override with VALIDATOR_PNG=/path/to/file.png).
#
# Tools: Python 3 with Pillow and numpy (made with Pillow 13.0.0 and numpy 2.4.6 from PyPI;
# Debian's python3-pil and python3-numpy also work). Point PYTHON at an interpreter that has
# both, e.g.
#   python3 -m venv /tmp/imgvenv && /tmp/imgvenv/bin/pip install pillow numpy
#   PYTHON=/tmp/imgvenv/bin/python scripts/make-sample-images.sh
# Re-encoding with another libjpeg / zlib build gives visually identical but not necessarily
# byte-identical files.
#
# What it makes (see sample-images/README.md for sizes and licences):
#   67352ccc-d1b0-11e1-89ae-279075081939.png  validator image, copied as is
#   landscape-lake-boats.jpg    EveningGlow resized 2560x1600 -> 1920x1200, baseline q88
#   portrait-forest-path.jpg    Path cropped to 1067x1600 (no resampling), PROGRESSIVE q88
#   gray-foggy-pier.jpg         ColdRipple centre-cropped to 4:3, resized to 1600x1200,
#                               converted to single-channel luma, grayscale baseline q90
#   alpha-ladybird.png          LadyBird cropped 1400x1400, resized to 800x800, RGBA with
#                               rounded, feathered transparent corners and a soft edge fade
#   mosaic-six-photos.jpg       3x2 grid of six 1600x1600 crops (no resampling) -> 4800x3200,
#                               baseline q85
#   small-garden.jpg            Garden resized 2560x1600 -> 400x250, baseline q85
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
out="${OUT_DIR:-$repo/sample-images}"
validator="${VALIDATOR_PNG:-$repo/../shared/validator-image/67352ccc-d1b0-11e1-89ae-279075081939.png}"
PYTHON="${PYTHON:-python3}"

KDE=/usr/share/wallpapers
MATE=/usr/share/backgrounds/mate/nature
sources=(
  "$KDE/EveningGlow/contents/images/2560x1600.jpg"
  "$KDE/Path/contents/images/2560x1600.jpg"
  "$KDE/ColdRipple/contents/images/2560x1600.jpg"
  "$KDE/Kite/contents/images/2560x1600.jpg"
  "$KDE/ColorfulCups/contents/images/2560x1600.jpg"
  "$KDE/FallenLeaf/contents/images/2560x1600.jpg"
  "$KDE/BytheWater/contents/images/2560x1600.jpg"
  "$MATE/LadyBird.jpg"
  "$MATE/YellowFlower.jpg"
  "$MATE/TwoWings.jpg"
  "$MATE/Garden.jpg"
)
for f in "${sources[@]}" "$validator"; do
  if [[ ! -f "$f" ]]; then
    echo "missing source: $f" >&2
    echo "install: apt-get install -y --no-install-recommends plasma-workspace-wallpapers mate-backgrounds" >&2
    exit 1
  fi
done
"$PYTHON" -c 'import PIL, numpy' 2>/dev/null || {
  echo "$PYTHON lacks Pillow/numpy; set PYTHON to an interpreter that has them (see header)" >&2
  exit 1
}

mkdir -p "$out"
install -m 0644 "$validator" "$out/67352ccc-d1b0-11e1-89ae-279075081939.png"

OUT="$out" KDE="$KDE" MATE="$MATE" "$PYTHON" - <<'PY'
import os
import numpy as np
from PIL import Image, ImageDraw, ImageFilter

out, kde, mate = os.environ["OUT"], os.environ["KDE"], os.environ["MATE"]
def plasma(name): return f"{kde}/{name}/contents/images/2560x1600.jpg"
def matef(name): return f"{mate}/{name}.jpg"

def load(path):
    im = Image.open(path)
    im.load()
    # All sources are sRGB or untagged (= sRGB); none has a rotating EXIF orientation.
    return im.convert("RGB")

def save_jpeg(im, name, quality, progressive=False):
    # No exif=, no icc_profile= -> no EXIF (so no orientation tag) and no ICC profile:
    # untagged sRGB, JFIF header only.
    im.save(f"{out}/{name}", "JPEG", quality=quality, progressive=progressive,
            optimize=False, subsampling=(2 if im.mode == "RGB" else 0))
    print(f"{name}: {im.size[0]}x{im.size[1]} {im.mode}")

def cover(im, w, h, cx=0.5, cy=0.5):
    """Crop im to aspect w:h around (cx, cy) (fractions), then downscale to w x h."""
    W, H = im.size
    if W * h > H * w:                      # too wide
        cw, ch = round(H * w / h), H
    else:
        cw, ch = W, round(W * h / w)
    assert cw >= w and ch >= h, "would upscale"
    x = min(max(round(cx * W - cw / 2), 0), W - cw)
    y = min(max(round(cy * H - ch / 2), 0), H - ch)
    im = im.crop((x, y, x + cw, y + ch))
    return im if im.size == (w, h) else im.resize((w, h), Image.LANCZOS)

# 1. landscape colour JPEG, baseline
save_jpeg(load(plasma("EveningGlow")).resize((1920, 1200), Image.LANCZOS),
          "landscape-lake-boats.jpg", 88)

# 2. portrait colour JPEG, progressive: a 1067x1600 column of the forest around the path
path = load(plasma("Path"))
save_jpeg(path.crop((300, 0, 300 + 1067, 1600)), "portrait-forest-path.jpg", 88, progressive=True)

# 3. true single-channel grayscale JPEG (ITU-R 601 luma, Pillow "L")
gray = cover(load(plasma("ColdRipple")), 1600, 1200).convert("L")
save_jpeg(gray, "gray-foggy-pier.jpg", 90)

# 4. RGBA PNG: ladybird, rounded feathered corners + soft fade towards the edges
lady = load(matef("LadyBird")).crop((1100, 120, 2500, 1520)).resize((800, 800), Image.LANCZOS)
n = 800
mask = Image.new("L", (n, n), 0)
ImageDraw.Draw(mask).rounded_rectangle((12, 12, n - 13, n - 13), radius=120, fill=255)
mask = mask.filter(ImageFilter.GaussianBlur(8))
# edge fade: alpha multiplier 1.0 inside, falling smoothly to ~0.35 at the border
yy, xx = np.mgrid[0:n, 0:n].astype(np.float64)
d = np.minimum(np.minimum(xx, n - 1 - xx), np.minimum(yy, n - 1 - yy))  # distance to edge
fade = 0.35 + 0.65 * np.clip(d / 120.0, 0, 1) ** 1.5
alpha = (np.asarray(mask, dtype=np.float64) * fade).round().clip(0, 255).astype(np.uint8)
rgba = lady.copy()
rgba.putalpha(Image.fromarray(alpha, "L"))
rgba.save(f"{out}/alpha-ladybird.png", "PNG", optimize=True)
print(f"alpha-ladybird.png: {rgba.size[0]}x{rgba.size[1]} {rgba.mode}")

# 5. 4800x3200 mosaic: 3 columns x 2 rows of 1600x1600 crops of six different photos,
#    cut from the 2560x1600 originals at native resolution (crop only, no resampling).
#    (source, x offset of the 1600-px-wide crop)
cells = [
    (plasma("Kite"), 900),          (plasma("ColorfulCups"), 480), (plasma("FallenLeaf"), 800),
    (plasma("BytheWater"), 480),    (matef("YellowFlower"), 900),  (matef("TwoWings"), 700),
]
mosaic = Image.new("RGB", (4800, 3200))
for i, (src, x) in enumerate(cells):
    im = load(src)
    assert im.size == (2560, 1600), (src, im.size)
    mosaic.paste(im.crop((x, 0, x + 1600, 1600)), ((i % 3) * 1600, (i // 3) * 1600))
save_jpeg(mosaic, "mosaic-six-photos.jpg", 85)

# 6. a small image (smaller than a typical 512 px tile)
save_jpeg(load(matef("Garden")).resize((400, 250), Image.LANCZOS), "small-garden.jpg", 85)

# 7. a native-resolution detail under a Harvard-style identifier with colons
im = Image.open(plasma("EveningGlow")).convert("RGB")
im.crop((1500, 900, 2140, 1300)).save(f"{out}/urn-3:HUAM:BOATS0001_dynmc.jpg", quality=88, optimize=False, progressive=False)
PY

ls -l "$out"
