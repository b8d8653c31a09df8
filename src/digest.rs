//! Stable hashes for names that outlive the process: ETags (kept by browsers and CDNs) and
//! derivative file names (kept on disk). XXH3 is fixed by its specification, unlike std's
//! default `Hasher` (SipHash), so a toolchain upgrade changes neither. Each use carries a scheme prefix,
//! so that a future change of scheme is visible in the name itself.

use xxhash_rust::xxh3::xxh3_128;

/// The scheme of ETags: `"t1-…"`.
pub const ETAG_SCHEME: &str = "t1";

/// The scheme of derivative file names: `d1-…`.
pub const DERIVATIVE_SCHEME: &str = "d1";

/// The 128-bit XXH3 of `parts`, each length-prefixed so that `("ab","c")` and `("a","bc")`
/// differ, as 32 lower-case hex digits.
pub fn hex(parts: &[&[u8]]) -> String {
    let mut buf = Vec::with_capacity(parts.iter().map(|p| p.len() + 8).sum());
    for p in parts {
        buf.extend_from_slice(&(p.len() as u64).to_le_bytes());
        buf.extend_from_slice(p);
    }
    format!("{:032x}", xxh3_128(&buf))
}

/// A quoted strong ETag from a version string and the thing it tags: a stable hash of both,
/// so it says nothing of the source (its size or modification time) in clear.
pub fn etag(version: &str, what: &str) -> String {
    format!(
        "\"{ETAG_SCHEME}-{}\"",
        hex(&[version.as_bytes(), what.as_bytes()])
    )
}

/// The 64-bit XXH3 of a string (for in-memory indexes).
pub fn short(s: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(s.as_bytes())
}

/// A random seed for in-memory hash keys, from the operating system (a fixed one if it has
/// none to give).
pub fn random_seed() -> u64 {
    use std::io::Read;
    let mut b = [0u8; 8];
    let read = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut b));
    if read.is_err() {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        b = (t.as_nanos() as u64 ^ u64::from(std::process::id())).to_le_bytes();
    }
    u64::from_le_bytes(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values_never_change() {
        // The specification's values for empty input.
        assert_eq!(short(""), 0x2D06_8005_38D3_94C2);
        assert_eq!(hex(&[]), "99aa06d3014798d86001c324468d497f");
        // Pinned: a change here invalidates every ETag in every CDN and every derivative.
        assert_eq!(
            hex(&[b"10-20", b"full/max/0/default.jpg"]),
            "3d7ef5969978e2981c6cf5701e948f7a"
        );
        assert_ne!(hex(&[b"ab", b"c"]), hex(&[b"a", b"bc"]));
    }
}
