//! `tessera tiles`, run as a real process: every URL its info.json implies exists, holds an
//! image of the right size, and holds exactly the bytes the server sends for that URL.

use crate::common::*;
use std::process::Command;

/// Every path below the image's base that a viewer may request from a level 0 info.json:
/// each tile at each scale factor (Appendix A arithmetic, `full` when one tile covers the
/// image) and each listed size as `w,` and `w,h`; with the size each must have.
fn implied(info: &serde_json::Value) -> Vec<(String, (u32, u32))> {
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
                    out.push((format!("{region}/{},/0/default.jpg", size.0), size));
                }
            }
        }
    }
    for d in info["sizes"].as_array().unwrap() {
        let size = (
            d["width"].as_u64().unwrap() as u32,
            d["height"].as_u64().unwrap() as u32,
        );
        out.push((format!("full/{},/0/default.jpg", size.0), size));
        out.push((format!("full/{},{}/0/default.jpg", size.0, size.1), size));
    }
    out
}

#[tokio::test]
async fn the_static_tree_is_complete_and_matches_the_server() {
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
        .status()
        .unwrap();
    assert!(status.success());
    let app = App::new(src.path(), |_| {});
    let base = &app.base;
    for id in ["landscape-lake-boats", "alpha-ladybird"] {
        let dir = out.path().join(id);
        let info: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("info.json")).unwrap()).unwrap();
        assert_eq!(
            info["@id"],
            format!("https://images.example.org/static/{id}")
        );
        assert_eq!(info["profile"][0], "http://iiif.io/api/image/2/level0.json");
        let paths = implied(&info);
        assert!(paths.len() > 20, "{id}: {}", paths.len());
        for (path, (w, h)) in paths {
            let file = dir.join(&path);
            let bytes = std::fs::read(&file).unwrap_or_else(|e| panic!("{id}/{path}: {e}"));
            let img = image::load_from_memory(&bytes).unwrap();
            assert_eq!((img.width(), img.height()), (w, h), "{id}/{path}");
            let (status, _, served) = app.get(&format!("{base}/iiif/{id}/{path}")).await;
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
