//! Brooklyn Museum records, in English: the Collection API (opencollection) object and the
//! API v2 object. Both use the museum's object ids, so they share the `brooklyn` namespace.
//!
//! Images: opencollection's `images` is an object keyed `"0"`, `"1"`, …, each with a `uri`;
//! v2's `images[]` has a `filename` (else `largest_derivative_url`) and a `rank`. Either way
//! the identifier is the reference's last segment without its extension.
//!
//! Rights and access: `rightstype` (opencollection) or `rights_type.name` (v2) becomes a
//! Creative Commons or RightsStatements URI where one is meant; v2's `public_access` false
//! restricts the object, and `copyright_restricted` (or, in opencollection, a rights type
//! that says "restrict") limits its images to 256 px, as the museum shows such works only
//! as small images.

use super::flex;
use super::harvard::person;
use super::parts;
use super::{IdentifierRule, Summary};
use crate::access::Level;
use crate::presentation::model::{Image, Object, Text};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use std::borrow::Cow;

const EN: Option<&str> = Some("en");

/// The URI a Brooklyn rights type stands for, when it stands for one.
fn rights_uri(kind: &str) -> Option<&'static str> {
    let k = kind.to_ascii_lowercase().replace([' ', '-'], "_");
    if k.contains("no_known_copyright") {
        Some("http://rightsstatements.org/vocab/NKC/1.0/")
    } else if k.contains("creative_commons_by_nc") {
        Some("http://creativecommons.org/licenses/by-nc/3.0/")
    } else if k.contains("creative_commons_by") {
        Some("http://creativecommons.org/licenses/by/3.0/")
    } else if k.contains("public_domain") {
        Some("http://creativecommons.org/publicdomain/mark/1.0/")
    } else {
        None
    }
}

/// Whether a rights type keeps images small.
fn restricts(kind: &str) -> bool {
    let k = kind.to_ascii_lowercase();
    k.contains("restrict") && !k.contains("no_known")
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Artist {
    #[serde(deserialize_with = "flex::text")]
    name: Option<String>,
    #[serde(deserialize_with = "flex::text")]
    role: Option<String>,
    #[serde(deserialize_with = "flex::text")]
    dates: Option<String>,
    #[serde(deserialize_with = "flex::rank")]
    rank: Option<i64>,
}

fn artists(list: &[Artist]) -> Vec<Text> {
    let mut sorted: Vec<(usize, &Artist)> = list.iter().enumerate().collect();
    sorted.sort_by_key(|(i, a)| (a.rank.unwrap_or(i64::MAX), *i));
    sorted
        .into_iter()
        .map(|(_, a)| person(a.role.as_deref(), a.name.as_deref(), &[a.dates.as_deref()]))
        .collect()
}

/// The fields of both APIs (they share most names), read in one pass.
#[derive(Deserialize, Default)]
#[serde(default)]
struct Common<'a> {
    #[serde(deserialize_with = "flex::id")]
    id: Option<String>,
    #[serde(deserialize_with = "flex::text")]
    title: Option<String>,
    #[serde(deserialize_with = "flex::text")]
    accession_number: Option<String>,
    #[serde(deserialize_with = "flex::text")]
    object_date: Option<String>,
    #[serde(deserialize_with = "flex::text")]
    medium: Option<String>,
    #[serde(deserialize_with = "flex::text")]
    dimensions: Option<String>,
    #[serde(deserialize_with = "flex::text")]
    markings: Option<String>,
    #[serde(deserialize_with = "flex::text")]
    signed: Option<String>,
    #[serde(deserialize_with = "flex::text")]
    inscribed: Option<String>,
    #[serde(deserialize_with = "flex::text")]
    credit_line: Option<String>,
    #[serde(deserialize_with = "flex::text")]
    classification: Option<String>,
    #[serde(deserialize_with = "flex::text")]
    description: Option<String>,
    #[serde(deserialize_with = "flex::text")]
    provenance: Option<String>,
    #[serde(deserialize_with = "flex::text")]
    copyright: Option<String>,
    artists: Option<Vec<Artist>>,
    /// opencollection: an object keyed "0", "1", …; v2: a list. Read by each shape's reader.
    #[serde(borrow)]
    images: Option<&'a RawValue>,
    #[serde(deserialize_with = "flex::text")]
    rightstype: Option<String>,
    #[serde(deserialize_with = "flex::text")]
    uri: Option<String>,
    #[serde(deserialize_with = "flex::text")]
    collection: Option<String>,
    #[serde(borrow)]
    rights_type: Option<RightsType<'a>>,
    #[serde(deserialize_with = "flex::flag")]
    public_access: Option<bool>,
    #[serde(deserialize_with = "flex::flag")]
    copyright_restricted: Option<bool>,
}

