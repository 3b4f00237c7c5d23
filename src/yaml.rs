//! The YAML documents of one file, parsed once into a flat tape that every format reads.
//!
//! saphyr-parser's events are written in document order into one vector of fixed-size
//! items, each with its source span. A sequence or mapping records where its subtree ends
//! and how many children it has, so a reader walks children by skipping subtrees; no
//! node is boxed and nothing is built per key or value but one item. Scalar texts are
//! copied into one string per file. An alias is an item pointing at its anchor's node, so
//! it reads as that node (with that node's spans), as if it had been copied.
//!
//! Built with an explicit stack, so hostile input cannot overflow the call stack: nesting
//! depth and alias expansion are both bounded.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, Span as YamlSpan};

use crate::source::{SourceFile, Span};

/// Deepest nesting accepted; real manifests need fewer than ten levels.
pub const MAX_DEPTH: usize = 256;
/// Most nodes that aliases may copy in one file (defuses "billion laughs").
pub const MAX_ALIAS_NODES: usize = 100_000;

/// Why a file is not valid YAML, and where.
#[derive(Debug, Clone, PartialEq)]
pub struct YamlError {
    pub message: String,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `~`, `null` or an empty plain scalar.
    Null,
    /// Any other scalar; `a..a + b` in the file's text arena.
    Plain,
    /// A quoted or block scalar, likewise.
    Quoted,
    /// `a` is the index past the subtree, `b` the number of items.
    Seq,
    /// `a` is the index past the subtree, `b` the number of entries (key and value).
    Map,
    /// `a` is the anchored node's index.
    Alias,
}

#[derive(Debug, Clone, Copy)]
struct Item {
    span: Span,
    kind: Kind,
    a: u32,
    b: u32,
}

/// Every document of one file.
#[derive(Debug, Clone, Default)]
pub struct Yaml {
    items: Vec<Item>,
    text: String,
    roots: Vec<u32>,
}

/// One node of a [`Yaml`]: a cheap handle, never an alias (aliases read as their node).
#[derive(Clone, Copy)]
pub struct Node<'y> {
    yaml: &'y Yaml,
    at: u32,
}

impl std::fmt::Debug for Node<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(text) = self.as_str() {
            return write!(f, "{text:?}@{}", self.span().start);
        }
        match (self.items(), self.entries()) {
            (Some(items), _) => f.debug_list().entries(items).finish(),
            (_, Some(entries)) => f.debug_map().entries(entries).finish(),
            _ => write!(f, "null@{}", self.span().start),
        }
    }
}

impl Yaml {
    /// The documents, in file order.
    pub fn documents(&self) -> impl ExactSizeIterator<Item = Node<'_>> + '_ {
        self.roots.iter().map(move |&at| self.node(at))
    }

    pub fn first(&self) -> Option<Node<'_>> {
        self.documents().next()
    }

    fn node(&self, at: u32) -> Node<'_> {
        let item = &self.items[at as usize];
        let at = if item.kind == Kind::Alias { item.a } else { at };
        Node { yaml: self, at }
    }

    /// The index after the item at `at` and its subtree.
    fn after(&self, at: u32) -> u32 {
        let item = &self.items[at as usize];
        match item.kind {
            Kind::Seq | Kind::Map => item.a,
            _ => at + 1,
        }
    }
}

impl<'y> Node<'y> {
    /// Where this node is on its tape: a handle of four bytes for [`Node::on_tape`].
    pub(crate) fn index(&self) -> u32 {
        self.at
    }

    /// The node at `index` (from [`Node::index`]) of this node's tape.
    pub(crate) fn on_tape(&self, index: u32) -> Node<'y> {
        Node {
            yaml: self.yaml,
            at: index,
        }
    }

    fn item(&self) -> &'y Item {
        &self.yaml.items[self.at as usize]
    }

    pub fn span(&self) -> Span {
        self.item().span
    }

    pub fn is_null(&self) -> bool {
        self.item().kind == Kind::Null
    }

    /// A scalar's text (not for null), and whether it was written plain.
    pub fn scalar(&self) -> Option<(&'y str, bool)> {
        let item = self.item();
        let plain = match item.kind {
            Kind::Plain => true,
            Kind::Quoted => false,
            _ => return None,
        };
        let (from, len) = (item.a as usize, item.b as usize);
        Some((&self.yaml.text[from..from + len], plain))
    }

    pub fn as_str(&self) -> Option<&'y str> {
        self.scalar().map(|(text, _)| text)
    }

    /// The items of a sequence.
    pub fn items(&self) -> Option<Children<'y>> {
        (self.item().kind == Kind::Seq).then(|| self.children())
    }

    /// The entries of a mapping, as (key, value).
    pub fn entries(&self) -> Option<Entries<'y>> {
        (self.item().kind == Kind::Map).then(|| Entries(self.children()))
    }

    fn children(&self) -> Children<'y> {
        let item = self.item();
        let count = if item.kind == Kind::Map {
            2 * item.b
        } else {
            item.b
        };
        Children {
            yaml: self.yaml,
            next: self.at + 1,
            left: count,
        }
    }

    /// Value of a scalar key in a mapping (the first one, if duplicated).
    pub fn get(&self, key: &str) -> Option<Node<'y>> {
        self.entries()?
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v)
    }

    pub fn kind_name(&self) -> &'static str {
        match self.item().kind {
            Kind::Null => "null",
            Kind::Plain | Kind::Quoted => "a scalar",
            Kind::Seq => "a list",
            _ => "a mapping",
        }
    }
}

/// The children of a sequence (or the keys and values of a mapping, alternating).
#[derive(Clone)]
pub struct Children<'y> {
    yaml: &'y Yaml,
    next: u32,
    left: u32,
}

