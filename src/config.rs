//! Server configuration: TOML file keys and command-line flags, merged once and validated once.

use crate::access::ApiKey;
use crate::iiif::Limits;
use crate::proxy::{IpRange, IpRangeError};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Every setting of `tessera serve`. In a TOML file the keys are these field names.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to listen on.
    pub bind: SocketAddr,
    /// Where the source images are: a folder, or `s3://BUCKET/PREFIX` (an S3-compatible
    /// bucket; credentials, region and endpoint from the `AWS_*` environment variables).
    /// Identifiers are paths inside it.
    pub images: PathBuf,
    /// Seconds to connect to the image store (`s3://` images).
    pub storage_connect_timeout_secs: f64,
    /// Seconds one request to the image store may take (`s3://` images); then 504.
    pub storage_timeout_secs: f64,
    /// Times a failed request to the image store is retried (`s3://` images).
    pub storage_retries: usize,
    /// The S3 endpoint URL, for S3-compatible stores (overrides `AWS_ENDPOINT_URL`).
    pub s3_endpoint: Option<String>,
    /// Whether a plain `http://` S3 endpoint is allowed (overrides `AWS_ALLOW_HTTP`).
    pub s3_allow_http: Option<bool>,
    /// The S3 region (overrides `AWS_REGION`).
    pub s3_region: Option<String>,
    /// The S3 access key id (overrides `AWS_ACCESS_KEY_ID`).
    pub s3_access_key_id: Option<String>,
    /// The S3 secret access key (overrides `AWS_SECRET_ACCESS_KEY`; prefer the environment).
    pub s3_secret_access_key: Option<String>,
    /// URL path prefix of the Image API (one or more segments, no slashes at the ends).
    pub prefix: String,
    /// Scheme, host and path used in `@id` and Link headers, e.g.
    /// `https://images.example.org/iiif`. Without it they come from the request headers.
    pub public_base: Option<String>,
    /// Peers whose `Forwarded` and `X-Forwarded-Proto`/`-Host` headers are believed: IP
    /// addresses or CIDR ranges (`10.0.0.0/8`, `::1/128`). From any other peer those headers
    /// are ignored.
    pub trusted_proxies: Vec<String>,
    /// Tile width and height advertised in info.json.
    pub tile_size: u32,
    /// `maxWidth` of info.json: the widest output served.
    pub max_width: u32,
    /// `maxHeight` of info.json: the tallest output served.
    pub max_height: u32,
    /// `maxArea` of info.json: the largest output area served, in pixels.
    pub max_area: u64,
    /// Sources whose header claims more pixels than this are refused before decoding.
    pub max_source_pixels: u64,
    /// The most memory one decode of a flat source may hold (file and picture), in MiB.
    pub max_decode_mb: u64,
    /// JPEG output quality, 1–100.
    pub jpeg_quality: u8,
    /// Budget of the decoded-image cache, in MiB.
    pub cache_decoded_mb: u64,
    /// Budget of the encoded-response cache, in MiB.
    pub cache_encoded_mb: u64,
    /// Disk budget of local copies of JPEG 2000 sources from a bucket (the decoder reads
    /// files only), in MiB; 0 keeps none, so that every decode copies the object again.
    pub cache_jp2_copies_mb: u64,
    /// Cache folder of derivative pyramids for large flat sources.
    pub derivatives: PathBuf,
    /// Flat sources (JPEG, PNG, strip TIFF) with at least this many pixels get a derivative
    /// pyramid, built in the background; 0 turns derivatives off.
    pub derivative_min_pixels: u64,
    /// Image jobs run at once (0 = one per CPU core).
    pub workers: usize,
    /// Image jobs allowed to wait for a worker before new ones get 503.
    pub queue_depth: usize,
    /// `Cache-Control: public, max-age` for successful responses, in seconds.
    pub cache_max_age: u32,
    /// Seconds a client has to send a request's headers; slower ones are disconnected.
    pub header_timeout_secs: f64,
    /// Seconds a request may take from its headers to its response; then 503.
    pub request_timeout_secs: f64,
    /// Seconds a connection may go without reading or writing a byte (an idle keep-alive
    /// connection, a slow body, a client that stops reading) before it is closed.
    pub idle_timeout_secs: f64,
    /// The largest request head (request line and headers) accepted, in bytes; larger
    /// ones get 431.
    pub max_header_bytes: usize,
    /// Seconds that requests in flight have to finish after SIGTERM or SIGINT.
    pub shutdown_grace_secs: f64,
    /// Folders of object records (JSON) that become Presentation API manifests: a path, or a
    /// list of paths and `{ path, name, shape, identifiers }` tables (see the README's
    /// "Record shapes").
    #[serde(deserialize_with = "records_folders")]
    pub records: Vec<crate::presentation::RecordsFolder>,
    /// API keys: `[[api_keys]]` tables with `key`, `privileged` and an optional `name`.
    pub api_keys: Vec<ApiKey>,
    /// `attribution` of manifests; without it, each record's credit line.
    pub attribution: Option<String>,
    /// URL of a logo image for manifests.
    pub logo: Option<String>,
    /// What images that no readable record lists are: `"public"` (the default) or
    /// `"restricted"` (only images a readable record makes public are served openly).
    pub unlisted_images: crate::policy::Unlisted,
    /// Extract the colours of every public object's first image in the background at
    /// start-up, for the hue collections (`/collections/hue/{hue}`).
    pub colors_in_background: bool,
    /// A colours file made by `tessera thumbnails --colors`: its colours are served as they
    /// are, instead of being extracted.
    pub colors_file: Option<PathBuf>,
    /// The swatches of colours' `spectrum`, as `#rrggbb`; empty: the default palette (see
    /// `colors::Palette`).
    pub palette: Vec<String>,
    /// How a restricted image or object answers a caller who may not see it: `"denied"`
    /// (401 without a key, 403 with an unprivileged one; the default) or `"not_found"`
    /// (404, exactly as an identifier that does not exist).
    pub restricted_answer: RestrictedAnswer,
    /// The Image API version of paths without a version segment (`/iiif/{id}/…`): `"2.1"`
    /// (the default: Harvard's URLs) or `"3.0"`. `/iiif/2/…` and `/iiif/3/…` always answer
    /// their own version.
    #[serde(deserialize_with = "image_api_version")]
    pub image_api: crate::iiif::Version,
    /// The colour of the corners that a rotation by other than a multiple of 90° uncovers,
    /// in formats without transparency: `"black"` (the default, as libvips and sharp make
    /// them) or `"white"`. Formats with transparency leave them transparent.
    pub rotation_background: crate::pipeline::Background,
    /// The folder of OpenSeadragon's build (`openseadragon.min.js` and `images/`), relative to
    /// the working directory, as `scripts/setup-web.sh` installs it. When it holds the script,
    /// the server serves the folder at `/static/openseadragon/`, and object pages load the
    /// viewer from there.
    pub viewer_assets: PathBuf,
    /// Where object pages load OpenSeadragon from when `viewer_assets` is not installed:
    /// the pinned version on jsDelivr (with its Subresource Integrity hash) by default.
    pub viewer_url: Option<String>,
    /// The Subresource Integrity hash (`sha384-…`) of the script at `viewer_url`; without
    /// one, a `viewer_url` of your own is loaded without an integrity check.
    pub viewer_integrity: Option<String>,
    /// Whether requests are counted and `/metrics` is served (the default).
    pub metrics: bool,
    /// The bearer token `/metrics` asks for. Without one, only loopback callers may read it.
    pub metrics_token: Option<String>,
    /// Whether each request is logged (method, path without its query, status, bytes,
    /// milliseconds, whether a cache answered); on by default.
    pub access_log: bool,
    /// How log lines are written: `"text"` (the default) or `"json"` (one object per line,
    /// for log shippers).
    pub log_format: LogFormat,
}

