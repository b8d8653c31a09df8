//! Executes a resolved [`Plan`] on decoded pixels, in the order of §4: region, size, mirror and
//! rotation, then quality. Encoding is [`crate::encode`]'s job; URLs are not known here.

mod rotate;

use crate::iiif::{Plan, Quality};
use fast_image_resize::{FilterType, ResizeAlg, ResizeOptions, Resizer};
use image::{DynamicImage, GrayAlphaImage, GrayImage, Luma, LumaA};

pub use rotate::{flatten_on, flatten_on_white, rotate, Background};

/// The luma threshold of `bitonal`: Rec. 709 luma at or above it is white, below it black.
pub const BITONAL_THRESHOLD: u8 = 128;

/// Why the pipeline failed (a server fault: 500).
#[derive(Debug, Clone, thiserror::Error)]
pub enum PipelineError {
    /// The resampler refused the images.
    #[error("resizing failed")]
    Resize(#[source] fast_image_resize::ResizeError),
}

/// Runs the plan on `src`, which is the whole decoded image; `background` fills the corners of
/// a rotation in formats without alpha.
pub fn execute(
    src: &DynamicImage,
    plan: &Plan,
    background: Background,
) -> Result<DynamicImage, PipelineError> {
    let whole = Window {
        x0: 0.0,
        y0: 0.0,
        fx: 1.0,
        fy: 1.0,
    };
    execute_window(src, plan, whole, background)
}

pub use crate::raster::Window;

/// Runs the plan on `src`, the whole image decoded at a reduced size (as JPEG DCT scaling
/// gives it) of an image whose full size is `full`.
pub fn execute_reduced(
    src: &DynamicImage,
    plan: &Plan,
    full: crate::iiif::Dimensions,
    background: Background,
) -> Result<DynamicImage, PipelineError> {
    execute_window(src, plan, Window::whole(src, full), background)
}

/// Runs the plan on `src`, which shows the part of the image that `window` describes: the
/// region is mapped onto `src` with sub-pixel precision, then filtered to the output size.
pub fn execute_window(
    src: &DynamicImage,
    plan: &Plan,
    window: Window,
    background: Background,
) -> Result<DynamicImage, PipelineError> {
    let mut img = crop_and_scale(src, plan, window)?;
    if plan.mirror {
        img = img.fliph();
    }
    img = rotate(img, plan.degrees, plan.format.has_alpha(), background);
    Ok(apply_quality(img, plan.quality))
}

/// Crops the region and scales it to the output size in one pass (Lanczos3, with
/// premultiplied alpha).
fn crop_and_scale(
    src: &DynamicImage,
    plan: &Plan,
    win: Window,
) -> Result<DynamicImage, PipelineError> {
    let r = plan.region;
    let (sw, sh) = (f64::from(src.width()), f64::from(src.height()));
    let x = ((f64::from(r.x) - win.x0) / win.fx).clamp(0.0, sw);
    let y = ((f64::from(r.y) - win.y0) / win.fy).clamp(0.0, sh);
    let w = (f64::from(r.w) / win.fx).min(sw - x).max(f64::MIN_POSITIVE);
    let h = (f64::from(r.h) / win.fy).min(sh - y).max(f64::MIN_POSITIVE);
    // Whole source pixels at the output size: a plain copy, no filter. The last column or
    // row may be partial, as a reduced level's is when the image does not divide evenly
    // (`ceil(size / 2^k)` pixels, the last covering what is left).
    let fits = |start: f64, len: f64, out: u32, have: f64| {
        start.fract() == 0.0 && len.ceil() == f64::from(out) && start + len.ceil() <= have
    };
    if fits(x, w, plan.width, sw) && fits(y, h, plan.height, sh) {
        let (x, y) = (x as u32, y as u32);
        if (x, y, plan.width, plan.height) == (0, 0, src.width(), src.height()) {
            return Ok(src.clone());
        }
        return Ok(src.crop_imm(x, y, plan.width, plan.height));
    }
    let mut dst = DynamicImage::new(plan.width, plan.height, src.color());
    let options = ResizeOptions::new()
        .resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3))
        .crop(x, y, w, h);
    Resizer::new()
        .resize(src, &mut dst, &options)
        .map_err(PipelineError::Resize)?;
    Ok(dst)
}

/// Rec. 709 luma of an sRGB-encoded pixel, rounded.
fn luma709(r: u8, g: u8, b: u8) -> u8 {
    // Fixed point: 0.2126, 0.7152, 0.0722 scaled by 2^16.
    let y = 13933 * u32::from(r) + 46871 * u32::from(g) + 4732 * u32::from(b);
    ((y + (1 << 15)) >> 16) as u8
}

