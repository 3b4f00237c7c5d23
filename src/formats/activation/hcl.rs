//! Terraform files as a small tree with byte spans: the top-level `resource`,
//! `variable`, `locals` and `import` blocks, their attributes and nested blocks, and
//! values as written (literals, references, `jsonencode(...)`, heredocs). Nothing is
//! evaluated.
//!
//! Parsed with `hcl-edit`, which keeps the span of every attribute, block label and
//! expression (`hcl-rs` drops them) and bounds nesting at 64 levels. The tree borrows
//! its names and strings from hcl-edit's body while the file is read
//! ([`read_file`]); what outlives the body is made owned ([`TfFile::into_owned`]).

use std::borrow::Cow;

use hcl_edit::expr::{Expression, ObjectKey, TraversalOperator};
use hcl_edit::structure::{BlockLabel, Body as HclBody, Structure};
use hcl_edit::template::Element;
use hcl_edit::Span as _;

/// A byte range in the file.
pub(crate) type Range = (u32, u32);

fn range(r: Option<std::ops::Range<usize>>) -> Range {
    r.map_or((0, 0), |r| (r.start as u32, r.end as u32))
}

/// A name or string of the tree: borrowed from the parsed body, or owned.
pub(crate) type Text<'a> = Cow<'a, str>;

/// One `.tf` file.
#[derive(Debug, Default, Clone)]
pub(crate) struct TfFile<'a> {
    /// The resources of ours (spec §3–§5).
    pub resources: Vec<Resource<'a>>,
    /// `variable "x" { default = … }`: the default, when there is one.
    pub variables: Vec<(Text<'a>, Option<Value<'a>>)>,
    /// Every `locals { x = … }` entry.
    pub locals: Vec<(Text<'a>, Value<'a>)>,
    pub imports: Vec<Import>,
    /// Resources of our providers whose types are not read (`rudderstack_retl_source_s3_table`):
    /// named, so that a reference to one is not taken for a missing resource.
    pub unread: Vec<(String, Range)>,
}

#[derive(Debug, Clone)]
pub(crate) struct Resource<'a> {
    pub rtype: Text<'a>,
    pub type_span: Range,
    pub name: Text<'a>,
    /// The name label, quotes included.
    pub name_span: Range,
    pub body: Body<'a>,
}

impl Resource<'_> {
    pub(crate) fn address(&self) -> String {
        dotted(&self.rtype, &self.name)
    }
}

/// The part of [`Kind::Traversal`] for the index `[e]`: a literal key or a reference,
/// resolved only when the traversal is.
fn index_part(text: &str, e: &Expression) -> Option<String> {
    match &read_value(text, e).kind {
        Kind::Str(k) => Some(string_index(k)),
        Kind::Number(n) => Some(format!("[{n}]")),
        Kind::Traversal(p) if !p.iter().any(|x| x.starts_with('[')) => {
            Some(format!("[{}]", p.join(".")))
        }
        _ => None,
    }
}

/// `["k"]`: an index part of a traversal by a string key, and the suffix of the address
/// of a `for_each` instance (`type.name["k"]`), as Terraform writes both.
pub(crate) fn string_index(key: &str) -> String {
    format!("[\"{key}\"]")
}

/// What an index part of a traversal holds: `Ok` a literal key (`["k"]` → `k`, `[0]` →
/// `0`), `Err` the reference it is computed from (`[each.key]` → `each.key`); `None`
/// when the part is a name.
pub(crate) fn index_key(part: &str) -> Option<Result<&str, &str>> {
    let inner = part.strip_prefix('[')?.strip_suffix(']')?;
    Some(
        match inner.strip_prefix('"').and_then(|k| k.strip_suffix('"')) {
            Some(k) => Ok(k),
            None if inner.bytes().all(|b| b.is_ascii_digit()) => Ok(inner),
            None => Err(inner),
        },
    )
}

/// A traversal as Terraform writes it: `a.b["k"].c`.
pub(crate) fn traversal_text(parts: &[Text<'_>]) -> String {
    let mut s = String::new();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 && !p.starts_with('[') {
            s.push('.');
        }
        s.push_str(p);
    }
    s
}