impl<'y> Iterator for Children<'y> {
    type Item = Node<'y>;

    fn next(&mut self) -> Option<Node<'y>> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let at = self.next;
        self.next = self.yaml.after(at);
        Some(self.yaml.node(at))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left as usize, Some(self.left as usize))
    }
}

impl ExactSizeIterator for Children<'_> {}

/// The entries of a mapping.
#[derive(Clone)]
pub struct Entries<'y>(Children<'y>);

impl<'y> Iterator for Entries<'y> {
    type Item = (Node<'y>, Node<'y>);

    fn next(&mut self) -> Option<Self::Item> {
        Some((self.0.next()?, self.0.next()?))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.0.left as usize / 2;
        (n, Some(n))
    }
}

impl ExactSizeIterator for Entries<'_> {}

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

/// An open sequence or mapping.
struct Frame {
    /// Its item, whose end and count are written when it closes.
    at: u32,
    children: u32,
    /// Nodes in its subtree with aliases expanded, for the alias limit.
    expanded: usize,
    anchor: usize,
}

/// The tape being written.
struct Builder {
    yaml: Yaml,
    stack: Vec<Frame>,
    /// Anchor id → the node and its size with aliases expanded.
    anchors: HashMap<usize, (u32, usize)>,
    alias_nodes: usize,
    root: Option<u32>,
}

impl Builder {
    fn push(&mut self, span: Span, kind: Kind, a: u32, b: u32) -> u32 {
        let at = self.yaml.items.len() as u32;
        self.yaml.items.push(Item { span, kind, a, b });
        at
    }

    /// A finished node at `at` of `expanded` nodes joins its parent, or is the root.
    fn finished(&mut self, at: u32, expanded: usize) {
        match self.stack.last_mut() {
            Some(parent) => {
                parent.children += 1;
                parent.expanded += expanded;
            }
            None => self.root = Some(at),
        }
    }
}

fn syntax_error(file: &SourceFile, e: saphyr_parser::ScanError) -> YamlError {
    let m = e.marker();
    let at = file.span(
        (m.line() as u32, m.col() as u32),
        (m.line() as u32, m.col() as u32 + 1),
    );
    YamlError {
        message: e.info().to_string(),
        span: at,
    }
}

/// Parses every document of a file.
pub fn parse(file: &SourceFile) -> Result<Yaml, YamlError> {
    let mut b = Builder {
        yaml: Yaml {
            // Sized once: growing copies the tape. Manifests hold an event per 8 to 15
            // bytes, and their scalars' text is about four fifths of the file's.
            items: Vec::with_capacity(file.text.len() / 8 + 4),
            text: String::with_capacity(file.text.len()),
            roots: Vec::new(),
        },
        stack: Vec::new(),
        anchors: HashMap::new(),
        alias_nodes: 0,
        root: None,
    };
    for event in Parser::new_from_str(&file.text) {
        let (event, yspan) = event.map_err(|e| syntax_error(file, e))?;
        let span = to_span(file, &yspan);
        match event {
            Event::StreamStart | Event::StreamEnd | Event::Nothing => {}
            Event::DocumentStart(_) => b.root = None,
            Event::DocumentEnd => {
                let root = match b.root.take() {
                    Some(at) => at,
                    None => b.push(span, Kind::Null, 0, 0),
                };
                b.yaml.roots.push(root);
            }
            Event::Scalar(text, style, anchor, _tag) => {
                let plain = style == ScalarStyle::Plain;
                let at = if plain && is_null_text(&text) {
                    b.push(span, Kind::Null, 0, 0)
                } else {
                    let from = b.yaml.text.len() as u32;
                    b.yaml.text.push_str(&text);
                    let kind = if plain { Kind::Plain } else { Kind::Quoted };
                    b.push(span, kind, from, text.len() as u32)
                };
                if anchor > 0 {
                    b.anchors.insert(anchor, (at, 1));
                }
                b.finished(at, 1);
            }
            Event::Alias(id) => {
                let Some(&(target, size)) = b.anchors.get(&id) else {
                    return Err(YamlError {
                        message: "alias refers to an unknown anchor".into(),
                        span,
                    });
                };
                b.alias_nodes += size;
                if b.alias_nodes > MAX_ALIAS_NODES {
                    return Err(YamlError {
                        message: format!(
                            "aliases expand to more than {MAX_ALIAS_NODES} nodes (an alias bomb?)"
                        ),
                        span,
                    });
                }
                let at = b.push(span, Kind::Alias, target, 0);
                b.finished(at, size);
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                if b.stack.len() >= MAX_DEPTH {
                    return Err(YamlError {
                        message: format!("nesting is deeper than {MAX_DEPTH} levels"),
                        span,
                    });
                }
                let kind = if matches!(event, Event::MappingStart(..)) {
                    Kind::Map
                } else {
                    Kind::Seq
                };
                let at = b.push(span, kind, 0, 0);
                b.stack.push(Frame {
                    at,
                    children: 0,
                    expanded: 1,
                    anchor,
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(frame) = b.stack.pop() else {
                    continue;
                };
                let end = b.yaml.items.len() as u32;
                let item = &mut b.yaml.items[frame.at as usize];
                item.a = end;
                item.b = if item.kind == Kind::Map {
                    frame.children / 2
                } else {
                    frame.children
                };
                item.span = join(item.span, span);
                if frame.anchor > 0 {
                    b.anchors.insert(frame.anchor, (frame.at, frame.expanded));
                }
                b.finished(frame.at, frame.expanded);
            }
        }
    }
    Ok(b.yaml)
}

#[cfg(test)]
mod tests;
