//! One 256-px tile, as OpenSeadragon asks for it, rendered and encoded by Tessera's own path
//! (`render::render`) from a 10,000×6,667 photograph, stored three ways:
//!
//! - a pyramidal JPEG-compressed TIFF with 256-px tiles (`vips tiffsave --tile --pyramid`);
//! - a flat JPEG, cold (decoded for each tile, with an empty cache) and warm (decoded once);
//! - a flat PNG, warm;
//! - the flat JPEG and PNG through their derivative pyramids (`tessera::derivative`).
//!
//!     cargo bench --bench tiles        (needs `vips` from libvips-tools for the TIFF)
//!
//! The sources are made once in `target/bench/` by enlarging the sample mosaic.

use criterion::{criterion_group, criterion_main, Criterion};
use std::path::{Path, PathBuf};
use std::process::Command;
use tessera::cache::Caches;
use tessera::derivative::{Derivatives, Settings};
use tessera::iiif::geometry::plan;
use tessera::iiif::{Dimensions, ImageRequest, Limits, Plan};
use tessera::render::{render, Output};

/// JPEG quality 90, the server's default; tiles are never rotated.
const OUTPUT: Output = Output {
    jpeg_quality: 90,
    background: tessera::pipeline::Background::Black,
};
use tessera::source::decode::decode;
use tessera::source::DecodeLimits;
use tessera::storage::{Object, Storage};

const W: u32 = 10_000;
const H: u32 = 6_667;

fn sources() -> (PathBuf, bool) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join("target/bench/tiles");
    std::fs::create_dir_all(&dir).unwrap();
    let jpg = dir.join("photo.jpg");
    if !jpg.exists() {
        let mosaic = decode(
            &Object::at(&root.join("sample-images/mosaic-six-photos.jpg")).unwrap(),
            DecodeLimits::UNLIMITED,
        )
        .unwrap();
        let big = mosaic.resize_exact(W, H, image::imageops::FilterType::CatmullRom);
        let bytes = tessera::encode::encode(&big, tessera::iiif::Format::Jpg, 90).unwrap();
        std::fs::write(&jpg, bytes).unwrap();
        big.save(dir.join("photo.png")).unwrap();
    }
    let tif = dir.join("photo.tif");
    let have_tif = tif.exists()
        || Command::new("vips")
            .args(["tiffsave", jpg.to_str().unwrap(), tif.to_str().unwrap()])
            .args(["--tile", "--pyramid", "--compression", "jpeg", "--Q", "90"])
            .args(["--tile-width", "256", "--tile-height", "256"])
            .status()
            .is_ok_and(|s| s.success());
    (dir, have_tif)
}

/// Output limits above every size the benches ask for.
fn limits() -> Limits {
    Limits {
        max_width: 10_000,
        max_height: 10_000,
        max_area: 100_000_000,
        scale_cap: None,
    }
}

fn tile_plan(x: u32, y: u32, s: u32) -> Plan {
    let dims = Dimensions {
        width: W,
        height: H,
    };
    let span = 256 * s;
    let (w, h) = (span.min(W - x), span.min(H - y));
    let size = format!("{},", w.div_ceil(s));
    let req = ImageRequest::parse(&format!("{x},{y},{w},{h}"), &size, "0", "default.jpg").unwrap();
    plan(&req, dims, &limits()).unwrap()
}

/// Renders one plan without decode limits (the sources are trusted), at quality 90.
fn tile(caches: &Caches, d: &Derivatives, f: &Object, dims: Dimensions, p: &Plan) -> Vec<u8> {
    render(caches, d, f, dims, p, DecodeLimits::UNLIMITED, OUTPUT).unwrap()
}

