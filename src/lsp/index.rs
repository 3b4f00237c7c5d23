//! What sits at a position of a manifest: declarations and references, read from the YAML
//! of one file and resolved against the model of the last run.

use crate::expr;
use crate::model::{DatasetId, FieldId, Model, Named};
use crate::source::{SourceFile, Span};
use crate::taxonomy::Tree;
use crate::yaml::{self, Node, Value};

#[derive(Debug, Clone, PartialEq)]
pub enum Symbol {
    /// A dataset or sink name: its declaration, a `from` item or a `to` value.
    Name(String),
    /// A field declaration.
    Field { dataset: String, field: String },
    /// A column reference in an expression of a step reading `from`.
    Column { name: String, from: Vec<String> },
    /// An output field of a step writing to `to`.
    Output { to: String, field: String },
    /// A purpose, use or category key.
    Key(Tree, String),
}

#[derive(Debug, Clone)]
pub struct Item {
    /// Byte range in the file.
    pub start: u32,
    pub end: u32,
    pub symbol: Symbol,
    /// True for declarations (dataset, sink, field names).
    pub declaration: bool,
}

fn scalar(n: &Node) -> Option<&str> {
    n.as_str()
}

fn items_of(n: &Node) -> Vec<&Node> {
    match &n.value {
        Value::Seq(items) => items.iter().collect(),
        Value::Scalar { .. } => vec![n],
        _ => Vec::new(),
    }
}

/// Byte offset in the file where the text of a scalar starts, if the file holds it verbatim.
fn verbatim_start(file: &SourceFile, n: &Node, text: &str) -> Option<u32> {
    let (s, e) = (n.span.start as usize, n.span.end as usize);
    let raw = file.text.get(s..e)?;
    if raw == text {
        return Some(n.span.start);
    }
    let inner = raw.get(1..raw.len().saturating_sub(1))?;
    (inner == text).then_some(n.span.start + 1)
}

struct Walker<'a> {
    file: &'a SourceFile,
    out: Vec<Item>,
}

impl Walker<'_> {
    fn push(&mut self, span: Span, symbol: Symbol, declaration: bool) {
        self.out.push(Item {
            start: span.start,
            end: span.end,
            symbol,
            declaration,
        });
    }

    fn keys(&mut self, n: Option<&Node>, tree: Tree) {
        for k in n.map(items_of).unwrap_or_default() {
            if let Some(s) = scalar(k) {
                self.push(k.span, Symbol::Key(tree, s.to_string()), false);
            }
        }
    }

    fn taxonomy(&mut self, n: &Node) {
        self.keys(n.get("purposes"), Tree::DataUse);
        self.keys(n.get("uses"), Tree::DataUse);
        self.keys(n.get("categories"), Tree::DataCategory);
    }

    fn expression(&mut self, n: &Node, from: &[String]) {
        let Some(text) = scalar(n) else { return };
        let Ok(refs) = expr::column_refs(text) else {
            return;
        };
        let base = verbatim_start(self.file, n, text);
        for r in refs {
            let (start, end) = match base {
                Some(b) => (b + r.range.0, b + r.range.1),
                None => (n.span.start, n.span.end),
            };
            self.out.push(Item {
                start,
                end,
                symbol: Symbol::Column {
                    name: r.name,
                    from: from.to_vec(),
                },
                declaration: false,
            });
        }
    }

    fn document(&mut self, doc: &Node) {
        let kind = doc.get("kind").and_then(scalar);
        match kind {
            Some("dataset") => {
                let name = doc.get("name").and_then(|n| Some((n, scalar(n)?)));
                if let Some((n, s)) = name {
                    self.push(n.span, Symbol::Name(s.to_string()), true);
                }
                self.taxonomy(doc);
                let ds = name.map(|(_, s)| s.to_string()).unwrap_or_default();
                for f in doc.get("fields").map(items_of).unwrap_or_default() {
                    if let Some(n) = f.get("name") {
                        if let Some(s) = scalar(n) {
                            let sym = Symbol::Field {
                                dataset: ds.clone(),
                                field: s.to_string(),
                            };
                            self.push(n.span, sym, true);
                        }
                    }
                    self.taxonomy(f);
                }
            }
            Some("sink") => {
                if let Some(n) = doc.get("name") {
                    if let Some(s) = scalar(n) {
                        self.push(n.span, Symbol::Name(s.to_string()), true);
                    }
                }
                self.taxonomy(doc);
            }
            Some("pipeline") => {
                for step in doc.get("steps").map(items_of).unwrap_or_default() {
                    self.step(step);
                }
            }
            _ => {}
        }
    }

    fn step(&mut self, step: &Node) {
        let mut from = Vec::new();
        for n in step.get("from").map(items_of).unwrap_or_default() {
            if let Some(s) = scalar(n) {
                from.push(s.to_string());
                self.push(n.span, Symbol::Name(s.to_string()), false);
            }
        }
        let to = step.get("to").and_then(|n| Some((n, scalar(n)?)));
        if let Some((n, s)) = to {
            self.push(n.span, Symbol::Name(s.to_string()), false);
        }
        for key in ["join", "where"] {
            if let Some(n) = step.get(key) {
                self.expression(n, &from);
            }
        }
        for n in step.get("group_by").map(items_of).unwrap_or_default() {
            self.expression(n, &from);
        }
        if let Some(fields) = step.get("fields").and_then(Node::as_map) {
            for (k, v) in fields {
                if let (Some(field), Some((_, to))) = (scalar(k), to) {
                    let sym = Symbol::Output {
                        to: to.to_string(),
                        field: field.to_string(),
                    };
                    self.push(k.span, sym, false);
                }
                self.expression(v, &from);
            }
        }
    }
}

