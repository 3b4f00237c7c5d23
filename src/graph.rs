//! The field-level flow graph: one node per field and per sink, one edge per flow.

use petgraph::graph::{Graph, NodeIndex};
use petgraph::visit::EdgeRef;
use petgraph::Direction;
use rayon::prelude::*;

use crate::model::{FlowKind, Model, Target};

/// Edges stored in compressed rows, ordered for deterministic searches.
#[derive(Debug, Default)]
pub struct Adjacency {
    offsets: Vec<u32>,
    /// Flow ids.
    edges: Vec<u32>,
}

impl Adjacency {
    /// Rows of flow ids keyed by `node_of` (one entry per flow, in flow order), built
    /// by counting rather than by walking the graph's linked edge lists.
    fn by(node_count: usize, node_of: impl Iterator<Item = u32> + Clone) -> Self {
        let mut offsets = vec![0u32; node_count + 1];
        for n in node_of.clone() {
            offsets[n as usize + 1] += 1;
        }
        for i in 0..node_count {
            offsets[i + 1] += offsets[i];
        }
        let mut next = offsets.clone();
        let mut edges = vec![0u32; offsets[node_count] as usize];
        for (flow, n) in node_of.enumerate() {
            let slot = &mut next[n as usize];
            edges[*slot as usize] = flow as u32;
            *slot += 1;
        }
        Adjacency { offsets, edges }
    }

    pub fn of(&self, node: u32) -> &[u32] {
        let (a, b) = (self.offsets[node as usize], self.offsets[node as usize + 1]);
        &self.edges[a as usize..b as usize]
    }
}

/// Nodes `0..fields` are fields (index = field id); then one node per sink.
pub struct FlowGraph {
    /// One edge per flow, added in flow order: edge index = flow id. The reverse
    /// searches walk its incoming lists; its edges give each flow's target.
    pub graph: Graph<(), (), petgraph::Directed, u32>,
    pub field_count: u32,
    /// Outgoing flows of each node, sorted by the target's name, then kind, then flow
    /// id: the order of the forward searches, which makes their paths deterministic.
    pub out: Adjacency,
}

impl FlowGraph {
    pub fn node_of(&self, t: Target) -> u32 {
        node_index(self.field_count, t)
    }

    pub fn build(model: &Model) -> Self {
        let field_count = model.fields.len() as u32;
        let node_count = model.fields.len() + model.sinks.len();
        let node = |t: Target| node_index(field_count, t);
        // Independent: built side by side.
        let (graph, out) = rayon::join(
            || linked_graph(model, node_count, node),
            || ordered_out_rows(model, node_count, node),
        );
        FlowGraph {
            graph,
            field_count,
            out,
        }
    }

    pub fn target_node(&self, flow: u32) -> u32 {
        self.graph.raw_edges()[flow as usize].target().index() as u32
    }

    /// The flows into `node` with their source nodes, in no particular order.
    pub fn incoming(&self, node: u32) -> impl Iterator<Item = (u32, u32)> + '_ {
        self.graph
            .edges_directed(NodeIndex::new(node as usize), Direction::Incoming)
            .map(|e| (e.id().index() as u32, e.source().index() as u32))
    }
}

/// A flow target's node: fields first, then sinks.
fn node_index(field_count: u32, t: Target) -> u32 {
    match t {
        Target::Field(f) => f,
        Target::Sink(s) => field_count + s,
    }
}

fn linked_graph(
    model: &Model,
    node_count: usize,
    node: impl Fn(Target) -> u32,
) -> Graph<(), (), petgraph::Directed, u32> {
    let mut graph = Graph::with_capacity(node_count, model.flows.len());
    for _ in 0..node_count {
        graph.add_node(());
    }
    for f in &model.flows {
        let (from, to) = (f.from as usize, node(f.to) as usize);
        graph.add_edge(NodeIndex::new(from), NodeIndex::new(to), ());
    }
    graph
}

