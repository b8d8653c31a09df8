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

pub mod tiled;

use crate::cache::Caches;
use crate::iiif::Dimensions;
use crate::source;
use crate::source::DecodeLimits;
use crate::storage::Object;
use image::DynamicImage;
use moka::sync::Cache;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{channel, Sender};
use std::sync::{Arc, Mutex, Weak};

/// What is known of one source version's derivative.
#[derive(Debug, Clone)]
enum State {
    /// Queued or being written.
    Building,
    /// Ready: the pyramid file.
    Ready(Object),
    /// Not made (the source has alpha, or the build failed); the source is served as it is.
    Skipped,
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
}

/// The derivative pyramids of a running server, and the one thread that builds them.
#[derive(Clone)]
pub struct Derivatives {
    inner: Option<Arc<Inner>>,
}

struct Inner {
    settings: Settings,
    states: Cache<Object, State>,
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
                    let state = settle(&file, build(&inner.settings, &caches, &file));
                    if matches!(state, State::Ready(_)) {
                        caches.forget_decodes(&file);
                    }
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
                jobs: None,
                caches,
            })),
        }
    }

    /// Deletes the pyramid of `file` and forgets it (batch work, once a source is done).
    pub fn remove(&self, file: &Object) {
        let Some(inner) = &self.inner else { return };
        if let Some(State::Ready(d)) = inner.states.get(file) {
            let _ = std::fs::remove_file(&d.path);
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
        let state = inner.states.get_with(file.clone(), || {
            let path = path_for(&s.dir, file);
            if let Some(found) = existing(&path, file) {
                return State::Ready(found);
            }
            let Some(jobs) = &inner.jobs else {
                return settle(file, build(s, &inner.caches, file));
            };
            match jobs.lock().map(|tx| tx.send(file.clone())) {
                Ok(Ok(())) => State::Building,
                _ => State::Skipped,
            }
        });
        match state {
            State::Ready(d) => Some(d),
            State::Building | State::Skipped => None,
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

/// The state a build leaves (a failure is logged: the source is served as it is).
fn settle(file: &Object, built: Result<Option<Object>, BuildError>) -> State {
    match built {
        Ok(Some(ready)) => State::Ready(ready),
        Ok(None) => State::Skipped,
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

/// The derivative's path: a hash of the source path, then the source's version.
fn path_for(dir: &Path, file: &Object) -> PathBuf {
    dir.join(format!("{}-{}.tif", stem(file), file.version()))
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
    let found = Object::at(path).ok()?;
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
