//! HTTP-level tests of Image API 3.0 beside 2.1 (issue 14): info.json, every `^` size form,
//! the canonical Link header, content negotiation, the base URI, CORS preflight, versioned and
//! unversioned paths (an image named `3` stays reachable), and one cache for both versions.
//! Pixels of every image answer are checked.

use crate::common::*;
use axum::body::Body;
use image::GenericImageView;
use serde_json::{json, Value};

async fn info(app: &App, url: &str) -> Value {
    let (status, _, body) = app.get(url).await;
    assert_eq!(status, 200, "{url}: {}", String::from_utf8_lossy(&body));
    serde_json::from_slice(&body).unwrap()
}

#[tokio::test]
async fn info_json_3_describes_the_image() {
    let app = App::new(&fixtures(), |c| c.max_width = 800);
    let base = &app.base;
    let url = format!("{base}/iiif/3/grid.png/info.json");
    let (status, headers, body) = app.get(&url).await;
    assert_eq!(status, 200);
    // §5.1: JSON-LD with the context as profile unless plain JSON is asked for.
    assert_eq!(
        headers["content-type"],
        "application/ld+json;profile=\"http://iiif.io/api/image/3/context.json\""
    );
    assert_eq!(headers["access-control-allow-origin"], "*");
    assert_eq!(
        headers["link"],
        "<http://iiif.io/api/image/3/level2.json>;rel=\"profile\""
    );
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["@context"], "http://iiif.io/api/image/3/context.json");
    assert_eq!(v["id"], format!("{base}/iiif/3/grid.png"));
    assert_eq!(v["type"], "ImageService3");
    assert_eq!(v["protocol"], "http://iiif.io/api/image");
    assert_eq!(v["profile"], "level2");
    assert_eq!(
        (v["width"].as_u64(), v["height"].as_u64()),
        (Some(400), Some(300))
    );
    assert_eq!(v["maxWidth"], 800);
    assert_eq!(v["tiles"][0]["scaleFactors"], json!([1, 2]));
    assert_eq!(
        v["sizes"],
        json!([{"width": 200, "height": 150}, {"width": 400, "height": 300}])
    );
    assert_eq!(v["preferredFormats"], json!(["jpg"]));
    for f in ["gif", "webp", "tif", "pdf", "jp2"] {
        assert!(
            v["extraFormats"].as_array().unwrap().contains(&f.into()),
            "{f}"
        );
    }
    for (accept, want) in [
        ("application/json", "application/json"),
        (
            "application/ld+json",
            "application/ld+json;profile=\"http://iiif.io/api/image/3/context.json\"",
        ),
        (
            "application/ld+json;profile=\"http://iiif.io/api/image/3/context.json\"",
            "application/ld+json;profile=\"http://iiif.io/api/image/3/context.json\"",
        ),
    ] {
        let (_, h, _) = app.get_with(&url, &[("Accept", accept)]).await;
        assert_eq!(h["content-type"], want, "Accept: {accept}");
        assert_eq!(h["vary"], "Accept");
    }
    // 2.1 is unchanged, at both of its paths.
    for path in ["iiif", "iiif/2"] {
        let v2 = info(&app, &format!("{base}/{path}/grid.png/info.json")).await;
        assert_eq!(v2["@id"], format!("{base}/{path}/grid.png"));
        assert_eq!(v2["@context"], "http://iiif.io/api/image/2/context.json");
    }
}

