//! Manifest, Sequence, Canvas and painting Annotation (Presentation 2.1 §5.3–§5.6) built from
//! an object of the model, shaped as Harvard's manifest server makes them. Text in one
//! language, English or unknown, is a plain string (as Harvard's are); other text is a list of
//! `{"@value", "@language"}` values (§4.2), so that viewers pick the reader's language.

use super::html::sanitize;
use super::model::{Image, Object, Text};
use super::CONTEXT;
use crate::access::Access;
use crate::iiif::geometry::{full_rect, resolve_size, Limits};
use crate::iiif::path::{encode_identifier, encode_segment};
use crate::iiif::{Dimensions, Size, LEVEL2};
use serde_json::{json, Map, Value};

/// Where documents live and what the caller may see.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// Scheme, host and path of the server root, e.g. `https://iiif.example.org`.
    pub root: &'a str,
    /// Base URI of the Image API, e.g. `https://iiif.example.org/iiif`.
    pub image_base: &'a str,
    /// `attribution`; when absent the record's credit line is used.
    pub attribution: Option<&'a str>,
    /// A logo image URL, when configured.
    pub logo: Option<&'a str>,
    /// The caller holds a privileged key: restricted images are included, in full.
    pub privileged: bool,
}

/// What the server knows of images beyond their records.
pub struct Lookup<'a> {
    /// The access rule of an identifier for unprivileged callers.
    pub access: &'a dyn Fn(&str) -> Access,
    /// The real image's dimensions, when the file exists (asked only when a record lacks them).
    pub dims: &'a dyn Fn(&str) -> Option<Dimensions>,
}

/// An image of the record that becomes a canvas.
#[derive(Debug, Clone)]
pub struct CanvasImage<'r> {
    /// The object's image.
    pub entry: &'r Image,
    /// The local image identifier.
    pub identifier: String,
    /// The canvas name: the image id, or its position.
    pub name: String,
    /// Canvas width.
    pub width: u32,
    /// Canvas height.
    pub height: u32,
    /// The access that applies to this caller (privileged callers get `Public`).
    pub access: Access,
}

/// The URI of an object's manifest; `key` is the object's key as URLs write it.
pub fn manifest_id(ctx: &Context, key: &str) -> String {
    format!("{}/manifests/object/{}", ctx.root, encode_segment(key))
}

/// A text as a Presentation 2.1 value: a plain string when it is one value in English or
/// in no stated language, else a list of language-tagged values. Values are sanitised.
pub fn value(text: &Text) -> Value {
    match text.0.as_slice() {
        [one] if matches!(one.lang.as_deref(), None | Some("en")) => sanitize(&one.value).into(),
        many => many
            .iter()
            .map(|l| match &l.lang {
                Some(lang) => json!({"@value": sanitize(&l.value), "@language": lang}),
                None => sanitize(&l.value).into(),
            })
            .collect::<Vec<_>>()
            .into(),
    }
}

/// The images that become canvases, in `displayorder`: restricted ones are left out for
/// unprivileged callers, and ones without dimensions (neither in the record nor on disk) are
/// left out for everyone.
pub fn canvas_images<'r>(
    object: &'r Object,
    ctx: &Context,
    lookup: &Lookup,
) -> Vec<CanvasImage<'r>> {
    let mut out = Vec::new();
    for entry in &object.images {
        let Some(identifier) = entry.identifier.clone() else {
            continue;
        };
        let access = if ctx.privileged {
            Access::Public
        } else {
            (lookup.access)(&identifier)
        };
        if access == Access::Restricted {
            continue;
        }
        let (width, height) = match (entry.width, entry.height) {
            (Some(w), Some(h)) if w > 0 && h > 0 => (w, h),
            _ => match (lookup.dims)(&identifier) {
                Some(d) => (d.width, d.height),
                None => continue,
            },
        };
        // Numbered among the canvases this caller sees, so that no gap shows where a
        // hidden image was.
        let name = entry
            .imageid
            .map(|id| id.to_string())
            .unwrap_or_else(|| format!("n{}", out.len() + 1));
        out.push(CanvasImage {
            entry,
            identifier,
            name,
            width,
            height,
            access,
        });
    }
    out
}

fn service(id: &str) -> Value {
    json!({
        "@context": crate::iiif::CONTEXT,
        "@id": id,
        "profile": LEVEL2,
    })
}

