//! Where a batch command writes: a local folder, or `s3://BUCKET/PREFIX` (so that machines
//! that share a job through a bucket also share its outputs). Outputs are named by paths
//! relative to it, with `/` between parts.

use crate::storage::{S3Settings, Storage, StorageError};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// A batch command's output location.
#[derive(Debug, Clone)]
pub enum Outputs {
    /// A folder (made as needed).
    Folder(PathBuf),
    /// A prefix of a bucket, and how it was spelled.
    Bucket(Storage, String),
}

impl Outputs {
    /// The outputs at `location`: `s3://BUCKET/PREFIX` (reached with `s3`) or a folder.
    pub fn open(location: &Path, s3: S3Settings) -> Result<Outputs, String> {
        match location.to_str() {
            Some(text) if text.starts_with("s3://") => Ok(Outputs::Bucket(
                Storage::open(location, s3)?,
                text.trim_end_matches('/').to_string(),
            )),
            _ => Ok(Outputs::Folder(location.to_path_buf())),
        }
    }

    /// Refuses outputs in a bucket that lie under the bucket prefix `src` of their sources:
    /// the next listing of `src` would take them for sources.
    pub fn check_apart(&self, src: &Path) -> Result<(), String> {
        let (Outputs::Bucket(_, out), Some(src)) = (self, src.to_str()) else {
            return Ok(());
        };
        let src = src.trim_end_matches('/');
        if out == src || out.starts_with(&format!("{src}/")) {
            return Err(format!(
                "{out} is inside {src}: put the outputs beside the sources"
            ));
        }
        Ok(())
    }

    /// How `rel` is shown in messages: its path, or its `s3://` URL.
    pub fn shown(&self, rel: &str) -> String {
        match self {
            Outputs::Folder(dir) => dir.join(rel).display().to_string(),
            Outputs::Bucket(_, url) => format!("{url}/{rel}"),
        }
    }

    /// When the output `rel` was written, if it is there.
    pub fn written(&self, rel: &str) -> Option<SystemTime> {
        match self {
            Outputs::Folder(dir) => std::fs::metadata(dir.join(rel)).ok()?.modified().ok(),
            Outputs::Bucket(store, _) => store.object(rel).ok().map(|o| o.stored()),
        }
    }

    /// Writes the output `rel` whole: in a folder, beside its name and then renamed, so that an
    /// interrupted run never leaves a partial file that looks newer than its source; in a
    /// bucket, in one put (an object appears whole).
    pub fn write(&self, rel: &str, bytes: &[u8]) -> Result<(), String> {
        if !crate::storage::is_safe_identifier(rel) {
            return Err(format!("{rel:?}: not a relative output name"));
        }
        match self {
            Outputs::Folder(dir) => {
                let dst = dir.join(rel);
                if let Some(parent) = dst.parent() {
                    std::fs::create_dir_all(parent)
                        .map_err(|e| format!("{}: {e}", parent.display()))?;
                }
                let mut part = dst.clone().into_os_string();
                part.push(".part");
                let part = PathBuf::from(part);
                std::fs::write(&part, bytes).map_err(|e| format!("{}: {e}", part.display()))?;
                std::fs::rename(&part, &dst).map_err(|e| format!("{}: {e}", dst.display()))
            }
            Outputs::Bucket(store, _) => {
                store.put(rel, bytes.to_vec()).map_err(|e: StorageError| {
                    format!("{}: {}", self.shown(rel), crate::report::chain(&e))
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn a_folder_and_a_store_take_the_same_outputs() {
        let d = tempfile::tempdir().unwrap();
        let memory = Arc::new(crate::storage::Memory::default());
        let outs = [
            Outputs::Folder(d.path().join("out")),
            Outputs::Bucket(Storage::from(memory.clone()), "s3://b/p".into()),
        ];
        for out in &outs {
            assert!(out.written("a%2Fb/full/0/default.jpg").is_none());
            let before = SystemTime::now() - std::time::Duration::from_secs(2);
            out.write("a%2Fb/full/0/default.jpg", b"one").unwrap();
            out.write("a%2Fb/full/0/default.jpg", b"two").unwrap();
            let written = out.written("a%2Fb/full/0/default.jpg").unwrap();
            // (The test store's times only tell versions apart.)
            assert!(matches!(out, Outputs::Bucket(..)) || written >= before);
        }
        let file = d.path().join("out/a%2Fb/full/0/default.jpg");
        assert_eq!(std::fs::read(file).unwrap(), b"two");
        let stored = Storage::from(memory).object("a%2Fb/full/0/default.jpg");
        assert_eq!(stored.unwrap().read_all().unwrap(), b"two");
        assert_eq!(outs[1].shown("x.jpg"), "s3://b/p/x.jpg");
        // Nothing but the output is left in the folder.
        let left: Vec<_> = std::fs::read_dir(d.path().join("out/a%2Fb/full/0"))
            .unwrap()
            .collect();
        assert_eq!(left.len(), 1);
        assert!(outs[1].check_apart(Path::new("s3://b/p/")).is_err());
        assert!(outs[1].check_apart(Path::new("s3://b")).is_err());
        assert!(outs[1].check_apart(Path::new("s3://b/q")).is_ok());
        assert!(outs[1].check_apart(Path::new("s3://b/pp")).is_ok());
        // A path that climbs out is refused by the store.
        assert!(outs[1].write("../x.jpg", b"x").is_err());
    }
}
