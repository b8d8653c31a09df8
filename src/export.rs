//! `tessera tiles`: a static IIIF Image API 2.1 level 0 tree for each image, cut by the
//! server's own render path, so every file holds the bytes the server would send for its URL.
//! Any static web server can then serve the tree as an image service.

use crate::cache::Caches;
use crate::derivative::Derivatives;
use crate::iiif::geometry::plan;
use crate::iiif::info::Tiling;
use crate::iiif::path::encode_identifier;
use crate::iiif::{level0, Format, ImageRequest, Limits};
use crate::source::{read_dimensions, DecodeLimits};
use crate::storage::Object;
use rayon::prelude::*;
use std::path::{Path, PathBuf};

/// How to cut the trees.
#[derive(Debug, Clone)]
pub struct TileOptions {
    /// Tile width and height.
    pub tile: u32,
    /// The base URL the tree will be served from; each image's `@id` is `base/<id>`.
    pub base_url: String,
    /// Tile format.
    pub format: Format,
    /// JPEG quality, 1–100.
    pub quality: u8,
    /// The limits that bound the `sizes` ladder.
    pub limits: Limits,
    /// The limits of one decode.
    pub decode: DecodeLimits,
    /// Budget of the decoded-image cache shared by the tiles of one image, in MiB.
    pub cache_mb: u64,
    /// Flat sources with at least this many pixels are cut from a derivative pyramid, as the
    /// server serves them (0: never).
    pub derivative_min_pixels: u64,
}

/// The images to export from `src` (one file, or the image files directly in a folder), each
/// with its identifier: the file name without its extension.
pub fn sources(src: &Path) -> std::io::Result<Vec<(PathBuf, String)>> {
    let files = if src.is_file() {
        vec![src.to_path_buf()]
    } else {
        let mut v: Vec<PathBuf> = std::fs::read_dir(src)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file() && crate::storage::is_source_file(p))
            .collect();
        v.sort();
        v
    };
    Ok(files
        .into_iter()
        .filter_map(|f| {
            let id = f.file_stem()?.to_str()?.to_string();
            Some((f, id))
        })
        .collect())
}

