//! Linking the Fides resources of a run into the model, in dependency order: taxonomy
//! extensions and purposes, then datasets, field references, systems, and policies.

use std::collections::HashMap;

use super::parse::{RawPurpose, RawTaxon, Resource, Str};
use super::{datasets, policies, systems, FidesOptions};
use crate::diagnostic::Diag;
use crate::finding::{Diagnostics, Finding};
use crate::model::Model;
use crate::source::{FileId, Loc};
use crate::taxonomy::{Taxonomy, Tree};

pub(super) struct Cx<'a> {
    pub model: &'a mut Model,
    pub diags: Vec<Finding>,
    /// The run's taxonomy: the configured one plus `data_use` / `data_category` resources.
    pub tax: Taxonomy,
    /// `purpose` resources: key → data use.
    pub purposes: HashMap<String, String>,
}

impl Diagnostics for Cx<'_> {
    fn diagnostics(&mut self) -> &mut Vec<Finding> {
        &mut self.diags
    }
}

impl Cx<'_> {
    pub(super) fn duplicate(&mut self, what: &str, name: &Str, file: FileId, first: Loc) {
        let diag = Diag::Duplicate {
            what: Some(what.to_string()),
            name: name.value.clone(),
            first: self.model.sources.file_line(first),
        };
        self.report(diag, file, name.span);
    }

    /// Reports `unknown-purpose` for keys that are not in the run's taxonomy.
    pub(super) fn check_keys(&mut self, file: FileId, tree: Tree, keys: &[Str]) {
        for key in keys {
            if let Some(diag) = self.tax.unknown(tree, &key.value) {
                self.report(diag, file, key.span);
            }
        }
    }

    /// `data_purposes` values as data uses: a `purpose` resource gives its data use, a
    /// data-use key is taken as it is, anything else is `unknown-purpose` and dropped.
    pub(super) fn purposes_of(&mut self, file: FileId, values: &[Str]) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for v in values {
            let use_ = if let Some(u) = self.purposes.get(&v.value) {
                u.clone()
            } else if self.tax.contains(Tree::DataUse, &v.value) {
                v.value.clone()
            } else {
                let mut names: Vec<&str> = self.purposes.keys().map(String::as_str).collect();
                names.sort_unstable();
                let suggestion = crate::suggest::closest(&v.value, names)
                    .or_else(|| self.tax.suggest(Tree::DataUse, &v.value));
                let diag = Diag::NotAPurpose {
                    value: v.value.clone(),
                    suggestion: suggestion.map(Into::into),
                };
                self.report(diag, file, v.span);
                continue;
            };
            if !out.contains(&use_) {
                out.push(use_);
            }
        }
        out
    }
}

/// Adds the Fides resources of a run (in file order) to the model and returns the
/// diagnostics. The rules of Fides policies are made from each file on its own
/// ([`policies::rules_of`]), before linking.
pub(super) fn link(
    resources: Vec<(FileId, Resource)>,
    model: &mut Model,
    taxonomy: &Taxonomy,
    opts: FidesOptions,
) -> Vec<Finding> {
    let mut cx = Cx {
        model,
        diags: Vec::new(),
        tax: taxonomy.clone(),
        purposes: HashMap::new(),
    };
    let mut taxons: Vec<(FileId, RawTaxon)> = Vec::new();
    let mut purposes: Vec<(FileId, RawPurpose)> = Vec::new();
    let mut raw_datasets = Vec::new();
    let mut raw_systems = Vec::new();
    let mut raw_policies = Vec::new();
    for (file, r) in resources {
        match r {
            Resource::Taxon(t) => taxons.push((file, t)),
            Resource::Purpose(p) => purposes.push((file, p)),
            Resource::Dataset(d) => raw_datasets.push((file, d)),
            Resource::System(s) => raw_systems.push((file, s)),
            Resource::Policy(p) => raw_policies.push((file, p)),
        }
    }

    // Taxonomy extensions apply to the whole run, whatever the file order.
    for (_, t) in &taxons {
        if let Some(tree) = t.tree {
            cx.tax.add(tree, &t.key.value, &t.name);
        }
    }
    for (file, t) in &taxons {
        if let (Some(tree), Some(parent)) = (t.tree, &t.parent) {
            cx.check_keys(*file, tree, std::slice::from_ref(parent));
        }
    }
    let mut purpose_locs: HashMap<String, Loc> = HashMap::new();
    for (file, p) in &purposes {
        let loc = Loc {
            file: *file,
            span: p.key.span,
        };
        if let Some(&first) = purpose_locs.get(&p.key.value) {
            cx.duplicate("purpose", &p.key, *file, first);
            continue;
        }
        purpose_locs.insert(p.key.value.clone(), loc);
        cx.check_keys(*file, Tree::DataUse, std::slice::from_ref(&p.data_use));
        cx.check_keys(*file, Tree::DataCategory, &p.categories);
        cx.purposes
            .insert(p.key.value.clone(), p.data_use.value.clone());
    }

    let index = datasets::add(&mut cx, raw_datasets);
    systems::add(&mut cx, &index, raw_systems, opts);
    policies::check(&mut cx, raw_policies);
    cx.diags
}
