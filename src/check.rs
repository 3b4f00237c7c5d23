//! One lint run: discover → parse (in parallel) → formats → model → graph → rules → findings.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

use crate::decode::Decoder;
use crate::discover::{self, DiscoverError};
use crate::finding::{Check, Finding, Severity};
use crate::formats::native;
use crate::graph::FlowGraph;
use crate::model::Model;
use crate::rules::{self, Rule};
use crate::source::{FileId, Loc, SourceFile, Span};
use crate::taxonomy::Taxonomy;
use crate::yaml;

pub const DEFAULT_MAX_FILE_SIZE: u64 = 10 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct Options {
    pub paths: Vec<PathBuf>,
    pub rules: Vec<Rule>,
    pub taxonomy: Taxonomy,
    pub max_file_size: u64,
}

impl Options {
    pub fn new(paths: Vec<PathBuf>) -> Self {
        Options {
            paths,
            rules: rules::builtin(),
            taxonomy: Taxonomy::default(),
            max_file_size: DEFAULT_MAX_FILE_SIZE,
        }
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
    pub summary: Summary,
    /// Problems met while walking directories that are not tied to a file.
    pub warnings: Vec<String>,
}

#[derive(Clone)]
struct FileResult {
    source: SourceFile,
    docs: Vec<native::Doc>,
    diags: Vec<Finding>,
    manifests: usize,
}

/// Lints the files under `opts.paths`.
pub fn run(opts: &Options) -> Result<Outcome, DiscoverError> {
    let found = discover::discover(&opts.paths)?;
    let inputs: Vec<(PathBuf, String)> = found
        .files
        .into_iter()
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
    let results: Vec<FileResult> = inputs
        .into_par_iter()
        .enumerate()
        .map(|(id, (path, display))| {
            let text = overlay(&path);
            parse_file(id as FileId, path, display, text, opts)
        })
        .collect();
    link(opts, results, warnings)
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
                        let text = input.text.as_ref().map(|t| t.to_string());
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
    link(
        opts,
        results.into_iter().map(|(r, _)| r).collect(),
        warnings,
    )
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
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > limit {
        return Err(format!(
            "file is larger than the {} MiB limit; it was not read",
            limit / (1024 * 1024)
        ));
    }
    Ok(bytes)
}

fn parse_file(
    id: FileId,
    path: PathBuf,
    display: String,
    text: Option<String>,
    opts: &Options,
) -> FileResult {
    let mut diags = Vec::new();
    let empty = |path, display, diags| FileResult {
        source: SourceFile::new(path, display, ""),
        docs: Vec::new(),
        diags,
        manifests: 0,
    };
    let text = match text {
        Some(t) => t,
        None => match read_limited(&path, opts.max_file_size) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(t) => t,
                Err(e) => {
                    let lossy = String::from_utf8_lossy(e.as_bytes()).into_owned();
                    let source = SourceFile::new(path, display, &lossy);
                    if !e.as_bytes().contains(&0) && native::declares_manifest_kind(&lossy) {
                        let at = e.utf8_error().valid_up_to() as u32;
                        let span = source.span_of_bytes(at, at);
                        let loc = Loc { file: id, span };
                        diags.push(Finding::check(
                            Check::InvalidManifest,
                            loc,
                            "the file is not valid UTF-8",
                        ));
                    }
                    return FileResult {
                        source,
                        docs: Vec::new(),
                        diags,
                        manifests: 0,
                    };
                }
            },
            Err(message) => {
                diags.push(Finding::check(Check::SkippedFile, file_loc(id), message));
                return empty(path, display, diags);
            }
        },
    };
    let source = SourceFile::new(path, display, &text);
    let nodes = match yaml::parse(&source) {
        Ok(nodes) => nodes,
        Err(e) => {
            if native::declares_manifest_kind(&source.text) {
                let loc = Loc {
                    file: id,
                    span: e.span,
                };
                diags.push(Finding::check(
                    Check::InvalidManifest,
                    loc,
                    format!("invalid YAML: {}", e.message),
                ));
            }
            return FileResult {
                source,
                docs: Vec::new(),
                diags,
                manifests: 0,
            };
        }
    };
    let mut dec = Decoder {
        file: id,
        diags: &mut diags,
    };
    let (docs, manifests) = native::read_documents(&mut dec, &nodes, &opts.taxonomy);
    FileResult {
        source,
        docs,
        diags,
        manifests,
    }
}

fn link(opts: &Options, results: Vec<FileResult>, warnings: Vec<String>) -> Outcome {
    let mut model = Model::default();
    let mut findings = Vec::new();
    let mut docs = Vec::new();
    for (id, r) in results.into_iter().enumerate() {
        model.sources.files.push(r.source);
        model.manifests += r.manifests;
        findings.extend(r.diags);
        docs.extend(r.docs.into_iter().map(|d| (id as FileId, d)));
    }
    let rule_ids: Vec<&str> = opts.rules.iter().map(|r| r.id.as_str()).collect();
    findings.extend(native::resolve(docs, &mut model, &rule_ids));

    let graph = FlowGraph::build(&model);
    let engine = rules::engine::run(&model, &graph, &opts.rules);
    findings.extend(engine.findings);
    sort_findings(&model, &mut findings);
    let summary = Summary {
        files: model.sources.files.len(),
        manifests: model.manifests,
        fields: model.fields.len(),
        flows: model.flows.len(),
    };
    Outcome {
        model,
        findings,
        suppressed: engine.suppressed,
        summary,
        warnings,
    }
}

/// By file, line, column, rule; then by message, so that output never depends on timing.
pub fn sort_findings(model: &Model, findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        let fa = &model.sources.get(a.location.file).display;
        let fb = &model.sources.get(b.location.file).display;
        fa.cmp(fb)
            .then(a.location.span.start_pos.cmp(&b.location.span.start_pos))
            .then(a.rule.cmp(&b.rule))
            .then(a.message.cmp(&b.message))
            .then(a.location.span.end_pos.cmp(&b.location.span.end_pos))
    });
}

/// Counts of errors, warnings and infos.
pub fn counts(findings: &[Finding]) -> (usize, usize, usize) {
    let n = |s| findings.iter().filter(|f| f.severity == s).count();
    (n(Severity::Error), n(Severity::Warning), n(Severity::Info))
}
