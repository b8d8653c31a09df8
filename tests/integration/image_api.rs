//! HTTP-level tests of the Image API: requests to the router in process, with the pixels of
//! every answer checked.

use crate::common::*;
use axum::body::Body;
use axum::http::{HeaderMap, StatusCode};
use image::GenericImageView;
use tessera::iiif::LEVEL2;

const SAMPLE_ID: &str = "67352ccc-d1b0-11e1-89ae-279075081939";

#[tokio::test]
async fn info_json_describes_the_image() {
    let app = App::new(&fixtures(), |_| {});
    let base = &app.base;
    let url = format!("{base}/iiif/grid.png/info.json");
    let (status, headers, body) = app.get(&url).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(headers["access-control-allow-origin"], "*");
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["@context"], "http://iiif.io/api/image/2/context.json");
    assert_eq!(v["@id"], format!("{base}/iiif/grid.png"));
    assert_eq!(v["protocol"], "http://iiif.io/api/image");
    assert_eq!(
        (v["width"].as_u64(), v["height"].as_u64()),
        (Some(400), Some(300))
    );
    assert_eq!(v["profile"][0], LEVEL2);
    assert_eq!(v["tiles"][0]["width"], 256);
    assert_eq!(v["tiles"][0]["scaleFactors"], serde_json::json!([1, 2]));
    assert_eq!(
        v["sizes"],
        serde_json::json!([{"width": 200, "height": 150}, {"width": 400, "height": 300}])
    );
    let profile = &v["profile"][1];
    assert_eq!(profile["maxWidth"], 10_000);
    for f in ["jpg", "png", "gif", "webp", "tif", "pdf", "jp2"] {
        assert!(
            profile["formats"].as_array().unwrap().contains(&f.into()),
            "{f}"
        );
    }

    let (_, ld, _) = app
        .get_with(&url, &[("Accept", "application/ld+json")])
        .await;
    assert_eq!(ld["content-type"], "application/ld+json");
}

#[tokio::test]
async fn every_listed_size_and_tile_is_served_exactly() {
    let app = App::new(&samples(), |_| {});
    let base = &app.base;
    let id = "portrait-forest-path";
    let (_, _, body) = app.get(&format!("{base}/iiif/{id}/info.json")).await;
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let (w, h) = (
        v["width"].as_u64().unwrap() as u32,
        v["height"].as_u64().unwrap() as u32,
    );
    for s in v["sizes"].as_array().unwrap() {
        let (sw, sh) = (
            s["width"].as_u64().unwrap() as u32,
            s["height"].as_u64().unwrap() as u32,
        );
        let img = app
            .get_image(&format!("{base}/iiif/{id}/full/{sw},/0/default.jpg"))
            .await;
        assert_eq!(img.dimensions(), (sw, sh));
    }
    // The right and bottom edge tiles at every scale factor, as OpenSeadragon asks for them.
    let t = v["tiles"][0]["width"].as_u64().unwrap() as u32;
    for sf in v["tiles"][0]["scaleFactors"].as_array().unwrap() {
        let s = sf.as_u64().unwrap() as u32;
        let span = t * s;
        let xr = (w - 1) / span * span;
        let yr = (h - 1) / span * span;
        let (wr, hr) = ((w - xr).min(span), (h - yr).min(span));
        let (ws, hs) = (wr.div_ceil(s), hr.div_ceil(s));
        let url = format!("{base}/iiif/{id}/{xr},{yr},{wr},{hr}/{ws},/0/default.jpg");
        assert_eq!(app.get_image(&url).await.dimensions(), (ws, hs), "{url}");
    }
}

#[tokio::test]
async fn every_source_format_decodes_to_the_grid() {
    let app = App::new(&fixtures(), |_| {});
    let base = &app.base;
    let gray_grid = [76u8, 150, 29, 226, 105, 179, 255, 0, 128, 151, 67, 90];
    for (name, lossy) in [
        ("grid.png", false),
        ("grid16.png", false),
        ("grid-palette.png", false),
        ("grid-alpha.png", false),
        ("grid.jpg", true),
        ("grid-progressive.jpg", true),
        ("grid-strip.tif", false),
        ("grid-tiled.tif", false),
        ("grid16-tiled.tif", false),
        ("grid16-strip.tif", false),
    ] {
        let img = app
            .get_image(&format!("{base}/iiif/{name}/full/full/0/default.png"))
            .await;
        assert_eq!(img.dimensions(), (400, 300), "{name}");
        assert_grid(&img, 1.0, if lossy { 8 } else { 0 }, name);
    }
    for (name, tol) in [
        ("grid-gray.png", 0),
        ("grid-gray-alpha.png", 0),
        ("grid-gray.jpg", 8),
    ] {
        let img = app
            .get_image(&format!("{base}/iiif/{name}/full/full/0/default.png"))
            .await;
        let l = img.to_luma8();
        for (i, want) in gray_grid.iter().enumerate() {
            let (x, y) = ((i % 4) as u32 * 100 + 50, (i / 4) as u32 * 100 + 50);
            let got = l.get_pixel(x, y).0[0];
            assert!(
                got.abs_diff(*want) <= tol,
                "{name} block {i}: {got} vs {want}"
            );
        }
    }
    // Alpha survives into PNG output.
    let img = app
        .get_image(&format!("{base}/iiif/grid-alpha/full/full/0/default.png"))
        .await;
    let rgba = img.to_rgba8();
    assert_eq!(
        (rgba.get_pixel(50, 50).0[3], rgba.get_pixel(350, 250).0[3]),
        (255, 128)
    );
}

