//! The collection browser (issue 16): the front page's paged grid, search by title and object
//! number, an object's page and its links, record text printed as text, the static files, and
//! what an anonymous visitor may see. tests/integration/access.rs probes the pages for
//! restricted objects by every spelling; tests/viewer/browser-test.mjs drives them in Chromium.

use crate::common::*;
use scrape::*;
use tessera::presentation::RecordsFolder;

/// Small text helpers over a page's HTML (no HTML parser is a dependency).
mod scrape {
    /// The texts of every `<span class="title">` of the grid, in order.
    pub fn titles(html: &str) -> Vec<String> {
        html.split("<span class=\"title\">")
            .skip(1)
            .map(|s| s[..s.find("</span>").unwrap()].to_string())
            .collect()
    }

    /// Every value of attribute `name` (double-quoted), in order, with `&amp;` decoded.
    pub fn attrs(html: &str, name: &str) -> Vec<String> {
        let key = format!(" {name}=\"");
        html.split(key.as_str())
            .skip(1)
            .map(|s| s[..s.find('"').unwrap()].replace("&amp;", "&"))
            .collect()
    }

    /// The "N objects" line.
    pub fn count(html: &str) -> String {
        let s = html.split("<p class=\"count\">").nth(1).unwrap();
        s[..s.find("</p>").unwrap()].to_string()
    }
}

/// `n` Harvard object records, `Study {i}` numbered `1999.{i}`, each with one of three copies
/// of the grid fixture; the folder (keep it) and the app.
fn studies(n: usize, extra: &[(&str, &str)]) -> (tempfile::TempDir, App) {
    let dir = tempfile::tempdir().unwrap();
    let (images, records) = (dir.path().join("images"), dir.path().join("records"));
    std::fs::create_dir_all(&images).unwrap();
    std::fs::create_dir_all(&records).unwrap();
    for k in 0..3 {
        std::fs::copy(
            fixtures().join("grid.png"),
            images.join(format!("img{k}.png")),
        )
        .unwrap();
    }
    for i in 1..=n {
        let record = serde_json::json!({
            "objectid": i, "title": format!("Study {i}"), "objectnumber": format!("1999.{i}"),
            "classification": "Drawings",
            "images": [{"baseimageurl": format!("https://x/iiif/img{}", i % 3), "width": 400, "height": 300}],
        });
        std::fs::write(records.join(format!("{i}.json")), record.to_string()).unwrap();
    }
    for (name, json) in extra {
        std::fs::write(records.join(name), json).unwrap();
    }
    let app = App::new(&images, |c| {
        c.records = vec![RecordsFolder::new(&records)];
        c.viewer_assets = dir.path().join("no-viewer-installed");
    });
    (dir, app)
}

async fn page(app: &App, target: &str) -> String {
    let (status, headers, body) = app.get(target).await;
    let text = String::from_utf8(body).unwrap();
    assert_eq!(status, 200, "{target}: {text}");
    assert_eq!(
        headers["content-type"], "text/html; charset=utf-8",
        "{target}"
    );
    text
}

