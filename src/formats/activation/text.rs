//! Text embedded in a config value (SQL in a heredoc or a YAML block, JSON in an escaped
//! string) together with where each of its bytes is in the original file, so that every
//! location found inside it points at the file.

use std::borrow::Cow;

use super::hcl::{Key, Kind, Range, Value};

/// Decoded text and the file offset of each of its bytes (one more for the end).
#[derive(Debug, Clone)]
pub(crate) struct Embedded {
    pub text: String,
    at: Vec<u32>,
    /// Text that is not written where it is used (a local's or a variable's value): every
    /// part of it is located at this node, the reference.
    whole: Option<Range>,
}

impl Embedded {
    /// Text whose lines are the ends of the file's lines at `lines` (heredocs, YAML
    /// block scalars): line `i` of `text` starts at file offset `lines[i]`.
    pub(crate) fn from_lines(text: &str, lines: &[u32]) -> Self {
        let mut at = Vec::with_capacity(text.len() + 1);
        let mut last = 0;
        for (i, line) in text.split_inclusive('\n').enumerate() {
            let start = lines.get(i).copied().unwrap_or(last);
            last = start + line.len() as u32;
            at.extend(start..last);
        }
        at.push(last);
        Embedded {
            text: text.to_string(),
            at,
            whole: None,
        }
    }

    /// Text written elsewhere and used at `reference` (a local's or a variable's value),
    /// where all of it is located.
    pub(crate) fn elsewhere(text: &str, reference: Range) -> Self {
        let mut at = vec![reference.0; text.len()];
        at.push(reference.1);
        Embedded {
            text: text.to_string(),
            at,
            whole: Some(reference),
        }
    }

    /// Text spliced from pieces, each `(text, range in the file, written there)`: text
    /// written verbatim maps byte for byte, an interpolated value to its `${…}`.
    pub(crate) fn spliced(pieces: &[(String, Range, bool)]) -> Self {
        let mut text = String::new();
        let mut at = Vec::new();
        for (t, r, verbatim) in pieces {
            let (r, verbatim) = (*r, *verbatim);
            text.push_str(t);
            if verbatim {
                at.extend(r.0..r.0 + t.len() as u32);
            } else {
                at.extend(std::iter::repeat_n(r.0, t.len()));
            }
        }
        at.push(pieces.last().map_or(0, |p| p.1 .1));
        Embedded {
            text,
            at,
            whole: None,
        }
    }

    /// Text copied verbatim from the file at `start`.
    pub(crate) fn verbatim(text: &str, start: u32) -> Self {
        let at = (start..=start + text.len() as u32).collect();
        Embedded {
            text: text.to_string(),
            at,
            whole: None,
        }
    }

