//! The colours file that `tessera thumbnails --colors FILE` writes and the server will read:
//! JSON lines, one object per image,
//!
//! ```text
//! {"identifier":"a/lake","width":6000,"height":4000,"colors":[{"color":"#0000ff","percent":0.7,...},...]}
//! ```
//!
//! `width` and `height` are the source image's upright size (left out when unknown) and
//! `colors` is [`super::extract`]'s list in Harvard's shape. Lines are in the order images
//! finished, not sorted, and a later run appends to the file, so an identifier may appear more
//! than once: its last line is the one that counts.
//!
//! [`Writer`] adds whole lines, each flushed as it is written; [`read_colors`] and
//! [`read_colors_file`] read them back, skipping and reporting (by line number and reason)
//! any line that is not a well-formed colours object, never failing on one.

use super::{parse_hex, Colour};
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// One line of the file.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Line {
    /// The image's identifier, as the server is asked for it.
    pub identifier: String,
    /// The source image's upright width.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    /// The source image's upright height.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// Its colours, largest share first.
    pub colors: Vec<Colour>,
}

/// Colours by image identifier.
pub type ByIdentifier = HashMap<String, Vec<Colour>>;

/// Lines longer than this are skipped unread (a line of 19 colours is under 2 KB).
pub const MAX_LINE: usize = 1 << 20;

/// A line that was skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine {
    /// Its number, from 1.
    pub line: usize,
    /// Why it was skipped.
    pub reason: String,
}

impl std::fmt::Display for BadLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

/// The colours file could not be opened, read or written.
#[derive(Debug, thiserror::Error)]
#[error("colours file {}", path.display())]
pub struct LinesError {
    /// The file.
    pub path: PathBuf,
    /// What went wrong.
    #[source]
    pub source: std::io::Error,
}

