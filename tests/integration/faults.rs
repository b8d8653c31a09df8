//! Faults (issue 7): sources replaced, truncated or deleted while they are served give a
//! clean error or one whole version, never a mix; a full derivative folder is served without.

use crate::common::*;
use image::{DynamicImage, GenericImageView, Rgb, RgbImage};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const RED: [u8; 3] = [220, 30, 30];
const BLUE: [u8; 3] = [30, 30, 220];

/// The two versions: A is 400x300 red, B is 200x160 blue (another size and aspect ratio,
/// so that A's geometry with B's pixels, or the reverse, shows).
fn version(b: bool) -> (RgbImage, [u8; 3]) {
    let (w, h, c) = if b { (200, 160, BLUE) } else { (400, 300, RED) };
    (RgbImage::from_pixel(w, h, Rgb(c)), c)
}

fn encoded(b: bool, ext: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let format = image::ImageFormat::from_extension(ext).unwrap();
    DynamicImage::ImageRgb8(version(b).0)
        .write_to(&mut std::io::Cursor::new(&mut out), format)
        .unwrap();
    out
}

/// Which version an answer is, if it is wholly one: its size (for the form asked) and every
/// pixel's colour must agree.
fn which(form: &str, img: &DynamicImage) -> Option<bool> {
    let rgb = img.to_rgb8();
    let colour = |c: [u8; 3]| {
        rgb.pixels()
            .all(|p| p.0.iter().zip(c).all(|(a, b)| a.abs_diff(b) <= 12))
    };
    let b = if colour(RED) {
        false
    } else if colour(BLUE) {
        true
    } else {
        return None;
    };
    let want = match (form, b) {
        ("full/100,/0/default.png", false) => (100, 75),
        ("full/100,/0/default.png", true) => (100, 80),
        ("full/full/0/default.png", false) => (400, 300),
        ("full/full/0/default.png", true) => (200, 160),
        _ => (50, 50),
    };
    (img.dimensions() == want).then_some(b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replaced_sources_give_one_whole_version_or_a_clean_error() {
    let dir = tempfile::tempdir().unwrap();
    for ext in ["png", "jpg"] {
        std::fs::write(dir.path().join(format!("v.{ext}")), encoded(false, ext)).unwrap();
    }
    let app = App::new(dir.path(), |c| c.workers = 4);
    let base = &app.base;
    let stop = Arc::new(AtomicBool::new(false));
    // The writer swaps the versions, in place (truncate and write) or by rename.
    let writer = {
        let dir = dir.path().to_path_buf();
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut n = 0usize;
            let started = Instant::now();
            while started.elapsed() < Duration::from_secs(4) {
                n += 1;
                let b = n % 2 == 1;
                for ext in ["png", "jpg"] {
                    let target = dir.join(format!("v.{ext}"));
                    let bytes = encoded(b, ext);
                    if n % 3 == 0 {
                        let tmp = dir.join(format!(".tmp.{ext}"));
                        std::fs::write(&tmp, &bytes).unwrap();
                        std::fs::rename(&tmp, &target).unwrap();
                    } else {
                        std::fs::write(&target, &bytes).unwrap();
                    }
                }
                std::thread::sleep(Duration::from_millis(7));
            }
            stop.store(true, Ordering::SeqCst);
            n % 2 == 1
        })
    };
    let (whole, clean) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let mut readers = Vec::new();
    for r in 0..4 {
        let (app, stop, whole, clean) = (app.clone(), stop.clone(), whole.clone(), clean.clone());
        readers.push(tokio::spawn(async move {
            let forms = [
                "full/100,/0/default.png",
                "full/full/0/default.png",
                "0,0,100,100/50,/0/default.png",
                "info.json",
            ];
            let mut i = r;
            while !stop.load(Ordering::SeqCst) {
                i += 1;
                let ext = if i % 2 == 0 { "png" } else { "jpg" };
                let form = forms[i % forms.len()];
                let url = format!("{}/iiif/v.{ext}/{form}", app.base);
                let (status, _, body) = app.get(&url).await;
                match status.as_u16() {
                    200 if form == "info.json" => {
                        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
                        let size = (v["width"].as_u64().unwrap(), v["height"].as_u64().unwrap());
                        assert!(size == (400, 300) || size == (200, 160), "{url}: {size:?}");
                        whole.fetch_add(1, Ordering::SeqCst);
                    }
                    200 => {
                        let img = image::load_from_memory(&body).unwrap();
                        assert!(
                            which(form, &img).is_some(),
                            "{url}: a mix of versions: {:?}, {:?}",
                            img.dimensions(),
                            img.to_rgb8().get_pixel(0, 0)
                        );
                        whole.fetch_add(1, Ordering::SeqCst);
                    }
                    500 | 503 => {
                        let text = String::from_utf8_lossy(&body);
                        assert!(text.contains(&format!("v.{ext}")), "{url}: {text}");
                        clean.fetch_add(1, Ordering::SeqCst);
                    }
                    other => panic!("{url}: {other} {}", String::from_utf8_lossy(&body)),
                }
            }
        }));
    }
    for r in readers {
        r.await.unwrap();
    }
    let last_is_b = writer.join().unwrap();
    let (whole, clean) = (whole.load(Ordering::SeqCst), clean.load(Ordering::SeqCst));
    assert!(
        whole > 50,
        "only {whole} whole answers ({clean} clean errors)"
    );
    eprintln!("{whole} whole answers, {clean} clean errors");
    // Once the files rest, the last version is what is served, everywhere (noticed once the
    // resolution cache's 2 s lifetime has passed).
    for ext in ["png", "jpg"] {
        for form in ["full/100,/0/default.png", "full/full/0/default.png"] {
            let url = format!("{base}/iiif/v.{ext}/{form}");
            let last = wait_until_async(Duration::from_secs(10), || async {
                let img = app.try_image(&url).await;
                img.is_some_and(|i| which(form, &i) == Some(last_is_b))
            })
            .await;
            assert!(last, "v.{ext}/{form} is not the last version");
        }
    }
}

