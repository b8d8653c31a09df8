"""The reference image of iiif-validator-ng's rotation tests, written out step by step.

iiif-validator-ng 0.1.0 (tests/rot_full_non90.py, RotationFullNon90Test.run) builds its
reference as `get_expected_image().rotate(rot)`: pyvips' Image.rotate, i.e. libvips'
vips_rotate (libvips/resample/similarity.c), which calls vips_affine (resample/affine.c) with
no optional arguments, so: bilinear interpolation, background 0 (black), extend "background".
This file computes the same pixels in plain Python, so that Tessera's own tests can use the
same reference for every angle; `--check` compares it with pyvips (Debian's libvips 8.14.1
here) on random pixels and must find no difference.

    python vips_rotate_reference.py --check [ANGLE...]     (in target/validator-ng-venv)

The algorithm, for a W x H 8-bit image and an angle r in degrees (clockwise on screen):

1. Matrix: a = cos r, b = -sin r, c = sin r, d = cos r (r in radians as r * pi / 180).
   Forward map of a point: X = a x + b y, Y = c x + d y. Inverse: its exact 2x2 inverse.
2. Output size and origin: map the four corners (0,0), (W,0), (0,H), (W,H) (the corners of the
   image, not pixel centres); left = round(min X), top = round(min Y),
   width = round(max X - min X), height = round(max Y - min Y), where round() rounds halves
   away from zero. (For 1000 x 1000: 1017 at 1 degree, 1414 at 45.)
3. Output pixel (x, y), integers from 0: the point (x + left, y + top) mapped back through the
   inverse gives the input position (ix, iy). Input pixel (i, j) sits at position (i, j): no
   half-pixel shift; the rotation is about the image's top-left corner and the output is
   translated by (left, top) only.
4. The input is padded with one black pixel on every side (two on the right and bottom).
   Where floor(ix) < -1 or floor(ix) > W - 1 (same for iy and H), the output pixel is the
   background, 0. Otherwise it is bilinear between the four pixels around (ix, iy), padding
   included (so the picture's edges fade to black over one pixel), in libvips' fixed point:
   fx = int((ix - floor(ix)) * 4096), fy likewise; c4 = (fy * fx) >> 12,
   c2 = ((4096 - fy) * fx) >> 12, c3 = fy - c4, c1 = (4096 - fy) - c2;
   value = (c1 p00 + c2 p10 + c3 p01 + c4 p11 + 2048) >> 12, per band.
   (An alpha band would be premultiplied first; the validator's image is RGB.)

How the test compares (tests/test.py, compare_images): the server's JPEG
(/full/full/{r}/default.jpg in 2.x, /full/max/{r}/default.jpg in 3.0), decoded by libvips, and
the reference are each cut to the 300 x 300 window at (300, 300); the test passes when the
mean over all pixels and bands of |server - reference| is below 6. The window is taken at the
same place in both, so the output's size must equal the reference's (step 2) for the contents
to line up.
"""

import math
import random
import sys


def rnd(v: float) -> int:
    return int(v + 0.5) if v > 0 else int(v - 0.5)


def rotate(pixels: bytes, width: int, height: int, bands: int, rot: float):
    """Returns (out_width, out_height, at) where at(x, y) is the tuple of band values."""
    t = rot * math.pi / 180
    a, b, c, d = math.cos(t), -math.sin(t), math.sin(t), math.cos(t)
    det = a * d - b * c
    ia, ib, ic, id_ = d / det, -b / det, -c / det, a / det
    corners = ((0, 0), (width, 0), (0, height), (width, height))
    xs = [a * x + b * y for x, y in corners]
    ys = [c * x + d * y for x, y in corners]
    left, top = rnd(min(xs)), rnd(min(ys))
    out_w, out_h = rnd(max(xs) - min(xs)), rnd(max(ys) - min(ys))
    black = bytes(bands)

    def px(i: int, j: int) -> bytes:
        if 0 <= i < width and 0 <= j < height:
            o = (j * width + i) * bands
            return pixels[o : o + bands]
        return black

    def at(x: int, y: int):
        ox, oy = x + left, y + top
        ix = ia * ox + ib * oy
        iy = ic * ox + id_ * oy
        fx, fy = math.floor(ix), math.floor(iy)
        if not (-1 <= fx <= width - 1 and -1 <= fy <= height - 1):
            return tuple(black)
        # libvips works in the padded image, where these are positive: int() truncates.
        wx = int((ix + 1 - int(ix + 1)) * 4096)
        wy = int((iy + 1 - int(iy + 1)) * 4096)
        c4 = (wy * wx) >> 12
        c2 = ((4096 - wy) * wx) >> 12
        c3 = wy - c4
        c1 = (4096 - wy) - c2
        p1, p2, p3, p4 = px(fx, fy), px(fx + 1, fy), px(fx, fy + 1), px(fx + 1, fy + 1)
        return tuple(
            (c1 * p1[z] + c2 * p2[z] + c3 * p3[z] + c4 * p4[z] + 2048) >> 12
            for z in range(bands)
        )

    return out_w, out_h, at


def check(angles) -> int:
    from iiif_validator.tests.test import get_expected_image

    src = get_expected_image()
    mem = src.write_to_memory()
    rng = random.Random(7)
    failures = 0
    for rot in angles:
        ow, oh, at = rotate(mem, src.width, src.height, src.bands, rot)
        v = src.rotate(rot)
        if (ow, oh) != (v.width, v.height):
            print(f"rotation {rot}: size {ow}x{oh}, libvips {v.width}x{v.height}")
            failures += 1
            continue
        vm = v.write_to_memory()
        differ = 0
        for _ in range(4000):
            x, y = rng.randrange(ow), rng.randrange(oh)
            o = (y * ow + x) * src.bands
            if tuple(vm[o : o + src.bands]) != at(x, y):
                differ += 1
        print(f"rotation {rot}: {ow}x{oh} as libvips; {differ} of 4000 random pixels differ")
        failures += differ > 0
    print(f"reference vs libvips: {len(angles) - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "--check":
        angles = [float(a) for a in sys.argv[2:]] or [1, 22.5, 37, 45, 91, 218, 300, 359]
        sys.exit(check(angles))
    print(__doc__)
