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
mod parts;
mod scan;

use super::model::{Image, Object, Text};
use crate::access::Level;
use parts::Record;
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
        self.summary_of(Record::Text(text), text, rule)
    }

    /// [`Shape::summary`] of a record read as `record` says: its text, or the members the
    /// scanner split it into (`text`: the record's text, which the Harvard readers take).
    fn summary_of(
        self,
        record: Record,
        text: &str,
        rule: IdentifierRule,
    ) -> Result<Summary, String> {
        match self {
            Shape::HarvardObject => harvard::summary(text, rule),
            Shape::BrooklynCollection => brooklyn::summary(record, rule, false),
            Shape::BrooklynV2 => brooklyn::summary(record, rule, true),
            Shape::MPlus => mplus::summary(record, rule),
            Shape::ParisMusees => paris::summary(record, rule),
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
            o.label.preferred(),
            (o.classification.clone(), o.number.clone()),
            (o.accesslevel, o.imagepermissionlevel),
            o.images.clone(),
            o.rights.clone(),
        )
    }

    /// An object with no more than the summary knows: id, title (in no language),
    /// classification, number, rights, access levels, and its images by identifier. The
    /// manifest of a record that loading read but the full reader refuses, over a field the
    /// summary does not read (a duplicate `technique`, a number where a string belongs).
    pub fn object(&self) -> Object {
        Object {
            id: self.id.clone(),
            label: Text::one(None, &self.title),
            classification: self.classification.clone(),
            number: self.number.clone(),
            rights: self.rights.clone(),
            accesslevel: self.accesslevel,
            imagepermissionlevel: self.imagepermissionlevel,
            images: self
                .images
                .iter()
                .map(|i| Image {
                    reference: i.identifier.clone().unwrap_or_default(),
                    identifier: i.identifier.clone(),
                    imageid: i.imageid,
                    alias: i.alias.clone(),
                    accesslevel: i.accesslevel,
                    ..Image::default()
                })
                .collect(),
            ..Object::default()
        }
    }

    /// A summary from what a shape's quick reader found (`title`: the label's
    /// [`super::model::Text::preferred`] value).
    pub fn from_parts(
        id: String,
        title: Option<&str>,
        (classification, number): (Option<String>, Option<String>),
        (accesslevel, imagepermissionlevel): (Level, Level),
        images: Vec<super::model::Image>,
        rights: Option<String>,
    ) -> Summary {
        Summary {
            id,
            title: title.unwrap_or_default().to_string(),
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
        if let Some(end) = memchr::memchr2(b'?', b'#', path.as_bytes()) {
            path = &path[..end];
        }
        if let Some(at) = scheme_separator(path) {
            let rest = &path[at + 3..];
            path = rest.find('/').map_or("", |i| &rest[i..]);
        }
        let path = path.trim_matches('/');
        let part = match self {
            IdentifierRule::Path => path,
            _ => path.rsplit('/').next().unwrap_or(""),
        };
        let decoded = if part.contains('%') {
            percent_encoding::percent_decode_str(part)
                .decode_utf8()
                .ok()?
        } else {
            Cow::Borrowed(part)
        };
        let id: &str = match self {
            IdentifierRule::Stem => match decoded.rsplit_once('.') {
                Some((stem, ext))
                    if !stem.is_empty()
                        && crate::storage::names::EXTENSIONS
                            .iter()
                            .any(|e| e.eq_ignore_ascii_case(ext)) =>
                {
                    stem
                }
                _ => &decoded,
            },
            _ => &decoded,
        };
        (!id.is_empty() && scheme_separator(id).is_none()).then(|| id.to_string())
    }
}

/// Where `://` first occurs in a reference (found byte-wise: a reference is short, and
/// [`IdentifierRule::apply`] runs once per image at start-up).
fn scheme_separator(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    memchr::memchr_iter(b':', b).find(|&i| b[i + 1..].starts_with(b"//"))
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

/// A member's value as text, unread (from `&RawValue` on the first scan, or from
/// [`scan::members`] afterwards).
#[derive(Clone, Copy, Debug)]
struct Raw<'a>(&'a str);

