//! Presentation API 3.0 routes, beside the 2.1 ones (`presentation`, `colors`):
//!
//! - `/manifests/3/object/{key}` and its parts `/manifests/3/object/{key}/{canvas|page|annotation}/{name}`;
//! - `/collections/3/top`, `/collections/3/classification/{slug}[/{n}]` and
//!   `/collections/3/hue/{hue}[/{n}]` (see [`crate::presentation::collection3`] for the layout).
//!
//! The unversioned manifest and collection URLs answer 3.0 when the `Accept` header asks for
//! the 3.0 profile ([`wants_v3`]), with `Content-Location` naming the 3.0 URL (the document's
//! `id`); every answer has `Vary: Accept`. A 3.0 answer is
//! `application/ld+json;profile="…/presentation/3/context.json"` when the `Accept` header asks
//! for that profile, else typed as the 2.1 answers are (`application/ld+json` when asked for,
//! else `application/json`). Objects are found, refused and read exactly as for 2.1
//! ([`visible_object`], [`from_record`]).

use super::presentation::{
    answer, canonical_number, from_record, member, owner, reply, visible_object,
};
use super::query::caller;
use super::{AppState, Error, Peer};
use crate::access::Caller;
use crate::presentation::collection3::{
    collection, collection_ref, manifest_ref, own_label, part_count, part_label, parts, Head,
    PART_SIZE,
};
use crate::presentation::manifest3::{self, Link, CONTEXT, MEDIA_TYPE};
use crate::presentation::store::ObjectKey;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderName, Uri};
use axum::response::Response;
use std::net::SocketAddr;
use std::sync::Arc;

/// Whether the `Accept` header asks for JSON-LD with the Presentation 3.0 profile (and not
/// with `q=0`).
pub fn wants_v3(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|range| {
            let mut params = range.split(';').map(str::trim);
            if !params
                .next()
                .is_some_and(|m| m.eq_ignore_ascii_case("application/ld+json"))
            {
                return false;
            }
            let (mut profile, mut refused) = (false, false);
            for p in params {
                let Some((k, v)) = p.split_once('=') else {
                    continue;
                };
                let v = v.trim().trim_matches('"');
                match k.trim().to_ascii_lowercase().as_str() {
                    "profile" => profile |= v.split_whitespace().any(|p| p == CONTEXT),
                    "q" => refused = v.parse::<f32>().is_ok_and(|q| q <= 0.0),
                    _ => {}
                }
            }
            profile && !refused
        })
}

/// The headers a 3.0 answer adds: its media type when asked for, and where the document
/// lives when it answers an unversioned URL.
fn extra(headers: &HeaderMap, location: Option<String>) -> Vec<(HeaderName, String)> {
    let mut out = Vec::new();
    if wants_v3(headers) {
        out.push((header::CONTENT_TYPE, MEDIA_TYPE.to_string()));
    }
    if let Some(l) = location {
        out.push((header::CONTENT_LOCATION, l));
    }
    out
}

/// `GET /manifests/3/object/{key}`.
pub async fn manifest(
    State(st): State<Arc<AppState>>,
    Peer(peer): Peer,
    Path(oid): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    reply(document(st, peer, &oid, None, &uri, &headers, false).await)
}

/// `GET /manifests/3/object/{key}/{kind}/{name}`: a canvas, annotation page or annotation.
pub async fn part(
    State(st): State<Arc<AppState>>,
    Peer(peer): Peer,
    Path((oid, kind, name)): Path<(String, String, String)>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    reply(document(st, peer, &oid, Some((kind, name)), &uri, &headers, false).await)
}

/// `GET /manifests/object/{key}` when the `Accept` header asks for 3.0.
pub(super) async fn negotiated_manifest(
    st: Arc<AppState>,
    peer: Option<SocketAddr>,
    oid: String,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    reply(document(st, peer, &oid, None, &uri, &headers, true).await)
}

/// The collection a manifest is part of: its classification's, else (an object no
/// collection lists, seen with a privileged key) the top collection.
fn part_of(st: &AppState, root: &str, key: ObjectKey) -> Link {
    match st.store.classification_of(key) {
        Some(c) => Link {
            id: format!("{root}/collections/3/classification/{}", c.slug),
            label: format!("{}: {}", owner(st), c.name),
        },
        None => Link {
            id: format!("{root}/collections/3/top"),
            label: format!("{}: all objects", owner(st)),
        },
    }
}

