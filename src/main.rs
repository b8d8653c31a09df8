//! The `tessera` command line: it parses arguments and calls the library.

use clap::{Args, Parser, Subcommand};

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use tessera::access::{Access, Caller};
use tessera::config::{Config, LogFormat, ValidConfig};
use tessera::policy::{Policy, Unlisted};
use tessera::storage::Storage;

/// Tessera: a IIIF Image API 2.1 server for museum images.
#[derive(Parser)]
#[command(
    name = "tessera",
    version,
    about,
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// With no subcommand, `tessera` runs `serve` with these flags.
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the IIIF Image API over HTTP (the default).
    Serve(ServeArgs),
    /// Make thumbnails of a folder of images (walked recursively) or of one image.
    Thumbnails(ThumbnailArgs),
    /// Cut a static IIIF level 0 tree (info.json and every tile) for each image.
    Tiles(TileArgs),
}

#[derive(Args)]
struct TileArgs {
    /// An image file, or a folder of them (each becomes OUT/<file name without extension>/),
    /// or `s3://BUCKET/PREFIX` (every image under it becomes OUT/<key without extension,
    /// percent-encoded>/; reached as `serve` reaches it).
    src: PathBuf,
    /// The output folder, or `s3://BUCKET/PREFIX`.
    out: PathBuf,
    /// Make only part K of N of the images (as for `thumbnails`).
    #[arg(long, value_name = "K/N", default_value = "1/1")]
    shard: tessera::batch::Shard,
    /// Tile width and height.
    #[arg(long, default_value_t = 256)]
    tile: u32,
    /// The URL the tree will be served from: info.json's @id is BASE_URL/<id>.
    #[arg(long, value_name = "URL", default_value = "http://localhost:8000")]
    base_url: String,
    /// Tile format.
    #[arg(long, default_value = "jpg")]
    format: String,
    /// The Image API version of the tree: 2 (2.1) or 3 (3.0: 3.0 info.json, files spelled
    /// `w,h` and `max` as 3.0 viewers ask for them).
    #[arg(long, default_value = "2", value_parser = parse_api)]
    api: tessera::iiif::Version,
    /// JPEG quality, 1-100 [default: the server's, 90].
    #[arg(long)]
    quality: Option<u8>,
    /// Object records (JSON): images that the access policy restricts or limits in size are
    /// left out, since a static tree is public.
    #[arg(long, value_name = "DIR")]
    records: Option<PathBuf>,
    /// With --records: the images folder the records' identifiers name (SRC must be in it)
    /// [default: the config's `images`, ./sample-images].
    #[arg(long, value_name = "DIR")]
    images: Option<PathBuf>,
    /// With --records: export restricted and limited images too.
    #[arg(long, requires = "records")]
    include_restricted: bool,
    /// A TOML file as for `serve`: its limits, quality and access settings apply.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

/// Parses `--api`: 2, 2.1, 3 or 3.0.
fn parse_api(s: &str) -> Result<tessera::iiif::Version, String> {
    tessera::iiif::Version::parse(s).ok_or_else(|| format!("--api must be 2 or 3, not {s:?}"))
}

/// The validated configuration of a batch command: `--config FILE`, or the defaults.
fn batch_config(path: Option<&std::path::Path>) -> Result<ValidConfig, Box<dyn std::error::Error>> {
    let c = match path {
        Some(path) => Config::from_file(path)?,
        None => Config::default(),
    };
    Ok(c.validate()?)
}

/// The access policy of a batch command over `images`, from `records`.
fn batch_policy(records: &std::path::Path, images: Storage, unlisted: Unlisted) -> Policy {
    let keep_public = unlisted == Unlisted::Restricted;
    let (store, report) = tessera::presentation::Store::load_with(records, keep_public);
    for (path, why) in &report.skipped {
        eprintln!("record skipped: {}: {why}", path.display());
    }
    for (path, why) in &report.warnings {
        eprintln!("record: {}: {why}", path.display());
    }
    Policy::new(Arc::new(store), images, unlisted)
}

impl TileArgs {
    fn run(self) -> Result<bool, Box<dyn std::error::Error>> {
        let defaults = batch_config(self.config.as_deref())?;
        let req = tessera::iiif::ImageRequest::parse(
            "full",
            "max",
            "0",
            &format!("default.{}", self.format),
        )
        .map_err(|e| format!("--format {}: {e}", self.format))?;
        let quality = self.quality.unwrap_or(defaults.jpeg_quality);
        if !(1..=100).contains(&quality) || !(16..=4096).contains(&self.tile) {
            return Err("--quality must be 1-100 and --tile 16-4096".into());
        }
        // The tree is public: every source is decided by the server's policy, as an
        // anonymous caller would get it, on the file it is (not on its name in SRC).
        let caller = if self.include_restricted {
            Caller::Privileged
        } else {
            Caller::Anonymous
        };
        let opts = tessera::export::TileOptions {
            tile: self.tile,
            base_url: self.base_url.clone(),
            format: req.format,
            quality,
            limits: defaults.limits(),
            decode: defaults.decode_limits(),
            cache_mb: defaults.cache_decoded_mb,
            derivative_min_pixels: defaults.derivative_min_pixels,
            caller,
            version: self.api,
        };
        let outputs = tessera::outputs::Outputs::open(&self.out, defaults.s3_settings())?;
        outputs.check_apart(&self.src)?;
        let (policy, mut sources) = if self.src.to_str().is_some_and(|s| s.starts_with("s3://")) {
            self.bucket_sources(&defaults)?
        } else {
            self.folder_sources(&defaults)?
        };
        sources.retain(|s| self.shard.takes(&s.id));
        let (service, _scratch) = tessera::export::service(Arc::new(policy), &opts)?;
        let started = std::time::Instant::now();
        let (mut failed, mut restricted) = (0, 0);
        for s in &sources {
            // A source that vanished since the listing is reported and skipped, like any
            // other bad input; the run goes on.
            let found = s.key.clone().and_then(|key| {
                let file = service.storage().resolve(&key).map_err(|e| e.to_string())?;
                Ok((key, file))
            });
            let (key, file) = match found {
                Ok(found) => found,
                Err(e) => {
                    failed += 1;
                    eprintln!("failed: {}: {e}", s.shown);
                    continue;
                }
            };
            let id = &s.id;
            let rule = service.policy().decide(caller, &file);
            if rule != Access::Public {
                restricted += 1;
                eprintln!("left out: {id}: {rule:?} by the access policy (the tree is public)");
                continue;
            }
            match tessera::export::export(&service, &key, id, &outputs, &opts) {
                Ok(n) => eprintln!("{id}: {n} files"),
                Err(e) => {
                    failed += 1;
                    eprintln!("failed: {}: {e}", s.shown);
                }
            }
        }
        eprintln!(
            "{} images, {restricted} left out (restricted), {failed} failed, in {:.2} s",
            sources.len(),
            started.elapsed().as_secs_f64()
        );
        Ok(failed == 0)
    }

