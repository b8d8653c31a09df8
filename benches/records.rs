//! How fast the object-record store loads, and how much memory it keeps, at Harvard's scale.
//!
//!     cargo bench --bench records                        (250,000 records)
//!     TESSERA_BENCH_RECORDS=25000 cargo bench --bench records
//!     TESSERA_BENCH_SHAPES=mixed cargo bench --bench records  (four museums' shapes in turn)
//!
//! Records are generated once into `target/bench-records-N/`, modelled on Harvard object
//! records (about 2.5 KB each, two images on average), and reused by later runs. Timings are
//! with the files in the page cache. Before the timed runs it prints, from a counting
//! allocator, the heap the loaded store holds and the peak heap during loading, the part of
//! it the browser's search index holds, and the growth of resident memory.

use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::json;
use std::alloc::{GlobalAlloc, Layout, System};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use tessera::presentation::Store;

/// The system allocator, counting live and peak bytes.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        unsafe { System.dealloc(p, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

const CLASSES: [&str; 12] = [
    "Paintings",
    "Prints",
    "Photographs",
    "Drawings",
    "Vessels",
    "Coins",
    "Sculpture",
    "Textile Arts",
    "Manuscripts",
    "Seals",
    "Jewelry",
    "Furnishings",
];

fn record(i: u64) -> serde_json::Value {
    let images: Vec<serde_json::Value> = (0..1 + i % 3)
        .map(|k| {
            json!({
                "date": "2013-05-28", "copyright": "President and Fellows of Harvard College",
                "imageid": i * 10 + k, "format": "image/jpeg", "description": null, "technique": null,
                "renditionnumber": format!("DDC{:06}", i * 10 + k), "displayorder": k + 1,
                "baseimageurl": format!("https://nrs.harvard.edu/urn-3:HUAM:DDC{:06}_dynmc", i * 10 + k),
                "alttext": null, "width": 1000 + (i % 2000), "height": 800 + (i % 1500), "publiccaption": null,
                "accesslevel": if i % 97 == 0 { 0 } else { 1 },
            })
        })
        .collect();
    json!({
        "objectid": i, "id": i, "objectnumber": format!("19{:02}.{}", i % 100, i),
        "title": format!("Untitled study number {i}, from a sketchbook of landscapes"),
        "dated": format!("{}th century", 12 + i % 9), "classification": CLASSES[(i % 12) as usize],
        "medium": "Ink and color on paper", "technique": "Drawing",
        "dimensions": "sheet: 32.4 x 24.1 cm (12 3/4 x 9 1/2 in.)",
        "creditline": "Harvard Art Museums/Fogg Museum, Gift of a generous donor",
        "provenance": "Collection of the artist, until his death; by descent to his family; sold at auction, \
                       London, 1921, lot 123; private collection, Boston; gift to the museum, 1962.",
        "copyright": null, "description": null, "accesslevel": 1, "imagepermissionlevel": (i % 50 == 0) as u8,
        "url": format!("https://www.harvardartmuseums.org/collections/object/{i}"),
        "people": [{"role": "Artist", "displayname": format!("Artist {}", i % 5000), "culture": "American",
                    "displaydate": "1850 - 1920", "displayorder": 1, "personid": i % 5000}],
        "colors": [{"color": "#c8c8af", "spectrum": "#7866ad", "hue": "Grey", "percent": 0.42, "css3": "#c0c0c0"},
                   {"color": "#322819", "spectrum": "#3db657", "hue": "Brown", "percent": 0.21, "css3": "#2f4f4f"}],
        "images": images,
        "imagecount": images.len(), "lastupdate": "2026-07-01T04:31:42-0400",
    })
}

