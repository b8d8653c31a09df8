//! The access log: one line per request (method, path without its query, status, body
//! bytes, milliseconds, whether memory answered), written straight into the batched log
//! buffer ([`crate::logbuf`]) in the same text or JSON layout as the other log lines. It
//! bypasses `tracing`'s formatter, whose per-field `fmt` machinery cost 8% of the CPU at
//! 40,000 warm tiles per second (`BENCHMARKS.md`, issue 16).

use crate::config::LogFormat;
use crate::logbuf::Batched;
use axum::http::{Method, StatusCode};
use std::cell::RefCell;
use std::io::Write;
use std::time::SystemTime;

/// Where access-log lines go, and in which layout.
#[derive(Clone)]
pub struct AccessLog {
    out: Batched,
    format: LogFormat,
}

impl std::fmt::Debug for AccessLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessLog")
            .field("format", &self.format)
            .finish_non_exhaustive()
    }
}

/// One request as the access log records it.
#[derive(Debug, Clone, Copy)]
pub struct Entry<'a> {
    /// The request method.
    pub method: &'a Method,
    /// The path, without its query (a query may hold an API key).
    pub path: &'a str,
    /// The response status.
    pub status: StatusCode,
    /// The response body's length, when known.
    pub bytes: Option<u64>,
    /// Microseconds from the request's arrival to its response's headers.
    pub micros: u64,
    /// `hit`, `miss` or `-`.
    pub cache: &'a str,
}

thread_local! {
    static LINE: RefCell<Vec<u8>> = RefCell::new(Vec::with_capacity(256));
}

impl AccessLog {
    /// Lines written to `out` in `format`.
    pub fn new(out: Batched, format: LogFormat) -> AccessLog {
        AccessLog { out, format }
    }

    /// Writes one line for `e`, stamped now.
    pub fn write(&self, e: &Entry) {
        LINE.with(|line| {
            let mut line = line.borrow_mut();
            line.clear();
            format_line(&mut line, self.format, SystemTime::now(), e);
            let _ = self.out.clone().write_all(&line);
        });
    }
}

/// Appends `e`'s line, with its newline, to `out`: for text, the layout of `tracing`'s
/// `fmt` (`<time>  INFO tessera::access: method=GET path=… status=200 bytes=… ms=… cache=…`);
/// for JSON, the keys of its flattened JSON (`timestamp`, `level`, the fields, `target`).
pub fn format_line(out: &mut Vec<u8>, format: LogFormat, at: SystemTime, e: &Entry) {
    let time = humantime::format_rfc3339_micros(at);
    let fields = [
        ("method", Value::Text(e.method.as_str())),
        ("path", Value::Text(e.path)),
        ("status", Value::Count(u64::from(e.status.as_u16()))),
        ("bytes", Value::Count(e.bytes.unwrap_or(0))),
        ("ms", Value::Millis(e.micros)),
        ("cache", Value::Text(e.cache)),
    ];
    let json = format == LogFormat::Json;
    let _ = if json {
        write!(out, "{{\"timestamp\":\"{time}\",\"level\":\"INFO\"")
    } else {
        write!(out, "{time}  INFO tessera::access:")
    };
    for (key, value) in fields {
        let (before, after): (&[u8], &[u8]) = if json { (b",\"", b"\":") } else { (b" ", b"=") };
        out.extend_from_slice(before);
        out.extend_from_slice(key.as_bytes());
        out.extend_from_slice(after);
        value.write(out, json);
    }
    if json {
        out.extend_from_slice(b",\"target\":\"tessera::access\"}");
    }
    out.push(b'\n');
}

/// A field's value.
enum Value<'a> {
    /// Text: as it is in a text line, a JSON string in JSON.
    Text(&'a str),
    /// A whole number.
    Count(u64),
    /// Microseconds, written as milliseconds with three decimals (a JSON number too).
    Millis(u64),
}

impl Value<'_> {
    fn write(&self, out: &mut Vec<u8>, json: bool) {
        let mut n = itoa::Buffer::new();
        match *self {
            Value::Text(t) if json => {
                let _ = serde_json::to_writer(&mut *out, t);
            }
            Value::Text(t) => out.extend_from_slice(t.as_bytes()),
            Value::Count(c) => out.extend_from_slice(n.format(c).as_bytes()),
            Value::Millis(us) => {
                out.extend_from_slice(n.format(us / 1000).as_bytes());
                out.push(b'.');
                out.extend_from_slice(&n.format(us % 1000 + 1000).as_bytes()[1..]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    fn entry(path: &str) -> Entry<'_> {
        Entry {
            method: &Method::GET,
            path,
            status: StatusCode::OK,
            bytes: Some(1234),
            micros: 2_045,
            cache: "hit",
        }
    }

    #[test]
    fn text_lines_have_the_layout_of_the_other_log_lines() {
        let at = UNIX_EPOCH + Duration::from_micros(1_796_191_557_123_456);
        let mut out = Vec::new();
        format_line(
            &mut out,
            LogFormat::Text,
            at,
            &entry("/iiif/a/full/max/0/default.jpg"),
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "2026-12-02T06:05:57.123456Z  INFO tessera::access: method=GET \
             path=/iiif/a/full/max/0/default.jpg status=200 bytes=1234 ms=2.045 cache=hit\n"
        );
    }

    #[test]
    fn json_lines_parse_with_every_field_and_escape_the_path() {
        let mut out = Vec::new();
        let mut e = entry("/a\"b\\c");
        e.micros = 7;
        e.bytes = None;
        format_line(&mut out, LogFormat::Json, UNIX_EPOCH, &e);
        assert_eq!(out.last(), Some(&b'\n'));
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["timestamp"], "1970-01-01T00:00:00.000000Z");
        assert_eq!(v["level"], "INFO");
        assert_eq!(v["target"], "tessera::access");
        assert_eq!(v["method"], "GET");
        assert_eq!(v["path"], "/a\"b\\c");
        assert_eq!(v["status"], 200);
        assert_eq!(v["bytes"], 0);
        assert_eq!(v["ms"].as_f64(), Some(0.007));
        assert_eq!(v["cache"], "hit");
    }
}
