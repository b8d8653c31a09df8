//! Turns a resolved plan for a source file into encoded bytes: the decode strategy (the whole
//! decoded image, from the cache; or, for JPEG 2000, only the region at the smallest
//! sufficient resolution level), then the pipeline, then the encoder.

use crate::cache::Caches;
use crate::derivative::Derivatives;
use crate::iiif::{Dimensions, Plan};
use crate::source::{self, jp2, pyramid, DecodeLimits, SourceError};
use crate::storage::Object;
use crate::{encode, pipeline};
use image::DynamicImage;
use std::sync::Arc;

/// Why rendering failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RenderError {
    /// The source could not be read or decoded.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// Processing failed.
    #[error(transparent)]
    Pipeline(#[from] pipeline::PipelineError),
    /// Encoding failed.
    #[error(transparent)]
    Encode(#[from] encode::EncodeError),
}

/// What the pyramid path made: stored bytes sent as they are, or pixels to encode.
enum Made {
    Stored(Vec<u8>),
    Pixels(DynamicImage),
}

/// A read of `file`'s derivative pyramid failed. When its store failed, or the pyramid was
/// gone or replaced meanwhile, it is only forgotten (looked for again by the next request: a
/// pyramid shared in a bucket must not be deleted for every node by one node's timeout);
/// anything else means it is damaged, and it is deleted and built again.
fn pyramid_failed(derivatives: &Derivatives, file: &Object, e: &RenderError) {
    use crate::storage::StorageError as S;
    let transient = matches!(
        e,
        RenderError::Source(
            SourceError::NotFound
                | SourceError::Storage(S::Remote { .. } | S::Changed(_) | S::NotFound)
        )
    );
    if transient {
        tracing::warn!(
            source = %file.path.display(),
            "derivative pyramid not read now: {}",
            crate::report::chain(e)
        );
        derivatives.forget(file);
    } else {
        derivatives.discard(file, &crate::report::chain(e));
    }
}

/// What [`render_with_raster`] made.
#[derive(Debug)]
pub struct Rendered {
    /// The encoded bytes.
    pub bytes: Vec<u8>,
    /// The raster they encode, as the pipeline left it (before any conversion for the
    /// encoder); `None` when the bytes are a stored tile sent as it is, so no pixels were made.
    pub raster: Option<DynamicImage>,
}

/// Decodes what `plan` needs of `file`, runs the pipeline and encodes the result. A flat
/// source with a ready derivative pyramid (see [`Derivatives`]) is read from the pyramid.
/// A panic in any decoder or encoder on the way becomes an error (see [`source::guarded`]).
pub fn render(
    caches: &Caches,
    derivatives: &Derivatives,
    file: &Object,
    dims: Dimensions,
    plan: &Plan,
    limits: DecodeLimits,
    output: Output,
) -> Result<Vec<u8>, RenderError> {
    render_with_raster(caches, derivatives, file, dims, plan, limits, output).map(|r| r.bytes)
}

/// How output is made beyond what the plan says: the server's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Output {
    /// JPEG quality, 1–100.
    pub jpeg_quality: u8,
    /// The corners of a rotation in formats without alpha.
    pub background: pipeline::Background,
}

