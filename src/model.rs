//! The format-neutral model: datasets with fields, sinks, and the flows between them.
//! Format adapters build it; the graph and the rules read it.

use std::hash::BuildHasher;
use std::sync::Arc;

use hashbrown::hash_table::{Entry, HashTable};
use rustc_hash::{FxBuildHasher, FxHashMap, FxHashSet};

use serde::{Deserialize, Serialize};

use crate::source::{FileId, Loc, Sources, Span};

pub type DatasetId = u32;
pub type FieldId = u32;
pub type SinkId = u32;
pub type StepId = u32;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FlowKind {
    /// A value copied or transformed into an output field.
    Direct,
    /// A join, filter or grouping key that decides which rows flow.
    Indirect,
    /// A field copied unchanged by a step that lists no fields.
    Passthrough,
}

impl FlowKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FlowKind::Direct => "direct",
            FlowKind::Indirect => "indirect",
            FlowKind::Passthrough => "passthrough",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Field {
    /// Set when the field joins the model (a format may build fields before that).
    pub dataset: DatasetId,
    pub name: Box<str>,
    /// What the field itself declares. Behind a pointer and optional because most fields
    /// declare nothing (a field is 56 bytes rather than 104), and shared because fields
    /// that do declare something mostly repeat their neighbours' lists.
    pub tags: Option<Arc<Tags>>,
    pub loc: Loc,
}

/// Purposes and categories declared on a field.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tags {
    pub purposes: Vec<String>,
    pub categories: Vec<String>,
}

impl Tags {
    /// `None` when both lists are empty.
    pub fn of(purposes: Vec<String>, categories: Vec<String>) -> Option<Arc<Tags>> {
        if purposes.is_empty() && categories.is_empty() {
            return None;
        }
        Some(Arc::new(Tags {
            purposes,
            categories,
        }))
    }

    /// Like [`Tags::of`], but an equal list already in `seen` is shared, not stored again
    /// (and not allocated: most fields of a dataset repeat a few tag lists).
    pub fn shared(
        purposes: &[&str],
        categories: &[&str],
        seen: &mut Vec<Arc<Tags>>,
    ) -> Option<Arc<Tags>> {
        if purposes.is_empty() && categories.is_empty() {
            return None;
        }
        let same = |t: &&Arc<Tags>| t.purposes == purposes && t.categories == categories;
        if let Some(same) = seen.iter().find(same) {
            return Some(Arc::clone(same));
        }
        let owned = |keys: &[&str]| keys.iter().map(|k| k.to_string()).collect();
        let tags = Tags::of(owned(purposes), owned(categories))?;
        seen.push(Arc::clone(&tags));
        Some(tags)
    }
}

impl Field {
    pub fn purposes(&self) -> &[String] {
        self.tags.as_deref().map_or(&[], |t| &t.purposes)
    }

    pub fn categories(&self) -> &[String] {
        self.tags.as_deref().map_or(&[], |t| &t.categories)
    }

    /// The field's tags, to add to.
    pub fn tags_mut(&mut self) -> &mut Tags {
        Arc::make_mut(self.tags.get_or_insert_with(Arc::default))
    }
}

#[derive(Debug, Clone)]
pub struct Dataset {
    pub name: String,
    pub purposes: Vec<String>,
    pub categories: Vec<String>,
    /// A dataset with uses is also a sink for rules.
    pub uses: Vec<String>,
    /// Data subjects (customer, employee…) whose data this sink processes; empty when
    /// not declared. Only rules with a subject condition read it.
    pub subjects: Vec<String>,
    pub fields: Vec<FieldId>,
    /// Field name → position in `fields`.
    field_index: NameIndex,
    pub loc: Loc,
    /// Declared by a step writing to it rather than by a manifest.
    pub implicit: bool,
    /// Gains a field when something reads a column it does not list (dbt sources,
    /// external datasets), instead of the read being an `unknown-reference`.
    pub open: bool,
    /// Gets its fields when a format that links after the native one does (an
    /// activation source): native steps read it as [`Model::late`] says.
    pub filled_later: bool,
}

/// Positions of fields by name. The names stay in the fields themselves, so a model of a
/// million fields holds each name once; lookups read them through `name_at`.
#[derive(Debug, Default, Clone)]
struct NameIndex(HashTable<u32>);

fn name_hash(name: &str) -> u64 {
    FxBuildHasher.hash_one(name)
}

/// How a dataset's index reads the name at a position: `ids` are the dataset's fields.
fn name_in<'a>(ids: &'a [FieldId], fields: &'a [Field]) -> impl Fn(u32) -> &'a str {
    move |at| fields[ids[at as usize] as usize].name.as_ref()
}

