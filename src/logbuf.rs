//! The log's writer: lines are appended to a shared buffer (a memory copy under a lock, no
//! system call and no thread wake-up per line), and a thread of its own writes the buffer to
//! stderr every [`PERIOD`], or sooner when it passes [`LIMIT`] (then the line that passed it
//! writes it, so memory stays bounded and no line is dropped). A line is on stderr within
//! [`PERIOD`]; dropping the [`Guard`] writes what is left.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// How often the buffer is written.
pub const PERIOD: Duration = Duration::from_millis(50);

/// The buffer size at which a writer writes it at once.
pub const LIMIT: usize = 1 << 20;

struct Shared {
    buffer: Mutex<Vec<u8>>,
    /// The sink, and the buffer last written to it (empty, its capacity kept): the two
    /// buffers take turns, so that steady logging allocates nothing.
    sink: Mutex<(Box<dyn Write + Send>, Vec<u8>)>,
    stop: AtomicBool,
}

impl Shared {
    /// Writes out what the buffer holds, in order.
    fn drain(&self) {
        let mut sink = self.sink.lock().unwrap_or_else(|e| e.into_inner());
        let (out, spare) = &mut *sink;
        std::mem::swap(
            &mut *self.buffer.lock().unwrap_or_else(|e| e.into_inner()),
            spare,
        );
        if !spare.is_empty() {
            let _ = out.write_all(spare);
            let _ = out.flush();
        }
        spare.clear();
    }
}

/// A handle that log lines are written to (see the module header).
#[derive(Clone)]
pub struct Batched(Arc<Shared>);

impl Write for Batched {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let full = {
            let mut b = self.0.buffer.lock().unwrap_or_else(|e| e.into_inner());
            b.extend_from_slice(bytes);
            b.len() >= LIMIT
        };
        if full {
            self.0.drain();
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Stops the writing thread and writes what is left, when dropped.
pub struct Guard {
    shared: Arc<Shared>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
            let _ = t.join();
        }
        self.shared.drain();
    }
}

/// The process's writer to stderr, once [`stderr`] made it.
static INSTALLED: OnceLock<Batched> = OnceLock::new();

/// A writer to stderr and the guard of its thread; the first one made is also
/// [`installed`] for the access log.
pub fn stderr() -> (Batched, Guard) {
    let (w, guard) = to(Box::new(std::io::stderr()));
    let _ = INSTALLED.set(w.clone());
    (w, guard)
}

/// The process's writer to stderr, if [`stderr`] made one.
pub fn installed() -> Option<Batched> {
    INSTALLED.get().cloned()
}

/// A writer to `sink` and the guard of its thread.
pub fn to(sink: Box<dyn Write + Send>) -> (Batched, Guard) {
    let shared = Arc::new(Shared {
        buffer: Mutex::new(Vec::with_capacity(64 << 10)),
        sink: Mutex::new((sink, Vec::with_capacity(64 << 10))),
        stop: AtomicBool::new(false),
    });
    let s = shared.clone();
    let thread = std::thread::Builder::new()
        .name("tessera-log".into())
        .spawn(move || {
            while !s.stop.load(Ordering::SeqCst) {
                std::thread::park_timeout(PERIOD);
                s.drain();
            }
        })
        .ok();
    (Batched(shared.clone()), Guard { shared, thread })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sink that keeps what it was given.
    #[derive(Clone, Default)]
    struct Kept(Arc<Mutex<Vec<u8>>>);

    impl Write for Kept {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn lines_reach_the_sink_in_order_within_the_period_and_none_is_lost() {
        let kept = Kept::default();
        let (w, guard) = to(Box::new(kept.clone()));
        let mut w1 = w.clone();
        w1.write_all(b"one\n").unwrap();
        w1.write_all(b"two\n").unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while kept.0.lock().unwrap().len() < 8 && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(kept.0.lock().unwrap().as_slice(), b"one\ntwo\n");
        // Past the limit, the writer writes at once.
        let mut w2 = w.clone();
        drop(guard);
        w2.write_all(&vec![b'x'; LIMIT]).unwrap();
        assert_eq!(kept.0.lock().unwrap().len(), 8 + LIMIT);
        // After the guard, a line waits for nobody: the next drain writes it.
        w2.write_all(b"three\n").unwrap();
        w2.0.drain();
        assert!(kept.0.lock().unwrap().ends_with(b"three\n"));
    }
}
