//! Native manifests read straight from parser events, without building a tree.
//!
//! Building and freeing a span-carrying tree cost about as much as reading the manifests
//! out of it. This reader covers the common case, a well-formed file of native
//! manifests. Anything else gives up: a syntax error, an unknown, duplicate or missing
//! key, a wrong type, an empty name, an anchor, alias or tag, a `kind` that is not the
//! first key, a document of another kind. The file is then read again through the tree
//! (`parse.rs`), which reports it exactly, so the two paths need not share diagnostics.
//! What this path does report (taxonomy keys) comes from the same `Decoder` methods,
//! and a test asserts both paths read the same documents.

use std::borrow::Cow;
use std::cell::RefCell;
use std::sync::Arc;

use saphyr_parser::{Event, Parser, ScalarStyle, StrInput};

use super::parse::{Doc, Expression, RawAllow, RawDataset, RawPipeline, RawSink, RawStep};
use crate::decode::Decoder;
use crate::model::{Field, FieldTable, Tags};
use crate::source::{Loc, SourceFile, Span, Spanned};
use crate::taxonomy::{Taxonomy, Tree};
use crate::yaml;

type Str = Spanned<String>;

thread_local! {
    /// The fields of the dataset being read, reused from file to file: they are copied
    /// out at their exact number, since a dataset keeps its fields until linking.
    static FIELDS: RefCell<Vec<Field>> = const { RefCell::new(Vec::new()) };
}

/// The tree path reads the file instead.
struct GiveUp;

type Read<T> = Result<T, GiveUp>;

/// Reads the native manifests of a file; `None` when the file needs the tree path.
/// Diagnostics are only added when the whole file was read.
pub fn read_file(
    dec: &mut Decoder,
    file: &SourceFile,
    tax: &Taxonomy,
) -> Option<(Vec<Doc>, usize)> {
    let reported = dec.diags.len();
    let mut reader = Reader {
        events: Parser::new_from_str(&file.text),
        file,
        dec,
        tax,
    };
    match reader.documents() {
        Ok(docs) if !docs.is_empty() => {
            let n = docs.len();
            Some((docs, n))
        }
        _ => {
            dec.diags.truncate(reported);
            None
        }
    }
}

struct Reader<'t, 'd, 'x> {
    events: Parser<'t, StrInput<'t>>,
    file: &'t SourceFile,
    dec: &'x mut Decoder<'d>,
    tax: &'x Taxonomy,
}

/// A scalar read as a value: `None` for a null (`~`, `null`, empty).
type Scalar<'t> = Option<(Cow<'t, str>, Span)>;