impl NameIndex {
    fn with_capacity(n: usize) -> Self {
        NameIndex(HashTable::with_capacity(n))
    }

    fn get<'a>(&self, name: &str, name_at: impl Fn(u32) -> &'a str) -> Option<u32> {
        let found = self.0.find(name_hash(name), |&at| name_at(at) == name);
        found.copied()
    }

    /// Records that `name` is at `at`, unless it already is somewhere: then returns where.
    fn insert<'a>(
        &mut self,
        name: &str,
        at: u32,
        name_at: impl Fn(u32) -> &'a str,
    ) -> Result<(), u32> {
        let eq = |&p: &u32| name_at(p) == name;
        match self
            .0
            .entry(name_hash(name), eq, |&p| name_hash(name_at(p)))
        {
            Entry::Occupied(first) => Err(*first.get()),
            Entry::Vacant(slot) => {
                slot.insert(at);
                Ok(())
            }
        }
    }

    fn reserve<'a>(&mut self, n: usize, name_at: impl Fn(u32) -> &'a str) {
        self.0.reserve(n, |&p| name_hash(name_at(p)));
    }
}

/// The fields of one dataset, built apart from the model (so datasets can be built in
/// parallel) and then attached to it with [`Model::attach_fields`].
#[derive(Debug, Default, Clone)]
pub struct FieldTable {
    fields: Vec<Field>,
    index: NameIndex,
}

impl FieldTable {
    /// Indexes `fields` by name. A field whose name an earlier one already holds is left
    /// out, and returned with the location of that first one.
    pub fn new(mut fields: Vec<Field>) -> (Self, Vec<(Field, Loc)>) {
        let mut index = NameIndex::with_capacity(fields.len());
        // Original positions of the fields kept: the index holds positions after removal.
        let mut kept: Vec<u32> = Vec::with_capacity(fields.len());
        let mut repeated = Vec::new();
        for (i, f) in fields.iter().enumerate() {
            let name_at = name_in(&kept, &fields);
            match index.insert(&f.name, kept.len() as u32, name_at) {
                Ok(()) => kept.push(i as u32),
                Err(first) => repeated.push((i, kept[first as usize])),
            }
        }
        let repeated: Vec<(Field, Loc)> = repeated
            .into_iter()
            .map(|(i, first)| (fields[i].clone(), fields[first as usize].loc))
            .collect();
        if !repeated.is_empty() {
            let mut i = 0;
            fields.retain(|_| {
                i += 1;
                kept.binary_search(&(i as u32 - 1)).is_ok()
            });
        }
        (FieldTable { fields, index }, repeated)
    }

    pub fn len(&self) -> usize {
        self.fields.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }
}

#[derive(Debug, Clone)]
pub struct Sink {
    pub name: String,
    pub uses: Vec<String>,
    /// Data subjects, as on [`Dataset::subjects`].
    pub subjects: Vec<String>,
    pub loc: Loc,
}

/// A reviewed exception recorded on a step.
#[derive(Debug, Clone)]
pub struct Allow {
    pub rule: String,
    pub reason: String,
    pub loc: Loc,
}

/// Where flows are declared: a pipeline step, a dbt model, a Fides system…
#[derive(Debug, Clone)]
pub struct Step {
    /// Qualified name shown in paths, e.g. `pipeline/step`.
    pub name: String,
    pub loc: Loc,
    pub allows: Vec<Allow>,
    /// A link from a warehouse dataset into a reverse-ETL table source: a finding's
    /// primary location is the hop after it (activation spec §11).
    pub link: bool,
    /// What the step writes in its sink (a Census sync's destination object), named in
    /// the messages of findings that reach the sink through it.
    pub object: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    Field(FieldId),
    Sink(SinkId),
}

#[derive(Debug, Clone)]
pub struct Flow {
    pub from: FieldId,
    pub to: Target,
    pub kind: FlowKind,
    /// Functions enclosing the reference, outermost first, lower-case.
    pub functions: Vec<String>,
    pub step: StepId,
    pub loc: Loc,
    /// Byte range of the exact reference inside `loc` (same file), when it can be pinned
    /// down. Bytes only (12 bytes, not 28): flows are many, and line and column are
    /// worked out for the few that are reported.
    pub focus: Option<(u32, u32)>,
}

/// What a name in a file stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SymbolTarget {
    Dataset(DatasetId),
    Sink(SinkId),
    Field(FieldId),
    Step(StepId),
}

