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

use super::detect::API_VERSION;
use super::parse::{
    declared_field, Doc, Expression, RawAllow, RawDataset, RawPipeline, RawSink, RawStep,
    ALLOW_KEYS, DATASET_KEYS, FIELD_KEYS, PIPELINE_KEYS, SINK_KEYS, STEP_KEYS,
};
use crate::decode::Decoder;
use crate::model::{Field, FieldTable, Tags};
use crate::source::{SourceFile, Span, Spanned};
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

/// Reads the native manifests of a file (every document is one); `None` when the file
/// needs the tree path. Diagnostics are only added when the whole file was read.
pub fn read_file(dec: &mut Decoder, file: &SourceFile, tax: &Taxonomy) -> Option<Vec<Doc>> {
    let reported = dec.diags.len();
    let mut reader = Reader {
        events: Parser::new_from_str(&file.text),
        file,
        dec,
        tax,
    };
    match reader.documents() {
        Ok(docs) if !docs.is_empty() => Some(docs),
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

    /// A document whose first key is `kind`, or `apiVersion: purposelint/v1` then `kind`.
    fn document(&mut self) -> Read<Doc> {
        self.map_start()?;
        let mut key = self.key()?;
        let mut read: &[&str] = &["kind"];
        if key.0 == "apiVersion" {
            self.api_version()?;
            key = self.key()?;
            read = &["apiVersion", "kind"];
        }
        if key.0 != "kind" {
            return Err(GiveUp);
        }
        let kind = self.scalar()?.ok_or(GiveUp)?;
        match &*kind.0 {
            "dataset" => self.dataset(read).map(Doc::Dataset),
            "sink" => self.sink(read).map(Doc::Sink),
            "pipeline" => self.pipeline(read).map(Doc::Pipeline),
            _ => Err(GiveUp),
        }
    }

    /// The value of `apiVersion`, which must be ours.
    fn api_version(&mut self) -> Read<()> {
        match self.scalar()? {
            Some((v, _)) if v == API_VERSION => Ok(()),
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

    /// The keys of an open mapping, each one of `known` and at most once (`read` were
    /// read before), until its end; `value` reads the value of each. Returns the
    /// mapping's last span.
    fn entries(
        &mut self,
        known: &[&'static str],
        read: &[&str],
        mut value: impl FnMut(&mut Self, &'static str) -> Read<()>,
    ) -> Read<Span> {
        let position = |key: &str| known.iter().position(|k| *k == key);
        let mut seen = read
            .iter()
            .filter_map(|k| position(k))
            .fold(0u32, |a, i| a | 1 << i);
        loop {
            let (event, span) = self.next()?;
            let key = match event {
                Event::MappingEnd => return Ok(span),
                Event::Scalar(text, style, 0, None) if !is_null(&text, style) => text,
                _ => return Err(GiveUp),
            };
            let i = position(&key).ok_or(GiveUp)?;
            if seen & (1 << i) != 0 {
                return Err(GiveUp);
            }
            seen |= 1 << i;
            value(self, known[i])?;
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

    /// Opens the collection a value must be: true when it starts (a sequence, or a
    /// mapping when `map`), false for a null, which reads as absent.
    fn opens(&mut self, map: bool) -> Read<bool> {
        match self.next()? {
            (Event::SequenceStart(0, None), _) if !map => Ok(true),
            (Event::MappingStart(0, None), _) if map => Ok(true),
            (Event::Scalar(text, style, 0, None), _) if is_null(&text, style) => Ok(false),
            _ => Err(GiveUp),
        }
    }

    /// A list of strings; null is an empty list.
    fn string_list(&mut self) -> Read<Vec<Str>> {
        match self.opens(false)? {
            true => self.list_items(),
            false => Ok(Vec::new()),
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
        if !self.opens(false)? {
            return Ok(None);
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

    fn dataset(&mut self, read: &[&str]) -> Read<RawDataset> {
        let (mut name, mut purposes, mut categories, mut uses) = (None, None, None, None);
        let mut fields = None;
        self.entries(&DATASET_KEYS, read, |r, key| {
            match key {
                "apiVersion" => r.api_version()?,
                "name" => name = r.string()?,
                "purposes" => purposes = Some(r.string_list()?),
                "categories" => categories = Some(r.string_list()?),
                "uses" => uses = Some(r.string_list()?),
                "fields" => fields = r.fields()?,
                "description" => r.skip_scalar()?,
                _ => return Err(GiveUp), // a key this reader does not know yet
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
        if !self.opens(false)? {
            return Ok(None);
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
        self.entries(&FIELD_KEYS, &[], |r, key| {
            match key {
                "name" => name = r.string()?,
                "categories" => categories = Some(r.string_list()?),
                "purposes" => purposes = Some(r.string_list()?),
                "description" => r.skip_scalar()?,
                _ => return Err(GiveUp), // a key this reader does not know yet
            }
            Ok(())
        })?;
        let name = self::name(name)?;
        if name.value.contains('.') {
            return Err(GiveUp);
        }
        let categories = self.keys(categories, Tree::DataCategory);
        let purposes = self.keys(purposes, Tree::DataUse);
        let file = self.dec.file;
        Ok(declared_field(file, name, purposes, categories, seen_tags))
    }

    fn sink(&mut self, read: &[&str]) -> Read<RawSink> {
        let (mut name, mut uses) = (None, Vec::new());
        self.entries(&SINK_KEYS, read, |r, key| {
            match key {
                "apiVersion" => r.api_version()?,
                "name" => name = r.string()?,
                "uses" => uses = r.string_list()?,
                "vendor" | "description" => r.skip_scalar()?,
                _ => return Err(GiveUp),
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

    fn pipeline(&mut self, read: &[&str]) -> Read<RawPipeline> {
        let (mut name, mut steps) = (None, None);
        self.entries(&PIPELINE_KEYS, read, |r, key| {
            match key {
                "apiVersion" => r.api_version()?,
                "name" => name = r.string()?,
                "steps" => steps = r.list(|r, event, _| r.step(event))?,
                "description" => r.skip_scalar()?,
                _ => return Err(GiveUp), // a key this reader does not know yet
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
        let (mut name, mut from, mut to, mut join, mut where_) = (None, None, None, None, None);
        let (mut group_by, mut fields, mut allow) = (Vec::new(), None, None);
        self.entries(&STEP_KEYS, &[], |r, key| {
            match key {
                "name" => name = r.string()?,
                "from" => from = Some(r.string_or_list()?),
                "to" => to = r.string()?,
                "join" => join = r.string()?,
                "where" => where_ = r.string()?,
                "group_by" => group_by = r.string_or_list()?,
                "fields" => fields = r.output_fields()?,
                "allow" => allow = r.list(|r, event, span| r.allow(event, span))?,
                "description" => r.skip_scalar()?,
                _ => return Err(GiveUp), // a key this reader does not know yet
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
        if !self.opens(true)? {
            return Ok(None);
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
        let end = self.entries(&ALLOW_KEYS, &[], |r, key| {
            match key {
                "rule" => rule = r.string()?,
                "reason" => reason = r.string()?,
                _ => return Err(GiveUp),
            }
            Ok(())
        })?;
        let reason = name(reason)?;
        if crate::suppress::is_placeholder(&reason.value) {
            return Err(GiveUp); // the tree path reports it
        }
        Ok(RawAllow {
            rule: name(rule)?,
            reason,
            span: yaml::join(start, end),
        })
    }
}

/// The tree's reading of a null: a plain `~`, `null` or empty scalar.
fn is_null(text: &str, style: ScalarStyle) -> bool {
    style == ScalarStyle::Plain && yaml::is_null_text(text)
}

#[cfg(test)]
mod tests;