fn start(c: &Common<'_>) -> Result<Object, String> {
    let id = c.id.clone().ok_or("record has no id")?;
    let mut o = Object {
        label: Text::maybe(EN, c.title.as_deref()),
        summary: Text::maybe(EN, c.description.as_deref()),
        classification: c.classification.clone(),
        number: c.accession_number.clone(),
        credit: Text::maybe(EN, c.credit_line.as_deref()),
        copyright: Text::maybe(EN, c.copyright.as_deref()),
        homepage: Some(format!(
            "https://www.brooklynmuseum.org/opencollection/objects/{id}"
        )),
        id,
        ..Object::default()
    };
    o.text("Date", EN, c.object_date.as_deref());
    o.text("Classification", EN, c.classification.as_deref());
    o.field("People", artists(c.artists.as_deref().unwrap_or_default()));
    o.text("Medium", EN, c.medium.as_deref());
    o.text("Dimensions", EN, c.dimensions.as_deref());
    o.text("Markings", EN, c.markings.as_deref());
    o.text("Signed", EN, c.signed.as_deref());
    o.text("Inscribed", EN, c.inscribed.as_deref());
    o.text("Credit Line", EN, c.credit_line.as_deref());
    o.text("Object Number", EN, c.accession_number.as_deref());
    o.text("Provenance", EN, c.provenance.as_deref());
    o.text("Copyright", EN, c.copyright.as_deref());
    Ok(o)
}

fn set_rights(o: &mut Object, kind: Option<&str>, shown: Option<&str>) {
    if let Some(kind) = kind.map(str::trim).filter(|k| !k.is_empty()) {
        o.rights = rights_uri(kind).map(str::to_string);
        o.text("Rights", EN, shown.or(Some(kind)));
    }
}

/// The access levels of a record: `public_access` false restricts the object; a rights
/// type that says "restrict", or `copyright_restricted`, limits its images.
fn levels(
    kind: Option<&str>,
    public_access: Option<bool>,
    restricted: Option<bool>,
) -> (Level, Level) {
    let object = if public_access == Some(false) {
        Level::Value(0)
    } else {
        Level::Absent
    };
    let limited = kind.is_some_and(restricts) || restricted == Some(true);
    (
        object,
        if limited {
            Level::Value(1)
        } else {
            Level::Absent
        },
    )
}

/// opencollection's images: an object keyed "0", "1", …, in key order.
fn collection_images(raw: Option<&RawValue>, rule: IdentifierRule) -> Result<Vec<Image>, String> {
    let map: Map<String, Value> = match raw {
        Some(raw) => serde_json::from_str(raw.get()).map_err(|e| format!("images: {e}"))?,
        None => Map::new(),
    };
    let mut images: Vec<(usize, &Map<String, Value>)> = map
        .iter()
        .filter_map(|(k, v)| Some((k.parse::<usize>().ok()?, v.as_object()?)))
        .collect();
    images.sort_by_key(|(k, _)| *k);
    Ok(images
        .into_iter()
        .filter_map(|(_, img)| {
            let uri = img.get("uri").and_then(Value::as_str)?;
            Some(Image {
                caption: Text::maybe(EN, img.get("description").and_then(Value::as_str)),
                copyright: img
                    .get("credit")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                ..Image::at(uri, rule)
            })
        })
        .collect())
}