    /// The policy and the images of a folder (or file) SRC: its image files, each named by
    /// its file name without the extension; with --records, decided by those records over
    /// the images folder SRC must be in.
    fn folder_sources(
        &self,
        defaults: &ValidConfig,
    ) -> Result<(Policy, Vec<TileSource>), Box<dyn std::error::Error>> {
        let (policy, root) = match &self.records {
            Some(records) => {
                let images = self.images.as_deref().unwrap_or(&defaults.images);
                let root = images
                    .canonicalize()
                    .map_err(|e| format!("images folder {}: {e}", images.display()))?;
                let policy =
                    batch_policy(records, Storage::files(&root)?, defaults.unlisted_images);
                let src = self.src.canonicalize()?;
                if !src.starts_with(&root) {
                    return Err(format!(
                        "{} is not inside the images folder {} that the records name \
                         (set --images)",
                        self.src.display(),
                        root.display()
                    )
                    .into());
                }
                (policy, root)
            }
            None => {
                let root = tessera::batch::folder_root(&self.src).canonicalize()?;
                let storage = Storage::files(&root)?;
                (
                    Policy::new(Default::default(), storage, Unlisted::Public),
                    root,
                )
            }
        };
        let sources = tessera::export::sources(&self.src)
            .map_err(|e| format!("{}: {e}", self.src.display()))?
            .into_iter()
            .map(|(path, id)| TileSource {
                shown: path.display().to_string(),
                key: path
                    .canonicalize()
                    .map_err(|e| e.to_string())
                    .and_then(|c| {
                        let key = c.strip_prefix(&root).map_err(|e| e.to_string())?;
                        Ok(key.to_str().ok_or("the path is not UTF-8")?.to_string())
                    }),
                id,
            })
            .collect();
        Ok((policy, sources))
    }

