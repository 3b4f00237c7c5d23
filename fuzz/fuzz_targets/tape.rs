//! Arbitrary bytes through the YAML tape that every format reads: spans, positions and
//! scalar texts must agree with the source (`purposelint::fuzz::tape`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| purposelint::fuzz::tape(data));