/// `a.b`, without the formatting machinery (every resource and reference is named so).
pub(crate) fn dotted(a: &str, b: &str) -> String {
    let mut s = String::with_capacity(a.len() + 1 + b.len());
    s.push_str(a);
    s.push('.');
    s.push_str(b);
    s
}

/// `import { to = <address>, id = "<id>" }`.
#[derive(Debug, Clone)]
pub(crate) struct Import {
    pub to: String,
    pub id: String,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Body<'a> {
    pub items: Vec<Item<'a>>,
}

#[derive(Debug, Clone)]
pub(crate) enum Item<'a> {
    Attr(Attr<'a>),
    Block(Block<'a>),
}

#[derive(Debug, Clone)]
pub(crate) struct Attr<'a> {
    pub key: Text<'a>,
    pub value: Value<'a>,
}

#[derive(Debug, Clone)]
pub(crate) struct Block<'a> {
    pub ident: Text<'a>,
    pub labels: Vec<(Text<'a>, Range)>,
    pub span: Range,
    pub body: Body<'a>,
}

#[derive(Debug, Clone)]
pub(crate) struct Value<'a> {
    pub span: Range,
    pub kind: Kind<'a>,
}

#[derive(Debug, Clone)]
pub(crate) enum Kind<'a> {
    Null,
    Bool(bool),
    Number(String),
    /// A string literal without interpolation; `span` covers its quotes.
    Str(Text<'a>),
    /// A string with `${…}` or `%{…}`.
    Template,
    /// A one-line string or a heredoc of literal text and `${…}` interpolations, nothing
    /// else: the text as written (no escapes; a `<<-` heredoc's indentation cut) and
    /// each interpolated value, at their spans.
    Interpolated(Vec<Part<'a>>),
    /// A heredoc without interpolation: its text after indentation is removed, and the
    /// byte offset in the file of each of its lines.
    Heredoc {
        text: String,
        lines: Vec<u32>,
    },
    Array(Vec<Value<'a>>),
    Object(Vec<(Key<'a>, Value<'a>)>),
    /// `a.b["k"].c`: names, and index parts written `["k"]`, `[0]` or `[each.key]`
    /// (see [`index_key`]); any other index operator, or a splat, ends it.
    Traversal(Vec<Text<'a>>),
    Call(Text<'a>, Vec<Value<'a>>),
    /// Conditionals, operators, `for` expressions, splats: never read literally.
    Other(&'static str),
}

/// A piece of an [`Kind::Interpolated`] string.
#[derive(Debug, Clone)]
pub(crate) enum Part<'a> {
    Text(Text<'a>, Range),
    /// `${value}`, the range covering `${` to `}`.
    Value(Value<'a>, Range),
}

#[derive(Debug, Clone)]
pub(crate) struct Key<'a> {
    pub name: Text<'a>,
    pub span: Range,
}

impl<'a> Body<'a> {
    pub(crate) fn attr(&self, key: &str) -> Option<&Value<'a>> {
        self.items.iter().find_map(|i| match i {
            Item::Attr(a) if a.key == key => Some(&a.value),
            _ => None,
        })
    }

    pub(crate) fn blocks<'b>(&'b self, ident: &'b str) -> impl Iterator<Item = &'b Block<'a>> + 'b {
        self.items.iter().filter_map(move |i| match i {
            Item::Block(b) if b.ident == ident => Some(b),
            _ => None,
        })
    }

    pub(crate) fn block(&self, ident: &str) -> Option<&Block<'a>> {
        self.items.iter().find_map(|i| match i {
            Item::Block(b) if b.ident == ident => Some(b),
            _ => None,
        })
    }
}

impl<'a> Value<'a> {
    pub(crate) fn as_str(&self) -> Option<&str> {
        match &self.kind {
            Kind::Str(s) => Some(s),
            _ => None,
        }
    }

    pub(crate) fn is_null(&self) -> bool {
        matches!(self.kind, Kind::Null)
    }

    /// Member `key` of an object value.
    pub(crate) fn member(&self, key: &str) -> Option<&Value<'a>> {
        match &self.kind {
            Kind::Object(m) => m.iter().find(|(k, _)| k.name == key).map(|(_, v)| v),
            _ => None,
        }
    }
}

/// Why a file is not valid HCL.
#[derive(Debug, Clone)]
pub(crate) struct SyntaxError {
    pub message: String,
    pub offset: u32,
}

/// Parses a whole file into hcl-edit's body, for [`read_file`]. A panic inside the
/// parser is turned into an error, so that no input can stop a run.
pub(crate) fn parse(text: &str) -> Result<HclBody, SyntaxError> {
    let parsed = std::panic::catch_unwind(|| hcl_edit::parser::parse_body(text));
    match parsed {
        Ok(Ok(b)) => Ok(b),
        Ok(Err(e)) => {
            let message = e.message().lines().next().unwrap_or("").to_string();
            let message = if message.is_empty() {
                "syntax error".to_string()
            } else {
                message
            };
            Err(SyntaxError {
                message,
                offset: e.location().offset() as u32,
            })
        }
        Err(_) => Err(SyntaxError {
            message: "the HCL parser failed on this file".into(),
            offset: 0,
        }),
    }
}

/// Our tree of a parsed file, borrowing from `body` and `text`.
pub(crate) fn read_file<'a>(text: &'a str, body: &'a HclBody) -> TfFile<'a> {
    let mut out = TfFile::default();
    for s in structures(body) {
        let Structure::Block(b) = s else { continue };
        let mut labels = b.labels.iter();
        let (first, second) = (labels.next(), labels.next());
        let more = labels.next().is_some();
        match (b.ident.as_str(), first, second, more) {
            // Other providers' resources are never read.
            ("resource", Some(t), Some(n), false) if super::terraform::is_ours(t.as_str()) => {
                out.resources.push(Resource {
                    rtype: Cow::Borrowed(t.as_str()),
                    type_span: label_span(t),
                    name: Cow::Borrowed(n.as_str()),
                    name_span: label_span(n),
                    body: read_body(text, &b.body),
                })
            }
            ("resource", Some(t), Some(n), false) if super::terraform::is_providers(t.as_str()) => {
                out.unread
                    .push((dotted(t.as_str(), n.as_str()), label_span(n)))
            }
            ("variable", Some(name), None, _) => {
                let default = structures(&b.body).find_map(|s| match s {
                    Structure::Attribute(a) if a.key.as_str() == "default" => {
                        Some(read_value(text, &a.value))
                    }
                    _ => None,
                });
                out.variables.push((Cow::Borrowed(name.as_str()), default));
            }
            ("locals", None, ..) => {
                for s in structures(&b.body) {
                    if let Structure::Attribute(a) = s {
                        out.locals
                            .push((Cow::Borrowed(a.key.as_str()), read_value(text, &a.value)));
                    }
                }
            }
            ("import", None, ..) => {
                let inner = read_body(text, &b.body);
                let to = inner.attr("to").and_then(|v| match &v.kind {
                    Kind::Traversal(parts) => Some(traversal_text(parts)),
                    _ => None,
                });
                let id = inner.attr("id").and_then(Value::as_str);
                if let (Some(to), Some(id)) = (to, id) {
                    out.imports.push(Import {
                        to,
                        id: id.to_string(),
                    });
                }
            }
            _ => {}
        }
    }
    out
}

fn label_span(l: &BlockLabel) -> Range {
    match l {
        BlockLabel::Ident(i) => range(i.span()),
        BlockLabel::String(s) => range(s.span()),
    }
}

/// The structures of `body` by index: hcl-edit's `iter` is a boxed iterator of unknown
/// length (one more allocation, and a vector grown as it goes).
fn structures(body: &HclBody) -> impl Iterator<Item = &Structure> {
    (0..body.len()).filter_map(|i| body.get(i))
}

fn read_body<'a>(text: &'a str, body: &'a HclBody) -> Body<'a> {
    let mut items = Vec::with_capacity(body.len());
    items.extend(structures(body).map(|s| {
        match s {
            Structure::Attribute(a) => Item::Attr(Attr {
                key: Cow::Borrowed(a.key.as_str()),
                value: read_value(text, &a.value),
            }),
            Structure::Block(b) => Item::Block(Block {
                ident: Cow::Borrowed(b.ident.as_str()),
                labels: b
                    .labels
                    .iter()
                    .map(|l| (Cow::Borrowed(l.as_str()), label_span(l)))
                    .collect(),
                span: range(b.span()),
                body: read_body(text, &b.body),
            }),
        }
    }));
    Body { items }
}

/// A template of literal text written without escapes and plain `${…}` interpolations.
fn interpolated<'a>(text: &'a str, t: &'a hcl_edit::template::StringTemplate) -> Option<Kind<'a>> {
    let mut parts = Vec::with_capacity(t.len());
    for i in 0..t.len() {
        match t.get(i)? {
            Element::Literal(l) => {
                let r = range(l.span());
                let raw = text.get(r.0 as usize..r.1 as usize)?;
                if raw != l.as_str() || raw.contains('\n') {
                    return None;
                }
                parts.push(Part::Text(Cow::Borrowed(raw), r));
            }
            Element::Interpolation(i) => parts.push(interpolation(text, i)?),
            Element::Directive(_) => return None,
        }
    }
    Some(Kind::Interpolated(parts))
}

/// The expression of a template that is one interpolation and nothing else.
fn only_interpolation(t: &hcl_edit::template::StringTemplate) -> Option<&Expression> {
    match (t.len(), t.get(0)) {
        (1, Some(Element::Interpolation(i))) => Some(&i.expr),
        _ => None,
    }
}

fn read_value<'a>(text: &'a str, e: &'a Expression) -> Value<'a> {
    let span = range(e.span());
    let kind = match e {
        Expression::Null(_) => Kind::Null,
        Expression::Bool(b) => Kind::Bool(*b.value()),
        Expression::Number(n) => Kind::Number(n.value().to_string()),
        Expression::String(s) => Kind::Str(Cow::Borrowed(s.value().as_str())),
        // `"${x.y.id}"` is `x.y.id` in Terraform (a template of one interpolation yields
        // its value unconverted): older configurations write references so.
        Expression::StringTemplate(t) => match only_interpolation(t) {
            Some(inner) => read_value(text, inner).kind,
            None => interpolated(text, t).unwrap_or(Kind::Template),
        },
        Expression::HeredocTemplate(h) => {
            let literal = h
                .template
                .iter()
                .all(|el| matches!(el, Element::Literal(_)));
            match (literal, h.template.span()) {
                (true, Some(r)) => heredoc(text, r.start, r.end),
                (false, Some(r)) => {
                    heredoc_interpolated(text, &h.template, r.start).unwrap_or(Kind::Template)
                }
                _ => Kind::Template,
            }
        }
        Expression::Array(a) => {
            let mut items = Vec::with_capacity(a.len());
            items.extend((0..a.len()).filter_map(|i| Some(read_value(text, a.get(i)?))));
            Kind::Array(items)
        }
        Expression::Object(o) => {
            let mut members = Vec::with_capacity(o.len());
            members.extend(o.iter().filter_map(|(k, v)| {
                let key = match k {
                    ObjectKey::Ident(i) => Key {
                        name: Cow::Borrowed(i.as_str()),
                        span: range(i.span()),
                    },
                    ObjectKey::Expression(Expression::String(s)) => Key {
                        name: Cow::Borrowed(s.value().as_str()),
                        span: range(s.span()),
                    },
                    ObjectKey::Expression(_) => return None,
                };
                Some((key, read_value(text, v.expr())))
            }));
            Kind::Object(members)
        }
        Expression::Parenthesis(p) => return read_value(text, p.inner()),
        Expression::Variable(v) => Kind::Traversal(vec![Cow::Borrowed(v.as_str())]),
        Expression::Traversal(t) => {
            let mut parts = Vec::with_capacity(1 + t.operators.len());
            if let Expression::Variable(v) = &t.expr {
                parts.push(Cow::Borrowed(v.as_str()));
                for op in t.operators.iter() {
                    match op.value() {
                        TraversalOperator::GetAttr(i) => parts.push(Cow::Borrowed(i.as_str())),
                        TraversalOperator::LegacyIndex(n) => {
                            parts.push(Cow::Owned(format!("[{}]", n.value())))
                        }
                        TraversalOperator::Index(e) => match index_part(text, e) {
                            Some(part) => parts.push(Cow::Owned(part)),
                            None => break,
                        },
                        _ => break,
                    }
                }
            }
            if parts.is_empty() {
                Kind::Other("an expression")
            } else {
                Kind::Traversal(parts)
            }
        }
        Expression::FuncCall(f) => {
            let mut args = Vec::with_capacity(f.args.len());
            args.extend((0..f.args.len()).filter_map(|i| Some(read_value(text, f.args.get(i)?))));
            Kind::Call(Cow::Borrowed(f.name.name.as_str()), args)
        }
        Expression::Conditional(_) => Kind::Other("a conditional"),
        Expression::ForExpr(_) => Kind::Other("a `for` expression"),
        Expression::UnaryOp(_) | Expression::BinaryOp(_) => Kind::Other("an operation"),
    };
    Value { span, kind }
}

fn owned(t: Text<'_>) -> Text<'static> {
    Cow::Owned(t.into_owned())
}

impl TfFile<'_> {
    /// The same file owning its strings, without its resources unless `resources`.
    pub(crate) fn into_owned(self, resources: bool) -> TfFile<'static> {
        let resources = if resources {
            self.resources
                .into_iter()
                .map(|r| Resource {
                    rtype: owned(r.rtype),
                    type_span: r.type_span,
                    name: owned(r.name),
                    name_span: r.name_span,
                    body: r.body.into_owned(),
                })
                .collect()
        } else {
            Vec::new()
        };
        TfFile {
            resources,
            variables: (self.variables.into_iter())
                .map(|(n, d)| (owned(n), d.map(Value::into_owned)))
                .collect(),
            locals: (self.locals.into_iter())
                .map(|(n, v)| (owned(n), v.into_owned()))
                .collect(),
            imports: self.imports,
            unread: self.unread,
        }
    }
}

