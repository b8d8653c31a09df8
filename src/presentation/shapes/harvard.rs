//! Harvard Art Museums records: the object record (`GET /object/ID`, the shape Tessera
//! started with) and the image record (`GET /image/ID`), both in English.
//!
//! Images: an object's `images[]` in `displayorder`, each identified by its `baseimageurl`
//! (whose last segment is the IIIF identifier, `urn-3:HUAM:DDC251092_dynmc`); its
//! `renditionnumber` is an alias. An image record is an object with that one image, under its
//! `imageid`. Access: `accesslevel` and `imagepermissionlevel`, as the API documents them.

use super::flex;
use super::{IdentifierRule, ImageRef, Summary};
use crate::access::Level;
use crate::presentation::model::{Image, Object, Text};
use crate::presentation::record::{ImageEntry, ObjectRecord, Person};
use serde::Deserialize;

const EN: Option<&str> = Some("en");

fn image_of(entry: &ImageEntry, rule: IdentifierRule) -> Image {
    let reference = entry.baseimageurl.clone().unwrap_or_default();
    Image {
        identifier: rule.apply(&reference),
        reference,
        imageid: entry.imageid,
        alias: entry.renditionnumber.clone().filter(|r| !r.is_empty()),
        width: entry.width.filter(|&w| w > 0),
        height: entry.height.filter(|&h| h > 0),
        caption: Text::maybe(EN, entry.publiccaption.as_deref()),
        format: entry.format.clone(),
        copyright: entry.copyright.clone(),
        accesslevel: entry.accesslevel,
    }
}

/// "Role: Name, culture, dates", as Harvard's manifest server writes people.
pub(super) fn person(role: Option<&str>, name: Option<&str>, details: &[Option<&str>]) -> Text {
    let Some(name) = name.map(str::trim).filter(|n| !n.is_empty()) else {
        return Text::default();
    };
    let mut s = match role.map(str::trim).filter(|r| !r.is_empty()) {
        Some(role) => format!("{role}: {name}"),
        None => name.to_string(),
    };
    for d in details.iter().flatten().map(|d| d.trim()) {
        if !d.is_empty() {
            s.push_str(", ");
            s.push_str(d);
        }
    }
    Text::one(EN, &s)
}

fn people(list: &[Person]) -> Vec<Text> {
    let mut people: Vec<&Person> = list.iter().collect();
    people.sort_by_key(|p| p.displayorder.unwrap_or(i64::MAX));
    people
        .into_iter()
        .map(|p| {
            person(
                p.role.as_deref(),
                p.displayname.as_deref().or(p.name.as_deref()),
                &[p.culture.as_deref(), p.displaydate.as_deref()],
            )
        })
        .collect()
}

/// Reads an object record.
pub fn object(text: &str, rule: IdentifierRule) -> Result<Object, String> {
    let rec: ObjectRecord = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let id = rec.objectid.or(rec.id).ok_or("record has no objectid")?;
    let mut o = Object {
        id: id.to_string(),
        label: Text::one(EN, &rec.title),
        summary: Text::maybe(EN, rec.description.as_deref()),
        classification: rec.classification.clone(),
        number: rec.objectnumber.clone(),
        credit: Text::maybe(EN, rec.creditline.as_deref()),
        rights: rec.rights.clone(),
        copyright: Text::maybe(EN, rec.copyright.as_deref()),
        homepage: rec.url.clone(),
        accesslevel: rec.accesslevel,
        imagepermissionlevel: rec.imagepermissionlevel,
        ..Object::default()
    };
    o.text("Date", EN, rec.dated.as_deref());
    o.text("Classification", EN, rec.classification.as_deref());
    o.field("People", people(&rec.people));
    o.text("Medium", EN, rec.medium.as_deref());
    o.text("Technique", EN, rec.technique.as_deref());
    o.text("Dimensions", EN, rec.dimensions.as_deref());
    o.text("Credit Line", EN, rec.creditline.as_deref());
    o.text("Object Number", EN, rec.objectnumber.as_deref());
    o.text("Provenance", EN, rec.provenance.as_deref());
    o.text("Copyright", EN, rec.copyright.as_deref());
    o.images = rec
        .ordered_images()
        .into_iter()
        .map(|i| image_of(i, rule))
        .collect();
    Ok(o)
}

