//! Image API routes: base URI redirect (or the `?width=&height=` default service),
//! info.json and image requests, with the access rules of [`crate::access`].

use super::json::{cache_control, etag, not_modified, respond};
use super::query::{caller, param};
use super::{AppState, Error, Peer};
use crate::access::{Access, Caller};
use crate::iiif::canonical::canonical_path;
use crate::iiif::geometry::{plan, GeometryError, Limits, Plan};
use crate::iiif::info::{info_json, Tiling};
use crate::iiif::number::parse_uint;
use crate::iiif::path::{encode_identifier, parse, Route};
use crate::iiif::{Dimensions, Format, ImageRequest, Quality, Region, Rotation, Size, LEVEL2};
use crate::render::{render, RenderError};
use crate::source::{self, SourceError, SourceFile};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use std::net::SocketAddr;
use std::sync::Arc;

/// Handles every path below `/{prefix}/`.
pub async fn handle(
    State(st): State<Arc<AppState>>,
    Peer(peer): Peer,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    match route(st, peer, &uri, &headers).await {
        Ok(resp) => resp,
        Err(e) => e.into_response(),
    }
}

/// One request's view of an image: its identifier (aliases resolved), the identifier as the
/// request spelled it (the only one error messages name), and who asks.
struct Target {
    id: String,
    asked: String,
    who: Caller,
}

async fn route(
    st: Arc<AppState>,
    peer: Option<SocketAddr>,
    uri: &Uri,
    headers: &HeaderMap,
) -> Result<Response, Error> {
    let prefix = format!("/{}/", st.config.prefix);
    let rest = uri
        .path()
        .strip_prefix(&prefix)
        .ok_or_else(|| Error::NotFound("no such route".into()))?;
    let route = parse(rest)?;
    let who = caller(&st.config.api_keys, headers, uri.query())?;
    let base = st.bases(headers, peer).image;
    let target = |asked: String| async {
        let id = if st.store.may_be_alias(&asked) {
            let st2 = st.clone();
            let alias = asked.clone();
            blocking(move || Ok(st2.store.resolve_alias(&alias)))
                .await?
                .unwrap_or_else(|| asked.clone())
        } else {
            asked.clone()
        };
        Ok::<Target, Error>(Target { id, asked, who })
    };
    match route {
        Route::Base(id) => match default_service_request(uri.query())? {
            Some(req) => image(st.clone(), &base, target(id).await?, req, headers, true).await,
            None => {
                let location = format!("{base}/{}/info.json", encode_identifier(&id));
                Ok((StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response())
            }
        },
        Route::Info(id) => info(st.clone(), &base, target(id).await?, headers).await,
        Route::Image(id, req) => {
            image(st.clone(), &base, target(id).await?, req, headers, false).await
        }
    }
}

/// The request of the default service `{base}?width=W&height=H`: the full image fitted into
/// W×H (or to W wide, or H high) as a JPEG. `None` when neither parameter is given.
fn default_service_request(query: Option<&str>) -> Result<Option<ImageRequest>, Error> {
    let dim = |name: &str| -> Result<Option<u32>, Error> {
        match param(query, name) {
            None => Ok(None),
            Some(v) => match parse_uint(&v) {
                Some(n) if n > 0 => Ok(Some(n)),
                _ => Err(Error::BadRequest(format!(
                    "{name} must be a positive whole number of pixels, not {v:?}"
                ))),
            },
        }
    };
    let size = match (dim("width")?, dim("height")?) {
        (None, None) => return Ok(None),
        (Some(w), Some(h)) => Size::BestFit { w, h },
        (Some(w), None) => Size::Width(w),
        (None, Some(h)) => Size::Height(h),
    };
    Ok(Some(ImageRequest {
        region: Region::Full,
        size,
        rotation: Rotation::NONE,
        quality: Quality::Default,
        format: Format::Jpg,
    }))
}

/// Runs blocking work (file system, decoding) off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Internal(format!("worker failed: {e}")))?
}

/// Resolves an identifier and reads (or recalls) its dimensions.
pub(crate) fn open(st: &AppState, id: &str) -> Result<(SourceFile, Dimensions), SourceError> {
    let file = resolve(st, id)?;
    let dims = dimensions(st, &file)?;
    Ok((file, dims))
}

/// The dimensions of a resolved file, read once and cached.
fn dimensions(st: &AppState, file: &SourceFile) -> Result<Dimensions, SourceError> {
    st.caches
        .info
        .try_get_with(file.clone(), || source::read_dimensions(&file.path))
        .map_err(Arc::unwrap_or_clone)
}