impl Body<'_> {
    fn into_owned(self) -> Body<'static> {
        let items = (self.items.into_iter())
            .map(|i| match i {
                Item::Attr(a) => Item::Attr(Attr {
                    key: owned(a.key),
                    value: a.value.into_owned(),
                }),
                Item::Block(b) => Item::Block(Block {
                    ident: owned(b.ident),
                    labels: b.labels.into_iter().map(|(l, r)| (owned(l), r)).collect(),
                    span: b.span,
                    body: b.body.into_owned(),
                }),
            })
            .collect();
        Body { items }
    }
}

impl Value<'_> {
    pub(crate) fn into_owned(self) -> Value<'static> {
        let kind = match self.kind {
            Kind::Null => Kind::Null,
            Kind::Bool(b) => Kind::Bool(b),
            Kind::Number(n) => Kind::Number(n),
            Kind::Str(s) => Kind::Str(owned(s)),
            Kind::Template => Kind::Template,
            Kind::Interpolated(parts) => Kind::Interpolated(
                (parts.into_iter())
                    .map(|p| match p {
                        Part::Text(t, r) => Part::Text(owned(t), r),
                        Part::Value(v, r) => Part::Value(v.into_owned(), r),
                    })
                    .collect(),
            ),
            Kind::Heredoc { text, lines } => Kind::Heredoc { text, lines },
            Kind::Array(items) => Kind::Array(items.into_iter().map(Value::into_owned).collect()),
            Kind::Object(members) => Kind::Object(
                (members.into_iter())
                    .map(|(k, v)| {
                        let key = Key {
                            name: owned(k.name),
                            span: k.span,
                        };
                        (key, v.into_owned())
                    })
                    .collect(),
            ),
            Kind::Traversal(parts) => Kind::Traversal(parts.into_iter().map(owned).collect()),
            Kind::Call(f, args) => {
                Kind::Call(owned(f), args.into_iter().map(Value::into_owned).collect())
            }
            Kind::Other(o) => Kind::Other(o),
        };
        Value {
            span: self.span,
            kind,
        }
    }
}

