//! Tiled (and pyramidal) TIFF sources read by the tile: a request picks the smallest
//! resolution level that is still at least as large as its output, and reads only the tiles
//! of that level that its region touches. The whole image is never decoded.
//!
//! A level is an IFD of the same file whose size is a reduction of the first one, as
//! `vips tiffsave --tile --pyramid` writes them. Only 8-bit gray, gray+alpha, RGB and RGBA
//! tiled images without an orientation tag take this path; anything else is decoded whole.

use super::color::to_srgb;
use super::SourceError;
use crate::iiif::Rect;
use crate::raster::Window;
use crate::storage::{Object, Reader, StorageError};
use image::{DynamicImage, ImageBuffer};
use tiff::decoder::{ChunkType, Decoder, DecodingResult};
use tiff::tags::Tag;
use tiff::ColorType;

/// One resolution level of a tiled TIFF.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Level {
    /// The IFD index.
    pub ifd: usize,
    /// Level width.
    pub width: u32,
    /// Level height.
    pub height: u32,
    /// Tile width and height.
    pub tile: (u32, u32),
}

/// The levels of a tiled TIFF that can be read by the tile, largest first; `Ok(None)` when
/// the file is not a TIFF or its first image cannot take this path; an error when the store
/// failed while the header was read (so that no answer is remembered).
pub fn levels(file: &Object) -> Result<Option<Vec<Level>>, StorageError> {
    let reader = file.reader();
    let failed = reader.failure();
    let found = levels_in(reader);
    match failed.get() {
        Some(e) => Err(e),
        None => Ok(found),
    }
}

/// The first level of a tiled TIFF that [`levels`] would read (`Ok(None)` exactly when it
/// gives `None`), read from the first directory alone: its size and stored tile size, for an
/// info.json, without the round trips to the other directories.
pub fn first_level(file: &Object) -> Result<Option<Level>, StorageError> {
    let reader = file.reader();
    let failed = reader.failure();
    let found = first_in(reader).map(|(_, level)| level);
    match failed.get() {
        Some(e) => Err(e),
        None => Ok(found),
    }
}

/// Whether the current directory's image can be read by the tile.
fn usable(d: &mut Decoder<Reader>) -> bool {
    let planar = d
        .find_tag(Tag::PlanarConfiguration)
        .ok()
        .flatten()
        .and_then(|v| v.into_u16().ok());
    let jpeg = d
        .find_tag(Tag::Compression)
        .ok()
        .flatten()
        .and_then(|v| v.into_u16().ok())
        == Some(7);
    d.get_chunk_type() == ChunkType::Tile
        && planar.is_none_or(|p| p == 1)
        && match d.colortype() {
            Ok(
                ColorType::Gray(8) | ColorType::GrayA(8) | ColorType::RGB(8) | ColorType::RGBA(8),
            ) => true,
            // The JPEG decoder upsamples chroma; the tiles come out as full YCbCr.
            Ok(ColorType::YCbCr(8)) => jpeg,
            _ => false,
        }
}

/// The decoder at the first directory, and its level, when that image can be read by the
/// tile and is upright.
fn first_in(reader: Reader) -> Option<(Decoder<Reader>, Level)> {
    let mut d = Decoder::new(reader).ok()?;
    if !usable(&mut d) {
        return None;
    }
    let orientation = d
        .find_tag(Tag::Orientation)
        .ok()
        .flatten()
        .and_then(|v| v.into_u16().ok());
    if orientation.is_some_and(|o| o != 1) {
        return None;
    }
    let (width, height) = d.dimensions().ok()?;
    let tile = d.chunk_dimensions();
    Some((
        d,
        Level {
            ifd: 0,
            width,
            height,
            tile,
        },
    ))
}

