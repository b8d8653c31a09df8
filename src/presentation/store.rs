//! The in-memory index of object records: loaded once at start-up, in parallel, keeping only
//! what routing, collections and access checks need. Manifests re-read their record file.
//!
//! Memory is kept small for Harvard's 250,000 objects: record paths are relative to the
//! folder, only images that are not public have an access entry, and rendition-number aliases
//! are a 64-bit hash mapped to the object id (confirmed against the record when used).

use super::record::ObjectRecord;
use crate::access::Access;
use rayon::prelude::*;
use serde::Deserialize;
use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};

/// What the store keeps of one object.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The record file, relative to the records folder.
    pub path: Box<Path>,
    /// The title, for collection listings.
    pub title: Box<str>,
    /// The object's own `accesslevel` is 0: not public at all.
    pub restricted: bool,
}

/// A classification and its public objects, in id order.
#[derive(Debug, Clone)]
pub struct Classification {
    /// The name, as in the records.
    pub name: String,
    /// A URL-safe form of the name.
    pub slug: String,
    /// Object ids.
    pub objects: Vec<u64>,
}

/// Records that could not be loaded, with the reason.
#[derive(Debug, Default)]
pub struct LoadReport {
    /// Objects loaded.
    pub loaded: usize,
    /// Files skipped and why.
    pub skipped: Vec<(PathBuf, String)>,
}

/// The index of every object record.
#[derive(Debug, Default)]
pub struct Store {
    folder: PathBuf,
    entries: HashMap<u64, Entry>,
    public: Vec<u64>,
    classifications: Vec<Classification>,
    /// Access rules of images that are not public.
    access: HashMap<Box<str>, Access>,
    /// Rendition-number hash -> the object whose record lists it.
    aliases: HashMap<u64, u64>,
}

/// Files parsed in parallel per batch; bounds the memory of records not yet merged.
const BATCH: usize = 4096;

fn alias_hash(rendition: &str) -> u64 {
    let mut h = DefaultHasher::new();
    rendition.hash(&mut h);
    h.finish()
}

/// The fields read at start-up; serde skips the rest of each record without building it.
#[derive(Deserialize)]
struct IndexRecord {
    objectid: Option<u64>,
    id: Option<u64>,
    title: Option<String>,
    classification: Option<String>,
    accesslevel: Option<u8>,
    imagepermissionlevel: Option<u8>,
    images: Option<Vec<IndexImage>>,
}

#[derive(Deserialize)]
struct IndexImage {
    baseimageurl: Option<String>,
    renditionnumber: Option<String>,
    accesslevel: Option<u8>,
}

/// A URL-safe slug: lower-case letters and digits, other runs become one `-`.
pub fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_matches('-').to_string();
    if out.is_empty() {
        "unclassified".into()
    } else {
        out
    }
}

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            json_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
    Ok(())
}

fn read_index(path: &Path) -> Result<IndexRecord, String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    serde_json::from_slice(&bytes).map_err(|e| e.to_string())
}

impl Store {
    /// Loads every `*.json` record below `dir`. A file that cannot be read or parsed, or
    /// that has no object id, is reported and skipped; a missing folder gives an empty store.
    pub fn load(dir: &Path) -> (Store, LoadReport) {
        let mut report = LoadReport::default();
        let mut files = Vec::new();
        if let Err(e) = json_files(dir, &mut files) {
            report.skipped.push((dir.to_path_buf(), e.to_string()));
            return (Store::default(), report);
        }
        files.sort();
        let mut store = Store {
            folder: dir.to_path_buf(),
            ..Store::default()
        };
        let mut classes: HashMap<String, (String, Vec<u64>)> = HashMap::new();
        for batch in files.chunks(BATCH) {
            let parsed: Vec<Result<IndexRecord, String>> =
                batch.par_iter().map(|p| read_index(p)).collect();
            for (path, result) in batch.iter().zip(parsed) {
                match result {
                    Ok(rec) => store.add(dir, path, rec, &mut classes, &mut report),
                    Err(e) => report.skipped.push((path.clone(), e)),
                }
            }
        }
        store.entries.shrink_to_fit();
        store.access.shrink_to_fit();
        store.aliases.shrink_to_fit();
        store.public.sort_unstable();
        store.public.shrink_to_fit();
        let mut classifications: Vec<Classification> = classes
            .into_iter()
            .map(|(slug, (name, mut objects))| {
                objects.sort_unstable();
                Classification {
                    slug,
                    name,
                    objects,
                }
            })
            .collect();
        classifications.sort_by(|a, b| a.name.cmp(&b.name));
        store.classifications = classifications;
        (store, report)
    }

