//! Derivative pyramids for flat sources. A large JPEG, PNG or strip TIFF has no reduced levels
//! and no tiles, so every new zoom level of it costs a whole decode. The first request for
//! such a source queues a build, in the background, of a tiled pyramidal TIFF
//! ([`tiled`]) in a cache folder; until it is ready, requests are served from
//! the decoded source as before, and after that from the pyramid, by the tile.
//!
//! A derivative is named by a hash of the source's path and by the source's size and mtime,
//! so a changed source never meets a stale derivative. Its first image's description names
//! the source and version, and is checked before a file found on disk is used. A folder that
//! cannot be written, or a build that fails, is logged once and the source is served without
//! a derivative.
//!
//! **In a bucket** (`derivatives = "s3://…"`), the pyramids are shared by every node. A node
//! looks for the pyramid first; if there is none, it takes the build's lease, an empty object
//! `NAME.tif.lease` written only if absent (a conditional put: of racing nodes one wins). The
//! winner builds in its local folder and uploads the pyramid with a conditional put as well
//! (an object appears whole, so a half-written pyramid is never read), then drops the lease.
//! The others serve the source meanwhile and look again after [`RECHECK`]. A lease older than
//! [`LEASE_TTL`] is of a node that stopped, and is taken over. A node that meets a store
//! failure waits twice as long before each next look, up to [`MAX_RECHECK`].

pub mod tiled;

use crate::cache::Caches;
use crate::iiif::Dimensions;
use crate::source;
use crate::source::DecodeLimits;
use crate::storage::Object;
use crate::storage::{Storage, StorageError};
use image::DynamicImage;
use moka::ops::compute::{CompResult, Op};
use moka::sync::Cache;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{channel, Sender};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant, SystemTime};

/// How soon a node that did not build a shared pyramid (or met a store failure) looks for it
/// again; each store failure in a row for the same source version doubles it, up to
/// [`MAX_RECHECK`], so that a build whose upload always fails is not redone every few
/// seconds.
pub const RECHECK: Duration = Duration::from_secs(2);

/// The longest wait between two looks for a pyramid (see [`RECHECK`]).
pub const MAX_RECHECK: Duration = Duration::from_secs(128);

/// How old a build lease in a bucket must be to be taken over (its node stopped).
pub const LEASE_TTL: Duration = Duration::from_secs(600);

/// What is known of one source version's derivative.
#[derive(Debug, Clone)]
enum State {
    /// Queued or being written.
    Building,
    /// Ready: the pyramid file.
    Ready(Object),
    /// Not made (the source has alpha, or the build failed); the source is served as it is.
    Skipped,
    /// Not now: the store failed (the bucket did not answer, the source could not be read,
    /// the upload failed). The source is served as it is, and the pyramid looked for again
    /// after [`RECHECK`], doubled for each failure in a row.
    Later(Instant),
    /// Another node holds the build's lease: the source is served as it is, and the pyramid
    /// looked for again after [`RECHECK`].
    Leased(Instant),
}

/// Settings of the derivative store.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The cache folder.
    pub dir: PathBuf,
    /// Flat sources with at least this many pixels get a derivative; 0 turns them off.
    pub min_pixels: u64,
    /// Tile width and height of the pyramid.
    pub tile: u32,
    /// JPEG quality of the pyramid's tiles.
    pub quality: u8,
    /// The limits of one decode (the server's).
    pub decode: DecodeLimits,
    /// Encode tiles on all cores (batch work) rather than on the builder thread alone.
    pub parallel: bool,
    /// Keep the pyramids in this store, shared by every node, rather than in `dir` (which
    /// is then where a build is written before its upload).
    pub bucket: Option<Storage>,
}

/// The derivative pyramids of a running server, and the one thread that builds them.
#[derive(Clone)]
pub struct Derivatives {
    inner: Option<Arc<Inner>>,
}

struct Inner {
    settings: Settings,
    states: Cache<Object, State>,
    /// How many `Later`s in a row each source version has met (see [`RECHECK`]).
    laters: Cache<Object, u32>,
    /// The builder thread's queue; `None` when pyramids are built at once, by the caller.
    jobs: Option<Mutex<Sender<Object>>>,
    caches: Caches,
}

impl Derivatives {
    /// No derivatives: every source is served as it is.
    pub fn disabled() -> Derivatives {
        Derivatives { inner: None }
    }

