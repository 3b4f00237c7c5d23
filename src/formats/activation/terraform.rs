//! Terraform modules: the files of one directory read together, so that `var.x` and
//! `local.x` resolve to their literal values and references to resources of the module
//! are known; each resource of ours is handed to its provider's reader.

use rustc_hash::{FxHashMap, FxHashSet};
use smallvec::SmallVec;
use std::cell::RefCell;
use std::path::Path;
use std::sync::Arc;

use super::hcl::{self, Block, Body, Key, Kind, Part, Range, Resource, TfFile, Value};
use super::piece::{Lit, Note, Piece, Ref, Unknown};
use super::{census, rudderstack, segment};
use crate::finding::Finding;
use crate::source::{FileId, Loc, SourceFile};

/// The literal values and resources of one module.
pub(crate) struct Scope<'a> {
    variables: FxHashMap<&'a str, Option<&'a Value<'a>>>,
    locals: FxHashMap<&'a str, &'a Value<'a>>,
    /// Iterators of the `for_each` (`each`) and `dynamic` blocks being expanded, the
    /// innermost last: each one's name, and the current element's key and value.
    iterators: Vec<(String, Value<'a>, Value<'a>)>,
    /// Every `var`/`local` name looked up, when a file is read with its own values only
    /// (the module's other files may change what it reads).
    lookups: Option<&'a RefCell<FxHashSet<Lookup>>>,
}

/// A module-level name a value was resolved through.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Lookup {
    Var(String),
    Local(String),
}

/// Depth of `var`/`local` indirection followed (a local naming a local…).
const MAX_INDIRECTION: usize = 8;

impl<'a> Scope<'a> {
    pub(super) fn new(files: &[&'a TfFile<'a>]) -> Self {
        let mut variables = FxHashMap::default();
        let mut locals = FxHashMap::default();
        for f in files {
            for (name, default) in &f.variables {
                variables.insert(&**name, default.as_ref());
            }
            for (name, value) in &f.locals {
                locals.insert(&**name, value);
            }
        }
        Scope {
            variables,
            locals,
            iterators: Vec::new(),
            lookups: None,
        }
    }

    /// The scope of one file read on its own, recording what it looks up in `lookups`.
    pub(super) fn of_file(file: &'a TfFile<'a>, lookups: &'a RefCell<FxHashSet<Lookup>>) -> Self {
        Scope {
            lookups: Some(lookups),
            ..Scope::new(&[file])
        }
    }

    fn looked_up(&self, l: impl FnOnce() -> Lookup) {
        if let Some(set) = self.lookups {
            set.borrow_mut().insert(l());
        }
    }

