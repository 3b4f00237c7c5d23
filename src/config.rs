//! The configuration file `purposelint.yaml` (or `.purposelint.yaml`): found from the
//! checked folder up to the repository root, read with the same span-keeping YAML
//! reader as manifests so that every mistake points at its line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};

use crate::decode::{parse_alone, Decoder};
use crate::diagnostic::Diag;
use crate::finding::{about_own_file, Check, Finding, Severity};
use crate::source::{SourceFile, Sources, Spanned};
use crate::taxonomy::{Taxonomy, Tree};
use crate::yaml::Node;

pub(crate) const FILE_NAMES: [&str; 2] = ["purposelint.yaml", ".purposelint.yaml"];

/// The JSON Schema of the file, printed by `purposelint schema config`.
pub(crate) const SCHEMA: &str = include_str!("../schema/config.schema.json");

const KEYS: [&str; 12] = [
    "include",
    "exclude",
    "severity",
    "rule_dirs",
    "taxonomy",
    "aliases",
    "external_datasets",
    "max_file_size",
    "fides",
    "destinations",
    "relations",
    "dbt",
];

/// A rule's configured severity; `None` turns it off.
pub(crate) type Level = Option<Severity>;

/// A custom taxonomy key.
#[derive(Debug, Clone, PartialEq)]
pub struct TaxonomyEntry {
    pub key: Spanned<String>,
    pub name: String,
}

/// Datasets that may be referenced without a declaration.
#[derive(Debug, Clone)]
pub struct ExternalDataset {
    pub pattern: String,
    pub matcher: globset::GlobMatcher,
    pub purposes: Vec<String>,
}

impl ExternalDataset {
    /// The purposes that the entries matching dataset `name` give it.
    pub fn purposes_of(entries: &[ExternalDataset], name: &str) -> Vec<String> {
        entries
            .iter()
            .filter(|e| e.matcher.is_match(name))
            .flat_map(|e| e.purposes.iter().cloned())
            .collect()
    }
}

/// Which discovered files a run lints, by globs relative to the configuration's folder.
#[derive(Debug, Clone)]
pub struct PathFilter {
    pub root: PathBuf,
    pub include: Option<GlobSet>,
    pub exclude: Option<GlobSet>,
    /// The globs as written, for `--show-settings`.
    pub patterns: (Vec<String>, Vec<String>),
}

impl PathFilter {
    pub fn accepts(&self, path: &Path) -> bool {
        let abs = if path.is_absolute() {
            path.to_path_buf()
        } else {
            std::env::current_dir().unwrap_or_default().join(path)
        };
        let rel = normalize(&abs);
        let rel = rel.strip_prefix(&self.root).unwrap_or(&rel);
        // A glob that matches a folder covers everything below it (`vendor`, `charts/*`).
        let hit = |g: &GlobSet| {
            rel.ancestors()
                .filter(|p| !p.as_os_str().is_empty())
                .any(|p| g.is_match(p))
        };
        self.include.as_ref().is_none_or(hit) && !self.exclude.as_ref().is_some_and(hit)
    }
}

/// Removes `.` and `..` components without touching the file system.
pub(crate) fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[derive(Debug, Clone)]
pub struct Config {
    pub file: SourceFile,
    pub filter: PathFilter,
    /// Rule or check id → level, with the span of the id for later validation.
    pub severity: Vec<(Spanned<String>, Level)>,
    pub rule_dirs: Vec<PathBuf>,
    pub data_uses: Vec<TaxonomyEntry>,
    pub data_categories: Vec<TaxonomyEntry>,
    /// Organisation label → taxonomy key.
    pub aliases: BTreeMap<String, String>,
    pub external_datasets: Vec<ExternalDataset>,
    pub max_file_size: Option<u64>,
    /// `fides.infer_purposes_from_systems` (see docs/fides.md).
    pub fides_infer_purposes: bool,
    /// `destinations:`: `<platform>:<type>` or a destination's name → uses.
    pub destinations: Vec<(String, Vec<String>)>,
    /// `relations:`: a warehouse relation pinned to a dataset name.
    pub relations: Vec<(String, String)>,
    /// The names that must exist once every file is read (checked after linking): the
    /// `relations:` targets and the `destinations:` keys naming one destination.
    pub named: ConfigNames,
    /// `dbt.dialect`: the SQL dialect of every dbt project's models.
    pub dbt_dialect: Option<crate::sql::Dialect>,
    /// `dbt.profiles_dir`: where `profiles.yml` is, relative to the configuration.
    pub dbt_profiles_dir: Option<PathBuf>,
}