#[tokio::test]
async fn regions_crop_the_right_pixels() {
    let app = App::new(&fixtures(), |_| {});
    let base = &app.base;
    let img = app
        .get_image(&format!(
            "{base}/iiif/grid.png/100,0,100,100/full/0/default.png"
        ))
        .await;
    assert_eq!(img.dimensions(), (100, 100));
    let rgba = img.to_rgba8();
    assert!(
        rgba.pixels().all(|p| p.0[..3] == GRID[1]),
        "block 1 is all green, exactly"
    );

    // Beyond the edge: cropped, not padded.
    let img = app
        .get_image(&format!(
            "{base}/iiif/grid.png/350,250,500,500/full/0/default.png"
        ))
        .await;
    assert_eq!(img.dimensions(), (50, 50));
    assert_near(&img.to_rgba8(), 25, 25, GRID[11], 0, "teal corner");

    let img = app
        .get_image(&format!(
            "{base}/iiif/grid.png/pct:50,0,25,100/full/0/default.png"
        ))
        .await;
    assert_eq!(img.dimensions(), (100, 300));
    assert_near(&img.to_rgba8(), 50, 50, GRID[2], 0, "pct region, blue");
    assert_near(&img.to_rgba8(), 50, 250, GRID[10], 0, "pct region, purple");

    let img = app
        .get_image(&format!("{base}/iiif/grid.png/square/full/0/default.png"))
        .await;
    assert_eq!(img.dimensions(), (300, 300));
    // Centred: x 50..350 of the source.
    assert_near(
        &img.to_rgba8(),
        10,
        10,
        GRID[0],
        0,
        "square left edge is red",
    );
    assert_near(
        &img.to_rgba8(),
        290,
        10,
        GRID[3],
        0,
        "square right edge is yellow",
    );
}

#[tokio::test]
async fn sizes_scale_and_fit() {
    let app = App::new(&fixtures(), |_| {});
    let base = &app.base;
    let cases = [
        ("full", (400, 300)),
        ("max", (400, 300)),
        ("200,", (200, 150)),
        (",150", (200, 150)),
        ("pct:25", (100, 75)),
        ("100,200", (100, 200)),
        ("!100,100", (100, 75)),
        ("!300,60", (80, 60)),
        ("800,", (800, 600)),
    ];
    for (size, dims) in cases {
        let img = app
            .get_image(&format!("{base}/iiif/grid.png/full/{size}/0/default.png"))
            .await;
        assert_eq!(img.dimensions(), dims, "{size}");
        let scale = f64::from(dims.0) / 400.0;
        if size != "100,200" {
            assert_grid(&img, scale, 6, size);
        }
    }
}

#[tokio::test]
async fn best_fit_always_fits_the_box() {
    let app = App::new(&samples(), |_| {});
    let base = &app.base;
    for id in [
        "landscape-lake-boats",
        "portrait-forest-path",
        "small-garden",
        "alpha-ladybird",
    ] {
        for (bw, bh) in [(150u32, 150u32), (200, 90), (90, 200), (1000, 1000)] {
            let img = app
                .get_image(&format!("{base}/iiif/{id}/full/!{bw},{bh}/0/default.jpg"))
                .await;
            let (w, h) = img.dimensions();
            assert!(w <= bw && h <= bh, "{id} !{bw},{bh} gave {w}x{h}");
            assert!(
                w == bw || h == bh,
                "{id} !{bw},{bh} gave {w}x{h}: not the largest fit"
            );
        }
    }
}

#[tokio::test]
async fn mirroring_and_rotation() {
    let app = App::new(&fixtures(), |_| {});
    let base = &app.base;
    let img = app
        .get_image(&format!("{base}/iiif/grid.png/full/full/!0/default.png"))
        .await;
    assert_eq!(img.dimensions(), (400, 300));
    let m = img.to_rgba8();
    assert_near(&m, 50, 50, GRID[3], 0, "mirrored: yellow now top-left");
    assert_near(&m, 350, 50, GRID[0], 0, "mirrored: red now top-right");

    let img = app
        .get_image(&format!("{base}/iiif/grid.png/full/full/90/default.png"))
        .await;
    assert_eq!(img.dimensions(), (300, 400));
    let r = img.to_rgba8();
    assert_near(&r, 50, 50, GRID[8], 0, "90: bottom-left gray now top-left");
    assert_near(&r, 250, 50, GRID[0], 0, "90: red now top-right");

    let img = app
        .get_image(&format!("{base}/iiif/grid.png/full/full/!90/default.png"))
        .await;
    assert_near(
        &img.to_rgba8(),
        250,
        50,
        GRID[3],
        0,
        "!90: yellow top-right",
    );

    let img = app
        .get_image(&format!("{base}/iiif/grid.png/full/full/180/default.png"))
        .await;
    assert_near(&img.to_rgba8(), 50, 50, GRID[11], 0, "180: teal top-left");

    // An arbitrary angle grows the canvas to the bounding box; corners are transparent in
    // PNG and black in JPEG (white with `rotation_background = "white"`).
    let img = app
        .get_image(&format!("{base}/iiif/grid.png/full/full/30/default.png"))
        .await;
    assert_eq!(img.dimensions(), (496, 460));
    let r = img.to_rgba8();
    assert_eq!(r.get_pixel(0, 0).0[3], 0);
    assert_eq!(r.get_pixel(495, 459).0[3], 0);
    assert_eq!(r.get_pixel(248, 230).0[3], 255);
    let img = app
        .get_image(&format!("{base}/iiif/grid.png/full/full/30/default.jpg"))
        .await;
    assert_near(&img.to_rgba8(), 2, 2, [0, 0, 0], 3, "jpg corner");
    let white = App::new(&fixtures(), |c| {
        c.rotation_background = tessera::pipeline::Background::White;
    });
    let img = white
        .get_image(&format!("{base}/iiif/grid.png/full/full/30/default.jpg"))
        .await;
    assert_near(
        &img.to_rgba8(),
        2,
        2,
        [255, 255, 255],
        3,
        "white jpg corner",
    );
}

