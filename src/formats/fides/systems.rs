//! Fides systems. A system both receives data (it is a sink for the uses its privacy
//! declarations state) and sends data on (`egress`), so it becomes one dataset named after
//! its `fides_key`, with those uses, and with one field per data category that reaches it.
//! A dataset with uses is a sink for rules, and its fields can flow on like any others.
//!
//! - `dataset_references` (system or declaration level) and `ingress` of type dataset: every
//!   field of the dataset flows into the system field of each of its categories;
//! - `egress`/`ingress` of type system: each category field flows into the same category of
//!   the other system; of type dataset (egress): into the dataset's fields of that category;
//! - a data flow that lists `data_categories` carries only the categories that overlap one;
//! - type `user` is the person the data is about: not a node of the flow graph.

use std::collections::{BTreeSet, HashMap};

use rustc_hash::{FxHashMap, FxHashSet};
use smallvec::SmallVec;

use super::datasets::Index;
use super::link::Cx;
use super::parse::{FlowType, RawDataFlow, RawSystem, Str};
use super::FidesOptions;
use crate::diagnostic::Diag;
use crate::finding::Diagnostics;
use crate::model::{DatasetId, FieldId, Flow, FlowKind, Model, StepId, Tags, Target};
use crate::source::{FileId, Loc};
use crate::taxonomy::{matches, Tree};

/// The system field for data without a category.
const UNCATEGORIZED: &str = "(uncategorized)";

struct System {
    key: String,
    dataset: DatasetId,
    loc: Loc,
}

/// Data moving along one declared edge.
struct Edge<'i> {
    from: End<'i>,
    to: End<'i>,
    filter: Vec<String>,
    step: StepId,
    loc: Loc,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum End<'i> {
    Dataset(&'i str),
    System(usize),
}

fn passes(filter: &[String], category: &str) -> bool {
    filter.is_empty()
        || (category != UNCATEGORIZED
            && filter
                .iter()
                .any(|f| matches(f, category) || matches(category, f)))
}

