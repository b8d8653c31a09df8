//! Counters of what the library did, for operators: cache hits and misses, decode failures
//! and derivative builds and reads. Plain atomics, bumped where the work happens and read by the
//! HTTP layer's `/metrics`; nothing here knows about Prometheus.

use std::sync::atomic::{AtomicU64, Ordering};

/// Hits and misses of one cache.
#[derive(Debug, Default)]
pub struct Counts {
    hits: AtomicU64,
    misses: AtomicU64,
}

impl Counts {
    /// Counts one lookup: a miss when the value had to be made.
    pub fn record(&self, made: bool) {
        let c = if made { &self.misses } else { &self.hits };
        c.fetch_add(1, Ordering::Relaxed);
    }

    /// (hits, misses) so far.
    pub fn get(&self) -> (u64, u64) {
        (
            self.hits.load(Ordering::Relaxed),
            self.misses.load(Ordering::Relaxed),
        )
    }
}

/// The counters of one server (or batch run).
#[derive(Debug, Default)]
pub struct Stats {
    /// Identifier → file resolutions.
    pub resolved: Counts,
    /// Image sizes.
    pub info: Counts,
    /// Decoded images.
    pub decoded: Counts,
    /// Encoded responses.
    pub encoded: Counts,
    /// Sources that could not be decoded.
    pub decode_failures: AtomicU64,
    /// Derivative pyramids built.
    pub derivative_builds: AtomicU64,
    /// Images made from a derivative pyramid (rather than from their source).
    pub derivative_reads: AtomicU64,
}

impl Stats {
    /// Adds one to a counter.
    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// A counter's value.
    pub fn read(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

/// Looks `key` up with moka's `try_get_with`, counting a hit, or a miss when `make` ran.
pub fn counted<K, V, E, F>(
    cache: &moka::sync::Cache<K, V>,
    counts: &Counts,
    key: K,
    make: F,
) -> Result<V, std::sync::Arc<E>>
where
    K: std::hash::Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    E: Send + Sync + 'static,
    F: FnOnce() -> Result<V, E>,
{
    let mut made = false;
    let out = cache.try_get_with(key, || {
        made = true;
        make()
    });
    counts.record(made);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lookup_that_makes_its_value_is_a_miss_and_the_next_a_hit() {
        let cache: moka::sync::Cache<u32, u32> = moka::sync::Cache::new(10);
        let counts = Counts::default();
        let v: Result<u32, std::sync::Arc<()>> = counted(&cache, &counts, 1, || Ok(7));
        assert_eq!(v.unwrap(), 7);
        assert_eq!(counts.get(), (0, 1));
        let v: Result<u32, std::sync::Arc<()>> = counted(&cache, &counts, 1, || Ok(8));
        assert_eq!(v.unwrap(), 7);
        assert_eq!(counts.get(), (1, 1));
    }
}