/// Routes other than the Image API's that a one-segment prefix would collide with.
const ROUTES: [&str; 6] = [
    "manifests",
    "collections",
    "images",
    "healthz",
    "readyz",
    "metrics",
];

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

impl LogFormat {
    /// The format named `text` or `json`.
    pub fn parse(name: &str) -> Option<LogFormat> {
        match name {
            "text" => Some(LogFormat::Text),
            "json" => Some(LogFormat::Json),
            _ => None,
        }
    }
}

/// Reads `image_api`: `"2.1"`, `"3.0"`, `2` or `3`.
fn image_api_version<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<crate::iiif::Version, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Written {
        Text(String),
        Number(f64),
    }
    let text = match Written::deserialize(d)? {
        Written::Text(t) => t,
        Written::Number(n) => n.to_string(),
    };
    crate::iiif::Version::parse(&text).ok_or_else(|| {
        serde::de::Error::custom(format!(
            "image_api must be \"2.1\" or \"3.0\", not {text:?}"
        ))
    })
}

/// Reads `records`: one path, or a list of paths and tables.
fn records_folders<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Vec<crate::presentation::RecordsFolder>, D::Error> {
    use crate::presentation::shapes::{IdentifierRule, Shape};
    use crate::presentation::RecordsFolder;
    use serde::de::Error;
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Table {
        path: PathBuf,
        name: Option<String>,
        shape: Option<String>,
        identifiers: Option<String>,
    }
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum One {
        Path(PathBuf),
        Table(Table),
    }
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Many {
        One(One),
        List(Vec<One>),
    }
    let list = match Many::deserialize(d)? {
        Many::One(one) => vec![one],
        Many::List(list) => list,
    };
    list.into_iter()
        .map(|one| match one {
            One::Path(p) => Ok(RecordsFolder::new(p)),
            One::Table(t) => {
                let f = RecordsFolder {
                    path: t.path,
                    name: t.name,
                    shape: t
                        .shape
                        .map(|s| Shape::parse(&s).ok_or(format!("records: unknown shape {s:?}")))
                        .transpose()
                        .map_err(D::Error::custom)?,
                    identifiers: t
                        .identifiers
                        .map(|s| {
                            IdentifierRule::parse(&s).ok_or(format!(
                                "records: identifiers {s:?} is not stem, name or path"
                            ))
                        })
                        .transpose()
                        .map_err(D::Error::custom)?
                        .unwrap_or_default(),
                };
                f.check().map_err(D::Error::custom)?;
                Ok(f)
            }
        })
        .collect()
}

