//! `tessera thumbnails`: thumbnails of a folder of images (or one image) in bulk, through the
//! server's own [`ImageService`] (no response cache, no derivatives), so the pixels and the
//! access decisions are the ones the server would make. Parallel, with one decode in flight
//! per job; resumable; a bad file is reported and skipped.

use crate::access::Caller;
use crate::cache::Caches;
use crate::derivative::Derivatives;
use crate::iiif::{Format, ImageRequest, Limits};
use crate::policy::{Policy, Unlisted};
use crate::service::{Answer, ImageService, Mode, ServiceError, Settings, Target, Want};
use crate::source::DecodeLimits;
use crate::storage::Storage;
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// What to make.
#[derive(Debug, Clone)]
pub struct ThumbnailOptions {
    /// The request made of every image: `full`, the size asked for, no rotation, the default
    /// quality and the output format (parsed once, by the caller).
    pub request: ImageRequest,
    /// JPEG quality, 1–100.
    pub quality: u8,
    /// Images made at once (0 = one per core).
    pub jobs: usize,
    /// Remake outputs that are newer than their sources.
    pub force: bool,
    /// The output limits (the server's defaults unless changed).
    pub limits: Limits,
    /// The limits of one decode.
    pub decode: DecodeLimits,
    /// Who the thumbnails are for: `Anonymous` (restricted images left out, limited ones
    /// capped), or `Privileged` with `--include-restricted`.
    pub caller: Caller,
}

/// One thumbnail to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// The source image.
    pub source: PathBuf,
    /// Its identifier in the service's images folder.
    pub identifier: String,
    /// Where its thumbnail goes.
    pub output: PathBuf,
}

/// What a run did.
#[derive(Debug, Default, serde::Serialize)]
pub struct Summary {
    /// Thumbnails written.
    pub made: usize,
    /// Sources skipped because their thumbnail is newer.
    pub skipped: usize,
    /// Record images left out because they are restricted.
    pub restricted: usize,
    /// Sources that failed, with the reason.
    pub failed: Vec<Failure>,
    /// Wall time in seconds.
    pub seconds: f64,
}

/// One source that could not be made into a thumbnail.
#[derive(Debug, serde::Serialize)]
pub struct Failure {
    /// The source file.
    pub path: PathBuf,
    /// Why.
    pub reason: String,
}

/// The source images under `src` (a folder, walked recursively, or one file), sorted, each
/// with its output path under `out`: the relative path without its extension, plus the
/// format's extension. Their identifiers are relative to [`folder_root`]`(src)`.
pub fn plan_outputs(src: &Path, out: &Path, format: Format) -> std::io::Result<Vec<Job>> {
    let mut files = Vec::new();
    if src.is_file() {
        files.push(src.to_path_buf());
    } else {
        walk(src, &mut files)?;
    }
    files.sort();
    let base = if src.is_file() {
        src.parent().unwrap_or(Path::new(""))
    } else {
        src
    };
    Ok(files
        .into_iter()
        .filter_map(|f| {
            let rel = f.strip_prefix(base).unwrap_or(&f);
            let identifier = rel.to_str()?.to_string();
            Some(Job {
                output: out.join(rel.with_extension(format.extension())),
                identifier,
                source: f,
            })
        })
        .collect())
}

/// The folder that the identifiers of [`plan_outputs`] are relative to.
pub fn folder_root(src: &Path) -> PathBuf {
    if src.is_file() {
        src.parent().unwrap_or(Path::new(".")).to_path_buf()
    } else {
        src.to_path_buf()
    }
}

/// The jobs for every image of every object record in `records`, found in the images folder
/// `images` and named `out/<identifier>.<format>` (the identifier percent-encoded as in a
/// URL), with the access policy of those records over that folder. What each caller may have
/// of each image is decided when it is made, by the service, on the file it resolves to.
/// Identifiers with no image file, and records that cannot be read, are failures.
pub fn record_jobs(
    records: &Path,
    images: Storage,
    out: &Path,
    format: Format,
    unlisted: Unlisted,
) -> (Vec<Job>, Vec<Failure>, Arc<Policy>) {
    let (store, report) =
        crate::presentation::Store::load_with(records, unlisted == Unlisted::Restricted);
    let mut failed: Vec<Failure> = report
        .skipped
        .into_iter()
        .map(|(path, reason)| Failure { path, reason })
        .collect();
    for (path, why) in &report.warnings {
        tracing::warn!(file = %path.display(), "record: {why}");
    }
    let store = Arc::new(store);
    let policy = Arc::new(Policy::new(store.clone(), images, unlisted));
    let mut jobs = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for key in store.objects() {
        let shown = store.key_text(key);
        let record = match store.object(key) {
            Some(Ok(r)) => r,
            Some(Err(reason)) => {
                failed.push(Failure {
                    path: records.join(&shown),
                    reason,
                });
                continue;
            }
            None => continue,
        };
        for image in record.images {
            let Some(id) = image.identifier else {
                continue;
            };
            if !seen.insert(id.clone()) {
                continue;
            }
            match policy.storage().resolve(&id) {
                Ok(file) => jobs.push(Job {
                    source: file.path,
                    output: out.join(format!(
                        "{}.{}",
                        crate::iiif::path::encode_identifier(&id),
                        format.extension()
                    )),
                    identifier: id,
                }),
                Err(e) => failed.push(Failure {
                    path: PathBuf::from(&id),
                    reason: format!("object {shown}: {e}"),
                }),
            }
        }
    }
    (jobs, failed, policy)
}