    /// The literal value `v` stands for: itself, or what `var.x`, `local.x` or the
    /// iterator of a `dynamic` block resolve to. `Err` says why it is not literal.
    pub(super) fn resolve<'v>(&'v self, v: &'v Value<'v>) -> Result<&'v Value<'v>, String> {
        // Most values are literals: only a traversal pays for the lookup's stack frame.
        match v.kind {
            Kind::Traversal(_) => self.resolve_traversal(v),
            _ => Ok(v),
        }
    }

    fn resolve_traversal<'v>(&'v self, v: &'v Value<'v>) -> Result<&'v Value<'v>, String> {
        let mut v = v;
        for _ in 0..MAX_INDIRECTION {
            let Kind::Traversal(parts) = &v.kind else {
                return Ok(v);
            };
            let parts: Vec<&str> = parts.iter().map(|p| &**p).collect();
            v = match parts.as_slice() {
                ["var", name, rest @ ..] => {
                    self.looked_up(|| Lookup::Var(name.to_string()));
                    let Some(default) = self.variables.get(name) else {
                        return Err(format!("`var.{name}` is not declared in this module"));
                    };
                    let Some(d) = default else {
                        return Err(format!(
                            "`var.{name}` has no default; its value comes from outside the module"
                        ));
                    };
                    self.member_path(d, rest)
                        .ok_or_else(|| format!("`var.{name}` has no such member"))?
                }
                ["local", name, rest @ ..] => {
                    self.looked_up(|| Lookup::Local(name.to_string()));
                    let Some(l) = self.locals.get(name) else {
                        return Err(format!("`local.{name}` is not declared in this module"));
                    };
                    self.member_path(l, rest)
                        .ok_or_else(|| format!("`local.{name}` has no such member"))?
                }
                [iter, field @ ("key" | "value"), rest @ ..] => {
                    let Some((_, key, value)) =
                        self.iterators.iter().rev().find(|(n, ..)| n == iter)
                    else {
                        return Ok(v);
                    };
                    let element = if *field == "key" { key } else { value };
                    self.member_path(element, rest)
                        .ok_or_else(|| format!("`{}` has no such member", parts.join(".")))?
                }
                _ => return Ok(v),
            };
        }
        Err("too many levels of `var`/`local` indirection".into())
    }

    /// The same module while an element of a `for_each` or `dynamic` block is
    /// `name.key` and `name.value`.
    pub(super) fn with_iterator(&self, name: &str, key: Value<'a>, item: &Value<'a>) -> Scope<'a> {
        let mut iterators = self.iterators.clone();
        iterators.push((name.to_string(), key, item.clone()));
        Scope {
            variables: self.variables.clone(),
            locals: self.locals.clone(),
            iterators,
            lookups: self.lookups,
        }
    }

    /// The member of `v` at `path`: names of object members, and index parts
    /// (`["k"]`, `[0]`, `[each.key]`, [`hcl::index_key`]) of objects and lists.
    fn member_path<'v>(&self, v: &'v Value<'v>, path: &[&str]) -> Option<&'v Value<'v>> {
        let mut v = v;
        for part in path {
            v = match hcl::index_key(part) {
                None => v.member(part)?,
                Some(key) => {
                    let key = self.key_of(key)?;
                    match &v.kind {
                        Kind::Array(items) => items.get(key.parse::<usize>().ok()?)?,
                        _ => v.member(&key)?,
                    }
                }
            };
        }
        Some(v)
    }

    /// Whether a traversal starting with `head` names a value of the module (`var`,
    /// `local`, an iterator) rather than a resource.
    fn holds_values(&self, head: &str) -> bool {
        matches!(head, "var" | "local") || self.iterators.iter().any(|(n, ..)| n == head)
    }

    /// The literal key of an index part: as written, or what its reference resolves to.
    fn key_of(&self, key: Result<&str, &str>) -> Option<String> {
        match key {
            Ok(k) => Some(k.to_string()),
            Err(reference) => {
                let parts = reference
                    .split('.')
                    .map(std::borrow::Cow::Borrowed)
                    .collect();
                let v = Value {
                    span: (0, 0),
                    kind: Kind::Traversal(parts),
                };
                match &self.resolve(&v).ok()?.kind {
                    Kind::Str(s) => Some(s.to_string()),
                    Kind::Number(n) => Some(n.clone()),
                    _ => None,
                }
            }
        }
    }

    /// A string (numbers and booleans as written) at `v`'s node; `None` when absent or
    /// null; `Err` when not literal.
    pub(super) fn lit(&self, v: &Value, what: &str) -> Option<Result<Lit, Unknown>> {
        let unknown = |why: String| Unknown {
            what: what.to_string(),
            why,
            span: v.span,
        };
        let r = match self.resolve(v) {
            Ok(r) => r,
            Err(why) => return Some(Err(unknown(why))),
        };
        let value = match &r.kind {
            Kind::Null => return None,
            Kind::Str(s) => s.to_string(),
            Kind::Number(n) => n.clone(),
            Kind::Bool(b) => b.to_string(),
            Kind::Interpolated(parts) => match self.splice(parts) {
                Ok(pieces) => pieces.into_iter().map(|(t, ..)| t).collect(),
                Err(why) => return Some(Err(unknown(why))),
            },
            k @ (Kind::Template | Kind::Traversal(_) | Kind::Call(..) | Kind::Other(_)) => {
                return Some(Err(unknown(why_not_literal(k))))
            }
            Kind::Heredoc { text, .. } => text.clone(),
            Kind::Array(_) | Kind::Object(_) => {
                return Some(Err(unknown("it is not a single value".into())))
            }
        };
        Some(Ok(Lit {
            value,
            span: v.span,
        }))
    }

    /// The pieces of an interpolated string whose every value is a literal (a variable's
    /// default, a local), as Terraform renders them: each with its range in the file and
    /// whether it is written there (text) or interpolated (a value). `Err` says why not.
    pub(super) fn splice(&self, parts: &[Part]) -> Result<Vec<(String, Range, bool)>, String> {
        parts
            .iter()
            .map(|p| match p {
                Part::Text(t, r) => Ok((t.to_string(), *r, true)),
                Part::Value(v, r) => match self.lit(v, "") {
                    Some(Ok(l)) => Ok((l.value, *r, false)),
                    Some(Err(u)) => Err(format!("it is a template with interpolation: {}", u.why)),
                    None => Err("it interpolates a null value".into()),
                },
            })
            .collect()
    }

    /// How an attribute names another resource: `type.name.attr`, a literal id, or an
    /// unknown value. `None` when absent or null.
    pub(super) fn reference(&self, v: &Value, what: &str) -> Option<Ref> {
        // A variable, local or iterator may hold a reference (`each.value` over a map of
        // destination ids): the reference it holds, located where it is used.
        let held = match &v.kind {
            Kind::Traversal(p) if self.holds_values(&p[0]) => self.resolve(v).unwrap_or(v),
            _ => v,
        };
        if let Kind::Traversal(parts) = &held.kind {
            // `each`, `count`, `self`, `path`, `terraform` name no resource: unknown values.
            let not_a_resource = matches!(
                &*parts[0],
                "var"
                    | "local"
                    | "data"
                    | "module"
                    | "each"
                    | "count"
                    | "self"
                    | "path"
                    | "terraform"
            );
            if parts.len() >= 2 && !not_a_resource && hcl::index_key(&parts[1]).is_none() {
                let mut address = hcl::dotted(&parts[0], &parts[1]);
                // `type.name["k"]`: one instance of a resource with `for_each`.
                if let Some(key) = parts.get(2).and_then(|p| hcl::index_key(p)) {
                    let Some(key) = self.key_of(key) else {
                        return Some(Ref::Unknown(Unknown {
                            what: what.to_string(),
                            why: format!(
                                "the instance `{}` is known only when applied",
                                hcl::traversal_text(&parts[..3])
                            ),
                            span: v.span,
                        }));
                    };
                    address.push_str(&hcl::string_index(&key));
                }
                return Some(Ref::Address {
                    address,
                    span: v.span,
                });
            }
        }
        match self.lit(v, what)? {
            Ok(l) => Some(Ref::Id(l)),
            Err(u) => Some(Ref::Unknown(u)),
        }
    }
}