    /// The policy and the images of an `s3://BUCKET/PREFIX` SRC: every image under the
    /// prefix, each named by its key without the extension (`a/b.tif` is `a/b`, whose tree
    /// is `a%2Fb/`); with --records, decided by those records, whose identifiers name keys
    /// under the prefix.
    fn bucket_sources(
        &self,
        defaults: &ValidConfig,
    ) -> Result<(Policy, Vec<TileSource>), Box<dyn std::error::Error>> {
        if self.images.is_some() {
            return Err(
                "--images is for a folder SRC: the records name keys under an s3:// SRC".into(),
            );
        }
        let (storage, keys) = tessera::batch::sources(&self.src, defaults.s3_settings())?;
        let policy = match &self.records {
            Some(records) => batch_policy(records, storage, defaults.unlisted_images),
            None => Policy::new(Default::default(), storage, Unlisted::Public),
        };
        let src = self.src.display().to_string();
        let sources = keys
            .into_iter()
            .map(|key| TileSource {
                shown: format!("{}/{key}", src.trim_end_matches('/')),
                id: std::path::Path::new(&key)
                    .with_extension("")
                    .to_string_lossy()
                    .into_owned(),
                key: Ok(key),
            })
            .collect();
        Ok((policy, sources))
    }
}

/// One image of a `tessera tiles` run.
struct TileSource {
    /// How it is named in messages.
    shown: String,
    /// Its key in the images store (or why it has none).
    key: Result<String, String>,
    /// Its identifier: the name of its tree.
    id: String,
}

#[derive(Args)]
struct ThumbnailArgs {
    /// A folder of images, one image file, or `s3://BUCKET/PREFIX` (reached as `serve`
    /// reaches it: the AWS_* variables, or the s3_* keys of --config).
    src: PathBuf,
    /// The output folder, or `s3://BUCKET/PREFIX`; it mirrors the source tree.
    out: PathBuf,
    /// Make only part K of N of the images (`--shard 1/2` on one machine, `2/2` on another):
    /// each image goes to one shard, by a hash of its identifier.
    #[arg(long, value_name = "K/N", default_value = "1/1")]
    shard: tessera::batch::Shard,
    /// A IIIF size expression: `!w,h`, `w,`, `,h`, `pct:n`, `w,h`, `max`.
    #[arg(long, default_value = "!200,200")]
    size: String,
    /// Output format: jpg, png or webp (any IIIF format Tessera serves).
    #[arg(long, default_value = "jpg")]
    format: String,
    /// JPEG quality, 1-100.
    #[arg(long, default_value_t = 85)]
    quality: u8,
    /// Images made at once [default: one per core].
    #[arg(long, default_value_t = 0)]
    jobs: usize,
    /// Remake thumbnails that are newer than their sources.
    #[arg(long)]
    force: bool,
    /// Print the summary as JSON on stdout.
    #[arg(long)]
    json: bool,
    /// Make the thumbnail of every image of the object records in DIR instead, found in SRC
    /// (the images folder) and named OUT/<image identifier>.<format>.
    #[arg(long, value_name = "DIR")]
    records: Option<PathBuf>,
    /// With --records: include restricted images, and limited ones at any size.
    #[arg(long, requires = "records")]
    include_restricted: bool,
    /// Also write each image's colours (Harvard's `colors` list), from the pixels of its
    /// thumbnail, to FILE as JSON lines in the order images finish; appended to, unless
    /// --force.
    #[arg(long, value_name = "FILE")]
    colors: Option<PathBuf>,
    /// A TOML file as for `serve`: its output and decode limits and access settings apply.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

impl ThumbnailArgs {
    fn run(self) -> Result<bool, Box<dyn std::error::Error>> {
        let defaults = batch_config(self.config.as_deref())?;
        // The size and format are checked once, before any file is read.
        let req = tessera::iiif::ImageRequest::parse(
            "full",
            &self.size,
            "0",
            &format!("default.{}", self.format),
        )
        .map_err(|e| format!("--size {} / --format {}: {e}", self.size, self.format))?;
        if !(1..=100).contains(&self.quality) {
            return Err("--quality must be between 1 and 100".into());
        }
        let opts = tessera::batch::ThumbnailOptions {
            request: req,
            quality: self.quality,
            jobs: self.jobs,
            force: self.force,
            limits: defaults.limits(),
            decode: defaults.decode_limits(),
            caller: if self.include_restricted {
                Caller::Privileged
            } else {
                Caller::Anonymous
            },
        };
        let (mut jobs, mut failed, service) = match &self.records {
            Some(records) => {
                let images = Storage::open(&self.src, defaults.s3_settings())?;
                let (jobs, failed, policy) = tessera::batch::record_jobs(
                    records,
                    images,
                    req.format,
                    defaults.unlisted_images,
                );
                (jobs, failed, tessera::batch::service(policy, &opts))
            }
            None => {
                let (images, keys) = tessera::batch::sources(&self.src, defaults.s3_settings())?;
                let jobs = tessera::batch::plan_outputs(&self.src, keys, req.format);
                let open = Policy::new(Default::default(), images, Unlisted::Public);
                let service = tessera::batch::service(Arc::new(open), &opts);
                (jobs, Vec::new(), service)
            }
        };
        jobs.retain(|job| self.shard.takes(&job.identifier));
        let outputs = tessera::outputs::Outputs::open(&self.out, defaults.s3_settings())?;
        outputs.check_apart(&self.src)?;
        let colors = match &self.colors {
            Some(path) => Some(
                tessera::batch::ColorsOut::open(path, self.force, |bad| {
                    eprintln!("{}: {bad}; skipped", path.display());
                })
                .map_err(|e| tessera::report::chain(&e))?,
            ),
            None => None,
        };
        // A bar on a terminal; otherwise a line per 5%.
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new(jobs.len() as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:40} {pos}/{len} images, {per_sec}, ETA {eta}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar
        });
        let step = (jobs.len() / 20).max(1);
        let progress = |done: usize, total: usize| match &bar {
            Some(bar) => bar.set_position(done as u64),
            None if done % step == 0 || done == total => {
                eprintln!("{done}/{total} ({}%)", done * 100 / total.max(1));
            }
            None => {}
        };
        let mut summary = tessera::batch::thumbnails(
            &jobs,
            &opts,
            &service,
            &outputs,
            colors.as_ref(),
            &progress,
        );
        if let Some(bar) = bar {
            bar.finish();
        }
        failed.append(&mut summary.failed);
        summary.failed = failed;
        for f in &summary.failed {
            eprintln!("failed: {}: {}", f.path.display(), f.reason);
        }
        if self.json {
            println!("{}", serde_json::to_string_pretty(&summary)?);
        }
        let colored = match &self.colors {
            Some(path) => format!(", {} colour lines to {}", summary.colors, path.display()),
            None => String::new(),
        };
        eprintln!(
            "made {}, skipped {} (up to date), restricted {}, failed {}{colored}, in {:.2} s",
            summary.made,
            summary.skipped,
            summary.restricted,
            summary.failed.len(),
            summary.seconds
        );
        Ok(summary.failed.is_empty())
    }
}

