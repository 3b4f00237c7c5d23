//! Terraform files as a small owned tree with byte spans: the top-level `resource`,
//! `variable`, `locals` and `import` blocks, their attributes and nested blocks, and
//! values as written (literals, references, `jsonencode(...)`, heredocs). Nothing is
//! evaluated.
//!
//! Parsed with `hcl-edit`, which keeps the span of every attribute, block label and
//! expression (`hcl-rs` drops them) and bounds nesting at 64 levels.

use hcl_edit::expr::{Expression, ObjectKey, TraversalOperator};
use hcl_edit::structure::{BlockLabel, Body as HclBody, Structure};
use hcl_edit::template::Element;
use hcl_edit::Span as _;

/// A byte range in the file.
pub(crate) type Range = (u32, u32);

fn range(r: Option<std::ops::Range<usize>>) -> Range {
    r.map_or((0, 0), |r| (r.start as u32, r.end as u32))
}

/// One `.tf` file.
#[derive(Debug, Default, Clone)]
pub(crate) struct TfFile {
    /// The resources of ours (spec §3–§5).
    pub resources: Vec<Resource>,
    /// `variable "x" { default = … }`: the default, when there is one.
    pub variables: Vec<(String, Option<Value>)>,
    /// Every `locals { x = … }` entry.
    pub locals: Vec<(String, Value)>,
    pub imports: Vec<Import>,
}

#[derive(Debug, Clone)]
pub(crate) struct Resource {
    pub rtype: String,
    pub type_span: Range,
    pub name: String,
    /// The name label, quotes included.
    pub name_span: Range,
    pub body: Body,
}

impl Resource {
    pub(crate) fn address(&self) -> String {
        dotted(&self.rtype, &self.name)
    }
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
pub(crate) struct Body {
    pub items: Vec<Item>,
}

#[derive(Debug, Clone)]
pub(crate) enum Item {
    Attr(Attr),
    Block(Block),
}

#[derive(Debug, Clone)]
pub(crate) struct Attr {
    pub key: String,
    pub value: Value,
}

#[derive(Debug, Clone)]
pub(crate) struct Block {
    pub ident: String,
    pub labels: Vec<(String, Range)>,
    pub span: Range,
    pub body: Body,
}

#[derive(Debug, Clone)]
pub(crate) struct Value {
    pub span: Range,
    pub kind: Kind,
}

#[derive(Debug, Clone)]
pub(crate) enum Kind {
    Null,
    Bool(bool),
    Number(String),
    /// A string literal without interpolation; `span` covers its quotes.
    Str(String),
    /// A string with `${…}` or `%{…}`.
    Template,
    /// A heredoc without interpolation: its text after indentation is removed, and the
    /// byte offset in the file of each of its lines.
    Heredoc {
        text: String,
        lines: Vec<u32>,
    },
    Array(Vec<Value>),
    Object(Vec<(Key, Value)>),
    /// `a.b.c` (index operators end it).
    Traversal(Vec<String>),
    Call(String, Vec<Value>),
    /// Conditionals, operators, `for` expressions, splats: never read literally.
    Other(&'static str),
}

#[derive(Debug, Clone)]
pub(crate) struct Key {
    pub name: String,
    pub span: Range,
}

impl Body {
    pub(crate) fn attr(&self, key: &str) -> Option<&Value> {
        self.items.iter().find_map(|i| match i {
            Item::Attr(a) if a.key == key => Some(&a.value),
            _ => None,
        })
    }

    pub(crate) fn blocks<'b>(&'b self, ident: &'b str) -> impl Iterator<Item = &'b Block> + 'b {
        self.items.iter().filter_map(move |i| match i {
            Item::Block(b) if b.ident == ident => Some(b),
            _ => None,
        })
    }

