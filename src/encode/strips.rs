//! A large JPEG encoded on all cores: the image is cut into horizontal strips whose heights
//! are whole MCU rows, each strip is encoded alone with a restart marker after every MCU row,
//! and the strips' entropy-coded data are joined under the first strip's headers, the
//! restart markers numbered on. A restart resets the DC predictions, so the joined stream
//! decodes exactly as one encoded in a single pass with the same restart interval.
//!
//! The strips depend on the image's size only, never on the number of threads, so the bytes
//! are the same on every machine.

use rayon::prelude::*;

/// Rows per strip: a multiple of 8, the MCU height without chroma subsampling.
pub const STRIP_ROWS: u32 = 512;

/// Why strips could not be made or joined.
#[derive(Debug)]
pub enum StripError<E> {
    /// The strip encoder failed.
    Encoder(E),
    /// The image or an encoded strip does not fit the layout (too wide, a strip without the
    /// segments it needs).
    Layout(String),
}

impl<E> From<String> for StripError<E> {
    fn from(reason: String) -> Self {
        StripError::Layout(reason)
    }
}

/// Encodes `pixels` (`width`×`height`, `channels` 1 or 3) in strips of [`STRIP_ROWS`] rows
/// with `encode_strip(pixels, width, rows, channels, restart_interval)`, on rayon's pool, and
/// joins them into one JPEG.
pub fn encode_in_strips<E: Send>(
    pixels: &[u8],
    (width, height): (u32, u32),
    channels: usize,
    encode_strip: impl Fn(&[u8], u32, u32, u16) -> Result<Vec<u8>, E> + Sync,
) -> Result<Vec<u8>, StripError<E>> {
    let interval = u16::try_from(width.div_ceil(8))
        .map_err(|_| format!("{width} px is too wide for a restart interval"))?;
    let row_len = width as usize * channels;
    let strips: Vec<(u32, u32)> = (0..height)
        .step_by(STRIP_ROWS as usize)
        .map(|y| (y, STRIP_ROWS.min(height - y)))
        .collect();
    let encoded: Vec<Vec<u8>> = strips
        .par_iter()
        .map(|&(y, rows)| {
            let part = &pixels[y as usize * row_len..(y + rows) as usize * row_len];
            encode_strip(part, width, rows, interval)
        })
        .collect::<Result<_, _>>()
        .map_err(StripError::Encoder)?;
    Ok(join(&encoded, height)?)
}

/// Where a strip's parts lie: its headers up to the end of the SOS segment, the offset of
/// the frame header's height field, and its entropy-coded data.
struct Parts<'a> {
    headers: &'a [u8],
    height_at: usize,
    data: &'a [u8],
}

/// Splits an encoded strip (SOI, segments, SOS, entropy-coded data, EOI).
fn parts(jpeg: &[u8]) -> Result<Parts<'_>, String> {
    let bad = |m: &str| format!("strip: {m}");
    if !jpeg.starts_with(&[0xFF, 0xD8]) || !jpeg.ends_with(&[0xFF, 0xD9]) {
        return Err(bad("not a whole JPEG"));
    }
    let mut at = 2;
    let mut height_at = None;
    loop {
        let (Some(&0xFF), Some(&marker)) = (jpeg.get(at), jpeg.get(at + 1)) else {
            return Err(bad("bad marker"));
        };
        let len = jpeg
            .get(at + 2..at + 4)
            .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
            .ok_or_else(|| bad("truncated segment"))?;
        if marker == 0xC0 {
            // SOF0: length, precision, then the height.
            height_at = Some(at + 5);
        }
        let end = at + 2 + len;
        if marker == 0xDA {
            let height_at = height_at.ok_or_else(|| bad("no baseline frame header"))?;
            let data = jpeg
                .get(end..jpeg.len() - 2)
                .ok_or_else(|| bad("truncated scan"))?;
            return Ok(Parts {
                headers: &jpeg[..end],
                height_at,
                data,
            });
        }
        at = end;
    }
}

/// Joins encoded strips into one JPEG of `height` rows.
fn join(strips: &[Vec<u8>], height: u32) -> Result<Vec<u8>, String> {
    let first = parts(strips.first().ok_or("no strips")?)?;
    let height = u16::try_from(height).map_err(|_| "too tall for JPEG".to_string())?;
    let total: usize = strips.iter().map(|s| s.len() + 2).sum();
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(first.headers);
    out.get_mut(first.height_at..first.height_at + 2)
        .ok_or("strip: truncated frame header")?
        .copy_from_slice(&height.to_be_bytes());
    // Restart markers so far, across strips: each is RST(n mod 8).
    let mut restarts: usize = 0;
    for (k, strip) in strips.iter().enumerate() {
        let data = if k == 0 {
            first.data
        } else {
            parts(strip)?.data
        };
        if k > 0 {
            out.extend_from_slice(&[0xFF, 0xD0 + (restarts % 8) as u8]);
            restarts += 1;
        }
        // In entropy-coded data a 0xFF byte is always followed by 0x00 (stuffing) or by a
        // restart marker, so FF D0–D7 pairs are markers.
        let mut i = 0;
        while i < data.len() {
            let b = data[i];
            out.push(b);
            if b == 0xFF {
                if let Some(&next) = data.get(i + 1) {
                    if (0xD0..=0xD7).contains(&next) {
                        out.push(0xD0 + (restarts % 8) as u8);
                        restarts += 1;
                    } else {
                        out.push(next);
                    }
                    i += 1;
                }
            }
            i += 1;
        }
    }
    out.extend_from_slice(&[0xFF, 0xD9]);
    Ok(out)
}
