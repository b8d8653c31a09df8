//! `tessera tiles`, run as a real process: every URL its info.json implies exists, holds an
//! image of the right size, and holds exactly the bytes the server sends for that URL.

use crate::common::*;
use std::process::Command;

/// Every path below the image's base that a viewer may request from a level 0 info.json:
/// each tile at each scale factor (Appendix A arithmetic, `full` when one tile covers the
/// image) and each listed size, as 2.1 viewers spell them (`w,`, and `w,h` for sizes) or, with
/// `v3`, as 3.0 viewers do (`w,h`, and `max` for the whole image at full size); with the size
/// each must have.
fn implied(info: &serde_json::Value, v3: bool) -> Vec<(String, (u32, u32))> {
    let spell = |region: &str, (sw, sh): (u32, u32), (w, h): (u32, u32)| {
        if v3 && region == "full" && (sw, sh) == (w, h) {
            "full/max/0/default.jpg".to_string()
        } else if v3 {
            format!("{region}/{sw},{sh}/0/default.jpg")
        } else {
            format!("{region}/{sw},/0/default.jpg")
        }
    };
    let (w, h) = (
        info["width"].as_u64().unwrap() as u32,
        info["height"].as_u64().unwrap() as u32,
    );
    let mut out = Vec::new();
    for t in info["tiles"].as_array().unwrap() {
        let tw = t["width"].as_u64().unwrap() as u32;
        let th = t["height"].as_u64().unwrap_or(u64::from(tw)) as u32;
        for s in t["scaleFactors"].as_array().unwrap() {
            let s = s.as_u64().unwrap() as u32;
            for y in (0..h).step_by((th * s) as usize) {
                for x in (0..w).step_by((tw * s) as usize) {
                    let (rw, rh) = ((tw * s).min(w - x), (th * s).min(h - y));
                    let region = if (x, y, rw, rh) == (0, 0, w, h) {
                        "full".to_string()
                    } else {
                        format!("{x},{y},{rw},{rh}")
                    };
                    let size = (rw.div_ceil(s), rh.div_ceil(s));
                    out.push((spell(&region, size, (w, h)), size));
                }
            }
        }
    }
    for d in info["sizes"].as_array().unwrap() {
        let size = (
            d["width"].as_u64().unwrap() as u32,
            d["height"].as_u64().unwrap() as u32,
        );
        out.push((spell("full", size, (w, h)), size));
        out.push((format!("full/{},{}/0/default.jpg", size.0, size.1), size));
    }
    out
}

#[tokio::test]
async fn the_static_tree_is_complete_and_matches_the_server() {
    static_tree_matches_the_server("2").await;
}

#[tokio::test]
async fn the_static_3_0_tree_is_complete_and_matches_the_3_0_server() {
    static_tree_matches_the_server("3").await;
}

/// Cuts the tree of two samples with `--api api`, and checks every file its info.json implies
/// against the server's answer to the same URL in the same version.
async fn static_tree_matches_the_server(api: &str) {
    let v3 = api == "3";
    let out = tempfile::tempdir().unwrap();
    let src = tempfile::tempdir().unwrap();
    for name in ["landscape-lake-boats.jpg", "alpha-ladybird.png"] {
        std::fs::copy(samples().join(name), src.path().join(name)).unwrap();
    }
    let status = Command::new(BIN)
        .args([
            "tiles",
            src.path().to_str().unwrap(),
            out.path().to_str().unwrap(),
        ])
        .args(["--base-url", "https://images.example.org/static/"])
        .args(["--api", api])
        .status()
        .unwrap();
    assert!(status.success());
    let app = App::new(src.path(), |_| {});
    let base = &app.base;
    let served_at = if v3 { "iiif/3" } else { "iiif" };
    for id in ["landscape-lake-boats", "alpha-ladybird"] {
        let dir = out.path().join(id);
        let info: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("info.json")).unwrap()).unwrap();
        let url = format!("https://images.example.org/static/{id}");
        if v3 {
            assert_eq!(info["id"], url);
            assert_eq!(info["type"], "ImageService3");
            assert_eq!(info["profile"], "level0");
        } else {
            assert_eq!(info["@id"], url);
            assert_eq!(info["profile"][0], "http://iiif.io/api/image/2/level0.json");
        }
        let paths = implied(&info, v3);
        assert!(paths.len() > 20, "{id}: {}", paths.len());
        for (path, (w, h)) in paths {
            let file = dir.join(&path);
            let bytes = std::fs::read(&file).unwrap_or_else(|e| panic!("{id}/{path}: {e}"));
            let img = image::load_from_memory(&bytes).unwrap();
            assert_eq!((img.width(), img.height()), (w, h), "{id}/{path}");
            let (status, _, served) = app.get(&format!("{base}/{served_at}/{id}/{path}")).await;
            assert_eq!(status, 200);
            assert!(served == bytes, "{id}/{path}: not the server's bytes");
        }
    }
}

#[test]
fn a_source_that_fails_to_decode_leaves_no_empty_tree() {
    let out = tempfile::tempdir().unwrap();
    let src = tempfile::tempdir().unwrap();
    std::fs::copy(
        samples().join("alpha-ladybird.png"),
        src.path().join("alpha-ladybird.png"),
    )
    .unwrap();
    // 4,096 × 4,096 (above the 16-MP derivative threshold), cut off after its first half.
    let img = image::RgbImage::from_fn(4096, 4096, |x, y| {
        image::Rgb([(x / 16) as u8, (y / 16) as u8, ((x ^ y) % 256) as u8])
    });
    let jpeg = tessera::encode::jpeg_pixels(img.as_raw(), 4096, 4096, 3, 60).unwrap();
    std::fs::write(src.path().join("cut.jpg"), &jpeg[..jpeg.len() / 2]).unwrap();
    let output = Command::new(BIN)
        .args(["tiles", src.path().to_str().unwrap()])
        .arg(out.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(stderr.contains("cut"), "{stderr}");
    assert!(out.path().join("alpha-ladybird/info.json").is_file());
    assert!(
        !out.path().join("cut").exists(),
        "folders left for the failed source"
    );
}
