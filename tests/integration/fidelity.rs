//! Image fidelity against libvips: colour-managed, CMYK, oriented and JPEG 2000 sources are
//! served and compared by PSNR with references made by `vips icc_transform`, `vips thumbnail`
//! and `vips autorot` (see tests/fixtures/fidelity/README.md and
//! scripts/make-fidelity-fixtures.sh). Full-size output must reach 38 dB, downscales 34 dB;
//! dimensions and orientation must match exactly.
//!
//! `cargo test --test integration fidelity:: -- --nocapture` prints the PSNR table.

use crate::common::*;
use image::{DynamicImage, GenericImageView};
use std::path::PathBuf;

fn dir() -> PathBuf {
    fixtures().join("fidelity")
}

fn reference(name: &str) -> DynamicImage {
    let p = dir().join("ref").join(name);
    image::open(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

struct Row {
    what: String,
    db: f64,
    min: f64,
}

fn report(rows: &[Row]) {
    println!("\n| output | PSNR vs libvips | required |\n| --- | ---: | ---: |");
    for r in rows {
        let db = if r.db.is_infinite() {
            "identical".to_string()
        } else {
            format!("{:.1} dB", r.db)
        };
        println!("| {} | {db} | {} dB |", r.what, r.min);
    }
    let bad: Vec<&Row> = rows.iter().filter(|r| r.db < r.min).collect();
    assert!(
        bad.is_empty(),
        "below the required PSNR: {:?}",
        bad.iter().map(|r| (&r.what, r.db)).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn colour_managed_sources_match_libvips() {
    let app = App::new(&dir(), |_| {});
    let base = &app.base;
    let mut rows = Vec::new();
    for file in [
        "adobergb.jpg",
        "prophoto16.tif",
        "displayp3.png",
        "gray-profile.jpg",
        "cmyk-profile.jpg",
        "cmyk-noprofile-adobe.jpg",
        "ycck.jpg",
        "cmyk.tif",
    ] {
        if !dir().join(file).exists() {
            continue;
        }
        let stem = file.rsplit_once('.').unwrap().0;
        let full = app
            .get_image(&format!("{base}/iiif/{file}/full/full/0/default.png"))
            .await;
        let want = reference(&format!("{stem}.png"));
        rows.push(Row {
            what: format!("{file} full size"),
            db: psnr(&full, &want),
            min: 38.0,
        });
        let want = reference(&format!("{stem}-200.png"));
        let (w, h) = want.dimensions();
        let small = app
            .get_image(&format!("{base}/iiif/{file}/full/{w},{h}/0/default.png"))
            .await;
        rows.push(Row {
            what: format!("{file} downscaled to {w}x{h}"),
            db: psnr(&small, &want),
            min: 34.0,
        });
    }
    assert!(rows.len() >= 10, "fixtures are missing: {}", rows.len());
    report(&rows);
}

#[tokio::test]
async fn every_exif_orientation_is_upright() {
    let app = App::new(&dir(), |_| {});
    let base = &app.base;
    let upright = image::open(dir().join("orient-upright.png")).unwrap();
    let (uw, uh) = upright.dimensions();
    let mut rows = Vec::new();
    for n in 1..=8 {
        let id = format!("orient-{n}.jpg");
        let (_, _, body) = app.get(&format!("{base}/iiif/{id}/info.json")).await;
        let info: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            (info["width"].as_u64(), info["height"].as_u64()),
            (Some(u64::from(uw)), Some(u64::from(uh))),
            "{id}"
        );
        let img = app
            .get_image(&format!("{base}/iiif/{id}/full/full/0/default.png"))
            .await;
        assert_eq!(img.dimensions(), (uw, uh), "{id}");
        rows.push(Row {
            what: format!("{id} upright"),
            db: psnr(&img, &reference(&format!("orient-{n}.png"))),
            min: 38.0,
        });
        // A region is taken from the upright image: the top-left quarter.
        let part = app
            .get_image(&format!(
                "{base}/iiif/{id}/0,0,{},{}/full/0/default.png",
                uw / 2,
                uh / 2
            ))
            .await;
        let want = upright.crop_imm(0, 0, uw / 2, uh / 2);
        rows.push(Row {
            what: format!("{id} top-left quarter"),
            db: psnr(&part, &want),
            min: 30.0,
        });
        // A reduction decoded by DCT scaling (1/2) is upright and sized by the upright image.
        let small = app
            .get_image(&format!("{base}/iiif/{id}/full/{},/0/default.png", uw / 2))
            .await;
        assert_eq!(small.dimensions(), (uw / 2, uh / 2), "{id} halved");
        let want = upright.resize_exact(uw / 2, uh / 2, image::imageops::FilterType::Lanczos3);
        rows.push(Row {
            what: format!("{id} halved (DCT-scaled decode)"),
            db: psnr(&small, &want),
            min: 34.0,
        });
        // JPEG output carries no orientation tag to be applied twice.
        let (_, _, jpg) = app
            .get(&format!("{base}/iiif/{id}/full/full/0/default.jpg"))
            .await;
        assert!(
            !jpg.windows(4).any(|w| w == b"Exif"),
            "{id}: output has EXIF"
        );
    }
    let img = app
        .get_image(&format!("{base}/iiif/orient-6.tif/full/full/0/default.png"))
        .await;
    assert_eq!(img.dimensions(), (uw, uh));
    rows.push(Row {
        what: "orient-6.tif upright".into(),
        db: psnr(&img, &upright),
        min: 38.0,
    });
    report(&rows);
}

#[tokio::test]
async fn jpeg2000_sources_decode_regions_and_levels() {
    let app = App::new(&dir(), |_| {});
    let base = &app.base;
    let mut rows = Vec::new();
    // base.j2k is the raw codestream of jp2-lossless.jp2: the same pixels, base.png exactly.
    for (file, stem, full_min) in [
        ("jp2-lossless.jp2", "jp2-lossless", 60.0),
        ("jp2-lossy.jp2", "jp2-lossy", 38.0),
        ("base.j2k", "jp2-lossless", 60.0),
    ] {
        let want = reference(&format!("{stem}.png"));
        let (w, h) = want.dimensions();
        let (_, _, body) = app.get(&format!("{base}/iiif/{file}/info.json")).await;
        let info: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            (info["width"].as_u64(), info["height"].as_u64()),
            (Some(u64::from(w)), Some(u64::from(h)))
        );
        let factors = info["tiles"][0]["scaleFactors"].as_array().unwrap().len();
        assert!(
            factors >= 3,
            "{file}: one scale factor per resolution level: {info}"
        );
        let full = app
            .get_image(&format!("{base}/iiif/{file}/full/full/0/default.png"))
            .await;
        rows.push(Row {
            what: format!("{file} full size"),
            db: psnr(&full, &want),
            min: full_min,
        });
        // A full-resolution tile is exactly the reference's pixels there.
        let tile = app
            .get_image(&format!(
                "{base}/iiif/{file}/256,128,256,256/full/0/default.png"
            ))
            .await;
        rows.push(Row {
            what: format!("{file} tile 256,128,256,256"),
            db: psnr(&tile, &want.crop_imm(256, 128, 256, 256)),
            min: full_min,
        });
        // A reduced tile (decoded at a lower resolution level) against libvips' thumbnail.
        let small = reference(&format!("{stem}-200.png"));
        let (sw, sh) = small.dimensions();
        let img = app
            .get_image(&format!("{base}/iiif/{file}/full/{sw},{sh}/0/default.png"))
            .await;
        rows.push(Row {
            what: format!("{file} downscaled to {sw}x{sh}"),
            db: psnr(&img, &small),
            min: 34.0,
        });
    }
    report(&rows);
}

#[tokio::test]
async fn pyramidal_tiffs_serve_tiles_from_their_levels() {
    let app = App::new(&dir(), |_| {});
    let base = &app.base;
    let truth = image::open(dir().join("base.png")).unwrap();
    let file = tessera::storage::Object::at(&dir().join("pyramid-jpeg.tif")).unwrap();
    let levels = tessera::source::pyramid::levels(&file).unwrap().unwrap();
    let widths: Vec<u32> = levels.iter().map(|l| l.width).collect();
    assert_eq!(widths, [600, 300, 150, 75], "vips wrote four levels");
    let mut rows = Vec::new();
    for (file, full_min, reduced_min) in [
        ("pyramid-deflate.tif", f64::INFINITY, 34.0),
        ("pyramid-jpeg.tif", 38.0, 34.0),
        // YCbCr with subsampled chroma at Q 75, vips's default kind of pyramid: its own
        // levels are that far from the picture (vips's decode of level 2 against base.png
        // reduced 4x is 27.2 dB).
        ("pyramid-ycbcr.tif", 30.0, 25.0),
        // pyramid-jpeg.tif's pixels in a BigTIFF (64-bit offsets), as vips writes large ones.
        ("pyramid-bigtiff.tif", 38.0, 34.0),
    ] {
        let (_, _, body) = app.get(&format!("{base}/iiif/{file}/info.json")).await;
        let info: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            (info["width"].as_u64(), info["height"].as_u64()),
            (Some(600), Some(400))
        );
        // Full-resolution tiles, inside and at the edge, are the source pixels.
        for (x, y, w, h) in [
            (128, 128, 128, 128),
            (512, 256, 88, 144),
            (100, 50, 300, 200),
        ] {
            let tile = app
                .get_image(&format!(
                    "{base}/iiif/{file}/{x},{y},{w},{h}/full/0/default.png"
                ))
                .await;
            assert_eq!(tile.dimensions(), (w, h));
            rows.push(Row {
                what: format!("{file} region {x},{y},{w},{h} at full size"),
                db: psnr(&tile, &truth.crop_imm(x, y, w, h)),
                min: full_min.min(38.0),
            });
        }
        // Reduced requests come from the smaller levels; they match the same request made
        // from the flat PNG by whole-image resampling.
        for path in [
            "0,0,256,256/128,/0/default.png",
            "full/!150,150/0/default.png",
            "300,200,300,200/75,/0/default.png",
        ] {
            let from_pyramid = app.get_image(&format!("{base}/iiif/{file}/{path}")).await;
            let from_flat = app.get_image(&format!("{base}/iiif/base.png/{path}")).await;
            rows.push(Row {
                what: format!("{file} {path}"),
                db: psnr(&from_pyramid, &from_flat),
                min: reduced_min,
            });
        }
    }
    report(&rows);
}

#[tokio::test]
async fn stored_jpeg_tiles_pass_through_undecoded() {
    let app = App::new(&dir(), |_| {});
    let base = &app.base;
    let truth = image::open(dir().join("base.png")).unwrap();
    let mut rows = Vec::new();
    // An interior stored tile (128 px tiles) at full resolution: the stored bytes, with the
    // TIFF's JPEG tables spliced in. Tessera's own encoder always writes a JFIF segment; the
    // stored tiles have none.
    let url = format!("{base}/iiif/pyramid-jpeg.tif/128,128,128,128/128,/0/default.jpg");
    let (status, headers, body) = app.get(&url).await;
    assert_eq!(
        (status.as_u16(), headers["content-type"].to_str().unwrap()),
        (200, "image/jpeg")
    );
    assert!(!body.windows(5).any(|w| w == b"JFIF\0"), "passed through");
    let img = image::load_from_memory(&body).unwrap();
    assert_eq!(img.dimensions(), (128, 128));
    rows.push(Row {
        what: "pyramid-jpeg.tif stored tile 1,1 passed through".into(),
        db: psnr(&img, &truth.crop_imm(128, 128, 128, 128)),
        min: 38.0,
    });
    // The same tile from the half-size level (region 256,0,256,256 -> 128 px).
    let url = format!("{base}/iiif/pyramid-jpeg.tif/256,0,256,256/128,/0/default.jpg");
    let (_, _, body) = app.get(&url).await;
    assert!(
        !body.windows(5).any(|w| w == b"JFIF\0"),
        "level 1 tile passed through"
    );
    // Unaligned regions and edge tiles are decoded and encoded, at their exact size.
    for (path, dims) in [
        ("100,100,128,128/128,", (128, 128)),
        ("512,384,88,16/88,", (88, 16)),
    ] {
        let (_, _, body) = app
            .get(&format!(
                "{base}/iiif/pyramid-jpeg.tif/{path}/0/default.jpg"
            ))
            .await;
        assert!(body.windows(5).any(|w| w == b"JFIF\0"), "{path} re-encoded");
        let img = image::load_from_memory(&body).unwrap();
        assert_eq!(img.dimensions(), dims, "{path}");
    }
    // Gray output of a stored tile is not a passthrough.
    let (_, _, body) = app
        .get(&format!(
            "{base}/iiif/pyramid-jpeg.tif/128,128,128,128/128,/0/gray.jpg"
        ))
        .await;
    assert_eq!(
        image::load_from_memory(&body).unwrap().color(),
        image::ColorType::L8
    );
    report(&rows);
}
