//! Decoding a source file into pixels ready for the pipeline: in sRGB (embedded ICC profiles
//! and CMYK converted), upright (EXIF or TIFF orientation applied), and at 8 or 16 bits per
//! channel (16-bit sources keep their precision until the final encode).

use super::{color, jpeg, DecodeLimits, SourceError};
use crate::iiif::Dimensions;
use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};
use std::io::Cursor;
use std::path::Path;

fn decode_err(e: impl std::fmt::Display) -> SourceError {
    SourceError::Decode(e.to_string())
}

/// The dimensions of an image after its orientation is applied.
fn upright(w: u32, h: u32, o: Orientation) -> Dimensions {
    match o {
        Orientation::Rotate90
        | Orientation::Rotate270
        | Orientation::Rotate90FlipH
        | Orientation::Rotate270FlipH => Dimensions {
            width: h,
            height: w,
        },
        _ => Dimensions {
            width: w,
            height: h,
        },
    }
}

/// Reads only the header to learn the image's upright size.
pub fn read_dimensions(path: &Path) -> Result<Dimensions, SourceError> {
    super::guarded("the image header reader", || {
        read_dimensions_unguarded(path)
    })
}

fn read_dimensions_unguarded(path: &Path) -> Result<Dimensions, SourceError> {
    if super::jp2::is_jp2_file(path) {
        return super::jp2::read_header(path).map(|h| h.dims);
    }
    let mut dec = ImageReader::open(path)
        .and_then(|r| r.with_guessed_format())
        .map_err(decode_err)?
        .into_decoder()
        .map_err(decode_err)?;
    let (w, h) = dec.dimensions();
    if w == 0 || h == 0 {
        return Err(SourceError::Decode("image has a zero dimension".into()));
    }
    let o = dec.orientation().unwrap_or(Orientation::NoTransforms);
    Ok(upright(w, h, o))
}

/// Reads a whole file, refusing one larger than the per-decode cap before reading it.
fn read_file(path: &Path, limits: DecodeLimits) -> Result<Vec<u8>, SourceError> {
    let len = std::fs::metadata(path).map_err(decode_err)?.len();
    limits.check_bytes(len)?;
    std::fs::read(path).map_err(decode_err)
}

/// Decodes the whole image, refusing sources above the pixel ceiling or the per-decode
/// memory cap before allocating.
pub fn decode(path: &Path, limits: DecodeLimits) -> Result<DynamicImage, SourceError> {
    super::guarded("the decoder", || decode_unguarded(path, limits))
}

fn decode_unguarded(path: &Path, limits: DecodeLimits) -> Result<DynamicImage, SourceError> {
    let dims = read_dimensions(path)?;
    limits.check_pixels(dims)?;
    let pixels = u64::from(dims.width) * u64::from(dims.height);
    if super::jp2::is_jp2_file(path) {
        let header = super::jp2::read_header(path)?;
        // Four 8-bit channels at most (16-bit JPEG 2000 is read as 8-bit).
        limits.check_bytes(pixels.saturating_mul(4))?;
        return super::jp2::decode(path, &header, None, 0).map(|(img, _)| img);
    }
    let bytes = read_file(path, limits)?;
    let reader = ImageReader::new(Cursor::new(&bytes))
        .with_guessed_format()
        .map_err(decode_err)?;
    let reader_format = reader.format();
    let is_jpeg = reader_format == Some(ImageFormat::Jpeg);
    if is_jpeg {
        jpeg::check_data(&bytes, dims)?;
    }
    if reader_format == Some(ImageFormat::Png) {
        check_png_palette(&bytes)?;
    }
    let mut dec = reader.into_decoder().map_err(decode_err)?;
    // The decoded picture, and the file bytes already held.
    limits.check_bytes(dec.total_bytes().saturating_add(bytes.len() as u64))?;
    let orientation = dec.orientation().unwrap_or(Orientation::NoTransforms);
    let is_tiff = reader_format == Some(ImageFormat::Tiff);
    let four_channel = if is_jpeg {
        jpeg::decode_cmyk(&bytes).map_err(decode_err)?
    } else if is_tiff {
        super::tiff::decode_cmyk(&bytes).map_err(decode_err)?
    } else {
        None
    };
    let mut img = match four_channel {
        Some(cmyk) => cmyk,
        None => {
            let icc = match dec.icc_profile().ok().flatten() {
                None if is_tiff => super::tiff::icc_profile(&bytes),
                found => found,
            };
            // Four 16-bit channels of every claimed pixel plus decoder working space, within
            // the per-decode cap.
            let claimed = pixels.saturating_mul(8).saturating_add(64 << 20);
            let mut image_limits = Limits::default();
            image_limits.max_alloc = Some(claimed.min(limits.max_bytes));
            dec.set_limits(image_limits).map_err(decode_err)?;
            let img = working(DynamicImage::from_decoder(dec).map_err(decode_err)?);
            match icc {
                Some(icc) => color::to_srgb(img, &icc),
                None => img,
            }
        }
    };
    img.apply_orientation(orientation);
    Ok(img)
}

/// Refuses a PNG whose palette (PLTE) is not a whole number of RGB entries, up to 256, which
/// the png crate (0.18.1) does not check.
fn check_png_palette(bytes: &[u8]) -> Result<(), SourceError> {
    let mut at = 8;
    while let Some(head) = bytes.get(at..at + 8) {
        let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
        match &head[4..8] {
            b"PLTE" if len == 0 || len % 3 != 0 || len > 768 => {
                return Err(SourceError::Decode(format!(
                    "PNG palette of {len} bytes is not 1 to 256 RGB entries"
                )));
            }
            b"IDAT" | b"IEND" => break,
            _ => {}
        }
        at = at.saturating_add(12).saturating_add(len);
    }
    Ok(())
}

/// Whether a file starts with a JPEG SOI marker.
pub fn is_jpeg_file(path: &Path) -> bool {
    let mut head = [0u8; 3];
    std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head))
        .is_ok()
        && head == [0xFF, 0xD8, 0xFF]
}

/// Decodes the image at 1/`shrink` of its size where the format allows it (RGB and gray
/// JPEG, by DCT scaling: 2, 4 or 8), else whole. The caller maps regions by the actual size.
pub fn decode_shrunk(
    path: &Path,
    limits: DecodeLimits,
    shrink: u32,
) -> Result<DynamicImage, SourceError> {
    super::guarded("the decoder", || {
        decode_shrunk_unguarded(path, limits, shrink)
    })
}

fn decode_shrunk_unguarded(
    path: &Path,
    limits: DecodeLimits,
    shrink: u32,
) -> Result<DynamicImage, SourceError> {
    if shrink <= 1 || !is_jpeg_file(path) {
        return decode(path, limits);
    }
    let dims = read_dimensions(path)?;
    limits.check_pixels(dims)?;
    let bytes = read_file(path, limits)?;
    jpeg::check_data(&bytes, dims)?;
    let budget = limits.max_bytes.saturating_sub(bytes.len() as u64);
    match jpeg::decode_shrunk(&bytes, shrink, budget)? {
        Some(img) => Ok(img),
        None => decode(path, limits),
    }
}

/// Keeps 8- and 16-bit layouts as they are (16-bit keeps its precision through the
/// pipeline); floating point becomes 16-bit.
fn working(img: DynamicImage) -> DynamicImage {
    match img {
        DynamicImage::ImageRgb32F(_) => DynamicImage::ImageRgb16(img.to_rgb16()),
        DynamicImage::ImageRgba32F(_) => DynamicImage::ImageRgba16(img.to_rgba16()),
        other => other,
    }
}

pub use crate::raster::to_8bit;
