//! `purposelint trace NAME`: every sink a field (or each field of a dataset) reaches, with
//! its shortest path; or, reversed, every source field that reaches a sink or field.
//!
//! The searches are the engine's (same edge order, same tie-breaking, same hops), run
//! over every flow instead of one rule's: first over the flows no sanitizer cuts, then
//! over all of them, so a sink reached only through a sanitizer is listed as cut.

use std::collections::HashMap;
use std::io::{self, Write};

use rustc_hash::FxHashSet;
use serde::Serialize;

use super::{cut_by, edges, sink_of, sink_parts, Subject};
use crate::finding::{Finding, Hop};
use crate::graph::FlowGraph;
use crate::model::{FieldId, FlowKind, Model, Named};
use crate::report::json::{location, Location};
use crate::rules::engine::{hop, reverse_reach, Edge, Search, Suppressed};
use crate::rules::Rule;

/// What a trace reads: one run's model, graph, rules and findings.
pub(crate) struct Input<'a> {
    pub model: &'a Model,
    pub graph: &'a FlowGraph,
    pub rules: &'a [Rule],
    pub findings: &'a [Finding],
    pub suppressed: &'a [Suppressed],
}

#[derive(Serialize)]
pub(crate) struct TraceHop<'a> {
    pub from: String,
    pub to: String,
    pub step: String,
    pub flow: FlowKind,
    pub functions: Vec<String>,
    pub location: Location<'a>,
    /// Rules whose sanitizers enclose this flow: it is cut for them.
    pub cut_by: Vec<&'a str>,
}

#[derive(Serialize)]
pub(crate) struct SubjectOut<'a> {
    pub kind: &'static str,
    pub name: String,
    pub location: Location<'a>,
}

#[derive(Serialize)]
pub(crate) struct SinkReach<'a> {
    pub name: &'a str,
    /// `sink`, or `dataset` for a dataset with uses.
    pub kind: &'static str,
    pub uses: &'a [String],
    pub location: Location<'a>,
    /// Reached only through a flow that a sanitizer cuts.
    pub cut: bool,
    /// Rules that report this source and sink.
    pub findings: Vec<&'a str>,
    /// Rules whose finding for this pair a reviewed `allow` suppresses.
    pub suppressed: Vec<&'a str>,
    pub path: Vec<TraceHop<'a>>,
}

#[derive(Serialize)]
pub(crate) struct FieldTrace<'a> {
    pub field: String,
    pub purposes: Vec<&'a str>,
    pub categories: Vec<&'a str>,
    pub location: Location<'a>,
    pub sinks: Vec<SinkReach<'a>>,
    /// Flows out of the uncut reach that a sanitizer cuts: where the trace stops.
    pub cuts: Vec<TraceHop<'a>>,
}

#[derive(Serialize)]
pub(crate) struct SourceReach<'a> {
    pub field: String,
    pub purposes: Vec<&'a str>,
    pub categories: Vec<&'a str>,
    pub location: Location<'a>,
    /// The traced node the path ends at (a field of a traced dataset, or the sink).
    pub to: String,
    pub cut: bool,
    pub findings: Vec<&'a str>,
    pub suppressed: Vec<&'a str>,
    pub path: Vec<TraceHop<'a>>,
}

#[derive(Serialize)]
#[serde(untagged)]
pub(crate) enum Report<'a> {
    Forward {
        version: u32,
        direction: &'static str,
        subject: SubjectOut<'a>,
        fields: Vec<FieldTrace<'a>>,
    },
    Reverse {
        version: u32,
        direction: &'static str,
        subject: SubjectOut<'a>,
        sources: Vec<SourceReach<'a>>,
        cuts: Vec<TraceHop<'a>>,
    },
}

/// Rules with a reported (and a suppressed) finding per (source field, sink) name pair.
type PairRules<'a> = HashMap<(&'a str, &'a str), (Vec<&'a str>, Vec<&'a str>)>;

fn pair_rules<'a>(input: &Input<'a>) -> PairRules<'a> {
    let mut out: PairRules = HashMap::new();
    let reported = input.findings.iter().map(|f| (f, false));
    let suppressed = input.suppressed.iter().map(|s| (&s.finding, true));
    for (f, is_suppressed) in reported.chain(suppressed) {
        let Some(flow) = &f.flow else { continue };
        let entry = out
            .entry((flow.source.name.as_str(), flow.sink.name.as_str()))
            .or_default();
        let list = if is_suppressed {
            &mut entry.1
        } else {
            &mut entry.0
        };
        if !list.contains(&f.rule.as_str()) {
            list.push(&f.rule);
        }
    }
    for (a, b) in out.values_mut() {
        a.sort_unstable();
        b.sort_unstable();
    }
    out
}

