//! The storage interface (issue 12): the whole server runs over objects held in memory, with
//! no file behind them, and answers exactly what it answers over the images folder. So
//! nothing above the interface assumes files; and a source's bytes are read in few, batched
//! round trips.

use crate::common::{assert_grid, assert_near, fixtures, psnr, wait_until_async, App, GRID};
use std::sync::Arc;
use std::time::Duration;
use tessera::presentation::RecordsFolder;
use tessera::storage::{Memory, Storage};

/// The fixtures served from memory, under the names they have on disk.
const SOURCES: [&str; 6] = [
    "grid.png",
    "grid.jpg",
    "grid-tiled.tif",
    "grid-strip.tif",
    "grid16-tiled.tif",
    "grid-gray.jpg",
];

async fn call(app: &App, path: &str) -> (u16, axum::http::HeaderMap, Vec<u8>) {
    let (status, headers, body) = app.get(path).await;
    (status.as_u16(), headers, body)
}

/// A JPEG 2000 copy of the grid, made by Tessera's own encoder.
fn grid_jp2() -> Vec<u8> {
    let grid = image::open(fixtures().join("grid.png")).unwrap();
    tessera::encode::encode(&grid, tessera::iiif::Format::Jp2, 95).unwrap()
}

#[tokio::test]
async fn the_server_over_memory_answers_exactly_as_over_files() {
    let memory = Arc::new(Memory::default());
    for name in SOURCES {
        memory.put(name, std::fs::read(fixtures().join(name)).unwrap());
    }
    let jp2 = grid_jp2();
    memory.put("grid.jp2", jp2.clone());
    let on_disk = tempfile::tempdir().unwrap();
    for name in SOURCES {
        std::fs::copy(fixtures().join(name), on_disk.path().join(name)).unwrap();
    }
    std::fs::write(on_disk.path().join("grid.jp2"), &jp2).unwrap();
    let in_memory = App::with_storage(Storage::from(memory.clone()), |_| {});
    let files = App::new(on_disk.path(), |_| {});
    let ids = [
        "grid",
        "grid.jpg",
        "grid-tiled",
        "grid-strip",
        "grid16-tiled",
        "grid-gray",
        "grid.jp2",
    ];
    let requests = [
        "info.json",
        "full/max/0/default.png",
        "full/200,/0/default.jpg",
        "100,100,200,100/100,/0/default.png",
        "256,256,144,44/,22/0/default.jpg",
        "0,0,256,256/128,/90/gray.png",
    ];
    for id in ids {
        for r in requests {
            let path = format!("/iiif/{id}/{r}");
            let (status, headers, body) = call(&in_memory, &path).await;
            let (want_status, want_headers, want) = call(&files, &path).await;
            assert_eq!(status, 200, "{path}: {}", String::from_utf8_lossy(&body));
            assert_eq!(status, want_status, "{path}");
            assert_eq!(
                headers["content-type"], want_headers["content-type"],
                "{path}"
            );
            assert!(
                body == want,
                "{path}: memory and files answered different bytes"
            );
        }
        // And the bytes are the grid: every block's colour where it should be.
        let (_, _, body) = call(&in_memory, &format!("/iiif/{id}/full/max/0/default.png")).await;
        let img = image::load_from_memory(&body).unwrap();
        let tol = if id.contains("jp") || id == "grid-gray" {
            // Lossy sources, and the gray one, whose blocks are gray levels, checked below.
            40
        } else {
            2
        };
        if id != "grid-gray" {
            assert_grid(&img, 1.0, tol, id);
        } else {
            let gray = img.to_luma8();
            assert!(gray.get_pixel(50, 50).0[0].abs_diff(76) <= 3, "{id}");
        }
    }
}

#[tokio::test]
async fn a_tile_window_of_a_pyramid_costs_few_batched_reads() {
    let memory = Arc::new(Memory::default());
    let fidelity = fixtures().join("fidelity");
    memory.put(
        "p.tif",
        std::fs::read(fidelity.join("pyramid-jpeg.tif")).unwrap(),
    );
    let app = App::with_storage(Storage::from(memory.clone()), |c| c.cache_encoded_mb = 0);
    let (status, _, _) = call(&app, "/iiif/p/info.json").await;
    assert_eq!(status, 200);
    // 300×200 at full resolution spans 4×3 of the pyramid's 128-px JPEG tiles (5×3 with the
    // resampling margin): they are read in one batched call, after the TIFF directory.
    let before = memory.reads();
    let path = "/iiif/p/100,50,300,200/full/0/default.png";
    let (status, _, body) = call(&app, path).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let reads = memory.reads() - before;
    let got = image::load_from_memory(&body).unwrap();
    let truth = image::open(fidelity.join("base.png"))
        .unwrap()
        .crop_imm(100, 50, 300, 200);
    let psnr = psnr(&got, &truth);
    assert!(psnr > 35.0, "PSNR {psnr:.1} dB");
    assert!(reads <= 3, "{reads} round trips for one tile window");
}