/// Names in the configuration that only the project's files can declare, with their
/// spans in the configuration file.
#[derive(Debug, Clone, Default)]
pub struct ConfigNames {
    /// `relations:` targets: dataset names.
    pub datasets: Vec<Spanned<String>>,
    /// `destinations:` keys without a platform: destination names.
    pub destinations: Vec<Spanned<String>>,
}

impl ConfigNames {
    /// Whether the configuration names nothing that the files must declare.
    pub fn is_empty(&self) -> bool {
        self.datasets.is_empty() && self.destinations.is_empty()
    }
}

/// A configuration that cannot be used; the run exits with code 2.
#[derive(Debug)]
pub struct ConfigError {
    pub sources: Sources,
    pub diags: Vec<Finding>,
    pub message: String,
}

impl ConfigError {
    fn plain(message: String) -> Self {
        ConfigError {
            sources: Sources::default(),
            diags: Vec::new(),
            message,
        }
    }
}

/// The folder to search a configuration from when checking `paths` from `cwd`: the
/// deepest folder holding every path (a file's own folder), so that `check ../repo`
/// uses that repository's file, not the working directory's. When none is found from
/// there and the paths lie inside `cwd`, the working directory's search applies (a
/// repository's file above a nested one that has its own `.git`).
pub(crate) fn search_start(paths: &[PathBuf], cwd: &Path) -> PathBuf {
    let dirs: Vec<PathBuf> = paths
        .iter()
        .map(|p| {
            let abs = normalize(&cwd.join(p));
            if abs.is_dir() {
                abs
            } else {
                abs.parent().map_or(abs.clone(), Path::to_path_buf)
            }
        })
        .collect();
    let Some(first) = dirs.first() else {
        return cwd.to_path_buf();
    };
    let common = first
        .ancestors()
        .find(|a| dirs.iter().all(|d| d.starts_with(a)))
        .unwrap_or(first)
        .to_path_buf();
    if find(&common).is_none() && common.starts_with(normalize(cwd)) {
        return cwd.to_path_buf();
    }
    common
}

/// The nearest configuration file from `start` upwards, stopping at the repository root
/// (a folder holding `.git`).
pub(crate) fn find(start: &Path) -> Option<PathBuf> {
    for dir in start.ancestors() {
        for name in FILE_NAMES {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Some(candidate);
            }
        }
        if dir.join(".git").exists() {
            return None;
        }
    }
    None
}

/// Reads and checks a configuration file.
pub(crate) fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigError::plain(format!("cannot read configuration {}: {e}", path.display()))
    })?;
    let display = crate::discover::display_path(path);
    let file = SourceFile::new(path.to_path_buf(), display.clone(), &text);
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let root = normalize(abs.parent().unwrap_or(Path::new("/")));
    let mut diags = Vec::new();
    let config = parse(&file, root, &mut diags);
    about_own_file(&mut diags, Check::InvalidConfig);
    match config {
        Some(c) if diags.is_empty() => Ok(c),
        _ => Err(ConfigError {
            message: format!("invalid configuration {display}"),
            sources: Sources::one(file),
            diags,
        }),
    }
}