/// A record of named values: a block's body or an object value (`field_mapping { … }`
/// and `field_mapping = [{ … }]` alike).
#[derive(Clone, Copy)]
pub(crate) enum Record<'a> {
    Body(&'a Body<'a>),
    Object(&'a [(Key<'a>, Value<'a>)]),
}

impl<'a> Record<'a> {
    pub(super) fn get(&self, key: &str) -> Option<&'a Value<'a>> {
        match self {
            Record::Body(b) => b.attr(key),
            Record::Object(m) => m.iter().find(|(k, _)| k.name == key).map(|(_, v)| v),
        }
    }

    /// Nested records named `key`: blocks, an object attribute, or a list of objects.
    pub(super) fn records(&self, scope: &'a Scope<'a>, key: &str) -> Records<'a> {
        let mut out = Records::new();
        if let Record::Body(b) = *self {
            for item in &b.items {
                if let super::hcl::Item::Block(bl) = item {
                    if bl.ident == key {
                        out.push(Record::Body(&bl.body));
                    }
                }
            }
        }
        if let Some(v) = self.get(key) {
            out.extend(records_of(scope, v));
        }
        out
    }
}

/// `dynamic "<name>" { for_each = … content { … } }`: `content` once per element of a
/// literal `for_each` (a list, a map, a variable's default, a local), with the scope
/// in which its iterator is that element. `Err`, unknown at the label (spec §7.3),
/// when `for_each` is not literal.
pub(super) fn each_dynamic<'a>(
    scope: &'a Scope<'a>,
    b: &'a Block<'a>,
    mut content: impl FnMut(&Scope<'a>, Record<'a>),
) -> Result<(), Unknown> {
    let name = b.labels.first().map_or("", |(l, _)| &**l);
    let label = b.labels.first().map_or(b.span, |(_, s)| *s);
    let iterator = b
        .body
        .attr("iterator")
        .and_then(|v| match &v.kind {
            Kind::Traversal(p) if p.len() == 1 => Some(p[0].to_string()),
            _ => None,
        })
        .unwrap_or_else(|| name.to_string());
    let unknown = |why: String| Unknown {
        what: format!("`dynamic \"{name}\"`"),
        why,
        span: label,
    };
    let Some(each) = b.body.attr("for_each") else {
        return Err(unknown("it has no `for_each`".into()));
    };
    let items = elements(scope, each, false).map_err(unknown)?;
    let Some(body) = b.body.block("content") else {
        return Ok(());
    };
    for (k, item) in items {
        let scope = scope.with_iterator(&iterator, k, &item);
        content(&scope, Record::Body(&body.body));
    }
    Ok(())
}

