//! The adversarial access suite (issue 7): hostile identifiers never open a file outside the
//! images folder (watched with inotify), restricted images never reach an unprivileged
//! client through manifests, collections or thumbnails, `tessera tiles --records` leaves
//! them out of a public tree, and API keys never appear in the logs. Tiles, info.json, sizes,
//! the default service and cache hits are covered in tests/integration/presentation.rs.

use crate::common::*;
use serde_json::Value;
use std::collections::{BTreeSet, VecDeque};
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use tessera::presentation::RecordsFolder;

/// An inotify watch on one folder, reporting whether any file in it was opened or read.
struct OpenWatch {
    fd: i32,
}

impl OpenWatch {
    fn new(dir: &Path) -> OpenWatch {
        // SAFETY: plain system calls on a file descriptor this struct owns; the path is a
        // valid NUL-terminated string.
        unsafe {
            let fd = libc::inotify_init1(libc::IN_NONBLOCK | libc::IN_CLOEXEC);
            assert!(fd >= 0, "inotify_init1");
            let path = CString::new(dir.as_os_str().as_bytes()).unwrap();
            let wd = libc::inotify_add_watch(fd, path.as_ptr(), libc::IN_OPEN | libc::IN_ACCESS);
            assert!(wd >= 0, "inotify_add_watch");
            OpenWatch { fd }
        }
    }

    /// The number of open or read events since the last call.
    fn events(&self) -> usize {
        let mut buf = [0u8; 8192];
        let mut count = 0;
        loop {
            // SAFETY: reads into a buffer of the given length.
            let n = unsafe { libc::read(self.fd, buf.as_mut_ptr().cast(), buf.len()) };
            if n <= 0 {
                return count;
            }
            let mut at = 0usize;
            while at + 16 <= n as usize {
                let name_len = u32::from_ne_bytes(buf[at + 12..at + 16].try_into().unwrap());
                at += 16 + name_len as usize;
                count += 1;
            }
        }
    }
}

impl Drop for OpenWatch {
    fn drop(&mut self) {
        // SAFETY: closes the descriptor this struct owns.
        unsafe { libc::close(self.fd) };
    }
}

#[tokio::test]
async fn no_request_opens_a_file_outside_the_images_folder() {
    let dir = tempfile::tempdir().unwrap();
    let images = dir.path().join("images");
    let outside = dir.path().join("outside");
    std::fs::create_dir_all(images.join("sub")).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    for name in ["secret.png", "secret.jpg", "info.json"] {
        std::fs::copy(fixtures().join("grid.png"), outside.join(name)).unwrap();
    }
    std::fs::copy(fixtures().join("grid.png"), images.join("sub/inside.png")).unwrap();
    std::os::unix::fs::symlink(outside.join("secret.png"), images.join("link.png")).unwrap();
    std::os::unix::fs::symlink(&outside, images.join("dirlink")).unwrap();
    let watch = OpenWatch::new(&outside);
    let app = App::new(&images, |_| {});
    let base = &app.base;
    let out = outside.display().to_string().replace('/', "%2F");
    let hostile = [
        "..%2Foutside%2Fsecret".to_string(),
        "..%2Foutside%2Fsecret.png".into(),
        "%2E%2E%2Foutside%2Fsecret".into(),
        "%2e%2e%2foutside%2fsecret.png".into(),
        "%252E%252E%252Foutside%252Fsecret".into(),
        "..%252foutside%252fsecret.png".into(),
        "sub%2F..%2F..%2Foutside%2Fsecret".into(),
        "..%5Coutside%5Csecret.png".into(),
        "sub%5C..%5C..%5Coutside%5Csecret".into(),
        "%C0%AE%C0%AE%2Foutside%2Fsecret".into(),
        "%C0%AE%C0%AE%C0%AFoutside%C0%AFsecret.png".into(),
        "..%00%2Foutside%2Fsecret".into(),
        "secret%00.png".into(),
        out.clone(),
        format!("{out}%2Fsecret"),
        format!("{out}%2Fsecret.png"),
        "%2Fetc%2Fpasswd".into(),
        "link".into(),
        "link.png".into(),
        "dirlink%2Fsecret".into(),
        "dirlink%2Fsecret.png".into(),
        "dirlink".into(),
        "sub%2F..%2Fdirlink%2Fsecret".into(),
        ".".into(),
        "%2E".into(),
    ];
    let forms = [
        "info.json",
        "full/full/0/default.png",
        "0,0,10,10/full/0/default.jpg",
    ];
    for id in &hostile {
        for form in forms {
            let (status, _, _) = app.get(&format!("{base}/iiif/{id}/{form}")).await;
            assert!(
                status == 404 || status == 400,
                "{id}/{form}: {status}, want 404 (or 400 for a malformed identifier)"
            );
        }
        let (status, _, _) = app
            .get(&format!("{base}/iiif/{id}?width=50&height=50"))
            .await;
        assert!(status == 404 || status == 400, "{id}?width: {status}");
    }
    for raw in [
        "/iiif/../outside/secret.png/info.json",
        "/iiif/%2e%2e/info.json",
    ] {
        let (status, _, _) = app.get(&format!("{base}{raw}")).await;
        assert!((400..500).contains(&status.as_u16()), "{raw}: {status}");
    }
    // The inside file is served, so the server did work during the test.
    app.get_image(&format!("{base}/iiif/sub%2Finside/full/40,/0/default.png"))
        .await;
    assert_eq!(
        watch.events(),
        0,
        "a file outside the images folder was opened"
    );
    // The watch itself works: reading the secret here is seen.
    std::fs::read(outside.join("secret.png")).unwrap();
    assert!(watch.events() > 0, "the inotify watch saw nothing");
}