fn parse(file: &SourceFile, root: PathBuf, diags: &mut Vec<Finding>) -> Option<Config> {
    let docs = parse_alone(file, diags)?;
    let mut dec = Decoder { file: 0, diags };
    let mut config = Config {
        file: file.clone(),
        filter: PathFilter {
            root: root.clone(),
            include: None,
            exclude: None,
            patterns: Default::default(),
        },
        severity: Vec::new(),
        rule_dirs: Vec::new(),
        data_uses: Vec::new(),
        data_categories: Vec::new(),
        aliases: BTreeMap::new(),
        external_datasets: Vec::new(),
        max_file_size: None,
        fides_infer_purposes: false,
        dbt_dialect: None,
        dbt_profiles_dir: None,
        destinations: Vec::new(),
        relations: Vec::new(),
        named: ConfigNames::default(),
    };
    let Some(doc) = docs.first() else {
        return Some(config); // an empty file configures nothing
    };
    if let Some(second) = docs.documents().nth(1) {
        dec.error(
            second.span(),
            "the configuration must be a single YAML document",
        );
    }
    if doc.is_null() {
        return Some(config);
    }
    let m = dec.map(doc, "the configuration", &KEYS)?;
    if let Some(n) = m.get("include") {
        (config.filter.include, config.filter.patterns.0) = globs(&mut dec, n, "`include`");
    }
    if let Some(n) = m.get("exclude") {
        (config.filter.exclude, config.filter.patterns.1) = globs(&mut dec, n, "`exclude`");
    }
    if let Some(n) = m.get("severity") {
        config.severity = severities(&mut dec, n);
    }
    if let Some(n) = m.get("rule_dirs") {
        config.rule_dirs = dec
            .string_list(n, "`rule_dirs`")
            .into_iter()
            .map(|s| root.join(s.value))
            .collect();
    }
    if let Some(n) = m.get("taxonomy") {
        if let Some(t) = dec.map(n, "`taxonomy`", &["data_uses", "data_categories"]) {
            if let Some(n) = t.get("data_uses") {
                config.data_uses = entries(&mut dec, n, "`taxonomy.data_uses`");
            }
            if let Some(n) = t.get("data_categories") {
                config.data_categories = entries(&mut dec, n, "`taxonomy.data_categories`");
            }
        }
    }
    let mut taxonomy = Taxonomy::default();
    extend(&mut dec, &mut taxonomy, Tree::DataUse, &config.data_uses);
    extend(
        &mut dec,
        &mut taxonomy,
        Tree::DataCategory,
        &config.data_categories,
    );
    if let Some(n) = m.get("aliases") {
        config.aliases = aliases(&mut dec, n, &taxonomy);
        for (label, key) in &config.aliases {
            taxonomy.alias(label, key);
        }
    }
    if let Some(n) = m.get("external_datasets") {
        config.external_datasets = dec.list(n, "`external_datasets`", |dec, item| {
            external(dec, item, &taxonomy)
        });
    }
    if let Some(n) = m.get("max_file_size") {
        config.max_file_size = size(&mut dec, n);
    }
    if let Some(n) = m.get("destinations") {
        config.destinations = destinations(&mut dec, n, &taxonomy, &mut config.named);
    }
    if let Some(n) = m.get("relations") {
        if let Some(entries) = n.entries() {
            for (k, v) in entries {
                let (Some(k), Some(v)) = (dec.name(k, "a relation"), dec.name(v, "a dataset name"))
                else {
                    continue;
                };
                config.relations.push((k.value, v.value.clone()));
                config.named.datasets.push(v);
            }
        } else {
            dec.error(
                n.span(),
                "`relations` must be a mapping of relation to dataset name",
            );
        }
    }
    if let Some(n) = m.get("dbt") {
        if let Some(d) = dec.map(n, "`dbt`", &["dialect", "profiles_dir"]) {
            if let Some(v) = d.get("dialect") {
                match v.as_str().and_then(crate::sql::Dialect::from_name) {
                    Some(dialect) => config.dbt_dialect = Some(dialect),
                    None => dec.error(
                        v.span(),
                        format!(
                            "`dbt.dialect` must be a warehouse or dbt adapter name: {}",
                            crate::sql::Dialect::NAMES.join(", ")
                        ),
                    ),
                }
            }
            if let Some(v) = d.get("profiles_dir") {
                match v.as_str().filter(|s| !s.trim().is_empty()) {
                    Some(dir) => config.dbt_profiles_dir = Some(root.join(dir)),
                    None => dec.error(v.span(), "`dbt.profiles_dir` must be a folder path"),
                }
            }
        }
    }
    if let Some(n) = m.get("fides") {
        if let Some(f) = dec.map(n, "`fides`", &["infer_purposes_from_systems"]) {
            if let Some(v) = f.get("infer_purposes_from_systems") {
                config.fides_infer_purposes =
                    boolean(&mut dec, v, "`fides.infer_purposes_from_systems`");
            }
        }
    }
    Some(config)
}

fn boolean(dec: &mut Decoder, node: Node, what: &str) -> bool {
    match node.as_str() {
        Some("true") => true,
        Some("false") => false,
        _ => {
            dec.error(node.span(), format!("{what} must be true or false"));
            false
        }
    }
}

