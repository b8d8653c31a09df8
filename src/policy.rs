//! The access policy: what a caller may have of a source (restricted, limited to N px, or
//! public), decided at request time on what a request resolves to, never on how its
//! identifier is spelled. Every front asks [`Policy::decide`]: the image routes, info.json,
//! the default service, manifests, `tessera thumbnails` and `tessera tiles`.
//!
//! A source's rule is the strictest of the rules of every record identifier that reaches it:
//! by name (its path inside the images folder, with or without its extension) and by
//! identity (device and inode, so hard links and symlinks share the rule of the file they
//! reach). The identity index is rebuilt whenever a request meets a file whose inode changed
//! (its ctime: a new file, a new hard link, a rename into place) since the last build, so a
//! restricted image that arrives after start-up, under any name, is still restricted.

use crate::access::{Access, Caller};
use crate::iiif::geometry::ScaleCap;
use crate::iiif::{Dimensions, Limits};
use crate::presentation::Store;
use crate::storage::{Identity, Object, Storage};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};

/// What images that no readable record lists are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Unlisted {
    /// Public (the default: a folder of images with no records is served).
    #[default]
    Public,
    /// Restricted: only images that a readable record makes public are served to
    /// unprivileged callers, for collections where every public image is listed.
    Restricted,
}

/// File timestamps come from a coarse kernel clock, up to a few milliseconds behind the
/// real time: an index counts as covering a file only if it was started this much after
/// the file's inode last changed.
const MARGIN: Duration = Duration::from_millis(50);

/// Access rules by file identity, and when the scan that made them started.
#[derive(Debug)]
struct Index {
    by_identity: HashMap<Identity, Access>,
    started: SystemTime,
}

/// The one access policy of a server or batch run.
#[derive(Debug)]
pub struct Policy {
    store: Arc<Store>,
    storage: Storage,
    unlisted: Unlisted,
    index: RwLock<Arc<Index>>,
    scanning: Mutex<()>,
}

impl Policy {
    /// The policy of the records in `store` over the images in `storage`. Scans once, now.
    pub fn new(store: Arc<Store>, storage: Storage, unlisted: Unlisted) -> Policy {
        // Where every key is its own object, the rules by name are the whole policy: no index
        // by identity is built (it would resolve every record's identifier), and the empty
        // one covers every object.
        let aliases = storage.has_aliases();
        let policy = Policy {
            store,
            storage,
            unlisted,
            index: RwLock::new(Arc::new(Index {
                by_identity: HashMap::new(),
                started: if aliases {
                    SystemTime::UNIX_EPOCH
                } else {
                    SystemTime::now()
                },
            })),
            scanning: Mutex::new(()),
        };
        if aliases {
            policy.refresh(SystemTime::now());
        }
        policy
    }

    /// The records behind the policy.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The storage whose objects it decides on.
    pub fn storage(&self) -> &Storage {
        &self.storage
    }

    /// What `caller` may have of `file`. May rebuild the identity index (file-system work):
    /// call it off the async threads.
    pub fn decide(&self, caller: Caller, file: &Object) -> Access {
        if caller == Caller::Privileged {
            return Access::Public;
        }
        let seen = SystemTime::now();
        let index = self.snapshot();
        if covers(&index, file) {
            return self.rule(file, &index);
        }
        self.refresh(seen);
        self.rule(file, &self.snapshot())
    }

    /// As [`Policy::decide`], without any file-system work: `None` when the index may not
    /// know the file yet (then call [`Policy::decide`]).
    pub fn decide_cached(&self, caller: Caller, file: &Object) -> Option<Access> {
        if caller == Caller::Privileged {
            return Some(Access::Public);
        }
        let index = self.snapshot();
        covers(&index, file).then(|| self.rule(file, &index))
    }

    /// What `caller` may have of the image `identifier` names: the rule of the file it
    /// resolves to, or, when there is none, of the identifier as the records spell it.
    pub fn decide_identifier(&self, caller: Caller, identifier: &str) -> Access {
        match self.storage.resolve(identifier) {
            Ok(file) => self.decide(caller, &file),
            Err(_) if caller == Caller::Privileged => Access::Public,
            Err(_) => self.store.rule(identifier).unwrap_or(self.default()),
        }
    }

    /// The rights URI that the record of `file`'s image gives, by any of its names.
    pub fn rights(&self, file: &Object) -> Option<&str> {
        names(&file.key).iter().find_map(|n| self.store.rights(n))
    }

    fn default(&self) -> Access {
        match self.unlisted {
            Unlisted::Public => Access::Public,
            Unlisted::Restricted => Access::Restricted,
        }
    }