    /// The contents of an HCL string literal written at `span` (quotes included) in
    /// `file`, with its escapes decoded.
    pub(crate) fn hcl_string(file: &str, span: Range) -> Option<Self> {
        let raw = file.get(span.0 as usize..span.1 as usize)?;
        let inner = raw.strip_prefix('"')?.strip_suffix('"')?;
        let base = span.0 + 1;
        let mut text = String::with_capacity(inner.len());
        let mut at = Vec::with_capacity(inner.len() + 1);
        let bytes = inner.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let start = base + i as u32;
            if bytes[i] != b'\\' && bytes[i].is_ascii() {
                // ASCII up to the next escape or wide character: copied bytes, in one go.
                let n = bytes[i..]
                    .iter()
                    .position(|&b| b == b'\\' || !b.is_ascii())
                    .unwrap_or(bytes.len() - i);
                text.push_str(&inner[i..i + n]);
                at.extend(start..start + n as u32);
                i += n;
                continue;
            }
            if bytes[i] == b'\\' {
                // An escaped ASCII character (`\"` in escaped JSON): one byte, at the
                // backslash.
                if let Some(&e) = bytes.get(i + 1).filter(|e| e.is_ascii()) {
                    text.push(unescape(e as char));
                    at.push(start);
                    i += 2;
                    continue;
                }
            }
            let (decoded, width) = if bytes[i] == b'\\' {
                match inner[i + 1..].chars().next() {
                    Some(e) => (unescape(e), 1 + e.len_utf8()),
                    None => ('\\', 1),
                }
            } else {
                let Some(c) = inner[i..].chars().next() else {
                    break;
                };
                (c, c.len_utf8())
            };
            // Every byte of a decoded character is at its start.
            at.extend(std::iter::repeat_n(start, decoded.len_utf8()));
            text.push(decoded);
            i += width;
        }
        at.push(span.1 - 1);
        Some(Embedded {
            text,
            at,
            whole: None,
        })
    }

    /// The file range to report a problem found at file offset `at` of the text: the
    /// character there, or the reference when the text is written elsewhere.
    pub(crate) fn problem_at(&self, at: u32) -> Range {
        self.whole.unwrap_or((at, at + 1))
    }

    /// File offset of byte `i` of the text.
    pub(crate) fn offset(&self, i: usize) -> u32 {
        self.at[i.min(self.at.len() - 1)]
    }

    /// File range of text bytes `a..b`: from the first byte's start to the end of the last
    /// byte as written (an escaped quote ends after its backslash and quote).
    pub(crate) fn range(&self, a: usize, b: usize) -> Range {
        if let Some(whole) = self.whole {
            return whole;
        }
        let start = self.offset(a);
        if b == 0 || b <= a {
            return (start, start);
        }
        let last = self.offset(b - 1);
        let next = self.offset(b);
        // The last byte's source width: up to where the next byte starts.
        (start, next.max(last + 1))
    }

    /// Byte offset in the text of a 1-based line and 1-based character column.
    pub(crate) fn line_col(&self, line: u32, col: u32) -> usize {
        let mut start = 0;
        for _ in 1..line.max(1) {
            match self.text[start..].find('\n') {
                Some(n) => start += n + 1,
                None => return self.text.len(),
            }
        }
        let rest = &self.text[start..];
        let before = col.saturating_sub(1) as usize;
        // ASCII before the column (the common case): characters are bytes.
        if rest.as_bytes().get(..before).is_some_and(<[u8]>::is_ascii) {
            return start + before;
        }
        let within = rest
            .char_indices()
            .nth(before)
            .map_or(rest.len(), |(i, _)| i);
        start + within
    }
}

/// The character an HCL escape `\e` stands for (other escapes stand for themselves).
fn unescape(e: char) -> char {
    match e {
        'n' => '\n',
        't' => '\t',
        'r' => '\r',
        other => other,
    }
}

/// Deepest JSON nesting accepted inside a string (spec §10).
pub(crate) const MAX_JSON_DEPTH: usize = 256;

/// JSON in `text` as [`Value`]s whose spans are file ranges. A string value's span runs
/// from its opening quote to its closing quote as written (`\"…\"` inside an HCL
/// string). `Err` holds the message and the file offset of the problem.
pub(crate) fn json(text: &Embedded) -> Result<Value<'_>, (String, u32)> {
    let mut p = Json {
        s: text.text.as_bytes(),
        i: 0,
        text,
    };
    p.ws();
    let v = p.value(0)?;
    p.ws();
    if p.i < p.s.len() {
        return Err(p.err("unexpected text after the JSON value"));
    }
    Ok(v)
}

struct Json<'a> {
    s: &'a [u8],
    i: usize,
    text: &'a Embedded,
}

impl<'a> Json<'a> {
    fn err(&self, m: &str) -> (String, u32) {
        (m.to_string(), self.text.offset(self.i))
    }

