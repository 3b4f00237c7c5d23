//! dbt property files (`schema.yml` and friends): sources, models, seeds, snapshots,
//! analyses and exposures, with purposelint's annotations under `meta`.
//!
//! Both layouts are read: `meta` directly on a node or column (before dbt 1.10) and
//! `config: {meta: ...}` (1.10+). Everything else in these files belongs to dbt and is
//! not validated here; only the annotations are.

use crate::decode::Decoder;
use crate::source::{FileId, Spanned};
use crate::taxonomy::{Taxonomy, Tree};
use crate::yaml::{Node, Yaml};

type Str = Spanned<String>;

#[derive(Debug, Clone, Default)]
pub(crate) struct Annot {
    pub purposes: Vec<Str>,
    pub categories: Vec<Str>,
    pub uses: Vec<Str>,
}

impl Annot {
    fn extend(&mut self, other: &Annot) {
        self.purposes.extend(other.purposes.iter().cloned());
        self.categories.extend(other.categories.iter().cloned());
        self.uses.extend(other.uses.iter().cloned());
    }
}

#[derive(Debug, Clone)]
pub(crate) struct ColumnDecl {
    pub name: Str,
    pub annot: Annot,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Model,
    Seed,
    Snapshot,
    Analysis,
    Source,
}

#[derive(Debug, Clone)]
pub(crate) struct NodeDecl {
    pub kind: Kind,
    /// As dbt names it: `source_name.table` for sources, else the node name.
    pub name: String,
    pub name_span: crate::source::Span,
    pub annot: Annot,
    pub columns: Vec<ColumnDecl>,
    pub file: FileId,
    /// The warehouse relation it is (`database.schema.identifier`, as far as the file
    /// says: a source's `schema`, defaulting to its name, and `identifier`; a node's
    /// `alias` and `schema` config), for SQL that names it without `ref()`/`source()`.
    pub relation: Option<String>,
    /// The same with its Jinja settings kept (`schema: "{{ var('s', 'auth') }}"`, as
    /// Fivetran's packages write), when it has any: rendered once the project's vars are
    /// known, it replaces `relation`.
    pub relation_jinja: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct ExposureDecl {
    pub name: Str,
    pub uses: Vec<Str>,
    pub depends_on: Vec<Str>,
    pub file: FileId,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct SchemaFile {
    pub nodes: Vec<NodeDecl>,
    pub exposures: Vec<ExposureDecl>,
}

/// `meta` and `config.meta` of a node or column.
fn annot(dec: &mut Decoder, node: Node, tax: &Taxonomy) -> Annot {
    let mut out = Annot::default();
    let metas = [
        node.get("meta"),
        node.get("config").and_then(|c| c.get("meta")),
    ];
    for meta in metas.into_iter().flatten() {
        if meta.entries().is_none() {
            continue;
        }
        out.purposes.extend(dec.taxonomy_keys(
            meta.get("purposes"),
            "`meta.purposes`",
            Decoder::string_or_list,
            Tree::DataUse,
            tax,
        ));
        out.categories.extend(dec.taxonomy_keys(
            meta.get("categories"),
            "`meta.categories`",
            Decoder::string_or_list,
            Tree::DataCategory,
            tax,
        ));
        out.uses.extend(dec.taxonomy_keys(
            meta.get("uses"),
            "`meta.uses`",
            Decoder::string_or_list,
            Tree::DataUse,
            tax,
        ));
    }
    out
}

/// A plain string value of `key` on `node` or in its `config`; none when Jinja makes it.
fn setting(node: Node, key: &str) -> Option<String> {
    jinja_setting(node, key).filter(|s| !s.contains("{{"))
}

/// [`setting`], Jinja included.
fn jinja_setting(node: Node, key: &str) -> Option<String> {
    let v = node
        .get(key)
        .or_else(|| node.get("config").and_then(|c| c.get(key)))?;
    let s = v.as_str()?.trim();
    (!s.is_empty()).then(|| s.to_string())
}

/// The relation of `parts` when one of them is Jinja (see [`NodeDecl::relation_jinja`]).
fn jinja_relation(parts: [Option<String>; 3]) -> Option<String> {
    let jinja = parts.iter().flatten().any(|p| p.contains("{{"));
    relation_of(parts).filter(|_| jinja)
}

/// The relation a model's `config(database=…, schema=…, alias=…)` names, if it names one.
/// The schema is taken as written: dbt's default `generate_schema_name` prefixes it with the
/// target's, which the match by longest unique suffix does not need.
pub(super) fn configured_relation(model: &str, c: &super::render::ModelConfig) -> Option<String> {
    if c.schema.is_none() && c.alias.is_none() {
        return None;
    }
    relation_of([
        c.database.clone(),
        c.schema.clone(),
        Some(c.alias.clone().unwrap_or_else(|| model.to_string())),
    ])
}

/// `a.b.c` from the parts that are known, the trailing ones.
fn relation_of(parts: [Option<String>; 3]) -> Option<String> {
    let known: Vec<String> = parts
        .into_iter()
        .rev()
        .map_while(|p| p)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    (!known.is_empty()).then(|| known.join("."))
}

fn name_of(node: Node) -> Option<Str> {
    let n = node.get("name")?;
    let s = n.as_str()?;
    if s.trim().is_empty() {
        return None;
    }
    Some(Spanned {
        value: s.to_string(),
        span: n.span(),
    })
}

/// The items of a list; none for anything else.
fn items(node: Option<Node>) -> impl Iterator<Item = Node> {
    node.and_then(|n| n.items()).into_iter().flatten()
}

fn columns(dec: &mut Decoder, node: Node, tax: &Taxonomy) -> Vec<ColumnDecl> {
    items(node.get("columns"))
        .filter_map(|c| {
            let name = name_of(c)?;
            Some(ColumnDecl {
                name,
                annot: annot(dec, c, tax),
            })
        })
        .collect()
}

/// Reads one property file. Files that are not dbt property files yield nothing.
pub(crate) fn read(dec: &mut Decoder, yaml: &Yaml, tax: &Taxonomy) -> SchemaFile {
    let mut out = SchemaFile::default();
    for doc in yaml.documents() {
        if doc.entries().is_none() {
            continue;
        }
        for (key, kind) in [
            ("models", Kind::Model),
            ("seeds", Kind::Seed),
            ("snapshots", Kind::Snapshot),
            ("analyses", Kind::Analysis),
        ] {
            for n in items(doc.get(key)) {
                let Some(name) = name_of(n) else { continue };
                let annot = annot(dec, n, tax);
                let columns = columns(dec, n, tax);
                let parts = |get: fn(Node, &str) -> Option<String>| {
                    [
                        get(n, "database"),
                        get(n, "schema"),
                        Some(get(n, "alias").unwrap_or_else(|| name.value.clone())),
                    ]
                };
                out.nodes.push(NodeDecl {
                    kind,
                    relation: relation_of(parts(setting)),
                    relation_jinja: jinja_relation(parts(jinja_setting)),
                    name: name.value,
                    name_span: name.span,
                    annot,
                    columns,
                    file: dec.file,
                });
            }
        }
        for src in items(doc.get("sources")) {
            let Some(src_name) = name_of(src) else {
                continue;
            };
            let src_annot = annot(dec, src, tax);
            for t in items(src.get("tables")) {
                let Some(table) = name_of(t) else { continue };
                let mut a = annot(dec, t, tax);
                a.extend(&src_annot);
                let columns = columns(dec, t, tax);
                let parts = |get: fn(Node, &str) -> Option<String>| {
                    [
                        get(t, "database").or_else(|| get(src, "database")),
                        get(t, "schema")
                            .or_else(|| get(src, "schema"))
                            .or_else(|| Some(src_name.value.clone())),
                        Some(get(t, "identifier").unwrap_or_else(|| table.value.clone())),
                    ]
                };
                out.nodes.push(NodeDecl {
                    kind: Kind::Source,
                    name: format!("{}.{}", src_name.value, table.value),
                    name_span: table.span,
                    annot: a,
                    columns,
                    file: dec.file,
                    relation: relation_of(parts(setting)),
                    relation_jinja: jinja_relation(parts(jinja_setting)),
                });
            }
        }
        for e in items(doc.get("exposures")) {
            let Some(name) = name_of(e) else { continue };
            let a = annot(dec, e, tax);
            let depends_on = match e.get("depends_on") {
                Some(d) => dec.string_or_list(d, "`depends_on`"),
                None => Vec::new(),
            };
            out.exposures.push(ExposureDecl {
                name,
                uses: a.uses,
                depends_on,
                file: dec.file,
            });
        }
    }
    out
}

/// `ref('x')`, `ref("pkg", "x")`, `source('a', 'b')` as written in `depends_on`.
pub(crate) fn parse_dependency(s: &str) -> Option<(Kind, String)> {
    let s = s.trim();
    let (kind, rest) = if let Some(r) = s.strip_prefix("ref(") {
        (Kind::Model, r)
    } else if let Some(r) = s.strip_prefix("source(") {
        (Kind::Source, r)
    } else {
        return None;
    };
    let inner = rest.trim_end().strip_suffix(')')?;
    let args: Vec<String> = inner
        .split(',')
        .map(|a| a.trim())
        .filter(|a| !a.contains('='))
        .map(|a| a.trim_matches(|c| c == '\'' || c == '"').to_string())
        .filter(|a| !a.is_empty())
        .collect();
    match kind {
        Kind::Model => Some((Kind::Model, args.last()?.clone())),
        _ => {
            if args.len() != 2 {
                return None;
            }
            Some((Kind::Source, format!("{}.{}", args[0], args[1])))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceFile;
    use crate::yaml;

    #[test]
    fn both_layouts_and_exposures() {
        let text = "version: 2\nsources:\n  - name: app\n    meta: {purposes: [essential.service.security]}\n    tables:\n      - name: contacts\n        columns:\n          - name: phone\n            config:\n              meta:\n                categories: [user.contact.phone_number]\n            data_tests: [not_null]\nmodels:\n  - name: m\n    columns:\n      - name: email\n        meta:\n          purposes: [essential.service.authentication]\n        tests: [unique]\nexposures:\n  - name: ads\n    depends_on: [ref('m'), \"source('app', 'contacts')\"]\n    meta:\n      uses: [marketing.advertising.third_party.targeted]\n";
        let f = SourceFile::new("s.yml".into(), "s.yml".into(), text);
        let yaml = yaml::parse(&f).unwrap();
        let mut diags = Vec::new();
        let mut dec = Decoder {
            file: 0,
            diags: &mut diags,
        };
        let s = read(&mut dec, &yaml, &Taxonomy::default());
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(s.nodes[0].name, "m");
        assert_eq!(s.nodes[0].columns[0].annot.purposes.len(), 1);
        assert_eq!(s.nodes[1].name, "app.contacts");
        assert_eq!(s.nodes[1].annot.purposes.len(), 1);
        assert_eq!(s.nodes[1].columns[0].annot.categories.len(), 1);
        assert_eq!(s.exposures[0].uses.len(), 1);
        assert_eq!(
            parse_dependency(&s.exposures[0].depends_on[1].value),
            Some((Kind::Source, "app.contacts".into()))
        );
        assert_eq!(
            parse_dependency("ref('pkg', 'm')"),
            Some((Kind::Model, "m".into()))
        );
    }
}
