//! Access levels (from museum records) and API keys (from the configuration).
//!
//! Harvard's rules: an image with `accesslevel` 0 is restricted; an object with
//! `imagepermissionlevel` 2 has no public images, and with 1 its images are public only up to
//! 256 px on the long side; an object with `accesslevel` 0 is not public at all. A caller with
//! a privileged key sees everything.

use serde::{Deserialize, Deserializer};

/// An access field of a record (`accesslevel`, `imagepermissionlevel`), read leniently where
/// the meaning is plain (`1`, `1.0`, `"1"`), and kept as unreadable otherwise, so that a
/// record with an odd value restricts its images rather than failing to load and leaving
/// them public.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Level {
    /// Missing or null.
    #[default]
    Absent,
    /// A whole number from 0 to 255.
    Value(u8),
    /// Anything else: a fraction, a negative or large number, a word, a list.
    Unreadable,
}

impl Level {
    /// Reads a JSON value as a level.
    pub fn from_json(v: &serde_json::Value) -> Level {
        use serde_json::Value;
        let whole = |f: f64| {
            if f.fract() == 0.0 && (0.0..=255.0).contains(&f) {
                Level::Value(f as u8)
            } else {
                Level::Unreadable
            }
        };
        match v {
            Value::Null => Level::Absent,
            Value::Number(n) => match n.as_u64() {
                Some(u) => u8::try_from(u).map_or(Level::Unreadable, Level::Value),
                None => n.as_f64().map_or(Level::Unreadable, whole),
            },
            Value::String(s) => s.trim().parse::<f64>().map_or(Level::Unreadable, whole),
            _ => Level::Unreadable,
        }
    }
}

impl<'de> Deserialize<'de> for Level {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Level, D::Error> {
        Ok(Level::from_json(&serde_json::Value::deserialize(d)?))
    }
}

/// The long side, in pixels, of images of objects with `imagepermissionlevel` 1.
pub const LIMITED_SIDE: u32 = 256;

/// What an unprivileged caller may have of an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Access {
    /// Any size.
    Public,
    /// At most this many pixels on the long side.
    Limited(u32),
    /// Nothing: not the pixels, not even the dimensions.
    Restricted,
}

impl Access {
    /// The access of an image from its object's and its own record fields. A value that is
    /// unreadable or not one Harvard defines (an `accesslevel` of 3, say) restricts the image:
    /// a record never makes an image more public than it plainly says.
    pub fn from_record(object_access: Level, permission: Level, image_access: Level) -> Access {
        let open = |l: Level| matches!(l, Level::Absent | Level::Value(1));
        match permission {
            _ if !open(object_access) || !open(image_access) => Access::Restricted,
            Level::Absent | Level::Value(0) => Access::Public,
            Level::Value(1) => Access::Limited(LIMITED_SIDE),
            _ => Access::Restricted,
        }
    }

    /// Whether the fields hold a value that is unreadable or undefined (to be logged).
    pub fn odd_fields(object_access: Level, permission: Level, image_access: Level) -> bool {
        let known = |l: Level, max: u8| match l {
            Level::Absent => true,
            Level::Value(v) => v <= max,
            Level::Unreadable => false,
        };
        !(known(object_access, 1) && known(permission, 2) && known(image_access, 1))
    }

    /// The stricter of two (an image listed by several records gets the strictest).
    pub fn strictest(self, other: Access) -> Access {
        match (self, other) {
            (Access::Restricted, _) | (_, Access::Restricted) => Access::Restricted,
            (Access::Limited(a), Access::Limited(b)) => Access::Limited(a.min(b)),
            (Access::Limited(a), _) | (_, Access::Limited(a)) => Access::Limited(a),
            _ => Access::Public,
        }
    }

    /// A short name for cache keys and logs.
    pub fn class(self) -> String {
        match self {
            Access::Public => "public".into(),
            Access::Limited(n) => format!("limited-{n}"),
            Access::Restricted => "restricted".into(),
        }
    }
}

/// Who is asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    /// No key.
    Anonymous,
    /// A configured key without privileges.
    Known,
    /// A configured privileged key: restricted images are served in full.
    Privileged,
}

/// One configured API key.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKey {
    /// The secret.
    pub key: String,
    /// Whether it unlocks restricted images.
    #[serde(default)]
    pub privileged: bool,
    /// A label for logs (the key itself is never logged).
    #[serde(default)]
    pub name: String,
}

/// Compares two byte strings in time that depends only on their lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Identifies the caller by a presented key; an unknown key is an error.
pub fn identify(keys: &[ApiKey], presented: Option<&str>) -> Result<Caller, UnknownKey> {
    let Some(p) = presented else {
        return Ok(Caller::Anonymous);
    };
    // Check every key, so the time taken does not reveal which one matched.
    let mut found = None;
    for k in keys {
        if constant_time_eq(k.key.as_bytes(), p.as_bytes()) && found.is_none() {
            found = Some(k.privileged);
        }
    }
    match found {
        Some(true) => Ok(Caller::Privileged),
        Some(false) => Ok(Caller::Known),
        None => Err(UnknownKey),
    }
}

/// A presented API key that the configuration does not know (401).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnknownKey;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn harvard_rules() {
        use Level::{Absent as N, Unreadable as U, Value as V};
        assert_eq!(Access::from_record(V(1), V(0), N), Access::Public);
        assert_eq!(Access::from_record(N, N, N), Access::Public);
        assert_eq!(Access::from_record(V(1), V(0), V(0)), Access::Restricted);
        assert_eq!(Access::from_record(V(0), V(0), V(1)), Access::Restricted);
        assert_eq!(Access::from_record(V(1), V(2), V(1)), Access::Restricted);
        assert_eq!(Access::from_record(V(1), V(1), V(1)), Access::Limited(256));
        // Unreadable or undefined values restrict, and are flagged for the log.
        for (o, p, i) in [(U, N, N), (N, U, N), (N, N, U), (V(3), N, N), (N, V(7), N)] {
            assert_eq!(Access::from_record(o, p, i), Access::Restricted);
            assert!(Access::odd_fields(o, p, i));
        }
        assert!(!Access::odd_fields(V(1), V(2), V(0)));
        assert_eq!(
            Access::Public.strictest(Access::Limited(256)),
            Access::Limited(256)
        );
        assert_eq!(
            Access::Limited(256).strictest(Access::Restricted),
            Access::Restricted
        );
        assert_eq!(Access::Public.strictest(Access::Public), Access::Public);
    }

    #[test]
    fn keys() {
        let keys = vec![
            ApiKey {
                key: "staff-secret".into(),
                privileged: true,
                name: "staff".into(),
            },
            ApiKey {
                key: "web-key".into(),
                privileged: false,
                name: "web".into(),
            },
        ];
        assert_eq!(identify(&keys, None), Ok(Caller::Anonymous));
        assert_eq!(
            identify(&keys, Some("staff-secret")),
            Ok(Caller::Privileged)
        );
        assert_eq!(identify(&keys, Some("web-key")), Ok(Caller::Known));
        assert_eq!(identify(&keys, Some("staff-secreT")), Err(UnknownKey));
        assert_eq!(identify(&keys, Some("")), Err(UnknownKey));
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
