//! Presentation API 3.0 manifests (§5.2–§5.7) built from the same object model, and with the
//! same canvases, as the 2.1 ones in [`super::manifest`]: which images become canvases, their
//! dimensions and the size a limited image is served at all come from
//! [`canvas_images`] and [`served_size`], so that the two versions cannot disagree about access.
//!
//! Text becomes language maps (§4.4): `{"en": [...], "zh-hant": [...]}`, with the key `none`
//! where the record gives no language. `label`s are plain text (§4.5 allows markup only in
//! `summary` and in `metadata`/`requiredStatement` values, which are sanitised as in 2.1).
//!
//! Rights (§3.1 `rights`): a record's rights or copyright value becomes `rights` only when it
//! is a Creative Commons licence or public-domain URI or a RightsStatements.org statement. The
//! spec says the machine-actionable URIs of both are `http` ones (the `https` ones are the
//! human-readable pages), so `https` is written `http`, a Creative Commons `legalcode`/`deed`
//! page becomes its licence URI and a RightsStatements.org `page` its `vocab` URI. Any other
//! rights value is shown as a `Rights` metadata entry instead.
//!
//! A manifest must have at least one canvas (§3.4 `items`). An object with no image this
//! caller may see (none in the record, all restricted, or none with known dimensions) gets
//! one empty canvas labelled "No image available" (`canvas/empty`, 1000 × 1000, no
//! annotation pages), rather than a manifest that breaks that rule.

use super::html::{plain, sanitize};
use super::manifest::{
    canvas_images, is_uri, served_size, with_context, CanvasImage, Context, Lookup,
};
use super::model::{Object, Text};
use crate::iiif::path::{encode_identifier, encode_segment};
use serde_json::{json, Map, Value};

/// The JSON-LD context of the Presentation API 3.
pub const CONTEXT: &str = "http://iiif.io/api/presentation/3/context.json";

/// The media type of a Presentation 3.0 document, with its profile (§6.3).
pub const MEDIA_TYPE: &str =
    "application/ld+json;profile=\"http://iiif.io/api/presentation/3/context.json\"";

/// The name of the canvas of an object with no image to show.
pub const EMPTY: &str = "empty";

/// The side of the canvas of an object with no image to show.
const EMPTY_SIDE: u32 = 1000;

/// A reference to another 3.0 document (a collection a manifest is part of): URI and label.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    /// The URI.
    pub id: String,
    /// The label, plain text in no stated language.
    pub label: String,
}

/// The URI of an object's 3.0 manifest; `key` is the object's key as URLs write it (one path
/// segment, as in 2.1: not an image identifier).
pub fn manifest_id(ctx: &Context, key: &str) -> String {
    format!("{}/manifests/3/object/{}", ctx.root, encode_segment(key))
}

fn part_id(ctx: &Context, key: &str, kind: &str, name: &str) -> String {
    format!("{}/{kind}/{name}", manifest_id(ctx, key))
}

/// A text as a language map: values grouped by language in the record's order, `none` for
/// values in no stated language. With `html`, values are sanitised (markup allowed); without,
/// they are plain text. Blank values are left out.
pub fn language_map(text: &Text, html: bool) -> Value {
    let mut m = Map::new();
    for l in &text.0 {
        let v = if html {
            sanitize(l.value.trim())
        } else {
            plain(&l.value)
        };
        if v.is_empty() {
            continue;
        }
        let key = l.lang.as_deref().unwrap_or("none");
        match m.get_mut(key) {
            Some(Value::Array(list)) => list.push(v.into()),
            _ => {
                m.insert(key.to_string(), json!([v]));
            }
        }
    }
    Value::Object(m)
}

/// A language map of one value in English (the labels this server writes itself).
pub fn english(value: &str) -> Value {
    json!({ "en": [value] })
}

/// A language map of one plain-text value in no stated language (record values whose
/// language the store does not keep, such as titles in collection listings).
pub fn no_language(value: &str) -> Value {
    json!({ "none": [plain(value)] })
}

