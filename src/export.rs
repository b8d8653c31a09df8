//! `tessera tiles`: a static IIIF Image API level 0 tree (2.1, or 3.0 with `--api 3`) for each
//! image, cut by the
//! server's own image service (access, limits, plan, render), so every file holds the bytes
//! the server would send for its URL. The tree's files are typed requests
//! ([`level0::StaticImage`]), never paths parsed back.
//! Any static web server can then serve the tree as an image service.

use crate::access::Caller;
use crate::cache::Caches;
use crate::derivative::Derivatives;
use crate::iiif::canonical::canonical_path;
use crate::iiif::geometry::plan;
use crate::iiif::info::Tiling;
use crate::iiif::path::encode_segment;
use crate::iiif::{level0, Format, ImageRequest, Limits};
use crate::outputs::Outputs;
use crate::policy::Policy;
use crate::service::{Answer, ImageService, Mode, ServiceError, Settings, Target, Want};
use crate::source::DecodeLimits;
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

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
    /// Who the tree is for: anonymous (a public tree), or privileged (`--include-restricted`).
    pub caller: Caller,
    /// The Image API version of the tree: its info.json and its files' spellings.
    pub version: crate::iiif::Version,
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

/// The service a run of `tessera tiles` cuts its trees with: the server's, over `policy`'s
/// storage, without a response cache. Large flat sources are cut from a derivative pyramid
/// built at once in a scratch folder (returned: it lives as long as the run), as the server
/// serves them once their pyramid is built.
pub fn service(
    policy: Arc<Policy>,
    opts: &TileOptions,
) -> Result<(ImageService, tempfile::TempDir), String> {
    let scratch = tempfile::tempdir().map_err(|e| format!("scratch folder: {e}"))?;
    let caches = Caches::new(opts.cache_mb, 0);
    let derivatives = Derivatives::immediate(
        crate::derivative::Settings {
            dir: scratch.path().to_path_buf(),
            min_pixels: opts.derivative_min_pixels,
            tile: opts.tile,
            quality: opts.quality,
            decode: opts.decode,
            parallel: true,
            bucket: None,
        },
        caches.clone(),
    );
    let settings = Settings {
        limits: opts.limits,
        tile_size: opts.tile,
        decode: opts.decode,
        jpeg_quality: opts.quality,
        // Batch work never rotates.
        background: crate::pipeline::Background::default(),
        response_cache: false,
    };
    Ok((
        ImageService::new(settings, caches, derivatives, policy),
        scratch,
    ))
}

/// Writes the tree of the image `key` (an identifier of the service's storage) under
/// `<id>/` of `out`, as `caller` may have it; returns the number of files written. The
/// info.json is written last, so its presence means the tree is complete.
pub fn export(
    service: &ImageService,
    key: &str,
    id: &str,
    out: &Outputs,
    opts: &TileOptions,
) -> Result<usize, String> {
    let t = Target {
        asked: key,
        caller: opts.caller,
    };
    let report = |e: ServiceError| crate::report::chain(&e);
    let info = service.info(t).map_err(report)?;
    let dims = info.dims;
    let tiling = Tiling::square(dims, opts.tile);
    let images = level0::images_as(opts.version, dims, &tiling, &info.limits);
    let dir = encode_segment(id);
    // Files with the same canonical form (`full/w,` and `full/w,h`) are one image: made once
    // and written under each name.
    let mut by_canonical: BTreeMap<String, (ImageRequest, u64, Vec<String>)> = BTreeMap::new();
    for img in &images {
        let req = img.request(opts.format);
        let p = plan(&req, dims, &info.limits).map_err(|e| e.to_string())?;
        let area = u64::from(p.width) * u64::from(p.height);
        by_canonical
            .entry(canonical_path(&p, dims))
            .or_insert_with(|| (req, area, Vec::new()))
            .2
            .push(format!("{dir}/{}", img.path(opts.format)));
    }
    // The largest images first, so that no core is left with one large ladder entry at the
    // end (the first one also builds the derivative pyramid, if the source wants one).
    let mut work: Vec<_> = by_canonical.into_values().collect();
    work.sort_by_key(|(_, area, _)| std::cmp::Reverse(*area));
    let cut = {
        work.par_iter()
            .try_for_each(|(req, _, targets)| -> Result<(), String> {
                let bytes = match service.image(t, &Want::Image(*req), &|_| false, Mode::Compute) {
                    Ok(Some(Answer::Image(img))) => img.bytes,
                    Ok(_) => return Err("no image was made".into()),
                    Err(e) => return Err(report(e)),
                };
                for target in targets {
                    out.write(target, &bytes)?;
                }
                Ok(())
            })
    };
    service.forget(key);
    if let Err(e) = cut {
        // In a folder, a source that failed leaves no empty tree (an earlier tree's files are
        // kept); in a bucket there are no folders, and without its info.json a tree is not
        // complete.
        if let Outputs::Folder(root) = out {
            let folders: BTreeSet<PathBuf> = work
                .iter()
                .flat_map(|(_, _, targets)| targets)
                .filter_map(|t| root.join(t).parent().map(Path::to_path_buf))
                .collect();
            remove_empty(&folders, &root.join(&dir));
        }
        return Err(e);
    }
    let base = opts.base_url.trim_end_matches('/');
    let info = level0::info_json_as(
        opts.version,
        &format!("{base}/{}", encode_segment(id)),
        dims,
        &tiling,
        &info.limits,
        opts.format,
    );
    let text = serde_json::to_string_pretty(&info).map_err(|e| e.to_string())?;
    out.write(&format!("{dir}/info.json"), text.as_bytes())?;
    Ok(images.len() + 1)
}

/// Removes `folders` and their parents up to `top` where they are empty (a source that failed
/// leaves no empty tree; an earlier tree's files are kept).
fn remove_empty(folders: &BTreeSet<PathBuf>, top: &Path) {
    for folder in folders.iter().rev() {
        let mut at = Some(folder.as_path());
        while let Some(f) = at.filter(|f| f.starts_with(top)) {
            if std::fs::remove_dir(f).is_err() {
                break;
            }
            at = f.parent();
        }
    }
}