    /// A store in `settings.dir` (made when the first derivative is written), with its
    /// builder thread. Builds reuse a whole decode already in `caches`, and drop the decodes
    /// of a source from it once its pyramid is ready.
    pub fn new(settings: Settings, caches: Caches) -> Derivatives {
        if settings.min_pixels == 0 {
            return Derivatives::disabled();
        }
        let (tx, rx) = channel::<Object>();
        let inner = Arc::new(Inner {
            settings,
            states: Cache::new(100_000),
            laters: laters(),
            jobs: Some(Mutex::new(tx)),
            caches: caches.clone(),
        });
        let weak: Weak<Inner> = Arc::downgrade(&inner);
        // One build at a time, so that at most one extra decode is alive; the loop ends when
        // the store is dropped (its sender goes with it).
        let spawned = std::thread::Builder::new()
            .name("derivatives".into())
            .spawn(move || {
                if let Some(inner) = weak.upgrade() {
                    let removed = remove_old_scheme(&inner.settings.dir);
                    if removed > 0 {
                        tracing::info!(removed, "derivatives of the old naming scheme deleted");
                    }
                }
                while let Ok(file) = rx.recv() {
                    let Some(inner) = weak.upgrade() else { break };
                    let state = match &inner.settings.bucket {
                        Some(bucket) => build_shared(&inner.settings, &caches, &file, bucket),
                        None => settle(&file, build(&inner.settings, &caches, &file)),
                    };
                    if matches!(state, State::Ready(_)) {
                        caches.forget_decodes(&file);
                    }
                    let state = inner.counted(&file, state);
                    inner.states.insert(file, state);
                }
            });
        match spawned {
            Ok(_) => Derivatives { inner: Some(inner) },
            Err(e) => {
                tracing::warn!("derivative builder not started: {e}");
                Derivatives::disabled()
            }
        }
    }

    /// A store whose pyramids are built at once, in the thread that first asks for one (other
    /// callers for the same source wait for it), for batch work such as `tessera tiles`.
    pub fn immediate(settings: Settings, caches: Caches) -> Derivatives {
        if settings.min_pixels == 0 {
            return Derivatives::disabled();
        }
        Derivatives {
            inner: Some(Arc::new(Inner {
                settings,
                states: Cache::new(100_000),
                laters: laters(),
                jobs: None,
                caches,
            })),
        }
    }

    /// Deletes the pyramid of `file` and forgets it (batch work, once a source is done; a
    /// damaged one).
    pub fn remove(&self, file: &Object) {
        let Some(inner) = &self.inner else { return };
        if let Some(State::Ready(d)) = inner.states.get(file) {
            match &inner.settings.bucket {
                Some(bucket) => {
                    if let Err(e) = bucket.delete(&d.key) {
                        tracing::warn!(
                            "derivative {} not deleted: {}",
                            d.key,
                            crate::report::chain(&e)
                        );
                    }
                }
                None => {
                    let _ = std::fs::remove_file(&d.path);
                }
            }
        }
        inner.states.invalidate(file);
    }

    /// The ready pyramid of `file`, if it has one. The first call for a large enough source
    /// looks for a pyramid on disk, and queues a build when there is none (or, in a store
    /// made by [`Derivatives::immediate`], builds it now).
    pub fn ready(&self, file: &Object, dims: Dimensions) -> Option<Object> {
        let inner = self.inner.as_ref()?;
        let s = &inner.settings;
        let pixels = u64::from(dims.width) * u64::from(dims.height);
        if pixels < s.min_pixels || pixels > s.decode.max_pixels {
            return None;
        }
        let state = inner.state(file);
        let due = match &state {
            State::Later(since) => since.elapsed() >= inner.recheck(file),
            State::Leased(since) => since.elapsed() >= RECHECK,
            _ => false,
        };
        let state = if due {
            inner.look_again(file, &state)
        } else {
            state
        };
        match state {
            State::Ready(d) => Some(d),
            State::Building | State::Skipped | State::Later(_) | State::Leased(_) => None,
        }
    }

    /// Forgets what is known of `file`'s pyramid (without deleting it), so that the next
    /// request looks for it again.
    pub fn forget(&self, file: &Object) {
        if let Some(inner) = &self.inner {
            inner.states.invalidate(file);
        }
    }

    /// Forgets a derivative that failed to read, and deletes it, so that the next request
    /// builds it again.
    pub fn discard(&self, file: &Object, why: &str) {
        let Some(inner) = &self.inner else { return };
        if let Some(State::Ready(d)) = inner.states.get(file) {
            tracing::warn!(derivative = %d.path.display(), "derivative discarded: {why}");
        }
        self.remove(file);
    }

    /// Whether a build of `file` is queued or running (render then serves every zoom level of
    /// it from the whole decode, rather than decoding it again at a reduced size).
    pub fn building(&self, file: &Object) -> bool {
        self.inner
            .as_ref()
            .is_some_and(|i| matches!(i.states.get(file), Some(State::Building)))
    }
}

impl Inner {
    /// What is known of `file`'s pyramid, looking for it the first time.
    fn state(&self, file: &Object) -> State {
        match self.states.get(file) {
            Some(state) => state,
            None => self.look(file, None),
        }
    }

    /// Looks for `file`'s pyramid again once the wait after `seen` (a `Later` or `Leased`
    /// state) is over, only if `seen` is still its state: of the requests that find the wait
    /// over at once, one looks (queues one build, counts one failure), and the others get
    /// what it found.
    fn look_again(&self, file: &Object, seen: &State) -> State {
        self.look(file, Some(seen))
    }

