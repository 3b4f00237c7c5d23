//! One lint run: discover → parse (in parallel) → formats → model → graph → rules → findings.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

use crate::config::{ExternalDataset, PathFilter};
use crate::decode::Decoder;
use crate::discover::{self, DiscoverError};
use crate::finding::{Check, Dismissed, Finding, Severity, Suppression, SuppressionKind};
use crate::formats::{dbt, fides, native};
use crate::graph::FlowGraph;
use crate::model::Model;
use crate::rules::{self, Rule};
use crate::source::{FileId, Loc, SourceFile, Span};
use crate::suppress;
use crate::taxonomy::Taxonomy;
use crate::timings::Phases;
use crate::yaml;

pub const DEFAULT_MAX_FILE_SIZE: u64 = 10 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct Options {
    pub paths: Vec<PathBuf>,
    pub rules: Vec<Rule>,
    pub taxonomy: Taxonomy,
    pub max_file_size: u64,
    /// Options of the Fides adapter (`fides.*` in the configuration).
    pub fides: fides::FidesOptions,
    /// Include/exclude globs of the configuration.
    pub filter: Option<PathFilter>,
    /// Severity per rule or check id; `None` turns it off.
    pub severity: BTreeMap<String, Option<Severity>>,
    /// When non-empty, only these rule and check ids run (`--select`).
    pub select: Vec<String>,
    /// Rule and check ids that never run (`--ignore`).
    pub ignore: Vec<String>,
    /// Datasets that may be referenced without a declaration.
    pub external_datasets: Vec<ExternalDataset>,
}

impl Options {
    pub fn new(paths: Vec<PathBuf>) -> Self {
        Options {
            paths,
            rules: rules::builtin(),
            taxonomy: Taxonomy::default(),
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            fides: fides::FidesOptions::default(),
            filter: None,
            severity: BTreeMap::new(),
            select: Vec::new(),
            ignore: Vec::new(),
            external_datasets: Vec::new(),
        }
    }

    /// Whether a rule or check runs: selected, not ignored, not configured `off`.
    pub fn enabled(&self, id: &str) -> bool {
        (self.select.is_empty() || self.select.iter().any(|s| s == id))
            && !self.ignore.iter().any(|s| s == id)
            && self.severity.get(id) != Some(&None)
    }

    /// The configured severity of a rule or check, or its default.
    pub fn severity_of(&self, id: &str, default: Severity) -> Severity {
        self.severity.get(id).copied().flatten().unwrap_or(default)
    }

    /// The rules that run, with their configured severities.
    pub fn active_rules(&self) -> Vec<Rule> {
        self.rules
            .iter()
            .filter(|r| self.enabled(&r.id))
            .map(|r| Rule {
                severity: self.severity_of(&r.id, r.severity),
                ..r.clone()
            })
            .collect()
    }
}

#[derive(Debug, Default)]
pub struct Summary {
    pub files: usize,
    pub manifests: usize,
    pub fields: usize,
    pub flows: usize,
}

#[derive(Debug)]
pub struct Outcome {
    pub model: Model,
    /// Sorted by file, line, column, rule.
    pub findings: Vec<Finding>,
    pub suppressed: Vec<rules::engine::Suppressed>,
    /// Suppressed findings with what suppressed them, sorted like `findings`.
    pub dismissed: Vec<Dismissed>,
    pub summary: Summary,
    /// Problems met while walking directories that are not tied to a file.
    pub warnings: Vec<String>,
}

#[derive(Clone)]
struct FileResult {
    source: SourceFile,
    /// The parsed YAML documents, kept for the dbt adapter.
    yaml: Option<Vec<yaml::Node>>,
    docs: Vec<native::Doc>,
    fides: Vec<fides::Resource>,
    diags: Vec<Finding>,
    manifests: usize,
}

impl FileResult {
    /// A file kept for its text (snippets, dbt SQL) but with no documents read.
    fn unparsed(source: SourceFile, diags: Vec<Finding>) -> Self {
        FileResult {
            source,
            yaml: None,
            docs: Vec::new(),
            fides: Vec::new(),
            diags,
            manifests: 0,
        }
    }
}

/// Lints the files under `opts.paths`.
pub fn run(opts: &Options) -> Result<Outcome, DiscoverError> {
    let found = discover::discover(&opts.paths)?;
    let inputs: Vec<(PathBuf, String)> = found
        .files
        .into_iter()
        .filter(|p| opts.filter.as_ref().is_none_or(|f| f.accepts(p)))
        .map(|p| {
            let d = discover::display_path(&p);
            (p, d)
        })
        .collect();
    Ok(run_inputs(opts, inputs, found.warnings, |_| None))
}