/// How a restricted resource answers callers who may not see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RestrictedAnswer {
    /// 401 without a key, 403 with an unprivileged one.
    #[default]
    Denied,
    /// 404, as for an identifier that does not exist.
    NotFound,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            images: PathBuf::from("./sample-images"),
            prefix: "iiif".into(),
            public_base: None,
            trusted_proxies: Vec::new(),
            tile_size: 256,
            max_width: 10_000,
            max_height: 10_000,
            max_area: 50_000_000,
            max_source_pixels: 1_000_000_000,
            max_decode_mb: 2048,
            jpeg_quality: 90,
            cache_decoded_mb: 512,
            cache_encoded_mb: 256,
            cache_jp2_copies_mb: crate::cache::JP2_COPIES_MB,
            derivatives: std::env::temp_dir().join("tessera-derivatives"),
            derivative_min_pixels: 16_000_000,
            workers: 0,
            queue_depth: 256,
            cache_max_age: 86_400,
            header_timeout_secs: 10.0,
            request_timeout_secs: 30.0,
            storage_connect_timeout_secs: 2.0,
            storage_timeout_secs: 10.0,
            storage_retries: 1,
            s3_endpoint: None,
            s3_allow_http: None,
            s3_region: None,
            s3_access_key_id: None,
            s3_secret_access_key: None,
            idle_timeout_secs: 60.0,
            max_header_bytes: 16_384,
            shutdown_grace_secs: 30.0,
            records: vec![crate::presentation::RecordsFolder::new("./manifests")],
            api_keys: Vec::new(),
            attribution: None,
            logo: None,
            unlisted_images: crate::policy::Unlisted::Public,
            restricted_answer: RestrictedAnswer::Denied,
            image_api: crate::iiif::Version::V2,
            rotation_background: crate::pipeline::Background::Black,
            colors_in_background: true,
            colors_file: None,
            palette: Vec::new(),
            viewer_assets: PathBuf::from("./web/node_modules/openseadragon/build/openseadragon"),
            viewer_url: None,
            viewer_integrity: None,
            metrics: true,
            metrics_token: None,
            access_log: true,
            log_format: LogFormat::Text,
        }
    }
}

