//! Where pixels come from: mapping identifiers to files safely, and decoding them.

mod color;
pub mod decode;
pub mod jp2;
pub mod jpeg;
pub mod jpeg_dc;
pub mod pyramid;
pub mod resolve;
pub mod tiff;
pub mod tiled;

use std::path::PathBuf;
use std::time::SystemTime;

pub use decode::{decode, read_dimensions};

/// What one decode of a flat source may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Sources whose header claims more pixels than this are refused before any allocation.
    pub max_pixels: u64,
    /// The most bytes one decode may hold: the compressed file, and the decoded picture (or,
    /// for progressive JPEG, its coefficients). Larger decodes are refused before allocation.
    pub max_bytes: u64,
}

impl DecodeLimits {
    /// No limits (benchmarks and trusted batch work).
    pub const UNLIMITED: DecodeLimits = DecodeLimits {
        max_pixels: u64::MAX,
        max_bytes: u64::MAX,
    };

    /// Refuses a source whose header claims more than `max_pixels`.
    pub fn check_pixels(&self, dims: crate::iiif::Dimensions) -> Result<(), SourceError> {
        let pixels = u64::from(dims.width) * u64::from(dims.height);
        if pixels > self.max_pixels {
            return Err(SourceError::TooManyPixels {
                width: dims.width,
                height: dims.height,
                ceiling: self.max_pixels,
            });
        }
        Ok(())
    }

    /// Refuses a decode that would hold more than `max_bytes`.
    pub fn check_bytes(&self, needed: u64) -> Result<(), SourceError> {
        if needed > self.max_bytes {
            return Err(SourceError::TooLarge {
                needed,
                cap: self.max_bytes,
            });
        }
        Ok(())
    }
}
pub use resolve::resolve;

/// A resolved source file and the version facts that key every cache entry made from it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SourceFile {
    /// The canonical path, inside the images folder.
    pub path: PathBuf,
    /// The file's size in bytes.
    pub len: u64,
    /// The file's modification time.
    pub modified: SystemTime,
}

impl SourceFile {
    /// The file at `path` with its size and mtime as they are now (for batch commands and
    /// derivatives; requests go through [`resolve`], which also confines them to the root).
    pub fn at(path: &std::path::Path) -> std::io::Result<SourceFile> {
        let meta = std::fs::metadata(path)?;
        Ok(SourceFile {
            path: path.to_path_buf(),
            len: meta.len(),
            modified: meta.modified()?,
        })
    }

    /// Whether the file still has the size and mtime it had when resolved: if not, whatever
    /// was read from it may mix two versions.
    pub fn unchanged(&self) -> bool {
        SourceFile::at(&self.path).is_ok_and(|now| now == *self)
    }

    /// A short tag that changes whenever the file does (used in ETags and cache keys).
    pub fn version(&self) -> String {
        let nanos = self
            .modified
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        format!("{:x}-{:x}", self.len, nanos)
    }
}

/// Why a source could not be used.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SourceError {
    /// No image has this identifier (404).
    #[error("no image with this identifier")]
    NotFound,
    /// The file's header claims more pixels than the configured ceiling (500-class refusal).
    #[error("image is {width}x{height}, above the ceiling of {ceiling} pixels")]
    TooManyPixels {
        /// Claimed width.
        width: u32,
        /// Claimed height.
        height: u32,
        /// The configured ceiling.
        ceiling: u64,
    },
    /// Decoding would hold more bytes than the per-decode cap (500-class refusal).
    #[error("decoding needs {} MiB, above the per-decode cap of {} MiB", .needed >> 20, .cap >> 20)]
    TooLarge {
        /// Bytes the decode would hold.
        needed: u64,
        /// The configured cap.
        cap: u64,
    },
    /// The file could not be read or decoded.
    #[error("cannot decode image: {0}")]
    Decode(String),
}
