//! Typed reading of YAML documents with `invalid-manifest` diagnostics at the offending node.
//! Shared by every YAML-based format and by rule files.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::fmt::Display;

use smallvec::SmallVec;

use crate::diagnostic::Diag;
use crate::finding::Finding;
use crate::source::{FileId, Loc, SourceFile, Span, Spanned};
use crate::suggest;
use crate::taxonomy::{Taxonomy, Tree};
use crate::yaml::{self, Node, Yaml};

/// Parses a file read on its own (a rule, the configuration, a baseline) as file 0;
/// a syntax error becomes an `invalid-manifest` diagnostic.
pub(crate) fn parse_alone(file: &SourceFile, diags: &mut Vec<Finding>) -> Option<Yaml> {
    match yaml::parse(file) {
        Ok(docs) => Some(docs),
        Err(e) => {
            let loc = Loc {
                file: 0,
                span: e.span,
            };
            diags.push(Diag::InvalidYaml(e.message).at(loc));
            None
        }
    }
}

/// Collects diagnostics for one file while its documents are read.
pub(crate) struct Decoder<'d> {
    pub file: FileId,
    pub diags: &'d mut Vec<Finding>,
}

/// The known keys of one mapping, after unknown and duplicate keys were reported.
pub(crate) struct Fields<'n> {
    node: Node<'n>,
    known: &'n [&'n str],
    /// Each key's index in `known` and its value's on the tape. Inline: most mappings hold
    /// a handful of keys, and a heap vector per mapping was one allocation per field of
    /// every dataset. Small: every mapping read returns one, and wider entries (a `&str`
    /// and a `Node` each) made that a `memcpy` of 300 bytes.
    entries: SmallVec<[(u16, u32); 8]>,
    what: &'n str,
}

impl<'n> Fields<'n> {
    pub(crate) fn get(&self, key: &str) -> Option<Node<'n>> {
        self.entries
            .iter()
            .filter(|&&(k, _)| self.known[usize::from(k)] == key)
            .map(|&(_, at)| self.node.on_tape(at))
            .find(|v| !v.is_null())
    }

    /// Like `get`, but a missing key is reported at the mapping.
    pub(crate) fn required(&self, dec: &mut Decoder, key: &str) -> Option<Node<'n>> {
        let found = self.get(key);
        if found.is_none() {
            dec.error(
                self.node.span(),
                format!("{} is missing the required key `{key}`", self.what),
            );
        }
        found
    }

    pub(crate) fn span(&self) -> Span {
        self.node.span()
    }
}

impl<'d> Decoder<'d> {
    pub(crate) fn loc(&self, span: Span) -> Loc {
        Loc {
            file: self.file,
            span,
        }
    }

    /// An `invalid-manifest` diagnostic at `span`.
    pub(crate) fn error(&mut self, span: Span, message: impl Into<String>) {
        self.report(Diag::Invalid(message.into()), span);
    }

    pub(crate) fn report(&mut self, diag: Diag, span: Span) {
        let loc = self.loc(span);
        self.diags.push(diag.at(loc));
    }

