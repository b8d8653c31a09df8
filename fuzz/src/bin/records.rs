//! Fuzz target: see `tessera_fuzz::check_records`.
fn main() {
    afl::fuzz!(|data: &[u8]| tessera_fuzz::check_records(data));
}
