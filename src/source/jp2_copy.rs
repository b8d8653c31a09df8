//! Local copies of JPEG 2000 sources from a store, read by range. The decoder reads files
//! only, so a source that is not a local file is decoded from a sparse temporary file of the
//! object's length that holds what decodes so far have needed: the bytes before the first
//! tile-part (boxes and main header), every tile-part's SOT marker segment (the decoder reads
//! each one and skips the tile-parts outside its area), the bytes after the codestream, and
//! the tile-parts of the tiles that regions have covered. Each tile-part is read from the
//! store once per copy, and the rest of the object never: decodes at once that need the same
//! tile-part wait for the one that reads it (and read it themselves if that read fails).
//!
//! The tile-parts are found from the main header's TLM marker segments when it has them (their
//! SOT segments read in one request and checked against them), else by walking the SOT
//! segments from the first. A codestream whose tile-parts cannot be walked (a broken SOT, a
//! main header beyond 16 MiB) is copied whole, and the decoder reports what is wrong with it.

use super::jp2::J2K_SIGNATURE;
use super::{DecodeLimits, SourceError};
use crate::iiif::Rect;
use crate::storage::{Object, StorageError};
use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use tempfile::TempPath;

/// Bytes read per round trip while walking the SOT marker segments: a block that holds the
/// next few when tile-parts are small, else only the next one.
const WALK_BLOCK: u64 = 64 << 10;
const SOT_LEN: u64 = 12;
/// The walk's round trips: one per MiB of the object, and at least this many, so that it
/// never costs much more than the whole read it replaces (beyond, the object is copied whole).
const MIN_WALK_TRIPS: u64 = 64;
/// The most tile-parts a copy indexes (about 40 MB of index; beyond, the object is copied
/// whole): 65,535 tiles of 16 tile-parts each.
const MAX_PARTS: usize = 1 << 20;
/// Where the main header must end (beyond it, the object is copied whole).
const MAX_MAIN_HEADER: u64 = 16 << 20;

/// The codestream's tile grid (SIZ), on the reference canvas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grid {
    /// XOsiz, YOsiz: where the image starts.
    pub origin: (u32, u32),
    /// XTOsiz, YTOsiz: where the first tile starts.
    pub tile_origin: (u32, u32),
    /// XTsiz, YTsiz.
    pub tile: (u32, u32),
    /// Tiles across and down.
    pub tiles: (u32, u32),
}

/// One tile-part: the tile it belongs to (Isot) and its bytes in the object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TilePart {
    /// Isot.
    pub tile: u32,
    /// From its SOT marker to its end.
    pub bytes: Range<u64>,
}

/// Reads SIZ's grid from the codestream starting at `cs` (its SOC marker).
pub fn grid(bytes: &[u8], cs: usize) -> Option<Grid> {
    let be32 = |at: usize| Some(u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?));
    let siz = cs + 4;
    let (x1, y1) = (be32(siz + 4)?, be32(siz + 8)?);
    let origin = (be32(siz + 12)?, be32(siz + 16)?);
    let tile = (be32(siz + 20)?, be32(siz + 24)?);
    let tile_origin = (be32(siz + 28)?, be32(siz + 32)?);
    if tile.0 == 0 || tile.1 == 0 || tile_origin.0 > origin.0 || tile_origin.1 > origin.1 {
        return None;
    }
    let across = (x1.checked_sub(tile_origin.0)?).div_ceil(tile.0);
    let down = (y1.checked_sub(tile_origin.1)?).div_ceil(tile.1);
    // Isot numbers at most 65,535 tiles.
    if u64::from(across) * u64::from(down) > u64::from(u16::MAX) {
        return None;
    }
    Some(Grid {
        origin,
        tile_origin,
        tile,
        tiles: (across, down),
    })
}

impl Grid {
    /// The tiles (by index, row-major) that a decode of `region` (image coordinates; all of
    /// the image when `None`) reads: OpenJPEG's own choice (`opj_j2k_set_decode_area`), the
    /// tiles from the area's start, rounded down, to its end, rounded up.
    pub fn tiles_for(&self, region: Option<Rect>) -> Vec<u32> {
        let (across, down) = self.tiles;
        let (xs, ys) = match region {
            None => (0..across, 0..down),
            Some(r) => {
                let span = |start: u32, len: u32, origin: u32, tile_origin: u32, size: u32| {
                    let a = start.saturating_add(origin) - tile_origin;
                    let b = start.saturating_add(len).saturating_add(origin) - tile_origin;
                    a / size..b.div_ceil(size)
                };
                let (ox, oy) = self.origin;
                let (tx, ty) = self.tile_origin;
                let xs = span(r.x, r.w, ox, tx, self.tile.0);
                let ys = span(r.y, r.h, oy, ty, self.tile.1);
                (
                    xs.start.min(across)..xs.end.min(across),
                    ys.start.min(down)..ys.end.min(down),
                )
            }
        };
        ys.flat_map(|y| xs.clone().map(move |x| y * across + x))
            .collect()
    }
}

/// Where a main header ends, as far as the bytes at hand tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MainHeader {
    /// At the first SOT marker, at this offset.
    EndsAt(usize),
    /// Beyond the bytes at hand.
    Beyond,
    /// A marker segment is not one.
    Malformed,
}

/// Where the main header that starts at `cs` (its SOC marker) ends: the offset of the first
/// SOT marker.
pub fn first_tile_part(bytes: &[u8], cs: usize) -> MainHeader {
    let mut at = cs + 2;
    loop {
        let Some(head) = bytes.get(at..at + 4) else {
            return MainHeader::Beyond;
        };
        match [head[0], head[1]] {
            [0xFF, 0x90] => return MainHeader::EndsAt(at),
            [0xFF, m] if m >= 0x01 => at += 2 + usize::from(u16::from_be_bytes([head[2], head[3]])),
            _ => return MainHeader::Malformed,
        }
    }
}

