//! Renderers: one per output format, all over the same [`Finding`](crate::finding::Finding).

pub mod compact;
pub mod github;
pub mod gitlab;
pub mod html;
pub mod human;
pub mod json;
pub mod listing;
mod pretty;
pub mod sarif;
pub mod statistics;

use crate::finding::{Finding, Severity};
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
    painted_line(sources, f, Paint(false))
}

/// [`one_line`], coloured when `p` is on. A message that spans lines (a dbt model's
/// lineage note quoting SQL) is joined into one, so that each finding stays one line.
pub(crate) fn painted_line(sources: &Sources, f: &Finding, p: Paint) -> String {
    let severity = match f.severity {
        Severity::Error => p.paint("1;31", f.severity.as_str()),
        Severity::Warning => p.paint("1;33", f.severity.as_str()),
        Severity::Info => p.paint("1;34", f.severity.as_str()),
    };
    format!(
        "{}: {severity}[{}] {}",
        p.bold(&position(sources, f.location)),
        p.paint("2", &f.rule),
        single_line(&f.message)
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

/// Lines joined by single spaces.
pub(crate) fn single_line(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains(['\n', '\r']) {
        return text.into();
    }
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    lines.join(" ").into()
}

/// Minimal ANSI styling for text that miette does not draw.
#[derive(Clone, Copy)]
pub(crate) struct Paint(pub(crate) bool);

impl Paint {
    pub(crate) fn paint(self, code: &str, text: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
    pub(crate) fn bold(self, t: &str) -> String {
        self.paint("1", t)
    }
    pub(crate) fn cyan(self, t: &str) -> String {
        self.paint("36", t)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn messages_that_span_lines_are_one_line() {
        let m = "cannot parse the SQL:\n  select a\r\n   from\n\nb";
        assert_eq!(
            super::single_line(m),
            "cannot parse the SQL: select a from b"
        );
        assert_eq!(super::single_line("one"), "one");
    }
}
