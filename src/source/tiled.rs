//! Writes an 8-bit gray or RGB image as a pyramidal, tiled, JPEG-compressed TIFF: the layout
//! that [`super::pyramid`] reads by the tile and passes through without decoding.
//!
//! Level `k` is `ceil(size / 2^k)` on both axes, each pixel the mean of the 2×2 pixels of the
//! level above (edge pixels repeat), so that every level is an exact power-of-two reduction.
//! Levels go down until one tile holds the whole image. Every tile is a complete JPEG
//! datastream at the full tile size (edge tiles repeat their last row and column), so no
//! shared JPEG tables are needed. The file is a classic little-endian TIFF, so it must stay
//! under 4 GiB.

use image::codecs::jpeg::JpegEncoder;
use image::ExtendedColorType;
use std::io::{self, Seek, SeekFrom, Write};

/// One level's raw pixels: rows of `width * channels` bytes.
struct Raster {
    data: Vec<u8>,
    width: u32,
    height: u32,
}

/// Writes `pixels` (`width`×`height`, 1 = gray or 3 = RGB `channels`, rows packed) as a tiled
/// pyramid with `tile`-pixel tiles at JPEG `quality`. `description` goes into the
/// ImageDescription tag of the first image.
pub fn write_pyramid<W: Write + Seek>(
    pixels: &[u8],
    (width, height): (u32, u32),
    channels: usize,
    tile: u32,
    quality: u8,
    description: &str,
    out: W,
) -> io::Result<W> {
    let bad = |m: &str| io::Error::new(io::ErrorKind::InvalidInput, m.to_string());
    if !matches!(channels, 1 | 3) || tile == 0 || width == 0 || height == 0 {
        return Err(bad("only gray or RGB images with a size and a tile size"));
    }
    if pixels.len() != width as usize * height as usize * channels {
        return Err(bad("pixel buffer does not match the size"));
    }
    let mut w = Writer {
        out: io::BufWriter::new(out),
        pos: 0,
    };
    w.put(b"II\x2a\x00\x00\x00\x00\x00")?;
    // Where the offset of the next IFD goes.
    let mut link_at = 4u64;
    let mut level: Option<Raster> = None;
    let mut index = 0u32;
    loop {
        let (data, lw, lh) = match &level {
            Some(r) => (r.data.as_slice(), r.width, r.height),
            None => (pixels, width, height),
        };
        let (offsets, counts) = write_tiles(&mut w, data, lw, lh, channels, tile, quality)?;
        let ifd = w.align()?;
        w.patch(link_at, ifd)?;
        let desc = (index == 0).then_some(description);
        link_at = write_ifd(
            &mut w,
            index > 0,
            (lw, lh),
            channels,
            tile,
            &offsets,
            &counts,
            desc,
        )?;
        if lw <= tile && lh <= tile {
            break;
        }
        level = Some(halve(data, lw, lh, channels));
        index += 1;
    }
    w.out.flush()?;
    w.out.into_inner().map_err(|e| e.into_error())
}

/// A writer that knows its position and checks that every offset fits a classic TIFF.
struct Writer<W: Write + Seek> {
    out: io::BufWriter<W>,
    pos: u64,
}

impl<W: Write + Seek> Writer<W> {
    fn put(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(bytes)?;
        self.pos += bytes.len() as u64;
        if self.pos > u64::from(u32::MAX) {
            return Err(io::Error::other("derivative would exceed 4 GiB"));
        }
        Ok(())
    }

    /// Pads to an even offset (TIFF IFDs and values start on word boundaries); returns it.
    fn align(&mut self) -> io::Result<u32> {
        if self.pos % 2 == 1 {
            self.put(&[0])?;
        }
        Ok(self.pos as u32)
    }

    /// Writes `value` at an earlier offset, then returns to the end.
    fn patch(&mut self, at: u64, value: u32) -> io::Result<()> {
        self.out.seek(SeekFrom::Start(at))?;
        self.out.write_all(&value.to_le_bytes())?;
        self.out.seek(SeekFrom::Start(self.pos))?;
        Ok(())
    }
}

