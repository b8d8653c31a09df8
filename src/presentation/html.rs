//! Making record text safe as a Presentation property value (2.1 §4.4, 3.0 §4.5), plain
//! text for the 3.0 properties where markup is not allowed (`label`), and [`escape`], which
//! the browser's pages print every record field through.
//!
//! Plain text (no `<`) passes unchanged. Text with markup keeps only the tags §4.4 permits
//! (`a b br i img p small span sub sup`), with only `href` on `a` and `src`/`alt` on `img`
//! (and only http, https or mailto links); `script`, `style` and similar elements are dropped
//! with their content, comments are dropped, other tags are dropped but their text kept. The
//! result starts with `<` and ends with `>`, as §4.4 requires of HTML values.

const ALLOWED: [&str; 10] = [
    "a", "b", "br", "i", "img", "p", "small", "span", "sub", "sup",
];
const DROP_WITH_CONTENT: [&str; 10] = [
    "script", "style", "iframe", "object", "embed", "template", "noscript", "textarea", "title",
    "svg",
];

/// `text` escaped for HTML, as element content or a quoted attribute value: `&`, `<`, `>`,
/// `"` and `'` become character references, so that record text is shown as text.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Parses `name="v" name='v' name=v name` pairs.
fn attributes(mut s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    loop {
        s = s.trim_start_matches(|c: char| c.is_whitespace() || c == '/');
        if s.is_empty() {
            return out;
        }
        let name_end = s
            .find(|c: char| c.is_whitespace() || c == '=' || c == '/')
            .unwrap_or(s.len());
        let name = s[..name_end].to_ascii_lowercase();
        s = s[name_end..].trim_start();
        let mut value = String::new();
        if let Some(rest) = s.strip_prefix('=') {
            let rest = rest.trim_start();
            let (v, remaining) = match rest.chars().next() {
                Some(q @ ('"' | '\'')) => match rest[1..].find(q) {
                    Some(end) => (&rest[1..1 + end], &rest[2 + end..]),
                    None => (&rest[1..], ""),
                },
                _ => {
                    let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
                    (&rest[..end], &rest[end..])
                }
            };
            value = v.to_string();
            s = remaining;
        }
        out.push((name, value));
    }
}

fn safe_url(v: &str, allow_mailto: bool) -> bool {
    let v = v.trim().to_ascii_lowercase();
    v.starts_with("http://")
        || v.starts_with("https://")
        || (allow_mailto && v.starts_with("mailto:"))
}

/// Returns `text` made safe for a Presentation API value. Tags are balanced: a closing tag
/// with no matching open one is dropped, and tags left open are closed at the end.
pub fn sanitize(text: &str) -> String {
    if !text.contains('<') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut open: Vec<String> = Vec::new();
    let mut rest = text;
    while let Some(lt) = rest.find('<') {
        out.push_str(&rest[..lt].replace('>', "&gt;"));
        rest = &rest[lt..];
        if let Some(after) = rest.strip_prefix("<!--") {
            rest = after.find("-->").map(|e| &after[e + 3..]).unwrap_or("");
            continue;
        }
        let starts_tag = rest[1..]
            .trim_start_matches('/')
            .starts_with(|c: char| c.is_ascii_alphabetic());
        if !starts_tag {
            out.push_str("&lt;");
            rest = &rest[1..];
            continue;
        }
        let Some(gt) = rest.find('>') else {
            out.push_str("&lt;");
            rest = &rest[1..];
            continue;
        };
        let inner = &rest[1..gt];
        rest = &rest[gt + 1..];
        let closing = inner.starts_with('/');
        let body = inner.trim_start_matches('/');
        let name_end = body
            .find(|c: char| c.is_whitespace() || c == '/')
            .unwrap_or(body.len());
        let name = body[..name_end].to_ascii_lowercase();
        if !closing && DROP_WITH_CONTENT.contains(&name.as_str()) {
            let end_tag = format!("</{name}");
            let lower = rest.to_ascii_lowercase();
            rest = match lower.find(&end_tag) {
                Some(p) => rest[p..]
                    .find('>')
                    .map(|g| &rest[p + g + 1..])
                    .unwrap_or(""),
                None => "",
            };
            continue;
        }
        if !ALLOWED.contains(&name.as_str()) {
            continue;
        }
        if closing {
            if let Some(at) = open.iter().rposition(|t| *t == name) {
                for t in open.drain(at..).rev() {
                    out.push_str(&format!("</{t}>"));
                }
            }
            continue;
        }
        out.push('<');
        out.push_str(&name);
        for (attr, value) in attributes(&body[name_end..]) {
            let keep = match (name.as_str(), attr.as_str()) {
                ("a", "href") => safe_url(&value, true),
                ("img", "src") => safe_url(&value, false),
                ("img", "alt") => true,
                _ => false,
            };
            if keep {
                out.push_str(&format!(" {attr}=\"{}\"", escape(&value)));
            }
        }
        if name == "br" || name == "img" {
            out.push_str("/>");
        } else {
            out.push('>');
            open.push(name);
        }
    }
    out.push_str(&rest.replace('>', "&gt;"));
    for t in open.drain(..).rev() {
        out.push_str(&format!("</{t}>"));
    }
    if out.starts_with('<') && out.ends_with('>') {
        out
    } else {
        format!("<span>{out}</span>")
    }
}

