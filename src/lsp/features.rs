//! Hover, go-to-definition, the `allow` code action and completion.

use std::collections::HashMap;

use lsp_types::{
    CodeAction, CodeActionKind, CompletionItem, CompletionItemKind, CompletionTextEdit, Diagnostic,
    Hover, HoverContents, Location, MarkupContent, MarkupKind, Position, Range, TextEdit, Uri,
    WorkspaceEdit,
};

use super::convert::{self, Encoding};
use super::diagnostics::UriOf;
use crate::finding::Finding;
use crate::model::{FieldId, Model, Named, SymbolTarget};
use crate::session::View;
use crate::source::{FileId, SourceFile};
use crate::taxonomy::{Taxonomy, Tree};
use crate::yaml::{self, Node, Yaml};

fn code_list(items: &[impl AsRef<str>]) -> String {
    if items.is_empty() {
        return "none".to_string();
    }
    items
        .iter()
        .map(|s| format!("`{}`", s.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Findings and suppressed findings, with how each was allowed.
fn all_findings(view: &View) -> Vec<(&Finding, Option<String>)> {
    let mut out: Vec<(&Finding, Option<String>)> =
        view.findings.iter().map(|f| (f, None)).collect();
    for (f, steps) in &view.allowed {
        out.push((f, Some(steps.join(", "))));
    }
    out
}

fn flow_line(f: &Finding, allowed: &Option<String>, other: &str) -> String {
    let hops = f.flow.as_ref().map_or(0, |fl| fl.path.len());
    let allowed = allowed
        .as_ref()
        .map(|s| format!(" — allowed in step `{s}`"))
        .unwrap_or_default();
    format!(
        "- `{other}` under `{}` ({}, {hops} hop{}){allowed}\n",
        f.rule,
        f.severity.as_str(),
        if hops == 1 { "" } else { "s" }
    )
}

fn hover_field(view: &View, model: &Model, id: FieldId) -> String {
    let f = &model.fields[id as usize];
    let name = model.field_name(id);
    let cats: Vec<&str> = model.effective_categories(id).collect();
    let mut s = format!(
        "**field** `{name}`\n\n- categories: {}\n- purposes: {}\n- declared at {}\n",
        code_list(&cats),
        code_list(&model.effective_purposes(id)),
        model.sources.file_line(f.loc)
    );
    let reaches: Vec<String> = all_findings(view)
        .into_iter()
        .filter_map(|(fd, allowed)| {
            let flow = fd.flow.as_ref()?;
            (flow.source.name == name).then(|| flow_line(fd, &allowed, &flow.sink.name))
        })
        .collect();
    if !reaches.is_empty() {
        s.push_str("\n**reaches**\n\n");
        s.extend(reaches);
    }
    s
}

fn hover_named(view: &View, model: &Model, named: Named) -> String {
    let (mut s, name) = match named {
        Named::Dataset(d) => {
            let ds = model.dataset(d);
            let fields: Vec<&str> = model.field_names(d).collect();
            let origin = if ds.implicit {
                format!("written by the step at {}", model.sources.file_line(ds.loc))
            } else {
                format!("declared at {}", model.sources.file_line(ds.loc))
            };
            let mut s = format!(
                "**dataset** `{}`\n\n- purposes: {}\n- categories: {}\n",
                ds.name,
                code_list(&ds.purposes),
                code_list(&ds.categories)
            );
            if !ds.uses.is_empty() {
                s.push_str(&format!("- uses: {}\n", code_list(&ds.uses)));
            }
            s.push_str(&format!("- fields: {}\n- {origin}\n", code_list(&fields)));
            (s, ds.name.clone())
        }
        Named::Sink(k) => {
            let sink = &model.sinks[k as usize];
            let s = format!(
                "**sink** `{}`\n\n- uses: {}\n- declared at {}\n",
                sink.name,
                code_list(&sink.uses),
                model.sources.file_line(sink.loc)
            );
            (s, sink.name.clone())
        }
    };
    let reached: Vec<String> = all_findings(view)
        .into_iter()
        .filter_map(|(fd, allowed)| {
            let flow = fd.flow.as_ref()?;
            (flow.sink.name == name).then(|| flow_line(fd, &allowed, &flow.source.name))
        })
        .collect();
    if !reached.is_empty() {
        s.push_str("\n**reached by**\n\n");
        s.extend(reached);
    }
    s
}

fn hover_key(tax: &Taxonomy, tree: Tree, key: &str) -> String {
    match tax.label(tree, key) {
        Some(label) => format!("`{key}` — {label} ({})", tree.noun()),
        None => format!("`{key}` is not a known {}", tree.noun()),
    }
}

/// The taxonomy key under the cursor, if the word there is one.
fn key_at<'t>(
    text: &'t str,
    offset: usize,
    tax: &Taxonomy,
) -> Option<(usize, usize, Tree, &'t str)> {
    let is_key_char = |c: char| c.is_alphanumeric() || matches!(c, '.' | '_' | '-');
    let offset = offset.min(text.len());
    let start = text[..offset]
        .char_indices()
        .rev()
        .take_while(|&(_, c)| is_key_char(c))
        .last()
        .map_or(offset, |(i, _)| i);
    let end = text[offset..]
        .char_indices()
        .find(|&(_, c)| !is_key_char(c))
        .map_or(text.len(), |(i, _)| offset + i);
    let word = text.get(start..end)?;
    [Tree::DataUse, Tree::DataCategory]
        .into_iter()
        .find(|&tree| tax.contains(tree, word))
        .map(|tree| (start, end, tree, word))
}

fn hover_step(model: &Model, step: u32) -> String {
    let s = &model.steps[step as usize];
    let mut text = format!(
        "**step** `{}`\n\n- declared at {}\n",
        s.name,
        model.sources.file_line(s.loc)
    );
    for a in &s.allows {
        text.push_str(&format!("- allows `{}`: {}\n", a.rule, a.reason));
    }
    text
}

pub fn hover(
    view: &View,
    tax: &Taxonomy,
    file: FileId,
    pos: Position,
    enc: Encoding,
) -> Option<Hover> {
    let model = view.model_of(file);
    let src = model.sources.get(file);
    let offset = convert::file_offset(src, pos, enc);
    let (start, end, text) = match model.symbol_at(file, offset) {
        Some(sym) => {
            let text = match sym.target {
                SymbolTarget::Field(f) => hover_field(view, model, f),
                SymbolTarget::Dataset(d) => hover_named(view, model, Named::Dataset(d)),
                SymbolTarget::Sink(k) => hover_named(view, model, Named::Sink(k)),
                SymbolTarget::Step(s) => hover_step(model, s),
            };
            (sym.start, sym.end, text)
        }
        None => {
            let (start, end, tree, key) = key_at(&src.text, offset as usize, tax)?;
            (start as u32, end as u32, hover_key(tax, tree, key))
        }
    };
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value: text,
        }),
        range: Some(Range {
            start: convert::position(src, start, enc),
            end: convert::position(src, end, enc),
        }),
    })
}

