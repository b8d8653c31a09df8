//! Identifier -> file, safe against traversal: the answer is always a regular file inside the
//! images folder, or `NotFound`.

use super::{SourceError, SourceFile};
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

/// Resolves a decoded identifier to a file under `root`, which must already be canonical.
///
/// `photo` finds `photo.jpg` (or `.jpeg .png .tif .tiff`); `photo.jpg` also finds itself; a
/// `/` (sent as `%2F`) names a sub-folder. Symlinks are followed only if their target stays
/// inside `root`.
pub fn resolve(root: &Path, id: &str) -> Result<SourceFile, SourceError> {
    if !is_safe_identifier(id) {
        return Err(SourceError::NotFound);
    }
    let own_ext = Path::new(id)
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase())
        .filter(|e| EXTENSIONS.contains(&e.as_str()));
    let candidates = own_ext
        .map(|_| id.to_string())
        .into_iter()
        .chain(EXTENSIONS.iter().map(|ext| format!("{id}.{ext}")));
    for name in candidates {
        let Ok(path) = root.join(&name).canonicalize() else {
            continue;
        };
        if !path.starts_with(root) {
            continue;
        }
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        if !meta.is_file() {
            continue;
        }
        if let Ok(file) = SourceFile::from_metadata(path, &meta) {
            return Ok(file);
        }
    }
    Err(SourceError::NotFound)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

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
    fn resolves_inside_root_only() {
        let outer = tempfile::tempdir().unwrap();
        let root = outer.path().join("images");
        fs::create_dir_all(root.join("sub")).unwrap();
        fs::write(root.join("a.png"), b"x").unwrap();
        fs::write(root.join("sub/b.JPG"), b"x").unwrap();
        fs::write(root.join("sub/c.tif"), b"x").unwrap();
        fs::write(root.join("urn-3:HUAM:1.jpg"), b"x").unwrap();
        fs::write(outer.path().join("secret.jpg"), b"x").unwrap();
        fs::create_dir_all(root.join("dir.jpg")).unwrap();
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(outer.path().join("secret.jpg"), root.join("escape.jpg"))
                .unwrap();
            std::os::unix::fs::symlink(root.join("a.png"), root.join("alias.png")).unwrap();
        }
        let root = root.canonicalize().unwrap();
        let name = |id: &str| {
            resolve(&root, id).map(|f| f.path.file_name().unwrap().to_string_lossy().to_string())
        };
        assert_eq!(name("a").unwrap(), "a.png");
        assert_eq!(name("a.png").unwrap(), "a.png");
        assert_eq!(name("sub/c").unwrap(), "c.tif");
        assert_eq!(name("sub/b.JPG").unwrap(), "b.JPG");
        assert_eq!(name("urn-3:HUAM:1").unwrap(), "urn-3:HUAM:1.jpg");
        for missing in [
            "nope",
            "../secret",
            "sub/../../secret",
            "escape",
            "dir",
            "sub",
        ] {
            assert!(
                matches!(resolve(&root, missing), Err(SourceError::NotFound)),
                "{missing}"
            );
        }
        #[cfg(unix)]
        assert_eq!(name("alias").unwrap(), "a.png");
    }
}
