//! The S3 backend (any S3-compatible store: AWS, SeaweedFS, MinIO), through `object_store`.
//!
//! - **Keys.** An identifier names keys under the location's prefix by the same rules as
//!   files (the same extensions, tried in the same order; `%2F` for sub-"folders"). Keys are
//!   built with `object_store::path::Path::parse`, which refuses `.`, `..` and empty
//!   segments, and every key is checked to lie under the prefix: nothing outside it is read.
//! - **Versions.** An object's version is its ETag. [`Object::modified`] is the
//!   Last-Modified second plus a nanosecond part taken from the ETag's hash, so that every
//!   cache key and HTTP ETag made from the object follows a replacement even within one
//!   second. Reads are pinned to the resolved ETag with `If-Match`: a replaced object fails
//!   with [`StorageError::Changed`] instead of mixing two versions.
//! - **Faults.** Timeouts, refused connections, 5xx and 403 answers become
//!   [`StorageError::Remote`] (mapped to 504, 503 or 502 by the HTTP layer), never "not
//!   found", and nothing about them is cached. Retries are few and short (see [`S3Settings`]).
//! - **Threads.** The [`Backend`] interface is synchronous (it is called from blocking and
//!   rayon threads); requests run on a small runtime of the backend's own.

use super::{names, Backend, Identity, Object, Remote, Storage, StorageError};
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path;
use object_store::{ClientOptions, GetOptions, GetRange, ObjectStore, ObjectStoreExt};
use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// The tag of S3 objects' identities.
const DEV: u64 = u64::MAX - 1;

/// Where the images are in a bucket: `s3://BUCKET/PREFIX`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketLocation {
    /// The bucket.
    pub bucket: String,
    /// The prefix inside it, without leading or trailing `/` (may be empty).
    pub prefix: String,
}

impl BucketLocation {
    /// Parses `s3://BUCKET[/PREFIX]`; `None` when the text is not an `s3://` location,
    /// `Some(Err)` when it is one but malformed.
    pub fn parse(text: &str) -> Option<Result<BucketLocation, String>> {
        let rest = text.strip_prefix("s3://")?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let prefix = prefix.trim_end_matches('/');
        let bucket_ok = (3..=63).contains(&bucket.len())
            && bucket
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
        if !bucket_ok {
            return Some(Err(format!(
                "{text}: the bucket name must be 3 to 63 lower-case letters, digits, '-' or '.'"
            )));
        }
        if !prefix.is_empty()
            && Path::parse(prefix)
                .map(|p| p.as_ref() != prefix)
                .unwrap_or(true)
        {
            return Some(Err(format!(
                "{text}: the prefix must be '/'-separated names without '.', '..' or empty parts"
            )));
        }
        Some(Ok(BucketLocation {
            bucket: bucket.to_string(),
            prefix: prefix.to_string(),
        }))
    }
}

impl std::fmt::Display for BucketLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.prefix)
    }
}

/// How to reach the store. Credentials, region and endpoint come from the standard AWS
/// environment variables (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`,
/// `AWS_ENDPOINT_URL`, `AWS_ALLOW_HTTP`) unless set here.
#[derive(Clone, Default)]
pub struct S3Overrides {
    /// The endpoint URL (`AWS_ENDPOINT_URL`), for S3-compatible stores.
    pub endpoint: Option<String>,
    /// Whether plain `http://` is allowed (`AWS_ALLOW_HTTP`).
    pub allow_http: Option<bool>,
    /// The region (`AWS_REGION`).
    pub region: Option<String>,
    /// The access key id (`AWS_ACCESS_KEY_ID`).
    pub access_key_id: Option<String>,
    /// The secret access key (`AWS_SECRET_ACCESS_KEY`).
    pub secret_access_key: Option<String>,
}

