//! Encoding a processed image into the requested output format (§4.5).

mod bilevel;
pub mod jp2;
mod pdf;
mod strips;

use crate::iiif::Format;
use crate::pipeline::flatten_on_white;
use image::codecs::gif::GifEncoder;
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::codecs::tiff::TiffEncoder;
use image::codecs::webp::WebPEncoder;
use image::DynamicImage;
use std::io::Cursor;

/// Why encoding failed (a server fault: 500).
#[derive(Debug, Clone, thiserror::Error)]
pub enum EncodeError {
    /// An encoder library failed.
    #[error("cannot encode {format}")]
    Codec {
        /// The output format.
        format: &'static str,
        /// The encoder's error.
        #[source]
        source: std::sync::Arc<dyn std::error::Error + Send + Sync>,
    },
    /// The image cannot be written in this format (too large, an unsupported layout), or
    /// the encoder failed without saying why.
    #[error("cannot encode {format}: {reason}")]
    Unsupported {
        /// The output format.
        format: &'static str,
        /// Why.
        reason: String,
    },
}

impl EncodeError {
    fn codec(format: &'static str, e: impl std::error::Error + Send + Sync + 'static) -> Self {
        EncodeError::Codec {
            format,
            source: std::sync::Arc::new(e),
        }
    }

    fn unsupported(format: &'static str, reason: impl Into<String>) -> Self {
        EncodeError::Unsupported {
            format,
            reason: reason.into(),
        }
    }
}

/// Encodes `img` as `format`. JPEG uses `jpeg_quality` (1–100). Formats without
/// transparency (jpg, pdf, jp2) composite any alpha over white.
pub fn encode(
    img: &DynamicImage,
    format: Format,
    jpeg_quality: u8,
) -> Result<Vec<u8>, EncodeError> {
    let name = format.extension();
    let err = |e: image::ImageError| EncodeError::codec(name, e);
    let converted;
    let img = if matches!(
        img,
        DynamicImage::ImageLuma8(_)
            | DynamicImage::ImageLumaA8(_)
            | DynamicImage::ImageRgb8(_)
            | DynamicImage::ImageRgba8(_)
    ) {
        img
    } else {
        converted = crate::raster::to_8bit(img.clone());
        &converted
    };
    let mut out = Vec::new();
    match format {
        Format::Jpg => {
            jpeg(img, jpeg_quality, &mut out)?;
        }
        Format::Png if bilevel_gray(img).is_some() => {
            if let Some(g) = bilevel_gray(img) {
                out = bilevel::png(g).map_err(|e| EncodeError::codec(name, e))?;
            }
        }
        Format::Tif if bilevel_gray(img).is_some() => {
            if let Some(g) = bilevel_gray(img) {
                out = bilevel::tiff(g);
            }
        }
        Format::Png => {
            let enc =
                PngEncoder::new_with_quality(&mut out, CompressionType::Fast, FilterType::Adaptive);
            img.write_with_encoder(enc).map_err(err)?;
        }
        Format::Gif => {
            let rgba = DynamicImage::ImageRgba8(img.to_rgba8());
            let enc = GifEncoder::new_with_speed(&mut out, 10);
            rgba.write_with_encoder(enc).map_err(err)?;
        }
        Format::Webp => {
            let enc = WebPEncoder::new_lossless(&mut out);
            img.write_with_encoder(enc).map_err(err)?;
        }
        Format::Tif => {
            let img = match img {
                DynamicImage::ImageLumaA8(_) => DynamicImage::ImageRgba8(img.to_rgba8()),
                other => other.clone(),
            };
            let enc = TiffEncoder::new(Cursor::new(&mut out));
            img.write_with_encoder(enc).map_err(err)?;
        }
        Format::Pdf => {
            let opaque = opaque(img);
            let mut jpg = Vec::new();
            jpeg(&opaque, jpeg_quality, &mut jpg)?;
            out = pdf::single_image(
                &jpg,
                opaque.width(),
                opaque.height(),
                opaque.color().channel_count() == 1,
            );
        }
        Format::Jp2 => {
            out = jp2::encode(&opaque(img)).map_err(|r| EncodeError::unsupported(name, r))?;
        }
    }
    Ok(out)
}

