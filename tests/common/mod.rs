//! Shared helpers for the integration tests: Tessera's router called in process ([`App`], no
//! socket), a real server on an ephemeral loopback port and the real binary for what needs a
//! connection ([`start`], [`spawn_binary`]), and pixel checks against the fixtures' colour grid.

#![allow(dead_code)]

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, HeaderMap, Request, StatusCode};
use image::{DynamicImage, GenericImageView, RgbaImage};
use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tessera::config::{Config, ValidConfig};
use tessera::http::{router, serve_on, AppState};
use tower::ServiceExt;

/// The metric counting images made from a derivative pyramid (rather than from their
/// source, which may give the same bytes).
pub const DERIVATIVE_READS: &str = "tessera_derivative_reads_total";

/// The block colours of the fixtures' 4×3 grid, row-major (see tests/fixtures/README.md).
pub const GRID: [[u8; 3]; 12] = [
    [255, 0, 0],
    [0, 255, 0],
    [0, 0, 255],
    [255, 255, 0],
    [255, 0, 255],
    [0, 255, 255],
    [255, 255, 255],
    [0, 0, 0],
    [128, 128, 128],
    [255, 128, 0],
    [128, 0, 255],
    [0, 128, 128],
];

/// The folder of test fixtures.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// The built-in sample images.
pub fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-images")
}

/// The sample object records (`manifests/`), which govern access to the sample images.
pub fn records() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("manifests")
}

/// The `tessera` binary.
pub const BIN: &str = env!("CARGO_BIN_EXE_tessera");

/// A noisy RGB image: slow to decode and encode, and large in any compressed form.
pub fn noise(w: u32, h: u32) -> image::RgbImage {
    let mut state = 0x2545_f491_u32;
    image::RgbImage::from_fn(w, h, |x, y| {
        state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        let n = (state >> 24) as u8;
        image::Rgb([n, (x as u8) ^ n, (y as u8).wrapping_add(n)])
    })
}

/// A records folder of two objects: one whose image `secret` is restricted (image
/// `accesslevel` 0), one whose image `small` is limited to 256 px (`imagepermissionlevel` 1).
pub fn restricted_records() -> tempfile::TempDir {
    let records = tempfile::tempdir().unwrap();
    std::fs::write(
        records.path().join("1.json"),
        r#"{"objectid": 1, "images": [{"baseimageurl": "https://x/iiif/secret", "accesslevel": 0}]}"#,
    )
    .unwrap();
    std::fs::write(
        records.path().join("2.json"),
        r#"{"objectid": 2, "imagepermissionlevel": 1,
            "images": [{"baseimageurl": "https://x/iiif/small"}]}"#,
    )
    .unwrap();
    records
}

/// The configuration of a test server over `images`: no records, no derivative pyramids
/// (tests/integration/derivatives.rs turns them on), no background colours job (it would
/// take CPU from timed tests; tests/integration/colors.rs turns it on), then `tweak`.
pub fn config(images: &Path, tweak: impl FnOnce(&mut Config)) -> ValidConfig {
    let mut config = Config {
        images: images.to_path_buf(),
        records: vec![tessera::presentation::RecordsFolder::new(
            images.join("no-records-here"),
        )],
        derivative_min_pixels: 0,
        colors_in_background: false,
        ..Config::default()
    };
    tweak(&mut config);
    config.validate().unwrap()
}

/// Starts Tessera on 127.0.0.1 with an ephemeral port; returns `http://127.0.0.1:PORT`. Only
/// for what needs a real connection: the others use [`App`].
pub async fn start(images: &Path, tweak: impl FnOnce(&mut Config)) -> String {
    let state = Arc::new(AppState::new(config(images, tweak)).unwrap());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // The real connection loop, with its timeouts and limits.
    tokio::spawn(async move {
        serve_on(listener, state, std::future::pending())
            .await
            .unwrap()
    });
    format!("http://{addr}")
}

/// The Host of [`App`]'s requests. Not the default bind address (127.0.0.1:8080), so that an
/// `@id` or Link made from anything but the request fails the tests' checks.
pub const HOST: &str = "127.0.0.1:41080";

/// The peer address of [`App`]'s requests: loopback, as the tests' client was.
pub const PEER: SocketAddr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 50123));

/// Tessera's router in process: a request goes through every layer (the warm path, tracing,
/// CORS, the URI and time limits, the handlers) as `tower::ServiceExt::oneshot` sends it, with
/// no socket and no connection loop (see [`start`] for those).
#[derive(Clone)]
pub struct App {
    router: axum::Router,
    /// `http://{HOST}`: where the app's absolute URIs start (without `public_base`).
    pub base: String,
}

impl App {
    /// The app of a test server over `images`, configured as [`start`] configures its server.
    pub fn new(images: &Path, tweak: impl FnOnce(&mut Config)) -> App {
        let state = Arc::new(AppState::new(config(images, tweak)).unwrap());
        App {
            router: router(state),
            base: format!("http://{HOST}"),
        }
    }