/// A literal heredoc body `start..end`: indentation removed as Terraform does for `<<-`
/// (the smallest indentation of its non-blank lines), each line's offset kept.
fn heredoc(text: &str, start: usize, end: usize) -> Kind<'static> {
    let raw = text.get(start..end).unwrap_or("");
    let raw_lines: Vec<(usize, &str)> = split_lines(raw);
    let (strip, indent) = heredoc_indent(text, start, &raw_lines);
    let mut out = String::with_capacity(raw.len());
    let mut lines = Vec::with_capacity(raw_lines.len());
    for (at, line) in raw_lines {
        let cut = if strip {
            indent.min(leading_ws(line))
        } else {
            0
        };
        lines.push((start + at + cut) as u32);
        out.push_str(&line[cut..]);
        out.push('\n');
    }
    Kind::Heredoc { text: out, lines }
}

/// A heredoc of literal lines and `${…}` interpolations, body at `start`, as the pieces
/// Terraform renders: the indentation of a `<<-` heredoc cut from each line's text, so
/// that every text piece is written in the file exactly at its range. `None` with a
/// directive or an escape (`$${`, `%%{`).
fn heredoc_interpolated<'a>(
    text: &'a str,
    t: &'a hcl_edit::template::Template,
    start: usize,
) -> Option<Kind<'a>> {
    let end = t.span()?.end;
    let (_, indent) = heredoc_indent(text, start, &split_lines(text.get(start..end)?));
    let mut parts = Vec::new();
    for el in t.iter() {
        match el {
            Element::Literal(l) => {
                let r = range(l.span());
                let raw = text.get(r.0 as usize..r.1 as usize)?;
                if raw.contains("$${") || raw.contains("%%{") {
                    return None;
                }
                let mut at = r.0 as usize;
                for line in raw.split_inclusive('\n') {
                    let line_start =
                        at == start || text.as_bytes().get(at.wrapping_sub(1)) == Some(&b'\n');
                    let cut = if line_start {
                        indent.min(leading_ws(line.trim_end_matches(['\n', '\r'])))
                    } else {
                        0
                    };
                    let piece = &line[cut..];
                    if !piece.is_empty() {
                        let from = (at + cut) as u32;
                        parts.push(Part::Text(
                            Cow::Borrowed(piece),
                            (from, from + piece.len() as u32),
                        ));
                    }
                    at += line.len();
                }
            }
            Element::Interpolation(i) => parts.push(interpolation(text, i)?),
            Element::Directive(_) => return None,
        }
    }
    Some(Kind::Interpolated(parts))
}

