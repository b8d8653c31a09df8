//! `tessera thumbnails`: thumbnails of a folder of images (or one image) in bulk, through the
//! server's own [`ImageService`] (no response cache, no derivatives), so the pixels and the
//! access decisions are the ones the server would make. Parallel, with one decode in flight
//! per job; resumable; a bad file is reported and skipped.
//!
//! With [`ColorsOut`] (`--colors FILE`), each thumbnail's colours are extracted from the raster
//! the service encoded it from ([`ImageService::rendition`]): the same decode, no second one.
//! Each image's line is added to the file as it finishes, so the lines are in completion
//! order.

use crate::access::Caller;
use crate::cache::Caches;
use crate::colors::lines::{self, BadLine, LinesError};
use crate::colors::Palette;
use crate::derivative::Derivatives;
use crate::iiif::{Dimensions, Format, ImageRequest, Limits};
use crate::outputs::Outputs;
use crate::policy::{Policy, Unlisted};
use crate::service::{Answer, ImageService, Mode, ServiceError, Settings, Target, Want};
use crate::source::DecodeLimits;
use crate::storage::{S3Settings, Storage};
use image::DynamicImage;
use rayon::prelude::*;
use std::collections::HashSet;
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
    /// Its name in the colours file: the record's image identifier, or for a folder the path
    /// relative to it without the extension (as the server would be asked for it).
    pub name: String,
    /// Where its thumbnail goes, relative to the [`Outputs`].
    pub output: String,
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
    /// Colour lines written (with `--colors`).
    pub colors: usize,
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

/// The store a batch command's SRC names, and the keys of the sources in it, sorted:
/// `s3://BUCKET/PREFIX` (every source image under the prefix; `s3` says how to reach it), a
/// folder (every one under it, recursively), or one file (the store is its folder).
pub fn sources(src: &Path, s3: S3Settings) -> Result<(Storage, Vec<String>), String> {
    let at = |e: &dyn std::fmt::Display| format!("{}: {e}", src.display());
    if src.is_file() {
        let root = folder_root(src);
        let root = if root.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            root
        };
        let storage = Storage::files(&root).map_err(|e| at(&e))?;
        let name = src
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or("not UTF-8")?;
        return Ok((storage, vec![name.to_string()]));
    }
    let storage = Storage::open(src, s3)?;
    let keys = storage.list().map_err(|e| at(&crate::report::chain(&e)))?;
    Ok((storage, keys))
}

/// The jobs for the source `keys` of the store at `src`, each with its output: the key
/// without its extension, plus the format's extension.
pub fn plan_outputs(src: &Path, keys: Vec<String>, format: Format) -> Vec<Job> {
    let base = if src.is_file() {
        src.parent().unwrap_or(Path::new(""))
    } else {
        src
    };
    keys.into_iter()
        .map(|key| {
            let rel = Path::new(&key);
            Job {
                output: rel
                    .with_extension(format.extension())
                    .to_string_lossy()
                    .into_owned(),
                name: rel.with_extension("").to_string_lossy().into_owned(),
                source: base.join(rel),
                identifier: key,
            }
        })
        .collect()
}

/// The folder that the identifiers of a folder or file SRC are relative to.
pub fn folder_root(src: &Path) -> PathBuf {
    if src.is_file() {
        src.parent().unwrap_or(Path::new(".")).to_path_buf()
    } else {
        src.to_path_buf()
    }
}

/// One machine's part of a batch job split among N (`--shard K/N`): the images whose
/// identifier hashes (xxh3) to K-1 modulo N. It depends on nothing but the identifier, so N
/// machines that list the same sources make every output once, and a source added between
/// their listings goes to exactly one of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// K, from 1.
    pub index: u64,
    /// N.
    pub count: u64,
}

impl Shard {
    /// The whole job.
    pub const ALL: Shard = Shard { index: 1, count: 1 };

    /// Whether this shard makes the image `identifier`.
    pub fn takes(self, identifier: &str) -> bool {
        xxhash_rust::xxh3::xxh3_64(identifier.as_bytes()) % self.count == self.index - 1
    }
}

