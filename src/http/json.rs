//! JSON responses: media type by `Accept`, a strong ETag from the body, `If-None-Match`,
//! and `Cache-Control`.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// Whether an `If-None-Match` header matches `tag`.
pub fn not_modified(headers: &HeaderMap, tag: &str) -> bool {
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

pub use crate::digest::etag;

/// `Cache-Control: public, max-age=N`.
pub fn cache_control(max_age: u32) -> HeaderValue {
    HeaderValue::from_str(&format!("public, max-age={max_age}"))
        .unwrap_or_else(|_| HeaderValue::from_static("public"))
}

/// Serves a JSON-LD document: `application/ld+json` when the request's `Accept` asks for it,
/// else `application/json`; 304 when `If-None-Match` matches.
pub fn respond(
    headers: &HeaderMap,
    body: String,
    max_age: u32,
    extra: &[(header::HeaderName, String)],
) -> Response {
    respond_ld(headers, body, max_age, extra, "application/ld+json", false)
}

/// Serves a JSON-LD document as `ld_type` (the JSON-LD media type, with any `profile`) when the
/// request's `Accept` names `application/ld+json`, or names no JSON type and `ld_by_default`
/// (3.0: JSON-LD unless plain JSON is asked for); else as `application/json`. 304 when
/// `If-None-Match` matches.
pub fn respond_ld(
    headers: &HeaderMap,
    body: String,
    max_age: u32,
    extra: &[(header::HeaderName, String)],
    ld_type: &'static str,
    ld_by_default: bool,
) -> Response {
    let tag = etag("j", &body);
    let accept: Vec<&str> = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    let names = |t: &str| accept.iter().any(|v| v.contains(t));
    let ld = names("application/ld+json") || (ld_by_default && !names("application/json"));
    let mut out = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(&tag) {
        out.insert(header::ETAG, v);
    }
    out.insert(header::CACHE_CONTROL, cache_control(max_age));
    out.insert(header::VARY, HeaderValue::from_static("Accept"));
    if not_modified(headers, &tag) {
        return (StatusCode::NOT_MODIFIED, out).into_response();
    }
    let ct = if ld { ld_type } else { "application/json" };
    out.insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    for (name, value) in extra {
        if let Ok(v) = HeaderValue::from_str(value) {
            out.insert(name.clone(), v);
        }
    }
    (out, body).into_response()
}
