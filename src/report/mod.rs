//! Renderers: one per output format, all over the same [`Finding`](crate::finding::Finding).

pub mod compact;
pub mod github;
pub mod gitlab;
pub mod html;
pub mod human;
pub mod json;
pub mod sarif;
pub mod statistics;

use crate::finding::Finding;
use crate::source::{Loc, Sources};

/// `file:line:column` of a location.
pub fn position(sources: &Sources, loc: Loc) -> String {
    format!(
        "{}:{}:{}",
        sources.get(loc.file).display,
        loc.span.start_pos.line,
        loc.span.start_pos.column
    )
}

/// `file:line:col: severity[rule] message`: the compact format's line, also used by the
/// human format where it needs one line.
pub fn one_line(sources: &Sources, f: &Finding) -> String {
    format!(
        "{}: {}[{}] {}",
        position(sources, f.location),
        f.severity.as_str(),
        f.rule,
        f.message
    )
}

/// The summary of a rule or built-in check.
pub fn rule_summary<'a>(rules: &'a [crate::rules::Rule], id: &str) -> Option<&'a str> {
    rules
        .iter()
        .find(|r| r.id == id)
        .map(|r| r.summary.as_str())
        .or_else(|| {
            crate::finding::Check::ALL
                .iter()
                .find(|c| c.id() == id)
                .map(|c| c.summary())
        })
}
