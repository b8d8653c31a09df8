//! The connection loop under hostile clients and at shutdown (issue 7), over real connections:
//! slowloris is cut off by the header timeout, a client that stops reading by the idle
//! timeout, oversized heads get 431, and SIGTERM finishes the requests in flight, refuses new
//! connections and exits 0. Slow requests get 503 while the server goes on serving (a layer of
//! the router, tested in process).
//!
//! A test binary of its own (the others are in tests/integration), so that the timing of
//! these tests does not depend on the pixel work of other tests running beside them. The idle
//! test needs the server to fill the socket buffers well within 3 s, so it asks for large
//! answers: a few fill them (with 20,000 small ones the server's CPU time decided it, and the
//! test failed under CPU contention).

mod common;

use common::{fixtures, get, noise, sigterm, spawn_binary, start, wait_until_async, App};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Reads until the server closes the connection (or 10 s pass); returns what it sent.
async fn read_to_close(s: &mut TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out)).await;
    out
}

#[tokio::test]
async fn slowloris_is_disconnected_by_the_header_timeout() {
    let base = start(&fixtures(), |c| c.header_timeout_secs = 1.0).await;
    let addr = base.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET /iiif/grid.png/info.json HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    // One more header line every 200 ms, for ever: the server must hang up.
    let mut buf = [0u8; 512];
    loop {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "a client dripping headers is still connected after 5 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
        if s.write_all(b"X-Drip: 1\r\n").await.is_err() {
            break;
        }
        match tokio::time::timeout(Duration::from_millis(10), s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => {
                // A 408 before closing is fine; a normal answer is not.
                let head = String::from_utf8_lossy(&buf[..n]);
                assert!(!head.contains(" 200 "), "{head}");
            }
            Err(_) => {}
        }
    }
    let held = started.elapsed();
    assert!(held >= Duration::from_millis(900), "cut after {held:?}");
    // Everyone else is still served.
    let (status, _, _) = get(&format!("{base}/iiif/grid.png/info.json")).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_client_that_stops_reading_is_cut_off_by_the_idle_timeout() {
    let base = start(&fixtures(), |c| {
        c.idle_timeout_secs = 1.0;
        c.request_timeout_secs = 1.0;
    })
    .await;
    let addr = base.trim_start_matches("http://");
    let s = TcpStream::connect(addr).await.unwrap();
    let (mut rx, mut tx) = s.into_split();
    // 64 pipelined requests for an uncompressed TIFF of 2.4 MB (about 150 MB of answers),
    // and no reading for 3 s: a few answers fill the socket buffers, the server's writes
    // stall, and it must hang up. (Large answers fill them at once: small ones made the
    // server's CPU time the race, which it lost on a busy machine.)
    const N: usize = 64;
    let writer = tokio::spawn(async move {
        let one = b"GET /iiif/grid.png/full/1024,/0/default.tif HTTP/1.1\r\nHost: x\r\n\r\n";
        let all: Vec<u8> = one.iter().copied().cycle().take(one.len() * N).collect();
        let _ = tokio::time::timeout(Duration::from_secs(10), tx.write_all(&all)).await;
    });
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut answers = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), rx.read_to_end(&mut answers)).await;
    assert!(read.is_ok(), "the connection was still open 13 s later");
    let served = String::from_utf8_lossy(&answers)
        .matches("HTTP/1.1 200")
        .count();
    // Without the timeout nearly all are delivered once the client reads again.
    assert!(
        served < N / 2,
        "{served} of {N} answers were delivered; nothing was cut"
    );
    writer.abort();
    // Everyone else is still served.
    let (status, _, _) = get(&format!("{base}/iiif/grid.png/info.json")).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn oversized_request_heads_get_431() {
    let base = start(&fixtures(), |c| c.max_header_bytes = 8192).await;
    let addr = base.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).await.unwrap();
    let big = "a".repeat(20_000);
    let req = format!("GET /iiif/grid.png/info.json HTTP/1.1\r\nHost: x\r\nX-Big: {big}\r\n\r\n");
    let _ = s.write_all(req.as_bytes()).await;
    let answer = String::from_utf8_lossy(&read_to_close(&mut s).await).into_owned();
    assert!(
        answer.starts_with("HTTP/1.1 431"),
        "answer: {:?}",
        &answer[..answer.len().min(80)]
    );
    // A head within the limit is served.
    let mut s = TcpStream::connect(addr).await.unwrap();
    let ok = format!(
        "GET /iiif/grid.png/info.json HTTP/1.1\r\nHost: x\r\nX-Fine: {}\r\nConnection: close\r\n\r\n",
        "a".repeat(4000)
    );
    s.write_all(ok.as_bytes()).await.unwrap();
    let answer = String::from_utf8_lossy(&read_to_close(&mut s).await).into_owned();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer:.80}");
}

