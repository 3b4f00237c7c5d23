//! Linking native manifests into the model: names, implicit datasets, and flows.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet, VecDeque};

use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};

use super::parse::{Doc, Expression, RawDataset, RawPipeline, RawStep};
use crate::config::ExternalDataset;
use crate::diagnostic::Diag;
use crate::finding::{Diagnostics, Finding};
use crate::model::{
    Allow, DatasetId, FieldId, FieldTable, Flow, FlowKind, Model, Named, StepId, Symbol,
    SymbolTarget, Target,
};
use crate::session::LinkCx;
use crate::source::{FileId, Loc, SourceFile, Spanned};
use crate::suggest;

struct Ctx<'a> {
    model: &'a mut Model,
    diags: &'a mut Vec<Finding>,
    externals: &'a [ExternalDataset],
    /// Datasets created for an external name; their fields appear as they are referenced.
    external_ids: HashSet<DatasetId>,
}

impl Diagnostics for Ctx<'_> {
    fn diagnostics(&mut self) -> &mut Vec<Finding> {
        self.diags
    }
}

impl Ctx<'_> {
    fn duplicate(&mut self, what: &str, name: &Spanned<String>, file: FileId, first: Loc) {
        let diag = Diag::Duplicate {
            what: Some(what.to_string()),
            name: name.value.clone(),
            first: self.model.sources.file_line(first),
        };
        self.report(diag, file, name.span);
    }
}

/// Read-only view for computing one step's flows; steps are independent, so they run
/// in parallel and their results are appended in step order.
struct StepCx<'a> {
    model: &'a Model,
    diags: Vec<Finding>,
    /// Column and output references, when the model records symbols.
    symbols: Option<Vec<Symbol>>,
}

impl StepCx<'_> {
    fn note(&mut self, file: FileId, (start, end): (u32, u32), target: FieldId) {
        if let Some(symbols) = &mut self.symbols {
            symbols.push(Symbol {
                file,
                start,
                end,
                target: SymbolTarget::Field(target),
                declaration: false,
            });
        }
    }
}

impl Diagnostics for StepCx<'_> {
    fn diagnostics(&mut self) -> &mut Vec<Finding> {
        &mut self.diags
    }
}

/// What a step writes to.
#[derive(Clone, Copy)]
enum Dest {
    Dataset(DatasetId),
    Sink(u32),
}

struct StepWork<'a> {
    id: StepId,
    file: FileId,
    /// Borrowed from its pipeline: copying tens of thousands of steps touched as much
    /// fresh memory again.
    raw: &'a RawStep,
    from: Vec<DatasetId>,
    to: Option<Dest>,
}

/// What [`declare`] leaves for [`link`]: the pipelines, whose steps are resolved once
/// every format has declared its datasets and sinks.
pub(crate) struct Declared {
    pipelines: Vec<(FileId, RawPipeline)>,
}

/// Adds the datasets (with their fields) and sinks of the documents, in file order.
pub(crate) fn declare(docs: Vec<(FileId, Doc)>, lcx: &mut LinkCx<'_>) -> Declared {
    let mut cx = Ctx {
        model: &mut *lcx.model,
        diags: &mut lcx.diags,
        externals: &lcx.opts.external_datasets,
        external_ids: HashSet::new(),
    };
    let count = |kind: fn(&Doc) -> usize| docs.iter().map(|(_, d)| kind(d)).sum::<usize>();
    let declared = count(|d| matches!(d, Doc::Dataset(_)) as usize);
    let sinks = count(|d| matches!(d, Doc::Sink(_)) as usize);
    // A step may write to a dataset only it declares: at most one per step.
    let step_count = count(|d| match d {
        Doc::Pipeline(p) => p.steps.len(),
        _ => 0,
    });
    cx.model.reserve_names(declared + step_count, sinks);
    // Sized once for the declared fields and those steps will declare: growing a vector
    // of hundreds of thousands of fields copies it and touches twice its memory.
    let fields = docs.iter().map(|(_, d)| match d {
        Doc::Dataset(d) => d.fields.len(),
        _ => 0,
    });
    let declared_fields: usize = fields.sum();
    cx.model
        .reserve_fields(declared_fields + implicit_estimate_by_name(&docs));
    let mut pipelines = Vec::new();
    for (file, doc) in docs {
        match doc {
            Doc::Dataset(d) => {
                if let Some((id, table)) = add_dataset(&mut cx, file, d) {
                    cx.model.attach_fields(id, table);
                }
            }
            Doc::Sink(s) => {
                let loc = Loc {
                    file,
                    span: s.name.span,
                };
                let uses = s.uses.into_iter().map(|u| u.value).collect();
                if let Err(existing) = cx.model.add_sink(s.name.value.clone(), uses, loc) {
                    let first = cx.model.loc_of(existing);
                    cx.duplicate("sink", &s.name, file, first);
                }
            }
            Doc::Pipeline(p) => pipelines.push((file, p)),
        }
    }
    lcx.phases.mark("resolve: datasets and sinks");
    Declared { pipelines }
}

