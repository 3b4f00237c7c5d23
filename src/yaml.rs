//! YAML documents as trees whose every key and value keeps its source span.
//!
//! Built from saphyr-parser events with an explicit stack, so hostile input cannot
//! overflow the call stack: nesting depth and alias expansion are both bounded.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, Span as YamlSpan};

use crate::source::{SourceFile, Span};

/// Deepest nesting accepted; real manifests need fewer than ten levels.
pub const MAX_DEPTH: usize = 256;
/// Most nodes that aliases may copy in one file (defuses "billion laughs").
pub const MAX_ALIAS_NODES: usize = 100_000;

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `~`, `null` or an empty plain scalar.
    Null,
    /// Any other scalar, as text. `plain` is false for quoted and block scalars.
    Scalar {
        text: String,
        plain: bool,
    },
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub span: Span,
}

impl Node {
    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    /// Value of a scalar key in a mapping (the first one, if duplicated).
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v)
    }

    pub fn kind_name(&self) -> &'static str {
        match &self.value {
            Value::Null => "null",
            Value::Scalar { .. } => "a scalar",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }

    fn count(&self) -> usize {
        1 + match &self.value {
            Value::Seq(items) => items.iter().map(Node::count).sum(),
            Value::Map(entries) => entries.iter().map(|(k, v)| k.count() + v.count()).sum(),
            _ => 0,
        }
    }
}

/// Why a file is not valid YAML, and where.
#[derive(Debug, Clone, PartialEq)]
pub struct YamlError {
    pub message: String,
    pub span: Span,
}

/// An open sequence or mapping. Its finished children wait on one stack shared by all
/// frames, from `base` up, and move into a vector of exactly their number when it ends:
/// no per-container growth and copying.
struct Frame {
    map: bool,
    base: usize,
    start: Span,
    anchor: usize,
}

pub(crate) fn to_span(file: &SourceFile, s: &YamlSpan) -> Span {
    let at = |m: &saphyr_parser::Marker| (m.index() as u32, m.line() as u32, m.col() as u32);
    file.span_indexed(at(&s.start), at(&s.end))
}

/// From the start of `a` to the end of whichever of `a` and `b` ends later.
pub(crate) fn join(a: Span, b: Span) -> Span {
    let last = if b.end >= a.end { b } else { a };
    Span {
        end: last.end,
        end_pos: last.end_pos,
        ..a
    }
}

