//! Presentation API 2.1 routes: manifests (and their sequence, canvases and annotations, each
//! dereferenceable), and the paged top collection with one sub-collection per classification.
//! The unversioned manifest and collection URLs answer 3.0 instead when the `Accept` header
//! asks for it (see `presentation3`, which shares the object loading here).

use super::image::private_if_keyed;
use super::json::respond;
use super::query::{caller, param};
use super::{AppState, Error, Peer};
use crate::access::Caller;
use crate::presentation::collection::{self, page_count, Reference, PAGE_SIZE};
use crate::presentation::manifest::{self, canvas_images, standalone, Context, Lookup};
use crate::presentation::store::{Classification, ObjectKey};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use std::net::SocketAddr;
use std::sync::Arc;

pub(super) fn reply(r: Result<Response, Error>) -> Response {
    r.unwrap_or_else(|e| e.into_response())
}

/// `GET /manifests/object/{key}`: `{namespace}:{id}`, or a Harvard object's id alone.
pub async fn manifest(
    State(st): State<Arc<AppState>>,
    Peer(peer): Peer,
    Path(oid): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if super::presentation3::wants_v3(&headers) {
        return super::presentation3::negotiated_manifest(st, peer, oid, uri, headers).await;
    }
    reply(document(st, peer, &oid, None, &uri, &headers).await)
}

/// `GET /manifests/object/{objectid}/{kind}/{name}`: the sequence, a canvas or an annotation.
pub async fn part(
    State(st): State<Arc<AppState>>,
    Peer(peer): Peer,
    Path((oid, kind, name)): Path<(String, String, String)>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    reply(document(st, peer, &oid, Some((kind, name)), &uri, &headers).await)
}

async fn document(
    st: Arc<AppState>,
    peer: Option<SocketAddr>,
    oid: &str,
    part: Option<(String, String)>,
    uri: &Uri,
    headers: &HeaderMap,
) -> Result<Response, Error> {
    let who = caller(&st.config.api_keys, headers, uri.query())?;
    let (key, _) = visible_object(&st, oid, who)?;
    let mut b = st.bases(headers, peer);
    if st.config.image_api == crate::iiif::Version::V3 {
        // A 2.1 manifest names 2.1 image services: the unversioned ones are 3.0 here.
        b.image = format!("{}/2", b.image);
    }
    let body = from_record(&st, b, key, who, move |record, shown, ctx, lookup| {
        let Some((kind, name)) = part else {
            return Ok(manifest::manifest(record, shown, ctx, lookup));
        };
        let canvases = canvas_images(record, ctx, lookup);
        let found = match kind.as_str() {
            "sequence" if name == "normal" => Some(manifest::sequence(ctx, shown, &canvases)),
            "canvas" => canvases
                .iter()
                .enumerate()
                .find(|(_, c)| name.strip_prefix("canvas-") == Some(c.name.as_str()))
                .map(|(i, c)| manifest::canvas(ctx, shown, i, c)),
            "annotation" => canvases
                .iter()
                .find(|c| name.strip_prefix("anno-") == Some(c.name.as_str()))
                .map(|c| manifest::annotation(ctx, shown, c)),
            _ => None,
        };
        found
            .map(standalone)
            .ok_or_else(|| Error::NotFound(format!("object {shown} has no {kind} {name:?}")))
    })
    .await?;
    Ok(answer(&st, headers, &body, who, &[]))
}

/// The object a manifest URL names, with its key as URLs write it, if this caller may see
/// it: a restricted object is refused (or not found, as configured) unless the caller is
/// privileged. Every version's manifests and their parts are found this way.
pub(super) fn visible_object(
    st: &AppState,
    oid: &str,
    who: Caller,
) -> Result<(ObjectKey, String), Error> {
    let not_found = || Error::NotFound(format!("no object {oid:?}"));
    let key = st.store.find(oid).ok_or_else(not_found)?;
    let entry = st.store.entry(key).ok_or_else(not_found)?;
    let shown = st.store.key_text(key);
    if entry.restricted && who != Caller::Privileged {
        return Err(st.refuse(who, &format!("object {shown}"), not_found()));
    }
    Ok((key, shown))
}

