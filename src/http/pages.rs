//! The collection browser's routes: `GET /` (what the server is, and a page of the grid, or
//! with `?q=` of search results), `GET /objects/{key}` (an object's page; `?image=N` chooses
//! the image the viewer opens) and `GET /static/{path}` (the pages' stylesheet and script,
//! and the installed OpenSeadragon). Each extracts its input, asks the store, the search
//! index and the access policy (the same as manifests', through [`visible_object`] and
//! [`canvas_images`]), and hands the facts to [`crate::browse::pages`].
//!
//! Only public objects are listed or found; a restricted object's page answers as its
//! manifest does. Thumbnails and the viewer show only the images the caller may see, and a
//! limited image never larger than its limit.

use super::image::private_if_keyed;
use super::json::{cache_control, etag, not_modified};
use super::presentation::{
    beyond, member, number_param, owner, read_object, reply, visible_object, with_lookup,
};
use super::query::{caller, param};
use super::{AppState, Error, Peer};
use crate::access::{Access, Caller};
use crate::browse::pages::{self, Card, ImageView, Listing, Site};
use crate::browse::{ViewerSource, PAGE_SIZE};
use crate::presentation::manifest::{canvas_images, CanvasImage};
use crate::presentation::store::ObjectKey;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// The Image API bases the pages use: 2.1 (as 2.1 manifests name it) and 3.0.
fn image_bases(st: &AppState, b: &super::base::Bases) -> (String, String) {
    let image2 = if st.config.image_api == crate::iiif::Version::V3 {
        format!("{}/2", b.image)
    } else {
        b.image.clone()
    };
    (image2, format!("{}/3", b.image))
}

fn view(c: &CanvasImage) -> ImageView {
    ImageView {
        identifier: c.identifier.clone(),
        caption: c.entry.caption.preferred().map(str::to_string),
        width: c.width,
        height: c.height,
        limited: match c.access {
            Access::Limited(side) => Some(side),
            _ => None,
        },
    }
}

/// The scheme and authority of an absolute URL (`https://host:port`), for the page's
/// Content-Security-Policy; `None` for a path on this server.
fn origin(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let end = url.len() - rest.len() + rest.find('/').unwrap_or(rest.len());
    Some(&url[..end])
}

