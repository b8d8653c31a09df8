//! The in-memory index of object records: loaded once at start-up, in parallel, keeping only
//! what routing, collections and access checks need. Manifests re-read their record.
//!
//! Records come from one or more folders, each of any [`Shape`] (detected per file, or named
//! by the folder). Objects are keyed by [`ObjectKey`]: a namespace (the folder's name, else
//! the museum) and the record's own id, so that Brooklyn 1588 and Harvard 1588 are two
//! objects. Memory is kept small for Harvard's 250,000 objects: record files are a table the
//! entries point into, only images that are not public have an access entry, and alias
//! (rendition-number) hashes map to the object whose record lists them.

use super::model::Object;
use super::search::{Builder, SearchIndex};
use super::shapes::{split, IdentifierRule, ImageRef, Shape, Summary};
use crate::access::{Access, Level};
use rayon::prelude::*;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// A folder of records, as configured.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RecordsFolder {
    /// The folder (or a single record file).
    pub path: PathBuf,
    /// The namespace of its objects' ids; without one, each shape's museum.
    pub name: Option<String>,
    /// Its records' shape; without one, detected per file.
    pub shape: Option<Shape>,
    /// How its image references become identifiers.
    pub identifiers: IdentifierRule,
}

impl RecordsFolder {
    /// A folder with detected shapes and museum namespaces.
    pub fn new(path: impl Into<PathBuf>) -> RecordsFolder {
        RecordsFolder {
            path: path.into(),
            ..RecordsFolder::default()
        }
    }

    /// Reads `PATH[,name=NAME][,shape=SHAPE][,identifiers=stem|name|path]`.
    pub fn parse(spec: &str) -> Result<RecordsFolder, String> {
        let mut parts = spec.split(',');
        let path = parts.next().unwrap_or("").trim();
        if path.is_empty() {
            return Err(format!("records {spec:?}: no folder"));
        }
        let mut f = RecordsFolder::new(path);
        for part in parts {
            let (k, v) = part
                .split_once('=')
                .ok_or_else(|| format!("records {spec:?}: {part:?} is not key=value"))?;
            match k.trim() {
                "name" => f.name = Some(v.trim().to_string()),
                "shape" => {
                    f.shape = Some(Shape::parse(v.trim()).ok_or_else(|| {
                        let names: Vec<&str> = Shape::ALL.iter().map(|s| s.name()).collect();
                        format!(
                            "records {spec:?}: shape {v:?} is not one of {}",
                            names.join(", ")
                        )
                    })?)
                }
                "identifiers" => {
                    f.identifiers = IdentifierRule::parse(v.trim()).ok_or_else(|| {
                        format!("records {spec:?}: identifiers {v:?} is not stem, name or path")
                    })?
                }
                other => return Err(format!("records {spec:?}: unknown option {other:?}")),
            }
        }
        f.check()?;
        Ok(f)
    }

    /// Checks the name: lower-case letters, digits and `-`, so that it can stand before
    /// the `:` of an object key.
    pub fn check(&self) -> Result<(), String> {
        match &self.name {
            Some(n)
                if n.is_empty()
                    || !n
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') =>
            {
                Err(format!(
                    "records name {n:?}: use lower-case letters, digits and '-'"
                ))
            }
            _ => Ok(()),
        }
    }

    fn namespace(&self, shape: Shape) -> String {
        match (&self.name, shape) {
            (Some(n), Shape::HarvardImage) => format!("{n}-image"),
            (Some(n), _) => n.clone(),
            (None, s) => s.namespace().to_string(),
        }
    }
}

/// The namespace whose object ids are written bare in URLs: Harvard's objects, so that
/// `/manifests/object/304069` means what it always has.
pub const HOME: &str = "harvard";

/// An object's key: its namespace (an index into the store's names) in the top 16 bits, and
/// its id in the rest: the number itself for a canonical number below 2^47, else bit 47 and
/// an index into the store's text ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectKey(u64);