struct Tracer<'a> {
    input: &'a Input<'a>,
    pairs: PairRules<'a>,
    uncut: Vec<Edge>,
    all: Vec<Edge>,
    search: Search,
    node_count: usize,
}

impl<'a> Tracer<'a> {
    fn new(input: &'a Input<'a>) -> Self {
        let node_count = input.model.fields.len() + input.model.sinks.len();
        Tracer {
            input,
            pairs: pair_rules(input),
            uncut: edges(input.model, input.rules, true),
            all: edges(input.model, input.rules, false),
            search: Search::new(node_count),
            node_count,
        }
    }

    fn hop(&self, flow: u32) -> TraceHop<'a> {
        let model = self.input.model;
        let Hop {
            from,
            to,
            step,
            flow: kind,
            functions,
            location: loc,
            ..
        } = hop(model, flow);
        TraceHop {
            from,
            to,
            step,
            flow: kind,
            functions,
            location: location(&model.sources, loc),
            cut_by: cut_by(self.input.rules, &model.flows[flow as usize]),
        }
    }

    fn rules_for(&self, source: &str, sink: &str) -> (Vec<&'a str>, Vec<&'a str>) {
        self.pairs.get(&(source, sink)).cloned().unwrap_or_default()
    }

    fn forward(&mut self, source: FieldId) -> FieldTrace<'a> {
        let model = self.input.model;
        let graph = self.input.graph;
        let name = model.field_name(source);
        let everywhere = vec![true; self.node_count];
        let mut seen: FxHashSet<(bool, u32)> = FxHashSet::default();
        let mut sinks = Vec::new();
        let mut cuts = Vec::new();
        for cut in [false, true] {
            let edges = if cut { &self.all } else { &self.uncut };
            let visited = self
                .search
                .run(graph, source, &everywhere, edges, false)
                .to_vec();
            for &v in &visited {
                if !cut {
                    for &fid in graph.out.of(v) {
                        if self.uncut[fid as usize] == Edge::Skip {
                            cuts.push(self.hop(fid));
                        }
                    }
                }
                if v == source {
                    continue;
                }
                let Some(sink) = sink_of(model, graph, v) else {
                    continue;
                };
                let key = match sink {
                    Named::Sink(s) => (true, s),
                    Named::Dataset(d) => (false, d),
                };
                if !seen.insert(key) {
                    continue;
                }
                let path = self.search.path_to(model, v);
                let (sink_name, uses, loc) = sink_parts(model, sink);
                let (findings, suppressed) = self.rules_for(&name, sink_name);
                sinks.push(SinkReach {
                    name: sink_name,
                    kind: match sink {
                        Named::Sink(_) => "sink",
                        Named::Dataset(_) => "dataset",
                    },
                    uses,
                    location: location(&model.sources, loc),
                    cut,
                    findings,
                    suppressed,
                    path: path.iter().map(|&f| self.hop(f)).collect(),
                });
            }
        }
        let f = &model.fields[source as usize];
        FieldTrace {
            field: name,
            purposes: model.effective_purposes(source),
            categories: model.effective_categories(source).collect(),
            location: location(&model.sources, f.loc),
            sinks,
            cuts,
        }
    }

    fn reverse(&mut self, subject: Subject) -> (Vec<SourceReach<'a>>, Vec<TraceHop<'a>>) {
        let model = self.input.model;
        let graph = self.input.graph;
        let targets = subject.nodes(model, graph);
        let mut is_target = vec![false; self.node_count];
        for &t in &targets {
            is_target[t as usize] = true;
        }
        let via_uncut = reverse_reach(graph, self.node_count, &self.uncut, |n| {
            is_target[n as usize]
        });
        let via_any = reverse_reach(graph, self.node_count, &self.all, |n| is_target[n as usize]);
        // The sink's name when the traced thing is one, to look findings up by.
        let sink_name = match subject {
            Subject::Sink(s) => Some(model.sinks[s as usize].name.as_str()),
            Subject::Dataset(d) => Some(&model.dataset(d).name)
                .filter(|_| !model.dataset(d).uses.is_empty())
                .map(String::as_str),
            Subject::Field(f) => {
                let d = model.dataset(model.fields[f as usize].dataset);
                (!d.uses.is_empty()).then_some(d.name.as_str())
            }
        };
        let mut sources: Vec<(String, FieldId)> = (0..graph.field_count)
            .filter(|&f| via_any[f as usize] && !is_target[f as usize])
            .filter(|&f| {
                !model.effective_purposes(f).is_empty() || graph.incoming(f).next().is_none()
            })
            .map(|f| (model.field_name(f), f))
            .collect();
        sources.sort();
        let mut out = Vec::with_capacity(sources.len());
        for (name, f) in sources {
            let cut = !via_uncut[f as usize];
            let (expand, edges) = if cut {
                (&via_any, &self.all)
            } else {
                (&via_uncut, &self.uncut)
            };
            let visited = self.search.run(graph, f, expand, edges, false);
            let Some(&end) = visited.iter().find(|&&v| is_target[v as usize]) else {
                continue;
            };
            let path = self.search.path_to(model, end);
            let (findings, suppressed) = match sink_name {
                Some(sink) => self.rules_for(&name, sink),
                None => Default::default(),
            };
            let field = &model.fields[f as usize];
            let end_name = match end.checked_sub(graph.field_count) {
                Some(s) => model.sinks[s as usize].name.clone(),
                None => model.field_name(end),
            };
            out.push(SourceReach {
                purposes: model.effective_purposes(f),
                categories: model.effective_categories(f).collect(),
                location: location(&model.sources, field.loc),
                field: name,
                to: end_name,
                cut,
                findings,
                suppressed,
                path: path.iter().map(|&fid| self.hop(fid)).collect(),
            });
        }
        // Sources with findings first: those are what a reader of a sink looks for.
        out.sort_by(|a, b| {
            let quiet = |s: &SourceReach| s.findings.is_empty() && s.suppressed.is_empty();
            quiet(a).cmp(&quiet(b)).then_with(|| a.field.cmp(&b.field))
        });
        // Cut flows into the part that reaches the target uncut: where sources stop.
        let mut cut_flows: Vec<u32> = (0..model.flows.len() as u32)
            .filter(|&fid| {
                self.uncut[fid as usize] == Edge::Skip
                    && via_uncut[graph.target_node(fid) as usize]
                    && via_any[model.flows[fid as usize].from as usize]
            })
            .collect();
        cut_flows.sort_by_key(|&fid| {
            let loc = model.flows[fid as usize].loc;
            (
                model.sources.get(loc.file).display.clone(),
                loc.span.start,
                fid,
            )
        });
        let cuts = cut_flows.into_iter().map(|fid| self.hop(fid)).collect();
        (out, cuts)
    }
}

