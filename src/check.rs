//! The library's entry points for one lint run, and its result. A run is a
//! [`Session`](crate::session::Session): discover → read (in parallel) → every format
//! declares, then links → graph → rules → findings.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use crate::config::{ExternalDataset, PathFilter};
use crate::finding::{Dismissed, Finding, Severity};
use crate::formats::fides;
use crate::model::Model;
use crate::rules::{self, Rule};
use crate::session::{Failure, Input, Session};
use crate::source::{SourceFile, Sources, Spanned};
use crate::taxonomy::Taxonomy;

pub const DEFAULT_MAX_FILE_SIZE: u64 = 10 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct Options {
    pub paths: Vec<PathBuf>,
    pub rules: Vec<Rule>,
    pub taxonomy: Taxonomy,
    pub max_file_size: u64,
    /// Options of the Fides adapter (`fides.*` in the configuration).
    pub fides: fides::FidesOptions,
    /// Options of the dbt adapter (`dbt.*` in the configuration).
    pub dbt: crate::formats::dbt::DbtOptions,
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
    /// `destinations:` and `relations:` of the configuration (activation configs).
    pub activation: crate::formats::activation::Options,
    /// The ids under `severity:` in the configuration, checked once the rules are known.
    pub configured_ids: Vec<Spanned<String>>,
    /// The configuration file, for diagnostics about it.
    pub config_file: Option<SourceFile>,
    /// Record every declaration and reference in the model (for editors).
    pub symbols: bool,
}

impl Options {
    pub fn new(paths: Vec<PathBuf>) -> Self {
        Options {
            paths,
            rules: rules::builtin(),
            taxonomy: Taxonomy::default(),
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            fides: fides::FidesOptions::default(),
            dbt: crate::formats::dbt::DbtOptions::default(),
            filter: None,
            severity: BTreeMap::new(),
            select: Vec::new(),
            ignore: Vec::new(),
            external_datasets: Vec::new(),
            activation: Default::default(),
            configured_ids: Vec::new(),
            config_file: None,
            symbols: false,
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
}

#[derive(Debug, Default)]
pub struct Summary {
    pub files: usize,
    pub manifests: usize,
    pub fields: usize,
    pub flows: usize,
    /// How the column lineage of SQL models was derived; `None` when there are none.
    pub lineage: Option<LineageSummary>,
}

/// SQL models (dbt) by how their column lineage was derived.
#[derive(Debug, Default, Clone, PartialEq, serde::Serialize)]
pub struct LineageSummary {
    pub models: usize,
    pub full: usize,
    pub partial: usize,
    pub fallback: usize,
    /// Models that are not full, by the kind of their first reason.
    pub reasons: std::collections::BTreeMap<String, usize>,
    /// Models by the dialect that parsed them (`none` when none did).
    pub dialects: std::collections::BTreeMap<String, usize>,
}

impl LineageSummary {
    pub fn of(models: &[crate::model::ModelLineage]) -> Option<LineageSummary> {
        use crate::model::LineageStatus;
        if models.is_empty() {
            return None;
        }
        let mut s = LineageSummary {
            models: models.len(),
            ..LineageSummary::default()
        };
        for m in models {
            match m.status {
                LineageStatus::Full => s.full += 1,
                LineageStatus::Partial => s.partial += 1,
                LineageStatus::Fallback => s.fallback += 1,
            }
            if let Some(r) = &m.reason {
                *s.reasons.entry(r.clone()).or_default() += 1;
            }
            let d = m.dialect.unwrap_or("none").to_string();
            *s.dialects.entry(d).or_default() += 1;
        }
        Some(s)
    }

    /// Percent of the models with full lineage.
    pub fn full_percent(&self) -> f64 {
        100.0 * self.full as f64 / self.models.max(1) as f64
    }
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
    /// Every rule of the run: built-in, `--rules` and those read from the files (Fides
    /// policies), with their configured severities not yet applied.
    pub rules: Vec<Rule>,
    /// Which format added which datasets and sinks: one span per declare and link call.
    pub formats: Vec<FormatSpan>,
}

/// The datasets and sinks that one format added in one call, as ranges of ids: formats
/// declare, then link, one after the other.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatSpan {
    pub name: &'static str,
    pub datasets: std::ops::Range<u32>,
    pub sinks: std::ops::Range<u32>,
}

impl FormatSpan {
    /// The format that added dataset `d`.
    pub fn of_dataset(spans: &[FormatSpan], d: u32) -> Option<&'static str> {
        spans
            .iter()
            .find(|s| s.datasets.contains(&d))
            .map(|s| s.name)
    }
}

/// Lints the files under `opts.paths`.
pub fn run(opts: &Options) -> Result<Outcome, Failure> {
    Session::new(opts.clone()).check()
}

/// Lints in-memory files given as `(name, bytes)`, exactly as if they had been read from
/// disk; nothing on disk is touched. The entry point of the fuzz target and property tests.
pub fn run_bytes(opts: &Options, files: Vec<(String, Vec<u8>)>) -> Outcome {
    let inputs = files
        .into_iter()
        .map(|(name, bytes)| Input {
            path: PathBuf::from(&name),
            display: name,
            text: None,
            bytes: Some(Arc::from(bytes)),
        })
        .collect();
    let mut opts = opts.clone();
    // Rule ids are checked by the command line; a fuzzed configuration has none.
    opts.select.clear();
    opts.ignore.clear();
    match Session::new(opts).check_files(inputs) {
        Ok(o) => o,
        Err(f) => unreachable!("in-memory files cannot fail: {}", f.message),
    }
}

/// By file, line, column, rule; then by message, so that output never depends on timing.
pub fn sort_findings(model: &Model, findings: &mut [Finding]) {
    sort_findings_in(&model.sources, findings);
}

pub fn sort_findings_in(sources: &Sources, findings: &mut [Finding]) {
    findings.sort_by(|a, b| order(sources, a, b));
}

pub fn sort_dismissed(model: &Model, dismissed: &mut [Dismissed]) {
    dismissed.sort_by(|a, b| order(&model.sources, &a.finding, &b.finding));
}

fn order(sources: &Sources, a: &Finding, b: &Finding) -> std::cmp::Ordering {
    let fa = &sources.get(a.location.file).display;
    let fb = &sources.get(b.location.file).display;
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
