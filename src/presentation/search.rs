//! The collection browser's search index: the title and object number of every public object,
//! split into lower-case words once, when the records are loaded. A query costs the postings
//! of the words it names (and a bit set of the public objects), never a scan of the records.
//!
//! A query matches the objects in which every one of its words begins some word of the title
//! or the object number: `lake boa` finds "Lakeside Boats at Dusk", and `1943.12` finds object
//! number 1943.125 (its words `1943` and `125`). Words are runs of letters and digits
//! (`char::is_alphanumeric`), lower-cased; accents are kept, so `etude` does not find "Étude",
//! and a run of Chinese characters is one word, found by its beginning.
//!
//! Memory: the distinct words once, sorted in one string with a `u32` offset each, and for
//! each (word, object) pair the object's position in the public list as a delta from the
//! word's previous one, in LEB128 (one byte for most pairs of a common word, up to three for a
//! rare one). `cargo bench --bench records` reports what it adds per record (BENCHMARKS.md).

use rayon::slice::ParallelSliceMut;
use std::collections::HashMap;
use xxhash_rust::xxh3::Xxh3DefaultBuilder;

/// The most words of a query that count; the rest are ignored.
const MAX_QUERY_WORDS: usize = 16;

/// The words of a text: runs of letters and digits, lower-cased.
pub fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    runs(text).map(str::to_lowercase)
}

/// The runs of letters and digits of a text, as they are.
fn runs(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
}

/// The index: see the module header.
#[derive(Debug, Default)]
pub struct SearchIndex {
    /// The distinct words, sorted, one after the other.
    words: String,
    /// Where each word starts in `words`, and then the end.
    word_starts: Vec<u32>,
    /// Where each word's postings start in `postings`, and then the end.
    posting_starts: Vec<u32>,
    /// Each word's objects (positions in the public list), ascending, as LEB128 deltas.
    postings: Vec<u8>,
    /// The number of objects indexed: positions are below it.
    len: u32,
}

/// Collects the words of each object while the records load; [`Builder::finish`] makes the
/// index.
#[derive(Debug, Default)]
pub struct Builder {
    /// Each distinct word's id (allocated once, when first seen).
    ids: HashMap<Box<str>, u32, Xxh3DefaultBuilder>,
    /// (word id, position) pairs.
    pairs: Vec<(u32, u32)>,
    len: u32,
    /// A word lower-cased, reused.
    lower: String,
}

impl Builder {
    /// Indexes the object at `position` (in the public list, counted from 0) under the words
    /// of `texts`.
    pub fn add(&mut self, position: u32, texts: &[&str]) {
        let Builder {
            ids,
            pairs,
            len,
            lower,
        } = self;
        *len = (*len).max(position + 1);
        for text in texts {
            for word in runs(text) {
                // As `words`, without a String per word: most words are lower-case ASCII.
                let word = if !word.is_ascii() {
                    *lower = word.to_lowercase();
                    lower.as_str()
                } else if word.bytes().any(|b| b.is_ascii_uppercase()) {
                    lower.clear();
                    lower.push_str(word);
                    lower.make_ascii_lowercase();
                    lower.as_str()
                } else {
                    word
                };
                let id = match ids.get(word) {
                    Some(&id) => id,
                    None => {
                        let id = ids.len() as u32;
                        ids.insert(word.into(), id);
                        id
                    }
                };
                pairs.push((id, position));
            }
        }
    }

    /// The index of everything added.
    pub fn finish(self) -> SearchIndex {
        let len = self.len;
        self.finish_mapped(len, Some)
    }