impl std::fmt::Debug for S3Overrides {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        // Never the secret.
        f.debug_struct("S3Overrides")
            .field("endpoint", &self.endpoint)
            .field("allow_http", &self.allow_http)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// How to reach the store, and how long to wait for it.
#[derive(Debug, Clone)]
pub struct S3Settings {
    /// Values that override the environment's.
    pub overrides: S3Overrides,
    /// Connecting must take less than this.
    pub connect_timeout: Duration,
    /// One request (headers and body) must take less than this.
    pub timeout: Duration,
    /// Retries of a failed request (idempotent requests only), each after a short pause.
    pub retries: usize,
    /// Memory for the blocks of headers that stream readers read, in MiB.
    pub header_cache_mb: u64,
}

impl Default for S3Settings {
    fn default() -> Self {
        S3Settings {
            overrides: S3Overrides::default(),
            connect_timeout: Duration::from_secs(2),
            timeout: Duration::from_secs(10),
            retries: 1,
            header_cache_mb: 64,
        }
    }
}

/// The objects under one prefix of one bucket.
pub struct S3 {
    store: AmazonS3,
    location: BucketLocation,
    settings: S3Settings,
    /// The runtime the requests run on; taken on drop.
    runtime: Option<tokio::runtime::Runtime>,
    /// The ETag each resolved key had, by key and version ([`Object::modified`]).
    etags: moka::sync::Cache<(String, SystemTime), String>,
    /// Blocks that stream readers (headers, IFDs) read, by key, version and block number.
    blocks: moka::sync::Cache<(String, SystemTime, u64), Arc<[u8]>>,
    /// Requests sent so far (each retry not counted).
    requests: Arc<std::sync::atomic::AtomicU64>,
    /// Bytes of object data received so far (ranged reads).
    bytes_read: Arc<std::sync::atomic::AtomicU64>,
}

/// The size of the blocks stream reads are kept in.
const BLOCK: u64 = 64 << 10;

/// How many blocks a miss fetches at least (the stream readers' 256 KiB read-ahead).
const READ_AHEAD_BLOCKS: u64 = 4;

impl std::fmt::Debug for S3 {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "S3({})", self.location)
    }
}

