//! Derivative pyramids of flat sources, end to end: built in the background after the first
//! request, served by the tile (stored tiles sent as they are), keyed by the source's size and
//! mtime, and rebuilt when damaged.

use crate::common::*;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tessera::source::pyramid;

/// The one derivative in `dir` (waiting up to 60 s for it), other than `not`.
fn wait_for_derivative(dir: &Path, not: Option<&Path>) -> PathBuf {
    let mut found: Vec<PathBuf> = Vec::new();
    let one = wait_until(Duration::from_secs(60), || {
        found = std::fs::read_dir(dir)
            .map(|r| r.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        found.retain(|p| p.extension().is_some_and(|e| e == "tif") && Some(p.as_path()) != not);
        found.len() == 1
    });
    assert!(one, "no derivative: {found:?}");
    found.remove(0)
}

/// The stored JPEG of tile (`tx`, `ty`) of level `k` of a derivative.
fn stored_tile(path: &Path, k: usize, tx: u32, ty: u32) -> Vec<u8> {
    let path = &tessera::storage::Object::at(path).unwrap();
    let levels = pyramid::levels(path).unwrap().unwrap();
    let index = pyramid::jpeg_tiles(path, levels[k]).unwrap().unwrap();
    pyramid::stored_jpeg_tile(path, &index, levels[k], tx, ty)
        .unwrap()
        .unwrap()
}

/// GETs `url` until the server answers it from the pyramid (its count of images made from a
/// pyramid goes up across the request: the source may give the same bytes, so the body alone
/// does not tell), then checks that the body is `want`.
async fn wait_for_pyramid(app: &App, url: &str, want: &[u8]) {
    let body = std::cell::RefCell::new(Vec::new());
    let from_pyramid = wait_until_async(Duration::from_secs(60), || async {
        let (got, reads) = app.get_counting(url, DERIVATIVE_READS).await;
        *body.borrow_mut() = got;
        reads > 0.0
    })
    .await;
    assert!(from_pyramid, "{url} never came from the pyramid");
    assert!(*body.borrow() == want, "{url}: not the stored tile");
}

/// An app with derivatives for every source, over a temporary images folder holding the
/// given samples (sample name, identifier); returns the app, the derivative folder and the
/// folders' guards. It keeps no responses, so that every request is made (from the source or
/// the pyramid) and [`wait_for_pyramid`] can tell which.
fn serve(samples_as: &[(&str, &str)]) -> (App, PathBuf, [tempfile::TempDir; 2]) {
    let images = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    for (name, id) in samples_as {
        std::fs::copy(samples().join(name), images.path().join(id)).unwrap();
    }
    let dir = cache.path().join("derivatives");
    let d2 = dir.clone();
    let app = App::new(images.path(), move |c| {
        c.derivatives = d2;
        c.derivative_min_pixels = 1;
        c.cache_encoded_mb = 0;
    });
    (app, dir, [images, cache])
}

#[tokio::test]
async fn a_flat_jpeg_is_served_from_its_pyramid_once_built() {
    let (app, dir, _guards) = serve(&[("landscape-lake-boats.jpg", "lake.jpg")]);
    let base = &app.base;
    let tile = format!("{base}/iiif/lake.jpg/512,256,256,256/256,/0/default.jpg");
    let low = format!("{base}/iiif/lake.jpg/0,0,1024,1024/256,/0/default.jpg");
    let odd = format!("{base}/iiif/lake.jpg/100,50,700,500/350,/0/gray.png");
    // Served from the decoded source while the pyramid is built.
    let before = [
        app.get_image(&tile).await,
        app.get_image(&low).await,
        app.get_image(&odd).await,
    ];

    let path = wait_for_derivative(&dir, None);
    let levels = pyramid::levels(&tessera::storage::Object::at(&path).unwrap())
        .unwrap()
        .unwrap();
    let sizes: Vec<_> = levels.iter().map(|l| (l.width, l.height)).collect();
    assert_eq!(sizes, [(1920, 1200), (960, 600), (480, 300), (240, 150)]);

    // An aligned tile is the stored tile, byte for byte: no decode, no encode.
    wait_for_pyramid(&app, &tile, &stored_tile(&path, 0, 2, 1)).await;
    wait_for_pyramid(&app, &low, &stored_tile(&path, 2, 0, 0)).await;
    // Every request still shows the same picture as the source did.
    let after = [
        app.get_image(&tile).await,
        app.get_image(&low).await,
        app.get_image(&odd).await,
    ];
    for (b, a) in before.iter().zip(&after) {
        let db = psnr(b, a);
        assert!(db > 32.0, "pyramid against source: {db:.1} dB");
    }
}

#[tokio::test]
async fn a_changed_source_gets_a_new_pyramid_and_a_damaged_one_is_rebuilt() {
    let (app, dir, guards) = serve(&[("landscape-lake-boats.jpg", "pic.jpg")]);
    let base = &app.base;
    let images = guards[0].path();
    let src = images.join("pic.jpg");
    let tile = format!("{base}/iiif/pic.jpg/0,0,256,256/256,/0/default.jpg");
    app.get_image(&tile).await;
    let first = wait_for_derivative(&dir, None);
    wait_for_pyramid(&app, &tile, &stored_tile(&first, 0, 0, 0)).await;

    // Replace the source with another picture of the same size: a new pyramid, the old one
    // deleted, and never a tile of the old picture.
    let other = image::open(samples().join("landscape-lake-boats.jpg"))
        .unwrap()
        .fliph();
    let tmp = images.join("next.jpg");
    other.save(&tmp).unwrap();
    std::fs::rename(&tmp, &src).unwrap();
    // Noticed once the resolution cache's 2 s lifetime has passed.
    let want = other.crop_imm(0, 0, 256, 256);
    let fresh = wait_until_async(Duration::from_secs(10), || async {
        app.try_image(&tile)
            .await
            .is_some_and(|i| psnr(&i, &want) > 30.0)
    })
    .await;
    assert!(fresh, "the new picture");
    let second = wait_for_derivative(&dir, Some(&first));
    // Removed by the builder just after the new one is in place.
    assert!(
        wait_until(Duration::from_secs(60), || !first.exists()),
        "the old version's pyramid is removed"
    );
    wait_for_pyramid(&app, &tile, &stored_tile(&second, 0, 0, 0)).await;

    // Damage the pyramid: the request is still served (from the source), and the pyramid is
    // made again.
    let len = std::fs::metadata(&second).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&second)
        .unwrap()
        .set_len(len / 3)
        .unwrap();
    // A region whose tiles are past the cut: every answer shows the picture, whether it
    // comes from the source (the damage found, the pyramid deleted, built again) or from the
    // pyramid made again.
    let far = format!("{base}/iiif/pic.jpg/1792,1024,128,176/128,/0/default.jpg");
    let want_far = other.crop_imm(1792, 1024, 128, 176);
    let rebuilt = wait_until_async(Duration::from_secs(60), || async {
        let img = app.get_image(&far).await;
        let db = psnr(&img, &want_far);
        assert!(db > 30.0, "{far}: {db:.1} dB");
        std::fs::metadata(&second).is_ok_and(|m| m.len() == len)
    })
    .await;
    let listing: Vec<(PathBuf, u64)> = std::fs::read_dir(&dir)
        .map(|r| {
            r.flatten()
                .map(|e| (e.path(), e.metadata().map_or(0, |m| m.len())))
                .collect()
        })
        .unwrap_or_default();
    assert!(
        rebuilt,
        "never rebuilt: {second:?} of {len} bytes; {listing:?}"
    );
    wait_for_pyramid(&app, &tile, &stored_tile(&second, 0, 0, 0)).await;
}

