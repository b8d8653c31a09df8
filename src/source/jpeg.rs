//! JPEG specifics: the completeness check, the Adobe APP14 marker, and four-channel (CMYK and
//! YCCK) JPEGs decoded to ink values for colour management.
//!
//! Conventions, as libjpeg and Photoshop have them: a YCCK file stores C, M, Y as YCbCr of
//! (255 - C, 255 - M, 255 - Y) and K as it is; a file with an Adobe APP14 marker stores every
//! ink inverted (255 = no ink).

use super::color::{cmyk_to_srgb, to_srgb};
use super::SourceError;
use image::metadata::Orientation;
use image::{DynamicImage, ImageBuffer};
use zune_core::bytestream::ZCursor;
use zune_core::colorspace::ColorSpace;
use zune_jpeg::JpegDecoder;

/// Whether a JPEG file is complete: its last EOI marker comes after its last scan (SOS).
/// The decoder fills a truncated scan with gray instead of failing; such a file must be
/// reported, not served.
pub fn is_complete(bytes: &[u8]) -> bool {
    // The last end-of-image marker, searched from the end (so a whole file costs a few
    // bytes); an embedded thumbnail's marker does not count, because the main scan's
    // start-of-scan would come after it.
    let sos = |w: &[u8]| w == [0xFF, 0xDA];
    match bytes.windows(2).rposition(|w| w == [0xFF, 0xD9]) {
        Some(eoi) => !bytes[eoi..].windows(2).any(sos) && bytes[..eoi].windows(2).any(sos),
        None => false,
    }
}

/// Refuses JPEG data that cannot hold the image its header claims: a truncated file (see
/// [`is_complete`]), or one with less than a bit per 8x8 block of the claimed pixels (Huffman
/// coding spends at least one bit on every block's DC). Else a forged header over a small
/// scan makes the decoder turn a few kilobytes into hundreds of megapixels of work.
pub fn check_data(bytes: &[u8], dims: crate::iiif::Dimensions) -> Result<(), SourceError> {
    if !is_complete(bytes) {
        return Err(SourceError::Invalid(
            "JPEG data is truncated (no end-of-image marker)".into(),
        ));
    }
    let pixels = u64::from(dims.width) * u64::from(dims.height);
    if (bytes.len() as u64) < pixels / 512 {
        return Err(SourceError::Invalid(format!(
            "JPEG data ({} bytes) is too short for the {}x{} it claims",
            bytes.len(),
            dims.width,
            dims.height
        )));
    }
    Ok(())
}

/// The transform byte of the Adobe APP14 segment (0 = CMYK/RGB, 1 = YCbCr, 2 = YCCK), if the
/// file has one before its first scan.
pub fn adobe_transform(bytes: &[u8]) -> Option<u8> {
    let mut i = 2; // after SOI
    while i + 4 <= bytes.len() {
        if bytes[i] != 0xFF {
            return None;
        }
        let marker = bytes[i + 1];
        if marker == 0xFF {
            i += 1;
            continue;
        }
        if marker == 0xDA || marker == 0xD9 {
            return None;
        }
        let len = usize::from(u16::from_be_bytes([bytes[i + 2], bytes[i + 3]]));
        let body = bytes.get(i + 4..i + 2 + len)?;
        if marker == 0xEE && body.len() >= 12 && body.starts_with(b"Adobe") {
            return Some(body[11]);
        }
        i += 2 + len;
    }
    None
}

fn clamp(v: f32) -> u8 {
    v.round().clamp(0.0, 255.0) as u8
}

