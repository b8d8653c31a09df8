//! Colours, for web teams and people browsing: `GET /images/{identifier}` answers a
//! Harvard-shaped image record with its extracted `colors`, and
//! `GET /collections/hue/{hue}` lists the objects whose first image has at least 20% of a
//! hue (in Presentation 3.0 `/collections/3/hue/{hue}`, served by `presentation3`). Colours
//! come from the image service (once per source version) or from a colours file made by
//! `tessera thumbnails --colors`; a background job extracts the first images' colours for the
//! hue collections.

use super::image::private_if_keyed;
use super::json::respond;
use super::query::caller;
use super::{AppState, Error, Peer};
use crate::access::{Access, Caller};
use crate::colors::{Colour, Hue};
use crate::iiif::path::encode_identifier;
use crate::service::{ServiceError, Target};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};
use std::sync::{Arc, Weak};

/// An image's colours for a caller: from the colours file when it has them, else extracted.
fn colors_of(st: &AppState, t: Target) -> Result<Arc<Vec<Colour>>, ServiceError> {
    if let Some(c) = st.colors_file.get(t.asked) {
        // The file says nothing of access: ask the policy as a render would.
        if st.service.policy().decide_identifier(t.caller, t.asked) == Access::Restricted {
            return Err(ServiceError::Restricted(t.asked.to_string()));
        }
        return Ok(c.clone());
    }
    st.service.colors(t, &st.palette)
}

/// `GET /images/{identifier}`: the image record. The identifier may also be a museum image
/// id (Harvard's `imageid`) that a record lists.
pub async fn image_record(
    State(st): State<Arc<AppState>>,
    Peer(peer): Peer,
    Path(asked): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let result = async {
        let who = caller(&st.config.api_keys, &headers, uri.query())?;
        let b = st.bases(&headers, peer);
        let st2 = st.clone();
        let doc = tokio::task::spawn_blocking(move || record(&st2, &asked, who, &b.image))
            .await
            .map_err(|e| Error::Internal(format!("worker failed: {e}")))??;
        let mut resp = respond(&headers, doc.to_string(), st.config.cache_max_age, &[]);
        private_if_keyed(&mut resp, who);
        Ok::<Response, Error>(resp)
    };
    result.await.unwrap_or_else(|e| e.into_response())
}

fn record(st: &AppState, asked: &str, who: Caller, image_base: &str) -> Result<Value, Error> {
    let listed = asked
        .parse::<u64>()
        .ok()
        .filter(|n| n.to_string() == asked)
        .and_then(|n| st.store.image_by_id(n));
    let identifier = match &listed {
        Some((_, image)) => image.identifier.clone().unwrap_or_else(|| asked.into()),
        None => asked.to_string(),
    };
    let target = Target {
        asked: &identifier,
        caller: who,
    };
    // Answers name the image as the caller spelled it: an image id must not give away the
    // identifier it stands for.
    let not_found = || Error::NotFound(ServiceError::NotFound(asked.to_string()).to_string());
    let failed = |e: ServiceError| match e {
        ServiceError::Restricted(_) => st.refuse(who, &format!("image {asked:?}"), not_found()),
        ServiceError::NotFound(_) => not_found(),
        e => Error::from(e),
    };
    let info = st.service.info(target).map_err(failed)?;
    let colors = colors_of(st, target).map_err(failed)?;
    let mut m = Map::new();
    let image = listed.as_ref().map(|(_, i)| i);
    match image.and_then(|i| i.imageid) {
        Some(n) => {
            m.insert("id".into(), n.into());
            m.insert("imageid".into(), n.into());
        }
        None => {
            m.insert("id".into(), identifier.clone().into());
        }
    }
    m.insert("identifier".into(), identifier.clone().into());
    m.insert(
        "baseimageurl".into(),
        format!("{image_base}/{}", encode_identifier(&identifier)).into(),
    );
    if let Some(r) = image.and_then(|i| i.alias.clone()) {
        m.insert("renditionnumber".into(), r.into());
    }
    m.insert("width".into(), info.dims.width.into());
    m.insert("height".into(), info.dims.height.into());
    let format = image
        .and_then(|i| i.format.clone())
        .or_else(|| media_type(&identifier, st));
    if let Some(f) = format {
        m.insert("format".into(), f.into());
    }
    if let Some(c) = image.and_then(|i| i.copyright.clone()) {
        m.insert("copyright".into(), c.into());
    }
    // Harvard's levels, as the public sees the image: 0 restricted (only a privileged caller
    // gets this far), 1 public; a limited image is public at most `maxsize` px, as its
    // info.json says with `maxWidth`.
    let public = st
        .service
        .policy()
        .decide_identifier(Caller::Anonymous, &identifier);
    let level = u8::from(public != Access::Restricted);
    m.insert("accesslevel".into(), level.into());
    if let Access::Limited(side) = public {
        m.insert("maxsize".into(), side.into());
    }
    m.insert(
        "colors".into(),
        serde_json::to_value(&*colors).unwrap_or_default(),
    );
    Ok(Value::Object(m))
}