fn subject_out<'a>(model: &'a Model, subject: Subject) -> SubjectOut<'a> {
    let (name, loc) = match subject {
        Subject::Field(f) => (model.field_name(f), model.fields[f as usize].loc),
        Subject::Dataset(d) => (model.dataset(d).name.clone(), model.dataset(d).loc),
        Subject::Sink(s) => (
            model.sinks[s as usize].name.clone(),
            model.sinks[s as usize].loc,
        ),
    };
    SubjectOut {
        kind: subject.kind(),
        name,
        location: location(&model.sources, loc),
    }
}

/// Traces `subject`: forward from a field or dataset, reverse into a sink (or anything
/// when `reverse`).
pub(crate) fn trace<'a>(input: &'a Input<'a>, subject: Subject, reverse: bool) -> Report<'a> {
    let mut tracer = Tracer::new(input);
    let model = input.model;
    let reverse = reverse || matches!(subject, Subject::Sink(_));
    if reverse {
        let (sources, cuts) = tracer.reverse(subject);
        return Report::Reverse {
            version: 1,
            direction: "reverse",
            subject: subject_out(model, subject),
            sources,
            cuts,
        };
    }
    let fields = subject.nodes(model, input.graph);
    Report::Forward {
        version: 1,
        direction: "forward",
        subject: subject_out(model, subject),
        fields: fields.into_iter().map(|f| tracer.forward(f)).collect(),
    }
}

pub(crate) fn render_json(out: &mut dyn Write, report: &Report) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    writeln!(out)
}

fn at(l: &Location) -> String {
    format!("{}:{}:{}", l.file, l.line, l.column)
}

