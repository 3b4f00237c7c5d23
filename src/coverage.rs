//! `purposelint coverage`: what a clean run covers. Which declared datasets and fields
//! carry purposes and categories (per format); contact, identifier and device fields
//! without a purpose, security-sounding names first, each with the line to add; sinks
//! and destinations without uses; dbt models whose lineage fell back; and, for each
//! annotated source field, the share of the fields downstream of its dataset that its
//! label reaches, and where it stops.

use std::collections::HashMap;
use std::io::{self, Write};

use serde::Serialize;

use crate::check::FormatSpan;
use crate::finding::{Check, Finding};
use crate::graph::FlowGraph;
use crate::model::{DatasetId, FieldId, Model};
use crate::report::json::{location, Location};
use crate::rules::engine::{Edge, Search};
use crate::taxonomy::matches;

/// Categories whose fields identify or reach a person.
const SENSITIVE: [&str; 3] = ["user.contact", "user.unique_id", "user.device"];

/// Words in a dataset's name that suggest security data, with the purpose to suggest.
const SECURITY_HINTS: [(&str, &str); 9] = [
    ("mfa", "essential.service.authentication"),
    ("2fa", "essential.service.authentication"),
    ("otp", "essential.service.authentication"),
    ("auth", "essential.service.authentication"),
    ("login", "essential.service.authentication"),
    ("verification", "essential.service.authentication"),
    ("recovery", "essential.service.security"),
    ("security", "essential.service.security"),
    ("fraud", "essential.fraud_detection"),
];

#[derive(Serialize, Default, Clone, Copy)]
pub(crate) struct Counts {
    pub total: usize,
    pub with_purposes: usize,
    pub with_categories: usize,
}

#[derive(Serialize, Default, Clone, Copy)]
pub(crate) struct SinkCounts {
    pub total: usize,
    pub with_uses: usize,
}

#[derive(Serialize)]
pub(crate) struct FormatCoverage {
    pub format: &'static str,
    /// Declared datasets without uses (datasets with uses are counted as sinks).
    pub datasets: Counts,
    pub fields: Counts,
    /// Sinks, and datasets with uses.
    pub sinks: SinkCounts,
    /// Datasets that a step declares by writing to them: their fields get labels through
    /// lineage, so they are not counted above.
    pub derived_datasets: usize,
}

#[derive(Serialize)]
pub(crate) struct LineToAdd<'a> {
    pub file: &'a str,
    /// Add after this line.
    pub after_line: u32,
    pub text: String,
}

#[derive(Serialize)]
pub(crate) struct Unlabelled<'a> {
    pub field: String,
    pub categories: Vec<&'a str>,
    pub location: Location<'a>,
    /// The word of the dataset's name that suggests security data.
    pub security_hint: Option<&'static str>,
    pub add: Option<LineToAdd<'a>>,
}

#[derive(Serialize)]
pub(crate) struct WithoutUses<'a> {
    pub name: &'a str,
    /// `sink`, or `destination`: a dataset written by a step and read by nothing.
    pub kind: &'static str,
    pub location: Location<'a>,
}

#[derive(Serialize)]
pub(crate) struct Lineage<'a> {
    pub model: &'a str,
    /// `fallback`: every upstream column is assumed to flow into every column.
    pub status: &'static str,
    pub location: Location<'a>,
    pub reason: &'a str,
}

#[derive(Serialize)]
pub(crate) struct Reach<'a> {
    pub field: String,
    pub purposes: Vec<&'a str>,
    pub location: Location<'a>,
    /// Fields (and sinks) of the datasets downstream of the field's dataset.
    pub downstream: usize,
    /// How many of them this field reaches.
    pub reached: usize,
    /// `reached / downstream`, in percent; absent when nothing is downstream.
    pub percent: Option<f64>,
    pub sinks: usize,
    /// Datasets the field reaches whose data flows on, but not from the fields it reaches.
    pub stops_at: Vec<&'a str>,
}

#[derive(Serialize)]
pub(crate) struct Report<'a> {
    pub version: u32,
    /// Declared fields with a purpose, over all formats, in percent (`--fail-under`).
    pub fields_with_purposes_percent: f64,
    pub formats: Vec<FormatCoverage>,
    pub unlabelled: Vec<Unlabelled<'a>>,
    pub without_uses: Vec<WithoutUses<'a>>,
    pub lineage: Vec<Lineage<'a>>,
    pub reach: Vec<Reach<'a>>,
}

fn percent(part: usize, whole: usize) -> f64 {
    match whole {
        0 => 100.0,
        _ => (part as f64 * 1000.0 / whole as f64).round() / 10.0,
    }
}