/// Resolves an identifier to its file, remembering the answer briefly.
fn resolve(st: &AppState, id: &str) -> Result<SourceFile, SourceError> {
    st.caches
        .resolved
        .try_get_with(id.to_string(), || source::resolve(&st.root, id))
        .map_err(Arc::unwrap_or_clone)
}

/// Resolves an image for a caller and decides its access on the resolved file (the policy),
/// so that every spelling of an identifier gets the same rule; a restricted image is refused
/// before its dimensions are read. Errors name the identifier only as the request spelled it.
fn open_for(st: &AppState, t: &Target) -> Result<(SourceFile, Dimensions, Access), Error> {
    let failed = |e| Error::from_source(e, &t.asked);
    let file = resolve(st, &t.id).map_err(failed)?;
    let access = st.policy.decide(t.who, &file);
    if access == Access::Restricted {
        return Err(st.refuse(
            t.who,
            &format!("image {:?}", t.asked),
            Error::from_source(SourceError::NotFound, &t.asked),
        ));
    }
    let dims = dimensions(st, &file).map_err(failed)?;
    Ok((file, dims, access))
}

/// Marks a response made for a caller with a key as private, so that shared caches (a CDN)
/// never store it; every response varies by `Authorization`.
pub(crate) fn private_if_keyed(resp: &mut Response, who: Caller) {
    let h = resp.headers_mut();
    h.append(header::VARY, HeaderValue::from_static("Authorization"));
    if who != Caller::Anonymous {
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-store"),
        );
    }
}

async fn info(
    st: Arc<AppState>,
    base: &str,
    t: Target,
    headers: &HeaderMap,
) -> Result<Response, Error> {
    let st2 = st.clone();
    let service = format!("{base}/{}", encode_identifier(&t.asked));
    let who = t.who;
    let tile_size = st.config.tile_size;
    let (dims, access, tiling) = blocking(move || {
        let (file, dims, access) = open_for(&st2, &t)?;
        let tiling = if let Some(h) = st2.caches.jp2_header(&file) {
            Some(Tiling::codestream(dims, h.tile, h.levels, tile_size))
        } else {
            // A tiled TIFF offers its own tiles, so that viewers' tiles align with stored ones.
            st2.caches
                .levels_of(&file)
                .map(|l| Tiling::stored(dims, l[0].tile))
        };
        still_current(&st2, &t, &file)?;
        Ok((
            dims,
            access,
            tiling.unwrap_or_else(|| Tiling::square(dims, tile_size)),
        ))
    })
    .await?;
    let limits = crate::policy::limits_for(st.limits, access, dims);
    let body = info_json(&service, dims, &tiling, &limits).to_string();
    let link = format!("<{LEVEL2}>;rel=\"profile\"");
    let mut resp = respond(
        headers,
        body,
        st.config.cache_max_age,
        &[(header::LINK, link)],
    );
    private_if_keyed(&mut resp, who);
    Ok(resp)
}

/// Plans a default-service request, whose size is a box to fit within: never upscaled, and
/// clamped to the limits (a smaller fit of the same aspect ratio is still inside the box).
fn fit_plan(req: &ImageRequest, dims: Dimensions, limits: &Limits) -> Result<Plan, Error> {
    let with = |size| plan(&ImageRequest { size, ..*req }, dims, limits);
    match plan(req, dims, limits) {
        Ok(p) if p.width > p.region.w || p.height > p.region.h => {
            Ok(with(Size::Full).or_else(|_| with(Size::Max))?)
        }
        Ok(p) => Ok(p),
        Err(GeometryError::TooLarge { .. }) => Ok(with(Size::Max)?),
        Err(e) => Err(e.into()),
    }
}

/// What the blocking part of an image request produced.
enum Made {
    NotModified(String),
    Image {
        bytes: Bytes,
        etag: String,
        canonical: String,
    },
}