impl Drop for S3 {
    fn drop(&mut self) {
        // Dropping a runtime inside another runtime's thread panics; this does not.
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

impl S3 {
    /// The store at `location`, configured from the environment and `settings`. Makes no
    /// request (see [`Backend::check`]).
    pub fn new(location: BucketLocation, settings: S3Settings) -> Result<S3, String> {
        let o = &settings.overrides;
        let allow_http = o.allow_http.unwrap_or_else(|| {
            std::env::var("AWS_ALLOW_HTTP").is_ok_and(|v| v == "true" || v == "1")
        });
        let mut builder = AmazonS3Builder::from_env().with_bucket_name(&location.bucket);
        if let Some(endpoint) = &o.endpoint {
            builder = builder.with_endpoint(endpoint);
        }
        if let Some(region) = &o.region {
            builder = builder.with_region(region);
        }
        if let Some(key) = &o.access_key_id {
            builder = builder.with_access_key_id(key);
        }
        if let Some(secret) = &o.secret_access_key {
            builder = builder.with_secret_access_key(secret);
        }
        // Client options replace the environment's, so plain HTTP is set again after them.
        let store = builder
            .with_client_options(
                ClientOptions::new()
                    .with_connect_timeout(settings.connect_timeout)
                    .with_timeout(settings.timeout)
                    .with_pool_idle_timeout(Duration::from_secs(60)),
            )
            .with_allow_http(allow_http)
            .with_retry(object_store::RetryConfig {
                max_retries: settings.retries,
                retry_timeout: settings.timeout * 2,
                backoff: object_store::BackoffConfig {
                    init_backoff: Duration::from_millis(50),
                    max_backoff: Duration::from_millis(500),
                    base: 2.0,
                },
            })
            .build()
            .map_err(|e| format!("{location}: {e}"))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("tessera-s3")
            .enable_all()
            .build()
            .map_err(|e| format!("{location}: cannot start its client: {e}"))?;
        let header_bytes = settings.header_cache_mb << 20;
        Ok(S3 {
            store,
            location,
            settings,
            runtime: Some(runtime),
            etags: moka::sync::Cache::new(100_000),
            blocks: moka::sync::Cache::builder()
                .weigher(|_, v: &Arc<[u8]>| u32::try_from(v.len()).unwrap_or(u32::MAX))
                .max_capacity(header_bytes)
                .build(),
            requests: Default::default(),
            bytes_read: Default::default(),
        })
    }

    /// Runs a request to completion from any thread, within the longest time its retries
    /// may take.
    fn run<T: Send + 'static>(
        &self,
        request: impl std::future::Future<Output = Result<T, object_store::Error>> + Send + 'static,
    ) -> Result<T, StorageError> {
        self.requests
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.run_uncounted(request)
    }

    /// [`Self::run`] for work that counts its own requests (ranged reads: one per GET).
    fn run_uncounted<T: Send + 'static>(
        &self,
        request: impl std::future::Future<Output = Result<T, object_store::Error>> + Send + 'static,
    ) -> Result<T, StorageError> {
        let deadline = (self.settings.connect_timeout + self.settings.timeout)
            * (self.settings.retries as u32 + 1)
            + Duration::from_secs(1);
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let rt = self
            .runtime
            .as_ref()
            .ok_or_else(|| remote(Remote::Unavailable, "stopped"))?;
        rt.spawn(async move {
            let _ = tx.send(tokio::time::timeout(deadline, request).await);
        });
        match rx.recv() {
            Ok(Ok(result)) => result.map_err(classify),
            Ok(Err(_)) => Err(remote(Remote::Timeout, "no answer in time")),
            Err(_) => Err(remote(Remote::Unavailable, "the request was dropped")),
        }
    }

    /// The store's key of a key inside the prefix; `None` if it is not a plain key or
    /// would lie outside the prefix.
    fn full_key(&self, key: &str) -> Option<Path> {
        // S3 keys are at most 1,024 bytes; a longer one is not there (and is not sent).
        if key.len() + self.location.prefix.len() >= 1024 {
            return None;
        }
        let full = if self.location.prefix.is_empty() {
            key.to_string()
        } else {
            format!("{}/{key}", self.location.prefix)
        };
        let path = Path::parse(&full).ok()?;
        let inside = self.location.prefix.is_empty()
            || path
                .as_ref()
                .strip_prefix(&self.location.prefix)
                .is_some_and(|rest| rest.starts_with('/') && rest.len() > 1);
        (inside && path.as_ref() == full).then_some(path)
    }

    /// The prefix as a store path (`None` for the whole bucket).
    fn prefix_path(&self) -> Option<Path> {
        (!self.location.prefix.is_empty())
            .then(|| Path::parse(&self.location.prefix).ok())
            .flatten()
    }

    /// The object at `key` now, and its ETag.
    fn head(&self, storage: &Storage, key: &str) -> Result<(Object, String), StorageError> {
        let path = self.full_key(key).ok_or(StorageError::NotFound)?;
        let store = self.store.clone();
        let p = path.clone();
        let meta = self.run(async move { store.head(&p).await })?;
        // Without an ETag reads cannot be pinned to a version: refused, not served mixed.
        let etag = meta
            .e_tag
            .clone()
            .filter(|e| !e.is_empty())
            .ok_or_else(|| remote(Remote::BadAnswer, "the store gives objects no ETag"))?;
        let tag = xxhash_rust::xxh3::xxh3_64(etag.as_bytes());
        let second = u64::try_from(meta.last_modified.timestamp()).unwrap_or(0);
        let modified = SystemTime::UNIX_EPOCH + Duration::new(second, (tag % 1_000_000_000) as u32);
        self.etags.insert((key.to_string(), modified), etag.clone());
        let object = Object {
            key: key.to_string(),
            path: PathBuf::from(format!("s3://{}/{}", self.location.bucket, path)),
            len: meta.size,
            modified,
            identity: Identity {
                dev: DEV,
                ino: xxhash_rust::xxh3::xxh3_64(path.as_ref().as_bytes()),
            },
            // Keys have no aliases: the access policy's identity index never needs them.
            changed: SystemTime::UNIX_EPOCH,
            storage: storage.clone(),
        };
        Ok((object, etag))
    }
}

