//! dbt projects read as they are: `dbt_project.yml`, property files, models' SQL, seeds,
//! snapshots and exposures become datasets, fields, sinks and column-level flows of the
//! shared model. Nothing of the project is executed.
//!
//! - [`project`]: detection by `dbt_project.yml` and its paths and variables;
//! - [`schema`]: property files and the `meta` annotations;
//! - [`render`]: Jinja rendering with minijinja;
//! - [`crate::sql`]: column lineage from the rendered SQL with sqlparser;
//! - [`linemap`]: rendered positions back to the `.sql` file;
//! - this module: the mapping into [`crate::model::Model`].

mod builtins;
mod context;
pub(crate) mod linemap;
pub(crate) mod macros;
mod meta;
pub(crate) mod project;
pub(crate) mod render;
pub(crate) mod schema;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use std::rc::Rc;
use std::sync::Arc;

use super::{Format, Layout, ReadInput};
use crate::config::ExternalDataset;
use crate::decode::Decoder;
use crate::diagnostic::Diag;
use crate::finding::Finding;
use crate::model::{
    column_state, dbt_step_name, Columns, DatasetId, FieldId, Flow, FlowKind, LineageStatus, Model,
    ModelLineage, Named, SinkId, StepId, SymbolTarget, Target,
};
use crate::session::LinkCx;
use crate::source::{FileId, Loc, Pos, SourceFile, Span};
use crate::yaml::Node;

use crate::sql::{Catalog, Dialect, Lineage, OutColumn, SqlSpan, Upstream};
use linemap::LineMap;
use project::{Area, Project};
use schema::{ExposureDecl, Kind, NodeDecl, SchemaFile};

pub(crate) const PROJECT_FILE: &str = "dbt_project.yml";

/// True for files the dbt adapter reads besides YAML: models' SQL and seeds' CSV.
pub(crate) fn is_dbt_resource(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("sql" | "csv")
    )
}

struct SqlModel {
    name: String,
    kind: Kind,
    file: FileId,
    /// Rendered (or compiled) SQL, or why there is none.
    sql: Result<String, String>,
    /// The SQL with `is_incremental()` true, when it differs.
    incremental: Option<Result<String, String>>,
    /// Upstream relation keys the SQL names (`ref:x`, `source:a.b`).
    deps: Vec<String>,
    /// `target/manifest.json` holds this model compiled from other contents.
    stale: bool,
    /// What the model's own `config()` says about its relation.
    config: render::ModelConfig,
    /// Where its SQL is written, when not in its own file: a YAML snapshot's `relation:`,
    /// which every location of its lineage is.
    anchor: Option<Loc>,
    /// When a macro asked for the columns of relations no file declares them of: the
    /// template, rendered again once lineage knows them.
    rerender: Option<Box<Rerender>>,
    /// Relations whose data its Jinja queried (`get_column_values`, `run_query`).
    queried: Vec<String>,
    /// The macro of its text that queries through others (`{{ stage_mapping('x') }}`).
    query_call: Option<String>,
}

/// Jinja calls that query the warehouse's data, which a static render cannot have.
pub(super) const QUERY_CALLS: &[&str] = &[
    "get_column_values",
    "run_query",
    "get_query_results_as_dict",
    "load_result",
];

/// A relation whose columns or data a model's Jinja asked for and a static render
/// could not give: every column of the model may hold any of its columns.
struct UnknownInput {
    relation: String,
    ds: DatasetId,
    loc: Loc,
    /// The call, for the message: `get_columns_in_relation`, `get_column_values`, …
    call: String,
    /// Its data was queried (rather than its columns listed).
    data: bool,
}

struct Rerender {
    template: String,
    /// Keys (`ref:x`, `source:a.b`) of the relations whose columns are not known yet.
    missed: Vec<String>,
}

impl SqlModel {
    /// The location of the model as a whole: its file's first line, or its anchor.
    fn loc(&self, src: &SourceFile) -> Loc {
        self.anchor.unwrap_or_else(|| line_one(self.file, src))
    }
}

/// Options of the dbt adapter (`dbt.*` in the configuration).
#[derive(Debug, Clone, Default)]
pub struct DbtOptions {
    /// `dbt.dialect`: parse every project's models in this dialect first.
    pub dialect: Option<Dialect>,
    /// `dbt.profiles_dir`: the folder of `profiles.yml`, instead of the project's own.
    pub profiles_dir: Option<PathBuf>,
}

/// The dialects to parse a project's SQL with: its warehouse's first, when known.
fn dialects_for(adapter: Option<&str>) -> Vec<Dialect> {
    let mut out: Vec<Dialect> = adapter.and_then(Dialect::from_name).into_iter().collect();
    for d in Dialect::CHAIN {
        if !out.contains(d) {
            out.push(*d);
        }
    }
    out
}

/// Columns the property files and seeds declare, by relation key, for
/// `adapter.get_columns_in_relation`.
fn declared_columns(decls: &[NodeDecl], seeds: &[Seed]) -> HashMap<String, Vec<String>> {
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    for d in decls {
        let key = match d.kind {
            Kind::Source => format!("source:{}", d.name.to_lowercase()),
            _ => format!("ref:{}", d.name.to_lowercase()),
        };
        let cols = out.entry(key).or_default();
        for c in &d.columns {
            let n = c.name.value.to_lowercase();
            if !cols.contains(&n) {
                cols.push(n);
            }
        }
    }
    for s in seeds {
        out.insert(
            format!("ref:{}", s.name.to_lowercase()),
            s.columns.iter().map(|(c, _)| c.clone()).collect(),
        );
    }
    out
}

/// The relations of the project's nodes, as `adapter.get_relation` finds them: their
/// names' parts (lowercase, `schema.identifier` as far as known) and their keys.
fn relation_index(
    decls: &[NodeDecl],
    seeds: &[Seed],
    models: impl Iterator<Item = String>,
) -> Vec<(Vec<String>, String)> {
    let parts = crate::model::relation_parts;
    let mut out: Vec<(Vec<String>, String)> = Vec::new();
    // As written in the property file, and as our `ref()`/`source()` name them (database
    // `analytics`; schema `analytics` or the source's name).
    for d in decls {
        let (key, default) = match d.kind {
            Kind::Source => (
                format!("source:{}", d.name.to_lowercase()),
                format!("analytics.{}", d.name),
            ),
            _ => (
                format!("ref:{}", d.name.to_lowercase()),
                format!("analytics.analytics.{}", d.name),
            ),
        };
        for name in [d.relation.as_deref(), Some(default.as_str())]
            .into_iter()
            .flatten()
        {
            out.push((parts(name), key.clone()));
        }
    }
    for name in seeds.iter().map(|s| s.name.clone()).chain(models) {
        let key = format!("ref:{}", name.to_lowercase());
        out.push((parts(&format!("analytics.analytics.{name}")), key));
    }
    out.sort();
    out.dedup();
    out
}

struct Seed {
    name: String,
    file: FileId,
    columns: Vec<(String, Span)>,
}

/// dbt ≥ 1.9 snapshots declared in YAML (`relation: source('a', 'b')`), without a
/// `{% snapshot %}` block of that name: each copies its relation's columns, as
/// `select * from {{ relation }}` would.
fn yaml_snapshots(
    decls: &[NodeDecl],
    sql_models: &[SqlModel],
    renderer: &render::Renderer,
) -> Vec<SqlModel> {
    let mut out: Vec<SqlModel> = Vec::new();
    for d in decls {
        let Some(relation) = &d.snapshot_of else {
            continue;
        };
        let exists = |m: &SqlModel| m.kind == Kind::Snapshot && m.name == d.name;
        if sql_models.iter().any(exists) || out.iter().any(exists) {
            continue;
        }
        let expr = relation.value.trim();
        let text = if expr.contains("{{") {
            format!("select * from {expr}\n")
        } else {
            format!("select * from {{{{ {expr} }}}}\n")
        };
        let sql = renderer.render(&d.name, &text, false).sql;
        out.push(SqlModel {
            name: d.name.clone(),
            kind: Kind::Snapshot,
            file: d.file,
            deps: sql.as_ref().map(|s| deps_of(s)).unwrap_or_default(),
            sql,
            incremental: None,
            stale: false,
            config: render::ModelConfig::default(),
            anchor: Some(Loc {
                file: d.file,
                span: relation.span,
            }),
            rerender: None,
            queried: Vec::new(),
            query_call: None,
        });
    }
    out
}

/// Appends the items of `new` that `list` does not have yet.
pub(super) fn add_missing(list: &mut Vec<String>, new: impl IntoIterator<Item = String>) {
    for n in new {
        if !list.contains(&n) {
            list.push(n);
        }
    }
}

fn line_one(file: FileId, src: &SourceFile) -> Loc {
    let first = src.line_text(1);
    let len = first.chars().count() as u32;
    Loc {
        file,
        span: Span {
            start: 0,
            end: first.len() as u32,
            start_pos: Pos { line: 1, column: 1 },
            end_pos: Pos {
                line: 1,
                column: len + 1,
            },
        },
    }
}

/// The name a relation key (`ref:x`, `source:a.b`, or a relation) is looked up by.
fn relation_name(key: &str) -> &str {
    key.strip_prefix("ref:")
        .or_else(|| key.strip_prefix("source:"))
        .unwrap_or(key)
}