/// Returns `text` as plain text, for values that must not hold markup (Presentation 3.0
/// §4.5 allows HTML only in `summary` and in `metadata` and `requiredStatement` values): the
/// text [`sanitize`] keeps, without its tags and with its character references for `&`, `<`,
/// `>` and `"` decoded, and runs of white space made one space.
pub fn plain(text: &str) -> String {
    if !text.contains('<') {
        return text.split_whitespace().collect::<Vec<_>>().join(" ");
    }
    let safe = sanitize(text);
    let mut out = String::with_capacity(safe.len());
    let mut rest = safe.as_str();
    while let Some(lt) = rest.find('<') {
        out.push_str(&rest[..lt]);
        // `sanitize` escapes every `<` and `>` outside its tags, so a tag ends at the next `>`.
        match rest[lt..].find('>') {
            Some(gt) => {
                let tag = &rest[lt + 1..lt + gt];
                if tag.starts_with("br") || tag.starts_with("/p") {
                    out.push(' ');
                }
                rest = &rest[lt + gt + 1..];
            }
            None => rest = "",
        }
    }
    out.push_str(rest);
    let decoded = out
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&");
    decoded.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::{escape, plain, sanitize};

    #[test]
    fn plain_text_has_no_markup() {
        assert_eq!(plain("  Jar   of  water "), "Jar of water");
        assert_eq!(plain("Jar <script>x</script>"), "Jar");
        assert_eq!(plain("<p>One</p><p>Two<br>three</p>"), "One Two three");
        assert_eq!(plain("x < y & <b>z</b>"), "x < y & z");
        assert_eq!(
            plain(r#"<a href="https://x" onclick="e()">say "hi"</a>"#),
            r#"say "hi""#
        );
        assert_eq!(
            plain("Fish &amp; chips <i>(1900)</i>"),
            "Fish & chips (1900)"
        );
    }

    #[test]
    fn plain_text_is_untouched() {
        let t = "John Edward Taylor Collection, London, (by 1912). [Christie’s, lot 367] & co.";
        assert_eq!(sanitize(t), t);
    }

    #[test]
    fn allowed_markup_is_kept_and_wrapped() {
        assert_eq!(
            sanitize("a <b>bold</b> word"),
            "<span>a <b>bold</b> word</span>"
        );
        assert_eq!(sanitize("<p>x<br>y</p>"), "<p>x<br/>y</p>");
        assert_eq!(
            sanitize(r#"<a href="https://x.org/?a=1&b=2" onclick="evil()">link</a>"#),
            r#"<a href="https://x.org/?a=1&amp;b=2">link</a>"#
        );
        assert_eq!(
            sanitize(r#"<img src='https://x.org/i.jpg' alt='say "hi"' style=x>"#),
            r#"<img src="https://x.org/i.jpg" alt="say &quot;hi&quot;"/>"#
        );
    }

    #[test]
    fn tags_are_balanced() {
        assert_eq!(sanitize("<b>bold"), "<b>bold</b>");
        assert_eq!(sanitize("a</p>b"), "<span>ab</span>");
        assert_eq!(
            sanitize("<p><a href='https://x'>x<b>y</p>z"),
            "<span><p><a href=\"https://x\">x<b>y</b></a></p>z</span>"
        );
        assert_eq!(sanitize("<i><b>t</i></b>"), "<i><b>t</b></i>");
    }

    #[test]
    fn dangerous_markup_is_removed() {
        assert_eq!(sanitize("<script>alert(1)</script>ok"), "<span>ok</span>");
        assert_eq!(sanitize("a<SCRIPT src=x></SCRIPT >b"), "<span>ab</span>");
        assert_eq!(sanitize("<style>p{}</style><i>t</i>"), "<i>t</i>");
        assert_eq!(
            sanitize(r#"<a href="javascript:alert(1)">x</a>"#),
            "<a>x</a>"
        );
        assert_eq!(
            sanitize(r#"<img src="data:image/png;base64,AA" onerror=x>"#),
            "<img/>"
        );
        assert_eq!(sanitize("<div class=x>text</div>"), "<span>text</span>");
        assert_eq!(sanitize("a<!-- hidden <b> -->b"), "<span>ab</span>");
        assert_eq!(
            sanitize("x < y and y > z"),
            "<span>x &lt; y and y &gt; z</span>"
        );
        assert_eq!(sanitize("<script>never closed"), "<span></span>");
        assert_eq!(sanitize("<iframe src=x></iframe><b>k</b>"), "<b>k</b>");
    }

    #[test]
    fn escape_makes_every_markup_character_a_reference() {
        assert_eq!(
            escape(r#"<script>alert('x' & "y")</script>"#),
            "&lt;script&gt;alert(&#39;x&#39; &amp; &quot;y&quot;)&lt;/script&gt;"
        );
        assert_eq!(escape("飛上枝頭 Étude"), "飛上枝頭 Étude");
    }
}