const TEXT_BIT: u64 = 1 << 47;
const LOCAL: u64 = (1 << 48) - 1;

fn canonical_number(s: &str) -> Option<u64> {
    let ok =
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
    ok.then(|| s.parse().ok())
        .flatten()
        .filter(|&n| n < TEXT_BIT)
}

/// What the store keeps of one object.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The title, for collection listings.
    pub title: Box<str>,
    /// The record's file: an index into the store's files.
    file: u32,
    /// Its position in the file's page.
    position: u32,
    /// Its classification: an index into the store's classification names.
    class: u32,
    /// Its shape.
    pub shape: Shape,
    /// The object is not public at all (its own access level is 0, or unreadable, in any
    /// copy of its record).
    pub restricted: bool,
}

/// A classification and its public objects, in key order.
#[derive(Debug, Clone)]
pub struct Classification {
    /// The name, as in the records.
    pub name: String,
    /// A URL-safe form of the name.
    pub slug: String,
    /// Objects.
    pub objects: Vec<ObjectKey>,
}

/// Records that could not be loaded, with the reason.
#[derive(Debug, Default)]
pub struct LoadReport {
    /// Objects loaded.
    pub loaded: usize,
    /// Objects loaded, by shape.
    pub by_shape: Vec<(Shape, usize)>,
    /// Files or records skipped and why (a record's reason names its position in the page).
    pub skipped: Vec<(PathBuf, String)>,
    /// Records loaded with a caveat (an unreadable access field, a duplicate object id),
    /// and what was done about it.
    pub warnings: Vec<(PathBuf, String)>,
    /// Records folders that could not be read at all.
    pub unreadable: Vec<PathBuf>,
}

impl LoadReport {
    fn count(&mut self, shape: Shape) {
        self.loaded += 1;
        match self.by_shape.iter_mut().find(|(s, _)| *s == shape) {
            Some((_, n)) => *n += 1,
            None => self.by_shape.push((shape, 1)),
        }
    }

    /// Skipped records (or files), by shape where one was told: for the start-up log.
    pub fn summary(&self) -> String {
        let mut by: Vec<String> = self
            .by_shape
            .iter()
            .map(|(s, n)| format!("{} {n}", s.name()))
            .collect();
        by.sort();
        format!(
            "{} loaded ({}), {} skipped",
            self.loaded,
            if by.is_empty() {
                "none".into()
            } else {
                by.join(", ")
            },
            self.skipped.len()
        )
    }
}

/// The index of every object record.
#[derive(Debug, Default)]
pub struct Store {
    folders: Vec<RecordsFolder>,
    /// Record files, relative to their folder; each folder's files are consecutive.
    files: Vec<Box<Path>>,
    /// The index of each folder's first file.
    folder_starts: Vec<u32>,
    namespaces: Vec<Box<str>>,
    /// (folder, shape) -> namespace index, as met.
    shapes: Vec<(u16, Shape, u16)>,
    texts: Vec<Box<str>>,
    text_keys: HashMap<(u16, Box<str>), u64>,
    entries: HashMap<ObjectKey, Entry>,
    public: Vec<ObjectKey>,
    classifications: Vec<Classification>,
    /// Access rules of listed images: those that are not public, and (when loaded with
    /// `keep_public`) the public ones too.
    access: HashMap<Box<str>, Access>,
    /// Alias hash -> the object whose record lists it, sorted (the first record to list an
    /// alias keeps it). Sorted lists hold these twice as compactly as a hash map.
    aliases: Vec<(u64, ObjectKey)>,
    /// Museum image id -> the object whose record lists it, sorted (the first record to list
    /// an id keeps it).
    image_ids: Vec<(u64, ObjectKey)>,
    /// The distinct rights URIs of the records, and each one's index (while loading).
    rights_names: Vec<Box<str>>,
    rights_index: HashMap<Box<str>, u16>,
    /// Identifier hash -> the rights URI of the first record that lists the image with one,
    /// sorted; only images whose record gives rights are here (none of Harvard's).
    image_rights: Vec<(u64, u16)>,
    /// The words of each object's title and number while loading (first copy of each
    /// object), by the order objects were added ...
    words: Builder,
    /// ... and the objects in that order.
    worded: Vec<ObjectKey>,
    /// Public objects by the words of their titles and numbers.
    search: SearchIndex,
}

