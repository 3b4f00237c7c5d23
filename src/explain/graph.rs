//! `purposelint graph`: the flow graph collapsed to datasets and sinks (or field by field),
//! optionally around one name, with the flows on reported paths highlighted, as Graphviz
//! DOT or Mermaid. Nodes and edges are sorted by name, so the output is the same bytes
//! whatever the thread count.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;

use super::{cut_by, edges, forward_reach, Subject};
use crate::finding::Finding;
use crate::graph::FlowGraph;
use crate::model::{FlowKind, Model, Target};
use crate::rules::engine::reverse_reach;
use crate::rules::Rule;
use crate::taxonomy::matches;

/// What a node is drawn as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Shape {
    Dataset,
    Field,
    /// A sink (or dataset with uses) used for advertising.
    Advertising,
    ThirdParty,
    Marketing,
    /// A sink with uses that are none of the above.
    OtherUse,
    /// A sink that declares no uses.
    NoUses,
}

impl Shape {
    /// The shape of a sink with these uses: the most sensitive use wins.
    pub(crate) fn of_uses(uses: &[String]) -> Shape {
        let any = |sel: &str| uses.iter().any(|u| matches(sel, u));
        if uses.is_empty() {
            Shape::NoUses
        } else if any("marketing.advertising") {
            Shape::Advertising
        } else if any("third_party_sharing") {
            Shape::ThirdParty
        } else if any("marketing") {
            Shape::Marketing
        } else {
            Shape::OtherUse
        }
    }

    fn legend(self) -> &'static str {
        match self {
            Shape::Dataset => "dataset",
            Shape::Field => "field",
            Shape::Advertising => "sink: advertising",
            Shape::ThirdParty => "sink: third-party sharing",
            Shape::Marketing => "sink: marketing",
            Shape::OtherUse => "sink: other uses",
            Shape::NoUses => "sink: no uses declared",
        }
    }

    fn dot(self) -> &'static str {
        match self {
            Shape::Dataset => "shape=cylinder",
            Shape::Field => "shape=box",
            Shape::Advertising => "shape=hexagon",
            Shape::ThirdParty => "shape=trapezium",
            Shape::Marketing => "shape=parallelogram",
            Shape::OtherUse => "shape=box, style=rounded",
            Shape::NoUses => "shape=box, style=dashed",
        }
    }

    /// Mermaid's opening and closing brackets for the shape.
    fn mermaid(self) -> (&'static str, &'static str) {
        match self {
            Shape::Dataset => ("[(", ")]"),
            Shape::Field => ("[", "]"),
            Shape::Advertising => ("{{", "}}"),
            Shape::ThirdParty => ("[/", "\\]"),
            Shape::Marketing => ("[/", "/]"),
            Shape::OtherUse => ("([", "])"),
            Shape::NoUses => (">", "]"),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    /// Unique among the nodes: `d:`, `s:` or `f:` and the name.
    pub key: String,
    pub name: String,
    pub shape: Shape,
    pub uses: Vec<String>,
    pub violating: bool,
    /// Field level: the index of the node's dataset in [`Picture::clusters`].
    pub cluster: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Edge {
    pub from: usize,
    pub to: usize,
    /// Per kind (direct, indirect, passthrough): source fields (collapsed) or flows.
    pub kinds: [u32; 3],
    /// How many of those are cut by a sanitizer, and the sanitizing functions.
    pub cut: u32,
    pub functions: Vec<String>,
    pub violating: bool,
}

impl Edge {
    fn total(&self) -> u32 {
        self.kinds.iter().sum()
    }

    /// Every flow of the edge is cut by a sanitizer.
    pub(crate) fn all_cut(&self) -> bool {
        self.cut > 0 && self.cut == self.total()
    }

    pub(crate) fn label(&self, fields: bool) -> String {
        let mut parts = Vec::new();
        for (i, kind) in KINDS.iter().enumerate() {
            let n = self.kinds[i];
            if n == 0 {
                continue;
            }
            parts.push(match fields {
                true if n == 1 => kind.as_str().to_string(),
                _ => format!("{} {n}", kind.as_str()),
            });
        }
        let mut label = parts.join(", ");
        if !self.functions.is_empty() {
            let _ = write!(label, " via {}", self.functions.join(", "));
        }
        if self.cut > 0 {
            match fields || self.all_cut() {
                true => label.push_str(" (cut)"),
                false => {
                    let _ = write!(label, " ({} cut)", self.cut);
                }
            }
        }
        label
    }
}

const KINDS: [FlowKind; 3] = [FlowKind::Direct, FlowKind::Indirect, FlowKind::Passthrough];

fn kind_index(k: FlowKind) -> usize {
    match k {
        FlowKind::Direct => 0,
        FlowKind::Indirect => 1,
        FlowKind::Passthrough => 2,
    }
}

/// The graph to draw.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Picture {
    pub fields: bool,
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
    /// Field level: the datasets drawn as boxes around their fields, with their shapes.
    pub clusters: Vec<(String, Shape)>,
}

/// What to draw.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Select {
    /// Field by field instead of dataset by dataset.
    pub fields: bool,
    /// Only what reaches, or is reached from, this.
    pub focus: Option<Subject>,
    /// Only flows on the paths of reported findings.
    pub violating_only: bool,
}