/// Decodes a CMYK or YCCK JPEG to sRGB through its embedded profile (or the standard CMYK
/// profile). Returns `Ok(None)` for any other JPEG, which the ordinary decoder handles.
pub fn decode_cmyk(bytes: &[u8]) -> Result<Option<DynamicImage>, SourceError> {
    let codec = |e| SourceError::codec("JPEG", e);
    let mut d = JpegDecoder::new(ZCursor::new(bytes));
    d.decode_headers().map_err(codec)?;
    let cs = match d.input_colorspace() {
        Some(cs @ (ColorSpace::CMYK | ColorSpace::YCCK)) => cs,
        _ => return Ok(None),
    };
    let options = d
        .options()
        .jpeg_set_out_colorspace(cs)
        .set_max_width(usize::MAX)
        .set_max_height(usize::MAX);
    d.set_options(options);
    let mut raw = d.decode().map_err(codec)?;
    let (w, h) = d
        .dimensions()
        .ok_or_else(|| SourceError::Invalid("JPEG has no dimensions".into()))?;
    let icc = d.icc_profile();
    if cs == ColorSpace::YCCK {
        for p in raw.chunks_exact_mut(4) {
            let (y, cb, cr) = (
                f32::from(p[0]),
                f32::from(p[1]) - 128.0,
                f32::from(p[2]) - 128.0,
            );
            p[0] = 255 - clamp(y + 1.402 * cr);
            p[1] = 255 - clamp(y - 0.344_136 * cb - 0.714_136 * cr);
            p[2] = 255 - clamp(y + 1.772 * cb);
        }
    }
    if adobe_transform(bytes).is_some() {
        raw.iter_mut().for_each(|v| *v = 255 - *v);
    }
    cmyk_to_srgb(&raw, w as u32, h as u32, icc.as_deref())
        .map(Some)
        .map_err(SourceError::Invalid)
}

