//! Shared bodies of the fuzz targets: each takes the fuzzer's bytes and panics only when an
//! invariant of the server is broken (a panic is what the fuzzer records as a crash).

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use tessera::cache::Caches;
use tessera::derivative::Derivatives;
use tessera::http::Error;
use tessera::iiif::canonical::canonical_for;
use tessera::iiif::geometry::plan;
use tessera::iiif::path::{encode_identifier, parse, parse_as, parse_versioned, Route};
use tessera::iiif::{Dimensions, Limits, Version};
use tessera::render::RenderError;
use tessera::source::{DecodeLimits, SourceError};
use tessera::storage::Object;

/// The output limits used by every target.
pub fn limits() -> Limits {
    Limits {
        max_width: 4000,
        max_height: 4000,
        max_area: 8_000_000,
        scale_cap: None,
    }
}

/// The decode limits used by the decoder targets: a source claiming more than 4 MP, or a
/// decode holding more than 64 MiB, must be refused, so that the fuzzer's memory limit
/// catches any allocation that escapes them.
pub const DECODE: DecodeLimits = DecodeLimits {
    max_pixels: 4 << 20,
    max_bytes: 64 << 20,
};

/// The parser target: any path (with or without a version segment, 2.1 or 3.0) parses or is a
/// 4xx; a parsed image request plans within the limits (or is a 4xx) on a few image sizes,
/// and its canonical form in its own version parses to the same plan.
pub fn check_path(data: &[u8]) {
    let path = String::from_utf8_lossy(data);
    let (version, route) = match parse_versioned(&path, Version::V2) {
        Ok((named, route)) => (named.unwrap_or(Version::V2), route),
        Err(e) => {
            let status = Error::from(e).status().as_u16();
            assert!((400..500).contains(&status), "{path}: {status}");
            return;
        }
    };
    let Route::Image(id, req) = route else { return };
    for (w, h) in [(1, 1), (300, 200), (6000, 4000), (65_535, 3)] {
        let dims = Dimensions {
            width: w,
            height: h,
        };
        let p = match plan(&req, dims, &limits()) {
            Ok(p) => p,
            Err(e) => {
                let status = Error::from(e).status().as_u16();
                assert!((400..500).contains(&status), "{path} on {w}x{h}: {status}");
                continue;
            }
        };
        assert!(p.width >= 1 && p.height >= 1 && p.width <= 4000 && p.height <= 4000);
        assert!(u64::from(p.width) * u64::from(p.height) <= 8_000_000);
        assert!(p.region.x + p.region.w <= w && p.region.y + p.region.h <= h);
        let canonical = canonical_for(version, &p, dims, &limits());
        let again = format!("{}/{canonical}", encode_identifier(&id));
        let Ok(Route::Image(id2, req2)) = parse_as(version, &again) else {
            panic!("{again} (canonical of {path}) does not parse");
        };
        assert_eq!(id2, id);
        let p2 = plan(&req2, dims, &limits()).expect("canonical form plans");
        assert_eq!(
            (p2.region, p2.width, p2.height, p2.mirror),
            (p.region, p.width, p.height, p.mirror),
            "{path} -> {again}"
        );
    }
}

/// A scratch folder of this process (the fuzzer runs one process per core).
fn scratch() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("tessera-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    })
}

/// The decoder targets: the bytes become a source file with extension `ext`, then go through
/// the server's own header read and render path (whole, DCT-shrunk, pyramid and JPEG 2000
/// reads) for three requests. Errors are fine; panics and escaped allocations are not.
/// JPEG 2000 bytes are also rendered from a store (a sparse copy read by the tile-part):
/// where both render, the bytes must be the file's.
pub fn check_source(data: &[u8], ext: &str) {
    let stored = (ext == "jp2").then(|| {
        let memory = Arc::new(tessera::storage::Memory::default());
        memory.put("source.jp2", data.to_vec());
        tessera::storage::Storage::from(memory)
            .resolve("source.jp2")
            .ok()
    });
    let path = scratch().join(format!("source.{ext}"));
    std::fs::write(&path, data).unwrap();
    let Ok(file) = Object::at(&path) else {
        return;
    };
    let dims = match tessera::source::read_dimensions(&file) {
        Ok(dims) => dims,
        Err(e) => {
            // A panic caught by `source::guarded` is still a crash for the fuzzer.
            assert!(!matches!(e, SourceError::Panicked(_)), "{e}");
            return;
        }
    };
    if ext == "jpg" {
        // The DC-only 1/8 decoder, directly: an image of the stated size, or an error.
        if let Ok(Some(e)) = tessera::source::jpeg_dc::decode_eighth(data) {
            let n = u64::from(e.width) * u64::from(e.height) * u64::from(e.channels);
            assert_eq!(n, e.pixels.len() as u64);
        }
    }
    let requests = [
        "full/5,/0/default.png",
        "full/64,/0/default.png",
        "0,0,40,30/full/0/default.jpg",
        "pct:10,10,80,80/!90,90/0/gray.jpg",
    ];
    for r in requests {
        let Ok(Route::Image(_, req)) = parse(&format!("x/{r}")) else {
            unreachable!()
        };
        let Ok(p) = plan(&req, dims, &limits()) else {
            continue;
        };
        let render = |file: &Object| {
            tessera::render::render(
                &Caches::new(0, 0),
                &Derivatives::disabled(),
                file,
                dims,
                &p,
                DECODE,
                tessera::render::Output {
                    jpeg_quality: 80,
                    background: tessera::pipeline::Background::Black,
                },
            )
        };
        let made = render(&file);
        if let (Some(Some(stored)), Ok(local)) = (&stored, &made) {
            match render(stored) {
                Ok(copied) => assert!(
                    copied == *local,
                    "{r}: the store's copy renders other bytes"
                ),
                Err(RenderError::Source(SourceError::Panicked(m))) => {
                    panic!("{r}: the store's copy panicked where the file did not: {m}")
                }
                Err(_) => {}
            }
        }
        match made {
            Ok(bytes) => {
                let img = image::load_from_memory(&bytes).expect("output decodes");
                assert_eq!((img.width(), img.height()), (p.width, p.height), "{r}");
            }
            Err(RenderError::Source(SourceError::Panicked(m))) => {
                // cargo-afl forces overflow checks on every crate; openjp2 0.6.1 overflows
                // on malformed codestreams (t2.rs:1211), which a release build wraps. Such
                // panics are counted apart from crashes (see RELIABILITY.md).
                let overflow =
                    ext == "jp2" && m.contains("attempt to") && m.contains("with overflow");
                assert!(overflow, "{r}: {m} panicked");
            }
            Err(_) => {}
        }
    }
}