pub(super) fn add(cx: &mut Cx, index: &Index, raw: Vec<(FileId, RawSystem)>, opts: FidesOptions) {
    let mut systems: Vec<System> = Vec::new();
    let mut by_key: HashMap<String, usize> = HashMap::new();
    let mut kept: Vec<(FileId, RawSystem)> = Vec::new();
    for (file, s) in raw {
        let loc = Loc {
            file,
            span: s.key.span,
        };
        let dataset = match cx.model.add_dataset(s.key.value.clone(), loc, false) {
            Ok(id) => id,
            Err(existing) => {
                let first = cx.model.loc_of(existing);
                cx.duplicate("system", &s.key, file, first);
                continue;
            }
        };
        let mut uses: Vec<String> = Vec::new();
        let mut subjects: Vec<String> = Vec::new();
        for d in &s.declarations {
            cx.check_keys(file, Tree::DataCategory, &d.categories);
            if let Some(u) = &d.data_use {
                cx.check_keys(file, Tree::DataUse, std::slice::from_ref(u));
                if !uses.contains(&u.value) {
                    uses.push(u.value.clone());
                }
            }
            for sub in &d.subjects {
                if !subjects.contains(&sub.value) {
                    subjects.push(sub.value.clone());
                }
            }
        }
        for f in s.egress.iter().chain(&s.ingress) {
            cx.check_keys(file, Tree::DataCategory, &f.categories);
        }
        let ds = &mut cx.model.datasets[dataset as usize];
        ds.uses = uses;
        ds.subjects = subjects;
        by_key.insert(s.key.value.clone(), systems.len());
        systems.push(System {
            key: s.key.value.clone(),
            dataset,
            loc,
        });
        declarations(cx, file, &s);
        kept.push((file, s));
    }

    // Declared edges, in file order; `uses_of` records who reads each dataset, for inference.
    let mut edges: Vec<Edge> = Vec::new();
    let mut readers: HashMap<&str, Vec<String>> = HashMap::new();
    for (i, (file, s)) in kept.iter().enumerate() {
        let file = *file;
        let all_uses = cx.model.datasets[systems[i].dataset as usize].uses.clone();
        let read = |cx: &mut Cx, key: &Str, step: StepId, filter: Vec<String>| {
            let Some((k, ds)) = index.get_key_value(&key.value) else {
                unknown(cx, file, key, "Fides dataset", index.keys());
                return None;
            };
            super::datasets::note_dataset(cx.model, file, key, ds);
            Some(Edge {
                from: End::Dataset(k.as_str()),
                to: End::System(i),
                filter,
                step,
                loc: Loc {
                    file,
                    span: key.span,
                },
            })
        };
        if !s.dataset_references.is_empty() {
            let step = step(cx, &systems[i], "dataset_references", s.key.span, file);
            for key in &s.dataset_references {
                if let Some(e) = read(cx, key, step, Vec::new()) {
                    note_reader(&mut readers, &e, &all_uses);
                    edges.push(e);
                }
            }
        }
        for (n, d) in s.declarations.iter().enumerate() {
            if d.dataset_references.is_empty() {
                continue;
            }
            let label = match &d.name {
                Some(name) => format!("privacy_declarations[{n}] ({})", name.value),
                None => format!("privacy_declarations[{n}]"),
            };
            let span = d.name.as_ref().map_or(d.span, |n| n.span);
            let step = step(cx, &systems[i], &label, span, file);
            let uses: Vec<String> = d.data_use.iter().map(|u| u.value.clone()).collect();
            for key in &d.dataset_references {
                if let Some(e) = read(cx, key, step, Vec::new()) {
                    note_reader(&mut readers, &e, &uses);
                    edges.push(e);
                }
            }
        }
        for (dir, flows) in [("egress", &s.egress), ("ingress", &s.ingress)] {
            if flows.is_empty() {
                continue;
            }
            let step = step(cx, &systems[i], dir, s.key.span, file);
            for f in flows.iter() {
                let Some(other) = endpoint(cx, index, &by_key, file, f) else {
                    continue;
                };
                let filter: Vec<String> = f.categories.iter().map(|c| c.value.clone()).collect();
                let (from, to) = if dir == "egress" {
                    (End::System(i), other)
                } else {
                    (other, End::System(i))
                };
                let e = Edge {
                    from,
                    to,
                    filter,
                    step,
                    loc: Loc {
                        file,
                        span: f.key.span,
                    },
                };
                if matches!(from, End::Dataset(_)) {
                    note_reader(&mut readers, &e, &all_uses);
                }
                edges.push(e);
            }
        }
    }

    if opts.infer_purposes_from_systems {
        infer(cx, index, &readers);
    }

    // Which categories reach each system: from datasets read, then along system edges.
    let mut cats: Vec<BTreeSet<String>> = vec![BTreeSet::new(); systems.len()];
    for e in &edges {
        if let (End::Dataset(d), End::System(s)) = (e.from, e.to) {
            for &leaf in &index[d].leaves {
                for c in field_categories(cx.model, leaf) {
                    if passes(&e.filter, c) && !cats[s].contains(c) {
                        cats[s].insert(c.to_string());
                    }
                }
            }
        }
    }
    let mut changed = true;
    while changed {
        changed = false;
        for e in &edges {
            if let (End::System(a), End::System(b)) = (e.from, e.to) {
                let carried: Vec<String> = cats[a]
                    .iter()
                    .filter(|c| passes(&e.filter, c))
                    .cloned()
                    .collect();
                for c in carried {
                    changed |= cats[b].insert(c);
                }
            }
        }
    }
    let mut fields: Vec<FxHashMap<String, FieldId>> = Vec::new();
    for (s, set) in systems.iter().zip(&cats) {
        let mut map = FxHashMap::default();
        for c in set {
            // The field is named after the category but declares none: the data it holds
            // comes from dataset fields, which are the sources of findings, not this copy.
            if let Ok(fid) = cx.model.add_field(s.dataset, c.clone(), s.loc) {
                map.insert(c.clone(), fid);
            }
        }
        fields.push(map);
    }

    let mut seen: FxHashSet<(FieldId, FieldId)> = FxHashSet::default();
    // A dataset edge's flows, found while the model is borrowed, then added.
    let mut found: Vec<(FieldId, FieldId)> = Vec::new();
    let mut push = |cx: &mut Cx, from: FieldId, to: FieldId, e: &Edge| {
        if seen.insert((from, to)) {
            cx.model.flows.push(Flow {
                from,
                to: Target::Field(to),
                kind: FlowKind::Passthrough,
                functions: Vec::new(),
                step: e.step,
                loc: e.loc,
                focus: None,
            });
        }
    };
    for e in &edges {
        match (e.from, e.to) {
            (End::Dataset(d), End::System(s)) => {
                for &leaf in &index[d].leaves {
                    for c in field_categories(cx.model, leaf) {
                        if let Some(&to) = fields[s].get(c).filter(|_| passes(&e.filter, c)) {
                            found.push((leaf, to));
                        }
                    }
                }
                for (leaf, to) in found.drain(..) {
                    push(cx, leaf, to, e);
                }
            }
            (End::System(a), End::System(b)) => {
                for (c, &from) in sorted(&fields[a]) {
                    if let Some(&to) = fields[b].get(c).filter(|_| passes(&e.filter, c)) {
                        push(cx, from, to, e);
                    }
                }
            }
            (End::System(a), End::Dataset(d)) => {
                for (c, &from) in sorted(&fields[a]) {
                    if !passes(&e.filter, c) || c == UNCATEGORIZED {
                        continue;
                    }
                    for &leaf in &index[d].leaves {
                        let overlaps = cx
                            .model
                            .effective_categories(leaf)
                            .any(|k| matches(k, c) || matches(c, k));
                        if overlaps {
                            push(cx, from, leaf, e);
                        }
                    }
                }
            }
            (End::Dataset(_), End::Dataset(_)) => {}
        }
    }
}