/// Decodes an RGB or gray JPEG at 1/`shrink` of its size (1, 2, 4 or 8) by reduced-size
/// inverse DCTs (`jpeg-decoder`), converted to sRGB and upright. The result is
/// `ceil(size / shrink)`. Returns `Ok(None)` for a CMYK JPEG, which takes the full path.
/// A decode that would hold more than `max_bytes` is refused before allocation.
pub fn decode_shrunk(
    bytes: &[u8],
    shrink: u32,
    max_bytes: u64,
) -> Result<Option<DynamicImage>, SourceError> {
    let err = |e| SourceError::codec("JPEG", e);
    let no_header = || SourceError::Invalid("JPEG has no header".into());
    let mut d = jpeg_decoder::Decoder::new(std::io::Cursor::new(bytes));
    d.read_info().map_err(err)?;
    let info = d.info().ok_or_else(no_header)?;
    if info.pixel_format == jpeg_decoder::PixelFormat::CMYK32 {
        return Ok(None);
    }
    let (w, h) = (u32::from(info.width), u32::from(info.height));
    let target = |v: u32| u16::try_from(v.div_ceil(shrink.max(1))).unwrap_or(u16::MAX);
    let sample = info.pixel_format.pixel_bytes() as u64;
    let out = u64::from(target(w)) * u64::from(target(h)) * sample;
    // A progressive JPEG keeps every coefficient (two bytes per sample) until its last scan.
    let coefficients = if info.coding_process == jpeg_decoder::CodingProcess::DctProgressive {
        u64::from(w) * u64::from(h) * sample * 2
    } else {
        0
    };
    let needed = out + coefficients;
    if needed > max_bytes {
        return Err(SourceError::TooLarge {
            needed,
            cap: max_bytes,
        });
    }
    let size_err = || SourceError::Invalid("JPEG buffer has the wrong size".into());
    // At 1/8, a baseline file needs only its DC coefficients.
    let eighth = if shrink == 8 {
        super::jpeg_dc::decode_eighth(bytes).map_err(SourceError::Invalid)?
    } else {
        None
    };
    let img = if let Some(e) = eighth {
        match e.channels {
            1 => DynamicImage::ImageLuma8(
                ImageBuffer::from_raw(e.width, e.height, e.pixels).ok_or_else(size_err)?,
            ),
            _ => DynamicImage::ImageRgb8(
                ImageBuffer::from_raw(e.width, e.height, e.pixels).ok_or_else(size_err)?,
            ),
        }
    } else {
        d.set_max_decoding_buffer_size(usize::try_from(max_bytes).unwrap_or(usize::MAX));
        d.scale(target(w), target(h)).map_err(err)?;
        let pixels = d.decode().map_err(err)?;
        let info = d.info().ok_or_else(no_header)?;
        let (w, h) = (u32::from(info.width), u32::from(info.height));
        match info.pixel_format {
            jpeg_decoder::PixelFormat::L8 => {
                DynamicImage::ImageLuma8(ImageBuffer::from_raw(w, h, pixels).ok_or_else(size_err)?)
            }
            jpeg_decoder::PixelFormat::L16 => {
                let v: Vec<u16> = pixels
                    .chunks_exact(2)
                    .map(|b| u16::from_be_bytes([b[0], b[1]]))
                    .collect();
                DynamicImage::ImageLuma16(ImageBuffer::from_raw(w, h, v).ok_or_else(size_err)?)
            }
            jpeg_decoder::PixelFormat::RGB24 => {
                DynamicImage::ImageRgb8(ImageBuffer::from_raw(w, h, pixels).ok_or_else(size_err)?)
            }
            jpeg_decoder::PixelFormat::CMYK32 => return Ok(None),
        }
    };
    let mut img = match d.icc_profile() {
        Some(icc) => to_srgb(img, &icc),
        None => img,
    };
    let orientation = d
        .exif_data()
        .and_then(Orientation::from_exif_chunk)
        .unwrap_or(Orientation::NoTransforms);
    img.apply_orientation(orientation);
    Ok(Some(img))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    #[test]
    fn truncated_jpegs_are_detected() {
        let img = DynamicImage::new_rgb8(64, 64);
        let mut jpg = Vec::new();
        img.write_to(&mut Cursor::new(&mut jpg), image::ImageFormat::Jpeg)
            .unwrap();
        assert!(is_complete(&jpg));
        assert!(!is_complete(&jpg[..jpg.len() - 10]));
        assert!(!is_complete(&jpg[..jpg.len() / 2]));
        assert!(!is_complete(b"not a jpeg"));
        // A complete thumbnail embedded in an APP1 segment does not make a truncated main
        // image complete.
        let mut with_thumb = jpg[..2].to_vec();
        with_thumb.extend_from_slice(&[0xFF, 0xE1]);
        with_thumb.extend_from_slice(&((jpg.len() + 2) as u16).to_be_bytes());
        with_thumb.extend_from_slice(&jpg);
        with_thumb.extend_from_slice(&jpg[2..]);
        assert!(is_complete(&with_thumb));
        assert!(!is_complete(&with_thumb[..with_thumb.len() - 10]));
        assert_eq!(adobe_transform(&jpg), None);
        assert!(
            decode_cmyk(&jpg).unwrap().is_none(),
            "an RGB JPEG is not CMYK"
        );
    }

    #[test]
    fn shrunk_decodes_are_smaller_and_alike() {
        let img = DynamicImage::ImageRgb8(image::RgbImage::from_fn(333, 200, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
        }));
        let mut jpg = Vec::new();
        img.write_to(&mut Cursor::new(&mut jpg), image::ImageFormat::Jpeg)
            .unwrap();
        for (shrink, dims) in [
            (1, (333, 200)),
            (2, (167, 100)),
            (4, (84, 50)),
            (8, (42, 25)),
        ] {
            let out = decode_shrunk(&jpg, shrink, u64::MAX).unwrap().unwrap();
            assert_eq!((out.width(), out.height()), dims, "1/{shrink}");
        }
    }

    #[test]
    fn app14_is_found() {
        // SOI, APP14 "Adobe" (version 100, flags 0, 0, transform 2), then SOS.
        let mut b = vec![0xFF, 0xD8, 0xFF, 0xEE, 0x00, 0x0E];
        b.extend_from_slice(b"Adobe\x00\x64\x00\x00\x00\x00\x02");
        b.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x02]);
        assert_eq!(adobe_transform(&b), Some(2));
        assert_eq!(adobe_transform(&b[..8]), None);
    }
}
