//! Decoding sources, read through [`crate::storage`], into pixels.

mod color;
pub mod decode;
pub mod jp2;
pub mod jp2_copy;
pub mod jpeg;
pub mod jpeg_dc;
pub mod pyramid;
pub mod tiff;

use crate::storage::StorageError;
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
        Err(SourceError::Panicked(format!("{what} ({message})")).into())
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
    /// The bytes are not a valid image (one of Tessera's own checks failed).
    #[error("invalid image: {0}")]
    Invalid(String),
    /// A decoder refused the bytes.
    #[error("cannot decode {format}")]
    Codec {
        /// The format the decoder reads.
        format: &'static str,
        /// The decoder's error.
        #[source]
        source: Cause,
    },
    /// Decoder code panicked (see [`guarded`]).
    #[error("{0} panicked")]
    Panicked(String),
    /// The source's bytes could not be read.
    #[error("cannot read image")]
    Storage(#[source] StorageError),
}

/// The error of a decoder library, kept as the cause of a [`SourceError`] (shared, so that
/// cached failures can be cloned).
pub type Cause = std::sync::Arc<dyn std::error::Error + Send + Sync>;

impl SourceError {
    /// A decoder library's error while reading `format`.
    pub fn codec(format: &'static str, e: impl std::error::Error + Send + Sync + 'static) -> Self {
        SourceError::Codec {
            format,
            source: std::sync::Arc::new(e),
        }
    }
}

impl SourceError {
    /// `self`, unless the store failed under the reader the error came through: then that
    /// failure (a decoder reports it as a broken file).
    pub fn or_storage(self, failure: &crate::storage::Failure) -> SourceError {
        failure.get().map(SourceError::from).unwrap_or(self)
    }
}

impl From<StorageError> for SourceError {
    fn from(e: StorageError) -> SourceError {
        match e {
            StorageError::NotFound => SourceError::NotFound,
            e => SourceError::Storage(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_in_decoder_code_becomes_an_error() {
        let out: Result<(), SourceError> = guarded("the test decoder", || panic!("bad palette"));
        match out {
            Err(SourceError::Panicked(m)) => {
                assert_eq!(m, "the test decoder (bad palette)")
            }
            other => panic!("{other:?}"),
        }
        let fine: Result<u8, SourceError> = guarded("x", || Ok(7));
        assert_eq!(fine.unwrap(), 7);
    }
}