#[tokio::test]
async fn gray_and_bitonal_qualities() {
    let app = App::new(&fixtures(), |_| {});
    let base = &app.base;
    let img = app
        .get_image(&format!("{base}/iiif/grid.png/full/full/0/gray.png"))
        .await;
    assert_eq!(img.color(), image::ColorType::L8);
    let l = img.to_luma8();
    // Rec. 709 luma of red, green and blue.
    assert_eq!(
        [
            l.get_pixel(50, 50).0[0],
            l.get_pixel(150, 50).0[0],
            l.get_pixel(250, 50).0[0]
        ],
        [54, 182, 18]
    );

    let img = app
        .get_image(&format!("{base}/iiif/grid.png/full/full/0/bitonal.png"))
        .await;
    let l = img.to_luma8();
    assert!(
        l.pixels().all(|p| p.0[0] == 0 || p.0[0] == 255),
        "only black and white"
    );
    assert_eq!(l.get_pixel(50, 50).0[0], 0, "red is dark");
    assert_eq!(l.get_pixel(350, 50).0[0], 255, "yellow is light");
    // A true one-bit image: PNG bit depth 1 (IHDR byte 24), TIFF with one bit per pixel.
    let (_, _, png) = app
        .get(&format!("{base}/iiif/grid.png/full/full/0/bitonal.png"))
        .await;
    assert_eq!(png[24], 1, "PNG bit depth");
    let (_, _, tif) = app
        .get(&format!("{base}/iiif/grid.png/full/full/0/bitonal.tif"))
        .await;
    assert!(
        tif.len() < 400 * 300 / 8 + 1000,
        "TIFF is {} bytes",
        tif.len()
    );
    assert_eq!(image::load_from_memory(&tif).unwrap().to_luma8(), l);

    // Still one bit when the source has alpha, or rotation adds it (composited on white).
    for path in [
        "grid-alpha.png/full/full/0/bitonal.png",
        "grid.png/full/full/30/bitonal.png",
    ] {
        let (_, _, png) = app.get(&format!("{base}/iiif/{path}")).await;
        assert_eq!(png[24], 1, "{path}: PNG bit depth");
    }

    let img = app
        .get_image(&format!("{base}/iiif/grid-gray/full/full/0/color.png"))
        .await;
    assert!(img.color().has_color());
}

#[tokio::test]
async fn every_output_format_has_its_media_type_and_pixels() {
    let app = App::new(&fixtures(), |_| {});
    let base = &app.base;
    for (ext, mime) in [
        ("jpg", "image/jpeg"),
        ("png", "image/png"),
        ("gif", "image/gif"),
        ("webp", "image/webp"),
        ("tif", "image/tiff"),
        ("pdf", "application/pdf"),
        ("jp2", "image/jp2"),
    ] {
        let url = format!("{base}/iiif/grid.png/full/200,/0/default.{ext}");
        let (status, headers, body) = app.get(&url).await;
        assert_eq!(status, 200, "{ext}");
        assert_eq!(headers["content-type"], mime, "{ext}");
        let img = match ext {
            "pdf" => pdf_image(&body),
            "jp2" => {
                let j = jpeg2k::Image::from_bytes(&body).unwrap();
                image::DynamicImage::try_from(&j).unwrap()
            }
            _ => image::load_from_memory(&body).unwrap(),
        };
        assert_eq!(img.dimensions(), (200, 150), "{ext}");
        let tol = match ext {
            "jpg" | "pdf" => 10,
            "gif" => 16,
            _ => 6,
        };
        assert_grid(&img, 0.5, tol, ext);
    }
    // Lossless formats reproduce an unscaled image exactly.
    for ext in ["png", "webp", "tif", "jp2"] {
        let (_, _, body) = app
            .get(&format!("{base}/iiif/grid.png/full/full/0/default.{ext}"))
            .await;
        let img = if ext == "jp2" {
            image::DynamicImage::try_from(&jpeg2k::Image::from_bytes(&body).unwrap()).unwrap()
        } else {
            image::load_from_memory(&body).unwrap()
        };
        let want = image::open(fixtures().join("grid.png")).unwrap().to_rgb8();
        assert_eq!(img.to_rgb8(), want, "{ext} is lossless");
    }
}

