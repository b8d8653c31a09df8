//! A buffered `Read + BufRead + Seek` over an [`Object`], for decoders that want a stream
//! (the TIFF decoder, the `image` crate's header readers): each refill is one ranged read of
//! at least `chunk` bytes, so a decoder's many small reads become few round trips.

use super::{Object, StorageError};
use std::io::{self, BufRead, Read, Seek, SeekFrom};
use std::sync::{Arc, Mutex};

/// The storage error a [`Reader`] met, shared with whoever made the reader: a decoder turns
/// it into an opaque I/O error, so the caller asks here whether the store failed (and then
/// answers 5xx, and caches nothing) rather than reading the decoder's error as a bad file.
#[derive(Debug, Clone, Default)]
pub struct Failure(Arc<Mutex<Option<StorageError>>>);

impl Failure {
    /// The first storage error met, if any.
    pub fn get(&self) -> Option<StorageError> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn record(&self, e: &StorageError) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get_or_insert_with(|| e.clone());
    }
}

/// A stream over one object version.
#[derive(Debug)]
pub struct Reader {
    object: Object,
    chunk: usize,
    /// The position of the next byte the caller reads.
    pos: u64,
    /// Bytes `buf_start..buf_start + buf.len()` of the object.
    buf: Vec<u8>,
    buf_start: u64,
    failure: Failure,
}

impl Reader {
    pub(super) fn new(object: Object, chunk: usize) -> Reader {
        Reader {
            object,
            chunk: chunk.max(1),
            pos: 0,
            buf: Vec::new(),
            buf_start: 0,
            failure: Failure::default(),
        }
    }

    /// Where this reader records a storage error (see [`Failure`]).
    pub fn failure(&self) -> Failure {
        self.failure.clone()
    }

    fn read_stream(&self, range: std::ops::Range<u64>) -> io::Result<Vec<u8>> {
        self.object.read_stream(range).map_err(|e| {
            self.failure.record(&e);
            io::Error::other(e)
        })
    }

    fn buffered(&self) -> &[u8] {
        let end = self.buf_start + self.buf.len() as u64;
        if self.pos >= self.buf_start && self.pos < end {
            &self.buf[(self.pos - self.buf_start) as usize..]
        } else {
            &[]
        }
    }
}

impl BufRead for Reader {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.buffered().is_empty() && self.pos < self.object.len {
            let end = (self.pos + self.chunk as u64).min(self.object.len);
            self.buf = self.read_stream(self.pos..end)?;
            self.buf_start = self.pos;
        }
        Ok(self.buffered())
    }

    fn consume(&mut self, n: usize) {
        self.pos += n as u64;
    }
}

impl Read for Reader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        // A read larger than the buffer goes straight to the storage, in one range.
        if self.buffered().is_empty() && out.len() >= self.chunk {
            let end = (self.pos + out.len() as u64).min(self.object.len);
            if self.pos >= end {
                return Ok(0);
            }
            let bytes = self.read_stream(self.pos..end)?;
            out[..bytes.len()].copy_from_slice(&bytes);
            self.pos = end;
            return Ok(bytes.len());
        }
        let n = {
            let have = self.fill_buf()?;
            let n = have.len().min(out.len());
            out[..n].copy_from_slice(&have[..n]);
            n
        };
        self.consume(n);
        Ok(n)
    }
}

impl Seek for Reader {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::End(d) => self.object.len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos = target
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before start"))?;
        Ok(self.pos)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Memory, Storage};
    use super::*;
    use std::sync::Arc;

    #[test]
    fn reads_seeks_and_batches_into_chunks() {
        let memory = Arc::new(Memory::default());
        let storage = Storage::from(memory.clone());
        let data: Vec<u8> = (0..=255u8).cycle().take(10_000).collect();
        memory.put("x.tif", data.clone());
        let object = storage.resolve("x").unwrap();
        let mut r = Reader::new(object, 4096);
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        assert_eq!(out, data);
        // 10,000 bytes in 4 KiB chunks: 3 round trips, however small the decoder's reads.
        assert_eq!(memory.reads(), 3);
        r.seek(SeekFrom::Start(9_998)).unwrap();
        let mut two = [0u8; 4];
        assert_eq!(r.read(&mut two).unwrap(), 2);
        assert_eq!(&two[..2], &data[9_998..]);
        assert_eq!(r.read(&mut two).unwrap(), 0);
        r.seek(SeekFrom::End(-10_000)).unwrap();
        let mut byte = [0u8; 1];
        r.read_exact(&mut byte).unwrap();
        assert_eq!(byte[0], data[0]);
        assert!(r.seek(SeekFrom::Current(-5)).is_err());
    }
}