async fn document(
    st: Arc<AppState>,
    peer: Option<SocketAddr>,
    oid: &str,
    part: Option<(String, String)>,
    uri: &Uri,
    headers: &HeaderMap,
    negotiated: bool,
) -> Result<Response, Error> {
    let who = caller(&st.config.api_keys, headers, uri.query())?;
    let (key, shown) = visible_object(&st, oid, who)?;
    let b = st.bases(headers, peer);
    let collection = part_of(&st, &b.root, key);
    let location = negotiated.then(|| {
        let ctx = context(&st, &b, who);
        manifest3::manifest_id(&ctx, &shown)
    });
    let body = from_record(
        &st,
        b,
        key,
        who,
        move |record, shown, ctx, lookup| match part {
            None => Ok(manifest3::manifest(
                record,
                shown,
                ctx,
                lookup,
                Some(&collection),
            )),
            Some((kind, name)) => manifest3::part(record, shown, ctx, lookup, &kind, &name)
                .ok_or_else(|| Error::NotFound(format!("object {shown} has no {kind} {name:?}"))),
        },
    )
    .await?;
    Ok(answer(&st, headers, &body, who, &extra(headers, location)))
}

/// Which collection a URL names.
enum Which {
    Top,
    Classification(String),
    Hue(String),
}

/// `GET /collections/3/top`.
pub async fn top(
    State(st): State<Arc<AppState>>,
    Peer(peer): Peer,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    reply(listing(&st, peer, Which::Top, None, &uri, &headers, false))
}

/// `GET /collections/3/classification/{slug}`: the classification's parts.
pub async fn classification(
    State(st): State<Arc<AppState>>,
    Peer(peer): Peer,
    Path(slug): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let which = Which::Classification(slug);
    reply(listing(&st, peer, which, None, &uri, &headers, false))
}

/// `GET /collections/3/classification/{slug}/{n}`: up to 100 of its manifests.
pub async fn classification_part(
    State(st): State<Arc<AppState>>,
    Peer(peer): Peer,
    Path((slug, n)): Path<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let which = Which::Classification(slug);
    reply(listing(&st, peer, which, Some(&n), &uri, &headers, false))
}

/// `GET /collections/3/hue/{hue}`: the hue's parts.
pub async fn hue(
    State(st): State<Arc<AppState>>,
    Peer(peer): Peer,
    Path(name): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    reply(listing(
        &st,
        peer,
        Which::Hue(name),
        None,
        &uri,
        &headers,
        false,
    ))
}

/// `GET /collections/3/hue/{hue}/{n}`: up to 100 of its manifests.
pub async fn hue_part(
    State(st): State<Arc<AppState>>,
    Peer(peer): Peer,
    Path((name, n)): Path<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let which = Which::Hue(name);
    reply(listing(&st, peer, which, Some(&n), &uri, &headers, false))
}

/// `GET /collections/top` or `/collections/classification/{slug}` when the `Accept` header
/// asks for 3.0 (`slug`: `None` for the top collection). A 2.1 `?page=` has no 3.0
/// counterpart: the answer is the whole 3.0 collection.
pub(super) fn negotiated_listing(
    st: &AppState,
    peer: Option<SocketAddr>,
    slug: Option<&str>,
    uri: &Uri,
    headers: &HeaderMap,
) -> Response {
    let which = match slug {
        None => Which::Top,
        Some(s) => Which::Classification(s.to_string()),
    };
    reply(listing(st, peer, which, None, uri, headers, true))
}

/// `GET /collections/hue/{hue}` when the `Accept` header asks for 3.0.
pub(super) async fn negotiated_hue(
    st: Arc<AppState>,
    peer: Option<SocketAddr>,
    name: String,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    reply(listing(
        &st,
        peer,
        Which::Hue(name),
        None,
        &uri,
        &headers,
        true,
    ))
}

