//! JPEG 2000 decoding with the decoder Tessera uses (`jpeg2k` on `openjp2`, the pure-Rust
//! OpenJPEG port), on the file `scripts/bench-jp2.sh` makes: full resolution, a 1/8 reduction,
//! and one 256-px tile at full resolution.
//!
//!     scripts/bench-jp2.sh      (also times OpenJPEG's C opj_decompress on the same work)

use criterion::{criterion_group, criterion_main, Criterion};
use std::path::Path;
use tessera::iiif::Rect;
use tessera::source::jp2;

fn bench(c: &mut Criterion) {
    let path =
        std::env::var("TESSERA_BENCH_JP2").unwrap_or_else(|_| "target/bench/mosaic.jp2".into());
    let path = Path::new(&path);
    if !path.exists() {
        eprintln!("no {}: run scripts/bench-jp2.sh", path.display());
        return;
    }
    let h = jp2::read_header(&tessera::storage::Object::at(path).unwrap()).unwrap();
    let mut g = c.benchmark_group("jp2 (openjp2)");
    g.sample_size(10);
    g.bench_function("full resolution", |b| {
        b.iter(|| jp2::decode(path, &h, None, 0).unwrap())
    });
    g.bench_function("reduce 3 (1/8)", |b| {
        b.iter(|| jp2::decode(path, &h, None, 3).unwrap())
    });
    let tile = Rect {
        x: 2048,
        y: 1024,
        w: 256,
        h: 256,
    };
    g.bench_function("one 256 tile", |b| {
        b.iter(|| jp2::decode(path, &h, Some(tile), 0).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