/// Outgoing flows of each node, sorted by the target's name, then kind, then flow id.
fn ordered_out_rows(
    model: &Model,
    node_count: usize,
    node: impl Fn(Target) -> u32 + Sync,
) -> Adjacency {
    let kind_rank = |k: FlowKind| match k {
        FlowKind::Direct => 0,
        FlowKind::Passthrough => 1,
        FlowKind::Indirect => 2,
    };
    let mut out = Adjacency::by(node_count, model.flows.iter().map(|f| f.from));
    // Only out-rows need an order: it makes BFS discovery order the lexicographic
    // order of paths. Rows are short, so comparing names per row is cheaper than
    // ranking every name in the graph, and rows sort independently in parallel.
    let mut rows = Vec::with_capacity(node_count);
    let mut rest = out.edges.as_mut_slice();
    for n in 0..node_count {
        let len = (out.offsets[n + 1] - out.offsets[n]) as usize;
        let (row, tail) = rest.split_at_mut(len);
        if len > 1 {
            rows.push(row);
        }
        rest = tail;
    }
    rows.par_iter_mut().for_each(|row| {
        row.sort_unstable_by(|&x, &y| {
            let (fx, fy) = (&model.flows[x as usize], &model.flows[y as usize]);
            let (tx, ty) = (node(fx.to), node(fy.to));
            cmp_names(model, tx, ty)
                .then(tx.cmp(&ty))
                .then(kind_rank(fx.kind).cmp(&kind_rank(fy.kind)))
                .then(x.cmp(&y))
        })
    });
    out
}

/// Two nodes in the order of their names. Two fields of one dataset (most targets of a
/// row) share the `dataset.` prefix, so their field names decide.
fn cmp_names(model: &Model, x: u32, y: u32) -> std::cmp::Ordering {
    if let (Some(fx), Some(fy)) = (model.fields.get(x as usize), model.fields.get(y as usize)) {
        if fx.dataset == fy.dataset {
            return fx.name.cmp(&fy.name);
        }
    }
    cmp_segments(&name_segments(model, x), &name_segments(model, y))
}

/// A node's name (`dataset.field` for fields, the name for sinks) as byte segments, so
/// that names compare without being built.
fn name_segments(model: &Model, node: u32) -> [&[u8]; 3] {
    match model.fields.get(node as usize) {
        Some(f) => [
            model.datasets[f.dataset as usize].name.as_bytes(),
            b".",
            f.name.as_bytes(),
        ],
        None => [
            model.sinks[node as usize - model.fields.len()]
                .name
                .as_bytes(),
            b"",
            b"",
        ],
    }
}

/// Compares two byte strings given as concatenated segments, a memcmp per overlapping
/// chunk: ranking a million `dataset.field` names byte by byte was a tenth of a run.
fn cmp_segments(a: &[&[u8]], b: &[&[u8]]) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let (mut i, mut j, mut oi, mut oj) = (0, 0, 0, 0);
    loop {
        while i < a.len() && oi == a[i].len() {
            (i, oi) = (i + 1, 0);
        }
        while j < b.len() && oj == b[j].len() {
            (j, oj) = (j + 1, 0);
        }
        let (sa, sb) = match (a.get(i), b.get(j)) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => (&x[oi..], &y[oj..]),
        };
        let n = sa.len().min(sb.len());
        match sa[..n].cmp(&sb[..n]) {
            Ordering::Equal => (oi, oj) = (oi + n, oj + n),
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::cmp_segments;

    #[test]
    fn segment_order_is_the_order_of_the_joined_names() {
        let names: [&[&[u8]]; 8] = [
            &[b"a", b".", b"x"],
            &[b"a.b", b".", b"c"],
            &[b"a.b.c"],
            &[b"a", b".", b"b.c"],
            &[b"ab", b".", b""],
            &[b"a.", b"", b"b"],
            &[b""],
            &[b"a.bc"],
        ];
        for x in names {
            for y in names {
                assert_eq!(
                    cmp_segments(x, y),
                    x.concat().cmp(&y.concat()),
                    "{x:?} {y:?}"
                );
            }
        }
    }
}
