//! Record shapes: which museum's API a record file came from, how a file that holds one
//! record or a whole API page is split into records, and each shape's reader into the one
//! [`Object`] model. Pure: text in, objects or reasons out.
//!
//! Detection, per file (unless the records folder names its shape):
//! 1. The envelope, by its top-level key: `records` (a Harvard API page), `response`
//!    (`response.resultset.items`, a Brooklyn Museum opencollection page), `hits`
//!    (`hits.hits`, an Elasticsearch page of M+ hits), `data` (a GraphQL response, whose
//!    values are records or lists of them, or a Brooklyn Museum API v2 `data` record or list).
//!    Anything else is one record.
//! 2. Each record, by the first rule that matches its keys: `_source`: M+ (an Elasticsearch
//!    hit); `objectid`: a Harvard object; `imageid`: a Harvard image; `medias`, `titles` or
//!    `areacategories`: M+; `entityBundle`, `absolutePath` or `fieldVisuels`: Paris Musées;
//!    `accession_number`: Brooklyn Museum, opencollection when `images` is an object or
//!    `rightstype` is present, else API v2; `baseimageurl` without `images`: a Harvard image;
//!    `id` with `images`, `title` or `classification`: a Harvard object (the original shape).
//!    Nothing else matches.

mod brooklyn;
mod flex;
mod harvard;
mod mplus;
mod paris;

use super::model::Object;
use crate::access::Level;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;

/// A museum API's record shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Shape {
    /// Harvard Art Museums object record (`GET /object/ID`).
    HarvardObject,
    /// Harvard Art Museums image record (`GET /image/ID`): one image.
    HarvardImage,
    /// Brooklyn Museum Collection API (opencollection) object.
    BrooklynCollection,
    /// Brooklyn Museum API v2 object.
    BrooklynV2,
    /// M+ (Hong Kong) object, as its TMS extract indexes it.
    MPlus,
    /// Paris Musées GraphQL `NodeOeuvre`.
    ParisMusees,
}

impl Shape {
    /// Every shape.
    pub const ALL: [Shape; 6] = [
        Shape::HarvardObject,
        Shape::HarvardImage,
        Shape::BrooklynCollection,
        Shape::BrooklynV2,
        Shape::MPlus,
        Shape::ParisMusees,
    ];

    /// The name used in the configuration and in logs.
    pub fn name(self) -> &'static str {
        match self {
            Shape::HarvardObject => "harvard-object",
            Shape::HarvardImage => "harvard-image",
            Shape::BrooklynCollection => "brooklyn-opencollection",
            Shape::BrooklynV2 => "brooklyn-v2",
            Shape::MPlus => "mplus",
            Shape::ParisMusees => "paris-musees",
        }
    }

    /// The shape with this name.
    pub fn parse(name: &str) -> Option<Shape> {
        Shape::ALL.into_iter().find(|s| s.name() == name)
    }

    /// The namespace of the shape's object ids when its folder has no name: one per museum
    /// (and one for Harvard's image records, whose ids are image ids).
    pub fn namespace(self) -> &'static str {
        match self {
            Shape::HarvardObject => "harvard",
            Shape::HarvardImage => "harvard-image",
            Shape::BrooklynCollection | Shape::BrooklynV2 => "brooklyn",
            Shape::MPlus => "mplus",
            Shape::ParisMusees => "parismusees",
        }
    }

    /// What the index keeps of one record of this shape: the same as
    /// `Summary::of(&self.read(text, rule)?)`, read without the metadata the index does not
    /// keep (each shape's quick reader shares its images and access code with the full one).
    pub fn summary(self, text: &str, rule: IdentifierRule) -> Result<Summary, String> {
        match self {
            Shape::HarvardObject => harvard::summary(text, rule),
            Shape::BrooklynCollection => brooklyn::summary(text, rule, false),
            Shape::BrooklynV2 => brooklyn::summary(text, rule, true),
            Shape::MPlus => mplus::summary(text, rule),
            Shape::ParisMusees => paris::summary(text, rule),
            Shape::HarvardImage => self.read(text, rule).map(|o| Summary::of(&o)),
        }
    }

    /// Reads one record of this shape from its JSON text.
    pub fn read(self, text: &str, rule: IdentifierRule) -> Result<Object, String> {
        match self {
            Shape::HarvardObject => harvard::object(text, rule),
            Shape::HarvardImage => harvard::image(text, rule),
            Shape::BrooklynCollection => brooklyn::collection(text, rule),
            Shape::BrooklynV2 => brooklyn::v2(text, rule),
            Shape::MPlus => mplus::object(text, rule),
            Shape::ParisMusees => paris::object(text, rule),
        }
    }
}