/// Every JSON document reachable from the top collection, fetched anonymously, by URL.
async fn crawl(app: &App) -> Vec<(String, Value)> {
    let base = &app.base;
    let mut seen = BTreeSet::new();
    let mut queue = VecDeque::from([format!("{base}/collections/top")]);
    let mut docs = Vec::new();
    while let Some(url) = queue.pop_front() {
        if !seen.insert(url.clone()) {
            continue;
        }
        let (status, _, body) = app.get(&url).await;
        assert_eq!(status, 200, "{url}");
        let doc: Value = serde_json::from_slice(&body).unwrap();
        let mut links = Vec::new();
        collect_ids(&doc, &mut links);
        for link in links {
            let is_doc = link.contains("/collections/")
                || (link.contains("/manifests/object/")
                    && link.ends_with(|c: char| c.is_ascii_digit()));
            if link.starts_with(base.as_str()) && is_doc {
                queue.push_back(link);
            }
        }
        docs.push((url, doc));
    }
    docs
}

fn collect_ids(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for key in ["@id", "first", "next", "prev", "last"] {
                if let Some(Value::String(id)) = m.get(key) {
                    out.push(id.clone());
                }
            }
            m.values().for_each(|x| collect_ids(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| collect_ids(x, out)),
        _ => {}
    }
}

/// Every `thumbnail` URL in a document.
fn thumbnails(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            match m.get("thumbnail") {
                Some(Value::String(s)) => out.push(s.clone()),
                Some(Value::Object(t)) => {
                    if let Some(Value::String(s)) = t.get("@id") {
                        out.push(s.clone());
                    }
                }
                _ => {}
            }
            m.values().for_each(|x| thumbnails(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| thumbnails(x, out)),
        _ => {}
    }
}

#[tokio::test]
async fn manifests_collections_and_thumbnails_never_show_a_restricted_image() {
    let app = App::new(&samples(), |c| {
        c.records = vec![RecordsFolder::new(records())];
    });
    let base = &app.base;
    let docs = crawl(&app).await;
    assert!(
        docs.iter()
            .any(|(u, _)| u.ends_with("/manifests/object/300002")),
        "the crawl reached the object with a restricted image"
    );
    let mut thumbs = Vec::new();
    for (url, doc) in &docs {
        let text = doc.to_string();
        for restricted in ["gray-foggy-pier", "small-garden"] {
            assert!(!text.contains(restricted), "{url} names {restricted}");
        }
        thumbnails(doc, &mut thumbs);
    }
    assert!(!thumbs.is_empty());
    // Every thumbnail offered to an anonymous client is one it may fetch, and a limited
    // image's thumbnail stays within 256 px.
    for t in thumbs.iter().filter(|t| t.starts_with(base.as_str())) {
        let img = app.get_image(t).await;
        if t.contains("alpha-ladybird") {
            assert!(img.width() <= 256 && img.height() <= 256, "{t}");
        }
    }
}