/// Copied to a string of its exact size: the scanner's own has room to spare, and the
/// read documents live until linking.
fn owned((text, span): (Cow<'_, str>, Span)) -> Str {
    Spanned {
        value: String::from(&*text),
        span,
    }
}

/// A non-empty string, as `Decoder::name` accepts it.
fn name(scalar: Option<Str>) -> Read<Str> {
    scalar.filter(|s| !s.value.trim().is_empty()).ok_or(GiveUp)
}

impl<'t> Reader<'t, '_, '_> {
    fn next(&mut self) -> Read<(Event<'t>, Span)> {
        match self.events.next() {
            Some(Ok((event, span))) => Ok((event, yaml::to_span(self.file, &span))),
            _ => Err(GiveUp),
        }
    }

    fn documents(&mut self) -> Read<Vec<Doc>> {
        let mut docs = Vec::new();
        loop {
            match self.next()?.0 {
                Event::StreamStart | Event::DocumentEnd | Event::Nothing => {}
                Event::DocumentStart(_) => docs.push(self.document()?),
                Event::StreamEnd => {
                    docs.shrink_to_fit();
                    return Ok(docs);
                }
                _ => return Err(GiveUp),
            }
        }
    }

    fn document(&mut self) -> Read<Doc> {
        self.map_start()?;
        let kind = self.key()?;
        if kind.0 != "kind" {
            return Err(GiveUp);
        }
        let kind = self.scalar()?.ok_or(GiveUp)?;
        match &*kind.0 {
            "dataset" => self.dataset().map(Doc::Dataset),
            "sink" => self.sink().map(Doc::Sink),
            "pipeline" => self.pipeline().map(Doc::Pipeline),
            _ => Err(GiveUp),
        }
    }

    /// A `MappingStart` without anchor or tag.
    fn map_start(&mut self) -> Read<()> {
        match self.next()?.0 {
            Event::MappingStart(0, None) => Ok(()),
            _ => Err(GiveUp),
        }
    }

    /// A mapping key (a non-null scalar).
    fn key(&mut self) -> Read<(Cow<'t, str>, Span)> {
        self.scalar()?.ok_or(GiveUp)
    }

    /// The keys of an open mapping, each one of `known` and at most once, until its
    /// end; `value` reads the value of key number `i`. Returns the mapping's last span.
    fn entries(
        &mut self,
        known: &[&str],
        seen_first: u32,
        mut value: impl FnMut(&mut Self, usize) -> Read<()>,
    ) -> Read<Span> {
        let mut seen = seen_first;
        loop {
            let (event, span) = self.next()?;
            let key = match event {
                Event::MappingEnd => return Ok(span),
                Event::Scalar(text, style, 0, None) if !is_null(&text, style) => text,
                _ => return Err(GiveUp),
            };
            let i = known.iter().position(|k| *k == key).ok_or(GiveUp)?;
            if seen & (1 << i) != 0 {
                return Err(GiveUp);
            }
            seen |= 1 << i;
            value(self, i)?;
        }
    }

    fn scalar(&mut self) -> Read<Scalar<'t>> {
        match self.next()? {
            (Event::Scalar(text, style, 0, None), span) => {
                Ok((!is_null(&text, style)).then_some((text, span)))
            }
            _ => Err(GiveUp),
        }
    }

    /// A scalar kept as a string.
    fn string(&mut self) -> Read<Option<Str>> {
        Ok(self.scalar()?.map(owned))
    }

    /// A list of strings; null is an empty list.
    fn string_list(&mut self) -> Read<Vec<Str>> {
        match self.next()? {
            (Event::SequenceStart(0, None), _) => self.list_items(),
            (Event::Scalar(text, style, 0, None), _) if is_null(&text, style) => Ok(Vec::new()),
            _ => Err(GiveUp),
        }
    }

    /// A string or a list of strings; null is an empty list.
    fn string_or_list(&mut self) -> Read<Vec<Str>> {
        match self.next()? {
            (Event::SequenceStart(0, None), _) => self.list_items(),
            (Event::Scalar(text, style, 0, None), span) => Ok(if is_null(&text, style) {
                Vec::new()
            } else {
                vec![owned((text, span))]
            }),
            _ => Err(GiveUp),
        }
    }

    /// The strings of an open sequence, until its end.
    fn list_items(&mut self) -> Read<Vec<Str>> {
        let mut out = Vec::new();
        loop {
            match self.next()? {
                (Event::SequenceEnd, _) => {
                    out.shrink_to_fit();
                    return Ok(out);
                }
                (Event::Scalar(text, style, 0, None), span) if !is_null(&text, style) => {
                    out.push(owned((text, span)))
                }
                _ => return Err(GiveUp),
            }
        }
    }

    /// A list whose items `item` reads from their first event; `None` for null.
    fn list<T>(
        &mut self,
        mut item: impl FnMut(&mut Self, Event<'t>, Span) -> Read<T>,
    ) -> Read<Option<Vec<T>>> {
        match self.next()? {
            (Event::SequenceStart(0, None), _) => {}
            (Event::Scalar(text, style, 0, None), _) if is_null(&text, style) => return Ok(None),
            _ => return Err(GiveUp),
        }
        let mut out = Vec::new();
        loop {
            match self.next()? {
                (Event::SequenceEnd, _) => {
                    out.shrink_to_fit();
                    return Ok(Some(out));
                }
                (event, span) => out.push(item(self, event, span)?),
            }
        }
    }

    /// A description: any scalar, checked and dropped.
    fn skip_scalar(&mut self) -> Read<()> {
        self.scalar().map(drop)
    }

    /// Taxonomy keys, canonical, with unknown ones reported (as the tree path does).
    fn keys(&mut self, keys: Option<Vec<Str>>, tree: Tree) -> Vec<Str> {
        self.dec
            .canonical_keys(keys.unwrap_or_default(), tree, self.tax)
    }

    fn dataset(&mut self) -> Read<RawDataset> {
        let known = [
            "kind",
            "name",
            "description",
            "purposes",
            "categories",
            "uses",
            "fields",
        ];
        let (mut name, mut purposes, mut categories, mut uses) = (None, None, None, None);
        let mut fields = None;
        self.entries(&known, 1, |r, i| {
            match i {
                1 => name = r.string()?,
                2 => r.skip_scalar()?,
                3 => purposes = Some(r.string_list()?),
                4 => categories = Some(r.string_list()?),
                5 => uses = Some(r.string_list()?),
                _ => fields = r.fields()?,
            }
            Ok(())
        })?;
        let name = self::name(name)?;
        let purposes = self.keys(purposes, Tree::DataUse);
        let categories = self.keys(categories, Tree::DataCategory);
        let uses = self.keys(uses, Tree::DataUse);
        let fields = fields.filter(|f| !f.is_empty()).ok_or(GiveUp)?;
        let (fields, repeated_fields) = FieldTable::new(fields);
        Ok(RawDataset {
            name,
            purposes,
            categories,
            uses,
            fields,
            repeated_fields,
        })
    }

    /// A dataset's `fields`; `None` for null.
    fn fields(&mut self) -> Read<Option<Vec<Field>>> {
        match self.next()? {
            (Event::SequenceStart(0, None), _) => {}
            (Event::Scalar(text, style, 0, None), _) if is_null(&text, style) => return Ok(None),
            _ => return Err(GiveUp),
        }
        FIELDS.with_borrow_mut(|read| {
            read.clear();
            let mut tags = Vec::new();
            loop {
                match self.next()?.0 {
                    Event::SequenceEnd => {
                        let mut fields = Vec::with_capacity(read.len());
                        fields.append(read);
                        return Ok(Some(fields));
                    }
                    Event::MappingStart(0, None) => read.push(self.field(&mut tags)?),
                    _ => return Err(GiveUp),
                }
            }
        })
    }

    fn field(&mut self, seen_tags: &mut Vec<Arc<Tags>>) -> Read<Field> {
        let (mut name, mut categories, mut purposes) = (None, None, None);
        self.entries(
            &["name", "description", "categories", "purposes"],
            0,
            |r, i| {
                match i {
                    0 => name = r.string()?,
                    1 => r.skip_scalar()?,
                    2 => categories = Some(r.string_list()?),
                    _ => purposes = Some(r.string_list()?),
                }
                Ok(())
            },
        )?;
        let name = self::name(name)?;
        if name.value.contains('.') {
            return Err(GiveUp);
        }
        let categories = self.keys(categories, Tree::DataCategory);
        let purposes = self.keys(purposes, Tree::DataUse);
        let values = |keys: Vec<Str>| keys.into_iter().map(|k| k.value).collect();
        Ok(Field {
            dataset: 0,
            name: name.value.into_boxed_str(),
            tags: Tags::shared(values(purposes), values(categories), seen_tags),
            loc: Loc {
                file: self.dec.file,
                span: name.span,
            },
        })
    }

    fn sink(&mut self) -> Read<RawSink> {
        let known = ["kind", "name", "uses", "vendor", "description"];
        let (mut name, mut uses) = (None, Vec::new());
        self.entries(&known, 1, |r, i| {
            match i {
                1 => name = r.string()?,
                2 => uses = r.string_list()?,
                _ => r.skip_scalar()?,
            }
            Ok(())
        })?;
        let name = self::name(name)?;
        // Required, and not empty (a null reads as missing).
        if uses.is_empty() {
            return Err(GiveUp);
        }
        let uses = self.keys(Some(uses), Tree::DataUse);
        Ok(RawSink { name, uses })
    }

    fn pipeline(&mut self) -> Read<RawPipeline> {
        let known = ["kind", "name", "description", "steps"];
        let (mut name, mut steps) = (None, None);
        self.entries(&known, 1, |r, i| {
            match i {
                1 => name = r.string()?,
                2 => r.skip_scalar()?,
                _ => steps = r.list(|r, event, _| r.step(event))?,
            }
            Ok(())
        })?;
        let name = self::name(name)?;
        let steps = steps.filter(|s| !s.is_empty()).ok_or(GiveUp)?;
        Ok(RawPipeline { name, steps })
    }

    fn step(&mut self, first: Event<'t>) -> Read<RawStep> {
        if !matches!(first, Event::MappingStart(0, None)) {
            return Err(GiveUp);
        }
        let known = [
            "name",
            "description",
            "from",
            "to",
            "join",
            "where",
            "group_by",
            "fields",
            "allow",
        ];
        let (mut name, mut from, mut to, mut join, mut where_) = (None, None, None, None, None);
        let (mut group_by, mut fields, mut allow) = (Vec::new(), None, None);
        self.entries(&known, 0, |r, i| {
            match i {
                0 => name = r.string()?,
                1 => r.skip_scalar()?,
                2 => from = Some(r.string_or_list()?),
                3 => to = r.string()?,
                4 => join = r.string()?,
                5 => where_ = r.string()?,
                6 => group_by = r.string_or_list()?,
                7 => fields = r.output_fields()?,
                _ => allow = r.list(|r, event, span| r.allow(event, span))?,
            }
            Ok(())
        })?;
        // `from` is required: a null reads as missing.
        let from = from.filter(|f| !f.is_empty()).ok_or(GiveUp)?;
        Ok(RawStep {
            name: self::name(name)?,
            from,
            to: self::name(to)?,
            join: join.map(Expression::parse),
            where_: where_.map(Expression::parse),
            group_by: group_by.into_iter().map(Expression::parse).collect(),
            fields,
            allow: allow.unwrap_or_default(),
        })
    }

    /// Output field name → expression; `None` for null (a passthrough step).
    fn output_fields(&mut self) -> Read<Option<Vec<(Str, Expression)>>> {
        match self.next()? {
            (Event::MappingStart(0, None), _) => {}
            (Event::Scalar(text, style, 0, None), _) if is_null(&text, style) => return Ok(None),
            _ => return Err(GiveUp),
        }
        let mut out: Vec<(Str, Expression)> = Vec::new();
        loop {
            let (event, span) = self.next()?;
            let key = match event {
                Event::MappingEnd => {
                    out.shrink_to_fit();
                    return Ok(Some(out));
                }
                Event::Scalar(text, style, 0, None) if !is_null(&text, style) => {
                    owned((text, span))
                }
                _ => return Err(GiveUp),
            };
            let key = name(Some(key))?;
            if key.value.contains('.') || out.iter().any(|(f, _)| f.value == key.value) {
                return Err(GiveUp);
            }
            let expr = name(self.string()?)?;
            out.push((key, Expression::parse(expr)));
        }
    }

    fn allow(&mut self, first: Event<'t>, start: Span) -> Read<RawAllow> {
        if !matches!(first, Event::MappingStart(0, None)) {
            return Err(GiveUp);
        }
        let (mut rule, mut reason) = (None, None);
        let end = self.entries(&["rule", "reason"], 0, |r, i| {
            match i {
                0 => rule = r.string()?,
                _ => reason = r.string()?,
            }
            Ok(())
        })?;
        Ok(RawAllow {
            rule: name(rule)?,
            reason: name(reason)?,
            span: yaml::join(start, end),
        })
    }
}

/// The tree's reading of a null: a plain `~`, `null` or empty scalar.
fn is_null(text: &str, style: ScalarStyle) -> bool {
    style == ScalarStyle::Plain && yaml::is_null_text(text)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::finding::Finding;
    use crate::formats::native::read_documents;

    /// Both paths over `text`: the stream's reading (if it did not give up) and the
    /// tree's, each as the debug text of its documents and its sorted diagnostics.
    /// Documents read and sorted diagnostics, as debug text.
    type Reading = (String, Vec<String>);

    fn both(text: &str) -> (Option<Reading>, Reading) {
        let file = SourceFile::new("t.yaml".into(), "t.yaml".into(), text);
        let tax = Taxonomy::default();
        let shown = |docs: &[Doc], n: usize, diags: &[Finding]| {
            let mut d: Vec<String> = diags.iter().map(|f| format!("{f:?}")).collect();
            d.sort();
            (format!("{n} {docs:?}"), d)
        };
        let mut diags = Vec::new();
        let mut dec = Decoder {
            file: 0,
            diags: &mut diags,
        };
        let streamed = read_file(&mut dec, &file, &tax);
        let streamed = match streamed {
            Some((docs, n)) => Some(shown(&docs, n, &diags)),
            None => {
                assert!(diags.is_empty(), "giving up must leave no diagnostics");
                None
            }
        };
        let mut diags = Vec::new();
        let mut dec = Decoder {
            file: 0,
            diags: &mut diags,
        };
        let tree = match yaml::parse(&file) {
            Ok(nodes) => {
                let (docs, n) = read_documents(&mut dec, &nodes, &tax);
                shown(&docs, n, &diags)
            }
            Err(e) => (format!("invalid: {}", e.message), Vec::new()),
        };
        (streamed, tree)
    }

    fn same(text: &str) -> bool {
        let (streamed, tree) = both(text);
        match streamed {
            Some(s) => {
                assert_eq!(s, tree, "the paths differ on:\n{text}");
                true
            }
            None => false,
        }
    }

    const FULL: &str = "\
kind: dataset
name: accounts.users
description: \"Users\"
purposes: [essential.service.security, not.a.purpose]
categories:
  - user.contact.email
uses: [analytics]
fields:
  - name: email
    description: e-mail
    categories: [user.contact.email]
    purposes: [essential.service.authentication]
  - {name: phone, purposes: [essential.service.security]}
  - name: email
  - name: ü_näme
---
kind: sink
name: 'ads'
uses: [marketing.advertising.third_party.targeted]
vendor: Acme
description:
---
kind: pipeline
name: p
description: ~
steps:
  - name: s1
    from: [accounts.users, other.t]
    to: stage.s1
    join: accounts.users.email = other.t.email
    where: accounts.users.phone IS NOT NULL
    group_by: accounts.users.email
    fields:
      e: sha256(lower(accounts.users.email))
      n: count(*)
    allow:
      - rule: security-to-advertising
        reason: DPIA-1
  - name: s2
    from: stage.s1
    to: ads
    fields:
";

    #[test]
    fn well_formed_manifests_are_read_as_the_tree_reads_them() {
        assert!(same(FULL));
        assert!(same("kind: sink\r\nname: a\r\nuses:\r\n  - analytics\r\n"));
        assert!(same("\u{feff}kind: sink\nname: a\nuses: [analytics]\n"));
    }

    #[test]
    fn anything_unusual_goes_to_the_tree() {
        for text in [
            "name: a\nkind: sink\nuses: [analytics]\n",
            "kind: sink\nname: a\nuses: [analytics]\nvendr: x\n",
            "kind: sink\nname: a\nname: b\nuses: [analytics]\n",
            "kind: sink\nname: a\nuses: []\n",
            "kind: sink\nname: a\nuses: analytics\n",
            "kind: sink\nname: ' '\nuses: [analytics]\n",
            "kind: sink\nname: &n a\nuses: [analytics]\n",
            "kind: sink\nname: !!str a\nuses: [analytics]\n",
            "kind: dataset\nname: a\nfields: []\n",
            "kind: dataset\nname: a\nfields:\n  - name: a.b\n",
            "kind: pipeline\nname: p\nsteps:\n  - name: s\n    from: a\n    to: b\n    allow: [{rule: r}]\n",
            "kind: pipeline\nname: p\nsteps:\n  - name: s\n    from: a\n    to: b\n    fields: {x: a.x, x: a.y}\n",
            "kind: sink\nname: a\nuses: [analytics]\n---\nfides_key: x\n",
            "kind: Deployment\n",
            "kind: sink\nname: a\nuses: [analytics\n",
            "",
        ] {
            assert!(!same(text), "{text}");
        }
    }

    #[test]
    fn bundled_examples_and_fixtures_read_alike() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut streamed = 0;
        for dir in ["examples", "tests/fixtures"] {
            for entry in ignore::WalkBuilder::new(root.join(dir)).build().flatten() {
                let path = entry.path();
                let yaml = path.extension().is_some_and(|e| e == "yaml" || e == "yml");
                let Ok(text) = std::fs::read_to_string(path) else {
                    continue;
                };
                if yaml && same(&text) {
                    streamed += 1;
                }
            }
        }
        assert!(streamed > 10, "only {streamed} files were streamed");
    }

    /// Picks driven by proptest's bytes, so that failures shrink.
    struct Picks(Vec<u8>, usize);

    impl Picks {
        fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
            let b = self.0.get(self.1).copied().unwrap_or(0);
            self.1 += 1;
            from[b as usize % from.len()]
        }

        /// A number below `n`.
        fn below(&mut self, n: usize) -> usize {
            let b = self.0.get(self.1).copied().unwrap_or(0);
            self.1 += 1;
            b as usize % n
        }

        /// True `of` times in ten.
        fn chance(&mut self, of: usize) -> bool {
            self.below(10) < of
        }
    }

    /// Mostly well-formed manifests: keys in random order, block and flow styles,
    /// nulls, known and unknown taxonomy keys, duplicate field names, and now and then
    /// a mistake (an unknown key, an empty list, a missing reason) for the tree.
    fn manifest(p: &mut Picks) -> String {
        let list = |p: &mut Picks, key: &str, items: &[&str], indent: &str| {
            let a = p.pick(items);
            match p.pick(&["flow", "block", "two", "null"]) {
                "flow" => format!("{indent}{key}: [{a}]\n"),
                "block" => format!("{indent}{key}:\n{indent}  - {a}\n"),
                "two" => format!("{indent}{key}: [{a}, {}]\n", p.pick(items)),
                _ => format!("{indent}{key}:\n"),
            }
        };
        let purposes = [
            "essential.service.security",
            "marketing.advertising",
            "analytics",
            "not.a.purpose",
            "\"essential.fraud_detection\"",
        ];
        let categories = ["user.contact.email", "user.contact", "no.such.category"];
        let mut docs = Vec::new();
        for _ in 0..1 + p.below(3) {
            let mut blocks: Vec<String> = Vec::new();
            let kind = p.pick(&["dataset", "sink", "pipeline"]);
            blocks.push(format!("name: {}\n", p.pick(&["a.b", "'q.r'", "x", "ü.ñ"])));
            if p.chance(3) {
                blocks.push(format!("description: {}\n", p.pick(&["d", "", "\"x\""])));
            }
            match kind {
                "dataset" => {
                    for key in ["purposes", "uses"] {
                        if p.chance(5) {
                            blocks.push(list(p, key, &purposes, ""));
                        }
                    }
                    if p.chance(4) {
                        blocks.push(list(p, "categories", &categories, ""));
                    }
                    let mut fields = String::from("fields:\n");
                    for _ in 0..1 + p.below(4) {
                        let name = p.pick(&["f", "g", "h", "f", "ü"]);
                        if p.chance(3) {
                            let pp = p.pick(&purposes);
                            fields.push_str(&format!("  - {{name: {name}, purposes: [{pp}]}}\n"));
                            continue;
                        }
                        fields.push_str(&format!("  - name: {name}\n"));
                        if p.chance(5) {
                            fields.push_str(&list(p, "purposes", &purposes, "    "));
                        }
                        if p.chance(3) {
                            fields.push_str(&list(p, "categories", &categories, "    "));
                        }
                    }
                    blocks.push(fields);
                }
                "sink" => {
                    blocks.push(list(p, "uses", &purposes, ""));
                    if p.chance(3) {
                        blocks.push("vendor: V\n".into());
                    }
                }
                _ => {
                    let mut steps = String::from("steps:\n");
                    for i in 0..1 + p.below(3) {
                        steps.push_str(&format!("  - name: s{i}\n"));
                        let mut keys: Vec<String> = vec![
                            format!("from: {}\n", p.pick(&["a.b", "[a.b, x]", "[x]"])),
                            format!("to: {}\n", p.pick(&["x", "stage.y", "a.b"])),
                        ];
                        if p.chance(3) {
                            keys.push("join: sha256(a.b.f) = x.f\n".into());
                        }
                        if p.chance(3) {
                            keys.push(format!(
                                "where: {}\n",
                                p.pick(&["a.b.g IS NULL", "f = 1 AND ("])
                            ));
                        }
                        if p.chance(3) {
                            keys.push(format!("group_by: {}\n", p.pick(&["f", "[a.b.f, x.g]"])));
                        }
                        if p.chance(6) {
                            keys.push(
                                p.pick(&[
                                    "fields: {o: a.b.f, p: lower(x.g)}\n",
                                    "fields:\n      o: a.b.f\n      n: count(*)\n",
                                    "fields:\n",
                                    "fields: {o: a.b.f, o: x.f}\n",
                                ])
                                .into(),
                            );
                        }
                        if p.chance(2) {
                            keys.push(
                                p.pick(&[
                                    "allow:\n      - rule: security-to-advertising\n        reason: ok\n",
                                    "allow: [{rule: security-to-marketing}]\n",
                                ])
                                .into(),
                            );
                        }
                        for k in keys {
                            steps.push_str("    ");
                            steps.push_str(&k);
                        }
                    }
                    blocks.push(steps);
                }
            }
            if p.chance(1) {
                blocks.push(
                    p.pick(&["colour: red\n", "name: again\n", "fields: []\n"])
                        .into(),
                );
            }
            // Keys in any order after `kind` (and sometimes before it).
            for i in (1..blocks.len()).rev() {
                let j = p.below(i + 1);
                blocks.swap(i, j);
            }
            let kind = format!("kind: {kind}\n");
            if p.chance(1) {
                blocks.push(kind);
            } else {
                blocks.insert(0, kind);
            }
            docs.push(blocks.concat());
        }
        docs.join("---\n")
    }

    /// The generator is worth its salt: the stream reads a good share of its files.
    #[test]
    fn most_generated_manifests_are_streamed() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut streamed = 0;
        for _ in 0..500 {
            let bytes = (0..200)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    seed as u8
                })
                .collect();
            streamed += usize::from(same(&manifest(&mut Picks(bytes, 0))));
        }
        assert!(streamed > 150, "only {streamed} of 500 streamed");
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

        /// Wherever the stream reads a file, it reads what the tree reads.
        #[test]
        fn generated_manifests_read_alike(bytes in prop::collection::vec(any::<u8>(), 200)) {
            same(&manifest(&mut Picks(bytes, 0)));
        }
    }
}