pub fn definition(
    view: &View,
    uris: &impl UriOf,
    file: FileId,
    pos: Position,
    enc: Encoding,
) -> Option<Location> {
    let model = view.model_of(file);
    let src = model.sources.get(file);
    let symbol = model.symbol_at(file, convert::file_offset(src, pos, enc))?;
    let loc = model.declaration_of(symbol.target);
    Some(Location {
        uri: uris.uri_of(&model.sources, loc.file),
        range: convert::range(model.sources.get(loc.file), loc.span, enc),
    })
}

/// The last scalar of a node, where a new key can follow on the next line.
fn last_end(n: Node) -> u32 {
    let last = match (n.entries(), n.items()) {
        (Some(entries), _) => entries.last().map(|(_, v)| v),
        (_, Some(items)) => items.last(),
        _ => None,
    };
    last.map_or(n.span().end, last_end)
}

/// Byte offset of the start of the line after `at` (or the end of the text).
fn next_line(text: &str, at: u32) -> (usize, bool) {
    let at = (at as usize).min(text.len());
    if at > 0 && text.as_bytes()[at - 1] == b'\n' {
        return (at, false);
    }
    match text[at..].find('\n') {
        Some(i) => (at + i + 1, false),
        None => (text.len(), true),
    }
}

fn find_step(docs: &Yaml, name_start: u32) -> Option<Node<'_>> {
    docs.documents()
        .filter(|d| d.get("kind").and_then(|k| k.as_str()) == Some("pipeline"))
        .filter_map(|d| d.get("steps")?.items())
        .flatten()
        .find(|s| s.get("name").is_some_and(|n| n.span().start == name_start))
}