/// What the index keeps of a record: enough for routing, collections and access rules.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Summary {
    /// The object's id within its museum.
    pub id: String,
    /// The title in the preferred language ([`super::model::Text::preferred`]), or empty.
    pub title: String,
    /// The classification.
    pub classification: Option<String>,
    /// The accession or object number, as the record gives it (searched by the browser).
    pub number: Option<String>,
    /// The object's access level.
    pub accesslevel: Level,
    /// The object's image permission level.
    pub imagepermissionlevel: Level,
    /// Its images, in display order.
    pub images: Vec<ImageRef>,
    /// The record's rights statement or licence URI, as the record gives it.
    pub rights: Option<String>,
}

/// What the index keeps of an image.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ImageRef {
    /// The local identifier.
    pub identifier: Option<String>,
    /// Another name it resolves by.
    pub alias: Option<String>,
    /// The museum's image id.
    pub imageid: Option<u64>,
    /// Its own access level.
    pub accesslevel: Level,
}

impl Summary {
    /// The summary of an object.
    pub fn of(o: &Object) -> Summary {
        Summary::from_parts(
            o.id.clone(),
            &o.label,
            (o.classification.clone(), o.number.clone()),
            (o.accesslevel, o.imagepermissionlevel),
            o.images.clone(),
            o.rights.clone(),
        )
    }

    /// A summary from what a shape's quick reader found.
    pub fn from_parts(
        id: String,
        label: &super::model::Text,
        (classification, number): (Option<String>, Option<String>),
        (accesslevel, imagepermissionlevel): (Level, Level),
        images: Vec<super::model::Image>,
        rights: Option<String>,
    ) -> Summary {
        Summary {
            id,
            title: label.preferred().unwrap_or_default().to_string(),
            classification,
            number,
            accesslevel,
            imagepermissionlevel,
            images: images
                .into_iter()
                .map(|i| ImageRef {
                    identifier: i.identifier,
                    alias: i.alias,
                    imageid: i.imageid,
                    accesslevel: i.accesslevel,
                })
                .collect(),
            rights,
        }
    }
}

/// How an image reference (a URL or a file name) becomes a local image identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IdentifierRule {
    /// The last path segment, percent-decoded, without an image extension (`.jpg`, `.tif`,
    /// … as the images folder knows them): `…/size0/78.128.7_view2.jpg` → `78.128.7_view2`.
    #[default]
    Stem,
    /// The last path segment, percent-decoded, as it is.
    Name,
    /// The whole path (without scheme, host, query and leading `/`), percent-decoded:
    /// sub-folders of the images folder, `%2F` in an image URL.
    Path,
}

impl IdentifierRule {
    /// The name used in the configuration.
    pub fn parse(name: &str) -> Option<IdentifierRule> {
        match name {
            "stem" => Some(IdentifierRule::Stem),
            "name" => Some(IdentifierRule::Name),
            "path" => Some(IdentifierRule::Path),
            _ => None,
        }
    }

