//! Writes an 8-bit gray or RGB image as a pyramidal, tiled, JPEG-compressed TIFF: the layout
//! that [`crate::source::pyramid`] reads by the tile and passes through without decoding.
//!
//! Level `k` is `ceil(size / 2^k)` on both axes, each pixel the mean of the 2×2 pixels of the
//! level above (edge pixels repeat), so that every level is an exact power-of-two reduction.
//! Levels go down until one tile holds the whole image. Every tile is a complete JPEG
//! datastream at the full tile size (edge tiles repeat their last row and column), so no
//! shared JPEG tables are needed. The file is a classic little-endian TIFF, so it must stay
//! under 4 GiB.

use std::io::{self, Seek, SeekFrom, Write};

/// How the tiles of a pyramid are made.
#[derive(Debug, Clone, Copy)]
pub struct TileSpec {
    /// Tile width and height.
    pub size: u32,
    /// JPEG quality, 1–100.
    pub quality: u8,
    /// Encode the tiles of a row on rayon's pool (for batch work; a server's background
    /// build leaves the cores to requests).
    pub parallel: bool,
}

/// Writes `pixels` (`width`×`height`, 1 = gray or 3 = RGB `channels`, rows packed) as a tiled
/// pyramid with `spec.size`-pixel tiles at JPEG `spec.quality`. `description` goes into the
/// ImageDescription tag of the first image.
///
/// One pass over the rows makes every level: each reduced level keeps only the rows of its
/// current tile row, and its encoded tiles, so the working memory beyond `pixels` is a few
/// bands and the compressed reduced levels.
pub fn write_pyramid<W: Write + Seek>(
    pixels: &[u8],
    (width, height): (u32, u32),
    channels: usize,
    spec: TileSpec,
    description: &str,
    out: W,
) -> io::Result<W> {
    let TileSpec {
        size: tile,
        quality,
        parallel,
    } = spec;
    let bad = |m: &str| io::Error::new(io::ErrorKind::InvalidInput, m.to_string());
    if !matches!(channels, 1 | 3) || tile == 0 || width == 0 || height == 0 {
        return Err(bad("only gray or RGB images with a size and a tile size"));
    }
    if pixels.len() != width as usize * height as usize * channels {
        return Err(bad("pixel buffer does not match the size"));
    }
    let enc = Encoder {
        channels,
        tile,
        quality,
    };
    // The reduced levels, each `ceil` of half the one above, down to one tile.
    let mut reduced = Vec::new();
    let (mut lw, mut lh) = (width, height);
    while lw > tile || lh > tile {
        (lw, lh) = (lw.div_ceil(2), lh.div_ceil(2));
        reduced.push(Reduced {
            width: lw,
            height: lh,
            rows: 0,
            band: Vec::new(),
            pending: None,
        });
    }
    // Every level's encoded tiles, filled as the encodes finish.
    let sizes: Vec<(u32, u32)> = std::iter::once((width, height))
        .chain(reduced.iter().map(|r| (r.width, r.height)))
        .collect();
    let slots: Vec<Vec<Slot>> = sizes
        .iter()
        .map(|&(w, h)| {
            (0..w.div_ceil(tile) * h.div_ceil(tile))
                .map(|_| Slot::new())
                .collect()
        })
        .collect();
    // One pass over the rows makes every level. In parallel, the tile encodes queue on
    // rayon's pool while this thread goes on halving.
    if parallel {
        rayon::scope(|s| {
            let sink = Sink {
                enc: &enc,
                slots: &slots,
                queue: Some(s),
            };
            pass(pixels, (width, height), &mut reduced, &sink);
        });
    } else {
        let sink = Sink {
            enc: &enc,
            slots: &slots,
            queue: None,
        };
        pass(pixels, (width, height), &mut reduced, &sink);
    }
    let mut w = Writer {
        out: io::BufWriter::new(out),
        pos: 0,
    };
    w.put(b"II\x2a\x00\x00\x00\x00\x00")?;
    let mut link_at = 4;
    for (level, (&size, tiles)) in sizes.iter().zip(slots).enumerate() {
        let (mut offsets, mut counts) = (Vec::new(), Vec::new());
        for slot in tiles {
            let jpeg = slot
                .into_inner()
                .unwrap_or_else(|| Err(io::Error::other("a tile was not encoded")))?;
            offsets.push(w.align()?);
            counts.push(jpeg.len() as u32);
            w.put(&jpeg)?;
        }
        let ifd = w.align()?;
        w.patch(link_at, ifd)?;
        link_at = write_ifd(
            &mut w,
            level > 0,
            size,
            channels,
            tile,
            &offsets,
            &counts,
            (level == 0).then_some(description),
        )?;
    }
    w.out.flush()?;
    w.out.into_inner().map_err(|e| e.into_error())
}

