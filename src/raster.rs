//! Plain pixel types shared by the decoders ([`crate::source`]), the pipeline and the
//! encoders, so that none of those imports another: where a decoded part of an image sits in
//! full-resolution coordinates, and the 8-bit layouts the encoders take.

use image::DynamicImage;

/// Where a decoded image sits in full-resolution coordinates: its pixel (i, j) covers the
/// full-resolution point (`x0 + i * fx`, `y0 + j * fy`). A whole image decoded at full size is
/// `{0, 0, 1, 1}`; a JPEG decoded at 1/8 is about `{0, 0, 8, 8}`; a window of pyramid tiles
/// is offset as well as scaled.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    /// Full-resolution x of the image's left edge.
    pub x0: f64,
    /// Full-resolution y of the image's top edge.
    pub y0: f64,
    /// Full-resolution pixels per image pixel, horizontally.
    pub fx: f64,
    /// Full-resolution pixels per image pixel, vertically.
    pub fy: f64,
}

impl Window {
    /// A whole image decoded at `src` size of an image whose full size is `full`.
    pub fn whole(src: &DynamicImage, full: crate::iiif::Dimensions) -> Window {
        Window {
            x0: 0.0,
            y0: 0.0,
            fx: f64::from(full.width) / f64::from(src.width().max(1)),
            fy: f64::from(full.height) / f64::from(src.height().max(1)),
        }
    }
}

/// Converts any image to one of the four 8-bit layouts the encoders take.
pub fn to_8bit(img: DynamicImage) -> DynamicImage {
    match img {
        DynamicImage::ImageLuma8(_)
        | DynamicImage::ImageLumaA8(_)
        | DynamicImage::ImageRgb8(_)
        | DynamicImage::ImageRgba8(_) => img,
        DynamicImage::ImageLuma16(_) => DynamicImage::ImageLuma8(img.to_luma8()),
        DynamicImage::ImageLumaA16(_) => DynamicImage::ImageLumaA8(img.to_luma_alpha8()),
        DynamicImage::ImageRgb16(_) | DynamicImage::ImageRgb32F(_) => {
            DynamicImage::ImageRgb8(img.to_rgb8())
        }
        _ => DynamicImage::ImageRgba8(img.to_rgba8()),
    }
}
