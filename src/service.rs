//! The image service: the one chain through which every front (the HTTP routes, the default
//! service, `tessera thumbnails`) makes image bytes or the facts of an info.json. In order:
//! resolve (a rendition number to its identifier, the identifier to its file), access (the
//! [`Policy`]), limits, plan, canonical form and ETag, the encoded cache, render, and the
//! check that the source did not change while it was read.
//!
//! [`ImageService::image`] is one function for both paths: in [`Mode::CacheOnly`] it answers
//! from memory alone (no file-system call, no decode) or not at all, and in [`Mode::Compute`]
//! it does whatever work is missing. It knows nothing of HTTP: fronts map a [`ServiceError`]
//! to their own answers. What fronts choose differently (no response cache for batch work,
//! no derivative pyramids) is passed in [`Settings`] and [`Derivatives`], never copied. Batch
//! work that derives more than bytes from an image (`tessera thumbnails --colors`) asks
//! [`ImageService::rendition`]: the same path, handing back the raster it encoded.

use crate::access::{Access, Caller};
use crate::cache::Caches;
use crate::colors::{Colour, Palette};
use crate::derivative::Derivatives;
use crate::iiif::canonical::{canonical_path, canonical_path_v3};
use crate::iiif::geometry::{plan, GeometryError};
use crate::iiif::info::Tiling;
use crate::iiif::{Dimensions, Format, ImageRequest, Limits, Plan, Size};
use crate::policy::{limits_for, Policy};
use crate::render::{render_with_raster, RenderError, Rendered};
use crate::source::{self, DecodeLimits, SourceError};
use crate::storage::{Object, Storage, StorageError};
use bytes::Bytes;
use image::DynamicImage;
use std::sync::Arc;

/// What a front sets once for its service.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// The output limits (`maxWidth`, `maxHeight`, `maxArea`).
    pub limits: Limits,
    /// The tile size of info.json (for sources without tiles of their own).
    pub tile_size: u32,
    /// The limits of one decode.
    pub decode: DecodeLimits,
    /// JPEG output quality, 1–100.
    pub jpeg_quality: u8,
    /// The corners of rotations in formats without alpha.
    pub background: crate::pipeline::Background,
    /// Keep encoded responses in memory (the server); batch work does not.
    pub response_cache: bool,
}

/// Who asks for which image: the identifier as the request spelled it (the only one errors
/// ever name), and the caller.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// The identifier, percent-decoded, as asked.
    pub asked: &'a str,
    /// Who asks.
    pub caller: Caller,
}

/// What is wanted of the image.
#[derive(Debug, Clone, Copy)]
pub enum Want {
    /// An Image API request, planned as the spec says.
    Image(ImageRequest),
    /// The default service (`?width=&height=`): the size is a box to fit within, never
    /// upscaled, clamped to the limits.
    Fit(ImageRequest),
}

impl Want {
    fn request(&self) -> &ImageRequest {
        match self {
            Want::Image(r) | Want::Fit(r) => r,
        }
    }
}

/// How much work [`ImageService::image`] may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Answer from memory alone, or not at all (`Ok(None)`): no file-system call, no decode.
    CacheOnly,
    /// Do whatever is missing (blocking: call it off the async threads).
    Compute,
}

/// An image made (or recalled) for a request.
#[derive(Debug, Clone)]
pub struct Image {
    /// The encoded bytes.
    pub bytes: Bytes,
    /// Their format.
    pub format: Format,
    /// A strong ETag (quoted), an opaque hash of the source version and the canonical form.
    pub etag: String,
    /// The 2.1 canonical path after the identifier (`region/size/rotation/quality.format`).
    pub canonical: String,
    /// The 3.0 canonical path (§4.8 of 3.0).
    pub canonical_v3: String,
}

impl Image {
    /// The canonical path after the identifier in `version`'s form.
    pub fn canonical_in(&self, version: crate::iiif::Version) -> &str {
        match version {
            crate::iiif::Version::V2 => &self.canonical,
            crate::iiif::Version::V3 => &self.canonical_v3,
        }
    }
}

