//! Linking a run: every format declares, then every format links, then the rules run
//! over the graph and suppressions are applied.

use std::any::Any;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use super::read::FileRead;
use super::FileAccess;
use crate::check::{sort_dismissed, sort_findings, FormatSpan, Options, Outcome, Summary};
use crate::diagnostic::Diag;
use crate::finding::{Check, Dismissed, Finding, Severity, Suppression, SuppressionKind};
use crate::formats::{Formats, Piece};
use crate::graph::FlowGraph;
use crate::model::Model;
use crate::rules::{self, Registry};
use crate::source::{FileId, Loc, Pos, SourceFile, Span};
use crate::suppress;
use crate::timings::Phases;

/// What a format sees while it declares and links.
pub(crate) struct LinkCx<'a> {
    pub(crate) model: &'a mut Model,
    pub(crate) diags: Vec<Finding>,
    pub(crate) opts: &'a Options,
    /// Every rule id of the run, enabled or not (an `allow` may name any of them).
    pub(crate) rule_ids: &'a [&'a str],
    pub(crate) phases: &'a mut Phases,
    files: &'a FileAccess<'a>,
}

impl LinkCx<'_> {
    /// Reads a file that is not one of the run's inputs (dbt's `target/manifest.json`)
    /// through the session, so that editor buffers count and nothing else reads the disk.
    pub(crate) fn read_file(&self, path: &Path) -> Option<Arc<str>> {
        self.files.read(path)
    }
}

/// A run over part of a workspace: it knows every file but links only some.
pub(super) struct Part<'a> {
    pub(super) linked: &'a [bool],
    /// The datasets of the whole workspace, for suggestions.
    pub(super) datasets: Arc<Vec<String>>,
    /// The dataset and sink names the whole workspace declares, likewise.
    pub(super) declared: Arc<Vec<String>>,
}

/// What stays the same for every link of a session's run.
pub(super) struct Run<'a> {
    pub(super) opts: &'a Options,
    pub(super) registry: &'a Registry,
    pub(super) files: &'a FileAccess<'a>,
    pub(super) formats: Formats,
}

pub(super) fn link(
    run: &Run<'_>,
    reads: Vec<FileRead>,
    warnings: Vec<String>,
    phases: &mut Phases,
    part: Option<Part<'_>>,
) -> Outcome {
    let Run {
        opts,
        registry,
        files,
        formats,
    } = *run;
    let linked = part.as_ref().map(|p| p.linked);
    let mut model = Model::default();
    let mut findings = Vec::new();
    let mut pieces: Vec<Vec<(FileId, Piece)>> = vec![Vec::new(); formats.len()];
    model.sources.files.reserve_exact(reads.len());
    let mut broken = Vec::new();
    for (id, r) in reads.into_iter().enumerate() {
        if r.broken || r.invalid {
            broken.push((id as FileId, !r.broken));
        }
        model.sources.files.push(r.source);
        // A run over part of a workspace knows every file but links only those.
        if linked.is_some_and(|l| !l[id]) {
            continue;
        }
        model.manifests += r.manifests;
        findings.extend(r.diags);
        for (format, piece) in r.pieces {
            pieces[format].push((id as FileId, piece));
        }
    }
    if opts.symbols {
        model.record_symbols();
    }
    if let Some(p) = &part {
        model.suggest_among(p.datasets.clone(), p.declared.clone());
    }
    phases.mark("gather");
    let format_spans;
    let rule_ids: Vec<&str> = registry.rules.iter().map(|r| r.id.as_str()).collect();
    {
        let mut cx = LinkCx {
            model: &mut model,
            diags: Vec::new(),
            opts,
            rule_ids: &rule_ids,
            phases: &mut *phases,
            files,
        };
        let mut spans = Spans::default();
        let declared: Vec<Box<dyn Any>> = formats
            .iter()
            .zip(pieces)
            .map(|(format, pieces)| {
                let d = format.declare(pieces, &mut cx);
                spans.mark(format.name(), cx.model);
                cx.phases.mark(&format!("declare: {}", format.name()));
                d
            })
            .collect();
        for (format, declared) in formats.iter().zip(declared) {
            format.link(declared, &mut cx);
            spans.mark(format.name(), cx.model);
            cx.phases.mark(&format!("link: {}", format.name()));
        }
        format_spans = spans.0;
        findings.append(&mut cx.diags);
    }
    late_reads(&mut model, &mut findings);
    unread_outputs(&mut model, &mut findings);
    model.finish_symbols();
    point_at_broken_files(&model, &broken, &mut findings);

    findings.retain(|f| opts.enabled(&f.rule));
    for f in &mut findings {
        f.severity = opts.severity_of(&f.rule, f.severity);
    }
    let run_rules: Vec<rules::Rule> = registry
        .rules
        .iter()
        .filter(|r| opts.enabled(&r.id))
        .map(|r| rules::Rule {
            severity: opts.severity_of(&r.id, r.severity),
            ..r.clone()
        })
        .collect();
    let graph = FlowGraph::build(&model);
    phases.mark("graph");
    let engine = rules::engine::run(&model, &graph, &run_rules);
    phases.mark("engine");
    if opts.enabled(Check::UnclassifiedDestination.id()) {
        // Escalated to an error when security data reaches the destination, unless the
        // configuration sets the check's severity.
        let configured = opts
            .severity
            .get(Check::UnclassifiedDestination.id())
            .copied()
            .flatten();
        let found = crate::formats::activation::unclassified_findings(&model, &graph, &run_rules);
        findings.extend(found.into_iter().map(|f| Finding {
            severity: configured.unwrap_or(f.severity),
            ..f
        }));
    }
    findings.extend(engine.findings);
    let mut dismissed = dismissed_by_allows(&model, &engine.suppressed);

    let known: Vec<&str> = rule_ids
        .iter()
        .copied()
        .chain(Check::ALL.iter().map(|c| c.id()))
        .collect();
    let mut ignores = Vec::new();
    for (id, file) in model.sources.files.iter().enumerate() {
        if linked.is_some_and(|l| !l[id]) {
            continue;
        }
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
        lineage: crate::check::LineageSummary::of(&model.sql_lineage),
    };
    sort_dismissed(&model, &mut dismissed);
    Outcome {
        model,
        findings,
        suppressed: engine.suppressed,
        dismissed,
        summary,
        warnings,
        rules: registry.rules.clone(),
        formats: format_spans,
    }
}