/// Files parsed in parallel per batch; bounds the memory of records not yet merged.
const BATCH: usize = 4096;

fn alias_hash(alias: &str) -> u64 {
    crate::digest::short(alias)
}

/// The object a sorted (number, key) list gives a number.
fn lookup(list: &[(u64, ObjectKey)], n: u64) -> Option<ObjectKey> {
    let i = list.binary_search_by_key(&n, |(m, _)| *m).ok()?;
    Some(list[i].1)
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

/// Record files below `dir` (or `dir` itself when it is a file): JSON, and XML (reported).
fn record_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if dir.is_file() {
        out.push(dir.to_path_buf());
        return Ok(());
    }
    // Entries in name order, each folder where its name falls: the files come out sorted as
    // paths are, without sorting 250,000 paths afterwards.
    let mut entries = std::fs::read_dir(dir)?.collect::<Result<Vec<_>, _>>()?;
    entries.sort_by_cached_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        // The entry's type needs no `stat`, except for a link, which is followed.
        let folder = match entry.file_type() {
            Ok(t) if !t.is_symlink() => t.is_dir(),
            _ => path.is_dir(),
        };
        if folder {
            record_files(&path, out)?;
        } else if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json") || e.eq_ignore_ascii_case("xml"))
        {
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

/// Whether an object holds an access value that is unreadable or undefined.
fn odd_object(o: &Summary) -> bool {
    Access::odd_fields(o.accesslevel, o.imagepermissionlevel, Level::Absent)
        || o.images
            .iter()
            .any(|i| Access::odd_fields(Level::Absent, Level::Absent, i.accesslevel))
}

/// One record read from a file: its position, and its shape and summary or why not.
type Read = super::shapes::Positioned<(Shape, Summary)>;

/// Reads every record of a file.
fn read_file(path: &Path, folder: &RecordsFolder) -> Result<Vec<Read>, String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("xml"))
    {
        return Err(xml_reason(&bytes));
    }
    let text = std::str::from_utf8(&bytes).map_err(|e| format!("not UTF-8: {e}"))?;
    super::shapes::summaries(text, folder.shape, folder.identifiers)
}

/// The search index over the public objects' titles and numbers, from their words collected
/// as the records were added (`worded`: the objects in that order); restricted objects'
/// words go.
fn index_words(words: Builder, worded: &[ObjectKey], public: &[ObjectKey]) -> SearchIndex {
    let position: Vec<Option<u32>> = worded
        .iter()
        .map(|k| public.binary_search(k).ok().map(|p| p as u32))
        .collect();
    words.finish_mapped(public.len() as u32, |o| position[o as usize])
}

/// Why an XML file is not read: Tessera reads the JSON form of each API. Names the first
/// place where the file is not well-formed XML, when a quick scan finds one (an attribute
/// value with an unescaped `"`, or a bare `&`, as in the Brooklyn Museum's published example).
fn xml_reason(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let at = |i: usize| {
        let line = text[..i].matches('\n').count() + 1;
        let col = i - text[..i].rfind('\n').map_or(0, |n| n + 1) + 1;
        format!("line {line}, column {col}")
    };
    let b = text.as_bytes();
    let mut problem = None;
    let mut in_value = false;
    for i in 0..b.len() {
        match b[i] {
            b'"' if !in_value && i > 0 && b[i - 1] == b'=' => in_value = true,
            b'"' if in_value => {
                in_value = false;
                let next = b.get(i + 1).copied().unwrap_or(b' ');
                if !(next.is_ascii_whitespace() || matches!(next, b'>' | b'/' | b'?')) {
                    problem = Some(format!(
                        "{}: an attribute value holds an unescaped '\"'",
                        at(i)
                    ));
                    break;
                }
            }
            b'&' => {
                let entity = text[i + 1..]
                    .find(';')
                    .filter(|&n| n > 0 && n <= 10)
                    .map(|n| &text[i + 1..i + 1 + n])
                    .is_some_and(|e| e.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'#'));
                if !entity {
                    problem = Some(format!("{}: a bare '&'", at(i)));
                    break;
                }
            }
            _ => {}
        }
    }
    match problem {
        Some(p) => format!(
            "not well-formed XML ({p}); XML records are not read: use the same API's JSON format"
        ),
        None => "XML records are not read: use the same API's JSON format".into(),
    }
}