/// A SOT marker segment (12 bytes): the tile-part's tile and length (Psot, 0 when it runs to
/// the end of the codestream); `None` when the bytes are not one.
pub fn sot(bytes: &[u8]) -> Option<(u32, u32)> {
    let b = bytes.get(..12)?;
    if b[..4] != [0xFF, 0x90, 0x00, 0x0A] {
        return None;
    }
    let tile = u32::from(u16::from_be_bytes([b[4], b[5]]));
    let len = u32::from_be_bytes([b[6], b[7], b[8], b[9]]);
    Some((tile, len))
}

/// Where one tile-part of a copy is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    /// Not in the copy.
    Absent,
    /// Being read by one fill; the others that need it wait.
    Reading,
    /// In the copy.
    Held,
}

/// A sparse local copy of a JPEG 2000 object (see the module's header). Deleted when dropped.
pub struct Jp2Copy {
    path: TempPath,
    out: std::fs::File,
    /// The grid and tile-parts, when the codestream could be walked (else the copy is whole).
    parts: Option<(Grid, Vec<TilePart>)>,
    /// Where each tile-part is.
    state: Mutex<Vec<Part>>,
    /// Notified when tile-parts stop being read.
    read: Condvar,
    /// Fills waiting for tile-parts that others are reading.
    waiting: AtomicUsize,
}

/// Tile-parts that one fill is reading: held once it says they are written, else absent
/// again (a failed read, a panic), and the fills waiting for them are woken either way.
struct Claim<'a> {
    copy: &'a Jp2Copy,
    parts: Vec<usize>,
    written: bool,
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        let now = if self.written {
            Part::Held
        } else {
            Part::Absent
        };
        let mut state = self.copy.state();
        for &i in &self.parts {
            state[i] = now;
        }
        drop(state);
        self.copy.read.notify_all();
    }
}

impl std::fmt::Debug for Jp2Copy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jp2Copy")
            .field("path", &self.path)
            .field("parts", &self.parts.as_ref().map(|(_, p)| p.len()))
            .finish()
    }
}

impl Jp2Copy {
    /// Starts a copy of `file`: everything but the tile-parts' data, or the whole object when
    /// its codestream cannot be walked (refused when the object is over `limits`' bytes, as
    /// it passes through memory). A tile-part whose length is not given (Psot 0: it runs to
    /// the end of the codestream) is read now too, as the decoder may read past its SOT
    /// segment when it skips the tile (OpenJPEG 2.5 refuses a region that misses that tile,
    /// in a local file too; the copy answers as the file does, and is never the cause).
    pub fn start(file: &Object, limits: DecodeLimits) -> Result<Jp2Copy, SourceError> {
        let io = |e| SourceError::Storage(StorageError::io(&file.key, e));
        let codestream = |head: &[u8]| head.windows(4).position(|w| w == J2K_SIGNATURE);
        let mut head = file.head(64 << 10)?;
        let found = codestream(&head).map(|cs| (cs, first_tile_part(&head, cs)));
        if matches!(found, None | Some((_, MainHeader::Beyond))) && file.len > head.len() as u64 {
            head = file.head(MAX_MAIN_HEADER)?;
        }
        let cs = codestream(&head)
            .ok_or_else(|| SourceError::Invalid("invalid JPEG 2000 header".into()))?;
        let walked = match (first_tile_part(&head, cs), grid(&head, cs)) {
            (MainHeader::EndsAt(first), Some(grid)) => {
                let trips = MIN_WALK_TRIPS.max(file.len >> 20);
                match from_tlm(file, &head, cs, first, grid, trips)? {
                    Some(listed) => Some(listed),
                    None => walk(file, &head, first as u64, grid, trips)?,
                }
            }
            _ => None,
        };
        let Some((grid, parts, sots, tail)) = walked else {
            return Jp2Copy::whole(file, limits);
        };
        let (out, path) = temp_file(file, cs)?;
        out.set_len(file.len).map_err(io)?;
        let first = parts.first().map_or(tail.0, |p| p.bytes.start);
        out.write_all_at(&head[..first as usize], 0).map_err(io)?;
        for (part, sot) in parts.iter().zip(&sots) {
            out.write_all_at(sot, part.bytes.start).map_err(io)?;
        }
        out.write_all_at(&tail.1, tail.0).map_err(io)?;
        let copy = Jp2Copy::new(path, out, Some((grid, parts)), sots.len());
        if let Some((_, parts)) = &copy.parts {
            let open_ended = sots.iter().enumerate().filter(|(_, s)| s[6..10] == [0; 4]);
            let claim = copy.claim(&mut copy.state(), open_ended.map(|(i, _)| i).collect());
            copy.read_parts(file, parts, claim, limits)?;
        }
        Ok(copy)
    }

    /// A whole copy of `file` (for a decode of all of it, or a codestream that cannot be
    /// walked), refused when the object is over `limits`' bytes.
    pub fn whole(file: &Object, limits: DecodeLimits) -> Result<Jp2Copy, SourceError> {
        let io = |e| SourceError::Storage(StorageError::io(&file.key, e));
        limits.check_bytes(file.len)?;
        let bytes = file.read_all()?;
        let cs = bytes[..bytes.len().min(MAX_MAIN_HEADER as usize)]
            .windows(4)
            .position(|w| w == J2K_SIGNATURE)
            .ok_or_else(|| SourceError::Invalid("invalid JPEG 2000 header".into()))?;
        let (out, path) = temp_file(file, cs)?;
        out.write_all_at(&bytes, 0).map_err(io)?;
        Ok(Jp2Copy::new(path, out, None, 0))
    }

    fn new(
        path: TempPath,
        out: std::fs::File,
        parts: Option<(Grid, Vec<TilePart>)>,
        count: usize,
    ) -> Jp2Copy {
        Jp2Copy {
            path,
            out,
            parts,
            state: Mutex::new(vec![Part::Absent; count]),
            read: Condvar::new(),
            waiting: AtomicUsize::new(0),
        }
    }

