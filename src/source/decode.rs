//! Decoding a source file into an 8-bit image (gray, gray+alpha, RGB or RGBA).

use super::SourceError;
use crate::iiif::Dimensions;
use image::{DynamicImage, ImageFormat, ImageReader, Limits};
use std::io::Cursor;
use std::path::Path;

fn reader(path: &Path) -> Result<ImageReader<std::io::BufReader<std::fs::File>>, SourceError> {
    ImageReader::open(path)
        .and_then(|r| r.with_guessed_format())
        .map_err(|e| SourceError::Decode(e.to_string()))
}

/// Whether a JPEG file is complete: its last scan (SOS marker) is followed by an EOI marker.
/// The decoder fills a truncated scan with gray instead of failing; such a file must be
/// reported, not served.
pub fn jpeg_is_complete(bytes: &[u8]) -> bool {
    let last_sos = bytes.windows(2).rposition(|w| w == [0xFF, 0xDA]);
    match last_sos {
        Some(at) => bytes[at..].windows(2).any(|w| w == [0xFF, 0xD9]),
        None => false,
    }
}

/// Reads only the header to learn the image's size.
pub fn read_dimensions(path: &Path) -> Result<Dimensions, SourceError> {
    let (width, height) = reader(path)?
        .into_dimensions()
        .map_err(|e| SourceError::Decode(e.to_string()))?;
    if width == 0 || height == 0 {
        return Err(SourceError::Decode("image has a zero dimension".into()));
    }
    Ok(Dimensions { width, height })
}

/// Decodes the whole image, refusing sources above `max_pixels` before allocating, and
/// converts it to 8 bits per channel.
pub fn decode(path: &Path, max_pixels: u64) -> Result<DynamicImage, SourceError> {
    let dims = read_dimensions(path)?;
    let pixels = u64::from(dims.width) * u64::from(dims.height);
    if pixels > max_pixels {
        return Err(SourceError::TooManyPixels {
            width: dims.width,
            height: dims.height,
            ceiling: max_pixels,
        });
    }
    let bytes = std::fs::read(path).map_err(|e| SourceError::Decode(e.to_string()))?;
    let mut r = ImageReader::new(Cursor::new(&bytes))
        .with_guessed_format()
        .map_err(|e| SourceError::Decode(e.to_string()))?;
    if r.format() == Some(ImageFormat::Jpeg) && !jpeg_is_complete(&bytes) {
        return Err(SourceError::Decode(
            "JPEG data is truncated (no end-of-image marker)".into(),
        ));
    }
    let mut limits = Limits::default();
    // Four 16-bit channels of every claimed pixel, plus decoder working space.
    limits.max_alloc = Some(pixels.saturating_mul(8).saturating_add(64 << 20));
    r.limits(limits);
    let img = r.decode().map_err(|e| SourceError::Decode(e.to_string()))?;
    Ok(to_8bit(img))
}

/// Converts any decoded image to one of the four 8-bit layouts the pipeline works on.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncated_jpegs_are_detected() {
        let img = DynamicImage::new_rgb8(64, 64);
        let mut jpg = Vec::new();
        img.write_to(&mut Cursor::new(&mut jpg), ImageFormat::Jpeg)
            .unwrap();
        assert!(jpeg_is_complete(&jpg));
        assert!(!jpeg_is_complete(&jpg[..jpg.len() - 10]));
        assert!(!jpeg_is_complete(&jpg[..jpg.len() / 2]));
        assert!(!jpeg_is_complete(b"not a jpeg"));
    }
}