/// The flows on the paths of `findings`: matched by location, kind and end names.
pub(crate) fn violating_flows(model: &Model, findings: &[Finding]) -> Vec<bool> {
    let mut hops: HashMap<(u32, u32), Vec<&crate::finding::Hop>> = HashMap::new();
    for f in findings {
        for h in f.flow.iter().flat_map(|p| &p.path) {
            let key = (h.location.file, h.location.span.start);
            hops.entry(key).or_default().push(h);
        }
    }
    model
        .flows
        .iter()
        .map(|f| {
            let Some(candidates) = hops.get(&(f.loc.file, f.loc.span.start)) else {
                return false;
            };
            let (from, to) = (model.field_name(f.from), model.target_name(f.to));
            candidates
                .iter()
                .any(|h| h.flow == f.kind && h.from == from && h.to == to)
        })
        .collect()
}

/// A node's (name, key): the order nodes are drawn in.
type NodeKey = (String, String);
/// A node's shape, uses and (field level) dataset.
type NodeInfo = (Shape, Vec<String>, Option<String>);

/// What the flows between two nodes add up to.
#[derive(Default)]
struct Acc {
    /// Per kind, the source fields (collapsed counts) and the flows (field level).
    sources: [BTreeSet<u32>; 3],
    flows: [u32; 3],
    cut_sources: BTreeSet<u32>,
    cut_flows: u32,
    functions: BTreeSet<String>,
    violating: bool,
}