/// The relations (`ref:x`, `source:a.b`) that rendered SQL reads.
pub(super) fn deps_of(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = sql;
    while let Some(i) = rest.find('"') {
        let after = &rest[i + 1..];
        let Some(j) = after.find('"') else { break };
        let ident = &after[..j];
        if ident.starts_with("ref:") || ident.starts_with("source:") {
            let k = ident.to_lowercase();
            if !out.contains(&k) {
                out.push(k);
            }
        }
        rest = &after[j + 1..];
    }
    out
}

/// Strips `{% snapshot name %}` … `{% endsnapshot %}`, keeping line numbers.
fn snapshot_body(text: &str) -> Option<(String, String)> {
    let start = text.find("{%")?;
    let close = text[start..].find("%}")? + start;
    if close < start + 2 {
        return None;
    }
    let tag = text[start + 2..close].trim_matches(|c: char| c == '-' || c.is_whitespace());
    let name = tag.strip_prefix("snapshot")?.trim().to_string();
    let end = text.rfind("{%").filter(|&e| e > close)?;
    let end_close = text[end..].find("%}")? + end + 2;
    let mut body = String::new();
    body.push_str(&" ".repeat(close + 2 - start));
    body.insert_str(0, &text[..start]);
    body.push_str(&text[close + 2..end]);
    body.push_str(&text[end_close..]);
    Some((name, body))
}

fn csv_header(src: &SourceFile) -> Vec<(String, Span)> {
    let line = src.line_text(1);
    let mut out = Vec::new();
    let mut col = 0u32;
    for cell in line.split(',') {
        let n = cell.chars().count() as u32;
        let name = cell.trim().trim_matches('"').trim().to_lowercase();
        if !name.is_empty() {
            out.push((name, src.span((1, col), (1, col + n))));
        }
        col += n + 1;
    }
    out
}

/// What `target/manifest.json` holds for us, when the project was compiled.
#[derive(Default)]
struct Manifest {
    /// Compiled SQL and the checksum of the file it was compiled from, by file path.
    compiled: HashMap<PathBuf, (String, Option<String>)>,
    /// `metadata.adapter_type`.
    adapter: Option<String>,
    /// Each node's and source's `relation_name` (dbt's compiled relation, which rendered
    /// aliases and schemas give), by our name of it (`model`, `source.table`).
    relation_names: Vec<(String, String)>,
}

fn sha256_hex(text: &str) -> String {
    use sha2::Digest;
    let d = sha2::Sha256::digest(text.as_bytes());
    d.iter().map(|b| format!("{b:02x}")).collect()
}

impl Manifest {
    /// The compiled code of `path` when it was compiled from `text` as it is now.
    /// `Err(())` when the manifest holds the file but from other contents.
    fn current(&self, path: &Path, text: &str) -> Option<Result<&str, ()>> {
        let (code, checksum) = self.compiled.get(path)?;
        Some(match checksum {
            Some(c) if *c != sha256_hex(text) => Err(()),
            _ => Ok(code.as_str()),
        })
    }
}

fn read_manifest(root: &Path, cx: &LinkCx<'_>) -> Manifest {
    let mut out = Manifest::default();
    let path = root.join("target").join("manifest.json");
    let Some(text) = cx.read_file(&path) else {
        return out;
    };
    let Ok(json) = serde_json::from_str::<serde_json::Value>(&text) else {
        return out;
    };
    out.adapter = json
        .pointer("/metadata/adapter_type")
        .and_then(|a| a.as_str())
        .map(str::to_string);
    // Relations as dbt compiled them (`"db"."schema"."orders"`) back to what the
    // lineage reads (`"ref:orders"`), longest first so that no name eats another.
    let mut relations: Vec<(String, String)> = Vec::new();
    for (key, is_source) in [("nodes", false), ("sources", true)] {
        let Some(nodes) = json.get(key).and_then(|n| n.as_object()) else {
            continue;
        };
        for node in nodes.values() {
            let (Some(rel), Some(name)) = (
                node.get("relation_name").and_then(|r| r.as_str()),
                node.get("name").and_then(|r| r.as_str()),
            ) else {
                continue;
            };
            let ours = if is_source {
                let src = node
                    .get("source_name")
                    .and_then(|r| r.as_str())
                    .unwrap_or("");
                out.relation_names
                    .push((format!("{src}.{name}"), rel.to_string()));
                format!("\"source:{src}.{name}\"")
            } else {
                // A version of a versioned model is the node `name_v<v>` here.
                let name = match node.get("version").filter(|v| !v.is_null()) {
                    Some(v) => format!(
                        "{name}_v{}",
                        v.as_str().map_or(v.to_string(), str::to_string)
                    ),
                    None => name.to_string(),
                };
                out.relation_names.push((name.clone(), rel.to_string()));
                format!("\"ref:{name}\"")
            };
            relations.push((rel.to_string(), ours));
        }
    }
    relations.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.cmp(b)));
    if let Some(nodes) = json.get("nodes").and_then(|n| n.as_object()) {
        for node in nodes.values() {
            let code = node
                .get("compiled_code")
                .or_else(|| node.get("compiled_sql"))
                .and_then(|c| c.as_str());
            let file = node.get("original_file_path").and_then(|c| c.as_str());
            let checksum = node
                .pointer("/checksum/checksum")
                .and_then(|c| c.as_str())
                .filter(|_| {
                    node.pointer("/checksum/name").and_then(|n| n.as_str()) == Some("sha256")
                })
                .map(str::to_string);
            if let (Some(code), Some(file)) = (code, file) {
                let mut code = code.to_string();
                for (rel, ours) in &relations {
                    if !rel.is_empty() && code.contains(rel.as_str()) {
                        code = code.replace(rel.as_str(), ours);
                    }
                }
                out.compiled.insert(root.join(file), (code, checksum));
            }
        }
    }
    out
}

/// What the dbt format reads from one file.
#[derive(Debug, Clone)]
pub(crate) enum DbtFile {
    /// `dbt_project.yml`.
    Project(Box<Project>),
    /// A property file, with the problems found in it: reported only when the file turns
    /// out to sit in a project's resource folders.
    Properties(SchemaFile, Vec<Finding>),
    /// A model's, analysis's or snapshot's SQL; its text is the file's.
    Sql,
    /// A seed's CSV.
    Seed(Vec<(String, Span)>),
}

/// The dbt format.
pub(crate) struct Dbt;

/// Top-level keys of property files.
const PROPERTY_KEYS: [&str; 6] = [
    "models",
    "seeds",
    "snapshots",
    "analyses",
    "sources",
    "exposures",
];

impl Format for Dbt {
    type File = DbtFile;
    type Declared = Vec<ProjectState>;

    fn name(&self) -> &'static str {
        "dbt"
    }

    fn claims(&self, path: &Path, layout: &Layout) -> bool {
        let name = path.file_name().and_then(|n| n.to_str());
        if name == Some(PROJECT_FILE) {
            return true;
        }
        if !(is_dbt_resource(path) || super::is_yaml(path)) {
            return false;
        }
        if is_dbt_resource(path) && layout.is_explicit(path) {
            return true;
        }
        // Inside a project, but not under its `target/`, `dbt_packages/` or `logs/`.
        layout.named(PROJECT_FILE).iter().any(|project| {
            let root = project.parent().unwrap_or(Path::new(""));
            path.strip_prefix(root).is_ok_and(|rel| {
                !matches!(
                    rel.components().next().and_then(|c| c.as_os_str().to_str()),
                    Some("target" | "dbt_packages" | "dbt_modules" | "logs")
                )
            })
        })
    }

    fn read(&self, input: &mut ReadInput<'_>) -> Option<DbtFile> {
        let path = &input.source.path;
        let name = path.file_name().and_then(|n| n.to_str());
        if name == Some(PROJECT_FILE) {
            let root = path.parent().unwrap_or(Path::new("")).to_path_buf();
            let doc = input.yaml().ok().and_then(|d| d.first());
            let mut project = Project::read(&root, doc);
            project.read_meta(doc, input.file, input.taxonomy);
            return Some(DbtFile::Project(Box::new(project)));
        }
        match path.extension().and_then(|e| e.to_str()) {
            Some("sql") => return Some(DbtFile::Sql),
            Some("csv") => return Some(DbtFile::Seed(csv_header(input.source))),
            _ => {}
        }
        if !super::top_level_key_in(&input.source.text, &PROPERTY_KEYS) {
            return None;
        }
        let docs = input.yaml().ok()?;
        // A file holding native or Fides manifests is theirs, not a property file.
        let theirs = |d: Node| super::native::is_manifest(d) || super::fides::is_fides_document(d);
        if docs.documents().any(theirs) {
            return None;
        }
        let mut diags = Vec::new();
        let mut dec = Decoder {
            file: input.file,
            diags: &mut diags,
        };
        let schema = schema::read(&mut dec, docs, input.taxonomy);
        let empty = schema.nodes.is_empty() && schema.exposures.is_empty() && diags.is_empty();
        (!empty).then_some(DbtFile::Properties(schema, diags))
    }

    fn declare(&self, files: Vec<(FileId, DbtFile)>, cx: &mut LinkCx<'_>) -> Vec<ProjectState> {
        declare(files, cx)
    }

    fn link(&self, projects: Vec<ProjectState>, cx: &mut LinkCx<'_>) {
        // The datasets other formats declared (native manifests, Fides) are relations by
        // their names, for models that read them without `ref()`/`source()`.
        if let Some(owner) = projects.first().map(|p| p.owner.clone()) {
            for d in 0..cx.model.datasets.len() as DatasetId {
                if !owner.contains_key(&d) {
                    let name = cx.model.datasets[d as usize].name.clone();
                    cx.model.add_relation(&name, d);
                }
            }
        }
        for p in projects {
            link_project(p, cx);
        }
    }
}