    fn ws(&mut self) {
        while self.i < self.s.len() && matches!(self.s[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value<'a>, (String, u32)> {
        if depth > MAX_JSON_DEPTH {
            return Err(self.err("JSON nested deeper than 256 levels"));
        }
        let start = self.i;
        let kind = match self.s.get(self.i) {
            Some(b'{') => {
                self.i += 1;
                let mut members = Vec::new();
                self.ws();
                if self.s.get(self.i) == Some(&b'}') {
                    self.i += 1;
                } else {
                    loop {
                        self.ws();
                        let kstart = self.i;
                        let name = self.string()?;
                        let key = Key {
                            name,
                            span: self.text.range(kstart, self.i),
                        };
                        self.ws();
                        if self.s.get(self.i) != Some(&b':') {
                            return Err(self.err("expected `:` in a JSON object"));
                        }
                        self.i += 1;
                        self.ws();
                        members.push((key, self.value(depth + 1)?));
                        self.ws();
                        match self.s.get(self.i) {
                            Some(b',') => self.i += 1,
                            Some(b'}') => {
                                self.i += 1;
                                break;
                            }
                            _ => return Err(self.err("expected `,` or `}` in a JSON object")),
                        }
                    }
                }
                Kind::Object(members)
            }
            Some(b'[') => {
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if self.s.get(self.i) == Some(&b']') {
                    self.i += 1;
                } else {
                    loop {
                        self.ws();
                        items.push(self.value(depth + 1)?);
                        self.ws();
                        match self.s.get(self.i) {
                            Some(b',') => self.i += 1,
                            Some(b']') => {
                                self.i += 1;
                                break;
                            }
                            _ => return Err(self.err("expected `,` or `]` in a JSON array")),
                        }
                    }
                }
                Kind::Array(items)
            }
            Some(b'"') => Kind::Str(self.string()?),
            Some(b't') if self.s[self.i..].starts_with(b"true") => {
                self.i += 4;
                Kind::Bool(true)
            }
            Some(b'f') if self.s[self.i..].starts_with(b"false") => {
                self.i += 5;
                Kind::Bool(false)
            }
            Some(b'n') if self.s[self.i..].starts_with(b"null") => {
                self.i += 4;
                Kind::Null
            }
            Some(c) if c.is_ascii_digit() || *c == b'-' => {
                while self.i < self.s.len()
                    && matches!(
                        self.s[self.i],
                        b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'
                    )
                {
                    self.i += 1;
                }
                Kind::Number(String::from_utf8_lossy(&self.s[start..self.i]).into_owned())
            }
            _ => return Err(self.err("expected a JSON value")),
        };
        Ok(Value {
            span: self.text.range(start, self.i),
            kind,
        })
    }

    fn string(&mut self) -> Result<Cow<'a, str>, (String, u32)> {
        if self.s.get(self.i) != Some(&b'"') {
            return Err(self.err("expected a JSON string"));
        }
        self.i += 1;
        // Without escapes (the common case) the string is the text up to its quote.
        let rest = &self.s[self.i..];
        if let Some(n) = rest.iter().position(|&b| b == b'"' || b == b'\\') {
            if rest[n] == b'"' {
                let start = self.i;
                self.i += n + 1;
                // Both ends are at ASCII bytes, so on character boundaries.
                return Ok(Cow::Borrowed(&self.text.text[start..start + n]));
            }
        }
        let mut out = Vec::new();
        loop {
            match self.s.get(self.i) {
                None => return Err(self.err("unterminated JSON string")),
                Some(b'"') => {
                    self.i += 1;
                    break;
                }
                Some(b'\\') => {
                    let e = self.s.get(self.i + 1).copied();
                    self.i += 2;
                    match e {
                        Some(b'n') => out.push(b'\n'),
                        Some(b't') => out.push(b'\t'),
                        Some(b'r') => out.push(b'\r'),
                        Some(b'b') => out.push(8),
                        Some(b'f') => out.push(12),
                        Some(b'u') => {
                            let hex = self.s.get(self.i..self.i + 4).unwrap_or(b"");
                            let c = std::str::from_utf8(hex)
                                .ok()
                                .and_then(|h| u32::from_str_radix(h, 16).ok())
                                .and_then(char::from_u32)
                                .unwrap_or('\u{fffd}');
                            self.i += hex.len();
                            let mut buf = [0u8; 4];
                            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                        }
                        Some(c) => out.push(c),
                        None => return Err(self.err("unterminated JSON string")),
                    }
                }
                Some(&c) => {
                    out.push(c);
                    self.i += 1;
                }
            }
        }
        Ok(Cow::Owned(String::from_utf8(out).unwrap_or_else(|e| {
            String::from_utf8_lossy(e.as_bytes()).into_owned()
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaped_json_tokens_span_from_backslash_quote_to_backslash_quote() {
        let file = r#"s = "{\"email\":{\"@path\":\"$.properties.email\"}}""#;
        let start = file.find('"').unwrap() as u32;
        let e = Embedded::hcl_string(file, (start, file.len() as u32)).unwrap();
        assert_eq!(e.text, r#"{"email":{"@path":"$.properties.email"}}"#);
        let v = json(&e).unwrap();
        let path = v.member("email").unwrap().member("@path").unwrap();
        assert_eq!(path.as_str(), Some("$.properties.email"));
        let (a, b) = path.span;
        assert_eq!(&file[a as usize..b as usize], r#"\"$.properties.email\""#);
        let Kind::Object(m) = &v.kind else { panic!() };
        let (a, b) = m[0].0.span;
        assert_eq!(&file[a as usize..b as usize], r#"\"email\""#);
    }

    /// The offsets of every byte as the per-byte table worked them out.
    fn per_byte(inner: &str, base: u32, end: u32) -> Vec<u32> {
        let mut at = Vec::new();
        let mut chars = inner.char_indices();
        while let Some((i, c)) = chars.next() {
            let decoded = match c {
                '\\' => match chars.next() {
                    Some((_, 'n')) => '\n',
                    Some((_, e)) => e,
                    None => '\\',
                },
                c => c,
            };
            at.extend(std::iter::repeat_n(base + i as u32, decoded.len_utf8()));
        }
        at.push(end);
        at
    }

    #[test]
    fn hcl_strings_give_the_offset_of_every_byte() {
        for inner in [
            "",
            "a",
            "abc",
            r#"\"a\""#,
            r#"\\\n\n"#,
            "é",
            "aé",
            "éa",
            "a\\é\\\"b",
            r#"{\"k\":\"v é\"}x"#,
            "ééé",
            "\\",
        ] {
            let file = format!("x = \"{inner}\"");
            let span = (4, file.len() as u32);
            let e = Embedded::hcl_string(&file, span).unwrap();
            let want = per_byte(inner, 5, span.1 - 1);
            assert_eq!(want.len(), e.text.len() + 1, "{inner}");
            for (i, w) in want.iter().enumerate() {
                assert_eq!(e.offset(i), *w, "{inner:?} byte {i}");
            }
            assert_eq!(e.offset(want.len() + 3), *want.last().unwrap());
        }
        let v = Embedded::verbatim("abc", 7);
        assert_eq!(
            (0..6).map(|i| v.offset(i)).collect::<Vec<_>>(),
            [7, 8, 9, 10, 10, 10]
        );
        let l = Embedded::from_lines("ab\ncd\n", &[3, 10]);
        let got: Vec<u32> = (0..7).map(|i| l.offset(i)).collect();
        assert_eq!(got, [3, 4, 5, 10, 11, 12, 13]);
    }

    #[test]
    fn bad_and_deep_json_are_errors() {
        let e = Embedded::verbatim("{\"a\": [1, }", 10);
        assert!(json(&e).is_err());
        let deep = format!("{}1{}", "[".repeat(300), "]".repeat(300));
        let e = Embedded::verbatim(&deep, 0);
        assert!(json(&e).unwrap_err().0.contains("256"));
    }

    #[test]
    fn line_columns_of_lines_text() {
        let file = "x\n    SELECT a,\n      b FROM t\n";
        let e = Embedded::from_lines("SELECT a,\n  b FROM t\n", &[6, 20]);
        let i = e.line_col(2, 3);
        assert_eq!(&e.text[i..i + 1], "b");
        assert_eq!(&file[e.offset(i) as usize..][..1], "b");
    }
}
