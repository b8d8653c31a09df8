//! The in-memory index of object records: loaded once at start-up, in parallel, keeping only
//! what routing, collections and access checks need. Manifests re-read their record file.
//!
//! Memory is kept small for Harvard's 250,000 objects: record paths are relative to the
//! folder, only images that are not public have an access entry, and rendition-number aliases
//! are a 64-bit hash mapped to the object id (confirmed against the record when used).

use super::record::{Level, ObjectRecord};
use crate::access::Access;
use rayon::prelude::*;
use serde::Deserialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// What the store keeps of one object.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The record file, relative to the records folder.
    pub path: Box<Path>,
    /// The title, for collection listings.
    pub title: Box<str>,
    /// The object is not public at all (its own `accesslevel` is 0, or unreadable, in any
    /// copy of its record).
    pub restricted: bool,
    /// Its classification: an index into the store's classification names.
    class: u32,
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
    /// Records loaded with a caveat (an unreadable access field, a duplicate object id),
    /// and what was done about it.
    pub warnings: Vec<(PathBuf, String)>,
}

/// The index of every object record.
#[derive(Debug, Default)]
pub struct Store {
    folder: PathBuf,
    entries: HashMap<u64, Entry>,
    public: Vec<u64>,
    classifications: Vec<Classification>,
    /// Access rules of listed images: those that are not public, and (when loaded with
    /// `keep_public`) the public ones too.
    access: HashMap<Box<str>, Access>,
    /// Rendition-number hash -> the object whose record lists it.
    aliases: HashMap<u64, u64>,
}

/// Files parsed in parallel per batch; bounds the memory of records not yet merged.
const BATCH: usize = 4096;

fn alias_hash(rendition: &str) -> u64 {
    crate::digest::short(rendition)
}

/// The fields read at start-up; serde skips the rest of each record without building it.
#[derive(Deserialize)]
struct IndexRecord {
    objectid: Option<u64>,
    id: Option<u64>,
    title: Option<String>,
    classification: Option<String>,
    #[serde(default)]
    accesslevel: Level,
    #[serde(default)]
    imagepermissionlevel: Level,
    images: Option<Vec<IndexImage>>,
}

#[derive(Deserialize)]
struct IndexImage {
    baseimageurl: Option<String>,
    renditionnumber: Option<String>,
    #[serde(default)]
    accesslevel: Level,
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

/// Classification names by slug, numbered in order of first appearance.
#[derive(Default)]
struct Classes {
    slugs: HashMap<String, u32>,
    names: Vec<(String, String)>,
}

impl Classes {
    fn index(&mut self, name: String) -> u32 {
        let slug = slug(&name);
        if let Some(&i) = self.slugs.get(&slug) {
            return i;
        }
        let i = self.names.len() as u32;
        self.slugs.insert(slug.clone(), i);
        self.names.push((slug, name));
        i
    }
}

/// Whether a record holds an access value that is unreadable or undefined.
fn odd_record(rec: &IndexRecord) -> bool {
    let images = rec.images.iter().flatten();
    Access::odd_fields(rec.accesslevel, rec.imagepermissionlevel, Level::Absent)
        || images
            .into_iter()
            .any(|i| Access::odd_fields(Level::Absent, Level::Absent, i.accesslevel))
}

fn read_index(path: &Path) -> Result<IndexRecord, String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    serde_json::from_slice(&bytes).map_err(|e| e.to_string())
}

impl Store {
    /// Loads every `*.json` record below `dir`. A file that cannot be read or parsed, or
    /// that has no object id, is reported and skipped; a missing folder gives an empty store.
    /// Only images that are not public get an access entry.
    pub fn load(dir: &Path) -> (Store, LoadReport) {
        Store::load_with(dir, false)
    }

