//! HTTP-level tests of the Presentation API, the default image service and access levels,
//! against the sample records in `manifests/` and generated ones.

use crate::common::*;
use image::GenericImageView;
use serde_json::Value;
use std::path::Path;
use tessera::access::ApiKey;
use tessera::presentation::RecordsFolder;

pub(crate) const STAFF: &str = "staff-key-0123";
const WEB: &str = "web-key-45678";

pub(crate) fn museum() -> App {
    App::new(&samples(), |c| {
        c.records = vec![RecordsFolder::new(records())];
        c.api_keys = vec![
            ApiKey {
                key: STAFF.into(),
                privileged: true,
                name: "staff".into(),
            },
            ApiKey {
                key: WEB.into(),
                privileged: false,
                name: "web".into(),
            },
        ];
    })
}

async fn json(app: &App, url: &str) -> Value {
    let (status, headers, body) = app.get(url).await;
    assert_eq!(status, 200, "{url}: {}", String::from_utf8_lossy(&body));
    assert_eq!(headers["access-control-allow-origin"], "*", "{url}");
    serde_json::from_slice(&body).unwrap()
}

async fn status(app: &App, url: &str) -> u16 {
    app.get(url).await.0.as_u16()
}

/// The Authorization header of a request with the staff key.
fn bearer() -> String {
    format!("Bearer {STAFF}")
}

fn canvases(m: &Value) -> Vec<Value> {
    m["sequences"][0]["canvases"].as_array().unwrap().clone()
}

