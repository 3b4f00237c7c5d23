//! Reading native manifest documents into raw, unresolved declarations.

use std::sync::Arc;

use super::detect::{detect, Detected};
use crate::decode::Decoder;
use crate::diagnostic::Diag;
use crate::expr::{self, ColumnRef};
use crate::model::{Field, FieldTable, Tags};
use crate::source::{Loc, Spanned};
use crate::taxonomy::{Taxonomy, Tree};
use crate::yaml::{Node, Yaml};

type Str = Spanned<String>;

/// The keys each kind of mapping accepts.
const DATASET_KEYS: [&str; 8] = [
    "apiVersion",
    "kind",
    "name",
    "description",
    "purposes",
    "categories",
    "uses",
    "fields",
];
const FIELD_KEYS: [&str; 4] = ["name", "description", "categories", "purposes"];
const SINK_KEYS: [&str; 6] = [
    "apiVersion",
    "kind",
    "name",
    "uses",
    "vendor",
    "description",
];
const PIPELINE_KEYS: [&str; 5] = ["apiVersion", "kind", "name", "description", "steps"];
const STEP_KEYS: [&str; 9] = [
    "name",
    "description",
    "from",
    "to",
    "join",
    "where",
    "group_by",
    "fields",
    "allow",
];
const ALLOW_KEYS: [&str; 2] = ["rule", "reason"];

#[derive(Debug, Clone)]
pub(crate) struct RawDataset {
    pub name: Str,
    pub purposes: Vec<Str>,
    pub categories: Vec<Str>,
    pub uses: Vec<Str>,
    /// Built here, while files are read in parallel, rather than when linking.
    pub fields: FieldTable,
    /// Fields whose name an earlier field holds, with where that one is.
    pub repeated_fields: Vec<(Field, Loc)>,
}

#[derive(Debug, Clone)]
pub(crate) struct RawSink {
    pub name: Str,
    pub uses: Vec<Str>,
}

/// An expression as written, parsed while the file is read (in parallel with the other
/// files); its errors are reported when the step is linked.
#[derive(Debug, Clone)]
pub(crate) struct Expression {
    pub text: Str,
    pub refs: Result<Vec<ColumnRef>, String>,
}

