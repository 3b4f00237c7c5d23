//! Runs flow rules over the graph: one finding per (rule, source field, sink), each with
//! a shortest path whose ties are broken by the smallest sequence of node names.
//!
//! Per rule, one reverse search from every matching sink marks the nodes that can reach
//! one; each source is then expanded only through marked nodes. Sinks are never searched
//! pair by pair, so the cost stays linear in the part of the graph that matters.

use rayon::prelude::*;

use super::Rule;
use crate::finding::{fingerprint, Endpoint, Finding, FlowPath, Hop};
use crate::graph::FlowGraph;
use crate::model::{DatasetId, FieldId, FlowKind, Model, SinkId, StepId};
use crate::taxonomy::{matches, matches_any};

/// What a finding reaches: a sink, or a dataset that has uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SinkRef {
    Sink(SinkId),
    Dataset(DatasetId),
}

/// A finding that a reviewed `allow` entry suppresses, with the allows on its path.
#[derive(Debug, Clone)]
pub struct Suppressed {
    pub finding: Finding,
    /// (step, index into the step's allows)
    pub allows: Vec<(StepId, usize)>,
}

#[derive(Debug, Default)]
pub struct Outcome {
    pub findings: Vec<Finding>,
    pub suppressed: Vec<Suppressed>,
}

/// How a rule treats one flow.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Edge {
    Skip,
    Follow,
    /// Followed only to find suppressed findings: an `allow` for the rule is on its step.
    Allowed,
}

/// Reusable breadth-first search state; `stamp` avoids clearing arrays per source.
pub(crate) struct Search {
    stamp: Vec<u32>,
    pred: Vec<u32>,
    queue: Vec<u32>,
    run: u32,
}

const NO_PRED: u32 = u32::MAX;

impl Search {
    pub(crate) fn new(nodes: usize) -> Self {
        Search {
            stamp: vec![0; nodes],
            // Zeroed memory is mapped lazily: only the nodes a search reaches are touched.
            // A node's entry is read only after that search has set it (`run` sets the
            // start's to NO_PRED), so no other value needs writing up front.
            pred: vec![0; nodes],
            queue: Vec::new(),
            run: 0,
        }
    }

    /// Visits nodes reachable from `start` in breadth-first order. Out-edges are sorted by
    /// target name, so the first discovery of a node is over its lexicographically
    /// smallest shortest path.
    pub(crate) fn run(
        &mut self,
        graph: &FlowGraph,
        start: u32,
        expand: &[bool],
        edges: &[Edge],
        with_allowed: bool,
    ) -> &[u32] {
        if self.run == u32::MAX {
            // Stamps of earlier runs would match again after wrapping.
            self.stamp.fill(0);
            self.run = 0;
        }
        self.run += 1;
        self.queue.clear();
        self.queue.push(start);
        self.stamp[start as usize] = self.run;
        self.pred[start as usize] = NO_PRED;
        let mut head = 0;
        while head < self.queue.len() {
            let u = self.queue[head];
            head += 1;
            for &fid in graph.out.of(u) {
                match edges[fid as usize] {
                    Edge::Skip => continue,
                    Edge::Allowed if !with_allowed => continue,
                    _ => {}
                }
                let v = graph.target_node(fid);
                if !expand[v as usize] || self.stamp[v as usize] == self.run {
                    continue;
                }
                self.stamp[v as usize] = self.run;
                self.pred[v as usize] = fid;
                self.queue.push(v);
            }
        }
        &self.queue
    }

    /// The flows of the path by which the last run first reached `node`.
    pub(crate) fn path_to(&self, model: &Model, mut node: u32) -> Vec<u32> {
        let mut path = Vec::new();
        while self.pred[node as usize] != NO_PRED {
            let fid = self.pred[node as usize];
            path.push(fid);
            node = model.flows[fid as usize].from;
        }
        path.reverse();
        path
    }
}

pub fn run(model: &Model, graph: &FlowGraph, rules: &[Rule]) -> Outcome {
    let node_count = model.fields.len() + model.sinks.len();
    // One search state per thread, not per rule: its arrays are as long as the graph.
    let per_rule: Vec<Outcome> = rules
        .par_iter()
        .map_init(
            || Search::new(node_count),
            |search, rule| run_rule(model, graph, rule, search),
        )
        .collect();
    let mut out = Outcome::default();
    for o in per_rule {
        out.findings.extend(o.findings);
        out.suppressed.extend(o.suppressed);
    }
    out
}