/// Builds the picture of `model` that `select` asks for.
pub(crate) fn picture(
    model: &Model,
    graph: &FlowGraph,
    rules: &[Rule],
    findings: &[Finding],
    select: Select,
) -> Picture {
    let node_count = model.fields.len() + model.sinks.len();
    let violating = violating_flows(model, findings);
    let all = edges(model, rules, false);
    let keep_flow: Vec<bool> = match select.focus {
        Some(subject) => {
            let nodes = subject.nodes(model, graph);
            let down = forward_reach(graph, node_count, &nodes, &all);
            let mut is_focus = vec![false; node_count];
            for &n in &nodes {
                is_focus[n as usize] = true;
            }
            let up = reverse_reach(graph, node_count, &all, |n| is_focus[n as usize]);
            (0..model.flows.len() as u32)
                .map(|fid| {
                    let (a, b) = (
                        model.flows[fid as usize].from as usize,
                        graph.target_node(fid) as usize,
                    );
                    (down[a] && down[b]) || (up[a] && up[b])
                })
                .collect()
        }
        None => vec![true; model.flows.len()],
    };
    let keep = |fid: usize| keep_flow[fid] && (!select.violating_only || violating[fid]);

    // Node keys, each with what it is; a BTreeMap keeps them sorted by name.
    let mut nodes: BTreeMap<NodeKey, NodeInfo> = BTreeMap::new();
    let dataset_node = |d: u32| {
        let ds = model.dataset(d);
        let shape = match ds.uses.is_empty() {
            true => Shape::Dataset,
            false => Shape::of_uses(&ds.uses),
        };
        (
            (ds.name.clone(), format!("d:{}", ds.name)),
            shape,
            ds.uses.clone(),
        )
    };
    let sink_node = |s: u32| {
        let sink = &model.sinks[s as usize];
        (
            (sink.name.clone(), format!("s:{}", sink.name)),
            Shape::of_uses(&sink.uses),
            sink.uses.clone(),
        )
    };
    let field_node = |f: u32| {
        let name = model.field_name(f);
        let ds = model.dataset(model.fields[f as usize].dataset);
        (
            (name.clone(), format!("f:{name}")),
            Shape::Field,
            Vec::new(),
            Some(ds.name.clone()),
        )
    };
    // The node key of a flow end.
    let key_of = |t: Target| -> NodeKey {
        match (t, select.fields) {
            (Target::Sink(s), _) => sink_node(s).0,
            (Target::Field(f), true) => field_node(f).0,
            (Target::Field(f), false) => dataset_node(model.fields[f as usize].dataset).0,
        }
    };
    let add = |t: Target, nodes: &mut BTreeMap<_, _>| match (t, select.fields) {
        (Target::Sink(s), _) => {
            let (k, shape, uses) = sink_node(s);
            nodes.entry(k).or_insert((shape, uses, None));
        }
        (Target::Field(f), true) => {
            let (k, shape, uses, cluster) = field_node(f);
            nodes.entry(k).or_insert((shape, uses, cluster));
        }
        (Target::Field(f), false) => {
            let (k, shape, uses) = dataset_node(model.fields[f as usize].dataset);
            nodes.entry(k).or_insert((shape, uses, None));
        }
    };
    let everything = select.focus.is_none() && !select.violating_only;
    if everything {
        for s in 0..model.sinks.len() as u32 {
            add(Target::Sink(s), &mut nodes);
        }
        match select.fields {
            true => (0..model.fields.len() as u32).for_each(|f| add(Target::Field(f), &mut nodes)),
            false => {
                for d in 0..model.datasets.len() as u32 {
                    let (k, shape, uses) = dataset_node(d);
                    nodes.entry(k).or_insert((shape, uses, None));
                }
            }
        }
    }
    if let Some(subject) = select.focus.filter(|_| !select.violating_only) {
        match subject {
            Subject::Sink(s) => add(Target::Sink(s), &mut nodes),
            Subject::Field(f) => add(Target::Field(f), &mut nodes),
            Subject::Dataset(d) => {
                for &f in &model.dataset(d).fields {
                    add(Target::Field(f), &mut nodes);
                }
            }
        }
    }

    let mut acc: BTreeMap<(NodeKey, NodeKey), Acc> = BTreeMap::new();
    for (fid, f) in model.flows.iter().enumerate() {
        if !keep(fid) {
            continue;
        }
        add(Target::Field(f.from), &mut nodes);
        add(f.to, &mut nodes);
        let key = (key_of(Target::Field(f.from)), key_of(f.to));
        let entry = acc.entry(key).or_default();
        let k = kind_index(f.kind);
        entry.sources[k].insert(f.from);
        entry.flows[k] += 1;
        if !cut_by(rules, f).is_empty() {
            entry.cut_sources.insert(f.from);
            entry.cut_flows += 1;
        }
        if select.fields {
            entry.functions.extend(f.functions.iter().cloned());
        }
        entry.violating |= violating[fid];
    }

    let index: HashMap<&NodeKey, usize> = nodes.keys().enumerate().map(|(i, k)| (k, i)).collect();
    let mut clusters: Vec<(String, Shape)> = Vec::new();
    let mut cluster_of: HashMap<String, usize> = HashMap::new();
    let mut out_nodes: Vec<Node> = Vec::with_capacity(nodes.len());
    for ((name, key), (shape, uses, cluster)) in &nodes {
        let cluster = cluster.as_ref().map(|ds| {
            *cluster_of.entry(ds.clone()).or_insert_with(|| {
                let d = model.dataset_id(ds).map(|d| model.dataset(d));
                let shape = match d {
                    Some(d) if !d.uses.is_empty() => Shape::of_uses(&d.uses),
                    _ => Shape::Dataset,
                };
                clusters.push((ds.clone(), shape));
                clusters.len() - 1
            })
        });
        out_nodes.push(Node {
            key: key.clone(),
            name: name.clone(),
            shape: *shape,
            uses: uses.clone(),
            violating: false,
            cluster,
        });
    }
    let mut out_edges = Vec::with_capacity(acc.len());
    for ((from, to), a) in acc {
        let (from, to) = (index[&from], index[&to]);
        let (kinds, cut) = match select.fields {
            true => (a.flows, a.cut_flows),
            false => (
                a.sources.map(|s| s.len() as u32),
                a.cut_sources.len() as u32,
            ),
        };
        let (functions, violating) = (a.functions, a.violating);
        if violating {
            out_nodes[from].violating = true;
            out_nodes[to].violating = true;
        }
        out_edges.push(Edge {
            from,
            to,
            kinds,
            cut,
            functions: functions.into_iter().collect(),
            violating,
        });
    }
    Picture {
        fields: select.fields,
        nodes: out_nodes,
        edges: out_edges,
        clusters,
    }
}

