//! A layered left-to-right drawing of a [`Picture`] as SVG: layers by longest path,
//! dummy nodes on long edges, barycenter sweeps against crossings, then y positions
//! pulled towards neighbours. Colours come from CSS classes, so the page's light and
//! dark themes apply; positions are integers, so the bytes are deterministic.

use std::fmt::Write as _;

use crate::explain::graph::{Picture, Shape};

const CHAR_W: f64 = 7.2; // 12px monospace advance
const SMALL_W: f64 = 6.0; // 10px monospace advance
const NODE_H: f64 = 30.0;
const USES_H: f64 = 14.0;
const V_GAP: f64 = 22.0;
const MARGIN: f64 = 12.0;

struct Laid {
    /// Layer of each node (real nodes first, then dummies).
    layer: Vec<usize>,
    /// Nodes of each layer, top to bottom.
    layers: Vec<Vec<usize>>,
    /// Per edge of the picture: the chain of nodes it passes, from its source to its target.
    chains: Vec<Vec<usize>>,
}

/// Longest-path layers over the edges with cycles broken, and dummy nodes on long edges.
fn layer(p: &Picture) -> Laid {
    let n = p.nodes.len();
    let mut succ: Vec<Vec<usize>> = vec![Vec::new(); n];
    for e in &p.edges {
        if e.from != e.to {
            succ[e.from].push(e.to);
        }
    }
    // Depth-first search in node order; an edge to a node on the stack closes a cycle
    // and is ignored for layering.
    let mut state = vec![0u8; n]; // 0 new, 1 on stack, 2 done
    let mut back: Vec<(usize, usize)> = Vec::new();
    for root in 0..n {
        if state[root] != 0 {
            continue;
        }
        let mut stack = vec![(root, 0usize)];
        state[root] = 1;
        while let Some(&mut (u, ref mut i)) = stack.last_mut() {
            if *i < succ[u].len() {
                let v = succ[u][*i];
                *i += 1;
                match state[v] {
                    0 => {
                        state[v] = 1;
                        stack.push((v, 0));
                    }
                    1 => back.push((u, v)),
                    _ => {}
                }
            } else {
                state[u] = 2;
                stack.pop();
            }
        }
    }
    let forward = |u: usize, v: usize| u != v && !back.contains(&(u, v));
    let mut indegree = vec![0usize; n];
    for e in &p.edges {
        if forward(e.from, e.to) {
            indegree[e.to] += 1;
        }
    }
    let mut layer = vec![0usize; n];
    let mut ready: Vec<usize> = (0..n).filter(|&v| indegree[v] == 0).collect();
    ready.reverse();
    while let Some(u) = ready.pop() {
        for e in p
            .edges
            .iter()
            .filter(|e| e.from == u && forward(e.from, e.to))
        {
            layer[e.to] = layer[e.to].max(layer[u] + 1);
            indegree[e.to] -= 1;
            if indegree[e.to] == 0 {
                ready.push(e.to);
            }
        }
    }
    // Sinks to the far right: a reader looks for where the data ends.
    let last = layer.iter().copied().max().unwrap_or(0);
    for (v, l) in layer.iter_mut().enumerate() {
        if succ[v].is_empty() && p.nodes[v].shape != Shape::Dataset {
            *l = last;
        }
    }
    let mut chains = Vec::with_capacity(p.edges.len());
    for e in &p.edges {
        let (a, b) = (layer[e.from], layer[e.to]);
        let mut chain = vec![e.from];
        if b > a + 1 {
            for l in a + 1..b {
                chain.push(layer.len());
                layer.push(l);
            }
        }
        chain.push(e.to);
        chains.push(chain);
    }
    let mut layers = vec![Vec::new(); last + 1];
    for (v, &l) in layer.iter().enumerate() {
        layers[l].push(v);
    }
    Laid {
        layer,
        layers,
        chains,
    }
}

/// Pairs of (upper, lower) neighbours between consecutive layers.
fn links(laid: &Laid) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for c in &laid.chains {
        for w in c.windows(2) {
            let (a, b) = (w[0], w[1]);
            if laid.layer[b] == laid.layer[a] + 1 {
                out.push((a, b));
            } else if laid.layer[a] == laid.layer[b] + 1 {
                out.push((b, a));
            }
        }
    }
    out
}

fn crossings(
    layers: &[Vec<usize>],
    pos: &[usize],
    layer: &[usize],
    links: &[(usize, usize)],
) -> usize {
    let mut total = 0;
    for l in 0..layers.len().saturating_sub(1) {
        let between: Vec<(usize, usize)> = links
            .iter()
            .filter(|&&(a, _)| layer[a] == l)
            .map(|&(a, b)| (pos[a], pos[b]))
            .collect();
        for (i, x) in between.iter().enumerate() {
            for y in &between[i + 1..] {
                if (x.0 < y.0 && x.1 > y.1) || (x.0 > y.0 && x.1 < y.1) {
                    total += 1;
                }
            }
        }
    }
    total
}