#[test]
fn tiles_with_records_leave_restricted_and_limited_images_out() {
    let out = tempfile::tempdir().unwrap();
    let run = |extra: &[&str]| {
        std::process::Command::new(BIN)
            .args(["tiles"])
            .arg(samples())
            .arg(out.path())
            .args(["--records"])
            .arg(records())
            .args(extra)
            .output()
            .unwrap()
    };
    let done = run(&[]);
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    let tree: BTreeSet<String> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    for kept in ["portrait-forest-path", "landscape-lake-boats"] {
        assert!(tree.contains(kept), "{kept} missing from {tree:?}");
    }
    for left_out in ["gray-foggy-pier", "small-garden", "alpha-ladybird"] {
        assert!(!tree.contains(left_out), "{left_out} exported: {tree:?}");
    }
    let log = String::from_utf8_lossy(&done.stderr);
    assert!(log.contains("3 left out"), "{log}");
    // With --include-restricted they are exported too.
    let done = run(&["--include-restricted"]);
    assert!(done.status.success());
    assert!(out.path().join("gray-foggy-pier/info.json").is_file());
}

#[tokio::test]
async fn api_keys_never_appear_in_the_logs() {
    let dir = tempfile::tempdir().unwrap();
    let staff = "staff-SECRET-4f1c9e";
    let web = "web-SECRET-77a0b2";
    let config = dir.path().join("tessera.toml");
    std::fs::write(
        &config,
        format!(
            "[[api_keys]]\nkey = \"{staff}\"\nprivileged = true\nname = \"staff\"\n\n\
             [[api_keys]]\nkey = \"{web}\"\nprivileged = false\nname = \"web\"\n"
        ),
    )
    .unwrap();
    let samples = samples().display().to_string();
    let records = records().display().to_string();
    let config = config.display().to_string();
    let (mut child, addr, log) = spawn_binary(
        &[
            "--images",
            &samples,
            "--records",
            &records,
            "--config",
            &config,
        ],
        "debug",
    );
    let base = format!("http://{addr}");
    let client = reqwest::Client::new();
    let wrong = "wrong-SECRET-0d3e55";
    for key in [staff, web, wrong] {
        for path in [
            "iiif/gray-foggy-pier/info.json",
            "iiif/gray-foggy-pier/full/64,/0/default.jpg",
            "iiif/portrait-forest-path/full/64,/0/default.jpg",
            "manifests/object/300002",
            "nope/at/all",
        ] {
            let r = client
                .get(format!("{base}/{path}?apikey={key}"))
                .send()
                .await
                .unwrap();
            assert!(r.status().as_u16() < 500, "{path}");
            let r = client
                .get(format!("{base}/{path}"))
                .bearer_auth(key)
                .send()
                .await
                .unwrap();
            assert!(r.status().as_u16() < 500, "{path}");
        }
    }
    // A key in a malformed request line or header must not be echoed either.
    let r = client
        .get(format!(
            "{base}/iiif/x/info.json?apikey={wrong}&apikey={staff}"
        ))
        .header("authorization", format!("Basic {staff}"))
        .send()
        .await
        .unwrap();
    assert!(r.status().as_u16() < 500);
    sigterm(&child);
    child.wait().unwrap();
    let log = log.lock().unwrap().clone();
    assert!(
        log.contains("gray-foggy-pier"),
        "debug logging names requests (else this test proves nothing):\n{log}"
    );
    for key in [staff, web, wrong] {
        assert!(!log.contains(key), "the key {key} is in the log");
        assert!(!log.contains("SECRET"), "a key is in the log");
    }
}

// ---- Issue 12: one access policy, decided at request time on the resolved source. ----

/// An images folder with copies of the grid fixture under `names`, and a records folder with
/// one file per `(file name, JSON)`.
fn collection(names: &[&str], records: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let images = dir.path().join("images");
    for name in names {
        let path = images.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::copy(fixtures().join("grid.png"), path).unwrap();
    }
    std::fs::create_dir_all(dir.path().join("records")).unwrap();
    for (file, json) in records {
        std::fs::write(dir.path().join("records").join(file), json).unwrap();
    }
    dir
}

