//! Lenient field readers shared by the shape readers: museum APIs write the same field as a
//! number in one record and a string in the next, and `null` anywhere.
//!
//! Values are read through [`Lenient`], which borrows strings from the record's text where
//! it can and skips objects and lists without building them, so a field the index does not
//! keep costs no allocation. Text fields may be `String` or `Cow<str>` (borrowed: add
//! `#[serde(borrow)]`).

use serde::de::{self, IgnoredAny, Visitor};
use serde::{Deserialize, Deserializer};
use std::borrow::Cow;
use std::fmt;

/// A JSON value as the lenient readers see it.
enum Lenient<'de> {
    Text(Cow<'de, str>),
    Signed(i64),
    Unsigned(u64),
    Float(f64),
    Bool(bool),
    /// `null`, an object or a list.
    Other,
}

impl<'de> Deserialize<'de> for Lenient<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Lenient<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Self::Value, E> {
                Ok(Lenient::Text(Cow::Borrowed(s)))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
                Ok(Lenient::Text(Cow::Owned(s.to_string())))
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<Self::Value, E> {
                Ok(Lenient::Text(Cow::Owned(s)))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Self::Value, E> {
                Ok(Lenient::Signed(n))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Self::Value, E> {
                Ok(Lenient::Unsigned(n))
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<Self::Value, E> {
                Ok(Lenient::Float(n))
            }
            fn visit_bool<E: de::Error>(self, b: bool) -> Result<Self::Value, E> {
                Ok(Lenient::Bool(b))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Lenient::Other)
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Lenient::Other)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                Lenient::deserialize(d)
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
                while m.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Lenient::Other)
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut s: A) -> Result<Self::Value, A::Error> {
                while s.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Lenient::Other)
            }
        }
        d.deserialize_any(V)
    }
}

impl Lenient<'_> {
    /// The number as written (a float only when it is whole).
    fn number(&self) -> Option<i64> {
        match self {
            Lenient::Signed(n) => Some(*n),
            Lenient::Unsigned(n) => i64::try_from(*n).ok(),
            Lenient::Text(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// A number written as text, as serde_json writes it.
    fn number_text(&self) -> Option<String> {
        match self {
            Lenient::Signed(n) => Some(n.to_string()),
            Lenient::Unsigned(n) => Some(n.to_string()),
            Lenient::Float(f) => serde_json::Number::from_f64(*f).map(|n| n.to_string()),
            _ => None,
        }
    }
}

/// An id written as a number or a string; `None` when missing, null or blank.
pub fn id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let v = Lenient::deserialize(d)?;
    Ok(match v {
        Lenient::Text(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        _ => v.number_text(),
    })
}

/// A size in pixels written as a number or a string; `None` when missing, zero or odd.
pub fn pixels<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    Ok(Lenient::deserialize(d)?
        .number()
        .and_then(|n| u32::try_from(n).ok())
        .filter(|&n| n > 0))
}

/// A position written as a number or a string.
pub fn rank<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(Lenient::deserialize(d)?.number())
}

/// A yes/no written as `true`, `1`, `"1"`, `"true"` or `"yes"` (and their opposites);
/// `None` when missing or unreadable.
pub fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Ok(match Lenient::deserialize(d)? {
        Lenient::Bool(b) => Some(b),
        v @ (Lenient::Signed(_) | Lenient::Unsigned(_)) => v.number().map(|n| n != 0),
        Lenient::Text(s) => match s.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" => Some(true),
            "0" | "false" | "no" => Some(false),
            _ => None,
        },
        _ => None,
    })
}

/// Text that may be null or missing (a number is taken as its text), as a `String` or a
/// `Cow<str>` borrowed from the record.
pub fn text<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: From<Cow<'de, str>>,
{
    let v = Lenient::deserialize(d)?;
    Ok(match v {
        Lenient::Text(s) if !s.trim().is_empty() => Some(T::from(s)),
        _ => v.number_text().map(|n| T::from(Cow::Owned(n))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct T {
        #[serde(default, deserialize_with = "id")]
        id: Option<String>,
        #[serde(default, deserialize_with = "pixels")]
        w: Option<u32>,
        #[serde(default, deserialize_with = "flag")]
        f: Option<bool>,
    }

    #[test]
    fn lenient_values() {
        let t: T = serde_json::from_str(r#"{"id": 1588, "w": "640", "f": "1"}"#).unwrap();
        assert_eq!(
            (t.id.as_deref(), t.w, t.f),
            (Some("1588"), Some(640), Some(true))
        );
        let t: T = serde_json::from_str(r#"{"id": " ", "w": -3, "f": "maybe"}"#).unwrap();
        assert_eq!((t.id, t.w, t.f), (None, None, None));
        let t: T = serde_json::from_str(r#"{"id": null, "w": null, "f": false}"#).unwrap();
        assert_eq!((t.id, t.w, t.f), (None, None, Some(false)));
    }

    #[derive(Deserialize)]
    struct B<'a> {
        #[serde(borrow, default, deserialize_with = "text")]
        t: Option<Cow<'a, str>>,
        #[serde(default, deserialize_with = "text")]
        s: Option<String>,
        #[serde(default, deserialize_with = "id")]
        id: Option<String>,
    }

    #[test]
    fn text_is_borrowed_unless_escaped_and_objects_are_skipped() {
        let b: B = serde_json::from_str(r#"{"t": "plain", "s": 2.5, "id": {"x": [1]}}"#).unwrap();
        assert!(matches!(b.t, Some(Cow::Borrowed("plain"))));
        assert_eq!((b.s.as_deref(), b.id), (Some("2.5"), None));
        let b: B = serde_json::from_str(r#"{"t": "a\"b", "s": [], "id": 7.0}"#).unwrap();
        assert!(matches!(b.t, Some(Cow::Owned(ref t)) if t == "a\"b"));
        assert_eq!((b.s, b.id.as_deref()), (None, Some("7.0")));
    }
}
