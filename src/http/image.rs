//! Image API routes: the base URI (a 303 to info.json, or the `?width=&height=` default
//! service), info.json and image requests. A thin adapter: it parses, identifies the caller,
//! asks the [`ImageService`](crate::service::ImageService) and turns its answer or error
//! into HTTP. Repeat anonymous requests are answered by the [`super::warm`] cache before any
//! of that.

use super::json::{cache_control, not_modified, respond};
use super::query::{caller, param};
use super::warm::Candidate;
use super::{AppState, Error, Peer};
use crate::access::Caller;
use crate::iiif::info::info_json;
use crate::iiif::number::parse_uint;
use crate::iiif::path::{encode_identifier, parse, Route};
use crate::iiif::{Format, ImageRequest, Quality, Region, Rotation, Size, LEVEL2};
use crate::service::{Answer, Mode, ServiceError, Target, Want};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// Handles every path below `/{prefix}/`.
pub async fn handle(State(st): State<Arc<AppState>>, Peer(peer): Peer, req: Request) -> Response {
    let (parts, _) = req.into_parts();
    let base = st.bases(&parts.headers, peer).image;
    match route(&st, &base, &parts.uri, &parts.headers).await {
        Ok(resp) => resp,
        Err(e) => e.into_response(),
    }
}

async fn route(
    st: &Arc<AppState>,
    base: &str,
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
    match route {
        Route::Base(id) => match default_service_request(uri.query())? {
            Some(req) => image(st, base, id, who, Want::Fit(req), headers).await,
            None => {
                let location = format!("{base}/{}/info.json", encode_identifier(&id));
                Ok((StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response())
            }
        },
        Route::Info(id) => info(st, base, id, who, headers).await,
        Route::Image(id, req) => image(st, base, id, who, Want::Image(req), headers).await,
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

/// Maps a service error to its HTTP answer (restricted images as the configuration says).
fn failed(st: &AppState, who: Caller, e: ServiceError) -> Error {
    match e {
        ServiceError::Restricted(asked) => st.refuse(
            who,
            &format!("image {asked:?}"),
            Error::NotFound(ServiceError::NotFound(asked).to_string()),
        ),
        e => Error::from(e),
    }
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
    st: &Arc<AppState>,
    base: &str,
    asked: String,
    who: Caller,
    headers: &HeaderMap,
) -> Result<Response, Error> {
    let service = format!("{base}/{}", encode_identifier(&asked));
    let st2 = st.clone();
    let facts = tokio::task::spawn_blocking(move || {
        st2.service.info(Target {
            asked: &asked,
            caller: who,
        })
    })
    .await
    .map_err(|e| Error::Internal(format!("worker failed: {e}")))?
    .map_err(|e| failed(st, who, e))?;
    let body = info_json(&service, facts.dims, &facts.tiling, &facts.limits).to_string();
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

/// An image: from memory when it is there (no worker, no file-system call), else on a
/// worker, within the queue's bounds.
async fn image(
    st: &Arc<AppState>,
    base: &str,
    asked: String,
    who: Caller,
    want: Want,
    headers: &HeaderMap,
) -> Result<Response, Error> {
    let current = |tag: &str| not_modified(headers, tag);
    let target = Target {
        asked: &asked,
        caller: who,
    };
    let answer = match st.service.image(target, &want, &current, Mode::CacheOnly) {
        Ok(Some(answer)) => answer,
        _ => {
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
            let (st2, asked2, headers2) = (st.clone(), asked.clone(), headers.clone());
            tokio::task::spawn_blocking(move || {
                // The slots go with the work: if the request is abandoned (timeout,
                // disconnect), they are released only when the work ends.
                let _slots = (queued, running);
                let current = |tag: &str| not_modified(&headers2, tag);
                let target = Target {
                    asked: &asked2,
                    caller: who,
                };
                st2.service.image(target, &want, &current, Mode::Compute)
            })
            .await
            .map_err(|e| Error::Internal(format!("worker failed: {e}")))?
            .map_err(|e| failed(st, who, e))?
            .ok_or_else(|| Error::Internal("the image service made nothing".into()))?
        }
    };
    let image = match answer {
        Answer::NotModified { etag } => {
            let mut resp = (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
            private_if_keyed(&mut resp, who);
            return Ok(resp);
        }
        Answer::Image(image) => image,
    };
    let link = format!(
        "<{LEVEL2}>;rel=\"profile\",<{base}/{}/{}>;rel=\"canonical\"",
        encode_identifier(&asked),
        image.canonical
    );
    let mut h = HeaderMap::new();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(image.format.media_type()),
    );
    let value = |s: String| HeaderValue::from_str(&s).map_err(|e| Error::Internal(e.to_string()));
    h.insert(header::LINK, value(link)?);
    h.insert(header::ETAG, value(image.etag)?);
    h.insert(
        header::CACHE_CONTROL,
        cache_control(st.config.cache_max_age),
    );
    let mut resp = (h, image.bytes.clone()).into_response();
    private_if_keyed(&mut resp, who);
    if who == Caller::Anonymous {
        // The warm layer keeps it, with the headers the outer layers add.
        resp.extensions_mut().insert(Candidate(image.bytes));
    }
    Ok(resp)
}
