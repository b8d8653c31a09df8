//! TIFF specifics the general decoder leaves out: the embedded ICC profile (tag 34675, whose
//! UNDEFINED type `image` 0.25 does not read), and CMYK TIFFs decoded to ink values for
//! colour management (TIFF stores ink amounts directly, 0 = no ink).

use super::color::cmyk_to_srgb;
use super::SourceError;
use image::DynamicImage;
use std::io::Cursor;
use tiff::decoder::{Decoder, DecodingResult};
use tiff::tags::Tag;
use tiff::ColorType;

/// A decoder without the crate's default 256 MiB buffer limit: callers check the image's
/// pixel count against the configured ceiling before decoding.
fn decoder(bytes: &[u8]) -> Result<Decoder<Cursor<&[u8]>>, SourceError> {
    Decoder::new(Cursor::new(bytes))
        .map(|d| d.with_limits(tiff::decoder::Limits::unlimited()))
        .map_err(codec)
}

fn codec(e: tiff::TiffError) -> SourceError {
    SourceError::codec("TIFF", e)
}

/// The embedded ICC profile of the first image, if any.
pub fn icc_profile(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut d = decoder(bytes).ok()?;
    d.find_tag(Tag::IccProfile).ok()??.into_u8_vec().ok()
}

/// Decodes a CMYK TIFF to sRGB through its embedded profile (or the standard CMYK profile).
/// Returns `Ok(None)` for any other TIFF, which the ordinary decoder handles.
pub fn decode_cmyk(bytes: &[u8]) -> Result<Option<DynamicImage>, SourceError> {
    let mut d = decoder(bytes)?;
    let depth = match d.colortype().map_err(codec)? {
        ColorType::CMYK(bits) => bits,
        _ => return Ok(None),
    };
    let (w, h) = d.dimensions().map_err(codec)?;
    let icc = d
        .find_tag(Tag::IccProfile)
        .ok()
        .flatten()
        .and_then(|v| v.into_u8_vec().ok());
    let ink: Vec<u8> = match (depth, d.read_image().map_err(codec)?) {
        (8, DecodingResult::U8(v)) => v,
        (16, DecodingResult::U16(v)) => v
            .iter()
            .map(|&s| ((u32::from(s) + 128) / 257) as u8)
            .collect(),
        (bits, _) => {
            return Err(SourceError::Invalid(format!(
                "{bits}-bit CMYK TIFF is not supported"
            )))
        }
    };
    cmyk_to_srgb(&ink, w, h, icc.as_deref())
        .map(Some)
        .map_err(SourceError::Invalid)
}