/// Encodes every tile of one level, row by row; returns their offsets and byte counts.
fn write_tiles<W: Write + Seek>(
    w: &mut Writer<W>,
    data: &[u8],
    width: u32,
    height: u32,
    channels: usize,
    tile: u32,
    quality: u8,
) -> io::Result<(Vec<u32>, Vec<u32>)> {
    let (across, down) = (width.div_ceil(tile), height.div_ceil(tile));
    let mut offsets = Vec::with_capacity((across * down) as usize);
    let mut counts = Vec::with_capacity((across * down) as usize);
    let t = tile as usize;
    let mut buf = vec![0u8; t * t * channels];
    let mut jpeg = Vec::new();
    let color = if channels == 1 {
        ExtendedColorType::L8
    } else {
        ExtendedColorType::Rgb8
    };
    for ty in 0..down {
        for tx in 0..across {
            let (x0, y0) = ((tx * tile) as usize, (ty * tile) as usize);
            let cols = t.min(width as usize - x0);
            for row in 0..t {
                let sy = (y0 + row).min(height as usize - 1);
                let src = &data[(sy * width as usize + x0) * channels..][..cols * channels];
                let dst = &mut buf[row * t * channels..][..t * channels];
                dst[..cols * channels].copy_from_slice(src);
                let last = cols * channels - channels;
                for x in cols..t {
                    dst.copy_within(last..last + channels, x * channels);
                }
            }
            jpeg.clear();
            JpegEncoder::new_with_quality(&mut jpeg, quality.clamp(1, 100))
                .encode(&buf, tile, tile, color)
                .map_err(io::Error::other)?;
            offsets.push(w.align()?);
            counts.push(jpeg.len() as u32);
            w.put(&jpeg)?;
        }
    }
    Ok((offsets, counts))
}

const SHORT: u16 = 3;
const LONG: u16 = 4;
const ASCII: u16 = 2;