/// An image with the pixels it encodes (see [`ImageService::rendition`]).
#[derive(Debug, Clone)]
pub struct Rendition {
    /// The image, as [`ImageService::image`] would make it.
    pub image: Image,
    /// The raster its bytes encode, at the output size, before encoding.
    pub raster: DynamicImage,
    /// The source image's upright size.
    pub source: Dimensions,
}

/// What [`ImageService::prepare`] found out before rendering.
struct Prepared {
    file: Object,
    dims: Dimensions,
    access: Access,
    plan: Plan,
    canonical: String,
    canonical_v3: String,
    etag: String,
}

/// The answer to an image request.
#[derive(Debug, Clone)]
pub enum Answer {
    /// The image.
    Image(Image),
    /// The caller's copy (its `If-None-Match`) is current.
    NotModified {
        /// The ETag it holds.
        etag: String,
    },
}

/// The facts of an info.json: the front writes the document with its own base URI.
#[derive(Debug, Clone)]
pub struct Info {
    /// The image's upright size.
    pub dims: Dimensions,
    /// Its tiles and scale factors.
    pub tiling: Tiling,
    /// The limits that apply to this caller (a limited image's are tighter).
    pub limits: Limits,
    /// The rights URI its record gives, if any.
    pub rights: Option<String>,
}

/// Why the service could not answer.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ServiceError {
    /// No image has this identifier.
    #[error("no image with identifier {0:?}")]
    NotFound(String),
    /// The caller may not see this image.
    #[error("image {0:?} is restricted")]
    Restricted(String),
    /// The request cannot be served for this image (an empty region, a size over the limits).
    #[error(transparent)]
    Geometry(#[from] GeometryError),
    /// The source could not be read or decoded.
    #[error("image {asked:?}")]
    Source {
        /// The identifier as asked.
        asked: String,
        /// What went wrong.
        #[source]
        source: SourceError,
    },
    /// Processing or encoding failed.
    #[error("image {asked:?}")]
    Render {
        /// The identifier as asked.
        asked: String,
        /// What went wrong.
        #[source]
        source: RenderError,
    },
    /// The source changed while it was read: nothing was sent or cached; retry.
    #[error("image {0:?} changed while being read; retry")]
    Changed(String),
}

/// The image service of a server or a batch run.
pub struct ImageService {
    settings: Settings,
    caches: Caches,
    derivatives: Derivatives,
    policy: Arc<Policy>,
    /// Extracted colours by the ETag of the rendition they came from (so by source version).
    colors: moka::sync::Cache<String, Arc<Vec<Colour>>>,
}

/// The long side of the rendition colours are extracted from.
pub const COLOR_SIDE: u32 = 256;

impl ImageService {
    /// A service over the images of `policy`'s storage.
    pub fn new(
        settings: Settings,
        caches: Caches,
        derivatives: Derivatives,
        policy: Arc<Policy>,
    ) -> ImageService {
        ImageService {
            settings,
            caches,
            derivatives,
            policy,
            colors: moka::sync::Cache::new(100_000),
        }
    }

    /// An image's colours ([`crate::colors`]) for a caller, extracted from its rendition
    /// within [`COLOR_SIDE`] px, the same one a limited image may give (so colours never tell
    /// more than the pixels the caller may have), once per source version (blocking).
    pub fn colors(&self, t: Target, palette: &Palette) -> Result<Arc<Vec<Colour>>, ServiceError> {
        let request = ImageRequest {
            region: crate::iiif::Region::Full,
            size: Size::BestFit {
                w: COLOR_SIDE,
                h: COLOR_SIDE,
            },
            rotation: crate::iiif::Rotation {
                mirror: false,
                degrees: 0.0,
            },
            quality: crate::iiif::Quality::Default,
            format: Format::Png,
            upscale: true,
        };
        let answer = self.image(t, &Want::Fit(request), &|_| false, Mode::Compute)?;
        let Some(Answer::Image(rendition)) = answer else {
            return Err(ServiceError::NotFound(t.asked.to_string()));
        };
        if let Some(c) = self.colors.get(&rendition.etag) {
            return Ok(c);
        }
        let pixels = image::load_from_memory_with_format(&rendition.bytes, image::ImageFormat::Png)
            .map_err(|e| ServiceError::Render {
                asked: t.asked.to_string(),
                source: RenderError::Encode(crate::encode::EncodeError::Codec {
                    format: "png",
                    source: Arc::new(e),
                }),
            })?;
        let list = Arc::new(crate::colors::extract_image(&pixels, palette));
        self.colors.insert(rendition.etag, list.clone());
        Ok(list)
    }