/// One project between declaring and linking.
pub(crate) struct ProjectState {
    project: Project,
    index: usize,
    sql_models: Vec<SqlModel>,
    /// The dataset of each SQL model, when it could be declared.
    model_ds: Vec<Option<DatasetId>>,
    local: HashMap<String, DatasetId>,
    state: HashMap<DatasetId, Columns>,
    /// Exposures with uses, and the sink each became.
    exposures: Vec<(ExposureDecl, SinkId)>,
    /// Which project declared each dataset, across projects.
    owner: Arc<HashMap<DatasetId, usize>>,
    dialects: Vec<Dialect>,
    versions: schema::Versions,
    /// For models rendered again once lineage knows the columns a macro asked for.
    renderer: render::Renderer,
}

/// Reads every dbt project among the files: its datasets, declared columns and
/// exposures, and its models rendered (in parallel), ready for lineage.
fn declare(files: Vec<(FileId, DbtFile)>, cx: &mut LinkCx<'_>) -> Vec<ProjectState> {
    let mut projects: Vec<Project> = Vec::new();
    let mut rest = Vec::new();
    for (id, f) in files {
        match f {
            DbtFile::Project(p) => projects.push(*p),
            other => rest.push((id, other)),
        }
    }
    if projects.is_empty() {
        return Vec::new();
    }
    // Each file belongs to the deepest project root above it.
    let mut by_project: Vec<Vec<(FileId, DbtFile)>> = vec![Vec::new(); projects.len()];
    for (id, f) in rest {
        let path = &cx.model.sources.get(id).path;
        let owner = projects
            .iter()
            .enumerate()
            .filter(|(_, p)| path.starts_with(&p.root))
            .max_by_key(|(_, p)| p.root.components().count())
            .map(|(i, _)| i);
        if let Some(i) = owner {
            by_project[i].push((id, f));
        }
    }
    let mut owner: HashMap<DatasetId, usize> = HashMap::new();
    let mut out = Vec::new();
    for (i, (project, files)) in projects.into_iter().zip(by_project).enumerate() {
        out.push(declare_project(project, i, &mut owner, files, cx));
    }
    let owner = Arc::new(owner);
    for p in &mut out {
        p.owner = owner.clone();
    }
    out
}

fn declare_project(
    mut project: Project,
    index: usize,
    owner: &mut HashMap<DatasetId, usize>,
    files: Vec<(FileId, DbtFile)>,
    cx: &mut LinkCx<'_>,
) -> ProjectState {
    cx.diags.append(&mut project.diags);
    let mut decls: Vec<NodeDecl> = Vec::new();
    let mut exposures = Vec::new();
    let mut sql_files: Vec<(Kind, FileId)> = Vec::new();
    let mut seeds: Vec<Seed> = Vec::new();
    let mut defs = Vec::new();
    for (id, f) in files {
        let src = cx.model.sources.get(id);
        if matches!(f, DbtFile::Sql) && project.is_macro(&src.path) {
            defs.extend(macros::split(&project.name, &src.text));
            continue;
        }
        let Some(area) = project.area(&src.path) else {
            continue;
        };
        match f {
            DbtFile::Properties(schema, diags) => {
                cx.diags.extend(diags);
                decls.extend(schema.nodes);
                exposures.extend(schema.exposures);
            }
            DbtFile::Sql => match area {
                Area::Models => sql_files.push((Kind::Model, id)),
                Area::Analyses => sql_files.push((Kind::Analysis, id)),
                Area::Snapshots => sql_files.push((Kind::Snapshot, id)),
                Area::Seeds => {}
            },
            DbtFile::Seed(columns) if area == Area::Seeds => {
                let name = src
                    .path
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .unwrap_or("")
                    .to_string();
                seeds.push(Seed {
                    name,
                    file: id,
                    columns,
                });
            }
            _ => {}
        }
    }

    // A version's SQL file (`defined_in`, `m_v2.sql`) is the node of that version.
    let versions = schema::Versions::of(&decls);
    let file_node: HashMap<String, String> = decls
        .iter()
        .filter_map(|d| Some((d.version.as_ref()?.defined_in.clone(), d.name.clone())))
        .collect();
    let model_names: Vec<String> = sql_files
        .iter()
        .filter(|(kind, _)| *kind == Kind::Model)
        .filter_map(|&(_, id)| {
            let stem = cx.model.sources.get(id).path.file_stem()?.to_str()?;
            Some(
                file_node
                    .get(stem)
                    .cloned()
                    .unwrap_or_else(|| stem.to_string()),
            )
        })
        .collect();
    // Render every model in parallel.
    let manifest = read_manifest(&project.root, cx);
    defs.extend(macros::package_macros(&macros::packages(&project, cx), cx));
    let profiles_dir = cx.opts.dbt.profiles_dir.clone();
    let target = project::profile_target(&project, profiles_dir.as_deref(), cx);
    let adapter = manifest
        .adapter
        .clone()
        .or_else(|| target.get("type").cloned());
    // The configuration's dialect is the user's word; then the warehouse's.
    let adapter = cx
        .opts
        .dbt
        .dialect
        .map(|d| d.name().to_string())
        .or(adapter);
    let dialects = dialects_for(adapter.as_deref());
    // Activation SQL that names no warehouse takes the projects' dialects first.
    if let Some(d) = adapter.as_deref().and_then(Dialect::from_name) {
        if !cx.model.warehouse_dialects.contains(&d) {
            cx.model.warehouse_dialects.push(d);
        }
    }
    let renderer = render::Renderer::new(render::Setup {
        project: project.name.clone(),
        vars: project.vars.clone(),
        macros: defs,
        dispatch: project.dispatch.clone(),
        adapter: adapter.clone(),
        target,
        columns: declared_columns(&decls, &seeds),
        relations: relation_index(&decls, &seeds, model_names.into_iter()),
        versions: versions.clone(),
    });
    // Property-file settings in Jinja (`schema: "{{ var('s', 'auth') }}"`): rendered
    // with the project's vars; one that does not render keeps the relation without it.
    for d in &mut decls {
        if let Some(jinja) = d.relation_jinja.take() {
            let rendered = renderer.render(&d.name, &jinja, false).sql;
            let rendered = rendered.ok().map(|r| r.trim().to_string());
            if let Some(r) = rendered.filter(|r| !r.is_empty() && !r.contains(['{', '}', ' '])) {
                d.relation = Some(r);
            }
        }
    }
    let sources = &cx.model.sources;
    let mut sql_models: Vec<SqlModel> = sql_files
        .par_iter()
        .map(|&(kind, id)| {
            let src = sources.get(id);
            let stem = src
                .path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("")
                .to_string();
            let (name, text) = if kind == Kind::Snapshot {
                match snapshot_body(&src.text) {
                    Some((n, body)) => (n, body),
                    None => (stem, src.text.to_string()),
                }
            } else {
                let name = match kind {
                    Kind::Model => file_node.get(&stem).cloned().unwrap_or(stem),
                    _ => stem,
                };
                (name, src.text.to_string())
            };
            let mut stale = false;
            let mut config = render::ModelConfig::default();
            let mut missed = Vec::new();
            let mut queried = Vec::new();
            let mut referenced = Vec::new();
            let mut variants = match manifest.current(&src.path, &src.text) {
                Some(Ok(code)) => {
                    // The compiled code says nothing of the model's own `config(meta=…)`.
                    if text.contains("meta") {
                        config = renderer.render(&name, &text, false).config;
                    }
                    vec![Ok(code.to_string())]
                }
                found => {
                    stale = found.is_some();
                    let full = renderer.render(&name, &text, false);
                    config = full.config;
                    missed = full.missed;
                    queried = full.queried;
                    referenced = full.referenced;
                    let mut v = vec![full.sql];
                    // Both shapes of an incremental model: the full refresh and the
                    // increment, whose filters may read other columns.
                    if text.contains("is_incremental") {
                        let inc = renderer.render(&name, &text, true);
                        add_missing(&mut missed, inc.missed);
                        add_missing(&mut queried, inc.queried);
                        add_missing(&mut referenced, inc.referenced);
                        if inc.sql != v[0] {
                            v.push(inc.sql);
                        }
                    }
                    v
                }
            };
            let mut deps = Vec::new();
            for v in variants.iter().flatten() {
                add_missing(&mut deps, deps_of(v));
            }
            // Every relation its Jinja resolved is read, in the SQL or not (dbt's
            // `depends_on`).
            add_missing(&mut deps, referenced);
            // Queries under `{% if execute %}` (the model's, or a macro's it calls) run
            // only in a render as a run would make it. One it does not reach either
            // (it stops before): any of the model's upstreams.
            let query_call = renderer.querying_call(&text).map(str::to_string);
            let in_text = QUERY_CALLS.iter().any(|c| text.contains(c));
            if queried.is_empty() && (in_text || query_call.is_some()) {
                let run = renderer.run_queries(&name, &text);
                if run.ran_query {
                    queried = run.queried;
                } else if in_text || run.sql.is_err() {
                    queried = deps.clone();
                }
            }
            // The relations it lists the columns or queries the data of are linked before it.
            add_missing(&mut deps, missed.clone());
            add_missing(&mut deps, queried.clone());
            let rerender = (!missed.is_empty()).then(|| {
                Box::new(Rerender {
                    template: text,
                    missed,
                })
            });
            let sql = variants.remove(0);
            SqlModel {
                name,
                kind,
                file: id,
                sql,
                incremental: variants.pop(),
                deps,
                stale,
                config: config.or(project.model_config(&src.path)),
                anchor: None,
                rerender,
                queried,
                query_call,
            }
        })
        .collect();
    let yaml_snapshots = yaml_snapshots(&decls, &sql_models, &renderer);
    let synthesized = yaml_snapshots.len();
    sql_models.extend(yaml_snapshots);
    sql_models.sort_by(|a, b| a.name.cmp(&b.name).then(a.file.cmp(&b.file)));
    let stale: Vec<&SqlModel> = sql_models.iter().filter(|m| m.stale).collect();
    if let Some(first) = stale.first() {
        let loc = line_one(first.file, cx.model.sources.get(first.file));
        let diag = Diag::StaleManifest {
            model: first.name.clone(),
            others: stale.len() - 1,
        };
        cx.diags.push(diag.at(loc));
    }

    let mut local = HashMap::new();
    let mut state = HashMap::new();
    let mut l = Loader {
        model: cx.model,
        project: &project,
        local: &mut local,
        owner,
        index,
        state: &mut state,
        diags: &mut cx.diags,
        dialects: &dialects,
        externals: &cx.opts.external_datasets,
        taxonomy: &cx.opts.taxonomy,
    };
    let decl_of: HashMap<(bool, String), usize> = decls
        .iter()
        .enumerate()
        .map(|(i, d)| ((d.kind == Kind::Source, d.name.clone()), i))
        .collect();
    // A seed's or model's property-file declaration, and where the dataset is located:
    // at that declaration, else at the first line of its own file.
    let declared = |name: &str, file: FileId, model: &Model| {
        let decl = decl_of.get(&(false, name.to_string())).map(|&i| &decls[i]);
        let loc = match decl {
            Some(d) => Loc {
                file: d.file,
                span: d.name_span,
            },
            None => line_one(file, model.sources.get(file)),
        };
        (decl, loc)
    };

    // Sources and YAML-only nodes first, then seeds, then models with SQL.
    for d in decls.iter().filter(|d| d.kind == Kind::Source) {
        let loc = Loc {
            file: d.file,
            span: d.name_span,
        };
        if let Some(ds) = l.dataset(&d.name, loc) {
            l.state.insert(ds, Columns::Open);
            // Other formats reading a column it does not list add it, as dbt does.
            l.model.datasets[ds as usize].open = true;
            l.annotate(ds, (Kind::Source, &d.name, d.file), Some(d), None);
            l.relation_names(ds, &d.name, Some(d));
        }
    }
    for s in &seeds {
        let (decl, loc) = declared(&s.name, s.file, l.model);
        if let Some(ds) = l.dataset(&s.name, loc) {
            for (c, span) in &s.columns {
                let _ = l.model.add_field(
                    ds,
                    c.clone(),
                    Loc {
                        file: s.file,
                        span: *span,
                    },
                );
            }
            l.state.insert(ds, Columns::Closed);
            l.annotate(ds, (Kind::Seed, &s.name, s.file), decl, None);
            l.relation_names(ds, &s.name, decl);
        }
    }
    let mut model_ds: Vec<Option<DatasetId>> = Vec::new();
    for m in &sql_models {
        let (decl, loc) = declared(&m.name, m.file, l.model);
        let ds = l.dataset(&m.name, loc);
        if let Some(ds) = ds {
            l.state.insert(ds, Columns::Open);
            l.annotate(ds, (m.kind, &m.name, m.file), decl, Some(&m.config));
            l.relation_names(ds, &m.name, decl);
            if let Some(r) = schema::configured_relation(&m.name, &m.config) {
                l.model.add_relation(&r, ds);
            }
        }
        model_ds.push(ds);
    }
    for d in decls.iter().filter(|d| d.kind != Kind::Source) {
        if l.lookup(&d.name).is_none() && !seeds.iter().any(|s| s.name == d.name) {
            let loc = Loc {
                file: d.file,
                span: d.name_span,
            };
            if let Some(ds) = l.dataset(&d.name, loc) {
                l.state.insert(ds, Columns::Open);
                l.annotate(ds, (d.kind, &d.name, d.file), Some(d), None);
                l.relation_names(ds, &d.name, Some(d));
            }
        }
    }
    // Unpinned `ref('m')` of a versioned model is its latest version.
    for d in &decls {
        let Some(v) = d.version.as_ref().filter(|v| v.latest) else {
            continue;
        };
        if let Some(ds) = l.local.get(&d.name).copied() {
            l.local.entry(v.model.clone()).or_insert(ds);
        }
    }
    // The relations dbt compiled them to, when `target/manifest.json` says (§7.1).
    for (name, relation) in &manifest.relation_names {
        if let Some(ds) = l.lookup(name) {
            l.model.add_relation(relation, ds);
        }
    }

    // Exposures are sinks, fed once their dependencies' columns are known; one without
    // uses matches no rule, and `coverage` lists it.
    let mut sinks = Vec::new();
    let exposure_count = exposures.len();
    for e in exposures {
        let loc = Loc {
            file: e.file,
            span: e.name.span,
        };
        let uses: Vec<String> = e.uses.iter().map(|u| u.value.clone()).collect();
        let mut added = l.model.add_sink(e.name.value.clone(), uses.clone(), loc);
        // Exposures are a namespace of their own in dbt: one may share a model's name.
        if let Err(Named::Dataset(d)) = added {
            if l.local.values().any(|&v| v == d) {
                added = l
                    .model
                    .add_sink(format!("{} (exposure)", e.name.value), uses, loc);
            }
        }
        match added {
            Ok(s) => sinks.push((e, s)),
            Err(existing) => l.duplicate(&e.name.value, loc, existing),
        }
    }
    l.model.manifests +=
        decls.len() + seeds.len() + sql_models.len() - synthesized + exposure_count;
    ProjectState {
        project,
        index,
        sql_models,
        model_ds,
        local,
        state,
        exposures: sinks,
        owner: Arc::default(),
        dialects,
        versions,
        renderer,
    }
}