/// Reads an object's record on a worker thread and builds a document from it with `build`,
/// given the record, the object's key as URLs write it, and this caller's context and image
/// lookup: the same for every version, so that access rules cannot drift between them.
pub(super) async fn from_record<F, T>(
    st: &Arc<AppState>,
    b: super::base::Bases,
    key: ObjectKey,
    who: Caller,
    build: F,
) -> Result<T, Error>
where
    F: FnOnce(&crate::presentation::Object, &str, &Context, &Lookup) -> Result<T, Error>
        + Send
        + 'static,
    T: Send + 'static,
{
    let st2 = st.clone();
    tokio::task::spawn_blocking(move || -> Result<T, Error> {
        let shown = st2.store.key_text(key);
        let record = read_object(&st2, key)?;
        with_lookup(&st2, &b, who, |ctx, lookup| {
            build(&record, &shown, ctx, lookup)
        })?
    })
    .await
    .map_err(|e| Error::Internal(format!("worker failed: {e}")))?
}

/// Reads an object's record into the model (blocking). A record that loading read but the
/// full reader refuses (over a field its summary does not use) gives the object its summary
/// holds, logged with why; one that cannot be read at all is a 500 that names the object.
pub(super) fn read_object(
    st: &AppState,
    key: ObjectKey,
) -> Result<crate::presentation::Object, Error> {
    let shown = st.store.key_text(key);
    let read = st
        .store
        .object(key)
        .ok_or_else(|| Error::NotFound(format!("no object {shown}")))?;
    read.or_else(|e| match st.store.summary_of(key) {
        Some(Ok(summary)) => {
            tracing::warn!(object = %shown, error = %e, "record read in part: its documents give what the index keeps");
            Ok(summary.object())
        }
        _ => {
            tracing::error!(object = %shown, error = %e, "record cannot be read");
            Err(Error::Internal(format!(
                "record of object {shown} cannot be read"
            )))
        }
    })
}

/// Calls `f` with this caller's document context and image lookup (access by the policy,
/// dimensions from the image service; blocking), for image service base `b.image`. When the
/// image store failed meanwhile, what `f` made lacks images: the store's error instead (a
/// document must not be served, and cached downstream, without them).
pub(super) fn with_lookup<R>(
    st: &AppState,
    b: &super::base::Bases,
    who: Caller,
    f: impl FnOnce(&Context, &Lookup) -> R,
) -> Result<R, Error> {
    let ctx = Context {
        root: &b.root,
        image_base: &b.image,
        attribution: st.config.attribution.as_deref(),
        logo: st.config.logo.as_deref(),
        privileged: who == Caller::Privileged,
    };
    let access = |id: &str| st.service.policy().decide_identifier(who, id);
    let fault = std::cell::RefCell::new(None);
    let dims = |id: &str| {
        st.service.dimensions(id).unwrap_or_else(|e| {
            fault.borrow_mut().get_or_insert(e);
            None
        })
    };
    let lookup = Lookup {
        access: &access,
        dims: &dims,
    };
    let made = f(&ctx, &lookup);
    match fault.into_inner() {
        None => Ok(made),
        Some(e) => Err(Error::from_source(
            crate::source::SourceError::Storage(e),
            "of the document",
        )),
    }
}

/// A Presentation document's response: JSON by `Accept`, with an ETag (304 on a match),
/// `Vary: Accept`, and private to the caller when a key was presented; `extra` headers last.
pub(super) fn answer(
    st: &AppState,
    headers: &HeaderMap,
    body: &Value,
    who: Caller,
    extra: &[(axum::http::HeaderName, String)],
) -> Response {
    let mut resp = respond(headers, body.to_string(), st.config.cache_max_age, extra);
    private_if_keyed(&mut resp, who);
    resp
}

/// The owner named in collection labels: the configured attribution, else "Tessera".
pub(super) fn owner(st: &AppState) -> &str {
    st.config.attribution.as_deref().unwrap_or("Tessera")
}

/// How collections list an object: its key as URLs write it, and its title (never empty).
pub(super) fn member(st: &AppState, key: ObjectKey) -> Option<(String, String)> {
    let shown = st.store.key_text(key);
    let e = st.store.entry(key)?;
    let label = if e.title.is_empty() {
        format!("Object {shown}")
    } else {
        e.title.to_string()
    };
    Some((shown, label))
}

