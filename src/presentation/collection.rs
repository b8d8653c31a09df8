//! Paged collections (Presentation 2.1 §5.1 and the paging of §9): an index document with
//! `total`, `first` and `last`, and pages of at most [`PAGE_SIZE`] manifests with
//! `startIndex`, `next` and `prev`, so that no document grows with the collection.

use super::CONTEXT;
use serde_json::{json, Map, Value};

/// Manifests per page.
pub const PAGE_SIZE: usize = 100;

/// A reference to a manifest or collection: its URI and label.
#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    /// The URI.
    pub id: String,
    /// The label.
    pub label: String,
}

/// The number of pages for `total` manifests.
pub fn page_count(total: usize) -> usize {
    total.div_ceil(PAGE_SIZE)
}

/// The URI of page `n` (1-based) of a collection.
pub fn page_id(collection: &str, n: usize) -> String {
    format!("{collection}?page={n}")
}

fn refs(items: &[Reference], kind: &str) -> Value {
    items
        .iter()
        .map(|r| json!({"@id": r.id, "@type": kind, "label": r.label}))
        .collect::<Vec<_>>()
        .into()
}

/// The index of a paged collection: sub-collections, the total and the first and last pages.
pub fn index(
    id: &str,
    label: &str,
    within: Option<&str>,
    subcollections: &[Reference],
    total: usize,
) -> Value {
    let mut m = Map::new();
    m.insert("@context".into(), CONTEXT.into());
    m.insert("@id".into(), id.into());
    m.insert("@type".into(), "sc:Collection".into());
    m.insert("label".into(), label.into());
    if let Some(w) = within {
        m.insert("within".into(), w.into());
    }
    if !subcollections.is_empty() {
        m.insert("collections".into(), refs(subcollections, "sc:Collection"));
    }
    m.insert("total".into(), total.into());
    if total > 0 {
        m.insert("first".into(), page_id(id, 1).into());
        m.insert("last".into(), page_id(id, page_count(total)).into());
    }
    Value::Object(m)
}

/// Page `n` (1-based) of a collection of `total` manifests; `manifests` are this page's.
pub fn page(id: &str, label: &str, n: usize, total: usize, manifests: &[Reference]) -> Value {
    let mut m = Map::new();
    m.insert("@context".into(), CONTEXT.into());
    m.insert("@id".into(), page_id(id, n).into());
    m.insert("@type".into(), "sc:Collection".into());
    m.insert("label".into(), format!("{label}, page {n}").into());
    m.insert("within".into(), id.into());
    m.insert("startIndex".into(), ((n - 1) * PAGE_SIZE).into());
    if n > 1 {
        m.insert("prev".into(), page_id(id, n - 1).into());
    }
    if n < page_count(total) {
        m.insert("next".into(), page_id(id, n + 1).into());
    }
    m.insert("manifests".into(), refs(manifests, "sc:Manifest"));
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paging() {
        assert_eq!(
            (
                page_count(0),
                page_count(1),
                page_count(100),
                page_count(101)
            ),
            (0, 1, 1, 2)
        );
        let subs = [Reference {
            id: "h/collections/classification/prints".into(),
            label: "Prints".into(),
        }];
        let top = index("h/collections/top", "Top", None, &subs, 250);
        assert_eq!(top["first"], "h/collections/top?page=1");
        assert_eq!(top["last"], "h/collections/top?page=3");
        assert_eq!(top["collections"][0]["@type"], "sc:Collection");
        let m = [Reference {
            id: "h/manifests/object/1".into(),
            label: "One".into(),
        }];
        let p1 = page("h/collections/top", "Top", 1, 250, &m);
        assert!(p1.get("prev").is_none());
        assert_eq!(p1["next"], "h/collections/top?page=2");
        assert_eq!(p1["startIndex"], 0);
        let p3 = page("h/collections/top", "Top", 3, 250, &m);
        assert_eq!(p3["startIndex"], 200);
        assert!(p3.get("next").is_none());
        assert_eq!(p3["within"], "h/collections/top");
        let empty = index("h/c", "Empty", None, &[], 0);
        assert!(empty.get("first").is_none());
    }
}