/// Datasets whose fields are counted: declared (not derived by a step), without uses.
fn counted(model: &Model, d: DatasetId) -> bool {
    let ds = model.dataset(d);
    !ds.implicit && ds.uses.is_empty()
}

fn format_of(formats: &[FormatSpan], d: DatasetId) -> &'static str {
    FormatSpan::of_dataset(formats, d).unwrap_or("native")
}

fn security_hint(name: &str) -> Option<(&'static str, &'static str)> {
    let lower = name.to_lowercase();
    let words = lower.split(|c: char| !c.is_ascii_alphanumeric());
    for w in words {
        if let Some(&hint) = SECURITY_HINTS.iter().find(|(h, _)| w.starts_with(h)) {
            return Some(hint);
        }
    }
    None
}

/// The line that gives field `f` a purpose, in its format's words, after the field's line.
fn line_to_add<'a>(
    model: &'a Model,
    format: &str,
    f: FieldId,
    purpose: &str,
) -> Option<LineToAdd<'a>> {
    let field = &model.fields[f as usize];
    let file = model.sources.get(field.loc.file);
    let ext = file.path.extension().and_then(|e| e.to_str()).unwrap_or("");
    if !matches!(ext, "yml" | "yaml") {
        return None;
    }
    let line = field.loc.span.start_pos.line;
    let text = file.line_text(line);
    let lead = text.len() - text.trim_start().len();
    let indent = lead
        + if text.trim_start().starts_with("- ") {
            2
        } else {
            0
        };
    let key = match format {
        "dbt" => {
            // A column that already has a block `meta:` gets the key inside it.
            if let Some((at, meta_indent)) = block_meta(file, line, indent) {
                return Some(LineToAdd {
                    file: &file.display,
                    after_line: at,
                    text: format!("{}purposes: [{purpose}]", " ".repeat(meta_indent + 2)),
                });
            }
            format!("meta: {{purposes: [{purpose}]}}")
        }
        "fides" => format!("data_purposes: [{purpose}]"),
        _ => format!("purposes: [{purpose}]"),
    };
    Some(LineToAdd {
        file: &file.display,
        after_line: line,
        text: format!("{}{key}", " ".repeat(indent)),
    })
}

/// The line and indentation of a block `meta:` key among the lines of the mapping that
/// starts at `line` (its keys at `indent`), under it or under its `config:`.
fn block_meta(file: &crate::source::SourceFile, line: u32, indent: usize) -> Option<(u32, usize)> {
    let mut n = line + 1;
    loop {
        let text = file.line_text(n);
        let trimmed = text.trim_start();
        let lead = text.len() - trimmed.len();
        if n as usize > file.text.lines().count() || (!trimmed.is_empty() && lead < indent) {
            return None;
        }
        if lead == indent && trimmed.starts_with("- ") {
            return None;
        }
        if trimmed.trim_end() == "meta:" {
            return Some((n, lead));
        }
        n += 1;
    }
}

/// Where each node's dataset (or sink) sits in the collapsed graph: datasets, then sinks.
fn collapsed(model: &Model, node: u32) -> u32 {
    match model.fields.get(node as usize) {
        Some(f) => f.dataset,
        None => model.datasets.len() as u32 + (node - model.fields.len() as u32),
    }
}

