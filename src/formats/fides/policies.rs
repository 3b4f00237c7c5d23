//! Fides policies become flow rules: each policy rule (data categories × data uses × data
//! subjects, each with ANY/ALL/NONE/OTHER) matches a field whose categories satisfy the
//! category condition reaching a sink whose uses satisfy the use condition (and whose
//! data subjects satisfy the subject condition, when the sink declares any).

use std::collections::HashMap;

use super::link::Cx;
use super::parse::{Matches, RawMatch, RawPolicy, Resource};
use crate::finding::Severity;
use crate::model::FlowKind;
use crate::rules::{KeyCondition, KeyMatches, PolicyCondition, Rule};
use crate::source::{FileId, Loc};
use crate::taxonomy::Tree;

/// Rule ids: `fides-policy/<policy fides_key>/<rule name, kebab-cased>`.
pub(super) fn rule_id(policy: &str, rule: &str) -> String {
    let mut slug = String::new();
    for c in rule.chars() {
        if c.is_alphanumeric() {
            slug.extend(c.to_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug = slug.trim_end_matches('-');
    format!("fides-policy/{policy}/{slug}")
}

fn condition(m: &RawMatch) -> KeyCondition {
    KeyCondition {
        matches: match m.matches {
            Matches::Any => KeyMatches::Any,
            Matches::All => KeyMatches::All,
            Matches::None => KeyMatches::None,
            Matches::Other => KeyMatches::Other,
        },
        values: m.values.iter().map(|v| v.value.clone()).collect(),
    }
}

fn describe(what: &str, m: &RawMatch) -> String {
    let values: Vec<&str> = m.values.iter().map(|v| v.value.as_str()).collect();
    let how = match m.matches {
        Matches::Any => "any of",
        Matches::All => "only keys under",
        Matches::None => "none of",
        Matches::Other => "something other than",
    };
    format!("{what} {how} [{}]", values.join(", "))
}

/// Reports policies and policy rules defined twice, and unknown taxonomy keys.
pub(super) fn check(cx: &mut Cx, raw: Vec<(FileId, RawPolicy)>) {
    let mut seen: HashMap<String, Loc> = HashMap::new();
    let mut ids: Vec<String> = Vec::new();
    for (file, p) in raw {
        let loc = Loc {
            file,
            span: p.key.span,
        };
        if let Some(&first) = seen.get(&p.key.value) {
            cx.duplicate("Fides policy", &p.key, file, first);
            continue;
        }
        seen.insert(p.key.value.clone(), loc);
        for r in &p.rules {
            cx.check_keys(file, Tree::DataCategory, &r.categories.values);
            cx.check_keys(file, Tree::DataUse, &r.uses.values);
            let id = rule_id(&p.key.value, &r.name.value);
            if ids.contains(&id) {
                let first = seen[&p.key.value];
                cx.duplicate("policy rule", &r.name, file, first);
                continue;
            }
            ids.push(id);
        }
    }
}

/// The flow rules of the policies of one file (`origin` is its path as shown).
pub(super) fn rules_of(resources: &[Resource], origin: &str) -> Vec<Rule> {
    let mut out: Vec<Rule> = Vec::new();
    let mut keys: Vec<&str> = Vec::new();
    for p in resources.iter().filter_map(|r| match r {
        Resource::Policy(p) => Some(p),
        _ => None,
    }) {
        if keys.contains(&p.key.value.as_str()) {
            continue;
        }
        keys.push(&p.key.value);
        for r in &p.rules {
            let id = rule_id(&p.key.value, &r.name.value);
            if out.iter().any(|o| o.id == id) {
                continue;
            }
            let description = format!(
                "Derived from rule `{}` of Fides policy `{}` ({}:{}): data whose categories \
                 match {} must not reach a system whose data use matches {}, for data \
                 subjects matching {}. purposelint follows the flows between datasets and \
                 systems, so the finding shows every hop.",
                r.name.value,
                p.key.value,
                origin,
                r.name.span.start_pos.line,
                describe("", &r.categories).trim(),
                describe("", &r.uses).trim(),
                describe("", &r.subjects).trim(),
            );
            out.push(Rule {
                id,
                severity: Severity::Error,
                summary: format!("rule `{}` of Fides policy `{}`", r.name.value, p.key.value),
                description,
                source_purposes: Vec::new(),
                source_categories: Vec::new(),
                sink_uses: Vec::new(),
                flows: vec![FlowKind::Direct, FlowKind::Indirect],
                sanitizers: Vec::new(),
                origin: origin.to_string(),
                condition: Some(PolicyCondition {
                    categories: condition(&r.categories),
                    uses: condition(&r.uses),
                    subjects: condition(&r.subjects),
                }),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn rule_ids_are_kebab_cased() {
        assert_eq!(
            super::rule_id("demo_privacy_policy", "Reject Direct Marketing"),
            "fides-policy/demo_privacy_policy/reject-direct-marketing"
        );
    }
}
