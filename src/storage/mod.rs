//! Where source bytes live, behind one interface designed for backends where every read is a
//! network round trip. An identifier resolves to an [`Object`]: its key, and the version facts
//! (size, modification time, identity) that key every cache entry and ETag made from it. Bytes
//! are then read by ranges of that object, several ranges per call, so a backend can batch
//! them into one request. Nothing above this module opens a source file.
//!
//! [`Files`] is the filesystem backend (confined to the images folder); [`S3`] reads a prefix
//! of an S3-compatible bucket; [`Memory`] keeps objects in memory, for tests, and shows that
//! nothing else assumes files.

mod files;
mod memory;
pub mod names;
mod reader;
mod s3;

pub use files::Files;
pub use memory::Memory;
pub use names::{is_safe_identifier, is_source_file, EXTENSIONS};
pub use reader::{Failure, Reader};
pub use s3::{BucketLocation, S3Overrides, S3Settings, S3};

use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

/// What a source is, whatever name reaches it: for a file its device and inode, so that hard
/// links, symlinks and every spelling of an identifier share one identity; for other backends
/// a number the backend gives each object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Identity {
    /// The device (for files), or a backend's tag.
    pub dev: u64,
    /// The inode (for files), or the object's number.
    pub ino: u64,
}

/// Why bytes could not be had.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StorageError {
    /// No object has this key.
    #[error("not found")]
    NotFound,
    /// The backend failed. (No message names the key: an alias must not give away the
    /// name of what it stands for.)
    #[error("cannot read the source")]
    Io {
        /// The key (or path) read.
        key: String,
        /// The cause.
        #[source]
        source: Arc<std::io::Error>,
    },
    /// A range lies beyond the object's end.
    #[error("range {start}..{end} is beyond the end of the source ({len} bytes)")]
    OutOfRange {
        /// The key.
        key: String,
        /// Range start.
        start: u64,
        /// Range end.
        end: u64,
        /// The object's size.
        len: u64,
    },
    /// The object is no longer the version that was resolved.
    #[error("the source changed since it was resolved")]
    Changed(String),
    /// A remote store did not answer as it should (see [`Remote`]). The message is for the
    /// log; it names no key.
    #[error("{kind}")]
    Remote {
        /// What kind of failure.
        kind: Remote,
        /// The cause, for the log.
        message: String,
    },
}

/// How a remote store failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Remote {
    /// It did not answer in time.
    #[error("the image store did not answer in time")]
    Timeout,
    /// It could not be reached.
    #[error("the image store cannot be reached")]
    Unavailable,
    /// It refused the request (403 or 401: credentials or permissions).
    #[error("the image store refused the request")]
    Refused,
    /// It answered with an error (5xx) or something unreadable.
    #[error("the image store answered with an error")]
    BadAnswer,
}

impl StorageError {
    /// An I/O error while reading `key`.
    pub fn io(key: impl std::fmt::Display, source: std::io::Error) -> StorageError {
        if source.kind() == std::io::ErrorKind::NotFound {
            return StorageError::NotFound;
        }
        StorageError::Io {
            key: key.to_string(),
            source: Arc::new(source),
        }
    }
}

/// A storage backend. Every method may be a network round trip: callers keep what they learn
/// (objects are cached by version above this layer) and batch their ranges.
pub trait Backend: Send + Sync + std::fmt::Debug {
    /// The object a decoded identifier names: the identifier itself when it has a source
    /// extension, else the first of `identifier.jpg`, `.jpeg`, `.png`, ... that exists.
    /// Unsafe identifiers ([`is_safe_identifier`]) are never found.
    fn resolve(&self, storage: &Storage, identifier: &str) -> Result<Object, StorageError>;

    /// The object now at `object`'s key (its current version).
    fn stat(&self, storage: &Storage, object: &Object) -> Result<Object, StorageError>;

    /// The bytes of each range of `object`, in order. [`Object::read_ranges`] checks the
    /// ranges against the object's size first; a backend still refuses a range it cannot
    /// read rather than panic.
    fn read_ranges(
        &self,
        object: &Object,
        ranges: &[Range<u64>],
    ) -> Result<Vec<Vec<u8>>, StorageError>;