/// Resolves the steps of the pipelines: their ends, the datasets they declare, and their
/// flows. Names of every format are known by now.
pub(crate) fn link(declared: Declared, lcx: &mut LinkCx<'_>) {
    let pipelines = declared.pipelines;
    let rule_ids = lcx.rule_ids;
    let mut cx = Ctx {
        model: &mut *lcx.model,
        diags: &mut lcx.diags,
        externals: &lcx.opts.external_datasets,
        external_ids: HashSet::new(),
    };
    let step_count = pipelines.iter().map(|(_, p)| p.steps.len()).sum();
    let mut steps = Vec::with_capacity(step_count);
    let mut pipeline_names: FxHashMap<&str, Loc> = FxHashMap::default();
    for &(file, ref p) in &pipelines {
        let loc = Loc {
            file,
            span: p.name.span,
        };
        if let Some(first) = claim(&mut pipeline_names, &p.name.value, loc) {
            cx.duplicate("pipeline", &p.name, file, first);
            continue;
        }
        let mut step_names: FxHashMap<&str, Loc> = FxHashMap::default();
        for raw in &p.steps {
            let loc = Loc {
                file,
                span: raw.name.span,
            };
            if let Some(first) = claim(&mut step_names, &raw.name.value, loc) {
                cx.duplicate("step", &raw.name, file, first);
                continue;
            }
            let allows = allows(&mut cx, file, raw, rule_ids);
            let id = cx
                .model
                .add_step(format!("{}/{}", p.name.value, raw.name.value), loc, allows);
            steps.push(StepWork {
                id,
                file,
                raw,
                from: Vec::new(),
                to: None,
            });
        }
    }

    lcx.phases.mark("resolve: steps");
    // `to` may name a dataset that only steps declare; `from` may then read it.
    for s in &mut steps {
        let name = &s.raw.to;
        let loc = Loc {
            file: s.file,
            span: name.span,
        };
        let to = match cx.model.lookup(&name.value) {
            Some(Named::Dataset(d)) => Dest::Dataset(d),
            Some(Named::Sink(k)) => Dest::Sink(k),
            None => Dest::Dataset(
                cx.model
                    .add_dataset(name.value.clone(), loc, true)
                    .unwrap_or(0),
            ),
        };
        let target = match to {
            Dest::Dataset(d) => SymbolTarget::Dataset(d),
            Dest::Sink(k) => SymbolTarget::Sink(k),
        };
        cx.model.note(s.file, name.span, target, false);
        s.to = Some(to);
    }
    for s in &mut steps {
        s.from = resolve_from(&mut cx, s.file, &s.raw.from);
    }
    undeclared_destinations(&mut cx, &steps);
    lcx.phases.mark("resolve: step ends");
    let estimate = implicit_estimate(cx.model, &steps);
    cx.model.reserve_fields(estimate.values().sum());
    if !cx.external_ids.is_empty() {
        for s in &steps {
            declare_external_fields(&mut cx, s);
        }
    }
    for (&d, &n) in &estimate {
        cx.model.reserve_dataset_fields(d, n);
    }
    lcx.phases.mark("resolve: declared fields");
    declare_implicit_fields(&mut cx, &steps);
    lcx.phases.mark("resolve: implicit fields");
    // Room for every flow, so the model's vector never moves; a bound rather than a
    // count, since room never written is never touched. Steps then run in chunks whose
    // flows are appended before the next chunk runs: holding every step's flows until
    // all were done touched as much fresh memory again as the flows themselves.
    let bound = steps
        .iter()
        .fold(0usize, |n, s| n.saturating_add(flow_bound(cx.model, s)));
    cx.model.flows.reserve(bound.min(MAX_FLOWS_RESERVED));
    let record = cx.model.records_symbols();
    for chunk in steps.chunks(STEPS_PER_CHUNK) {
        let model: &Model = cx.model;
        let per_step: Vec<StepResult> = chunk
            .par_iter()
            .map_init(Scratch::default, |scratch, s| {
                let mut scx = StepCx {
                    model,
                    diags: Vec::new(),
                    symbols: record.then(Vec::new),
                };
                let flows = step_flows(&mut scx, s, scratch);
                // Checked on every test input, the property tests' random ones included.
                debug_assert!(
                    flows.len() <= flow_bound(model, s),
                    "flow bound of {}",
                    s.id
                );
                (flows, scx.diags, scx.symbols)
            })
            .collect();
        for (flows, step_diags, symbols) in per_step {
            cx.model.flows.extend(flows);
            cx.diags.extend(step_diags);
            cx.model.add_symbols(symbols.unwrap_or_default());
        }
    }
    // Passthroughs into a sink of datasets that get their fields later.
    for s in &steps {
        let (None, Some(Dest::Sink(k))) = (&s.raw.fields, s.to) else {
            continue;
        };
        for &d in &s.from {
            if cx.model.dataset(d).filled_later {
                let at = Loc {
                    file: s.file,
                    span: s.raw.to.span,
                };
                (cx.model.late.passthroughs).push((d, Target::Sink(k), s.id, at));
            }
        }
    }
    lcx.phases.mark("resolve: flows");
    // Freeing every step's parsed pieces takes a few milliseconds at 10k files that the
    // rest of the run need not wait for: a thread of the pool does it when it is free.
    drop(steps);
    rayon::spawn(move || drop(pipelines));
}