    /// The index of the objects `position` keeps, each at the position it gives (below
    /// `len`); the others' postings go, and so do words that only they had.
    pub fn finish_mapped(self, len: u32, position: impl Fn(u32) -> Option<u32>) -> SearchIndex {
        let mut pairs = self.pairs;
        pairs.retain_mut(|p| match position(p.1) {
            Some(at) => {
                p.1 = at;
                true
            }
            None => false,
        });
        let mut used = vec![false; self.ids.len()];
        for p in &pairs {
            used[p.0 as usize] = true;
        }
        let mut vocabulary: Vec<(Box<str>, u32)> = self
            .ids
            .into_iter()
            .filter(|(_, id)| used[*id as usize])
            .collect();
        vocabulary.par_sort_unstable();
        let mut rank = vec![0u32; used.len()];
        let mut words = String::new();
        let mut word_starts = Vec::with_capacity(vocabulary.len() + 1);
        for (i, (word, id)) in vocabulary.iter().enumerate() {
            rank[*id as usize] = i as u32;
            word_starts.push(words.len() as u32);
            words.push_str(word);
        }
        word_starts.push(words.len() as u32);
        drop(vocabulary);
        for p in &mut pairs {
            p.0 = rank[p.0 as usize];
        }
        pairs.par_sort_unstable();
        pairs.dedup();
        let mut postings = Vec::new();
        let mut posting_starts = Vec::with_capacity(word_starts.len());
        let mut at = 0;
        for word in 0..word_starts.len() as u32 - 1 {
            posting_starts.push(postings.len() as u32);
            let mut previous = 0;
            while at < pairs.len() && pairs[at].0 == word {
                let position = pairs[at].1;
                leb128(&mut postings, position - previous);
                previous = position;
                at += 1;
            }
        }
        posting_starts.push(postings.len() as u32);
        words.shrink_to_fit();
        postings.shrink_to_fit();
        SearchIndex {
            words,
            word_starts,
            posting_starts,
            postings,
            len,
        }
    }
}

fn leb128(out: &mut Vec<u8>, mut n: u32) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// The objects a query matched: positions in the public list, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matches {
    bits: Vec<u64>,
}

impl Matches {
    /// How many objects matched.
    pub fn count(&self) -> usize {
        self.bits.iter().map(|b| b.count_ones() as usize).sum()
    }

    /// Up to `take` matched positions, after skipping the first `skip`.
    pub fn page(&self, skip: usize, take: usize) -> Vec<u32> {
        let mut out = Vec::with_capacity(take.min(1024));
        let mut skipped = 0;
        for (i, &block) in self.bits.iter().enumerate() {
            let ones = block.count_ones() as usize;
            if skipped + ones <= skip {
                skipped += ones;
                continue;
            }
            let mut b = block;
            while b != 0 && out.len() < take {
                let bit = b.trailing_zeros();
                b &= b - 1;
                if skipped < skip {
                    skipped += 1;
                } else {
                    out.push(i as u32 * 64 + bit);
                }
            }
            if out.len() == take {
                break;
            }
        }
        out
    }
}

impl SearchIndex {
    /// The number of distinct words.
    pub fn word_count(&self) -> usize {
        self.word_starts.len().saturating_sub(1)
    }

    /// The heap the index holds, in bytes.
    pub fn heap_bytes(&self) -> usize {
        self.words.capacity()
            + 4 * (self.word_starts.capacity() + self.posting_starts.capacity())
            + self.postings.capacity()
    }

    fn word(&self, i: usize) -> &str {
        &self.words[self.word_starts[i] as usize..self.word_starts[i + 1] as usize]
    }

    /// The objects matching `query` (see the module header); `None` when it has no words.
    pub fn search(&self, query: &str) -> Option<Matches> {
        let mut asked: Vec<String> = words(query).take(MAX_QUERY_WORDS).collect();
        asked.sort_unstable();
        asked.dedup();
        if asked.is_empty() {
            return None;
        }
        let blocks = (self.len as usize).div_ceil(64);
        let mut all: Option<Vec<u64>> = None;
        for prefix in &asked {
            let mut bits = vec![0u64; blocks];
            let n = self.word_count();
            let first = partition(n, |i| self.word(i) < prefix.as_str());
            for w in (first..n).take_while(|&i| self.word(i).starts_with(prefix.as_str())) {
                self.each_posting(w, |p| bits[p as usize / 64] |= 1 << (p % 64));
            }
            all = Some(match all {
                None => bits,
                Some(mut a) => {
                    a.iter_mut().zip(&bits).for_each(|(a, b)| *a &= b);
                    a
                }
            });
        }
        all.map(|bits| Matches { bits })
    }

