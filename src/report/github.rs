//! GitHub Actions workflow commands: one `::error file=…::message` annotation per finding.

use std::io::{self, Write};

use crate::finding::{Finding, Severity};
use crate::source::Sources;

/// Escapes a command's message: GitHub decodes `%25`, `%0D` and `%0A`.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value, where `:` and `,` also delimit.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

fn command(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "notice",
    }
}

pub fn render(out: &mut dyn Write, sources: &Sources, findings: &[Finding]) -> io::Result<()> {
    for f in findings {
        let file = sources.get(f.location.file);
        let (start, end) = (f.location.span.start_pos, f.location.span.end_pos);
        let mut message = f.message.clone();
        if let Some(flow) = &f.flow {
            for h in &flow.path {
                message.push_str(&format!(
                    "\n  {} ({}): {} → {}",
                    h.step,
                    h.flow.as_str(),
                    h.from,
                    h.to
                ));
            }
        }
        // GitHub ignores column ranges that span lines; give the lines only then.
        let columns = if start.line == end.line {
            format!(",col={},endColumn={}", start.column, end.column)
        } else {
            String::new()
        };
        writeln!(
            out,
            "::{} file={},line={},endLine={}{columns},title={}::{}",
            command(f.severity),
            escape_property(&file.display),
            start.line,
            end.line.max(start.line),
            escape_property(&format!("purposelint {}", f.rule)),
            escape_data(&message)
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_by_github_rules() {
        assert_eq!(escape_data("50% a\r\nb: c,d"), "50%25 a%0D%0Ab: c,d");
        assert_eq!(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
    }
}