impl LinesError {
    fn at(path: &Path) -> impl Fn(std::io::Error) -> LinesError + '_ {
        move |source| LinesError {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Adds lines to a colours file from any number of threads.
#[derive(Debug)]
pub struct Writer {
    path: PathBuf,
    out: Mutex<BufWriter<File>>,
}

impl Writer {
    /// A new, empty file at `path` (an existing one is replaced).
    pub fn create(path: &Path) -> Result<Writer, LinesError> {
        let file = File::create(path).map_err(LinesError::at(path))?;
        Ok(Writer::over(path, file))
    }

    /// `path` opened to add lines after the ones it has (made when missing). A last line cut
    /// short by an interrupted run is ended first, so that it stays one bad line instead of
    /// spoiling the next.
    pub fn append(path: &Path) -> Result<Writer, LinesError> {
        let err = LinesError::at(path);
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .map_err(&err)?;
        let ends_cut = (|| {
            let len = file.seek(SeekFrom::End(0))?;
            if len == 0 {
                return Ok(false);
            }
            file.seek(SeekFrom::End(-1))?;
            let mut last = [0u8];
            file.read_exact(&mut last)?;
            Ok(last[0] != b'\n')
        })();
        match ends_cut {
            Ok(true) => file.write_all(b"\n").map_err(err)?,
            Ok(false) => {}
            Err(e) => return Err(err(e)),
        }
        Ok(Writer::over(path, file))
    }

    fn over(path: &Path, file: File) -> Writer {
        Writer {
            path: path.to_path_buf(),
            out: Mutex::new(BufWriter::new(file)),
        }
    }

    /// Writes one line and flushes it, so that an image's line is in the file as soon as its
    /// image is done.
    pub fn write(&self, line: &Line) -> Result<(), LinesError> {
        let mut text = serde_json::to_vec(line).map_err(|e| LinesError {
            path: self.path.clone(),
            source: e.into(),
        })?;
        text.push(b'\n');
        // A panic elsewhere while the lock was held cannot have left half a line: each line
        // is written whole, so a poisoned lock is still usable.
        let mut out = self.out.lock().unwrap_or_else(|p| p.into_inner());
        out.write_all(&text)
            .and_then(|()| out.flush())
            .map_err(LinesError::at(&self.path))
    }
}

/// Reads colours lines from `input`: each bad line is given to `bad` and skipped; blank lines
/// are skipped silently; a later line for an identifier replaces an earlier one. Only a
/// failure to read `input` is an error.
pub fn read_colors(
    mut input: impl BufRead,
    mut bad: impl FnMut(BadLine),
) -> std::io::Result<ByIdentifier> {
    let mut by_identifier = ByIdentifier::new();
    let mut buf = Vec::new();
    let mut number = 0;
    loop {
        buf.clear();
        let n = (&mut input)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut buf)?;
        if n == 0 {
            return Ok(by_identifier);
        }
        number += 1;
        if buf.len() > MAX_LINE && buf.last() != Some(&b'\n') {
            skip_line(&mut input)?;
            bad(BadLine {
                line: number,
                reason: format!("longer than {MAX_LINE} bytes"),
            });
            continue;
        }
        match parse_line(&buf) {
            Ok(Some(line)) => {
                by_identifier.insert(line.identifier, line.colors);
            }
            Ok(None) => {}
            Err(reason) => bad(BadLine {
                line: number,
                reason,
            }),
        }
    }
}

/// Reads a colours file (see [`read_colors`]); each bad line is logged as a warning naming
/// the file, the line number and the reason.
pub fn read_colors_file(path: &Path) -> Result<ByIdentifier, LinesError> {
    let file = File::open(path).map_err(LinesError::at(path))?;
    read_colors(BufReader::new(file), |b| {
        tracing::warn!(file = %path.display(), "colours {b}; skipped");
    })
    .map_err(LinesError::at(path))
}

/// Consumes `input` up to and including the next newline.
fn skip_line(input: &mut impl BufRead) -> std::io::Result<()> {
    loop {
        let buf = input.fill_buf()?;
        if buf.is_empty() {
            return Ok(());
        }
        match buf.iter().position(|&b| b == b'\n') {
            Some(i) => {
                input.consume(i + 1);
                return Ok(());
            }
            None => {
                let n = buf.len();
                input.consume(n);
            }
        }
    }
}

/// One line: `None` when blank, else the line or why it is not one.
fn parse_line(raw: &[u8]) -> Result<Option<Line>, String> {
    let text = std::str::from_utf8(raw).map_err(|_| "not UTF-8".to_string())?;
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let line: Line =
        serde_json::from_str(text).map_err(|e| format!("not a colours object: {e}"))?;
    if line.identifier.is_empty() {
        return Err("the identifier is empty".into());
    }
    for (i, c) in line.colors.iter().enumerate() {
        let hex = [
            ("color", &c.color),
            ("css3", &c.css3),
            ("spectrum", &c.spectrum),
        ];
        if let Some((field, value)) = hex.iter().find(|(_, v)| parse_hex(v).is_none()) {
            return Err(format!(
                "colour {}: {field} {value:?} is not #rrggbb",
                i + 1
            ));
        }
        if !(0.0..=1.0).contains(&c.percent) {
            return Err(format!(
                "colour {}: percent {} is not between 0 and 1",
                i + 1,
                c.percent
            ));
        }
    }
    Ok(Some(line))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::colors::{extract, Hue, Palette};

    fn colours(rgb: &[u8]) -> Vec<Colour> {
        extract(rgb, 3, &Palette::default())
    }

    fn line(id: &str, rgb: &[u8]) -> Line {
        Line {
            identifier: id.into(),
            width: Some(40),
            height: Some(30),
            colors: colours(rgb),
        }
    }

    fn read(text: &[u8]) -> (ByIdentifier, Vec<BadLine>) {
        let mut bad = Vec::new();
        let map = read_colors(text, |b| bad.push(b)).unwrap();
        (map, bad)
    }

    #[test]
    fn written_lines_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("colors.jsonl");
        let w = Writer::create(&path).unwrap();
        let (blue, red) = (line("a/blue", &[0, 0, 255]), line("red", &[255, 0, 0]));
        w.write(&blue).unwrap();
        w.write(&Line {
            width: None,
            height: None,
            ..red.clone()
        })
        .unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        let keys: Vec<&str> = first.as_object().unwrap().keys().map(|k| &**k).collect();
        assert_eq!(keys, ["identifier", "width", "height", "colors"]);
        assert_eq!(first["colors"][0]["hue"], "Blue");
        assert!(
            !text.lines().nth(1).unwrap().contains("width"),
            "an unknown size is left out"
        );
        let map = read_colors_file(&path).unwrap();
        assert_eq!(map.len(), 2);
        assert_eq!(map["a/blue"], blue.colors);
        assert_eq!(map["red"][0].hue, Hue::Red);
    }