/// A rights value as the URI 3.0 allows in `rights`, when it is one (see the module notes).
pub fn rights_uri(value: &str) -> Option<String> {
    let v = value.trim();
    if !is_uri(v) {
        return None;
    }
    let rest = v
        .strip_prefix("https://")
        .or_else(|| v.strip_prefix("http://"))?;
    let (host, path) = rest.split_once('/')?;
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let host = host.to_ascii_lowercase();
    let path = match host.as_str() {
        "creativecommons.org" | "www.creativecommons.org"
            if path.starts_with("licenses/") || path.starts_with("publicdomain/") =>
        {
            // `licenses/by/4.0/legalcode` and `…/deed.fr` are pages about the licence.
            let mut segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
            if segments
                .last()
                .is_some_and(|s| s.starts_with("legalcode") || s.starts_with("deed"))
            {
                segments.pop();
            }
            if segments.len() < 2 {
                return None;
            }
            return Some(format!(
                "http://creativecommons.org/{}/",
                segments.join("/")
            ));
        }
        "rightsstatements.org" | "www.rightsstatements.org" => {
            let statement = path
                .strip_prefix("vocab/")
                .or_else(|| path.strip_prefix("page/"))?;
            let statement = statement.trim_end_matches('/');
            if statement.is_empty() {
                return None;
            }
            format!("http://rightsstatements.org/vocab/{statement}/")
        }
        _ => return None,
    };
    Some(path)
}

/// The record's `rights` for 3.0: its rights value, else a copyright value, that
/// [`rights_uri`] accepts.
pub fn rights(object: &Object) -> Option<String> {
    object
        .rights
        .iter()
        .map(String::as_str)
        .chain(object.copyright.0.iter().map(|l| l.value.as_str()))
        .find_map(rights_uri)
}

fn metadata(object: &Object) -> Vec<Value> {
    let mut out: Vec<Value> = object
        .metadata
        .iter()
        .map(|f| {
            let mut all = Text::default();
            for t in &f.values {
                all.0.extend(t.0.iter().cloned());
            }
            json!({"label": english(f.label), "value": language_map(&all, true)})
        })
        .collect();
    // A rights value that is not a URI `rights` may hold is still shown.
    if let Some(r) = object.rights.as_deref().map(str::trim) {
        let shown = object.metadata.iter().any(|f| f.label == "Rights");
        if !r.is_empty() && rights_uri(r).is_none() && !shown {
            out.push(json!({"label": english("Rights"), "value": language_map(&Text::one(None, r), true)}));
        }
    }
    out
}

/// The `requiredStatement`: the configured attribution, else the record's credit line.
fn required_statement(object: &Object, ctx: &Context) -> Option<Value> {
    let value = match ctx.attribution.map(str::trim).filter(|a| !a.is_empty()) {
        Some(a) => language_map(&Text::one(None, a), true),
        None if !object.credit.is_empty() => language_map(&object.credit, true),
        None => return None,
    };
    Some(json!({"label": english("Attribution"), "value": value}))
}

/// The media type of an image URL, by its extension.
fn image_format(url: &str) -> Option<&'static str> {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let ext = path.rsplit_once('.')?.1.to_ascii_lowercase();
    Some(match ext.as_str() {
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "gif" => "image/gif",
        "svg" => "image/svg+xml",
        "webp" => "image/webp",
        _ => return None,
    })
}

