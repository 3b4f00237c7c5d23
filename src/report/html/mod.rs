//! `--format html`: one self-contained page (inline CSS, a little inline JS, an inline
//! SVG of the violating paths) that loads nothing: its Content-Security-Policy forbids
//! every request. Findings are grouped by rule, then by sink (or file), in collapsible
//! sections, so a run of 10,000 findings stays usable.

mod svg;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};

use crate::check::{counts, Summary};
use crate::explain::graph::{picture, Picture, Select, Shape};
use crate::finding::{Finding, Severity};
use crate::graph::FlowGraph;
use crate::model::Model;
use crate::rules::Rule;
use crate::source::{Loc, Sources};

/// More nodes than this and the picture keeps the sinks with most findings.
const PICTURE_NODES: usize = 40;
/// Up to this many findings, every group starts open.
const OPEN_ALL: usize = 50;
/// Up to this many findings, their details are in the page's markup; past it they are
/// inserted when their group is opened.
const INLINE: usize = 500;

const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'";

pub struct Input<'a> {
    pub model: &'a Model,
    pub graph: &'a FlowGraph,
    pub rules: &'a [Rule],
    pub summary: &'a Summary,
    pub findings: &'a [Finding],
}

pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn position(sources: &Sources, loc: Loc) -> String {
    crate::report::position(sources, loc)
}

/// The line of `loc` with the part it covers on that line marked.
fn snippet(out: &mut String, sources: &Sources, loc: Loc) {
    let file = sources.get(loc.file);
    let line = loc.span.start_pos.line;
    let text = file.line_text(line);
    let chars: Vec<char> = text.chars().collect();
    let start = (loc.span.start_pos.column.saturating_sub(1) as usize).min(chars.len());
    let end = match loc.span.end_pos.line == line {
        true => (loc.span.end_pos.column.saturating_sub(1) as usize).clamp(start, chars.len()),
        false => chars.len(),
    };
    let part = |a: usize, b: usize| escape(&chars[a..b].iter().collect::<String>());
    let _ = write!(
        out,
        "<pre class=\"snippet\"><span class=\"ln\">{line}</span>{}<mark>{}</mark>{}</pre>",
        part(0, start),
        part(start, end),
        part(end, chars.len())
    );
}

/// A finding's heading: severity, message, location, and the words the filter matches.
fn headline(out: &mut String, sources: &Sources, f: &Finding) {
    // The message names the source and the sink; the steps of the path are added.
    let mut q = format!("{} {} {}", f.rule, f.message, position(sources, f.location));
    for h in f.flow.iter().flat_map(|p| &p.path) {
        let _ = write!(q, " {}", h.step);
    }
    let sev = f.severity.as_str();
    let _ = write!(
        out,
        "<article class=\"finding {sev}\" data-rule=\"{}\" data-q=\"{}\"><h3><span class=\"sev\">{sev}</span>{}</h3><div class=\"where mono\">{}</div>",
        escape(&f.rule),
        escape(&q.to_lowercase()),
        escape(&f.message),
        escape(&position(sources, f.location))
    );
}

/// A finding's details: source and sink, each hop with its code, the fix.
fn body(out: &mut String, sources: &Sources, f: &Finding) {
    match &f.flow {
        Some(p) => {
            out.push_str("<dl class=\"ends\">");
            for (what, end) in [("source", &p.source), ("sink", &p.sink)] {
                let _ = write!(
                    out,
                    "<dt>{what}</dt><dd><code>{}</code> ({}) <span class=\"where mono\">{}</span>",
                    escape(&end.name),
                    escape(&end.keys.join(", ")),
                    escape(&position(sources, end.location)),
                );
                snippet(out, sources, end.location);
                out.push_str("</dd>");
            }
            out.push_str("</dl><ol class=\"path\">");
            for (i, h) in p.path.iter().enumerate() {
                let via = match h.functions.is_empty() {
                    true => String::new(),
                    false => format!(" via <code>{}</code>", escape(&h.functions.join(", "))),
                };
                let _ = write!(
                    out,
                    "<li><div class=\"hop\"><code>{}</code> → <code>{}</code><span class=\"kind {kind}\">{kind}</span>{via} <span class=\"muted\">in {}</span></div><div class=\"where mono\">{}</div>",
                    escape(&h.from),
                    escape(&h.to),
                    escape(&h.step),
                    escape(&position(sources, h.location)),
                    kind = h.flow.as_str(),
                );
                // The first hop marks the exact reference, as the terminal view does.
                let loc = match (i, f.focus) {
                    (0, Some(focus)) => focus,
                    _ => h.location,
                };
                snippet(out, sources, loc);
                out.push_str("</li>");
            }
            out.push_str("</ol>");
        }
        None => snippet(out, sources, f.focus.unwrap_or(f.location)),
    }
    if let Some(help) = &f.help {
        let _ = write!(out, "<p class=\"help\">{}</p>", escape(help));
    }
}