fn list(items: &[&str]) -> String {
    if items.is_empty() {
        "none".to_string()
    } else {
        items.join(", ")
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn write_hop(out: &mut dyn Write, indent: &str, n: Option<usize>, h: &TraceHop) -> io::Result<()> {
    let via = if h.functions.is_empty() {
        String::new()
    } else {
        format!(" via {}", h.functions.join(", "))
    };
    let cut = if h.cut_by.is_empty() {
        String::new()
    } else {
        format!("  [cut for {}]", h.cut_by.join(", "))
    };
    let number = n.map(|n| format!("{n}. ")).unwrap_or_default();
    writeln!(
        out,
        "{indent}{number}{}  {}  {}{via}{cut}",
        at(&h.location),
        h.step,
        h.flow.as_str()
    )?;
    let pad = " ".repeat(number.len());
    writeln!(out, "{indent}{pad}{} → {}", h.from, h.to)
}

fn write_path(out: &mut dyn Write, path: &[TraceHop]) -> io::Result<()> {
    writeln!(out, "    path ({}):", plural(path.len(), "hop", "hops"))?;
    for (i, h) in path.iter().enumerate() {
        write_hop(out, "      ", Some(i + 1), h)?;
    }
    Ok(())
}

fn write_rules(
    out: &mut dyn Write,
    cut: bool,
    findings: &[&str],
    suppressed: &[&str],
) -> io::Result<()> {
    if cut {
        writeln!(out, "    cut: reached only through a sanitizer")?;
    }
    if !findings.is_empty() {
        writeln!(out, "    finding: {}", findings.join(", "))?;
    }
    if !suppressed.is_empty() {
        writeln!(out, "    suppressed by an allow: {}", suppressed.join(", "))?;
    }
    Ok(())
}

fn write_cuts(out: &mut dyn Write, cuts: &[TraceHop]) -> io::Result<()> {
    if cuts.is_empty() {
        return Ok(());
    }
    writeln!(out, "  cut by a sanitizer ({}):", cuts.len())?;
    for h in cuts {
        write_hop(out, "    ", None, h)?;
    }
    Ok(())
}

pub(crate) fn render_human(out: &mut dyn Write, report: &Report) -> io::Result<()> {
    match report {
        Report::Forward { fields, .. } => {
            for (i, f) in fields.iter().enumerate() {
                if i > 0 {
                    writeln!(out)?;
                }
                writeln!(out, "{} ({})", f.field, list(&f.purposes))?;
                writeln!(out, "  declared at {}", at(&f.location))?;
                writeln!(out, "  reaches {}", plural(f.sinks.len(), "sink", "sinks"))?;
                for s in &f.sinks {
                    writeln!(out)?;
                    writeln!(
                        out,
                        "  {} ({})  {}",
                        s.name,
                        list(&s.uses.iter().map(String::as_str).collect::<Vec<_>>()),
                        at(&s.location)
                    )?;
                    write_rules(out, s.cut, &s.findings, &s.suppressed)?;
                    write_path(out, &s.path)?;
                }
                if !f.cuts.is_empty() {
                    writeln!(out)?;
                }
                write_cuts(out, &f.cuts)?;
            }
            Ok(())
        }
        Report::Reverse {
            subject,
            sources,
            cuts,
            ..
        } => {
            writeln!(
                out,
                "{} ({})  {}",
                subject.name,
                subject.kind,
                at(&subject.location)
            )?;
            let reported = sources.iter().filter(|s| !s.findings.is_empty()).count();
            writeln!(
                out,
                "  reached from {} ({reported} with findings)",
                plural(sources.len(), "source field", "source fields")
            )?;
            for s in sources {
                writeln!(out)?;
                writeln!(
                    out,
                    "  {} ({})  {}",
                    s.field,
                    list(&s.purposes),
                    at(&s.location)
                )?;
                write_rules(out, s.cut, &s.findings, &s.suppressed)?;
                write_path(out, &s.path)?;
            }
            if !cuts.is_empty() {
                writeln!(out)?;
            }
            write_cuts(out, cuts)
        }
    }
}

/// The `trace` command.
pub(crate) fn command(args: &crate::cli::TraceArgs) -> u8 {
    let Ok((outcome, rules)) = crate::cli::run_for_explain(&args.run) else {
        return 2;
    };
    let model = &outcome.model;
    let subject = match super::resolve(model, &args.name) {
        Ok(s) => s,
        Err(message) => {
            eprintln!("error: {message}");
            return 2;
        }
    };
    let graph = FlowGraph::build(model);
    let input = Input {
        model,
        graph: &graph,
        rules: &rules,
        findings: &outcome.findings,
        suppressed: &outcome.suppressed,
    };
    let report = trace(&input, subject, args.reverse);
    crate::cli::write_stdout(|out| match args.format {
        crate::cli::ListFormat::Json => render_json(out, &report),
        crate::cli::ListFormat::Human => render_human(out, &report),
    })
}