/// Orders each layer by the barycenters of its neighbours, keeping the best order seen.
fn order(laid: &mut Laid) -> usize {
    let links = links(laid);
    let count = laid.layer.len();
    let mut up: Vec<Vec<usize>> = vec![Vec::new(); count];
    let mut down: Vec<Vec<usize>> = vec![Vec::new(); count];
    for &(a, b) in &links {
        down[a].push(b);
        up[b].push(a);
    }
    let mut pos = vec![0usize; count];
    let place = |layers: &[Vec<usize>], pos: &mut [usize]| {
        for layer in layers {
            for (i, &v) in layer.iter().enumerate() {
                pos[v] = i;
            }
        }
    };
    place(&laid.layers, &mut pos);
    let mut best = (
        crossings(&laid.layers, &pos, &laid.layer, &links),
        laid.layers.clone(),
    );
    for round in 0..12 {
        let downward = round % 2 == 0;
        let order: Vec<usize> = match downward {
            true => (1..laid.layers.len()).collect(),
            false => (0..laid.layers.len().saturating_sub(1)).rev().collect(),
        };
        for l in order {
            let neighbours = if downward { &up } else { &down };
            let mut keyed: Vec<(f64, usize, usize)> = laid.layers[l]
                .iter()
                .map(|&v| {
                    let ns = &neighbours[v];
                    let bary = match ns.is_empty() {
                        true => pos[v] as f64,
                        false => ns.iter().map(|&u| pos[u] as f64).sum::<f64>() / ns.len() as f64,
                    };
                    (bary, pos[v], v)
                })
                .collect();
            keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            laid.layers[l] = keyed.into_iter().map(|k| k.2).collect();
            for (i, &v) in laid.layers[l].iter().enumerate() {
                pos[v] = i;
            }
        }
        let c = crossings(&laid.layers, &pos, &laid.layer, &links);
        if c < best.0 {
            best = (c, laid.layers.clone());
        }
    }
    laid.layers = best.1;
    best.0
}

fn node_size(p: &Picture, v: usize) -> (f64, f64) {
    let Some(n) = p.nodes.get(v) else {
        return (0.0, 0.0); // a dummy
    };
    let uses = uses_text(&n.uses);
    let w =
        (n.name.chars().count() as f64 * CHAR_W).max(uses.chars().count() as f64 * SMALL_W) + 28.0;
    let h = NODE_H + if uses.is_empty() { 0.0 } else { USES_H };
    (w.round(), h)
}

fn uses_text(uses: &[String]) -> String {
    match uses {
        [] => String::new(),
        [one] => one.clone(),
        [first, rest @ ..] => format!("{first} +{}", rest.len()),
    }
}

fn esc(s: &str) -> String {
    super::escape(s)
}