    /// Bytes `range` of `object` for a stream reader ([`Reader`]), which decoders use for
    /// headers: by default one ranged read. A network backend may keep the blocks of each
    /// version, since a stream decoder reads the same header again for every request.
    fn read_stream(&self, object: &Object, range: Range<u64>) -> Result<Vec<u8>, StorageError> {
        Ok(self
            .read_ranges(object, &[range])?
            .pop()
            .unwrap_or_default())
    }

    /// Whether reads are pinned to the version that was resolved (a replaced object fails
    /// with [`StorageError::Changed`] rather than mixing versions), so that no check of the
    /// object after a read is needed.
    fn pinned(&self) -> bool {
        false
    }

    /// Whether one object may have several keys (files: hard links and symlinks), so that
    /// the access policy must index objects by identity; an object store's keys are its
    /// objects.
    fn aliases(&self) -> bool {
        true
    }

    /// How many bytes a stream reader fetches per round trip: a network backend wants large
    /// reads, a file small ones (the page cache is already there).
    fn read_ahead(&self) -> usize {
        256 << 10
    }

    /// A local file that holds `object`, for the few decoders that can only read files (see
    /// [`crate::source::jp2`]); `None` for backends without one.
    fn local_path(&self, _object: &Object) -> Option<PathBuf> {
        None
    }

    /// Whether the store can be read now (for readiness probes), or what is wrong.
    fn check(&self) -> Result<(), String> {
        Ok(())
    }

    /// The object at exactly `key` (no extension is tried), for objects Tessera itself keeps
    /// in a store (derivative pyramids and their leases).
    fn object(&self, storage: &Storage, key: &str) -> Result<Object, StorageError> {
        let found = self.resolve(storage, key)?;
        if found.key == key {
            Ok(found)
        } else {
            Err(StorageError::NotFound)
        }
    }

    /// Stores `bytes` at `key` only if no object is there (atomically: of racing writers,
    /// one wins); `Ok(false)` when one was there. A read-only backend refuses.
    fn put_new(&self, key: &str, bytes: Vec<u8>) -> Result<bool, StorageError> {
        let _ = bytes;
        Err(read_only(key))
    }

    /// Stores `bytes` at `key`, replacing any object there (batch outputs). A read-only
    /// backend refuses.
    fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), StorageError> {
        let _ = bytes;
        Err(read_only(key))
    }

    /// Deletes the object at `key` (none there is not an error). A read-only backend refuses.
    fn delete(&self, key: &str) -> Result<(), StorageError> {
        Err(read_only(key))
    }

    /// Requests made to a network store so far (`None` for a local one): for metrics.
    fn requests(&self) -> Option<u64> {
        None
    }

    /// Bytes of object data a network store has sent so far (`None` for a local one).
    fn bytes_read(&self) -> Option<u64> {
        None
    }

    /// How precisely the store keeps the time an object was stored: [`Object::modified`]
    /// below it only tells versions apart (an object store's Last-Modified is whole seconds).
    fn time_precision(&self) -> std::time::Duration {
        std::time::Duration::ZERO
    }

    /// The keys of every source image in the store (by [`is_source_file`]'s extensions), in
    /// no particular order: the work list of a batch command.
    fn list(&self) -> Result<Vec<String>, StorageError>;
}

/// The error of a write to a backend that does not take writes.
fn read_only(key: &str) -> StorageError {
    StorageError::io(
        key,
        std::io::Error::new(std::io::ErrorKind::Unsupported, "this store is read-only"),
    )
}

/// A shared handle on a backend. Two handles are equal when they share the backend.
#[derive(Debug, Clone)]
pub struct Storage(Arc<dyn Backend>);

impl PartialEq for Storage {
    fn eq(&self, other: &Storage) -> bool {
        std::ptr::addr_eq(Arc::as_ptr(&self.0), Arc::as_ptr(&other.0))
    }
}

impl Eq for Storage {}

impl std::hash::Hash for Storage {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        (Arc::as_ptr(&self.0) as *const () as usize).hash(state);
    }
}