/// The globs of a list, and the list as written.
fn globs(dec: &mut Decoder, node: Node, what: &str) -> (Option<GlobSet>, Vec<String>) {
    let mut b = GlobSetBuilder::new();
    let mut written = Vec::new();
    for g in dec.string_list(node, what) {
        match Glob::new(&g.value) {
            Ok(glob) => {
                b.add(glob);
            }
            Err(e) => dec.error(g.span, format!("invalid glob `{}`: {}", g.value, e.kind())),
        }
        written.push(g.value);
    }
    (b.build().ok(), written)
}

fn severities(dec: &mut Decoder, node: Node) -> Vec<(Spanned<String>, Level)> {
    let Some(entries) = node.entries() else {
        dec.error(
            node.span(),
            format!(
                "`severity` must be a mapping of rule ids to error, warning, info or off, found {}",
                node.kind_name()
            ),
        );
        return Vec::new();
    };
    let mut out: Vec<(Spanned<String>, Level)> = Vec::new();
    for (k, v) in entries {
        let (Some(id), Some(level)) = (dec.string(k, "a rule id"), dec.string(v, "a severity"))
        else {
            continue;
        };
        if out.iter().any(|(o, _)| o.value == id.value) {
            dec.error(k.span(), format!("`{}` is configured twice", id.value));
            continue;
        }
        let level = match level.value.as_str() {
            "error" => Some(Severity::Error),
            "warning" => Some(Severity::Warning),
            "info" => Some(Severity::Info),
            "off" => None,
            other => {
                dec.error(
                    v.span(),
                    format!(
                        "the severity of `{}` must be error, warning, info or off, not `{other}`",
                        id.value
                    ),
                );
                continue;
            }
        };
        out.push((id, level));
    }
    out
}

fn entries(dec: &mut Decoder, node: Node, what: &str) -> Vec<TaxonomyEntry> {
    dec.list(node, what, |dec, item| {
        let m = dec.map(item, "a taxonomy entry", &["key", "parent_key", "name"])?;
        let key = m.required(dec, "key").and_then(|n| dec.name(n, "`key`"))?;
        if key.value.split('.').any(str::is_empty) {
            dec.error(key.span, format!("`{}` is not a dot-separated key", key.value));
            return None;
        }
        if let Some(p) = m.get("parent_key").and_then(|n| dec.name(n, "`parent_key`")) {
            let derived = key.value.rsplit_once('.').map(|(p, _)| p);
            if derived != Some(p.value.as_str()) {
                dec.error(
                    p.span,
                    format!(
                        "`parent_key` must be the key without its last part: `{}` is not the parent of `{}`",
                        p.value, key.value
                    ),
                );
                return None;
            }
        }
        let name = m
            .get("name")
            .and_then(|n| dec.string(n, "`name`"))
            .map(|s| s.value)
            .unwrap_or_default();
        Some(TaxonomyEntry { key, name })
    })
}

/// Adds entries whose parent is known; a top-level key needs no parent.
fn extend(dec: &mut Decoder, taxonomy: &mut Taxonomy, tree: Tree, entries: &[TaxonomyEntry]) {
    let mut pending: Vec<&TaxonomyEntry> = entries.iter().collect();
    // Parents may be listed after their children: add in rounds until nothing changes.
    loop {
        let before = pending.len();
        pending.retain(|e| {
            let parent = e.key.value.rsplit_once('.').map(|(p, _)| p);
            if parent.is_none_or(|p| taxonomy.contains(tree, p)) {
                taxonomy.add(tree, &e.key.value, &e.name);
                false
            } else {
                true
            }
        });
        if pending.len() == before {
            break;
        }
    }
    for e in pending {
        let parent = e.key.value.rsplit_once('.').map_or("", |(p, _)| p);
        let diag = Diag::UnknownParent {
            tree,
            parent: parent.to_string(),
            key: e.key.value.clone(),
            suggestion: taxonomy.suggest(tree, parent).map(Into::into),
        };
        dec.report(diag, e.key.span);
    }
}