    /// Looks for `file`'s pyramid when nothing is known of it, or when what is known is still
    /// the wait `expired`; otherwise gives what is known. Every look goes through moka's
    /// `and_compute_with`, whose per-key lock makes concurrent looks at one source version
    /// one look (moka's `or_insert_with` takes another lock, so it is not used here). A build
    /// is queued only once its `Building` state is stored, so that the builder's result
    /// (which may come at once, for a failure) always lands after it and is never
    /// overwritten.
    fn look(&self, file: &Object, expired: Option<&State>) -> State {
        let looked =
            self.states
                .entry(file.clone())
                .and_compute_with(|current| match (current, expired) {
                    (None, _) => Op::Put(self.counted(file, self.first_look(file))),
                    (Some(current), Some(seen)) if same_wait(current.value(), seen) => {
                        Op::Put(self.counted(file, self.first_look(file)))
                    }
                    _ => Op::Nop,
                });
        match looked {
            CompResult::Inserted(entry) | CompResult::ReplacedWith(entry) => {
                self.queued(file, entry.into_value())
            }
            CompResult::Unchanged(entry) | CompResult::Removed(entry) => entry.into_value(),
            // Not reached (an absent state is always looked for): served as it is.
            CompResult::StillNone(_) => State::Skipped,
        }
    }

    /// Queues the build of `state` when it is `Building` (a state just stored), and gives
    /// `state` back; `Skipped` when the builder is gone.
    fn queued(&self, file: &Object, state: State) -> State {
        let (State::Building, Some(jobs)) = (&state, &self.jobs) else {
            return state;
        };
        if !matches!(jobs.lock().map(|tx| tx.send(file.clone())), Ok(Ok(()))) {
            self.states.insert(file.clone(), State::Skipped);
            return State::Skipped;
        }
        state
    }

    /// How long after its last `Later` the pyramid of `file` is looked for again:
    /// [`RECHECK`], doubled for each earlier `Later` in a row, up to [`MAX_RECHECK`].
    fn recheck(&self, file: &Object) -> Duration {
        let before = self.laters.get(file).unwrap_or(1).saturating_sub(1);
        RECHECK.saturating_mul(1 << before.min(16)).min(MAX_RECHECK)
    }

    /// Counts the `Later`s in a row of `file`, and forgets them once its pyramid is ready or
    /// skipped; gives `state` back.
    fn counted(&self, file: &Object, state: State) -> State {
        match state {
            State::Later(_) => {
                self.laters
                    .entry(file.clone())
                    .and_upsert_with(|n| n.map_or(1, |n| n.into_value().saturating_add(1)));
            }
            State::Ready(_) | State::Skipped => self.laters.invalidate(file),
            State::Building | State::Leased(_) => {}
        }
        state
    }

    /// The state of a source version not seen before: its pyramid if one is there, else a
    /// build to queue (`Building`; or, in a store made by [`Derivatives::immediate`], made
    /// now).
    fn first_look(&self, file: &Object) -> State {
        let s = &self.settings;
        let found = match &s.bucket {
            Some(bucket) => match in_bucket(bucket, file) {
                Ok(found) => found,
                Err(_) => return State::Later(Instant::now()),
            },
            None => existing(&path_for(&s.dir, file), file),
        };
        if let Some(found) = found {
            return State::Ready(found);
        }
        match &self.jobs {
            Some(_) => State::Building,
            None => settle(file, build(s, &self.caches, file)),
        }
    }
}

/// Whether `a` and `b` are the same wait (the same `Later` or `Leased`, by its start).
fn same_wait(a: &State, b: &State) -> bool {
    match (a, b) {
        (State::Later(a), State::Later(b)) | (State::Leased(a), State::Leased(b)) => a == b,
        _ => false,
    }
}

/// The count of `Later`s in a row per source version; one not met again within an hour is
/// forgotten.
fn laters() -> Cache<Object, u32> {
    Cache::builder()
        .max_capacity(100_000)
        .time_to_idle(Duration::from_secs(3600))
        .build()
}