/// Column lineage of the project's models in dependency order, then the exposures' flows.
fn link_project(p: ProjectState, cx: &mut LinkCx<'_>) {
    let ProjectState {
        project,
        index,
        mut sql_models,
        model_ds,
        mut local,
        mut state,
        exposures,
        owner,
        dialects,
        versions,
        renderer,
    } = p;
    let mut owner = (*owner).clone();
    let mut l = Loader {
        model: cx.model,
        project: &project,
        local: &mut local,
        owner: &mut owner,
        index,
        state: &mut state,
        diags: &mut cx.diags,
        dialects: &dialects,
        externals: &cx.opts.external_datasets,
        taxonomy: &cx.opts.taxonomy,
    };
    let by_name: HashMap<&str, usize> = sql_models
        .iter()
        .enumerate()
        .map(|(i, m)| (m.name.as_str(), i))
        .collect();
    report_cycles(&sql_models, &by_name, &mut l);
    let mut order = topo_order(&sql_models, &by_name);
    // Models are analysed in parallel, a batch of those whose upstream models are done at
    // a time, and linked one by one in dependency order; a model whose upstreams changed
    // since its analysis (a column added to a source it reads) is analysed again, so the
    // result is the same as linking them one by one.
    let mut model_deps: Vec<Vec<usize>> = sql_models
        .iter()
        .map(|m| model_refs(m, &by_name).collect())
        .collect();
    let mut done = vec![false; sql_models.len()];
    let mut pre: Vec<Option<Vec<Variant>>> = (0..sql_models.len()).map(|_| None).collect();
    let model_of: HashMap<DatasetId, usize> = model_ds
        .iter()
        .enumerate()
        .filter_map(|(i, ds)| Some(((*ds)?, i)))
        .collect();
    // The model each model was put after, for SQL that reads it by relation name.
    let mut waits: Vec<Option<usize>> = vec![None; sql_models.len()];
    let mut pos = 0;
    while pos < order.len() {
        let i = order[pos];
        if model_ds[i].is_some() && pre[i].is_none() {
            let batch: Vec<usize> = order[pos..]
                .iter()
                .copied()
                .filter(|&j| {
                    model_ds[j].is_some()
                        && pre[j].is_none()
                        && (j == i || model_deps[j].iter().all(|&d| d == j || done[d]))
                })
                .take(BATCH)
                .collect();
            for &j in &batch {
                l.render_again(&mut sql_models[j], &renderer);
            }
            let view = l.view();
            let analysed: Vec<Vec<Variant>> = batch
                .par_iter()
                .map(|&j| view.analyze_all(&sql_models[j]))
                .collect();
            for (j, v) in batch.into_iter().zip(analysed) {
                pre[j] = Some(v);
            }
        }
        // A model read by its relation name rather than `ref()` is not in the dependency
        // order: the reader waits for it, unless that model waits (in turn) for the reader.
        let upstream_model = pre[i].iter().flatten().flat_map(|v| &v.ids).find_map(|ds| {
            let &j = model_of.get(ds)?;
            let cycle = std::iter::successors(Some(j), |&k| waits[k]).any(|k| k == i);
            (j != i && !done[j] && !cycle).then_some(j)
        });
        if let Some(j) = upstream_model {
            waits[i] = Some(j);
            model_deps[i].push(j);
            pre[i] = None;
            order.remove(pos);
            let after = order
                .iter()
                .position(|&k| k == j)
                .map_or(order.len(), |p| p + 1);
            order.insert(after, i);
            continue;
        }
        if let Some(ds) = model_ds[i] {
            l.model_lineage(&sql_models[i], ds, pre[i].take());
        }
        done[i] = true;
        pos += 1;
    }
    if l.model.records_symbols() {
        for m in sql_models.iter().filter(|m| m.anchor.is_none()) {
            let text = l.model.sources.get(m.file).text.clone();
            for (start, end, name) in jinja_refs(&text) {
                let call = &text[start as usize..end as usize];
                let name = versions.resolve(&name, schema::dependency_version(call).as_deref());
                if let Some(ds) = l.lookup(&name) {
                    let span = Span {
                        start,
                        end,
                        ..Span::default()
                    };
                    l.model.note(m.file, span, SymbolTarget::Dataset(ds), false);
                }
            }
        }
    }
    for (e, sink) in &exposures {
        let loc = Loc {
            file: e.file,
            span: e.name.span,
        };
        let step = l.model.add_step(
            format!("{}/{}", project.name, e.name.value),
            loc,
            Vec::new(),
        );
        for dep in &e.depends_on {
            let dloc = Loc {
                file: e.file,
                span: dep.span,
            };
            let version = schema::dependency_version(&dep.value);
            let target = schema::parse_dependency(&dep.value).map(|(k, n)| match k {
                Kind::Model => versions.resolve(&n, version.as_deref()),
                _ => n,
            });
            let found = target.as_deref().and_then(|n| l.lookup(n));
            if let Some(ds) = found {
                l.model
                    .note(e.file, dep.span, SymbolTarget::Dataset(ds), false);
            }
            let Some(ds) = found else {
                let diag = Diag::UnknownDependency {
                    exposure: e.name.value.clone(),
                    dependency: dep.value.clone(),
                };
                l.diags.push(diag.at(dloc));
                continue;
            };
            let fields = l.model.dataset(ds).fields.clone();
            for f in fields {
                l.model.flows.push(Flow {
                    from: f,
                    to: Target::Sink(*sink),
                    kind: FlowKind::Passthrough,
                    functions: Vec::new(),
                    step,
                    loc: dloc,
                    focus: None,
                });
            }
        }
    }
    // Models that pass columns they do not list, for the formats linked after dbt (a
    // reverse-ETL table naming a column of `select *` over an open source).
    for (&ds, c) in state.iter() {
        if matches!(c, Columns::Pass { .. } | Columns::AllUpstream { .. }) {
            let name = dbt_step_name(&project.name, cx.model, ds);
            cx.model.on_demand.insert(ds, (c.clone(), name));
        }
    }
}

