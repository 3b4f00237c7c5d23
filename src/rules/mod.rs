//! Flow rules: data in `rules/*.yaml`, embedded in the binary; users add or replace
//! rules with `--rules DIR`.

pub mod engine;
mod registry;

pub use registry::{Entry, Registry};

use std::path::{Path, PathBuf};

use crate::decode::{parse_alone, Decoder};
use crate::finding::{Check, Finding, Severity};
use crate::model::FlowKind;
use crate::source::{SourceFile, Sources};
use crate::taxonomy::{matches_any, Taxonomy, Tree};

const BUILTIN: [(&str, &str); 3] = [
    (
        "rules/security-to-advertising.yaml",
        include_str!("../../rules/security-to-advertising.yaml"),
    ),
    (
        "rules/security-to-marketing.yaml",
        include_str!("../../rules/security-to-marketing.yaml"),
    ),
    (
        "rules/security-to-third-party.yaml",
        include_str!("../../rules/security-to-third-party.yaml"),
    ),
];

#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub id: String,
    pub severity: Severity,
    pub summary: String,
    pub description: String,
    pub source_purposes: Vec<String>,
    pub source_categories: Vec<String>,
    pub sink_uses: Vec<String>,
    pub flows: Vec<FlowKind>,
    pub sanitizers: Vec<String>,
    /// Where the rule came from: `built-in` or a file path.
    pub origin: String,
    /// Set for rules derived from a privacy policy (e.g. a Fides policy rule): sources and
    /// sinks are then matched by these conditions instead of `source_purposes`,
    /// `source_categories` and `sink_uses`.
    pub condition: Option<PolicyCondition>,
}

/// How a policy condition compares its values with the keys declared on a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyMatches {
    /// Some declared key falls under one of the values.
    Any,
    /// Every declared key falls under one of the values.
    All,
    /// No declared key falls under any value.
    None,
    /// Some declared key falls under none of the values.
    Other,
}

/// One condition of a policy rule: a matcher and the taxonomy keys it compares with.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyCondition {
    pub matches: KeyMatches,
    pub values: Vec<String>,
}

impl KeyCondition {
    /// The declared keys that make the condition hold (empty: it does not hold). A declared
    /// key falls under a value when the value is the key or one of its ancestors. An empty
    /// declaration never holds, whatever the matcher.
    pub fn violating<'a>(&self, declared: &[&'a str]) -> Vec<&'a str> {
        let mut matched: Vec<&str> = Vec::new();
        let mut other: Vec<&str> = Vec::new();
        for &key in declared {
            let list = if matches_any(&self.values, key) {
                &mut matched
            } else {
                &mut other
            };
            if !list.contains(&key) {
                list.push(key);
            }
        }
        match self.matches {
            KeyMatches::Any => matched,
            KeyMatches::All if other.is_empty() => matched,
            KeyMatches::All => Vec::new(),
            KeyMatches::None if matched.is_empty() => other,
            KeyMatches::None => Vec::new(),
            KeyMatches::Other => other,
        }
    }
}

/// The conditions of a policy-derived rule: a source field's categories, a sink's uses and,
/// when the sink declares any, its data subjects.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyCondition {
    pub categories: KeyCondition,
    pub uses: KeyCondition,
    pub subjects: KeyCondition,
}

impl Rule {
    /// `direct` covers passthrough: both carry the value itself.
    pub fn follows(&self, kind: FlowKind) -> bool {
        self.flows.contains(&kind)
            || (kind == FlowKind::Passthrough && self.flows.contains(&FlowKind::Direct))
    }

    pub fn sanitized_by(&self, functions: &[String]) -> bool {
        functions.iter().any(|f| self.sanitizers.contains(f))
    }
}

/// A rule file that could not be read; the run exits with code 2.
#[derive(Debug)]
pub struct RuleError {
    pub sources: Sources,
    pub diags: Vec<Finding>,
    pub message: String,
}

