//! The `dbt_project.yml` and `profiles.yml` readers before the tape, kept until the
//! equivalence test has passed.

use super::*;
use crate::legacy::yaml::{Node, Value};

pub(crate) fn paths(doc: Option<&Node>, keys: &[&str], default: &str) -> Vec<String> {
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
    let Ok(docs) = crate::legacy::yaml::parse(&src) else {
        return out;
    };
    let Some(doc) = docs.first() else { return out };
    let profile = project
        .profile
        .as_deref()
        .and_then(|p| doc.get(p))
        .or_else(|| {
            doc.as_map()?
                .iter()
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
                .as_map()?
                .first()
                .and_then(|(k, _)| k.as_str().map(str::to_string))
        });
    let Some(target) = target else { return out };
    let Some(output) = outputs.and_then(|o| o.get(&target)) else {
        return out;
    };
    for (k, v) in output.as_map().unwrap_or(&[]) {
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

pub fn read_project(root: &Path, doc: Option<&Node>) -> Project {
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
        macro_paths: paths(doc, &["macro-paths"], "macros"),
        packages_path: paths(doc, &["packages-install-path"], "dbt_packages")
            .into_iter()
            .next()
            .unwrap_or_else(|| "dbt_packages".into()),
        dispatch: doc
            .and_then(|d| d.get("dispatch"))
            .and_then(|d| match &d.value {
                Value::Seq(items) => Some(items),
                _ => None,
            })
            .map(|items| {
                items
                    .iter()
                    .filter_map(|i| {
                        let ns = i.get("macro_namespace")?.as_str()?.to_string();
                        let order = match &i.get("search_order")?.value {
                            Value::Seq(o) => o
                                .iter()
                                .filter_map(|p| p.as_str().map(str::to_string))
                                .collect(),
                            _ => Vec::new(),
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
    }
}
