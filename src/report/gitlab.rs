//! GitLab code-quality report: a JSON array GitLab shows in merge requests.

use std::io::{self, Write};

use serde::Serialize;

use crate::finding::{fingerprint, Finding, Severity};
use crate::source::Sources;

#[derive(Serialize)]
struct Issue<'a> {
    description: String,
    check_name: &'a str,
    fingerprint: String,
    severity: &'static str,
    location: Location<'a>,
}

#[derive(Serialize)]
struct Location<'a> {
    path: &'a str,
    lines: Lines,
}

#[derive(Serialize)]
struct Lines {
    begin: u32,
}

fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Error => "critical",
        Severity::Warning => "minor",
        Severity::Info => "info",
    }
}

pub fn render(out: &mut dyn Write, sources: &Sources, findings: &[Finding]) -> io::Result<()> {
    let issues: Vec<Issue> = findings
        .iter()
        .map(|f| {
            let path = &sources.get(f.location.file).display;
            // Flow findings keep their line-independent fingerprint; checks have no
            // stable identity, so theirs includes the position.
            let fp = match &f.flow {
                Some(flow) => flow.fingerprint.clone(),
                None => fingerprint(
                    &f.rule,
                    &format!("{path}:{}", f.location.span.start_pos.line),
                    &f.message,
                ),
            };
            Issue {
                description: f.message.clone(),
                check_name: &f.rule,
                fingerprint: fp,
                severity: severity(f.severity),
                location: Location {
                    path,
                    lines: Lines {
                        begin: f.location.span.start_pos.line,
                    },
                },
            }
        })
        .collect();
    super::pretty::to_writer_pretty(&mut *out, &issues)?;
    writeln!(out)
}