/// v2's images, by `rank`.
fn v2_images(raw: Option<&RawValue>, rule: IdentifierRule) -> Result<Vec<Image>, String> {
    let list: Vec<V2Image<'_>> = match raw {
        Some(raw) => serde_json::from_str(raw.get()).map_err(|e| format!("images: {e}"))?,
        None => Vec::new(),
    };
    let mut images: Vec<(usize, &V2Image)> = list.iter().enumerate().collect();
    images.sort_by_key(|(i, img)| (img.rank.unwrap_or(i64::MAX), *i));
    Ok(images
        .into_iter()
        .filter_map(|(_, img)| {
            let reference = img
                .filename
                .as_ref()
                .or(img.largest_derivative_url.as_ref())?;
            Some(Image {
                imageid: img.id.as_deref().and_then(|i| i.parse().ok()),
                width: img.width,
                height: img.height,
                caption: Text::maybe(EN, img.description.as_deref()),
                copyright: img.credit.as_deref().map(str::to_string),
                ..Image::at(reference, rule)
            })
        })
        .collect())
}

/// The fields the index needs, read without the rest.
#[derive(Deserialize, Default)]
#[serde(default)]
struct Brief<'a> {
    #[serde(deserialize_with = "flex::id")]
    id: Option<String>,
    #[serde(borrow, deserialize_with = "flex::text")]
    title: Option<Cow<'a, str>>,
    #[serde(deserialize_with = "flex::text")]
    classification: Option<String>,
    #[serde(deserialize_with = "flex::text")]
    accession_number: Option<String>,
    #[serde(borrow)]
    images: Option<&'a RawValue>,
    #[serde(borrow, deserialize_with = "flex::text")]
    rightstype: Option<Cow<'a, str>>,
    #[serde(borrow)]
    rights_type: Option<RightsType<'a>>,
    #[serde(deserialize_with = "flex::flag")]
    public_access: Option<bool>,
    #[serde(deserialize_with = "flex::flag")]
    copyright_restricted: Option<bool>,
}

/// The index summary of a record of either API (`v2` says which).
pub fn summary(record: parts::Record, rule: IdentifierRule, v2: bool) -> Result<Summary, String> {
    let b: Brief = record.read()?;
    let id = b.id.ok_or("record has no id")?;
    let (kind, images) = if v2 {
        let kind = b.rights_type.as_ref().and_then(|r| r.name.as_deref());
        (kind, v2_images(b.images, rule)?)
    } else {
        (b.rightstype.as_deref(), collection_images(b.images, rule)?)
    };
    let kind = kind.map(str::trim).filter(|k| !k.is_empty());
    let (accesslevel, imagepermissionlevel) = if v2 {
        levels(kind, b.public_access, b.copyright_restricted)
    } else {
        levels(kind, None, None)
    };
    Ok(Summary::from_parts(
        id,
        b.title.as_deref().map(str::trim).filter(|t| !t.is_empty()),
        (b.classification, b.accession_number),
        (accesslevel, imagepermissionlevel),
        images,
        kind.and_then(rights_uri).map(str::to_string),
    ))
}

/// Reads a Collection API (opencollection) object.
pub fn collection(text: &str, rule: IdentifierRule) -> Result<Object, String> {
    let rec: Common = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let mut o = start(&rec)?;
    o.text("Collection", EN, rec.collection.as_deref());
    set_rights(&mut o, rec.rightstype.as_deref(), None);
    if let Some(uri) = rec.uri.filter(|u| u.starts_with("http")) {
        o.homepage = Some(uri);
    }
    let kind = rec
        .rightstype
        .as_deref()
        .map(str::trim)
        .filter(|k| !k.is_empty());
    (o.accesslevel, o.imagepermissionlevel) = levels(kind, None, None);
    o.images = collection_images(rec.images, rule)?;
    Ok(o)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct V2Image<'a> {
    #[serde(deserialize_with = "flex::id")]
    id: Option<String>,
    #[serde(borrow, deserialize_with = "flex::text")]
    filename: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "flex::text")]
    largest_derivative_url: Option<Cow<'a, str>>,
    #[serde(deserialize_with = "flex::rank")]
    rank: Option<i64>,
    #[serde(deserialize_with = "flex::pixels")]
    width: Option<u32>,
    #[serde(deserialize_with = "flex::pixels")]
    height: Option<u32>,
    #[serde(borrow, deserialize_with = "flex::text")]
    credit: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "flex::text")]
    description: Option<Cow<'a, str>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RightsType<'a> {
    #[serde(borrow, deserialize_with = "flex::text")]
    name: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "flex::text")]
    public_name: Option<Cow<'a, str>>,
}