/// The `provider`: the server's operator, as the configured `attribution` (its label) and
/// `logo` name it; absent when neither is configured. The Agent is embedded in `document`,
/// so its id is `document#provider` (§3.2 `id` allows a fragment of the embedding resource's
/// URI). Its homepage is the site of the record's own page, when the record has one.
pub fn provider(ctx: &Context, document: &str, homepage: Option<&str>) -> Option<Value> {
    let name = ctx.attribution.map(str::trim).filter(|a| !a.is_empty());
    if name.is_none() && ctx.logo.is_none() {
        return None;
    }
    let host = ctx
        .root
        .split_once("://")
        .map_or(ctx.root, |(_, rest)| rest);
    let label = name.unwrap_or(host);
    let mut agent = Map::new();
    agent.insert("id".into(), format!("{document}#provider").into());
    agent.insert("type".into(), "Agent".into());
    agent.insert("label".into(), no_language(label));
    let site = homepage.filter(|u| is_uri(u)).and_then(|u| {
        let (scheme, rest) = u.split_once("://")?;
        let host = rest
            .split(['/', '?', '#'])
            .next()
            .filter(|h| !h.is_empty())?;
        Some(format!("{scheme}://{host}/"))
    });
    if let Some(site) = site {
        agent.insert(
            "homepage".into(),
            json!([{"id": site, "type": "Text", "label": no_language(label), "format": "text/html"}]),
        );
    }
    if let Some(logo) = ctx.logo {
        let mut l = Map::new();
        l.insert("id".into(), logo.into());
        l.insert("type".into(), "Image".into());
        if let Some(f) = image_format(logo) {
            l.insert("format".into(), f.into());
        }
        agent.insert("logo".into(), json!([l]));
    }
    Some(json!([agent]))
}

/// The image services of a canvas's image: Image API 3.0, and 2.1 for older viewers.
pub fn services(ctx: &Context, identifier: &str) -> Value {
    let id = encode_identifier(identifier);
    json!([
        {"id": format!("{}/3/{id}", ctx.image_base), "type": "ImageService3", "profile": "level2"},
        {
            "@id": format!("{}/2/{id}", ctx.image_base),
            "@type": "ImageService2",
            "profile": crate::iiif::LEVEL2,
        },
    ])
}

/// The URL of an Image API 3.0 image of a canvas's image at `size`.
fn image_url(ctx: &Context, identifier: &str, size: &str) -> String {
    format!(
        "{}/3/{}/full/{size}/0/default.jpg",
        ctx.image_base,
        encode_identifier(identifier)
    )
}

/// The painting annotation of a canvas: its body is the largest image this caller may
/// fetch (the whole image, or a limited image's reduction), with its services.
pub fn annotation(ctx: &Context, key: &str, c: &CanvasImage) -> Value {
    let (size, w, h) = served_size(c);
    let size = if size == "full" { "max".into() } else { size };
    json!({
        "id": part_id(ctx, key, "annotation", &c.name),
        "type": "Annotation",
        "motivation": "painting",
        "body": {
            "id": image_url(ctx, &c.identifier, &size),
            "type": "Image",
            "format": "image/jpeg",
            "width": w,
            "height": h,
            "service": services(ctx, &c.identifier),
        },
        "target": part_id(ctx, key, "canvas", &c.name),
    })
}

/// The annotation page of a canvas, holding its painting annotation.
pub fn page(ctx: &Context, key: &str, c: &CanvasImage) -> Value {
    json!({
        "id": part_id(ctx, key, "page", &c.name),
        "type": "AnnotationPage",
        "items": [annotation(ctx, key, c)],
    })
}

/// A canvas; `index` is its position among the canvases, which labels a canvas whose image
/// has no caption.
pub fn canvas(ctx: &Context, key: &str, index: usize, c: &CanvasImage) -> Value {
    // The caption, else (none, or nothing left of it as plain text) the canvas's number.
    let caption = language_map(&c.entry.caption, false);
    let label = if caption.as_object().is_some_and(|m| !m.is_empty()) {
        caption
    } else {
        json!({"none": [(index + 1).to_string()]})
    };
    json!({
        "id": part_id(ctx, key, "canvas", &c.name),
        "type": "Canvas",
        "label": label,
        "width": c.width,
        "height": c.height,
        "items": [page(ctx, key, c)],
    })
}

/// The canvas of an object with no image to show (see the module notes).
pub fn empty_canvas(ctx: &Context, key: &str) -> Value {
    json!({
        "id": part_id(ctx, key, "canvas", EMPTY),
        "type": "Canvas",
        "label": english("No image available"),
        "width": EMPTY_SIDE,
        "height": EMPTY_SIDE,
        "items": [],
    })
}

