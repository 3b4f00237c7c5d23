//! Pieces into the model: names made unique, references resolved, sources linked to the
//! warehouse by relation name (spec §7), destinations classified by the catalogue (§8),
//! and the flows of every connection (§2–§6).

use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use super::catalogue::{self, Entry};
use super::hcl::Range;
use super::piece::{
    Connection, Destination, Note, Origin, Piece, Platform, Ref, Source, Sql, Unknown, Use, What,
};
use super::terraform::{self, ModuleFile};
use super::text::Embedded;
use super::File;
use crate::config::ExternalDataset;
use crate::diagnostic::Diag;
use crate::finding::{Finding, Severity};
use crate::graph::FlowGraph;
use crate::model::{
    DatasetId, FieldId, Flow, FlowKind, Model, Named, SinkId, StepId, SymbolTarget, Target,
    Unclassified,
};
use crate::rules::Rule;
use crate::session::LinkCx;
use crate::source::{FileId, Loc, Sources, Span};
use crate::sql::{self, Catalog, Dialect, SqlSpan, Upstream};
use crate::suggest;

/// Configuration of the activation formats (`destinations:`, `relations:`).
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `<platform>:<type>` or a destination's name → its uses.
    pub destinations: Vec<(String, Vec<String>)>,
    /// Relation → dataset name.
    pub relations: Vec<(String, String)>,
    /// The configuration's dataset and destination names, checked after linking.
    pub named: crate::config::ConfigNames,
}

/// What declaring handed to linking: the pieces with their names, and what they became.
#[derive(Default)]
pub(crate) struct Declared {
    pieces: Vec<Piece>,
    dirs: Vec<u32>,
    dir_depths: Vec<u32>,
    names: Vec<String>,
    datasets: FxHashMap<usize, DatasetId>,
    /// Event-stream sources without a `kind: dataset` schema.
    schemaless: FxHashSet<DatasetId>,
    sinks: FxHashMap<usize, SinkId>,
    notes: Vec<Note>,
}

struct Linker<'m> {
    model: &'m mut Model,
    opts: &'m Options,
    external_cfg: &'m [ExternalDataset],
    diags: &'m mut Vec<Finding>,
    /// SQL files named by rudder-cli models, read through the session.
    sql_files: FxHashMap<PathBuf, FileId>,
    /// Pieces by name and by the literal ids they can be named by.
    by_name: FxHashMap<String, Vec<usize>>,
    by_id: FxHashMap<String, Vec<usize>>,
    /// The instances of resources with `for_each` (`type.name["k"]`) by `type.name`.
    instances: FxHashMap<String, Vec<usize>>,
    /// Each piece's directory, as a small id.
    dirs: Vec<u32>,
    /// The number of components of each directory, by id.
    dir_depths: Vec<u32>,
    pieces: Vec<Piece>,
    /// Display name of each piece.
    names: Vec<String>,
    datasets: FxHashMap<usize, DatasetId>,
    sinks: FxHashMap<usize, SinkId>,
    /// Datasets whose missing columns come from these upstreams, at this link node.
    upstream: FxHashMap<DatasetId, (Vec<DatasetId>, Loc, StepId)>,
    /// [`Linker::columns_of`], with the number of fields each list was made from.
    columns: FxHashMap<DatasetId, (usize, Rc<[String]>)>,
    /// Datasets made for relations no format declares.
    externals: FxHashMap<String, DatasetId>,
    steps: FxHashMap<usize, StepId>,
    /// Datasets made for literal source ids that resolve to nothing (`<platform>:<id>`).
    placeholders: FxHashSet<DatasetId>,
    /// Event-stream sources that no `kind: dataset` gives a schema: they have only the
    /// fields mappings read.
    schemaless: FxHashSet<DatasetId>,
    /// What a repeated name's directory is relative to, absolute: the configuration
    /// file's folder, else the folder holding every checked path, so that names (and
    /// `relations:` and `destinations:` keys) do not depend on the working directory.
    prefix_base: Option<PathBuf>,
}

/// Reads every module's resources, names every piece and adds the datasets and sinks
/// they declare.
pub(super) fn declare(files: Vec<(FileId, File)>, cx: &mut LinkCx<'_>) -> Declared {
    let mut notes: Vec<Note> = Vec::new();
    let mut pieces = Vec::new();
    let mut tfs = Vec::new();
    for (id, f) in files {
        notes.extend(f.notes);
        pieces.extend(f.pieces);
        if let Some(tf) = f.tf {
            tfs.push((id, tf, f.alone));
        }
    }
    let mut declared = Declared {
        notes,
        ..Declared::default()
    };
    if pieces.is_empty() && tfs.is_empty() {
        return declared;
    }
    let module_files: Vec<ModuleFile> = tfs
        .iter_mut()
        .map(|(id, tf, alone)| ModuleFile {
            file: *id,
            src: cx.model.sources.get(*id),
            tf,
            alone: std::mem::take(alone),
        })
        .collect();
    let mut all = terraform::read_modules(module_files, &mut cx.diags, &mut declared.notes);
    all.append(&mut pieces);
    let mut l = Linker::new(cx, Declared::default(), FxHashMap::default());
    l.name_pieces(all);
    l.declare();
    declared.pieces = l.pieces;
    declared.dirs = l.dirs;
    declared.dir_depths = l.dir_depths;
    declared.names = l.names;
    declared.datasets = l.datasets;
    declared.schemaless = l.schemaless;
    declared.sinks = l.sinks;
    declared
}

/// Links sources to the warehouse and adds the flows of every connection.
pub(super) fn link(mut declared: Declared, cx: &mut LinkCx<'_>) {
    // Without activation configs there is nothing to link (and no relation index to build).
    if declared.pieces.is_empty() && declared.notes.is_empty() {
        return;
    }
    // SQL files that rudder-cli models name, read through the session.
    let mut sql_files = FxHashMap::default();
    for p in &declared.pieces {
        let What::Source(Source {
            origin:
                Origin::Sql(Sql {
                    file: Some((rel, _)),
                    ..
                }),
            ..
        }) = &p.what
        else {
            continue;
        };
        let path = sql_path(&cx.model.sources, p.file, rel);
        if sql_files.contains_key(&path) {
            continue;
        }
        let existing = cx.model.sources.files.iter().position(|f| f.path == path);
        let id = match existing {
            Some(i) => Some(i as FileId),
            None => cx.read_file(&path).map(|text| {
                let display = crate::discover::display_path(&path);
                let src = crate::source::SourceFile::new(path.clone(), display, &text);
                cx.model.sources.files.push(std::sync::Arc::new(src));
                (cx.model.sources.files.len() - 1) as FileId
            }),
        };
        if let Some(id) = id {
            sql_files.insert(path, id);
        }
    }
    let notes = std::mem::take(&mut declared.notes);
    let mut l = Linker::new(cx, declared, sql_files);
    l.register_relations();
    // Flows and fields grow by doubling otherwise, copying what they hold: a connection
    // sends a handful of columns, a source holds a table's.
    let uses: usize = l
        .pieces
        .iter()
        .map(|p| match &p.what {
            What::Connection(c) => c.uses.len() + 4,
            What::Source(_) => 12,
            _ => 0,
        })
        .sum();
    l.model.flows.reserve(uses);
    l.model.reserve_fields(uses);
    l.link_sources();
    l.link_connections();
    for n in notes {
        let loc = l.loc(n.file, n.span);
        l.diags.push(Diag::NotFollowed(n.message).at(loc));
    }
}