    /// Where the sources are.
    pub fn storage(&self) -> &Storage {
        self.policy.storage()
    }

    /// The access policy.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// An image for a request. `current(etag)` says whether the caller already holds that
    /// version (its `If-None-Match`); then the answer is [`Answer::NotModified`] and nothing
    /// is rendered. In [`Mode::CacheOnly`], `Ok(None)` means "not in memory"; errors are
    /// only ever made in [`Mode::Compute`].
    pub fn image(
        &self,
        t: Target,
        want: &Want,
        current: &dyn Fn(&str) -> bool,
        mode: Mode,
    ) -> Result<Option<Answer>, ServiceError> {
        let Some(p) = self.prepare(t, want, mode)? else {
            return Ok(None);
        };
        if current(&p.etag) {
            return Ok(Some(Answer::NotModified { etag: p.etag }));
        }
        let make = || {
            self.render(t, &p.file, p.dims, &p.plan)
                .map(|r| Bytes::from(r.bytes))
        };
        let bytes = if !self.settings.response_cache {
            match mode {
                Mode::CacheOnly => return Ok(None),
                Mode::Compute => make()?,
            }
        } else {
            let key = (
                p.file.clone(),
                format!("{}|{}", p.canonical, p.access.class()),
            );
            match mode {
                Mode::CacheOnly => match self.caches.encoded.get(&key) {
                    Some(b) => {
                        self.caches.stats.encoded.record(false);
                        b
                    }
                    None => return Ok(None),
                },
                Mode::Compute => {
                    let stats = &self.caches.stats;
                    crate::stats::counted(&self.caches.encoded, &stats.encoded, key, make)
                        .map_err(Arc::unwrap_or_clone)?
                }
            }
        };
        Ok(Some(Answer::Image(Image {
            bytes,
            format: want.request().format,
            etag: p.etag,
            canonical: p.canonical,
            canonical_v3: p.canonical_v3,
        })))
    }

    /// An image and the pixels it encodes, for batch work that derives more from the same
    /// decode (`tessera thumbnails --colors`). Like [`Self::image`] in [`Mode::Compute`] with
    /// no `If-None-Match`, but always rendered: the response cache is neither read nor filled.
    /// The raster is the pipeline's output before encoding; when the bytes are a stored tile
    /// sent as it is, it is that tile decoded (the only decode made).
    pub fn rendition(&self, t: Target, want: &Want) -> Result<Rendition, ServiceError> {
        let Some(p) = self.prepare(t, want, Mode::Compute)? else {
            return Err(ServiceError::NotFound(t.asked.to_string()));
        };
        let made = self.render(t, &p.file, p.dims, &p.plan)?;
        let raster = match made.raster {
            Some(raster) => raster,
            None => decode_stored(&made.bytes).map_err(|source| ServiceError::Source {
                asked: t.asked.to_string(),
                source,
            })?,
        };
        Ok(Rendition {
            image: Image {
                bytes: Bytes::from(made.bytes),
                format: want.request().format,
                etag: p.etag,
                canonical: p.canonical,
                canonical_v3: p.canonical_v3,
            },
            raster,
            source: p.dims,
        })
    }

    /// The facts of an image's info.json for a caller (blocking).
    pub fn info(&self, t: Target) -> Result<Info, ServiceError> {
        let Some((file, dims, access)) = self.open(t, Mode::Compute)? else {
            return Err(ServiceError::NotFound(t.asked.to_string()));
        };
        let tile_size = self.settings.tile_size;
        let failed = |source| ServiceError::Source {
            asked: t.asked.to_string(),
            source,
        };
        let tiling =
            if let Some(h) = crate::render::jp2_header(&self.caches, &file).map_err(failed)? {
                Tiling::codestream(dims, h.tile, h.levels, tile_size)
            } else if let Some(tile) =
                crate::render::stored_tile(&self.caches, &file).map_err(failed)?
            {
                // A tiled TIFF offers its own tiles, so that viewers' tiles align with stored ones.
                Tiling::stored(dims, tile)
            } else {
                Tiling::square(dims, tile_size)
            };
        self.still_current(t, &file)?;
        Ok(Info {
            dims,
            tiling,
            limits: limits_for(self.settings.limits, access, dims),
            rights: self.policy.rights(&file).map(str::to_string),
        })
    }