/// The object's label: its title, plain, never empty.
fn label(object: &Object) -> Value {
    let map = language_map(&object.label, false);
    if map.as_object().is_some_and(|m| !m.is_empty()) {
        map
    } else {
        no_language(&object.title())
    }
}

/// The full 3.0 manifest of an object; `key` is its key as URLs write it, `part_of` the
/// collection that lists it.
pub fn manifest(
    object: &Object,
    key: &str,
    ctx: &Context,
    lookup: &Lookup,
    part_of: Option<&Link>,
) -> Value {
    let id = manifest_id(ctx, key);
    let canvases = canvas_images(object, ctx, lookup);
    let homepage = object
        .homepage
        .as_deref()
        .map(str::trim)
        .filter(|u| is_uri(u));
    let mut m = Map::new();
    m.insert("@context".into(), CONTEXT.into());
    m.insert("id".into(), id.clone().into());
    m.insert("type".into(), "Manifest".into());
    m.insert("label".into(), label(object));
    let summary = language_map(&object.summary, true);
    if summary.as_object().is_some_and(|s| !s.is_empty()) {
        m.insert("summary".into(), summary);
    }
    m.insert("metadata".into(), metadata(object).into());
    if let Some(r) = required_statement(object, ctx) {
        m.insert("requiredStatement".into(), r);
    }
    if let Some(r) = rights(object) {
        m.insert("rights".into(), r.into());
    }
    if let Some(p) = provider(ctx, &id, homepage) {
        m.insert("provider".into(), p);
    }
    if let Some(url) = homepage {
        m.insert(
            "homepage".into(),
            json!([{"id": url, "type": "Text", "label": english("Full record view"), "format": "text/html"}]),
        );
    }
    if let Some(first) = canvases.first() {
        m.insert(
            "thumbnail".into(),
            json!([{
                "id": image_url(ctx, &first.identifier, "!200,200"),
                "type": "Image",
                "format": "image/jpeg",
                "service": services(ctx, &first.identifier),
            }]),
        );
    }
    if let Some(p) = part_of {
        m.insert(
            "partOf".into(),
            json!([{"id": p.id, "type": "Collection", "label": no_language(&p.label)}]),
        );
    }
    m.insert("behavior".into(), json!(["individuals"]));
    let items: Vec<Value> = if canvases.is_empty() {
        vec![empty_canvas(ctx, key)]
    } else {
        canvases
            .iter()
            .enumerate()
            .map(|(i, c)| canvas(ctx, key, i, c))
            .collect()
    };
    m.insert("items".into(), items.into());
    Value::Object(m)
}

/// One embedded resource of a manifest served on its own: `canvas/{name}`, `page/{name}` or
/// `annotation/{name}` (names as in the manifest), with the 3.0 `@context`; `None` when the
/// manifest has no such resource for this caller.
pub fn part(
    object: &Object,
    key: &str,
    ctx: &Context,
    lookup: &Lookup,
    kind: &str,
    name: &str,
) -> Option<Value> {
    let canvases = canvas_images(object, ctx, lookup);
    let found = match kind {
        "canvas" if canvases.is_empty() && name == EMPTY => Some(empty_canvas(ctx, key)),
        "canvas" => canvases
            .iter()
            .enumerate()
            .find(|(_, c)| c.name == name)
            .map(|(i, c)| canvas(ctx, key, i, c)),
        "page" => canvases
            .iter()
            .find(|c| c.name == name)
            .map(|c| page(ctx, key, c)),
        "annotation" => canvases
            .iter()
            .find(|c| c.name == name)
            .map(|c| annotation(ctx, key, c)),
        _ => None,
    }?;
    Some(standalone(found))
}

