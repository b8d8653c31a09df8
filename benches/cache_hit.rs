//! The cache-hit path: a tile request that the server has answered before, through the whole
//! axum router in process (routing, CORS, parsing, planning, the encoded-response cache,
//! headers), with no socket. Also the `If-None-Match` revalidation that answers 304.
//!
//!     cargo bench --bench cache_hit

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use criterion::{criterion_group, criterion_main, Criterion};
use std::path::Path;
use std::sync::Arc;
use tessera::config::Config;
use tessera::http::{router, AppState};
use tower::ServiceExt;

const TILE: &str = "/iiif/mosaic-six-photos.jpg/1024,1024,512,512/256,/0/default.jpg";

fn bench(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = Config {
        images: root.join("sample-images"),
        records: vec![tessera::presentation::RecordsFolder::new(
            root.join("manifests"),
        )],
        derivative_min_pixels: 0,
        ..Config::default()
    };
    let state = Arc::new(AppState::new(config.validate().unwrap()).unwrap());
    let app = router(state);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let get = |etag: Option<&str>| {
        let mut req = Request::builder()
            .uri(TILE)
            .header(header::HOST, "localhost");
        if let Some(tag) = etag {
            req = req.header(header::IF_NONE_MATCH, tag);
        }
        let app = app.clone();
        let req = req.body(Body::empty()).unwrap();
        async move {
            let resp = app.oneshot(req).await.unwrap();
            let status = resp.status();
            let etag = resp.headers().get(header::ETAG).cloned();
            let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
                .await
                .unwrap();
            (status, etag, body.len())
        }
    };
    let (status, etag, len) = rt.block_on(get(None));
    assert_eq!(status, StatusCode::OK);
    assert!(len > 1000);
    let etag = etag.unwrap().to_str().unwrap().to_string();
    let mut g = c.benchmark_group("cache hit, in process");
    g.bench_function("tile from the encoded-response cache (200)", |b| {
        b.iter(|| {
            let (status, _, len) = rt.block_on(get(None));
            assert_eq!((status, len > 1000), (StatusCode::OK, true));
        })
    });
    g.bench_function("revalidation with If-None-Match (304)", |b| {
        b.iter(|| {
            let (status, _, _) = rt.block_on(get(Some(&etag)));
            assert_eq!(status, StatusCode::NOT_MODIFIED);
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