/// [`render`], also giving back the raster that was encoded (it is moved out, not copied).
pub fn render_with_raster(
    caches: &Caches,
    derivatives: &Derivatives,
    file: &Object,
    dims: Dimensions,
    plan: &Plan,
    limits: DecodeLimits,
    output: Output,
) -> Result<Rendered, RenderError> {
    let background = output.background;
    let stored = |bytes| {
        Ok(Rendered {
            bytes,
            raster: None,
        })
    };
    source::guarded("rendering", || {
        let out = if let Some(header) = jp2_header(caches, file)? {
            limits.check_pixels(header.dims)?;
            let reduce = jp2::reduction_for(plan.region, plan.width, plan.height, header.levels);
            // A copy reads what it needs within the decode's bytes (`max_decode_mb`).
            let (path, _copy) = jp2::readable(file, Some(plan.region), limits, || {
                jp2_copy(caches, file, limits)
            })?;
            let (part, window) = jp2::decode(&path, &header, Some(plan.region), reduce)?;
            pipeline::execute_window(&part, plan, window, background)?
        } else if let Some(levels) =
            levels_of(caches, file)?.filter(|l| pyramid_fits(l, plan, limits.max_pixels))
        {
            match from_pyramid(caches, file, &levels, plan, background)? {
                Made::Stored(bytes) => return stored(bytes),
                Made::Pixels(img) => img,
            }
        } else {
            let derived = derivatives.ready(file, dims).and_then(|d| {
                let made = match levels_of(caches, &d) {
                    Ok(Some(levels)) => from_pyramid(caches, &d, &levels, plan, background),
                    Ok(None) => {
                        derivatives.discard(file, "not a readable pyramid");
                        return None;
                    }
                    Err(e) => Err(e.into()),
                };
                made.map_err(|e| pyramid_failed(derivatives, file, &e))
                    .inspect(|_| crate::stats::Stats::bump(&caches.stats.derivative_reads))
                    .ok()
            });
            match derived {
                Some(Made::Stored(bytes)) => return stored(bytes),
                Some(Made::Pixels(img)) => img,
                None => {
                    // DCT scaling applies to JPEG only; every other source is cached once, at
                    // full size.
                    let is_jpeg = file
                        .path
                        .extension()
                        .and_then(|e| e.to_str())
                        .is_some_and(|e| {
                            e.eq_ignore_ascii_case("jpg") || e.eq_ignore_ascii_case("jpeg")
                        });
                    let shrink = if is_jpeg { shrink_for(plan) } else { 1 };
                    // While its pyramid is built from the whole decode, a source is not decoded
                    // again at a reduced size: the whole decode serves every zoom level.
                    let whole = (shrink > 1 && derivatives.building(file))
                        .then(|| caches.decoded.get(&(file.clone(), 1)))
                        .flatten();
                    let src: Arc<DynamicImage> = match whole {
                        Some(img) => img,
                        None => crate::stats::counted(
                            &caches.decoded,
                            &caches.stats.decoded,
                            (file.clone(), shrink),
                            || {
                                source::decode::decode_shrunk(file, limits, shrink)
                                    .map(Arc::new)
                                    .inspect_err(|_| {
                                        crate::stats::Stats::bump(&caches.stats.decode_failures)
                                    })
                            },
                        )
                        .map_err(Arc::unwrap_or_clone)?,
                    };
                    pipeline::execute_reduced(&src, plan, dims, background)?
                }
            }
        };
        Ok(Rendered {
            bytes: encode::encode(&out, plan.format, output.jpeg_quality)?,
            raster: Some(out),
        })
    })
}

/// The JPEG 2000 header of a source, read once per source version (`None` for other files).
/// A store failure is an error, and is not remembered.
pub fn jp2_header(caches: &Caches, file: &Object) -> Result<Option<jp2::Header>, SourceError> {
    caches
        .jp2
        .try_get_with(file.clone(), || {
            if !jp2::sniff(file)? {
                return Ok(None);
            }
            match jp2::read_header(file) {
                Ok(h) => Ok(Some(h)),
                Err(e @ SourceError::Storage(_)) => Err(e),
                Err(_) => Ok(None),
            }
        })
        .map_err(Arc::unwrap_or_clone)
}