/// The image as gray when it is pure black and white, so that one bit per pixel holds it.
fn bilevel_gray(img: &DynamicImage) -> Option<&image::GrayImage> {
    img.as_luma8().filter(|g| bilevel::is_bilevel(g))
}

/// The image without alpha: gray stays gray, everything else becomes RGB over white.
fn opaque(img: &DynamicImage) -> DynamicImage {
    match img {
        DynamicImage::ImageLuma8(_) | DynamicImage::ImageRgb8(_) => img.clone(),
        DynamicImage::ImageLumaA8(_) => DynamicImage::ImageLuma8(flatten_on_white(img).to_luma8()),
        _ => flatten_on_white(img),
    }
}

fn jpeg(img: &DynamicImage, quality: u8, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    let img = match opaque(img) {
        i @ (DynamicImage::ImageLuma8(_) | DynamicImage::ImageRgb8(_)) => i,
        other => DynamicImage::ImageRgb8(other.to_rgb8()),
    };
    let channels = usize::from(img.color().channel_count());
    *out = jpeg_pixels(img.as_bytes(), img.width(), img.height(), channels, quality)?;
    Ok(())
}

/// Images of at least this many pixels (and more than one strip tall) are encoded in strips
/// on all cores, with restart markers (see [`strips`]).
const STRIPS_MIN_PIXELS: u64 = 4_000_000;

/// Encodes packed 8-bit gray (1 channel) or RGB (3) pixels as a baseline JFIF JPEG at
/// `quality`, without chroma subsampling (`jpeg-encoder`, SIMD; see BENCHMARKS.md). Large
/// images are encoded on all cores.
pub fn jpeg_pixels(
    pixels: &[u8],
    width: u32,
    height: u32,
    channels: usize,
    quality: u8,
) -> Result<Vec<u8>, EncodeError> {
    if pixels.len() != width as usize * height as usize * channels {
        return Err(EncodeError::unsupported(
            "jpg",
            "pixel buffer does not match the size",
        ));
    }
    let large = u64::from(width) * u64::from(height) >= STRIPS_MIN_PIXELS;
    if large && height > strips::STRIP_ROWS {
        strips::encode_in_strips(
            pixels,
            (width, height),
            channels,
            |part, w, rows, interval| jpeg_pass(part, w, rows, channels, quality, interval),
        )
        .map_err(|e| match e {
            strips::StripError::Encoder(e) => e,
            strips::StripError::Layout(reason) => EncodeError::unsupported("jpg", reason),
        })
    } else {
        jpeg_pass(pixels, width, height, channels, quality, 0)
    }
}

