//! The filesystem backend: keys are paths inside one folder, confined to it (a symlink is
//! followed only if its target stays inside); the identity is the device and inode, and a
//! read is a positional read (`pread`) of each range.

use super::{names, Backend, Identity, Object, Storage, StorageError};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// The files of one folder (or, unconfined, of the whole filesystem).
#[derive(Debug)]
pub struct Files {
    /// The canonical folder; `None` when unconfined.
    root: Option<PathBuf>,
}

impl Files {
    /// The files inside `root`.
    pub fn new(root: &Path) -> std::io::Result<Files> {
        Ok(Files {
            root: Some(root.canonicalize()?),
        })
    }

    /// Every file, by absolute path (never used to resolve identifiers).
    pub(super) fn unconfined() -> Files {
        Files { root: None }
    }

    /// The canonical folder.
    pub fn root(&self) -> Option<&Path> {
        self.root.as_deref()
    }

    /// The regular file at `path` as it is now.
    pub(super) fn at(
        storage: &Storage,
        path: PathBuf,
        key: String,
    ) -> Result<Object, StorageError> {
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::metadata(&path).map_err(|e| StorageError::io(&key, e))?;
        if !meta.is_file() {
            return Err(StorageError::NotFound);
        }
        let changed = u64::try_from(meta.ctime())
            .ok()
            .and_then(|s| {
                SystemTime::UNIX_EPOCH.checked_add(Duration::new(
                    s,
                    u32::try_from(meta.ctime_nsec()).unwrap_or(0),
                ))
            })
            .unwrap_or(SystemTime::UNIX_EPOCH);
        Ok(Object {
            modified: meta.modified().map_err(|e| StorageError::io(&key, e))?,
            key,
            path,
            len: meta.len(),
            identity: Identity {
                dev: meta.dev(),
                ino: meta.ino(),
            },
            changed,
            storage: storage.clone(),
        })
    }
}

/// Adds the source files under `dir` (following no symlinked folder) to `keys`, as paths
/// relative to `root`.
fn walk(root: &Path, dir: &Path, keys: &mut Vec<String>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let kind = entry.file_type()?;
        if kind.is_dir() {
            walk(root, &path, keys)?;
        } else if kind.is_file() && names::is_source_file(&path) {
            let rel = path.strip_prefix(root).ok().and_then(Path::to_str);
            keys.extend(rel.map(str::to_string));
        }
    }
    Ok(())
}

impl Backend for Files {
    fn list(&self) -> Result<Vec<String>, StorageError> {
        let root = self.root.as_deref().ok_or(StorageError::NotFound)?;
        let mut keys = Vec::new();
        walk(root, root, &mut keys).map_err(|e| StorageError::io(root.display(), e))?;
        Ok(keys)
    }

    fn check(&self) -> Result<(), String> {
        match &self.root {
            Some(root) => std::fs::read_dir(root)
                .map(drop)
                .map_err(|e| format!("images folder {}: {e}", root.display())),
            None => Ok(()),
        }
    }

    fn resolve(&self, storage: &Storage, identifier: &str) -> Result<Object, StorageError> {
        let Some(root) = &self.root else {
            return Err(StorageError::NotFound);
        };
        for name in names::candidates(identifier) {
            let Ok(path) = root.join(&name).canonicalize() else {
                continue;
            };
            let Ok(rel) = path.strip_prefix(root) else {
                continue;
            };
            let Some(key) = rel.to_str().map(str::to_string) else {
                continue;
            };
            match Files::at(storage, path, key) {
                Ok(object) => return Ok(object),
                Err(StorageError::NotFound) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(StorageError::NotFound)
    }

    fn stat(&self, storage: &Storage, object: &Object) -> Result<Object, StorageError> {
        Files::at(storage, object.path.clone(), object.key.clone())
    }

    fn read_ranges(
        &self,
        object: &Object,
        ranges: &[Range<u64>],
    ) -> Result<Vec<Vec<u8>>, StorageError> {
        use std::os::unix::fs::FileExt;
        let io = |e| StorageError::io(&object.key, e);
        let file = std::fs::File::open(&object.path).map_err(io)?;
        ranges
            .iter()
            .map(|r| {
                let len = r.end.checked_sub(r.start).ok_or(StorageError::OutOfRange {
                    key: object.key.clone(),
                    start: r.start,
                    end: r.end,
                    len: object.len,
                })?;
                let mut buf = vec![0u8; len as usize];
                file.read_exact_at(&mut buf, r.start).map_err(io)?;
                Ok(buf)
            })
            .collect()
    }

    fn read_ahead(&self) -> usize {
        // As std's BufReader over a file.
        8 << 10
    }

    fn local_path(&self, object: &Object) -> Option<PathBuf> {
        Some(object.path.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

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
        std::os::unix::fs::symlink(outer.path().join("secret.jpg"), root.join("escape.jpg"))
            .unwrap();
        std::os::unix::fs::symlink(root.join("a.png"), root.join("alias.png")).unwrap();
        let storage = Storage::files(&root).unwrap();
        let key = |id: &str| storage.resolve(id).map(|f| f.key);
        assert_eq!(key("a").unwrap(), "a.png");
        assert_eq!(key("a.png").unwrap(), "a.png");
        assert_eq!(key("sub/c").unwrap(), "sub/c.tif");
        assert_eq!(key("sub/b.JPG").unwrap(), "sub/b.JPG");
        assert_eq!(key("urn-3:HUAM:1").unwrap(), "urn-3:HUAM:1.jpg");
        assert_eq!(key("alias").unwrap(), "a.png");
        for missing in [
            "nope",
            "../secret",
            "sub/../../secret",
            "escape",
            "dir",
            "sub",
        ] {
            assert!(
                matches!(storage.resolve(missing), Err(StorageError::NotFound)),
                "{missing}"
            );
        }
    }

    #[test]
    fn ranges_are_read_in_order_and_bounds_are_checked() {
        let d = tempfile::tempdir().unwrap();
        fs::write(d.path().join("x.jpg"), b"0123456789").unwrap();
        let storage = Storage::files(d.path()).unwrap();
        let x = storage.resolve("x").unwrap();
        assert_eq!(x.len, 10);
        let got = x.read_ranges(&[7..10, 0..2, 4..4]).unwrap();
        assert_eq!(got, vec![b"789".to_vec(), b"01".to_vec(), Vec::new()]);
        assert!(matches!(
            x.read_ranges(&[0..1, 8..11]),
            Err(StorageError::OutOfRange { .. })
        ));
        assert!(x.unchanged());
        fs::write(d.path().join("x.jpg"), b"0123456789ab").unwrap();
        assert!(!x.unchanged());
    }
}