/// A declaration or reference in a file, as the formats resolved it: what the editor's
/// hover, go-to-definition and completion read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Symbol {
    pub file: FileId,
    /// Byte range in the file.
    pub start: u32,
    pub end: u32,
    pub target: SymbolTarget,
    pub declaration: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Named {
    Dataset(DatasetId),
    Sink(SinkId),
}

/// How the column lineage of one SQL model (dbt) was derived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LineageStatus {
    /// Every output column's inputs are exact.
    Full,
    /// Some output columns fell back to every column in their scope.
    Partial,
    /// The whole model fell back to every column of everything it reads.
    Fallback,
}

impl LineageStatus {
    pub fn name(self) -> &'static str {
        match self {
            LineageStatus::Full => "full",
            LineageStatus::Partial => "partial",
            LineageStatus::Fallback => "fallback",
        }
    }
}

/// One SQL model's lineage, for `--statistics`, the JSON summary and `coverage`.
#[derive(Debug, Clone)]
pub struct ModelLineage {
    pub name: String,
    pub status: LineageStatus,
    /// The kind of the first reason it is not full (`the SQL does not parse`, …).
    pub reason: Option<String>,
    /// The dialect that parsed it; `None` when none did.
    pub dialect: Option<&'static str>,
}

#[derive(Debug, Default, Clone)]
pub struct Model {
    pub sources: Sources,
    pub datasets: Vec<Dataset>,
    pub fields: Vec<Field>,
    pub sinks: Vec<Sink>,
    pub steps: Vec<Step>,
    pub flows: Vec<Flow>,
    /// Datasets and sinks share one namespace.
    names: FxHashMap<String, Named>,
    /// Warehouse relation names of datasets (`db.schema.table`), for links by relation.
    relations: Relations,
    /// Manifest documents read, over all formats.
    pub manifests: usize,
    /// The names of every dataset of the workspace, when this model links only part of
    /// it (an editor's partial run): did-you-mean suggestions choose among all of them.
    workspace_datasets: Option<Arc<Vec<String>>>,
    /// Likewise, the names every format of the workspace declares (datasets and sinks).
    workspace_declared: Option<Arc<Vec<String>>>,
    /// Declarations and references, recorded only when asked for (editors): `None`
    /// costs a command-line run nothing. Sorted by file and position once linked.
    symbols: Option<Vec<Symbol>>,
    /// Where a flow into a sink lands there (a mapping's `to`), by flow index.
    pub destination_fields: FxHashMap<u32, Box<str>>,
    /// Sinks whose uses are unknown, with the node that names their type.
    pub unclassified: Vec<Unclassified>,
    /// The warehouse dialects of the dbt projects (their adapters), in the order declared:
    /// SQL that names no warehouse of its own is parsed with them first (activation §7.2).
    pub warehouse_dialects: Vec<crate::sql::Dialect>,
    /// SQL models with how their lineage was derived, in link order.
    pub sql_lineage: Vec<ModelLineage>,
    /// `undeclared-destination` of datasets that only steps declare and no step reads,
    /// kept until every format has linked: each stands only if no other format (an
    /// activation source) reads the dataset either.
    pub unread_outputs: Vec<(DatasetId, crate::finding::Finding)>,
    /// What native steps read from datasets [`Dataset::filled_later`], finished once
    /// every format has linked.
    pub late: LateReads,
    /// How the dbt datasets that have columns they do not list gain one, with the name
    /// of the step their flows belong to: for the formats that link after dbt.
    pub(crate) on_demand: FxHashMap<DatasetId, (Columns, String)>,
}

/// How a dataset answers a reference to a column it does not list yet.
#[derive(Debug, Clone)]
pub(crate) enum Columns {
    /// Every column is known (seeds, models with complete lineage and no open `*`).
    Closed,
    /// More columns may exist (sources, models declared only in YAML).
    Open,
    /// `select *` over an upstream whose columns are not all known.
    Pass {
        upstream: DatasetId,
        loc: Loc,
        indirect: Vec<(DatasetId, String, Loc)>,
    },
    /// Incomplete lineage: every column of these upstreams flows to any new column.
    AllUpstream { upstreams: Vec<DatasetId>, loc: Loc },
}