/// Applies the quality: `gray` is Rec. 709 luma, `bitonal` is luma thresholded at
/// [`BITONAL_THRESHOLD`] to pure black and white; `color` makes gray sources RGB. Alpha is kept.
pub fn apply_quality(img: DynamicImage, quality: Quality) -> DynamicImage {
    match quality {
        Quality::Default => img,
        Quality::Color => match img {
            DynamicImage::ImageLuma8(_) => DynamicImage::ImageRgb8(img.to_rgb8()),
            DynamicImage::ImageLumaA8(_) => DynamicImage::ImageRgba8(img.to_rgba8()),
            DynamicImage::ImageLuma16(_) => DynamicImage::ImageRgb16(img.to_rgb16()),
            DynamicImage::ImageLumaA16(_) => DynamicImage::ImageRgba16(img.to_rgba16()),
            other => other,
        },
        Quality::Gray | Quality::Bitonal => {
            let bitonal = quality == Quality::Bitonal;
            let tone = |l: u8| {
                if !bitonal {
                    l
                } else if l >= BITONAL_THRESHOLD {
                    255
                } else {
                    0
                }
            };
            let (w, h) = (img.width(), img.height());
            // Bitonal is pure black and white, one bit: transparency is composited on white.
            let img = if bitonal && img.color().has_alpha() {
                flatten_on_white(&img)
            } else {
                img
            };
            // Gray and bitonal output are 8-bit; 16-bit gray comes down once, here.
            let img = match img {
                DynamicImage::ImageLuma16(_) => DynamicImage::ImageLuma8(img.to_luma8()),
                DynamicImage::ImageLumaA16(_) => DynamicImage::ImageLumaA8(img.to_luma_alpha8()),
                other if other.color().has_alpha() => DynamicImage::ImageRgba8(other.to_rgba8()),
                other => other,
            };
            match img {
                DynamicImage::ImageLuma8(mut g) => {
                    if bitonal {
                        g.pixels_mut().for_each(|p| p.0[0] = tone(p.0[0]));
                    }
                    DynamicImage::ImageLuma8(g)
                }
                DynamicImage::ImageLumaA8(mut g) => {
                    if bitonal {
                        g.pixels_mut().for_each(|p| p.0[0] = tone(p.0[0]));
                    }
                    DynamicImage::ImageLumaA8(g)
                }
                DynamicImage::ImageRgba8(rgba) => {
                    let mut out = GrayAlphaImage::new(w, h);
                    for (o, p) in out.pixels_mut().zip(rgba.pixels()) {
                        let [r, g, b, a] = p.0;
                        *o = LumaA([tone(luma709(r, g, b)), a]);
                    }
                    DynamicImage::ImageLumaA8(out)
                }
                other => {
                    let rgb = other.into_rgb8();
                    let mut out = GrayImage::new(w, h);
                    for (o, p) in out.pixels_mut().zip(rgb.pixels()) {
                        let [r, g, b] = p.0;
                        *o = Luma([tone(luma709(r, g, b))]);
                    }
                    DynamicImage::ImageLuma8(out)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iiif::{Format, Rect};
    use image::{Rgb, RgbImage};

    fn quadrants() -> DynamicImage {
        // 200x100: left half red, right half blue, bottom-right quarter green.
        let mut img = RgbImage::new(200, 100);
        for (x, y, p) in img.enumerate_pixels_mut() {
            *p = match (x < 100, y < 50) {
                (true, _) => Rgb([255, 0, 0]),
                (false, true) => Rgb([0, 0, 255]),
                (false, false) => Rgb([0, 255, 0]),
            };
        }
        DynamicImage::ImageRgb8(img)
    }

    fn plan(region: Rect, w: u32, h: u32) -> Plan {
        Plan {
            region,
            width: w,
            height: h,
            mirror: false,
            degrees: 0.0,
            quality: Quality::Default,
            format: Format::Png,
        }
    }

    fn rgb(img: &DynamicImage, x: u32, y: u32) -> [u8; 3] {
        img.to_rgb8().get_pixel(x, y).0
    }

    #[test]
    fn crop_without_scaling_is_exact() {
        let r = Rect {
            x: 150,
            y: 40,
            w: 50,
            h: 20,
        };
        let out = execute(&quadrants(), &plan(r, 50, 20), Background::Black).unwrap();
        assert_eq!((out.width(), out.height()), (50, 20));
        assert_eq!(rgb(&out, 0, 0), [0, 0, 255]);
        assert_eq!(rgb(&out, 49, 19), [0, 255, 0]);
    }

    #[test]
    fn a_reduced_level_with_a_partial_last_pixel_is_copied() {
        // A 9×5 image halved to 5×3: the last column and row cover one full-resolution pixel.
        let level = DynamicImage::ImageRgb8(image::RgbImage::from_fn(5, 3, |x, y| {
            image::Rgb([(x * 50) as u8, (y * 100) as u8, 7])
        }));
        let half = Window {
            x0: 0.0,
            y0: 0.0,
            fx: 2.0,
            fy: 2.0,
        };
        let r = |x, y, w, h| Rect { x, y, w, h };
        let whole =
            execute_window(&level, &plan(r(0, 0, 9, 5), 5, 3), half, Background::Black).unwrap();
        assert_eq!(whole.as_bytes(), level.as_bytes());
        let corner =
            execute_window(&level, &plan(r(4, 2, 5, 3), 3, 2), half, Background::Black).unwrap();
        assert_eq!(corner.as_bytes(), level.crop_imm(2, 1, 3, 2).as_bytes());
        // Not a copy: the region is wider than its output.
        let wider =
            execute_window(&level, &plan(r(0, 0, 9, 5), 4, 3), half, Background::Black).unwrap();
        assert_eq!((wider.width(), wider.height()), (4, 3));
    }

    #[test]
    fn scaled_crop_keeps_colours_away_from_edges() {
        let r = Rect {
            x: 100,
            y: 0,
            w: 100,
            h: 100,
        };
        let out = execute(&quadrants(), &plan(r, 30, 30), Background::Black).unwrap();
        assert_eq!((out.width(), out.height()), (30, 30));
        assert_eq!(rgb(&out, 15, 3), [0, 0, 255]);
        assert_eq!(rgb(&out, 15, 27), [0, 255, 0]);
    }

    #[test]
    fn mirror_flips_left_and_right() {
        let mut p = plan(
            Rect {
                x: 0,
                y: 0,
                w: 200,
                h: 100,
            },
            200,
            100,
        );
        p.mirror = true;
        let out = execute(&quadrants(), &p, Background::Black).unwrap();
        assert_eq!(rgb(&out, 0, 0), [0, 0, 255]);
        assert_eq!(rgb(&out, 199, 0), [255, 0, 0]);
    }

    #[test]
    fn resampling_premultiplies_alpha() {
        // Opaque red beside fully transparent green: a downscale must not bleed the invisible
        // green into the visible edge pixels.
        let img = image::RgbaImage::from_fn(40, 10, |x, _| {
            if x < 20 {
                image::Rgba([255, 0, 0, 255])
            } else {
                image::Rgba([0, 255, 0, 0])
            }
        });
        let mut p = plan(
            Rect {
                x: 0,
                y: 0,
                w: 40,
                h: 10,
            },
            10,
            3,
        );
        p.format = Format::Png;
        let out = execute(&DynamicImage::ImageRgba8(img), &p, Background::Black)
            .unwrap()
            .to_rgba8();
        for x in 0..10 {
            let px = out.get_pixel(x, 1).0;
            if px[3] > 8 {
                assert!(
                    px[1] < 8 && px[0] > 240,
                    "pixel {x}: {px:?} has green in it"
                );
            }
        }
        assert!(out.get_pixel(4, 1).0[3] > 100 && out.get_pixel(9, 1).0[3] < 8);
    }

    #[test]
    fn gray_is_rec709_luma_and_bitonal_is_two_valued() {
        assert_eq!(luma709(255, 0, 0), 54);
        assert_eq!(luma709(0, 255, 0), 182);
        assert_eq!(luma709(0, 0, 255), 18);
        assert_eq!(luma709(255, 255, 255), 255);
        let mut p = plan(
            Rect {
                x: 0,
                y: 0,
                w: 200,
                h: 100,
            },
            200,
            100,
        );
        p.quality = Quality::Gray;
        let g = execute(&quadrants(), &p, Background::Black).unwrap();
        assert_eq!(g.color(), image::ColorType::L8);
        assert_eq!(g.to_luma8().get_pixel(10, 10).0, [54]);
        p.quality = Quality::Bitonal;
        let with_alpha = DynamicImage::ImageRgba8(quadrants().to_rgba8());
        let b = execute(&with_alpha, &p, Background::Black).unwrap();
        assert_eq!(b.color(), image::ColorType::L8, "bitonal drops alpha");
        let b = b.to_luma8();
        assert_eq!(b.get_pixel(10, 10).0, [0]);
        assert_eq!(b.get_pixel(150, 90).0, [255]);
        assert!(b.pixels().all(|p| p.0[0] == 0 || p.0[0] == 255));
    }
}