/// Writes the tree of one image under `out/<id>/`; returns the number of files written. The
/// info.json is written last, so its presence means the tree is complete.
pub fn export(src: &Path, id: &str, out: &Path, opts: &TileOptions) -> Result<usize, String> {
    let started = std::time::Instant::now();
    let file = Object::at(src).map_err(|e| crate::report::chain(&e))?;
    let dims = read_dimensions(&file).map_err(|e| crate::report::chain(&e))?;
    let tiling = Tiling::square(dims, opts.tile);
    let images = level0::images(dims, &tiling, &opts.limits);
    let dir = out.join(encode_identifier(id));
    let caches = Caches::new(opts.cache_mb, 0);
    let off = Derivatives::disabled();
    let ext = format!("default.{}", opts.format.extension());
    // Paths with the same canonical form (`full/w,` and `full/w,h`) are one image: render it
    // once and write it under each path.
    let mut by_canonical: std::collections::BTreeMap<String, (crate::iiif::Plan, Vec<PathBuf>)> =
        std::collections::BTreeMap::new();
    for img in &images {
        let req =
            ImageRequest::parse(&img.region, &img.size, "0", &ext).map_err(|e| e.to_string())?;
        let p = plan(&req, dims, &opts.limits).map_err(|e| e.to_string())?;
        by_canonical
            .entry(crate::iiif::canonical::canonical_path(&p, dims))
            .or_insert_with(|| (p, Vec::new()))
            .1
            .push(dir.join(img.path(opts.format)));
    }
    // The tree's folders (three per tile) are made on another thread while the source is
    // decoded on one core.
    let folders: std::collections::BTreeSet<&Path> = by_canonical
        .values()
        .flat_map(|(_, targets)| targets.iter().filter_map(|t| t.parent()))
        .collect();
    let (derived, made) = std::thread::scope(|s| {
        let making = s.spawn(|| {
            folders.iter().try_for_each(|f| {
                std::fs::create_dir_all(f).map_err(|e| format!("{}: {e}", f.display()))
            })
        });
        let derived = pyramid_for(&caches, &file, dims, opts);
        let made = making
            .join()
            .unwrap_or_else(|_| Err("making the folders panicked".into()));
        (derived, made)
    });
    // The scratch folder that holds the pyramid lives until the tree is cut.
    let (file, _scratch) = match made.and(derived) {
        Ok(Some((d, scratch))) => (d, Some(scratch)),
        Ok(None) => (file, None),
        Err(e) => {
            remove_empty(&folders, &dir);
            return Err(e);
        }
    };
    tracing::debug!("pyramid ready at {:?}", started.elapsed());
    // The largest images first, so that no core is left with one large ladder entry at the end.
    let mut work: Vec<_> = by_canonical.into_values().collect();
    work.sort_by_key(|(p, _)| std::cmp::Reverse(u64::from(p.width) * u64::from(p.height)));
    work.par_iter()
        .try_for_each(|(p, targets)| -> Result<(), String> {
            let started = std::time::Instant::now();
            let bytes =
                crate::render::render(&caches, &off, &file, dims, p, opts.decode, opts.quality)
                    .map_err(|e| crate::report::chain(&e))?;
            tracing::debug!(
                path = %targets[0].display(),
                "rendered {}x{} in {:?}",
                p.width,
                p.height,
                started.elapsed()
            );
            for target in targets {
                std::fs::write(target, &bytes).map_err(|e| format!("{}: {e}", target.display()))?;
            }
            Ok(())
        })?;
    tracing::debug!("{} images rendered at {:?}", work.len(), started.elapsed());
    let base = opts.base_url.trim_end_matches('/');
    let info = level0::info_json(
        &format!("{base}/{}", encode_identifier(id)),
        dims,
        &tiling,
        &opts.limits,
    );
    let text = serde_json::to_string_pretty(&info).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("info.json"), text).map_err(|e| e.to_string())?;
    Ok(images.len() + 1)
}

/// The derivative pyramid to cut the tree from, with the scratch folder that holds it. A
/// large flat source is served by the server from its derivative pyramid once built, so the
/// tree is cut the same way and its bytes are the server's (most of them stored tiles, copied
/// without a decode). `None` for a source served as it is.
fn pyramid_for(
    caches: &Caches,
    file: &Object,
    dims: crate::iiif::Dimensions,
    opts: &TileOptions,
) -> Result<Option<(Object, tempfile::TempDir)>, String> {
    let pixels = u64::from(dims.width) * u64::from(dims.height);
    let flat = crate::render::jp2_header(caches, file).is_none()
        && crate::render::levels_of(caches, file).is_none();
    if !(flat && opts.derivative_min_pixels > 0 && pixels >= opts.derivative_min_pixels) {
        return Ok(None);
    }
    let scratch = tempfile::tempdir().map_err(|e| e.to_string())?;
    let settings = crate::derivative::Settings {
        dir: scratch.path().to_path_buf(),
        min_pixels: opts.derivative_min_pixels,
        tile: opts.tile,
        quality: opts.quality,
        decode: opts.decode,
        parallel: true,
    };
    let built =
        crate::derivative::build_now(&settings, file).map_err(|e| crate::report::chain(&e))?;
    Ok(built.map(|d| (d, scratch)))
}

/// Removes `folders` and their parents up to `top` where they are empty (a source that failed
/// leaves no empty tree; an earlier tree's files are kept).
fn remove_empty(folders: &std::collections::BTreeSet<&Path>, top: &Path) {
    for folder in folders.iter().rev() {
        let mut at = Some(*folder);
        while let Some(f) = at.filter(|f| f.starts_with(top)) {
            if std::fs::remove_dir(f).is_err() {
                break;
            }
            at = f.parent();
        }
    }
}
