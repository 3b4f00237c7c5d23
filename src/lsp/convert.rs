//! Positions and URIs: LSP positions in the negotiated encoding ↔ byte offsets, paths ↔ `file:` URIs.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use lsp_types::{Position, Range, Uri};

use crate::source::{SourceFile, Span};

/// How `Position.character` counts: UTF-8 bytes if the client offers it, else UTF-16 units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Utf16,
}

impl Encoding {
    fn width(self, c: char) -> u32 {
        match self {
            Encoding::Utf8 => c.len_utf8() as u32,
            Encoding::Utf16 => c.len_utf16() as u32,
        }
    }

    /// Code units of `s` in this encoding.
    pub fn len(self, s: &str) -> u32 {
        match self {
            Encoding::Utf8 => s.len() as u32,
            Encoding::Utf16 => s.encode_utf16().count() as u32,
        }
    }
}

/// Byte offset of the start of 0-based `line`, or `None` past the end.
fn line_start(text: &str, line: u32) -> Option<usize> {
    if line == 0 {
        return Some(0);
    }
    text.match_indices('\n')
        .nth(line as usize - 1)
        .map(|(i, _)| i + 1)
}

/// Byte offset of an LSP position, clamped to the line's content and the text.
pub fn offset(text: &str, pos: Position, enc: Encoding) -> usize {
    let Some(start) = line_start(text, pos.line) else {
        return text.len();
    };
    let rest = &text[start..];
    let line = rest.split('\n').next().unwrap_or("");
    let line = line.strip_suffix('\r').unwrap_or(line);
    let mut units = 0;
    for (i, c) in line.char_indices() {
        if units >= pos.character {
            return start + i;
        }
        units += enc.width(c);
    }
    start + line.len()
}

/// LSP position of a byte offset in a source file.
pub fn position(file: &SourceFile, byte: u32, enc: Encoding) -> Position {
    let p = file.pos(byte);
    let line_start = file.offset(p.line, 0) as usize;
    let byte = (byte as usize).clamp(line_start, file.text.len());
    let mut end = byte;
    while !file.text.is_char_boundary(end) {
        end -= 1;
    }
    Position {
        line: p.line.saturating_sub(1),
        character: enc.len(&file.text[line_start..end]),
    }
}

pub fn range(file: &SourceFile, span: Span, enc: Encoding) -> Range {
    Range {
        start: position(file, span.start, enc),
        end: position(file, span.end.max(span.start), enc),
    }
}

/// Byte offset in a source file of an LSP position.
pub fn file_offset(file: &SourceFile, pos: Position, enc: Encoding) -> u32 {
    offset(&file.text, pos, enc) as u32
}

fn keep(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/')
}

/// `file:` URI of an absolute path, percent-encoded.
pub fn path_to_uri(path: &Path) -> Uri {
    let s = path.to_string_lossy();
    let mut out = String::from("file://");
    if !s.starts_with('/') {
        out.push('/');
    }
    for b in s.replace('\\', "/").bytes() {
        if keep(b) || b == b':' && out.len() > 8 {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    Uri::from_str(&out).unwrap_or_else(|_| Uri::from_str("file:///").expect("valid URI"))
}

/// The path of a `file:` URI; `None` for other schemes.
pub fn uri_to_path(uri: &Uri) -> Option<PathBuf> {
    let s = uri.as_str();
    let rest = s.strip_prefix("file://")?;
    let rest = rest.strip_prefix("localhost").unwrap_or(rest);
    let rest = rest.split(['?', '#']).next().unwrap_or("");
    let bytes = rest.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
            if let Ok(b) = u8::from_str_radix(hex, 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    let path = String::from_utf8(out).ok()?;
    // Windows drive letters: file:///C:/x
    let path = match path.as_bytes() {
        [b'/', d, b':', ..] if d.is_ascii_alphabetic() && cfg!(windows) => path[1..].to_string(),
        _ => path,
    };
    if path.is_empty() {
        return None;
    }
    Some(PathBuf::from(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_columns_after_multibyte_text() {
        let text = "a: é😀x\nb: y\n";
        // é is 1 UTF-16 unit (2 bytes), 😀 is 2 units (4 bytes).
        let p = Position::new(0, 6);
        assert_eq!(&text[offset(text, p, Encoding::Utf16)..], "x\nb: y\n");
        let p = Position::new(0, 9);
        assert_eq!(&text[offset(text, p, Encoding::Utf8)..], "x\nb: y\n");
        let f = SourceFile::new("a".into(), "a".into(), text);
        assert_eq!(position(&f, 9, Encoding::Utf16), Position::new(0, 6));
        assert_eq!(position(&f, 9, Encoding::Utf8), Position::new(0, 9));
        assert_eq!(
            offset(text, Position::new(7, 3), Encoding::Utf16),
            text.len()
        );
        assert_eq!(
            offset(text, Position::new(1, 99), Encoding::Utf16),
            text.len() - 1
        );
    }

    #[test]
    fn uris_round_trip() {
        let p = PathBuf::from("/tmp/a dir/ü#1.yaml");
        let u = path_to_uri(&p);
        assert_eq!(u.as_str(), "file:///tmp/a%20dir/%C3%BC%231.yaml");
        assert_eq!(uri_to_path(&u), Some(p));
        assert_eq!(
            uri_to_path(&Uri::from_str("untitled:Untitled-1").unwrap()),
            None
        );
    }
}
