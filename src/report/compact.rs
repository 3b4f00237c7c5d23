//! `file:line:col: severity[rule] message`, one line per finding.

use std::io::{self, Write};

use super::position;
use crate::finding::Finding;
use crate::source::Sources;

pub fn render(out: &mut dyn Write, sources: &Sources, findings: &[Finding]) -> io::Result<()> {
    for f in findings {
        writeln!(
            out,
            "{}: {}[{}] {}",
            position(sources, f.location),
            f.severity.as_str(),
            f.rule,
            f.message
        )?;
    }
    Ok(())
}