impl Expression {
    pub(super) fn parse(text: Str) -> Self {
        let refs = expr::column_refs(&text.value);
        Expression { text, refs }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct RawAllow {
    pub rule: Str,
    pub reason: Str,
    pub span: crate::source::Span,
}

#[derive(Debug, Clone)]
pub(crate) struct RawStep {
    pub name: Str,
    pub from: Vec<Str>,
    pub to: Str,
    pub join: Option<Expression>,
    pub where_: Option<Expression>,
    pub group_by: Vec<Expression>,
    /// Output field name → expression; `None` for a passthrough step.
    pub fields: Option<Vec<(Str, Expression)>>,
    pub allow: Vec<RawAllow>,
}

#[derive(Debug, Clone)]
pub(crate) struct RawPipeline {
    pub name: Str,
    pub steps: Vec<RawStep>,
}

#[derive(Debug, Clone)]
pub(crate) enum Doc {
    Dataset(RawDataset),
    Sink(RawSink),
    Pipeline(RawPipeline),
}

/// Whether a document is a manifest of ours, or meant to be one (spec §3).
pub(crate) fn is_manifest(doc: Node) -> bool {
    detect(doc) != Detected::Foreign
}

/// Reads the manifest documents of a file; other documents are skipped silently.
/// Returns the documents read and how many manifests the file holds.
pub(crate) fn read_documents(dec: &mut Decoder, yaml: &Yaml, tax: &Taxonomy) -> (Vec<Doc>, usize) {
    let mut out = Vec::with_capacity(yaml.documents().len());
    let mut manifests = 0;
    for doc in yaml.documents() {
        let kind = match detect(doc) {
            Detected::Foreign => continue,
            Detected::Invalid(diag, span) => {
                manifests += 1;
                dec.report(diag, span);
                continue;
            }
            Detected::Manifest(kind) => kind,
        };
        manifests += 1;
        let read = match kind {
            "dataset" => dataset(dec, doc, tax).map(Doc::Dataset),
            "sink" => sink(dec, doc, tax).map(Doc::Sink),
            _ => pipeline(dec, doc).map(Doc::Pipeline),
        };
        out.extend(read);
    }
    (out, manifests)
}

/// Taxonomy keys written as a list of strings, none when `node` is absent.
fn keys(dec: &mut Decoder, node: Option<Node>, what: &str, tree: Tree, tax: &Taxonomy) -> Vec<Str> {
    dec.taxonomy_keys(node, what, Decoder::string_list, tree, tax)
}

fn dataset(dec: &mut Decoder, doc: Node, tax: &Taxonomy) -> Option<RawDataset> {
    let m = dec.map(doc, "a dataset", &DATASET_KEYS)?;
    let name = m.required(dec, "name").and_then(|n| dec.name(n, "`name`"));
    if let Some(d) = m.get("description") {
        dec.str(d, "`description`");
    }
    let purposes = keys(dec, m.get("purposes"), "`purposes`", Tree::DataUse, tax);
    let categories = keys(
        dec,
        m.get("categories"),
        "`categories`",
        Tree::DataCategory,
        tax,
    );
    let uses = keys(dec, m.get("uses"), "`uses`", Tree::DataUse, tax);
    let fields = match m.required(dec, "fields") {
        Some(node) => {
            let mut tags = Vec::new();
            let fields = dec.list(node, "`fields`", |dec, n| field(dec, n, tax, &mut tags));
            if node.items().is_some_and(|items| items.len() == 0) {
                dec.error(node.span(), "`fields` must not be empty");
            }
            fields
        }
        None => Vec::new(),
    };
    let (fields, repeated_fields) = FieldTable::new(fields);
    Some(RawDataset {
        name: name?,
        purposes,
        categories,
        uses,
        fields,
        repeated_fields,
    })
}

fn field(
    dec: &mut Decoder,
    node: Node,
    tax: &Taxonomy,
    seen_tags: &mut Vec<Arc<Tags>>,
) -> Option<Field> {
    let m = dec.map(node, "a field", &FIELD_KEYS)?;
    let name = m.required(dec, "name").and_then(|n| dec.name(n, "`name`"));
    if let Some(d) = m.get("description") {
        dec.str(d, "`description`");
    }
    let categories =
        dec.taxonomy_strs(m.get("categories"), "`categories`", Tree::DataCategory, tax);
    let purposes = dec.taxonomy_strs(m.get("purposes"), "`purposes`", Tree::DataUse, tax);
    let name = name?;
    if name.value.contains('.') {
        dec.error(
            name.span,
            format!("field name `{}` must not contain dots", name.value),
        );
        return None;
    }
    Some(Field {
        dataset: 0,
        name: name.value.into_boxed_str(),
        tags: Tags::shared(&purposes, &categories, seen_tags),
        loc: Loc {
            file: dec.file,
            span: name.span,
        },
    })
}

fn sink(dec: &mut Decoder, doc: Node, tax: &Taxonomy) -> Option<RawSink> {
    let m = dec.map(doc, "a sink", &SINK_KEYS)?;
    let name = m.required(dec, "name").and_then(|n| dec.name(n, "`name`"));
    for key in ["vendor", "description"] {
        if let Some(v) = m.get(key) {
            dec.string(v, format_args!("`{key}`"));
        }
    }
    let uses_node = m.required(dec, "uses");
    let uses = keys(dec, uses_node, "`uses`", Tree::DataUse, tax);
    if let Some(node) = uses_node {
        if uses.is_empty() && node.items().is_some() {
            dec.error(node.span(), "`uses` must not be empty");
        }
    }
    Some(RawSink { name: name?, uses })
}

fn pipeline(dec: &mut Decoder, doc: Node) -> Option<RawPipeline> {
    let m = dec.map(doc, "a pipeline", &PIPELINE_KEYS)?;
    let name = m.required(dec, "name").and_then(|n| dec.name(n, "`name`"));
    if let Some(d) = m.get("description") {
        dec.str(d, "`description`");
    }
    let steps = match m.required(dec, "steps") {
        Some(node) => {
            if node.items().is_some_and(|items| items.len() == 0) {
                dec.error(node.span(), "`steps` must not be empty");
            }
            dec.list(node, "`steps`", step)
        }
        None => Vec::new(),
    };
    Some(RawPipeline { name: name?, steps })
}

fn step(dec: &mut Decoder, node: Node) -> Option<RawStep> {
    let m = dec.map(node, "a step", &STEP_KEYS)?;
    let name = m.required(dec, "name").and_then(|n| dec.name(n, "`name`"));
    if let Some(d) = m.get("description") {
        dec.str(d, "`description`");
    }
    let from = m
        .required(dec, "from")
        .map(|n| dec.string_or_list(n, "`from`"))
        .unwrap_or_default();
    let to = m.required(dec, "to").and_then(|n| dec.name(n, "`to`"));
    let join = m.get("join").and_then(|n| dec.string(n, "`join`"));
    let where_ = m.get("where").and_then(|n| dec.string(n, "`where`"));
    let group_by = m
        .get("group_by")
        .map(|n| dec.string_or_list(n, "`group_by`"))
        .unwrap_or_default();
    let (join, where_) = (join.map(Expression::parse), where_.map(Expression::parse));
    let group_by = group_by.into_iter().map(Expression::parse).collect();
    let fields = m.get("fields").and_then(|n| output_fields(dec, n));
    let allow = m
        .get("allow")
        .map(|n| dec.list(n, "`allow`", allow))
        .unwrap_or_default();
    Some(RawStep {
        name: name?,
        from,
        to: to?,
        join,
        where_,
        group_by,
        fields,
        allow,
    })
}

fn output_fields(dec: &mut Decoder, node: Node) -> Option<Vec<(Str, Expression)>> {
    let Some(entries) = node.entries() else {
        dec.error(
            node.span(),
            format!(
                "`fields` must map output field names to expressions, found {}",
                node.kind_name()
            ),
        );
        return None;
    };
    let mut out: Vec<(Str, Expression)> = Vec::with_capacity(entries.len());
    for (k, v) in entries {
        let Some(key) = dec.name(k, "an output field name") else {
            continue;
        };
        if let Some((first, _)) = out.iter().find(|(f, _)| f.value == key.value) {
            let line = first.span.start_pos.line;
            dec.error(
                k.span(),
                format!(
                    "duplicate key `{}` in `fields` (first at line {line})",
                    key.value
                ),
            );
            continue;
        }
        if key.value.contains('.') {
            dec.error(
                k.span(),
                format!("output field name `{}` must not contain dots", key.value),
            );
            continue;
        }
        let what = format_args!("the expression of `{}`", key.value);
        let Some(expr) = dec.name(v, what) else {
            continue;
        };
        out.push((key, Expression::parse(expr)));
    }
    Some(out)
}

fn allow(dec: &mut Decoder, node: Node) -> Option<RawAllow> {
    let m = dec.map(node, "an allow entry", &ALLOW_KEYS)?;
    let rule = m.required(dec, "rule").and_then(|n| dec.name(n, "`rule`"));
    let reason = match m.get("reason") {
        Some(n) => dec.name(n, "`reason`").filter(|r| {
            let placeholder = crate::suppress::is_placeholder(&r.value);
            if placeholder {
                let diag = Diag::PlaceholderReason {
                    reason: r.value.clone(),
                    example: "reason: DPIA-2024-17 approved; counts only".into(),
                };
                dec.report(diag, r.span);
            }
            !placeholder
        }),
        None => {
            let diag = Diag::InvalidWithHelp(
                "an allow entry needs a `reason`: record why this flow was approved".into(),
                "add e.g. `reason: DPIA-2024-17 approved; counts only`".into(),
            );
            dec.report(diag, m.span());
            None
        }
    };
    Some(RawAllow {
        rule: rule?,
        reason: reason?,
        span: m.span(),
    })
}