#[tokio::test]
async fn every_size_form_of_3_0_with_and_without_a_caret() {
    // grid.png is 400×300; the limits allow 800 px wide.
    let app = App::new(&fixtures(), |c| {
        c.max_width = 800;
        c.max_height = 800;
    });
    let base = &app.base;
    for (size, want) in [
        ("max", (400, 300)),
        ("^max", (800, 600)),
        ("200,", (200, 150)),
        ("^600,", (600, 450)),
        (",150", (200, 150)),
        ("^,450", (600, 450)),
        ("pct:50", (200, 150)),
        ("^pct:150", (600, 450)),
        ("200,150", (200, 150)),
        ("^600,450", (600, 450)),
        ("!200,200", (200, 150)),
        ("!400,1000", (400, 300)),
        ("^!600,600", (600, 450)),
        ("^200,", (200, 150)),
    ] {
        let url = format!("{base}/iiif/3/grid.png/full/{size}/0/default.png");
        let img = app.get_image(&url).await;
        assert_eq!(img.dimensions(), want, "{size}");
        assert_grid(&img, f64::from(want.0) / 400.0, 16, size);
    }
    // Without `^`, larger than the region is a 400; `full` is not 3.0; `^` past the limits
    // is a 400 too.
    for size in [
        "401,", ",301", "pct:101", "401,300", "full", "^801,", "^max,",
    ] {
        let url = format!("{base}/iiif/3/grid.png/full/{size}/0/default.png");
        let (status, _, body) = app.get(&url).await;
        assert_eq!(status, 400, "{size}: {}", String::from_utf8_lossy(&body));
    }
    let (_, _, body) = app
        .get(&format!("{base}/iiif/3/grid.png/full/401,/0/default.png"))
        .await;
    assert!(String::from_utf8_lossy(&body).contains('^'));
    // 2.1 still serves sizes above full without `^`.
    let img = app
        .get_image(&format!("{base}/iiif/grid.png/full/600,/0/default.png"))
        .await;
    assert_eq!(img.dimensions(), (600, 450));
}

#[tokio::test]
async fn canonical_links_are_each_versions_own_and_the_pixels_are_shared() {
    let app = App::new(&fixtures(), |_| {});
    let base = &app.base;
    let (_, h3, b3) = app
        .get(&format!(
            "{base}/iiif/3/grid.png/0,0,200,300/pct:50/0/default.jpg"
        ))
        .await;
    assert_eq!(
        h3["link"],
        format!(
            "<http://iiif.io/api/image/3/level2.json>;rel=\"profile\",<{base}/iiif/3/grid.png/0,0,200,300/100,150/0/default.jpg>;rel=\"canonical\""
        )
    );
    let (_, h2, b2) = app
        .get(&format!(
            "{base}/iiif/grid.png/0,0,200,300/100,/0/default.jpg"
        ))
        .await;
    assert_eq!(
        h2["link"],
        format!(
            "<http://iiif.io/api/image/2/level2.json>;rel=\"profile\",<{base}/iiif/grid.png/0,0,200,300/100,/0/default.jpg>;rel=\"canonical\""
        )
    );
    // One image, one ETag, whichever version asked.
    assert_eq!(h2["etag"], h3["etag"]);
    assert_eq!(b2, b3);
    let (_, hm, _) = app
        .get(&format!("{base}/iiif/3/grid.png/full/max/0/default.jpg"))
        .await;
    assert!(hm["link"]
        .to_str()
        .unwrap()
        .ends_with("/iiif/3/grid.png/full/max/0/default.jpg>;rel=\"canonical\""));
    // A 3.0 client holding the 2.1 answer's ETag gets a 304.
    let etag = h2["etag"].to_str().unwrap();
    let (status, _, _) = app
        .get_with(
            &format!("{base}/iiif/3/grid.png/0,0,200,300/100,150/0/default.jpg"),
            &[("If-None-Match", etag)],
        )
        .await;
    assert_eq!(status, 304);
}

#[tokio::test]
async fn the_base_uri_redirects_only_for_an_image_that_exists() {
    let app = App::new(&fixtures(), |_| {});
    let base = &app.base;
    for (path, to) in [
        ("iiif/grid.png", "iiif/grid.png/info.json"),
        ("iiif/2/grid.png", "iiif/2/grid.png/info.json"),
        ("iiif/3/grid.png", "iiif/3/grid.png/info.json"),
        ("iiif/3/grid.png/", "iiif/3/grid.png/info.json"),
    ] {
        let (status, h, _) = app.get(&format!("{base}/{path}")).await;
        assert_eq!(status, 303, "{path}");
        assert_eq!(h["location"], format!("{base}/{to}"), "{path}");
    }
    for path in [
        "iiif/nothing-here",
        "iiif/2/nothing-here",
        "iiif/3/nothing-here/",
    ] {
        let (status, h, _) = app.get(&format!("{base}/{path}")).await;
        assert_eq!(status, 404, "{path}");
        assert!(h.get("location").is_none(), "{path}");
    }
}