impl<'m> Linker<'m> {
    fn new(cx: &'m mut LinkCx<'_>, d: Declared, sql_files: FxHashMap<PathBuf, FileId>) -> Self {
        let opts = cx.opts;
        // Repeated addresses are prefixed relative to the configuration's folder, else to
        // the folder holding every checked path: the same names whatever the working
        // directory or the spelling of the paths.
        let prefix_base = (opts.config_file.as_ref())
            .and_then(|f| {
                Some(crate::config::normalize(
                    std::path::absolute(&f.path).ok()?.parent()?,
                ))
            })
            .or_else(|| {
                let cwd = std::env::current_dir().ok()?;
                Some(crate::config::search_start(&opts.paths, &cwd))
            });
        Linker {
            prefix_base,
            model: &mut *cx.model,
            opts: &opts.activation,
            external_cfg: &opts.external_datasets,
            diags: &mut cx.diags,
            sql_files,
            pieces: d.pieces,
            names: d.names,
            datasets: d.datasets,
            sinks: d.sinks,
            upstream: FxHashMap::default(),
            columns: FxHashMap::default(),
            externals: FxHashMap::default(),
            steps: FxHashMap::default(),
            placeholders: FxHashSet::default(),
            schemaless: d.schemaless,
            by_name: FxHashMap::default(),
            by_id: FxHashMap::default(),
            instances: FxHashMap::default(),
            dirs: d.dirs,
            dir_depths: d.dir_depths,
        }
        .indexed()
    }

    fn indexed(mut self) -> Self {
        for (i, p) in self.pieces.iter().enumerate() {
            self.by_name.entry(p.name.clone()).or_default().push(i);
            for id in &p.ids {
                self.by_id.entry(id.clone()).or_default().push(i);
            }
            // Only an instance's name ends with `]` (`type.name["k"]`).
            if let Some(at) = p.name.ends_with(']').then(|| p.name.find('[')).flatten() {
                let base = p.name[..at].to_string();
                self.instances.entry(base).or_default().push(i);
            }
        }
        self
    }
}

/// `first`, then the rest of the chain tried when the warehouse is not known.
fn dialects_from(mut first: Vec<Dialect>) -> Vec<Dialect> {
    for d in Dialect::CHAIN {
        if !first.contains(d) {
            first.push(*d);
        }
    }
    first
}

/// Sources whose SQL is parsed at a time, in parallel, while the chunk before is linked
/// one by one: few enough that the statements (kilobytes each in sqlparser's tree) never
/// pile up.
/// Parsed in the read phase instead, and kept until linking, they doubled a check's
/// memory and slowed it down (`docs/performance.md`, twelfth session). An editor session
/// keeps them with its pieces ([`Sql::keep`]), so that the next run parses only what
/// changed.
const PARSE_AHEAD: usize = 128;

/// A destination's `<platform>:<type>`, or why its type cannot be read.
type TypeKey = Result<String, String>;

/// A source's SQL parsed ahead, with the dialects it was parsed in.
type Parsing = (Vec<Dialect>, sql::Parsed);

/// [`Linker::jobs`] parsed, in parallel.
fn parse_all(jobs: Vec<Option<(String, Vec<Dialect>)>>) -> Vec<Option<Parsing>> {
    jobs.into_par_iter()
        .map(|job| {
            let (text, dialects) = job?;
            let parsed = sql::parse_first(&text, &dialects);
            Some((dialects, parsed))
        })
        .collect()
}

/// Where a rudder-cli model's SQL file `rel`, named in `file`, is: relative to that file.
fn sql_path(sources: &Sources, file: FileId, rel: &str) -> PathBuf {
    let dir = sources.get(file).path.parent();
    crate::config::normalize(&dir.unwrap_or(Path::new("")).join(rel))
}

/// The platform a piece belongs to, by its resource type or format.
fn platform_of(p: &Piece) -> Platform {
    if p.name.starts_with("census_") {
        Platform::Census
    } else if p.name.starts_with("segment_") {
        Platform::Segment
    } else {
        Platform::RudderStack
    }
}

fn is_cli(p: &Piece) -> bool {
    !p.name.starts_with("rudderstack_")
        && !p.name.starts_with("census_")
        && !p.name.starts_with("segment_")
}

/// How many leading components two directories share.
fn shared(a: &Path, b: &Path) -> usize {
    a.components()
        .zip(b.components())
        .take_while(|(x, y)| x == y)
        .count()
}