fn remote(kind: Remote, message: impl Into<String>) -> StorageError {
    StorageError::Remote {
        kind,
        message: message.into(),
    }
}

/// What an `object_store` failure means for a request.
fn classify(e: object_store::Error) -> StorageError {
    use object_store::Error as E;
    match &e {
        E::NotFound { .. } => StorageError::NotFound,
        E::Precondition { .. } | E::NotModified { .. } => StorageError::Changed(e.to_string()),
        E::PermissionDenied { .. } | E::Unauthenticated { .. } => {
            remote(Remote::Refused, e.to_string())
        }
        _ => {
            let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&e);
            while let Some(c) = cause {
                if let Some(h) = c.downcast_ref::<object_store::client::HttpError>() {
                    use object_store::client::HttpErrorKind as K;
                    let kind = match h.kind() {
                        K::Timeout => Remote::Timeout,
                        K::Connect | K::Request | K::Interrupted => Remote::Unavailable,
                        _ => Remote::BadAnswer,
                    };
                    return remote(kind, crate::report::chain(&e));
                }
                cause = c.source();
            }
            remote(Remote::BadAnswer, crate::report::chain(&e))
        }
    }
}

impl Backend for S3 {
    fn resolve(&self, storage: &Storage, identifier: &str) -> Result<Object, StorageError> {
        for key in names::candidates(identifier) {
            match self.head(storage, &key) {
                Err(StorageError::NotFound) => continue,
                found => return found.map(|(object, _)| object),
            }
        }
        Err(StorageError::NotFound)
    }

    fn stat(&self, storage: &Storage, object: &Object) -> Result<Object, StorageError> {
        self.head(storage, &object.key).map(|(now, _)| now)
    }

    fn pinned(&self) -> bool {
        true
    }

    fn object(&self, storage: &Storage, key: &str) -> Result<Object, StorageError> {
        self.head(storage, key).map(|(object, _)| object)
    }

    fn put_new(&self, key: &str, bytes: Vec<u8>) -> Result<bool, StorageError> {
        let path = self.full_key(key).ok_or(StorageError::NotFound)?;
        let store = self.store.clone();
        let opts = object_store::PutOptions::from(object_store::PutMode::Create);
        self.run(async move {
            match store.put_opts(&path, bytes.into(), opts).await {
                Ok(_) => Ok(true),
                // If-None-Match: * failed: another writer was first.
                Err(object_store::Error::AlreadyExists { .. }) => Ok(false),
                Err(e) => Err(e),
            }
        })
    }

    fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), StorageError> {
        let path = self.full_key(key).ok_or(StorageError::NotFound)?;
        let store = self.store.clone();
        self.run(async move { store.put(&path, bytes.into()).await.map(|_| ()) })
    }

    fn delete(&self, key: &str) -> Result<(), StorageError> {
        let path = self.full_key(key).ok_or(StorageError::NotFound)?;
        let store = self.store.clone();
        match self.run(async move { store.delete(&path).await }) {
            Ok(()) | Err(StorageError::NotFound) => Ok(()),
            Err(e) => Err(e),
        }
    }

    fn requests(&self) -> Option<u64> {
        Some(self.requests.load(std::sync::atomic::Ordering::Relaxed))
    }

    fn bytes_read(&self) -> Option<u64> {
        Some(self.bytes_read.load(std::sync::atomic::Ordering::Relaxed))
    }

    fn time_precision(&self) -> Duration {
        // Last-Modified is whole seconds; `Object::modified` adds a part of the ETag's hash.
        Duration::from_secs(1)
    }

    fn aliases(&self) -> bool {
        false
    }

    fn read_ranges(
        &self,
        object: &Object,
        ranges: &[Range<u64>],
    ) -> Result<Vec<Vec<u8>>, StorageError> {
        if ranges.iter().all(|r| r.start >= r.end) {
            return Ok(vec![Vec::new(); ranges.len()]);
        }
        let path = self.full_key(&object.key).ok_or(StorageError::NotFound)?;
        let etag = match self.etags.get(&(object.key.clone(), object.modified)) {
            Some(etag) => etag,
            None => {
                // Forgotten: the object must still be this version.
                let (now, etag) = self.head(&object.storage, &object.key)?;
                if now.modified != object.modified || now.len != object.len {
                    return Err(StorageError::Changed(object.key.clone()));
                }
                etag
            }
        };
        let store = self.store.clone();
        let wanted: Vec<Range<u64>> = ranges.iter().filter(|r| r.start < r.end).cloned().collect();
        let counted = self.bytes_read.clone();
        let requests = self.requests.clone();
        let got = self.run_uncounted(async move {
            object_store::coalesce_ranges(
                &wanted,
                |r| {
                    let store = store.clone();
                    let path = path.clone();
                    let etag = etag.clone();
                    let counted = counted.clone();
                    requests.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    async move {
                        let options = GetOptions {
                            range: Some(GetRange::Bounded(r)),
                            if_match: Some(etag.clone()),
                            ..GetOptions::default()
                        };
                        let got = store.get_opts(&path, options).await?;
                        // Some stores check If-Match against stale metadata: the answer's
                        // own ETag must be the pinned one too.
                        if got.meta.e_tag.as_deref() != Some(etag.as_str()) {
                            return Err(object_store::Error::Precondition {
                                path: path.to_string(),
                                source: "the object's ETag changed".into(),
                            });
                        }
                        let bytes = got.bytes().await?;
                        counted.fetch_add(bytes.len() as u64, std::sync::atomic::Ordering::Relaxed);
                        Ok(bytes)
                    }
                },
                16 << 10,
            )
            .await
        })?;
        let mut got = got.into_iter();
        ranges
            .iter()
            .map(|r| {
                if r.start >= r.end {
                    return Ok(Vec::new());
                }
                let bytes = got.next().unwrap_or_default();
                if bytes.len() as u64 != r.end - r.start {
                    return Err(remote(
                        Remote::BadAnswer,
                        format!("{} bytes for a range of {}", bytes.len(), r.end - r.start),
                    ));
                }
                Ok(bytes.to_vec())
            })
            .collect()
    }

    /// Stream reads (decoders' headers and IFDs) go through a cache of aligned blocks of the
    /// version: a TIFF's directory is fetched once, not for every tile.
    fn read_stream(&self, object: &Object, range: Range<u64>) -> Result<Vec<u8>, StorageError> {
        if range.start >= range.end {
            return Ok(Vec::new());
        }
        let block = |b: u64| (object.key.clone(), object.modified, b);
        let (first, last) = (range.start / BLOCK, (range.end - 1) / BLOCK);
        // A miss fetches a read-ahead's worth of blocks at least (in one request): a format
        // sniff of a few bytes then also brings the header that the decoder reads next.
        let ahead = (first + READ_AHEAD_BLOCKS - 1)
            .max(last)
            .min(object.len.saturating_sub(1) / BLOCK);
        let missing: Vec<u64> = (first..=ahead)
            .filter(|&b| !self.blocks.contains_key(&block(b)))
            .collect();
        let missing = if missing.first().is_some_and(|&b| b <= last) {
            missing
        } else {
            Vec::new()
        };
        if !missing.is_empty() {
            let ranges: Vec<Range<u64>> = missing
                .iter()
                .map(|&b| b * BLOCK..((b + 1) * BLOCK).min(object.len))
                .collect();
            for (&b, bytes) in missing.iter().zip(self.read_ranges(object, &ranges)?) {
                self.blocks.insert(block(b), bytes.into());
            }
        }
        let mut out = Vec::with_capacity((range.end - range.start) as usize);
        for b in first..=last {
            let Some(bytes) = self.blocks.get(&block(b)) else {
                // Evicted meanwhile: read the range itself.
                return Ok(self
                    .read_ranges(object, &[range])?
                    .pop()
                    .unwrap_or_default());
            };
            let start = range.start.max(b * BLOCK) - b * BLOCK;
            let end = range.end.min(b * BLOCK + bytes.len() as u64) - b * BLOCK;
            out.extend_from_slice(bytes.get(start as usize..end as usize).unwrap_or_default());
        }
        if out.len() as u64 != range.end - range.start {
            return Err(remote(Remote::BadAnswer, "a short block"));
        }
        Ok(out)
    }

    fn list(&self) -> Result<Vec<String>, StorageError> {
        let store = self.store.clone();
        let prefix = self.prefix_path();
        let found = self.run(async move {
            use futures_util::TryStreamExt;
            store.list(prefix.as_ref()).try_collect::<Vec<_>>().await
        })?;
        let under = |key: &str| -> Option<String> {
            let rel = match self.location.prefix.as_str() {
                "" => key,
                prefix => key.strip_prefix(prefix)?.strip_prefix('/')?,
            };
            names::is_source_file(std::path::Path::new(rel)).then(|| rel.to_string())
        };
        Ok(found
            .iter()
            .filter_map(|meta| under(meta.location.as_ref()))
            .collect())
    }

    fn check(&self) -> Result<(), String> {
        // One listing under the prefix: a missing bucket, refused credentials or a store
        // that does not answer all fail it.
        let store = self.store.clone();
        let prefix = self.prefix_path();
        self.run(async move {
            use futures_util::StreamExt;
            store.list(prefix.as_ref()).next().await.transpose()
        })
        .map(drop)
        .map_err(|e| format!("{}: {e}", self.location))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_parse_and_bad_ones_are_refused() {
        let l = BucketLocation::parse("s3://masters/iiif/v1/")
            .unwrap()
            .unwrap();
        assert_eq!(
            (l.bucket.as_str(), l.prefix.as_str()),
            ("masters", "iiif/v1")
        );
        let l = BucketLocation::parse("s3://masters").unwrap().unwrap();
        assert_eq!(l.prefix, "");
        assert!(BucketLocation::parse("./images").is_none());
        for bad in [
            "s3://",
            "s3://ab",
            "s3://Upper/x",
            "s3://b_b_b/x",
            "s3://bucket/a/../b",
            "s3://bucket/a//b",
            "s3://bucket/./a",
        ] {
            assert!(
                matches!(BucketLocation::parse(bad), Some(Err(_))),
                "{bad} should be refused"
            );
        }
    }

    #[test]
    fn keys_stay_under_the_prefix() {
        let s3 = S3::new(
            BucketLocation::parse("s3://masters/iiif").unwrap().unwrap(),
            S3Settings::default(),
        )
        .unwrap();
        assert_eq!(s3.full_key("a/b.jpg").unwrap().as_ref(), "iiif/a/b.jpg");
        // The readiness probe's key is a key like any other.
        assert!(s3.full_key(".tessera-ready").is_some());
        for hostile in [
            "../x.jpg",
            "a/../../x.jpg",
            "/x.jpg",
            "a//b.jpg",
            "./x.jpg",
            "",
            "..",
        ] {
            assert!(s3.full_key(hostile).is_none(), "{hostile:?}");
        }
    }
}