/// A configuration that cannot be used, with the reason.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The TOML file could not be read.
    #[error("cannot read config {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The TOML file is malformed or has unknown keys.
    #[error("invalid config {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What the parser said.
        message: String,
    },
    /// A value is out of range.
    #[error("invalid setting {key}: {message}")]
    Invalid {
        /// The key.
        key: &'static str,
        /// Why.
        message: String,
    },
}

impl Config {
    /// Reads a TOML file; keys it leaves out keep their defaults.
    pub fn from_file(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: e.message().to_string(),
        })
    }

    /// The output limits advertised in info.json.
    pub fn limits(&self) -> Limits {
        Limits {
            max_width: self.max_width,
            max_height: self.max_height,
            max_area: self.max_area,
            scale_cap: None,
        }
    }

    /// The limits of one decode.
    pub fn decode_limits(&self) -> crate::source::DecodeLimits {
        crate::source::DecodeLimits {
            max_pixels: self.max_source_pixels,
            max_bytes: self.max_decode_mb.saturating_mul(1 << 20),
        }
    }

    /// The ranges of `trusted_proxies`; an error names the first entry that is not an
    /// address or a range.
    pub fn trusted_proxy_ranges(&self) -> Result<Vec<IpRange>, ConfigError> {
        self.trusted_proxies
            .iter()
            .map(|entry| {
                entry
                    .parse()
                    .map_err(|e: IpRangeError| ConfigError::Invalid {
                        key: "trusted_proxies",
                        message: e.to_string(),
                    })
            })
            .collect()
    }

    /// Normalises and checks every value, once, at start-up: the only way to a
    /// [`ValidConfig`], which is what the server and the batch commands accept.
    pub fn validate(mut self) -> Result<ValidConfig, ConfigError> {
        let invalid = |key, message: &str| ConfigError::Invalid {
            key,
            message: message.to_string(),
        };
        self.prefix = self.prefix.trim_matches('/').to_string();
        let prefix_ok = !self.prefix.is_empty()
            && self.prefix.split('/').all(|s| {
                !s.is_empty()
                    && s != "."
                    && s != ".."
                    && s.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-_.~".contains(&b))
            });
        if !prefix_ok {
            return Err(invalid(
                "prefix",
                "use one or more path segments of letters, digits, '-', '_', '.', '~'",
            ));
        }
        let first = self.prefix.split('/').next().unwrap_or("");
        if crate::browse::RESERVED.contains(&first) {
            return Err(invalid(
                "prefix",
                &format!("its first segment may not be {first:?}, which the pages use"),
            ));
        }
        if ROUTES.contains(&self.prefix.as_str()) {
            return Err(invalid(
                "prefix",
                &format!(
                    "{:?} is another route's (add a segment: {0}/iiif)",
                    self.prefix
                ),
            ));
        }
        if let Some(t) = &self.metrics_token {
            if t.len() < 16 || !t.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(invalid(
                    "metrics_token",
                    "must be at least 16 printable characters without spaces",
                ));
            }
        }
        if let Some(base) = &self.public_base {
            let base = base.trim_end_matches('/').to_string();
            if !(base.starts_with("http://") || base.starts_with("https://"))
                || base.contains(['"', '<', '>', ' '])
            {
                return Err(invalid("public_base", "must be an http:// or https:// URL"));
            }
            self.public_base = Some(base);
        }
        let trusted_proxies = self.trusted_proxy_ranges()?;
        if !(16..=4096).contains(&self.tile_size) {
            return Err(invalid("tile_size", "must be between 16 and 4096"));
        }
        if self.max_width == 0 || self.max_height == 0 || self.max_area == 0 {
            return Err(invalid("max_width/max_height/max_area", "must be positive"));
        }
        if !(1..=100).contains(&self.jpeg_quality) {
            return Err(invalid("jpeg_quality", "must be between 1 and 100"));
        }
        if self.max_source_pixels == 0 {
            return Err(invalid("max_source_pixels", "must be positive"));
        }
        for (key, secs) in [
            ("header_timeout_secs", self.header_timeout_secs),
            ("request_timeout_secs", self.request_timeout_secs),
            ("idle_timeout_secs", self.idle_timeout_secs),
            ("shutdown_grace_secs", self.shutdown_grace_secs),
            (
                "storage_connect_timeout_secs",
                self.storage_connect_timeout_secs,
            ),
            ("storage_timeout_secs", self.storage_timeout_secs),
        ] {
            if !(secs > 0.0 && secs <= 86_400.0) {
                return Err(invalid(key, "must be between 0 and 86400 seconds"));
            }
        }
        if self.storage_retries > 10 {
            return Err(invalid("storage_retries", "must be at most 10"));
        }
        let bucket = |p: &Path| p.to_str().and_then(crate::storage::BucketLocation::parse);
        if let Some(Err(e)) = bucket(&self.images) {
            return Err(invalid("images", &e));
        }
        if let Some(Err(e)) = bucket(&self.derivatives) {
            return Err(invalid("derivatives", &e));
        }
        // Pyramids inside the images would be images themselves, reachable by their keys
        // whatever the access of the source they were made from.
        let inside = match (bucket(&self.images), bucket(&self.derivatives)) {
            (Some(Ok(i)), Some(Ok(d))) => {
                i.bucket == d.bucket
                    && (i.prefix.is_empty()
                        || d.prefix == i.prefix
                        || d.prefix.starts_with(&format!("{}/", i.prefix)))
            }
            (None, None) => {
                let absolute = |p: &Path| {
                    p.canonicalize()
                        .or_else(|_| std::path::absolute(p))
                        .unwrap_or_else(|_| p.into())
                };
                absolute(&self.derivatives).starts_with(absolute(&self.images))
            }
            _ => false,
        };
        if inside {
            return Err(invalid(
                "derivatives",
                "must not be inside `images` (a pyramid there could be asked for as an image)",
            ));
        }
        if self.idle_timeout_secs < self.request_timeout_secs {
            // Else a long request could lose its connection to the inactivity timeout.
            return Err(invalid(
                "idle_timeout_secs",
                "must be at least request_timeout_secs",
            ));
        }
        if !(1024..=1 << 20).contains(&self.max_header_bytes) {
            return Err(invalid(
                "max_header_bytes",
                "must be between 1024 and 1048576",
            ));
        }
        if self.max_decode_mb == 0 {
            return Err(invalid("max_decode_mb", "must be positive"));
        }
        if self.api_keys.iter().any(|k| k.key.len() < 8) {
            return Err(invalid(
                "api_keys",
                "every key must be at least 8 characters",
            ));
        }
        if let Some(logo) = &self.logo {
            if !(logo.starts_with("http://") || logo.starts_with("https://")) {
                return Err(invalid("logo", "must be an http:// or https:// URL"));
            }
        }
        if let Some(url) = &self.viewer_url {
            if !(url.starts_with("http://") || url.starts_with("https://") || url.starts_with('/'))
                || url.contains(['"', '<', '>', ' ', '\''])
            {
                return Err(invalid(
                    "viewer_url",
                    "must be an http:// or https:// URL, or a path on this server",
                ));
            }
        }
        if let Some(sri) = &self.viewer_integrity {
            let ok = ["sha256-", "sha384-", "sha512-"].iter().any(|a| {
                sri.strip_prefix(a).is_some_and(|b64| {
                    !b64.is_empty()
                        && b64
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b))
                })
            });
            if !ok {
                return Err(invalid(
                    "viewer_integrity",
                    "must be a Subresource Integrity hash: sha256-, sha384- or sha512- and base64",
                ));
            }
            if self.viewer_url.is_none() {
                return Err(invalid(
                    "viewer_integrity",
                    "is the hash of viewer_url's script: set viewer_url too",
                ));
            }
        }
        if self.workers == 0 {
            self.workers = std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2);
        }
        Ok(ValidConfig {
            config: self,
            trusted_proxies,
        })
    }
}

