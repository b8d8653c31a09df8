//! Lenient field readers shared by the shape readers: museum APIs write the same field as a
//! number in one record and a string in the next, and `null` anywhere.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// An id written as a number or a string; `None` when missing, null or blank.
pub fn id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        _ => None,
    })
}

/// A whole number written as a number or a string.
pub fn number(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A size in pixels written as a number or a string; `None` when missing, zero or odd.
pub fn pixels<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    Ok(number(&Value::deserialize(d)?)
        .and_then(|n| u32::try_from(n).ok())
        .filter(|&n| n > 0))
}

/// A position written as a number or a string.
pub fn rank<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(number(&Value::deserialize(d)?))
}

/// A yes/no written as `true`, `1`, `"1"`, `"true"` or `"yes"` (and their opposites);
/// `None` when missing or unreadable.
pub fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Bool(b) => Some(b),
        Value::Number(n) => n.as_i64().map(|n| n != 0),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" => Some(true),
            "0" | "false" | "no" => Some(false),
            _ => None,
        },
        _ => None,
    })
}

/// Text that may be null or missing.
pub fn text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) if !s.trim().is_empty() => Some(s),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
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
}