fn levels_in(reader: Reader) -> Option<Vec<Level>> {
    let (mut d, first) = first_in(reader)?;
    let (w0, h0) = (first.width, first.height);
    let mut out = vec![first];
    let mut ifd = 0;
    while d.more_images() && ifd < 32 {
        ifd += 1;
        if d.next_image().is_err() {
            break;
        }
        let Ok((w, h)) = d.dimensions() else { break };
        let last = out[out.len() - 1];
        // A reduction keeps the aspect ratio (to a pixel) and is smaller than the last level.
        let same_shape = (u64::from(w) * u64::from(h0)).abs_diff(u64::from(h) * u64::from(w0))
            <= u64::from(w0.max(h0));
        // Only reduced-resolution subfiles (NewSubfileType bit 0) are levels; other pages of a
        // multi-page TIFF are other pictures.
        let reduced = d
            .find_tag(Tag::NewSubfileType)
            .ok()
            .flatten()
            .and_then(|v| v.into_u32().ok())
            .is_some_and(|t| t & 1 == 1);
        if w < last.width && same_shape && reduced && usable(&mut d) {
            out.push(Level {
                ifd,
                width: w,
                height: h,
                tile: d.chunk_dimensions(),
            });
        }
    }
    Some(out)
}

/// Full-resolution pixels per level pixel. A level of `floor` or `ceil(full / 2^k)` pixels on
/// both axes (libvips halves rounding down, other writers round up) is an exact 2^k
/// reduction, whose last pixel is partial or dropped; any other level is its size ratio.
pub fn factors(full: Level, level: Level) -> (f64, f64) {
    let ratio = f64::from(full.width) / f64::from(level.width.max(1));
    let k = ratio.log2().round().clamp(0.0, 30.0) as u32;
    let f = 1u32 << k;
    let halved = |full: u32, level: u32| level == full / f || level == full.div_ceil(f);
    if halved(full.width, level.width) && halved(full.height, level.height) {
        (f64::from(f), f64::from(f))
    } else {
        (
            ratio,
            f64::from(full.height) / f64::from(level.height.max(1)),
        )
    }
}

/// The level to read for `region` of the full image going to `out_w`×`out_h`: the smallest
/// one that still has at least as many pixels across the region as the output, or of which
/// the output is a plain copy (see [`is_copy`]: at the image's edge, a level's partial last
/// pixel counts).
pub fn choose(levels: &[Level], region: Rect, out_w: u32, out_h: u32) -> Level {
    let full = levels[0];
    let mut best = full;
    for l in levels {
        let (fx, fy) = factors(full, *l);
        if f64::from(region.w) / fx >= f64::from(out_w)
            && f64::from(region.h) / fy >= f64::from(out_h)
            || is_copy(full, *l, region, out_w, out_h)
        {
            best = *l;
        }
    }
    best
}

/// The margin, in level pixels, to read around a region resampled at `ratio` level pixels per
/// output pixel: Lanczos3 reaches 3 output pixels, so `ceil(3 * ratio) + 1`, and none for a
/// plain copy. Tiles then join as a whole-image resize would, without seams.
pub fn margin_for(ratio: f64, copy: bool) -> u32 {
    if copy {
        0
    } else {
        (3.0 * ratio.max(1.0)).ceil() as u32 + 1
    }
}

/// Whether taking `region` from `level` to `out_w`×`out_h` is a plain copy (no resampling, so
/// no margin): the region covers exactly that many pixels of the level, whole ones or, at the
/// image's edge, a partial last one that the level holds (a level halved rounding down, as
/// libvips makes them, has dropped it).
pub fn is_copy(full: Level, level: Level, region: Rect, out_w: u32, out_h: u32) -> bool {
    let (fx, fy) = factors(full, level);
    let whole = |v: u32, f: f64| (f64::from(v) / f).fract() == 0.0;
    let edge_w = region.x + region.w == full.width;
    let edge_h = region.y + region.h == full.height;
    whole(region.x, fx)
        && whole(region.y, fy)
        && (whole(region.w, fx) || edge_w)
        && (whole(region.h, fy) || edge_h)
        && (f64::from(region.w) / fx).ceil() as u32 == out_w
        && (f64::from(region.h) / fy).ceil() as u32 == out_h
        && (f64::from(region.x + region.w) / fx).ceil() <= f64::from(level.width)
        && (f64::from(region.y + region.h) / fy).ceil() <= f64::from(level.height)
}