/// The media type of the file an identifier resolves to, by its extension.
fn media_type(identifier: &str, st: &AppState) -> Option<String> {
    let file = st.service.storage().resolve(identifier).ok()?;
    let ext = file.key.rsplit('.').next()?.to_ascii_lowercase();
    Some(
        match ext.as_str() {
            "jpg" | "jpeg" => "image/jpeg",
            "png" => "image/png",
            "tif" | "tiff" => "image/tiff",
            "jp2" | "j2k" => "image/jp2",
            _ => return None,
        }
        .into(),
    )
}

/// `GET /collections/hue/{hue}[?page=N]`: the public objects whose first image has at least
/// 20% of the hue, as far as their colours are known, paged like every collection.
pub async fn hue(
    State(st): State<Arc<AppState>>,
    Peer(peer): Peer,
    Path(name): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if super::presentation3::wants_v3(&headers) {
        return super::presentation3::negotiated_hue(st, peer, name, uri, headers).await;
    }
    let result = (|| {
        let who = caller(&st.config.api_keys, &headers, uri.query())?;
        let hue = hue_named(&name)?;
        let b = st.bases(&headers, peer);
        let id = format!("{}/collections/hue/{name}", b.root);
        let label = format!(
            "{}: objects in {}",
            st.config.attribution.as_deref().unwrap_or("Tessera"),
            hue.name().to_lowercase()
        );
        let objects = st.hues.objects(hue);
        let top = format!("{}/collections/top", b.root);
        let doc = super::presentation::collection_doc(
            &st,
            &b.root,
            (&id, &label, Some(&top)),
            &[],
            &objects,
            &uri,
        )?;
        let mut resp = respond(&headers, doc.to_string(), st.config.cache_max_age, &[]);
        while_growing(&st, &mut resp);
        private_if_keyed(&mut resp, who);
        Ok(resp)
    })();
    result.unwrap_or_else(|e: Error| e.into_response())
}

/// The hue a URL names: its name in lower case, as the hue collections' URLs write it.
pub(super) fn hue_named(name: &str) -> Result<Hue, Error> {
    Hue::parse(name)
        .filter(|h| h.name().eq_ignore_ascii_case(name) && name == name.to_lowercase())
        .ok_or_else(|| {
            let names: Vec<String> = Hue::ALL.iter().map(|h| h.name().to_lowercase()).collect();
            Error::NotFound(format!("no hue {name:?}; hues are {}", names.join(", ")))
        })
}

/// Marks a hue collection's response `no-cache` while colours are still being learnt: its
/// list grows until then.
pub(super) fn while_growing(st: &AppState, resp: &mut Response) {
    if st.hues.known() < st.store.public_objects().len() {
        resp.headers_mut().insert(
            axum::http::header::CACHE_CONTROL,
            axum::http::HeaderValue::from_static("no-cache"),
        );
    }
}

/// Starts the job that learns every public object's first-image colours for the hue
/// collections, on one background thread that stops when the server's state is gone and
/// renders only in a free worker slot.
/// Objects whose image the colours file covers are added at once.
pub fn start(state: &Arc<AppState>) {
    let weak: Weak<AppState> = Arc::downgrade(state);
    let spawned = std::thread::Builder::new()
        .name("tessera-colors".into())
        .spawn(move || {
            let keys = match weak.upgrade() {
                Some(st) => st.store.public_objects().to_vec(),
                None => return,
            };
            let mut extracted = 0usize;
            for key in keys {
                let Some(st) = weak.upgrade() else {
                    return;
                };
                let Some(id) = st.store.first_identifier(key) else {
                    st.hues.add(key, &[]);
                    continue;
                };
                let target = Target {
                    asked: &id,
                    caller: Caller::Anonymous,
                };
                // One worker slot per image, taken only when one is free: requests never
                // wait behind this job for more than one image.
                let _slot = loop {
                    match st.workers.clone().try_acquire_owned() {
                        Ok(permit) => break permit,
                        Err(_) => std::thread::sleep(std::time::Duration::from_millis(50)),
                    }
                };
                match colors_of(&st, target) {
                    Ok(c) => {
                        extracted += 1;
                        st.hues.add(key, &c);
                    }
                    Err(e) => {
                        tracing::debug!(identifier = %id, "no colours: {e}");
                        st.hues.add(key, &[]);
                    }
                }
            }
            tracing::info!(images = extracted, "colours of first images known");
        });
    if let Err(e) = spawned {
        tracing::warn!("the colours job could not start: {e}");
    }
}