/// Lints the given files; `overlay` may supply a file's text instead of the disk (editors).
pub fn run_inputs(
    opts: &Options,
    inputs: Vec<(PathBuf, String)>,
    warnings: Vec<String>,
    overlay: impl Fn(&Path) -> Option<String> + Sync,
) -> Outcome {
    let inputs = inputs
        .into_iter()
        .map(|(path, display)| {
            let text = overlay(&path).map(String::into_bytes);
            (path, display, text)
        })
        .collect();
    run_files(opts, inputs, warnings)
}

/// Lints in-memory files given as `(name, bytes)`, exactly as if they had been read from
/// disk; nothing on disk is touched. The entry point of the fuzz target and property tests.
pub fn run_bytes(opts: &Options, files: Vec<(String, Vec<u8>)>) -> Outcome {
    let inputs = files
        .into_iter()
        .map(|(name, bytes)| (PathBuf::from(&name), name, Some(bytes)))
        .collect();
    run_files(opts, inputs, Vec::new())
}

/// `(path, display, contents)`; files without contents are read from disk.
fn run_files(
    opts: &Options,
    inputs: Vec<(PathBuf, String, Option<Vec<u8>>)>,
    warnings: Vec<String>,
) -> Outcome {
    let mut phases = Phases::start();
    let results: Vec<FileResult> = inputs
        .into_par_iter()
        .enumerate()
        .map(|(id, (path, display, bytes))| parse_file(id as FileId, path, display, bytes, opts))
        .collect();
    phases.mark("parse");
    link(opts, results, warnings, &mut phases)
}

/// One file of an incremental run: its text, when the caller already holds it.
#[derive(Debug, Clone)]
pub struct Input {
    pub path: PathBuf,
    pub display: String,
    /// `None` reads the disk (and is never cached).
    pub text: Option<Arc<str>>,
}

/// Per-file parse results kept between runs (editors): a file whose text is unchanged is
/// not parsed again. Only linking, the graph and the rules run over the whole set.
#[derive(Default)]
pub struct ParseCache {
    files: HashMap<PathBuf, (Arc<str>, String, FileResult)>,
}

impl ParseCache {
    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

/// Like [`run_inputs`], reusing `cache` for files whose text did not change.
pub fn run_cached(
    opts: &Options,
    inputs: Vec<Input>,
    warnings: Vec<String>,
    cache: &mut ParseCache,
) -> Outcome {
    let results: Vec<(FileResult, bool)> = {
        let cache = &*cache;
        inputs
            .par_iter()
            .enumerate()
            .map(|(id, input)| {
                let id = id as FileId;
                let hit = input.text.as_ref().and_then(|text| {
                    let (old, display, r) = cache.files.get(&input.path)?;
                    (*display == input.display && (Arc::ptr_eq(old, text) || **old == **text)).then(
                        || {
                            let mut r = r.clone();
                            for d in &mut r.diags {
                                d.location.file = id;
                            }
                            r
                        },
                    )
                });
                match hit {
                    Some(r) => (r, false),
                    None => {
                        let text = input.text.as_ref().map(|t| t.as_bytes().to_vec());
                        let r =
                            parse_file(id, input.path.clone(), input.display.clone(), text, opts);
                        (r, true)
                    }
                }
            })
            .collect()
    };
    let mut keep: HashMap<PathBuf, (Arc<str>, String, FileResult)> = HashMap::new();
    for (input, (r, fresh)) in inputs.iter().zip(&results) {
        let Some(text) = &input.text else { continue };
        if *fresh {
            keep.insert(
                input.path.clone(),
                (text.clone(), input.display.clone(), r.clone()),
            );
        } else if let Some(old) = cache.files.remove(&input.path) {
            keep.insert(input.path.clone(), old);
        }
    }
    cache.files = keep;
    let results = results.into_iter().map(|(r, _)| r).collect();
    link(opts, results, warnings, &mut Phases::start())
}

fn file_loc(file: FileId) -> Loc {
    Loc {
        file,
        span: Span {
            start_pos: crate::source::Pos { line: 1, column: 1 },
            end_pos: crate::source::Pos { line: 1, column: 1 },
            ..Span::default()
        },
    }
}

fn read_limited(path: &Path, limit: u64) -> Result<Vec<u8>, String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    // Sized from the metadata, as `std::fs::read` does: without it `read_to_end` starts
    // with small probing reads and grows the buffer, eight read calls per file.
    let size = file.metadata().map_or(0, |m| m.len()).min(limit);
    let mut bytes = Vec::with_capacity(size as usize + 1);
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > limit {
        return Err(too_large(limit));
    }
    Ok(bytes)
}