/// What `fides evaluate` checks: each privacy declaration on its own. Each declaration
/// becomes a sink dataset `system/privacy_declarations[i]` with its own use and subjects,
/// and one field per category it declares. Policy rules then report a declared category
/// with an empty path, exactly when Fides' per-declaration evaluation would. The fields
/// have no purposes and no flows, so the built-in rules never see them.
fn declarations(cx: &mut Cx, file: FileId, s: &RawSystem) {
    for (n, d) in s.declarations.iter().enumerate() {
        let (Some(use_), false) = (&d.data_use, d.categories.is_empty()) else {
            continue;
        };
        let loc = Loc {
            file,
            span: d.name.as_ref().map_or(d.span, |n| n.span),
        };
        let name = format!("{}/privacy_declarations[{n}]", s.key.value);
        let Ok(id) = cx.model.add_dataset(name, loc, true) else {
            continue;
        };
        let ds = &mut cx.model.datasets[id as usize];
        ds.uses = vec![use_.value.clone()];
        ds.subjects = d.subjects.iter().map(|s| s.value.clone()).collect();
        for c in &d.categories {
            let floc = Loc { file, span: c.span };
            if let Ok(fid) = cx.model.add_field(id, c.value.clone(), floc) {
                cx.model.fields[fid as usize].tags = Tags::of(Vec::new(), vec![c.value.clone()]);
            }
        }
    }
}

fn sorted(map: &FxHashMap<String, FieldId>) -> Vec<(&String, &FieldId)> {
    let mut v: Vec<_> = map.iter().collect();
    v.sort();
    v
}

/// A field's categories (its own and its collection's), or the uncategorized marker.
fn field_categories(model: &Model, field: FieldId) -> SmallVec<[&str; 4]> {
    let mut out: SmallVec<[&str; 4]> = SmallVec::new();
    for c in model.effective_categories(field) {
        if !out.contains(&c) {
            out.push(c);
        }
    }
    if out.is_empty() {
        out.push(UNCATEGORIZED);
    }
    out
}

fn step(cx: &mut Cx, s: &System, what: &str, span: crate::source::Span, file: FileId) -> StepId {
    cx.model
        .add_step(format!("{}/{what}", s.key), Loc { file, span }, Vec::new())
}

fn note_reader<'i>(readers: &mut HashMap<&'i str, Vec<String>>, e: &Edge<'i>, uses: &[String]) {
    if let End::Dataset(d) = e.from {
        let list = readers.entry(d).or_default();
        for u in uses {
            if !list.contains(u) {
                list.push(u.clone());
            }
        }
    }
}

/// Opt-in: a dataset read only for `essential.*` uses is taken as collected for them.
fn infer(cx: &mut Cx, index: &Index, readers: &HashMap<&str, Vec<String>>) {
    let mut keys: Vec<&&str> = readers.keys().collect();
    keys.sort();
    for key in keys {
        let uses = &readers[*key];
        if uses.is_empty() || !uses.iter().all(|u| matches("essential", u)) {
            continue;
        }
        for &c in &index[*key].collections {
            let ds = &mut cx.model.datasets[c as usize];
            for u in uses {
                if !ds.purposes.contains(u) {
                    ds.purposes.push(u.clone());
                }
            }
        }
    }
}

fn endpoint<'i>(
    cx: &mut Cx,
    index: &'i Index,
    by_key: &HashMap<String, usize>,
    file: FileId,
    f: &RawDataFlow,
) -> Option<End<'i>> {
    match f.kind {
        FlowType::User => None,
        FlowType::System => match by_key.get(&f.key.value) {
            Some(&s) => Some(End::System(s)),
            None => {
                unknown(cx, file, &f.key, "Fides system", by_key.keys());
                None
            }
        },
        FlowType::Dataset => match index.get_key_value(&f.key.value) {
            Some((k, ds)) => {
                super::datasets::note_dataset(cx.model, file, &f.key, ds);
                Some(End::Dataset(k.as_str()))
            }
            None => {
                unknown(cx, file, &f.key, "Fides dataset", index.keys());
                None
            }
        },
    }
}

fn unknown<'k>(
    cx: &mut Cx,
    file: FileId,
    key: &Str,
    what: &str,
    known: impl Iterator<Item = &'k String>,
) {
    let mut names: Vec<&str> = known.map(String::as_str).collect();
    names.sort_unstable();
    let diag = Diag::UnknownNamed {
        what: what.to_string(),
        name: key.value.clone(),
        suggestion: crate::suggest::closest(&key.value, names).map(Into::into),
    };
    cx.report(diag, file, key.span);
}
