//! JSON output, version 1 (spec §6).

use std::io::{self, Write};

use serde::Serialize;

use crate::check::{counts, Summary};
use crate::finding::{Dismissed, Finding, Hop, Severity};
use crate::model::FlowKind;
use crate::source::{Loc, Sources};

#[derive(Serialize)]
pub struct Report<'a> {
    pub version: u32,
    pub tool: Tool,
    pub summary: JsonSummary,
    pub findings: Vec<JsonFinding<'a>>,
    /// Findings that an `allow`, an inline comment or the baseline suppressed, with why.
    pub suppressed: Vec<JsonSuppressed<'a>>,
}

#[derive(Serialize)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

#[derive(Serialize)]
pub struct JsonSummary {
    pub files: usize,
    pub manifests: usize,
    pub fields: usize,
    pub flows: usize,
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
    pub suppressed: usize,
    /// dbt models by how their column lineage was derived (when there are any).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dbt_lineage: Option<crate::check::LineageSummary>,
}

#[derive(Serialize)]
pub struct Location<'a> {
    pub file: &'a str,
    pub line: u32,
    pub column: u32,
    pub end_line: u32,
    pub end_column: u32,
}

#[derive(Serialize)]
pub struct Source<'a> {
    pub field: &'a str,
    pub purposes: &'a [String],
    pub location: Location<'a>,
}

#[derive(Serialize)]
pub struct Sink<'a> {
    pub name: &'a str,
    pub uses: &'a [String],
    pub location: Location<'a>,
}

#[derive(Serialize)]
pub struct JsonHop<'a> {
    pub from: &'a str,
    pub to: &'a str,
    pub step: &'a str,
    pub flow: FlowKind,
    pub functions: &'a [String],
    pub location: Location<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination_field: Option<&'a str>,
}

#[derive(Serialize)]
pub struct JsonFinding<'a> {
    pub rule: &'a str,
    pub severity: Severity,
    pub message: &'a str,
    pub location: Location<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<Source<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sink: Option<Sink<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<Vec<JsonHop<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<&'a str>,
}

/// A suppressed finding: what was found, and what suppressed it (the first of them, when
/// an `allow` and an inline comment both apply).
#[derive(Serialize)]
pub struct JsonSuppressed<'a> {
    pub rule: &'a str,
    pub message: &'a str,
    pub location: Location<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sink: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<&'a str>,
    /// `allow`, `inline` or `baseline`.
    pub how: &'static str,
    pub reason: &'a str,
    /// The `allow` entry or comment; absent for the baseline.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<Location<'a>>,
}

fn suppressed<'a>(sources: &'a Sources, d: &'a Dismissed) -> Option<JsonSuppressed<'a>> {
    let by = d.suppressions.first()?;
    let f = &d.finding;
    let flow = f.flow.as_ref();
    Some(JsonSuppressed {
        rule: &f.rule,
        message: &f.message,
        location: location(sources, f.location),
        source: flow.map(|p| p.source.name.as_str()),
        sink: flow.map(|p| p.sink.name.as_str()),
        fingerprint: flow.map(|p| p.fingerprint.as_str()),
        how: by.kind.as_str(),
        reason: &by.justification,
        at: by.location.map(|l| location(sources, l)),
    })
}

pub fn location(sources: &Sources, loc: Loc) -> Location<'_> {
    Location {
        file: &sources.get(loc.file).display,
        line: loc.span.start_pos.line,
        column: loc.span.start_pos.column,
        end_line: loc.span.end_pos.line,
        end_column: loc.span.end_pos.column,
    }
}

fn hop<'a>(sources: &'a Sources, h: &'a Hop) -> JsonHop<'a> {
    JsonHop {
        from: &h.from,
        to: &h.to,
        step: &h.step,
        flow: h.flow,
        functions: &h.functions,
        location: location(sources, h.location),
        destination_field: h.destination_field.as_deref(),
    }
}

pub fn report<'a>(
    sources: &'a Sources,
    summary: &Summary,
    findings: &'a [Finding],
    dismissed: &'a [Dismissed],
) -> Report<'a> {
    let (errors, warnings, infos) = counts(findings);
    Report {
        version: 1,
        tool: Tool {
            name: "purposelint",
            version: env!("CARGO_PKG_VERSION"),
        },
        summary: JsonSummary {
            files: summary.files,
            manifests: summary.manifests,
            fields: summary.fields,
            flows: summary.flows,
            errors,
            warnings,
            infos,
            suppressed: dismissed.len(),
            dbt_lineage: summary.lineage.clone(),
        },
        findings: findings
            .iter()
            .map(|f| {
                let flow = f.flow.as_ref();
                JsonFinding {
                    rule: &f.rule,
                    severity: f.severity,
                    message: &f.message,
                    location: location(sources, f.location),
                    source: flow.map(|p| Source {
                        field: &p.source.name,
                        purposes: &p.source.keys,
                        location: location(sources, p.source.location),
                    }),
                    sink: flow.map(|p| Sink {
                        name: &p.sink.name,
                        uses: &p.sink.keys,
                        location: location(sources, p.sink.location),
                    }),
                    path: flow.map(|p| p.path.iter().map(|h| hop(sources, h)).collect()),
                    fingerprint: flow.map(|p| p.fingerprint.as_str()),
                }
            })
            .collect(),
        suppressed: dismissed
            .iter()
            .filter_map(|d| suppressed(sources, d))
            .collect(),
    }
}

pub fn render(
    out: &mut dyn Write,
    sources: &Sources,
    summary: &Summary,
    findings: &[Finding],
    dismissed: &[Dismissed],
) -> io::Result<()> {
    let report = report(sources, summary, findings, dismissed);
    super::pretty::to_writer_pretty(&mut *out, &report)?;
    writeln!(out)
}