pub(crate) fn coverage<'a>(
    model: &'a Model,
    graph: &FlowGraph,
    formats: &[FormatSpan],
    findings: &'a [Finding],
) -> Report<'a> {
    let sources = &model.sources;
    // Per format, in link order.
    let mut names: Vec<&'static str> = Vec::new();
    for f in formats {
        if !names.contains(&f.name) {
            names.push(f.name);
        }
    }
    let mut per: Vec<FormatCoverage> = names
        .iter()
        .map(|&name| FormatCoverage {
            format: name,
            datasets: Counts::default(),
            fields: Counts::default(),
            sinks: SinkCounts::default(),
            derived_datasets: 0,
        })
        .collect();
    let slot = |name: &str| names.iter().position(|&n| n == name);
    let mut unlabelled = Vec::new();
    for d in 0..model.datasets.len() as DatasetId {
        let ds = model.dataset(d);
        let format = format_of(formats, d);
        let Some(i) = slot(format) else { continue };
        let c = &mut per[i];
        if !ds.uses.is_empty() {
            c.sinks.total += 1;
            c.sinks.with_uses += 1;
            continue;
        }
        if ds.implicit {
            c.derived_datasets += 1;
            continue;
        }
        let fields = ds.fields.iter().map(|&f| &model.fields[f as usize]);
        c.datasets.total += 1;
        c.datasets.with_purposes += usize::from(
            !ds.purposes.is_empty() || fields.clone().any(|f| !f.purposes().is_empty()),
        );
        c.datasets.with_categories += usize::from(
            !ds.categories.is_empty() || fields.clone().any(|f| !f.categories().is_empty()),
        );
        for &f in &ds.fields {
            let purposes = model.effective_purposes(f);
            let categories: Vec<&str> = model.effective_categories(f).collect();
            c.fields.total += 1;
            c.fields.with_purposes += usize::from(!purposes.is_empty());
            c.fields.with_categories += usize::from(!categories.is_empty());
            if !purposes.is_empty() {
                continue;
            }
            let sensitive: Vec<&str> = categories
                .iter()
                .copied()
                .filter(|cat| SENSITIVE.iter().any(|s| matches(s, cat)))
                .collect();
            if sensitive.is_empty() {
                continue;
            }
            let hint = security_hint(&ds.name);
            let purpose = hint.map_or("<the data use it was collected for>", |h| h.1);
            unlabelled.push(Unlabelled {
                field: model.field_name(f),
                categories: sensitive,
                location: location(sources, model.fields[f as usize].loc),
                security_hint: hint.map(|h| h.0),
                add: line_to_add(model, format, f, purpose),
            });
        }
    }
    for f in formats {
        let Some(i) = slot(f.name) else { continue };
        for s in f.sinks.clone() {
            per[i].sinks.total += 1;
            per[i].sinks.with_uses += usize::from(!model.sinks[s as usize].uses.is_empty());
        }
    }
    per.retain(|c| c.datasets.total + c.sinks.total + c.derived_datasets > 0);
    unlabelled.sort_by(|a, b| {
        (a.security_hint.is_none(), &a.field).cmp(&(b.security_hint.is_none(), &b.field))
    });

    let mut without_uses: Vec<WithoutUses> = model
        .sinks
        .iter()
        .filter(|s| s.uses.is_empty())
        .map(|s| WithoutUses {
            name: &s.name,
            kind: "sink",
            location: location(sources, s.loc),
        })
        .collect();
    for ds in &model.datasets {
        let read = ds.fields.iter().any(|&f| !graph.out.of(f).is_empty());
        if ds.implicit && ds.uses.is_empty() && !read && !ds.fields.is_empty() {
            without_uses.push(WithoutUses {
                name: &ds.name,
                kind: "destination",
                location: location(sources, ds.loc),
            });
        }
    }
    without_uses.sort_by(|a, b| (a.kind, a.name).cmp(&(b.kind, b.name)));

    let mut lineage: Vec<Lineage> = findings
        .iter()
        .filter(|f| f.rule == Check::IncompleteLineage.id())
        .map(|f| {
            let name = f.message.split('`').nth(1).unwrap_or("");
            let status = model
                .sql_lineage
                .iter()
                .find(|m| m.name == name)
                .map_or("fallback", |m| m.status.name());
            (f, name, status)
        })
        .map(|(f, name, status)| Lineage {
            model: name,
            status,
            location: location(sources, f.location),
            reason: f.message.split_once(": ").map_or(&f.message, |(_, r)| r),
        })
        .collect();
    lineage.sort_by(|a, b| a.model.cmp(b.model));

    let total: Counts = per.iter().fold(Counts::default(), |a, c| Counts {
        total: a.total + c.fields.total,
        with_purposes: a.with_purposes + c.fields.with_purposes,
        with_categories: a.with_categories + c.fields.with_categories,
    });
    Report {
        version: 1,
        fields_with_purposes_percent: percent(total.with_purposes, total.total),
        formats: per,
        unlabelled,
        without_uses,
        lineage,
        reach: reach(model, graph),
    }
}

