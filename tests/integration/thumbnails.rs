//! `tessera thumbnails`, run as a real process: a nested tree of mixed formats with a corrupt
//! file in the middle, the IIIF size rule for every thumbnail, pixels, resume, and `--json`.

use crate::common::*;
use std::path::Path;
use std::process::Command;

fn run(args: &[&str]) -> (i32, serde_json::Value, String) {
    let out = Command::new(BIN)
        .arg("thumbnails")
        .args(args)
        .output()
        .unwrap();
    let json = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (
        out.status.code().unwrap_or(-1),
        json,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Whether `w`×`h` obeys `!bw,bh` for a `sw`×`sh` image (§4.2 best fit): within the box,
/// touching it on one side, and the aspect ratio kept to a pixel (the tile-shaped rounding of
/// Appendix A may round the other side up).
fn fits(w: u32, h: u32, sw: u32, sh: u32, bw: u32, bh: u32) -> bool {
    let s = (f64::from(bw) / f64::from(sw)).min(f64::from(bh) / f64::from(sh));
    let near = |got: u32, exact: f64| (f64::from(got) - exact).abs() <= 1.0;
    w <= bw
        && h <= bh
        && (w == bw || h == bh)
        && near(w, f64::from(sw) * s)
        && near(h, f64::from(sh) * s)
}

#[test]
fn a_tree_is_mirrored_a_bad_file_is_reported_and_a_rerun_resumes() {
    let src = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let s = src.path();
    for dir in ["a/b", "c"] {
        std::fs::create_dir_all(s.join(dir)).unwrap();
    }
    let put = |name: &str, to: &str| std::fs::copy(samples().join(name), s.join(to)).unwrap();
    put("landscape-lake-boats.jpg", "a/lake.jpg");
    put("alpha-ladybird.png", "a/b/ladybird.png");
    put("gray-foggy-pier.jpg", "c/pier.jpg");
    put("portrait-forest-path.jpg", "c/path.JPG");
    let whole = std::fs::read(samples().join("mosaic-six-photos.jpg")).unwrap();
    std::fs::write(s.join("a/broken.jpg"), &whole[..whole.len() / 3]).unwrap();
    std::fs::write(s.join("a/notes.txt"), "not an image").unwrap();

    let (code, json, stderr) = run(&[
        s.to_str().unwrap(),
        out.path().to_str().unwrap(),
        "--json",
        "--jobs",
        "2",
    ]);
    assert_eq!(
        code, 1,
        "a failure makes the exit status non-zero: {stderr}"
    );
    assert_eq!(json["made"], 4, "{json}");
    assert_eq!(json["skipped"], 0);
    let failed = json["failed"].as_array().unwrap();
    assert_eq!(failed.len(), 1);
    assert!(failed[0]["path"]
        .as_str()
        .unwrap()
        .ends_with("a/broken.jpg"));
    assert!(stderr.contains("broken.jpg"), "{stderr}");

    let o = out.path();
    for (name, thumb) in [
        ("landscape-lake-boats.jpg", "a/lake.jpg"),
        ("alpha-ladybird.png", "a/b/ladybird.jpg"),
        ("gray-foggy-pier.jpg", "c/pier.jpg"),
        ("portrait-forest-path.jpg", "c/path.jpg"),
    ] {
        let source = image::open(samples().join(name)).unwrap();
        let img = image::open(o.join(thumb)).unwrap_or_else(|e| panic!("{thumb}: {e}"));
        let (w, h) = (img.width(), img.height());
        assert!(
            fits(w, h, source.width(), source.height(), 200, 200),
            "{thumb}: {w}x{h}"
        );
        let reference = source.resize_exact(w, h, image::imageops::FilterType::Lanczos3);
        let db = psnr(&img, &reference);
        assert!(
            db > 28.0,
            "{thumb}: {db:.1} dB against a Lanczos3 reduction"
        );
    }
    assert!(!o.join("a/notes.jpg").exists());
    assert!(
        !o.join("a/broken.jpg").exists(),
        "nothing written for the bad file"
    );

    // A second run skips everything already made; --force makes it again.
    let (_, json, _) = run(&[s.to_str().unwrap(), o.to_str().unwrap(), "--json"]);
    assert_eq!(
        (json["made"].as_u64(), json["skipped"].as_u64()),
        (Some(0), Some(4))
    );
    std::fs::remove_file(s.join("a/broken.jpg")).unwrap();
    let (code, json, _) = run(&[
        s.to_str().unwrap(),
        o.to_str().unwrap(),
        "--json",
        "--force",
    ]);
    assert_eq!(code, 0);
    assert_eq!(json["made"], 4);
}

#[test]
fn sizes_formats_and_single_files() {
    let out = tempfile::tempdir().unwrap();
    let src = samples().join("landscape-lake-boats.jpg");
    for (size, want) in [
        ("150,", (150, 94)),
        (",100", (160, 100)),
        ("pct:10", (192, 120)),
    ] {
        let dir = out.path().join(size.replace([',', ':'], "_"));
        let (code, _, stderr) = run(&[
            src.to_str().unwrap(),
            dir.to_str().unwrap(),
            "--size",
            size,
            "--format",
            "png",
        ]);
        assert_eq!(code, 0, "{stderr}");
        let img = image::open(dir.join("landscape-lake-boats.png")).unwrap();
        assert_eq!((img.width(), img.height()), want, "{size}");
    }
    let (code, _, stderr) = run(&[src.to_str().unwrap(), "x", "--size", "!x,5"]);
    assert_eq!(code, 2, "a bad size is refused before any work: {stderr}");
    let (code, _, _) = run(&[src.to_str().unwrap(), "x", "--format", "bmp"]);
    assert_eq!(code, 2);
    assert!(!Path::new("x").exists());
}

#[test]
fn records_name_thumbnails_by_identifier_and_leave_restricted_images_out() {
    let (images, records) = (samples(), records());
    let out = tempfile::tempdir().unwrap();
    let o = out.path();
    let (code, json, stderr) = run(&[
        images.to_str().unwrap(),
        o.to_str().unwrap(),
        "--records",
        records.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(code, 0, "{stderr}");
    // Six images the public may see (alpha-ladybird's object limits it to 256 px); the image
    // record of gray-foggy-pier and the object of small-garden restrict those two.
    assert_eq!(
        (json["made"].as_u64(), json["restricted"].as_u64()),
        (Some(6), Some(2))
    );
    assert!(
        !o.join("small-garden.jpg").exists(),
        "a restricted object stays out"
    );
    assert!(o.join("landscape-lake-boats.jpg").exists());
    assert!(
        !o.join("gray-foggy-pier.jpg").exists(),
        "a restricted image stays out"
    );
    let (_, json, _) = run(&[
        images.to_str().unwrap(),
        o.to_str().unwrap(),
        "--records",
        records.to_str().unwrap(),
        "--include-restricted",
        "--json",
    ]);
    assert_eq!(
        (json["made"].as_u64(), json["skipped"].as_u64()),
        (Some(2), Some(6))
    );
    assert!(o.join("gray-foggy-pier.jpg").exists());

    // An image limited to 256 px by its record gets no larger thumbnail.
    let limited = tempfile::tempdir().unwrap();
    std::fs::copy(
        records.join("300003.json"),
        limited.path().join("300003.json"),
    )
    .unwrap();
    let args = |size: &'static str, out: &Path| {
        run(&[
            images.to_str().unwrap(),
            out.to_str().unwrap(),
            "--records",
            limited.path().to_str().unwrap(),
            "--size",
            size,
            "--json",
        ])
    };
    let big = tempfile::tempdir().unwrap();
    let (code, json, _) = args("!300,300", big.path());
    assert_eq!(code, 1);
    assert!(
        json["failed"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("256"),
        "{json}"
    );
    let small = tempfile::tempdir().unwrap();
    let (code, _, _) = args("!200,200", small.path());
    assert_eq!(code, 0);
    let img = image::open(small.path().join("alpha-ladybird.jpg")).unwrap();
    assert_eq!((img.width(), img.height()), (200, 200));
}

/// The lines of a `--colors` file, by identifier (each line checked to be a whole object).
fn colour_lines(path: &Path) -> std::collections::BTreeMap<String, serde_json::Value> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .map(|l| {
            let v: serde_json::Value =
                serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}"));
            (v["identifier"].as_str().unwrap().to_string(), v)
        })
        .collect()
}

#[test]
fn colors_come_from_each_thumbnail_one_line_per_image() {
    let src = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let (s, o) = (src.path(), out.path());
    std::fs::create_dir_all(s.join("sub")).unwrap();
    // 70 % pure blue over 30 % white, and a real photograph.
    image::RgbImage::from_fn(400, 300, |_, y| {
        if y < 210 {
            image::Rgb([0, 0, 255])
        } else {
            image::Rgb([255, 255, 255])
        }
    })
    .save(s.join("sub/blue.png"))
    .unwrap();
    std::fs::copy(
        samples().join("landscape-lake-boats.jpg"),
        s.join("lake.jpg"),
    )
    .unwrap();
    let file = o.join("colors.jsonl");
    let args = [
        s.to_str().unwrap(),
        o.to_str().unwrap(),
        "--colors",
        file.to_str().unwrap(),
        "--json",
    ];
    let (code, json, stderr) = run(&args);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        (json["made"].as_u64(), json["colors"].as_u64()),
        (Some(2), Some(2))
    );
    assert!(stderr.contains("2 colour lines"), "{stderr}");
    assert!(o.join("sub/blue.jpg").exists() && o.join("lake.jpg").exists());
    let lines = colour_lines(&file);
    assert_eq!(
        lines.keys().map(|k| &**k).collect::<Vec<_>>(),
        ["lake", "sub/blue"],
        "named as the server is asked: the relative path without its extension"
    );

    let blue = &lines["sub/blue"];
    assert_eq!(
        (blue["width"].as_u64(), blue["height"].as_u64()),
        (Some(400), Some(300))
    );
    let colors = blue["colors"].as_array().unwrap();
    let (top, second) = (&colors[0], &colors[1]);
    assert_eq!(top["hue"], "Blue", "{blue}");
    assert!(
        (top["percent"].as_f64().unwrap() - 0.70).abs() < 0.02,
        "{blue}"
    );
    assert_eq!(second["hue"], "White", "{blue}");
    assert!(
        (second["percent"].as_f64().unwrap() - 0.30).abs() < 0.02,
        "{blue}"
    );

    let lake = &lines["lake"];
    let (w, h) = image::image_dimensions(samples().join("landscape-lake-boats.jpg")).unwrap();
    assert_eq!(
        (lake["width"].as_u64(), lake["height"].as_u64()),
        (Some(w.into()), Some(h.into()))
    );
    let colors = lake["colors"].as_array().unwrap();
    assert!(
        colors.len() >= 3,
        "a photograph has several colours: {lake}"
    );
    let sum: f64 = colors.iter().map(|c| c["percent"].as_f64().unwrap()).sum();
    assert!(sum > 0.8 && sum <= 1.0001, "{sum}");
    // The loader the server will use reads the file back.
    let loaded = tessera::colors::lines::read_colors_file(&file).unwrap();
    assert_eq!(loaded.len(), 2);
    assert_eq!(loaded["sub/blue"][0].hue, tessera::colors::Hue::Blue);

    // A rerun skips what is up to date and adds no line; an image whose line is missing is
    // made again even though its thumbnail is current.
    let (_, json, _) = run(&args);
    assert_eq!(
        (json["made"].as_u64(), json["skipped"].as_u64()),
        (Some(0), Some(2))
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap().lines().count(), 2);
    std::fs::write(
        &file,
        std::fs::read_to_string(&file)
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .to_owned()
            + "\n",
    )
    .unwrap();
    let (_, json, _) = run(&args);
    assert_eq!(
        (json["made"].as_u64(), json["skipped"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(colour_lines(&file).len(), 2);
    // --force starts the file afresh.
    let mut forced = args.to_vec();
    forced.push("--force");
    let (_, json, _) = run(&forced);
    assert_eq!(json["colors"], 2);
    assert_eq!(std::fs::read_to_string(&file).unwrap().lines().count(), 2);
}

#[test]
fn with_records_a_restricted_image_gets_no_colours_line() {
    let (images, records) = (samples(), records());
    let out = tempfile::tempdir().unwrap();
    let o = out.path();
    let file = o.join("colors.jsonl");
    let args = [
        images.to_str().unwrap(),
        o.to_str().unwrap(),
        "--records",
        records.to_str().unwrap(),
        "--colors",
        file.to_str().unwrap(),
        "--json",
    ];
    let (code, json, stderr) = run(&args);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        (
            json["made"].as_u64(),
            json["restricted"].as_u64(),
            json["colors"].as_u64()
        ),
        (Some(6), Some(2), Some(6))
    );
    let lines = colour_lines(&file);
    assert_eq!(lines.len(), 6, "{lines:#?}");
    for restricted in ["gray-foggy-pier", "small-garden"] {
        assert!(!lines.contains_key(restricted), "{restricted} has a line");
        assert!(!o.join(format!("{restricted}.jpg")).exists());
    }
    // The image limited to 256 px has its colours, from its capped thumbnail.
    let ladybird = &lines["alpha-ladybird"];
    assert_eq!(ladybird["colors"][0]["hue"], "Green", "{ladybird}");
    assert!(lines.contains_key("urn-3:HUAM:BOATS0001_dynmc"));

    // With --include-restricted the two are made, and only they are added.
    let mut all = args.to_vec();
    all.push("--include-restricted");
    let (_, json, _) = run(&all);
    assert_eq!(
        (json["made"].as_u64(), json["skipped"].as_u64()),
        (Some(2), Some(6))
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap().lines().count(), 8);
    assert!(colour_lines(&file).contains_key("gray-foggy-pier"));
}

#[test]
fn a_stored_tile_passed_through_still_gives_its_raster() {
    use tessera::service::{Answer, Mode, Target, Want};
    let dir = fixtures().join("fidelity");
    let storage = tessera::storage::Storage::files(&dir).unwrap();
    let policy = tessera::policy::Policy::new(
        Default::default(),
        storage,
        tessera::policy::Unlisted::Public,
    );
    let defaults = tessera::config::Config::default().validate().unwrap();
    let opts = tessera::batch::ThumbnailOptions {
        request: tessera::iiif::ImageRequest::parse("full", "!200,200", "0", "default.jpg")
            .unwrap(),
        quality: 85,
        jobs: 1,
        force: false,
        limits: defaults.limits(),
        decode: defaults.decode_limits(),
        caller: tessera::access::Caller::Anonymous,
    };
    let service = tessera::batch::service(std::sync::Arc::new(policy), &opts);
    let target = Target {
        asked: "pyramid-jpeg.tif",
        caller: tessera::access::Caller::Anonymous,
    };
    // An interior stored tile: its bytes are sent as stored (no JFIF segment of Tessera's).
    let tile =
        tessera::iiif::ImageRequest::parse("128,128,128,128", "128,", "0", "default.jpg").unwrap();
    let made = service.rendition(target, &Want::Image(tile)).unwrap();
    assert!(
        !made.image.bytes.windows(5).any(|w| w == b"JFIF\0"),
        "passed through"
    );
    let Some(Answer::Image(image)) = service
        .image(target, &Want::Image(tile), &|_: &str| false, Mode::Compute)
        .unwrap()
    else {
        panic!("no image")
    };
    assert_eq!(
        made.image.bytes, image.bytes,
        "the same bytes as the server's"
    );
    assert_eq!(made.image.etag, image.etag);
    let decoded = image::load_from_memory(&made.image.bytes).unwrap();
    assert_eq!(
        made.raster.to_rgb8(),
        decoded.to_rgb8(),
        "the raster is what the bytes hold"
    );
    assert_eq!((made.source.width, made.source.height), (600, 400));
    // A rendered one: the raster is the pipeline's, at the output size.
    let made = service
        .rendition(target, &Want::Image(opts.request))
        .unwrap();
    assert_eq!((made.raster.width(), made.raster.height()), (200, 133));
    assert!(
        psnr(
            &made.raster,
            &image::load_from_memory(&made.image.bytes).unwrap()
        ) > 35.0
    );
}