pub const REASON_PLACEHOLDER: &str = "TODO: why this flow is acceptable (review reference)";

/// Byte offset and text that add an `allow` entry for `rule` to the step named at `name_start`.
pub fn allow_insertion(
    src: &SourceFile,
    name_start: u32,
    rule: &str,
) -> Option<(usize, usize, String)> {
    let docs = yaml::parse(src).ok()?;
    let step = find_step(&docs, name_start)?;
    let (first_key, _) = step.entries()?.next()?;
    let text = &*src.text;
    let key_line = src.line_text(first_key.span().start_pos.line);
    let key_col = first_key.span().start_pos.column as usize - 1;
    let prefix: String = key_line.chars().take(key_col).collect();
    // Flow-style steps ({name: x, ...}) are left alone.
    if prefix.trim_end().ends_with('{') || prefix.trim_end().ends_with(',') {
        return None;
    }
    let indent = " ".repeat(key_col);
    let entry =
        |dash: &str| format!("{dash}- rule: {rule}\n{dash}  reason: \"{REASON_PLACEHOLDER}\"\n");
    let allow = step.entries()?.find(|(k, _)| k.as_str() == Some("allow"));
    match allow {
        Some((k, v)) => match v.items().map(|mut items| items.next()) {
            Some(Some(first)) => {
                let line = src.line_text(first.span().start_pos.line);
                let trimmed = line.trim_start();
                if !trimmed.starts_with('-') {
                    return None; // a flow list: `allow: [...]`
                }
                let dash_col = line.len() - trimmed.len();
                let (at, eof) = next_line(text, last_end(v));
                let nl = if eof { "\n" } else { "" };
                Some((at, at, format!("{nl}{}", entry(&" ".repeat(dash_col)))))
            }
            Some(None) | None
                if (v.items().is_some() || v.is_null())
                    && v.span().start_pos.line == k.span().start_pos.line =>
            {
                // `allow: []` or `allow:` → a block list.
                let (mut s, mut e) = (v.span().start as usize, v.span().end as usize);
                if v.is_null() {
                    // An empty value has no text: replace what follows `allow:` on its line.
                    let key_end = k.span().end as usize;
                    s = key_end + text[key_end..].find(':')? + 1;
                    e = s + text[s..].find('\n').unwrap_or(text.len() - s);
                    if text[s..e].trim_start().starts_with(|c| c != '#') {
                        return None;
                    }
                }
                while s > 0 && text.as_bytes()[s - 1] == b' ' {
                    s -= 1;
                }
                let body = entry(&format!("{indent}  "));
                Some((s, e, format!("\n{}", body.trim_end_matches('\n'))))
            }
            _ => None,
        },
        None => {
            let (at, eof) = next_line(text, last_end(step));
            let nl = if eof { "\n" } else { "" };
            Some((
                at,
                at,
                format!("{nl}{indent}allow:\n{}", entry(&format!("{indent}  "))),
            ))
        }
    }
}