#[tokio::test]
async fn a_jpeg_2000_source_from_a_store_is_read_once_per_version() {
    // The decoder reads files only, so a JPEG 2000 source from a store is decoded from a
    // sparse local copy, started once per version: a region reads the tiles it covers that
    // the copy lacks, in one request, and nothing else; a replaced object gets a copy of its
    // new version.
    let memory = Arc::new(Memory::default());
    let grid = image::open(fixtures().join("grid.png")).unwrap();
    let tiled = tessera::encode::jp2::encode_tiled(&grid, Some(128)).unwrap();
    memory.put("g.jp2", tiled);
    let kept = App::with_storage(Storage::from(memory.clone()), |c| c.cache_encoded_mb = 0);
    let regions = [
        // Tile 0: the copy's header (one read) and the tile (one).
        "0,0,100,100/100,/0/default.png",
        // Tile 1 (x 128-255): one read.
        "200,0,50,50/50,/0/default.png",
        // Tile 0 again, smaller: none.
        "0,0,100,100/50,/0/default.png",
        // The other ten tiles: one read.
        "full/max/0/default.png",
    ];
    let (status, _, _) = call(&kept, "/iiif/g.jp2/info.json").await;
    assert_eq!(status, 200);
    let mut spent = Vec::new();
    for r in regions {
        let before = memory.reads();
        let (status, _, body) = call(&kept, &format!("/iiif/g.jp2/{r}")).await;
        assert_eq!(status, 200, "{r}: {}", String::from_utf8_lossy(&body));
        spent.push(memory.reads() - before);
    }
    assert_eq!(spent, [2, 1, 0, 1], "store reads per region");
    // The pixels are the grid's.
    let (_, _, body) = call(&kept, "/iiif/g.jp2/full/max/0/default.png").await;
    assert_grid(&image::load_from_memory(&body).unwrap(), 1.0, 40, "copy");
    // With no disk for copies, each decode starts its own copy (the setting is honoured).
    let none = App::with_storage(Storage::from(memory.clone()), |c| {
        c.cache_encoded_mb = 0;
        c.cache_jp2_copies_mb = 0;
    });
    call(&none, "/iiif/g.jp2/info.json").await;
    let before = memory.reads();
    for r in &regions[..2] {
        assert_eq!(call(&none, &format!("/iiif/g.jp2/{r}")).await.0, 200);
    }
    assert_eq!(
        memory.reads() - before,
        4,
        "a copy per decode: its header and its tile"
    );

    // Replaced by a flipped grid: the new version's copy is made and served, never the old.
    let grid = image::open(fixtures().join("grid.png")).unwrap();
    let flipped = grid.fliph();
    memory.put(
        "g.jp2",
        tessera::encode::encode(&flipped, tessera::iiif::Format::Jp2, 95).unwrap(),
    );
    let region = "0,0,200,200/200,/0/default.png";
    let (old, new) = (
        grid.crop_imm(0, 0, 200, 200),
        flipped.crop_imm(0, 0, 200, 200),
    );
    let arrived = wait_until_async(Duration::from_secs(10), || async {
        let Some(img) = kept.try_image(&format!("/iiif/g.jp2/{region}")).await else {
            return false;
        };
        let (was, is) = (psnr(&img, &old), psnr(&img, &new));
        assert!(
            was > 30.0 || is > 30.0,
            "neither version: {was:.1} / {is:.1} dB"
        );
        is > 30.0
    })
    .await;
    assert!(arrived, "the new version is served");
    let before = memory.reads();
    assert_eq!(
        call(&kept, "/iiif/g.jp2/200,0,200,200/100,/0/default.png")
            .await
            .0,
        200
    );
    assert_eq!(
        memory.reads() - before,
        0,
        "the new version's copy is reused"
    );
}