    /// The app over the objects of `storage` instead of an images folder (the fixtures
    /// folder stands in the configuration, unread), configured as [`App::new`].
    pub fn with_storage(
        storage: tessera::storage::Storage,
        tweak: impl FnOnce(&mut Config),
    ) -> App {
        let state = AppState::with_storage(config(&fixtures(), tweak), storage).unwrap();
        App {
            router: router(Arc::new(state)),
            base: format!("http://{HOST}"),
        }
    }

    /// Sends one request; returns the response's status, headers and body. As the connection
    /// loop does, it gives the request its peer address ([`PEER`] unless it has one); a request
    /// without a Host header gets [`HOST`]. No redirect is followed.
    pub async fn request(&self, mut req: Request<Body>) -> (StatusCode, HeaderMap, Vec<u8>) {
        if !req.headers().contains_key(header::HOST) {
            req.headers_mut()
                .insert(header::HOST, header::HeaderValue::from_static(HOST));
        }
        if req.extensions().get::<ConnectInfo<SocketAddr>>().is_none() {
            req.extensions_mut().insert(ConnectInfo(PEER));
        }
        let resp = self.router.clone().oneshot(req).await.unwrap();
        let (parts, body) = resp.into_parts();
        let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
        (parts.status, parts.headers, body.to_vec())
    }

    /// The request target (path and query) of `url`: an absolute URI under [`App::base`], or a
    /// path.
    pub fn target<'a>(&self, url: &'a str) -> &'a str {
        let path = url.strip_prefix(self.base.as_str()).unwrap_or(url);
        assert!(
            path.starts_with('/'),
            "{url} is not on this app ({})",
            self.base
        );
        path
    }

    /// A request to `url` (see [`App::target`]) with `method` and `headers`, ready to send.
    pub fn builder(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
    ) -> axum::http::request::Builder {
        let mut req = Request::builder().method(method).uri(self.target(url));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req
    }

    /// GETs `url` (see [`App::target`]); returns the response (status and headers) and its
    /// body.
    pub async fn get(&self, url: &str) -> (StatusCode, HeaderMap, Vec<u8>) {
        self.get_with(url, &[]).await
    }

    /// [`App::get`] with request headers.
    pub async fn get_with(
        &self,
        url: &str,
        headers: &[(&str, &str)],
    ) -> (StatusCode, HeaderMap, Vec<u8>) {
        let req = self
            .builder("GET", url, headers)
            .body(Body::empty())
            .unwrap();
        self.request(req).await
    }

    /// GETs an image; `None` unless it is served with status 200 and decodes (for a wait
    /// until a change is noticed, when a clean error is allowed meanwhile).
    pub async fn try_image(&self, url: &str) -> Option<DynamicImage> {
        let (status, _, body) = self.get(url).await;
        (status == 200).then(|| image::load_from_memory(&body).ok())?
    }

    /// GETs an image that must be served with status 200 and decodes it.
    pub async fn get_image(&self, url: &str) -> DynamicImage {
        let (status, headers, body) = self.get(url).await;
        decoded(url, status, &headers, &body)
    }

    /// GETs `url`, which must answer 200, and gives its body and how much the unlabelled
    /// sample `metric` went up across the request (what the request did, when nothing else
    /// is in flight).
    pub async fn get_counting(&self, url: &str, metric: &str) -> (Vec<u8>, f64) {
        let before = self.metric(metric).await;
        let (status, _, body) = self.get(url).await;
        assert_eq!(status, 200, "{url}: {}", String::from_utf8_lossy(&body));
        let after = self.metric(metric).await;
        (body, after - before)
    }

    /// The value of the unlabelled sample `name` in this server's `/metrics`.
    pub async fn metric(&self, name: &str) -> f64 {
        let (status, _, body) = self.get("/metrics").await;
        let text = String::from_utf8(body).unwrap();
        assert_eq!(status, 200, "{text}");
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
            .unwrap_or_else(|| panic!("no sample {name} in\n{text}"))
            .parse()
            .unwrap()
    }
}

/// The image of a response that must be a 200 with an image media type.
fn decoded(url: &str, status: StatusCode, headers: &HeaderMap, body: &[u8]) -> DynamicImage {
    assert_eq!(status, 200, "{url}: {}", String::from_utf8_lossy(body));
    let ct = headers["content-type"].to_str().unwrap().to_string();
    assert!(ct.starts_with("image/"), "{url}: content-type {ct}");
    image::load_from_memory(body).unwrap_or_else(|e| panic!("{url}: {e}"))
}

/// How often [`wait_until`] and [`wait_until_async`] check their condition.
const POLL: Duration = Duration::from_millis(20);

