//! HTTP-level tests of the Presentation API 3.0: manifests of every museum shape, content
//! negotiation on the unversioned URLs, every `id` on this server dereferencing, access as in
//! 2.1, and collections split into parts of at most 100.

use crate::common::*;
use crate::presentation::{generated_records, museum, with_restricted_object, STAFF};
use axum::http::HeaderMap;
use serde_json::Value;
use std::collections::BTreeSet;
use tessera::presentation::RecordsFolder;

const CONTEXT3: &str = "http://iiif.io/api/presentation/3/context.json";
const CONTEXT2: &str = "http://iiif.io/api/presentation/2/context.json";
const PROFILE3: &str =
    r#"application/ld+json;profile="http://iiif.io/api/presentation/3/context.json""#;

/// GETs a URL that must answer 200 JSON; returns the headers and the document.
async fn fetch(app: &App, url: &str, headers: &[(&str, &str)]) -> (HeaderMap, Value) {
    let (status, h, body) = app.get_with(url, headers).await;
    assert_eq!(status, 200, "{url}: {}", String::from_utf8_lossy(&body));
    let doc = serde_json::from_slice(&body).unwrap_or_else(|e| panic!("{url}: {e}"));
    (h, doc)
}

async fn doc(app: &App, url: &str) -> Value {
    fetch(app, url, &[]).await.1
}

/// `url` with the staff key when `staff`.
fn keyed(url: &str, staff: bool) -> String {
    if staff {
        format!("{url}?apikey={STAFF}")
    } else {
        url.to_string()
    }
}

/// Every `id` (or `@id`) in a document, with its `type` (or `@type`).
fn ids(v: &Value, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(m) => {
            let id = m.get("id").or_else(|| m.get("@id")).and_then(Value::as_str);
            let kind = m
                .get("type")
                .or_else(|| m.get("@type"))
                .and_then(Value::as_str);
            if let (Some(id), Some(kind)) = (id, kind) {
                out.push((id.to_string(), kind.to_string()));
            }
            m.values().for_each(|v| ids(v, out));
        }
        Value::Array(a) => a.iter().for_each(|v| ids(v, out)),
        _ => {}
    }
}

/// Whether an id is an Image API URL (an image or an image service), which the Image API
/// answers, not the Presentation API.
fn image_api(kind: &str) -> bool {
    matches!(kind, "Image" | "ImageService3" | "ImageService2")
}

/// Checks that every Presentation `id` of `doc` on this server dereferences: a GET answers
/// 200 JSON whose `id` and `type` are the ones given, or, for an id with a fragment (an
/// embedded resource), a document that holds it. Image API ids are checked for their form:
/// Image API 3.0 URLs for images and `ImageService3`, 2.x ones for `ImageService2`.
/// Returns how many ids were dereferenced.
async fn assert_ids_dereference(app: &App, doc: &Value, staff: bool) -> usize {
    let mut found = Vec::new();
    ids(doc, &mut found);
    let mut checked = 0;
    for (id, kind) in found {
        if !id.starts_with(&app.base) {
            continue;
        }
        if image_api(&kind) {
            let version = if kind == "ImageService2" { "2" } else { "3" };
            assert!(
                id.starts_with(&format!("{}/iiif/{version}/", app.base)),
                "{kind} {id}"
            );
            continue;
        }
        let (url, fragment) = match id.split_once('#') {
            Some((u, f)) => (u, Some(f)),
            None => (id.as_str(), None),
        };
        let (_, fetched) = fetch(app, &keyed(url, staff), &[]).await;
        assert_eq!(fetched["@context"], CONTEXT3, "{url}");
        if fragment.is_some() {
            let mut inner = Vec::new();
            ids(&fetched, &mut inner);
            assert!(
                inner.iter().any(|(i, _)| *i == id),
                "{url} does not hold {id}"
            );
        } else {
            assert_eq!(fetched["id"], id.as_str(), "{url}");
            assert_eq!(fetched["type"], kind.as_str(), "{url}");
        }
        checked += 1;
    }
    checked
}

