//! A backend that keeps objects in memory: for tests, and to show that nothing above the
//! storage interface assumes files. Replacing an object gives it a new version; reading an
//! old version fails with [`StorageError::Changed`], as a versioned object store does.

use super::{names, Backend, Identity, Object, Storage, StorageError};
use std::collections::HashMap;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, RwLock};
use std::time::{Duration, SystemTime};

/// The tag of memory objects' identities.
const DEV: u64 = u64::MAX;

#[derive(Debug)]
struct Entry {
    bytes: Arc<[u8]>,
    version: u64,
    number: u64,
    changed: SystemTime,
}

/// Objects in memory, by key.
#[derive(Debug, Default)]
pub struct Memory {
    objects: RwLock<HashMap<String, Entry>>,
    versions: AtomicU64,
    reads: AtomicU64,
    bytes_read: AtomicU64,
    /// While set, every read fails as an unreachable network store's would.
    failing: std::sync::atomic::AtomicBool,
    /// While set, every read waits (for tests of reads in flight), counted in `waiting`.
    paused: Mutex<bool>,
    resumed: Condvar,
    waiting: AtomicU64,
}

impl Memory {
    /// Stores `bytes` at `key` (a new version if it exists).
    pub fn put(&self, key: &str, bytes: impl Into<Arc<[u8]>>) {
        let version = self.versions.fetch_add(1, Ordering::Relaxed) + 1;
        let mut objects = self.objects.write().unwrap_or_else(|p| p.into_inner());
        let number = objects.get(key).map_or(version, |e| e.number);
        objects.insert(
            key.to_string(),
            Entry {
                bytes: bytes.into(),
                version,
                number,
                changed: SystemTime::now(),
            },
        );
    }

    /// Removes the object at `key`.
    pub fn remove(&self, key: &str) {
        let mut objects = self.objects.write().unwrap_or_else(|p| p.into_inner());
        objects.remove(key);
    }

    /// Makes every read fail as an unreachable network store's would (for tests of
    /// outages), or read again.
    pub fn set_failing(&self, failing: bool) {
        self.failing.store(failing, Ordering::Relaxed);
    }

    /// Makes every read wait until reads are resumed (for tests of reads in flight), or
    /// resumes them.
    pub fn pause_reads(&self, paused: bool) {
        *self.paused.lock().unwrap_or_else(|p| p.into_inner()) = paused;
        self.resumed.notify_all();
    }

    /// How many reads are waiting for [`Memory::pause_reads`] to end.
    pub fn reads_waiting(&self) -> u64 {
        self.waiting.load(Ordering::Relaxed)
    }

    /// How many calls to [`Backend::read_ranges`] were made (round trips, for a network
    /// backend).
    pub fn reads(&self) -> u64 {
        self.reads.load(Ordering::Relaxed)
    }

    /// How many bytes those calls read.
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read.load(Ordering::Relaxed)
    }

    fn object(&self, storage: &Storage, key: &str) -> Option<Object> {
        let objects = self.objects.read().unwrap_or_else(|p| p.into_inner());
        let e = objects.get(key)?;
        Some(Object {
            key: key.to_string(),
            path: PathBuf::from(format!("memory:{key}")),
            len: e.bytes.len() as u64,
            modified: SystemTime::UNIX_EPOCH + Duration::from_nanos(e.version),
            identity: Identity {
                dev: DEV,
                ino: e.number,
            },
            changed: e.changed,
            storage: storage.clone(),
        })
    }
}

impl Backend for Memory {
    fn object(&self, storage: &Storage, key: &str) -> Result<Object, StorageError> {
        Memory::object(self, storage, key).ok_or(StorageError::NotFound)
    }

    fn put_new(&self, key: &str, bytes: Vec<u8>) -> Result<bool, StorageError> {
        let version = self.versions.fetch_add(1, Ordering::Relaxed) + 1;
        let mut objects = self.objects.write().unwrap_or_else(|p| p.into_inner());
        if objects.contains_key(key) {
            return Ok(false);
        }
        objects.insert(
            key.to_string(),
            Entry {
                bytes: bytes.into(),
                version,
                number: version,
                changed: SystemTime::now(),
            },
        );
        Ok(true)
    }

    fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), StorageError> {
        Memory::put(self, key, bytes);
        Ok(())
    }

    fn delete(&self, key: &str) -> Result<(), StorageError> {
        self.remove(key);
        Ok(())
    }

    fn list(&self) -> Result<Vec<String>, StorageError> {
        let objects = self.objects.read().unwrap_or_else(|p| p.into_inner());
        Ok(objects
            .keys()
            .filter(|k| names::is_source_file(std::path::Path::new(k)))
            .cloned()
            .collect())
    }

    fn resolve(&self, storage: &Storage, identifier: &str) -> Result<Object, StorageError> {
        names::candidates(identifier)
            .find_map(|key| self.object(storage, &key))
            .ok_or(StorageError::NotFound)
    }

    fn stat(&self, storage: &Storage, object: &Object) -> Result<Object, StorageError> {
        self.object(storage, &object.key)
            .ok_or(StorageError::NotFound)
    }

    fn read_ranges(
        &self,
        object: &Object,
        ranges: &[Range<u64>],
    ) -> Result<Vec<Vec<u8>>, StorageError> {
        {
            let paused = self.paused.lock().unwrap_or_else(|p| p.into_inner());
            if *paused {
                self.waiting.fetch_add(1, Ordering::Relaxed);
                let waited = self.resumed.wait_while(paused, |p| *p);
                drop(waited.unwrap_or_else(|p| p.into_inner()));
                self.waiting.fetch_sub(1, Ordering::Relaxed);
            }
        }
        self.reads.fetch_add(1, Ordering::Relaxed);
        let asked: u64 = ranges.iter().map(|r| r.end.saturating_sub(r.start)).sum();
        self.bytes_read.fetch_add(asked, Ordering::Relaxed);
        if self.failing.load(Ordering::Relaxed) {
            return Err(StorageError::Remote {
                kind: super::Remote::Unavailable,
                message: "the test store is failing".into(),
            });
        }
        let objects = self.objects.read().unwrap_or_else(|p| p.into_inner());
        let e = objects.get(&object.key).ok_or(StorageError::NotFound)?;
        let current = SystemTime::UNIX_EPOCH + Duration::from_nanos(e.version);
        if current != object.modified {
            return Err(StorageError::Changed(object.key.clone()));
        }
        ranges
            .iter()
            .map(|r| {
                e.bytes
                    .get(r.start as usize..r.end as usize)
                    .map(<[u8]>::to_vec)
                    .ok_or_else(|| StorageError::OutOfRange {
                        key: object.key.clone(),
                        start: r.start,
                        end: r.end,
                        len: e.bytes.len() as u64,
                    })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replaced_object_is_a_new_version_and_old_reads_fail() {
        let memory = Arc::new(Memory::default());
        let storage = Storage::from(memory.clone());
        memory.put("a/b.png", b"first".to_vec());
        let first = storage.resolve("a/b").unwrap();
        assert_eq!(first.read_all().unwrap(), b"first");
        memory.put("a/b.png", b"second!".to_vec());
        assert!(!first.unchanged());
        assert!(matches!(first.read_all(), Err(StorageError::Changed(_))));
        let second = storage.resolve("a/b.png").unwrap();
        assert_eq!(second.identity, first.identity);
        assert_ne!(second.version(), first.version());
        assert_eq!(second.read_range(1..4).unwrap(), b"eco");
        // Straight to the backend, past the object's own checks: refused, not a panic.
        assert!(matches!(
            memory.read_ranges(&second, &[0..2, 3..99]),
            Err(StorageError::OutOfRange { .. })
        ));
        memory.remove("a/b.png");
        assert!(matches!(
            storage.resolve("a/b"),
            Err(StorageError::NotFound)
        ));
        assert!(matches!(
            storage.resolve("../a/b"),
            Err(StorageError::NotFound)
        ));
    }
}