/// What one step adds: its flows, diagnostics and (for editors) references.
type StepResult = (Vec<Flow>, Vec<Finding>, Option<Vec<Symbol>>);

/// Steps whose flows are computed (in parallel) before they are appended to the model.
const STEPS_PER_CHUNK: usize = 512;
/// Most flows reserved up front (88 MiB of address space); past it the vector grows.
const MAX_FLOWS_RESERVED: usize = 1 << 20;

/// At least as many flows as [`step_flows`] gives the step, without resolving anything.
fn flow_bound(model: &Model, s: &StepWork) -> usize {
    let refs = |e: &Expression| e.refs.as_ref().map_or(0, Vec::len);
    let keys: usize = s
        .raw
        .join
        .iter()
        .chain(&s.raw.where_)
        .chain(&s.raw.group_by)
        .map(refs)
        .sum();
    let (values, outputs) = match &s.raw.fields {
        Some(fields) => (fields.iter().map(|(_, e)| refs(e)).sum(), fields.len()),
        None => {
            let passed = s.from.iter().map(|&d| model.dataset(d).fields.len()).sum();
            (passed, passed)
        }
    };
    let targets = match s.to {
        None => return 0,
        Some(Dest::Sink(_)) => 1,
        Some(Dest::Dataset(_)) => outputs,
    };
    values.saturating_add(keys.saturating_mul(targets))
}

/// Records where `name` is defined; if it already was, returns that first place.
fn claim<'a>(names: &mut FxHashMap<&'a str, Loc>, name: &'a str, loc: Loc) -> Option<Loc> {
    match names.entry(name) {
        Entry::Occupied(first) => Some(*first.get()),
        Entry::Vacant(slot) => {
            slot.insert(loc);
            None
        }
    }
}