/// Reads the tiles of `level` under `region` (full-resolution coordinates), plus `margin`
/// level pixels, and returns them as one image with the window it covers. The embedded ICC
/// profile, if any, is applied.
///
/// With the level's stored-tile index (`jpeg`, from [`jpeg_tiles`]), gray and YCbCr JPEG
/// tiles are decoded straight to gray or RGB, many at a time when the window spans many
/// tiles; other tiles go through the TIFF decoder one by one.
pub fn read(
    file: &Object,
    full: Level,
    level: Level,
    region: Rect,
    margin: u32,
    jpeg: Option<&JpegTiles>,
) -> Result<(DynamicImage, Window), SourceError> {
    let reader = file.reader();
    let failed = reader.failure();
    let err = |e| SourceError::codec("TIFF", e).or_storage(&failed);
    let mut d = Decoder::new(reader)
        .map_err(err)?
        .with_limits(tiff::decoder::Limits::unlimited());
    let icc = d
        .find_tag(Tag::IccProfile)
        .ok()
        .flatten()
        .and_then(|v| v.into_u8_vec().ok());
    d.seek_to_image(level.ifd).map_err(err)?;
    let (fx, fy) = factors(full, level);
    // The region in level pixels, widened by the margin and clamped to the level.
    let x0 = ((f64::from(region.x) / fx).floor() as u32).saturating_sub(margin);
    let y0 = ((f64::from(region.y) / fy).floor() as u32).saturating_sub(margin);
    let x1 = (((f64::from(region.x + region.w) / fx).ceil() as u32) + margin).min(level.width);
    let y1 = (((f64::from(region.y + region.h) / fy).ceil() as u32) + margin).min(level.height);
    let (ww, wh) = (x1.saturating_sub(x0).max(1), y1.saturating_sub(y0).max(1));
    let color = d.colortype().map_err(err)?;
    let channels: usize = match color {
        ColorType::Gray(8) => 1,
        ColorType::YCbCr(8) => 3,
        ColorType::GrayA(8) => 2,
        ColorType::RGB(8) => 3,
        ColorType::RGBA(8) => 4,
        other => {
            return Err(SourceError::Invalid(format!(
                "unsupported tiled TIFF colour type {other:?}"
            )))
        }
    };
    let (tw, th) = d.chunk_dimensions();
    let across = level.width.div_ceil(tw);
    let len = (ww as usize)
        .checked_mul(wh as usize)
        .and_then(|n| n.checked_mul(channels))
        .ok_or_else(|| SourceError::Invalid("tile window too large".into()))?;
    let mut buf = vec![0u8; len];
    let window = Span {
        x0,
        y0,
        x1,
        y1,
        channels,
    };
    let direct = jpeg.filter(|_| matches!(color, ColorType::YCbCr(8) | ColorType::Gray(8)));
    if let Some(index) = direct {
        let tiles = ((x1 - 1) / tw - x0 / tw + 1) * ((y1 - 1) / th - y0 / th + 1);
        let columns = x0 / tw..=(x1 - 1) / tw;
        let wanted: Vec<u32> = (y0 / th..=(y1 - 1) / th)
            .flat_map(|ty| columns.clone().map(move |tx| ty * across + tx))
            .collect();
        // Every tile of the window in one batched read.
        let stored = stored_tiles(file, index, &wanted)?;
        let stored: std::collections::HashMap<u32, Option<Vec<u8>>> =
            wanted.into_iter().zip(stored).collect();
        for ty in y0 / th..=(y1 - 1) / th {
            let row: Vec<u32> = columns.clone().collect();
            let decode = |&tx: &u32| {
                let i = ty * across + tx;
                let bytes = stored.get(&i).and_then(Option::as_deref);
                decode_stored(bytes, i, channels, (tw, th))
            };
            // A large window is decoded on all cores, a tile row at a time.
            let decoded: Vec<(u32, u32, Vec<u8>)> = if tiles >= PARALLEL_TILES {
                use rayon::prelude::*;
                row.par_iter().map(decode).collect::<Result<_, _>>()?
            } else {
                row.iter().map(decode).collect::<Result<_, _>>()?
            };
            for (&tx, (dw, dh, data)) in row.iter().zip(decoded) {
                let (cw, ch) = (dw.min(tw), dh.min(th));
                let stride = dw as usize * channels;
                window.copy_tile(&mut buf, &data, stride, (tx * tw, ty * th), (cw, ch));
            }
        }
    } else {
        for ty in y0 / th..=(y1 - 1) / th {
            for tx in x0 / tw..=(x1 - 1) / tw {
                let index = ty * across + tx;
                let data = match d.read_chunk(index).map_err(err)? {
                    DecodingResult::U8(v) => v,
                    _ => return Err(SourceError::Invalid("unexpected tile sample type".into())),
                };
                let (cw, ch) = d.chunk_data_dimensions(index);
                // The tile's rows may be stored at the full tile width, or cropped at the edge.
                let stride = if data.len() >= (tw * ch) as usize * channels {
                    tw
                } else {
                    cw
                } as usize
                    * channels;
                window.copy_tile(&mut buf, &data, stride, (tx * tw, ty * th), (cw, ch));
            }
        }
        if color == ColorType::YCbCr(8) {
            ycbcr_to_rgb(&mut buf);
        }
    }
    let size = || SourceError::Invalid("tile buffer has the wrong size".into());
    let img = match channels {
        1 => DynamicImage::ImageLuma8(ImageBuffer::from_raw(ww, wh, buf).ok_or_else(size)?),
        2 => DynamicImage::ImageLumaA8(ImageBuffer::from_raw(ww, wh, buf).ok_or_else(size)?),
        3 => DynamicImage::ImageRgb8(ImageBuffer::from_raw(ww, wh, buf).ok_or_else(size)?),
        _ => DynamicImage::ImageRgba8(ImageBuffer::from_raw(ww, wh, buf).ok_or_else(size)?),
    };
    let img = match icc {
        Some(icc) => to_srgb(img, &icc),
        None => img,
    };
    let window = Window {
        x0: f64::from(x0) * fx,
        y0: f64::from(y0) * fy,
        fx,
        fy,
    };
    Ok((img, window))
}

