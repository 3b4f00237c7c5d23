//! Every rule and check id of a run, in one place: the built-in rules, `--rules` folders,
//! rules read from the files (Fides policies), and the built-in checks. Built once the
//! files are read and before anything checks or prints a rule id.

use super::Rule;
use crate::check::Options;
use crate::diagnostic::Diag;
use crate::finding::Check;
use crate::session::Failure;
use crate::source::{Loc, Sources};
use crate::suggest;

#[derive(Debug, Clone)]
pub struct Registry {
    /// Flow rules: the configured ones first, then those the files define.
    pub rules: Vec<Rule>,
}

/// What an id names.
#[derive(Debug, Clone, Copy)]
pub enum Entry<'a> {
    Rule(&'a Rule),
    Check(Check),
}

impl Registry {
    /// `configured` rules, then `defined` ones whose ids are not taken yet (first wins).
    pub fn new(configured: Vec<Rule>, defined: Vec<Rule>) -> Self {
        let mut rules = configured;
        for r in defined {
            if !rules.iter().any(|o| o.id == r.id) {
                rules.push(r);
            }
        }
        Registry { rules }
    }

    /// Every rule id, then every check id.
    pub fn ids(&self) -> impl Iterator<Item = &str> + Clone {
        let rules = self.rules.iter().map(|r| r.id.as_str());
        rules.chain(Check::ALL.iter().map(|c| c.id()))
    }

    pub fn find(&self, id: &str) -> Option<Entry<'_>> {
        if let Some(r) = self.rules.iter().find(|r| r.id == id) {
            return Some(Entry::Rule(r));
        }
        Check::ALL
            .iter()
            .find(|c| c.id() == id)
            .map(|&c| Entry::Check(c))
    }

    /// `no rule or check `x`; did you mean …?`
    pub fn unknown(&self, id: &str) -> String {
        let hint = suggest::did_you_mean(id, self.ids())
            .map(|s| format!("; {s}"))
            .unwrap_or_default();
        format!("no rule or check `{id}`{hint} (see `purposelint rules`)")
    }

    /// `--select`, `--ignore` and the configuration's `severity:` name known ids.
    pub fn check_ids(&self, opts: &Options) -> Result<(), Failure> {
        for id in opts.select.iter().chain(&opts.ignore) {
            if self.find(id).is_none() {
                return Err(Failure::plain(self.unknown(id)));
            }
        }
        let mut diags = Vec::new();
        for id in &opts.configured_ids {
            if self.find(&id.value).is_none() {
                let loc = Loc {
                    file: 0,
                    span: id.span,
                };
                let diag = Diag::UnknownRule {
                    place: "`severity`".into(),
                    rule: id.value.clone(),
                    suggestion: suggest::closest(&id.value, self.ids()).map(Into::into),
                };
                diags.push(diag.at(loc));
            }
        }
        crate::finding::about_own_file(&mut diags, Check::InvalidConfig);
        match (&opts.config_file, diags.is_empty()) {
            (Some(file), false) => Err(Failure {
                message: format!("invalid configuration {}", file.display),
                sources: Sources::one(file.clone()),
                diags,
            }),
            _ => Ok(()),
        }
    }
}
