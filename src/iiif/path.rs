//! Splitting the path after the prefix into a version, an identifier and what is asked of it
//! (§2).
//!
//! **Versions.** A first segment that is exactly `2` or `3`, followed by more of the path,
//! selects Image API 2.1 or 3.0 (`/iiif/3/{id}/info.json`); any other path is in the default
//! version (`/iiif/{id}/info.json`). So an identifier that is itself `2` or `3` is always
//! reachable through a version (`/iiif/3/3/info.json`), and without one it is written
//! percent-encoded (`/iiif/%33/info.json`), as [`encode_identifier`] writes it.
//!
//! Parsing runs from the structure of the rest: one segment is the base URI, two end in
//! `info.json`, five are an image request. An identifier's own slashes must arrive as `%2F`.

use super::request::{ImageRequest, ParseError};
use super::version::Version;
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, CONTROLS};

/// What a path below the prefix asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum Route {
    /// `{id}` or `{id}/`: the base URI, redirected to info.json.
    Base(String),
    /// `{id}/info.json`.
    Info(String),
    /// `{id}/{region}/{size}/{rotation}/{quality}.{format}`.
    Image(String, ImageRequest),
}

/// Why a path is not a IIIF request.
#[derive(Debug, Clone, PartialEq)]
pub enum PathError {
    /// The path does not have the shape of any IIIF URI; most often an identifier with an
    /// unescaped `/`. Reported as an unknown identifier (404), as the validator expects.
    NoSuchResource,
    /// The identifier has bad percent-encoding, is not UTF-8, or contains a character that
    /// §9 says must be escaped (400).
    BadIdentifier(String),
    /// A path parameter is malformed (400).
    Parameter(ParseError),
}

/// Characters escaped when an identifier is written into a URI: the §9 set `/ ? # [ ] @ %`,
/// plus everything that is not allowed raw in a path segment.
pub const IDENTIFIER_ESCAPES: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'@')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// Escapes an identifier for use in a server's Image API URI. An identifier that is exactly a
/// version segment (`2`, `3`) is written `%32`, `%33`, so that it never reads as a version.
pub fn encode_identifier(id: &str) -> String {
    match Version::from_segment(id) {
        Some(_) => id.bytes().map(|b| format!("%{b:02X}")).collect(),
        None => encode_segment(id),
    }
}

/// Escapes an identifier as one path segment, with no regard to versions (static trees).
pub fn encode_segment(id: &str) -> String {
    utf8_percent_encode(id, IDENTIFIER_ESCAPES).to_string()
}

fn decode(segment: &str) -> Option<String> {
    let bytes = segment.as_bytes();
    // Reject a '%' that does not start a valid escape rather than passing it through.
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'%'
            && !(i + 2 < bytes.len()
                && bytes[i + 1].is_ascii_hexdigit()
                && bytes[i + 2].is_ascii_hexdigit())
        {
            return None;
        }
    }
    percent_decode_str(segment)
        .decode_utf8()
        .ok()
        .map(|s| s.into_owned())
}

fn identifier(raw: &str) -> Result<String, PathError> {
    if raw.contains(['[', ']', '@']) {
        return Err(PathError::BadIdentifier(
            "identifier characters [ ] @ must be percent-encoded".into(),
        ));
    }
    let id = decode(raw).ok_or_else(|| {
        PathError::BadIdentifier("identifier has invalid percent-encoding".into())
    })?;
    if id.is_empty() {
        return Err(PathError::NoSuchResource);
    }
    Ok(id)
}

/// Parses the raw (still percent-encoded) path that follows `/{prefix}/`: the version it
/// names (`None` when it names none) and the route, parsed as that version or `default`.
pub fn parse_versioned(
    rest: &str,
    default: Version,
) -> Result<(Option<Version>, Route), PathError> {
    if let Some((first, tail)) = rest.split_once('/') {
        if let (Some(v), false) = (Version::from_segment(first), tail.is_empty()) {
            return parse_as(v, tail).map(|r| (Some(v), r));
        }
    }
    parse_as(default, rest).map(|r| (None, r))
}

/// Parses the raw path that follows `/{prefix}/` as Image API 2.1, with no version segment.
pub fn parse(rest: &str) -> Result<Route, PathError> {
    parse_as(Version::V2, rest)
}