/// Quick fixes for the flow findings of `file` that touch `range`.
pub fn code_actions(
    view: &View,
    uris: &impl UriOf,
    file: FileId,
    range: Range,
    context: &[Diagnostic],
    enc: Encoding,
) -> Vec<CodeAction> {
    let src = view.sources.get(file);
    let (start, end) = (
        convert::file_offset(src, range.start, enc),
        convert::file_offset(src, range.end, enc),
    );
    let mut out = Vec::new();
    for f in &view.findings {
        let Some(flow) = &f.flow else { continue };
        let sp = f.location.span;
        if f.location.file != file || sp.start > end || sp.end < start {
            continue;
        }
        let diag_range = convert::range(src, sp, enc);
        let diags: Vec<Diagnostic> = context
            .iter()
            .filter(|d| {
                d.range == diag_range
                    && matches!(&d.code, Some(lsp_types::NumberOrString::String(c)) if *c == f.rule)
            })
            .cloned()
            .collect();
        let mut seen = Vec::new();
        for hop in &flow.path {
            if seen.contains(&hop.step) {
                continue;
            }
            seen.push(hop.step.clone());
            let Some((_, step)) = view.step(&hop.step) else {
                continue;
            };
            let step_src = view.sources.get(step.loc.file);
            let Some((s, e, new_text)) = allow_insertion(step_src, step.loc.span.start, &f.rule)
            else {
                continue;
            };
            let edit_range =
                convert::range(step_src, step_src.span_of_bytes(s as u32, e as u32), enc);
            let uri: Uri = uris.uri_of(&view.sources, step.loc.file);
            // lsp-types keys `changes` by `Uri`, whose parsed form caches lazily.
            #[allow(clippy::mutable_key_type)]
            let mut changes = HashMap::new();
            changes.insert(
                uri,
                vec![TextEdit {
                    range: edit_range,
                    new_text,
                }],
            );
            let title = format!(
                "Allow `{}` in step `{}` (reviewed exception)",
                f.rule, hop.step
            );
            // Several findings of the rule through one step: one action fixes them all.
            if let Some(same) = out.iter_mut().find(|a: &&mut CodeAction| a.title == title) {
                let listed = same.diagnostics.get_or_insert_with(Vec::new);
                for d in &diags {
                    if !listed.contains(d) {
                        listed.push(d.clone());
                    }
                }
                continue;
            }
            out.push(CodeAction {
                title,
                kind: Some(CodeActionKind::QUICKFIX),
                diagnostics: (!diags.is_empty()).then_some(diags.clone()),
                edit: Some(WorkspaceEdit {
                    changes: Some(changes),
                    ..WorkspaceEdit::default()
                }),
                ..CodeAction::default()
            });
        }
    }
    out
}

