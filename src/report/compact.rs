//! `file:line:col: severity[rule] message`, one line per finding.

use std::io::{self, Write};

use super::{painted_line, position, single_line, Paint};
use crate::finding::{Dismissed, Finding};
use crate::source::Sources;

pub fn render(
    out: &mut dyn Write,
    sources: &Sources,
    findings: &[Finding],
    color: bool,
) -> io::Result<()> {
    for f in findings {
        writeln!(out, "{}", painted_line(sources, f, Paint(color)))?;
    }
    Ok(())
}

/// Suppressed findings, marked as such, with their reasons (`--show-suppressed`).
pub fn render_dismissed(
    out: &mut dyn Write,
    sources: &Sources,
    dismissed: &[Dismissed],
) -> io::Result<()> {
    for d in dismissed {
        let f = &d.finding;
        let why: Vec<String> = d
            .suppressions
            .iter()
            .map(|s| super::human::suppression_text(sources, s))
            .collect();
        writeln!(
            out,
            "{}: suppressed {}[{}] {} ({})",
            position(sources, f.location),
            f.severity.as_str(),
            f.rule,
            single_line(&f.message),
            why.join("; ")
        )?;
    }
    Ok(())
}
