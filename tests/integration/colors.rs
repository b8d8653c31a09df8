//! Colours over HTTP: `/images/{identifier}` image records with extracted colours, under the
//! access policy, and `/collections/hue/{hue}` filled by the background job.

use crate::common::*;
use serde_json::Value;
use std::time::Duration;
use tessera::presentation::RecordsFolder;

/// A PNG whose left 70% is pure blue and right 30% white.
fn blue_and_white(path: &std::path::Path) {
    let img = image::RgbImage::from_fn(400, 100, |x, _| {
        if x < 280 {
            image::Rgb([0, 0, 255])
        } else {
            image::Rgb([255, 255, 255])
        }
    });
    img.save(path).unwrap();
}

/// Images: `blue` (70% blue), `white` (all white), and the records: object 1 shows `blue`
/// first (imageid 11), object 2 shows `white`, object 3 restricts `secret` (a blue copy).
pub(crate) fn museum() -> (tempfile::TempDir, App) {
    museum_with(|_, _| {})
}

fn museum_with(
    tweak: impl FnOnce(&std::path::Path, &mut tessera::config::Config),
) -> (tempfile::TempDir, App) {
    let dir = tempfile::tempdir().unwrap();
    let (images, records) = (dir.path().join("images"), dir.path().join("records"));
    std::fs::create_dir_all(&images).unwrap();
    std::fs::create_dir_all(&records).unwrap();
    blue_and_white(&images.join("blue.png"));
    blue_and_white(&images.join("secret.png"));
    image::RgbImage::from_pixel(300, 200, image::Rgb([255, 255, 255]))
        .save(images.join("white.png"))
        .unwrap();
    std::fs::write(
        records.join("page.json"),
        r#"{"records": [
          {"objectid": 1, "title": "Blue", "images": [
            {"imageid": 11, "displayorder": 1, "baseimageurl": "https://x/iiif/blue",
             "copyright": "Museum", "format": "image/png", "renditionnumber": "B-11"}]},
          {"objectid": 2, "title": "White", "images": [{"baseimageurl": "https://x/iiif/white"}]},
          {"objectid": 3, "title": "Secret", "images": [
            {"imageid": 33, "baseimageurl": "https://x/iiif/secret", "accesslevel": 0}]}]}"#,
    )
    .unwrap();
    let app = App::new(&images, |c| {
        c.records = vec![RecordsFolder::new(&records)];
        c.colors_in_background = true;
        tweak(dir.path(), c);
    });
    (dir, app)
}

async fn json(app: &App, path: &str) -> (u16, Value) {
    let (status, _, body) = app.get(&format!("{}{path}", app.base)).await;
    let v = serde_json::from_slice(&body).unwrap_or(Value::Null);
    (status.as_u16(), v)
}

fn share(colors: &Value, hue: &str) -> f64 {
    colors
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["hue"] == hue)
        .map(|c| c["percent"].as_f64().unwrap())
        .sum()
}

#[tokio::test]
async fn an_image_record_carries_its_colours_and_obeys_access() {
    let (_dir, app) = museum();
    let (status, r) = json(&app, "/images/blue").await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(
        (r["width"].as_u64(), r["height"].as_u64()),
        (Some(400), Some(100))
    );
    assert_eq!(r["baseimageurl"], format!("{}/iiif/blue", app.base));
    assert!(
        (share(&r["colors"], "Blue") - 0.70).abs() <= 0.02,
        "{}",
        r["colors"]
    );
    assert!(
        (share(&r["colors"], "White") - 0.30).abs() <= 0.02,
        "{}",
        r["colors"]
    );
    let top = &r["colors"][0];
    assert_eq!(
        (top["color"].as_str(), top["css3"].as_str()),
        (Some("#0000ff"), Some("#0000ff"))
    );
    // A Harvard imageid resolves to the same image, with what its record says.
    let (status, by_id) = json(&app, "/images/11").await;
    assert_eq!(status, 200);
    assert_eq!(by_id["identifier"], "blue");
    assert_eq!(
        (by_id["imageid"].as_u64(), by_id["copyright"].as_str()),
        (Some(11), Some("Museum"))
    );
    assert_eq!(by_id["renditionnumber"], "B-11");
    assert_eq!(by_id["colors"], r["colors"]);
    // Restricted, whether by identifier or by image id; nothing is told.
    for path in ["/images/secret", "/images/33"] {
        let (status, body) = json(&app, path).await;
        assert_eq!(status, 401, "{path}: {body}");
        assert!(body.get("colors").is_none());
    }
    assert_eq!(json(&app, "/images/nope").await.0, 404);
}