#[tokio::test]
async fn manifest_follows_displayorder_and_every_id_dereferences() {
    let app = museum();
    let base = &app.base;
    let url = format!("{base}/manifests/object/300001");
    let (status, headers, _) = app.get(&url).await;
    assert_eq!(status, 200);
    assert!(headers.contains_key("etag") && headers.contains_key("cache-control"));
    let m = json(&app, &url).await;
    assert_eq!(
        m["@context"],
        "http://iiif.io/api/presentation/2/context.json"
    );
    assert_eq!(m["@id"], url);
    assert_eq!(m["@type"], "sc:Manifest");
    assert_eq!(m["label"], "Lakeside Boats at Dusk");
    assert_eq!(m["within"], format!("{base}/collections/top"));
    assert_eq!(
        m["related"]["@id"],
        "https://www.example.org/collections/object/300001"
    );
    assert!(m["attribution"]
        .as_str()
        .unwrap()
        .contains("Tessera sample collection"));
    let labels: Vec<&str> = m["metadata"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["label"].as_str().unwrap())
        .collect();
    assert_eq!(&labels[..3], ["Date", "Classification", "People"]);
    assert_eq!(
        m["metadata"][2]["value"],
        "Photographer: Ian Hex, British, active 2020s"
    );
    assert_eq!(m["sequences"].as_array().unwrap().len(), 1);

    let cs = canvases(&m);
    let services: Vec<String> = cs
        .iter()
        .map(|c| {
            c["images"][0]["resource"]["service"]["@id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        services,
        [
            format!("{base}/iiif/landscape-lake-boats"),
            format!("{base}/iiif/urn-3:HUAM:BOATS0001_dynmc"),
            format!("{base}/iiif/mosaic-six-photos"),
        ]
    );
    let dims: Vec<(u64, u64)> = cs
        .iter()
        .map(|c| (c["width"].as_u64().unwrap(), c["height"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        dims,
        [(1920, 1200), (640, 400), (4800, 3200)],
        "the detail's size comes from the file"
    );

    // Every @id of the manifest is served by Tessera and names itself.
    let seq_id = m["sequences"][0]["@id"].as_str().unwrap();
    assert_eq!(json(&app, seq_id).await["@id"], seq_id);
    for c in &cs {
        let cid = c["@id"].as_str().unwrap();
        let fetched = json(&app, cid).await;
        assert_eq!(fetched["@id"], cid);
        assert_eq!(
            fetched["@context"],
            "http://iiif.io/api/presentation/2/context.json"
        );
        let anno = &c["images"][0];
        assert_eq!(anno["on"], cid);
        assert_eq!(
            json(&app, anno["@id"].as_str().unwrap()).await["@id"],
            anno["@id"]
        );
        let res = &anno["resource"];
        let img = app.get_image(res["@id"].as_str().unwrap()).await;
        assert_eq!(
            (u64::from(img.width()), u64::from(img.height())),
            (
                res["width"].as_u64().unwrap(),
                res["height"].as_u64().unwrap()
            )
        );
    }
    let thumb = app.get_image(m["thumbnail"]["@id"].as_str().unwrap()).await;
    assert_eq!(thumb.dimensions(), (200, 125));
}

#[tokio::test]
async fn every_canvas_matches_its_info_json() {
    let app = museum();
    let base = &app.base;
    for oid in [300001, 300002, 300003, 300004, 300005, 300006] {
        let m = json(&app, &format!("{base}/manifests/object/{oid}")).await;
        for c in canvases(&m) {
            let svc = c["images"][0]["resource"]["service"]["@id"]
                .as_str()
                .unwrap();
            let info = json(&app, &format!("{svc}/info.json")).await;
            assert_eq!(
                (&info["width"], &info["height"]),
                (&c["width"], &c["height"]),
                "{svc}"
            );
            assert_eq!(info["@id"], svc);
        }
    }
}

#[tokio::test]
async fn html_in_records_is_sanitised() {
    let app = museum();
    let base = &app.base;
    let m = json(&app, &format!("{base}/manifests/object/300006")).await;
    let d = m["description"].as_str().unwrap();
    assert!(d.starts_with('<') && d.ends_with('>'), "{d}");
    assert!(d.contains(r#"<a href="https://iiif.io/">IIIF</a>"#), "{d}");
    assert!(
        !d.contains("script") && !d.contains("onclick") && !d.contains("alert"),
        "{d}"
    );
    assert_eq!(m["license"], "https://www.apache.org/licenses/LICENSE-2.0");
}

#[tokio::test]
async fn restricted_images_need_a_privileged_key() {
    let app = museum();
    let base = &app.base;
    let m = json(&app, &format!("{base}/manifests/object/300002")).await;
    assert_eq!(canvases(&m).len(), 1, "the accesslevel 0 image is left out");
    let staff = json(
        &app,
        &format!("{base}/manifests/object/300002?apikey={STAFF}"),
    )
    .await;
    assert_eq!(canvases(&staff).len(), 2);

    for path in [
        "gray-foggy-pier/info.json",
        "gray-foggy-pier/full/max/0/default.jpg",
        "gray-foggy-pier/0,0,256,256/64,/0/default.jpg",
        "gray-foggy-pier?width=100&height=100",
        "small-garden/info.json",
        "small-garden/full/full/0/default.png",
    ] {
        let url = format!("{base}/iiif/{path}");
        // A privileged fetch first, so that a cache hit cannot leak to anyone else.
        let sep = if url.contains('?') { '&' } else { '?' };
        let (s, _, _) = app.get(&format!("{url}{sep}apikey={STAFF}")).await;
        assert_eq!(s, 200, "{path} with the staff key");
        let (s, _, _) = app.get_with(&url, &[("authorization", &bearer())]).await;
        assert_eq!(s, 200, "{path} with a bearer token");

        let (s, h, body) = app.get(&url).await;
        assert_eq!(s, 401, "{path} anonymous");
        assert!(h.contains_key("www-authenticate"));
        let text = String::from_utf8(body).unwrap();
        assert!(
            !text.contains("1600") && !text.contains("1200"),
            "no dimensions leak: {text}"
        );
        assert_eq!(
            status(&app, &format!("{url}{sep}apikey={WEB}")).await,
            403,
            "{path} web key"
        );
        let (s, _, body) = app.get(&format!("{url}{sep}apikey=not-a-key")).await;
        assert_eq!(s, 401);
        assert!(String::from_utf8(body).unwrap().contains("unknown API key"));
    }
    // The public image of the same object is served to everyone.
    assert_eq!(
        status(&app, &format!("{base}/iiif/portrait-forest-path/info.json")).await,
        200
    );
    // Level 2: an object with no public images has an empty sequence.
    assert!(canvases(&json(&app, &format!("{base}/manifests/object/300004")).await).is_empty());
}

#[tokio::test]
async fn limited_images_stop_at_256_pixels() {
    let app = museum();
    let base = &app.base;
    let id = "alpha-ladybird";
    let info = json(&app, &format!("{base}/iiif/{id}/info.json")).await;
    assert_eq!(
        (info["width"].as_u64(), info["height"].as_u64()),
        (Some(800), Some(800))
    );
    assert_eq!(info["profile"][1]["maxWidth"], 256);
    assert_eq!(info["profile"][1]["maxHeight"], 256);
    assert_eq!(
        info["sizes"],
        serde_json::json!([{"width": 200, "height": 200}])
    );
    assert_eq!(info["tiles"][0]["scaleFactors"], serde_json::json!([4]));
    let img = app
        .get_image(&format!("{base}/iiif/{id}/full/max/0/default.png"))
        .await;
    assert_eq!(img.dimensions(), (256, 256));
    let img = app
        .get_image(&format!("{base}/iiif/{id}/0,0,512,512/128,/0/default.png"))
        .await;
    assert_eq!(img.dimensions(), (128, 128));
    for path in [
        "full/257,/0/default.jpg",
        "full/full/0/default.jpg",
        "0,0,256,256/256,/0/default.jpg",
        "0,0,400,400/200,/0/default.jpg",
    ] {
        assert_eq!(
            status(&app, &format!("{base}/iiif/{id}/{path}")).await,
            404,
            "{path}"
        );
    }
    // The default service fits the box, within the limit.
    let img = app
        .get_image(&format!("{base}/iiif/{id}?width=600&height=600"))
        .await;
    assert_eq!(img.dimensions(), (256, 256));
    // Staff get the full image, and a later anonymous request is still limited.
    let img = app
        .get_image(&format!(
            "{base}/iiif/{id}/full/full/0/default.png?apikey={STAFF}"
        ))
        .await;
    assert_eq!(img.dimensions(), (800, 800));
    assert_eq!(
        status(&app, &format!("{base}/iiif/{id}/full/full/0/default.png")).await,
        404
    );
    // The manifest's resource is the reduction, and it is served.
    let m = json(&app, &format!("{base}/manifests/object/300003")).await;
    let res = &canvases(&m)[0]["images"][0]["resource"];
    assert_eq!(
        res["@id"],
        format!("{base}/iiif/{id}/full/!256,256/0/default.jpg")
    );
    assert_eq!(
        app.get_image(res["@id"].as_str().unwrap())
            .await
            .dimensions(),
        (256, 256)
    );
}

#[tokio::test]
async fn default_service_fits_the_box() {
    let app = museum();
    let base = &app.base;
    for (query, bw, bh) in [
        ("width=150&height=150", 150, 150),
        ("height=150&width=150", 150, 150),
        ("width=300", 300, u32::MAX),
        ("height=100", u32::MAX, 100),
        ("width=1000&height=50", 1000, 50),
    ] {
        let img = app
            .get_image(&format!("{base}/iiif/landscape-lake-boats?{query}"))
            .await;
        let (w, h) = img.dimensions();
        assert!(w <= bw && h <= bh, "{query}: {w}x{h}");
        assert!(
            w == bw || h == bh,
            "{query}: {w}x{h} is not the largest fit"
        );
        let ratio = f64::from(w) / f64::from(h);
        assert!((ratio - 1.6).abs() < 0.02, "{query}: aspect {ratio}");
    }
    // Never upscaled; identifiers with colons and rendition numbers work.
    let img = app
        .get_image(&format!(
            "{base}/iiif/urn-3:HUAM:BOATS0001_dynmc?width=1000&height=1000"
        ))
        .await;
    assert_eq!(img.dimensions(), (640, 400));
    let img = app
        .get_image(&format!("{base}/iiif/TSR900011?width=96"))
        .await;
    assert_eq!(img.dimensions(), (96, 60));
    assert_eq!(
        json(&app, &format!("{base}/iiif/TSR900011/info.json")).await["width"],
        1920
    );
    for bad in ["width=abc", "width=0", "height=-5", "width=1.5"] {
        assert_eq!(
            status(&app, &format!("{base}/iiif/landscape-lake-boats?{bad}")).await,
            400,
            "{bad}"
        );
    }
    // The app follows no redirect.
    assert_eq!(
        status(&app, &format!("{base}/iiif/landscape-lake-boats")).await,
        303
    );
}

#[tokio::test]
async fn top_collection_lists_classifications_and_pages() {
    let app = museum();
    let base = &app.base;
    let url = format!("{base}/collections/top");
    let top = json(&app, &url).await;
    assert_eq!(top["@id"], url);
    assert_eq!(top["@type"], "sc:Collection");
    // Six Harvard objects, two Harvard image records, three Brooklyn, one M+, one Paris.
    assert_eq!(top["total"], 13);
    let subs: Vec<&str> = top["collections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["label"].as_str().unwrap())
        .collect();
    assert_eq!(
        subs,
        [
            "Images",
            "Painting",
            "Peinture",
            "Photographs",
            "Photography",
            "Study Materials",
            "Vessels"
        ]
    );
    let page = json(&app, top["first"].as_str().unwrap()).await;
    assert_eq!(page["@id"], format!("{url}?page=1"));
    assert_eq!(page["manifests"].as_array().unwrap().len(), 13);
    assert_eq!(
        page["manifests"][0]["@id"],
        format!("{base}/manifests/object/300001")
    );
    let photos = json(
        &app,
        &format!("{base}/collections/classification/photographs"),
    )
    .await;
    // Four Harvard objects and one Brooklyn object ("Photographs" in both).
    assert_eq!(photos["total"], 5);
    assert_eq!(photos["within"], url);
    assert_eq!(status(&app, &format!("{url}?page=2")).await, 404);
    assert_eq!(status(&app, &format!("{url}?page=0")).await, 400);
    assert_eq!(status(&app, &format!("{url}?page=x")).await, 400);
    assert_eq!(
        status(&app, &format!("{base}/collections/classification/nope")).await,
        404
    );
    assert_eq!(
        status(&app, &format!("{base}/manifests/object/999")).await,
        404
    );
    assert_eq!(
        status(&app, &format!("{base}/manifests/object/abc")).await,
        404
    );
    assert_eq!(
        status(
            &app,
            &format!("{base}/manifests/object/300001/canvas/canvas-1")
        )
        .await,
        404
    );
}

pub(crate) fn generated_records(n: u64, dir: &Path) {
    for i in 1..=n {
        let class = if i % 5 == 0 { "Prints" } else { "Paintings" };
        let rec = serde_json::json!({
            "objectid": i, "title": format!("Object number {i}"), "classification": class,
            "images": [{"imageid": i, "displayorder": 1, "width": 400, "height": 300,
                        "baseimageurl": "https://x.org/iiif/grid.png"}],
        });
        std::fs::write(dir.join(format!("{i}.json")), rec.to_string()).unwrap();
    }
}

#[tokio::test]
async fn collections_page_by_one_hundred() {
    let dir = tempfile::tempdir().unwrap();
    generated_records(250, dir.path());
    let app = App::new(&fixtures(), |c| {
        c.records = vec![RecordsFolder::new(dir.path())]
    });
    let base = &app.base;
    let top_url = format!("{base}/collections/top");
    let top = json(&app, &top_url).await;
    assert_eq!(top["total"], 250);
    assert_eq!(top["last"], format!("{top_url}?page=3"));
    let mut seen = Vec::new();
    let mut next = top["first"].as_str().map(str::to_string);
    let mut pages = 0;
    while let Some(u) = next {
        let p = json(&app, &u).await;
        assert_eq!(p["@id"], u);
        assert_eq!(p["startIndex"], pages * 100);
        assert_eq!(p["within"], top_url);
        for m in p["manifests"].as_array().unwrap() {
            seen.push(m["@id"].as_str().unwrap().to_string());
        }
        next = p["next"].as_str().map(str::to_string);
        pages += 1;
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 250);
    assert_eq!(seen[249], format!("{base}/manifests/object/250"));
    let prints = json(
        &app,
        &format!("{base}/collections/classification/prints?page=1"),
    )
    .await;
    assert_eq!(prints["manifests"].as_array().unwrap().len(), 50);
    assert!(prints.get("next").is_none() && prints.get("prev").is_none());
    let p2 = json(&app, &format!("{top_url}?page=2")).await;
    assert_eq!(p2["prev"], format!("{top_url}?page=1"));
}

/// The app over the records in `dir` (and the fixtures' images) with the staff key, after
/// adding object 3, which is restricted (`accesslevel` 0) and shows the image `grid`.
pub(crate) fn with_restricted_object(dir: &Path) -> App {
    std::fs::write(
        dir.join("secret.json"),
        r#"{"objectid": 3, "title": "Unpublished", "accesslevel": 0, "classification": "Paintings",
            "images": [{"imageid": 1, "baseimageurl": "https://x/iiif/grid.jpg", "width": 400, "height": 300}]}"#,
    )
    .unwrap();
    App::new(&fixtures(), |c| {
        c.records = vec![RecordsFolder::new(dir)];
        c.api_keys = vec![ApiKey {
            key: STAFF.into(),
            privileged: true,
            name: String::new(),
        }];
    })
}

#[tokio::test]
async fn malformed_records_are_skipped_and_restricted_objects_hidden() {
    let dir = tempfile::tempdir().unwrap();
    generated_records(2, dir.path());
    std::fs::write(
        dir.path().join("broken.json"),
        b"{\"objectid\": 77, \"title\": ",
    )
    .unwrap();
    std::fs::write(dir.path().join("binary.json"), [0xFFu8, 0xFE, 0x00]).unwrap();
    let app = with_restricted_object(dir.path());
    let base = &app.base;
    assert_eq!(
        json(&app, &format!("{base}/manifests/object/1")).await["label"],
        "Object number 1"
    );
    assert_eq!(
        status(&app, &format!("{base}/manifests/object/77")).await,
        404
    );
    assert_eq!(
        json(&app, &format!("{base}/collections/top")).await["total"],
        2
    );
    assert_eq!(
        status(&app, &format!("{base}/manifests/object/3")).await,
        401
    );
    assert_eq!(
        status(&app, &format!("{base}/iiif/grid.jpg/info.json")).await,
        401
    );
    let m = json(&app, &format!("{base}/manifests/object/3?apikey={STAFF}")).await;
    assert_eq!(canvases(&m).len(), 1);
}

#[tokio::test]
async fn every_spelling_of_a_restricted_file_is_restricted() {
    let app = museum();
    let base = &app.base;
    // With its extension, the identifier is another string but the same file.
    for path in [
        "gray-foggy-pier.jpg/info.json",
        "gray-foggy-pier.jpg/full/max/0/default.jpg",
        "gray-foggy-pier.jpg?width=2000",
        "small-garden.jpg/full/full/0/default.jpg",
    ] {
        assert_eq!(
            status(&app, &format!("{base}/iiif/{path}")).await,
            401,
            "{path}"
        );
    }
    // The limited image stays limited under its file name, and its rotated box counts.
    assert_eq!(
        status(
            &app,
            &format!("{base}/iiif/alpha-ladybird.png/full/full/0/default.png")
        )
        .await,
        404
    );
    let info = json(&app, &format!("{base}/iiif/alpha-ladybird.png/info.json")).await;
    assert_eq!(info["profile"][1]["maxWidth"], 256);
    assert_eq!(
        status(
            &app,
            &format!("{base}/iiif/alpha-ladybird/full/max/45/default.png")
        )
        .await,
        404
    );
    let img = app
        .get_image(&format!(
            "{base}/iiif/alpha-ladybird/full/180,/45/default.png"
        ))
        .await;
    assert!(img.width() <= 256 && img.height() <= 256);

    // A symlink to a restricted file is restricted too.
    let dir = tempfile::tempdir().unwrap();
    let images = dir.path().join("images");
    std::fs::create_dir(&images).unwrap();
    std::fs::copy(fixtures().join("grid.png"), images.join("secret.png")).unwrap();
    std::os::unix::fs::symlink(images.join("secret.png"), images.join("alias.png")).unwrap();
    let records = dir.path().join("records");
    std::fs::create_dir(&records).unwrap();
    std::fs::write(
        records.join("1.json"),
        r#"{"objectid": 1, "images": [{"baseimageurl": "https://x/iiif/secret", "accesslevel": 0}]}"#,
    )
    .unwrap();
    let app = App::new(&images, |c| {
        c.records = vec![RecordsFolder::new(records.clone())]
    });
    let base = &app.base;
    for id in ["secret", "secret.png", "alias", "alias.png"] {
        assert_eq!(
            status(&app, &format!("{base}/iiif/{id}/info.json")).await,
            401,
            "{id}"
        );
    }
}

#[tokio::test]
async fn keyed_responses_are_private_to_shared_caches() {
    let app = museum();
    let base = &app.base;
    for path in [
        "iiif/gray-foggy-pier/info.json",
        "iiif/gray-foggy-pier/full/100,/0/default.jpg",
        "manifests/object/300002",
        "collections/top",
    ] {
        let (status, headers, _) = app
            .get_with(&format!("{base}/{path}"), &[("authorization", &bearer())])
            .await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(headers["cache-control"], "private, no-store", "{path}");
        let vary: Vec<&str> = headers
            .get_all("vary")
            .iter()
            .map(|v| v.to_str().unwrap())
            .collect();
        assert!(vary.contains(&"Authorization"), "{path}: {vary:?}");
    }
    let (_, h, _) = app
        .get(&format!(
            "{base}/iiif/portrait-forest-path/full/100,/0/default.jpg"
        ))
        .await;
    assert!(h["cache-control"].to_str().unwrap().starts_with("public"));
}

#[tokio::test]
async fn one_document_has_one_url() {
    let app = museum();
    let base = &app.base;
    for path in [
        "manifests/object/+300001",
        "manifests/object/0300001",
        "manifests/object/300001.0",
    ] {
        assert_eq!(status(&app, &format!("{base}/{path}")).await, 404, "{path}");
    }
    for page in ["01", "+1", "1.0"] {
        assert_eq!(
            status(&app, &format!("{base}/collections/top?page={page}")).await,
            400,
            "{page}"
        );
    }
}