/// The fields of an object record the index needs; serde skips the rest without building it.
#[derive(Deserialize)]
struct IndexRecord {
    objectid: Option<u64>,
    id: Option<u64>,
    title: Option<String>,
    classification: Option<String>,
    #[serde(default)]
    accesslevel: Level,
    #[serde(default)]
    imagepermissionlevel: Level,
    images: Option<Vec<IndexImage>>,
    rights: Option<String>,
    /// Read leniently: a number that cannot be read is not searchable, and loses nothing else.
    #[serde(default, deserialize_with = "flex::text")]
    objectnumber: Option<String>,
}

#[derive(Deserialize)]
struct IndexImage {
    imageid: Option<u64>,
    baseimageurl: Option<String>,
    renditionnumber: Option<String>,
    displayorder: Option<i64>,
    #[serde(default)]
    accesslevel: Level,
}

/// The index's fields of an object record, as found by the scan that told its shape.
pub(super) struct Parts<'a> {
    pub objectid: Option<&'a str>,
    pub id: Option<&'a str>,
    pub title: Option<&'a str>,
    pub classification: Option<&'a str>,
    pub accesslevel: Option<&'a str>,
    pub imagepermissionlevel: Option<&'a str>,
    pub images: Option<&'a str>,
    pub rights: Option<&'a str>,
    pub objectnumber: Option<&'a str>,
}

fn part<'de, T: Deserialize<'de>>(raw: Option<&'de str>) -> Result<Option<T>, String> {
    raw.map(|r| serde_json::from_str(r).map_err(|e| e.to_string()))
        .transpose()
}

/// The summary of an object record from its parts: the same as [`summary`] of its text.
pub(super) fn summary_of(p: Parts, rule: IdentifierRule) -> Result<Summary, String> {
    let rec = IndexRecord {
        objectid: part(p.objectid)?,
        id: part(p.id)?,
        title: part::<Option<String>>(p.title)?.flatten(),
        classification: part::<Option<String>>(p.classification)?.flatten(),
        accesslevel: part(p.accesslevel)?.unwrap_or_default(),
        imagepermissionlevel: part(p.imagepermissionlevel)?.unwrap_or_default(),
        images: part::<Option<Vec<IndexImage>>>(p.images)?.flatten(),
        rights: part::<Option<String>>(p.rights)?.flatten(),
        objectnumber: p.objectnumber.and_then(|r| {
            flex::text(&mut serde_json::Deserializer::from_str(r))
                .ok()
                .flatten()
        }),
    };
    summarise(rec, rule)
}

/// The summary of an object record, read without the fields the index does not keep.
pub fn summary(text: &str, rule: IdentifierRule) -> Result<Summary, String> {
    summarise(serde_json::from_str(text).map_err(|e| e.to_string())?, rule)
}

fn summarise(rec: IndexRecord, rule: IdentifierRule) -> Result<Summary, String> {
    let id = rec.objectid.or(rec.id).ok_or("record has no objectid")?;
    let mut images = rec.images.unwrap_or_default();
    images.sort_by_key(|i| i.displayorder.unwrap_or(i64::MAX));
    Ok(Summary {
        id: id.to_string(),
        title: rec.title.map(|t| t.trim().to_string()).unwrap_or_default(),
        classification: rec.classification,
        number: rec.objectnumber,
        accesslevel: rec.accesslevel,
        imagepermissionlevel: rec.imagepermissionlevel,
        images: images
            .into_iter()
            .map(|i| ImageRef {
                identifier: i.baseimageurl.as_deref().and_then(|u| rule.apply(u)),
                alias: i.renditionnumber.filter(|r| !r.is_empty()),
                imageid: i.imageid,
                accesslevel: i.accesslevel,
            })
            .collect(),
        rights: rec.rights,
    })
}

/// An image record (`GET /image/ID`).
#[derive(Deserialize, Default)]
#[serde(default)]
struct ImageRecord {
    #[serde(deserialize_with = "flex::id")]
    imageid: Option<String>,
    #[serde(deserialize_with = "flex::id")]
    id: Option<String>,
    #[serde(deserialize_with = "flex::text")]
    baseimageurl: Option<String>,
    #[serde(deserialize_with = "flex::text")]
    renditionnumber: Option<String>,
    #[serde(deserialize_with = "flex::pixels")]
    width: Option<u32>,
    #[serde(deserialize_with = "flex::pixels")]
    height: Option<u32>,
    #[serde(deserialize_with = "flex::text")]
    caption: Option<String>,
    #[serde(deserialize_with = "flex::text")]
    alttext: Option<String>,
    #[serde(deserialize_with = "flex::text")]
    description: Option<String>,
    #[serde(deserialize_with = "flex::text")]
    copyright: Option<String>,
    #[serde(deserialize_with = "flex::text")]
    format: Option<String>,
    #[serde(deserialize_with = "flex::text")]
    date: Option<String>,
    #[serde(deserialize_with = "flex::text")]
    technique: Option<String>,
    accesslevel: Level,
}