    /// The identifier of a reference, or `None` when it names nothing.
    pub fn apply(self, reference: &str) -> Option<String> {
        let mut path = reference.trim();
        path = path.split(['?', '#']).next().unwrap_or("");
        if let Some((_, rest)) = path.split_once("://") {
            path = rest.find('/').map_or("", |i| &rest[i..]);
        }
        let path = path.trim_matches('/');
        let part = match self {
            IdentifierRule::Path => path,
            _ => path.rsplit('/').next().unwrap_or(""),
        };
        let decoded = percent_encoding::percent_decode_str(part)
            .decode_utf8()
            .ok()?
            .into_owned();
        let id = match self {
            IdentifierRule::Stem => match decoded.rsplit_once('.') {
                Some((stem, ext))
                    if !stem.is_empty()
                        && crate::storage::names::EXTENSIONS
                            .contains(&ext.to_ascii_lowercase().as_str()) =>
                {
                    stem.to_string()
                }
                _ => decoded,
            },
            _ => decoded,
        };
        (!id.is_empty() && !id.contains("://")).then_some(id)
    }
}

/// One record found in a file: its position in the file's page (0 for a file of one record),
/// and its shape and text, or why it was not recognised.
#[derive(Debug)]
pub struct Found<'a> {
    /// Position in the page, from 0.
    pub position: usize,
    /// The shape and the record's JSON text, or the reason it matches none.
    pub record: Result<(Shape, &'a str), String>,
}

/// Top-level keys that tell envelopes and shapes apart; their values are not read.
#[derive(Deserialize, Default)]
#[serde(default)]
struct Keys<'a> {
    #[serde(borrow)]
    records: Option<&'a RawValue>,
    #[serde(borrow)]
    response: Option<&'a RawValue>,
    #[serde(borrow)]
    hits: Option<&'a RawValue>,
    #[serde(borrow)]
    data: Option<&'a RawValue>,
    #[serde(borrow, rename = "_source")]
    source: Option<&'a RawValue>,
    #[serde(borrow)]
    images: Option<&'a RawValue>,
    #[serde(borrow)]
    accesslevel: Option<&'a RawValue>,
    #[serde(borrow)]
    imagepermissionlevel: Option<&'a RawValue>,
    #[serde(borrow)]
    objectid: Option<&'a RawValue>,
    #[serde(borrow)]
    id: Option<&'a RawValue>,
    imageid: Option<serde::de::IgnoredAny>,
    baseimageurl: Option<serde::de::IgnoredAny>,
    #[serde(borrow)]
    title: Option<&'a RawValue>,
    #[serde(borrow)]
    classification: Option<&'a RawValue>,
    #[serde(borrow)]
    rights: Option<&'a RawValue>,
    #[serde(borrow)]
    objectnumber: Option<&'a RawValue>,
    accession_number: Option<serde::de::IgnoredAny>,
    rightstype: Option<serde::de::IgnoredAny>,
    medias: Option<serde::de::IgnoredAny>,
    titles: Option<serde::de::IgnoredAny>,
    areacategories: Option<serde::de::IgnoredAny>,
    #[serde(rename = "entityBundle")]
    entity_bundle: Option<serde::de::IgnoredAny>,
    #[serde(rename = "absolutePath")]
    absolute_path: Option<serde::de::IgnoredAny>,
    #[serde(rename = "fieldVisuels")]
    field_visuels: Option<serde::de::IgnoredAny>,
    /// A GraphQL connection's records.
    #[serde(borrow)]
    entities: Option<&'a RawValue>,
}

/// A record of a page, with its keys when finding it already read them.
type Item<'a> = (&'a RawValue, Option<Keys<'a>>);

fn keys(text: &str) -> Result<Keys<'_>, String> {
    if !text.trim_start().starts_with('{') {
        return Err("not a JSON object".into());
    }
    serde_json::from_str(text).map_err(|e| e.to_string())
}

fn is_object(raw: Option<&RawValue>) -> bool {
    raw.is_some_and(|r| r.get().trim_start().starts_with('{'))
}

