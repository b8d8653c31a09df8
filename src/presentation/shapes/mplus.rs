//! M+ (Hong Kong) objects as its TMS extract indexes them (an Elasticsearch hit's
//! `_source`). Text fields are lists of `{text, lang}` in `en`, `zh-hant` and `zh-hans`, and
//! keep every language.
//!
//! Images: `medias[]`, the `primarydisplay` one first, then by `rank`; the identifier is the
//! `filename`'s last segment without its extension. Access: the records carry none (M+
//! publishes its data as CC0), so objects are public unless a folder's rules say otherwise.

use super::flex;
use super::parts;
use super::{IdentifierRule, Summary};
use crate::presentation::model::{Image, Object, Text};
use serde::Deserialize;
use std::borrow::Cow;

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
struct Said<'a> {
    #[serde(borrow, deserialize_with = "flex::text")]
    text: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "flex::text")]
    lang: Option<Cow<'a, str>>,
}

fn text(list: &[Said<'_>]) -> Text {
    let mut t = Text::default();
    for s in list {
        if let Some(v) = &s.text {
            t.push(s.lang.as_deref(), v);
        }
    }
    t
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct AreaCategory<'a> {
    #[serde(deserialize_with = "flex::rank")]
    rank: Option<i64>,
    #[serde(borrow, rename = "type", deserialize_with = "flex::text")]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    areacat: Option<Vec<Said<'a>>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Author<'a> {
    #[serde(deserialize_with = "flex::rank")]
    rank: Option<i64>,
    #[serde(borrow, deserialize_with = "flex::text")]
    name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    roles: Option<Vec<Said<'a>>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Media<'a> {
    #[serde(deserialize_with = "flex::rank")]
    rank: Option<i64>,
    #[serde(deserialize_with = "flex::flag")]
    primarydisplay: Option<bool>,
    #[serde(borrow, deserialize_with = "flex::text")]
    filename: Option<Cow<'a, str>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Record<'a> {
    #[serde(deserialize_with = "flex::id")]
    id: Option<String>,
    #[serde(deserialize_with = "flex::text")]
    objectnumber: Option<String>,
    #[serde(deserialize_with = "flex::rank")]
    datebegin: Option<i64>,
    #[serde(deserialize_with = "flex::rank")]
    dateend: Option<i64>,
    #[serde(borrow)]
    titles: Titles<'a>,
    #[serde(borrow)]
    creditlines: Option<Vec<Said<'a>>>,
    #[serde(borrow)]
    mediums: Option<Vec<Said<'a>>>,
    #[serde(borrow)]
    dimensions: Option<Vec<Said<'a>>>,
    #[serde(borrow)]
    objectstatus: Option<Vec<Said<'a>>>,
    #[serde(borrow)]
    copyrightcreditlines: Option<Vec<Said<'a>>>,
    #[serde(borrow)]
    summaries: Option<Vec<Said<'a>>>,
    #[serde(borrow)]
    areacategories: Option<Vec<AreaCategory<'a>>>,
    #[serde(borrow)]
    authors: Option<Vec<Option<Vec<Author<'a>>>>>,
    #[serde(borrow)]
    medias: Option<Vec<Media<'a>>>,
}

fn list(v: &Option<Vec<Said<'_>>>) -> Text {
    text(v.as_deref().unwrap_or_default())
}

fn dates(begin: Option<i64>, end: Option<i64>) -> Option<String> {
    match (begin.filter(|&b| b != 0), end.filter(|&e| e != 0)) {
        (Some(b), Some(e)) if b != e => Some(format!("{b}–{e}")),
        (Some(y), _) | (None, Some(y)) => Some(y.to_string()),
        (None, None) => None,
    }
}

/// Reads an M+ object (`_source` of a hit).
pub fn object(text_: &str, rule: IdentifierRule) -> Result<Object, String> {
    let rec: Record = serde_json::from_str(text_).map_err(|e| e.to_string())?;
    let id = rec.id.clone().ok_or("record has no id")?;
    let label = label(&rec.titles);
    let cats = ranked(&rec.areacategories);
    let category = |kind: &str| category(&cats, kind);
    let classification = category("Category").or_else(|| category("Area"));
    let mut o = Object {
        id,
        label,
        summary: list(&rec.summaries),
        classification: classification
            .as_ref()
            .and_then(|t| t.preferred())
            .map(str::to_string),
        number: rec.objectnumber.clone(),
        credit: list(&rec.creditlines),
        copyright: list(&rec.copyrightcreditlines),
        homepage: None,
        ..Object::default()
    };
    o.text("Date", None, dates(rec.datebegin, rec.dateend).as_deref());
    o.field("Area", category("Area").into_iter().collect());
    o.field("Category", category("Category").into_iter().collect());
    let mut authors: Vec<&Author> = rec.authors.iter().flatten().flatten().flatten().collect();
    authors.sort_by_key(|a| a.rank.unwrap_or(i64::MAX));
    let people = authors
        .into_iter()
        .filter_map(|a| {
            let name = a.name.as_deref()?.trim();
            let roles = list(&a.roles);
            let mut t = Text::default();
            if roles.is_empty() {
                t.push(None, name);
            }
            for r in &roles.0 {
                t.push(r.lang.as_deref(), &format!("{}: {name}", r.value));
            }
            Some(t)
        })
        .collect();
    o.field("People", people);
    o.field("Medium", vec![list(&rec.mediums)]);
    o.field("Dimensions", vec![list(&rec.dimensions)]);
    o.field("Credit Line", vec![list(&rec.creditlines)]);
    o.text("Object Number", None, rec.objectnumber.as_deref());
    o.field("Status", vec![list(&rec.objectstatus)]);
    o.field("Copyright", vec![list(&rec.copyrightcreditlines)]);
    o.images = images(&rec.medias, rule);
    Ok(o)
}

type Titles<'a> = Option<Vec<Option<Vec<Said<'a>>>>>;

/// The first title that has any text.
fn first_title<'r, 'a>(titles: &'r Titles<'a>) -> Option<&'r [Said<'a>]> {
    titles
        .iter()
        .flatten()
        .flatten()
        .map(Vec::as_slice)
        .find(|t| t.iter().any(|s| said(s).is_some()))
}

/// The first title that has any text, in every language it has.
fn label(titles: &Titles<'_>) -> Text {
    first_title(titles).map(text).unwrap_or_default()
}

/// A value's text, trimmed, unless it is blank.
fn said<'r>(s: &'r Said<'_>) -> Option<&'r str> {
    s.text.as_deref().map(str::trim).filter(|t| !t.is_empty())
}

/// [`Text::preferred`] of `text(list)`, without making the text.
fn preferred<'r>(list: &'r [Said<'_>]) -> Option<&'r str> {
    let pick = |want: Option<&str>| {
        list.iter()
            .filter(|s| s.lang.as_deref() == want)
            .find_map(said)
    };
    pick(Some("en"))
        .or_else(|| pick(None))
        .or_else(|| list.iter().find_map(said))
}

fn ranked<'r, 'a>(cats: &'r Option<Vec<AreaCategory<'a>>>) -> Vec<&'r AreaCategory<'a>> {
    let mut cats: Vec<&AreaCategory> = cats.iter().flatten().collect();
    cats.sort_by_key(|c| c.rank.unwrap_or(i64::MAX));
    cats
}

/// The first area category of a type (`Area`, `Category`), unless it has no text.
fn category_of<'r, 'a>(cats: &[&'r AreaCategory<'a>], kind: &str) -> Option<&'r [Said<'a>]> {
    cats.iter()
        .find(|c| c.kind.as_deref() == Some(kind))
        .map(|c| c.areacat.as_deref().unwrap_or_default())
        .filter(|l| l.iter().any(|s| said(s).is_some()))
}

/// The first area category of a type (`Area`, `Category`), in every language.
fn category(cats: &[&AreaCategory<'_>], kind: &str) -> Option<Text> {
    category_of(cats, kind).map(text)
}

/// The images: the `primarydisplay` one first, then by `rank`.
fn images(medias: &Option<Vec<Media<'_>>>, rule: IdentifierRule) -> Vec<Image> {
    let mut medias: Vec<(usize, &Media)> = medias.iter().flatten().enumerate().collect();
    medias.sort_by_key(|(i, m)| {
        (
            m.primarydisplay != Some(true),
            m.rank.unwrap_or(i64::MAX),
            *i,
        )
    });
    medias
        .into_iter()
        .filter_map(|(_, m)| Some(Image::at(m.filename.as_ref()?, rule)))
        .collect()
}

/// The fields the index needs, read without the rest.
#[derive(Deserialize, Default)]
#[serde(default)]
struct Brief<'a> {
    #[serde(deserialize_with = "flex::id")]
    id: Option<String>,
    #[serde(borrow)]
    titles: Titles<'a>,
    #[serde(borrow)]
    areacategories: Option<Vec<AreaCategory<'a>>>,
    #[serde(borrow)]
    medias: Option<Vec<Media<'a>>>,
    #[serde(deserialize_with = "flex::text")]
    objectnumber: Option<String>,
}

/// The index summary of an M+ object.
pub fn summary(record: parts::Record, rule: IdentifierRule) -> Result<Summary, String> {
    let b: Brief = record.read()?;
    let id = b.id.ok_or("record has no id")?;
    let cats = ranked(&b.areacategories);
    let classification = category_of(&cats, "Category").or_else(|| category_of(&cats, "Area"));
    Ok(Summary::from_parts(
        id,
        first_title(&b.titles).and_then(preferred),
        (
            classification.and_then(preferred).map(str::to_string),
            b.objectnumber,
        ),
        (Default::default(), Default::default()),
        images(&b.medias, rule),
        None,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::presentation::shapes::{read_all, Shape};

    #[test]
    fn the_published_hit_reads_in_every_language() {
        let text = include_str!(
            "../../../tests/fixtures/samples/mplus-museum_tms-extract_single_DB_object.json"
        );
        let [(shape, o)] = &read_all(text)[..] else {
            panic!("one record")
        };
        assert_eq!(*shape, Shape::MPlus);
        assert_eq!(o.id, "23");
        assert_eq!(o.title(), "Flying onto a branch");
        let langs: Vec<Option<&str>> = o.label.0.iter().map(|l| l.lang.as_deref()).collect();
        assert_eq!(langs, [Some("en"), Some("zh-hant")]);
        assert_eq!(o.label.0[1].value, "飛上枝頭");
        assert_eq!(o.classification.as_deref(), Some("Photography"));
        assert_eq!(o.images.len(), 1);
        assert_eq!(o.images[0].identifier.as_deref(), Some("000014_001"));
        let people = o.metadata.iter().find(|f| f.label == "People").unwrap();
        assert_eq!(people.values.len(), 3);
        assert_eq!(people.values[0].preferred(), Some("Artist: Pretend Author"));
        let area = o.metadata.iter().find(|f| f.label == "Area").unwrap();
        assert_eq!(area.values[0].0.len(), 3, "en, zh-hant and zh-hans");
    }

    #[test]
    fn primary_display_comes_first() {
        let o = object(
            r#"{"id": 1, "medias": [
                {"rank": 0, "filename": "/a/one.jpg"},
                {"rank": 5, "primarydisplay": true, "filename": "/a/two.jpg"}]}"#,
            IdentifierRule::Stem,
        )
        .unwrap();
        assert_eq!(o.identifiers(), ["two", "one"]);
    }
}