/// The elements of a literal `for_each` (a list, a map, `toset(…)`, a variable's
/// default, a local) as (key, value): a map's keys; a list's indexes, or with
/// `set_keys` (a resource's `for_each`, where a list is a set) its strings themselves.
/// `Err` says why it is not literal.
fn elements<'a>(
    scope: &'a Scope<'a>,
    each: &'a Value<'a>,
    set_keys: bool,
) -> Result<Vec<(Value<'a>, Value<'a>)>, String> {
    let mut v = scope
        .resolve(each)
        .map_err(|why| format!("its `for_each` cannot be read: {why}"))?;
    if let Kind::Call(f, args) = &v.kind {
        if f == "toset" && args.len() == 1 {
            v = scope
                .resolve(&args[0])
                .map_err(|why| format!("its `for_each` cannot be read: {why}"))?;
        }
    }
    let not_literal = || {
        format!(
            "its `for_each` is not literal: {}",
            why_not_literal(&v.kind)
        )
    };
    match &v.kind {
        Kind::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let kind = match (set_keys, scope.resolve(item).map(|x| &x.kind)) {
                    (false, _) => Kind::Number(i.to_string()),
                    (true, Ok(Kind::Str(s))) => Kind::Str(s.clone()),
                    (true, _) => {
                        return Err(
                            "its `for_each` holds a value that is not a literal string".into()
                        )
                    }
                };
                Ok((
                    Value {
                        span: item.span,
                        kind,
                    },
                    item.clone(),
                ))
            })
            .collect(),
        Kind::Object(members) => Ok(members
            .iter()
            .map(|(k, item)| {
                let key = Value {
                    span: k.span,
                    kind: Kind::Str(k.name.clone()),
                };
                (key, item.clone())
            })
            .collect()),
        _ => Err(not_literal()),
    }
}

impl<'a> Record<'a> {
    /// [`Record::records`] named `key`, with the `dynamic "<key>"` blocks expanded, and
    /// the values found that hold records but cannot be read literally (a variable
    /// without default, a function, a `for` expression): unknown (spec §7.3).
    pub(super) fn records_checked(
        &self,
        scope: &'a Scope<'a>,
        key: &str,
        mut each: impl FnMut(&Scope<'a>, Record<'_>, Option<Range>),
    ) -> Vec<Unknown> {
        let mut unknown = Vec::new();
        for r in self.records(scope, key) {
            each(scope, r, None);
        }
        if let Some(u) = self
            .get(key)
            .and_then(|v| unreadable_records(scope, v, key))
        {
            unknown.push(u);
        }
        if let Record::Body(b) = self {
            for d in b.blocks("dynamic") {
                if d.labels.first().map(|(l, _)| &**l) != Some(key) {
                    continue;
                }
                let label = d.labels.first().map(|(_, s)| *s);
                if let Err(u) = each_dynamic(scope, d, |s, r| each(s, r, label)) {
                    unknown.push(u);
                }
            }
        }
        unknown
    }
}