/// A `${…}` of a template, at its span (`None` without one).
fn interpolation<'a>(text: &'a str, i: &'a hcl_edit::template::Interpolation) -> Option<Part<'a>> {
    let r = range(i.span());
    (r != (0, 0)).then(|| Part::Value(read_value(text, &i.expr), r))
}

/// Whether the heredoc whose body starts at `start` is `<<-`, and the indentation that
/// Terraform then cuts: the smallest of its non-blank lines (0 for `<<`). hcl-edit has
/// already decided which it is, so the text before the body says.
fn heredoc_indent(text: &str, start: usize, lines: &[(usize, &str)]) -> (bool, usize) {
    // The last `<<` before the body (a byte search: `str::rfind` sets up a substring
    // searcher for every heredoc).
    let strip = text.as_bytes()[..start]
        .windows(2)
        .rposition(|w| w == b"<<")
        .is_some_and(|at| text[at + 2..].starts_with('-'));
    let indent = lines
        .iter()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(_, l)| leading_ws(l))
        .min()
        .unwrap_or(0);
    (strip, if strip { indent } else { 0 })
}

fn leading_ws(line: &str) -> usize {
    line.len() - line.trim_start_matches([' ', '\t']).len()
}

/// Lines of `s` with their byte offsets, without line endings.
fn split_lines(s: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut at = 0;
    for line in s.split_inclusive('\n') {
        let body = line.strip_suffix('\n').unwrap_or(line);
        let body = body.strip_suffix('\r').unwrap_or(body);
        out.push((at, body));
        at += line.len();
    }
    out
}

