//! Fides (fideslang) manifests: datasets, systems, policies, purposes and taxonomy
//! extensions, read as they are and linked into the shared model. See docs/fides.md.
//!
//! - `parse`: detection by shape and validation of every resource, with spans;
//! - `datasets`: collections → datasets `fides_key.collection`, nested fields flattened,
//!   `data_purposes` → purposes, `fides_meta.references` → direct flows;
//! - `systems`: privacy declarations → a sink (a dataset with uses), dataset references,
//!   egress and ingress → flows;
//! - `policies`: policy rules → flow rules.

mod datasets;
mod link;
mod parse;
mod policies;
mod systems;

use std::path::Path;

pub(crate) use parse::{is_fides_document, read_document, Resource, RESOURCE_KEYS};

use super::{Format, Layout, ReadInput};
use crate::rules::Rule;
use crate::session::LinkCx;
use crate::source::{FileId, SourceFile};

/// The Fides format.
pub(crate) struct Fides;

impl Format for Fides {
    type File = Vec<Resource>;
    type Declared = ();

    fn name(&self) -> &'static str {
        "fides"
    }

    fn claims(&self, path: &Path, layout: &Layout) -> bool {
        super::yaml_claim(path, layout)
    }

    fn read(&self, input: &mut ReadInput<'_>) -> Option<Vec<Resource>> {
        let text = &input.source.text;
        // The evidence test first: a substring search, where the key test reads every line.
        if !parse::may_hold_evidence(text) || !super::top_level_key_in(text, &RESOURCE_KEYS) {
            return None;
        }
        let mut resources = Vec::new();
        let yaml = input.yaml().ok()?;
        for doc in yaml.documents().filter(|d| is_fides_document(*d)) {
            let (read, count) = read_document(&mut input.decoder(), doc);
            resources.extend(read);
            input.manifests += count;
        }
        (!resources.is_empty()).then_some(resources)
    }

    fn declares(&self, text: &str) -> bool {
        declares_resources(text)
    }

    fn rules(&self, file: &Vec<Resource>, source: &SourceFile) -> Vec<Rule> {
        policies::rules_of(file, &source.display)
    }

    fn declare(&self, files: Vec<(FileId, Vec<Resource>)>, cx: &mut LinkCx<'_>) {
        let resources = files
            .into_iter()
            .flat_map(|(file, rs)| rs.into_iter().map(move |r| (file, r)))
            .collect();
        let diags = link::link(resources, cx.model, &cx.opts.taxonomy, cx.opts.fides);
        cx.diags.extend(diags);
    }

    fn link(&self, _declared: (), _cx: &mut LinkCx<'_>) {}
}

/// Options of the Fides adapter.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FidesOptions {
    /// `fides.infer_purposes_from_systems`: a dataset that only declarations with
    /// `essential.*` uses reference is treated as collected for those uses. Off by default:
    /// a table shared with a system is not proof of why it was collected.
    pub infer_purposes_from_systems: bool,
}

/// True when a file that failed to parse looks like a fideslang manifest (a top-level
/// resource list and a `fides_key`), so that it is reported rather than skipped.
pub(crate) fn declares_resources(text: &str) -> bool {
    let list = text.lines().any(|line| {
        line.strip_suffix(':')
            .or_else(|| line.trim_end().strip_suffix(':'))
            .is_some_and(|k| RESOURCE_KEYS.contains(&k))
    });
    list && text.contains("fides_key:")
}

#[cfg(test)]
mod tests {
    #[test]
    fn declared_resources() {
        assert!(super::declares_resources("system:\n  - fides_key: a\n"));
        assert!(!super::declares_resources("system:\n  - name: a\n"));
        assert!(!super::declares_resources("  system:\n fides_key: a\n"));
    }
}
