//! Positions in rendered (or compiled) SQL mapped back to the model's `.sql` file.
//!
//! Jinja leaves most lines as they are, so rendered lines are aligned with the file's
//! lines by their text, in order. A position on a line that rendering changed (a `ref()`
//! or a macro call on it) is found by searching its text between the neighbouring
//! aligned lines.

use crate::source::{SourceFile, Span};
use crate::sql::SqlSpan;

const LOOKAHEAD: usize = 400;

pub struct LineMap<'a> {
    rendered: Vec<&'a str>,
    raw: &'a SourceFile,
    raw_lines: Vec<&'a str>,
    /// For each rendered line (0-based), the raw line (0-based) it equals.
    matched: Vec<Option<usize>>,
}

fn lead(s: &str) -> usize {
    s.chars().take_while(|c| c.is_whitespace()).count()
}

impl<'a> LineMap<'a> {
    pub fn new(rendered: &'a str, raw: &'a SourceFile) -> Self {
        let rendered: Vec<&str> = rendered.split('\n').collect();
        let raw_lines: Vec<&str> = raw.text.split('\n').collect();
        let mut matched = vec![None; rendered.len()];
        let mut cursor = 0usize;
        for (i, line) in rendered.iter().enumerate() {
            let t = line.trim();
            if t.is_empty() {
                continue;
            }
            let end = (cursor + LOOKAHEAD).min(raw_lines.len());
            if let Some(j) = (cursor..end).find(|&j| raw_lines[j].trim() == t) {
                matched[i] = Some(j);
                cursor = j + 1;
            }
        }
        LineMap {
            rendered,
            raw,
            raw_lines,
            matched,
        }
    }

    fn neighbours(&self, i: usize) -> (usize, usize) {
        let before = self.matched[..i]
            .iter()
            .rev()
            .find_map(|m| *m)
            .map_or(0, |j| j + 1);
        let after = self.matched[i + 1..]
            .iter()
            .find_map(|m| *m)
            .unwrap_or(self.raw_lines.len().saturating_sub(1));
        (before.min(after), after.max(before))
    }

    fn line_span(&self, j: usize, from: usize, to: usize) -> Span {
        let line = j as u32 + 1;
        self.raw
            .span((line, from as u32), (line, to.max(from) as u32))
    }

    /// The span in the raw file of a span in the rendered SQL.
    pub fn map(&self, s: SqlSpan) -> Span {
        let i = (s.start.0 as usize).saturating_sub(1);
        let Some(rline) = self.rendered.get(i) else {
            return self.line_span(0, 0, 0);
        };
        let scol = (s.start.1 as usize).saturating_sub(1);
        let ecol = if s.end.0 == s.start.0 {
            (s.end.1 as usize).saturating_sub(1)
        } else {
            rline.chars().count()
        };
        if let Some(j) = self.matched[i] {
            let shift = lead(self.raw_lines[j]) as isize - lead(rline) as isize;
            let from = (scol as isize + shift).max(0) as usize;
            let to = (ecol as isize + shift).max(0) as usize;
            // Same line ends inside the statement; a span running on ends at the line's end.
            let to = if s.end.0 != s.start.0 {
                self.raw_lines[j].trim_end().chars().count()
            } else {
                to
            };
            return self.line_span(j, from, to);
        }
        let fragment: String = rline
            .chars()
            .skip(scol)
            .take(ecol.saturating_sub(scol))
            .collect();
        let fragment = fragment.trim();
        let (lo, hi) = self.neighbours(i);
        let hi = hi.min(self.raw_lines.len().saturating_sub(1));
        let candidates = [
            fragment.to_string(),
            fragment
                .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
                .find(|w| !w.is_empty())
                .unwrap_or("")
                .to_string(),
        ];
        for cand in candidates.iter().filter(|c| !c.is_empty()) {
            for j in lo..=hi {
                if let Some(b) = self.raw_lines[j].find(cand.as_str()) {
                    let from = self.raw_lines[j][..b].chars().count();
                    return self.line_span(j, from, from + cand.chars().count());
                }
            }
        }
        let j = lo.min(self.raw_lines.len().saturating_sub(1));
        let l = self.raw_lines.get(j).copied().unwrap_or("");
        self.line_span(j, lead(l), l.trim_end().chars().count())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_through_changed_lines() {
        let raw = SourceFile::new(
            "m.sql".into(),
            "m.sql".into(),
            "{{ config(x=1) }}\n\nwith a as (\n  select email\n  from {{ ref('c') }}\n)\n{% if true %}\nselect lower(email) as e from a\n{% endif %}\n",
        );
        let rendered = "\n\nwith a as (\n  select email\n  from \"ref:c\"\n)\n\nselect lower(email) as e from a\n\n";
        let m = LineMap::new(rendered, &raw);
        let s = m.map(SqlSpan {
            start: (8, 8),
            end: (8, 20),
        });
        assert_eq!(s.start_pos.line, 8);
        assert_eq!(s.start_pos.column, 8);
        let s = m.map(SqlSpan {
            start: (5, 3),
            end: (5, 14),
        });
        assert_eq!(s.start_pos.line, 5);
    }
}