/// Why `v`, named `key`, is not literal records (an object, a list of objects, their
/// `jsonencode`); `None` when it is, or is null.
fn unreadable_records(scope: &Scope, v: &Value, key: &str) -> Option<Unknown> {
    let unknown = |why: String, span: Range| {
        Some(Unknown {
            what: format!("`{key}`"),
            why,
            span,
        })
    };
    let r = match scope.resolve(v) {
        Ok(r) => r,
        Err(why) => return unknown(why, v.span),
    };
    match &r.kind {
        Kind::Null | Kind::Object(_) => None,
        Kind::Array(items) => items.iter().find_map(|i| match scope.resolve(i) {
            Ok(x) if matches!(x.kind, Kind::Object(_) | Kind::Null) => None,
            Ok(x) => unknown(why_not_literal(&x.kind), i.span),
            Err(why) => unknown(why, i.span),
        }),
        Kind::Call(f, args) if f == "jsonencode" => {
            args.first().and_then(|a| unreadable_records(scope, a, key))
        }
        other => unknown(why_not_literal(other), v.span),
    }
}

/// Why a value of this kind is not the literal that was expected.
pub(super) fn why_not_literal(kind: &Kind) -> String {
    match kind {
        Kind::Template | Kind::Interpolated(_) => "it is a template with interpolation".into(),
        Kind::Traversal(p) => format!("`{}` is known only when applied", hcl::traversal_text(p)),
        Kind::Call(f, _) => format!("it calls `{f}()`"),
        Kind::Other(o) => format!("it is {o}"),
        _ => "it is not an object".into(),
    }
}

/// Records found under one name: usually one or a few, kept inline.
pub(crate) type Records<'a> = SmallVec<[Record<'a>; 4]>;

/// The records a value holds: an object, a list of objects, `jsonencode(object)`.
pub(crate) fn records_of<'a>(scope: &'a Scope<'a>, v: &'a Value<'a>) -> Records<'a> {
    let Ok(v) = scope.resolve(v) else {
        return Records::new();
    };
    match &v.kind {
        Kind::Object(m) => smallvec::smallvec![Record::Object(m)],
        Kind::Array(items) => items
            .iter()
            .filter_map(|i| match &scope.resolve(i).ok()?.kind {
                Kind::Object(m) => Some(Record::Object(m)),
                _ => None,
            })
            .collect(),
        Kind::Call(f, args) if f == "jsonencode" => args
            .first()
            .map(|a| records_of(scope, a))
            .unwrap_or_default(),
        _ => Records::new(),
    }
}

/// What one resource's reader has at hand.
pub(crate) struct Cx<'a> {
    pub file: FileId,
    pub src: &'a SourceFile,
    pub dir: Arc<Path>,
    pub scope: &'a Scope<'a>,
    pub diags: &'a mut Vec<Finding>,
    pub notes: &'a mut Vec<Note>,
    pub pieces: &'a mut Vec<Piece>,
    /// `["key"]` while one instance of a resource with a literal `for_each` is read.
    pub instance: Option<String>,
}

