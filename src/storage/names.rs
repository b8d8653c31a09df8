//! The names identifiers may take: which are safe as relative keys, and which keys an
//! identifier may name (itself, or itself with a source extension).

use std::path::Path;

/// The source file extensions that identifiers may omit, in the order they are tried.
pub const EXTENSIONS: [&str; 7] = ["jpg", "jpeg", "png", "tif", "tiff", "jp2", "j2k"];

/// Whether a file's extension is one that identifiers resolve to ([`EXTENSIONS`]), in any
/// case.
pub fn is_source_file(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// Whether an identifier (already percent-decoded) is acceptable as a relative path: no
/// empty, `.` or `..` components, no absolute path, no backslash and no NUL.
pub fn is_safe_identifier(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 1024
        && !id.contains(['\0', '\\'])
        && id
            .split('/')
            .all(|c| !c.is_empty() && c != "." && c != "..")
}

/// The keys an identifier may name, in the order they are tried: the identifier itself when
/// it has a source extension, then the identifier with each of [`EXTENSIONS`] added.
pub fn candidates(id: &str) -> impl Iterator<Item = String> + '_ {
    let own_ext = Path::new(id)
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase())
        .filter(|e| EXTENSIONS.contains(&e.as_str()));
    own_ext
        .map(|_| id.to_string())
        .into_iter()
        .chain(EXTENSIONS.iter().map(move |ext| format!("{id}.{ext}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsafe_identifiers_are_rejected() {
        for bad in [
            "",
            "..",
            ".",
            "../x",
            "a/../../x",
            "a//b",
            "/etc/passwd",
            "a\\..\\b",
            "a\0b",
            "a/",
            "/",
        ] {
            assert!(!is_safe_identifier(bad), "{bad:?}");
        }
        for good in [
            "a",
            "a/b",
            "urn-3:HUAM:DDC251092_dynmc",
            "x.jpg",
            "..a",
            "a..b",
        ] {
            assert!(is_safe_identifier(good), "{good:?}");
        }
    }

    #[test]
    fn candidates_try_the_identifier_then_each_extension() {
        let c: Vec<String> = candidates("a/b").collect();
        assert_eq!(c[0], "a/b.jpg");
        assert_eq!(c.len(), EXTENSIONS.len());
        let c: Vec<String> = candidates("x.PNG").collect();
        assert_eq!(c[0], "x.PNG");
        assert_eq!(c[1], "x.PNG.jpg");
    }
}
