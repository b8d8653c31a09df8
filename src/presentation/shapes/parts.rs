//! Reading a record's fields from the members a scan has already split (see [`super::scan`]),
//! instead of parsing the record's text again.
//!
//! [`Record::read`] gives any `Deserialize` type (a shape's quick `Brief`) the members as a
//! map. Each value it asks for is parsed by serde_json from that member's own text; the
//! members it does not know are skipped without being parsed. The result is the same as
//! `serde_json::from_str` of the whole record, which the tests check on every shape (the
//! members must be all of them: [`super::scan::all_members`]); only error messages differ, a
//! value's line and column counting within its own text.

use serde::de::value::MapDeserializer;
use serde::de::{IntoDeserializer, Visitor};
use serde::{Deserialize, Deserializer};
use std::borrow::Cow;

/// A record's members as the scanner gives them: the name (unescaped) and the value's text.
pub type Members<'a> = Vec<(Cow<'a, str>, &'a str)>;

/// A record to read: its text, or the members a scan split it into.
#[derive(Clone, Copy)]
pub enum Record<'r, 'a> {
    /// The record's JSON text.
    Text(&'a str),
    /// Its members.
    Members(&'r Members<'a>),
}

impl<'a> Record<'_, 'a> {
    /// Reads `T` from the record (the same either way).
    pub fn read<T: Deserialize<'a>>(self) -> Result<T, String> {
        match self {
            Record::Text(text) => serde_json::from_str(text).map_err(|e| e.to_string()),
            Record::Members(members) => from_members(members),
        }
    }
}

/// Reads `T` from a record's members, as `serde_json::from_str` reads it from the record.
fn from_members<'a, T: Deserialize<'a>>(members: &Members<'a>) -> Result<T, String> {
    let map = MapDeserializer::<_, serde_json::Error>::new(
        members
            .iter()
            .map(|(name, value)| (name.clone(), Value(value))),
    );
    T::deserialize(map).map_err(|e| e.to_string())
}

/// One member's value, as JSON text known to be well formed.
struct Value<'a>(&'a str);

impl<'a> IntoDeserializer<'a, serde_json::Error> for Value<'a> {
    type Deserializer = Self;

    fn into_deserializer(self) -> Self {
        self
    }
}

/// Each request goes to a serde_json reader over the value's own text.
macro_rules! forward {
    ($($method:ident $(($($arg:ident: $ty:ty),*))?;)*) => {$(
        fn $method<V: Visitor<'a>>(self, $($($arg: $ty,)*)? visitor: V) -> Result<V::Value, serde_json::Error> {
            serde_json::Deserializer::from_str(self.0).$method($($($arg,)*)? visitor)
        }
    )*};
}

impl<'a> Deserializer<'a> for Value<'a> {
    type Error = serde_json::Error;

    forward! {
        deserialize_any; deserialize_bool; deserialize_i8; deserialize_i16; deserialize_i32;
        deserialize_i64; deserialize_i128; deserialize_u8; deserialize_u16; deserialize_u32;
        deserialize_u64; deserialize_u128; deserialize_f32; deserialize_f64; deserialize_char;
        deserialize_str; deserialize_string; deserialize_bytes; deserialize_byte_buf;
        deserialize_option; deserialize_unit; deserialize_seq; deserialize_map;
        deserialize_identifier;
        deserialize_unit_struct(name: &'static str);
        deserialize_newtype_struct(name: &'static str);
        deserialize_tuple(len: usize);
        deserialize_tuple_struct(name: &'static str, len: usize);
        deserialize_struct(name: &'static str, fields: &'static [&'static str]);
        deserialize_enum(name: &'static str, variants: &'static [&'static str]);
    }

    /// A member the type does not know: not parsed at all.
    fn deserialize_ignored_any<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_unit()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::presentation::shapes::scan;
    use serde_json::value::RawValue;

    #[derive(Deserialize, Debug)]
    struct T<'a> {
        #[serde(borrow)]
        name: Cow<'a, str>,
        n: Option<u32>,
        #[serde(default)]
        list: Vec<i64>,
        #[serde(borrow)]
        raw: Option<&'a RawValue>,
    }

    /// What a `T` holds, to compare.
    type Held<'a> = (Cow<'a, str>, Option<u32>, Vec<i64>, Option<&'a str>);

    fn held(t: T<'_>) -> Held<'_> {
        (t.name, t.n, t.list, t.raw.map(RawValue::get))
    }

    fn both(text: &str) -> (Result<T<'_>, String>, Result<T<'_>, String>) {
        let members: Members = scan::members(text).collect();
        (
            from_members(&members),
            serde_json::from_str(text).map_err(|e| e.to_string()),
        )
    }

    #[test]
    fn members_read_as_the_whole_text_reads() {
        let text = r#"{"skip": {"a": [1, {"b": "}"}]}, "name": "x\"y", "n": null,
                       "list": [3, -4], "raw": {"k": [1, 2]}, "after": "z"}"#;
        let (members, whole) = both(text);
        let t = held(members.unwrap());
        assert_eq!(t, held(whole.unwrap()));
        assert_eq!(t.0, "x\"y");
        assert_eq!((t.1, &t.2[..]), (None, &[3, -4][..]));
        assert_eq!(t.3, Some(r#"{"k": [1, 2]}"#));
        assert!(matches!(
            both(r#"{"name": "plain"}"#).0.unwrap().name,
            Cow::Borrowed("plain")
        ));
    }

    #[test]
    fn the_same_fields_are_refused() {
        for text in [
            r#"{"n": 1}"#,
            r#"{"name": "a", "n": "one"}"#,
            r#"{"name": "a", "name": "b"}"#,
        ] {
            let (members, whole) = both(text);
            assert!(members.is_err() && whole.is_err(), "{text}: {members:?}");
        }
    }
}
