//! Arbitrary bytes as a dbt project: the first file is `dbt_project.yml`, the others
//! property files under `models/`. Files are separated by `\n%%\n`.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use purposelint::check::Options;

fuzz_target!(|data: &[u8]| {
    static OPTS: OnceLock<Options> = OnceLock::new();
    let opts = OPTS.get_or_init(|| Options::new(Vec::new()));
    purposelint::fuzz::run_dbt(opts, data);
});
