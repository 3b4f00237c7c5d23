//! SARIF 2.1.0 as GitHub code scanning ingests it: every rule in `tool.driver`, one result
//! per finding with the whole path as a code flow, and suppressed findings marked dismissed.
//!
//! Own serde structs rather than a SARIF crate: we emit a small, fixed subset and want its
//! field order and omissions under our control (the output is snapshot-tested).

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;

use crate::finding::{Check, Dismissed, Finding, Severity, Suppression};
use crate::rules::Rule;
use crate::source::{Loc, Sources};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// Key of our own fingerprint in `partialFingerprints`.
pub const FINGERPRINT_KEY: &str = "purposelint/v1";
const SRCROOT: &str = "%SRCROOT%";

/// What the driver says about one rule or built-in check.
#[derive(Debug, Clone)]
pub struct Descriptor {
    pub id: String,
    pub severity: Severity,
    pub summary: String,
    pub description: String,
    /// A flow rule (as opposed to a built-in check).
    pub flow: bool,
}

/// Every flow rule, then every built-in check; `severity` gives the configured level
/// from the default one.
pub fn descriptors(
    rules: &[Rule],
    severity: impl Fn(&str, Severity) -> Severity,
) -> Vec<Descriptor> {
    let flows = rules.iter().map(|r| Descriptor {
        id: r.id.clone(),
        severity: severity(&r.id, r.severity),
        summary: r.summary.clone(),
        description: r.description.clone(),
        flow: true,
    });
    let checks = Check::ALL.iter().map(|c| Descriptor {
        id: c.id().to_string(),
        severity: severity(c.id(), c.severity()),
        summary: c.summary().to_string(),
        description: c.description().to_string(),
        flow: false,
    });
    flows.chain(checks).collect()
}

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [Run<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: Tool<'a>,
    column_kind: &'static str,
    results: Vec<SarifResult<'a>>,
}

#[derive(Serialize)]
struct Tool<'a> {
    driver: Driver<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver<'a> {
    name: &'static str,
    version: &'static str,
    semantic_version: &'static str,
    rules: Vec<ReportingDescriptor<'a>>,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

