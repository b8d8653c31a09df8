//! The axum adapter: routes, shared state, and the server loop. Handlers only translate
//! between HTTP and the library; they never touch pixels themselves.

pub mod access_log;
pub mod base;
mod colors;
pub mod errors;
mod image;
pub mod json;
pub mod observe;
mod ops;
mod pages;
mod presentation;
mod presentation3;
pub mod query;
mod server;
pub mod warm;

use crate::cache::Caches;
use crate::config::ValidConfig;
use crate::policy::{Policy, Unlisted};
use crate::presentation::Store;
use crate::proxy::IpRange;
use crate::service::ImageService;
use crate::storage::Storage;
use axum::http::{header, Method};
use axum::routing::get;
use axum::Router;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::Semaphore;
use tower_http::cors::{Any, CorsLayer};
use tower_http::trace::TraceLayer;

pub use errors::Error;
pub use server::serve_on;
use server::Peer;

/// Everything a request handler needs, shared by all requests.
pub struct AppState {
    /// The validated configuration.
    pub config: ValidConfig,
    /// The image service: the only way to image bytes and info.json facts.
    pub service: ImageService,
    /// Anonymous image responses ready to send again.
    pub warm: warm::Warm,
    /// The object records.
    pub store: Arc<Store>,
    /// The palette of colours' `spectrum`.
    pub palette: crate::colors::Palette,
    /// Colours from the configured colours file, by identifier.
    pub colors_file: std::collections::HashMap<String, Arc<Vec<crate::colors::Colour>>>,
    /// Objects by the hues of their first image.
    pub hues: crate::presentation::hues::HueIndex,
    /// The pages' stylesheet and script, and where OpenSeadragon comes from.
    pub assets: crate::browse::Assets,
    /// Whether the background colours job has been started.
    colors_started: std::sync::atomic::AtomicBool,
    /// One permit per image job allowed to run at once.
    pub(crate) workers: Arc<Semaphore>,
    /// One permit per image job allowed to run or wait; when empty, new jobs get 503.
    queue: Arc<Semaphore>,
    /// The ranges of `trusted_proxies`: peers whose forwarded headers are believed.
    trusted_proxies: Vec<IpRange>,
    /// The listening address as text: the host of `@id`s when a request names none.
    bind: String,
    /// Request metrics and the access log.
    pub observe: observe::Observe,
    /// What readiness lacks from loading: records folders that could not be read.
    records_missing: Vec<std::path::PathBuf>,
}

impl AppState {
    /// Builds the state over the images folder, loading the object records; fails if the
    /// images folder does not exist. Records that cannot be loaded are logged with their file
    /// name and skipped.
    pub fn new(config: ValidConfig) -> Result<AppState, String> {
        let storage = crate::storage::Storage::open(&config.images, config.s3_settings())?;
        AppState::with_storage(config, storage)
    }

