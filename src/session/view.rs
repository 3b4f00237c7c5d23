//! What an editor shows of a workspace: every finding and diagnostic, as a whole run gives
//! them, and for each file the model its symbols are in. After an edit, only the part
//! of the workspace the edit can affect is linked again ([`super::slice`]); the view
//! then takes that run's results for what it gives exactly and keeps the rest.

use std::sync::Arc;

use super::slice::Slice;
use crate::check::{sort_findings_in, Outcome};
use crate::finding::Finding;
use crate::model::{Model, Step};
use crate::source::{FileId, Sources};

pub struct View {
    pub sources: Sources,
    /// Sorted by file, line, column, rule, as `check` sorts them.
    pub findings: Vec<Finding>,
    /// Findings that `allow` entries suppress, with the steps that allowed them.
    pub allowed: Vec<(Finding, Vec<String>)>,
    pub warnings: Vec<String>,
    /// The runs that hold the files' current models; `owner[file]` indexes it.
    runs: Vec<Arc<Outcome>>,
    owner: Vec<u32>,
    /// Files linked by the last run (all of them after a whole run).
    linked: usize,
}

/// `(source dataset, sink)` of a flow finding.
fn ends(f: &Finding) -> Option<(&str, &str)> {
    let flow = f.flow.as_ref()?;
    let dataset = flow.source.name.rsplit_once('.').map_or("", |(d, _)| d);
    Some((dataset, flow.sink.name.as_str()))
}

fn allowed_of(o: &Outcome) -> Vec<(Finding, Vec<String>)> {
    o.suppressed
        .iter()
        .map(|s| {
            let steps = s.allows.iter();
            let names = steps.map(|(step, _)| o.model.steps[*step as usize].name.clone());
            (s.finding.clone(), names.collect())
        })
        .collect()
}

impl View {
    /// The view of a whole run.
    pub fn of(outcome: Outcome) -> Self {
        let files = outcome.model.sources.files.len();
        View {
            sources: outcome.model.sources.clone(),
            findings: outcome.findings.clone(),
            allowed: allowed_of(&outcome),
            warnings: outcome.warnings.clone(),
            linked: files,
            runs: vec![Arc::new(outcome)],
            owner: vec![0; files],
        }
    }

    /// This view after an edit: `outcome` is the run over `slice.linked`.
    pub(super) fn updated(&self, outcome: Outcome, slice: &Slice) -> Self {
        let given = |f: &Finding| match ends(f) {
            Some((dataset, sink)) => slice.up.contains(dataset) && slice.down.contains(sink),
            None => slice.exact[f.location.file as usize],
        };
        let mut findings: Vec<Finding> = self
            .findings
            .iter()
            .filter(|f| !given(f))
            .cloned()
            .collect();
        findings.extend(outcome.findings.iter().filter(|f| given(f)).cloned());
        sort_findings_in(&self.sources, &mut findings);
        let mut allowed: Vec<(Finding, Vec<String>)> = self
            .allowed
            .iter()
            .filter(|(f, _)| !given(f))
            .cloned()
            .collect();
        allowed.extend(allowed_of(&outcome).into_iter().filter(|(f, _)| given(f)));

        // The new run owns the files it gives exactly; runs that own nothing are dropped.
        let mut runs = self.runs.clone();
        runs.push(Arc::new(outcome));
        let newest = (runs.len() - 1) as u32;
        let mut owner: Vec<u32> = self
            .owner
            .iter()
            .zip(&slice.exact)
            .map(|(&o, &exact)| if exact { newest } else { o })
            .collect();
        let mut used = vec![false; runs.len()];
        for &o in &owner {
            used[o as usize] = true;
        }
        let renumber: Vec<u32> = used
            .iter()
            .scan(0u32, |next, &u| {
                let n = *next;
                *next += u as u32;
                Some(n)
            })
            .collect();
        for o in &mut owner {
            *o = renumber[*o as usize];
        }
        let mut i = 0;
        runs.retain(|_| {
            i += 1;
            used[i - 1]
        });
        let last = runs.last().expect("the newest run owns the edited file");
        View {
            // The newest run knows every file with its text now (the edited file's
            // changed): findings kept from before point into them too.
            sources: last.model.sources.clone(),
            findings,
            allowed,
            warnings: last.warnings.clone(),
            linked: slice.linked.iter().filter(|&&l| l).count(),
            runs,
            owner,
        }
    }

    /// How many files the run that made this view linked.
    pub fn linked(&self) -> usize {
        self.linked
    }

    /// The model that holds `file`'s symbols as they are now.
    pub fn model_of(&self, file: FileId) -> &Model {
        let run = self.owner.get(file as usize).copied().unwrap_or(0);
        &self.runs[run as usize].model
    }

    /// Every model of the view, newest first (names for completion).
    pub fn models(&self) -> impl Iterator<Item = &Model> {
        self.runs.iter().rev().map(|r| &r.model)
    }

    /// The step named `name`, in the model current for its file.
    pub fn step(&self, name: &str) -> Option<(&Model, &Step)> {
        self.models().find_map(|m| {
            let s = m.steps.iter().find(|s| s.name == name)?;
            std::ptr::eq(self.model_of(s.loc.file), m).then_some((m, s))
        })
    }

    /// The file of the view at `path`.
    pub fn file_of(&self, path: &std::path::Path) -> Option<FileId> {
        let files = &self.sources.files;
        files
            .iter()
            .position(|f| f.path == path)
            .map(|i| i as FileId)
    }
}