struct Loader<'m> {
    model: &'m mut Model,
    project: &'m Project,
    /// This project's names, which take precedence over other projects' datasets.
    local: &'m mut HashMap<String, DatasetId>,
    owner: &'m mut HashMap<DatasetId, usize>,
    index: usize,
    state: &'m mut HashMap<DatasetId, Columns>,
    diags: &'m mut Vec<Finding>,
    /// The warehouse's dialect first, then the others to try.
    dialects: &'m [Dialect],
    /// The configuration's purposes for relations no format declares.
    externals: &'m [ExternalDataset],
    taxonomy: &'m crate::taxonomy::Taxonomy,
}

/// The models (indexes in `index`) that model `m` depends on.
fn model_refs<'a>(
    m: &'a SqlModel,
    index: &'a HashMap<&str, usize>,
) -> impl Iterator<Item = usize> + 'a {
    m.deps
        .iter()
        .filter_map(|d| d.strip_prefix("ref:").and_then(|r| index.get(r)).copied())
}

/// Models that read one another in a cycle of `ref()`s, which dbt refuses to build: an
/// error at the first model's `ref()` of the next, since they are linked in an order
/// that cannot be right for all of them.
fn report_cycles(models: &[SqlModel], index: &HashMap<&str, usize>, l: &mut Loader<'_>) {
    let mut graph = petgraph::graph::DiGraph::<usize, ()>::new();
    let nodes: Vec<_> = (0..models.len()).map(|i| graph.add_node(i)).collect();
    for (i, m) in models.iter().enumerate() {
        for j in model_refs(m, index).filter(|&j| j != i) {
            graph.add_edge(nodes[i], nodes[j], ());
        }
    }
    let mut cycles: Vec<Vec<usize>> = petgraph::algo::tarjan_scc(&graph)
        .into_iter()
        .filter(|c| c.len() > 1)
        .map(|c| {
            let mut c: Vec<usize> = c.into_iter().map(|n| graph[n]).collect();
            c.sort_by(|&a, &b| models[a].name.cmp(&models[b].name));
            c
        })
        .collect();
    cycles.sort_by(|a, b| models[a[0]].name.cmp(&models[b[0]].name));
    for cycle in cycles {
        let first = &models[cycle[0]];
        let names: Vec<String> = cycle
            .iter()
            .map(|&i| format!("`{}`", models[i].name))
            .collect();
        let src = l.model.sources.get(first.file);
        // Where the first model reads another of the cycle.
        let next = cycle[1..].iter().filter_map(|&i| {
            let name = &models[i].name;
            ["'", "\""]
                .iter()
                .find_map(|q| src.text.find(&format!("{q}{name}{q}")))
                .map(|at| (at + 1, name.len()))
        });
        let loc = match next.min() {
            Some((at, len)) if first.anchor.is_none() => Loc {
                file: first.file,
                span: src.span_of_bytes(at as u32, (at + len) as u32),
            },
            _ => first.loc(src),
        };
        let message = format!(
            "dbt models {} read one another in a cycle of `ref()`s, which dbt refuses to \
             build; their lineage is followed in an order that cannot hold for all of them",
            names.join(", ")
        );
        l.diags.push(Diag::Invalid(message).at(loc));
    }
}

fn topo_order(models: &[SqlModel], index: &HashMap<&str, usize>) -> Vec<usize> {
    let n = models.len();
    let mut indeg = vec![0usize; n];
    let mut down: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, m) in models.iter().enumerate() {
        for j in model_refs(m, index).filter(|&j| j != i) {
            indeg[i] += 1;
            down[j].push(i);
        }
    }
    let mut ready: std::collections::BTreeSet<usize> = (0..n).filter(|&i| indeg[i] == 0).collect();
    let mut order = Vec::with_capacity(n);
    let mut done = vec![false; n];
    loop {
        while let Some(i) = ready.pop_first() {
            done[i] = true;
            order.push(i);
            for &k in &down[i] {
                // A model taken early to break a cycle is done already.
                if done[k] || ready.contains(&k) {
                    continue;
                }
                indeg[k] -= 1;
                if indeg[k] == 0 {
                    ready.insert(k);
                }
            }
        }
        // A cycle: take the first remaining model anyway.
        match (0..n).find(|&i| !done[i]) {
            Some(i) => {
                indeg[i] = 0;
                ready.insert(i);
            }
            None => break,
        }
    }
    order
}

struct Cat<'a> {
    model: &'a Model,
    local: &'a HashMap<String, DatasetId>,
    state: &'a HashMap<DatasetId, Columns>,
    ids: Vec<DatasetId>,
    /// What each answer depended on, to tell later whether it still holds.
    reads: Vec<Read>,
    /// Relations no dataset has the name of: their upstream index ([`RAW`] in `ids`).
    raw: Vec<(u32, String)>,
}

/// In a catalog's `ids`, a relation that is no dataset yet.
const RAW: DatasetId = DatasetId::MAX;

/// A dataset as the catalog saw it: its field count and whether it was open. Fields are
/// only ever added, so the same count means the same columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Read {
    ds: DatasetId,
    fields: usize,
    open: bool,
}

impl Read {
    fn of(ds: DatasetId, model: &Model, state: &HashMap<DatasetId, Columns>) -> Read {
        Read {
            ds,
            fields: model.dataset(ds).fields.len(),
            open: match state.get(&ds) {
                Some(c) => !matches!(c, Columns::Closed),
                // Another format's dataset: open when that format says so.
                None => model.dataset(ds).open,
            },
        }
    }
}

impl Cat<'_> {
    /// The upstream index of dataset `ds`, recording the read.
    fn index_of(&mut self, ds: DatasetId) -> u32 {
        match self.ids.iter().position(|&d| d == ds) {
            Some(p) => p as u32,
            None => {
                self.ids.push(ds);
                (self.ids.len() - 1) as u32
            }
        }
    }

    /// Dataset `ds` as an upstream, with the columns it has now (recorded as read).
    fn upstream(&mut self, ds: DatasetId, alias: String) -> Upstream {
        let id = self.index_of(ds);
        let read = Read::of(ds, self.model, self.state);
        if !self.reads.contains(&read) {
            self.reads.push(read);
        }
        Upstream {
            id,
            columns: self.model.field_names(ds).map(str::to_string).collect(),
            open: read.open,
            default_alias: alias,
        }
    }

    /// A relation named without `ref()`/`source()`: the dataset that has that relation
    /// name (the longest unique suffix), else an external dataset made for it when the
    /// model is linked. Several datasets of that name are a problem of the model.
    fn raw(&mut self, name: &str) -> Option<Upstream> {
        let alias = name.rsplit('.').next().unwrap_or(name).to_string();
        let found = self.model.match_relation(name);
        let ds = match found.as_slice() {
            [d] => *d,
            [] => {
                let id = match self.raw.iter().find(|(_, n)| n == name) {
                    Some((i, _)) => *i,
                    None => {
                        self.ids.push(RAW);
                        let i = (self.ids.len() - 1) as u32;
                        self.raw.push((i, name.to_string()));
                        i
                    }
                };
                return Some(Upstream {
                    id,
                    columns: Rc::from([]),
                    open: true,
                    default_alias: alias,
                });
            }
            _ => return None,
        };
        Some(self.upstream(ds, alias))
    }
}