fn app_of_collection(dir: &Path, tweak: impl FnOnce(&mut tessera::config::Config)) -> App {
    let records = dir.join("records");
    App::new(&dir.join("images"), |c| {
        c.records = vec![RecordsFolder::new(records)];
        tweak(c);
    })
}

/// The status of every front of the Image API for one identifier, in every version: the
/// unversioned paths, `/iiif/2/…` and `/iiif/3/…` (base URI, info.json, images, the default
/// service).
async fn fronts(app: &App, id: &str) -> Vec<(String, u16)> {
    let base = &app.base;
    let mut out = Vec::new();
    for version in ["", "2/", "3/"] {
        for form in [
            "",
            "/info.json",
            "/full/max/0/default.png",
            "/0,0,100,100/50,50/0/default.jpg",
            "?width=50&height=50",
        ] {
            let url = format!("{base}/iiif/{version}{id}{form}");
            out.push((url.clone(), app.get(&url).await.0.as_u16()));
        }
    }
    out
}

/// What the collection browser's pages answer an anonymous visitor about one object: its
/// page by each spelling of its key (`/objects/{spelling}`, each image of it chosen too), and
/// the front page and the searches for each of `words` (its title's and number's words): each
/// URL with its status and body.
async fn page_fronts(app: &App, spellings: &[&str], words: &[&str]) -> Vec<(String, u16, String)> {
    let mut urls = vec!["/".to_string(), "/?page=1".to_string()];
    for s in spellings {
        urls.push(format!("/objects/{s}"));
        urls.push(format!("/objects/{s}?image=1"));
        urls.push(format!("/objects/{s}?image=2"));
    }
    for w in words {
        urls.push(format!("/?q={w}"));
    }
    let mut out = Vec::new();
    for url in urls {
        let (status, _, body) = app.get(&url).await;
        out.push((
            url,
            status.as_u16(),
            String::from_utf8_lossy(&body).into_owned(),
        ));
    }
    out
}

/// A page without the echo of its own search query (in the box, the count and the title),
/// which is the visitor's own text, not something the server tells.
fn without_query(url: &str, body: &str) -> String {
    match url.strip_prefix("/?q=") {
        Some(q) => body
            .replace(&format!("value=\"{q}\""), "")
            .replace(&format!("“{q}”"), ""),
        None => body.to_string(),
    }
}

#[tokio::test]
async fn every_name_of_a_restricted_file_is_refused_even_names_made_after_start() {
    let dir = collection(
        &["secret.png", "open.png"],
        &[(
            "1.json",
            r#"{"objectid": 1, "images": [
                {"baseimageurl": "https://x/iiif/secret", "accesslevel": 0},
                {"baseimageurl": "https://x/iiif/late", "accesslevel": 0},
                {"baseimageurl": "https://x/iiif/open"}]}"#,
        )],
    );
    let app = app_of_collection(dir.path(), |_| {});
    let images = dir.path().join("images");
    // After start-up: a symlink, a hard link, and the late image's file itself.
    std::os::unix::fs::symlink(images.join("secret.png"), images.join("sym.png")).unwrap();
    std::fs::hard_link(images.join("secret.png"), images.join("hard.png")).unwrap();
    std::fs::copy(fixtures().join("grid.png"), images.join("late.png")).unwrap();
    for id in [
        "secret",
        "secret.png",
        "sym",
        "sym.png",
        "hard",
        "hard.png",
        "late",
        "late.png",
    ] {
        for (url, status) in fronts(&app, id).await {
            assert_eq!(status, 401, "{url}");
        }
    }
    for (url, status) in fronts(&app, "open").await {
        let redirect = !url.contains("/open/") && !url.contains('?');
        assert_eq!(status, if redirect { 303 } else { 200 }, "{url}");
    }
    // The object is public: its page shows its public image, and no page names the others.
    for (url, status, body) in page_fronts(&app, &["1", "%31"], &["open", "secret"]).await {
        if url.ends_with("image=2") {
            assert_eq!(status, 404, "{url}: it has one image the visitor may see");
            continue;
        }
        assert_eq!(status, 200, "{url}: {body}");
        for hidden in ["secret", "late", "sym", "hard"] {
            assert!(
                !body.contains(&format!("/{hidden}")),
                "{url} names {hidden}: {body}"
            );
        }
    }
}

