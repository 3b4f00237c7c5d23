//! The format-neutral model: datasets with fields, sinks, and the flows between them.
//! Format adapters build it; the graph and the rules read it.

use std::collections::hash_map::Entry;

use rustc_hash::FxHashMap;

use serde::{Deserialize, Serialize};

use crate::source::{Loc, Sources, Span};

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
    pub name: String,
    pub purposes: Vec<String>,
    pub categories: Vec<String>,
    pub loc: Loc,
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
    field_index: FxHashMap<String, u32>,
    pub loc: Loc,
    /// Declared by a step writing to it rather than by a manifest.
    pub implicit: bool,
}

impl Dataset {
    pub fn field(&self, name: &str) -> Option<FieldId> {
        let &at = self.field_index.get(name)?;
        Some(self.fields[at as usize])
    }
}

/// The fields of one dataset, built apart from the model (so datasets can be built in
/// parallel) and then attached to it with [`Model::attach_fields`].
#[derive(Debug, Default, Clone)]
pub struct FieldTable {
    fields: Vec<Field>,
    index: FxHashMap<String, u32>,
}

impl FieldTable {
    /// Indexes `fields` by name, in place. A field whose name an earlier one already
    /// holds is left out, and returned with the location of that first one.
    pub fn new(mut fields: Vec<Field>) -> (Self, Vec<(Field, Loc)>) {
        let mut index = FxHashMap::with_capacity_and_hasher(fields.len(), Default::default());
        let mut repeated = Vec::new();
        let mut kept = 0u32;
        fields.retain(|f| match index.entry(f.name.clone()) {
            Entry::Vacant(slot) => {
                slot.insert(kept);
                kept += 1;
                true
            }
            Entry::Occupied(first) => {
                repeated.push((f.clone(), *first.get()));
                false
            }
        });
        let repeated = repeated
            .into_iter()
            .map(|(f, first)| (f, fields[first as usize].loc))
            .collect();
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
    /// The exact reference inside `loc`, when it can be pinned down (same file).
    pub focus: Option<Span>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Named {
    Dataset(DatasetId),
    Sink(SinkId),
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
    /// Manifest documents read, over all formats.
    pub manifests: usize,
}

impl Model {
    pub fn lookup(&self, name: &str) -> Option<Named> {
        self.names.get(name).copied()
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
            field_index: FxHashMap::default(),
            loc,
            implicit,
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

    /// Room for `n` more fields: large models then grow without copying.
    pub fn reserve_fields(&mut self, n: usize) {
        self.fields.reserve(n);
    }

    /// Room for `n` more fields in one dataset, so its index is not rehashed as it grows.
    pub fn reserve_dataset_fields(&mut self, dataset: DatasetId, n: usize) {
        let ds = &mut self.datasets[dataset as usize];
        ds.fields.reserve(n);
        ds.field_index.reserve(n);
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
        if let Some(&existing) = ds.field_index.get(&name) {
            return Err(ds.fields[existing as usize]);
        }
        let id = self.fields.len() as FieldId;
        ds.field_index.insert(name.clone(), ds.fields.len() as u32);
        ds.fields.push(id);
        self.fields.push(Field {
            dataset,
            name,
            purposes: Vec::new(),
            categories: Vec::new(),
            loc,
        });
        Ok(id)
    }

    pub fn add_step(&mut self, name: String, loc: Loc, allows: Vec<Allow>) -> StepId {
        self.steps.push(Step { name, loc, allows });
        (self.steps.len() - 1) as StepId
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
        for p in f.purposes.iter().chain(&ds.purposes) {
            if !out.contains(&p.as_str()) {
                out.push(p);
            }
        }
        out
    }

    pub fn effective_categories(&self, id: FieldId) -> impl Iterator<Item = &str> {
        let f = &self.fields[id as usize];
        let ds = &self.datasets[f.dataset as usize];
        f.categories
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