fn is_kebab(id: &str) -> bool {
    !id.is_empty()
        && id.split('-').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// Parses one rule file; problems are pushed to `diags`. Taxonomy keys are checked
/// against `tax`: a misspelt selector would match nothing and the rule never fire.
fn parse_rule(
    file: &SourceFile,
    origin: &str,
    tax: &Taxonomy,
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
                    n.span(),
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
                    dec.error(p.span(), "`source.purposes` must not be empty");
                }
                source_purposes = dec.canonical_keys(source_purposes, Tree::DataUse, tax);
            }
            if let Some(c) = sm.get("categories") {
                source_categories = dec.string_list(c, "`source.categories`");
                source_categories = dec.canonical_keys(source_categories, Tree::DataCategory, tax);
            }
        }
    }
    let mut sink_uses = Vec::new();
    if let Some(sink) = m.required(&mut dec, "sink") {
        if let Some(sm) = dec.map(sink, "`sink`", &["uses"]) {
            if let Some(u) = sm.required(&mut dec, "uses") {
                sink_uses = dec.string_list(u, "`sink.uses`");
                if sink_uses.is_empty() {
                    dec.error(u.span(), "`sink.uses` must not be empty");
                }
                sink_uses = dec.canonical_keys(sink_uses, Tree::DataUse, tax);
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

/// The rules compiled into the binary, parsed once per process (the editor checks again
/// on every change).
pub fn builtin() -> Vec<Rule> {
    static RULES: std::sync::OnceLock<Vec<Rule>> = std::sync::OnceLock::new();
    RULES
        .get_or_init(|| {
            BUILTIN
                .iter()
                .map(|(path, text)| {
                    let file = SourceFile::new(PathBuf::from(path), path.to_string(), text);
                    let mut diags = Vec::new();
                    parse_rule(&file, "built-in", &Taxonomy::default(), &mut diags)
                        .unwrap_or_else(|| panic!("built-in rule {path} is invalid: {diags:?}"))
                })
                .collect()
        })
        .clone()
}

/// Built-in rules, then the rules of each directory; a rule with an existing id replaces it.
/// Their taxonomy keys must be in `tax` (the configured taxonomy, aliases resolved).
pub fn load(dirs: &[PathBuf], tax: &Taxonomy) -> Result<Vec<Rule>, RuleError> {
    let mut rules = builtin();
    for dir in dirs {
        for rule in load_dir(dir, tax)? {
            match rules.iter_mut().find(|r| r.id == rule.id) {
                Some(existing) => *existing = rule,
                None => rules.push(rule),
            }
        }
    }
    Ok(rules)
}

fn load_dir(dir: &Path, tax: &Taxonomy) -> Result<Vec<Rule>, RuleError> {
    let fail = |message: String| RuleError {
        sources: Sources::default(),
        diags: Vec::new(),
        message,
    };
    let entries = std::fs::read_dir(dir).map_err(|e| {
        fail(format!(
            "cannot read rules directory {}: {e}",
            dir.display()
        ))
    })?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")))
        .collect();
    paths.sort();
    let mut rules: Vec<Rule> = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(&path)
            .map_err(|e| fail(format!("cannot read rule file {}: {e}", path.display())))?;
        let display = crate::discover::display_path(&path);
        let file = SourceFile::new(path.clone(), display.clone(), &text);
        let mut diags = Vec::new();
        let rule = parse_rule(&file, &display, tax, &mut diags);
        crate::finding::about_own_file(&mut diags, Check::InvalidRule);
        let duplicate = rule
            .as_ref()
            .and_then(|r| rules.iter().find(|o| o.id == r.id))
            .map(|o| {
                format!(
                    "rule `{}` is defined twice: {} and {display}",
                    o.id, o.origin
                )
            });
        match (rule, duplicate) {
            (Some(_), Some(message)) => return Err(fail(message)),
            (Some(rule), None) => rules.push(rule),
            (None, _) => {
                return Err(RuleError {
                    message: format!("invalid rule file {display}"),
                    sources: Sources::one(file),
                    diags,
                })
            }
        }
    }
    Ok(rules)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_parse_and_match_the_spec_table() {
        let rules = builtin();
        let ids: Vec<_> = rules
            .iter()
            .map(|r| (r.id.as_str(), r.sink_uses[0].as_str()))
            .collect();
        assert_eq!(
            ids,
            vec![
                ("security-to-advertising", "marketing.advertising"),
                ("security-to-marketing", "marketing.communications"),
                ("security-to-third-party", "third_party_sharing"),
            ]
        );
        for r in &rules {
            assert_eq!(r.severity, Severity::Error);
            assert_eq!(
                r.source_purposes,
                vec![
                    "essential.service.authentication",
                    "essential.service.security",
                    "essential.fraud_detection"
                ]
            );
            assert_eq!(r.sanitizers, vec!["count", "approx_count_distinct"]);
            assert!(r.follows(FlowKind::Passthrough));
            assert!(r.description.contains("Twitter"));
        }
    }

    #[test]
    fn policy_matchers_follow_fides() {
        let c = |matches| KeyCondition {
            matches,
            values: vec!["user.contact".to_string()],
        };
        let mixed = ["user.contact.email", "system.operations"];
        assert_eq!(c(KeyMatches::Any).violating(&mixed), ["user.contact.email"]);
        assert!(c(KeyMatches::All).violating(&mixed).is_empty());
        assert_eq!(
            c(KeyMatches::All).violating(&["user.contact.phone_number"]),
            ["user.contact.phone_number"]
        );
        assert!(c(KeyMatches::None).violating(&mixed).is_empty());
        assert_eq!(
            c(KeyMatches::None).violating(&["system.operations"]),
            ["system.operations"]
        );
        assert_eq!(
            c(KeyMatches::Other).violating(&mixed),
            ["system.operations"]
        );
        for m in [
            KeyMatches::Any,
            KeyMatches::All,
            KeyMatches::None,
            KeyMatches::Other,
        ] {
            assert!(c(m).violating(&[]).is_empty());
        }
    }

    #[test]
    fn kebab_case_ids() {
        assert!(is_kebab("security-to-ads2"));
        assert!(!is_kebab("Security_to"));
        assert!(!is_kebab("a--b"));
    }

    #[test]
    fn invalid_rule_points_at_the_line() {
        let f = SourceFile::new("r.yaml".into(), "r.yaml".into(), "id: x\nseverity: fatal\n");
        let mut diags = Vec::new();
        assert!(parse_rule(&f, "r.yaml", &Taxonomy::default(), &mut diags).is_none());
        let sev = diags
            .iter()
            .find(|d| d.message.contains("severity"))
            .unwrap();
        assert_eq!(sev.location.span.start_pos.line, 2);
    }
}