/// Parses the raw path after the prefix and any version segment, as `version`.
pub fn parse_as(version: Version, rest: &str) -> Result<Route, PathError> {
    let segments: Vec<&str> = rest.split('/').collect();
    match segments.as_slice() {
        [id] | [id, ""] => Ok(Route::Base(identifier(id)?)),
        [id, "info.json"] => Ok(Route::Info(identifier(id)?)),
        [id, region, size, rotation, file] => {
            let id = identifier(id)?;
            let params =
                [region, size, rotation, file].map(|s| decode(s).unwrap_or_else(|| s.to_string()));
            let req =
                ImageRequest::parse_as(version, &params[0], &params[1], &params[2], &params[3])
                    .map_err(PathError::Parameter)?;
            Ok(Route::Image(id, req))
        }
        _ => Err(PathError::NoSuchResource),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iiif::request::{Part, Size};

    #[test]
    fn shapes() {
        assert_eq!(parse("abc"), Ok(Route::Base("abc".into())));
        assert_eq!(parse("abc/"), Ok(Route::Base("abc".into())));
        assert_eq!(parse("abc/info.json"), Ok(Route::Info("abc".into())));
        let Ok(Route::Image(id, req)) = parse("abc/full/%21200,200/0/default.jpg") else {
            panic!()
        };
        assert_eq!(id, "abc");
        assert_eq!(req.size, Size::BestFit { w: 200, h: 200 });
    }

    #[test]
    fn identifiers_are_decoded() {
        assert_eq!(parse("a%2Fb/info.json"), Ok(Route::Info("a/b".into())));
        assert_eq!(
            parse("67352ccc%2Dd1b0/info.json"),
            Ok(Route::Info("67352ccc-d1b0".into()))
        );
        assert_eq!(
            parse("urn-3:HUAM:DDC251092_dynmc/info.json"),
            Ok(Route::Info("urn-3:HUAM:DDC251092_dynmc".into()))
        );
        assert_eq!(parse("caf%C3%A9"), Ok(Route::Base("café".into())));
    }

    #[test]
    fn malformed_paths() {
        assert_eq!(
            parse("a/b/full/full/0/default.jpg"),
            Err(PathError::NoSuchResource)
        );
        assert_eq!(parse("a/b/info.json"), Err(PathError::NoSuchResource));
        assert_eq!(parse("a/full/full/0"), Err(PathError::NoSuchResource));
        assert_eq!(parse(""), Err(PathError::NoSuchResource));
        assert!(matches!(
            parse("[frob]/full/full/0/default.jpg"),
            Err(PathError::BadIdentifier(_))
        ));
        assert!(matches!(
            parse("a%zz/info.json"),
            Err(PathError::BadIdentifier(_))
        ));
        assert!(matches!(
            parse("a%/info.json"),
            Err(PathError::BadIdentifier(_))
        ));
        assert!(matches!(
            parse("%FF%FE/info.json"),
            Err(PathError::BadIdentifier(_))
        ));
        let Err(PathError::Parameter(e)) = parse("a/full/full/0/default.xyz") else {
            panic!()
        };
        assert_eq!(e.part, Part::Format);
    }

    #[test]
    fn identifiers_round_trip_through_encoding() {
        for id in ["a/b", "urn-3:HUAM:1", "x y", "[x]@%", "café"] {
            let enc = encode_identifier(id);
            assert!(!enc.contains(['/', ' ', '[', ']', '@']), "{enc}");
            assert_eq!(
                parse(&format!("{enc}/info.json")),
                Ok(Route::Info(id.to_string()))
            );
        }
        assert_eq!(encode_identifier("urn-3:HUAM:1"), "urn-3:HUAM:1");
    }

    #[test]
    fn versions_leave_no_identifier_unreachable() {
        use Version::{V2, V3};
        let p = |rest: &str| parse_versioned(rest, V2);
        assert_eq!(p("abc/info.json"), Ok((None, Route::Info("abc".into()))));
        assert_eq!(
            p("3/abc/info.json"),
            Ok((Some(V3), Route::Info("abc".into())))
        );
        assert_eq!(
            p("2/abc/info.json"),
            Ok((Some(V2), Route::Info("abc".into())))
        );
        assert_eq!(p("3/abc"), Ok((Some(V3), Route::Base("abc".into()))));
        assert_eq!(p("3/abc/"), Ok((Some(V3), Route::Base("abc".into()))));
        // An image named `3`: through either version, or percent-encoded without one.
        assert_eq!(p("3/3/info.json"), Ok((Some(V3), Route::Info("3".into()))));
        assert_eq!(p("2/3/info.json"), Ok((Some(V2), Route::Info("3".into()))));
        assert_eq!(p("%33/info.json"), Ok((None, Route::Info("3".into()))));
        assert_eq!(p("3"), Ok((None, Route::Base("3".into()))));
        assert_eq!(p("3/"), Ok((None, Route::Base("3".into()))));
        // And its URIs are written so that they read back as the same image.
        for id in ["2", "3", "23", "3.jpg", "info.json"] {
            for (prefix, version) in [("", None), ("3/", Some(V3)), ("2/", Some(V2))] {
                let rest = format!("{prefix}{}/info.json", encode_identifier(id));
                assert_eq!(p(&rest), Ok((version, Route::Info(id.into()))), "{rest}");
            }
        }
        assert_eq!(encode_identifier("3"), "%33");
        assert_eq!(encode_segment("3"), "3");
        // The version decides how the size reads: `full` is 2.1 only, `^` 3.0 only.
        assert!(p("3/abc/full/full/0/default.jpg").is_err());
        assert!(p("abc/full/full/0/default.jpg").is_ok());
        assert!(p("3/abc/full/^max/0/default.jpg").is_ok());
        assert!(p("2/abc/full/^max/0/default.jpg").is_err());
        // The default may be 3.0; a `2` segment still selects 2.1.
        assert!(parse_versioned("abc/full/^max/0/default.jpg", V3).is_ok());
        assert!(parse_versioned("2/abc/full/full/0/default.jpg", V3).is_ok());
    }
}
