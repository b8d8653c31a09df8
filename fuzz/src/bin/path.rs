//! Fuzz target: see `tessera_fuzz::check_path`.
fn main() {
    afl::fuzz!(|data: &[u8]| tessera_fuzz::check_path(data));
}