impl std::str::FromStr for Shard {
    type Err = String;

    /// `K/N`, with 1 ≤ K ≤ N.
    fn from_str(s: &str) -> Result<Shard, String> {
        let bad = || format!("{s:?} is not K/N with 1 <= K <= N (say 1/2 and 2/2)");
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count) = (k.parse().map_err(|_| bad())?, n.parse().map_err(|_| bad())?);
        if index == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

/// The jobs for every image of every object record in `records`, found in the images folder
/// `images` and named `<identifier>.<format>` (the identifier percent-encoded as in a
/// URL), with the access policy of those records over that folder. What each caller may have
/// of each image is decided when it is made, by the service, on the file it resolves to.
/// Identifiers with no image file, and records that cannot be read, are failures.
pub fn record_jobs(
    records: &Path,
    images: Storage,
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
                    output: format!(
                        "{}.{}",
                        crate::iiif::path::encode_identifier(&id),
                        format.extension()
                    ),
                    name: id.clone(),
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
        // Batch work never rotates.
        background: crate::pipeline::Background::default(),
        response_cache: false,
    };
    ImageService::new(settings, Caches::new(0, 0), Derivatives::disabled(), policy)
}

/// Where `--colors` puts each image's colours: a [`lines`] file, with the names that already
/// had a line when it was opened.
#[derive(Debug)]
pub struct ColorsOut {
    writer: lines::Writer,
    /// Names with a line from an earlier run: an up-to-date thumbnail with one is skipped.
    done: HashSet<String>,
    palette: Palette,
}

impl ColorsOut {
    /// The colours file at `path`: made afresh when `fresh` (`--force`), else appended to,
    /// after reading which names it has (each bad line is given to `bad` and skipped), so
    /// that an image whose thumbnail is up to date is made again only when it has no line.
    pub fn open(
        path: &Path,
        fresh: bool,
        bad: impl FnMut(BadLine),
    ) -> Result<ColorsOut, LinesError> {
        if fresh {
            return Ok(ColorsOut::over(
                lines::Writer::create(path)?,
                HashSet::new(),
            ));
        }
        let done = match std::fs::File::open(path) {
            Ok(file) => lines::read_colors(std::io::BufReader::new(file), bad)
                .map_err(|source| LinesError {
                    path: path.to_path_buf(),
                    source,
                })?
                .into_keys()
                .collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => HashSet::new(),
            Err(source) => {
                return Err(LinesError {
                    path: path.to_path_buf(),
                    source,
                })
            }
        };
        Ok(ColorsOut::over(lines::Writer::append(path)?, done))
    }

    fn over(writer: lines::Writer, done: HashSet<String>) -> ColorsOut {
        ColorsOut {
            writer,
            done,
            palette: Palette::default(),
        }
    }

    /// Extracts the colours of a thumbnail's raster (sampled down to 256 px when larger) and
    /// writes its line.
    fn add(&self, name: &str, raster: &DynamicImage, source: Dimensions) -> Result<(), String> {
        let line = lines::Line {
            identifier: name.to_string(),
            width: Some(source.width),
            height: Some(source.height),
            colors: crate::colors::extract_reduced(raster, &self.palette),
        };
        self.writer
            .write(&line)
            .map_err(|e| crate::report::chain(&e))
    }
}

/// Makes the thumbnails of `jobs` into `outputs`, and with `colors` their colours.
/// `progress(done, total)` is called after each one.
pub fn thumbnails(
    jobs: &[Job],
    opts: &ThumbnailOptions,
    service: &ImageService,
    outputs: &Outputs,
    colors: Option<&ColorsOut>,
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
                let r = one(job, opts, service, outputs, colors);
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
            Ok(Outcome::Made { colored }) => {
                summary.made += 1;
                summary.colors += usize::from(colored);
            }
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
    Made {
        /// Whether its colours line was written.
        colored: bool,
    },
    UpToDate,
    Restricted,
}