impl Store {
    /// Loads every record below `dir`, one folder with detected shapes. See [`Store::load`].
    pub fn load_with(dir: &Path, keep_public: bool) -> (Store, LoadReport) {
        Store::load(&[RecordsFolder::new(dir)], keep_public)
    }

    /// Loads every `*.json` record file below each folder (an XML file is reported). A file
    /// that cannot be read or parsed, and a record that matches no shape, has no id or is
    /// malformed, is reported with its file (and position) and skipped; a missing folder is
    /// reported. Only images that are not public get an access entry, unless `keep_public`
    /// (then "listed as public" can be told from "not listed").
    pub fn load(folders: &[RecordsFolder], keep_public: bool) -> (Store, LoadReport) {
        let mut report = LoadReport::default();
        let mut store = Store {
            folders: folders.to_vec(),
            ..Store::default()
        };
        // Classifications that differ only in case or punctuation share one slug, and so
        // one collection, named as the first record spells it.
        let mut classes = Classes::default();
        for folder in folders {
            store.folder_starts.push(store.files.len() as u32);
            let mut files = Vec::new();
            if let Err(e) = record_files(&folder.path, &mut files) {
                report.unreadable.push(folder.path.clone());
                report.skipped.push((folder.path.clone(), e.to_string()));
                continue;
            }
            // While one batch's records are added to the store (on this thread), the next
            // batch is parsed (on the others): the adding is serial, and hides behind it.
            let parse = |batch: &'_ [PathBuf]| -> Vec<Result<Vec<Read>, String>> {
                batch.par_iter().map(|p| read_file(p, folder)).collect()
            };
            let mut batches = files.chunks(BATCH);
            let mut current = batches.next().map(|b| (b, parse(b)));
            while let Some((batch, parsed)) = current.take() {
                let next = batches.next();
                let absorb = || {
                    store.absorb(
                        folder,
                        batch.iter().zip(parsed),
                        keep_public,
                        &mut classes,
                        &mut report,
                    )
                };
                current = rayon::join(|| next.map(|b| (b, parse(b))), absorb).0;
            }
        }
        store.files.shrink_to_fit();
        store.entries.shrink_to_fit();
        store.access.shrink_to_fit();
        for list in [&mut store.aliases, &mut store.image_ids] {
            list.sort_by_key(|(n, _)| *n);
            list.dedup_by_key(|(n, _)| *n);
            list.shrink_to_fit();
        }
        // A stable sort keeps the first record's rights for an image listed twice.
        store.image_rights.sort_by_key(|(n, _)| *n);
        store.image_rights.dedup_by_key(|(n, _)| *n);
        store.image_rights.shrink_to_fit();
        store.rights_index = HashMap::new();
        // Public objects and classifications are listed once every copy of every record
        // has had its say (a duplicate may restrict an object loaded before it).
        let mut objects: Vec<Vec<ObjectKey>> = vec![Vec::new(); classes.names.len()];
        for (key, e) in &store.entries {
            if !e.restricted {
                store.public.push(*key);
                objects[e.class as usize].push(*key);
            }
        }
        store.public.sort_unstable();
        store.public.shrink_to_fit();
        // The search index and the classifications are made side by side.
        let words = std::mem::take(&mut store.words);
        let worded = std::mem::take(&mut store.worded);
        let (search, mut classifications) = rayon::join(
            || index_words(words, &worded, &store.public),
            || -> Vec<Classification> {
                classes
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
                    .collect()
            },
        );
        classifications.sort_by(|a, b| a.name.cmp(&b.name));
        store.classifications = classifications;
        store.search = search;
        (store, report)
    }

    /// The public objects whose title and number hold every word of `query` (see
    /// [`super::search`]), as positions in [`Store::public_objects`]; `None` when the query
    /// has no words.
    pub fn search(&self, query: &str) -> Option<super::search::Matches> {
        self.search.search(query)
    }

    /// The search index.
    pub fn search_index(&self) -> &super::search::SearchIndex {
        &self.search
    }

    /// The folder a record file is in.
    fn folder_of(&self, file: u32) -> u16 {
        (self.folder_starts.partition_point(|&s| s <= file) - 1) as u16
    }

    /// The namespace index of a folder's records of one shape.
    fn namespace_of(&mut self, folder: u16, shape: Shape) -> u16 {
        if let Some(&(_, _, i)) = self
            .shapes
            .iter()
            .find(|(f, s, _)| *f == folder && *s == shape)
        {
            return i;
        }
        let name = self.folders[folder as usize].namespace(shape);
        let i = match self.namespaces.iter().position(|n| **n == *name) {
            Some(i) => i as u16,
            None => {
                self.namespaces.push(name.into());
                (self.namespaces.len() - 1) as u16
            }
        };
        self.shapes.push((folder, shape, i));
        i
    }

    fn intern(&mut self, ns: u16, id: &str) -> ObjectKey {
        let local = match canonical_number(id) {
            Some(n) => n,
            None => match self.text_keys.get(&(ns, id.into())) {
                Some(&i) => i,
                None => {
                    let i = TEXT_BIT | self.texts.len() as u64;
                    self.texts.push(id.into());
                    self.text_keys.insert((ns, id.into()), i);
                    i
                }
            },
        };
        ObjectKey((u64::from(ns) << 48) | local)
    }

    /// Adds a batch's parsed files: their records, and a report line for each file or
    /// record that was skipped.
    fn absorb<'a>(
        &mut self,
        folder: &RecordsFolder,
        parsed: impl Iterator<Item = (&'a PathBuf, Result<Vec<Read>, String>)>,
        keep_public: bool,
        classes: &mut Classes,
        report: &mut LoadReport,
    ) {
        for (path, result) in parsed {
            let records = match result {
                Ok(r) => r,
                Err(e) => {
                    report.skipped.push((path.clone(), e));
                    continue;
                }
            };
            let relative = path.strip_prefix(&folder.path).unwrap_or(path);
            let file = self.files.len() as u32;
            self.files.push(relative.into());
            for (position, read) in records {
                match read {
                    Ok((shape, object)) => self.add(
                        path,
                        (file, position as u32),
                        shape,
                        object,
                        keep_public,
                        classes,
                        report,
                    ),
                    Err(e) => report
                        .skipped
                        .push((path.clone(), format!("record {position}: {e}"))),
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn add(
        &mut self,
        path: &Path,
        (file, position): (u32, u32),
        shape: Shape,
        object: Summary,
        keep_public: bool,
        classes: &mut Classes,
        report: &mut LoadReport,
    ) {
        let folder = self.folder_of(file);
        let ns = self.namespace_of(folder, shape);
        let key = self.intern(ns, &object.id);
        if odd_object(&object) {
            let shown = self.key_text(key);
            report.warnings.push((
                path.to_path_buf(),
                format!(
                    "object {shown}: an access field is unreadable or undefined; \
                     the images it governs are treated as restricted"
                ),
            ));
        }
        let restricted = !matches!(object.accesslevel, Level::Absent | Level::Value(1));
        if let Some(prev) = self.entries.get(&key) {
            let shown = self.key_text(key);
            // A second copy: the object gets the strictest of both. Each copy's object-level
            // fields apply to the images of both.
            let first = self.file_path(prev.file);
            report.warnings.push((
                path.to_path_buf(),
                format!(
                    "object {shown} is also in {}; the strictest access of the copies applies",
                    first.display()
                ),
            ));
            let earlier = self.read(key, Shape::summary).and_then(Result::ok);
            let images: Vec<&ImageRef> = object
                .images
                .iter()
                .chain(earlier.iter().flat_map(|e| e.images.iter()))
                .collect();
            let copies: Vec<&Summary> = std::iter::once(&object).chain(earlier.as_ref()).collect();
            let mut rules = Vec::new();
            for copy in copies {
                for img in &images {
                    rules.push((copy.accesslevel, copy.imagepermissionlevel, *img));
                }
            }
            for (a, p, img) in rules {
                self.register(key, a, p, img, keep_public);
            }
            if let Some(prev) = self.entries.get_mut(&key) {
                prev.restricted |= restricted;
            }
            return;
        }
        for img in &object.images {
            self.register(
                key,
                object.accesslevel,
                object.imagepermissionlevel,
                img,
                keep_public,
            );
        }
        self.note_rights(&object);
        let name = object
            .classification
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .unwrap_or("Unclassified")
            .to_string();
        let class = classes.index(name);
        let number = object.number.as_deref().map_or("", str::trim);
        self.words
            .add(self.worded.len() as u32, &[&object.title, number]);
        self.worded.push(key);
        self.entries.insert(
            key,
            Entry {
                title: object.title.into(),
                file,
                position,
                class,
                shape,
                restricted,
            },
        );
        report.count(shape);
    }

    /// Notes the rights URI of a record's images, when the record gives one.
    fn note_rights(&mut self, object: &Summary) {
        let Some(rights) = object
            .rights
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty())
        else {
            return;
        };
        let index = match self.rights_index.get(rights) {
            Some(&i) => i,
            None => {
                let Ok(i) = u16::try_from(self.rights_names.len()) else {
                    return;
                };
                self.rights_names.push(rights.into());
                self.rights_index.insert(rights.into(), i);
                i
            }
        };
        for ident in object.images.iter().filter_map(|i| i.identifier.as_deref()) {
            self.image_rights.push((alias_hash(ident), index));
        }
    }

    /// The rights URI the record of the image `identifier` gives, if any.
    pub fn rights(&self, identifier: &str) -> Option<&str> {
        let n = alias_hash(identifier);
        let i = self
            .image_rights
            .binary_search_by_key(&n, |(m, _)| *m)
            .ok()?;
        self.rights_names
            .get(usize::from(self.image_rights[i].1))
            .map(|r| &**r)
    }

    /// Records the access rule (and alias) of one image of object `key`, merged with any
    /// rule it already has: the strictest wins.
    fn register(
        &mut self,
        key: ObjectKey,
        object_access: Level,
        permission: Level,
        img: &ImageRef,
        keep_public: bool,
    ) {
        let Some(ident) = img.identifier.as_deref() else {
            return;
        };
        let access = Access::from_record(object_access, permission, img.accesslevel);
        match self.access.get_mut(ident) {
            Some(slot) => *slot = slot.strictest(access),
            None if access != Access::Public || keep_public => {
                self.access.insert(ident.into(), access);
            }
            None => {}
        }
        if let Some(a) = img
            .alias
            .as_deref()
            .filter(|a| !a.is_empty() && *a != ident)
        {
            self.aliases.push((alias_hash(a), key));
        }
        if let Some(n) = img.imageid {
            self.image_ids.push((n, key));
        }
    }

    fn file_path(&self, file: u32) -> PathBuf {
        self.folders[self.folder_of(file) as usize]
            .path
            .join(&self.files[file as usize])
    }

    /// The key of an object as URLs write it: `{namespace}:{id}`, or the id alone in the
    /// [`HOME`] namespace.
    pub fn key_text(&self, key: ObjectKey) -> String {
        let ns = &self.namespaces[(key.0 >> 48) as usize];
        let local = key.0 & LOCAL;
        let id = if local & TEXT_BIT != 0 {
            self.texts[(local & !TEXT_BIT) as usize].to_string()
        } else {
            local.to_string()
        };
        if &**ns == HOME {
            id
        } else {
            format!("{ns}:{id}")
        }
    }

    /// The object a URL's key names (exactly as [`Store::key_text`] writes it).
    pub fn find(&self, text: &str) -> Option<ObjectKey> {
        let (ns, id) = match text.split_once(':') {
            Some((ns, id)) => (ns, id),
            None => (HOME, text),
        };
        if ns == HOME && text.contains(':') {
            return None;
        }
        let ns = self.namespaces.iter().position(|n| &**n == ns)? as u16;
        let local = match canonical_number(id) {
            Some(n) => n,
            None => *self.text_keys.get(&(ns, id.into()))?,
        };
        let key = ObjectKey((u64::from(ns) << 48) | local);
        self.entries.contains_key(&key).then_some(key)
    }

    /// The entry of an object.
    pub fn entry(&self, key: ObjectKey) -> Option<&Entry> {
        self.entries.get(&key)
    }

    /// Reads an object's record again, into the model.
    pub fn object(&self, key: ObjectKey) -> Option<Result<Object, String>> {
        self.read(key, Shape::read)
    }

    /// Reads an object's record again, into its summary (as loading read it).
    pub fn summary_of(&self, key: ObjectKey) -> Option<Result<Summary, String>> {
        self.read(key, Shape::summary)
    }

    /// Reads an object's record again with `how` (the full model, or the summary).
    fn read<T>(
        &self,
        key: ObjectKey,
        how: fn(Shape, &str, IdentifierRule) -> Result<T, String>,
    ) -> Option<Result<T, String>> {
        let entry = self.entries.get(&key)?;
        let folder = &self.folders[self.folder_of(entry.file) as usize];
        let path = folder.path.join(&self.files[entry.file as usize]);
        let path = if folder.path.is_file() {
            folder.path.clone()
        } else {
            path
        };
        let read = || -> Result<T, String> {
            let bytes = std::fs::read(&path).map_err(|e| e.to_string())?;
            let text = std::str::from_utf8(&bytes).map_err(|e| e.to_string())?;
            let found = split(text, Some(entry.shape))?;
            let f = found
                .into_iter()
                .find(|f| f.position == entry.position as usize)
                .ok_or("the record is no longer in its file")?;
            let (shape, raw) = f.record?;
            how(shape, raw, folder.identifiers)
        };
        Some(read())
    }

    /// The number of objects loaded.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no object is loaded.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Every object (public or not), in key order.
    pub fn objects(&self) -> Vec<ObjectKey> {
        let mut keys: Vec<ObjectKey> = self.entries.keys().copied().collect();
        keys.sort_unstable();
        keys
    }

    /// Public objects, in key order.
    pub fn public_objects(&self) -> &[ObjectKey] {
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

    /// The classification that lists a public object (`None` for a restricted one, which no
    /// collection lists). Each classification's objects are sorted, so this costs one binary
    /// search per classification and no memory.
    pub fn classification_of(&self, key: ObjectKey) -> Option<&Classification> {
        self.classifications
            .iter()
            .find(|c| c.objects.binary_search(&key).is_ok())
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

    /// Whether `id` may be an alias (cheap, no I/O): then [`Store::resolve_alias`] finds
    /// the identifier it stands for.
    pub fn may_be_alias(&self, id: &str) -> bool {
        lookup(&self.aliases, alias_hash(id)).is_some()
    }

    /// The image with a museum image id (Harvard's `imageid`), read from the record that
    /// lists it, with the key of that object.
    pub fn image_by_id(&self, imageid: u64) -> Option<(ObjectKey, super::model::Image)> {
        let key = lookup(&self.image_ids, imageid)?;
        let object = self.object(key)?.ok()?;
        let image = object
            .images
            .into_iter()
            .find(|i| i.imageid == Some(imageid))?;
        Some((key, image))
    }

    /// The first image identifier of an object (blocking: reads its record).
    pub fn first_identifier(&self, key: ObjectKey) -> Option<String> {
        let summary = self.read(key, Shape::summary)?.ok()?;
        summary.images.into_iter().find_map(|i| i.identifier)
    }

    /// The identifier an alias (a rendition number) stands for, read from the record that
    /// lists it.
    pub fn resolve_alias(&self, alias: &str) -> Option<String> {
        let key = lookup(&self.aliases, alias_hash(alias))?;
        let object = self.object(key)?.ok()?;
        object
            .images
            .into_iter()
            .find(|i| i.alias.as_deref() == Some(alias))
            .and_then(|i| i.identifier)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) {
        std::fs::write(dir.join(name), text).unwrap();
    }

    /// Keys as URLs write them.
    fn shown(s: &Store, keys: &[ObjectKey]) -> Vec<String> {
        keys.iter().map(|k| s.key_text(*k)).collect()
    }

    #[test]
    fn record_files_come_in_path_order() {
        let d = tempfile::tempdir().unwrap();
        for sub in ["b", "a", "a.b", "a-b"] {
            std::fs::create_dir_all(d.path().join(sub)).unwrap();
        }
        for name in [
            "b/1.json",
            "a/2.json",
            "a.json",
            "a-b/3.json",
            "a.b/4.json",
            "0.JSON",
            "c.txt",
        ] {
            write(d.path(), name, "{}");
        }
        let mut files = Vec::new();
        record_files(d.path(), &mut files).unwrap();
        let mut sorted = files.clone();
        sorted.sort();
        assert_eq!(files, sorted);
        assert_eq!(files.len(), 6, "every .json file and no other: {files:?}");
    }

    fn key(s: &Store, text: &str) -> ObjectKey {
        s.find(text).unwrap_or_else(|| panic!("no object {text}"))
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
        let (s, report) = Store::load_with(d.path(), false);
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
        assert_eq!(shown(&s, s.public_objects()), ["1", "2", "4", "6"]);
        let names: Vec<&str> = s
            .classifications()
            .iter()
            .map(|c| c.slug.as_str())
            .collect();
        assert_eq!(names, ["prints", "vessels-bronze"]);
        assert_eq!(
            shown(&s, &s.classification("prints").unwrap().objects),
            ["1", "2", "6"]
        );
        assert_eq!(s.classification("prints").unwrap().name, "Prints");
        let class_of = |k: &str| s.classification_of(key(&s, k)).map(|c| c.slug.as_str());
        assert_eq!(class_of("6"), Some("prints"));
        assert_eq!(class_of("4"), Some("vessels-bronze"));
        assert_eq!(
            class_of("3"),
            None,
            "a restricted object is in no collection"
        );
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
        assert!(s.entry(key(&s, "3")).unwrap().restricted);
        assert_eq!(s.object(key(&s, "2")).unwrap().unwrap().title(), "Two");
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
        let (s, report) = Store::load_with(d.path(), false);
        assert!(report.skipped.is_empty(), "{:?}", report.skipped);
        assert_eq!(s.rule("A"), Some(Access::Limited(256)));
        assert_eq!(s.rule("B"), Some(Access::Restricted));
        assert_eq!(s.rule("B2"), Some(Access::Restricted));
        assert_eq!(s.rule("C"), Some(Access::Restricted));
        assert_eq!(s.rule("D"), Some(Access::Limited(256)));
        assert!(s.entry(key(&s, "5")).unwrap().restricted);
        assert_eq!(shown(&s, s.public_objects()), ["1", "2", "3"]);
        assert_eq!(
            shown(&s, &s.classification("prints").unwrap().objects),
            ["3"]
        );
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
        assert_eq!(Store::load_with(d2.path(), false).0.rule("P"), None);
    }

    #[test]
    fn missing_folder_is_an_empty_store() {
        let (s, report) = Store::load_with(Path::new("/no/such/records"), false);
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
