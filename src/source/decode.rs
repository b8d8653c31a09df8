//! Decoding a source file into pixels ready for the pipeline: in sRGB (embedded ICC profiles
//! and CMYK converted), upright (EXIF or TIFF orientation applied), and at 8 or 16 bits per
//! channel (16-bit sources keep their precision until the final encode).

use super::{color, jpeg, DecodeLimits, SourceError};
use crate::iiif::Dimensions;
use crate::storage::Object;
use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};
use std::io::Cursor;
use std::sync::Arc;

fn decode_err(e: impl std::error::Error + Send + Sync + 'static) -> SourceError {
    SourceError::codec("image", e)
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
pub fn read_dimensions(file: &Object) -> Result<Dimensions, SourceError> {
    super::guarded("the image header reader", || {
        read_dimensions_unguarded(file)
    })
}

fn read_dimensions_unguarded(file: &Object) -> Result<Dimensions, SourceError> {
    if super::jp2::is_jp2_file(file) {
        return super::jp2::read_header(file).map(|h| h.dims);
    }
    let reader = file.reader();
    let failed = reader.failure();
    let dec = ImageReader::new(reader)
        .with_guessed_format()
        .map_err(|e| decode_err(e).or_storage(&failed))
        .and_then(|r| {
            r.into_decoder()
                .map_err(|e| decode_err(e).or_storage(&failed))
        });
    let mut dec = match dec {
        Ok(dec) => dec,
        // A TIFF the general decoder does not take (JPEG tiles in YCbCr, BigTIFF) whose
        // levels the pyramid reader does: its size is its first level's, as it is served.
        Err(e @ SourceError::Storage(_)) => return Err(e),
        Err(e) => match super::pyramid::first_level(file)? {
            Some(level) => {
                return Ok(Dimensions {
                    width: level.width,
                    height: level.height,
                })
            }
            None => return Err(e),
        },
    };
    let (w, h) = dec.dimensions();
    if w == 0 || h == 0 {
        return Err(SourceError::Invalid("image has a zero dimension".into()));
    }
    let o = dec.orientation().unwrap_or(Orientation::NoTransforms);
    Ok(upright(w, h, o))
}

/// Reads a whole source, refusing one larger than the per-decode cap before reading it.
pub fn read_file(file: &Object, limits: DecodeLimits) -> Result<Vec<u8>, SourceError> {
    limits.check_bytes(file.len)?;
    Ok(file.read_all()?)
}

/// Decodes the whole image, refusing sources above the pixel ceiling or the per-decode
/// memory cap before allocating.
pub fn decode(file: &Object, limits: DecodeLimits) -> Result<DynamicImage, SourceError> {
    super::guarded("the decoder", || decode_unguarded(file, limits))
}

fn decode_unguarded(file: &Object, limits: DecodeLimits) -> Result<DynamicImage, SourceError> {
    let dims = read_dimensions(file)?;
    limits.check_pixels(dims)?;
    let pixels = u64::from(dims.width) * u64::from(dims.height);
    if super::jp2::is_jp2_file(file) {
        let header = super::jp2::read_header(file)?;
        // Four 8-bit channels at most (16-bit JPEG 2000 is read as 8-bit), and the file.
        limits.check_bytes(pixels.saturating_mul(4).saturating_add(file.len))?;
        // All of it: a whole copy, without walking the tile-parts.
        let (path, _copy) = super::jp2::readable(file, None, limits, || {
            super::jp2::Jp2Copy::whole(file, limits).map(Arc::new)
        })?;
        return super::jp2::decode(&path, &header, None, 0).map(|(img, _)| img);
    }
    let bytes = read_file(file, limits)?;
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
        jpeg::decode_cmyk(&bytes)?
    } else if is_tiff {
        super::tiff::decode_cmyk(&bytes)?
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
                return Err(SourceError::Invalid(format!(
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

/// Whether a source starts with a JPEG SOI marker.
pub fn is_jpeg_file(file: &Object) -> bool {
    file.head(3).is_ok_and(|h| h == [0xFF, 0xD8, 0xFF])
}

/// Decodes the image at 1/`shrink` of its size where the format allows it (RGB and gray
/// JPEG, by DCT scaling: 2, 4 or 8), else whole. The caller maps regions by the actual size.
pub fn decode_shrunk(
    file: &Object,
    limits: DecodeLimits,
    shrink: u32,
) -> Result<DynamicImage, SourceError> {
    super::guarded("the decoder", || {
        decode_shrunk_unguarded(file, limits, shrink)
    })
}

fn decode_shrunk_unguarded(
    file: &Object,
    limits: DecodeLimits,
    shrink: u32,
) -> Result<DynamicImage, SourceError> {
    if shrink <= 1 || !is_jpeg_file(file) {
        return decode(file, limits);
    }
    let dims = read_dimensions(file)?;
    limits.check_pixels(dims)?;
    let bytes = read_file(file, limits)?;
    jpeg::check_data(&bytes, dims)?;
    let budget = limits.max_bytes.saturating_sub(bytes.len() as u64);
    match jpeg::decode_shrunk(&bytes, shrink, budget)? {
        Some(img) => Ok(img),
        None => decode(file, limits),
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