const RED: &str = "#d62728";
const GREY: &str = "#7f7f7f";

fn dot_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A node's text: the name (a field's own name inside its dataset's box) and its uses.
fn node_text(p: &Picture, n: &Node) -> (String, Option<String>) {
    let name = match n.cluster {
        Some(c) => n.name[p.clusters[c].0.len() + 1..].to_string(),
        None => n.name.clone(),
    };
    let uses = (!n.uses.is_empty()).then(|| n.uses.join(", "));
    (name, uses)
}

/// The shapes that occur, for the legend.
fn shapes(p: &Picture) -> Vec<Shape> {
    let set: BTreeSet<Shape> = p
        .nodes
        .iter()
        .map(|n| n.shape)
        .chain(p.clusters.iter().map(|c| c.1))
        .collect();
    set.into_iter().collect()
}

pub(crate) fn dot(p: &Picture) -> String {
    let mut out = String::new();
    out.push_str(
        "digraph purposelint {\n  rankdir=LR;\n  node [fontsize=11];\n  edge [fontsize=9];\n",
    );
    let node_line = |out: &mut String, n: &Node, indent: &str| {
        let (name, uses) = node_text(p, n);
        let label = match uses {
            Some(u) => format!("{name}\n({u})"),
            None => name,
        };
        let style = if n.violating {
            format!(", color=\"{RED}\", penwidth=2")
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "{indent}{} [label={}, {}{style}];",
            dot_quote(&n.key),
            dot_quote(&label),
            n.shape.dot()
        );
    };
    for (c, (name, shape)) in p.clusters.iter().enumerate() {
        let _ = writeln!(out, "  subgraph cluster_{c} {{");
        let style = match shape {
            Shape::Dataset => String::new(),
            _ => " style=dashed;".to_string(),
        };
        let _ = writeln!(out, "    label={};{style}", dot_quote(name));
        for n in p.nodes.iter().filter(|n| n.cluster == Some(c)) {
            node_line(&mut out, n, "    ");
        }
        out.push_str("  }\n");
    }
    for n in p.nodes.iter().filter(|n| n.cluster.is_none()) {
        node_line(&mut out, n, "  ");
    }
    for e in &p.edges {
        let mut attrs = vec![format!("label={}", dot_quote(&e.label(p.fields)))];
        if e.violating {
            attrs.push(format!(
                "color=\"{RED}\", fontcolor=\"{RED}\", penwidth=2.5"
            ));
        }
        if e.all_cut() {
            attrs.push(format!("style=dashed, color=\"{GREY}\""));
        }
        let _ = writeln!(
            out,
            "  {} -> {} [{}];",
            dot_quote(&p.nodes[e.from].key),
            dot_quote(&p.nodes[e.to].key),
            attrs.join(", ")
        );
    }
    // The legend: one node per shape drawn, and the edge styles in use.
    out.push_str("  subgraph cluster_legend {\n    label=\"Legend\";\n    fontsize=10;\n");
    for (i, s) in shapes(p).into_iter().enumerate() {
        let _ = writeln!(
            out,
            "    \"legend:{i}\" [label={}, {}, fontsize=9];",
            dot_quote(s.legend()),
            s.dot()
        );
    }
    let styles = edge_styles(p);
    for (i, (label, violating, cut)) in styles.iter().enumerate() {
        let _ = writeln!(
            out,
            "    \"legend:edge{i}a\" [label=\"\", shape=point]; \"legend:edge{i}b\" [label=\"\", shape=point];"
        );
        let mut attrs = vec![format!("label={}", dot_quote(label))];
        if *violating {
            attrs.push(format!(
                "color=\"{RED}\", fontcolor=\"{RED}\", penwidth=2.5"
            ));
        }
        if *cut {
            attrs.push(format!("style=dashed, color=\"{GREY}\""));
        }
        let _ = writeln!(
            out,
            "    \"legend:edge{i}a\" -> \"legend:edge{i}b\" [{}];",
            attrs.join(", ")
        );
    }
    out.push_str("  }\n}\n");
    out
}

