//! The taxonomy of data uses (purposes and uses) and data categories: fideslang's defaults,
//! embedded, plus any keys a run adds.

use std::collections::BTreeMap;

use crate::diagnostic::Diag;
use crate::suggest;

const DATA_USES: &str = include_str!("../taxonomy/data_uses.tsv");
const DATA_CATEGORIES: &str = include_str!("../taxonomy/data_categories.tsv");

/// Which of the two trees a key belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tree {
    DataUse,
    DataCategory,
}

impl Tree {
    pub fn noun(self) -> &'static str {
        match self {
            Tree::DataUse => "data use",
            Tree::DataCategory => "data category",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Taxonomy {
    uses: BTreeMap<String, String>,
    categories: BTreeMap<String, String>,
    /// Organisation labels that stand for keys (configuration `aliases`).
    aliases: BTreeMap<String, String>,
}

fn load(tsv: &str) -> BTreeMap<String, String> {
    tsv.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let (key, name) = l.split_once('\t').unwrap_or((l, ""));
            (key.trim().to_string(), name.trim().to_string())
        })
        .collect()
}

impl Default for Taxonomy {
    fn default() -> Self {
        Taxonomy {
            uses: load(DATA_USES),
            categories: load(DATA_CATEGORIES),
            aliases: BTreeMap::new(),
        }
    }
}

impl Taxonomy {
    fn tree(&self, tree: Tree) -> &BTreeMap<String, String> {
        match tree {
            Tree::DataUse => &self.uses,
            Tree::DataCategory => &self.categories,
        }
    }

    pub fn contains(&self, tree: Tree, key: &str) -> bool {
        self.tree(tree).contains_key(key)
    }

    /// Human name of a key, if it has one.
    pub fn label(&self, tree: Tree, key: &str) -> Option<&str> {
        self.tree(tree)
            .get(key)
            .map(String::as_str)
            .filter(|s| !s.is_empty())
    }

    pub fn add(&mut self, tree: Tree, key: &str, name: &str) {
        let map = match tree {
            Tree::DataUse => &mut self.uses,
            Tree::DataCategory => &mut self.categories,
        };
        map.insert(key.to_string(), name.to_string());
    }

    /// Lets `label` stand for `key` wherever purposes, uses or categories are read.
    pub fn alias(&mut self, label: &str, key: &str) {
        self.aliases.insert(label.to_string(), key.to_string());
    }

    /// The key an alias stands for, or `key` itself.
    pub fn canonical<'a>(&'a self, key: &'a str) -> &'a str {
        self.aliases.get(key).map_or(key, String::as_str)
    }

    pub fn keys(&self, tree: Tree) -> impl Iterator<Item = &str> {
        self.tree(tree).keys().map(String::as_str)
    }

    /// The `unknown-purpose` diagnostic for a key outside the tree.
    pub(crate) fn unknown(&self, tree: Tree, key: &str) -> Option<Diag> {
        if self.contains(tree, key) {
            return None;
        }
        Some(Diag::UnknownTaxonomyKey {
            tree,
            key: key.to_string(),
            suggestion: self.suggest(tree, key).map(Into::into),
        })
    }

    /// The closest known key to an unknown one.
    pub fn suggest(&self, tree: Tree, key: &str) -> Option<&str> {
        suggest::closest(key, self.keys(tree))
    }
}

/// A selector `a.b` matches `a.b` and its descendants `a.b.*`, never a sibling `a.bc`.
pub(crate) fn matches(selector: &str, key: &str) -> bool {
    key.strip_prefix(selector)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
}

pub(crate) fn matches_any(selectors: &[String], key: &str) -> bool {
    selectors.iter().any(|s| matches(s, key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hierarchical_match_on_dot_boundaries() {
        assert!(matches("marketing.advertising", "marketing.advertising"));
        assert!(matches(
            "marketing.advertising",
            "marketing.advertising.third_party.targeted"
        ));
        assert!(!matches("marketing.advertising", "marketing.advertisingx"));
        assert!(!matches("marketing.advertising", "marketing"));
    }

    #[test]
    fn embeds_fideslang_defaults() {
        let t = Taxonomy::default();
        for k in [
            "essential.service.authentication",
            "essential.service.security",
            "essential.fraud_detection",
            "marketing.advertising.third_party.targeted",
            "third_party_sharing",
        ] {
            assert!(t.contains(Tree::DataUse, k), "{k}");
        }
        assert!(t.contains(Tree::DataCategory, "user.contact.phone_number"));
        assert_eq!(
            t.suggest(Tree::DataUse, "essential.service.authentification"),
            Some("essential.service.authentication")
        );
    }
}