async fn image(
    st: Arc<AppState>,
    base: &str,
    t: Target,
    req: ImageRequest,
    headers: &HeaderMap,
    box_is_maximum: bool,
) -> Result<Response, Error> {
    if let Some(resp) = from_memory(&st, base, &t, &req, headers, box_is_maximum) {
        return Ok(resp);
    }
    let queued = st
        .queue
        .clone()
        .try_acquire_owned()
        .map_err(|_| Error::Busy)?;
    let running = st
        .workers
        .clone()
        .acquire_owned()
        .await
        .map_err(|_| Error::Busy)?;
    let st2 = st.clone();
    let asked = t.asked.clone();
    let who = t.who;
    let headers = headers.clone();
    let made = blocking(move || {
        // The slots go with the work: if the request is abandoned (timeout, disconnect),
        // they are released only when the work ends.
        let _slots = (queued, running);
        let (file, dims, access) = open_for(&st2, &t)?;
        let limits = crate::policy::limits_for(st2.limits, access, dims);
        let plan = if box_is_maximum {
            fit_plan(&req, dims, &limits)?
        } else {
            plan(&req, dims, &limits)?
        };
        let canonical = canonical_path(&plan, dims);
        let tag = etag(&file.version(), &canonical);
        if not_modified(&headers, &tag) {
            return Ok(Made::NotModified(tag));
        }
        let key = (file.clone(), format!("{canonical}|{}", access.class()));
        let bytes = st2
            .caches
            .encoded
            .try_get_with(key, || -> Result<Bytes, Error> {
                render(
                    &st2.caches,
                    &st2.derivatives,
                    &file,
                    dims,
                    &plan,
                    st2.config.decode_limits(),
                    st2.config.jpeg_quality,
                )
                .map_err(|e| match e {
                    RenderError::Source(e) => Error::from_source(e, &t.asked),
                    RenderError::Processing(m) => Error::Internal(m),
                })
                .and_then(|bytes| {
                    // Checked before the bytes are cached or sent.
                    still_current(&st2, &t, &file)?;
                    Ok(Bytes::from(bytes))
                })
            })
            .map_err(Arc::unwrap_or_clone)?;
        Ok(Made::Image {
            bytes,
            etag: tag,
            canonical,
        })
    })
    .await?;
    let resp = match made {
        Made::NotModified(tag) => not_modified_response(tag, who),
        Made::Image {
            bytes,
            etag,
            canonical,
        } => image_response(&st, base, &asked, req.format, bytes, etag, &canonical, who),
    };
    Ok(resp)
}

/// Fails with a 503, and forgets the identifier's file, when the file changed since it was
/// resolved: what was read may mix two versions, so it is neither sent nor cached.
fn still_current(st: &AppState, t: &Target, file: &SourceFile) -> Result<(), Error> {
    if file.unchanged() {
        return Ok(());
    }
    st.caches.resolved.invalidate(&t.id);
    tracing::warn!(identifier = t.asked, "source changed while being read");
    Err(Error::Retry(format!(
        "image {:?} changed while being read; retry",
        t.asked
    )))
}

/// Serves a response already made for this request straight from memory, with no file-system
/// call and no worker: the identifier's file, its size and the encoded bytes must all be
/// cached. `None` sends the request down the full path (which also makes every error).
fn from_memory(
    st: &AppState,
    base: &str,
    t: &Target,
    req: &ImageRequest,
    headers: &HeaderMap,
    box_is_maximum: bool,
) -> Option<Response> {
    let file = st.caches.resolved.get(&t.id)?;
    let dims = st.caches.info.get(&file)?;
    let access = st.policy.decide_cached(t.who, &file)?;
    if access == Access::Restricted {
        return None;
    }
    let limits = crate::policy::limits_for(st.limits, access, dims);
    let plan = if box_is_maximum {
        fit_plan(req, dims, &limits).ok()?
    } else {
        plan(req, dims, &limits).ok()?
    };
    let canonical = canonical_path(&plan, dims);
    let tag = etag(&file.version(), &canonical);
    if not_modified(headers, &tag) {
        return Some(not_modified_response(tag, t.who));
    }
    let key = (file, format!("{canonical}|{}", access.class()));
    let bytes = st.caches.encoded.get(&key)?;
    Some(image_response(
        st,
        base,
        &t.asked,
        plan.format,
        bytes,
        tag,
        &canonical,
        t.who,
    ))
}

fn not_modified_response(tag: String, who: Caller) -> Response {
    let mut resp = (StatusCode::NOT_MODIFIED, [(header::ETAG, tag)]).into_response();
    private_if_keyed(&mut resp, who);
    resp
}

#[allow(clippy::too_many_arguments)]
fn image_response(
    st: &AppState,
    base: &str,
    id: &str,
    format: crate::iiif::Format,
    bytes: Bytes,
    etag: String,
    canonical: &str,
    who: Caller,
) -> Response {
    let link = format!(
        "<{LEVEL2}>;rel=\"profile\",<{base}/{}/{canonical}>;rel=\"canonical\"",
        encode_identifier(id)
    );
    let mut resp = (
        [
            (header::CONTENT_TYPE, format.media_type().to_string()),
            (header::LINK, link),
            (header::ETAG, etag),
        ],
        [(
            header::CACHE_CONTROL,
            cache_control(st.config.cache_max_age),
        )],
        bytes,
    )
        .into_response();
    private_if_keyed(&mut resp, who);
    resp
}