/// Writes one IFD and the arrays it points to; returns the offset of its next-IFD link.
#[allow(clippy::too_many_arguments)]
fn write_ifd<W: Write + Seek>(
    w: &mut Writer<W>,
    reduced: bool,
    (width, height): (u32, u32),
    channels: usize,
    tile: u32,
    offsets: &[u32],
    counts: &[u32],
    description: Option<&str>,
) -> io::Result<u64> {
    // (tag, type, count, inline value or bytes stored after the IFD)
    enum V {
        Inline(u32),
        Bytes(Vec<u8>),
    }
    let longs = |v: &[u32]| {
        if v.len() == 1 {
            V::Inline(v[0])
        } else {
            V::Bytes(v.iter().flat_map(|x| x.to_le_bytes()).collect())
        }
    };
    let mut entries: Vec<(u16, u16, u32, V)> = vec![
        (254, LONG, 1, V::Inline(u32::from(reduced))),
        (256, LONG, 1, V::Inline(width)),
        (257, LONG, 1, V::Inline(height)),
    ];
    if channels == 3 {
        entries.push((258, SHORT, 3, V::Bytes([8u8, 0, 8, 0, 8, 0].to_vec())));
    } else {
        entries.push((258, SHORT, 1, V::Inline(8)));
    }
    entries.push((259, SHORT, 1, V::Inline(7)));
    // RGB tiles are YCbCr JPEGs (JFIF), as a JPEG-in-TIFF reader expects of photometric 6.
    entries.push((262, SHORT, 1, V::Inline(if channels == 3 { 6 } else { 1 })));
    if let Some(d) = description {
        let mut bytes = d.as_bytes().to_vec();
        bytes.push(0);
        let n = bytes.len() as u32;
        entries.push((270, ASCII, n, V::Bytes(bytes)));
    }
    entries.push((277, SHORT, 1, V::Inline(channels as u32)));
    entries.push((284, SHORT, 1, V::Inline(1)));
    entries.push((322, LONG, 1, V::Inline(tile)));
    entries.push((323, LONG, 1, V::Inline(tile)));
    entries.push((324, LONG, offsets.len() as u32, longs(offsets)));
    entries.push((325, LONG, counts.len() as u32, longs(counts)));
    if channels == 3 {
        // The encoder does not subsample chroma (the TIFF default would be 2, 2).
        entries.push((530, SHORT, 2, V::Bytes([1u8, 0, 1, 0].to_vec())));
    }

    let start = u64::from(w.align()?);
    let ifd_len = 2 + 12 * entries.len() as u64 + 4;
    let mut extra_at = start + ifd_len;
    let mut ifd = Vec::with_capacity(ifd_len as usize);
    let mut extra = Vec::new();
    ifd.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    for (tag, kind, count, value) in &entries {
        ifd.extend_from_slice(&tag.to_le_bytes());
        ifd.extend_from_slice(&kind.to_le_bytes());
        ifd.extend_from_slice(&count.to_le_bytes());
        match value {
            V::Inline(v) if *kind == SHORT => {
                ifd.extend_from_slice(&(*v as u16).to_le_bytes());
                ifd.extend_from_slice(&[0, 0]);
            }
            V::Inline(v) => ifd.extend_from_slice(&v.to_le_bytes()),
            V::Bytes(b) if b.len() <= 4 => {
                let mut four = [0u8; 4];
                four[..b.len()].copy_from_slice(b);
                ifd.extend_from_slice(&four);
            }
            V::Bytes(b) => {
                let at = u32::try_from(extra_at)
                    .map_err(|_| io::Error::other("derivative would exceed 4 GiB"))?;
                ifd.extend_from_slice(&at.to_le_bytes());
                extra.extend_from_slice(b);
                if b.len() % 2 == 1 {
                    extra.push(0);
                }
                extra_at += b.len().next_multiple_of(2) as u64;
            }
        }
    }
    ifd.extend_from_slice(&0u32.to_le_bytes());
    w.put(&ifd)?;
    w.put(&extra)?;
    Ok(start + ifd_len - 4)
}

