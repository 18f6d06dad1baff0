//! Fuzzes the `$batch` body parser: any bytes must come back as batch items or a Graph error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = sandbox::graph::batch::parse_batch(data);
});