#[tokio::test]
async fn a_cors_preflight_allows_authorization() {
    let app = App::new(&fixtures(), |_| {});
    let req = app
        .builder(
            "OPTIONS",
            &format!("{}/iiif/3/grid.png/info.json", app.base),
            &[
                ("Origin", "https://viewer.example"),
                ("Access-Control-Request-Method", "GET"),
                ("Access-Control-Request-Headers", "authorization"),
            ],
        )
        .body(Body::empty())
        .unwrap();
    let (status, h, _) = app.request(req).await;
    assert!(status.is_success(), "{status}");
    assert_eq!(h["access-control-allow-origin"], "*");
    let allowed = h["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(allowed.contains("authorization"), "{allowed}");
    let methods = h["access-control-allow-methods"].to_str().unwrap();
    assert!(methods.contains("GET"), "{methods}");
}

#[tokio::test]
async fn an_image_named_like_a_version_is_reachable_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(fixtures().join("grid.png"), dir.path().join("3.png")).unwrap();
    std::fs::copy(
        fixtures().join("grid.png"),
        dir.path().join("info.json.png"),
    )
    .unwrap();
    let app = App::new(dir.path(), |_| {});
    let base = &app.base;
    for (path, id) in [
        ("iiif/3/3", "iiif/3/%33"),
        ("iiif/2/3", "iiif/2/%33"),
        ("iiif/%33", "iiif/%33"),
        ("iiif/3/info.json", "iiif/3/info.json"),
        ("iiif/info.json", "iiif/info.json"),
    ] {
        let v = info(&app, &format!("{base}/{path}/info.json")).await;
        let written = v.get("id").or(v.get("@id")).unwrap();
        assert_eq!(written, &json!(format!("{base}/{id}")), "{path}");
        // The id it writes leads back to the same image.
        let img = app
            .get_image(&format!("{written}/full/max/0/default.png").replace('"', ""))
            .await;
        assert_eq!(img.dimensions(), (400, 300), "{path}");
        assert_grid(&img, 1.0, 2, path);
    }
    // Written `%33` wherever it goes, so that it never reads as a version. The unversioned
    // base of image `3` redirects to its own info.json.
    let (status, h, _) = app.get(&format!("{base}/iiif/%33")).await;
    assert_eq!(status, 303);
    assert_eq!(h["location"], format!("{base}/iiif/%33/info.json"));
}

#[tokio::test]
async fn a_setting_makes_3_0_the_default() {
    let app = App::new(&fixtures(), |c| c.image_api = tessera::iiif::Version::V3);
    let base = &app.base;
    let v = info(&app, &format!("{base}/iiif/grid.png/info.json")).await;
    assert_eq!(v["type"], "ImageService3");
    assert_eq!(v["id"], format!("{base}/iiif/grid.png"));
    let img = app
        .get_image(&format!("{base}/iiif/grid.png/full/^pct:150/0/default.png"))
        .await;
    assert_eq!(img.dimensions(), (600, 450));
    let v2 = info(&app, &format!("{base}/iiif/2/grid.png/info.json")).await;
    assert_eq!(v2["@id"], format!("{base}/iiif/2/grid.png"));
}