impl Linker<'_> {
    /// The lower-cased names of `d`'s fields, each once, in field order, as SQL reading
    /// it sees them: made again only when the dataset has gained fields since.
    fn columns_of(&mut self, d: DatasetId) -> Rc<[String]> {
        let n = self.model.datasets[d as usize].fields.len();
        if let Some((had, columns)) = self.columns.get(&d) {
            if *had == n {
                return columns.clone();
            }
        }
        let mut columns: Vec<String> = Vec::new();
        for name in self.model.field_names(d) {
            let mut name = name.to_string();
            crate::model::lowercase_in_place(&mut name);
            if !columns.contains(&name) {
                columns.push(name);
            }
        }
        let columns: Rc<[String]> = columns.into();
        self.columns.insert(d, (n, columns.clone()));
        columns
    }

    fn loc(&self, file: FileId, r: Range) -> Loc {
        Loc {
            file,
            span: self.model.sources.get(file).span_of_bytes(r.0, r.1),
        }
    }

    fn report(&mut self, diag: Diag, file: FileId, r: Range) {
        let loc = self.loc(file, r);
        self.diags.push(diag.at(loc));
    }

    /// Every dataset the other formats declared is a relation candidate by its name.
    fn register_relations(&mut self) {
        let ours: FxHashSet<DatasetId> = self.datasets.values().copied().collect();
        for d in 0..self.model.datasets.len() as DatasetId {
            if ours.contains(&d) {
                continue;
            }
            let name = self.model.datasets[d as usize].name.clone();
            self.model.add_relation(&name, d);
        }
    }

    /// Names are addresses (or `<kind>.<id>`); one that two directories declare is
    /// prefixed with its directory, one declared twice in a directory is a duplicate.
    fn name_pieces(&mut self, pieces: Vec<Piece>) {
        // Directories as small ids, so that pieces compare them cheaply.
        let mut ids: FxHashMap<&Path, u32> = FxHashMap::default();
        let mut depths = Vec::new();
        let dir_of: Vec<u32> = pieces
            .iter()
            .map(|p| {
                let n = ids.len() as u32;
                *ids.entry(&*p.dir).or_insert_with(|| {
                    depths.push(p.dir.components().count() as u32);
                    n
                })
            })
            .collect();
        self.dir_depths = depths;
        // Each name's first directory, and whether another directory declares it too.
        let mut dirs: FxHashMap<&str, (u32, bool)> = FxHashMap::default();
        // For each piece: the earlier piece it repeats in its own directory, if any.
        let mut seen: FxHashMap<(u32, &str), usize> = FxHashMap::default();
        let mut repeats: Vec<Option<usize>> = Vec::with_capacity(pieces.len());
        for (i, p) in pieces.iter().enumerate() {
            let dir = dir_of[i];
            let (first_dir, elsewhere) = dirs.entry(p.name.as_str()).or_insert((dir, false));
            *elsewhere |= *first_dir != dir;
            repeats.push(match seen.entry((dir, p.name.as_str())) {
                std::collections::hash_map::Entry::Occupied(first) => Some(*first.get()),
                std::collections::hash_map::Entry::Vacant(slot) => {
                    slot.insert(i);
                    None
                }
            });
        }
        let prefixed: Vec<bool> = pieces.iter().map(|p| dirs[p.name.as_str()].1).collect();
        drop((dirs, seen, ids));
        // The directory a prefixed name starts with, once per file (`Path::display` costs
        // more than the rest of naming).
        let mut file_dirs: FxHashMap<FileId, String> = FxHashMap::default();
        self.names.reserve(pieces.len());
        self.dirs.reserve(pieces.len());
        for (i, p) in pieces.iter().enumerate() {
            if let Some(first) = repeats[i] {
                let first = &pieces[first];
                let at = self.loc(first.file, first.name_span);
                let diag = Diag::Duplicate {
                    what: None,
                    name: p.name.clone(),
                    first: self.model.sources.file_line(at),
                };
                self.report(diag, p.file, p.name_span);
                continue;
            }
            let name = if prefixed[i] {
                let dir = file_dirs
                    .entry(p.file)
                    .or_insert_with(|| self.dir_prefix(p.file));
                let mut name = String::with_capacity(dir.len() + p.name.len());
                name.push_str(dir);
                name.push_str(&p.name);
                name
            } else {
                p.name.clone()
            };
            self.names.push(name);
            self.dirs.push(dir_of[i]);
        }
        // Repeats leave in place: pieces are large, and moving every one cost more
        // than naming them.
        let mut pieces = pieces;
        if repeats.iter().any(Option::is_some) {
            let mut i = 0;
            pieces.retain(|_| {
                i += 1;
                repeats[i - 1].is_none()
            });
        }
        self.pieces = pieces;
    }

    /// The directory that names of `file`'s pieces start with when their address repeats:
    /// relative to `prefix_base` (as displayed when below neither); `./` for that folder.
    fn dir_prefix(&self, file: FileId) -> String {
        let src = self.model.sources.get(file);
        let in_base = self.prefix_base.as_ref().and_then(|base| {
            let abs = crate::config::normalize(&std::path::absolute(&src.path).ok()?);
            Some(abs.strip_prefix(base).ok()?.to_path_buf())
        });
        let file = in_base.unwrap_or_else(|| PathBuf::from(&src.display));
        match file.parent().filter(|d| !d.as_os_str().is_empty()) {
            Some(dir) => format!("{}/", dir.display()),
            None => "./".to_string(),
        }
    }

    /// Records, for the editor, that `span` of `file` names piece `i`'s dataset or sink.
    fn note_reference(&mut self, file: FileId, (start, end): (u32, u32), i: usize) {
        let target = match (self.sinks.get(&i), self.datasets.get(&i)) {
            (Some(&s), _) => SymbolTarget::Sink(s),
            (None, Some(&d)) => SymbolTarget::Dataset(d),
            (None, None) => return,
        };
        let span = Span {
            start,
            end,
            ..Span::default()
        };
        self.model.note(file, span, target, false);
    }

    /// [`shared`] of two pieces' directories; a piece's own directory shares all of its
    /// components, counted without comparing them.
    fn shared_dirs(&self, a: usize, b: usize) -> usize {
        let (pa, pb) = (&self.pieces[a].dir, &self.pieces[b].dir);
        if self.dirs[a] == self.dirs[b] {
            self.dir_depths[self.dirs[a] as usize] as usize
        } else {
            shared(pa, pb)
        }
    }

    /// The pieces of `list` that piece `from` can name: of its module, or any for
    /// rudder-cli.
    fn in_reach<'s>(
        &'s self,
        from: usize,
        cli: bool,
        list: Option<&'s Vec<usize>>,
    ) -> impl Iterator<Item = usize> + 's {
        let dir = self.dirs[from];
        let list = list.into_iter().flatten().copied();
        list.filter(move |&i| cli || self.dirs[i] == dir)
    }

    /// Of [`Linker::in_reach`], the nearest to `from` by directory.
    fn nearest(&self, from: usize, cli: bool, list: Option<&Vec<usize>>) -> Option<usize> {
        self.in_reach(from, cli, list)
            .max_by_key(|&i| self.shared_dirs(from, i))
    }

    /// The piece `r` names, seen from piece `from`. Terraform addresses resolve in the
    /// same module; rudder-cli URNs and literal ids resolve to the nearest declaration.
    fn resolve(&mut self, from: usize, r: &Ref) -> Resolved {
        let p = &self.pieces[from];
        match r {
            Ref::Address { address, span } => {
                let cli = is_cli(p);
                let mut found = self.nearest(from, cli, self.by_name.get(address));
                if found.is_none() {
                    match address.find('[') {
                        // `type.name[0]` of a resource without `for_each` (`count`).
                        Some(at) => {
                            found = self.nearest(from, cli, self.by_name.get(&address[..at]))
                        }
                        None => {
                            let n = self
                                .in_reach(from, cli, self.instances.get(address))
                                .count();
                            if n > 1 {
                                return Resolved::Unknown(Unknown {
                                    what: format!("`{address}`"),
                                    why: format!(
                                        "it names {n} instances of a `for_each`; which one is known only when applied"
                                    ),
                                    span: *span,
                                });
                            }
                            found = self.nearest(from, cli, self.instances.get(address));
                        }
                    }
                }
                match found {
                    Some(i) => {
                        self.note_reference(p.file, *span, i);
                        Resolved::Piece(i)
                    }
                    None => {
                        let (file, span) = (p.file, *span);
                        let in_module: Vec<&str> = self
                            .pieces
                            .iter()
                            .zip(&self.dirs)
                            .filter(|(_, &d)| cli || d == self.dirs[from])
                            .map(|(q, _)| q.name.as_str())
                            .collect();
                        let suggestion = suggest::closest(address, in_module.iter().copied())
                            .map(str::to_string);
                        let place = if cli { "this project" } else { "this module" };
                        let diag = Diag::UnknownAddress {
                            address: address.clone(),
                            place: place.into(),
                            suggestion,
                        };
                        self.report(diag, file, span);
                        Resolved::Missing
                    }
                }
            }
            Ref::Id(lit) => {
                let found = self
                    .by_id
                    .get(&lit.value)
                    .into_iter()
                    .flatten()
                    .copied()
                    .max_by_key(|&i| self.shared_dirs(from, i));
                match found {
                    Some(i) => {
                        self.note_reference(p.file, lit.span, i);
                        Resolved::Piece(i)
                    }
                    None => Resolved::Id(lit.value.clone(), lit.span),
                }
            }
            Ref::Unknown(u) => Resolved::Unknown(u.clone()),
        }
    }

    fn declare(&mut self) {
        let (mut datasets, mut sinks) = (0, 0);
        for p in &self.pieces {
            match p.what {
                What::Destination(_) => sinks += 1,
                What::Source(_) | What::EventSource => datasets += 1,
                What::Connection(_) | What::Warehouse { .. } | What::Unread { .. } => {}
            }
        }
        self.model.reserve_names(datasets, sinks);
        for i in 0..self.pieces.len() {
            let p = &self.pieces[i];
            if matches!(
                p.what,
                What::Connection(_) | What::Warehouse { .. } | What::Unread { .. }
            ) {
                continue;
            }
            let loc = self.loc(p.file, p.name_span);
            let name = self.names[i].clone();
            match &p.what {
                What::Destination(d) => {
                    let uses = self.classify(&self.names[i], d, loc);
                    match self.model.add_sink(name, uses.0, loc) {
                        Ok(s) => {
                            self.sinks.insert(i, s);
                            if let Some((key, at)) = uses.1 {
                                self.model.unclassified.push(Unclassified {
                                    sink: s,
                                    key,
                                    loc: at,
                                });
                            }
                        }
                        Err(existing) => self.duplicate(i, loc, existing),
                    }
                }
                What::Source(_) => match self.model.add_dataset(name, loc, false) {
                    Ok(d) => {
                        self.model.datasets[d as usize].filled_later = true;
                        self.datasets.insert(i, d);
                    }
                    Err(existing) => self.duplicate(i, loc, existing),
                },
                What::EventSource => {
                    // A native dataset of the same name is its event schema, or one of
                    // the other spelling: an address repeated per environment (so named
                    // with its directory) shares the schema named by the address alone,
                    // and a schema named with its directory also serves a run of that
                    // directory alone.
                    let d = match self.model.lookup(&name) {
                        Some(Named::Dataset(d)) => Some(d),
                        Some(existing @ Named::Sink(_)) => {
                            self.duplicate(i, loc, existing);
                            None
                        }
                        None => {
                            let other = match p.name != name {
                                true => p.name.clone(),
                                false => self.dir_prefix(p.file) + &name,
                            };
                            match self.model.lookup(&other) {
                                Some(Named::Dataset(d)) => Some(d),
                                _ => {
                                    let d = self.model.add_dataset(name, loc, false).ok();
                                    self.schemaless.extend(d);
                                    d
                                }
                            }
                        }
                    };
                    if let Some(d) = d {
                        self.model.datasets[d as usize].open = true;
                        self.datasets.insert(i, d);
                    }
                }
                What::Connection(_) | What::Warehouse { .. } | What::Unread { .. } => {}
            }
        }
    }

    /// Piece `i`'s name is already `existing`'s.
    fn duplicate(&mut self, i: usize, loc: Loc, existing: Named) {
        let diag = Diag::Duplicate {
            what: None,
            name: self.names[i].clone(),
            first: self.model.sources.file_line(self.model.loc_of(existing)),
        };
        self.diags.push(diag.at(loc));
    }

    /// Uses of a destination, and its catalogue key and type node when it is unclassified.
    fn classify(
        &self,
        name: &str,
        d: &Destination,
        loc: Loc,
    ) -> (Vec<String>, Option<(TypeKey, Loc)>) {
        if let Some((_, uses)) = self.opts.destinations.iter().find(|(k, _)| k == name) {
            return (uses.clone(), None);
        }
        let (kind, at) = match &d.kind {
            Ok(l) => (l.value.clone(), l.span),
            Err(u) => (format!("<unknown: {}>", u.why), u.span),
        };
        let configured = self
            .opts
            .destinations
            .iter()
            .find(|(k, _)| match k.split_once(':') {
                Some((p, t)) => {
                    p == d.platform.as_str()
                        && (t == kind
                            || (d.platform != Platform::Segment && t.eq_ignore_ascii_case(&kind)))
                }
                None => false,
            });
        if let Some((_, uses)) = configured {
            return (uses.clone(), None);
        }
        if d.kind.is_ok() {
            if let Some(e) = catalogue::lookup(d.platform, &kind) {
                return (e.uses.iter().map(|u| u.to_string()).collect(), None);
            }
        }
        // Unclassified: only now its key and place are needed.
        let key = match &d.kind {
            Ok(_) => Ok(format!("{}:{kind}", d.platform.as_str())),
            Err(u) => Err(u.why.clone()),
        };
        let file = loc.file;
        let at = Loc {
            file,
            span: self.model.sources.get(file).span_of_bytes(at.0, at.1),
        };
        (Vec::new(), Some((key, at)))
    }

    fn entry_of(&self, i: usize) -> Option<&'static Entry> {
        let What::Destination(d) = &self.pieces[i].what else {
            return None;
        };
        let kind = d.kind.as_ref().ok()?;
        catalogue::lookup(d.platform, &kind.value)
    }

    fn step(&mut self, i: usize) -> StepId {
        if let Some(&s) = self.steps.get(&i) {
            return s;
        }
        let p = &self.pieces[i];
        let loc = self.loc(p.file, p.name_span);
        let s = self.model.add_step(self.names[i].clone(), loc, Vec::new());
        self.steps.insert(i, s);
        s
    }

    fn flow(
        &mut self,
        from: FieldId,
        to: Target,
        kind: FlowKind,
        functions: Vec<String>,
        step: StepId,
        loc: Loc,
    ) -> u32 {
        self.model.flows.push(Flow {
            from,
            to,
            kind,
            functions,
            step,
            loc,
            focus: None,
        });
        (self.model.flows.len() - 1) as u32
    }

    /// The datasets a relation reads: matched by name, where a `relations:` key is one
    /// more candidate name of its target that wins ties (a pin of `contacts` does not take
    /// `auth.contacts` from the dataset of that name); none is an external dataset.
    /// Reports ambiguity and unlinked relations at `at`, which is worked out only then
    /// (finding a name in the SQL costs more than linking it).
    fn relation(&mut self, name: &str, at: impl Fn(&Self) -> Loc) -> Vec<DatasetId> {
        let parts = crate::model::relation_parts(name);
        let (best, found) = self.model.best_relation_match(&parts);
        let mut pin: Option<(usize, &(String, String))> = None;
        for entry in &self.opts.relations {
            let kp = crate::model::relation_parts(&entry.0);
            let n = kp.len().min(parts.len());
            let matches = n > 0 && kp[kp.len() - n..] == parts[parts.len() - n..];
            if matches && pin.is_none_or(|(m, _)| n > m) {
                pin = Some((n, entry));
            }
        }
        if let Some((_, (key, target))) = pin.filter(|&(n, _)| n >= best) {
            if let Some(d) = self.model.dataset_id(target) {
                return vec![d];
            }
            let suggestion = suggest::closest(target, self.model.names()).map(str::to_string);
            let diag = Diag::BadRelationPin {
                relation: key.clone(),
                target: target.clone(),
                suggestion,
            };
            let loc = at(self);
            self.diags.push(diag.at(loc));
        }
        match found.len() {
            0 => {}
            1 => return found,
            _ => {
                let candidates: Vec<String> = found
                    .iter()
                    .map(|&d| self.model.datasets[d as usize].name.clone())
                    .collect();
                let diag = Diag::AmbiguousRelation {
                    relation: name.to_string(),
                    candidates,
                };
                let loc = at(self);
                self.diags.push(diag.at(loc));
                return found;
            }
        }
        let key = parts.join(".");
        if let Some(&d) = self.externals.get(&key) {
            return vec![d];
        }
        let external_name = key.clone();
        let at = at(self);
        let d = match self.model.add_dataset(external_name.clone(), at, true) {
            Ok(d) => d,
            Err(_) => return Vec::new(),
        };
        let purposes: Vec<String> = self
            .external_cfg
            .iter()
            .filter(|e| e.matcher.is_match(&external_name))
            .flat_map(|e| e.purposes.iter().cloned())
            .collect();
        let message = match purposes.is_empty() {
            true => format!("no dataset declares relation `{name}`; it is read as an external dataset without purposes (declare it, or give it purposes with `external_datasets`)"),
            false => format!("no dataset declares relation `{name}`; it is read as an external dataset with the purposes `external_datasets` gives it ({})", purposes.join(", ")),
        };
        let ds = &mut self.model.datasets[d as usize];
        ds.open = true;
        for p in purposes {
            if !ds.purposes.contains(&p) {
                ds.purposes.push(p);
            }
        }
        // Shared by sources that name the same relation, but no candidate of another
        // one: an unlinked `public.users` does not declare a `users` elsewhere.
        self.externals.insert(key, d);
        self.diags.push(Diag::NotFollowed(message).at(at));
        vec![d]
    }

    /// Field `column` of dataset `d`, matched case-insensitively; a missing column is
    /// added where the dataset is open (dbt sources, externals, event streams, sources
    /// over them) and an `unknown-reference` elsewhere.
    fn column(&mut self, d: DatasetId, column: &str, at: Loc) -> Option<FieldId> {
        self.column_depth(d, column, at, 0)
    }

    fn column_depth(
        &mut self,
        d: DatasetId,
        column: &str,
        at: Loc,
        depth: usize,
    ) -> Option<FieldId> {
        if let Some(f) = self.field_named(d, column) {
            return Some(f);
        }
        if depth > 32 {
            return None;
        }
        if let Some((ups, link, step)) = self.upstream.get(&d).cloned() {
            let mut froms = Vec::new();
            for u in &ups {
                let found =
                    if self.model.datasets[*u as usize].open || self.upstream.contains_key(u) {
                        self.column_depth(*u, column, at, depth + 1)
                    } else {
                        // A dbt model that passes what it does not list (`select *`).
                        let known = self.field_named(*u, column);
                        known.or_else(|| self.model.demand_later(*u, column))
                    };
                froms.extend(found);
            }
            if froms.is_empty() {
                return self.unknown_column(d, column, at);
            }
            let f = self.model.add_field(d, column.to_string(), at).ok()?;
            for from in froms {
                self.flow(
                    from,
                    Target::Field(f),
                    FlowKind::Passthrough,
                    Vec::new(),
                    step,
                    link,
                );
            }
            return Some(f);
        }
        if self.model.datasets[d as usize].open {
            return self.model.add_field(d, column.to_string(), at).ok();
        }
        self.unknown_column(d, column, at)
    }

    /// Field `column` of `d`, as written or in another case.
    fn field_named(&self, d: DatasetId, column: &str) -> Option<FieldId> {
        if let Some(f) = self.model.field_in(d, column) {
            return Some(f);
        }
        let fields = &self.model.datasets[d as usize].fields;
        let named = |f: &FieldId| {
            self.model.fields[*f as usize]
                .name
                .eq_ignore_ascii_case(column)
        };
        fields.iter().copied().find(named)
    }

    fn unknown_column(&mut self, d: DatasetId, column: &str, at: Loc) -> Option<FieldId> {
        let ups = self.upstream.get(&d).map(|(ups, ..)| ups.as_slice());
        let reads = (ups.unwrap_or_default().iter())
            .map(|&u| self.model.datasets[u as usize].name.clone())
            .collect();
        let diag = Diag::NoColumn {
            column: column.to_string(),
            dataset: self.model.datasets[d as usize].name.clone(),
            reads,
            suggestion: suggest::closest(column, self.model.field_names(d)).map(str::to_string),
        };
        self.diags.push(diag.at(at));
        None
    }

    fn link_sources(&mut self) {
        let sources: Vec<(usize, DatasetId)> = (0..self.pieces.len())
            .filter(|&i| matches!(self.pieces[i].what, What::Source(_)))
            .filter_map(|i| Some((i, *self.datasets.get(&i)?)))
            .collect();
        let chunks: Vec<&[(usize, DatasetId)]> = sources.chunks(PARSE_AHEAD).collect();
        let Some(first) = chunks.first() else {
            return;
        };
        let mut parsed = parse_all(self.jobs(first));
        for (k, chunk) in chunks.iter().enumerate() {
            // The next chunk's SQL is parsed on another thread while this one is linked.
            let next = chunks.get(k + 1).map(|c| self.jobs(c));
            let mut next_parsed = Vec::new();
            rayon::in_place_scope(|scope| {
                if let Some(jobs) = next {
                    scope.spawn(|_| next_parsed = parse_all(jobs));
                }
                for (&(i, d), parsed) in chunk.iter().zip(std::mem::take(&mut parsed)) {
                    self.with_what(i, |l, what| {
                        if let What::Source(s) = what {
                            l.link_source(i, d, s, parsed);
                        }
                    });
                }
            });
            parsed = next_parsed;
        }
    }

    /// What the sources of `chunk` have to parse, copied out of the pieces so that the
    /// parse runs while other sources are linked.
    fn jobs(&self, chunk: &[(usize, DatasetId)]) -> Vec<Option<(String, Vec<Dialect>)>> {
        chunk
            .iter()
            .map(|&(i, _)| self.sql_to_parse(i).map(|(t, d)| (t.to_string(), d)))
            .collect()
    }

    /// The SQL text of source `i` and the dialects to parse it in, when it has SQL that
    /// can be read and that an earlier run has not parsed in those dialects.
    fn sql_to_parse(&self, i: usize) -> Option<(&str, Vec<Dialect>)> {
        let p = &self.pieces[i];
        let What::Source(
            s @ Source {
                origin: Origin::Sql(sql),
                ..
            },
        ) = &p.what
        else {
            return None;
        };
        let text = match &sql.file {
            None => sql.text.text.as_str(),
            Some((rel, _)) => &self.model.sources.get(self.sql_file(p.file, rel)?).text,
        };
        let dialects = self.dialects(s);
        match sql.parsed_in(&dialects) {
            Some(_) => None,
            None => Some((text, dialects)),
        }
    }

    /// The SQL file `rel` that a rudder-cli model in `file` names, as linking read it.
    fn sql_file(&self, file: FileId, rel: &str) -> Option<FileId> {
        let path = sql_path(&self.model.sources, file, rel);
        self.sql_files.get(&path).copied()
    }

    /// Runs `f` with what piece `i` is, taken out of the piece meanwhile instead of
    /// copied (a source's SQL text and offsets; a connection's uses):
    /// linking a piece never reads what that piece itself is.
    fn with_what(&mut self, i: usize, f: impl FnOnce(&mut Self, &What)) {
        let what = std::mem::replace(&mut self.pieces[i].what, What::EventSource);
        f(self, &what);
        self.pieces[i].what = what;
    }

    fn link_source(&mut self, i: usize, d: DatasetId, s: &Source, parsed: Option<Parsing>) {
        let file = self.pieces[i].file;
        // Only its dialect is read, but a reference to nothing is an error all the same.
        if let Some(r @ Ref::Address { .. }) = &s.warehouse {
            self.resolve(i, r);
        }
        match &s.origin {
            Origin::Table { parts, span } => {
                let at = self.loc(file, *span);
                let name = parts.join(".");
                let linked = self.relation(&name, |_| at);
                let step = self.step(i);
                self.model.steps[step as usize].link = s.table;
                self.copy_fields(d, &linked, at, step);
                self.upstream.insert(d, (linked, at, step));
            }
            Origin::Sql(sql) => self.sql_source(i, d, s, sql, parsed),
            Origin::Unknown(u) => {
                self.unknown_note(file, u);
                self.model.datasets[d as usize].open = true;
            }
        }
    }

    fn unknown_note(&mut self, file: FileId, u: &Unknown) {
        let loc = self.loc(file, u.span);
        let message = format!(
            "{} cannot be read literally: {}; every field it could carry is assumed to flow",
            u.what, u.why
        );
        self.diags.push(Diag::NotFollowed(message).at(loc));
    }

    /// Gives source `d` every field of the datasets it reads, each with a link hop.
    fn copy_fields(&mut self, d: DatasetId, linked: &[DatasetId], at: Loc, step: StepId) {
        let n = linked
            .iter()
            .map(|&u| self.model.datasets[u as usize].fields.len())
            .sum();
        self.model.reserve_dataset_fields(d, n);
        for &u in linked {
            let fields = self.model.datasets[u as usize].fields.clone();
            for f in fields {
                let name = self.model.fields[f as usize].name.to_string();
                let to = match self.model.add_field(d, name, at) {
                    Ok(t) | Err(t) => t,
                };
                self.flow(
                    f,
                    Target::Field(to),
                    FlowKind::Passthrough,
                    Vec::new(),
                    step,
                    at,
                );
            }
        }
    }

    fn sql_source(
        &mut self,
        i: usize,
        d: DatasetId,
        s: &Source,
        sql: &super::piece::Sql,
        parsed: Option<Parsing>,
    ) {
        let p = &self.pieces[i];
        let mut file = p.file;
        let read;
        let text = match &sql.file {
            None => &sql.text,
            Some((rel, span)) => match self.sql_file(p.file, rel) {
                Some(f) => {
                    file = f;
                    read = Embedded::verbatim(&self.model.sources.get(f).text, 0);
                    &read
                }
                None => {
                    let (pf, span) = (p.file, *span);
                    let diag = Diag::Invalid(format!("cannot read the SQL file `{rel}`"));
                    self.report(diag, pf, span);
                    self.model.datasets[d as usize].open = true;
                    return;
                }
            },
        };
        let step = self.step(i);
        let start = text.offset(0);
        let sql_at = self.loc(
            file,
            (start, start + text.text.trim_end().len().min(1) as u32),
        );
        let mut fresh = None;
        let parsed = match parsed {
            Some((dialects, parsed)) => sql.keep(dialects, parsed, &mut fresh),
            None => {
                let dialects = self.dialects(s);
                match sql.parsed_in(&dialects) {
                    Some(kept) => kept,
                    None => fresh.insert(sql::parse_first(&text.text, &dialects)),
                }
            }
        };
        let mut cat = Cat {
            l: self,
            groups: Vec::new(),
            at: sql_at,
            text,
            file,
        };
        let lin = sql::lineage_of(parsed, &mut cat);
        let groups = cat.groups;
        let locate = |l: &Linker, span: Option<SqlSpan>| sql_loc(l, text, file, span, sql_at);
        if lin.columns.is_empty() && lin.passthrough.is_none() {
            let why = lin
                .problems
                .first()
                .cloned()
                .unwrap_or_else(|| "it reads no relation".into());
            let mut ups: Vec<DatasetId> = groups.iter().flatten().copied().collect();
            // SQL that does not parse still names what it reads: each column it sends may
            // come from any of those relations.
            let mut named = String::new();
            if ups.is_empty() {
                for name in sql::relations_named(&text.text) {
                    for u in self.relation(&name, |_| sql_at) {
                        if !ups.contains(&u) {
                            ups.push(u);
                        }
                    }
                    named.push_str(if named.is_empty() {
                        "; it reads "
                    } else {
                        ", "
                    });
                    named.push_str(&format!("`{name}`"));
                }
            }
            let message = format!(
                "the SQL of `{}` cannot be followed ({why}); its columns are taken as they are used{named}",
                self.names[i]
            );
            self.diags.push(Diag::NotFollowed(message).at(sql_at));
            self.model.datasets[d as usize].open = true;
            if !ups.is_empty() {
                self.upstream.insert(d, (ups, sql_at, step));
            }
            return;
        }
        if !lin.problems.is_empty() {
            let message = format!(
                "the SQL of `{}` is not fully followed: {}",
                self.names[i],
                lin.problems.join("; ")
            );
            self.diags.push(Diag::NotFollowed(message).at(sql_at));
        }
        self.model.reserve_dataset_fields(d, lin.columns.len());
        for c in &lin.columns {
            let at = locate(self, c.span);
            let to = match self.model.add_field(d, c.name.clone(), at) {
                Ok(t) | Err(t) => t,
            };
            for input in &c.inputs {
                let iat = match input.span {
                    Some(_) => locate(self, input.span),
                    None => at,
                };
                let ups = groups
                    .get(input.upstream as usize)
                    .map_or(&[][..], Vec::as_slice);
                for &u in ups {
                    if let Some(from) = self.column(u, &input.column, iat) {
                        self.flow(
                            from,
                            Target::Field(to),
                            input.kind,
                            input.functions.clone(),
                            step,
                            iat,
                        );
                    }
                }
            }
        }
        if let Some(pt) = &lin.passthrough {
            let at = locate(self, pt.span);
            let ups = groups
                .get(pt.upstream as usize)
                .cloned()
                .unwrap_or_default();
            self.upstream.insert(d, (ups, at, step));
        }
    }

    /// The dialects to parse a source's SQL with: the warehouse's the config names (the
    /// source's own setting, or its Census warehouse connection's `type`), else those of
    /// the dbt projects' adapters (as dbt chooses), then the chain tried when the
    /// warehouse is not known.
    fn dialects(&self, s: &Source) -> Vec<Dialect> {
        let mut named = s.dialect.clone();
        if let (None, Some(Ref::Address { address, .. })) = (&named, &s.warehouse) {
            named = self
                .by_name
                .get(address)
                .into_iter()
                .flatten()
                .find_map(|&i| match &self.pieces[i].what {
                    What::Warehouse { dialect } => dialect.clone(),
                    _ => None,
                });
        }
        match named.as_deref().and_then(Dialect::from_name) {
            Some(d) => dialects_from(vec![d]),
            None => dialects_from(self.model.warehouse_dialects.clone()),
        }
    }

    fn link_connections(&mut self) {
        // Segment classic destinations receive every field of their source; so may one
        // of a type no catalogue knows, unless a subscription says it is action-based.
        let mut subscribed = None;
        for i in 0..self.pieces.len() {
            let What::Destination(dst) = &self.pieces[i].what else {
                continue;
            };
            let Some(src) = dst.source.clone() else {
                continue;
            };
            match self.entry_of(i) {
                Some(e) if e.classic => {}
                Some(_) => continue,
                None => {
                    let subscribed = subscribed.get_or_insert_with(|| self.subscribed());
                    if subscribed.contains(&i) {
                        continue;
                    }
                    let (file, span) = (self.pieces[i].file, self.pieces[i].name_span);
                    let message = format!(
                        "`{}` has no subscription and its type is in no catalogue, so it is taken as a classic destination that receives every event of its source",
                        self.names[i]
                    );
                    self.report(Diag::NotFollowed(message), file, span);
                }
            }
            let Some(&sink) = self.sinks.get(&i) else {
                continue;
            };
            let Some(ds) = self.event_source(i, &src) else {
                continue;
            };
            let step = self.step(i);
            let at = self.loc(self.pieces[i].file, src.span());
            self.passthrough(ds, sink, step, at);
        }
        for i in 0..self.pieces.len() {
            if !matches!(self.pieces[i].what, What::Connection(_)) {
                continue;
            }
            self.with_what(i, |l, what| {
                if let What::Connection(c) = what {
                    l.connection(i, c);
                }
            });
        }
    }

    /// The pieces that Segment subscriptions may name as their destination.
    fn subscribed(&self) -> FxHashSet<usize> {
        let mut out = FxHashSet::default();
        for p in &self.pieces {
            let What::Connection(c) = &p.what else {
                continue;
            };
            let named = match &c.destination {
                Ref::Address { address, .. } => self.by_name.get(address),
                Ref::Id(lit) => self.by_id.get(&lit.value),
                Ref::Unknown(_) => None,
            };
            out.extend(named.into_iter().flatten().copied());
        }
        out
    }

    /// Every field of `ds` into `sink`; an `incomplete-lineage` info when it has no
    /// schema (whatever fields mappings read of it), or no field.
    fn passthrough(&mut self, ds: DatasetId, sink: SinkId, step: StepId, at: Loc) {
        let fields = &self.model.datasets[ds as usize].fields;
        if fields.is_empty() || self.schemaless.contains(&ds) {
            let name = self.model.datasets[ds as usize].name.clone();
            let carries = match fields.is_empty() {
                true => "nothing",
                false => "only the fields mappings read",
            };
            let message = format!("`{name}` has no event schema, so passing it through carries {carries}; declare its fields with a `kind: dataset` named `{name}`");
            self.diags.push(Diag::NotFollowed(message).at(at));
        }
        self.every_field(ds, sink, FlowKind::Passthrough, step, at);
    }

    /// The dataset of an event-stream source named from piece `i`; a literal id that
    /// resolves to nothing is a source without schema, named `<platform>:<id>`.
    fn event_source(&mut self, i: usize, r: &Ref) -> Option<DatasetId> {
        match self.resolve(i, r) {
            Resolved::Piece(j) => self.datasets.get(&j).copied(),
            Resolved::Id(id, span) => {
                let name = format!("{}:{id}", platform_of(&self.pieces[i]).as_str());
                let at = self.loc(self.pieces[i].file, span);
                let d = match self.model.lookup(&name) {
                    Some(Named::Dataset(d)) => d,
                    Some(Named::Sink(_)) => return None,
                    None => {
                        let d = self.model.add_dataset(name, at, true).ok()?;
                        self.placeholders.insert(d);
                        self.schemaless.insert(d);
                        d
                    }
                };
                self.model.datasets[d as usize].open = true;
                Some(d)
            }
            Resolved::Unknown(u) => {
                let file = self.pieces[i].file;
                self.unknown_note(file, &u);
                None
            }
            Resolved::Missing => None,
        }
    }

    /// An `incomplete-lineage` info for reverse-ETL connection `i` whose literal source id
    /// (in piece `from`) names no model or dataset of the repository (spec §10, §7.3):
    /// the columns it reads are not known unless a `kind: dataset` declares them.
    fn unresolved_rows(&mut self, i: usize, from: usize, d: DatasetId, lit: &super::piece::Lit) {
        if !self.placeholders.contains(&d) {
            return;
        }
        let name = self.model.datasets[d as usize].name.clone();
        let message = format!(
            "`{}` reads `{}`, which no model or dataset in this repository declares, so the columns it sends are not known; declare them with a `kind: dataset` named `{name}`",
            self.names[i], lit.value
        );
        let at = self.loc(self.pieces[from].file, lit.span);
        self.diags.push(Diag::NotFollowed(message).at(at));
    }

    /// The sink connection `i` sends to, and the destination's piece when it has one;
    /// `None`, reported, when it names none.
    fn destination(&mut self, i: usize, c: &Connection) -> Option<(SinkId, Option<usize>)> {
        let file = self.pieces[i].file;
        match self.resolve(i, &c.destination) {
            Resolved::Piece(j) => match self.sinks.get(&j) {
                Some(&s) => Some((s, Some(j))),
                None => {
                    let diag = Diag::NotA {
                        name: self.names[j].clone(),
                        what: "a destination".into(),
                    };
                    self.report(diag, file, c.destination.span());
                    None
                }
            },
            Resolved::Id(id, span) => {
                let name = format!("{}:{id}", platform_of(&self.pieces[i]).as_str());
                match self.model.lookup(&name) {
                    Some(Named::Sink(s)) => Some((s, None)),
                    _ => {
                        let diag = Diag::UndeclaredDestination { id, sink: name };
                        self.report(diag, file, span);
                        None
                    }
                }
            }
            Resolved::Unknown(u) => {
                let diag = Diag::UnknownDestination {
                    connection: self.names[i].clone(),
                    what: u.what.clone(),
                    why: u.why.clone(),
                };
                self.report(diag, file, u.span);
                None
            }
            Resolved::Missing => None,
        }
    }

    fn connection(&mut self, i: usize, c: &Connection) {
        let file = self.pieces[i].file;
        // Only checked: a reference to nothing is an error even where nothing is read.
        if let Some(r @ Ref::Address { .. }) = &c.warehouse {
            self.resolve(i, r);
        }
        let Some((sink, dest_piece)) = self.destination(i, c) else {
            // Not followed further, but a missing source is reported all the same.
            if let Some(r @ Ref::Address { .. }) = &c.source {
                self.resolve(i, r);
            }
            return;
        };
        // The source: given, or the destination's own source (Segment subscriptions).
        let source = match (&c.source, dest_piece) {
            (Some(r), _) => Some((r.clone(), i)),
            (None, Some(j)) => match &self.pieces[j].what {
                What::Destination(d) => d.source.clone().map(|r| (r, j)),
                _ => None,
            },
            (None, None) => None,
        };
        let Some((src_ref, from)) = source else {
            if !c.uses.is_empty() || c.passthrough.is_some() {
                let msg = format!(
                    "`{}` names no source, so the fields it sends cannot be followed",
                    self.names[i]
                );
                let span = self.pieces[i].name_span;
                let loc = self.loc(file, span);
                self.diags.push(Diag::NotFollowed(msg).at(loc));
            }
            return;
        };
        let resolved = self.resolve(from, &src_ref);
        let (ds, src_piece) = match resolved {
            Resolved::Piece(j) => match (self.datasets.get(&j), &self.pieces[j].what) {
                (Some(&d), _) => (d, Some(j)),
                (None, What::Unread { rtype }) => {
                    let message = format!(
                        "`{}` reads `{}`, a `{rtype}`, which purposelint does not read; the fields it sends are not followed",
                        self.names[i], self.names[j]
                    );
                    let at = self.loc(self.pieces[from].file, src_ref.span());
                    self.diags.push(Diag::NotFollowed(message).at(at));
                    return;
                }
                (None, _) => {
                    let diag = Diag::NotA {
                        name: self.names[j].clone(),
                        what: "a source".into(),
                    };
                    let f = self.pieces[from].file;
                    self.report(diag, f, src_ref.span());
                    return;
                }
            },
            other => {
                let r = match other {
                    Resolved::Id(id, span) => Ref::Id(super::piece::Lit { value: id, span }),
                    Resolved::Unknown(u) => Ref::Unknown(u),
                    _ => return,
                };
                let Some(d) = self.event_source(from, &r) else {
                    return;
                };
                if let (Ref::Id(lit), true) = (&r, c.rows) {
                    self.unresolved_rows(i, from, d, lit);
                }
                (d, None)
            }
        };
        let step = self.step(i);
        self.model.steps[step as usize].object = c.object.clone();
        // A Segment model's `$.__segment_id` is the value of its identifier column.
        let identifier = src_piece.and_then(|j| match &self.pieces[j].what {
            What::Source(s) => s.keys.first().map(|k| k.column.clone()),
            _ => None,
        });
        for u in &c.uses {
            match (&identifier, u.column == super::segment::SEGMENT_ID) {
                (Some(column), true) => {
                    let u = Use {
                        column: column.clone(),
                        ..u.clone()
                    };
                    self.send(file, ds, sink, step, &u);
                }
                (None, true) => {
                    let message = format!(
                        "`$.__segment_id` sends the identifier column of `{}`'s model, which it does not name literally; every column is assumed sent",
                        self.names[i]
                    );
                    let at = self.loc(file, u.span);
                    self.diags.push(Diag::NotFollowed(message).at(at));
                    self.every_field(ds, sink, u.kind, step, at);
                }
                _ => self.send(file, ds, sink, step, u),
            }
        }
        // Keys of the source select rows for every sink its connections feed.
        if let Some(j) = src_piece {
            if let What::Source(s) = &self.pieces[j].what {
                let keys = s.keys.clone();
                let sfile = self.pieces[j].file;
                for k in &keys {
                    self.send(sfile, ds, sink, step, k);
                }
            }
        }
        if let Some(span) = c.passthrough {
            let at = self.loc(file, span);
            self.passthrough(ds, sink, step, at);
        }
        for u in &c.unknown {
            self.unknown_note(file, u);
            let at = self.loc(file, u.span);
            self.every_field(ds, sink, FlowKind::Direct, step, at);
        }
    }

    /// Every field of `ds` into `sink`.
    fn every_field(&mut self, ds: DatasetId, sink: SinkId, kind: FlowKind, step: StepId, at: Loc) {
        let fields = self.model.datasets[ds as usize].fields.clone();
        for f in fields {
            self.flow(f, Target::Sink(sink), kind, Vec::new(), step, at);
        }
    }

    /// One column used by a connection, into its sink.
    fn send(&mut self, file: FileId, ds: DatasetId, sink: SinkId, step: StepId, u: &Use) {
        let at = self.loc(file, u.span);
        let Some(f) = self.column(ds, &u.column, at) else {
            return;
        };
        let id = self.flow(f, Target::Sink(sink), u.kind, Vec::new(), step, at);
        if let Some(df) = &u.destination_field {
            self.model
                .destination_fields
                .insert(id, df.clone().into_boxed_str());
        }
    }
}