/// The datasets and sinks each format call added.
#[derive(Default)]
struct Spans(Vec<FormatSpan>);

impl Spans {
    fn mark(&mut self, name: &'static str, model: &Model) {
        let (d, s) = self
            .0
            .last()
            .map_or((0, 0), |f| (f.datasets.end, f.sinks.end));
        self.0.push(FormatSpan {
            name,
            datasets: d..model.datasets.len() as u32,
            sinks: s..model.sinks.len() as u32,
        });
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
                        kind: SuppressionKind::Allow,
                        justification: a.reason.clone(),
                        location: Some(a.loc),
                    }
                })
                .collect(),
        })
        .collect()
}

/// Root causes first: a reference to a name that a file which could not be parsed
/// declares says so, instead of reading as a typo with a far-fetched suggestion.
/// A file that parsed but holds an invalid manifest counts too: the name a reference misses
/// is most likely in the document that could not be read.
fn point_at_broken_files(model: &Model, broken: &[(FileId, bool)], findings: &mut [Finding]) {
    if broken.is_empty() {
        return;
    }
    let mut declared: HashMap<&str, (FileId, bool)> = HashMap::new();
    for &(id, parsed) in broken {
        for name in names_in_text(&model.sources.get(id).text) {
            declared.entry(name).or_insert((id, parsed));
        }
    }
    explain_subjects(findings, &declared, |check, name, &(file, parsed)| {
        Diag::InUnparsedFile {
            check,
            name,
            file: model.sources.get(file).display.clone(),
            parsed,
        }
    });
}

/// Rewrites each finding whose subject (the name it is about) is in `declared` with the
/// diagnostic `explain` makes of its check, the name and where that is declared; the
/// subject is taken, so that no later root cause applies.
pub(super) fn explain_subjects<T>(
    findings: &mut [Finding],
    declared: &HashMap<impl std::borrow::Borrow<str> + std::hash::Hash + Eq, T>,
    explain: impl Fn(Check, String, &T) -> Diag,
) {
    for f in findings {
        let Some(at) = f.subject.as_deref().and_then(|n| declared.get(n)) else {
            continue;
        };
        let Some(&check) = Check::ALL.iter().find(|c| c.id() == f.rule) else {
            continue;
        };
        let diag = explain(check, f.subject.take().unwrap_or_default(), at);
        f.message = diag.message();
        f.help = diag.help();
    }
}