/// The pyramid of `file` in `bucket`, if one is there for exactly this version.
fn in_bucket(bucket: &Storage, file: &Object) -> Result<Option<Object>, StorageError> {
    match bucket.object(&name_for(file)) {
        Ok(found) => Ok(checked(found, file)),
        Err(StorageError::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Builds the pyramid of `file` for every node sharing `bucket`, unless one is there or
/// another node holds the lease (see the module header).
fn build_shared(s: &Settings, caches: &Caches, file: &Object, bucket: &Storage) -> State {
    let later = |e: StorageError| {
        tracing::warn!(
            source = %file.path.display(),
            "derivative bucket: {}; the source is served meanwhile",
            crate::report::chain(&e)
        );
        State::Later(Instant::now())
    };
    match in_bucket(bucket, file) {
        Ok(Some(found)) => return State::Ready(found),
        Ok(None) => {}
        Err(e) => return later(e),
    }
    let lease = format!("{}.lease", name_for(file));
    match take_lease(bucket, &lease) {
        Ok(true) => {}
        Ok(false) => return State::Leased(Instant::now()),
        Err(e) => return later(e),
    }
    // The node that held the lease before may have uploaded the pyramid and dropped the
    // lease since the first look.
    let state = match in_bucket(bucket, file).and_then(|found| match found {
        Some(found) => Ok(Some(found)),
        // One there that is not a whole pyramid of this version (damaged) is replaced.
        None => bucket.delete(&name_for(file)).map(|()| None),
    }) {
        Ok(Some(found)) => State::Ready(found),
        Ok(None) => match build(s, caches, file) {
            Ok(Some(local)) => {
                let uploaded = std::fs::read(&local.path)
                    .map_err(|e| StorageError::io(local.path.display(), e))
                    .and_then(|bytes| bucket.put_new(&name_for(file), bytes))
                    .and_then(|_| in_bucket(bucket, file));
                let _ = std::fs::remove_file(&local.path);
                match uploaded {
                    Ok(Some(found)) => {
                        tracing::info!(derivative = %found.path.display(), "derivative pyramid uploaded");
                        State::Ready(found)
                    }
                    Ok(None) => settle(file, Err(BuildError::Unreadable)),
                    Err(e) => later(e),
                }
            }
            other => settle(file, other),
        },
        Err(e) => later(e),
    };
    if let Err(e) = bucket.delete(&lease) {
        tracing::warn!(
            "derivative lease {lease} not dropped: {}",
            crate::report::chain(&e)
        );
    }
    state
}

/// Takes the build lease `lease` in `bucket`: `Ok(false)` when another node holds it. The
/// lease holds the Unix time it was taken, in seconds (nodes' clocks must agree to well
/// within [`LEASE_TTL`]); one older than that is of a node that stopped, and is taken over.
fn take_lease(bucket: &Storage, lease: &str) -> Result<bool, StorageError> {
    let now = || {
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs()
    };
    if bucket.put_new(lease, now().to_string().into_bytes())? {
        return Ok(true);
    }
    let taken = match bucket.object(lease).and_then(|held| held.read_all()) {
        Ok(body) => std::str::from_utf8(&body)
            .ok()
            .and_then(|t| t.trim().parse::<u64>().ok())
            .unwrap_or(0),
        // Dropped meanwhile: the pyramid is there now, or its build failed.
        Err(StorageError::NotFound) => return Ok(false),
        Err(e) => return Err(e),
    };
    let age = Duration::from_secs(now().saturating_sub(taken));
    if age < LEASE_TTL {
        return Ok(false);
    }
    tracing::warn!("derivative lease {lease} is {age:?} old: taken over");
    bucket.delete(lease)?;
    bucket.put_new(lease, now().to_string().into_bytes())
}

/// The state a build leaves (a failure is logged: the source is served as it is).
fn settle(file: &Object, built: Result<Option<Object>, BuildError>) -> State {
    match built {
        Ok(Some(ready)) => State::Ready(ready),
        Ok(None) => State::Skipped,
        // The store failed, not the source: tried again later.
        Err(BuildError::Source(source::SourceError::Storage(
            e @ (StorageError::Remote { .. } | StorageError::Changed(_)),
        ))) => {
            tracing::warn!(
                source = %file.path.display(),
                "derivative pyramid not built now: {}; the source is served meanwhile",
                crate::report::chain(&e)
            );
            State::Later(Instant::now())
        }
        Err(why) => {
            tracing::warn!(
                source = %file.path.display(),
                "no derivative pyramid, serving the source as it is: {}",
                crate::report::chain(&why)
            );
            State::Skipped
        }
    }
}

/// The derivative's name: a hash of the source path, then the source's version.
fn name_for(file: &Object) -> String {
    format!("{}-{}.tif", stem(file), file.version())
}

/// The derivative's path in a folder.
fn path_for(dir: &Path, file: &Object) -> PathBuf {
    dir.join(name_for(file))
}

/// The part of a derivative's file name shared by every version of one source.
fn stem(file: &Object) -> String {
    use std::os::unix::ffi::OsStrExt;
    let h = crate::digest::hex(&[file.path.as_os_str().as_bytes()]);
    format!("{}-{}", crate::digest::DERIVATIVE_SCHEME, &h[..16])
}

/// Whether a file name is a derivative of the scheme before [`crate::digest`]: 16 hex digits
/// of std's default SipHash hasher, the source's size and mtime in hex, `.tif`.
fn is_old_scheme(name: &str) -> bool {
    let Some(stem) = name.strip_suffix(".tif") else {
        return false;
    };
    let parts: Vec<&str> = stem.split('-').collect();
    let hex = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit());
    parts.len() == 3 && parts[0].len() == 16 && parts.iter().all(|p| hex(p))
}

/// Deletes derivatives named by the old scheme in `dir`; their names can no longer be
/// computed, so they would never be used or cleaned up otherwise. Returns how many.
pub fn remove_old_scheme(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .filter(|e| e.file_name().to_str().is_some_and(is_old_scheme))
        .filter(|e| std::fs::remove_file(e.path()).is_ok())
        .count()
}

/// What the first image's description says of the source a pyramid was made from.
fn description(file: &Object) -> String {
    format!(
        "tessera derivative of {} version {}",
        file.path.display(),
        file.version()
    )
}

/// A pyramid on disk for exactly this source version, if one is there and says so.
fn existing(path: &Path, file: &Object) -> Option<Object> {
    checked(Object::at(path).ok()?, file)
}

/// `found`, if its first image's description names exactly this source version.
fn checked(found: Object, file: &Object) -> Option<Object> {
    let mut d = tiff::decoder::Decoder::new(found.reader()).ok()?;
    let desc = d
        .get_tag_ascii_string(tiff::tags::Tag::ImageDescription)
        .ok()?;
    if desc != description(file) {
        return None;
    }
    Some(found)
}

/// Why a pyramid was not built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The source could not be decoded.
    #[error("cannot read the source")]
    Source(#[from] source::SourceError),
    /// The pyramid could not be written.
    #[error("cannot write {}", .path.display())]
    Write {
        /// The file or folder written.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The source changed while its pyramid was built (its pixels may mix two versions).
    #[error("the source changed while its pyramid was built")]
    Changed,
    /// The pyramid written cannot be read back.
    #[error("the written pyramid cannot be read back")]
    Unreadable,
    /// The builder panicked.
    #[error("the build panicked")]
    Panicked,
}

/// Builds the pyramid of `file`; `Ok(None)` when it cannot have one (it has alpha). A panic
/// is an error.
fn build(s: &Settings, caches: &Caches, file: &Object) -> Result<Option<Object>, BuildError> {
    let built = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        build_unguarded(s, caches, file)
    }))
    .unwrap_or(Err(BuildError::Panicked));
    if let Ok(Some(_)) = built {
        crate::stats::Stats::bump(&caches.stats.derivative_builds);
    }
    built
}