#[derive(Args, Default)]
struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long)]
    bind: Option<SocketAddr>,
    /// Folder of source images, or s3://BUCKET/PREFIX (credentials, region and endpoint from
    /// the AWS_* environment variables) [default: ./sample-images].
    #[arg(long, value_name = "DIR")]
    images: Option<PathBuf>,
    /// URL path prefix of the Image API [default: iiif].
    #[arg(long)]
    prefix: Option<String>,
    /// Scheme, host and path for `@id` and Link headers, e.g. https://images.example.org/iiif.
    /// Without it they come from Host, or from Forwarded / X-Forwarded-Proto / X-Forwarded-Host
    /// when the peer is one of the config file's trusted_proxies.
    #[arg(long, value_name = "URL")]
    public_base: Option<String>,
    /// Folder of object records (JSON) served as IIIF manifests [default: ./manifests].
    /// Repeat it for several folders; each may add `,name=NAME` (the namespace of its
    /// object ids), `,shape=SHAPE` (instead of detecting each file's) and
    /// `,identifiers=stem|name|path`.
    #[arg(long, value_name = "DIR[,name=N][,shape=S]", value_parser = tessera::presentation::RecordsFolder::parse)]
    records: Vec<tessera::presentation::RecordsFolder>,
    /// A TOML file with the same keys (and more, see the README). Flags override it.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Log lines as `text` or `json` (one object per line) [default: text].
    #[arg(long, value_name = "FORMAT", value_parser = parse_log_format)]
    log_format: Option<LogFormat>,
}