/// The values of `name:` and `fides_key:` lines of a text that no parser accepts: the
/// names it most likely declares.
pub(super) fn names_in_text(text: &str) -> impl Iterator<Item = &str> {
    text.lines().filter_map(|line| {
        let line = line.trim_start();
        let line = line.strip_prefix("- ").unwrap_or(line).trim_start();
        let value = line
            .strip_prefix("name:")
            .or_else(|| line.strip_prefix("fides_key:"))?;
        let value = value.split(" #").next().unwrap_or("").trim();
        let value = value.trim_matches(|c| c == '"' || c == '\'');
        (!value.is_empty()).then_some(value)
    })
}

/// A `no-input` warning when the paths of a command-line run hold nothing to lint, so
/// that a CI job pointed at the wrong folder does not pass green. The paths are shown as
/// given; the diagnostic sits at the first of them.
pub(super) fn warn_if_nothing_to_lint(opts: &Options, outcome: &mut Outcome) {
    let id = Check::NoInput.id();
    // A file meant as a manifest that could not be read, or one too large to be read,
    // may be input, and says so itself.
    let meant =
        |f: &Finding| f.rule == Check::InvalidManifest.id() || f.rule == Check::SkippedFile.id();
    if outcome.summary.manifests > 0 || outcome.findings.iter().any(meant) || !opts.enabled(id) {
        return;
    }
    let paths: Vec<String> = opts
        .paths
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let Some(first) = opts.paths.first() else {
        return;
    };
    let sources = &mut outcome.model.sources.files;
    let file = sources.len() as FileId;
    let display = paths[0].clone();
    sources.push(Arc::new(SourceFile::new(first.clone(), display, "")));
    let start = Pos { line: 1, column: 1 };
    let span = Span {
        start_pos: start,
        end_pos: start,
        ..Span::default()
    };
    let mut f = Diag::NoInput { paths }.at(Loc { file, span });
    f.severity = opts.severity_of(id, f.severity);
    outcome.findings.push(f);
    sort_findings(&outcome.model, &mut outcome.findings);
}

/// The `undeclared-destination` findings of datasets that no format reads (their fields
/// start no flow), once every format has linked: a reverse-ETL source may read what a
/// native step writes.
fn unread_outputs(model: &mut Model, findings: &mut Vec<Finding>) {
    let pending = std::mem::take(&mut model.unread_outputs);
    if pending.is_empty() {
        return;
    }
    let read: rustc_hash::FxHashSet<crate::model::DatasetId> = (model.flows.iter())
        .map(|f| model.fields[f.from as usize].dataset)
        .collect();
    findings.extend(
        pending
            .into_iter()
            .filter(|(d, _)| !read.contains(d))
            .map(|(_, f)| f),
    );
}

/// What native steps read from datasets that later formats filled ([`Model::late`]):
/// the passthroughs of every field they now have, and each column a step named that
/// the dataset's own format did not give an input (`unknown-reference`).
fn late_reads(model: &mut Model, findings: &mut Vec<Finding>) {
    let late = std::mem::take(&mut model.late);
    for (d, to, step, loc) in late.passthroughs {
        for f in model.datasets[d as usize].fields.clone() {
            model.flows.push(crate::model::Flow {
                from: f,
                to,
                kind: crate::model::FlowKind::Passthrough,
                functions: Vec::new(),
                step,
                loc,
                focus: None,
            });
        }
    }
    if late.referenced.is_empty() {
        return;
    }
    let fed: rustc_hash::FxHashSet<crate::model::FieldId> = (model.flows.iter())
        .filter_map(|f| match f.to {
            crate::model::Target::Field(t) => Some(t),
            _ => None,
        })
        .collect();
    for (f, loc) in late.referenced {
        let d = model.fields[f as usize].dataset;
        if model.datasets[d as usize].open || fed.contains(&f) {
            continue;
        }
        let field = model.fields[f as usize].name.to_string();
        let others = (model.field_names(d)).filter(|n| *n != field);
        let diag = crate::diagnostic::Diag::NoField {
            owner: format!("dataset `{}`", model.datasets[d as usize].name),
            suggestion: crate::suggest::closest(&field, others).map(Into::into),
            field,
        };
        findings.push(diag.at(loc));
    }
}