impl Catalog for Cat<'_> {
    fn relation(&mut self, name: &[String], _: Option<crate::sql::SqlSpan>) -> Option<Upstream> {
        let table = name.join(".").to_lowercase();
        let (name, alias) = if let Some(m) = table.strip_prefix("ref:") {
            (m.to_string(), m.to_string())
        } else if let Some(s) = table.strip_prefix("source:") {
            let alias = s.rsplit('.').next().unwrap_or(s).to_string();
            (s.to_string(), alias)
        } else {
            return self.raw(&table);
        };
        let ds = self
            .local
            .get(&name)
            .copied()
            .or_else(|| self.model.dataset_id(&name))
            .or_else(|| {
                // Names as written may differ in case from the declaration.
                self.model
                    .names()
                    .find(|n| n.to_lowercase() == name)
                    .and_then(|n| self.model.dataset_id(n))
            })?;
        Some(self.upstream(ds, alias))
    }
}

/// One shape of a model (full refresh or increment) analysed: its lineage with every
/// location mapped back to the model's file. Computed in parallel against the model as it
/// was; used only if what it read is unchanged when its turn comes.
struct Variant {
    lin: Lineage,
    /// The dataset of each upstream index of `lin` ([`RAW`] for those of `raw`).
    ids: Vec<DatasetId>,
    raw: Vec<(u32, String)>,
    reads: Vec<Read>,
    /// Where each output column is, and each of its inputs.
    col_locs: Vec<Loc>,
    input_locs: Vec<Vec<Loc>>,
    /// Where the passthrough is, and each of its indirect inputs.
    pass_locs: Option<(Loc, Vec<Loc>)>,
    /// Where each unresolved reference of `lin.unresolved` is.
    unresolved_locs: Vec<Loc>,
    /// Where the SQL stops parsing, when it does.
    problem_loc: Option<Loc>,
}

impl Variant {
    fn still_holds(&self, model: &Model, state: &HashMap<DatasetId, Columns>) -> bool {
        self.reads
            .iter()
            .all(|r| Read::of(r.ds, model, state) == *r)
    }
}

/// What the link of a project reads while models are analysed in parallel.
struct View<'a> {
    model: &'a Model,
    local: &'a HashMap<String, DatasetId>,
    state: &'a HashMap<DatasetId, Columns>,
    dialects: &'a [Dialect],
}

impl View<'_> {
    fn analyze(&self, m: &SqlModel, sql: &Result<String, String>) -> Variant {
        let src = self.model.sources.get(m.file);
        let model_loc = m.loc(src);
        let (mut lin, ids, reads, raw) = match sql {
            Ok(sql) => {
                let mut cat = Cat {
                    model: self.model,
                    local: self.local,
                    state: self.state,
                    ids: Vec::new(),
                    reads: Vec::new(),
                    raw: Vec::new(),
                };
                let lin = crate::sql::lineage(sql, self.dialects, &mut cat);
                (lin, cat.ids, cat.reads, cat.raw)
            }
            Err(e) => (
                Lineage {
                    problems: vec![e.clone()],
                    ..Lineage::default()
                },
                Vec::new(),
                Vec::new(),
                Vec::new(),
            ),
        };
        let empty = String::new();
        let text = sql.as_ref().unwrap_or(&empty);
        let map = LineMap::new(text, src);
        let at = |s: Option<SqlSpan>| -> Loc {
            match s {
                Some(s) if m.anchor.is_none() => Loc {
                    file: m.file,
                    span: map.map(s),
                },
                _ => model_loc,
            }
        };
        let col_locs = lin.columns.iter().map(|c| at(c.span)).collect();
        let input_locs = if lin.problems.is_empty() {
            lin.columns
                .iter()
                .map(|c| c.inputs.iter().map(|i| at(i.span.or(c.span))).collect())
                .collect()
        } else {
            Vec::new()
        };
        let pass_locs = lin
            .passthrough
            .as_ref()
            .map(|p| (at(p.span), p.indirect.iter().map(|i| at(i.span)).collect()));
        let unresolved_locs = lin.unresolved.iter().map(|(_, s)| at(*s)).collect();
        // The error at its place in the model's file, rather than in the rendered SQL.
        let mut problem_loc = None;
        if let Some(first) = lin.problems.first_mut() {
            if let Some((span, msg)) = crate::sql::error_position(first) {
                problem_loc = Some(at(Some(span)));
                *first = msg.to_string();
            }
        }
        Variant {
            lin,
            ids,
            raw,
            reads,
            col_locs,
            input_locs,
            pass_locs,
            unresolved_locs,
            problem_loc,
        }
    }

    /// Every shape of the model.
    fn analyze_all(&self, m: &SqlModel) -> Vec<Variant> {
        std::iter::once(&m.sql)
            .chain(m.incremental.as_ref())
            .map(|sql| self.analyze(m, sql))
            .collect()
    }
}

/// Models analysed at once, at most: their results wait for their turn in memory.
const BATCH: usize = 512;