/// Whether `text` declares one of the activation resource types (a line
/// `resource "rudderstack_…"`, `"census_…"` or `"segment_…"`): a syntax error in such a
/// file is reported, in any other `.tf` file it is not.
pub(crate) fn declares_ours(text: &str) -> bool {
    text.lines().any(|l| {
        let l = l.trim_start();
        let Some(rest) = l.strip_prefix("resource") else {
            return false;
        };
        super::terraform::is_providers(rest.trim_start().trim_start_matches('"'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"resource "census_sync" "n" {
  from = "ph\"one"
  q = <<-SQL
    SELECT a,
      b FROM t
  SQL
  settings = jsonencode({
    "email" : { "@path" : "$.traits.email" },
    bare = 1
  })
  r = census_dataset.x.id
  t = "a ${var.x} b"
  inner {
    k = [1, true, null]
  }
}
variable "v" {
  default = "d"
}
locals {
  l = "lv"
}
import {
  to = segment_destination.a
  id = "abc"
}
"#;

    fn at(r: Range) -> &'static str {
        &SAMPLE[r.0 as usize..r.1 as usize]
    }

    #[test]
    fn resources_keep_exact_spans() {
        let body = parse(SAMPLE).unwrap();
        let f = read_file(SAMPLE, &body);
        let r = &f.resources[0];
        assert_eq!((&*r.rtype, &*r.name), ("census_sync", "n"));
        assert_eq!(at(r.name_span), "\"n\"");
        assert_eq!(at(r.type_span), "\"census_sync\"");
        let from = r.body.attr("from").unwrap();
        assert_eq!(from.as_str(), Some("ph\"one"));
        assert_eq!(at(from.span), "\"ph\\\"one\"");
        let settings = r.body.attr("settings").unwrap();
        let Kind::Call(name, args) = &settings.kind else {
            panic!("{settings:?}")
        };
        assert_eq!(name, "jsonencode");
        let path = args[0].member("email").unwrap().member("@path").unwrap();
        assert_eq!(at(path.span), "\"$.traits.email\"");
        let Kind::Object(members) = &args[0].kind else {
            panic!()
        };
        assert_eq!(at(members[0].0.span), "\"email\"");
        assert_eq!(at(members[1].0.span), "bare");
        let Kind::Traversal(parts) = &r.body.attr("r").unwrap().kind else {
            panic!()
        };
        assert_eq!(parts, &["census_dataset", "x", "id"]);
        // Literal text and interpolations only: the pieces, each at its span.
        match &r.body.attr("t").unwrap().kind {
            Kind::Interpolated(parts) => {
                let texts: Vec<String> = parts
                    .iter()
                    .map(|p| match p {
                        Part::Text(t, r) => format!("{t:?}@{}", r.0),
                        Part::Value(_, r) => format!("${{}}@{}..{}", r.0, r.1),
                    })
                    .collect();
                let start = SAMPLE.find("a ${").unwrap();
                assert_eq!(
                    texts,
                    [
                        format!("\"a \"@{start}"),
                        format!("${{}}@{}..{}", start + 2, start + 10),
                        format!("\" b\"@{}", start + 10),
                    ]
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(r.body.block("inner").is_some());
        assert_eq!(f.variables[0].0, "v");
        assert_eq!(f.locals[0].0, "l");
        assert_eq!(f.imports[0].to, "segment_destination.a");
        assert_eq!(f.imports[0].id, "abc");
    }

    #[test]
    fn the_owned_tree_is_the_borrowed_one() {
        let body = parse(SAMPLE).unwrap();
        let f = read_file(SAMPLE, &body);
        let borrowed = format!("{f:?}");
        let owned: TfFile<'static> = f.clone().into_owned(true);
        assert_eq!(format!("{owned:?}"), borrowed);
        assert!(f.into_owned(false).resources.is_empty());
    }

    #[test]
    fn heredoc_lines_map_to_the_file() {
        let body = parse(SAMPLE).unwrap();
        let f = read_file(SAMPLE, &body);
        let q = f.resources[0].body.attr("q").unwrap();
        let Kind::Heredoc { text, lines } = &q.kind else {
            panic!("{q:?}")
        };
        assert_eq!(text, "SELECT a,\n  b FROM t\n");
        assert_eq!(&SAMPLE[lines[0] as usize..][..6], "SELECT");
        assert_eq!(&SAMPLE[lines[1] as usize..][..3], "  b");
    }

    #[test]
    fn syntax_errors_have_an_offset_and_detection_reads_the_text() {
        let e = parse("resource \"census_sync\" \"a\" {\n  x = \n}\n").unwrap_err();
        assert!(e.offset > 0, "{e:?}");
        assert!(declares_ours("  resource \"census_sync\" \"a\" {"));
        assert!(!declares_ours("resource \"aws_s3_bucket\" \"b\" {"));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = format!("x = {}1{}\n", "[".repeat(200), "]".repeat(200));
        assert!(parse(&deep).is_err());
    }
}
