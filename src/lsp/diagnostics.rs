//! Findings → LSP diagnostics, grouped by file.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::str::FromStr;

use lsp_types::{
    CodeDescription, Diagnostic, DiagnosticRelatedInformation, DiagnosticSeverity, Location,
    NumberOrString, Uri,
};

use super::convert::{self, Encoding};
use crate::finding::{Finding, Severity};
use crate::session::View;
use crate::source::{FileId, Loc, Sources};

pub fn severity(s: Severity) -> DiagnosticSeverity {
    match s {
        Severity::Error => DiagnosticSeverity::ERROR,
        Severity::Warning => DiagnosticSeverity::WARNING,
        Severity::Info => DiagnosticSeverity::INFORMATION,
    }
}

/// Maps files of a run to the URIs the client knows them by.
pub trait UriOf {
    fn uri_of(&self, sources: &Sources, file: FileId) -> Uri;
}

fn location(sources: &Sources, uris: &impl UriOf, loc: Loc, enc: Encoding) -> Location {
    let file = sources.get(loc.file);
    Location {
        uri: uris.uri_of(sources, loc.file),
        range: convert::range(file, loc.span, enc),
    }
}

pub fn diagnostic(
    sources: &Sources,
    uris: &impl UriOf,
    f: &Finding,
    enc: Encoding,
    docs_base: &str,
) -> Diagnostic {
    let file = sources.get(f.location.file);
    let mut message = f.message.clone();
    if let Some(help) = &f.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    let related = f.flow.as_ref().map(|flow| {
        let mut out = Vec::with_capacity(flow.path.len() + 2);
        out.push(DiagnosticRelatedInformation {
            location: location(sources, uris, flow.source.location, enc),
            message: format!(
                "source: {}, collected for {}",
                flow.source.name,
                flow.source.keys.join(", ")
            ),
        });
        for (i, hop) in flow.path.iter().enumerate() {
            let through = if hop.functions.is_empty() {
                String::new()
            } else {
                format!(" through {}", hop.functions.join(", "))
            };
            out.push(DiagnosticRelatedInformation {
                location: location(sources, uris, hop.location, enc),
                message: format!(
                    "hop {}: {} -> {} ({} flow{through}) in step {}",
                    i + 1,
                    hop.from,
                    hop.to,
                    hop.flow.as_str(),
                    hop.step
                ),
            });
        }
        out.push(DiagnosticRelatedInformation {
            location: location(sources, uris, flow.sink.location, enc),
            message: format!("sink: {} ({})", flow.sink.name, flow.sink.keys.join(", ")),
        });
        out
    });
    Diagnostic {
        range: convert::range(file, f.location.span, enc),
        severity: Some(severity(f.severity)),
        code: Some(NumberOrString::String(f.rule.clone())),
        // Only where the client says the rule pages are (`docsBaseUrl`): there is no
        // public site to point at by default.
        code_description: (!docs_base.is_empty())
            .then(|| Uri::from_str(&format!("{docs_base}{}", f.rule)).ok())
            .flatten()
            .map(|href| CodeDescription { href }),
        source: Some("purposelint".to_string()),
        message,
        related_information: related,
        tags: None,
        data: f
            .flow
            .as_ref()
            .map(|flow| serde_json::json!({ "fingerprint": flow.fingerprint })),
    }
}

/// Diagnostics of a run keyed by URI string (sorted, so publishing order is deterministic).
pub fn by_file(
    sources: &Sources,
    uris: &impl UriOf,
    findings: &[Finding],
    enc: Encoding,
    docs_base: &str,
) -> BTreeMap<String, (Uri, Vec<Diagnostic>)> {
    let mut out: BTreeMap<String, (Uri, Vec<Diagnostic>)> = BTreeMap::new();
    for f in findings {
        let uri = uris.uri_of(sources, f.location.file);
        let d = diagnostic(sources, uris, f, enc, docs_base);
        out.entry(uri.as_str().to_string())
            .or_insert_with(|| (uri, Vec::new()))
            .1
            .push(d);
    }
    out
}

/// Where each file's findings are in `findings`, which are sorted by file.
pub(crate) fn ranges(findings: &[Finding]) -> HashMap<FileId, Range<usize>> {
    let mut out: HashMap<FileId, Range<usize>> = HashMap::new();
    let mut start = 0;
    for (i, f) in findings.iter().enumerate() {
        if findings.get(i + 1).map(|g| g.location.file) != Some(f.location.file) {
            out.insert(f.location.file, start..i + 1);
            start = i + 1;
        }
    }
    out
}

/// Whether the findings at `new` in `view` give the diagnostics those at `old` in
/// `before` gave: the same findings, pointing into the same texts (the same
/// `Arc<SourceFile>` at each file they name).
pub(crate) fn unchanged(before: &View, old: Range<usize>, view: &View, new: Range<usize>) -> bool {
    let (old, new) = (&before.findings[old], &view.findings[new]);
    let same_text = |file: FileId| {
        let (a, b) = (&before.sources.files, &view.sources.files);
        let i = file as usize;
        i < a.len() && i < b.len() && std::sync::Arc::ptr_eq(&a[i], &b[i])
    };
    old == new
        && new.iter().all(|f| {
            same_text(f.location.file)
                && f.flow.as_ref().is_none_or(|flow| {
                    same_text(flow.source.location.file)
                        && same_text(flow.sink.location.file)
                        && flow.path.iter().all(|hop| same_text(hop.location.file))
                })
        })
}
