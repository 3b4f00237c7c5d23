//! The terminal view: miette draws the primary snippet; the path follows hop by hop.

use std::fmt;
use std::io::{self, Write};

use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError,
    MietteSpanContents, SourceCode, SourceSpan, SpanContents,
};

use super::{one_line, position, Paint};
use crate::check::{counts, Summary};
use crate::finding::{Dismissed, Finding, Severity, Suppression, SuppressionKind};
use crate::source::Sources;

struct Report<'a> {
    finding: &'a Finding,
    source: CharColumns,
    /// Flow findings print their own trailer instead of miette's help.
    help: Option<&'a str>,
}

/// A file as miette reads it, with columns counted in characters as every other output
/// counts them (v1 §6): miette counts bytes.
struct CharColumns {
    name: String,
    text: std::sync::Arc<str>,
}

impl SourceCode for CharColumns {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let inner = self.text.read_span(span, before, after)?;
        let start = inner.span().offset().min(self.text.len());
        let line_start = self.text[..start].rfind('\n').map_or(0, |i| i + 1);
        let column = self
            .text
            .get(line_start..start)
            .map_or(inner.column(), |s| s.chars().count());
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            inner.data(),
            *inner.span(),
            inner.line(),
            column,
            inner.line_count(),
        )))
    }
}

impl fmt::Debug for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.finding.message)
    }
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.finding.message)
    }
}

impl std::error::Error for Report<'_> {}

impl Diagnostic for Report<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(&self.finding.rule))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.finding.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
            Severity::Info => miette::Severity::Advice,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.help.map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let span = self.finding.focus.unwrap_or(self.finding.location).span;
        let len = span.end.saturating_sub(span.start) as usize;
        let label = LabeledSpan::new_with_span(
            self.finding.label.clone(),
            SourceSpan::new((span.start as usize).into(), len),
        );
        Some(Box::new(std::iter::once(label)))
    }
}

pub fn render(
    out: &mut dyn Write,
    sources: &Sources,
    summary: &Summary,
    findings: &[Finding],
    color: bool,
) -> io::Result<()> {
    render_findings(out, sources, findings, color)?;
    render_summary(out, summary, findings, &[], color)
}

/// Suppressed findings, one line each with what suppressed them (`--show-suppressed`).
pub fn render_dismissed(
    out: &mut dyn Write,
    sources: &Sources,
    dismissed: &[Dismissed],
) -> io::Result<()> {
    if dismissed.is_empty() {
        return Ok(());
    }
    writeln!(out, "Suppressed ({}):", dismissed.len())?;
    for d in dismissed {
        let f = &d.finding;
        writeln!(out, "  {}", one_line(sources, f))?;
        for s in &d.suppressions {
            writeln!(out, "    {}", suppression_text(sources, s))?;
        }
    }
    writeln!(out)
}

/// `allowed at file:line:col: reason`, or the baseline's justification.
pub fn suppression_text(sources: &Sources, s: &Suppression) -> String {
    match s.location {
        Some(loc) => format!("allowed at {}: {}", position(sources, loc), s.justification),
        None => s.justification.clone(),
    }
}

/// `1 file`, `2 files`.
fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

/// The closing line: counts of findings, of what was read, and of what was suppressed.
pub fn render_summary(
    out: &mut dyn Write,
    summary: &Summary,
    findings: &[Finding],
    dismissed: &[Dismissed],
    color: bool,
) -> io::Result<()> {
    let (errors, warnings, infos) = counts(findings);
    let p = Paint(color);
    let scope = format!(
        "{}, {}, {}, {}",
        plural(summary.files, "file"),
        plural(summary.manifests, "manifest"),
        plural(summary.fields, "field"),
        plural(summary.flows, "flow")
    );
    let suppressed = suppressed_note(dismissed);
    if findings.is_empty() {
        writeln!(out, "{} No findings ({scope}).{suppressed}", p.bold("✓"))
    } else {
        writeln!(
            out,
            "{} ({scope}).{suppressed}",
            p.bold(&format!(
                "Found {}, {}, {}",
                plural(errors, "error"),
                plural(warnings, "warning"),
                plural(infos, "info")
            ))
        )
    }
}

/// ` 3 suppressed: 2 by allow, 1 baselined.`, or nothing when nothing was.
fn suppressed_note(dismissed: &[Dismissed]) -> String {
    if dismissed.is_empty() {
        return String::new();
    }
    let by = |kind| {
        dismissed
            .iter()
            .filter(|d| d.suppressions.first().map(|s| s.kind) == Some(kind))
            .count()
    };
    let parts: Vec<String> = [
        (SuppressionKind::Allow, "by allow"),
        (SuppressionKind::Inline, "by ignore comments"),
        (SuppressionKind::Baseline, "baselined"),
    ]
    .into_iter()
    .filter_map(|(kind, what)| Some((by(kind), what)).filter(|(n, _)| *n > 0))
    .map(|(n, what)| format!("{n} {what}"))
    .collect();
    format!(
        " {} suppressed: {} (--show-suppressed lists them).",
        dismissed.len(),
        parts.join(", ")
    )
}

/// The findings alone, without the closing summary (also used for rule-file errors).
pub fn render_findings(
    out: &mut dyn Write,
    sources: &Sources,
    findings: &[Finding],
    color: bool,
) -> io::Result<()> {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_links(false)
        .with_width(120)
        .with_context_lines(1);
    let p = Paint(color);
    for f in findings {
        let file = sources.get(f.location.file);
        let report = Report {
            finding: f,
            source: CharColumns {
                name: file.display.clone(),
                text: file.text.clone(),
            },
            help: if f.flow.is_some() {
                None
            } else {
                f.help.as_deref()
            },
        };
        let mut text = String::new();
        if handler.render_report(&mut text, &report).is_err() {
            text = one_line(sources, f);
        }
        out.write_all(text.trim_end().as_bytes())?;
        writeln!(out)?;
        if let Some(flow) = &f.flow {
            let n = flow.path.len();
            if n == 0 {
                let why = "none: the field's own dataset has these uses";
                writeln!(out, "  {} {why}", p.bold("path:"))?;
            } else {
                writeln!(out, "  {} ({}):", p.bold("path"), plural(n, "hop"))?;
            }
            for (i, h) in flow.path.iter().enumerate() {
                let via = if h.functions.is_empty() {
                    String::new()
                } else {
                    format!(" via {}", h.functions.join(", "))
                };
                writeln!(
                    out,
                    "    {}. {}  {}  {}{via}",
                    i + 1,
                    p.cyan(&position(sources, h.location)),
                    p.bold(&h.step),
                    h.flow.as_str()
                )?;
                writeln!(out, "       {} → {}", h.from, h.to)?;
            }
            writeln!(
                out,
                "  {} {}  {} ({})",
                p.bold("source:"),
                p.cyan(&position(sources, flow.source.location)),
                flow.source.name,
                flow.source.keys.join(", ")
            )?;
            writeln!(
                out,
                "  {}   {}  {} ({})",
                p.bold("sink:"),
                p.cyan(&position(sources, flow.sink.location)),
                flow.sink.name,
                flow.sink.keys.join(", ")
            )?;
            if let Some(help) = &f.help {
                writeln!(out, "  {} {}", p.bold("help:"), help)?;
            }
        }
        writeln!(out)?;
    }
    Ok(())
}
