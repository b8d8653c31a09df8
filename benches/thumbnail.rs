//! A cold `full/!200,200/0/default.jpg` thumbnail of a 24-megapixel JPEG (6000×4000), as
//! Tessera renders it, against the same work without DCT scaling: decode at full size
//! (zune-jpeg), then Lanczos3 down to 200 px.
//!
//!     cargo bench --bench thumbnail
//!
//! A second group times the 1/8 decode alone: jpeg-decoder's scaled IDCT against the
//! DC-only decoder (`source::jpeg_dc`).
//!
//! The source is made once, in `target/bench/24mp.jpg`, by enlarging the sample mosaic (it is
//! a photograph mosaic, so the entropy decoder has real detail to chew on).

use criterion::{criterion_group, criterion_main, Criterion};
use std::path::{Path, PathBuf};
use tessera::iiif::geometry::plan;
use tessera::iiif::{Dimensions, ImageRequest, Limits};
use tessera::source::decode::{decode, decode_shrunk};
use tessera::source::DecodeLimits;
use tessera::storage::Object;
use tessera::{encode, pipeline, render};

fn source() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = root.join("target/bench/24mp.jpg");
    if !out.exists() {
        std::fs::create_dir_all(out.parent().unwrap()).unwrap();
        let mosaic = decode(
            &Object::at(&root.join("sample-images/mosaic-six-photos.jpg")).unwrap(),
            DecodeLimits::UNLIMITED,
        )
        .unwrap();
        let big = mosaic.resize_exact(6000, 4000, image::imageops::FilterType::CatmullRom);
        let bytes = encode::encode(&big, tessera::iiif::Format::Jpg, 90).unwrap();
        std::fs::write(&out, bytes).unwrap();
    }
    out
}

fn bench(c: &mut Criterion) {
    let path = Object::at(&source()).unwrap();
    let dims = Dimensions {
        width: 6000,
        height: 4000,
    };
    let limits = Limits {
        max_width: 10_000,
        max_height: 10_000,
        max_area: 50_000_000,
        scale_cap: None,
    };
    let req = ImageRequest::parse("full", "!200,200", "0", "default.jpg").unwrap();
    let p = plan(&req, dims, &limits).unwrap();
    let mut g = c.benchmark_group("thumbnail of a 24-MP JPEG");
    g.sample_size(10);
    g.bench_function("full decode + Lanczos3", |b| {
        b.iter(|| {
            let src = decode(&path, DecodeLimits::UNLIMITED).unwrap();
            let out = pipeline::execute(&src, &p, pipeline::Background::Black).unwrap();
            encode::encode(&out, p.format, 90).unwrap()
        })
    });
    let shrink = render::shrink_for(&p);
    g.bench_function(format!("DCT 1/{shrink} decode + Lanczos3 (Tessera)"), |b| {
        b.iter(|| {
            let src = decode_shrunk(&path, DecodeLimits::UNLIMITED, shrink).unwrap();
            let out =
                pipeline::execute_reduced(&src, &p, dims, pipeline::Background::Black).unwrap();
            encode::encode(&out, p.format, 90).unwrap()
        })
    });
    g.finish();
    // The 1/8 decode alone: the general decoder's scaled IDCT against the DC-only decoder.
    let bytes = path.read_all().unwrap();
    let mut g = c.benchmark_group("1/8 decode of a 24-MP JPEG");
    g.sample_size(10);
    g.bench_function("jpeg-decoder, scaled IDCT", |b| {
        b.iter(|| {
            let mut d = jpeg_decoder::Decoder::new(&bytes[..]);
            d.read_info().unwrap();
            d.scale(750, 500).unwrap();
            d.decode().unwrap()
        })
    });
    g.bench_function("DC only (Tessera)", |b| {
        b.iter(|| {
            tessera::source::jpeg_dc::decode_eighth(&bytes)
                .unwrap()
                .unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
