//! Source files and positions: byte spans plus 1-based line and character columns.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

/// Index of a file in [`Sources`].
pub type FileId = u32;

/// A position in a file: 1-based line, 1-based column counted in Unicode characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Pos {
    pub line: u32,
    pub column: u32,
}

/// A half-open range in a file, as byte offsets and as line/column positions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    pub start: u32,
    pub end: u32,
    pub start_pos: Pos,
    pub end_pos: Pos,
}

/// A span in a known file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Loc {
    pub file: FileId,
    pub span: Span,
}

/// A value with the span it was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

/// One input file. `text` has any UTF-8 byte-order mark removed.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub path: PathBuf,
    /// Path as shown to users: relative to the working directory when below it.
    pub display: String,
    pub text: Arc<str>,
    /// Offsets of line starts, found on first use: ASCII files take positions from the
    /// parser, so most files of a large run never need them.
    line_starts: OnceLock<Vec<u32>>,
    /// All ASCII: character columns are byte columns, so positions need no scan.
    ascii: bool,
    /// Whether the text holds the ignore-comment marker ([`crate::suppress`]): reading
    /// and linking both ask, and each question scanned the whole text.
    pub(crate) marked: OnceLock<bool>,
}

impl SourceFile {
    pub fn new(path: PathBuf, display: String, text: &str) -> Self {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        SourceFile {
            path,
            display,
            ascii: text.is_ascii(),
            text: Arc::from(text),
            line_starts: OnceLock::new(),
            marked: OnceLock::new(),
        }
    }

    fn line_starts(&self) -> &[u32] {
        self.line_starts.get_or_init(|| {
            let text = self.text.as_bytes();
            let mut starts = vec![0u32];
            starts.extend(memchr::memchr_iter(b'\n', text).map(|i| i as u32 + 1));
            starts
        })
    }

    /// Byte offset of a 1-based line and 0-based character column, clamped to the line.
    pub fn offset(&self, line: u32, char_col: u32) -> u32 {
        let starts = self.line_starts();
        let Some(&start) = starts.get(line.saturating_sub(1) as usize) else {
            return self.text.len() as u32;
        };
        if self.ascii {
            let end = match starts.get(line as usize) {
                Some(&next) => next - 1, // the '\n'
                None => self.text.len() as u32,
            };
            return start + char_col.min(end - start);
        }
        // One pass that stops at the column or the line's end, whichever comes first:
        // finding the line's end first cost a scan per span on long lines.
        let rest = &self.text[start as usize..];
        let within = rest
            .char_indices()
            .enumerate()
            .find(|&(n, (_, c))| n == char_col as usize || c == '\n')
            .map_or(rest.len(), |(_, (i, _))| i);
        start + within as u32
    }

    /// Span from 1-based lines and 0-based character columns.
    pub fn span(&self, start: (u32, u32), end: (u32, u32)) -> Span {
        let offsets = (self.offset(start.0, start.1), self.offset(end.0, end.1));
        positioned(offsets, start, end)
    }

    /// Span from positions given as (character index, 1-based line, 0-based character
    /// column), as YAML parsers report them: in an ASCII file the index is the offset.
    pub fn span_indexed(&self, start: (u32, u32, u32), end: (u32, u32, u32)) -> Span {
        let (from, to) = ((start.1, start.2), (end.1, end.2));
        if !self.ascii {
            return self.span(from, to);
        }
        let len = self.text.len() as u32;
        positioned((start.0.min(len), end.0.min(len)), from, to)
    }

    /// Position of a byte offset (clamped to a character boundary).
    pub fn pos(&self, offset: u32) -> Pos {
        let offset = (offset as usize).min(self.text.len());
        let starts = self.line_starts();
        let line_idx = starts.partition_point(|&s| s as usize <= offset) - 1;
        self.pos_on_line(line_idx, starts[line_idx] as usize, offset)
    }

    /// The position of `offset` (at most the text's length) on line `line_idx` (0-based),
    /// which starts at byte `start`.
    fn pos_on_line(&self, line_idx: usize, start: usize, offset: usize) -> Pos {
        if self.ascii {
            return Pos {
                line: line_idx as u32 + 1,
                column: (offset - start) as u32 + 1,
            };
        }
        let column = self.text[start..]
            .char_indices()
            .take_while(|&(i, _)| start + i < offset)
            .count();
        Pos {
            line: line_idx as u32 + 1,
            column: column as u32 + 1,
        }
    }

    /// Span of a byte range.
    pub fn span_of_bytes(&self, start: u32, end: u32) -> Span {
        let start_pos = self.pos(start);
        Span {
            start,
            end,
            start_pos,
            end_pos: self.pos_after(start_pos, end),
        }
    }

    /// [`SourceFile::pos`] of `offset` at or after `before`: most spans end on the line
    /// they start on, found without a second search.
    fn pos_after(&self, before: Pos, offset: u32) -> Pos {
        let starts = self.line_starts();
        let line_idx = before.line as usize - 1;
        let at = (offset as usize).min(self.text.len());
        let this_line = starts[line_idx] as usize;
        let next_line = starts.get(line_idx + 1).map_or(usize::MAX, |&n| n as usize);
        if this_line <= at && at < next_line {
            return self.pos_on_line(line_idx, this_line, at);
        }
        self.pos(offset)
    }