    /// Reads a mapping that may hold only `known` keys. `what` names it in messages.
    pub(crate) fn map<'n>(
        &mut self,
        node: Node<'n>,
        what: &'n str,
        known: &'n [&'n str],
    ) -> Option<Fields<'n>> {
        let Some(entries) = node.entries() else {
            self.error(
                node.span(),
                format!("{what} must be a mapping, found {}", node.kind_name()),
            );
            return None;
        };
        let mut seen = SeenKeys::default();
        let mut out = SmallVec::new();
        for (k, v) in entries {
            let Some(key) = k.as_str() else {
                self.error(k.span(), format!("keys of {what} must be strings"));
                continue;
            };
            if let Some(line) = seen.insert(key, k.span().start_pos.line) {
                self.error(
                    k.span(),
                    format!("duplicate key `{key}` in {what} (first at line {line})"),
                );
                continue;
            }
            let Some(index) = known.iter().position(|k| *k == key) else {
                let diag = Diag::UnknownKey {
                    key: key.to_string(),
                    what: what.to_string(),
                    suggestion: suggest::closest(key, known.iter().copied()).map(Into::into),
                    known: known.iter().map(|k| k.to_string()).collect(),
                };
                self.report(diag, k.span());
                continue;
            };
            // Mappings of more than 65,536 known keys do not exist: `known` is a short list.
            out.push((index as u16, v.index()));
        }
        Some(Fields {
            node,
            known,
            entries: out,
            what,
        })
    }

    // `what` names the value in messages. It is formatted only when a message is written,
    // so callers may pass `format_args!` for names built per item.

    /// A scalar as a string. Numbers and booleans are taken as their text.
    pub(crate) fn string(&mut self, node: Node, what: impl Display) -> Option<Spanned<String>> {
        let text = self.str(node, what)?;
        Some(Spanned {
            value: text.to_string(),
            span: node.span(),
        })
    }

    /// A scalar's text, borrowed: for values that are checked but not kept.
    pub(crate) fn str<'n>(&mut self, node: Node<'n>, what: impl Display) -> Option<&'n str> {
        match node.as_str() {
            Some(text) => Some(text),
            None => {
                self.error(
                    node.span(),
                    format!("{what} must be a string, found {}", node.kind_name()),
                );
                None
            }
        }
    }

    /// A non-empty string.
    pub(crate) fn name(&mut self, node: Node, what: impl Display) -> Option<Spanned<String>> {
        let s = self.string(node, &what)?;
        if s.value.trim().is_empty() {
            self.error(node.span(), format!("{what} must not be empty"));
            return None;
        }
        Some(s)
    }

    /// A list of strings.
    pub(crate) fn string_list(&mut self, node: Node, what: impl Display) -> Vec<Spanned<String>> {
        // Collected from an exact-size iterator: sized for every item, as lists are kept
        // until linking.
        self.strs(node, what)
            .into_iter()
            .map(|s| Spanned {
                value: s.value.to_string(),
                span: s.span,
            })
            .collect()
    }

    /// A list of strings, borrowed from the document.
    fn strs<'n>(&mut self, node: Node<'n>, what: impl Display) -> SmallVec<[Spanned<&'n str>; 4]> {
        if let Some(items) = node.items() {
            return items
                .filter_map(|item| {
                    let value = self.str(item, format_args!("each item of {}", what))?;
                    Some(Spanned {
                        value,
                        span: item.span(),
                    })
                })
                .collect();
        }
        if !node.is_null() {
            self.error(
                node.span(),
                format!(
                    "{what} must be a list of strings, found {}",
                    node.kind_name()
                ),
            );
        }
        SmallVec::new()
    }

    /// A string or a list of strings.
    pub(crate) fn string_or_list(&mut self, node: Node, what: &str) -> Vec<Spanned<String>> {
        match node.as_str() {
            Some(_) => self.string(node, what).into_iter().collect(),
            None => self.string_list(node, what),
        }
    }

    /// Taxonomy keys in `node` (none when absent), read by `read`. Resolves aliases,
    /// then reports each key the taxonomy lacks as `unknown-purpose` (with the closest
    /// key). Shared by every format's annotations.
    pub(crate) fn taxonomy_keys<'w>(
        &mut self,
        node: Option<Node>,
        what: &'w str,
        read: impl FnOnce(&mut Self, Node, &'w str) -> Vec<Spanned<String>>,
        tree: Tree,
        tax: &Taxonomy,
    ) -> Vec<Spanned<String>> {
        let Some(node) = node else {
            return Vec::new();
        };
        let keys = read(self, node, what);
        self.canonical_keys(keys, tree, tax)
    }

    /// Like [`Decoder::taxonomy_keys`] on a list of strings, but borrowed from the document
    /// or the taxonomy: for keys compared with ones already stored before any is kept.
    pub(crate) fn taxonomy_strs<'a>(
        &mut self,
        node: Option<Node<'a>>,
        what: &str,
        tree: Tree,
        tax: &'a Taxonomy,
    ) -> SmallVec<[&'a str; 4]> {
        let Some(node) = node else {
            return SmallVec::new();
        };
        let keys = self.strs(node, what);
        keys.into_iter()
            .map(|key| self.canonical_key(key.value, key.span, tree, tax))
            .collect()
    }

    /// `key` made canonical, reported as `unknown-purpose` at `span` when the taxonomy
    /// lacks it.
    fn canonical_key<'a>(
        &mut self,
        key: &'a str,
        span: Span,
        tree: Tree,
        tax: &'a Taxonomy,
    ) -> &'a str {
        let canonical = tax.canonical(key);
        if let Some(diag) = tax.unknown(tree, canonical) {
            self.report(diag, span);
        }
        canonical
    }

    /// Keys made canonical (aliases resolved), each one the taxonomy lacks reported as
    /// `unknown-purpose`.
    pub(crate) fn canonical_keys(
        &mut self,
        mut keys: Vec<Spanned<String>>,
        tree: Tree,
        tax: &Taxonomy,
    ) -> Vec<Spanned<String>> {
        for key in &mut keys {
            let canonical = self.canonical_key(&key.value, key.span, tree, tax);
            if canonical != key.value {
                key.value = canonical.to_string();
            }
        }
        keys
    }

    /// A list; each item is handed to `item`.
    pub(crate) fn list<'n, T>(
        &mut self,
        node: Node<'n>,
        what: &str,
        mut item: impl FnMut(&mut Self, Node<'n>) -> Option<T>,
    ) -> Vec<T> {
        match node.items() {
            Some(items) => {
                // Sized for every item up front: most are valid, and growing by doubling
                // would copy large lists and leave up to half their room unused.
                let mut out = Vec::with_capacity(items.len());
                out.extend(items.filter_map(|n| item(self, n)));
                out
            }
            None => {
                self.error(
                    node.span(),
                    format!("{what} must be a list, found {}", node.kind_name()),
                );
                Vec::new()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceFile;
    use crate::yaml;

    fn decode(text: &str) -> Vec<Finding> {
        let f = SourceFile::new("t.yaml".into(), "t.yaml".into(), text);
        let yaml = yaml::parse(&f).unwrap();
        let doc = yaml.first().unwrap();
        let mut diags = Vec::new();
        let mut dec = Decoder {
            file: 0,
            diags: &mut diags,
        };
        if let Some(m) = dec.map(doc, "a sink", &["kind", "name", "uses"]) {
            m.required(&mut dec, "uses");
            if let Some(n) = m.get("name") {
                dec.name(n, "`name`");
            }
        }
        diags
    }

    #[test]
    fn unknown_key_with_suggestion_at_its_line() {
        let d = decode("kind: sink\nname: a\nusse: [x]\n");
        assert_eq!(d.len(), 2);
        assert_eq!(
            d[0].message,
            "unknown key `usse` in a sink; did you mean `uses`?"
        );
        assert_eq!(d[0].help, None);
        assert_eq!(d[0].location.span.start_pos.line, 3);
        assert!(d[1].message.contains("missing the required key `uses`"));
    }

    #[test]
    fn duplicate_key_and_wrong_type() {
        let d = decode("kind: sink\nname: [a]\nuses: [x]\nuses: [y]\n");
        let msgs: Vec<_> = d.iter().map(|f| f.message.as_str()).collect();
        assert!(msgs.contains(&"duplicate key `uses` in a sink (first at line 3)"));
        assert!(msgs.contains(&"`name` must be a string, found a list"));
    }
}

/// Keys already seen in one mapping. Mappings are small, so a scan beats hashing; a
/// hostile mapping with thousands of keys switches to a map to stay linear.
#[derive(Default)]
struct SeenKeys<'n> {
    few: SmallVec<[(&'n str, u32); 16]>,
    many: HashMap<&'n str, u32>,
}

impl<'n> SeenKeys<'n> {
    const SCAN: usize = 16;

    /// Records `key` at `line`; returns the line it was first seen at, if any.
    fn insert(&mut self, key: &'n str, line: u32) -> Option<u32> {
        if let Some(&(_, first)) = self.few.iter().find(|(k, _)| *k == key) {
            return Some(first);
        }
        if self.few.len() < Self::SCAN {
            self.few.push((key, line));
            return None;
        }
        match self.many.entry(key) {
            Entry::Occupied(first) => Some(*first.get()),
            Entry::Vacant(slot) => {
                slot.insert(line);
                None
            }
        }
    }
}