/// grid.png as `lim`, the one image of an object limited to 256 px (`imagepermissionlevel`
/// 1): the folder (keep it while the app runs) and the app.
fn limited_grid() -> (tempfile::TempDir, App) {
    let dir = collection(
        &["lim.png"],
        &[(
            "1.json",
            r#"{"objectid": 1, "imagepermissionlevel": 1,
                "images": [{"baseimageurl": "https://x/iiif/lim"}]}"#,
        )],
    );
    let app = app_of_collection(dir.path(), |_| {});
    (dir, app)
}

#[tokio::test]
async fn a_limited_image_never_yields_a_pixel_at_a_scale_above_its_cap() {
    // grid.png is 400 x 300; limited to 256 px, the cap is 256/400 = 0.64.
    let (_dir, app) = limited_grid();
    let base = &app.base;
    for req in [
        "0,0,1,1/1,1/0/default.png",
        "0,0,1,1/max/0/default.png",
        "17,23,1,1/!1,1/0/default.png",
        "0,0,10,10/7,/0/default.png",
        "0,0,10,10/,7/0/default.png",
        "0,0,10,10/7,7/0/default.png",
        "0,0,2,2/pct:100/0/default.png",
        "full/257,/0/default.png",
        "full/full/0/default.png",
    ] {
        let (status, _, _) = app.get(&format!("{base}/iiif/lim/{req}")).await;
        assert_eq!(status, 404, "{req}");
    }
    // Within the cap: served, with the grid's colours where they belong.
    let img = app
        .get_image(&format!("{base}/iiif/lim/0,0,10,10/6,/0/default.png"))
        .await;
    assert_eq!((img.width(), img.height()), (6, 6));
    assert_near(&img.to_rgba8(), 3, 3, GRID[0], 2, "top-left block");
    let img = app
        .get_image(&format!("{base}/iiif/lim/full/max/0/default.png"))
        .await;
    assert_eq!((img.width(), img.height()), (256, 192));
    assert_grid(&img, 0.64, 12, "max of the limited image");
    // Everything its info.json offers can be fetched.
    let (_, _, body) = app.get(&format!("{base}/iiif/lim/info.json")).await;
    let info: Value = serde_json::from_slice(&body).unwrap();
    for s in info["sizes"].as_array().unwrap() {
        let url = format!(
            "{base}/iiif/lim/full/{},{}/0/default.jpg",
            s["width"], s["height"]
        );
        app.get_image(&url).await;
    }
}

#[tokio::test]
async fn a_limited_image_is_capped_alike_in_image_api_3() {
    let (_dir, app) = limited_grid();
    let base = &app.base;
    // `^` asks for more than the region; the cap still bounds it (3.0 answers 400).
    for req in [
        "full/^257,/0/default.png",
        "full/^pct:100/0/default.png",
        "0,0,1,1/^1,1/0/default.png",
        "0,0,10,10/^!7,7/0/default.png",
        "full/300,/0/default.png",
    ] {
        let url = format!("{base}/iiif/3/lim/{req}");
        let (status, _, _) = app.get(&url).await;
        assert!(status == 400 || status == 404, "{url}: {status}");
        assert_ne!(status, 200, "{url}");
    }
    let img = app
        .get_image(&format!("{base}/iiif/3/lim/full/max/0/default.png"))
        .await;
    assert_eq!((img.width(), img.height()), (256, 192));
    assert_grid(&img, 0.64, 12, "3.0 max of the limited image");
    // `^max` is the largest size the limits allow: for this image, the same 256 px.
    let img = app
        .get_image(&format!("{base}/iiif/3/lim/full/^max/0/default.png"))
        .await;
    assert_eq!((img.width(), img.height()), (256, 192));
    // Its 3.0 info.json says so, and everything it offers can be fetched.
    let (_, _, body) = app.get(&format!("{base}/iiif/3/lim/info.json")).await;
    let info: Value = serde_json::from_slice(&body).unwrap();
    assert!(info["maxWidth"].as_u64().unwrap() <= 256, "{info}");
    for s in info["sizes"].as_array().unwrap() {
        assert!(s["width"].as_u64().unwrap() <= 256, "{info}");
        let url = format!(
            "{base}/iiif/3/lim/full/{},{}/0/default.jpg",
            s["width"], s["height"]
        );
        app.get_image(&url).await;
    }
}