/// Registers a dataset; its fields are returned, to be attached once all are known.
fn add_dataset(cx: &mut Ctx, file: FileId, d: RawDataset) -> Option<(DatasetId, FieldTable)> {
    let loc = Loc {
        file,
        span: d.name.span,
    };
    let id = match cx.model.add_dataset(d.name.value.clone(), loc, false) {
        Ok(id) => id,
        Err(existing) => {
            let first = cx.model.loc_of(existing);
            cx.duplicate("dataset", &d.name, file, first);
            return None;
        }
    };
    let ds = &mut cx.model.datasets[id as usize];
    ds.purposes = d.purposes.into_iter().map(|k| k.value).collect();
    ds.categories = d.categories.into_iter().map(|k| k.value).collect();
    ds.uses = d.uses.into_iter().map(|k| k.value).collect();
    for (field, first) in d.repeated_fields {
        let name = Spanned {
            value: field.name.into_string(),
            span: field.loc.span,
        };
        cx.duplicate("field", &name, file, first);
    }
    Some((id, d.fields))
}

fn allows(cx: &mut Ctx, file: FileId, raw: &RawStep, rule_ids: &[&str]) -> Vec<Allow> {
    let mut out = Vec::new();
    for a in &raw.allow {
        if !rule_ids.contains(&a.rule.value.as_str()) {
            let diag = Diag::UnknownRule {
                place: "`allow`".into(),
                rule: a.rule.value.clone(),
                suggestion: suggest::closest(&a.rule.value, rule_ids.iter().copied())
                    .map(Into::into),
            };
            cx.report(diag, file, a.rule.span);
        }
        out.push(Allow {
            rule: a.rule.value.clone(),
            reason: a.reason.value.clone(),
            loc: Loc { file, span: a.span },
        });
    }
    out
}

fn resolve_from(cx: &mut Ctx, file: FileId, names: &[Spanned<String>]) -> Vec<DatasetId> {
    let mut out = Vec::new();
    for name in names {
        match cx.model.lookup(&name.value) {
            Some(Named::Dataset(d)) => {
                cx.model
                    .note(file, name.span, SymbolTarget::Dataset(d), false);
                if cx.model.dataset(d).filled_later {
                    cx.external_ids.insert(d);
                }
                if !out.contains(&d) {
                    out.push(d);
                }
            }
            Some(Named::Sink(_)) => {
                let diag = Diag::SinkInFrom {
                    name: name.value.clone(),
                };
                cx.report(diag, file, name.span);
            }
            None if cx.externals.iter().any(|e| e.matcher.is_match(&name.value)) => {
                let loc = Loc {
                    file,
                    span: name.span,
                };
                if let Ok(d) = cx.model.add_dataset(name.value.clone(), loc, true) {
                    let purposes = cx
                        .externals
                        .iter()
                        .filter(|e| e.matcher.is_match(&name.value))
                        .flat_map(|e| e.purposes.iter().cloned());
                    let ds = &mut cx.model.datasets[d as usize];
                    for p in purposes {
                        if !ds.purposes.contains(&p) {
                            ds.purposes.push(p);
                        }
                    }
                    ds.open = true;
                    cx.external_ids.insert(d);
                    cx.model
                        .note(file, name.span, SymbolTarget::Dataset(d), false);
                    out.push(d);
                }
            }
            None => {
                let diag = Diag::UnknownDataset {
                    name: name.value.clone(),
                    suggestion: dataset_suggestion(cx.model, &name.value),
                };
                cx.report(diag, file, name.span);
            }
        }
    }
    out
}