/// Windows of at least this many tiles are decoded on all cores.
const PARALLEL_TILES: u32 = 16;

/// The window of a level being read, in level pixels (`x1`, `y1` exclusive).
struct Span {
    x0: u32,
    y0: u32,
    x1: u32,
    y1: u32,
    channels: usize,
}

impl Span {
    /// Copies the part of a decoded tile (`cw`×`ch` pixels of rows `stride` bytes apart, its
    /// top left at level pixel `origin`) that falls in the window into `buf`.
    fn copy_tile(
        &self,
        buf: &mut [u8],
        data: &[u8],
        stride: usize,
        origin: (u32, u32),
        size: (u32, u32),
    ) {
        let ((ox, oy), (cw, ch), c) = (origin, size, self.channels);
        let ww = (self.x1 - self.x0) as usize;
        let cols = ox.max(self.x0)..(ox + cw).min(self.x1);
        if cols.is_empty() {
            return;
        }
        for row in oy.max(self.y0)..(oy + ch).min(self.y1) {
            let src_at = (row - oy) as usize * stride + (cols.start - ox) as usize * c;
            let dst_at = ((row - self.y0) as usize * ww + (cols.start - self.x0) as usize) * c;
            let n = cols.len() * c;
            if let (Some(s), Some(t)) = (
                data.get(src_at..src_at + n),
                buf.get_mut(dst_at..dst_at + n),
            ) {
                t.copy_from_slice(s);
            }
        }
    }
}

/// Decodes stored JPEG tile `i` straight to gray (1 channel) or RGB (3); returns its decoded
/// width, height and pixels. A tile whose JPEG claims more than the level's `tile` size is
/// refused before its pixels are allocated.
fn decode_stored(
    bytes: Option<&[u8]>,
    i: u32,
    channels: usize,
    (tw, th): (u32, u32),
) -> Result<(u32, u32, Vec<u8>), SourceError> {
    use zune_core::bytestream::ZCursor;
    use zune_core::colorspace::ColorSpace;
    use zune_core::options::DecoderOptions;
    let bad = |m: String| SourceError::Invalid(format!("tile {i}: {m}"));
    let bytes = bytes.ok_or_else(|| bad("not a JPEG".into()))?;
    let space = if channels == 1 {
        ColorSpace::Luma
    } else {
        ColorSpace::RGB
    };
    let options = DecoderOptions::default()
        .jpeg_set_out_colorspace(space)
        .set_max_width(tw as usize)
        .set_max_height(th as usize);
    let mut d = zune_jpeg::JpegDecoder::new_with_options(ZCursor::new(bytes), options);
    let data = d.decode().map_err(|e| SourceError::codec("JPEG tile", e))?;
    let (w, h) = d.dimensions().ok_or_else(|| bad("no dimensions".into()))?;
    if data.len() != w * h * channels {
        return Err(bad("unexpected decoded size".into()));
    }
    Ok((w as u32, h as u32, data))
}