/// The service batch work goes through: the server's, over `policy`'s storage, without a
/// response cache, a decoded cache or derivative pyramids (each job holds at most one
/// decode, and lets go of it when done).
pub fn service(policy: Arc<Policy>, opts: &ThumbnailOptions) -> ImageService {
    let settings = Settings {
        limits: opts.limits,
        tile_size: 256,
        decode: opts.decode,
        jpeg_quality: opts.quality,
        response_cache: false,
    };
    ImageService::new(settings, Caches::new(0, 0), Derivatives::disabled(), policy)
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let kind = entry.file_type()?;
        if kind.is_dir() {
            walk(&path, files)?;
        } else if kind.is_file() && crate::storage::is_source_file(&path) {
            files.push(path);
        }
    }
    Ok(())
}

/// Makes the thumbnails of `jobs` (source, output) pairs. `progress(done, total)` is called
/// after each one.
pub fn thumbnails(
    jobs: &[Job],
    opts: &ThumbnailOptions,
    service: &ImageService,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Summary {
    let started = Instant::now();
    // `jobs` threads, each holding at most one decode.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.jobs)
        .build();
    let done = AtomicUsize::new(0);
    let work = || {
        jobs.par_iter()
            .map(|job| {
                let r = one(job, opts, service);
                progress(done.fetch_add(1, Ordering::Relaxed) + 1, jobs.len());
                r
            })
            .collect::<Vec<_>>()
    };
    let results = match &pool {
        Ok(pool) => pool.install(work),
        Err(_) => work(),
    };
    let mut summary = Summary::default();
    for (job, r) in jobs.iter().zip(results) {
        match r {
            Ok(Outcome::Made) => summary.made += 1,
            Ok(Outcome::UpToDate) => summary.skipped += 1,
            Ok(Outcome::Restricted) => summary.restricted += 1,
            Err(reason) => summary.failed.push(Failure {
                path: job.source.clone(),
                reason,
            }),
        }
    }
    summary.seconds = started.elapsed().as_secs_f64();
    summary
}

/// What became of one job.
enum Outcome {
    Made,
    UpToDate,
    Restricted,
}

/// Makes one thumbnail, through the service.
fn one(job: &Job, opts: &ThumbnailOptions, service: &ImageService) -> Result<Outcome, String> {
    let (src, dst) = (job.source.as_path(), job.output.as_path());
    if !opts.force {
        let source = std::fs::metadata(src).and_then(|m| m.modified());
        let made = std::fs::metadata(dst).and_then(|m| m.modified());
        if let (Ok(source), Ok(made)) = (source, made) {
            if made >= source {
                return Ok(Outcome::UpToDate);
            }
        }
    }
    let target = Target {
        asked: &job.identifier,
        caller: opts.caller,
    };
    let never = |_: &str| false;
    let bytes = match service.image(target, &Want::Image(opts.request), &never, Mode::Compute) {
        Ok(Some(Answer::Image(image))) => image.bytes,
        Ok(_) => return Err("the image service made nothing".into()),
        Err(ServiceError::Restricted(_)) => return Ok(Outcome::Restricted),
        Err(e) => return Err(crate::report::chain(&e)),
    };
    if let Some(parent) = dst.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    }
    // Written beside the target and renamed, so an interrupted run never leaves a partial
    // file that looks newer than its source.
    let tmp = dst.with_extension(format!("{}.part", opts.request.format.extension()));
    std::fs::write(&tmp, &bytes).map_err(|e| format!("{}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, dst).map_err(|e| format!("{}: {e}", dst.display()))?;
    Ok(Outcome::Made)
}