fn listing(
    st: &AppState,
    peer: Option<SocketAddr>,
    which: Which,
    part: Option<&str>,
    uri: &Uri,
    headers: &HeaderMap,
    negotiated: bool,
) -> Result<Response, Error> {
    let who = caller(&st.config.api_keys, headers, uri.query())?;
    let b = st.bases(headers, peer);
    let root = b.root.as_str();
    let owner = owner(st);
    let top_id = format!("{root}/collections/3/top");
    let top_label = format!("{owner}: all objects");
    let hue_objects;
    // The collection's URI, label (and its plain form, for references to it), and objects.
    let (id, label, plain, objects): (String, _, String, &[ObjectKey]) = match &which {
        Which::Top => {
            let items = st
                .store
                .classifications()
                .iter()
                .map(|c| {
                    collection_ref(
                        &format!("{root}/collections/3/classification/{}", c.slug),
                        &format!("{owner}: {}", c.name),
                    )
                })
                .collect();
            let head = Head {
                id: &top_id,
                label: own_label(&top_label),
                part_of: None,
                provider: manifest3::provider(&context(st, &b, who), &top_id, None),
            };
            let location = negotiated.then(|| top_id.clone());
            return Ok(answer(
                st,
                headers,
                &collection(head, items),
                who,
                &extra(headers, location),
            ));
        }
        Which::Classification(slug) => {
            let c = st
                .store
                .classification(slug)
                .ok_or_else(|| Error::NotFound(format!("no classification {slug:?}")))?;
            let name = format!("{owner}: {}", c.name);
            (
                format!("{root}/collections/3/classification/{}", c.slug),
                manifest3::no_language(&name),
                name,
                c.objects.as_slice(),
            )
        }
        Which::Hue(name) => {
            let hue = super::colors::hue_named(name)?;
            hue_objects = st.hues.objects(hue);
            let text = format!("{owner}: objects in {}", hue.name().to_lowercase());
            (
                format!("{root}/collections/3/hue/{name}"),
                own_label(&text),
                text,
                hue_objects.as_slice(),
            )
        }
    };
    let total = objects.len();
    let ctx = context(st, &b, who);
    let doc = match part {
        None => collection(
            Head {
                id: &id,
                label,
                part_of: Some((&top_id, &top_label)),
                provider: manifest3::provider(&ctx, &id, None),
            },
            parts(&id, &plain, total),
        ),
        Some(n) => {
            let n = canonical_number(n)
                .and_then(|n| usize::try_from(n).ok())
                .filter(|&n| n >= 1 && n <= part_count(total))
                .ok_or_else(|| {
                    Error::NotFound(format!(
                        "no part {n:?}; this collection has parts 1 to {}",
                        part_count(total)
                    ))
                })?;
            let items = objects
                .iter()
                .skip((n - 1) * PART_SIZE)
                .take(PART_SIZE)
                .filter_map(|key| member(st, *key))
                .map(|(shown, label)| manifest_ref(&manifest3::manifest_id(&ctx, &shown), &label))
                .collect();
            let part_id = crate::presentation::collection3::part_id(&id, n);
            let label = part_label(&plain, n, total);
            collection(
                Head {
                    id: &part_id,
                    label: manifest3::no_language(&label),
                    part_of: Some((&id, &plain)),
                    provider: manifest3::provider(&ctx, &part_id, None),
                },
                items,
            )
        }
    };
    let location = negotiated.then(|| id.clone());
    let mut resp = answer(st, headers, &doc, who, &extra(headers, location));
    if matches!(which, Which::Hue(_)) {
        super::colors::while_growing(st, &mut resp);
    }
    Ok(resp)
}

/// The document context of a collection (no record: only the configured provider counts).
fn context<'a>(
    st: &'a AppState,
    b: &'a super::base::Bases,
    who: Caller,
) -> crate::presentation::manifest::Context<'a> {
    crate::presentation::manifest::Context {
        root: &b.root,
        image_base: &b.image,
        attribution: st.config.attribution.as_deref(),
        logo: st.config.logo.as_deref(),
        privileged: who == Caller::Privileged,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn accept(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(header::ACCEPT, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn only_the_3_0_profile_asks_for_3_0() {
        let p3 = r#"application/ld+json;profile="http://iiif.io/api/presentation/3/context.json""#;
        assert!(wants_v3(&accept(&[p3])));
        assert!(wants_v3(&accept(&[
            "application/json",
            r#"Application/LD+JSON; q=0.9; profile="http://iiif.io/api/presentation/3/context.json""#
        ])));
        assert!(wants_v3(&accept(&[&format!("text/html, {p3}")])));
        assert!(wants_v3(&accept(&[
            "application/ld+json;profile=http://iiif.io/api/presentation/3/context.json"
        ])));
        for no in [
            "application/ld+json",
            "application/json",
            "*/*",
            r#"application/ld+json;profile="http://iiif.io/api/presentation/2/context.json""#,
            r#"application/json;profile="http://iiif.io/api/presentation/3/context.json""#,
            r#"application/ld+json;profile="http://iiif.io/api/presentation/3/context.json";q=0"#,
        ] {
            assert!(!wants_v3(&accept(&[no])), "{no}");
        }
        assert!(!wants_v3(&HeaderMap::new()));
    }
}