    /// Lets go of what the service keeps for an image: its derivative pyramid (deleted) and
    /// its decodes. For batch work, once an image is done.
    pub fn forget(&self, identifier: &str) {
        let Ok(Some(file)) = self.resolve(identifier, Mode::CacheOnly) else {
            return;
        };
        self.derivatives.remove(&file);
        self.caches.forget_decodes(&file);
        self.caches.resolved.invalidate(identifier);
    }

    /// The size of the image an identifier names, with no access check (for manifests, which
    /// ask the policy themselves): `Ok(None)` when there is no such image or it cannot be
    /// read; an error only when the store failed, so that no document is made without it.
    pub fn dimensions(&self, identifier: &str) -> Result<Option<Dimensions>, StorageError> {
        let fault = |e: SourceError| match e {
            SourceError::Storage(e @ (StorageError::Remote { .. } | StorageError::Changed(_))) => {
                Err(e)
            }
            _ => Ok(None),
        };
        let file = match self.resolve(identifier, Mode::Compute) {
            Ok(Some(file)) => file,
            Ok(None) => return Ok(None),
            Err(e) => return fault(e),
        };
        self.dims(&file, Mode::Compute).or_else(fault)
    }

    /// Everything up to the render: the file, its size and access, the plan, the canonical
    /// form and the ETag. `Ok(None)` only in [`Mode::CacheOnly`].
    fn prepare(
        &self,
        t: Target,
        want: &Want,
        mode: Mode,
    ) -> Result<Option<Prepared>, ServiceError> {
        let Some((file, dims, access)) = self.open(t, mode)? else {
            return Ok(None);
        };
        let limits = limits_for(self.settings.limits, access, dims);
        let planned = match want {
            Want::Image(req) => plan(req, dims, &limits),
            Want::Fit(req) => fit_plan(req, dims, &limits),
        };
        let plan = match (planned, mode) {
            (Ok(p), _) => p,
            (Err(_), Mode::CacheOnly) => return Ok(None),
            (Err(e), Mode::Compute) => return Err(e.into()),
        };
        // The 2.1 form keys the caches and the ETag whichever version asked.
        let canonical = canonical_path(&plan, dims);
        let canonical_v3 = canonical_path_v3(&plan, dims, &limits);
        let etag = crate::digest::etag(&file.version(), &canonical);
        Ok(Some(Prepared {
            file,
            dims,
            access,
            plan,
            canonical,
            canonical_v3,
            etag,
        }))
    }

    /// Resolves, decides access and reads the size: a restricted image is refused before its
    /// size is read.
    fn open(
        &self,
        t: Target,
        mode: Mode,
    ) -> Result<Option<(Object, Dimensions, Access)>, ServiceError> {
        let failed = |source| match source {
            SourceError::NotFound => ServiceError::NotFound(t.asked.to_string()),
            source => ServiceError::Source {
                asked: t.asked.to_string(),
                source,
            },
        };
        let Some(id) = self.identifier(t.asked, mode) else {
            return Ok(None);
        };
        let Some(file) = self.resolve(&id, mode).map_err(failed)? else {
            return Ok(None);
        };
        let access = match mode {
            Mode::CacheOnly => match self.policy.decide_cached(t.caller, &file) {
                Some(a) => a,
                None => return Ok(None),
            },
            Mode::Compute => self.policy.decide(t.caller, &file),
        };
        if access == Access::Restricted {
            return match mode {
                Mode::CacheOnly => Ok(None),
                Mode::Compute => Err(ServiceError::Restricted(t.asked.to_string())),
            };
        }
        let Some(dims) = self.dims(&file, mode).map_err(failed)? else {
            return Ok(None);
        };
        Ok(Some((file, dims, access)))
    }