fn too_large(limit: u64) -> String {
    format!(
        "file is larger than the {} limit (--max-file-size); it was not read",
        human_size(limit)
    )
}

fn human_size(n: u64) -> String {
    match n {
        n if n >= 1 << 20 && n.is_multiple_of(1 << 20) => format!("{} MiB", n >> 20),
        n if n >= 1 << 10 && n.is_multiple_of(1 << 10) => format!("{} KiB", n >> 10),
        n => format!("{n}-byte"),
    }
}

fn parse_file(
    id: FileId,
    path: PathBuf,
    display: String,
    bytes: Option<Vec<u8>>,
    opts: &Options,
) -> FileResult {
    let mut diags = Vec::new();
    // Spans are u32 byte offsets, so no file may exceed 4 GiB whatever the option says.
    let limit = opts.max_file_size.min(u64::from(u32::MAX));
    let bytes = match bytes {
        Some(b) if b.len() as u64 > limit => Err(too_large(limit)),
        Some(b) => Ok(b),
        None => read_limited(&path, limit),
    };
    let text = match bytes {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => {
                let lossy = String::from_utf8_lossy(e.as_bytes()).into_owned();
                let source = SourceFile::new(path, display, &lossy);
                if !e.as_bytes().contains(&0) && native::declares_manifest_kind(&source.text) {
                    // `source` dropped any byte-order mark; offsets shift with it.
                    let bom = if lossy.starts_with('\u{feff}') { 3 } else { 0 };
                    let at = (e.utf8_error().valid_up_to() - bom) as u32;
                    let span = source.span_of_bytes(at, at);
                    let loc = Loc { file: id, span };
                    diags.push(Finding::check(
                        Check::InvalidManifest,
                        loc,
                        "the file is not valid UTF-8",
                    ));
                }
                return FileResult::unparsed(source, diags);
            }
        },
        Err(message) => {
            diags.push(Finding::check(Check::SkippedFile, file_loc(id), message));
            return FileResult::unparsed(SourceFile::new(path, display, ""), diags);
        }
    };
    let source = SourceFile::new(path, display, &text);
    if dbt::is_dbt_resource(&source.path) {
        return FileResult::unparsed(source, diags);
    }
    let mut dec = Decoder {
        file: id,
        diags: &mut diags,
    };
    // Well-formed native manifests are read from the parser's events, without a tree.
    if let Some(docs) = native::read_streamed(&mut dec, &source, &opts.taxonomy) {
        return FileResult {
            source,
            yaml: None,
            manifests: docs.len(),
            docs,
            fides: Vec::new(),
            diags,
        };
    }
    let nodes = match yaml::parse(&source) {
        Ok(nodes) => nodes,
        Err(e) => {
            if native::declares_manifest_kind(&source.text)
                || fides::declares_resources(&source.text)
            {
                let loc = Loc {
                    file: id,
                    span: e.span,
                };
                dec.diags.push(Finding::check(
                    Check::InvalidManifest,
                    loc,
                    format!("invalid YAML: {}", e.message),
                ));
            }
            return FileResult::unparsed(source, diags);
        }
    };
    let (docs, mut manifests) = native::read_documents(&mut dec, &nodes, &opts.taxonomy);
    let mut resources = Vec::new();
    for doc in nodes.iter().filter(|d| fides::is_fides_document(d)) {
        let (read, count) = fides::read_document(&mut dec, doc);
        resources.extend(read);
        manifests += count;
    }
    FileResult {
        source,
        // Only dbt reads the trees later; native and Fides manifests are never dbt
        // schema files, and dropping their trees here keeps peak memory down.
        yaml: (manifests == 0).then_some(nodes),
        docs,
        fides: resources,
        diags,
        manifests,
    }
}