/// Reads an API v2 object.
pub fn v2(text: &str, rule: IdentifierRule) -> Result<Object, String> {
    let rec: Common = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let mut o = start(&rec)?;
    let kind = rec.rights_type.as_ref().and_then(|r| r.name.as_deref());
    if let Some(rt) = &rec.rights_type {
        set_rights(&mut o, rt.name.as_deref(), rt.public_name.as_deref());
    }
    let kind = kind.map(str::trim).filter(|k| !k.is_empty());
    (o.accesslevel, o.imagepermissionlevel) =
        levels(kind, rec.public_access, rec.copyright_restricted);
    o.images = v2_images(rec.images, rule)?;
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::presentation::shapes::{read_all, Shape};

    #[test]
    fn the_published_opencollection_page_reads() {
        let text = include_str!(
            "../../../tests/fixtures/samples/brooklyn-museum-opencollection_collection-search_response.json"
        );
        let read = read_all(text);
        assert_eq!(read.len(), 2);
        assert!(read.iter().all(|(s, _)| *s == Shape::BrooklynCollection));
        let objects: Vec<&Object> = read.iter().map(|(_, o)| o).collect();
        let o = objects[0];
        assert_eq!(o.id, "1588");
        assert_eq!(o.title(), "\"Pedestal\" Armchair and Seat Cushion");
        assert_eq!(o.images.len(), 1);
        assert_eq!(
            o.images[0].identifier.as_deref(),
            Some("78.128.7_view2_IMLS_SL2")
        );
        assert_eq!(
            o.rights.as_deref(),
            Some("http://creativecommons.org/licenses/by-nc/3.0/")
        );
        assert_eq!(o.imagepermissionlevel, Level::Absent);
        let people = o.metadata.iter().find(|f| f.label == "People").unwrap();
        assert_eq!(
            people.values[0].preferred(),
            Some("Designer: Eero Saarinen, American, born Finland, 1910-1961")
        );
        assert_eq!(objects[1].id, "2263");
        assert_eq!(
            objects[1].images[0].identifier.as_deref(),
            Some("1994.156.1_bw")
        );
    }

    #[test]
    fn v2_ranks_images_and_reads_access() {
        let o = v2(
            r#"{"id": 166076, "title": "Runner", "accession_number": "2002.10",
                "public_access": 1, "copyright_restricted": "1",
                "rights_type": {"name": "copyright cleared: license on file with restrict",
                                "public_name": "© artist or artist's estate"},
                "images": [
                  {"id": 2, "filename": "b.jpg", "rank": 4},
                  {"id": 1, "largest_derivative_url": "d1.cloudfront.net/images/size4/CUR.66.242.29.jpg",
                   "rank": 1, "width": 1536, "height": 1152},
                  {"id": 3, "rank": 0}]}"#,
            IdentifierRule::Stem,
        )
        .unwrap();
        assert_eq!(o.identifiers(), ["CUR.66.242.29", "b"]);
        assert_eq!(
            (o.images[0].width, o.images[0].height),
            (Some(1536), Some(1152))
        );
        assert_eq!(o.imagepermissionlevel, Level::Value(1));
        assert_eq!(o.accesslevel, Level::Absent);
        assert_eq!(o.rights, None);
        let hidden = v2(
            r#"{"id": 1, "accession_number": "x", "public_access": false}"#,
            IdentifierRule::Stem,
        )
        .unwrap();
        assert_eq!(hidden.accesslevel, Level::Value(0));
        assert!(v2(r#"{"accession_number": "x"}"#, IdentifierRule::Stem).is_err());
    }
}