/// Record `i` in one of four shapes in turn (Harvard object, Brooklyn API v2, M+, Paris
/// Musées), each about as large as the Harvard one, for the mixed run.
fn mixed(i: u64) -> serde_json::Value {
    let title = format!("Untitled study number {i}, from a sketchbook of landscapes");
    let class = CLASSES[(i % 12) as usize];
    let images = |f: &dyn Fn(u64) -> serde_json::Value| -> Vec<serde_json::Value> {
        (0..1 + i % 3).map(|k| f(i * 10 + k)).collect()
    };
    match i % 4 {
        0 => record(i),
        1 => json!({"data": {
            "id": i, "title": title, "accession_number": format!("19{:02}.{i}", i % 100),
            "object_date": "ca. 1949", "medium": "Molded walnut plywood, chromed metal, rubber",
            "dimensions": "30 1/2 x 22 x 22 1/4 in. (77.5 x 55.9 x 56.5 cm)",
            "credit_line": "Alfred T. and Caroline S. Zoebisch Fund", "classification": class,
            "description": "Side chair. Molded walnut plywood, chromed metal and rubber. Ovoid continuous bent plywood seat and back with ovoid hollow at juncture of the seat and back.",
            "public_access": 1, "copyright_restricted": (i % 50 == 1) as u8,
            "rights_type": {"name": "creative_commons_by", "public_name": "Creative Commons-BY"},
            "artists": [{"id": i % 5000, "name": format!("Artist {}", i % 5000), "nationality": "American",
                         "role": "Designer", "dates": "American, born 1918", "rank": 1}],
            "images": images(&|n| json!({"id": n, "filename": format!("{i}.{n}_view1_SL1.jpg"),
                "rank": n % 10, "width": 1536, "height": 1152, "credit": "Brooklyn Museum photograph"})),
        }}),
        2 => json!({"_index": "objects", "_id": i.to_string(), "_source": {
            "id": i, "objectnumber": format!("{}.{}", i % 9000, i), "datebegin": 1960, "dateend": 1970,
            "titles": [[{"text": title, "lang": "en"}, {"text": "飛上枝頭", "lang": "zh-hant"}]],
            "creditlines": [{"text": "M+, Hong Kong. Gift of a generous donor", "lang": "en"},
                            {"text": "M+，香港。捐贈", "lang": "zh-hant"}],
            "mediums": [{"text": "gelatin silver print", "lang": "en"}, {"text": "銀鹽紙基", "lang": "zh-hant"}],
            "dimensions": [{"text": "48.3 × 35.6 cm", "lang": "en"}],
            "areacategories": [{"rank": 1, "type": "Area", "areacat": [{"text": "Visual Art", "lang": "en"}, {"text": "視覺藝術", "lang": "zh-hant"}]},
                               {"rank": 2, "type": "Category", "areacat": [{"text": class, "lang": "en"}]}],
            "authors": [[{"rank": 1, "author": i % 5000, "name": format!("Artist {}", i % 5000),
                          "roles": [{"text": "Artist", "lang": "en"}, {"text": "藝術家", "lang": "zh-hant"}]}]],
            "medias": images(&|n| json!({"rank": n % 10, "primarydisplay": n % 10 == 0,
                "filename": format!("/main-library/Collection_Images/{:06}_{n}.jpg", i)})),
        }}),
        _ => json!({"data": {"nodeById": {
            "entityBundle": "oeuvre", "entityId": i.to_string(), "title": title,
            "absolutePath": format!("http://parismuseescollections.paris.fr/node/{i}"),
            "fieldUrlAlias": format!("petit-palais/oeuvres/etude-{i}"),
            "fieldDenominations": [{"entity": {"name": class}}],
            "fieldOeuvreThemeRepresente": [{"entity": {"name": "Paysage"}}],
            "fieldLieuxConcernes": [{"entity": {"name": "Seine"}}, {"entity": {"name": "Lavacourt"}}],
            "fieldDonateurs": [{"entity": {"name": "Brandus, Edward"}}],
            "fieldVisuels": images(&|n| json!({"entity": {
                "publicUrl": format!("https://www.parismuseescollections.paris.fr/sites/default/files/oeuvre/PPP{i}_{n}.jpg")}})),
        }}}),
    }
}

fn records_dir(n: u64, mix: bool) -> PathBuf {
    let name = if mix {
        "bench-records-mixed"
    } else {
        "bench-records"
    };
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("target/{name}-{n}"));
    let done = dir.join(".complete");
    if !done.exists() {
        eprintln!("generating {n} records in {} (once)", dir.display());
        for i in 1..=n {
            let sub = dir.join(format!("{:03}", i % 1000));
            if i <= 1000 {
                std::fs::create_dir_all(&sub).unwrap();
            }
            let r = if mix { mixed(i) } else { record(i) };
            std::fs::write(sub.join(format!("{i}.json")), r.to_string()).unwrap();
        }
        std::fs::write(&done, b"").unwrap();
    }
    dir
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn bench(c: &mut Criterion) {
    let n: u64 = std::env::var("TESSERA_BENCH_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(250_000);
    // TESSERA_BENCH_SHAPES=mixed: a quarter each of Harvard, Brooklyn v2, M+ and Paris Musées.
    let mix = std::env::var("TESSERA_BENCH_SHAPES").is_ok_and(|v| v == "mixed");
    let dir = records_dir(n, mix);
    let rss_before = rss_kib();
    let live_before = LIVE.load(Ordering::Relaxed);
    PEAK.store(live_before, Ordering::Relaxed);
    let started = std::time::Instant::now();
    let (store, report) = Store::load_with(&dir, false);
    let took = started.elapsed();
    let held = LIVE.load(Ordering::Relaxed).saturating_sub(live_before);
    let peak = PEAK.load(Ordering::Relaxed).saturating_sub(live_before);
    let rss = rss_kib().saturating_sub(rss_before);
    let mib = |b: usize| b as f64 / (1024.0 * 1024.0);
    println!(
        "records: {} loaded, {} skipped in {:.2?}; the store holds {:.1} MiB of heap ({} bytes per record); \
         peak heap while loading {:.1} MiB; resident memory grew {:.1} MiB",
        report.loaded,
        report.skipped.len(),
        took,
        mib(held),
        held / n.max(1) as usize,
        mib(peak),
        rss as f64 / 1024.0
    );
    let index = store.search_index();
    println!(
        "search index (titles and object numbers of public objects, built in Store::load): \
         {:.1} MiB, {} bytes per record, {} distinct words",
        mib(index.heap_bytes()),
        index.heap_bytes() / n.max(1) as usize,
        index.word_count()
    );
    assert_eq!(store.len() as u64, n);
    drop(store);
    let mut g = c.benchmark_group("records");
    g.sample_size(10);
    g.bench_function(
        format!("load {n}{}", if mix { " mixed" } else { "" }),
        |b| b.iter(|| Store::load_with(&dir, false).0.len()),
    );
    // The search index alone, over the titles and numbers the Harvard records hold.
    let texts: Vec<(String, String)> = (0..n)
        .map(|i| {
            let r = record(i);
            let text = |k: &str| r[k].as_str().unwrap_or_default().to_string();
            (text("title"), text("objectnumber"))
        })
        .collect();
    g.bench_function(format!("search index of {n} titles and numbers"), |b| {
        b.iter(|| {
            let mut words = tessera::presentation::search::Builder::default();
            for (i, (title, number)) in texts.iter().enumerate() {
                words.add(i as u32, &[title, number]);
            }
            words.finish().word_count()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