impl Loader<'_> {
    fn duplicate(&mut self, name: &str, loc: Loc, existing: Named) {
        let diag = Diag::Duplicate {
            what: None,
            name: name.to_string(),
            first: self.model.sources.file_line(self.model.loc_of(existing)),
        };
        self.diags.push(diag.at(loc));
    }

    fn lookup(&self, name: &str) -> Option<DatasetId> {
        self.local
            .get(name)
            .copied()
            .or_else(|| self.model.dataset_id(name))
    }

    /// A dataset of this project. A name another dbt project of the run already holds
    /// is qualified with the project's name (`project/model`): projects are separate
    /// namespaces in dbt.
    fn dataset(&mut self, name: &str, loc: Loc) -> Option<DatasetId> {
        let mut result = self.model.add_dataset(name.to_string(), loc, false);
        if let Err(Named::Dataset(existing)) = result {
            if self.owner.get(&existing).is_some_and(|&o| o != self.index) {
                result =
                    self.model
                        .add_dataset(format!("{}/{name}", self.project.name), loc, false);
            }
        }
        match result {
            Ok(id) => {
                self.local.insert(name.to_string(), id);
                self.owner.insert(id, self.index);
                Some(id)
            }
            Err(existing) => {
                self.duplicate(name, loc, existing);
                None
            }
        }
    }

    /// Makes dataset `ds` addressable by relation name in SQL that does not `ref()` it:
    /// by its name, and by the relation its property file says it is.
    fn relation_names(&mut self, ds: DatasetId, name: &str, decl: Option<&NodeDecl>) {
        self.model.add_relation(name, ds);
        if let Some(r) = decl.and_then(|d| d.relation.as_deref()) {
            self.model.add_relation(r, ds);
        }
    }

    /// The annotations of node `name` (of `kind`, in `file`): its merged `meta` (see
    /// [`meta::node_annot`]), and the declared columns of its property-file entry.
    fn annotate(
        &mut self,
        ds: DatasetId,
        (kind, name, file): (Kind, &str, FileId),
        decl: Option<&NodeDecl>,
        config: Option<&render::ModelConfig>,
    ) {
        let src = self.model.sources.get(file);
        let node = (kind, name, src);
        let checks = (file, &mut *self.diags, self.taxonomy);
        let annot = meta::node_annot(self.project, node, decl, config, checks);
        {
            let dset = &mut self.model.datasets[ds as usize];
            dset.purposes
                .extend(annot.purposes.iter().map(|p| p.value.clone()));
            dset.categories
                .extend(annot.categories.iter().map(|p| p.value.clone()));
            dset.uses.extend(annot.uses.iter().map(|p| p.value.clone()));
        }
        let Some(d) = decl else { return };
        for c in &d.columns {
            let loc = Loc {
                file: d.file,
                span: c.name.span,
            };
            let name = c.name.value.to_lowercase();
            let f = match self.model.add_field(ds, name, loc) {
                Ok(f) => f,
                // A seed's CSV header came first: the declaration is where it is located.
                Err(f) => {
                    self.model.fields[f as usize].loc = loc;
                    f
                }
            };
            if c.annot.purposes.is_empty() && c.annot.categories.is_empty() {
                continue;
            }
            let tags = self.model.fields[f as usize].tags_mut();
            tags.purposes
                .extend(c.annot.purposes.iter().map(|p| p.value.clone()));
            tags.categories
                .extend(c.annot.categories.iter().map(|p| p.value.clone()));
        }
    }

    /// The field `col` of `ds`, created (with its own lineage) when the dataset allows it.
    fn demand(&mut self, ds: DatasetId, col: &str, depth: usize) -> Option<FieldId> {
        let state_map = &*self.state;
        let state = |m: &Model, d: DatasetId| column_state(state_map.get(&d), m, d);
        let project = &self.project.name;
        let mut step_of = |m: &mut Model, d: DatasetId| {
            let loc = m.dataset(d).loc;
            m.step_named(&dbt_step_name(project, m, d), loc)
        };
        crate::model::demand_column(self.model, &state, &mut step_of, (ds, col), depth)
    }

    /// The datasets of a variant's upstream indexes, with an external dataset for each
    /// relation that no dataset had the name of (made once, by the relation's name).
    fn upstream_ids(&mut self, v: &Variant, loc: Loc) -> Vec<DatasetId> {
        let mut ids = v.ids.clone();
        for (i, name) in &v.raw {
            ids[*i as usize] = self.external(name, loc);
        }
        ids
    }

    /// The dataset of relation `name`, which no dataset declared when the model was
    /// analysed: an external dataset, open (its columns appear as they are read), with
    /// the purposes of the configuration's `external_datasets` that match it.
    fn external(&mut self, name: &str, loc: Loc) -> DatasetId {
        if let [d] = self.model.match_relation(name).as_slice() {
            return *d;
        }
        let key = crate::model::relation_parts(name).join(".");
        // A sink of that name leaves the dataset a name of its own.
        let mut n = 0;
        let d = loop {
            let dname = match n {
                0 => key.clone(),
                n => format!("{key} (relation {n})"),
            };
            match self.model.add_dataset(dname, loc, true) {
                Ok(d) | Err(Named::Dataset(d)) => break d,
                Err(Named::Sink(_)) => n += 1,
            }
        };
        let ds = &mut self.model.datasets[d as usize];
        ds.open = true;
        for p in ExternalDataset::purposes_of(self.externals, &key) {
            if !ds.purposes.contains(&p) {
                ds.purposes.push(p);
            }
        }
        self.model.add_relation(&key, d);
        d
    }

    fn flow(
        &mut self,
        from: FieldId,
        to: FieldId,
        kind: FlowKind,
        functions: Vec<String>,
        step: StepId,
        loc: Loc,
    ) {
        self.model
            .add_field_flow(from, to, kind, functions, step, loc);
    }

    fn view(&self) -> View<'_> {
        View {
            model: self.model,
            local: self.local,
            state: self.state,
            dialects: self.dialects,
        }
    }

    /// Says that `m`'s lineage is incomplete, and why, at `loc`.
    fn incomplete(&mut self, m: &SqlModel, reason: String, loc: Loc) {
        let diag = Diag::IncompleteLineage {
            model: m.name.clone(),
            reason,
        };
        self.diags.push(diag.at(loc));
    }

    /// The columns of relation `key` (`ref:x`, `source:a.b`) that lineage found, as a
    /// warehouse would list them: those of a model linked before, or of any dataset
    /// (`select *` over a source lists the source's declared columns, as the source
    /// itself would). None when it has none, or only the one node of a fallback.
    fn known_columns(&self, key: &str) -> Option<Vec<String>> {
        let ds = self.lookup(relation_name(key))?;
        let names: Vec<String> = self
            .model
            .field_names(ds)
            .filter(|n| *n != "*")
            .map(str::to_string)
            .collect();
        (!names.is_empty()).then_some(names)
    }

    /// The relations whose columns `m`'s Jinja asked for and lineage knows none of, then
    /// those whose data it queried (`get_column_values`, `run_query`, which give nothing
    /// at compile time), each with where the model asks and the call.
    fn unknown_inputs(&self, m: &SqlModel, src: &SourceFile) -> Vec<UnknownInput> {
        let at = |calls: &[&str], macro_call: Option<&str>| -> (Loc, String) {
            let call = calls
                .iter()
                .copied()
                .chain(macro_call)
                .filter_map(|name| Some((src.text.find(name)?, name)))
                .min_by_key(|&(at, name)| (at, std::cmp::Reverse(name.len())));
            match call {
                Some((at, name)) if m.anchor.is_none() => {
                    let span = src.span_of_bytes(at as u32, (at + name.len()) as u32);
                    (Loc { file: m.file, span }, name.to_string())
                }
                _ => (m.loc(src), calls[0].to_string()),
            }
        };
        let named = |k: &String| -> Option<(String, DatasetId)> {
            let name = relation_name(k);
            Some((name.to_string(), self.lookup(name)?))
        };
        let listed: Vec<&String> = m
            .rerender
            .iter()
            .flat_map(|r| &r.missed)
            .filter(|k| self.known_columns(k).is_none())
            .collect();
        let lists = [
            "get_columns_in_relation",
            "get_filtered_columns_in_relation",
        ];
        let mut out = Vec::new();
        for (keys, calls, macro_call, data) in [
            (listed, &lists[..], None, false),
            (
                m.queried.iter().collect(),
                QUERY_CALLS,
                m.query_call.as_deref(),
                true,
            ),
        ] {
            if keys.is_empty() {
                continue;
            }
            let (loc, call) = at(calls, macro_call);
            for (relation, ds) in keys.into_iter().filter_map(named) {
                out.push(UnknownInput {
                    relation,
                    ds,
                    loc,
                    call: call.clone(),
                    data,
                });
            }
        }
        out
    }

    /// Renders model `m` again when lineage now knows the columns of relations its
    /// macros asked for (`get_columns_in_relation`), which its upstreams, linked before
    /// it, have given.
    fn render_again(&self, m: &mut SqlModel, renderer: &render::Renderer) {
        let Some(r) = m.rerender.as_mut() else {
            return;
        };
        let columns: HashMap<String, Vec<String>> = r
            .missed
            .iter()
            .filter_map(|k| Some((k.clone(), self.known_columns(k)?)))
            .collect();
        if columns.is_empty() {
            return;
        }
        let full = renderer.render_with(&m.name, &r.template, false, columns.clone());
        add_missing(&mut r.missed, full.missed);
        m.sql = full.sql;
        if r.template.contains("is_incremental") {
            let inc = renderer.render_with(&m.name, &r.template, true, columns);
            add_missing(&mut r.missed, inc.missed);
            m.incremental = (inc.sql != m.sql).then_some(inc.sql);
        }
    }

    /// The lineage of model `m` from its shapes analysed beforehand (`pre`, when they
    /// were), each analysed again if what it read has changed since.
    fn model_lineage(&mut self, m: &SqlModel, ds: DatasetId, pre: Option<Vec<Variant>>) {
        let src = self.model.sources.get(m.file).clone();
        let model_loc = m.loc(&src);
        let step = self.model.add_step(
            format!("{}/{}", self.project.name, m.name),
            model_loc,
            Vec::new(),
        );
        let mut problems: Vec<String> = Vec::new();
        let mut problem_loc = None;
        // Output columns that fell back alone, and the references that made them.
        let mut fell_back: Vec<String> = Vec::new();
        let mut unresolved: Vec<(String, Loc)> = Vec::new();
        let mut dialect = None;
        let mut flows = Vec::new();
        let mut state: Option<Columns> = None;
        let mut ids: Vec<DatasetId> = Vec::new();
        let mut pre = pre.unwrap_or_default().into_iter();
        // The lineage is the union of the model's shapes (full refresh, increment).
        for sql in std::iter::once(&m.sql).chain(m.incremental.as_ref()) {
            let v = match pre.next() {
                Some(v) if v.still_holds(self.model, self.state) => v,
                _ => self.view().analyze(m, sql),
            };
            let v_ids = &self.upstream_ids(&v, model_loc);
            for &u in v_ids {
                if !ids.contains(&u) {
                    ids.push(u);
                }
            }
            let lin = &v.lin;
            // Output columns as fields: the YAML declaration when there is one, else the SQL.
            let mut outs: Vec<(FieldId, &OutColumn)> = Vec::new();
            for (c, loc) in lin.columns.iter().zip(&v.col_locs) {
                let f = match self.model.add_field(ds, c.name.clone(), *loc) {
                    Ok(f) | Err(f) => f,
                };
                outs.push((f, c));
            }
            dialect = dialect.or(lin.dialect);
            if !lin.problems.is_empty() {
                if problems.is_empty() {
                    problem_loc = v.problem_loc;
                }
                problems.extend(lin.problems.iter().cloned());
                continue;
            }
            for c in lin.columns.iter().filter(|c| c.fallback) {
                if !fell_back.contains(&c.name) {
                    fell_back.push(c.name.clone());
                }
            }
            for ((name, _), loc) in lin.unresolved.iter().zip(&v.unresolved_locs) {
                if !unresolved.iter().any(|(n, _)| n == name) {
                    unresolved.push((name.clone(), *loc));
                }
            }
            for ((f, c), locs) in outs.iter().zip(&v.input_locs) {
                for (i, loc) in c.inputs.iter().zip(locs) {
                    let up = v_ids[i.upstream as usize];
                    match self.demand(up, &i.column, 0) {
                        Some(from) => flows.push((from, *f, i.kind, i.functions.clone(), *loc)),
                        None => problems.push(format!(
                            "cannot resolve column `{}` of `{}`",
                            i.column,
                            self.model.dataset(up).name
                        )),
                    }
                }
            }
            if let (None, Some(p), Some((at, ind_locs))) = (&state, &lin.passthrough, &v.pass_locs)
            {
                state = Some(Columns::Pass {
                    upstream: v_ids[p.upstream as usize],
                    loc: *at,
                    indirect: p
                        .indirect
                        .iter()
                        .zip(ind_locs)
                        .map(|(i, l)| (v_ids[i.upstream as usize], i.column.clone(), *l))
                        .collect(),
                });
            }
        }
        let dialect = dialect.map(Dialect::name);
        if problems.is_empty() {
            for (from, to, kind, functions, loc) in flows {
                self.flow(from, to, kind, functions, step, loc);
            }
            let unknown = self.unknown_inputs(m, &src);
            let state = match state {
                // Columns made from a list we could not give may be any of the model's.
                None if !unknown.is_empty() => Columns::AllUpstream {
                    upstreams: unknown.iter().map(|u| u.ds).collect(),
                    loc: unknown[0].loc,
                },
                s => s.unwrap_or(Columns::Closed),
            };
            self.state.insert(ds, state);
            let mut status = (LineageStatus::Full, None);
            if let Some((_, loc)) = unresolved.first().filter(|_| !fell_back.is_empty()) {
                // A name that reaches no output column (in a CTE nothing reads) changes none.
                let reason = partial_reason(&fell_back, &unresolved);
                self.incomplete(m, reason, *loc);
                let kind = "cannot resolve column".to_string();
                status = (LineageStatus::Partial, Some(kind));
            }
            for u in &unknown {
                let outs = self.model.dataset(ds).fields.clone();
                if self.model.dataset(u.ds).fields.is_empty() {
                    // Columns unknown: the relation as one node, so that its dataset's
                    // purposes still reach the model, as in a fallback.
                    let at = self.model.dataset(u.ds).loc;
                    let _ = self.model.add_field(u.ds, "*".to_string(), at);
                }
                for uf in self.model.dataset(u.ds).fields.clone() {
                    for &o in &outs {
                        self.flow(uf, o, FlowKind::Direct, Vec::new(), step, u.loc);
                    }
                }
                if u.data {
                    continue;
                }
                let (relation, call) = (&u.relation, &u.call);
                let reason = format!(
                    "its Jinja lists the columns of `{relation}` (`{call}`), which no property \
                     file declares and lineage found none of, so every column may hold any \
                     column of `{relation}`; declare its columns"
                );
                self.incomplete(m, reason, u.loc);
            }
            // One diagnostic for the data it queries, of however many relations.
            let queried: Vec<&UnknownInput> = unknown.iter().filter(|u| u.data).collect();
            if let Some(first) = queried.first() {
                const SHOWN: usize = 5;
                let mut names: Vec<String> = queried
                    .iter()
                    .take(SHOWN)
                    .map(|u| format!("`{}`", u.relation))
                    .collect();
                if queried.len() > SHOWN {
                    names.push(format!("{} more", queried.len() - SHOWN));
                }
                let reason = format!(
                    "its Jinja queries data that only the warehouse has (`{}`), so every \
                     column may hold any column of {}",
                    first.call,
                    names.join(", ")
                );
                self.incomplete(m, reason, first.loc);
            }
            if let Some(u) = unknown.first().filter(|_| status.0 == LineageStatus::Full) {
                let kind = match u.data {
                    true => "data of a relation queried",
                    false => "columns of a relation not known",
                }
                .to_string();
                status = (LineageStatus::Partial, Some(kind));
            }
            let (status, reason) = status;
            self.model.sql_lineage.push(ModelLineage {
                name: m.name.clone(),
                status,
                reason,
                dialect,
            });
            return;
        }
        // Conservative lineage: every upstream column reaches every output column.
        problems.dedup();
        let mut upstreams: Vec<DatasetId> = ids.clone();
        for d in &m.deps {
            if let Some(u) = self.lookup(relation_name(d)) {
                if !upstreams.contains(&u) {
                    upstreams.push(u);
                }
            }
        }
        if m.sql.is_err() {
            for u in raw_deps(&src.text) {
                if let Some(u) = self.lookup(&u) {
                    if !upstreams.contains(&u) {
                        upstreams.push(u);
                    }
                }
            }
        }
        upstreams.retain(|&u| u != ds);
        let mut outs: Vec<FieldId> = self.model.dataset(ds).fields.clone();
        if outs.is_empty() {
            // Columns unknown: the whole relation is one node, so that whatever reads the
            // model (an exposure, a sink) still receives every upstream column.
            if let Ok(f) = self.model.add_field(ds, "*".to_string(), model_loc) {
                outs.push(f);
            }
        }
        for &u in &upstreams {
            for uf in self.model.dataset(u).fields.clone() {
                for &o in &outs {
                    self.flow(uf, o, FlowKind::Direct, Vec::new(), step, model_loc);
                }
            }
        }
        self.state.insert(
            ds,
            Columns::AllUpstream {
                upstreams,
                loc: model_loc,
            },
        );
        let mut reason = problems.first().cloned().unwrap_or_default();
        if problems.len() > 1 {
            reason.push_str(&format!(" (and {} more)", problems.len() - 1));
        }
        self.model.sql_lineage.push(ModelLineage {
            name: m.name.clone(),
            status: LineageStatus::Fallback,
            reason: Some(reason_kind(&reason)),
            dialect,
        });
        self.incomplete(m, reason, problem_loc.unwrap_or(model_loc));
    }
}