    fn state(&self) -> MutexGuard<'_, Vec<Part>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Marks tile-parts `parts` as being read by the caller, in `state` (the copy's, locked).
    fn claim(&self, state: &mut [Part], parts: Vec<usize>) -> Claim<'_> {
        for &i in &parts {
            state[i] = Part::Reading;
        }
        Claim {
            copy: self,
            parts,
            written: false,
        }
    }

    /// The file the decoder reads.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads into the copy the tile-parts that a decode of `region` (all of the image when
    /// `None`) needs and the copy does not hold yet: one request to the store (its ranges
    /// coalesced by the backend), none when it holds them all. Tile-parts that another fill
    /// is reading are waited for, not read again (unless that read fails). Refused when the
    /// parts this fill reads are over `limits`' bytes, as they pass through memory.
    pub fn fill(
        &self,
        file: &Object,
        region: Option<Rect>,
        limits: DecodeLimits,
    ) -> Result<(), SourceError> {
        let Some((grid, parts)) = &self.parts else {
            return Ok(());
        };
        let tiles = grid.tiles_for(region);
        let needed: Vec<usize> = (0..parts.len())
            .filter(|&i| tiles.binary_search(&parts[i].tile).is_ok())
            .collect();
        loop {
            let mut state = self.state();
            let absent: Vec<usize> = needed
                .iter()
                .copied()
                .filter(|&i| state[i] == Part::Absent)
                .collect();
            if !absent.is_empty() {
                // Claimed under the lock they were found absent under: no other fill reads them.
                let claim = self.claim(&mut state, absent);
                drop(state);
                self.read_parts(file, parts, claim, limits)?;
                continue;
            }
            if needed.iter().all(|&i| state[i] == Part::Held) {
                return Ok(());
            }
            // The rest are being read by others: once they are done, each part is held, or
            // absent again (that read failed) and read here.
            self.waiting.fetch_add(1, Ordering::Relaxed);
            let state = self
                .read
                .wait_while(state, |s| needed.iter().any(|&i| s[i] == Part::Reading));
            self.waiting.fetch_sub(1, Ordering::Relaxed);
            drop(state.unwrap_or_else(|e| e.into_inner()));
        }
    }

    /// Reads the tile-parts of `claim` (of the copy's `parts`) from the store into the copy;
    /// they are held once written, so that a decode never reads a part another is writing.
    fn read_parts(
        &self,
        file: &Object,
        parts: &[TilePart],
        mut claim: Claim<'_>,
        limits: DecodeLimits,
    ) -> Result<(), SourceError> {
        if claim.parts.is_empty() {
            return Ok(());
        }
        let ranges: Vec<Range<u64>> = claim
            .parts
            .iter()
            .map(|&i| parts[i].bytes.clone())
            .collect();
        limits.check_bytes(ranges.iter().map(|r| r.end - r.start).sum())?;
        let read = file.read_ranges(&ranges)?;
        let io = |e| SourceError::Storage(StorageError::io(&file.key, e));
        for (range, bytes) in ranges.iter().zip(&read) {
            self.out.write_all_at(bytes, range.start).map_err(io)?;
        }
        claim.written = true;
        Ok(())
    }

    /// The memory the copy's index of tile-parts takes, in bytes.
    pub fn index_bytes(&self) -> usize {
        self.parts.as_ref().map_or(0, |(_, p)| {
            p.len() * (std::mem::size_of::<TilePart>() + std::mem::size_of::<Part>())
        })
    }

    /// How many tile-parts the copy holds, of how many (`None` when it is whole).
    pub fn held(&self) -> Option<(usize, usize)> {
        let state = self.state();
        self.parts
            .as_ref()
            .map(|(_, p)| (state.iter().filter(|&&s| s == Part::Held).count(), p.len()))
    }

    /// Whether the file is still there (a temporary-folder cleaner may have deleted it).
    pub fn exists(&self) -> bool {
        self.path.exists()
    }
}

/// The temporary file of a copy of `file`, whose codestream starts at `cs`. The decoder tells
/// a JP2 file from a bare codestream by the file's extension.
fn temp_file(file: &Object, cs: usize) -> Result<(std::fs::File, TempPath), SourceError> {
    let suffix = if cs == 0 { ".j2k" } else { ".jp2" };
    let tmp = tempfile::Builder::new()
        .suffix(suffix)
        .tempfile()
        .map_err(|e| SourceError::Storage(StorageError::io(&file.key, e)))?;
    Ok(tmp.into_parts())
}

/// The grid, the tile-parts, their SOT segments, and where the codestream's end starts with
/// the bytes from there to the end of the object.
type Walked = (Grid, Vec<TilePart>, Vec<[u8; 12]>, (u64, Vec<u8>));

/// The tile-parts that the main header's TLM marker segments list, in order: each one's tile
/// (`None` when the segments leave it implicit: then tile-part k is tile k, the only one of
/// its tile) and its length (Ptlm, as Psot counts it). `None` when the main header, from `cs`
/// (its SOC marker) to `first` (its first SOT), has no TLM segment, or one that is malformed
/// (segments are put in their Ztlm order, which must not repeat).
pub fn tlm_lengths(bytes: &[u8], cs: usize, first: usize) -> Option<Vec<(Option<u32>, u32)>> {
    let mut segments: Vec<(u8, &[u8])> = Vec::new();
    let mut at = cs + 2;
    while at + 4 <= first {
        let marker = [*bytes.get(at)?, *bytes.get(at + 1)?];
        let len = usize::from(u16::from_be_bytes([
            *bytes.get(at + 2)?,
            *bytes.get(at + 3)?,
        ]));
        let body = bytes.get(at + 4..at + 2 + len.max(2))?;
        if marker == [0xFF, 0x55] {
            let (&z, _) = body.split_first()?;
            segments.push((z, body));
        }
        at += 2 + len;
    }
    segments.sort_by_key(|(z, _)| *z);
    if segments.is_empty() || segments.windows(2).any(|w| w[0].0 == w[1].0) {
        return None;
    }
    let mut parts = Vec::new();
    for (_, body) in segments {
        let stlm = *body.get(1)?;
        let (st, sp) = (usize::from((stlm >> 4) & 3), (stlm >> 6) & 1);
        if st == 3 || stlm & 0x8F != 0 {
            return None;
        }
        let width = st + if sp == 1 { 4 } else { 2 };
        let entries = &body[2..];
        if entries.len() % width != 0 {
            return None;
        }
        for e in entries.chunks(width) {
            let tile = match st {
                0 => None,
                1 => Some(u32::from(e[0])),
                _ => Some(u32::from(u16::from_be_bytes([e[0], e[1]]))),
            };
            let p = &e[st..];
            let len = if sp == 1 {
                u32::from_be_bytes([p[0], p[1], p[2], p[3]])
            } else {
                u32::from(u16::from_be_bytes([p[0], p[1]]))
            };
            parts.push((tile, len));
            if parts.len() > MAX_PARTS {
                return None;
            }
        }
    }
    Some(parts)
}