/// Extracts the one image XObject of a Tessera PDF (a DCTDecode stream) and decodes it,
/// checking that the page and image dimensions agree.
fn pdf_image(pdf: &[u8]) -> image::DynamicImage {
    assert!(pdf.starts_with(b"%PDF-"));
    let find = |hay: &[u8], needle: &[u8], from: usize| {
        hay[from..]
            .windows(needle.len())
            .position(|w| w == needle)
            .map(|p| p + from)
    };
    let at = find(pdf, b"/Subtype /Image", 0).expect("an image XObject");
    assert!(find(pdf, b"/DCTDecode", 0).is_some());
    let start = find(pdf, b"stream\n", at).expect("its stream") + b"stream\n".len();
    let end = find(pdf, b"\nendstream", start).expect("its end");
    let img =
        image::load_from_memory_with_format(&pdf[start..end], image::ImageFormat::Jpeg).unwrap();
    let media_box = format!("/MediaBox [0 0 {} {}]", img.width(), img.height());
    assert!(
        find(pdf, media_box.as_bytes(), 0).is_some(),
        "page is the image's size"
    );
    img
}

#[tokio::test]
async fn bad_requests_get_400_with_a_message() {
    let app = App::new(&fixtures(), |_| {});
    let base = &app.base;
    for path in [
        "grid/nonsense/full/0/default.jpg",
        "grid/full/nonsense/0/default.jpg",
        "grid/full/full/-5/default.jpg",
        "grid/full/full/361/default.jpg",
        "grid/full/full/0/grey.jpg",
        "grid/full/full/0/default.bmp",
        "grid/full/full/0/default",
        "grid/0,0,0,10/full/0/default.jpg",
        "grid/400,0,10,10/full/0/default.jpg",
        "grid/pct:100,0,10,10/full/0/default.jpg",
        "grid/full/0,/0/default.jpg",
        "grid/full/pct:0/0/default.jpg",
        "[frob]/full/full/0/default.jpg",
        "grid%zz/info.json",
    ] {
        let (status, headers, body) = app.get(&format!("{base}/iiif/{path}")).await;
        assert_eq!(status, 400, "{path}");
        assert!(headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain"));
        let text = String::from_utf8(body).unwrap();
        assert!(
            text.starts_with("400 Bad Request: ") && text.len() > 20,
            "{path}: {text}"
        );
    }
    let (_, _, body) = app
        .get(&format!("{base}/iiif/grid.png/full/full/0/default.bmp"))
        .await;
    assert!(String::from_utf8(body).unwrap().contains("format \"bmp\""));
}

#[tokio::test]
async fn overlong_uris_get_414_before_any_work() {
    let app = App::new(&fixtures(), |_| {});
    let base = &app.base;
    let long = "a".repeat(tessera::http::MAX_URI_BYTES);
    let (status, headers, body) = app.get(&format!("{base}/iiif/{long}/info.json")).await;
    assert_eq!(status, 414);
    assert_eq!(headers["access-control-allow-origin"], "*");
    assert!(String::from_utf8_lossy(&body).contains("limit is 4096"));
    // Just under the limit, the request is served as usual (an unknown identifier).
    let id = "a".repeat(tessera::http::MAX_URI_BYTES - 40);
    let (status, _, _) = app.get(&format!("{base}/iiif/{id}/info.json")).await;
    assert_eq!(status, 404);
    let (status, _, _) = app
        .get(&format!("{base}/iiif/grid/info.json?{}", "q".repeat(5000)))
        .await;
    assert_eq!(status, 414, "the query string counts");
}

#[tokio::test]
async fn unknown_and_oversized_get_404() {
    let app = App::new(&fixtures(), |c| {
        c.max_width = 500;
        c.max_height = 500;
        c.max_area = 200_000;
    });
    let base = &app.base;
    for path in [
        "nope/info.json",
        "nope/full/full/0/default.jpg",
        "a/b/full/full/0/default.jpg",
        "grid/full/501,/0/default.jpg",
        "grid/full/600,300/0/default.jpg",
        "grid/full/pct:200/0/default.jpg",
    ] {
        let (status, _, _) = app.get(&format!("{base}/iiif/{path}")).await;
        assert_eq!(status, 404, "{path}");
    }
    // `max` obeys maxArea, and info.json says so.
    let img = app
        .get_image(&format!("{base}/iiif/grid.png/full/max/0/default.png"))
        .await;
    let (w, h) = img.dimensions();
    assert!(w <= 500 && h <= 500 && w * h <= 200_000 && (w, h) == (400, 300));
    let img = app
        .get_image(&format!("{base}/iiif/grid.png/full/!450,450/0/default.png"))
        .await;
    assert_eq!(img.dimensions(), (450, 338));
    // Best fit above the limits is refused like any other size above them (§7).
    let (status, _, _) = app
        .get(&format!(
            "{base}/iiif/grid.png/full/!1000,1000/0/default.png"
        ))
        .await;
    assert_eq!(status, 404);
    let (_, _, body) = app.get(&format!("{base}/iiif/grid.png/info.json")).await;
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["profile"][1]["maxArea"], 200_000);
}