/// Converts full-range (JFIF) YCbCr samples to RGB in place (rounded to nearest).
fn ycbcr_to_rgb(buf: &mut [u8]) {
    // Adding 0.5 and truncating after the clamp rounds without a call to `round`, so the loop
    // vectorizes.
    let px8 = |v: f32| (v + 0.5).clamp(0.0, 255.0) as u8;
    for px in buf.chunks_exact_mut(3) {
        let y = f32::from(px[0]);
        let cb = f32::from(px[1]) - 128.0;
        let cr = f32::from(px[2]) - 128.0;
        px[0] = px8(y + 1.402 * cr);
        px[1] = px8(y - 0.344_136 * cb - 0.714_136 * cr);
        px[2] = px8(y + 1.772 * cb);
    }
}

/// What sending a level's stored JPEG tiles as they are needs: where each tile lies in the
/// file, and the shared JPEG tables. Read once per level and kept in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JpegTiles {
    offsets: Vec<u64>,
    counts: Vec<u64>,
    tables: Option<Vec<u8>>,
}

/// The stored-tile index of `level`, when the TIFF stores its tiles as JPEG (compression 7) in
/// gray, RGB or YCbCr without an ICC profile; `Ok(None)` when its tiles cannot be sent as
/// stored.
pub fn jpeg_tiles(file: &Object, level: Level) -> Result<Option<JpegTiles>, SourceError> {
    let reader = file.reader();
    let failed = reader.failure();
    let found = jpeg_tiles_in(reader, level);
    match failed.get() {
        Some(e) => Err(e.into()),
        None => found,
    }
}

fn jpeg_tiles_in(reader: Reader, level: Level) -> Result<Option<JpegTiles>, SourceError> {
    let err = |e| SourceError::codec("TIFF", e);
    let mut d = Decoder::new(reader)
        .map_err(err)?
        .with_limits(tiff::decoder::Limits::unlimited());
    if d.find_tag(Tag::IccProfile).ok().flatten().is_some() {
        return Ok(None);
    }
    d.seek_to_image(level.ifd).map_err(err)?;
    let tag16 = |d: &mut Decoder<_>, t| {
        d.find_tag(t)
            .ok()
            .flatten()
            .and_then(|v: tiff::decoder::ifd::Value| v.into_u16().ok())
    };
    let compression = tag16(&mut d, Tag::Compression);
    let photometric = tag16(&mut d, Tag::PhotometricInterpretation);
    if compression != Some(7) || !matches!(photometric, Some(1 | 2 | 6)) {
        return Ok(None);
    }
    if !matches!(
        d.colortype(),
        Ok(ColorType::Gray(8) | ColorType::RGB(8) | ColorType::YCbCr(8))
    ) {
        return Ok(None);
    }
    let tables = d
        .find_tag(Tag::JPEGTables)
        .ok()
        .flatten()
        .and_then(|v| v.into_u8_vec().ok());
    if let Some(t) = &tables {
        if t.len() < 4 || !t.starts_with(&[0xFF, 0xD8]) || !t.ends_with(&[0xFF, 0xD9]) {
            return Ok(None);
        }
    }
    let offsets = d
        .get_tag(Tag::TileOffsets)
        .and_then(|v| v.into_u64_vec())
        .map_err(err)?;
    let counts = d
        .get_tag(Tag::TileByteCounts)
        .and_then(|v| v.into_u64_vec())
        .map_err(err)?;
    Ok(Some(JpegTiles {
        offsets,
        counts,
        tables,
    }))
}

