//! The two versions of the Image API that Tessera speaks, and what differs between them in
//! names: contexts, profiles and media types. What differs in behaviour lives where it
//! belongs (the size parser, geometry's upscaling rule, the canonical form, info.json).

use std::fmt;

/// An Image API version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Version {
    /// Image API 2.1: Harvard's URLs, and the default.
    #[default]
    V2,
    /// Image API 3.0.
    V3,
}

impl Version {
    /// Both versions, oldest first.
    pub const ALL: [Version; 2] = [Version::V2, Version::V3];

    /// The path segment that selects the version (`/{prefix}/2/…`, `/{prefix}/3/…`).
    pub fn segment(self) -> &'static str {
        match self {
            Version::V2 => "2",
            Version::V3 => "3",
        }
    }

    /// The version a path segment selects, if it is one.
    pub fn from_segment(s: &str) -> Option<Version> {
        Version::ALL.into_iter().find(|v| v.segment() == s)
    }

    /// The JSON-LD context of info.json.
    pub fn context(self) -> &'static str {
        match self {
            Version::V2 => "http://iiif.io/api/image/2/context.json",
            Version::V3 => "http://iiif.io/api/image/3/context.json",
        }
    }

    /// The compliance level URI Tessera claims (the `Link: rel="profile"` header).
    pub fn level2(self) -> &'static str {
        match self {
            Version::V2 => "http://iiif.io/api/image/2/level2.json",
            Version::V3 => "http://iiif.io/api/image/3/level2.json",
        }
    }

    /// The JSON-LD media type of info.json (§5.1 of 3.0: with the context as `profile`).
    pub fn ld_media_type(self) -> &'static str {
        match self {
            Version::V2 => "application/ld+json",
            Version::V3 => {
                "application/ld+json;profile=\"http://iiif.io/api/image/3/context.json\""
            }
        }
    }

    /// The version as people write it.
    pub fn name(self) -> &'static str {
        match self {
            Version::V2 => "2.1",
            Version::V3 => "3.0",
        }
    }

    /// Parses `2`, `2.1`, `3` or `3.0` (the configuration's spelling).
    pub fn parse(s: &str) -> Option<Version> {
        match s.trim() {
            "2" | "2.1" => Some(Version::V2),
            "3" | "3.0" => Some(Version::V3),
            _ => None,
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
