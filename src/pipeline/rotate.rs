//! Rotation by any angle, clockwise. Multiples of 90° are exact pixel moves; other angles
//! enlarge the canvas to the rotated bounding box (§4.3) and sample bilinearly, leaving the
//! new corners transparent, or in the [`Background`] colour when the output format has no
//! alpha (black by default, as libvips and sharp make them).

use crate::iiif::geometry::rotated_size;
use image::{DynamicImage, Rgba, RgbaImage};

/// The colour of the corners a rotation uncovers, in formats without transparency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Background {
    /// Black, as libvips and sharp make them (and as iiif-validator-ng expects).
    #[default]
    Black,
    /// White.
    White,
}

impl Background {
    /// The colour.
    pub fn rgb(self) -> [u8; 3] {
        match self {
            Background::Black => [0, 0, 0],
            Background::White => [255, 255, 255],
        }
    }
}

/// Rotates `img` clockwise by `degrees` (0 ≤ degrees < 360). Uncovered corners stay
/// transparent with `keep_alpha`, else they are `background`.
pub fn rotate(
    img: DynamicImage,
    degrees: f64,
    keep_alpha: bool,
    background: Background,
) -> DynamicImage {
    if degrees == 0.0 {
        img
    } else if degrees == 90.0 {
        img.rotate90()
    } else if degrees == 180.0 {
        img.rotate180()
    } else if degrees == 270.0 {
        img.rotate270()
    } else {
        arbitrary(&img, degrees, keep_alpha, background)
    }
}

fn arbitrary(
    img: &DynamicImage,
    degrees: f64,
    keep_alpha: bool,
    background: Background,
) -> DynamicImage {
    let src = img.to_rgba8();
    let (sw, sh) = src.dimensions();
    let (bw, bh) = rotated_size(sw, sh, degrees);
    let (sin, cos) = degrees.to_radians().sin_cos();
    // Placed as libvips places it (and so as the validators' references are): the image's
    // corners rotated about its top-left corner, the output's origin at the rounded top-left of
    // their bounding box, and source pixel (i, j) at position (i, j).
    let (fw, fh) = (f64::from(sw), f64::from(sh));
    let corners = [(0.0, 0.0), (fw, 0.0), (0.0, fh), (fw, fh)];
    let left = corners
        .iter()
        .map(|&(x, y)| cos * x - sin * y)
        .fold(f64::INFINITY, f64::min)
        .round();
    let top = corners
        .iter()
        .map(|&(x, y)| sin * x + cos * y)
        .fold(f64::INFINITY, f64::min)
        .round();
    let mut out = RgbaImage::new(bw, bh);
    for (x, y, px) in out.enumerate_pixels_mut() {
        // Map the destination pixel back into the source (inverse rotation).
        let (ox, oy) = (f64::from(x) + left, f64::from(y) + top);
        let sx = ox * cos + oy * sin;
        let sy = -ox * sin + oy * cos;
        *px = bilinear(&src, sx, sy);
    }
    let rotated = DynamicImage::ImageRgba8(out);
    if keep_alpha {
        rotated
    } else {
        flatten_on(&rotated, background.rgb())
    }
}

/// Samples `src` at a fractional position, treating everything outside as transparent.
fn bilinear(src: &RgbaImage, x: f64, y: f64) -> Rgba<u8> {
    let (w, h) = (i64::from(src.width()), i64::from(src.height()));
    if x <= -1.0 || y <= -1.0 || x >= w as f64 || y >= h as f64 {
        return Rgba([0, 0, 0, 0]);
    }
    let (x0, y0) = (x.floor() as i64, y.floor() as i64);
    let (fx, fy) = (x - x0 as f64, y - y0 as f64);
    let mut acc = [0f64; 4];
    for (ox, oy, wgt) in [
        (0, 0, (1.0 - fx) * (1.0 - fy)),
        (1, 0, fx * (1.0 - fy)),
        (0, 1, (1.0 - fx) * fy),
        (1, 1, fx * fy),
    ] {
        let (px, py) = (x0 + ox, y0 + oy);
        if wgt == 0.0 || px < 0 || py < 0 || px >= w || py >= h {
            continue;
        }
        let p = src.get_pixel(px as u32, py as u32).0;
        let a = f64::from(p[3]) * wgt;
        // Premultiplied accumulation, so transparent neighbours do not darken the edge.
        for c in 0..3 {
            acc[c] += f64::from(p[c]) * a;
        }
        acc[3] += a;
    }
    if acc[3] <= 0.0 {
        return Rgba([0, 0, 0, 0]);
    }
    let un = |v: f64| (v / acc[3]).round().clamp(0.0, 255.0) as u8;
    Rgba([
        un(acc[0]),
        un(acc[1]),
        un(acc[2]),
        acc[3].round().clamp(0.0, 255.0) as u8,
    ])
}