#[tokio::test]
async fn the_front_page_says_what_tessera_is_and_pages_the_grid() {
    let (_dir, app) = studies(120, &[]);
    let html = page(&app, "/").await;
    assert!(html.contains("is a IIIF image server"), "{html}");
    let links = attrs(&html, "href");
    let base = &app.base;
    for want in [
        format!("{base}/collections/top"),
        format!("{base}/collections/3/top"),
    ] {
        assert!(links.contains(&want), "{want} not in {links:?}");
    }
    assert_eq!(count(&html), "120 objects · page 1 of 3");
    let first: Vec<String> = (1..=48).map(|i| format!("Study {i}")).collect();
    assert_eq!(
        titles(&html),
        first,
        "page 1 holds objects 1 to 48 in key order"
    );
    // Each card links the object's page, and shows its first image's thumbnail.
    assert!(links.contains(&format!("{base}/objects/7")));
    assert!(links.contains(&format!("{base}/?page=2")));
    let thumbs: Vec<String> = attrs(&html, "src")
        .into_iter()
        .filter(|s| s.contains("/iiif/"))
        .collect();
    assert_eq!(thumbs.len(), 48);
    assert_eq!(
        thumbs[0],
        format!("{base}/iiif/img1/full/!200,200/0/default.jpg")
    );
    let img = app.get_image(&thumbs[0]).await;
    assert_eq!((img.width(), img.height()), (200, 150));
    let html = page(&app, "/?page=3").await;
    let last: Vec<String> = (97..=120).map(|i| format!("Study {i}")).collect();
    assert_eq!(titles(&html), last);
    assert!(attrs(&html, "href").contains(&format!("{base}/?page=2")));
    assert!(!html.contains("rel=\"next\""));
    // A bad page number is a 400 naming it; one beyond the last is a 404.
    for bad in ["0", "x", "01", "-1", "1.5", "99999999999999999999999"] {
        let (status, _, body) = app.get(&format!("/?page={bad}")).await;
        assert_eq!(status, 400, "page={bad}");
        assert!(String::from_utf8_lossy(&body).contains("page must be a whole number"));
    }
    let (status, _, body) = app.get("/?page=4").await;
    assert_eq!(status, 404);
    assert!(String::from_utf8_lossy(&body).contains("beyond the last page, 3"));
    // HEAD works as GET does, and a repeat with the ETag is a 304.
    let (status, headers, _) = app
        .request(
            app.builder("HEAD", "/", &[])
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(status, 200);
    let tag = headers["etag"].to_str().unwrap().to_string();
    let (status, _, _) = app.get_with("/", &[("if-none-match", &tag)]).await;
    assert_eq!(status, 304);
}

#[tokio::test]
async fn search_finds_objects_by_title_and_by_object_number() {
    let (_dir, app) = studies(
        120,
        &[(
            "lake.json",
            r#"{"objectid": 500, "title": "Lakeside Boats at Dusk", "objectnumber": "TS.2024.77",
                "images": [{"baseimageurl": "https://x/iiif/img0"}]}"#,
        )],
    );
    let html = page(&app, "/?q=lakeside").await;
    assert_eq!(titles(&html), ["Lakeside Boats at Dusk"]);
    assert_eq!(count(&html), "1 object found for “lakeside”");
    assert!(
        html.contains("value=\"lakeside\""),
        "the box keeps the query"
    );
    // Every word must begin a word of the title or number, in any case and order.
    assert_eq!(
        titles(&page(&app, "/?q=DUSK+boa").await),
        ["Lakeside Boats at Dusk"]
    );
    assert!(titles(&page(&app, "/?q=dusk+study").await).is_empty());
    // By object number: whole, or its beginning.
    assert_eq!(
        titles(&page(&app, "/?q=TS.2024.77").await),
        ["Lakeside Boats at Dusk"]
    );
    assert_eq!(titles(&page(&app, "/?q=1999.42").await), ["Study 42"]);
    assert_eq!(
        titles(&page(&app, "/?q=1999.11").await),
        [
            "Study 11",
            "Study 110",
            "Study 111",
            "Study 112",
            "Study 113",
            "Study 114",
            "Study 115",
            "Study 116",
            "Study 117",
            "Study 118",
            "Study 119"
        ]
    );
    // Many results are paged like the grid, with the query kept in the page links.
    let html = page(&app, "/?q=study&page=2").await;
    assert_eq!(count(&html), "120 objects found for “study” · page 2 of 3");
    assert_eq!(titles(&html).first().map(String::as_str), Some("Study 49"));
    assert!(attrs(&html, "href").contains(&format!("{}/?q=study&page=3", app.base)));
    let (status, _, _) = app.get("/?q=study&page=4").await;
    assert_eq!(status, 404);
    let html = page(&app, "/?q=zebra").await;
    assert_eq!(count(&html), "0 objects found for “zebra”");
    assert!(titles(&html).is_empty());
    // A query with no words is the grid.
    assert_eq!(
        count(&page(&app, "/?q=+").await),
        "121 objects · page 1 of 3"
    );
}

#[tokio::test]
async fn record_fields_are_printed_as_text_never_as_markup() {
    let hostile = r#"{"objectid": 900, "title": "<script>alert('t')</script>Boats & \"oars\"",
        "objectnumber": "<b>N1</b>", "medium": "<img src=x onerror=alert(1)>",
        "description": "</p><script>alert(2)</script>", "url": "javascript:alert(3)",
        "images": [{"baseimageurl": "https://x/iiif/img0",
                    "publiccaption": "\"><script>alert(4)</script>"}]}"#;
    let (_dir, app) = studies(2, &[("900.json", hostile)]);
    for target in [
        "/",
        "/?q=script",
        "/objects/900",
        "/?q=%3Cscript%3Ealert(5)",
    ] {
        let html = page(&app, target).await;
        for raw in [
            "<script>alert",
            "<img src=x",
            "<b>N1",
            "javascript:",
            "\"><script",
        ] {
            assert!(!html.contains(raw), "{target} holds {raw}: {html}");
        }
    }
    let grid = page(&app, "/").await;
    assert!(grid
        .contains("&lt;script&gt;alert(&#39;t&#39;)&lt;/script&gt;Boats &amp; &quot;oars&quot;"));
    let html = page(&app, "/objects/900").await;
    assert!(
        html.contains("&lt;img src=x onerror=alert(1)&gt;"),
        "{html}"
    );
    assert!(html.contains("&lt;/p&gt;&lt;script&gt;alert(2)&lt;/script&gt;"));
    assert!(
        html.contains("&lt;b&gt;N1&lt;/b&gt;"),
        "the object number, as text"
    );
    let html = page(&app, "/?q=%3Cscript%3Ealert(5)").await;
    assert!(html.contains("value=\"&lt;script&gt;alert(5)\""), "{html}");
    // The number's words are searchable, markup or not.
    assert_eq!(titles(&page(&app, "/?q=n1").await).len(), 1);
}