#[tokio::test]
async fn a_record_that_cannot_be_read_never_makes_an_image_more_public() {
    let records = [
        (
            "a.json",
            r#"{"objectid": 1, "imagepermissionlevel": 1.0,
                "images": [{"baseimageurl": "https://x/iiif/one"}]}"#,
        ),
        (
            "b.json",
            r#"{"objectid": 2, "imagepermissionlevel": "unknown",
                "images": [{"baseimageurl": "https://x/iiif/odd"}]}"#,
        ),
        (
            "c1.json",
            r#"{"objectid": 3, "images": [{"baseimageurl": "https://x/iiif/dup"}]}"#,
        ),
        (
            "c2.json",
            r#"{"objectid": 3, "images": [
                {"baseimageurl": "https://x/iiif/dup", "accesslevel": 0}]}"#,
        ),
    ];
    let dir = collection(&["one.png", "odd.png", "dup.png", "stray.png"], &records);
    let app = app_of_collection(dir.path(), |_| {});
    let base = &app.base;
    let img = app
        .get_image(&format!("{base}/iiif/one/full/max/0/default.png"))
        .await;
    assert_eq!((img.width(), img.height()), (256, 192), "1.0 is read as 1");
    for id in ["odd", "dup"] {
        for (url, status) in fronts(&app, id).await {
            assert_eq!(status, 401, "{url}");
        }
    }
    let img = app
        .get_image(&format!("{base}/iiif/stray/full/max/0/default.png"))
        .await;
    assert_eq!(img.width(), 400, "unlisted images are public by default");
    // With unlisted_images = "restricted", only what a readable record makes public is.
    let app = app_of_collection(dir.path(), |c| {
        c.unlisted_images = tessera::policy::Unlisted::Restricted;
    });
    let base = &app.base;
    for (url, status) in fronts(&app, "stray").await {
        assert_eq!(status, 401, "{url}");
    }
    let img = app
        .get_image(&format!("{base}/iiif/one/full/max/0/default.png"))
        .await;
    assert_eq!(img.width(), 256);
}

