//! The rule-file reader before the tape, kept until the equivalence test has passed.

use super::*;
use crate::legacy::decode::{parse_alone, Decoder};

/// Parses one rule file; problems are pushed to `diags`.
pub(crate) fn parse_rule(
    file: &SourceFile,
    origin: &str,
    diags: &mut Vec<Finding>,
) -> Option<Rule> {
    let docs = parse_alone(file, diags)?;
    let mut dec = Decoder { file: 0, diags };
    let Some(doc) = docs.first() else {
        dec.error(Default::default(), "the rule file is empty");
        return None;
    };
    let m = dec.map(
        doc,
        "a rule",
        &[
            "id",
            "severity",
            "summary",
            "description",
            "source",
            "sink",
            "flows",
            "sanitizers",
        ],
    )?;
    let id = m.required(&mut dec, "id").and_then(|n| dec.name(n, "`id`"));
    if let Some(id) = &id {
        if !is_kebab(&id.value) {
            dec.error(
                id.span,
                format!(
                    "rule id `{}` must be kebab-case, e.g. `security-to-ads`",
                    id.value
                ),
            );
        }
        if Check::ALL.iter().any(|c| c.id() == id.value) {
            dec.error(
                id.span,
                format!("`{}` is a built-in check and cannot be redefined", id.value),
            );
        }
    }
    let severity = m.required(&mut dec, "severity").and_then(|n| {
        let s = dec.string(n, "`severity`")?;
        match s.value.as_str() {
            "error" => Some(Severity::Error),
            "warning" => Some(Severity::Warning),
            "info" => Some(Severity::Info),
            other => {
                dec.error(
                    n.span,
                    format!("`severity` must be error, warning or info, not `{other}`"),
                );
                None
            }
        }
    });
    let summary = m
        .required(&mut dec, "summary")
        .and_then(|n| dec.name(n, "`summary`"));
    let description = m
        .required(&mut dec, "description")
        .and_then(|n| dec.name(n, "`description`"));
    let mut source_purposes = Vec::new();
    let mut source_categories = Vec::new();
    if let Some(src) = m.required(&mut dec, "source") {
        if let Some(sm) = dec.map(src, "`source`", &["purposes", "categories"]) {
            if let Some(p) = sm.required(&mut dec, "purposes") {
                source_purposes = dec.string_list(p, "`source.purposes`");
                if source_purposes.is_empty() {
                    dec.error(p.span, "`source.purposes` must not be empty");
                }
            }
            if let Some(c) = sm.get("categories") {
                source_categories = dec.string_list(c, "`source.categories`");
            }
        }
    }
    let mut sink_uses = Vec::new();
    if let Some(sink) = m.required(&mut dec, "sink") {
        if let Some(sm) = dec.map(sink, "`sink`", &["uses"]) {
            if let Some(u) = sm.required(&mut dec, "uses") {
                sink_uses = dec.string_list(u, "`sink.uses`");
                if sink_uses.is_empty() {
                    dec.error(u.span, "`sink.uses` must not be empty");
                }
            }
        }
    }
    let mut flows = vec![FlowKind::Direct, FlowKind::Indirect];
    if let Some(f) = m.get("flows") {
        flows = Vec::new();
        for k in dec.string_list(f, "`flows`") {
            match k.value.as_str() {
                "direct" => flows.push(FlowKind::Direct),
                "indirect" => flows.push(FlowKind::Indirect),
                "passthrough" => flows.push(FlowKind::Passthrough),
                other => dec.error(
                    k.span,
                    format!("unknown flow kind `{other}`; use direct, indirect or passthrough"),
                ),
            }
        }
    }
    let sanitizers = m
        .get("sanitizers")
        .map(|n| dec.string_list(n, "`sanitizers`"))
        .unwrap_or_default()
        .into_iter()
        .map(|s| s.value.to_lowercase())
        .collect();
    if !dec.diags.is_empty() {
        return None;
    }
    let strings = |v: Vec<crate::source::Spanned<String>>| v.into_iter().map(|s| s.value).collect();
    Some(Rule {
        id: id?.value,
        severity: severity?,
        summary: summary?.value,
        description: description?.value,
        source_purposes: strings(source_purposes),
        source_categories: strings(source_categories),
        sink_uses: strings(sink_uses),
        flows,
        sanitizers,
        origin: origin.to_string(),
        condition: None,
    })
}