fn build_unguarded(
    s: &Settings,
    caches: &Caches,
    file: &Object,
) -> Result<Option<Object>, BuildError> {
    let started = std::time::Instant::now();
    let img: Arc<DynamicImage> = match caches.decoded.get(&(file.clone(), 1)) {
        Some(img) => img,
        None => Arc::new(
            source::decode(file, s.decode)
                .inspect_err(|_| crate::stats::Stats::bump(&caches.stats.decode_failures))?,
        ),
    };
    tracing::debug!(source = %file.path.display(), "decoded in {:?}", started.elapsed());
    let converted;
    let (pixels, channels): (&[u8], usize) = match &*img {
        DynamicImage::ImageRgb8(rgb) => (rgb.as_raw(), 3),
        DynamicImage::ImageLuma8(g) => (g.as_raw(), 1),
        DynamicImage::ImageRgb16(_) | DynamicImage::ImageRgb32F(_) => {
            converted = DynamicImage::ImageRgb8(img.to_rgb8());
            (converted.as_bytes(), 3)
        }
        DynamicImage::ImageLuma16(_) => {
            converted = DynamicImage::ImageLuma8(img.to_luma8());
            (converted.as_bytes(), 1)
        }
        _ => return Ok(None),
    };
    let write = |path: &Path| {
        let path = path.to_path_buf();
        move |source| BuildError::Write { path, source }
    };
    std::fs::create_dir_all(&s.dir).map_err(write(&s.dir))?;
    let tmp = tempfile::NamedTempFile::new_in(&s.dir).map_err(write(&s.dir))?;
    let out = tiled::write_pyramid(
        pixels,
        (img.width(), img.height()),
        channels,
        tiled::TileSpec {
            size: s.tile,
            quality: s.quality,
            parallel: s.parallel,
        },
        &description(file),
        tmp,
    )
    .map_err(write(&s.dir))?;
    out.as_file().sync_all().map_err(write(out.path()))?;
    if !file.unchanged() {
        // Its pixels may mix two versions; the new version gets its own build.
        return Err(BuildError::Changed);
    }
    let path = path_for(&s.dir, file);
    out.persist(&path).map_err(|e| write(&path)(e.error))?;
    remove_older_versions(&s.dir, file, &path);
    let ready = existing(&path, file).ok_or(BuildError::Unreadable)?;
    tracing::info!(
        source = %file.path.display(),
        derivative = %path.display(),
        bytes = ready.len,
        "derivative pyramid built in {:?}",
        started.elapsed()
    );
    Ok(Some(ready))
}