/// Crawls the 3.0 collections from `start`: every collection document (URL and body) and
/// every manifest URL they list, in order. Checks that each collection's `id` is its URL.
async fn crawl(app: &App, start: &str, staff: bool) -> (Vec<(String, Value)>, Vec<String>) {
    let (mut collections, mut manifests) = (Vec::new(), Vec::new());
    let mut queue = vec![start.to_string()];
    while let Some(url) = queue.pop() {
        let (_, c) = fetch(app, &keyed(&url, staff), &[]).await;
        assert_eq!(c["id"], url.as_str());
        assert_eq!(c["type"], "Collection", "{url}");
        assert_eq!(c["@context"], CONTEXT3, "{url}");
        let mut subs = Vec::new();
        for item in c["items"].as_array().unwrap() {
            let id = item["id"].as_str().unwrap().to_string();
            match item["type"].as_str().unwrap() {
                "Collection" => subs.push(id),
                "Manifest" => manifests.push(id),
                other => panic!("{url} lists a {other}"),
            }
            assert!(item["label"].is_object(), "{url}: {item}");
            assert!(item.get("items").is_none(), "{url}: only references");
        }
        // Depth first, in the listed order.
        queue.extend(subs.into_iter().rev());
        collections.push((url, c));
    }
    (collections, manifests)
}

/// The canvases of a 3.0 manifest that paint an image (an empty canvas paints none).
fn painted(m: &Value) -> Vec<&Value> {
    m["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| !c["items"].as_array().unwrap().is_empty())
        .collect()
}

/// The identifier of the image each canvas paints, from its ImageService3 id.
fn identifiers(m: &Value) -> Vec<String> {
    painted(m)
        .iter()
        .map(|c| {
            let svc = &c["items"][0]["items"][0]["body"]["service"][0];
            assert_eq!(svc["type"], "ImageService3");
            let id = svc["id"].as_str().unwrap();
            id.rsplit('/').next().unwrap().to_string()
        })
        .collect()
}

fn metadata<'a>(m: &'a Value, label: &str) -> &'a Value {
    &m["metadata"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["label"]["en"][0] == label)
        .unwrap_or_else(|| panic!("no {label} in {}", m["metadata"]))["value"]
}