#[tokio::test]
async fn broken_sources_are_500_naming_the_identifier() {
    let app = App::new(&fixtures(), |_| {});
    let base = &app.base;
    for id in ["corrupt", "not-an-image"] {
        let (status, _, body) = app
            .get(&format!("{base}/iiif/{id}/full/full/0/default.jpg"))
            .await;
        assert_eq!(status, 500, "{id}");
        assert!(String::from_utf8(body).unwrap().contains(id));
    }
    // The server goes on serving.
    app.get_image(&format!("{base}/iiif/grid.png/full/50,/0/default.jpg"))
        .await;
}

#[tokio::test]
async fn the_pixel_ceiling_covers_tiled_sources_too() {
    let app = App::new(&fixtures(), |c| c.max_source_pixels = 100_000);
    let base = &app.base;
    for id in ["grid-tiled.tif", "grid.jpg", "grid.png"] {
        let (status, _, body) = app
            .get(&format!("{base}/iiif/{id}/0,0,64,64/full/0/default.png"))
            .await;
        assert_eq!(status, 500, "{id}");
        assert!(String::from_utf8(body).unwrap().contains("ceiling"), "{id}");
    }
}

#[tokio::test]
async fn decodes_above_the_memory_cap_are_refused_before_allocation() {
    let dir = tempfile::tempdir().unwrap();
    // 2,000 x 1,500 RGB: 9 MB decoded, against a cap of 4 MiB.
    let img = image::RgbImage::from_fn(2000, 1500, |x, y| {
        image::Rgb([(x / 8) as u8, (y / 6) as u8, ((x + y) / 14) as u8])
    });
    img.save(dir.path().join("big.jpg")).unwrap();
    img.save(dir.path().join("big.png")).unwrap();
    let app = App::new(dir.path(), |c| c.max_decode_mb = 4);
    let base = &app.base;
    for id in ["big.jpg", "big.png"] {
        let (status, _, body) = app
            .get(&format!("{base}/iiif/{id}/full/full/0/default.jpg"))
            .await;
        let body = String::from_utf8(body).unwrap();
        assert_eq!(status, 500, "{id}: {body}");
        assert!(
            body.contains("per-decode cap") && body.contains(id),
            "{id}: {body}"
        );
    }
    // A JPEG decoded at 1/8 by DCT scaling fits the cap and is served, correctly.
    let thumb = app
        .get_image(&format!("{base}/iiif/big.jpg/full/200,/0/default.png"))
        .await;
    assert_eq!((thumb.width(), thumb.height()), (200, 150));
    let px = thumb.to_rgb8().get_pixel(100, 75).0;
    let want = img.get_pixel(1000, 750).0;
    for c in 0..3 {
        assert!(px[c].abs_diff(want[c]) <= 6, "{px:?} vs {want:?}");
    }
    // With the default cap the same request is served.
    let app = App::new(dir.path(), |_| {});
    let base = &app.base;
    app.get_image(&format!("{base}/iiif/big.png/full/full/0/default.jpg"))
        .await;
}

/// GETs `url`, giving up after 10 s (a server that hangs fails the test instead of it).
async fn get_within_10s(app: &App, url: &str) -> (StatusCode, HeaderMap, Vec<u8>) {
    tokio::time::timeout(std::time::Duration::from_secs(10), app.get(url))
        .await
        .expect("answered within 10 s")
}