/// Checks `f` every 20 ms until it holds or `deadline` has passed; returns whether it held.
/// For background work whose end a test can observe, instead of sleeping a fixed time.
pub fn wait_until(deadline: Duration, mut f: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + deadline;
    loop {
        if f() {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        std::thread::sleep(POLL);
    }
}

/// [`wait_until`] for async tests: the check is a future (a request, say; a plain condition
/// is `std::future::ready(...)`), and the wait sleeps without blocking the runtime, so that
/// the test's other tasks (a request in flight) go on meanwhile.
pub async fn wait_until_async<F: Future<Output = bool>>(
    deadline: Duration,
    mut f: impl FnMut() -> F,
) -> bool {
    let end = Instant::now() + deadline;
    loop {
        if f().await {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        tokio::time::sleep(POLL).await;
    }
}

/// GETs a URL over a real connection (a server from [`start`] or the binary); returns the
/// response (status and headers) and its body. Redirects are followed.
pub async fn get(url: &str) -> (StatusCode, HeaderMap, Vec<u8>) {
    let resp = reqwest::get(url).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp.bytes().await.unwrap().to_vec();
    (status, headers, body)
}

/// [`get`] of an image that must be served with status 200, decoded.
pub async fn get_image(url: &str) -> DynamicImage {
    let (status, headers, body) = get(url).await;
    decoded(url, status, &headers, &body)
}

/// Asserts that a pixel is within `tol` of an RGB colour on every channel.
pub fn assert_near(img: &RgbaImage, x: u32, y: u32, want: [u8; 3], tol: u8, what: &str) {
    let p = img.get_pixel(x, y).0;
    let ok = (0..3).all(|c| p[c].abs_diff(want[c]) <= tol);
    assert!(ok, "{what}: pixel ({x},{y}) is {p:?}, want {want:?} ±{tol}");
}

/// Checks the centre of every grid block of an image showing the whole grid at `scale`.
pub fn assert_grid(img: &DynamicImage, scale: f64, tol: u8, what: &str) {
    let rgba = img.to_rgba8();
    for (i, colour) in GRID.iter().enumerate() {
        let (c, r) = ((i % 4) as f64, (i / 4) as f64);
        let x = ((c * 100.0 + 50.0) * scale) as u32;
        let y = ((r * 100.0 + 50.0) * scale) as u32;
        assert_near(&rgba, x, y, *colour, tol, &format!("{what} block {i}"));
    }
}

/// PSNR in dB over the RGB channels of two images of the same size (alpha composited on white
/// first); infinite when identical.
pub fn psnr(a: &DynamicImage, b: &DynamicImage) -> f64 {
    assert_eq!(a.dimensions(), b.dimensions(), "sizes differ");
    let flat = |i: &DynamicImage| {
        let rgba = i.to_rgba8();
        rgba.pixels()
            .flat_map(|p| {
                let a = f64::from(p.0[3]) / 255.0;
                [0, 1, 2].map(|c| f64::from(p.0[c]) * a + 255.0 * (1.0 - a))
            })
            .collect::<Vec<f64>>()
    };
    let (x, y) = (flat(a), flat(b));
    let mse = x
        .iter()
        .zip(&y)
        .map(|(p, q)| (p - q) * (p - q))
        .sum::<f64>()
        / x.len() as f64;
    if mse == 0.0 {
        f64::INFINITY
    } else {
        10.0 * (255.0f64 * 255.0 / mse).log10()
    }
}

/// Starts the real binary (`tessera serve --bind 127.0.0.1:0` plus `args`) with `RUST_LOG` =
/// `log`; returns the child, its address, and its log so far (kept up to date).
pub fn spawn_binary(
    args: &[&str],
    log: &str,
) -> (std::process::Child, String, Arc<std::sync::Mutex<String>>) {
    let mut cmd = std::process::Command::new(BIN);
    cmd.args(["serve", "--bind", "127.0.0.1:0"])
        .args(args)
        .env("RUST_LOG", log);
    spawn_logged(cmd)
}

/// Runs a `sh -c` command line that execs the server (for shell limits such as `ulimit`),
/// logging at `tessera=info`; returns as [`spawn_binary`] does.
pub fn spawn_shell(line: &str) -> (std::process::Child, String, Arc<std::sync::Mutex<String>>) {
    let mut cmd = std::process::Command::new("sh");
    cmd.args(["-c", line]).env("RUST_LOG", "tessera=info");
    spawn_logged(cmd)
}

/// Sends SIGTERM to a spawned server (see [`spawn_binary`]).
pub fn sigterm(child: &std::process::Child) {
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success(), "kill -TERM {}", child.id());
}

/// Spawns a server command, reads its address from the "listening on" log line, and keeps
/// collecting its log.
fn spawn_logged(
    mut cmd: std::process::Command,
) -> (std::process::Child, String, Arc<std::sync::Mutex<String>>) {
    use std::io::BufRead;
    let mut child = cmd.stderr(std::process::Stdio::piped()).spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines = std::io::BufReader::new(stderr).lines();
    let kept = Arc::new(std::sync::Mutex::new(String::new()));
    let addr = loop {
        let line = lines
            .next()
            .expect("server exited before listening")
            .unwrap();
        kept.lock().unwrap().push_str(&line);
        if let Some(rest) = line.split("listening on http://").nth(1) {
            break rest.split('/').next().unwrap().to_string();
        }
    };
    // Keep draining the log so that the server never blocks on a full pipe.
    let sink = kept.clone();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            let mut s = sink.lock().unwrap();
            s.push_str(&line);
            s.push('\n');
        }
    });
    (child, addr, kept)
}