fn run_rule(model: &Model, graph: &FlowGraph, rule: &Rule, search: &mut Search) -> Outcome {
    let mut out = Outcome::default();
    let sink_datasets: Vec<bool> = model
        .datasets
        .iter()
        .map(|d| is_sink(rule, &d.uses, &d.subjects))
        .collect();
    let sinks: Vec<bool> = model
        .sinks
        .iter()
        .map(|s| is_sink(rule, &s.uses, &s.subjects))
        .collect();
    if !sink_datasets.contains(&true) && !sinks.contains(&true) {
        return out;
    }
    let sink_at = |node: u32| -> Option<SinkRef> {
        if node < graph.field_count {
            let d = model.fields[node as usize].dataset;
            sink_datasets[d as usize].then_some(SinkRef::Dataset(d))
        } else {
            let s = node - graph.field_count;
            sinks[s as usize].then_some(SinkRef::Sink(s))
        }
    };

    let edges: Vec<Edge> = model
        .flows
        .iter()
        .map(|f| {
            if !rule.follows(f.kind) || rule.sanitized_by(&f.functions) {
                Edge::Skip
            } else if model.steps[f.step as usize]
                .allows
                .iter()
                .any(|a| a.rule == rule.id)
            {
                Edge::Allowed
            } else {
                Edge::Follow
            }
        })
        .collect();
    let any_allowed = edges.contains(&Edge::Allowed);

    let node_count = model.fields.len() + model.sinks.len();
    let reaches_sink = reverse_reach(graph, node_count, &edges, |n| sink_at(n).is_some());

    for s in 0..model.fields.len() as FieldId {
        if !reaches_sink[s as usize] || !is_source(model, rule, s) {
            continue;
        }
        let mut found: Vec<SinkRef> = Vec::new();
        let visited = search.run(graph, s, &reaches_sink, &edges, false).to_vec();
        for v in visited {
            if let Some(k) = sink_at(v) {
                if !found.contains(&k) {
                    found.push(k);
                    let path = search.path_to(model, v);
                    out.findings.push(finding(model, rule, s, k, &path));
                }
            }
        }
        if !any_allowed {
            continue;
        }
        let visited = search.run(graph, s, &reaches_sink, &edges, true).to_vec();
        for v in visited {
            if let Some(k) = sink_at(v) {
                if !found.contains(&k) {
                    found.push(k);
                    let path = search.path_to(model, v);
                    let allows = allows_on(model, rule, &path);
                    out.suppressed.push(Suppressed {
                        finding: finding(model, rule, s, k, &path),
                        allows,
                    });
                }
            }
        }
    }
    out
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// Whether a node with these uses and subjects is a sink of the rule.
fn is_sink(rule: &Rule, uses: &[String], subjects: &[String]) -> bool {
    match &rule.condition {
        Some(c) => {
            !c.uses.violating(&strs(uses)).is_empty()
                && (subjects.is_empty() || !c.subjects.violating(&strs(subjects)).is_empty())
        }
        None => uses.iter().any(|u| matches_any(&rule.sink_uses, u)),
    }
}

pub(crate) fn is_source(model: &Model, rule: &Rule, field: FieldId) -> bool {
    if let Some(c) = &rule.condition {
        let cats: Vec<&str> = model.effective_categories(field).collect();
        return !c.categories.violating(&cats).is_empty();
    }
    let purposes = model.effective_purposes(field);
    purposes
        .iter()
        .any(|p| matches_any(&rule.source_purposes, p))
        && (rule.source_categories.is_empty()
            || model
                .effective_categories(field)
                .any(|c| matches_any(&rule.source_categories, c)))
}

/// Nodes from which a sink can be reached over the rule's edges (allowed ones included).
pub(crate) fn reverse_reach(
    graph: &FlowGraph,
    node_count: usize,
    edges: &[Edge],
    is_sink: impl Fn(u32) -> bool,
) -> Vec<bool> {
    let mut seen = vec![false; node_count];
    let mut stack: Vec<u32> = (0..node_count as u32).filter(|&n| is_sink(n)).collect();
    for &n in &stack {
        seen[n as usize] = true;
    }
    while let Some(v) = stack.pop() {
        for (fid, u) in graph.incoming(v) {
            if edges[fid as usize] == Edge::Skip {
                continue;
            }
            if !seen[u as usize] {
                seen[u as usize] = true;
                stack.push(u);
            }
        }
    }
    seen
}

fn allows_on(model: &Model, rule: &Rule, path: &[u32]) -> Vec<(StepId, usize)> {
    let mut out = Vec::new();
    for &fid in path {
        let step = model.flows[fid as usize].step;
        for (i, a) in model.steps[step as usize].allows.iter().enumerate() {
            if a.rule == rule.id && !out.contains(&(step, i)) {
                out.push((step, i));
            }
        }
    }
    out
}

fn finding(model: &Model, rule: &Rule, source: FieldId, sink: SinkRef, path: &[u32]) -> Finding {
    let field = &model.fields[source as usize];
    let source_name = model.field_name(source);
    let purposes: Vec<String> = match &rule.condition {
        Some(c) => {
            let cats: Vec<&str> = model.effective_categories(source).collect();
            c.categories
                .violating(&cats)
                .into_iter()
                .map(str::to_string)
                .collect()
        }
        None => model
            .effective_purposes(source)
            .into_iter()
            .filter(|p| matches_any(&rule.source_purposes, p))
            .map(str::to_string)
            .collect(),
    };
    let (sink_name, all_uses, sink_loc) = match sink {
        SinkRef::Sink(s) => {
            let s = &model.sinks[s as usize];
            (s.name.clone(), &s.uses, s.loc)
        }
        SinkRef::Dataset(d) => {
            let d = &model.datasets[d as usize];
            (d.name.clone(), &d.uses, d.loc)
        }
    };
    let uses: Vec<String> = match &rule.condition {
        Some(c) => c
            .uses
            .violating(&strs(all_uses))
            .into_iter()
            .map(str::to_string)
            .collect(),
        None => all_uses
            .iter()
            .filter(|u| rule.sink_uses.iter().any(|s| matches(s, u)))
            .cloned()
            .collect(),
    };
    let hops: Vec<Hop> = path.iter().map(|&fid| hop(model, fid)).collect();
    // A link hop from the warehouse into a reverse-ETL table source is not where a
    // reviewer acts: the primary location is then the hop that sends the field.
    let primary = match path.first() {
        Some(&fid)
            if path.len() > 1 && model.steps[model.flows[fid as usize].step as usize].link =>
        {
            1
        }
        _ => 0,
    };
    let focus = path.get(primary).and_then(|&fid| {
        let f = &model.flows[fid as usize];
        f.focus.map(|(start, end)| crate::source::Loc {
            file: f.loc.file,
            span: model.sources.get(f.loc.file).span_of_bytes(start, end),
        })
    });
    let (location, label) = match hops.get(primary) {
        Some(h) => (h.location, hop_label(h, &field.name)),
        None => (
            field.loc,
            format!(
                "`{}` is in `{sink_name}`, which is used for {}",
                field.name,
                uses.join(", ")
            ),
        ),
    };
    // What the last step writes in the sink (a Census object) is named with it.
    let object = path.last().and_then(|&fid| {
        model.steps[model.flows[fid as usize].step as usize]
            .object
            .as_deref()
    });
    let reached = match object {
        Some(o) => format!("the `{o}` object of {sink_name}"),
        None => sink_name.clone(),
    };
    let (message, help) = if rule.condition.is_some() {
        (
            format!(
                "{source_name} ({}) reaches {reached} ({}), which {} forbids",
                purposes.join(", "),
                uses.join(", "),
                rule.summary
            ),
            format!(
                "stop this flow or change the policy rule; the path shows every hop. {}",
                rule.description
            ),
        )
    } else {
        (
            format!(
                "{source_name}, collected for {}, reaches {reached} ({})",
                purposes.join(", "),
                uses.join(", ")
            ),
            format!(
                "keep security-only data out of this flow: filter it out of the join or \
                 filter, use consented contacts instead, aggregate with count(), or record a \
                 reviewed `allow` with a reason; see `purposelint rule {}`",
                rule.id
            ),
        )
    };
    Finding {
        rule: rule.id.clone(),
        severity: rule.severity,
        message,
        location,
        focus,
        label: Some(label),
        help: Some(help),
        subject: None,
        flow: Some(FlowPath {
            fingerprint: fingerprint(&rule.id, &source_name, &sink_name),
            source: Endpoint {
                name: source_name,
                keys: purposes,
                location: field.loc,
            },
            sink: Endpoint {
                name: sink_name,
                keys: uses,
                location: sink_loc,
            },
            path: hops,
        }),
    }
}

/// One flow as a hop of a path: what `check` and `trace` print for it.
pub(crate) fn hop(model: &Model, flow: u32) -> Hop {
    let f = &model.flows[flow as usize];
    Hop {
        from: model.field_name(f.from),
        to: model.target_name(f.to),
        step: model.steps[f.step as usize].name.clone(),
        flow: f.kind,
        functions: f.functions.clone(),
        location: f.loc,
        destination_field: model.destination_fields.get(&flow).map(|d| d.to_string()),
    }
}

fn hop_label(h: &Hop, field: &str) -> String {
    let via = if h.functions.is_empty() {
        String::new()
    } else {
        format!(
            " inside {}(…{}",
            h.functions.join("("),
            ")".repeat(h.functions.len())
        )
    };
    match h.flow {
        FlowKind::Direct => format!("`{field}` flows into `{}` here{via}", h.to),
        FlowKind::Indirect => format!(
            "`{field}` is a join, filter or grouping key here{via}, so it decides what reaches `{}`",
            h.to
        ),
        FlowKind::Passthrough => format!("`{field}` is passed through to `{}` here", h.to),
    }
}