impl Cx<'_> {
    /// The address of `r`, or of the instance being read (`type.name["key"]`).
    pub(super) fn address(&self, r: &Resource) -> String {
        let mut a = r.address();
        if let Some(i) = &self.instance {
            a.push_str(i);
        }
        a
    }

    pub(super) fn loc(&self, r: Range) -> Loc {
        Loc {
            file: self.file,
            span: self.src.span_of_bytes(r.0, r.1),
        }
    }

    pub(super) fn error(&mut self, r: Range, message: impl Into<String>) {
        let loc = self.loc(r);
        self.diags
            .push(crate::diagnostic::Diag::Invalid(message.into()).at(loc));
    }

    pub(super) fn note(&mut self, span: Range, message: impl Into<String>) {
        self.notes.push(Note {
            file: self.file,
            span,
            message: message.into(),
        });
    }

    pub(super) fn piece(&mut self, r: &Resource, what: super::piece::What) {
        self.piece_named(self.address(r), r.name_span, what);
    }

    pub(super) fn piece_named(&mut self, name: String, name_span: Range, what: super::piece::What) {
        self.pieces.push(Piece {
            file: self.file,
            name,
            dir: self.dir.clone(),
            name_span,
            ids: Vec::new(),
            what,
        });
    }

    /// A required attribute; its absence is `invalid-manifest` at the resource's name.
    pub(super) fn required<'v>(
        &mut self,
        r: &Resource,
        rec: Record<'v>,
        key: &str,
    ) -> Option<&'v Value<'v>> {
        let v = rec.get(key).filter(|v| !v.is_null());
        if v.is_none() {
            self.error(
                r.name_span,
                format!("`{}` is missing the attribute `{key}`", self.address(r)),
            );
        }
        v
    }
}

/// Whether a resource type is one of ours (spec §3–§5).
pub(crate) fn is_ours(rtype: &str) -> bool {
    rudderstack::reads(rtype) || census::reads(rtype) || segment::reads(rtype)
}

/// Whether a resource type is one of our providers' (read or not).
pub(crate) fn is_providers(rtype: &str) -> bool {
    ["rudderstack_", "census_", "segment_"]
        .iter()
        .any(|p| rtype.starts_with(p))
}

/// What reading the resources of one file gave.
#[derive(Debug, Clone, Default)]
pub(crate) struct Read {
    pub pieces: Vec<Piece>,
    pub diags: Vec<Finding>,
    pub notes: Vec<Note>,
    /// The `var`/`local` names its values were resolved through, when read alone.
    pub lookups: Vec<Lookup>,
}

/// Reads the resources of ours in `tf` with the values `scope` knows.
fn read_resources<'a>(
    file: FileId,
    src: &SourceFile,
    tf: &'a TfFile<'a>,
    scope: &'a Scope<'a>,
) -> Read {
    let mut read = Read::default();
    // One piece per resource, with few exceptions: no vector of large pieces grown by
    // doubling.
    read.pieces.reserve(tf.resources.len());
    let dir = Arc::from(src.path.parent().unwrap_or(Path::new("")));
    let mut cx = Cx {
        file,
        src,
        dir,
        scope,
        diags: &mut read.diags,
        notes: &mut read.notes,
        pieces: &mut read.pieces,
        instance: None,
    };
    for r in &tf.resources {
        // A literal `for_each` makes one resource per element, `type.name["key"]`, in
        // which `each.key` and `each.value` are that element. Otherwise the resource is
        // read once, and what it takes from `each` is unknown where it is used (§7.3).
        let instances = r
            .body
            .attr("for_each")
            .and_then(|each| elements(scope, each, true).ok());
        let Some(instances) = instances else {
            read_resource(&mut cx, r);
            continue;
        };
        for (key, item) in instances {
            let name = key.as_str().unwrap_or_default();
            let scope = scope.with_iterator("each", key.clone(), &item);
            let mut one = Cx {
                file,
                src,
                dir: cx.dir.clone(),
                scope: &scope,
                diags: &mut *cx.diags,
                notes: &mut *cx.notes,
                pieces: &mut *cx.pieces,
                instance: Some(hcl::string_index(name)),
            };
            read_resource(&mut one, r);
        }
    }
    for (address, span) in &tf.unread {
        let rtype = address.split('.').next().unwrap_or("").to_string();
        cx.piece_named(address.clone(), *span, super::piece::What::Unread { rtype });
    }
    read
}

fn read_resource(cx: &mut Cx<'_>, r: &Resource) {
    if rudderstack::reads(&r.rtype) {
        rudderstack::read(cx, r);
    } else if census::reads(&r.rtype) {
        census::read(cx, r);
    } else if segment::reads(&r.rtype) {
        segment::read(cx, r);
    }
}

