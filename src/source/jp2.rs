//! JPEG 2000 sources (`.jp2` files and `.j2k` codestreams), decoded with `jpeg2k` on its
//! pure-Rust OpenJPEG port. A request decodes only its region, at the smallest resolution
//! level that is still at least as large as the output, so a tile never costs a full decode.
//!
//! Decoding reads through a file stream: `jpeg2k` 0.10's in-memory stream mishandles the
//! skips that partial decodes of tiled codestreams need (every region of a 1024-px-tiled
//! image failed with both OpenJPEG backends), while its file stream decodes them correctly.
//! A source that is not a local file is decoded from a sparse local copy that holds the
//! tile-parts decodes have needed ([`Jp2Copy`]), which a server keeps per source version
//! (`Caches::jp2_copies`).

pub use super::jp2_copy::Jp2Copy;
use super::{DecodeLimits, SourceError};
use crate::iiif::{Dimensions, Rect};
use crate::raster::Window;
use crate::storage::Object;
use image::DynamicImage;
use jpeg2k::{DecodeArea, DecodeParameters};
use std::path::{Path, PathBuf};
use std::sync::Arc;

const JP2_SIGNATURE: [u8; 12] = [
    0, 0, 0, 0x0C, b'j', b'P', b' ', b' ', 0x0D, 0x0A, 0x87, 0x0A,
];
pub(super) const J2K_SIGNATURE: [u8; 4] = [0xFF, 0x4F, 0xFF, 0x51];

/// What the codestream header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Image size.
    pub dims: Dimensions,
    /// Codestream tile size (the image size when untiled).
    pub tile: (u32, u32),
    /// Number of wavelet decomposition levels (resolution levels - 1).
    pub levels: u32,
    /// The image's offset on the codestream canvas (XOsiz, YOsiz).
    pub origin: (u32, u32),
}

/// Whether bytes start like a JP2 file or a J2K codestream.
pub fn is_jp2(bytes: &[u8]) -> bool {
    bytes.starts_with(&JP2_SIGNATURE) || bytes.starts_with(&J2K_SIGNATURE)
}

/// Whether a source starts like JPEG 2000.
pub fn is_jp2_file(file: &Object) -> bool {
    sniff(file).unwrap_or(false)
}

