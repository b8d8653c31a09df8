//! Fuzz target: tiff sources through the server's decode and render path.
fn main() {
    afl::fuzz!(|data: &[u8]| tessera_fuzz::check_source(data, "tif"));
}