/// The edge styles drawn, for the legend: (label, violating, cut).
fn edge_styles(p: &Picture) -> Vec<(&'static str, bool, bool)> {
    let mut out = Vec::new();
    if p.edges.iter().any(|e| e.violating) {
        out.push(("on a reported path", true, false));
    }
    if p.edges.iter().any(|e| !e.violating && !e.all_cut()) {
        out.push(("flow", false, false));
    }
    if p.edges.iter().any(Edge::all_cut) {
        out.push(("cut by a sanitizer", false, true));
    }
    out
}

/// Text inside a quoted Mermaid label.
fn mermaid_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '#' => out.push_str("#35;"),
            c => out.push(c),
        }
    }
    out
}

pub(crate) fn mermaid(p: &Picture) -> String {
    let mut out = String::from("flowchart LR\n");
    let node_line = |out: &mut String, i: usize, n: &Node, indent: &str| {
        let (name, uses) = node_text(p, n);
        let label = match uses {
            Some(u) => format!("{}<br/>({})", mermaid_text(&name), mermaid_text(&u)),
            None => mermaid_text(&name),
        };
        let (open, close) = n.shape.mermaid();
        let _ = writeln!(out, "{indent}n{i}{open}\"{label}\"{close}");
    };
    for (c, (name, _)) in p.clusters.iter().enumerate() {
        let _ = writeln!(out, "  subgraph c{c}[\"{}\"]", mermaid_text(name));
        for (i, n) in p
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| n.cluster == Some(c))
        {
            node_line(&mut out, i, n, "    ");
        }
        out.push_str("  end\n");
    }
    for (i, n) in p
        .nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| n.cluster.is_none())
    {
        node_line(&mut out, i, n, "  ");
    }
    let mut red = Vec::new();
    let mut grey = Vec::new();
    for (i, e) in p.edges.iter().enumerate() {
        let arrow = if e.all_cut() { "-.->" } else { "-->" };
        let _ = writeln!(
            out,
            "  n{} {arrow}|\"{}\"| n{}",
            e.from,
            mermaid_text(&e.label(p.fields)),
            e.to
        );
        if e.violating {
            red.push(i);
        } else if e.all_cut() {
            grey.push(i);
        }
    }
    out.push_str("  subgraph legend[\"Legend\"]\n");
    for (i, s) in shapes(p).into_iter().enumerate() {
        let (open, close) = s.mermaid();
        let _ = writeln!(out, "    legend{i}{open}\"{}\"{close}", s.legend());
    }
    for (i, (label, violating, cut)) in edge_styles(p).into_iter().enumerate() {
        let link = p.edges.len() + i;
        let arrow = if cut { "-.->" } else { "-->" };
        let _ = writeln!(
            out,
            "    legend_edge{i}a[\" \"] {arrow}|\"{label}\"| legend_edge{i}b[\" \"]"
        );
        if violating {
            red.push(link);
        } else if cut {
            grey.push(link);
        }
    }
    out.push_str("  end\n");
    let list = |v: &[usize]| v.iter().map(usize::to_string).collect::<Vec<_>>().join(",");
    if !red.is_empty() {
        let _ = writeln!(
            out,
            "  linkStyle {} stroke:{RED},stroke-width:3px,color:{RED}",
            list(&red)
        );
    }
    if !grey.is_empty() {
        let _ = writeln!(out, "  linkStyle {} stroke:{GREY}", list(&grey));
    }
    let hot: Vec<String> = p
        .nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| n.violating)
        .map(|(i, _)| format!("n{i}"))
        .collect();
    if !hot.is_empty() {
        let _ = writeln!(out, "  classDef violating stroke:{RED},stroke-width:3px");
        let _ = writeln!(out, "  class {} violating", hot.join(","));
    }
    out
}

/// The `graph` command.
pub(crate) fn command(args: &crate::cli::GraphArgs) -> u8 {
    let Ok((outcome, rules)) = crate::cli::run_for_explain(&args.run) else {
        return 2;
    };
    let model = &outcome.model;
    let focus = match &args.focus {
        Some(name) => match super::resolve(model, name) {
            Ok(s) => Some(s),
            Err(message) => {
                eprintln!("error: {message}");
                return 2;
            }
        },
        None => None,
    };
    let graph = FlowGraph::build(model);
    let select = Select {
        fields: args.fields,
        focus,
        violating_only: false,
    };
    let p = picture(model, &graph, &rules, &outcome.findings, select);
    let text = match args.format {
        crate::cli::GraphFormat::Dot => dot(&p),
        crate::cli::GraphFormat::Mermaid => mermaid(&p),
    };
    crate::cli::write_output(args.output_file.as_deref(), |out| {
        out.write_all(text.as_bytes())
    })
}