/// Every declaration and reference in a file (empty when it is not valid YAML).
pub fn items(file: &SourceFile) -> Vec<Item> {
    let Ok(docs) = yaml::parse(file) else {
        return Vec::new();
    };
    let mut w = Walker {
        file,
        out: Vec::new(),
    };
    for d in &docs {
        w.document(d);
    }
    w.out
}

/// The innermost item at a byte offset (an offset just after an item counts).
pub fn at(file: &SourceFile, offset: u32) -> Option<Item> {
    items(file)
        .into_iter()
        .filter(|i| i.start <= offset && offset <= i.end)
        .min_by_key(|i| i.end - i.start)
}

/// What a symbol resolves to in the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Named(Named),
    Field(FieldId),
}

pub fn field_of(model: &Model, dataset: &str, field: &str) -> Option<FieldId> {
    model.field_in(model.dataset_id(dataset)?, field)
}

/// `dataset.field` by the longest dataset prefix, or a bare field of exactly one `from`.
pub fn resolve_column(model: &Model, from: &[String], name: &str) -> Option<FieldId> {
    if !name.contains('.') {
        let owners: Vec<FieldId> = from
            .iter()
            .filter_map(|d| field_of(model, d, name))
            .collect();
        return match owners.as_slice() {
            [f] => Some(*f),
            _ => None,
        };
    }
    name.char_indices()
        .filter(|&(_, c)| c == '.')
        .rev()
        .find_map(|(i, _)| {
            let d: DatasetId = model.dataset_id(&name[..i])?;
            Some(model.field_in(d, &name[i + 1..]))
        })
        .flatten()
}

pub fn resolve(model: &Model, symbol: &Symbol) -> Option<Target> {
    match symbol {
        Symbol::Name(n) => model.lookup(n).map(Target::Named),
        Symbol::Field { dataset, field } => field_of(model, dataset, field).map(Target::Field),
        Symbol::Column { name, from } => resolve_column(model, from, name).map(Target::Field),
        Symbol::Output { to, field } => field_of(model, to, field).map(Target::Field),
        Symbol::Key(..) => None,
    }
}