#[derive(Serialize)]
struct Help {
    text: String,
    markdown: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReportingDescriptor<'a> {
    id: &'a str,
    name: String,
    short_description: Text,
    full_description: Text,
    help: Help,
    default_configuration: Configuration,
    properties: RuleProperties,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
struct RuleProperties {
    tags: [&'static str; 2],
    precision: &'static str,
    #[serde(rename = "security-severity")]
    security_severity: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    rule_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    rule_index: Option<usize>,
    level: &'static str,
    message: Text,
    locations: Vec<Location>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related_locations: Vec<Location>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    code_flows: Vec<CodeFlow>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    partial_fingerprints: BTreeMap<&'static str, &'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    suppressions: Vec<SarifSuppression>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<u32>,
    physical_location: PhysicalLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<Text>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    region: Region,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactLocation {
    uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    uri_base_id: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: u32,
    start_column: u32,
    end_line: u32,
    end_column: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CodeFlow {
    thread_flows: [ThreadFlow; 1],
}

#[derive(Serialize)]
struct ThreadFlow {
    locations: Vec<ThreadFlowLocation>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ThreadFlowLocation {
    location: Location,
    kinds: [&'static str; 1],
}

#[derive(Serialize)]
struct SarifSuppression {
    kind: &'static str,
    justification: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    location: Option<Location>,
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// GitHub maps > 7.0 to high and 4.0–6.9 to medium. A flow finding is a purpose
/// violation; a broken manifest hides lineage, so it ranks below one.
fn security_severity(d: &Descriptor) -> &'static str {
    match (d.flow, d.severity) {
        (true, Severity::Error) => "8.0",
        (true, Severity::Warning) => "5.5",
        (true, Severity::Info) => "3.0",
        (false, Severity::Error) => "5.0",
        (false, _) => "2.0",
    }
}

/// `security-to-advertising` → `SecurityToAdvertising`.
fn pascal_case(id: &str) -> String {
    id.split('-')
        .map(|part| {
            let mut c = part.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// The first paragraph of a Markdown description, without a leading heading.
fn first_paragraph(description: &str) -> String {
    description
        .split("\n\n")
        .map(str::trim)
        .find(|p| !p.is_empty() && !p.starts_with('#'))
        .unwrap_or("")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn descriptor(d: &Descriptor) -> ReportingDescriptor<'_> {
    let full = first_paragraph(&d.description);
    ReportingDescriptor {
        id: &d.id,
        name: pascal_case(&d.id),
        short_description: Text {
            text: d.summary.clone(),
        },
        full_description: Text {
            text: if full.is_empty() {
                d.summary.clone()
            } else {
                full
            },
        },
        help: Help {
            text: d.description.trim_end().to_string(),
            markdown: d.description.trim_end().to_string(),
        },
        default_configuration: Configuration {
            level: level(d.severity),
        },
        properties: RuleProperties {
            tags: ["privacy", "security"],
            precision: if d.flow { "high" } else { "very-high" },
            security_severity: security_severity(d),
        },
    }
}

/// Percent-encodes what a relative URI reference cannot hold; `/` separates segments.
fn uri_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.replace('\\', "/").bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn artifact(display: &str) -> ArtifactLocation {
    if display.starts_with('/') {
        // Outside the working directory: an absolute file URI, no base.
        ArtifactLocation {
            uri: format!("file://{}", uri_path(display)),
            uri_base_id: None,
        }
    } else {
        ArtifactLocation {
            uri: uri_path(display),
            uri_base_id: Some(SRCROOT),
        }
    }
}

fn physical(sources: &Sources, loc: Loc) -> PhysicalLocation {
    let file = sources.get(loc.file);
    let (start, end) = (loc.span.start_pos, loc.span.end_pos);
    let start_column = file.utf16_column(start);
    PhysicalLocation {
        artifact_location: artifact(&file.display),
        region: Region {
            start_line: start.line.max(1),
            start_column,
            end_line: end.line.max(start.line).max(1),
            end_column: file.utf16_column(end).max(if end.line > start.line {
                1
            } else {
                start_column
            }),
        },
    }
}

fn location(sources: &Sources, loc: Loc, id: Option<u32>, message: Option<String>) -> Location {
    Location {
        id,
        physical_location: physical(sources, loc),
        message: message.map(|text| Text { text }),
    }
}

/// Escapes what SARIF message strings treat as link syntax.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '[' | ']') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn result<'a>(
    sources: &Sources,
    index: &BTreeMap<&str, usize>,
    f: &'a Finding,
    suppressions: &[Suppression],
) -> SarifResult<'a> {
    let mut out = SarifResult {
        rule_id: &f.rule,
        rule_index: index.get(f.rule.as_str()).copied(),
        level: level(f.severity),
        message: Text {
            text: escape(&f.message),
        },
        locations: vec![location(sources, f.location, None, None)],
        related_locations: Vec::new(),
        code_flows: Vec::new(),
        partial_fingerprints: BTreeMap::new(),
        suppressions: suppressions
            .iter()
            .map(|s| SarifSuppression {
                kind: match s.kind.in_source() {
                    true => "inSource",
                    false => "external",
                },
                justification: s.justification.clone(),
                location: s.location.map(|l| location(sources, l, None, None)),
            })
            .collect(),
    };
    let Some(flow) = &f.flow else {
        return out;
    };
    let (src, sink) = (&flow.source, &flow.sink);
    out.message.text = format!(
        "[{}](1), collected for {}, reaches [{}](2) ({})",
        escape(&src.name),
        escape(&src.keys.join(", ")),
        escape(&sink.name),
        escape(&sink.keys.join(", "))
    );
    let source_text = format!("source: {} ({})", src.name, src.keys.join(", "));
    let sink_text = format!("sink: {} ({})", sink.name, sink.keys.join(", "));
    out.related_locations = vec![
        location(sources, src.location, Some(1), Some(source_text.clone())),
        location(sources, sink.location, Some(2), Some(sink_text.clone())),
    ];
    let mut steps = vec![ThreadFlowLocation {
        location: location(sources, src.location, None, Some(source_text)),
        kinds: ["source"],
    }];
    for h in &flow.path {
        let via = if h.functions.is_empty() {
            String::new()
        } else {
            format!(" via {}", h.functions.join(", "))
        };
        let text = format!(
            "{} flow in step {}{via}: {} → {}",
            h.flow.as_str(),
            h.step,
            h.from,
            h.to
        );
        steps.push(ThreadFlowLocation {
            location: location(sources, h.location, None, Some(text)),
            kinds: ["pass-through"],
        });
    }
    steps.push(ThreadFlowLocation {
        location: location(sources, sink.location, None, Some(sink_text)),
        kinds: ["sink"],
    });
    out.code_flows = vec![CodeFlow {
        thread_flows: [ThreadFlow { locations: steps }],
    }];
    out.partial_fingerprints
        .insert(FINGERPRINT_KEY, flow.fingerprint.as_str());
    out
}

/// Writes one SARIF log: the reported findings, then the suppressed ones as dismissed.
pub fn render(
    out: &mut dyn Write,
    sources: &Sources,
    rules: &[Descriptor],
    findings: &[Finding],
    dismissed: &[Dismissed],
) -> io::Result<()> {
    let index: BTreeMap<&str, usize> = rules
        .iter()
        .enumerate()
        .map(|(i, d)| (d.id.as_str(), i))
        .collect();
    let mut results: Vec<SarifResult> = findings
        .iter()
        .map(|f| result(sources, &index, f, &[]))
        .collect();
    results.extend(
        dismissed
            .iter()
            .map(|d| result(sources, &index, &d.finding, &d.suppressions)),
    );
    let log = Log {
        schema: SCHEMA,
        version: "2.1.0",
        runs: [Run {
            tool: Tool {
                driver: Driver {
                    name: "purposelint",
                    version: env!("CARGO_PKG_VERSION"),
                    semantic_version: env!("CARGO_PKG_VERSION"),
                    rules: rules.iter().map(descriptor).collect(),
                },
            },
            column_kind: "utf16CodeUnits",
            results,
        }],
    };
    super::pretty::to_writer_pretty(&mut *out, &log)?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_uris() {
        assert_eq!(
            pascal_case("security-to-advertising"),
            "SecurityToAdvertising"
        );
        assert_eq!(uri_path("a b/c[1].yaml"), "a%20b/c%5B1%5D.yaml");
        assert_eq!(artifact("/abs/x.yaml").uri, "file:///abs/x.yaml");
        assert_eq!(escape("a[b]"), "a\\[b\\]");
        assert_eq!(
            first_paragraph("# Title\n\nFirst\nline.\n\nSecond."),
            "First line."
        );
    }
}