fn aliases(dec: &mut Decoder, node: Node, taxonomy: &Taxonomy) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let Some(entries) = node.entries() else {
        dec.error(
            node.span(),
            format!(
                "`aliases` must be a mapping of labels to taxonomy keys, found {}",
                node.kind_name()
            ),
        );
        return out;
    };
    for (k, v) in entries {
        let (Some(label), Some(key)) = (dec.name(k, "an alias"), dec.name(v, "a taxonomy key"))
        else {
            continue;
        };
        if !taxonomy.contains(Tree::DataUse, &key.value)
            && !taxonomy.contains(Tree::DataCategory, &key.value)
        {
            let suggestion = taxonomy
                .suggest(Tree::DataUse, &key.value)
                .or_else(|| taxonomy.suggest(Tree::DataCategory, &key.value));
            let diag = Diag::UnknownAliasTarget {
                label: label.value,
                key: key.value,
                suggestion: suggestion.map(Into::into),
            };
            dec.report(diag, key.span);
            continue;
        }
        if out.insert(label.value.clone(), key.value).is_some() {
            dec.error(
                label.span,
                format!("alias `{}` is defined twice", label.value),
            );
        }
    }
    out
}

fn external(dec: &mut Decoder, item: Node, taxonomy: &Taxonomy) -> Option<ExternalDataset> {
    let (pattern, purposes) = match item.as_str() {
        Some(_) => (dec.name(item, "an external dataset")?, Vec::new()),
        None => {
            let m = dec.map(item, "an external dataset", &["name", "purposes"])?;
            let name = m
                .required(dec, "name")
                .and_then(|n| dec.name(n, "`name`"))?;
            let purposes = m
                .get("purposes")
                .map(|n| dec.string_list(n, "`purposes`"))
                .unwrap_or_default();
            let keys = dec.canonical_keys(purposes, Tree::DataUse, taxonomy);
            (name, keys.into_iter().map(|p| p.value).collect())
        }
    };
    // Dataset names contain dots, so `*` must not stop at them: no literal separator.
    let glob = match globset::GlobBuilder::new(&pattern.value)
        .literal_separator(false)
        .build()
    {
        Ok(g) => g,
        Err(e) => {
            dec.error(
                pattern.span,
                format!("invalid glob `{}`: {}", pattern.value, e.kind()),
            );
            return None;
        }
    };
    Some(ExternalDataset {
        pattern: pattern.value,
        matcher: glob.compile_matcher(),
        purposes,
    })
}

/// `destinations:`: each key is `<platform>:<type>` (a known platform) or a
/// destination's name (kept in `named`, checked once the files are read); each value a
/// list of data-use keys.
fn destinations(
    dec: &mut Decoder,
    node: Node,
    taxonomy: &Taxonomy,
    named: &mut ConfigNames,
) -> Vec<(String, Vec<String>)> {
    let Some(entries) = node.entries() else {
        dec.error(node.span(), "`destinations` must be a mapping");
        return Vec::new();
    };
    let mut out = Vec::new();
    for (k, v) in entries {
        let Some(key) = dec.name(k, "a destination key") else {
            continue;
        };
        if let Some((platform, _)) = key.value.split_once(':') {
            if !["rudderstack", "census", "segment"].contains(&platform) {
                let hint =
                    crate::suggest::did_you_mean(platform, ["rudderstack", "census", "segment"])
                        .map(|h| format!("; {h}"))
                        .unwrap_or_default();
                let message = format!(
                    "`{}` names no platform (rudderstack, census or segment){hint}",
                    key.value
                );
                dec.error(key.span, message);
                continue;
            }
        } else {
            named.destinations.push(key.clone());
        }
        let uses = dec.string_list(v, "the uses of a destination");
        let uses = dec.canonical_keys(uses, Tree::DataUse, taxonomy);
        out.push((key.value, uses.into_iter().map(|u| u.value).collect()));
    }
    out
}

/// Bytes, or a number with a unit: `512KiB`, `10MiB`, `1GB`.
fn size(dec: &mut Decoder, node: Node) -> Option<u64> {
    let s = dec.string(node, "`max_file_size`")?;
    match parse_size(&s.value) {
        Ok(n) => Some(n),
        Err(e) => {
            dec.error(s.span, format!("`max_file_size`: {e}"));
            None
        }
    }
}