enum Resolved {
    Piece(usize),
    /// A literal id no piece declares.
    Id(String, Range),
    Unknown(Unknown),
    /// An address no piece declares (already reported).
    Missing,
}

/// The lineage catalogue of one SQL source: each relation it reads is a group of
/// datasets (several when ambiguous).
struct Cat<'l, 'm, 't> {
    l: &'l mut Linker<'m>,
    groups: Vec<Vec<DatasetId>>,
    /// The start of the query, where a relation is reported when it cannot be found.
    at: Loc,
    text: &'t Embedded,
    file: FileId,
}

/// Where `span` of a query embedded as `text` is in the file; `otherwise` without one.
fn sql_loc(
    l: &Linker,
    text: &Embedded,
    file: FileId,
    span: Option<SqlSpan>,
    otherwise: Loc,
) -> Loc {
    match span {
        Some(sp) => {
            let a = text.line_col(sp.start.0, sp.start.1);
            let b = text.line_col(sp.end.0, sp.end.1);
            l.loc(file, text.range(a, b.max(a)))
        }
        None => otherwise,
    }
}

impl Catalog for Cat<'_, '_, '_> {
    fn relation(&mut self, name: &[String], span: Option<SqlSpan>) -> Option<Upstream> {
        let mut table = name.join(".");
        crate::model::lowercase_in_place(&mut table);
        let table = table.as_str();
        let (text, file, query_at) = (self.text, self.file, self.at);
        let found = self
            .l
            .relation(table, |l| sql_loc(l, text, file, span, query_at));
        if found.is_empty() {
            return None;
        }
        let mut open = false;
        for &d in &found {
            open |= self.l.model.datasets[d as usize].open || self.l.upstream.contains_key(&d);
        }
        let columns = match found.as_slice() {
            [d] => self.l.columns_of(*d),
            _ => {
                let mut columns: Vec<String> = Vec::new();
                for &d in &found {
                    for n in self.l.columns_of(d).iter() {
                        if !columns.contains(n) {
                            columns.push(n.clone());
                        }
                    }
                }
                columns.into()
            }
        };
        let id = self.groups.len() as u32;
        self.groups.push(found);
        let default_alias = table.rsplit('.').next().unwrap_or(table).to_string();
        Some(Upstream {
            id,
            columns,
            open,
            default_alias,
        })
    }
}