impl<'de: 'a, 'a> Deserialize<'de> for Raw<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        <&'de RawValue>::deserialize(d).map(|r| Raw(r.get()))
    }
}

macro_rules! keys {
    ($($field:ident $(= $name:literal)?),* $(,)?) => {
        /// Top-level keys that tell envelopes and shapes apart; their values are not read
        /// (`null` counts as absent).
        #[derive(Deserialize, Default)]
        #[serde(default)]
        struct Keys<'a> {
            $(
                #[serde(borrow $(, rename = $name)?)]
                $field: Option<Raw<'a>>,
            )*
            /// All the record's members, when the scanner (not serde) found them: a
            /// shape's quick reader takes its fields from them ([`parts`]).
            #[serde(skip)]
            members: parts::Members<'a>,
        }

        impl<'a> Keys<'a> {
            /// The keys of an object whose text was read in full before (a member of a
            /// file that [`keys`] read): split by the scanner, not parsed again. A repeated
            /// key is refused, as serde refuses it in a file of one record.
            fn of_read(valid: &'a str) -> Result<Keys<'a>, String> {
                Keys::of_members(scan::all_members(valid)?)
            }

            /// The keys among an object's members, split by the scanner.
            fn of_members(members: parts::Members<'a>) -> Result<Keys<'a>, String> {
                let mut k = Keys::default();
                for (name, value) in &members {
                    let value = *value;
                    let slot = match &**name {
                        $(keys!(@name $field $($name)?) => &mut k.$field,)*
                        _ => continue,
                    };
                    if slot.is_some() {
                        return Err(format!("duplicate field `{name}`"));
                    }
                    if value != "null" {
                        *slot = Some(Raw(value));
                    }
                }
                k.members = members;
                Ok(k)
            }
        }
    };
    (@name $field:ident $name:literal) => { $name };
    (@name $field:ident) => { stringify!($field) };
}

keys! {
    records, response, hits, data, source = "_source", images, accesslevel,
    imagepermissionlevel, objectid, id, imageid, baseimageurl, title, classification, rights,
    objectnumber, accession_number, rightstype, medias, titles, areacategories,
    entity_bundle = "entityBundle", absolute_path = "absolutePath",
    field_visuels = "fieldVisuels",
    // A GraphQL connection's records.
    entities,
}

/// A record of a page, with its keys when finding it already read them.
type Item<'a> = (&'a str, Option<Keys<'a>>);

/// The keys of a file's text, read (and so validated) in full by serde_json.
fn keys(text: &str) -> Result<Keys<'_>, String> {
    if !text.trim_start().starts_with('{') {
        return Err("not a JSON object".into());
    }
    serde_json::from_str(text).map_err(|e| e.to_string())
}

/// The keys of a record inside a file that [`keys`] has read.
fn keys_of_read(valid: &str) -> Result<Keys<'_>, String> {
    if !valid.starts_with('{') {
        return Err("not a JSON object".into());
    }
    Keys::of_read(valid)
}

fn is_object(raw: Option<Raw>) -> bool {
    raw.is_some_and(|r| r.0.starts_with('{'))
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
    Ok((shape, k.source.map_or(text, |r| r.0)))
}

/// The items of a list inside a file that [`keys`] has read.
fn list(valid: &str) -> Result<Vec<&str>, String> {
    if !valid.starts_with('[') {
        return Err("not a list of records".into());
    }
    Ok(scan::items(valid).collect())
}

/// A member's value of an object inside a file that [`keys`] has read.
fn member<'a>(valid: &'a str, name: &str) -> Option<&'a str> {
    scan::members(valid)
        .find(|(k, v)| k == name && *v != "null")
        .map(|(_, v)| v)
}

/// Whether a value is a string, number or boolean (not an object, list or null).
fn is_plain(v: &str) -> bool {
    !matches!(v.as_bytes().first(), Some(b'{' | b'[' | b'n'))
}