/// The drawing, and the number of edge crossings left.
pub(super) fn render(p: &Picture) -> (String, usize) {
    let mut laid = layer(p);
    let crossed = order(&mut laid);
    let count = laid.layer.len();
    let sizes: Vec<(f64, f64)> = (0..count).map(|v| node_size(p, v)).collect();
    // Column widths, and gaps wide enough for the labels of the edges leaving them.
    let layers = laid.layers.len();
    let mut width = vec![0.0f64; layers];
    let mut gap = vec![60.0f64; layers];
    for (v, &l) in laid.layer.iter().enumerate() {
        width[l] = width[l].max(sizes[v].0);
    }
    for (e, chain) in p.edges.iter().zip(&laid.chains) {
        let l = laid.layer[chain[0]].min(laid.layer[chain[1]]);
        let label = e.label(false).chars().count() as f64 * SMALL_W + 36.0;
        gap[l] = gap[l].max(label.round());
    }
    let mut x = vec![0.0f64; layers];
    let mut at = MARGIN;
    for l in 0..layers {
        x[l] = at;
        at += width[l] + gap[l];
    }
    let total_w = at - gap[layers - 1] + MARGIN;
    // y: stacked in order, then pulled towards the mean of neighbours, without overlaps.
    let mut y = vec![0.0f64; count];
    for layer in &laid.layers {
        let mut top = MARGIN;
        for &v in layer {
            y[v] = top;
            top += sizes[v].1.max(8.0) + V_GAP;
        }
    }
    let mut neighbours: Vec<Vec<usize>> = vec![Vec::new(); count];
    for chain in &laid.chains {
        for w in chain.windows(2) {
            neighbours[w[0]].push(w[1]);
            neighbours[w[1]].push(w[0]);
        }
    }
    let centre = |v: usize, y: &[f64]| y[v] + sizes[v].1 / 2.0;
    for _ in 0..8 {
        for layer in &laid.layers {
            let wanted: Vec<f64> = layer
                .iter()
                .map(|&v| match neighbours[v].is_empty() {
                    true => y[v],
                    false => {
                        let mean = neighbours[v].iter().map(|&u| centre(u, &y)).sum::<f64>()
                            / neighbours[v].len() as f64;
                        mean - sizes[v].1 / 2.0
                    }
                })
                .collect();
            let mut prev_bottom = f64::MIN;
            for (i, &v) in layer.iter().enumerate() {
                y[v] = wanted[i].max(prev_bottom + V_GAP).max(MARGIN);
                prev_bottom = y[v] + sizes[v].1.max(8.0);
            }
        }
    }
    let total_h = (0..count).map(|v| y[v] + sizes[v].1).fold(0.0, f64::max) + MARGIN;

    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg class=\"flows\" role=\"img\" aria-label=\"violating paths\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\">",
        w = total_w.round(),
        h = total_h.round()
    );
    svg.push_str(
        "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\"><path class=\"arrow\" d=\"M0,0L10,5L0,10z\"/></marker>\
<marker id=\"arrow-hot\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"6\" markerHeight=\"6\" orient=\"auto\"><path class=\"arrow hot\" d=\"M0,0L10,5L0,10z\"/></marker></defs>",
    );
    // Edges under nodes.
    let mut labels = String::new();
    for (e, chain) in p.edges.iter().zip(&laid.chains) {
        let point = |v: usize, out: bool| -> (f64, f64) {
            let l = laid.layer[v];
            let cy = centre(v, &y);
            match (p.nodes.get(v), out) {
                // Real nodes are left-aligned in their column; edges leave their right side.
                (Some(_), true) => (x[l] + sizes[v].0, cy),
                (Some(_), false) => (x[l], cy),
                (None, _) => (x[l] + width[l] / 2.0, cy),
            }
        };
        let class = match (e.violating, e.all_cut()) {
            (true, _) => "edge hot",
            (false, true) => "edge cut",
            _ => "edge",
        };
        let marker = if e.violating { "arrow-hot" } else { "arrow" };
        let mut d = String::new();
        if e.from == e.to {
            let (x0, y0) = point(e.from, true);
            let _ = write!(
                d,
                "M{:.0},{:.0}C{:.0},{:.0} {:.0},{:.0} {:.0},{:.0}",
                x0 - 10.0,
                y0 - sizes[e.from].1 / 2.0,
                x0 + 10.0,
                y0 - 50.0,
                x0 - 40.0,
                y0 - 50.0,
                x0 - 30.0,
                y0 - sizes[e.from].1 / 2.0
            );
        } else {
            for (i, w) in chain.windows(2).enumerate() {
                let (x0, y0) = point(w[0], true);
                let (x1, y1) = point(w[1], false);
                if i == 0 {
                    let _ = write!(d, "M{x0:.0},{y0:.0}");
                }
                let dx = ((x1 - x0) / 2.0).abs().max(20.0);
                let _ = write!(
                    d,
                    "C{:.0},{y0:.0} {:.0},{y1:.0} {x1:.0},{y1:.0}",
                    x0 + dx,
                    x1 - dx
                );
            }
        }
        let _ = write!(
            svg,
            "<path class=\"{class}\" d=\"{d}\" marker-end=\"url(#{marker})\"/>"
        );
        // The label sits in the middle of the first segment.
        let (x0, y0) = point(chain[0], true);
        let (x1, y1) = point(chain[1], false);
        let text = e.label(false);
        let tw = text.chars().count() as f64 * SMALL_W + 6.0;
        let (mx, my) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
        let _ = write!(
            labels,
            "<g class=\"{class} label\"><rect x=\"{:.0}\" y=\"{:.0}\" width=\"{tw:.0}\" height=\"14\" rx=\"3\"/><text x=\"{mx:.0}\" y=\"{:.0}\">{}</text></g>",
            mx - tw / 2.0,
            my - 7.0,
            my + 4.0,
            esc(&text)
        );
    }
    for (v, n) in p.nodes.iter().enumerate() {
        let (w, h) = sizes[v];
        let (x0, y0) = (x[laid.layer[v]], y[v]);
        let class = format!(
            "node {}{}",
            shape_class(n.shape),
            if n.violating { " hot" } else { "" }
        );
        let _ = write!(svg, "<g class=\"{class}\"><title>{}</title>", esc(&n.name));
        svg.push_str(&outline(n.shape, x0, y0, w, h));
        let _ = write!(
            svg,
            "<text x=\"{:.0}\" y=\"{:.0}\">{}</text>",
            x0 + w / 2.0,
            y0 + 19.0,
            esc(&n.name)
        );
        let uses = uses_text(&n.uses);
        if !uses.is_empty() {
            let _ = write!(
                svg,
                "<text class=\"uses\" x=\"{:.0}\" y=\"{:.0}\">{}</text>",
                x0 + w / 2.0,
                y0 + 33.0,
                esc(&uses)
            );
        }
        svg.push_str("</g>");
    }
    svg.push_str(&labels);
    svg.push_str("</svg>");
    (svg, crossed)
}