/// The bytes of stored tile (`tx`, `ty`) of `level` as a complete JPEG: the tile's abbreviated
/// datastream with the shared tables spliced in after its SOI marker. This is the zero-decode
/// path; `Ok(None)` when the tile is not a usable JPEG datastream.
pub fn stored_jpeg_tile(
    file: &Object,
    index: &JpegTiles,
    level: Level,
    tx: u32,
    ty: u32,
) -> Result<Option<Vec<u8>>, SourceError> {
    let i = ty * level.width.div_ceil(level.tile.0.max(1)) + tx;
    Ok(stored_tiles(file, index, &[i])?.pop().flatten())
}

/// Stored tiles `wanted` as complete JPEG datastreams (see [`stored_jpeg_tile`]), read in one
/// batched call; `None` for a tile that is not a usable JPEG datastream.
fn stored_tiles(
    file: &Object,
    index: &JpegTiles,
    wanted: &[u32],
) -> Result<Vec<Option<Vec<u8>>>, SourceError> {
    let range = |i: u32| {
        let i = i as usize;
        let (&offset, &count) = (index.offsets.get(i)?, index.counts.get(i)?);
        let end = offset.checked_add(count)?;
        (4..=64 << 20).contains(&count).then_some(offset..end)
    };
    let ranges: Vec<_> = wanted.iter().filter_map(|&i| range(i)).collect();
    let mut read = file.read_ranges(&ranges)?.into_iter();
    Ok(wanted
        .iter()
        .map(|&i| {
            range(i)?;
            let tile = read.next()?;
            if !tile.starts_with(&[0xFF, 0xD8]) {
                return None;
            }
            let Some(tables) = &index.tables else {
                return Some(tile);
            };
            let mut out = Vec::with_capacity(tables.len() + tile.len());
            out.extend_from_slice(&tile[..2]);
            out.extend_from_slice(&tables[2..tables.len() - 2]);
            out.extend_from_slice(&tile[2..]);
            Some(out)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_tile_larger_than_the_tile_size_is_refused() {
        let pixels = vec![90u8; 300 * 200 * 3];
        let jpeg = crate::encode::jpeg_pixels(&pixels, 300, 200, 3, 80).unwrap();
        let (w, h, data) = decode_stored(Some(&jpeg), 0, 3, (300, 200)).unwrap();
        assert_eq!((w, h, data.len()), (300, 200, 300 * 200 * 3));
        for small in [(256, 256), (300, 199)] {
            let err = decode_stored(Some(&jpeg), 0, 3, small).unwrap_err();
            assert!(
                matches!(&err, SourceError::Codec { format: "JPEG tile", source }
                    if !source.to_string().is_empty()),
                "{err:?}"
            );
        }
    }

    #[test]
    fn ycbcr_converts_to_rgb() {
        // Black, white, and pure red/green/blue as a JFIF encoder writes them.
        let mut px = vec![
            0, 128, 128, 255, 128, 128, 76, 85, 255, 150, 44, 21, 29, 255, 107,
        ];
        ycbcr_to_rgb(&mut px);
        let want = [
            [0, 0, 0],
            [255, 255, 255],
            [254, 0, 0],
            [0, 255, 1],
            [0, 0, 255],
        ];
        for (got, want) in px.chunks(3).zip(want) {
            for c in 0..3 {
                assert!(got[c].abs_diff(want[c]) <= 1, "{got:?} vs {want:?}");
            }
        }
    }

    #[test]
    fn halvings_rounded_up_are_exact_powers_of_two() {
        let l = |width, height| Level {
            ifd: 0,
            width,
            height,
            tile: (256, 256),
        };
        assert_eq!(factors(l(10_000, 6_667), l(5_000, 3_334)), (2.0, 2.0));
        assert_eq!(
            factors(l(10_000, 6_667), l(5_000, 3_333)),
            (2.0, 2.0),
            "vips rounds down"
        );
        assert_eq!(factors(l(10_000, 6_667), l(156, 104)), (64.0, 64.0));
        assert_eq!(factors(l(10_000, 6_667), l(157, 105)), (64.0, 64.0));
        let odd = factors(l(1000, 600), l(300, 200));
        assert!((odd.0 - 3.333).abs() < 0.01 && odd.1 == 3.0);
    }

    #[test]
    fn choose_takes_the_smallest_sufficient_level() {
        let l = |ifd, width, height| Level {
            ifd,
            width,
            height,
            tile: (256, 256),
        };
        let levels = [
            l(0, 4800, 3200),
            l(1, 2400, 1600),
            l(2, 1200, 800),
            l(3, 600, 400),
        ];
        let r = |x, y, w, h| Rect { x, y, w, h };
        assert_eq!(choose(&levels, r(0, 0, 4800, 3200), 200, 133).ifd, 3);
        assert_eq!(choose(&levels, r(0, 0, 4800, 3200), 601, 400).ifd, 2);
        assert_eq!(choose(&levels, r(1024, 1024, 1024, 1024), 256, 256).ifd, 2);
        assert_eq!(choose(&levels, r(1024, 1024, 256, 256), 256, 256).ifd, 0);
        // Halved rounding up, 4800×3201 has a 2400×1601 level whose last row is half a row
        // of the source: the whole image, or its bottom tile, at that size is a copy of it.
        let odd = [l(0, 4800, 3201), l(1, 2400, 1601)];
        // Halved rounding down (as libvips does), the level has dropped that half row: a
        // copy of it would be one row short, so the level above is resampled.
        let vips = [l(0, 4800, 3201), l(1, 2400, 1600)];
        assert_eq!(choose(&vips, r(0, 0, 4800, 3201), 2400, 1601).ifd, 0);
        assert_eq!(choose(&vips, r(0, 0, 4800, 3200), 2400, 1600).ifd, 1);
        assert_eq!(choose(&odd, r(0, 0, 4800, 3201), 2400, 1601).ifd, 1);
        assert_eq!(choose(&odd, r(0, 3072, 512, 129), 256, 65).ifd, 1);
        assert_eq!(
            choose(&odd, r(0, 3072, 512, 128), 256, 65).ifd,
            0,
            "an upscale"
        );
        assert_eq!(
            choose(&levels, r(0, 0, 100, 100), 400, 400).ifd,
            0,
            "upscaling reads full size"
        );
    }

    #[test]
    fn tiles_of_the_fixture_assemble_exactly() {
        let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let path = fixtures.join("grid-tiled.tif");
        let file = Object::at(&path).unwrap();
        let levels = levels(&file).unwrap().unwrap();
        assert_eq!(levels.len(), 1);
        let region = Rect {
            x: 90,
            y: 40,
            w: 120,
            h: 100,
        };
        let index = jpeg_tiles(&file, levels[0]).unwrap();
        let (img, win) = read(&file, levels[0], levels[0], region, 4, index.as_ref()).unwrap();
        assert_eq!((win.x0, win.y0, win.fx), (86.0, 36.0, 1.0));
        let whole = image::open(&path).unwrap().to_rgb8();
        let part = img.to_rgb8();
        for (x, y, p) in part.enumerate_pixels() {
            assert_eq!(p, whole.get_pixel(x + 86, y + 36), "at {x},{y}");
        }
        assert!(
            super::levels(&Object::at(&fixtures.join("grid-strip.tif")).unwrap())
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn the_first_level_alone_agrees_with_all_levels() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let mut pyramids = 0;
        for name in [
            "grid-tiled.tif",
            "grid-strip.tif",
            "grid16-tiled.tif",
            "grid.png",
            "fidelity/pyramid-jpeg.tif",
            "fidelity/pyramid-ycbcr.tif",
            "fidelity/pyramid-deflate.tif",
            "fidelity/pyramid-bigtiff.tif",
            "fidelity/orient-6.tif",
            "fidelity/cmyk.tif",
        ] {
            let file = Object::at(&root.join(name)).unwrap();
            let all = levels(&file).unwrap();
            assert_eq!(
                first_level(&file).unwrap(),
                all.as_ref().map(|l| l[0]),
                "{name}"
            );
            pyramids += usize::from(all.is_some_and(|l| l.len() > 1));
        }
        assert!(
            pyramids >= 2,
            "the fixtures hold pyramids of several levels"
        );
        let big = Object::at(&root.join("fidelity/pyramid-bigtiff.tif")).unwrap();
        let widths: Vec<u32> = levels(&big)
            .unwrap()
            .unwrap()
            .iter()
            .map(|l| l.width)
            .collect();
        assert_eq!(widths, [600, 300, 150, 75], "a BigTIFF's levels are read");
    }
}
