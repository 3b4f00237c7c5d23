//! Fides datasets: each collection becomes a dataset `fides_key.collection`; nested fields
//! are flattened (`address.city`); `data_purposes` become purposes (the union down the
//! hierarchy); `fides_meta.references` become direct flows.

use std::collections::HashMap;

use super::link::Cx;
use super::parse::{RawDataset, RawReference, Str};
use crate::diagnostic::Diag;
use crate::finding::Diagnostics;
use crate::model::{DatasetId, FieldId, Flow, FlowKind, Model, SymbolTarget, Tags, Target};
use crate::source::{FileId, Loc};
use crate::taxonomy::Tree;

/// A Fides dataset as linked: where it is declared and its collections' datasets.
pub(super) struct FidesDataset {
    pub loc: Loc,
    pub collections: Vec<DatasetId>,
    /// Fields that carry data: leaves, not object fields with sub-fields.
    pub leaves: Vec<FieldId>,
}

/// Fides dataset key → what it became.
pub(super) type Index = HashMap<String, FidesDataset>;

struct PendingRefs {
    file: FileId,
    field: FieldId,
    refs: Vec<RawReference>,
}

pub(super) fn add(cx: &mut Cx, raw: Vec<(FileId, RawDataset)>) -> Index {
    let mut index = Index::new();
    let mut pending = Vec::new();
    for (file, d) in raw {
        let loc = Loc {
            file,
            span: d.key.span,
        };
        if let Some(first) = index.get(&d.key.value) {
            let first = first.loc;
            cx.duplicate("Fides dataset", &d.key, file, first);
            continue;
        }
        cx.check_keys(file, Tree::DataCategory, &d.categories);
        let ds_purposes = cx.purposes_of(file, &d.purposes);
        let mut entry = FidesDataset {
            loc,
            collections: Vec::new(),
            leaves: Vec::new(),
        };
        for c in d.collections {
            let name = format!("{}.{}", d.key.value, c.name.value);
            let cloc = Loc {
                file,
                span: c.name.span,
            };
            let id = match cx.model.add_dataset(name, cloc, false) {
                Ok(id) => id,
                Err(existing) => {
                    let first = cx.model.loc_of(existing);
                    cx.duplicate("collection", &c.name, file, first);
                    continue;
                }
            };
            entry.collections.push(id);
            cx.check_keys(file, Tree::DataCategory, &c.categories);
            let mut purposes = ds_purposes.clone();
            for p in cx.purposes_of(file, &c.purposes) {
                if !purposes.contains(&p) {
                    purposes.push(p);
                }
            }
            let mut categories: Vec<String> = Vec::new();
            for k in d.categories.iter().chain(&c.categories) {
                if !categories.contains(&k.value) {
                    categories.push(k.value.clone());
                }
            }
            let ds = &mut cx.model.datasets[id as usize];
            ds.purposes = purposes;
            ds.categories = categories;
            for f in c.fields {
                let floc = Loc { file, span: f.span };
                let fid = match cx.model.add_field(id, f.path.clone(), floc) {
                    Ok(fid) => fid,
                    Err(existing) => {
                        let first = cx.model.fields[existing as usize].loc;
                        let name = crate::source::Spanned {
                            value: f.path.clone(),
                            span: f.span,
                        };
                        cx.duplicate("field", &name, file, first);
                        continue;
                    }
                };
                cx.check_keys(file, Tree::DataCategory, &f.categories);
                let purposes = cx.purposes_of(file, &f.purposes);
                let categories = f.categories.iter().map(|k| k.value.clone()).collect();
                cx.model.fields[fid as usize].tags = Tags::of(purposes, categories);
                if !f.is_object {
                    entry.leaves.push(fid);
                }
                if !f.references.is_empty() {
                    pending.push(PendingRefs {
                        file,
                        field: fid,
                        refs: f.references,
                    });
                }
            }
        }
        index.insert(d.key.value.clone(), entry);
    }
    for p in pending {
        references(cx, &index, p);
    }
    index
}

