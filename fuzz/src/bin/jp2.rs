//! Fuzz target: jp2 sources through the server's decode and render path. Without the
//! panic hook, so that a panic caught by `source::guarded` reaches the harness as an error,
//! which fails it unless it is a known arithmetic overflow in openjp2 (see RELIABILITY.md).
fn main() {
    afl::fuzz_nohook!(|data: &[u8]| tessera_fuzz::check_source(data, "jp2"));
}
