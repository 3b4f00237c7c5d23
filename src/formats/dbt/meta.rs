//! A node's annotations as dbt merges its `meta`: dbt_project.yml's `+meta` (outer folders
//! first), then the property file's, then the SQL's own `{{ config(meta={…}) }}`; each
//! later one replaces the keys it writes.

use super::project::Project;
use super::render::ModelConfig;
use super::schema::{Annot, Kind, NodeDecl};
use crate::decode::Decoder;
use crate::source::{FileId, SourceFile, Span, Spanned};
use crate::taxonomy::{Taxonomy, Tree};

/// The dbt_project.yml section whose resource paths configure nodes of `kind`.
fn section(kind: Kind) -> &'static str {
    match kind {
        Kind::Model => "models",
        Kind::Seed => "seeds",
        Kind::Snapshot => "snapshots",
        Kind::Analysis => "analyses",
        Kind::Source => "sources",
    }
}

/// The node `name` of `kind`, whose file (SQL, CSV or, without one, property file) is at
/// `src`: its project `+meta`, then `decl`'s, then `config`'s (SQL `config(meta=…)`).
pub(super) fn node_annot(
    project: &Project,
    (kind, name, src): (Kind, &str, &SourceFile),
    decl: Option<&NodeDecl>,
    config: Option<&ModelConfig>,
    (file, diags, tax): (FileId, &mut Vec<crate::finding::Finding>, &Taxonomy),
) -> Annot {
    let fqn: Vec<String> = match kind {
        // `source_name.table`: the path is the two names.
        Kind::Source => name.splitn(2, '.').map(str::to_string).collect(),
        _ => {
            let roots = match kind {
                Kind::Seed => &project.seed_paths,
                Kind::Snapshot => &project.snapshot_paths,
                Kind::Analysis => &project.analysis_paths,
                _ => &project.model_paths,
            };
            // A versioned model's path names the model, not the version.
            let name = decl
                .and_then(|d| d.version.as_ref())
                .map_or(name, |v| v.model.as_str());
            project.fqn(&src.path, roots, name)
        }
    };
    let mut annot = project.meta_of(section(kind), &fqn);
    if let Some(d) = decl {
        annot.overlay(&d.annot);
    }
    if let Some(meta) = config.and_then(|c| c.meta.as_ref()) {
        let mut dec = Decoder { file, diags };
        annot.overlay(&config_annot(meta, src, &mut dec, tax));
    }
    annot
}

/// The annotations `config(meta={…})` wrote, each key located at its first quoted
/// occurrence after the file's `meta` (else at the first `config`), checked against the
/// taxonomy.
fn config_annot(
    meta: &[Option<Vec<String>>; 3],
    src: &SourceFile,
    dec: &mut Decoder,
    tax: &Taxonomy,
) -> Annot {
    let text = &src.text;
    let config = text.find("config").unwrap_or(0);
    let from = text[config..].find("meta").map_or(config, |i| config + i);
    let at = |key: &str| -> Span {
        let found = ['\'', '"'].iter().find_map(|q| {
            let quoted = format!("{q}{key}{q}");
            text[from..].find(&quoted).map(|i| from + i + 1)
        });
        match found {
            Some(start) => src.span_of_bytes(start as u32, (start + key.len()) as u32),
            None => src.span_of_bytes(
                config as u32,
                (config + "config".len()).min(text.len()) as u32,
            ),
        }
    };
    let mut out = Annot::default();
    // In `META_KEYS`' order.
    let trees = [Tree::DataUse, Tree::DataCategory, Tree::DataUse];
    for (i, keys) in meta.iter().enumerate() {
        let Some(keys) = keys else { continue };
        out.written[i] = true;
        let spanned = keys
            .iter()
            .map(|k| Spanned {
                value: k.clone(),
                span: at(k),
            })
            .collect();
        let keys = dec.canonical_keys(spanned, trees[i], tax);
        match i {
            0 => out.purposes = keys,
            1 => out.categories = keys,
            _ => out.uses = keys,
        }
    }
    out
}
