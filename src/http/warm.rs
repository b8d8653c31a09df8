//! The warm path: image responses already made for anonymous requests, kept with every
//! header built (CORS included), by public base URI and request target. [`WarmLayer`] wraps
//! the routes, outside every other layer: a repeat request is one lookup, before any
//! middleware, parsing, planning or policy work. Entries live for
//! [`crate::cache::RESOLVE_TTL`], as long as an identifier's file is trusted, so a replaced
//! file, or a new rule for it, is seen within the same time as on the full path. Requests
//! that carry a key (`Authorization`, `apikey`) never use it.

use super::json::not_modified;
use super::AppState;
use axum::extract::{ConnectInfo, Request};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::future::{BoxFuture, Either, Ready};
use moka::sync::Cache;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::task::{Context, Poll};

/// Marks a response as one the warm path may keep: the image handler puts it in the
/// response's extensions, with the body, for anonymous requests.
#[derive(Debug, Clone)]
pub struct Candidate(pub Bytes);

/// A response ready to send again.
#[derive(Debug)]
pub struct Prepared {
    /// The request target it answers (checked on every hit, beside the key's hash).
    target: Box<str>,
    headers: HeaderMap,
    etag: HeaderValue,
    body: Bytes,
}

impl Prepared {
    /// A 200 response to `target` with these headers (which must hold its `ETag`) and body.
    fn new(target: &str, headers: HeaderMap, body: Bytes) -> Option<Prepared> {
        let etag = headers.get(header::ETAG)?.clone();
        Some(Prepared {
            target: target.into(),
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

/// The warm cache, bounded by bytes. Keys are a 128-bit XXH3, seeded afresh by each
/// process (so that nobody can compute colliding targets ahead), of exactly what the response
/// depends on: the request target and every input of the public base URI.
#[derive(Clone)]
pub struct Warm {
    cache: Cache<u128, Arc<Prepared>>,
    seed: u64,
    /// Hits and misses of requests that may use it.
    pub counts: Arc<crate::stats::Counts>,
}

impl Warm {
    /// A cache of at most `mb` MiB of bodies (0 turns it off).
    pub fn new(mb: u64) -> Warm {
        Warm {
            cache: Cache::builder()
                .max_capacity(mb * 1024)
                .weigher(|_, v: &Arc<Prepared>| {
                    let bytes = v.body.len() + v.target.len() + 512;
                    u32::try_from(bytes.div_ceil(1024)).unwrap_or(u32::MAX)
                })
                .time_to_live(crate::cache::RESOLVE_TTL)
                .build(),
            seed: crate::digest::random_seed(),
            counts: Default::default(),
        }
    }

    /// The response kept for this request, if any.
    fn get(&self, key: u128, target: &str) -> Option<Arc<Prepared>> {
        let hit = self.cache.get(&key).filter(|p| &*p.target == target);
        self.counts.record(hit.is_none());
        hit
    }

    /// Finishes moka's pending bookkeeping, so that [`Warm::size`] is current.
    pub fn settle(&self) {
        self.cache.run_pending_tasks();
    }

    /// (entries, bytes) held.
    pub fn size(&self) -> (u64, u64) {
        (self.cache.entry_count(), self.cache.weighted_size() * 1024)
    }
}

/// The key of an anonymous GET or HEAD below the Image API prefix: a hash of the request
/// target and of every input of the public base URI its headers were made for (see
/// [`super::base::bases`]). `None` for any other request, and for one that carries a key.
fn key(st: &AppState, req: &Request) -> Option<u128> {
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        return None;
    }
    let uri: &Uri = req.uri();
    let under = uri
        .path()
        .strip_prefix('/')
        .and_then(|p| p.strip_prefix(st.config.prefix.as_str()))
        .is_some_and(|rest| rest.starts_with('/'));
    let h = req.headers();
    if !under || h.contains_key(header::AUTHORIZATION) {
        return None;
    }
    if uri.query().is_some_and(|q| q.contains("apikey")) {
        return None;
    }
    let mut hash = xxhash_rust::xxh3::Xxh3::with_seed(st.warm.seed);
    let mut part = |bytes: &[u8]| {
        hash.update(&(bytes.len() as u64).to_le_bytes());
        hash.update(bytes);
    };
    part(uri.path_and_query()?.as_str().as_bytes());
    if st.config.public_base.is_none() {
        let peer = req
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(a)| *a);
        let trusted = st.trusts(peer);
        part(&[u8::from(trusted)]);
        let names: &[&str] = if trusted {
            &["host", "forwarded", "x-forwarded-proto", "x-forwarded-host"]
        } else {
            &["host"]
        };
        for name in names {
            for v in h.get_all(*name) {
                part(v.as_bytes());
            }
            part(b"\n");
        }
    }
    Some(hash.digest128())
}

/// The layer that answers from, and fills, the warm cache.
#[derive(Clone)]
pub struct WarmLayer(pub Arc<AppState>);

impl<S> tower::Layer<S> for WarmLayer {
    type Service = WarmService<S>;
    fn layer(&self, inner: S) -> WarmService<S> {
        WarmService {
            inner,
            state: self.0.clone(),
        }
    }
}

/// See [`WarmLayer`].
#[derive(Clone)]
pub struct WarmService<S> {
    inner: S,
    state: Arc<AppState>,
}

impl<S> tower::Service<Request> for WarmService<S>
where
    S: tower::Service<Request, Response = Response, Error = Infallible> + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Either<
        Ready<Result<Response, Infallible>>,
        BoxFuture<'static, Result<Response, Infallible>>,
    >;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let key = key(&self.state, &req);
        let target = || req.uri().path_and_query().map_or("", |p| p.as_str());
        if let Some(hit) = key.and_then(|k| self.state.warm.get(k, target())) {
            let mut resp = hit.respond(req.headers());
            resp.extensions_mut().insert(super::observe::FromCache);
            return Either::Left(futures_util::future::ready(Ok(resp)));
        }
        let state = self.state.clone();
        let asked = key.map(|_| target().to_string());
        let answer = self.inner.call(req);
        Either::Right(Box::pin(async move {
            let mut resp = answer.await?;
            let candidate = resp.extensions_mut().remove::<Candidate>();
            if let (Some(key), Some(asked), Some(Candidate(body))) = (key, asked, candidate) {
                if resp.status() == StatusCode::OK {
                    if let Some(p) = Prepared::new(&asked, resp.headers().clone(), body) {
                        state.warm.cache.insert(key, Arc::new(p));
                    }
                }
            }
            Ok(resp)
        }))
    }
}