/// A PNG whose IHDR claims `w` x `h` (with a valid CRC) over the data of a small image.
fn lying_png(w: u32, h: u32) -> Vec<u8> {
    let mut png = std::fs::read(fixtures().join("grid.png")).unwrap();
    png[16..20].copy_from_slice(&w.to_be_bytes());
    png[20..24].copy_from_slice(&h.to_be_bytes());
    let crc = crc32(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    png
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A JPEG whose SOF claims `w` x `h` over the scan of a small image.
fn lying_jpeg(w: u16, h: u16) -> Vec<u8> {
    let mut jpg = std::fs::read(fixtures().join("grid.jpg")).unwrap();
    let sof = jpg
        .windows(2)
        .position(|m| m == [0xFF, 0xC0] || m == [0xFF, 0xC2])
        .unwrap();
    jpg[sof + 5..sof + 7].copy_from_slice(&h.to_be_bytes());
    jpg[sof + 7..sof + 9].copy_from_slice(&w.to_be_bytes());
    jpg
}

/// A little-endian TIFF with its first IFD edited: `tag`'s value set (SHORT or LONG), and,
/// with `loop_ifd`, its next-IFD offset pointing back at itself.
fn edited_tiff(tag: Option<(u16, u32)>, loop_ifd: bool) -> Vec<u8> {
    let mut tif = std::fs::read(fixtures().join("grid-tiled.tif")).unwrap();
    let rd16 = |b: &[u8], at: usize| u16::from_le_bytes([b[at], b[at + 1]]);
    let ifd = u32::from_le_bytes(tif[4..8].try_into().unwrap()) as usize;
    let n = rd16(&tif, ifd) as usize;
    for i in 0..n {
        let e = ifd + 2 + 12 * i;
        if let Some((t, v)) = tag {
            if rd16(&tif, e) == t {
                tif[e + 2..e + 4].copy_from_slice(&4u16.to_le_bytes());
                tif[e + 4..e + 8].copy_from_slice(&1u32.to_le_bytes());
                tif[e + 8..e + 12].copy_from_slice(&v.to_le_bytes());
            }
        }
    }
    if loop_ifd {
        let next = ifd + 2 + 12 * n;
        tif[next..next + 4].copy_from_slice(&(ifd as u32).to_le_bytes());
    }
    tif
}

#[tokio::test]
async fn lying_and_looping_source_files_get_quick_clean_500s() {
    let dir = tempfile::tempdir().unwrap();
    let files: Vec<(&str, Vec<u8>, &str)> = vec![
        ("bomb.png", lying_png(60_000, 60_000), "ceiling"),
        ("zero.png", lying_png(0, 300), ""),
        ("bomb.jpg", lying_jpeg(65_000, 65_000), "ceiling"),
        ("huge.jpg", lying_jpeg(30_000, 30_000), "too short"),
        ("wide.tif", edited_tiff(Some((256, 100_000)), false), ""),
        ("tall.tif", edited_tiff(Some((257, 1_000_000)), false), ""),
        ("loop.tif", edited_tiff(None, true), ""),
        ("offsets.tif", edited_tiff(Some((324, 1 << 30)), false), ""),
    ];
    for (name, bytes, _) in &files {
        std::fs::write(dir.path().join(name), bytes).unwrap();
    }
    std::fs::copy(fixtures().join("grid.png"), dir.path().join("good.png")).unwrap();
    let app = App::new(dir.path(), |_| {});
    let base = &app.base;
    let mut bad = Vec::new();
    for (name, _, why) in &files {
        for form in ["full/64,/0/default.jpg", "0,0,16,16/full/0/default.png"] {
            let url = format!("{base}/iiif/{name}/{form}");
            let (status, _, body) = get_within_10s(&app, &url).await;
            let text = String::from_utf8(body).unwrap();
            if status != 500 || !text.contains(name) || !text.contains(why) {
                bad.push(format!("{url}: {status} {text}"));
            }
        }
        let (status, _, _) = get_within_10s(&app, &format!("{base}/iiif/{name}/info.json")).await;
        assert!(status == 200 || status == 500, "{name}: {status}");
    }
    assert!(bad.is_empty(), "{bad:#?}");
    app.get_image(&format!("{base}/iiif/good.png/full/40,/0/default.png"))
        .await;
}

#[tokio::test]
async fn files_that_crashed_a_decoder_under_fuzzing_get_clean_500s() {
    let found = fixtures().join("fuzz");
    let app = App::new(&found, |_| {});
    let base = &app.base;
    let mut names: Vec<String> = std::fs::read_dir(&found)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(!names.is_empty());
    for name in &names {
        for form in ["full/64,/0/default.jpg", "0,0,16,16/full/0/default.png"] {
            let (status, _, body) = app.get(&format!("{base}/iiif/{name}/{form}")).await;
            let text = String::from_utf8_lossy(&body);
            assert_eq!(status, 500, "{name}/{form}: {text}");
            assert!(text.contains(name.as_str()), "{text}");
            assert!(!text.contains("panicked"), "{name}: {text}");
        }
    }
}

/// JPEG 2000 files on which openjp2 0.6.1 overflows a u32 (t2.rs:1211) when overflow checks
/// are on (tests, fuzzing); a release build wraps and serves them in milliseconds. Either
/// way: a quick 200 or 500, and the server goes on.
#[tokio::test]
async fn jp2_files_that_overflow_openjp2_are_answered_quickly() {
    let found = fixtures().join("fuzz-jp2");
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(&found).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
    }
    std::fs::copy(fixtures().join("grid.png"), dir.path().join("good.png")).unwrap();
    let app = App::new(dir.path(), |_| {});
    let base = &app.base;
    for entry in std::fs::read_dir(&found).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        for form in ["info.json", "full/64,/0/default.png"] {
            let url = format!("{base}/iiif/{name}/{form}");
            let status = get_within_10s(&app, &url).await.0.as_u16();
            assert!(status == 200 || status == 500, "{url}: {status}");
        }
    }
    app.get_image(&format!("{base}/iiif/good.png/full/8,/0/default.png"))
        .await;
}