#[tokio::test]
async fn every_museum_shape_becomes_a_3_0_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let (records, images) = crate::records::museum_folder(dir.path());
    let app = App::new(&images, |c| c.records = vec![RecordsFolder::new(&records)]);
    let base = app.base.clone();
    let manifest = |key: &'static str| {
        let app = app.clone();
        async move {
            let url = format!("{}/manifests/3/object/{key}", app.base);
            let (h, m) = fetch(&app, &url, &[]).await;
            assert_eq!(h["content-type"], "application/json", "{key}");
            assert_eq!(m["@context"], CONTEXT3);
            assert_eq!(m["id"], url.as_str());
            assert_eq!(m["type"], "Manifest");
            assert_eq!(m["behavior"], serde_json::json!(["individuals"]));
            // The same canvases, in the same order and sizes, as the 2.1 manifest.
            let v2 = doc(&app, &format!("{}/manifests/object/{key}", app.base)).await;
            let sizes2: Vec<(Value, Value)> = v2["sequences"][0]["canvases"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| (c["width"].clone(), c["height"].clone()))
                .collect();
            let sizes3: Vec<(Value, Value)> = painted(&m)
                .iter()
                .map(|c| (c["width"].clone(), c["height"].clone()))
                .collect();
            assert_eq!(sizes2, sizes3, "{key}");
            assert!(assert_ids_dereference(&app, &m, false).await >= 1);
            m
        }
    };

    // Harvard: five canvases in displayorder, each with a 3.0 and a 2.1 image service.
    let m = manifest("304069").await;
    assert_eq!(
        m["label"],
        serde_json::json!({"en": ["Hydria (water jar) with Siren Attachment"]})
    );
    let ids = identifiers(&m);
    assert_eq!(ids.len(), 5);
    assert_eq!(ids[0], "urn-3:HUAM:DDC251092_dynmc");
    let body = &m["items"][0]["items"][0]["items"][0]["body"];
    assert_eq!(body["type"], "Image");
    assert_eq!(body["format"], "image/jpeg");
    assert_eq!(
        body["service"][1],
        serde_json::json!({
            "@id": format!("{base}/iiif/2/urn-3:HUAM:DDC251092_dynmc"),
            "@type": "ImageService2",
            "profile": "http://iiif.io/api/image/2/level2.json"
        })
    );
    assert_eq!(
        m["items"][0]["items"][0]["items"][0]["target"],
        m["items"][0]["id"]
    );
    let class = m["partOf"][0]["id"].as_str().unwrap();
    assert!(
        class.starts_with(&format!("{base}/collections/3/classification/")),
        "{class}"
    );
    assert_eq!(m["partOf"][0]["type"], "Collection");

    // Brooklyn: its rights type stands for a Creative Commons licence.
    let m = manifest("brooklyn:1588").await;
    assert_eq!(
        m["label"],
        serde_json::json!({"en": ["\"Pedestal\" Armchair and Seat Cushion"]})
    );
    assert_eq!(identifiers(&m), ["78.128.7_view2_IMLS_SL2"]);
    assert_eq!(
        m["rights"],
        "http://creativecommons.org/licenses/by-nc/3.0/"
    );
    assert_eq!(
        metadata(&m, "People")["en"][0],
        "Designer: Eero Saarinen, American, born Finland, 1910-1961"
    );

    // M+: the title in English and traditional Chinese; metadata in three languages.
    let m = manifest("mplus:23").await;
    assert_eq!(
        m["label"],
        serde_json::json!({"en": ["Flying onto a branch"], "zh-hant": ["飛上枝頭"]})
    );
    let langs: Vec<&String> = metadata(&m, "Area").as_object().unwrap().keys().collect();
    assert_eq!(langs, ["en", "zh-hant", "zh-hans"]);
    assert_eq!(identifiers(&m), ["000014_001"]);

    // Paris Musées: French, and no image in the published example: one empty canvas.
    let m = manifest("parismusees:226737").await;
    assert_eq!(
        m["label"],
        serde_json::json!({"fr": ["Soleil couchant sur la Seine à Lavacourt, effet d'hiver"]})
    );
    let items = m["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(
        items[0]["id"],
        format!("{base}/manifests/3/object/parismusees:226737/canvas/empty")
    );
    assert!(m.get("thumbnail").is_none());

    // Each manifest's partOf lists it.
    let (collections, listed) = crawl(&app, &format!("{base}/collections/3/top"), false).await;
    for key in ["304069", "brooklyn:1588", "mplus:23", "parismusees:226737"] {
        let url = format!("{base}/manifests/3/object/{key}");
        assert!(listed.contains(&url), "{key} is not listed");
        let m = doc(&app, &url).await;
        let class = m["partOf"][0]["id"].as_str().unwrap();
        let (_, c) = collections.iter().find(|(u, _)| u == class).unwrap();
        let mut holds = false;
        for part in c["items"].as_array().unwrap() {
            let p = doc(&app, part["id"].as_str().unwrap()).await;
            holds |= p["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|i| i["id"] == url);
        }
        assert!(holds, "{class} does not list {url}");
    }
}