/// Sends level 0's tile rows to `sink` as they come, and feeds its rows to the reductions.
fn pass<'a: 's, 's>(
    pixels: &'a [u8],
    (width, height): (u32, u32),
    reduced: &mut [Reduced],
    sink: &Sink<'a, '_, 's>,
) {
    let (tile, channels) = (sink.enc.tile, sink.enc.channels);
    let row_len = width as usize * channels;
    let mut pending: Option<Vec<u8>> = None;
    for (k, y0) in (0..height).step_by(tile as usize).enumerate() {
        let rows = tile.min(height - y0);
        let band = &pixels[y0 as usize * row_len..(y0 + rows) as usize * row_len];
        sink.tile_row(0, k as u32, width, Band::Borrowed(band));
        if reduced.is_empty() {
            continue;
        }
        for y in y0..y0 + rows {
            let row = &band[(y - y0) as usize * row_len..][..row_len];
            if let Some(half) = pair(&mut pending, row, y + 1 == height, width, channels) {
                push_row(reduced, 0, half, sink);
            }
        }
    }
}

/// One encoded tile, set once by whichever thread encodes it.
type Slot = std::sync::OnceLock<io::Result<Vec<u8>>>;

/// The rows of one tile row of a level: level 0's borrowed from the picture, a reduced
/// level's owned and shared by the encodes of its tiles.
#[derive(Clone)]
enum Band<'a> {
    Borrowed(&'a [u8]),
    Shared(std::sync::Arc<Vec<u8>>),
}

impl Band<'_> {
    fn bytes(&self) -> &[u8] {
        match self {
            Band::Borrowed(b) => b,
            Band::Shared(b) => b,
        }
    }
}

/// Where tile rows go to be encoded: at once on this thread, or queued on rayon's pool.
struct Sink<'a, 'q, 's> {
    enc: &'a Encoder,
    slots: &'a [Vec<Slot>],
    queue: Option<&'q rayon::Scope<'s>>,
}

impl<'a: 's, 's> Sink<'a, '_, 's> {
    /// Encodes tile row `row` of `level` (`width` pixels wide) from `band`, into its slots.
    fn tile_row(&self, level: usize, row: u32, width: u32, band: Band<'a>) {
        let tile = self.enc.tile;
        let across = width.div_ceil(tile);
        let (enc, slots): (&'a Encoder, &'a [Vec<Slot>]) = (self.enc, self.slots);
        for tx in 0..across {
            let slot = &slots[level][(row * across + tx) as usize];
            let band = band.clone();
            let x0 = (tx * tile) as usize;
            let job = move || {
                let _ = slot.set(enc.tile_at(band.bytes(), width, x0));
            };
            match self.queue {
                Some(q) => q.spawn(move |_| job()),
                None => job(),
            }
        }
    }
}

/// A reduced level being made row by row.
struct Reduced {
    width: u32,
    height: u32,
    /// Rows received so far.
    rows: u32,
    /// The rows of the current tile row.
    band: Vec<u8>,
    /// A row waiting for its pair, to make a row of the next level.
    pending: Option<Vec<u8>>,
}

/// Adds a row to reduced level `i` (level `i + 1` of the pyramid): sends its tile row to be
/// encoded when complete, and passes every pair of rows on to the next level.
fn push_row<'a: 's, 's>(levels: &mut [Reduced], i: usize, row: Vec<u8>, sink: &Sink<'a, '_, 's>) {
    let Some((level, below)) = levels[i..].split_first_mut() else {
        return;
    };
    level.rows += 1;
    let last = level.rows == level.height;
    level.band.extend_from_slice(&row);
    if level.rows % sink.enc.tile == 0 || last {
        let band = std::mem::take(&mut level.band);
        let tile_row = (level.rows - 1) / sink.enc.tile;
        sink.tile_row(i + 1, tile_row, level.width, Band::Shared(band.into()));
    }
    if !below.is_empty() {
        if let Some(half) = pair(
            &mut level.pending,
            &row,
            last,
            level.width,
            sink.enc.channels,
        ) {
            push_row(levels, i + 1, half, sink);
        }
    }
}