/// The next level: `ceil` of half the size, each pixel the rounded mean of a 2×2 block.
fn halve(data: &[u8], width: u32, height: u32, channels: usize) -> Raster {
    let (nw, nh) = (width.div_ceil(2), height.div_ceil(2));
    let (w, c) = (width as usize, channels);
    let mut out = vec![0u8; nw as usize * nh as usize * c];
    for y in 0..nh as usize {
        let r0 = &data[2 * y * w * c..][..w * c];
        let r1 = &data[(2 * y + 1).min(height as usize - 1) * w * c..][..w * c];
        let dst = &mut out[y * nw as usize * c..][..nw as usize * c];
        for x in 0..nw as usize {
            let (a, b) = (2 * x * c, (2 * x + 1).min(w - 1) * c);
            for k in 0..c {
                let sum = u16::from(r0[a + k])
                    + u16::from(r0[b + k])
                    + u16::from(r1[a + k])
                    + u16::from(r1[b + k]);
                dst[x * c + k] = ((sum + 2) / 4) as u8;
            }
        }
    }
    Raster {
        data: out,
        width: nw,
        height: nh,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iiif::Rect;
    use crate::source::pyramid;

    /// A smooth RGB test picture with a hard edge, so JPEG error stays small but measurable.
    fn picture(w: u32, h: u32) -> Vec<u8> {
        let mut v = Vec::with_capacity((w * h * 3) as usize);
        for y in 0..h {
            for x in 0..w {
                let edge = if x > w / 3 { 200 } else { 40 };
                v.extend_from_slice(&[edge, (y * 255 / h) as u8, (x * 255 / w) as u8]);
            }
        }
        v
    }

    fn psnr(a: &[u8], b: &[u8]) -> f64 {
        let mse = a
            .iter()
            .zip(b)
            .map(|(x, y)| (f64::from(*x) - f64::from(*y)).powi(2))
            .sum::<f64>()
            / a.len() as f64;
        10.0 * (255.0f64.powi(2) / mse.max(1e-9)).log10()
    }

    #[test]
    fn halving_rounds_up_and_averages() {
        let r = halve(&[0, 10, 20, 30, 40, 50], 3, 2, 1);
        assert_eq!((r.width, r.height), (2, 1));
        assert_eq!(
            r.data,
            vec![(10 + 30 + 40 + 2) / 4, (20 + 20 + 50 + 50 + 2) / 4]
        );
    }

    #[test]
    fn the_pyramid_reads_back_level_by_level() {
        let (w, h) = (1000, 600);
        let pixels = picture(w, h);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.tif");
        let file = std::fs::File::create(&path).unwrap();
        write_pyramid(&pixels, (w, h), 3, 256, 92, "test", file).unwrap();

        let levels = pyramid::levels(&path).expect("a readable pyramid");
        let sizes: Vec<(u32, u32)> = levels.iter().map(|l| (l.width, l.height)).collect();
        assert_eq!(sizes, vec![(1000, 600), (500, 300), (250, 150)]);
        for l in &levels[1..] {
            let f = pyramid::factors(levels[0], *l);
            assert_eq!(f.0, f.1, "exact powers of two");
        }
        // Level 0, an edge-crossing region, against the source.
        let region = Rect {
            x: 700,
            y: 400,
            w: 300,
            h: 200,
        };
        let (img, win) = pyramid::read(&path, levels[0], levels[0], region, 0).unwrap();
        assert_eq!(
            (img.width(), img.height(), win.x0, win.y0),
            (300, 200, 700.0, 400.0)
        );
        let want: Vec<u8> = (400..600)
            .flat_map(|y| {
                let at = ((y * w + 700) * 3) as usize;
                pixels[at..at + 900].to_vec()
            })
            .collect();
        let got = img.to_rgb8().into_raw();
        assert!(psnr(&got, &want) > 38.0, "psnr {}", psnr(&got, &want));
        // The smallest level, against a box reduction of the source by 4.
        let full = Rect { x: 0, y: 0, w, h };
        let (small, _) = pyramid::read(&path, levels[0], levels[2], full, 0).unwrap();
        let halved = halve(&pixels, w, h, 3);
        let quarter = halve(&halved.data, halved.width, halved.height, 3);
        assert!(psnr(&small.to_rgb8().into_raw(), &quarter.data) > 38.0);
        // Interior tiles are complete JPEGs that can be sent as they are.
        let index = pyramid::jpeg_tiles(&path, levels[1])
            .unwrap()
            .expect("JPEG tiles");
        let tile = pyramid::stored_jpeg_tile(&path, &index, levels[1], 0, 0)
            .unwrap()
            .expect("tile bytes");
        let decoded = image::load_from_memory(&tile).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (256, 256));
    }

    #[test]
    fn gray_images_and_single_tile_images_work() {
        let (w, h) = (200, 100);
        let pixels: Vec<u8> = (0..w * h).map(|i| (i % 251) as u8).collect();
        let mut cursor = io::Cursor::new(Vec::new());
        write_pyramid(&pixels, (w, h), 1, 256, 95, "g", &mut cursor).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.tif");
        std::fs::write(&path, cursor.into_inner()).unwrap();
        let levels = pyramid::levels(&path).unwrap();
        assert_eq!(levels.len(), 1);
        let whole = image::open(&path).unwrap();
        assert_eq!((whole.width(), whole.height()), (200, 100));
        assert!(
            write_pyramid(&pixels, (w, h), 2, 256, 90, "", io::Cursor::new(Vec::new())).is_err()
        );
        assert!(write_pyramid(
            &pixels[1..],
            (w, h),
            1,
            256,
            90,
            "",
            io::Cursor::new(Vec::new())
        )
        .is_err());
    }
}
