//! The configuration's names that only the project's files declare (spec §9): a
//! `relations:` target naming no dataset, or a `destinations:` key naming neither a
//! platform nor a destination, is an invalid configuration once every file is read.

use crate::check::Options;
use crate::config::normalize;
use crate::diagnostic::Diag;
use crate::finding::{about_own_file, Check};
use crate::model::{Model, Named};
use crate::session::Failure;
use crate::source::{Loc, Sources, Spanned};
use crate::suggest;

/// Fails the run when a name of the configuration is absent from `model`. Only a run that
/// reads the configuration's whole project can tell: one given only folders inside it
/// (`purposelint check models/`) may leave the declaring files out, and is not checked.
pub(crate) fn check_names(opts: &Options, model: &Model) -> Result<(), Failure> {
    let named = &opts.activation.named;
    let Some(file) = &opts.config_file else {
        return Ok(());
    };
    // A run that read no file (the editor's empty run while a failure is shown) has not
    // read the project either.
    let read_nothing = model.sources.files.is_empty();
    if named.is_empty() || read_nothing || !reads_the_project(opts) {
        return Ok(());
    }
    let at = |s: &Spanned<String>| Loc {
        file: 0,
        span: s.span,
    };
    let mut diags = Vec::new();
    for target in &named.datasets {
        if model.dataset_id(&target.value).is_none() {
            let names = model.datasets.iter().map(|d| d.name.as_str());
            let diag = Diag::BadRelationPin {
                relation: relation_of(opts, &target.value),
                target: target.value.clone(),
                suggestion: suggest::closest(&target.value, names).map(str::to_string),
            };
            diags.push(diag.at(at(target)));
        }
    }
    for key in &named.destinations {
        if !matches!(model.lookup(&key.value), Some(Named::Sink(_))) {
            let names = model.sinks.iter().map(|s| s.name.as_str());
            let diag = Diag::UnknownDestinationKey {
                key: key.value.clone(),
                suggestion: suggest::closest(&key.value, names).map(str::to_string),
            };
            diags.push(diag.at(at(key)));
        }
    }
    if diags.is_empty() {
        return Ok(());
    }
    about_own_file(&mut diags, Check::InvalidConfig);
    Err(Failure {
        message: format!("invalid configuration {}", file.display),
        sources: Sources::one(file.clone()),
        diags,
    })
}

/// The relation a `relations:` target is pinned to (the first, for the message).
fn relation_of(opts: &Options, target: &str) -> String {
    let pins = &opts.activation.relations;
    let pin = pins.iter().find(|(_, t)| t == target);
    pin.map(|(r, _)| r.clone()).unwrap_or_default()
}

/// Whether the run's paths cover the configuration's folder (not only folders inside it).
fn reads_the_project(opts: &Options) -> bool {
    let Some(root) = opts.filter.as_ref().map(|f| f.root.as_path()) else {
        return false;
    };
    opts.paths.iter().any(|p| {
        let p = std::path::absolute(p).map(|a| normalize(&a));
        p.is_ok_and(|p| p == root || !p.starts_with(root))
    })
}