/// The text of a plain scalar that reads as null.
pub(crate) fn is_null_text(text: &str) -> bool {
    matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

/// Parses every document of a file.
pub fn parse(file: &SourceFile) -> Result<Vec<Node>, YamlError> {
    let mut docs = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut pending: Vec<Node> = Vec::new();
    let mut anchors: HashMap<usize, (Node, usize)> = HashMap::new();
    let mut alias_nodes = 0usize;
    let mut root: Option<Node> = None;

    for event in Parser::new_from_str(&file.text) {
        let (event, yspan) = event.map_err(|e| {
            let m = e.marker();
            let at = file.span(
                (m.line() as u32, m.col() as u32),
                (m.line() as u32, m.col() as u32 + 1),
            );
            YamlError {
                message: e.info().to_string(),
                span: at,
            }
        })?;
        let span = to_span(file, &yspan);
        let completed = match event {
            Event::StreamStart | Event::StreamEnd | Event::Nothing => None,
            Event::DocumentStart(_) => {
                root = None;
                None
            }
            Event::DocumentEnd => {
                docs.push(root.take().unwrap_or(Node {
                    value: Value::Null,
                    span,
                }));
                None
            }
            Event::Scalar(text, style, anchor, _tag) => {
                let plain = style == ScalarStyle::Plain;
                let value = if plain && is_null_text(&text) {
                    Value::Null
                } else {
                    Value::Scalar {
                        text: text.into_owned(),
                        plain,
                    }
                };
                let node = Node { value, span };
                if anchor > 0 {
                    anchors.insert(anchor, (node.clone(), 1));
                }
                Some(node)
            }
            Event::Alias(id) => {
                let Some((node, size)) = anchors.get(&id) else {
                    return Err(YamlError {
                        message: "alias refers to an unknown anchor".into(),
                        span,
                    });
                };
                alias_nodes += size;
                if alias_nodes > MAX_ALIAS_NODES {
                    return Err(YamlError {
                        message: format!(
                            "aliases expand to more than {MAX_ALIAS_NODES} nodes (an alias bomb?)"
                        ),
                        span,
                    });
                }
                Some(node.clone())
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(YamlError {
                        message: format!("nesting is deeper than {MAX_DEPTH} levels"),
                        span,
                    });
                }
                stack.push(Frame {
                    map: matches!(event, Event::MappingStart(..)),
                    base: pending.len(),
                    start: span,
                    anchor,
                });
                None
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(frame) = stack.pop() else {
                    continue;
                };
                let mut children = pending.drain(frame.base..);
                let value = if frame.map {
                    let mut entries = Vec::with_capacity(children.len() / 2);
                    while let (Some(k), Some(v)) = (children.next(), children.next()) {
                        entries.push((k, v));
                    }
                    Value::Map(entries)
                } else {
                    Value::Seq(children.collect())
                };
                let node = Node {
                    value,
                    span: join(frame.start, span),
                };
                if frame.anchor > 0 {
                    let size = node.count();
                    anchors.insert(frame.anchor, (node.clone(), size));
                }
                Some(node)
            }
        };
        if let Some(node) = completed {
            if stack.is_empty() {
                root = Some(node);
            } else {
                pending.push(node);
            }
        }
    }
    Ok(docs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> SourceFile {
        SourceFile::new("t.yaml".into(), "t.yaml".into(), text)
    }

    fn slice(f: &SourceFile, s: Span) -> &str {
        &f.text[s.start as usize..s.end as usize]
    }

    #[test]
    fn spans_of_plain_quoted_and_flow_scalars() {
        let f = file("kind: sink\nname: \"x_aud\"\nuses: [a.b, c]\n");
        let docs = parse(&f).unwrap();
        let d = &docs[0];
        let name = d.get("name").unwrap();
        assert_eq!(name.as_str(), Some("x_aud"));
        assert_eq!(name.span.start_pos.line, 2);
        assert_eq!(name.span.start_pos.column, 7);
        let Value::Seq(items) = &d.get("uses").unwrap().value else {
            panic!()
        };
        assert_eq!(slice(&f, items[0].span), "a.b");
        assert_eq!(items[1].span.start_pos.column, 13);
        assert_eq!(slice(&f, d.get("kind").unwrap().span), "sink");
    }

    #[test]
    fn multibyte_text_in_block_scalar_keeps_later_spans_right() {
        let f = file("description: |\n  Zähler für Ñandú — ✓\n  ok\nname: données_ü\n");
        let d = &parse(&f).unwrap()[0];
        let name = d.get("name").unwrap();
        assert_eq!(slice(&f, name.span), "données_ü");
        assert_eq!(name.span.start_pos.line, 4);
        assert_eq!(name.span.start_pos.column, 7);
        assert_eq!(name.span.end_pos.column, 16);
    }

    #[test]
    fn multibyte_before_span_on_same_line() {
        let f = file("{ ü: 1, näme: wert }\n");
        let d = &parse(&f).unwrap()[0];
        let v = d.get("näme").unwrap();
        assert_eq!(slice(&f, v.span), "wert");
        assert_eq!(v.span.start_pos.column, 15);
    }

    #[test]
    fn crlf_and_multiple_documents() {
        let f = file("kind: sink\r\nname: a\r\n---\r\nkind: sink\r\nname: b\r\n");
        let docs = parse(&f).unwrap();
        assert_eq!(docs.len(), 2);
        let b = docs[1].get("name").unwrap();
        assert_eq!(slice(&f, b.span), "b");
        assert_eq!(b.span.start_pos.line, 5);
    }

    #[test]
    fn alias_bomb_is_rejected() {
        let mut y = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let p = i - 1;
            y.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let err = parse(&file(&y)).unwrap_err();
        assert!(err.message.contains("alias"), "{}", err.message);
    }

    #[test]
    fn deep_nesting_is_rejected_not_overflowed() {
        let y = format!("{}x{}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(parse(&file(&y)).is_err());
        let mut block = String::new();
        for i in 0..10_000 {
            block.push_str(&" ".repeat(i));
            block.push_str("k:\n");
        }
        assert!(parse(&file(&block)).is_err());
    }

    #[test]
    fn syntax_error_has_location() {
        let err = parse(&file("a: b\nc: [d\n")).unwrap_err();
        assert!(err.span.start_pos.line >= 2);
    }
}