    /// As [`Store::load`]; with `keep_public`, public images get an access entry too, so that
    /// "listed as public" can be told from "not listed" (`unlisted_images = "restricted"`).
    pub fn load_with(dir: &Path, keep_public: bool) -> (Store, LoadReport) {
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
        // Classifications that differ only in case or punctuation share one slug, and so
        // one collection, named as the first record spells it.
        let mut classes = Classes::default();
        for batch in files.chunks(BATCH) {
            let parsed: Vec<Result<IndexRecord, String>> =
                batch.par_iter().map(|p| read_index(p)).collect();
            for (path, result) in batch.iter().zip(parsed) {
                match result {
                    Ok(rec) => store.add(dir, path, rec, keep_public, &mut classes, &mut report),
                    Err(e) => report.skipped.push((path.clone(), e)),
                }
            }
        }
        store.entries.shrink_to_fit();
        store.access.shrink_to_fit();
        store.aliases.shrink_to_fit();
        // Public objects and classifications are listed once every copy of every record
        // has had its say (a duplicate may restrict an object loaded before it).
        let mut objects: Vec<Vec<u64>> = vec![Vec::new(); classes.names.len()];
        for (oid, e) in &store.entries {
            if !e.restricted {
                store.public.push(*oid);
                objects[e.class as usize].push(*oid);
            }
        }
        store.public.sort_unstable();
        store.public.shrink_to_fit();
        let mut classifications: Vec<Classification> = classes
            .names
            .into_iter()
            .zip(objects)
            .filter(|(_, objects)| !objects.is_empty())
            .map(|((slug, name), mut objects)| {
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
        keep_public: bool,
        classes: &mut Classes,
        report: &mut LoadReport,
    ) {
        let Some(oid) = rec.objectid.or(rec.id) else {
            report
                .skipped
                .push((path.to_path_buf(), "record has no objectid".into()));
            return;
        };
        if odd_record(&rec) {
            report.warnings.push((
                path.to_path_buf(),
                format!(
                    "object {oid}: an access field is unreadable or undefined; \
                     the images it governs are treated as restricted"
                ),
            ));
        }
        if let Some(prev) = self.entries.get(&oid) {
            // A second copy: the object gets the strictest of both. Each copy's object-level
            // fields apply to the images of both.
            let first = self.folder.join(&prev.path);
            let why = format!(
                "object {oid} is also in {}; the strictest access of the copies applies",
                prev.path.display()
            );
            report.warnings.push((path.to_path_buf(), why));
            let earlier = read_index(&first).ok();
            let restricted = !matches!(rec.accesslevel, Level::Absent | Level::Value(1));
            let images = rec.images.iter().flatten();
            let earlier_images = earlier.iter().flat_map(|e| e.images.iter().flatten());
            let images: Vec<&IndexImage> = images.chain(earlier_images).collect();
            for copy in std::iter::once(&rec).chain(earlier.as_ref()) {
                for img in &images {
                    self.register(oid, copy, img, keep_public);
                }
            }
            if let Some(prev) = self.entries.get_mut(&oid) {
                prev.restricted |= restricted;
            }
            return;
        }
        let restricted = !matches!(rec.accesslevel, Level::Absent | Level::Value(1));
        for img in rec.images.iter().flatten() {
            self.register(oid, &rec, img, keep_public);
        }
        let name = rec
            .classification
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty())
            .unwrap_or_else(|| "Unclassified".into());
        let class = classes.index(name);
        let relative = path.strip_prefix(dir).unwrap_or(path);
        self.entries.insert(
            oid,
            Entry {
                path: relative.into(),
                title: rec.title.unwrap_or_default().into(),
                restricted,
                class,
            },
        );
        report.loaded += 1;
    }

    /// Records the access rule (and rendition alias) of one image of object `oid`, merged
    /// with any rule it already has: the strictest wins.
    fn register(&mut self, oid: u64, rec: &IndexRecord, img: &IndexImage, keep_public: bool) {
        let entry = super::record::ImageEntry {
            baseimageurl: img.baseimageurl.clone(),
            ..Default::default()
        };
        let Some(ident) = entry.identifier() else {
            return;
        };
        let access =
            Access::from_record(rec.accesslevel, rec.imagepermissionlevel, img.accesslevel);
        match self.access.get_mut(ident.as_str()) {
            Some(slot) => *slot = slot.strictest(access),
            None if access != Access::Public || keep_public => {
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

    /// The rule the records give an image identifier, as spelled in them: `None` when no
    /// record lists it (or lists it as public, unless loaded with `keep_public`). Requests
    /// are decided by [`crate::policy::Policy`], on the source an identifier resolves to.
    pub fn rule(&self, identifier: &str) -> Option<Access> {
        self.access.get(identifier).copied()
    }

    /// Every identifier with a rule, and its rule.
    pub fn rules(&self) -> impl Iterator<Item = (&str, Access)> {
        self.access.iter().map(|(k, v)| (&**k, *v))
    }

    /// How many identifiers have a rule.
    pub fn rule_count(&self) -> usize {
        self.access.len()
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
        assert_eq!(skipped, ["broken.json", "noid.json"]);
        let warned: Vec<String> = report
            .warnings
            .iter()
            .map(|(p, _)| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(warned, ["dup.json"]);
        assert_eq!(s.public_objects(), &[1, 2, 4, 6]);
        let names: Vec<&str> = s
            .classifications()
            .iter()
            .map(|c| c.slug.as_str())
            .collect();
        assert_eq!(names, ["prints", "vessels-bronze"]);
        assert_eq!(s.classification("prints").unwrap().objects, vec![1, 2, 6]);
        assert_eq!(s.classification("prints").unwrap().name, "Prints");
        assert_eq!(s.rule("urn-3:HUAM:A"), None);
        assert_eq!(
            s.rule("B"),
            Some(Access::Restricted),
            "strictest of Limited and Restricted"
        );
        assert_eq!(s.rule("C"), Some(Access::Restricted));
        assert_eq!(s.rule("unlisted"), None);
        assert!(s.may_be_alias("A1"));
        assert_eq!(s.resolve_alias("A1").as_deref(), Some("urn-3:HUAM:A"));
        assert!(!s.may_be_alias("zzz"));
        assert_eq!(s.resolve_alias("zzz"), None);
        assert!(s.entry(3).unwrap().restricted);
        assert_eq!(s.record(2).unwrap().unwrap().title, "Two");
    }

    #[test]
    fn a_record_that_cannot_be_read_never_makes_an_image_more_public() {
        let d = tempfile::tempdir().unwrap();
        // 1.0 where an integer belongs is read as 1: limited, not skipped.
        write(
            d.path(),
            "a.json",
            r#"{"objectid": 1, "imagepermissionlevel": 1.0,
            "images": [{"baseimageurl": "https://x/iiif/A"}]}"#,
        );
        // An undefined or unreadable value restricts, and is reported.
        write(
            d.path(),
            "b.json",
            r#"{"objectid": 2, "imagepermissionlevel": "some",
            "images": [{"baseimageurl": "https://x/iiif/B"},
                       {"baseimageurl": "https://x/iiif/B2", "accesslevel": 7}]}"#,
        );
        // Two copies of object 3: the second withdraws image C and restricts the object;
        // the first's other image D is governed by the second's object fields too.
        write(
            d.path(),
            "c1.json",
            r#"{"objectid": 3, "classification": "Prints", "images": [
                {"baseimageurl": "https://x/iiif/C"}, {"baseimageurl": "https://x/iiif/D"}]}"#,
        );
        write(
            d.path(),
            "c2.json",
            r#"{"objectid": 3, "imagepermissionlevel": 1, "images": [
                {"baseimageurl": "https://x/iiif/C", "accesslevel": 0}]}"#,
        );
        write(
            d.path(),
            "e1.json",
            r#"{"objectid": 5, "classification": "Prints", "images": []}"#,
        );
        write(d.path(), "e2.json", r#"{"objectid": 5, "accesslevel": 0}"#);
        let (s, report) = Store::load(d.path());
        assert!(report.skipped.is_empty(), "{:?}", report.skipped);
        assert_eq!(s.rule("A"), Some(Access::Limited(256)));
        assert_eq!(s.rule("B"), Some(Access::Restricted));
        assert_eq!(s.rule("B2"), Some(Access::Restricted));
        assert_eq!(s.rule("C"), Some(Access::Restricted));
        assert_eq!(s.rule("D"), Some(Access::Limited(256)));
        assert!(s.entry(5).unwrap().restricted);
        assert_eq!(s.public_objects(), &[1, 2, 3]);
        assert_eq!(s.classification("prints").unwrap().objects, vec![3]);
        let warned: Vec<String> = report
            .warnings
            .iter()
            .map(|(p, _)| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(warned, ["b.json", "c2.json", "e2.json"]);
        // Listed public images have a rule only when asked for.
        let (s, _) = Store::load_with(d.path(), true);
        assert_eq!(s.rule("unlisted"), None);
        let d2 = tempfile::tempdir().unwrap();
        write(
            d2.path(),
            "p.json",
            r#"{"objectid": 9, "images": [{"baseimageurl": "https://x/iiif/P"}]}"#,
        );
        assert_eq!(
            Store::load_with(d2.path(), true).0.rule("P"),
            Some(Access::Public)
        );
        assert_eq!(Store::load(d2.path()).0.rule("P"), None);
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