/// Adds the 3.0 `@context` to a resource served on its own (§4.6: first, and only on the
/// top-most resource).
pub fn standalone(v: Value) -> Value {
    with_context(CONTEXT, v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::presentation::manifest::fixtures::{ctx, harvard, record, LOOKUP};

    /// The first record of a published sample (`tests/fixtures/samples/`), as served.
    fn sample(file: &str) -> Object {
        let path = format!(
            "{}/tests/fixtures/samples/{file}",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(path).unwrap();
        let found = crate::presentation::shapes::split(&text, None).unwrap();
        let (shape, raw) = found[0].record.clone().unwrap();
        shape.read(raw, Default::default()).unwrap()
    }

    /// The fixtures' context without a logo: nothing configured names a provider.
    fn bare(privileged: bool) -> Context<'static> {
        Context {
            logo: None,
            ..ctx(privileged)
        }
    }

    /// A canvas's width and height, and its image's.
    fn sizes(canvas: &Value, image: &Value) -> (u64, u64, u64, u64) {
        let n = |v: &Value| v.as_u64().unwrap();
        (
            n(&canvas["width"]),
            n(&canvas["height"]),
            n(&image["width"]),
            n(&image["height"]),
        )
    }

    /// Every `id` in a document, with the type beside it.
    fn ids(v: &Value, out: &mut Vec<(String, String)>) {
        match v {
            Value::Object(m) => {
                if let (Some(Value::String(id)), Some(Value::String(t))) =
                    (m.get("id"), m.get("type"))
                {
                    out.push((id.clone(), t.clone()));
                }
                m.values().for_each(|v| ids(v, out));
            }
            Value::Array(a) => a.iter().for_each(|v| ids(v, out)),
            _ => {}
        }
    }

    #[test]
    fn manifest_shape() {
        let coll = Link {
            id: "https://h.org/collections/3/classification/vessels".into(),
            label: "Vessels".into(),
        };
        let m = manifest(&record(), "9", &ctx(false), &LOOKUP, Some(&coll));
        let keys: Vec<&str> = m.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys[..3], ["@context", "id", "type"]);
        assert_eq!(m["@context"], CONTEXT);
        assert_eq!(m["id"], "https://h.org/manifests/3/object/9");
        assert_eq!(m["type"], "Manifest");
        // Labels are plain text.
        assert_eq!(m["label"], json!({"en": ["Jar"]}));
        assert!(m.get("summary").is_none(), "the record has no description");
        assert_eq!(
            m["requiredStatement"],
            json!({"label": {"en": ["Attribution"]}, "value": {"en": ["Gift of A"]}})
        );
        assert_eq!(m["rights"], "http://rightsstatements.org/vocab/InC/1.0/");
        assert_eq!(
            m["homepage"][0],
            json!({"id": "https://m.org/9", "type": "Text",
                   "label": {"en": ["Full record view"]}, "format": "text/html"})
        );
        // The configured logo names a provider; the host names it, as nothing else does.
        assert_eq!(
            m["provider"],
            json!([{
                "id": "https://h.org/manifests/3/object/9#provider",
                "type": "Agent",
                "label": {"none": ["h.org"]},
                "homepage": [{"id": "https://m.org/", "type": "Text",
                              "label": {"none": ["h.org"]}, "format": "text/html"}],
                "logo": [{"id": "https://h.org/logo.png", "type": "Image", "format": "image/png"}],
            }])
        );
        let people = &m["metadata"][2];
        assert_eq!(
            people,
            &json!({"label": {"en": ["People"]},
                    "value": {"en": ["Artist: A, Greek, 1850-1920", "Maker: B"]}})
        );
        assert_eq!(m["partOf"][0]["id"], coll.id);
        assert_eq!(m["partOf"][0]["type"], "Collection");
        assert_eq!(m["behavior"], json!(["individuals"]));
        let date = &m["metadata"][0];
        assert_eq!(
            date,
            &json!({"label": {"en": ["Date"]}, "value": {"en": ["c. 1900"]}})
        );

        let items = m["items"].as_array().unwrap();
        // SECRET is restricted; MISSING has no dimensions anywhere.
        assert_eq!(items.len(), 2);
        let c0 = &items[0];
        assert_eq!(c0["id"], "https://h.org/manifests/3/object/9/canvas/1");
        assert_eq!(c0["label"], json!({"en": ["Front"]}));
        assert_eq!(
            (c0["width"].as_u64(), c0["height"].as_u64()),
            (Some(300), Some(200))
        );
        let page = &c0["items"][0];
        assert_eq!(page["type"], "AnnotationPage");
        assert_eq!(page["id"], "https://h.org/manifests/3/object/9/page/1");
        let anno = &page["items"][0];
        assert_eq!(
            anno["id"],
            "https://h.org/manifests/3/object/9/annotation/1"
        );
        assert_eq!(anno["motivation"], "painting");
        assert_eq!(anno["target"], c0["id"]);
        assert_eq!(
            anno["body"],
            json!({
                "id": "https://h.org/iiif/3/A/full/max/0/default.jpg",
                "type": "Image", "format": "image/jpeg", "width": 300, "height": 200,
                "service": [
                    {"id": "https://h.org/iiif/3/A", "type": "ImageService3", "profile": "level2"},
                    {"@id": "https://h.org/iiif/2/A", "@type": "ImageService2",
                     "profile": "http://iiif.io/api/image/2/level2.json"}
                ]
            })
        );
        // The limited image: a full-size canvas, painted with its 256 px reduction.
        let c1 = &items[1];
        assert_eq!(c1["label"], json!({"none": ["2"]}));
        assert_eq!(c1["width"], 1000);
        let body = &c1["items"][0]["items"][0]["body"];
        assert_eq!(
            body["id"],
            "https://h.org/iiif/3/urn-3:HUAM:B/full/!256,256/0/default.jpg"
        );
        assert_eq!(
            (body["width"].as_u64(), body["height"].as_u64()),
            (Some(256), Some(128))
        );
        assert_eq!(
            m["thumbnail"][0]["id"],
            "https://h.org/iiif/3/A/full/!200,200/0/default.jpg"
        );
        assert_eq!(m["thumbnail"][0]["service"][0]["type"], "ImageService3");
        // No @context below the top.
        assert_eq!(m.to_string().matches("@context").count(), 1);
    }

    #[test]
    fn the_same_canvases_as_2_1_for_every_caller() {
        for privileged in [false, true] {
            let c = ctx(privileged);
            let v2 = crate::presentation::manifest::manifest(&record(), "9", &c, &LOOKUP);
            let v3 = manifest(&record(), "9", &c, &LOOKUP, None);
            let dims2: Vec<_> = v2["sequences"][0]["canvases"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| sizes(c, &c["images"][0]["resource"]))
                .collect();
            let dims3: Vec<_> = v3["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| sizes(c, &c["items"][0]["items"][0]["body"]))
                .collect();
            assert_eq!(dims2, dims3, "privileged: {privileged}");
            assert_eq!(dims3.len(), if privileged { 3 } else { 2 });
        }
    }

    #[test]
    fn every_part_is_served_alone_under_its_id() {
        let c = ctx(false);
        let m = manifest(&record(), "9", &c, &LOOKUP, None);
        let mut found = Vec::new();
        ids(&m["items"], &mut found);
        let parts: Vec<&(String, String)> = found
            .iter()
            .filter(|(id, _)| id.starts_with("https://h.org/manifests/3/"))
            .collect();
        assert_eq!(parts.len(), 6, "{parts:?}");
        for (id, kind) in parts {
            let path = id
                .strip_prefix("https://h.org/manifests/3/object/9/")
                .unwrap();
            let (k, name) = path.split_once('/').unwrap();
            let alone = part(&record(), "9", &c, &LOOKUP, k, name).unwrap();
            assert_eq!(&alone["id"], id.as_str());
            assert_eq!(&alone["type"], kind.as_str());
            assert_eq!(alone["@context"], CONTEXT);
        }
        // A hidden image's parts are not served, nor unknown kinds.
        assert!(part(&record(), "9", &c, &LOOKUP, "canvas", "2").is_none());
        assert!(part(&record(), "9", &ctx(true), &LOOKUP, "canvas", "2").is_some());
        assert!(part(&record(), "9", &c, &LOOKUP, "sequence", "normal").is_none());
        assert!(part(&record(), "9", &c, &LOOKUP, "canvas", EMPTY).is_none());
        // A caption with nothing left as plain text leaves the canvas its number.
        let rec = harvard(
            r#"{"objectid": 9, "images": [{"baseimageurl": "https://x/A",
                "publiccaption": "<script>x</script>"}]}"#,
        );
        let m = manifest(&rec, "9", &c, &LOOKUP, None);
        assert_eq!(m["items"][0]["label"], json!({"none": ["1"]}));
    }

    #[test]
    fn objects_without_images_get_one_empty_canvas() {
        let rec = harvard(r#"{"objectid": 5, "title": ""}"#);
        let m = manifest(&rec, "5", &ctx(false), &LOOKUP, None);
        assert_eq!(m["label"], json!({"none": ["Object 5"]}));
        assert!(m.get("thumbnail").is_none());
        let items = m["items"].as_array().unwrap();
        assert_eq!(items.len(), 1);
        assert_eq!(
            items[0]["id"],
            "https://h.org/manifests/3/object/5/canvas/empty"
        );
        assert_eq!(items[0]["items"], json!([]));
        assert_eq!(items[0]["label"], json!({"en": ["No image available"]}));
        let alone = part(&rec, "5", &ctx(false), &LOOKUP, "canvas", EMPTY).unwrap();
        assert_eq!(alone["id"], items[0]["id"]);
        // Restricted images only: the same for an anonymous caller.
        let secret = harvard(
            r#"{"objectid": 6, "images": [{"baseimageurl": "https://x/SECRET", "width": 10, "height": 10}]}"#,
        );
        let m = manifest(&secret, "6", &ctx(false), &LOOKUP, None);
        assert_eq!(
            m["items"][0]["id"],
            "https://h.org/manifests/3/object/6/canvas/empty"
        );
        assert!(!m.to_string().contains("SECRET"));
        let m = manifest(&secret, "6", &ctx(true), &LOOKUP, None);
        assert_eq!(
            m["items"][0]["id"],
            "https://h.org/manifests/3/object/6/canvas/n1"
        );
    }

    #[test]
    fn language_maps_keep_every_language() {
        let mplus = sample("mplus-museum_tms-extract_single_DB_object.json");
        let m = manifest(&mplus, "mplus:23", &ctx(false), &LOOKUP, None);
        assert_eq!(
            m["label"],
            json!({"en": ["Flying onto a branch"], "zh-hant": ["飛上枝頭"]})
        );
        let area = m["metadata"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["label"] == json!({"en": ["Area"]}))
            .unwrap();
        let langs: Vec<&str> = area["value"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(langs, ["en", "zh-hant", "zh-hans"]);

        let paris = sample("paris-musees_graphql_nodeById-oeuvre-example.json");
        let m = manifest(&paris, "parismusees:226737", &ctx(false), &LOOKUP, None);
        assert_eq!(
            m["label"],
            json!({"fr": ["Soleil couchant sur la Seine à Lavacourt, effet d'hiver"]})
        );
        for f in m["metadata"].as_array().unwrap() {
            let keys: Vec<&String> = f["value"].as_object().unwrap().keys().collect();
            assert!(
                keys.iter().all(|k| *k == "fr" || *k == "none"),
                "{f}: Paris Musées records are French or untagged"
            );
        }
        assert_eq!(
            m["items"][0]["id"],
            format!("{}/canvas/empty", m["id"].as_str().unwrap())
        );

        // Summaries keep the markup 3.0 allows there, sanitised as in 2.1.
        let rec = harvard(r#"{"objectid": 1, "description": "A <i>jar</i><script>x</script>"}"#);
        let m = manifest(&rec, "1", &ctx(false), &LOOKUP, None);
        assert_eq!(m["summary"], json!({"en": ["<span>A <i>jar</i></span>"]}));

        // Several values: grouped by language, in order; blank ones dropped.
        let mut t = Text::one(Some("en"), "A");
        t.push(None, "untagged");
        t.0.push(crate::presentation::model::Lang {
            lang: Some("en".into()),
            value: "B".into(),
        });
        t.0.push(crate::presentation::model::Lang {
            lang: Some("fr".into()),
            value: "  ".into(),
        });
        assert_eq!(
            language_map(&t, false),
            json!({"en": ["A", "B"], "none": ["untagged"]})
        );
    }

    #[test]
    fn rights_only_when_3_0_allows_the_uri() {
        for (given, want) in [
            (
                "http://creativecommons.org/licenses/by/4.0/",
                Some("http://creativecommons.org/licenses/by/4.0/"),
            ),
            (
                "https://creativecommons.org/licenses/by-nc/3.0/legalcode",
                Some("http://creativecommons.org/licenses/by-nc/3.0/"),
            ),
            (
                "https://creativecommons.org/publicdomain/zero/1.0/deed.fr",
                Some("http://creativecommons.org/publicdomain/zero/1.0/"),
            ),
            (
                "http://rightsstatements.org/vocab/NKC/1.0/",
                Some("http://rightsstatements.org/vocab/NKC/1.0/"),
            ),
            (
                "https://rightsstatements.org/page/InC-EDU/1.0/?language=en",
                Some("http://rightsstatements.org/vocab/InC-EDU/1.0/"),
            ),
            ("https://www.apache.org/licenses/LICENSE-2.0", None),
            ("https://creativecommons.org/about/", None),
            ("http://creativecommons.org/licenses/", None),
            ("https://rightsstatements.org/en/", None),
            ("© Artist", None),
            ("http://creativecommons.org/licenses/by/4.0/ and more", None),
        ] {
            assert_eq!(rights_uri(given).as_deref(), want, "{given}");
        }
        // A URI 3.0 does not allow is shown as metadata instead; copyright text stays in its
        // own metadata entry, and a copyright URI that is allowed becomes `rights`.
        let rec = harvard(
            r#"{"objectid": 1, "rights": "https://www.apache.org/licenses/LICENSE-2.0",
                "copyright": "https://creativecommons.org/publicdomain/mark/1.0/"}"#,
        );
        let m = manifest(&rec, "1", &ctx(false), &LOOKUP, None);
        assert_eq!(
            m["rights"],
            "http://creativecommons.org/publicdomain/mark/1.0/"
        );
        let rights_entry = m["metadata"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["label"] == json!({"en": ["Rights"]}))
            .expect("the rights text is shown");
        assert_eq!(
            rights_entry["value"],
            json!({"none": ["https://www.apache.org/licenses/LICENSE-2.0"]})
        );
        let rec = harvard(r#"{"objectid": 2, "copyright": "© A"}"#);
        let m = manifest(&rec, "2", &ctx(false), &LOOKUP, None);
        assert!(m.get("rights").is_none());
    }

    #[test]
    fn provider_and_attribution_come_from_the_configuration() {
        let m = manifest(&record(), "9", &bare(false), &LOOKUP, None);
        assert!(m.get("provider").is_none(), "nothing configured names one");
        let c = Context {
            attribution: Some("Harvard Art Museums"),
            ..ctx(false)
        };
        let m = manifest(&record(), "9", &c, &LOOKUP, None);
        assert_eq!(
            m["requiredStatement"]["value"],
            json!({"none": ["Harvard Art Museums"]})
        );
        assert_eq!(
            m["provider"],
            json!([{
                "id": "https://h.org/manifests/3/object/9#provider",
                "type": "Agent",
                "label": {"none": ["Harvard Art Museums"]},
                "homepage": [{"id": "https://m.org/", "type": "Text",
                              "label": {"none": ["Harvard Art Museums"]}, "format": "text/html"}],
                "logo": [{"id": "https://h.org/logo.png", "type": "Image", "format": "image/png"}],
            }])
        );
        // A logo alone: the agent is named by the server's host.
        let c = Context {
            logo: Some("https://h.org/logo"),
            ..bare(false)
        };
        let p = provider(&c, "https://h.org/x", None).unwrap();
        assert_eq!(p[0]["label"], json!({"none": ["h.org"]}));
        assert!(p[0].get("homepage").is_none());
        assert!(p[0]["logo"][0].get("format").is_none());
    }
}