#[tokio::test]
async fn every_listed_size_and_tile_of_3_0_is_served_exactly() {
    let app = App::new(&samples(), |_| {});
    let base = &app.base;
    let id = "portrait-forest-path";
    let v = info(&app, &format!("{base}/iiif/3/{id}/info.json")).await;
    let (w, h) = (
        v["width"].as_u64().unwrap() as u32,
        v["height"].as_u64().unwrap() as u32,
    );
    for s in v["sizes"].as_array().unwrap() {
        let (sw, sh) = (s["width"].as_u64().unwrap(), s["height"].as_u64().unwrap());
        let img = app
            .get_image(&format!("{base}/iiif/3/{id}/full/{sw},{sh}/0/default.jpg"))
            .await;
        assert_eq!(img.dimensions(), (sw as u32, sh as u32));
    }
    // The bottom-right tile at every scale factor, in 3.0's w,h form, as viewers ask.
    let t = v["tiles"][0]["width"].as_u64().unwrap() as u32;
    for sf in v["tiles"][0]["scaleFactors"].as_array().unwrap() {
        let s = sf.as_u64().unwrap() as u32;
        let span = t * s;
        let (xr, yr) = ((w - 1) / span * span, (h - 1) / span * span);
        let (wr, hr) = ((w - xr).min(span), (h - yr).min(span));
        let (ws, hs) = (wr.div_ceil(s), hr.div_ceil(s));
        let url = format!("{base}/iiif/3/{id}/{xr},{yr},{wr},{hr}/{ws},{hs}/0/default.jpg");
        let img = app.get_image(&url).await;
        assert_eq!(img.dimensions(), (ws, hs), "{url}");
        // Its canonical form names the same region (or `full`) at the same w,h.
        let (_, headers, _) = app.get(&url).await;
        let link = headers["link"].to_str().unwrap();
        let region = if (xr, yr, wr, hr) == (0, 0, w, h) {
            "full".to_string()
        } else {
            format!("{xr},{yr},{wr},{hr}")
        };
        let size = if (ws, hs) == (wr, hr) {
            "max".to_string()
        } else {
            format!("{ws},{hs}")
        };
        assert!(
            link.contains(&format!("/{id}/{region}/{size}/0/")),
            "{url}: {link}"
        );
    }
}

#[tokio::test]
async fn extreme_aspect_ratios_keep_a_pixel_on_each_side_in_both_versions() {
    let dir = tempfile::tempdir().unwrap();
    let line = image::RgbImage::from_fn(65_535, 1, |x, _| {
        if x < 32_768 {
            image::Rgb([255, 0, 0])
        } else {
            image::Rgb([0, 0, 255])
        }
    });
    line.save(dir.path().join("line.png")).unwrap();
    let app = App::new(dir.path(), |c| c.max_width = 70_000);
    let base = &app.base;
    for path in [
        "iiif/line.png/full/!200,200/0/default.png",
        "iiif/3/line.png/full/!200,200/0/default.png",
        "iiif/3/line.png/full/200,/0/default.png",
        "iiif/line.png/full/pct:0.5/0/default.png",
    ] {
        let img = app.get_image(&format!("{base}/{path}")).await.to_rgba8();
        assert_eq!(img.height(), 1, "{path}");
        let w = img.width();
        assert!((200..=328).contains(&w), "{path}: {w}");
        assert_near(&img, 2, 0, [255, 0, 0], 8, path);
        assert_near(&img, w - 3, 0, [0, 0, 255], 8, path);
    }
}

/// iiif-validator-ng's rotation reference (`rot_full_non90`): libvips' `rotate` of the
/// validator image, written out (see scripts/vips_rotate_reference.py, checked there against
/// libvips itself). Rotation about the top-left corner into the rounded bounding box of the
/// image's corners, bilinear in 12-bit fixed point, black outside (the picture's edge fades to
/// black over one pixel). Returns the output size and the pixels of the window
/// `(x0, y0, side, side)`.
fn libvips_rotation(
    src: &image::RgbImage,
    degrees: f64,
    (x0, y0, side): (u32, u32, u32),
) -> ((u32, u32), image::RgbImage) {
    let round = |v: f64| {
        if v > 0.0 {
            (v + 0.5) as i64
        } else {
            (v - 0.5) as i64
        }
    };
    let (w, h) = (i64::from(src.width()), i64::from(src.height()));
    let t = degrees.to_radians();
    let (a, b, c, d) = (t.cos(), -t.sin(), t.sin(), t.cos());
    let det = a * d - b * c;
    let (ia, ib, ic, id) = (d / det, -b / det, -c / det, a / det);
    let corners = [
        (0.0, 0.0),
        (w as f64, 0.0),
        (0.0, h as f64),
        (w as f64, h as f64),
    ];
    let xs = corners.map(|(x, y)| a * x + b * y);
    let ys = corners.map(|(x, y)| c * x + d * y);
    let min = |v: [f64; 4]| v.iter().copied().fold(f64::INFINITY, f64::min);
    let max = |v: [f64; 4]| v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let (left, top) = (round(min(xs)), round(min(ys)));
    let size = (
        round(max(xs) - min(xs)) as u32,
        round(max(ys) - min(ys)) as u32,
    );
    let px = |i: i64, j: i64| -> [i64; 3] {
        if (0..w).contains(&i) && (0..h).contains(&j) {
            src.get_pixel(i as u32, j as u32).0.map(i64::from)
        } else {
            [0; 3]
        }
    };
    let window = image::RgbImage::from_fn(side, side, |x, y| {
        let (ox, oy) = (
            (i64::from(x0 + x) + left) as f64,
            (i64::from(y0 + y) + top) as f64,
        );
        let (ix, iy) = (ia * ox + ib * oy, ic * ox + id * oy);
        let (fx, fy) = (ix.floor() as i64, iy.floor() as i64);
        if !((-1..w).contains(&fx) && (-1..h).contains(&fy)) {
            return image::Rgb([0, 0, 0]);
        }
        let wx = ((ix + 1.0 - (ix + 1.0).trunc()) * 4096.0) as i64;
        let wy = ((iy + 1.0 - (iy + 1.0).trunc()) * 4096.0) as i64;
        let c4 = (wy * wx) >> 12;
        let c2 = ((4096 - wy) * wx) >> 12;
        let (c3, c1) = (wy - c4, (4096 - wy) - c2);
        let (p1, p2, p3, p4) = (
            px(fx, fy),
            px(fx + 1, fy),
            px(fx, fy + 1),
            px(fx + 1, fy + 1),
        );
        image::Rgb(std::array::from_fn(|z| {
            ((c1 * p1[z] + c2 * p2[z] + c3 * p3[z] + c4 * p4[z] + 2048) >> 12) as u8
        }))
    });
    (size, window)
}