/// Why some columns of a model fell back alone: the columns, then the references that
/// could not be resolved, each with its line in the model's file.
fn partial_reason(columns: &[String], unresolved: &[(String, Loc)]) -> String {
    const SHOWN: usize = 5;
    let list = |names: Vec<String>, total: usize| {
        let mut s = names.join(", ");
        if total > SHOWN {
            s.push_str(&format!(" and {} more", total - SHOWN));
        }
        s
    };
    let cols = columns
        .iter()
        .take(SHOWN)
        .map(|c| format!("`{c}`"))
        .collect();
    let refs = unresolved
        .iter()
        .take(SHOWN)
        .map(|(n, l)| format!("`{n}` (line {})", l.span.start_pos.line))
        .collect();
    let noun = if columns.len() == 1 {
        "column"
    } else {
        "columns"
    };
    format!(
        "{noun} {} fell back to every column of the relations in scope, because this \
         cannot be resolved: {}; the other columns' lineage is exact",
        list(cols, columns.len()),
        list(refs, unresolved.len())
    )
}

/// The kind of a lineage problem, for statistics: its text before any detail, with names
/// and numbers left out (`reads `…`, which is neither a ref(), a source() nor a CTE`).
pub(crate) fn reason_kind(reason: &str) -> String {
    let head = reason.split(": ").next().unwrap_or(reason);
    let head = head.split(" (and ").next().unwrap_or(head);
    let mut out = String::new();
    let mut quoted = false;
    let mut digits = false;
    for ch in head.chars() {
        if ch == '`' {
            if !quoted {
                out.push_str("`…`");
            }
            quoted = !quoted;
            continue;
        }
        if quoted {
            continue;
        }
        if ch.is_ascii_digit() {
            if !digits {
                out.push('N');
            }
            digits = true;
            continue;
        }
        digits = false;
        out.push(ch);
    }
    out.trim().to_string()
}

/// `ref(...)` and `source(...)` calls in a model's own text: their byte ranges and the
/// dataset names they give (`x`, `a.b`), for the editor.
fn jinja_refs(text: &str) -> Vec<(u32, u32, String)> {
    let mut out = Vec::new();
    for pat in ["ref(", "source("] {
        let mut from = 0;
        while let Some(i) = text[from..].find(pat) {
            let start = from + i;
            let word_before = text[..start]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.');
            let Some(close) = text[start..].find(')') else {
                break;
            };
            let end = start + close + 1;
            from = end;
            if word_before {
                continue;
            }
            if let Some((_, name)) = schema::parse_dependency(&text[start..end]) {
                out.push((start as u32, end as u32, name));
            }
        }
    }
    out
}

/// `ref('x')` and `source('a', 'b')` calls in unrendered Jinja, for the fallback.
fn raw_deps(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (pat, is_source) in [("ref(", false), ("source(", true)] {
        let mut rest = text;
        while let Some(i) = rest.find(pat) {
            let after = &rest[i + pat.len()..];
            let Some(j) = after.find(')') else { break };
            let args: Vec<String> = after[..j]
                .split(',')
                .map(|a| a.trim().trim_matches(|c| c == '\'' || c == '"').to_string())
                .collect();
            if is_source && args.len() == 2 {
                out.push(format!("{}.{}", args[0], args[1]));
            } else if !is_source {
                if let Some(a) = args.last() {
                    out.push(a.clone());
                }
            }
            rest = &after[j..];
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_blocks_keep_their_lines() {
        let (name, body) = snapshot_body(
            "{% snapshot orders_snapshot %}\n{{ config(unique_key='id') }}\nselect * from {{ source('a', 'b') }}\n{% endsnapshot %}\n",
        )
        .unwrap();
        assert_eq!(name, "orders_snapshot");
        assert_eq!(
            body.lines().nth(2),
            Some("select * from {{ source('a', 'b') }}")
        );
        assert!(snapshot_body("{%}").is_none());
        assert!(snapshot_body("select 1").is_none());
    }

    #[test]
    fn references_in_model_text() {
        let text =
            "select * from {{ ref('orders') }} join {{ source('app', 'users') }} u on x.pref(1)";
        let refs = jinja_refs(text);
        let found: Vec<(&str, &str)> = refs
            .iter()
            .map(|(s, e, n)| (&text[*s as usize..*e as usize], n.as_str()))
            .collect();
        assert_eq!(
            found,
            [
                ("ref('orders')", "orders"),
                ("source('app', 'users')", "app.users")
            ]
        );
    }

    #[test]
    fn dependencies_of_rendered_sql_and_raw_jinja() {
        assert_eq!(
            deps_of("select * from \"ref:a\" join \"source:s.t\" on x = \"y\""),
            vec!["ref:a", "source:s.t"]
        );
        assert_eq!(
            raw_deps("{{ ref('a') }} {{ source('s', 't') }}"),
            vec!["a", "s.t"]
        );
    }
}
