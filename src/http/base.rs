//! The public URIs that `@id` and Link headers use: the Image API base
//! (`{scheme}://{server}/{prefix}`) and the server root of the Presentation API. They come from
//! the configured `public_base`, else (only when the peer is a trusted proxy) `Forwarded`, else
//! `X-Forwarded-Proto`/`-Host`, else `Host`. Any client can send forwarded headers, and a cache
//! in front that keys on the URL alone would keep a stranger's host in its copy, so from other
//! peers they are ignored.

use axum::http::HeaderMap;

/// Whether a header-supplied host is safe to write into JSON and headers.
fn valid_host(h: &str) -> bool {
    !h.is_empty()
        && h.len() <= 255
        && h.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._:[]".contains(&b))
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The `proto` and `host` of the first element of an RFC 7239 `Forwarded` header.
fn forwarded(value: &str) -> (Option<String>, Option<String>) {
    let first = value.split(',').next().unwrap_or("");
    let (mut proto, mut host) = (None, None);
    for pair in first.split(';') {
        if let Some((k, v)) = pair.trim().split_once('=') {
            let v = v.trim().trim_matches('"').to_string();
            match k.trim().to_ascii_lowercase().as_str() {
                "proto" => proto = Some(v),
                "host" => host = Some(v),
                _ => {}
            }
        }
    }
    (proto, host)
}

/// The public URIs of this server for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bases {
    /// The server root, e.g. `https://iiif.example.org` (manifests and collections live here).
    pub root: String,
    /// The Image API base, e.g. `https://iiif.example.org/iiif`.
    pub image: String,
}

/// Computes both public URIs. A configured `public_base` is the Image API base; the root is
/// it without the trailing `/{prefix}`. Forwarded headers are read only when `trusted` (the
/// peer is a trusted proxy).
pub fn bases(
    public_base: Option<&str>,
    prefix: &str,
    headers: &HeaderMap,
    trusted: bool,
    fallback_host: &str,
) -> Bases {
    if let Some(base) = public_base {
        let root = base.strip_suffix(&format!("/{prefix}")).unwrap_or(base);
        return Bases {
            root: root.to_string(),
            image: base.to_string(),
        };
    }
    let root = origin(headers, trusted, fallback_host);
    Bases {
        image: format!("{root}/{prefix}"),
        root,
    }
}

/// `{scheme}://{host}` as the client sees this server; the forwarded headers count only when
/// `trusted`.
fn origin(headers: &HeaderMap, trusted: bool, fallback_host: &str) -> String {
    let (mut proto, mut host) = (None, None);
    if trusted {
        (proto, host) = header(headers, "forwarded")
            .map(forwarded)
            .unwrap_or((None, None));
        if proto.is_none() {
            proto = header(headers, "x-forwarded-proto")
                .map(|p| p.split(',').next().unwrap_or("").trim().to_string());
        }
        if host.is_none() {
            host = header(headers, "x-forwarded-host")
                .map(|h| h.split(',').next().unwrap_or("").trim().to_string());
        }
    }
    let host = host
        .filter(|h| valid_host(h))
        .or_else(|| {
            header(headers, "host")
                .filter(|h| valid_host(h))
                .map(str::to_string)
        })
        .unwrap_or_else(|| fallback_host.to_string());
    let scheme = match proto.as_deref().map(str::to_ascii_lowercase).as_deref() {
        Some("https") => "https",
        _ => "http",
    };
    format!("{scheme}://{host}")
}

#[cfg(test)]
fn base_uri(
    public_base: Option<&str>,
    prefix: &str,
    headers: &HeaderMap,
    fallback: &str,
) -> String {
    bases(public_base, prefix, headers, true, fallback).image
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn precedence() {
        let fb = "127.0.0.1:8080";
        assert_eq!(
            base_uri(None, "iiif", &headers(&[]), fb),
            "http://127.0.0.1:8080/iiif"
        );
        assert_eq!(
            base_uri(None, "iiif", &headers(&[("host", "a.org")]), fb),
            "http://a.org/iiif"
        );
        let xf = headers(&[
            ("host", "a.org"),
            ("x-forwarded-proto", "https"),
            ("x-forwarded-host", "b.org"),
        ]);
        assert_eq!(base_uri(None, "iiif", &xf, fb), "https://b.org/iiif");
        let fw = headers(&[
            ("host", "a.org"),
            ("x-forwarded-host", "b.org"),
            (
                "forwarded",
                "for=1.2.3.4;proto=https;host=\"c.org:8443\", for=5.6.7.8",
            ),
        ]);
        assert_eq!(base_uri(None, "x/y", &fw, fb), "https://c.org:8443/x/y");
        assert_eq!(
            base_uri(Some("https://p.org/img"), "iiif", &fw, fb),
            "https://p.org/img"
        );
    }

    #[test]
    fn forwarded_headers_count_only_from_a_trusted_peer() {
        let fb = "127.0.0.1:8080";
        let untrusted = |h: &HeaderMap| bases(None, "iiif", h, false, fb).image;
        let xf = headers(&[
            ("host", "a.org"),
            ("x-forwarded-proto", "https"),
            ("x-forwarded-host", "evil.example"),
        ]);
        assert_eq!(untrusted(&xf), "http://a.org/iiif");
        assert_eq!(base_uri(None, "iiif", &xf, fb), "https://evil.example/iiif");
        let fw = headers(&[
            ("host", "a.org"),
            ("forwarded", "proto=https;host=evil.example"),
        ]);
        assert_eq!(untrusted(&fw), "http://a.org/iiif");
        assert_eq!(base_uri(None, "iiif", &fw, fb), "https://evil.example/iiif");
        // Without a Host header either, the listening address.
        let only_xf = headers(&[("x-forwarded-host", "evil.example")]);
        assert_eq!(untrusted(&only_xf), "http://127.0.0.1:8080/iiif");
        // A configured public base wins whoever the peer is.
        let b = bases(Some("https://p.org/img"), "img", &fw, false, fb);
        assert_eq!(b.image, "https://p.org/img");
        assert_eq!(b.root, "https://p.org");
        let b = bases(None, "iiif", &fw, false, fb);
        assert_eq!(b.root, "http://a.org");
    }

    #[test]
    fn hostile_hosts_are_ignored() {
        let h = headers(&[("host", "a.org"), ("x-forwarded-host", "evil\"><script>")]);
        assert_eq!(base_uri(None, "iiif", &h, "f"), "http://a.org/iiif");
        let h = headers(&[("host", "bad host")]);
        assert_eq!(base_uri(None, "iiif", &h, "f:1"), "http://f:1/iiif");
    }
}