/// The tile-parts from the main header's TLM segments ([`tlm_lengths`]), from `first` (the
/// first SOT's offset): their SOT segments and the codestream's EOC marker are read in one
/// call and checked against them, then the bytes after the EOC (if any). The walk's answer
/// in one round trip (or a few ranged reads at once, when the tile-parts lie far apart).
/// `None` when there is no TLM, or it does not describe this codestream, or its SOT segments
/// lie in more than `trips` stretches of the object (then the SOT segments are walked, with
/// the walk's own bounds).
fn from_tlm(
    file: &Object,
    head: &[u8],
    cs: usize,
    first: usize,
    grid: Grid,
    trips: u64,
) -> Result<Option<Walked>, SourceError> {
    let Some(listed) = tlm_lengths(head, cs, first) else {
        return Ok(None);
    };
    let tiles = grid.tiles.0 * grid.tiles.1;
    let mut parts = Vec::with_capacity(listed.len());
    let mut at = first as u64;
    for (k, &(tile, len)) in listed.iter().enumerate() {
        let tile = match tile {
            Some(t) => t,
            None => u32::try_from(k).unwrap_or(u32::MAX),
        };
        let end = at + u64::from(len);
        if tile >= tiles || len < 14 || end > file.len {
            return Ok(None);
        }
        parts.push(TilePart {
            tile,
            bytes: at..end,
        });
        at = end;
    }
    let listed_sot = |p: &TilePart| (p.tile, (p.bytes.end - p.bytes.start) as u32);
    // The first SOT is in the header at hand: a TLM that disagrees with it costs no request.
    match parts.first() {
        Some(p) if sot(&head[first..]) == Some(listed_sot(p)) => {}
        _ => return Ok(None),
    }
    // Ranges more than a read-ahead block apart are separate reads for a network store.
    let stretches = 1 + parts
        .windows(2)
        .filter(|w| w[1].bytes.start - w[0].bytes.start > WALK_BLOCK / 4)
        .count() as u64;
    if stretches > trips {
        return Ok(None);
    }
    let mut ranges: Vec<Range<u64>> = parts
        .iter()
        .map(|p| p.bytes.start..p.bytes.start + SOT_LEN)
        .collect();
    let eoc = at..(at + 2).min(file.len);
    if !eoc.is_empty() {
        ranges.push(eoc.clone());
    }
    let mut read = file.read_ranges(&ranges)?;
    let mut tail = if eoc.is_empty() {
        Vec::new()
    } else {
        read.pop().unwrap_or_default()
    };
    if !(tail.is_empty() || tail == [0xFF, 0xD9]) {
        return Ok(None);
    }
    let mut sots = Vec::with_capacity(parts.len());
    for (part, bytes) in parts.iter().zip(&read) {
        if sot(bytes) != Some(listed_sot(part)) {
            return Ok(None);
        }
        sots.push(bytes[..12].try_into().expect("12 bytes"));
    }
    // What follows the codestream (JP2 boxes after it, rarely), once the list is known good.
    if eoc.end < file.len {
        tail.extend(file.read_range(eoc.end..file.len)?);
    }
    Ok(Some((grid, parts, sots, (at, tail))))
}