#[tokio::test]
async fn the_accept_header_chooses_the_version_and_answers_vary() {
    let app = museum();
    let base = &app.base;
    let vary = |h: &HeaderMap| -> Vec<String> {
        h.get_all("vary")
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect()
    };
    for (unversioned, v3) in [
        ("manifests/object/300001", "manifests/3/object/300001"),
        ("collections/top", "collections/3/top"),
        (
            "collections/classification/photographs",
            "collections/3/classification/photographs",
        ),
        ("collections/hue/blue", "collections/3/hue/blue"),
    ] {
        let url = format!("{base}/{unversioned}");
        let (h, d) = fetch(&app, &url, &[]).await;
        assert_eq!(d["@context"], CONTEXT2, "{url}");
        assert_eq!(h["content-type"], "application/json");
        assert!(vary(&h).contains(&"Accept".to_string()), "{url}");
        assert!(h.get("content-location").is_none());
        let (h, d) = fetch(&app, &url, &[("accept", "application/ld+json")]).await;
        assert_eq!(d["@context"], CONTEXT2, "{url}: no profile, no 3.0");
        assert_eq!(h["content-type"], "application/ld+json");

        let (h, d) = fetch(&app, &url, &[("accept", PROFILE3)]).await;
        assert_eq!(d["@context"], CONTEXT3, "{url}");
        assert_eq!(h["content-type"], PROFILE3);
        assert!(vary(&h).contains(&"Accept".to_string()), "{url}");
        let v3_url = format!("{base}/{v3}");
        assert_eq!(h["content-location"], v3_url.as_str());
        assert_eq!(
            d["id"],
            v3_url.as_str(),
            "the id is where the 3.0 document lives"
        );
        let (_, direct) = fetch(&app, &v3_url, &[]).await;
        assert_eq!(direct, d, "{url}");

        // Versioned URLs answer 3.0 whatever is accepted; typed as asked.
        let (h, _) = fetch(&app, &v3_url, &[]).await;
        assert_eq!(h["content-type"], "application/json");
        let (h, _) = fetch(&app, &v3_url, &[("accept", "application/ld+json")]).await;
        assert_eq!(h["content-type"], "application/ld+json");
        let (h, _) = fetch(&app, &v3_url, &[("accept", PROFILE3)]).await;
        assert_eq!(h["content-type"], PROFILE3);
    }
    // A 2.1 profile, or the 3.0 one refused with q=0, is not a request for 3.0.
    let url = format!("{base}/manifests/object/300001");
    let refused = format!("{PROFILE3};q=0, application/json");
    let (_, d) = fetch(&app, &url, &[("accept", &refused)]).await;
    assert_eq!(d["@context"], CONTEXT2);

    // ETags are per version and 304 answers a match.
    let (h2, _) = fetch(&app, &url, &[]).await;
    let (h3, _) = fetch(&app, &url, &[("accept", PROFILE3)]).await;
    assert_ne!(h2["etag"], h3["etag"]);
    let tag = h3["etag"].to_str().unwrap();
    let (status, h, body) = app
        .get_with(&url, &[("accept", PROFILE3), ("if-none-match", tag)])
        .await;
    assert_eq!(status, 304);
    assert!(body.is_empty());
    assert!(vary(&h).contains(&"Accept".to_string()));
    let v3_url = format!("{base}/manifests/3/object/300001");
    let (status, _, _) = app.get_with(&v3_url, &[("if-none-match", tag)]).await;
    assert_eq!(status, 304, "the same document has the same tag");
    // 2.1 parts stay 2.1.
    let part = format!("{base}/manifests/object/300001/sequence/normal");
    let (_, d) = fetch(&app, &part, &[("accept", PROFILE3)]).await;
    assert_eq!(d["@context"], CONTEXT2);
}

#[tokio::test]
async fn every_id_of_every_sample_document_dereferences() {
    let app = museum();
    let top = format!("{}/collections/3/top", app.base);
    for staff in [false, true] {
        let (collections, manifests) = crawl(&app, &top, staff).await;
        // Thirteen public objects (as the 2.1 top collection counts them), each listed once.
        let unique: BTreeSet<&String> = manifests.iter().collect();
        assert_eq!((manifests.len(), unique.len()), (13, 13), "staff: {staff}");
        let mut checked = 0;
        for (_, c) in &collections {
            checked += assert_ids_dereference(&app, c, staff).await;
        }
        for url in &manifests {
            let (_, m) = fetch(&app, &keyed(url, staff), &[]).await;
            assert_eq!(m["id"], url.as_str());
            checked += assert_ids_dereference(&app, &m, staff).await;
        }
        assert!(checked > 100, "{checked} ids dereferenced");
    }
}

