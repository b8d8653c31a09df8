//! Image API routes, 2.1 and 3.0 (`/{prefix}/{id}/…` in the configured default version,
//! `/{prefix}/2/{id}/…`, `/{prefix}/3/{id}/…`; see [`crate::iiif::path`]): the base URI (a 303
//! to info.json, or the `?width=&height=` default service), info.json and image requests. Both
//! versions ask the same service, so they share its access policy, caches and ETags; only the
//! documents and headers differ. A thin adapter: it parses, identifies the caller,
//! asks the [`ImageService`](crate::service::ImageService) and turns its answer or error
//! into HTTP. Repeat anonymous requests are answered by the [`super::warm`] cache before any
//! of that.

use super::json::{cache_control, not_modified, respond_ld};
use super::query::{caller, param};
use super::warm::Candidate;
use super::{AppState, Error, Peer};
use crate::access::Caller;
use crate::iiif::geometry::GeometryError;
use crate::iiif::info::{info_json, info_json_v3};
use crate::iiif::number::parse_uint;
use crate::iiif::path::{encode_identifier, parse_versioned, Route};
use crate::iiif::{Format, ImageRequest, Quality, Region, Rotation, Size, Version};
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
    let (named, route) = parse_versioned(rest, st.config.image_api)?;
    let version = named.unwrap_or(st.config.image_api);
    // The service's base URI as the request spelled it: with its version segment or without.
    let base = match named {
        Some(v) => format!("{base}/{}", v.segment()),
        None => base.to_string(),
    };
    let who = caller(&st.config.api_keys, headers, uri.query())?;
    let api = Api {
        st,
        base: &base,
        who,
        version,
        headers,
    };
    match route {
        Route::Base(id) => match default_service_request(uri.query())? {
            Some(req) => api.image(id, Want::Fit(req)).await,
            None => api.redirect(id).await,
        },
        Route::Info(id) => api.info(id).await,
        Route::Image(id, req) => api.image(id, Want::Image(req)).await,
    }
}

/// One request's context: who asks, in which version, under which base URI.
struct Api<'a> {
    st: &'a Arc<AppState>,
    base: &'a str,
    who: Caller,
    version: Version,
    headers: &'a HeaderMap,
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
        upscale: true,
    }))
}

/// Maps a service error to its HTTP answer (restricted images as the configuration says). A
/// size over the limits is a 404 in 2.1 (§7 of 2.1) and a 400 in 3.0 (§4.2 of 3.0).
fn failed(st: &AppState, who: Caller, version: Version, e: ServiceError) -> Error {
    match e {
        ServiceError::Restricted(asked) => st.refuse(
            who,
            &format!("image {asked:?}"),
            Error::NotFound(ServiceError::NotFound(asked).to_string()),
        ),
        ServiceError::Geometry(g @ GeometryError::TooLarge { .. }) if version == Version::V3 => {
            Error::BadRequest(g.to_string())
        }
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

impl Api<'_> {
    /// The facts of an image's info.json, from a worker (blocking file-system work).
    async fn facts(&self, asked: &str) -> Result<crate::service::Info, Error> {
        let (st2, asked2, who) = (self.st.clone(), asked.to_string(), self.who);
        tokio::task::spawn_blocking(move || {
            st2.service.info(Target {
                asked: &asked2,
                caller: who,
            })
        })
        .await
        .map_err(|e| Error::Internal(format!("worker failed: {e}")))?
        .map_err(|e| failed(self.st, self.who, self.version, e))
    }

    /// The base URI: a 303 to info.json for an image the caller may see; the same answer as
    /// info.json's for any other (404 for an identifier that does not exist, never a redirect).
    async fn redirect(&self, asked: String) -> Result<Response, Error> {
        self.facts(&asked).await?;
        let location = format!("{}/{}/info.json", self.base, encode_identifier(&asked));
        let mut resp = (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response();
        private_if_keyed(&mut resp, self.who);
        Ok(resp)
    }

    async fn info(&self, asked: String) -> Result<Response, Error> {
        let service = format!("{}/{}", self.base, encode_identifier(&asked));
        let facts = self.facts(&asked).await?;
        let body = match self.version {
            Version::V2 => info_json(&service, facts.dims, &facts.tiling, &facts.limits),
            Version::V3 => {
                // Only a URI that 3.0 allows (Creative Commons, RightsStatements.org).
                let rights = facts
                    .rights
                    .as_deref()
                    .and_then(crate::presentation::manifest3::rights_uri);
                let (dims, tiling, limits) = (facts.dims, &facts.tiling, &facts.limits);
                info_json_v3(&service, dims, tiling, limits, rights.as_deref())
            }
        }
        .to_string();
        let link = format!("<{}>;rel=\"profile\"", self.version.level2());
        let mut resp = respond_ld(
            self.headers,
            body,
            self.st.config.cache_max_age,
            &[(header::LINK, link)],
            self.version.ld_media_type(),
            self.version == Version::V3,
        );
        private_if_keyed(&mut resp, self.who);
        Ok(resp)
    }

    /// An image: from memory when it is there (no worker, no file-system call), else on a
    /// worker, within the queue's bounds.
    async fn image(&self, asked: String, want: Want) -> Result<Response, Error> {
        let (st, who, headers) = (self.st, self.who, self.headers);
        let current = |tag: &str| not_modified(headers, tag);
        let target = Target {
            asked: &asked,
            caller: who,
        };
        let (answer, from_memory) = match st.service.image(target, &want, &current, Mode::CacheOnly)
        {
            Ok(Some(answer)) => (answer, true),
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
                let made = tokio::task::spawn_blocking(move || {
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
                .map_err(|e| failed(st, who, self.version, e))?
                .ok_or_else(|| Error::Internal("the image service made nothing".into()))?;
                (made, false)
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
            "<{}>;rel=\"profile\",<{}/{}/{}>;rel=\"canonical\"",
            self.version.level2(),
            self.base,
            encode_identifier(&asked),
            image.canonical_in(self.version)
        );
        let mut h = HeaderMap::new();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(image.format.media_type()),
        );
        let value =
            |s: String| HeaderValue::from_str(&s).map_err(|e| Error::Internal(e.to_string()));
        h.insert(header::LINK, value(link)?);
        h.insert(header::ETAG, value(image.etag)?);
        h.insert(
            header::CACHE_CONTROL,
            cache_control(st.config.cache_max_age),
        );
        let mut resp = (h, image.bytes.clone()).into_response();
        private_if_keyed(&mut resp, who);
        if from_memory {
            resp.extensions_mut().insert(super::observe::FromCache);
        }
        if who == Caller::Anonymous {
            // The warm layer keeps it, with the headers the outer layers add.
            resp.extensions_mut().insert(Candidate(image.bytes));
        }
        Ok(resp)
    }
}