impl<B: Backend + 'static> From<Arc<B>> for Storage {
    fn from(backend: Arc<B>) -> Storage {
        Storage(backend)
    }
}

impl Storage {
    /// A handle on `backend`.
    pub fn new(backend: impl Backend + 'static) -> Storage {
        Storage(Arc::new(backend))
    }

    /// The images at `location`: `s3://BUCKET/PREFIX` (see [`S3`]) or a folder, which
    /// must exist.
    pub fn open(location: &std::path::Path, s3: S3Settings) -> Result<Storage, String> {
        if let Some(bucket) = location.to_str().and_then(BucketLocation::parse) {
            return Ok(Storage::new(S3::new(bucket?, s3)?));
        }
        let root = location
            .canonicalize()
            .map_err(|e| format!("images folder {}: {e}", location.display()))?;
        if !root.is_dir() {
            return Err(format!("images folder {} is not a folder", root.display()));
        }
        Storage::files(&root).map_err(|e| format!("images folder {}: {e}", location.display()))
    }

    /// The files of one folder (canonicalized here).
    pub fn files(root: &std::path::Path) -> std::io::Result<Storage> {
        Ok(Storage::new(Files::new(root)?))
    }

    /// The filesystem, unconfined: for files a batch command or the derivative builder names
    /// by path.
    pub fn local() -> Storage {
        static LOCAL: std::sync::OnceLock<Storage> = std::sync::OnceLock::new();
        LOCAL
            .get_or_init(|| Storage::new(Files::unconfined()))
            .clone()
    }

    /// The object an identifier names (see [`Backend::resolve`]).
    pub fn resolve(&self, identifier: &str) -> Result<Object, StorageError> {
        if !is_safe_identifier(identifier) {
            return Err(StorageError::NotFound);
        }
        self.0.resolve(self, identifier)
    }

    /// Whether the store can be read now (see [`Backend::check`]).
    pub fn check(&self) -> Result<(), String> {
        self.0.check()
    }

    /// Whether one object may have several keys (see [`Backend::aliases`]).
    pub fn has_aliases(&self) -> bool {
        self.0.aliases()
    }

    /// The object at exactly `key` (see [`Backend::object`]).
    pub fn object(&self, key: &str) -> Result<Object, StorageError> {
        if !is_safe_identifier(key) {
            return Err(StorageError::NotFound);
        }
        self.0.object(self, key)
    }

    /// Stores `bytes` at `key` unless an object is there (see [`Backend::put_new`]).
    pub fn put_new(&self, key: &str, bytes: Vec<u8>) -> Result<bool, StorageError> {
        if !is_safe_identifier(key) {
            return Err(StorageError::NotFound);
        }
        self.0.put_new(key, bytes)
    }

    /// Stores `bytes` at `key`, replacing any object there (see [`Backend::put`]).
    pub fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), StorageError> {
        if !is_safe_identifier(key) {
            return Err(StorageError::NotFound);
        }
        self.0.put(key, bytes)
    }

    /// Deletes the object at `key` (see [`Backend::delete`]).
    pub fn delete(&self, key: &str) -> Result<(), StorageError> {
        if !is_safe_identifier(key) {
            return Err(StorageError::NotFound);
        }
        self.0.delete(key)
    }

    /// Requests made to a network store so far (see [`Backend::requests`]).
    pub fn requests(&self) -> Option<u64> {
        self.0.requests()
    }

    /// Bytes a network store has sent so far (see [`Backend::bytes_read`]).
    pub fn bytes_read(&self) -> Option<u64> {
        self.0.bytes_read()
    }

    /// The keys of every source image, sorted (see [`Backend::list`]).
    pub fn list(&self) -> Result<Vec<String>, StorageError> {
        let mut keys = self.0.list()?;
        keys.sort_unstable();
        Ok(keys)
    }
}