/// A local copy of a JPEG 2000 source from a store ([`jp2::Jp2Copy`]: sparse, filled by
/// range with the tile-parts decodes need), started once per source version (and kept while
/// the copies' disk budget allows). A store failure is an error, and is not remembered.
/// A kept copy that something else deleted (a temporary-folder cleaner) is made again.
fn jp2_copy(
    caches: &Caches,
    file: &Object,
    limits: DecodeLimits,
) -> Result<Arc<jp2::Jp2Copy>, SourceError> {
    let get = || {
        caches
            .jp2_copies
            .try_get_with(file.clone(), || {
                jp2::Jp2Copy::start(file, limits).map(Arc::new)
            })
            .map_err(Arc::unwrap_or_clone)
    };
    let copy = get()?;
    if copy.exists() {
        return Ok(copy);
    }
    caches.jp2_copies.invalidate(file);
    get()
}

/// The readable levels of a tiled TIFF, read once per source version (`None` for other
/// files). A store failure is an error, and is not remembered.
pub fn levels_of(
    caches: &Caches,
    file: &Object,
) -> Result<Option<Arc<Vec<pyramid::Level>>>, SourceError> {
    caches
        .levels
        .try_get_with(file.clone(), || {
            pyramid::levels(file)
                .map(|l| l.map(Arc::new))
                .map_err(SourceError::from)
        })
        .map_err(Arc::unwrap_or_clone)
}

/// The stored tile size of a tiled TIFF that [`levels_of`] serves by the tile (`None` for other
/// files): from its levels when they are known, else from its first directory alone, so that
/// an info.json costs no round trips to the other directories.
pub fn stored_tile(caches: &Caches, file: &Object) -> Result<Option<(u32, u32)>, SourceError> {
    if let Some(levels) = caches.levels.get(file) {
        return Ok(levels.as_ref().map(|l| l[0].tile));
    }
    Ok(pyramid::first_level(file)?.map(|l| l.tile))
}

/// Serves `plan` from the levels of a pyramidal TIFF: a stored tile as it is, or the tiles
/// of the smallest sufficient level under the region, resampled.
fn from_pyramid(
    caches: &Caches,
    file: &Object,
    levels: &[pyramid::Level],
    plan: &Plan,
    background: pipeline::Background,
) -> Result<Made, RenderError> {
    let level = pyramid::choose(levels, plan.region, plan.width, plan.height);
    let copy = pyramid::is_copy(levels[0], level, plan.region, plan.width, plan.height);
    let ratio = f64::from(plan.region.w)
        / (pyramid::factors(levels[0], level).0 * f64::from(plan.width.max(1)));
    if let Some(bytes) = passthrough(caches, file, levels[0], level, plan, copy)? {
        return Ok(Made::Stored(bytes));
    }
    let margin = pyramid::margin_for(ratio, copy);
    let index = stored_index(caches, file, level)?;
    let (part, window) = pyramid::read(
        file,
        levels[0],
        level,
        plan.region,
        margin,
        index.as_deref(),
    )?;
    Ok(pipeline::execute_window(&part, plan, window, background).map(Made::Pixels)?)
}

/// The stored JPEG bytes of a tile, when the request is exactly one interior stored tile of a
/// level, in the default quality, as JPEG, unrotated: no decode, no encode.
fn passthrough(
    caches: &Caches,
    file: &Object,
    full: pyramid::Level,
    level: pyramid::Level,
    plan: &Plan,
    copy: bool,
) -> Result<Option<Vec<u8>>, RenderError> {
    let plain = copy
        && plan.format == crate::iiif::Format::Jpg
        && plan.quality == crate::iiif::Quality::Default
        && plan.degrees == 0.0
        && !plan.mirror;
    if !plain {
        return Ok(None);
    }
    let (fx, fy) = pyramid::factors(full, level);
    let (lx, ly) = (
        (f64::from(plan.region.x) / fx) as u32,
        (f64::from(plan.region.y) / fy) as u32,
    );
    let (tw, th) = level.tile;
    let aligned = tw > 0 && th > 0 && lx % tw == 0 && ly % th == 0;
    let whole_tile =
        (plan.width, plan.height) == (tw, th) && lx + tw <= level.width && ly + th <= level.height;
    if !(aligned && whole_tile) {
        return Ok(None);
    }
    match stored_index(caches, file, level)? {
        Some(index) => Ok(pyramid::stored_jpeg_tile(
            file,
            &index,
            level,
            lx / tw,
            ly / th,
        )?),
        None => Ok(None),
    }
}