/// The key that governs the value under the cursor: `from`, `to`, `purposes`…, or `expr`.
fn context_key(src: &SourceFile, line: u32, prefix: &str) -> Option<String> {
    let indent_of = |l: &str| l.len() - l.trim_start().len();
    let key_of = |l: &str| {
        let t = l.trim_start().trim_start_matches("- ");
        let (k, _) = t.split_once(':')?;
        let k = k.trim();
        (!k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
            .then(|| k.to_string())
    };
    let expr_keys = ["join", "where", "group_by"];
    if let Some(k) = key_of(prefix) {
        if prefix.contains(':') {
            // `key: value` on this line, cursor after the colon.
            let parent = (1..line)
                .rev()
                .map(|l| src.line_text(l))
                .find(|l| !l.trim().is_empty() && indent_of(l) < indent_of(prefix));
            if parent.and_then(key_of).as_deref() == Some("fields")
                && !matches!(
                    k.as_str(),
                    "name" | "purposes" | "categories" | "description"
                )
            {
                return Some("expr".into());
            }
            return Some(if expr_keys.contains(&k.as_str()) {
                "expr".into()
            } else {
                k
            });
        }
    }
    // A list item: look up for the key at a smaller indentation.
    let ind = indent_of(prefix);
    let parent = (1..line).rev().map(|l| src.line_text(l)).find(|l| {
        !l.trim().is_empty() && indent_of(l) < ind.max(1) + 1 && l.trim_end().ends_with(':')
    })?;
    let k = key_of(parent)?;
    Some(if expr_keys.contains(&k.as_str()) {
        "expr".into()
    } else {
        k
    })
}

pub fn completion(
    view: &View,
    tax: &Taxonomy,
    file: FileId,
    pos: Position,
    enc: Encoding,
) -> Vec<CompletionItem> {
    let src = view.sources.get(file);
    let offset = convert::file_offset(src, pos, enc) as usize;
    let line = src.pos(offset as u32).line;
    let line_start = src.offset(line, 0) as usize;
    let prefix = &src.text[line_start..offset];
    let word_start = prefix
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_alphanumeric() || matches!(c, '.' | '_' | '-'))
        .last()
        .map_or(prefix.len(), |(i, _)| i);
    let replace = Range {
        start: convert::position(src, (line_start + word_start) as u32, enc),
        end: pos,
    };
    let Some(key) = context_key(src, line, prefix) else {
        return Vec::new();
    };
    let mut labels: Vec<(String, CompletionItemKind, String)> = Vec::new();
    match key.as_str() {
        "from" | "to" => {
            for model in view.models() {
                for d in &model.datasets {
                    labels.push((d.name.clone(), CompletionItemKind::MODULE, "dataset".into()));
                }
                if key == "to" {
                    for s in &model.sinks {
                        labels.push((s.name.clone(), CompletionItemKind::INTERFACE, "sink".into()));
                    }
                }
            }
        }
        "expr" => {
            for model in view.models() {
                for id in 0..model.fields.len() as FieldId {
                    labels.push((
                        model.field_name(id),
                        CompletionItemKind::FIELD,
                        "field".into(),
                    ));
                }
            }
        }
        "purposes" | "uses" => {
            for k in tax.keys(Tree::DataUse) {
                let l = tax.label(Tree::DataUse, k).unwrap_or_default().to_string();
                labels.push((k.to_string(), CompletionItemKind::ENUM_MEMBER, l));
            }
        }
        "categories" => {
            for k in tax.keys(Tree::DataCategory) {
                let l = tax
                    .label(Tree::DataCategory, k)
                    .unwrap_or_default()
                    .to_string();
                labels.push((k.to_string(), CompletionItemKind::ENUM_MEMBER, l));
            }
        }
        _ => {}
    }
    labels.sort_by(|a, b| a.0.cmp(&b.0));
    labels.dedup_by(|a, b| a.0 == b.0);
    labels
        .into_iter()
        .map(|(label, kind, detail)| CompletionItem {
            text_edit: Some(CompletionTextEdit::Edit(TextEdit {
                range: replace,
                new_text: label.clone(),
            })),
            filter_text: Some(label.clone()),
            label,
            kind: Some(kind),
            detail: Some(detail),
            ..CompletionItem::default()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(text: &str, step: &str) -> String {
        let src = SourceFile::new("p.yaml".into(), "p.yaml".into(), text);
        let start = text.find(&format!("name: {step}")).unwrap() as u32 + 6;
        let (s, e, new) = allow_insertion(&src, start, "security-to-marketing").unwrap();
        format!("{}{}{}", &text[..s], new, &text[e..])
    }

    #[test]
    fn allow_entries_are_appended_or_created() {
        let base = "kind: pipeline\nname: p\nsteps:\n  - name: a\n    from: x\n    to: y\n    allow:\n      - rule: r\n        reason: ok\n  - name: b\n    from: y\n    to: z\n    fields:\n      f: y.f";
        let out = apply(base, "a");
        assert!(
            out.contains(
                "        reason: ok\n      - rule: security-to-marketing\n        reason: \"TODO"
            ),
            "{out}"
        );
        let out = apply(base, "b");
        assert!(out.ends_with("      f: y.f\n    allow:\n      - rule: security-to-marketing\n        reason: \"TODO: why this flow is acceptable (review reference)\"\n"), "{out}");
        let empty =
            "kind: pipeline\nname: p\nsteps:\n  - name: a\n    from: x\n    to: y\n    allow: []\n";
        let out = apply(empty, "a");
        let null = "kind: pipeline\nname: p\nsteps:\n  - name: a\n    from: x\n    to: y\n    allow:\n  - name: b\n    from: x\n    to: y\n";
        let src = SourceFile::new("p.yaml".into(), "p.yaml".into(), null);
        if let Some((s, e, new)) =
            allow_insertion(&src, null.find("name: a").unwrap() as u32 + 6, "r")
        {
            let t = format!("{}{}{}", &null[..s], new, &null[e..]);
            let src = SourceFile::new("p.yaml".into(), "p.yaml".into(), &t);
            assert!(yaml::parse(&src).is_ok(), "{t}");
            assert!(t.contains("    allow:\n      - rule: r\n"), "{t}");
        }
        assert!(
            out.contains("    allow:\n      - rule: security-to-marketing\n        reason:"),
            "{out}"
        );
        // Each result is a valid manifest again.
        for t in [apply(base, "a"), apply(base, "b"), apply(empty, "a")] {
            let src = SourceFile::new("p.yaml".into(), "p.yaml".into(), &t);
            assert!(yaml::parse(&src).is_ok(), "{t}");
        }
    }
}