/// One version of one stored object, and the handle to read it by.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Object {
    /// The key inside the storage, `/`-separated (for files: the path inside the images
    /// folder). Record identifiers name it.
    pub key: String,
    /// Where it is, for messages and derivative names (for files: the canonical path).
    pub path: PathBuf,
    /// Its size in bytes.
    pub len: u64,
    /// When it was last modified.
    pub modified: SystemTime,
    /// Its identity.
    pub identity: Identity,
    /// When its identity last changed (a file's ctime: a new hard link changes it), so the
    /// access policy knows when its index of identities may be out of date for it.
    pub changed: SystemTime,
    /// The storage it is read from.
    pub storage: Storage,
}

impl Object {
    /// The local file at `path`, as it is now (for batch commands and derivatives; requests
    /// go through [`Storage::resolve`], which also confines them to the images folder).
    pub fn at(path: &std::path::Path) -> Result<Object, StorageError> {
        Files::at(
            &Storage::local(),
            path.to_path_buf(),
            path.display().to_string(),
        )
    }

    /// The bytes of each range, in order: one call, which a network backend makes one
    /// request.
    pub fn read_ranges(&self, ranges: &[Range<u64>]) -> Result<Vec<Vec<u8>>, StorageError> {
        for r in ranges {
            self.check_range(r)?;
        }
        self.storage.0.read_ranges(self, ranges)
    }

    /// The bytes of one range for a stream reader (see [`Backend::read_stream`]).
    pub fn read_stream(&self, range: Range<u64>) -> Result<Vec<u8>, StorageError> {
        self.check_range(&range)?;
        self.storage.0.read_stream(self, range)
    }

    fn check_range(&self, r: &Range<u64>) -> Result<(), StorageError> {
        if r.start > r.end || r.end > self.len {
            return Err(StorageError::OutOfRange {
                key: self.key.clone(),
                start: r.start,
                end: r.end,
                len: self.len,
            });
        }
        Ok(())
    }

    /// The bytes of one range.
    pub fn read_range(&self, range: Range<u64>) -> Result<Vec<u8>, StorageError> {
        Ok(self.read_ranges(&[range])?.pop().unwrap_or_default())
    }

    /// Up to the first `n` bytes (a header: read as a stream reader reads, so that a network
    /// backend's blocks serve the format sniffing and header reads of every request).
    pub fn head(&self, n: u64) -> Result<Vec<u8>, StorageError> {
        self.read_stream(0..n.min(self.len))
    }

    /// All of the bytes.
    pub fn read_all(&self) -> Result<Vec<u8>, StorageError> {
        self.read_range(0..self.len)
    }

    /// A buffered reader (`Read + BufRead + Seek`) for decoders that want a stream, reading
    /// ahead as much per round trip as the backend finds worth it ([`Backend::read_ahead`]).
    pub fn reader(&self) -> Reader {
        Reader::new(self.clone(), self.storage.0.read_ahead())
    }

    /// A local file that holds this object, if its backend has one.
    pub fn local_path(&self) -> Option<PathBuf> {
        self.storage.0.local_path(self)
    }

    /// Whether the object still has the size, modification time and identity it had when it
    /// was resolved: if not, whatever was read from it may mix two versions.
    pub fn unchanged(&self) -> bool {
        if self.storage.0.pinned() {
            // Its reads fail rather than mix versions: what was read is of this version.
            return true;
        }
        self.storage.0.stat(&self.storage, self).is_ok_and(|now| {
            (now.len, now.modified, now.identity) == (self.len, self.modified, self.identity)
        })
    }

    /// When this version was stored, to the precision the store keeps (for "is this output
    /// newer than its source"; [`Object::modified`] may carry more, to tell versions apart).
    pub fn stored(&self) -> SystemTime {
        let precision = self.storage.0.time_precision().as_nanos();
        if precision == 0 {
            return self.modified;
        }
        let since = self
            .modified
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        let floor = u64::try_from(since - since % precision).unwrap_or(u64::MAX);
        SystemTime::UNIX_EPOCH + std::time::Duration::from_nanos(floor)
    }

    /// A short tag that changes whenever the object does (used in ETags and cache keys).
    pub fn version(&self) -> String {
        let nanos = self
            .modified
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        format!("{:x}-{:x}", self.len, nanos)
    }
}