/// Reads the resources of one file with its own `variable` and `locals` values only, in
/// the parallel read phase. What it looked up says whether the module's other files can
/// change the result (see [`read_modules`]).
pub(crate) fn read_alone(file: FileId, src: &SourceFile, tf: &TfFile<'_>) -> Read {
    let lookups = RefCell::new(FxHashSet::default());
    let mut read = read_resources(file, src, tf, &Scope::of_file(tf, &lookups));
    read.lookups = lookups.into_inner().into_iter().collect();
    read
}

/// One `.tf` file of a module: parsed, and its resources read alone.
pub(crate) struct ModuleFile<'a> {
    pub file: FileId,
    pub src: &'a SourceFile,
    pub tf: &'a TfFile<'static>,
    pub alone: Read,
}

/// Whether a file of the module other than `own` declares what `l` looks up.
fn declared_elsewhere(module: &[ModuleFile<'_>], own: usize, l: &Lookup) -> bool {
    module.iter().enumerate().any(|(i, f)| {
        i != own
            && match l {
                Lookup::Var(n) => f.tf.variables.iter().any(|(v, _)| v == n),
                Lookup::Local(n) => f.tf.locals.iter().any(|(v, _)| v == n),
            }
    })
}

/// The pieces of every module (files grouped by directory, in the order first seen).
/// A file keeps what it gave read alone unless a value it looked up is declared by
/// another file of its module: that file is read again with the module's values.
pub(crate) fn read_modules(
    files: Vec<ModuleFile<'_>>,
    diags: &mut Vec<Finding>,
    notes: &mut Vec<Note>,
) -> Vec<Piece> {
    let mut index: FxHashMap<&Path, usize> = FxHashMap::default();
    let mut by_dir: Vec<(&Path, Vec<ModuleFile>)> = Vec::new();
    for f in files {
        let dir = f.src.path.parent().unwrap_or(Path::new(""));
        match index.get(dir) {
            Some(&i) => by_dir[i].1.push(f),
            None => {
                index.insert(dir, by_dir.len());
                by_dir.push((dir, vec![f]));
            }
        }
    }
    // Pieces are large: growing by doubling would copy them again and again.
    let read_alone: usize = by_dir
        .iter()
        .flat_map(|(_, m)| m.iter().map(|f| f.alone.pieces.len()))
        .sum();
    let mut pieces = Vec::with_capacity(read_alone);
    for (_, module) in &mut by_dir {
        let again: Vec<bool> = (0..module.len())
            .map(|i| {
                let lookups = &module[i].alone.lookups;
                lookups.iter().any(|l| declared_elsewhere(module, i, l))
            })
            .collect();
        let tfs: Vec<&TfFile> = module.iter().map(|f| f.tf).collect();
        let scope = again.contains(&true).then(|| Scope::new(&tfs));
        for (f, again) in module.iter_mut().zip(again) {
            let read = match (&scope, again) {
                (Some(scope), true) => read_resources(f.file, f.src, f.tf, scope),
                _ => std::mem::take(&mut f.alone),
            };
            diags.extend(read.diags);
            notes.extend(read.notes);
            pieces.extend(read.pieces);
        }
    }
    // Literal ids of imported resources, for Git Sync exports that refer by id.
    let mut ids: FxHashMap<(&Path, &str), Vec<String>> = FxHashMap::default();
    for (dir, module) in &by_dir {
        for f in module {
            for i in &f.tf.imports {
                let found = ids.entry((dir, i.to.as_str())).or_default();
                found.push(i.id.clone());
                // Census imports by `<workspace_id>:<id>`; configurations name the id.
                if i.to.starts_with("census_") {
                    if let Some((_, id)) = i.id.rsplit_once(':') {
                        found.push(id.to_string());
                    }
                }
            }
        }
    }
    if !ids.is_empty() {
        for p in &mut pieces {
            if let Some(found) = ids.remove(&(&*p.dir, p.name.as_str())) {
                p.ids.extend(found);
            }
        }
    }
    pieces
}
