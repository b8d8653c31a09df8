//! Splitting the path after the prefix into an identifier and what is asked of it (§2).
//!
//! Parsing runs from the structure of the path: one segment is the base URI, two end in
//! `info.json`, five are an image request. An identifier's own slashes must arrive as `%2F`.

use super::request::{ImageRequest, ParseError};
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

/// Escapes an identifier for use in a URI.
pub fn encode_identifier(id: &str) -> String {
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

/// Parses the raw (still percent-encoded) path that follows `/{prefix}/`.
pub fn parse(rest: &str) -> Result<Route, PathError> {
    let segments: Vec<&str> = rest.split('/').collect();
    match segments.as_slice() {
        [id] | [id, ""] => Ok(Route::Base(identifier(id)?)),
        [id, "info.json"] => Ok(Route::Info(identifier(id)?)),
        [id, region, size, rotation, file] => {
            let id = identifier(id)?;
            let params =
                [region, size, rotation, file].map(|s| decode(s).unwrap_or_else(|| s.to_string()));
            let req = ImageRequest::parse(&params[0], &params[1], &params[2], &params[3])
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
}