/// The findings of one group. Past [`INLINE`] findings in the run, their details are
/// kept packed in a `<script>` and put in place when the group opens: the browser then
/// builds 10,000 headings at load, not 10,000 snippets.
fn findings_html(out: &mut String, sources: &Sources, list: &[&Finding], inline: bool) {
    let mut deferred = String::new();
    for f in list {
        headline(out, sources, f);
        match inline {
            true => body(out, sources, f),
            false => {
                body(&mut deferred, sources, f);
                deferred.push_str(BODY_END);
            }
        }
        out.push_str("</article>");
    }
    if !inline {
        // Raw deflate and base64: 27 MB of details for 10,776 findings are 3.6 MB to
        // tokenize at load; the page inflates a group's with DecompressionStream.
        let packed = miniz_oxide::deflate::compress_to_vec(deferred.as_bytes(), 6);
        let _ = write!(
            out,
            "<script type=\"application/octet-stream\" class=\"bodies\">{}</script>",
            base64(&packed)
        );
    }
}

/// Standard base64 with padding (what `atob` reads).
fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Separates the deferred details of consecutive findings.
const BODY_END: &str = "<!--end-->";

/// Findings by (severity, rule), then by sink or file.
type Groups<'a> =
    BTreeMap<(std::cmp::Reverse<Severity>, &'a str), BTreeMap<String, Vec<&'a Finding>>>;

/// Findings by rule, then by sink (flow findings) or file (diagnostics), both sorted.
fn groups<'a>(sources: &Sources, findings: &'a [Finding]) -> Groups<'a> {
    let mut out: BTreeMap<_, BTreeMap<String, Vec<&Finding>>> = BTreeMap::new();
    for f in findings {
        let sub = match &f.flow {
            Some(p) => format!("reaches {}", p.sink.name),
            None => format!("in {}", sources.get(f.location.file).display),
        };
        out.entry((std::cmp::Reverse(f.severity), f.rule.as_str()))
            .or_default()
            .entry(sub)
            .or_default()
            .push(f);
    }
    out
}

/// The picture of the violating paths; past [`PICTURE_NODES`] nodes, only the paths into
/// the sinks with most findings. Returns the picture and how many sinks it leaves out.
fn violating_picture(input: &Input) -> (Picture, usize) {
    let flows: Vec<&Finding> = input.findings.iter().filter(|f| f.flow.is_some()).collect();
    let draw = |findings: &[Finding]| {
        let select = Select {
            fields: false,
            focus: None,
            violating_only: true,
        };
        picture(input.model, input.graph, input.rules, findings, select)
    };
    let all: Vec<Finding> = flows.iter().map(|f| (*f).clone()).collect();
    let p = draw(&all);
    if p.nodes.len() <= PICTURE_NODES {
        return (p, 0);
    }
    let mut by_sink: BTreeMap<&str, usize> = BTreeMap::new();
    for f in &flows {
        *by_sink
            .entry(&f.flow.as_ref().unwrap().sink.name)
            .or_default() += 1;
    }
    let mut ranked: Vec<(&str, usize)> = by_sink.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let mut keep = ranked.len();
    loop {
        keep = (keep / 2).max(1);
        let sinks: Vec<&str> = ranked[..keep].iter().map(|r| r.0).collect();
        let some: Vec<Finding> = all
            .iter()
            .filter(|f| sinks.contains(&f.flow.as_ref().unwrap().sink.name.as_str()))
            .cloned()
            .collect();
        let p = draw(&some);
        if p.nodes.len() <= PICTURE_NODES || keep == 1 {
            return (p, ranked.len() - keep);
        }
    }
}

fn legend(out: &mut String, p: &Picture) {
    let mut shapes: Vec<Shape> = p.nodes.iter().map(|n| n.shape).collect();
    shapes.sort();
    shapes.dedup();
    out.push_str("<ul class=\"legend\">");
    for s in shapes {
        let _ = write!(
            out,
            "<li><svg class=\"flows\" width=\"34\" height=\"20\" viewBox=\"0 0 34 20\"><g class=\"node {}\">{}</g></svg>{}</li>",
            svg::shape_class(s),
            svg::outline(s, 1.0, 1.0, 32.0, 18.0),
            escape(legend_text(s))
        );
    }
    out.push_str("<li><svg class=\"flows\" width=\"34\" height=\"20\" viewBox=\"0 0 34 20\"><path class=\"edge hot\" d=\"M2,10H32\"/></svg>on a reported path</li>");
    out.push_str("<li><svg class=\"flows\" width=\"34\" height=\"20\" viewBox=\"0 0 34 20\"><path class=\"edge\" d=\"M2,10H32\"/></svg>other flow</li>");
    out.push_str("</ul>");
}