/// Gives external datasets the fields the step's expressions reference as
/// `dataset.field`; bare names cannot be told apart from typos, so they stay errors.
fn declare_external_fields(cx: &mut Ctx, s: &StepWork<'_>) {
    let values = s
        .raw
        .fields
        .iter()
        .flatten()
        .map(|(_, v)| v)
        .chain(&s.raw.join)
        .chain(&s.raw.where_)
        .chain(&s.raw.group_by);
    for value in values {
        let Ok(refs) = &value.refs else {
            continue; // reported when flows are added
        };
        for r in refs {
            let Some((prefix, field)) = r.name.rsplit_once('.') else {
                continue;
            };
            let Some(d) = cx.model.dataset_id(prefix) else {
                continue;
            };
            if cx.external_ids.contains(&d) && s.from.contains(&d) {
                let loc = Loc {
                    file: s.file,
                    span: value.text.span,
                };
                let made = cx.model.add_field(d, field.to_string(), loc);
                if let (Ok(f), true) = (made, cx.model.dataset(d).filled_later) {
                    cx.model.late.referenced.push((f, loc));
                }
            }
        }
    }
}

/// Steps whose `to` only steps declare, and which no step reads: their flows end where
/// nobody declared the uses (spec §3.1), as when a sink's name has a typo or its file is
/// not in the run.
fn undeclared_destinations(cx: &mut Ctx, steps: &[StepWork<'_>]) {
    let read: FxHashSet<DatasetId> = steps.iter().flat_map(|s| s.from.iter().copied()).collect();
    let undeclared: Vec<&StepWork> = steps
        .iter()
        .filter(|s| {
            let Some(d) = implicit_dataset(cx.model, s.to) else {
                return false;
            };
            let external = cx
                .externals
                .iter()
                .any(|e| e.matcher.is_match(&s.raw.to.value));
            !read.contains(&d) && !external
        })
        .collect();
    if undeclared.is_empty() {
        return;
    }
    // Many of them in a large workspace: the suggestions are the work, and independent.
    let names = suggest::Candidates::new(cx.model.declared_names());
    let diags: Vec<Diag> = undeclared
        .par_iter()
        .map(|s| Diag::UndeclaredTo {
            name: s.raw.to.value.clone(),
            suggestion: names.closest(&s.raw.to.value).map(Into::into),
        })
        .collect();
    drop(names);
    for (s, diag) in undeclared.iter().zip(diags) {
        let Some(d) = implicit_dataset(cx.model, s.to) else {
            continue;
        };
        let loc = Loc {
            file: s.file,
            span: s.raw.to.span,
        };
        cx.model.unread_outputs.push((d, diag.at(loc)));
    }
}

fn dataset_suggestion(model: &Model, name: &str) -> Option<String> {
    suggest::closest(name, model.dataset_names()).map(Into::into)
}

fn implicit_dataset(m: &Model, d: Option<Dest>) -> Option<DatasetId> {
    match d {
        Some(Dest::Dataset(d)) if m.dataset(d).implicit => Some(d),
        _ => None,
    }
}

/// An upper bound on the fields each implicit dataset will get, to size tables once:
/// growing a vector of hundreds of thousands of fields copies it and touches twice its
/// memory. Passthrough chains are bounded by summing their inputs in step order; room
/// reserved but never used costs no memory.
fn implicit_estimate(model: &Model, steps: &[StepWork]) -> FxHashMap<DatasetId, usize> {
    let mut estimate: FxHashMap<DatasetId, usize> = FxHashMap::default();
    for s in steps {
        let Some(to) = implicit_dataset(model, s.to) else {
            continue;
        };
        let n = match &s.raw.fields {
            Some(fields) => fields.len(),
            None => s
                .from
                .iter()
                .map(|&d| {
                    let declared = model.dataset(d).fields.len();
                    estimate.get(&d).copied().unwrap_or(declared)
                })
                .sum(),
        };
        *estimate.entry(to).or_default() += n;
    }
    estimate
}

/// Like [`implicit_estimate`], before any step is resolved: by name, over the native
/// documents alone (datasets of other formats count as empty).
fn implicit_estimate_by_name(docs: &[(FileId, Doc)]) -> usize {
    let mut sizes: FxHashMap<&str, usize> = FxHashMap::default();
    for (_, d) in docs {
        if let Doc::Dataset(d) = d {
            sizes.insert(&d.name.value, d.fields.len());
        }
    }
    let mut implicit: FxHashMap<&str, usize> = FxHashMap::default();
    for (_, d) in docs {
        let Doc::Pipeline(p) = d else { continue };
        for s in &p.steps {
            if sizes.contains_key(s.to.value.as_str()) {
                continue;
            }
            let n = match &s.fields {
                Some(fields) => fields.len(),
                None => s
                    .from
                    .iter()
                    .map(|f| {
                        let name = f.value.as_str();
                        implicit.get(name).or(sizes.get(name)).copied().unwrap_or(0)
                    })
                    .sum(),
            };
            *implicit.entry(&s.to.value).or_default() += n;
        }
    }
    implicit.values().sum()
}

/// Gives each implicit dataset the fields its writers produce. Passthrough chains are
/// followed with a worklist, so order of files and steps does not matter and cycles end.
fn declare_implicit_fields(cx: &mut Ctx, steps: &[StepWork]) {
    let implicit = implicit_dataset;
    let mut readers: HashMap<DatasetId, Vec<usize>> = HashMap::new();
    let mut queue = VecDeque::new();
    let mut queued = vec![false; steps.len()];
    for (i, s) in steps.iter().enumerate() {
        let Some(to) = implicit(cx.model, s.to) else {
            continue;
        };
        let loc_file = s.file;
        match &s.raw.fields {
            Some(fields) => {
                for (key, _) in fields {
                    let loc = Loc {
                        file: loc_file,
                        span: key.span,
                    };
                    let _ = cx.model.add_field(to, key.value.clone(), loc);
                }
            }
            None => {
                for &f in &s.from {
                    readers.entry(f).or_default().push(i);
                }
                queue.push_back(i);
                queued[i] = true;
            }
        }
    }
    while let Some(i) = queue.pop_front() {
        queued[i] = false;
        let s = &steps[i];
        let Some(to) = implicit(cx.model, s.to) else {
            continue;
        };
        let loc = Loc {
            file: s.file,
            span: s.raw.to.span,
        };
        let mut grew = false;
        for &from in &s.from {
            // Re-visits are common and mostly find nothing new: copy only missing names.
            let missing: Vec<String> = cx
                .model
                .field_names(from)
                .filter(|name| cx.model.field_in(to, name).is_none())
                .map(str::to_string)
                .collect();
            for name in missing {
                grew |= cx.model.add_field(to, name, loc).is_ok();
            }
        }
        if grew {
            for &r in readers.get(&to).map(Vec::as_slice).unwrap_or(&[]) {
                if !queued[r] {
                    queued[r] = true;
                    queue.push_back(r);
                }
            }
        }
    }
}

/// A step's flows without duplicates. Same ends and kind but other functions is another
/// flow (one may be sanitized), so flows with equal ends are chained and compared.
#[derive(Default)]
struct FlowSink {
    /// First flow (index into `flows`) with these ends and kind.
    first: FxHashMap<(FieldId, Target, FlowKind), u32>,
    /// Next flow with the same ends and kind, per flow.
    next: Vec<Option<u32>>,
    flows: Vec<Flow>,
}

/// Working memory reused from step to step (one per rayon job): tens of thousands of
/// steps each growing their own tables from empty touched far more fresh memory.
#[derive(Default)]
struct Scratch {
    sink: FlowSink,
    targets: Vec<Target>,
    listed: FxHashSet<Target>,
}

/// The step's flows, in an exactly sized vector: a chunk's steps hold theirs until the
/// chunk is appended to the model.
fn step_flows(cx: &mut StepCx, s: &StepWork, scratch: &mut Scratch) -> Vec<Flow> {
    let Some(dest) = s.to else {
        return Vec::new();
    };
    let file = s.file;
    let Scratch {
        sink,
        targets,
        listed,
    } = scratch;
    sink.first.clear();
    sink.next.clear();
    sink.flows.clear();
    let loc = |span| Loc { file, span };
    // Output targets of this step, for indirect flows; `listed` keeps adding them linear.
    targets.clear();
    listed.clear();
    match (&s.raw.fields, dest) {
        (_, Dest::Sink(k)) => targets.push(Target::Sink(k)),
        (Some(fields), Dest::Dataset(d)) => {
            for (key, _) in fields {
                match cx.model.field_in(d, &key.value) {
                    Some(f) => {
                        cx.note(file, (key.span.start, key.span.end), f);
                        targets.push(Target::Field(f));
                    }
                    None => {
                        let diag = Diag::NoField {
                            owner: format!("dataset `{}`", cx.model.dataset(d).name),
                            field: key.value.clone(),
                            suggestion: suggest::closest(&key.value, cx.model.field_names(d))
                                .map(Into::into),
                        };
                        cx.report(diag, file, key.span);
                    }
                }
            }
        }
        (None, Dest::Dataset(_)) => {}
    }
    listed.extend(targets.iter().copied());

    match &s.raw.fields {
        Some(fields) => {
            for (key, value) in fields {
                let target = match dest {
                    Dest::Sink(k) => Some(Target::Sink(k)),
                    Dest::Dataset(d) => cx.model.field_in(d, &key.value).map(Target::Field),
                };
                for r in expression_refs(cx, s, value) {
                    if let Some(t) = target {
                        let at = loc(value.text.span);
                        // A window's keys are indirect inputs (spec §3.1).
                        let kind = match r.window_key {
                            true => FlowKind::Indirect,
                            false => FlowKind::Direct,
                        };
                        sink.push(r.field, t, kind, r.how(s.id, at));
                    }
                }
            }
        }
        None => {
            for &from_ds in &s.from {
                // Passed through once its own format has given it every field.
                if cx.model.dataset(from_ds).filled_later && matches!(dest, Dest::Sink(_)) {
                    continue;
                }
                for &f in &cx.model.dataset(from_ds).fields {
                    let name = &cx.model.fields[f as usize].name;
                    let t = match dest {
                        Dest::Sink(k) => Target::Sink(k),
                        Dest::Dataset(d) => match cx.model.field_in(d, name) {
                            Some(out) => Target::Field(out),
                            None => continue,
                        },
                    };
                    if listed.insert(t) {
                        targets.push(t);
                    }
                    let how = How {
                        functions: Vec::new(),
                        step: s.id,
                        loc: loc(s.raw.to.span),
                        focus: None,
                    };
                    sink.push(f, t, FlowKind::Passthrough, how);
                }
            }
        }
    }

    let keys = s
        .raw
        .join
        .iter()
        .chain(&s.raw.where_)
        .chain(&s.raw.group_by);
    for value in keys {
        for r in expression_refs(cx, s, value) {
            for &t in targets.iter() {
                let at = loc(value.text.span);
                sink.push(r.field, t, FlowKind::Indirect, r.how(s.id, at));
            }
        }
    }
    sink.flows.drain(..).collect()
}

impl FlowSink {
    fn push(&mut self, from: FieldId, to: Target, kind: FlowKind, how: How) {
        let index = self.flows.len() as u32;
        match self.first.entry((from, to, kind)) {
            Entry::Vacant(slot) => {
                slot.insert(index);
            }
            Entry::Occupied(first) => {
                let mut at = *first.get();
                loop {
                    if self.flows[at as usize].functions == how.functions {
                        return;
                    }
                    match self.next[at as usize] {
                        Some(n) => at = n,
                        None => break,
                    }
                }
                self.next[at as usize] = Some(index);
            }
        }
        self.next.push(None);
        self.flows.push(Flow {
            from,
            to,
            kind,
            functions: how.functions,
            step: how.step,
            loc: how.loc,
            focus: how.focus,
        });
    }
}

/// Parses an expression and resolves its column references against the step's `from`.
fn expression_refs(cx: &mut StepCx, s: &StepWork, expression: &Expression) -> Vec<ColumnFlow> {
    let value = &expression.text;
    let refs = match &expression.refs {
        Ok(refs) => refs,
        Err(e) => {
            let diag = Diag::BadExpression {
                text: value.value.clone(),
                error: e.to_string(),
            };
            cx.report(diag, s.file, value.span);
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    let file = cx.model.sources.get(s.file);
    for r in refs {
        let focus = ref_range(file, value, r.range);
        match resolve_column(cx.model, &s.from, &r.name) {
            Ok(field) => {
                let at = focus.unwrap_or((value.span.start, value.span.end));
                cx.note(s.file, at, field);
                out.push(ColumnFlow {
                    field,
                    functions: r.functions.clone(),
                    focus,
                    window_key: r.window_key,
                })
            }
            Err(diag) => {
                let span = focus.map_or(value.span, |(a, b)| file.span_of_bytes(a, b));
                cx.report(diag, s.file, span)
            }
        }
    }
    out
}

/// A resolved column reference of an expression.
struct ColumnFlow {
    field: FieldId,
    functions: Vec<String>,
    focus: Option<(u32, u32)>,
    window_key: bool,
}

impl ColumnFlow {
    fn how(&self, step: StepId, loc: Loc) -> How {
        How {
            functions: self.functions.clone(),
            step,
            loc,
            focus: self.focus,
        }
    }
}

/// Everything about a flow but its ends and kind.
struct How {
    functions: Vec<String>,
    step: StepId,
    loc: Loc,
    focus: Option<(u32, u32)>,
}

/// The file byte range of a range inside a scalar's value, when the scalar is written as-is
/// (plain, or quoted without escapes); block scalars and escapes shift offsets, so None.
fn ref_range(file: &SourceFile, value: &Spanned<String>, range: (u32, u32)) -> Option<(u32, u32)> {
    let raw = file
        .text
        .get(value.span.start as usize..value.span.end as usize)?;
    let inner = if raw == value.value {
        0
    } else if raw.len() == value.value.len() + 2 && raw.get(1..raw.len() - 1) == Some(&value.value)
    {
        1
    } else {
        return None;
    };
    let start = value.span.start + inner;
    Some((start + range.0, start + range.1))
}

/// `dataset.field` by the longest dataset prefix, or a bare field of exactly one `from`.
fn resolve_column(model: &Model, from: &[DatasetId], name: &str) -> Result<FieldId, Diag> {
    if !name.contains('.') {
        let owners: Vec<DatasetId> = from
            .iter()
            .copied()
            .filter(|&d| model.field_in(d, name).is_some())
            .collect();
        return match owners.as_slice() {
            [d] => Ok(model.field_in(*d, name).unwrap_or_default()),
            [] => {
                let all = from.iter().flat_map(|&d| model.field_names(d));
                Err(Diag::NoFieldInFrom {
                    field: name.to_string(),
                    suggestion: suggest::closest(name, all).map(Into::into),
                })
            }
            many => Err(Diag::AmbiguousField {
                field: name.to_string(),
                owners: many
                    .iter()
                    .map(|&d| model.dataset(d).name.clone())
                    .collect(),
            }),
        };
    }
    // Longest prefix at a dot boundary that names a dataset.
    let prefixes = name
        .char_indices()
        .filter(|&(_, c)| c == '.')
        .map(|(i, _)| (&name[..i], &name[i + 1..]))
        .rev();
    for (prefix, field) in prefixes {
        let Some(d) = model.dataset_id(prefix) else {
            continue;
        };
        if !from.contains(&d) {
            return Err(Diag::NotInFrom {
                dataset: prefix.to_string(),
            });
        }
        return match model.field_in(d, field) {
            Some(f) => Ok(f),
            None => Err(Diag::NoField {
                owner: format!("dataset `{prefix}`"),
                field: field.to_string(),
                suggestion: suggest::closest(field, model.field_names(d)).map(Into::into),
            }),
        };
    }
    let table = name.rsplit_once('.').map_or(name, |(t, _)| t);
    Err(Diag::UnknownDatasetOf {
        dataset: table.to_string(),
        reference: name.to_string(),
        suggestion: dataset_suggestion(model, table),
    })
}