/// A positive byte count with an optional unit: `4096`, `512KiB`, `10MiB`, `1GB`.
/// Shared by the configuration and `--max-file-size`.
pub(crate) fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let digits = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(digits);
    let factor: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" => 1024,
        "kb" => 1000,
        "m" | "mib" => 1024 * 1024,
        "mb" => 1000 * 1000,
        "g" | "gib" => 1024 * 1024 * 1024,
        "gb" => 1000 * 1000 * 1000,
        _ => 0,
    };
    match number
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(factor))
    {
        Some(n) if n > 0 => Ok(n),
        _ => Err(format!(
            "must be a positive number of bytes or a size such as `10MiB`, not `{text}`"
        )),
    }
}

impl Config {
    /// The taxonomy with the configured keys and aliases.
    pub fn taxonomy(&self) -> Taxonomy {
        let mut t = Taxonomy::default();
        for (tree, entries) in [
            (Tree::DataUse, &self.data_uses),
            (Tree::DataCategory, &self.data_categories),
        ] {
            for e in entries {
                t.add(tree, &e.key.value, &e.name);
            }
        }
        for (label, key) in &self.aliases {
            t.alias(label, key);
        }
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_text(text: &str) -> (Option<Config>, Vec<Finding>) {
        let f = SourceFile::new("c.yaml".into(), "c.yaml".into(), text);
        let mut diags = Vec::new();
        let c = parse(&f, PathBuf::from("/repo"), &mut diags);
        (c, diags)
    }

    fn ok(text: &str) -> Config {
        let (c, d) = parse_text(text);
        assert!(d.is_empty(), "{d:?}");
        c.unwrap()
    }

    fn error_line(text: &str) -> (u32, String) {
        let (_, d) = parse_text(text);
        assert!(!d.is_empty(), "expected an error for {text:?}");
        (d[0].location.span.start_pos.line, d[0].message.clone())
    }

    #[test]
    fn include_and_exclude() {
        let c = ok("include: ['manifests/**/*.yaml']\nexclude: ['**/charts/**']\n");
        let f = &c.filter;
        assert!(f.accepts(Path::new("/repo/manifests/a/b.yaml")));
        assert!(!f.accepts(Path::new("/repo/other/b.yaml")));
        assert!(!f.accepts(Path::new("/repo/manifests/charts/x.yaml")));
        let c = ok("include: [manifests]\nexclude: [manifests/vendor]\n");
        assert!(c.filter.accepts(Path::new("/repo/manifests/a/b.yaml")));
        assert!(!c.filter.accepts(Path::new("/repo/manifests/vendor/b.yaml")));
        assert!(!c.filter.accepts(Path::new("/repo/other.yaml")));
        assert_eq!(error_line("include: ['a/[b']\n").0, 1);
    }

    #[test]
    fn severity_levels_and_off() {
        let c = ok("severity:\n  security-to-marketing: warning\n  unknown-purpose: off\n");
        assert_eq!(c.severity[0].1, Some(Severity::Warning));
        assert_eq!(c.severity[1].1, None);
        let (line, msg) = error_line("severity:\n  x: fatal\n");
        assert_eq!(line, 2);
        assert!(msg.contains("error, warning, info or off"));
        // Ids are checked against the rule registry once the files are read.
        let mut opts = crate::check::Options::new(Vec::new());
        opts.configured_ids = c.severity.iter().map(|(id, _)| id.clone()).collect();
        opts.config_file = Some(c.file.clone());
        let registry = crate::rules::Registry::new(crate::rules::builtin(), Vec::new());
        assert!(registry.check_ids(&opts).is_ok());
        let typo = ok("severity:\n  security-to-marketing: warning\n  security-to-ads: off\n");
        opts.configured_ids = typo.severity.iter().map(|(id, _)| id.clone()).collect();
        let e = registry.check_ids(&opts).unwrap_err();
        assert_eq!(e.diags[0].location.span.start_pos.line, 3);
    }

    #[test]
    fn rule_dirs_are_relative_to_the_file() {
        let c = ok("rule_dirs: [policy/rules]\n");
        assert_eq!(c.rule_dirs, vec![PathBuf::from("/repo/policy/rules")]);
    }

    #[test]
    fn taxonomy_extensions_need_a_known_parent() {
        let c = ok("taxonomy:\n  data_uses:\n    - key: essential.service.security.account_recovery\n      parent_key: essential.service.security\n      name: Account recovery\n  data_categories:\n    - key: user.contact.recovery_phone\n");
        let t = c.taxonomy();
        assert!(t.contains(Tree::DataUse, "essential.service.security.account_recovery"));
        assert!(t.contains(Tree::DataCategory, "user.contact.recovery_phone"));
        let (line, msg) = error_line("taxonomy:\n  data_uses:\n    - key: nowhere.x\n");
        assert_eq!(line, 3);
        assert!(msg.contains("parent `nowhere`"), "{msg}");
        assert_eq!(
            error_line("taxonomy:\n  data_uses:\n    - key: a.b\n      parent_key: c\n").0,
            4
        );
    }

    #[test]
    fn aliases_map_to_known_keys() {
        let c = ok("aliases:\n  2fa: essential.service.authentication\n  pii-security: essential.service.security\n");
        let t = c.taxonomy();
        assert_eq!(t.canonical("2fa"), "essential.service.authentication");
        assert_eq!(t.canonical("marketing"), "marketing");
        let (line, msg) = error_line("aliases:\n  2fa: essential.service.authentification\n");
        assert_eq!(line, 2);
        assert!(msg.contains("did you mean"), "{msg}");
    }

    #[test]
    fn dbt_dialect_and_profiles_dir() {
        let c = ok("dbt:\n  dialect: Snowflake\n  profiles_dir: ci/profiles\n");
        assert_eq!(c.dbt_dialect, Some(crate::sql::Dialect::Snowflake));
        assert!(c.dbt_profiles_dir.unwrap().ends_with("ci/profiles"));
        let (line, msg) = error_line("dbt:\n  dialect: snowflak\n");
        assert_eq!(line, 2);
        assert!(msg.contains("snowflake, bigquery"), "{msg}");
        assert_eq!(error_line("dbt:\n  profile_dir: x\n").0, 2);
    }

    #[test]
    fn external_datasets_by_name_or_glob() {
        let c = ok("external_datasets:\n  - legacy.events\n  - name: 'warehouse.raw_*'\n    purposes: [essential.service.security]\n");
        let e = &c.external_datasets;
        assert!(e[0].matcher.is_match("legacy.events"));
        assert!(e[1].matcher.is_match("warehouse.raw_logins"));
        assert!(!e[1].matcher.is_match("warehouse.clean"));
        assert_eq!(e[1].purposes, vec!["essential.service.security"]);
        assert_eq!(
            error_line("external_datasets:\n  - name: x\n    purpose: [a]\n").0,
            3
        );
    }

    #[test]
    fn fides_inference_is_opt_in() {
        assert!(!ok("max_file_size: 1000\n").fides_infer_purposes);
        assert!(ok("fides:\n  infer_purposes_from_systems: true\n").fides_infer_purposes);
        assert_eq!(
            error_line("fides:\n  infer_purposes_from_systems: maybe\n").0,
            2
        );
        assert_eq!(error_line("fides:\n  infer: true\n").0, 2);
    }

    #[test]
    fn max_file_size_units() {
        assert_eq!(ok("max_file_size: 2MiB\n").max_file_size, Some(2 << 20));
        assert_eq!(ok("max_file_size: 1000\n").max_file_size, Some(1000));
        assert_eq!(error_line("\nmax_file_size: lots\n").0, 2);
    }

    #[test]
    fn unknown_key_points_at_its_line() {
        let (line, msg) = error_line("include: []\nexlcude: []\n");
        assert_eq!(line, 2);
        assert_eq!(
            msg,
            "unknown key `exlcude` in the configuration; did you mean `exclude`?"
        );
    }

    #[test]
    fn found_upwards_until_the_repository_root() {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("repo");
        let deep = repo.join("a/b");
        std::fs::create_dir_all(&deep).unwrap();
        std::fs::create_dir_all(repo.join(".git")).unwrap();
        std::fs::write(dir.path().join("purposelint.yaml"), "").unwrap();
        assert_eq!(find(&deep), None, "must not look above the repository root");
        std::fs::write(repo.join(".purposelint.yaml"), "").unwrap();
        assert_eq!(find(&deep), Some(repo.join(".purposelint.yaml")));
        std::fs::write(repo.join("a/purposelint.yaml"), "").unwrap();
        assert_eq!(find(&deep), Some(repo.join("a/purposelint.yaml")));
    }
}