/// Column `col` of `ds`, made (with its own lineage, made the same way) when `state`
/// says the dataset has columns it does not list: a dbt source, or a model that is
/// `select *` over one. `step_of` names the step of the flows it makes.
pub(crate) fn demand_column(
    model: &mut Model,
    state: &dyn Fn(&Model, DatasetId) -> Columns,
    step_of: &mut dyn FnMut(&mut Model, DatasetId) -> StepId,
    (ds, col): (DatasetId, &str),
    depth: usize,
) -> Option<FieldId> {
    if let Some(f) = model.field_in(ds, col) {
        return Some(f);
    }
    if depth > 10_000 {
        return None;
    }
    let flow = |model: &mut Model, from, to, kind, step, loc| {
        model.add_field_flow(from, to, kind, Vec::new(), step, loc)
    };
    match state(model, ds) {
        Columns::Closed => None,
        Columns::Open => {
            let loc = model.dataset(ds).loc;
            model.add_field(ds, col.to_string(), loc).ok()
        }
        Columns::Pass {
            upstream,
            loc: at,
            indirect,
        } => {
            let f = model.add_field(ds, col.to_string(), at).ok()?;
            let step = step_of(model, ds);
            if let Some(u) = demand_column(model, state, step_of, (upstream, col), depth + 1) {
                flow(model, u, f, FlowKind::Direct, step, at);
            }
            for (u, c, l) in indirect {
                if let Some(u) = demand_column(model, state, step_of, (u, &c), depth + 1) {
                    flow(model, u, f, FlowKind::Indirect, step, l);
                }
            }
            Some(f)
        }
        Columns::AllUpstream { upstreams, loc: at } => {
            let f = model.add_field(ds, col.to_string(), at).ok()?;
            let step = step_of(model, ds);
            for u in upstreams {
                for uf in model.dataset(u).fields.clone() {
                    flow(model, uf, f, FlowKind::Direct, step, at);
                }
            }
            Some(f)
        }
    }
}

/// What a dataset's entry in a table of column states says; a dataset without one is
/// open or closed as it is.
pub(crate) fn column_state(entry: Option<&Columns>, model: &Model, ds: DatasetId) -> Columns {
    match entry {
        Some(c) => c.clone(),
        None if model.dataset(ds).open => Columns::Open,
        None => Columns::Closed,
    }
}

/// The name of the step a dbt project gives a dataset's flows (`project/model`).
pub(crate) fn dbt_step_name(project: &str, model: &Model, ds: DatasetId) -> String {
    format!("{project}/{}", model.dataset(ds).name)
}

/// Native steps reading a dataset before its format gave it fields: the columns they
/// name are made as they are referenced, and checked once the dataset is linked; a step
/// that passes it through gets its flows then.
#[derive(Debug, Default, Clone)]
pub struct LateReads {
    /// Fields made for a reference, with it: an `unknown-reference` unless the dataset's
    /// own format gives the field an input.
    pub referenced: Vec<(FieldId, Loc)>,
    /// Passthroughs of the dataset into a target, at a step and its `to`.
    pub passthroughs: Vec<(DatasetId, Target, StepId, Loc)>,
}

/// A destination whose type is in no catalogue (activation spec §10).
#[derive(Debug, Clone)]
pub struct Unclassified {
    pub sink: SinkId,
    /// `<platform>:<type>`; `Err` says why the type cannot be read.
    pub key: Result<String, String>,
    pub loc: Loc,
}

/// Datasets by warehouse relation name, split into unquoted, lower-cased parts and kept
/// by their last part.
#[derive(Debug, Default, Clone)]
struct Relations(
    FxHashMap<String, Vec<(Vec<String>, DatasetId)>>,
    /// Each entry's dataset and a hash of its parts: the activation linker registers
    /// every dataset of the run, and lists of a common last part (`users`) grow long,
    /// so a new entry skips scanning its list for a duplicate unless the hash was seen.
    FxHashSet<(DatasetId, u64)>,
);

/// `db."My.Schema".[table]` → `["db", "my.schema", "table"]`. Quotes (`"`, `` ` ``, `[]`)
/// keep dots; unquoted parts compare case-insensitively, like warehouses compare
/// unquoted identifiers (and dbt projects rarely rely on quoted case).
pub fn relation_parts(relation: &str) -> Vec<String> {
    // Printable ASCII without quotes or brackets (the common case): split at the dots.
    if relation
        .bytes()
        .all(|b| b.is_ascii_graphic() && !matches!(b, b'"' | b'`' | b'['))
    {
        return relation
            .split('.')
            .map(|p| p.to_ascii_lowercase())
            .collect();
    }
    quoted_relation_parts(relation)
}