    /// Builds the state over the images in `storage` (the images folder setting is not
    /// used), loading the object records.
    pub fn with_storage(config: ValidConfig, storage: Storage) -> Result<AppState, String> {
        let started = std::time::Instant::now();
        let keep_public = config.unlisted_images == Unlisted::Restricted;
        let (store, report) = Store::load(&config.records, keep_public);
        for (path, why) in &report.skipped {
            tracing::warn!(file = %path.display(), "record skipped: {why}");
        }
        for (path, why) in &report.warnings {
            tracing::warn!(file = %path.display(), "record: {why}");
        }
        let folders: Vec<String> = config
            .records
            .iter()
            .map(|f| f.path.display().to_string())
            .collect();
        tracing::info!(
            records = report.loaded,
            skipped = report.skipped.len(),
            folders = %folders.join(", "),
            "records: {} in {:?}",
            report.summary(),
            started.elapsed()
        );
        let trusted_proxies = config.trusted_proxies().to_vec();
        let store = Arc::new(store);
        let policy = Arc::new(Policy::new(store.clone(), storage, config.unlisted_images));
        let caches = Caches::new(config.cache_decoded_mb, config.cache_encoded_mb)
            .with_jp2_copies_mb(config.cache_jp2_copies_mb);
        // `derivatives = "s3://…"`: pyramids shared in a bucket, built in a local folder.
        let (dir, bucket) = match config
            .derivatives
            .to_str()
            .and_then(crate::storage::BucketLocation::parse)
        {
            // A private folder (0700, a fresh name): what is built there is uploaded for
            // every node, so no other local user may put a file in its place.
            Some(_) => (
                tempfile::Builder::new()
                    .prefix("tessera-derivative-builds-")
                    .tempdir()
                    .map_err(|e| format!("derivative build folder: {e}"))?
                    .keep(),
                Some(Storage::open(&config.derivatives, config.s3_settings())?),
            ),
            None => (config.derivatives.clone(), None),
        };
        let derivatives = crate::derivative::Derivatives::new(
            crate::derivative::Settings {
                dir,
                bucket,
                min_pixels: config.derivative_min_pixels,
                tile: config.tile_size,
                quality: config.jpeg_quality,
                decode: config.decode_limits(),
                parallel: false,
            },
            caches.clone(),
        );
        let settings = crate::service::Settings {
            limits: config.limits(),
            tile_size: config.tile_size,
            decode: config.decode_limits(),
            jpeg_quality: config.jpeg_quality,
            background: config.rotation_background,
            response_cache: config.cache_encoded_mb > 0,
        };
        let palette = if config.palette.is_empty() {
            crate::colors::Palette::default()
        } else {
            crate::colors::Palette::from_hex(&config.palette)
                .map_err(|e| format!("palette: {e}"))?
        };
        let workers = Arc::new(Semaphore::new(config.workers));
        let queue = Arc::new(Semaphore::new(config.workers + config.queue_depth));
        let warm = warm::Warm::new(config.cache_encoded_mb);
        let gauges = observe::Gauges {
            caches: caches.clone(),
            warm: warm.clone(),
            workers: workers.clone(),
            queue: queue.clone(),
            sizes: (config.workers, config.queue_depth),
            storage: policy.storage().clone(),
            records: report
                .by_shape
                .iter()
                .map(|(s, n)| (s.name(), *n as u64))
                .collect(),
        };
        Ok(AppState {
            observe: observe::Observe::new(config.metrics, access_log(&config), gauges),
            records_missing: report.unreadable.clone(),
            service: ImageService::new(settings, caches, derivatives, policy),
            palette,
            colors_file: match &config.colors_file {
                None => Default::default(),
                Some(path) => {
                    let by_id = crate::colors::lines::read_colors_file(path)
                        .map_err(|e| format!("colors_file: {e}"))?;
                    tracing::info!(images = by_id.len(), file = %path.display(), "colours file read");
                    by_id.into_iter().map(|(k, v)| (k, Arc::new(v))).collect()
                }
            },
            hues: Default::default(),
            assets: crate::browse::Assets::load(
                &config.viewer_assets,
                config.viewer_url.as_deref(),
                config.viewer_integrity.as_deref(),
            ),
            colors_started: Default::default(),
            warm,
            store,
            workers,
            queue,
            trusted_proxies,
            bind: config.bind.to_string(),
            config,
        })
    }
}

impl AppState {
    /// The answer to a caller who may not see a restricted resource: 401 or 403, or, with
    /// `restricted_answer = "not_found"`, exactly the 404 of a resource that does not exist.
    pub fn refuse(&self, who: crate::access::Caller, what: &str, not_found: Error) -> Error {
        match self.config.restricted_answer {
            crate::config::RestrictedAnswer::Denied => query::denied(who, what),
            crate::config::RestrictedAnswer::NotFound => not_found,
        }
    }

    /// The public URIs (server root and Image API base) for a request from `peer`; its
    /// forwarded headers count only when it is a trusted proxy (never when unknown).
    pub fn bases(&self, headers: &axum::http::HeaderMap, peer: Option<SocketAddr>) -> base::Bases {
        base::bases(
            self.config.public_base.as_deref(),
            &self.config.prefix,
            headers,
            self.trusts(peer),
            &self.bind,
        )
    }

    /// Whether `peer` is one of the trusted proxies.
    pub fn trusts(&self, peer: Option<SocketAddr>) -> bool {
        peer.is_some_and(|p| self.trusted_proxies.iter().any(|r| r.contains(p.ip())))
    }
}