fn service_id(ctx: &Context, c: &CanvasImage) -> String {
    format!("{}/{}", ctx.image_base, encode_identifier(&c.identifier))
}

/// The largest image a caller may fetch of this canvas: the full image, or its reduction to
/// the limited side; returned as the size parameter (`full` for the whole image; Image API 3.0
/// documents write it `max`) and the resulting dimensions.
pub fn served_size(c: &CanvasImage) -> (String, u32, u32) {
    match c.access {
        Access::Limited(side) if c.width.max(c.height) > side => {
            let unbounded = Limits {
                max_width: u32::MAX,
                max_height: u32::MAX,
                max_area: u64::MAX,
                scale_cap: None,
            };
            let dims = Dimensions {
                width: c.width,
                height: c.height,
            };
            let (w, h) = resolve_size(
                Size::BestFit { w: side, h: side },
                full_rect(dims),
                &unbounded,
                true,
            )
            .unwrap_or((side, side));
            (format!("!{side},{side}"), w, h)
        }
        _ => ("full".into(), c.width, c.height),
    }
}

/// The painting annotation of a canvas.
pub fn annotation(ctx: &Context, key: &str, c: &CanvasImage) -> Value {
    let base = manifest_id(ctx, key);
    let svc = service_id(ctx, c);
    let (size, w, h) = served_size(c);
    json!({
        "@id": format!("{base}/annotation/anno-{}", c.name),
        "@type": "oa:Annotation",
        "motivation": "sc:painting",
        "on": format!("{base}/canvas/canvas-{}", c.name),
        "resource": {
            "@id": format!("{svc}/full/{size}/0/default.jpg"),
            "@type": "dctypes:Image",
            "format": "image/jpeg",
            "width": w,
            "height": h,
            "service": service(&svc),
        },
    })
}

/// A canvas with its one painting annotation.
pub fn canvas(ctx: &Context, key: &str, index: usize, c: &CanvasImage) -> Value {
    let label = if c.entry.caption.is_empty() {
        (index + 1).to_string().into()
    } else {
        value(&c.entry.caption)
    };
    json!({
        "@id": format!("{}/canvas/canvas-{}", manifest_id(ctx, key), c.name),
        "@type": "sc:Canvas",
        "label": label,
        "width": c.width,
        "height": c.height,
        "images": [annotation(ctx, key, c)],
    })
}

/// The one sequence of a manifest.
pub fn sequence(ctx: &Context, key: &str, canvases: &[CanvasImage]) -> Value {
    let list: Vec<Value> = canvases
        .iter()
        .enumerate()
        .map(|(i, c)| canvas(ctx, key, i, c))
        .collect();
    json!({
        "@id": format!("{}/sequence/normal", manifest_id(ctx, key)),
        "@type": "sc:Sequence",
        "label": "Current order",
        "viewingHint": "individuals",
        "canvases": list,
    })
}

fn metadata(object: &Object) -> Vec<Value> {
    object
        .metadata
        .iter()
        .map(|f| {
            let v = match f.values.as_slice() {
                [one] => value(one),
                many => {
                    let mut list = Vec::new();
                    for t in many {
                        match value(t) {
                            Value::Array(a) => list.extend(a),
                            v => list.push(v),
                        }
                    }
                    list.into()
                }
            };
            json!({"label": f.label, "value": v})
        })
        .collect()
}

/// Whether a record value is an absolute http(s) URI (and not text that starts like one).
pub fn is_uri(s: &str) -> bool {
    (s.starts_with("http://") || s.starts_with("https://")) && !s.contains(char::is_whitespace)
}

