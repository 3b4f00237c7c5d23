//! The entry points shared by the fuzz targets (fuzz/) and their regression tests:
//! arbitrary bytes → files → parse, read, resolve, rules → every renderer ([`run`], and
//! [`run_dbt`] for a dbt project), and the YAML tape's own invariants ([`tape`]).

use crate::check::{self, Options, Outcome};
use crate::report;
use crate::source::SourceFile;
use crate::yaml::{self, Node};

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
    render(check::run_bytes(opts, files(data)))
}

/// Like [`run`], with the files of the input as a dbt project: `dbt_project.yml`, then
/// property files `models/f1.yml`….
pub fn run_dbt(opts: &Options, data: &[u8]) -> Outcome {
    let files = files(data)
        .into_iter()
        .enumerate()
        .map(|(i, (_, bytes))| match i {
            0 => ("dbt_project.yml".to_string(), bytes),
            _ => (format!("models/f{i}.yml"), bytes),
        })
        .collect();
    render(check::run_bytes(opts, files))
}

/// Parses `data` into the YAML tape and checks every node: its span lies in the text,
/// its line and column are those of its byte offsets, and a plain scalar on one line
/// reads as the end of the text at its span (after any tag or anchor). Panics if not.
pub fn tape(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // The parser breaks lines at a lone `\r` too, source positions only at `\n`: such
    // files get the parser's lines, as they always did (docs/fuzzing.md).
    if text.replace("\r\n", "").contains('\r') {
        return;
    }
    // Likewise a byte-order mark after the start, which the parser skips without a
    // column (a fourth find of the tape target, kept in fuzz/regressions).
    if text.trim_start_matches('\u{feff}').contains('\u{feff}') {
        return;
    }
    let file = SourceFile::new("f.yaml".into(), "f.yaml".into(), text);
    let Ok(docs) = yaml::parse(&file) else {
        return;
    };
    let mut stack: Vec<Node> = docs.documents().collect();
    while let Some(node) = stack.pop() {
        let span = node.span();
        assert!(span.start <= span.end && span.end as usize <= file.text.len());
        // At the end of a file without a final newline the parser may put a position on
        // the next line (a collection's end, an empty value); the bytes are right.
        let len = file.text.len() as u32;
        if span.start != len {
            assert_eq!(span.start_pos, file.pos(span.start));
        }
        if span.end != len {
            assert_eq!(span.end_pos, file.pos(span.end));
        }
        if let Some((text, true)) = node.scalar() {
            // A tag or anchor before the scalar is part of its span.
            let raw = &file.text[span.start as usize..span.end as usize];
            assert!(
                raw.contains('\n') || raw.ends_with(text),
                "{raw:?} read as {text:?}"
            );
        }
        if let Some(items) = node.items() {
            stack.extend(items);
        }
        if let Some(entries) = node.entries() {
            stack.extend(entries.flat_map(|(k, v)| [k, v]));
        }
    }
}

fn render(outcome: Outcome) -> Outcome {
    let (sources, summary, findings) =
        (&outcome.model.sources, &outcome.summary, &outcome.findings);
    let sink = &mut std::io::sink();
    report::json::render(sink, sources, summary, findings, &outcome.dismissed)
        .expect("json renders");
    report::compact::render(sink, sources, findings, false).expect("compact renders");
    report::human::render(sink, sources, summary, findings, false).expect("human renders");
    outcome
}
