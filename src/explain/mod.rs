//! Explanations over the one model and flow graph of a run: `trace` (where a field goes,
//! or what reaches a sink) and `graph` (the flow graph as DOT or Mermaid).

pub(crate) mod graph;
pub(crate) mod trace;

use crate::graph::FlowGraph;
use crate::model::{DatasetId, FieldId, Flow, Model, Named, SinkId};
use crate::rules::engine::Edge;
use crate::rules::Rule;

/// What a NAME on the command line names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Subject {
    Field(FieldId),
    Dataset(DatasetId),
    Sink(SinkId),
}

impl Subject {
    pub(crate) fn kind(self) -> &'static str {
        match self {
            Subject::Field(_) => "field",
            Subject::Dataset(_) => "dataset",
            Subject::Sink(_) => "sink",
        }
    }

    /// The graph nodes it stands for: a field, a dataset's fields, or a sink.
    pub(crate) fn nodes(self, model: &Model, graph: &FlowGraph) -> Vec<u32> {
        match self {
            Subject::Field(f) => vec![f],
            Subject::Dataset(d) => model.dataset(d).fields.clone(),
            Subject::Sink(s) => vec![graph.field_count + s],
        }
    }
}

/// Resolves `dataset.field`, a dataset or a sink; an unknown name is an error message
/// with the closest known name.
pub(crate) fn resolve(model: &Model, name: &str) -> Result<Subject, String> {
    match model.lookup(name) {
        Some(Named::Dataset(d)) => return Ok(Subject::Dataset(d)),
        Some(Named::Sink(s)) => return Ok(Subject::Sink(s)),
        None => {}
    }
    // The longest dataset name first, as references resolve.
    let mut known_dataset = None;
    for (at, _) in name.rmatch_indices('.') {
        let Some(d) = model.dataset_id(&name[..at]) else {
            continue;
        };
        if let Some(f) = model.field_in(d, &name[at + 1..]) {
            return Ok(Subject::Field(f));
        }
        known_dataset.get_or_insert(d);
    }
    let hint = match known_dataset {
        Some(d) => {
            let prefix = &model.dataset(d).name;
            let field = &name[prefix.len() + 1..];
            crate::suggest::closest(field, model.field_names(d)).map(|f| format!("{prefix}.{f}"))
        }
        None => {
            let fields: Vec<String> = (0..model.fields.len() as FieldId)
                .map(|f| model.field_name(f))
                .collect();
            let names = model.names().chain(fields.iter().map(String::as_str));
            crate::suggest::closest(name, names).map(str::to_string)
        }
    };
    let hint = hint
        .map(|h| format!("; did you mean `{h}`?"))
        .unwrap_or_default();
    Err(format!("no field, dataset or sink `{name}`{hint}"))
}

/// The rules whose sanitizers enclose a flow: the flow is cut for them.
pub(crate) fn cut_by<'r>(rules: &'r [Rule], flow: &Flow) -> Vec<&'r str> {
    let mut ids: Vec<&str> = rules
        .iter()
        .filter(|r| r.sanitized_by(&flow.functions))
        .map(|r| r.id.as_str())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// How the searches of `trace` and `graph` treat each flow: every flow followed, or
/// (`uncut`) every flow but those a rule's sanitizer cuts.
pub(crate) fn edges(model: &Model, rules: &[Rule], uncut: bool) -> Vec<Edge> {
    model
        .flows
        .iter()
        .map(|f| {
            if uncut && rules.iter().any(|r| r.sanitized_by(&f.functions)) {
                Edge::Skip
            } else {
                Edge::Follow
            }
        })
        .collect()
}

/// Nodes reachable from `starts` over the followed edges (the starts included).
pub(crate) fn forward_reach(
    graph: &FlowGraph,
    node_count: usize,
    starts: &[u32],
    edges: &[Edge],
) -> Vec<bool> {
    let mut seen = vec![false; node_count];
    let mut stack: Vec<u32> = starts.to_vec();
    for &n in starts {
        seen[n as usize] = true;
    }
    while let Some(u) = stack.pop() {
        for &fid in graph.out.of(u) {
            if edges[fid as usize] == Edge::Skip {
                continue;
            }
            let v = graph.target_node(fid);
            if !seen[v as usize] {
                seen[v as usize] = true;
                stack.push(v);
            }
        }
    }
    seen
}

/// Whether a node is a sink: a sink, or a field of a dataset with uses.
pub(crate) fn sink_of(model: &Model, graph: &FlowGraph, node: u32) -> Option<Named> {
    if node >= graph.field_count {
        return Some(Named::Sink(node - graph.field_count));
    }
    let d = model.fields[node as usize].dataset;
    (!model.dataset(d).uses.is_empty()).then_some(Named::Dataset(d))
}

/// The name, uses and location of a sink.
pub(crate) fn sink_parts(model: &Model, sink: Named) -> (&str, &[String], crate::source::Loc) {
    match sink {
        Named::Sink(s) => {
            let s = &model.sinks[s as usize];
            (&s.name, &s.uses, s.loc)
        }
        Named::Dataset(d) => {
            let d = model.dataset(d);
            (&d.name, &d.uses, d.loc)
        }
    }
}