/// `unclassified-destination` for every unclassified sink: an error when a field that
/// matches a rule's source reaches it, else a warning (spec §10).
pub(crate) fn unclassified_findings(
    model: &Model,
    graph: &FlowGraph,
    rules: &[Rule],
) -> Vec<Finding> {
    let mut out = Vec::new();
    for u in &model.unclassified {
        let node = graph.node_of(Target::Sink(u.sink));
        let mut reaching: Vec<FieldId> = Vec::new();
        for rule in rules {
            let mut seen = vec![false; model.fields.len() + model.sinks.len()];
            let mut stack = vec![node];
            seen[node as usize] = true;
            while let Some(v) = stack.pop() {
                for (fid, from) in graph.incoming(v) {
                    let f = &model.flows[fid as usize];
                    if !rule.follows(f.kind) || rule.sanitized_by(&f.functions) {
                        continue;
                    }
                    if !seen[from as usize] {
                        seen[from as usize] = true;
                        stack.push(from);
                        if crate::rules::engine::is_source(model, rule, from)
                            && !reaching.contains(&from)
                        {
                            reaching.push(from);
                        }
                    }
                }
            }
        }
        reaching.sort_unstable();
        let diag = Diag::UnclassifiedDestination {
            sink: model.sinks[u.sink as usize].name.clone(),
            key: u.key.clone(),
            reaching: reaching
                .iter()
                .take(5)
                .map(|&f| model.field_name(f))
                .collect(),
            more: reaching.len().saturating_sub(5),
        };
        let mut f = diag.at(u.loc);
        if !reaching.is_empty() {
            f.severity = Severity::Error;
        }
        out.push(f);
    }
    out
}