/// Composites an image over white, dropping alpha (for formats without transparency).
pub fn flatten_on_white(img: &DynamicImage) -> DynamicImage {
    flatten_on(img, [255, 255, 255])
}

/// Composites an image over the colour `under`, dropping alpha.
pub fn flatten_on(img: &DynamicImage, under: [u8; 3]) -> DynamicImage {
    if !img.color().has_alpha() {
        return img.clone();
    }
    let rgba = img.to_rgba8();
    let mut out = image::RgbImage::new(rgba.width(), rgba.height());
    for (o, p) in out.pixels_mut().zip(rgba.pixels()) {
        let [r, g, b, a] = p.0;
        let a = u32::from(a);
        let blend =
            |c: u8, u: u8| ((u32::from(c) * a + u32::from(u) * (255 - a) + 127) / 255) as u8;
        *o = image::Rgb([blend(r, under[0]), blend(g, under[1]), blend(b, under[2])]);
    }
    DynamicImage::ImageRgb8(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgb, RgbImage};

    fn marked() -> DynamicImage {
        // 40x20, red everywhere except a blue top-left 10x10 block.
        let mut img = RgbImage::from_pixel(40, 20, Rgb([255, 0, 0]));
        for y in 0..10 {
            for x in 0..10 {
                img.put_pixel(x, y, Rgb([0, 0, 255]));
            }
        }
        DynamicImage::ImageRgb8(img)
    }

    #[test]
    fn quarter_turns_move_the_corner_clockwise() {
        let r = rotate(marked(), 90.0, false, Background::Black).to_rgb8();
        assert_eq!(r.dimensions(), (20, 40));
        assert_eq!(r.get_pixel(19, 0).0, [0, 0, 255]);
        let r = rotate(marked(), 180.0, false, Background::Black).to_rgb8();
        assert_eq!(r.get_pixel(39, 19).0, [0, 0, 255]);
        let r = rotate(marked(), 270.0, false, Background::Black).to_rgb8();
        assert_eq!(r.get_pixel(0, 39).0, [0, 0, 255]);
    }

    #[test]
    fn bounding_box_grows() {
        assert_eq!(rotated_size(100, 50, 45.0), (106, 106));
        assert_eq!(rotated_size(100, 50, 30.0), (112, 93));
    }

    #[test]
    fn arbitrary_angles_have_transparent_black_or_white_corners() {
        let r = rotate(marked(), 45.0, true, Background::Black).to_rgba8();
        assert_eq!(r.dimensions(), rotated_size(40, 20, 45.0));
        assert_eq!(r.get_pixel(0, 0).0[3], 0);
        let (cx, cy) = (r.width() / 2, r.height() / 2);
        assert_eq!(r.get_pixel(cx, cy).0, [255, 0, 0, 255]);
        let b = rotate(marked(), 45.0, false, Background::Black);
        assert!(!b.color().has_alpha());
        assert_eq!(b.to_rgb8().get_pixel(0, 0).0, [0, 0, 0]);
        let w = rotate(marked(), 45.0, false, Background::White);
        assert_eq!(w.to_rgb8().get_pixel(0, 0).0, [255, 255, 255]);
        assert_eq!(w.to_rgb8().get_pixel(cx, cy).0, [255, 0, 0]);
    }
}