/// The stored-tile index of a level of a pyramid, read once and cached.
fn stored_index(
    caches: &Caches,
    file: &Object,
    level: pyramid::Level,
) -> Result<Option<Arc<pyramid::JpegTiles>>, RenderError> {
    caches
        .jpeg_tiles
        .try_get_with((file.clone(), level.ifd), || {
            pyramid::jpeg_tiles(file, level).map(|o| o.map(Arc::new))
        })
        .map_err(|e| RenderError::Source(Arc::unwrap_or_clone(e)))
}

/// Whether a request may take the tile path of a tiled TIFF: the image is within the pixel
/// ceiling, and the window of the chosen level is at most 16 times the output area (else a
/// single-level tiled TIFF would be read whole for every zoomed-out request; such requests
/// take the cached whole decode instead).
fn pyramid_fits(levels: &[pyramid::Level], plan: &Plan, max_source_pixels: u64) -> bool {
    let full = levels[0];
    if u64::from(full.width) * u64::from(full.height) > max_source_pixels {
        return false;
    }
    let level = pyramid::choose(levels, plan.region, plan.width, plan.height);
    let (f, _) = pyramid::factors(full, level);
    let window = (f64::from(plan.region.w) / f) * (f64::from(plan.region.h) / f);
    let out = f64::from(plan.width) * f64::from(plan.height);
    window <= 16.0 * out.max(65_536.0)
}

/// The JPEG DCT shrink for a plan: the largest of 8, 4 or 2 by which the region can be
/// reduced while staying at least the output size (1 when it cannot).
pub fn shrink_for(plan: &Plan) -> u32 {
    let ratio = (f64::from(plan.region.w) / f64::from(plan.width.max(1)))
        .min(f64::from(plan.region.h) / f64::from(plan.height.max(1)));
    [8, 4, 2]
        .into_iter()
        .find(|&s| f64::from(s) <= ratio)
        .unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_jpeg_2000_copy_is_made_once_and_again_when_it_was_deleted() {
        let memory = Arc::new(crate::storage::Memory::default());
        let img = image::DynamicImage::new_rgb8(64, 48);
        memory.put(
            "a.jp2",
            crate::encode::encode(&img, crate::iiif::Format::Jp2, 90).unwrap(),
        );
        let file = crate::storage::Storage::from(memory.clone())
            .resolve("a.jp2")
            .unwrap();
        let caches = Caches::new(8, 0);
        let first = jp2_copy(&caches, &file, DecodeLimits::UNLIMITED).unwrap();
        let reads = memory.reads();
        let again = jp2_copy(&caches, &file, DecodeLimits::UNLIMITED).unwrap();
        assert!(Arc::ptr_eq(&first, &again), "the kept copy");
        assert_eq!(memory.reads(), reads, "no read for a kept copy");
        // Deleted behind the cache's back (a temporary-folder cleaner): made again.
        let path = first.path().to_path_buf();
        drop((first, again));
        std::fs::remove_file(&path).unwrap();
        let made = jp2_copy(&caches, &file, DecodeLimits::UNLIMITED).unwrap();
        assert!(made.exists());
        assert_eq!(memory.reads(), reads * 2, "the new copy's reads");
        made.fill(&file, None, DecodeLimits::UNLIMITED).unwrap();
        let header = jp2::read_header(&file).unwrap();
        let (decoded, _) = jp2::decode(made.path(), &header, None, 0).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (64, 48));
        // Evicted (here: forgotten), a copy no decode holds is deleted.
        let path = made.path().to_path_buf();
        drop(made);
        caches.jp2_copies.invalidate(&file);
        caches.jp2_copies.run_pending_tasks();
        assert!(!path.exists(), "an evicted copy is deleted");
    }
}
