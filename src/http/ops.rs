//! For operators and load balancers: `/healthz` (the process serves), `/readyz` (the records
//! are loaded and the image source is readable), and `/metrics` (Prometheus; see
//! [`super::observe`]). Metrics answer loopback peers, or any caller that presents the
//! `metrics_token` as a bearer token (compared in constant time).

use super::AppState;
use super::Peer;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;
use std::sync::Arc;
use subtle::ConstantTimeEq;

const TEXT: &str = "text/plain; charset=utf-8";

/// `GET /healthz`: 200 while the process serves.
pub async fn healthz() -> Response {
    ([(header::CONTENT_TYPE, TEXT)], "ok\n").into_response()
}

/// `GET /readyz`: 200 when every records folder was read and the image source answers,
/// else 503 naming what is missing. The answer names no path and no error (an anonymous
/// caller may read it); the log has them.
pub async fn readyz(State(st): State<Arc<AppState>>) -> Response {
    let mut missing = Vec::new();
    if !st.records_missing.is_empty() {
        for folder in &st.records_missing {
            tracing::warn!(
                "not ready: records folder {} could not be read",
                folder.display()
            );
        }
        missing.push(format!(
            "{} records folder(s) could not be read",
            st.records_missing.len()
        ));
    }
    let storage = st.service.storage().clone();
    let checked = tokio::task::spawn_blocking(move || storage.check()).await;
    if let Some(why) = match checked {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(e),
        Err(e) => Some(format!("the check failed: {e}")),
    } {
        tracing::warn!("not ready: image source: {why}");
        missing.push("the image source is not readable".to_string());
    }
    if missing.is_empty() {
        return ([(header::CONTENT_TYPE, TEXT)], "ready\n").into_response();
    }
    let mut resp = (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::CONTENT_TYPE, TEXT)],
        format!("not ready: {} (details in the log)\n", missing.join("; ")),
    )
        .into_response();
    resp.headers_mut()
        .insert(header::RETRY_AFTER, header::HeaderValue::from_static("5"));
    resp
}

/// Whether a request may read the metrics.
fn may_scrape(token: Option<&str>, headers: &HeaderMap, peer: Option<SocketAddr>) -> bool {
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match (token, presented) {
        (Some(t), Some(p)) => bool::from(t.as_bytes().ct_eq(p.as_bytes())),
        (Some(_), None) => false,
        (None, _) => peer.is_some_and(|p| p.ip().is_loopback()),
    }
}

/// `GET /metrics`: the metrics in Prometheus' text format, or in OpenMetrics when `Accept`
/// asks for it (as Prometheus does).
pub async fn metrics(
    State(st): State<Arc<AppState>>,
    Peer(peer): Peer,
    headers: HeaderMap,
) -> Response {
    if !st.observe.metrics {
        return (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, TEXT)],
            "metrics are off\n",
        )
            .into_response();
    }
    let token = st.config.metrics_token.as_deref();
    if !may_scrape(token, &headers, peer) {
        let why = if token.is_some() {
            "metrics need the metrics token (Authorization: Bearer …)\n"
        } else {
            "metrics answer loopback callers only (or set metrics_token)\n"
        };
        return (StatusCode::FORBIDDEN, [(header::CONTENT_TYPE, TEXT)], why).into_response();
    }
    let open_metrics = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/openmetrics-text"));
    let (text, kind) = if open_metrics {
        (
            st.observe.encode(),
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )
    } else {
        (
            st.observe.encode_prometheus(),
            "text/plain; version=0.0.4; charset=utf-8",
        )
    };
    match text {
        Ok(text) => ([(header::CONTENT_TYPE, kind)], text).into_response(),
        Err(_) => super::Error::Internal("metrics could not be written".into()).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scraping_needs_the_token_or_loopback() {
        let local: SocketAddr = "127.0.0.1:9".parse().unwrap();
        let far: SocketAddr = "192.0.2.1:9".parse().unwrap();
        let mut bearer = HeaderMap::new();
        bearer.insert(
            header::AUTHORIZATION,
            "Bearer s3cret-token".parse().unwrap(),
        );
        let mut wrong = HeaderMap::new();
        wrong.insert(
            header::AUTHORIZATION,
            "Bearer s3cret-tokem".parse().unwrap(),
        );
        let none = HeaderMap::new();
        assert!(may_scrape(None, &none, Some(local)));
        assert!(!may_scrape(None, &none, Some(far)));
        assert!(!may_scrape(None, &none, None));
        assert!(
            !may_scrape(None, &bearer, Some(far)),
            "a token when none is set"
        );
        assert!(may_scrape(Some("s3cret-token"), &bearer, Some(far)));
        assert!(!may_scrape(Some("s3cret-token"), &wrong, Some(local)));
        assert!(!may_scrape(Some("s3cret-token"), &none, Some(local)));
    }
}