#[tokio::test]
async fn restricted_objects_and_images_show_only_to_a_privileged_key() {
    let app = museum();
    let base = &app.base;
    let url = format!("{base}/manifests/3/object/300002");
    let anonymous = doc(&app, &url).await;
    assert_eq!(identifiers(&anonymous), ["portrait-forest-path"]);
    assert!(!anonymous.to_string().contains("gray-foggy-pier"));
    let (h, staff) = fetch(&app, &keyed(&url, true), &[]).await;
    assert_eq!(
        identifiers(&staff),
        ["portrait-forest-path", "gray-foggy-pier"]
    );
    assert_eq!(h["cache-control"], "private, no-store");
    // A part of the hidden image is not served to the anonymous caller.
    let hidden = staff["items"][1]["id"].as_str().unwrap();
    assert_eq!(app.get(hidden).await.0, 404);
    assert_eq!(doc(&app, &keyed(hidden, true)).await["id"], hidden);

    // No public image at all: one empty canvas, and the images stay hidden.
    let url = format!("{base}/manifests/3/object/300004");
    let m = doc(&app, &url).await;
    assert_eq!(m["items"][0]["id"], format!("{url}/canvas/empty"));
    assert!(identifiers(&m).is_empty());
    assert!(!identifiers(&doc(&app, &keyed(&url, true)).await).is_empty());

    // A limited image is painted at its 256 px reduction, on a full-size canvas.
    let m = doc(&app, &format!("{base}/manifests/3/object/300003")).await;
    let canvas = painted(&m)[0];
    assert_eq!(canvas["width"], 800);
    let body = &canvas["items"][0]["items"][0]["body"];
    assert_eq!(
        body["id"],
        format!("{base}/iiif/3/alpha-ladybird/full/!256,256/0/default.jpg")
    );
    assert_eq!(
        (body["width"].as_u64(), body["height"].as_u64()),
        (Some(256), Some(256))
    );

    // A restricted object: refused as in 2.1, and in no 3.0 collection.
    let dir = tempfile::tempdir().unwrap();
    generated_records(2, dir.path());
    let app = with_restricted_object(dir.path());
    let base = &app.base;
    let url = format!("{base}/manifests/3/object/3");
    for path in ["", "/canvas/1", "/page/1", "/annotation/1"] {
        assert_eq!(app.get(&format!("{url}{path}")).await.0, 401, "{path}");
        let v2 = format!("{base}/manifests/object/3");
        assert_eq!(app.get_with(&v2, &[("accept", PROFILE3)]).await.0, 401);
    }
    let m = doc(&app, &keyed(&url, true)).await;
    assert_eq!(identifiers(&m), ["grid"]);
    assert_eq!(
        m["partOf"][0]["id"],
        format!("{base}/collections/3/top"),
        "no classification lists it"
    );
    for staff in [false, true] {
        let (_, listed) = crawl(&app, &format!("{base}/collections/3/top"), staff).await;
        assert_eq!(
            listed,
            [
                format!("{base}/manifests/3/object/1"),
                format!("{base}/manifests/3/object/2")
            ]
        );
    }
}

#[tokio::test]
async fn collections_are_trees_of_parts_of_at_most_one_hundred() {
    let dir = tempfile::tempdir().unwrap();
    generated_records(250, dir.path());
    let app = App::new(&fixtures(), |c| {
        c.records = vec![RecordsFolder::new(dir.path())];
        c.attribution = Some("Harvard Art Museums".into());
        c.logo = Some("https://www.example.org/logo.png".into());
    });
    let base = &app.base;
    let top_url = format!("{base}/collections/3/top");
    let (collections, manifests) = crawl(&app, &top_url, false).await;
    let urls: Vec<&str> = collections.iter().map(|(u, _)| u.as_str()).collect();
    let class = |s: &str| format!("{base}/collections/3/classification/{s}");
    assert_eq!(
        urls,
        [
            top_url.clone(),
            class("paintings"),
            class("paintings/1"),
            class("paintings/2"),
            class("prints"),
            class("prints/1"),
        ]
    );
    for (url, c) in &collections {
        let n = c["items"].as_array().unwrap().len();
        assert!((1..=100).contains(&n), "{url}: {n} items");
        if url != &top_url {
            assert!(c["partOf"][0]["id"].is_string(), "{url}");
        }
    }
    let sizes: Vec<usize> = collections
        .iter()
        .map(|(_, c)| c["items"].as_array().unwrap().len())
        .collect();
    assert_eq!(sizes, [2, 2, 100, 100, 1, 50]);
    let unique: BTreeSet<&String> = manifests.iter().collect();
    assert_eq!((manifests.len(), unique.len()), (250, 250));
    // A part is part of its classification, which is part of the top collection.
    let (_, p2) = &collections[3];
    assert_eq!(p2["partOf"][0]["id"], class("paintings"));
    assert_eq!(collections[1].1["partOf"][0]["id"], top_url.as_str());
    assert_eq!(
        p2["label"],
        serde_json::json!({"none": ["Harvard Art Museums: Paintings, objects 101–200 of 200"]})
    );
    // The configured attribution and logo name the provider of every document; its id is a
    // fragment of the document that holds it.
    for (url, c) in &collections {
        assert_eq!(c["provider"][0]["id"], format!("{url}#provider"));
        assert_ids_dereference(&app, c, false).await;
    }
    let m = doc(&app, &format!("{base}/manifests/3/object/1")).await;
    assert_eq!(
        m["provider"][0]["label"],
        serde_json::json!({"none": ["Harvard Art Museums"]})
    );
    assert_eq!(m["provider"][0]["logo"][0]["format"], "image/png");
    assert_eq!(
        m["requiredStatement"]["value"],
        serde_json::json!({"none": ["Harvard Art Museums"]})
    );
    assert!(assert_ids_dereference(&app, &m, false).await >= 4);
    // Every manifest is part of its classification's collection.
    let m = doc(&app, &format!("{base}/manifests/3/object/5")).await;
    assert_eq!(m["partOf"][0]["id"], class("prints"));
    let m = doc(&app, &format!("{base}/manifests/3/object/7")).await;
    assert_eq!(m["partOf"][0]["id"], class("paintings"));
    // One document, one URL: no part beyond the last, no other spelling of a number.
    for bad in [
        "paintings/3",
        "paintings/0",
        "paintings/01",
        "paintings/+1",
        "nope",
        "nope/1",
    ] {
        assert_eq!(app.get(&class(bad)).await.0, 404, "{bad}");
    }
    assert_eq!(
        app.get(&format!("{base}/manifests/3/object/0251")).await.0,
        404
    );
}