/// Walks the SOT marker segments from `first` (in `head`, the object's first bytes, then
/// reading ahead [`WALK_BLOCK`] while tile-parts
/// are small, else each segment alone): the
/// tile-parts, their SOT segments, and the bytes from the end of the codestream (its EOC
/// marker) to the end of the object. `None` when a segment is not a SOT or EOC, or does not
/// fit the object, or the walk needs more than `trips` reads or finds more than
/// [`MAX_PARTS`] tile-parts.
fn walk(
    file: &Object,
    head: &[u8],
    first: u64,
    grid: Grid,
    mut trips: u64,
) -> Result<Option<Walked>, SourceError> {
    let tiles = u64::from(grid.tiles.0) * u64::from(grid.tiles.1);
    let (mut parts, mut sots) = (Vec::new(), Vec::new());
    let mut block: (u64, Vec<u8>) = (0, head.to_vec());
    let (mut at, mut last) = (first, 0);
    while at < file.len {
        // A SOT segment, or the EOC marker that may end the object.
        let want = SOT_LEN.min(file.len - at);
        if !(at >= block.0 && at + want <= block.0 + block.1.len() as u64) {
            let ahead = if last > WALK_BLOCK / 4 {
                SOT_LEN
            } else {
                WALK_BLOCK
            };
            if trips == 0 {
                return Ok(None);
            }
            trips -= 1;
            block = (at, file.read_range(at..(at + ahead).min(file.len))?);
        }
        let here = &block.1[(at - block.0) as usize..];
        if here.starts_with(&[0xFF, 0xD9]) {
            let end = block.0 + block.1.len() as u64;
            let tail = if end >= file.len {
                here.to_vec()
            } else {
                file.read_range(at..file.len)?
            };
            return Ok(Some((grid, parts, sots, (at, tail))));
        }
        let Some((tile, len)) = sot(here) else {
            return Ok(None);
        };
        let end = if len == 0 {
            file.len
        } else {
            at + u64::from(len)
        };
        let bad = u64::from(tile) >= tiles || (len != 0 && len < 14) || end > file.len;
        if bad || parts.len() == MAX_PARTS {
            return Ok(None);
        }
        sots.push(here[..12].try_into().expect("12 bytes"));
        parts.push(TilePart {
            tile,
            bytes: at..end,
        });
        (at, last) = (end, end - at);
    }
    Ok(Some((grid, parts, sots, (file.len, Vec::new()))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::jp2;
    use crate::storage::{Memory, Storage};
    use std::sync::Arc;

    fn grid_of(tile: u32, size: (u32, u32)) -> Grid {
        Grid {
            origin: (0, 0),
            tile_origin: (0, 0),
            tile: (tile, tile),
            tiles: (size.0.div_ceil(tile), size.1.div_ceil(tile)),
        }
    }

    #[test]
    fn a_region_needs_the_tiles_it_touches() {
        let g = grid_of(100, (350, 250)); // 4 x 3 tiles
        let r = |x, y, w, h| Some(Rect { x, y, w, h });
        assert_eq!(g.tiles_for(None), (0..12).collect::<Vec<_>>());
        assert_eq!(g.tiles_for(r(0, 0, 100, 100)), [0]);
        assert_eq!(g.tiles_for(r(99, 0, 2, 1)), [0, 1]);
        assert_eq!(g.tiles_for(r(100, 100, 100, 100)), [5]);
        assert_eq!(g.tiles_for(r(150, 150, 200, 100)), [5, 6, 7, 9, 10, 11]);
        assert_eq!(g.tiles_for(r(300, 200, 50, 50)), [11]);
        // An image offset on the canvas, and tiles starting before it.
        let shifted = Grid {
            origin: (30, 0),
            tile_origin: (10, 0),
            ..g
        };
        assert_eq!(shifted.tiles_for(r(0, 0, 80, 10)), [0]);
        assert_eq!(shifted.tiles_for(r(0, 0, 81, 10)), [0, 1]);
    }

    #[test]
    fn sot_segments_and_main_headers_are_read_or_refused() {
        let seg = [0xFF, 0x90, 0, 10, 0, 7, 0, 0, 1, 0, 0, 1];
        assert_eq!(sot(&seg), Some((7, 256)));
        assert_eq!(sot(&seg[..11]), None);
        assert_eq!(sot(&[0xFF, 0x91, 0, 10, 0, 7, 0, 0, 1, 0, 0, 1]), None);
        // SOC, a 4-byte segment, then SOT.
        let header = [0xFF, 0x4F, 0xFF, 0x51, 0, 4, 1, 2, 0xFF, 0x90, 0, 10];
        assert_eq!(first_tile_part(&header, 0), MainHeader::EndsAt(8));
        assert_eq!(first_tile_part(&header[..9], 0), MainHeader::Beyond);
        let broken = [0xFF, 0x4F, 0x12, 0x34, 0, 0];
        assert_eq!(first_tile_part(&broken, 0), MainHeader::Malformed);
    }

    /// A 128-px-tiled lossless JP2 of 512 x 384 pixels of noise (4 x 3 tiles that do not
    /// compress), in a memory store, and the same bytes as a local file.
    fn tiled() -> (Arc<Memory>, Object, tempfile::NamedTempFile, Vec<u8>) {
        stored(crate::encode::jp2::encode_tiled(&noise_image(), Some(128)).unwrap())
    }

    /// `bytes` as `t.jp2` in a fresh memory store, and as a local file.
    fn stored(bytes: Vec<u8>) -> (Arc<Memory>, Object, tempfile::NamedTempFile, Vec<u8>) {
        let memory = Arc::new(Memory::default());
        memory.put("t.jp2", bytes.clone());
        let file = Storage::from(memory.clone()).resolve("t.jp2").unwrap();
        let mut local = tempfile::Builder::new().suffix(".jp2").tempfile().unwrap();
        std::io::Write::write_all(&mut local, &bytes).unwrap();
        (memory, file, local, bytes)
    }

    #[test]
    fn a_copy_holds_only_the_tiles_decodes_needed_and_decodes_as_the_whole_file() {
        let (memory, file, local, bytes) = tiled();
        let header = super::super::jp2::read_header(&file).unwrap();
        let read_before = memory.bytes_read();
        let copy = Jp2Copy::start(&file, DecodeLimits::UNLIMITED).unwrap();
        let (_, parts) = copy.parts.as_ref().unwrap();
        let tiles = header.dims.width.div_ceil(128) * header.dims.height.div_ceil(128);
        assert_eq!(tiles, 12);
        assert_eq!(copy.held(), Some((0, parts.len())));
        assert_eq!(parts.iter().map(|p| p.tile).max(), Some(tiles - 1));
        let started = memory.bytes_read() - read_before;
        let r = |x, y, w, h| Some(Rect { x, y, w, h });
        let mut held = std::collections::BTreeSet::new();
        for (region, reduce) in [
            (r(0, 0, 128, 128), 0),
            (r(130, 10, 100, 100), 0),
            (r(100, 100, 60, 60), 1),
            (r(0, 0, 128, 128), 0),
            (None, 2),
        ] {
            let before = memory.bytes_read();
            copy.fill(&file, region, DecodeLimits::UNLIMITED).unwrap();
            let want = copy.parts.as_ref().unwrap().0.tiles_for(region);
            let new: u64 = parts
                .iter()
                .filter(|p| want.contains(&p.tile) && !held.contains(&p.tile))
                .map(|p| p.bytes.end - p.bytes.start)
                .sum();
            assert_eq!(
                memory.bytes_read() - before,
                new,
                "{region:?}: only new parts"
            );
            held.extend(want);
            let (got, gw) = jp2::decode(copy.path(), &header, region, reduce).unwrap();
            let (all, aw) = jp2::decode(local.path(), &header, region, reduce).unwrap();
            assert_eq!((gw.x0, gw.y0), (aw.x0, aw.y0));
            assert!(got.as_bytes() == all.as_bytes(), "{region:?}: other pixels");
            if held.len() == 1 {
                // The headers, the SOT segments and one tile: about a quarter of the object.
                assert!(
                    memory.bytes_read() - read_before < bytes.len() as u64 * 3 / 10,
                    "a tile's decode read {} of {} bytes",
                    memory.bytes_read() - read_before,
                    bytes.len()
                );
            }
        }
        assert!(started < 80 << 10, "headers: {started} bytes");
        assert_eq!(copy.held(), Some((parts.len(), parts.len())));
    }

    #[test]
    fn a_walk_that_needs_more_round_trips_than_allowed_gives_up() {
        let (memory, file, _, _) = tiled();
        let head = file.head(64 << 10).unwrap();
        let cs = head.windows(4).position(|w| w == J2K_SIGNATURE).unwrap();
        let MainHeader::EndsAt(first) = first_tile_part(&head, cs) else {
            panic!("no main header")
        };
        let g = grid(&head, cs).unwrap();
        // 12 tile-parts of about 48 KiB: the head holds the first, then one read per SOT.
        let reads = memory.reads();
        let walked = walk(&file, &head, first as u64, g, 64).unwrap().unwrap();
        assert_eq!(walked.1.len(), 12);
        let needed = memory.reads() - reads;
        assert!((9..=12).contains(&needed), "{needed} reads");
        assert!(walk(&file, &head, first as u64, g, needed)
            .unwrap()
            .is_some());
        assert!(walk(&file, &head, first as u64, g, needed - 1)
            .unwrap()
            .is_none());
    }

    #[test]
    fn a_codestream_that_cannot_be_walked_is_copied_whole() {
        let (memory, _, _, mut bytes) = tiled();
        // Break the second tile-part's SOT marker.
        let file = Storage::from(memory.clone()).resolve("t.jp2").unwrap();
        let copy = Jp2Copy::start(&file, DecodeLimits::UNLIMITED).unwrap();
        let second = copy.parts.as_ref().unwrap().1[1].bytes.start as usize;
        bytes[second + 1] = 0x91;
        memory.put("t.jp2", bytes.clone());
        let file = Storage::from(memory.clone()).resolve("t.jp2").unwrap();
        let whole = Jp2Copy::start(&file, DecodeLimits::UNLIMITED).unwrap();
        assert_eq!(whole.held(), None);
        assert_eq!(std::fs::read(whole.path()).unwrap(), bytes);
    }

    /// The tiled test file with its last tile-part's length (Psot) set to 0, "to the end of
    /// the codestream", as some encoders write it.
    fn open_ended() -> (Arc<Memory>, Object, tempfile::NamedTempFile, Vec<u8>) {
        let (_, file, _, mut bytes) = tiled();
        let copy = Jp2Copy::start(&file, DecodeLimits::UNLIMITED).unwrap();
        let last = copy.parts.as_ref().unwrap().1.last().unwrap().clone();
        let end = last.bytes.end as usize;
        assert_eq!(bytes[end..], [0xFF, 0xD9], "the last part, then EOC");
        let at = last.bytes.start as usize;
        bytes[at + 6..at + 10].copy_from_slice(&[0; 4]);
        stored(bytes)
    }

    #[test]
    fn a_copy_with_a_tile_part_that_runs_to_the_end_decodes_as_the_whole_file() {
        let (memory, file, local, bytes) = open_ended();
        let header = super::super::jp2::read_header(&file).unwrap();
        let copy = Jp2Copy::start(&file, DecodeLimits::UNLIMITED).unwrap();
        let (_, parts) = copy.parts.as_ref().unwrap();
        assert_eq!(
            parts.len(),
            12,
            "the open-ended part is walked, not a whole copy"
        );
        assert_eq!(
            copy.held(),
            Some((1, 12)),
            "the open-ended part is read at once"
        );
        assert!(
            memory.bytes_read() < bytes.len() as u64 / 2,
            "start read {} of {} bytes",
            memory.bytes_read(),
            bytes.len()
        );
        // OpenJPEG refuses a region that misses the open-ended part's tile, in the file too
        // (tile 0 alone, and tiles 1 and 2, here): the copy must answer as the file does.
        let r = |x, y, w, h| Some(Rect { x, y, w, h });
        let mut decoded = 0;
        for region in [
            r(0, 0, 128, 128),
            r(384, 256, 128, 128),
            r(300, 200, 100, 100),
            r(130, 10, 100, 100),
            None,
        ] {
            copy.fill(&file, region, DecodeLimits::UNLIMITED).unwrap();
            let got = jp2::decode(copy.path(), &header, region, 0);
            let want = jp2::decode(local.path(), &header, region, 0);
            match (got, want) {
                (Ok((got, _)), Ok((want, _))) => {
                    assert!(
                        got.as_bytes() == want.as_bytes(),
                        "{region:?}: other pixels"
                    );
                    decoded += 1;
                }
                (Err(_), Err(_)) => {}
                (got, want) => panic!(
                    "{region:?}: the copy gives {:?}, the file {:?}",
                    got.map(|_| ()),
                    want.map(|_| ())
                ),
            }
        }
        assert_eq!(decoded, 3, "regions decoded");
    }

    #[test]
    fn copies_refuse_to_hold_more_than_the_decode_limit_in_memory() {
        let (memory, file, _, bytes) = tiled();
        let limits = |max_bytes| DecodeLimits {
            max_pixels: u64::MAX,
            max_bytes,
        };
        // A region's parts must fit: one tile (about 48 KiB) does, all twelve do not.
        let copy = Jp2Copy::start(&file, limits(100 << 10)).unwrap();
        let tile = Some(Rect {
            x: 0,
            y: 0,
            w: 10,
            h: 10,
        });
        copy.fill(&file, tile, limits(100 << 10)).unwrap();
        let before = memory.bytes_read();
        let refused = copy.fill(&file, None, limits(100 << 10));
        assert!(
            matches!(refused, Err(SourceError::TooLarge { .. })),
            "{refused:?}"
        );
        assert_eq!(memory.bytes_read(), before, "nothing read once refused");
        // A whole copy must fit the object.
        let object = bytes.len() as u64;
        assert!(Jp2Copy::whole(&file, limits(object - 1)).is_err());
        let whole = Jp2Copy::whole(&file, limits(object)).unwrap();
        assert_eq!(std::fs::read(whole.path()).unwrap(), bytes);
        // An open-ended part read at the start counts too.
        let (_, file, _, _) = open_ended();
        assert!(Jp2Copy::start(&file, limits(10 << 10)).is_err());
    }

    /// 512 x 384 pixels of noise in 128-px tiles (4 x 3, that do not compress).
    fn noise_image() -> image::DynamicImage {
        let noise = |x: u32, y: u32, c: u32| {
            let h = (x.wrapping_mul(73_856_093)
                ^ y.wrapping_mul(19_349_663)
                ^ c.wrapping_mul(83_492_791))
            .wrapping_mul(2_654_435_761);
            (h >> 24) as u8
        };
        image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(512, 384, |x, y| {
            image::Rgb([noise(x, y, 0), noise(x, y, 1), noise(x, y, 2)])
        }))
    }

    /// A TLM marker segment: Ztlm, Stlm of `st` and `sp`, the entries' bytes.
    fn tlm_segment(z: u8, st: u8, sp: u8, entries: &[u8]) -> Vec<u8> {
        let mut seg = vec![0xFF, 0x55];
        seg.extend_from_slice(&(4 + entries.len() as u16).to_be_bytes());
        seg.extend_from_slice(&[z, (sp << 6) | (st << 4)]);
        seg.extend_from_slice(entries);
        seg
    }

    #[test]
    fn tlm_segments_are_read_in_their_order_or_refused() {
        // SOC, then the segments, then where the first SOT would be.
        let header = |segments: &[Vec<u8>]| {
            let mut b = vec![0xFF, 0x4F];
            for s in segments {
                b.extend_from_slice(s);
            }
            let first = b.len();
            b.extend_from_slice(&[0xFF, 0x90]);
            (b, first)
        };
        let read = |segments: &[Vec<u8>]| {
            let (b, first) = header(segments);
            tlm_lengths(&b, 0, first)
        };
        // Implicit tiles, 16-bit lengths.
        assert_eq!(
            read(&[tlm_segment(0, 0, 0, &[0, 20, 1, 0])]),
            Some(vec![(None, 20), (None, 256)])
        );
        // 8-bit tiles and 32-bit lengths; 16-bit tiles; put in Ztlm order.
        let a = tlm_segment(1, 2, 1, &[0, 7, 0, 0, 0, 30]);
        let b = tlm_segment(0, 1, 1, &[3, 0, 1, 0, 0]);
        assert_eq!(read(&[a, b]), Some(vec![(Some(3), 65_536), (Some(7), 30)]));
        // A segment of another marker on the way is skipped.
        let com = vec![0xFF, 0x64, 0, 5, 0, 1, b'x'];
        assert_eq!(
            read(&[com.clone(), tlm_segment(0, 1, 0, &[2, 0, 40])]),
            Some(vec![(Some(2), 40)])
        );
        // None, a repeated Ztlm, ST of 3, entries that do not divide, reserved bits.
        assert_eq!(read(&[com]), None);
        let twice = [
            tlm_segment(0, 1, 0, &[0, 0, 20]),
            tlm_segment(0, 1, 0, &[1, 0, 20]),
        ];
        assert_eq!(read(&twice), None);
        assert_eq!(read(&[tlm_segment(0, 3, 0, &[0, 0, 0, 20])]), None);
        assert_eq!(read(&[tlm_segment(0, 1, 0, &[0, 0, 20, 1])]), None);
        let mut reserved = tlm_segment(0, 1, 0, &[0, 0, 20]);
        reserved[5] |= 0x01;
        assert_eq!(read(&[reserved]), None);
        // A segment cut short by the end of the header.
        let (b, first) = header(&[tlm_segment(0, 1, 0, &[0, 0, 20])]);
        assert_eq!(tlm_lengths(&b[..first - 2], 0, first), None);
    }

    #[test]
    fn a_tlm_gives_the_tile_parts_in_one_request_and_a_wrong_one_is_walked_instead() {
        let img = noise_image();
        let (memory, file, local, bytes) =
            stored(crate::encode::jp2::encode_tiled_with_tlm(&img, Some(128)).unwrap());
        let head = file.head(64 << 10).unwrap();
        let cs = head.windows(4).position(|w| w == J2K_SIGNATURE).unwrap();
        let MainHeader::EndsAt(first) = first_tile_part(&head, cs) else {
            panic!("no main header")
        };
        let listed = tlm_lengths(&head, cs, first).expect("the encoder wrote TLM");
        assert_eq!(listed.len(), 12);
        let g = grid(&head, cs).unwrap();
        let walked = walk(&file, &head, first as u64, g, 64).unwrap().unwrap();
        let reads = memory.reads();
        let copy = Jp2Copy::start(&file, DecodeLimits::UNLIMITED).unwrap();
        // The header, then the SOT segments and the end at once.
        assert_eq!(memory.reads() - reads, 2, "round trips to start the copy");
        assert_eq!(
            copy.parts.as_ref().unwrap().1,
            walked.1,
            "the walk's tile-parts"
        );
        let header = super::super::jp2::read_header(&file).unwrap();
        for region in [
            Some(Rect {
                x: 130,
                y: 10,
                w: 100,
                h: 300,
            }),
            None,
        ] {
            copy.fill(&file, region, DecodeLimits::UNLIMITED).unwrap();
            let (got, _) = jp2::decode(copy.path(), &header, region, 0).unwrap();
            let (all, _) = jp2::decode(local.path(), &header, region, 0).unwrap();
            assert!(got.as_bytes() == all.as_bytes(), "{region:?}: other pixels");
        }

        // A TLM whose second and third lengths are swapped (the first SOT agrees; the walk
        // finds each part where its SOT says): the copy walks instead, and decodes as the file
        // does.
        let at = head[cs..first]
            .windows(2)
            .position(|w| w == [0xFF, 0x55])
            .unwrap()
            + cs;
        let stlm = head[at + 5];
        let (st, width) = (
            usize::from((stlm >> 4) & 3),
            if stlm & 0x40 != 0 { 4 } else { 2 },
        );
        let entry = |k: usize| at + 6 + k * (st + width) + st;
        assert_ne!(listed[1].1, listed[2].1, "the lengths differ");
        let mut wrong = bytes.clone();
        let (e0, e1) = (entry(1), entry(2));
        let (l0, l1) = (
            wrong[e0..e0 + width].to_vec(),
            wrong[e1..e1 + width].to_vec(),
        );
        wrong[e0..e0 + width].copy_from_slice(&l1);
        wrong[e1..e1 + width].copy_from_slice(&l0);
        let (_, file, local, _) = stored(wrong);
        let head = file.head(64 << 10).unwrap();
        assert!(tlm_lengths(&head, cs, first).is_some());
        assert!(from_tlm(&file, &head, cs, first, g, 64).unwrap().is_none());
        let copy = Jp2Copy::start(&file, DecodeLimits::UNLIMITED).unwrap();
        assert_eq!(
            copy.parts.as_ref().unwrap().1,
            walked.1,
            "the walk's tile-parts"
        );
        let region = Some(Rect {
            x: 0,
            y: 0,
            w: 300,
            h: 200,
        });
        copy.fill(&file, region, DecodeLimits::UNLIMITED).unwrap();
        let (got, _) = jp2::decode(copy.path(), &header, region, 0).unwrap();
        let (all, _) = jp2::decode(local.path(), &header, region, 0).unwrap();
        assert!(got.as_bytes() == all.as_bytes(), "other pixels");
    }

    /// Polls `f` until it holds, for at most 30 s.
    fn within(what: &str, f: impl Fn() -> bool) {
        let end = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while !f() {
            assert!(std::time::Instant::now() < end, "{what}: not within 30 s");
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
    }

    /// Fills `copy` for `region` in a thread of its own.
    fn fill_in_thread(
        copy: &Arc<Jp2Copy>,
        file: &Object,
        region: Option<Rect>,
    ) -> std::thread::JoinHandle<Result<(), SourceError>> {
        let (copy, file) = (copy.clone(), file.clone());
        std::thread::spawn(move || copy.fill(&file, region, DecodeLimits::UNLIMITED))
    }

    #[test]
    fn fills_at_once_read_each_tile_part_once() {
        let (memory, file, local, _) = tiled();
        let header = super::super::jp2::read_header(&file).unwrap();
        let copy = Arc::new(Jp2Copy::start(&file, DecodeLimits::UNLIMITED).unwrap());
        let (grid, parts) = copy.parts.clone().unwrap();
        // Four tiles; the second fill needs two of them and two more.
        let first = Some(Rect {
            x: 0,
            y: 0,
            w: 200,
            h: 200,
        });
        let second = Some(Rect {
            x: 130,
            y: 0,
            w: 250,
            h: 100,
        });
        let (reads, bytes) = (memory.reads(), memory.bytes_read());
        memory.pause_reads(true);
        let a = fill_in_thread(&copy, &file, first);
        within("the first fill reads", || memory.reads_waiting() == 1);
        let b = fill_in_thread(&copy, &file, second);
        // The second reads what the first is not reading, then waits for the rest.
        within("the second fill reads its own parts", || {
            memory.reads_waiting() == 2
        });
        memory.pause_reads(false);
        a.join().unwrap().unwrap();
        b.join().unwrap().unwrap();
        let tiles: std::collections::BTreeSet<u32> = [first, second]
            .iter()
            .flat_map(|r| grid.tiles_for(*r))
            .collect();
        let once: u64 = parts
            .iter()
            .filter(|p| tiles.contains(&p.tile))
            .map(|p| p.bytes.end - p.bytes.start)
            .sum();
        assert_eq!(memory.reads() - reads, 2, "one read per fill");
        assert_eq!(
            memory.bytes_read() - bytes,
            once,
            "each tile-part read once"
        );
        for region in [first, second] {
            let (got, _) = jp2::decode(copy.path(), &header, region, 0).unwrap();
            let (all, _) = jp2::decode(local.path(), &header, region, 0).unwrap();
            assert!(got.as_bytes() == all.as_bytes(), "{region:?}: other pixels");
        }
    }

    #[test]
    fn a_failed_read_is_read_again_by_the_fill_that_waited_for_it() {
        let (memory, file, local, _) = tiled();
        let header = super::super::jp2::read_header(&file).unwrap();
        let copy = Arc::new(Jp2Copy::start(&file, DecodeLimits::UNLIMITED).unwrap());
        let region = Some(Rect {
            x: 0,
            y: 0,
            w: 200,
            h: 200,
        });
        let reads = memory.reads();
        memory.pause_reads(true);
        memory.set_failing(true);
        let a = fill_in_thread(&copy, &file, region);
        within("the first fill reads", || memory.reads_waiting() == 1);
        let b = fill_in_thread(&copy, &file, region);
        within("the second fill waits for it", || {
            copy.waiting.load(Ordering::Relaxed) == 1
        });
        // The first read fails; the parts are absent again, and the second fill reads them
        // (once the store answers).
        memory.pause_reads(false);
        assert!(a.join().unwrap().is_err(), "the store failed");
        within("the second fill ends", || b.is_finished());
        // The store was still failing when the second read; nothing is left as being read.
        assert!(b.join().unwrap().is_err());
        assert_eq!(memory.reads() - reads, 2, "the second fill read too");
        assert_eq!(copy.held().map(|h| h.0), Some(0));
        memory.set_failing(false);
        copy.fill(&file, region, DecodeLimits::UNLIMITED).unwrap();
        let (got, _) = jp2::decode(copy.path(), &header, region, 0).unwrap();
        let (all, _) = jp2::decode(local.path(), &header, region, 0).unwrap();
        assert!(got.as_bytes() == all.as_bytes(), "other pixels");
    }
}