#[tokio::test]
async fn hue_collections_list_objects_by_their_first_image() {
    let (_dir, app) = museum();
    let listed = |hue: &'static str| {
        let app = app.clone();
        async move {
            let (status, page) = json(&app, &format!("/collections/hue/{hue}?page=1")).await;
            if status != 200 {
                return Vec::new();
            }
            page["manifests"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| {
                    m["@id"]
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
    // The background job fills the lists; poll until both public objects are in.
    let filled = wait_until_async(Duration::from_secs(60), || async {
        listed("blue").await == ["1"] && listed("white").await.len() == 2
    })
    .await;
    assert!(
        filled,
        "blue: {:?}, white: {:?}",
        listed("blue").await,
        listed("white").await
    );
    // Object 2 is all white; object 1 is 30% white (above the 20% bar); object 3 is
    // restricted and never listed.
    assert_eq!(listed("white").await, ["1", "2"]);
    assert!(listed("green").await.is_empty());
    let (status, index) = json(&app, "/collections/hue/blue").await;
    assert_eq!((status, index["total"].as_u64()), (200, Some(1)));
    assert_eq!(json(&app, "/collections/hue/Blue").await.0, 404);
    assert_eq!(json(&app, "/collections/hue/mauve").await.0, 404);
}

#[tokio::test]
async fn a_colours_file_is_served_as_it_is_and_still_obeys_access() {
    // Lines as `tessera thumbnails --colors` writes them, one of them made up (blue said to
    // be green) to show that the file is what is served, and one for the restricted image.
    let line = |id: &str, hue: &str| {
        format!(
            r##"{{"identifier": "{id}", "colors": [{{"color": "#00ff00", "percent": 0.9, "css3": "#00ff00", "spectrum": "#00ff00", "hue": "{hue}"}}]}}"##
        )
    };
    let (_dir, app) = museum_with(|dir, c| {
        let file = dir.join("colors.jsonl");
        let text = format!(
            "{}\nnot json\n{}\n",
            line("blue", "Green"),
            line("secret", "Green")
        );
        std::fs::write(&file, text).unwrap();
        c.colors_file = Some(file);
    });
    let (status, r) = json(&app, "/images/blue").await;
    assert_eq!(status, 200);
    assert_eq!(r["colors"][0]["hue"], "Green");
    assert_eq!(
        (r["width"].as_u64(), r["height"].as_u64()),
        (Some(400), Some(100))
    );
    assert_eq!(json(&app, "/images/secret").await.0, 401);
    // The image the file does not cover is extracted.
    let (_, white) = json(&app, "/images/white").await;
    assert_eq!(white["colors"][0]["hue"], "White");
}

#[tokio::test]
async fn an_image_id_never_gives_away_the_identifier_it_stands_for() {
    let body = |app: App, path: &'static str| async move {
        let (status, _, body) = app.get(&format!("{}{path}", app.base)).await;
        (status.as_u16(), String::from_utf8_lossy(&body).into_owned())
    };
    let (_dir, app) = museum();
    let (status, denied) = body(app.clone(), "/images/33").await;
    assert_eq!(status, 401);
    assert!(!denied.contains("secret"), "{denied}");
    // Answering 404, a restricted image id is exactly an unknown one, but for its spelling.
    let (_dir, app) = museum_with(|_, c| {
        c.restricted_answer = tessera::config::RestrictedAnswer::NotFound;
    });
    let (s1, restricted) = body(app.clone(), "/images/33").await;
    let (s2, unknown) = body(app, "/images/99").await;
    assert_eq!((s1, s2), (404, 404));
    assert_eq!(restricted.replace("33", "99"), unknown);
}
