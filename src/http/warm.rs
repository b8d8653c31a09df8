//! The warm path: image responses already made for anonymous requests, kept with their
//! headers built, by public base URI and request target. A repeat request is one lookup,
//! before any parsing, planning or policy work. Entries live for
//! [`crate::cache::RESOLVE_TTL`], as long as an identifier's file is trusted, so a replaced
//! file, or a new rule for it, is seen within the same time as on the full path. Requests
//! that carry a key (`Authorization`, `apikey`) never use it.

use super::json::not_modified;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use moka::sync::Cache;
use std::sync::Arc;

/// A response ready to send again.
#[derive(Debug)]
pub struct Prepared {
    headers: HeaderMap,
    etag: HeaderValue,
    body: Bytes,
}

impl Prepared {
    /// A 200 response with these headers (which must hold its `ETag`) and body.
    pub fn new(headers: HeaderMap, body: Bytes) -> Option<Prepared> {
        let etag = headers.get(header::ETAG)?.clone();
        Some(Prepared {
            headers,
            etag,
            body,
        })
    }

    /// The response to a request: 304 when its `If-None-Match` holds this version.
    pub fn respond(&self, request: &HeaderMap) -> Response {
        let current = self
            .etag
            .to_str()
            .is_ok_and(|tag| not_modified(request, tag));
        if current {
            let mut resp = StatusCode::NOT_MODIFIED.into_response();
            let h = resp.headers_mut();
            h.insert(header::ETAG, self.etag.clone());
            if let Some(v) = self.headers.get(header::VARY) {
                h.insert(header::VARY, v.clone());
            }
            return resp;
        }
        (self.headers.clone(), self.body.clone()).into_response()
    }
}

/// The warm cache, bounded by bytes.
#[derive(Clone)]
pub struct Warm {
    cache: Cache<String, Arc<Prepared>>,
}

impl Warm {
    /// A cache of at most `mb` MiB of bodies (0 turns it off).
    pub fn new(mb: u64) -> Warm {
        Warm {
            cache: Cache::builder()
                .max_capacity(mb * 1024)
                .weigher(|k: &String, v: &Arc<Prepared>| {
                    u32::try_from((v.body.len() + k.len() + 512).div_ceil(1024)).unwrap_or(u32::MAX)
                })
                .time_to_live(crate::cache::RESOLVE_TTL)
                .build(),
        }
    }

    /// The response kept under `key`.
    pub fn get(&self, key: &str) -> Option<Arc<Prepared>> {
        self.cache.get(key)
    }

    /// Keeps a response.
    pub fn insert(&self, key: String, prepared: Arc<Prepared>) {
        self.cache.insert(key, prepared);
    }
}

/// The key of an anonymous GET or HEAD: the public base URI the response's headers were made
/// for, and the request target. `None` for a request that carries a key.
pub fn key(base: &str, uri: &Uri, headers: &HeaderMap) -> Option<String> {
    if headers.contains_key(header::AUTHORIZATION) {
        return None;
    }
    let target = uri.path_and_query()?.as_str();
    if uri.query().is_some_and(|q| q.contains("apikey")) {
        return None;
    }
    Some(format!("{base}\n{target}"))
}