    fn add(
        &mut self,
        dir: &Path,
        path: &Path,
        rec: IndexRecord,
        classes: &mut HashMap<String, (String, Vec<u64>)>,
        report: &mut LoadReport,
    ) {
        let Some(oid) = rec.objectid.or(rec.id) else {
            report
                .skipped
                .push((path.to_path_buf(), "record has no objectid".into()));
            return;
        };
        if let Some(prev) = self.entries.get(&oid) {
            let why = format!(
                "objectid {oid} is already loaded from {}",
                prev.path.display()
            );
            report.skipped.push((path.to_path_buf(), why));
            return;
        }
        let restricted = rec.accesslevel == Some(0);
        for img in rec.images.iter().flatten() {
            let entry = super::record::ImageEntry {
                baseimageurl: img.baseimageurl.clone(),
                ..Default::default()
            };
            let Some(ident) = entry.identifier() else {
                continue;
            };
            let access =
                Access::from_record(rec.accesslevel, rec.imagepermissionlevel, img.accesslevel);
            match self.access.get_mut(ident.as_str()) {
                Some(slot) => *slot = slot.strictest(access),
                None if access != Access::Public => {
                    self.access.insert(ident.clone().into(), access);
                }
                None => {}
            }
            if let Some(r) = img
                .renditionnumber
                .as_deref()
                .filter(|r| !r.is_empty() && *r != ident)
            {
                self.aliases.entry(alias_hash(r)).or_insert(oid);
            }
        }
        if !restricted {
            self.public.push(oid);
            // Classifications that differ only in case or punctuation share one slug, and so
            // one collection, named as the first record spells it.
            let name = rec
                .classification
                .map(|c| c.trim().to_string())
                .filter(|c| !c.is_empty())
                .unwrap_or_else(|| "Unclassified".into());
            classes
                .entry(slug(&name))
                .or_insert_with(|| (name, Vec::new()))
                .1
                .push(oid);
        }
        let relative = path.strip_prefix(dir).unwrap_or(path);
        self.entries.insert(
            oid,
            Entry {
                path: relative.into(),
                title: rec.title.unwrap_or_default().into(),
                restricted,
            },
        );
        report.loaded += 1;
    }

    /// The entry of an object.
    pub fn entry(&self, objectid: u64) -> Option<&Entry> {
        self.entries.get(&objectid)
    }