    /// The 1-based column of `pos` counted in UTF-16 code units (SARIF, LSP).
    pub fn utf16_column(&self, pos: Pos) -> u32 {
        let before = pos.column.saturating_sub(1) as usize;
        let units: usize = self
            .line_text(pos.line)
            .chars()
            .take(before)
            .map(char::len_utf16)
            .sum();
        // Columns past the end of the line (line ends) count one unit each.
        let chars = self.line_text(pos.line).chars().count();
        (units + before.saturating_sub(chars) + 1) as u32
    }

    /// The text of one 1-based line, without its line ending.
    pub fn line_text(&self, line: u32) -> &str {
        let Some(&start) = self.line_starts().get(line.saturating_sub(1) as usize) else {
            return "";
        };
        let rest = &self.text[start as usize..];
        let l = rest.split('\n').next().unwrap_or("");
        l.strip_suffix('\r').unwrap_or(l)
    }
}

/// A span of byte `offsets` from and to 1-based lines and 0-based character columns.
fn positioned(offsets: (u32, u32), from: (u32, u32), to: (u32, u32)) -> Span {
    let pos = |(line, column): (u32, u32)| Pos {
        line,
        column: column + 1,
    };
    Span {
        start: offsets.0,
        end: offsets.1,
        start_pos: pos(from),
        end_pos: pos(to),
    }
}

/// All files of a run, indexed by [`FileId`]. Shared: an editor session's runs over parts
/// of a workspace all index the same files.
#[derive(Debug, Default, Clone)]
pub struct Sources {
    pub files: Vec<Arc<SourceFile>>,
}

impl Sources {
    /// `file:line` of a location: where a diagnostic says the first definition is.
    pub(crate) fn file_line(&self, loc: Loc) -> String {
        format!("{}:{}", self.get(loc.file).display, loc.span.start_pos.line)
    }

    /// The sources of a file read on its own (a configuration, a rule file).
    pub fn one(file: SourceFile) -> Self {
        Sources {
            files: vec![Arc::new(file)],
        }
    }

    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_of_bytes_position_both_ends_as_pos_does() {
        for text in ["ab\ncd\n\nefg", "é\nxé\n", ""] {
            let f = SourceFile::new("a".into(), "a".into(), text);
            let n = text.len() as u32;
            for a in 0..=n + 1 {
                for b in a..=n + 2 {
                    let sp = f.span_of_bytes(a, b);
                    assert_eq!(
                        (sp.start_pos, sp.end_pos),
                        (f.pos(a), f.pos(b)),
                        "{text:?} {a} {b}"
                    );
                }
            }
        }
    }

    #[test]
    fn columns_count_characters_after_multibyte_text() {
        let f = SourceFile::new("a".into(), "a".into(), "name: héllo wörld\nx: y\n");
        let sp = f.span((1, 6), (1, 17));
        assert_eq!(&f.text[sp.start as usize..sp.end as usize], "héllo wörld");
        assert_eq!(
            f.pos(sp.end),
            Pos {
                line: 1,
                column: 18
            }
        );
        assert_eq!(f.line_text(2), "x: y");
    }

    #[test]
    fn utf16_columns_count_surrogate_pairs() {
        let f = SourceFile::new("a".into(), "a".into(), "a: \u{1F600}é x\n");
        // `x` is the 7th character but the 8th UTF-16 code unit.
        let p = Pos { line: 1, column: 7 };
        assert_eq!(f.utf16_column(p), 8);
        assert_eq!(f.utf16_column(Pos { line: 1, column: 1 }), 1);
    }

    #[test]
    fn ascii_shortcut_matches_the_character_scan() {
        let text = "kind: sink\r\nname: a\n\n  x: [1, 2]\nlast";
        let ascii = SourceFile::new("a".into(), "a".into(), text);
        // One non-ASCII character after everything else forces the scanning path.
        let wide = SourceFile::new("b".into(), "b".into(), &format!("{text}\n\u{e9}"));
        assert!(ascii.ascii && !wide.ascii);
        for line in 1..=5 {
            for col in 0..14 {
                assert_eq!(
                    ascii.offset(line, col),
                    wide.offset(line, col),
                    "{line}:{col}"
                );
            }
        }
        for offset in 0..=text.len() as u32 {
            assert_eq!(ascii.pos(offset), wide.pos(offset), "{offset}");
        }
    }

    #[test]
    fn indexed_spans_of_ascii_text_match_line_and_column_spans() {
        let text = "kind: sink\r\nname: a\n\n  x: [1, 2]\nlast";
        let f = SourceFile::new("a".into(), "a".into(), text);
        for offset in 0..=text.len() as u32 {
            let p = f.pos(offset);
            let at = (offset, p.line, p.column - 1);
            let by_line = f.span((p.line, p.column - 1), (p.line, p.column - 1));
            assert_eq!(f.span_indexed(at, at), by_line, "{offset}");
        }
    }

    #[test]
    fn bom_is_stripped() {
        let f = SourceFile::new("a".into(), "a".into(), "\u{feff}kind: sink\n");
        assert!(f.text.starts_with("kind"));
    }
}