    #[test]
    fn a_bad_line_in_the_middle_is_reported_and_the_others_kept() {
        let good = |id: &str, rgb: &[u8]| {
            let mut s = serde_json::to_vec(&line(id, rgb)).unwrap();
            s.push(b'\n');
            s
        };
        let mut text = good("one", &[0, 0, 255]);
        text.extend_from_slice(b"{\"identifier\": \"two\", \"colors\": [\n");
        text.extend_from_slice(b"\n   \r\n"); // blank lines are not bad ones
        text.extend_from_slice(b"{\"colors\": []}\n");
        text.extend_from_slice(b"\xff\xfe\n");
        text.extend_from_slice(
            br##"{"identifier":"x","colors":[{"color":"#0000ff","percent":1.5,"css3":"#0000ff","spectrum":"#0000ff","hue":"Blue"}]}"##,
        );
        text.push(b'\n');
        text.extend_from_slice(
            br##"{"identifier":"y","colors":[{"color":"blue","percent":1,"css3":"#0000ff","spectrum":"#0000ff","hue":"Blue"}]}"##,
        );
        text.push(b'\n');
        text.extend_from_slice(
            br##"{"identifier":"z","colors":[{"color":"#0000ff","percent":1,"css3":"#0000ff","spectrum":"#0000ff","hue":"Teal"}]}"##,
        );
        text.push(b'\n');
        text.extend_from_slice(b"{\"identifier\": \"\", \"colors\": []}\n");
        text.extend_from_slice(&good("three", &[255, 0, 0]));
        text.extend_from_slice(&good("one", &[0, 255, 0])); // a later line replaces
        text.extend_from_slice(b"{\"identifier\": \"cut"); // no newline at the end
        let (map, bad) = read(&text);
        let mut ids: Vec<&str> = map.keys().map(|k| &**k).collect();
        ids.sort();
        assert_eq!(ids, ["one", "three"]);
        assert_eq!(map["one"][0].hue, Hue::Green, "the later line counts");
        let numbers: Vec<usize> = bad.iter().map(|b| b.line).collect();
        assert_eq!(numbers, [2, 5, 6, 7, 8, 9, 10, 13], "{bad:#?}");
        assert!(bad[0].reason.starts_with("not a colours object"), "{bad:?}");
        assert!(bad[1].reason.contains("identifier"), "{bad:?}");
        assert_eq!(bad[2].reason, "not UTF-8");
        assert!(bad[3].reason.contains("percent 1.5"), "{bad:?}");
        assert!(bad[4].reason.contains("color \"blue\""), "{bad:?}");
        assert!(bad[5].reason.contains("Teal"), "{bad:?}");
        assert_eq!(bad[6].reason, "the identifier is empty");
        assert_eq!(bad[0].to_string(), format!("line 2: {}", bad[0].reason));
    }

    #[test]
    fn an_empty_file_has_no_colours() {
        assert_eq!(read(b""), (ByIdentifier::new(), Vec::new()));
        assert_eq!(read(b"\n\n").0.len(), 0);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("empty.jsonl");
        std::fs::write(&path, "").unwrap();
        assert!(read_colors_file(&path).unwrap().is_empty());
        let missing = read_colors_file(&dir.path().join("nope.jsonl")).unwrap_err();
        assert!(missing.to_string().contains("nope.jsonl"), "{missing}");
    }

    #[test]
    fn an_overlong_line_is_skipped_without_being_held() {
        let mut text = vec![b'x'; MAX_LINE + 10];
        text.push(b'\n');
        text.extend_from_slice(&serde_json::to_vec(&line("after", &[0, 0, 255])).unwrap());
        let (map, bad) = read(&text);
        assert_eq!(bad.len(), 1);
        assert_eq!(bad[0].line, 1);
        assert!(bad[0].reason.starts_with("longer than"));
        assert!(map.contains_key("after"));
    }

    #[test]
    fn appending_ends_a_line_cut_short_first() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("colors.jsonl");
        let fresh = Writer::append(&path).unwrap();
        fresh.write(&line("one", &[0, 0, 255])).unwrap();
        drop(fresh);
        // An interrupted run left half a line.
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"{\"identifier\": \"two\", \"col").unwrap();
        drop(f);
        Writer::append(&path)
            .unwrap()
            .write(&line("three", &[255, 0, 0]))
            .unwrap();
        let (map, bad) = read(&std::fs::read(&path).unwrap());
        assert_eq!(map.len(), 2, "{map:?}");
        assert!(map.contains_key("one") && map.contains_key("three"));
        assert_eq!(bad.len(), 1);
        assert_eq!(bad[0].line, 2);
        // A file that ends its last line is appended to as it is; create starts afresh.
        Writer::append(&path).unwrap();
        assert_eq!(read(&std::fs::read(&path).unwrap()).1.len(), 1);
        Writer::create(&path).unwrap();
        assert!(std::fs::read(&path).unwrap().is_empty());
    }
}
