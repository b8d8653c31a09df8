//! For operators (issue 16): `/healthz`, `/readyz` (records loaded, image source readable),
//! `/metrics` (Prometheus: counters that move by exactly the requests made; who may read
//! them), and the access log (one line per request, text or JSON, never an API key).

use crate::common::*;
use axum::body::Body;
use axum::extract::ConnectInfo;
use tessera::presentation::RecordsFolder;

const TOKEN: &str = "metrics-token-0123456789";

/// One sample image in a folder of its own (kept by the caller).
fn one_image() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let images = dir.path().join("images");
    std::fs::create_dir_all(&images).unwrap();
    std::fs::copy(fixtures().join("grid.png"), images.join("grid.png")).unwrap();
    (dir, images)
}

/// The value of the sample line `name{labels}` (labels as written) in Prometheus text.
fn sample(text: &str, line_start: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(line_start)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no sample {line_start} in\n{text}"))
        .parse()
        .unwrap()
}

async fn scrape(app: &App) -> String {
    let bearer = format!("Bearer {TOKEN}");
    let (status, headers, body) = app
        .get_with("/metrics", &[("authorization", &bearer)])
        .await;
    let text = String::from_utf8(body).unwrap();
    assert_eq!(status, 200, "{text}");
    assert_eq!(
        headers["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    text
}

#[tokio::test]
async fn healthz_answers_and_readyz_names_what_is_missing() {
    let (dir, images) = one_image();
    let app = App::new(&images, |c| {
        c.records = vec![RecordsFolder::new(dir.path().join("records-not-there"))];
    });
    let (status, _, body) = app.get("/healthz").await;
    assert_eq!((status.as_u16(), body.as_slice()), (200, &b"ok\n"[..]));
    let (status, headers, body) = app.get("/readyz").await;
    let text = String::from_utf8(body).unwrap();
    assert_eq!(status, 503, "{text}");
    assert!(text.contains("1 records folder(s)"), "{text}");
    assert!(
        !text.contains("records-not-there") && !text.contains(&*dir.path().to_string_lossy()),
        "an anonymous caller learns no path: {text}"
    );
    assert!(headers.contains_key("retry-after"));

    // Records there: ready, until the images folder goes away.
    std::fs::create_dir_all(dir.path().join("records")).unwrap();
    let app = App::new(&images, |c| {
        c.records = vec![RecordsFolder::new(dir.path().join("records"))];
    });
    let (status, _, body) = app.get("/readyz").await;
    assert_eq!((status.as_u16(), body.as_slice()), (200, &b"ready\n"[..]));
    std::fs::remove_dir_all(&images).unwrap();
    let (status, _, body) = app.get("/readyz").await;
    let text = String::from_utf8(body).unwrap();
    assert_eq!(status, 503, "{text}");
    assert!(text.contains("image source is not readable"), "{text}");
    assert!(
        !text.contains(&*images.to_string_lossy()),
        "an anonymous caller learns no path: {text}"
    );
    let (status, _, _) = app.get("/healthz").await;
    assert_eq!(status, 200, "the process still serves");
}

#[tokio::test]
async fn the_counters_move_by_exactly_the_requests_made() {
    let (_dir, images) = one_image();
    let app = App::new(&images, |c| c.metrics_token = Some(TOKEN.into()));
    let before = scrape(&app).await;
    let image = "/iiif/grid/full/64,/0/default.jpg";
    let n = 7;
    let mut bytes = 0;
    for _ in 0..n {
        let (status, _, body) = app.get(image).await;
        assert_eq!(status, 200);
        bytes += body.len();
    }
    let (status, _, info) = app.get("/iiif/grid/info.json").await;
    assert_eq!(status, 200);
    let (status, _, _) = app.get("/iiif/nothing-here/info.json").await;
    assert_eq!(status, 404);
    let after = scrape(&app).await;
    let delta = |line: &str| sample(&after, line) - sample(&before, line);
    assert_eq!(
        delta(r#"tessera_requests_total{family="image",class="2xx"}"#),
        n as f64
    );
    assert_eq!(
        delta(r#"tessera_requests_total{family="info",class="2xx"}"#),
        1.0
    );
    assert_eq!(
        delta(r#"tessera_requests_total{family="info",class="4xx"}"#),
        1.0
    );
    // The first scrape itself is counted by the time of the second.
    assert_eq!(
        delta(r#"tessera_requests_total{family="other",class="2xx"}"#),
        1.0
    );
    assert_eq!(
        delta(r#"tessera_request_duration_seconds_count{family="image"}"#),
        n as f64
    );
    assert_eq!(
        delta(r#"tessera_response_body_bytes_total{family="image"}"#),
        bytes as f64
    );
    assert!(delta(r#"tessera_response_body_bytes_total{family="info"}"#) >= info.len() as f64);
    // The first image request made the picture; the next six came from the warm path.
    assert_eq!(
        delta(r#"tessera_cache_hits_total{cache="warm"}"#),
        (n - 1) as f64
    );
    // The warm path is looked up for every request under the prefix: the first image and
    // both info.json requests missed it.
    assert_eq!(delta(r#"tessera_cache_misses_total{cache="warm"}"#), 3.0);
    assert_eq!(delta(r#"tessera_cache_misses_total{cache="encoded"}"#), 1.0);
    assert!(sample(&after, r#"tessera_cache_entries{cache="encoded"}"#) >= 1.0);
    assert!(sample(&after, r#"tessera_cache_bytes{cache="warm"}"#) > 0.0);
    assert_eq!(sample(&after, "tessera_requests_shed_total"), 0.0);
    assert_eq!(sample(&after, "tessera_workers_busy"), 0.0);
}

#[tokio::test]
async fn metrics_answer_loopback_or_the_token_only() {
    let (_dir, images) = one_image();
    let far = |app: &App, auth: Option<&str>| {
        let mut b = app.builder("GET", "/metrics", &[]);
        if let Some(a) = auth {
            b = b.header("authorization", a);
        }
        let mut req = b.body(Body::empty()).unwrap();
        req.extensions_mut().insert(ConnectInfo(
            "192.0.2.7:4000".parse::<std::net::SocketAddr>().unwrap(),
        ));
        req
    };
    let open = App::new(&images, |_| {});
    assert_eq!(open.get("/metrics").await.0, 200, "loopback may read");
    assert_eq!(open.request(far(&open, None)).await.0, 403);
    let locked = App::new(&images, |c| c.metrics_token = Some(TOKEN.into()));
    assert_eq!(locked.get("/metrics").await.0, 403, "the token is needed");
    let bearer = format!("Bearer {TOKEN}");
    assert_eq!(locked.request(far(&locked, Some(&bearer))).await.0, 200);
    assert_eq!(
        locked
            .request(far(&locked, Some("Bearer metrics-token-012345678X")))
            .await
            .0,
        403
    );
    let off = App::new(&images, |c| c.metrics = false);
    assert_eq!(off.get("/metrics").await.0, 404);
}

/// Runs the binary over one image, with an API key, logging as `format`; makes five
/// requests (a key in the query, a key in `Authorization`, the same image twice without one,
/// a 404 with a key); stops it and returns the access-log lines, logging with `filter` (a
/// `RUST_LOG`).
async fn access_lines(format: &str, filter: &str) -> Vec<String> {
    let (dir, images) = one_image();
    let config = dir.path().join("tessera.toml");
    std::fs::write(
        &config,
        "[[api_keys]]\nkey = \"SECRETKEY-abcdef\"\nprivileged = true\nname = \"web\"\n",
    )
    .unwrap();
    let (images, config) = (images.display().to_string(), config.display().to_string());
    let (mut child, addr, log) = spawn_binary(
        &[
            "--images",
            &images,
            "--config",
            &config,
            "--log-format",
            format,
        ],
        filter,
    );
    let client = reqwest::Client::new();
    let image = format!("http://{addr}/iiif/grid/full/32,/0/default.jpg");
    for (url, auth) in [
        (format!("{image}?apikey=SECRETKEY-abcdef"), None),
        (image.clone(), Some("Bearer SECRETKEY-abcdef")),
        (image.clone(), None),
        (image.clone(), None),
        (
            format!("http://{addr}/no/such/page?apikey=wrong-key-zzz"),
            None,
        ),
    ] {
        let mut r = client.get(url);
        if let Some(a) = auth {
            r = r.header("authorization", a);
        }
        r.send().await.unwrap().bytes().await.unwrap();
    }
    let lines = || -> Vec<String> {
        log.lock()
            .unwrap()
            .lines()
            .filter(|l| l.contains("tessera::access"))
            .map(str::to_string)
            .collect()
    };
    sigterm(&child);
    child.wait().unwrap();
    // The last line of the shutdown comes after every access line (one ordered buffer).
    let closed = wait_until(std::time::Duration::from_secs(10), || {
        log.lock().unwrap().contains("all connections closed")
    });
    assert!(
        closed,
        "the server logged its shutdown: {}",
        log.lock().unwrap()
    );
    lines()
}

#[tokio::test]
async fn one_access_line_per_request_and_never_an_api_key() {
    let lines = access_lines("text", "tessera=info").await;
    assert_eq!(lines.len(), 5, "{lines:#?}");
    for l in &lines {
        assert!(!l.contains("SECRETKEY") && !l.contains("wrong-key"), "{l}");
        assert!(l.contains("method=GET") && l.contains(" ms="), "{l}");
    }
    assert!(
        lines[0].contains("path=/iiif/grid/full/32,/0/default.jpg status=200"),
        "{}",
        lines[0]
    );
    assert!(
        lines[3].contains("cache=hit"),
        "the repeat came from memory: {}",
        lines[3]
    );
    assert!(
        lines[4].contains("path=/no/such/page status=404"),
        "{}",
        lines[4]
    );

    let lines = access_lines("json", "tessera=info").await;
    assert_eq!(lines.len(), 5, "{lines:#?}");
    for l in &lines {
        assert!(!l.contains("SECRETKEY") && !l.contains("wrong-key"), "{l}");
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        for key in ["method", "path", "status", "bytes", "ms", "cache"] {
            assert!(v.get(key).is_some(), "{key} in {l}");
        }
    }
    let third: serde_json::Value = serde_json::from_str(&lines[2]).unwrap();
    assert_eq!(third["status"], 200);
    assert_eq!(third["path"], "/iiif/grid/full/32,/0/default.jpg");
    assert!(third["bytes"].as_u64().unwrap() > 0);

    // The log filter silences the access log alone.
    let lines = access_lines("text", "tessera=info,tessera::access=off").await;
    assert!(lines.is_empty(), "{lines:#?}");
}
