//! Where pixels come from: mapping identifiers to files safely, and decoding them.

mod color;
pub mod decode;
pub mod jp2;
pub mod jpeg;
pub mod jpeg_dc;
pub mod pyramid;
pub mod resolve;
pub mod tiff;

use std::path::PathBuf;
use std::time::SystemTime;

pub use decode::{decode, read_dimensions};

/// Runs decoder code, turning a panic inside a third-party decoder into an error naming
/// `what`, so that a hostile file can never take down a worker, a batch run or the
/// derivative builder. (Found by fuzzing: png 0.18.1 panics on a PLTE chunk whose length is
/// not a multiple of 3.)
pub fn guarded<T, E: From<SourceError>>(
    what: &str,
    f: impl FnOnce() -> Result<T, E>,
) -> Result<T, E> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        tracing::error!("{what} panicked: {message}");
        Err(SourceError::Decode(format!("{what} panicked: {message}")).into())
    })
}

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

/// What a source is, whatever name reaches it: the device and inode of a file, so that hard
/// links, symlinks and every spelling of an identifier share one identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Identity {
    /// The device.
    pub dev: u64,
    /// The inode.
    pub ino: u64,
}

/// A resolved source file and the version facts that key every cache entry made from it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SourceFile {
    /// The canonical path, inside the images folder.
    pub path: PathBuf,
    /// The file's size in bytes.
    pub len: u64,
    /// The file's modification time.
    pub modified: SystemTime,
    /// The file's identity (device and inode).
    pub identity: Identity,
    /// When the file's inode last changed (its ctime): a new hard link changes it, so the
    /// access policy knows when its index of identities may be out of date for this file.
    pub changed: SystemTime,
}

impl SourceFile {
    /// The file at `path` with its size and mtime as they are now (for batch commands and
    /// derivatives; requests go through [`resolve`], which also confines them to the root).
    pub fn at(path: &std::path::Path) -> std::io::Result<SourceFile> {
        let meta = std::fs::metadata(path)?;
        SourceFile::from_metadata(path.to_path_buf(), &meta)
    }

    /// The file at `path` described by its metadata.
    pub fn from_metadata(path: PathBuf, meta: &std::fs::Metadata) -> std::io::Result<SourceFile> {
        use std::os::unix::fs::MetadataExt;
        let changed = u64::try_from(meta.ctime())
            .ok()
            .and_then(|s| {
                SystemTime::UNIX_EPOCH.checked_add(std::time::Duration::new(
                    s,
                    u32::try_from(meta.ctime_nsec()).unwrap_or(0),
                ))
            })
            .unwrap_or(SystemTime::UNIX_EPOCH);
        Ok(SourceFile {
            path,
            len: meta.len(),
            modified: meta.modified()?,
            identity: Identity {
                dev: meta.dev(),
                ino: meta.ino(),
            },
            changed,
        })
    }

    /// Whether the file still has the size and mtime it had when resolved: if not, whatever
    /// was read from it may mix two versions.
    pub fn unchanged(&self) -> bool {
        SourceFile::at(&self.path).is_ok_and(|now| {
            (now.len, now.modified, now.identity) == (self.len, self.modified, self.identity)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_in_decoder_code_becomes_an_error() {
        let out: Result<(), SourceError> = guarded("the test decoder", || panic!("bad palette"));
        match out {
            Err(SourceError::Decode(m)) => {
                assert!(m.contains("the test decoder panicked: bad palette"), "{m}")
            }
            other => panic!("{other:?}"),
        }
        let fine: Result<u8, SourceError> = guarded("x", || Ok(7));
        assert_eq!(fine.unwrap(), 7);
    }
}
