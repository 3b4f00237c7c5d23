//! Arbitrary bytes through YAML parsing, manifest reading, resolution, the rules and every
//! renderer. Inputs may hold several files separated by `\n%%\n`.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use purposelint::check::Options;

fuzz_target!(|data: &[u8]| {
    static OPTS: OnceLock<Options> = OnceLock::new();
    let opts = OPTS.get_or_init(|| Options::new(Vec::new()));
    purposelint::fuzz::run(opts, data);
});
