//! The Harvard Art Museums object record (the fields Tessera uses), as the API returns it.
//! Unknown fields are ignored; every field may be missing or null.

use serde::{Deserialize, Deserializer};

pub use crate::access::Level;

/// Deserialises `null` as the type's default.
fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// One object record.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ObjectRecord {
    /// The object id (Harvard's `objectid`).
    pub objectid: Option<u64>,
    /// The same number, under the name every Harvard resource uses.
    pub id: Option<u64>,
    /// The title.
    #[serde(deserialize_with = "null_default")]
    pub title: String,
    /// A display date, such as "late 5th century BCE".
    pub dated: Option<String>,
    /// The classification, such as "Vessels".
    pub classification: Option<String>,
    /// Materials.
    pub medium: Option<String>,
    /// Technique.
    pub technique: Option<String>,
    /// Dimensions, as text.
    pub dimensions: Option<String>,
    /// The credit line.
    pub creditline: Option<String>,
    /// The accession number.
    pub objectnumber: Option<String>,
    /// Provenance, as text.
    pub provenance: Option<String>,
    /// Copyright statement, as text.
    pub copyright: Option<String>,
    /// A rights statement URI (not in Harvard's records; other museums send one).
    pub rights: Option<String>,
    /// A description.
    pub description: Option<String>,
    /// The object's web page.
    pub url: Option<String>,
    /// 0 = restricted, 1 = public.
    pub accesslevel: Level,
    /// 0 = images at any size, 1 = at most 256 px, 2 = no images.
    pub imagepermissionlevel: Level,
    /// People related to the object.
    #[serde(deserialize_with = "null_default")]
    pub people: Vec<Person>,
    /// The object's images.
    #[serde(deserialize_with = "null_default")]
    pub images: Vec<ImageEntry>,
}

/// A person related to an object.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Person {
    /// The name as displayed.
    pub displayname: Option<String>,
    /// The name.
    pub name: Option<String>,
    /// The role, such as "Artist".
    pub role: Option<String>,
    /// The culture, such as "Greek".
    pub culture: Option<String>,
    /// Life dates, as text.
    pub displaydate: Option<String>,
    /// Position in the list.
    pub displayorder: Option<i64>,
}

/// An image of an object.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ImageEntry {
    /// Harvard's image id.
    pub imageid: Option<u64>,
    /// The IIIF Image service base URL; its last path segment is the local identifier.
    pub baseimageurl: Option<String>,
    /// The rendition number; it also resolves as an identifier.
    pub renditionnumber: Option<String>,
    /// Position among the object's images (1 = canonical).
    pub displayorder: Option<i64>,
    /// Width in pixels.
    pub width: Option<u32>,
    /// Height in pixels.
    pub height: Option<u32>,
    /// A public caption.
    pub publiccaption: Option<String>,
    /// Media type.
    pub format: Option<String>,
    /// Copyright of the photograph.
    pub copyright: Option<String>,
    /// 0 = restricted, 1 = public (image records carry it; object records may).
    pub accesslevel: Level,
}

impl ObjectRecord {
    /// Images sorted by `displayorder` (missing orders last, then in file order).
    pub fn ordered_images(&self) -> Vec<&ImageEntry> {
        let mut imgs: Vec<&ImageEntry> = self.images.iter().collect();
        imgs.sort_by_key(|i| i.displayorder.unwrap_or(i64::MAX));
        imgs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_real_harvard_record_parses() {
        let text = include_str!("../../tests/fixtures/records/304069.json");
        let r: ObjectRecord = serde_json::from_str(text).unwrap();
        assert_eq!(r.objectid, Some(304069));
        assert_eq!(r.title, "Hydria (water jar) with Siren Attachment");
        assert_eq!(r.classification.as_deref(), Some("Vessels"));
        assert_eq!(r.images.len(), 5);
        let first = r.ordered_images()[0];
        assert_eq!(
            first.baseimageurl.as_deref(),
            Some("https://nrs.harvard.edu/urn-3:HUAM:DDC251092_dynmc")
        );
        assert_eq!((first.width, first.height), (Some(1909), Some(2550)));
    }

    #[test]
    fn nulls_and_gaps_are_tolerated() {
        let r: ObjectRecord = serde_json::from_str(
            r#"{"objectid": 7, "title": null, "images": null, "people": null}"#,
        )
        .unwrap();
        assert_eq!(
            (r.objectid, r.title.as_str(), r.images.len()),
            (Some(7), "", 0)
        );
    }

    #[test]
    fn access_levels_are_read_leniently_or_kept_as_unreadable() {
        let level = |json: &str| Level::from_json(&serde_json::from_str(json).unwrap());
        assert_eq!(level("1"), Level::Value(1));
        assert_eq!(level("1.0"), Level::Value(1));
        assert_eq!(level("\"2\""), Level::Value(2));
        assert_eq!(level("null"), Level::Absent);
        for odd in ["1.5", "-1", "300", "\"yes\"", "[1]", "true"] {
            assert_eq!(level(odd), Level::Unreadable, "{odd}");
        }
        let r: ObjectRecord =
            serde_json::from_str(r#"{"objectid": 1, "imagepermissionlevel": 1.0}"#).unwrap();
        assert_eq!(r.imagepermissionlevel, Level::Value(1));
        assert_eq!(r.accesslevel, Level::Absent);
    }

    #[test]
    fn images_follow_displayorder() {
        let r: ObjectRecord = serde_json::from_str(
            r#"{"objectid": 1, "images": [
                {"displayorder": 3, "baseimageurl": "h://x/c"},
                {"displayorder": 1, "baseimageurl": "h://x/a"},
                {"baseimageurl": "h://x/z"},
                {"displayorder": 2, "baseimageurl": "h://x/b"}]}"#,
        )
        .unwrap();
        let ids: Vec<&str> = r
            .ordered_images()
            .iter()
            .filter_map(|i| i.baseimageurl.as_deref())
            .collect();
        assert_eq!(ids, ["h://x/a", "h://x/b", "h://x/c", "h://x/z"]);
    }
}
