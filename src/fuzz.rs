//! The one entry point shared by the fuzz target (fuzz/) and its regression tests:
//! arbitrary bytes → files → parse, read, resolve, rules → every renderer.

use crate::check::{self, Options, Outcome};
use crate::report;

/// Separates files inside one fuzz input, so that references across files get fuzzed.
pub const FILE_SEPARATOR: &[u8] = b"\n%%\n";

/// Splits `data` into at most eight files named `f0.yaml`, `f1.tf`, `f2.yaml`…: every
/// other file goes to the Terraform reader of the activation configs.
pub fn files(data: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut rest = data;
    while out.len() < 7 {
        let Some(at) = rest
            .windows(FILE_SEPARATOR.len())
            .position(|w| w == FILE_SEPARATOR)
        else {
            break;
        };
        out.push(rest[..at].to_vec());
        rest = &rest[at + FILE_SEPARATOR.len()..];
    }
    out.push(rest.to_vec());
    out.into_iter()
        .enumerate()
        .map(|(i, b)| {
            let ext = if i % 2 == 1 { "tf" } else { "yaml" };
            (format!("f{i}.{ext}"), b)
        })
        .collect()
}

/// Lints the files of one input and renders the outcome in every format.
pub fn run(opts: &Options, data: &[u8]) -> Outcome {
    let outcome = check::run_bytes(opts, files(data));
    let (sources, summary, findings) =
        (&outcome.model.sources, &outcome.summary, &outcome.findings);
    let sink = &mut std::io::sink();
    report::json::render(sink, sources, summary, findings, &outcome.dismissed)
        .expect("json renders");
    report::compact::render(sink, sources, findings, false).expect("compact renders");
    report::human::render(sink, sources, summary, findings, false).expect("human renders");
    outcome
}