#[tokio::test]
async fn requests_over_the_time_limit_get_503_and_others_are_served() {
    let dir = tempfile::tempdir().unwrap();
    // Noise is slow to decode and to encode, which the time limit needs.
    noise(4000, 3000).save(dir.path().join("big.png")).unwrap();
    noise(16, 16).save(dir.path().join("small.png")).unwrap();
    // The time limit is a layer of the router: no connection needed.
    let app = App::new(dir.path(), |c| {
        c.request_timeout_secs = 0.05;
        c.workers = 2;
    });
    let (status, headers, body) = app.get("/iiif/big.png/full/full/0/default.jpg").await;
    let body = String::from_utf8_lossy(&body);
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("longer than 0.05 s"), "{body}");
    assert!(headers.contains_key("retry-after"));
    // A quick request on the same server is answered while the abandoned work finishes.
    let small = app.get_image("/iiif/small.png/full/8,/0/default.png").await;
    assert_eq!((small.width(), small.height()), (8, 8));
}

#[tokio::test]
async fn sigterm_finishes_requests_in_flight_refuses_new_ones_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    noise(6000, 4000).save(dir.path().join("big.png")).unwrap();
    let images = dir.path().display().to_string();
    // tower_http's debug log says when the request has reached the server.
    let (mut child, addr, log) = spawn_binary(
        &["--images", &images, "--records", "/nonexistent"],
        "tessera=info,tower_http=debug",
    );
    let logged = |what: &'static str| {
        let log = log.clone();
        move || std::future::ready(log.lock().unwrap().contains(what))
    };
    let url = format!("http://{addr}/iiif/big.png/full/full/0/default.png");
    let in_flight = tokio::spawn(async move {
        let resp = reqwest::get(&url).await.unwrap();
        let status = resp.status();
        let body = resp.bytes().await.unwrap();
        (status, body, Instant::now())
    });
    assert!(
        wait_until_async(
            Duration::from_secs(10),
            logged("started processing request")
        )
        .await,
        "the request never reached the server:\n{}",
        log.lock().unwrap()
    );
    let signalled = Instant::now();
    sigterm(&child);
    assert!(
        wait_until_async(Duration::from_secs(10), logged("no longer accepting")).await,
        "SIGTERM not handled:\n{}",
        log.lock().unwrap()
    );
    // New connections are refused once the signal is handled.
    assert!(
        TcpStream::connect(&addr).await.is_err(),
        "a new connection was accepted after SIGTERM"
    );
    let (status, body, answered) = in_flight.await.unwrap();
    assert_eq!(status, 200);
    assert!(
        answered > signalled,
        "the request finished before the signal; the test proves nothing"
    );
    let img = image::load_from_memory(&body).unwrap();
    assert_eq!((img.width(), img.height()), (6000, 4000));
    let exited = wait_until_async(Duration::from_secs(10), || {
        std::future::ready(child.try_wait().unwrap().is_some())
    })
    .await;
    assert!(exited, "no exit");
    let code = child.wait().unwrap();
    assert!(code.success(), "exit status {code}");
}
