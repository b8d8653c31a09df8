//! One-bit output for black-and-white images (the `bitonal` quality): PNG with bit depth 1,
//! and a baseline bilevel TIFF. Packing is lossless: it applies only to gray images whose
//! every pixel is 0 or 255.

use image::GrayImage;
use std::io::Cursor;

/// Whether every pixel is pure black or pure white.
pub fn is_bilevel(img: &GrayImage) -> bool {
    img.as_raw().iter().all(|&v| v == 0 || v == 255)
}

/// Rows packed 8 pixels per byte, most significant bit first, 1 = white.
fn packed_rows(img: &GrayImage) -> Vec<u8> {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let stride = w.div_ceil(8);
    let mut out = vec![0u8; stride * h];
    for (y, row) in img.as_raw().chunks_exact(w.max(1)).enumerate().take(h) {
        for (x, &v) in row.iter().enumerate() {
            if v != 0 {
                out[y * stride + x / 8] |= 0x80 >> (x % 8);
            }
        }
    }
    out
}

/// A 1-bit grayscale PNG.
pub fn png(img: &GrayImage) -> Result<Vec<u8>, png::EncodingError> {
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(Cursor::new(&mut out), img.width(), img.height());
    enc.set_color(png::ColorType::Grayscale);
    enc.set_depth(png::BitDepth::One);
    let mut writer = enc.write_header()?;
    writer.write_image_data(&packed_rows(img))?;
    writer.finish()?;
    Ok(out)
}

/// A baseline bilevel TIFF: one uncompressed strip, BlackIsZero, 72 dpi.
pub fn tiff(img: &GrayImage) -> Vec<u8> {
    let data = packed_rows(img);
    let entries: [(u16, u16, u32, u32); 11] = [
        // (tag, type, count, value or offset); types: 3 SHORT, 4 LONG, 5 RATIONAL
        (256, 4, 1, img.width()),
        (257, 4, 1, img.height()),
        (258, 3, 1, 1), // BitsPerSample
        (259, 3, 1, 1), // Compression: none
        (262, 3, 1, 1), // PhotometricInterpretation: BlackIsZero
        (273, 4, 1, 8), // StripOffsets: right after the header
        (277, 3, 1, 1), // SamplesPerPixel
        (278, 4, 1, img.height()),
        (279, 4, 1, data.len() as u32),
        (282, 5, 1, 0), // XResolution (offset filled below)
        (283, 5, 1, 0), // YResolution
    ];
    let ifd_at = 8 + data.len() + (data.len() % 2);
    let n = entries.len() + 1; // + ResolutionUnit
    let rational_at = ifd_at + 2 + n * 12 + 4;
    let mut out = Vec::with_capacity(rational_at + 8);
    out.extend_from_slice(b"II*\0");
    out.extend_from_slice(&(ifd_at as u32).to_le_bytes());
    out.extend_from_slice(&data);
    if data.len() % 2 == 1 {
        out.push(0);
    }
    out.extend_from_slice(&(n as u16).to_le_bytes());
    let mut push = |tag: u16, typ: u16, count: u32, value: u32| {
        out.extend_from_slice(&tag.to_le_bytes());
        out.extend_from_slice(&typ.to_le_bytes());
        out.extend_from_slice(&count.to_le_bytes());
        if typ == 3 {
            out.extend_from_slice(&(value as u16).to_le_bytes());
            out.extend_from_slice(&[0, 0]);
        } else {
            out.extend_from_slice(&value.to_le_bytes());
        }
    };
    for (tag, typ, count, value) in entries {
        let value = if typ == 5 { rational_at as u32 } else { value };
        push(tag, typ, count, value);
    }
    push(296, 3, 1, 2); // ResolutionUnit: inch
    out.extend_from_slice(&0u32.to_le_bytes()); // no next IFD
    out.extend_from_slice(&72u32.to_le_bytes());
    out.extend_from_slice(&1u32.to_le_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Luma;

    fn checker() -> GrayImage {
        GrayImage::from_fn(13, 5, |x, y| Luma([if (x + y) % 2 == 0 { 255 } else { 0 }]))
    }

    #[test]
    fn one_bit_files_decode_to_the_same_pixels() {
        let img = checker();
        assert!(is_bilevel(&img));
        let p = png(&img).unwrap();
        let back = image::load_from_memory(&p).unwrap().to_luma8();
        assert_eq!(back, img);
        let t = tiff(&img);
        let back = image::load_from_memory(&t).unwrap().to_luma8();
        assert_eq!(back, img);
        // One bit per pixel: the strip holds 2 bytes per 13-pixel row.
        assert!(t.len() < 8 + 10 + 200, "{}", t.len());
        assert!(!is_bilevel(&GrayImage::from_pixel(2, 2, Luma([128]))));
    }
}
