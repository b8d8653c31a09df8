//! Query strings and API keys: `apikey` in the query, or `Authorization: Bearer`.

use crate::access::{identify, Caller};
use axum::http::{header, HeaderMap};
use percent_encoding::percent_decode_str;

use super::Error;

/// The value of the first query parameter called `name`, form-decoded (`+` is a space).
pub fn param(query: Option<&str>, name: &str) -> Option<String> {
    query?.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let decode = |s: &str| {
            percent_decode_str(&s.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned()
        };
        (decode(k) == name).then(|| decode(v))
    })
}

/// The API key a request presents, if any.
pub fn presented_key(headers: &HeaderMap, query: Option<&str>) -> Option<String> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.trim().split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then(|| token.trim().to_string())
        });
    bearer.or_else(|| param(query, "apikey"))
}

/// Identifies the caller; a key that the configuration does not know is 401.
pub fn caller(
    keys: &[crate::access::ApiKey],
    headers: &HeaderMap,
    query: Option<&str>,
) -> Result<Caller, Error> {
    identify(keys, presented_key(headers, query).as_deref())
        .map_err(|_| Error::Unauthorized("unknown API key".into()))
}

/// The error for a restricted resource: 401 without a key, 403 with an unprivileged one.
pub fn denied(caller: Caller, what: &str) -> Error {
    match caller {
        Caller::Anonymous => {
            Error::Unauthorized(format!("{what} is restricted: an API key is required"))
        }
        _ => Error::Forbidden(format!("{what} is restricted: this API key may not see it")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn params() {
        let q = Some("width=150&height=&apikey=a%2Bb+c&flag");
        assert_eq!(param(q, "width").as_deref(), Some("150"));
        assert_eq!(param(q, "height").as_deref(), Some(""));
        assert_eq!(param(q, "apikey").as_deref(), Some("a+b c"));
        assert_eq!(param(q, "flag").as_deref(), Some(""));
        assert_eq!(param(q, "nope"), None);
        assert_eq!(param(None, "width"), None);
    }

    #[test]
    fn keys_from_header_or_query() {
        let mut h = HeaderMap::new();
        assert_eq!(presented_key(&h, Some("apikey=q")).as_deref(), Some("q"));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer  tok "),
        );
        assert_eq!(presented_key(&h, Some("apikey=q")).as_deref(), Some("tok"));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic xyz"));
        assert_eq!(presented_key(&h, None), None);
    }
}
