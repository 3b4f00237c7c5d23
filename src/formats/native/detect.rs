//! Which YAML documents are native manifests (spec §3): `apiVersion: purposelint/v1`, or
//! no `apiVersion` and our shape. Other documents that say `kind: pipeline` (Drone CI,
//! Tekton, …) are not ours and are skipped without a word; a near miss of our kinds on a
//! document of our shape is reported, so that a typo never drops a manifest silently.
//!
//! Works on a decoded document only, so that it does not depend on how it was read.

use crate::diagnostic::Diag;
use crate::source::Span;
use crate::yaml::Node;

pub(crate) const API_VERSION: &str = "purposelint/v1";
pub(crate) const MANIFEST_KINDS: [&str; 3] = ["dataset", "pipeline", "sink"];

/// What a document is to the native format.
#[derive(Debug, PartialEq)]
pub(crate) enum Detected {
    /// One of ours, of this kind: read it.
    Manifest(&'static str),
    /// Meant to be ours but unusable as it is: report this at the span.
    Invalid(Diag, Span),
    /// Somebody else's document.
    Foreign,
}

/// Classifies one top-level document.
pub(crate) fn detect(doc: Node) -> Detected {
    if doc.entries().is_none() {
        return Detected::Foreign;
    }
    let kind = doc.get("kind");
    match doc.get("apiVersion") {
        Some(version) => match version.as_str() {
            Some(API_VERSION) => declared(doc, kind),
            Some(v) if v.to_ascii_lowercase().starts_with("purposelint") => Detected::Invalid(
                Diag::UnknownApiVersion {
                    version: v.to_string(),
                },
                version.span(),
            ),
            _ => Detected::Foreign,
        },
        None => {
            let Some((kind, text)) = kind.and_then(|k| Some((k, k.as_str()?))) else {
                return Detected::Foreign;
            };
            if let Some(ours) = MANIFEST_KINDS.iter().find(|k| **k == text) {
                return match has_our_shape(doc, ours) {
                    true => Detected::Manifest(ours),
                    false => Detected::Foreign,
                };
            }
            match near_miss(text) {
                Some(ours) if has_our_shape(doc, ours) => Detected::Invalid(
                    Diag::UnknownKind {
                        kind: text.to_string(),
                        suggestion: Some(ours.to_string()),
                    },
                    kind.span(),
                ),
                _ => Detected::Foreign,
            }
        }
    }
}

/// A document that says `apiVersion: purposelint/v1`: its kind must be ours.
fn declared(doc: Node, kind: Option<Node>) -> Detected {
    let Some(kind) = kind.filter(|k| !k.is_null()) else {
        return Detected::Invalid(Diag::MissingKind, doc.span());
    };
    let Some(text) = kind.as_str() else {
        let diag = Diag::Invalid(format!(
            "`kind` must be a string, found {}",
            kind.kind_name()
        ));
        return Detected::Invalid(diag, kind.span());
    };
    match MANIFEST_KINDS.iter().find(|k| **k == text) {
        Some(ours) => Detected::Manifest(ours),
        None => Detected::Invalid(
            Diag::UnknownKind {
                kind: text.to_string(),
                suggestion: near_miss(text)
                    .or_else(|| crate::suggest::closest(text, MANIFEST_KINDS))
                    .map(Into::into),
            },
            kind.span(),
        ),
    }
}

/// Our kind that `text` nearly is: equal ignoring case, a plural, or within two edits.
fn near_miss(text: &str) -> Option<&'static str> {
    let lower = text.to_lowercase();
    let singular = lower.strip_suffix('s').unwrap_or(&lower);
    MANIFEST_KINDS
        .iter()
        .map(|k| {
            let d = strsim::damerau_levenshtein(&lower, k);
            (if singular == *k { 0 } else { d }, *k)
        })
        .filter(|&(d, _)| d <= 2)
        .min()
        .map(|(_, k)| k)
}