fn legend_text(s: Shape) -> &'static str {
    match s {
        Shape::Dataset | Shape::Field => "dataset",
        Shape::Advertising => "sink used for advertising",
        Shape::ThirdParty => "sink shared with third parties",
        Shape::Marketing => "sink used for marketing",
        Shape::OtherUse => "sink with other uses",
        Shape::NoUses => "sink without uses",
    }
}

pub fn render(out: &mut dyn Write, input: &Input) -> io::Result<()> {
    let sources = &input.model.sources;
    let (errors, warnings, infos) = counts(input.findings);
    let s = input.summary;
    let mut page = String::with_capacity(4096 + input.findings.len() * 2048);
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<meta name=\"generator\" content=\"purposelint {v}\">\
<title>purposelint: {n} finding{plural}</title><style>{css}</style></head><body><main>\
<h1>purposelint report</h1><p class=\"muted\">{files} files, {manifests} manifests, {fields} fields, {flows} flows read.</p>\
<ul class=\"summary\"><li class=\"error\"><b>{errors}</b> error{pe}</li><li class=\"warning\"><b>{warnings}</b> warning{pw}</li><li class=\"info\"><b>{infos}</b> info{pi}</li></ul>",
        v = env!("CARGO_PKG_VERSION"),
        n = input.findings.len(),
        plural = if input.findings.len() == 1 { "" } else { "s" },
        css = include_str!("page.css"),
        files = s.files,
        manifests = s.manifests,
        fields = s.fields,
        flows = s.flows,
        pe = if errors == 1 { "" } else { "s" },
        pw = if warnings == 1 { "" } else { "s" },
        pi = if infos == 1 { "" } else { "s" },
    );
    if input.findings.iter().any(|f| f.flow.is_some()) {
        let (p, left_out) = violating_picture(input);
        let (drawing, _) = svg::render(&p);
        page.push_str("<h2>Violating paths</h2>");
        if left_out > 0 {
            let _ = write!(
                page,
                "<p class=\"muted\">The paths into the sinks with the most findings; {left_out} more sink{} not drawn (see <code>purposelint graph --focus NAME</code>).</p>",
                if left_out == 1 { " is" } else { "s are" }
            );
        }
        let _ = write!(page, "<div class=\"picture\">{drawing}</div>");
        legend(&mut page, &p);
    }
    page.push_str("<h2>Findings</h2>");
    if input.findings.is_empty() {
        page.push_str("<p class=\"none\">No findings.</p>");
    } else {
        let groups = groups(sources, input.findings);
        page.push_str("<div class=\"controls\"><input id=\"q\" type=\"search\" placeholder=\"Filter: field, sink, step, file, words of the message\" aria-label=\"filter findings\"><select id=\"rule\" aria-label=\"rule\"><option value=\"\">every rule</option>");
        for ((_, rule), subs) in &groups {
            let n: usize = subs.values().map(Vec::len).sum();
            let _ = write!(
                page,
                "<option value=\"{r}\">{r} ({n})</option>",
                r = escape(rule)
            );
        }
        page.push_str("</select><button id=\"expand\" type=\"button\">expand all</button><button id=\"collapse\" type=\"button\">collapse all</button><span id=\"shown\" class=\"muted\"></span></div>");
        let open = if input.findings.len() <= OPEN_ALL {
            " open"
        } else {
            ""
        };
        let inline = input.findings.len() <= INLINE;
        for ((sev, rule), subs) in &groups {
            let n: usize = subs.values().map(Vec::len).sum();
            let _ = write!(
                page,
                "<details class=\"group\"{open}><summary><span class=\"sev-{}\">{}</span> <span class=\"muted\">{}</span><span class=\"count\" data-total=\"{n}\">{n}</span></summary><div class=\"body\">",
                sev.0.as_str(),
                escape(rule),
                escape(super::rule_summary(input.rules, rule).unwrap_or("")),
            );
            for (sub, list) in subs {
                let _ = write!(
                    page,
                    "<details class=\"sub\"{open}><summary>{}<span class=\"count\" data-total=\"{n}\">{n}</span></summary>",
                    escape(sub),
                    n = list.len()
                );
                findings_html(&mut page, sources, list, inline);
                page.push_str("</details>");
            }
            page.push_str("</div></details>");
        }
    }
    let _ = writeln!(
        page,
        "<footer>Made by purposelint {} from the files above; this page makes no network request.</footer></main><script>{}</script></body></html>",
        env!("CARGO_PKG_VERSION"),
        include_str!("page.js")
    );
    out.write_all(page.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::base64;

    #[test]
    fn base64_matches_the_standard_alphabet_and_padding() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64(&[0xff, 0xfe, 0x00]), "//4A");
    }
}