#[tokio::test]
async fn every_rotation_matches_libvips_as_the_validator_compares_it() {
    // rot_full_non90 draws one angle per run. As the validator does: the server's JPEG and
    // the libvips rotation, each cut to the 300×300 window at (300, 300), must differ by less
    // than 6 on average over pixels and bands. Every 7th angle here (51 angles, through every
    // quadrant and the 33–57° bands where white corners failed), odd ones through 2.1
    // (`full/full`), even ones through 3.0 (`full/max`): a debug build rotates slowly, and all
    // 356 would take five minutes. CI checks every integer angle against the release binary
    // with the validator's own code (`scripts/validate_ng.py --all-angles`).
    const ID: &str = "67352ccc-d1b0-11e1-89ae-279075081939";
    let app = App::new(&samples(), |_| {});
    let base = app.base.clone();
    let src = image::open(samples().join(format!("{ID}.png")))
        .unwrap()
        .to_rgb8();
    let angles: Vec<u32> = (1..360).step_by(7).filter(|a| a % 90 != 0).collect();
    let checks = angles.iter().map(|&angle| {
        let (app, base, src) = (&app, &base, &src);
        async move {
            let url = if angle % 2 == 1 {
                format!("{base}/iiif/{ID}/full/full/{angle}/default.jpg")
            } else {
                format!("{base}/iiif/3/{ID}/full/max/{angle}/default.jpg")
            };
            let got = app.get_image(&url).await.to_rgb8();
            let (size, want) = libvips_rotation(src, f64::from(angle), (300, 300, 300));
            if got.dimensions() != size {
                return Some(format!(
                    "{angle}°: {:?}, libvips {size:?}",
                    got.dimensions()
                ));
            }
            let total: u64 = want
                .enumerate_pixels()
                .flat_map(|(x, y, p)| {
                    let g = got.get_pixel(300 + x, 300 + y).0;
                    (0..3).map(move |z| u64::from(g[z].abs_diff(p.0[z])))
                })
                .sum();
            let mean = total as f64 / (300.0 * 300.0 * 3.0);
            (mean >= 6.0).then(|| format!("{angle}°: mean difference {mean:.2}"))
        }
    });
    // Four at a time: the server's queue is bounded, as it should be.
    use futures_util::StreamExt;
    let failed: Vec<String> = futures_util::stream::iter(checks)
        .buffer_unordered(4)
        .filter_map(|f| async { f })
        .collect()
        .await;
    assert!(
        failed.is_empty(),
        "{} of {} angles differ from libvips: {failed:?}",
        failed.len(),
        angles.len()
    );
}