/// The full manifest of an object; `key` is its key as URLs write it.
pub fn manifest(object: &Object, key: &str, ctx: &Context, lookup: &Lookup) -> Value {
    let id = manifest_id(ctx, key);
    let canvases = canvas_images(object, ctx, lookup);
    let mut m = Map::new();
    m.insert("@context".into(), CONTEXT.into());
    m.insert("@id".into(), id.into());
    m.insert("@type".into(), "sc:Manifest".into());
    let label = if object.label.is_empty() {
        Text::one(None, &object.title())
    } else {
        object.label.clone()
    };
    m.insert("label".into(), value(&label));
    if !object.summary.is_empty() {
        m.insert("description".into(), value(&object.summary));
    }
    m.insert("metadata".into(), metadata(object).into());
    match ctx.attribution.map(str::trim).filter(|a| !a.is_empty()) {
        Some(a) => {
            m.insert("attribution".into(), sanitize(a).into());
        }
        None if !object.credit.is_empty() => {
            m.insert("attribution".into(), value(&object.credit));
        }
        None => {}
    }
    let license = object
        .rights
        .iter()
        .map(String::as_str)
        .chain(object.copyright.0.iter().map(|l| l.value.as_str()))
        .map(str::trim)
        .find(|s| is_uri(s));
    if let Some(l) = license {
        m.insert("license".into(), l.into());
    }
    if let Some(logo) = ctx.logo {
        m.insert("logo".into(), json!({"@id": logo}));
    }
    if let Some(url) = object
        .homepage
        .as_deref()
        .map(str::trim)
        .filter(|u| is_uri(u))
    {
        m.insert(
            "related".into(),
            json!({"@id": url, "format": "text/html", "label": "Full record view"}),
        );
    }
    m.insert(
        "within".into(),
        format!("{}/collections/top", ctx.root).into(),
    );
    if let Some(first) = canvases.first() {
        let svc = service_id(ctx, first);
        m.insert(
            "thumbnail".into(),
            json!({"@id": format!("{svc}/full/!200,200/0/default.jpg"), "service": service(&svc)}),
        );
    }
    m.insert("sequences".into(), json!([sequence(ctx, key, &canvases)]));
    Value::Object(m)
}

/// Adds the Presentation 2 `@context` to an embedded resource served on its own.
pub fn standalone(v: Value) -> Value {
    with_context(CONTEXT, v)
}

/// Adds a JSON-LD `@context`, as the first key, to a resource served on its own.
pub fn with_context(context: &str, v: Value) -> Value {
    let mut m = Map::new();
    m.insert("@context".into(), context.into());
    if let Value::Object(o) = v {
        m.extend(o);
    }
    Value::Object(m)
}

/// A record, a context and a lookup for the manifest tests of both versions.
#[cfg(test)]
pub(crate) mod fixtures {
    use super::*;

    pub fn ctx(privileged: bool) -> Context<'static> {
        Context {
            root: "https://h.org",
            image_base: "https://h.org/iiif",
            attribution: None,
            logo: Some("https://h.org/logo.png"),
            privileged,
        }
    }

    pub fn harvard(text: &str) -> Object {
        crate::presentation::shapes::Shape::HarvardObject
            .read(text, Default::default())
            .unwrap()
    }

    pub fn record() -> Object {
        harvard(
            r#"{"objectid": 9, "title": "Jar <script>x</script>", "dated": "c. 1900",
            "classification": "Vessels", "creditline": "Gift of A", "url": "https://m.org/9",
            "copyright": "© A", "rights": "http://rightsstatements.org/vocab/InC/1.0/",
            "people": [{"displayname": "B", "role": "Maker", "displayorder": 2},
                       {"displayname": "A", "role": "Artist", "culture": "Greek", "displaydate": "1850-1920", "displayorder": 1}],
            "images": [
              {"imageid": 3, "displayorder": 2, "baseimageurl": "https://x/urn-3:HUAM:B", "width": 1000, "height": 500},
              {"imageid": 1, "displayorder": 1, "baseimageurl": "https://x/A", "publiccaption": "Front"},
              {"imageid": 2, "displayorder": 3, "baseimageurl": "https://x/SECRET", "width": 10, "height": 10},
              {"imageid": 4, "displayorder": 4, "baseimageurl": "https://x/MISSING"}]}"#,
        )
    }

    pub fn access(id: &str) -> Access {
        match id {
            "SECRET" => Access::Restricted,
            "urn-3:HUAM:B" => Access::Limited(256),
            _ => Access::Public,
        }
    }

    pub fn dims(id: &str) -> Option<Dimensions> {
        assert_ne!(
            id, "urn-3:HUAM:B",
            "dimensions in the record are not looked up"
        );
        (id == "A").then_some(Dimensions {
            width: 300,
            height: 200,
        })
    }

    pub const LOOKUP: Lookup = Lookup {
        access: &access,
        dims: &dims,
    };
}

