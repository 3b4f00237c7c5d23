//! `--statistics`: the number of findings per rule, most frequent first, and how the
//! column lineage of dbt models was derived.

use std::collections::BTreeMap;
use std::io::{self, Write};

use crate::check::{LineageSummary, Options};
use crate::finding::{Finding, Severity};

fn summary_of<'a>(opts: &'a Options, id: &str) -> &'a str {
    super::rule_summary(&opts.rules, id).unwrap_or("")
}

/// Rule id → (count, severity), ordered by count (descending), then id.
pub fn counts(findings: &[Finding]) -> Vec<(&str, usize, Severity)> {
    let mut by_rule: BTreeMap<&str, (usize, Severity)> = BTreeMap::new();
    for f in findings {
        let e = by_rule.entry(&f.rule).or_insert((0, f.severity));
        e.0 += 1;
        e.1 = e.1.max(f.severity);
    }
    let mut rows: Vec<(&str, usize, Severity)> =
        by_rule.into_iter().map(|(id, (n, s))| (id, n, s)).collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    rows
}

/// The table; with a machine format it goes to the standard error, beside the report.
pub fn render(
    out: &mut dyn Write,
    opts: &Options,
    findings: &[Finding],
    lineage: Option<&LineageSummary>,
) -> io::Result<()> {
    let rows = counts(findings);
    let width = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
    for (id, n, s) in &rows {
        writeln!(
            out,
            "{n:5}  {id:width$}  {:7}  {}",
            s.as_str(),
            summary_of(opts, id)
        )?;
    }
    let total: usize = rows.iter().map(|r| r.1).sum();
    writeln!(out, "{total:5}  total")?;
    match lineage {
        Some(l) => render_lineage(out, l),
        None => Ok(()),
    }
}

fn render_lineage(out: &mut dyn Write, l: &LineageSummary) -> io::Result<()> {
    writeln!(
        out,
        "\ndbt models: {}; column lineage full {} ({:.1}%), partial {}, fallback {}",
        l.models,
        l.full,
        l.full_percent(),
        l.partial,
        l.fallback
    )?;
    let mut reasons: Vec<(&String, &usize)> = l.reasons.iter().collect();
    reasons.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    for (r, n) in reasons {
        writeln!(out, "{n:5}  {r}")?;
    }
    let dialects: Vec<String> = l.dialects.iter().map(|(d, n)| format!("{d} {n}")).collect();
    writeln!(out, "parsed by dialect: {}", dialects.join(", "))
}