/// The label reach of every annotated source field: a field with purposes of its own,
/// or with its dataset's and no flow into it (where a label enters the graph).
fn reach<'a>(model: &'a Model, graph: &FlowGraph) -> Vec<Reach<'a>> {
    let datasets = model.datasets.len();
    let collapsed_count = datasets + model.sinks.len();
    // The collapsed graph's out-lists, and the number of graph nodes in each collapsed node.
    let mut next: Vec<Vec<u32>> = vec![Vec::new(); collapsed_count];
    for f in &model.flows {
        let (a, b) = (
            model.fields[f.from as usize].dataset,
            collapsed(model, graph.node_of(f.to)),
        );
        if a != b && !next[a as usize].contains(&b) {
            next[a as usize].push(b);
        }
    }
    let size = |c: u32| match (c as usize) < datasets {
        true => model.dataset(c).fields.len(),
        false => 1,
    };
    let mut downstream_of: HashMap<DatasetId, (Vec<bool>, usize)> = HashMap::new();
    let node_count = model.fields.len() + model.sinks.len();
    let everywhere = vec![true; node_count];
    let follow = vec![Edge::Follow; model.flows.len()];
    let mut search = Search::new(node_count);
    let mut out = Vec::new();
    for f in 0..model.fields.len() as FieldId {
        let field = &model.fields[f as usize];
        let d = field.dataset;
        if !counted(model, d) {
            continue;
        }
        let own = !field.purposes().is_empty();
        let inherited = !model.dataset(d).purposes.is_empty();
        let enters = inherited && graph.incoming(f).next().is_none();
        if !(own || enters) {
            continue;
        }
        let (down, total) = downstream_of.entry(d).or_insert_with(|| {
            let mut seen = vec![false; collapsed_count];
            let mut stack = vec![d];
            while let Some(c) = stack.pop() {
                for &n in &next[c as usize] {
                    if !seen[n as usize] && n != d {
                        seen[n as usize] = true;
                        stack.push(n);
                    }
                }
            }
            let total = (0..collapsed_count as u32)
                .filter(|&c| seen[c as usize])
                .map(size)
                .sum();
            (seen, total)
        });
        let visited = search.run(graph, f, &everywhere, &follow, false);
        let mut reached = 0;
        let mut sinks = 0;
        // Per reached dataset: does any reached field flow on out of it?
        let mut flows_on: HashMap<u32, bool> = HashMap::new();
        for &v in visited {
            let c = collapsed(model, v);
            if !down[c as usize] {
                continue;
            }
            reached += 1;
            if v >= graph.field_count {
                sinks += 1;
                continue;
            }
            let on = graph.out.of(v).iter().any(|&fid| {
                let t = collapsed(model, graph.target_node(fid));
                t != c
            });
            *flows_on.entry(c).or_default() |= on;
            if !model.dataset(c).uses.is_empty() {
                sinks += 1;
            }
        }
        let mut stops_at: Vec<&str> = flows_on
            .into_iter()
            .filter(|&(c, on)| !on && !next[c as usize].is_empty())
            .map(|(c, _)| model.dataset(c).name.as_str())
            .collect();
        stops_at.sort_unstable();
        let total = *total;
        out.push(Reach {
            field: model.field_name(f),
            purposes: model.effective_purposes(f),
            location: location(&model.sources, field.loc),
            downstream: total,
            reached,
            percent: (total > 0).then(|| percent(reached, total)),
            sinks,
            stops_at,
        });
    }
    out.sort_by(|a, b| {
        let key = |r: &Reach| r.percent.unwrap_or(f64::INFINITY);
        key(a)
            .total_cmp(&key(b))
            .then_with(|| a.field.cmp(&b.field))
    });
    out
}

/// How many of the longest lists human output shows.
const SHOWN: usize = 25;

pub(crate) fn render_json(out: &mut dyn Write, report: &Report) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    writeln!(out)
}

fn share(part: usize, whole: usize) -> String {
    match whole {
        0 => "-".to_string(),
        _ => format!("{part} ({:.0}%)", percent(part, whole)),
    }
}

fn more(out: &mut dyn Write, shown: usize, all: usize) -> io::Result<()> {
    if all > shown {
        writeln!(
            out,
            "  … and {} more (--format json lists all)",
            all - shown
        )?;
    }
    Ok(())
}