pub(super) fn shape_class(s: Shape) -> &'static str {
    match s {
        Shape::Dataset => "dataset",
        Shape::Field => "field",
        Shape::Advertising => "advertising",
        Shape::ThirdParty => "third-party",
        Shape::Marketing => "marketing",
        Shape::OtherUse => "other-use",
        Shape::NoUses => "no-uses",
    }
}

/// The outline of a node of `shape` in the box (x, y, w, h).
pub(super) fn outline(shape: Shape, x: f64, y: f64, w: f64, h: f64) -> String {
    let (r, b) = (x + w, y + h);
    let poly = |pts: &[(f64, f64)]| {
        let pts: Vec<String> = pts.iter().map(|(a, b)| format!("{a:.0},{b:.0}")).collect();
        format!("<polygon points=\"{}\"/>", pts.join(" "))
    };
    match shape {
        Shape::Dataset => {
            let e = 5.0;
            format!(
                "<path d=\"M{x:.0},{:.0}A{:.0},{e:.0} 0 0 1 {r:.0},{:.0}V{:.0}A{:.0},{e:.0} 0 0 1 {x:.0},{:.0}Z\"/><path class=\"rim\" d=\"M{x:.0},{:.0}A{:.0},{e:.0} 0 0 0 {r:.0},{:.0}\"/>",
                y + e,
                w / 2.0,
                y + e,
                b - e,
                w / 2.0,
                b - e,
                y + e,
                w / 2.0,
                y + e
            )
        }
        Shape::Advertising => poly(&[
            (x + 10.0, y),
            (r - 10.0, y),
            (r, y + h / 2.0),
            (r - 10.0, b),
            (x + 10.0, b),
            (x, y + h / 2.0),
        ]),
        Shape::ThirdParty => poly(&[(x + 10.0, y), (r - 10.0, y), (r, b), (x, b)]),
        Shape::Marketing => poly(&[(x + 10.0, y), (r, y), (r - 10.0, b), (x, b)]),
        Shape::OtherUse | Shape::Field => {
            format!(
                "<rect x=\"{x:.0}\" y=\"{y:.0}\" width=\"{w:.0}\" height=\"{h:.0}\" rx=\"10\"/>"
            )
        }
        Shape::NoUses => format!(
            "<rect class=\"dashed\" x=\"{x:.0}\" y=\"{y:.0}\" width=\"{w:.0}\" height=\"{h:.0}\"/>"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explain::graph::{Edge, Node};

    fn node(name: &str, shape: Shape) -> Node {
        Node {
            key: name.to_string(),
            name: name.to_string(),
            shape,
            uses: Vec::new(),
            violating: true,
            cluster: None,
        }
    }

    fn edge(from: usize, to: usize) -> Edge {
        Edge {
            from,
            to,
            kinds: [1, 0, 0],
            violating: true,
            ..Edge::default()
        }
    }

    #[test]
    fn long_edges_get_dummies_and_sinks_go_last() {
        let p = Picture {
            nodes: vec![
                node("a", Shape::Dataset),
                node("b", Shape::Dataset),
                node("ads", Shape::Advertising),
                node("c", Shape::Dataset),
            ],
            edges: vec![edge(0, 1), edge(1, 3), edge(0, 2)],
            ..Picture::default()
        };
        let mut laid = layer(&p);
        assert_eq!(&laid.layer[..4], &[0, 1, 2, 2]);
        // a → ads skips layer 1: one dummy there.
        assert_eq!(laid.chains[2], vec![0, 4, 2]);
        assert_eq!(laid.layer[4], 1);
        assert_eq!(order(&mut laid), 0);
        let (svg, crossings) = render(&p);
        assert_eq!(crossings, 0);
        assert_eq!(render(&p).0, svg);
        assert_eq!(svg.matches("<g class=\"node").count(), 4);
        assert_eq!(svg.matches("<path class=\"edge hot\"").count(), 3);
        assert!(!svg.contains("NaN") && !svg.contains("http"), "{svg}");
    }

    #[test]
    fn cycles_and_self_loops_are_drawn() {
        let p = Picture {
            nodes: vec![node("a", Shape::Dataset), node("b", Shape::Dataset)],
            edges: vec![edge(0, 1), edge(1, 0), edge(1, 1)],
            ..Picture::default()
        };
        let laid = layer(&p);
        assert_eq!(&laid.layer[..2], &[0, 1]);
        let (svg, _) = render(&p);
        assert_eq!(svg.matches("<path class=\"edge").count(), 3);
    }
}
