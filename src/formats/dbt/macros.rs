//! The macros of a dbt project and of its installed packages: found in their
//! `macro-paths`, split into one definition each, and resolved the way dbt resolves them
//! (a package's own macros, then the root project's; `package.macro`; `adapter.dispatch`).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use super::project::Project;
use crate::session::LinkCx;
use crate::source::SourceFile;

/// One `{% macro name(...) %} … {% endmacro %}` definition.
#[derive(Debug, Clone)]
pub(crate) struct MacroDef {
    pub package: String,
    pub name: String,
    /// The definition's text, from its `{% macro` to its `endmacro %}`.
    pub text: String,
}

/// A package installed under the project's `packages-install-path`.
#[derive(Debug, Clone)]
pub(crate) struct Package {
    pub name: String,
    pub root: PathBuf,
    pub macro_paths: Vec<String>,
}

/// The start and end (exclusive) of each `{% … %}` tag, with its trimmed content;
/// comments and `{% raw %}` blocks are skipped.
pub(super) fn tags(text: &str) -> Vec<(usize, usize, &str)> {
    let mut out = Vec::new();
    let mut at = 0;
    let mut raw = false;
    while let Some(i) = text[at..].find('{').map(|i| i + at) {
        let rest = &text[i..];
        if rest.starts_with("{#") {
            at = rest.find("#}").map_or(text.len(), |j| i + j + 2);
            continue;
        }
        if !rest.starts_with("{%") {
            at = i + 1;
            continue;
        }
        let Some(j) = rest.find("%}") else { break };
        let inner = rest[2..j].trim_matches(|c: char| c == '-' || c == '+' || c.is_whitespace());
        at = i + j + 2;
        let word = inner.split_whitespace().next().unwrap_or("");
        if raw {
            if word == "endraw" {
                raw = false;
            }
            continue;
        }
        if word == "raw" {
            raw = true;
            continue;
        }
        out.push((i, at, inner));
    }
    out
}

/// The macro definitions of one file, outermost only.
pub(crate) fn split(package: &str, text: &str) -> Vec<MacroDef> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut open: Option<(usize, String)> = None;
    for (start, end, inner) in tags(text) {
        let mut words = inner.splitn(2, char::is_whitespace);
        match words.next().unwrap_or("") {
            "macro" => {
                if depth == 0 {
                    let rest = words.next().unwrap_or("").trim_start();
                    let name: String = rest
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    open = Some((start, name));
                }
                depth += 1;
            }
            "endmacro" if depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    if let Some((s, name)) = open.take() {
                        if !name.is_empty() {
                            out.push(MacroDef {
                                package: package.to_string(),
                                name,
                                text: text[s..end].to_string(),
                            });
                        }
                    }
                }
            }
            _ => {}
        }
    }
    out
}

fn sql_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            sql_files(&p, out);
        } else if p.extension().and_then(|e| e.to_str()) == Some("sql") {
            out.push(p);
        }
    }
}

/// The packages `dbt deps` installed for `project`, each with its `dbt_project.yml`.
/// Folders are listed from disk; files are read through the session.
pub(crate) fn packages(project: &Project, cx: &LinkCx<'_>) -> Vec<Package> {
    let dir = project.root.join(&project.packages_path);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut roots: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join(super::PROJECT_FILE).is_file())
        .collect();
    roots.sort();
    roots
        .into_iter()
        .filter_map(|root| {
            let path = root.join(super::PROJECT_FILE);
            let text = cx.read_file(&path)?;
            let src = SourceFile::new(path.clone(), path.display().to_string(), &text);
            let docs = crate::yaml::parse(&src).ok()?;
            let p = Project::read(&root, docs.first());
            Some(Package {
                name: p.name,
                root,
                macro_paths: p.macro_paths,
            })
        })
        .collect()
}

/// Every macro of the packages, read from disk, in package order.
pub(crate) fn package_macros(packages: &[Package], cx: &LinkCx<'_>) -> Vec<MacroDef> {
    let mut out = Vec::new();
    for p in packages {
        let mut files = Vec::new();
        for mp in &p.macro_paths {
            sql_files(&p.root.join(mp), &mut files);
        }
        for f in files {
            if let Some(text) = cx.read_file(&f) {
                out.extend(split(&p.name, &text));
            }
        }
    }
    out
}

/// The names `text` calls (`name(`, `pkg.name (`), in order, repeats included.
pub(crate) fn called_names(text: &str) -> impl Iterator<Item = &str> {
    let bytes = text.as_bytes();
    let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < bytes.len() {
            if !ident(bytes[i]) {
                i += 1;
                continue;
            }
            let start = i;
            while i < bytes.len() && ident(bytes[i]) {
                i += 1;
            }
            let mut j = i;
            while j < bytes.len() && bytes[j].is_ascii_whitespace() {
                j += 1;
            }
            if bytes.get(j) == Some(&b'(') && !bytes[start].is_ascii_digit() {
                return Some(&text[start..i]);
            }
        }
        None
    })
}

/// The names of macros that query the warehouse's data, themselves (a call of one of
/// `calls`) or through a macro they call: what they make is only known at run time.
pub(crate) fn querying(defs: &[MacroDef], calls: &[&str]) -> HashSet<String> {
    let mut callees: HashMap<&str, HashSet<&str>> = HashMap::new();
    for d in defs {
        callees
            .entry(d.name.as_str())
            .or_default()
            .extend(called_names(&d.text));
    }
    let mut found: HashSet<&str> = calls.iter().copied().collect();
    loop {
        let before = found.len();
        for (name, called) in &callees {
            if !found.contains(name) && called.iter().any(|c| found.contains(c)) {
                found.insert(name);
            }
        }
        if found.len() == before {
            break;
        }
    }
    found
        .into_iter()
        .filter(|n| !calls.contains(n))
        .map(str::to_string)
        .collect()
}

