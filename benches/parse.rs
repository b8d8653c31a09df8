//! The pure protocol path of one request: parse the path, resolve it against an image, and
//! make its canonical form (ns per URL).
//!
//!     cargo bench --bench parse

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use tessera::iiif::canonical::canonical_path;
use tessera::iiif::geometry::plan;
use tessera::iiif::path::{parse, Route};
use tessera::iiif::{Dimensions, Limits};

const URLS: [&str; 6] = [
    "urn-3:HUAM:DDC251092_dynmc/2048,1024,1024,1024/256,/0/default.jpg",
    "mosaic-six-photos/full/!200,200/0/default.jpg",
    "mosaic-six-photos/pct:10.5,20,30,40.25/pct:50/!22.5/gray.png",
    "a%2Fb%2Fc/square/max/90/bitonal.webp",
    "mosaic-six-photos/info.json",
    "mosaic-six-photos/4096,2048,704,1152/176,/0/default.jpg",
];

fn bench(c: &mut Criterion) {
    let dims = Dimensions {
        width: 4800,
        height: 3200,
    };
    let limits = Limits {
        max_width: 10_000,
        max_height: 10_000,
        max_area: 50_000_000,
        scale_cap: None,
    };
    c.bench_function("parse 6 URLs", |b| {
        b.iter(|| {
            for u in URLS {
                black_box(parse(black_box(u)).ok());
            }
        })
    });
    c.bench_function("parse + plan + canonical, 6 URLs", |b| {
        b.iter(|| {
            for u in URLS {
                if let Ok(Route::Image(_, req)) = parse(black_box(u)) {
                    if let Ok(p) = plan(&req, dims, &limits) {
                        black_box(canonical_path(&p, dims));
                    }
                }
            }
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