/// A dataset has `fields`, a sink `uses`, a pipeline `steps` with a mapping item that has
/// `from` or `to`.
fn has_our_shape(doc: Node, kind: &str) -> bool {
    match kind {
        "dataset" => doc.get("fields").is_some(),
        "sink" => doc.get("uses").is_some(),
        _ => match doc.get("steps").and_then(|s| s.items()) {
            Some(mut steps) => steps.any(|s| s.get("from").is_some() || s.get("to").is_some()),
            None => false,
        },
    }
}

/// True when the text declares a manifest (a line `kind: dataset|pipeline|sink` or
/// `apiVersion: purposelint/v1`), so that a file that fails to parse is reported rather
/// than skipped as templated YAML.
pub(crate) fn declares_manifest(text: &str) -> bool {
    text.lines().any(|line| {
        let line = line.trim();
        let (key, rest) = match line.split_once(':') {
            Some(kv) => kv,
            None => return false,
        };
        let value = rest.split('#').next().unwrap_or("").trim();
        let value = value.trim_matches(|c| c == '"' || c == '\'');
        match key.trim_matches(|c| c == '"' || c == '\'') {
            "kind" => MANIFEST_KINDS.contains(&value),
            "apiVersion" => value == API_VERSION,
            _ => false,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceFile;

    fn detected(text: &str) -> Detected {
        let f = SourceFile::new("t.yaml".into(), "t.yaml".into(), text);
        detect(crate::yaml::parse(&f).unwrap().first().unwrap())
    }

    fn kind_error(text: &str) -> String {
        match detected(text) {
            Detected::Invalid(d, _) => d.message(),
            other => panic!("{other:?} for {text}"),
        }
    }

    #[test]
    fn ours_by_api_version_or_by_shape() {
        let api = "apiVersion: purposelint/v1\nkind: sink\nname: a\n";
        assert_eq!(detected(api), Detected::Manifest("sink"));
        assert_eq!(
            detected("kind: dataset\nname: a\nfields: []\n"),
            Detected::Manifest("dataset")
        );
        assert_eq!(
            detected("kind: pipeline\nname: p\nsteps:\n  - {name: s, to: x}\n"),
            Detected::Manifest("pipeline")
        );
    }

    #[test]
    fn other_tools_kinds_are_foreign() {
        let drone = "kind: pipeline\ntype: docker\nname: default\nsteps:\n  - name: test\n    image: golang\n    commands: [go test]\n";
        assert_eq!(detected(drone), Detected::Foreign);
        let tekton =
            "apiVersion: tekton.dev/v1\nkind: Pipeline\nmetadata: {name: p}\nspec:\n  tasks: []\n";
        assert_eq!(detected(tekton), Detected::Foreign);
        assert_eq!(detected("kind: Deployment\n"), Detected::Foreign);
        assert_eq!(detected("kind: Sinks\nname: x\n"), Detected::Foreign);
        assert_eq!(detected("- kind: sink\n"), Detected::Foreign);
    }

    #[test]
    fn near_misses_of_our_shape_are_reported() {
        assert_eq!(
            kind_error("kind: sinks\nname: a\nuses: [x]\n"),
            "unknown manifest kind `sinks`; did you mean `sink`?"
        );
        assert!(kind_error("kind: Dataset\nfields: []\n").contains("`dataset`"));
        assert!(kind_error("kind: datset\nfields: []\n").contains("`dataset`"));
        assert!(kind_error("kind: Pipelines\nsteps: [{from: a}]\n").contains("`pipeline`"));
        assert!(kind_error("apiVersion: purposelint/v1\nkind: sinks\n").contains("`sink`"));
        assert!(kind_error("apiVersion: purposelint/v1\nname: a\n").contains("`kind`"));
        assert!(kind_error("apiVersion: purposelint/v2\nkind: sink\n").contains("purposelint/v1"));
    }

    #[test]
    fn declared_by_text() {
        assert!(declares_manifest("a: 1\nkind: dataset\n"));
        assert!(declares_manifest("  kind: \"sink\" # x\n"));
        assert!(declares_manifest("apiVersion: 'purposelint/v1'\n"));
        assert!(!declares_manifest("kind: Deployment\n"));
        assert!(!declares_manifest("{{ if .x }}\nkind: ConfigMap\n"));
    }
}
