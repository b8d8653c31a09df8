//! Where pixels come from: mapping identifiers to files safely, and decoding them.

mod color;
pub mod decode;
pub mod jp2;
pub mod jpeg;
pub mod pyramid;
pub mod resolve;
pub mod tiff;
pub mod tiled;

use std::path::PathBuf;
use std::time::SystemTime;

pub use decode::{decode, read_dimensions};
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
    /// The file could not be read or decoded.
    #[error("cannot decode image: {0}")]
    Decode(String),
}
