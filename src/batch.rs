//! `tessera thumbnails`: thumbnails of a folder of images (or one image) in bulk, through the
//! server's own render path, so the pixels are the ones the server would send. Parallel, with
//! one decode in flight per job; resumable; a bad file is reported and skipped.

use crate::cache::Caches;
use crate::derivative::Derivatives;
use crate::iiif::geometry::plan;
use crate::iiif::{Format, ImageRequest, Limits};
use crate::source::{read_dimensions, SourceFile};
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// The file extensions read as sources.
pub const SOURCE_EXTENSIONS: [&str; 7] = ["jpg", "jpeg", "png", "tif", "tiff", "jp2", "j2k"];

/// What to make.
#[derive(Debug, Clone)]
pub struct ThumbnailOptions {
    /// A IIIF size expression (`!w,h`, `w,`, `,h`, `pct:n`, ...).
    pub size: String,
    /// The output format.
    pub format: Format,
    /// JPEG quality, 1–100.
    pub quality: u8,
    /// Images made at once (0 = one per core).
    pub jobs: usize,
    /// Remake outputs that are newer than their sources.
    pub force: bool,
    /// The output limits (the server's defaults unless changed).
    pub limits: Limits,
    /// Sources claiming more pixels than this are refused.
    pub max_source_pixels: u64,
}

/// What a run did.
#[derive(Debug, Default, serde::Serialize)]
pub struct Summary {
    /// Thumbnails written.
    pub made: usize,
    /// Sources skipped because their thumbnail is newer.
    pub skipped: usize,
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
/// format's extension.
pub fn plan_outputs(
    src: &Path,
    out: &Path,
    format: Format,
) -> std::io::Result<Vec<(PathBuf, PathBuf)>> {
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
        .map(|f| {
            let rel = f
                .strip_prefix(base)
                .unwrap_or(&f)
                .with_extension(format.extension());
            let target = out.join(rel);
            (f, target)
        })
        .collect())
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let kind = entry.file_type()?;
        if kind.is_dir() {
            walk(&path, files)?;
        } else if kind.is_file()
            && path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| SOURCE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
        {
            files.push(path);
        }
    }
    Ok(())
}

/// Makes the thumbnails of `jobs` (source, output) pairs. `progress(done, total)` is called
/// after each one.
pub fn thumbnails(
    jobs: &[(PathBuf, PathBuf)],
    opts: &ThumbnailOptions,
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
            .map(|(src, dst)| {
                let r = one(src, dst, opts);
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
    for ((src, _), r) in jobs.iter().zip(results) {
        match r {
            Ok(true) => summary.made += 1,
            Ok(false) => summary.skipped += 1,
            Err(reason) => summary.failed.push(Failure {
                path: src.clone(),
                reason,
            }),
        }
    }
    summary.seconds = started.elapsed().as_secs_f64();
    summary
}

/// Makes one thumbnail; `Ok(false)` when it is already newer than its source.
fn one(src: &Path, dst: &Path, opts: &ThumbnailOptions) -> Result<bool, String> {
    let meta = std::fs::metadata(src).map_err(|e| e.to_string())?;
    let modified = meta.modified().map_err(|e| e.to_string())?;
    if !opts.force {
        if let Ok(t) = std::fs::metadata(dst).and_then(|m| m.modified()) {
            if t >= modified {
                return Ok(false);
            }
        }
    }
    let file = SourceFile {
        path: src.to_path_buf(),
        len: meta.len(),
        modified,
    };
    let dims = read_dimensions(src).map_err(|e| e.to_string())?;
    let req = ImageRequest::parse(
        "full",
        &opts.size,
        "0",
        &format!("default.{}", opts.format.extension()),
    )
    .map_err(|e| e.to_string())?;
    let plan = plan(&req, dims, &opts.limits).map_err(|e| e.to_string())?;
    // No caches: each job holds at most one decode, and lets go of it when done.
    let bytes = crate::render::render(
        &Caches::new(0, 0),
        &Derivatives::disabled(),
        &file,
        dims,
        &plan,
        opts.max_source_pixels,
        opts.quality,
    )
    .map_err(|e| e.to_string())?;
    if let Some(parent) = dst.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    }
    // Written beside the target and renamed, so an interrupted run never leaves a partial
    // file that looks newer than its source.
    let tmp = dst.with_extension(format!("{}.part", opts.format.extension()));
    std::fs::write(&tmp, &bytes).map_err(|e| format!("{}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, dst).map_err(|e| format!("{}: {e}", dst.display()))?;
    Ok(true)
}