    fn each_posting(&self, word: usize, mut f: impl FnMut(u32)) {
        let bytes = &self.postings
            [self.posting_starts[word] as usize..self.posting_starts[word + 1] as usize];
        let (mut position, mut delta, mut shift) = (0u32, 0u32, 0);
        for &b in bytes {
            delta |= u32::from(b & 0x7f) << shift;
            if b & 0x80 != 0 {
                shift += 7;
                continue;
            }
            position += delta;
            f(position);
            (delta, shift) = (0, 0);
        }
    }
}

/// The first index in `0..n` where `before` is false (it must be true, then false).
fn partition(n: usize, before: impl Fn(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (0, n);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if before(mid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(objects: &[(&str, &str)]) -> SearchIndex {
        let mut b = Builder::default();
        for (i, (title, number)) in objects.iter().enumerate() {
            b.add(i as u32, &[title, number]);
        }
        b.finish()
    }

    fn found(ix: &SearchIndex, q: &str) -> Vec<u32> {
        ix.search(q)
            .map(|m| m.page(0, usize::MAX))
            .unwrap_or_default()
    }

    #[test]
    fn every_query_word_begins_a_word_of_the_title_or_number() {
        let ix = index(&[
            ("Lakeside Boats at Dusk", "1943.125"),
            ("Boats", "2002.10"),
            ("Étude: <script>alert(1)</script>", "PPP-45"),
            ("飛上枝頭", "2012.5"),
        ]);
        assert_eq!(found(&ix, "boats"), [0, 1]);
        assert_eq!(found(&ix, "lake BOA"), [0]);
        assert_eq!(found(&ix, "dusk boats lakeside"), [0]);
        assert_eq!(found(&ix, "1943.125"), [0]);
        assert_eq!(found(&ix, "1943.12"), [0]);
        assert_eq!(found(&ix, "2002.10"), [1]);
        assert_eq!(found(&ix, "ppp-45"), [2]);
        assert_eq!(found(&ix, "étude"), [2]);
        assert_eq!(found(&ix, "script"), [2]);
        assert_eq!(found(&ix, "飛上"), [3]);
        assert!(found(&ix, "boats zebra").is_empty());
        assert!(
            found(&ix, "akeside").is_empty(),
            "a word is found by its beginning"
        );
        assert_eq!(ix.search("  -- "), None, "no words, no search");
        assert_eq!(ix.search("boats").unwrap().count(), 2);
    }

    #[test]
    fn objects_left_out_lose_their_postings_and_their_own_words() {
        let mut b = Builder::default();
        b.add(0, &["Secret harbour", "1"]);
        b.add(1, &["Open harbour", "2"]);
        b.add(2, &["Open field", "3"]);
        // Object 0 is left out; 1 and 2 swap places.
        let ix = b.finish_mapped(2, |o| [None, Some(1), Some(0)][o as usize]);
        assert_eq!(found(&ix, "harbour"), [1]);
        assert_eq!(found(&ix, "open"), [0, 1]);
        assert!(found(&ix, "secret").is_empty());
        assert_eq!(
            ix.word_count(),
            5,
            "open, harbour, field, 2, 3: no secret, no 1"
        );
        assert!(!ix.words.contains("secret"));
    }

    #[test]
    fn pages_of_many_matches_across_blocks_and_long_deltas() {
        let mut b = Builder::default();
        for i in 0..100_000u32 {
            let title = if i % 3 == 0 { "common thing" } else { "other" };
            b.add(i, &[title, &format!("n{i}")]);
        }
        let ix = b.finish();
        let m = ix.search("common").unwrap();
        assert_eq!(m.count(), 33_334);
        assert_eq!(m.page(0, 3), [0, 3, 6]);
        assert_eq!(m.page(33_332, 10), [99_996, 99_999]);
        assert_eq!(m.page(40_000, 10), Vec::<u32>::new());
        assert_eq!(found(&ix, "n99999"), [99_999]);
        assert_eq!(
            found(&ix, "n9999 common"),
            [9999, 99_990, 99_993, 99_996, 99_999]
        );
        assert_eq!(
            ix.word_count(),
            100_003,
            "common, thing, other and each number"
        );
    }
}
