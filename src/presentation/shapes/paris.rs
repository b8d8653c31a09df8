//! Paris Musées works (`NodeOeuvre` of its GraphQL API, `data.nodeById` or a list), in
//! French.
//!
//! The id is `entityId` (or `nid`, or `id`), else the number that ends `absolutePath`
//! (`…/node/226737`). Images: `fieldVisuels[].entity`, its `publicUrl` else its `vignette`,
//! identified by the last segment without its extension; many works have none. Access: the
//! public API lists only works whose images are free to show.

use super::flex;
use super::parts;
use super::{IdentifierRule, Summary};
use crate::presentation::model::{Image, Object, Text};
use serde::Deserialize;
use std::borrow::Cow;

const FR: Option<&str> = Some("fr");

#[derive(Deserialize, Default)]
#[serde(default)]
struct Named<'a> {
    #[serde(borrow, deserialize_with = "flex::text")]
    name: Option<Cow<'a, str>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Ref<T> {
    entity: Option<T>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Visual<'a> {
    #[serde(borrow, rename = "publicUrl", deserialize_with = "flex::text")]
    public_url: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "flex::text")]
    vignette: Option<Cow<'a, str>>,
}

/// A whole work: the index's fields and the rest.
#[derive(Deserialize, Default)]
#[serde(default)]
struct Oeuvre<'a> {
    #[serde(borrow, flatten)]
    brief: Brief<'a>,
    #[serde(rename = "fieldOeuvreThemeRepresente", borrow)]
    themes: Option<Vec<Ref<Named<'a>>>>,
    #[serde(rename = "fieldLieuxConcernes", borrow)]
    places: Option<Vec<Ref<Named<'a>>>>,
    #[serde(rename = "fieldDonateurs", borrow)]
    donors: Option<Vec<Ref<Named<'a>>>>,
    #[serde(rename = "fieldMateriauxTechnique", borrow)]
    materials: Option<Vec<Ref<Named<'a>>>>,
    #[serde(borrow, rename = "fieldMusee")]
    museum: Option<Ref<Named<'a>>>,
}

fn names(list: &Option<Vec<Ref<Named<'_>>>>) -> Vec<Text> {
    list.iter()
        .flatten()
        .filter_map(|r| r.entity.as_ref()?.name.as_deref())
        .map(|n| Text::one(FR, n))
        .collect()
}

/// Reads a work.
pub fn object(text: &str, rule: IdentifierRule) -> Result<Object, String> {
    let rec: Oeuvre<'_> = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let b = &rec.brief;
    let id = id_of(
        b.bundle.as_deref(),
        [&b.entity_id, &b.nid, &b.id],
        b.absolute_path.as_deref(),
    )?;
    let classification = classification(&b.denominations);
    let mut o = Object {
        id,
        label: Text::maybe(FR, b.title.as_deref()),
        classification,
        number: b.inventory.clone(),
        homepage: b
            .absolute_path
            .as_deref()
            .filter(|p| p.starts_with("http"))
            .map(str::to_string),
        ..Object::default()
    };
    o.field("Classification", names(&b.denominations));
    o.field("Subject", names(&rec.themes));
    o.field("Places", names(&rec.places));
    o.field("Materials", names(&rec.materials));
    o.field("Donors", names(&rec.donors));
    o.text(
        "Museum",
        FR,
        rec.museum
            .as_ref()
            .and_then(|m| m.entity.as_ref()?.name.as_deref()),
    );
    o.text("Object Number", FR, b.inventory.as_deref());
    o.images = images(&b.visuals, rule);
    Ok(o)
}

/// The work's id: `entityId`, `nid` or `id`, else the number that ends `absolutePath`; a
/// node of another bundle than "oeuvre" is refused.
fn id_of(
    bundle: Option<&str>,
    ids: [&Option<String>; 3],
    absolute_path: Option<&str>,
) -> Result<String, String> {
    if let Some(b) = bundle.filter(|b| *b != "oeuvre") {
        return Err(format!("a Paris Musées {b:?}, not a work (\"oeuvre\")"));
    }
    let from_path = absolute_path.and_then(|p| {
        let last = p.trim_end_matches('/').rsplit('/').next()?;
        (!last.is_empty() && last.bytes().all(|b| b.is_ascii_digit())).then(|| last.to_string())
    });
    ids.into_iter()
        .find_map(|i| i.clone())
        .or(from_path)
        .ok_or_else(|| "work has no id (entityId, nid, id or a numbered absolutePath)".into())
}