/// `fides_meta.references`: `from` makes the referenced field flow into this one, `to`
/// the reverse; without a direction the two are joined, and data may go either way.
fn references(cx: &mut Cx, index: &Index, p: PendingRefs) {
    let here = cx.model.field_name(p.field);
    let loc = cx.model.fields[p.field as usize].loc;
    let step = cx
        .model
        .add_step(format!("{here}/fides_meta.references"), loc, Vec::new());
    for r in p.refs {
        let Some(target) = resolve_field(cx, index, p.file, &r) else {
            continue;
        };
        let dirs: &[bool] = match r.direction.as_ref().map(|d| d.value.as_str()) {
            Some("from") => &[true],
            Some(_) => &[false],
            None => &[true, false],
        };
        for &incoming in dirs {
            let (from, to) = if incoming {
                (target, p.field)
            } else {
                (p.field, target)
            };
            cx.model.flows.push(Flow {
                from,
                to: Target::Field(to),
                kind: FlowKind::Direct,
                functions: Vec::new(),
                step,
                loc: Loc {
                    file: p.file,
                    span: r.field.span,
                },
                focus: None,
            });
        }
    }
}

/// Records a reference to a Fides dataset, which stands for its first collection.
pub(super) fn note_dataset(model: &mut Model, file: FileId, key: &Str, ds: &FidesDataset) {
    if let Some(&c) = ds.collections.first() {
        model.note(file, key.span, SymbolTarget::Dataset(c), false);
    }
}

/// Resolves `dataset` + `collection.field.path` to a field, or reports `unknown-reference`.
fn resolve_field(cx: &mut Cx, index: &Index, file: FileId, r: &RawReference) -> Option<FieldId> {
    let Some(ds) = index.get(&r.dataset.value) else {
        let mut keys: Vec<&str> = index.keys().map(String::as_str).collect();
        keys.sort_unstable();
        let diag = Diag::UnknownNamed {
            what: "Fides dataset".into(),
            name: r.dataset.value.clone(),
            suggestion: crate::suggest::closest(&r.dataset.value, keys).map(Into::into),
        };
        cx.report(diag, file, r.dataset.span);
        return None;
    };
    // The collection is the longest prefix of `field` that names one of the dataset's.
    let mut best: Option<(DatasetId, usize, &str)> = None;
    for &c in &ds.collections {
        let cname = &cx.model.datasets[c as usize].name[r.dataset.value.len() + 1..];
        let path = r
            .field
            .value
            .strip_prefix(cname)
            .and_then(|rest| rest.strip_prefix('.'));
        if let Some(path) = path {
            if best.is_none_or(|(_, len, _)| len < cname.len()) {
                best = Some((c, cname.len(), path));
            }
        }
    }
    let found = best.and_then(|(c, _, path)| cx.model.field_in(c, path));
    note_dataset(cx.model, file, &r.dataset, ds);
    if let Some(f) = found {
        cx.model
            .note(file, r.field.span, SymbolTarget::Field(f), false);
    }
    if found.is_none() {
        let mut names: Vec<String> = ds
            .collections
            .iter()
            .flat_map(|&c| {
                let d = &cx.model.datasets[c as usize];
                let cname = d.name[r.dataset.value.len() + 1..].to_string();
                d.fields
                    .iter()
                    .map(|&f| format!("{cname}.{}", cx.model.fields[f as usize].name))
                    .collect::<Vec<_>>()
            })
            .collect();
        names.sort();
        let suggestion = crate::suggest::closest(&r.field.value, names.iter().map(String::as_str));
        let diag = Diag::NoFieldIn {
            field: r.field.value.clone(),
            owner: format!("Fides dataset `{}`", r.dataset.value),
            suggestion: suggestion.map(Into::into),
        };
        cx.report(diag, file, r.field.span);
    }
    found
}