/// Pairs rows for halving: keeps the first of a pair, and returns the halved row on the
/// second (or on a last, unpaired row, which pairs with itself).
fn pair(
    pending: &mut Option<Vec<u8>>,
    row: &[u8],
    last: bool,
    width: u32,
    channels: usize,
) -> Option<Vec<u8>> {
    match pending.take() {
        Some(upper) => Some(halve_rows(&upper, row, width, channels)),
        None if last => Some(halve_rows(row, row, width, channels)),
        None => {
            *pending = Some(row.to_vec());
            None
        }
    }
}

/// The row of the next level made from two rows: each pixel the rounded mean of a 2×2 block,
/// the last column repeated when the width is odd.
fn halve_rows(r0: &[u8], r1: &[u8], width: u32, c: usize) -> Vec<u8> {
    let (w, nw) = (width as usize, width.div_ceil(2) as usize);
    let mut out = vec![0u8; nw * c];
    for x in 0..nw {
        let (a, b) = (2 * x * c, (2 * x + 1).min(w - 1) * c);
        for k in 0..c {
            let sum = u16::from(r0[a + k])
                + u16::from(r0[b + k])
                + u16::from(r1[a + k])
                + u16::from(r1[b + k]);
            out[x * c + k] = ((sum + 2) / 4) as u8;
        }
    }
    out
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

/// Encodes tiles: full `tile`-pixel JPEGs, edge tiles padded by repeating the last row and
/// column.
struct Encoder {
    channels: usize,
    tile: u32,
    quality: u8,
}

impl Encoder {
    /// The tile whose left edge is `x0`, from a band of up to `tile` rows.
    fn tile_at(&self, band: &[u8], width: u32, x0: usize) -> io::Result<Vec<u8>> {
        let (t, c) = (self.tile as usize, self.channels);
        let row_len = width as usize * c;
        let rows = band.len() / row_len.max(1);
        if rows == 0 {
            return Err(io::Error::other("empty band"));
        }
        let mut buf = vec![0u8; t * t * c];
        let cols = t.min(width as usize - x0);
        for row in 0..t {
            let sy = row.min(rows - 1);
            let src = &band[sy * row_len + x0 * c..][..cols * c];
            let dst = &mut buf[row * t * c..][..t * c];
            dst[..cols * c].copy_from_slice(src);
            let last = cols * c - c;
            for x in cols..t {
                dst.copy_within(last..last + c, x * c);
            }
        }
        crate::encode::jpeg_pixels(&buf, self.tile, self.tile, c, self.quality)
            .map_err(io::Error::other)
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iiif::Rect;
    use crate::source::pyramid;
    use crate::storage::Object;

    fn spec(quality: u8) -> TileSpec {
        TileSpec {
            size: 256,
            quality,
            parallel: quality % 2 == 0,
        }
    }

    /// A whole level halved (the reference for the streamed levels).
    struct Raster {
        data: Vec<u8>,
        width: u32,
        height: u32,
    }

    fn halve(data: &[u8], width: u32, height: u32, c: usize) -> Raster {
        let row = width as usize * c;
        let mut out = Vec::new();
        for y in (0..height as usize).step_by(2) {
            let r1 = (y + 1).min(height as usize - 1);
            out.extend(halve_rows(
                &data[y * row..][..row],
                &data[r1 * row..][..row],
                width,
                c,
            ));
        }
        Raster {
            data: out,
            width: width.div_ceil(2),
            height: height.div_ceil(2),
        }
    }

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
        let (w, h) = (1001, 601);
        let pixels = picture(w, h);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.tif");
        let file = std::fs::File::create(&path).unwrap();
        write_pyramid(&pixels, (w, h), 3, spec(92), "test", file).unwrap();
        let path = Object::at(&path).unwrap();
        let levels = pyramid::levels(&path).unwrap().expect("a readable pyramid");
        let sizes: Vec<(u32, u32)> = levels.iter().map(|l| (l.width, l.height)).collect();
        assert_eq!(sizes, vec![(1001, 601), (501, 301), (251, 151)]);
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
        let (img, win) = pyramid::read(&path, levels[0], levels[0], region, 0, None).unwrap();
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
        let halved = halve(&pixels, w, h, 3);
        let quarter = halve(&halved.data, halved.width, halved.height, 3);
        for (k, want) in [(1, &halved), (2, &quarter)] {
            let (got, _) = pyramid::read(&path, levels[0], levels[k], full, 0, None).unwrap();
            assert_eq!((got.width(), got.height()), (want.width, want.height));
            let db = psnr(&got.to_rgb8().into_raw(), &want.data);
            assert!(db > 38.0, "level {k}: {db:.1} dB");
        }
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

    /// The largest difference between two equal-length buffers.
    fn max_diff(a: &[u8], b: &[u8]) -> u8 {
        a.iter()
            .zip(b)
            .map(|(x, y)| x.abs_diff(*y))
            .max()
            .unwrap_or(0)
    }

    #[test]
    fn stored_tiles_decode_directly_as_the_tiff_decoder_does() {
        // 5×3 level-0 tiles over 1100×700 (15: serial), and the 1100×1200 gray picture's
        // 5×5 (25: on all cores).
        for (w, h, c) in [(1100u32, 700u32, 3usize), (1100, 1200, 1)] {
            let pixels: Vec<u8> = if c == 3 {
                picture(w, h)
            } else {
                (0..w * h)
                    .map(|i| ((i % w) * 255 / w) as u8 ^ (i / w % 7) as u8)
                    .collect()
            };
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("p.tif");
            let file = std::fs::File::create(&path).unwrap();
            write_pyramid(&pixels, (w, h), c, spec(90), "test", file).unwrap();
            let path = Object::at(&path).unwrap();
            let levels = pyramid::levels(&path).unwrap().unwrap();
            let regions = [
                Rect { x: 0, y: 0, w, h },
                Rect {
                    x: 300,
                    y: 250,
                    w: 517,
                    h: 301,
                },
            ];
            for level in &levels {
                let index = pyramid::jpeg_tiles(&path, *level)
                    .unwrap()
                    .expect("JPEG tiles");
                for region in regions {
                    let (a, wa) = pyramid::read(&path, levels[0], *level, region, 2, None).unwrap();
                    let (b, wb) =
                        pyramid::read(&path, levels[0], *level, region, 2, Some(&index)).unwrap();
                    assert_eq!(
                        (a.width(), a.height(), a.color()),
                        (b.width(), b.height(), b.color())
                    );
                    assert_eq!((wa.x0, wa.y0, wa.fx), (wb.x0, wb.y0, wb.fx));
                    // Only the YCbCr-to-RGB rounding of the two decoders differs.
                    let d = max_diff(a.as_bytes(), b.as_bytes());
                    assert!(
                        d <= 2,
                        "{w}x{h}x{c} level {}: max difference {d}",
                        level.ifd
                    );
                    assert!(psnr(a.as_bytes(), b.as_bytes()) > 50.0);
                }
            }
        }
    }

    #[test]
    fn parallel_and_serial_builds_write_the_same_bytes() {
        let (w, h) = (1301, 901);
        let pixels = picture(w, h);
        let build = |parallel| {
            let spec = TileSpec {
                size: 128,
                quality: 80,
                parallel,
            };
            write_pyramid(&pixels, (w, h), 3, spec, "d", io::Cursor::new(Vec::new()))
                .unwrap()
                .into_inner()
        };
        let serial = build(false);
        assert!(serial.len() > 10_000);
        assert_eq!(build(true), serial);
    }

    #[test]
    fn gray_images_and_single_tile_images_work() {
        let (w, h) = (200, 100);
        let pixels: Vec<u8> = (0..w * h).map(|i| (i % 251) as u8).collect();
        let mut cursor = io::Cursor::new(Vec::new());
        write_pyramid(&pixels, (w, h), 1, spec(95), "g", &mut cursor).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.tif");
        std::fs::write(&path, cursor.into_inner()).unwrap();
        let levels = pyramid::levels(&Object::at(&path).unwrap())
            .unwrap()
            .unwrap();
        assert_eq!(levels.len(), 1);
        let whole = image::open(&path).unwrap();
        assert_eq!((whole.width(), whole.height()), (200, 100));
        assert!(write_pyramid(
            &pixels,
            (w, h),
            2,
            spec(90),
            "",
            io::Cursor::new(Vec::new())
        )
        .is_err());
        assert!(write_pyramid(
            &pixels[1..],
            (w, h),
            1,
            spec(90),
            "",
            io::Cursor::new(Vec::new())
        )
        .is_err());
    }
}