/// Makes one thumbnail, through the service, and with `colors` its colours line (written
/// after the thumbnail, so a line always has its thumbnail).
fn one(
    job: &Job,
    opts: &ThumbnailOptions,
    service: &ImageService,
    outputs: &Outputs,
    colors: Option<&ColorsOut>,
) -> Result<Outcome, String> {
    if !opts.force && colors.is_none_or(|c| c.done.contains(&job.name)) {
        // The source's version as the store has it now (a file's mtime, an object's
        // Last-Modified).
        if let Some(made) = outputs.written(&job.output) {
            let source = service.storage().resolve(&job.identifier);
            if source.is_ok_and(|s| made >= s.stored()) {
                return Ok(Outcome::UpToDate);
            }
        }
    }
    let target = Target {
        asked: &job.identifier,
        caller: opts.caller,
    };
    let want = Want::Image(opts.request);
    let never = |_: &str| false;
    let made = match colors {
        None => service
            .image(target, &want, &never, Mode::Compute)
            .map(|answer| match answer {
                Some(Answer::Image(image)) => Some((image.bytes, None)),
                _ => None,
            }),
        // The same render, with the raster it encoded.
        Some(_) => service
            .rendition(target, &want)
            .map(|r| Some((r.image.bytes, Some((r.raster, r.source))))),
    };
    let (bytes, pixels) = match made {
        Ok(Some(made)) => made,
        Ok(None) => return Err("the image service made nothing".into()),
        Err(ServiceError::Restricted(_)) => return Ok(Outcome::Restricted),
        Err(e) => return Err(crate::report::chain(&e)),
    };
    outputs.write(&job.output, &bytes)?;
    if let (Some(colors), Some((raster, source))) = (colors, pixels) {
        colors.add(&job.name, &raster, source)?;
        return Ok(Outcome::Made { colored: true });
    }
    Ok(Outcome::Made { colored: false })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_split_the_images_once_and_evenly() {
        let ids: Vec<String> = (0..3000).map(|i| format!("img/{i}.jpg")).collect();
        for n in [1u64, 2, 3, 7] {
            let shards: Vec<Shard> = (1..=n)
                .map(|k| format!("{k}/{n}").parse().unwrap())
                .collect();
            let mut counts = vec![0usize; n as usize];
            for id in &ids {
                let takers: Vec<usize> =
                    (0..shards.len()).filter(|&k| shards[k].takes(id)).collect();
                assert_eq!(takers.len(), 1, "{id} in {n} shards: {takers:?}");
                counts[takers[0]] += 1;
            }
            let even = ids.len() / n as usize;
            for c in counts {
                assert!(
                    c.abs_diff(even) < even / 10 + 10,
                    "{n} shards: {c} of {even}"
                );
            }
        }
        assert_eq!("1/1".parse::<Shard>(), Ok(Shard::ALL));
        for bad in ["0/2", "3/2", "1/0", "2", "a/b", "1/2/3", "-1/2", ""] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }

    #[test]
    fn a_folder_is_listed_recursively_and_a_file_alone() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("sub")).unwrap();
        for f in ["a.jpg", "sub/b.png", "notes.txt", "sub/c.TIF"] {
            std::fs::write(d.path().join(f), b"x").unwrap();
        }
        let (_, keys) = sources(d.path(), S3Settings::default()).unwrap();
        assert_eq!(keys, ["a.jpg", "sub/b.png", "sub/c.TIF"]);
        let jobs = plan_outputs(d.path(), keys, Format::Jpg);
        let outs: Vec<_> = jobs.iter().map(|j| j.output.clone()).collect();
        assert_eq!(outs, ["a.jpg", "sub/b.jpg", "sub/c.jpg"]);
        assert_eq!(jobs[1].name, "sub/b");
        let one = d.path().join("sub/b.png");
        let (storage, keys) = sources(&one, S3Settings::default()).unwrap();
        assert_eq!(keys, ["b.png"]);
        assert!(storage.resolve("b.png").is_ok());
        assert!(sources(&d.path().join("missing"), S3Settings::default()).is_err());
    }
}