    fn snapshot(&self) -> Arc<Index> {
        match self.index.read() {
            Ok(i) => i.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// The strictest rule that reaches `file` by name or by identity; the default for
    /// unlisted images when none does.
    fn rule(&self, file: &Object, index: &Index) -> Access {
        let by_identity = index.by_identity.get(&file.identity).copied();
        let by_name = names(&file.key)
            .into_iter()
            .filter_map(|n| self.store.rule(&n))
            .reduce(Access::strictest);
        match (by_identity, by_name) {
            (None, None) => self.default(),
            (a, b) => a
                .into_iter()
                .chain(b)
                .fold(Access::Public, Access::strictest),
        }
    }

    /// Rebuilds the identity index, unless a build that started after `seen` has finished
    /// meanwhile. One build at a time.
    fn refresh(&self, seen: SystemTime) {
        let _one = self.scanning.lock().unwrap_or_else(|p| p.into_inner());
        if self.snapshot().started > seen {
            return;
        }
        let started = SystemTime::now();
        let mut by_identity: HashMap<Identity, Access> = HashMap::new();
        for (id, access) in self.store.rules() {
            if let Ok(file) = self.storage.resolve(id) {
                let slot = by_identity.entry(file.identity).or_insert(access);
                *slot = slot.strictest(access);
            }
        }
        tracing::debug!(
            rules = self.store.rule_count(),
            files = by_identity.len(),
            "access index built in {:?}",
            started.elapsed().unwrap_or_default()
        );
        let index = Arc::new(Index {
            by_identity,
            started,
        });
        match self.index.write() {
            Ok(mut slot) => *slot = index,
            Err(poisoned) => *poisoned.into_inner() = index,
        }
    }
}

/// The output limits of an image for a caller with `access`: the server's `base` limits,
/// tightened for images served only in reduced form. The scale cap is the exact ratio of the
/// limited side to the image's long side, so no output pixel comes from a finer scale.
pub fn limits_for(base: Limits, access: Access, dims: Dimensions) -> Limits {
    match access {
        Access::Limited(side) => Limits {
            max_width: base.max_width.min(side),
            max_height: base.max_height.min(side),
            max_area: base.max_area.min(u64::from(side) * u64::from(side)),
            scale_cap: ScaleCap::new(side, dims.width.max(dims.height)),
        },
        _ => base,
    }
}

/// Whether an index was started safely after `file`'s inode last changed.
fn covers(index: &Index, file: &Object) -> bool {
    file.changed
        .checked_add(MARGIN)
        .is_some_and(|t| t < index.started)
}

/// The identifiers that name the object at `key` directly: its key, and the key without a
/// source extension.
fn names(rel: &str) -> Vec<String> {
    let mut out = vec![rel.to_string()];
    if let Some((stem, ext)) = rel.rsplit_once('.') {
        let ext = ext.to_ascii_lowercase();
        if crate::storage::EXTENSIONS.contains(&ext.as_str()) && !stem.ends_with('/') {
            out.push(stem.to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::path::Path;

    fn store(dir: &Path, json: &str, keep_public: bool) -> Arc<Store> {
        fs::write(dir.join("r.json"), json).unwrap();
        Arc::new(Store::load_with(dir, keep_public).0)
    }

    #[test]
    fn every_name_of_a_file_gets_its_rule_even_names_made_after_start() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("images");
        let records = t.path().join("records");
        fs::create_dir_all(root.join("sub")).unwrap();
        fs::create_dir_all(&records).unwrap();
        fs::write(root.join("open.jpg"), b"1").unwrap();
        fs::write(root.join("sub/secret.jpg"), b"2").unwrap();
        let root = root.canonicalize().unwrap();
        let s = store(
            &records,
            r#"{"objectid": 1, "images": [
                {"baseimageurl": "https://x/iiif/sub%2Fsecret", "accesslevel": 0},
                {"baseimageurl": "https://x/iiif/late", "accesslevel": 0},
                {"baseimageurl": "https://x/iiif/small"}]}"#,
            false,
        );
        let p = Policy::new(s, Storage::files(&root).unwrap(), Unlisted::Public);
        let get = |id: &str| p.decide(Caller::Anonymous, &p.storage().resolve(id).unwrap());
        assert_eq!(get("open"), Access::Public);
        assert_eq!(get("sub/secret"), Access::Restricted);
        assert_eq!(get("sub/secret.jpg"), Access::Restricted);
        // Names made after the policy: a symlink, a hard link, and the restricted file
        // itself arriving late under its record's name.
        std::os::unix::fs::symlink(root.join("sub/secret.jpg"), root.join("sym.jpg")).unwrap();
        fs::hard_link(root.join("sub/secret.jpg"), root.join("hard.jpg")).unwrap();
        fs::write(root.join("late.png"), b"3").unwrap();
        assert_eq!(get("sym"), Access::Restricted);
        assert_eq!(get("hard"), Access::Restricted);
        assert_eq!(get("late"), Access::Restricted);
        assert_eq!(get("late.png"), Access::Restricted);
        // A hard link to a restricted name made from a public file restricts the file.
        fs::hard_link(root.join("open.jpg"), root.join("late.jpg")).unwrap();
        let open = p.storage().resolve("open").unwrap();
        assert_eq!(p.decide(Caller::Anonymous, &open), Access::Restricted);
        assert_eq!(p.decide(Caller::Privileged, &open), Access::Public);
        assert_eq!(
            p.decide_identifier(Caller::Anonymous, "late"),
            Access::Restricted
        );
        assert_eq!(
            p.decide_identifier(Caller::Anonymous, "missing"),
            Access::Public
        );
    }

    #[test]
    fn unlisted_images_may_be_restricted() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("images");
        fs::create_dir_all(&root).unwrap();
        fs::write(root.join("listed.jpg"), b"1").unwrap();
        fs::write(root.join("other.jpg"), b"2").unwrap();
        let root = root.canonicalize().unwrap();
        let json = r#"{"objectid": 1, "images": [{"baseimageurl": "https://x/iiif/listed"}]}"#;
        let p = Policy::new(
            store(t.path(), json, true),
            Storage::files(&root).unwrap(),
            Unlisted::Restricted,
        );
        let get = |id: &str| p.decide(Caller::Anonymous, &p.storage().resolve(id).unwrap());
        assert_eq!(get("listed"), Access::Public);
        assert_eq!(get("listed.jpg"), Access::Public);
        assert_eq!(get("other"), Access::Restricted);
        assert_eq!(
            p.decide_identifier(Caller::Known, "nowhere"),
            Access::Restricted
        );
        let other = p.storage().resolve("other").unwrap();
        assert_eq!(p.decide(Caller::Privileged, &other), Access::Public);
    }

    #[test]
    fn the_cached_answer_waits_for_an_index_that_knows_the_file() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().canonicalize().unwrap();
        let p = Policy::new(
            Arc::new(Store::default()),
            Storage::files(&root).unwrap(),
            Unlisted::Public,
        );
        fs::write(root.join("new.jpg"), b"1").unwrap();
        let file = p.storage().resolve("new").unwrap();
        assert_eq!(p.decide_cached(Caller::Anonymous, &file), None);
        assert_eq!(p.decide(Caller::Anonymous, &file), Access::Public);
        // The rebuild began after the file was seen, but perhaps within the clock margin:
        // the cached answer is given once a later rebuild covers it.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while p.decide_cached(Caller::Anonymous, &file).is_none() {
            assert!(std::time::Instant::now() < deadline);
            std::thread::sleep(Duration::from_millis(10));
            p.refresh(SystemTime::now());
        }
        assert_eq!(
            p.decide_cached(Caller::Anonymous, &file),
            Some(Access::Public)
        );
        assert_eq!(names("a/b.JPG"), ["a/b.JPG", "a/b"]);
        assert_eq!(names("x.txt"), ["x.txt"]);
    }

    #[test]
    fn objects_of_any_storage_get_their_rule_by_key_and_identity() {
        let t = tempfile::tempdir().unwrap();
        let memory = Arc::new(crate::storage::Memory::default());
        memory.put("sub/secret.jpg", b"2".to_vec());
        memory.put("open.png", b"1".to_vec());
        let s = store(
            t.path(),
            r#"{"objectid": 1, "images": [
                {"baseimageurl": "https://x/iiif/sub%2Fsecret", "accesslevel": 0},
                {"baseimageurl": "https://x/iiif/late", "accesslevel": 0}]}"#,
            false,
        );
        let p = Policy::new(s, Storage::from(memory.clone()), Unlisted::Public);
        let get = |id: &str| p.decide(Caller::Anonymous, &p.storage().resolve(id).unwrap());
        assert_eq!(get("sub/secret.jpg"), Access::Restricted);
        assert_eq!(get("sub/secret"), Access::Restricted);
        assert_eq!(get("open"), Access::Public);
        // An object that arrives after the policy was made.
        memory.put("late.tif", b"3".to_vec());
        assert_eq!(get("late"), Access::Restricted);
        assert_eq!(
            p.decide_identifier(Caller::Anonymous, "late.tif"),
            Access::Restricted
        );
    }
}