/// The shape of a record from its keys, by the rules in the module header.
fn shape_of(k: &Keys) -> Result<Shape, String> {
    Ok(if k.source.is_some() {
        Shape::MPlus
    } else if k.objectid.is_some() {
        Shape::HarvardObject
    } else if k.imageid.is_some() {
        Shape::HarvardImage
    } else if k.medias.is_some() || k.titles.is_some() || k.areacategories.is_some() {
        Shape::MPlus
    } else if k.entity_bundle.is_some() || k.absolute_path.is_some() || k.field_visuels.is_some() {
        Shape::ParisMusees
    } else if k.accession_number.is_some() {
        if is_object(k.images) || k.rightstype.is_some() {
            Shape::BrooklynCollection
        } else {
            Shape::BrooklynV2
        }
    } else if k.baseimageurl.is_some() && k.images.is_none() {
        Shape::HarvardImage
    } else if k.id.is_some()
        && (k.images.is_some() || k.title.is_some() || k.classification.is_some())
    {
        Shape::HarvardObject
    } else {
        return Err("matches no record shape (see the README's \"Record shapes\")".into());
    })
}

/// A record's shape and its text (an Elasticsearch hit's `_source`), or why it has none.
fn record<'a>(
    text: &'a str,
    k: &Keys<'a>,
    forced: Option<Shape>,
) -> Result<(Shape, &'a str), String> {
    let shape = match forced {
        Some(s) => s,
        None => shape_of(k)?,
    };
    Ok((shape, k.source.map_or(text, RawValue::get)))
}

fn list(raw: &RawValue) -> Result<Vec<&RawValue>, String> {
    serde_json::from_str(raw.get()).map_err(|e| format!("not a list of records: {e}"))
}

/// An object's members in order, their values unread.
struct Fields<'a>(Vec<(Cow<'a, str>, &'a RawValue)>);

impl<'de> Deserialize<'de> for Fields<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Fields<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut m: A,
            ) -> Result<Fields<'de>, A::Error> {
                let mut out = Vec::new();
                while let Some(entry) = m.next_entry::<Key<'de>, &'de RawValue>()? {
                    out.push((entry.0 .0, entry.1));
                }
                Ok(Fields(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// A member's name, borrowed unless it has escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a member name")
            }
            fn visit_borrowed_str<E: serde::de::Error>(self, s: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(s)))
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(s.to_string())))
            }
        }
        d.deserialize_str(V)
    }
}

/// Whether a value is a string, number or boolean (not an object, list or null).
fn is_plain(v: &RawValue) -> bool {
    !matches!(
        v.get().trim_start().as_bytes().first(),
        Some(b'{' | b'[' | b'n')
    )
}

/// The first byte of the first member's value of an object's text, if it has one: a peek,
/// not a validation (the text is read properly afterwards).
fn first_value(text: &str) -> Option<u8> {
    let b = text.as_bytes();
    let skip = |mut i: usize| {
        while b.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        i
    };
    let mut i = skip(0);
    (b.get(i) == Some(&b'{')).then_some(())?;
    i = skip(i + 1);
    (b.get(i) == Some(&b'"')).then_some(())?;
    i += 1;
    while *b.get(i)? != b'"' {
        i += if b[i] == b'\\' { 2 } else { 1 };
    }
    i = skip(i + 1);
    (b.get(i) == Some(&b':')).then_some(())?;
    b.get(skip(i + 1)).copied()
}

