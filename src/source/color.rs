//! Colour management: converting decoded pixels with an embedded ICC profile to sRGB, with
//! moxcms (a pure-Rust colour-management engine, the one the `image` crate uses). CMYK data
//! goes through its own profile, or the built-in standard CMYK profile when none is embedded.
//!
//! Output is untagged sRGB, consistently, for every format. A profile that cannot be parsed,
//! or that does not match the pixels' channels, is ignored with a warning: the pixels are
//! then served as they are, as most viewers would show them.

use image::{DynamicImage, ImageBuffer, Luma, LumaA, Rgb};
use moxcms::{ColorProfile, DataColorSpace, Layout, RenderingIntent, TransformOptions};

/// The CMYK profile assumed for CMYK images without an embedded one: FOGRA39 (ISO
/// 12647-2:2004, coated paper), the standard European offset-printing condition, built from
/// Zlib-licensed characterisation data (see `profiles/README.md`).
pub const DEFAULT_CMYK_ICC: &[u8] = include_bytes!("profiles/default-cmyk.icc");

fn options() -> TransformOptions {
    // Relative colorimetric, as libvips' icc_transform and most image servers use.
    TransformOptions {
        rendering_intent: RenderingIntent::RelativeColorimetric,
        ..TransformOptions::default()
    }
}

/// Parses a profile, or explains why it is unusable.
fn profile(icc: &[u8]) -> Result<ColorProfile, String> {
    ColorProfile::new_from_slice(icc).map_err(|e| format!("unusable ICC profile: {e:?}"))
}

/// Converts 8-bit CMYK samples (ink amounts, 0 = no ink) to sRGB through `icc`, or through
/// [`DEFAULT_CMYK_ICC`] when `icc` is `None`.
pub fn cmyk_to_srgb(
    cmyk: &[u8],
    width: u32,
    height: u32,
    icc: Option<&[u8]>,
) -> Result<DynamicImage, String> {
    let mut src = icc.map(profile).transpose()?;
    if src
        .as_ref()
        .is_some_and(|p| p.color_space != DataColorSpace::Cmyk)
    {
        tracing::warn!("embedded profile is not a CMYK profile; using the standard CMYK profile");
        src = None;
    }
    let src = match src {
        Some(p) => p,
        None => profile(DEFAULT_CMYK_ICC)?,
    };
    let t = src
        .create_transform_8bit(
            Layout::Rgba,
            &ColorProfile::new_srgb(),
            Layout::Rgb,
            options(),
        )
        .map_err(|e| format!("CMYK transform: {e:?}"))?;
    let mut rgb = vec![0u8; cmyk.len() / 4 * 3];
    t.transform(cmyk, &mut rgb)
        .map_err(|e| format!("CMYK transform: {e:?}"))?;
    ImageBuffer::<Rgb<u8>, _>::from_raw(width, height, rgb)
        .map(DynamicImage::ImageRgb8)
        .ok_or_else(|| "CMYK buffer has the wrong size".to_string())
}

/// Converts an image with an embedded ICC profile to sRGB. Gray images stay gray (their
/// profile's tone curve is converted to sRGB's); alpha is kept; 16-bit stays 16-bit.
pub fn to_srgb(img: DynamicImage, icc: &[u8]) -> DynamicImage {
    match convert(&img, icc) {
        Ok(Some(out)) => out,
        Ok(None) => img,
        Err(why) => {
            tracing::warn!("{why}; serving the pixels unconverted");
            img
        }
    }
}