#[tokio::test]
async fn a_replaced_object_is_served_whole_in_its_new_version() {
    let memory = Arc::new(Memory::default());
    memory.put("g.png", std::fs::read(fixtures().join("grid.png")).unwrap());
    let app = App::with_storage(Storage::from(memory.clone()), |_| {});
    let path = "/iiif/g/0,0,100,100/10,/0/default.png";
    let (status, first, body) = call(&app, path).await;
    assert_eq!(status, 200);
    let red = image::load_from_memory(&body).unwrap().to_rgba8();
    assert_near(&red, 5, 5, GRID[0], 2, "before");
    let teal = image::RgbImage::from_pixel(400, 300, image::Rgb(GRID[11]));
    let mut png = Vec::new();
    teal.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    memory.put("g.png", png);
    // Every answer is one whole version or a clean "retry"; the new version arrives.
    let answers = std::cell::RefCell::new(Vec::new());
    let arrived = wait_until_async(Duration::from_secs(10), || async {
        let (status, headers, body) = call(&app, path).await;
        answers.borrow_mut().push(status);
        if status != 200 {
            assert_eq!(status, 503, "{}", String::from_utf8_lossy(&body));
            return false;
        }
        let img = image::load_from_memory(&body).unwrap().to_rgba8();
        let p = img.get_pixel(5, 5).0;
        let is_old = headers["etag"] == first["etag"];
        let want = if is_old { GRID[0] } else { GRID[11] };
        assert!((0..3).all(|c| p[c].abs_diff(want[c]) <= 2), "{p:?}");
        !is_old
    })
    .await;
    assert!(
        arrived,
        "the new version never arrived: {:?}",
        answers.borrow()
    );
}

#[tokio::test]
async fn records_restrict_objects_in_memory_by_every_name() {
    let records = crate::common::restricted_records();
    let memory = Arc::new(Memory::default());
    let grid = std::fs::read(fixtures().join("grid.png")).unwrap();
    memory.put("secret.png", grid.clone());
    memory.put("small.png", grid.clone());
    memory.put("open.png", grid);
    let records_dir = records.path().to_path_buf();
    let app = App::with_storage(Storage::from(memory.clone()), |c| {
        c.records = vec![RecordsFolder::new(records_dir)]
    });
    for path in [
        "/iiif/secret/info.json",
        "/iiif/secret.png/full/max/0/default.jpg",
        "/iiif/secret/0,0,1,1/1,/0/default.png",
    ] {
        let (status, _, body) = call(&app, path).await;
        assert!(
            matches!(status, 401 | 403),
            "{path}: {status} {}",
            String::from_utf8_lossy(&body)
        );
    }
    let (status, _, _) = call(&app, "/iiif/small/full/max/0/default.png").await;
    assert_eq!(status, 200);
    let (_, _, body) = call(&app, "/iiif/small/full/max/0/default.png").await;
    let img = image::load_from_memory(&body).unwrap();
    assert_eq!(img.width().max(img.height()), 256);
    let (status, _, _) = call(&app, "/iiif/open/full/max/0/default.png").await;
    assert_eq!(status, 200);
    // An object that arrives later under a restricted name is restricted too.
    memory.put(
        "secret.tif",
        std::fs::read(fixtures().join("grid-tiled.tif")).unwrap(),
    );
    memory.remove("secret.png");
    let (status, _, _) = call(&app, "/iiif/secret.tif/full/max/0/default.png").await;
    assert!(matches!(status, 401 | 403), "{status}");
}

#[tokio::test]
async fn a_store_failure_under_a_decoder_is_a_503_and_nothing_of_it_is_kept() {
    let memory = Arc::new(Memory::default());
    let fidelity = fixtures().join("fidelity");
    memory.put(
        "p.tif",
        std::fs::read(fidelity.join("pyramid-deflate.tif")).unwrap(),
    );
    let app = App::with_storage(Storage::from(memory.clone()), |c| {
        c.cache_encoded_mb = 0;
        c.cache_decoded_mb = 0;
    });
    // The header cannot be read: 503, and the source is not remembered as untiled.
    memory.set_failing(true);
    let (status, headers, body) = call(&app, "/iiif/p/info.json").await;
    assert_eq!(status, 503, "{}", String::from_utf8_lossy(&body));
    assert!(headers.contains_key("retry-after"));
    memory.set_failing(false);
    let (status, _, body) = call(&app, "/iiif/p/info.json").await;
    assert_eq!(status, 200);
    let info: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        info["tiles"][0]["width"], 128,
        "the pyramid's own tiles: {info}"
    );
    // Tiles read through the TIFF decoder fail while the store does: 503, not 500.
    let path = "/iiif/p/100,50,300,200/150,/0/default.png";
    let (status, _, good) = call(&app, path).await;
    assert_eq!(status, 200);
    memory.set_failing(true);
    let (status, _, body) = call(&app, path).await;
    assert_eq!(status, 503, "{}", String::from_utf8_lossy(&body));
    memory.set_failing(false);
    let (status, _, again) = call(&app, path).await;
    assert_eq!((status, again == good), (200, true));
}