/// The records of a page envelope, from the file's top-level keys, or `None` when the file
/// is one record. A record whose keys were read on the way carries them, so that nothing is
/// scanned twice.
fn envelope<'a>(k: &Keys<'a>) -> Result<Option<Vec<Item<'a>>>, String> {
    let bare = |items: Vec<&'a RawValue>| items.into_iter().map(|r| (r, None)).collect();
    if let Some(records) = k.records {
        return list(records).map(|l| Some(bare(l)));
    }
    if let Some(response) = k.response {
        #[derive(Deserialize)]
        struct Response<'a> {
            #[serde(borrow)]
            resultset: Resultset<'a>,
        }
        #[derive(Deserialize)]
        struct Resultset<'a> {
            #[serde(borrow, default)]
            items: Vec<&'a RawValue>,
        }
        let r: Response = serde_json::from_str(response.get())
            .map_err(|e| format!("`response` is not a Brooklyn Museum result set: {e}"))?;
        return Ok(Some(bare(r.resultset.items)));
    }
    if let Some(hits) = k.hits {
        #[derive(Deserialize)]
        struct Hits<'a> {
            #[serde(borrow)]
            hits: Vec<&'a RawValue>,
        }
        let h: Hits = serde_json::from_str(hits.get())
            .map_err(|e| format!("`hits` is not an Elasticsearch hit list: {e}"))?;
        return Ok(Some(bare(h.hits)));
    }
    if let Some(data) = k.data {
        if data.get().trim_start().starts_with('[') {
            return list(data).map(|l| Some(bare(l)));
        }
        // A record (Brooklyn API v2) starts with a plain value; GraphQL's fields are
        // objects, lists or null, so a `data` that starts so is first read as GraphQL.
        let mut fields = None;
        if matches!(first_value(data.get()), Some(b'{' | b'[' | b'n')) {
            let read: Vec<(Cow<'a, str>, &'a RawValue)> =
                serde_json::from_str::<Fields>(data.get())
                    .map_err(|e| format!("`data`: {e}"))?
                    .0;
            if !read.iter().any(|(_, v)| is_plain(v)) {
                fields = Some(read);
            }
        }
        let fields = match fields {
            Some(f) => f,
            None => {
                if let Ok(dk) = keys(data.get()) {
                    if shape_of(&dk).is_ok() {
                        return Ok(Some(vec![(data, Some(dk))]));
                    }
                }
                serde_json::from_str::<Fields>(data.get())
                    .map_err(|e| format!("`data`: {e}"))?
                    .0
            }
        };
        // GraphQL: each field of `data` is a record, a list of records, or a connection
        // with `entities`.
        let mut out = Vec::new();
        for (_, v) in fields {
            let text = v.get().trim_start();
            if text.starts_with('[') {
                out.extend(bare(list(v)?));
            } else if text.starts_with('{') {
                match keys(v.get()) {
                    Ok(Keys {
                        entities: Some(entities),
                        ..
                    }) if entities.get().trim_start().starts_with('[') => {
                        out.extend(bare(list(entities)?));
                    }
                    Ok(vk) => out.push((v, Some(vk))),
                    Err(_) => out.push((v, None)),
                }
            }
        }
        return Ok(Some(out));
    }
    Ok(None)
}

/// Splits a file's text into its records and tells their shapes (or takes `forced`, the
/// shape its folder names). Fails only when the file is not well-formed JSON or its envelope
/// is broken; each record that matches no shape is reported at its position.
pub fn split(text: &str, forced: Option<Shape>) -> Result<Vec<Found<'_>>, String> {
    Ok(walk(text, forced, |_, shape, text| Ok((shape, text)))?
        .into_iter()
        .map(|(position, record)| Found { position, record })
        .collect())
}

/// The summary of every record of a file, as [`split`] finds them and
/// [`Shape::summary`] reads them; a Harvard object record is summarised from the same scan
/// of the file that told its shape.
pub fn summaries(
    text: &str,
    forced: Option<Shape>,
    rule: IdentifierRule,
) -> Result<Vec<Positioned<(Shape, Summary)>>, String> {
    walk(text, forced, |k, shape, text| {
        let summary = match shape {
            Shape::HarvardObject if k.source.is_none() => harvard::summary_of(
                harvard::Parts {
                    objectid: k.objectid,
                    id: k.id,
                    title: k.title,
                    classification: k.classification,
                    accesslevel: k.accesslevel,
                    imagepermissionlevel: k.imagepermissionlevel,
                    images: k.images,
                    rights: k.rights,
                    objectnumber: k.objectnumber,
                },
                rule,
            ),
            _ => shape.summary(text, rule),
        };
        summary
            .map(|s| (shape, s))
            .map_err(|e| format!("{}: {e}", shape.name()))
    })
}

