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
    /// Which of `purposes`, `categories`, `uses` a `meta` wrote (even empty).
    pub written: [bool; 3],
}

impl Annot {
    fn extend(&mut self, other: &Annot) {
        self.purposes.extend(other.purposes.iter().cloned());
        self.categories.extend(other.categories.iter().cloned());
        self.uses.extend(other.uses.iter().cloned());
        for (w, o) in self.written.iter_mut().zip(other.written) {
            *w |= o;
        }
    }

    /// dbt's merge of `meta` dicts: each key `over` writes replaces this one's.
    pub(crate) fn overlay(&mut self, over: &Annot) {
        let [p, c, u] = over.written;
        if p {
            self.purposes = over.purposes.clone();
        }
        if c {
            self.categories = over.categories.clone();
        }
        if u {
            self.uses = over.uses.clone();
        }
        for (w, o) in self.written.iter_mut().zip(over.written) {
            *w |= o;
        }
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
    /// One version of a versioned model (`versions:`), which `name` (`m_v2`) names.
    pub version: Option<Version>,
    /// A snapshot's `relation:` (dbt ≥ 1.9 YAML snapshots): `source('a', 'b')` or
    /// `ref('m')`, the relation it copies.
    pub snapshot_of: Option<Str>,
}

/// A version of a versioned model, as dbt makes it a node of its own.
#[derive(Debug, Clone)]
pub(crate) struct Version {
    /// The model's name (`m`), which `ref('m', v=…)` takes.
    pub model: String,
    /// `v` as written (`2`).
    pub v: String,
    /// Whether unpinned `ref('m')` means this version (`latest_version`, else the highest).
    pub latest: bool,
    /// The stem of its SQL file: `defined_in`, by default `m_v<v>`.
    pub defined_in: String,
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
    let metas = [
        node.get("meta"),
        node.get("config").and_then(|c| c.get("meta")),
    ];
    let mut out = Annot::default();
    for meta in metas.into_iter().flatten() {
        out.extend(&meta_annot(dec, meta, tax));
    }
    out
}

/// The annotations of one `meta` mapping (a property file's, `+meta` of
/// dbt_project.yml), each key checked against the taxonomy.
pub(crate) fn meta_annot(dec: &mut Decoder, meta: Node, tax: &Taxonomy) -> Annot {
    let mut out = Annot::default();
    if meta.entries().is_none() {
        return out;
    }
    for (i, k) in ["purposes", "categories", "uses"].iter().enumerate() {
        out.written[i] = meta.get(k).is_some();
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

/// A node's declaration; its settings from the first of `nodes` that has them (a
/// version's own, then its model's).
fn node_decl(
    dec: &Decoder,
    kind: Kind,
    nodes: &[Node],
    name: Str,
    annot: Annot,
    columns: Vec<ColumnDecl>,
    version: Option<Version>,
) -> NodeDecl {
    let parts = |get: fn(Node, &str) -> Option<String>| {
        let get = |key: &str| nodes.iter().find_map(|n| get(*n, key));
        [
            get("database"),
            get("schema"),
            Some(get("alias").unwrap_or_else(|| name.value.clone())),
        ]
    };
    NodeDecl {
        kind,
        relation: relation_of(parts(setting)),
        relation_jinja: jinja_relation(parts(jinja_setting)),
        name: name.value,
        name_span: name.span,
        annot,
        columns,
        file: dec.file,
        version,
        snapshot_of: None,
    }
}

/// `v` (or `latest_version`) as written.
fn version_text(n: Option<Node>) -> Option<String> {
    let (t, _) = n?.scalar()?;
    let t = t.trim();
    (!t.is_empty()).then(|| t.to_string())
}

/// dbt's order of versions: as numbers when both are, else as text.
fn version_less(a: &str, b: &str) -> bool {
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => x < y,
        _ => a < b,
    }
}

/// The versions of versioned model `n`, each a node `m_v<v>` as dbt makes them: the
/// model's columns its `include`/`exclude` keeps, then its own (which replace a model
/// column of the same name); its `config.meta` merged over the model's.
fn versions(dec: &mut Decoder, n: Node, name: &Str, tax: &Taxonomy) -> Vec<NodeDecl> {
    let base_annot = annot(dec, n, tax);
    let base_columns = columns(dec, n, tax);
    let vs: Vec<(Node, String)> = items(n.get("versions"))
        .filter_map(|v| Some((v, version_text(v.get("v"))?)))
        .collect();
    let latest = version_text(n.get("latest_version")).or_else(|| {
        vs.iter()
            .map(|(_, v)| v.clone())
            .reduce(|a, b| if version_less(&a, &b) { b } else { a })
    });
    let mut out = Vec::new();
    for (vn, v) in vs {
        let mut include_all = true;
        let mut include: Vec<String> = Vec::new();
        let mut exclude: Vec<String> = Vec::new();
        let mut own = Vec::new();
        for c in items(vn.get("columns")) {
            if c.get("include").is_none() && c.get("exclude").is_none() {
                own.push(c);
                continue;
            }
            let list = |k: &str| -> Vec<String> {
                items(c.get(k))
                    .filter_map(|i| i.as_str().map(str::to_lowercase))
                    .collect()
            };
            include_all = match c.get("include") {
                None => true,
                Some(i) if i.items().is_some() => false,
                Some(i) => matches!(i.as_str().map(str::trim), Some("*" | "all")),
            };
            include = list("include");
            exclude = list("exclude");
        }
        let own: Vec<ColumnDecl> = own
            .into_iter()
            .filter_map(|c| {
                Some(ColumnDecl {
                    name: name_of(c)?,
                    annot: annot(dec, c, tax),
                })
            })
            .collect();
        let mut columns: Vec<ColumnDecl> = base_columns
            .iter()
            .filter(|c| {
                let n = c.name.value.to_lowercase();
                (include_all || include.contains(&n))
                    && !exclude.contains(&n)
                    && !own.iter().any(|o| o.name.value.eq_ignore_ascii_case(&n))
            })
            .cloned()
            .collect();
        columns.extend(own);
        let mut a = base_annot.clone();
        a.overlay(&annot(dec, vn, tax));
        let vname = format!("{}_v{v}", name.value);
        let defined_in = vn
            .get("defined_in")
            .and_then(|d| d.as_str())
            .map(|d| d.trim().trim_end_matches(".sql").to_string())
            .filter(|d| !d.is_empty())
            .unwrap_or_else(|| vname.clone());
        let version = Version {
            model: name.value.clone(),
            latest: latest.as_deref() == Some(v.as_str()),
            v,
            defined_in,
        };
        let vname = Spanned {
            value: vname,
            span: vn.get("v").map_or(name.span, |s| s.span()),
        };
        out.push(node_decl(
            dec,
            Kind::Model,
            &[vn, n],
            vname,
            a,
            columns,
            Some(version),
        ));
    }
    out
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
                if kind == Kind::Model && n.get("versions").is_some() {
                    out.nodes.extend(versions(dec, n, &name, tax));
                    continue;
                }
                let annot = annot(dec, n, tax);
                let columns = columns(dec, n, tax);
                let mut decl = node_decl(dec, kind, &[n], name, annot, columns, None);
                if kind == Kind::Snapshot {
                    decl.snapshot_of = n.get("relation").and_then(|r| {
                        let text = r.as_str()?.trim();
                        (!text.is_empty()).then(|| Spanned {
                            value: text.to_string(),
                            span: r.span(),
                        })
                    });
                }
                out.nodes.push(decl);
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
                    version: None,
                    snapshot_of: None,
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

/// The `v=`/`version=` argument of `ref(...)` as written in `depends_on`.
pub(crate) fn dependency_version(s: &str) -> Option<String> {
    let inner = s
        .trim()
        .strip_prefix("ref(")?
        .trim_end()
        .strip_suffix(')')?;
    inner.split(',').find_map(|a| {
        let (k, v) = a.split_once('=')?;
        matches!(k.trim(), "v" | "version")
            .then(|| v.trim().trim_matches(|c| c == '\'' || c == '"').to_string())
    })
}

/// Versioned models by name: the node of each version, and of the latest.
#[derive(Debug, Clone, Default)]
pub(crate) struct Versions(std::collections::HashMap<String, Vec<(String, String, bool)>>);

impl Versions {
    pub(crate) fn of(decls: &[NodeDecl]) -> Versions {
        let mut out = Versions::default();
        for d in decls {
            if let Some(v) = &d.version {
                let e = out.0.entry(v.model.clone()).or_default();
                e.push((v.v.clone(), d.name.clone(), v.latest));
            }
        }
        out
    }

    /// The node `ref(name)` (with `v=version`) means: a version's (`m_v2`), or `name`.
    pub(crate) fn resolve(&self, name: &str, version: Option<&str>) -> String {
        let Some(vs) = self.0.get(name) else {
            return name.to_string();
        };
        let found = match version {
            Some(want) => vs.iter().find(|(v, ..)| {
                v == want
                    || v.parse::<f64>()
                        .ok()
                        .zip(want.parse::<f64>().ok())
                        .is_some_and(|(a, b)| a == b)
            }),
            None => vs.iter().find(|(.., latest)| *latest),
        };
        found.map_or_else(|| name.to_string(), |(_, n, _)| n.clone())
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