    pub(crate) fn block(&self, ident: &str) -> Option<&Block> {
        self.items.iter().find_map(|i| match i {
            Item::Block(b) if b.ident == ident => Some(b),
            _ => None,
        })
    }
}

impl Value {
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
    pub(crate) fn member(&self, key: &str) -> Option<&Value> {
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

/// Parses a whole file. A panic inside the parser is turned into an error, so that no
/// input can stop a run.
pub(crate) fn parse(text: &str) -> Result<TfFile, SyntaxError> {
    let parsed = std::panic::catch_unwind(|| hcl_edit::parser::parse_body(text));
    let body = match parsed {
        Ok(Ok(b)) => b,
        Ok(Err(e)) => {
            let message = e.message().lines().next().unwrap_or("").to_string();
            let message = if message.is_empty() {
                "syntax error".to_string()
            } else {
                message
            };
            return Err(SyntaxError {
                message,
                offset: e.location().offset() as u32,
            });
        }
        Err(_) => {
            return Err(SyntaxError {
                message: "the HCL parser failed on this file".into(),
                offset: 0,
            })
        }
    };
    Ok(read_file(text, &body))
}

fn read_file(text: &str, body: &HclBody) -> TfFile {
    let mut out = TfFile::default();
    for s in body.iter() {
        let Structure::Block(b) = s else { continue };
        let labels: Vec<(&str, Range)> = b
            .labels
            .iter()
            .map(|l| (l.as_str(), label_span(l)))
            .collect();
        match (b.ident.as_str(), labels.as_slice()) {
            // Other providers' resources are never read.
            ("resource", [(rtype, tspan), (name, nspan)]) if super::terraform::is_ours(rtype) => {
                out.resources.push(Resource {
                    rtype: rtype.to_string(),
                    type_span: *tspan,
                    name: name.to_string(),
                    name_span: *nspan,
                    body: read_body(text, &b.body),
                })
            }
            ("variable", [(name, _)]) => {
                let inner = read_body(text, &b.body);
                let default = inner.attr("default").cloned();
                out.variables.push((name.to_string(), default));
            }
            ("locals", []) => {
                for item in read_body(text, &b.body).items {
                    if let Item::Attr(a) = item {
                        out.locals.push((a.key, a.value));
                    }
                }
            }
            ("import", []) => {
                let inner = read_body(text, &b.body);
                let to = inner.attr("to").and_then(|v| match &v.kind {
                    Kind::Traversal(parts) => Some(parts.join(".")),
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

fn read_body(text: &str, body: &HclBody) -> Body {
    let items = body
        .iter()
        .map(|s| match s {
            Structure::Attribute(a) => Item::Attr(Attr {
                key: a.key.as_str().to_string(),
                value: read_value(text, &a.value),
            }),
            Structure::Block(b) => Item::Block(Block {
                ident: b.ident.as_str().to_string(),
                labels: b
                    .labels
                    .iter()
                    .map(|l| (l.as_str().to_string(), label_span(l)))
                    .collect(),
                span: range(b.span()),
                body: read_body(text, &b.body),
            }),
        })
        .collect();
    Body { items }
}

fn read_value(text: &str, e: &Expression) -> Value {
    let span = range(e.span());
    let kind = match e {
        Expression::Null(_) => Kind::Null,
        Expression::Bool(b) => Kind::Bool(*b.value()),
        Expression::Number(n) => Kind::Number(n.value().to_string()),
        Expression::String(s) => Kind::Str(s.value().to_string()),
        Expression::StringTemplate(_) => Kind::Template,
        Expression::HeredocTemplate(h) => {
            let literal = h
                .template
                .iter()
                .all(|el| matches!(el, Element::Literal(_)));
            match (literal, h.template.span()) {
                (true, Some(r)) => heredoc(text, r.start, r.end),
                _ => Kind::Template,
            }
        }
        Expression::Array(a) => Kind::Array(a.iter().map(|v| read_value(text, v)).collect()),
        Expression::Object(o) => Kind::Object(
            o.iter()
                .filter_map(|(k, v)| {
                    let key = match k {
                        ObjectKey::Ident(i) => Key {
                            name: i.as_str().to_string(),
                            span: range(i.span()),
                        },
                        ObjectKey::Expression(Expression::String(s)) => Key {
                            name: s.value().to_string(),
                            span: range(s.span()),
                        },
                        ObjectKey::Expression(_) => return None,
                    };
                    Some((key, read_value(text, v.expr())))
                })
                .collect(),
        ),
        Expression::Parenthesis(p) => return read_value(text, p.inner()),
        Expression::Variable(v) => Kind::Traversal(vec![v.as_str().to_string()]),
        Expression::Traversal(t) => {
            let mut parts = Vec::new();
            if let Expression::Variable(v) = &t.expr {
                parts.push(v.as_str().to_string());
                for op in t.operators.iter() {
                    match op.value() {
                        TraversalOperator::GetAttr(i) => parts.push(i.as_str().to_string()),
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
        Expression::FuncCall(f) => Kind::Call(
            f.name.name.as_str().to_string(),
            f.args.iter().map(|a| read_value(text, a)).collect(),
        ),
        Expression::Conditional(_) => Kind::Other("a conditional"),
        Expression::ForExpr(_) => Kind::Other("a `for` expression"),
        Expression::UnaryOp(_) | Expression::BinaryOp(_) => Kind::Other("an operation"),
    };
    Value { span, kind }
}

/// A literal heredoc body `start..end`: indentation removed as Terraform does for `<<-`
/// (the smallest indentation of its non-blank lines), each line's offset kept.
fn heredoc(text: &str, start: usize, end: usize) -> Kind {
    let raw = text.get(start..end).unwrap_or("");
    let raw_lines: Vec<(usize, &str)> = split_lines(raw);
    // hcl-edit has already decided whether this is `<<-`; measure what it removed by
    // comparing with the raw text: the template text of a `<<-` heredoc is shorter.
    let indent = raw_lines
        .iter()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(_, l)| l.len() - l.trim_start_matches([' ', '\t']).len())
        .min()
        .unwrap_or(0);
    let strip = text[..start]
        .rfind("<<")
        .is_some_and(|at| text[at + 2..].starts_with('-'));
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
        let rest = rest.trim_start().trim_start_matches('"');
        ["rudderstack_", "census_", "segment_"]
            .iter()
            .any(|p| rest.starts_with(p))
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
        let f = parse(SAMPLE).unwrap();
        let r = &f.resources[0];
        assert_eq!((r.rtype.as_str(), r.name.as_str()), ("census_sync", "n"));
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
        assert!(matches!(r.body.attr("t").unwrap().kind, Kind::Template));
        assert!(r.body.block("inner").is_some());
        assert_eq!(f.variables[0].0, "v");
        assert_eq!(f.locals[0].0, "l");
        assert_eq!(f.imports[0].to, "segment_destination.a");
        assert_eq!(f.imports[0].id, "abc");
    }

    #[test]
    fn heredoc_lines_map_to_the_file() {
        let f = parse(SAMPLE).unwrap();
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
