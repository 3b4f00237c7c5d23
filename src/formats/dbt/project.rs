//! `dbt_project.yml`: the project's name, where its resources live, and its variables.

use std::path::{Path, PathBuf};

use crate::yaml::{Node, Value};

#[derive(Debug, Clone)]
pub struct Project {
    pub root: PathBuf,
    pub name: String,
    pub model_paths: Vec<String>,
    pub seed_paths: Vec<String>,
    pub snapshot_paths: Vec<String>,
    pub analysis_paths: Vec<String>,
    pub vars: serde_json::Value,
}

/// Where a file of the project belongs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    Models,
    Seeds,
    Snapshots,
    Analyses,
}

fn paths(doc: Option<&Node>, keys: &[&str], default: &str) -> Vec<String> {
    for key in keys {
        if let Some(n) = doc.and_then(|d| d.get(key)) {
            let v: Vec<String> = match &n.value {
                Value::Seq(items) => items
                    .iter()
                    .filter_map(|i| i.as_str())
                    .map(|s| s.trim_matches('/').to_string())
                    .collect(),
                Value::Scalar { text, .. } => vec![text.trim_matches('/').to_string()],
                _ => Vec::new(),
            };
            return v;
        }
    }
    vec![default.to_string()]
}

/// A YAML node as JSON (for Jinja variables).
pub fn to_json(node: &Node) -> serde_json::Value {
    use serde_json::Value as J;
    match &node.value {
        Value::Null => J::Null,
        Value::Scalar { text, plain } => {
            if *plain {
                match text.as_str() {
                    "true" | "True" | "TRUE" => return J::Bool(true),
                    "false" | "False" | "FALSE" => return J::Bool(false),
                    _ => {}
                }
                if let Ok(i) = text.parse::<i64>() {
                    return J::from(i);
                }
                if let Ok(f) = text.parse::<f64>() {
                    if f.is_finite() {
                        return J::from(f);
                    }
                }
            }
            J::String(text.clone())
        }
        Value::Seq(items) => J::Array(items.iter().map(to_json).collect()),
        Value::Map(entries) => J::Object(
            entries
                .iter()
                .filter_map(|(k, v)| Some((k.as_str()?.to_string(), to_json(v))))
                .collect(),
        ),
    }
}

impl Project {
    pub fn read(root: &Path, doc: Option<&Node>) -> Project {
        let name = doc
            .and_then(|d| d.get("name"))
            .and_then(|n| n.as_str())
            .unwrap_or("dbt")
            .to_string();
        Project {
            root: root.to_path_buf(),
            name,
            model_paths: paths(doc, &["model-paths", "source-paths"], "models"),
            seed_paths: paths(doc, &["seed-paths", "data-paths"], "seeds"),
            snapshot_paths: paths(doc, &["snapshot-paths"], "snapshots"),
            analysis_paths: paths(doc, &["analysis-paths"], "analyses"),
            vars: doc
                .and_then(|d| d.get("vars"))
                .map(to_json)
                .unwrap_or(serde_json::Value::Null),
        }
    }

    /// Which resource area of this project `path` is in, if any.
    pub fn area(&self, path: &Path) -> Option<Area> {
        let rel = path.strip_prefix(&self.root).ok()?;
        let under = |ps: &[String]| ps.iter().any(|p| !p.is_empty() && rel.starts_with(p));
        if under(&self.model_paths) {
            Some(Area::Models)
        } else if under(&self.snapshot_paths) {
            Some(Area::Snapshots)
        } else if under(&self.seed_paths) {
            Some(Area::Seeds)
        } else if under(&self.analysis_paths) {
            Some(Area::Analyses)
        } else {
            None
        }
    }
}
