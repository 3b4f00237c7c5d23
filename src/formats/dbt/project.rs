//! `dbt_project.yml`: the project's name, where its resources live, and its variables.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::render::ModelConfig;
use super::schema::{meta_annot, Annot};
use crate::decode::Decoder;
use crate::finding::Finding;
use crate::source::FileId;
use crate::taxonomy::Taxonomy;
use crate::yaml::Node;

#[derive(Debug, Clone)]
pub(crate) struct Project {
    pub root: PathBuf,
    pub name: String,
    pub model_paths: Vec<String>,
    pub seed_paths: Vec<String>,
    pub snapshot_paths: Vec<String>,
    pub analysis_paths: Vec<String>,
    pub macro_paths: Vec<String>,
    /// Where `dbt deps` installs packages (`packages-install-path`).
    pub packages_path: String,
    /// `dispatch:` search orders by macro namespace.
    pub dispatch: Vec<(String, Vec<String>)>,
    /// The `profile:` the project runs with.
    pub profile: Option<String>,
    pub vars: serde_json::Value,
    /// `+schema` and `+database` of folders under `models: <project>:`, by folder path.
    pub folder_configs: Vec<(Vec<String>, ModelConfig)>,
    /// `+meta` under `models:`, `seeds:`, `snapshots:`, `analyses:` and `sources:`.
    pub meta: Vec<PathMeta>,
    /// What was wrong in those `+meta`s (misspelt taxonomy keys).
    pub diags: Vec<Finding>,
}

/// One `+meta` of dbt_project.yml: its section, resource path below the project (folders,
/// then possibly a node's name; a source's name, then a table's) and annotations.
#[derive(Debug, Clone)]
pub(crate) struct PathMeta {
    pub section: &'static str,
    pub path: Vec<String>,
    pub annot: Annot,
}

/// The sections of dbt_project.yml whose resource paths may carry `+meta`.
const META_SECTIONS: [&str; 5] = ["models", "seeds", "snapshots", "analyses", "sources"];

/// Walks one section's resource paths for `+meta` (only with the `+`: dbt requires it of a
/// config whose value is a mapping).
fn path_meta(
    dec: &mut Decoder,
    tax: &Taxonomy,
    node: Node,
    at: (&'static str, &mut Vec<String>),
    out: &mut Vec<PathMeta>,
) {
    let (section, path) = at;
    let Some(entries) = node.entries() else {
        return;
    };
    for (k, v) in entries {
        let Some(key) = k.as_str() else { continue };
        if key == "+meta" {
            out.push(PathMeta {
                section,
                path: path.clone(),
                annot: meta_annot(dec, v, tax),
            });
        } else if !key.starts_with('+') && v.entries().is_some() {
            path.push(key.to_string());
            path_meta(dec, tax, v, (section, path), out);
            path.pop();
        }
    }
}

/// Walks `models:` of dbt_project.yml: `+schema`/`schema` and `+database`/`database` of
/// each folder (a key holding a mapping that is not a config).
fn folder_configs(node: Node, path: &mut Vec<String>, out: &mut Vec<(Vec<String>, ModelConfig)>) {
    let Some(entries) = node.entries() else {
        return;
    };
    let mut here = ModelConfig::default();
    for (k, v) in entries {
        let Some(key) = k.as_str() else { continue };
        let literal = v
            .as_str()
            .map(str::trim)
            .filter(|s| !s.is_empty() && !s.contains("{{"))
            .map(str::to_string);
        match key.strip_prefix('+').unwrap_or(key) {
            "schema" => here.schema = literal,
            "database" => here.database = literal,
            _ if !key.starts_with('+') && v.entries().is_some() => {
                path.push(key.to_string());
                folder_configs(v, path, out);
                path.pop();
            }
            _ => {}
        }
    }
    if here != ModelConfig::default() {
        out.push((path.clone(), here));
    }
}

/// Where a file of the project belongs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Area {
    Models,
    Seeds,
    Snapshots,
    Analyses,
}

fn paths(doc: Option<Node>, keys: &[&str], default: &str) -> Vec<String> {
    for key in keys {
        if let Some(n) = doc.and_then(|d| d.get(key)) {
            let v: Vec<String> = match (n.items(), n.as_str()) {
                (Some(items), _) => items
                    .filter_map(|i| i.as_str())
                    .map(|s| s.trim_matches('/').to_string())
                    .collect(),
                (_, Some(text)) => vec![text.trim_matches('/').to_string()],
                _ => Vec::new(),
            };
            return v;
        }
    }
    vec![default.to_string()]
}

