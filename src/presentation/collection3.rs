//! Presentation API 3.0 collections (§5.1). 3.0 has no paging, so that no document grows
//! with the number of objects (250,000 for Harvard) the collections form a tree:
//!
//! ```text
//! /collections/3/top                             the classifications (one reference each)
//! /collections/3/classification/{slug}           its parts (one reference per 100 objects)
//! /collections/3/classification/{slug}/{n}       up to 100 manifests (n = 1, 2, …)
//! /collections/3/hue/{hue}  and  …/hue/{hue}/{n} the same for a hue
//! ```
//!
//! A classification always lists parts, even when it has 100 objects or fewer, so that a
//! crawler meets one layout. The largest document is a classification's list of parts: one
//! reference (about 150 bytes) per 100 objects.

use super::manifest3::{english, no_language, CONTEXT};
use serde_json::{json, Map, Value};

/// Manifests per part.
pub const PART_SIZE: usize = 100;

/// The number of parts of a collection of `total` objects.
pub fn part_count(total: usize) -> usize {
    total.div_ceil(PART_SIZE)
}

/// The URI of part `n` (1-based) of a collection.
pub fn part_id(collection: &str, n: usize) -> String {
    format!("{collection}/{n}")
}

/// The label of part `n` of a collection of `total` objects: the collection's, and which
/// objects the part holds.
pub fn part_label(label: &str, n: usize, total: usize) -> String {
    let first = (n - 1) * PART_SIZE + 1;
    let last = (n * PART_SIZE).min(total);
    format!("{label}, objects {first}–{last} of {total}")
}

/// What a collection document says of itself: its URI, label (a language map), the
/// collection it is part of (URI and plain label), and its provider.
#[derive(Debug, Clone)]
pub struct Head<'a> {
    /// The URI.
    pub id: &'a str,
    /// The label, as a language map.
    pub label: Value,
    /// The collection above it.
    pub part_of: Option<(&'a str, &'a str)>,
    /// The `provider` value (see [`super::manifest3::provider`]).
    pub provider: Option<Value>,
}

/// A reference to a collection, for `items`.
pub fn collection_ref(id: &str, label: &str) -> Value {
    json!({"id": id, "type": "Collection", "label": no_language(label)})
}

/// A reference to a manifest, for `items`.
pub fn manifest_ref(id: &str, label: &str) -> Value {
    json!({"id": id, "type": "Manifest", "label": no_language(label)})
}

/// A collection document listing `items` (references from [`collection_ref`] or
/// [`manifest_ref`]).
pub fn collection(head: Head, items: Vec<Value>) -> Value {
    let mut m = Map::new();
    m.insert("@context".into(), CONTEXT.into());
    m.insert("id".into(), head.id.into());
    m.insert("type".into(), "Collection".into());
    m.insert("label".into(), head.label);
    if let Some(p) = head.provider {
        m.insert("provider".into(), p);
    }
    if let Some((id, label)) = head.part_of {
        m.insert(
            "partOf".into(),
            json!([{"id": id, "type": "Collection", "label": no_language(label)}]),
        );
    }
    m.insert("items".into(), items.into());
    Value::Object(m)
}

/// The list of parts of a collection of `total` objects, for its `items`.
pub fn parts(id: &str, label: &str, total: usize) -> Vec<Value> {
    (1..=part_count(total))
        .map(|n| collection_ref(&part_id(id, n), &part_label(label, n, total)))
        .collect()
}

/// The label of a collection this server names itself, in English.
pub fn own_label(text: &str) -> Value {
    english(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_hold_at_most_one_hundred() {
        assert_eq!(
            (
                part_count(0),
                part_count(1),
                part_count(100),
                part_count(101)
            ),
            (0, 1, 1, 2)
        );
        let list = parts("h/c/prints", "Prints", 250);
        assert_eq!(list.len(), 3);
        assert_eq!(list[0]["id"], "h/c/prints/1");
        assert_eq!(list[2]["id"], "h/c/prints/3");
        assert_eq!(list[2]["type"], "Collection");
        assert_eq!(
            list[2]["label"],
            json!({"none": ["Prints, objects 201–250 of 250"]})
        );
        assert_eq!(part_label("P", 1, 100), "P, objects 1–100 of 100");
        assert!(parts("h/c/none", "None", 0).is_empty());
    }

    #[test]
    fn document_shape() {
        let c = collection(
            Head {
                id: "h/c/prints/2",
                label: no_language("Prints, objects 101–150 of 150"),
                part_of: Some(("h/c/prints", "Prints")),
                provider: None,
            },
            vec![manifest_ref("h/m/1", "One <b>bold</b>")],
        );
        let keys: Vec<&str> = c.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["@context", "id", "type", "label", "partOf", "items"]);
        assert_eq!(c["@context"], CONTEXT);
        assert_eq!(c["partOf"][0]["id"], "h/c/prints");
        assert_eq!(
            c["items"][0],
            json!({"id": "h/m/1", "type": "Manifest", "label": {"none": ["One bold"]}})
        );
        assert_eq!(own_label("All objects"), json!({"en": ["All objects"]}));
    }
}