/// The application's routes, with CORS and request tracing.
pub fn router(state: Arc<AppState>) -> Router {
    let prefix = state.config.prefix.clone();
    if state.config.colors_in_background
        && !state
            .colors_started
            .swap(true, std::sync::atomic::Ordering::SeqCst)
    {
        colors::start(&state);
    }
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::HEAD, Method::OPTIONS])
        .allow_headers([header::AUTHORIZATION, header::ACCEPT, header::IF_NONE_MATCH])
        .expose_headers([header::LINK, header::ETAG, header::CONTENT_TYPE]);
    Router::new()
        .route("/", get(pages::home))
        .route("/objects/{oid}", get(pages::object))
        .route("/static/{*path}", get(pages::asset))
        .route(&format!("/{prefix}/{{*rest}}"), get(image::handle))
        .route("/manifests/object/{oid}", get(presentation::manifest))
        .route(
            "/manifests/object/{oid}/{kind}/{name}",
            get(presentation::part),
        )
        .route("/collections/top", get(presentation::top))
        .route("/collections/hue/{hue}", get(colors::hue))
        .route("/images/{identifier}", get(colors::image_record))
        .route(
            "/collections/classification/{slug}",
            get(presentation::classification),
        )
        .route("/manifests/3/object/{oid}", get(presentation3::manifest))
        .route(
            "/manifests/3/object/{oid}/{kind}/{name}",
            get(presentation3::part),
        )
        .route("/collections/3/top", get(presentation3::top))
        .route(
            "/collections/3/classification/{slug}",
            get(presentation3::classification),
        )
        .route(
            "/collections/3/classification/{slug}/{n}",
            get(presentation3::classification_part),
        )
        .route("/collections/3/hue/{hue}", get(presentation3::hue))
        .route("/collections/3/hue/{hue}/{n}", get(presentation3::hue_part))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .with_state(state.clone())
        .layer(axum::middleware::from_fn_with_state(
            state.config.request_timeout_secs,
            limit_time,
        ))
        .layer(axum::middleware::from_fn(limit_uri))
        .layer(cors)
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .layer(warm::WarmLayer(state.clone()))
        .layer(axum::middleware::from_fn_with_state(
            state,
            observe::observe,
        ))
}

/// The longest request target (path and query) served; a longer one gets 414.
pub const MAX_URI_BYTES: usize = 4096;

/// Refuses request targets longer than [`MAX_URI_BYTES`] before any routing or parsing.
async fn limit_uri(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let len = req.uri().path_and_query().map_or(0, |p| p.as_str().len());
    if len > MAX_URI_BYTES {
        return (
            axum::http::StatusCode::URI_TOO_LONG,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            format!("request URI is {len} bytes; the limit is {MAX_URI_BYTES}\n"),
        )
            .into_response();
    }
    next.run(req).await
}

/// Answers 503 when a request takes longer than `request_timeout_secs`. Image work already
/// running on a worker thread finishes in the background and keeps its worker slot until
/// then, so abandoned work never lets more jobs run than there are workers.
async fn limit_time(
    axum::extract::State(secs): axum::extract::State<f64>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let path = req.uri().path().to_string();
    match tokio::time::timeout(std::time::Duration::from_secs_f64(secs), next.run(req)).await {
        Ok(resp) => resp,
        Err(_) => {
            tracing::warn!(path, "request took longer than {secs} s");
            Error::Retry(format!("request took longer than {secs} s")).into_response()
        }
    }
}

/// The span of a request in logs: method and path only, never the query string, which may
/// carry an API key.
fn request_span(req: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    tracing::debug_span!("request", method = %req.method(), path = %req.uri().path())
}

/// Runs the server until SIGINT or SIGTERM, then finishes the requests in flight (see
/// [`serve_on`]).
/// The access log, when `access_log` is on, the process has a log writer
/// ([`crate::logbuf::installed`]) and the log filter lets `tessera::access` lines through.
fn access_log(config: &ValidConfig) -> Option<access_log::AccessLog> {
    let on =
        config.access_log && tracing::enabled!(target: "tessera::access", tracing::Level::INFO);
    on.then(crate::logbuf::installed)
        .flatten()
        .map(|out| access_log::AccessLog::new(out, config.log_format))
}

pub async fn serve(config: ValidConfig) -> Result<(), Box<dyn std::error::Error>> {
    let state = Arc::new(AppState::new(config)?);
    let listener = tokio::net::TcpListener::bind(state.config.bind).await?;
    let addr = listener.local_addr()?;
    tracing::info!(
        images = %state.config.images.display(),
        "listening on http://{addr}/{}/",
        state.config.prefix
    );
    serve_on(listener, state, shutdown_signal()).await?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}