/// A record's position in its file's page, and what was made of it or why not.
pub type Positioned<T> = (usize, Result<T, String>);

/// Finds a file's records and gives each, with its keys, shape and text, to `each`.
fn walk<'a, T>(
    text: &'a str,
    forced: Option<Shape>,
    each: impl Fn(&Keys<'a>, Shape, &'a str) -> Result<T, String>,
) -> Result<Vec<Positioned<T>>, String> {
    let one = |raw: &'a str, read: Option<Keys<'a>>| -> Result<T, String> {
        let k = match read {
            Some(k) => k,
            None => keys(raw)?,
        };
        let (shape, text) = record(raw, &k, forced)?;
        each(&k, shape, text)
    };
    let items: Vec<Item<'a>> = if text.trim_start().starts_with('[') {
        // A bare list of records.
        let list: Vec<&'a RawValue> = serde_json::from_str(text).map_err(|e| e.to_string())?;
        list.into_iter().map(|r| (r, None)).collect()
    } else if !text.trim_start().starts_with('{') {
        // Not an object: say whether it is JSON at all.
        serde_json::from_str::<&RawValue>(text).map_err(|e| e.to_string())?;
        return Err("not a JSON object or list".into());
    } else {
        // One scan of the whole file tells an envelope from a record, and a record's shape.
        let k = keys(text)?;
        match envelope(&k)? {
            Some(items) => items,
            None => {
                let read = record(text, &k, forced).and_then(|(shape, t)| each(&k, shape, t));
                return Ok(vec![(0, read)]);
            }
        }
    };
    Ok(items
        .into_iter()
        .enumerate()
        .map(|(position, (raw, read))| (position, one(raw.get(), read)))
        .collect())
}