/// Reads an image record: an object with its one image.
pub fn image(text: &str, rule: IdentifierRule) -> Result<Object, String> {
    let rec: ImageRecord = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let id = rec
        .imageid
        .or(rec.id)
        .ok_or("image record has no imageid")?;
    let reference = rec.baseimageurl.ok_or("image record has no baseimageurl")?;
    let label = rec
        .caption
        .as_deref()
        .or(rec.alttext.as_deref())
        .map(str::to_string)
        .unwrap_or_else(|| format!("Image {id}"));
    let mut o = Object {
        label: Text::one(EN, &label),
        summary: Text::maybe(EN, rec.description.as_deref()),
        classification: Some("Images".into()),
        copyright: Text::maybe(EN, rec.copyright.as_deref()),
        accesslevel: rec.accesslevel,
        ..Object::default()
    };
    o.text("Date", EN, rec.date.as_deref());
    o.text("Technique", EN, rec.technique.as_deref());
    o.text("Copyright", EN, rec.copyright.as_deref());
    o.images.push(Image {
        identifier: rule.apply(&reference),
        reference,
        imageid: id.parse().ok(),
        alias: rec.renditionnumber.filter(|r| !r.is_empty()),
        width: rec.width,
        height: rec.height,
        caption: Text::maybe(EN, rec.caption.as_deref()),
        format: rec.format,
        copyright: rec.copyright,
        accesslevel: rec.accesslevel,
    });
    o.id = id;
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_object_record_becomes_the_model() {
        let text = include_str!("../../../tests/fixtures/records/304069.json");
        let o = object(text, IdentifierRule::Stem).unwrap();
        assert_eq!(o.id, "304069");
        assert_eq!(o.title(), "Hydria (water jar) with Siren Attachment");
        assert_eq!(o.images.len(), 5);
        assert_eq!(
            o.images[0].identifier.as_deref(),
            Some("urn-3:HUAM:DDC251092_dynmc")
        );
        assert_eq!(
            (o.images[0].width, o.images[0].height),
            (Some(1909), Some(2550))
        );
        let labels: Vec<&str> = o.metadata.iter().map(|f| f.label).collect();
        assert_eq!(&labels[..3], ["Date", "Classification", "Medium"]);
        assert!(object(r#"{"title": "no id"}"#, IdentifierRule::Stem).is_err());
    }

    #[test]
    fn the_quick_summary_is_the_summary_of_the_model() {
        for text in [
            include_str!("../../../tests/fixtures/records/304069.json"),
            r#"{"id": 4, "title": "  t ", "imagepermissionlevel": "x", "images": [
                {"displayorder": 2, "baseimageurl": "h://x/b.jpg", "renditionnumber": "",
                 "accesslevel": 0},
                {"displayorder": 1, "baseimageurl": "h://x/a", "renditionnumber": "R1"},
                {"baseimageurl": null}]}"#,
            r#"{"objectid": 5, "title": null, "images": null}"#,
        ] {
            for rule in [IdentifierRule::Stem, IdentifierRule::Path] {
                let model = Summary::of(&object(text, rule).unwrap());
                assert_eq!(summary(text, rule).unwrap(), model, "{text}");
                let scanned = super::super::summaries(text, None, rule).unwrap();
                assert_eq!(
                    scanned[0].1,
                    Ok((super::super::Shape::HarvardObject, model))
                );
            }
        }
        assert!(summary(r#"{"title": "no id"}"#, IdentifierRule::Stem).is_err());
    }

    #[test]
    fn the_image_record_is_one_image() {
        let text = include_str!(
            "../../../tests/fixtures/samples/harvard-api-docs_image_record_current-2026.json"
        );
        let o = image(text, IdentifierRule::Stem).unwrap();
        assert_eq!(o.id, "465905");
        assert_eq!(o.images.len(), 1);
        let i = &o.images[0];
        assert_eq!(i.identifier.as_deref(), Some("urn-3:HUAM:760994"));
        assert_eq!((i.width, i.height), (Some(1955), Some(2550)));
        assert_eq!(i.alias.as_deref(), Some("760994"));
        assert_eq!(i.accesslevel, Level::Value(1));
        assert_eq!(o.title(), "Image 465905");
    }
}