/// The server of the router target: a folder of three small images, built once.
fn server() -> &'static (tokio::runtime::Runtime, axum::Router) {
    static SERVER: OnceLock<(tokio::runtime::Runtime, axum::Router)> = OnceLock::new();
    SERVER.get_or_init(|| {
        let images = scratch().join("images");
        std::fs::create_dir_all(&images).unwrap();
        let img = image::RgbImage::from_fn(96, 64, |x, y| image::Rgb([x as u8, y as u8, 90]));
        img.save(images.join("a.png")).unwrap();
        img.save(images.join("b.jpg")).unwrap();
        // Outputs up to 4 MP: the default 50 MP makes legitimate requests take seconds in
        // an instrumented build, which the fuzzer would report as hangs.
        let config = tessera::config::Config {
            images: images.clone(),
            records: vec![tessera::presentation::RecordsFolder::new(
                images.join("none"),
            )],
            derivative_min_pixels: 0,
            workers: 1,
            max_width: 2000,
            max_height: 2000,
            max_area: 4_000_000,
            ..Default::default()
        };
        let state = tessera::http::AppState::new(config.validate().unwrap()).unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        (runtime, tessera::http::router(Arc::new(state)))
    })
}

/// The router target: any request target gets an answer below 500 (the images are sound),
/// without a panic.
pub fn check_router(data: &[u8]) {
    use tower::ServiceExt;
    let (runtime, router) = server();
    let target = String::from_utf8_lossy(data);
    let target = if target.starts_with('/') {
        target.into_owned()
    } else {
        format!("/iiif/{target}")
    };
    let Ok(uri) = target.parse::<axum::http::Uri>() else {
        return;
    };
    let req = axum::http::Request::get(uri)
        .body(axum::body::Body::empty())
        .unwrap();
    let resp = runtime
        .block_on(router.clone().oneshot(req))
        .expect("infallible");
    assert!(resp.status().as_u16() < 500, "{target}: {}", resp.status());
}

/// The records target: any file text is split into records and each is read into the model,
/// and summarised as loading does (from the scan's parts and members), with reasons for what
/// is refused, and never a panic. Loading must agree with the full reader: the same records
/// at the same positions, the same shape, the same summary (access fields included) for each
/// record both read, and no record refused that the full reader reads (a refused record's
/// images would fall under `unlisted_images`). Loading may read a record that the full reader
/// refuses over a field the summary does not use (a duplicate `technique`, a number where a
/// string belongs): its manifest then gives what the summary holds (`Summary::object`), read
/// again from the record's text, which must be the summary loading made (access included).
pub fn check_records(data: &[u8]) {
    use tessera::presentation::shapes::{split, summaries, IdentifierRule, Shape, Summary};
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for forced in [None, Some(Shape::HarvardObject), Some(Shape::MPlus)] {
        let found = split(text, forced);
        for rule in [
            IdentifierRule::Stem,
            IdentifierRule::Path,
            IdentifierRule::Name,
        ] {
            let loaded = summaries(text, forced, rule);
            let (Ok(loaded), Ok(found)) = (&loaded, &found) else {
                assert_eq!(loaded.is_ok(), found.is_ok(), "{forced:?}: the file");
                continue;
            };
            assert_eq!(loaded.len(), found.len(), "{forced:?}: records");
            for ((position, loaded), found) in loaded.iter().zip(found) {
                assert_eq!(*position, found.position);
                let full = found.record.as_ref().map(|(shape, raw)| {
                    let object = shape.read(raw, rule);
                    if let Ok(object) = &object {
                        let _ = object.title();
                    }
                    (*shape, object.map(|o| Summary::of(&o)))
                });
                match (loaded, full) {
                    (Ok(loaded), Ok((shape, Ok(full)))) => {
                        assert_eq!(loaded, &(shape, full), "{forced:?} {rule:?}")
                    }
                    (Err(_), Ok((_, Err(_))) | Err(_)) => {}
                    // Read in part: the manifest's fallback (the record's summary read again
                    // from its text, `Store::summary_of`) is the summary loading made.
                    (Ok(loaded), Ok((shape, Err(_)))) => {
                        let raw = found.record.as_ref().map(|(_, raw)| *raw).unwrap_or("");
                        let again = shape.summary(raw, rule).map(|s| (shape, s));
                        assert_eq!(Ok(loaded), again.as_ref(), "{forced:?} {rule:?}")
                    }
                    (loaded, full) => panic!("{forced:?} {rule:?}: {loaded:?} against {full:?}"),
                }
            }
        }
    }
}
