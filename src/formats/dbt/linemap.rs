//! Positions in rendered (or compiled) SQL mapped back to the model's `.sql` file.
//!
//! Jinja leaves most lines as they are, so rendered lines are aligned with the file's
//! lines by their text, in order. A position on a line that rendering changed (a `ref()`
//! or a macro call on it) is found by searching its text between the neighbouring
//! aligned lines.

use std::cell::RefCell;
use std::collections::HashMap;

use crate::source::{SourceFile, Span};
use crate::sql::SqlSpan;

const LOOKAHEAD: usize = 400;

pub(crate) struct LineMap<'a> {
    rendered: Vec<&'a str>,
    raw: &'a SourceFile,
    raw_lines: Vec<&'a str>,
    /// Byte offset of each raw line in the file.
    raw_starts: Vec<usize>,
    /// For each rendered line (0-based), the raw line (0-based) it equals.
    matched: Vec<Option<usize>>,
    /// For each rendered line, the raw lines between which its text is searched when it
    /// matched none: after the previous matched line, up to the next one.
    between: Vec<(usize, usize)>,
    /// Spans already mapped: a model maps the same select item for each of its inputs.
    memo: RefCell<HashMap<SqlSpan, Span>>,
}

fn lead(s: &str) -> usize {
    s.chars().take_while(|c| c.is_whitespace()).count()
}

impl<'a> LineMap<'a> {
    pub(crate) fn new(rendered: &'a str, raw: &'a SourceFile) -> Self {
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
        let last = raw_lines.len().saturating_sub(1);
        // The matched raw line before each rendered line, and after it.
        let mut before = vec![0usize; rendered.len()];
        let mut prev = 0;
        for (i, m) in matched.iter().enumerate() {
            before[i] = prev;
            if let Some(j) = m {
                prev = j + 1;
            }
        }
        let mut between = vec![(0, 0); rendered.len()];
        let mut next = last;
        for i in (0..rendered.len()).rev() {
            let (b, a) = (before[i], next);
            between[i] = (b.min(a), a.max(b));
            if let Some(j) = matched[i] {
                next = j;
            }
        }
        let mut raw_starts = Vec::with_capacity(raw_lines.len());
        let mut at = 0;
        for l in &raw_lines {
            raw_starts.push(at);
            at += l.len() + 1;
        }
        LineMap {
            rendered,
            raw,
            raw_lines,
            raw_starts,
            matched,
            between,
            memo: RefCell::new(HashMap::new()),
        }
    }

    /// The first occurrence of `needle` in raw lines `lo..=hi`: its line and byte offset
    /// in that line.
    fn find_in_lines(&self, needle: &str, lo: usize, hi: usize) -> Option<(usize, usize)> {
        let from = self.raw_starts[lo];
        let to = self.raw_starts[hi] + self.raw_lines[hi].len();
        let b = memchr::memmem::find(&self.raw.text.as_bytes()[from..to], needle.as_bytes())?;
        Some(self.line_at(from + b))
    }

    /// The raw line of byte offset `at`, and the offset in that line.
    fn line_at(&self, at: usize) -> (usize, usize) {
        let j = self.raw_starts.partition_point(|&s| s <= at) - 1;
        (j, at - self.raw_starts[j])
    }

    /// `needle` in raw lines `lo..=hi`, else anywhere in the file when it occurs once
    /// (neighbouring lines can be aligned wrongly when Jinja repeated some of them).
    fn find_near_or_unique(&self, needle: &str, lo: usize, hi: usize) -> Option<(usize, usize)> {
        if lo <= hi {
            if let Some(found) = self.find_in_lines(needle, lo, hi) {
                return Some(found);
            }
        }
        let text = self.raw.text.as_bytes();
        let mut all = memchr::memmem::find_iter(text, needle.as_bytes());
        let (at, None) = (all.next()?, all.next()) else {
            return None;
        };
        Some(self.line_at(at))
    }

    fn line_span(&self, j: usize, from: usize, to: usize) -> Span {
        let line = j as u32 + 1;
        self.raw
            .span((line, from as u32), (line, to.max(from) as u32))
    }

    /// The span in the raw file of a span in the rendered SQL.
    pub(crate) fn map(&self, s: SqlSpan) -> Span {
        if let Some(done) = self.memo.borrow().get(&s) {
            return *done;
        }
        let span = self.map_new(s);
        self.memo.borrow_mut().insert(s, span);
        span
    }

    fn map_new(&self, s: SqlSpan) -> Span {
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
        let (lo, hi) = self.between[i];
        let hi = hi.min(self.raw_lines.len().saturating_sub(1));
        // The line up to the span's end, when Jinja left that much as it was: a short
        // fragment (`,`) may also occur earlier on the line.
        let lead_ws = lead(rline);
        if !fragment.is_empty() && scol >= lead_ws {
            let upto: String = rline.chars().skip(lead_ws).take(ecol - lead_ws).collect();
            let slice: String = rline.chars().skip(scol).take(ecol - scol).collect();
            // Where the fragment starts in `upto`, in characters.
            let offset = scol + lead(&slice) - lead_ws;
            if let Some((j, b)) = self.find_near_or_unique(&upto, lo, hi) {
                let from = self.raw_lines[j][..b].chars().count() + offset;
                return self.line_span(j, from, from + fragment.chars().count());
            }
            // Else the text before it, when Jinja made the fragment: it is where that
            // Jinja starts.
            let before: String = upto.chars().take(offset).collect();
            let before = before.trim_end();
            if before.len() > 1 {
                if let Some((j, b)) = self.find_near_or_unique(before, lo, hi) {
                    let from = self.raw_lines[j][..b + before.len()].chars().count();
                    let rest = &self.raw_lines[j][b + before.len()..];
                    let from = from + lead(rest);
                    return self.line_span(j, from, from + fragment.chars().count());
                }
            }
        }
        let candidates = [
            fragment.to_string(),
            fragment
                .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
                .find(|w| !w.is_empty())
                .unwrap_or("")
                .to_string(),
        ];
        for cand in candidates.iter().filter(|c| !c.is_empty()) {
            if lo > hi {
                break;
            }
            if let Some((j, b)) = self.find_in_lines(cand, lo, hi) {
                let from = self.raw_lines[j][..b].chars().count();
                return self.line_span(j, from, from + cand.chars().count());
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

    #[test]
    fn a_short_fragment_is_found_by_the_text_before_it() {
        // Line 2 repeats `,` before the span; on line 3 the `,` comes from the Jinja.
        let raw = SourceFile::new(
            "m.sql".into(),
            "m.sql".into(),
            "select\n  a, b,, {{ ref('c') }}\n  dd{{ comma() }}\nfrom t\n",
        );
        let rendered = "select\n  a, b,, \"ref:c\"\n  dd,\nfrom t\n";
        let m = LineMap::new(rendered, &raw);
        let s = m.map(SqlSpan {
            start: (2, 8),
            end: (2, 9),
        });
        assert_eq!((s.start_pos.line, s.start_pos.column), (2, 8));
        let s = m.map(SqlSpan {
            start: (3, 5),
            end: (3, 6),
        });
        assert_eq!((s.start_pos.line, s.start_pos.column), (3, 5));
    }
}