#[tokio::test]
async fn truncated_and_deleted_sources_give_clean_errors() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["grid.jpg", "grid.png", "grid-tiled.tif"] {
        std::fs::copy(fixtures().join(name), dir.path().join(name)).unwrap();
    }
    let app = App::new(dir.path(), |_| {});
    let base = &app.base;
    let forms = ["full/64,/0/default.png", "0,0,64,64/full/0/default.jpg"];
    for name in ["grid.jpg", "grid.png", "grid-tiled.tif"] {
        for form in forms {
            app.get_image(&format!("{base}/iiif/{name}/{form}")).await;
        }
    }
    for name in ["grid.jpg", "grid.png", "grid-tiled.tif"] {
        let path = dir.path().join(name);
        let len = std::fs::metadata(&path).unwrap().len();
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(len / 2)
            .unwrap();
    }
    // Each change is noticed once the resolution cache's 2 s lifetime has passed.
    for name in ["grid.jpg", "grid.png", "grid-tiled.tif"] {
        for form in forms {
            let url = format!("{base}/iiif/{name}/{form}");
            let last = std::sync::Mutex::new((0, String::new()));
            let clean = wait_until_async(Duration::from_secs(10), || async {
                let (status, _, body) = app.get(&url).await;
                *last.lock().unwrap() = (status.as_u16(), String::from_utf8_lossy(&body).into());
                status == 500
            })
            .await;
            let (status, text) = &*last.lock().unwrap();
            assert!(clean, "{url}: {status} {text}");
            assert!(text.contains(name), "{url}: {text}");
        }
        std::fs::remove_file(dir.path().join(name)).unwrap();
    }
    for name in ["grid.jpg", "grid.png", "grid-tiled.tif"] {
        let url = format!("{base}/iiif/{name}/info.json");
        let gone = wait_until_async(Duration::from_secs(10), || async {
            app.get(&url).await.0 == 404
        })
        .await;
        assert!(gone, "{name} deleted");
    }
}

#[tokio::test]
async fn a_full_derivative_folder_is_served_without_and_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let images = dir.path().join("images");
    let derivatives = dir.path().join("derivatives");
    std::fs::create_dir_all(&images).unwrap();
    // A noisy JPEG, whose pyramid is far larger than the file-size limit below.
    noise(1600, 1200).save(images.join("n.jpg")).unwrap();
    let config = dir.path().join("tessera.toml");
    std::fs::write(
        &config,
        format!(
            "derivatives = {:?}\nderivative_min_pixels = 1000\n",
            derivatives.display().to_string()
        ),
    )
    .unwrap();
    // The shell's file-size limit (64 blocks of 512 bytes) makes every write past 32 KiB
    // fail with EFBIG, as a full disk fails with ENOSPC; SIGXFSZ is ignored.
    let cmd = format!(
        "ulimit -f 64; trap '' XFSZ; exec {:?} serve --bind 127.0.0.1:0 --images {:?} \
         --records /nonexistent --config {:?}",
        BIN,
        images.display().to_string(),
        config.display().to_string()
    );
    let (mut child, addr, log) = spawn_shell(&cmd);
    let source = image::open(images.join("n.jpg")).unwrap();
    let url = format!("http://{addr}/iiif/n.jpg/256,256,256,256/256,/0/default.png");
    let want = source.crop_imm(256, 256, 256, 256);
    // The first request queues a build, which fails at the file-size limit and says so; it
    // and the requests after the failure are served from the source.
    let mut warned = false;
    for round in 0..3 {
        let tile = get_image(&url).await;
        assert!(psnr(&tile, &want) > 30.0, "round {round}");
        if round == 0 {
            warned = wait_until_async(Duration::from_secs(10), || {
                std::future::ready(
                    log.lock()
                        .unwrap()
                        .contains("no derivative pyramid, serving the source as it is"),
                )
            })
            .await;
        }
    }
    sigterm(&child);
    child.wait().unwrap();
    assert!(warned, "no warning:\n{}", log.lock().unwrap());
    let left: Vec<_> = std::fs::read_dir(&derivatives)
        .map(|d| d.map(|e| e.unwrap().file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "left behind: {left:?}");
}