#[cfg(test)]
mod tests {
    use super::fixtures::*;
    use super::*;

    #[test]
    fn canvas_numbers_leave_no_gap_where_a_hidden_image_was() {
        let rec = harvard(
            r#"{"objectid": 9, "images": [
              {"displayorder": 1, "baseimageurl": "https://x/SECRET", "width": 10, "height": 10},
              {"displayorder": 2, "baseimageurl": "https://x/A"}]}"#,
        );
        let names = |privileged| -> Vec<String> {
            canvas_images(&rec, &ctx(privileged), &LOOKUP)
                .into_iter()
                .map(|c| c.name)
                .collect()
        };
        assert_eq!(names(false), ["n1"]);
        assert_eq!(names(true), ["n1", "n2"]);
    }

    #[test]
    fn manifest_shape() {
        let m = manifest(&record(), "9", &ctx(false), &LOOKUP);
        assert_eq!(m["@id"], "https://h.org/manifests/object/9");
        assert_eq!(m["@type"], "sc:Manifest");
        assert_eq!(m["label"], "<span>Jar </span>");
        assert_eq!(m["attribution"], "Gift of A");
        assert_eq!(m["license"], "http://rightsstatements.org/vocab/InC/1.0/");
        assert_eq!(m["related"]["@id"], "https://m.org/9");
        assert_eq!(m["within"], "https://h.org/collections/top");
        assert_eq!(m["logo"]["@id"], "https://h.org/logo.png");
        assert_eq!(m["metadata"][2]["label"], "People");
        assert_eq!(
            m["metadata"][2]["value"],
            json!(["Artist: A, Greek, 1850-1920", "Maker: B"])
        );
        let seq = &m["sequences"][0];
        assert_eq!(m["sequences"].as_array().unwrap().len(), 1);
        let canvases = seq["canvases"].as_array().unwrap();
        // SECRET is restricted, MISSING has no dimensions anywhere.
        assert_eq!(canvases.len(), 2);
        assert_eq!(
            canvases[0]["@id"],
            "https://h.org/manifests/object/9/canvas/canvas-1"
        );
        assert_eq!(
            (
                canvases[0]["width"].as_u64(),
                canvases[0]["height"].as_u64()
            ),
            (Some(300), Some(200))
        );
        assert_eq!(canvases[0]["label"], "Front");
        assert_eq!(canvases[1]["label"], "2");
        let anno = &canvases[0]["images"][0];
        assert_eq!(anno["motivation"], "sc:painting");
        assert_eq!(anno["on"], canvases[0]["@id"]);
        assert_eq!(
            anno["resource"]["@id"],
            "https://h.org/iiif/A/full/full/0/default.jpg"
        );
        assert_eq!(anno["resource"]["service"]["@id"], "https://h.org/iiif/A");
        // The limited image's resource is its 256 px reduction.
        let limited = &canvases[1]["images"][0]["resource"];
        assert_eq!(
            limited["@id"],
            "https://h.org/iiif/urn-3:HUAM:B/full/!256,256/0/default.jpg"
        );
        assert_eq!(
            (limited["width"].as_u64(), limited["height"].as_u64()),
            (Some(256), Some(128))
        );
        assert_eq!(canvases[1]["width"], 1000);
        assert_eq!(
            m["thumbnail"]["@id"],
            "https://h.org/iiif/A/full/!200,200/0/default.jpg"
        );
    }

    #[test]
    fn privileged_callers_see_everything() {
        let m = manifest(&record(), "9", &ctx(true), &LOOKUP);
        let canvases = m["sequences"][0]["canvases"].as_array().unwrap();
        assert_eq!(canvases.len(), 3);
        assert_eq!(canvases[1]["images"][0]["resource"]["width"], 1000);
        assert_eq!(
            canvases[2]["@id"],
            "https://h.org/manifests/object/9/canvas/canvas-2"
        );
    }

    #[test]
    fn no_images_still_has_one_sequence() {
        let rec = harvard(r#"{"objectid": 5, "title": ""}"#);
        let m = manifest(&rec, "5", &ctx(false), &LOOKUP);
        assert_eq!(m["label"], "Object 5");
        assert_eq!(m["sequences"][0]["canvases"], json!([]));
        assert!(m.get("thumbnail").is_none());
    }
}
