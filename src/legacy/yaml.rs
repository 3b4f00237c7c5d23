//! The reader before the tape (kept until the equivalence test has passed): YAML documents as trees whose every key and value keeps its source span.
//!
//! Built from saphyr-parser events with an explicit stack, so hostile input cannot
//! overflow the call stack: nesting depth and alias expansion are both bounded.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle};

use crate::source::{SourceFile, Span};

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

/// An open sequence or mapping. Its finished children wait on one stack shared by all
/// frames, from `base` up, and move into a vector of exactly their number when it ends:
/// no per-container growth and copying.
struct Frame {
    map: bool,
    base: usize,
    start: Span,
    anchor: usize,
}

use crate::yaml::{is_null_text, join, to_span, YamlError, MAX_ALIAS_NODES, MAX_DEPTH};

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
