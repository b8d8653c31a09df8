//! Image API routes: base URI redirect, info.json and image requests.

use super::base::base_uri;
use super::{AppState, Error};
use crate::iiif::canonical::canonical_path;
use crate::iiif::geometry::plan;
use crate::iiif::info::info_json;
use crate::iiif::path::{encode_identifier, parse, Route};
use crate::iiif::{Dimensions, ImageRequest, LEVEL2};
use crate::source::{self, SourceFile};
use crate::{encode, pipeline};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;

/// Handles every path below `/{prefix}/`.
pub async fn handle(State(st): State<Arc<AppState>>, uri: Uri, headers: HeaderMap) -> Response {
    match route(st, &uri, &headers).await {
        Ok(resp) => resp,
        Err(e) => e.into_response(),
    }
}

async fn route(st: Arc<AppState>, uri: &Uri, headers: &HeaderMap) -> Result<Response, Error> {
    let prefix = format!("/{}/", st.config.prefix);
    let rest = uri
        .path()
        .strip_prefix(&prefix)
        .ok_or_else(|| Error::NotFound("no such route".into()))?;
    let route = parse(rest)?;
    let fallback = st.config.bind.to_string();
    let base = base_uri(
        st.config.public_base.as_deref(),
        &st.config.prefix,
        headers,
        &fallback,
    );
    match route {
        Route::Base(id) => {
            let location = format!("{base}/{}/info.json", encode_identifier(&id));
            Ok((StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response())
        }
        Route::Info(id) => info(st, &base, id, headers).await,
        Route::Image(id, req) => image(st, &base, id, req, headers).await,
    }
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
fn open(st: &AppState, id: &str) -> Result<(SourceFile, Dimensions), Error> {
    let file = source::resolve(&st.root, id).map_err(|e| Error::from_source(e, id))?;
    let dims = st
        .caches
        .info
        .try_get_with(file.clone(), || source::read_dimensions(&file.path))
        .map_err(|e| Error::from_source(Arc::unwrap_or_clone(e), id))?;
    Ok((file, dims))
}

fn etag(file: &SourceFile, what: &str) -> String {
    let mut h = DefaultHasher::new();
    what.hash(&mut h);
    format!("\"{}-{:x}\"", file.version(), h.finish())
}

fn not_modified(headers: &HeaderMap, tag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| {
            let t = t.trim();
            t == "*" || t.trim_start_matches("W/") == tag
        })
}

fn cache_control(st: &AppState) -> HeaderValue {
    HeaderValue::from_str(&format!("public, max-age={}", st.config.cache_max_age))
        .unwrap_or_else(|_| HeaderValue::from_static("public"))
}

async fn info(
    st: Arc<AppState>,
    base: &str,
    id: String,
    headers: &HeaderMap,
) -> Result<Response, Error> {
    let st2 = st.clone();
    let id2 = id.clone();
    let (file, dims) = blocking(move || open(&st2, &id2)).await?;
    let service = format!("{base}/{}", encode_identifier(&id));
    let tag = etag(&file, &service);
    let ld = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("application/ld+json"));
    let content_type = if ld {
        "application/ld+json"
    } else {
        "application/json"
    };
    let common = [
        (
            header::ETAG,
            HeaderValue::from_str(&tag).map_err(|e| Error::Internal(e.to_string()))?,
        ),
        (header::CACHE_CONTROL, cache_control(&st)),
        (header::VARY, HeaderValue::from_static("Accept")),
    ];
    if not_modified(headers, &tag) {
        return Ok((StatusCode::NOT_MODIFIED, common).into_response());
    }
    let body = info_json(&service, dims, st.config.tile_size, &st.limits).to_string();
    let link = format!("<{LEVEL2}>;rel=\"profile\"");
    Ok((
        common,
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (header::LINK, link),
        ],
        body,
    )
        .into_response())
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
    id: String,
    req: ImageRequest,
    headers: &HeaderMap,
) -> Result<Response, Error> {
    let _queued = st
        .queue
        .clone()
        .try_acquire_owned()
        .map_err(|_| Error::Busy)?;
    let _running = st
        .workers
        .clone()
        .acquire_owned()
        .await
        .map_err(|_| Error::Busy)?;
    let st2 = st.clone();
    let id2 = id.clone();
    let headers = headers.clone();
    let made = blocking(move || {
        let (file, dims) = open(&st2, &id2)?;
        let plan = plan(&req, dims, &st2.limits)?;
        let canonical = canonical_path(&plan, dims);
        let tag = etag(&file, &canonical);
        if not_modified(&headers, &tag) {
            return Ok(Made::NotModified(tag));
        }
        let key = (file.clone(), canonical.clone());
        let bytes = st2
            .caches
            .encoded
            .try_get_with(key, || -> Result<Bytes, Error> {
                let src = st2
                    .caches
                    .decoded
                    .try_get_with(file.clone(), || {
                        source::decode(&file.path, st2.config.max_source_pixels).map(Arc::new)
                    })
                    .map_err(|e| Error::from_source(Arc::unwrap_or_clone(e), &id2))?;
                let out =
                    pipeline::execute(&src, &plan).map_err(|e| Error::Internal(e.to_string()))?;
                let bytes = encode::encode(&out, plan.format, st2.config.jpeg_quality)
                    .map_err(|e| Error::Internal(e.to_string()))?;
                Ok(Bytes::from(bytes))
            })
            .map_err(Arc::unwrap_or_clone)?;
        Ok(Made::Image {
            bytes,
            etag: tag,
            canonical,
        })
    })
    .await?;
    match made {
        Made::NotModified(tag) => {
            Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, tag)]).into_response())
        }
        Made::Image {
            bytes,
            etag,
            canonical,
        } => {
            let link = format!(
                "<{LEVEL2}>;rel=\"profile\",<{base}/{}/{canonical}>;rel=\"canonical\"",
                encode_identifier(&id)
            );
            Ok((
                [
                    (header::CONTENT_TYPE, req.format.media_type().to_string()),
                    (header::LINK, link),
                    (header::ETAG, etag),
                ],
                [(header::CACHE_CONTROL, cache_control(&st))],
                bytes,
            )
                .into_response())
        }
    }
}