#[tokio::test]
async fn gray_sources_get_one_images_with_alpha_do_not() {
    let (app, dir, _guards) = serve(&[
        ("alpha-ladybird.png", "a.png"),
        ("gray-foggy-pier.jpg", "g.jpg"),
    ]);
    let base = &app.base;
    let alpha = format!("{base}/iiif/a.png/full/200,/0/default.png");
    assert!(app.get_image(&alpha).await.color().has_alpha());
    let tile = format!("{base}/iiif/g.jpg/256,0,256,256/256,/0/default.jpg");
    app.get_image(&tile).await;
    // Exactly one pyramid appears: the gray picture's.
    let path = wait_for_derivative(&dir, None);
    wait_for_pyramid(&app, &tile, &stored_tile(&path, 0, 1, 0)).await;
    let img = app.get_image(&tile).await;
    assert!(!img.color().has_color(), "a gray JPEG stays gray");
    assert!(app.get_image(&alpha).await.color().has_alpha());
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
}

#[tokio::test]
async fn a_cache_folder_that_cannot_be_written_is_served_without() {
    let images = tempfile::tempdir().unwrap();
    std::fs::copy(
        samples().join("gray-foggy-pier.jpg"),
        images.path().join("g.jpg"),
    )
    .unwrap();
    // A file where the cache folder should be: nothing can be written under it.
    let blocker = tempfile::NamedTempFile::new().unwrap();
    let dir = blocker.path().join("derivatives");
    let app = App::new(images.path(), move |c| {
        c.derivatives = dir;
        c.derivative_min_pixels = 1;
    });
    let base = &app.base;
    for _ in 0..3 {
        let img = app
            .get_image(&format!("{base}/iiif/g.jpg/0,0,256,256/256,/0/default.jpg"))
            .await;
        assert_eq!((img.width(), img.height()), (256, 256));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
