//! Fuzz target: see `tessera_fuzz::check_router`.
fn main() {
    afl::fuzz!(|data: &[u8]| tessera_fuzz::check_router(data));
}