    /// The identifier a rendition number stands for, or the identifier itself. An alias is
    /// read from its record, so in [`Mode::CacheOnly`] a possible alias is `None`.
    fn identifier(&self, asked: &str, mode: Mode) -> Option<String> {
        let store = self.policy.store();
        if !store.may_be_alias(asked) {
            return Some(asked.to_string());
        }
        match mode {
            Mode::CacheOnly => None,
            Mode::Compute => Some(store.resolve_alias(asked).unwrap_or_else(|| asked.into())),
        }
    }

    /// An identifier's file, remembered for [`crate::cache::RESOLVE_TTL`].
    fn resolve(&self, id: &str, mode: Mode) -> Result<Option<Object>, SourceError> {
        let resolved = &self.caches.resolved;
        match mode {
            Mode::CacheOnly => Ok(resolved.get(id)),
            Mode::Compute => crate::stats::counted(
                resolved,
                &self.caches.stats.resolved,
                id.to_string(),
                || self.storage().resolve(id).map_err(SourceError::from),
            )
            .map(Some)
            .map_err(Arc::unwrap_or_clone),
        }
    }

    /// A file's upright size, read once per version.
    fn dims(&self, file: &Object, mode: Mode) -> Result<Option<Dimensions>, SourceError> {
        let info = &self.caches.info;
        match mode {
            Mode::CacheOnly => Ok(info.get(file)),
            Mode::Compute => {
                crate::stats::counted(info, &self.caches.stats.info, file.clone(), || {
                    source::read_dimensions(file)
                })
                .map(Some)
                .map_err(Arc::unwrap_or_clone)
            }
        }
    }

    /// Renders a plan, and checks that the source did not change meanwhile.
    fn render(
        &self,
        t: Target,
        file: &Object,
        dims: Dimensions,
        plan: &Plan,
    ) -> Result<Rendered, ServiceError> {
        let s = &self.settings;
        let made = render_with_raster(
            &self.caches,
            &self.derivatives,
            file,
            dims,
            plan,
            s.decode,
            crate::render::Output {
                jpeg_quality: s.jpeg_quality,
                background: s.background,
            },
        )
        .map_err(|e| match e {
            RenderError::Source(source) => ServiceError::Source {
                asked: t.asked.to_string(),
                source,
            },
            source => ServiceError::Render {
                asked: t.asked.to_string(),
                source,
            },
        })?;
        // Checked before the bytes are cached or sent.
        self.still_current(t, file)?;
        Ok(made)
    }

    /// Fails, and forgets the identifier's file, when the file changed since it was resolved:
    /// what was read may mix two versions, so it is neither sent nor cached.
    fn still_current(&self, t: Target, file: &Object) -> Result<(), ServiceError> {
        if file.unchanged() {
            return Ok(());
        }
        self.caches.resolved.invalidate(t.asked);
        if let Some(id) = self.identifier(t.asked, Mode::Compute) {
            self.caches.resolved.invalidate(&id);
        }
        tracing::warn!(identifier = t.asked, "source changed while being read");
        Err(ServiceError::Changed(t.asked.to_string()))
    }
}

/// The pixels of a stored JPEG tile that was passed through undecoded.
fn decode_stored(bytes: &[u8]) -> Result<DynamicImage, SourceError> {
    source::guarded("decoding a stored tile", || {
        image::load_from_memory_with_format(bytes, image::ImageFormat::Jpeg)
            .map_err(|e| SourceError::codec("jpeg", e))
    })
}

/// Plans a default-service request, whose size is a box to fit within: never upscaled, and
/// clamped to the limits (a smaller fit of the same aspect ratio is still inside the box).
fn fit_plan(req: &ImageRequest, dims: Dimensions, limits: &Limits) -> Result<Plan, GeometryError> {
    let with = |size| {
        let req = ImageRequest {
            size,
            upscale: false,
            ..*req
        };
        plan(&req, dims, limits)
    };
    match plan(req, dims, limits) {
        Ok(p) if p.width > p.region.w || p.height > p.region.h => {
            with(Size::Full).or_else(|_| with(Size::Max))
        }
        Ok(p) => Ok(p),
        Err(GeometryError::TooLarge { .. }) => with(Size::Max),
        Err(e) => Err(e),
    }
}