#[tokio::test]
async fn an_object_page_shows_its_record_and_links_its_manifests_images_and_info_json() {
    let app = crate::presentation::museum();
    let base = &app.base;
    let html = page(&app, "/objects/300001").await;
    assert!(html.contains("<h1>Lakeside Boats at Dusk</h1>"));
    assert!(html.contains("<dt>Object Number</dt><dd><p><span lang=\"en\">TS.300001</span>"));
    assert!(html.contains("<dt>People</dt>"));
    let links = attrs(&html, "href");
    for want in [
        format!("{base}/manifests/object/300001"),
        format!("{base}/manifests/3/object/300001"),
        // The images in displayorder, each with its info.json in both versions.
        format!("{base}/iiif/landscape-lake-boats/info.json"),
        format!("{base}/iiif/3/landscape-lake-boats/info.json"),
        format!("{base}/iiif/urn-3:HUAM:BOATS0001_dynmc/info.json"),
        format!("{base}/iiif/3/mosaic-six-photos/info.json"),
        format!("{base}/objects/300001?image=3"),
    ] {
        assert!(links.contains(&want), "{want} not in {links:?}");
    }
    // Every link and picture on this server answers.
    let srcs = attrs(&html, "src");
    for url in links
        .iter()
        .chain(&srcs)
        .filter(|u| u.starts_with(base.as_str()))
    {
        let (status, _, _) = app.get(url).await;
        assert_eq!(status, 200, "{url}");
    }
    // The viewer opens the first image's 3.0 info.json; ?image=N opens another.
    let info = attrs(&html, "data-info");
    assert_eq!(
        info[0],
        format!("{base}/iiif/3/landscape-lake-boats/info.json")
    );
    assert_eq!(info.len(), 3);
    assert_eq!(attrs(&html, "aria-current"), ["true", "false", "false"]);
    let html = page(&app, "/objects/300001?image=3").await;
    assert_eq!(attrs(&html, "aria-current"), ["false", "false", "true"]);
    assert!(html.contains(&format!(
        "{base}/iiif/mosaic-six-photos/full/!1024,1024/0/default.jpg"
    )));
    for (target, want) in [
        ("/objects/300001?image=4", 404),
        ("/objects/300001?image=0", 400),
        ("/objects/300001?image=two", 400),
        ("/objects/999999", 404),
        ("/objects/brooklyn:999", 404),
    ] {
        assert_eq!(app.get(target).await.0, want, "{target}");
    }
    // Keys are spelled as manifest URLs spell them.
    let html = page(&app, "/objects/brooklyn:300011").await;
    assert!(attrs(&html, "href").contains(&format!("{base}/manifests/3/object/brooklyn:300011")));
    let html = page(&app, "/objects/mplus:300001").await;
    assert!(
        html.contains("lang=\"zh-hant\""),
        "every language of a value is shown"
    );
    // An object without images has no viewer and no script.
    let html = page(&app, "/objects/300005").await;
    assert!(html.contains("No image of this object is available"));
    assert!(!html.contains("<script"));
}