/// Macros by package and name; the first definition of a name in a package wins.
#[derive(Debug, Default)]
pub(crate) struct MacroTable {
    pub root: String,
    pub defs: Vec<MacroDef>,
    by_name: HashMap<(String, String), usize>,
    /// Search orders of `adapter.dispatch` by namespace (`dispatch:` of the project).
    dispatch: Vec<(String, Vec<String>)>,
    packages: Vec<String>,
}

impl MacroTable {
    pub(crate) fn new(
        root: &str,
        defs: Vec<MacroDef>,
        dispatch: Vec<(String, Vec<String>)>,
    ) -> Self {
        let mut by_name = HashMap::new();
        let mut packages: Vec<String> = Vec::new();
        for (i, d) in defs.iter().enumerate() {
            by_name
                .entry((d.package.clone(), d.name.clone()))
                .or_insert(i);
            if d.package != root && !packages.contains(&d.package) {
                packages.push(d.package.clone());
            }
        }
        MacroTable {
            root: root.to_string(),
            defs,
            by_name,
            dispatch,
            packages,
        }
    }

    pub(crate) fn get(&self, package: &str, name: &str) -> Option<usize> {
        self.by_name
            .get(&(package.to_string(), name.to_string()))
            .copied()
    }

    /// Installed packages with at least one macro (not the root project).
    pub(crate) fn packages(&self) -> &[String] {
        &self.packages
    }

    /// `adapter.dispatch(name, namespace)` for `adapters` (the adapter, its parents):
    /// `<adapter>__name` then `default__name`, in each package of the search order.
    pub(crate) fn dispatch(
        &self,
        name: &str,
        namespace: Option<&str>,
        caller: &str,
        adapters: &[&str],
    ) -> Option<usize> {
        let order: Vec<String> = match namespace {
            Some(ns) => match self.dispatch.iter().find(|(n, _)| n == ns) {
                Some((_, order)) if !order.is_empty() => order.clone(),
                _ => vec![self.root.clone(), ns.to_string()],
            },
            None => vec![caller.to_string(), self.root.clone()],
        };
        for package in &order {
            for prefix in adapters.iter().copied().chain(["default"]) {
                if let Some(i) = self.get(package, &format!("{prefix}__{name}")) {
                    return Some(i);
                }
            }
        }
        // A namespace's plain macro, for packages that dispatch to themselves.
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definitions_are_split_outermost_first() {
        let text = "{# {% macro commented() %}{% endmacro %} #}\n\
            {%- macro a(x) -%}{{ x }}{% if x %}{% endif %}{%- endmacro %}\n\
            {% raw %}{% macro not_one() %}{% endraw %}\n\
            {% macro b() %}{% macro inner() %}{% endmacro %}{{ inner() }}{% endmacro %}";
        let defs = split("p", text);
        let names: Vec<&str> = defs.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, vec!["a", "b"]);
        assert!(defs[0].text.starts_with("{%- macro a(x)"));
        assert!(defs[1].text.ends_with("{% endmacro %}"));
    }

    #[test]
    fn called_names_are_the_names_before_a_parenthesis() {
        let text = "{{ dbt_utils.star (ref('x')) }} 3(4) a_b(1) not_called {% if x(%}";
        let names: Vec<&str> = called_names(text).collect();
        assert_eq!(names, vec!["star", "ref", "a_b", "x"]);
    }

    #[test]
    fn macros_that_query_through_others_are_found() {
        let text = "{% macro values() %}{% set r = run_query('select 1') %}{% endmacro %}\n\
            {% macro wraps() %}{{ values() }}{% endmacro %}\n\
            {% macro outer() %}{{ wraps() }}{% endmacro %}\n\
            {% macro pure() %}{{ ref('x') }}{% endmacro %}";
        let mut found: Vec<String> = querying(&split("p", text), &["run_query"])
            .into_iter()
            .collect();
        found.sort();
        assert_eq!(found, vec!["outer", "values", "wraps"]);
    }

    #[test]
    fn dispatch_follows_search_orders_and_adapter_prefixes() {
        let defs = ["default__star", "snowflake__star", "x"]
            .iter()
            .map(|n| MacroDef {
                package: "dbt_utils".into(),
                name: n.to_string(),
                text: String::new(),
            })
            .chain([MacroDef {
                package: "proj".into(),
                name: "default__star".into(),
                text: String::new(),
            }])
            .collect();
        let t = MacroTable::new("proj", defs, Vec::new());
        let d = |i: Option<usize>| i.map(|i| (t.defs[i].package.clone(), t.defs[i].name.clone()));
        // The root project's override comes first, whatever the adapter.
        assert_eq!(
            d(t.dispatch("star", Some("dbt_utils"), "dbt_utils", &["snowflake"])),
            Some(("proj".into(), "default__star".into()))
        );
        let t = MacroTable {
            dispatch: vec![("dbt_utils".into(), vec!["dbt_utils".into()])],
            ..MacroTable::new("proj", t.defs.clone(), Vec::new())
        };
        assert_eq!(
            d(t.dispatch("star", Some("dbt_utils"), "proj", &["snowflake"])),
            Some(("dbt_utils".into(), "snowflake__star".into()))
        );
        assert_eq!(
            d(t.dispatch("star", Some("dbt_utils"), "proj", &["postgres"])),
            Some(("dbt_utils".into(), "default__star".into()))
        );
    }
}