    /// Reads and parses an object's full record from its file.
    pub fn record(&self, objectid: u64) -> Option<Result<ObjectRecord, String>> {
        let entry = self.entries.get(&objectid)?;
        Some(
            std::fs::read(self.folder.join(&entry.path))
                .map_err(|e| e.to_string())
                .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string())),
        )
    }

    /// The number of objects loaded.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no object is loaded.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Every object id (public or not), in id order.
    pub fn objects(&self) -> Vec<u64> {
        let mut ids: Vec<u64> = self.entries.keys().copied().collect();
        ids.sort_unstable();
        ids
    }

    /// Public objects, in id order.
    pub fn public_objects(&self) -> &[u64] {
        &self.public
    }

    /// Classifications, by name.
    pub fn classifications(&self) -> &[Classification] {
        &self.classifications
    }

    /// The classification with this slug.
    pub fn classification(&self, slug: &str) -> Option<&Classification> {
        self.classifications.iter().find(|c| c.slug == slug)
    }

    /// The access rule of an image identifier; images in no record are public.
    pub fn access(&self, identifier: &str) -> Access {
        self.access
            .get(identifier)
            .copied()
            .unwrap_or(Access::Public)
    }

    /// The identifiers that are not public, with their rules.
    pub fn non_public(&self) -> impl Iterator<Item = (&str, Access)> {
        self.access.iter().map(|(k, v)| (&**k, *v))
    }

    /// The access rule of every image file in `root` that a non-public identifier reaches
    /// (with or without its extension, or through a symlink): the strictest of its rules.
    pub fn file_access(&self, root: &std::path::Path) -> HashMap<std::path::PathBuf, Access> {
        let mut by_file: HashMap<std::path::PathBuf, Access> = HashMap::new();
        for (id, access) in self.non_public() {
            if let Ok(file) = crate::source::resolve(root, id) {
                let slot = by_file.entry(file.path).or_insert(access);
                *slot = slot.strictest(access);
            }
        }
        by_file
    }

    /// Whether `id` may be a rendition number (cheap, no I/O): then [`Store::resolve_alias`]
    /// finds the identifier it stands for.
    pub fn may_be_alias(&self, id: &str) -> bool {
        self.aliases.contains_key(&alias_hash(id))
    }

    /// The identifier a rendition number stands for, read from the record that lists it.
    pub fn resolve_alias(&self, rendition: &str) -> Option<String> {
        let oid = *self.aliases.get(&alias_hash(rendition))?;
        let record = self.record(oid)?.ok()?;
        record
            .images
            .iter()
            .find(|i| i.renditionnumber.as_deref() == Some(rendition))
            .and_then(|i| i.identifier())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) {
        std::fs::write(dir.join(name), text).unwrap();
    }

    #[test]
    fn loads_indexes_and_reports() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("sub")).unwrap();
        write(
            d.path(),
            "a.json",
            r#"{"objectid": 2, "title": "Two", "classification": "Prints",
            "images": [{"baseimageurl": "https://x/iiif/urn-3:HUAM:A", "renditionnumber": "A1"}]}"#,
        );
        write(
            d.path(),
            "sub/b.json",
            r#"{"id": 1, "title": "One", "classification": "Prints",
            "imagepermissionlevel": 1, "images": [{"baseimageurl": "https://x/iiif/B"}]}"#,
        );
        write(
            d.path(),
            "c.json",
            r#"{"objectid": 3, "accesslevel": 0, "classification": "Prints",
            "images": [{"baseimageurl": "https://x/iiif/C"}]}"#,
        );
        write(
            d.path(),
            "d.json",
            r#"{"objectid": 4, "classification": "Vessels / Bronze",
            "images": [{"baseimageurl": "https://x/iiif/B", "accesslevel": 0}]}"#,
        );
        write(d.path(), "broken.json", r#"{"objectid": 5, "title": "#);
        write(d.path(), "noid.json", r#"{"title": "?"}"#);
        write(d.path(), "dup.json", r#"{"objectid": 2}"#);
        write(d.path(), "notes.txt", "ignored");
        write(
            d.path(),
            "e.json",
            r#"{"objectid": 6, "classification": "prints"}"#,
        );
        let (s, report) = Store::load(d.path());
        assert_eq!(report.loaded, 5);
        let mut skipped: Vec<String> = report
            .skipped
            .iter()
            .map(|(p, _)| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        skipped.sort();
        assert_eq!(skipped, ["broken.json", "dup.json", "noid.json"]);
        assert_eq!(s.public_objects(), &[1, 2, 4, 6]);
        let names: Vec<&str> = s
            .classifications()
            .iter()
            .map(|c| c.slug.as_str())
            .collect();
        assert_eq!(names, ["prints", "vessels-bronze"]);
        assert_eq!(s.classification("prints").unwrap().objects, vec![1, 2, 6]);
        assert_eq!(s.classification("prints").unwrap().name, "Prints");
        assert_eq!(s.access("urn-3:HUAM:A"), Access::Public);
        assert_eq!(
            s.access("B"),
            Access::Restricted,
            "strictest of Limited and Restricted"
        );
        assert_eq!(s.access("C"), Access::Restricted);
        assert_eq!(s.access("unlisted"), Access::Public);
        assert!(s.may_be_alias("A1"));
        assert_eq!(s.resolve_alias("A1").as_deref(), Some("urn-3:HUAM:A"));
        assert!(!s.may_be_alias("zzz"));
        assert_eq!(s.resolve_alias("zzz"), None);
        assert!(s.entry(3).unwrap().restricted);
        assert_eq!(s.record(2).unwrap().unwrap().title, "Two");
    }

    #[test]
    fn missing_folder_is_an_empty_store() {
        let (s, report) = Store::load(Path::new("/no/such/records"));
        assert!(s.is_empty());
        assert_eq!(report.skipped.len(), 1);
    }

    #[test]
    fn slugs() {
        assert_eq!(slug("Vessels"), "vessels");
        assert_eq!(slug("Paintings / Oil & Tempera"), "paintings-oil-tempera");
        assert_eq!(slug("  "), "unclassified");
    }
}