/// The records of a page envelope, from the file's top-level keys, or `None` when the file
/// is one record. A record whose keys were read on the way carries them. The envelope's
/// inner objects are split by [`scan`]: [`keys`] has read the whole file already.
fn envelope<'a>(k: &Keys<'a>) -> Result<Option<Vec<Item<'a>>>, String> {
    let bare = |items: Vec<&'a str>| items.into_iter().map(|r| (r, None)).collect();
    if let Some(Raw(records)) = k.records {
        return list(records).map(|l| Some(bare(l)));
    }
    if let Some(Raw(response)) = k.response {
        let items = member(response, "resultset")
            .filter(|r| r.starts_with('{'))
            .ok_or("`response` is not a Brooklyn Museum result set (no `resultset` object)")?;
        return match member(items, "items") {
            Some(items) => list(items).map(|l| Some(bare(l))),
            None => Ok(Some(Vec::new())),
        };
    }
    if let Some(Raw(hits)) = k.hits {
        let hits = member(hits, "hits")
            .ok_or("`hits` is not an Elasticsearch hit list (no `hits.hits`)")?;
        return list(hits).map(|l| Some(bare(l)));
    }
    if let Some(Raw(data)) = k.data {
        if data.starts_with('[') {
            return list(data).map(|l| Some(bare(l)));
        }
        if !data.starts_with('{') {
            return Err("`data` is not an object or a list".into());
        }
        // A record (Brooklyn API v2) has plain values; GraphQL's fields are objects, lists
        // or null, so `data` with no plain value is read as GraphQL.
        let mut fields: parts::Members<'a> = match scan::all_members(data) {
            Ok(fields) => fields,
            // Reported as the record's error.
            Err(_) => return Ok(Some(vec![(data, None)])),
        };
        if fields.iter().any(|(_, v)| is_plain(v)) {
            match Keys::of_members(fields) {
                Ok(dk) if shape_of(&dk).is_ok() => return Ok(Some(vec![(data, Some(dk))])),
                // Reported as the record's error.
                Err(_) => return Ok(Some(vec![(data, None)])),
                Ok(dk) => fields = dk.members,
            }
        }
        // GraphQL: each field of `data` is a record, a list of records, or a connection
        // with `entities`.
        let mut out = Vec::new();
        for (_, v) in fields {
            if v.starts_with('[') {
                out.extend(bare(list(v)?));
            } else if v.starts_with('{') {
                match Keys::of_read(v) {
                    Ok(Keys {
                        entities: Some(Raw(entities)),
                        ..
                    }) if entities.starts_with('[') => {
                        out.extend(bare(list(entities)?));
                    }
                    Ok(vk) => out.push((v, Some(vk))),
                    // Reported as the record's error.
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
                    objectid: k.objectid.map(|r| r.0),
                    id: k.id.map(|r| r.0),
                    title: k.title.map(|r| r.0),
                    classification: k.classification.map(|r| r.0),
                    accesslevel: k.accesslevel.map(|r| r.0),
                    imagepermissionlevel: k.imagepermissionlevel.map(|r| r.0),
                    images: k.images.map(|r| r.0),
                    rights: k.rights.map(|r| r.0),
                    objectnumber: k.objectnumber.map(|r| r.0),
                },
                rule,
            ),
            // A record whose members the scanner found (in a page, or under `data`) is
            // summarised from them, not parsed again; an M+ hit's members are the hit's,
            // not its `_source`'s.
            _ if k.source.is_none() && !k.members.is_empty() => {
                shape.summary_of(Record::Members(&k.members), text, rule)
            }
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
            None => keys_of_read(raw)?,
        };
        let (shape, text) = record(raw, &k, forced)?;
        each(&k, shape, text)
    };
    let items: Vec<Item<'a>> = if text.trim_start().starts_with('[') {
        // A bare list of records.
        let list: Vec<&'a RawValue> = serde_json::from_str(text).map_err(|e| e.to_string())?;
        list.into_iter().map(|r| (r.get(), None)).collect()
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
        .map(|(position, (raw, read))| (position, one(raw, read)))
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
            ("https://x.org/a%3A%2F%2Fb.jpg", None),
            ("x:/y.JPEG", Some("y")),
            ("https://x.org/c.tif#frag", Some("c")),
            ("#c.tif", None),
            ("https://x.org/%C3%A9t%C3%A9.png", Some("été")),
            ("https://x.org/%E9.png", None),
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
    fn a_member_name_that_does_not_decode_refuses_the_record_on_every_path() {
        // serde_json's first pass skips the escapes inside a page's records; the members
        // after a name that does not decode (here `public_access`, which restricts the
        // object) must not be lost while the record still loads.
        for text in [
            r#"[{"id": 1, "accession_number": "x", "images": [{"filename": "s.jpg"}],
                "\udc00": 0, "public_access": false}]"#,
            r#"{"data": {"id": 1, "accession_number": "x", "images": [{"filename": "s.jpg"}],
                "\udc00": 0, "public_access": false}}"#,
            r#"{"data": {"nodeById": {"entityBundle": "oeuvre", "entityId": "2",
                "\ud800": 0, "fieldVisuels": [{"entity": {"vignette": "h://x/v.jpg"}}]}}}"#,
        ] {
            let loaded = summaries(text, None, IdentifierRule::Stem).unwrap();
            assert_eq!(loaded.len(), 1, "{text}");
            assert!(loaded[0].1.is_err(), "{text}: {:?}", loaded[0].1);
        }
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
    fn a_repeated_key_in_a_page_is_refused_as_in_a_file_of_one_record() {
        let page = r#"{"records": [{"objectid": 1, "accesslevel": 1, "accesslevel": 0},
                                   {"objectid": 2, "accesslevel": 1}]}"#;
        let found = split(page, None).unwrap();
        assert!(
            matches!(&found[0].record, Err(e) if e.contains("duplicate field `accesslevel`")),
            "{:?}",
            found[0].record
        );
        assert!(found[1].record.is_ok());
        let one = r#"{"objectid": 1, "accesslevel": 1, "accesslevel": 0}"#;
        assert!(split(one, None).is_err() || split(one, None).unwrap()[0].record.is_err());
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
                    // The object a summary stands for (a record read in part) has that summary.
                    if let Ok(quick) = &quick {
                        assert_eq!(&Summary::of(&quick.object()), quick, "{raw}");
                    }
                }
                checked += 1;
            }
        }
        assert!(checked >= 25, "{checked} records checked");
        // As files are loaded (`summaries`: from the first scan's parts, or from the members
        // the scanner split a page's record into), the same summaries, and the same refusals.
        for text in &texts {
            let found = split(text, None).unwrap();
            for rule in [IdentifierRule::Stem, IdentifierRule::Path] {
                let loaded = summaries(text, None, rule).unwrap();
                assert_eq!(loaded.len(), found.len());
                for ((position, loaded), found) in loaded.iter().zip(&found) {
                    assert_eq!(*position, found.position);
                    let full = found.record.as_ref().map(|(shape, raw)| {
                        (*shape, shape.read(raw, rule).map(|o| Summary::of(&o)))
                    });
                    match (loaded, full) {
                        (Ok((shape, s)), Ok((full_shape, Ok(full)))) => {
                            assert_eq!((shape, s), (&full_shape, &full), "{text}")
                        }
                        (Err(_), Ok((_, Err(_))) | Err(_)) => {}
                        (loaded, full) => panic!("{text}: {loaded:?} against {full:?}"),
                    }
                }
            }
        }
    }

    #[test]
    fn a_named_shape_skips_detection() {
        let found = split(r#"{"x": 1}"#, Some(Shape::ParisMusees)).unwrap();
        assert_eq!(found[0].record.as_ref().unwrap().0, Shape::ParisMusees);
    }
}