#[tokio::test]
async fn nothing_tells_an_anonymous_caller_more_than_restricted_or_not_found() {
    let dir = collection(
        &["hidden-master.png", "lim.png", "hoard.png"],
        &[
            (
                "1.json",
                r#"{"objectid": 1, "images": [
                {"baseimageurl": "https://x/iiif/hidden-master", "renditionnumber": "R-77",
                 "accesslevel": 0}]}"#,
            ),
            (
                "2.json",
                r#"{"objectid": 2, "imagepermissionlevel": 1,
                "images": [{"baseimageurl": "https://x/iiif/lim"}]}"#,
            ),
            (
                "3.json",
                r#"{"objectid": 3, "accesslevel": 0, "title": "Hidden Hoard",
                "objectnumber": "HH.1903", "images": [{"baseimageurl": "https://x/iiif/hoard"}]}"#,
            ),
        ],
    );
    let app = app_of_collection(dir.path(), |_| {});
    let base = &app.base;
    // The collection browser: the restricted object is in no grid and no search, and its
    // page answers as its manifest does (401 by its key, 404 by any other spelling); the
    // public object's page never names its restricted image, by identifier or alias.
    let spellings = ["3", "%33", "03", "harvard:3", "3.0", "+3"];
    let words = [
        "hidden",
        "Hoard",
        "HH.1903",
        "1903",
        "hh",
        "hidden-master",
        "R-77",
    ];
    for (url, status, body) in page_fronts(&app, &spellings, &words).await {
        // A search echoes its own query (in the box, the count and the title): not a leak.
        let shown = without_query(&url, &body);
        for secret in [
            "Hidden",
            "Hoard",
            "HH.1903",
            "hoard",
            "hidden-master",
            "R-77",
        ] {
            assert!(!shown.contains(secret), "{url} shows {secret}: {body}");
        }
        let want = match url.as_str() {
            "/objects/3"
            | "/objects/%33"
            | "/objects/3?image=1"
            | "/objects/%33?image=1"
            | "/objects/3?image=2"
            | "/objects/%33?image=2" => 401,
            u if u.starts_with("/objects/") => 404,
            _ => 200,
        };
        assert_eq!(status, want, "{url}: {body}");
        if url.starts_with("/?q=") {
            assert!(
                body.contains("<p class=\"count\">0 objects found"),
                "{url}: {body}"
            );
        }
    }
    for (url, _, body) in page_fronts(&app, &["1", "2"], &["R-77"]).await {
        let shown = without_query(&url, &body);
        assert!(
            !shown.contains("hidden-master") && !shown.contains("R-77"),
            "{url}: {body}"
        );
    }
    for form in ["info.json", "full/max/0/default.jpg"] {
        let (status, headers, body) = app.get(&format!("{base}/iiif/R-77/{form}")).await;
        assert_eq!(status, 401, "{form}");
        let text = String::from_utf8_lossy(&body);
        assert!(!text.contains("hidden-master"), "{form}: {text}");
        assert!(!format!("{headers:?}").contains("hidden-master"), "{form}");
    }
    // The ETag of a capped image is an opaque hash, not the file's size and mtime.
    let (status, headers, _) = app
        .get(&format!("{base}/iiif/lim/full/max/0/default.jpg"))
        .await;
    assert_eq!(status, 200);
    let tag = headers["etag"].to_str().unwrap();
    let hex = tag.trim_matches('"').strip_prefix("t1-").unwrap_or("");
    assert!(
        hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()),
        "ETag {tag}"
    );
    let len = std::fs::metadata(dir.path().join("images/lim.png"))
        .unwrap()
        .len();
    assert!(
        !tag.contains(&format!("{len:x}-")),
        "ETag {tag} shows the size"
    );
    // With restricted_answer = "not_found", a restricted image answers exactly as a missing one.
    let app = app_of_collection(dir.path(), |c| {
        c.restricted_answer = tessera::config::RestrictedAnswer::NotFound;
    });
    let base = &app.base;
    for form in ["info.json", "full/max/0/default.jpg"] {
        let restricted = app.get(&format!("{base}/iiif/hidden-master/{form}")).await;
        let missing = app.get(&format!("{base}/iiif/missing-master/{form}")).await;
        assert_eq!(restricted.0, 404, "{form}");
        assert_eq!(missing.0, 404, "{form}");
        assert_eq!(
            String::from_utf8_lossy(&restricted.2).replace("hidden", "missing"),
            String::from_utf8_lossy(&missing.2),
            "{form}"
        );
    }
    let (status, _, _) = app.get(&format!("{base}/manifests/object/1")).await;
    assert_eq!(
        status, 200,
        "the object itself is public; its image is not listed"
    );
    // So does a restricted object's page: exactly as an object that does not exist.
    for (page, missing) in [
        ("/objects/3", "/objects/99"),
        ("/objects/3?image=1", "/objects/99?image=1"),
    ] {
        let restricted = app.get(page).await;
        let absent = app.get(missing).await;
        assert_eq!(restricted.0, 404, "{page}");
        assert_eq!(
            String::from_utf8_lossy(&restricted.2).replace("\"3\"", "\"99\""),
            String::from_utf8_lossy(&absent.2),
            "{page}"
        );
    }
}

#[test]
fn batch_commands_decide_on_the_file_not_on_the_spelling() {
    // One record restricts `x` and one lists the same file publicly as `x.png`; another
    // restricts `sub/y`, exported from the sub-folder itself.
    let dir = collection(
        &["x.png", "sub/y.png", "z.png"],
        &[
            (
                "1.json",
                r#"{"objectid": 1, "images": [{"baseimageurl": "https://x/iiif/x", "accesslevel": 0}]}"#,
            ),
            (
                "2.json",
                r#"{"objectid": 2, "images": [{"baseimageurl": "https://x/iiif/x.png"},
                    {"baseimageurl": "https://x/iiif/z"}]}"#,
            ),
            (
                "3.json",
                r#"{"objectid": 3, "images": [{"baseimageurl": "https://x/iiif/sub%2Fy", "accesslevel": 0}]}"#,
            ),
        ],
    );
    let (images, records) = (dir.path().join("images"), dir.path().join("records"));
    let out = dir.path().join("thumbs");
    let done = std::process::Command::new(BIN)
        .arg("thumbnails")
        .args([&images, &out])
        .arg("--records")
        .arg(&records)
        .arg("--json")
        .output()
        .unwrap();
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    let made: BTreeSet<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(made, BTreeSet::from(["z.jpg".to_string()]));
    let summary: Value = serde_json::from_slice(&done.stdout).unwrap();
    // `x.png` in a record names identifier `x` (the extension is dropped, as for every
    // shape), so two identifiers are left out: x and sub/y.
    assert_eq!(summary["restricted"], 2, "x (also spelled x.png) and sub/y");
    let tiles = dir.path().join("tiles");
    let export = |images_folder: &Path| {
        std::process::Command::new(BIN)
            .arg("tiles")
            .args([images.join("sub"), tiles.clone()])
            .arg("--records")
            .arg(&records)
            .arg("--images")
            .arg(images_folder)
            .output()
            .unwrap()
    };
    let done = export(&images);
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    assert!(
        !tiles.join("y").exists(),
        "the restricted sub/y was exported"
    );
    // A source outside the images folder the records name is refused, not guessed at.
    let done = export(&records);
    assert_eq!(done.status.code(), Some(2));
}