/// A configuration that [`Config::validate`] has checked and normalised (for example,
/// `workers = 0` made one per core). It derefs to the [`Config`] it holds.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidConfig {
    config: Config,
    trusted_proxies: Vec<IpRange>,
}

impl std::ops::Deref for ValidConfig {
    type Target = Config;
    fn deref(&self) -> &Config {
        &self.config
    }
}

impl ValidConfig {
    /// The settings, to change and validate again.
    pub fn into_inner(self) -> Config {
        self.config
    }

    /// The ranges of `trusted_proxies`, parsed.
    pub fn trusted_proxies(&self) -> &[IpRange] {
        &self.trusted_proxies
    }

    /// How to reach an `s3://` image store.
    pub fn s3_settings(&self) -> crate::storage::S3Settings {
        crate::storage::S3Settings {
            overrides: crate::storage::S3Overrides {
                endpoint: self.s3_endpoint.clone(),
                allow_http: self.s3_allow_http,
                region: self.s3_region.clone(),
                access_key_id: self.s3_access_key_id.clone(),
                secret_access_key: self.s3_secret_access_key.clone(),
            },
            connect_timeout: std::time::Duration::from_secs_f64(self.storage_connect_timeout_secs),
            timeout: std::time::Duration::from_secs_f64(self.storage_timeout_secs),
            retries: self.storage_retries,
            header_cache_mb: 64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_keys_override_defaults() {
        let c: Config =
            toml::from_str("prefix = \"/a/b/\"\ntile_size = 512\nmax_area = 1000").unwrap();
        let c = c.validate().unwrap();
        assert_eq!(c.prefix, "a/b");
        assert_eq!(c.tile_size, 512);
        assert_eq!(c.max_area, 1000);
        assert_eq!(c.bind, Config::default().bind);
        assert!(c.workers > 0);
    }

    #[test]
    fn derivatives_inside_the_images_are_refused() {
        let d = tempfile::tempdir().unwrap();
        let images = d.path().join("images");
        std::fs::create_dir_all(&images).unwrap();
        let with = |images: &Path, derivatives: &Path| Config {
            images: images.to_path_buf(),
            derivatives: derivatives.to_path_buf(),
            ..Config::default()
        };
        let s3 = |text: &str| PathBuf::from(text);
        for (i, dv) in [
            (images.clone(), images.join("derivatives")),
            (images.clone(), images.join("x/../y")),
            (images.clone(), images.clone()),
            (s3("s3://bkt/iiif"), s3("s3://bkt/iiif/derivatives")),
            (s3("s3://bkt/iiif"), s3("s3://bkt/iiif")),
            (s3("s3://bkt"), s3("s3://bkt/derivatives")),
        ] {
            let e = with(&i, &dv).validate().err().map(|e| e.to_string());
            assert!(
                e.as_deref().is_some_and(|e| e.contains("derivatives")),
                "{} in {}: {e:?}",
                dv.display(),
                i.display()
            );
        }
        for (i, dv) in [
            (images.clone(), d.path().join("derivatives")),
            (s3("s3://bkt/iiif"), s3("s3://bkt/iiif-derivatives")),
            (s3("s3://bkt/iiif"), s3("s3://bkt/derivatives")),
            (s3("s3://bkt/iiif"), s3("s3://cat/iiif")),
            (s3("s3://bkt/iiif"), d.path().join("derivatives")),
        ] {
            let ok = with(&i, &dv).validate();
            assert!(
                ok.is_ok(),
                "{} beside {}: {:?}",
                dv.display(),
                i.display(),
                ok.err()
            );
        }
        assert!(
            with(&images, &s3("s3://")).validate().is_err(),
            "a bad location"
        );
    }

    #[test]
    fn bad_values_are_refused() {
        assert!(toml::from_str::<Config>("nonsense = 1").is_err());
        for bad in [
            "prefix = \"\"",
            "prefix = \"a//b\"",
            "prefix = \"a b\"",
            "public_base = \"ftp://x\"",
            "tile_size = 1",
            "jpeg_quality = 0",
            "max_width = 0",
            "api_keys = [{ key = \"short\" }]",
            "logo = \"logo.png\"",
            "trusted_proxies = [\"10.0.0.0/8\", \"proxy.example.org\"]",
            "trusted_proxies = [\"10.0.0.0/33\"]",
            "trusted_proxies = [\"10.0.0.1/8\"]",
            "prefix = \"objects\"",
            "prefix = \"static/iiif\"",
            "prefix = \"metrics\"",
            "prefix = \"images\"",
            "metrics_token = \"short\"",
            "metrics_token = \"has a space in it, sixteen+\"",
            "viewer_url = \"javascript:alert(1)\"",
            "viewer_url = \"https://x.org/a\\\"b.js\"",
            "viewer_integrity = \"sha384-abc\"",
            "viewer_url = \"https://x.org/osd.js\"\nviewer_integrity = \"md5-abc\"",
        ] {
            let c: Config = toml::from_str(bad).unwrap();
            assert!(c.validate().is_err(), "{bad}");
        }
        let c: Config = toml::from_str("public_base = \"https://x.org/iiif/\"").unwrap();
        assert_eq!(
            c.validate().unwrap().public_base.as_deref(),
            Some("https://x.org/iiif")
        );
    }

    #[test]
    fn the_default_image_api_version_and_rotation_corners_are_read() {
        use crate::iiif::Version;
        assert_eq!(Config::default().image_api, Version::V2);
        for (text, want) in [
            ("\"3.0\"", Version::V3),
            ("3", Version::V3),
            ("\"2.1\"", Version::V2),
            ("2", Version::V2),
        ] {
            let c: Config = toml::from_str(&format!("image_api = {text}")).unwrap();
            assert_eq!(c.image_api, want, "{text}");
        }
        let e = toml::from_str::<Config>("image_api = \"4\"").unwrap_err();
        assert!(e.to_string().contains("image_api must be"), "{e}");
        let c: Config = toml::from_str("rotation_background = \"white\"").unwrap();
        assert_eq!(c.rotation_background, crate::pipeline::Background::White);
        assert!(toml::from_str::<Config>("rotation_background = \"grey\"").is_err());
    }

    #[test]
    fn trusted_proxies_are_checked_and_named_when_wrong() {
        assert!(Config::default().trusted_proxy_ranges().unwrap().is_empty());
        let c: Config =
            toml::from_str("trusted_proxies = [\"127.0.0.1\", \"10.0.0.0/8\", \"::1/128\"]")
                .unwrap();
        let c = c.validate().unwrap();
        let ranges = c.trusted_proxies();
        assert_eq!(ranges.len(), 3);
        assert!(ranges[1].contains("10.9.8.7".parse().unwrap()));
        let c: Config =
            toml::from_str("trusted_proxies = [\"10.0.0.0/8\", \"proxy.example.org\"]").unwrap();
        assert_eq!(
            c.validate().unwrap_err().to_string(),
            "invalid setting trusted_proxies: \"proxy.example.org\" is not an IP address or \
             CIDR range (such as 10.0.0.0/8 or ::1/128)"
        );
        assert!(toml::from_str::<Config>("trusted_proxies = \"127.0.0.1\"").is_err());
    }
}