#[tokio::test]
async fn hue_collections_have_3_0_versions() {
    let (_dir, app) = crate::colors::museum();
    let base = app.base.clone();
    let listed = |hue: &'static str| {
        let app = app.clone();
        async move {
            let (status, _, body) = app
                .get(&format!("{}/collections/3/hue/{hue}/1", app.base))
                .await;
            if status != 200 {
                return Vec::new();
            }
            let part: Value = serde_json::from_slice(&body).unwrap();
            part["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| {
                    m["id"]
                        .as_str()
                        .unwrap()
                        .rsplit('/')
                        .next()
                        .unwrap()
                        .to_string()
                })
                .collect::<Vec<_>>()
        }
    };
    let filled = wait_until_async(std::time::Duration::from_secs(60), || async {
        listed("blue").await == ["1"] && listed("white").await.len() == 2
    })
    .await;
    assert!(
        filled,
        "blue: {:?}, white: {:?}",
        listed("blue").await,
        listed("white").await
    );
    assert_eq!(
        listed("white").await,
        ["1", "2"],
        "the restricted object is never listed"
    );
    let hue = |h: &str| format!("{base}/collections/3/hue/{h}");
    let (collections, manifests) = crawl(&app, &hue("white"), false).await;
    assert_eq!(collections.len(), 2);
    assert_eq!(
        collections[0].1["partOf"][0]["id"],
        format!("{base}/collections/3/top")
    );
    assert_eq!(
        collections[0].1["label"],
        serde_json::json!({"en": ["Tessera: objects in white"]})
    );
    assert_eq!(manifests.len(), 2);
    let green = doc(&app, &hue("green")).await;
    assert_eq!(green["items"], serde_json::json!([]));
    for bad in ["Blue", "mauve", "blue/2", "blue/0"] {
        assert_eq!(app.get(&hue(bad)).await.0, 404, "{bad}");
    }
}

/// The Image API ids of 3.0 manifests: each canvas's ImageService3 and ImageService2 answer
/// an info.json of the canvas's size that names the service, and each painted image is served
/// at the size given (a limited image at its 256 px reduction).
#[tokio::test]
async fn image_services_of_3_0_manifests_answer() {
    let app = museum();
    for oid in [300001, 300002, 300003, 300005, 300006] {
        let m = doc(&app, &format!("{}/manifests/3/object/{oid}", app.base)).await;
        for canvas in painted(&m) {
            let body = &canvas["items"][0]["items"][0]["body"];
            for svc in body["service"].as_array().unwrap() {
                let id = svc.get("id").or_else(|| svc.get("@id")).unwrap();
                let info = doc(&app, &format!("{}/info.json", id.as_str().unwrap())).await;
                assert_eq!(info.get("id").or_else(|| info.get("@id")), Some(id));
                assert_eq!(
                    (&info["width"], &info["height"]),
                    (&canvas["width"], &canvas["height"]),
                    "{id}"
                );
            }
            let img = app.get_image(body["id"].as_str().unwrap()).await;
            assert_eq!(
                (u64::from(img.width()), u64::from(img.height())),
                (
                    body["width"].as_u64().unwrap(),
                    body["height"].as_u64().unwrap()
                )
            );
        }
    }
}