#[tokio::test]
async fn identifiers_never_escape_the_images_folder() {
    let outer = tempfile::tempdir().unwrap();
    let images = outer.path().join("images");
    std::fs::create_dir_all(images.join("sub:dir")).unwrap();
    std::fs::copy(
        fixtures().join("grid.png"),
        images.join("sub:dir/urn-3:HUAM:1.png"),
    )
    .unwrap();
    std::fs::copy(fixtures().join("grid.png"), outer.path().join("secret.png")).unwrap();
    std::os::unix::fs::symlink(outer.path().join("secret.png"), images.join("link.png")).unwrap();
    let app = App::new(&images, |_| {});
    let base = &app.base;

    let img = app
        .get_image(&format!(
            "{base}/iiif/sub:dir%2Furn-3:HUAM:1/full/100,/0/default.png"
        ))
        .await;
    assert_eq!(img.dimensions(), (100, 75));
    let (status, _, body) = app
        .get(&format!("{base}/iiif/sub:dir%2Furn-3:HUAM:1/info.json"))
        .await;
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["@id"], format!("{base}/iiif/sub:dir%2Furn-3:HUAM:1"));

    for id in [
        "..%2Fsecret",
        "%2E%2E%2Fsecret",
        "sub:dir%2F..%2F..%2Fsecret",
        "%2Fetc%2Fpasswd",
        "..%5Csecret",
        "link",
        "secret%00",
        "%252E%252E%252Fsecret",
    ] {
        let (status, _, _) = app.get(&format!("{base}/iiif/{id}/info.json")).await;
        assert_eq!(status, 404, "{id}");
    }
}

#[tokio::test]
async fn headers_redirects_and_conditional_requests() {
    let app = App::new(&fixtures(), |_| {});
    let base = &app.base;
    // The app follows no redirect.
    let (status, headers, _) = app.get(&format!("{base}/iiif/grid.png")).await;
    assert_eq!(status, 303);
    assert_eq!(
        headers["location"],
        format!("{base}/iiif/grid.png/info.json")
    );

    let url = format!("{base}/iiif/grid.png/pct:0,0,100,100/,150/0/default.jpg");
    let (status, headers, _) = app.get(&url).await;
    assert_eq!(status, 200);
    let link = headers["link"].to_str().unwrap().to_string();
    assert_eq!(
        link,
        format!("<{LEVEL2}>;rel=\"profile\",<{base}/iiif/grid.png/full/200,/0/default.jpg>;rel=\"canonical\"")
    );
    let etag = headers["etag"].to_str().unwrap().to_string();
    let (status, _, body) = app.get_with(&url, &[("If-None-Match", &etag)]).await;
    assert_eq!(status, 304);
    assert!(body.is_empty());

    let head = app.builder("HEAD", &url, &[]).body(Body::empty()).unwrap();
    let (status, headers, body) = app.request(head).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "image/jpeg");
    assert!(body.is_empty());
}

/// The `@id` of grid.png's info.json and the canonical URI in an image's Link header, for a
/// request with `headers`.
async fn ids_with_headers(app: &App, headers: &[(&str, &str)]) -> (String, String) {
    let (status, _, body) = app.get_with("/iiif/grid.png/info.json", headers).await;
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let (status, h, _) = app
        .get_with("/iiif/grid.png/full/200,/0/default.jpg", headers)
        .await;
    assert_eq!(status, 200);
    let link = h["link"].to_str().unwrap();
    let canonical = link
        .split(",<")
        .nth(1)
        .and_then(|c| c.split_once('>'))
        .map(|(uri, _)| uri.to_string())
        .unwrap_or_else(|| panic!("no canonical link in {link}"));
    (v["@id"].as_str().unwrap().to_string(), canonical)
}

#[tokio::test]
async fn forwarded_headers_count_only_from_trusted_proxies() {
    let x_forwarded = [
        ("X-Forwarded-Proto", "https"),
        ("X-Forwarded-Host", "images.example.org"),
    ];
    let forwarded = [
        ("X-Forwarded-Host", "ignored.example.org"),
        (
            "Forwarded",
            "for=192.0.2.1;proto=https;host=\"iiif.example.org:8443\"",
        ),
    ];

    // By default no peer is trusted: a client's forwarded headers (which a cache keyed on
    // the URL alone would keep) are ignored, and @id comes from Host.
    for trusted in [vec![], vec!["10.0.0.0/8".to_string(), "::1".to_string()]] {
        let app = App::new(&fixtures(), |c| c.trusted_proxies = trusted.clone());
        let base = &app.base;
        for headers in [&x_forwarded[..], &forwarded[..]] {
            let (id, canonical) = ids_with_headers(&app, headers).await;
            assert_eq!(
                id,
                format!("{base}/iiif/grid.png"),
                "{trusted:?} {headers:?}"
            );
            assert_eq!(
                canonical,
                format!("{base}/iiif/grid.png/full/200,/0/default.jpg"),
                "{trusted:?} {headers:?}"
            );
        }
    }

    // From a trusted proxy (the test client on loopback): X-Forwarded-*, and Forwarded
    // before them, decide @id and Link.
    for trusted in ["127.0.0.1", "127.0.0.0/8"] {
        let app = App::new(&fixtures(), |c| c.trusted_proxies = vec![trusted.into()]);
        let base = &app.base;
        let (id, canonical) = ids_with_headers(&app, &x_forwarded).await;
        assert_eq!(id, "https://images.example.org/iiif/grid.png", "{trusted}");
        assert_eq!(
            canonical,
            "https://images.example.org/iiif/grid.png/full/200,/0/default.jpg"
        );
        let (id, _) = ids_with_headers(&app, &forwarded).await;
        assert_eq!(
            id, "https://iiif.example.org:8443/iiif/grid.png",
            "{trusted}"
        );
        let (id, _) = ids_with_headers(&app, &[]).await;
        assert_eq!(id, format!("{base}/iiif/grid.png"), "{trusted}, no headers");
    }
}

