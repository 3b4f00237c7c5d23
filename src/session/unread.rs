//! Root causes outside the run: a reference to a name that nothing read declares, when a
//! file the run skipped (gitignored, or excluded by the configuration) declares it, says
//! so and how to include it. A sink file left out of the run must read as that, not as
//! a name that does not exist.

use std::collections::HashMap;
use std::path::PathBuf;

use super::link::{explain_subjects, names_in_text};
use super::read;
use crate::check::{Options, Outcome};
use crate::diagnostic::{Diag, Unread};
use crate::discover::{self, Discovered};
use crate::formats::{Layout, FORMATS};

/// Rewrites the unexplained diagnostics whose name a skipped file declares. Walks and
/// reads the skipped files only when there is such a diagnostic.
pub(super) fn point_at_unread_files(
    opts: &Options,
    found: &Discovered,
    config: Option<&std::path::Path>,
    outcome: &mut Outcome,
) {
    if !outcome.findings.iter().any(|f| f.subject.is_some()) {
        return;
    }
    let config = config.map(discover::display_path).unwrap_or_default();
    let mut skipped: Vec<(PathBuf, Unread)> = Vec::new();
    if let Some(filter) = &opts.filter {
        let excluded = found.files.iter().filter(|p| !filter.accepts(p));
        skipped.extend(excluded.map(|p| (p.clone(), Unread::Excluded(config.clone()))));
    }
    let ignored = discover::ignored(&opts.paths, &found.files);
    skipped.extend(ignored.into_iter().map(|p| (p, Unread::Gitignored)));
    if skipped.is_empty() {
        return;
    }
    let all: Vec<PathBuf> = found
        .files
        .iter()
        .chain(skipped.iter().map(|(p, _)| p))
        .cloned()
        .collect();
    let layout = Layout::new(all, found.explicit.clone());
    let mut declared: HashMap<String, (String, Unread)> = HashMap::new();
    for (path, why) in skipped {
        if !FORMATS.iter().any(|f| f.claims(&path, &layout)) {
            continue;
        }
        let Ok(bytes) = read::read_limited(&path, read::limit(opts.max_file_size)) else {
            continue;
        };
        let text = String::from_utf8_lossy(&bytes);
        for name in names_in_text(&text) {
            declared
                .entry(name.to_string())
                .or_insert_with(|| (discover::display_path(&path), why.clone()));
        }
    }
    explain_subjects(
        &mut outcome.findings,
        &declared,
        |check, name, (file, why)| Diag::InUnreadFile {
            check,
            name,
            file: file.clone(),
            why: why.clone(),
        },
    );
}