pub(crate) fn render_human(out: &mut dyn Write, r: &Report) -> io::Result<()> {
    let fields: usize = r.formats.iter().map(|f| f.fields.total).sum();
    let with: usize = r.formats.iter().map(|f| f.fields.with_purposes).sum();
    writeln!(
        out,
        "{with} of {fields} declared fields have a purpose ({:.1}%).",
        r.fields_with_purposes_percent
    )?;
    writeln!(out)?;
    let w = r.formats.iter().map(|c| c.format.len()).fold(8, usize::max);
    writeln!(
        out,
        "{:w$} {:>8} {:>13} {:>15} {:>8} {:>13} {:>15} {:>6} {:>10} {:>8}",
        "format",
        "datasets",
        "with purposes",
        "with categories",
        "fields",
        "with purposes",
        "with categories",
        "sinks",
        "with uses",
        "derived"
    )?;
    for c in &r.formats {
        writeln!(
            out,
            "{:w$} {:>8} {:>13} {:>15} {:>8} {:>13} {:>15} {:>6} {:>10} {:>8}",
            c.format,
            c.datasets.total,
            share(c.datasets.with_purposes, c.datasets.total),
            share(c.datasets.with_categories, c.datasets.total),
            c.fields.total,
            share(c.fields.with_purposes, c.fields.total),
            share(c.fields.with_categories, c.fields.total),
            c.sinks.total,
            share(c.sinks.with_uses, c.sinks.total),
            c.derived_datasets
        )?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "Contact, identifier and device fields without a purpose ({}), security-sounding names first:",
        r.unlabelled.len()
    )?;
    for u in r.unlabelled.iter().take(SHOWN) {
        let hint = u
            .security_hint
            .map(|h| format!("  [name suggests security: {h}]"))
            .unwrap_or_default();
        writeln!(
            out,
            "  {} ({})  {}:{}:{}{hint}",
            u.field,
            u.categories.join(", "),
            u.location.file,
            u.location.line,
            u.location.column
        )?;
        if let Some(add) = &u.add {
            writeln!(
                out,
                "    add after {}:{}:  {}",
                add.file,
                add.after_line,
                add.text.trim_start()
            )?;
        }
    }
    more(out, SHOWN.min(r.unlabelled.len()), r.unlabelled.len())?;
    writeln!(out)?;
    writeln!(
        out,
        "Sinks and destinations without uses ({}):",
        r.without_uses.len()
    )?;
    for w in r.without_uses.iter().take(SHOWN) {
        let what = match w.kind {
            "sink" => "sink",
            _ => "destination (written by a step, read by nothing)",
        };
        writeln!(
            out,
            "  {}  {what}  {}:{}:{}",
            w.name, w.location.file, w.location.line, w.location.column
        )?;
    }
    more(out, SHOWN.min(r.without_uses.len()), r.without_uses.len())?;
    writeln!(out)?;
    writeln!(
        out,
        "dbt models with partial or fallback lineage ({}):",
        r.lineage.len()
    )?;
    for l in r.lineage.iter().take(SHOWN) {
        writeln!(
            out,
            "  {}  {}  {}:{}:{}  {}",
            l.model, l.status, l.location.file, l.location.line, l.location.column, l.reason
        )?;
    }
    more(out, SHOWN.min(r.lineage.len()), r.lineage.len())?;
    writeln!(out)?;
    writeln!(
        out,
        "Label reach: of the fields downstream of each annotated source field's dataset, those it reaches ({} sources, lowest first):",
        r.reach.len()
    )?;
    for x in r.reach.iter().take(SHOWN) {
        let share = match x.percent {
            Some(p) => format!(
                "reaches {} of {} downstream ({p:.1}%)",
                x.reached, x.downstream
            ),
            None => "nothing downstream".to_string(),
        };
        let stops = match x.stops_at.is_empty() {
            true => String::new(),
            false => format!("; stops at {}", x.stops_at.join(", ")),
        };
        let sinks = match x.sinks {
            0 => String::new(),
            1 => ", 1 sink".to_string(),
            n => format!(", {n} sinks"),
        };
        writeln!(out, "  {}  {share}{sinks}{stops}", x.field)?;
    }
    more(out, SHOWN.min(r.reach.len()), r.reach.len())
}

/// The `coverage` command; exits 1 when `--fail-under` is not met.
pub(crate) fn command(args: &crate::cli::CoverageArgs) -> u8 {
    let Ok((outcome, _)) = crate::cli::run_for_explain_with(&args.run, |opts| {
        // Lineage fallbacks are read from their diagnostics, whatever is selected.
        let id = Check::IncompleteLineage.id();
        opts.ignore.retain(|i| i != id);
        if !opts.select.is_empty() {
            opts.select.push(id.to_string());
        }
        opts.severity.remove(id);
    }) else {
        return 2;
    };
    let model = &outcome.model;
    let graph = FlowGraph::build(model);
    let report = coverage(model, &graph, &outcome.formats, &outcome.findings);
    let code = crate::cli::write_stdout(|out| match args.format {
        crate::cli::ListFormat::Json => render_json(out, &report),
        crate::cli::ListFormat::Human => render_human(out, &report),
    });
    if code != 0 {
        return code;
    }
    match args.fail_under {
        Some(p) if report.fields_with_purposes_percent < p => {
            eprintln!(
                "coverage {:.1}% is under --fail-under {p}%",
                report.fields_with_purposes_percent
            );
            1
        }
        _ => 0,
    }
}
