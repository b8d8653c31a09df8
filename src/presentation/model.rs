//! The one object model every record shape is read into: labels with their languages,
//! metadata, rights, images in display order, and access. Manifests, collections and access
//! rules are made from this model only, never from a museum's own field names.

use crate::access::Level;

/// A piece of text in one or more languages, in the order the record gives them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Text(pub Vec<Lang>);

/// One language's value of a [`Text`].
#[derive(Debug, Clone, PartialEq)]
pub struct Lang {
    /// A BCP 47 tag such as `en`, `fr` or `zh-hant`; `None` when the record does not say.
    pub lang: Option<String>,
    /// The value, as in the record (it may hold markup; documents sanitise it).
    pub value: String,
}

impl Text {
    /// Text in one language (`None`: unknown). Empty or blank values give an empty text.
    pub fn one(lang: Option<&str>, value: &str) -> Text {
        let value = value.trim();
        if value.is_empty() {
            return Text::default();
        }
        Text(vec![Lang {
            lang: lang.map(str::to_string),
            value: value.to_string(),
        }])
    }

    /// As [`Text::one`], from an optional value.
    pub fn maybe(lang: Option<&str>, value: Option<&str>) -> Text {
        value.map(|v| Text::one(lang, v)).unwrap_or_default()
    }

    /// Adds a value in a language, unless it is blank or that language already has it.
    pub fn push(&mut self, lang: Option<&str>, value: &str) {
        let value = value.trim();
        if value.is_empty() || self.0.iter().any(|l| l.lang.as_deref() == lang) {
            return;
        }
        self.0.push(Lang {
            lang: lang.map(str::to_string),
            value: value.to_string(),
        });
    }

    /// Whether there is no value at all.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The value to show when only one can be shown: English, else one with no language,
    /// else the first.
    pub fn preferred(&self) -> Option<&str> {
        let pick = |want: Option<&str>| self.0.iter().find(|l| l.lang.as_deref() == want);
        pick(Some("en"))
            .or_else(|| pick(None))
            .or_else(|| self.0.first())
            .map(|l| l.value.as_str())
    }
}

/// One metadata pair: an English label and one or more values.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// The label, such as "Date" or "Medium".
    pub label: &'static str,
    /// The values; several for a list such as people.
    pub values: Vec<Text>,
}

/// One image of an object.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Image {
    /// The reference the record gives: a URL or a file name.
    pub reference: String,
    /// The local image identifier the reference maps to (see [`super::shapes::IdentifierRule`]).
    pub identifier: Option<String>,
    /// The museum's own image id, when it has a number (names Harvard's canvases).
    pub imageid: Option<u64>,
    /// Another name the image is known by (Harvard's rendition number).
    pub alias: Option<String>,
    /// Width in pixels, where the record says.
    pub width: Option<u32>,
    /// Height in pixels, where the record says.
    pub height: Option<u32>,
    /// A caption for its canvas.
    pub caption: Text,
    /// Media type, where the record says.
    pub format: Option<String>,
    /// Copyright of the photograph, where the record says.
    pub copyright: Option<String>,
    /// The image's own access level (0 restricted, 1 public).
    pub accesslevel: Level,
}

/// One object, whatever museum's record it came from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Object {
    /// The object's id within its museum (Harvard's `objectid`, Brooklyn's `id`, …), as text.
    pub id: String,
    /// The title.
    pub label: Text,
    /// A description.
    pub summary: Text,
    /// Metadata pairs, in display order.
    pub metadata: Vec<Field>,
    /// The classification that groups objects into collections.
    pub classification: Option<String>,
    /// The accession or object number.
    pub number: Option<String>,
    /// The credit line.
    pub credit: Text,
    /// A rights statement or licence URI.
    pub rights: Option<String>,
    /// Rights or copyright as text.
    pub copyright: Text,
    /// The object's page on the museum's site.
    pub homepage: Option<String>,
    /// The images, in display order.
    pub images: Vec<Image>,
    /// The object's access level (0 restricted, 1 public).
    pub accesslevel: Level,
    /// Image permission (0 any size, 1 at most 256 px, 2 none).
    pub imagepermissionlevel: Level,
}

impl Image {
    /// An image known only by its reference, identified by `rule`.
    pub fn at(reference: &str, rule: super::shapes::IdentifierRule) -> Image {
        Image {
            identifier: rule.apply(reference),
            reference: reference.to_string(),
            ..Image::default()
        }
    }
}

impl Object {
    /// The identifiers of its images, in display order.
    pub fn identifiers(&self) -> Vec<&str> {
        self.images
            .iter()
            .filter_map(|i| i.identifier.as_deref())
            .collect()
    }

    /// The label to show when only one can be shown, never empty.
    pub fn title(&self) -> String {
        self.label
            .preferred()
            .map(str::to_string)
            .unwrap_or_else(|| format!("Object {}", self.id))
    }

    /// Adds a metadata pair unless its values are all empty.
    pub fn field(&mut self, label: &'static str, values: Vec<Text>) {
        let values: Vec<Text> = values.into_iter().filter(|t| !t.is_empty()).collect();
        if !values.is_empty() {
            self.metadata.push(Field { label, values });
        }
    }

    /// Adds a one-value metadata pair in one language, unless the value is empty.
    pub fn text(&mut self, label: &'static str, lang: Option<&str>, value: Option<&str>) {
        self.field(label, vec![Text::maybe(lang, value)]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preferred_language_is_english_then_untagged_then_first() {
        let mut t = Text::one(Some("zh-hant"), "飛上枝頭");
        assert_eq!(t.preferred(), Some("飛上枝頭"));
        t.push(None, "untagged");
        assert_eq!(t.preferred(), Some("untagged"));
        t.push(Some("en"), " Flying onto a branch ");
        assert_eq!(t.preferred(), Some("Flying onto a branch"));
        t.push(Some("en"), "second English value is ignored");
        assert_eq!(t.0.len(), 3);
        assert!(Text::one(Some("en"), "  ").is_empty());
    }

    #[test]
    fn empty_fields_are_left_out_and_titles_never_empty() {
        let mut o = Object {
            id: "7".into(),
            ..Object::default()
        };
        o.text("Medium", Some("en"), Some(" "));
        o.text("Date", Some("en"), None);
        o.text("Dimensions", Some("en"), Some("3 cm"));
        assert_eq!(o.metadata.len(), 1);
        assert_eq!(o.title(), "Object 7");
    }
}