/// Whether the object is JPEG 2000, by its first bytes; an error when they cannot be read.
pub fn sniff(file: &Object) -> Result<bool, SourceError> {
    Ok(file.len >= 12 && is_jp2(&file.head(12)?))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// Parses SIZ and COD from the start of a codestream (found inside a JP2 file too).
pub fn parse_header(bytes: &[u8]) -> Option<Header> {
    let cs = bytes.windows(4).position(|w| w == J2K_SIGNATURE)?;
    let siz = cs + 4; // Lsiz starts here
    let (x, y) = (be32(bytes, siz + 4)?, be32(bytes, siz + 8)?);
    let (x0, y0) = (be32(bytes, siz + 12)?, be32(bytes, siz + 16)?);
    let (tw, th) = (be32(bytes, siz + 20)?, be32(bytes, siz + 24)?);
    let (width, height) = (x.checked_sub(x0)?, y.checked_sub(y0)?);
    if width == 0 || height == 0 || tw == 0 || th == 0 {
        return None;
    }
    // COD: FF52, Lcod(2), Scod(1), progression(1), layers(2), MCT(1), levels(1).
    let lsiz = usize::from(u16::from_be_bytes([*bytes.get(siz)?, *bytes.get(siz + 1)?]));
    let after_siz = siz + lsiz;
    let cod = after_siz
        + bytes
            .get(after_siz..)?
            .windows(2)
            .position(|w| w == [0xFF, 0x52])?;
    let levels = u32::from(*bytes.get(cod + 9)?);
    Some(Header {
        dims: Dimensions { width, height },
        tile: (tw.min(width), th.min(height)),
        levels: levels.min(32),
        origin: (x0, y0),
    })
}

/// Reads the header from the start of a source (boxes before the codestream included): the
/// first 64 KiB, and up to 16 MiB when the codestream's markers lie further in.
pub fn read_header(file: &Object) -> Result<Header, SourceError> {
    let head = file.head(64 << 10)?;
    if let Some(h) = parse_header(&head) {
        return Ok(h);
    }
    let head = file.head(16 << 20)?;
    parse_header(&head).ok_or_else(|| SourceError::Invalid("invalid JPEG 2000 header".into()))
}

/// The resolution reduction for taking `region` to `out_w`×`out_h`: the largest `r` (up to the
/// codestream's levels) at which the region, divided by 2^r, is still at least the output.
pub fn reduction_for(region: Rect, out_w: u32, out_h: u32, levels: u32) -> u32 {
    let mut r = 0;
    while r < levels
        && (region.w >> (r + 1)) >= out_w.max(1)
        && (region.h >> (r + 1)) >= out_h.max(1)
    {
        r += 1;
    }
    r
}

/// The file the decoder reads for a decode of `region` (all of the image when `None`) of
/// `file`: its own when it is a local file, else the copy that `copy` gives, filled with the
/// tile-parts that the decode needs (returned too, so that it lives as long as the decode),
/// within `limits`' bytes.
pub fn readable(
    file: &Object,
    region: Option<Rect>,
    limits: DecodeLimits,
    copy: impl FnOnce() -> Result<Arc<Jp2Copy>, SourceError>,
) -> Result<(PathBuf, Option<Arc<Jp2Copy>>), SourceError> {
    match file.local_path() {
        Some(path) => Ok((path, None)),
        None => {
            let copy = copy()?;
            copy.fill(file, region, limits)?;
            Ok((copy.path().to_path_buf(), Some(copy)))
        }
    }
}

/// Decodes `region` (all of the image when `None`) of the file at `path` (see [`readable`])
/// at resolution reduction `reduce`, and returns it with the window it covers in image
/// coordinates. OpenJPEG's reduced grid starts at `ceil(canvas / 2^reduce)`, so the window's
/// origin is that pixel's position, not the region's.
pub fn decode(
    path: &Path,
    header: &Header,
    region: Option<Rect>,
    reduce: u32,
) -> Result<(DynamicImage, Window), SourceError> {
    let f = 1u32 << reduce.min(31);
    let (ox, oy) = header.origin;
    let mut params = DecodeParameters::new().reduce(reduce);
    let (mut x0, mut y0) = (0.0, 0.0);
    if let Some(r) = region {
        let (ax, ay) = (r.x + ox, r.y + oy);
        params = params.decode_area(Some(DecodeArea::new(ax, ay, ax + r.w, ay + r.h)));
        x0 = f64::from(ax.div_ceil(f) * f) - f64::from(ox);
        y0 = f64::from(ay.div_ceil(f) * f) - f64::from(oy);
    }
    let img = jpeg2k::Image::from_file_with(path, params)
        .map_err(|e| SourceError::codec("JPEG 2000", e))?;
    let img = DynamicImage::try_from(&img).map_err(|e| SourceError::codec("JPEG 2000", e))?;
    let window = Window {
        x0,
        y0,
        fx: f64::from(f),
        fy: f64::from(f),
    };
    Ok((img, window))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reduction_keeps_enough_pixels() {
        let r = |w, h, ow, oh| reduction_for(Rect { x: 0, y: 0, w, h }, ow, oh, 5);
        assert_eq!(r(1024, 1024, 256, 256), 2);
        assert_eq!(r(1024, 1024, 257, 256), 1);
        assert_eq!(r(1024, 1024, 1024, 1024), 0);
        assert_eq!(r(100_000, 100_000, 1, 1), 5, "capped at the levels");
        assert_eq!(r(600, 400, 150, 100), 2);
    }

    #[test]
    fn header_of_our_own_jp2_output() {
        let img = DynamicImage::new_rgb8(300, 200);
        let bytes = crate::encode::encode(&img, crate::iiif::Format::Jp2, 90).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.jp2");
        std::fs::write(&path, &bytes).unwrap();
        assert!(is_jp2(&bytes));
        let h = parse_header(&bytes).unwrap();
        assert_eq!(
            h.dims,
            Dimensions {
                width: 300,
                height: 200
            }
        );
        assert_eq!(h.tile, (300, 200));
        assert!(h.levels >= 3, "{h:?}");
        let (full, _) = decode(&path, &h, None, 0).unwrap();
        assert_eq!((full.width(), full.height()), (300, 200));
        let (part, win) = decode(
            &path,
            &h,
            Some(Rect {
                x: 100,
                y: 50,
                w: 200,
                h: 100,
            }),
            1,
        )
        .unwrap();
        assert_eq!((part.width(), part.height()), (100, 50));
        assert_eq!((win.x0, win.y0, win.fx), (100.0, 50.0, 2.0));
        assert!(parse_header(b"garbage").is_none());
    }
}