/// One `jpeg-encoder` pass, with a restart marker every `restart_interval` MCUs (0: none).
fn jpeg_pass(
    pixels: &[u8],
    width: u32,
    height: u32,
    channels: usize,
    quality: u8,
    restart_interval: u16,
) -> Result<Vec<u8>, EncodeError> {
    let side = |v: u32| {
        u16::try_from(v).map_err(|_| {
            EncodeError::unsupported("jpg", format!("{width}x{height} is too large for JPEG"))
        })
    };
    let color = match channels {
        1 => jpeg_encoder::ColorType::Luma,
        3 => jpeg_encoder::ColorType::Rgb,
        n => return Err(EncodeError::unsupported("jpg", format!("{n} channels"))),
    };
    let mut out = Vec::new();
    let mut enc = jpeg_encoder::Encoder::new(&mut out, quality.clamp(1, 100));
    enc.set_sampling_factor(jpeg_encoder::SamplingFactor::R_4_4_4);
    // Strips share their Huffman tables only if the tables are the standard ones.
    enc.set_optimized_huffman_tables(false);
    enc.set_restart_interval(restart_interval);
    enc.encode(pixels, side(width)?, side(height)?, color)
        .map_err(|e| EncodeError::codec("jpg", e))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgba, RgbaImage};

    fn sample() -> DynamicImage {
        let mut img = RgbaImage::from_pixel(64, 48, Rgba([200, 30, 40, 255]));
        img.put_pixel(0, 0, Rgba([0, 0, 0, 0]));
        DynamicImage::ImageRgba8(img)
    }

    #[test]
    fn large_jpegs_encoded_in_strips_decode_as_one_pass() {
        // 2,400×1,700 (3 strips, the last 676 rows: not whole MCU rows) in RGB, and gray.
        let (w, h) = (2401u32, 1701u32);
        for channels in [3usize, 1] {
            let pixels: Vec<u8> = (0..w * h)
                .flat_map(|i| {
                    let (x, y) = (i % w, i / w);
                    let v = ((x * 7 + y * 3) % 256) as u8 ^ ((x / 50 + y / 40) % 2 * 90) as u8;
                    [v, (y % 256) as u8, (x % 256) as u8][..channels].to_vec()
                })
                .collect();
            assert!(u64::from(w * h) >= STRIPS_MIN_PIXELS && h > strips::STRIP_ROWS);
            let joined = jpeg_pixels(&pixels, w, h, channels, 85).unwrap();
            let single = jpeg_pass(&pixels, w, h, channels, 85, 0).unwrap();
            assert_ne!(joined, single, "the strip path was taken");
            // Restart markers: one between every two MCU rows, numbered 0–7 in turn.
            let markers: Vec<u8> = joined
                .windows(2)
                .filter(|p| p[0] == 0xFF && (0xD0..=0xD7).contains(&p[1]))
                .map(|p| p[1] - 0xD0)
                .collect();
            assert_eq!(markers.len(), h.div_ceil(8) as usize - 1);
            assert!(markers
                .iter()
                .enumerate()
                .all(|(i, &m)| m as usize == i % 8));
            // Both decoders read the joined stream as exactly the single pass's pixels.
            let a = image::load_from_memory(&joined).unwrap();
            let b = image::load_from_memory(&single).unwrap();
            assert_eq!((a.width(), a.height()), (w, h));
            assert_eq!(a.as_bytes(), b.as_bytes());
            let mut d = jpeg_decoder::Decoder::new(std::io::Cursor::new(&joined));
            let strict = d.decode().unwrap();
            let mut d = jpeg_decoder::Decoder::new(std::io::Cursor::new(&single));
            assert_eq!(strict, d.decode().unwrap());
        }
    }

    #[test]
    fn every_format_round_trips_its_size() {
        for f in [
            Format::Jpg,
            Format::Png,
            Format::Gif,
            Format::Webp,
            Format::Tif,
        ] {
            let bytes = encode(&sample(), f, 90).unwrap();
            let back = image::load_from_memory(&bytes).unwrap();
            assert_eq!((back.width(), back.height()), (64, 48), "{f:?}");
            let p = back.to_rgba8().get_pixel(32, 24).0;
            assert!(
                p[0].abs_diff(200) < 8 && p[1].abs_diff(30) < 8,
                "{f:?} {p:?}"
            );
        }
    }

    #[test]
    fn jpeg_flattens_alpha_on_white() {
        let bytes = encode(&sample(), Format::Jpg, 95).unwrap();
        let back = image::load_from_memory(&bytes).unwrap().to_rgb8();
        assert!(back.get_pixel(0, 0).0.iter().all(|&c| c > 150));
    }

    #[test]
    fn pdf_and_jp2_have_their_signatures() {
        let pdf = encode(&sample(), Format::Pdf, 90).unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        let jp2 = encode(&sample(), Format::Jp2, 90).unwrap();
        assert_eq!(&jp2[4..8], b"jP  ");
    }
}