fn classification(denominations: &Option<Vec<Ref<Named<'_>>>>) -> Option<String> {
    names(denominations)
        .first()
        .and_then(|t| t.preferred())
        .map(str::to_string)
}

/// The images: each visual's `publicUrl`, else its `vignette`.
fn images(visuals: &Option<Vec<Ref<Visual<'_>>>>, rule: IdentifierRule) -> Vec<Image> {
    visuals
        .iter()
        .flatten()
        .filter_map(|r| r.entity.as_ref())
        .filter_map(|v| {
            Some(Image::at(
                v.public_url.as_ref().or(v.vignette.as_ref())?,
                rule,
            ))
        })
        .collect()
}

/// The fields the index needs, read without the rest.
#[derive(Deserialize, Default)]
#[serde(default)]
struct Brief<'a> {
    #[serde(borrow, rename = "entityBundle", deserialize_with = "flex::text")]
    bundle: Option<Cow<'a, str>>,
    #[serde(rename = "entityId", deserialize_with = "flex::id")]
    entity_id: Option<String>,
    #[serde(deserialize_with = "flex::id")]
    nid: Option<String>,
    #[serde(deserialize_with = "flex::id")]
    id: Option<String>,
    #[serde(borrow, deserialize_with = "flex::text")]
    title: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "absolutePath", deserialize_with = "flex::text")]
    absolute_path: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "fieldDenominations")]
    denominations: Option<Vec<Ref<Named<'a>>>>,
    #[serde(borrow, rename = "fieldVisuels")]
    visuals: Option<Vec<Ref<Visual<'a>>>>,
    #[serde(rename = "fieldOeuvreNumInventaire", deserialize_with = "flex::text")]
    inventory: Option<String>,
}

/// The index summary of a work.
pub fn summary(record: parts::Record, rule: IdentifierRule) -> Result<Summary, String> {
    let b: Brief = record.read()?;
    let id = id_of(
        b.bundle.as_deref(),
        [&b.entity_id, &b.nid, &b.id],
        b.absolute_path.as_deref(),
    )?;
    Ok(Summary::from_parts(
        id,
        b.title.as_deref().map(str::trim).filter(|t| !t.is_empty()),
        (classification(&b.denominations), b.inventory),
        (Default::default(), Default::default()),
        images(&b.visuals, rule),
        None,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::presentation::shapes::{read_all, Shape};

    #[test]
    fn the_published_graphql_response_reads_in_french() {
        let text = include_str!(
            "../../../tests/fixtures/samples/paris-musees_graphql_nodeById-oeuvre-example.json"
        );
        let [(shape, o)] = &read_all(text)[..] else {
            panic!("one record")
        };
        assert_eq!(*shape, Shape::ParisMusees);
        assert_eq!(o.id, "226737");
        assert_eq!(
            o.title(),
            "Soleil couchant sur la Seine à Lavacourt, effet d'hiver"
        );
        assert_eq!(o.label.0[0].lang.as_deref(), Some("fr"));
        assert!(o.images.is_empty(), "the sample has no fieldVisuels");
        let places = o.metadata.iter().find(|f| f.label == "Places").unwrap();
        assert_eq!(places.values.len(), 2);
    }

    #[test]
    fn visuals_become_images_and_other_bundles_are_refused() {
        let o = object(
            r#"{"entityBundle": "oeuvre", "nid": 7, "title": "t", "fieldVisuels": [
                {"entity": {"publicUrl": "https://x/sites/default/files/oeuvre/PPP1.jpg"}},
                {"entity": {"vignette": "https://x/styles/thumbnail/PPP2.jpg?itok=1"}},
                {"entity": null}]}"#,
            IdentifierRule::Stem,
        )
        .unwrap();
        assert_eq!(o.identifiers(), ["PPP1", "PPP2"]);
        assert!(object(
            r#"{"entityBundle": "auteur", "nid": 1}"#,
            IdentifierRule::Stem
        )
        .is_err());
        assert!(object(r#"{"entityBundle": "oeuvre"}"#, IdentifierRule::Stem).is_err());
    }
}