fn bench(c: &mut Criterion) {
    let (dir, have_tif) = sources();
    let root = dir.canonicalize().unwrap();
    let storage = Storage::files(&root).unwrap();
    let file = |name: &str| -> Object { storage.resolve(name).unwrap() };
    let dims = Dimensions {
        width: W,
        height: H,
    };
    // Twenty different tiles at full resolution, and twenty at 1/16, cycled.
    let full: Vec<Plan> = (0..20)
        .map(|i| tile_plan((i * 7 % 39) * 256, (i * 11 % 26) * 256, 1))
        .collect();
    let low: Vec<Plan> = (0..20)
        .map(|i| tile_plan((i % 3) * 4096, (i % 2) * 4096, 16))
        .collect();
    let off = Derivatives::disabled();
    let mut g = c.benchmark_group("one 256-px tile of a 10000x6667 photo");
    g.sample_size(20);
    if have_tif {
        let tif = file("photo.tif");
        let caches = Caches::new(0, 0);
        let mut i = 0;
        g.bench_function("pyramidal TIFF, cold, full resolution", |b| {
            b.iter(|| {
                i += 1;
                tile(&caches, &off, &tif, dims, &full[i % 20])
            })
        });
        g.bench_function("pyramidal TIFF, cold, scale 1/16", |b| {
            b.iter(|| {
                i += 1;
                tile(&caches, &off, &tif, dims, &low[i % 20])
            })
        });
    } else {
        eprintln!("vips not found: no pyramidal TIFF (apt-get install libvips-tools)");
    }
    let jpg = file("photo.jpg");
    let warm = Caches::new(2048, 0);
    let mut i = 0;
    g.bench_function("flat JPEG, warm (decoded once), full resolution", |b| {
        b.iter(|| {
            i += 1;
            tile(&warm, &off, &jpg, dims, &full[i % 20])
        })
    });
    let png = file("photo.png");
    g.bench_function("flat PNG, warm (decoded once), full resolution", |b| {
        b.iter(|| {
            i += 1;
            tile(&warm, &off, &png, dims, &full[i % 20])
        })
    });
    // The same flat sources through their derivative pyramids (built once, then found on disk).
    let derived = |name: &str| {
        let d = Derivatives::new(
            Settings {
                dir: dir.join("derivatives"),
                min_pixels: 1,
                tile: 256,
                quality: 90,
                decode: DecodeLimits::UNLIMITED,
                parallel: false,
                bucket: None,
            },
            Caches::new(0, 0),
        );
        let f = file(name);
        let started = std::time::Instant::now();
        while d.ready(&f, dims).is_none() {
            assert!(
                started.elapsed().as_secs() < 300,
                "no derivative for {name}"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        eprintln!("derivative of {name} ready after {:?}", started.elapsed());
        (d, f)
    };
    for name in ["photo.jpg", "photo.png"] {
        let (d, f) = derived(name);
        let caches = Caches::new(0, 0);
        g.bench_function(
            format!("flat {name} through its derivative pyramid, cold, full resolution"),
            |b| {
                b.iter(|| {
                    i += 1;
                    tile(&caches, &d, &f, dims, &full[i % 20])
                })
            },
        );
        g.bench_function(
            format!("flat {name} through its derivative pyramid, cold, scale 1/16"),
            |b| {
                b.iter(|| {
                    i += 1;
                    tile(&caches, &d, &f, dims, &low[i % 20])
                })
            },
        );
        // The largest entry of the `sizes` ladder: a whole level read, then encoded.
        let req = ImageRequest::parse("full", "5000,", "0", "default.jpg").unwrap();
        let half = plan(&req, dims, &limits()).unwrap();
        g.bench_function(
            format!("flat {name} through its derivative pyramid, not a tile: full/5000,"),
            |b| b.iter(|| tile(&caches, &d, &f, dims, &half)),
        );
    }
    g.sample_size(10);
    g.bench_function(
        "flat JPEG, cold (whole decode per tile), full resolution",
        |b| {
            b.iter(|| {
                i += 1;
                render(
                    &Caches::new(0, 0),
                    &off,
                    &jpg,
                    dims,
                    &full[i % 20],
                    DecodeLimits::UNLIMITED,
                    OUTPUT,
                )
                .unwrap()
            })
        },
    );
    g.finish();

    // The largest `sizes` entry that `tessera tiles` writes, 5000x3334, as JPEG Q90: one
    // jpeg-encoder pass against the strips that `encode::jpeg_pixels` encodes on all cores.
    let photo = decode(
        &Object::at(&dir.join("photo.jpg")).unwrap(),
        DecodeLimits::UNLIMITED,
    )
    .unwrap()
    .resize_exact(5000, 3334, image::imageops::FilterType::Triangle)
    .to_rgb8();
    let mut g = c.benchmark_group("5000x3334 JPEG encode, Q90");
    g.sample_size(10);
    g.bench_function("one pass (jpeg-encoder)", |b| {
        b.iter(|| {
            let mut out = Vec::new();
            let mut enc = jpeg_encoder::Encoder::new(&mut out, 90);
            enc.set_sampling_factor(jpeg_encoder::SamplingFactor::R_4_4_4);
            enc.encode(photo.as_raw(), 5000, 3334, jpeg_encoder::ColorType::Rgb)
                .unwrap();
            out
        })
    });
    g.bench_function("512-row strips on all cores (encode::jpeg_pixels)", |b| {
        b.iter(|| tessera::encode::jpeg_pixels(photo.as_raw(), 5000, 3334, 3, 90).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