/// Deletes the derivatives of earlier versions of the same source.
fn remove_older_versions(dir: &Path, file: &Object, keep: &Path) {
    let prefix = format!("{}-", stem(file));
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(&prefix) && name.ends_with(".tif") && e.path() != keep {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Settings of a test store: every source gets a pyramid of 128-px tiles.
    fn settings(dir: PathBuf, bucket: Option<Storage>) -> Settings {
        Settings {
            dir,
            min_pixels: 1,
            tile: 128,
            quality: 80,
            decode: DecodeLimits::UNLIMITED,
            parallel: false,
            bucket,
        }
    }

    #[test]
    fn two_nodes_on_one_bucket_build_a_pyramid_once_and_both_use_it() {
        let d = tempfile::tempdir().unwrap();
        let src = d.path().join("a.jpg");
        image::RgbImage::from_fn(600, 400, |x, y| {
            image::Rgb([(x % 251) as u8, (y % 241) as u8, ((x * y) % 239) as u8])
        })
        .save(&src)
        .unwrap();
        let file = Object::at(&src).unwrap();
        let memory = Arc::new(crate::storage::Memory::default());
        let bucket = Storage::from(memory.clone());
        let node = |i: u32| {
            let caches = Caches::new(64, 0);
            let settings = settings(d.path().join(format!("node{i}")), Some(bucket.clone()));
            (Derivatives::new(settings, caches.clone()), caches)
        };
        let nodes = [node(0), node(1)];
        let dims = Dimensions {
            width: 600,
            height: 400,
        };
        // Both ask at once; each polls as its requests would.
        let end = Instant::now() + Duration::from_secs(60);
        let mut ready: [Option<Object>; 2] = [None, None];
        while ready.iter().any(Option::is_none) && Instant::now() < end {
            for (k, (n, _)) in nodes.iter().enumerate() {
                if ready[k].is_none() {
                    ready[k] = n.ready(&file, dims);
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let [Some(a), Some(b)] = &ready else {
            panic!("not both ready: {ready:?}")
        };
        assert_eq!(
            (&a.key, &a.storage),
            (&b.key, &bucket),
            "one pyramid, in the bucket"
        );
        let builds: u64 = nodes
            .iter()
            .map(|(_, c)| crate::stats::Stats::read(&c.stats.derivative_builds))
            .sum();
        assert_eq!(builds, 1, "built once, by one node");
        assert_eq!(bucket.list().unwrap(), std::slice::from_ref(&a.key));
        let lease = format!("{}.lease", a.key);
        assert!(matches!(bucket.object(&lease), Err(StorageError::NotFound)));
        let levels = crate::source::pyramid::levels(a).unwrap().unwrap();
        assert_eq!((levels[0].width, levels[0].height), (600, 400));
        // Nothing is left in the nodes' build folders.
        for i in 0..2 {
            let left = std::fs::read_dir(d.path().join(format!("node{i}")))
                .map(|r| r.count())
                .unwrap_or(0);
            assert_eq!(left, 0, "node {i} kept a build");
        }
    }

    #[test]
    fn a_build_that_meets_a_store_failure_is_tried_again() {
        let d = tempfile::tempdir().unwrap();
        let memory = Arc::new(crate::storage::Memory::default());
        let mut png = std::io::Cursor::new(Vec::new());
        image::DynamicImage::ImageRgb8(image::RgbImage::from_pixel(
            300,
            200,
            image::Rgb([9, 99, 199]),
        ))
        .write_to(&mut png, image::ImageFormat::Png)
        .unwrap();
        memory.put("a.png", png.into_inner());
        let file = Storage::from(memory.clone()).resolve("a.png").unwrap();
        let caches = Caches::new(64, 0);
        let settings = settings(d.path().to_path_buf(), None);
        let derivatives = Derivatives::new(settings, caches);
        let dims = Dimensions {
            width: 300,
            height: 200,
        };
        memory.set_failing(true);
        assert!(derivatives.ready(&file, dims).is_none());
        let settled = |want: fn(&State) -> bool| {
            let end = Instant::now() + Duration::from_secs(30);
            while Instant::now() < end {
                let state = derivatives.inner.as_ref().unwrap().states.get(&file);
                if state.as_ref().is_some_and(want) {
                    return true;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            false
        };
        assert!(
            settled(|s| matches!(s, State::Later(_))),
            "not remembered as skipped"
        );
        memory.set_failing(false);
        let end = Instant::now() + Duration::from_secs(30);
        let mut ready = None;
        while ready.is_none() && Instant::now() < end {
            ready = derivatives.ready(&file, dims);
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(ready.is_some(), "built once the store answers");
    }

    /// Polls `done` until it holds, for at most 30 s.
    fn poll(what: &str, mut done: impl FnMut() -> bool) {
        let end = Instant::now() + Duration::from_secs(30);
        while !done() {
            assert!(Instant::now() < end, "{what}: not within 30 s");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    #[test]
    fn store_failures_in_a_row_double_the_wait_before_the_next_look() {
        let d = tempfile::tempdir().unwrap();
        let memory = Arc::new(crate::storage::Memory::default());
        memory.put("a.png", vec![0u8; 64]);
        let file = Storage::from(memory.clone()).resolve("a.png").unwrap();
        let derivatives =
            Derivatives::new(settings(d.path().to_path_buf(), None), Caches::new(8, 0));
        let inner = derivatives.inner.clone().unwrap();
        let dims = Dimensions {
            width: 300,
            height: 200,
        };
        let long_ago = Instant::now()
            .checked_sub(MAX_RECHECK * 2)
            .expect("the clock has run for a few minutes");
        let recent = |state: Option<State>| matches!(state, Some(State::Later(since)) if since.elapsed() < MAX_RECHECK);
        memory.set_failing(true);
        let mut waits = Vec::new();
        for round in 0..9 {
            if round > 0 {
                // The last look was long ago: the next request looks (and builds) again.
                inner.states.insert(file.clone(), State::Later(long_ago));
            }
            assert!(derivatives.ready(&file, dims).is_none());
            poll("the build's store failure", || {
                recent(inner.states.get(&file))
            });
            waits.push(inner.recheck(&file).as_secs());
        }
        assert_eq!(waits, [2, 4, 8, 16, 32, 64, 128, 128, 128]);
        // Another node's lease is no failure: it neither lengthens nor resets the wait.
        inner.counted(&file, State::Leased(Instant::now()));
        assert_eq!(inner.recheck(&file), MAX_RECHECK);
        // Within the wait, a request does not look again.
        let before = inner.states.get(&file);
        assert!(derivatives.ready(&file, dims).is_none());
        assert!(
            matches!((before, inner.states.get(&file)), (Some(State::Later(a)), Some(State::Later(b))) if a == b)
        );
        // Once the store answers, the build ends (here skipped: the source is no image), and
        // the wait starts again from the beginning, as it does when a pyramid is found or made.
        memory.set_failing(false);
        inner.states.insert(file.clone(), State::Later(long_ago));
        derivatives.ready(&file, dims);
        poll("the build's end", || {
            !matches!(inner.states.get(&file), Some(State::Building))
        });
        assert!(
            !matches!(inner.states.get(&file), Some(State::Later(_))),
            "the store answers"
        );
        assert_eq!(inner.recheck(&file), RECHECK);
    }

    #[test]
    fn requests_that_find_the_wait_over_at_once_look_once() {
        // Two requests read the same expired `Later`; the first looks again, and the second,
        // acting on what it read before, must not look (nor queue a build, nor count a
        // failure) once the state has moved on. Before, it forgot the state the first had
        // stored, and queued a build of its own.
        let d = tempfile::tempdir().unwrap();
        let caches = Caches::new(64, 0);
        let derivatives = Derivatives::new(settings(d.path().join("builds"), None), caches.clone());
        let inner = derivatives.inner.clone().unwrap();
        let source = |name: &str| {
            let src = d.path().join(name);
            image::RgbImage::from_pixel(300, 200, image::Rgb([200, 90, 20]))
                .save(&src)
                .unwrap();
            Object::at(&src).unwrap()
        };
        // A build that succeeds: queued once, whether the second comes while it is queued
        // or once it is ready. (`look_again` is called once the wait is over; it does not
        // check that itself.)
        let file = source("a.png");
        let seen = State::Later(Instant::now());
        inner.states.insert(file.clone(), seen.clone());
        assert!(matches!(inner.look_again(&file, &seen), State::Building));
        assert!(matches!(
            inner.look_again(&file, &seen),
            State::Building | State::Ready(_)
        ));
        poll("the build", || {
            matches!(inner.states.get(&file), Some(State::Ready(_)))
        });
        assert!(matches!(inner.look_again(&file, &seen), State::Ready(_)));
        // A second build would be queued behind the first and counted once its source is
        // ready: a last source, built alone, drains the queue first.
        let last = source("last.png");
        let dims = Dimensions {
            width: 300,
            height: 200,
        };
        poll("the last build", || {
            derivatives.ready(&last, dims).is_some()
        });
        let builds = crate::stats::Stats::read(&caches.stats.derivative_builds);
        assert_eq!(builds, 2, "one build per source");

        // A build that meets a store failure: one failure counted, not one per request.
        let memory = Arc::new(crate::storage::Memory::default());
        memory.put("b.png", vec![0u8; 64]);
        let file = Storage::from(memory.clone()).resolve("b.png").unwrap();
        memory.set_failing(true);
        inner.states.insert(file.clone(), seen.clone());
        assert!(matches!(inner.look_again(&file, &seen), State::Building));
        poll(
            "the build's store failure",
            || matches!(inner.states.get(&file), Some(State::Later(since)) if since.elapsed() < MAX_RECHECK),
        );
        let failed = inner.states.get(&file).unwrap();
        assert!(same_wait(&inner.look_again(&file, &seen), &failed));
        assert!(same_wait(&inner.states.get(&file).unwrap(), &failed));
        assert_eq!(inner.laters.get(&file), Some(1), "one failure counted");
        // The one whose wait it is does look again.
        inner.states.insert(file.clone(), seen.clone());
        assert!(matches!(inner.look_again(&file, &seen), State::Building));
        poll("the second build's store failure", || {
            matches!(inner.states.get(&file), Some(State::Later(_)))
        });
        assert_eq!(inner.laters.get(&file), Some(2));
    }

    #[test]
    fn a_build_that_ends_at_once_is_never_overwritten_by_its_queued_state() {
        // Builds that fail at once (the store is down) settle while the request that queued
        // them is still storing `Building`; each must still end as `Later`, never stay
        // `Building`.
        let d = tempfile::tempdir().unwrap();
        let memory = Arc::new(crate::storage::Memory::default());
        let store = Storage::from(memory.clone());
        let files: Vec<Object> = (0..200)
            .map(|i| {
                let key = format!("f{i}.png");
                memory.put(&key, vec![0u8; 16]);
                store.resolve(&format!("f{i}")).unwrap()
            })
            .collect();
        memory.set_failing(true);
        let derivatives =
            Derivatives::new(settings(d.path().to_path_buf(), None), Caches::new(8, 0));
        let dims = Dimensions {
            width: 300,
            height: 200,
        };
        for file in &files {
            assert!(derivatives.ready(file, dims).is_none());
        }
        let end = Instant::now() + Duration::from_secs(60);
        let states = &derivatives.inner.as_ref().unwrap().states;
        let mut building = files.len();
        while building > 0 && Instant::now() < end {
            std::thread::sleep(Duration::from_millis(20));
            building = files
                .iter()
                .filter(|f| !matches!(states.get(*f), Some(State::Later(_))))
                .count();
        }
        assert_eq!(building, 0, "builds left queued forever");
    }

    #[test]
    fn a_damaged_pyramid_in_the_bucket_is_replaced() {
        let d = tempfile::tempdir().unwrap();
        let src = d.path().join("a.png");
        image::RgbImage::from_pixel(300, 200, image::Rgb([200, 100, 50]))
            .save(&src)
            .unwrap();
        let file = Object::at(&src).unwrap();
        let bucket = Storage::new(crate::storage::Memory::default());
        // Another node's upload that is not a pyramid of this version.
        assert!(bucket
            .put_new(&name_for(&file), b"II*\0 not a pyramid".to_vec())
            .unwrap());
        let settings = settings(d.path().join("builds"), Some(bucket.clone()));
        let derivatives = Derivatives::new(settings, Caches::new(64, 0));
        let dims = Dimensions {
            width: 300,
            height: 200,
        };
        let end = Instant::now() + Duration::from_secs(30);
        let mut ready = None;
        while ready.is_none() && Instant::now() < end {
            ready = derivatives.ready(&file, dims);
            std::thread::sleep(Duration::from_millis(20));
        }
        let ready = ready.expect("replaced by a whole pyramid");
        let levels = crate::source::pyramid::levels(&ready).unwrap().unwrap();
        assert_eq!((levels[0].width, levels[0].height), (300, 200));
    }

    #[test]
    fn a_lease_is_held_until_it_is_stale() {
        let bucket = Storage::new(crate::storage::Memory::default());
        assert!(take_lease(&bucket, "x.tif.lease").unwrap());
        assert!(
            !take_lease(&bucket, "x.tif.lease").unwrap(),
            "held by the first"
        );
        bucket.delete("x.tif.lease").unwrap();
        assert!(
            take_lease(&bucket, "x.tif.lease").unwrap(),
            "dropped, then taken"
        );
        // One taken 11 minutes ago (its node stopped) is taken over.
        bucket.delete("x.tif.lease").unwrap();
        let old = SystemTime::now() - Duration::from_secs(660);
        let secs = old
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        bucket
            .put_new("x.tif.lease", secs.to_string().into_bytes())
            .unwrap();
        assert!(
            take_lease(&bucket, "x.tif.lease").unwrap(),
            "stale, taken over"
        );
        assert!(
            !take_lease(&bucket, "x.tif.lease").unwrap(),
            "and held again"
        );
    }

    #[test]
    fn names_are_stable_and_old_ones_are_cleaned_up() {
        let d = tempfile::tempdir().unwrap();
        let src = d.path().join("a.jpg");
        std::fs::write(&src, b"x").unwrap();
        let file = Object::at(&src).unwrap();
        let name = path_for(d.path(), &file);
        let name = name.file_name().unwrap().to_str().unwrap();
        assert!(name.starts_with("d1-"), "{name}");
        assert!(!is_old_scheme(name));
        // A name of the old SipHash scheme, one of some other program, one of ours.
        let old = "0123456789abcdef-1f-17a2b3c4d5e6f700.tif";
        assert!(is_old_scheme(old));
        for keep in ["notes.tif", "0123-1f-2.tif", name] {
            assert!(!is_old_scheme(keep), "{keep}");
            std::fs::write(d.path().join(keep), b"x").unwrap();
        }
        std::fs::write(d.path().join(old), b"x").unwrap();
        assert_eq!(remove_old_scheme(d.path()), 1);
        assert!(!d.path().join(old).exists());
        assert!(d.path().join(name).exists() && d.path().join("notes.tif").exists());
    }
}