#[tokio::test]
async fn the_viewer_is_served_when_installed_else_loaded_from_the_pinned_cdn_copy() {
    let dir = tempfile::tempdir().unwrap();
    let osd = dir.path().join("osd");
    std::fs::create_dir_all(osd.join("images")).unwrap();
    std::fs::write(
        osd.join("openseadragon.min.js"),
        "window.OpenSeadragon = 1;",
    )
    .unwrap();
    std::fs::write(osd.join("openseadragon.min.js.map"), "{}").unwrap();
    std::fs::write(osd.join("images/zoomin_rest.png"), b"\x89PNG\r\n").unwrap();
    let with = |folder: std::path::PathBuf, url: Option<&str>| {
        let url = url.map(str::to_string);
        App::new(&samples(), move |c| {
            c.records = vec![RecordsFolder::new(records())];
            c.viewer_assets = folder;
            c.viewer_url = url;
        })
    };
    let app = with(osd.clone(), None);
    let base = &app.base;
    let html = page(&app, "/objects/300001").await;
    let script = format!("{base}/static/openseadragon/openseadragon.min.js");
    assert!(attrs(&html, "src").contains(&script), "{html}");
    assert!(!html.contains("integrity="));
    assert!(html.contains(&format!(
        "data-buttons=\"{base}/static/openseadragon/images/\""
    )));
    let (status, headers, body) = app.get(&script).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "text/javascript; charset=utf-8");
    assert_eq!(body, b"window.OpenSeadragon = 1;");
    let (status, headers, _) = app
        .get("/static/openseadragon/images/zoomin_rest.png")
        .await;
    assert_eq!(
        (status.as_u16(), headers["content-type"].to_str().unwrap()),
        (200, "image/png")
    );
    for missing in [
        "/static/openseadragon/../../Cargo.toml",
        "/static/openseadragon/%2e%2e/secret",
        "/static/openseadragon/openseadragon.js",
        "/static/nothing.css",
    ] {
        assert_eq!(app.get(missing).await.0, 404, "{missing}");
    }
    // The page's own stylesheet and script, as the page links them.
    for link in attrs(&html, "href")
        .into_iter()
        .chain(attrs(&html, "src"))
        .filter(|l| l.contains("/static/tessera/"))
    {
        let (status, _, body) = app.get(&link).await;
        assert_eq!(status, 200, "{link}");
        assert!(!body.is_empty());
    }
    // Not installed: the pinned version from jsDelivr, with its integrity hash.
    let app = with(dir.path().join("absent"), None);
    let (_, headers, body) = app.get("/objects/300001").await;
    let html = String::from_utf8(body).unwrap();
    assert!(html.contains(
        "<script src=\"https://cdn.jsdelivr.net/npm/openseadragon@6.1.1/build/openseadragon/openseadragon.min.js\" \
         integrity=\"sha384-"
    ), "{html}");
    assert!(html.contains("crossorigin=\"anonymous\""));
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self' https://cdn.jsdelivr.net;"),
        "{csp}"
    );
    assert_eq!(
        app.get("/static/openseadragon/openseadragon.min.js")
            .await
            .0,
        404
    );
    // viewer_url points elsewhere.
    let app = with(
        dir.path().join("absent"),
        Some("https://osd.example.org/v6/osd.js"),
    );
    let html = page(&app, "/objects/300001").await;
    assert!(html.contains("<script src=\"https://osd.example.org/v6/osd.js\" crossorigin"));
    assert!(html.contains("data-buttons=\"https://osd.example.org/v6/images/\""));
}

#[tokio::test]
async fn an_anonymous_visitor_sees_no_restricted_object_title_or_image() {
    let app = crate::presentation::museum();
    let base = &app.base;
    // The samples: 300002's second image (gray-foggy-pier) is restricted; 300004's images
    // are withheld (imagepermissionlevel 2); 300003 is limited to 256 px.
    let grid = page(&app, "/").await;
    for hidden in ["gray-foggy-pier", "small-garden"] {
        assert!(!grid.contains(hidden), "the grid names {hidden}");
    }
    let html = page(&app, "/objects/300002").await;
    assert!(!html.contains("gray-foggy-pier"), "{html}");
    assert_eq!(attrs(&html, "data-info").len(), 1);
    let html = page(&app, "/objects/300004").await;
    assert!(!html.contains("small-garden"));
    assert!(html.contains("No image of this object is available"));
    // A limited image: marked for the viewer, and every picture of it on the page is within
    // 256 px (the still image included).
    let html = page(&app, "/objects/300003").await;
    assert_eq!(attrs(&html, "data-limited"), ["256"]);
    assert!(html.contains("at most 256 pixels"));
    let pictures: Vec<String> = attrs(&page(&app, "/?q=ladybird").await, "src")
        .into_iter()
        .chain(attrs(&html, "src"))
        .chain(
            html.split("<noscript><img src=\"")
                .skip(1)
                .map(|s| s[..s.find('"').unwrap()].to_string()),
        )
        .filter(|u| u.contains("/alpha-ladybird/"))
        .collect();
    assert!(pictures.len() >= 3, "{pictures:?}");
    for url in &pictures {
        let img = app.get_image(url).await;
        assert!(img.width() <= 256 && img.height() <= 256, "{url}");
    }
    // The viewer's info.json says so: nothing it offers is larger.
    let (_, _, body) = app
        .get(&format!("{base}/iiif/3/alpha-ladybird/info.json"))
        .await;
    let info: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert!(info["maxWidth"].as_u64().unwrap() <= 256, "{info}");
    // A privileged caller sees the restricted image, privately.
    let (status, headers, body) = app
        .get_with(
            "/objects/300002",
            &[(
                "authorization",
                &format!("Bearer {}", crate::presentation::STAFF),
            )],
        )
        .await;
    assert_eq!(status, 200);
    assert!(String::from_utf8_lossy(&body).contains("gray-foggy-pier"));
    assert_eq!(headers["cache-control"], "private, no-store");
    let (status, _, _) = app
        .get_with("/", &[("authorization", "Bearer wrong-key-123")])
        .await;
    assert_eq!(status, 401, "an unknown key is refused, as on every route");
}