#[tokio::test]
async fn a_record_read_in_part_gives_what_its_summary_holds_and_keeps_its_access() {
    // Records 1 and 2 repeat a field the index does not read (`technique`, twice): loading
    // reads them, the full reader refuses them. Their manifests then give what the index keeps
    // (not a 500), with the same access as the well-formed twins 3 and 4.
    let bowl = |id: u32, extra: &str| {
        format!(
            r#"{{"objectid": {id}, "title": "Bowl", "objectnumber": "B.{id}", {extra}
            "images": [{{"baseimageurl": "https://x/iiif/bowl"}},
                       {{"baseimageurl": "https://x/iiif/cup", "accesslevel": 0}}]}}"#
        )
    };
    let hidden = |id: u32, extra: &str| {
        format!(
            r#"{{"objectid": {id}, "accesslevel": 0, "title": "Hidden", {extra}
            "images": [{{"baseimageurl": "https://x/iiif/hoard"}}]}}"#
        )
    };
    let twice = r#""technique": "a", "technique": "b","#;
    let records = [
        ("1.json", bowl(1, twice)),
        ("2.json", hidden(2, twice)),
        ("3.json", bowl(3, "")),
        ("4.json", hidden(4, "")),
    ];
    let records: Vec<(&str, &str)> = records.iter().map(|(f, j)| (*f, j.as_str())).collect();
    let dir = collection(&["bowl.png", "cup.png", "hoard.png"], &records);
    let app = app_of_collection(dir.path(), |_| {});
    let base = &app.base;
    let services = |m: &serde_json::Value, v3: bool| -> Vec<String> {
        let canvases = if v3 {
            m["items"].as_array().unwrap().clone()
        } else {
            m["sequences"][0]["canvases"].as_array().unwrap().clone()
        };
        canvases
            .iter()
            .map(|c| {
                let service = if v3 {
                    &c["items"][0]["items"][0]["body"]["service"][0]
                } else {
                    &c["images"][0]["resource"]["service"]
                };
                let id = service["@id"].as_str().or(service["id"].as_str()).unwrap();
                id.rsplit('/').next().unwrap().to_string()
            })
            .collect()
    };
    for (v3, prefix) in [(false, "/manifests/object"), (true, "/manifests/3/object")] {
        let (status, _, body) = app.get(&format!("{base}{prefix}/1")).await;
        assert_eq!(
            status,
            200,
            "{prefix}/1: {}",
            String::from_utf8_lossy(&body)
        );
        let part: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let (_, _, body) = app.get(&format!("{base}{prefix}/3")).await;
        let whole: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            services(&part, v3),
            ["bowl"],
            "{prefix}: the restricted cup is left out"
        );
        assert_eq!(services(&part, v3), services(&whole, v3));
        assert!(
            part["label"].to_string().contains("Bowl"),
            "{}",
            part["label"]
        );
        // A restricted object read in part answers as a restricted one does.
        let (status, _, body) = app.get(&format!("{base}{prefix}/2")).await;
        let (want, _, _) = app.get(&format!("{base}{prefix}/4")).await;
        assert_eq!(status, want, "{prefix}/2");
        assert_ne!(status, 200);
        assert!(!String::from_utf8_lossy(&body).contains("Hidden"));
    }
}
