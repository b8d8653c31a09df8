//! The caches, each bounded by bytes (moka): image sizes, decoded images and encoded
//! responses in memory, and local copies of JPEG 2000 sources from a store on disk.
//! Concurrent misses for the same key are computed once. Containers only: what fills them
//! (file reads, decodes) is the caller's, in [`crate::render`] and [`crate::service`].

use crate::iiif::Dimensions;
use crate::storage::Object;
use bytes::Bytes;
use image::DynamicImage;
use moka::sync::Cache;
use std::sync::Arc;

/// The three caches of a running server.
#[derive(Clone)]
pub struct Caches {
    /// Identifier -> resolved file, remembered for [`RESOLVE_TTL`] so that warm requests make
    /// no file-system calls; a replaced file is seen within that time.
    pub resolved: Cache<String, Object>,
    /// Image dimensions by source version.
    pub info: Cache<Object, Dimensions>,
    /// Whole decoded images by source version and shrink factor (1 = full size).
    pub decoded: Cache<(Object, u32), Arc<DynamicImage>>,
    /// The resolution levels of tiled TIFFs (`None` for every other source).
    pub levels: Cache<Object, Option<Arc<Vec<crate::source::pyramid::Level>>>>,
    /// JPEG 2000 codestream headers by source version (`None` for other sources).
    pub jp2: Cache<Object, Option<crate::source::jp2::Header>>,
    /// Local copies of JPEG 2000 sources from a store (the decoder reads files only), by
    /// source version: sparse files that hold the tile-parts decodes have needed, bounded by
    /// the objects' lengths (what each may come to hold); an evicted copy is deleted once no
    /// decode reads it.
    pub jp2_copies: Cache<Object, Arc<crate::source::jp2::Jp2Copy>>,
    /// Stored-JPEG-tile indexes of pyramid levels, by source version and IFD.
    pub jpeg_tiles: Cache<(Object, usize), Option<Arc<crate::source::pyramid::JpegTiles>>>,
    /// Encoded responses by source version and canonical request.
    pub encoded: Cache<(Object, String), Bytes>,
    /// Hits and misses of the caches, and what the work that fills them counted.
    pub stats: Arc<crate::stats::Stats>,
}

/// How long an identifier's resolution to a file (and its size and mtime) is trusted.
pub const RESOLVE_TTL: std::time::Duration = std::time::Duration::from_secs(2);

/// The default disk budget of local copies of JPEG 2000 sources from a store, in MiB.
pub const JP2_COPIES_MB: u64 = 2048;

fn jp2_copies(mb: u64) -> Cache<Object, Arc<crate::source::jp2::Jp2Copy>> {
    Cache::builder()
        .max_capacity(mb * 1024)
        // The disk a copy may fill, and the memory its index of tile-parts takes.
        .weigher(|file: &Object, copy: &Arc<crate::source::jp2::Jp2Copy>| {
            let disk = usize::try_from(file.len).unwrap_or(usize::MAX);
            kib(disk.saturating_add(copy.index_bytes()))
        })
        .build()
}

/// Weight in KiB, so that budgets above 4 GiB still fit moka's `u32` weights.
fn kib(bytes: usize) -> u32 {
    u32::try_from(bytes.div_ceil(1024))
        .unwrap_or(u32::MAX)
        .max(1)
}

impl Caches {
    /// Creates caches with the given budgets in MiB.
    pub fn new(decoded_mb: u64, encoded_mb: u64) -> Caches {
        Caches {
            resolved: Cache::builder()
                .max_capacity(100_000)
                .time_to_live(RESOLVE_TTL)
                .build(),
            info: Cache::new(100_000),
            levels: Cache::new(100_000),
            jpeg_tiles: Cache::new(10_000),
            jp2: Cache::new(100_000),
            jp2_copies: jp2_copies(JP2_COPIES_MB),
            decoded: Cache::builder()
                .max_capacity(decoded_mb * 1024)
                .weigher(|_, img: &Arc<DynamicImage>| kib(img.as_bytes().len()))
                .build(),
            encoded: Cache::builder()
                .max_capacity(encoded_mb * 1024)
                .weigher(|(_, key): &(Object, String), v: &Bytes| kib(v.len() + key.len()))
                .build(),
            stats: Default::default(),
        }
    }

    /// The same caches, with `mb` MiB of disk for local copies of JPEG 2000 sources from a
    /// store (0: none kept, each decode makes its own).
    pub fn with_jp2_copies_mb(mut self, mb: u64) -> Caches {
        self.jp2_copies = jp2_copies(mb);
        self
    }

    /// Drops every decode of `file` (whatever its shrink factor).
    pub fn forget_decodes(&self, file: &Object) {
        for shrink in [1, 2, 4, 8] {
            self.decoded.invalidate(&(file.clone(), shrink));
        }
    }
}