/// Every record of a file, read with the default rule; panics on any failure (for tests).
#[cfg(test)]
pub(crate) fn read_all(text: &str) -> Vec<(Shape, Object)> {
    split(text, None)
        .unwrap()
        .into_iter()
        .map(|f| {
            let (shape, raw) = f.record.unwrap();
            (shape, shape.read(raw, IdentifierRule::Stem).unwrap())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifier_rules() {
        let stem = IdentifierRule::Stem;
        for (reference, want) in [
            (
                "http://cdn2.brooklynmuseum.org/images/opencollection/objects/size0/78.128.7_view2_IMLS_SL2.jpg",
                Some("78.128.7_view2_IMLS_SL2"),
            ),
            ("https://nrs.harvard.edu/urn-3:HUAM:760994", Some("urn-3:HUAM:760994")),
            ("https://x.org/iiif/a%20b/", Some("a b")),
            ("/main-library/Collection_Images/000001_000500/000014_001.jpg", Some("000014_001")),
            ("2002.10-PS-12_runner_PS1.JPG", Some("2002.10-PS-12_runner_PS1")),
            ("78.128.7", Some("78.128.7")),
            ("https://x.org/a.jpg?w=1", Some("a")),
            ("https://x.org/", None),
            ("", None),
            (".jpg", Some(".jpg")),
        ] {
            assert_eq!(stem.apply(reference).as_deref(), want, "{reference}");
        }
        assert_eq!(
            IdentifierRule::Name
                .apply("http://h/x/78.128.7.jpg")
                .as_deref(),
            Some("78.128.7.jpg")
        );
        assert_eq!(
            IdentifierRule::Path.apply("http://h/x/y/a.jpg").as_deref(),
            Some("x/y/a.jpg")
        );
        assert_eq!(IdentifierRule::parse("path"), Some(IdentifierRule::Path));
        assert_eq!(IdentifierRule::parse("Path"), None);
    }

    #[test]
    fn first_value_peeks_at_the_first_member() {
        assert_eq!(first_value(r#" { "a" : {"b": 1}}"#), Some(b'{'));
        assert_eq!(first_value(r#"{"a\"b": [1]}"#), Some(b'['));
        assert_eq!(first_value(r#"{"id": 1}"#), Some(b'1'));
        assert_eq!(first_value("{}"), None);
        assert_eq!(first_value(r#"{"unterminated"#), None);
        assert_eq!(first_value("[1]"), None);
    }

    #[test]
    fn a_data_record_that_starts_with_an_object_is_still_a_record() {
        assert_eq!(
            shapes(
                r#"{"data": {"artists": [{"name": "a"}], "id": 1, "accession_number": "a", "images": []}}"#
            ),
            [Ok(Shape::BrooklynV2)]
        );
        assert_eq!(
            shapes(r#"{"data": {"description": null, "id": 1, "accession_number": "a"}}"#),
            [Ok(Shape::BrooklynV2)]
        );
        // GraphQL fields in the order the response gives them.
        let both = split(
            r#"{"data": {"b": {"entityBundle": "oeuvre", "nid": 2}, "a": {"entityBundle": "oeuvre", "nid": 1}, "c": null}}"#,
            None,
        )
        .unwrap();
        let texts: Vec<&str> = both.iter().map(|f| f.record.as_ref().unwrap().1).collect();
        assert!(
            texts[0].contains("\"nid\": 2") && texts[1].contains("\"nid\": 1"),
            "{texts:?}"
        );
    }

    fn shapes(text: &str) -> Vec<Result<Shape, String>> {
        split(text, None)
            .unwrap()
            .into_iter()
            .map(|f| f.record.map(|(s, _)| s))
            .collect()
    }

    #[test]
    fn envelopes_and_shapes_are_told_apart() {
        assert_eq!(shapes(r#"{"objectid": 1}"#), [Ok(Shape::HarvardObject)]);
        assert_eq!(
            shapes(r#"{"id": 1, "title": "t"}"#),
            [Ok(Shape::HarvardObject)]
        );
        assert_eq!(
            shapes(r#"{"id": 1, "imageid": 1, "baseimageurl": "h://x/a"}"#),
            [Ok(Shape::HarvardImage)]
        );
        assert_eq!(
            shapes(r#"{"info": {}, "records": [{"objectid": 1}, {"imageid": 2}, 3, {"x": 1}]}"#)
                .len(),
            4
        );
        let page = shapes(r#"{"records": [{"objectid": 1}, {"imageid": 2}, 3, {"x": 1}]}"#);
        assert_eq!(page[0], Ok(Shape::HarvardObject));
        assert_eq!(page[1], Ok(Shape::HarvardImage));
        assert!(page[2].as_ref().unwrap_err().contains("not a JSON object"));
        assert!(page[3].as_ref().unwrap_err().contains("no record shape"));
        assert_eq!(
            shapes(
                r#"{"response": {"resultset": {"items": [{"id": "1", "accession_number": "a", "images": {"0": {}}}]}}}"#
            ),
            [Ok(Shape::BrooklynCollection)]
        );
        assert_eq!(
            shapes(r#"{"data": {"id": 1, "accession_number": "a", "images": []}}"#),
            [Ok(Shape::BrooklynV2)]
        );
        assert_eq!(
            shapes(r#"{"data": [{"id": 1, "accession_number": "a"}, {"id": 2, "accession_number": "b"}]}"#).len(),
            2
        );
        assert_eq!(
            shapes(r#"{"hits": {"total": 1, "hits": [{"_id": "1", "_source": {"id": 1}}]}}"#),
            [Ok(Shape::MPlus)]
        );
        assert_eq!(
            shapes(r#"{"_id": "1", "_source": {"id": 1}}"#),
            [Ok(Shape::MPlus)]
        );
        assert_eq!(
            shapes(r#"{"data": {"nodeById": {"entityBundle": "oeuvre", "title": "t"}}}"#),
            [Ok(Shape::ParisMusees)]
        );
        assert_eq!(
            shapes(r#"{"data": {"nodeQuery": {"entities": [{"absolutePath": "h://x/node/1"}, {"absolutePath": "h://x/node/2"}]}}}"#).len(),
            2
        );
        assert!(split("[1, 2", None).is_err());
        assert!(split(r#"{"records": 5}"#, None).is_err());
    }

    #[test]
    fn harvard_keys_win_over_keys_other_museums_share() {
        // Harvard object records have `titles` (as M+ records do) and `objectid`.
        assert_eq!(
            shapes(r#"{"objectid": 1, "titles": [], "medias": 0}"#),
            [Ok(Shape::HarvardObject)]
        );
        assert_eq!(
            shapes(r#"{"imageid": 1, "absolutePath": "x"}"#),
            [Ok(Shape::HarvardImage)]
        );
    }

    /// Every shape's quick summary is the summary of its full reading, on every sample
    /// record and on variants that exercise access, ordering and refusal.
    #[test]
    fn quick_summaries_agree_with_the_model() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut texts: Vec<String> = Vec::new();
        for dir in [
            "tests/fixtures/samples",
            "manifests",
            "manifests/brooklyn",
            "manifests/mplus",
            "manifests/parismusees",
            "manifests/harvard-images",
        ] {
            for e in std::fs::read_dir(root.join(dir)).unwrap() {
                let p = e.unwrap().path();
                if p.extension().is_some_and(|x| x == "json") {
                    texts.push(std::fs::read_to_string(p).unwrap());
                }
            }
        }
        texts.extend([
            r#"{"data": {"id": 1, "accession_number": "a", "public_access": "0",
                "copyright_restricted": true, "rights_type": {"name": "creative_commons_by"},
                "images": [{"filename": "b.jpg", "rank": 2}, {"filename": "a.jpg", "rank": 1}]}}"#
                .to_string(),
            r#"{"response": {"resultset": {"items": [{"id": 2, "accession_number": "b",
                "rightstype": "copyright_restricted", "title": "  ",
                "images": {"1": {"uri": "h://x/two.tif"}, "0": {"uri": "h://x/one.jpg"}, "total": 2}}]}}}"#
                .to_string(),
            r#"{"_source": {"id": "x9", "titles": [null, [{"text": "", "lang": "en"}],
                [{"text": "Deux", "lang": "fr"}]], "areacategories": [{"rank": 2, "type": "Area",
                "areacat": [{"text": "Design", "lang": "en"}]}], "medias": [{"filename": "/a/p.jpg",
                "rank": 3}, {"filename": "/a/q.jpg", "primarydisplay": true, "rank": 9}]}}"#
                .to_string(),
            r#"{"data": {"nodeById": {"entityBundle": "oeuvre", "absolutePath": "h://x/node/77",
                "fieldDenominations": [{"entity": {"name": "Dessin"}}],
                "fieldVisuels": [{"entity": {"vignette": "h://x/v.jpg"}}]}}}"#
                .to_string(),
            r#"{"data": {"nodeById": {"entityBundle": "auteur", "nid": 5}}}"#.to_string(),
            r#"{"data": {"accession_number": "no id"}}"#.to_string(),
        ]);
        let mut checked = 0;
        for text in &texts {
            for found in split(text, None).unwrap() {
                let Ok((shape, raw)) = found.record else {
                    continue;
                };
                for rule in [IdentifierRule::Stem, IdentifierRule::Path] {
                    let quick = shape.summary(raw, rule);
                    let full = shape.read(raw, rule).map(|o| Summary::of(&o));
                    assert_eq!(quick, full, "{} {raw}", shape.name());
                }
                checked += 1;
            }
        }
        assert!(checked >= 25, "{checked} records checked");
    }

    #[test]
    fn a_named_shape_skips_detection() {
        let found = split(r#"{"x": 1}"#, Some(Shape::ParisMusees)).unwrap();
        assert_eq!(found[0].record.as_ref().unwrap().0, Shape::ParisMusees);
    }
}
