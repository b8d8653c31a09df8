//! A structural scanner over JSON text that serde_json has already read once in full (and
//! so knows to be well formed): an object's members and a list's items, as slices of the
//! text. A file is validated by its first scan; the envelope's inner objects are then split
//! by this scanner instead of being parsed again.
//!
//! On text that is not well formed it stops early (yielding fewer members); it never panics
//! or loops. serde_json's first pass skips the inside of a nested value's strings without
//! decoding their escapes, so a member name may still hold one that does not decode (a lone
//! surrogate, `"\udc00"`): [`all_members`] refuses such an object, as serde would, rather
//! than give the members before it as if they were all.

use std::borrow::Cow;

/// The members of an object's text, in order: name (unescaped) and value text.
pub fn members(valid: &str) -> Members<'_> {
    Members {
        text: valid,
        at: after_opening(valid, b'{'),
        closed: false,
    }
}

/// Every member of an object's text, or why they cannot all be read: the scan stopped
/// before the object's closing brace (a member name whose escapes do not decode).
pub fn all_members(valid: &str) -> Result<Vec<(Cow<'_, str>, &str)>, String> {
    let mut scan = members(valid);
    let all: Vec<_> = scan.by_ref().collect();
    if scan.closed {
        Ok(all)
    } else {
        Err("a member name is not valid JSON text (an escape that does not decode)".into())
    }
}

/// The items of a list's text, in order.
pub fn items(valid: &str) -> Items<'_> {
    Items {
        text: valid,
        at: after_opening(valid, b'['),
    }
}

/// Just after the text's opening bracket, if it opens with `open`.
fn after_opening(text: &str, open: u8) -> Option<usize> {
    let at = skip_ws(text.as_bytes(), 0);
    (text.as_bytes().get(at) == Some(&open)).then_some(at + 1)
}

/// See [`members`].
pub struct Members<'a> {
    text: &'a str,
    /// Where to look for the next member; `None` once done.
    at: Option<usize>,
    /// Whether the scan reached the object's closing brace.
    closed: bool,
}

impl<'a> Iterator for Members<'a> {
    type Item = (Cow<'a, str>, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        let b = self.text.as_bytes();
        let at = self.at.take()?;
        let Some(mut i) = skip_separator(b, at, b'}') else {
            self.closed = b.get(skip_ws(b, at)) == Some(&b'}');
            return None;
        };
        let name_end = string_end(b, i)?;
        let raw_name = &self.text[i + 1..name_end - 1];
        let name = if raw_name.contains('\\') {
            Cow::Owned(serde_json::from_str(&self.text[i..name_end]).ok()?)
        } else {
            Cow::Borrowed(raw_name)
        };
        i = skip_ws(b, name_end);
        (b.get(i) == Some(&b':')).then_some(())?;
        let start = skip_ws(b, i + 1);
        let end = value_end(b, start)?;
        self.at = Some(end);
        Some((name, &self.text[start..end]))
    }
}

/// See [`items`].
pub struct Items<'a> {
    text: &'a str,
    at: Option<usize>,
}

impl<'a> Iterator for Items<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let b = self.text.as_bytes();
        let start = skip_separator(b, self.at.take()?, b']')?;
        let end = value_end(b, start)?;
        self.at = Some(end);
        Some(&self.text[start..end])
    }
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while b.get(i).is_some_and(u8::is_ascii_whitespace) {
        i += 1;
    }
    i
}

/// From after an opening bracket or a value: the start of the next element, or `None` at
/// the closing bracket.
fn skip_separator(b: &[u8], i: usize, close: u8) -> Option<usize> {
    let mut i = skip_ws(b, i);
    if *b.get(i)? == b',' {
        i = skip_ws(b, i + 1);
    }
    (*b.get(i)? != close).then_some(i)
}

/// The end (one past the closing quote) of the string starting at `i`.
fn string_end(b: &[u8], i: usize) -> Option<usize> {
    (b.get(i) == Some(&b'"')).then_some(())?;
    let mut j = i + 1;
    loop {
        j += memchr::memchr2(b'"', b'\\', b.get(j..)?)?;
        if b[j] == b'"' {
            return Some(j + 1);
        }
        j += 2;
    }
}

/// The end of the value starting at `i`.
fn value_end(b: &[u8], i: usize) -> Option<usize> {
    match *b.get(i)? {
        b'"' => string_end(b, i),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut j = i;
            loop {
                match *b.get(j)? {
                    b'"' => {
                        j = string_end(b, j)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
        }
        _ => {
            let mut j = i;
            while b
                .get(j)
                .is_some_and(|c| !matches!(c, b',' | b'}' | b']') && !c.is_ascii_whitespace())
            {
                j += 1;
            }
            (j > i).then_some(j)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_and_items_as_serde_json_reads_them() {
        let text = r#" { "a" : {"b": [1, "]}\"", {"c": null}]}, "d\"e":-1.5e3 ,"f":"x\\","g":[],
            "h": true, "i": "}" } "#;
        let got: Vec<(String, &str)> = members(text).map(|(k, v)| (k.into_owned(), v)).collect();
        let want: Vec<(String, String)> =
            serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(text)
                .unwrap()
                .into_iter()
                .map(|(k, v)| (k, v.to_string()))
                .collect();
        assert_eq!(got.len(), want.len());
        for ((k, v), (wk, wv)) in got.iter().zip(&want) {
            assert_eq!(k, wk);
            let v: serde_json::Value = serde_json::from_str(v).unwrap();
            assert_eq!(&v.to_string(), wv);
        }
        assert_eq!(got[0].1, r#"{"b": [1, "]}\"", {"c": null}]}"#);
        assert_eq!(got[1].0, "d\"e");
        let list: Vec<&str> = items(r#"[ {"x": "]"} , 2,"3" ,[4, [5]]]"#).collect();
        assert_eq!(list, [r#"{"x": "]"}"#, "2", r#""3""#, "[4, [5]]"]);
        assert_eq!(items("[]").count(), 0);
        assert_eq!(members(" {  } ").count(), 0);
    }

    #[test]
    fn broken_text_ends_the_scan_without_a_panic() {
        for text in [
            "",
            "{",
            "[",
            r#"{"a"#,
            r#"{"a":"#,
            r#"{"a": [1, {"#,
            r#"{"a": "x"#,
            "[1,",
            r#"{"a\"#,
            "{1: 2}",
            r#"{"a" 1}"#,
            "]",
            "}",
        ] {
            let _ = members(text).count();
            let _ = items(text).count();
        }
        assert_eq!(members(r#"{"a": 1, "b": [2"#).count(), 1);
        assert!(all_members(r#"{"a": 1, "b": [2"#).is_err());
    }

    #[test]
    fn a_member_name_that_does_not_decode_refuses_the_whole_object() {
        // serde_json's first pass lets this through inside a nested value; the scan must not
        // give the members before it as if they were all.
        let page: Vec<&serde_json::value::RawValue> =
            serde_json::from_str(r#"[{"a": 1, "\udc00": 0, "b": false}]"#).unwrap();
        let object = page[0].get();
        assert_eq!(members(object).count(), 1);
        assert!(all_members(object).is_err());
        let fine = all_members(r#" { "a" : 1 , "\u00e9" : [ ] } "#).unwrap();
        assert_eq!(fine.len(), 2);
        assert_eq!(fine[1].0, "é");
        assert_eq!(all_members("{}").unwrap().len(), 0);
        assert_eq!(items("1").count(), 0);
    }
}