/// A number written canonically (digits only, no sign, no leading zero), so that one
/// document has one URL and its `@id` is always the URL it was fetched from.
pub(super) fn canonical_number(s: &str) -> Option<u64> {
    let canonical =
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
    canonical.then(|| s.parse().ok()).flatten()
}

/// The query parameter `name` as a whole number from 1 written canonically, if present; any
/// other value is a 400.
pub(super) fn number_param(query: Option<&str>, name: &str) -> Result<Option<usize>, Error> {
    let Some(p) = param(query, name) else {
        return Ok(None);
    };
    canonical_number(&p)
        .and_then(|n| usize::try_from(n).ok())
        .filter(|&n| n >= 1)
        .map(Some)
        .ok_or_else(|| {
            Error::BadRequest(format!("{name} must be a whole number from 1, not {p:?}"))
        })
}

/// The 404 of a page (or image) number `n` beyond the last, `last`.
pub(super) fn beyond(what: &str, n: usize, last: usize) -> Error {
    Error::NotFound(format!("{what} {n} is beyond the last {what}, {last}"))
}

/// `GET /collections/top[?page=N]`.
pub async fn top(
    State(st): State<Arc<AppState>>,
    Peer(peer): Peer,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if super::presentation3::wants_v3(&headers) {
        return super::presentation3::negotiated_listing(&st, peer, None, &uri, &headers);
    }
    reply(listing(&st, peer, None, &uri, &headers))
}

/// `GET /collections/classification/{slug}[?page=N]`.
pub async fn classification(
    State(st): State<Arc<AppState>>,
    Peer(peer): Peer,
    Path(slug): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if super::presentation3::wants_v3(&headers) {
        return super::presentation3::negotiated_listing(&st, peer, Some(&slug), &uri, &headers);
    }
    reply(listing(&st, peer, Some(&slug), &uri, &headers))
}

fn listing(
    st: &AppState,
    peer: Option<SocketAddr>,
    slug: Option<&str>,
    uri: &Uri,
    headers: &HeaderMap,
) -> Result<Response, Error> {
    let who = caller(&st.config.api_keys, headers, uri.query())?;
    let b = st.bases(headers, peer);
    let top_id = format!("{}/collections/top", b.root);
    let owner = owner(st);
    #[allow(clippy::type_complexity)]
    let (id, label, objects, within, subs): (
        String,
        String,
        &[ObjectKey],
        Option<&str>,
        Vec<Reference>,
    ) = match slug {
        None => {
            let subs = st
                .store
                .classifications()
                .iter()
                .map(|c: &Classification| Reference {
                    id: format!("{}/collections/classification/{}", b.root, c.slug),
                    label: c.name.clone(),
                })
                .collect();
            (
                top_id.clone(),
                format!("{owner}: all objects"),
                st.store.public_objects(),
                None,
                subs,
            )
        }
        Some(slug) => {
            let c = st
                .store
                .classification(slug)
                .ok_or_else(|| Error::NotFound(format!("no classification {slug:?}")))?;
            (
                format!("{}/collections/classification/{}", b.root, c.slug),
                format!("{owner}: {}", c.name),
                &c.objects,
                Some(top_id.as_str()),
                Vec::new(),
            )
        }
    };
    let doc = collection_doc(st, &b.root, (&id, &label, within), &subs, objects, uri)?;
    Ok(answer(st, headers, &doc, who, &[]))
}

/// A paged collection of objects: its index, or with `?page=N` one page of manifests.
pub(super) fn collection_doc(
    st: &AppState,
    root: &str,
    (id, label, within): (&str, &str, Option<&str>),
    subs: &[Reference],
    objects: &[ObjectKey],
    uri: &Uri,
) -> Result<Value, Error> {
    let total = objects.len();
    let Some(n) = number_param(uri.query(), "page")? else {
        return Ok(collection::index(id, label, within, subs, total));
    };
    if n > page_count(total) {
        return Err(beyond("page", n, page_count(total)));
    }
    let members: Vec<Reference> = objects
        .iter()
        .skip((n - 1) * PAGE_SIZE)
        .take(PAGE_SIZE)
        .filter_map(|key| {
            member(st, *key).map(|(shown, label)| Reference {
                id: format!(
                    "{root}/manifests/object/{}",
                    crate::iiif::path::encode_segment(&shown)
                ),
                label,
            })
        })
        .collect();
    Ok(collection::page(id, label, n, total, &members))
}