/// A YAML node as JSON (for Jinja variables).
pub(crate) fn to_json(node: Node) -> serde_json::Value {
    use serde_json::Value as J;
    if let Some((text, plain)) = node.scalar() {
        if plain {
            match text {
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
        return J::String(text.to_string());
    }
    if let Some(items) = node.items() {
        return J::Array(items.map(to_json).collect());
    }
    match node.entries() {
        Some(entries) => J::Object(
            entries
                .filter_map(|(k, v)| Some((k.as_str()?.to_string(), to_json(v))))
                .collect(),
        ),
        None => J::Null,
    }
}

impl Project {
    pub(crate) fn read(root: &Path, doc: Option<Node>) -> Project {
        let name = doc
            .and_then(|d| d.get("name"))
            .and_then(|n| n.as_str())
            .unwrap_or("dbt")
            .to_string();
        Project {
            root: root.to_path_buf(),
            name: name.clone(),
            model_paths: paths(doc, &["model-paths", "source-paths"], "models"),
            seed_paths: paths(doc, &["seed-paths", "data-paths"], "seeds"),
            snapshot_paths: paths(doc, &["snapshot-paths"], "snapshots"),
            analysis_paths: paths(doc, &["analysis-paths"], "analyses"),
            macro_paths: paths(doc, &["macro-paths"], "macros"),
            packages_path: paths(doc, &["packages-install-path"], "dbt_packages")
                .into_iter()
                .next()
                .unwrap_or_else(|| "dbt_packages".into()),
            dispatch: doc
                .and_then(|d| d.get("dispatch"))
                .and_then(|d| d.items())
                .map(|items| {
                    items
                        .filter_map(|i| {
                            let ns = i.get("macro_namespace")?.as_str()?.to_string();
                            let order = match i.get("search_order")?.items() {
                                Some(o) => {
                                    o.filter_map(|p| p.as_str().map(str::to_string)).collect()
                                }
                                None => Vec::new(),
                            };
                            Some((ns, order))
                        })
                        .collect()
                })
                .unwrap_or_default(),
            profile: doc
                .and_then(|d| d.get("profile"))
                .and_then(|n| n.as_str())
                .map(str::to_string),
            vars: doc
                .and_then(|d| d.get("vars"))
                .map(to_json)
                .unwrap_or(serde_json::Value::Null),
            folder_configs: doc
                .and_then(|d| d.get("models"))
                .and_then(|m| m.get(&name))
                .map(|ours| {
                    let mut out = Vec::new();
                    folder_configs(ours, &mut Vec::new(), &mut out);
                    out.sort_by_key(|(path, _)| path.len());
                    out
                })
                .unwrap_or_default(),
            meta: Vec::new(),
            diags: Vec::new(),
        }
    }

    /// Reads the `+meta` of dbt_project.yml (`file`), checking its keys against `tax`. A
    /// section's top level applies to every project's resources; below it, only the key
    /// naming this project is followed.
    pub(crate) fn read_meta(&mut self, doc: Option<Node>, file: FileId, tax: &Taxonomy) {
        let mut dec = Decoder {
            file,
            diags: &mut self.diags,
        };
        for section in META_SECTIONS {
            let Some(node) = doc.and_then(|d| d.get(section)) else {
                continue;
            };
            for (k, v) in node.entries().into_iter().flatten() {
                match k.as_str() {
                    Some("+meta") => self.meta.push(PathMeta {
                        section,
                        path: Vec::new(),
                        annot: meta_annot(&mut dec, v, tax),
                    }),
                    Some(p) if p == self.name => {
                        path_meta(&mut dec, tax, v, (section, &mut Vec::new()), &mut self.meta)
                    }
                    _ => {}
                }
            }
        }
        // Outermost first, so that deeper paths are merged over them.
        self.meta.sort_by_key(|m| m.path.len());
    }

    /// The `+meta` of a node: in `section`, at resource path `fqn` (below the project),
    /// each matching path's merged over the shorter ones, as dbt merges them.
    pub(crate) fn meta_of(&self, section: &str, fqn: &[String]) -> Annot {
        let mut out = Annot::default();
        for m in self.meta.iter().filter(|m| m.section == section) {
            if fqn.starts_with(&m.path) {
                out.overlay(&m.annot);
            }
        }
        out
    }

    /// The resource path of the file at `path` below the project: its folders under one
    /// of `roots` (the section's paths), then `name`.
    pub(crate) fn fqn(&self, path: &Path, roots: &[String], name: &str) -> Vec<String> {
        let mut out: Vec<String> = path
            .strip_prefix(&self.root)
            .ok()
            .and_then(|rel| {
                roots
                    .iter()
                    .find_map(|p| rel.strip_prefix(p).ok().filter(|_| !p.is_empty()))
            })
            .and_then(|under| under.parent())
            .map(|p| {
                p.iter()
                    .filter_map(|c| c.to_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        out.push(name.to_string());
        out
    }

    /// The relation settings the project file gives the model at `path`: the deepest
    /// folder's win.
    pub(crate) fn model_config(&self, path: &Path) -> ModelConfig {
        let mut config = ModelConfig::default();
        let Ok(rel) = path.strip_prefix(&self.root) else {
            return config;
        };
        let Some(under) = self
            .model_paths
            .iter()
            .find_map(|p| rel.strip_prefix(p).ok().filter(|_| !p.is_empty()))
        else {
            return config;
        };
        let dirs: Vec<&str> = under
            .parent()
            .map(|p| p.iter().filter_map(|c| c.to_str()).collect())
            .unwrap_or_default();
        for (folder, c) in &self.folder_configs {
            if dirs.len() >= folder.len() && dirs.iter().zip(folder).all(|(a, b)| a == b) {
                config = c.clone().or(config);
            }
        }
        config
    }

    /// Whether `path` holds macros of this project (under its `macro-paths`).
    pub(crate) fn is_macro(&self, path: &Path) -> bool {
        path.strip_prefix(&self.root).is_ok_and(|rel| {
            self.macro_paths
                .iter()
                .any(|p| !p.is_empty() && rel.starts_with(p))
        })
    }

    /// Which resource area of this project `path` is in, if any.
    pub(crate) fn area(&self, path: &Path) -> Option<Area> {
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

/// The `target` of the project's profile: `type`, `database`, `schema`… of the output the
/// profile's `target:` names, from a `profiles.yml` in `dir` (if given), else in the
/// project folder or its `profile/` or `profiles/` subfolder; never the user's home.
/// Values that are Jinja (`{{ env_var(…) }}`) are left out.
pub(crate) fn profile_target(
    project: &Project,
    dir: Option<&Path>,
    cx: &crate::session::LinkCx<'_>,
) -> BTreeMap<String, String> {
    let candidates: Vec<PathBuf> = match dir {
        Some(d) => vec![d.join("profiles.yml")],
        None => ["", "profile", "profiles"]
            .iter()
            .map(|sub| project.root.join(sub).join("profiles.yml"))
            .collect(),
    };
    let mut out = BTreeMap::new();
    let Some((path, text)) = candidates
        .into_iter()
        .find_map(|p| cx.read_file(&p).map(|t| (p, t)))
    else {
        return out;
    };
    let src = crate::source::SourceFile::new(path.clone(), path.display().to_string(), &text);
    let Ok(docs) = crate::yaml::parse(&src) else {
        return out;
    };
    let Some(doc) = docs.first() else { return out };
    let profile = project
        .profile
        .as_deref()
        .and_then(|p| doc.get(p))
        .or_else(|| {
            doc.entries()?
                .find(|(k, _)| k.as_str() != Some("config"))
                .map(|(_, v)| v)
        });
    let Some(profile) = profile else { return out };
    let outputs = profile.get("outputs");
    let target = profile
        .get("target")
        .and_then(|t| t.as_str())
        .filter(|t| !t.contains("{{"))
        .map(str::to_string)
        .or_else(|| {
            outputs?
                .entries()?
                .next()
                .and_then(|(k, _)| k.as_str().map(str::to_string))
        });
    let Some(target) = target else { return out };
    let Some(output) = outputs.and_then(|o| o.get(&target)) else {
        return out;
    };
    for (k, v) in output.entries().into_iter().flatten() {
        let (Some(k), Some(v)) = (k.as_str(), v.as_str()) else {
            continue;
        };
        let wanted = matches!(
            k,
            "type" | "database" | "dbname" | "schema" | "project" | "dataset" | "catalog"
        );
        if v.contains("{{") || !wanted {
            continue;
        }
        out.insert(k.to_string(), v.to_string());
    }
    out.insert("name".into(), target);
    out
}