#[tokio::test]
async fn public_base_and_prefix_are_honoured() {
    let app = App::new(&fixtures(), |c| {
        c.prefix = "images/v2".into();
        c.public_base = Some("https://museum.example/images/v2".into());
    });
    let base = &app.base;
    let (status, _, body) = app
        .get(&format!("{base}/images/v2/grid.png/info.json"))
        .await;
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["@id"], "https://museum.example/images/v2/grid.png");
    let (status, _, _) = app.get(&format!("{base}/iiif/grid.png/info.json")).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn validator_image_squares_have_their_colours() {
    // The validator image is 10×10 squares of 100 px; scaling to 500 keeps each square's
    // colour at its centre, and a region of one square is that colour throughout.
    let app = App::new(&samples(), |_| {});
    let base = &app.base;
    let full = app
        .get_image(&format!("{base}/iiif/{SAMPLE_ID}/full/full/0/default.png"))
        .await
        .to_rgba8();
    let half = app
        .get_image(&format!("{base}/iiif/{SAMPLE_ID}/full/500,/0/default.png"))
        .await
        .to_rgba8();
    for (sx, sy) in [(0u32, 0u32), (3, 7), (9, 9), (5, 2)] {
        let want = full.get_pixel(sx * 100 + 50, sy * 100 + 50).0;
        assert_near(
            &half,
            sx * 50 + 25,
            sy * 50 + 25,
            [want[0], want[1], want[2]],
            3,
            "half size",
        );
        let one = app
            .get_image(&format!(
                "{base}/iiif/{SAMPLE_ID}/{},{},100,100/40,40/0/default.png",
                sx * 100,
                sy * 100
            ))
            .await
            .to_rgba8();
        // The filter may read a pixel or two beyond the region (so that tiles join without
        // seams): Lanczos3 reaches 3 output pixels; everything inside a 4 px margin is exactly the square's colour.
        for (x, y, p) in one.enumerate_pixels() {
            if (4..36).contains(&x) && (4..36).contains(&y) {
                assert_eq!(p.0, want, "square ({sx},{sy}) at ({x},{y})");
            }
        }
    }
}

#[tokio::test]
async fn the_warm_path_keeps_hosts_keys_and_versions_apart() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(fixtures().join("grid.png"), dir.path().join("g.png")).unwrap();
    let app = App::new(dir.path(), |c| {
        c.api_keys = vec![tessera::access::ApiKey {
            key: "staff-key-123".into(),
            privileged: true,
            name: "staff".into(),
        }];
    });
    let path = "/iiif/g/full/100,/0/default.png";
    let (status, a, body_a) = app.get_with(path, &[("host", "a.example")]).await;
    assert_eq!(status, 200);
    assert!(a["link"]
        .to_str()
        .unwrap()
        .contains("<http://a.example/iiif/g/full/100,/0/default.png>"));
    assert_eq!(a["access-control-allow-origin"], "*");
    // Another host is never answered with the first host's headers.
    let (_, b, _) = app.get_with(path, &[("host", "b.example")]).await;
    assert!(
        b["link"].to_str().unwrap().contains("http://b.example/"),
        "{b:?}"
    );
    // A repeat is the same response, CORS and all; its ETag gets a 304.
    let (status, again, body) = app.get_with(path, &[("host", "a.example")]).await;
    assert_eq!((status.as_u16(), &body), (200, &body_a));
    assert_eq!(again, a);
    let etag = a["etag"].to_str().unwrap().to_string();
    let (status, h, _) = app
        .get_with(path, &[("host", "a.example"), ("if-none-match", &etag)])
        .await;
    assert_eq!(
        (status.as_u16(), h["etag"].to_str().unwrap()),
        (304, etag.as_str())
    );
    // A request with a key never takes the anonymous answer: a wrong key is refused.
    let wrong = app
        .get_with(
            path,
            &[("host", "a.example"), ("authorization", "Bearer nope-nope")],
        )
        .await;
    assert_eq!(wrong.0, 401);
    let keyed = app
        .get_with(
            path,
            &[
                ("host", "a.example"),
                ("authorization", "Bearer staff-key-123"),
            ],
        )
        .await;
    assert_eq!(keyed.0, 200);
    assert_eq!(keyed.1["cache-control"], "private, no-store");
    // A replaced file is served in its new version within a bounded time.
    let red = image::RgbImage::from_pixel(200, 100, image::Rgb([255, 0, 0]));
    red.save(dir.path().join("new.png")).unwrap();
    std::fs::rename(dir.path().join("new.png"), dir.path().join("g.png")).unwrap();
    let new = wait_until_async(std::time::Duration::from_secs(10), || async {
        let (status, _, body) = app.get_with(path, &[("host", "a.example")]).await;
        assert_eq!(status, 200);
        let img = image::load_from_memory(&body).unwrap().to_rgb8();
        img.dimensions() == (100, 50) && img.get_pixel(50, 25).0 == [255, 0, 0]
    })
    .await;
    assert!(new, "the old version is still served");
}