/// [`relation_parts`] of any name, a character at a time.
fn quoted_relation_parts(relation: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut part = String::new();
    let mut close: Option<char> = None;
    for c in relation.trim().chars() {
        match close {
            Some(q) if c == q => close = None,
            Some(_) => part.push(c),
            None => match c {
                '"' | '`' => close = Some(c),
                '[' => close = Some(']'),
                '.' => parts.push(std::mem::take(&mut part)),
                c if c.is_whitespace() => {}
                c => part.push(c),
            },
        }
    }
    parts.push(part);
    for p in &mut parts {
        lowercase_in_place(p);
    }
    parts
}

/// `s.to_lowercase()`, without a new allocation when `s` is ASCII (the common case).
pub(crate) fn lowercase_in_place(s: &mut String) {
    if s.is_ascii() {
        s.make_ascii_lowercase();
    } else {
        *s = s.to_lowercase();
    }
}

impl Model {
    /// Suggestions for unknown dataset names are to choose among `names`, the datasets of
    /// the whole workspace, though this model links only part of it.
    pub fn suggest_among(&mut self, datasets: Arc<Vec<String>>, declared: Arc<Vec<String>>) {
        self.workspace_datasets = Some(datasets);
        self.workspace_declared = Some(declared);
    }

    /// The declared dataset and sink names (not those only steps write) a did-you-mean
    /// may suggest.
    pub fn declared_names(&self) -> Box<dyn Iterator<Item = &str> + '_> {
        match &self.workspace_declared {
            Some(names) => Box::new(names.iter().map(String::as_str)),
            None => {
                let datasets = self.datasets.iter().filter(|d| !d.implicit);
                let sinks = self.sinks.iter().map(|k| k.name.as_str());
                Box::new(datasets.map(|d| d.name.as_str()).chain(sinks))
            }
        }
    }

    /// The dataset names a did-you-mean may suggest.
    pub fn dataset_names(&self) -> Box<dyn Iterator<Item = &str> + '_> {
        match &self.workspace_datasets {
            Some(names) => Box::new(names.iter().map(String::as_str)),
            None => Box::new(self.datasets.iter().map(|d| d.name.as_str())),
        }
    }

    /// Starts recording symbols (see [`Model::symbols_in`]).
    pub fn record_symbols(&mut self) {
        self.symbols.get_or_insert_with(Vec::new);
    }

    pub fn records_symbols(&self) -> bool {
        self.symbols.is_some()
    }

    /// Records a declaration or reference at bytes `start..end` of `file`.
    pub fn note(&mut self, file: FileId, span: Span, target: SymbolTarget, declaration: bool) {
        if let Some(symbols) = &mut self.symbols {
            symbols.push(Symbol {
                file,
                start: span.start,
                end: span.end,
                target,
                declaration,
            });
        }
    }

    /// Symbols recorded elsewhere (a parallel step), in the order they were found.
    pub fn add_symbols(&mut self, found: Vec<Symbol>) {
        if let Some(symbols) = &mut self.symbols {
            symbols.extend(found);
        }
    }

    /// Adds the declaration of every dataset, sink, field and step at its location, then
    /// sorts the symbols by file and position; done once every format has linked.
    pub fn finish_symbols(&mut self) {
        let Some(mut symbols) = self.symbols.take() else {
            return;
        };
        let datasets = (0..self.datasets.len() as u32).map(SymbolTarget::Dataset);
        let sinks = (0..self.sinks.len() as u32).map(SymbolTarget::Sink);
        let fields = (0..self.fields.len() as u32).map(SymbolTarget::Field);
        let steps = (0..self.steps.len() as u32).map(SymbolTarget::Step);
        for target in datasets.chain(sinks).chain(fields).chain(steps) {
            let loc = self.declaration_of(target);
            symbols.push(Symbol {
                file: loc.file,
                start: loc.span.start,
                end: loc.span.end,
                target,
                declaration: true,
            });
        }
        symbols.sort_by_key(|s| (s.file, s.start, s.end, !s.declaration));
        symbols.dedup();
        self.symbols = Some(symbols);
    }

    /// The symbols of `file`, by position.
    pub fn symbols_in(&self, file: FileId) -> &[Symbol] {
        let Some(symbols) = &self.symbols else {
            return &[];
        };
        let from = symbols.partition_point(|s| s.file < file);
        let to = symbols.partition_point(|s| s.file <= file);
        &symbols[from..to]
    }

    /// The innermost symbol at byte `offset` of `file` (an offset just after it counts).
    pub fn symbol_at(&self, file: FileId, offset: u32) -> Option<&Symbol> {
        self.symbols_in(file)
            .iter()
            .filter(|s| s.start <= offset && offset <= s.end)
            .min_by_key(|s| (s.end - s.start, !s.declaration))
    }

    /// Where a symbol's target is declared.
    pub fn declaration_of(&self, target: SymbolTarget) -> Loc {
        match target {
            SymbolTarget::Dataset(d) => self.datasets[d as usize].loc,
            SymbolTarget::Sink(k) => self.sinks[k as usize].loc,
            SymbolTarget::Field(f) => self.fields[f as usize].loc,
            SymbolTarget::Step(s) => self.steps[s as usize].loc,
        }
    }

    /// Records that dataset `d` is the warehouse relation `relation` (`schema.table`,
    /// `db.schema.table`). A dataset may have several relation names.
    pub fn add_relation(&mut self, relation: &str, d: DatasetId) {
        let parts = relation_parts(relation);
        let Some(last) = parts.last().filter(|p| !p.is_empty()).cloned() else {
            return;
        };
        let new = self.relations.1.insert((d, FxBuildHasher.hash_one(&parts)));
        let list = self.relations.0.entry(last).or_default();
        if new || !list.iter().any(|(p, id)| *id == d && *p == parts) {
            list.push((parts, d));
        }
    }

    /// The datasets a relation names: a candidate matches when the shorter of the two
    /// names equals the trailing parts of the longer (`analytics.public.users` matches
    /// `public.users` and `users`), and those with the most matching parts win. Several
    /// winners are ambiguous; none means the relation is not declared.
    pub fn match_relation(&self, relation: &str) -> Vec<DatasetId> {
        self.match_relation_parts(&relation_parts(relation))
    }

    /// [`Model::match_relation`] of a relation already split by [`relation_parts`].
    pub(crate) fn match_relation_parts(&self, parts: &[String]) -> Vec<DatasetId> {
        self.best_relation_match(parts).1
    }

    /// [`Model::match_relation_parts`], with the number of parts the winners match.
    pub(crate) fn best_relation_match(&self, parts: &[String]) -> (usize, Vec<DatasetId>) {
        let Some(candidates) = parts.last().and_then(|l| self.relations.0.get(l)) else {
            return (0, Vec::new());
        };
        let mut best = 0;
        let mut out: Vec<DatasetId> = Vec::new();
        for (cand, id) in candidates {
            let n = cand.len().min(parts.len());
            if cand[cand.len() - n..] != parts[parts.len() - n..] {
                continue;
            }
            if n > best {
                best = n;
                out.clear();
            }
            if n == best && !out.contains(id) {
                out.push(*id);
            }
        }
        (best, out)
    }

    pub fn lookup(&self, name: &str) -> Option<Named> {
        self.names.get(name).copied()
    }

    /// The field of dataset `d` named `name`.
    pub fn field_in(&self, d: DatasetId, name: &str) -> Option<FieldId> {
        let ds = &self.datasets[d as usize];
        let at = ds
            .field_index
            .get(name, name_in(&ds.fields, &self.fields))?;
        Some(ds.fields[at as usize])
    }

    pub fn dataset_id(&self, name: &str) -> Option<DatasetId> {
        match self.lookup(name)? {
            Named::Dataset(id) => Some(id),
            Named::Sink(_) => None,
        }
    }

    pub fn dataset(&self, id: DatasetId) -> &Dataset {
        &self.datasets[id as usize]
    }

    /// The names of dataset `d`'s fields, in field order.
    pub fn field_names(&self, d: DatasetId) -> impl Iterator<Item = &str> + Clone {
        let ids = &self.datasets[d as usize].fields;
        ids.iter().map(|&f| &*self.fields[f as usize].name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.names.keys().map(String::as_str)
    }

    /// Location of whatever already holds `name`.
    pub fn loc_of(&self, named: Named) -> Loc {
        match named {
            Named::Dataset(id) => self.datasets[id as usize].loc,
            Named::Sink(id) => self.sinks[id as usize].loc,
        }
    }

    /// Adds a dataset, or returns what already holds the name.
    pub fn add_dataset(
        &mut self,
        name: String,
        loc: Loc,
        implicit: bool,
    ) -> Result<DatasetId, Named> {
        if let Some(existing) = self.lookup(&name) {
            return Err(existing);
        }
        let id = self.datasets.len() as DatasetId;
        self.names.insert(name.clone(), Named::Dataset(id));
        self.datasets.push(Dataset {
            name,
            purposes: Vec::new(),
            categories: Vec::new(),
            uses: Vec::new(),
            subjects: Vec::new(),
            fields: Vec::new(),
            field_index: NameIndex::default(),
            loc,
            implicit,
            open: false,
            filled_later: false,
        });
        Ok(id)
    }

    pub fn add_sink(&mut self, name: String, uses: Vec<String>, loc: Loc) -> Result<SinkId, Named> {
        if let Some(existing) = self.lookup(&name) {
            return Err(existing);
        }
        let id = self.sinks.len() as SinkId;
        self.names.insert(name.clone(), Named::Sink(id));
        self.sinks.push(Sink {
            name,
            uses,
            subjects: Vec::new(),
            loc,
        });
        Ok(id)
    }

    /// Room for more datasets and sinks, which share one namespace.
    pub fn reserve_names(&mut self, datasets: usize, sinks: usize) {
        self.datasets.reserve(datasets);
        self.sinks.reserve(sinks);
        self.names.reserve(datasets + sinks);
    }

    /// Room for `n` more fields: large models then grow without copying.
    pub fn reserve_fields(&mut self, n: usize) {
        self.fields.reserve(n);
    }

    /// Room for `n` more fields in one dataset, so its index is not rehashed as it grows.
    pub fn reserve_dataset_fields(&mut self, dataset: DatasetId, n: usize) {
        let ds = &mut self.datasets[dataset as usize];
        ds.fields.reserve(n);
        ds.field_index.reserve(n, name_in(&ds.fields, &self.fields));
    }

    /// Gives a dataset that has no fields yet the fields of `table`.
    pub fn attach_fields(&mut self, dataset: DatasetId, table: FieldTable) {
        let ds = &mut self.datasets[dataset as usize];
        debug_assert!(ds.fields.is_empty());
        let base = self.fields.len() as FieldId;
        ds.fields = (base..base + table.fields.len() as FieldId).collect();
        ds.field_index = table.index;
        self.fields.extend(table.fields.into_iter().map(|mut f| {
            f.dataset = dataset;
            f
        }));
    }

    /// Adds a field, or returns the one that already has the name.
    pub fn add_field(
        &mut self,
        dataset: DatasetId,
        name: String,
        loc: Loc,
    ) -> Result<FieldId, FieldId> {
        let ds = &mut self.datasets[dataset as usize];
        let at = ds.fields.len() as u32;
        let name_at = name_in(&ds.fields, &self.fields);
        if let Err(existing) = ds.field_index.insert(&name, at, name_at) {
            return Err(ds.fields[existing as usize]);
        }
        let id = self.fields.len() as FieldId;
        ds.fields.push(id);
        self.fields.push(Field {
            dataset,
            name: name.into_boxed_str(),
            tags: None,
            loc,
        });
        Ok(id)
    }

    pub fn add_step(&mut self, name: String, loc: Loc, allows: Vec<Allow>) -> StepId {
        self.steps.push(Step {
            name,
            loc,
            allows,
            link: false,
            object: None,
        });
        (self.steps.len() - 1) as StepId
    }

    /// The last step named `name`, or a new one at `loc`.
    pub(crate) fn step_named(&mut self, name: &str, loc: Loc) -> StepId {
        match self.steps.iter().rposition(|s| s.name == name) {
            Some(i) => i as StepId,
            None => self.add_step(name.to_string(), loc, Vec::new()),
        }
    }

    /// [`demand_column`] for a later format, by what the dbt link left in
    /// [`Model::on_demand`].
    pub(crate) fn demand_later(&mut self, ds: DatasetId, col: &str) -> Option<FieldId> {
        let state =
            |m: &Model, d: DatasetId| column_state(m.on_demand.get(&d).map(|(c, _)| c), m, d);
        let mut step_of = |m: &mut Model, d: DatasetId| {
            let name = m
                .on_demand
                .get(&d)
                .map(|(_, n)| n.clone())
                .unwrap_or_default();
            let loc = m.dataset(d).loc;
            m.step_named(&name, loc)
        };
        demand_column(self, &state, &mut step_of, (ds, col), 0)
    }

    /// A flow from field `from` into field `to` (none into itself).
    pub(crate) fn add_field_flow(
        &mut self,
        from: FieldId,
        to: FieldId,
        kind: FlowKind,
        functions: Vec<String>,
        step: StepId,
        loc: Loc,
    ) {
        if from != to {
            self.flows.push(Flow {
                from,
                to: Target::Field(to),
                kind,
                functions,
                step,
                loc,
                focus: None,
            });
        }
    }

    pub fn field_name(&self, id: FieldId) -> String {
        let f = &self.fields[id as usize];
        format!("{}.{}", self.datasets[f.dataset as usize].name, f.name)
    }

    /// A field's own purposes followed by its dataset's, without repeats.
    pub fn effective_purposes(&self, id: FieldId) -> Vec<&str> {
        let f = &self.fields[id as usize];
        let ds = &self.datasets[f.dataset as usize];
        let mut out: Vec<&str> = Vec::new();
        for p in f.purposes().iter().chain(&ds.purposes) {
            if !out.contains(&p.as_str()) {
                out.push(p);
            }
        }
        out
    }

    pub fn effective_categories(&self, id: FieldId) -> impl Iterator<Item = &str> {
        let f = &self.fields[id as usize];
        let ds = &self.datasets[f.dataset as usize];
        f.categories()
            .iter()
            .chain(&ds.categories)
            .map(String::as_str)
    }

    pub fn target_name(&self, t: Target) -> String {
        match t {
            Target::Field(f) => self.field_name(f),
            Target::Sink(s) => self.sinks[s as usize].name.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Span;

    #[test]
    fn plain_relation_names_split_as_quoted_ones_do() {
        for name in [
            "",
            "a",
            "Raw.Stripe.Charges",
            "a..b",
            ".a.",
            "db.SCHEMA.t_1",
            "a-b.c$d",
            "x\u{b}y",
            "a.\"B\".c",
            "[a].b",
            " a.b ",
            "é.b",
        ] {
            assert_eq!(
                relation_parts(name),
                quoted_relation_parts(name),
                "{name:?}"
            );
        }
        assert_eq!(
            relation_parts("Raw.Stripe.Charges"),
            ["raw", "stripe", "charges"]
        );
    }

    fn loc(at: u32) -> Loc {
        let span = Span {
            start: at,
            end: at + 1,
            ..Span::default()
        };
        Loc { file: 0, span }
    }

    fn field(name: &str, at: u32) -> Field {
        Field {
            dataset: 0,
            name: name.into(),
            tags: None,
            loc: loc(at),
        }
    }

    #[test]
    fn relations_match_by_their_longest_trailing_parts() {
        assert_eq!(
            relation_parts("db.\"My.Schema\".[T]"),
            ["db", "my.schema", "t"]
        );
        let mut model = Model::default();
        let a = model.add_dataset("a".into(), loc(0), false).unwrap();
        let b = model.add_dataset("b".into(), loc(0), false).unwrap();
        let c = model.add_dataset("c".into(), loc(0), false).unwrap();
        model.add_relation("analytics.public.users", a);
        model.add_relation("auth.contacts", b);
        model.add_relation("CRM.Contacts", c);
        assert_eq!(model.match_relation("public.users"), [a]);
        assert_eq!(model.match_relation("USERS"), [a]);
        assert_eq!(
            model.match_relation("warehouse.analytics.public.users"),
            [a]
        );
        assert!(model.match_relation("dev.public.users").is_empty());
        assert_eq!(model.match_relation("contacts"), [b, c]);
        assert_eq!(model.match_relation("crm.contacts"), [c]);
        assert!(model.match_relation("orders").is_empty());
    }

    #[test]
    fn field_table_keeps_first_of_each_name_and_indexes_what_remains() {
        let names = ["a", "b", "a", "c", "b", "d"];
        let fields = names.iter().enumerate().map(|(i, n)| field(n, i as u32));
        let (table, repeated) = FieldTable::new(fields.collect());
        let again: Vec<_> = repeated
            .iter()
            .map(|(f, first)| (&*f.name, f.loc, *first))
            .collect();
        assert_eq!(again, [("a", loc(2), loc(0)), ("b", loc(4), loc(1))]);

        let mut model = Model::default();
        model.add_dataset("other".into(), loc(0), false).unwrap();
        model.add_field(0, "z".into(), loc(0)).unwrap();
        let d = model.add_dataset("t".into(), loc(0), false).unwrap();
        model.attach_fields(d, table);
        for (name, at) in [("a", 0), ("b", 1), ("c", 3), ("d", 5)] {
            let id = model.field_in(d, name).unwrap();
            assert_eq!(
                (
                    model.fields[id as usize].loc,
                    model.fields[id as usize].dataset
                ),
                (loc(at), d)
            );
        }
        assert_eq!(model.field_in(d, "z"), None);
        // Fields added later, past the index's first capacity, are found; repeats are not added.
        assert_eq!(
            model.add_field(d, "c".into(), loc(7)),
            Err(model.field_in(d, "c").unwrap())
        );
        for i in 0..100 {
            model.add_field(d, format!("n{i}"), loc(i)).unwrap();
        }
        for i in 0..100 {
            let id = model.field_in(d, &format!("n{i}")).unwrap();
            assert_eq!(&*model.fields[id as usize].name, format!("n{i}"));
        }
        assert_eq!(model.dataset(d).fields.len(), 104);
    }
}