fn link(
    opts: &Options,
    results: Vec<FileResult>,
    warnings: Vec<String>,
    phases: &mut Phases,
) -> Outcome {
    let mut model = Model::default();
    let mut findings = Vec::new();
    // Sized once: moved into vectors grown by doubling, the documents of 10k files
    // took several times their size in fresh memory.
    let mut docs = Vec::with_capacity(results.iter().map(|r| r.docs.len()).sum());
    let mut resources = Vec::with_capacity(results.iter().map(|r| r.fides.len()).sum());
    let mut yaml_docs = Vec::with_capacity(results.len());
    model.sources.files.reserve_exact(results.len());
    for (id, r) in results.into_iter().enumerate() {
        model.sources.files.push(r.source);
        yaml_docs.push(r.yaml);
        model.manifests += r.manifests;
        findings.extend(r.diags);
        docs.extend(r.docs.into_iter().map(|d| (id as FileId, d)));
        resources.extend(r.fides.into_iter().map(|d| (id as FileId, d)));
    }
    // Disabled rules stay known, so that an `allow` naming one is not an error.
    let rule_ids: Vec<&str> = opts.rules.iter().map(|r| r.id.as_str()).collect();
    phases.mark("gather");
    findings.extend(native::resolve(
        docs,
        &mut model,
        &rule_ids,
        &opts.external_datasets,
        phases,
    ));
    phases.mark("resolve: free manifests");
    findings.extend(dbt::load(&mut model, &yaml_docs, &opts.taxonomy));
    phases.mark("dbt");
    let (diags, policy_rules) = fides::link(resources, &mut model, &opts.taxonomy, opts.fides);
    findings.extend(diags);
    findings.retain(|f| opts.enabled(&f.rule));
    for f in &mut findings {
        f.severity = opts.severity_of(&f.rule, f.severity);
    }
    let mut run_rules = opts.active_rules();
    run_rules.extend(policy_rules.into_iter().filter(|r| opts.enabled(&r.id)));

    phases.mark("fides");
    let graph = FlowGraph::build(&model);
    phases.mark("graph");
    let engine = rules::engine::run(&model, &graph, &run_rules);
    phases.mark("engine");
    findings.extend(engine.findings);
    let mut dismissed = dismissed_by_allows(&model, &engine.suppressed);

    let known: Vec<&str> = rule_ids
        .iter()
        .copied()
        .chain(Check::ALL.iter().map(|c| c.id()))
        .collect();
    let mut ignores = Vec::new();
    for (id, file) in model.sources.files.iter().enumerate() {
        let (found, diags) = suppress::scan(id as FileId, file, &known);
        ignores.extend(found);
        findings.extend(diags.into_iter().filter(|d| opts.enabled(&d.rule)));
    }
    let unused_ignores = suppress::apply(&model, &ignores, &mut findings, &mut dismissed);
    if opts.enabled(Check::UnusedSuppression.id()) {
        let unused = suppress::unused(
            &model,
            &engine.suppressed,
            |id| opts.enabled(id),
            &ignores,
            &unused_ignores,
        );
        let severity = opts.severity_of(Check::UnusedSuppression.id(), Severity::Warning);
        findings.extend(unused.into_iter().map(|f| Finding { severity, ..f }));
    }
    phases.mark("suppress");
    sort_findings(&model, &mut findings);
    phases.mark("sort");
    let summary = Summary {
        files: model.sources.files.len(),
        manifests: model.manifests,
        fields: model.fields.len(),
        flows: model.flows.len(),
    };
    sort_dismissed(&model, &mut dismissed);
    Outcome {
        model,
        findings,
        suppressed: engine.suppressed,
        dismissed,
        summary,
        warnings,
    }
}

fn dismissed_by_allows(model: &Model, suppressed: &[rules::engine::Suppressed]) -> Vec<Dismissed> {
    suppressed
        .iter()
        .map(|s| Dismissed {
            finding: s.finding.clone(),
            suppressions: s
                .allows
                .iter()
                .map(|&(step, i)| {
                    let a = &model.steps[step as usize].allows[i];
                    Suppression {
                        kind: SuppressionKind::InSource,
                        justification: a.reason.clone(),
                        location: Some(a.loc),
                    }
                })
                .collect(),
        })
        .collect()
}

/// By file, line, column, rule; then by message, so that output never depends on timing.
pub fn sort_findings(model: &Model, findings: &mut [Finding]) {
    findings.sort_by(|a, b| order(model, a, b));
}

pub fn sort_dismissed(model: &Model, dismissed: &mut [Dismissed]) {
    dismissed.sort_by(|a, b| order(model, &a.finding, &b.finding));
}

fn order(model: &Model, a: &Finding, b: &Finding) -> std::cmp::Ordering {
    let fa = &model.sources.get(a.location.file).display;
    let fb = &model.sources.get(b.location.file).display;
    fa.cmp(fb)
        .then(a.location.span.start_pos.cmp(&b.location.span.start_pos))
        .then(a.rule.cmp(&b.rule))
        .then(a.message.cmp(&b.message))
        .then(a.location.span.end_pos.cmp(&b.location.span.end_pos))
}

/// Counts of errors, warnings and infos.
pub fn counts(findings: &[Finding]) -> (usize, usize, usize) {
    let n = |s| findings.iter().filter(|f| f.severity == s).count();
    (n(Severity::Error), n(Severity::Warning), n(Severity::Info))
}