/// A page's response: HTML, with an ETag (304 on a match), `Cache-Control`, and a
/// Content-Security-Policy that lets it load scripts only from this server and the viewer's
/// origin, and images and info.json only from this server and the Image API's.
fn html(st: &AppState, headers: &HeaderMap, who: Caller, image: &str, body: String) -> Response {
    let tag = etag("h", &body);
    let mut out = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(&tag) {
        out.insert(header::ETAG, v);
    }
    out.insert(
        header::CACHE_CONTROL,
        cache_control(st.config.cache_max_age),
    );
    let images = origin(image).unwrap_or("");
    let scripts = match &st.assets.viewer {
        ViewerSource::Remote { url, .. } => origin(url).unwrap_or(""),
        ViewerSource::Installed => "",
    };
    let csp = format!(
        "default-src 'none'; script-src 'self' {scripts}; style-src 'self' 'unsafe-inline'; \
         img-src 'self' {images} data: blob:; connect-src 'self' {images}; \
         base-uri 'none'; form-action 'self'; frame-ancestors 'self'"
    );
    if let Ok(v) = HeaderValue::from_str(&csp) {
        out.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    out.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    let mut resp = if not_modified(headers, &tag) {
        (StatusCode::NOT_MODIFIED, out).into_response()
    } else {
        out.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        (out, body).into_response()
    };
    private_if_keyed(&mut resp, who);
    resp
}

/// `GET /[?page=N][&q=QUERY]`.
pub async fn home(
    State(st): State<Arc<AppState>>,
    Peer(peer): Peer,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    reply(home_page(st, peer, uri, headers).await)
}

async fn home_page(
    st: Arc<AppState>,
    peer: Option<std::net::SocketAddr>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, Error> {
    let who = caller(&st.config.api_keys, &headers, uri.query())?;
    let page = number_param(uri.query(), "page")?.unwrap_or(1);
    let query = param(uri.query(), "q")
        .map(|q| q.trim().to_string())
        .filter(|q| !q.is_empty());
    let public = st.store.public_objects();
    let skip = (page - 1).saturating_mul(PAGE_SIZE);
    let (total, keys): (usize, Vec<ObjectKey>) = match &query {
        None => (
            public.len(),
            public.iter().skip(skip).take(PAGE_SIZE).copied().collect(),
        ),
        Some(q) => match st.store.search(q) {
            None => (0, Vec::new()),
            Some(found) => (
                found.count(),
                found
                    .page(skip, PAGE_SIZE)
                    .into_iter()
                    .filter_map(|i| public.get(i as usize).copied())
                    .collect(),
            ),
        },
    };
    let pages = total.div_ceil(PAGE_SIZE).max(1);
    if page > pages {
        return Err(beyond("page", page, pages));
    }
    let b = st.bases(&headers, peer);
    let st2 = st.clone();
    let body = tokio::task::spawn_blocking(move || {
        let (image2, image3) = image_bases(&st2, &b);
        let cards: Vec<Card> = keys
            .iter()
            .filter_map(|&key| card(&st2, &b, who, &image2, key))
            .collect();
        let site = Site {
            root: &b.root,
            image2: &image2,
            image3: &image3,
            owner: owner(&st2),
        };
        let listing = Listing {
            query: query.as_deref(),
            page,
            pages,
            total,
            cards: &cards,
        };
        (pages::home(&site, &listing), b.image)
    })
    .await
    .map_err(|e| Error::Internal(format!("worker failed: {e}")))?;
    Ok(html(&st, &headers, who, &body.1, body.0))
}

/// An object in the grid: its title, and the thumbnail of its first image the caller may
/// see (blocking: reads its record). A record that cannot be read is listed without one.
fn card(
    st: &AppState,
    b: &super::base::Bases,
    who: Caller,
    image2: &str,
    key: ObjectKey,
) -> Option<Card> {
    let (shown, title) = member(st, key)?;
    let thumbnail = read_object(st, key).ok().and_then(|record| {
        with_lookup(st, b, who, |ctx, lookup| {
            canvas_images(&record, ctx, lookup)
                .first()
                .map(|c| pages::thumbnail(image2, &view(c)))
        })
        .ok()
        .flatten()
    });
    Some(Card {
        key: shown,
        title,
        thumbnail,
    })
}

/// `GET /objects/{key}[?image=N]`: `{key}` as manifest URLs write it.
pub async fn object(
    State(st): State<Arc<AppState>>,
    Peer(peer): Peer,
    Path(oid): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    reply(object_page(st, peer, oid, uri, headers).await)
}

async fn object_page(
    st: Arc<AppState>,
    peer: Option<std::net::SocketAddr>,
    oid: String,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, Error> {
    let who = caller(&st.config.api_keys, &headers, uri.query())?;
    let (key, _) = visible_object(&st, &oid, who)?;
    let chosen = number_param(uri.query(), "image")?.unwrap_or(1);
    let b = st.bases(&headers, peer);
    let image = b.image.clone();
    let st2 = st.clone();
    let body = super::presentation::from_record(
        &st,
        b.clone(),
        key,
        who,
        move |record, shown, ctx, lookup| {
            let images: Vec<ImageView> = canvas_images(record, ctx, lookup)
                .iter()
                .map(view)
                .collect();
            if chosen > images.len().max(1) {
                return Err(beyond("image", chosen, images.len().max(1)));
            }
            let (image2, image3) = image_bases(&st2, &b);
            let site = Site {
                root: &b.root,
                image2: &image2,
                image3: &image3,
                owner: owner(&st2),
            };
            let viewer = st2.assets.viewer.script(&b.root);
            Ok(pages::object(
                &site,
                &viewer,
                shown,
                record,
                &images,
                chosen - 1,
            ))
        },
    )
    .await?;
    Ok(html(&st, &headers, who, &image, body))
}

/// `GET /static/{path}`: the pages' stylesheet and script, and the installed OpenSeadragon.
pub async fn asset(State(st): State<Arc<AppState>>, Path(path): Path<String>) -> Response {
    let Some(a) = st.assets.get(&path) else {
        let why = if path.starts_with(crate::browse::assets::OSD_PATH) {
            "OpenSeadragon is not installed here (scripts/setup-web.sh installs it)"
        } else {
            "no such file"
        };
        return Error::NotFound(format!("/static/{path}: {why}")).into_response();
    };
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(a.content_type),
            ),
            (
                header::CACHE_CONTROL,
                cache_control(st.config.cache_max_age),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        a.body.clone(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::origin;

    #[test]
    fn origins_of_urls() {
        assert_eq!(
            origin("https://cdn.x.net/npm/a.js"),
            Some("https://cdn.x.net")
        );
        assert_eq!(
            origin("http://127.0.0.1:8080"),
            Some("http://127.0.0.1:8080")
        );
        assert_eq!(origin("/osd/a.js"), None);
    }
}