fn convert(img: &DynamicImage, icc: &[u8]) -> Result<Option<DynamicImage>, String> {
    let src = profile(icc)?;
    let srgb = ColorProfile::new_srgb();
    let (w, h) = (img.width(), img.height());
    let gray = matches!(src.color_space, DataColorSpace::Gray);
    let rgb = matches!(src.color_space, DataColorSpace::Rgb);
    let err = |e: moxcms::CmsError| format!("colour transform: {e:?}");
    macro_rules! run {
        ($make:ident, $in:expr, $src_layout:expr, $dst_layout:expr, $out_len:expr, $zero:expr) => {{
            let t = src
                .$make($src_layout, &srgb, $dst_layout, options())
                .map_err(err)?;
            let mut out = vec![$zero; $out_len];
            t.transform($in, &mut out).map_err(err)?;
            out
        }};
    }
    let px = (w as usize) * (h as usize);
    Ok(Some(match img {
        DynamicImage::ImageRgb8(b) if rgb => {
            let out = run!(
                create_transform_8bit,
                b.as_raw(),
                Layout::Rgb,
                Layout::Rgb,
                px * 3,
                0u8
            );
            DynamicImage::ImageRgb8(ImageBuffer::from_raw(w, h, out).ok_or("size")?)
        }
        DynamicImage::ImageRgba8(b) if rgb => {
            let out = run!(
                create_transform_8bit,
                b.as_raw(),
                Layout::Rgba,
                Layout::Rgba,
                px * 4,
                0u8
            );
            DynamicImage::ImageRgba8(ImageBuffer::from_raw(w, h, out).ok_or("size")?)
        }
        DynamicImage::ImageRgb16(b) if rgb => {
            let out = run!(
                create_transform_16bit,
                b.as_raw(),
                Layout::Rgb,
                Layout::Rgb,
                px * 3,
                0u16
            );
            DynamicImage::ImageRgb16(ImageBuffer::from_raw(w, h, out).ok_or("size")?)
        }
        DynamicImage::ImageRgba16(b) if rgb => {
            let out = run!(
                create_transform_16bit,
                b.as_raw(),
                Layout::Rgba,
                Layout::Rgba,
                px * 4,
                0u16
            );
            DynamicImage::ImageRgba16(ImageBuffer::from_raw(w, h, out).ok_or("size")?)
        }
        DynamicImage::ImageLuma8(b) if gray => {
            let out = run!(
                create_transform_8bit,
                b.as_raw(),
                Layout::Gray,
                Layout::Rgb,
                px * 3,
                0u8
            );
            let l: Vec<u8> = out.chunks_exact(3).map(|p| p[1]).collect();
            DynamicImage::ImageLuma8(ImageBuffer::<Luma<u8>, _>::from_raw(w, h, l).ok_or("size")?)
        }
        DynamicImage::ImageLumaA8(b) if gray => {
            let out = run!(
                create_transform_8bit,
                b.as_raw(),
                Layout::GrayAlpha,
                Layout::Rgba,
                px * 4,
                0u8
            );
            let la: Vec<u8> = out.chunks_exact(4).flat_map(|p| [p[1], p[3]]).collect();
            DynamicImage::ImageLumaA8(
                ImageBuffer::<LumaA<u8>, _>::from_raw(w, h, la).ok_or("size")?,
            )
        }
        DynamicImage::ImageLuma16(b) if gray => {
            let out = run!(
                create_transform_16bit,
                b.as_raw(),
                Layout::Gray,
                Layout::Rgb,
                px * 3,
                0u16
            );
            let l: Vec<u16> = out.chunks_exact(3).map(|p| p[1]).collect();
            DynamicImage::ImageLuma16(ImageBuffer::<Luma<u16>, _>::from_raw(w, h, l).ok_or("size")?)
        }
        DynamicImage::ImageLumaA16(b) if gray => {
            let out = run!(
                create_transform_16bit,
                b.as_raw(),
                Layout::GrayAlpha,
                Layout::Rgba,
                px * 4,
                0u16
            );
            let la: Vec<u16> = out.chunks_exact(4).flat_map(|p| [p[1], p[3]]).collect();
            DynamicImage::ImageLumaA16(
                ImageBuffer::<LumaA<u16>, _>::from_raw(w, h, la).ok_or("size")?,
            )
        }
        _ => {
            return Err(format!(
                "ICC profile for {:?} does not fit {:?} pixels",
                src.color_space,
                img.color()
            ))
        }
    }))
}