fn parse_log_format(name: &str) -> Result<LogFormat, String> {
    LogFormat::parse(name).ok_or_else(|| format!("{name:?}: use text or json"))
}

impl ServeArgs {
    fn into_config(self) -> Result<ValidConfig, Box<dyn std::error::Error>> {
        let mut c = match &self.config {
            Some(path) => Config::from_file(path)?,
            None => Config::default(),
        };
        if let Some(v) = self.bind {
            c.bind = v;
        }
        if let Some(v) = self.images {
            c.images = v;
        }
        if let Some(v) = self.prefix {
            c.prefix = v;
        }
        if !self.records.is_empty() {
            c.records = self.records;
        }
        if let Some(v) = self.public_base {
            c.public_base = Some(v);
        }
        if let Some(v) = self.log_format {
            c.log_format = v;
        }
        Ok(c.validate()?)
    }
}

/// Starts the log: to stderr, filtered by `RUST_LOG` (default: Tessera's info lines, which
/// include the access log), as text or one JSON object per line. Lines are written in batches
/// by a thread of their own ([`tessera::logbuf`]), so that a request never waits for stderr;
/// none is dropped. Keep the guard: dropping it writes what is left.
fn start_log(format: LogFormat) -> tessera::logbuf::Guard {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "tessera=info,tower_http=warn".into());
    let (writer, guard) = tessera::logbuf::stderr();
    let log = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(move || writer.clone());
    match format {
        LogFormat::Json => log.json().flatten_event(true).init(),
        LogFormat::Text => log.with_ansi(std::io::stderr().is_terminal()).init(),
    }
    guard
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let args = match cli.command {
        Some(Command::Serve(a)) => a,
        Some(Command::Thumbnails(t)) => {
            let _log = start_log(LogFormat::Text);
            return exit(t.run(), "thumbnails");
        }
        Some(Command::Tiles(t)) => {
            let _log = start_log(LogFormat::Text);
            return exit(t.run(), "tiles");
        }
        None => cli.serve,
    };
    let mut log = None;
    let result = args.into_config().and_then(|config| {
        log = Some(start_log(config.log_format));
        let runtime = tokio::runtime::Runtime::new()?;
        runtime.block_on(tessera::http::serve(config))
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tessera: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The exit status of a batch command: 0 when all went well, 1 when some input failed, 2
/// when the command could not run.
fn exit(result: Result<bool, Box<dyn std::error::Error>>, name: &str) -> ExitCode {
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("tessera {name}: {e}");
            ExitCode::from(2)
        }
    }
}
